/*
 * api.c - the request handler srv calls (api_attach): endpoints, client
 * authentication at the head, model lists, and the start of exchanges
 * (the Code Assist relay, /v1internal, is api_ca.c).
 *
 * A request is matched against a small table of (path, exact or prefix,
 * allowed methods, error format, body format, needs auth, handler).  The
 * error format decides how every error of that endpoint is rendered (by
 * apierr), so a Claude client always gets a Claude error object, a Gemini
 * client a Google one, and so on.  Which upstream serves a model is the
 * route snapshot's answer (route.h); the parsed body's tokens and the
 * request view are charged to max-body-total (conn_charge).
 *
 * Response bodies are built in the server's scratch buffer and handed to
 * conn_respond, which copies them behind the head in the connection's
 * output buffer.
 */
#define _GNU_SOURCE
#include "api.h"
#include "api_int.h"
#include "mgmt.h"

#include <string.h>
#include <time.h>

#include "apierr.h"
#include "cfg.h"
#include "conn.h"
#include "exch.h"
#include "fmt.h"
#include "hub.h"
#include "json.h"
#include "models.h"
#include "route.h"
#include "sizes.h"
#include "srv.h"
#include "version.h"

/* ---- errors (rendered by apierr) ---------------------------------------- */

static void respond_error(struct conn *c, enum hub_fmt f, int status,
			  const char *msg, const char *extra)
{
	struct buf *b = &srv_of(c)->scratch;
	buf_reset(b);
	apierr_render(b, (int)f, status, msg);
	conn_respond(c, status, "application/json", extra, b->p, b->len);
}

void api_error(struct conn *c, enum hub_fmt f, int status, const char *msg)
{
	respond_error(c, f, status, msg, NULL);
}

enum hub_fmt api_format_for_path(const char *path, size_t len)
{
	if (len >= 7 && !memcmp(path, "/v1beta", 7))
		return HUB_GEMINI;
	if (len >= 12 && !memcmp(path, "/v1/messages", 12))
		return HUB_CLAUDE;
	/* /v1/models/<model>:generateContent is the Gemini API too. */
	if (len > 11 && !memcmp(path, "/v1/models/", 11) &&
	    memchr(path + 11, ':', len - 11))
		return HUB_GEMINI;
	return HUB_OPENAI;
}

/* ---- helpers --------------------------------------------------------------- */

static void respond_json(struct conn *c, int status, struct buf *b)
{
	if (b->overflow) {
		api_error(c, HUB_OPENAI, 500, "response too large");
		return;
	}
	conn_respond(c, status, "application/json", NULL, b->p, b->len);
}

static int header_is(struct conn *c, const char *name, const char *prefix)
{
	const struct http_header *h = http_find_header(&c->req, name, NULL);
	size_t n = strlen(prefix);
	return h && h->value_len >= n && !memcmp(h->value, prefix, n);
}

/* Path without the query string. */
static int hexv(int ch)
{
	if (ch >= '0' && ch <= '9') return ch - '0';
	if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
	return -1;
}

/* ---- authentication ------------------------------------------------------ */

int api_key_allowed(const struct cfg *cfg, const char *key, size_t len)
{
	int ok = 0;
	size_t i;
	for (i = 0; i < cfg->api_keys.n; i++) {
		const char *k = cfg->api_keys.v[i];
		ok |= http_secret_eq(key, len, k, strlen(k));
	}
	return ok;
}

/* 1 = allowed; otherwise answered with 401 and returns 0. */
static int authenticate(struct conn *c, enum hub_fmt f)
{
	const struct cfg *cfg = srv_of(c)->cfg;
	const struct http_request *r = &c->req;
	static const char *const hdrs[] = {"x-goog-api-key", "x-api-key"};
	const struct http_header *h;
	char qkey[512];
	int seen = 0, ok = 0, n;
	size_t i;

	if (cfg->api_keys.n == 0)
		return 1;
	if (cfg->allow_localhost_unauthenticated && conn_peer_is_loopback(c))
		return 1;
	if ((h = http_find_header(r, "authorization", NULL)) != NULL) {
		const char *v = h->value;
		size_t vl = h->value_len;
		const char *sp = memchr(v, ' ', vl);
		if (sp && (size_t)(sp - v) == 6 && http_span_eq(v, 6, "bearer")) {
			vl -= (size_t)(sp + 1 - v);
			v = sp + 1;
		}
		seen = 1;
		ok |= api_key_allowed(cfg, v, vl);
	}
	for (i = 0; i < 2; i++)
		if ((h = http_find_header(r, hdrs[i], NULL)) != NULL) {
			seen = 1;
			ok |= api_key_allowed(cfg, h->value, h->value_len);
		}
	if ((n = http_query_param(r, "key", qkey, sizeof(qkey))) >= 0) {
		seen = 1;
		ok |= api_key_allowed(cfg, qkey, (size_t)n);
	}
	if (ok)
		return 1;
	respond_error(c, f, 401, seen ? "Invalid API key" : "Missing API key",
		      f == HUB_GEMINI ? NULL
				      : "WWW-Authenticate: Bearer\r\n");
	return 0;
}

/* ---- GET / ----------------------------------------------------------------- */

static void h_root(struct conn *c, const struct endpoint *r)
{
	struct buf *b = &srv_of(c)->scratch;
	(void)r;
	buf_reset(b);
	buf_puts(b, "{\"message\":\"CLI Proxy API Server\",\"version\":\""
		    CPA_VERSION "\",\"endpoints\":["
		    "\"GET /v1/models\",\"POST /v1/chat/completions\","
		    "\"POST /v1/completions\",\"POST /v1/responses\","
		    "\"POST /v1/messages\",\"POST /v1/messages/count_tokens\","
		    "\"GET /v1beta/models\","
		    "\"POST /v1beta/models/{model}:generateContent\","
		    "\"POST /v1beta/models/{model}:streamGenerateContent\","
		    "\"POST /v1beta/models/{model}:countTokens\"]}");
	respond_json(c, 200, b);
}

/* ---- model lists ----------------------------------------------------------- */

struct list_ctx {
	struct buf *b;
	int n;
	enum hub_fmt f;
	int claude;
	const char *first, *last;
};

static void put_rfc3339(struct buf *b, long long t)
{
	char tmp[80];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	fmt_snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec);
	buf_putc(b, '"');
	buf_puts(b, tmp);
	buf_putc(b, '"');
}

/* The OpenAI model fields, closing the object (Claude clients get them
 * too, after their own). */
static void put_model_tail(struct buf *b, const struct model_info *m)
{
	buf_puts(b, ",\"object\":\"model\",\"created\":");
	buf_putu(b, (unsigned long long)m->created);
	buf_puts(b, ",\"owned_by\":");
	buf_json_cstr(b, m->owned_by);
	buf_putc(b, '}');
}

static void put_openai_model(struct buf *b, const struct model_info *m)
{
	buf_puts(b, "{\"id\":");
	buf_json_cstr(b, m->id);
	put_model_tail(b, m);
}

static void put_claude_model(struct buf *b, const struct model_info *m)
{
	buf_puts(b, "{\"type\":\"model\",\"id\":");
	buf_json_cstr(b, m->id);
	buf_puts(b, ",\"display_name\":");
	buf_json_cstr(b, m->display_name);
	buf_puts(b, ",\"created_at\":");
	put_rfc3339(b, m->created);
	put_model_tail(b, m);
}

static void put_gemini_model(struct buf *b, const struct model_info *m)
{
	int gem = m->provider == PROV_GEMINI;
	buf_puts(b, "{\"name\":\"models/");
	buf_json_esc(b, m->id, strlen(m->id));
	buf_puts(b, "\",\"version\":\"001\",\"displayName\":");
	buf_json_cstr(b, m->display_name);
	buf_puts(b, ",\"description\":");
	buf_json_cstr(b, m->display_name);
	buf_printf(b, ",\"inputTokenLimit\":%d,\"outputTokenLimit\":%d,"
		   "\"supportedGenerationMethods\":[\"generateContent\","
		   "\"countTokens\"%s]}",
		   gem ? 1048576 : 200000, gem ? 65536 : 32000,
		   gem ? ",\"createCachedContent\",\"batchGenerateContent\""
		       : "");
}

static int list_cb(const struct model_info *m, void *u)
{
	struct list_ctx *x = u;
	if (x->n++)
		buf_putc(x->b, ',');
	if (!x->first)
		x->first = m->id;
	x->last = m->id;
	if (x->f == HUB_GEMINI)
		put_gemini_model(x->b, m);
	else if (x->claude)
		put_claude_model(x->b, m);
	else
		put_openai_model(x->b, m);
	return x->b->overflow;
}

/*
 * Is this a Gemini client?  @google/genai 3.x lists and reads models at
 * /v1/models, where OpenAI clients do too; a Gemini client says who it is
 * with its key header, a key= parameter or x-goog-api-client.
 */
static int gemini_client(struct conn *c)
{
	char k[8];
	return http_find_header(&c->req, "x-goog-api-key", NULL) ||
	       http_find_header(&c->req, "x-goog-api-client", NULL) ||
	       http_query_param(&c->req, "key", k, sizeof(k)) >= 0;
}

/* The API a model-list route answers in: a Gemini client on /v1/models
 * gets the Gemini shape. */
static enum hub_fmt list_format(struct conn *c, const struct endpoint *r)
{
	return r->fmt == HUB_OPENAI && gemini_client(c) ? HUB_GEMINI : r->fmt;
}

static void h_models(struct conn *c, const struct endpoint *r)
{
	struct buf *b = &srv_of(c)->scratch;
	struct list_ctx x;

	memset(&x, 0, sizeof(x));
	x.b = b;
	x.f = list_format(c, r);
	x.claude = x.f == HUB_OPENAI && header_is(c, "user-agent",
						  "claude-cli");
	buf_reset(b);
	if (x.f == HUB_GEMINI)
		buf_puts(b, "{\"models\":[");
	else if (x.claude)
		buf_puts(b, "{\"data\":[");
	else
		buf_puts(b, "{\"object\":\"list\",\"data\":[");
	route_each(srv_of(c)->route, list_cb, &x);
	buf_putc(b, ']');
	if (x.claude) {
		buf_puts(b, ",\"has_more\":false,\"first_id\":");
		if (x.first)
			buf_json_cstr(b, x.first);
		else
			buf_puts(b, "null");
		buf_puts(b, ",\"last_id\":");
		if (x.last)
			buf_json_cstr(b, x.last);
		else
			buf_puts(b, "null");
	}
	buf_putc(b, '}');
	respond_json(c, 200, b);
}

/* GET /v1/models/<id> (OpenAI) and GET /v1beta/models/<id> (Gemini). */
static void h_model_one(struct conn *c, const struct endpoint *r)
{
	struct buf *b = &srv_of(c)->scratch;
	size_t plen = http_path_len(&c->req), pre = r->len;
	const char *id = c->req.target + pre;
	size_t idlen = plen - pre;
	struct model_info m;
	enum hub_fmt f = list_format(c, r);
	char msg[320];

	if (f == HUB_GEMINI && idlen > 7 && !memcmp(id, "models/", 7)) {
		id += 7;
		idlen -= 7;
	}
	if (!route_find(srv_of(c)->route, id, idlen, &m) || !m.id) {
		fmt_snprintf(msg, sizeof(msg), "model '%.*s' not found",
			     (int)(idlen > 256 ? 256 : idlen), id);
		api_error(c, f, 404, msg);
		return;
	}
	buf_reset(b);
	if (f == HUB_GEMINI)
		put_gemini_model(b, &m);
	else
		put_openai_model(b, &m);
	respond_json(c, 200, b);
}

/* ---- inference routes ---------------------------------------------------- */

/*
 * Every inference route: parse the body, find the model and its provider,
 * then either pass the body through (OpenAI chat on an OpenAI-compatible
 * provider) or decode it into the hub's request view and start a
 * translated exchange.
 */

struct infer_req {
	enum hub_fmt f;        /* error format */
	enum hub_fmt cfmt;     /* client codec */
	const char *model;     /* decoded model name */
	size_t mlen;
	struct json *j;        /* parsed body */
	int model_tok;         /* OpenAI: token of "model" (pass-through) */
	int stream;            /* -1: from the body */
	int gemini_array;
	int completions;       /* legacy /v1/completions */
	int gemini_cli;        /* Code Assist envelope (/v1internal) */
};

static long tok_bytes(const struct json *j)
{
	return (long)((size_t)j->ntok * sizeof(*j->tok));
}

/* The parsed body is freed: its tokens no longer count. */
void api_body_free(struct conn *c, struct json *j)
{
	conn_charge(c, -tok_bytes(j));
	json_free(j);
}

static long view_bytes(const struct hub_view *v)
{
	return (long)(v->cap_parts * sizeof(*v->parts) +
		      v->cap_msgs * sizeof(*v->msgs) +
		      v->cap_tools * sizeof(*v->tools));
}

/* Client body j -> the request view v, charged to max-body-total.
 * 0 ok (free with view_free), -1 answered (400 or 503). */
static int decode_view(struct conn *c, enum hub_fmt f, enum hub_fmt cfmt,
		       const struct json *j, struct hub_view *v)
{
	char err[256];

	hub_view_init(v, j);
	v->client_fmt = cfmt;
	err[0] = '\0';
	if (hub_codec_for(cfmt)->decode_request(j, v, err, sizeof(err)) < 0) {
		hub_view_free(v);
		api_error(c, f, 400, err[0] ? err : "malformed request");
		return -1;
	}
	if (conn_charge(c, view_bytes(v)) < 0) {
		conn_charge(c, -view_bytes(v));
		hub_view_free(v);
		api_error(c, f, 503, "server is busy: too much request data in "
			  "flight, retry shortly");
		return -1;
	}
	return 0;
}

static void view_free(struct conn *c, struct hub_view *v)
{
	conn_charge(c, -view_bytes(v));
	hub_view_free(v);
}

int api_parse_body(struct conn *c, enum hub_fmt f, struct json *j)
{
	int rc;
	if (c->body_len == 0) {
		api_error(c, f, 400, "request body is empty; a JSON object is "
			  "required");
		return -1;
	}
	rc = json_parse(j, c->body, c->body_len);
	if (rc == -2) {
		api_error(c, f, 503, "out of memory parsing the request");
		return -1;
	}
	if (rc < 0 || j->tok[0].type != JSMN_OBJECT) {
		json_free(j);
		api_error(c, f, 400, "request body is not a valid JSON object");
		return -1;
	}
	/* the tokens count against max-body-total like the body itself */
	if (conn_charge(c, tok_bytes(j)) < 0) {
		api_body_free(c, j);
		api_error(c, f, 503, "server is busy: too much request data in "
			  "flight, retry shortly");
		return -1;
	}
	return 0;
}

static int body_stream_flag(const struct json *j)
{
	int st = json_get(j, 0, "stream");
	return st >= 0 && j->tok[st].type == JSMN_PRIMITIVE &&
	       json_ptr(j, st)[0] == 't';
}

/* The client's anthropic-beta header (forwarded to Claude), cut to 500
 * bytes, in b; NULL when it sent none. */
static const char *beta_of(struct conn *c, char *b, size_t cap)
{
	const struct http_header *h;
	size_t n;
	if (!(h = http_find_header(&c->req, "anthropic-beta", NULL)))
		return NULL;
	n = h->value_len > 500 ? 500 : h->value_len;
	if (n >= cap)
		n = cap - 1;
	memcpy(b, h->value, n);
	b[n] = '\0';
	return b;
}

/*
 * Pick who answers model m: the next candidate in rotation that can be
 * used now.  Its index, or -1 when every one rests after quota answers
 * (answered: 429 with the earliest reset as Retry-After).
 */
static int pick(struct conn *c, enum hub_fmt f, const struct model_info *m)
{
	struct srv *s = srv_of(c);
	int64_t now = loop_now(&s->loop), at = 0;
	int i = route_pick(s->route, m->rm, now, &at);
	char msg[200], extra[48];
	long secs;

	if (i >= 0)
		return i;
	secs = at > now ? (long)((at - now + 999) / 1000) : 1;
	fmt_snprintf(msg, sizeof(msg), "every account and key serving this model "
		     "is rate-limited or out of quota; retry in %ld s", secs);
	fmt_snprintf(extra, sizeof(extra), "Retry-After: %ld\r\n", secs);
	respond_error(c, f, 429, msg, extra);
	return -1;
}

/* Does a Claude request's system prompt begin the way Claude Code's does
 * (its own line in the first blocks)?  Such a body goes to a Claude Code
 * login as it is; any other gets the line (through the hub). */
static int claude_code_system(const struct json *j)
{
	static const char line[] = "You are Claude Code";
	int sys = json_get(j, 0, "system"), i, k, n;

	if (sys < 0)
		return 0;
	if (j->tok[sys].type == JSMN_STRING)
		return json_len(j, sys) >= sizeof(line) - 1 &&
		       !memcmp(json_ptr(j, sys), line, sizeof(line) - 1);
	if (j->tok[sys].type != JSMN_ARRAY)
		return 0;
	n = j->tok[sys].size;
	for (i = 0, k = sys + 1; i < n && i < 3; i++, k = json_skip(j, k)) {
		int t = json_get(j, k, "text");
		if (t >= 0 && j->tok[t].type == JSMN_STRING &&
		    json_len(j, t) >= sizeof(line) - 1 &&
		    !memcmp(json_ptr(j, t), line, sizeof(line) - 1))
			return 1;
	}
	return 0;
}

/* Codex model names that carry a reasoning effort: "gpt-5-codex-high"
 * (the reference's older names) and "gpt-5.4(high)" (its newer form)
 * become the model and the effort.  The effort string is static. */
static const char *codex_effort(char *model)
{
	static const char *const efforts[] = {"minimal", "low", "medium",
					      "high", "xhigh", "none", NULL};
	size_t n = strlen(model), i;
	for (i = 0; efforts[i]; i++) {
		size_t e = strlen(efforts[i]);
		if (n > e + 2 && model[n - 1] == ')' && model[n - e - 2] == '(' &&
		    !memcmp(model + n - e - 1, efforts[i], e)) {
			model[n - e - 2] = '\0';
			return efforts[i];
		}
		if ((!strncmp(model, "gpt-5-", 6) || !strncmp(model, "gpt-5.", 6)) &&
		    n > e + 1 && model[n - e - 1] == '-' &&
		    !strcmp(model + n - e, efforts[i]) &&
		    strcmp(efforts[i], "none") && strcmp(efforts[i], "xhigh")) {
			model[n - e - 1] = '\0';
			return efforts[i];
		}
	}
	return NULL;
}

static void start_inference(struct conn *c, const struct infer_req *q)
{
	struct route *rt = srv_of(c)->route;
	struct model_info m;
	const struct route_cred *cr;
	const struct route_cand *cd;
	struct hub_view v;
	struct exch_req r;
	char msg[400], model[MODEL_NAME_MAX + 1], upmodel[MODEL_NAME_MAX + 1];
	int shown = (int)(q->mlen > 200 ? 200 : q->mlen), i;
	enum prov_kind pk;

	if (!route_find(rt, q->model, q->mlen, &m)) {
		fmt_snprintf(msg, sizeof(msg), "model '%.*s' is not served by any "
			     "configured provider (see GET /v1/models)", shown,
			     q->model);
		api_error(c, q->f, 404, msg);
		return;
	}
	if ((i = pick(c, q->f, &m)) < 0)
		return;
	cr = route_cred_at(rt, m.rm, i);
	cd = route_cand_at(rt, m.rm, i);
	pk = cr->prov;
	fmt_snprintf(model, sizeof(model), "%.*s", (int)q->mlen, q->model);
	fmt_snprintf(upmodel, sizeof(upmodel), "%s",
		     cd->upstream ? cd->upstream : model);
	if (q->gemini_cli) {
		/* the envelope both ways: always through the hub */
	} else if (((q->cfmt == HUB_OPENAI || q->cfmt == HUB_COMPLETIONS) &&
	     pk == PROV_COMPAT && q->model_tok >= 0) ||
	    (q->cfmt == HUB_CLAUDE && q->model_tok >= 0 &&
	     (pk == PROV_CLAUDE ||
	      (pk == PROV_CLAUDE_OAUTH && claude_code_system(q->j)))) ||
	    (q->cfmt == HUB_GEMINI && pk == PROV_GEMINI)) {
		/* The upstream speaks the client's API: relay as it is. */
		struct exch_raw x;
		char b[512];
		memset(&x, 0, sizeof(x));
		x.cfmt = q->cfmt;
		x.rm = m.rm;
		x.cand = i;
		x.upmodel = upmodel;
		if (q->model_tok >= 0) {
			x.model_off = (size_t)q->j->tok[q->model_tok].start;
			x.model_len = json_len(q->j, q->model_tok);
		}
		x.stream = q->stream >= 0 ? q->stream : body_stream_flag(q->j);
		x.gemini_array = q->gemini_array;
		x.anthropic_beta = beta_of(c, b, sizeof(b));
		exch_start_raw(c, &x);
		return;
	}
	if (decode_view(c, q->f, q->cfmt, q->j, &v) < 0)
		return;
	memset(&r, 0, sizeof(r));
	r.cfmt = q->cfmt;
	r.rm = m.rm;
	r.cand = i;
	r.model = model;
	if (pk == PROV_CODEX || pk == PROV_CODEX_OAUTH)
		r.effort = codex_effort(upmodel);
	r.upmodel = upmodel;
	r.stream = q->stream >= 0 ? q->stream : v.stream;
	r.gemini_array = q->gemini_array;
	r.gemini_cli = q->gemini_cli;
	r.view = &v;
	{
		char b[512];
		r.anthropic_beta = beta_of(c, b, sizeof(b));
		exch_start_hub(c, &r);
	}
	view_free(c, &v);
}

/* A documented estimate: about 4 bytes of text per token, plus a few
 * tokens per message and tool (protocol.md: no upstream count here). */
static long estimate_tokens(const struct json *j)
{
	long bytes = 0;
	int i;
	for (i = 0; i < j->ntok; i++)
		if (j->tok[i].type == JSMN_STRING)
			bytes += j->tok[i].end - j->tok[i].start;
	return bytes / 4 + 3;
}

/* An estimated count, in the client's shape. */
static void respond_estimate(struct conn *c, const char *key,
			     const struct json *j)
{
	struct buf *b = &srv_of(c)->scratch;
	buf_reset(b);
	buf_printf(b, "{\"%s\":", key);
	buf_putu(b, (unsigned long)estimate_tokens(j));
	buf_putc(b, '}');
	respond_json(c, 200, b);
}

/* The model name of a request, checked at the door (models_name_check):
 * 1 ok, 0 answered with a 400. */
int api_model_name_ok(struct conn *c, enum hub_fmt f, const char *model,
			 size_t n)
{
	const char *why = models_name_check(model, n);
	if (why)
		api_error(c, f, 400, why);
	return why == NULL;
}

/* The body's "model" string, unescaped into out: its length, or -1
 * answered with a 400.  *tok gets its token. */
static int body_model(struct conn *c, enum hub_fmt f, const struct json *j,
		      int *tok, char *out, size_t cap)
{
	int mi = json_get(j, 0, "model"), n;
	*tok = mi;
	if (mi < 0 || j->tok[mi].type != JSMN_STRING || json_len(j, mi) == 0) {
		api_error(c, f, 400, "request has no \"model\" string");
		return -1;
	}
	n = json_unescape(json_ptr(j, mi), json_len(j, mi), out, cap);
	if (n < 0 && json_len(j, mi) >= cap) { /* not cut: refused */
		api_error(c, f, 400, models_name_check(json_ptr(j, mi),
						       json_len(j, mi)));
		return -1;
	}
	if (n <= 0) {
		api_error(c, f, 400, "\"model\" is not a valid model name");
		return -1;
	}
	return n;
}

/* count_tokens answers only for models we serve (404 otherwise). */
static int count_model_served(struct conn *c, enum hub_fmt f,
			      const char *model, size_t k)
{
	struct model_info m;
	char msg[400];
	if (!api_model_name_ok(c, f, model, k))
		return 0;
	if (!route_find(srv_of(c)->route, model, k, &m)) {
		fmt_snprintf(msg, sizeof(msg), "model '%.*s' is not served by any "
			     "configured provider (see GET /v1/models)",
			     (int)(k > 200 ? 200 : k), model);
		api_error(c, f, 404, msg);
		return 0;
	}
	return 1;
}

/* Parse the body and read its model (which must be one we serve when
 * served is set): the model's length, or -1 answered (j freed). */
static int parse_model(struct conn *c, enum hub_fmt f, struct json *j,
		       int *tok, char *model, size_t cap, int served)
{
	int n;
	if (api_parse_body(c, f, j) < 0)
		return -1;
	n = body_model(c, f, j, tok, model, cap);
	if (n < 0 || !(served ? count_model_served(c, f, model, (size_t)n)
			      : api_model_name_ok(c, f, model, (size_t)n))) {
		api_body_free(c, j);
		return -1;
	}
	return n;
}

/* Claude's count_tokens refuses the messages keys that only matter for
 * generating; clients often send the whole request.  Drop those top-level
 * keys, leaving every other byte as it was.  0, or -1 out of memory. */
static int drop_generation_keys(struct conn *c, const struct json *j)
{
	static const char *const drop[] = {
		"max_tokens", "stream", "temperature", "top_p", "top_k",
		"stop_sequences", "metadata", "service_tier", NULL};
	struct buf *b = &srv_of(c)->scratch;
	int i, k, n = j->tok[0].size, first = 1, dropped = 0;
	size_t m;

	buf_reset(b);
	buf_putc(b, '{');
	for (i = 0, k = 1; i < n; i++) {
		int next = json_skip(j, k + 1), skip = 0;
		for (m = 0; drop[m]; m++)
			if (json_str_eq(j, k, drop[m]))
				skip = 1;
		if (skip) {
			dropped = 1;
		} else {
			size_t from = (size_t)j->tok[k].start - 1; /* the quote */
			size_t to = (size_t)j->tok[k + 1].end +
				    (j->tok[k + 1].type == JSMN_STRING);
			if (!first)
				buf_putc(b, ',');
			first = 0;
			buf_put(b, c->body + from, to - from);
		}
		k = next;
	}
	buf_putc(b, '}');
	if (!dropped)
		return 0;
	if (b->overflow || conn_body_reserve(c, b->len) < 0)
		return -1;
	memcpy(c->body, b->p, b->len);
	c->body_len = b->len;
	return 0;
}

/*
 * Count through the upstream when the model's provider has a counting
 * endpoint (Claude and Gemini keys).  Returns 1 when the exchange took
 * the request (or answered an error), 0 to fall back to the estimate.
 */
static int count_upstream(struct conn *c, enum hub_fmt f, enum hub_fmt cfmt,
			  struct json *j, const char *model, size_t mlen)
{
	struct route *rt = srv_of(c)->route;
	struct model_info m;
	struct hub_view v;
	struct exch_req r;
	const struct route_cred *cr;
	char name[MODEL_NAME_MAX + 1];
	int i, claude;

	if (!route_find(rt, model, mlen, &m) ||
	    !(m.rm->kinds & (1u << m.provider)) ||
	    (m.provider != PROV_GEMINI && m.provider != PROV_CLAUDE &&
	     m.provider != PROV_CLAUDE_OAUTH &&
	     m.provider != PROV_GEMINI_CLI &&
	     m.provider != PROV_ANTIGRAVITY))
		return 0;
	if ((i = pick(c, f, &m)) < 0)
		return 1;
	cr = route_cred_at(rt, m.rm, i);
	if (cr->prov != PROV_GEMINI && cr->prov != PROV_CLAUDE &&
	    cr->prov != PROV_CLAUDE_OAUTH && cr->prov != PROV_GEMINI_CLI &&
	    cr->prov != PROV_ANTIGRAVITY)
		return 0;
	claude = cr->prov == PROV_CLAUDE || cr->prov == PROV_CLAUDE_OAUTH;
	fmt_snprintf(name, sizeof(name), "%.*s", (int)mlen, model);
	if ((cfmt == HUB_CLAUDE) == claude &&
	    !(cfmt == HUB_GEMINI && cr->prov != PROV_GEMINI)) {
		/* The upstream's own API: its counter gets the body as it
		 * is (for Claude less the keys only generation takes). */
		struct exch_raw x;
		char b[512];
		if (cfmt == HUB_CLAUDE && drop_generation_keys(c, j) < 0) {
			api_error(c, f, 503, "server is busy: no memory for "
				  "the request");
			return 1;
		}
		memset(&x, 0, sizeof(x));
		x.cfmt = cfmt;
		x.rm = m.rm;
		x.cand = i;
		x.upmodel = name;
		x.count = 1;
		x.anthropic_beta = beta_of(c, b, sizeof(b));
		exch_start_raw(c, &x);
		return 1;
	}
	if (decode_view(c, f, cfmt, j, &v) < 0)
		return 1;
	memset(&r, 0, sizeof(r));
	r.cfmt = cfmt;
	r.rm = m.rm;
	r.cand = i;
	r.model = name;
	r.upmodel = name;
	r.view = &v;
	exch_start_count(c, &r);
	view_free(c, &v);
	return 1;
}

static void h_count_tokens(struct conn *c, const struct endpoint *r)
{
	struct json j;
	char model[MODEL_NAME_MAX + 1];
	int mi, k;

	if ((k = parse_model(c, r->fmt, &j, &mi, model, sizeof(model), 1)) < 0)
		return;
	{
		mi = json_get(&j, 0, "messages");
		if (mi < 0 || j.tok[mi].type != JSMN_ARRAY) {
			api_body_free(c, &j);
			api_error(c, r->fmt, 400, "request has no \"messages\" "
				  "array");
			return;
		}
		if (count_upstream(c, r->fmt, HUB_CLAUDE, &j, model,
				   (size_t)k)) {
			api_body_free(c, &j);
			return;
		}
	}
	respond_estimate(c, "input_tokens", &j);
	api_body_free(c, &j);
}

/*
 * The common case, an OpenAI client on an OpenAI-compatible provider,
 * needs only "model" and "stream": one validating pass finds them, no
 * tokens.  Returns 1 when it took the request, 0 for the general path
 * (which also produces every error message).
 */
static int try_passthrough(struct conn *c, int completions)
{
	static const char *const keys[] = {"model", "stream", NULL};
	size_t off[2], len[2];
	struct model_info m;
	char model[MODEL_NAME_MAX + 1];
	int n;

	if (c->body_len == 0 ||
	    json_scan_top(c->body, c->body_len, keys, off, len) < 0 ||
	    len[0] < 3 || c->body[off[0]] != '"')
		return 0;
	n = json_unescape(c->body + off[0] + 1, len[0] - 2, model,
			  sizeof(model));
	if (n <= 0 || models_name_check(model, (size_t)n) ||
	    !route_find(srv_of(c)->route, model, (size_t)n, &m) ||
	    m.rm->kinds != 1u << PROV_COMPAT)
		return 0;
	{
		struct exch_raw x;
		int i = pick(c, HUB_OPENAI, &m);
		if (i < 0)
			return 1;
		memset(&x, 0, sizeof(x));
		x.cfmt = completions ? HUB_COMPLETIONS : HUB_OPENAI;
		x.rm = m.rm;
		x.cand = i;
		x.upmodel = route_cand_at(srv_of(c)->route, m.rm, i)->upstream;
		x.model_off = off[0] + 1;
		x.model_len = len[0] - 2;
		x.stream = len[1] == 4 && c->body[off[1]] == 't';
		exch_start_raw(c, &x);
	}
	return 1;
}

static void h_infer_json_model(struct conn *c, const struct endpoint *r)
{
	struct json j;
	struct infer_req q;
	char model[MODEL_NAME_MAX + 1];
	int mi, n;

	if ((r->cfmt == HUB_OPENAI || r->cfmt == HUB_COMPLETIONS) &&
	    try_passthrough(c, r->cfmt == HUB_COMPLETIONS))
		return;
	if ((n = parse_model(c, r->fmt, &j, &mi, model, sizeof(model), 0)) < 0)
		return;
	memset(&q, 0, sizeof(q));
	q.f = r->fmt;
	q.model = model;
	q.mlen = (size_t)n;
	q.j = &j;
	q.model_tok = mi;
	q.stream = -1;
	q.cfmt = r->cfmt;
	q.completions = r->cfmt == HUB_COMPLETIONS;
	start_inference(c, &q);
	api_body_free(c, &j);
}

/* The model segment of a Gemini path, percent-decoded into out (cap
 * bytes) and checked.  Its length, or -1 answered with a 400.  An encoded
 * '/' is refused: it would hide a path segment from the check. */
static int path_model(struct conn *c, const char *s, size_t n, char *out,
		      size_t cap)
{
	size_t i, o = 0;
	for (i = 0; i < n; i++) {
		int h1, h2;
		char ch = s[i];
		if (ch == '%' && i + 2 < n && (h1 = hexv(s[i + 1])) >= 0 &&
		    (h2 = hexv(s[i + 2])) >= 0) {
			ch = (char)(h1 * 16 + h2);
			if (ch == '/' || ch == '\\') {
				api_error(c, HUB_GEMINI, 400, "\"model\" has "
					  "an encoded '/' or '\\'");
				return -1;
			}
			i += 2;
		}
		if (o + 1 >= cap) {
			o = MODEL_NAME_MAX + 1; /* the check says too long */
			break;
		}
		out[o++] = ch;
	}
	out[o < cap ? o : 0] = '\0';
	if (!api_model_name_ok(c, HUB_GEMINI, out, o))
		return -1;
	return (int)o;
}

/* A Gemini call on model (body parsed in j, freed here): a token count,
 * counted upstream where the provider can, else estimated; or a
 * generation, streamed for streamGenerateContent (SSE with alt=sse, else
 * the JSON-array stream).  gemini_cli: the Code Assist envelope both
 * ways (/v1internal). */
void api_gemini_call(struct conn *c, struct json *j, const char *model,
			size_t ml, const char *meth, size_t mlen, int gemini_cli)
{
	struct infer_req q;
	char alt[16];

	if (http_span_eq(meth, mlen, "countTokens")) {
		if (count_model_served(c, HUB_GEMINI, model, ml) &&
		    !((gemini_cli || json_get(j, 0, "contents") >= 0) &&
		      count_upstream(c, HUB_GEMINI, HUB_GEMINI, j, model, ml)))
			respond_estimate(c, "totalTokens", j);
		api_body_free(c, j);
		return;
	}
	memset(&q, 0, sizeof(q));
	q.f = HUB_GEMINI;
	q.cfmt = HUB_GEMINI;
	q.model = model;
	q.mlen = ml;
	q.j = j;
	q.model_tok = -1;
	q.gemini_cli = gemini_cli;
	q.stream = http_span_eq(meth, mlen, "streamGenerateContent");
	q.gemini_array = q.stream &&
			 !(http_query_param(&c->req, "alt", alt, sizeof(alt)) >= 0 &&
			   !strcmp(alt, "sse")) &&
			 !(http_query_param(&c->req, "$alt", alt, sizeof(alt)) >= 0 &&
			   !strcmp(alt, "sse"));
	start_inference(c, &q);
	api_body_free(c, j);
}

/* POST .../models/<model>:<method> (Gemini generateContent & co).  The
 * method follows the last colon: model names may hold colons. */
static void h_gemini_action(struct conn *c, const struct endpoint *r)
{
	size_t plen = http_path_len(&c->req), pre = r->len;
	const char *a = c->req.target + pre;
	size_t alen = plen - pre;
	const char *colon = memrchr(a, ':', alen);
	const char *meth;
	size_t mlen;
	struct json j;
	char model[MODEL_NAME_MAX + 2];
	int ml;

	if (!colon || colon == a) {
		api_error(c, HUB_GEMINI, 404, "expected models/{model}:{method}");
		return;
	}
	meth = colon + 1;
	mlen = alen - (size_t)(meth - a);
	if (!http_span_eq(meth, mlen, "generateContent") &&
	    !http_span_eq(meth, mlen, "streamGenerateContent") &&
	    !http_span_eq(meth, mlen, "countTokens")) {
		char msg[160];
		fmt_snprintf(msg, sizeof(msg), "unknown method '%.*s' (expected "
			     "generateContent, streamGenerateContent or "
			     "countTokens)", (int)(mlen > 64 ? 64 : mlen), meth);
		api_error(c, HUB_GEMINI, 404, msg);
		return;
	}
	ml = path_model(c, a, (size_t)(colon - a), model, sizeof(model));
	if (ml < 0)
		return;
	if (api_parse_body(c, HUB_GEMINI, &j) < 0)
		return;
	api_gemini_call(c, &j, model, (size_t)ml, meth, mlen, 0);
}

/* /v1/models/<x>: Gemini action when it has a colon, else OpenAI model. */
static void h_v1_models_post(struct conn *c, const struct endpoint *r)
{
	static const struct endpoint gem = {RT("/v1/models/"), 1, M_POST,
					    HUB_GEMINI, HUB_GEMINI, 1, NULL,
					    NULL};
	(void)r;
	h_gemini_action(c, &gem);
}

/* ---- the table ------------------------------------------------------------- */

static const struct endpoint endpoints[] = {
	{RT("/"), 0, M_GET, HUB_OPENAI, HUB_OPENAI, 0, h_root, NULL},
	{RT("/v1/models"), 0, M_GET, HUB_OPENAI, HUB_OPENAI, 1, h_models,
	 NULL},
	{RT("/v1/models/"), 1, M_GET | M_POST, HUB_OPENAI, HUB_GEMINI, 1,
	 h_model_one, h_v1_models_post},
	{RT("/v1/chat/completions"), 0, M_POST, HUB_OPENAI, HUB_OPENAI, 1,
	 NULL, h_infer_json_model},
	{RT("/v1/completions"), 0, M_POST, HUB_OPENAI, HUB_COMPLETIONS, 1,
	 NULL, h_infer_json_model},
	{RT("/v1/responses"), 0, M_POST, HUB_OPENAI, HUB_RESPONSES, 1, NULL,
	 h_infer_json_model},
	{RT("/v1/messages"), 0, M_POST, HUB_CLAUDE, HUB_CLAUDE, 1, NULL,
	 h_infer_json_model},
	{RT("/v1/messages/count_tokens"), 0, M_POST, HUB_CLAUDE, HUB_CLAUDE,
	 1, NULL, h_count_tokens},
	{RT("/v1beta/models"), 0, M_GET, HUB_GEMINI, HUB_GEMINI, 1, h_models,
	 NULL},
	{RT("/v1beta/models/"), 1, M_GET | M_POST, HUB_GEMINI, HUB_GEMINI, 1,
	 h_model_one, h_gemini_action},
	{RT("/v1internal:"), 1, M_POST, HUB_GEMINI, HUB_GEMINI, 0, NULL,
	 api_v1internal},
};

static const struct endpoint *match(const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		size_t rl = endpoints[i].len;
		if (endpoints[i].prefix ? (n > rl && !memcmp(p, endpoints[i].path, rl))
				     : (n == rl && !memcmp(p, endpoints[i].path, rl)))
			return &endpoints[i];
	}
	return NULL;
}

/* The error format of a request on route r (NULL: none matched). */
static enum hub_fmt error_format(struct conn *c, const struct endpoint *r)
{
	const struct http_request *req = &c->req;
	enum hub_fmt f = api_format_for_path(req->target, http_path_len(req));
	/* /v1/models with a claude-cli UA is the Claude API; with a Gemini
	 * client's headers, the Gemini API. */
	if (r && r->fmt == HUB_OPENAI && f == HUB_OPENAI &&
	    header_is(c, "user-agent", "claude-cli"))
		f = HUB_CLAUDE;
	else if (r && f == HUB_OPENAI &&
		 (r->get == h_models || r->get == h_model_one))
		f = list_format(c, r);
	return f;
}

void api_conn_error(struct conn *c, int status, const char *msg)
{
	api_error(c, api_format_for_path(c->path, strlen(c->path)), status,
		  msg);
}

int api_attach(struct srv *s)
{
	srv_handle(s, api_head, api_handle, api_conn_error);
	return exch_pool_init(s->pool_size);
}

int api_head(struct conn *c)
{
	const struct http_request *req = &c->req;
	const struct endpoint *r;

	if (mgmt_is_path(c))
		return mgmt_head(c);
	if (srv_of(c)->cfg->api_keys.n == 0 ||
	    http_span_eq(req->method, req->method_len, "OPTIONS"))
		return 0; /* an open server: nobody to refuse */
	r = match(req->target, http_path_len(req));
	if (!r || !r->auth)
		return 0;
	return authenticate(c, error_format(c, r)) ? 0 : -1;
}

void api_handle(struct conn *c)
{
	const struct http_request *req = &c->req;
	size_t plen = http_path_len(req);
	enum hub_fmt f = api_format_for_path(req->target, plen);
	const struct endpoint *r;
	unsigned m = 0;

	if (http_span_eq(req->method, req->method_len, "OPTIONS")) {
		conn_respond(c, 204, NULL, "Access-Control-Max-Age: 86400\r\n",
			     NULL, 0);
		return;
	}
	if (mgmt_is_path(c)) {
		mgmt_handle(c);
		return;
	}
	if (http_span_eq(req->method, req->method_len, "GET"))
		m = M_GET;
	else if (http_span_eq(req->method, req->method_len, "POST"))
		m = M_POST;

	r = match(req->target, plen);
	if (!r) {
		api_error(c, f, 404, "no such endpoint");
		return;
	}
	if (!(r->methods & m)) {
		char allow[64];
		fmt_snprintf(allow, sizeof(allow), "Allow: %s%sOPTIONS\r\n",
			     r->methods & M_GET ? "GET, " : "",
			     r->methods & M_POST ? "POST, " : "");
		respond_error(c, f, 405, "method not allowed on this endpoint",
			      allow);
		return;
	}
	if (m == M_GET)
		r->get(c, r);
	else
		r->post(c, r);
}
