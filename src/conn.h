/*
 * conn.h - one downstream (client) HTTP/1.1 connection.
 *
 * State machine (quark style: each step falls through to the next when it
 * completes):
 *
 *   HEAD --head parsed--> BODY --body complete--> (api handles) --> WRITE
 *    ^                                                                |
 *    +---- keep-alive: next (maybe pipelined) request <---------------+
 *                                     close: shutdown(WR) --> LINGER --> closed
 *
 * One timer per connection; what it means depends on the state: idle or
 * header timeout in HEAD, body timeout in BODY, write timeout while output
 * is pending, linger time in LINGER.
 */
#ifndef CONN_H
#define CONN_H

#include <stdint.h>

#include "buf.h"
#include "exch.h"
#include "http.h"
#include "loop.h"

struct srv;

enum conn_state {
	CONN_FREE,
	CONN_HEAD,
	CONN_BODY,
	CONN_EXCH,      /* answered by an upstream exchange, in progress */
	CONN_WRITE,
	CONN_LINGER,
};

struct conn {
	struct loop_watch w;
	struct loop_timer t;
	struct srv *srv;
	unsigned gen;             /* bumped every time the slot is reused */
	enum conn_state state;

	struct buf in;            /* bytes read, not yet consumed */
	struct buf out;           /* bytes to send */

	struct http_request req;  /* valid from head parse to response */
	size_t head_len;
	const char *head_at;      /* where the head was when it was parsed */
	int64_t idle_at;          /* when it last began waiting for a head */
	unsigned answered;        /* requests answered on this connection */
	int keep_alive;           /* answer keeps the connection open */
	int close_after;          /* close once out is flushed */

	/* request body */
	char *body;
	size_t body_len, body_cap;
	int64_t body_left;        /* Content-Length bytes still to read */
	int chunked;
	struct http_chunked ch;
	int expect_continue;

	/* access log */
	int64_t t_start;
	char peer[64];
	char method[16];
	char path[256];           /* without the query string */
	size_t linger_bytes;

	/* streamed answer */
	struct exch x;
	int streaming;            /* head sent, body in chunks */
	int stream_chunked;       /* chunked framing (else length or close) */
	int64_t stream_length;    /* Content-Length sent, or -1 */
	int stream_status;
	size_t stream_bytes;

	struct rlog *rlog;        /* request-log = true: this request's file */
};

/* Take ownership of an accepted, non-blocking socket. */
void conn_start(struct srv *s, struct conn *c, int fd, const char *peer);

/* Close now (idempotent); the slot goes back to the pool. */
void conn_close(struct conn *c);

/* During graceful shutdown: close if idle, else close after the answer. */
void conn_shutdown(struct conn *c);

/* Is c a keep-alive connection waiting for its next request, with nothing
 * read, nothing arrived and nothing left to send, or one answered and
 * lingering until its client closes?  Then it may be closed to make room
 * (at max-connections). */
int conn_is_idle(const struct conn *c);

/*
 * Queue a complete response.  extra_headers: zero or more full header
 * lines each ending in CRLF, or NULL.  ctype NULL = no body headers (204).
 */
void conn_respond(struct conn *c, int status, const char *ctype,
		  const char *extra_headers, const char *body, size_t len);

/* Streamed answers (used by exchanges).  begin queues the head: with a
 * known content_length (>= 0) the body goes as is, else chunked framing
 * (close-delimited for HTTP/1.0 clients); end terminates it; abort closes
 * the connection after what is queued, so the client can tell the answer
 * is incomplete.  Writes are queued; conn_flush (or the end of the
 * request) sends them, so one upstream read becomes one send. */
void conn_stream_begin(struct conn *c, int status, const char *ctype,
		       const char *extra_headers, int64_t content_length);
/* Send what is queued now (stream writes only queue). */
void conn_flush(struct conn *c);
void conn_stream_write(struct conn *c, const char *p, size_t n);
void conn_stream_end(struct conn *c);
void conn_stream_abort(struct conn *c);

/* Is the unsent output above the high-water mark? */
int conn_out_full(const struct conn *c);

/* The exchange answering the current request is over: drop the request
 * and go on with the next (pipelined) one. */
void conn_request_finished(struct conn *c);

/* Free the request body early (a translated exchange keeps its own). */
void conn_body_release(struct conn *c);

/* Grow the request body buffer to hold n bytes (within the budget). */
int conn_body_reserve(struct conn *c, size_t n);

#endif
