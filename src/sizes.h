/*
 * sizes.h - every compile-time limit of the program, in one place.
 *
 * Each value sits behind #ifndef so tests can build with tiny buffers
 * (-DHTTP_MAX_HEADERS=4 ...).  Limits a user may want to change at run time
 * (body size, connection count, timeouts) are config keys whose defaults live
 * here too; config may lower or raise them within the hard caps below.
 */
#ifndef SIZES_H
#define SIZES_H

/* Request head (request line + headers + blank line); larger -> 431. */
#ifndef CONN_HEAD_MAX
#define CONN_HEAD_MAX (16 * 1024)
#endif

/* Header lines per request; more -> 431. */
#ifndef HTTP_MAX_HEADERS
#define HTTP_MAX_HEADERS 64
#endif

/* Bytes read from a socket per read() call into the connection buffer. */
#ifndef CONN_READ_CHUNK
#define CONN_READ_CHUNK (16 * 1024)
#endif

/* Pending response bytes above which the connection stops parsing further
 * pipelined requests until the client has read some. */
#ifndef CONN_OUT_HIGH
#define CONN_OUT_HIGH (64 * 1024)
#endif

/* One-shot response bodies (model lists, errors) are built in a growable
 * buffer capped here. */
#ifndef CONN_OUT_MAX
#define CONN_OUT_MAX (1024 * 1024)
#endif

/* Chunked request bodies: chunk-size line (hex digits + extensions) and
 * trailer section limits. */
#ifndef HTTP_CHUNK_LINE_MAX
#define HTTP_CHUNK_LINE_MAX 1024
#endif
#ifndef HTTP_TRAILER_MAX
#define HTTP_TRAILER_MAX (8 * 1024)
#endif

/* How long a connection we are closing after an error keeps draining what
 * the client still sends, so it sees our answer instead of a reset. */
#ifndef CONN_LINGER_MS
#define CONN_LINGER_MS 2000
#endif
#ifndef CONN_LINGER_BYTES
#define CONN_LINGER_BYTES (1024 * 1024)
#endif

/* Longest model name a client may ask for (bytes, after JSON or percent
 * decoding); longer -> 400.  Exchanges keep names in MODEL_NAME_MAX + 1. */
/* An upstream request's path and header lines (OAuth bearer tokens are
 * JWTs, often over 1 KB; configured headers add to them). */
/* Parsed upstream targets remembered per config generation (prov.c). */
#ifndef PROV_TARGET_MEMO
#define PROV_TARGET_MEMO 4
#endif

#ifndef UPSTREAM_PATH_MAX
#define UPSTREAM_PATH_MAX 4096
#endif
#ifndef UPSTREAM_HEADERS_MAX
#define UPSTREAM_HEADERS_MAX (32 * 1024)
#endif

#ifndef MODEL_NAME_MAX
#define MODEL_NAME_MAX 255
#endif

/* Exchange buffers.  Every one is charged to max-body-total while it is
 * held (503 when that runs out); a cap hit is a 502 at once.
 *   XLATE_REQUEST_MAX  a translated upstream request body
 *   XLATE_ANSWER_MAX   a translated answer that is not streamed (held whole
 *                      to be decoded), and twice that for its re-encoding
 *   SSE_EVENT_MAX      one upstream SSE line or event
 *   ERRBODY_MAX        the start of an upstream error body kept for its
 *                      message
 *   RELAY_TAIL_MAX     a pass-through stream's partial event held back */
#ifndef XLATE_REQUEST_MAX
#define XLATE_REQUEST_MAX (64L * 1024 * 1024)
#endif
#ifndef XLATE_ANSWER_MAX
#define XLATE_ANSWER_MAX (16L * 1024 * 1024)
#endif
#ifndef SSE_EVENT_MAX
#define SSE_EVENT_MAX (8L * 1024 * 1024)
#endif
#ifndef ERRBODY_MAX
#define ERRBODY_MAX (64 * 1024)
#endif
#ifndef RELAY_TAIL_MAX
#define RELAY_TAIL_MAX (256 * 1024)
#endif

/* Translation hub.
 *   HUB_VIEW_ARENA_MAX  strings a request decoder makes and the view owns
 *                       (call ids Gemini does not send: about 9000) */
#ifndef HUB_VIEW_ARENA_MAX
#define HUB_VIEW_ARENA_MAX (96 * 1024)
#endif

/* Config file: largest file and line accepted. */
#ifndef CFG_FILE_MAX
#define CFG_FILE_MAX (1024 * 1024)
#endif
#ifndef CFG_LINE_MAX
#define CFG_LINE_MAX (16 * 1024)
#endif

/* YAML reader (yaml.c, for --import-yaml): deepest nesting of maps and
 * lists, the top level counted. */
#ifndef YAML_DEPTH_MAX
#define YAML_DEPTH_MAX 32
#endif

/* Auth files (acct_file.c): largest file read or patched.  The
 * reference's are a few KB; a Claude file with cloak keys stays small. */
#ifndef ACCT_FILE_MAX
#define ACCT_FILE_MAX (256 * 1024)
#endif

/* Model lists fetched from the upstreams (mlist.h, mfetch.h).
 *   MLIST_MODELS_MAX   ids kept of one answer (the rest are dropped)
 *   MLIST_DISPLAY_MAX  longest display name kept (else the id is shown)
 *   MLIST_ANSWER_MAX   largest list answer read (a bigger one fails)
 *   MFETCH_AT_ONCE     list fetches in flight at a time
 *   MFETCH_RETRY_MS    first wait after a failed fetch (doubling up to
 *                      model-list-refresh), and after a round skipped
 *                      because the account's token needs a refresh
 *   MFETCH_TIMEOUT_MS  first byte and silence limits of a list fetch */
#ifndef MLIST_MODELS_MAX
#define MLIST_MODELS_MAX 500
#endif
#ifndef MLIST_DISPLAY_MAX
#define MLIST_DISPLAY_MAX 128
#endif
#ifndef MLIST_ANSWER_MAX
#define MLIST_ANSWER_MAX (512 * 1024)
#endif
#ifndef MFETCH_AT_ONCE
#define MFETCH_AT_ONCE 4
#endif
#ifndef MFETCH_RETRY_MS
#define MFETCH_RETRY_MS 60000
#endif
#ifndef MFETCH_TIMEOUT_MS
#define MFETCH_TIMEOUT_MS 30000
#endif

/* Defaults of run-time limits (config keys of the same name). */
#ifndef DEF_PORT
#define DEF_PORT 8317
#endif
#ifndef DEF_MAX_BODY_SIZE
#define DEF_MAX_BODY_SIZE (8L * 1024 * 1024)     /* max-body-size */
#endif
#ifndef DEF_MAX_BODY_TOTAL
#define DEF_MAX_BODY_TOTAL (64L * 1024 * 1024)   /* max-body-total */
#endif
#ifndef DEF_MAX_CONNECTIONS
#define DEF_MAX_CONNECTIONS 256                  /* max-connections */
#endif
#ifndef DEF_HEADER_TIMEOUT_MS
#define DEF_HEADER_TIMEOUT_MS 10000              /* header-timeout */
#endif
#ifndef DEF_BODY_TIMEOUT_MS
#define DEF_BODY_TIMEOUT_MS 30000                /* body-timeout */
#endif
#ifndef DEF_IDLE_TIMEOUT_MS
#define DEF_IDLE_TIMEOUT_MS 60000                /* idle-timeout */
#endif
#ifndef DEF_WRITE_TIMEOUT_MS
#define DEF_WRITE_TIMEOUT_MS 60000               /* write-timeout */
#endif
#ifndef DEF_SHUTDOWN_TIMEOUT_MS
#define DEF_SHUTDOWN_TIMEOUT_MS 10000            /* shutdown-timeout */
#endif
#ifndef DEF_LOGIN_TIMEOUT_MS
#define DEF_LOGIN_TIMEOUT_MS (5 * 60 * 1000) /* login-timeout */
#endif
#ifndef DEF_MODEL_LIST_REFRESH_MS
#define DEF_MODEL_LIST_REFRESH_MS (6 * 3600 * 1000) /* model-list-refresh */
#endif
#ifndef DEF_REQUEST_RETRY
#define DEF_REQUEST_RETRY 3
#endif
#ifndef DEF_UP_CONNECT_TIMEOUT_MS
#define DEF_UP_CONNECT_TIMEOUT_MS 10000          /* upstream-connect-timeout */
#endif
#ifndef DEF_UP_FIRST_BYTE_TIMEOUT_MS
#define DEF_UP_FIRST_BYTE_TIMEOUT_MS 300000      /* upstream-first-byte-timeout */
#endif
#ifndef DEF_UP_READ_TIMEOUT_MS
#define DEF_UP_READ_TIMEOUT_MS 120000            /* upstream-read-timeout */
#endif
#ifndef DEF_UP_KEEPALIVE_TIMEOUT_MS
#define DEF_UP_KEEPALIVE_TIMEOUT_MS 60000        /* upstream-keepalive-timeout */
#endif
#ifndef UPSTREAM_EXTRA_CONNS
#define UPSTREAM_EXTRA_CONNS 16                  /* idle pool beyond clients */
#endif

/* Hard caps on config values. */
#ifndef MAX_CONNECTIONS_CAP
#define MAX_CONNECTIONS_CAP 65536
#endif

#endif
