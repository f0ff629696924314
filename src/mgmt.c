/*
 * mgmt.c - /v0/management: the key check and the logins (mgmt.h).
 *
 * One management state per process (the server is one per process):
 * the login sessions, the callback listener of each login kind, the
 * failure counts per address, and the accepted-key cache.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bcrypt.h"
#include "bearssl.h"
#include "buf.h"
#include "cbsrv.h"
#include "cfg.h"
#include "fmt.h"
#include "json.h"
#include "log.h"
#include "login.h"
#include "mgmt.h"
#include "route.h"
#include "srv.h"

#define PREFIX "/v0/management"
#define SESSIONS 8
#define KEEP_DONE_MS (5 * 60 * 1000)   /* a finished login's status */
#define BANS 64
#define BAN_FAILS 5
#define BAN_MS (30 * 60 * 1000)
#define CACHE 8
#define SLOW_FAILS_PER_MIN 20          /* failed bcrypt checks, all peers */
#define VERIFY_QUEUE 4                 /* keys being checked at once */
#define VERIFY_ROUNDS 16               /* bcrypt round pairs per loop turn
					  (~1 ms on a 2 GHz x86); the next
					  turn's slice is a 1 ms timer (a
					  0 ms one fires again at once, in
					  the same turn, before any I/O) */
#define VERIFY_KEEP_MS 30000           /* a check nobody claimed */

struct sess {
	int used;
	struct login lg;
	struct route *route;    /* holds the config the login reads */
	int64_t done_at;
	struct conn *wc;        /* a qwen-auth-url waiting for its address */
	unsigned wgen;
};

/* A key being checked by bcrypt, a few round pairs per loop turn, so a
 * slow router CPU never stalls the loop for a whole check.  Started when
 * the head is read; the request waits for it once its body is in. */
struct verify {
	int used, done, ok, waiting;
	struct conn *c;
	unsigned gen;
	int64_t at;
	unsigned char mac[32];
	char addr[64];
	struct bcrypt_job job;
};

struct ban {
	char addr[64];
	int fails;
	int64_t until, last;
};

static struct mgmt {
	struct srv *s;
	struct sess *sess[SESSIONS];      /* allocated while in use, so */
	struct cbsrv *cb[LOGIN__COUNT];   /* an idle server holds none */
	struct loop_defer tidy;    /* close listeners nobody waits on */
	struct ban bans[BANS];
	unsigned char cache[CACHE][32];
	int ncache, next_cache;
	unsigned char cache_of[32]; /* the secret the cache belongs to */
	unsigned char hkey[32];
	int hkey_set;
	int64_t slow_window;
	int slow_fails;
	struct verify *vq[VERIFY_QUEUE];
	struct loop_timer vt;
} M;

int mgmt_is_path(const struct conn *c)
{
	const struct http_request *r = &c->req;
	size_t n = http_path_len(r), pl = sizeof(PREFIX) - 1;
	return n >= pl && !memcmp(r->target, PREFIX, pl) &&
	       (n == pl || r->target[pl] == '/');
}

static void reply(struct conn *c, int status, struct buf *b)
{
	if (b->overflow) {
		static const char oom[] = "{\"error\":\"answer too large\"}";
		conn_respond(c, 500, "application/json", NULL, oom,
			     sizeof(oom) - 1);
		return;
	}
	conn_respond(c, status, "application/json",
		     "Cache-Control: no-store\r\n", b->p ? b->p : "", b->len);
}

/* {"error": msg} (kind NULL) or {"status":"error","error": msg}. */
static void reply_err(struct conn *c, int status, int with_status,
		      const char *msg)
{
	struct buf b;
	buf_init(&b, 1024);
	buf_puts(&b, with_status ? "{\"status\":\"error\",\"error\":"
				 : "{\"error\":");
	buf_json_cstr(&b, msg);
	buf_puts(&b, "}");
	reply(c, status, &b);
	buf_free(&b);
}

/* ---- the key -------------------------------------------------------------- */

static const char *env_password(void)
{
	const char *p = getenv("MANAGEMENT_PASSWORD");
	return p && *p ? p : NULL;
}

static int enabled(const struct cfg *cfg)
{
	return (cfg->rm_secret_key && *cfg->rm_secret_key) || env_password();
}

/* The address part of "1.2.3.4:port" / "[::1]:port". */
static void peer_addr(const struct conn *c, char *out, size_t cap)
{
	const char *p = c->peer, *e;
	if (p[0] == '[' && (e = strchr(p, ']')) != NULL)
		fmt_snprintf(out, cap, "%.*s", (int)(e - p - 1), p + 1);
	else if ((e = strrchr(p, ':')) != NULL)
		fmt_snprintf(out, cap, "%.*s", (int)(e - p), p);
	else
		fmt_snprintf(out, cap, "%s", p);
}

static struct ban *ban_of(const char *addr, int64_t now, int make)
{
	struct ban *b, *oldest = NULL;
	int i;
	for (i = 0; i < BANS; i++) {
		b = &M.bans[i];
		if (b->addr[0] && !strcmp(b->addr, addr))
			return b;
		if (!oldest || (!b->addr[0] && oldest->addr[0]) ||
		    (b->addr[0] && oldest->addr[0] && b->until < now &&
		     b->last < oldest->last))
			oldest = b;
	}
	if (!make)
		return NULL;
	/* a full table reuses the least recent address not banned */
	if (oldest->addr[0] && oldest->until > now)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	fmt_snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
	return oldest;
}

static void mac(const char *key, size_t n, unsigned char out[32])
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	if (!M.hkey_set) {
		if (oauth_random(M.hkey, sizeof(M.hkey)) < 0)
			memset(M.hkey, 0x5a, sizeof(M.hkey)); /* still keyed */
		M.hkey_set = 1;
	}
	br_hmac_key_init(&kc, &br_sha256_vtable, M.hkey, sizeof(M.hkey));
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, key, n);
	br_hmac_out(&hc, out);
}

static int cache_has(const unsigned char m[32])
{
	unsigned char d = 1;
	int i, j, hit = 0;
	for (i = 0; i < M.ncache; i++) {
		d = 0;
		for (j = 0; j < 32; j++)
			d |= M.cache[i][j] ^ m[j];
		hit |= d == 0;
	}
	return hit;
}

/* The cache belongs to one secret: a new secret empties it. */
static void cache_check_secret(const char *secret)
{
	unsigned char m[32];
	mac(secret ? secret : "", secret ? strlen(secret) : 0, m);
	if (memcmp(m, M.cache_of, 32) != 0) {
		memset(M.cache, 0, sizeof(M.cache));
		M.ncache = M.next_cache = 0;
		memcpy(M.cache_of, m, 32);
	}
}

static void cache_put(const unsigned char m[32])
{
	memcpy(M.cache[M.next_cache], m, 32);
	M.next_cache = (M.next_cache + 1) % CACHE;
	if (M.ncache < CACHE)
		M.ncache++;
}

/* 1 the key is right, 0 wrong, 2 a bcrypt check must tell (m holds the
 * key's HMAC then). */
static int key_ok(const struct cfg *cfg, const char *k, size_t n,
		  unsigned char m[32])
{
	const char *env = env_password();
	const char *sec = cfg->rm_secret_key;
	int ok = 0;

	cache_check_secret(sec);
	mac(k, n, m);
	if (cache_has(m))
		return 1;
	if (env && http_secret_eq(k, n, env, strlen(env)))
		ok = 1;
	else if (sec && *sec && bcrypt_is_hash(sec))
		return 2;
	else if (sec && *sec) /* the file could not be rewritten */
		ok = http_secret_eq(k, n, sec, strlen(sec));
	if (ok)
		cache_put(m);
	return ok;
}

/* A failed key from addr: counted, and a ban after BAN_FAILS. */
static void count_failure(const char *addr, int64_t now)
{
	struct ban *b = ban_of(addr, now, 1);
	if (!b)
		return;
	b->last = now;
	if (++b->fails >= BAN_FAILS) {
		b->until = now + BAN_MS;
		b->fails = 0;
		log_warn("management: %s refused for 30 minutes after %d "
			 "failed keys", addr, BAN_FAILS);
	}
}

static void route_request(struct conn *c);

static void v_free(struct verify *v)
{
	int i;
	/* a request waiting on it must not keep v as its answerer (at exit,
	 * the connections are closed after mgmt_free) */
	if (v->waiting && v->c->gen == v->gen && v->c->dsp_owner == v)
		conn_dispatch_set(v->c, NULL, NULL);
	for (i = 0; i < VERIFY_QUEUE; i++)
		if (M.vq[i] == v)
			M.vq[i] = NULL;
	bcrypt_job_wipe(&v->job);
	free(v);
}

/* v's check is over and its request's body is in: count the outcome,
 * let v go, and say whether the key was right. */
static int v_finish(struct verify *v)
{
	struct conn *c = v->c;
	int64_t now = loop_now(&srv_of(c)->loop);
	int ok = v->ok;
	struct ban *b;

	if (ok) {
		cache_put(v->mac);
		if ((b = ban_of(v->addr, now, 0)) != NULL)
			b->fails = 0;
	} else {
		M.slow_fails++;
		count_failure(v->addr, now);
	}
	if (c->dsp_owner == v)
		conn_dispatch_set(c, NULL, NULL);
	v_free(v);
	return ok;
}

static void v_abort(void *owner)
{
	v_free(owner);
}

static const struct conn_dispatch verify_dsp = {NULL, v_abort};

/* Let go of the checks whose client went before its body came (its slot
 * is free or reused), or that nobody claimed for VERIFY_KEEP_MS: they
 * must not hold the queue. */
static void v_sweep(int64_t now)
{
	int i;
	for (i = 0; i < VERIFY_QUEUE; i++) {
		struct verify *w = M.vq[i];
		if (w && !w->waiting &&
		    (w->c->gen != w->gen || w->c->state == CONN_FREE ||
		     now - w->at > VERIFY_KEEP_MS))
			v_free(w);
	}
}

static void v_tick(struct loop *l, struct loop_timer *t)
{
	struct verify *v = NULL;
	int i, more = 0;
	(void)t;

	v_sweep(loop_now(l));
	for (i = 0; i < VERIFY_QUEUE; i++) {
		struct verify *w = M.vq[i];
		if (!w)
			continue;
		if (!w->done && !v)
			v = w;
		else if (!w->done)
			more = 1;
	}
	if (!v)
		return;
	if (bcrypt_job_step(&v->job, VERIFY_ROUNDS)) {
		v->done = 1;
		v->ok = bcrypt_job_result(&v->job);
		if (v->waiting) {
			struct conn *c = v->c;
			if (v_finish(v))
				route_request(c);
			else
				reply_err(c, 401, 0, "invalid management key");
			if (!c->dsp) /* answered now (else a login waits) */
				conn_request_finished(c);
		}
	} else {
		more = 1;
	}
	if (more)
		loop_timer_set(l, &M.vt, 1);
}

/* Queue a bcrypt check of k for c: 0 queued, -1 no room. */
static int v_start(struct conn *c, const char *k, size_t n,
		   const unsigned char m[32], const char *addr)
{
	struct srv *s = srv_of(c);
	int i;
	v_sweep(loop_now(&s->loop));
	for (i = 0; i < VERIFY_QUEUE; i++) {
		struct verify *v;
		if (M.vq[i])
			continue;
		if (!(v = calloc(1, sizeof(*v))))
			return -1;
		if (bcrypt_job_start(&v->job, k, n, s->cfg->rm_secret_key) < 0) {
			bcrypt_job_wipe(&v->job);
			free(v);
			return -1;
		}
		M.vq[i] = v;
		v->used = 1;
		v->c = c;
		v->gen = c->gen;
		v->at = loop_now(&s->loop);
		memcpy(v->mac, m, 32);
		fmt_snprintf(v->addr, sizeof(v->addr), "%s", addr);
		if (!M.vt.cb)
			loop_timer_init(&M.vt, v_tick);
		if (!loop_timer_armed(&M.vt))
			loop_timer_set(&s->loop, &M.vt, 1);
		return 0;
	}
	return -1;
}

static struct verify *v_of(const struct conn *c)
{
	int i;
	for (i = 0; i < VERIFY_QUEUE; i++)
		if (M.vq[i] && M.vq[i]->c == c && M.vq[i]->gen == c->gen)
			return M.vq[i];
	return NULL;
}

int mgmt_head(struct conn *c)
{
	const struct cfg *cfg = srv_of(c)->cfg;
	const struct http_request *r = &c->req;
	const struct http_header *h;
	int64_t now = loop_now(&srv_of(c)->loop);
	const char *k = NULL;
	size_t kn = 0;
	struct ban *b;
	char addr[64], msg[128];
	unsigned char m[32];
	int ok;

	M.s = srv_of(c);
	if (!enabled(cfg))
		return 0; /* answered 404 with the body read */
	if (!conn_peer_is_loopback(c) && !cfg->rm_allow_remote) {
		reply_err(c, 403, 0, "remote management disabled");
		return -1;
	}
	peer_addr(c, addr, sizeof(addr));
	b = ban_of(addr, now, 0);
	if (b && b->until > now) {
		fmt_snprintf(msg, sizeof(msg), "IP banned due to too many failed "
			     "attempts. Try again in %dm",
			     (int)((b->until - now + 59999) / 60000));
		reply_err(c, 403, 0, msg);
		return -1;
	}
	if ((h = http_find_header(r, "authorization", NULL)) != NULL) {
		k = h->value;
		kn = h->value_len;
		if (kn > 7 && http_span_eq(k, 7, "bearer ")) {
			k += 7;
			kn -= 7;
		}
	} else if ((h = http_find_header(r, "x-management-key", NULL))) {
		k = h->value;
		kn = h->value_len;
	}
	ok = kn ? key_ok(cfg, k, kn, m) : 0;
	if (ok == 1) {
		if (b)
			b->fails = 0;
		return 0;
	}
	if (ok == 2) {
		if (now - M.slow_window > 60000) {
			M.slow_window = now;
			M.slow_fails = 0;
		}
		if (M.slow_fails >= SLOW_FAILS_PER_MIN) {
			reply_err(c, 429, 0, "too many failed attempts; try "
				  "again in a minute");
			return -1;
		}
		if (v_start(c, k, kn, m, addr) < 0) {
			reply_err(c, 503, 0, "busy checking other keys; try "
				  "again");
			return -1;
		}
		return 0; /* answered once the check is done (mgmt_handle) */
	}
	count_failure(addr, now);
	reply_err(c, 401, 0, kn ? "invalid management key"
				: "missing management key");
	return -1;
}

/* ---- sessions ----------------------------------------------------------- */

static int waiting_kind(enum login_kind k)
{
	int i;
	for (i = 0; i < SESSIONS; i++)
		if (M.sess[i] && M.sess[i]->lg.kind == k &&
		    M.sess[i]->lg.status == LOGIN_PENDING &&
		    M.sess[i]->lg.waiting)
			return 1;
	return 0;
}

static void tidy(struct loop *l, struct loop_defer *d)
{
	int k;
	(void)l;
	(void)d;
	for (k = 0; k < LOGIN__COUNT; k++)
		if (M.cb[k] && !waiting_kind(k)) {
			cbsrv_close(M.cb[k]);
			free(M.cb[k]);
			M.cb[k] = NULL;
		}
}

static void sess_free(struct sess *ss)
{
	int i;
	if (ss->wc && ss->wc->gen == ss->wgen && ss->wc->dsp_owner == ss)
		conn_dispatch_set(ss->wc, NULL, NULL); /* as in v_free */
	for (i = 0; i < SESSIONS; i++)
		if (M.sess[i] == ss)
			M.sess[i] = NULL;
	login_cancel(&ss->lg);
	route_unref(ss->route);
	free(ss);
}

static struct sess *sess_find(const char *state)
{
	int i;
	for (i = 0; i < SESSIONS; i++)
		if (M.sess[i] && !strcmp(M.sess[i]->lg.state, state))
			return M.sess[i];
	return NULL;
}

/* A new session; finished logins past KEEP_DONE_MS are let go first.
 * NULL when every slot is taken (or out of memory). */
static struct sess *sess_new(int64_t now)
{
	int i, slot = -1;
	for (i = 0; i < SESSIONS; i++) {
		struct sess *ss = M.sess[i];
		if (ss && ss->lg.status != LOGIN_PENDING &&
		    now - ss->done_at > KEEP_DONE_MS)
			sess_free(ss);
		if (!M.sess[i] && slot < 0)
			slot = i;
	}
	if (slot < 0 || !(M.sess[slot] = calloc(1, sizeof(struct sess))))
		return NULL;
	return M.sess[slot];
}

static void answer_url(struct conn *c, struct sess *ss)
{
	struct buf b;
	buf_init(&b, 16 * 1024);
	buf_puts(&b, "{\"status\":\"ok\",\"url\":");
	buf_json_cstr(&b, ss->lg.url ? ss->lg.url : "");
	buf_puts(&b, ",\"state\":");
	buf_json_cstr(&b, ss->lg.state);
	buf_puts(&b, "}");
	reply(c, 200, &b);
	buf_free(&b);
}

static void w_abort(void *owner)
{
	struct sess *ss = owner;
	ss->wc = NULL;
}

static const struct conn_dispatch wait_dsp = {NULL, w_abort};

/* The qwen-auth-url request still waiting gets its answer. */
static void answer_waiter(struct sess *ss)
{
	struct conn *c = ss->wc;
	if (!c || c->gen != ss->wgen)
		return;
	ss->wc = NULL;
	if (ss->lg.url)
		answer_url(c, ss);
	else
		reply_err(c, 502, 1, ss->lg.err[0] ? ss->lg.err
						   : "the login failed");
	conn_request_finished(c);
}

static void on_url(struct login *lg)
{
	answer_waiter(lg->env.user);
}

static void on_done(struct login *lg)
{
	struct sess *ss = lg->env.user;
	ss->done_at = loop_now(lg->env.l);
	if (lg->status == LOGIN_OK) {
		log_info("management login: %s account %s saved as %s",
			 acct_kind_name(lg->acct.ak), lg->acct.email[0] ? lg->acct.email : "-",
			 strrchr(lg->path, '/') ? strrchr(lg->path, '/') + 1
						: lg->path);
		if (M.s)
			srv_rescan(M.s);
	} else {
		log_warn("management login (%s) failed: %s",
			 login_title(lg->kind), lg->err);
	}
	answer_waiter(ss);
	loop_defer(lg->env.l, &M.tidy);
}

static int on_callback(struct cbsrv *cb, const char *q, size_t qn, char *msg,
		       size_t cap)
{
	enum login_kind k = (enum login_kind)(intptr_t)cb->user;
	struct oauth_reply r;
	struct sess *ss;
	char why[160];

	if (oauth_parse_reply(q, qn, &r) < 0 || !r.has_state) {
		fmt_snprintf(msg, cap, "The address holds no sign-in reply.");
		return 0;
	}
	ss = sess_find(r.state);
	if (!ss || ss->lg.kind != k) {
		fmt_snprintf(msg, cap, "This sign-in is unknown or has expired. "
			     "Start it again.");
		return 0;
	}
	if (login_feed(&ss->lg, &r, why, sizeof(why)) < 0) {
		fmt_snprintf(msg, cap, "Not accepted: %s.", why);
		return 0;
	}
	if (r.has_error) {
		fmt_snprintf(msg, cap, "The sign-in was refused.");
		return 0;
	}
	return 1;
}

/* ---- handlers ------------------------------------------------------------ */

static const struct {
	const char *name;
	enum login_kind kind;
} providers[] = {
	{"gemini-cli", LOGIN_GEMINI_CLI}, {"gemini", LOGIN_GEMINI_CLI},
	{"google", LOGIN_GEMINI_CLI},     {"codex", LOGIN_CODEX},
	{"openai", LOGIN_CODEX},          {"anthropic", LOGIN_CLAUDE},
	{"claude", LOGIN_CLAUDE},         {"qwen", LOGIN_QWEN},
	{"antigravity", LOGIN_ANTIGRAVITY},
};

static int provider_of(const char *s, size_t n, enum login_kind *k)
{
	size_t i;
	for (i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (strlen(providers[i].name) == n &&
		    !memcmp(providers[i].name, s, n)) {
			*k = providers[i].kind;
			return 0;
		}
	return -1;
}

static void h_auth_url(struct conn *c, enum login_kind k)
{
	struct srv *s = srv_of(c);
	struct sess *ss;
	struct login_env env;
	char proj[128] = "", err[200];
	int n;

	n = http_query_param(&c->req, "project_id", proj, sizeof(proj));
	if (n > 0 && (k != LOGIN_GEMINI_CLI || !oauth_state_ok(proj, (size_t)n)
		      || (size_t)n != strlen(proj))) {
		reply_err(c, 400, 1, "project_id: letters, digits, '-', '.' "
			  "and '_' only (Gemini CLI logins)");
		return;
	}
	if (!(ss = sess_new(loop_now(&s->loop)))) {
		reply_err(c, 503, 1, "too many logins in progress; finish or "
			  "cancel one first");
		return;
	}
	ss->used = 1;
	ss->route = route_ref(s->route);
	memset(&env, 0, sizeof(env));
	env.l = &s->loop;
	env.hc = &s->hc;
	env.cfg = ss->route->cfg;
	env.on_url = on_url;
	env.on_done = on_done;
	env.user = ss;
	M.tidy.cb = tidy;
	if (login_start(&ss->lg, k, &env, n > 0 ? proj : NULL) < 0) {
		reply_err(c, 500, 1, ss->lg.err);
		sess_free(ss);
		return;
	}
	if (login_port(k) && !M.cb[k] &&
	    (!(M.cb[k] = malloc(sizeof(struct cbsrv))) ||
	     cbsrv_open(M.cb[k], &s->loop, s->cfg->rm_callback_host,
			login_port(k), login_path(k), on_callback,
			(void *)(intptr_t)k, err, sizeof(err)) < 0)) {
		log_warn("management login (%s): %s; finish it with POST "
			 "/v0/management/oauth-callback", login_title(k),
			 M.cb[k] ? err : "out of memory");
		free(M.cb[k]);
		M.cb[k] = NULL;
	}
	if (ss->lg.url) {
		answer_url(c, ss);
		return;
	}
	if (ss->lg.status != LOGIN_PENDING) { /* failed at once */
		reply_err(c, 502, 1, ss->lg.err);
		return;
	}
	ss->wc = c; /* a device flow: the address comes with its code */
	ss->wgen = c->gen;
	conn_dispatch_set(c, &wait_dsp, ss);
}

static int state_param(struct conn *c, char *out, size_t cap)
{
	int n = http_query_param(&c->req, "state", out, cap);
	if (n < 0 || !oauth_state_ok(out, (size_t)n) ||
	    (size_t)n != strlen(out)) {
		reply_err(c, 400, 1, n < 0 ? "state is required"
					   : "invalid state");
		return -1;
	}
	return 0;
}

static void h_status(struct conn *c)
{
	char st[1024]; /* room to see an over-long state */
	struct sess *ss;
	struct buf b;
	if (state_param(c, st, sizeof(st)) < 0)
		return;
	ss = sess_find(st);
	if (!ss) {
		reply_err(c, 200, 1, "unknown or expired state");
		return;
	}
	if (ss->lg.status == LOGIN_FAILED) {
		reply_err(c, 200, 1, ss->lg.err);
		return;
	}
	buf_init(&b, 256);
	buf_puts(&b, ss->lg.status == LOGIN_OK ? "{\"status\":\"ok\"}"
					       : "{\"status\":\"wait\"}");
	reply(c, 200, &b);
	buf_free(&b);
}

static void h_cancel(struct conn *c)
{
	char st[1024]; /* room to see an over-long state */
	struct sess *ss;
	struct buf b;
	if (state_param(c, st, sizeof(st)) < 0)
		return;
	if (!(ss = sess_find(st))) {
		reply_err(c, 404, 1, "unknown or expired state");
		return;
	}
	if (ss->wc && ss->wc->gen == ss->wgen) {
		fmt_snprintf(ss->lg.err, sizeof(ss->lg.err), "cancelled");
		login_cancel(&ss->lg);
		answer_waiter(ss);
	}
	sess_free(ss);
	loop_defer(&srv_of(c)->loop, &M.tidy);
	buf_init(&b, 64);
	buf_puts(&b, "{\"status\":\"ok\"}");
	reply(c, 200, &b);
	buf_free(&b);
}

/* The reply a POST /oauth-callback carries: {"provider", "redirect_url"}
 * or {"provider", "code", "state", "error"}; or the same as a query. */
static int callback_reply(struct conn *c, struct oauth_reply *r,
			  enum login_kind *k, const char **bad)
{
	char prov[32], url[OAUTH_CODE_MAX + 512];
	struct json j;
	int n, i;

	memset(r, 0, sizeof(*r));
	*bad = "a JSON object with provider and redirect_url, or provider, "
	       "code and state";
	if (c->body_len) {
		if (json_parse(&j, c->body, c->body_len) < 0)
			return -1;
		if (j.ntok < 1 || j.tok[0].type != JSMN_OBJECT ||
		    (i = json_get(&j, 0, "provider")) < 0 ||
		    (n = json_text(&j, i, prov, sizeof(prov))) <= 0 ||
		    provider_of(prov, (size_t)n, k) < 0) {
			json_free(&j);
			*bad = "provider: one of anthropic, claude, codex, "
			       "openai, gemini-cli, antigravity, qwen";
			return -1;
		}
		if ((i = json_get(&j, 0, "redirect_url")) >= 0) {
			n = json_text(&j, i, url, sizeof(url));
			json_free(&j);
			if (n <= 0 || oauth_parse_reply(url, (size_t)n, r) < 0) {
				*bad = "redirect_url holds no code or error";
				return -1;
			}
			return 0;
		}
		if ((i = json_get(&j, 0, "code")) >= 0 &&
		    json_text(&j, i, r->code, sizeof(r->code)) > 0)
			r->has_code = 1;
		if ((i = json_get(&j, 0, "state")) >= 0 &&
		    json_text(&j, i, r->state, sizeof(r->state)) > 0)
			r->has_state = 1;
		if ((i = json_get(&j, 0, "error")) >= 0 &&
		    json_text(&j, i, r->error, sizeof(r->error)) > 0)
			r->has_error = 1;
		json_free(&j);
	} else {
		n = http_query_param(&c->req, "provider", prov, sizeof(prov));
		if (n <= 0 || provider_of(prov, (size_t)n, k) < 0)
			return -1;
		if (http_query_param(&c->req, "code", r->code,
				    sizeof(r->code)) > 0)
			r->has_code = 1;
		n = http_query_param(&c->req, "state", url, sizeof(url));
		if (n > OAUTH_STATE_MAX) {
			*bad = "invalid state";
			return -1;
		}
		if (n > 0) {
			memcpy(r->state, url, (size_t)n + 1);
			r->has_state = 1;
		}
		if (http_query_param(&c->req, "error", r->error,
				    sizeof(r->error)) > 0)
			r->has_error = 1;
	}
	if (r->has_code && !r->has_state && strchr(r->code, '#')) {
		char *h = strchr(r->code, '#');
		*h = '\0';
		fmt_snprintf(r->state, sizeof(r->state), "%s", h + 1);
		r->has_state = 1;
	}
	if (!r->has_code && !r->has_error) {
		*bad = "code or error is required";
		return -1;
	}
	return 0;
}

static void h_callback(struct conn *c)
{
	struct oauth_reply r;
	enum login_kind k;
	struct sess *ss;
	const char *bad;
	char why[160];
	struct buf b;

	if (callback_reply(c, &r, &k, &bad) < 0) {
		reply_err(c, 400, 1, bad);
		return;
	}
	if (!r.has_state || !oauth_state_ok(r.state, strlen(r.state))) {
		reply_err(c, 400, 1, r.has_state ? "invalid state"
						 : "state is required");
		return;
	}
	if (k == LOGIN_QWEN) {
		reply_err(c, 400, 1, "qwen logins have no callback: approve the "
			  "code in the browser");
		return;
	}
	ss = sess_find(r.state);
	if (!ss) {
		reply_err(c, 404, 1, "unknown or expired state");
		return;
	}
	if (ss->lg.kind != k && !(k == LOGIN_CODEX &&
				  ss->lg.kind == LOGIN_CODEX_DEVICE)) {
		reply_err(c, 400, 1, "the state belongs to another provider's "
			  "login");
		return;
	}
	if (login_feed(&ss->lg, &r, why, sizeof(why)) < 0) {
		reply_err(c, 409, 1, why);
		return;
	}
	memset(&r, 0, sizeof(r));
	buf_init(&b, 64);
	buf_puts(&b, "{\"status\":\"ok\"}");
	reply(c, 200, &b);
	buf_free(&b);
}

static void route_request(struct conn *c)
{
	const struct http_request *req = &c->req;
	const char *p = req->target + sizeof(PREFIX) - 1;
	size_t n = http_path_len(req) - (sizeof(PREFIX) - 1);
	int get = http_span_eq(req->method, req->method_len, "GET");
	int post = http_span_eq(req->method, req->method_len, "POST");
	int del = http_span_eq(req->method, req->method_len, "DELETE");
	static const char tail[] = "-auth-url";
	const size_t tl = sizeof(tail) - 1;
	enum login_kind k;

	if (n > 1 && p[0] == '/') {
		p++;
		n--;
	}
	if (get && n > tl && !memcmp(p + n - tl, tail, tl) &&
	    provider_of(p, n - tl, &k) == 0 &&
	    (n - tl != 6 || memcmp(p, "claude", 6)) &&
	    (n - tl != 6 || memcmp(p, "openai", 6)) &&
	    (n - tl != 6 || memcmp(p, "google", 6)) &&
	    (n - tl != 6 || memcmp(p, "gemini", 6))) {
		h_auth_url(c, k);
		return;
	}
	if (get && n == 15 && !memcmp(p, "get-auth-status", 15)) {
		h_status(c);
		return;
	}
	if ((get || post) && n == 14 && !memcmp(p, "oauth-callback", 14)) {
		h_callback(c);
		return;
	}
	if (del && n == 13 && !memcmp(p, "oauth-session", 13)) {
		h_cancel(c);
		return;
	}
	reply_err(c, 404, 0, "not found");
}

void mgmt_handle(struct conn *c)
{
	struct verify *v;

	M.s = srv_of(c);
	M.tidy.cb = tidy;
	if (!enabled(c->env->cfg)) {
		reply_err(c, 404, 0, "not found");
		return;
	}
	if ((v = v_of(c)) != NULL) {
		if (!v->done) { /* the key is still being checked */
			v->waiting = 1;
			conn_dispatch_set(c, &verify_dsp, v);
			return;
		}
		if (!v_finish(v)) {
			reply_err(c, 401, 0, "invalid management key");
			return;
		}
	}
	route_request(c);
}

void mgmt_free(void)
{
	int i;
	for (i = 0; i < SESSIONS; i++)
		if (M.sess[i])
			sess_free(M.sess[i]);
	for (i = 0; i < LOGIN__COUNT; i++)
		if (M.cb[i]) {
			cbsrv_close(M.cb[i]);
			free(M.cb[i]);
		}
	if (M.s) {
		loop_defer_cancel(&M.s->loop, &M.tidy);
		loop_timer_cancel(&M.s->loop, &M.vt);
	}
	for (i = 0; i < VERIFY_QUEUE; i++)
		if (M.vq[i])
			v_free(M.vq[i]);
	memset(&M, 0, sizeof(M));
}
