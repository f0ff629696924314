/*
 * test_hub_responses.c - unit tests of the OpenAI Responses codec
 * (src/hub_responses_client.c, src/hub_responses_upstream.c) against the
 * contract in hub.h.
 *
 * Requests are decoded from bodies like Codex CLI sends and re-encoded;
 * upstream streams are recorded-style Responses SSE payloads; decoded
 * events are logged as one line ("START(id,model)|TEXT(hi)|...") so a
 * test states the whole expected sequence.  Client streams are split into
 * SSE frames and checked frame by frame (type, sequence_number,
 * output_index), small ones byte for byte.
 */
#include "t.h"
#include "hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct hub_span sp(const char *s)
{
	struct hub_span r;
	r.p = s;
	r.n = s ? strlen(s) : 0;
	return r;
}

/* ======================================================================
 * Request helpers
 * ====================================================================== */

struct rq {
	struct json j;
	struct hub_view v;
	char err[256];
	int rc;
};

static int rq_decode(struct rq *r, const char *body)
{
	memset(r, 0, sizeof(*r));
	if (json_parse(&r->j, body, strlen(body)) != 0)
		return -2;
	hub_view_init(&r->v, &r->j);
	r->rc = hub_responses.decode_request(&r->j, &r->v, r->err,
					     sizeof(r->err));
	return r->rc;
}

static void rq_free(struct rq *r)
{
	hub_view_free(&r->v);
	json_free(&r->j);
}

/* Encode r's view with options o; returns the body (in out, which the
 * caller frees). */
static const char *rq_encode_with(struct rq *r, const struct hub_req_opts *o,
				  struct buf *out)
{
	char err[128];
	buf_init(out, 1 << 20);
	if (hub_responses.encode_request(&r->v, o, out, err, sizeof(err)) < 0)
		return NULL;
	buf_putc(out, '\0');
	out->len--;
	return out->p;
}

static const char *rq_encode(struct rq *r, int stream, struct buf *out)
{
	struct hub_req_opts o;
	memset(&o, 0, sizeof(o));
	o.model = "gpt-5-codex";
	o.stream = stream;
	return rq_encode_with(r, &o, out);
}

static int part_text_is(const struct hub_part *p, const char *lit)
{
	return p->text.p && p->text.n == strlen(lit) &&
	       memcmp(p->text.p, lit, p->text.n) == 0;
}

#define SPAN_IS(s, lit) CHECK_SPAN((s).p, (s).n, lit)

/* The client's name for an upstream function name, through the name map
 * the encoder of a Responses client copies (1 restored, 0 unchanged). */
static int restore_name(const struct hub_view *v, struct hub_span name,
			struct buf *out)
{
	struct buf map;
	int rc;

	buf_init(&map, 1 << 16);
	if (!CHECK(hub_responses_name_map(v, &map) == 0))
		return -1;
	rc = hub_responses_restore(map.p, map.len, name, out);
	buf_free(&map);
	return rc;
}

/* ======================================================================
 * decode_request
 * ====================================================================== */

TEST(responses_req_plain_string_input_and_scalars)
{
	struct rq r;
	REQUIRE(rq_decode(&r, "{\"model\":\"gpt-5\",\"instructions\":\"Be brief\","
			  "\"input\":\"hello\",\"stream\":true,"
			  "\"max_output_tokens\":512,\"temperature\":0.5,"
			  "\"top_p\":1,\"parallel_tool_calls\":false,"
			  "\"reasoning\":{\"effort\":\"high\",\"summary\":\"auto\"},"
			  "\"store\":false,\"include\":[],\"prompt_cache_key\":\"k\"}") == 0);
	SPAN_IS(r.v.model, "gpt-5");
	CHECK_EQ_INT(r.v.stream, 1);
	CHECK_EQ_INT(r.v.sys_n, 1);
	CHECK(part_text_is(&r.v.parts[r.v.sys_first], "Be brief"));
	REQUIRE(r.v.nmsgs == 1);
	CHECK_EQ_INT(r.v.msgs[0].role, HUB_USER);
	CHECK_EQ_INT(r.v.msgs[0].n, 1);
	CHECK(part_text_is(&r.v.parts[r.v.msgs[0].first], "hello"));
	CHECK_EQ_INT(r.v.max_tokens, 512);
	SPAN_IS(r.v.temperature, "0.5");
	SPAN_IS(r.v.top_p, "1");
	CHECK_EQ_INT(r.v.parallel_tool_calls, 0);
	CHECK_EQ_INT(r.v.effort, HUB_EFFORT_HIGH);
	CHECK_EQ_INT(r.v.thinking, 1);
	CHECK_EQ_INT(r.v.include_thoughts, 1);
	CHECK(!HUB_SPAN_SET(r.v.response_format));
	rq_free(&r);
}

static const char codex_body[] =
	"{\"model\":\"gpt-5-codex\",\"instructions\":\"You are Codex.\","
	"\"input\":["
	"{\"type\":\"message\",\"role\":\"developer\",\"content\":[{\"type\":\"input_text\",\"text\":\"<permissions>\"}]},"
	"{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"<env>\"}]},"
	"{\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"list files\"},"
	"{\"type\":\"input_image\",\"image_url\":\"data:image/png;base64,iVBORw0K\"},"
	"{\"type\":\"input_image\",\"image_url\":\"https://example.com/a.jpg\",\"detail\":\"auto\"}]},"
	"{\"type\":\"reasoning\",\"id\":\"rs_1\",\"summary\":[{\"type\":\"summary_text\",\"text\":\"**Listing**\"}],"
	"\"encrypted_content\":\"gAAAAABsig+/=\"},"
	"{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"I'll run ls.\"}]},"
	"{\"type\":\"function_call\",\"name\":\"shell\",\"arguments\":\"{\\\"command\\\":[\\\"ls\\\"]}\",\"call_id\":\"call_abc\"},"
	"{\"type\":\"function_call_output\",\"call_id\":\"call_abc\",\"output\":\"a.txt\\nb.txt\"},"
	"{\"type\":\"message\",\"role\":\"user\",\"content\":\"thanks\"}"
	"],"
	"\"tools\":[{\"type\":\"function\",\"name\":\"shell\",\"description\":\"Run a command\","
	"\"strict\":false,\"parameters\":{\"type\":\"object\",\"properties\":{\"command\":{\"type\":\"array\"}}}},"
	"{\"type\":\"web_search\"}],"
	"\"tool_choice\":\"auto\",\"parallel_tool_calls\":true,"
	"\"reasoning\":{\"effort\":\"medium\",\"summary\":\"auto\"},\"store\":false,\"stream\":true,"
	"\"include\":[\"reasoning.encrypted_content\"],\"prompt_cache_key\":\"abc\"}";

TEST(responses_req_items_become_merged_messages)
{
	struct rq r;
	const struct hub_part *p;
	REQUIRE(rq_decode(&r, codex_body) == 0);
	/* system: instructions + developer message */
	REQUIRE(r.v.sys_n == 2);
	CHECK_EQ_INT(r.v.sys_first, 0);
	CHECK(part_text_is(&r.v.parts[0], "You are Codex."));
	CHECK(part_text_is(&r.v.parts[1], "<permissions>"));
	/* user(env, list files, 2 images) | assistant(thinking, text, call) |
	 * user(result, thanks) */
	REQUIRE(r.v.nmsgs == 3);
	CHECK_EQ_INT(r.v.msgs[0].role, HUB_USER);
	CHECK_EQ_INT(r.v.msgs[0].n, 4);
	CHECK_EQ_INT(r.v.msgs[1].role, HUB_ASSISTANT);
	CHECK_EQ_INT(r.v.msgs[1].n, 3);
	CHECK_EQ_INT(r.v.msgs[2].role, HUB_USER);
	CHECK_EQ_INT(r.v.msgs[2].n, 2);
	p = &r.v.parts[r.v.msgs[0].first];
	CHECK(part_text_is(&p[0], "<env>"));
	CHECK(part_text_is(&p[1], "list files"));
	CHECK_EQ_INT(p[2].type, HUB_P_IMAGE);
	SPAN_IS(p[2].mime, "image/png");
	SPAN_IS(p[2].data, "iVBORw0K");
	CHECK_EQ_INT(p[3].type, HUB_P_IMAGE);
	SPAN_IS(p[3].url, "https://example.com/a.jpg");
	CHECK(!HUB_SPAN_SET(p[3].data));
	p = &r.v.parts[r.v.msgs[1].first];
	CHECK_EQ_INT(p[0].type, HUB_P_THINKING);
	CHECK(part_text_is(&p[0], "**Listing**"));
	SPAN_IS(p[0].signature, "gAAAAABsig+/=");
	CHECK(part_text_is(&p[1], "I'll run ls."));
	CHECK_EQ_INT(p[2].type, HUB_P_TOOL_CALL);
	SPAN_IS(p[2].id, "call_abc");
	SPAN_IS(p[2].name, "shell");
	SPAN_IS(p[2].args, "{\\\"command\\\":[\\\"ls\\\"]}");
	CHECK_EQ_INT(p[2].args_is_str, 1);
	p = &r.v.parts[r.v.msgs[2].first];
	CHECK_EQ_INT(p[0].type, HUB_P_TOOL_RESULT);
	SPAN_IS(p[0].id, "call_abc");
	SPAN_IS(p[0].name, "shell"); /* looked up from the call */
	SPAN_IS(p[0].result, "a.txt\\nb.txt");
	CHECK_EQ_INT(p[0].result_is_str, 1);
	CHECK(part_text_is(&p[1], "thanks"));
	/* tools: web_search skipped */
	REQUIRE(r.v.ntools == 1);
	SPAN_IS(r.v.tools[0].name, "shell");
	SPAN_IS(r.v.tools[0].description, "Run a command");
	CHECK(r.v.tools[0].schema_tok > 0);
	CHECK(r.v.tools[0].schema.p && r.v.tools[0].schema.p[0] == '{');
	CHECK_EQ_INT(r.v.tool_choice, HUB_TC_AUTO);
	CHECK_EQ_INT(r.v.parallel_tool_calls, 1);
	CHECK_EQ_INT(r.v.effort, HUB_EFFORT_MEDIUM);
	rq_free(&r);
}

TEST(responses_req_tool_choice_and_text_format)
{
	struct rq r;
	REQUIRE(rq_decode(&r, "{\"model\":\"m\",\"input\":[],\"tools\":[{\"type\":"
			  "\"function\",\"name\":\"f\"}],\"tool_choice\":{\"type\":"
			  "\"function\",\"name\":\"f\"},\"text\":{\"format\":{\"type\":"
			  "\"json_schema\",\"name\":\"x\",\"schema\":{}}},"
			  "\"reasoning\":{\"effort\":\"none\",\"summary\":null}}") == 0);
	CHECK_EQ_INT(r.v.tool_choice, HUB_TC_TOOL);
	SPAN_IS(r.v.tool_choice_name, "f");
	SPAN_IS(r.v.response_format,
		"{\"type\":\"json_schema\",\"name\":\"x\",\"schema\":{}}");
	CHECK_EQ_INT(r.v.effort, HUB_EFFORT_NONE);
	CHECK_EQ_INT(r.v.thinking, 0);
	CHECK_EQ_INT(r.v.include_thoughts, 0);
	CHECK(!HUB_SPAN_SET(r.v.tools[0].schema));
	rq_free(&r);
	REQUIRE(rq_decode(&r, "{\"input\":\"x\",\"tool_choice\":\"required\","
			  "\"text\":{\"format\":{\"type\":\"text\"}}}") == 0);
	CHECK_EQ_INT(r.v.tool_choice, HUB_TC_ANY);
	CHECK(!HUB_SPAN_SET(r.v.response_format));
	rq_free(&r);
	REQUIRE(rq_decode(&r, "{\"input\":\"x\",\"tool_choice\":\"none\"}") == 0);
	CHECK_EQ_INT(r.v.tool_choice, HUB_TC_NONE);
	rq_free(&r);
}

TEST(responses_req_reasoning_signature_only_and_multi_summary)
{
	struct rq r;
	const struct hub_part *p;
	REQUIRE(rq_decode(&r, "{\"input\":[{\"type\":\"reasoning\",\"summary\":[],"
			  "\"encrypted_content\":\"SIG1\"},{\"type\":\"reasoning\","
			  "\"summary\":[{\"type\":\"summary_text\",\"text\":\"a\"},"
			  "{\"type\":\"summary_text\",\"text\":\"b\"}],"
			  "\"encrypted_content\":\"SIG2\"}]}") == 0);
	REQUIRE(r.v.nmsgs == 1);
	REQUIRE(r.v.msgs[0].n == 3);
	p = &r.v.parts[r.v.msgs[0].first];
	CHECK_EQ_INT(p[0].type, HUB_P_THINKING);
	CHECK_EQ_INT(p[0].text.n, 0);
	SPAN_IS(p[0].signature, "SIG1");
	CHECK(part_text_is(&p[1], "a"));
	CHECK(!HUB_SPAN_SET(p[1].signature));
	CHECK(part_text_is(&p[2], "b"));
	SPAN_IS(p[2].signature, "SIG2");
	rq_free(&r);
}

/* hub_req_opts.effort replaces the view's reasoning effort; codex leaves
 * out what the ChatGPT Codex backend refuses (400 "Unsupported parameter:
 * max_output_tokens", temperature, top_p) and keeps everything else. */
TEST(responses_req_effort_and_codex_options)
{
	struct rq r;
	struct hub_req_opts o;
	struct buf out;
	const char *s;

	REQUIRE(rq_decode(&r, "{\"model\":\"m\",\"input\":\"hi\","
			  "\"max_output_tokens\":100,\"temperature\":0.5,"
			  "\"top_p\":0.9,\"reasoning\":{\"effort\":\"high\"}}") == 0);
	memset(&o, 0, sizeof(o));
	o.model = "gpt-5-codex";
	o.stream = 1;
	REQUIRE((s = rq_encode_with(&r, &o, &out)) != NULL);
	CHECK(strstr(s, "\"reasoning\":{\"effort\":\"high\",\"summary\":"
		      "\"auto\"}") != NULL);
	CHECK(strstr(s, ",\"max_output_tokens\":100,\"temperature\":0.5,"
		      "\"top_p\":0.9") != NULL);
	buf_free(&out);

	o.effort = "low";
	o.codex = 1;
	REQUIRE((s = rq_encode_with(&r, &o, &out)) != NULL);
	CHECK(json_validate(out.p, out.len) == 0);
	CHECK(strstr(s, "\"reasoning\":{\"effort\":\"low\",\"summary\":"
		      "\"auto\"}") != NULL);
	CHECK(strstr(s, "max_output_tokens") == NULL);
	CHECK(strstr(s, "temperature") == NULL);
	CHECK(strstr(s, "top_p") == NULL);
	CHECK(strstr(s, "\"stream\":true,\"store\":false,\"include\":"
		      "[\"reasoning.encrypted_content\"]}") != NULL);
	buf_free(&out);
	rq_free(&r);
}

static void expect_bad(const char *body, const char *msg_part)
{
	struct rq r;
	int rc = rq_decode(&r, body);
	if (!CHECK_EQ_INT(rc, -1))
		FAILF("body accepted: %s", body);
	else if (!strstr(r.err, msg_part))
		FAILF("message \"%s\" lacks \"%s\"", r.err, msg_part);
	rq_free(&r);
}

TEST(responses_req_malformed_shapes_are_rejected)
{
	expect_bad("[1]", "JSON object");
	expect_bad("{\"model\":1,\"input\":\"x\"}", "model");
	expect_bad("{\"model\":\"m\"}", "input is required");
	expect_bad("{\"input\":5}", "input must be");
	expect_bad("{\"input\":[\"hi\"]}", "items must be objects");
	expect_bad("{\"input\":[{\"role\":\"robot\",\"content\":\"x\"}]}", "role");
	expect_bad("{\"input\":[{\"role\":\"user\",\"content\":7}]}", "content must be");
	expect_bad("{\"input\":[{\"role\":\"developer\",\"content\":{}}]}", "content must be");
	expect_bad("{\"input\":[{\"role\":\"user\",\"content\":[\"x\"]}]}", "parts must be objects");
	expect_bad("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\"}]}]}", "text string");
	expect_bad("{\"input\":[{\"type\":\"function_call\",\"name\":\"f\",\"arguments\":\"{}\"}]}", "call_id and name");
	expect_bad("{\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c\"}]}", "call_id and output");
	expect_bad("{\"input\":[{\"type\":\"reasoning\",\"summary\":{}}]}", "summary must be an array");
	expect_bad("{\"input\":[{\"type\":\"reasoning\",\"summary\":[{}]}]}", "without text");
	expect_bad("{\"input\":\"x\",\"tools\":{}}", "tools must be an array");
	expect_bad("{\"input\":\"x\",\"tools\":[{\"type\":\"function\"}]}", "without a name");
	expect_bad("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\",\"file_id\":\"file-1\"}]}]}", "file_id is not supported");
	expect_bad("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\",\"image_url\":\"data:image/png,abc\"}]}]}", "base64");
	expect_bad("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_file\",\"file_id\":\"f\"}]}]}", "input_file");
}

/* ======================================================================
 * encode_request
 * ====================================================================== */

TEST(responses_enc_req_plain_text_exact)
{
	struct rq r;
	struct buf out;
	const char *s;
	REQUIRE(rq_decode(&r, "{\"model\":\"x\",\"instructions\":\"sys \\\"q\\\"\","
			  "\"input\":\"hi\\n\",\"max_output_tokens\":100}") == 0);
	s = rq_encode(&r, 1, &out);
	REQUIRE(s);
	CHECK_EQ_STR(s, "{\"model\":\"gpt-5-codex\",\"instructions\":\"sys \\\"q\\\"\","
		     "\"input\":[{\"type\":\"message\",\"role\":\"user\",\"content\":"
		     "[{\"type\":\"input_text\",\"text\":\"hi\\n\"}]}],"
		     "\"parallel_tool_calls\":true,\"reasoning\":{\"effort\":"
		     "\"medium\",\"summary\":\"auto\"},\"stream\":true,\"store\":"
		     "false,\"include\":[\"reasoning.encrypted_content\"],"
		     "\"max_output_tokens\":100}");
	buf_free(&out);
	rq_free(&r);
}

TEST(responses_enc_req_round_trip_keeps_ids_args_images_signatures)
{
	struct rq r;
	struct buf out;
	const char *s;
	REQUIRE(rq_decode(&r, codex_body) == 0);
	s = rq_encode(&r, 0, &out);
	REQUIRE(s);
	CHECK_EQ_STR(s,
		"{\"model\":\"gpt-5-codex\",\"instructions\":\"You are Codex.\\n\\n<permissions>\","
		"\"input\":["
		"{\"type\":\"message\",\"role\":\"user\",\"content\":["
		"{\"type\":\"input_text\",\"text\":\"<env>\"},"
		"{\"type\":\"input_text\",\"text\":\"list files\"},"
		"{\"type\":\"input_image\",\"image_url\":\"data:image/png;base64,iVBORw0K\"},"
		"{\"type\":\"input_image\",\"image_url\":\"https://example.com/a.jpg\"}]},"
		"{\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\",\"text\":\"**Listing**\"}],"
		"\"encrypted_content\":\"gAAAAABsig+/=\"},"
		"{\"type\":\"message\",\"role\":\"assistant\",\"content\":["
		"{\"type\":\"output_text\",\"text\":\"I'll run ls.\"}]},"
		"{\"type\":\"function_call\",\"call_id\":\"call_abc\",\"name\":\"shell\","
		"\"arguments\":\"{\\\"command\\\":[\\\"ls\\\"]}\"},"
		"{\"type\":\"function_call_output\",\"call_id\":\"call_abc\",\"output\":\"a.txt\\nb.txt\"},"
		"{\"type\":\"message\",\"role\":\"user\",\"content\":["
		"{\"type\":\"input_text\",\"text\":\"thanks\"}]}],"
		"\"tools\":[{\"type\":\"function\",\"name\":\"shell\",\"description\":\"Run a command\","
		"\"parameters\":{\"type\":\"object\",\"properties\":{\"command\":{\"type\":\"array\"}}},"
		"\"strict\":false}],\"tool_choice\":\"auto\","
		"\"parallel_tool_calls\":true,\"reasoning\":{\"effort\":\"medium\",\"summary\":\"auto\"},"
		"\"stream\":false,\"store\":false,\"include\":[\"reasoning.encrypted_content\"]}");
	{ /* and it is valid JSON */
		struct json j;
		CHECK_EQ_INT(json_parse(&j, out.p, out.len), 0);
		json_free(&j);
	}
	buf_free(&out);
	rq_free(&r);
}

/* A view as another codec (Claude / Gemini) would fill it. */
TEST(responses_enc_req_foreign_view_parts)
{
	static const char body[] =
		"{\"schema\":{\"type\":\"object\"},\"input\":{\"cmd\":\"ls\"},"
		"\"blocks\":[{\"type\":\"text\",\"text\":\"one\"},{\"type\":\"text\",\"text\":\"two\"}],"
		"\"obj\":{\"ok\":true}}";
	struct json j;
	struct hub_view v;
	struct hub_part *p;
	struct hub_req_opts o;
	struct buf out;
	char err[64];

	REQUIRE(json_parse(&j, body, strlen(body)) == 0);
	hub_view_init(&v, &j);
	v.thinking = 0; /* Claude thinking disabled -> low */
	hub_add_msg(&v, HUB_ASSISTANT);
	p = hub_add_part(&v); v.msgs[0].n++;
	p->type = HUB_P_THINKING; p->text = sp("unsigned, dropped");
	p = hub_add_part(&v); v.msgs[0].n++;
	p->type = HUB_P_THINKING; p->text = sp("signed"); p->signature = sp("S1");
	p = hub_add_part(&v); v.msgs[0].n++;
	p->type = HUB_P_TOOL_CALL; p->id = sp("toolu_1"); p->name = sp("run");
	p->args.p = strstr(body, "{\"cmd\""); p->args.n = 12; /* raw object */
	p = hub_add_part(&v); v.msgs[0].n++;
	p->type = HUB_P_TOOL_CALL; p->name = sp("g"); /* Gemini: no id */
	p = hub_add_part(&v); v.msgs[0].n++;
	p->type = HUB_P_THINKING; p->text = sp("trailing unsigned");
	hub_add_msg(&v, HUB_USER);
	p = hub_add_part(&v); v.msgs[1].n++;
	p->type = HUB_P_TOOL_RESULT; p->id = sp("toolu_1");
	p->result.p = strstr(body, "[{\"type\":\"text\""); /* raw blocks */
	p->result.n = strlen("[{\"type\":\"text\",\"text\":\"one\"},{\"type\":\"text\",\"text\":\"two\"}]");
	p = hub_add_part(&v); v.msgs[1].n++;
	p->type = HUB_P_TOOL_RESULT; p->name = sp("g");
	p->result.p = strstr(body, "{\"ok\""); p->result.n = 11;
	p = hub_add_part(&v); v.msgs[1].n++;
	p->type = HUB_P_IMAGE; p->mime = sp("image/jpeg"); p->data = sp("QUJD");

	memset(&o, 0, sizeof(o));
	o.model = "gpt-5";
	buf_init(&out, 1 << 16);
	REQUIRE(hub_responses.encode_request(&v, &o, &out, err, sizeof(err)) == 0);
	CHECK_SPAN(out.p, out.len,
		"{\"model\":\"gpt-5\",\"instructions\":\"\",\"input\":["
		"{\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\",\"text\":\"unsigned, dropped\"},"
		"{\"type\":\"summary_text\",\"text\":\"signed\"}],\"encrypted_content\":\"S1\"},"
		"{\"type\":\"function_call\",\"call_id\":\"toolu_1\",\"name\":\"run\","
		"\"arguments\":\"{\\\"cmd\\\":\\\"ls\\\"}\"},"
		"{\"type\":\"function_call\",\"call_id\":\"call_0_0\",\"name\":\"g\",\"arguments\":\"{}\"},"
		"{\"type\":\"function_call_output\",\"call_id\":\"toolu_1\",\"output\":\"one\\ntwo\"},"
		"{\"type\":\"function_call_output\",\"call_id\":\"call_0_0\",\"output\":\"{\\\"ok\\\":true}\"},"
		"{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_image\","
		"\"image_url\":\"data:image/jpeg;base64,QUJD\"}]}],"
		"\"parallel_tool_calls\":true,\"reasoning\":{\"effort\":\"low\",\"summary\":\"auto\"},"
		"\"stream\":false,\"store\":false,\"include\":[\"reasoning.encrypted_content\"]}");
	/* a Claude client's signature is no encrypted_content: the thinking
	 * is not replayed */
	v.client_fmt = HUB_CLAUDE;
	buf_reset(&out);
	REQUIRE(hub_responses.encode_request(&v, &o, &out, err, sizeof(err)) == 0);
	buf_putc(&out, '\0');
	CHECK(strstr(out.p, "\"type\":\"reasoning\"") == NULL);
	CHECK(strstr(out.p, "\"input\":[{\"type\":\"function_call\",\"call_id\":"
		     "\"toolu_1\"") != NULL);
	buf_free(&out);
	hub_view_free(&v);
	json_free(&j);
}

TEST(responses_enc_req_effort_mapping)
{
	static const struct {
		int thinking;
		long budget;
		enum hub_effort effort;
		const char *want;
	} cases[] = {
		{-1, HUB_BUDGET_UNSET, HUB_EFFORT_UNSET, "\"effort\":\"medium\""},
		{1, 24576, HUB_EFFORT_UNSET, "\"effort\":\"high\""},
		{1, 1024, HUB_EFFORT_UNSET, "\"effort\":\"low\""},
		{1, -1, HUB_EFFORT_UNSET, "\"effort\":\"medium\""},
		{0, HUB_BUDGET_UNSET, HUB_EFFORT_UNSET, "\"effort\":\"low\""},
		{0, 0, HUB_EFFORT_UNSET, "\"effort\":\"low\""},
		{0, HUB_BUDGET_UNSET, HUB_EFFORT_NONE, "\"effort\":\"none\""},
		{1, HUB_BUDGET_UNSET, HUB_EFFORT_MINIMAL, "\"effort\":\"minimal\""},
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(cases); i++) {
		struct rq r;
		struct buf out;
		const char *s;
		REQUIRE(rq_decode(&r, "{\"input\":\"x\"}") == 0);
		r.v.thinking = cases[i].thinking;
		r.v.thinking_budget = cases[i].budget;
		r.v.effort = cases[i].effort;
		s = rq_encode(&r, 1, &out);
		if (!CHECK(s && strstr(s, cases[i].want)))
			FAILF("case %zu: %s", i, s ? s : "(null)");
		buf_free(&out);
		rq_free(&r);
	}
}

TEST(responses_enc_req_text_format_from_chat_shape)
{
	static const char body[] = "{\"response_format\":{\"type\":\"json_schema\","
		"\"json_schema\":{\"name\":\"n\",\"schema\":{\"type\":\"object\"},\"strict\":true}}}";
	struct json j;
	struct hub_view v;
	struct hub_req_opts o;
	struct buf out;
	char err[64];
	int t;

	REQUIRE(json_parse(&j, body, strlen(body)) == 0);
	hub_view_init(&v, &j);
	t = json_get(&j, 0, "response_format");
	v.response_format = hub_tok_raw(&j, t);
	memset(&o, 0, sizeof(o));
	o.model = "m";
	buf_init(&out, 4096);
	REQUIRE(hub_responses.encode_request(&v, &o, &out, err, sizeof(err)) == 0);
	buf_putc(&out, '\0');
	CHECK(strstr(out.p, ",\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"n\","
		      "\"schema\":{\"type\":\"object\"},\"strict\":true}}}") != NULL);
	buf_free(&out);
	hub_view_free(&v);
	json_free(&j);
}

#define LONG_A "mcp__server_with_a_really_long_name_for_the_test_suite_alpha__read_file"
#define LONG_B "mcp__another_server_with_an_even_longer_name_for_the_tests_beta__read_file"
#define LONG_C "a_plain_tool_name_that_is_definitely_longer_than_sixty_four_characters_xyz"

TEST(responses_enc_req_shortens_long_tool_names_and_restores_them)
{
	static const char body[] =
		"{\"input\":[{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":\"" LONG_B
		"\",\"arguments\":\"{}\"}],\"tool_choice\":{\"type\":\"function\",\"name\":\"" LONG_C "\"},"
		"\"tools\":[{\"type\":\"function\",\"name\":\"" LONG_A "\"},"
		"{\"type\":\"function\",\"name\":\"" LONG_B "\"},"
		"{\"type\":\"function\",\"name\":\"" LONG_C "\"},"
		"{\"type\":\"function\",\"name\":\"short\"}]}";
	struct rq r;
	struct buf out, nb;
	const char *s;
	char c64[65];

	REQUIRE(strlen(LONG_A) > 64 && strlen(LONG_B) > 64 && strlen(LONG_C) > 64);
	REQUIRE(rq_decode(&r, body) == 0);
	s = rq_encode(&r, 1, &out);
	REQUIRE(s);
	memcpy(c64, LONG_C, 64);
	c64[64] = '\0';
	CHECK(strstr(s, "{\"type\":\"function\",\"name\":\"mcp__read_file\",") != NULL);
	CHECK(strstr(s, "{\"type\":\"function\",\"name\":\"mcp__read_file~1\",") != NULL);
	CHECK(strstr(s, c64) != NULL);
	CHECK(strstr(s, LONG_C) == NULL);
	CHECK(strstr(s, "\"call_id\":\"c1\",\"name\":\"mcp__read_file~1\"") != NULL);
	CHECK(strstr(s, "\"name\":\"short\"") != NULL);
	{
		char want[128];
		snprintf(want, sizeof(want), "\"tool_choice\":{\"type\":\"function\",\"name\":\"%s\"}", c64);
		CHECK(strstr(s, want) != NULL);
	}
	buf_free(&out);

	buf_init(&nb, 1024);
	CHECK_EQ_INT(restore_name(&r.v, sp("mcp__read_file"), &nb), 1);
	CHECK_SPAN(nb.p, nb.len, LONG_A);
	buf_reset(&nb);
	CHECK_EQ_INT(restore_name(&r.v, sp("mcp__read_file~1"), &nb), 1);
	CHECK_SPAN(nb.p, nb.len, LONG_B);
	buf_reset(&nb);
	CHECK_EQ_INT(restore_name(&r.v, sp(c64), &nb), 1);
	CHECK_SPAN(nb.p, nb.len, LONG_C);
	buf_reset(&nb);
	CHECK_EQ_INT(restore_name(&r.v, sp("short"), &nb), 0);
	CHECK_EQ_INT(restore_name(&r.v, sp("unknown"), &nb), 0);
	CHECK_EQ_INT(nb.len, 0);
	buf_free(&nb);
	rq_free(&r);
}

TEST(responses_enc_req_collision_with_short_original_name)
{
	/* a tool literally named like another's shortened name gets ~1 */
	static const char body[] = "{\"input\":\"x\",\"tools\":["
		"{\"type\":\"function\",\"name\":\"" LONG_A "\"},"
		"{\"type\":\"function\",\"name\":\"mcp__read_file\"}]}";
	struct rq r;
	struct buf out, nb;
	const char *s;
	REQUIRE(rq_decode(&r, body) == 0);
	s = rq_encode(&r, 1, &out);
	REQUIRE(s);
	CHECK(strstr(s, "\"name\":\"mcp__read_file\",") != NULL);
	CHECK(strstr(s, "\"name\":\"mcp__read_file~1\",") != NULL);
	buf_init(&nb, 256);
	CHECK_EQ_INT(restore_name(&r.v, sp("mcp__read_file~1"), &nb), 1);
	CHECK_SPAN(nb.p, nb.len, "mcp__read_file");
	buf_reset(&nb);
	/* the upstream's mcp__read_file is the long tool, not the client's
	 * own mcp__read_file (that one went up as ~1) */
	CHECK_EQ_INT(restore_name(&r.v, sp("mcp__read_file"), &nb), 1);
	CHECK_SPAN(nb.p, nb.len, LONG_A);
	buf_free(&nb);
	buf_free(&out);
	rq_free(&r);
}

/* ======================================================================
 * decode_event / decode_body
 * ====================================================================== */

struct rec {
	char log[8192];
	size_t n;
};

static void rec_put(struct rec *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void rec_put(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (r->n < sizeof(r->log))
		r->n += (size_t)vsnprintf(r->log + r->n, sizeof(r->log) - r->n,
					  fmt, ap);
	va_end(ap);
}

#define SP(s) (int)(s).n, (s).p ? (s).p : ""

static void rec_emit(void *user, const struct hub_event *ev)
{
	struct rec *r = user;
	if (r->n)
		rec_put(r, "|");
	switch (ev->type) {
	case HUB_EV_START: rec_put(r, "START(%.*s,%.*s)", SP(ev->id), SP(ev->model)); break;
	case HUB_EV_TEXT: rec_put(r, "TEXT(%.*s)", SP(ev->text)); break;
	case HUB_EV_THINKING: rec_put(r, "THINK(%.*s)", SP(ev->text)); break;
	case HUB_EV_THINKING_SIG: rec_put(r, "SIG(%.*s)", SP(ev->text)); break;
	case HUB_EV_TOOL_START:
		rec_put(r, "TSTART(%d,%.*s,%.*s)", ev->index, SP(ev->id), SP(ev->name));
		break;
	case HUB_EV_TOOL_ARGS: rec_put(r, "TARGS(%d,%.*s)", ev->index, SP(ev->text)); break;
	case HUB_EV_TOOL_END: rec_put(r, "TEND(%d)", ev->index); break;
	case HUB_EV_USAGE:
		rec_put(r, "USAGE(%ld,%ld,%ld,%ld)", ev->usage.input, ev->usage.output,
			ev->usage.cached, ev->usage.thoughts);
		break;
	case HUB_EV_FINISH: rec_put(r, "FINISH(%d)", (int)ev->finish); break;
	case HUB_EV_ERROR: rec_put(r, "ERROR(%d,%.*s)", ev->status, SP(ev->text)); break;
	case HUB_EV_DONE: rec_put(r, "DONE"); break;
	}
}

/* Feed "event\ndata" pairs (NULL event: no event line). */
static void feed(struct hub_sdec *d, struct rec *r, const char *const *evs,
		 size_t n)
{
	size_t i;
	for (i = 0; i + 1 < n; i += 2) {
		struct hub_sse s;
		s.event = sp(evs[i]);
		s.data = sp(evs[i + 1]);
		hub_responses.decode_event(d, &s, rec_emit, r);
	}
}

TEST(responses_dec_stream_reasoning_text_and_two_tool_calls)
{
	static const char *const evs[] = {
		"response.created", "{\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1,\"status\":\"in_progress\",\"model\":\"gpt-5-codex\",\"output\":[]}}",
		"response.in_progress", "{\"type\":\"response.in_progress\",\"sequence_number\":1,\"response\":{\"id\":\"resp_1\",\"status\":\"in_progress\"}}",
		"response.output_item.added", "{\"type\":\"response.output_item.added\",\"sequence_number\":2,\"output_index\":0,\"item\":{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[]}}",
		"response.reasoning_summary_part.added", "{\"type\":\"response.reasoning_summary_part.added\",\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":0,\"part\":{\"type\":\"summary_text\",\"text\":\"\"}}",
		"response.reasoning_summary_text.delta", "{\"type\":\"response.reasoning_summary_text.delta\",\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":0,\"delta\":\"**Plan**\"}",
		"response.reasoning_summary_text.done", "{\"type\":\"response.reasoning_summary_text.done\",\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":0,\"text\":\"**Plan**\"}",
		"response.reasoning_summary_part.added", "{\"type\":\"response.reasoning_summary_part.added\",\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":1,\"part\":{\"type\":\"summary_text\",\"text\":\"\"}}",
		"response.reasoning_summary_text.delta", "{\"type\":\"response.reasoning_summary_text.delta\",\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":1,\"delta\":\"more \\\"x\\\"\"}",
		"response.output_item.done", "{\"type\":\"response.output_item.done\",\"output_index\":0,\"item\":{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\",\"text\":\"**Plan**\"},{\"type\":\"summary_text\",\"text\":\"more\"}],\"encrypted_content\":\"gAAAAB+/sig==\"}}",
		NULL, "",
		"keepalive", "{\"type\":\"keepalive\"}",
		"response.output_item.added", "{\"type\":\"response.output_item.added\",\"output_index\":1,\"item\":{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"in_progress\",\"content\":[],\"role\":\"assistant\"}}",
		"response.content_part.added", "{\"type\":\"response.content_part.added\",\"output_index\":1,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"\"}}",
		"response.output_text.delta", "{\"type\":\"response.output_text.delta\",\"output_index\":1,\"content_index\":0,\"delta\":\"Hel\"}",
		"response.output_text.delta", "{\"type\":\"response.output_text.delta\",\"output_index\":1,\"content_index\":0,\"delta\":\"lo\\n\"}",
		"response.output_text.done", "{\"type\":\"response.output_text.done\",\"output_index\":1,\"content_index\":0,\"text\":\"Hello\\n\"}",
		"response.output_item.done", "{\"type\":\"response.output_item.done\",\"output_index\":1,\"item\":{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"completed\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hello\\n\"}],\"role\":\"assistant\"}}",
		"response.output_item.added", "{\"type\":\"response.output_item.added\",\"output_index\":2,\"item\":{\"id\":\"fc_1\",\"type\":\"function_call\",\"status\":\"in_progress\",\"arguments\":\"\",\"call_id\":\"call_A\",\"name\":\"shell\"}}",
		"response.function_call_arguments.delta", "{\"type\":\"response.function_call_arguments.delta\",\"item_id\":\"fc_1\",\"output_index\":2,\"delta\":\"{\\\"command\\\":\"}",
		"response.function_call_arguments.delta", "{\"type\":\"response.function_call_arguments.delta\",\"item_id\":\"fc_1\",\"output_index\":2,\"delta\":\"[\\\"ls\\\"]}\"}",
		"response.function_call_arguments.done", "{\"type\":\"response.function_call_arguments.done\",\"item_id\":\"fc_1\",\"output_index\":2,\"arguments\":\"{\\\"command\\\":[\\\"ls\\\"]}\"}",
		"response.output_item.done", "{\"type\":\"response.output_item.done\",\"output_index\":2,\"item\":{\"id\":\"fc_1\",\"type\":\"function_call\",\"status\":\"completed\",\"arguments\":\"{\\\"command\\\":[\\\"ls\\\"]}\",\"call_id\":\"call_A\",\"name\":\"shell\"}}",
		"response.output_item.added", "{\"type\":\"response.output_item.added\",\"output_index\":3,\"item\":{\"id\":\"fc_2\",\"type\":\"function_call\",\"arguments\":\"\",\"call_id\":\"call_B\",\"name\":\"read\"}}",
		"response.function_call_arguments.delta", "{\"type\":\"response.function_call_arguments.delta\",\"output_index\":3,\"delta\":\"{}\"}",
		"response.output_item.done", "{\"type\":\"response.output_item.done\",\"output_index\":3,\"item\":{\"id\":\"fc_2\",\"type\":\"function_call\",\"arguments\":\"{}\",\"call_id\":\"call_B\",\"name\":\"read\"}}",
		"response.completed", "{\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"output\":[],\"usage\":{\"input_tokens\":100,\"input_tokens_details\":{\"cached_tokens\":64},\"output_tokens\":40,\"output_tokens_details\":{\"reasoning_tokens\":12},\"total_tokens\":140}}}",
		"response.output_text.delta", "{\"type\":\"response.output_text.delta\",\"delta\":\"after the end\"}",
	};
	struct hub_sdec d;
	struct rec r;

	memset(&r, 0, sizeof(r));
	hub_sdec_init(&d, HUB_RESPONSES, 7);
	feed(&d, &r, evs, T_ARRAY_LEN(evs));
	CHECK_EQ_STR(r.log,
		"START(resp_1,gpt-5-codex)|THINK(**Plan**)|THINK(\\n\\n)|THINK(more \\\"x\\\")|"
		"SIG(gAAAAB+/sig==)|TEXT(Hel)|TEXT(lo\\n)|"
		"TSTART(0,call_A,shell)|TARGS(0,{\\\"command\\\":)|TARGS(0,[\\\"ls\\\"]})|TEND(0)|"
		"TSTART(1,call_B,read)|TARGS(1,{})|TEND(1)|"
		"USAGE(100,40,64,12)|FINISH(2)");
	CHECK(d.done);
	hub_sdec_free(&d);
}

TEST(responses_dec_stream_items_without_deltas_and_incomplete)
{
	static const char *const evs[] = {
		/* no response.created: START is synthesised */
		NULL, "{\"type\":\"response.output_item.done\",\"output_index\":0,\"item\":{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"whole\"}]}}",
		NULL, "{\"type\":\"response.output_item.done\",\"output_index\":1,\"item\":{\"type\":\"function_call\",\"arguments\":\"{\\\"a\\\":1}\",\"call_id\":\"c9\",\"name\":\"f\"}}",
		"response.incomplete", "{\"type\":\"response.incomplete\",\"response\":{\"status\":\"incomplete\",\"incomplete_details\":{\"reason\":\"max_output_tokens\"},\"usage\":{\"input_tokens\":5,\"output_tokens\":9}}}",
	};
	struct hub_sdec d;
	struct rec r;

	memset(&r, 0, sizeof(r));
	hub_sdec_init(&d, HUB_RESPONSES, 7);
	feed(&d, &r, evs, T_ARRAY_LEN(evs));
	CHECK_EQ_STR(r.log, "START(,)|TEXT(whole)|TSTART(0,c9,f)|TARGS(0,{\\\"a\\\":1})|TEND(0)|"
		     "USAGE(5,9,-1,-1)|FINISH(1)");
	hub_sdec_free(&d);
}

TEST(responses_dec_stream_failed_and_error_events)
{
	static const char *const failed[] = {
		"response.created", "{\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"model\":\"m\"}}",
		"response.failed", "{\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"rate_limit_exceeded\",\"message\":\"Slow down\"}}}",
		"response.completed", "{\"type\":\"response.completed\",\"response\":{}}",
	};
	static const char *const err[] = {
		"error", "{\"type\":\"error\",\"code\":\"server_error\",\"message\":\"boom\",\"param\":null,\"sequence_number\":3}",
	};
	static const char *const nested[] = {
		"error", "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\",\"message\":\"too long\"}}",
	};
	static const char *const busy[] = {
		"response.failed", "{\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_is_overloaded\",\"message\":\"Our servers are busy\"}}}",
	};
	struct hub_sdec d;
	struct rec r;

	memset(&r, 0, sizeof(r));
	hub_sdec_init(&d, HUB_RESPONSES, 1);
	feed(&d, &r, failed, T_ARRAY_LEN(failed));
	CHECK_EQ_STR(r.log, "START(r,m)|ERROR(429,Slow down)");
	hub_sdec_free(&d);

	memset(&r, 0, sizeof(r));
	hub_sdec_init(&d, HUB_RESPONSES, 1);
	feed(&d, &r, err, T_ARRAY_LEN(err));
	CHECK_EQ_STR(r.log, "START(,)|ERROR(502,boom)");
	hub_sdec_free(&d);

	memset(&r, 0, sizeof(r));
	hub_sdec_init(&d, HUB_RESPONSES, 1);
	feed(&d, &r, nested, T_ARRAY_LEN(nested));
	CHECK_EQ_STR(r.log, "START(,)|ERROR(400,too long)");
	hub_sdec_free(&d);

	/* Codex overloaded: try again later, not a failure */
	memset(&r, 0, sizeof(r));
	hub_sdec_init(&d, HUB_RESPONSES, 1);
	feed(&d, &r, busy, T_ARRAY_LEN(busy));
	CHECK_EQ_STR(r.log, "START(,)|ERROR(503,Our servers are busy)");
	hub_sdec_free(&d);
}

TEST(responses_dec_stream_malformed_event_is_one_error)
{
	static const char *const evs[] = {
		"response.created", "{\"type\":\"response.created\",\"response\":{\"id\":\"r\"}}",
		"response.output_text.delta", "{\"type\":\"response.output_text.delta\",\"delta\":\"ok\"}",
		"response.output_text.delta", "{\"type\":\"response.output_text.delta\",\"delta\":",
		"response.output_text.delta", "[1,2",
		"response.output_text.delta", "{\"type\":\"response.output_text.delta\",\"delta\":\"later\"}",
	};
	struct hub_sdec d;
	struct rec r;

	memset(&r, 0, sizeof(r));
	hub_sdec_init(&d, HUB_RESPONSES, 1);
	feed(&d, &r, evs, T_ARRAY_LEN(evs));
	CHECK_EQ_STR(r.log, "START(r,)|TEXT(ok)|ERROR(502,malformed upstream event)");
	hub_sdec_free(&d);
}

TEST(responses_dec_stream_done_marker_and_event_name_fallback)
{
	static const char *const evs[] = {
		/* no "type" member: the SSE event name is used */
		"response.output_text.delta", "{\"delta\":\"a\"}",
		NULL, "[DONE]",
		"response.output_text.delta", "{\"delta\":\"b\"}",
	};
	struct hub_sdec d;
	struct rec r;

	memset(&r, 0, sizeof(r));
	hub_sdec_init(&d, HUB_RESPONSES, 1);
	feed(&d, &r, evs, T_ARRAY_LEN(evs));
	CHECK_EQ_STR(r.log, "START(,)|TEXT(a)");
	CHECK(d.done);
	hub_sdec_free(&d);
}

TEST(responses_dec_stream_next_call_closes_open_one)
{
	static const char *const evs[] = {
		NULL, "{\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":{\"type\":\"function_call\",\"arguments\":\"\",\"call_id\":\"a\",\"name\":\"f\"}}",
		NULL, "{\"type\":\"response.function_call_arguments.delta\",\"output_index\":0,\"delta\":\"{\\\"x\\\":1}\"}",
		/* the upstream forgot output_item.done */
		NULL, "{\"type\":\"response.output_item.added\",\"output_index\":1,\"item\":{\"type\":\"function_call\",\"arguments\":\"{}\",\"call_id\":\"b\",\"name\":\"g\"}}",
		NULL, "{\"type\":\"response.output_item.done\",\"output_index\":1,\"item\":{\"type\":\"function_call\",\"arguments\":\"{}\",\"call_id\":\"b\",\"name\":\"g\"}}",
		/* a delta with no open call is dropped; its done carries the args */
		NULL, "{\"type\":\"response.function_call_arguments.delta\",\"output_index\":2,\"delta\":\"lost\"}",
		NULL, "{\"type\":\"response.output_item.done\",\"output_index\":2,\"item\":{\"type\":\"function_call\",\"arguments\":\"{\\\"y\\\":2}\",\"call_id\":\"c\",\"name\":\"h\"}}",
		NULL, "{\"type\":\"response.completed\",\"response\":{\"status\":\"completed\"}}",
	};
	struct hub_sdec d;
	struct rec r;

	memset(&r, 0, sizeof(r));
	hub_sdec_init(&d, HUB_RESPONSES, 1);
	feed(&d, &r, evs, T_ARRAY_LEN(evs));
	CHECK_EQ_STR(r.log, "START(,)|TSTART(0,a,f)|TARGS(0,{\\\"x\\\":1})|TEND(0)|"
		     "TSTART(1,b,g)|TARGS(1,{})|TEND(1)|"
		     "TSTART(2,c,h)|TARGS(2,{\\\"y\\\":2})|TEND(2)|FINISH(2)");
	hub_sdec_free(&d);
}

static const char resp_body[] =
	"{\"id\":\"resp_9\",\"object\":\"response\",\"created_at\":1,\"status\":\"completed\","
	"\"model\":\"gpt-5\",\"output\":["
	"{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\",\"text\":\"t1\"},"
	"{\"type\":\"summary_text\",\"text\":\"t2\"}],\"encrypted_content\":\"ENC\"},"
	"{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\","
	"\"content\":[{\"type\":\"output_text\",\"text\":\"Hi\",\"annotations\":[]}]},"
	"{\"id\":\"fc_1\",\"type\":\"function_call\",\"call_id\":\"call_1\",\"name\":\"f\",\"arguments\":\"{\\\"x\\\":1}\"}],"
	"\"usage\":{\"input_tokens\":3,\"output_tokens\":4,\"total_tokens\":7}}";

TEST(responses_dec_body_whole_response)
{
	struct hub_sdec d;
	struct rec r;
	char wrapped[2048];

	memset(&r, 0, sizeof(r));
	hub_sdec_init(&d, HUB_RESPONSES, 1);
	REQUIRE(hub_responses.decode_body(&d, resp_body, strlen(resp_body), rec_emit, &r) == 0);
	CHECK_EQ_STR(r.log, "START(resp_9,gpt-5)|THINK(t1)|THINK(\\n\\n)|THINK(t2)|SIG(ENC)|TEXT(Hi)|"
		     "TSTART(0,call_1,f)|TARGS(0,{\\\"x\\\":1})|TEND(0)|USAGE(3,4,-1,-1)|FINISH(2)");
	hub_sdec_free(&d);

	/* the data of a response.completed event works too */
	snprintf(wrapped, sizeof(wrapped), "{\"type\":\"response.completed\",\"response\":%s}", resp_body);
	memset(&r, 0, sizeof(r));
	hub_sdec_init(&d, HUB_RESPONSES, 1);
	REQUIRE(hub_responses.decode_body(&d, wrapped, strlen(wrapped), rec_emit, &r) == 0);
	CHECK(strncmp(r.log, "START(resp_9,gpt-5)|THINK(t1)", 29) == 0);
	hub_sdec_free(&d);
}

TEST(responses_dec_body_failed_and_bad_bodies)
{
	static const char failed[] = "{\"id\":\"r\",\"status\":\"failed\",\"output\":[],"
		"\"error\":{\"code\":\"server_error\",\"message\":\"oops\"}}";
	static const char *const bad[] = {
		"not json", "[]", "{\"choices\":[]}", "{\"output\":{}}",
	};
	struct hub_sdec d;
	struct rec r;
	size_t i;

	memset(&r, 0, sizeof(r));
	hub_sdec_init(&d, HUB_RESPONSES, 1);
	REQUIRE(hub_responses.decode_body(&d, failed, strlen(failed), rec_emit, &r) == 0);
	CHECK_EQ_STR(r.log, "START(r,)|ERROR(502,oops)");
	hub_sdec_free(&d);
	for (i = 0; i < T_ARRAY_LEN(bad); i++) {
		hub_sdec_init(&d, HUB_RESPONSES, 1);
		memset(&r, 0, sizeof(r));
		CHECK_EQ_INT(hub_responses.decode_body(&d, bad[i], strlen(bad[i]), rec_emit, &r), -1);
		hub_sdec_free(&d);
	}
}

/* ======================================================================
 * encode_event
 * ====================================================================== */

static struct hub_event mk(enum hub_ev_type t, int idx, const char *id,
			   const char *name, const char *text)
{
	struct hub_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = t;
	ev.index = idx;
	ev.id = sp(id);
	ev.name = sp(name);
	ev.text = sp(text);
	ev.usage.input = ev.usage.output = ev.usage.cached = -1;
	ev.usage.cache_write = ev.usage.thoughts = -1;
	return ev;
}

static void enc_init(struct hub_enc *e, int stream, const struct hub_view *req)
{
	struct hub_enc_opts o;
	memset(&o, 0, sizeof(o));
	o.stream = stream;
	o.model = "gpt-5-codex";
	o.created = 1700000000;
	o.seed = 42;
	o.req = req;
	hub_enc_init(e, HUB_RESPONSES, &o);
}

static void enc_all(struct hub_enc *e, const struct hub_event *evs, size_t n,
		    struct buf *out)
{
	size_t i;
	for (i = 0; i < n; i++)
		hub_responses.encode_event(e, &evs[i], out);
}

/* Split an SSE stream into frames; check each is "event: T\ndata: J" with
 * J valid JSON, J.type == T and J.sequence_number counting from 0.  The
 * event names are written to names ("a,b,c"). */
static int sse_frames(const char *s, size_t n, char *names, size_t cap)
{
	size_t pos = 0, nl = 0;
	long seq = 0;
	int count = 0;

	names[0] = '\0';
	while (pos < n) {
		const char *end = strstr(s + pos, "\n\n"), *data;
		struct json j;
		size_t tl;
		int t;

		if (!CHECK(end != NULL) || !CHECK(strncmp(s + pos, "event: ", 7) == 0))
			return -1;
		data = strstr(s + pos, "\ndata: ");
		if (!CHECK(data && data < end))
			return -1;
		tl = (size_t)(data - (s + pos + 7));
		nl += (size_t)snprintf(names + nl, cap - nl, "%s%.*s", count ? "," : "",
				       (int)tl, s + pos + 7);
		data += 7;
		if (!CHECK(json_parse(&j, data, (size_t)(end - data)) == 0))
			return -1;
		t = json_get(&j, 0, "type");
		if (!CHECK(t >= 0 && json_len(&j, t) == tl &&
			   memcmp(json_ptr(&j, t), s + pos + 7, tl) == 0))
			FAILF("frame type mismatch at %zu", pos);
		t = json_get(&j, 0, "sequence_number");
		if (!CHECK(t >= 0 && strtol(json_ptr(&j, t), NULL, 10) == seq))
			FAILF("sequence_number should be %ld", seq);
		seq++;
		json_free(&j);
		count++;
		pos = (size_t)(end - s) + 2;
	}
	return count;
}

TEST(responses_enc_stream_text_exact_bytes)
{
	struct hub_enc e;
	struct buf out;
	struct hub_event evs[4];

	evs[0] = mk(HUB_EV_START, 0, "resp_X", NULL, NULL);
	evs[1] = mk(HUB_EV_TEXT, 0, NULL, NULL, "Hi \\\"there\\\"");
	evs[2] = mk(HUB_EV_FINISH, 0, NULL, NULL, NULL);
	evs[3] = mk(HUB_EV_DONE, 0, NULL, NULL, NULL);
	evs[1].usage.input = 1;
	enc_init(&e, 1, NULL);
	buf_init(&out, 1 << 16);
	enc_all(&e, evs, 4, &out);
	{
		char id[64];
		char want[8192];
#define RESP_HEAD(st, out_, usage) \
	"{\"id\":\"resp_X\",\"object\":\"response\",\"created_at\":1700000000,\"status\":\"" st "\"," \
	"\"background\":false,\"error\":null,\"incomplete_details\":null,\"instructions\":null," \
	"\"max_output_tokens\":null,\"model\":\"gpt-5-codex\",\"output\":[" out_ "],\"parallel_tool_calls\":true," \
	"\"previous_response_id\":null,\"reasoning\":{\"effort\":null,\"summary\":null},\"store\":false," \
	"\"temperature\":1,\"text\":{\"format\":{\"type\":\"text\"}},\"tool_choice\":\"auto\",\"tools\":[],\"top_p\":1," \
	"\"truncation\":\"disabled\",\"usage\":" usage ",\"user\":null,\"metadata\":{}}"
		hub_gen_id(id, sizeof(id), "msg_", 42, 1);
		snprintf(want, sizeof(want),
			"event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":"
			RESP_HEAD("in_progress", "", "null") "}\n\n"
			"event: response.in_progress\ndata: {\"type\":\"response.in_progress\",\"sequence_number\":1,\"response\":"
			RESP_HEAD("in_progress", "", "null") "}\n\n"
			"event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":2,"
			"\"output_index\":0,\"item\":{\"id\":\"%s\",\"type\":\"message\",\"status\":\"in_progress\",\"content\":[],\"role\":\"assistant\"}}\n\n"
			"event: response.content_part.added\ndata: {\"type\":\"response.content_part.added\",\"sequence_number\":3,"
			"\"item_id\":\"%s\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"\"}}\n\n"
			"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":4,"
			"\"item_id\":\"%s\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hi \\\"there\\\"\",\"logprobs\":[]}\n\n"
			"event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\",\"sequence_number\":5,"
			"\"item_id\":\"%s\",\"output_index\":0,\"content_index\":0,\"text\":\"Hi \\\"there\\\"\",\"logprobs\":[]}\n\n"
			"event: response.content_part.done\ndata: {\"type\":\"response.content_part.done\",\"sequence_number\":6,"
			"\"item_id\":\"%s\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"Hi \\\"there\\\"\"}}\n\n"
			"event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"sequence_number\":7,"
			"\"output_index\":0,\"item\":{\"id\":\"%s\",\"type\":\"message\",\"status\":\"completed\",\"content\":"
			"[{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"Hi \\\"there\\\"\"}],\"role\":\"assistant\"}}\n\n"
			"event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":8,\"response\":"
			RESP_HEAD("completed", "{\"id\":\"%s\",\"type\":\"message\",\"status\":\"completed\",\"content\":"
				  "[{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"Hi \\\"there\\\"\"}],\"role\":\"assistant\"}",
				  "{\"input_tokens\":0,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":0,"
				  "\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":0}") "}\n\n",
			id, id, id, id, id, id, id);
		CHECK_SPAN(out.p, out.len, want);
	}
	buf_free(&out);
	hub_enc_free(&e);
}

/* Value of key in the response object of the last frame. */
static const char *last_frame(const struct buf *out)
{
	const char *p = out->p, *last = NULL, *q;
	for (q = p; (q = strstr(q, "\ndata: ")) != NULL && q < p + out->len; q += 7)
		last = q + 7;
	return last;
}

TEST(responses_enc_stream_reasoning_text_tools_order)
{
	struct hub_enc e;
	struct buf out;
	struct hub_event evs[14];
	char names[4096];
	const char *data;
	struct json j;
	int n = 0, r, o, it;

	evs[n++] = mk(HUB_EV_START, 0, NULL, NULL, NULL); /* no model: o.model */
	evs[n++] = mk(HUB_EV_THINKING, 0, NULL, NULL, "think ");
	evs[n++] = mk(HUB_EV_THINKING, 0, NULL, NULL, "more");
	evs[n++] = mk(HUB_EV_THINKING_SIG, 0, NULL, NULL, "SIG+/=");
	evs[n++] = mk(HUB_EV_TEXT, 0, NULL, NULL, "Running");
	evs[n++] = mk(HUB_EV_TOOL_START, 0, "call_A", "shell", NULL);
	evs[n++] = mk(HUB_EV_TOOL_ARGS, 0, NULL, NULL, "{\\\"cmd\\\":");
	evs[n++] = mk(HUB_EV_TOOL_ARGS, 0, NULL, NULL, "\\\"ls\\\"}");
	evs[n++] = mk(HUB_EV_TOOL_END, 0, NULL, NULL, NULL);
	evs[n++] = mk(HUB_EV_TOOL_START, 1, "call_B", "read", NULL);
	evs[n++] = mk(HUB_EV_TOOL_END, 1, NULL, NULL, NULL);
	evs[n] = mk(HUB_EV_USAGE, 0, NULL, NULL, NULL);
	evs[n].usage.input = 10; evs[n].usage.output = 20;
	evs[n].usage.cached = 4; evs[n++].usage.thoughts = 7;
	evs[n] = mk(HUB_EV_FINISH, 0, NULL, NULL, NULL);
	evs[n++].finish = HUB_FIN_TOOL;
	evs[n++] = mk(HUB_EV_DONE, 0, NULL, NULL, NULL);

	enc_init(&e, 1, NULL);
	buf_init(&out, 1 << 16);
	enc_all(&e, evs, (size_t)n, &out);
	REQUIRE(sse_frames(out.p, out.len, names, sizeof(names)) > 0);
	CHECK_EQ_STR(names,
		"response.created,response.in_progress,"
		"response.output_item.added,response.reasoning_summary_part.added,"
		"response.reasoning_summary_text.delta,response.reasoning_summary_text.delta,"
		"response.reasoning_summary_text.done,response.reasoning_summary_part.done,"
		"response.output_item.done,"
		"response.output_item.added,response.content_part.added,response.output_text.delta,"
		"response.output_text.done,response.content_part.done,response.output_item.done,"
		"response.output_item.added,response.function_call_arguments.delta,"
		"response.function_call_arguments.delta,response.function_call_arguments.done,"
		"response.output_item.done,"
		"response.output_item.added,response.function_call_arguments.done,response.output_item.done,"
		"response.completed");
	/* output_index increases item by item */
	CHECK(strstr(out.p, "\"type\":\"response.output_item.added\",\"sequence_number\":2,\"output_index\":0") != NULL);
	CHECK(strstr(out.p, "\"type\":\"response.output_item.added\",\"sequence_number\":9,\"output_index\":1") != NULL);
	CHECK(strstr(out.p, "\"type\":\"response.output_item.added\",\"sequence_number\":15,\"output_index\":2") != NULL);
	CHECK(strstr(out.p, "\"type\":\"response.output_item.added\",\"sequence_number\":20,\"output_index\":3") != NULL);
	CHECK(strstr(out.p, "\"item_id\":\"fc_call_A\",\"output_index\":2,\"arguments\":\"{\\\"cmd\\\":\\\"ls\\\"}\"") != NULL);
	CHECK(strstr(out.p, "\"summary_index\":0,\"text\":\"think more\"") != NULL);

	data = last_frame(&out);
	REQUIRE(data);
	REQUIRE(json_parse(&j, data, strlen(data) - 2) == 0);
	r = json_get(&j, 0, "response");
	CHECK(json_str_eq(&j, json_get(&j, r, "status"), "completed"));
	CHECK(json_str_eq(&j, json_get(&j, r, "model"), "gpt-5-codex"));
	o = json_get(&j, r, "output");
	REQUIRE(o >= 0 && j.tok[o].size == 4);
	it = o + 1;
	CHECK(json_str_eq(&j, json_get(&j, it, "type"), "reasoning"));
	CHECK(json_str_eq(&j, json_get(&j, it, "encrypted_content"), "SIG+/="));
	it = json_skip(&j, it);
	CHECK(json_str_eq(&j, json_get(&j, it, "type"), "message"));
	it = json_skip(&j, it);
	CHECK(json_str_eq(&j, json_get(&j, it, "call_id"), "call_A"));
	CHECK(json_str_eq(&j, json_get(&j, it, "id"), "fc_call_A"));
	CHECK(json_str_eq(&j, json_get(&j, it, "arguments"), "{\\\"cmd\\\":\\\"ls\\\"}"));
	it = json_skip(&j, it);
	CHECK(json_str_eq(&j, json_get(&j, it, "name"), "read"));
	CHECK(json_str_eq(&j, json_get(&j, it, "arguments"), ""));
	{
		int u = json_get(&j, r, "usage");
		CHECK_SPAN(json_ptr(&j, json_get(&j, u, "input_tokens")), 2, "10");
		CHECK_SPAN(json_ptr(&j, json_get(&j, u, "total_tokens")), 2, "30");
		CHECK_SPAN(json_ptr(&j, json_get(&j, json_get(&j, u, "output_tokens_details"), "reasoning_tokens")), 1, "7");
		CHECK_SPAN(json_ptr(&j, json_get(&j, json_get(&j, u, "input_tokens_details"), "cached_tokens")), 1, "4");
	}
	json_free(&j);
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(responses_enc_stream_signed_thinking_blocks_become_two_items)
{
	struct hub_enc e;
	struct buf out;
	struct hub_event evs[6];
	char names[2048];

	evs[0] = mk(HUB_EV_THINKING, 0, NULL, NULL, "a");
	evs[1] = mk(HUB_EV_THINKING_SIG, 0, NULL, NULL, "S1");
	evs[2] = mk(HUB_EV_THINKING, 0, NULL, NULL, "b");
	evs[3] = mk(HUB_EV_THINKING_SIG, 0, NULL, NULL, "S2");
	evs[4] = mk(HUB_EV_THINKING_SIG, 0, NULL, NULL, "");
	evs[5] = mk(HUB_EV_DONE, 0, NULL, NULL, NULL);
	enc_init(&e, 1, NULL);
	buf_init(&out, 1 << 16);
	enc_all(&e, evs, 6, &out);
	REQUIRE(sse_frames(out.p, out.len, names, sizeof(names)) > 0);
	CHECK(strstr(out.p, "\"output_index\":1,\"item\":{\"id\":\"rs_") != NULL);
	CHECK(strstr(out.p, "\"text\":\"a\"}],\"encrypted_content\":\"S1\"}") != NULL);
	CHECK(strstr(out.p, "\"text\":\"b\"}],\"encrypted_content\":\"S2\"}") != NULL);
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(responses_enc_stream_error_then_done)
{
	struct hub_enc e;
	struct buf out;
	struct hub_event evs[4];
	char names[1024];

	evs[0] = mk(HUB_EV_START, 0, "resp_1", NULL, NULL);
	evs[0].model = sp("m");
	evs[1] = mk(HUB_EV_TEXT, 0, NULL, NULL, "partial");
	evs[2] = mk(HUB_EV_ERROR, 0, NULL, NULL, "upstream \\\"died\\\"");
	evs[2].status = 429;
	evs[3] = mk(HUB_EV_DONE, 0, NULL, NULL, NULL);
	enc_init(&e, 1, NULL);
	buf_init(&out, 1 << 16);
	enc_all(&e, evs, 4, &out);
	REQUIRE(sse_frames(out.p, out.len, names, sizeof(names)) > 0);
	CHECK_EQ_STR(names, "response.created,response.in_progress,response.output_item.added,"
		     "response.content_part.added,response.output_text.delta,error,response.failed");
	CHECK(strstr(out.p, "data: {\"type\":\"error\",\"sequence_number\":5,\"code\":\"rate_limit_exceeded\","
		     "\"message\":\"upstream \\\"died\\\"\",\"param\":null}\n\n") != NULL);
	CHECK(strstr(out.p, "\"status\":\"failed\",\"background\":false,\"error\":{\"code\":"
		     "\"rate_limit_exceeded\",\"message\":\"upstream \\\"died\\\"\"}") != NULL);
	CHECK(strstr(out.p, "\"model\":\"m\"") != NULL);
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(responses_enc_stream_done_alone_and_length)
{
	struct hub_enc e;
	struct buf out;
	struct hub_event evs[3];
	char names[1024];

	evs[0] = mk(HUB_EV_DONE, 0, NULL, NULL, NULL);
	enc_init(&e, 1, NULL);
	buf_init(&out, 1 << 16);
	enc_all(&e, evs, 1, &out);
	REQUIRE(sse_frames(out.p, out.len, names, sizeof(names)) > 0);
	CHECK_EQ_STR(names, "response.created,response.in_progress,response.completed");
	CHECK(strstr(out.p, "\"status\":\"completed\"") != NULL);
	buf_free(&out);
	hub_enc_free(&e);

	evs[0] = mk(HUB_EV_TEXT, 0, NULL, NULL, "cut");
	evs[1] = mk(HUB_EV_FINISH, 0, NULL, NULL, NULL);
	evs[1].finish = HUB_FIN_LENGTH;
	evs[2] = mk(HUB_EV_DONE, 0, NULL, NULL, NULL);
	enc_init(&e, 1, NULL);
	buf_init(&out, 1 << 16);
	enc_all(&e, evs, 3, &out);
	REQUIRE(sse_frames(out.p, out.len, names, sizeof(names)) > 0);
	CHECK(strstr(names, ",response.incomplete") != NULL);
	CHECK(strstr(out.p, "\"status\":\"incomplete\",\"background\":false,\"error\":null,"
		     "\"incomplete_details\":{\"reason\":\"max_output_tokens\"}") != NULL);
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(responses_enc_stream_echoes_request_and_restores_names)
{
	static const char body[] = "{\"model\":\"gpt-5\",\"instructions\":\"Be \\\"nice\\\"\","
		"\"input\":\"x\",\"max_output_tokens\":99,\"temperature\":0.2,"
		"\"tools\":[{\"type\":\"function\",\"name\":\"" LONG_A "\"}],"
		"\"reasoning\":{\"effort\":\"low\",\"summary\":\"auto\"}}";
	struct rq r;
	struct hub_enc e;
	struct buf out;
	struct hub_event evs[3];

	REQUIRE(rq_decode(&r, body) == 0);
	evs[0] = mk(HUB_EV_TOOL_START, 0, "c1", "mcp__read_file", NULL);
	evs[1] = mk(HUB_EV_TOOL_END, 0, NULL, NULL, NULL);
	evs[2] = mk(HUB_EV_DONE, 0, NULL, NULL, NULL);
	enc_init(&e, 1, &r.v);
	buf_init(&out, 1 << 16);
	enc_all(&e, evs, 3, &out);
	buf_putc(&out, '\0');
	CHECK(strstr(out.p, "\"instructions\":\"Be \\\"nice\\\"\",\"max_output_tokens\":99,") != NULL);
	CHECK(strstr(out.p, "\"temperature\":0.2,") != NULL);
	CHECK(strstr(out.p, "\"reasoning\":{\"effort\":\"low\",\"summary\":\"auto\"}") != NULL);
	CHECK(strstr(out.p, "\"call_id\":\"c1\",\"name\":\"" LONG_A "\"") != NULL);
	CHECK(strstr(out.p, "mcp__read_file\"") == NULL);
	buf_free(&out);
	hub_enc_free(&e);
	rq_free(&r);
}

TEST(responses_enc_copies_the_request_and_reset_keeps_it)
{
	static const char body[] = "{\"model\":\"gpt-5\",\"instructions\":\"Be brief\","
		"\"input\":\"x\",\"top_p\":0.5,\"tool_choice\":\"required\",\"user\":\"u1\","
		"\"tools\":[{\"type\":\"function\",\"name\":\"" LONG_A "\",\"parameters\":{}}]}";
	struct rq r;
	struct hub_enc e;
	struct buf out, again;
	struct hub_event evs[4];
	int k;

	REQUIRE(rq_decode(&r, body) == 0);
	enc_init(&e, 0, &r.v);
	rq_free(&r); /* the encoder holds its own copy; the view is gone */
	memset(&r, 0xa5, sizeof(r));
	CHECK(hub_enc_held(&e) > 0);
	evs[0] = mk(HUB_EV_TEXT, 0, NULL, NULL, "hi");
	evs[1] = mk(HUB_EV_TOOL_START, 0, "c1", "mcp__read_file", NULL);
	evs[2] = mk(HUB_EV_TOOL_END, 0, NULL, NULL, NULL);
	evs[3] = mk(HUB_EV_DONE, 0, NULL, NULL, NULL);
	for (k = 0; k < 2; k++) { /* the first attempt, then a retry */
		struct buf *b = k ? &again : &out;
		buf_init(b, 1 << 16);
		enc_all(&e, evs, 4, b);
		buf_putc(b, '\0');
		if (!k)
			hub_enc_reset(&e);
	}
	CHECK(strstr(out.p, "\"instructions\":\"Be brief\",\"max_output_tokens\":null,") != NULL);
	CHECK(strstr(out.p, "\"tool_choice\":\"required\",\"tools\":[{\"type\":\"function\","
		      "\"name\":\"" LONG_A "\",\"parameters\":{}}],\"top_p\":0.5,") != NULL);
	CHECK(strstr(out.p, "\"user\":\"u1\",\"metadata\":{}}") != NULL);
	CHECK(strstr(out.p, "\"call_id\":\"c1\",\"name\":\"" LONG_A "\"") != NULL);
	CHECK_EQ_STR(again.p, out.p);
	buf_free(&out);
	buf_free(&again);
	hub_enc_free(&e);
}

TEST(responses_enc_echo_of_a_pretty_request_stays_on_one_line)
{
	static const char body[] = "{\n  \"input\": \"x\",\n  \"tools\": [\n    {\"type\": "
		"\"function\", \"name\": \"f\",\n     \"description\": \"a  b\\\" c\"}\n  ],\n"
		"  \"metadata\": {\"k\": \"v w\"}\n}";
	struct rq r;
	struct hub_enc e;
	struct buf out;
	struct hub_event done = mk(HUB_EV_DONE, 0, NULL, NULL, NULL);
	char names[512];

	REQUIRE(rq_decode(&r, body) == 0);
	enc_init(&e, 1, &r.v);
	rq_free(&r);
	buf_init(&out, 1 << 16);
	enc_all(&e, &done, 1, &out);
	CHECK_EQ_INT(sse_frames(out.p, out.len, names, sizeof(names)), 3);
	buf_putc(&out, '\0');
	CHECK(strstr(out.p, "\"tools\":[{\"type\":\"function\",\"name\":\"f\","
		      "\"description\":\"a  b\\\" c\"}],\"top_p\":1,") != NULL);
	CHECK(strstr(out.p, "\"metadata\":{\"k\":\"v w\"}}") != NULL);
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(responses_enc_nonstream_body)
{
	struct hub_enc e;
	struct buf out;
	struct hub_event evs[9];
	struct json j;
	int n = 0, o, it;

	evs[n] = mk(HUB_EV_START, 0, "resp_abc", NULL, NULL);
	evs[n++].model = sp("gpt-5");
	evs[n++] = mk(HUB_EV_THINKING, 0, NULL, NULL, "hmm");
	evs[n++] = mk(HUB_EV_TEXT, 0, NULL, NULL, "Hello ");
	evs[n++] = mk(HUB_EV_TEXT, 0, NULL, NULL, "world");
	evs[n++] = mk(HUB_EV_TOOL_START, 0, "call_1", "f", NULL);
	evs[n++] = mk(HUB_EV_TOOL_ARGS, 0, NULL, NULL, "{}");
	evs[n] = mk(HUB_EV_USAGE, 0, NULL, NULL, NULL);
	evs[n++].usage.input = 5;
	evs[n++] = mk(HUB_EV_FINISH, 0, NULL, NULL, NULL); /* no TOOL_END */
	evs[n++] = mk(HUB_EV_DONE, 0, NULL, NULL, NULL);
	enc_init(&e, 0, NULL);
	buf_init(&out, 1 << 16);
	enc_all(&e, evs, (size_t)n - 1, &out);
	CHECK_EQ_INT(out.len, 0); /* nothing before DONE */
	enc_all(&e, evs + n - 1, 1, &out);
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	CHECK(json_str_eq(&j, json_get(&j, 0, "id"), "resp_abc"));
	CHECK(json_str_eq(&j, json_get(&j, 0, "object"), "response"));
	CHECK(json_str_eq(&j, json_get(&j, 0, "status"), "completed"));
	CHECK(json_str_eq(&j, json_get(&j, 0, "model"), "gpt-5"));
	CHECK_SPAN(json_ptr(&j, json_get(&j, 0, "created_at")), 10, "1700000000");
	o = json_get(&j, 0, "output");
	REQUIRE(o >= 0 && j.tok[o].size == 3);
	it = o + 1;
	CHECK(json_str_eq(&j, json_get(&j, it, "type"), "reasoning"));
	CHECK(json_get(&j, it, "encrypted_content") < 0);
	it = json_skip(&j, it);
	CHECK(json_str_eq(&j, json_get(&j, json_get(&j, it, "content") + 1, "text"), "Hello world"));
	it = json_skip(&j, it);
	CHECK(json_str_eq(&j, json_get(&j, it, "type"), "function_call"));
	CHECK(json_str_eq(&j, json_get(&j, it, "arguments"), "{}"));
	CHECK_SPAN(json_ptr(&j, json_get(&j, json_get(&j, 0, "usage"), "input_tokens")), 1, "5");
	json_free(&j);
	buf_free(&out);
	hub_enc_free(&e);
}

/* created_at after 2038, where a long is 32 bits (it was one). */
TEST(responses_enc_created_at_after_2038)
{
	struct hub_enc e;
	struct hub_enc_opts o;
	struct buf out;
	struct hub_event evs[2];
	struct json j;

	memset(&o, 0, sizeof(o));
	o.model = "gpt-5";
	o.created = 4102444800LL; /* 2100-01-01T00:00:00Z */
	hub_enc_init(&e, HUB_RESPONSES, &o);
	buf_init(&out, 1 << 16);
	evs[0] = mk(HUB_EV_START, 0, "resp_1", NULL, NULL);
	evs[1] = mk(HUB_EV_DONE, 0, NULL, NULL, NULL);
	enc_all(&e, evs, 2, &out);
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	CHECK_SPAN(json_ptr(&j, json_get(&j, 0, "created_at")),
		   json_len(&j, json_get(&j, 0, "created_at")), "4102444800");
	json_free(&j);
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(responses_enc_nonstream_error_body)
{
	struct hub_enc e;
	struct buf out;
	struct hub_event evs[3];

	evs[0] = mk(HUB_EV_TEXT, 0, NULL, NULL, "x");
	evs[1] = mk(HUB_EV_ERROR, 0, NULL, NULL, "bad \\\"gateway\\\"");
	evs[1].status = 502;
	evs[2] = mk(HUB_EV_DONE, 0, NULL, NULL, NULL);
	enc_init(&e, 0, NULL);
	buf_init(&out, 4096);
	enc_all(&e, evs, 3, &out);
	CHECK_SPAN(out.p, out.len, "{\"error\":{\"message\":\"bad \\\"gateway\\\"\",\"type\":"
		   "\"server_error\",\"param\":null,\"code\":\"server_error\"}}");
	buf_free(&out);
	hub_enc_free(&e);
}

/* ======================================================================
 * Whole path: upstream SSE -> decoder -> encoder (Responses -> Responses)
 * ====================================================================== */

struct pipe {
	struct hub_enc e;
	struct buf out;
};

static void pipe_emit(void *user, const struct hub_event *ev)
{
	struct pipe *p = user;
	hub_responses.encode_event(&p->e, ev, &p->out);
}

TEST(responses_pipe_nonstream_from_stream_events)
{
	static const char *const evs[] = {
		"response.created", "{\"type\":\"response.created\",\"response\":{\"id\":\"resp_u\",\"model\":\"gpt-5-codex\"}}",
		"response.output_item.added", "{\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":{\"type\":\"function_call\",\"arguments\":\"\",\"call_id\":\"call_Z\",\"name\":\"apply\"}}",
		"response.function_call_arguments.delta", "{\"type\":\"response.function_call_arguments.delta\",\"output_index\":0,\"delta\":\"{\\\"p\\\":\\\"\\\\n\\\"}\"}",
		"response.output_item.done", "{\"type\":\"response.output_item.done\",\"output_index\":0,\"item\":{\"type\":\"function_call\",\"arguments\":\"{\\\"p\\\":\\\"\\\\n\\\"}\",\"call_id\":\"call_Z\",\"name\":\"apply\"}}",
		"response.completed", "{\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}}",
	};
	struct hub_sdec d;
	struct pipe p;
	struct hub_event done = mk(HUB_EV_DONE, 0, NULL, NULL, NULL);
	size_t i;
	struct json j;
	int o;

	hub_sdec_init(&d, HUB_RESPONSES, 3);
	enc_init(&p.e, 0, NULL);
	buf_init(&p.out, 1 << 16);
	for (i = 0; i < T_ARRAY_LEN(evs); i += 2) {
		struct hub_sse s;
		s.event = sp(evs[i]);
		s.data = sp(evs[i + 1]);
		hub_responses.decode_event(&d, &s, pipe_emit, &p);
	}
	pipe_emit(&p, &done);
	REQUIRE(json_parse(&j, p.out.p, p.out.len) == 0);
	CHECK(json_str_eq(&j, json_get(&j, 0, "id"), "resp_u"));
	o = json_get(&j, 0, "output");
	REQUIRE(o >= 0 && j.tok[o].size == 1);
	CHECK(json_str_eq(&j, json_get(&j, o + 1, "arguments"), "{\\\"p\\\":\\\"\\\\n\\\"}"));
	CHECK(json_str_eq(&j, json_get(&j, o + 1, "call_id"), "call_Z"));
	json_free(&j);
	buf_free(&p.out);
	hub_enc_free(&p.e);
	hub_sdec_free(&d);
}

/* ======================================================================
 * render_error
 * ====================================================================== */

TEST(responses_render_error_shapes)
{
	struct buf out;
	buf_init(&out, 1024);
	hub_responses.render_error(&out, 400, "bad \"input\"\n");
	CHECK_SPAN(out.p, out.len, "{\"error\":{\"message\":\"bad \\\"input\\\"\\n\",\"type\":"
		   "\"invalid_request_error\",\"param\":null,\"code\":\"invalid_request\"}}");
	buf_reset(&out);
	hub_responses.render_error(&out, 429, "slow");
	CHECK_SPAN(out.p, out.len, "{\"error\":{\"message\":\"slow\",\"type\":\"rate_limit_error\","
		   "\"param\":null,\"code\":\"rate_limit_exceeded\"}}");
	buf_reset(&out);
	hub_responses.render_error(&out, 401, "no key");
	CHECK(strstr(out.p, "\"type\":\"authentication_error\"") != NULL);
	buf_reset(&out);
	hub_responses.render_error(&out, 503, "down");
	CHECK(strstr(out.p, "\"type\":\"server_error\"") != NULL);
	buf_free(&out);
}
