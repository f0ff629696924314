/*
 * acct.c - the account store and token refresh (see acct.h).
 */
#define _GNU_SOURCE
#include "acct.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "fmt.h"
#include "fsx.h"
#include "hc.h"
#include "json.h"
#include "log.h"
#include "models.h"
#include "prov.h"
#include "sizes.h"
#include "url.h"


#define ACCT_ANSWER_MAX (64 * 1024)  /* a token endpoint's answer */

/* ---- what each kind's refresh is --------------------------------------- */

static const struct kind_info {
	long lead_s;            /* refresh this long before expiry */
	int endpoint;           /* enum cfg_endpoint of the token URL */
	const char *path;       /* after the endpoint URL's own path */
	int json;               /* JSON body (Claude), else a form */
	const char *client_id;  /* when the file names none */
	const char *client_secret;
	const char *scope;      /* form scope, or NULL */
} kinds[AK__COUNT] = {
	/* Google's libraries refresh about a minute ahead; five minutes
	 * is the reference's manager lead for Antigravity, used for both
	 * Google kinds. */
	[AK_GEMINI_CLI] = {300, EP_GOOGLE_TOKEN, "", 0,
			   "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j"
			   ".apps.googleusercontent.com",
			   "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", NULL},
	[AK_ANTIGRAVITY] = {300, EP_GOOGLE_TOKEN, "", 0,
			    "1071006060591-tmhssin2h21lcre235vtolojh4g403ep"
			    ".apps.googleusercontent.com",
			    "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", NULL},
	[AK_CODEX] = {5L * 24 * 3600, EP_OPENAI_AUTH, "/oauth/token", 0,
		      "app_EMoamEEZ73f0CkXaXp7hrann", NULL,
		      "openid profile email"},
	[AK_CLAUDE] = {4L * 3600, EP_CLAUDE_TOKEN, "", 1,
		       "9d1c250a-e61b-44d9-88ed-5944d1962f5e", NULL, NULL},
	[AK_QWEN] = {20L * 60, EP_QWEN_AUTH, "/token", 0,
		     "f0304373b74a44d2b584a3fb70ca9e56", NULL, NULL},
};

long acct_refresh_lead(enum acct_kind k)
{
	return kinds[k].lead_s;
}

const char *acct_client_id(enum acct_kind k)
{
	return kinds[k].client_id;
}

const char *acct_client_secret(enum acct_kind k)
{
	return kinds[k].client_secret;
}

/* ---- accounts --------------------------------------------------------------- */

static void free_acct(struct acct *a)
{
	size_t i;
	if (a->rhc)
		hc_abort(a->rhc);
	acct_fields_free(&a->f);
	for (i = 0; i < a->nproj; i++)
		free(a->projects[i]);
	free(a->projects);
	free(a->proj_rest);
	free(a->base);
	free(a->name);
	free(a->path);
	buf_free(&a->rreq);
	buf_free(&a->rbody);
	free(a);
}

struct acct *acct_ref(struct acct *a)
{
	a->refs++;
	return a;
}

void acct_unref(struct acct *a)
{
	if (a && --a->refs == 0)
		free_acct(a);
}

int acct_available(const struct acct *a, int64_t now)
{
	size_t i;
	if (!a->usable || a->refused || a->rest_until > now)
		return 0;
	for (i = 0; i < a->nproj; i++)
		if (a->proj_rest[i] <= now)
			return 1;
	return a->nproj == 0;
}

int64_t acct_available_at(const struct acct *a)
{
	int64_t t = 0;
	size_t i;
	if (a->nproj) {
		t = a->proj_rest[0];
		for (i = 1; i < a->nproj; i++)
			if (a->proj_rest[i] < t)
				t = a->proj_rest[i];
	}
	return a->rest_until > t ? a->rest_until : t;
}

void acct_rest(struct acct *a, int p, int64_t until)
{
	if (p >= 0 && (size_t)p < a->nproj && a->nproj > 1) {
		if (a->proj_rest[p] < until)
			a->proj_rest[p] = until;
	} else if (a->rest_until < until) {
		a->rest_until = until;
	}
}

int acct_pick_project(struct acct *a, int64_t now)
{
	size_t i;
	if (!a->nproj)
		return -1;
	for (i = 0; i < a->nproj; i++) {
		size_t p = (a->proj_cursor + i) % a->nproj;
		if (a->proj_rest[p] <= now) {
			a->proj_cursor = (unsigned)(p + 1);
			return (int)p;
		}
	}
	return -1;
}

int acct_must_refresh(const struct acct *a)
{
	if (!a->f.access_token)
		return 1;
	return a->f.expiry && a->f.expiry - ACCT_MUST_WAIT_S <= (long long)time(NULL);
}

/* Refresh ahead of expiry: the kind's lead, but never more than half the
 * token's life (a provider issuing short tokens would otherwise have
 * them refreshed on every tick). */
static int due(const struct acct *a, long long now)
{
	long lead = kinds[a->f.kind].lead_s;
	if (!a->f.refresh_token)
		return 0;
	/* the file's own interval ("refresh_interval_seconds") */
	if (a->f.refresh_interval_s > 0 && a->f.last_refresh &&
	    now >= a->f.last_refresh + a->f.refresh_interval_s)
		return 1;
	if (!a->f.expiry)
		return 0;
	if (a->f.last_refresh && a->f.expiry > a->f.last_refresh &&
	    (a->f.expiry - a->f.last_refresh) / 2 < lead)
		lead = (long)((a->f.expiry - a->f.last_refresh) / 2);
	return a->f.expiry - lead <= now;
}

/* The base URL the account's calls go to: the file's base_url, else for
 * Qwen https://<resource_url>/v1 (the scheme and /v1 added when the
 * file's value lacks them), else none: the kind's [endpoints] URL. */
static int derive_base(struct acct *a)
{
	const char *r = a->f.resource_url;
	char *nb = NULL;
	size_t n;

	if (a->f.base_url) {
		nb = strdup(a->f.base_url);
	} else if (a->f.kind == AK_QWEN && r && *r) {
		int scheme = !strncmp(r, "http://", 7) ||
			     !strncmp(r, "https://", 8);
		n = strlen(r);
		while (n && r[n - 1] == '/')
			n--;
		if (fmt_asprintf(&nb, "%s%.*s%s", scheme ? "" : "https://", (int)n,
				 r, n >= 3 && !memcmp(r + n - 3, "/v1", 3) ? ""
								       : "/v1") < 0)
			nb = NULL;
	} else {
		free(a->base);
		a->base = NULL;
		return 0;
	}
	if (!nb)
		return -1;
	free(a->base); /* callers copy what they use of it at once */
	a->base = nb;
	return 0;
}

/* Split Gemini's comma-joined project list. */
static int split_projects(struct acct *a)
{
	const char *p = a->f.project_id, *e;
	size_t n = 1, i = 0;

	if (!p || !*p)
		return 0;
	for (e = p; *e; e++)
		n += *e == ',';
	a->projects = calloc(n, sizeof(*a->projects));
	a->proj_rest = calloc(n, sizeof(*a->proj_rest));
	if (!a->projects || !a->proj_rest)
		return -1;
	while (*p) {
		size_t len;
		while (*p == ' ')
			p++;
		e = strchr(p, ',');
		len = e ? (size_t)(e - p) : strlen(p);
		while (len && p[len - 1] == ' ')
			len--;
		if (len && !(a->projects[i++] = strndup(p, len)))
			return -1;
		p += e ? (size_t)(e - p) + 1 : strlen(p);
	}
	a->nproj = i;
	return 0;
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static int same_file(const struct acct *a, const struct stat *st)
{
	return a->dev == st->st_dev && a->ino == st->st_ino &&
	       a->size == st->st_size && a->mtime_ns == mtime_ns(st);
}

static void set_identity(struct acct *a, const struct stat *st)
{
	a->dev = st->st_dev;
	a->ino = st->st_ino;
	a->size = st->st_size;
	a->mtime_ns = mtime_ns(st);
}

/* A new account from path (always returned unless out of memory; an
 * unusable one says why). */
static struct acct *load(const char *dir, const char *name, struct buf *rd)
{
	struct acct *a = calloc(1, sizeof(*a));
	struct buf *b = rd;
	struct stat st;
	char err[120];

	if (!a)
		return NULL;
	a->refs = 1;
	a->name = strdup(name);
	if (!a->name || fmt_asprintf(&a->path, "%s/%s", dir, name) < 0) {
		a->path = NULL;
		free_acct(a);
		return NULL;
	}
	buf_init(&a->rreq, 16 * 1024);
	buf_init(&a->rbody, ACCT_ANSWER_MAX);
	buf_reset(b);
	memset(&st, 0, sizeof(st));
	if (fsx_read_file(a->path, b, &st) < 0) {
		fmt_snprintf(a->why, sizeof(a->why), "cannot be read: %s",
			     errno == EFBIG ? "larger than 256 KB" : strerror(errno));
	} else if (acct_parse(b->p, b->len, &a->f, err, sizeof(err)) < 0) {
		fmt_snprintf(a->why, sizeof(a->why), "%s", err);
	} else if (a->f.disabled) {
		fmt_snprintf(a->why, sizeof(a->why), "\"disabled\": true");
	} else if (split_projects(a) < 0 || derive_base(a) < 0) {
		fmt_snprintf(a->why, sizeof(a->why), "out of memory");
	} else if ((a->f.kind == AK_GEMINI_CLI) && !a->nproj) {
		fmt_snprintf(a->why, sizeof(a->why), "no project_id");
	} else {
		a->usable = 1;
	}
	set_identity(a, &st);
	/* the id token was read for its claims; it is not sent anywhere */
	free(a->f.id_token);
	a->f.id_token = NULL;
	return a;
}

static void log_loaded(const struct acct *a)
{
	char exp[32] = "unknown", models[200];
	const struct model_fixed *t;
	size_t n = 0, k = 0, shown = 0;

	if (!a->usable) {
		log_warn("auth-dir: skipping %s: %s", a->name, a->why);
		return;
	}
	if (!log_debug_on())
		return;
	if (a->f.expiry)
		acct_time_format(a->f.expiry, exp);
	models[0] = '\0';
	for (t = models_table(prov_of_acct(a->f.kind), a->f.plan_type);
	     t && t->id; t++, k++)
		if (n + strlen(t->id) + 6 < sizeof(models)) {
			n += (size_t)fmt_snprintf(models + n, sizeof(models) - n,
						  "%s%s", n ? " " : "", t->id);
			shown++;
		}
	log_debug("auth-dir: loaded %s: %s account%s%s%s%s%s%s, token expires "
		  "%s, %zu models: %s%s", a->name, acct_kind_name(a->f.kind),
		  a->f.email ? " " : "", a->f.email ? a->f.email : "",
		  a->f.project_id ? ", project " : "",
		  a->f.project_id ? a->f.project_id : "",
		  a->f.plan_type ? ", plan " : "",
		  a->f.plan_type ? a->f.plan_type : "", exp, k, models,
		  shown < k ? " ..." : "");
}

/* ---- the store --------------------------------------------------------------- */

static void on_tick(struct loop *l, struct loop_timer *t);

void acct_store_init(struct acct_store *st, struct loop *l,
		     struct hc_ctx *hc, const struct cfg *cfg)
{
	memset(st, 0, sizeof(*st));
	st->l = l;
	st->hc = hc;
	st->cfg = cfg;
	buf_init(&st->rd, ACCT_FILE_MAX);
	loop_timer_init(&st->tick, on_tick);
}

static void drop(struct acct_store *st, struct acct **pp)
{
	struct acct *a = *pp;
	*pp = a->next;
	a->next = NULL;
	a->st = NULL;
	if (a->refreshing)
		st->nrefreshing--;
	acct_unref(a);
}

static void drop_all(struct acct_store *st)
{
	while (st->list)
		drop(st, &st->list);
}

void acct_store_set_cfg(struct acct_store *st, const struct cfg *cfg)
{
	st->cfg = cfg;
}

static int json_name(const char *n)
{
	size_t len = strlen(n);
	return n[0] != '.' && len > 5 && !strcmp(n + len - 5, ".json");
}

int acct_store_scan(struct acct_store *st)
{
	const char *dir = st->cfg->auth_dir;
	struct acct **pp, *a;
	struct dirent *e;
	DIR *d;
	int changed = 0;

	if (!dir || !*dir) {
		changed = st->list != NULL;
		drop_all(st);
		goto out;
	}
	if (!st->dir || strcmp(st->dir, dir)) {
		changed = st->list != NULL;
		drop_all(st);
		free(st->dir);
		st->dir = strdup(dir);
		if (!st->dir)
			return 0;
		if (mkdir(dir, 0700) == 0)
			log_info("auth-dir %s created", dir);
	}
	if (!(d = opendir(dir))) {
		log_warn("auth-dir %s: %s", dir, strerror(errno));
		changed |= st->list != NULL;
		drop_all(st);
		goto out;
	}
	/* mark: every account is seen again or goes */
	for (a = st->list; a; a = a->next)
		a->seen = 0;
	while ((e = readdir(d)) != NULL) {
		struct stat s;
		char path[4096];
		if (!json_name(e->d_name))
			continue;
		if ((size_t)fmt_snprintf(path, sizeof(path), "%s/%s", dir,
					 e->d_name) >= sizeof(path) ||
		    lstat(path, &s) < 0 || !S_ISREG(s.st_mode))
			continue;
		for (pp = &st->list; *pp; pp = &(*pp)->next)
			if (!strcmp((*pp)->name, e->d_name))
				break;
		if (*pp && same_file(*pp, &s)) {
			(*pp)->seen = 1;
			continue;
		}
		if (!(a = load(dir, e->d_name, &st->rd)))
			continue;
		a->st = st;
		a->l = st->l;
		a->seen = 1;
		log_loaded(a);
		if (*pp) {
			/* changed: the new one takes its place */
			changed |= (*pp)->usable || a->usable;
			log_info("auth-dir: %s changed", a->name);
			a->next = (*pp)->next;
			drop(st, pp);
			*pp = a;
		} else {
			changed |= a->usable;
			if (a->usable)
				log_info("auth-dir: added %s (%s)", a->name,
					 acct_kind_name(a->f.kind));
			a->next = st->list;
			st->list = a;
		}
	}
	closedir(d);
	buf_free(&st->rd); /* one read buffer a scan, not one a file */
	for (pp = &st->list; *pp;) {
		if (!(*pp)->seen) {
			changed |= (*pp)->usable;
			log_info("auth-dir: %s removed", (*pp)->name);
			drop(st, pp);
		} else {
			pp = &(*pp)->next;
		}
	}
out:
	if (changed)
		st->gen++;
	if (!loop_timer_armed(&st->tick))
		loop_timer_set(st->l, &st->tick, 1);
	return changed;
}

static void refresh_end(struct acct *a, int ok);

void acct_store_free(struct acct_store *st)
{
	struct acct *a;
	if (st->l)
		loop_timer_cancel(st->l, &st->tick);
	/* a refresh under way ends here, and its hold on the account with
	 * it (the upstream client goes next, without callbacks) */
	for (a = st->list; a; a = a->next)
		if (a->refreshing) {
			loop_defer_cancel(a->l, &a->startd); /* not begun yet */
			if (a->rhc)
				hc_abort(a->rhc);
			refresh_end(a, 0);
		}
	drop_all(st);
	buf_free(&st->rd);
	free(st->dir);
	st->dir = NULL;
}

/* ---- refresh ------------------------------------------------------------------ */

static void wait_fire(struct loop *l, struct loop_defer *d)
{
	struct acct_wait *w = container_of(d, struct acct_wait, d);
	(void)l;
	w->cb(w, w->ok);
}

void acct_wait_cancel(struct acct_wait *w)
{
	struct acct_wait **pp;
	if (w->a)
		for (pp = &w->a->waiters; *pp; pp = &(*pp)->next)
			if (*pp == w) {
				*pp = w->next;
				break;
			}
	if (w->l)
		loop_defer_cancel(w->l, &w->d);
	w->a = NULL;
}

static void enqueue(struct acct *a, struct acct_wait *w)
{
	w->a = a;
	w->l = a->l;
	w->next = a->waiters;
	a->waiters = w;
	w->d.cb = wait_fire;
}

static void form_field(struct buf *b, const char *name, const char *v)
{
	char enc[3 * 4096 + 1];
	int n;
	if (b->len && b->p[b->len - 1] != '\0')
		buf_putc(b, '&');
	buf_puts(b, name);
	buf_putc(b, '=');
	n = url_encode_segment(v, strlen(v), enc, sizeof(enc));
	if (n < 0)
		b->overflow = 1;
	else
		buf_put(b, enc, (size_t)n);
}

/* The refresh request in a->rreq: path \0 headers \0 body.  NULL ok,
 * else why not. */
static const char *build_refresh(struct acct *a, struct hc_target *t)
{
	const struct kind_info *k = &kinds[a->f.kind];
	const struct cfg *cfg = a->st->cfg;
	const char *url = cfg->endpoints[k->endpoint];
	const char *cid = a->f.client_id ? a->f.client_id : k->client_id;
	const char *sec = a->f.client_secret ? a->f.client_secret
					     : k->client_secret;
	char base[1024];
	struct buf *b = &a->rreq;
	int rc;

	rc = prov_target(url, a->f.proxy_url ? a->f.proxy_url : cfg->proxy_url,
			 t, base, sizeof(base));
	if (rc == TG_BAD_PROXY)
		return "proxy-url is not a valid URL";
	if (rc != TG_OK)
		return "[endpoints] token URL is not a valid http(s) URL";
	buf_reset(b);
	buf_puts(b, base[0] ? base : "");
	buf_puts(b, k->path);
	if (!b->len || b->p[0] != '/') {
		buf_reset(b);
		buf_puts(b, "/");
		buf_puts(b, base);
		buf_puts(b, k->path);
	}
	a->rpath_len = b->len;
	buf_putc(b, '\0');
	buf_puts(b, k->json ? "Content-Type: application/json\r\n"
		       : "Content-Type: application/x-www-form-urlencoded\r\n");
	buf_puts(b, "Accept: application/json\r\n");
	a->rhdr_len = b->len - a->rpath_len - 1;
	buf_putc(b, '\0');
	if (k->json) {
		buf_puts(b, "{\"grant_type\":\"refresh_token\",\"refresh_token\":");
		buf_json_cstr(b, a->f.refresh_token);
		buf_puts(b, ",\"client_id\":");
		buf_json_cstr(b, cid);
		buf_putc(b, '}');
	} else {
		form_field(b, "grant_type", "refresh_token");
		form_field(b, "refresh_token", a->f.refresh_token);
		form_field(b, "client_id", cid);
		if (sec)
			form_field(b, "client_secret", sec);
		if (k->scope)
			form_field(b, "scope", k->scope);
	}
	return b->overflow ? "refresh request too large" : NULL;
}

static const struct hc_ops refresh_ops;

static void wake(struct acct *a, int ok)
{
	struct acct_wait *w;
	while ((w = a->waiters) != NULL) {
		a->waiters = w->next;
		w->next = NULL;
		w->ok = ok;
		w->a = NULL;
		loop_defer(a->l, &w->d);
	}
}

static void refresh_end(struct acct *a, int ok);

/* The refresh starts here, after the callback that asked for it (which
 * may be an upstream connection's own). */
static void start_refresh(struct loop *l, struct loop_defer *d)
{
	(void)l;
	struct acct *a = container_of(d, struct acct, startd);
	const struct cfg *cfg;
	struct hc_timeouts to;
	struct hc_request r;
	struct hc_target t;
	const char *why;

	if (!a->st) { /* its file changed or went meanwhile */
		refresh_end(a, 0);
		return;
	}
	cfg = a->st->cfg;
	if ((why = build_refresh(a, &t)) != NULL) {
		log_warn("auth-dir: %s: token refresh impossible: %s", a->name,
			 why);
		a->refresh_fails = 5; /* the longest back-off */
		refresh_end(a, 0);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.path = a->rreq.p;
	r.headers = a->rreq.p + a->rpath_len + 1;
	r.body = r.headers + a->rhdr_len + 1;
	r.body_len = a->rreq.len - (size_t)(r.body - a->rreq.p);
	to.connect_ms = cfg->upstream_connect_timeout_ms;
	to.first_byte_ms = cfg->upstream_first_byte_timeout_ms;
	to.read_ms = cfg->upstream_read_timeout_ms;
	to.pool_idle_ms = cfg->upstream_keepalive_timeout_ms;
	buf_reset(&a->rbody);
	a->rstatus = 0;
	a->rhc = hc_request(a->st->hc, &t, &r, &refresh_ops, a, &to);
	if (!a->rhc) { /* no connection slot free */
		refresh_end(a, 0);
		return;
	}
	log_debug("auth-dir: %s: refreshing the access token", a->name);
}

int acct_refresh(struct acct *a, struct acct_wait *w)
{
	if (!a->st || !a->usable || a->refused || !a->f.refresh_token)
		return -1;
	if (!a->refreshing) {
		if (loop_now(a->l) < a->refresh_after)
			return -1;
		a->refreshing = 1;
		a->st->nrefreshing++;
		acct_ref(a); /* the refresh holds it */
		a->startd.cb = start_refresh;
		loop_defer(a->l, &a->startd);
	}
	if (w)
		enqueue(a, w);
	return 0;
}

/* String member of an answer, or NULL (malloc'd). */
static char *answer_str(const struct json *j, const char *key)
{
	int t = json_get(j, 0, key);
	char *s;
	int n;
	if (t < 0 || j->tok[t].type != JSMN_STRING || !json_len(j, t))
		return NULL;
	if (!(s = malloc(json_len(j, t) + 1)))
		return NULL;
	n = json_unescape(json_ptr(j, t), json_len(j, t), s, json_len(j, t) + 1);
	if (n <= 0 || memchr(s, '\0', (size_t)n)) {
		free(s);
		return NULL;
	}
	s[n] = '\0';
	return s;
}

/* Was this a refusal of the refresh token itself (not worth retrying)? */
static int refused_answer(int status, const char *body, size_t n)
{
	static const char *const words[] = {"invalid_grant",
					    "refresh_token_reused",
					    "refresh_token_expired",
					    "refresh_token_invalidated",
					    "invalid_refresh_token", NULL};
	size_t i;
	if (status != 400 && status != 401 && status != 403)
		return 0;
	for (i = 0; words[i]; i++)
		if (memmem(body, n, words[i], strlen(words[i])))
			return 1;
	return status == 401;
}

/* Patch the new tokens into the file as it is now, and write it.  0 ok
 * (or nothing to write: the file is gone or someone else changed it),
 * -1 the write failed. */
static int persist(struct acct *a, const char *access, const char *refresh,
		   long long expiry, long expires_in, const char *id_token,
		   const char *resource_url)
{
	struct acct_update u[10];
	size_t off[10], nu = 0, i;
	char tm[32];
	struct buf cur, out, vals;
	struct stat st;
	int rc = -1;

	buf_init(&cur, ACCT_FILE_MAX);
	buf_init(&out, ACCT_FILE_MAX + 64 * 1024);
	buf_init(&vals, 64 * 1024);
	if (fsx_read_file(a->path, &cur, &st) < 0) {
		log_warn("auth-dir: %s: gone; new tokens kept in memory only",
			 a->name);
		rc = 0;
		goto done;
	}
	if (!same_file(a, &st)) {
		log_warn("auth-dir: %s was changed by someone else during the "
			 "refresh; the file is left as it is", a->name);
		rc = 0;
		goto done;
	}
	/* values as JSON, each NUL-ended, in vals; pointers taken last */
#define VAL(n) (u[nu].name = (n), off[nu++] = vals.len)
#define END() buf_putc(&vals, '\0')
	VAL("access_token");
	buf_json_cstr(&vals, access);
	END();
	if (refresh) {
		VAL("refresh_token");
		buf_json_cstr(&vals, refresh);
		END();
	}
	VAL(a->f.kind == AK_GEMINI_CLI ? "expiry" : "expired");
	acct_time_format(expiry, tm);
	buf_json_cstr(&vals, tm);
	END();
	VAL("last_refresh");
	acct_time_format((long long)time(NULL), tm);
	buf_json_cstr(&vals, tm);
	END();
	if (a->f.kind == AK_ANTIGRAVITY) {
		VAL("expires_in");
		buf_printf(&vals, "%ld", expires_in);
		END();
		VAL("timestamp");
		buf_printf(&vals, "%lld", (long long)time(NULL) * 1000);
		END();
	}
	if (id_token) {
		VAL("id_token");
		buf_json_cstr(&vals, id_token);
		END();
	}
	if (resource_url) {
		VAL("resource_url");
		buf_json_cstr(&vals, resource_url);
		END();
	}
#undef VAL
#undef END
	if (vals.overflow)
		goto done;
	for (i = 0; i < nu; i++)
		u[i].json = vals.p + off[i];
	if (acct_patch(cur.p, cur.len, u, nu, &out) < 0 || out.overflow) {
		log_warn("auth-dir: %s is no longer a JSON object; the new "
			 "tokens are kept in memory only", a->name);
		rc = 0;
		goto done;
	}
	if (fsx_write_atomic(a->path, out.p, out.len, 0600) < 0) {
		log_error("auth-dir: %s: cannot write the new tokens: %s",
			  a->name, strerror(errno));
		goto done;
	}
	if (stat(a->path, &st) == 0)
		set_identity(a, &st);
	rc = 0;
done:
	buf_free(&cur);
	buf_free(&out);
	buf_free(&vals);
	return rc;
}

static void refresh_end(struct acct *a, int ok)
{
	a->rhc = NULL;
	a->refreshing = 0;
	if (a->st)
		a->st->nrefreshing--;
	buf_reset(&a->rreq);
	if (ok) {
		a->refresh_fails = 0;
		a->refresh_after = 0;
		a->refreshes++;
	} else if (!a->refused && a->st) {
		long s = ACCT_BACKOFF_MIN_S << (a->refresh_fails < 5
							? a->refresh_fails
							: 5);
		if (s > ACCT_BACKOFF_MAX_S)
			s = ACCT_BACKOFF_MAX_S;
		a->refresh_fails++;
		a->refresh_after = loop_now(a->st->l) + s * 1000;
	}
	buf_free(&a->rbody);
	buf_init(&a->rbody, ACCT_ANSWER_MAX);
	wake(a, ok);
	acct_unref(a); /* the refresh's hold */
}

static void finish_refresh(struct acct *a)
{
	struct json j;
	char *access = NULL, *refresh = NULL, *idt = NULL, *res = NULL;
	long expires_in = 3600;
	long long expiry;
	int t, ok = 0;

	if (a->rstatus < 200 || a->rstatus > 299) {
		if (refused_answer(a->rstatus, a->rbody.p, a->rbody.len)) {
			a->refused = 1;
			fmt_snprintf(a->why, sizeof(a->why), "the provider refused "
				     "its refresh token (%d)", a->rstatus);
			log_error("auth-dir: %s: the provider refused the "
				  "refresh token (HTTP %d); the account is "
				  "not used until its file changes (log in "
				  "again)", a->name, a->rstatus);
		} else {
			log_warn("auth-dir: %s: token refresh failed: HTTP %d; "
				 "retrying later", a->name, a->rstatus);
		}
		refresh_end(a, 0);
		return;
	}
	if (json_parse(&j, a->rbody.p, a->rbody.len) < 0 ||
	    j.tok[0].type != JSMN_OBJECT) {
		log_warn("auth-dir: %s: token endpoint answer is not JSON",
			 a->name);
		refresh_end(a, 0);
		return;
	}
	access = answer_str(&j, "access_token");
	refresh = answer_str(&j, "refresh_token");
	idt = answer_str(&j, "id_token");
	res = answer_str(&j, "resource_url");
	t = json_get(&j, 0, "expires_in");
	if (t >= 0 && j.tok[t].type == JSMN_PRIMITIVE) {
		long v = fmt_strtol(json_ptr(&j, t), NULL);
		if (v > 0 && v < 10L * 365 * 86400)
			expires_in = v;
	}
	json_free(&j);
	if (!access) {
		log_warn("auth-dir: %s: token endpoint answer has no "
			 "access_token", a->name);
		goto out;
	}
	expiry = (long long)time(NULL) + expires_in;
	/* On disk first: a rotated refresh token must survive us. */
	if (persist(a, access, refresh, expiry, expires_in, idt, res) < 0)
		log_warn("auth-dir: %s: the new tokens are used but could not "
			 "be saved", a->name);
	free(a->f.access_token);
	a->f.access_token = access;
	access = NULL;
	if (refresh) {
		free(a->f.refresh_token);
		a->f.refresh_token = refresh;
		refresh = NULL;
	}
	if (res) {
		free(a->f.resource_url);
		a->f.resource_url = res;
		res = NULL;
		derive_base(a);
	}
	a->f.expiry = expiry;
	a->f.last_refresh = (long long)time(NULL);
	ok = 1;
	log_info("auth-dir: %s: access token refreshed", a->name);
out:
	free(access);
	free(refresh);
	free(idt);
	free(res);
	refresh_end(a, ok);
}

static void r_head(void *owner, const struct http_response *res)
{
	struct acct *a = owner;
	a->rstatus = res->status;
}

static int r_body(void *owner, const char *p, size_t n)
{
	struct acct *a = owner;
	buf_put(&a->rbody, p, n);
	return 0;
}

static void r_done(void *owner)
{
	struct acct *a = owner;
	a->rhc = NULL;
	if (a->rbody.overflow) {
		log_warn("auth-dir: %s: token endpoint answer too large",
			 a->name);
		refresh_end(a, 0);
		return;
	}
	finish_refresh(a);
}

static void r_error(void *owner, int err, const char *msg)
{
	struct acct *a = owner;
	(void)err;
	a->rhc = NULL;
	log_warn("auth-dir: %s: token refresh failed: %s", a->name, msg);
	refresh_end(a, 0);
}

static const struct hc_ops refresh_ops = {r_head, r_body, r_done, r_error};

/* Background refresh ahead of expiry. */
static void on_tick(struct loop *l, struct loop_timer *t)
{
	struct acct_store *st = container_of(t, struct acct_store, tick);
	long long now = (long long)time(NULL);
	struct acct *a;

	for (a = st->list; a && st->nrefreshing < ACCT_REFRESH_MAX;
	     a = a->next)
		if (a->usable && !a->refused && !a->refreshing &&
		    loop_now(l) >= a->refresh_after && due(a, now))
			acct_refresh(a, NULL);
	loop_timer_set(l, t, ACCT_TICK_MS);
}
