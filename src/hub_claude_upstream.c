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
 * nor create a turn.  For a Claude Code OAuth account (o->claude_code)
 * the system prompt begins with the Claude Code line, the caller's text
 * blocks after it.
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

#include <stdlib.h>
#include <string.h>

#define CL_DEFAULT_MAX_TOKENS 32000L
#define CL_MIN_BUDGET 1024L
#define CL_DYNAMIC_BUDGET 8192L
#define CL_BUDGET_HEADROOM 4096L
#define CL_MAX_CACHE 4
/* Claude Code OAuth (hub_req_opts.claude_code) */
#define CL_CODE_LINE "You are Claude Code, Anthropic's official CLI for Claude."
#define CL_BILLING "x-anthropic-billing-header:"
#define CL_NO_CODE_LINE "claude-3-5-haiku"

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

/* Does the caller's system prompt begin with the Claude Code line (after
 * the billing header block Claude Code itself may send first)? */
static int system_has_code_line(const struct hub_view *v)
{
	size_t i;

	for (i = v->sys_first; i < v->sys_first + v->sys_n; i++) {
		const struct hub_part *p = &v->parts[i];
		if (p->type != HUB_P_TEXT || !p->text.n ||
		    hub_span_prefix(p->text, CL_BILLING))
			continue;
		return hub_span_prefix(p->text, CL_CODE_LINE);
	}
	return 0;
}

/* A Claude Code OAuth body starts its system prompt with the Claude Code
 * line, once, except for the models that go without (v6
 * checkSystemInstructions). */
static int wants_code_line(const struct hub_view *v,
			   const struct hub_req_opts *o)
{
	int haiku = o->model ? strncmp(o->model, CL_NO_CODE_LINE,
				       strlen(CL_NO_CODE_LINE)) == 0
			     : hub_span_prefix(v->model, CL_NO_CODE_LINE);

	return o->claude_code && !haiku && !system_has_code_line(v);
}

/* Parts that carry cache_control (Claude takes CL_MAX_CACHE at most). */
static size_t cache_marks(const struct hub_view *v)
{
	size_t i, n = 0;

	for (i = 0; i < v->nparts; i++)
		n += v->parts[i].cache != 0;
	return n;
}

/* The system prompt's text blocks, after the Claude Code line when
 * code_line (cached, while the request has room for one more mark). */
static void put_system(struct buf *b, const struct hub_view *v, int code_line)
{
	size_t i;
	int n = 0;

	if (code_line) {
		buf_puts(b, ",\"system\":[{\"type\":\"text\",\"text\":\""
			    CL_CODE_LINE "\"");
		if (cache_marks(v) < CL_MAX_CACHE)
			buf_puts(b, ",\"cache_control\":{\"type\":"
				    "\"ephemeral\"}");
		buf_putc(b, '}');
		n = 1;
	}
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
	hub_put_tools(b, v, "{", "input_schema", "}");
}

static void put_tool_choice(struct buf *b, const struct hub_view *v)
{
	static const char *const type[] = {
		[HUB_TC_UNSET] = "auto", [HUB_TC_AUTO] = "auto",
		[HUB_TC_NONE] = "none",  [HUB_TC_ANY] = "any",
		[HUB_TC_TOOL] = "tool",
	};
	int no_par = v->parallel_tool_calls == 0;

	/* unset says nothing unless parallel calls are to be turned off */
	if (v->ntools == 0 || (v->tool_choice == HUB_TC_UNSET && !no_par))
		return;
	buf_printf(b, ",\"tool_choice\":{\"type\":\"%s\"",
		   type[v->tool_choice]);
	if (v->tool_choice == HUB_TC_TOOL) {
		buf_puts(b, ",\"name\":");
		hub_put_str(b, v->tool_choice_name);
	}
	if (no_par && v->tool_choice != HUB_TC_NONE)
		buf_puts(b, ",\"disable_parallel_tool_use\":true");
	buf_putc(b, '}');
}

static void put_sampling(struct buf *b, const struct hub_view *v,
			 long budget)
{
	if (v->nstop > 0) {
		buf_puts(b, ",\"stop_sequences\":");
		hub_put_str_list(b, v->stop, v->nstop);
	}
	/* Claude rejects temperature/top_k (and top_p below 0.95) with
	 * thinking, and newer models reject temperature with top_p. */
	if (budget > 0)
		return;
	hub_put_raw_member(b, "temperature", v->temperature);
	if (!v->temperature.p)
		hub_put_raw_member(b, "top_p", v->top_p);
	hub_put_raw_member(b, "top_k", v->top_k);
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
	put_system(out, v, wants_code_line(v, o));
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


/* The string member key of obj as a text-like event, when it is not
 * empty. */
static void emit_member(struct hub_sink *x, const struct json *j, int obj,
			const char *key, enum hub_ev_type t)
{
	struct hub_span s = hub_tok_str(j, obj, key);
	if (s.n)
		hub_sink_text(x, t, 0, s);
}

/* TOOL_START for a tool_use block (stream or body). */
static int emit_tool_start(struct hub_sink *x, const struct json *j, int blk)
{
	struct hub_event ev;

	hub_event_init(&ev, HUB_EV_TOOL_START);
	ev.index = x->d->ntools++;
	ev.id = hub_tok_str(j, blk, "id");
	ev.name = hub_tok_str(j, blk, "name");
	hub_sink_emit(x, &ev);
	return ev.index;
}

/* The decoder's slot of the block an event is about (index mod
 * HUB_SLOTS). */
static int block_slot(const struct json *j, int root)
{
	long i = hub_tok_long_at(j, root, "index", 0) % HUB_SLOTS;
	return i < 0 ? 0 : (int)i;
}



/* Fold a Claude usage object into d->usage (hub convention: input counts
 * cached and cache-written tokens too) and emit it. */
static void emit_usage(struct hub_sink *x, const struct json *j, int u)
{
	struct hub_usage *us = &x->d->usage;
	long in = hub_tok_long_at(j, u, "input_tokens", -1);
	long rd = hub_tok_long_at(j, u, "cache_read_input_tokens", -1);
	long wr = hub_tok_long_at(j, u, "cache_creation_input_tokens", -1);
	long out = hub_tok_long_at(j, u, "output_tokens", -1);

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
	hub_sink_usage(x);
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

static void emit_finish(struct hub_sink *x, const struct json *j, int obj)
{
	int sr = json_get(j, obj, "stop_reason");
	enum hub_finish f = map_stop_reason(j, sr);

	if (!hub_tok_is(j, sr, JSMN_STRING))
		return;
	if (f == HUB_FIN_STOP && x->d->ntools > 0 &&
	    !json_str_eq(j, sr, "stop_sequence"))
		f = HUB_FIN_TOOL;
	hub_sink_finish(x, f, hub_tok_str(j, obj, "stop_sequence"));
}

/* An error object {type, message}. */
static void emit_error_obj(struct hub_sink *x, const struct json *j, int e)
{
	struct hub_span msg = hub_tok_str(j, e, "message");
	int status = hub_word_val(hub_claude_errors, hub_claude_nerrors, j,
				  json_get(j, e, "type"), 500);

	hub_sink_error(x, status, msg.p ? msg : HUB_LIT("upstream error"));
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

static void block_start(struct hub_sink *x, const struct json *j, int root)
{
	struct hub_claude_sdec *c = &x->d->u.claude;
	int idx = block_slot(j, root);
	int cb = json_get(j, root, "content_block");
	int ty = json_get(j, cb, "type");
	int in = json_get(j, cb, "input");

	c->block_type[idx] = HUB_CL_OTHER;
	if (json_str_eq(j, ty, "text")) {
		c->block_type[idx] = HUB_CL_TEXT;
		emit_member(x, j, cb, "text", HUB_EV_TEXT);
	} else if (json_str_eq(j, ty, "thinking")) {
		c->block_type[idx] = HUB_CL_THINKING;
		emit_member(x, j, cb, "thinking", HUB_EV_THINKING);
	} else if (json_str_eq(j, ty, "redacted_thinking")) {
		hub_sink_text(x, HUB_EV_THINKING_SIG, 0,
			      hub_tok_str(j, cb, "data"));
	} else if (json_str_eq(j, ty, "tool_use")) {
		c->block_type[idx] = HUB_CL_TOOL;
		c->tool_index[idx] = emit_tool_start(x, j, cb);
		/* Input normally streams as deltas; {} here says nothing. */
		if (hub_tok_is(j, in, JSMN_OBJECT) && j->tok[in].size > 0)
			hub_sink_text(x, HUB_EV_TOOL_ARGS, c->tool_index[idx],
				      scratch_str(x->d, hub_tok_raw(j, in)));
	}
}

static void block_delta(struct hub_sink *x, const struct json *j, int root)
{
	static const struct {
		const char *type, *key;
		enum hub_ev_type ev;
	} kinds[] = {
		{"text_delta", "text", HUB_EV_TEXT},
		{"thinking_delta", "thinking", HUB_EV_THINKING},
		{"signature_delta", "signature", HUB_EV_THINKING_SIG},
	};
	struct hub_claude_sdec *c = &x->d->u.claude;
	int idx = block_slot(j, root);
	int dl = json_get(j, root, "delta");
	int ty = json_get(j, dl, "type");
	struct hub_span s;
	size_t k;

	for (k = 0; k < HUB_NELEM(kinds); k++)
		if (json_str_eq(j, ty, kinds[k].type)) {
			emit_member(x, j, dl, kinds[k].key, kinds[k].ev);
			return;
		}
	s = hub_tok_str(j, dl, "partial_json");
	if (json_str_eq(j, ty, "input_json_delta") && s.n &&
	    c->block_type[idx] == HUB_CL_TOOL)
		hub_sink_text(x, HUB_EV_TOOL_ARGS, c->tool_index[idx], s);
}

static void block_stop(struct hub_sink *x, const struct json *j, int root)
{
	struct hub_claude_sdec *c = &x->d->u.claude;
	int idx = block_slot(j, root);

	if (c->block_type[idx] == HUB_CL_TOOL)
		hub_sink_text(x, HUB_EV_TOOL_END, c->tool_index[idx],
			      hub_span_of(NULL, 0));
	c->block_type[idx] = HUB_CL_NONE;
}

/* Event type: the data's "type", else the SSE event name. */
static int event_is(const struct json *j, int ty, const struct hub_sse *ev,
		    const char *name)
{
	if (ty >= 0)
		return json_str_eq(j, ty, name);
	return hub_span_eq(ev->event, name);
}

static void dispatch_event(struct hub_sink *x, const struct json *j,
			   const struct hub_sse *sse)
{
	int ty = json_get(j, 0, "type");
	int msg = json_get(j, 0, "message");

	if (event_is(j, ty, sse, "error")) {
		emit_error_obj(x, j, json_get(j, 0, "error"));
	} else if (event_is(j, ty, sse, "message_start")) {
		hub_sink_start(x, hub_tok_str(j, msg, "id"),
			   hub_tok_str(j, msg, "model"));
		emit_usage(x, j, json_get(j, msg, "usage"));
	} else if (event_is(j, ty, sse, "message_stop")) {
		x->d->done = 1;
	} else if (event_is(j, ty, sse, "content_block_start")) {
		hub_sink_start(x, hub_span_of(NULL, 0), hub_span_of(NULL, 0));
		block_start(x, j, 0);
	} else if (event_is(j, ty, sse, "content_block_delta")) {
		hub_sink_start(x, hub_span_of(NULL, 0), hub_span_of(NULL, 0));
		block_delta(x, j, 0);
	} else if (event_is(j, ty, sse, "content_block_stop")) {
		block_stop(x, j, 0);
	} else if (event_is(j, ty, sse, "message_delta")) {
		hub_sink_start(x, hub_span_of(NULL, 0), hub_span_of(NULL, 0));
		emit_usage(x, j, json_get(j, 0, "usage"));
		emit_finish(x, j, json_get(j, 0, "delta"));
	}
	/* ping and unknown events: nothing */
}

void hub_claude_decode_event(struct hub_sdec *d, const struct hub_sse *ev,
			     hub_emit_fn emit, void *user)
{
	struct hub_sink x;
	struct json j;

	if (!ev)
		return; /* end of stream: nothing is held back */

	x.d = d;
	x.j = &j;
	x.emit = emit;
	x.user = user;
	if (d->done || !ev->data.p || span_lead(ev->data) == 0 ||
	    hub_span_eq(ev->event, "ping"))
		return;
	if (hub_sdec_parse(d, ev->data.p, ev->data.n, &j) < 0 ||
	    !hub_tok_is(&j, 0, JSMN_OBJECT)) {
		hub_sink_error(&x, 502,
			   hub_span_of("malformed upstream event", 24));
		return;
	}
	dispatch_event(&x, &j, ev);
}

static void body_block(struct hub_sink *x, const struct json *j, int b)
{
	int ty = json_get(j, b, "type");
	int in = json_get(j, b, "input"), k;
	struct hub_span s;

	if (json_str_eq(j, ty, "text")) {
		emit_member(x, j, b, "text", HUB_EV_TEXT);
	} else if (json_str_eq(j, ty, "thinking")) {
		emit_member(x, j, b, "thinking", HUB_EV_THINKING);
		emit_member(x, j, b, "signature", HUB_EV_THINKING_SIG);
	} else if (json_str_eq(j, ty, "redacted_thinking")) {
		hub_sink_text(x, HUB_EV_THINKING_SIG, 0,
			      hub_tok_str(j, b, "data"));
	} else if (json_str_eq(j, ty, "tool_use")) {
		k = emit_tool_start(x, j, b);
		s = hub_tok_is(j, in, JSMN_OBJECT) ? hub_tok_raw(j, in)
						   : HUB_LIT("{}");
		hub_sink_text(x, HUB_EV_TOOL_ARGS, k, scratch_str(x->d, s));
		hub_sink_text(x, HUB_EV_TOOL_END, k, hub_span_of(NULL, 0));
	}
}

int hub_claude_decode_body(struct hub_sdec *d, const char *body,
			   size_t len, hub_emit_fn emit, void *user)
{
	struct hub_sink x;
	struct json j;
	int c, k, i;

	x.d = d;
	x.j = &j;
	x.emit = emit;
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
	hub_sink_start(&x, hub_tok_str(&j, 0, "id"), hub_tok_str(&j, 0,
								 "model"));
	for (k = 0, i = c + 1; k < j.tok[c].size; k++, i = json_skip(&j, i))
		body_block(&x, &j, i);
	emit_usage(&x, &j, json_get(&j, 0, "usage"));
	emit_finish(&x, &j, 0);
	d->done = 1;
	return 0;
}
