/*
 * hub_openai_upstream.c - the upstream side of the OpenAI chat completions
 * codec (OpenAI-compatible providers such as OpenRouter and Qwen): the
 * request encoder (view -> upstream body) and the event decoder (upstream
 * SSE chunks or a whole chat.completion -> events).  See hub.h for the
 * view, the events and the string convention; the client side is
 * hub_openai_client.c.
 *
 * REQUEST (view -> upstream body).  One leading system message (texts
 * joined with "\n"), then per hub message: its TOOL_RESULT parts first, as
 * separate role:"tool" messages, then the rest.  THINKING is dropped
 * (OpenAI-compatible upstreams do not take reasoning back).  Every
 * stream asks for usage (stream_options.include_usage), which is also
 * what Qwen needs (hub_req_opts.stream_usage).
 *
 * EVENTS (upstream SSE -> events).  State: struct hub_openai_sdec (hub.h);
 * d->done is set by "data: [DONE]" and by a fatal error event, and
 * everything after it is ignored.  OpenAI sends finish_reason in one
 * chunk and the usage in a later chunk with empty choices
 * (stream_options.include_usage), so FINISH is held until that usage (or
 * [DONE]) and USAGE always precedes FINISH.
 */
#include "hub_tok.h"

#include <stdlib.h>
#include <string.h>


/* ======================================================================
 * encode_request: view -> OpenAI upstream body
 * ====================================================================== */

/* Writes ',' before every element but the first. */
static void openai_sep(struct buf *out, int *n)
{
	if ((*n)++)
		buf_putc(out, ',');
}

/* Text blocks of a raw block array joined with "\n" as one JSON string;
 * 0 when the array holds no text block (nothing written). */
static int openai_put_block_texts(struct buf *out, const struct json *j,
				  int arr)
{
	int k, e, t, n = 0;

	for (k = 0, e = arr + 1; k < j->tok[arr].size; k++, e = json_skip(j, e)) {
		t = json_get(j, e, "text");
		if (!json_str_eq(j, json_get(j, e, "type"), "text") ||
		    !hub_tok_is(j, t, JSMN_STRING))
			continue;
		buf_puts(out, n++ ? "\\n" : "\"");
		buf_put(out, json_ptr(j, t), json_len(j, t));
	}
	if (n)
		buf_putc(out, '"');
	return n;
}

static void openai_put_result_content(const struct hub_view *v,
				      const struct hub_part *p,
				      struct buf *out)
{
	int t;

	if (p->result_is_str || !p->result.p) {
		hub_put_str(out, p->result);
		return;
	}
	if (p->result.p[0] == '"') { /* a raw JSON string is already one */
		buf_put(out, p->result.p, p->result.n);
		return;
	}
	t = hub_tok_at(v->json, p->result.p);
	if (hub_tok_is(v->json, t, JSMN_ARRAY) &&
	    openai_put_block_texts(out, v->json, t))
		return;
	hub_put_json_as_str(out, p->result);
}

static void openai_put_tool_result(const struct hub_view *v,
				   const struct hub_part *p, struct buf *out)
{
	buf_puts(out, "{\"role\":\"tool\",\"tool_call_id\":");
	hub_put_str(out, p->id.p ? p->id : p->name);
	buf_puts(out, ",\"content\":");
	openai_put_result_content(v, p, out);
	buf_putc(out, '}');
}

/* TEXT parts of parts[first..first+n) joined with "\n" as one string;
 * returns how many there were. */
static int openai_put_joined_text(const struct hub_view *v, size_t first,
				  size_t n, struct buf *out)
{
	size_t i;
	int k = 0;

	buf_putc(out, '"');
	for (i = first; i < first + n; i++) {
		if (v->parts[i].type != HUB_P_TEXT)
			continue;
		if (k++)
			buf_puts(out, "\\n");
		buf_put(out, v->parts[i].text.p, v->parts[i].text.n);
	}
	buf_putc(out, '"');
	return k;
}

static void openai_put_image(const struct hub_part *p, struct buf *out)
{
	buf_puts(out, "{\"type\":\"image_url\",\"image_url\":{\"url\":\"");
	hub_put_image_url(out, p);
	buf_puts(out, "\"}}");
}

static void openai_put_user(const struct hub_view *v, const struct hub_msg *m,
			    struct buf *out, int *nmsg)
{
	size_t texts = hub_msg_count(v, m, HUB_P_TEXT), i;
	size_t images = hub_msg_count(v, m, HUB_P_IMAGE);
	int k = 0;

	if (!texts && !images)
		return;
	openai_sep(out, nmsg);
	buf_puts(out, "{\"role\":\"user\",\"content\":");
	if (!images) {
		openai_put_joined_text(v, m->first, m->n, out);
		buf_putc(out, '}');
		return;
	}
	buf_putc(out, '[');
	for (i = m->first; i < m->first + m->n; i++) {
		const struct hub_part *p = &v->parts[i];
		if (p->type == HUB_P_TEXT) {
			openai_sep(out, &k);
			buf_puts(out, "{\"type\":\"text\",\"text\":");
			hub_put_str(out, p->text);
			buf_putc(out, '}');
		} else if (p->type == HUB_P_IMAGE) {
			openai_sep(out, &k);
			openai_put_image(p, out);
		}
	}
	buf_puts(out, "]}");
}

static void openai_put_tool_call(const struct hub_part *p, struct buf *out)
{
	buf_puts(out, "{\"id\":");
	hub_put_str(out, p->id.p ? p->id : p->name);
	buf_puts(out, ",\"type\":\"function\",\"function\":{\"name\":");
	hub_put_str(out, p->name);
	buf_puts(out, ",\"arguments\":");
	if (!p->args.p || !p->args.n)
		buf_puts(out, "\"{}\"");
	else if (p->args_is_str)
		hub_put_str(out, p->args);
	else
		hub_put_json_as_str(out, p->args);
	buf_puts(out, "}}");
}

static void openai_put_assistant(const struct hub_view *v,
				 const struct hub_msg *m, struct buf *out,
				 int *nmsg)
{
	size_t texts = hub_msg_count(v, m, HUB_P_TEXT), i;
	size_t calls = hub_msg_count(v, m, HUB_P_TOOL_CALL);
	int k = 0;

	if (!texts && !calls)
		return; /* e.g. only thinking: nothing OpenAI can take */
	openai_sep(out, nmsg);
	buf_puts(out, "{\"role\":\"assistant\",\"content\":");
	if (texts)
		openai_put_joined_text(v, m->first, m->n, out);
	else
		buf_puts(out, "null");
	if (calls) {
		buf_puts(out, ",\"tool_calls\":[");
		for (i = m->first; i < m->first + m->n; i++)
			if (v->parts[i].type == HUB_P_TOOL_CALL) {
				openai_sep(out, &k);
				openai_put_tool_call(&v->parts[i], out);
			}
		buf_putc(out, ']');
	}
	buf_putc(out, '}');
}

/* A system message inside the conversation, in place. */
static void openai_put_system(const struct hub_view *v,
			      const struct hub_msg *m, struct buf *out, int *nmsg)
{
	if (!hub_msg_count(v, m, HUB_P_TEXT))
		return;
	openai_sep(out, nmsg);
	buf_puts(out, "{\"role\":\"system\",\"content\":");
	openai_put_joined_text(v, m->first, m->n, out);
	buf_putc(out, '}');
}

static void openai_put_messages(const struct hub_view *v, struct buf *out)
{
	const struct hub_msg *m;
	size_t i, k;
	int n = 0;

	buf_puts(out, "\"messages\":[");
	if (v->sys_n) {
		openai_sep(out, &n);
		buf_puts(out, "{\"role\":\"system\",\"content\":");
		openai_put_joined_text(v, v->sys_first, v->sys_n, out);
		buf_putc(out, '}');
	}
	for (i = 0; i < v->nmsgs; i++) {
		m = &v->msgs[i];
		for (k = m->first; k < m->first + m->n; k++)
			if (v->parts[k].type == HUB_P_TOOL_RESULT) {
				openai_sep(out, &n);
				openai_put_tool_result(v, &v->parts[k], out);
			}
		if (m->role == HUB_ASSISTANT)
			openai_put_assistant(v, m, out, &n);
		else if (m->role == HUB_SYSTEM)
			openai_put_system(v, m, out, &n);
		else
			openai_put_user(v, m, out, &n);
	}
	buf_putc(out, ']');
}

static void openai_put_tools(const struct hub_view *v, struct buf *out)
{
	static const char *const choice[] = {
		[HUB_TC_AUTO] = "\"auto\"", [HUB_TC_NONE] = "\"none\"",
		[HUB_TC_ANY] = "\"required\"",
	};

	if (!v->ntools)
		return; /* tool_choice without tools is a 400 for OpenAI */
	hub_put_tools(out, v, "{\"type\":\"function\",\"function\":{",
		      "parameters", "}}");
	if (v->tool_choice == HUB_TC_TOOL) {
		buf_puts(out, ",\"tool_choice\":{\"type\":\"function\","
			      "\"function\":{\"name\":");
		hub_put_str(out, v->tool_choice_name);
		buf_puts(out, "}}");
	} else if (v->tool_choice != HUB_TC_UNSET) {
		buf_puts(out, ",\"tool_choice\":");
		buf_puts(out, choice[v->tool_choice]);
	}
	if (v->parallel_tool_calls >= 0)
		buf_puts(out, v->parallel_tool_calls
				      ? ",\"parallel_tool_calls\":true"
				      : ",\"parallel_tool_calls\":false");
}

/* reasoning_effort value for the view, or NULL to leave it out: only when
 * thinking is requested (or "none" asked for explicitly); a dynamic or
 * unspecified level becomes "medium" (OpenAI has no "auto"). */
static const char *openai_effort_name(const struct hub_view *v)
{
	static const char *const name[] = {
		[HUB_EFFORT_NONE] = "none",   [HUB_EFFORT_MINIMAL] = "minimal",
		[HUB_EFFORT_LOW] = "low",     [HUB_EFFORT_MEDIUM] = "medium",
		[HUB_EFFORT_HIGH] = "high",   [HUB_EFFORT_AUTO] = "medium",
		[HUB_EFFORT_UNSET] = "medium",
	};
	enum hub_effort e = v->effort;

	if (v->thinking == 0 || (v->thinking < 0 && e == HUB_EFFORT_NONE))
		return e == HUB_EFFORT_NONE ? "none" : NULL;
	if (v->thinking < 0 && e == HUB_EFFORT_UNSET)
		return NULL;
	if (e == HUB_EFFORT_UNSET)
		e = hub_effort_for_budget(v->thinking_budget);
	if (e == HUB_EFFORT_NONE) /* on, yet a zero budget: the least */
		return "low";
	return name[e];
}

static void openai_put_params(const struct hub_view *v,
			      const struct hub_req_opts *o, struct buf *out)
{
	const char *effort = openai_effort_name(v);

	if (v->max_tokens >= 0) {
		buf_puts(out, ",\"max_tokens\":");
		buf_putu(out, (unsigned long long)v->max_tokens);
	}
	hub_put_raw_member(out, "temperature", v->temperature);
	hub_put_raw_member(out, "top_p", v->top_p);
	hub_put_raw_member(out, "top_k", v->top_k);
	if (v->nstop > 0) {
		buf_puts(out, ",\"stop\":");
		hub_put_str_list(out, v->stop, v->nstop);
	}
	if (effort)
		buf_printf(out, ",\"reasoning_effort\":\"%s\"", effort);
	if (v->response_format.p) {
		buf_puts(out, ",\"response_format\":");
		buf_put(out, v->response_format.p, v->response_format.n);
	}
	if (v->user.p) {
		buf_puts(out, ",\"user\":");
		hub_put_str(out, v->user);
	}
	if (o->stream)
		buf_puts(out, ",\"stream\":true,"
			      "\"stream_options\":{\"include_usage\":true}");
}

int hub_openai_encode_request(const struct hub_view *v,
			      const struct hub_req_opts *o,
			      struct buf *out, char *err, size_t errlen)
{
	const char *model = o->model ? o->model : "";

	buf_puts(out, "{\"model\":");
	buf_json_str(out, model, strlen(model));
	buf_putc(out, ',');
	openai_put_messages(v, out);
	openai_put_tools(v, out);
	openai_put_params(v, o, out);
	buf_putc(out, '}');
	if (out->overflow)
		return hub_fail(err, errlen, "request too large");
	return 0;
}

/* ======================================================================
 * decode_event / decode_body: upstream chunks -> events
 * ====================================================================== */

/* The decoder's own state. */
static struct hub_openai_sdec *st(struct hub_sink *x)
{
	return &x->d->u.openai;
}

static void openai_dec_start(struct hub_sink *x, int obj)
{
	hub_sink_start(x, hub_tok_text(x->j, obj, "id"),
		       hub_tok_text(x->j, obj, "model"));
}

static void openai_dec_tool_end(struct hub_sink *x)
{
	struct hub_event ev;
	if (!st(x)->tool_open)
		return;
	st(x)->tool_open = 0;
	hub_event_init(&ev, HUB_EV_TOOL_END);
	ev.index = x->d->ntools - 1;
	hub_sink_emit(x, &ev);
}

/* Is id the id of the last started call?  (Long ids compare by the
 * prefix that fits in s->id.) */
static int openai_dec_same_id(const struct hub_openai_sdec *s,
			      struct hub_span id)
{
	size_t n = id.n < sizeof(s->id) - 1 ? id.n : sizeof(s->id) - 1;
	return strlen(s->id) == n && memcmp(s->id, id.p, n) == 0;
}

static void openai_dec_tool_start(struct hub_sink *x, long up_index,
				  struct hub_span id, struct hub_span name)
{
	struct hub_sdec *d = x->d;
	struct hub_openai_sdec *s = st(x);
	struct hub_event ev;
	size_t n;

	openai_dec_tool_end(x);
	if (id.p) {
		n = id.n < sizeof(s->id) - 1 ? id.n : sizeof(s->id) - 1;
		memcpy(s->id, id.p, n);
		s->id[n] = '\0';
	} else {
		hub_gen_id(s->id, sizeof(s->id), "call_", d->seed,
			   (long)d->ntools);
		id.p = s->id;
		id.n = strlen(s->id);
	}
	hub_event_init(&ev, HUB_EV_TOOL_START);
	ev.index = d->ntools++;
	ev.id = id;
	ev.name = name.p ? name : HUB_LIT("");
	s->open_tool = (int)up_index + 1;
	st(x)->tool_open = 1;
	hub_sink_emit(x, &ev);
}

/* function.arguments: a string fragment, or (lenient) a raw object that
 * is escaped into scratch so the span is str. */
static void openai_dec_args(struct hub_sink *x, int a)
{
	struct buf *s = &x->d->scratch;
	struct hub_span raw;
	size_t start = s->len;

	if (hub_tok_is(x->j, a, JSMN_STRING) && json_len(x->j, a)) {
		hub_sink_text(x, HUB_EV_TOOL_ARGS, x->d->ntools - 1,
				 hub_tok_span(x->j, a));
	} else if (hub_tok_is(x->j, a, JSMN_OBJECT)) {
		raw = hub_tok_raw(x->j, a);
		hub_escape(s, raw.p, raw.n);
		if (!s->overflow)
			hub_sink_text(x, HUB_EV_TOOL_ARGS,
					 x->d->ntools - 1,
					 (struct hub_span){s->p + start,
							   s->len - start});
	}
}

/* One streamed delta.tool_calls[] element.  A new call starts when a
 * higher index appears or a different id arrives (some upstreams reuse
 * index 0); fragments of an already closed call are dropped (events never
 * interleave calls). */
static void openai_dec_tool_delta(struct hub_sink *x, int el)
{
	const struct json *j = x->j;
	long idx = hub_tok_long_at(j, el, "index", -1);
	long last = st(x)->open_tool - 1;
	struct hub_span id = hub_tok_text(j, el, "id");
	int f = json_get(j, el, "function"), fresh;

	if (idx < 0)
		idx = last < 0 ? 0 : last;
	if (last < 0 || idx > last)
		fresh = 1;
	else
		fresh = id.p && !openai_dec_same_id(st(x), id);
	if (!fresh && (idx != last || !st(x)->tool_open))
		return;
	if (fresh)
		openai_dec_tool_start(x, idx, id, hub_tok_text(j, f, "name"));
	openai_dec_args(x, json_get(j, f, "arguments"));
}

/* reasoning_content / reasoning (+ OpenRouter reasoning_details
 * signatures), content, refusal of a delta or message object. */
static void openai_dec_content(struct hub_sink *x, int obj)
{
	const struct json *j = x->j;
	struct hub_span r = hub_tok_text(j, obj, "reasoning_content");
	struct hub_span s;
	int rd = json_get(j, obj, "reasoning_details"), c, k, e;

	if (!r.p)
		r = hub_tok_text(j, obj, "reasoning");
	if (r.p) {
		openai_dec_tool_end(x);
		hub_sink_text(x, HUB_EV_THINKING, 0, r);
	}
	for (k = 0, e = rd + 1;
	     hub_tok_is(j, rd, JSMN_ARRAY) && k < j->tok[rd].size;
	     k++, e = json_skip(j, e)) {
		if (!r.p && (s = hub_tok_text(j, e, "text")).p)
			hub_sink_text(x, HUB_EV_THINKING, 0, s);
		if ((s = hub_tok_text(j, e, "signature")).p)
			hub_sink_text(x, HUB_EV_THINKING_SIG, 0, s);
	}
	c = json_get(j, obj, "content");
	if (hub_tok_is(j, c, JSMN_STRING) && json_len(j, c)) {
		openai_dec_tool_end(x);
		hub_sink_text(x, HUB_EV_TEXT, 0, hub_tok_span(j, c));
	}
	for (k = 0, e = c + 1;
	     hub_tok_is(j, c, JSMN_ARRAY) && k < j->tok[c].size;
	     k++, e = json_skip(j, e))
		if ((s = hub_tok_text(j, e, "text")).p)
			hub_sink_text(x, HUB_EV_TEXT, 0, s);
	if ((s = hub_tok_text(j, obj, "refusal")).p)
		hub_sink_text(x, HUB_EV_TEXT, 0, s);
}

static void openai_dec_usage(struct hub_sink *x, int u)
{
	static const char *const names[4] = {
		"prompt_tokens", "completion_tokens",
		"prompt_tokens_details.cached_tokens",
		"completion_tokens_details.reasoning_tokens",
	};
	struct hub_usage *us = &x->d->usage;

	hub_tok_usage(x->j, u, names, us);
	if (us->cached < 0) /* DeepSeek */
		us->cached = hub_tok_long_at(x->j, u, "prompt_cache_hit_tokens",
					     -1);
	hub_sink_usage(x);
}

static enum hub_finish openai_finish_of(const struct json *j, int t,
					int ntools)
{
	if (json_str_eq(j, t, "length"))
		return HUB_FIN_LENGTH;
	if (json_str_eq(j, t, "content_filter"))
		return HUB_FIN_FILTER;
	if (json_str_eq(j, t, "error"))
		return HUB_FIN_ERROR;
	if (ntools || json_str_eq(j, t, "tool_calls") ||
	    json_str_eq(j, t, "function_call"))
		return ntools ? HUB_FIN_TOOL : HUB_FIN_STOP;
	return HUB_FIN_STOP;
}

/* Emit the held FINISH (finished 1 -> 2). */
static void openai_dec_flush_finish(struct hub_sink *x)
{
	if (st(x)->finished != 1)
		return;
	st(x)->finished = 2;
	hub_sink_finish(x, st(x)->finish, hub_span_of(NULL, 0));
}

/* HTTP-like status of an upstream error object. */
static int openai_error_status(const struct json *j, int e)
{
	static const struct hub_word tab[] = {
		{"rate_limit", 429},     {"insufficient_quota", 429},
		{"authentication", 401}, {"invalid_api_key", 401},
		{"permission", 403},     {"not_found", 404},
		{"invalid_request", 400}, {"context_length", 400},
		{"overloaded", 503},     {"server_error", 500},
	};
	long code = hub_tok_long_at(j, e, "code", -1);
	struct hub_span type = hub_tok_text(j, e, "type");
	struct hub_span scode = hub_tok_text(j, e, "code");
	size_t i;

	if (code < 400 || code > 599)
		code = hub_tok_long_at(j, e, "status", -1);
	if (code >= 400 && code <= 599)
		return (int)code;
	for (i = 0; i < HUB_NELEM(tab); i++)
		if (hub_span_has(type, tab[i].word) ||
		    hub_span_has(scode, tab[i].word))
			return tab[i].val;
	return 502;
}

/* An error object (or string): ERROR, then the rest is ignored. */
static void openai_dec_error(struct hub_sink *x, int e)
{
	const struct json *j = x->j;
	struct hub_span msg = hub_tok_text(j, e, "message");
	int status = openai_error_status(j, e);

	if (hub_tok_is(j, e, JSMN_STRING)) {
		status = 502;
		msg = hub_tok_span(j, e);
	}
	hub_sink_error(x, status, msg.p ? msg : HUB_LIT("upstream error"));
}

/* choices[] element with index 0 (else the first), or -1. */
static int openai_choice0(const struct json *j, int obj)
{
	int cs = json_get(j, obj, "choices"), k, e;

	if (!hub_tok_is(j, cs, JSMN_ARRAY) || j->tok[cs].size == 0)
		return -1;
	for (k = 0, e = cs + 1; k < j->tok[cs].size; k++, e = json_skip(j, e))
		if (hub_tok_long_at(j, e, "index", -1) == 0)
			return e;
	return cs + 1;
}

/* One parsed chat.completion.chunk. */
static void openai_dec_chunk(struct hub_sink *x)
{
	const struct json *j = x->j;
	struct hub_sdec *d = x->d;
	int ch = openai_choice0(j, 0), delta, tcs, fr, u, k, e;

	openai_dec_start(x, 0);
	delta = json_get(j, ch, "delta");
	if (hub_tok_is(j, delta, JSMN_OBJECT)) {
		openai_dec_content(x, delta);
		tcs = json_get(j, delta, "tool_calls");
		for (k = 0, e = tcs + 1;
		     hub_tok_is(j, tcs, JSMN_ARRAY) && k < j->tok[tcs].size;
		     k++, e = json_skip(j, e))
			openai_dec_tool_delta(x, e);
	}
	fr = json_get(j, ch, "finish_reason");
	if (hub_tok_is(j, fr, JSMN_STRING) && !st(x)->finished) {
		openai_dec_tool_end(x);
		st(x)->finish = openai_finish_of(j, fr, d->ntools);
		st(x)->finished = 1;
	}
	u = json_get(j, 0, "usage");
	if (hub_tok_is(j, u, JSMN_OBJECT))
		openai_dec_usage(x, u);
	/* FINISH waits for the usage chunk that follows it */
	if (d->usage.input >= 0 || d->usage.output >= 0)
		openai_dec_flush_finish(x);
}


void hub_openai_decode_event(struct hub_sdec *d, const struct hub_sse *sse,
			     hub_emit_fn emit, void *user)
{
	struct json j;
	struct hub_sink x = {d, &j, emit, user};
	struct hub_span data;
	int e;

	if (!sse) { /* end of the upstream stream without [DONE] */
		if (!d->done) {
			d->done = 1;
			openai_dec_tool_end(&x);
			openai_dec_flush_finish(&x);
		}
		return;
	}
	data = hub_span_trim(sse->data);
	if (d->done || !data.n)
		return;
	if (hub_span_eq(data, "[DONE]")) {
		d->done = 1;
		openai_dec_tool_end(&x);
		openai_dec_flush_finish(&x);
		return;
	}
	buf_reset(&d->scratch);
	if (hub_sdec_parse(d, data.p, data.n, &j) < 0 ||
	    j.tok[0].type != JSMN_OBJECT) {
		hub_sink_error(&x, 502, HUB_LIT("malformed upstream event"));
		return;
	}
	e = json_get(&j, 0, "error");
	if (e >= 0 && !hub_tok_null(&j, e))
		openai_dec_error(&x, e);
	else if (hub_span_eq(sse->event, "error"))
		openai_dec_error(&x, 0);
	else
		openai_dec_chunk(&x);
}

/* message.tool_calls[] of a whole answer: START, ARGS (whole), END. */
static void openai_dec_body_tools(struct hub_sink *x, int tcs)
{
	const struct json *j = x->j;
	int k, e, f;

	for (k = 0, e = tcs + 1;
	     hub_tok_is(j, tcs, JSMN_ARRAY) && k < j->tok[tcs].size;
	     k++, e = json_skip(j, e)) {
		f = json_get(j, e, "function");
		openai_dec_tool_start(x, k, hub_tok_text(j, e, "id"),
				      hub_tok_text(j, f, "name"));
		openai_dec_args(x, json_get(j, f, "arguments"));
		openai_dec_tool_end(x);
	}
}

int hub_openai_decode_body(struct hub_sdec *d, const char *body,
			   size_t len, hub_emit_fn emit, void *user)
{
	struct json j;
	struct hub_sink x = {d, &j, emit, user};
	int e, ch, msg, u;

	buf_reset(&d->scratch);
	if (hub_sdec_parse(d, body, len, &j) < 0 ||
	    j.tok[0].type != JSMN_OBJECT)
		return -1;
	e = json_get(&j, 0, "error");
	if (e >= 0 && !hub_tok_null(&j, e)) {
		openai_dec_error(&x, e);
		return 0;
	}
	ch = openai_choice0(&j, 0);
	msg = json_get(&j, ch, "message");
	if (!hub_tok_is(&j, msg, JSMN_OBJECT))
		return -1;
	openai_dec_start(&x, 0);
	openai_dec_content(&x, msg);
	openai_dec_body_tools(&x, json_get(&j, msg, "tool_calls"));
	st(&x)->finish = openai_finish_of(&j, json_get(&j, ch, "finish_reason"),
				       d->ntools);
	st(&x)->finished = 1;
	u = json_get(&j, 0, "usage");
	if (hub_tok_is(&j, u, JSMN_OBJECT))
		openai_dec_usage(&x, u);
	openai_dec_flush_finish(&x);
	return 0;
}
