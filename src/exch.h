/*
 * exch.h - one proxied exchange: a client request forwarded upstream,
 * retried on another key while nothing has reached the client yet, and
 * the answer streamed back with backpressure.
 *
 * An exchange is embedded in its client connection (at most one runs per
 * connection), so it lives exactly as long as the request: the connection
 * ends it with exch_abort() when the client goes away, which closes the
 * upstream connection at once.
 */
#ifndef EXCH_H
#define EXCH_H

#include <stddef.h>

#include "buf.h"

struct conn;
struct hc;
struct cfg_compat;

struct exch {
	int active;
	int starting;         /* inside exch_start_*: answer synchronously */
	struct hc *hc;
	int fmt;              /* enum api_fmt of the client */
	int stream;           /* client asked for a stream */
	int path_kind;        /* 0 chat/completions, 1 completions */
	char provider[128];   /* provider name, looked up again on retry */
	unsigned cfg_gen;     /* config generation the provider came from */
	int attempts;         /* counted attempts made */
	int tried_429;        /* keys skipped for quota, not counted */
	int started;          /* response head sent to the client */
	int upstream_ok;      /* current upstream status is 2xx */
	int paused;           /* upstream reading paused for the client */
	int last_status;      /* last upstream status, for the final error */
	char last_err[256];
	char headers[1024];   /* per-attempt upstream header lines */
	char path[1100];
	struct buf tail;      /* SSE bytes after the last complete event */
	long long t0;
};

/*
 * Forward c's request (already parsed; the body's "model" value at
 * [model_off, model_off + model_len) is replaced by upstream_model) to an
 * OpenAI-compatible provider.  Returns 0 when started (the exchange now
 * owns the response), -1 when it answered an error itself.
 */
int exch_start_compat(struct conn *c, const struct cfg_compat *prov,
		      const char *upstream_model, size_t model_off,
		      size_t model_len, int stream, int completions);

/* The client went away: close the upstream, forget everything. */
void exch_abort(struct exch *x);

/* The client's output drained below the high-water mark. */
void exch_resume(struct exch *x);

#endif
