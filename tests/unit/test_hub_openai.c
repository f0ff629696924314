/*
 * test_hub_openai.c - the OpenAI chat completions codec
 * (src/hub_openai_client.c, src/hub_openai_upstream.c) against the
 * contract in hub.h: client request -> view, view -> upstream body,
 * upstream SSE chunks / whole bodies -> events, events -> client bytes,
 * and error bodies.
 *
 * Events are recorded as one text line each ("TEXT hello", "TOOL_START 0
 * call_1 get_weather", ...) so a whole sequence is checked with one string
 * comparison.  Inputs are handed over in guarded copies where the code
 * reads them directly.
 */
#define _POSIX_C_SOURCE 200809L
#include "t.h"
#include "hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * Helpers
 * ====================================================================== */

#define SP(s) (int)(s).n, (s).p ? (s).p : ""

struct oa_req {
	char *body; /* guarded copy */
	size_t len;
	struct json j;
	struct hub_view v;
	char err[256];
	int rc;
};

/* Parse and decode a client body; rc is decode_request's result (or -9
 * when the body is not even JSON). */
static void oa_req_load(struct oa_req *r, const char *js)
{
	memset(r, 0, sizeof(*r));
	r->len = strlen(js);
	r->body = t_guarded_copy(js, r->len);
	if (json_parse(&r->j, r->body, r->len) != 0) {
		r->rc = -9;
		hub_view_init(&r->v, &r->j);
		return;
	}
	hub_view_init(&r->v, &r->j);
	r->rc = hub_openai.decode_request(&r->j, &r->v, r->err,
					  sizeof(r->err));
}

static void oa_req_free(struct oa_req *r)
{
	hub_view_free(&r->v);
	json_free(&r->j);
	t_guarded_free(r->body);
}

/* encode_request into out (NUL-terminated); returns its rc. */
static int oa_encode_with(const struct hub_view *v,
			  const struct hub_req_opts *o, struct buf *out)
{
	char err[128] = "";
	int rc;

	buf_init(out, 1 << 20);
	rc = hub_openai.encode_request(v, o, out, err, sizeof(err));
	buf_putc(out, '\0');
	out->len--;
	return rc;
}

static int oa_encode(const struct hub_view *v, int stream, struct buf *out)
{
	struct hub_req_opts o;

	memset(&o, 0, sizeof(o));
	o.model = "up-model";
	o.stream = stream;
	return oa_encode_with(v, &o, out);
}

static const struct hub_part *oa_part(const struct hub_view *v, size_t m,
				      size_t k)
{
	return &v->parts[v->msgs[m].first + k];
}

/* Event recorder: one line per event. */
static void oa_rec(void *user, const struct hub_event *ev)
{
	struct buf *b = user;
	static const char *const fin[] = {"stop", "length", "tool", "filter",
					  "error"};

	switch (ev->type) {
	case HUB_EV_START:
		buf_printf(b, "START %.*s %.*s\n", SP(ev->id), SP(ev->model));
		break;
	case HUB_EV_TEXT:
		buf_printf(b, "TEXT %.*s\n", SP(ev->text));
		break;
	case HUB_EV_THINKING:
		buf_printf(b, "THINK %.*s\n", SP(ev->text));
		break;
	case HUB_EV_THINKING_SIG:
		buf_printf(b, "SIG %.*s\n", SP(ev->text));
		break;
	case HUB_EV_TOOL_START:
		buf_printf(b, "TOOL_START %d %.*s %.*s\n", ev->index, SP(ev->id),
			   SP(ev->name));
		break;
	case HUB_EV_TOOL_ARGS:
		buf_printf(b, "ARGS %d %.*s\n", ev->index, SP(ev->text));
		break;
	case HUB_EV_TOOL_END:
		buf_printf(b, "TOOL_END %d\n", ev->index);
		break;
	case HUB_EV_USAGE:
		buf_printf(b, "USAGE %ld %ld %ld %ld\n", ev->usage.input,
			   ev->usage.output, ev->usage.cached,
			   ev->usage.thoughts);
		break;
	case HUB_EV_FINISH:
		buf_printf(b, "FINISH %s\n", fin[ev->finish]);
		break;
	case HUB_EV_ERROR:
		buf_printf(b, "ERROR %d %.*s\n", ev->status, SP(ev->text));
		break;
	case HUB_EV_DONE:
		buf_puts(b, "DONE\n");
		break;
	}
}

/* Feed SSE data payloads (NULL-terminated list) to decode_event; the
 * recorded events end up NUL-terminated in rec. */
static void oa_feed(struct hub_sdec *d, const char *const *datas,
		    struct buf *rec)
{
	size_t i;
	for (i = 0; datas[i]; i++) {
		size_t n = strlen(datas[i]);
		char *g = t_guarded_copy(datas[i], n);
		struct hub_sse ev = {{NULL, 0}, {g, n}};
		hub_openai.decode_event(d, &ev, oa_rec, rec);
		t_guarded_free(g);
	}
	buf_putc(rec, '\0');
	rec->len--;
}

static void oa_decode_all(const char *const *datas, struct buf *rec,
			  struct hub_sdec *d)
{
	hub_sdec_init(d, HUB_OPENAI, 7);
	buf_init(rec, 1 << 20);
	oa_feed(d, datas, rec);
}

/* ---- building events for the encoder ---- */

static struct hub_span oa_s(const char *s)
{
	struct hub_span sp = {s, s ? strlen(s) : 0};
	return sp;
}

static struct hub_event oa_ev(enum hub_ev_type t)
{
	struct hub_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = t;
	ev.usage.input = ev.usage.output = ev.usage.cached = -1;
	ev.usage.cache_write = ev.usage.thoughts = -1;
	return ev;
}

static void oa_put(struct hub_enc *e, struct buf *out, struct hub_event ev)
{
	hub_openai.encode_event(e, &ev, out);
}

static void oa_put_text(struct hub_enc *e, struct buf *out,
		       enum hub_ev_type t, int index, const char *s)
{
	struct hub_event ev = oa_ev(t);
	ev.index = index;
	ev.text = oa_s(s);
	oa_put(e, out, ev);
}

static void oa_put_tool(struct hub_enc *e, struct buf *out, int index,
			const char *id, const char *name)
{
	struct hub_event ev = oa_ev(HUB_EV_TOOL_START);
	ev.index = index;
	ev.id = oa_s(id);
	ev.name = oa_s(name);
	oa_put(e, out, ev);
}

static void oa_put_start(struct hub_enc *e, struct buf *out, const char *id,
			 const char *model)
{
	struct hub_event ev = oa_ev(HUB_EV_START);
	ev.id = oa_s(id);
	ev.model = oa_s(model);
	oa_put(e, out, ev);
}

static void oa_put_finish(struct hub_enc *e, struct buf *out,
			  enum hub_finish f)
{
	struct hub_event ev = oa_ev(HUB_EV_FINISH);
	ev.finish = f;
	oa_put(e, out, ev);
}

static void oa_put_usage(struct hub_enc *e, struct buf *out, long in,
			 long o, long cached, long thoughts)
{
	struct hub_event ev = oa_ev(HUB_EV_USAGE);
	ev.usage.input = in;
	ev.usage.output = o;
	ev.usage.cached = cached;
	ev.usage.thoughts = thoughts;
	oa_put(e, out, ev);
}

static void oa_enc_init(struct hub_enc *e, struct buf *out, int stream)
{
	struct hub_enc_opts o;
	memset(&o, 0, sizeof(o));
	o.stream = stream;
	o.model = "client-model";
	o.created = 1700000000;
	o.seed = 42;
	hub_enc_init(e, HUB_OPENAI, &o);
	buf_init(out, 1 << 20);
}

static void oa_cstr(struct buf *b)
{
	buf_putc(b, '\0');
	b->len--;
}

/* Token at a path like "choices.0.message.content" (numbers index
 * arrays), or -1. */
static int oa_path(const struct json *j, const char *path)
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
			int k = atoi(key), e = t + 1, i;
			if (k >= j->tok[t].size)
				return -1;
			for (i = 0; i < k; i++)
				e = json_skip(j, e);
			t = e;
		} else {
			t = json_get(j, t, key);
		}
	}
	return t;
}

#define CHECK_PATH(j, path, lit)                                              \
	do {                                                                  \
		int t_ = oa_path((j), (path));                                \
		if (CHECK(t_ >= 0))                                           \
			CHECK_SPAN(json_ptr((j), t_), json_len((j), t_), lit); \
	} while (0)

/* ======================================================================
 * decode_request
 * ====================================================================== */

TEST(openai_request_params_and_system)
{
	struct oa_req r;
	const struct hub_view *v = &r.v;

	oa_req_load(&r,
		    "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":["
		    "{\"role\":\"system\",\"content\":\"Be brief.\"},"
		    "{\"role\":\"developer\",\"content\":[{\"type\":\"text\","
		    "\"text\":\"Use \\\"metric\\\" units.\"}]},"
		    "{\"role\":\"user\",\"content\":\"Hi\"}],"
		    "\"temperature\":0.2,\"top_p\":1,\"top_k\":40,"
		    "\"max_completion_tokens\":512,\"max_tokens\":9,"
		    "\"stop\":\"END\",\"user\":\"u-1\",\"parallel_tool_calls\":"
		    "false,\"response_format\":{\"type\":\"json_object\"},"
		    "\"reasoning_effort\":\"high\",\"stream_options\":"
		    "{\"include_usage\":true},\"n\":1,\"seed\":3}");
	REQUIRE(r.rc == 0);
	CHECK_SPAN(v->model.p, v->model.n, "gpt-4o");
	CHECK_EQ_INT(v->stream, 1);
	CHECK_EQ_INT(v->sys_n, 2);
	CHECK_SPAN(v->parts[v->sys_first].text.p, v->parts[v->sys_first].text.n,
		   "Be brief.");
	CHECK_SPAN(v->parts[v->sys_first + 1].text.p,
		   v->parts[v->sys_first + 1].text.n,
		   "Use \\\"metric\\\" units.");
	REQUIRE(v->nmsgs == 1);
	CHECK_EQ_INT(v->msgs[0].role, HUB_USER);
	CHECK_EQ_INT(v->msgs[0].n, 1);
	CHECK_SPAN(oa_part(v, 0, 0)->text.p, oa_part(v, 0, 0)->text.n, "Hi");
	CHECK_SPAN(v->temperature.p, v->temperature.n, "0.2");
	CHECK_SPAN(v->top_p.p, v->top_p.n, "1");
	CHECK_SPAN(v->top_k.p, v->top_k.n, "40");
	CHECK_EQ_INT(v->max_tokens, 512);
	CHECK_EQ_INT(v->nstop, 1);
	CHECK_SPAN(v->stop[0].p, v->stop[0].n, "END");
	CHECK_SPAN(v->user.p, v->user.n, "u-1");
	CHECK_EQ_INT(v->parallel_tool_calls, 0);
	CHECK_SPAN(v->response_format.p, v->response_format.n,
		   "{\"type\":\"json_object\"}");
	CHECK_EQ_INT(v->effort, HUB_EFFORT_HIGH);
	CHECK_EQ_INT(v->thinking, 1);
	CHECK_EQ_INT(v->include_thoughts, 1);
	CHECK_EQ_INT(v->thinking_budget, HUB_BUDGET_UNSET);
	oa_req_free(&r);
}

TEST(openai_request_defaults_stay_unset)
{
	struct oa_req r;
	oa_req_load(&r, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
			"\"content\":\"x\"}],\"temperature\":null}");
	REQUIRE(r.rc == 0);
	CHECK_EQ_INT(r.v.stream, 0);
	CHECK_EQ_INT(r.v.sys_n, 0);
	CHECK_EQ_INT(r.v.max_tokens, -1);
	CHECK(!HUB_SPAN_SET(r.v.temperature));
	CHECK_EQ_INT(r.v.thinking, -1);
	CHECK_EQ_INT(r.v.effort, HUB_EFFORT_UNSET);
	CHECK_EQ_INT(r.v.tool_choice, HUB_TC_UNSET);
	CHECK_EQ_INT(r.v.parallel_tool_calls, -1);
	CHECK_EQ_INT(r.v.nstop, 0);
	oa_req_free(&r);
}

TEST(openai_request_reasoning_none_and_openrouter_object)
{
	struct oa_req r;
	oa_req_load(&r, "{\"messages\":[],\"reasoning_effort\":\"none\"}");
	REQUIRE(r.rc == 0);
	CHECK_EQ_INT(r.v.effort, HUB_EFFORT_NONE);
	CHECK_EQ_INT(r.v.thinking, 0);
	oa_req_free(&r);

	oa_req_load(&r, "{\"messages\":[],\"reasoning\":{\"max_tokens\":"
			"2000,\"exclude\":true}}");
	REQUIRE(r.rc == 0);
	CHECK_EQ_INT(r.v.thinking_budget, 2000);
	CHECK_EQ_INT(r.v.thinking, 1);
	CHECK_EQ_INT(r.v.include_thoughts, 0);
	oa_req_free(&r);
}

TEST(openai_request_later_system_becomes_user_text)
{
	struct oa_req r;
	oa_req_load(&r, "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
			"{\"role\":\"system\",\"content\":\"note\"},"
			"{\"role\":\"user\",\"content\":\"b\"}]}");
	REQUIRE(r.rc == 0);
	CHECK_EQ_INT(r.v.sys_n, 0);
	REQUIRE(r.v.nmsgs == 3);
	CHECK_EQ_INT(r.v.msgs[1].role, HUB_USER);
	CHECK_SPAN(oa_part(&r.v, 1, 0)->text.p, oa_part(&r.v, 1, 0)->text.n,
		   "note");
	oa_req_free(&r);
}

TEST(openai_request_user_parts_images_files)
{
	struct oa_req r;
	const struct hub_part *p;

	oa_req_load(&r,
		    "{\"messages\":[{\"role\":\"user\",\"content\":["
		    "{\"type\":\"text\",\"text\":\"What is this?\"},"
		    "{\"type\":\"image_url\",\"image_url\":{\"url\":"
		    "\"data:image/png;base64,iVBORw0KGgo=\",\"detail\":\"low\"}},"
		    "{\"type\":\"image_url\",\"image_url\":{\"url\":"
		    "\"https://example.com/cat.jpg\"}},"
		    "{\"type\":\"image_url\",\"image_url\":\"https://x.y/z.png\"},"
		    "{\"type\":\"file\",\"file\":{\"filename\":\"a.pdf\","
		    "\"file_data\":\"JVBERi0=\"}},"
		    "{\"type\":\"text\",\"text\":\"\"},"
		    "{\"type\":\"video_thing\",\"x\":1}]}]}");
	REQUIRE(r.rc == 0);
	REQUIRE(r.v.nmsgs == 1);
	REQUIRE(r.v.msgs[0].n == 5); /* empty text and unknown type dropped */
	p = oa_part(&r.v, 0, 1);
	CHECK_EQ_INT(p->type, HUB_P_IMAGE);
	CHECK_SPAN(p->mime.p, p->mime.n, "image/png");
	CHECK_SPAN(p->data.p, p->data.n, "iVBORw0KGgo=");
	CHECK(!HUB_SPAN_SET(p->url));
	p = oa_part(&r.v, 0, 2);
	CHECK_SPAN(p->url.p, p->url.n, "https://example.com/cat.jpg");
	CHECK(!HUB_SPAN_SET(p->data));
	p = oa_part(&r.v, 0, 3);
	CHECK_SPAN(p->url.p, p->url.n, "https://x.y/z.png");
	p = oa_part(&r.v, 0, 4);
	CHECK_EQ_INT(p->type, HUB_P_IMAGE);
	CHECK_SPAN(p->mime.p, p->mime.n, "application/pdf");
	CHECK_SPAN(p->data.p, p->data.n, "JVBERi0=");
	oa_req_free(&r);
}

TEST(openai_request_assistant_tool_calls_and_results)
{
	struct oa_req r;
	const struct hub_part *p;

	oa_req_load(&r,
		    "{\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"},"
		    "{\"role\":\"assistant\",\"content\":null,"
		    "\"reasoning_content\":\"Need tools.\",\"tool_calls\":["
		    "{\"id\":\"call_A\",\"type\":\"function\",\"function\":"
		    "{\"name\":\"get_weather\",\"arguments\":"
		    "\"{\\\"city\\\":\\\"Paris\\\"}\"}},"
		    "{\"id\":\"call_B\",\"type\":\"function\",\"function\":"
		    "{\"name\":\"get_time\",\"arguments\":\"\"}}]},"
		    "{\"role\":\"tool\",\"tool_call_id\":\"call_A\","
		    "\"content\":\"18C\"},"
		    "{\"role\":\"tool\",\"tool_call_id\":\"call_B\",\"content\":"
		    "[{\"type\":\"text\",\"text\":\"noon\"}]},"
		    "{\"role\":\"tool\",\"tool_call_id\":\"call_X\",\"content\":"
		    "[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\","
		    "\"text\":\"b\"}]},"
		    "{\"role\":\"user\",\"content\":\"thanks\"}]}");
	REQUIRE(r.rc == 0);
	REQUIRE(r.v.nmsgs == 4);
	CHECK_EQ_INT(r.v.msgs[1].role, HUB_ASSISTANT);
	REQUIRE(r.v.msgs[1].n == 3);
	p = oa_part(&r.v, 1, 0);
	CHECK_EQ_INT(p->type, HUB_P_THINKING);
	CHECK_SPAN(p->text.p, p->text.n, "Need tools.");
	CHECK(!HUB_SPAN_SET(p->signature));
	p = oa_part(&r.v, 1, 1);
	CHECK_EQ_INT(p->type, HUB_P_TOOL_CALL);
	CHECK_SPAN(p->id.p, p->id.n, "call_A");
	CHECK_SPAN(p->name.p, p->name.n, "get_weather");
	CHECK_SPAN(p->args.p, p->args.n, "{\\\"city\\\":\\\"Paris\\\"}");
	CHECK_EQ_INT(p->args_is_str, 1);
	p = oa_part(&r.v, 1, 2);
	CHECK_SPAN(p->args.p, p->args.n, "{}"); /* empty arguments */
	/* the three tool messages merge into one user message */
	CHECK_EQ_INT(r.v.msgs[2].role, HUB_USER);
	REQUIRE(r.v.msgs[2].n == 3);
	p = oa_part(&r.v, 2, 0);
	CHECK_EQ_INT(p->type, HUB_P_TOOL_RESULT);
	CHECK_SPAN(p->id.p, p->id.n, "call_A");
	CHECK_SPAN(p->name.p, p->name.n, "get_weather");
	CHECK_SPAN(p->result.p, p->result.n, "18C");
	CHECK_EQ_INT(p->result_is_str, 1);
	p = oa_part(&r.v, 2, 1);
	CHECK_SPAN(p->name.p, p->name.n, "get_time");
	CHECK_SPAN(p->result.p, p->result.n, "noon");
	CHECK_EQ_INT(p->result_is_str, 1);
	p = oa_part(&r.v, 2, 2);
	CHECK(!HUB_SPAN_SET(p->name)); /* no matching call */
	CHECK_EQ_INT(p->result_is_str, 0);
	CHECK_SPAN(p->result.p, p->result.n,
		   "[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\","
		   "\"text\":\"b\"}]");
	CHECK_EQ_INT(r.v.msgs[3].role, HUB_USER);
	oa_req_free(&r);
}

TEST(openai_request_empty_assistant_removed)
{
	struct oa_req r;
	oa_req_load(&r, "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
			"{\"role\":\"assistant\",\"content\":\"\"},"
			"{\"role\":\"user\",\"content\":\"b\"}]}");
	REQUIRE(r.rc == 0);
	REQUIRE(r.v.nmsgs == 2);
	CHECK_SPAN(oa_part(&r.v, 1, 0)->text.p, oa_part(&r.v, 1, 0)->text.n,
		   "b");
	oa_req_free(&r);
}

TEST(openai_request_tools_and_choice)
{
	static const char *const choices[][2] = {
		{"\"auto\"", "1"}, {"\"none\"", "2"}, {"\"required\"", "3"},
	};
	struct oa_req r;
	char js[512];
	size_t i;
	int t;

	oa_req_load(&r,
		    "{\"messages\":[],\"tools\":[{\"type\":\"function\","
		    "\"function\":{\"name\":\"get_weather\",\"description\":"
		    "\"Weather\",\"parameters\":{\"type\":\"object\","
		    "\"properties\":{\"city\":{\"type\":\"string\"}}},"
		    "\"strict\":true}},{\"type\":\"web_search\"},"
		    "{\"type\":\"function\",\"function\":{\"name\":\"noargs\"}}],"
		    "\"tool_choice\":{\"type\":\"function\",\"function\":"
		    "{\"name\":\"get_weather\"}}}");
	REQUIRE(r.rc == 0);
	REQUIRE(r.v.ntools == 2);
	CHECK_SPAN(r.v.tools[0].name.p, r.v.tools[0].name.n, "get_weather");
	CHECK_SPAN(r.v.tools[0].description.p, r.v.tools[0].description.n,
		   "Weather");
	CHECK_SPAN(r.v.tools[0].schema.p, r.v.tools[0].schema.n,
		   "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":"
		   "\"string\"}}}");
	t = r.v.tools[0].schema_tok;
	REQUIRE(t > 0);
	CHECK(r.j.tok[t].type == JSMN_OBJECT);
	CHECK(json_get(&r.j, t, "properties") > 0);
	CHECK(!HUB_SPAN_SET(r.v.tools[1].schema));
	CHECK_EQ_INT(r.v.tools[1].schema_tok, -1);
	CHECK_EQ_INT(r.v.tool_choice, HUB_TC_TOOL);
	CHECK_SPAN(r.v.tool_choice_name.p, r.v.tool_choice_name.n,
		   "get_weather");
	oa_req_free(&r);

	for (i = 0; i < T_ARRAY_LEN(choices); i++) {
		snprintf(js, sizeof(js),
			 "{\"messages\":[],\"tool_choice\":%s}", choices[i][0]);
		oa_req_load(&r, js);
		CHECK_EQ_INT(r.rc, 0);
		CHECK_EQ_INT(r.v.tool_choice, atoi(choices[i][1]));
		oa_req_free(&r);
	}
}

TEST(openai_request_stop_array_capped)
{
	struct oa_req r;
	oa_req_load(&r, "{\"messages\":[],\"stop\":[\"a\",\"b\",\"c\",\"d\","
			"\"e\",\"f\",\"g\",\"h\",\"i\",\"j\"]}");
	REQUIRE(r.rc == 0);
	CHECK_EQ_INT(r.v.nstop, 8);
	CHECK_SPAN(r.v.stop[7].p, r.v.stop[7].n, "h");
	oa_req_free(&r);
}

TEST(openai_request_malformed_shapes_rejected)
{
	static const char *const bad[] = {
		"[]",
		"{\"model\":\"m\"}",
		"{\"messages\":{}}",
		"{\"messages\":[1]}",
		"{\"messages\":[{\"content\":\"x\"}]}",
		"{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}",
		"{\"messages\":[{\"role\":\"user\",\"content\":5}]}",
		"{\"messages\":[{\"role\":\"user\",\"content\":[\"x\"]}]}",
		"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
		"\"text\"}]}]}",
		"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
		"\"image_url\",\"image_url\":{}}]}]}",
		"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
		"\"image_url\",\"image_url\":{\"url\":\"data:image/png,abc\"}}"
		"]}]}",
		"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
		"\"file\",\"file\":{\"file_id\":\"f1\"}}]}]}",
		"{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}",
		"{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{"
		"\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}]}",
		"{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":{}}]}",
		"{\"messages\":[],\"tools\":[{\"type\":\"function\","
		"\"function\":{}}]}",
		"{\"messages\":[],\"tools\":{}}",
		"{\"messages\":[],\"tool_choice\":\"sometimes\"}",
		"{\"messages\":[],\"max_tokens\":\"many\"}",
		"{\"messages\":[],\"max_tokens\":-5}",
		"{\"messages\":[],\"temperature\":\"hot\"}",
		"{\"messages\":[],\"stop\":[1]}",
		"{\"messages\":[],\"reasoning_effort\":\"extreme\"}",
		"{\"messages\":[],\"model\":7}",
	};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(bad); i++) {
		struct oa_req r;
		oa_req_load(&r, bad[i]);
		if (r.rc != -1)
			FAILF("rc %d for %s", r.rc, bad[i]);
		else if (!r.err[0])
			FAILF("no message for %s", bad[i]);
		oa_req_free(&r);
	}
}

TEST(openai_request_error_message_names_the_message)
{
	struct oa_req r;
	oa_req_load(&r, "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
			"{\"role\":\"tool\",\"content\":\"x\"}]}");
	CHECK_EQ_INT(r.rc, -1);
	CHECK(strstr(r.err, "messages[1]") != NULL);
	CHECK(strstr(r.err, "tool_call_id") != NULL);
	oa_req_free(&r);
}

/* ======================================================================
 * encode_request
 * ====================================================================== */

TEST(openai_encode_request_exact_body)
{
	struct oa_req r;
	struct buf out;

	oa_req_load(&r,
		    "{\"model\":\"gpt-4o\",\"messages\":["
		    "{\"role\":\"system\",\"content\":\"S1\"},"
		    "{\"role\":\"system\",\"content\":\"S2\"},"
		    "{\"role\":\"user\",\"content\":\"Hi \\u00e9\"},"
		    "{\"role\":\"assistant\",\"content\":\"Let me check.\","
		    "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
		    "\"function\":{\"name\":\"f\",\"arguments\":"
		    "\"{\\\"a\\\":1}\"}}]},"
		    "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":"
		    "\"ok\"},{\"role\":\"user\",\"content\":\"next\"}],"
		    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
		    "\"f\",\"parameters\":{\"type\":\"object\"}}}],"
		    "\"tool_choice\":\"required\",\"parallel_tool_calls\":true,"
		    "\"max_tokens\":100,\"temperature\":0.5,\"stop\":[\"x\"],"
		    "\"reasoning_effort\":\"low\",\"user\":\"me\"}");
	REQUIRE(r.rc == 0);
	REQUIRE(oa_encode(&r.v, 1, &out) == 0);
	CHECK_EQ_STR(out.p,
		     "{\"model\":\"up-model\",\"messages\":["
		     "{\"role\":\"system\",\"content\":\"S1\\nS2\"},"
		     "{\"role\":\"user\",\"content\":\"Hi \\u00e9\"},"
		     "{\"role\":\"assistant\",\"content\":\"Let me check.\","
		     "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
		     "\"function\":{\"name\":\"f\",\"arguments\":"
		     "\"{\\\"a\\\":1}\"}}]},"
		     "{\"role\":\"tool\",\"tool_call_id\":\"call_1\","
		     "\"content\":\"ok\"},"
		     "{\"role\":\"user\",\"content\":\"next\"}],"
		     "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
		     "\"f\",\"parameters\":{\"type\":\"object\"}}}],"
		     "\"tool_choice\":\"required\",\"parallel_tool_calls\":true,"
		     "\"max_tokens\":100,\"temperature\":0.5,\"stop\":[\"x\"],"
		     "\"reasoning_effort\":\"low\",\"user\":\"me\","
		     "\"stream\":true,\"stream_options\":{\"include_usage\":"
		     "true}}");
	buf_free(&out);
	oa_req_free(&r);
}

TEST(openai_encode_request_round_trip_preserves_content)
{
	static const char js[] =
		"{\"model\":\"m\",\"messages\":["
		"{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
		"\"look\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
		"\"data:image/jpeg;base64,/9j/4AAQ\"}},{\"type\":\"image_url\","
		"\"image_url\":{\"url\":\"https://e.com/a.png\"}}]},"
		"{\"role\":\"assistant\",\"content\":null,\"reasoning_content\":"
		"\"hmm\",\"tool_calls\":[{\"id\":\"call_9\",\"type\":\"function\","
		"\"function\":{\"name\":\"g\",\"arguments\":\"{\\\"q\\\":"
		"\\\"\\\\u263a \\\\\\\"x\\\\\\\"\\\"}\"}}]},"
		"{\"role\":\"tool\",\"tool_call_id\":\"call_9\",\"content\":"
		"\"done\"}]}";
	struct oa_req r, back;
	struct buf out;

	oa_req_load(&r, js);
	REQUIRE(r.rc == 0);
	REQUIRE(oa_encode(&r.v, 0, &out) == 0);
	CHECK(strstr(out.p, "\"stream\"") == NULL);
	CHECK(strstr(out.p, "hmm") == NULL); /* thinking dropped */
	CHECK(strstr(out.p, "\"content\":null,\"tool_calls\"") != NULL);
	/* the upstream body decodes back to the same content */
	oa_req_load(&back, out.p);
	REQUIRE(back.rc == 0);
	REQUIRE(back.v.nmsgs == 3);
	REQUIRE(back.v.msgs[0].n == 3);
	CHECK_SPAN(oa_part(&back.v, 0, 1)->data.p, oa_part(&back.v, 0, 1)->data.n,
		   "/9j/4AAQ");
	CHECK_SPAN(oa_part(&back.v, 0, 1)->mime.p, oa_part(&back.v, 0, 1)->mime.n,
		   "image/jpeg");
	CHECK_SPAN(oa_part(&back.v, 0, 2)->url.p, oa_part(&back.v, 0, 2)->url.n,
		   "https://e.com/a.png");
	REQUIRE(back.v.msgs[1].n == 1);
	CHECK_EQ_MEM(oa_part(&back.v, 1, 0)->args.p,
		     oa_part(&back.v, 1, 0)->args.n, oa_part(&r.v, 1, 1)->args.p,
		     oa_part(&r.v, 1, 1)->args.n);
	CHECK_SPAN(oa_part(&back.v, 1, 0)->id.p, oa_part(&back.v, 1, 0)->id.n,
		   "call_9");
	CHECK_SPAN(oa_part(&back.v, 2, 0)->id.p, oa_part(&back.v, 2, 0)->id.n,
		   "call_9");
	CHECK_SPAN(oa_part(&back.v, 2, 0)->name.p,
		   oa_part(&back.v, 2, 0)->name.n, "g");
	oa_req_free(&back);
	buf_free(&out);
	oa_req_free(&r);
}

/* A view as another format's decoder would build it: raw tool args, raw
 * Claude-style tool results, thinking with a signature, images without
 * a MIME type. */
TEST(openai_encode_request_from_foreign_view)
{
	static const char js[] =
		"{\"in\":{\"city\":\"Paris\"},"
		"\"r1\":[{\"type\":\"text\",\"text\":\"line1\"},{\"type\":"
		"\"image\",\"source\":{}},{\"type\":\"text\",\"text\":\"line2\"}],"
		"\"r2\":{\"temp\":18},\"r3\":\"plain \\\"q\\\"\","
		"\"r4\":[{\"type\":\"image\"}]}";
	struct json j;
	struct hub_view v;
	struct hub_part *p;
	struct buf out;

	REQUIRE(json_parse(&j, js, strlen(js)) == 0);
	hub_view_init(&v, &j);
	hub_add_msg(&v, HUB_ASSISTANT);
	p = hub_add_part(&v);
	p->type = HUB_P_THINKING;
	p->text = oa_s("deep");
	p->signature = oa_s("EqQBCkYIARgCKkDr+/=");
	p = hub_add_part(&v);
	p->type = HUB_P_TOOL_CALL;
	p->id = oa_s("toolu_01");
	p->name = oa_s("weather");
	p->args = hub_tok_raw(&j, json_get(&j, 0, "in"));
	v.msgs[0].n = 2;
	hub_add_msg(&v, HUB_USER);
	{
		static const char *const keys[] = {"r1", "r2", "r3", "r4"};
		size_t i;
		for (i = 0; i < 4; i++) {
			p = hub_add_part(&v);
			p->type = HUB_P_TOOL_RESULT;
			p->id = oa_s("toolu_01");
			p->result = hub_tok_raw(&j, json_get(&j, 0, keys[i]));
		}
	}
	p = hub_add_part(&v);
	p->type = HUB_P_IMAGE;
	p->data = oa_s("AAAA");
	p = hub_add_part(&v);
	p->type = HUB_P_TEXT;
	p->text = oa_s("and?");
	v.msgs[1].n = 6;
	REQUIRE(oa_encode(&v, 0, &out) == 0);
	CHECK_EQ_STR(out.p,
		     "{\"model\":\"up-model\",\"messages\":["
		     "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
		     "[{\"id\":\"toolu_01\",\"type\":\"function\",\"function\":"
		     "{\"name\":\"weather\",\"arguments\":"
		     "\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
		     "{\"role\":\"tool\",\"tool_call_id\":\"toolu_01\","
		     "\"content\":\"line1\\nline2\"},"
		     "{\"role\":\"tool\",\"tool_call_id\":\"toolu_01\","
		     "\"content\":\"{\\\"temp\\\":18}\"},"
		     "{\"role\":\"tool\",\"tool_call_id\":\"toolu_01\","
		     "\"content\":\"plain \\\"q\\\"\"},"
		     "{\"role\":\"tool\",\"tool_call_id\":\"toolu_01\","
		     "\"content\":\"[{\\\"type\\\":\\\"image\\\"}]\"},"
		     "{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
		     "\"image_url\":{\"url\":\"data:image/png;base64,AAAA\"}},"
		     "{\"type\":\"text\",\"text\":\"and?\"}]}]}");
	buf_free(&out);
	hub_view_free(&v);
	json_free(&j);
}

TEST(openai_encode_request_effort_mapping)
{
	static const struct {
		int thinking;
		long budget;
		enum hub_effort effort;
		const char *want; /* NULL: no reasoning_effort */
	} cases[] = {
		{1, 1024, HUB_EFFORT_UNSET, "low"},
		{1, 8192, HUB_EFFORT_UNSET, "medium"},
		{1, 30000, HUB_EFFORT_UNSET, "high"},
		{1, -1, HUB_EFFORT_UNSET, "medium"},
		{1, HUB_BUDGET_UNSET, HUB_EFFORT_UNSET, "medium"},
		{1, HUB_BUDGET_UNSET, HUB_EFFORT_MINIMAL, "minimal"},
		{0, 0, HUB_EFFORT_UNSET, NULL},
		{0, HUB_BUDGET_UNSET, HUB_EFFORT_NONE, "none"},
		{-1, HUB_BUDGET_UNSET, HUB_EFFORT_UNSET, NULL},
		{-1, 24576, HUB_EFFORT_UNSET, NULL},
		{-1, HUB_BUDGET_UNSET, HUB_EFFORT_HIGH, "high"},
	};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(cases); i++) {
		struct hub_view v;
		struct buf out;
		char want[64];
		const char *at;

		hub_view_init(&v, NULL);
		v.thinking = cases[i].thinking;
		v.thinking_budget = cases[i].budget;
		v.effort = cases[i].effort;
		REQUIRE(oa_encode(&v, 0, &out) == 0);
		at = strstr(out.p, "\"reasoning_effort\"");
		if (!cases[i].want) {
			if (at)
				FAILF("case %zu: unexpected %s", i, out.p);
		} else {
			snprintf(want, sizeof(want),
				 "\"reasoning_effort\":\"%s\"", cases[i].want);
			if (!strstr(out.p, want))
				FAILF("case %zu: want %s in %s", i, want, out.p);
		}
		buf_free(&out);
		hub_view_free(&v);
	}
}

TEST(openai_encode_request_tool_choice_needs_tools)
{
	struct hub_view v;
	struct hub_tool *t;
	struct buf out;

	hub_view_init(&v, NULL);
	v.tool_choice = HUB_TC_ANY;
	v.parallel_tool_calls = 1;
	REQUIRE(oa_encode(&v, 0, &out) == 0);
	CHECK_EQ_STR(out.p, "{\"model\":\"up-model\",\"messages\":[]}");
	buf_free(&out);

	t = hub_add_tool(&v);
	t->name = oa_s("f");
	t->description = oa_s("does \\\"f\\\"");
	v.tool_choice = HUB_TC_TOOL;
	v.tool_choice_name = oa_s("f");
	REQUIRE(oa_encode(&v, 0, &out) == 0);
	CHECK_EQ_STR(out.p,
		     "{\"model\":\"up-model\",\"messages\":[],\"tools\":[{"
		     "\"type\":\"function\",\"function\":{\"name\":\"f\","
		     "\"description\":\"does \\\"f\\\"\",\"parameters\":{"
		     "\"type\":\"object\",\"properties\":{}}}}],\"tool_choice\":"
		     "{\"type\":\"function\",\"function\":{\"name\":\"f\"}},"
		     "\"parallel_tool_calls\":true}");
	buf_free(&out);
	hub_view_free(&v);
}

/* Qwen wants usage on a stream: hub_req_opts.stream_usage.  The encoder
 * asks every stream for it anyway (the clients' usage comes from it), so
 * the flag changes nothing; a non-stream request gets no stream_options. */
TEST(openai_encode_request_stream_usage)
{
	struct oa_req r;
	struct hub_req_opts o;
	struct buf out;
	int stream;

	oa_req_load(&r, "{\"messages\":[{\"role\":\"user\",\"content\":"
			"\"hi\"}]}");
	REQUIRE(r.rc == 0);
	for (stream = 0; stream < 2; stream++) {
		memset(&o, 0, sizeof(o));
		o.model = "qwen3-coder-plus";
		o.stream = stream;
		o.stream_usage = 1;
		REQUIRE(oa_encode_with(&r.v, &o, &out) == 0);
		CHECK_EQ_INT(strstr(out.p, ",\"stream\":true,\"stream_options\":"
				    "{\"include_usage\":true}}") != NULL,
			     stream);
		CHECK_EQ_INT(strstr(out.p, "stream_options") != NULL, stream);
		buf_free(&out);
	}
	oa_req_free(&r);
}

TEST(openai_encode_request_overflow_is_an_error)
{
	struct oa_req r;
	struct hub_req_opts o;
	struct buf out;
	char err[64] = "";

	memset(&o, 0, sizeof(o));
	o.model = "m";

	oa_req_load(&r, "{\"messages\":[{\"role\":\"user\",\"content\":"
			"\"a long enough message to overflow\"}]}");
	REQUIRE(r.rc == 0);
	buf_init(&out, 16);
	CHECK_EQ_INT(hub_openai.encode_request(&r.v, &o, &out, err,
					       sizeof(err)),
		     -1);
	CHECK(err[0] != '\0');
	buf_free(&out);
	oa_req_free(&r);
}

/* ======================================================================
 * decode_event
 * ====================================================================== */

#define CHUNK(delta, fin)                                                     \
	"{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","        \
	"\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"       \
	"\"delta\":" delta ",\"finish_reason\":" fin "}]}"

TEST(openai_decode_event_text_stream)
{
	static const char *const in[] = {
		CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null"),
		CHUNK("{\"content\":\"Hel\"}", "null"),
		"  ",
		CHUNK("{\"content\":\"lo \\u00e9\\n\"}", "null"),
		CHUNK("{}", "\"stop\""),
		"{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
		"\"created\":1,\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{"
		"\"prompt_tokens\":12,\"completion_tokens\":5,\"total_tokens\":"
		"17,\"prompt_tokens_details\":{\"cached_tokens\":4},"
		"\"completion_tokens_details\":{\"reasoning_tokens\":0}}}",
		"[DONE]",
		CHUNK("{\"content\":\"after done\"}", "null"),
		NULL,
	};
	struct hub_sdec d;
	struct buf rec;

	oa_decode_all(in, &rec, &d);
	CHECK_EQ_STR(rec.p, "START chatcmpl-1 gpt-4o\n"
			    "TEXT Hel\n"
			    "TEXT lo \\u00e9\\n\n"
			    "USAGE 12 5 4 0\n"
			    "FINISH stop\n");
	CHECK_EQ_INT(d.done, 1);
	buf_free(&rec);
	hub_sdec_free(&d);
}

TEST(openai_decode_event_parallel_tool_calls)
{
	static const char *const in[] = {
		CHUNK("{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
		      "[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\","
		      "\"function\":{\"name\":\"get_weather\",\"arguments\":"
		      "\"\"}}]}",
		      "null"),
		CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{"
		      "\"arguments\":\"{\\\"ci\"}}]}",
		      "null"),
		/* split in the middle of an escaped quote: \" | \"  */
		CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{"
		      "\"arguments\":\"ty\\\":\\\"Par\\\\\"}}]}",
		      "null"),
		CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{"
		      "\"arguments\":\"\\\"is\\\\\\\"\\\"}\"}}]}",
		      "null"),
		CHUNK("{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\","
		      "\"type\":\"function\",\"function\":{\"name\":"
		      "\"get_time\",\"arguments\":\"{\\\"tz\\\":\"}}]}",
		      "null"),
		CHUNK("{\"tool_calls\":[{\"index\":1,\"function\":{"
		      "\"arguments\":\"\\\"CET\\\"}\"}}]}",
		      "null"),
		CHUNK("{}", "\"tool_calls\""),
		"{\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{"
		"\"prompt_tokens\":30,\"completion_tokens\":20}}",
		"[DONE]",
		NULL,
	};
	struct hub_sdec d;
	struct buf rec;

	oa_decode_all(in, &rec, &d);
	CHECK_EQ_STR(rec.p,
		     "START chatcmpl-1 gpt-4o\n"
		     "TOOL_START 0 call_a get_weather\n"
		     "ARGS 0 {\\\"ci\n"
		     "ARGS 0 ty\\\":\\\"Par\\\\\n"
		     "ARGS 0 \\\"is\\\\\\\"\\\"}\n"
		     "TOOL_END 0\n"
		     "TOOL_START 1 call_b get_time\n"
		     "ARGS 1 {\\\"tz\\\":\n"
		     "ARGS 1 \\\"CET\\\"}\n"
		     "TOOL_END 1\n"
		     "USAGE 30 20 -1 -1\n"
		     "FINISH tool\n");
	buf_free(&rec);
	hub_sdec_free(&d);
}

/* The escaped fragments, concatenated, are the escaped arguments text:
 * unescaped they are valid JSON even though a fragment ended inside an
 * escape sequence of the arguments' own string. */
static void oa_collect_args(void *user, const struct hub_event *ev)
{
	if (ev->type == HUB_EV_TOOL_ARGS && ev->index == 0)
		buf_put(user, ev->text.p, ev->text.n);
}

TEST(openai_decode_event_split_escape_reassembles)
{
	static const char *const in[] = {
		CHUNK("{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":"
		      "{\"name\":\"f\",\"arguments\":\"{\\\"q\\\":\\\"say \\\\\"}}]}",
		      "null"),
		CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{"
		      "\"arguments\":\"\\\"hi\\\\\\\"\\u263a\\\"}\"}}]}",
		      "null"),
		NULL,
	};
	struct hub_sdec d;
	struct buf args, js;
	size_t i;

	hub_sdec_init(&d, HUB_OPENAI, 1);
	buf_init(&args, 4096);
	buf_init(&js, 4096);
	for (i = 0; in[i]; i++) {
		struct hub_sse ev = {{NULL, 0}, {in[i], strlen(in[i])}};
		hub_openai.decode_event(&d, &ev, oa_collect_args, &args);
	}
	CHECK_SPAN(args.p, args.len,
		   "{\\\"q\\\":\\\"say \\\\\\\"hi\\\\\\\"\\u263a\\\"}");
	hub_put_str_as_json(&js, (struct hub_span){args.p, args.len});
	CHECK_SPAN(js.p, js.len, "{\"q\":\"say \\\"hi\\\"\xe2\x98\xba\"}");
	buf_free(&js);
	buf_free(&args);
	hub_sdec_free(&d);
}

TEST(openai_decode_event_tool_end_before_next_call)
{
	/* TOOL_END of call 0 comes before TOOL_START of call 1. */
	static const char *const in[] = {
		CHUNK("{\"tool_calls\":[{\"index\":0,\"id\":\"c0\",\"function\":"
		      "{\"name\":\"a\",\"arguments\":\"{}\"}},{\"index\":1,"
		      "\"id\":\"c1\",\"function\":{\"name\":\"b\","
		      "\"arguments\":\"{\"}}]}",
		      "null"),
		/* a late fragment of call 0 cannot be re-opened: dropped */
		CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{"
		      "\"arguments\":\"zzz\"}}]}",
		      "null"),
		CHUNK("{\"tool_calls\":[{\"index\":1,\"function\":{"
		      "\"arguments\":\"}\"}}]}",
		      "null"),
		/* an upstream reusing index 1 with a new id: a new call */
		CHUNK("{\"tool_calls\":[{\"index\":1,\"id\":\"c2\",\"function\":"
		      "{\"name\":\"c\",\"arguments\":\"{}\"}}]}",
		      "null"),
		/* no id at all: one is generated */
		CHUNK("{\"tool_calls\":[{\"index\":2,\"function\":"
		      "{\"name\":\"d\"}}]}",
		      "\"stop\""),
		"[DONE]",
		NULL,
	};
	struct hub_sdec d;
	struct buf rec;
	char gen[64], want[1024];

	oa_decode_all(in, &rec, &d);
	hub_gen_id(gen, sizeof(gen), "call_", 7, 3);
	snprintf(want, sizeof(want),
		 "START chatcmpl-1 gpt-4o\n"
		 "TOOL_START 0 c0 a\n"
		 "ARGS 0 {}\n"
		 "TOOL_END 0\n"
		 "TOOL_START 1 c1 b\n"
		 "ARGS 1 {\n"
		 "ARGS 1 }\n"
		 "TOOL_END 1\n"
		 "TOOL_START 2 c2 c\n"
		 "ARGS 2 {}\n"
		 "TOOL_END 2\n"
		 "TOOL_START 3 %s d\n"
		 "TOOL_END 3\n"
		 "FINISH tool\n",
		 gen);
	CHECK_EQ_STR(rec.p, want);
	buf_free(&rec);
	hub_sdec_free(&d);
}

TEST(openai_decode_event_reasoning_and_signature)
{
	static const char *const in[] = {
		CHUNK("{\"role\":\"assistant\",\"reasoning_content\":\"Let me"
		      " think\"}",
		      "null"),
		CHUNK("{\"reasoning\":\" more.\",\"reasoning_details\":[{"
		      "\"type\":\"reasoning.text\",\"text\":\" more.\","
		      "\"signature\":\"EqQBCkYI+/AB==\"}]}",
		      "null"),
		CHUNK("{\"content\":\"Answer\"}", "null"),
		"{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},"
		"\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":3,"
		"\"completion_tokens\":9,\"completion_tokens_details\":{"
		"\"reasoning_tokens\":6}}}",
		"[DONE]",
		NULL,
	};
	struct hub_sdec d;
	struct buf rec;

	oa_decode_all(in, &rec, &d);
	CHECK_EQ_STR(rec.p, "START chatcmpl-1 gpt-4o\n"
			    "THINK Let me think\n"
			    "THINK  more.\n"
			    "SIG EqQBCkYI+/AB==\n"
			    "TEXT Answer\n"
			    "USAGE 3 9 -1 6\n"
			    "FINISH length\n");
	buf_free(&rec);
	hub_sdec_free(&d);
}

TEST(openai_decode_event_text_closes_open_call)
{
	static const char *const in[] = {
		CHUNK("{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":"
		      "{\"name\":\"f\",\"arguments\":\"{\"}}]}",
		      "null"),
		CHUNK("{\"content\":\"text in between\"}", "null"),
		CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{"
		      "\"arguments\":\"}\"}}]}",
		      "null"),
		NULL,
	};
	struct hub_sdec d;
	struct buf rec;

	oa_decode_all(in, &rec, &d);
	CHECK_EQ_STR(rec.p, "START chatcmpl-1 gpt-4o\n"
			    "TOOL_START 0 c f\n"
			    "ARGS 0 {\n"
			    "TOOL_END 0\n"
			    "TEXT text in between\n");
	buf_free(&rec);
	hub_sdec_free(&d);
}

TEST(openai_decode_event_finish_at_done_without_usage)
{
	static const char *const in[] = {
		CHUNK("{\"content\":\"x\"}", "null"),
		CHUNK("{}", "\"content_filter\""),
		"[DONE]",
		NULL,
	};
	struct hub_sdec d;
	struct buf rec;

	oa_decode_all(in, &rec, &d);
	CHECK_EQ_STR(rec.p, "START chatcmpl-1 gpt-4o\nTEXT x\n"
			    "FINISH filter\n");
	buf_free(&rec);
	hub_sdec_free(&d);
}

TEST(openai_decode_event_error_chunk)
{
	static const char *const in[] = {
		CHUNK("{\"content\":\"partial\"}", "null"),
		"{\"error\":{\"message\":\"Rate limit reached\",\"type\":"
		"\"requests\",\"code\":\"rate_limit_exceeded\"}}",
		CHUNK("{\"content\":\"ignored\"}", "null"),
		NULL,
	};
	static const char *const in2[] = {
		"{\"error\":{\"code\":503,\"message\":\"Provider down\"}}",
		NULL,
	};
	struct hub_sdec d;
	struct buf rec;

	oa_decode_all(in, &rec, &d);
	CHECK_EQ_STR(rec.p, "START chatcmpl-1 gpt-4o\nTEXT partial\n"
			    "ERROR 429 Rate limit reached\n");
	buf_free(&rec);
	hub_sdec_free(&d);

	oa_decode_all(in2, &rec, &d);
	CHECK_EQ_STR(rec.p, "ERROR 503 Provider down\n");
	buf_free(&rec);
	hub_sdec_free(&d);
}

TEST(openai_decode_event_malformed_json_once)
{
	static const char *const in[] = {
		CHUNK("{\"content\":\"ok\"}", "null"),
		"{\"id\":\"x\",\"choices\":[{\"delta\":{\"content\":\"bro",
		"{not json",
		CHUNK("{\"content\":\"after\"}", "null"),
		NULL,
	};
	struct hub_sdec d;
	struct buf rec;

	oa_decode_all(in, &rec, &d);
	CHECK_EQ_STR(rec.p, "START chatcmpl-1 gpt-4o\nTEXT ok\n"
			    "ERROR 502 malformed upstream event\n");
	buf_free(&rec);
	hub_sdec_free(&d);
}

TEST(openai_decode_event_usage_only_final_chunk_after_tool)
{
	/* A call left open when the stream ends without finish_reason. */
	static const char *const in[] = {
		CHUNK("{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":"
		      "{\"name\":\"f\",\"arguments\":\"{}\"}}]}",
		      "null"),
		"{\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{"
		"\"prompt_tokens\":1,\"completion_tokens\":2}}",
		"[DONE]",
		NULL,
	};
	struct hub_sdec d;
	struct buf rec;

	oa_decode_all(in, &rec, &d);
	CHECK_EQ_STR(rec.p, "START chatcmpl-1 gpt-4o\n"
			    "TOOL_START 0 c f\n"
			    "ARGS 0 {}\n"
			    "USAGE 1 2 -1 -1\n"
			    "TOOL_END 0\n");
	buf_free(&rec);
	hub_sdec_free(&d);
}

/* ======================================================================
 * decode_body
 * ====================================================================== */

static int oa_body(const char *js, struct buf *rec)
{
	struct hub_sdec d;
	size_t n = strlen(js);
	char *g = t_guarded_copy(js, n);
	int rc;

	hub_sdec_init(&d, HUB_OPENAI, 7);
	buf_init(rec, 1 << 20);
	rc = hub_openai.decode_body(&d, g, n, oa_rec, rec);
	oa_cstr(rec);
	hub_sdec_free(&d);
	t_guarded_free(g);
	return rc;
}

TEST(openai_decode_body_full_answer)
{
	struct buf rec;

	CHECK_EQ_INT(
		oa_body("{\"id\":\"chatcmpl-9\",\"object\":\"chat.completion\","
			"\"created\":1,\"model\":\"qwen3\",\"choices\":[{"
			"\"index\":0,\"message\":{\"role\":\"assistant\","
			"\"reasoning_content\":\"think\",\"content\":"
			"\"It is \\\"sunny\\\"\",\"tool_calls\":[{\"id\":"
			"\"call_1\",\"type\":\"function\",\"function\":{"
			"\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}},{"
			"\"id\":\"call_2\",\"type\":\"function\",\"function\":"
			"{\"name\":\"g\",\"arguments\":{\"b\":\"x\"}}}]},"
			"\"finish_reason\":\"tool_calls\"}],\"usage\":{"
			"\"prompt_tokens\":10,\"completion_tokens\":7,"
			"\"total_tokens\":17}}",
			&rec),
		0);
	CHECK_EQ_STR(rec.p, "START chatcmpl-9 qwen3\n"
			    "THINK think\n"
			    "TEXT It is \\\"sunny\\\"\n"
			    "TOOL_START 0 call_1 f\n"
			    "ARGS 0 {\\\"a\\\":1}\n"
			    "TOOL_END 0\n"
			    "TOOL_START 1 call_2 g\n"
			    "ARGS 1 {\\\"b\\\":\\\"x\\\"}\n"
			    "TOOL_END 1\n"
			    "USAGE 10 7 -1 -1\n"
			    "FINISH tool\n");
	buf_free(&rec);
}

TEST(openai_decode_body_content_null_with_tool_calls)
{
	struct buf rec;

	CHECK_EQ_INT(oa_body("{\"id\":\"x\",\"model\":\"m\",\"choices\":[{"
			     "\"index\":0,\"message\":{\"role\":\"assistant\","
			     "\"content\":null,\"tool_calls\":[{\"id\":\"c\","
			     "\"type\":\"function\",\"function\":{\"name\":"
			     "\"f\",\"arguments\":\"{}\"}}]},\"finish_reason\":"
			     "\"stop\"}]}",
			     &rec),
		     0);
	CHECK_EQ_STR(rec.p, "START x m\nTOOL_START 0 c f\nARGS 0 {}\n"
			    "TOOL_END 0\nFINISH tool\n");
	buf_free(&rec);
}

TEST(openai_decode_body_error_and_garbage)
{
	struct buf rec;

	CHECK_EQ_INT(oa_body("{\"error\":{\"message\":\"Invalid key\",\"type\":"
			     "\"invalid_request_error\",\"code\":"
			     "\"invalid_api_key\"}}",
			     &rec),
		     0);
	CHECK_EQ_STR(rec.p, "ERROR 401 Invalid key\n");
	buf_free(&rec);
	CHECK_EQ_INT(oa_body("{\"candidates\":[]}", &rec), -1);
	buf_free(&rec);
	CHECK_EQ_INT(oa_body("{\"choices\":[{\"index\":0}]}", &rec), -1);
	buf_free(&rec);
	CHECK_EQ_INT(oa_body("not json", &rec), -1);
	buf_free(&rec);
	CHECK_EQ_INT(oa_body("[1,2]", &rec), -1);
	buf_free(&rec);
}

/* ======================================================================
 * encode_event
 * ====================================================================== */

#define HEAD(id)                                                             \
	"data: {\"id\":\"" id "\",\"object\":\"chat.completion.chunk\","     \
	"\"created\":1700000000,\"model\":\"gpt-4o\",\"choices\":[{"          \
	"\"index\":0,\"delta\":{"
#define TAIL "},\"finish_reason\":null}]}\n\n"

TEST(openai_encode_stream_text_exact)
{
	struct hub_enc e;
	struct buf out;

	oa_enc_init(&e, &out, 1);
	oa_put_start(&e, &out, "chatcmpl-abc", "gpt-4o");
	oa_put_text(&e, &out, HUB_EV_THINKING, 0, "hmm");
	oa_put_text(&e, &out, HUB_EV_THINKING_SIG, 0, "SIG==");
	oa_put_text(&e, &out, HUB_EV_TEXT, 0, "Hi \\u00e9");
	oa_put_text(&e, &out, HUB_EV_TEXT, 0, "");
	oa_put_usage(&e, &out, 10, 3, 2, 1);
	oa_put_finish(&e, &out, HUB_FIN_STOP);
	oa_put(&e, &out, oa_ev(HUB_EV_DONE));
	oa_cstr(&out);
	CHECK_EQ_STR(out.p,
		     HEAD("chatcmpl-abc") "\"role\":\"assistant\","
		     "\"content\":\"\"" TAIL
		     HEAD("chatcmpl-abc") "\"reasoning_content\":\"hmm\"" TAIL
		     HEAD("chatcmpl-abc") "\"content\":\"Hi \\u00e9\"" TAIL
		     HEAD("chatcmpl-abc") "},\"finish_reason\":\"stop\"}]}\n\n"
		     "data: {\"id\":\"chatcmpl-abc\",\"object\":"
		     "\"chat.completion.chunk\",\"created\":1700000000,"
		     "\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{"
		     "\"prompt_tokens\":10,\"completion_tokens\":3,"
		     "\"total_tokens\":13,\"prompt_tokens_details\":{"
		     "\"cached_tokens\":2},\"completion_tokens_details\":{"
		     "\"reasoning_tokens\":1}}}\n\n"
		     "data: [DONE]\n\n");
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(openai_encode_stream_tool_calls_exact)
{
	struct hub_enc e;
	struct buf out;

	oa_enc_init(&e, &out, 1);
	oa_put_start(&e, &out, "id1", "gpt-4o");
	oa_put_tool(&e, &out, 0, "call_a", "get_weather");
	oa_put_text(&e, &out, HUB_EV_TOOL_ARGS, 0, "{\\\"city\\\":");
	oa_put_text(&e, &out, HUB_EV_TOOL_ARGS, 0, "\\\"Paris\\\"}");
	oa_put_text(&e, &out, HUB_EV_TOOL_END, 0, NULL);
	oa_put_tool(&e, &out, 1, "call_b", "get_time");
	oa_put_text(&e, &out, HUB_EV_TOOL_END, 1, NULL);
	/* DONE without FINISH: tool_calls, no usage chunk (none known) */
	oa_put(&e, &out, oa_ev(HUB_EV_DONE));
	oa_cstr(&out);
	CHECK_EQ_STR(out.p,
		     HEAD("id1") "\"role\":\"assistant\",\"content\":\"\"" TAIL
		     HEAD("id1") "\"tool_calls\":[{\"index\":0,\"id\":"
		     "\"call_a\",\"type\":\"function\",\"function\":{\"name\":"
		     "\"get_weather\",\"arguments\":\"\"}}]" TAIL
		     HEAD("id1") "\"tool_calls\":[{\"index\":0,\"function\":"
		     "{\"arguments\":\"{\\\"city\\\":\"}}]" TAIL
		     HEAD("id1") "\"tool_calls\":[{\"index\":0,\"function\":"
		     "{\"arguments\":\"\\\"Paris\\\"}\"}}]" TAIL
		     HEAD("id1") "\"tool_calls\":[{\"index\":1,\"id\":"
		     "\"call_b\",\"type\":\"function\",\"function\":{\"name\":"
		     "\"get_time\",\"arguments\":\"\"}}]" TAIL
		     /* call_b had no arguments: "{}" so clients can parse */
		     HEAD("id1") "\"tool_calls\":[{\"index\":1,\"function\":"
		     "{\"arguments\":\"{}\"}}]" TAIL
		     HEAD("id1") "},\"finish_reason\":\"tool_calls\"}]}\n\n"
		     "data: [DONE]\n\n");
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(openai_encode_stream_open_call_closed_before_finish)
{
	struct hub_enc e;
	struct buf out;

	oa_enc_init(&e, &out, 1);
	oa_put_start(&e, &out, "id1", "gpt-4o");
	oa_put_tool(&e, &out, 0, "c", "ping");
	oa_put_text(&e, &out, HUB_EV_TOOL_ARGS, 0, ""); /* no chunk */
	oa_put_finish(&e, &out, HUB_FIN_TOOL);
	oa_put(&e, &out, oa_ev(HUB_EV_DONE));
	oa_cstr(&out);
	CHECK_EQ_STR(out.p,
		     HEAD("id1") "\"role\":\"assistant\",\"content\":\"\"" TAIL
		     HEAD("id1") "\"tool_calls\":[{\"index\":0,\"id\":\"c\","
		     "\"type\":\"function\",\"function\":{\"name\":\"ping\","
		     "\"arguments\":\"\"}}]" TAIL
		     HEAD("id1") "\"tool_calls\":[{\"index\":0,\"function\":"
		     "{\"arguments\":\"{}\"}}]" TAIL
		     HEAD("id1") "},\"finish_reason\":\"tool_calls\"}]}\n\n"
		     "data: [DONE]\n\n");
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(openai_encode_stream_error_then_done)
{
	struct hub_enc e;
	struct buf out;
	struct hub_event ev;

	oa_enc_init(&e, &out, 1);
	oa_put_start(&e, &out, "id1", "gpt-4o");
	oa_put_text(&e, &out, HUB_EV_TEXT, 0, "par");
	ev = oa_ev(HUB_EV_ERROR);
	ev.status = 429;
	ev.text = oa_s("slow \\\"down\\\"");
	oa_put(&e, &out, ev);
	oa_put_text(&e, &out, HUB_EV_TEXT, 0, "ignored");
	oa_put(&e, &out, oa_ev(HUB_EV_DONE));
	oa_cstr(&out);
	CHECK_EQ_STR(out.p,
		     HEAD("id1") "\"role\":\"assistant\",\"content\":\"\"" TAIL
		     HEAD("id1") "\"content\":\"par\"" TAIL
		     "data: {\"error\":{\"message\":\"slow \\\"down\\\"\","
		     "\"type\":\"rate_limit_error\",\"param\":null,\"code\":"
		     "\"rate_limit_exceeded\"}}\n\n"
		     "data: [DONE]\n\n");
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(openai_encode_stream_without_start_generates_id)
{
	struct hub_enc e;
	struct buf out;
	char id[96], want[512];

	oa_enc_init(&e, &out, 1);
	oa_put_text(&e, &out, HUB_EV_TEXT, 0, "x");
	oa_put(&e, &out, oa_ev(HUB_EV_DONE));
	oa_cstr(&out);
	hub_gen_id(id, sizeof(id), "chatcmpl-", 42, 0);
	snprintf(want, sizeof(want),
		 "data: {\"id\":\"%s\",\"object\":\"chat.completion.chunk\","
		 "\"created\":1700000000,\"model\":\"client-model\",",
		 id);
	CHECK(strncmp(out.p, want, strlen(want)) == 0);
	CHECK(strstr(out.p, "\"finish_reason\":\"stop\"") != NULL);
	CHECK(strstr(out.p, "\"usage\"") == NULL);
	CHECK(strstr(out.p, "data: \n") == NULL);
	CHECK(out.len > 14 &&
	      strcmp(out.p + out.len - 14, "data: [DONE]\n\n") == 0);
	buf_free(&out);
	hub_enc_free(&e);
}

/* "created" is the request's unix time whole: after 2038 too, where a
 * long is 32 bits (it was a long there, and wrapped negative). */
TEST(openai_encode_created_after_2038)
{
	struct hub_enc e;
	struct hub_enc_opts o;
	struct buf out;
	struct json j;

	memset(&o, 0, sizeof(o));
	o.model = "client-model";
	o.created = 4102444800LL; /* 2100-01-01T00:00:00Z */
	hub_enc_init(&e, HUB_OPENAI, &o);
	buf_init(&out, 1 << 16);
	oa_put_start(&e, &out, "msg_1", "m");
	oa_put_text(&e, &out, HUB_EV_TEXT, 0, "hi");
	oa_put(&e, &out, oa_ev(HUB_EV_DONE));
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	CHECK_PATH(&j, "created", "4102444800");
	json_free(&j);
	buf_free(&out);
	hub_enc_free(&e);

	o.stream = 1;
	hub_enc_init(&e, HUB_OPENAI, &o);
	buf_init(&out, 1 << 16);
	oa_put_start(&e, &out, "msg_1", "m");
	oa_put_text(&e, &out, HUB_EV_TEXT, 0, "hi");
	oa_cstr(&out);
	CHECK(strstr(out.p, "\"created\":4102444800,") != NULL);
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(openai_encode_stream_empty_answer_still_well_formed)
{
	struct hub_enc e;
	struct buf out;
	struct json j;
	char *line, *save = NULL;
	int chunks = 0;

	oa_enc_init(&e, &out, 1);
	oa_put(&e, &out, oa_ev(HUB_EV_DONE));
	oa_cstr(&out);
	/* every frame is "data: <valid JSON>" or [DONE] */
	for (line = strtok_r(out.p, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		REQUIRE(strncmp(line, "data: ", 6) == 0);
		if (strcmp(line + 6, "[DONE]") == 0)
			continue;
		CHECK(json_parse(&j, line + 6, strlen(line + 6)) == 0);
		json_free(&j);
		chunks++;
	}
	CHECK_EQ_INT(chunks, 2); /* role chunk + finish chunk */
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(openai_encode_nonstream_full_answer)
{
	struct hub_enc e;
	struct buf out;
	struct json j;

	oa_enc_init(&e, &out, 0);
	oa_put_start(&e, &out, "msg_01", "claude-x");
	oa_put_text(&e, &out, HUB_EV_THINKING, 0, "step 1");
	oa_put_text(&e, &out, HUB_EV_THINKING, 0, ", step 2");
	oa_put_text(&e, &out, HUB_EV_THINKING_SIG, 0, "sig");
	oa_put_text(&e, &out, HUB_EV_TEXT, 0, "Calling \\\"f\\\"");
	oa_put_tool(&e, &out, 0, "toolu_1", "f");
	oa_put_text(&e, &out, HUB_EV_TOOL_ARGS, 0, "{\\\"a\\\":");
	oa_put_text(&e, &out, HUB_EV_TOOL_ARGS, 0, "1}");
	oa_put_text(&e, &out, HUB_EV_TOOL_END, 0, NULL);
	oa_put_tool(&e, &out, 1, "toolu_2", "g");
	oa_put_text(&e, &out, HUB_EV_TOOL_ARGS, 1, "{}");
	/* no TOOL_END for the last call: closed at DONE */
	oa_put_usage(&e, &out, 100, -1, 40, -1);
	oa_put_usage(&e, &out, -1, 25, -1, -1);
	oa_put_finish(&e, &out, HUB_FIN_TOOL);
	CHECK_EQ_INT(out.len, 0); /* nothing before DONE */
	oa_put(&e, &out, oa_ev(HUB_EV_DONE));
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	CHECK_PATH(&j, "id", "msg_01");
	CHECK_PATH(&j, "object", "chat.completion");
	CHECK_PATH(&j, "created", "1700000000");
	CHECK_PATH(&j, "model", "claude-x");
	CHECK_PATH(&j, "choices.0.message.role", "assistant");
	CHECK_PATH(&j, "choices.0.message.content", "Calling \\\"f\\\"");
	CHECK_PATH(&j, "choices.0.message.reasoning_content",
		   "step 1, step 2");
	CHECK_PATH(&j, "choices.0.message.tool_calls.0.id", "toolu_1");
	CHECK_PATH(&j, "choices.0.message.tool_calls.0.type", "function");
	CHECK_PATH(&j, "choices.0.message.tool_calls.0.function.name", "f");
	CHECK_PATH(&j, "choices.0.message.tool_calls.0.function.arguments",
		   "{\\\"a\\\":1}");
	CHECK_PATH(&j, "choices.0.message.tool_calls.1.function.arguments",
		   "{}");
	CHECK_PATH(&j, "choices.0.finish_reason", "tool_calls");
	CHECK_PATH(&j, "usage.prompt_tokens", "100");
	CHECK_PATH(&j, "usage.completion_tokens", "25");
	CHECK_PATH(&j, "usage.total_tokens", "125");
	CHECK_PATH(&j, "usage.prompt_tokens_details.cached_tokens", "40");
	json_free(&j);
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(openai_encode_nonstream_content_null_with_only_tools)
{
	struct hub_enc e;
	struct buf out;
	struct json j;

	oa_enc_init(&e, &out, 0);
	oa_put_tool(&e, &out, 0, "c1", "f");
	oa_put_text(&e, &out, HUB_EV_TOOL_END, 0, NULL);
	oa_put(&e, &out, oa_ev(HUB_EV_DONE));
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	CHECK_PATH(&j, "model", "client-model");
	CHECK_PATH(&j, "choices.0.message.content", "null");
	CHECK(oa_path(&j, "choices.0.message.reasoning_content") < 0);
	CHECK_PATH(&j, "choices.0.message.tool_calls.0.function.arguments",
		   "{}");
	CHECK_PATH(&j, "choices.0.finish_reason", "tool_calls");
	CHECK_PATH(&j, "usage.total_tokens", "0");
	json_free(&j);
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(openai_encode_nonstream_plain_text_and_length)
{
	struct hub_enc e;
	struct buf out;
	struct json j;

	oa_enc_init(&e, &out, 0);
	oa_put_start(&e, &out, NULL, NULL);
	oa_put_text(&e, &out, HUB_EV_TEXT, 0, "a\\nb");
	oa_put_finish(&e, &out, HUB_FIN_LENGTH);
	oa_put(&e, &out, oa_ev(HUB_EV_DONE));
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	CHECK_PATH(&j, "choices.0.message.content", "a\\nb");
	CHECK(oa_path(&j, "choices.0.message.tool_calls") < 0);
	CHECK_PATH(&j, "choices.0.finish_reason", "length");
	CHECK_PATH(&j, "model", "client-model");
	json_free(&j);
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(openai_encode_nonstream_error_body)
{
	struct hub_enc e;
	struct buf out;
	struct hub_event ev;
	struct json j;

	oa_enc_init(&e, &out, 0);
	oa_put_start(&e, &out, "x", "m");
	oa_put_text(&e, &out, HUB_EV_TEXT, 0, "partial");
	ev = oa_ev(HUB_EV_ERROR);
	ev.status = 503;
	ev.text = oa_s("overloaded");
	oa_put(&e, &out, ev);
	oa_put(&e, &out, oa_ev(HUB_EV_DONE));
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	CHECK_PATH(&j, "error.message", "overloaded");
	CHECK_PATH(&j, "error.type", "server_error");
	CHECK_PATH(&j, "error.code", "service_unavailable");
	CHECK(oa_path(&j, "choices") < 0);
	json_free(&j);
	buf_free(&out);
	hub_enc_free(&e);
}

/* OpenAI upstream -> OpenAI client: the stream survives the hub. */
struct oa_pipe {
	struct hub_enc *e;
	struct buf *out;
};

static void oa_pipe_emit(void *user, const struct hub_event *ev)
{
	struct oa_pipe *p = user;
	hub_openai.encode_event(p->e, ev, p->out);
}

TEST(openai_pipe_stream_decode_then_encode)
{
	static const char *const in[] = {
		CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null"),
		CHUNK("{\"content\":\"Hi\"}", "null"),
		CHUNK("{\"tool_calls\":[{\"index\":0,\"id\":\"call_z\","
		      "\"type\":\"function\",\"function\":{\"name\":\"f\","
		      "\"arguments\":\"{\\\"k\\\":\"}}]}",
		      "null"),
		CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{"
		      "\"arguments\":\"2}\"}}]}",
		      "null"),
		CHUNK("{}", "\"tool_calls\""),
		"{\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{"
		"\"prompt_tokens\":5,\"completion_tokens\":6}}",
		"[DONE]",
		NULL,
	};
	struct hub_sdec d;
	struct hub_enc e;
	struct buf out;
	struct oa_pipe p = {&e, &out};
	struct hub_event done = oa_ev(HUB_EV_DONE);
	size_t i;

	hub_sdec_init(&d, HUB_OPENAI, 1);
	oa_enc_init(&e, &out, 1);
	for (i = 0; in[i]; i++) {
		struct hub_sse ev = {{NULL, 0}, {in[i], strlen(in[i])}};
		hub_openai.decode_event(&d, &ev, oa_pipe_emit, &p);
	}
	hub_openai.encode_event(&e, &done, &out);
	oa_cstr(&out);
	CHECK_EQ_STR(out.p,
		     HEAD("chatcmpl-1") "\"role\":\"assistant\",\"content\":"
		     "\"\"" TAIL
		     HEAD("chatcmpl-1") "\"content\":\"Hi\"" TAIL
		     HEAD("chatcmpl-1") "\"tool_calls\":[{\"index\":0,\"id\":"
		     "\"call_z\",\"type\":\"function\",\"function\":{\"name\":"
		     "\"f\",\"arguments\":\"\"}}]" TAIL
		     HEAD("chatcmpl-1") "\"tool_calls\":[{\"index\":0,"
		     "\"function\":{\"arguments\":\"{\\\"k\\\":\"}}]" TAIL
		     HEAD("chatcmpl-1") "\"tool_calls\":[{\"index\":0,"
		     "\"function\":{\"arguments\":\"2}\"}}]" TAIL
		     HEAD("chatcmpl-1") "},\"finish_reason\":\"tool_calls\"}]}"
		     "\n\n"
		     "data: {\"id\":\"chatcmpl-1\",\"object\":"
		     "\"chat.completion.chunk\",\"created\":1700000000,"
		     "\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{"
		     "\"prompt_tokens\":5,\"completion_tokens\":6,"
		     "\"total_tokens\":11,\"prompt_tokens_details\":{"
		     "\"cached_tokens\":0},\"completion_tokens_details\":{"
		     "\"reasoning_tokens\":0}}}\n\n"
		     "data: [DONE]\n\n");
	buf_free(&out);
	hub_enc_free(&e);
	hub_sdec_free(&d);
}

/* ======================================================================
 * render_error
 * ====================================================================== */

TEST(openai_render_error_types_by_status)
{
	static const struct {
		int status;
		const char *type;
	} cases[] = {
		{400, "invalid_request_error"}, {401, "authentication_error"},
		{403, "permission_error"},      {404, "not_found_error"},
		{413, "invalid_request_error"}, {429, "rate_limit_error"},
		{500, "server_error"},          {502, "server_error"},
		{503, "server_error"},
	};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(cases); i++) {
		struct buf out;
		struct json j;
		buf_init(&out, 4096);
		hub_openai.render_error(&out, cases[i].status,
					"bad \"thing\"\n");
		REQUIRE(json_parse(&j, out.p, out.len) == 0);
		CHECK_PATH(&j, "error.message", "bad \\\"thing\\\"\\n");
		CHECK_PATH(&j, "error.type", cases[i].type);
		CHECK_PATH(&j, "error.param", "null");
		json_free(&j);
		buf_free(&out);
	}
}

TEST(openai_render_error_exact)
{
	struct buf out;
	buf_init(&out, 4096);
	hub_openai.render_error(&out, 401, "Invalid API key");
	oa_cstr(&out);
	CHECK_EQ_STR(out.p, "{\"error\":{\"message\":\"Invalid API key\","
			    "\"type\":\"authentication_error\",\"param\":null,"
			    "\"code\":\"invalid_api_key\"}}");
	buf_free(&out);
}
