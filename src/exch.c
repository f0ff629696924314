/*
 * exch.c - proxied exchanges (see exch.h).
 *
 * Attempt loop (as nginx's upstream_next): an attempt picks the provider's
 * next key (round-robin cursor per provider) and sends the request.  While
 * nothing has been sent to the client, a failure may start another
 * attempt: connection-level failures and statuses 403/408/500/502/503/504
 * count against request-retry; 429 moves to the next key without counting
 * when quota-exceeded.switch-project is on, once per key.
 *
 * Pass-through streams are cut at SSE event boundaries: bytes after the
 * last complete event wait in x->tail, so if the upstream breaks mid-event
 * the client still gets whole events followed by one error event and the
 * stream's terminator.
 *
 * Translated exchanges run upstream bytes through sse.c, the upstream
 * codec's decoder and the client codec's encoder (hub.h).  The client's
 * response head is sent only with the first bytes the encoder produces, so
 * an error the upstream reports before any content still becomes a proper
 * HTTP status in the client's format.  A non-stream answer is collected,
 * decoded as a whole and sent with its Content-Length.
 *
 * Nothing is allocated per chunk: the SSE, event and output buffers grow
 * once to the largest event seen.
 */
#define _GNU_SOURCE
#include "exch.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apierr.h"
#include "cfg.h"
#include "conn.h"
#include "hc.h"
#include "log.h"
#include "rlog.h"
#include "srv.h"
#include "prov.h"


static const struct hc_ops exch_ops;
static const struct conn_dispatch exch_dispatch;

/* ---- the pool ------------------------------------------------------------ */

/* Exchanges are not part of a connection (a GET /v1/models needs none):
 * they come from this pool, one slot per possible connection, allocated
 * zeroed once (untouched slots cost no memory). */
static struct {
	struct exch *v;
	int n;
} pool;

int exch_pool_init(int n)
{
	pool.v = calloc((size_t)n, sizeof(*pool.v));
	pool.n = pool.v ? n : 0;
	return pool.v ? 0 : -1;
}

void exch_pool_free(void)
{
	free(pool.v);
	pool.v = NULL;
	pool.n = 0;
}

static struct exch *take(void)
{
	int i;
	for (i = 0; i < pool.n; i++)
		if (!pool.v[i].active)
			return &pool.v[i];
	return NULL;
}

/* ---- keys ------------------------------------------------------------------ */

/* Round-robin cursors: one per compat provider, then Gemini, then Claude.
 * Reset when the config changes. */
static struct {
	unsigned gen;
	size_t n;
	unsigned *cur;
} RR;

static unsigned next_index(struct srv *s, size_t slot, size_t n)
{
	if (RR.gen != s->cfg_gen || RR.n != s->cfg.n_compat + 2) {
		free(RR.cur);
		RR.n = s->cfg.n_compat + 2;
		RR.cur = calloc(RR.n, sizeof(*RR.cur));
		RR.gen = s->cfg_gen;
		if (!RR.cur) {
			RR.n = 0;
			return 0;
		}
	}
	return n ? RR.cur[slot]++ % (unsigned)n : 0;
}

static const struct cfg_compat *find_provider(struct srv *s, const char *name,
					      size_t *idx)
{
	size_t i;
	for (i = 0; i < s->cfg.n_compat; i++)
		if (!strcmp(s->cfg.compat[i].name, name)) {
			*idx = i;
			return &s->cfg.compat[i];
		}
	return NULL;
}

/* Keys available to this exchange's provider (for the 429 rule). */
static size_t provider_keys(struct exch *x)
{
	struct srv *s = srv_of(x->c);
	size_t idx;
	const struct cfg_compat *p;
	switch (x->prov) {
	case PROV_GEMINI: return s->cfg.gl_api_keys.n;
	case PROV_CLAUDE: return s->cfg.n_claude_keys;
	default:
		p = find_provider(s, x->provider, &idx);
		return p ? p->api_keys.n : 0;
	}
}

/* ---- ending ---------------------------------------------------------------- */

/* Bytes the exchange's growable buffers hold right now. */
static long held(const struct exch *x)
{
	size_t n = x->tail.cap + x->upbody.cap + x->ubody.cap;
	if (x->raw_sse)
		n += x->rsse.line.cap + x->rsse.data.cap;
	if (x->xl_ready)
		n += xlate_held(&x->xl);
	return (long)n;
}

/* Charge what the exchange holds to the server's body budget
 * (max-body-total), as request bodies are.  0 ok, -1 over budget. */
static int charge(struct exch *x)
{
	struct srv *s = srv_of(x->c);
	long now = held(x);
	s->env.body_used += now - x->charged;
	x->charged = now;
	return now > 0 && s->env.body_used > s->cfg.max_body_total ? -1 : 0;
}

/* The exchange is over: the upstream connection (if any) is closed, every
 * buffer freed and uncharged. */
static void release(struct exch *x)
{
	loop_timer_cancel(&srv_of(x->c)->loop, &x->ka);
	loop_defer_cancel(&srv_of(x->c)->loop, &x->retry);
	if (x->c->dsp_owner == x)
		conn_dispatch_set(x->c, NULL, NULL);
	if (x->hc) {
		hc_abort(x->hc);
		x->hc = NULL;
	}
	if (x->charged) {
		srv_of(x->c)->env.body_used -= x->charged;
		x->charged = 0;
	}
	x->active = 0;
	prov_call_free(&x->call);
	buf_free(&x->tail);
	buf_free(&x->upbody);
	buf_free(&x->ubody);
	if (x->raw_sse) {
		sse_free(&x->rsse);
		x->raw_sse = 0;
	}
	if (x->xl_ready) {
		xlate_free(&x->xl);
		x->xl_ready = 0;
	}
}

static void finish(struct exch *x)
{
	struct conn *c = x->c;
	release(x);
	conn_request_finished(c);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* An error in the format of a client of format cfmt. */
static void client_error(struct conn *c, int cfmt, int status,
			 const char *msg, const char *extra)
{
	struct buf *b = &srv_of(c)->scratch;
	buf_reset(b);
	apierr_render(b, cfmt, status, msg);
	conn_respond(c, status, "application/json", extra, b->p, b->len);
}

static void fail_after_start(struct exch *x, const char *msg);

/* Answer with an error in the client's format and end (in the stream,
 * when a heartbeat already sent the head). */
static void fail_before_start(struct exch *x, int status, const char *msg)
{
	struct conn *c = x->c;
	if (x->started) {
		fail_after_start(x, msg);
		return;
	}
	client_error(c, x->cfmt, status, msg, NULL);
	finish(x);
}

static void flush_obuf(struct exch *x);

/* The upstream broke after the client got something: end the client's
 * answer well-formed, carrying the error. */
static void fail_after_start(struct exch *x, const char *msg)
{
	struct conn *c = x->c;

	if (x->hub && x->stream) {
		xlate_error(&x->xl, 502, msg);
		xlate_done(&x->xl);
		flush_obuf(x);
		if (x->gemini_array)
			conn_stream_write(c, x->nchunks ? "]" : "[]",
					  x->nchunks ? 1 : 2);
		conn_stream_end(c);
		finish(x);
		return;
	}
	if (!x->hub && x->stream && x->upstream_ok) {
		/* After the last whole event (a partial one is dropped): an
		 * error event as the client's API sends one, and for OpenAI
		 * the end marker; a JSON-array stream gets the error as its
		 * last element. */
		struct buf *b = &srv_of(c)->scratch;
		int f = x->cfmt;
		buf_reset(b);
		if (x->raw_sse)
			buf_puts(b, x->nchunks ? ",\r\n" : "[");
		else
			buf_puts(b, f == HUB_CLAUDE ? "event: error\ndata: "
						    : "data: ");
		apierr_render(b, f, 502, msg);
		if (x->raw_sse)
			buf_putc(b, ']');
		else
			buf_puts(b, f != HUB_CLAUDE && f != HUB_GEMINI ? "\n\ndata: [DONE]\n\n"
						    : "\n\n");
		conn_stream_write(c, b->p, b->len);
		conn_stream_end(c);
		finish(x);
		return;
	}
	/* A JSON body cannot carry a late error: cut the response so the
	 * client sees it is incomplete rather than a valid-looking one. */
	release(x);
	conn_stream_abort(c);
}

static int attempts_left(struct exch *x)
{
	return x->attempts <= srv_of(x->c)->cfg.request_retry;
}

static void start_attempt(struct exch *x, int counted);

static void on_retry(struct loop *l, struct loop_defer *d)
{
	struct exch *x = container_of(d, struct exch, retry);
	(void)l;
	start_attempt(x, x->retry_counted);
}

/* Another attempt, after the current callback: the failed attempt's
 * callbacks are still on the stack. */
static void next_attempt(struct exch *x, int counted)
{
	x->retry_counted = counted;
	loop_defer(&srv_of(x->c)->loop, &x->retry);
}

/* ---- translated output --------------------------------------------------------- */

static const char *client_ctype(struct exch *x)
{
	if (!x->stream || x->gemini_array)
		return "application/json";
	return "text/event-stream";
}

/* Send what the encoder produced (head first, on the first bytes). */
static void flush_obuf(struct exch *x)
{
	struct conn *c = x->c;
	const char *p = x->xl.out.p;
	size_t n = x->xl.out.len;

	if (n == 0 || !x->stream)
		return;
	if (!x->started) {
		conn_stream_begin(c, 200, client_ctype(x),
				  "Cache-Control: no-cache\r\n", -1);
		x->started = 1;
		x->xl.sent = 1;
	}
	if (x->gemini_array) {
		/* The encoder writes "data: <json>\n\n" chunks; a client that
		 * did not ask for SSE gets them as one JSON array. */
		size_t i = 0;
		while (i < n) {
			const char *s = p + i, *e;
			if (n - i < 6 || memcmp(s, "data: ", 6) != 0)
				break;
			e = memmem(s + 6, n - i - 6, "\n\n", 2);
			if (!e)
				e = p + n;
			if (x->nchunks++ == 0)
				conn_stream_write(c, "[", 1);
			else
				conn_stream_write(c, ",\r\n", 3);
			conn_stream_write(c, s + 6, (size_t)(e - s - 6));
			i = (size_t)(e - p) + 2;
		}
	} else {
		conn_stream_write(c, p, n);
	}
	buf_reset(&x->xl.out);
}

/* Upstream error body (non-2xx) -> a message for the client. */
static void error_message(const char *body, size_t n, char *out, size_t cap)
{
	struct json j;
	int e, m;

	snprintf(out, cap, "upstream error");
	if (n == 0 || json_parse(&j, body, n) < 0)  {
		if (n > 0)
			snprintf(out, cap, "%.*s", (int)(n > 200 ? 200 : n), body);
		return;
	}
	e = json_get(&j, 0, "error");
	m = e >= 0 ? json_get(&j, e, "message") : json_get(&j, 0, "message");
	if (m < 0 && e >= 0 && j.tok[e].type == JSMN_STRING)
		m = e;
	if (m >= 0 && j.tok[m].type == JSMN_STRING) {
		struct hub_span s = hub_tok_span(&j, m);
		if (hub_unescape(s, out, cap) < 0)
			snprintf(out, cap, "%.*s", (int)(s.n > 200 ? 200 : s.n),
				 s.p);
	}
	json_free(&j);
}

static int map_status(int st)
{
	return st == 529 ? 503 : st; /* Anthropic "overloaded" */
}

/* ---- upstream callbacks ----------------------------------------------------- */

/*
 * An attempt failed (apierr.h classifies, the rule table decides).
 * Returns 1 when handled (another attempt is on its way, or the client
 * was answered), 0 when the upstream's own answer is to be relayed.
 *
 * A refused credential (401, 403) is the operator's key, not the
 * client's: passed on as it was, a 401 made clients conclude their own
 * key was wrong (Claude Code asked to log in again).  So the next key is
 * tried, and when none is left the client gets a 503 (every key refused)
 * or a 502 (a provider without keys), naming the provider and never a
 * key; the upstream's message is not passed on: some quote the key.
 */
static int upstream_failed(struct exch *x, enum upfail f, int status,
			   const char *why)
{
	const struct uprule *r = apierr_rule(f);
	size_t nkeys;
	char msg[400];

	if (why != x->last_err)
		snprintf(x->last_err, sizeof(x->last_err), "%s", why);
	if (r->act == UA_NEXT) {
		if (f == UF_QUOTA && !srv_of(x->c)->cfg.qe_switch_project)
			return 0;
		nkeys = provider_keys(x);
		if ((size_t)x->skipped + 1 < nkeys) {
			x->skipped++;
			hc_abort(x->hc);
			x->hc = NULL;
			next_attempt(x, 0);
			return 1;
		}
		if (f != UF_AUTH)
			return 0;
		snprintf(msg, sizeof(msg), "upstream provider '%s' refused "
			 "the proxy's credentials (%d)%s; the proxy's "
			 "configuration needs a valid key for it", x->provider,
			 status, nkeys > 1 ? " for every configured key" : "");
		hc_abort(x->hc);
		x->hc = NULL;
		fail_before_start(x, nkeys > 0 ? r->status : 502, msg);
		return 1;
	}
	if (r->act == UA_RETRY && attempts_left(x)) {
		log_debug("%s: upstream attempt failed (%s), retrying",
			  x->provider, why);
		hc_abort(x->hc);
		x->hc = NULL;
		next_attempt(x, r->counted);
		return 1;
	}
	if (!r->status)
		return 0;
	fail_before_start(x, r->status, why);
	return 1;
}

static enum upfail upfail_of_hc(int err)
{
	switch (err) {
	case HC_EDNS: return UF_DNS;
	case HC_ETLS: return UF_TLS;
	case HC_ETIMEOUT: return UF_TIMEOUT;
	default: return UF_CONNECT;
	}
}

static void start_raw_answer(struct exch *x, const struct http_response *res)
{
	struct conn *c = x->c;
	const struct http_header *ct, *cl;
	char ctype[128];
	int64_t len = -1;

	ct = http_find_response_header(res, "content-type", NULL);
	cl = http_find_response_header(res, "content-length", NULL);
	{
		size_t n = ct ? ct->value_len : 16;
		if (n > 100)
			n = 100;
		memcpy(ctype, ct ? ct->value : "application/json", n);
		ctype[n] = '\0';
	}
	if (x->raw_sse && x->upstream_ok)
		memcpy(ctype, "application/json", sizeof("application/json"));
	/* A sized non-stream answer keeps its size: no chunking. */
	if (cl && !http_find_response_header(res, "transfer-encoding", NULL) &&
	    !(x->stream && x->upstream_ok))
		len = http_parse_length(cl->value, cl->value_len);
	conn_stream_begin(c, res->status, ctype,
			  x->stream && x->upstream_ok
				  ? "Cache-Control: no-cache\r\n" : NULL,
			  len);
	x->started = 1;
	if (x->stream)
		conn_flush(c); /* headers now; tokens may take a while */
}

static void on_head(void *owner, const struct http_response *res)
{
	struct exch *x = owner;

	x->last_status = res->status;
	if (x->c->rlog) {
		struct rlog *rl = x->c->rlog;
		char line[48];
		snprintf(line, sizeof(line), "HTTP/1.%d %d ",
			 res->minor_version, res->status);
		rlog_section(rl, "UPSTREAM RESPONSE", line);
		rlog_body(rl, res->reason, res->reason_len);
		rlog_body(rl, "\n", 1);
		rlog_headers(rl, res->headers, res->num_headers);
	}
	if (res->status >= 400) {
		char why[sizeof(x->provider) + 64];
		enum upfail f = upfail_of_status(res->status);
		if (f == UF_AUTH)
			snprintf(why, sizeof(why), "%s refused the proxy's "
				 "credentials (%d)", x->provider, res->status);
		else
			snprintf(why, sizeof(why), "%s answered %d",
				 x->provider, res->status);
		if (f == UF_AUTH)
			log_warn("upstream %s", why);
		if (upstream_failed(x, f, res->status, why))
			return;
	}
	x->upstream_ok = res->status >= 200 && res->status < 300;
	if (!x->hub) {
		start_raw_answer(x, res);
		return;
	}
	buf_reset(&x->ubody);
	x->ubody.max = x->upstream_ok ? (size_t)XLATE_ANSWER_MAX : ERRBODY_MAX;
}

/*
 * Whole SSE events of a pass-through stream to the client.  A Gemini
 * client gets only its "data:" lines and blank lines: its reader (Gemini
 * CLI, @google/genai) matches "data: " at the start of its buffer, and a
 * comment (": ping") or any other field line there is never consumed, so
 * the stream would end as "Incomplete JSON".  An event left with no line
 * loses its blank line too.  Everything else is relayed byte for byte.
 */
static void relay_events(struct exch *x, const char *p, size_t n)
{
	struct conn *c = x->c;
	const char *end = p + n, *s = p, *keep = p;
	int kept = 0, dropped = 0; /* lines of the current event */

	if (x->cfmt != HUB_GEMINI) {
		conn_stream_write(c, p, n);
		return;
	}
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *next = nl ? nl + 1 : end;
		size_t len = (size_t)(next - s);
		int blank = *s == '\n' || *s == '\r';
		int wanted = blank ? kept || !dropped
				   : len >= 5 && !memcmp(s, "data:", 5);
		if (blank)
			kept = dropped = 0;
		else if (wanted)
			kept = 1;
		else
			dropped = 1;
		if (!wanted) {
			if (s > keep)
				conn_stream_write(c, keep, (size_t)(s - keep));
			keep = next;
		}
		s = next;
	}
	if (end > keep)
		conn_stream_write(c, keep, (size_t)(end - keep));
}

/* Pass-through: forward [p, p+n), holding back a partial SSE event. */
static void forward(struct exch *x, const char *p, size_t n)
{
	struct conn *c = x->c;
	const char *src = p;
	size_t len = n, cut, i;

	if (!(x->stream && x->upstream_ok)) {
		conn_stream_write(c, p, n);
		return;
	}
	if (buf_pending(&x->tail) > 0) {
		buf_put(&x->tail, p, n);
		if (x->tail.overflow) { /* event larger than we hold: send */
			x->tail.overflow = 0;
			conn_stream_write(c, x->tail.p + x->tail.off,
					  buf_pending(&x->tail));
			buf_reset(&x->tail);
			conn_stream_write(c, p, n);
			return;
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
		if (cut)
			relay_events(x, p, cut);
		if (cut < n)
			buf_put(&x->tail, p + cut, n - cut);
		return;
	}
	if (cut) {
		relay_events(x, src, cut);
		buf_consume(&x->tail, cut);
	}
}

/* Pass-through to a Gemini client that asked for a JSON-array stream:
 * each upstream event's data, untouched, is one element of the array. */
static void on_raw_sse(void *user, const struct hub_sse *ev)
{
	struct exch *x = user;
	struct conn *c = x->c;

	if (ev->data.n == 0)
		return;
	if (x->nchunks++ == 0)
		conn_stream_write(c, "[", 1);
	else
		conn_stream_write(c, ",\r\n", 3);
	conn_stream_write(c, ev->data.p, ev->data.n);
}

/* The upstream sent more than the proxy holds, or the budget ran out:
 * end now, in the client's format, rather than read on. */
static void fail_now(struct exch *x, int status, const char *msg)
{
	if (x->started)
		fail_after_start(x, msg);
	else
		fail_before_start(x, status, msg);
}

static void fail_over_budget(struct exch *x)
{
	fail_now(x, 503, "server is busy: too much data in flight, retry "
		 "shortly");
}

static int on_body(void *owner, const char *p, size_t n)
{
	struct exch *x = owner;
	struct conn *c = x->c;

	rlog_stream(c->rlog, RLOG_UPSTREAM, p, n);
	if (!x->hub && x->raw_sse && x->upstream_ok) {
		if (sse_push(&x->rsse, p, n, on_raw_sse, x) < 0) {
			fail_after_start(x, "upstream event larger than the "
					 "proxy holds");
			return 0;
		}
	} else if (!x->hub) {
		forward(x, p, n);
	} else if (x->upstream_ok && x->stream) {
		if (xlate_stream(&x->xl, p, n) < 0) {
			fail_now(x, 502, "upstream event larger than the proxy "
				 "holds");
			return 0;
		}
		flush_obuf(x);
	} else {
		buf_put(&x->ubody, p, n); /* whole answer or error body */
		if (x->ubody.overflow && !x->upstream_ok) {
			x->ubody.overflow = 0; /* keep the start of an error */
		} else if (x->ubody.overflow) {
			fail_now(x, 502, "upstream answer larger than the proxy "
				 "holds");
			return 0;
		}
		if (charge(x) < 0)
			fail_over_budget(x);
		return 0;
	}
	if (charge(x) < 0) {
		fail_over_budget(x);
		return 0;
	}
	conn_flush(c);
	x->paused = conn_out_full(c);
	return x->paused;
}

/* A token count from the upstream, in the client's shape: Claude
 * {"input_tokens":N}, Gemini {"totalTokens":N}. */
static void count_done(struct exch *x)
{
	struct conn *c = x->c;
	struct buf *b = &srv_of(c)->scratch;
	struct json j;
	long n = -1;
	int t;

	if (json_parse(&j, x->ubody.p, x->ubody.len) == 0) {
		t = json_get(&j, 0, x->ufmt == HUB_GEMINI ? "totalTokens"
							  : "input_tokens");
		if (t >= 0 && j.tok[t].type == JSMN_PRIMITIVE)
			n = strtol(json_ptr(&j, t), NULL, 10);
		json_free(&j);
	}
	if (n < 0) {
		fail_before_start(x, 502, "upstream token count is not "
				  "valid for its API");
		return;
	}
	buf_reset(b);
	buf_puts(b, x->cfmt == HUB_GEMINI ? "{\"totalTokens\":"
					  : "{\"input_tokens\":");
	buf_putu(b, (unsigned long)n);
	buf_putc(b, '}');
	conn_respond(c, 200, "application/json", NULL, b->p, b->len);
	finish(x);
}

/* Translated: the upstream answer is complete. */
static void hub_done(struct exch *x)
{
	struct conn *c = x->c;

	if (!x->upstream_ok) {
		char msg[300];
		int st = map_status(x->last_status);
		error_message(x->ubody.p, x->ubody.len, msg, sizeof(msg));
		fail_before_start(x, st, msg);
		return;
	}
	if (x->count) {
		count_done(x);
		return;
	}
	if (x->stream) {
		xlate_stream_end(&x->xl);
	} else if (xlate_body(&x->xl, x->ubody.p, x->ubody.len) < 0) {
		fail_before_start(x, 502, "upstream answer is not valid for "
				  "its API");
		return;
	}
	if (x->xl.early_status) {
		fail_before_start(x, map_status(x->xl.early_status),
				  x->xl.early_msg);
		return;
	}
	xlate_done(&x->xl);
	if (x->stream) {
		flush_obuf(x);
		if (x->gemini_array && x->started)
			conn_stream_write(c, x->nchunks ? "]" : "[]",
					  x->nchunks ? 1 : 2);
		if (!x->started) { /* nothing at all: an empty stream */
			conn_stream_begin(c, 200, client_ctype(x), NULL, -1);
			x->started = 1;
		}
	} else {
		/* decoded: the encoder holds what the client gets */
		buf_free(&x->ubody);
		if (x->xl.out.overflow) {
			fail_before_start(x, 502, "upstream answer larger than "
					  "the proxy holds");
			return;
		}
		if (charge(x) < 0) {
			fail_over_budget(x);
			return;
		}
		conn_stream_begin(c, 200, "application/json", NULL,
				  (int64_t)x->xl.out.len);
		x->started = 1;
		conn_stream_write(c, x->xl.out.p, x->xl.out.len);
	}
	conn_stream_end(c);
	finish(x);
}

static void on_done(void *owner)
{
	struct exch *x = owner;
	struct conn *c = x->c;

	x->hc = NULL;
	if (x->hub) {
		hub_done(x);
		return;
	}
	if (x->raw_sse && x->upstream_ok) {
		sse_end(&x->rsse, on_raw_sse, x);
		conn_stream_write(c, x->nchunks ? "]" : "[]",
					  x->nchunks ? 1 : 2);
	} else if (buf_pending(&x->tail) > 0) {
		relay_events(x, x->tail.p + x->tail.off, buf_pending(&x->tail));
	}
	conn_stream_end(c);
	finish(x);
}

static void on_error(void *owner, int err, const char *msg)
{
	struct exch *x = owner;

	x->hc = NULL;
	snprintf(x->last_err, sizeof(x->last_err), "upstream %s: %s",
		 x->provider, msg);
	log_warn("%s", x->last_err);
	if (x->c->rlog) {
		rlog_section(x->c->rlog, "UPSTREAM ERROR", x->last_err);
		rlog_body(x->c->rlog, "\n", 1);
	}
	if (x->started) {
		fail_after_start(x, x->last_err);
		return;
	}
	upstream_failed(x, upfail_of_hc(err), 0, x->last_err);
}

static const struct hc_ops exch_ops = {on_head, on_body, on_done, on_error};

/* ---- attempts ----------------------------------------------------------------- */

/* The key for this attempt (round-robin per provider) and what comes
 * with it.  0 ok, else the status to answer, with *msg. */
static int pick_key(struct exch *x, struct prov_key *k, const char **msg)
{
	struct srv *s = srv_of(x->c);
	const struct cfg *cfg = &s->cfg;
	const struct cfg_key_entry *e;
	const struct cfg_compat *p;
	size_t idx = 0;

	memset(k, 0, sizeof(*k));
	switch (x->prov) {
	case PROV_GEMINI:
		if (cfg->gl_api_keys.n == 0) {
			*msg = "no generative-language-api-key configured";
			return 500;
		}
		k->key = cfg->gl_api_keys.v[next_index(s, cfg->n_compat,
						       cfg->gl_api_keys.n)];
		return 0;
	case PROV_CLAUDE:
		if (cfg->n_claude_keys == 0) {
			*msg = "no claude-api-key configured";
			return 500;
		}
		e = &cfg->claude_keys[next_index(s, cfg->n_compat + 1,
						 cfg->n_claude_keys)];
		k->key = e->api_key;
		k->base_url = e->base_url;
		k->proxy_url = e->proxy_url;
		k->headers = &e->headers;
		return 0;
	default:
		if (!(p = find_provider(s, x->provider, &idx))) {
			*msg = "provider was removed from the config during "
			       "the request";
			return 503;
		}
		k->base_url = p->base_url;
		k->proxy_url = p->proxy_url;
		k->headers = &p->headers;
		if (p->api_keys.n > 0)
			k->key = p->api_keys.v[next_index(s, idx,
							  p->api_keys.n)];
		return 0;
	}
}

/* A translated attempt starts with a fresh pipeline (an earlier one
 * may have decoded part of an answer). */
static void reset_decoding(struct exch *x)
{
	if (!x->hub || x->count)
		return;
	if (x->xl_ready) {
		xlate_restart(&x->xl);
	} else {
		xlate_init(&x->xl, (enum hub_fmt)x->cfmt, (enum hub_fmt)x->ufmt,
			   &x->eo, 2 * XLATE_ANSWER_MAX);
		x->xl_ready = 1;
	}
	buf_reset(&x->ubody);
}

static void start_attempt(struct exch *x, int counted)
{
	struct conn *c = x->c;
	const struct cfg *cfg = &srv_of(c)->cfg;
	struct hc_timeouts to;
	struct hc_request r;
	struct prov_key k;
	struct prov_req pr;
	const char *err = NULL;
	int st;

	if ((st = pick_key(x, &k, &err)) != 0) {
		fail_before_start(x, st, err);
		return;
	}
	memset(&pr, 0, sizeof(pr));
	pr.d = prov_desc((enum prov_kind)x->prov);
	pr.k = &k;
	pr.upmodel = x->upmodel;
	pr.stream = x->stream;
	pr.count = x->count;
	pr.completions = x->path_kind;
	pr.beta = x->beta[0] ? x->beta : NULL;
	pr.ua_name = x->prov == PROV_COMPAT ? x->provider : NULL;
	if ((err = prov_prepare(cfg, srv_of(c)->cfg_gen, &pr, &x->call)) !=
	    NULL) {
		fail_before_start(x, 500, err);
		return;
	}
	x->attempts += counted;
	to.connect_ms = cfg->upstream_connect_timeout_ms;
	to.first_byte_ms = cfg->upstream_first_byte_timeout_ms;
	to.read_ms = cfg->upstream_read_timeout_ms;
	to.pool_idle_ms = cfg->upstream_keepalive_timeout_ms;
	r.method = "POST";
	r.path = x->call.path.p;
	r.headers = x->call.headers.p;
	if (x->hub) {
		r.body = x->upbody.p;
		r.body_len = x->upbody.len;
		/* An earlier attempt may have decoded part of an answer. */
		reset_decoding(x);
	} else {
		r.body = c->body;
		r.body_len = c->body_len;
	}
	x->upstream_ok = 0;
	if (c->rlog) {
		char line[1800];
		snprintf(line, sizeof(line), "POST %s://%s:%d%s\n",
			 x->call.t.tls ? "https" : "http", x->call.t.host,
			 x->call.t.port, x->call.path.p);
		rlog_section(c->rlog, "UPSTREAM REQUEST", line);
		rlog_head_lines(c->rlog, x->call.headers.p,
				x->call.extra_hdr_off);
		rlog_head_names(c->rlog,
				x->call.headers.p + x->call.extra_hdr_off,
				x->call.headers.len - x->call.extra_hdr_off);
		rlog_section(c->rlog, "UPSTREAM REQUEST BODY", NULL);
		rlog_body(c->rlog, r.body, r.body_len);
	}
	x->hc = hc_request(&x->call.t, &r, &exch_ops, x, &to);
	if (!x->hc)
		fail_before_start(x, 503, "too many upstream connections in "
				  "use; retry shortly");
}

/* ---- stream heartbeat ---------------------------------------------------------- */

/*
 * [streaming] keepalive-seconds: a tick every N seconds; when the client
 * got nothing since the previous tick, it gets a heartbeat, always at an
 * event boundary (pass-through holds partial events back, the hub writes
 * whole ones): an SSE comment, or a newline for Gemini clients (whose
 * readers refuse comments) and in a JSON-array stream.  A
 * translated stream whose upstream has not answered yet is given its head
 * now; a pass-through waits for the upstream's head, whose status it
 * relays.
 */
static void on_keepalive(struct loop *l, struct loop_timer *t)
{
	struct exch *x = container_of(t, struct exch, ka);
	struct conn *c = x->c;

	if (!x->started && x->hub && !x->count && !x->xl.early_status) {
		conn_stream_begin(c, 200, client_ctype(x),
				  "Cache-Control: no-cache\r\n", -1);
		x->started = 1;
		x->xl.sent = 1;
		x->ka_bytes = c->stream_bytes; /* and a heartbeat now */
	}
	if (x->started && c->stream_bytes == x->ka_bytes) {
		/* Gemini readers take whitespace between events, never a
		 * comment (see relay_events); SSE ignores a blank line. */
		if (x->gemini_array || x->cfmt == HUB_GEMINI)
			conn_stream_write(c, "\n", 1);
		else
			conn_stream_write(c, ": keep-alive\n\n", 14);
		conn_flush(c);
	}
	x->ka_bytes = c->stream_bytes;
	loop_timer_set(l, &x->ka, (int64_t)srv_of(c)->cfg.stream_keepalive_s * 1000);
}

static void arm_keepalive(struct exch *x)
{
	struct conn *c = x->c;
	int s = srv_of(c)->cfg.stream_keepalive_s;
	if (x->active && x->stream && !x->count && s > 0) {
		x->ka_bytes = (uint64_t)-1;
		loop_timer_set(&srv_of(c)->loop, &x->ka, (int64_t)s * 1000);
	}
}

/* ---- starting ---------------------------------------------------------------- */

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

/* A pool slot for the request on c, answering it from now on; NULL when
 * every slot is busy (answered with a 503). */
static struct exch *begin(struct conn *c, int cfmt, enum prov_kind prov,
			  const struct cfg_compat *compat)
{
	struct exch *x = take();

	if (!x) {
		client_error(c, cfmt, 503, "server is busy: too many requests "
			     "in flight, retry shortly", "Retry-After: 1\r\n");
		return NULL;
	}
	/* Only the scalars and buffers: the strings are written before
	 * they are read, and the hub state is set up on the hub path. */
	memset(x, 0, offsetof(struct exch, provider));
	x->active = 1;
	x->c = c;
	x->cfmt = cfmt;
	x->prov = prov;
	x->ufmt = prov_desc(prov)->wire;
	conn_dispatch_set(c, &exch_dispatch, x);
	copy_str(x->provider, sizeof(x->provider),
		 compat ? compat->name : prov_desc(prov)->name);
	x->model[0] = x->upmodel[0] = x->beta[0] = '\0';
	x->last_err[0] = '\0';
	memset(&x->eo, 0, sizeof(x->eo));
	x->ka.slot = -1;
	x->ka.cb = on_keepalive;
	x->retry.cb = on_retry;
	x->cfg_gen = srv_of(c)->cfg_gen;
	x->t0 = (long long)time(NULL);
	prov_call_init(&x->call);
	buf_init(&x->tail, RELAY_TAIL_MAX);
	buf_init(&x->upbody, XLATE_REQUEST_MAX);
	buf_init(&x->ubody, XLATE_ANSWER_MAX);
	return x;
}

int exch_start_raw(struct conn *c, const struct exch_raw *r)
{
	struct exch *x = begin(c, r->cfmt, r->prov, r->compat);

	if (!x)
		return -1;
	x->stream = r->stream;
	x->gemini_array = r->gemini_array;
	x->path_kind = r->cfmt == HUB_COMPLETIONS;
	x->count = r->count;
	copy_str(x->upmodel, sizeof(x->upmodel), r->upmodel);
	if (r->anthropic_beta)
		copy_str(x->beta, sizeof(x->beta), r->anthropic_beta);
	if (r->model_len > 0 &&
	    !(strlen(r->upmodel) == r->model_len &&
	      !memcmp(c->body + r->model_off, r->upmodel, r->model_len)) &&
	    rewrite_model(c, r->model_off, r->model_len, r->upmodel) < 0) {
		client_error(c, x->cfmt, 503, "server is busy: no memory to "
			     "rewrite the request", NULL);
		release(x);
		return -1;
	}
	if (x->stream && x->gemini_array) {
		sse_init(&x->rsse, SSE_EVENT_MAX);
		x->raw_sse = 1;
	}
	rlog_relay(c->rlog);
	start_attempt(x, 1);
	arm_keepalive(x);
	return x->active ? 0 : -1;
}

int exch_start_hub(struct conn *c, const struct exch_req *r)
{
	struct exch *x = begin(c, r->cfmt, (enum prov_kind)r->prov, r->compat);
	struct hub_req_opts ro;
	struct hub_enc_opts eo;
	char err[256];

	if (!x)
		return -1;
	x->hub = 1;
	x->stream = r->stream;
	x->gemini_array = r->gemini_array;
	x->gemini_cli = r->gemini_cli;
	snprintf(x->model, sizeof(x->model), "%s", r->model);
	snprintf(x->upmodel, sizeof(x->upmodel), "%s", r->upmodel);
	if (r->anthropic_beta && r->cfmt == HUB_CLAUDE)
		snprintf(x->beta, sizeof(x->beta), "%s", r->anthropic_beta);

	memset(&ro, 0, sizeof(ro));
	ro.model = x->upmodel;
	ro.stream = x->stream;
	err[0] = '\0';
	if (hub_codec_for(x->ufmt)->encode_request(r->view, &ro, &x->upbody,
						   err, sizeof(err)) < 0 ||
	    x->upbody.overflow) {
		client_error(c, x->cfmt, 400, err[0] ? err : "request cannot be "
			     "translated", NULL);
		release(x);
		return -1;
	}
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
	if (charge(x) < 0) {
		client_error(c, x->cfmt, 503, "server is busy: too much request "
			     "data in flight, retry shortly",
			     "Retry-After: 1\r\n");
		release(x);
		return -1;
	}
	memset(&eo, 0, sizeof(eo));
	eo.stream = x->stream;
	eo.model = x->model;
	eo.created = x->t0;
	eo.seed = (uint32_t)(x->t0 ^ (long long)c->gen);
	eo.gemini_cli = x->gemini_cli;
	eo.req = NULL; /* the view does not outlive the request's start */
	x->eo = eo; /* reset_decoding (each attempt) initialises from it */

	start_attempt(x, 1);
	arm_keepalive(x);
	return x->active ? 0 : -1;
}

int exch_start_count(struct conn *c, const struct exch_req *r)
{
	struct exch *x = begin(c, r->cfmt, (enum prov_kind)r->prov, r->compat);
	struct hub_req_opts ro;
	char err[256];

	if (!x)
		return -1;
	x->hub = 1;
	x->count = 1;
	snprintf(x->model, sizeof(x->model), "%s", r->model);
	snprintf(x->upmodel, sizeof(x->upmodel), "%s", r->upmodel);
	memset(&ro, 0, sizeof(ro));
	ro.model = x->upmodel;
	err[0] = '\0';
	if (x->ufmt == HUB_GEMINI) {
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
	start_attempt(x, 1);
	return x->active ? 0 : -1;
bad:
	client_error(c, x->cfmt, 400, err[0] ? err : "request cannot be "
		     "translated", NULL);
	release(x);
	return -1;
}

/* The client went away: close the upstream, forget everything. */
static void on_client_gone(void *owner)
{
	release(owner);
}

/* The client's output drained below the high-water mark. */
static void on_drained(void *owner)
{
	struct exch *x = owner;
	if (x->paused && x->hc) {
		x->paused = 0;
		hc_resume(x->hc);
	}
}

static const struct conn_dispatch exch_dispatch = {on_drained,
						   on_client_gone};
