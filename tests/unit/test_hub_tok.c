/*
 * test_hub_tok.c - the one token layer of the codecs (src/hub_tok.c) and
 * the shared writers of hub.c.  Each codec used to carry its own copy of
 * these readers, and the copies disagreed; the tests marked "was:" pin the
 * reading that was kept, through the codec whose copy read it otherwise.
 */
#include "t.h"
#include "hub_tok.h"
#include "sizes.h"

#include <stdio.h>
#include <string.h>

struct doc {
	struct json j;
	char text[512];
};

static int doc_parse(struct doc *d, const char *text)
{
	snprintf(d->text, sizeof(d->text), "%s", text);
	return json_parse(&d->j, d->text, strlen(d->text));
}

/* Decode body with codec c into a fresh view (caller frees both). */
static int decode(const struct hub_codec *c, struct doc *d, struct hub_view *v,
		  const char *body)
{
	char err[128];
	if (doc_parse(d, body) != 0)
		return -2;
	hub_view_init(v, &d->j);
	return c->decode_request(&d->j, v, err, sizeof(err));
}

static void undecode(struct doc *d, struct hub_view *v)
{
	hub_view_free(v);
	json_free(&d->j);
}

TEST(tok_literals_are_the_literals)
{
	struct doc d;
	int t, f, n, s, num;

	REQUIRE(doc_parse(&d, "{\"t\":true,\"f\":false,\"n\":null,"
			      "\"s\":\"true\",\"num\":1}") == 0);
	t = json_get(&d.j, 0, "t");
	f = json_get(&d.j, 0, "f");
	n = json_get(&d.j, 0, "n");
	s = json_get(&d.j, 0, "s");
	num = json_get(&d.j, 0, "num");
	CHECK(hub_tok_true(&d.j, t));
	CHECK(!hub_tok_true(&d.j, f));
	CHECK(!hub_tok_true(&d.j, s)); /* a string "true" is not true */
	CHECK(!hub_tok_true(&d.j, -1));
	CHECK(hub_tok_bool(&d.j, t) && hub_tok_bool(&d.j, f));
	CHECK(!hub_tok_bool(&d.j, n) && !hub_tok_bool(&d.j, num));
	CHECK(hub_tok_null(&d.j, n) && hub_tok_null(&d.j, -1));
	CHECK(!hub_tok_null(&d.j, f) && !hub_tok_null(&d.j, s));
	CHECK(hub_tok_number(&d.j, num));
	CHECK(!hub_tok_number(&d.j, n) && !hub_tok_number(&d.j, s));
	json_free(&d.j);
}

TEST(tok_getters_read_absent_and_foreign_as_unset)
{
	struct doc d;
	struct hub_span s;
	int a;

	REQUIRE(doc_parse(&d, "{\"id\":\"\",\"name\":\"x\\\"y\",\"n\":1e3,"
			      "\"a\":[\"k\",2],\"o\":{\"k\":\"v\"}}") == 0);
	s = hub_tok_str(&d.j, 0, "id");
	CHECK(s.p != NULL && s.n == 0);             /* an empty string is set */
	CHECK(hub_tok_text(&d.j, 0, "id").p == NULL); /* ... but has no text */
	CHECK_SPAN(hub_tok_str(&d.j, 0, "name").p, hub_tok_str(&d.j, 0, "name").n,
		   "x\\\"y");                        /* escaped content */
	CHECK(hub_tok_str(&d.j, 0, "n").p == NULL);
	CHECK(hub_tok_str(&d.j, 0, "missing").p == NULL);
	a = json_get(&d.j, 0, "a");
	CHECK(hub_tok_str(&d.j, a, "k").p == NULL); /* not an object */
	CHECK(hub_tok_str(&d.j, -1, "k").p == NULL);
	CHECK(hub_tok_str(NULL, 0, "k").p == NULL);
	CHECK(hub_tok_string(&d.j, a + 1).n == 1);
	CHECK(hub_tok_string(&d.j, a + 2).p == NULL);
	CHECK(hub_tok_string(&d.j, 999).p == NULL);
	CHECK_EQ_INT(hub_tok_long(&d.j, json_get(&d.j, 0, "n"), -1), 1000);
	CHECK_EQ_INT(hub_tok_long(&d.j, a + 1, -7), -7);
	CHECK_EQ_INT(hub_tok_long(&d.j, -1, -7), -7);
	CHECK_EQ_INT(hub_tok_long(NULL, 0, -7), -7);
	CHECK(!hub_tok_is(NULL, 0, JSMN_OBJECT) && !hub_tok_is(&d.j, -1,
							      JSMN_OBJECT));
	CHECK(hub_tok_is(&d.j, json_get(&d.j, 0, "o"), JSMN_OBJECT));
	json_free(&d.j);
}

TEST(tok_at_finds_the_token_a_span_starts)
{
	struct doc d;
	int o, k;

	REQUIRE(doc_parse(&d, "{\"a\":[1,{\"b\":\"c\"}],\"d\":null}") == 0);
	o = json_get(&d.j, 0, "a");
	k = json_get(&d.j, o + 2, "b");
	CHECK_EQ_INT(hub_tok_at(&d.j, json_ptr(&d.j, o)), o);
	CHECK_EQ_INT(hub_tok_at(&d.j, json_ptr(&d.j, k)), k);
	CHECK_EQ_INT(hub_tok_at(&d.j, hub_tok_raw(&d.j, k).p), -1); /* quote */
	CHECK_EQ_INT(hub_tok_at(&d.j, d.text), 0);
	CHECK_EQ_INT(hub_tok_at(&d.j, d.text + 1), -1);
	CHECK_EQ_INT(hub_tok_at(&d.j, "elsewhere"), -1);
	CHECK_EQ_INT(hub_tok_at(NULL, d.text), -1);
	json_free(&d.j);
}

TEST(span_helpers)
{
	struct hub_span none = {NULL, 0}, s = HUB_LIT("call_abc"), t;

	CHECK(hub_span_same(s, HUB_LIT("call_abc")));
	CHECK(!hub_span_same(s, HUB_LIT("call_ab")));
	CHECK(!hub_span_same(none, none)); /* unset ids never match */
	CHECK(hub_span_prefix(s, "call_") && !hub_span_prefix(none, ""));
	CHECK(hub_span_has(s, "l_a") && !hub_span_has(s, "x"));
	t = hub_span_trim(HUB_LIT(" \r\n\t[DONE]\t\n"));
	CHECK_SPAN(t.p, t.n, "[DONE]");
	/* was: isspace() in the Gemini decoder; \f is no JSON whitespace */
	t = hub_span_trim(HUB_LIT("\f{}"));
	CHECK_EQ_INT(t.n, 3);
	t = hub_span_trim(none);
	CHECK_EQ_INT(t.n, 0);
}

TEST(fail_formats_truncates_and_may_have_no_room)
{
	char err[8];
	struct hub_rq rq = {NULL, NULL, err, sizeof(err)};

	memset(err, 'x', sizeof(err));
	CHECK_EQ_INT(hub_fail(err, sizeof(err), "tools[%d]: %s", 12, "bad"), -1);
	CHECK_EQ_STR(err, "tools[1");
	CHECK_EQ_INT(hub_fail(NULL, 0, "no room %d", 1), -1);
	memset(err, 'x', sizeof(err));
	CHECK_EQ_INT(hub_fail(err, 0, "nothing"), -1);
	CHECK(err[0] == 'x');
	CHECK_EQ_INT(hub_rq_fail(&rq, "%s", "abc"), -1);
	CHECK_EQ_STR(err, "abc");
}

TEST(put_key_and_args_object)
{
	struct buf b;
	int first = 1;

	buf_init(&b, 4096);
	hub_put_key(&b, &first, "a");
	buf_puts(&b, "1");
	hub_put_key(&b, &first, "b");
	buf_puts(&b, "2");
	CHECK_SPAN(b.p, b.len, "\"a\":1,\"b\":2");
	buf_reset(&b);
	hub_put_args_object(&b, HUB_LIT("{\\\"x\\\":1}"), 1);
	CHECK_SPAN(b.p, b.len, "{\"x\":1}");
	buf_reset(&b);
	hub_put_args_object(&b, HUB_LIT("[1]"), 1); /* not an object */
	CHECK_SPAN(b.p, b.len, "{}");
	buf_reset(&b);
	hub_put_args_object(&b, HUB_LIT(" {\"y\":2}"), 0);
	CHECK_SPAN(b.p, b.len, " {\"y\":2}");
	buf_reset(&b);
	hub_put_args_object(&b, HUB_LIT("\"s\""), 0);
	CHECK_SPAN(b.p, b.len, "{}");
	buf_reset(&b);
	hub_put_args_object(&b, hub_span_of(NULL, 0), 0);
	CHECK_SPAN(b.p, b.len, "{}");
	buf_free(&b);
}

TEST(json_compact_drops_whitespace_between_tokens_only)
{
	struct buf b;

	buf_init(&b, 4096);
	hub_put_json_compact(&b, HUB_LIT("{ \"a b\" :\n [ 1 ,\t\"x\\\" y\" ] }"));
	CHECK_SPAN(b.p, b.len, "{\"a b\":[1,\"x\\\" y\"]}");
	buf_reset(&b);
	hub_put_json_compact(&b, HUB_LIT("\r\n"));
	CHECK_EQ_INT(b.len, 0);
	buf_free(&b);
}

TEST(usage_merge_keeps_what_the_new_counts_do_not_know)
{
	struct hub_usage u = {10, -1, 2, -1, -1}, n = {-1, 5, -1, 3, 1};

	hub_usage_merge(&u, &n);
	CHECK_EQ_INT(u.input, 10);
	CHECK_EQ_INT(u.output, 5);
	CHECK_EQ_INT(u.cached, 2);
	CHECK_EQ_INT(u.cache_write, 3);
	CHECK_EQ_INT(u.thoughts, 1);
}

TEST(data_url_mime_has_no_parameters)
{
	struct hub_span m, d;

	CHECK_EQ_INT(hub_data_url(HUB_LIT("data:image/png;base64,AAAA"), &m, &d),
		     1);
	CHECK_SPAN(m.p, m.n, "image/png");
	CHECK_SPAN(d.p, d.n, "AAAA");
	/* was: "image/png;name=a.png" in the OpenAI, Claude and Gemini
	 * copies, "image/png" in the Responses one */
	CHECK_EQ_INT(hub_data_url(HUB_LIT("data:image/png;name=a.png;base64,"
					  "QQ=="), &m, &d), 1);
	CHECK_SPAN(m.p, m.n, "image/png");
	CHECK_SPAN(d.p, d.n, "QQ==");
	CHECK_EQ_INT(hub_data_url(HUB_LIT("DATA:text/plain;base64,QQ=="), &m,
				  &d), 1); /* the scheme ignores case */
	CHECK_EQ_INT(hub_data_url(HUB_LIT("data:text/plain,hello"), &m, &d), -1);
	CHECK_EQ_INT(hub_data_url(HUB_LIT("https://x/a.png"), &m, &d), 0);
	CHECK_EQ_INT(hub_data_url(hub_span_of(NULL, 0), &m, &d), 0);
}

/* ---- the readings kept, through the codecs that read otherwise ---------- */

TEST(kept_openai_image_data_url_without_parameters)
{
	struct doc d;
	struct hub_view v;

	REQUIRE(decode(&hub_openai, &d, &v, "{\"model\":\"m\",\"messages\":[{"
		       "\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
		       "\"image_url\":{\"url\":\"data:image/png;name=a.png;"
		       "base64,QQ==\"}}]}]}") == 0);
	REQUIRE(v.nparts == 1 && v.parts[0].type == HUB_P_IMAGE);
	CHECK_SPAN(v.parts[0].mime.p, v.parts[0].mime.n, "image/png");
	CHECK_SPAN(v.parts[0].data.p, v.parts[0].data.n, "QQ==");
	undecode(&d, &v);
}

TEST(kept_openai_parallel_tool_calls_is_a_boolean)
{
	struct doc d;
	struct hub_view v;

	/* was: any literal but null, so 1 meant false */
	REQUIRE(decode(&hub_openai, &d, &v, "{\"model\":\"m\",\"messages\":[],"
		       "\"parallel_tool_calls\":1}") == 0);
	CHECK_EQ_INT(v.parallel_tool_calls, -1);
	undecode(&d, &v);
	REQUIRE(decode(&hub_openai, &d, &v, "{\"model\":\"m\",\"messages\":[],"
		       "\"parallel_tool_calls\":false}") == 0);
	CHECK_EQ_INT(v.parallel_tool_calls, 0);
	undecode(&d, &v);
}

TEST(kept_completions_stream_and_sampling_are_typed)
{
	struct doc d;
	struct hub_view v;

	/* was: the first byte of any token, so "tomato" streamed, and any
	 * literal (null) was a temperature */
	REQUIRE(decode(&hub_completions, &d, &v, "{\"model\":\"m\",\"prompt\":"
		       "\"hi\",\"stream\":\"tomato\",\"temperature\":null,"
		       "\"top_p\":0.5}") == 0);
	CHECK_EQ_INT(v.stream, 0);
	CHECK(v.temperature.p == NULL);
	CHECK_SPAN(v.top_p.p, v.top_p.n, "0.5");
	undecode(&d, &v);
	REQUIRE(decode(&hub_completions, &d, &v, "{\"prompt\":[\"a\",\"b\"],"
		       "\"stream\":true}") == 0);
	CHECK_EQ_INT(v.stream, 1);
	CHECK_EQ_INT(v.nparts, 2);
	undecode(&d, &v);
}

TEST(kept_gemini_null_is_unset)
{
	struct doc d;
	struct hub_view v;

	/* was: any literal, so null turned thoughts off and became a
	 * temperature */
	REQUIRE(decode(&hub_gemini, &d, &v, "{\"contents\":[{\"role\":\"user\","
		       "\"parts\":[{\"text\":\"hi\"}]}],\"generationConfig\":{"
		       "\"temperature\":null,\"topK\":true,\"thinkingConfig\":"
		       "{\"includeThoughts\":null}}}") == 0);
	CHECK(v.temperature.p == NULL && v.top_k.p == NULL);
	CHECK_EQ_INT(v.include_thoughts, -1);
	undecode(&d, &v);
}

TEST(kept_claude_image_media_type_without_parameters)
{
	struct hub_view v;
	struct hub_part *p;
	struct hub_req_opts o;
	struct buf b;
	char err[64];

	hub_view_init(&v, NULL);
	REQUIRE(hub_add_msg(&v, HUB_USER) != NULL);
	REQUIRE((p = hub_add_part(&v)) != NULL);
	p->type = HUB_P_IMAGE;
	p->url = HUB_LIT("data:image/png;name=a.png;base64,QQ==");
	v.msgs[0].n = 1;
	memset(&o, 0, sizeof(o));
	o.model = "claude-x";
	buf_init(&b, 4096);
	REQUIRE(hub_claude.encode_request(&v, &o, &b, err, sizeof(err)) == 0);
	buf_putc(&b, '\0');
	/* was: "image/png;name=a.png", which Claude refuses */
	CHECK(strstr(b.p, "\"media_type\":\"image/png\",\"data\":\"QQ==\"") !=
	      NULL);
	buf_free(&b);
	hub_view_free(&v);
}

TEST(view_arena_strings_stay_put_and_are_bounded)
{
	struct hub_view v;
	struct hub_span first, s;
	char big[4000];
	size_t used = 0;

	hub_view_init(&v, NULL);
	first = hub_view_str(&v, "gcall_0", 7);
	REQUIRE(first.p != NULL);
	memset(big, 'x', sizeof(big));
	/* blocks never move: the first copy survives many more */
	while ((s = hub_view_str(&v, big, sizeof(big))).p)
		used += s.n;
	CHECK(used + 7 <= HUB_VIEW_ARENA_MAX);
	CHECK(used + 7 + sizeof(big) > HUB_VIEW_ARENA_MAX);
	CHECK_SPAN(first.p, first.n, "gcall_0");
	s = hub_view_str(&v, "", 0);
	CHECK(s.p != NULL && s.n == 0);
	hub_view_free(&v);
	CHECK(v.arena == NULL && v.arena_used == 0);
}

TEST(gemini_call_ids_are_made_in_the_view)
{
	struct doc d;
	struct hub_view v;

	REQUIRE(decode(&hub_gemini, &d, &v, "{\"contents\":["
		       "{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"a\"}},"
		       "{\"functionCall\":{\"name\":\"b\"}}]},"
		       "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"b\","
		       "\"response\":{}}},{\"functionResponse\":{\"name\":\"c\","
		       "\"response\":{}}}]}]}") == 0);
	REQUIRE(v.nparts == 4);
	CHECK_SPAN(v.parts[0].id.p, v.parts[0].id.n, "gcall_0");
	CHECK_SPAN(v.parts[1].id.p, v.parts[1].id.n, "gcall_1");
	CHECK(v.parts[2].id.p == v.parts[1].id.p); /* answers call b */
	CHECK_SPAN(v.parts[3].id.p, v.parts[3].id.n, "gcall_2");
	CHECK(v.arena_used == 21);
	undecode(&d, &v);
}
