/*
 * hub_responses_client.c - the client side of the OpenAI Responses codec
 * (POST /v1/responses as Codex CLI speaks it): the request decoder (client
 * body -> view) and the event encoder (events -> response.* SSE events or
 * one response object).  See hub.h for the view, the events and the string
 * convention; the upstream side is hub_responses_upstream.c.
 *
 * REQUEST.  A Responses body is a list of *items*, not of messages:
 *
 *   instructions  +  input: [message | function_call | function_call_output
 *                            | reasoning | ...]
 *
 * The decoder makes two passes over input[]: the first collects the text
 * of system/developer messages (after `instructions`) so the view's system
 * parts are contiguous and first; the second turns every other item into
 * parts, appending to the last message while the role stays the same
 * (function_call and reasoning items are assistant parts,
 * function_call_output items user parts).  A reasoning item becomes one
 * THINKING part per summary entry with encrypted_content as the last one's
 * signature.
 *
 * EVENTS.  The encoder keeps exactly one output item open (a reasoning
 * item, a message item or a function call; struct hub_responses_enc in
 * hub.h): its text or arguments accumulate, escaped, and a finished item
 * is appended to the list response.completed and the non-stream body
 * carry.  Every event carries sequence_number = seq++; ids of reasoning
 * and message items derive from (seed, output_index) so they need no
 * storage.  The response object echoes the request's parameters, which
 * hub_enc_init copied (hub_responses_copy_request), and a function name
 * the upstream got shortened is given back as the client's.
 */
#include "apierr.h"
#include "hub_tok.h"

#include <stdlib.h>
#include <string.h>

#define RESP_NAME_MAX 64   /* upstream limit on function names */

/* ---- decode_request ---------------------------------------------------- */

/* A new part of type t: of the last message when it has this role and
 * ends at the last part, else of a new message; NULL when out of memory
 * (the message is set). */
static struct hub_part *msg_part(struct hub_rq *r, enum hub_role role,
				 enum hub_part_type t)
{
	struct hub_view *v = r->v;
	struct hub_msg *m = v->nmsgs ? &v->msgs[v->nmsgs - 1] : NULL;
	struct hub_part *p;

	if (!m || m->role != role || m->first + m->n != v->nparts) {
		m = hub_add_msg(v, role);
		if (!m) {
			hub_rq_fail(r, "out of memory");
			return NULL;
		}
	}
	p = hub_rq_part(r, t);
	if (p)
		m->n++;
	return p;
}

/* A new TEXT part of the system prompt. */
static struct hub_part *sys_part(struct hub_rq *r, struct hub_span text)
{
	struct hub_part *p = hub_rq_part(r, HUB_P_TEXT);
	if (p) {
		p->text = text;
		r->v->sys_n++;
	}
	return p;
}

/* A text part: of the system prompt (sys) or of a role's message. */
static int req_text(struct hub_rq *r, enum hub_role role, int sys,
		    struct hub_span text)
{
	struct hub_part *p;

	if (!text.n)
		return 0;
	if (sys)
		return sys_part(r, text) ? 0 : -1;
	if (!(p = msg_part(r, role, HUB_P_TEXT)))
		return -1;
	p->text = text;
	return 0;
}

static int req_image(struct hub_rq *r, int c, enum hub_role role)
{
	const struct json *j = r->j;
	struct hub_span url = hub_tok_str(j, c, "image_url");
	struct hub_part *p;
	int o = json_get(j, c, "image_url");

	if (!url.p && hub_tok_is(j, o, JSMN_OBJECT))
		url = hub_tok_str(j, o, "url");
	if (!url.p)
		return hub_rq_fail(r, "%s", json_get(j, c, "file_id") >= 0
				   ? "input_image with file_id is not supported"
				   : "input_image part without image_url");
	if (!(p = msg_part(r, role, HUB_P_IMAGE)))
		return -1;
	switch (hub_data_url(url, &p->mime, &p->data)) {
	case -1:
		return hub_rq_fail(r, "input_image data URL must be base64");
	case 0:
		p->url = url;
		break;
	}
	return 0;
}

/* One content part of a message; sys: only text, into the system prompt. */
static int req_content(struct hub_rq *r, int c, enum hub_role role, int sys)
{
	const struct json *j = r->j;
	int ty = json_get(j, c, "type");
	struct hub_span t;

	if (!hub_tok_is(j, c, JSMN_OBJECT))
		return hub_rq_fail(r, "message content parts must be objects");
	if (json_str_eq(j, ty, "input_image"))
		return sys ? 0 : req_image(r, c, role);
	if (json_str_eq(j, ty, "input_file"))
		return hub_rq_fail(r, "input_file parts are not supported");
	if (json_str_eq(j, ty, "refusal"))
		t = hub_tok_str(j, c, "refusal");
	else if (json_str_eq(j, ty, "input_text") ||
		 json_str_eq(j, ty, "output_text") || json_str_eq(j, ty, "text"))
		t = hub_tok_str(j, c, "text");
	else
		return 0; /* input_audio etc.: nothing we can carry */
	if (!t.p)
		return hub_rq_fail(r,
				   "text content part without a text string");
	return req_text(r, role, sys, t);
}

/* A message item; handled in the pass it belongs to (sys_pass: system and
 * developer messages, else user and assistant). */
static int req_message(struct hub_rq *r, int it, int sys_pass)
{
	const struct json *j = r->j;
	int rt = json_get(j, it, "role"), ct = json_get(j, it, "content");
	int sys = 0, k, c;
	enum hub_role role = HUB_USER;

	if (json_str_eq(j, rt, "assistant"))
		role = HUB_ASSISTANT;
	else if (json_str_eq(j, rt, "system") || json_str_eq(j, rt, "developer"))
		sys = 1;
	else if (!json_str_eq(j, rt, "user"))
		return hub_rq_fail(r, "input message role must be user, "
				   "assistant, system or developer");
	if (sys != sys_pass)
		return 0;
	if (hub_tok_is(j, ct, JSMN_STRING))
		return req_text(r, role, sys, hub_tok_span(j, ct));
	if (!hub_tok_is(j, ct, JSMN_ARRAY))
		return hub_rq_fail(r, "input message content must be a string "
				   "or an array");
	for (k = 0, c = ct + 1; k < j->tok[ct].size; k++, c = json_skip(j, c))
		if (req_content(r, c, role, sys) < 0)
			return -1;
	return 0;
}

static int req_call(struct hub_rq *r, int it)
{
	const struct json *j = r->j;
	struct hub_span id = hub_tok_str(j, it, "call_id");
	struct hub_span nm = hub_tok_str(j, it, "name");
	struct hub_part *p;

	if (!id.p || !nm.p)
		return hub_rq_fail(r, "function_call item needs call_id and "
				   "name");
	if (!(p = msg_part(r, HUB_ASSISTANT, HUB_P_TOOL_CALL)))
		return -1;
	p->id = id;
	p->name = nm;
	p->args = hub_tok_str(j, it, "arguments");
	p->args_is_str = 1;
	return 0;
}

static int req_output(struct hub_rq *r, int it)
{
	const struct json *j = r->j;
	struct hub_span id = hub_tok_str(j, it, "call_id");
	int o = json_get(j, it, "output");
	struct hub_part *p;

	if (!id.p || o < 0)
		return hub_rq_fail(r, "function_call_output item needs call_id "
				   "and output");
	if (!(p = msg_part(r, HUB_USER, HUB_P_TOOL_RESULT)))
		return -1;
	p->id = id;
	p->name = hub_view_call_name(r->v, r->v->nparts - 1, id);
	p->result_is_str = hub_tok_is(j, o, JSMN_STRING);
	p->result = p->result_is_str ? hub_tok_span(j, o) : hub_tok_raw(j, o);
	return 0;
}

static int req_reasoning(struct hub_rq *r, int it)
{
	const struct json *j = r->j;
	int sum = json_get(j, it, "summary"), k, e, added = 0;
	struct hub_span sig = hub_tok_str(j, it, "encrypted_content"), t;
	struct hub_part *p;

	if (sum >= 0 && !hub_tok_is(j, sum, JSMN_ARRAY))
		return hub_rq_fail(r,
				   "reasoning item summary must be an array");
	for (k = 0, e = sum + 1; sum >= 0 && k < j->tok[sum].size;
	     k++, e = json_skip(j, e)) {
		t = hub_tok_str(j, e, "text");
		if (!t.p)
			return hub_rq_fail(r, "reasoning summary entry without "
					   "text");
		if (!(p = msg_part(r, HUB_ASSISTANT, HUB_P_THINKING)))
			return -1;
		p->text = t;
		added = 1;
	}
	if (!added && sig.p) { /* signature only: empty thinking text */
		if (!(p = msg_part(r, HUB_ASSISTANT, HUB_P_THINKING)))
			return -1;
		p->text.p = sig.p;
		added = 1;
	}
	if (added && sig.p)
		r->v->parts[r->v->nparts - 1].signature = sig;
	return 0;
}

static int req_item(struct hub_rq *r, int it)
{
	const struct json *j = r->j;
	int ty = json_get(j, it, "type");

	if (!hub_tok_is(j, it, JSMN_OBJECT))
		return hub_rq_fail(r, "input items must be objects");
	if (ty < 0 || json_str_eq(j, ty, "message"))
		return req_message(r, it, 0);
	if (json_str_eq(j, ty, "function_call"))
		return req_call(r, it);
	if (json_str_eq(j, ty, "function_call_output"))
		return req_output(r, it);
	if (json_str_eq(j, ty, "reasoning"))
		return req_reasoning(r, it);
	return 0; /* item_reference, web_search_call, ...: not expressible */
}

/* instructions, then system/developer messages, then everything else. */
static int req_input(struct hub_rq *r)
{
	const struct json *j = r->j;
	int in = json_get(j, 0, "input"), k, it;

	r->v->sys_first = r->v->nparts;
	if (req_text(r, HUB_USER, 1, hub_tok_str(j, 0, "instructions")) < 0)
		return -1;
	if (hub_tok_is(j, in, JSMN_STRING)) {
		struct hub_part *p = msg_part(r, HUB_USER, HUB_P_TEXT);
		if (!p)
			return -1;
		p->text = hub_tok_span(j, in);
		return 0;
	}
	if (in < 0)
		return hub_rq_fail(r, "input is required");
	if (!hub_tok_is(j, in, JSMN_ARRAY))
		return hub_rq_fail(r, "input must be a string or an array");
	for (k = 0, it = in + 1; k < j->tok[in].size; k++, it = json_skip(j, it)) {
		int ty = json_get(j, it, "type");
		if (hub_tok_is(j, it, JSMN_OBJECT) &&
		    (ty < 0 || json_str_eq(j, ty, "message")) &&
		    req_message(r, it, 1) < 0)
			return -1;
	}
	for (k = 0, it = in + 1; k < j->tok[in].size; k++, it = json_skip(j, it))
		if (req_item(r, it) < 0)
			return -1;
	return 0;
}

static int req_tools(struct hub_rq *r)
{
	const struct json *j = r->j;
	int ts = json_get(j, 0, "tools"), k, t;

	if (hub_tok_null(j, ts))
		return 0;
	if (!hub_tok_is(j, ts, JSMN_ARRAY))
		return hub_rq_fail(r, "tools must be an array");
	for (k = 0, t = ts + 1; k < j->tok[ts].size; k++, t = json_skip(j, t)) {
		int ty = json_get(j, t, "type"), fn = t;

		if (!hub_tok_is(j, t, JSMN_OBJECT))
			return hub_rq_fail(r, "tools entries must be objects");
		if (!json_str_eq(j, ty, "function"))
			continue; /* web_search, file_search, custom, ... */
		if (hub_tok_is(j, json_get(j, t, "function"), JSMN_OBJECT))
			fn = json_get(j, t, "function"); /* chat-style */
		if (!hub_tok_str(j, fn, "name").p)
			return hub_rq_fail(r, "function tool without a name");
		if (!hub_rq_tool(r, hub_tok_str(j, fn, "name"),
				 hub_tok_str(j, fn, "description"),
				 json_get(j, fn, "parameters")))
			return -1;
	}
	return 0;
}

static void req_reasoning_opts(const struct json *j, struct hub_view *v)
{
	int r = json_get(j, 0, "reasoning"), su;
	enum hub_effort e;

	if (!hub_tok_is(j, r, JSMN_OBJECT))
		return;
	/* "auto" is a chat completions (OpenRouter) word, not Responses' */
	if (hub_effort_of(j, json_get(j, r, "effort"), &e) == 0 &&
	    e != HUB_EFFORT_AUTO) {
		v->effort = e;
		v->thinking = e != HUB_EFFORT_NONE;
	}
	su = json_get(j, r, "summary");
	if (hub_tok_is(j, su, JSMN_STRING))
		v->include_thoughts = !json_str_eq(j, su, "none");
	else if (su >= 0 && hub_tok_null(j, su))
		v->include_thoughts = 0;
}

static int req_scalars(struct hub_rq *r)
{
	const struct json *j = r->j;
	struct hub_view *v = r->v;
	int t = json_get(j, 0, "model"), tx;

	if (t >= 0 && !hub_tok_is(j, t, JSMN_STRING))
		return hub_rq_fail(r, "model must be a string");
	v->model = hub_tok_str(j, 0, "model");
	v->stream = hub_tok_true(j, json_get(j, 0, "stream"));
	t = json_get(j, 0, "max_output_tokens");
	if (hub_tok_int(j, t, 0, HUB_TOKENS_MAX, &v->max_tokens) == HUB_INT_BAD)
		return hub_rq_fail(r, "max_output_tokens must be a whole "
				   "number from 0 to 2147483647");
	v->temperature = hub_tok_num(j, 0, "temperature");
	v->top_p = hub_tok_num(j, 0, "top_p");
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

int hub_responses_decode_request(const struct json *j, struct hub_view *v,
				 char *err, size_t errlen)
{
	struct hub_rq r = {j, v, err, errlen};

	if (!hub_tok_is(j, 0, JSMN_OBJECT))
		return hub_rq_fail(&r, "request body must be a JSON object");
	if (req_scalars(&r) < 0 || req_input(&r) < 0 || req_tools(&r) < 0)
		return -1;
	hub_tool_choice_of(j, json_get(j, 0, "tool_choice"), v); /* or none */
	return 0;
}

/* ---- tool names the upstream knew under another name --------------------- */

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
	static const struct hub_word tab[] = {
		{"invalid_request_error", 400}, {"invalid_api_key", 401},
		{"permission_denied", 403},     {"not_found", 404},
		{"rate_limit_exceeded", 429},
	};
	return hub_word_of(tab, HUB_NELEM(tab), status, "server_error");
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
	buf_printf(b, ",\"object\":\"response\",\"created_at\":%lld,\"status\":"
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

	if (!hub_enc_begin(e, &r->started, "resp_") || !streaming(e))
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
	if (!e->u.responses.started)
		hub_enc_take_start(e, ev);
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
		apierr_begin(&r->err, HUB_RESPONSES, ev->status);
		hub_put_str(&r->err, ev->text);
		apierr_end(&r->err, HUB_RESPONSES, ev->status);
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

void hub_responses_encode_event(struct hub_enc *e,
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

void hub_responses_render_error(struct buf *out, int status, const char *msg)
{
	apierr_render(out, HUB_RESPONSES, status, msg);
}
