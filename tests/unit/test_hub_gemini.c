/*
 * test_hub_gemini.c - unit tests of the Gemini codec
 * (src/hub_gemini_client.c, src/hub_gemini_upstream.c) against the
 * contract in hub.h.
 *
 * Stream decoders are checked through a recorder that turns each event
 * into one line of text ("TEXT(hi)", "TSTART(0,id,name)"...), so an
 * expected event sequence reads as a string.  Stream encoders are
 * compared byte for byte; non-stream answers and request bodies are
 * parsed back with json_parse and checked field by field where the exact
 * bytes would not add anything.
 */
#include "t.h"
#include "hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * helpers
 * ====================================================================== */

struct gt_req {
	struct json j;
	struct hub_view v;
	char err[128];
	int rc;
};

/* Parse body and decode it as a Gemini client request. */
static int gt_decode(struct gt_req *r, const char *body)
{
	memset(r, 0, sizeof(*r));
	if (json_parse(&r->j, body, strlen(body)) != 0)
		return r->rc = -2;
	hub_view_init(&r->v, &r->j);
	r->rc = hub_gemini.decode_request(&r->j, &r->v, r->err,
					  sizeof(r->err));
	return r->rc;
}

static void gt_req_free(struct gt_req *r)
{
	hub_view_free(&r->v);
	json_free(&r->j);
}

static int gt_span(struct hub_span s, const char *lit)
{
	return hub_span_eq(s, lit);
}

/* Encode a view as a Gemini upstream body with options o; returns rc,
 * body in out. */
static int gt_encode_opts(const struct hub_view *v,
			  const struct hub_req_opts *o, struct buf *out,
			  char *err, size_t errlen)
{
	buf_init(out, 1 << 20);
	return hub_gemini.encode_request(v, o, out, err, errlen);
}

static int gt_encode(const struct hub_view *v, int cli, struct buf *out,
		     char *err, size_t errlen)
{
	struct hub_req_opts o;
	memset(&o, 0, sizeof(o));
	o.model = "gemini-2.5-flash";
	o.stream = 1;
	o.gemini_cli = cli;
	o.project = cli ? "proj-1" : NULL;
	return gt_encode_opts(v, &o, out, err, errlen);
}

static int gt_contains(const struct buf *b, const char *needle)
{
	size_t n = strlen(needle), i;
	for (i = 0; i + n <= b->len; i++)
		if (memcmp(b->p + i, needle, n) == 0)
			return 1;
	return 0;
}

#define CHECK_HAS(b, s)                                                      \
	do {                                                                 \
		if (!gt_contains((b), (s)))                                  \
			FAILF("missing %s in %s", t_esc(s, strlen(s)),      \
			      t_esc((b)->p, (b)->len));                      \
	} while (0)
#define CHECK_HASNT(b, s)                                                    \
	do {                                                                 \
		if (gt_contains((b), (s)))                                   \
			FAILF("unexpected %s in %s", t_esc(s, strlen(s)),   \
			      t_esc((b)->p, (b)->len));                      \
	} while (0)

/* Event recorder: one "NAME(fields)" per event, joined with spaces. */
static void gt_rec(void *user, const struct hub_event *ev)
{
	struct buf *b = user;
	if (b->len)
		buf_putc(b, ' ');
	switch (ev->type) {
	case HUB_EV_START:
		buf_printf(b, "START(%.*s,%.*s)", (int)ev->id.n,
			   ev->id.p ? ev->id.p : "", (int)ev->model.n,
			   ev->model.p ? ev->model.p : "");
		break;
	case HUB_EV_TEXT:
		buf_printf(b, "TEXT(%.*s)", (int)ev->text.n, ev->text.p);
		break;
	case HUB_EV_THINKING:
		buf_printf(b, "THINK(%.*s)", (int)ev->text.n, ev->text.p);
		break;
	case HUB_EV_THINKING_SIG:
		buf_printf(b, "SIG(%.*s)", (int)ev->text.n, ev->text.p);
		break;
	case HUB_EV_TOOL_START:
		buf_printf(b, "TSTART(%d,%.*s,%.*s)", ev->index, (int)ev->id.n,
			   ev->id.p, (int)ev->name.n, ev->name.p);
		break;
	case HUB_EV_TOOL_ARGS:
		buf_printf(b, "TARGS(%d,%.*s)", ev->index, (int)ev->text.n,
			   ev->text.p);
		break;
	case HUB_EV_TOOL_END:
		buf_printf(b, "TEND(%d)", ev->index);
		break;
	case HUB_EV_USAGE:
		buf_printf(b, "USAGE(%ld,%ld,%ld,%ld)", ev->usage.input,
			   ev->usage.output, ev->usage.cached,
			   ev->usage.thoughts);
		break;
	case HUB_EV_FINISH:
		buf_printf(b, "FINISH(%d)", (int)ev->finish);
		break;
	case HUB_EV_ERROR:
		buf_printf(b, "ERROR(%d,%.*s)", ev->status, (int)ev->text.n,
			   ev->text.p ? ev->text.p : "");
		break;
	case HUB_EV_DONE:
		buf_puts(b, "DONE");
		break;
	}
}

/* Feed SSE data payloads (NULL-terminated list) to a fresh decoder. */
static void gt_stream(const char *const *datas, struct buf *log)
{
	struct hub_sdec d;
	size_t i;
	hub_sdec_init(&d, HUB_GEMINI, 7);
	buf_init(log, 1 << 16);
	for (i = 0; datas[i]; i++) {
		struct hub_sse ev;
		char *g = t_guarded_copy(datas[i], strlen(datas[i]));
		ev.event.p = NULL;
		ev.event.n = 0;
		ev.data.p = g;
		ev.data.n = strlen(datas[i]);
		hub_gemini.decode_event(&d, &ev, gt_rec, log);
		t_guarded_free(g);
	}
	hub_sdec_free(&d);
}

static int gt_body(const char *body, struct buf *log)
{
	struct hub_sdec d;
	int rc;
	char *g = t_guarded_copy(body, strlen(body));
	hub_sdec_init(&d, HUB_GEMINI, 7);
	buf_init(log, 1 << 16);
	rc = hub_gemini.decode_body(&d, g, strlen(body), gt_rec, log);
	hub_sdec_free(&d);
	t_guarded_free(g);
	return rc;
}

#define CHECK_LOG(b, lit) CHECK_SPAN((b)->p, (b)->len, lit)

/* ---- encoder helpers ---- */

static struct hub_span gt_s(const char *s)
{
	struct hub_span sp;
	sp.p = s;
	sp.n = s ? strlen(s) : 0;
	return sp;
}

static struct hub_event gt_ev(enum hub_ev_type t, const char *text)
{
	struct hub_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = t;
	ev.text = gt_s(text);
	ev.usage.input = ev.usage.output = ev.usage.cached = -1;
	ev.usage.cache_write = ev.usage.thoughts = -1;
	return ev;
}

static void gt_enc_init(struct hub_enc *e, int stream, int cli)
{
	struct hub_enc_opts o;
	memset(&o, 0, sizeof(o));
	o.stream = stream;
	o.model = "gemini-2.5-pro";
	o.created = 1700000000;
	o.seed = 42;
	o.gemini_cli = cli;
	hub_enc_init(e, HUB_GEMINI, &o);
}

static void gt_put(struct hub_enc *e, struct hub_event ev, struct buf *out)
{
	hub_gemini.encode_event(e, &ev, out);
}

static void gt_start(struct hub_enc *e, const char *id, const char *model,
		     struct buf *out)
{
	struct hub_event ev = gt_ev(HUB_EV_START, NULL);
	ev.id = gt_s(id);
	ev.model = gt_s(model);
	gt_put(e, ev, out);
}

static void gt_tool(struct hub_enc *e, int index, const char *id,
		    const char *name, const char *const *frags,
		    struct buf *out)
{
	struct hub_event ev = gt_ev(HUB_EV_TOOL_START, NULL);
	ev.index = index;
	ev.id = gt_s(id);
	ev.name = gt_s(name);
	gt_put(e, ev, out);
	for (; *frags; frags++) {
		ev = gt_ev(HUB_EV_TOOL_ARGS, *frags);
		ev.index = index;
		gt_put(e, ev, out);
	}
	ev = gt_ev(HUB_EV_TOOL_END, NULL);
	ev.index = index;
	gt_put(e, ev, out);
}

static void gt_usage(struct hub_enc *e, long in, long outp, long cached,
		     long th, struct buf *out)
{
	struct hub_event ev = gt_ev(HUB_EV_USAGE, NULL);
	ev.usage.input = in;
	ev.usage.output = outp;
	ev.usage.cached = cached;
	ev.usage.thoughts = th;
	gt_put(e, ev, out);
}

static void gt_finish(struct hub_enc *e, enum hub_finish f, struct buf *out)
{
	struct hub_event ev = gt_ev(HUB_EV_FINISH, NULL);
	ev.finish = f;
	gt_put(e, ev, out);
}

/* The string value at a JSON-pointer-like path of dotted keys and
 * numeric indexes ("candidates.0.finishReason"); -1 when absent. */
static int gt_path(const struct json *j, const char *path)
{
	char key[64];
	int t = 0;
	while (*path && t >= 0) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(key))
			return -1;
		memcpy(key, path, n);
		key[n] = '\0';
		path += n + (path[n] == '.');
		if (j->tok[t].type == JSMN_ARRAY) {
			int i = atoi(key), e = t + 1, k;
			if (i >= j->tok[t].size)
				return -1;
			for (k = 0; k < i; k++)
				e = json_skip(j, e);
			t = e;
		} else {
			t = json_get(j, t, key);
		}
	}
	return t;
}

#define CHECK_PATH(j, path, lit)                                             \
	do {                                                                 \
		int t_ = gt_path((j), (path));                               \
		if (t_ < 0)                                                  \
			FAILF("no %s", path);                                \
		else                                                         \
			CHECK_SPAN(json_ptr((j), t_), json_len((j), t_), lit); \
	} while (0)

/* ======================================================================
 * decode_request
 * ====================================================================== */

TEST(gemini_decode_request_maps_everything)
{
	static const char body[] =
		"{\"systemInstruction\":{\"parts\":[{\"text\":\"be brief\"},"
		"{\"text\":\"and kind\"}]},"
		"\"contents\":["
		"{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"},"
		"{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVBOR\"}},"
		"{\"fileData\":{\"fileUri\":\"gs://b/x.jpg\",\"mimeType\":\"image/jpeg\"}}]},"
		"{\"role\":\"model\",\"parts\":[{\"text\":\"plan\",\"thought\":true,"
		"\"thoughtSignature\":\"SIGA\"},"
		"{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":\"Oslo\"}},"
		"\"thoughtSignature\":\"SIGB\"}]},"
		"{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":"
		"\"get_weather\",\"response\":{\"temp\":3}}}]}],"
		"\"tools\":[{\"functionDeclarations\":[{\"name\":\"get_weather\","
		"\"description\":\"Weather\",\"parameters\":{\"type\":\"object\","
		"\"properties\":{\"city\":{\"type\":\"string\"}}}}]},"
		"{\"googleSearch\":{}}],"
		"\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"ANY\","
		"\"allowedFunctionNames\":[\"get_weather\"]}},"
		"\"generationConfig\":{\"maxOutputTokens\":1000,\"temperature\":0.5,"
		"\"topP\":0.9,\"topK\":40,\"stopSequences\":[\"END\",\"STOP\"],"
		"\"thinkingConfig\":{\"thinkingBudget\":2048,\"includeThoughts\":true}}}";
	struct gt_req r;
	const struct hub_part *p;

	REQUIRE(gt_decode(&r, body) == 0);
	CHECK(!r.v.model.p);
	CHECK_EQ_INT(r.v.sys_n, 2);
	CHECK(gt_span(r.v.parts[r.v.sys_first].text, "be brief"));
	CHECK(gt_span(r.v.parts[r.v.sys_first + 1].text, "and kind"));
	REQUIRE(r.v.nmsgs == 3);
	CHECK_EQ_INT(r.v.msgs[0].role, HUB_USER);
	CHECK_EQ_INT(r.v.msgs[1].role, HUB_ASSISTANT);
	CHECK_EQ_INT(r.v.msgs[2].role, HUB_USER);
	REQUIRE(r.v.msgs[0].n == 3 && r.v.msgs[1].n == 2 && r.v.msgs[2].n == 1);

	p = &r.v.parts[r.v.msgs[0].first];
	CHECK(p[0].type == HUB_P_TEXT && gt_span(p[0].text, "hi"));
	CHECK(p[1].type == HUB_P_IMAGE && gt_span(p[1].mime, "image/png") &&
	      gt_span(p[1].data, "iVBOR"));
	CHECK(p[2].type == HUB_P_IMAGE && gt_span(p[2].url, "gs://b/x.jpg") &&
	      gt_span(p[2].mime, "image/jpeg"));

	p = &r.v.parts[r.v.msgs[1].first];
	CHECK(p[0].type == HUB_P_THINKING && gt_span(p[0].text, "plan") &&
	      gt_span(p[0].signature, "SIGA"));
	CHECK(p[1].type == HUB_P_TOOL_CALL && gt_span(p[1].name, "get_weather"));
	CHECK(gt_span(p[1].args, "{\"city\":\"Oslo\"}") && !p[1].args_is_str);
	CHECK(gt_span(p[1].signature, "SIGB"));
	CHECK(gt_span(p[1].id, "gcall_0"));

	p = &r.v.parts[r.v.msgs[2].first];
	CHECK(p->type == HUB_P_TOOL_RESULT && gt_span(p->name, "get_weather"));
	CHECK(gt_span(p->id, "gcall_0"));
	CHECK(gt_span(p->result, "{\"temp\":3}") && !p->result_is_str);

	REQUIRE(r.v.ntools == 1);
	CHECK(gt_span(r.v.tools[0].name, "get_weather"));
	CHECK(gt_span(r.v.tools[0].description, "Weather"));
	CHECK(r.v.tools[0].schema_tok > 0);
	CHECK(r.v.tools[0].schema.p && r.v.tools[0].schema.p[0] == '{');
	CHECK_EQ_INT(r.v.tool_choice, HUB_TC_TOOL);
	CHECK(gt_span(r.v.tool_choice_name, "get_weather"));

	CHECK_EQ_INT(r.v.max_tokens, 1000);
	CHECK(gt_span(r.v.temperature, "0.5"));
	CHECK(gt_span(r.v.top_p, "0.9"));
	CHECK(gt_span(r.v.top_k, "40"));
	CHECK_EQ_INT(r.v.nstop, 2);
	CHECK(gt_span(r.v.stop[1], "STOP"));
	CHECK_EQ_INT(r.v.thinking, 1);
	CHECK_EQ_INT(r.v.thinking_budget, 2048);
	CHECK_EQ_INT(r.v.include_thoughts, 1);
	gt_req_free(&r);
}

TEST(gemini_decode_request_snake_case_and_levels)
{
	static const char body[] =
		"{\"system_instruction\":{\"parts\":[{\"text\":\"sys\"}]},"
		"\"contents\":[{\"parts\":[{\"inline_data\":{\"mime_type\":"
		"\"image/jpeg\",\"data\":\"/9j/\"}}]}],"
		"\"tool_config\":{\"function_calling_config\":{\"mode\":\"NONE\"}},"
		"\"generation_config\":{\"thinking_config\":{\"thinkingLevel\":"
		"\"high\"},\"responseMimeType\":\"application/json\"}}";
	struct gt_req r;

	REQUIRE(gt_decode(&r, body) == 0);
	CHECK_EQ_INT(r.v.sys_n, 1);
	REQUIRE(r.v.nmsgs == 1 && r.v.msgs[0].n == 1);
	CHECK_EQ_INT(r.v.msgs[0].role, HUB_USER); /* role missing: user */
	CHECK(gt_span(r.v.parts[r.v.msgs[0].first].mime, "image/jpeg"));
	CHECK_EQ_INT(r.v.tool_choice, HUB_TC_NONE);
	CHECK_EQ_INT(r.v.effort, HUB_EFFORT_HIGH);
	CHECK_EQ_INT(r.v.thinking, 1);
	CHECK_EQ_INT(r.v.thinking_budget, HUB_BUDGET_UNSET);
	CHECK(gt_span(r.v.response_format, "{\"type\":\"json_object\"}"));
	CHECK_EQ_INT(r.v.max_tokens, -1);
	gt_req_free(&r);
}

TEST(gemini_decode_request_cli_envelope)
{
	static const char body[] =
		"{\"model\":\"gemini-2.5-pro\",\"project\":\"p1\","
		"\"user_prompt_id\":\"x\",\"request\":{\"contents\":[{\"role\":"
		"\"user\",\"parts\":[{\"text\":\"hello\"}]}],"
		"\"generationConfig\":{\"thinkingConfig\":{\"thinkingBudget\":0}}}}";
	struct gt_req r;

	REQUIRE(gt_decode(&r, body) == 0);
	CHECK(gt_span(r.v.model, "gemini-2.5-pro"));
	REQUIRE(r.v.nparts == 1);
	CHECK(gt_span(r.v.parts[0].text, "hello"));
	CHECK_EQ_INT(r.v.thinking, 0);
	CHECK_EQ_INT(r.v.thinking_budget, 0);
	gt_req_free(&r);
}

/* Parallel calls of the same name without ids: responses are matched in
 * order; given ids are kept. */
TEST(gemini_decode_request_matches_responses_to_calls)
{
	static const char body[] =
		"{\"contents\":["
		"{\"role\":\"user\",\"parts\":[{\"text\":\"go\"}]},"
		"{\"role\":\"model\",\"parts\":["
		"{\"functionCall\":{\"name\":\"read\",\"args\":{\"f\":\"a\"}}},"
		"{\"functionCall\":{\"name\":\"ls\",\"args\":{}}},"
		"{\"functionCall\":{\"name\":\"read\",\"args\":{\"f\":\"b\"}}},"
		"{\"functionCall\":{\"name\":\"x\",\"id\":\"call-9\"}}]},"
		"{\"role\":\"function\",\"parts\":["
		"{\"functionResponse\":{\"name\":\"read\",\"response\":{\"r\":1}}},"
		"{\"functionResponse\":{\"name\":\"read\",\"response\":{\"r\":2}}},"
		"{\"functionResponse\":{\"name\":\"x\",\"id\":\"call-9\",\"response\":{}}},"
		"{\"functionResponse\":{\"name\":\"ls\",\"response\":{}}}]},"
		"{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"read\"}}]},"
		"{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":"
		"\"read\",\"response\":{}}}]}]}";
	struct gt_req r;
	const struct hub_part *c, *res;

	REQUIRE(gt_decode(&r, body) == 0);
	REQUIRE(r.v.nmsgs == 5);
	c = &r.v.parts[r.v.msgs[1].first];
	res = &r.v.parts[r.v.msgs[2].first];
	CHECK_EQ_INT(r.v.msgs[2].role, HUB_USER);
	CHECK(gt_span(c[0].id, "gcall_0"));
	CHECK(gt_span(c[1].id, "gcall_1"));
	CHECK(gt_span(c[2].id, "gcall_2"));
	CHECK(gt_span(c[3].id, "call-9"));
	CHECK(gt_span(c[1].args, "{}"));
	CHECK(gt_span(c[3].args, "{}")); /* args missing */
	CHECK(gt_span(res[0].id, "gcall_0"));
	CHECK(gt_span(res[1].id, "gcall_2"));
	CHECK(gt_span(res[2].id, "call-9"));
	CHECK(gt_span(res[3].id, "gcall_1"));
	CHECK(gt_span(r.v.parts[r.v.msgs[3].first].id, "gcall_3"));
	CHECK(gt_span(r.v.parts[r.v.msgs[4].first].id, "gcall_3"));
	gt_req_free(&r);
}

TEST(gemini_decode_request_rejects_bad_shapes)
{
	static const struct {
		const char *body, *msg;
	} cases[] = {
		{"[1]", "request body must be a JSON object"},
		{"{}", "contents is required"},
		{"{\"contents\":{}}", "contents must be an array"},
		{"{\"contents\":[1]}", "each contents[] entry must be an object"},
		{"{\"contents\":[{\"role\":\"user\"}]}",
		 "contents[].parts must be an array"},
		{"{\"contents\":[{\"parts\":[\"x\"]}]}", "each part must be an object"},
		{"{\"contents\":[{\"parts\":[{\"text\":1}]}]}",
		 "part.text must be a string"},
		{"{\"contents\":[{\"parts\":[{\"inlineData\":{\"mimeType\":\"a\"}}]}]}",
		 "inlineData needs a data string"},
		{"{\"contents\":[{\"parts\":[{\"fileData\":{}}]}]}",
		 "fileData needs a fileUri string"},
		{"{\"contents\":[{\"parts\":[{\"functionCall\":{\"args\":{}}}]}]}",
		 "functionCall needs a name"},
		{"{\"contents\":[{\"parts\":[{\"functionResponse\":{}}]}]}",
		 "functionResponse needs a name"},
		{"{\"contents\":[],\"tools\":{}}", "tools must be an array"},
		{"{\"contents\":[],\"tools\":[{\"functionDeclarations\":[{}]}]}",
		 "functionDeclarations[] needs a name"},
		{"{\"contents\":[],\"systemInstruction\":3}",
		 "systemInstruction must be an object"},
	};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(cases); i++) {
		struct gt_req r;
		if (!CHECK_EQ_INT(gt_decode(&r, cases[i].body), -1))
			FAILF("case %zu accepted", i);
		CHECK_EQ_STR(r.err, cases[i].msg);
		gt_req_free(&r);
	}
}

/* ======================================================================
 * encode_request
 * ====================================================================== */

/* A view as another format's decoder would build it (no client JSON). */
static struct hub_part *gt_part(struct hub_view *v, enum hub_part_type t)
{
	struct hub_part *p = hub_add_part(v);
	p->type = t;
	return p;
}

/* A view over body j whose one user message says "x" (tests that are
 * about the tools). */
static void gt_view_x(struct hub_view *v, const struct json *j)
{
	hub_view_init(v, j);
	hub_add_msg(v, HUB_USER);
	gt_part(v, HUB_P_TEXT)->text = gt_s("x");
	v->msgs[0].n = 1;
}

TEST(gemini_encode_request_exact_body_from_foreign_view)
{
	struct hub_view v;
	struct hub_part *p;
	struct buf out;
	char err[128];
	static const char want[] =
		"{\"contents\":["
		"{\"role\":\"user\",\"parts\":[{\"text\":\"weather?\"}]},"
		"{\"role\":\"model\",\"parts\":[{\"text\":\"checking\"},"
		"{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":\"Oslo\"}},"
		"\"thoughtSignature\":\"GSIG\"},"
		"{\"functionCall\":{\"name\":\"get_time\",\"args\":{}},"
		"\"thoughtSignature\":\"skip_thought_signature_validator\"}]},"
		"{\"role\":\"user\",\"parts\":["
		"{\"functionResponse\":{\"name\":\"get_weather\",\"response\":"
		"{\"result\":\"3 C\"}}},"
		"{\"functionResponse\":{\"name\":\"get_time\",\"response\":"
		"{\"error\":\"boom\"}}},"
		"{\"text\":\"thanks\"}]}],"
		"\"systemInstruction\":{\"parts\":[{\"text\":\"sys\"}]},"
		"\"generationConfig\":{\"maxOutputTokens\":65536,\"temperature\":0.2,"
		"\"stopSequences\":[\"a\",\"b\",\"c\",\"d\",\"e\"],"
		"\"thinkingConfig\":{\"thinkingBudget\":8192,\"includeThoughts\":true}},"
		"\"safetySettings\":["
		"{\"category\":\"HARM_CATEGORY_HARASSMENT\",\"threshold\":\"OFF\"},"
		"{\"category\":\"HARM_CATEGORY_HATE_SPEECH\",\"threshold\":\"OFF\"},"
		"{\"category\":\"HARM_CATEGORY_SEXUALLY_EXPLICIT\",\"threshold\":\"OFF\"},"
		"{\"category\":\"HARM_CATEGORY_DANGEROUS_CONTENT\",\"threshold\":\"OFF\"},"
		"{\"category\":\"HARM_CATEGORY_CIVIC_INTEGRITY\",\"threshold\":\"BLOCK_NONE\"}],"
		"\"tools\":[{\"functionDeclarations\":[{\"name\":\"get_weather\"},"
		"{\"name\":\"get_time\",\"description\":\"now\"}]}],"
		"\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"ANY\","
		"\"allowedFunctionNames\":[\"get_weather\"]}}}";
	static const char *const stops[] = {"a", "b", "c", "d", "e", "f"};
	int i;

	hub_view_init(&v, NULL);
	v.sys_first = 0;
	gt_part(&v, HUB_P_TEXT)->text = gt_s("sys");
	v.sys_n = 1;
	hub_add_msg(&v, HUB_USER);
	gt_part(&v, HUB_P_TEXT)->text = gt_s("weather?");
	v.msgs[0].n = 1;
	hub_add_msg(&v, HUB_ASSISTANT);
	p = gt_part(&v, HUB_P_THINKING); /* unsigned: dropped */
	p->text = gt_s("hmm");
	gt_part(&v, HUB_P_TEXT)->text = gt_s("checking");
	p = gt_part(&v, HUB_P_THINKING); /* signature moves to the call */
	p->text = gt_s("");
	p->signature = gt_s("GSIG");
	p = gt_part(&v, HUB_P_TOOL_CALL);
	p->id = gt_s("get_weather-abc123");
	p->name = gt_s("get_weather");
	p->args = gt_s("{\\\"city\\\":\\\"Oslo\\\"}");
	p->args_is_str = 1;
	p = gt_part(&v, HUB_P_TOOL_CALL);
	p->id = gt_s("toolu_1");
	p->name = gt_s("get_time");
	p->args = gt_s("[1]"); /* not an object: {} */
	v.msgs[1].n = 5;
	hub_add_msg(&v, HUB_USER);
	p = gt_part(&v, HUB_P_TOOL_RESULT); /* name from the id suffix rule */
	p->id = gt_s("get_weather-abc123");
	p->result = gt_s("3 C");
	p->result_is_str = 1;
	p = gt_part(&v, HUB_P_TOOL_RESULT); /* name from the call by id */
	p->id = gt_s("toolu_1");
	p->result = gt_s("boom");
	p->result_is_str = 1;
	p->result_error = 1;
	v.msgs[2].n = 2;
	hub_add_msg(&v, HUB_USER); /* merged into the previous user turn */
	gt_part(&v, HUB_P_TEXT)->text = gt_s("thanks");
	gt_part(&v, HUB_P_TEXT)->text = gt_s(""); /* empty: skipped */
	v.msgs[3].n = 2;
	hub_add_tool(&v)->name = gt_s("get_weather");
	hub_add_tool(&v)->name = gt_s("get_time");
	v.tools[1].description = gt_s("now");
	v.tool_choice = HUB_TC_TOOL;
	v.tool_choice_name = gt_s("get_weather");
	v.max_tokens = 128000;
	v.temperature = gt_s("0.2");
	for (i = 0; i < 6; i++)
		v.stop[v.nstop++] = gt_s(stops[i]);
	v.effort = HUB_EFFORT_MEDIUM;

	REQUIRE(gt_encode(&v, 0, &out, err, sizeof(err)) == 0);
	CHECK_SPAN(out.p, out.len, want);
	buf_free(&out);
	hub_view_free(&v);
}

TEST(gemini_encode_request_cli_envelope_and_thinking_off)
{
	struct hub_view v;
	struct buf out;
	char err[128];

	hub_view_init(&v, NULL);
	hub_add_msg(&v, HUB_USER);
	gt_part(&v, HUB_P_TEXT)->text = gt_s("q");
	v.msgs[0].n = 1;
	v.thinking = 0;
	v.effort = HUB_EFFORT_HIGH; /* thinking off wins */
	REQUIRE(gt_encode(&v, 1, &out, err, sizeof(err)) == 0);
	CHECK_HAS(&out, "{\"model\":\"gemini-2.5-flash\",\"project\":\"proj-1\","
			"\"request\":{\"contents\":[{\"role\":\"user\",\"parts\":"
			"[{\"text\":\"q\"}]}],\"generationConfig\":{\"thinkingConfig\":"
			"{\"thinkingBudget\":0}},\"safetySettings\":[");
	CHECK(out.len > 2 && memcmp(out.p + out.len - 2, "]}", 2) != 0);
	CHECK(json_validate(out.p, out.len) == 0);
	buf_free(&out);
	hub_view_free(&v);
}

#define GT_REASON                                                            \
	"\"properties\":{\"reason\":{\"type\":\"string\",\"description\":"  \
	"\"Brief explanation of why you are calling this tool\"}},"          \
	"\"required\":[\"reason\"]"

/* A Gemini client body for the Antigravity tests: its first user text
 * has escapes (the session id hashes the unescaped text). */
static const char ag_body[] =
	"{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":"
	"\"H\\u00e9llo \\\"there\\\"\"}]},{\"role\":\"model\",\"parts\":["
	"{\"functionCall\":{\"name\":\"f\",\"args\":{}}}]},{\"role\":\"user\","
	"\"parts\":[{\"functionResponse\":{\"name\":\"f\",\"response\":"
	"{\"ok\":1}}}]}],"
	"\"tools\":[{\"functionDeclarations\":[{\"name\":\"f\",\"parameters\":"
	"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}}]}],"
	"\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"NONE\"}},"
	"\"safetySettings\":[{\"category\":\"HARM_CATEGORY_HARASSMENT\","
	"\"threshold\":\"OFF\"}],"
	"\"generationConfig\":{\"maxOutputTokens\":100,\"temperature\":0.5}}";

/* Encode ag_body for Antigravity with model and request_id into j (out
 * holds the text); 0 ok. */
static int gt_ag_encode(const char *model, const char *request_id,
			struct gt_req *r, struct buf *out, struct json *j)
{
	struct hub_req_opts o;
	char err[128];

	if (!CHECK(gt_decode(r, ag_body) == 0))
		return -1;
	memset(&o, 0, sizeof(o));
	o.model = model;
	o.stream = 1;
	o.antigravity = 1;
	o.project = "proj-1";
	o.request_id = request_id;
	if (!CHECK(gt_encode_opts(&r->v, &o, out, err, sizeof(err)) == 0) ||
	    !CHECK(json_parse(j, out->p, out->len) == 0)) {
		buf_free(out);
		gt_req_free(r);
		return -1;
	}
	return 0;
}

static void gt_ag_free(struct gt_req *r, struct buf *out, struct json *j)
{
	json_free(j);
	buf_free(out);
	gt_req_free(r);
}

/* hub_req_opts.antigravity: the Code Assist envelope with Antigravity's
 * members, the session id inside the request (FNV-1a 64 of the first
 * user text, low 63 bits), no safety settings; a model that is not
 * Claude gets no output cap and keeps the client's function calling
 * mode; a functionCall without a signature gets the skip marker. */
TEST(gemini_encode_request_antigravity_envelope)
{
	struct gt_req r;
	struct buf out;
	struct json j;

	if (gt_ag_encode("gemini-3-flash", "agent-1", &r, &out, &j) < 0)
		return;
	CHECK_PATH(&j, "model", "gemini-3-flash");
	CHECK_PATH(&j, "project", "proj-1");
	CHECK_PATH(&j, "userAgent", "antigravity");
	CHECK_PATH(&j, "requestType", "agent");
	CHECK_PATH(&j, "requestId", "agent-1");
	CHECK_PATH(&j, "request.sessionId", "-4997653201337511406");
	CHECK_EQ_INT(j.tok[0].size, 6);
	CHECK(gt_path(&j, "request.safetySettings") < 0);
	CHECK(gt_path(&j, "request.generationConfig.maxOutputTokens") < 0);
	CHECK_PATH(&j, "request.generationConfig.temperature", "0.5");
	CHECK_PATH(&j, "request.toolConfig.functionCallingConfig.mode", "NONE");
	CHECK_PATH(&j, "request.contents.1.parts.0.thoughtSignature",
		   "skip_thought_signature_validator");
	CHECK_PATH(&j, "request.tools.0.functionDeclarations.0.parameters."
		       "properties.a.type", "string");
	gt_ag_free(&r, &out, &j);
}

/* A Claude model on Antigravity: function calling VALIDATED whatever the
 * client chose, and the output cap stays; an image model: requestType
 * image_gen, no session id; no request_id: no requestId. */
TEST(gemini_encode_request_antigravity_models)
{
	struct gt_req r;
	struct buf out;
	struct json j;

	if (gt_ag_encode("claude-sonnet-4-6", "agent-2", &r, &out, &j) == 0) {
		CHECK_PATH(&j, "requestType", "agent");
		CHECK_PATH(&j, "request.toolConfig.functionCallingConfig.mode",
			   "VALIDATED");
		CHECK_PATH(&j, "request.generationConfig.maxOutputTokens",
			   "100");
		CHECK(gt_path(&j, "request.sessionId") >= 0);
		gt_ag_free(&r, &out, &j);
	}
	if (gt_ag_encode("gemini-3.1-flash-image", NULL, &r, &out, &j) == 0) {
		CHECK_PATH(&j, "requestType", "image_gen");
		CHECK(gt_path(&j, "requestId") < 0);
		CHECK(gt_path(&j, "request.sessionId") < 0);
		CHECK(gt_path(&j, "request.generationConfig.maxOutputTokens") <
		      0);
		gt_ag_free(&r, &out, &j);
	}
}

/* Antigravity's schema cleaning, through an OpenAI-style tool list: the
 * constraints it refuses go, const becomes an enum, allOf merges, the
 * richest anyOf branch is taken, required keeps only real properties,
 * a $ref is named, and object schemas without properties (a tool with
 * none, an empty nested object) get the required "reason" placeholder. */
TEST(gemini_encode_request_antigravity_schemas)
{
	static const char body[] =
		"{\"tools\":["
		"{\"name\":\"f\",\"parameters\":{\"$schema\":\"x\",\"type\":"
		"\"object\",\"additionalProperties\":false,\"properties\":{"
		"\"s\":{\"type\":\"string\",\"pattern\":\"^a\",\"minLength\":1,"
		"\"format\":\"email\",\"default\":\"a\"},"
		"\"k\":{\"const\":\"fixed\"},"
		"\"l\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":3,"
		"\"uniqueItems\":true,\"items\":{\"$ref\":\"#/$defs/Item\"}},"
		"\"u\":{\"description\":\"either\",\"anyOf\":[{\"type\":\"null\"},"
		"{\"type\":\"string\"},{\"type\":\"object\",\"properties\":{"
		"\"x\":{\"type\":\"integer\"}},\"required\":[\"x\"]}]},"
		"\"m\":{\"allOf\":[{\"properties\":{\"p\":{\"type\":\"string\"}},"
		"\"required\":[\"p\",\"gone\"]},{\"properties\":{\"q\":{\"type\":"
		"\"number\"}},\"required\":[\"q\",\"p\"]}]},"
		"\"e\":{\"type\":\"object\"}},"
		"\"required\":[\"s\",\"nope\"],\"$defs\":{\"Item\":{}}}},"
		"{\"name\":\"g\"}]}";
	static const char want[] =
		"\"functionDeclarations\":[{\"name\":\"f\",\"parameters\":{"
		"\"type\":\"object\",\"properties\":{"
		"\"s\":{\"type\":\"string\"},"
		"\"k\":{\"enum\":[\"fixed\"]},"
		"\"l\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
		"\"description\":\"See: Item\"," GT_REASON "}},"
		"\"u\":{\"description\":\"either\",\"type\":\"object\","
		"\"properties\":{\"x\":{\"type\":\"integer\"}},\"required\":"
		"[\"x\"]},"
		"\"m\":{\"properties\":{\"p\":{\"type\":\"string\"},\"q\":{\"type\":"
		"\"number\"}},\"required\":[\"p\",\"q\"],\"type\":\"object\"},"
		"\"e\":{\"type\":\"object\"," GT_REASON "}},"
		"\"required\":[\"s\"]}},"
		"{\"name\":\"g\",\"parameters\":{\"type\":\"object\","
		GT_REASON "}}]";
	struct json j;
	struct hub_view v;
	struct hub_tool *t;
	struct hub_req_opts o;
	struct buf out;
	char err[128];
	int k;

	REQUIRE(json_parse(&j, body, strlen(body)) == 0);
	gt_view_x(&v, &j);
	for (k = 0; k < 2; k++) {
		int fn = gt_path(&j, k ? "tools.1" : "tools.0");
		t = hub_add_tool(&v);
		t->name = hub_tok_span(&j, json_get(&j, fn, "name"));
		t->schema_tok = json_get(&j, fn, "parameters");
	}
	memset(&o, 0, sizeof(o));
	o.model = "claude-sonnet-4-6";
	o.antigravity = 1;
	REQUIRE(gt_encode_opts(&v, &o, &out, err, sizeof(err)) == 0);
	CHECK_HAS(&out, want);
	CHECK(json_validate(out.p, out.len) == 0);
	buf_free(&out);
	hub_view_free(&v);
	json_free(&j);
}

TEST(gemini_encode_request_images)
{
	struct hub_view v;
	struct hub_part *p;
	struct buf out;
	char err[128] = "";

	hub_view_init(&v, NULL);
	hub_add_msg(&v, HUB_USER);
	p = gt_part(&v, HUB_P_IMAGE);
	p->data = gt_s("/9j/AAA");
	p = gt_part(&v, HUB_P_IMAGE);
	p->url = gt_s("data:image/webp;base64,UklGRxx");
	p = gt_part(&v, HUB_P_IMAGE);
	p->url = gt_s("gs:\\/\\/bucket/cat.png");
	p->mime = gt_s("image/png");
	v.msgs[0].n = 3;
	REQUIRE(gt_encode(&v, 0, &out, err, sizeof(err)) == 0);
	CHECK_HAS(&out, "\"parts\":[{\"inlineData\":{\"mimeType\":\"image/jpeg\","
			"\"data\":\"/9j/AAA\"}},{\"inlineData\":{\"mimeType\":"
			"\"image/webp\",\"data\":\"UklGRxx\"}},{\"fileData\":"
			"{\"mimeType\":\"image/png\",\"fileUri\":"
			"\"gs:\\/\\/bucket/cat.png\"}}]");
	buf_free(&out);

	p = gt_part(&v, HUB_P_IMAGE);
	p->url = gt_s("https://example.com/cat.png");
	v.msgs[0].n = 4;
	CHECK_EQ_INT(gt_encode(&v, 0, &out, err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "remote image URLs are not supported by Gemini");
	CHECK_EQ_INT(out.len, 0);
	buf_free(&out);
	hub_view_free(&v);
}

/* Schema sanitising goes through hub_gemini_schema; an OpenAI-style body
 * provides the tokens. */
TEST(gemini_encode_request_sanitises_schemas)
{
	static const char body[] =
		"{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
		"\"strict\":true,\"parameters\":{\"$schema\":\"http://json-schema.org/"
		"draft-07/schema#\",\"type\":\"object\",\"additionalProperties\":false,"
		"\"properties\":{\"a\":{\"type\":[\"string\",\"null\"]},"
		"\"n\":{\"type\":\"integer\",\"enum\":[1,2]},"
		"\"u\":{\"anyOf\":[{\"type\":\"null\"},{\"type\":\"number\"}]}},"
		"\"required\":[\"a\"]}}},"
		"{\"type\":\"function\",\"function\":{\"name\":\"g\",\"parameters\":"
		"{\"type\":\"object\",\"properties\":{}}}}]}";
	struct json j;
	struct hub_view v;
	struct hub_tool *t;
	struct buf out;
	char err[128];
	int fn;

	REQUIRE(json_parse(&j, body, strlen(body)) == 0);
	gt_view_x(&v, &j);
	t = hub_add_tool(&v);
	fn = gt_path(&j, "tools.0.function");
	t->name = hub_tok_span(&j, json_get(&j, fn, "name"));
	t->schema_tok = json_get(&j, fn, "parameters");
	t->schema = hub_tok_raw(&j, t->schema_tok);
	t = hub_add_tool(&v);
	fn = gt_path(&j, "tools.1.function");
	t->name = hub_tok_span(&j, json_get(&j, fn, "name"));
	t->schema_tok = json_get(&j, fn, "parameters");
	v.tool_choice = HUB_TC_AUTO;

	REQUIRE(gt_encode(&v, 0, &out, err, sizeof(err)) == 0);
	CHECK_HAS(&out, "\"tools\":[{\"functionDeclarations\":[{\"name\":\"f\","
			"\"parameters\":{\"type\":\"object\",\"properties\":{"
			"\"a\":{\"type\":\"string\"},"
			"\"n\":{\"type\":\"integer\",\"enum\":[\"1\",\"2\"]},"
			"\"u\":{\"type\":\"number\"}},\"required\":[\"a\"]}},"
			"{\"name\":\"g\"}]}]");
	CHECK_HAS(&out, "\"toolConfig\":{\"functionCallingConfig\":"
			"{\"mode\":\"AUTO\"}}");
	CHECK_HASNT(&out, "strict");
	CHECK_HASNT(&out, "$schema");
	CHECK_HASNT(&out, "additionalProperties");
	CHECK_HASNT(&out, "anyOf");
	CHECK(json_validate(out.p, out.len) == 0);
	buf_free(&out);
	hub_view_free(&v);
	json_free(&j);
}

/* Type arrays collapse to one string type, whatever they hold: objects
 * and empty arrays once went out raw or read past the array (found by the
 * hub_request fuzzer). */
TEST(gemini_encode_request_schema_type_arrays)
{
	static const char *const cases[][2] = {
		{"[\"null\",\"integer\"]", "\"type\":\"integer\""},
		{"[{\"x\":1},\"string\"]", "\"type\":\"string\""},
		{"[{\"x\":[1,2]}]", "\"type\":\"object\""},
		{"[]", "\"type\":\"object\""},
		{"[\"null\"]", "\"type\":\"null\""},
	};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(cases); i++) {
		char body[256];
		struct json j;
		struct hub_view v;
		struct hub_tool *t;
		struct buf out;
		char err[128];

		snprintf(body, sizeof(body), "{\"type\":\"object\",\"properties\""
			 ":{\"a\":{\"type\":%s}}}", cases[i][0]);
		REQUIRE(json_parse(&j, body, strlen(body)) == 0);
		gt_view_x(&v, &j);
		t = hub_add_tool(&v);
		t->name = gt_s("f");
		t->schema_tok = 0;
		t->schema = hub_tok_raw(&j, 0);
		if (CHECK(gt_encode(&v, 0, &out, err, sizeof(err)) == 0)) {
			if (!CHECK(json_validate(out.p, out.len) == 0))
				FAILF("case %s", cases[i][0]);
			CHECK_HAS(&out, cases[i][1]);
			buf_free(&out);
		}
		hub_view_free(&v);
		json_free(&j);
	}
}

/* Gemini client -> Gemini upstream keeps text, args, images, signatures,
 * thought parts, built-in tools and safety settings. */
TEST(gemini_round_trip_request)
{
	static const char body[] =
		"{\"contents\":["
		"{\"role\":\"user\",\"parts\":[{\"text\":\"a \\\"q\\\"\\n\"},"
		"{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVBORw0=\"}}]},"
		"{\"role\":\"model\",\"parts\":[{\"text\":\"think\",\"thought\":true,"
		"\"thoughtSignature\":\"T1/+=\"},{\"text\":\"ok\",\"thoughtSignature\":"
		"\"T2\"},{\"functionCall\":{\"name\":\"run\",\"args\":{\"cmd\":"
		"\"ls -l\",\"n\":[1,2]}},\"thoughtSignature\":\"T3\"}]},"
		"{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"run\","
		"\"response\":{\"output\":\"x\"}}}]},"
		"{\"role\":\"user\",\"parts\":[{\"text\":\"more\"}]}],"
		"\"tools\":[{\"googleSearch\":{}},{\"functionDeclarations\":[{\"name\":"
		"\"run\",\"parametersJsonSchema\":{\"type\":\"object\",\"properties\":"
		"{\"cmd\":{\"type\":\"string\"}}}}]}],"
		"\"generationConfig\":{\"responseMimeType\":\"application/json\","
		"\"temperature\":0.3,\"responseJsonSchema\" : {\"type\":\"object\"},"
		"\"seed\":5},"
		"\"safetySettings\":[{\"category\":\"HARM_CATEGORY_HARASSMENT\","
		"\"threshold\":\"BLOCK_LOW_AND_ABOVE\"}]}";
	static const char want[] =
		"{\"contents\":["
		"{\"role\":\"user\",\"parts\":[{\"text\":\"a \\\"q\\\"\\n\"},"
		"{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVBORw0=\"}}]},"
		"{\"role\":\"model\",\"parts\":[{\"text\":\"think\",\"thought\":true,"
		"\"thoughtSignature\":\"T1/+=\"},{\"text\":\"ok\",\"thoughtSignature\":"
		"\"T2\"},{\"functionCall\":{\"name\":\"run\",\"args\":{\"cmd\":"
		"\"ls -l\",\"n\":[1,2]}},\"thoughtSignature\":\"T3\"}]},"
		"{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"run\","
		"\"response\":{\"output\":\"x\"}}},{\"text\":\"more\"}]}],"
		"\"generationConfig\":{\"temperature\":0.3,"
		"\"responseMimeType\":\"application/json\","
		"\"responseJsonSchema\" : {\"type\":\"object\"},\"seed\":5},"
		"\"safetySettings\":[{\"category\":\"HARM_CATEGORY_HARASSMENT\","
		"\"threshold\":\"BLOCK_LOW_AND_ABOVE\"}],"
		"\"tools\":[{\"functionDeclarations\":[{\"name\":\"run\",\"parameters\":"
		"{\"type\":\"object\",\"properties\":{\"cmd\":{\"type\":\"string\"}}}}]},"
		"{\"googleSearch\":{}}]}";
	struct gt_req r;
	struct buf out;
	char err[128];

	REQUIRE(gt_decode(&r, body) == 0);
	REQUIRE(gt_encode(&r.v, 0, &out, err, sizeof(err)) == 0);
	CHECK_SPAN(out.p, out.len, want);
	buf_free(&out);
	gt_req_free(&r);
}

/* Ids survive: a Gemini client that echoes functionCall ids gets them
 * into the view for a foreign upstream, and the CLI envelope round
 * trips. */
TEST(gemini_round_trip_cli_envelope_with_ids)
{
	static const char body[] =
		"{\"model\":\"gemini-2.5-pro\",\"project\":\"p\",\"request\":{"
		"\"contents\":[{\"role\":\"model\",\"parts\":[{\"functionCall\":"
		"{\"id\":\"toolu_01\",\"name\":\"a\",\"args\":{}}}]},"
		"{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"id\":"
		"\"toolu_01\",\"name\":\"a\",\"response\":{\"result\":\"r\"}}}]}]}}";
	struct gt_req r;
	struct buf out;
	char err[128];
	struct json oj;

	REQUIRE(gt_decode(&r, body) == 0);
	CHECK(gt_span(r.v.parts[0].id, "toolu_01"));
	CHECK(gt_span(r.v.parts[1].id, "toolu_01"));
	REQUIRE(gt_encode(&r.v, 1, &out, err, sizeof(err)) == 0);
	REQUIRE(json_parse(&oj, out.p, out.len) == 0);
	CHECK_PATH(&oj, "model", "gemini-2.5-flash");
	CHECK_PATH(&oj, "project", "proj-1");
	CHECK_PATH(&oj, "request.contents.0.parts.0.functionCall.name", "a");
	CHECK_PATH(&oj, "request.contents.0.parts.0.thoughtSignature",
		   "skip_thought_signature_validator");
	CHECK_PATH(&oj, "request.contents.1.parts.0.functionResponse.response",
		   "{\"result\":\"r\"}");
	CHECK(gt_path(&oj, "request.safetySettings") < 0);
	json_free(&oj);
	buf_free(&out);
	gt_req_free(&r);
}

TEST(gemini_encode_request_foreign_thinking_and_formats)
{
	static const char body[] =
		"{\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
		"{\"name\":\"x\",\"schema\":{\"type\":\"object\"}}}}";
	struct json j;
	struct hub_view v;
	struct hub_part *p;
	struct buf out;
	char err[128];

	REQUIRE(json_parse(&j, body, strlen(body)) == 0);
	hub_view_init(&v, &j);
	hub_add_msg(&v, HUB_ASSISTANT);
	p = gt_part(&v, HUB_P_THINKING); /* signed, but not Gemini's: dropped */
	p->text = gt_s("claude thoughts");
	p->signature = gt_s("CSIG");
	p = gt_part(&v, HUB_P_THINKING);
	p->redacted = 1;
	p->signature = gt_s("DATA");
	gt_part(&v, HUB_P_TEXT)->text = gt_s("answer");
	v.msgs[0].n = 3;
	v.response_format = hub_tok_raw(&j, json_get(&j, 0, "response_format"));
	v.thinking = 1;
	REQUIRE(gt_encode(&v, 0, &out, err, sizeof(err)) == 0);
	CHECK_HAS(&out, "{\"contents\":[{\"role\":\"model\",\"parts\":"
			"[{\"text\":\"answer\"}]}],\"generationConfig\":{"
			"\"thinkingConfig\":{\"thinkingBudget\":-1,"
			"\"includeThoughts\":true},\"responseMimeType\":"
			"\"application/json\",\"responseJsonSchema\":"
			"{\"type\":\"object\"}}");
	CHECK_HASNT(&out, "CSIG");
	CHECK_HASNT(&out, "DATA");
	buf_free(&out);
	hub_view_free(&v);
	json_free(&j);
}

/* ======================================================================
 * decode_event
 * ====================================================================== */

TEST(gemini_decode_event_text_thinking_tools_usage)
{
	static const char *const datas[] = {
		"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Let me "
		"think\",\"thought\":true}],\"role\":\"model\"},\"index\":0}],"
		"\"usageMetadata\":{\"promptTokenCount\":10,\"totalTokenCount\":10},"
		"\"modelVersion\":\"gemini-2.5-pro\",\"responseId\":\"r-1\"}",
		"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hello \\\"you\\\"\","
		"\"thoughtSignature\":\"S1\"}],\"role\":\"model\"},\"index\":0}],"
		"\"modelVersion\":\"gemini-2.5-pro\",\"responseId\":\"r-1\"}",
		"",
		"{\"candidates\":[{\"content\":{\"parts\":["
		"{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":"
		"\"Oslo\"}},\"thoughtSignature\":\"S2\"},"
		"{\"functionCall\":{\"name\":\"get_time\",\"args\":{},\"id\":\"fc-9\"}}"
		"],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],"
		"\"usageMetadata\":{\"promptTokenCount\":10,\"candidatesTokenCount\":"
		"20,\"thoughtsTokenCount\":5,\"cachedContentTokenCount\":4,"
		"\"totalTokenCount\":35},\"responseId\":\"r-1\"}",
		"[DONE]",
		NULL,
	};
	struct buf log;
	char want[1024], id[64];

	hub_gen_id(id, sizeof(id), "", 7, 0);
	snprintf(want, sizeof(want),
		 "START(r-1,gemini-2.5-pro) THINK(Let me think) "
		 "SIG(S1) TEXT(Hello \\\"you\\\") SIG(S2) "
		 "TSTART(0,get_weather-%.8s,get_weather) "
		 "TARGS(0,{\\\"city\\\":\\\"Oslo\\\"}) TEND(0) "
		 "TSTART(1,fc-9,get_time) TARGS(1,{}) TEND(1) "
		 "USAGE(10,25,4,5) FINISH(2)", id);
	gt_stream(datas, &log);
	CHECK_SPAN(log.p, log.len, want);
	buf_free(&log);
}

TEST(gemini_decode_event_cli_envelope_usage_only_and_reasons)
{
	static const char *const datas[] = {
		"{\"response\":{\"candidates\":[{\"content\":{\"parts\":[{\"text\":"
		"\"a\"}]}}],\"responseId\":\"x\"}}",
		"{\"response\":{\"candidates\":[{\"content\":{\"parts\":[{\"text\":"
		"\"\"}]},\"finishReason\":\"MAX_TOKENS\"}]}}",
		"{\"response\":{\"usageMetadata\":{\"promptTokenCount\":3,"
		"\"candidatesTokenCount\":7}}}",
		NULL,
	};
	static const char *const safety[] = {
		"{\"candidates\":[{\"finishReason\":\"SAFETY\"}]}", NULL,
	};
	static const char *const usage_first[] = {
		"{\"usageMetadata\":{\"promptTokenCount\":2}}",
		"{\"promptFeedback\":{\"blockReason\":\"OTHER\"}}", NULL,
	};
	struct buf log;

	gt_stream(datas, &log);
	CHECK_LOG(&log, "START(x,) TEXT(a) FINISH(1) USAGE(3,7,-1,-1)");
	buf_free(&log);
	gt_stream(safety, &log);
	CHECK_LOG(&log, "START(,) FINISH(3)");
	buf_free(&log);
	gt_stream(usage_first, &log);
	CHECK_LOG(&log, "START(,) USAGE(2,-1,-1,-1) USAGE(2,-1,-1,-1) FINISH(3)");
	buf_free(&log);
}

TEST(gemini_decode_event_errors)
{
	static const char *const err[] = {
		"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}",
		"{\"error\":{\"code\":429,\"message\":\"Quota \\\"x\\\"\","
		"\"status\":\"RESOURCE_EXHAUSTED\"}}",
		"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]}}]}",
		NULL,
	};
	static const char *const bad[] = {
		"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}",
		"{\"candidates\":[",
		"{nope}",
		"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]}}]}",
		NULL,
	};
	static const char *const cli_err[] = {
		"[{\"error\":{\"code\":999,\"message\":\"odd\"}}]", NULL,
	};
	struct buf log;

	gt_stream(err, &log);
	CHECK_LOG(&log, "START(,) TEXT(a) ERROR(429,Quota \\\"x\\\")");
	buf_free(&log);
	gt_stream(bad, &log);
	CHECK_LOG(&log, "START(,) TEXT(a) ERROR(502,malformed upstream event)");
	buf_free(&log);
	gt_stream(cli_err, &log);
	CHECK_LOG(&log, "ERROR(502,odd)");
	buf_free(&log);
}

/* Generated ids are <name>-<8 chars>, deterministic from the seed and the
 * call count. */
TEST(gemini_decode_event_generated_ids_are_deterministic)
{
	static const char *const datas[] = {
		"{\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":"
		"{\"name\":\"a\"}}]}}]}",
		"{\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":"
		"{\"name\":\"a\"}}]}}]}",
		NULL,
	};
	struct buf l1, l2;
	char want[256], id0[64], id1[64];

	hub_gen_id(id0, sizeof(id0), "", 7, 0);
	hub_gen_id(id1, sizeof(id1), "", 7, 1);
	snprintf(want, sizeof(want),
		 "START(,) TSTART(0,a-%.8s,a) TARGS(0,{}) TEND(0) "
		 "TSTART(1,a-%.8s,a) TARGS(1,{}) TEND(1)", id0, id1);
	gt_stream(datas, &l1);
	gt_stream(datas, &l2);
	CHECK_SPAN(l1.p, l1.len, want);
	CHECK_EQ_MEM(l1.p, l1.len, l2.p, l2.len);
	CHECK(memcmp(id0, id1, 8) != 0);
	buf_free(&l1);
	buf_free(&l2);
}

/* ======================================================================
 * decode_body
 * ====================================================================== */

TEST(gemini_decode_body_object_envelope_and_array)
{
	static const char one[] =
		"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"},"
		"{\"functionCall\":{\"name\":\"f\",\"id\":\"i1\",\"args\":{\"a\":1}}}"
		"]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{"
		"\"promptTokenCount\":1,\"candidatesTokenCount\":2},"
		"\"modelVersion\":\"m\",\"responseId\":\"r\"}";
	static const char env[] =
		"{\"response\":{\"candidates\":[{\"content\":{\"parts\":[{\"text\":"
		"\"hi\"}]},\"finishReason\":\"STOP\"}],\"responseId\":\"r\"}}";
	static const char arr[] =
		"[{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}],"
		"\"responseId\":\"r\"},"
		"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]}}],"
		"\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":1}}]";
	struct buf log;

	CHECK_EQ_INT(gt_body(one, &log), 0);
	CHECK_LOG(&log, "START(r,m) TEXT(hi) TSTART(0,i1,f) "
			"TARGS(0,{\\\"a\\\":1}) TEND(0) USAGE(1,2,-1,-1) FINISH(2)");
	buf_free(&log);
	CHECK_EQ_INT(gt_body(env, &log), 0);
	CHECK_LOG(&log, "START(r,) TEXT(hi) FINISH(0)");
	buf_free(&log);
	CHECK_EQ_INT(gt_body(arr, &log), 0);
	CHECK_LOG(&log, "START(r,) TEXT(a) TEXT(b) USAGE(4,1,-1,-1) FINISH(0)");
	buf_free(&log);
}

TEST(gemini_decode_body_rejects_other_shapes)
{
	struct buf log;
	CHECK_EQ_INT(gt_body("{\"choices\":[]}", &log), -1);
	buf_free(&log);
	CHECK_EQ_INT(gt_body("not json", &log), -1);
	buf_free(&log);
	CHECK_EQ_INT(gt_body("[{\"candidates\":[]},3]", &log), -1);
	buf_free(&log);
	CHECK_EQ_INT(gt_body("{\"error\":{\"code\":400,\"message\":\"bad\"}}",
			     &log), 0);
	CHECK_LOG(&log, "ERROR(400,bad)");
	buf_free(&log);
}

/* ======================================================================
 * encode_event
 * ====================================================================== */

TEST(gemini_encode_event_stream_exact_bytes)
{
	static const char *const frags[] = {"{\\\"city\\\":", "\\\"Oslo\\\"}",
					    NULL};
	static const char want[] =
		"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":"
		"[{\"text\":\"hmm\",\"thought\":true}]},\"index\":0}],"
		"\"modelVersion\":\"gemini-2.5-pro\",\"responseId\":\"resp1\"}\n\n"
		"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":"
		"[{\"text\":\"Hi \\\"x\\\"\"}]},\"index\":0}],"
		"\"modelVersion\":\"gemini-2.5-pro\",\"responseId\":\"resp1\"}\n\n"
		"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":"
		"[{\"thoughtSignature\":\"SIG\",\"functionCall\":{\"name\":"
		"\"get_weather\",\"id\":\"toolu_1\",\"args\":{\"city\":\"Oslo\"}}}]},"
		"\"index\":0}],"
		"\"modelVersion\":\"gemini-2.5-pro\",\"responseId\":\"resp1\"}\n\n"
		"data: {\"candidates\":[{\"finishReason\":\"STOP\",\"index\":0}],"
		"\"usageMetadata\":{\"promptTokenCount\":10,\"candidatesTokenCount\":15,"
		"\"totalTokenCount\":30,\"thoughtsTokenCount\":5,"
		"\"cachedContentTokenCount\":2},"
		"\"modelVersion\":\"gemini-2.5-pro\",\"responseId\":\"resp1\"}\n\n";
	struct hub_enc e;
	struct buf out;

	gt_enc_init(&e, 1, 0);
	buf_init(&out, 1 << 16);
	gt_start(&e, "resp1", NULL, &out);
	CHECK_EQ_INT(out.len, 0);
	gt_put(&e, gt_ev(HUB_EV_THINKING, "hmm"), &out);
	gt_put(&e, gt_ev(HUB_EV_TEXT, ""), &out); /* never an empty frame */
	gt_put(&e, gt_ev(HUB_EV_TEXT, "Hi \\\"x\\\""), &out);
	gt_put(&e, gt_ev(HUB_EV_THINKING_SIG, "SIG"), &out);
	gt_tool(&e, 0, "toolu_1", "get_weather", frags, &out);
	gt_usage(&e, 10, 20, 2, 5, &out);
	gt_finish(&e, HUB_FIN_TOOL, &out);
	gt_put(&e, gt_ev(HUB_EV_DONE, NULL), &out);
	CHECK_SPAN(out.p, out.len, want);
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(gemini_encode_event_stream_cli_late_usage_and_sig_flush)
{
	static const char want[] =
		"data: {\"response\":{\"candidates\":[{\"content\":{\"role\":\"model\","
		"\"parts\":[{\"text\":\"a\"}]},\"index\":0}],"
		"\"modelVersion\":\"claude-x\",\"responseId\":\"msg_1\"}}\n\n"
		"data: {\"response\":{\"candidates\":[{\"content\":{\"role\":\"model\","
		"\"parts\":[{\"text\":\"\",\"thoughtSignature\":\"S\"}]},\"index\":0}],"
		"\"modelVersion\":\"claude-x\",\"responseId\":\"msg_1\"}}\n\n"
		"data: {\"response\":{\"candidates\":[{\"finishReason\":\"MAX_TOKENS\","
		"\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":3,"
		"\"totalTokenCount\":3},"
		"\"modelVersion\":\"claude-x\",\"responseId\":\"msg_1\"}}\n\n"
		"data: {\"response\":{\"usageMetadata\":{\"promptTokenCount\":3,"
		"\"candidatesTokenCount\":9,\"totalTokenCount\":12},"
		"\"modelVersion\":\"claude-x\",\"responseId\":\"msg_1\"}}\n\n";
	struct hub_enc e;
	struct buf out;

	gt_enc_init(&e, 1, 1);
	buf_init(&out, 1 << 16);
	gt_start(&e, "msg_1", "claude-x", &out);
	gt_put(&e, gt_ev(HUB_EV_TEXT, "a"), &out);
	gt_put(&e, gt_ev(HUB_EV_THINKING_SIG, "S"), &out);
	gt_usage(&e, 3, -1, -1, -1, &out);
	gt_finish(&e, HUB_FIN_LENGTH, &out);
	gt_usage(&e, -1, 9, -1, -1, &out);
	gt_put(&e, gt_ev(HUB_EV_DONE, NULL), &out);
	CHECK_SPAN(out.p, out.len, want);
	buf_free(&out);
	hub_enc_free(&e);
}

/* Usage with no count after the final chunk (a fuzzer found it): no
 * chunk at all, where one with an empty object used to go out as
 * '{,"modelVersion"...', which is not JSON. */
TEST(gemini_encode_event_stream_late_usage_without_counts)
{
	struct hub_enc e;
	struct buf out;
	size_t before;

	gt_enc_init(&e, 1, 0);
	buf_init(&out, 1 << 16);
	gt_start(&e, "msg_1", "claude-x", &out);
	gt_put(&e, gt_ev(HUB_EV_TEXT, "a"), &out);
	gt_finish(&e, HUB_FIN_STOP, &out);
	gt_usage(&e, -1, -1, -1, -1, &out); /* the final chunk goes out */
	before = out.len;
	REQUIRE(before > 0);
	gt_usage(&e, -1, -1, -1, -1, &out);
	gt_put(&e, gt_ev(HUB_EV_DONE, NULL), &out);
	CHECK_EQ_INT(out.len, before);
	buf_putc(&out, '\0');
	CHECK(!strstr(out.p, "{,"));
	buf_free(&out);
	hub_enc_free(&e);
}

/* No START, no FINISH: a generated id, the client's model name, and a
 * STOP finish at DONE; FINISH without usage waits for DONE. */
TEST(gemini_encode_event_stream_defaults)
{
	struct hub_enc e;
	struct buf out;
	char id[64], want[512];

	hub_gen_id(id, sizeof(id), "", 42, 0);
	snprintf(want, sizeof(want),
		 "data: {\"candidates\":[{\"finishReason\":\"STOP\",\"index\":0}],"
		 "\"modelVersion\":\"gemini-2.5-pro\",\"responseId\":\"%s\"}\n\n",
		 id);
	gt_enc_init(&e, 1, 0);
	buf_init(&out, 1 << 16);
	gt_finish(&e, HUB_FIN_TOOL, &out);
	CHECK_EQ_INT(out.len, 0);
	gt_put(&e, gt_ev(HUB_EV_DONE, NULL), &out);
	CHECK_SPAN(out.p, out.len, want);
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(gemini_encode_event_stream_error)
{
	static const char want[] =
		"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":"
		"[{\"text\":\"a\"}]},\"index\":0}],"
		"\"modelVersion\":\"gemini-2.5-pro\",\"responseId\":\"r\"}\n\n"
		"data: {\"error\":{\"code\":429,\"message\":\"slow \\\"down\\\"\","
		"\"status\":\"RESOURCE_EXHAUSTED\"}}\n\n";
	struct hub_enc e;
	struct buf out;
	struct hub_event ev;

	gt_enc_init(&e, 1, 0);
	buf_init(&out, 1 << 16);
	gt_start(&e, "r", NULL, &out);
	gt_put(&e, gt_ev(HUB_EV_TEXT, "a"), &out);
	ev = gt_ev(HUB_EV_ERROR, "slow \\\"down\\\"");
	ev.status = 429;
	gt_put(&e, ev, &out);
	gt_put(&e, gt_ev(HUB_EV_TEXT, "ignored"), &out);
	gt_put(&e, gt_ev(HUB_EV_DONE, NULL), &out);
	CHECK_SPAN(out.p, out.len, want);
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(gemini_encode_event_non_stream_answer)
{
	static const char *const frags[] = {"{\\\"a\\\":", "1}", NULL};
	static const char *const none[] = {NULL};
	struct hub_enc e;
	struct buf out;
	struct json j;

	gt_enc_init(&e, 0, 0);
	buf_init(&out, 1 << 16);
	gt_start(&e, "r9", "gemini-2.5-flash", &out);
	gt_put(&e, gt_ev(HUB_EV_THINKING, "th"), &out);
	gt_put(&e, gt_ev(HUB_EV_THINKING, "ink"), &out);
	gt_put(&e, gt_ev(HUB_EV_THINKING_SIG, "TS"), &out);
	gt_put(&e, gt_ev(HUB_EV_TEXT, "Hel"), &out);
	gt_put(&e, gt_ev(HUB_EV_TEXT, "lo"), &out);
	gt_put(&e, gt_ev(HUB_EV_THINKING_SIG, "S2"), &out);
	gt_tool(&e, 0, "c1", "f", frags, &out);
	gt_tool(&e, 1, NULL, "g", none, &out);
	gt_usage(&e, 5, 6, -1, -1, &out);
	CHECK_EQ_INT(out.len, 0);
	gt_put(&e, gt_ev(HUB_EV_DONE, NULL), &out);
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	CHECK_PATH(&j, "candidates.0.content.role", "model");
	CHECK_PATH(&j, "candidates.0.content.parts.0.text", "think");
	CHECK_PATH(&j, "candidates.0.content.parts.0.thought", "true");
	CHECK_PATH(&j, "candidates.0.content.parts.0.thoughtSignature", "TS");
	CHECK_PATH(&j, "candidates.0.content.parts.1.text", "Hello");
	/* a signature after answer text belongs to the next part (here the
	 * call), as the decoder emits Gemini's part-level signatures */
	CHECK_PATH(&j, "candidates.0.content.parts.2.thoughtSignature", "S2");
	CHECK_PATH(&j, "candidates.0.content.parts.2.functionCall.name", "f");
	CHECK_PATH(&j, "candidates.0.content.parts.2.functionCall.id", "c1");
	CHECK_PATH(&j, "candidates.0.content.parts.2.functionCall.args",
		   "{\"a\":1}");
	CHECK_PATH(&j, "candidates.0.content.parts.3.functionCall.args", "{}");
	CHECK(gt_path(&j, "candidates.0.content.parts.3.functionCall.id") < 0);
	CHECK(gt_path(&j, "candidates.0.content.parts.4") < 0);
	CHECK_PATH(&j, "candidates.0.finishReason", "STOP");
	CHECK_PATH(&j, "usageMetadata.promptTokenCount", "5");
	CHECK_PATH(&j, "usageMetadata.candidatesTokenCount", "6");
	CHECK_PATH(&j, "usageMetadata.totalTokenCount", "11");
	CHECK_PATH(&j, "modelVersion", "gemini-2.5-flash");
	CHECK_PATH(&j, "responseId", "r9");
	json_free(&j);
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(gemini_encode_event_non_stream_cli_and_error)
{
	struct hub_enc e;
	struct buf out;
	struct json j;
	struct hub_event ev;

	gt_enc_init(&e, 0, 1);
	buf_init(&out, 1 << 16);
	gt_put(&e, gt_ev(HUB_EV_TEXT, "x"), &out);
	gt_finish(&e, HUB_FIN_FILTER, &out);
	gt_put(&e, gt_ev(HUB_EV_DONE, NULL), &out);
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	CHECK_PATH(&j, "response.candidates.0.content.parts.0.text", "x");
	CHECK_PATH(&j, "response.candidates.0.finishReason", "SAFETY");
	CHECK(gt_path(&j, "response.usageMetadata") < 0);
	json_free(&j);
	buf_free(&out);
	hub_enc_free(&e);

	gt_enc_init(&e, 0, 0);
	buf_init(&out, 1 << 16);
	gt_put(&e, gt_ev(HUB_EV_TEXT, "partial"), &out);
	ev = gt_ev(HUB_EV_ERROR, "upstream died");
	ev.status = 503;
	gt_put(&e, ev, &out);
	gt_put(&e, gt_ev(HUB_EV_DONE, NULL), &out);
	CHECK_SPAN(out.p, out.len,
		   "{\"error\":{\"code\":503,\"message\":\"upstream died\","
		   "\"status\":\"UNAVAILABLE\"}}");
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(gemini_render_error_statuses)
{
	static const struct {
		int status;
		const char *name;
	} cases[] = {
		{400, "INVALID_ARGUMENT"}, {401, "UNAUTHENTICATED"},
		{403, "PERMISSION_DENIED"}, {404, "NOT_FOUND"},
		{429, "RESOURCE_EXHAUSTED"}, {500, "INTERNAL"},
		{503, "UNAVAILABLE"}, {504, "DEADLINE_EXCEEDED"},
	};
	struct buf out;
	char want[256];
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(cases); i++) {
		buf_init(&out, 4096);
		hub_gemini.render_error(&out, cases[i].status, "bad \"x\"\n");
		snprintf(want, sizeof(want),
			 "{\"error\":{\"code\":%d,\"message\":\"bad \\\"x\\\"\\n\","
			 "\"status\":\"%s\"}}", cases[i].status, cases[i].name);
		CHECK_SPAN(out.p, out.len, want);
		buf_free(&out);
	}
}

/* Gemini upstream -> Gemini client through the hub events: decoding then
 * re-encoding keeps the text part's and the call's signatures where they
 * were. */
struct gt_pipe {
	struct hub_enc *e;
	struct buf *out;
};

static void gt_pipe_emit(void *user, const struct hub_event *ev)
{
	struct gt_pipe *pp = user;
	hub_gemini.encode_event(pp->e, ev, pp->out);
}

TEST(gemini_decode_then_encode_keeps_signatures)
{
	static const char body[] =
		"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"ok\","
		"\"thoughtSignature\":\"S1\"},{\"functionCall\":{"
		"\"name\":\"f\",\"args\":{\"k\":\"v\"}},\"thoughtSignature\":\"SG\"}]},"
		"\"finishReason\":\"STOP\"}],\"responseId\":\"r\"}";
	static const char want[] =
		"{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":["
		"{\"text\":\"ok\",\"thoughtSignature\":\"S1\"},"
		"{\"thoughtSignature\":\"SG\",\"functionCall\":{\"name\":\"f\","
		"\"id\":\"f-%.8s\",\"args\":{\"k\":\"v\"}}}]},"
		"\"finishReason\":\"STOP\",\"index\":0}],"
		"\"modelVersion\":\"gemini-2.5-pro\",\"responseId\":\"r\"}";
	struct hub_sdec d;
	struct hub_enc e;
	struct buf out;
	struct hub_event done = gt_ev(HUB_EV_DONE, NULL);
	struct gt_pipe pp;
	char id[64], expect[512];
	char *g = t_guarded_copy(body, strlen(body));

	hub_gen_id(id, sizeof(id), "", 1, 0);
	snprintf(expect, sizeof(expect), want, id);
	hub_sdec_init(&d, HUB_GEMINI, 1);
	gt_enc_init(&e, 0, 0);
	buf_init(&out, 1 << 16);
	pp.e = &e;
	pp.out = &out;
	CHECK_EQ_INT(hub_gemini.decode_body(&d, g, strlen(body), gt_pipe_emit,
					    &pp), 0);
	hub_gemini.encode_event(&e, &done, &out);
	CHECK_SPAN(out.p, out.len, expect);
	t_guarded_free(g);
	hub_enc_free(&e);
	hub_sdec_free(&d);
	buf_free(&out);
}

TEST(gemini_encode_request_clamps_budget_and_keeps_include_off)
{
	struct hub_view v;
	struct buf out;
	char err[128];

	hub_view_init(&v, NULL);
	hub_add_msg(&v, HUB_USER);
	gt_part(&v, HUB_P_TEXT)->text = gt_s("q");
	v.msgs[0].n = 1;
	v.thinking = 1;
	v.thinking_budget = 40000;
	v.include_thoughts = 0;
	v.top_k = gt_s("5");
	v.top_p = gt_s("1");
	REQUIRE(gt_encode(&v, 0, &out, err, sizeof(err)) == 0);
	CHECK_HAS(&out, "\"generationConfig\":{\"topP\":1,\"topK\":5,"
			"\"thinkingConfig\":{\"thinkingBudget\":24576,"
			"\"includeThoughts\":false}}");
	CHECK_HASNT(&out, "toolConfig");
	buf_free(&out);
	hub_view_free(&v);
}

/* Every prefix of a valid answer is either rejected or decoded without
 * touching memory outside the input (guarded copies, ASan). */
TEST(gemini_decoders_survive_truncated_input)
{
	static const char body[] =
		"{\"response\":{\"candidates\":[{\"content\":{\"parts\":[{\"text\":"
		"\"hi\",\"thought\":true,\"thoughtSignature\":\"S\"},{\"functionCall\":"
		"{\"name\":\"f\",\"args\":{\"a\":[1,{\"b\":null}]}}}]},\"finishReason\":"
		"\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":1}}}";
	size_t n;

	for (n = 0; n <= strlen(body); n++) {
		struct hub_sdec d;
		struct hub_sse ev;
		struct buf log;
		char *g = t_guarded_copy(body, n);
		int rc;

		buf_init(&log, 1 << 16);
		hub_sdec_init(&d, HUB_GEMINI, 3);
		rc = hub_gemini.decode_body(&d, g, n, gt_rec, &log);
		CHECK(rc == (n == strlen(body) ? 0 : -1));
		hub_sdec_free(&d);
		hub_sdec_init(&d, HUB_GEMINI, 3);
		ev.event.p = NULL;
		ev.event.n = 0;
		ev.data.p = g;
		ev.data.n = n;
		hub_gemini.decode_event(&d, &ev, gt_rec, &log);
		hub_sdec_free(&d);
		buf_free(&log);
		t_guarded_free(g);
	}
}

/* Requests whose values have the wrong JSON types are rejected or
 * ignored, never crash: each scalar in turn becomes an object, an array
 * and a number. */
TEST(gemini_decode_request_survives_type_swaps)
{
	static const char body[] =
		"{\"systemInstruction\":{\"parts\":[{\"text\":\"s\"}]},\"contents\":"
		"[{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"f\","
		"\"args\":{\"a\":1}},\"thoughtSignature\":\"x\"}]},{\"role\":\"user\","
		"\"parts\":[{\"functionResponse\":{\"name\":\"f\",\"response\":{}}},"
		"{\"inlineData\":{\"mimeType\":\"m\",\"data\":\"d\"}}]}],\"tools\":"
		"[{\"functionDeclarations\":[{\"name\":\"f\",\"parameters\":{}}]}],"
		"\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"ANY\","
		"\"allowedFunctionNames\":[\"f\"]}},\"generationConfig\":{"
		"\"maxOutputTokens\":5,\"stopSequences\":[\"a\"],\"thinkingConfig\":"
		"{\"thinkingBudget\":1,\"thinkingLevel\":\"low\"}}}";
	static const char *const subs[] = {"{}", "[]", "7", "\"s\""};
	struct json j;
	int t;
	size_t k;

	REQUIRE(json_parse(&j, body, strlen(body)) == 0);
	for (t = 1; t < j.ntok; t++) {
		for (k = 0; k < T_ARRAY_LEN(subs); k++) {
			char mut[2048];
			struct gt_req r;
			struct buf out;
			char err[128];
			int s0 = j.tok[t].start, e0 = j.tok[t].end;
			if (j.tok[t].type == JSMN_STRING) {
				s0--;
				e0++;
			}
			snprintf(mut, sizeof(mut), "%.*s%s%s", s0, body, subs[k],
				 body + e0);
			if (gt_decode(&r, mut) == 0) {
				CHECK(gt_encode(&r.v, 0, &out, err,
						sizeof(err)) == 0);
				CHECK(json_validate(out.p, out.len) == 0);
				buf_free(&out);
			} else {
				CHECK(r.rc == -2 || r.err[0]);
			}
			if (r.rc != -2)
				gt_req_free(&r);
		}
	}
	json_free(&j);
}
