/*
 * conn.h - one downstream (client) HTTP/1.1 connection.
 *
 * State machine (quark style: each step falls through to the next when it
 * completes):
 *
 *   HEAD --head parsed--> BODY --body complete--> (handler) --> WRITE
 *    ^                                     |                      |
 *    |                          BUSY (someone answers later)      |
 *    +---- keep-alive: next (maybe pipelined) request <-----------+
 *                                     close: shutdown(WR) --> LINGER --> closed
 *
 * One timer per connection; what it means depends on the state: idle or
 * header timeout in HEAD, body timeout in BODY, write timeout while output
 * is pending, linger time in LINGER.
 *
 * WHO ANSWERS.  conn knows nothing of the API or of exchanges.  The
 * server fills a struct conn_env (its loop, config, body budget and the
 * request handler); the handler either answers at once (conn_respond) or
 * fills the connection's dispatch slot and answers later with the
 * conn_stream_* calls, then conn_request_finished().  The slot's abort
 * callback is how the connection tells its answerer the client is gone;
 * drained, that the output fell below the high-water mark.  Both are
 * called only from the connection's own event handlers, never from
 * inside a call the answerer made.
 *
 * CLOSING IS DEFERRED.  conn_close() marks the connection CLOSING; the
 * loop reclaims it after the current callback (loop_defer): the answerer
 * is aborted, the socket closed, the slot freed.  Until then every call
 * on the connection is valid and writes are dropped, so callers never
 * check whether a write closed it under them.  Likewise the next
 * pipelined request is read after the callback that finished the
 * previous one, never inside it.
 */
#ifndef CONN_H
#define CONN_H

#include <stdint.h>

#include "buf.h"
#include "http.h"
#include "loop.h"

struct cfg;
struct conn;
struct rlog;

/* What a connection needs from the server that owns it. */
struct conn_env {
	struct loop *loop;
	const struct cfg *cfg;       /* the running config (reloads change
					its contents, not its address) */
	long body_used;              /* bytes charged to max-body-total:
					request bodies and exchange buffers */
	int stopping;                /* graceful shutdown: no keep-alive */
	/* The request handler.  head: a head was parsed; authenticate
	 * before any body is read: 0 go on, -1 answered.  request: the body
	 * is complete; answer now or fill the dispatch slot. */
	int (*head)(struct conn *c);
	void (*request)(struct conn *c);
	/* Render an error the connection itself raises (413, 408, 400...)
	 * in the format the request path implies, and respond with it. */
	void (*error)(struct conn *c, int status, const char *msg);
	/* Bookkeeping: a slot was freed; a connection became idle. */
	void (*released)(struct conn_env *e);
	void (*idle)(struct conn_env *e);
};

/* The answerer of a request that is answered later (see above). */
struct conn_dispatch {
	void (*drained)(void *owner); /* output fell below the high-water
					 mark (after conn_out_full) */
	void (*abort)(void *owner);   /* the connection is going away: stop,
					 free, and do not touch it again */
};

enum conn_state {
	CONN_FREE,
	CONN_HEAD,
	CONN_BODY,
	CONN_BUSY,      /* answered later by the dispatch slot's owner */
	CONN_WRITE,
	CONN_LINGER,
	CONN_CLOSING,   /* closed; reclaimed after the current callback */
};

struct conn {
	struct loop_watch w;
	struct loop_timer t;
	struct loop_defer reap;   /* deferred close, then next request */
	struct conn_env *env;
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
	long charged;             /* other request memory (parsed tokens,
				     the request view) charged by the
				     handler to max-body-total */
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

	/* the answerer (CONN_BUSY) */
	const struct conn_dispatch *dsp;
	void *dsp_owner;
	int next_pending;         /* reap runs process() for the next
				     pipelined request */

	/* streamed answer */
	int streaming;            /* head sent, body in chunks */
	int stream_chunked;       /* chunked framing (else length or close) */
	int64_t stream_length;    /* Content-Length sent, or -1 */
	int stream_status;
	size_t stream_bytes;

	struct rlog *rlog;        /* request-log = true: this request's file */
};

/* Take ownership of an accepted, non-blocking socket. */
void conn_start(struct conn_env *e, struct conn *c, int fd,
		const char *peer);

/* Close (idempotent): the connection is CLOSING at once and reclaimed
 * after the current callback. */
void conn_close(struct conn *c);

/* Close and reclaim now.  Only from outside the connection's callbacks
 * and its answerer's (the server evicting an idle connection, exit). */
void conn_close_now(struct conn *c);

/* The answerer of the current request (see the top of this file). */
void conn_dispatch_set(struct conn *c, const struct conn_dispatch *d,
		       void *owner);

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

/* Is the unsent output above the high-water mark (or the connection
 * closing, so nothing more can be written)? */
int conn_out_full(const struct conn *c);

/* The answerer is done: the dispatch slot is cleared, the request
 * dropped, and the next (pipelined) one is read after this callback. */
void conn_request_finished(struct conn *c);

/* Free the request body early (a translated exchange keeps its own). */
void conn_body_release(struct conn *c);

/* Charge delta bytes of memory the handler holds for this request (the
 * parsed body's tokens, the request view) to max-body-total, or give
 * them back (delta < 0).  -1 when the budget is now exceeded (the charge
 * stands; give it back when the memory is freed).  Whatever is not given
 * back is when the body is released. */
int conn_charge(struct conn *c, long delta);

/* Grow the request body buffer to hold n bytes (within the budget). */
int conn_body_reserve(struct conn *c, size_t n);

/* Is the client on this machine (127.0.0.0/8, ::1, or IPv4-mapped
 * loopback), by its TCP peer address (never a forwarded header)? */
int conn_peer_is_loopback(const struct conn *c);

#endif
