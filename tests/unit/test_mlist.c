/*
 * test_mlist.c - the parsers of the upstreams' model-list answers
 * (mlist.c): Claude's /v1/models, Gemini's /v1beta/models and Code
 * Assist's fetchAvailableModels, as the services write them; what is
 * kept, dropped and refused; the cap; equal lists.
 *
 * Every answer is parsed from a copy that ends at a guard page, so a
 * read past its length faults.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mlist.h"
#include "sizes.h"
#include "t.h"

static struct mlist *parse(enum mlist_fmt f, const char *js, const char **why)
{
	size_t n = strlen(js);
	void *g = t_guarded_copy(js, n);
	const char *w = NULL;
	struct mlist *l = mlist_parse(f, g, n, &w);
	t_guarded_free(g);
	if (why)
		*why = w;
	if (!l && !why)
		FAILF("refused (%s): %s", w, t_esc(js, n));
	return l;
}

static void expect_refused(enum mlist_fmt f, const char *js, const char *why)
{
	const char *w = NULL;
	struct mlist *l = parse(f, js, &w);
	if (l) {
		FAILF("accepted %s", t_esc(js, strlen(js)));
		mlist_unref(l);
		return;
	}
	CHECK_EQ_STR(w, why);
}

/* The ids of l joined by spaces. */
static const char *ids(const struct mlist *l)
{
	static char out[4096];
	size_t i, o = 0;
	out[0] = '\0';
	for (i = 0; l && i < l->n; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s",
				      i ? " " : "", l->v[i].id);
	return out;
}

/* ---- Claude ------------------------------------------------------------------ */

TEST(mlist_claude_answer_as_the_api_writes_it)
{
	struct mlist *l = parse(MLIST_CLAUDE,
		"{\"data\":[{\"type\":\"model\",\"id\":\"claude-opus-4-7\","
		"\"display_name\":\"Claude Opus 4.7\","
		"\"created_at\":\"2026-09-01T00:00:00Z\"},"
		"{\"type\":\"model\",\"id\":\"claude-sonnet-4-20250514\","
		"\"display_name\":\"Claude Sonnet 4\","
		"\"created_at\":\"2025-05-22T00:00:00Z\"}],"
		"\"has_more\":false,\"first_id\":\"claude-opus-4-7\","
		"\"last_id\":\"claude-sonnet-4-20250514\"}", NULL);
	REQUIRE(l);
	CHECK_EQ_INT(l->n, 2);
	CHECK_EQ_INT(l->refs, 1);
	CHECK_EQ_INT(l->dropped, 0);
	CHECK_EQ_STR(l->v[0].id, "claude-opus-4-7");
	CHECK_EQ_STR(l->v[0].display, "Claude Opus 4.7");
	CHECK_EQ_INT(l->v[0].created, 1788220800L);
	CHECK_EQ_STR(l->v[1].id, "claude-sonnet-4-20250514");
	CHECK_EQ_INT(l->v[1].created, 1747872000L);
	CHECK(mlist_find(l, "claude-opus-4-7") == &l->v[0]);
	CHECK(mlist_find(l, "claude-opus-4") == NULL);
	mlist_unref(l);
}

TEST(mlist_claude_entries_without_a_usable_id_are_dropped)
{
	/* no id, a number, a name with a space, a '..' segment, a repeat,
	 * an id with escapes (decoded), no display name (the id), a
	 * display name with a control character (the id), a created_at
	 * that is no time (0) */
	struct mlist *l = parse(MLIST_CLAUDE,
		"{\"data\":[{\"display_name\":\"x\"},{\"id\":5},"
		"{\"id\":\"bad name\"},{\"id\":\"a/../b\"},"
		"{\"id\":\"claude-\\u0061\"},{\"id\":\"claude-a\"},7,"
		"{\"id\":\"claude-b\",\"display_name\":\"B\\nB\","
		"\"created_at\":\"yesterday\"}]}", NULL);
	REQUIRE(l);
	CHECK_EQ_STR(ids(l), "claude-a claude-b");
	CHECK_EQ_INT(l->dropped, 6);
	CHECK_EQ_STR(l->v[0].display, "claude-a");
	CHECK(l->v[0].display == l->v[0].id); /* stored once */
	CHECK_EQ_STR(l->v[1].display, "claude-b");
	CHECK_EQ_INT(l->v[1].created, 0);
	mlist_unref(l);
}

/* A created_at after 2038 is kept whole where a long is 32 bits too (it
 * was a long there: such a model showed created 0). */
TEST(mlist_claude_created_at_after_2038)
{
	struct mlist *l = parse(MLIST_CLAUDE,
		"{\"data\":[{\"type\":\"model\",\"id\":\"claude-far\","
		"\"display_name\":\"Far\","
		"\"created_at\":\"2100-01-01T00:00:00Z\"}],\"has_more\":false}",
		NULL);
	REQUIRE(l);
	CHECK_EQ_INT(l->n, 1);
	CHECK_EQ_INT(l->v[0].created, 4102444800LL);
	mlist_unref(l);
}

/* ---- Gemini -------------------------------------------------------------------- */

TEST(mlist_gemini_keeps_generate_content_models_without_the_prefix)
{
	struct mlist *l = parse(MLIST_GEMINI,
		"{\n  \"models\": [\n"
		"    {\n      \"name\": \"models/embedding-001\",\n"
		"      \"version\": \"001\",\n"
		"      \"displayName\": \"Embedding 001\",\n"
		"      \"supportedGenerationMethods\": [\"embedContent\"]\n"
		"    },\n"
		"    {\n      \"name\": \"models/gemini-2.5-pro\",\n"
		"      \"displayName\": \"Gemini 2.5 Pro\",\n"
		"      \"inputTokenLimit\": 1048576,\n"
		"      \"supportedGenerationMethods\": [\"generateContent\", "
		"\"countTokens\", \"createCachedContent\"],\n"
		"      \"thinking\": true\n    },\n"
		"    {\"name\": \"tunedModels/mine\", "
		"\"supportedGenerationMethods\": [\"generateContent\"]},\n"
		"    {\"name\": \"models/gemini-9-ultra\", "
		"\"supportedGenerationMethods\": [\"countTokens\", "
		"\"generateContent\"]},\n"
		"    {\"name\": \"models/\", "
		"\"supportedGenerationMethods\": [\"generateContent\"]},\n"
		"    {\"name\": \"models/imagen-4\", "
		"\"supportedGenerationMethods\": \"generateContent\"}\n"
		"  ],\n  \"nextPageToken\": \"Ch9tb2RlbHM\"\n}\n", NULL);
	REQUIRE(l);
	CHECK_EQ_STR(ids(l), "gemini-2.5-pro gemini-9-ultra");
	CHECK_EQ_STR(l->v[0].display, "Gemini 2.5 Pro");
	CHECK_EQ_INT(l->v[0].created, 0);
	CHECK_EQ_INT(l->dropped, 4);
	mlist_unref(l);
}

/* ---- Code Assist ------------------------------------------------------------ */

TEST(mlist_code_assist_names_are_the_keys)
{
	struct mlist *l = parse(MLIST_CODE_ASSIST,
		"{\"models\":{\"gemini-3-pro-high\":{\"displayName\":"
		"\"Gemini 3 Pro (High)\",\"maxTokens\":1048576,\"quotaInfo\":"
		"{\"remainingFraction\":1,\"resetTime\":\"2026-01-01T00:00:00Z\"}},"
		"\"claude-sonnet-4-6\":{},\"chat 1\":{},\"gpt-oss-120b-medium\":7}}",
		NULL);
	REQUIRE(l);
	CHECK_EQ_STR(ids(l), "gemini-3-pro-high claude-sonnet-4-6 "
			     "gpt-oss-120b-medium");
	CHECK_EQ_STR(l->v[0].display, "Gemini 3 Pro (High)");
	CHECK_EQ_STR(l->v[1].display, "claude-sonnet-4-6");
	CHECK_EQ_INT(l->dropped, 1);
	mlist_unref(l);
}

/* ---- refusals, the cap, equality ------------------------------------------ */

TEST(mlist_answers_without_a_list_are_refused)
{
	expect_refused(MLIST_CLAUDE, "", "not JSON");
	expect_refused(MLIST_CLAUDE, "{\"data\":[", "not JSON");
	expect_refused(MLIST_CLAUDE, "<html>", "not JSON");
	expect_refused(MLIST_CLAUDE, "[{\"id\":\"a\"}]",
		       "no model list in the answer");
	expect_refused(MLIST_CLAUDE, "{\"models\":[]}",
		       "no model list in the answer");
	expect_refused(MLIST_CLAUDE, "{\"data\":{}}",
		       "no model list in the answer");
	expect_refused(MLIST_GEMINI, "{\"models\":{}}",
		       "no model list in the answer");
	expect_refused(MLIST_CODE_ASSIST, "{\"models\":[]}",
		       "no model list in the answer");
	expect_refused(MLIST_CLAUDE, "{\"data\":[]}",
		       "no usable model in the answer");
	expect_refused(MLIST_GEMINI, "{\"models\":[{\"name\":\"models/a\"}]}",
		       "no usable model in the answer");
	expect_refused(MLIST_CODE_ASSIST, "{\"models\":{\"a b\":{}}}",
		       "no usable model in the answer");
	/* an error answer with a 200 */
	expect_refused(MLIST_CLAUDE, "{\"type\":\"error\",\"error\":{\"type\":"
		       "\"authentication_error\",\"message\":\"x\"}}",
		       "no model list in the answer");
}

TEST(mlist_keeps_at_most_the_cap)
{
	struct buf b;
	struct mlist *l;
	const char *why;
	int i;

	buf_init(&b, 1 << 20);
	buf_puts(&b, "{\"data\":[");
	for (i = 0; i < MLIST_MODELS_MAX + 20; i++)
		buf_printf(&b, "%s{\"id\":\"m-%d\"}", i ? "," : "", i);
	buf_puts(&b, "]}");
	buf_putc(&b, '\0');
	l = parse(MLIST_CLAUDE, b.p, &why);
	REQUIRE(l);
	CHECK_EQ_INT(l->n, MLIST_MODELS_MAX);
	CHECK_EQ_INT(l->dropped, 20);
	CHECK_EQ_STR(l->v[MLIST_MODELS_MAX - 1].id, "m-499");
	mlist_unref(l);
	buf_free(&b);
}

TEST(mlist_same_compares_entries_in_order)
{
	struct mlist *a = parse(MLIST_CLAUDE, "{\"data\":[{\"id\":\"x\"},"
				"{\"id\":\"y\",\"display_name\":\"Y\"}]}", NULL);
	struct mlist *b = parse(MLIST_CODE_ASSIST, "{ \"models\" : { \"x\" : "
				"{}, \"y\": {\"displayName\": \"Y\"} } }", NULL);
	struct mlist *c = parse(MLIST_CLAUDE, "{\"data\":[{\"id\":\"y\","
				"\"display_name\":\"Y\"},{\"id\":\"x\"}]}", NULL);
	struct mlist *d = parse(MLIST_CLAUDE, "{\"data\":[{\"id\":\"x\"},"
				"{\"id\":\"y\",\"display_name\":\"Z\"}]}", NULL);
	REQUIRE(a && b && c && d);
	CHECK(mlist_same(a, b));
	CHECK(mlist_same(a, a));
	CHECK(!mlist_same(a, c));
	CHECK(!mlist_same(a, d));
	CHECK(!mlist_same(a, NULL));
	CHECK(mlist_ref(a) == a);
	CHECK_EQ_INT(a->refs, 2);
	mlist_unref(a);
	mlist_unref(a);
	mlist_unref(b);
	mlist_unref(c);
	mlist_unref(d);
	mlist_unref(NULL);
}
