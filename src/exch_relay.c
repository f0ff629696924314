/*
 * exch_relay.c - the pass-through kinds of an exchange (exch_int.h): a
 * client on an upstream of its own format.
 *
 * The body is forwarded with only the model name rewritten where the
 * upstream calls it otherwise, and the answer relayed as it is, so
 * whatever the client and the upstream know and we do not (prompt-cache
 * marks, new content blocks, beta fields) survives.  Streams are cut at
 * SSE event boundaries: bytes after the last complete event wait in
 * x->tail, so if the upstream breaks mid-event the client still gets
 * whole events followed by one error event and the stream's terminator.
 * A Gemini client gets only data lines (frame.h); one that asked for a
 * JSON array gets each event's data as an element (exch_relay_array).
 */
#define _GNU_SOURCE
#include "exch_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "rlog.h"
#include "sizes.h"
#include "srv.h"

static void relay_head(struct exch *x, const struct http_response *res)
{
	struct conn *c = x->c;
	const struct http_header *ct, *cl;
	char ctype[128];
	int64_t len = -1;
	int sse = x->stream && x->upstream_ok;

	ct = http_find_response_header(res, "content-type", NULL);
	cl = http_find_response_header(res, "content-length", NULL);
	{
		size_t n = ct ? ct->value_len : 16;
		if (n > 100)
			n = 100;
		memcpy(ctype, ct ? ct->value : "application/json", n);
		ctype[n] = '\0';
	}
	if (sse && (x->frame.flags & FRAME_ARRAY))
		memcpy(ctype, "application/json", sizeof("application/json"));
	/* A sized non-stream answer keeps its size: no chunking. */
	if (cl && !http_find_response_header(res, "transfer-encoding", NULL) &&
	    !sse)
		len = http_parse_length(cl->value, cl->value_len);
	conn_stream_begin(c, res->status, ctype,
			  sse ? "Cache-Control: no-cache\r\n" : NULL, len);
	x->started = 1;
	if (x->stream)
		conn_flush(c); /* headers now; tokens may take a while */
}

/* Forward [p, p+n), holding back a partial SSE event. */
static int relay_body(struct exch *x, const char *p, size_t n)
{
	const char *src = p;
	size_t len = n, cut, i;

	if (!(x->stream && x->upstream_ok)) {
		conn_stream_write(x->c, p, n);
		return 0;
	}
	if (buf_pending(&x->tail) > 0) {
		buf_put(&x->tail, p, n);
		if (x->tail.overflow) { /* event larger than we hold: send */
			x->tail.overflow = 0;
			conn_stream_write(x->c, x->tail.p + x->tail.off,
					  buf_pending(&x->tail));
			buf_reset(&x->tail);
			conn_stream_write(x->c, p, n);
			return 0;
		}
		src = x->tail.p + x->tail.off;
		len = buf_pending(&x->tail);
	}
	/* Last event boundary: "\n\n" or "\n\r\n". */
	cut = 0;
	for (i = len; i >= 2; i--) {
		if (src[i - 1] == '\n' &&
		    (src[i - 2] == '\n' ||
		     (i >= 3 && src[i - 2] == '\r' && src[i - 3] == '\n'))) {
			cut = i;
			break;
		}
	}
	if (src == p) {
		frame_events(&x->frame, p, cut);
		if (cut < n)
			buf_put(&x->tail, p + cut, n - cut);
		return 0;
	}
	if (cut) {
		frame_events(&x->frame, src, cut);
		buf_consume(&x->tail, cut);
	}
	return 0;
}

static void relay_done(struct exch *x)
{
	if (buf_pending(&x->tail) > 0)
		frame_events(&x->frame, x->tail.p + x->tail.off,
			     buf_pending(&x->tail));
	conn_stream_end(x->c);
	exch_finish(x);
}

/* After the last whole event (a partial one is dropped): an error event
 * as the client's API sends one, and its end marker.  A JSON body cannot
 * carry a late error: it is cut, so the client sees it is incomplete
 * rather than a valid-looking one. */
static void relay_late(struct exch *x, const char *msg)
{
	struct conn *c = x->c;
	if (x->stream && x->upstream_ok) {
		frame_late_error(&x->frame, x->cfmt, msg, &srv_of(c)->scratch);
		conn_stream_end(c);
		exch_finish(x);
		return;
	}
	exch_release(x);
	conn_stream_abort(c);
}

const struct exch_kind exch_relay = {NULL, relay_head, relay_body,
				     relay_done, relay_late, 0};

/* ---- as a JSON array ---------------------------------------------------------- */

static void on_event(void *user, const struct hub_sse *ev)
{
	struct exch *x = user;
	if (ev->data.n > 0)
		frame_element(&x->frame, ev->data.p, ev->data.n);
}

static int array_body(struct exch *x, const char *p, size_t n)
{
	if (!x->upstream_ok) { /* an error answer, relayed as it is */
		conn_stream_write(x->c, p, n);
		return 0;
	}
	if (sse_push(&x->rsse, p, n, on_event, x) < 0) {
		relay_late(x, "upstream event larger than the proxy holds");
		return -1;
	}
	return 0;
}

static void array_done(struct exch *x)
{
	if (x->upstream_ok) {
		sse_end(&x->rsse, on_event, x);
		frame_end(&x->frame);
	}
	conn_stream_end(x->c);
	exch_finish(x);
}

const struct exch_kind exch_relay_array = {NULL, relay_head, array_body,
					   array_done, relay_late, 0};

/* ---- starting ------------------------------------------------------------------ */

/* Replace the model value in the body (in place, growing if needed). */
static int rewrite_model(struct conn *c, size_t off, size_t len,
			 const char *model)
{
	char stack[512];
	struct buf esc;
	size_t nl, ml = strlen(model);
	int rc = -1;

	/* Escape into a stack buffer (model names are short); a model name
	 * without characters to escape is copied as it is. */
	buf_init(&esc, 4096);
	if (ml < sizeof(stack) && !memchr(model, '"', ml) &&
	    !memchr(model, '\\', ml)) {
		size_t i;
		for (i = 0; i < ml && (unsigned char)model[i] >= 0x20; i++)
			;
		if (i == ml) {
			memcpy(stack, model, ml);
			esc.p = stack;
			esc.len = ml;
		}
	}
	if (!esc.p) {
		buf_json_esc(&esc, model, ml);
		if (esc.overflow)
			goto out;
	}
	nl = esc.len;
	if (conn_body_reserve(c, c->body_len - len + nl) < 0)
		goto out;
	memmove(c->body + off + nl, c->body + off + len,
		c->body_len - off - len);
	memcpy(c->body + off, esc.p, nl);
	c->body_len = c->body_len - len + nl;
	rc = 0;
out:
	if (esc.p != stack)
		buf_free(&esc);
	return rc;
}

int exch_start_raw(struct conn *c, const struct exch_raw *r)
{
	int array = r->stream && r->gemini_array;
	struct exch *x = exch_begin(c, r->cfmt, r->rm, r->cand,
				    array ? &exch_relay_array : &exch_relay);

	if (!x)
		return -1;
	x->stream = r->stream;
	x->path_kind = r->cfmt == HUB_COMPLETIONS;
	x->count = r->count;
	frame_init(&x->frame, FRAME_RELAY | (array ? FRAME_ARRAY : 0) |
				      (r->cfmt == HUB_GEMINI ? FRAME_GEMINI : 0),
		   exch_write, x);
	exch_copy_str(x->upmodel, sizeof(x->upmodel), r->upmodel);
	if (r->path_tail)
		exch_copy_str(x->path_tail, sizeof(x->path_tail), r->path_tail);
	if (r->anthropic_beta)
		exch_copy_str(x->beta, sizeof(x->beta), r->anthropic_beta);
	if (r->model_len > 0 &&
	    !(strlen(r->upmodel) == r->model_len &&
	      !memcmp(c->body + r->model_off, r->upmodel, r->model_len)) &&
	    rewrite_model(c, r->model_off, r->model_len, r->upmodel) < 0) {
		exch_client_error(c, x->cfmt, 503, "server is busy: no memory "
				  "to rewrite the request", NULL);
		exch_release(x);
		return -1;
	}
	if (array) {
		sse_init(&x->rsse, SSE_EVENT_MAX);
		x->raw_sse = 1;
	}
	rlog_relay(c->rlog);
	exch_go(x);
	return x->active ? 0 : -1;
}
