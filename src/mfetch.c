/*
 * mfetch.c - model-list fetches (see mfetch.h).
 *
 * Each entry is idle (h NULL, next_at says when it is due) or fetching
 * (h set, its request in pc, the answer growing in body).  One timer
 * stands for the earliest due idle entry; it is not armed while
 * MFETCH_AT_ONCE fetches run, and each fetch that ends re-arms it.
 *
 *   sync(route) --> entry (new: due now) --tick--> start --hc--> end
 *                     ^                                          |
 *                     +---- next_at = now + interval / back-off -+
 *                                      list changed: defer changed()
 */
#include "mfetch.h"

#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "cfg.h"
#include "fmt.h"
#include "hc.h"
#include "log.h"
#include "mlist.h"
#include "prov.h"
#include "sizes.h"

struct mfetch_cred {
	struct mfetch_cred *next;
	struct mfetch *m;
	const struct route_cred *c; /* in m->r */
	unsigned nth;               /* keys: place among its kind's keys
				       (how the log names it) */
	struct mlist *list;         /* the last good answer, or NULL */
	int64_t next_at;            /* loop ms; when idle */
	int fails;                  /* in a row */
	int seen;                   /* sync mark */
	struct hc *h;               /* the fetch in flight */
	struct prov_call pc;        /* its request */
	struct buf body;            /* its answer */
	int status;
};

static const struct hc_ops fetch_ops;

static int64_t interval(const struct mfetch *m)
{
	return m->r->cfg->model_list_refresh_ms;
}

static int streq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Are a and b the same credential?  An account is itself; a key is its
 * kind, key, base URL and proxy (whichever config they came from). */
static int same_cred(const struct route_cred *a, const struct route_cred *b)
{
	if (a->prov != b->prov || !a->acct != !b->acct)
		return 0;
	if (a->acct)
		return a->acct == b->acct;
	return streq(a->key.key, b->key.key) &&
	       streq(a->key.base_url, b->key.base_url) &&
	       streq(a->key.proxy_url, b->key.proxy_url);
}

static struct mfetch_cred *find(const struct mfetch *m,
				const struct route_cred *c)
{
	struct mfetch_cred *e;
	for (e = m->list; e; e = e->next)
		if (same_cred(e->c, c))
			return e;
	return NULL;
}

/* How the log names e's credential: an account by its file, a key by
 * its config key and place (never the key itself). */
static const char *name_of(const struct mfetch_cred *e, char *out, size_t n)
{
	if (e->c->acct)
		fmt_snprintf(out, n, "auth-dir %s", e->c->acct->name);
	else
		fmt_snprintf(out, n, "%s %u", e->c->prov == PROV_GEMINI
						 ? "generative-language-api-key"
						 : "claude-api-key",
			     e->nth);
	return out;
}

/* ---- scheduling ------------------------------------------------------------ */

static void schedule(struct mfetch *m)
{
	const struct mfetch_cred *e;
	int64_t at = INT64_MAX;

	for (e = m->list; e && m->inflight < MFETCH_AT_ONCE; e = e->next)
		if (!e->h && e->next_at < at)
			at = e->next_at;
	if (at == INT64_MAX) {
		loop_timer_cancel(m->l, &m->tick);
		return;
	}
	at -= loop_now(m->l);
	loop_timer_set(m->l, &m->tick, at > 0 ? at : 0);
}

static void on_changed(struct loop *l, struct loop_defer *d)
{
	struct mfetch *m = container_of(d, struct mfetch, d);
	(void)l;
	if (m->changed)
		m->changed(m, m->u);
}

/* ---- one fetch's end ---------------------------------------------------------- */

/* The answer was a list: keep it (shared with an equal one), and have
 * the route rebuilt when it differs from the last. */
static void took(struct mfetch_cred *e, struct mlist *l)
{
	struct mfetch *m = e->m;
	const struct mfetch_cred *o;
	char name[300];

	m->fetched++;
	e->fails = 0;
	e->next_at = loop_now(m->l) + interval(m);
	log_debug("models: %s: its upstream lists %zu model(s), %zu left out",
		  name_of(e, name, sizeof(name)), l->n, l->dropped);
	if (mlist_same(e->list, l)) {
		mlist_unref(l);
		return;
	}
	for (o = m->list; o; o = o->next)
		if (o != e && mlist_same(o->list, l)) {
			mlist_unref(l);
			l = mlist_ref(o->list);
			break;
		}
	mlist_unref(e->list);
	e->list = l;
	loop_defer(m->l, &m->d);
}

/* The fetch failed: the list stays; try again after a back-off. */
static void failed(struct mfetch_cred *e, const char *why)
{
	struct mfetch *m = e->m;
	int64_t wait = MFETCH_RETRY_MS;
	char name[300];
	int i;

	for (i = 0; i < e->fails && wait < interval(m); i++)
		wait *= 2;
	if (wait > interval(m))
		wait = interval(m);
	e->next_at = loop_now(m->l) + wait;
	if (e->fails++ == 0)
		log_warn("models: %s: model list not fetched (%s); %s stays",
			 name_of(e, name, sizeof(name)), why,
			 e->list ? "its last list" : "the built-in list");
	else
		log_debug("models: %s: model list not fetched again (%s)",
			  name_of(e, name, sizeof(name)), why);
}

static void end(struct mfetch_cred *e, struct mlist *l, const char *why)
{
	struct mfetch *m = e->m;
	e->h = NULL;
	m->inflight--;
	prov_call_free(&e->pc);
	buf_free(&e->body);
	if (l)
		took(e, l);
	else
		failed(e, why);
	schedule(m);
}

static void f_head(void *owner, const struct http_response *res)
{
	struct mfetch_cred *e = owner;
	e->status = res->status;
}

static int f_body(void *owner, const char *p, size_t n)
{
	struct mfetch_cred *e = owner;
	buf_put(&e->body, p, n); /* past the cap: overflow, checked once */
	return 0;
}

static void f_done(void *owner)
{
	struct mfetch_cred *e = owner;
	char msg[48];
	const char *why = msg;
	struct mlist *l = NULL;

	if (e->status < 200 || e->status > 299) {
		fmt_snprintf(msg, sizeof(msg), "HTTP %d", e->status);
	} else if (e->body.overflow) {
		fmt_snprintf(msg, sizeof(msg), "answer larger than %d KB",
			     MLIST_ANSWER_MAX / 1024);
	} else {
		l = mlist_parse(prov_desc(e->c->prov)->list_fmt,
				e->body.p ? e->body.p : "", e->body.len, &why);
	}
	end(e, l, why);
}

static void f_error(void *owner, int err, const char *msg)
{
	(void)err;
	end(owner, NULL, msg);
}

static const struct hc_ops fetch_ops = {f_head, f_body, f_done, f_error};

/* ---- one fetch's start ---------------------------------------------------------- */

static int min_ms(int a, int b)
{
	return a < b ? a : b;
}

static void start(struct mfetch_cred *e)
{
	struct mfetch *m = e->m;
	const struct route_cred *c = e->c;
	const struct prov_desc *d = prov_desc(c->prov);
	const struct cfg *cfg = m->r->cfg;
	struct hc_timeouts to;
	struct hc_request hr;
	struct prov_key k;
	struct prov_req q;
	const char *err;

	/* an account that cannot be used, or whose token is about to be
	 * refreshed: not now (a refresh is not started for a list) */
	if (c->acct && (!c->acct->usable || c->acct->refused ||
			acct_must_refresh(c->acct))) {
		e->next_at = loop_now(m->l) + MFETCH_RETRY_MS;
		return;
	}
	route_key_of(c, -1, &k);
	memset(&q, 0, sizeof(q));
	q.d = d;
	q.k = &k;
	q.list = 1;
	prov_call_init(&e->pc);
	if ((err = prov_prepare(cfg, m->r->gen, &q, &e->pc)) != NULL) {
		prov_call_free(&e->pc);
		failed(e, err);
		return;
	}
	memset(&hr, 0, sizeof(hr));
	hr.method = d->list_post ? "POST" : "GET";
	hr.path = e->pc.path.p;
	hr.headers = e->pc.headers.p;
	hr.body = d->list_post ? "{}" : NULL;
	hr.body_len = d->list_post ? 2 : 0;
	to.connect_ms = cfg->upstream_connect_timeout_ms;
	to.first_byte_ms = min_ms(cfg->upstream_first_byte_timeout_ms,
				  MFETCH_TIMEOUT_MS);
	to.read_ms = min_ms(cfg->upstream_read_timeout_ms, MFETCH_TIMEOUT_MS);
	to.pool_idle_ms = cfg->upstream_keepalive_timeout_ms;
	buf_init(&e->body, MLIST_ANSWER_MAX);
	e->status = 0;
	e->h = hc_request(m->hc, &e->pc.t, &hr, &fetch_ops, e, &to);
	if (!e->h) { /* every upstream connection busy: later, quietly */
		prov_call_free(&e->pc);
		e->next_at = loop_now(m->l) + MFETCH_RETRY_MS;
		return;
	}
	m->inflight++;
}

static void on_tick(struct loop *l, struct loop_timer *t)
{
	struct mfetch *m = container_of(t, struct mfetch, tick);
	struct mfetch_cred *e;

	for (e = m->list; e && m->inflight < MFETCH_AT_ONCE; e = e->next)
		if (!e->h && e->next_at <= loop_now(l))
			start(e);
	schedule(m);
}

/* ---- the store ------------------------------------------------------------------ */

void mfetch_init(struct mfetch *m, struct loop *l, struct hc_ctx *hc,
		 void (*changed)(struct mfetch *m, void *u), void *u)
{
	memset(m, 0, sizeof(*m));
	m->l = l;
	m->hc = hc;
	m->changed = changed;
	m->u = u;
	m->d.cb = on_changed;
	loop_timer_init(&m->tick, on_tick);
}

static void drop(struct mfetch *m, struct mfetch_cred *e)
{
	if (e->h) {
		hc_abort(e->h);
		m->inflight--;
		prov_call_free(&e->pc);
		buf_free(&e->body);
	}
	mlist_unref(e->list);
	free(e);
}

void mfetch_sync(struct mfetch *m, struct route *r)
{
	unsigned nth[PROV__COUNT];
	struct mfetch_cred *e, **pp, **tail;
	int64_t now = loop_now(m->l), every = r->cfg->model_list_refresh_ms;
	size_t i;

	memset(nth, 0, sizeof(nth));
	for (tail = &m->list; *tail; tail = &(*tail)->next)
		(*tail)->seen = 0;
	for (i = 0; every && i < r->ncreds; i++) {
		const struct route_cred *c = &r->creds[i];
		if (!prov_desc(c->prov)->list)
			continue;
		nth[c->prov]++;
		e = find(m, c);
		if (e && e->seen) /* the same credential twice */
			continue;
		if (!e) {
			if (!(e = calloc(1, sizeof(*e)))) {
				log_error("models: out of memory; a "
					  "credential serves its built-in "
					  "list");
				continue;
			}
			e->m = m;
			e->next_at = now;
			*tail = e;
			tail = &e->next;
		}
		e->c = c;
		e->seen = 1;
		e->nth = nth[c->prov];
		if (!e->h && e->next_at > now + every)
			e->next_at = now + every;
	}
	for (pp = &m->list; *pp;) {
		e = *pp;
		if (!e->seen) {
			*pp = e->next;
			drop(m, e);
		} else {
			pp = &e->next;
		}
	}
	route_ref(r);
	route_unref(m->r);
	m->r = r;
	schedule(m);
}

void mfetch_free(struct mfetch *m)
{
	struct mfetch_cred *e;
	if (m->l) {
		loop_timer_cancel(m->l, &m->tick);
		loop_defer_cancel(m->l, &m->d);
	}
	while ((e = m->list) != NULL) {
		m->list = e->next;
		drop(m, e);
	}
	route_unref(m->r);
	m->r = NULL;
}

static struct mlist *list_of(void *u, const struct route_cred *c)
{
	const struct mfetch_cred *e = find(u, c);
	return e ? e->list : NULL;
}

struct route_lists mfetch_lists(struct mfetch *m)
{
	struct route_lists ls;
	ls.of = list_of;
	ls.u = m;
	return ls;
}
