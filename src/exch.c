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
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apierr.h"
#include "cfg.h"
#include "conn.h"
#include "fmt.h"
#include "hc.h"
#include "json.h"
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
	acct_wait_cancel(&x->wait);
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
	return x->attempts <= x->route->cfg->request_retry;
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

/* Upstream error body (non-2xx) -> a message for the client. */
void exch_error_message(const char *body, size_t n, char *out, size_t cap)
{
	struct json j;
	int e, m;

	fmt_snprintf(out, cap, "upstream error");
	if (n == 0 || json_parse(&j, body, n) < 0)  {
		if (n > 0)
			fmt_snprintf(out, cap, "%.*s", (int)(n > 200 ? 200 : n), body);
		return;
	}
	e = json_get(&j, 0, "error");
	m = e >= 0 ? json_get(&j, e, "message") : json_get(&j, 0, "message");
	if (m < 0 && e >= 0 && j.tok[e].type == JSMN_STRING)
		m = e;
	if (m >= 0 && j.tok[m].type == JSMN_STRING) {
		struct hub_span s = hub_tok_span(&j, m);
		if (hub_unescape(s, out, cap) < 0)
			fmt_snprintf(out, cap, "%.*s", (int)(s.n > 200 ? 200 : s.n),
				     s.p);
	}
	json_free(&j);
}

/* ---- upstream callbacks ----------------------------------------------------- */

static struct route_cred *cred_of(const struct exch *x)
{
	return route_cred_at(x->route, x->rm, x->cand);
}

/* Drop the attempt's upstream connection. */
static void drop_hc(struct exch *x)
{
	if (x->hc) {
		hc_abort(x->hc);
		x->hc = NULL;
	}
}

/* Move to the next candidate of the same kind for another attempt.
 * 1 moved (the attempt is on its way), 0 none is left. */
static int next_cand(struct exch *x, int counted)
{
	int j = route_next(x->route, x->rm, x->cand0, x->cand,
			   loop_now(&srv_of(x->c)->loop));
	if (j < 0)
		return 0;
	route_used(x->route, x->rm, j);
	x->cand = j;
	x->refreshed = 0;
	x->fallback = 0;
	drop_hc(x);
	next_attempt(x, counted);
	return 1;
}

/* Candidates of the request's kind, for messages. */
static size_t ncands_of_kind(const struct exch *x)
{
	const struct route_cred *c0 = route_cred_at(x->route, x->rm, x->cand0);
	size_t n = 0;
	uint32_t i;
	for (i = 0; i < x->rm->n; i++) {
		const struct route_cred *c = route_cred_at(x->route, x->rm,
							   (int)i);
		n += c->prov == c0->prov && c->compat == c0->compat;
	}
	return n;
}

/* Every candidate is resting (or none is left): 429, with the earliest
 * time one is back as Retry-After. */
static void all_resting(struct exch *x, const char *up)
{
	int64_t now = loop_now(&srv_of(x->c)->loop), at = 0;
	char msg[700], extra[48];
	long secs;
	uint32_t i;

	for (i = 0; i < x->rm->n; i++) {
		const struct route_cred *c = route_cred_at(x->route, x->rm,
							   (int)i);
		int64_t t = c->acct ? acct_available_at(c->acct) : c->rest_until;
		if (t > now && (!at || t < at))
			at = t;
	}
	secs = at > now ? (long)((at - now + 999) / 1000) : 1;
	fmt_snprintf(msg, sizeof(msg), "%s%s%severy account and key serving model "
		     "'%s' is rate-limited or out of quota (%s answered 429); "
		     "retry in %ld s", up && *up ? "upstream: " : "", up ? up : "",
		     up && *up ? "; " : "", x->model[0] ? x->model : x->upmodel,
		     x->provider, secs);
	fmt_snprintf(extra, sizeof(extra), "Retry-After: %ld\r\n", secs);
	drop_hc(x);
	if (x->started) {
		x->k->late(x, msg);
		return;
	}
	exch_client_error(x->c, x->cfmt, 429, msg, extra);
	exch_finish(x);
}

/* A quota answer (429) was read whole: rest the credential until the
 * reset the upstream gave, and go on with another one at once. */
static void quota_failed(struct exch *x)
{
	struct route_cred *c = cred_of(x);
	int64_t now = loop_now(&srv_of(x->c)->loop);
	int64_t ms = x->reset_ms;
	char up[300];

	x->quota = 0;
	if (!ms)
		ms = apierr_reset_body_ms(x->ubody.p, x->ubody.len);
	if (!ms)
		ms = (int64_t)QUOTA_REST_DEFAULT_S * 1000;
	exch_error_message(x->ubody.p, x->ubody.len, up, sizeof(up));
	buf_reset(&x->ubody);
	if (c->prov == PROV_ANTIGRAVITY && !x->fallback &&
	    !(c->acct && c->acct->base)) {
		/* Antigravity: its other host first, same account */
		x->fallback = 1;
		drop_hc(x);
		next_attempt(x, 0);
		return;
	}
	if (c->acct)
		acct_rest(c->acct, x->proj, now + ms);
	else
		c->rest_until = now + ms;
	log_info("%s: credential rate-limited, resting %lld s", x->provider,
		 (long long)((ms + 999) / 1000));
	if (x->route->cfg->qe_switch_project && next_cand(x, 0))
		return;
	all_resting(x, up);
}

static void on_refreshed(struct acct_wait *w, int ok);

/*
 * An attempt failed (apierr.h classifies, the rule table decides).
 * Returns 1 when handled (another attempt is on its way, or the client
 * was answered), 0 when the upstream's own answer is to be relayed.
 *
 * A refused credential (401, 403) is the operator's, not the client's:
 * passed on as it was, a 401 made clients conclude their own key was
 * wrong (Claude Code asked to log in again).  An account's token is
 * refreshed once and the same account tried again; otherwise the next
 * candidate is tried, and when none is left the client gets a 503
 * (every one refused) or a 502 (a provider without keys), naming the
 * provider and never a key; the upstream's message is not passed on:
 * some quote the key.
 */
static int upstream_failed(struct exch *x, enum upfail f, int status,
			   const char *why)
{
	const struct uprule *r = apierr_rule(f);
	struct route_cred *c = cred_of(x);
	size_t n;
	char msg[400];

	if (why != x->last_err)
		fmt_snprintf(x->last_err, sizeof(x->last_err), "%s", why);
	if (r->act == UA_NEXT && f == UF_AUTH) {
		if (c->acct && status == 401 && !x->refreshed) {
			x->refreshed = 1;
			drop_hc(x);
			if (acct_refresh(c->acct, &x->wait) == 0)
				return 1;
		}
		if (next_cand(x, 0))
			return 1;
		n = ncands_of_kind(x);
		fmt_snprintf(msg, sizeof(msg), "upstream provider '%s' refused "
			     "the proxy's credentials (%d)%s; the proxy's "
			     "configuration needs a valid %s for it", x->provider,
			     status, n > 1 ? " for every configured one" : "",
			     c->acct ? "login" : "key");
		drop_hc(x);
		exch_fail(x, c->key.key || c->acct ? r->status : 502, msg);
		return 1;
	}
	if ((r->act == UA_RETRY || r->act == UA_NEXT) && attempts_left(x)) {
		log_debug("%s: upstream attempt failed (%s), retrying",
			  x->provider, why);
		if (c->prov == PROV_ANTIGRAVITY && !x->fallback &&
		    !(c->acct && c->acct->base) && f != UF_DNS) {
			x->fallback = 1; /* its other host, same account */
			drop_hc(x);
			next_attempt(x, r->counted);
			return 1;
		}
		if (next_cand(x, r->counted))
			return 1;
		drop_hc(x);
		next_attempt(x, r->counted);
		return 1;
	}
	if (!r->status)
		return 0;
	exch_fail(x, r->status, why);
	return 1;
}

/* The account's token was refreshed (ok) or could not be: the same
 * account again, or the next one. */
static void on_refreshed(struct acct_wait *w, int ok)
{
	struct exch *x = container_of(w, struct exch, wait);
	if (ok) {
		x->refreshed = 1;
		start_attempt(x, 0);
		return;
	}
	fmt_snprintf(x->last_err, sizeof(x->last_err), "%s: the account's "
		     "token could not be refreshed", x->provider);
	if (next_cand(x, 0))
		return;
	exch_fail(x, 503, "upstream provider's login could not be "
		  "refreshed (see the proxy's log); log in again or retry "
		  "shortly");
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
		fmt_snprintf(line, sizeof(line), "HTTP/1.%d %d ",
			     res->minor_version, res->status);
		rlog_section(rl, "UPSTREAM RESPONSE", line);
		rlog_body(rl, res->reason, res->reason_len);
		rlog_body(rl, "\n", 1);
		rlog_headers(rl, res->headers, res->num_headers);
	}
	if (res->status >= 400) {
		char why[sizeof(x->provider) + 64];
		enum upfail f = upfail_of_status(res->status);
		if (f == UF_QUOTA) {
			/* read the body for its reset time, then decide */
			x->quota = 1;
			x->reset_ms = apierr_reset_head_ms(res);
			buf_reset(&x->ubody);
			x->ubody.max = ERRBODY_MAX;
			return;
		}
		if (f == UF_AUTH)
			fmt_snprintf(why, sizeof(why), "%s refused the proxy's "
				     "credentials (%d)", x->provider, res->status);
		else
			fmt_snprintf(why, sizeof(why), "%s answered %d",
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
	if (x->quota) {
		buf_put(&x->ubody, p, n);
		x->ubody.overflow = 0; /* the start of it is enough */
		return 0;
	}
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
	if (x->quota) {
		quota_failed(x);
		return;
	}
	x->k->done(x);
}

static void on_error(void *owner, int err, const char *msg)
{
	struct exch *x = owner;

	x->hc = NULL;
	if (x->quota) { /* the 429's body broke off: what we have */
		quota_failed(x);
		return;
	}
	fmt_snprintf(x->last_err, sizeof(x->last_err), "upstream %s: %s",
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
	const struct cfg *cfg = x->route->cfg;
	struct route_cred *cr = cred_of(x);
	const struct route_cand *cd = route_cand_at(x->route, x->rm, x->cand);
	struct hc_timeouts to;
	struct hc_request r;
	struct prov_key k;
	struct prov_req pr;
	const char *err = NULL;

	x->proj = -1;
	if (cr->acct) {
		struct acct *a = cr->acct;
		if (acct_must_refresh(a) && !x->refreshed) {
			/* expired (or about to): wait for a fresh token (once:
			 * a provider giving tokens that expire at once must not
			 * make this a loop) */
			if (acct_refresh(a, &x->wait) == 0)
				return;
			on_refreshed(&x->wait, 0);
			return;
		}
		if (a->nproj &&
		    (x->proj = acct_pick_project(a, loop_now(&srv_of(c)->loop))) < 0) {
			if (!next_cand(x, 0))
				all_resting(x, NULL);
			return;
		}
	}
	route_key_of(cr, x->proj, &k);
	if (x->fallback && !k.base_url)
		k.base_url = cfg->endpoints[EP_ANTIGRAVITY_FALLBACK];
	memset(&pr, 0, sizeof(pr));
	pr.d = prov_desc(cr->prov);
	pr.k = &k;
	pr.upmodel = cd->upstream ? cd->upstream : x->upmodel;
	pr.stream = x->stream || x->force_stream;
	pr.count = x->count;
	pr.completions = x->path_kind;
	pr.beta = x->beta[0] ? x->beta : NULL;
	pr.ua_name = cr->prov == PROV_COMPAT ? x->provider : NULL;
	pr.session = x->session[0] ? x->session : NULL;
	pr.path_tail = x->path_tail[0] ? x->path_tail : NULL;
	memset(&r, 0, sizeof(r));
	if (x->upbody.len) { /* translated */
		r.body = x->upbody.p;
		r.body_len = x->upbody.len;
	} else {
		r.body = c->body;
		r.body_len = c->body_len;
	}
	pr.body = r.body;
	pr.body_len = r.body_len;
	if ((err = prov_prepare(cfg, x->route->gen, &pr, &x->call)) != NULL) {
		exch_fail(x, 500, err);
		return;
	}
	r.pre = x->call.pre.p;
	r.pre_len = x->call.pre.len;
	r.body += x->call.body_skip;
	r.body_len -= x->call.body_skip;
	x->attempts += counted;
	to.connect_ms = cfg->upstream_connect_timeout_ms;
	to.first_byte_ms = cfg->upstream_first_byte_timeout_ms;
	to.read_ms = cfg->upstream_read_timeout_ms;
	to.pool_idle_ms = cfg->upstream_keepalive_timeout_ms;
	r.method = "POST";
	r.path = x->call.path.p;
	r.headers = x->call.headers.p;
	if (x->k->attempt)
		x->k->attempt(x);
	x->upstream_ok = 0;
	x->quota = 0;
	x->reset_ms = 0;
	if (c->rlog) {
		char line[1800];
		fmt_snprintf(line, sizeof(line), "POST %s://%s:%d%s\n",
			     x->call.t.tls ? "https" : "http", x->call.t.host,
			     x->call.t.port, x->call.path.p);
		rlog_section(c->rlog, "UPSTREAM REQUEST", line);
		rlog_head_lines(c->rlog, x->call.headers.p,
				x->call.extra_hdr_off);
		rlog_head_names(c->rlog,
				x->call.headers.p + x->call.extra_hdr_off,
				x->call.headers.len - x->call.extra_hdr_off);
		rlog_section(c->rlog, "UPSTREAM REQUEST BODY", NULL);
		rlog_body(c->rlog, r.pre, r.pre_len);
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
	loop_timer_set(l, &x->ka, (int64_t)x->route->cfg->stream_keepalive_s * 1000);
}

/* The first attempt, and the heartbeat of a stream. */
void exch_go(struct exch *x)
{
	struct conn *c = x->c;
	int s = x->route->cfg->stream_keepalive_s;

	start_attempt(x, 1);
	if (x->active && x->stream && !x->count && s > 0) {
		x->ka_bytes = (uint64_t)-1;
		loop_timer_set(&srv_of(c)->loop, &x->ka, (int64_t)s * 1000);
	}
}

/* ---- starting ---------------------------------------------------------------- */

/* A pool slot for the request on c, answering it from now on; NULL when
 * every slot is busy (answered with a 503). */
struct exch *exch_begin(struct conn *c, int cfmt,
			const struct route_model *rm, int cand,
			const struct exch_kind *k)
{
	struct exch *x = take();
	struct route *route = srv_of(c)->route;
	const struct route_cred *cr = route_cred_at(route, rm, cand);

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
	x->prov = cr->prov;
	x->rm = rm;
	x->cand0 = x->cand = cand;
	x->proj = -1;
	x->ufmt = prov_desc(cr->prov)->wire;
	conn_dispatch_set(c, &exch_dispatch, x);
	exch_copy_str(x->provider, sizeof(x->provider),
		 cr->compat ? cr->compat->name : prov_desc(cr->prov)->name);
	x->model[0] = x->upmodel[0] = x->beta[0] = x->session[0] = '\0';
	x->path_tail[0] = '\0';
	x->last_err[0] = '\0';
	x->ka.slot = -1;
	x->ka.cb = on_keepalive;
	x->retry.cb = on_retry;
	x->wait.cb = on_refreshed;
	x->route = route_ref(route);
	x->compat = cr->compat;
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
