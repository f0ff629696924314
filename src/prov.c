/*
 * prov.c - provider descriptors and the building of one upstream call
 * (see prov.h).  No formatted printing: this runs for every request.
 */
#include "prov.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "sizes.h"
#include "url.h"

static const struct prov_desc descs[PROV__COUNT] = {
	[PROV_GEMINI] = {PROV_GEMINI, "gemini", "google", HUB_GEMINI,
			 EP_GENERATIVE_LANGUAGE, "x-goog-api-key", "", "",
			 "/v1beta/models/", 1, ":generateContent",
			 ":streamGenerateContent?alt=sse", ":countTokens", NULL},
	[PROV_CLAUDE] = {PROV_CLAUDE, "claude", "anthropic", HUB_CLAUDE,
			 EP_CLAUDE, "x-api-key", "",
			 "anthropic-version: 2023-06-01\r\n", "/v1/messages", 0,
			 "", "", "/count_tokens", NULL},
	[PROV_CODEX] = {PROV_CODEX, "codex", "openai", HUB_RESPONSES,
			EP_CODEX, "Authorization", "Bearer ", "", "/responses",
			0, "", "", NULL, NULL},
	[PROV_COMPAT] = {PROV_COMPAT, "openai-compatibility",
			 "openai-compatibility", HUB_OPENAI, -1,
			 "Authorization", "Bearer ", "", "", 0,
			 "/chat/completions", "/chat/completions", NULL,
			 "/completions"},
};

/* The path after the base URL's own: the model as one segment where the
 * upstream takes it in the path (Gemini), whatever the name holds.
 * 0, or -1 when the name does not fit or the kind has no such call. */
static int put_path(struct buf *b, const struct prov_desc *d,
		    const struct prov_req *r)
{
	const char *tail = r->count ? d->count
			   : r->completions && d->completions ? d->completions
			   : r->stream ? d->stream : d->gen;
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
	pc->extra_hdr_off = 0;
}

void prov_call_free(struct prov_call *pc)
{
	buf_free(&pc->path);
	buf_free(&pc->headers);
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

enum { TG_OK, TG_BAD_BASE, TG_BAD_PROXY };

static int fill_target(const char *proxy, const char *base, struct memo *m)
{
	struct url ub, *u = &ub;

	memset(&m->t, 0, sizeof(m->t));
	if (url_parse(base, u) < 0 ||
	    (u->scheme != URL_HTTP && u->scheme != URL_HTTPS))
		return TG_BAD_BASE;
	m->t.tls = u->scheme == URL_HTTPS;
	m->t.port = u->port;
	memcpy(m->t.host, u->host, sizeof(m->t.host));
	m->path_len = strlen(u->path);
	memcpy(m->path, u->path, m->path_len + 1);
	if (proxy) {
		if (url_parse(proxy, u) < 0)
			return TG_BAD_PROXY;
		m->t.proxy = (int)u->scheme + 1;
		m->t.proxy_port = u->port;
		memcpy(m->t.proxy_host, u->host, sizeof(m->t.proxy_host));
		memcpy(m->t.proxy_user, u->user, sizeof(m->t.proxy_user));
		memcpy(m->t.proxy_pass, u->pass, sizeof(m->t.proxy_pass));
	}
	return TG_OK;
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

/* Does the entry's configured header list set this header? */
static int overridden(const struct cfg_strlist *extra, const char *name)
{
	size_t i, n = strlen(name);
	for (i = 0; extra && i < extra->n; i++)
		if (!strncasecmp(extra->v[i], name, n) && extra->v[i][n] == ':')
			return 1;
	return 0;
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

/* The descriptor's fixed lines, each unless the entry sets it. */
static void fixed_headers(struct buf *hd, const struct cfg_strlist *extra,
			  const char *fixed)
{
	while (*fixed) {
		const char *colon = strchr(fixed, ':');
		const char *end = strstr(fixed, "\r\n");
		char name[64];
		size_t n = (size_t)(colon - fixed);
		if (n < sizeof(name)) {
			memcpy(name, fixed, n);
			name[n] = '\0';
			if (!overridden(extra, name))
				buf_put(hd, fixed, (size_t)(end + 2 - fixed));
		}
		fixed = end + 2;
	}
}

const char *prov_prepare(const struct cfg *cfg, unsigned gen,
			 const struct prov_req *r, struct prov_call *pc)
{
	const struct prov_desc *d = r->d;
	const struct prov_key *k = r->k;
	const struct cfg_strlist *extra = k->headers;
	const struct memo *m;
	const char *base;
	size_t i;
	int rc;

	base = k->base_url ? k->base_url
	       : d->endpoint >= 0 ? cfg->endpoints[d->endpoint] : NULL;
	if (!base)
		return "provider has no base-url";
	m = target_for(gen, base, k->proxy_url ? k->proxy_url : cfg->proxy_url,
		       &rc);
	if (rc == TG_BAD_PROXY)
		return "proxy-url is not a valid URL";
	if (rc != TG_OK)
		return k->base_url ? "provider base-url is not a valid http(s) "
				     "URL"
				   : "[endpoints] URL is not a valid http(s) URL";
	pc->t = m->t;
	buf_reset(&pc->path);
	buf_reset(&pc->headers);
	buf_put(&pc->path, m->path, m->path_len);
	if (put_path(&pc->path, d, r) < 0)
		return r->count && !d->count ? "this provider cannot count "
					       "tokens"
					     : "model name too long for a path";
	buf_putc(&pc->path, '\0');
	pc->path.len--;

	our_header(&pc->headers, extra, "Content-Type", "application/json",
		   NULL);
	if (r->ua_name)
		our_header(&pc->headers, extra, "User-Agent", "cli-proxy-api-",
			   r->ua_name);
	our_header(&pc->headers, extra, "Accept",
		   r->stream ? "text/event-stream" : "application/json", NULL);
	fixed_headers(&pc->headers, extra, d->fixed);
	if (r->beta)
		our_header(&pc->headers, extra, "anthropic-beta", r->beta, NULL);
	if (k->key)
		our_header(&pc->headers, extra, d->auth_name, d->auth_prefix,
			   k->key);
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
	if (pc->headers.overflow)
		return "upstream request headers too long";
	return NULL;
}
