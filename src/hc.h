/*
 * hc.h - the upstream HTTP/1.1 client, inside the same poll loop.
 *
 * One struct hc is one upstream connection: resolve (dns.c), non-blocking
 * connect trying each address, an optional proxy hop (HTTP CONNECT or
 * SOCKS5 with user/pass: the engines of hc_proxy.c), TLS (tls.c), then one
 * request at a time: send head and body, read the response head, stream
 * the body (Content-Length, chunked, or until close) to its owner through
 * callbacks, and go back to an idle pool keyed by (scheme, host, port,
 * proxy) for reuse.
 *
 * All of it lives in a struct hc_ctx (the connection pool, the idle list,
 * the TLS session cache, statistics) that the caller owns: struct srv has
 * one, and passes it to hc_request.
 *
 * Ownership: the owner (an exchange) gets exactly one final callback,
 * on_done or on_error; after it, the hc no longer refers to the owner.
 * hc_abort() detaches without any callback.  The owner keeps the request
 * body alive until then.
 */
#ifndef HC_H
#define HC_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "http.h"
#include "loop.h"
#include "tls.h"

struct hc;

enum hc_err {
	HC_EDNS = 1,     /* name did not resolve */
	HC_ECONNECT,     /* every address refused / unreachable */
	HC_EPROXY,       /* the proxy refused or broke the tunnel */
	HC_ETLS,         /* handshake or certificate failure */
	HC_ETIMEOUT,     /* connect, first byte or idle read timed out */
	HC_ERESET,       /* connection lost mid-response */
	HC_EPROTO,       /* malformed response */
	HC_ENOMEM,       /* no free connection slot or buffer */
};

struct hc_ops {
	/* Response head (1xx skipped).  Spans valid during the call only. */
	void (*on_head)(void *owner, const struct http_response *res);
	/* Body bytes.  Return 1 to pause reading (resume with hc_resume). */
	int (*on_body)(void *owner, const char *p, size_t n);
	void (*on_done)(void *owner);
	/* msg names the host; never contains credentials. */
	void (*on_error)(void *owner, int err, const char *msg);
};

struct hc_timeouts {
	int connect_ms;      /* resolve + connect + proxy + TLS */
	int first_byte_ms;   /* request sent -> first response byte */
	int read_ms;         /* silence between response bytes */
	int pool_idle_ms;    /* idle keep-alive connection kept this long */
};

/* Where to connect; filled from url.h parses. */
struct hc_target {
	int tls;
	char host[256];
	int port;
	int proxy;           /* 0 none, else enum url_scheme + 1 */
	char proxy_host[256];
	int proxy_port;
	char proxy_user[128];
	char proxy_pass[128];
};

struct hc_request {
	const char *method;
	const char *path;     /* origin-form, "/..." */
	const char *headers;  /* extra lines, each ending in CRLF */
	const char *body;
	size_t body_len;
	/* Optional wrapping sent around the body (an envelope such as Code
	 * Assist's {"project":..,"request": <body> }): pre goes out with
	 * the head and must be small; NULL/0 when unused. */
	const char *pre, *post;
	size_t pre_len, post_len;
};

/* Statistics for tests and benchmarks. */
struct hc_stats {
	unsigned long connects, reuses, tls_handshakes;
	unsigned long tls_resumed;  /* handshakes that resumed a session */
};

/* The upstream client's state (see the top of this file). */
struct hc_ctx {
	struct loop *l;
	struct dns_ctx *dns;        /* resolves targets and proxies */
	struct hc *pool;            /* n slots, allocated once */
	int n;
	struct hc *idle;            /* idle connections, most recent first */
	struct hc_stats st;
	struct tls_sess_cache sess; /* TLS sessions to resume */
};

/* Size the pool (call once at start-up); names resolve through dns.
 * 0, or -1 when out of memory. */
int hc_pool_init(struct hc_ctx *c, struct loop *l, struct dns_ctx *dns,
		 int max_conns);
void hc_pool_free(struct hc_ctx *c);
/* Close idle connections and forget TLS sessions (shutdown, reload). */
void hc_pool_close_idle(struct hc_ctx *c);

/*
 * Start a request on a pooled or new connection.  Returns the hc, or NULL
 * when no connection slot is free (nothing is called back then).
 */
struct hc *hc_request(struct hc_ctx *c, const struct hc_target *t,
		      const struct hc_request *r, const struct hc_ops *ops,
		      void *owner, const struct hc_timeouts *to);
void hc_resume(struct hc *h);
void hc_abort(struct hc *h);

void hc_get_stats(const struct hc_ctx *c, struct hc_stats *s);

#endif
