/*
 * exch_xlate.c - the translated kinds of an exchange (exch_int.h): any
 * client on an upstream of another format, and token counts.
 *
 * The client's request view (hub.h) is encoded in the upstream's format
 * and held for retries; the answer runs through the translation pipeline
 * (xlate.h) and the client's framing (frame.h).  The client's response
 * head is sent only with the first bytes the encoder produces, so an
 * error the upstream reports before any content still becomes a proper
 * HTTP status in the client's format.  A non-stream answer is collected,
 * decoded as a whole and sent with its Content-Length.
 */
#define _GNU_SOURCE
#include "exch_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "fmt.h"
#include "route.h"
#include "json.h"
#include "sizes.h"
#include "srv.h"

static int map_status(int st)
{
	return st == 529 ? 503 : st; /* Anthropic "overloaded" */
}

/* A translated attempt starts with a fresh pipeline (an earlier one
 * may have decoded part of an answer). */
static void xl_attempt(struct exch *x)
{
	xlate_restart(&x->xl);
	buf_reset(&x->ubody);
}

static void collect_head(struct exch *x, const struct http_response *res)
{
	(void)res;
	buf_reset(&x->ubody);
	x->ubody.max = x->upstream_ok ? (size_t)XLATE_ANSWER_MAX : ERRBODY_MAX;
}

/* A whole answer or error body. */
static int collect(struct exch *x, const char *p, size_t n)
{
	buf_put(&x->ubody, p, n);
	if (x->ubody.overflow && !x->upstream_ok) {
		x->ubody.overflow = 0; /* keep the start of an error */
	} else if (x->ubody.overflow) {
		exch_fail(x, 502, "upstream answer larger than the proxy "
			  "holds");
		return -1;
	}
	return 0;
}

/* A non-2xx answer, collected: its message, in the client's format. */
static void upstream_error(struct exch *x)
{
	char msg[300];
	exch_error_message(x->ubody.p, x->ubody.len, msg, sizeof(msg));
	exch_fail(x, map_status(x->last_status), msg);
}

/* Send what the encoder produced (head first, on the first bytes). */
static void flush_obuf(struct exch *x)
{
	struct buf *o = &x->xl.out;

	if (o->len == 0)
		return;
	exch_stream_head(x);
	frame_events(&x->frame, o->p, o->len);
	buf_reset(o);
}

static int stream_body(struct exch *x, const char *p, size_t n)
{
	if (!x->upstream_ok)
		return collect(x, p, n);
	if (xlate_stream(&x->xl, p, n) < 0) {
		exch_fail(x, 502, "upstream event larger than the proxy holds");
		return -1;
	}
	flush_obuf(x);
	return 0;
}

static void stream_done(struct exch *x)
{
	if (!x->upstream_ok) {
		upstream_error(x);
		return;
	}
	xlate_stream_end(&x->xl);
	if (x->xl.early_status) {
		exch_fail(x, map_status(x->xl.early_status), x->xl.early_msg);
		return;
	}
	xlate_done(&x->xl);
	flush_obuf(x);
	exch_stream_head(x); /* if nothing came at all: an empty stream */
	frame_end(&x->frame);
	conn_stream_end(x->c);
	exch_finish(x);
}

/* The upstream broke after the client got something: end the client's
 * answer well-formed, carrying the error. */
static void stream_late(struct exch *x, const char *msg)
{
	xlate_error(&x->xl, 502, msg);
	xlate_done(&x->xl);
	flush_obuf(x);
	frame_end(&x->frame);
	conn_stream_end(x->c);
	exch_finish(x);
}

const struct exch_kind exch_xlate_stream = {xl_attempt, collect_head,
					    stream_body, stream_done,
					    stream_late, 1};

/* The pipeline has the whole answer (or an early error): send it as one
 * JSON body with its length. */
static void answer_whole(struct exch *x)
{
	struct conn *c = x->c;
	struct buf *o = &x->xl.out;

	if (x->xl.early_status) {
		exch_fail(x, map_status(x->xl.early_status), x->xl.early_msg);
		return;
	}
	xlate_done(&x->xl);
	/* decoded: the encoder holds what the client gets */
	buf_free(&x->ubody);
	if (o->overflow) {
		exch_fail(x, 502, "upstream answer larger than the proxy holds");
		return;
	}
	if (exch_charge(x) < 0) {
		exch_over_budget(x);
		return;
	}
	conn_stream_begin(c, 200, "application/json", NULL, (int64_t)o->len);
	x->started = 1;
	conn_stream_write(c, o->p, o->len);
	conn_stream_end(c);
	exch_finish(x);
}

static void body_done(struct exch *x)
{
	if (!x->upstream_ok) {
		upstream_error(x);
		return;
	}
	if (xlate_body(&x->xl, x->ubody.p, x->ubody.len) < 0) {
		exch_fail(x, 502, "upstream answer is not valid for its API");
		return;
	}
	answer_whole(x);
}

/* A JSON body cannot carry a late error: cut the response so the client
 * sees it is incomplete rather than a valid-looking one. */
static void body_late(struct exch *x, const char *msg)
{
	struct conn *c = x->c;
	(void)msg;
	exch_release(x);
	conn_stream_abort(c);
}

const struct exch_kind exch_xlate_body = {xl_attempt, collect_head, collect,
					  body_done, body_late, 0};

/* ---- a whole answer folded from a stream ---------------------------------- */

/* The upstream always streams (Codex, Claude Code logins) but the client
 * asked for one JSON answer: the events run through the pipeline with the
 * client's encoder in its non-stream mode, which writes the whole answer
 * at the end. */
static int fold_body(struct exch *x, const char *p, size_t n)
{
	if (!x->upstream_ok)
		return collect(x, p, n);
	if (xlate_stream(&x->xl, p, n) < 0) {
		exch_fail(x, 502, "upstream event larger than the proxy holds");
		return -1;
	}
	if (x->xl.out.overflow) {
		exch_fail(x, 502, "upstream answer larger than the proxy holds");
		return -1;
	}
	return 0;
}

static void fold_done(struct exch *x)
{
	if (!x->upstream_ok) {
		upstream_error(x);
		return;
	}
	xlate_stream_end(&x->xl);
	answer_whole(x);
}

const struct exch_kind exch_xlate_fold = {xl_attempt, collect_head, fold_body,
					  fold_done, body_late, 0};

/* ---- token counts ---------------------------------------------------------------- */

/* A token count from the upstream, in the client's shape: Claude
 * {"input_tokens":N}, Gemini {"totalTokens":N}. */
static void count_done(struct exch *x)
{
	struct conn *c = x->c;
	struct buf *b = &srv_of(c)->scratch;
	struct json j;
	long n = -1;
	int t;

	if (!x->upstream_ok) {
		upstream_error(x);
		return;
	}
	if (json_parse(&j, x->ubody.p, x->ubody.len) == 0) {
		t = json_get(&j, 0, x->ufmt == HUB_GEMINI ? "totalTokens"
							  : "input_tokens");
		if (t >= 0 && j.tok[t].type == JSMN_PRIMITIVE)
			n = fmt_strtol(json_ptr(&j, t), NULL);
		json_free(&j);
	}
	if (n < 0) {
		exch_fail(x, 502, "upstream token count is not valid for its "
			  "API");
		return;
	}
	buf_reset(b);
	buf_puts(b, x->cfmt == HUB_GEMINI ? "{\"totalTokens\":"
					  : "{\"input_tokens\":");
	buf_putu(b, (unsigned long)n);
	buf_putc(b, '}');
	conn_respond(c, 200, "application/json", NULL, b->p, b->len);
	exch_finish(x);
}

const struct exch_kind exch_count = {NULL, collect_head, collect, count_done,
				     body_late, 0};

/* ---- starting ------------------------------------------------------------------ */

/* Does this kind always stream upstream for this client? */
static int forced_stream(const struct prov_desc *d, int cfmt)
{
	return d->force_stream == 1 ||
	       (d->force_stream == 2 && cfmt != (int)d->wire);
}

/* A random UUID (version 4) for ids the official clients make per
 * session; not a secret, so the loop's clock and a counter seed it. */
static void make_uuid(char out[37], uint32_t seed)
{
	static uint64_t s;
	unsigned char b[16];
	int i;
	if (!s)
		s = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^
		    0x9e3779b97f4a7c15ull;
	s ^= seed;
	for (i = 0; i < 16; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		b[i] = (unsigned char)(s >> 24);
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	fmt_snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		     "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
		     b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		     b[14], b[15]);
}

/* Antigravity answers some models whole only through a stream (the
 * reference streams and folds them): Claude, gemini-3-pro and the
 * image model. */
static int antigravity_streams(const char *model)
{
	return strstr(model, "claude") || !strncmp(model, "gemini-3-pro", 12) ||
	       !strncmp(model, "gemini-3.1-flash-image", 22);
}

int exch_start_hub(struct conn *c, const struct exch_req *r)
{
	const struct route_cred *cr = route_cred_at(srv_of(c)->route, r->rm,
						    r->cand);
	const struct prov_desc *d = prov_desc(cr->prov);
	int force = forced_stream(d, r->cfmt) ||
		    (cr->prov == PROV_ANTIGRAVITY && antigravity_streams(r->upmodel));
	struct exch *x = exch_begin(c, r->cfmt, r->rm, r->cand,
				    r->stream ? &exch_xlate_stream
				    : force   ? &exch_xlate_fold
					      : &exch_xlate_body);
	struct hub_req_opts ro;
	struct hub_enc_opts eo;
	char err[256], rid[48];

	if (!x)
		return -1;
	x->stream = r->stream;
	x->force_stream = force;
	if (d->wire == HUB_RESPONSES && cr->prov != PROV_COMPAT)
		make_uuid(x->session, (uint32_t)c->gen);
	x->gemini_cli = r->gemini_cli;
	frame_init(&x->frame, (r->stream && r->gemini_array ? FRAME_ARRAY : 0) |
				      (r->cfmt == HUB_GEMINI ? FRAME_GEMINI : 0),
		   exch_write, x);
	fmt_snprintf(x->model, sizeof(x->model), "%s", r->model);
	fmt_snprintf(x->upmodel, sizeof(x->upmodel), "%s", r->upmodel);
	if (r->anthropic_beta && r->cfmt == HUB_CLAUDE)
		fmt_snprintf(x->beta, sizeof(x->beta), "%s", r->anthropic_beta);

	memset(&ro, 0, sizeof(ro));
	ro.model = x->upmodel;
	ro.stream = x->stream || x->force_stream;
	ro.gemini_cli = d->envelope;
	ro.project = ""; /* the account's goes in at each attempt (prov.c) */
	ro.antigravity = cr->prov == PROV_ANTIGRAVITY;
	if (ro.antigravity) {
		memcpy(rid, "agent-", 6);
		make_uuid(rid + 6, (uint32_t)c->gen);
		ro.request_id = rid;
	}
	ro.claude_code = d->claude_code;
	ro.stream_usage = d->stream_usage;
	ro.effort = r->effort;
	ro.codex = d->wire == HUB_RESPONSES && cr->prov != PROV_COMPAT;
	err[0] = '\0';
	if (hub_codec_for(x->ufmt)->encode_request(r->view, &ro, &x->upbody,
						   err, sizeof(err)) < 0 ||
	    x->upbody.overflow) {
		exch_client_error(c, x->cfmt, 400, err[0] ? err : "request cannot be "
			     "translated", NULL);
		exch_release(x);
		return -1;
	}
	/* The pipeline is made now: the client's encoder copies what it
	 * echoes of the request, whose view goes with the body below. */
	memset(&eo, 0, sizeof(eo));
	eo.stream = x->stream;
	eo.model = x->model;
	eo.created = x->t0;
	eo.seed = (uint32_t)(x->t0 ^ (long long)c->gen);
	eo.gemini_cli = x->gemini_cli;
	eo.req = r->view;
	xlate_init(&x->xl, (enum hub_fmt)x->cfmt, (enum hub_fmt)x->ufmt, &eo,
		   2 * XLATE_ANSWER_MAX);
	x->xl_ready = 1;
	/* The translated body is held for retries: trim it to size, let the
	 * client's body go (nothing refers to it any more), and count it
	 * against the same budget as client bodies. */
	if (x->upbody.cap > x->upbody.len + 4096) {
		char *np = realloc(x->upbody.p, x->upbody.len + 1);
		if (np) {
			x->upbody.p = np;
			x->upbody.cap = x->upbody.len + 1;
		}
	}
	conn_body_release(c);
	if (exch_charge(x) < 0) {
		exch_client_error(c, x->cfmt, 503, "server is busy: too much request "
			     "data in flight, retry shortly",
			     "Retry-After: 1\r\n");
		exch_release(x);
		return -1;
	}
	exch_go(x);
	return x->active ? 0 : -1;
}

/* Claude's count_tokens takes the messages request without max_tokens,
 * stream and sampling keys: encode, then copy only the keys it knows. */
static int count_claude_body(const struct hub_view *v,
			     const struct hub_req_opts *ro, struct buf *out,
			     char *err, size_t errlen)
{
	static const char *const keep[] = {"model", "messages", "system",
					   "tools", "tool_choice", "thinking",
					   NULL};
	struct buf tmp;
	struct json j;
	int k, i, n, first = 1;
	size_t m;

	buf_init(&tmp, XLATE_REQUEST_MAX);
	if (hub_claude.encode_request(v, ro, &tmp, err, errlen) < 0 ||
	    tmp.overflow || json_parse(&j, tmp.p, tmp.len) < 0) {
		buf_free(&tmp);
		return -1;
	}
	buf_putc(out, '{');
	n = j.tok[0].size;
	for (i = 0, k = 1; i < n; i++) {
		int vt = k + 1, next = json_skip(&j, vt);
		for (m = 0; keep[m]; m++)
			if (json_str_eq(&j, k, keep[m])) {
				struct hub_span s = hub_tok_raw(&j, vt);
				if (!first)
					buf_putc(out, ',');
				first = 0;
				hub_put_str(out, hub_tok_span(&j, k));
				buf_putc(out, ':');
				buf_put(out, s.p, s.n);
			}
		k = next;
	}
	buf_putc(out, '}');
	json_free(&j);
	buf_free(&tmp);
	return 0;
}

int exch_start_count(struct conn *c, const struct exch_req *r)
{
	struct exch *x = exch_begin(c, r->cfmt, r->rm, r->cand, &exch_count);
	const struct prov_desc *d = prov_desc((enum prov_kind)x->prov);
	struct hub_req_opts ro;
	char err[256];

	if (!x)
		return -1;
	x->count = 1;
	fmt_snprintf(x->model, sizeof(x->model), "%s", r->model);
	fmt_snprintf(x->upmodel, sizeof(x->upmodel), "%s", r->upmodel);
	memset(&ro, 0, sizeof(ro));
	ro.model = x->upmodel;
	err[0] = '\0';
	if (x->ufmt == HUB_GEMINI && d->envelope) {
		/* Code Assist's countTokens: {"request": {...}} */
		buf_puts(&x->upbody, "{\"request\":");
		if (hub_gemini.encode_request(r->view, &ro, &x->upbody, err,
					      sizeof(err)) < 0)
			goto bad;
		buf_putc(&x->upbody, '}');
	} else if (x->ufmt == HUB_GEMINI) {
		/* countTokens takes a whole request under this key */
		buf_puts(&x->upbody, "{\"generateContentRequest\":");
		if (hub_gemini.encode_request(r->view, &ro, &x->upbody, err,
					      sizeof(err)) < 0)
			goto bad;
		x->upbody.len--; /* reopen the request object */
		buf_puts(&x->upbody, ",\"model\":\"models/");
		buf_json_esc(&x->upbody, x->upmodel, strlen(x->upmodel));
		buf_puts(&x->upbody, "\"}}");
	} else if (count_claude_body(r->view, &ro, &x->upbody, err,
				     sizeof(err)) < 0) {
		goto bad;
	}
	if (x->upbody.overflow)
		goto bad;
	exch_go(x);
	return x->active ? 0 : -1;
bad:
	exch_client_error(c, x->cfmt, 400, err[0] ? err : "request cannot be "
		     "translated", NULL);
	exch_release(x);
	return -1;
}
