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

TEST(tok_paths_and_usage)
{
	static const char *const names[4] = {
		"in", "out", "in_details.cached", NULL,
	};
	struct doc d;
	struct hub_usage u;

	REQUIRE(doc_parse(&d, "{\"u\":{\"in\":12,\"out\":3.0e1,\"in_details\":"
			      "{\"cached\":4}},\"x\":[1]}") == 0);
	CHECK_EQ_INT(hub_tok_long_at(&d.j, 0, "u.in", -1), 12);
	CHECK_EQ_INT(hub_tok_long_at(&d.j, 0, "u.in_details.cached", -1), 4);
	CHECK_EQ_INT(hub_tok_long_at(&d.j, 0, "u.nope.cached", -1), -1);
	CHECK_EQ_INT(hub_tok_long_at(&d.j, 0, "x.0", -9), -9); /* no arrays */
	CHECK_EQ_INT(hub_tok_path(&d.j, -1, "u"), -1);
	hub_tok_usage(&d.j, json_get(&d.j, 0, "u"), names, &u);
	CHECK_EQ_INT(u.input, 12);
	CHECK_EQ_INT(u.output, 30);
	CHECK_EQ_INT(u.cached, 4);
	CHECK_EQ_INT(u.cache_write, -1);
	CHECK_EQ_INT(u.thoughts, -1);
	json_free(&d.j);
}

TEST(word_tables_both_ways)
{
	static const struct hub_word tab[] = {{"a", 1}, {"b", 2}, {"b2", 2}};
	struct doc d;

	REQUIRE(doc_parse(&d, "[\"b2\",\"c\",3]") == 0);
	CHECK_EQ_INT(hub_word_val(tab, HUB_NELEM(tab), &d.j, 1, -1), 2);
	CHECK_EQ_INT(hub_word_val(tab, HUB_NELEM(tab), &d.j, 2, -1), -1);
	CHECK_EQ_INT(hub_word_val(tab, HUB_NELEM(tab), &d.j, 3, -1), -1);
	CHECK_EQ_STR(hub_word_of(tab, HUB_NELEM(tab), 2, "z"), "b");
	CHECK_EQ_STR(hub_word_of(tab, HUB_NELEM(tab), 7, "z"), "z");
	json_free(&d.j);
}

/* One reading of OpenAI's tool_choice and effort words for chat
 * completions and Responses (each decoder had its own). */
TEST(openai_tool_choice_and_effort_words)
{
	static const struct {
		const char *json;
		int rc;
		enum hub_tool_choice tc;
		const char *name;
	} cases[] = {
		{"\"auto\"", 0, HUB_TC_AUTO, NULL},
		{"\"none\"", 0, HUB_TC_NONE, NULL},
		{"\"required\"", 0, HUB_TC_ANY, NULL},
		{"{\"type\":\"function\",\"function\":{\"name\":\"f\"}}", 0,
		 HUB_TC_TOOL, "f"},
		{"{\"type\":\"function\",\"name\":\"g\"}", 0, HUB_TC_TOOL, "g"},
		{"{\"type\":\"allowed_tools\"}", 0, HUB_TC_AUTO, NULL},
		{"{\"type\":\"function\",\"name\":\"\"}", 0, HUB_TC_AUTO, NULL},
		{"\"maybe\"", -1, HUB_TC_UNSET, NULL},
		{"7", -1, HUB_TC_UNSET, NULL},
	};
	size_t i;
	enum hub_effort e = HUB_EFFORT_UNSET;
	struct doc d;

	for (i = 0; i < HUB_NELEM(cases); i++) {
		struct hub_view v;
		REQUIRE(doc_parse(&d, cases[i].json) == 0);
		hub_view_init(&v, &d.j);
		CHECK_EQ_INT(hub_tool_choice_of(&d.j, 0, &v), cases[i].rc);
		CHECK_EQ_INT(v.tool_choice, cases[i].tc);
		if (cases[i].name)
			CHECK_SPAN(v.tool_choice_name.p, v.tool_choice_name.n,
				   cases[i].name);
		else
			CHECK(v.tool_choice_name.p == NULL);
		json_free(&d.j);
	}
	REQUIRE(doc_parse(&d, "[\"xhigh\",\"auto\",\"max\"]") == 0);
	CHECK(hub_effort_of(&d.j, 1, &e) == 0 && e == HUB_EFFORT_HIGH);
	CHECK(hub_effort_of(&d.j, 2, &e) == 0 && e == HUB_EFFORT_AUTO);
	CHECK(hub_effort_of(&d.j, 3, &e) == -1 && e == HUB_EFFORT_AUTO);
	json_free(&d.j);
}

TEST(request_helpers_stops_tools_and_call_names)
{
	struct doc d;
	struct hub_view v;
	char err[64];
	struct hub_rq rq = {NULL, &v, err, sizeof(err)};
	struct hub_part *p;
	struct hub_tool *t;
	int i;

	REQUIRE(doc_parse(&d, "{\"s\":[\"a\",1,\"b\",\"c\",\"d\",\"e\",\"f\","
			      "\"g\",\"h\",\"i\"],\"one\":\"x\",\"n\":2,"
			      "\"schema\":{\"type\":\"object\"},\"bad\":[]}") == 0);
	rq.j = &d.j;
	hub_view_init(&v, &d.j);
	CHECK_EQ_INT(hub_rq_stops(&rq, json_get(&d.j, 0, "s")), 1);
	CHECK_EQ_INT(v.nstop, 8); /* the view keeps 8 */
	CHECK_SPAN(v.stop[1].p, v.stop[1].n, "b");
	v.nstop = 0;
	CHECK_EQ_INT(hub_rq_stops(&rq, json_get(&d.j, 0, "one")), 0);
	CHECK_EQ_INT(v.nstop, 1);
	CHECK_EQ_INT(hub_rq_stops(&rq, json_get(&d.j, 0, "n")), -1);
	t = hub_rq_tool(&rq, HUB_LIT("f"), hub_span_of(NULL, 0),
			json_get(&d.j, 0, "schema"));
	REQUIRE(t != NULL);
	CHECK_SPAN(t->schema.p, t->schema.n, "{\"type\":\"object\"}");
	t = hub_rq_tool(&rq, HUB_LIT("g"), HUB_LIT("G"),
			json_get(&d.j, 0, "bad"));
	REQUIRE(t != NULL);
	CHECK(t->schema.p == NULL && t->schema_tok == -1);
	REQUIRE(hub_add_msg(&v, HUB_ASSISTANT) != NULL);
	for (i = 0; i < 3; i++) {
		REQUIRE((p = hub_rq_part(&rq, i == 2 ? HUB_P_TEXT
						    : HUB_P_TOOL_CALL)) != NULL);
		p->id = HUB_LIT("c1");
		p->name = i ? HUB_LIT("second") : HUB_LIT("first");
	}
	v.msgs[0].n = 3;
	CHECK_EQ_INT(hub_msg_count(&v, &v.msgs[0], HUB_P_TOOL_CALL), 2);
	CHECK_SPAN(hub_view_call_name(&v, 3, HUB_LIT("c1")).p, 6, "second");
	CHECK_SPAN(hub_view_call_name(&v, 1, HUB_LIT("c1")).p, 5, "first");
	CHECK(hub_view_call_name(&v, 3, HUB_LIT("c2")).p == NULL);
	hub_view_free(&v);
	json_free(&d.j);
}

TEST(writers_of_tools_schemas_and_images)
{
	struct hub_view v;
	struct hub_tool *t;
	struct hub_part img;
	struct buf b;

	hub_view_init(&v, NULL);
	buf_init(&b, 4096);
	hub_put_tools(&b, &v, "{", "input_schema", "}");
	CHECK_EQ_INT(b.len, 0); /* no tools, nothing */
	REQUIRE((t = hub_add_tool(&v)) != NULL);
	t->name = HUB_LIT("f");
	REQUIRE((t = hub_add_tool(&v)) != NULL);
	t->name = HUB_LIT("g");
	t->description = HUB_LIT("d");
	t->schema = HUB_LIT("{\"type\":\"object\",\"properties\":{\"a\":{}}}");
	hub_put_tools(&b, &v, "{", "input_schema", "}");
	CHECK_SPAN(b.p, b.len, ",\"tools\":[{\"name\":\"f\",\"input_schema\":"
		   "{\"type\":\"object\",\"properties\":{}}},{\"name\":\"g\","
		   "\"description\":\"d\",\"input_schema\":{\"type\":\"object\","
		   "\"properties\":{\"a\":{}}}}]");
	buf_reset(&b);
	memset(&img, 0, sizeof(img));
	img.url = HUB_LIT("https://x/y.png");
	hub_put_image_url(&b, &img);
	img.data = HUB_LIT("QQ==");
	hub_put_image_url(&b, &img); /* data wins, image/png by default */
	img.mime = HUB_LIT("image/gif");
	hub_put_image_url(&b, &img);
	CHECK_SPAN(b.p, b.len, "https://x/y.pngdata:image/png;base64,QQ=="
		   "data:image/gif;base64,QQ==");
	buf_reset(&b);
	hub_put_raw_member(&b, "t", HUB_LIT("0.5"));
	hub_put_raw_member(&b, "u", hub_span_of(NULL, 0));
	hub_put_str_member(&b, "s", HUB_LIT("x"));
	hub_put_str_member(&b, "n", hub_span_of(NULL, 0));
	CHECK_SPAN(b.p, b.len, ",\"t\":0.5,\"s\":\"x\"");
	buf_free(&b);
	hub_view_free(&v);
}

static int sink_log_n;
static char sink_log[256];

static void sink_rec(void *user, const struct hub_event *ev)
{
	(void)user;
	sink_log_n += snprintf(sink_log + sink_log_n,
			       sizeof(sink_log) - (size_t)sink_log_n, "%d:%d:%.*s|",
			       (int)ev->type, ev->index, (int)ev->text.n,
			       ev->text.p ? ev->text.p : "");
}

TEST(sink_events_start_once_and_error_ends)
{
	struct hub_sdec d;
	struct hub_sink k;

	hub_sdec_init(&d, HUB_OPENAI, 1);
	k.d = &d;
	k.j = NULL;
	k.emit = sink_rec;
	k.user = NULL;
	sink_log_n = 0;
	sink_log[0] = '\0';
	hub_sink_start(&k, HUB_LIT("id"), hub_span_of(NULL, 0));
	hub_sink_start(&k, HUB_LIT("again"), hub_span_of(NULL, 0));
	hub_sink_text(&k, HUB_EV_TOOL_ARGS, 2, HUB_LIT("{}"));
	d.usage.input = 3;
	hub_sink_usage(&k);
	hub_sink_finish(&k, HUB_FIN_LENGTH, hub_span_of(NULL, 0));
	CHECK_EQ_INT(d.done, 0);
	hub_sink_error(&k, 502, HUB_LIT("bad"));
	CHECK_EQ_INT(d.done, 1);
	CHECK_EQ_STR(sink_log, "0:0:|5:2:{}|7:0:|8:0:|9:0:bad|");
	hub_sdec_free(&d);
}

TEST(encoder_start_takes_ids_once)
{
	struct hub_enc e;
	struct hub_enc_opts o;
	struct hub_event ev;
	int started = 0;

	memset(&o, 0, sizeof(o));
	o.model = "client-model";
	hub_enc_init(&e, HUB_GEMINI, &o);
	hub_event_init(&ev, HUB_EV_START);
	ev.id = HUB_LIT("resp-\\u0031");
	ev.model = HUB_LIT("up-model");
	hub_enc_first(&e, &ev, &started, "x-");
	CHECK_EQ_STR(e.id, "resp-1");
	CHECK_EQ_STR(e.model, "up-model");
	ev.id = HUB_LIT("other");
	hub_enc_first(&e, &ev, &started, "x-");
	CHECK_EQ_STR(e.id, "resp-1");
	CHECK_EQ_INT(hub_enc_begin(&e, &started, "x-"), 0);
	hub_enc_reset(&e);
	CHECK_EQ_STR(e.model, "client-model");
	started = 0;
	hub_event_init(&ev, HUB_EV_TEXT);
	CHECK_EQ_INT(hub_enc_begin(&e, &started, "x-"), 1);
	CHECK(strncmp(e.id, "x-", 2) == 0 && strlen(e.id) == 26);
	hub_enc_free(&e);
}
