/*
 * prov.c - provider descriptors and the building of one upstream call
 * (see prov.h).  No formatted printing: this runs for every request.
 */
#define _GNU_SOURCE
#include "prov.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "acct_file.h"
#include "cfg.h"
#include "mlist.h"
#include "sizes.h"
#include "url.h"

#define CODEX_HEADERS \
	"Originator: codex-tui\r\n" \
	"User-Agent: codex-tui/0.146.0 (Mac OS 26.5.0; arm64) " \
	"iTerm.app/3.6.10 (codex-tui; 0.146.0)\r\n"

#define STAINLESS(rt, pkg) \
	"X-Stainless-Retry-Count: 0\r\nX-Stainless-Runtime: node\r\n" \
	"X-Stainless-Lang: js\r\nX-Stainless-Package-Version: " pkg "\r\n" \
	"X-Stainless-Runtime-Version: " rt "\r\nX-Stainless-Os: MacOS\r\n" \
	"X-Stainless-Arch: arm64\r\n"

/* What the official clients send (providers-2026.md): Claude Code
 * 2.1.220, Codex TUI 0.146.0, Qwen Code 0.14.2, Gemini CLI 0.34.0 (the
 * reference's newest fingerprints).  [upstream-headers] replaces, adds
 * or removes lines by name; an account file's "user_agent" replaces the
 * User-Agent. */
static const struct prov_desc descs[PROV__COUNT] = {
	[PROV_GEMINI] = {PROV_GEMINI, "gemini", "google", HUB_GEMINI,
			 EP_GENERATIVE_LANGUAGE, "x-goog-api-key", "", "",
			 UH_GEMINI, "/v1beta/models/", 1, ":generateContent",
			 ":streamGenerateContent?alt=sse", ":countTokens", NULL,
			 0, 0, 0, 0, 0, "/v1beta/models?pageSize=1000", 0,
			 MLIST_GEMINI},
	[PROV_CLAUDE] = {PROV_CLAUDE, "claude", "anthropic", HUB_CLAUDE,
			 EP_CLAUDE, "x-api-key", "",
			 "anthropic-version: 2023-06-01\r\n", UH_CLAUDE,
			 "/v1/messages", 0, "", "", "/count_tokens", NULL,
			 0, 0, 0, 0, 0, "/v1/models?limit=1000", 0, MLIST_CLAUDE},
	[PROV_CODEX] = {PROV_CODEX, "codex", "openai", HUB_RESPONSES,
			EP_CODEX, "Authorization", "Bearer ", CODEX_HEADERS,
			UH_CODEX, "/responses", 0, "", "", NULL, NULL,
			0, 1, 0, 0, 0},
	[PROV_COMPAT] = {PROV_COMPAT, "openai-compatibility",
			 "openai-compatibility", HUB_OPENAI, -1,
			 "Authorization", "Bearer ", "", -1, "", 0,
			 "/chat/completions", "/chat/completions", NULL,
			 "/completions", 0, 0, 0, 0, 0},
	[PROV_GEMINI_CLI] = {PROV_GEMINI_CLI, "gemini-cli", "google",
			     HUB_GEMINI, EP_GEMINI_CLI, "Authorization",
			     "Bearer ",
			     "User-Agent: GeminiCLI/0.34.0/{model} (linux; "
			     "x64; terminal)\r\n"
			     "X-Goog-Api-Client: google-genai-sdk/1.41.0 "
			     "gl-node/v22.19.0\r\n", UH_GEMINI_CLI,
			     "/v1internal", 0, ":generateContent",
			     ":streamGenerateContent?alt=sse", ":countTokens",
			     NULL, 1, 0, 0, 0, 0},
	[PROV_ANTIGRAVITY] = {PROV_ANTIGRAVITY, "antigravity", "antigravity",
			      HUB_GEMINI, EP_ANTIGRAVITY, "Authorization",
			      "Bearer ",
			      "User-Agent: antigravity/hub/2.9.1 "
			      "darwin/arm64\r\n", UH_ANTIGRAVITY,
			      "/v1internal", 0, ":generateContent",
			      ":streamGenerateContent?alt=sse", ":countTokens",
			      NULL, 1, 0, 0, 0, 1,
			      "/v1internal:fetchAvailableModels", 1,
			      MLIST_CODE_ASSIST},
	[PROV_CODEX_OAUTH] = {PROV_CODEX_OAUTH, "codex", "openai",
			      HUB_RESPONSES, EP_CODEX, "Authorization",
			      "Bearer ", CODEX_HEADERS, UH_CODEX_LOGIN,
			      "/responses", 0, "", "", NULL, NULL, 0, 1, 0, 0,
			      0},
	[PROV_CLAUDE_OAUTH] = {PROV_CLAUDE_OAUTH, "claude", "anthropic",
			       HUB_CLAUDE, EP_CLAUDE, "Authorization",
			       "Bearer ",
			       "Anthropic-Version: 2023-06-01\r\n"
			       "Anthropic-Dangerous-Direct-Browser-Access: "
			       "true\r\nX-App: cli\r\n"
			       STAINLESS("v26.3.0", "0.94.0")
			       "X-Stainless-Timeout: 600\r\n"
			       "User-Agent: claude-cli/2.1.220 (external, "
			       "cli)\r\n", UH_CLAUDE_LOGIN,
			       "/v1/messages", 0, "?beta=true", "?beta=true",
			       "/count_tokens?beta=true", NULL, 0, 2, 1, 0, 0,
			       "/v1/models?limit=1000", 0, MLIST_CLAUDE},
	[PROV_QWEN] = {PROV_QWEN, "qwen", "qwen", HUB_OPENAI, EP_QWEN,
		       "Authorization", "Bearer ",
		       "User-Agent: QwenCode/0.14.2 (darwin; arm64)\r\n"
		       "X-Dashscope-Useragent: QwenCode/0.14.2 (darwin; "
		       "arm64)\r\nX-Dashscope-Authtype: qwen-oauth\r\n"
		       "X-Dashscope-Cachecontrol: enable\r\n"
		       STAINLESS("v22.17.0", "5.11.0")
		       "Sec-Fetch-Mode: cors\r\nAccept-Language: *\r\n",
		       UH_QWEN, "/chat/completions", 0, "", "", NULL, NULL, 0,
		       0, 0, 1, 0},
};

enum prov_kind prov_of_acct(int k)
{
	static const enum prov_kind of[AK__COUNT] = {
		[AK_GEMINI_CLI] = PROV_GEMINI_CLI,
		[AK_CODEX] = PROV_CODEX_OAUTH,
		[AK_CLAUDE] = PROV_CLAUDE_OAUTH,
		[AK_QWEN] = PROV_QWEN,
		[AK_ANTIGRAVITY] = PROV_ANTIGRAVITY,
	};
	return of[k];
}

/* Claude Code's betas when the client sent none (the reference's
 * v6.9.7 default); a client's own list gets the OAuth beta added. */
#define CLAUDE_OAUTH_BETAS \
	"claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14," \
	"context-management-2025-06-27,prompt-caching-scope-2026-01-05"
#define OAUTH_BETA "oauth-2025-04-20"

/* The path after the base URL's own: the model as one segment where the
 * upstream takes it in the path (Gemini), whatever the name holds.
 * 0, or -1 when the name does not fit or the kind has no such call. */
static int put_path(struct buf *b, const struct prov_desc *d,
		    const struct prov_req *r)
{
	const char *tail = r->path_tail ? r->path_tail
			   : r->count ? d->count
			   : r->completions && d->completions ? d->completions
			   : r->stream ? d->stream : d->gen;
	if (r->list) {
		if (!d->list)
			return -1;
		buf_puts(b, d->list);
		return 0;
	}
	buf_puts(b, d->path);
	if (d->model_segment) {
		char seg[3 * MODEL_NAME_MAX + 1];
		int n = url_encode_segment(r->upmodel, strlen(r->upmodel), seg,
					   sizeof(seg));
		if (n < 0)
			return -1;
		buf_put(b, seg, (size_t)n);
	}
	if (!tail)
		return -1;
	buf_puts(b, tail);
	return 0;
}

const struct prov_desc *prov_desc(enum prov_kind k)
{
	return &descs[k];
}

void prov_call_init(struct prov_call *pc)
{
	memset(&pc->t, 0, sizeof(pc->t));
	buf_init(&pc->path, UPSTREAM_PATH_MAX);
	buf_init(&pc->headers, UPSTREAM_HEADERS_MAX);
	buf_init(&pc->pre, UPSTREAM_PATH_MAX);
	pc->extra_hdr_off = 0;
	pc->body_skip = 0;
}

void prov_call_free(struct prov_call *pc)
{
	buf_free(&pc->path);
	buf_free(&pc->headers);
	buf_free(&pc->pre);
}

/* ---- targets ----------------------------------------------------------------- */

/*
 * Parsed upstream targets, remembered by the addresses of the base-URL
 * and proxy-url strings and the config generation: within one generation
 * the config's strings neither change nor move, so a request does not
 * parse its provider's URL (or proxy-url) again.  A few entries cover the
 * usual one or two providers; a miss just parses.
 */
static struct memo {
	const char *src, *proxy;
	unsigned gen;
	int valid;
	struct hc_target t;       /* proxy fields included */
	size_t path_len;
	char path[sizeof(((struct url *)0)->path)];
} memo[PROV_TARGET_MEMO];


int prov_target(const char *base, const char *proxy, struct hc_target *t,
		char *path, size_t cap)
{
	struct url ub, *u = &ub;
	size_t n;

	memset(t, 0, sizeof(*t));
	if (url_parse(base, u) < 0 ||
	    (u->scheme != URL_HTTP && u->scheme != URL_HTTPS))
		return TG_BAD_BASE;
	t->tls = u->scheme == URL_HTTPS;
	t->port = u->port;
	memcpy(t->host, u->host, sizeof(t->host));
	n = strlen(u->path);
	if (n >= cap)
		return TG_BAD_BASE;
	memcpy(path, u->path, n + 1);
	if (proxy) {
		if (url_parse(proxy, u) < 0)
			return TG_BAD_PROXY;
		t->proxy = (int)u->scheme + 1;
		t->proxy_port = u->port;
		memcpy(t->proxy_host, u->host, sizeof(t->proxy_host));
		memcpy(t->proxy_user, u->user, sizeof(t->proxy_user));
		memcpy(t->proxy_pass, u->pass, sizeof(t->proxy_pass));
	}
	return TG_OK;
}

static int fill_target(const char *proxy, const char *base, struct memo *m)
{
	int rc = prov_target(base, proxy, &m->t, m->path, sizeof(m->path));
	m->path_len = rc == TG_OK ? strlen(m->path) : 0;
	return rc;
}

static const struct memo *target_for(unsigned gen, const char *base,
				     const char *proxy, int *rc)
{
	struct memo *m = &memo[(((uintptr_t)base ^ (uintptr_t)proxy) >> 4) %
			       PROV_TARGET_MEMO];
	*rc = TG_OK;
	if (!m->valid || m->src != base || m->proxy != proxy ||
	    m->gen != gen) {
		*rc = fill_target(proxy, base, m);
		m->valid = *rc == TG_OK;
		m->src = base;
		m->proxy = proxy;
		m->gen = gen;
	}
	return m;
}

/* ---- headers -------------------------------------------------------------------- */

/*
 * Who decides a header, strongest first: the entry's own header lines
 * (sent last, each suppressing ours of its name); the account file's
 * user_agent; the kind's lines of [upstream-headers] in the running
 * config (read on each call, so a reload applies to the next call); the
 * descriptor's fixed line.  The credential and the headers that depend
 * on the call are ours alone: cfg.c refuses them in [upstream-headers].
 */

/* The line of l ("Name: value" each) that sets the header named by the
 * n bytes at name, in any case; NULL if none. */
static const char *line_for(const struct cfg_strlist *l, const char *name,
			    size_t n)
{
	size_t i;
	for (i = 0; l && i < l->n; i++)
		if (!strncasecmp(l->v[i], name, n) && l->v[i][n] == ':')
			return l->v[i];
	return NULL;
}

/* Does the entry's configured header list set this header? */
static int overridden(const struct cfg_strlist *extra, const char *name)
{
	return line_for(extra, name, strlen(name)) != NULL;
}

/* One header line of ours (value v1 v2), unless the entry sets it. */
static void our_header(struct buf *hd, const struct cfg_strlist *extra,
		       const char *name, const char *v1, const char *v2)
{
	if (overridden(extra, name))
		return;
	buf_puts(hd, name);
	buf_puts(hd, ": ");
	buf_puts(hd, v1);
	if (v2)
		buf_puts(hd, v2);
	buf_puts(hd, "\r\n");
}

#define MODEL_MARK "{model}"

/* One line of the kind's (the n bytes at p, "Name: value"), "{model}"
 * in its value replaced by the upstream model name (checked at the door:
 * no control characters).  Not sent when its value is empty (removed),
 * when the entry sets the header, nor a User-Agent when the account has
 * its own. */
static void kind_line(struct buf *hd, const struct prov_req *r,
		      const char *p, size_t n)
{
	const char *end = p + n, *v, *m;
	size_t nn = strcspn(p, ":");

	for (v = p + nn + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	if (v == end || line_for(r->k->headers, p, nn) ||
	    (r->k->user_agent && nn == 10 && !strncasecmp(p, "User-Agent", 10)))
		return;
	buf_put(hd, p, nn);
	buf_puts(hd, ": ");
	while ((m = memmem(v, (size_t)(end - v), MODEL_MARK,
			   sizeof(MODEL_MARK) - 1)) != NULL) {
		buf_put(hd, v, (size_t)(m - v));
		buf_puts(hd, r->upmodel ? r->upmodel : "");
		v = m + sizeof(MODEL_MARK) - 1;
	}
	buf_put(hd, v, (size_t)(end - v));
	buf_puts(hd, "\r\n");
}

/* Does the descriptor's fixed text have a line for the header named by
 * the n bytes at name? */
static int fixed_has(const char *fixed, const char *name, size_t n)
{
	for (; *fixed; fixed = strstr(fixed, "\r\n") + 2)
		if (!strncasecmp(fixed, name, n) && fixed[n] == ':')
			return 1;
	return 0;
}

/* The kind's headers: the descriptor's fixed lines in their order, each
 * replaced (or removed) by the configured line of its name, then the
 * configured lines of other names, in the config's order. */
static void kind_headers(struct buf *hd, const struct prov_req *r,
			 const struct cfg_strlist *conf)
{
	const char *f, *end, *c;
	size_t i;

	for (f = r->d->fixed; *f; f = end + 2) {
		end = strstr(f, "\r\n");
		c = line_for(conf, f, strcspn(f, ":"));
		if (c)
			kind_line(hd, r, c, strlen(c));
		else
			kind_line(hd, r, f, (size_t)(end - f));
	}
	for (i = 0; conf && i < conf->n; i++)
		if (!fixed_has(r->d->fixed, conf->v[i],
			       strcspn(conf->v[i], ":")))
			kind_line(hd, r, conf->v[i], strlen(conf->v[i]));
}

/* Does the comma list have this token? */
static int has_token(const char *list, const char *tok)
{
	size_t n = strlen(tok);
	const char *p = list;
	while ((p = strstr(p, tok)) != NULL) {
		if ((p == list || p[-1] == ',' || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

/* The Code Assist envelope: the hub wrote the body with an empty project
 * among the envelope's first members; the account's goes in its place,
 * and what comes before it is sent ahead of the body (pc->pre).  The
 * bytes "project":"" cannot occur inside a JSON string (its quotes would
 * be escaped), so the first of them is the member. */
#define EMPTY_PROJECT "\"project\":\"\""
#define ENVELOPE_HEAD_MAX 2048

static const char *envelope(const struct prov_req *r, struct prov_call *pc)
{
	size_t n = sizeof(EMPTY_PROJECT) - 1;
	size_t scan = r->body_len < ENVELOPE_HEAD_MAX ? r->body_len
						      : ENVELOPE_HEAD_MAX;
	const char *at = r->body ? memmem(r->body, scan, EMPTY_PROJECT, n)
				 : NULL;
	if (!at)
		return "request body is not a Code Assist envelope";
	if (!r->k->project || !*r->k->project)
		return "account has no project";
	buf_put(&pc->pre, r->body, (size_t)(at - r->body));
	buf_puts(&pc->pre, "\"project\":");
	buf_json_cstr(&pc->pre, r->k->project);
	pc->body_skip = (size_t)(at - r->body) + n;
	return NULL;
}

const char *prov_prepare(const struct cfg *cfg, unsigned gen,
			 const struct prov_req *r, struct prov_call *pc)
{
	const struct prov_desc *d = r->d;
	const struct prov_key *k = r->k;
	const struct cfg_strlist *extra = k->headers;
	const struct memo *m;
	struct memo own;
	const char *base, *proxy, *err;
	size_t i;
	int rc;

	base = k->base_url ? k->base_url
	       : d->endpoint >= 0 ? cfg->endpoints[d->endpoint] : NULL;
	if (!base)
		return "provider has no base-url";
	proxy = k->proxy_url ? k->proxy_url : cfg->proxy_url;
	if (k->volatile_strings) {
		rc = fill_target(proxy, base, &own);
		m = &own;
	} else {
		m = target_for(gen, base, proxy, &rc);
	}
	if (rc == TG_BAD_PROXY)
		return "proxy-url is not a valid URL";
	if (rc != TG_OK)
		return k->base_url ? "provider base-url is not a valid http(s) "
				     "URL"
				   : "[endpoints] URL is not a valid http(s) URL";
	pc->t = m->t;
	buf_reset(&pc->path);
	buf_reset(&pc->headers);
	buf_reset(&pc->pre);
	pc->body_skip = 0;
	buf_put(&pc->path, m->path, m->path_len);
	if (put_path(&pc->path, d, r) < 0)
		return r->list ? "this provider has no model list"
		       : r->count && !d->count ? "this provider cannot count "
						 "tokens"
		       : "model name too long for a path";
	buf_putc(&pc->path, '\0');
	pc->path.len--;
	if (d->envelope && !r->count && !r->path_tail && !r->list &&
	    (err = envelope(r, pc)) != NULL)
		return err;

	our_header(&pc->headers, extra, "Content-Type", "application/json",
		   NULL);
	if (k->user_agent)
		our_header(&pc->headers, extra, "User-Agent", k->user_agent,
			   NULL);
	else if (r->ua_name)
		our_header(&pc->headers, extra, "User-Agent", "cli-proxy-api-",
			   r->ua_name);
	if (!d->no_accept)
		our_header(&pc->headers, extra, "Accept",
			   r->stream ? "text/event-stream"
				     : "application/json", NULL);
	kind_headers(&pc->headers, r, d->up_headers >= 0
				      ? &cfg->up_headers[d->up_headers] : NULL);
	if (d->kind == PROV_CLAUDE_OAUTH) {
		if (r->list) /* what an OAuth token needs, no more */
			our_header(&pc->headers, extra, "Anthropic-Beta",
				   OAUTH_BETA, NULL);
		else if (!r->beta)
			our_header(&pc->headers, extra, "Anthropic-Beta",
				   CLAUDE_OAUTH_BETAS, NULL);
		else if (!has_token(r->beta, OAUTH_BETA))
			our_header(&pc->headers, extra, "Anthropic-Beta",
				   r->beta, "," OAUTH_BETA);
		else
			our_header(&pc->headers, extra, "Anthropic-Beta",
				   r->beta, NULL);
	} else if (r->beta) {
		our_header(&pc->headers, extra, "anthropic-beta", r->beta, NULL);
	}
	if (k->key)
		our_header(&pc->headers, extra, d->auth_name, d->auth_prefix,
			   k->key);
	if (k->account_id)
		our_header(&pc->headers, extra, "Chatgpt-Account-Id",
			   k->account_id, NULL);
	if (r->session)
		our_header(&pc->headers, extra, "Session-Id", r->session,
			   NULL);
	/* the entry's own headers last; request-log hides their values */
	pc->extra_hdr_off = pc->headers.len;
	for (i = 0; extra && i < extra->n; i++) {
		buf_puts(&pc->headers, extra->v[i]);
		buf_puts(&pc->headers, "\r\n");
	}
	buf_putc(&pc->headers, '\0');
	pc->headers.len--;
	if (pc->path.overflow)
		return "upstream path too long";
	if (pc->headers.overflow || pc->pre.overflow)
		return "upstream request headers too long";
	return NULL;
}
