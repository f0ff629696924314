/*
 * hub_openai_client.c - the client side of the OpenAI chat completions
 * codec (POST /v1/chat/completions): the request decoder (client body ->
 * view) and the event encoder (events -> the client's chunks or body).
 * See hub.h for the view, the events and the string convention; the
 * upstream side is hub_openai_upstream.c.
 *
 * REQUEST (client body -> view).  Two passes over "messages": the leading
 * run of system/developer messages becomes the system prompt (TEXT parts
 * sys_first..sys_n), then every other message becomes a hub message with
 * its parts appended contiguously (a message's n is set once, from
 * v->nparts, when it ends).  A system/developer message *after* the first
 * non-system one is kept in place as a user message (its text unchanged):
 * hoisting it would reorder the conversation.  Consecutive role:"tool"
 * messages merge into one user message of TOOL_RESULT parts (Claude and
 * Gemini want parallel results together); a result's name is found from
 * the assistant tool call with the same id.  Empty text is dropped and a
 * message left without parts is removed.
 *
 * EVENTS (events -> client bytes).  Streaming writes one
 * "data: {chat.completion.chunk}\n\n" per event as it arrives, a usage
 * chunk (choices []) at DONE and then "data: [DONE]\n\n".  Non-stream
 * accumulates content, reasoning and the tool_calls array elements
 * (arguments appended fragment by fragment, still escaped; a call without
 * any gets "{}") and writes one chat.completion at DONE.  State: struct
 * hub_openai_enc (hub.h).
 */
#include "apierr.h"
#include "hub_tok.h"

#include <stdlib.h>
#include <string.h>


/* ======================================================================
 * decode_request: client body -> view
 * ====================================================================== */

static int openai_rq_text(struct hub_rq *rq, int tok)
{
	struct hub_part *p;
	if (json_len(rq->j, tok) == 0)
		return 0; /* empty text is dropped (Claude rejects it) */
	if (!(p = hub_rq_part(rq, HUB_P_TEXT)))
		return -1;
	p->text = hub_tok_span(rq->j, tok);
	return 0;
}

/* "data:<mime>;base64,<data>" or a remote URL -> IMAGE part. */
static int openai_rq_image_url(struct hub_rq *rq, struct hub_span url, int mi)
{
	struct hub_part *p = hub_rq_part(rq, HUB_P_IMAGE);
	int rc;

	if (!p)
		return -1;
	rc = hub_data_url(url, &p->mime, &p->data);
	if (rc < 0)
		return hub_rq_fail(rq, "messages[%d]: only base64 data URLs "
				   "are supported", mi);
	if (rc == 0)
		p->url = url;
	return 0;
}

static const char *openai_mime_for_name(struct hub_span name)
{
	static const char *const tab[][2] = {
		{".pdf", "application/pdf"}, {".png", "image/png"},
		{".jpg", "image/jpeg"},      {".jpeg", "image/jpeg"},
		{".gif", "image/gif"},       {".webp", "image/webp"},
		{".txt", "text/plain"},      {".md", "text/markdown"},
		{".csv", "text/csv"},        {".json", "application/json"},
	};
	size_t i, n;
	for (i = 0; i < HUB_NELEM(tab); i++) {
		n = strlen(tab[i][0]);
		if (name.p && name.n >= n &&
		    memcmp(name.p + name.n - n, tab[i][0], n) == 0)
			return tab[i][1];
	}
	return "application/octet-stream";
}

/* {"type":"file","file":{"file_data","filename"}} -> IMAGE (inline data). */
static int openai_rq_file(struct hub_rq *rq, int part, int mi)
{
	const struct json *j = rq->j;
	int f = json_get(j, part, "file");
	struct hub_span data = hub_tok_text(j, f, "file_data");
	struct hub_span dm, dd;
	struct hub_part *p;
	const char *mime;

	if (!data.p)
		return hub_rq_fail(rq, "messages[%d]: file parts need "
				   "file.file_data (file_id is not supported)",
				   mi);
	if (hub_data_url(data, &dm, &dd) != 0)
		return openai_rq_image_url(rq, data, mi);
	if (!(p = hub_rq_part(rq, HUB_P_IMAGE)))
		return -1;
	mime = openai_mime_for_name(hub_tok_text(j, f, "filename"));
	p->mime.p = mime;
	p->mime.n = strlen(mime);
	p->data = data;
	return 0;
}

/* One element of a content array. */
static int openai_rq_content_part(struct hub_rq *rq, int part, int mi,
				  int text_only)
{
	const struct json *j = rq->j;
	int type = json_get(j, part, "type"), t, u;

	if (!hub_tok_is(j, part, JSMN_OBJECT) ||
	    !hub_tok_is(j, type, JSMN_STRING))
		return hub_rq_fail(rq, "messages[%d]: content parts must be "
				   "objects with a type", mi);
	if (json_str_eq(j, type, "text") || json_str_eq(j, type, "refusal")) {
		t = json_get(j, part, json_str_eq(j, type, "text") ? "text"
								 : "refusal");
		if (!hub_tok_is(j, t, JSMN_STRING))
			return hub_rq_fail(rq, "messages[%d]: text part "
					   "without a text string", mi);
		return openai_rq_text(rq, t);
	}
	if (text_only)
		return 0; /* system / assistant: only text is kept */
	if (json_str_eq(j, type, "image_url")) {
		u = json_get(j, part, "image_url");
		if (hub_tok_is(j, u, JSMN_OBJECT))
			u = json_get(j, u, "url");
		if (!hub_tok_is(j, u, JSMN_STRING) || !json_len(j, u))
			return hub_rq_fail(rq, "messages[%d]: image_url part "
					   "without a url", mi);
		return openai_rq_image_url(rq, hub_tok_span(j, u), mi);
	}
	if (json_str_eq(j, type, "file"))
		return openai_rq_file(rq, part, mi);
	if (json_str_eq(j, type, "input_audio"))
		return hub_rq_fail(rq, "messages[%d]: input_audio parts are "
				   "not supported", mi);
	return 0; /* unknown part types are ignored */
}

/* content: string, array of parts, or null. */
static int openai_rq_content(struct hub_rq *rq, int c, int mi, int text_only)
{
	const struct json *j = rq->j;
	int k, e;

	if (hub_tok_null(rq->j, c))
		return 0;
	if (hub_tok_is(j, c, JSMN_STRING))
		return openai_rq_text(rq, c);
	if (!hub_tok_is(j, c, JSMN_ARRAY))
		return hub_rq_fail(rq, "messages[%d]: content must be a string "
				   "or an array", mi);
	for (k = 0, e = c + 1; k < j->tok[c].size; k++, e = json_skip(j, e))
		if (openai_rq_content_part(rq, e, mi, text_only) < 0)
			return -1;
	return 0;
}

/* One assistant tool_calls[] element -> TOOL_CALL. */
static int openai_rq_tool_call(struct hub_rq *rq, int tc, int mi)
{
	const struct json *j = rq->j;
	int f = json_get(j, tc, "function"), a;
	struct hub_span id = hub_tok_text(j, tc, "id");
	struct hub_span name = hub_tok_text(j, f, "name");
	struct hub_part *p;

	if (!id.p || !name.p)
		return hub_rq_fail(rq, "messages[%d]: tool_calls need an id "
				   "and function.name", mi);
	if (!(p = hub_rq_part(rq, HUB_P_TOOL_CALL)))
		return -1;
	p->id = id;
	p->name = name;
	a = json_get(j, f, "arguments");
	if (hub_tok_is(j, a, JSMN_STRING) && json_len(j, a)) {
		p->args = hub_tok_span(j, a);
		p->args_is_str = 1;
	} else if (hub_tok_is(j, a, JSMN_OBJECT)) {
		p->args = hub_tok_raw(j, a); /* lenient: an object */
	} else {
		p->args = HUB_LIT("{}");
		p->args_is_str = 1;
	}
	return 0;
}

static int openai_rq_assistant(struct hub_rq *rq, int m, int mi)
{
	const struct json *j = rq->j;
	int r = json_get(j, m, "reasoning_content"), tcs, k, e;
	struct hub_part *p;

	if (!hub_tok_is(j, r, JSMN_STRING))
		r = json_get(j, m, "reasoning");
	if (hub_tok_is(j, r, JSMN_STRING) && json_len(j, r)) {
		if (!(p = hub_rq_part(rq, HUB_P_THINKING)))
			return -1;
		p->text = hub_tok_span(j, r);
	}
	if (openai_rq_content(rq, json_get(j, m, "content"), mi, 1) < 0)
		return -1;
	tcs = json_get(j, m, "tool_calls");
	if (hub_tok_null(j, tcs))
		return 0;
	if (!hub_tok_is(j, tcs, JSMN_ARRAY))
		return hub_rq_fail(rq, "messages[%d]: tool_calls must be an "
				   "array", mi);
	for (k = 0, e = tcs + 1; k < j->tok[tcs].size;
	     k++, e = json_skip(j, e))
		if (openai_rq_tool_call(rq, e, mi) < 0)
			return -1;
	return 0;
}

/* role:"tool" -> TOOL_RESULT, named after the matching earlier call. */
static int openai_rq_tool_result(struct hub_rq *rq, int m, int mi)
{
	const struct json *j = rq->j;
	struct hub_view *v = rq->v;
	struct hub_span id = hub_tok_text(j, m, "tool_call_id");
	int c = json_get(j, m, "content");
	struct hub_part *p;

	if (!id.p)
		return hub_rq_fail(rq, "messages[%d]: tool messages need a "
				   "tool_call_id", mi);
	if (!(p = hub_rq_part(rq, HUB_P_TOOL_RESULT)))
		return -1;
	p->id = id;
	p->name = hub_view_call_name(v, v->nparts - 1, id);
	p->result_is_str = 1;
	if (hub_tok_is(j, c, JSMN_STRING)) {
		p->result = hub_tok_span(j, c);
	} else if (hub_tok_is(j, c, JSMN_ARRAY) && j->tok[c].size == 1 &&
		   json_str_eq(j, json_get(j, c + 1, "type"), "text") &&
		   hub_tok_is(j, json_get(j, c + 1, "text"), JSMN_STRING)) {
		p->result = hub_tok_span(j, json_get(j, c + 1, "text"));
	} else if (hub_tok_is(j, c, JSMN_ARRAY)) {
		/* text parts have the Claude block shape: pass them raw */
		p->result = hub_tok_raw(j, c);
		p->result_is_str = 0;
	} else if (hub_tok_null(j, c)) {
		p->result = HUB_LIT("");
	} else {
		return hub_rq_fail(rq, "messages[%d]: tool content must be a "
				   "string or an array", mi);
	}
	return 0;
}

static int openai_role_is_system(const struct json *j, int role)
{
	return json_str_eq(j, role, "system") ||
	       json_str_eq(j, role, "developer");
}

/* One non-leading message.  *tool_msg: index of the open tool-result
 * message (consecutive tool messages merge into it), or -1. */
static int openai_rq_message(struct hub_rq *rq, int m, int mi, long *tool_msg)
{
	const struct json *j = rq->j;
	struct hub_view *v = rq->v;
	int role = json_get(j, m, "role"), rc;
	int is_tool = json_str_eq(j, role, "tool");
	int is_asst = json_str_eq(j, role, "assistant");
	size_t k;

	if (json_str_eq(j, role, "function"))
		return 0; /* legacy functions API: ignored */
	if (!is_tool && !is_asst && !json_str_eq(j, role, "user") &&
	    !openai_role_is_system(j, role))
		return hub_rq_fail(rq, "messages[%d]: unsupported role", mi);
	if (is_tool && *tool_msg >= 0)
		return openai_rq_tool_result(rq, m, mi);
	if (!hub_add_msg(v, is_asst ? HUB_ASSISTANT : HUB_USER))
		return hub_rq_fail(rq, "out of memory");
	k = v->nmsgs - 1;
	*tool_msg = is_tool ? (long)k : -1;
	if (is_tool)
		rc = openai_rq_tool_result(rq, m, mi);
	else if (is_asst)
		rc = openai_rq_assistant(rq, m, mi);
	else
		rc = openai_rq_content(rq, json_get(j, m, "content"), mi,
				       openai_role_is_system(j, role));
	if (rc < 0)
		return -1;
	return 0;
}

static int openai_rq_messages(struct hub_rq *rq)
{
	const struct json *j = rq->j;
	struct hub_view *v = rq->v;
	int ms = json_get(j, 0, "messages"), k, m, role;
	long tool_msg = -1;
	size_t i;

	if (!hub_tok_is(j, ms, JSMN_ARRAY))
		return hub_rq_fail(rq, "messages must be an array");
	v->sys_first = v->nparts;
	for (k = 0, m = ms + 1; k < j->tok[ms].size; k++, m = json_skip(j, m)) {
		if (!hub_tok_is(j, m, JSMN_OBJECT))
			return hub_rq_fail(rq, "messages[%d] must be an object",
					   k);
		role = json_get(j, m, "role");
		if (!hub_tok_is(j, role, JSMN_STRING))
			return hub_rq_fail(rq, "messages[%d]: missing role", k);
		if (!openai_role_is_system(j, role))
			break;
		if (openai_rq_content(rq, json_get(j, m, "content"), k, 1) < 0)
			return -1;
	}
	v->sys_n = v->nparts - v->sys_first;
	for (; k < j->tok[ms].size; k++, m = json_skip(j, m)) {
		if (!hub_tok_is(j, m, JSMN_OBJECT))
			return hub_rq_fail(rq, "messages[%d] must be an object",
					   k);
		if (openai_rq_message(rq, m, k, &tool_msg) < 0)
			return -1;
		/* the current message ends at the last part appended */
		i = v->nmsgs;
		if (i)
			v->msgs[i - 1].n = v->nparts - v->msgs[i - 1].first;
		if (i && v->msgs[i - 1].n == 0)
			v->nmsgs--; /* nothing left of it */
	}
	return 0;
}

static int openai_rq_tools(struct hub_rq *rq)
{
	const struct json *j = rq->j;
	int ts = json_get(j, 0, "tools"), k, e, f;

	if (hub_tok_null(j, ts))
		return 0;
	if (!hub_tok_is(j, ts, JSMN_ARRAY))
		return hub_rq_fail(rq, "tools must be an array");
	for (k = 0, e = ts + 1; k < j->tok[ts].size; k++, e = json_skip(j, e)) {
		if (!json_str_eq(j, json_get(j, e, "type"), "function"))
			continue; /* built-in tools have no equivalent */
		f = json_get(j, e, "function");
		if (!hub_tok_text(j, f, "name").p)
			return hub_rq_fail(rq, "tools[%d]: function.name is "
					   "required", k);
		if (!hub_rq_tool(rq, hub_tok_text(j, f, "name"),
				 hub_tok_text(j, f, "description"),
				 json_get(j, f, "parameters")))
			return -1;
	}
	return 0;
}

static int openai_rq_tool_choice(struct hub_rq *rq)
{
	int tc = json_get(rq->j, 0, "tool_choice");

	if (hub_tok_null(rq->j, tc) || hub_tool_choice_of(rq->j, tc,
							  rq->v) == 0)
		return 0;
	return hub_rq_fail(rq, "invalid tool_choice");
}

static int openai_rq_stop(struct hub_rq *rq)
{
	int rc, s = json_get(rq->j, 0, "stop");

	if (hub_tok_null(rq->j, s))
		return 0;
	rc = hub_rq_stops(rq, s);
	if (rc < 0)
		return hub_rq_fail(rq, "stop must be a string or an array");
	if (rc > 0)
		return hub_rq_fail(rq, "stop must hold strings");
	return 0;
}

/* reasoning_effort, and OpenRouter's "reasoning" object. */
static int openai_rq_reasoning(struct hub_rq *rq)
{
	const struct json *j = rq->j;
	struct hub_view *v = rq->v;
	int r = json_get(j, 0, "reasoning_effort"), o;
	long budget;

	if (!hub_tok_null(j, r) && hub_effort_of(j, r, &v->effort) < 0)
		return hub_rq_fail(rq, "unsupported reasoning_effort");
	o = json_get(j, 0, "reasoning");
	if (hub_tok_is(j, o, JSMN_OBJECT)) {
		r = json_get(j, o, "effort");
		if (!hub_tok_null(j, r) &&
		    hub_effort_of(j, r, &v->effort) < 0)
			return hub_rq_fail(rq, "unsupported reasoning.effort");
		switch (hub_tok_int(j, json_get(j, o, "max_tokens"), 0,
				    HUB_TOKENS_MAX, &budget)) {
		case HUB_INT_OK:
			v->thinking_budget = budget;
			break;
		case HUB_INT_BAD:
			return hub_rq_fail(rq, "reasoning.max_tokens must be a "
					   "whole number from 0 to 2147483647");
		}
		if (hub_tok_true(j, json_get(j, o, "exclude")))
			v->include_thoughts = 0;
		if (json_get(j, o, "enabled") >= 0 &&
		    !hub_tok_true(j, json_get(j, o, "enabled")))
			v->effort = HUB_EFFORT_NONE;
		if (v->effort == HUB_EFFORT_UNSET &&
		    v->thinking_budget == HUB_BUDGET_UNSET)
			v->effort = HUB_EFFORT_MEDIUM;
	}
	if (v->effort == HUB_EFFORT_UNSET &&
	    v->thinking_budget == HUB_BUDGET_UNSET)
		return 0;
	v->thinking = v->effort == HUB_EFFORT_NONE || v->thinking_budget == 0
			      ? 0
			      : 1;
	if (v->thinking && v->include_thoughts < 0)
		v->include_thoughts = 1;
	return 0;
}

/* A sampling parameter: a number (raw span), or null/absent. */
static int openai_rq_number(struct hub_rq *rq, const char *key,
			    struct hub_span *out)
{
	int t = json_get(rq->j, 0, key);
	if (hub_tok_null(rq->j, t))
		return 0;
	if (!hub_tok_number(rq->j, t))
		return hub_rq_fail(rq, "%s must be a number", key);
	*out = hub_tok_raw(rq->j, t);
	return 0;
}

static int openai_rq_params(struct hub_rq *rq)
{
	const struct json *j = rq->j;
	struct hub_view *v = rq->v;
	int t;

	t = json_get(j, 0, "model");
	if (!hub_tok_null(j, t) && !hub_tok_is(j, t, JSMN_STRING))
		return hub_rq_fail(rq, "model must be a string");
	v->model = hub_tok_text(j, 0, "model");
	v->stream = hub_tok_true(j, json_get(j, 0, "stream"));
	t = json_get(j, 0, "max_completion_tokens");
	if (hub_tok_null(j, t))
		t = json_get(j, 0, "max_tokens");
	if (hub_tok_int(j, t, 0, HUB_TOKENS_MAX, &v->max_tokens) == HUB_INT_BAD)
		return hub_rq_fail(rq, "max_tokens must be a whole number from "
				   "0 to 2147483647");
	if (openai_rq_number(rq, "temperature", &v->temperature) < 0 ||
	    openai_rq_number(rq, "top_p", &v->top_p) < 0 ||
	    openai_rq_number(rq, "top_k", &v->top_k) < 0)
		return -1;
	t = json_get(j, 0, "parallel_tool_calls");
	if (hub_tok_bool(j, t))
		v->parallel_tool_calls = hub_tok_true(j, t);
	t = json_get(j, 0, "response_format");
	if (hub_tok_is(j, t, JSMN_OBJECT))
		v->response_format = hub_tok_raw(j, t);
	v->user = hub_tok_text(j, 0, "user");
	return 0;
}

int hub_openai_decode_request(const struct json *j, struct hub_view *v,
			      char *err, size_t errlen)
{
	struct hub_rq rq = {j, v, err, errlen};

	if (!hub_tok_is(j, 0, JSMN_OBJECT))
		return hub_fail(err, errlen, "request body must be a JSON "
				"object");
	if (openai_rq_params(&rq) < 0 || openai_rq_stop(&rq) < 0 ||
	    openai_rq_reasoning(&rq) < 0 || openai_rq_tools(&rq) < 0 ||
	    openai_rq_tool_choice(&rq) < 0 || openai_rq_messages(&rq) < 0)
		return -1;
	return 0;
}

/* ======================================================================
 * encode_event: events -> OpenAI client bytes
 * ====================================================================== */


static const char *openai_finish_name(const struct hub_enc *e)
{
	enum hub_finish f = e->have_finish ? e->finish : HUB_FIN_STOP;

	if (e->u.openai.calls && (f == HUB_FIN_STOP || f == HUB_FIN_TOOL))
		return "tool_calls";
	if (f == HUB_FIN_LENGTH)
		return "length";
	if (f == HUB_FIN_FILTER)
		return "content_filter";
	return "stop";
}

static void openai_put_usage(struct buf *out, const struct hub_usage *u)
{
	long in = u->input > 0 ? u->input : 0;
	long o = u->output > 0 ? u->output : 0;

	buf_printf(out,
		   "{\"prompt_tokens\":%ld,\"completion_tokens\":%ld,"
		   "\"total_tokens\":%ld,\"prompt_tokens_details\":"
		   "{\"cached_tokens\":%ld},\"completion_tokens_details\":"
		   "{\"reasoning_tokens\":%ld}}",
		   in, o, in + o, u->cached > 0 ? u->cached : 0,
		   u->thoughts > 0 ? u->thoughts : 0);
}

/* "data: {...,"choices":[{"index":0,"delta":{" */
static void openai_chunk_head(const struct hub_enc *e, struct buf *out)
{
	buf_puts(out, "data: {\"id\":");
	buf_json_cstr(out, e->id);
	buf_printf(out, ",\"object\":\"chat.completion.chunk\",\"created\":%lld,"
			"\"model\":", e->o.created);
	buf_json_cstr(out, e->model);
	buf_puts(out, ",\"choices\":[{\"index\":0,\"delta\":{");
}

static void openai_chunk_tail(struct buf *out, const char *finish)
{
	if (finish)
		buf_printf(out, "},\"finish_reason\":\"%s\"}]}\n\n", finish);
	else
		buf_puts(out, "},\"finish_reason\":null}]}\n\n");
}

/* Head of the answer: ids, and in a stream the role chunk. */
static void openai_enc_begin(struct hub_enc *e, struct buf *out)
{
	if (!hub_enc_begin(e, &e->u.openai.started, "chatcmpl-") ||
	    !e->o.stream)
		return;
	openai_chunk_head(e, out);
	buf_puts(out, "\"role\":\"assistant\",\"content\":\"\"");
	openai_chunk_tail(out, NULL);
}

/* START: keep its id and model (plain text, as e->model from the opts). */
static void openai_enc_start(struct hub_enc *e, const struct hub_event *ev,
			     struct buf *out)
{
	if (!e->u.openai.started)
		hub_enc_take_start(e, ev);
	openai_enc_begin(e, out);
}

static void openai_stream_delta(struct hub_enc *e, const char *key,
				struct hub_span s, struct buf *out)
{
	if (!s.n)
		return; /* no chunk for an empty delta */
	openai_enc_begin(e, out);
	openai_chunk_head(e, out);
	buf_printf(out, "\"%s\":", key);
	hub_put_str(out, s);
	openai_chunk_tail(out, NULL);
}

static void openai_stream_args(struct hub_enc *e, int index,
			       struct hub_span frag, struct buf *out)
{
	openai_chunk_head(e, out);
	buf_printf(out, "\"tool_calls\":[{\"index\":%d,\"function\":"
			"{\"arguments\":", index);
	hub_put_str(out, frag);
	buf_puts(out, "}}]");
	openai_chunk_tail(out, NULL);
}

/* Close the open call; one that got no arguments at all gets "{}" so
 * clients can parse them (e.g. a Claude tool with empty input). */
static void openai_stream_tool_close(struct hub_enc *e, struct buf *out)
{
	struct hub_openai_enc *o = &e->u.openai;

	if (o->open_call && !o->call_args)
		openai_stream_args(e, o->open_call - 1, HUB_LIT("{}"), out);
	o->open_call = 0;
}

/* Streaming tool events; open_call = the open call + 1, call_args = 1
 * once it got an argument fragment. */
static void openai_stream_tool(struct hub_enc *e, const struct hub_event *ev,
			       struct buf *out)
{
	struct hub_openai_enc *o = &e->u.openai;

	openai_enc_begin(e, out);
	if (ev->type == HUB_EV_TOOL_ARGS) {
		if (!ev->text.n)
			return;
		if (o->open_call == ev->index + 1)
			o->call_args = 1;
		openai_stream_args(e, ev->index, ev->text, out);
		return;
	}
	openai_stream_tool_close(e, out);
	if (ev->type != HUB_EV_TOOL_START)
		return;
	o->calls++;
	o->open_call = ev->index + 1;
	o->call_args = 0;
	openai_chunk_head(e, out);
	buf_printf(out, "\"tool_calls\":[{\"index\":%d,\"id\":", ev->index);
	hub_put_str(out, ev->id);
	buf_puts(out, ",\"type\":\"function\",\"function\":{\"name\":");
	hub_put_str(out, ev->name);
	buf_puts(out, ",\"arguments\":\"\"}}]");
	openai_chunk_tail(out, NULL);
}

static void openai_stream_finish(struct hub_enc *e, struct buf *out)
{
	openai_enc_begin(e, out);
	openai_stream_tool_close(e, out);
	openai_chunk_head(e, out);
	openai_chunk_tail(out, openai_finish_name(e));
}

static void openai_stream_done(struct hub_enc *e, struct buf *out)
{
	if (!e->u.openai.err_status) {
		openai_stream_tool_close(e, out);
		if (!e->have_finish) {
			openai_stream_finish(e, out);
			e->have_finish = 1;
		}
		if (e->usage.input >= 0 || e->usage.output >= 0) {
			buf_puts(out, "data: {\"id\":");
			buf_json_cstr(out, e->id);
			buf_printf(out, ",\"object\":\"chat.completion.chunk\","
					"\"created\":%lld,\"model\":",
				   e->o.created);
			buf_json_cstr(out, e->model);
			buf_puts(out, ",\"choices\":[],\"usage\":");
			openai_put_usage(out, &e->usage);
			buf_puts(out, "}\n\n");
		}
	}
	buf_puts(out, "data: [DONE]\n\n");
}

/* Non-stream: one tool_calls[] element built in calls_json. */
static void openai_acc_tool(struct hub_enc *e, const struct hub_event *ev)
{
	struct hub_openai_enc *o = &e->u.openai;
	struct buf *t = &o->calls_json;

	if (ev->type == HUB_EV_TOOL_ARGS) {
		if (o->open_call == ev->index + 1)
			buf_put(t, ev->text.p, ev->text.n);
		return;
	}
	if (o->open_call) { /* TOOL_END, or a START closing the last */
		if (t->len == o->args_at)
			buf_puts(t, "{}"); /* no arguments at all */
		buf_puts(t, "\"}}");
		o->open_call = 0;
	}
	if (ev->type != HUB_EV_TOOL_START)
		return;
	o->calls++;
	if (t->len)
		buf_putc(t, ',');
	buf_puts(t, "{\"id\":");
	hub_put_str(t, ev->id);
	buf_puts(t, ",\"type\":\"function\",\"function\":{\"name\":");
	hub_put_str(t, ev->name);
	buf_puts(t, ",\"arguments\":\"");
	o->open_call = ev->index + 1;
	o->args_at = t->len;
}

static void openai_body_error(struct hub_enc *e, struct buf *out)
{
	apierr_begin(out, HUB_OPENAI, e->u.openai.err_status);
	buf_putc(out, '"');
	buf_put(out, e->u.openai.err.p, e->u.openai.err.len);
	buf_putc(out, '"');
	apierr_end(out, HUB_OPENAI, e->u.openai.err_status);
}

/* Non-stream: the whole chat.completion at DONE. */
static void openai_body_done(struct hub_enc *e, struct buf *out)
{
	struct hub_openai_enc *o = &e->u.openai;
	struct hub_event end;

	hub_event_init(&end, HUB_EV_TOOL_END);
	openai_acc_tool(e, &end);
	if (!o->err_status && (o->text.overflow || o->reasoning.overflow ||
			       o->calls_json.overflow)) {
		buf_reset(&o->err);
		buf_puts(&o->err, "upstream answer too large");
		o->err_status = 502;
	}
	if (o->err_status) {
		openai_body_error(e, out);
		return;
	}
	hub_enc_make_id(e, "chatcmpl-");
	buf_puts(out, "{\"id\":");
	buf_json_cstr(out, e->id);
	buf_printf(out, ",\"object\":\"chat.completion\",\"created\":%lld,"
			"\"model\":", e->o.created);
	buf_json_cstr(out, e->model);
	buf_puts(out, ",\"choices\":[{\"index\":0,\"message\":{\"role\":"
		      "\"assistant\",\"content\":");
	if (o->text.len || !o->calls) {
		buf_putc(out, '"');
		buf_put(out, o->text.p, o->text.len);
		buf_putc(out, '"');
	} else {
		buf_puts(out, "null");
	}
	if (o->reasoning.len) {
		buf_puts(out, ",\"reasoning_content\":\"");
		buf_put(out, o->reasoning.p, o->reasoning.len);
		buf_putc(out, '"');
	}
	if (o->calls) {
		buf_puts(out, ",\"tool_calls\":[");
		buf_put(out, o->calls_json.p, o->calls_json.len);
		buf_putc(out, ']');
	}
	buf_printf(out, "},\"finish_reason\":\"%s\"}],\"usage\":",
		   openai_finish_name(e));
	openai_put_usage(out, &e->usage);
	buf_putc(out, '}');
}

static void openai_enc_error(struct hub_enc *e, const struct hub_event *ev,
			     struct buf *out)
{
	struct hub_openai_enc *o = &e->u.openai;
	int status = ev->status >= 400 && ev->status <= 599 ? ev->status : 502;

	if (o->err_status)
		return;
	o->err_status = status;
	if (!e->o.stream) {
		buf_reset(&o->err);
		buf_put(&o->err, ev->text.p, ev->text.n);
		return;
	}
	buf_puts(out, "data: ");
	apierr_begin(out, HUB_OPENAI, status);
	hub_put_str(out, ev->text);
	apierr_end(out, HUB_OPENAI, status);
	buf_puts(out, "\n\n");
}

void hub_openai_encode_event(struct hub_enc *e, const struct hub_event *ev,
			     struct buf *out)
{
	struct hub_openai_enc *o = &e->u.openai;
	int s = e->o.stream;

	if (o->err_status && ev->type != HUB_EV_DONE)
		return; /* after an error only the close remains */
	switch (ev->type) {
	case HUB_EV_START:
		openai_enc_start(e, ev, out);
		break;
	case HUB_EV_TEXT:
		if (s)
			openai_stream_delta(e, "content", ev->text, out);
		else
			buf_put(&o->text, ev->text.p, ev->text.n);
		break;
	case HUB_EV_THINKING:
		if (s)
			openai_stream_delta(e, "reasoning_content", ev->text,
					    out);
		else
			buf_put(&o->reasoning, ev->text.p, ev->text.n);
		break;
	case HUB_EV_THINKING_SIG: /* OpenAI has no place for it */
		break;
	case HUB_EV_TOOL_START:
	case HUB_EV_TOOL_ARGS:
	case HUB_EV_TOOL_END:
		if (s)
			openai_stream_tool(e, ev, out);
		else
			openai_acc_tool(e, ev);
		break;
	case HUB_EV_USAGE:
		hub_usage_merge(&e->usage, &ev->usage);
		break;
	case HUB_EV_FINISH:
		if (e->have_finish)
			break;
		e->finish = ev->finish;
		e->have_finish = 1;
		if (s)
			openai_stream_finish(e, out);
		break;
	case HUB_EV_ERROR:
		openai_enc_error(e, ev, out);
		break;
	case HUB_EV_DONE:
		if (s)
			openai_stream_done(e, out);
		else
			openai_body_done(e, out);
		break;
	}
}

/* ======================================================================
 * render_error
 * ====================================================================== */

void hub_openai_render_error(struct buf *out, int status, const char *msg)
{
	apierr_render(out, HUB_OPENAI, status, msg);
}
