/*
 * exch.c - the exchange core (see exch.h and exch_int.h): the pool, the
 * attempt loop, the budget, the upstream callbacks, heartbeats.  What
 * the answer means for the client is the kind's (exch_relay.c,
 * exch_xlate.c).
 *
 * Attempt loop (as nginx's upstream_next): an attempt picks the
 * provider's next key (round-robin cursor per provider), prov.c builds
 * the call, hc sends it.  While nothing has been sent to the client, a
 * failure may start another attempt, after the callback that saw it;
 * apierr.h classifies failures and its rule table decides (connection
 * failures and 408/500/502/503/504/529 count against request-retry, a
 * refused key or a quota answer moves to the next key without counting).
 *
 * Nothing is allocated per chunk: the buffers grow once to the largest
 * event seen, and everything an exchange holds is charged to the
 * server's body budget (max-body-total).
 */
#define _GNU_SOURCE
#include "exch_int.h"

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
#include "route.h"
#include "srv.h"

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
int exch_charge(struct exch *x)
{
	struct srv *s = srv_of(x->c);
	long now = held(x);
	s->env.body_used += now - x->charged;
	x->charged = now;
	return now > 0 && s->env.body_used > s->cfg->max_body_total ? -1 : 0;
}

/* The exchange is over: the upstream connection (if any) is closed, every
 * buffer freed and uncharged. */
void exch_release(struct exch *x)
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
	route_unref(x->route);
	x->route = NULL;
}

void exch_finish(struct exch *x)
{
	struct conn *c = x->c;
	exch_release(x);
	conn_request_finished(c);
}

void exch_copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* An error in the format of a client of format cfmt. */
void exch_client_error(struct conn *c, int cfmt, int status,
		       const char *msg, const char *extra)
{
	struct buf *b = &srv_of(c)->scratch;
	buf_reset(b);
	apierr_render(b, cfmt, status, msg);
	conn_respond(c, status, "application/json", extra, b->p, b->len);
}

/* Answer with an error in the client's format and end; after the head
 * (a heartbeat may have sent it) the kind ends the answer carrying it. */
void exch_fail(struct exch *x, int status, const char *msg)
{
	if (x->started) {
		x->k->late(x, msg);
		return;
	}
	exch_client_error(x->c, x->cfmt, status, msg, NULL);
	exch_finish(x);
}

/* The upstream sent more than the budget allows: end now, in the
 * client's format, rather than read on. */
void exch_over_budget(struct exch *x)
{
	exch_fail(x, 503, "server is busy: too much data in flight, retry "
		  "shortly");
}

/* The head of a streamed answer, once. */
void exch_stream_head(struct exch *x)
{
	if (x->started)
		return;
	conn_stream_begin(x->c, 200, (x->frame.flags & FRAME_ARRAY)
					     ? "application/json"
					     : "text/event-stream",
			  "Cache-Control: no-cache\r\n", -1);
	x->started = 1;
	if (x->xl_ready)
		x->xl.sent = 1;
}

void exch_write(void *user, const char *p, size_t n)
{
	struct exch *x = user;
	conn_stream_write(x->c, p, n);
}

static int attempts_left(struct exch *x)
{
	return x->attempts <= x->route->cfg.request_retry;
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
		if (f == UF_QUOTA && !x->route->cfg.qe_switch_project)
			return 0;
		nkeys = route_nkeys(x->route, (enum prov_kind)x->prov,
				    x->compat);
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
		exch_fail(x, nkeys > 0 ? r->status : 502, msg);
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
	exch_fail(x, r->status, why);
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
	x->k->head(x, res);
}

static int on_body(void *owner, const char *p, size_t n)
{
	struct exch *x = owner;
	struct conn *c = x->c;

	rlog_stream(c->rlog, RLOG_UPSTREAM, p, n);
	if (x->k->body(x, p, n) < 0)
		return 0;
	if (exch_charge(x) < 0) {
		exch_over_budget(x);
		return 0;
	}
	conn_flush(c);
	x->paused = conn_out_full(c);
	return x->paused;
}

static void on_done(void *owner)
{
	struct exch *x = owner;

	x->hc = NULL;
	x->k->done(x);
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
		x->k->late(x, x->last_err);
		return;
	}
	upstream_failed(x, upfail_of_hc(err), 0, x->last_err);
}

static const struct hc_ops exch_ops = {on_head, on_body, on_done, on_error};

/* ---- attempts ----------------------------------------------------------------- */

static void start_attempt(struct exch *x, int counted)
{
	struct conn *c = x->c;
	const struct cfg *cfg = &x->route->cfg;
	struct hc_timeouts to;
	struct hc_request r;
	struct prov_key k;
	struct prov_req pr;
	const char *err = NULL;
	int st;

	if ((st = route_key(x->route, (enum prov_kind)x->prov, x->compat, &k,
			    &err)) != 0) {
		exch_fail(x, st, err);
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
	if ((err = prov_prepare(cfg, x->route->gen, &pr, &x->call)) !=
	    NULL) {
		exch_fail(x, 500, err);
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
	if (x->upbody.len) { /* translated */
		r.body = x->upbody.p;
		r.body_len = x->upbody.len;
	} else {
		r.body = c->body;
		r.body_len = c->body_len;
	}
	if (x->k->attempt)
		x->k->attempt(x);
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
	x->hc = hc_request(&srv_of(c)->hc, &x->call.t, &r, &exch_ops, x, &to);
	if (!x->hc)
		exch_fail(x, 503, "too many upstream connections in "
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

	if (!x->started && x->k->early_head && !x->xl.early_status) {
		exch_stream_head(x);
		x->ka_bytes = c->stream_bytes; /* and a heartbeat now */
	}
	if (x->started && c->stream_bytes == x->ka_bytes) {
		frame_heartbeat(&x->frame);
		conn_flush(c);
	}
	x->ka_bytes = c->stream_bytes;
	loop_timer_set(l, &x->ka, (int64_t)x->route->cfg.stream_keepalive_s * 1000);
}

/* The first attempt, and the heartbeat of a stream. */
void exch_go(struct exch *x)
{
	struct conn *c = x->c;
	int s = x->route->cfg.stream_keepalive_s;

	start_attempt(x, 1);
	if (x->active && x->stream && !x->count && s > 0) {
		x->ka_bytes = (uint64_t)-1;
		loop_timer_set(&srv_of(c)->loop, &x->ka, (int64_t)s * 1000);
	}
}

/* ---- starting ---------------------------------------------------------------- */

/* A pool slot for the request on c, answering it from now on; NULL when
 * every slot is busy (answered with a 503). */
struct exch *exch_begin(struct conn *c, int cfmt, enum prov_kind prov,
			const struct cfg_compat *compat,
			const struct exch_kind *k)
{
	struct exch *x = take();

	if (!x) {
		exch_client_error(c, cfmt, 503, "server is busy: too many "
				  "requests in flight, retry shortly",
				  "Retry-After: 1\r\n");
		return NULL;
	}
	/* Only the scalars and buffers: the strings are written before
	 * they are read, and the hub state is set up on the hub path. */
	memset(x, 0, offsetof(struct exch, provider));
	x->active = 1;
	x->k = k;
	x->c = c;
	x->cfmt = cfmt;
	x->prov = prov;
	x->ufmt = prov_desc(prov)->wire;
	conn_dispatch_set(c, &exch_dispatch, x);
	exch_copy_str(x->provider, sizeof(x->provider),
		 compat ? compat->name : prov_desc(prov)->name);
	x->model[0] = x->upmodel[0] = x->beta[0] = '\0';
	x->last_err[0] = '\0';
	x->ka.slot = -1;
	x->ka.cb = on_keepalive;
	x->retry.cb = on_retry;
	x->route = route_ref(srv_of(c)->route);
	x->compat = compat;
	x->t0 = (long long)time(NULL);
	prov_call_init(&x->call);
	buf_init(&x->tail, RELAY_TAIL_MAX);
	buf_init(&x->upbody, XLATE_REQUEST_MAX);
	buf_init(&x->ubody, XLATE_ANSWER_MAX);
	return x;
}


/* The client went away: close the upstream, forget everything. */
static void on_client_gone(void *owner)
{
	exch_release(owner);
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
