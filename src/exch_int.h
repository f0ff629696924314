/*
 * exch_int.h - what the exchange core (exch.c) and its kinds
 * (exch_relay.c, exch_xlate.c) share; not for other modules.
 *
 * An exchange is a small vtable of kinds, in the style of nginx's
 * upstream module: the core owns the attempt (key, call, retries, the
 * failure rules), the budget, backpressure and heartbeats; the kind says
 * what the answer's head, bytes and end mean for the client:
 *
 *   exch_relay        pass-through, the upstream's bytes as they are
 *   exch_relay_array  pass-through re-framed as a Gemini JSON array
 *   exch_xlate_stream translated stream (xlate.h)
 *   exch_xlate_body   translated whole answer
 *   exch_xlate_fold   translated whole answer from a streamed upstream
 *   exch_count        a token count, answered in the client's shape
 *
 * A retry is allowed only before the client got its response head
 * (x->started); after it a failure is the kind's late().
 */
#ifndef EXCH_INT_H
#define EXCH_INT_H

#include "exch.h"
#include "http.h"

struct exch_kind {
	/* A new attempt is about to start (fresh decoding state). */
	void (*attempt)(struct exch *x);
	/* The upstream's head, once the failure rules let it through
	 * (x->upstream_ok says whether it is a 2xx). */
	void (*head)(struct exch *x, const struct http_response *res);
	/* Answer bytes.  0 go on; -1 the exchange ended. */
	int (*body)(struct exch *x, const char *p, size_t n);
	/* The upstream answer is complete: end the client's. */
	void (*done)(struct exch *x);
	/* The upstream failed after the client got its head. */
	void (*late)(struct exch *x, const char *msg);
	/* A heartbeat may send the head before the upstream answers. */
	int early_head;
};

extern const struct exch_kind exch_relay, exch_relay_array,
	exch_xlate_stream, exch_xlate_body, exch_xlate_fold, exch_count;

/* From the core (exch.c). */
struct exch *exch_begin(struct conn *c, int cfmt,
			const struct route_model *rm, int cand,
			const struct exch_kind *k);
void exch_go(struct exch *x);           /* first attempt; heartbeat */
void exch_release(struct exch *x);      /* free everything; the
					   connection is not told */
void exch_finish(struct exch *x);       /* release; request finished */
int exch_charge(struct exch *x);        /* 0, -1 over max-body-total */
void exch_client_error(struct conn *c, int cfmt, int status,
		       const char *msg, const char *extra);
/* End with an error: an HTTP error before the head, else late(). */
void exch_fail(struct exch *x, int status, const char *msg);
void exch_over_budget(struct exch *x);
void exch_copy_str(char *dst, size_t cap, const char *src);
/* An upstream error body -> a message for the client (its
 * error.message, else its start). */
void exch_error_message(const char *body, size_t n, char *out, size_t cap);
/* Send the head of a streamed answer (once). */
void exch_stream_head(struct exch *x);
/* frame write callback: to the client connection */
void exch_write(void *user, const char *p, size_t n);

#endif
