/*
 * hub_claude_upstream.c - the upstream side of the Claude Messages codec
 * (api.anthropic.com): the request encoder (view -> Claude body) and the
 * event decoder (Claude SSE or a whole message -> events).  See hub.h for
 * the view, the events and the string convention; the client side is
 * hub_claude_client.c.
 *
 * REQUEST.  hub_claude_encode_request writes a Claude body from any view.
 * Claude wants strictly alternating roles, so the encoder works on *runs*:
 * a run is a maximal sequence of emitted parts with the same effective
 * role (a tool result is always "user", a tool call or thinking always
 * "assistant"), whatever message they came from.  Each run becomes one
 * message written in two passes: first the blocks Claude wants in front
 * (tool_result in a user turn, thinking in an assistant turn), then the
 * rest in order.  Parts that Claude would reject are not emitted at all
 * (empty text, thinking without a signature), so they can neither split
 * nor create a turn.
 *
 * EVENTS.  Claude's SSE is already block-structured and never interleaves
 * blocks, so events map almost one to one.  Per block index (mod
 * HUB_SLOTS, safe because blocks are sequential) the decoder remembers the
 * block type and, for tool_use blocks, the hub tool index (0, 1, ... in
 * order of appearance); the data's "type" field decides, the SSE event
 * name is only a fallback.  Claude's input_tokens excludes cache reads and
 * writes; the decoder adds them (hub usage.input counts every prompt
 * token).  State: struct hub_claude_sdec (hub.h).
 */
#include "hub_tok.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CL_DEFAULT_MAX_TOKENS 32000L
#define CL_MIN_BUDGET 1024L
#define CL_DYNAMIC_BUDGET 8192L
#define CL_BUDGET_HEADROOM 4096L

/* First non-blank byte of a span, or 0. */
static char span_lead(struct hub_span s)
{
	s = hub_span_trim(s);
	return s.n ? s.p[0] : 0;
}

/* ====================================================================
 * encode_request: view -> Claude upstream body
 * ==================================================================== */

/* Position among the message parts: message m, absolute part index k. */
struct cl_cur {
	size_t m, k;
};

static void cur_norm(const struct hub_view *v, struct cl_cur *c)
{
	while (c->m < v->nmsgs &&
	       c->k >= v->msgs[c->m].first + v->msgs[c->m].n) {
		c->m++;
		if (c->m < v->nmsgs)
			c->k = v->msgs[c->m].first;
	}
}

static void cur_start(const struct hub_view *v, struct cl_cur *c)
{
	c->m = 0;
	c->k = v->nmsgs ? v->msgs[0].first : 0;
	cur_norm(v, c);
}

static void cur_step(const struct hub_view *v, struct cl_cur *c)
{
	c->k++;
	cur_norm(v, c);
}

static int cur_end(const struct hub_view *v, const struct cl_cur *c)
{
	return c->m >= v->nmsgs;
}

static int cur_eq(const struct hub_view *v, struct cl_cur a, struct cl_cur b)
{
	return a.m == b.m && (a.m >= v->nmsgs || a.k == b.k);
}

/* Does Claude get a block for this part at all? */
static int part_emits(const struct hub_part *p)
{
	switch (p->type) {
	case HUB_P_TEXT: return p->text.p && p->text.n > 0;
	case HUB_P_IMAGE: return p->data.p || p->url.p;
	case HUB_P_THINKING: return p->signature.p && p->signature.n > 0;
	case HUB_P_TOOL_CALL: return p->name.p != NULL;
	case HUB_P_TOOL_RESULT: return 1;
	}
	return 0;
}

static enum hub_role part_role(const struct hub_view *v, struct cl_cur c)
{
	const struct hub_part *p = &v->parts[c.k];
	if (p->type == HUB_P_TOOL_RESULT)
		return HUB_USER;
	if (p->type == HUB_P_TOOL_CALL || p->type == HUB_P_THINKING)
		return HUB_ASSISTANT;
	return v->msgs[c.m].role;
}

/* Claude tool ids must match [A-Za-z0-9_-]+: anything else becomes '_'
 * (the same on both sides of a call/result pair, so pairs still match). */
static void put_tool_id_chars(struct buf *b, struct hub_span id)
{
	size_t i;
	for (i = 0; i < id.n; i++) {
		char c = id.p[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '_' || c == '-';
		buf_putc(b, ok ? c : '_');
	}
}

/* Id of the call a result without id answers: the n-th id-less result of a
 * name pairs with the n-th id-less call of that name (Gemini history). */
static size_t result_call(const struct hub_view *v, size_t res)
{
	const struct hub_part *r = &v->parts[res];
	size_t i, nth = 0, seen = 0, last = res;

	for (i = 0; i < res; i++)
		if (v->parts[i].type == HUB_P_TOOL_RESULT &&
		    !v->parts[i].id.p &&
		    hub_span_same(v->parts[i].name, r->name))
			nth++;
	for (i = 0; i < v->nparts; i++) {
		const struct hub_part *p = &v->parts[i];
		if (p->type != HUB_P_TOOL_CALL || p->id.p ||
		    !hub_span_same(p->name, r->name))
			continue;
		last = i;
		if (seen++ == nth)
			return i;
	}
	return last;
}

static void put_tool_id(struct buf *b, const struct hub_view *v, size_t k)
{
	const struct hub_part *p = &v->parts[k];
	buf_putc(b, '"');
	if (p->id.p && p->id.n > 0)
		put_tool_id_chars(b, p->id);
	else
		buf_printf(b, "toolu_hub%zu",
			   p->type == HUB_P_TOOL_RESULT ? result_call(v, k) : k);
	buf_putc(b, '"');
}

static void put_cache(struct buf *b, const struct hub_part *p)
{
	if (p->cache)
		buf_puts(b, ",\"cache_control\":{\"type\":\"ephemeral\"}");
}

static void put_image(struct buf *b, const struct hub_part *p)
{
	static const char pdf[] = "application/pdf";
	struct hub_span mime, data;
	int is_pdf = hub_span_eq(p->mime, pdf) ||
		     (hub_data_url(p->url, &mime, &data) > 0 &&
		      hub_span_eq(mime, pdf));

	buf_puts(b, is_pdf ? "{\"type\":\"document\"" : "{\"type\":\"image\"");
	if (p->data.p) {
		buf_puts(b, ",\"source\":{\"type\":\"base64\",\"media_type\":");
		if (p->mime.p)
			hub_put_str(b, p->mime);
		else
			buf_puts(b, "\"image/png\"");
		buf_puts(b, ",\"data\":");
		hub_put_str(b, p->data);
	} else if (hub_data_url(p->url, &mime, &data) > 0) {
		buf_puts(b, ",\"source\":{\"type\":\"base64\",\"media_type\":");
		hub_put_str(b, mime);
		buf_puts(b, ",\"data\":");
		hub_put_str(b, data);
	} else {
		buf_puts(b, ",\"source\":{\"type\":\"url\",\"url\":");
		hub_put_str(b, p->url);
	}
	buf_putc(b, '}');
	put_cache(b, p);
	buf_putc(b, '}');
}

static void put_tool_result(struct buf *b, const struct hub_view *v, size_t k)
{
	const struct hub_part *p = &v->parts[k];

	buf_puts(b, "{\"type\":\"tool_result\",\"tool_use_id\":");
	put_tool_id(b, v, k);
	if (p->result.p) {
		buf_puts(b, ",\"content\":");
		if (p->result_is_str)
			hub_put_str(b, p->result);
		else if (span_lead(p->result) == '[')
			buf_put(b, p->result.p, p->result.n);
		else /* an object (Gemini response): Claude wants text */
			hub_put_json_as_str(b, p->result);
	}
	if (p->result_error)
		buf_puts(b, ",\"is_error\":true");
	put_cache(b, p);
	buf_putc(b, '}');
}

static void put_block(struct buf *b, const struct hub_view *v, size_t k)
{
	const struct hub_part *p = &v->parts[k];

	switch (p->type) {
	case HUB_P_TEXT:
		buf_puts(b, "{\"type\":\"text\",\"text\":");
		hub_put_str(b, p->text);
		put_cache(b, p);
		buf_putc(b, '}');
		break;
	case HUB_P_IMAGE:
		put_image(b, p);
		break;
	case HUB_P_THINKING:
		if (p->redacted) {
			buf_puts(b, "{\"type\":\"redacted_thinking\",\"data\":");
			hub_put_str(b, p->signature);
		} else {
			buf_puts(b, "{\"type\":\"thinking\",\"thinking\":");
			hub_put_str(b, p->text);
			buf_puts(b, ",\"signature\":");
			hub_put_str(b, p->signature);
		}
		buf_putc(b, '}');
		break;
	case HUB_P_TOOL_CALL:
		buf_puts(b, "{\"type\":\"tool_use\",\"id\":");
		put_tool_id(b, v, k);
		buf_puts(b, ",\"name\":");
		hub_put_str(b, p->name);
		buf_puts(b, ",\"input\":");
		hub_put_args_object(b, p->args, p->args_is_str);
		put_cache(b, p);
		buf_putc(b, '}');
		break;
	case HUB_P_TOOL_RESULT:
		put_tool_result(b, v, k);
		break;
	}
}

/* Blocks Claude wants first in a turn of this role. */
static int part_leads(const struct hub_part *p, enum hub_role role)
{
	return role == HUB_USER ? p->type == HUB_P_TOOL_RESULT
				: p->type == HUB_P_THINKING;
}

static const char *turn_head(enum hub_role role)
{
	switch (role) {
	case HUB_USER: return "{\"role\":\"user\",\"content\":[";
	case HUB_SYSTEM: return "{\"role\":\"system\",\"content\":[";
	default: return "{\"role\":\"assistant\",\"content\":[";
	}
}

/* One merged turn: parts [from, to) of this role, in two passes. */
static void put_turn(struct buf *b, const struct hub_view *v,
		     struct cl_cur from, struct cl_cur to, enum hub_role role)
{
	struct cl_cur c;
	int pass, n = 0;

	buf_puts(b, turn_head(role));
	for (pass = 0; pass < 2; pass++)
		for (c = from; !cur_eq(v, c, to); cur_step(v, &c)) {
			const struct hub_part *p = &v->parts[c.k];
			if (!part_emits(p) || part_leads(p, role) != !pass)
				continue;
			if (n++)
				buf_putc(b, ',');
			put_block(b, v, c.k);
		}
	buf_puts(b, "]}");
}

static void put_messages(struct buf *b, const struct hub_view *v)
{
	struct cl_cur c, end;
	int n = 0;

	buf_puts(b, ",\"messages\":[");
	cur_start(v, &c);
	while (!cur_end(v, &c)) {
		enum hub_role role;
		if (!part_emits(&v->parts[c.k])) {
			cur_step(v, &c);
			continue;
		}
		role = part_role(v, c);
		for (end = c; !cur_end(v, &end); cur_step(v, &end))
			if (part_emits(&v->parts[end.k]) &&
			    part_role(v, end) != role)
				break;
		if (n++)
			buf_putc(b, ',');
		put_turn(b, v, c, end, role);
		c = end;
	}
	buf_putc(b, ']');
}

/* Claude rejects thinking when the last assistant turn called a tool
 * without a signed thinking block in front (history from another format). */
static int last_turn_lacks_thinking(const struct hub_view *v)
{
	struct cl_cur c;
	int in_asst = 0, tool = 0, sig = 0;

	for (cur_start(v, &c); !cur_end(v, &c); cur_step(v, &c)) {
		const struct hub_part *p = &v->parts[c.k];
		if (!part_emits(p))
			continue;
		if (part_role(v, c) != HUB_ASSISTANT) {
			in_asst = 0;
			continue;
		}
		if (!in_asst)
			tool = sig = 0;
		in_asst = 1;
		if (p->type == HUB_P_TOOL_CALL)
			tool = 1;
		else if (p->type == HUB_P_THINKING)
			sig = 1;
	}
	return tool && !sig;
}

/* Thinking budget to send: 0 for none. */
static long thinking_budget(const struct hub_view *v)
{
	long b = v->thinking_budget;

	if (v->thinking == 0)
		return 0;
	if (b == HUB_BUDGET_UNSET)
		b = hub_budget_for_effort(v->effort);
	if (b == HUB_BUDGET_UNSET)
		b = v->thinking == 1 ? -1 : 0;
	if (b == 0)
		return 0;
	if (v->tool_choice == HUB_TC_ANY || v->tool_choice == HUB_TC_TOOL)
		return 0; /* Claude: forced tool use excludes thinking */
	if (last_turn_lacks_thinking(v))
		return 0;
	if (b < 0)
		return CL_DYNAMIC_BUDGET;
	return b < CL_MIN_BUDGET ? CL_MIN_BUDGET : b;
}

static void put_system(struct buf *b, const struct hub_view *v)
{
	size_t i;
	int n = 0;

	for (i = v->sys_first; i < v->sys_first + v->sys_n; i++) {
		const struct hub_part *p = &v->parts[i];
		if (p->type != HUB_P_TEXT || !p->text.p || p->text.n == 0)
			continue;
		buf_puts(b, n++ ? "," : ",\"system\":[");
		put_block(b, v, i);
	}
	if (n)
		buf_putc(b, ']');
}

static void put_tools(struct buf *b, const struct hub_view *v)
{
	size_t i;

	if (v->ntools == 0)
		return;
	buf_puts(b, ",\"tools\":[");
	for (i = 0; i < v->ntools; i++) {
		const struct hub_tool *t = &v->tools[i];
		if (i)
			buf_putc(b, ',');
		buf_puts(b, "{\"name\":");
		hub_put_str(b, t->name);
		if (t->description.p) {
			buf_puts(b, ",\"description\":");
			hub_put_str(b, t->description);
		}
		buf_puts(b, ",\"input_schema\":");
		if (span_lead(t->schema) == '{')
			buf_put(b, t->schema.p, t->schema.n);
		else
			buf_puts(b, "{\"type\":\"object\",\"properties\":{}}");
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
}

static void put_tool_choice(struct buf *b, const struct hub_view *v)
{
	int no_par = v->parallel_tool_calls == 0;

	if (v->ntools == 0)
		return;
	switch (v->tool_choice) {
	case HUB_TC_NONE:
		buf_puts(b, ",\"tool_choice\":{\"type\":\"none\"}");
		return;
	case HUB_TC_ANY:
		buf_puts(b, ",\"tool_choice\":{\"type\":\"any\"");
		break;
	case HUB_TC_TOOL:
		buf_puts(b, ",\"tool_choice\":{\"type\":\"tool\",\"name\":");
		hub_put_str(b, v->tool_choice_name);
		break;
	case HUB_TC_AUTO:
		buf_puts(b, ",\"tool_choice\":{\"type\":\"auto\"");
		break;
	default:
		if (!no_par)
			return;
		buf_puts(b, ",\"tool_choice\":{\"type\":\"auto\"");
		break;
	}
	if (no_par)
		buf_puts(b, ",\"disable_parallel_tool_use\":true");
	buf_putc(b, '}');
}

static void put_sampling(struct buf *b, const struct hub_view *v,
			 long budget)
{
	int i;

	if (v->nstop > 0) {
		buf_puts(b, ",\"stop_sequences\":[");
		for (i = 0; i < v->nstop; i++) {
			if (i)
				buf_putc(b, ',');
			hub_put_str(b, v->stop[i]);
		}
		buf_putc(b, ']');
	}
	/* Claude rejects temperature/top_k (and top_p below 0.95) with
	 * thinking, and newer models reject temperature with top_p. */
	if (budget > 0)
		return;
	if (v->temperature.p) {
		buf_puts(b, ",\"temperature\":");
		buf_put(b, v->temperature.p, v->temperature.n);
	} else if (v->top_p.p) {
		buf_puts(b, ",\"top_p\":");
		buf_put(b, v->top_p.p, v->top_p.n);
	}
	if (v->top_k.p) {
		buf_puts(b, ",\"top_k\":");
		buf_put(b, v->top_k.p, v->top_k.n);
	}
}

int hub_claude_encode_request(const struct hub_view *v,
			      const struct hub_req_opts *o, struct buf *out,
			      char *err, size_t errlen)
{
	long budget = thinking_budget(v);
	long max = v->max_tokens > 0 ? v->max_tokens : CL_DEFAULT_MAX_TOKENS;

	/* room for the answer after the thinking, without overflowing a
	 * 32-bit long (budgets reach HUB_TOKENS_MAX) */
	if (budget > HUB_TOKENS_MAX - CL_BUDGET_HEADROOM)
		budget = HUB_TOKENS_MAX - CL_BUDGET_HEADROOM;
	if (budget > 0 && budget >= max)
		max = budget + CL_BUDGET_HEADROOM;
	buf_puts(out, "{\"model\":");
	if (o->model)
		buf_json_cstr(out, o->model);
	else
		hub_put_str(out, v->model);
	buf_printf(out, ",\"max_tokens\":%ld", max);
	put_system(out, v);
	put_messages(out, v);
	put_tools(out, v);
	put_tool_choice(out, v);
	put_sampling(out, v, budget);
	if (budget > 0)
		buf_printf(out,
			   ",\"thinking\":{\"type\":\"enabled\","
			   "\"budget_tokens\":%ld}",
			   budget);
	if (v->user.p) {
		buf_puts(out, ",\"metadata\":{\"user_id\":");
		hub_put_str(out, v->user);
		buf_putc(out, '}');
	}
	buf_puts(out, o->stream ? ",\"stream\":true}" : ",\"stream\":false}");
	if (out->overflow)
		return hub_fail(err, errlen, "request too large");
	return 0;
}

/* ====================================================================
 * decode_event / decode_body: Claude upstream -> hub events
 * ==================================================================== */

struct cl_emit {
	struct hub_sdec *d;
	hub_emit_fn fn;
	void *user;
};

static void emit_simple(struct cl_emit *x, enum hub_ev_type t,
			struct hub_span text, int index)
{
	struct hub_event ev;
	hub_event_init(&ev, t);
	ev.text = text;
	ev.index = index;
	x->fn(x->user, &ev);
}

static void emit_start(struct cl_emit *x, struct hub_span id,
		       struct hub_span model)
{
	struct hub_event ev;
	if (x->d->started)
		return;
	x->d->started = 1;
	hub_event_init(&ev, HUB_EV_START);
	ev.id = id;
	ev.model = model;
	x->fn(x->user, &ev);
}

static void emit_error(struct cl_emit *x, int status, struct hub_span msg)
{
	struct hub_event ev;
	hub_event_init(&ev, HUB_EV_ERROR);
	ev.status = status;
	ev.text = msg;
	x->fn(x->user, &ev);
	x->d->done = 1;
}

/* Fold a Claude usage object into d->usage (hub convention: input counts
 * cached and cache-written tokens too) and emit it. */
static void emit_usage(struct cl_emit *x, const struct json *j, int u)
{
	struct hub_usage *us = &x->d->usage;
	long in = hub_tok_long(j, json_get(j, u, "input_tokens"), -1);
	long rd =
		hub_tok_long(j, json_get(j, u, "cache_read_input_tokens"), -1);
	long wr = hub_tok_long(j, json_get(j, u, "cache_creation_input_tokens"),
			       -1);
	long out = hub_tok_long(j, json_get(j, u, "output_tokens"), -1);
	struct hub_event ev;

	if (!hub_tok_is(j, u, JSMN_OBJECT))
		return;
	if (rd >= 0)
		us->cached = rd;
	if (wr >= 0)
		us->cache_write = wr;
	if (in >= 0)
		us->input = in + (us->cached > 0 ? us->cached : 0) +
			    (us->cache_write > 0 ? us->cache_write : 0);
	if (out >= 0)
		us->output = out;
	hub_event_init(&ev, HUB_EV_USAGE);
	ev.usage = *us;
	x->fn(x->user, &ev);
}

static enum hub_finish map_stop_reason(const struct json *j, int t)
{
	if (json_str_eq(j, t, "max_tokens") ||
	    json_str_eq(j, t, "model_context_window_exceeded"))
		return HUB_FIN_LENGTH;
	if (json_str_eq(j, t, "tool_use"))
		return HUB_FIN_TOOL;
	if (json_str_eq(j, t, "refusal"))
		return HUB_FIN_FILTER;
	return HUB_FIN_STOP; /* end_turn, stop_sequence, pause_turn */
}

static void emit_finish(struct cl_emit *x, const struct json *j, int obj)
{
	int sr = json_get(j, obj, "stop_reason");
	struct hub_event ev;

	if (!hub_tok_is(j, sr, JSMN_STRING))
		return;
	hub_event_init(&ev, HUB_EV_FINISH);
	ev.finish = map_stop_reason(j, sr);
	if (ev.finish == HUB_FIN_STOP && x->d->ntools > 0 &&
	    !json_str_eq(j, sr, "stop_sequence"))
		ev.finish = HUB_FIN_TOOL;
	ev.stop_sequence = hub_tok_str(j, obj, "stop_sequence");
	x->fn(x->user, &ev);
}

static int error_status(const struct json *j, int t)
{
	static const struct {
		const char *type;
		int status;
	} map[] = {
		{"invalid_request_error", 400}, {"authentication_error", 401},
		{"permission_error", 403},      {"not_found_error", 404},
		{"request_too_large", 413},     {"rate_limit_error", 429},
		{"api_error", 500},             {"overloaded_error", 503},
	};
	size_t i;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (json_str_eq(j, t, map[i].type))
			return map[i].status;
	return 500;
}

/* An error object {type, message}. */
static void emit_error_obj(struct cl_emit *x, const struct json *j, int e)
{
	struct hub_span msg = hub_tok_str(j, e, "message");
	if (!msg.p)
		msg = hub_span_of("upstream error", 14);
	emit_error(x, error_status(j, json_get(j, e, "type")), msg);
}

/* Raw JSON value -> str span in d->scratch. */
static struct hub_span scratch_str(struct hub_sdec *d, struct hub_span raw)
{
	buf_reset(&d->scratch);
	hub_escape(&d->scratch, raw.p, raw.n);
	if (d->scratch.overflow)
		return hub_span_of("{}", 2);
	return hub_span_of(d->scratch.p, d->scratch.len);
}

static void block_start(struct cl_emit *x, const struct json *j, int root)
{
	struct hub_sdec *d = x->d;
	int idx = (int)(hub_tok_long(j, json_get(j, root, "index"), 0) %
			HUB_SLOTS);
	int cb = json_get(j, root, "content_block");
	int ty = json_get(j, cb, "type");
	int in = json_get(j, cb, "input");
	struct hub_event ev;

	if (idx < 0)
		idx = 0;
	d->u.claude.block_type[idx] = HUB_CL_OTHER;
	if (json_str_eq(j, ty, "text")) {
		d->u.claude.block_type[idx] = HUB_CL_TEXT;
		if (hub_tok_str(j, cb, "text").n > 0)
			emit_simple(x, HUB_EV_TEXT, hub_tok_str(j, cb, "text"),
				    0);
	} else if (json_str_eq(j, ty, "thinking")) {
		d->u.claude.block_type[idx] = HUB_CL_THINKING;
		if (hub_tok_str(j, cb, "thinking").n > 0)
			emit_simple(x, HUB_EV_THINKING,
				    hub_tok_str(j, cb, "thinking"), 0);
	} else if (json_str_eq(j, ty, "redacted_thinking")) {
		emit_simple(x, HUB_EV_THINKING_SIG, hub_tok_str(j, cb, "data"),
			    0);
	} else if (json_str_eq(j, ty, "tool_use")) {
		d->u.claude.block_type[idx] = HUB_CL_TOOL;
		d->u.claude.tool_index[idx] = d->ntools++;
		hub_event_init(&ev, HUB_EV_TOOL_START);
		ev.index = d->u.claude.tool_index[idx];
		ev.id = hub_tok_str(j, cb, "id");
		ev.name = hub_tok_str(j, cb, "name");
		x->fn(x->user, &ev);
		/* Input normally streams as deltas; {} here says nothing. */
		if (hub_tok_is(j, in, JSMN_OBJECT) && j->tok[in].size > 0)
			emit_simple(x, HUB_EV_TOOL_ARGS,
				    scratch_str(d, hub_tok_raw(j, in)),
				    ev.index);
	}
}

static void block_delta(struct cl_emit *x, const struct json *j, int root)
{
	struct hub_sdec *d = x->d;
	int idx = (int)(hub_tok_long(j, json_get(j, root, "index"), 0) %
			HUB_SLOTS);
	int dl = json_get(j, root, "delta");
	int ty = json_get(j, dl, "type");
	struct hub_span s;

	if (idx < 0)
		idx = 0;
	if (json_str_eq(j, ty, "text_delta")) {
		s = hub_tok_str(j, dl, "text");
		if (s.n)
			emit_simple(x, HUB_EV_TEXT, s, 0);
	} else if (json_str_eq(j, ty, "thinking_delta")) {
		s = hub_tok_str(j, dl, "thinking");
		if (s.n)
			emit_simple(x, HUB_EV_THINKING, s, 0);
	} else if (json_str_eq(j, ty, "signature_delta")) {
		s = hub_tok_str(j, dl, "signature");
		if (s.n)
			emit_simple(x, HUB_EV_THINKING_SIG, s, 0);
	} else if (json_str_eq(j, ty, "input_json_delta") &&
		   d->u.claude.block_type[idx] == HUB_CL_TOOL) {
		s = hub_tok_str(j, dl, "partial_json");
		if (s.n)
			emit_simple(x, HUB_EV_TOOL_ARGS, s,
				    d->u.claude.tool_index[idx]);
	}
}

static void block_stop(struct cl_emit *x, const struct json *j, int root)
{
	struct hub_sdec *d = x->d;
	int idx = (int)(hub_tok_long(j, json_get(j, root, "index"), 0) %
			HUB_SLOTS);

	if (idx < 0)
		idx = 0;
	if (d->u.claude.block_type[idx] == HUB_CL_TOOL)
		emit_simple(x, HUB_EV_TOOL_END, hub_span_of(NULL, 0),
			    d->u.claude.tool_index[idx]);
	d->u.claude.block_type[idx] = HUB_CL_NONE;
}

/* Event type: the data's "type", else the SSE event name. */
static int event_is(const struct json *j, int ty, const struct hub_sse *ev,
		    const char *name)
{
	if (ty >= 0)
		return json_str_eq(j, ty, name);
	return hub_span_eq(ev->event, name);
}

static void dispatch_event(struct cl_emit *x, const struct json *j,
			   const struct hub_sse *sse)
{
	int ty = json_get(j, 0, "type");
	int msg = json_get(j, 0, "message");

	if (event_is(j, ty, sse, "error")) {
		emit_error_obj(x, j, json_get(j, 0, "error"));
	} else if (event_is(j, ty, sse, "message_start")) {
		emit_start(x, hub_tok_str(j, msg, "id"),
			   hub_tok_str(j, msg, "model"));
		emit_usage(x, j, json_get(j, msg, "usage"));
	} else if (event_is(j, ty, sse, "message_stop")) {
		x->d->done = 1;
	} else if (event_is(j, ty, sse, "content_block_start")) {
		emit_start(x, hub_span_of(NULL, 0), hub_span_of(NULL, 0));
		block_start(x, j, 0);
	} else if (event_is(j, ty, sse, "content_block_delta")) {
		emit_start(x, hub_span_of(NULL, 0), hub_span_of(NULL, 0));
		block_delta(x, j, 0);
	} else if (event_is(j, ty, sse, "content_block_stop")) {
		block_stop(x, j, 0);
	} else if (event_is(j, ty, sse, "message_delta")) {
		emit_start(x, hub_span_of(NULL, 0), hub_span_of(NULL, 0));
		emit_usage(x, j, json_get(j, 0, "usage"));
		emit_finish(x, j, json_get(j, 0, "delta"));
	}
	/* ping and unknown events: nothing */
}

void hub_claude_decode_event(struct hub_sdec *d, const struct hub_sse *ev,
			     hub_emit_fn emit, void *user)
{
	struct cl_emit x;
	struct json j;

	if (!ev)
		return; /* end of stream: nothing is held back */

	x.d = d;
	x.fn = emit;
	x.user = user;
	if (d->done || !ev->data.p || span_lead(ev->data) == 0 ||
	    hub_span_eq(ev->event, "ping"))
		return;
	if (hub_sdec_parse(d, ev->data.p, ev->data.n, &j) < 0 ||
	    !hub_tok_is(&j, 0, JSMN_OBJECT)) {
		emit_error(&x, 502,
			   hub_span_of("malformed upstream event", 24));
		return;
	}
	dispatch_event(&x, &j, ev);
}

static void body_block(struct cl_emit *x, const struct json *j, int b)
{
	struct hub_sdec *d = x->d;
	int ty = json_get(j, b, "type");
	int in = json_get(j, b, "input");
	struct hub_event ev;
	struct hub_span s;

	if (json_str_eq(j, ty, "text")) {
		s = hub_tok_str(j, b, "text");
		if (s.n)
			emit_simple(x, HUB_EV_TEXT, s, 0);
	} else if (json_str_eq(j, ty, "thinking")) {
		s = hub_tok_str(j, b, "thinking");
		if (s.n)
			emit_simple(x, HUB_EV_THINKING, s, 0);
		s = hub_tok_str(j, b, "signature");
		if (s.n)
			emit_simple(x, HUB_EV_THINKING_SIG, s, 0);
	} else if (json_str_eq(j, ty, "redacted_thinking")) {
		emit_simple(x, HUB_EV_THINKING_SIG, hub_tok_str(j, b, "data"),
			    0);
	} else if (json_str_eq(j, ty, "tool_use")) {
		hub_event_init(&ev, HUB_EV_TOOL_START);
		ev.index = d->ntools++;
		ev.id = hub_tok_str(j, b, "id");
		ev.name = hub_tok_str(j, b, "name");
		x->fn(x->user, &ev);
		s = hub_tok_is(j, in, JSMN_OBJECT) ? hub_tok_raw(j, in)
						   : hub_span_of("{}", 2);
		emit_simple(x, HUB_EV_TOOL_ARGS, scratch_str(d, s), ev.index);
		emit_simple(x, HUB_EV_TOOL_END, hub_span_of(NULL, 0), ev.index);
	}
}

int hub_claude_decode_body(struct hub_sdec *d, const char *body,
			   size_t len, hub_emit_fn emit, void *user)
{
	struct cl_emit x;
	struct json j;
	int c, k, i;

	x.d = d;
	x.fn = emit;
	x.user = user;
	if (hub_sdec_parse(d, body, len, &j) < 0 ||
	    !hub_tok_is(&j, 0, JSMN_OBJECT))
		return -1;
	if (json_str_eq(&j, json_get(&j, 0, "type"), "error")) {
		emit_error_obj(&x, &j, json_get(&j, 0, "error"));
		return 0;
	}
	c = json_get(&j, 0, "content");
	if (!json_str_eq(&j, json_get(&j, 0, "type"), "message") ||
	    !hub_tok_is(&j, c, JSMN_ARRAY))
		return -1;
	emit_start(&x, hub_tok_str(&j, 0, "id"), hub_tok_str(&j, 0, "model"));
	for (k = 0, i = c + 1; k < j.tok[c].size; k++, i = json_skip(&j, i))
		body_block(&x, &j, i);
	emit_usage(&x, &j, json_get(&j, 0, "usage"));
	emit_finish(&x, &j, 0);
	d->done = 1;
	return 0;
}
