/*
 * route.c - routing snapshots (see route.h).
 */
#include "route.h"

#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "mlist.h"

struct route_cfg {
	unsigned refs;
	struct cfg c;
};

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
		m = r->models[*s - 1].m.id;
		if (strlen(m) == n && !memcmp(m, id, n))
			return s;
		i = (i + 1) & (r->nslots - 1);
	}
}

void route_unref(struct route *r)
{
	size_t i;
	if (!r || --r->refs > 0)
		return;
	for (i = 0; i < r->ncreds; i++) {
		acct_unref(r->creds[i].acct);
		mlist_unref(r->creds[i].models);
	}
	if (r->cs && --r->cs->refs == 0) {
		cfg_free(&r->cs->c);
		free(r->cs);
	}
	free(r->creds);
	free(r->cands);
	free(r->models);
	free(r->slots);
	free(r);
}

struct route *route_ref(struct route *r)
{
	r->refs++;
	return r;
}

/* ---- building ------------------------------------------------------------ */

/* (model, candidate) pairs gathered before they are grouped. */
struct pair {
	uint32_t model, cred;
	const char *upstream;
};

struct build {
	struct route *r;
	const struct route_lists *ls;
	size_t cap_models, cap_creds;
	struct pair *pairs;
	size_t npairs, cap_pairs;
	int oom;
};

static struct route_cred *add_cred(struct build *b, enum prov_kind k)
{
	struct route *r = b->r;
	if (r->ncreds == b->cap_creds) {
		size_t n = b->cap_creds ? 2 * b->cap_creds : 16;
		struct route_cred *nc = realloc(r->creds, n * sizeof(*nc));
		if (!nc) {
			b->oom = 1;
			return NULL;
		}
		r->creds = nc;
		b->cap_creds = n;
	}
	memset(&r->creds[r->ncreds], 0, sizeof(r->creds[0]));
	r->creds[r->ncreds].prov = k;
	return &r->creds[r->ncreds++];
}

/* The model's index (added when new, with m's listing fields). */
static long model_index(struct build *b, const struct model_info *m)
{
	struct route *r = b->r;
	size_t i;
	uint32_t *s;

	s = slot_for(r, m->id, strlen(m->id));
	if (*s)
		return (long)*s - 1;
	if (r->nall == b->cap_models) {
		size_t n = b->cap_models ? 2 * b->cap_models : 32;
		struct route_model *nm = realloc(r->models, n * sizeof(*nm));
		if (!nm) {
			b->oom = 1;
			return -1;
		}
		r->models = nm;
		b->cap_models = n;
	}
	i = r->nall++;
	memset(&r->models[i], 0, sizeof(r->models[i]));
	r->models[i].m = *m;
	if (2 * r->nall > r->nslots) { /* grow and rehash */
		size_t j, nn = r->nslots * 2;
		uint32_t *ns = calloc(nn, sizeof(*ns));
		if (!ns) {
			b->oom = 1;
			r->nall--;
			return -1;
		}
		free(r->slots);
		r->slots = ns;
		r->nslots = nn;
		for (j = 0; j < r->nall; j++) {
			const char *id = r->models[j].m.id;
			*slot_for(r, id, strlen(id)) = (uint32_t)j + 1;
		}
	} else {
		*s = (uint32_t)i + 1;
	}
	return (long)i;
}

static void add_pair(struct build *b, long model, size_t cred,
		     const char *upstream)
{
	if (model < 0)
		return;
	if (b->npairs == b->cap_pairs) {
		size_t n = b->cap_pairs ? 2 * b->cap_pairs : 64;
		struct pair *np = realloc(b->pairs, n * sizeof(*np));
		if (!np) {
			b->oom = 1;
			return;
		}
		b->pairs = np;
		b->cap_pairs = n;
	}
	b->pairs[b->npairs].model = (uint32_t)model;
	b->pairs[b->npairs].cred = (uint32_t)cred;
	b->pairs[b->npairs].upstream = upstream;
	b->npairs++;
}

/* Credential c serves model id. */
static void serve_one(struct build *b, size_t c, const char *id,
		      const char *display, long long created)
{
	enum prov_kind k = b->r->creds[c].prov;
	struct model_info m;

	memset(&m, 0, sizeof(m));
	m.id = id;
	m.display_name = display;
	m.owned_by = prov_desc(k)->owned_by;
	m.created = created;
	m.provider = k;
	add_pair(b, model_index(b, &m), c, NULL);
}

static const struct model_fixed *fixed_entry(const struct model_fixed *t,
					     const char *id)
{
	for (; t && t->id; t++)
		if (!strcmp(t->id, id))
			return t;
	return NULL;
}

/* Credential c serves the fixed list of its kind. */
static void serve_table(struct build *b, size_t c, const char *plan)
{
	const struct model_fixed *t = models_table(b->r->creds[c].prov, plan);
	for (; t && t->id && !b->oom; t++)
		serve_one(b, c, t->id, t->display, t->created);
}

/* Credential c serves what its upstream listed, with the table's display
 * name and date where the list has none, and its kind's kept names. */
static void serve_list(struct build *b, size_t c)
{
	enum prov_kind k = b->r->creds[c].prov;
	const struct mlist *l = b->r->creds[c].models;
	const struct model_fixed *table = models_table(k, NULL), *t;
	const char *const *kept = models_kept(k);
	size_t i;

	for (i = 0; i < l->n && !b->oom; i++) {
		const struct mlist_model *e = &l->v[i];
		t = fixed_entry(table, e->id);
		serve_one(b, c, e->id,
			  t && e->display == e->id ? t->display : e->display,
			  t && !e->created ? t->created : e->created);
	}
	for (; kept && *kept && !b->oom; kept++)
		if (!mlist_find(l, *kept) && (t = fixed_entry(table, *kept)))
			serve_one(b, c, t->id, t->display, t->created);
}

/* Credential c serves its upstream's list when it has one, else its
 * kind's table. */
static void serve(struct build *b, size_t c, const char *plan)
{
	struct route_cred *rc = &b->r->creds[c];
	if (b->ls && b->r->cfg->model_list_refresh_ms &&
	    prov_desc(rc->prov)->list && (rc->models = b->ls->of(b->ls->u, rc)))
		mlist_ref(rc->models);
	if (rc->models)
		serve_list(b, c);
	else
		serve_table(b, c, plan);
}

static void key_cred(struct build *b, enum prov_kind k, const char *key,
		     const struct cfg_key_entry *e)
{
	struct route_cred *c = add_cred(b, k);
	if (!c)
		return;
	if (e) {
		c->key.key = e->api_key;
		c->key.base_url = e->base_url;
		c->key.proxy_url = e->proxy_url;
		c->key.headers = &e->headers;
	} else {
		c->key.key = key;
	}
	serve(b, b->r->ncreds - 1, NULL);
}

static void compat_creds(struct build *b, const struct cfg_compat *x)
{
	size_t nk = x->api_keys.n ? x->api_keys.n : 1, i, j;
	for (i = 0; i < nk && !b->oom; i++) {
		struct route_cred *c = add_cred(b, PROV_COMPAT);
		size_t ci;
		if (!c)
			return;
		ci = b->r->ncreds - 1;
		c->compat = x;
		c->key.key = x->api_keys.n ? x->api_keys.v[i] : NULL;
		c->key.base_url = x->base_url;
		c->key.proxy_url = x->proxy_url;
		c->key.headers = &x->headers;
		for (j = 0; j < x->n_models && !b->oom; j++) {
			struct model_info m;
			memset(&m, 0, sizeof(m));
			m.id = x->models[j].alias;
			m.display_name = x->models[j].name;
			m.owned_by = x->name;
			m.provider = PROV_COMPAT;
			m.entry = x;
			m.upstream = x->models[j].name;
			add_pair(b, model_index(b, &m), ci,
				 x->models[j].name);
		}
	}
}

static int by_name(const void *a, const void *b)
{
	const struct acct *x = *(struct acct *const *)a;
	const struct acct *y = *(struct acct *const *)b;
	return strcmp(x->name, y->name);
}

static void account_creds(struct build *b, const struct acct_store *st)
{
	struct acct *a, **v;
	size_t n = 0, i;

	for (a = st ? st->list : NULL; a; a = a->next)
		n += a->usable;
	if (!n)
		return;
	if (!(v = malloc(n * sizeof(*v)))) {
		b->oom = 1;
		return;
	}
	for (n = 0, a = st->list; a; a = a->next)
		if (a->usable)
			v[n++] = a;
	qsort(v, n, sizeof(*v), by_name); /* a stable order */
	for (i = 0; i < n && !b->oom; i++) {
		struct route_cred *c = add_cred(b, prov_of_acct(v[i]->f.kind));
		if (!c)
			break;
		c->acct = acct_ref(v[i]);
		serve(b, b->r->ncreds - 1, v[i]->f.plan_type);
	}
	free(v);
}

/* Families: names no list has, by vendor prefix. */
static const struct family {
	const char *id;           /* the entry's id (never a real name) */
	const char *prefix;
	enum prov_kind kinds[3];
} families[] = {
	{"gemini-*", "gemini-", {PROV_GEMINI, PROV_GEMINI_CLI, PROV_GEMINI}},
	{"claude-*", "claude-", {PROV_CLAUDE, PROV_CLAUDE_OAUTH, PROV_CLAUDE}},
	{"gpt-*", "gpt-", {PROV_CODEX, PROV_CODEX_OAUTH, PROV_CODEX}},
};

static void add_families(struct build *b)
{
	struct route *r = b->r;
	size_t f, c;
	for (f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		const struct family *fa = &families[f];
		long mi = -1;
		for (c = 0; c < r->ncreds && !b->oom; c++) {
			enum prov_kind k = r->creds[c].prov;
			if (k != fa->kinds[0] && k != fa->kinds[1])
				continue;
			if (mi < 0) {
				struct model_info m;
				memset(&m, 0, sizeof(m));
				m.id = fa->id;
				m.display_name = fa->id;
				m.owned_by = prov_desc(k)->owned_by;
				m.provider = k;
				mi = model_index(b, &m);
			}
			add_pair(b, mi, c, NULL);
		}
	}
}

static int by_model(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	if (x->model != y->model)
		return x->model < y->model ? -1 : 1;
	return x->cred < y->cred ? -1 : x->cred > y->cred;
}

/* Group the pairs by model into cands. */
static void group(struct build *b)
{
	struct route *r = b->r;
	size_t i;

	if (b->npairs) /* none: no config, no accounts (pairs is NULL) */
		qsort(b->pairs, b->npairs, sizeof(*b->pairs), by_model);
	r->cands = malloc((b->npairs ? b->npairs : 1) * sizeof(*r->cands));
	if (!r->cands) {
		b->oom = 1;
		return;
	}
	for (i = 0; i < b->npairs; i++) {
		struct route_model *m = &r->models[b->pairs[i].model];
		/* the same credential twice for one model (a compat list
		 * naming an alias twice) counts once */
		if (i && b->pairs[i].model == b->pairs[i - 1].model &&
		    b->pairs[i].cred == b->pairs[i - 1].cred)
			continue;
		if (!m->n)
			m->first = (uint32_t)r->ncands;
		m->n++;
		m->kinds |= 1u << r->creds[b->pairs[i].cred].prov;
		r->cands[r->ncands].cred = b->pairs[i].cred;
		r->cands[r->ncands].upstream = b->pairs[i].upstream;
		r->ncands++;
	}
	for (i = 0; i < r->nall; i++) {
		struct route_model *m = &r->models[i];
		const struct route_cred *c = &r->creds[r->cands[m->first].cred];
		/* listed with its first candidate's kind and names */
		m->m.provider = c->prov;
		if (c->prov == PROV_COMPAT) {
			m->m.entry = c->compat;
			m->m.upstream = r->cands[m->first].upstream;
		}
		m->m.rm = m;
	}
}

static struct route *build(struct route_cfg *cs, const struct acct_store *st,
			   const struct route_lists *ls, unsigned gen)
{
	struct route *r = calloc(1, sizeof(*r));
	const struct cfg *c = &cs->c;
	struct build b;
	size_t i;

	if (!r)
		return NULL;
	r->refs = 1;
	r->gen = gen;
	r->cs = cs;
	cs->refs++;
	r->cfg = &cs->c;
	r->acct_gen = st ? st->gen : 0;
	memset(&b, 0, sizeof(b));
	b.r = r;
	b.ls = ls;
	r->nslots = 64;
	if (!(r->slots = calloc(r->nslots, sizeof(*r->slots)))) {
		route_unref(r);
		return NULL;
	}
	for (i = 0; i < c->gl_api_keys.n; i++)
		key_cred(&b, PROV_GEMINI, c->gl_api_keys.v[i], NULL);
	for (i = 0; i < c->n_claude_keys; i++)
		key_cred(&b, PROV_CLAUDE, NULL, &c->claude_keys[i]);
	for (i = 0; i < c->n_codex_keys; i++)
		key_cred(&b, PROV_CODEX, NULL, &c->codex_keys[i]);
	for (i = 0; i < c->n_compat; i++)
		compat_creds(&b, &c->compat[i]);
	account_creds(&b, st);
	r->nmodels = r->nall;
	add_families(&b);
	if (!b.oom)
		group(&b);
	free(b.pairs);
	if (b.oom) {
		route_unref(r);
		return NULL;
	}
	return r;
}

struct route *route_build(struct cfg *cfg, const struct acct_store *st,
			  const struct route_lists *ls, unsigned gen)
{
	struct route_cfg *cs = calloc(1, sizeof(*cs));
	struct route *r;

	if (!cs) {
		cfg_free(cfg);
		return NULL;
	}
	cs->c = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	r = build(cs, st, ls, gen);
	if (!r) {
		cfg_free(&cs->c);
		free(cs);
		return NULL;
	}
	return r;
}

struct route *route_rebuild(const struct route *old,
			    const struct acct_store *st,
			    const struct route_lists *ls, unsigned gen)
{
	return build(old->cs, st, ls, gen);
}

/* ---- lookups ------------------------------------------------------------------ */

int route_find(const struct route *r, const char *id, size_t len,
	       struct model_info *out)
{
	uint32_t s = *slot_for(r, id, len);
	size_t f;

	if (s && s - 1 < r->nmodels) {
		*out = r->models[s - 1].m;
		return 1;
	}
	memset(out, 0, sizeof(*out));
	for (f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		size_t pl = strlen(families[f].prefix);
		uint32_t fs;
		if (len <= pl || memcmp(id, families[f].prefix, pl))
			continue;
		fs = *slot_for(r, families[f].id, strlen(families[f].id));
		if (!fs)
			return 0;
		*out = r->models[fs - 1].m;
		out->id = NULL;
		return 1;
	}
	return 0;
}

const struct route_model *route_family(const struct route *r,
				       const char *prefix)
{
	size_t f;
	for (f = 0; f < sizeof(families) / sizeof(families[0]); f++)
		if (!strcmp(families[f].prefix, prefix)) {
			const char *id = families[f].id;
			uint32_t s = *slot_for(r, id, strlen(id));
			return s ? &r->models[s - 1] : NULL;
		}
	return NULL;
}

void route_each(const struct route *r,
		int (*cb)(const struct model_info *m, void *u), void *u)
{
	size_t i;
	for (i = 0; i < r->nmodels; i++)
		if (cb(&r->models[i].m, u))
			return;
}

static int usable(const struct route_cred *c, int64_t now)
{
	return c->acct ? acct_available(c->acct, now) : c->rest_until <= now;
}

static int64_t ready_at(const struct route_cred *c)
{
	return c->acct ? acct_available_at(c->acct) : c->rest_until;
}

int route_pick(struct route *r, const struct route_model *rm, int64_t now,
	       int64_t *when)
{
	struct route_model *m = &r->models[rm - r->models];
	uint32_t i;
	int64_t first = 0;

	for (i = 0; i < m->n; i++) {
		uint32_t at = (m->cursor + i) % m->n;
		const struct route_cred *c = route_cred_at(r, m, (int)at);
		if (usable(c, now)) {
			m->cursor = at + 1;
			return (int)at;
		}
		if (!first || ready_at(c) < first)
			first = ready_at(c);
	}
	if (when)
		*when = first;
	return -1;
}

void route_used(struct route *r, const struct route_model *rm, int i)
{
	r->models[rm - r->models].cursor = (unsigned)i + 1;
}

int route_next(const struct route *r, const struct route_model *rm, int i0,
	       int i, int64_t now)
{
	const struct route_cred *c0 = route_cred_at(r, rm, i0);
	int j;

	for (j = (i + 1) % (int)rm->n; j != i0; j = (j + 1) % (int)rm->n) {
		const struct route_cred *c = route_cred_at(r, rm, j);
		if (c->prov == c0->prov && c->compat == c0->compat &&
		    usable(c, now))
			return j;
	}
	return -1;
}

void route_key_of(const struct route_cred *c, int p, struct prov_key *out)
{
	const struct acct *a = c->acct;
	if (!a) {
		*out = c->key;
		return;
	}
	memset(out, 0, sizeof(*out));
	out->key = a->f.access_token;
	out->base_url = a->base;
	out->proxy_url = a->f.proxy_url;
	out->project = p >= 0 && (size_t)p < a->nproj ? a->projects[p] : NULL;
	out->account_id = a->f.account_id;
	out->user_agent = a->f.user_agent;
	out->volatile_strings = 1;
}
