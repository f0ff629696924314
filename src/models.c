/*
 * models.c - static model tables per provider and the walk over what the
 * running config serves (see models.h).
 */
#include "models.h"

#include <string.h>

#include "cfg.h"
#include "sizes.h"

struct fixed {
	const char *id, *display;
	long created;
};

static const struct fixed gemini_models[] = {
	{"gemini-2.5-pro", "Gemini 2.5 Pro", 1750118400},
	{"gemini-2.5-flash", "Gemini 2.5 Flash", 1750118400},
	{"gemini-2.5-flash-lite", "Gemini 2.5 Flash Lite", 1753142400},
	{NULL, NULL, 0},
};

static const struct fixed claude_models[] = {
	{"claude-opus-4-1-20250805", "Claude Opus 4.1", 1754352000},
	{"claude-opus-4-20250514", "Claude Opus 4", 1747180800},
	{"claude-sonnet-4-20250514", "Claude Sonnet 4", 1747180800},
	{"claude-3-7-sonnet-20250219", "Claude Sonnet 3.7", 1739923200},
	{"claude-3-5-haiku-20241022", "Claude Haiku 3.5", 1729555200},
	{NULL, NULL, 0},
};

static const struct fixed codex_models[] = {
	{"gpt-5", "GPT 5", 1754524800},
	{"gpt-5-minimal", "GPT 5 Minimal", 1754524800},
	{"gpt-5-low", "GPT 5 Low", 1754524800},
	{"gpt-5-medium", "GPT 5 Medium", 1754524800},
	{"gpt-5-high", "GPT 5 High", 1754524800},
	{"gpt-5-codex", "GPT 5 Codex", 1757894400},
	{"gpt-5-codex-low", "GPT 5 Codex Low", 1757894400},
	{"gpt-5-codex-medium", "GPT 5 Codex Medium", 1757894400},
	{"gpt-5-codex-high", "GPT 5 Codex High", 1757894400},
	{"codex-mini-latest", "Codex Mini", 1747353600},
	{NULL, NULL, 0},
};

const char *models_provider_name(enum prov_kind p)
{
	return prov_desc(p)->owned_by;
}

/* The walk; seen() makes ids unique across providers. */
struct walk {
	const struct cfg *c;
	int (*cb)(const struct model_info *, void *);
	void *u;
	int stop;
};

static int seen_before(const struct cfg *c, size_t compat_i, size_t model_i,
		       const char *id)
{
	size_t i, j;
	const struct fixed *tabs[3] = {
		c->gl_api_keys.n ? gemini_models : NULL,
		c->n_claude_keys ? claude_models : NULL,
		c->n_codex_keys ? codex_models : NULL,
	};
	for (i = 0; i < 3; i++)
		for (j = 0; tabs[i] && tabs[i][j].id; j++)
			if (!strcmp(tabs[i][j].id, id))
				return 1;
	for (i = 0; i <= compat_i && i < c->n_compat; i++)
		for (j = 0; j < c->compat[i].n_models; j++) {
			if (i == compat_i && j == model_i)
				return 0;
			if (!strcmp(c->compat[i].models[j].alias, id))
				return 1;
		}
	return 0;
}

static void walk_fixed(struct walk *w, const struct fixed *t, enum prov_kind p)
{
	struct model_info m;
	for (; t->id && !w->stop; t++) {
		memset(&m, 0, sizeof(m));
		m.id = t->id;
		m.display_name = t->display;
		m.owned_by = models_provider_name(p);
		m.created = t->created;
		m.provider = p;
		w->stop = w->cb(&m, w->u);
	}
}

void models_each(const struct cfg *c,
		 int (*cb)(const struct model_info *m, void *u), void *u)
{
	struct walk w = {c, cb, u, 0};
	size_t i, j;

	if (c->gl_api_keys.n)
		walk_fixed(&w, gemini_models, PROV_GEMINI);
	if (c->n_claude_keys)
		walk_fixed(&w, claude_models, PROV_CLAUDE);
	if (c->n_codex_keys)
		walk_fixed(&w, codex_models, PROV_CODEX);
	for (i = 0; i < c->n_compat && !w.stop; i++) {
		const struct cfg_compat *x = &c->compat[i];
		for (j = 0; j < x->n_models && !w.stop; j++) {
			struct model_info m;
			if (seen_before(c, i, j, x->models[j].alias))
				continue;
			memset(&m, 0, sizeof(m));
			m.id = x->models[j].alias;
			m.display_name = x->models[j].name;
			m.owned_by = x->name;
			m.created = 0;
			m.provider = PROV_COMPAT;
			m.entry = x;
			m.upstream = x->models[j].name;
			w.stop = cb(&m, u);
		}
	}
}

/* Bytes a model name may hold besides ASCII letters and digits. */
static int name_punct(unsigned char c)
{
	switch (c) {
	case '-': case '.': case '_': case '~': case ':': case '/': case '@':
	case '+': case '=': case ',': case '(': case ')': case '[': case ']':
	case '!':
		return 1;
	default:
		return 0;
	}
}

const char *models_name_check(const char *s, size_t n)
{
	size_t i, seg = 0;

	if (n == 0)
		return "\"model\" is empty";
	if (n > MODEL_NAME_MAX)
		return "\"model\" is longer than the 255 bytes a model name "
		       "may have";
	for (i = 0; i <= n; i++) {
		unsigned char c;
		if (i == n || s[i] == '/') {
			size_t len = i - seg;
			if (len == 0 || (len == 1 && s[seg] == '.') ||
			    (len == 2 && s[seg] == '.' && s[seg + 1] == '.'))
				return "\"model\" has an empty, '.' or '..' "
				       "path segment";
			seg = i + 1;
			continue;
		}
		c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || name_punct(c)))
			return "\"model\" has a character a model name may "
			       "not have: model names are ASCII letters, "
			       "digits and - . _ ~ : / @ + = , ( ) [ ] !";
	}
	return NULL;
}
