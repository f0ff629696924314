/*
 * test_hub_claude.c - unit tests of the Claude codec
 * (src/hub_claude_client.c, src/hub_claude_upstream.c) against the
 * contract in hub.h.
 *
 * Decoders are checked through an event log: every hub event is printed
 * as one line ("TEXT Hello", "TOOL_ARGS 0 {\"a\":", ...), so a test reads
 * as the list of events it expects.  Upstream payloads are handed over in
 * guarded buffers (reading past their end crashes the test).  Stream
 * encoders are compared byte for byte; non-stream answers are parsed back
 * with json_parse and checked field by field.
 */
#include "t.h"
#include "hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * Helpers
 * ====================================================================== */

/* A parsed client body and its view. */
struct req {
	char *text;
	struct json j;
	struct hub_view v;
	int rc;
	char err[256];
};

static int req_decode(struct req *r, const char *body)
{
	memset(r, 0, sizeof(*r));
	r->text = t_guarded_copy(body, strlen(body));
	if (json_parse(&r->j, r->text, strlen(body)) != 0) {
		FAILF("test body is not JSON: %s", body);
		r->rc = -99;
		return r->rc;
	}
	hub_view_init(&r->v, &r->j);
	r->rc = hub_claude.decode_request(&r->j, &r->v, r->err,
					  sizeof(r->err));
	return r->rc;
}

static void req_free(struct req *r)
{
	hub_view_free(&r->v);
	json_free(&r->j);
	t_guarded_free(r->text);
}

/* encode_request into a NUL-terminated malloc'd string (NULL on -1). */
static char *req_encode(const struct hub_view *v, const char *model,
			int stream, char *err, size_t errlen)
{
	struct hub_req_opts o;
	struct buf b;
	char *s;

	memset(&o, 0, sizeof(o));
	o.model = model;
	o.stream = stream;
	buf_init(&b, 1 << 20);
	if (hub_claude.encode_request(v, &o, &b, err, errlen) != 0) {
		buf_free(&b);
		return NULL;
	}
	s = malloc(b.len + 1);
	memcpy(s, b.p, b.len);
	s[b.len] = 0;
	buf_free(&b);
	return s;
}

#define CHECK_HSPAN(s, lit)                                                  \
	t_check_mem((s).p, (s).n, (lit), strlen(lit), __FILE__, __LINE__,     \
		    #s, #lit)

/* Raw text of the value at JSON pointer-ish path "a.b.0.c" in j. */
static int jpath(const struct json *j, const char *path)
{
	char key[64];
	int t = 0;

	while (*path && t >= 0) {
		size_t n = strcspn(path, ".");
		memcpy(key, path, n);
		key[n] = 0;
		if (j->tok[t].type == JSMN_ARRAY) {
			int k = atoi(key), i = t + 1;
			if (k >= j->tok[t].size)
				return -1;
			while (k-- > 0)
				i = json_skip(j, i);
			t = i;
		} else {
			t = json_get(j, t, key);
		}
		path += n;
		if (*path == '.')
			path++;
	}
	return t;
}

/* Value at path equals lit: strings compare their escaped content, other
 * values their raw text. */
static int jis(const struct json *j, const char *path, const char *lit)
{
	int t = jpath(j, path);
	if (t < 0) {
		FAILF("no %s", path);
		return 0;
	}
	if (json_len(j, t) == strlen(lit) &&
	    memcmp(json_ptr(j, t), lit, strlen(lit)) == 0)
		return 1;
	FAILF("%s is \"%s\", want \"%s\"", path,
	      t_esc(json_ptr(j, t), json_len(j, t)), lit);
	return 0;
}
#define CHECK_J(j, path, lit) CHECK(jis((j), (path), (lit)))
#define CHECK_NOJ(j, path) CHECK(jpath((j), (path)) < 0)

/* ---- event log ---- */

struct log {
	struct buf b;
};

static void put_span(struct buf *b, struct hub_span s)
{
	if (s.p)
		buf_put(b, s.p, s.n);
	else
		buf_puts(b, "-");
}

static void log_emit(void *user, const struct hub_event *ev)
{
	struct buf *b = &((struct log *)user)->b;
	static const char *const fin[] = {"stop", "length", "tool", "filter",
					  "error"};

	switch (ev->type) {
	case HUB_EV_START:
		buf_puts(b, "START ");
		put_span(b, ev->id);
		buf_putc(b, ' ');
		put_span(b, ev->model);
		break;
	case HUB_EV_TEXT:
		buf_puts(b, "TEXT ");
		put_span(b, ev->text);
		break;
	case HUB_EV_THINKING:
		buf_puts(b, "THINKING ");
		put_span(b, ev->text);
		break;
	case HUB_EV_THINKING_SIG:
		buf_puts(b, "SIG ");
		put_span(b, ev->text);
		break;
	case HUB_EV_TOOL_START:
		buf_printf(b, "TOOL_START %d ", ev->index);
		put_span(b, ev->id);
		buf_putc(b, ' ');
		put_span(b, ev->name);
		break;
	case HUB_EV_TOOL_ARGS:
		buf_printf(b, "TOOL_ARGS %d ", ev->index);
		put_span(b, ev->text);
		break;
	case HUB_EV_TOOL_END:
		buf_printf(b, "TOOL_END %d", ev->index);
		break;
	case HUB_EV_USAGE:
		buf_printf(b, "USAGE in=%ld out=%ld cached=%ld write=%ld",
			   ev->usage.input, ev->usage.output, ev->usage.cached,
			   ev->usage.cache_write);
		break;
	case HUB_EV_FINISH:
		buf_printf(b, "FINISH %s", fin[ev->finish]);
		if (ev->stop_sequence.p) {
			buf_puts(b, " stop=");
			put_span(b, ev->stop_sequence);
		}
		break;
	case HUB_EV_ERROR:
		buf_printf(b, "ERROR %d ", ev->status);
		put_span(b, ev->text);
		break;
	case HUB_EV_DONE:
		buf_puts(b, "DONE");
		break;
	}
	buf_putc(b, '\n');
}

static void log_init(struct log *l)
{
	buf_init(&l->b, 1 << 20);
}

static const char *log_str(struct log *l)
{
	buf_putc(&l->b, 0);
	l->b.len--;
	return l->b.p ? l->b.p : "";
}

/* Feed one SSE event (name may be NULL) from a guarded copy of data. */
static void feed(struct hub_sdec *d, struct log *l, const char *name,
		 const char *data)
{
	struct hub_sse ev;
	size_t n = strlen(data);
	char *g = t_guarded_copy(data, n);

	ev.event.p = name;
	ev.event.n = name ? strlen(name) : 0;
	ev.data.p = g;
	ev.data.n = n;
	hub_claude.decode_event(d, &ev, log_emit, l);
	t_guarded_free(g);
}

/* ---- encoder driving ---- */

static struct hub_span sp(const char *s)
{
	struct hub_span r;
	r.p = s;
	r.n = s ? strlen(s) : 0;
	return r;
}

static struct hub_event mk(enum hub_ev_type t)
{
	struct hub_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = t;
	ev.usage.input = ev.usage.output = ev.usage.cached = -1;
	ev.usage.cache_write = ev.usage.thoughts = -1;
	return ev;
}

static struct hub_event mk_text(enum hub_ev_type t, const char *s, int idx)
{
	struct hub_event ev = mk(t);
	ev.text = sp(s);
	ev.index = idx;
	return ev;
}

static struct hub_event mk_tool(int idx, const char *id, const char *name)
{
	struct hub_event ev = mk(HUB_EV_TOOL_START);
	ev.index = idx;
	ev.id = sp(id);
	ev.name = sp(name);
	return ev;
}

static struct hub_event mk_usage(long in, long out, long cached, long wr)
{
	struct hub_event ev = mk(HUB_EV_USAGE);
	ev.usage.input = in;
	ev.usage.output = out;
	ev.usage.cached = cached;
	ev.usage.cache_write = wr;
	return ev;
}

static struct hub_event mk_finish(enum hub_finish f, const char *stop)
{
	struct hub_event ev = mk(HUB_EV_FINISH);
	ev.finish = f;
	ev.stop_sequence = sp(stop);
	return ev;
}

/* Encode evs[0..n) for a client (stream or not); the output as a
 * NUL-terminated string in out (caller buf_free). */
static void run_enc(int stream, const struct hub_event *evs, size_t n,
		    struct buf *out)
{
	struct hub_enc e;
	struct hub_enc_opts o;
	size_t i;

	memset(&o, 0, sizeof(o));
	o.stream = stream;
	o.model = "claude-sonnet-4";
	o.created = 1700000000;
	o.seed = 7;
	hub_enc_init(&e, HUB_CLAUDE, &o);
	buf_init(out, 1 << 20);
	for (i = 0; i < n; i++)
		hub_claude.encode_event(&e, &evs[i], out);
	hub_enc_free(&e);
	buf_putc(out, 0);
	out->len--;
}

/* ======================================================================
 * decode_request
 * ====================================================================== */

TEST(claude_req_system_string_and_basics)
{
	struct req r;
	const struct hub_part *p;

	REQUIRE(req_decode(&r,
		"{\"model\":\"claude-sonnet-4\",\"max_tokens\":1024,"
		"\"stream\":true,\"system\":\"Be brief.\","
		"\"temperature\":0.5,\"top_p\":0.9,\"top_k\":40,"
		"\"stop_sequences\":[\"END\",\"STOP\"],"
		"\"metadata\":{\"user_id\":\"u1\"},\"unknown\":[1,2],"
		"\"messages\":[{\"role\":\"user\",\"content\":\"Hi\\n\"}]}") == 0);
	CHECK_HSPAN(r.v.model, "claude-sonnet-4");
	CHECK_EQ_INT(r.v.stream, 1);
	CHECK_EQ_INT(r.v.max_tokens, 1024);
	CHECK_HSPAN(r.v.temperature, "0.5");
	CHECK_HSPAN(r.v.top_p, "0.9");
	CHECK_HSPAN(r.v.top_k, "40");
	CHECK_EQ_INT(r.v.nstop, 2);
	CHECK_HSPAN(r.v.stop[1], "STOP");
	REQUIRE(r.v.sys_n == 1);
	p = &r.v.parts[r.v.sys_first];
	CHECK_EQ_INT(p->type, HUB_P_TEXT);
	CHECK_HSPAN(p->text, "Be brief.");
	REQUIRE(r.v.nmsgs == 1);
	CHECK_EQ_INT(r.v.msgs[0].role, HUB_USER);
	REQUIRE(r.v.msgs[0].n == 1);
	CHECK_HSPAN(r.v.parts[r.v.msgs[0].first].text, "Hi\\n");
	CHECK_EQ_INT(r.v.thinking, -1);
	CHECK_EQ_INT(r.v.tool_choice, HUB_TC_UNSET);
	CHECK_EQ_INT(r.v.parallel_tool_calls, -1);
	req_free(&r);
}

TEST(claude_req_system_array_cache_control)
{
	struct req r;

	REQUIRE(req_decode(&r,
		"{\"model\":\"m\",\"system\":[{\"type\":\"text\",\"text\":\"A\"},"
		"{\"type\":\"text\",\"text\":\"B\",\"cache_control\":"
		"{\"type\":\"ephemeral\"}}],"
		"\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
		"\"text\":\"q\",\"cache_control\":{\"type\":\"ephemeral\"}}]}]}")
		== 0);
	REQUIRE(r.v.sys_n == 2);
	CHECK_HSPAN(r.v.parts[r.v.sys_first].text, "A");
	CHECK_EQ_INT(r.v.parts[r.v.sys_first].cache, 0);
	CHECK_HSPAN(r.v.parts[r.v.sys_first + 1].text, "B");
	CHECK_EQ_INT(r.v.parts[r.v.sys_first + 1].cache, 1);
	CHECK_EQ_INT(r.v.parts[r.v.msgs[0].first].cache, 1);
	CHECK_EQ_INT(r.v.stream, 0);
	CHECK_EQ_INT(r.v.max_tokens, -1);
	req_free(&r);
}

static const char conv_body[] =
	"{\"model\":\"claude-opus-4\",\"max_tokens\":4096,"
	"\"messages\":["
	"{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Look\"},"
	"{\"type\":\"image\",\"source\":{\"type\":\"base64\","
	"\"media_type\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}},"
	"{\"type\":\"image\",\"source\":{\"type\":\"url\","
	"\"url\":\"https://x.test/a.jpg\"}}]},"
	"{\"role\":\"assistant\",\"content\":["
	"{\"type\":\"thinking\",\"thinking\":\"hmm\","
	"\"signature\":\"EqQBCkYIBxgCKkD+/ab==\"},"
	"{\"type\":\"redacted_thinking\",\"data\":\"RED+/=acted\"},"
	"{\"type\":\"text\",\"text\":\"Calling\"},"
	"{\"type\":\"tool_use\",\"id\":\"toolu_01A\",\"name\":\"get_weather\","
	"\"input\":{\"city\":\"Paris\",\"n\":[1,2]}}]},"
	"{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
	"\"tool_use_id\":\"toolu_01A\",\"content\":[{\"type\":\"text\","
	"\"text\":\"sunny\"}],\"is_error\":true},"
	"{\"type\":\"text\",\"text\":\"thanks\"}]}]}";

TEST(claude_req_blocks)
{
	struct req r;
	const struct hub_part *p;

	REQUIRE(req_decode(&r, conv_body) == 0);
	REQUIRE(r.v.nmsgs == 3);
	REQUIRE(r.v.msgs[0].n == 3);
	p = &r.v.parts[r.v.msgs[0].first];
	CHECK_EQ_INT(p[1].type, HUB_P_IMAGE);
	CHECK_HSPAN(p[1].mime, "image/png");
	CHECK_HSPAN(p[1].data, "iVBORw0KGgo=");
	CHECK_EQ_INT(p[2].type, HUB_P_IMAGE);
	CHECK_HSPAN(p[2].url, "https://x.test/a.jpg");
	CHECK(!HUB_SPAN_SET(p[2].data));

	REQUIRE(r.v.msgs[1].n == 4);
	CHECK_EQ_INT(r.v.msgs[1].role, HUB_ASSISTANT);
	p = &r.v.parts[r.v.msgs[1].first];
	CHECK_EQ_INT(p[0].type, HUB_P_THINKING);
	CHECK_HSPAN(p[0].text, "hmm");
	CHECK_HSPAN(p[0].signature, "EqQBCkYIBxgCKkD+/ab==");
	CHECK_EQ_INT(p[0].redacted, 0);
	CHECK_EQ_INT(p[1].type, HUB_P_THINKING);
	CHECK_EQ_INT(p[1].redacted, 1);
	CHECK_HSPAN(p[1].signature, "RED+/=acted");
	CHECK_EQ_INT(p[3].type, HUB_P_TOOL_CALL);
	CHECK_HSPAN(p[3].id, "toolu_01A");
	CHECK_HSPAN(p[3].name, "get_weather");
	CHECK_HSPAN(p[3].args, "{\"city\":\"Paris\",\"n\":[1,2]}");
	CHECK_EQ_INT(p[3].args_is_str, 0);

	REQUIRE(r.v.msgs[2].n == 2);
	p = &r.v.parts[r.v.msgs[2].first];
	CHECK_EQ_INT(p[0].type, HUB_P_TOOL_RESULT);
	CHECK_HSPAN(p[0].id, "toolu_01A");
	CHECK_HSPAN(p[0].name, "get_weather");
	CHECK_EQ_INT(p[0].result_is_str, 0);
	CHECK_HSPAN(p[0].result, "[{\"type\":\"text\",\"text\":\"sunny\"}]");
	CHECK_EQ_INT(p[0].result_error, 1);
	CHECK_HSPAN(p[1].text, "thanks");
	req_free(&r);
}

TEST(claude_req_tool_result_string_and_unknown_id)
{
	struct req r;
	const struct hub_part *p;

	REQUIRE(req_decode(&r,
		"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
		"[{\"type\":\"tool_result\",\"tool_use_id\":\"x1\","
		"\"content\":\"42\"},{\"type\":\"tool_result\","
		"\"tool_use_id\":\"x2\"}]}]}") == 0);
	p = &r.v.parts[r.v.msgs[0].first];
	CHECK_EQ_INT(p[0].result_is_str, 1);
	CHECK_HSPAN(p[0].result, "42");
	CHECK(!HUB_SPAN_SET(p[0].name));
	CHECK_EQ_INT(p[0].result_error, 0);
	CHECK(!HUB_SPAN_SET(p[1].result));
	req_free(&r);
}

TEST(claude_req_tools_and_choice)
{
	struct req r;

	REQUIRE(req_decode(&r,
		"{\"model\":\"m\",\"messages\":[],\"tools\":["
		"{\"name\":\"a\",\"description\":\"does a\",\"input_schema\":"
		"{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"string\"}}}},"
		"{\"type\":\"web_search_20250305\",\"name\":\"web_search\"},"
		"{\"type\":\"custom\",\"name\":\"b\"}],"
		"\"tool_choice\":{\"type\":\"tool\",\"name\":\"a\","
		"\"disable_parallel_tool_use\":true}}") == 0);
	REQUIRE(r.v.ntools == 2);
	CHECK_HSPAN(r.v.tools[0].name, "a");
	CHECK_HSPAN(r.v.tools[0].description, "does a");
	CHECK_HSPAN(r.v.tools[0].schema,
		    "{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"string\"}}}");
	CHECK(r.v.tools[0].schema_tok > 0 &&
	      r.v.json->tok[r.v.tools[0].schema_tok].type == JSMN_OBJECT);
	CHECK_HSPAN(r.v.tools[1].name, "b");
	CHECK(!HUB_SPAN_SET(r.v.tools[1].schema));
	CHECK_EQ_INT(r.v.tools[1].schema_tok, -1);
	CHECK_EQ_INT(r.v.tool_choice, HUB_TC_TOOL);
	CHECK_HSPAN(r.v.tool_choice_name, "a");
	CHECK_EQ_INT(r.v.parallel_tool_calls, 0);
	req_free(&r);

	REQUIRE(req_decode(&r, "{\"model\":\"m\",\"messages\":[],"
			       "\"tool_choice\":{\"type\":\"any\"}}") == 0);
	CHECK_EQ_INT(r.v.tool_choice, HUB_TC_ANY);
	req_free(&r);
	REQUIRE(req_decode(&r, "{\"model\":\"m\",\"messages\":[],"
			       "\"tool_choice\":{\"type\":\"none\"}}") == 0);
	CHECK_EQ_INT(r.v.tool_choice, HUB_TC_NONE);
	req_free(&r);
	REQUIRE(req_decode(&r, "{\"model\":\"m\",\"messages\":[],"
			       "\"tool_choice\":{\"type\":\"auto\","
			       "\"disable_parallel_tool_use\":false}}") == 0);
	CHECK_EQ_INT(r.v.tool_choice, HUB_TC_AUTO);
	CHECK_EQ_INT(r.v.parallel_tool_calls, 1);
	req_free(&r);
}

TEST(claude_req_thinking_config)
{
	struct req r;

	REQUIRE(req_decode(&r, "{\"model\":\"m\",\"messages\":[],\"thinking\":"
			       "{\"type\":\"enabled\",\"budget_tokens\":5000}}") ==
		0);
	CHECK_EQ_INT(r.v.thinking, 1);
	CHECK_EQ_INT(r.v.thinking_budget, 5000);
	CHECK_EQ_INT(r.v.include_thoughts, 1);
	req_free(&r);

	REQUIRE(req_decode(&r, "{\"model\":\"m\",\"messages\":[],\"thinking\":"
			       "{\"type\":\"adaptive\"},\"output_config\":"
			       "{\"effort\":\"medium\"}}") == 0);
	CHECK_EQ_INT(r.v.thinking, 1);
	CHECK_EQ_INT(r.v.thinking_budget, -1);
	CHECK_EQ_INT(r.v.effort, HUB_EFFORT_MEDIUM);
	req_free(&r);

	REQUIRE(req_decode(&r, "{\"model\":\"m\",\"messages\":[],\"thinking\":"
			       "{\"type\":\"disabled\"}}") == 0);
	CHECK_EQ_INT(r.v.thinking, 0);
	CHECK_EQ_INT(r.v.thinking_budget, 0);
	req_free(&r);

	REQUIRE(req_decode(&r, "{\"model\":\"m\",\"messages\":[]}") == 0);
	CHECK_EQ_INT(r.v.thinking, -1);
	CHECK_EQ_INT(r.v.thinking_budget, HUB_BUDGET_UNSET);
	CHECK_EQ_INT(r.v.effort, HUB_EFFORT_UNSET);
	req_free(&r);
}

TEST(claude_req_stop_sequences_capped_at_8)
{
	struct req r;
	REQUIRE(req_decode(&r, "{\"model\":\"m\",\"messages\":[],"
			       "\"stop_sequences\":[\"1\",\"2\",\"3\",\"4\","
			       "\"5\",\"6\",\"7\",\"8\",\"9\"]}") == 0);
	CHECK_EQ_INT(r.v.nstop, 8);
	CHECK_HSPAN(r.v.stop[7], "8");
	req_free(&r);
}

TEST(claude_req_malformed_shapes)
{
	static const struct {
		const char *body, *msg;
	} bad[] = {
		{"[1]", "object"},
		{"{\"model\":\"m\"}", "messages"},
		{"{\"model\":\"m\",\"messages\":{}}", "messages"},
		{"{\"model\":3,\"messages\":[]}", "model"},
		{"{\"messages\":[1]}", "messages[0]"},
		{"{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}",
		 "role"},
		{"{\"messages\":[{\"role\":\"system\",\"content\":[{\"type\":"
		 "\"image\",\"source\":{\"type\":\"url\",\"url\":\"u\"}}]}]}",
		 "text only"},
		{"{\"messages\":[{\"role\":\"user\",\"content\":5}]}", "content"},
		{"{\"messages\":[{\"role\":\"user\"}]}", "content"},
		{"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
		 "\"text\"}]}]}",
		 "messages[0].content[0]"},
		{"{\"messages\":[{\"role\":\"user\",\"content\":[\"x\"]}]}",
		 "content block"},
		{"{\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":"
		 "\"tool_use\",\"name\":\"f\",\"input\":{}}]}]}",
		 "tool_use"},
		{"{\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":"
		 "\"tool_use\",\"id\":\"i\",\"name\":\"f\",\"input\":\"{}\"}]}]}",
		 "input"},
		{"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
		 "\"tool_result\",\"content\":\"x\"}]}]}",
		 "tool_use_id"},
		{"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
		 "\"image\"}]}]}",
		 "source"},
		{"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
		 "\"image\",\"source\":{\"type\":\"base64\",\"data\":\"x\"}}]}]}",
		 "media_type"},
		{"{\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":"
		 "\"thinking\",\"signature\":\"s\"}]}]}",
		 "thinking"},
		{"{\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":"
		 "\"redacted_thinking\"}]}]}",
		 "data"},
		{"{\"messages\":[],\"system\":5}", "system"},
		{"{\"messages\":[],\"system\":[{\"type\":\"image\"}]}", "system"},
		{"{\"messages\":[],\"tools\":{}}", "tools"},
		{"{\"messages\":[],\"tools\":[{\"description\":\"x\"}]}",
		 "tools[0]"},
		{"{\"messages\":[],\"tool_choice\":\"auto\"}", "tool_choice"},
		{"{\"messages\":[],\"tool_choice\":{\"type\":\"maybe\"}}",
		 "tool_choice"},
		{"{\"messages\":[],\"tool_choice\":{\"type\":\"tool\"}}",
		 "name"},
		{"{\"messages\":[],\"max_tokens\":\"9\"}", "max_tokens"},
		{"{\"messages\":[],\"stop_sequences\":\"x\"}", "stop_sequences"},
	};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(bad); i++) {
		struct req r;
		int rc = req_decode(&r, bad[i].body);
		if (!CHECK_EQ_INT(rc, -1) || !CHECK(strstr(r.err, bad[i].msg)))
			FAILF("case %zu: %s -> rc %d err \"%s\"", i, bad[i].body,
			      rc, r.err);
		req_free(&r);
	}
}

/* Claude Code 2.1.x sends "role":"system" messages inside messages for
 * models it does not know; each upstream format gets them where it can. */
static const char mid_system_body[] =
	"{\"model\":\"m\",\"max_tokens\":10,\"system\":\"top\","
	"\"messages\":[{\"role\":\"user\",\"content\":\"u1\"},"
	"{\"role\":\"system\",\"content\":\"s1\"},"
	"{\"role\":\"assistant\",\"content\":\"a1\"},"
	"{\"role\":\"user\",\"content\":\"u2\"},"
	"{\"role\":\"system\",\"content\":[{\"type\":\"text\","
	"\"text\":\"s2\"},{\"type\":\"text\",\"text\":\"s3\"}]}]}";

/* Encode v for upstream uc with options o into b, parsed into j. */
static int enc_opts(const struct hub_codec *uc, const struct hub_view *v,
		    const struct hub_req_opts *o, struct buf *b,
		    struct json *j)
{
	char err[128];
	buf_init(b, 1 << 20);
	if (uc->encode_request(v, o, b, err, sizeof(err)) != 0 ||
	    json_parse(j, b->p, b->len) != 0) {
		FAILF("%s encoder failed: %s", "upstream", err);
		buf_free(b);
		return -1;
	}
	return 0;
}

static int enc_with(const struct hub_codec *uc, const struct hub_view *v,
		    struct buf *b, struct json *j)
{
	struct hub_req_opts o;
	memset(&o, 0, sizeof(o));
	o.model = "up";
	return enc_opts(uc, v, &o, b, j);
}

TEST(claude_req_system_messages_inside_the_conversation)
{
	struct req r;
	struct buf b;
	struct json j;

	REQUIRE(req_decode(&r, mid_system_body) == 0);
	REQUIRE(r.v.nmsgs == 5);
	CHECK_EQ_INT(r.v.msgs[1].role, HUB_SYSTEM);
	CHECK_EQ_INT(r.v.msgs[4].role, HUB_SYSTEM);
	CHECK_EQ_INT(r.v.msgs[4].n, 2);

	/* OpenAI chat: system messages in place */
	if (enc_with(&hub_openai, &r.v, &b, &j) == 0) {
		CHECK_J(&j, "messages.0.role", "system");
		CHECK_J(&j, "messages.0.content", "top");
		CHECK_J(&j, "messages.1.content", "u1");
		CHECK_J(&j, "messages.2.role", "system");
		CHECK_J(&j, "messages.2.content", "s1");
		CHECK_J(&j, "messages.3.role", "assistant");
		CHECK_J(&j, "messages.4.content", "u2");
		CHECK_J(&j, "messages.5.role", "system");
		CHECK_J(&j, "messages.5.content", "s2\\ns3");
		CHECK_EQ_INT(j.tok[jpath(&j, "messages")].size, 6);
		json_free(&j);
		buf_free(&b);
	}
	/* Responses: developer items in place, the prompt as instructions */
	if (enc_with(&hub_responses, &r.v, &b, &j) == 0) {
		CHECK_J(&j, "instructions", "top");
		CHECK_J(&j, "input.0.role", "user");
		CHECK_J(&j, "input.1.role", "developer");
		CHECK_J(&j, "input.1.content.0.type", "input_text");
		CHECK_J(&j, "input.1.content.0.text", "s1");
		CHECK_J(&j, "input.2.role", "assistant");
		CHECK_J(&j, "input.3.role", "user");
		CHECK_J(&j, "input.4.role", "developer");
		CHECK_J(&j, "input.4.content.1.text", "s3");
		CHECK_EQ_INT(j.tok[jpath(&j, "input")].size, 5);
		json_free(&j);
		buf_free(&b);
	}
	/* Gemini: appended to systemInstruction in order; contents keep
	 * only the user and model turns */
	if (enc_with(&hub_gemini, &r.v, &b, &j) == 0) {
		CHECK_J(&j, "systemInstruction.parts.0.text", "top");
		CHECK_J(&j, "systemInstruction.parts.1.text", "s1");
		CHECK_J(&j, "systemInstruction.parts.2.text", "s2");
		CHECK_J(&j, "systemInstruction.parts.3.text", "s3");
		CHECK_J(&j, "contents.0.role", "user");
		CHECK_J(&j, "contents.1.role", "model");
		CHECK_J(&j, "contents.2.role", "user");
		CHECK_J(&j, "contents.2.parts.0.text", "u2");
		CHECK_EQ_INT(j.tok[jpath(&j, "contents")].size, 3);
		json_free(&j);
		buf_free(&b);
	}
	/* Claude: as they came */
	if (enc_with(&hub_claude, &r.v, &b, &j) == 0) {
		CHECK_J(&j, "system.0.text", "top");
		CHECK_J(&j, "messages.1.role", "system");
		CHECK_J(&j, "messages.1.content.0.text", "s1");
		CHECK_J(&j, "messages.2.role", "assistant");
		CHECK_J(&j, "messages.4.role", "system");
		CHECK_J(&j, "messages.4.content.1.text", "s3");
		CHECK_EQ_INT(j.tok[jpath(&j, "messages")].size, 5);
		json_free(&j);
		buf_free(&b);
	}
	req_free(&r);
}

/* ======================================================================
 * encode_request
 * ====================================================================== */

/* The largest budget a client may ask for leaves room for the answer
 * without overflowing (a fuzzer found budget + headroom past LONG_MAX). */
TEST(claude_enc_req_largest_budget)
{
	static const char body[] =
		"{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"x\"}]}],"
		"\"generationConfig\":{\"thinkingConfig\":{\"thinkingBudget\":"
		"2147483647}}}";
	struct json j;
	struct hub_view v;
	struct buf b;
	struct json o;
	char err[128];

	REQUIRE(json_parse(&j, body, strlen(body)) == 0);
	hub_view_init(&v, &j);
	REQUIRE(hub_gemini.decode_request(&j, &v, err, sizeof(err)) == 0);
	CHECK_EQ_INT(v.thinking_budget, 2147483647L);
	if (enc_with(&hub_claude, &v, &b, &o) == 0) {
		CHECK_J(&o, "max_tokens", "2147483647");
		CHECK_J(&o, "thinking.budget_tokens", "2147479551");
		json_free(&o);
		buf_free(&b);
	}
	hub_view_free(&v);
	json_free(&j);
}

TEST(claude_enc_req_minimal_exact)
{
	struct req r;
	char err[128], *s;

	REQUIRE(req_decode(&r, "{\"model\":\"client-name\",\"system\":\"S\\\"\","
			       "\"messages\":[{\"role\":\"user\",\"content\":"
			       "\"Hello\"}]}") == 0);
	s = req_encode(&r.v, "claude-sonnet-4-20250514", 1, err, sizeof(err));
	REQUIRE(s);
	CHECK_EQ_STR(s,
		"{\"model\":\"claude-sonnet-4-20250514\",\"max_tokens\":32000,"
		"\"system\":[{\"type\":\"text\",\"text\":\"S\\\"\"}],"
		"\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
		"\"text\":\"Hello\"}]}],\"stream\":true}");
	free(s);
	s = req_encode(&r.v, NULL, 0, err, sizeof(err));
	REQUIRE(s);
	CHECK(strstr(s, "\"model\":\"client-name\""));
	CHECK(strstr(s, "\"stream\":false}"));
	free(s);
	req_free(&r);
}

TEST(claude_enc_req_merges_and_orders)
{
	struct req r;
	struct json j;
	char err[128], *s;

	/* two user messages in a row, a tool result after text, unsigned
	 * thinking after text in the assistant turn */
	REQUIRE(req_decode(&r,
		"{\"model\":\"m\",\"messages\":["
		"{\"role\":\"user\",\"content\":\"one\"},"
		"{\"role\":\"user\",\"content\":\"two\"},"
		"{\"role\":\"assistant\",\"content\":[{\"type\":\"text\","
		"\"text\":\"ok\"},{\"type\":\"thinking\",\"thinking\":\"nosig\"},"
		"{\"type\":\"thinking\",\"thinking\":\"t\",\"signature\":"
		"\"Sig+/=\\/x\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\","
		"\"name\":\"f\",\"input\":{}}]},"
		"{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
		"\"see\"},{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\","
		"\"content\":\"r\"}]},"
		"{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\","
		"\"thinking\":\"dropped\"}]},"
		"{\"role\":\"user\",\"content\":\"three\"}]}") == 0);
	s = req_encode(&r.v, "m", 0, err, sizeof(err));
	REQUIRE(s);
	REQUIRE(json_parse(&j, s, strlen(s)) == 0);
	CHECK_EQ_INT(j.tok[jpath(&j, "messages")].size, 3);
	CHECK_J(&j, "messages.0.role", "user");
	CHECK_J(&j, "messages.0.content.0.text", "one");
	CHECK_J(&j, "messages.0.content.1.text", "two");
	CHECK_J(&j, "messages.1.role", "assistant");
	CHECK_EQ_INT(j.tok[jpath(&j, "messages.1.content")].size, 3);
	CHECK_J(&j, "messages.1.content.0.type", "thinking");
	CHECK_J(&j, "messages.1.content.0.signature", "Sig+/=\\/x");
	CHECK_J(&j, "messages.1.content.1.text", "ok");
	CHECK_J(&j, "messages.1.content.2.type", "tool_use");
	CHECK_J(&j, "messages.1.content.2.input", "{}");
	/* the assistant turn with only unsigned thinking vanished, so the
	 * two user turns around it merged, tool_result first */
	CHECK_J(&j, "messages.2.role", "user");
	CHECK_J(&j, "messages.2.content.0.type", "tool_result");
	CHECK_J(&j, "messages.2.content.0.tool_use_id", "toolu_1");
	CHECK_J(&j, "messages.2.content.0.content", "r");
	CHECK_J(&j, "messages.2.content.1.text", "see");
	CHECK_J(&j, "messages.2.content.2.text", "three");
	CHECK(!strstr(s, "nosig") && !strstr(s, "dropped"));
	json_free(&j);
	free(s);
	req_free(&r);
}

TEST(claude_enc_req_round_trip)
{
	struct req r, r2;
	char err[128], *s;
	const struct hub_part *a, *b;
	size_t i;

	REQUIRE(req_decode(&r, conv_body) == 0);
	s = req_encode(&r.v, "claude-opus-4", 1, err, sizeof(err));
	REQUIRE(s);
	REQUIRE(req_decode(&r2, s) == 0);
	CHECK_EQ_INT(r2.v.nmsgs, r.v.nmsgs);
	REQUIRE(r2.v.nparts == r.v.nparts);
	for (i = 0; i < r.v.nparts; i++) {
		a = &r.v.parts[i];
		b = &r2.v.parts[i];
		CHECK_EQ_INT(a->type, b->type);
		CHECK_EQ_MEM(a->text.p, a->text.n, b->text.p, b->text.n);
		CHECK_EQ_MEM(a->signature.p, a->signature.n, b->signature.p,
			     b->signature.n);
		CHECK_EQ_INT(a->redacted, b->redacted);
		CHECK_EQ_MEM(a->data.p, a->data.n, b->data.p, b->data.n);
		CHECK_EQ_MEM(a->mime.p, a->mime.n, b->mime.p, b->mime.n);
		CHECK_EQ_MEM(a->url.p, a->url.n, b->url.p, b->url.n);
		CHECK_EQ_MEM(a->id.p, a->id.n, b->id.p, b->id.n);
		CHECK_EQ_MEM(a->args.p, a->args.n, b->args.p, b->args.n);
		CHECK_EQ_MEM(a->result.p, a->result.n, b->result.p, b->result.n);
		CHECK_EQ_INT(a->result_error, b->result_error);
	}
	CHECK_EQ_INT(r2.v.max_tokens, 4096);
	CHECK_EQ_INT(r2.v.stream, 1);
	req_free(&r2);
	free(s);
	req_free(&r);
}

TEST(claude_enc_req_thinking_budgets)
{
	static const struct {
		const char *extra, *want_thinking;
		long want_max;
	} c[] = {
		{"\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2000},"
		 "\"max_tokens\":1000",
		 "{\"type\":\"enabled\",\"budget_tokens\":2000}", 6096},
		{"\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":500}",
		 "{\"type\":\"enabled\",\"budget_tokens\":1024}", 32000},
		{"\"thinking\":{\"type\":\"adaptive\"}",
		 "{\"type\":\"enabled\",\"budget_tokens\":8192}", 32000},
		{"\"output_config\":{\"effort\":\"high\"}",
		 "{\"type\":\"enabled\",\"budget_tokens\":24576}", 32000},
		{"\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":40000}",
		 "{\"type\":\"enabled\",\"budget_tokens\":40000}", 44096},
		{"\"thinking\":{\"type\":\"disabled\"},\"output_config\":"
		 "{\"effort\":\"high\"}",
		 NULL, 32000},
		{"\"max_tokens\":77", NULL, 77},
	};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(c); i++) {
		char body[512], err[128], *s;
		struct req r;
		struct json j;

		snprintf(body, sizeof(body),
			 "{\"model\":\"m\",%s,\"temperature\":0.2,\"top_k\":5,"
			 "\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}",
			 c[i].extra);
		REQUIRE(req_decode(&r, body) == 0);
		s = req_encode(&r.v, "m", 1, err, sizeof(err));
		REQUIRE(s);
		REQUIRE(json_parse(&j, s, strlen(s)) == 0);
		if (c[i].want_thinking) {
			CHECK_J(&j, "thinking", c[i].want_thinking);
			CHECK_NOJ(&j, "temperature");
			CHECK_NOJ(&j, "top_k");
		} else {
			CHECK_NOJ(&j, "thinking");
			CHECK_J(&j, "temperature", "0.2");
			CHECK_J(&j, "top_k", "5");
		}
		if (json_get(&j, 0, "max_tokens") < 0 ||
		    atol(json_ptr(&j, json_get(&j, 0, "max_tokens"))) !=
			    c[i].want_max)
			FAILF("case %zu: %s", i, s);
		json_free(&j);
		free(s);
		req_free(&r);
	}
}

/* Thinking must not be enabled when the last assistant turn is a tool call
 * without a signed thinking block, nor with a forced tool. */
TEST(claude_enc_req_thinking_dropped_when_claude_would_reject)
{
	char err[128], *s;
	struct req r;

	REQUIRE(req_decode(&r,
		"{\"model\":\"m\",\"thinking\":{\"type\":\"enabled\","
		"\"budget_tokens\":4000},\"messages\":["
		"{\"role\":\"user\",\"content\":\"q\"},"
		"{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\","
		"\"id\":\"t1\",\"name\":\"f\",\"input\":{}}]},"
		"{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
		"\"tool_use_id\":\"t1\",\"content\":\"ok\"}]}]}") == 0);
	s = req_encode(&r.v, "m", 1, err, sizeof(err));
	REQUIRE(s);
	CHECK(!strstr(s, "\"thinking\""));
	free(s);
	req_free(&r);

	REQUIRE(req_decode(&r,
		"{\"model\":\"m\",\"thinking\":{\"type\":\"enabled\","
		"\"budget_tokens\":4000},\"tools\":[{\"name\":\"f\"}],"
		"\"tool_choice\":{\"type\":\"any\"},\"messages\":["
		"{\"role\":\"user\",\"content\":\"q\"}]}") == 0);
	s = req_encode(&r.v, "m", 1, err, sizeof(err));
	REQUIRE(s);
	CHECK(!strstr(s, "\"thinking\""));
	CHECK(strstr(s, "\"tool_choice\":{\"type\":\"any\"}"));
	free(s);
	req_free(&r);
}

TEST(claude_enc_req_tools_choice_stop)
{
	char err[128], *s;
	struct req r;

	REQUIRE(req_decode(&r,
		"{\"model\":\"m\",\"stop_sequences\":[\"a\\nb\"],\"top_p\":0.8,"
		"\"tools\":[{\"name\":\"f\",\"description\":\"d\",\"input_schema\":"
		"{\"type\":\"object\"}},{\"name\":\"g\"}],"
		"\"tool_choice\":{\"type\":\"tool\",\"name\":\"g\","
		"\"disable_parallel_tool_use\":true},"
		"\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}") == 0);
	s = req_encode(&r.v, "m", 1, err, sizeof(err));
	REQUIRE(s);
	CHECK(strstr(s, ",\"tools\":[{\"name\":\"f\",\"description\":\"d\","
			"\"input_schema\":{\"type\":\"object\"}},{\"name\":\"g\","
			"\"input_schema\":{\"type\":\"object\",\"properties\":"
			"{}}}]"));
	CHECK(strstr(s, ",\"tool_choice\":{\"type\":\"tool\",\"name\":\"g\","
			"\"disable_parallel_tool_use\":true}"));
	CHECK(strstr(s, ",\"stop_sequences\":[\"a\\nb\"]"));
	CHECK(strstr(s, ",\"top_p\":0.8"));
	free(s);
	req_free(&r);
}

/* A view as another format's decoder would build it: OpenAI-style string
 * arguments, ids with characters Claude refuses, Gemini-style calls
 * without ids, a data URL, an object tool result, an empty text. */
TEST(claude_enc_req_foreign_view)
{
	struct hub_view v;
	struct hub_part *p;
	struct json j;
	char err[128], *s;

	hub_view_init(&v, NULL);
	hub_add_msg(&v, HUB_USER);
	p = hub_add_part(&v);
	p->type = HUB_P_IMAGE;
	p->url = sp("data:image/jpeg;base64,/9j/AA==");
	p = hub_add_part(&v);
	p->type = HUB_P_TEXT;
	p->text = sp("");
	v.msgs[0].n = 2;
	hub_add_msg(&v, HUB_ASSISTANT);
	p = hub_add_part(&v);
	p->type = HUB_P_TOOL_CALL;
	p->id = sp("call.abc:1");
	p->name = sp("f");
	p->args = sp("{\\\"x\\\":1}");
	p->args_is_str = 1;
	p = hub_add_part(&v);
	p->type = HUB_P_TOOL_CALL;
	p->id = sp("call_2");
	p->name = sp("f");
	p->args = sp("not json");
	p->args_is_str = 1;
	p = hub_add_part(&v);
	p->type = HUB_P_TOOL_CALL;
	p->name = sp("g");
	p->args = sp("{\"y\":2}");
	v.msgs[1].n = 3;
	hub_add_msg(&v, HUB_USER);
	p = hub_add_part(&v);
	p->type = HUB_P_TOOL_RESULT;
	p->id = sp("call.abc:1");
	p->result = sp("done");
	p->result_is_str = 1;
	p = hub_add_part(&v);
	p->type = HUB_P_TOOL_RESULT;
	p->name = sp("g");
	p->result = sp("{\"ok\":true}");
	v.msgs[2].n = 2;

	s = req_encode(&v, "m", 0, err, sizeof(err));
	REQUIRE(s);
	REQUIRE(json_parse(&j, s, strlen(s)) == 0);
	CHECK_J(&j, "messages.0.content.0.source.type", "base64");
	CHECK_J(&j, "messages.0.content.0.source.media_type", "image/jpeg");
	CHECK_J(&j, "messages.0.content.0.source.data", "/9j/AA==");
	CHECK_EQ_INT(j.tok[jpath(&j, "messages.0.content")].size, 1);
	CHECK_J(&j, "messages.1.content.0.id", "call_abc_1");
	CHECK_J(&j, "messages.1.content.0.input", "{\"x\":1}");
	CHECK_J(&j, "messages.1.content.1.input", "{}");
	CHECK_J(&j, "messages.1.content.2.input", "{\"y\":2}");
	CHECK_J(&j, "messages.2.content.0.tool_use_id", "call_abc_1");
	CHECK_J(&j, "messages.2.content.1.content", "{\\\"ok\\\":true}");
	/* the id-less call and result pair up */
	{
		int a = jpath(&j, "messages.1.content.2.id");
		int b = jpath(&j, "messages.2.content.1.tool_use_id");
		REQUIRE(a > 0 && b > 0);
		CHECK_EQ_MEM(json_ptr(&j, a), json_len(&j, a), json_ptr(&j, b),
			     json_len(&j, b));
	}
	json_free(&j);
	free(s);
	hub_view_free(&v);
}

/* ======================================================================
 * decode_event
 * ====================================================================== */

static void sdec_start(struct hub_sdec *d, struct log *l)
{
	hub_sdec_init(d, HUB_CLAUDE, 1);
	log_init(l);
}

static void sdec_end(struct hub_sdec *d, struct log *l)
{
	hub_sdec_free(d);
	buf_free(&l->b);
}

TEST(claude_dec_text_stream)
{
	struct hub_sdec d;
	struct log l;

	sdec_start(&d, &l);
	feed(&d, &l, "message_start",
	     "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_01X\","
	     "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
	     "\"model\":\"claude-sonnet-4-20250514\",\"stop_reason\":null,"
	     "\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,"
	     "\"cache_creation_input_tokens\":10,\"cache_read_input_tokens\":"
	     "100,\"output_tokens\":1}}}");
	feed(&d, &l, "content_block_start",
	     "{\"type\":\"content_block_start\",\"index\":0,"
	     "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
	feed(&d, &l, "ping", "{\"type\": \"ping\"}");
	feed(&d, &l, "content_block_delta",
	     "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
	     "{\"type\":\"text_delta\",\"text\":\"Hello\"}}");
	feed(&d, &l, NULL,
	     "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
	     "{\"type\":\"text_delta\",\"text\":\" \\\"world\\\"\\n\"}}");
	feed(&d, &l, "content_block_stop",
	     "{\"type\":\"content_block_stop\",\"index\":0}");
	feed(&d, &l, "message_delta",
	     "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
	     "\"end_turn\",\"stop_sequence\":null},\"usage\":"
	     "{\"output_tokens\":15}}");
	feed(&d, &l, "message_stop", "{\"type\":\"message_stop\"}");
	CHECK_EQ_INT(d.done, 1);
	feed(&d, &l, "content_block_delta",
	     "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
	     "{\"type\":\"text_delta\",\"text\":\"late\"}}");
	CHECK_EQ_STR(log_str(&l),
		"START msg_01X claude-sonnet-4-20250514\n"
		"USAGE in=135 out=1 cached=100 write=10\n"
		"TEXT Hello\n"
		"TEXT  \\\"world\\\"\\n\n"
		"USAGE in=135 out=15 cached=100 write=10\n"
		"FINISH stop\n");
	sdec_end(&d, &l);
}

TEST(claude_dec_tool_stream_split_args)
{
	static const char *const parts[] = {
		"", "{\\\"ci", "ty\\\": \\\"Par", "is\\\", ", "\\\"unit\\\"",
		": \\\"c\\\"", "}",
	};
	struct hub_sdec d;
	struct log l;
	char ev[256];
	size_t i;

	sdec_start(&d, &l);
	feed(&d, &l, "message_start",
	     "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\","
	     "\"model\":\"claude-opus-4\",\"usage\":{\"input_tokens\":5,"
	     "\"output_tokens\":0}}}");
	feed(&d, &l, "content_block_start",
	     "{\"type\":\"content_block_start\",\"index\":0,"
	     "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
	feed(&d, &l, "content_block_delta",
	     "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
	     "{\"type\":\"text_delta\",\"text\":\"Checking.\"}}");
	feed(&d, &l, "content_block_stop",
	     "{\"type\":\"content_block_stop\",\"index\":0}");
	feed(&d, &l, "content_block_start",
	     "{\"type\":\"content_block_start\",\"index\":1,"
	     "\"content_block\":{\"type\":\"tool_use\",\"id\":"
	     "\"toolu_01T1\",\"name\":\"get_weather\",\"input\":{}}}");
	for (i = 0; i < T_ARRAY_LEN(parts); i++) {
		snprintf(ev, sizeof(ev),
			 "{\"type\":\"content_block_delta\",\"index\":1,"
			 "\"delta\":{\"type\":\"input_json_delta\","
			 "\"partial_json\":\"%s\"}}",
			 parts[i]);
		feed(&d, &l, "content_block_delta", ev);
	}
	feed(&d, &l, "content_block_stop",
	     "{\"type\":\"content_block_stop\",\"index\":1}");
	feed(&d, &l, "content_block_start",
	     "{\"type\":\"content_block_start\",\"index\":2,"
	     "\"content_block\":{\"type\":\"tool_use\",\"id\":"
	     "\"toolu_01T2\",\"name\":\"now\",\"input\":{}}}");
	feed(&d, &l, "content_block_delta",
	     "{\"type\":\"content_block_delta\",\"index\":2,\"delta\":"
	     "{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}");
	feed(&d, &l, "content_block_stop",
	     "{\"type\":\"content_block_stop\",\"index\":2}");
	feed(&d, &l, "message_delta",
	     "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
	     "\"tool_use\",\"stop_sequence\":null},\"usage\":"
	     "{\"output_tokens\":60}}");
	feed(&d, &l, "message_stop", "{\"type\":\"message_stop\"}");
	CHECK_EQ_STR(log_str(&l),
		"START msg_2 claude-opus-4\n"
		"USAGE in=5 out=0 cached=-1 write=-1\n"
		"TEXT Checking.\n"
		"TOOL_START 0 toolu_01T1 get_weather\n"
		"TOOL_ARGS 0 {\\\"ci\n"
		"TOOL_ARGS 0 ty\\\": \\\"Par\n"
		"TOOL_ARGS 0 is\\\", \n"
		"TOOL_ARGS 0 \\\"unit\\\"\n"
		"TOOL_ARGS 0 : \\\"c\\\"\n"
		"TOOL_ARGS 0 }\n"
		"TOOL_END 0\n"
		"TOOL_START 1 toolu_01T2 now\n"
		"TOOL_ARGS 1 {}\n"
		"TOOL_END 1\n"
		"USAGE in=5 out=60 cached=-1 write=-1\n"
		"FINISH tool\n");
	sdec_end(&d, &l);
}

TEST(claude_dec_thinking_signature_redacted)
{
	struct hub_sdec d;
	struct log l;

	sdec_start(&d, &l);
	feed(&d, &l, "message_start",
	     "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_3\","
	     "\"model\":\"claude-sonnet-4\",\"usage\":{\"input_tokens\":9,"
	     "\"output_tokens\":0}}}");
	feed(&d, &l, "content_block_start",
	     "{\"type\":\"content_block_start\",\"index\":0,"
	     "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\","
	     "\"signature\":\"\"}}");
	feed(&d, &l, "content_block_delta",
	     "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
	     "{\"type\":\"thinking_delta\",\"thinking\":\"Let me think\"}}");
	feed(&d, &l, "content_block_delta",
	     "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
	     "{\"type\":\"signature_delta\",\"signature\":"
	     "\"EqQBCkgIARABGAIiQL+/9==\\/x\"}}");
	feed(&d, &l, "content_block_stop",
	     "{\"type\":\"content_block_stop\",\"index\":0}");
	feed(&d, &l, "content_block_start",
	     "{\"type\":\"content_block_start\",\"index\":1,"
	     "\"content_block\":{\"type\":\"redacted_thinking\",\"data\":"
	     "\"EmwKAhgBEgy3va+/=\"}}");
	feed(&d, &l, "content_block_stop",
	     "{\"type\":\"content_block_stop\",\"index\":1}");
	feed(&d, &l, "message_delta",
	     "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
	     "\"stop_sequence\",\"stop_sequence\":\"###\"},\"usage\":"
	     "{\"output_tokens\":3}}");
	CHECK_EQ_STR(log_str(&l),
		"START msg_3 claude-sonnet-4\n"
		"USAGE in=9 out=0 cached=-1 write=-1\n"
		"THINKING Let me think\n"
		"SIG EqQBCkgIARABGAIiQL+/9==\\/x\n"
		"SIG EmwKAhgBEgy3va+/=\n"
		"USAGE in=9 out=3 cached=-1 write=-1\n"
		"FINISH stop stop=###\n");
	sdec_end(&d, &l);
}

TEST(claude_dec_finish_reasons)
{
	static const struct {
		const char *reason, *want;
	} c[] = {
		{"end_turn", "FINISH stop\n"},
		{"max_tokens", "FINISH length\n"},
		{"tool_use", "FINISH tool\n"},
		{"refusal", "FINISH filter\n"},
		{"pause_turn", "FINISH stop\n"},
	};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(c); i++) {
		struct hub_sdec d;
		struct log l;
		char ev[256];

		sdec_start(&d, &l);
		d.started = 1; /* skip START in the log */
		snprintf(ev, sizeof(ev),
			 "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\""
			 ":\"%s\",\"stop_sequence\":null}}",
			 c[i].reason);
		feed(&d, &l, "message_delta", ev);
		CHECK_EQ_STR(log_str(&l), c[i].want);
		sdec_end(&d, &l);
	}
}

TEST(claude_dec_error_events)
{
	static const struct {
		const char *type;
		int status;
	} c[] = {
		{"overloaded_error", 503}, {"rate_limit_error", 429},
		{"api_error", 500},        {"invalid_request_error", 400},
		{"authentication_error", 401},
	};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(c); i++) {
		struct hub_sdec d;
		struct log l;
		char ev[256], want[128];

		sdec_start(&d, &l);
		snprintf(ev, sizeof(ev),
			 "{\"type\":\"error\",\"error\":{\"type\":\"%s\","
			 "\"message\":\"Over\\\"loaded\"}}",
			 c[i].type);
		feed(&d, &l, "error", ev);
		snprintf(want, sizeof(want), "ERROR %d Over\\\"loaded\n",
			 c[i].status);
		CHECK_EQ_STR(log_str(&l), want);
		sdec_end(&d, &l);
	}
}

TEST(claude_dec_malformed_event_once)
{
	struct hub_sdec d;
	struct log l;

	sdec_start(&d, &l);
	feed(&d, &l, "message_start",
	     "{\"type\":\"message_start\",\"message\":{\"id\":\"m\","
	     "\"model\":\"x\"}}");
	feed(&d, &l, "content_block_delta", "{\"type\":\"content_block_de");
	feed(&d, &l, "content_block_delta", "[[[");
	feed(&d, &l, "content_block_delta",
	     "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
	     "{\"type\":\"text_delta\",\"text\":\"x\"}}");
	CHECK_EQ_STR(log_str(&l),
		"START m x\n"
		"ERROR 502 malformed upstream event\n");
	sdec_end(&d, &l);
}

TEST(claude_dec_empty_and_nameless_events)
{
	struct hub_sdec d;
	struct log l;

	sdec_start(&d, &l);
	feed(&d, &l, NULL, "");
	feed(&d, &l, "ping", "");
	feed(&d, &l, NULL, "  \n");
	/* no "type" in the data: the event name decides */
	feed(&d, &l, "content_block_start",
	     "{\"index\":0,\"content_block\":{\"type\":\"text\","
	     "\"text\":\"\"}}");
	feed(&d, &l, "content_block_delta",
	     "{\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
	     "\"hi\"}}");
	CHECK_EQ_STR(log_str(&l), "START - -\nTEXT hi\n");
	sdec_end(&d, &l);
}

/* ======================================================================
 * decode_body
 * ====================================================================== */

static int body(struct hub_sdec *d, struct log *l, const char *s)
{
	char *g = t_guarded_copy(s, strlen(s));
	int rc = hub_claude.decode_body(d, g, strlen(s), log_emit, l);
	t_guarded_free(g);
	return rc;
}

TEST(claude_dec_body_message)
{
	struct hub_sdec d;
	struct log l;

	sdec_start(&d, &l);
	CHECK_EQ_INT(body(&d, &l,
		"{\"id\":\"msg_9\",\"type\":\"message\",\"role\":\"assistant\","
		"\"model\":\"claude-opus-4\",\"content\":["
		"{\"type\":\"thinking\",\"thinking\":\"mull\",\"signature\":"
		"\"S+/=\"},{\"type\":\"redacted_thinking\",\"data\":\"R=\"},"
		"{\"type\":\"text\",\"text\":\"Sure\"},"
		"{\"type\":\"tool_use\",\"id\":\"toolu_9\",\"name\":\"f\","
		"\"input\":{\"q\":\"a\\\"b\"}}],"
		"\"stop_reason\":\"tool_use\",\"stop_sequence\":null,"
		"\"usage\":{\"input_tokens\":12,\"cache_read_input_tokens\":3,"
		"\"output_tokens\":34}}"),
		0);
	CHECK_EQ_STR(log_str(&l),
		"START msg_9 claude-opus-4\n"
		"THINKING mull\n"
		"SIG S+/=\n"
		"SIG R=\n"
		"TEXT Sure\n"
		"TOOL_START 0 toolu_9 f\n"
		"TOOL_ARGS 0 {\\\"q\\\":\\\"a\\\\\\\"b\\\"}\n"
		"TOOL_END 0\n"
		"USAGE in=15 out=34 cached=3 write=-1\n"
		"FINISH tool\n");
	sdec_end(&d, &l);
}

TEST(claude_dec_body_bad)
{
	struct hub_sdec d;
	struct log l;

	sdec_start(&d, &l);
	CHECK_EQ_INT(body(&d, &l, "not json"), -1);
	CHECK_EQ_INT(body(&d, &l, "{\"object\":\"chat.completion\"}"), -1);
	CHECK_EQ_INT(body(&d, &l, "{\"type\":\"message\",\"content\":5}"), -1);
	CHECK_EQ_INT(body(&d, &l, "[]"), -1);
	CHECK_EQ_STR(log_str(&l), "");
	CHECK_EQ_INT(body(&d, &l,
			  "{\"type\":\"error\",\"error\":{\"type\":"
			  "\"rate_limit_error\",\"message\":\"slow down\"}}"),
		     0);
	CHECK_EQ_STR(log_str(&l), "ERROR 429 slow down\n");
	sdec_end(&d, &l);
}

/* ======================================================================
 * encode_event: stream
 * ====================================================================== */

TEST(claude_enc_stream_text_exact)
{
	struct hub_event evs[6];
	struct buf out;

	evs[0] = mk(HUB_EV_START);
	evs[0].id = sp("msg_abc");
	evs[0].model = sp("claude-x");
	evs[1] = mk_text(HUB_EV_TEXT, "Hel", 0);
	evs[2] = mk_text(HUB_EV_TEXT, "lo \\\"q\\\"", 0);
	evs[3] = mk_usage(120, 7, 100, -1);
	evs[4] = mk_finish(HUB_FIN_STOP, NULL);
	evs[5] = mk(HUB_EV_DONE);
	run_enc(1, evs, 6, &out);
	CHECK_EQ_STR(out.p,
		"event: message_start\n"
		"data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_abc\","
		"\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
		"\"model\":\"claude-x\",\"stop_reason\":null,\"stop_sequence\":"
		"null,\"usage\":{\"input_tokens\":0,\"output_tokens\":0}}}\n\n"
		"event: content_block_start\n"
		"data: {\"type\":\"content_block_start\",\"index\":0,"
		"\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
		"event: content_block_delta\n"
		"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
		"{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n"
		"event: content_block_delta\n"
		"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
		"{\"type\":\"text_delta\",\"text\":\"lo \\\"q\\\"\"}}\n\n"
		"event: content_block_stop\n"
		"data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
		"event: message_delta\n"
		"data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
		"\"end_turn\",\"stop_sequence\":null},\"usage\":{\"input_tokens\""
		":20,\"cache_read_input_tokens\":100,\"output_tokens\":7}}\n\n"
		"event: message_stop\n"
		"data: {\"type\":\"message_stop\"}\n\n");
	buf_free(&out);
}

TEST(claude_enc_stream_thinking_tools_exact)
{
	struct hub_event evs[12];
	struct buf out;
	size_t n = 0;

	evs[n] = mk(HUB_EV_START);
	evs[n++].id = sp("msg_t");
	evs[n++] = mk_text(HUB_EV_THINKING, "plan", 0);
	evs[n++] = mk_text(HUB_EV_THINKING_SIG, "Sig+/=", 0);
	evs[n++] = mk_text(HUB_EV_TEXT, "ok", 0);
	evs[n++] = mk_tool(0, "call_abc", "f");
	evs[n++] = mk_text(HUB_EV_TOOL_ARGS, "{\\\"a\\\":", 0);
	evs[n++] = mk_text(HUB_EV_TOOL_ARGS, "1}", 0);
	evs[n++] = mk_text(HUB_EV_TOOL_END, NULL, 0);
	evs[n++] = mk_tool(1, "toolu_2", "g");
	evs[n++] = mk_text(HUB_EV_TOOL_END, NULL, 1);
	evs[n++] = mk_finish(HUB_FIN_TOOL, NULL);
	evs[n++] = mk(HUB_EV_DONE);
	run_enc(1, evs, n, &out);
	CHECK_EQ_STR(out.p,
		"event: message_start\n"
		"data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_t\","
		"\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
		"\"model\":\"claude-sonnet-4\",\"stop_reason\":null,"
		"\"stop_sequence\":null,\"usage\":{\"input_tokens\":0,"
		"\"output_tokens\":0}}}\n\n"
		"event: content_block_start\n"
		"data: {\"type\":\"content_block_start\",\"index\":0,"
		"\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n"
		"event: content_block_delta\n"
		"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
		"{\"type\":\"thinking_delta\",\"thinking\":\"plan\"}}\n\n"
		"event: content_block_delta\n"
		"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
		"{\"type\":\"signature_delta\",\"signature\":\"Sig+/=\"}}\n\n"
		"event: content_block_stop\n"
		"data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
		"event: content_block_start\n"
		"data: {\"type\":\"content_block_start\",\"index\":1,"
		"\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
		"event: content_block_delta\n"
		"data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
		"{\"type\":\"text_delta\",\"text\":\"ok\"}}\n\n"
		"event: content_block_stop\n"
		"data: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
		"event: content_block_start\n"
		"data: {\"type\":\"content_block_start\",\"index\":2,"
		"\"content_block\":{\"type\":\"tool_use\",\"id\":\"call_abc\","
		"\"name\":\"f\",\"input\":{}}}\n\n"
		"event: content_block_delta\n"
		"data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":"
		"{\"type\":\"input_json_delta\",\"partial_json\":"
		"\"{\\\"a\\\":\"}}\n\n"
		"event: content_block_delta\n"
		"data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":"
		"{\"type\":\"input_json_delta\",\"partial_json\":\"1}\"}}\n\n"
		"event: content_block_stop\n"
		"data: {\"type\":\"content_block_stop\",\"index\":2}\n\n"
		"event: content_block_start\n"
		"data: {\"type\":\"content_block_start\",\"index\":3,"
		"\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_2\","
		"\"name\":\"g\",\"input\":{}}}\n\n"
		"event: content_block_stop\n"
		"data: {\"type\":\"content_block_stop\",\"index\":3}\n\n"
		"event: message_delta\n"
		"data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
		"\"tool_use\",\"stop_sequence\":null},\"usage\":"
		"{\"output_tokens\":0}}\n\n"
		"event: message_stop\n"
		"data: {\"type\":\"message_stop\"}\n\n");
	buf_free(&out);
}

/* No START, no FINISH: message_start comes lazily (generated id, the
 * client's model); tools imply tool_use; a stop sequence is reported. */
TEST(claude_enc_stream_lazy_head_and_defaults)
{
	struct hub_event evs[4];
	struct buf out;
	char id[64], want[256];

	evs[0] = mk_tool(0, NULL, "f");
	evs[1] = mk_text(HUB_EV_TOOL_END, NULL, 0);
	evs[2] = mk(HUB_EV_DONE);
	run_enc(1, evs, 3, &out);
	hub_gen_id(id, sizeof(id), "msg_", 7, 0);
	snprintf(want, sizeof(want),
		 "event: message_start\ndata: {\"type\":\"message_start\","
		 "\"message\":{\"id\":\"%s\",\"type\":\"message\",\"role\":"
		 "\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4\"",
		 id);
	CHECK(strncmp(out.p, want, strlen(want)) == 0);
	hub_gen_id(id, sizeof(id), "toolu_", 7, 1);
	snprintf(want, sizeof(want), "\"id\":\"%s\",\"name\":\"f\"", id);
	CHECK(strstr(out.p, want));
	CHECK(strstr(out.p, "\"stop_reason\":\"tool_use\""));
	CHECK(strstr(out.p, "event: message_stop\n"));
	buf_free(&out);

	evs[0] = mk_text(HUB_EV_TEXT, "x", 0);
	evs[1] = mk_finish(HUB_FIN_STOP, "END");
	evs[2] = mk(HUB_EV_DONE);
	run_enc(1, evs, 3, &out);
	CHECK(strstr(out.p, "{\"stop_reason\":\"stop_sequence\","
			    "\"stop_sequence\":\"END\"}"));
	buf_free(&out);

	/* DONE alone still gives a complete, well-formed message */
	evs[0] = mk(HUB_EV_DONE);
	evs[1] = mk(HUB_EV_DONE);
	run_enc(1, evs, 2, &out);
	CHECK(strstr(out.p, "event: message_start\n"));
	CHECK(strstr(out.p, "\"stop_reason\":\"end_turn\""));
	CHECK(strstr(out.p, "event: message_stop\n"));
	CHECK(!strstr(strstr(out.p, "event: message_stop") + 1,
		      "event: message_stop"));
	buf_free(&out);
}

TEST(claude_enc_stream_error)
{
	struct hub_event evs[5];
	struct buf out;

	evs[0] = mk(HUB_EV_START);
	evs[0].id = sp("msg_e");
	evs[1] = mk_text(HUB_EV_TEXT, "part", 0);
	evs[2] = mk_text(HUB_EV_ERROR, "upstream \\\"died\\\"", 0);
	evs[2].status = 529;
	evs[3] = mk_text(HUB_EV_TEXT, "ignored", 0);
	evs[4] = mk(HUB_EV_DONE);
	run_enc(1, evs, 5, &out);
	CHECK(strstr(out.p, "\"text\":\"part\""));
	CHECK(!strstr(out.p, "ignored"));
	CHECK(!strstr(out.p, "message_delta"));
	CHECK(!strstr(out.p, "message_stop"));
	{
		static const char tail[] =
			"event: error\ndata: {\"type\":\"error\",\"error\":"
			"{\"type\":\"overloaded_error\",\"message\":"
			"\"upstream \\\"died\\\"\"}}\n\n";
		size_t n = strlen(out.p), tn = strlen(tail);
		CHECK(n >= tn && strcmp(out.p + n - tn, tail) == 0);
	}
	buf_free(&out);
}

/* ======================================================================
 * encode_event: non-stream
 * ====================================================================== */

TEST(claude_enc_body_answer)
{
	struct hub_event evs[14];
	struct buf out;
	struct json j;
	size_t n = 0;

	evs[n] = mk(HUB_EV_START);
	evs[n].id = sp("msg_body");
	evs[n++].model = sp("claude-up");
	evs[n++] = mk_text(HUB_EV_THINKING, "a ", 0);
	evs[n++] = mk_text(HUB_EV_THINKING, "b", 0);
	evs[n++] = mk_text(HUB_EV_THINKING_SIG, "S+/", 0);
	evs[n++] = mk_text(HUB_EV_THINKING_SIG, "=", 0);
	evs[n++] = mk_text(HUB_EV_TEXT, "Hi \\n", 0);
	evs[n++] = mk_text(HUB_EV_TEXT, "there", 0);
	evs[n++] = mk_tool(0, "call_1", "f");
	evs[n++] = mk_text(HUB_EV_TOOL_ARGS, "{\\\"x\\\":", 0);
	evs[n++] = mk_text(HUB_EV_TOOL_ARGS, "[1,2]}", 0);
	evs[n++] = mk_text(HUB_EV_TOOL_END, NULL, 0);
	evs[n++] = mk_usage(50, 9, -1, 5);
	evs[n++] = mk_finish(HUB_FIN_TOOL, NULL);
	evs[n++] = mk(HUB_EV_DONE);
	run_enc(0, evs, n, &out);
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	CHECK_J(&j, "id", "msg_body");
	CHECK_J(&j, "type", "message");
	CHECK_J(&j, "role", "assistant");
	CHECK_J(&j, "model", "claude-up");
	CHECK_EQ_INT(j.tok[jpath(&j, "content")].size, 3);
	CHECK_J(&j, "content.0.type", "thinking");
	CHECK_J(&j, "content.0.thinking", "a b");
	CHECK_J(&j, "content.0.signature", "S+/=");
	CHECK_J(&j, "content.1.text", "Hi \\nthere");
	CHECK_J(&j, "content.2.type", "tool_use");
	CHECK_J(&j, "content.2.id", "call_1");
	CHECK_J(&j, "content.2.input", "{\"x\":[1,2]}");
	CHECK_J(&j, "stop_reason", "tool_use");
	CHECK_J(&j, "stop_sequence", "null");
	CHECK_J(&j, "usage.input_tokens", "45");
	CHECK_J(&j, "usage.cache_creation_input_tokens", "5");
	CHECK_J(&j, "usage.output_tokens", "9");
	json_free(&j);
	buf_free(&out);
}

TEST(claude_enc_body_minimal_and_stop_sequence)
{
	struct hub_event evs[3];
	struct buf out;
	struct json j;
	char id[64];

	evs[0] = mk_text(HUB_EV_TEXT, "x", 0);
	evs[1] = mk_finish(HUB_FIN_STOP, "##");
	evs[2] = mk(HUB_EV_DONE);
	run_enc(0, evs, 3, &out);
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	hub_gen_id(id, sizeof(id), "msg_", 7, 0);
	CHECK_J(&j, "id", id);
	CHECK_J(&j, "model", "claude-sonnet-4");
	CHECK_J(&j, "content.0.text", "x");
	CHECK_J(&j, "stop_reason", "stop_sequence");
	CHECK_J(&j, "stop_sequence", "##");
	CHECK_J(&j, "usage.input_tokens", "0");
	CHECK_J(&j, "usage.output_tokens", "0");
	json_free(&j);
	buf_free(&out);

	evs[0] = mk_finish(HUB_FIN_LENGTH, NULL);
	evs[1] = mk(HUB_EV_DONE);
	run_enc(0, evs, 2, &out);
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	CHECK_EQ_INT(j.tok[jpath(&j, "content")].size, 0);
	CHECK_J(&j, "stop_reason", "max_tokens");
	json_free(&j);
	buf_free(&out);
}

TEST(claude_enc_body_error)
{
	struct hub_event evs[4];
	struct buf out;

	evs[0] = mk(HUB_EV_START);
	evs[1] = mk_text(HUB_EV_TEXT, "partial", 0);
	evs[2] = mk_text(HUB_EV_ERROR, "rate \\\"limited\\\"", 0);
	evs[2].status = 429;
	evs[3] = mk(HUB_EV_DONE);
	run_enc(0, evs, 4, &out);
	CHECK_EQ_STR(out.p,
		"{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
		"\"message\":\"rate \\\"limited\\\"\"}}");
	buf_free(&out);
}

/* ======================================================================
 * render_error
 * ====================================================================== */

TEST(claude_render_error_types)
{
	static const struct {
		int status;
		const char *type;
	} c[] = {
		{400, "invalid_request_error"}, {401, "authentication_error"},
		{403, "permission_error"},      {404, "not_found_error"},
		{413, "request_too_large"},     {429, "rate_limit_error"},
		{500, "api_error"},             {503, "overloaded_error"},
		{529, "overloaded_error"},      {502, "api_error"},
		{422, "invalid_request_error"},
	};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(c); i++) {
		struct buf b;
		char want[256];
		buf_init(&b, 4096);
		hub_claude.render_error(&b, c[i].status, "bad \"x\"\n");
		buf_putc(&b, 0);
		snprintf(want, sizeof(want),
			 "{\"type\":\"error\",\"error\":{\"type\":\"%s\","
			 "\"message\":\"bad \\\"x\\\"\\n\"}}",
			 c[i].type);
		CHECK_EQ_STR(b.p, want);
		buf_free(&b);
	}
}

#define CODE_LINE "You are Claude Code, Anthropic's official CLI for Claude."

/* The system prompt a Claude Code OAuth body (hub_req_opts.claude_code)
 * gets for a client body: the Claude Code line (cached) first, the
 * caller's blocks after it; nothing added when the caller already begins
 * with the line (after a billing header) or for claude-3-5-haiku; no
 * cache mark on it when the request has Claude's four already. */
static void code_line_case(const char *body, const char *model, int flag,
			   const char *const *want, size_t nwant, int cached)
{
	struct req r;
	struct hub_req_opts o;
	struct buf b;
	struct json j;
	char path[64];
	size_t i;

	REQUIRE(req_decode(&r, body) == 0);
	memset(&o, 0, sizeof(o));
	o.model = model;
	o.stream = 1;
	o.claude_code = flag;
	if (enc_opts(&hub_claude, &r.v, &o, &b, &j) == 0) {
		if (!nwant)
			CHECK_NOJ(&j, "system");
		else if (CHECK(jpath(&j, "system") >= 0))
			CHECK_EQ_INT(j.tok[jpath(&j, "system")].size, nwant);
		for (i = 0; i < nwant; i++) {
			snprintf(path, sizeof(path), "system.%zu.text", i);
			if (!CHECK_J(&j, path, want[i]))
				FAILF("body %s", body);
		}
		if (cached)
			CHECK_J(&j, "system.0.cache_control.type",
				"ephemeral");
		else
			CHECK_NOJ(&j, "system.0.cache_control");
		json_free(&j);
		buf_free(&b);
	}
	req_free(&r);
}

TEST(claude_req_claude_code_system_line)
{
	static const char *const line_then[] = {CODE_LINE, "Be brief.", "B2"};
	static const char *const billing[] = {
		"x-anthropic-billing-header: cc_version=2.1.63.abc;", CODE_LINE,
		"Be brief."};
	static const char *const plain[] = {"Be brief.", "B2"};
	static const char sys_blocks[] =
		"{\"model\":\"m\",\"max_tokens\":9,\"system\":[{\"type\":"
		"\"text\",\"text\":\"Be brief.\"},{\"type\":\"text\",\"text\":"
		"\"B2\"}],\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
	static const char no_sys[] =
		"{\"model\":\"m\",\"max_tokens\":9,\"messages\":[{\"role\":"
		"\"user\",\"content\":\"hi\"}]}";
	static const char has_line[] =
		"{\"model\":\"m\",\"max_tokens\":9,\"system\":[{\"type\":\"text\","
		"\"text\":\"" CODE_LINE "\"},{\"type\":\"text\",\"text\":"
		"\"Be brief.\"},{\"type\":\"text\",\"text\":\"B2\"}],"
		"\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
	static const char has_billing[] =
		"{\"model\":\"m\",\"max_tokens\":9,\"system\":[{\"type\":\"text\","
		"\"text\":\"x-anthropic-billing-header: cc_version=2.1.63.abc;\"},"
		"{\"type\":\"text\",\"text\":\"" CODE_LINE "\",\"cache_control\":"
		"{\"type\":\"ephemeral\"}},{\"type\":\"text\",\"text\":"
		"\"Be brief.\"}],\"messages\":[{\"role\":\"user\",\"content\":"
		"\"hi\"}]}";
	static const char four_marks[] =
		"{\"model\":\"m\",\"max_tokens\":9,\"system\":[{\"type\":\"text\","
		"\"text\":\"Be brief.\",\"cache_control\":{\"type\":\"ephemeral\"}},"
		"{\"type\":\"text\",\"text\":\"B2\",\"cache_control\":{\"type\":"
		"\"ephemeral\"}}],\"messages\":[{\"role\":\"user\",\"content\":["
		"{\"type\":\"text\",\"text\":\"a\",\"cache_control\":{\"type\":"
		"\"ephemeral\"}},{\"type\":\"text\",\"text\":\"b\","
		"\"cache_control\":{\"type\":\"ephemeral\"}}]}]}";

	code_line_case(sys_blocks, "claude-sonnet-4-20250514", 1, line_then, 3,
		       1);
	code_line_case(no_sys, "claude-sonnet-4-20250514", 1, line_then, 1, 1);
	code_line_case(has_line, "claude-opus-4-1-20250805", 1, line_then, 3,
		       0);
	code_line_case(has_billing, "claude-opus-4-1-20250805", 1, billing, 3,
		       0);
	code_line_case(sys_blocks, "claude-3-5-haiku-20241022", 1, plain, 2, 0);
	code_line_case(sys_blocks, "claude-sonnet-4-20250514", 0, plain, 2, 0);
	code_line_case(no_sys, "claude-sonnet-4-20250514", 0, NULL, 0, 0);
	code_line_case(four_marks, "claude-sonnet-4-20250514", 1, line_then, 3,
		       0);
}

/* ======================================================================
 * End to end: Claude upstream SSE -> events -> Claude client SSE
 * ====================================================================== */

struct pipe {
	struct hub_enc e;
	struct buf out;
};

static void pipe_emit(void *user, const struct hub_event *ev)
{
	struct pipe *p = user;
	hub_claude.encode_event(&p->e, ev, &p->out);
}

TEST(claude_passthrough_stream_is_faithful)
{
	static const char *const up[][2] = {
		{"message_start",
		 "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_P\","
		 "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
		 "\"model\":\"claude-sonnet-4\",\"stop_reason\":null,"
		 "\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,"
		 "\"output_tokens\":1}}}"},
		{"content_block_start",
		 "{\"type\":\"content_block_start\",\"index\":0,"
		 "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}"},
		{"content_block_delta",
		 "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
		 "{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}}"},
		{"content_block_delta",
		 "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
		 "{\"type\":\"signature_delta\",\"signature\":\"Z+/=\"}}"},
		{"content_block_stop",
		 "{\"type\":\"content_block_stop\",\"index\":0}"},
		{"ping", "{\"type\":\"ping\"}"},
		{"content_block_start",
		 "{\"type\":\"content_block_start\",\"index\":1,"
		 "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_P\","
		 "\"name\":\"f\",\"input\":{}}}"},
		{"content_block_delta",
		 "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
		 "{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}"},
		{"content_block_stop",
		 "{\"type\":\"content_block_stop\",\"index\":1}"},
		{"message_delta",
		 "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
		 "\"tool_use\",\"stop_sequence\":null},\"usage\":"
		 "{\"output_tokens\":8}}"},
		{"message_stop", "{\"type\":\"message_stop\"}"},
	};
	struct hub_enc_opts o;
	struct hub_sdec d;
	struct pipe p;
	struct hub_event done = mk(HUB_EV_DONE);
	size_t i;

	memset(&o, 0, sizeof(o));
	o.stream = 1;
	o.model = "client-model";
	hub_enc_init(&p.e, HUB_CLAUDE, &o);
	buf_init(&p.out, 1 << 20);
	hub_sdec_init(&d, HUB_CLAUDE, 3);
	for (i = 0; i < T_ARRAY_LEN(up); i++) {
		struct hub_sse ev;
		char *g = t_guarded_copy(up[i][1], strlen(up[i][1]));
		ev.event = sp(up[i][0]);
		ev.data.p = g;
		ev.data.n = strlen(up[i][1]);
		hub_claude.decode_event(&d, &ev, pipe_emit, &p);
		t_guarded_free(g);
	}
	CHECK_EQ_INT(d.done, 1);
	hub_claude.encode_event(&p.e, &done, &p.out);
	buf_putc(&p.out, 0);
	CHECK_EQ_STR(p.out.p,
		"event: message_start\n"
		"data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_P\","
		"\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
		"\"model\":\"claude-sonnet-4\",\"stop_reason\":null,"
		"\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,"
		"\"output_tokens\":0}}}\n\n"
		"event: content_block_start\n"
		"data: {\"type\":\"content_block_start\",\"index\":0,"
		"\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n"
		"event: content_block_delta\n"
		"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
		"{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}}\n\n"
		"event: content_block_delta\n"
		"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
		"{\"type\":\"signature_delta\",\"signature\":\"Z+/=\"}}\n\n"
		"event: content_block_stop\n"
		"data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
		"event: content_block_start\n"
		"data: {\"type\":\"content_block_start\",\"index\":1,"
		"\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_P\","
		"\"name\":\"f\",\"input\":{}}}\n\n"
		"event: content_block_delta\n"
		"data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
		"{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n"
		"event: content_block_stop\n"
		"data: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
		"event: message_delta\n"
		"data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
		"\"tool_use\",\"stop_sequence\":null},\"usage\":{\"input_tokens\""
		":3,\"output_tokens\":8}}\n\n"
		"event: message_stop\n"
		"data: {\"type\":\"message_stop\"}\n\n");
	hub_sdec_free(&d);
	hub_enc_free(&p.e);
	buf_free(&p.out);
}

/* ======================================================================
 * More edge cases
 * ====================================================================== */

/* A signature seals its block: more thinking opens a new block, and a
 * signature without thinking (redacted data) still yields a block. */
TEST(claude_enc_thinking_after_signature)
{
	struct hub_event evs[6];
	struct buf out;
	struct json j;

	evs[0] = mk_text(HUB_EV_THINKING, "one", 0);
	evs[1] = mk_text(HUB_EV_THINKING_SIG, "S1", 0);
	evs[2] = mk_text(HUB_EV_THINKING, "two", 0);
	evs[3] = mk_text(HUB_EV_TEXT, "", 0); /* empty: no block */
	evs[4] = mk_text(HUB_EV_THINKING_SIG, "S2", 0);
	evs[5] = mk(HUB_EV_DONE);
	run_enc(0, evs, 6, &out);
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	CHECK_EQ_INT(j.tok[jpath(&j, "content")].size, 2);
	CHECK_J(&j, "content.0.thinking", "one");
	CHECK_J(&j, "content.0.signature", "S1");
	CHECK_J(&j, "content.1.thinking", "two");
	CHECK_J(&j, "content.1.signature", "S2");
	CHECK_J(&j, "stop_reason", "end_turn");
	json_free(&j);
	buf_free(&out);

	run_enc(1, evs, 6, &out);
	CHECK(strstr(out.p, "\"index\":1,\"content_block\":{\"type\":"
			    "\"thinking\""));
	CHECK(!strstr(out.p, "\"index\":2"));
	CHECK(!strstr(out.p, "\"type\":\"text\""));
	buf_free(&out);

	evs[0] = mk_text(HUB_EV_THINKING_SIG, "REDACTED=", 0);
	evs[1] = mk(HUB_EV_DONE);
	run_enc(0, evs, 2, &out);
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	CHECK_J(&j, "content.0.thinking", "");
	CHECK_J(&j, "content.0.signature", "REDACTED=");
	json_free(&j);
	buf_free(&out);
}

TEST(claude_enc_req_cache_control_kept)
{
	struct req r;
	char err[128], *s;

	REQUIRE(req_decode(&r,
		"{\"model\":\"m\",\"system\":[{\"type\":\"text\",\"text\":\"A\","
		"\"cache_control\":{\"type\":\"ephemeral\"}}],"
		"\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
		"\"text\":\"q\",\"cache_control\":{\"type\":\"ephemeral\"}}]}]}")
		== 0);
	s = req_encode(&r.v, "m", 1, err, sizeof(err));
	REQUIRE(s);
	CHECK(strstr(s, "\"system\":[{\"type\":\"text\",\"text\":\"A\","
			"\"cache_control\":{\"type\":\"ephemeral\"}}]"));
	CHECK(strstr(s, "{\"type\":\"text\",\"text\":\"q\",\"cache_control\":"
			"{\"type\":\"ephemeral\"}}"));
	free(s);
	req_free(&r);
}

TEST(claude_enc_req_overflow_is_an_error)
{
	struct req r;
	struct hub_req_opts o;
	struct buf b;
	char err[128] = "";

	REQUIRE(req_decode(&r, conv_body) == 0);
	memset(&o, 0, sizeof(o));
	o.model = "m";
	buf_init(&b, 64);
	CHECK_EQ_INT(hub_claude.encode_request(&r.v, &o, &b, err, sizeof(err)),
		     -1);
	CHECK(err[0] != 0);
	buf_free(&b);
	req_free(&r);
}

TEST(claude_req_document_and_effort_max)
{
	struct req r;
	const struct hub_part *p;
	char err[128], *s;

	REQUIRE(req_decode(&r,
		"{\"model\":\"m\",\"output_config\":{\"effort\":\"max\"},"
		"\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
		"\"document\",\"source\":{\"type\":\"base64\",\"media_type\":"
		"\"application/pdf\",\"data\":\"JVBERi0=\"}}]}]}") == 0);
	CHECK_EQ_INT(r.v.effort, HUB_EFFORT_HIGH);
	p = &r.v.parts[r.v.msgs[0].first];
	CHECK_EQ_INT(p->type, HUB_P_IMAGE);
	CHECK_HSPAN(p->mime, "application/pdf");
	s = req_encode(&r.v, "m", 1, err, sizeof(err));
	REQUIRE(s);
	CHECK(strstr(s, "{\"type\":\"document\",\"source\":{\"type\":\"base64\","
			"\"media_type\":\"application/pdf\",\"data\":"
			"\"JVBERi0=\"}}"));
	CHECK(strstr(s, "\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":"
			"24576}"));
	free(s);
	req_free(&r);
}

/* Tool input that arrives whole in content_block_start (not streamed). */
TEST(claude_dec_tool_input_in_block_start)
{
	struct hub_sdec d;
	struct log l;

	sdec_start(&d, &l);
	feed(&d, &l, NULL,
	     "{\"type\":\"content_block_start\",\"index\":3,"
	     "\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\","
	     "\"name\":\"f\",\"input\":{\"a\":\"x\\ny\"}}}");
	feed(&d, &l, NULL, "{\"type\":\"content_block_stop\",\"index\":3}");
	feed(&d, &l, NULL, "{\"type\":\"content_block_stop\",\"index\":3}");
	CHECK_EQ_STR(log_str(&l),
		"START - -\n"
		"TOOL_START 0 t f\n"
		"TOOL_ARGS 0 {\\\"a\\\":\\\"x\\\\ny\\\"}\n"
		"TOOL_END 0\n");
	sdec_end(&d, &l);
}
