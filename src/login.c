/*
 * login.c - the OAuth login state machines (login.h).
 *
 * Each step is a function; a step that calls out names the step that
 * reads the answer (call(..., then)), and that one runs from loop_defer
 * once the answer is complete.  fail() and end() end the login; both
 * report through on_done exactly once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "cfg.h"
#include "fmt.h"
#include "hc.h"
#include "json.h"
#include "log.h"
#include "login.h"
#include "prov.h"
#include "url.h"

#define RES_MAX (256 * 1024)        /* largest answer read */
#define ONBOARD_TRIES 30
#define ONBOARD_WAIT_MS 2000
#define DEVICE_MAX_S (15 * 60)      /* a device code lives at most this */

static const struct kind_desc {
	const char *title;
	int port;
	const char *path;
	enum acct_kind ak;
} kinds[LOGIN__COUNT] = {
	[LOGIN_GEMINI_CLI] = {"Gemini CLI", 8085, "/oauth2callback",
			      AK_GEMINI_CLI},
	[LOGIN_CODEX] = {"Codex", 1455, "/auth/callback", AK_CODEX},
	[LOGIN_CODEX_DEVICE] = {"Codex", 0, NULL, AK_CODEX},
	[LOGIN_CLAUDE] = {"Claude", 54545, "/callback", AK_CLAUDE},
	[LOGIN_QWEN] = {"Qwen", 0, NULL, AK_QWEN},
	[LOGIN_ANTIGRAVITY] = {"Antigravity", 51121, "/oauth-callback",
			       AK_ANTIGRAVITY},
};

static const char antigravity_scopes[] =
	"https://www.googleapis.com/auth/cloud-platform "
	"https://www.googleapis.com/auth/userinfo.email "
	"https://www.googleapis.com/auth/userinfo.profile "
	"https://www.googleapis.com/auth/cclog "
	"https://www.googleapis.com/auth/experimentsandconfigs";
static const char codex_scopes[] = "openid email profile offline_access";
static const char claude_scopes[] =
	"user:profile user:inference user:sessions:claude_code "
	"user:mcp_servers user:file_upload";
static const char qwen_scope[] = "openid profile email model.completion";

int login_port(enum login_kind k)
{
	return kinds[k].port;
}

const char *login_path(enum login_kind k)
{
	return kinds[k].path;
}

const char *login_title(enum login_kind k)
{
	return kinds[k].title;
}


static int google(const struct login *lg)
{
	return lg->kind == LOGIN_GEMINI_CLI || lg->kind == LOGIN_ANTIGRAVITY;
}

/* ---- ending ----------------------------------------------------------- */

static void release(struct login *lg)
{
	if (!lg->env.l) /* never started */
		return;
	if (lg->h) {
		hc_abort(lg->h);
		lg->h = NULL;
	}
	loop_timer_cancel(lg->env.l, &lg->poll);
	loop_timer_cancel(lg->env.l, &lg->dead);
	loop_defer_cancel(lg->env.l, &lg->step);
	buf_free(&lg->req);
	buf_free(&lg->res);
	free(lg->acct.access);
	free(lg->acct.refresh);
	free(lg->acct.id_token);
	free(lg->acct.resource_url);
	lg->acct.access = lg->acct.refresh = NULL;
	lg->acct.id_token = lg->acct.resource_url = NULL;
	memset(lg->code, 0, sizeof(lg->code));
	memset(lg->verifier, 0, sizeof(lg->verifier));
	memset(lg->device, 0, sizeof(lg->device));
	lg->waiting = 0;
}

static void end(struct login *lg, enum login_status st)
{
	if (lg->status != LOGIN_PENDING)
		return;
	release(lg);
	lg->status = st;
	if (lg->env.on_done)
		lg->env.on_done(lg);
}

static void fail(struct login *lg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(struct login *lg, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(lg->err, sizeof(lg->err), fmt, ap);
	va_end(ap);
	end(lg, LOGIN_FAILED);
}

void login_cancel(struct login *lg)
{
	release(lg);
	free(lg->url);
	lg->url = NULL;
	if (lg->status == LOGIN_PENDING)
		lg->status = LOGIN_FAILED;
}

/* ---- calls -------------------------------------------------------------- */

static void run_then(struct loop *l, struct loop_defer *d)
{
	struct login *lg = container_of(d, struct login, step);
	void (*fn)(struct login *) = lg->then;
	(void)l;
	lg->then = NULL;
	if (fn && lg->status == LOGIN_PENDING)
		fn(lg);
}

static void later(struct login *lg, void (*fn)(struct login *))
{
	lg->then = fn;
	loop_defer(lg->env.l, &lg->step);
}

static void c_head(void *o, const struct http_response *res)
{
	struct login *lg = o;
	lg->rstatus = res->status;
}

static int c_body(void *o, const char *p, size_t n)
{
	struct login *lg = o;
	buf_put(&lg->res, p, n);
	return 0;
}

static void c_done(void *o)
{
	struct login *lg = o;
	lg->h = NULL;
	if (lg->res.overflow) {
		fail(lg, "the answer of %s was too large", login_title(lg->kind));
		return;
	}
	loop_defer(lg->env.l, &lg->step);
}

static void c_error(void *o, int err, const char *msg)
{
	struct login *lg = o;
	lg->h = NULL;
	fail(lg, "could not reach the sign-in service: %s", msg);
}

static const struct hc_ops call_ops = {c_head, c_body, c_done, c_error};

/*
 * Send method base+suffix (base from [endpoints] ep, or an absolute URL
 * when ep < 0) with the header lines hdrs (each ending in CRLF) and body;
 * then(lg) runs with rstatus and res set.
 */
static void call(struct login *lg, int ep, const char *abs,
		 const char *suffix, const char *method, const char *hdrs,
		 const char *body, size_t blen, void (*then)(struct login *))
{
	const struct cfg *cfg = lg->env.cfg;
	const char *base = ep >= 0 ? cfg->endpoints[ep] : abs;
	struct hc_timeouts to;
	struct hc_request r;
	struct hc_target t;
	char bpath[1024];
	int rc;

	rc = prov_target(base, cfg->proxy_url, &t, bpath, sizeof(bpath));
	if (rc != TG_OK) {
		fail(lg, rc == TG_BAD_PROXY ? "proxy-url is not a valid URL"
		     : "[endpoints] %s is not a valid http(s) URL",
		     ep >= 0 ? cfg_endpoint_name((enum cfg_endpoint)ep)
			     : "address");
		return;
	}
	buf_reset(&lg->req);
	if (bpath[0] != '/')
		buf_putc(&lg->req, '/');
	buf_puts(&lg->req, bpath);
	if (lg->req.len == 1 && suffix[0] == '/')
		lg->req.len = 0;
	buf_puts(&lg->req, suffix);
	lg->path_len = lg->req.len;
	buf_putc(&lg->req, '\0');
	buf_puts(&lg->req, hdrs);
	buf_puts(&lg->req, "Accept: application/json\r\n");
	if (lg->acct.access && google(lg) && lg->phase > 0) {
		buf_puts(&lg->req, "Authorization: Bearer ");
		buf_puts(&lg->req, lg->acct.access);
		buf_puts(&lg->req, "\r\n");
	}
	lg->hdr_len = lg->req.len - lg->path_len - 1;
	buf_putc(&lg->req, '\0');
	buf_put(&lg->req, body, blen);
	if (lg->req.overflow) {
		fail(lg, "a sign-in request was too large");
		return;
	}
	memset(&r, 0, sizeof(r));
	r.method = method;
	r.path = lg->req.p;
	r.headers = lg->req.p + lg->path_len + 1;
	r.body = r.headers + lg->hdr_len + 1;
	r.body_len = blen;
	to.connect_ms = cfg->upstream_connect_timeout_ms;
	to.first_byte_ms = cfg->upstream_first_byte_timeout_ms;
	to.read_ms = cfg->upstream_read_timeout_ms;
	to.pool_idle_ms = cfg->upstream_keepalive_timeout_ms;
	buf_reset(&lg->res);
	lg->rstatus = 0;
	lg->then = then;
	lg->h = hc_request(lg->env.hc, &t, &r, &call_ops, lg, &to);
	if (!lg->h)
		fail(lg, "no upstream connection free");
}

#define FORM "Content-Type: application/x-www-form-urlencoded\r\n"
#define JSONCT "Content-Type: application/json\r\n"

/* The answer as JSON (an object): 0, or -1 after failing the login. */
static int answer(struct login *lg, struct json *j, const char *what)
{
	if (json_parse(j, lg->res.p ? lg->res.p : "", lg->res.len) < 0 ||
	    j->ntok < 1 || j->tok[0].type != JSMN_OBJECT) {
		if (j->tok)
			json_free(j);
		fail(lg, "%s answered %d with no JSON object", what,
		     lg->rstatus);
		return -1;
	}
	return 0;
}

/* String member key of the object at obj into out: 1, else 0 (out ""). */
static int jstr(const struct json *j, int obj, const char *key, char *out,
		size_t cap)
{
	int i = obj >= 0 ? json_get(j, obj, key) : -1;
	out[0] = '\0';
	return i >= 0 && json_text(j, i, out, cap) > 0;
}

static char *jdup(const struct json *j, int obj, const char *key)
{
	char tmp[16384];
	return jstr(j, obj, key, tmp, sizeof(tmp)) ? strdup(tmp) : NULL;
}

static long jlong(const struct json *j, int obj, const char *key, long def)
{
	int i = json_get(j, obj, key);
	char tmp[32];
	if (i < 0)
		return def;
	if (j->tok[i].type == JSMN_STRING) {
		if (json_text(j, i, tmp, sizeof(tmp)) <= 0)
			return def;
	} else if (j->tok[i].type == JSMN_PRIMITIVE && json_len(j, i) < 32) {
		memcpy(tmp, json_ptr(j, i), json_len(j, i));
		tmp[json_len(j, i)] = '\0';
	} else {
		return def;
	}
	return tmp[0] >= '0' && tmp[0] <= '9' ? fmt_strtol(tmp, NULL) : def;
}

/* The OAuth error of a 4xx answer ("error" string, or {"error":{...}}),
 * for messages: only its code, never more of the body. */
static void oauth_error(struct login *lg, char *out, size_t cap)
{
	struct json j;
	int e;
	out[0] = '\0';
	if (json_parse(&j, lg->res.p ? lg->res.p : "", lg->res.len) < 0)
		return;
	if (j.ntok > 0 && j.tok[0].type == JSMN_OBJECT &&
	    (e = json_get(&j, 0, "error")) >= 0) {
		if (j.tok[e].type == JSMN_STRING)
			json_text(&j, e, out, cap);
		else if (j.tok[e].type == JSMN_OBJECT &&
			 !jstr(&j, e, "status", out, cap))
			jstr(&j, e, "type", out, cap);
	}
	json_free(&j);
	for (e = 0; out[e]; e++) /* a short code, nothing else */
		if (!(out[e] == '_' || out[e] == '-' || out[e] == '.' ||
		      (out[e] >= 'a' && out[e] <= 'z') ||
		      (out[e] >= 'A' && out[e] <= 'Z') ||
		      (out[e] >= '0' && out[e] <= '9')) || e > 60) {
			out[0] = '\0';
			break;
		}
}

static void fail_status(struct login *lg, const char *what)
{
	char e[80];
	oauth_error(lg, e, sizeof(e));
	fail(lg, "%s answered %d%s%s", what, lg->rstatus, e[0] ? ": " : "", e);
}

/* ---- the end ------------------------------------------------------------ */

static void save(struct login *lg)
{
	char err[sizeof(lg->err)];
	if (lg->kind == LOGIN_QWEN && lg->env.before_save)
		lg->env.before_save(lg);
	lg->acct.gemini_auto = !lg->project_req[0];
	if (login_file_write(&lg->acct, lg->env.cfg->auth_dir,
			     lg->env.cfg->endpoints[EP_GOOGLE_TOKEN], lg->path,
			     sizeof(lg->path), err, sizeof(err)) < 0)
		fail(lg, "%s", err);
	else
		end(lg, LOGIN_OK);
}

/* ---- Google: token, e-mail, project --------------------------------------- */

static void g_onboard(struct login *lg);
static void g_service(struct login *lg);

static const char *ca_headers(const struct login *lg)
{
	if (lg->kind == LOGIN_ANTIGRAVITY)
		return JSONCT "User-Agent: antigravity/hub/2.9.1 darwin/arm64\r\n";
	return JSONCT "User-Agent: google-api-nodejs-client/9.15.1\r\n"
		      "X-Goog-Api-Client: gl-node/22.17.0\r\n"
		      "Client-Metadata: ideType=IDE_UNSPECIFIED,"
		      "platform=PLATFORM_UNSPECIFIED,pluginType=GEMINI\r\n";
}

static const char *ca_metadata(const struct login *lg)
{
	return lg->kind == LOGIN_ANTIGRAVITY
		? "{\"ideType\":\"ANTIGRAVITY\",\"platform\":"
		  "\"PLATFORM_UNSPECIFIED\",\"pluginType\":\"GEMINI\"}"
		: "{\"ideType\":\"IDE_UNSPECIFIED\",\"platform\":"
		  "\"PLATFORM_UNSPECIFIED\",\"pluginType\":\"GEMINI\"}";
}

static int ca_base(const struct login *lg)
{
	return lg->kind == LOGIN_ANTIGRAVITY ? EP_ANTIGRAVITY : EP_GEMINI_CLI;
}

/* A project given as "id" or {"id": ...}. */
static void project_of(const struct json *j, int i, char *out, size_t cap)
{
	out[0] = '\0';
	if (i < 0)
		return;
	if (j->tok[i].type == JSMN_STRING)
		json_text(j, i, out, cap);
	else if (j->tok[i].type == JSMN_OBJECT)
		jstr(j, i, "id", out, cap);
}

static void g_projects(struct login *lg)
{
	struct json j;
	struct buf b;
	int arr, i, k, n = 0;
	char id[128];

	buf_init(&b, 2048);
	if (lg->rstatus == 200 && answer(lg, &j, "the project list") == 0) {
		arr = json_get(&j, 0, "projects");
		if (arr >= 0 && j.tok[arr].type == JSMN_ARRAY)
			for (i = arr + 1, k = 0; k < j.tok[arr].size;
			     k++, i = json_skip(&j, i))
				if (j.tok[i].type == JSMN_OBJECT &&
				    jstr(&j, i, "projectId", id, sizeof(id)) &&
				    n++ < 8) {
					buf_puts(&b, n > 1 ? ", " : "");
					buf_puts(&b, id);
				}
		json_free(&j);
	}
	if (lg->status != LOGIN_PENDING) {
		buf_free(&b);
		return;
	}
	buf_putc(&b, '\0');
	fail(lg, "Google gave no Code Assist project for %s: run the login "
	     "again with --project_id ID%s%s", lg->acct.email,
	     n ? "; your projects: " : "", n ? b.p : "");
	buf_free(&b);
}

static void g_no_project(struct login *lg)
{
	call(lg, EP_GOOGLE_CLOUD_RESOURCE_MANAGER, NULL, "", "GET", "", "", 0,
	     g_projects);
}

static void g_done_project(struct login *lg)
{
	if (!lg->acct.project[0]) {
		g_no_project(lg);
		return;
	}
	if (lg->kind == LOGIN_GEMINI_CLI)
		g_service(lg);
	else
		save(lg);
}

static void g_onboarded(struct login *lg)
{
	struct json j;
	int done, resp;
	char p[256];

	if (lg->rstatus != 200) {
		fail_status(lg, "onboardUser");
		return;
	}
	if (answer(lg, &j, "onboardUser") < 0)
		return;
	done = json_get(&j, 0, "done");
	resp = json_get(&j, 0, "response");
	done = done >= 0 && json_len(&j, done) == 4 &&
	       !memcmp(json_ptr(&j, done), "true", 4);
	if (done && resp >= 0 && j.tok[resp].type == JSMN_OBJECT) {
		project_of(&j, json_get(&j, resp, "cloudaicompanionProject"),
			   p, sizeof(p));
		if (p[0] && (!lg->project_req[0] ||
			     lg->kind == LOGIN_ANTIGRAVITY))
			fmt_snprintf(lg->acct.project, sizeof(lg->acct.project), "%s", p);
		else if (p[0] && strcmp(p, lg->project_req))
			/* a free tier may put the account elsewhere */
			fmt_snprintf(lg->acct.project, sizeof(lg->acct.project), "%s", p);
	}
	json_free(&j);
	if (done) {
		g_done_project(lg);
		return;
	}
	if (++lg->tries >= ONBOARD_TRIES) {
		fail(lg, "onboardUser did not finish after %d tries",
		     ONBOARD_TRIES);
		return;
	}
	lg->then = g_onboard;
	loop_timer_set(lg->env.l, &lg->poll, ONBOARD_WAIT_MS);
}

static void g_onboard(struct login *lg)
{
	struct buf b;
	buf_init(&b, 4096);
	buf_puts(&b, "{\"tierId\":");
	buf_json_cstr(&b, lg->tier[0] ? lg->tier : "legacy-tier");
	buf_puts(&b, ",\"metadata\":");
	buf_puts(&b, ca_metadata(lg));
	if (lg->acct.project[0] || lg->project_req[0]) {
		buf_puts(&b, ",\"cloudaicompanionProject\":");
		buf_json_cstr(&b, lg->project_req[0] ? lg->project_req
						    : lg->acct.project);
	}
	buf_putc(&b, '}');
	call(lg, ca_base(lg), NULL, "/v1internal:onboardUser", "POST",
	     ca_headers(lg), b.p, b.len, g_onboarded);
	buf_free(&b);
}

static void g_loaded(struct login *lg)
{
	struct json j;
	int tiers, i, k;

	if (lg->rstatus != 200) {
		fail_status(lg, "loadCodeAssist");
		return;
	}
	if (answer(lg, &j, "loadCodeAssist") < 0)
		return;
	project_of(&j, json_get(&j, 0, "cloudaicompanionProject"),
		   lg->acct.project, sizeof(lg->acct.project));
	if (lg->project_req[0])
		fmt_snprintf(lg->acct.project, sizeof(lg->acct.project), "%s",
			     lg->project_req);
	i = json_get(&j, 0, "currentTier");
	lg->current_tier = i >= 0 && j.tok[i].type == JSMN_OBJECT;
	tiers = json_get(&j, 0, "allowedTiers");
	if (tiers >= 0 && j.tok[tiers].type == JSMN_ARRAY)
		for (i = tiers + 1, k = 0; k < j.tok[tiers].size;
		     k++, i = json_skip(&j, i)) {
			int d = j.tok[i].type == JSMN_OBJECT
					? json_get(&j, i, "isDefault") : -1;
			if (d >= 0 && json_len(&j, d) == 4 &&
			    !memcmp(json_ptr(&j, d), "true", 4))
				jstr(&j, i, "id", lg->tier, sizeof(lg->tier));
		}
	json_free(&j);
	if (lg->current_tier && lg->acct.project[0]) {
		g_done_project(lg);
		return;
	}
	lg->tries = 0;
	g_onboard(lg);
}

static void g_load(struct login *lg)
{
	struct buf b;
	buf_init(&b, 1024);
	buf_puts(&b, "{\"metadata\":");
	buf_puts(&b, ca_metadata(lg));
	if (lg->project_req[0]) {
		buf_puts(&b, ",\"cloudaicompanionProject\":");
		buf_json_cstr(&b, lg->project_req);
	}
	buf_putc(&b, '}');
	call(lg, ca_base(lg), NULL, "/v1internal:loadCodeAssist", "POST",
	     ca_headers(lg), b.p, b.len, g_loaded);
	buf_free(&b);
}

static void g_userinfo(struct login *lg)
{
	struct json j;
	if (lg->rstatus != 200) {
		fail_status(lg, "Google's userinfo");
		return;
	}
	if (answer(lg, &j, "Google's userinfo") < 0)
		return;
	jstr(&j, 0, "email", lg->acct.email, sizeof(lg->acct.email));
	json_free(&j);
	if (!lg->acct.email[0]) {
		fail(lg, "Google's userinfo gave no e-mail address");
		return;
	}
	g_load(lg);
}

static void service_path(struct login *lg, struct buf *b, const char *tail)
{
	char enc[512];
	buf_puts(b, "/v1/projects/");
	if (url_encode_segment(lg->acct.project, strlen(lg->acct.project), enc,
			       sizeof(enc)) < 0)
		enc[0] = '\0';
	buf_puts(b, enc);
	buf_puts(b, "/services/cloudaicompanion.googleapis.com");
	buf_puts(b, tail);
	buf_putc(b, '\0');
}

static void g_enabled(struct login *lg)
{
	lg->acct.checked = lg->rstatus == 200;
	if (!lg->acct.checked)
		log_warn("login: could not enable the Gemini for Google Cloud "
			 "API of project %s (answer %d); the account is saved "
			 "unchecked", lg->acct.project, lg->rstatus);
	save(lg);
}

static void g_service_state(struct login *lg)
{
	struct json j;
	char st[32] = "";
	struct buf b;

	if (lg->rstatus == 200 && answer(lg, &j, "serviceusage") == 0) {
		jstr(&j, 0, "state", st, sizeof(st));
		json_free(&j);
	}
	if (lg->status != LOGIN_PENDING)
		return;
	if (!strcmp(st, "ENABLED")) {
		lg->acct.checked = 1;
		save(lg);
		return;
	}
	buf_init(&b, 1024);
	service_path(lg, &b, ":enable");
	call(lg, EP_GOOGLE_SERVICE_USAGE, NULL, b.p, "POST", JSONCT, "{}", 2,
	     g_enabled);
	buf_free(&b);
}

static void g_service(struct login *lg)
{
	struct buf b;
	buf_init(&b, 1024);
	service_path(lg, &b, "");
	call(lg, EP_GOOGLE_SERVICE_USAGE, NULL, b.p, "GET", "", "", 0,
	     g_service_state);
	buf_free(&b);
}

/* ---- token answers ------------------------------------------------------- */

/* Read access/refresh/expires_in; 0, or -1 after failing. */
static int tokens(struct login *lg, struct json *j, const char *what)
{
	if (lg->rstatus != 200) {
		fail_status(lg, what);
		return -1;
	}
	if (answer(lg, j, what) < 0)
		return -1;
	lg->acct.access = jdup(j, 0, "access_token");
	lg->acct.refresh = jdup(j, 0, "refresh_token");
	lg->acct.expires_in = jlong(j, 0, "expires_in", 3600);
	if (!lg->acct.access) {
		json_free(j);
		fail(lg, "%s gave no access token", what);
		return -1;
	}
	return 0;
}

static void g_token(struct login *lg)
{
	struct json j;
	if (tokens(lg, &j, "Google's token endpoint") < 0)
		return;
	json_free(&j);
	lg->phase = 1; /* calls carry the access token from now on */
	call(lg, EP_GOOGLE_USERINFO, NULL, "?alt=json", "GET", "", "", 0,
	     g_userinfo);
}

static void cx_token(struct login *lg)
{
	struct acct_fields f;
	struct json j;
	struct buf t;
	char err[80];

	if (tokens(lg, &j, "OpenAI's token endpoint") < 0)
		return;
	lg->acct.id_token = jdup(&j, 0, "id_token");
	json_free(&j);
	/* the id_token's claims, read as the account store reads them */
	buf_init(&t, 64 * 1024);
	buf_puts(&t, "{\"type\":\"codex\",\"access_token\":\"x\",\"id_token\":");
	buf_json_cstr(&t, lg->acct.id_token ? lg->acct.id_token : "");
	buf_putc(&t, '}');
	if (!t.overflow && acct_parse(t.p, t.len, &f, err, sizeof(err)) == 0) {
		fmt_snprintf(lg->acct.email, sizeof(lg->acct.email), "%s",
			     f.email ? f.email : "");
		fmt_snprintf(lg->acct.account_id, sizeof(lg->acct.account_id), "%s",
			     f.account_id ? f.account_id : "");
		fmt_snprintf(lg->acct.plan, sizeof(lg->acct.plan), "%s",
			     f.plan_type ? f.plan_type : "");
		acct_fields_free(&f);
	}
	buf_free(&t);
	if (!lg->acct.email[0]) {
		fail(lg, "OpenAI's id_token names no e-mail address");
		return;
	}
	save(lg);
}

static void cl_token(struct login *lg)
{
	struct json j;
	int a, o;
	if (tokens(lg, &j, "Claude's token endpoint") < 0)
		return;
	a = json_get(&j, 0, "account");
	o = json_get(&j, 0, "organization");
	if (a >= 0 && j.tok[a].type == JSMN_OBJECT) {
		jstr(&j, a, "email_address", lg->acct.email, sizeof(lg->acct.email));
		jstr(&j, a, "uuid", lg->acct.account_uuid, sizeof(lg->acct.account_uuid));
	}
	if (o >= 0 && j.tok[o].type == JSMN_OBJECT) {
		jstr(&j, o, "uuid", lg->acct.org_uuid, sizeof(lg->acct.org_uuid));
		jstr(&j, o, "name", lg->acct.org_name, sizeof(lg->acct.org_name));
	}
	json_free(&j);
	if (!lg->acct.email[0]) {
		fail(lg, "Claude's token answer names no e-mail address");
		return;
	}
	save(lg);
}

/* ---- exchanging the code ------------------------------------------------- */

static void redirect_uri(const struct login *lg, char *out, size_t cap)
{
	if (lg->kind == LOGIN_CODEX_DEVICE)
		fmt_snprintf(out, cap, "%s/deviceauth/callback",
			     lg->env.cfg->endpoints[EP_OPENAI_AUTH]);
	else
		fmt_snprintf(out, cap, "http://localhost:%d%s", kinds[lg->kind].port,
			     kinds[lg->kind].path);
}

static void exchange(struct login *lg)
{
	enum acct_kind ak = kinds[lg->kind].ak;
	char ru[1200];
	struct buf b;

	redirect_uri(lg, ru, sizeof(ru));
	buf_init(&b, 16 * 1024);
	if (lg->kind == LOGIN_CLAUDE) {
		buf_puts(&b, "{\"grant_type\":\"authorization_code\",\"code\":");
		buf_json_cstr(&b, lg->code);
		buf_puts(&b, ",\"redirect_uri\":");
		buf_json_cstr(&b, ru);
		buf_puts(&b, ",\"client_id\":");
		buf_json_cstr(&b, acct_client_id(ak));
		buf_puts(&b, ",\"code_verifier\":");
		buf_json_cstr(&b, lg->verifier);
		buf_puts(&b, ",\"state\":");
		buf_json_cstr(&b, lg->state);
		buf_putc(&b, '}');
		call(lg, EP_CLAUDE_TOKEN, NULL, "", "POST", JSONCT, b.p, b.len,
		     cl_token);
	} else {
		oauth_param(&b, "grant_type", "authorization_code");
		oauth_param(&b, "code", lg->code);
		oauth_param(&b, "redirect_uri", ru);
		oauth_param(&b, "client_id", acct_client_id(ak));
		if (acct_client_secret(ak))
			oauth_param(&b, "client_secret", acct_client_secret(ak));
		if (!google(lg)) {
			oauth_param(&b, "code_verifier", lg->verifier);
			call(lg, EP_OPENAI_AUTH, NULL, "/oauth/token", "POST",
			     FORM, b.p, b.len, cx_token);
		} else {
			call(lg, EP_GOOGLE_TOKEN, NULL, "", "POST", FORM, b.p,
			     b.len, g_token);
		}
	}
	memset(lg->code, 0, sizeof(lg->code));
	memset(b.p, 0, b.cap);
	buf_free(&b);
}

/* ---- device flows --------------------------------------------------------- */

static void device_wait(struct login *lg, void (*poll)(struct login *))
{
	lg->then = poll;
	loop_timer_set(lg->env.l, &lg->poll, (int64_t)lg->interval_s * 1000);
}

static void qw_poll(struct login *lg);

static void qw_polled(struct login *lg)
{
	struct json j;
	char e[80];

	if (lg->rstatus == 200) {
		if (tokens(lg, &j, "Qwen's token endpoint") < 0)
			return;
		lg->acct.resource_url = jdup(&j, 0, "resource_url");
		json_free(&j);
		save(lg);
		return;
	}
	oauth_error(lg, e, sizeof(e));
	if (!strcmp(e, "authorization_pending")) {
		device_wait(lg, qw_poll);
	} else if (!strcmp(e, "slow_down")) {
		lg->interval_s += 5; /* RFC 8628 3.5 */
		device_wait(lg, qw_poll);
	} else if (!strcmp(e, "expired_token")) {
		fail(lg, "the device code expired before the sign-in was "
		     "approved");
	} else if (!strcmp(e, "access_denied")) {
		fail(lg, "access_denied: the sign-in was refused");
	} else {
		fail_status(lg, "Qwen's token endpoint");
	}
}

static void qw_poll(struct login *lg)
{
	struct buf b;
	buf_init(&b, 8192);
	oauth_param(&b, "grant_type",
		    "urn:ietf:params:oauth:grant-type:device_code");
	oauth_param(&b, "client_id", acct_client_id(AK_QWEN));
	oauth_param(&b, "device_code", lg->device);
	oauth_param(&b, "code_verifier", lg->verifier);
	call(lg, EP_QWEN_AUTH, NULL, "/token", "POST", FORM, b.p, b.len,
	     qw_polled);
	buf_free(&b);
}

static void device_ready(struct login *lg, long expires_s)
{
	if (expires_s <= 0 || expires_s > DEVICE_MAX_S)
		expires_s = expires_s <= 0
				    ? lg->env.cfg->login_timeout_ms / 1000
				    : DEVICE_MAX_S;
	loop_timer_set(lg->env.l, &lg->dead, (int64_t)expires_s * 1000);
	if (lg->interval_s < 1)
		lg->interval_s = 5;
}

static void qw_code(struct login *lg)
{
	struct json j;
	char url[2048];

	if (lg->rstatus != 200) {
		fail_status(lg, "Qwen's device endpoint");
		return;
	}
	if (answer(lg, &j, "Qwen's device endpoint") < 0)
		return;
	jstr(&j, 0, "device_code", lg->device, sizeof(lg->device));
	jstr(&j, 0, "user_code", lg->user_code, sizeof(lg->user_code));
	if (!jstr(&j, 0, "verification_uri_complete", url, sizeof(url)))
		jstr(&j, 0, "verification_uri", url, sizeof(url));
	lg->interval_s = (int)jlong(&j, 0, "interval", 5);
	device_ready(lg, jlong(&j, 0, "expires_in", 0));
	json_free(&j);
	if (!lg->device[0] || strncmp(url, "http", 4) != 0) {
		fail(lg, "Qwen's device endpoint gave no device code or "
		     "address");
		return;
	}
	lg->url = strdup(url);
	if (!lg->url) {
		fail(lg, "out of memory");
		return;
	}
	if (lg->env.on_url)
		lg->env.on_url(lg);
	device_wait(lg, qw_poll);
}

static void cxd_poll(struct login *lg);

static void cxd_polled(struct login *lg)
{
	struct json j;
	if (lg->rstatus == 403 || lg->rstatus == 404) { /* not yet */
		device_wait(lg, cxd_poll);
		return;
	}
	if (lg->rstatus != 200) {
		fail_status(lg, "OpenAI's device endpoint");
		return;
	}
	if (answer(lg, &j, "OpenAI's device endpoint") < 0)
		return;
	jstr(&j, 0, "authorization_code", lg->code, sizeof(lg->code));
	jstr(&j, 0, "code_verifier", lg->verifier, sizeof(lg->verifier));
	json_free(&j);
	if (!lg->code[0] || !lg->verifier[0]) {
		fail(lg, "OpenAI's device endpoint gave no authorization "
		     "code");
		return;
	}
	exchange(lg);
}

static void cxd_poll(struct login *lg)
{
	struct buf b;
	buf_init(&b, 4096);
	buf_puts(&b, "{\"device_auth_id\":");
	buf_json_cstr(&b, lg->device);
	buf_puts(&b, ",\"user_code\":");
	buf_json_cstr(&b, lg->user_code);
	buf_putc(&b, '}');
	call(lg, EP_OPENAI_AUTH, NULL, "/api/accounts/deviceauth/token",
	     "POST", JSONCT, b.p, b.len, cxd_polled);
	buf_free(&b);
}

static void cxd_code(struct login *lg)
{
	struct json j;
	struct buf u;

	if (lg->rstatus != 200) {
		fail_status(lg, "OpenAI's device endpoint");
		return;
	}
	if (answer(lg, &j, "OpenAI's device endpoint") < 0)
		return;
	jstr(&j, 0, "device_auth_id", lg->device, sizeof(lg->device));
	if (!jstr(&j, 0, "user_code", lg->user_code, sizeof(lg->user_code)))
		jstr(&j, 0, "usercode", lg->user_code, sizeof(lg->user_code));
	lg->interval_s = (int)jlong(&j, 0, "interval", 5);
	json_free(&j);
	if (!lg->device[0] || !lg->user_code[0]) {
		fail(lg, "OpenAI's device endpoint gave no device code");
		return;
	}
	buf_init(&u, 2048);
	buf_puts(&u, lg->env.cfg->endpoints[EP_OPENAI_AUTH]);
	buf_puts(&u, "/codex/device");
	buf_putc(&u, '\0');
	lg->url = u.overflow ? NULL : strdup(u.p);
	buf_free(&u);
	if (!lg->url) {
		fail(lg, "out of memory");
		return;
	}
	device_ready(lg, DEVICE_MAX_S);
	if (lg->env.on_url)
		lg->env.on_url(lg);
	device_wait(lg, cxd_poll);
}

/* ---- timers ---------------------------------------------------------------- */

static void on_poll(struct loop *l, struct loop_timer *t)
{
	struct login *lg = container_of(t, struct login, poll);
	(void)l;
	if (lg->then)
		loop_defer(lg->env.l, &lg->step);
}

static void on_dead(struct loop *l, struct loop_timer *t)
{
	struct login *lg = container_of(t, struct login, dead);
	(void)l;
	if (lg->url && (lg->kind == LOGIN_QWEN ||
			lg->kind == LOGIN_CODEX_DEVICE))
		fail(lg, "the device code expired before the sign-in was "
		     "approved");
	else {
		int sec = lg->env.cfg->login_timeout_ms / 1000;
		fail(lg, "login timed out after %d %s with no answer from the "
		     "browser (login-timeout)", sec % 60 ? sec : sec / 60,
		     sec % 60 ? "seconds" : sec == 60 ? "minute" : "minutes");
	}
}

/* ---- start and feed ------------------------------------------------------- */

static int authorize_url(struct login *lg)
{
	const struct cfg *cfg = lg->env.cfg;
	enum acct_kind ak = kinds[lg->kind].ak;
	char ru[256], ch[OAUTH_CHALLENGE_LEN + 1];
	struct buf b;

	redirect_uri(lg, ru, sizeof(ru));
	buf_init(&b, 8192);
	switch (lg->kind) {
	case LOGIN_GEMINI_CLI:
	case LOGIN_ANTIGRAVITY:
		buf_puts(&b, cfg->endpoints[EP_GOOGLE_AUTH]);
		buf_putc(&b, strchr(cfg->endpoints[EP_GOOGLE_AUTH], '?') ? '&'
									 : '?');
		oauth_param(&b, "access_type", "offline");
		oauth_param(&b, "client_id", acct_client_id(ak));
		oauth_param(&b, "prompt", "consent");
		oauth_param(&b, "redirect_uri", ru);
		oauth_param(&b, "response_type", "code");
		oauth_param(&b, "scope", lg->kind == LOGIN_ANTIGRAVITY
				? antigravity_scopes : login_google_scopes);
		oauth_param(&b, "state", lg->state);
		break;
	case LOGIN_CODEX:
		oauth_challenge(lg->verifier, ch);
		buf_puts(&b, cfg->endpoints[EP_OPENAI_AUTH]);
		buf_puts(&b, "/oauth/authorize?");
		oauth_param(&b, "client_id", acct_client_id(ak));
		oauth_param(&b, "response_type", "code");
		oauth_param(&b, "redirect_uri", ru);
		oauth_param(&b, "scope", codex_scopes);
		oauth_param(&b, "state", lg->state);
		oauth_param(&b, "code_challenge", ch);
		oauth_param(&b, "code_challenge_method", "S256");
		oauth_param(&b, "prompt", "login");
		oauth_param(&b, "id_token_add_organizations", "true");
		oauth_param(&b, "codex_cli_simplified_flow", "true");
		break;
	case LOGIN_CLAUDE:
		oauth_challenge(lg->verifier, ch);
		buf_puts(&b, cfg->endpoints[EP_CLAUDE_AUTH]);
		buf_putc(&b, strchr(cfg->endpoints[EP_CLAUDE_AUTH], '?') ? '&'
									 : '?');
		oauth_param(&b, "code", "true");
		oauth_param(&b, "client_id", acct_client_id(ak));
		oauth_param(&b, "response_type", "code");
		oauth_param(&b, "redirect_uri", ru);
		oauth_param(&b, "scope", claude_scopes);
		oauth_param(&b, "code_challenge", ch);
		oauth_param(&b, "code_challenge_method", "S256");
		oauth_param(&b, "state", lg->state);
		break;
	default:
		break;
	}
	buf_putc(&b, '\0');
	lg->url = b.overflow ? NULL : strdup(b.p);
	buf_free(&b);
	return lg->url ? 0 : -1;
}

int login_start(struct login *lg, enum login_kind k,
		const struct login_env *env, const char *project_id)
{
	struct buf b;

	memset(lg, 0, sizeof(*lg));
	lg->kind = k;
	lg->acct.ak = kinds[k].ak;
	lg->env = *env;
	lg->status = LOGIN_PENDING;
	loop_timer_init(&lg->poll, on_poll);
	loop_timer_init(&lg->dead, on_dead);
	lg->step.cb = run_then;
	buf_init(&lg->req, 64 * 1024);
	buf_init(&lg->res, RES_MAX);
	if (project_id)
		fmt_snprintf(lg->project_req, sizeof(lg->project_req), "%s",
			     project_id);
	if (oauth_new_state(lg->state) < 0 ||
	    oauth_new_verifier(lg->verifier) < 0) {
		fmt_snprintf(lg->err, sizeof(lg->err), "no random numbers: %s",
			     strerror(errno));
		login_cancel(lg);
		return -1;
	}
	if (k == LOGIN_QWEN || k == LOGIN_CODEX_DEVICE) {
		buf_init(&b, 4096);
		if (k == LOGIN_QWEN) {
			char ch[OAUTH_CHALLENGE_LEN + 1];
			oauth_challenge(lg->verifier, ch);
			oauth_param(&b, "client_id", acct_client_id(AK_QWEN));
			oauth_param(&b, "scope", qwen_scope);
			oauth_param(&b, "code_challenge", ch);
			oauth_param(&b, "code_challenge_method", "S256");
			call(lg, EP_QWEN_AUTH, NULL, "/device/code", "POST",
			     FORM, b.p, b.len, qw_code);
		} else {
			buf_puts(&b, "{\"client_id\":");
			buf_json_cstr(&b, acct_client_id(AK_CODEX));
			buf_putc(&b, '}');
			call(lg, EP_OPENAI_AUTH, NULL,
			     "/api/accounts/deviceauth/usercode", "POST",
			     JSONCT, b.p, b.len, cxd_code);
		}
		buf_free(&b);
		/* the first poll's deadline until the code says more */
		if (lg->status == LOGIN_PENDING)
			loop_timer_set(lg->env.l, &lg->dead,
			       lg->env.cfg->login_timeout_ms);
		return lg->status == LOGIN_PENDING ? 0 : -1;
	}
	if (authorize_url(lg) < 0) {
		fmt_snprintf(lg->err, sizeof(lg->err), "out of memory");
		login_cancel(lg);
		return -1;
	}
	lg->waiting = 1;
	loop_timer_set(lg->env.l, &lg->dead,
			       lg->env.cfg->login_timeout_ms);
	return 0;
}

int login_feed(struct login *lg, const struct oauth_reply *r, char *why,
	       size_t cap)
{
	if (lg->status != LOGIN_PENDING || !lg->waiting) {
		fmt_snprintf(why, cap, "oauth flow is not pending");
		return -1;
	}
	if (!r->has_state) { /* cannot be checked: not taken, no harm */
		fmt_snprintf(why, cap, "the reply holds no state");
		return -1;
	}
	if (strcmp(r->state, lg->state) != 0) {
		fmt_snprintf(why, cap, "state mismatch: the reply belongs to "
			     "another sign-in");
		fail(lg, "%s", why);
		return -1;
	}
	lg->waiting = 0;
	if (r->has_error) {
		if (!strcmp(r->error, "access_denied"))
			fail(lg, "access_denied: the sign-in was refused");
		else
			fail(lg, "the provider answered an error (%.60s)",
			     r->error);
		return 0;
	}
	if (!r->has_code) {
		fmt_snprintf(why, cap, "the reply holds no code");
		fail(lg, "%s", why);
		return -1;
	}
	fmt_snprintf(lg->code, sizeof(lg->code), "%s", r->code);
	later(lg, exchange);
	return 0;
}
