/*
 * test_route.c - routing snapshots (route.c), provider calls (prov.c),
 * client framing (frame.c) and error shapes (apierr.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apierr.h"
#include "cfg.h"
#include "frame.h"
#include "hub.h"
#include "json.h"
#include "mlist.h"
#include "prov.h"
#include "route.h"
#include "t.h"

static const char *const CONF =
	"generative-language-api-key = g1\n"
	"generative-language-api-key = g2\n"
	"[claude-api-key]\n"
	"api-key = c1\n"
	"[claude-api-key]\n"
	"api-key = c2\n"
	"base-url = http://127.0.0.1:9/relay\n"
	"header = X-Team: blue\n"
	"[openai-compatibility]\n"
	"name = first\n"
	"base-url = http://127.0.0.1:9/v1\n"
	"api-keys = k1\n"
	"api-keys = k2\n"
	"api-keys = k3\n"
	"model = up/one = alias-one\n"
	"model = gemini-2.5-pro\n"
	"[openai-compatibility]\n"
	"name = second\n"
	"base-url = http://127.0.0.1:9/v2\n"
	"model = up/two = alias-two\n"
	"model = only-second\n";

static struct route *build(const char *text, unsigned gen)
{
	struct cfg c;
	char err[256];
	if (cfg_load_string(&c, text, "t.ini", err, sizeof(err)) < 0) {
		FAILF("config: %s", err);
		return NULL;
	}
	return route_build(&c, NULL, NULL, gen);
}

/* The key the next request for model id would use. */
static struct prov_key next_key(struct route *r, const char *id)
{
	struct model_info m;
	struct prov_key k;
	int i;
	memset(&k, 0, sizeof(k));
	if (!route_find(r, id, strlen(id), &m))
		return k;
	i = route_pick(r, m.rm, 0, NULL);
	if (i >= 0)
		route_key_of(route_cred_at(r, m.rm, i), -1, &k);
	return k;
}

TEST(route_finds_each_model_with_every_provider_serving_it)
{
	struct route *r = build(CONF, 1);
	struct model_info m;
	REQUIRE(r);
	REQUIRE(route_find(r, "alias-one", 9, &m));
	CHECK_EQ_INT(m.provider, PROV_COMPAT);
	CHECK_EQ_STR(m.upstream, "up/one");
	CHECK_EQ_STR(((const struct cfg_compat *)m.entry)->name, "first");
	CHECK_EQ_INT(m.rm->n, 3); /* first's three keys */
	REQUIRE(route_find(r, "only-second", 11, &m));
	CHECK_EQ_STR(((const struct cfg_compat *)m.entry)->name, "second");
	CHECK_EQ_INT(m.rm->n, 1); /* keyless: one candidate */
	/* a fixed Gemini model is served by the Gemini keys and by the
	 * compat provider naming it: listed with the first, both rotate */
	REQUIRE(route_find(r, "gemini-2.5-pro", 14, &m));
	CHECK_EQ_INT(m.provider, PROV_GEMINI);
	CHECK_EQ_INT(m.rm->n, 5);
	CHECK_EQ_INT(m.rm->kinds, (1u << PROV_GEMINI) | (1u << PROV_COMPAT));
	/* other vendor names go to the vendor's key family */
	REQUIRE(route_find(r, "claude-not-listed-9", 19, &m));
	CHECK_EQ_INT(m.provider, PROV_CLAUDE);
	CHECK(m.id == NULL);
	CHECK_EQ_INT(m.rm->n, 2);
	CHECK(!route_find(r, "nobody-serves-this", 18, &m));
	CHECK(!route_find(r, "gpt-5", 5, &m)); /* no Codex key */
	/* a prefix of an id is not the id; a family's own id is none */
	CHECK(!route_find(r, "alias-on", 8, &m));
	REQUIRE(route_find(r, "claude-*", 8, &m));
	CHECK(m.id == NULL);
	route_unref(r);
}

/* A list for the Claude keys (route_lists.of), none for the others. */
static struct mlist *claude_list(void *u, const struct route_cred *c)
{
	return c->prov == PROV_CLAUDE ? u : NULL;
}

TEST(route_serves_a_fetched_list_and_the_kept_names)
{
	static const char answer[] =
		"{\"data\":[{\"id\":\"claude-opus-4-7\",\"display_name\":"
		"\"Claude Opus 4.7\",\"created_at\":\"2026-09-01T00:00:00Z\"},"
		"{\"id\":\"claude-sonnet-4-6\"},{\"id\":\"odd-model\"}]}";
	const char *why;
	struct mlist *l = mlist_parse(MLIST_CLAUDE, answer, sizeof(answer) - 1,
				      &why);
	struct route_lists ls;
	struct model_info m;
	struct route *r;
	struct cfg c;
	char err[256];

	REQUIRE(l);
	ls.of = claude_list;
	ls.u = l;
	REQUIRE(cfg_load_string(&c, CONF, "t.ini", err, sizeof(err)) == 0);
	r = route_build(&c, NULL, &ls, 1);
	REQUIRE(r);
	CHECK_EQ_INT(l->refs, 3); /* both Claude keys serve it */
	REQUIRE(route_find(r, "claude-opus-4-7", 15, &m));
	CHECK(m.id != NULL);
	CHECK_EQ_INT(m.provider, PROV_CLAUDE);
	CHECK_EQ_STR(m.display_name, "Claude Opus 4.7");
	CHECK_EQ_INT(m.created, 1788220800L);
	CHECK_EQ_INT(m.rm->n, 2);
	/* a listed table model keeps the table's name and date */
	REQUIRE(route_find(r, "claude-sonnet-4-6", 17, &m));
	CHECK_EQ_STR(m.display_name, "Claude Sonnet 4.6");
	CHECK_EQ_INT(m.created, 1770854400L);
	/* a name of no family is routed because the list has it */
	REQUIRE(route_find(r, "odd-model", 9, &m));
	CHECK(m.id != NULL);
	/* the kept names stay; the other table names are gone from the
	 * list, yet route as the Claude family */
	CHECK(route_find(r, "claude-sonnet-4-20250514", 24, &m) && m.id);
	CHECK(route_find(r, "claude-opus-4-1-20250805", 24, &m) && m.id);
	REQUIRE(route_find(r, "claude-opus-4-6", 15, &m));
	CHECK(m.id == NULL);
	CHECK_EQ_INT(m.rm->n, 2);
	/* the Gemini keys serve their table */
	CHECK(route_find(r, "gemini-3.1-pro-preview", 22, &m) && m.id);
	route_unref(r);
	CHECK_EQ_INT(l->refs, 1);

	/* model-list-refresh = 0: the tables, the list not asked for */
	REQUIRE(cfg_load_string(&c, "model-list-refresh = 0\n[claude-api-key]\n"
				"api-key = c1\n", "t.ini", err, sizeof(err)) == 0);
	r = route_build(&c, NULL, &ls, 1);
	REQUIRE(r);
	CHECK_EQ_INT(l->refs, 1);
	CHECK(route_find(r, "claude-opus-4-6", 15, &m) && m.id);
	CHECK(route_find(r, "claude-opus-4-7", 15, &m) && !m.id);
	route_unref(r);
	mlist_unref(l);
}

static int count_cb(const struct model_info *m, void *u)
{
	(void)m;
	++*(int *)u;
	return 0;
}

TEST(route_lists_every_id_once)
{
	struct route *r = build(CONF, 1);
	size_t i, j;
	int n = 0;
	REQUIRE(r);
	route_each(r, count_cb, &n);
	CHECK_EQ_INT(n, (long long)r->nmodels);
	for (i = 0; i < r->nmodels; i++)
		for (j = i + 1; j < r->nmodels; j++)
			if (!strcmp(r->models[i].m.id, r->models[j].m.id))
				FAILF("listed twice: %s", r->models[i].m.id);
	for (i = 0; i < r->nmodels; i++)
		if (strchr(r->models[i].m.id, '*'))
			FAILF("family listed: %s", r->models[i].m.id);
	route_unref(r);
}

TEST(route_rotates_candidates_per_model)
{
	struct route *r = build(CONF, 1);
	struct prov_key k;
	struct model_info m;
	REQUIRE(r);
	CHECK_EQ_STR(next_key(r, "alias-one").key, "k1");
	CHECK_EQ_STR(next_key(r, "gemini-2.5-flash").key, "g1");
	CHECK_EQ_STR(next_key(r, "alias-one").key, "k2");
	CHECK_EQ_STR(next_key(r, "alias-one").key, "k3");
	CHECK_EQ_STR(next_key(r, "alias-one").key, "k1");
	CHECK_EQ_STR(next_key(r, "gemini-2.5-flash").key, "g2");
	/* a Claude entry brings its own base URL and headers */
	k = next_key(r, "claude-sonnet-4-20250514");
	CHECK_EQ_STR(k.key, "c1");
	CHECK(k.base_url == NULL);
	k = next_key(r, "claude-sonnet-4-20250514");
	CHECK_EQ_STR(k.key, "c2");
	CHECK_EQ_STR(k.base_url, "http://127.0.0.1:9/relay");
	REQUIRE(k.headers && k.headers->n == 1);
	/* resting keys are skipped; when all rest, the earliest is told */
	REQUIRE(route_find(r, "gemini-2.5-flash", 16, &m));
	r->creds[r->cands[m.rm->first].cred].rest_until = 5000;
	CHECK_EQ_STR(next_key(r, "gemini-2.5-flash").key, "g2");
	CHECK_EQ_STR(next_key(r, "gemini-2.5-flash").key, "g2");
	r->creds[r->cands[m.rm->first + 1].cred].rest_until = 3000;
	{
		int64_t at = 0;
		CHECK_EQ_INT(route_pick(r, m.rm, 1000, &at), -1);
		CHECK_EQ_INT(at, 3000);
		CHECK_EQ_INT(route_pick(r, m.rm, 3000, &at), 1);
	}
	route_unref(r);
}

TEST(route_next_stays_with_the_kind_and_stops_at_the_start)
{
	struct route *r = build(CONF, 1);
	struct model_info m;
	REQUIRE(r);
	/* gemini-2.5-pro: g1, g2 (Gemini keys), k1..k3 (compat "first") */
	REQUIRE(route_find(r, "gemini-2.5-pro", 14, &m));
	CHECK_EQ_INT(route_next(r, m.rm, 0, 0, 0), 1);
	CHECK_EQ_INT(route_next(r, m.rm, 0, 1, 0), -1);
	CHECK_EQ_INT(route_next(r, m.rm, 3, 3, 0), 4);
	CHECK_EQ_INT(route_next(r, m.rm, 3, 4, 0), 2);
	CHECK_EQ_INT(route_next(r, m.rm, 3, 2, 0), -1);
	route_unref(r);
}

TEST(route_snapshot_outlives_the_server_reference)
{
	struct route *r = build(CONF, 1), *held;
	struct model_info m;
	REQUIRE(r);
	held = route_ref(r);   /* an exchange */
	route_unref(r);        /* the server moved on (reload) */
	REQUIRE(route_find(held, "only-second", 11, &m));
	CHECK_EQ_STR(((const struct cfg_compat *)m.entry)->base_url,
		     "http://127.0.0.1:9/v2");
	route_unref(held);
}

TEST(route_many_models_hash_without_loss)
{
	char *text = malloc(200000);
	size_t n = 0;
	int i;
	struct route *r;
	struct model_info m;
	REQUIRE(text);
	n += (size_t)sprintf(text + n, "[openai-compatibility]\nname = big\n"
				       "base-url = http://127.0.0.1:9/v1\n");
	for (i = 0; i < 2000; i++)
		n += (size_t)sprintf(text + n, "model = m%d\n", i);
	r = build(text, 1);
	free(text);
	REQUIRE(r);
	CHECK_EQ_INT(r->nmodels, 2000);
	for (i = 0; i < 2000; i++) {
		char id[16];
		int k = snprintf(id, sizeof(id), "m%d", i);
		if (!route_find(r, id, (size_t)k, &m) || strcmp(m.id, id))
			FAILF("lost %s", id);
	}
	route_unref(r);
}

/* ---- prov ------------------------------------------------------------------ */

TEST(prov_builds_each_kind_of_call)
{
	struct route *r = build(CONF, 7);
	struct prov_call pc;
	struct prov_key k;
	struct prov_req q;
	REQUIRE(r);
	prov_call_init(&pc);
	memset(&q, 0, sizeof(q));
	k = next_key(r, "gemini-2.5-flash");
	q.d = prov_desc(PROV_GEMINI);
	q.k = &k;
	q.upmodel = "gemini-2.5-pro";
	q.stream = 1;
	REQUIRE(prov_prepare(r->cfg, r->gen, &q, &pc) == NULL);
	CHECK_EQ_STR(pc.path.p, "/v1beta/models/gemini-2.5-pro:"
				"streamGenerateContent?alt=sse");
	CHECK(strstr(pc.headers.p, "x-goog-api-key: g1\r\n") != NULL);
	CHECK(strstr(pc.headers.p, "Accept: text/event-stream\r\n") != NULL);
	CHECK(pc.t.tls);
	/* a name that is not one path segment is encoded as one */
	q.upmodel = "a/b c";
	q.stream = 0;
	q.count = 1;
	REQUIRE(prov_prepare(r->cfg, r->gen, &q, &pc) == NULL);
	CHECK_EQ_STR(pc.path.p, "/v1beta/models/a%2Fb%20c:countTokens");

	/* Claude: the entry's base URL keeps its path; its own header last,
	 * its fixed version header unless the entry sets one */
	k = next_key(r, "claude-sonnet-4-20250514");
	k = next_key(r, "claude-sonnet-4-20250514");
	memset(&q, 0, sizeof(q));
	q.d = prov_desc(PROV_CLAUDE);
	q.k = &k;
	q.upmodel = "claude-x";
	q.beta = "tools-1";
	REQUIRE(prov_prepare(r->cfg, r->gen, &q, &pc) == NULL);
	CHECK_EQ_STR(pc.path.p, "/relay/v1/messages");
	CHECK(!pc.t.tls);
	CHECK_EQ_INT(pc.t.port, 9);
	CHECK(strstr(pc.headers.p, "anthropic-version: 2023-06-01\r\n"));
	CHECK(strstr(pc.headers.p, "anthropic-beta: tools-1\r\n"));
	CHECK(strstr(pc.headers.p, "x-api-key: c2\r\n"));
	CHECK_EQ_STR(pc.headers.p + pc.extra_hdr_off, "X-Team: blue\r\n");
	prov_call_free(&pc);
	route_unref(r);
}

TEST(prov_headers_grow_for_long_credentials)
{
	char *text = malloc(8192), key[4001];
	struct route *r;
	struct prov_call pc;
	struct prov_key k;
	struct prov_req q;
	REQUIRE(text);
	memset(key, 'j', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	snprintf(text, 8192, "[openai-compatibility]\nname = p\n"
			     "base-url = http://127.0.0.1:9/v1\napi-keys = %s\n"
			     "model = m\n", key);
	r = build(text, 1);
	free(text);
	REQUIRE(r);
	prov_call_init(&pc);
	memset(&q, 0, sizeof(q));
	k = next_key(r, "m");
	q.d = prov_desc(PROV_COMPAT);
	q.k = &k;
	q.upmodel = "m";
	q.ua_name = "p";
	REQUIRE(prov_prepare(r->cfg, r->gen, &q, &pc) == NULL);
	CHECK(strstr(pc.headers.p, key) != NULL);
	CHECK_EQ_STR(pc.path.p, "/v1/chat/completions");
	CHECK(strstr(pc.headers.p, "User-Agent: cli-proxy-api-p\r\n"));
	prov_call_free(&pc);
	route_unref(r);
}

/* The value of header name in a header block, NULL if absent; fails
 * the test when it is there twice. */
static const char *hval(const char *hd, const char *name, char *out,
			size_t cap)
{
	const char *p, *found = NULL;
	size_t n = strlen(name);
	for (p = hd; *p; p = strstr(p, "\r\n") + 2)
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			if (found)
				FAILF("%s sent twice", name);
			found = p + n + 2;
		}
	if (!found)
		return NULL;
	snprintf(out, cap, "%.*s", (int)strcspn(found, "\r"), found);
	return out;
}

static const char *const UPSTREAM_HEADERS_CONF =
	"[upstream-headers]\n"
	"claude-login = User-Agent: claude-cli/2.1.230 (external, cli)\n"
	"claude-login = x-stainless-package-version: 0.95.0\n"
	"claude-login = X-App:\n"
	"claude-login = X-Model: {model}\n"
	"gemini-cli = User-Agent: GeminiCLI/0.40.0/{model} ({model})\n"
	"claude = anthropic-version: 2024-01-01\n"
	"claude = X-Team: red\n"
	"[claude-api-key]\n"
	"api-key = c1\n"
	"[claude-api-key]\n"
	"api-key = c2\n"
	"header = X-Team: blue\n";

TEST(prov_upstream_headers_replace_add_and_remove_fixed_lines)
{
	static const struct {
		enum prov_kind kind;
		int reloaded;
		const char *want;
	} ua[] = {
		{PROV_GEMINI_CLI, 0,
		 "GeminiCLI/0.40.0/gemini-2.5-pro (gemini-2.5-pro)"},
		{PROV_CODEX_OAUTH, 0, "codex-tui/0.146.0 (Mac OS 26.5.0; arm64) "
				      "iTerm.app/3.6.10 (codex-tui; 0.146.0)"},
		{PROV_GEMINI_CLI, 1,
		 "GeminiCLI/0.34.0/gemini-2.5-pro (linux; x64; terminal)"},
		{PROV_CLAUDE_OAUTH, 1, "claude-cli/2.1.220 (external, cli)"},
	};
	struct route *r = build(UPSTREAM_HEADERS_CONF, 1), *plain;
	struct prov_call pc;
	struct prov_key k;
	struct prov_req q;
	char v[256];
	const char *h;
	size_t i;
	REQUIRE(r);
	prov_call_init(&pc);
	memset(&k, 0, sizeof(k));
	k.key = "tok";
	memset(&q, 0, sizeof(q));
	q.d = prov_desc(PROV_CLAUDE_OAUTH);
	q.k = &k;
	q.upmodel = "claude-x";
	REQUIRE(prov_prepare(r->cfg, r->gen, &q, &pc) == NULL);
	h = pc.headers.p;
	/* replaced in place, whatever the case of the name */
	CHECK_EQ_STR(hval(h, "User-Agent", v, sizeof(v)),
		     "claude-cli/2.1.230 (external, cli)");
	CHECK_EQ_STR(hval(h, "X-Stainless-Package-Version", v, sizeof(v)),
		     "0.95.0");
	CHECK(strstr(h, "X-Stainless-Lang: js\r\n"
			"x-stainless-package-version: 0.95.0\r\n"
			"X-Stainless-Runtime-Version: v26.3.0\r\n"));
	/* removed; added after the fixed lines, with the model */
	CHECK(hval(h, "X-App", v, sizeof(v)) == NULL);
	CHECK(strstr(h, "User-Agent: claude-cli/2.1.230 (external, cli)\r\n"
			"X-Model: claude-x\r\n"));
	/* untouched fixed lines and the call's own headers stay */
	CHECK_EQ_STR(hval(h, "Anthropic-Version", v, sizeof(v)), "2023-06-01");
	CHECK_EQ_STR(hval(h, "Authorization", v, sizeof(v)), "Bearer tok");
	CHECK(hval(h, "Anthropic-Beta", v, sizeof(v)) != NULL);
	/* an account file's user_agent wins over the config */
	k.user_agent = "claude-cli/1.0.0 (mine)";
	REQUIRE(prov_prepare(r->cfg, r->gen, &q, &pc) == NULL);
	CHECK_EQ_STR(hval(pc.headers.p, "User-Agent", v, sizeof(v)),
		     "claude-cli/1.0.0 (mine)");
	CHECK_EQ_STR(hval(pc.headers.p, "X-Model", v, sizeof(v)), "claude-x");
	k.user_agent = NULL;

	/* Claude keys: the config for every key, the entry's own line over
	 * it */
	k = next_key(r, "claude-y");
	q.d = prov_desc(PROV_CLAUDE);
	REQUIRE(prov_prepare(r->cfg, r->gen, &q, &pc) == NULL);
	CHECK_EQ_STR(hval(pc.headers.p, "x-api-key", v, sizeof(v)), "c1");
	CHECK_EQ_STR(hval(pc.headers.p, "X-Team", v, sizeof(v)), "red");
	CHECK_EQ_STR(hval(pc.headers.p, "anthropic-version", v, sizeof(v)),
		     "2024-01-01");
	k = next_key(r, "claude-y");
	REQUIRE(prov_prepare(r->cfg, r->gen, &q, &pc) == NULL);
	CHECK_EQ_STR(hval(pc.headers.p, "x-api-key", v, sizeof(v)), "c2");
	CHECK_EQ_STR(hval(pc.headers.p, "X-Team", v, sizeof(v)), "blue");

	/* The User-Agent of each kind: {model} wherever it stands; Codex
	 * keys and logins apart; the next generation (a reload) without the
	 * section has the descriptor's lines again. */
	plain = build("", 2);
	REQUIRE(plain);
	memset(&k, 0, sizeof(k));
	k.key = "tok";
	q.upmodel = "gemini-2.5-pro";
	for (i = 0; i < sizeof(ua) / sizeof(ua[0]); i++) {
		const struct route *in = ua[i].reloaded ? plain : r;
		q.d = prov_desc(ua[i].kind);
		q.path_tail = q.d->envelope ? ":loadCodeAssist" : NULL;
		REQUIRE(prov_prepare(in->cfg, in->gen, &q, &pc) == NULL);
		if (!CHECK(hval(pc.headers.p, "User-Agent", v, sizeof(v))))
			continue;
		CHECK_EQ_STR(v, ua[i].want);
	}
	/* the last call: Claude Code's lines as shipped */
	CHECK_EQ_STR(hval(pc.headers.p, "X-App", v, sizeof(v)), "cli");
	CHECK(hval(pc.headers.p, "X-Model", v, sizeof(v)) == NULL);
	prov_call_free(&pc);
	route_unref(plain);
	route_unref(r);
}

/* The model-list calls (mfetch.c): each listing kind's path after the
 * base URL's own, its credential header, no model and no envelope; the
 * kinds without a list refuse. */
TEST(prov_list_calls)
{
	struct route *r = build(CONF, 1);
	struct prov_call pc;
	struct prov_key k;
	struct prov_req q;
	REQUIRE(r);
	prov_call_init(&pc);
	memset(&q, 0, sizeof(q));
	q.list = 1;
	q.k = &k;

	k = next_key(r, "gemini-2.5-pro");
	q.d = prov_desc(PROV_GEMINI);
	REQUIRE(prov_prepare(r->cfg, r->gen, &q, &pc) == NULL);
	CHECK_EQ_STR(pc.path.p, "/v1beta/models?pageSize=1000");
	CHECK(strstr(pc.headers.p, "x-goog-api-key: g1\r\n") != NULL);

	k = next_key(r, "claude-sonnet-4-20250514");
	k = next_key(r, "claude-sonnet-4-20250514");
	q.d = prov_desc(PROV_CLAUDE);
	REQUIRE(prov_prepare(r->cfg, r->gen, &q, &pc) == NULL);
	CHECK_EQ_STR(pc.path.p, "/relay/v1/models?limit=1000");
	CHECK(strstr(pc.headers.p, "x-api-key: c2\r\n"));
	CHECK(strstr(pc.headers.p, "anthropic-version: 2023-06-01\r\n"));
	CHECK(!strstr(pc.headers.p, "anthropic-beta"));

	/* an OAuth account: its token, the OAuth beta alone */
	memset(&k, 0, sizeof(k));
	k.key = "sk-ant-oat01-t";
	k.volatile_strings = 1;
	q.d = prov_desc(PROV_CLAUDE_OAUTH);
	REQUIRE(prov_prepare(r->cfg, r->gen, &q, &pc) == NULL);
	CHECK_EQ_STR(pc.path.p, "/v1/models?limit=1000");
	CHECK(strstr(pc.headers.p, "Authorization: Bearer sk-ant-oat01-t\r\n"));
	CHECK(strstr(pc.headers.p, "Anthropic-Beta: oauth-2025-04-20\r\n"));
	CHECK(strstr(pc.headers.p, "Anthropic-Version: 2023-06-01\r\n"));

	/* Antigravity: the Code Assist call, without an envelope */
	k.key = "ya29.t";
	q.d = prov_desc(PROV_ANTIGRAVITY);
	REQUIRE(prov_prepare(r->cfg, r->gen, &q, &pc) == NULL);
	CHECK_EQ_STR(pc.path.p, "/v1internal:fetchAvailableModels");
	CHECK_EQ_INT(pc.pre.len, 0);
	CHECK(strstr(pc.headers.p, "Authorization: Bearer ya29.t\r\n"));
	CHECK(prov_desc(PROV_ANTIGRAVITY)->list_post);

	q.d = prov_desc(PROV_CODEX_OAUTH);
	CHECK_EQ_STR(prov_prepare(r->cfg, r->gen, &q, &pc),
		     "this provider has no model list");
	q.d = prov_desc(PROV_GEMINI_CLI);
	CHECK_EQ_STR(prov_prepare(r->cfg, r->gen, &q, &pc),
		     "this provider has no model list");
	prov_call_free(&pc);
	route_unref(r);
}

/* ---- frame ------------------------------------------------------------------ */

static void to_buf(void *u, const char *p, size_t n)
{
	buf_put(u, p, n);
}

TEST(frame_gemini_relay_keeps_only_data_lines)
{
	struct buf b;
	struct frame f;
	buf_init(&b, 4096);
	frame_init(&f, FRAME_RELAY | FRAME_GEMINI, to_buf, &b);
	frame_events(&f, ": ping\n\nevent: x\ndata: {\"a\":1}\n\nid: 3\n\n", 39);
	CHECK_SPAN(b.p, b.len, "data: {\"a\":1}\n\n");
	buf_reset(&b);
	frame_heartbeat(&f);
	CHECK_SPAN(b.p, b.len, "\n");
	/* an encoder's output (not a relay) goes as it is */
	buf_reset(&b);
	frame_init(&f, FRAME_GEMINI, to_buf, &b);
	frame_events(&f, "data: 1\n\n", 9);
	CHECK_SPAN(b.p, b.len, "data: 1\n\n");
	buf_free(&b);
}

TEST(frame_array_reframes_events_and_closes)
{
	struct buf b;
	struct frame f;
	buf_init(&b, 4096);
	frame_init(&f, FRAME_ARRAY | FRAME_GEMINI, to_buf, &b);
	frame_end(&f);
	CHECK_SPAN(b.p, b.len, "[]");
	buf_reset(&b);
	frame_init(&f, FRAME_ARRAY | FRAME_GEMINI, to_buf, &b);
	frame_events(&f, "data: {\"a\":1}\n\ndata: {\"b\":2}\n\n", 30);
	frame_element(&f, "{\"c\":3}", 7);
	frame_end(&f);
	CHECK_SPAN(b.p, b.len, "[{\"a\":1},\r\n{\"b\":2},\r\n{\"c\":3}]");
	buf_free(&b);
}

TEST(frame_late_errors_end_each_kind_of_stream)
{
	struct buf b, scratch;
	struct frame f;
	buf_init(&b, 4096);
	buf_init(&scratch, 4096);
	frame_init(&f, FRAME_RELAY, to_buf, &b);
	frame_late_error(&f, HUB_OPENAI, "gone", &scratch);
	CHECK(b.len > 20 && !memcmp(b.p, "data: {\"error\":", 15));
	CHECK(strstr(b.p, "\n\ndata: [DONE]\n\n") != NULL);
	buf_reset(&b);
	frame_init(&f, FRAME_RELAY, to_buf, &b);
	frame_late_error(&f, HUB_CLAUDE, "gone", &scratch);
	CHECK(!strncmp(b.p, "event: error\ndata: {\"type\":\"error\"",
		       strlen("event: error\ndata: {\"type\":\"error\"")));
	buf_reset(&b);
	frame_init(&f, FRAME_ARRAY | FRAME_GEMINI | FRAME_RELAY, to_buf, &b);
	frame_element(&f, "{}", 2);
	frame_late_error(&f, HUB_GEMINI, "gone", &scratch);
	CHECK_SPAN(b.p, b.len, "[{},\r\n{\"error\":{\"code\":502,\"message\":"
			       "\"gone\",\"status\":\"UNAVAILABLE\"}}]");
	buf_free(&b);
	buf_free(&scratch);
}

/* ---- apierr ------------------------------------------------------------------ */

TEST(apierr_every_format_renders_valid_json_with_its_shape)
{
	static const int st[] = {400, 401, 403, 404, 405, 408, 413, 429, 500,
				 501, 502, 503, 504, 529};
	int f;
	size_t i;
	for (f = 0; f < HUB__COUNT; f++)
		for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
			struct buf b;
			struct json j;
			int e, code;
			buf_init(&b, 4096);
			apierr_render(&b, f, st[i], "a \"quoted\"\nmessage");
			if (json_parse(&j, b.p, b.len) < 0) {
				FAILF("fmt %d status %d: not JSON: %.*s", f,
				      st[i], (int)b.len, b.p);
				buf_free(&b);
				continue;
			}
			e = json_get(&j, 0, "error");
			CHECK(e >= 0 && j.tok[e].type == JSMN_OBJECT);
			CHECK(json_get(&j, e, "message") >= 0);
			code = json_get(&j, e, "code");
			if (f == HUB_GEMINI)
				CHECK(code >= 0 &&
				      j.tok[code].type == JSMN_PRIMITIVE);
			else if (f == HUB_CLAUDE)
				CHECK(json_get(&j, e, "type") >= 0);
			else /* OpenAI shapes: code is a string everywhere */
				CHECK(code >= 0 &&
				      j.tok[code].type == JSMN_STRING);
			json_free(&j);
			buf_free(&b);
		}
}

TEST(apierr_rules_decide_once)
{
	CHECK_EQ_INT(upfail_of_status(401), UF_AUTH);
	CHECK_EQ_INT(upfail_of_status(403), UF_AUTH);
	CHECK_EQ_INT(upfail_of_status(429), UF_QUOTA);
	CHECK_EQ_INT(upfail_of_status(529), UF_SERVER);
	CHECK_EQ_INT(upfail_of_status(400), UF_CLIENT);
	CHECK_EQ_INT(apierr_rule(UF_AUTH)->act, UA_NEXT);
	CHECK_EQ_INT(apierr_rule(UF_AUTH)->counted, 0);
	CHECK_EQ_INT(apierr_rule(UF_SERVER)->act, UA_RETRY);
	CHECK_EQ_INT(apierr_rule(UF_SERVER)->counted, 1);
	CHECK_EQ_INT(apierr_rule(UF_TLS)->act, UA_GIVE_UP);
	CHECK_EQ_INT(apierr_rule(UF_TIMEOUT)->status, 504);
	CHECK_EQ_INT(apierr_rule(UF_CLIENT)->status, 0); /* relayed */
}
