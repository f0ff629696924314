/*
 * hub_responses.c - the OpenAI Responses API codec (POST /v1/responses as
 * spoken by Codex CLI, and the ChatGPT Codex backend upstream).
 *
 * REQUESTS.  A Responses body is a list of *items*, not of messages:
 *
 *   instructions  +  input: [message | function_call | function_call_output
 *                            | reasoning | ...]
 *
 * decode_request makes two passes over input[]: the first collects the
 * text of system/developer messages (after `instructions`) so the view's
 * system parts are contiguous and first; the second turns every other item
 * into parts, appending to the last message while the role stays the same
 * (function_call and reasoning items are assistant parts, function_call_
 * output items user parts).  A reasoning item becomes one THINKING part per
 * summary entry with encrypted_content as the last one's signature.
 *
 * encode_request writes the Codex dialect: a message item per run of text
 * and image parts, one item per tool call / result, one reasoning item per
 * run of THINKING parts ending in a signed one (unsigned thinking cannot be
 * replayed and is dropped).  Function names longer than 64 bytes are
 * shortened (mcp__ rule, truncation, ~N on collisions) through a table
 * built from the view's tools; the encoder of a Responses client gets the
 * names that changed (hub_responses_name_map) and restores them.
 *
 * UPSTREAM EVENTS.  Items arrive one after another, so tool calls never
 * interleave: output_item.added(function_call) opens a call, argument
 * deltas stream into it, output_item.done closes it.  Per output_index the
 * decoder remembers whether any delta came (u.responses.seen[], 64
 * items); an item.done without deltas (or a whole non-stream body) has
 * its content emitted from the finished item instead.  State: struct
 * hub_responses_sdec (hub.h).
 *
 * CLIENT STREAM.  The encoder keeps exactly one output item open (a
 * reasoning item, a message item or a function call; struct
 * hub_responses_enc in hub.h): its text or arguments accumulate, escaped,
 * and a finished item is appended to the list response.completed and the
 * non-stream body carry.  Every event carries sequence_number = seq++;
 * ids of reasoning and message items derive from (seed, output_index) so
 * they need no storage.
 */
#include "hub_tok.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESP_NAME_MAX 64   /* upstream limit on function names */
#define RESP_NAME_BUF 512  /* unescaped tool names we shorten */

/* ---- tool name shortening (protocol.md 4.6) ---------------------------- */

struct resp_names {
	size_t n;
	char (*s)[RESP_NAME_MAX + 1]; /* plain text, per view tool */
};

/* Longest prefix of s[0..n) of at most max bytes that ends on a UTF-8
 * character boundary. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
	size_t len = n < max ? n : max;
	while (len > 0 && len < n && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return len;
}

static void name_base(const char *s, size_t n, char *out)
{
	size_t len, i;

	if (n > RESP_NAME_MAX && n > 5 && memcmp(s, "mcp__", 5) == 0) {
		for (i = n - 2; i > 0; i--)
			if (s[i] == '_' && s[i + 1] == '_')
				break;
		if (i > 0) {
			len = utf8_cut(s + i + 2, n - i - 2, RESP_NAME_MAX - 5);
			memcpy(out, "mcp__", 5);
			memcpy(out + 5, s + i + 2, len);
			out[5 + len] = '\0';
			return;
		}
	}
	len = utf8_cut(s, n, RESP_NAME_MAX);
	memcpy(out, s, len);
	out[len] = '\0';
}

/* Plain text of a str span for shortening; falls back to the escaped
 * bytes when there is no escape or it does not fit. */
static struct hub_span name_plain(struct hub_span s, char *tmp, size_t cap)
{
	struct hub_span r = s;
	int n;
	if (s.p && memchr(s.p, '\\', s.n) &&
	    (n = hub_unescape(s, tmp, cap)) >= 0) {
		r.p = tmp;
		r.n = (size_t)n;
	}
	return r;
}

static int name_used(const struct resp_names *m, size_t upto, const char *c)
{
	size_t i;
	for (i = 0; i < upto; i++)
		if (strcmp(m->s[i], c) == 0)
			return 1;
	return 0;
}

/* m->s[k] = cand, or cand cut to make room for ~1, ~2, ... if taken. */
static void name_unique(struct resp_names *m, size_t k, const char *cand)
{
	char tmp[RESP_NAME_MAX + 1], suf[16];
	size_t len = strlen(cand), cut;
	int i, sl;

	if (!name_used(m, k, cand)) {
		memcpy(m->s[k], cand, len + 1);
		return;
	}
	for (i = 1;; i++) {
		sl = snprintf(suf, sizeof(suf), "~%d", i);
		cut = utf8_cut(cand, len, RESP_NAME_MAX - (size_t)sl);
		snprintf(tmp, sizeof(tmp), "%.*s%s", (int)cut, cand, suf);
		if (!name_used(m, k, tmp))
			break;
	}
	memcpy(m->s[k], tmp, strlen(tmp) + 1);
}

static int names_build(const struct hub_view *v, struct resp_names *m)
{
	char tmp[RESP_NAME_BUF], cand[RESP_NAME_MAX + 1];
	size_t i, k;

	m->n = v->ntools;
	m->s = NULL;
	if (!m->n)
		return 0;
	m->s = calloc(m->n, sizeof(*m->s));
	if (!m->s)
		return -1;
	for (i = 0; i < m->n; i++) {
		struct hub_span p = name_plain(v->tools[i].name, tmp,
					       sizeof(tmp));
		for (k = 0; k < i; k++)
			if (hub_span_same(v->tools[k].name, v->tools[i].name))
				break;
		if (k < i) { /* the same tool twice keeps one name */
			memcpy(m->s[i], m->s[k], sizeof(m->s[i]));
			continue;
		}
		name_base(p.p ? p.p : "", p.n, cand);
		name_unique(m, i, cand);
	}
	return 0;
}

/* The upstream name for a str span: the tool table's entry when it names
 * a tool, else the name shortened on its own. */
static void put_name(struct buf *b, const struct hub_view *v,
		     const struct resp_names *m, struct hub_span name)
{
	char tmp[RESP_NAME_BUF], cand[RESP_NAME_MAX + 1];
	struct hub_span p;
	size_t i;

	for (i = 0; i < m->n; i++)
		if (hub_span_same(v->tools[i].name, name)) {
			buf_json_cstr(b, m->s[i]);
			return;
		}
	if (name.n <= RESP_NAME_MAX) {
		hub_put_str(b, name);
		return;
	}
	p = name_plain(name, tmp, sizeof(tmp));
	name_base(p.p, p.n, cand);
	buf_json_cstr(b, cand);
}

int hub_responses_name_map(const struct hub_view *v, struct buf *map)
{
	struct resp_names m;
	char tmp[RESP_NAME_BUF];
	size_t i;

	if (names_build(v, &m) < 0)
		return -1;
	for (i = 0; i < m.n; i++) {
		struct hub_span p = name_plain(v->tools[i].name, tmp,
					       sizeof(tmp));
		if (p.n == strlen(m.s[i]) && memcmp(p.p, m.s[i], p.n) == 0)
			continue; /* sent as it is */
		buf_puts(map, m.s[i]);
		buf_putc(map, '\0');
		buf_put(map, v->tools[i].name.p, v->tools[i].name.n);
		buf_putc(map, '\0');
	}
	free(m.s);
	return 0;
}

int hub_responses_restore(const char *map, size_t n, struct hub_span name,
			  struct buf *out)
{
	char plain[4 * RESP_NAME_MAX];
	const char *p = map, *end = map + n, *client;

	if (!n || !name.p || hub_unescape(name, plain, sizeof(plain)) < 0)
		return 0;
	while (p < end) {
		client = p + strlen(p) + 1;
		if (strcmp(p, plain) == 0) {
			buf_puts(out, client);
			return 1;
		}
		p = client + strlen(client) + 1;
	}
	return 0;
}

/* ---- decode_request ---------------------------------------------------- */

/* A new part of the last message when it has this role and ends at the
 * last part, else of a new message. */
static struct hub_part *msg_part(struct hub_view *v, enum hub_role role)
{
	struct hub_msg *m = v->nmsgs ? &v->msgs[v->nmsgs - 1] : NULL;
	struct hub_part *p;

	if (!m || m->role != role || m->first + m->n != v->nparts) {
		m = hub_add_msg(v, role);
		if (!m)
			return NULL;
	}
	p = hub_add_part(v);
	if (p)
		m->n++;
	return p;
}

static struct hub_part *sys_part(struct hub_view *v)
{
	struct hub_part *p = hub_add_part(v);
	if (p)
		v->sys_n++;
	return p;
}

static int req_image(const struct json *j, int c, struct hub_view *v,
		     enum hub_role role, char *err, size_t errlen)
{
	struct hub_span url = hub_tok_str(j, c, "image_url");
	struct hub_part *p;
	int o = json_get(j, c, "image_url");

	if (!url.p && hub_tok_is(j, o, JSMN_OBJECT))
		url = hub_tok_str(j, o, "url");
	if (!url.p)
		return hub_fail(
			err, errlen,
			json_get(j, c, "file_id") >= 0
				? "input_image with file_id is not supported"
				: "input_image part without image_url");
	if (!(p = msg_part(v, role)))
		return hub_fail(err, errlen, "out of memory");
	p->type = HUB_P_IMAGE;
	switch (hub_data_url(url, &p->mime, &p->data)) {
	case -1:
		return hub_fail(err, errlen,
				"input_image data URL must be base64");
	case 0: p->url = url; break;
	}
	return 0;
}

/* One content part of a message; sys: only text, into the system prompt. */
static int req_content(const struct json *j, int c, struct hub_view *v,
		       enum hub_role role, int sys, char *err, size_t errlen)
{
	int ty = json_get(j, c, "type");
	struct hub_span t;
	struct hub_part *p;

	if (!hub_tok_is(j, c, JSMN_OBJECT))
		return hub_fail(err, errlen,
				"message content parts must be objects");
	if (json_str_eq(j, ty, "input_image"))
		return sys ? 0 : req_image(j, c, v, role, err, errlen);
	if (json_str_eq(j, ty, "input_file"))
		return hub_fail(err, errlen,
				"input_file parts are not supported");
	if (json_str_eq(j, ty, "refusal"))
		t = hub_tok_str(j, c, "refusal");
	else if (json_str_eq(j, ty, "input_text") ||
		 json_str_eq(j, ty, "output_text") || json_str_eq(j, ty, "text"))
		t = hub_tok_str(j, c, "text");
	else
		return 0; /* input_audio etc.: nothing we can carry */
	if (!t.p)
		return hub_fail(err, errlen,
				"text content part without a text string");
	if (t.n == 0)
		return 0;
	if (!(p = sys ? sys_part(v) : msg_part(v, role)))
		return hub_fail(err, errlen, "out of memory");
	p->type = HUB_P_TEXT;
	p->text = t;
	return 0;
}

/* A message item; handled in the pass it belongs to (sys_pass: system and
 * developer messages, else user and assistant). */
static int req_message(const struct json *j, int it, struct hub_view *v,
		       int sys_pass, char *err, size_t errlen)
{
	int rt = json_get(j, it, "role"), ct = json_get(j, it, "content");
	int sys = 0, k, c;
	enum hub_role role = HUB_USER;

	if (json_str_eq(j, rt, "assistant"))
		role = HUB_ASSISTANT;
	else if (json_str_eq(j, rt, "system") || json_str_eq(j, rt, "developer"))
		sys = 1;
	else if (!json_str_eq(j, rt, "user"))
		return hub_fail(err, errlen,
				"input message role must be user, "
				"assistant, system or developer");
	if (sys != sys_pass)
		return 0;
	if (hub_tok_is(j, ct, JSMN_STRING)) {
		struct hub_part *p;
		if (json_len(j, ct) == 0)
			return 0;
		if (!(p = sys ? sys_part(v) : msg_part(v, role)))
			return hub_fail(err, errlen, "out of memory");
		p->type = HUB_P_TEXT;
		p->text = hub_tok_span(j, ct);
		return 0;
	}
	if (!hub_tok_is(j, ct, JSMN_ARRAY))
		return hub_fail(err, errlen,
				"input message content must be a string "
				"or an array");
	for (k = 0, c = ct + 1; k < j->tok[ct].size; k++, c = json_skip(j, c))
		if (req_content(j, c, v, role, sys, err, errlen) < 0)
			return -1;
	return 0;
}

static int req_call(const struct json *j, int it, struct hub_view *v,
		    char *err, size_t errlen)
{
	struct hub_span id = hub_tok_str(j, it, "call_id"),
			nm = hub_tok_str(j, it, "name");
	struct hub_part *p;

	if (!id.p || !nm.p)
		return hub_fail(err, errlen,
				"function_call item needs call_id and name");
	if (!(p = msg_part(v, HUB_ASSISTANT)))
		return hub_fail(err, errlen, "out of memory");
	p->type = HUB_P_TOOL_CALL;
	p->id = id;
	p->name = nm;
	p->args = hub_tok_str(j, it, "arguments");
	p->args_is_str = 1;
	return 0;
}

static int req_output(const struct json *j, int it, struct hub_view *v,
		      char *err, size_t errlen)
{
	struct hub_span id = hub_tok_str(j, it, "call_id"), nm = {NULL, 0};
	int o = json_get(j, it, "output");
	struct hub_part *p;
	size_t i;

	if (!id.p || o < 0)
		return hub_fail(
			err, errlen,
			"function_call_output item needs call_id and output");
	for (i = v->nparts; i-- > 0;)
		if (v->parts[i].type == HUB_P_TOOL_CALL &&
		    hub_span_same(v->parts[i].id, id)) {
			nm = v->parts[i].name;
			break;
		}
	if (!(p = msg_part(v, HUB_USER)))
		return hub_fail(err, errlen, "out of memory");
	p->type = HUB_P_TOOL_RESULT;
	p->id = id;
	p->name = nm;
	p->result_is_str = hub_tok_is(j, o, JSMN_STRING);
	p->result = p->result_is_str ? hub_tok_span(j, o) : hub_tok_raw(j, o);
	return 0;
}

static int req_reasoning(const struct json *j, int it, struct hub_view *v,
			 char *err, size_t errlen)
{
	int sum = json_get(j, it, "summary"), k, e, added = 0;
	struct hub_span sig = hub_tok_str(j, it, "encrypted_content"), t;
	struct hub_part *p;

	if (sum >= 0 && !hub_tok_is(j, sum, JSMN_ARRAY))
		return hub_fail(err, errlen,
				"reasoning item summary must be an array");
	for (k = 0, e = sum + 1; sum >= 0 && k < j->tok[sum].size;
	     k++, e = json_skip(j, e)) {
		t = hub_tok_str(j, e, "text");
		if (!t.p)
			return hub_fail(err, errlen,
					"reasoning summary entry without text");
		if (!(p = msg_part(v, HUB_ASSISTANT)))
			return hub_fail(err, errlen, "out of memory");
		p->type = HUB_P_THINKING;
		p->text = t;
		added = 1;
	}
	if (!added && sig.p) { /* signature only: empty thinking text */
		if (!(p = msg_part(v, HUB_ASSISTANT)))
			return hub_fail(err, errlen, "out of memory");
		p->type = HUB_P_THINKING;
		p->text.p = sig.p;
		added = 1;
	}
	if (added && sig.p)
		v->parts[v->nparts - 1].signature = sig;
	return 0;
}

static int req_item(const struct json *j, int it, struct hub_view *v,
		    char *err, size_t errlen)
{
	int ty = json_get(j, it, "type");

	if (!hub_tok_is(j, it, JSMN_OBJECT))
		return hub_fail(err, errlen, "input items must be objects");
	if (ty < 0 || json_str_eq(j, ty, "message"))
		return req_message(j, it, v, 0, err, errlen);
	if (json_str_eq(j, ty, "function_call"))
		return req_call(j, it, v, err, errlen);
	if (json_str_eq(j, ty, "function_call_output"))
		return req_output(j, it, v, err, errlen);
	if (json_str_eq(j, ty, "reasoning"))
		return req_reasoning(j, it, v, err, errlen);
	return 0; /* item_reference, web_search_call, ...: not expressible */
}

/* instructions, then system/developer messages, then everything else. */
static int req_input(const struct json *j, struct hub_view *v, char *err,
		     size_t errlen)
{
	struct hub_span ins = hub_tok_str(j, 0, "instructions");
	int in = json_get(j, 0, "input"), k, it;
	struct hub_part *p;

	v->sys_first = v->nparts;
	if (ins.n) {
		if (!(p = sys_part(v)))
			return hub_fail(err, errlen, "out of memory");
		p->type = HUB_P_TEXT;
		p->text = ins;
	}
	if (hub_tok_is(j, in, JSMN_STRING)) {
		if (!(p = msg_part(v, HUB_USER)))
			return hub_fail(err, errlen, "out of memory");
		p->type = HUB_P_TEXT;
		p->text = hub_tok_span(j, in);
		return 0;
	}
	if (in < 0)
		return hub_fail(err, errlen, "input is required");
	if (!hub_tok_is(j, in, JSMN_ARRAY))
		return hub_fail(err, errlen,
				"input must be a string or an array");
	for (k = 0, it = in + 1; k < j->tok[in].size; k++, it = json_skip(j, it)) {
		int ty = json_get(j, it, "type");
		if (hub_tok_is(j, it, JSMN_OBJECT) &&
		    (ty < 0 || json_str_eq(j, ty, "message")) &&
		    req_message(j, it, v, 1, err, errlen) < 0)
			return -1;
	}
	for (k = 0, it = in + 1; k < j->tok[in].size; k++, it = json_skip(j, it))
		if (req_item(j, it, v, err, errlen) < 0)
			return -1;
	return 0;
}

static int req_tools(const struct json *j, struct hub_view *v, char *err,
		     size_t errlen)
{
	int ts = json_get(j, 0, "tools"), k, t;

	if (hub_tok_null(j, ts))
		return 0;
	if (!hub_tok_is(j, ts, JSMN_ARRAY))
		return hub_fail(err, errlen, "tools must be an array");
	for (k = 0, t = ts + 1; k < j->tok[ts].size; k++, t = json_skip(j, t)) {
		int ty = json_get(j, t, "type"), fn = t, sc;
		struct hub_tool *tool;

		if (!hub_tok_is(j, t, JSMN_OBJECT))
			return hub_fail(err, errlen,
					"tools entries must be objects");
		if (!json_str_eq(j, ty, "function"))
			continue; /* web_search, file_search, custom, ... */
		if (hub_tok_is(j, json_get(j, t, "function"), JSMN_OBJECT))
			fn = json_get(j, t, "function"); /* chat-style */
		if (!hub_tok_str(j, fn, "name").p)
			return hub_fail(err, errlen,
					"function tool without a name");
		if (!(tool = hub_add_tool(v)))
			return hub_fail(err, errlen, "out of memory");
		tool->name = hub_tok_str(j, fn, "name");
		tool->description = hub_tok_str(j, fn, "description");
		sc = json_get(j, fn, "parameters");
		if (hub_tok_is(j, sc, JSMN_OBJECT)) {
			tool->schema = hub_tok_raw(j, sc);
			tool->schema_tok = sc;
		}
	}
	return 0;
}

static void req_tool_choice(const struct json *j, struct hub_view *v)
{
	int tc = json_get(j, 0, "tool_choice"), fn;

	if (json_str_eq(j, tc, "auto"))
		v->tool_choice = HUB_TC_AUTO;
	else if (json_str_eq(j, tc, "none"))
		v->tool_choice = HUB_TC_NONE;
	else if (json_str_eq(j, tc, "required"))
		v->tool_choice = HUB_TC_ANY;
	else if (hub_tok_is(j, tc, JSMN_OBJECT) &&
		 json_str_eq(j, json_get(j, tc, "type"), "function")) {
		fn = json_get(j, tc, "function");
		v->tool_choice_name = hub_tok_str(
			j, hub_tok_is(j, fn, JSMN_OBJECT) ? fn : tc, "name");
		v->tool_choice = v->tool_choice_name.p ? HUB_TC_TOOL
						       : HUB_TC_AUTO;
	} else if (hub_tok_is(j, tc, JSMN_OBJECT)) {
		v->tool_choice = HUB_TC_AUTO; /* allowed_tools, hosted tools */
	}
}

static void req_reasoning_opts(const struct json *j, struct hub_view *v)
{
	static const struct {
		const char *name;
		enum hub_effort e;
	} map[] = {
		{"none", HUB_EFFORT_NONE}, {"minimal", HUB_EFFORT_MINIMAL},
		{"low", HUB_EFFORT_LOW}, {"medium", HUB_EFFORT_MEDIUM},
		{"high", HUB_EFFORT_HIGH}, {"xhigh", HUB_EFFORT_HIGH},
	};
	int r = json_get(j, 0, "reasoning"), ef, su;
	size_t i;

	if (!hub_tok_is(j, r, JSMN_OBJECT))
		return;
	ef = json_get(j, r, "effort");
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (json_str_eq(j, ef, map[i].name)) {
			v->effort = map[i].e;
			v->thinking = map[i].e != HUB_EFFORT_NONE;
		}
	su = json_get(j, r, "summary");
	if (hub_tok_is(j, su, JSMN_STRING))
		v->include_thoughts = !json_str_eq(j, su, "none");
	else if (su >= 0 && hub_tok_null(j, su))
		v->include_thoughts = 0;
}

static int req_scalars(const struct json *j, struct hub_view *v, char *err,
		       size_t errlen)
{
	int t = json_get(j, 0, "model"), tx;

	if (t >= 0 && !hub_tok_is(j, t, JSMN_STRING))
		return hub_fail(err, errlen, "model must be a string");
	v->model = hub_tok_str(j, 0, "model");
	v->stream = hub_tok_true(j, json_get(j, 0, "stream"));
	t = json_get(j, 0, "max_output_tokens");
	if (hub_tok_int(j, t, 0, HUB_TOKENS_MAX, &v->max_tokens) == HUB_INT_BAD)
		return hub_fail(err, errlen,
				"max_output_tokens must be a whole "
				"number from 0 to 2147483647");
	if (hub_tok_number(j, t = json_get(j, 0, "temperature")))
		v->temperature = hub_tok_raw(j, t);
	if (hub_tok_number(j, t = json_get(j, 0, "top_p")))
		v->top_p = hub_tok_raw(j, t);
	t = json_get(j, 0, "parallel_tool_calls");
	if (hub_tok_bool(j, t))
		v->parallel_tool_calls = hub_tok_true(j, t);
	v->user = hub_tok_str(j, 0, "user");
	tx = json_get(j, 0, "text");
	t = json_get(j, tx, "format");
	/* Responses' flat {type, name, schema, strict}; see encode side. */
	if (hub_tok_is(j, t, JSMN_OBJECT) &&
	    !json_str_eq(j, json_get(j, t, "type"), "text"))
		v->response_format = hub_tok_raw(j, t);
	req_reasoning_opts(j, v);
	return 0;
}

static int responses_decode_request(const struct json *j, struct hub_view *v,
				    char *err, size_t errlen)
{
	if (j->ntok < 1 || j->tok[0].type != JSMN_OBJECT)
		return hub_fail(err, errlen,
				"request body must be a JSON object");
	if (req_scalars(j, v, err, errlen) < 0 ||
	    req_input(j, v, err, errlen) < 0 ||
	    req_tools(j, v, err, errlen) < 0)
		return -1;
	req_tool_choice(j, v);
	return 0;
}

/* ---- encode_request ------------------------------------------------------ */

struct resp_rw {
	const struct hub_view *v;
	struct buf *b;
	struct resp_names names;
	int open;   /* role of the open message item, -1 none */
	int nitems;
};

static void rw_close(struct resp_rw *w)
{
	if (w->open >= 0) {
		buf_puts(w->b, "]}");
		w->open = -1;
	}
}

/* Start a new item (closing an open message). */
static void rw_item(struct resp_rw *w)
{
	rw_close(w);
	if (w->nitems++)
		buf_putc(w->b, ',');
}

static void rw_message(struct resp_rw *w, enum hub_role role)
{
	if (w->open == (int)role) {
		buf_putc(w->b, ',');
		return;
	}
	rw_item(w);
	buf_puts(w->b, role == HUB_ASSISTANT ?
		 "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[" :
		 role == HUB_SYSTEM ?
		 "{\"type\":\"message\",\"role\":\"developer\",\"content\":[" :
		 "{\"type\":\"message\",\"role\":\"user\",\"content\":[");
	w->open = (int)role;
}

static void rw_image(struct resp_rw *w, const struct hub_part *p)
{
	rw_message(w, HUB_USER); /* assistant content cannot hold images */
	buf_puts(w->b, "{\"type\":\"input_image\",\"image_url\":\"");
	if (p->data.p) {
		buf_puts(w->b, "data:");
		if (p->mime.n)
			buf_put(w->b, p->mime.p, p->mime.n);
		else
			buf_puts(w->b, "image/png");
		buf_puts(w->b, ";base64,");
		buf_put(w->b, p->data.p, p->data.n);
	} else if (p->url.p) {
		buf_put(w->b, p->url.p, p->url.n);
	}
	buf_puts(w->b, "\"}");
}

/* Call ids for parts without one (Gemini): "call_<msg>_<k>" with k the
 * ordinal among id-less calls of the assistant message; a result pairs
 * with the previous assistant message and its own ordinal. */
static void rw_synth_id(struct resp_rw *w, size_t mi, size_t pi)
{
	const struct hub_view *v = w->v;
	size_t m = mi, k = 0, i;

	for (i = v->msgs[mi].first; i < pi; i++)
		if (v->parts[i].type == v->parts[pi].type && !v->parts[i].id.p)
			k++;
	if (v->parts[pi].type == HUB_P_TOOL_RESULT)
		while (m > 0 && v->msgs[m].role != HUB_ASSISTANT)
			m--;
	buf_printf(w->b, "\"call_%zu_%zu\"", m, k);
}

static void rw_call(struct resp_rw *w, size_t mi, size_t pi)
{
	const struct hub_part *p = &w->v->parts[pi];

	rw_item(w);
	buf_puts(w->b, "{\"type\":\"function_call\",\"call_id\":");
	if (p->id.p)
		hub_put_str(w->b, p->id);
	else
		rw_synth_id(w, mi, pi);
	buf_puts(w->b, ",\"name\":");
	put_name(w->b, w->v, &w->names, p->name);
	buf_puts(w->b, ",\"arguments\":");
	if (!p->args.p || !p->args.n)
		buf_puts(w->b, "\"{}\"");
	else if (p->args_is_str)
		hub_put_str(w->b, p->args);
	else
		hub_put_json_as_str(w->b, p->args);
	buf_putc(w->b, '}');
}

/* Raw results: a JSON string stays, an array of text blocks becomes its
 * joined text, anything else its JSON text. */
static void rw_result_raw(struct resp_rw *w, struct hub_span r)
{
	const struct json *j = w->v->json;
	int t = hub_tok_at(j, r.p), k, e, ok = 1;

	if (r.n && r.p[0] == '"') {
		buf_put(w->b, r.p, r.n);
		return;
	}
	for (k = 0, e = t + 1;
	     hub_tok_is(j, t, JSMN_ARRAY) && k < j->tok[t].size;
	     k++, e = json_skip(j, e))
		if (!hub_tok_str(j, e, "text").p)
			ok = 0;
	if (!hub_tok_is(j, t, JSMN_ARRAY) || !ok) {
		hub_put_json_as_str(w->b, r);
		return;
	}
	buf_putc(w->b, '"');
	for (k = 0, e = t + 1; k < j->tok[t].size; k++, e = json_skip(j, e)) {
		struct hub_span s = hub_tok_str(j, e, "text");
		if (k)
			buf_puts(w->b, "\\n");
		buf_put(w->b, s.p, s.n);
	}
	buf_putc(w->b, '"');
}

static void rw_result(struct resp_rw *w, size_t mi, size_t pi)
{
	const struct hub_part *p = &w->v->parts[pi];

	rw_item(w);
	buf_puts(w->b, "{\"type\":\"function_call_output\",\"call_id\":");
	if (p->id.p)
		hub_put_str(w->b, p->id);
	else
		rw_synth_id(w, mi, pi);
	buf_puts(w->b, ",\"output\":");
	if (p->result_is_str || !p->result.p)
		hub_put_str(w->b, p->result);
	else
		rw_result_raw(w, p->result);
	buf_putc(w->b, '}');
}

/* THINKING parts [pi, end) up to and including the first signed one form
 * one reasoning item; an unsigned run is dropped.  Returns end. */
static size_t rw_reasoning(struct resp_rw *w, size_t pi, size_t end)
{
	const struct hub_part *ps = w->v->parts;
	size_t e = pi, i;
	int n = 0;

	while (e < end && ps[e].type == HUB_P_THINKING && !ps[e].signature.p)
		e++;
	if (e >= end || ps[e].type != HUB_P_THINKING)
		return e; /* no signature: cannot be replayed */
	rw_item(w);
	buf_puts(w->b, "{\"type\":\"reasoning\",\"summary\":[");
	for (i = pi; i <= e; i++) {
		if (ps[i].redacted || !ps[i].text.n)
			continue;
		buf_puts(w->b, n++ ? ",{\"type\":\"summary_text\",\"text\":" :
			 "{\"type\":\"summary_text\",\"text\":");
		hub_put_str(w->b, ps[i].text);
		buf_putc(w->b, '}');
	}
	buf_puts(w->b, "],\"encrypted_content\":");
	hub_put_str(w->b, ps[e].signature);
	buf_putc(w->b, '}');
	return e + 1;
}

static void rw_input(struct resp_rw *w)
{
	const struct hub_view *v = w->v;
	size_t mi, pi, end;

	for (mi = 0; mi < v->nmsgs; mi++) {
		const struct hub_msg *m = &v->msgs[mi];
		end = m->first + m->n;
		for (pi = m->first; pi < end;) {
			const struct hub_part *p = &v->parts[pi];
			switch (p->type) {
			case HUB_P_TEXT:
				rw_message(w, m->role);
				buf_puts(w->b, m->role == HUB_ASSISTANT ?
					 "{\"type\":\"output_text\",\"text\":" :
					 "{\"type\":\"input_text\",\"text\":");
				hub_put_str(w->b, p->text);
				buf_putc(w->b, '}');
				break;
			case HUB_P_IMAGE: rw_image(w, p); break;
			case HUB_P_TOOL_CALL: rw_call(w, mi, pi); break;
			case HUB_P_TOOL_RESULT: rw_result(w, mi, pi); break;
			case HUB_P_THINKING:
				pi = rw_reasoning(w, pi, end);
				continue;
			}
			pi++;
		}
		rw_close(w); /* a new view message starts a new item */
	}
}

static void rw_tools(struct resp_rw *w)
{
	const struct hub_view *v = w->v;
	size_t i;

	if (!v->ntools)
		return;
	buf_puts(w->b, ",\"tools\":[");
	for (i = 0; i < v->ntools; i++) {
		const struct hub_tool *t = &v->tools[i];
		buf_puts(w->b, i ? ",{\"type\":\"function\",\"name\":" :
			 "{\"type\":\"function\",\"name\":");
		buf_json_cstr(w->b, w->names.s[i]);
		if (t->description.p) {
			buf_puts(w->b, ",\"description\":");
			hub_put_str(w->b, t->description);
		}
		buf_puts(w->b, ",\"parameters\":");
		if (t->schema.p)
			buf_put(w->b, t->schema.p, t->schema.n);
		else
			buf_puts(w->b, "{\"type\":\"object\",\"properties\":{}}");
		buf_puts(w->b, ",\"strict\":false}");
	}
	buf_puts(w->b, "],\"tool_choice\":");
	switch (v->tool_choice) {
	case HUB_TC_NONE: buf_puts(w->b, "\"none\""); break;
	case HUB_TC_ANY: buf_puts(w->b, "\"required\""); break;
	case HUB_TC_TOOL:
		buf_puts(w->b, "{\"type\":\"function\",\"name\":");
		put_name(w->b, v, &w->names, v->tool_choice_name);
		buf_putc(w->b, '}');
		break;
	default: buf_puts(w->b, "\"auto\""); break;
	}
}

/* Explicit efforts pass as they are; one derived from "thinking off"
 * becomes low (Codex models reject none/minimal unevenly). */
static const char *rw_effort(const struct hub_view *v)
{
	enum hub_effort e = v->effort;

	if (e == HUB_EFFORT_UNSET) {
		e = hub_effort_for_budget(v->thinking_budget);
		if (e == HUB_EFFORT_UNSET && v->thinking == 0)
			e = HUB_EFFORT_NONE;
		if (e == HUB_EFFORT_NONE || e == HUB_EFFORT_MINIMAL)
			e = HUB_EFFORT_LOW;
	}
	switch (e) {
	case HUB_EFFORT_NONE: return "none";
	case HUB_EFFORT_MINIMAL: return "minimal";
	case HUB_EFFORT_LOW: return "low";
	case HUB_EFFORT_HIGH: return "high";
	default: return "medium";
	}
}

/* response_format -> text.format: the chat shape {type, json_schema:{name,
 * schema, strict}} is flattened; the Responses shape is copied. */
static void rw_text_format(struct resp_rw *w)
{
	const struct json *j = w->v->json;
	struct hub_span rf = w->v->response_format;
	int t = hub_tok_at(j, rf.p), js = json_get(j, t, "json_schema");

	if (!rf.p)
		return;
	buf_puts(w->b, ",\"text\":{\"format\":");
	if (hub_tok_is(j, js, JSMN_OBJECT) && j->tok[js].size > 0) {
		struct hub_span in = hub_tok_raw(j, js);
		buf_puts(w->b, "{\"type\":\"json_schema\",");
		buf_put(w->b, in.p + 1, in.n - 1); /* members and the '}' */
	} else if (hub_tok_is(j, js, JSMN_OBJECT)) {
		buf_puts(w->b, "{\"type\":\"json_schema\"}");
	} else {
		buf_put(w->b, rf.p, rf.n);
	}
	buf_putc(w->b, '}');
}

static int responses_encode_request(const struct hub_view *v,
				    const struct hub_req_opts *o,
				    struct buf *out, char *err, size_t errlen)
{
	struct resp_rw w;
	size_t i;

	memset(&w, 0, sizeof(w));
	w.v = v;
	w.b = out;
	w.open = -1;
	if (names_build(v, &w.names) < 0)
		return hub_fail(err, errlen, "out of memory");
	buf_puts(out, "{\"model\":");
	if (o->model)
		buf_json_cstr(out, o->model);
	else
		hub_put_str(out, v->model);
	buf_puts(out, ",\"instructions\":\"");
	for (i = 0; i < v->sys_n; i++) {
		const struct hub_part *p = &v->parts[v->sys_first + i];
		if (i)
			buf_puts(out, "\\n\\n");
		if (p->type == HUB_P_TEXT && p->text.p)
			buf_put(out, p->text.p, p->text.n);
	}
	buf_puts(out, "\",\"input\":[");
	rw_input(&w);
	buf_putc(out, ']');
	rw_tools(&w);
	buf_printf(out, ",\"parallel_tool_calls\":%s,\"reasoning\":{\"effort\":"
		   "\"%s\",\"summary\":\"auto\"},\"stream\":%s,\"store\":false,"
		   "\"include\":[\"reasoning.encrypted_content\"]",
		   v->parallel_tool_calls == 0 ? "false" : "true",
		   rw_effort(v), o->stream ? "true" : "false");
	if (v->max_tokens >= 0)
		buf_printf(out, ",\"max_output_tokens\":%ld", v->max_tokens);
	if (v->temperature.p) {
		buf_puts(out, ",\"temperature\":");
		buf_put(out, v->temperature.p, v->temperature.n);
	}
	if (v->top_p.p) {
		buf_puts(out, ",\"top_p\":");
		buf_put(out, v->top_p.p, v->top_p.n);
	}
	rw_text_format(&w);
	buf_putc(out, '}');
	free(w.names.s);
	return 0;
}

/* ---- decode_event / decode_body -------------------------------------------- */

struct resp_dc {
	struct hub_sdec *d;
	const struct json *j;
	hub_emit_fn emit;
	void *user;
};

/* Emit, preceded by START when nothing was emitted yet. */
static void dc_emit(struct resp_dc *c, struct hub_event *ev)
{
	if (!c->d->started) {
		c->d->started = 1;
		if (ev->type != HUB_EV_START) {
			struct hub_event s;
			hub_event_init(&s, HUB_EV_START);
			c->emit(c->user, &s);
		}
	}
	c->emit(c->user, ev);
}

static void dc_text(struct resp_dc *c, enum hub_ev_type type,
		    struct hub_span s)
{
	struct hub_event ev;
	if (!s.p || !s.n)
		return;
	hub_event_init(&ev, type);
	ev.text = s;
	if (type == HUB_EV_TOOL_ARGS)
		ev.index = c->d->u.responses.open_tool - 1;
	dc_emit(c, &ev);
}

/* Did deltas already stream output item oi?  (Unknown ones: yes.) */
static int dc_seen(struct resp_dc *c, long oi)
{
	return oi < 0 || oi >= HUB_SLOTS || c->d->u.responses.seen[oi];
}

static void dc_mark(struct resp_dc *c, int obj)
{
	long oi = hub_tok_long(c->j, json_get(c->j, obj, "output_index"), -1);
	if (oi >= 0 && oi < HUB_SLOTS)
		c->d->u.responses.seen[oi] = 1;
}

static void dc_tool_end(struct resp_dc *c)
{
	struct hub_event ev;
	if (!c->d->u.responses.open_tool)
		return;
	hub_event_init(&ev, HUB_EV_TOOL_END);
	ev.index = c->d->u.responses.open_tool - 1;
	c->d->u.responses.open_tool = 0;
	dc_emit(c, &ev);
}

static void dc_tool_start(struct resp_dc *c, int item)
{
	struct hub_event ev;
	char id[40];

	dc_tool_end(c);
	hub_event_init(&ev, HUB_EV_TOOL_START);
	ev.index = c->d->ntools++;
	ev.id = hub_tok_str(c->j, item, "call_id");
	if (!ev.id.p)
		ev.id = hub_tok_str(c->j, item, "id");
	if (!ev.id.p) { /* made for this event: the span dies with it */
		hub_gen_id(id, sizeof(id), "call_", c->d->seed, ev.index);
		ev.id = hub_span_of(id, strlen(id));
	}
	ev.name = hub_tok_str(c->j, item, "name");
	c->d->u.responses.open_tool = ev.index + 1;
	dc_emit(c, &ev);
}

static void dc_message_item(struct resp_dc *c, int item)
{
	const struct json *j = c->j;
	int ct = json_get(j, item, "content"), k, e;

	for (k = 0, e = ct + 1;
	     hub_tok_is(j, ct, JSMN_ARRAY) && k < j->tok[ct].size;
	     k++, e = json_skip(j, e)) {
		if (json_str_eq(j, json_get(j, e, "type"), "refusal"))
			dc_text(c, HUB_EV_TEXT, hub_tok_str(j, e, "refusal"));
		else
			dc_text(c, HUB_EV_TEXT, hub_tok_str(j, e, "text"));
	}
}

static void dc_reasoning_item(struct resp_dc *c, int item, int seen)
{
	static const struct hub_span sep = {"\\n\\n", 4};
	const struct json *j = c->j;
	int sum = json_get(j, item, "summary"), k, e;

	for (k = 0, e = sum + 1;
	     !seen && hub_tok_is(j, sum, JSMN_ARRAY) && k < j->tok[sum].size;
	     k++, e = json_skip(j, e)) {
		if (k)
			dc_text(c, HUB_EV_THINKING, sep);
		dc_text(c, HUB_EV_THINKING, hub_tok_str(j, e, "text"));
	}
	dc_text(c, HUB_EV_THINKING_SIG,
		hub_tok_str(j, item, "encrypted_content"));
}

/* A finished output item: its content unless deltas carried it already. */
static void dc_item_done(struct resp_dc *c, int item, int seen)
{
	const struct json *j = c->j;
	int ty = json_get(j, item, "type");

	if (json_str_eq(j, ty, "function_call")) {
		if (!c->d->u.responses.open_tool)
			dc_tool_start(c, item);
		if (!seen)
			dc_text(c, HUB_EV_TOOL_ARGS,
				hub_tok_str(j, item, "arguments"));
		dc_tool_end(c);
	} else if (json_str_eq(j, ty, "reasoning")) {
		dc_reasoning_item(c, item, seen);
	} else if (json_str_eq(j, ty, "message") && !seen) {
		dc_message_item(c, item);
	}
}

static int dc_status_for(struct hub_span code)
{
	if (hub_span_has(code, "rate_limit") || hub_span_has(code, "quota") ||
	    hub_span_has(code, "usage_limit"))
		return 429;
	if (hub_span_has(code, "context_length") ||
	    hub_span_has(code, "invalid"))
		return 400;
	return 502;
}

/* An error object {code, message} (or a whole error event). */
static void dc_error(struct resp_dc *c, int obj)
{
	static const struct hub_span dflt = {"upstream request failed", 23};
	struct hub_event ev;

	hub_event_init(&ev, HUB_EV_ERROR);
	ev.text = hub_tok_str(c->j, obj, "message");
	if (!ev.text.p)
		ev.text = dflt;
	ev.status = dc_status_for(hub_tok_str(c->j, obj, "code"));
	c->d->done = 1;
	dc_emit(c, &ev);
}

static void dc_usage(struct resp_dc *c, int r)
{
	const struct json *j = c->j;
	int u = json_get(j, r, "usage");
	struct hub_event ev;

	if (!hub_tok_is(j, u, JSMN_OBJECT))
		return;
	hub_event_init(&ev, HUB_EV_USAGE);
	ev.usage.input = hub_tok_long(j, json_get(j, u, "input_tokens"), -1);
	ev.usage.output = hub_tok_long(j, json_get(j, u, "output_tokens"), -1);
	ev.usage.cached =
		hub_tok_long(j,
			     json_get(j, json_get(j, u, "input_tokens_details"),
				      "cached_tokens"),
			     -1);
	ev.usage.thoughts = hub_tok_long(
		j,
		json_get(j, json_get(j, u, "output_tokens_details"),
			 "reasoning_tokens"),
		-1);
	c->d->usage = ev.usage;
	dc_emit(c, &ev);
}

/* The response object at its end: usage and finish reason. */
static void dc_finish(struct resp_dc *c, int r)
{
	const struct json *j = c->j;
	struct hub_span why =
		hub_tok_str(j, json_get(j, r, "incomplete_details"), "reason");
	struct hub_event ev;

	dc_tool_end(c);
	dc_usage(c, r);
	hub_event_init(&ev, HUB_EV_FINISH);
	if (json_str_eq(j, json_get(j, r, "status"), "incomplete") && why.p)
		ev.finish = hub_span_eq(why, "content_filter") ? HUB_FIN_FILTER
							       : HUB_FIN_LENGTH;
	else
		ev.finish = c->d->ntools ? HUB_FIN_TOOL : HUB_FIN_STOP;
	c->d->done = 1;
	dc_emit(c, &ev);
}

static void dc_start(struct resp_dc *c, int r)
{
	struct hub_event ev;
	if (c->d->started)
		return;
	hub_event_init(&ev, HUB_EV_START);
	ev.id = hub_tok_str(c->j, r, "id");
	ev.model = hub_tok_str(c->j, r, "model");
	dc_emit(c, &ev);
}

static void dc_dispatch(struct resp_dc *c, struct hub_span ty)
{
	static const struct hub_span sep = {"\\n\\n", 4};
	const struct json *j = c->j;
	int r = json_get(j, 0, "response"), item = json_get(j, 0, "item");
	long oi = hub_tok_long(j, json_get(j, 0, "output_index"), -1);

	if (hub_span_eq(ty, "response.created")) {
		dc_start(c, r);
	} else if (hub_span_eq(ty, "response.output_text.delta") ||
		   hub_span_eq(ty, "response.refusal.delta")) {
		dc_mark(c, 0);
		dc_text(c, HUB_EV_TEXT, hub_tok_str(j, 0, "delta"));
	} else if (hub_span_eq(ty, "response.reasoning_summary_text.delta") ||
		   hub_span_eq(ty, "response.reasoning_text.delta")) {
		dc_mark(c, 0);
		dc_text(c, HUB_EV_THINKING, hub_tok_str(j, 0, "delta"));
	} else if (hub_span_eq(ty, "response.reasoning_summary_part.added")) {
		if (hub_tok_long(j, json_get(j, 0, "summary_index"), 0) > 0)
			dc_text(c, HUB_EV_THINKING, sep);
	} else if (hub_span_eq(ty, "response.output_item.added")) {
		if (json_str_eq(j, json_get(j, item, "type"), "function_call")) {
			dc_tool_start(c, item);
			if (hub_tok_str(j, item, "arguments").n)
				dc_mark(c, 0);
			dc_text(c, HUB_EV_TOOL_ARGS,
				hub_tok_str(j, item, "arguments"));
		}
	} else if (hub_span_eq(ty, "response.function_call_arguments.delta")) {
		if (c->d->u.responses.open_tool) {
			dc_mark(c, 0);
			dc_text(c, HUB_EV_TOOL_ARGS,
				hub_tok_str(j, 0, "delta"));
		}
	} else if (hub_span_eq(ty, "response.output_item.done")) {
		if (hub_tok_is(j, item, JSMN_OBJECT))
			dc_item_done(c, item, dc_seen(c, oi));
	} else if (hub_span_eq(ty, "response.completed") ||
		   hub_span_eq(ty, "response.incomplete")) {
		dc_finish(c, r);
	} else if (hub_span_eq(ty, "response.failed")) {
		dc_error(c, json_get(j, r, "error"));
	} else if (hub_span_eq(ty, "error")) {
		int e = json_get(j, 0, "error");
		dc_error(c, hub_tok_is(j, e, JSMN_OBJECT) ? e : 0);
	}
}

static void responses_decode_event(struct hub_sdec *d, const struct hub_sse *ev,
				   hub_emit_fn emit, void *user)
{
	struct resp_dc c = {d, NULL, emit, user};
	struct json j;
	struct hub_span ty;

	if (!ev || d->done || !ev->data.p || !ev->data.n)
		return; /* !ev: end of stream, nothing is held back */
	if (hub_span_eq(ev->data, "[DONE]")) {
		d->done = 1;
		return;
	}
	buf_reset(&d->scratch);
	if (hub_sdec_parse(d, ev->data.p, ev->data.n, &j) < 0 ||
	    j.tok[0].type != JSMN_OBJECT) {
		struct hub_event e;
		hub_event_init(&e, HUB_EV_ERROR);
		e.status = 502;
		e.text.p = "malformed upstream event";
		e.text.n = strlen(e.text.p);
		d->done = 1;
		dc_emit(&c, &e);
		return;
	}
	c.j = &j;
	ty = hub_tok_str(&j, 0, "type");
	dc_dispatch(&c, ty.p ? ty : ev->event);
}

static int responses_decode_body(struct hub_sdec *d, const char *body,
				 size_t len, hub_emit_fn emit, void *user)
{
	struct resp_dc c = {d, NULL, emit, user};
	struct json j;
	int r = 0, out, k, it;

	if (hub_sdec_parse(d, body, len, &j) < 0 || j.tok[0].type != JSMN_OBJECT)
		return -1;
	c.j = &j;
	if (json_get(&j, 0, "output") < 0 &&
	    hub_tok_is(&j, json_get(&j, 0, "response"), JSMN_OBJECT))
		r = json_get(&j, 0, "response"); /* a response.* event's data */
	out = json_get(&j, r, "output");
	if (!hub_tok_is(&j, out, JSMN_ARRAY))
		return -1;
	dc_start(&c, r);
	if (json_str_eq(&j, json_get(&j, r, "status"), "failed")) {
		dc_error(&c, json_get(&j, r, "error"));
		return 0;
	}
	for (k = 0, it = out + 1; k < j.tok[out].size; k++, it = json_skip(&j, it))
		if (hub_tok_is(&j, it, JSMN_OBJECT))
			dc_item_done(&c, it, 0);
	dc_finish(&c, r);
	return 0;
}

/* ---- encode_event ----------------------------------------------------------- */

static int streaming(const struct hub_enc *e)
{
	return e->o.stream;
}

static void sse_begin(struct hub_enc *e, struct buf *out, const char *type)
{
	buf_printf(out, "event: %s\ndata: {\"type\":\"%s\",\"sequence_number\":%ld",
		   type, type, e->u.responses.seq++);
}

static void sse_end(struct buf *out)
{
	buf_puts(out, "}\n\n");
}

/* "id" of the open item, quoted. */
static void put_item_id(const struct hub_enc *e, struct buf *b)
{
	const struct hub_responses_enc *r = &e->u.responses;
	char id[64];

	if (r->call_open) {
		buf_puts(b, "\"fc_");
		buf_puts(b, r->meta.p ? r->meta.p : "");
		buf_putc(b, '"');
		return;
	}
	hub_gen_id(id, sizeof(id), r->reasoning ? "rs_" : "msg_",
		   e->o.seed, 1 + r->out_index);
	buf_putc(b, '"');
	buf_puts(b, id);
	buf_putc(b, '"');
}

/* ,"item_id":..,"output_index":N of the open item. */
static void put_item_ref(const struct hub_enc *e, struct buf *b)
{
	buf_puts(b, ",\"item_id\":");
	put_item_id(e, b);
	buf_printf(b, ",\"output_index\":%d", e->u.responses.out_index);
}

static void put_acc(struct buf *b, const struct buf *acc)
{
	buf_putc(b, '"');
	buf_put(b, acc->p, acc->len);
	buf_putc(b, '"');
}

/* The open item as a JSON object; done: in its final form. */
static void put_item(const struct hub_enc *e, struct buf *b, int done)
{
	const struct hub_responses_enc *r = &e->u.responses;

	buf_puts(b, "{\"id\":");
	put_item_id(e, b);
	if (r->reasoning) {
		buf_puts(b, ",\"type\":\"reasoning\",\"summary\":[");
		if (done && r->reasoning == 2) {
			buf_puts(b, "{\"type\":\"summary_text\",\"text\":");
			put_acc(b, &r->text);
			buf_putc(b, '}');
		}
		buf_putc(b, ']');
		if (done && r->meta.len) {
			buf_puts(b, ",\"encrypted_content\":");
			put_acc(b, &r->meta);
		}
	} else if (r->text_open) {
		buf_printf(b, ",\"type\":\"message\",\"status\":\"%s\",\"content\":[",
			   done ? "completed" : "in_progress");
		if (done) {
			buf_puts(b, "{\"type\":\"output_text\",\"annotations\":[],"
				 "\"logprobs\":[],\"text\":");
			put_acc(b, &r->text);
			buf_putc(b, '}');
		}
		buf_puts(b, "],\"role\":\"assistant\"");
	} else {
		const char *nm = r->meta.p + strlen(r->meta.p) + 1;
		buf_printf(b, ",\"type\":\"function_call\",\"status\":\"%s\","
			   "\"arguments\":", done ? "completed" : "in_progress");
		if (done)
			put_acc(b, &r->text);
		else
			buf_puts(b, "\"\"");
		buf_printf(b, ",\"call_id\":\"%s\",\"name\":\"%s\"",
			   r->meta.p, nm);
	}
	buf_putc(b, '}');
}

static void ev_item(struct hub_enc *e, struct buf *out, const char *type,
		    int done)
{
	sse_begin(e, out, type);
	buf_printf(out, ",\"output_index\":%d,\"item\":",
		   e->u.responses.out_index);
	put_item(e, out, done);
	sse_end(out);
}

/* A part event of the open item: ,"<key>":0 and then the tail text. */
static void ev_part(struct hub_enc *e, struct buf *out, const char *type,
		    const char *idx_key, const char *tail)
{
	sse_begin(e, out, type);
	put_item_ref(e, out);
	if (idx_key)
		buf_printf(out, ",\"%s\":0", idx_key);
	buf_puts(out, tail);
}

static void summary_part(struct hub_enc *e, struct buf *out, const char *type)
{
	ev_part(e, out, type, "summary_index",
		",\"part\":{\"type\":\"summary_text\",\"text\":");
	put_acc(out, &e->u.responses.text);
	buf_putc(out, '}');
	sse_end(out);
}

static void text_part(struct hub_enc *e, struct buf *out, const char *type)
{
	ev_part(e, out, type, "content_index",
		",\"part\":{\"type\":\"output_text\",\"annotations\":[],"
		"\"logprobs\":[],\"text\":");
	put_acc(out, &e->u.responses.text);
	buf_putc(out, '}');
	sse_end(out);
}

/* Close the open item: its .done events, and keep it for the output. */
static void item_close(struct hub_enc *e, struct buf *out)
{
	struct hub_responses_enc *r = &e->u.responses;
	int s = streaming(e);

	if (!r->reasoning && !r->text_open && !r->call_open)
		return;
	if (s && r->reasoning == 2) {
		ev_part(e, out, "response.reasoning_summary_text.done",
			"summary_index", ",\"text\":");
		put_acc(out, &r->text);
		sse_end(out);
		summary_part(e, out, "response.reasoning_summary_part.done");
	} else if (s && r->text_open) {
		ev_part(e, out, "response.output_text.done", "content_index",
			",\"text\":");
		put_acc(out, &r->text);
		buf_puts(out, ",\"logprobs\":[]");
		sse_end(out);
		text_part(e, out, "response.content_part.done");
	} else if (s && r->call_open) {
		ev_part(e, out, "response.function_call_arguments.done", NULL,
			",\"arguments\":");
		put_acc(out, &r->text);
		sse_end(out);
	}
	if (s)
		ev_item(e, out, "response.output_item.done", 1);
	if (r->items.len)
		buf_putc(&r->items, ',');
	put_item(e, &r->items, 1);
	if (r->call_open)
		r->tools++;
	r->reasoning = r->text_open = 0;
	r->call_open = 0;
	r->out_index++;
	buf_reset(&r->text);
	buf_reset(&r->meta);
}

/*
 * The request parameters a response echoes, in OpenAI's order, with what
 * it says when the request did not set them.  The response object puts
 * its own members between them, so the copy is kept as four NUL-ended
 * segments (a new segment starts at each seg entry), followed by the name
 * map (hub_responses_name_map).
 */
static const struct {
	const char *key, *dflt;
	int seg; /* this key starts a new segment */
} echo_keys[] = {
	{"instructions", "null", 1},
	{"max_output_tokens", "null", 0},
	/* model, output */
	{"parallel_tool_calls", "true", 1},
	{"previous_response_id", "null", 0},
	{"reasoning", "{\"effort\":null,\"summary\":null}", 0},
	/* store */
	{"temperature", "1", 1},
	{"text", "{\"format\":{\"type\":\"text\"}}", 0},
	{"tool_choice", "\"auto\"", 0},
	{"tools", "[]", 0},
	{"top_p", "1", 0},
	/* truncation, usage */
	{"user", "null", 1},
	{"metadata", "{}", 0},
};

#define ECHO_SEGS 4

static void copy_echo(struct buf *req, const struct json *j)
{
	size_t i;

	for (i = 0; i < sizeof(echo_keys) / sizeof(echo_keys[0]); i++) {
		int t = j && j->ntok > 0 ? json_get(j, 0,
						    echo_keys[i].key) : -1;
		if (i && echo_keys[i].seg)
			buf_putc(req, '\0');
		buf_printf(req, ",\"%s\":", echo_keys[i].key);
		if (t >= 0) /* one line: it goes into SSE data lines */
			hub_put_json_compact(req, hub_tok_raw(j, t));
		else
			buf_puts(req, echo_keys[i].dflt);
	}
	buf_putc(req, '\0');
}

void hub_responses_copy_request(struct buf *req, const struct hub_view *v)
{
	buf_reset(req);
	copy_echo(req, v ? v->json : NULL);
	if (v && hub_responses_name_map(v, req) < 0)
		buf_reset(req);
	if (req->overflow || !req->len) { /* the parameters OpenAI assumes */
		buf_reset(req);
		copy_echo(req, NULL);
	}
}

/* Echo segment k of the request copy; after the last one, the name map
 * (*rest, *nrest). */
static const char *echo_seg(const struct hub_enc *e, int k, const char **rest,
			    size_t *nrest)
{
	const char *p = e->req.p, *end = e->req.p + e->req.len, *seg = "";
	int i;

	for (i = 0; p && p < end && i <= k; i++) {
		seg = p;
		p += strlen(p) + 1;
	}
	if (rest) {
		*rest = p;
		*nrest = p ? (size_t)(end - p) : 0;
	}
	return seg;
}

static long nz(long v)
{
	return v < 0 ? 0 : v;
}

static void put_usage(const struct hub_enc *e, struct buf *b)
{
	const struct hub_usage *u = &e->usage;
	buf_printf(b, "{\"input_tokens\":%ld,\"input_tokens_details\":"
		   "{\"cached_tokens\":%ld},\"output_tokens\":%ld,"
		   "\"output_tokens_details\":{\"reasoning_tokens\":%ld},"
		   "\"total_tokens\":%ld}", nz(u->input), nz(u->cached),
		   nz(u->output), nz(u->thoughts), nz(u->input) + nz(u->output));
}

static const char *err_code(int status)
{
	if (status == 400)
		return "invalid_request_error";
	if (status == 401)
		return "invalid_api_key";
	if (status == 403)
		return "permission_denied";
	if (status == 404)
		return "not_found";
	if (status == 429)
		return "rate_limit_exceeded";
	return "server_error";
}

/* The response object.  status: in_progress, completed, incomplete (why
 * names the reason) or failed (err is the ERROR event). */
static void put_response(const struct hub_enc *e, struct buf *b,
			 const char *status, const char *why,
			 const struct hub_event *err)
{
	const struct hub_responses_enc *r = &e->u.responses;
	int fin = strcmp(status, "in_progress") != 0;

	buf_puts(b, "{\"id\":");
	buf_json_cstr(b, e->id);
	buf_printf(b, ",\"object\":\"response\",\"created_at\":%ld,\"status\":"
		   "\"%s\",\"background\":false,\"error\":", e->o.created,
		   status);
	if (err) {
		buf_printf(b, "{\"code\":\"%s\",\"message\":",
			   err_code(err->status));
		hub_put_str(b, err->text);
		buf_putc(b, '}');
	} else {
		buf_puts(b, "null");
	}
	if (why)
		buf_printf(b, ",\"incomplete_details\":{\"reason\":\"%s\"}", why);
	else
		buf_puts(b, ",\"incomplete_details\":null");
	buf_puts(b, echo_seg(e, 0, NULL, NULL));
	buf_puts(b, ",\"model\":");
	buf_json_cstr(b, e->model);
	buf_puts(b, ",\"output\":[");
	if (fin)
		buf_put(b, r->items.p, r->items.len);
	buf_putc(b, ']');
	buf_puts(b, echo_seg(e, 1, NULL, NULL));
	buf_puts(b, ",\"store\":false");
	buf_puts(b, echo_seg(e, 2, NULL, NULL));
	buf_puts(b, ",\"truncation\":\"disabled\",\"usage\":");
	if (fin)
		put_usage(e, b);
	else
		buf_puts(b, "null");
	buf_puts(b, echo_seg(e, 3, NULL, NULL));
	buf_putc(b, '}');
}

static void head(struct hub_enc *e, struct buf *out)
{
	struct hub_responses_enc *r = &e->u.responses;

	if (r->started)
		return;
	r->started = 1;
	if (!e->id[0])
		hub_gen_id(e->id, sizeof(e->id), "resp_", e->o.seed, 0);
	if (!streaming(e))
		return;
	sse_begin(e, out, "response.created");
	buf_puts(out, ",\"response\":");
	put_response(e, out, "in_progress", NULL, NULL);
	sse_end(out);
	sse_begin(e, out, "response.in_progress");
	buf_puts(out, ",\"response\":");
	put_response(e, out, "in_progress", NULL, NULL);
	sse_end(out);
}

static void on_start(struct hub_enc *e, const struct hub_event *ev,
		     struct buf *out)
{
	struct hub_responses_enc *r = &e->u.responses;
	char tmp[128];

	if (!r->started && ev->id.p && ev->id.n &&
	    hub_unescape(ev->id, tmp, sizeof(e->id)) > 0)
		memcpy(e->id, tmp, strlen(tmp) + 1);
	if (!r->started && ev->model.p && ev->model.n &&
	    hub_unescape(ev->model, tmp, sizeof(e->model)) > 0)
		memcpy(e->model, tmp, strlen(tmp) + 1);
	head(e, out);
}

static void on_thinking(struct hub_enc *e, const struct hub_event *ev,
			struct buf *out, int sig)
{
	struct hub_responses_enc *r = &e->u.responses;

	head(e, out);
	if (!ev->text.n)
		return;
	/* a signed reasoning item is complete: new thinking opens another */
	if (!r->reasoning || (!sig && r->meta.len))
		item_close(e, out);
	if (!r->reasoning) {
		r->reasoning = 1;
		if (streaming(e))
			ev_item(e, out, "response.output_item.added", 0);
	}
	if (sig) {
		buf_reset(&r->meta);
		buf_put(&r->meta, ev->text.p, ev->text.n);
		return;
	}
	if (r->reasoning == 1) {
		r->reasoning = 2;
		if (streaming(e))
			summary_part(e, out, "response.reasoning_summary_part.added");
	}
	if (streaming(e)) {
		ev_part(e, out, "response.reasoning_summary_text.delta",
			"summary_index", ",\"delta\":");
		hub_put_str(out, ev->text);
		sse_end(out);
	}
	buf_put(&r->text, ev->text.p, ev->text.n);
}

static void on_text(struct hub_enc *e, const struct hub_event *ev,
		    struct buf *out)
{
	struct hub_responses_enc *r = &e->u.responses;

	head(e, out);
	if (!ev->text.n)
		return;
	if (!r->text_open) {
		item_close(e, out);
		r->text_open = 1;
		if (streaming(e)) {
			ev_item(e, out, "response.output_item.added", 0);
			text_part(e, out, "response.content_part.added");
		}
	}
	if (streaming(e)) {
		ev_part(e, out, "response.output_text.delta", "content_index",
			",\"delta\":");
		hub_put_str(out, ev->text);
		buf_puts(out, ",\"logprobs\":[]");
		sse_end(out);
	}
	buf_put(&r->text, ev->text.p, ev->text.n);
}

static void on_tool_start(struct hub_enc *e, const struct hub_event *ev,
			  struct buf *out)
{
	struct hub_responses_enc *r = &e->u.responses;
	const char *map;
	size_t nmap;
	char id[64];

	head(e, out);
	item_close(e, out);
	r->call_open = ev->index + 1;
	if (ev->id.p && ev->id.n) {
		buf_put(&r->meta, ev->id.p, ev->id.n);
	} else {
		hub_gen_id(id, sizeof(id), "call_", e->o.seed, 1000 + ev->index);
		buf_puts(&r->meta, id);
	}
	buf_putc(&r->meta, '\0');
	echo_seg(e, ECHO_SEGS - 1, &map, &nmap); /* the name map after it */
	if (!hub_responses_restore(map, nmap, ev->name, &r->meta) &&
	    ev->name.p)
		buf_put(&r->meta, ev->name.p, ev->name.n);
	buf_putc(&r->meta, '\0');
	if (r->meta.overflow) { /* keep the two strings terminated */
		buf_reset(&r->meta);
		buf_put(&r->meta, "call\0\0", 6);
	}
	if (streaming(e))
		ev_item(e, out, "response.output_item.added", 0);
}

static void on_tool_args(struct hub_enc *e, const struct hub_event *ev,
			 struct buf *out)
{
	struct hub_responses_enc *r = &e->u.responses;

	if (!r->call_open || !ev->text.n)
		return;
	if (streaming(e)) {
		ev_part(e, out, "response.function_call_arguments.delta", NULL,
			",\"delta\":");
		hub_put_str(out, ev->text);
		sse_end(out);
	}
	buf_put(&r->text, ev->text.p, ev->text.n);
}

static void err_tail(struct buf *b, int status)
{
	const char *type = status == 401 ? "authentication_error" :
			   status == 403 ? "permission_error" :
			   status == 404 ? "not_found_error" :
			   status == 429 ? "rate_limit_error" :
			   status >= 500 ? "server_error" : "invalid_request_error";
	buf_printf(b, ",\"type\":\"%s\",\"param\":null,\"code\":\"%s\"}}", type,
		   err_code(status));
}

static void on_error(struct hub_enc *e, const struct hub_event *ev,
		     struct buf *out)
{
	struct hub_responses_enc *r = &e->u.responses;

	head(e, out);
	if (e->have_finish && e->finish == HUB_FIN_ERROR)
		return; /* the first error wins */
	e->finish = HUB_FIN_ERROR;
	e->have_finish = 1;
	if (!streaming(e)) {
		buf_reset(&r->err);
		buf_puts(&r->err, "{\"error\":{\"message\":");
		hub_put_str(&r->err, ev->text);
		err_tail(&r->err, ev->status);
		return;
	}
	sse_begin(e, out, "error");
	buf_printf(out, ",\"code\":\"%s\",\"message\":", err_code(ev->status));
	hub_put_str(out, ev->text);
	buf_puts(out, ",\"param\":null");
	sse_end(out);
	sse_begin(e, out, "response.failed");
	buf_puts(out, ",\"response\":");
	put_response(e, out, "failed", NULL, ev);
	sse_end(out);
}

static void on_done(struct hub_enc *e, struct buf *out)
{
	struct hub_responses_enc *r = &e->u.responses;
	const char *why = NULL;

	head(e, out);
	if (e->have_finish && e->finish == HUB_FIN_ERROR) {
		if (!streaming(e))
			buf_put(out, r->err.p, r->err.len);
		return;
	}
	item_close(e, out);
	if (e->have_finish && e->finish == HUB_FIN_LENGTH)
		why = "max_output_tokens";
	else if (e->have_finish && e->finish == HUB_FIN_FILTER)
		why = "content_filter";
	if (streaming(e)) {
		sse_begin(e, out, why ? "response.incomplete" :
			  "response.completed");
		buf_puts(out, ",\"response\":");
	}
	put_response(e, out, why ? "incomplete" : "completed", why, NULL);
	if (streaming(e))
		sse_end(out);
}

static void responses_encode_event(struct hub_enc *e,
				   const struct hub_event *ev, struct buf *out)
{
	switch (ev->type) {
	case HUB_EV_START: on_start(e, ev, out); break;
	case HUB_EV_TEXT: on_text(e, ev, out); break;
	case HUB_EV_THINKING: on_thinking(e, ev, out, 0); break;
	case HUB_EV_THINKING_SIG: on_thinking(e, ev, out, 1); break;
	case HUB_EV_TOOL_START: on_tool_start(e, ev, out); break;
	case HUB_EV_TOOL_ARGS: on_tool_args(e, ev, out); break;
	case HUB_EV_TOOL_END:
		if (e->u.responses.call_open)
			item_close(e, out);
		break;
	case HUB_EV_USAGE: hub_usage_merge(&e->usage, &ev->usage); break;
	case HUB_EV_FINISH:
		if (!(e->have_finish && e->finish == HUB_FIN_ERROR)) {
			e->finish = ev->finish;
			e->have_finish = 1;
		}
		break;
	case HUB_EV_ERROR: on_error(e, ev, out); break;
	case HUB_EV_DONE: on_done(e, out); break;
	}
}

/* ---- render_error ----------------------------------------------------------- */

static void responses_render_error(struct buf *out, int status, const char *msg)
{
	buf_puts(out, "{\"error\":{\"message\":");
	buf_json_cstr(out, msg ? msg : "");
	err_tail(out, status);
}

const struct hub_codec hub_responses = {
	HUB_RESPONSES,
	responses_decode_request,
	responses_encode_request,
	responses_decode_event,
	responses_decode_body,
	responses_encode_event,
	responses_render_error,
};
