/*
 * route.c - model routing snapshots (see route.h).
 */
#include "route.h"

#include <stdlib.h>
#include <string.h>

static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	size_t i;
	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* The slot holding id, or the empty slot where it would go. */
static uint32_t *slot_for(const struct route *r, const char *id, size_t n)
{
	size_t i = hash(id, n) & (r->nslots - 1);
	for (;;) {
		uint32_t *s = &r->slots[i];
		const char *m;
		if (!*s)
			return s;
		m = r->models[*s - 1].id;
		if (strlen(m) == n && !memcmp(m, id, n))
			return s;
		i = (i + 1) & (r->nslots - 1);
	}
}

struct collect {
	struct route *r;
	size_t cap;
	int oom;
};

/* models_each gives every id once (the first provider claiming it). */
static int add_model(const struct model_info *m, void *u)
{
	struct collect *c = u;
	struct route *r = c->r;
	if (r->nmodels == c->cap) {
		size_t ncap = c->cap ? 2 * c->cap : 32;
		struct model_info *nm = realloc(r->models, ncap * sizeof(*nm));
		if (!nm) {
			c->oom = 1;
			return 1;
		}
		r->models = nm;
		c->cap = ncap;
	}
	r->models[r->nmodels++] = *m;
	return 0;
}

void route_unref(struct route *r)
{
	if (!r || --r->refs > 0)
		return;
	cfg_free(&r->cfg);
	free(r->models);
	free(r->slots);
	free(r->cursor);
	free(r);
}

struct route *route_ref(struct route *r)
{
	r->refs++;
	return r;
}

struct route *route_build(struct cfg *cfg, unsigned gen)
{
	struct route *r = calloc(1, sizeof(*r));
	struct collect c;
	size_t i;

	if (!r) {
		cfg_free(cfg);
		return NULL;
	}
	r->refs = 1;
	r->gen = gen;
	r->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	c.r = r;
	c.cap = 0;
	c.oom = 0;
	models_each(&r->cfg, add_model, &c);
	r->nslots = 16;
	while (r->nslots < 2 * r->nmodels)
		r->nslots *= 2;
	r->slots = calloc(r->nslots, sizeof(*r->slots));
	r->cursor = calloc(r->cfg.n_compat + PROV__COUNT, sizeof(*r->cursor));
	if (c.oom || !r->slots || !r->cursor) {
		route_unref(r);
		return NULL;
	}
	for (i = 0; i < r->nmodels; i++) {
		const char *id = r->models[i].id;
		*slot_for(r, id, strlen(id)) = (uint32_t)i + 1;
	}
	return r;
}

int route_find(const struct route *r, const char *id, size_t len,
	       struct model_info *out)
{
	const struct cfg *c = &r->cfg;
	uint32_t s = *slot_for(r, id, len);

	if (s) {
		*out = r->models[s - 1];
		return 1;
	}
	memset(out, 0, sizeof(*out));
	if (len > 7 && !memcmp(id, "gemini-", 7) && c->gl_api_keys.n) {
		out->provider = PROV_GEMINI;
		out->owned_by = prov_desc(PROV_GEMINI)->owned_by;
		return 1;
	}
	if (len > 7 && !memcmp(id, "claude-", 7) && c->n_claude_keys) {
		out->provider = PROV_CLAUDE;
		out->owned_by = prov_desc(PROV_CLAUDE)->owned_by;
		return 1;
	}
	return 0;
}

void route_each(const struct route *r,
		int (*cb)(const struct model_info *m, void *u), void *u)
{
	size_t i;
	for (i = 0; i < r->nmodels; i++)
		if (cb(&r->models[i], u))
			return;
}

size_t route_nkeys(const struct route *r, enum prov_kind k,
		   const struct cfg_compat *compat)
{
	switch (k) {
	case PROV_GEMINI: return r->cfg.gl_api_keys.n;
	case PROV_CLAUDE: return r->cfg.n_claude_keys;
	case PROV_CODEX: return r->cfg.n_codex_keys;
	default: return compat ? compat->api_keys.n : 0;
	}
}

/* The next index of n for cursor slot, round-robin. */
static size_t next(struct route *r, size_t slot, size_t n)
{
	return n ? r->cursor[slot]++ % n : 0;
}

static void from_entry(struct prov_key *out, const struct cfg_key_entry *e)
{
	out->key = e->api_key;
	out->base_url = e->base_url;
	out->proxy_url = e->proxy_url;
	out->headers = &e->headers;
}

int route_key(struct route *r, enum prov_kind k,
	      const struct cfg_compat *compat, struct prov_key *out,
	      const char **msg)
{
	const struct cfg *c = &r->cfg;
	size_t fam = c->n_compat + (size_t)k;

	memset(out, 0, sizeof(*out));
	switch (k) {
	case PROV_GEMINI:
		if (!c->gl_api_keys.n) {
			*msg = "no generative-language-api-key configured";
			return 500;
		}
		out->key = c->gl_api_keys.v[next(r, fam, c->gl_api_keys.n)];
		return 0;
	case PROV_CLAUDE:
		if (!c->n_claude_keys) {
			*msg = "no claude-api-key configured";
			return 500;
		}
		from_entry(out, &c->claude_keys[next(r, fam, c->n_claude_keys)]);
		return 0;
	case PROV_CODEX:
		if (!c->n_codex_keys) {
			*msg = "no codex-api-key configured";
			return 500;
		}
		from_entry(out, &c->codex_keys[next(r, fam, c->n_codex_keys)]);
		return 0;
	default:
		out->base_url = compat->base_url;
		out->proxy_url = compat->proxy_url;
		out->headers = &compat->headers;
		if (compat->api_keys.n)
			out->key = compat->api_keys.v[next(
				r, (size_t)(compat - c->compat),
				compat->api_keys.n)];
		return 0;
	}
}
