/*
 * hub_claude_client.c - the client side of the Claude Messages codec
 * (POST /v1/messages): the request decoder (client body -> view) and the
 * event encoder (events -> Claude's SSE sequence or message body).  See
 * hub.h for the view, the events and the string convention; the upstream
 * side is hub_claude_upstream.c.
 *
 * REQUEST.  hub_claude_decode_request walks the client body's tokens once
 * and fills the view with spans into it (nothing is copied); a tool
 * result takes its name from the tool_use with its id.
 *
 * EVENTS.  Blocks are written sequentially: a text or thinking delta opens
 * a block of its type if the open one is different (closing that one
 * first); a non-stream answer is built the same way in u.claude.blocks.
 * Hub usage.input counts every prompt token, cached and cache-written ones
 * included; Claude's input_tokens excludes both, so the encoder subtracts
 * them.  State: struct hub_claude_enc (hub.h); after an ERROR only DONE is
 * still handled.
 */
#include "apierr.h"
#include "fmt.h"
#include "hub_tok.h"

#include <stdlib.h>
#include <string.h>

/* ====================================================================
 * decode_request: Claude client body -> view
 * ==================================================================== */

/* A token count of the request: 0 ok (*out set when present), -1 with
 * the message for a 400. */
static int req_tokens(struct hub_rq *r, int t, const char *what, long *out)
{
	if (hub_tok_int(r->j, t, 0, HUB_TOKENS_MAX, out) != HUB_INT_BAD)
		return 0;
	return hub_rq_fail(r, "%s must be a whole number from 0 to 2147483647",
			   what);
}

static int add_text(struct hub_rq *r, struct hub_span text, int cache)
{
	struct hub_part *p = hub_rq_part(r, HUB_P_TEXT);
	if (!p)
		return -1;
	p->text = text;
	p->cache = cache;
	return 0;
}

static int dec_system(struct hub_rq *r, int sys)
{
	const struct json *j = r->j;
	int i, k;

	r->v->sys_first = r->v->nparts;
	if (hub_tok_is(j, sys, JSMN_STRING)) {
		if (add_text(r, hub_tok_span(j, sys), 0) < 0)
			return -1;
	} else if (hub_tok_is(j, sys, JSMN_ARRAY)) {
		for (k = 0, i = sys + 1; k < j->tok[sys].size;
		     k++, i = json_skip(j, i)) {
			struct hub_span t = hub_tok_str(j, i, "text");
			if (!hub_tok_is(j, i, JSMN_OBJECT) || !t.p)
				return hub_rq_fail(r, "system[%d]: expected a "
						   "text block", k);
			if (add_text(r, t, json_get(j, i, "cache_control") >= 0) <
			    0)
				return -1;
		}
	} else if (!hub_tok_null(j, sys)) {
		return hub_rq_fail(r, "system: expected a string or an array");
	}
	r->v->sys_n = r->v->nparts - r->v->sys_first;
	return 0;
}

/* A new part for content block blk: its type, the block's cache_control
 * and, when id_key is given, the id the block has under it. */
static struct hub_part *block_part(struct hub_rq *r, int blk,
				   enum hub_part_type t, const char *id_key)
{
	struct hub_part *p = hub_rq_part(r, t);
	if (p) {
		p->cache = json_get(r->j, blk, "cache_control") >= 0;
		if (id_key)
			p->id = hub_tok_str(r->j, blk, id_key);
	}
	return p;
}

static int dec_image(struct hub_rq *r, int blk, const char *where)
{
	const struct json *j = r->j;
	int src = json_get(j, blk, "source");
	struct hub_part *p;

	if (!hub_tok_is(j, src, JSMN_OBJECT))
		return hub_rq_fail(r, "%s: image without source", where);
	if (!(p = block_part(r, blk, HUB_P_IMAGE, NULL)))
		return -1;
	if (json_str_eq(j, json_get(j, src, "type"), "url")) {
		p->url = hub_tok_str(j, src, "url");
		if (!p->url.p)
			return hub_rq_fail(r, "%s: image source without url",
					   where);
		return 0;
	}
	p->mime = hub_tok_str(j, src, "media_type");
	p->data = hub_tok_str(j, src, "data");
	if (!p->data.p || !p->mime.p)
		return hub_rq_fail(r, "%s: image source needs media_type and "
				   "data", where);
	return 0;
}

static int dec_tool_use(struct hub_rq *r, int blk, const char *where)
{
	const struct json *j = r->j;
	int in = json_get(j, blk, "input");
	struct hub_part *p = block_part(r, blk, HUB_P_TOOL_CALL, "id");

	if (!p)
		return -1;
	p->name = hub_tok_str(j, blk, "name");
	if (!p->id.p || !p->name.p || !hub_tok_is(j, in, JSMN_OBJECT))
		return hub_rq_fail(r, "%s: tool_use needs id, name and an "
				   "input object", where);
	p->args = hub_tok_raw(j, in);
	p->args_is_str = 0;
	return 0;
}

static int dec_tool_result(struct hub_rq *r, int blk, const char *where)
{
	const struct json *j = r->j;
	int c = json_get(j, blk, "content");
	struct hub_part *p = block_part(r, blk, HUB_P_TOOL_RESULT,
					"tool_use_id");

	if (!p)
		return -1;
	if (!p->id.p)
		return hub_rq_fail(r, "%s: tool_result needs tool_use_id",
				   where);
	p->name = hub_view_call_name(r->v, r->v->nparts, p->id);
	p->result_error = hub_tok_true(j, json_get(j, blk, "is_error"));
	if (hub_tok_is(j, c, JSMN_STRING)) {
		p->result = hub_tok_span(j, c);
		p->result_is_str = 1;
	} else if (hub_tok_is(j, c, JSMN_ARRAY) ||
		   hub_tok_is(j, c, JSMN_OBJECT)) {
		p->result = hub_tok_raw(j, c);
		p->result_is_str = 0;
	} else if (c >= 0 && !hub_tok_is(j, c, JSMN_PRIMITIVE)) {
		return hub_rq_fail(r, "%s: bad tool_result content", where);
	}
	return 0;
}

static int dec_thinking(struct hub_rq *r, int blk, int redacted,
			const char *where)
{
	const struct json *j = r->j;
	struct hub_part *p = hub_rq_part(r, HUB_P_THINKING);

	if (!p)
		return -1;
	p->redacted = redacted;
	if (redacted) {
		p->signature = hub_tok_str(j, blk, "data");
		if (!p->signature.p)
			return hub_rq_fail(r,
					   "%s: redacted_thinking needs data",
					   where);
		return 0;
	}
	p->text = hub_tok_str(j, blk, "thinking");
	p->signature = hub_tok_str(j, blk, "signature");
	if (!p->text.p)
		return hub_rq_fail(r, "%s: thinking needs thinking", where);
	return 0;
}

/* A PDF or plain-text document: carried as an image part (mime + data). */
static int dec_document(struct hub_rq *r, int blk, const char *where)
{
	const struct json *j = r->j;
	int src = json_get(j, blk, "source");

	if (json_str_eq(j, json_get(j, src, "type"), "text"))
		return add_text(r, hub_tok_str(j, src, "data"), 0);
	return dec_image(r, blk, where);
}

static int dec_block(struct hub_rq *r, int blk, const char *where)
{
	const struct json *j = r->j;
	int t = json_get(j, blk, "type");

	if (!hub_tok_is(j, blk, JSMN_OBJECT) || !hub_tok_is(j, t, JSMN_STRING))
		return hub_rq_fail(r, "%s: expected a content block", where);
	if (json_str_eq(j, t, "text")) {
		struct hub_span s = hub_tok_str(j, blk, "text");
		if (!s.p)
			return hub_rq_fail(r, "%s: text block needs text",
					   where);
		return add_text(r, s, json_get(j, blk, "cache_control") >= 0);
	}
	if (json_str_eq(j, t, "image"))
		return dec_image(r, blk, where);
	if (json_str_eq(j, t, "document"))
		return dec_document(r, blk, where);
	if (json_str_eq(j, t, "tool_use"))
		return dec_tool_use(r, blk, where);
	if (json_str_eq(j, t, "tool_result"))
		return dec_tool_result(r, blk, where);
	if (json_str_eq(j, t, "thinking"))
		return dec_thinking(r, blk, 0, where);
	if (json_str_eq(j, t, "redacted_thinking"))
		return dec_thinking(r, blk, 1, where);
	return 0; /* server tool blocks etc.: nothing other formats can use */
}

static int dec_message(struct hub_rq *r, int m, int idx)
{
	const struct json *j = r->j;
	int role = json_get(j, m, "role");
	int c = json_get(j, m, "content");
	size_t mi;
	char where[48];
	int k, i;

	if (!hub_tok_is(j, m, JSMN_OBJECT))
		return hub_rq_fail(r, "messages[%d]: expected an object", idx);
	if (!json_str_eq(j, role, "user") && !json_str_eq(j, role, "assistant") &&
	    !json_str_eq(j, role, "system"))
		return hub_rq_fail(r, "messages[%d]: role must be user, "
				   "assistant or system", idx);
	if (!hub_add_msg(r->v, json_str_eq(j, role, "user") ? HUB_USER
			 : json_str_eq(j, role, "system") ? HUB_SYSTEM
							  : HUB_ASSISTANT))
		return hub_rq_fail(r, "out of memory");
	mi = r->v->nmsgs - 1;
	if (hub_tok_is(j, c, JSMN_STRING)) {
		if (add_text(r, hub_tok_span(j, c), 0) < 0)
			return -1;
	} else if (hub_tok_is(j, c, JSMN_ARRAY)) {
		for (k = 0, i = c + 1; k < j->tok[c].size;
		     k++, i = json_skip(j, i)) {
			fmt_snprintf(where, sizeof(where), "messages[%d].content[%d]",
				     idx, k);
			if (dec_block(r, i, where) < 0)
				return -1;
		}
	} else {
		return hub_rq_fail(r, "messages[%d]: content must be a string "
				   "or an array", idx);
	}
	r->v->msgs[mi].n = r->v->nparts - r->v->msgs[mi].first;
	if (r->v->msgs[mi].role == HUB_SYSTEM) {
		size_t p;
		for (p = r->v->msgs[mi].first; p < r->v->nparts; p++)
			if (r->v->parts[p].type != HUB_P_TEXT)
				return hub_rq_fail(r, "messages[%d]: a system "
						   "message holds text only",
						   idx);
	}
	return 0;
}

static int dec_tools(struct hub_rq *r, int tools)
{
	const struct json *j = r->j;
	int k, i;

	if (tools < 0)
		return 0;
	if (!hub_tok_is(j, tools, JSMN_ARRAY))
		return hub_rq_fail(r, "tools: expected an array");
	for (k = 0, i = tools + 1; k < j->tok[tools].size;
	     k++, i = json_skip(j, i)) {
		int ty = json_get(j, i, "type");
		struct hub_span name = hub_tok_str(j, i, "name");

		if (!hub_tok_is(j, i, JSMN_OBJECT))
			return hub_rq_fail(r, "tools[%d]: expected an object",
					   k);
		/* Server tools (web_search_..., bash_...) have no meaning
		 * for other upstreams. */
		if (ty >= 0 && !json_str_eq(j, ty, "custom"))
			continue;
		if (!name.p)
			return hub_rq_fail(r, "tools[%d]: name required", k);
		if (!hub_rq_tool(r, name, hub_tok_str(j, i, "description"),
				 json_get(j, i, "input_schema")))
			return -1;
	}
	return 0;
}

static int dec_tool_choice(struct hub_rq *r, int tc)
{
	const struct json *j = r->j;
	int ty = json_get(j, tc, "type");
	struct hub_view *v = r->v;

	if (tc < 0)
		return 0;
	if (!hub_tok_is(j, tc, JSMN_OBJECT))
		return hub_rq_fail(r, "tool_choice: expected an object");
	if (json_str_eq(j, ty, "auto")) {
		v->tool_choice = HUB_TC_AUTO;
	} else if (json_str_eq(j, ty, "any")) {
		v->tool_choice = HUB_TC_ANY;
	} else if (json_str_eq(j, ty, "none")) {
		v->tool_choice = HUB_TC_NONE;
	} else if (json_str_eq(j, ty, "tool")) {
		v->tool_choice = HUB_TC_TOOL;
		v->tool_choice_name = hub_tok_str(j, tc, "name");
		if (!v->tool_choice_name.p)
			return hub_rq_fail(r, "tool_choice: type tool needs a "
					   "name");
	} else {
		return hub_rq_fail(r, "tool_choice: unknown type");
	}
	ty = json_get(j, tc, "disable_parallel_tool_use");
	if (ty >= 0)
		v->parallel_tool_calls = !hub_tok_true(j, ty);
	return 0;
}

static int dec_thinking_cfg(struct hub_rq *r, int th, int oc)
{
	const struct json *j = r->j;
	struct hub_view *v = r->v;
	int ty = json_get(j, th, "type");
	int ef = json_get(j, oc, "effort");

	if (json_str_eq(j, ty, "enabled")) {
		v->thinking = 1;
		v->include_thoughts = 1;
		v->thinking_budget = -1;
		if (req_tokens(r, json_get(j, th, "budget_tokens"),
			       "thinking.budget_tokens", &v->thinking_budget) < 0)
			return -1;
	} else if (json_str_eq(j, ty, "adaptive")) {
		v->thinking = 1;
		v->include_thoughts = 1;
		v->thinking_budget = -1;
	} else if (json_str_eq(j, ty, "disabled")) {
		v->thinking = 0;
		v->thinking_budget = 0;
	}
	if (json_str_eq(j, ef, "low"))
		v->effort = HUB_EFFORT_LOW;
	else if (json_str_eq(j, ef, "medium"))
		v->effort = HUB_EFFORT_MEDIUM;
	else if (json_str_eq(j, ef, "high") || json_str_eq(j, ef, "max"))
		v->effort = HUB_EFFORT_HIGH;
	return 0;
}

static int dec_sampling(struct hub_rq *r)
{
	const struct json *j = r->j;
	struct hub_view *v = r->v;
	int t;

	if (req_tokens(r, json_get(j, 0, "max_tokens"), "max_tokens",
		       &v->max_tokens) < 0)
		return -1;
	v->temperature = hub_tok_num(j, 0, "temperature");
	v->top_p = hub_tok_num(j, 0, "top_p");
	v->top_k = hub_tok_num(j, 0, "top_k");
	t = json_get(j, 0, "stop_sequences");
	if (t >= 0 && !hub_tok_is(j, t, JSMN_ARRAY))
		return hub_rq_fail(r, "stop_sequences: expected an array");
	hub_rq_stops(r, t); /* what is not a string is skipped */
	return 0;
}

int hub_claude_decode_request(const struct json *j, struct hub_view *v,
			      char *err, size_t errlen)
{
	struct hub_rq r = {j, v, err, errlen};
	int msgs, k, i, t;

	if (!hub_tok_is(j, 0, JSMN_OBJECT))
		return hub_fail(err, errlen, "request body must be a JSON "
				"object");
	t = json_get(j, 0, "model");
	if (t >= 0 && !hub_tok_is(j, t, JSMN_STRING))
		return hub_fail(err, errlen, "model: expected a string");
	v->model = hub_tok_span(j, t);
	v->stream = hub_tok_true(j, json_get(j, 0, "stream"));
	if (dec_system(&r, json_get(j, 0, "system")) < 0)
		return -1;
	msgs = json_get(j, 0, "messages");
	if (!hub_tok_is(j, msgs, JSMN_ARRAY))
		return hub_fail(err, errlen, "messages: expected an array");
	for (k = 0, i = msgs + 1; k < j->tok[msgs].size;
	     k++, i = json_skip(j, i))
		if (dec_message(&r, i, k) < 0)
			return -1;
	if (dec_tools(&r, json_get(j, 0, "tools")) < 0 ||
	    dec_tool_choice(&r, json_get(j, 0, "tool_choice")) < 0 ||
	    dec_sampling(&r) < 0 ||
	    dec_thinking_cfg(&r, json_get(j, 0, "thinking"),
			     json_get(j, 0, "output_config")) < 0)
		return -1;
	return 0;
}

/* ====================================================================
 * encode_event: hub events -> Claude client
 * ==================================================================== */

const struct hub_word hub_claude_errors[] = {
	{"invalid_request_error", 400}, {"authentication_error", 401},
	{"permission_error", 403},      {"not_found_error", 404},
	{"request_too_large", 413},     {"rate_limit_error", 429},
	{"api_error", 500},             {"overloaded_error", 503},
	{"overloaded_error", 529},
};
const size_t hub_claude_nerrors = HUB_NELEM(hub_claude_errors);


static void sse_open(struct buf *out, const char *name)
{
	buf_puts(out, "event: ");
	buf_puts(out, name);
	buf_puts(out, "\ndata: ");
}

static void sse_close(struct buf *out)
{
	buf_puts(out, "\n\n");
}

/* Claude-style input tokens (without cache reads and writes). */
static long plain_input(const struct hub_usage *u)
{
	long n = u->input;
	if (n < 0)
		return -1;
	if (u->cached > 0)
		n -= u->cached;
	if (u->cache_write > 0)
		n -= u->cache_write;
	return n < 0 ? 0 : n;
}

static void put_usage(struct buf *out, const struct hub_usage *u, int full)
{
	long in = plain_input(u);

	buf_putc(out, '{');
	if (full || in >= 0)
		buf_printf(out, "\"input_tokens\":%ld,", in < 0 ? 0 : in);
	if (u->cache_write >= 0)
		buf_printf(out, "\"cache_creation_input_tokens\":%ld,",
			   u->cache_write);
	if (u->cached >= 0)
		buf_printf(out, "\"cache_read_input_tokens\":%ld,", u->cached);
	buf_printf(out, "\"output_tokens\":%ld}",
		   u->output < 0 ? 0 : u->output);
}


/* message_start, once, at the first event after START that is not USAGE
 * (so a usage event that came with START fills input_tokens), or lazily
 * when START never came. */
static void enc_head(struct hub_enc *e, struct buf *out)
{
	long in;

	if (!hub_enc_begin(e, &e->u.claude.phase, "msg_") || !e->o.stream)
		return;
	in = plain_input(&e->usage);
	sse_open(out, "message_start");
	buf_puts(out, "{\"type\":\"message_start\",\"message\":{\"id\":");
	buf_json_cstr(out, e->id);
	buf_puts(out, ",\"type\":\"message\",\"role\":\"assistant\","
		      "\"content\":[],\"model\":");
	buf_json_cstr(out, e->model);
	buf_printf(out,
		   ",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{"
		   "\"input_tokens\":%ld,\"output_tokens\":0}}}",
		   in < 0 ? 0 : in);
	sse_close(out);
}

static void acc_close(struct hub_claude_enc *c)
{
	switch (c->block_open) {
	case HUB_CL_TEXT:
		buf_puts(&c->blocks, "\"}");
		break;
	case HUB_CL_THINKING:
	case HUB_CL_SIGNED:
		buf_puts(&c->blocks, "\",\"signature\":\"");
		buf_put(&c->blocks, c->sig.p, c->sig.len);
		buf_puts(&c->blocks, "\"}");
		buf_reset(&c->sig);
		break;
	case HUB_CL_TOOL:
		hub_put_args_object(&c->blocks,
				    hub_span_of(c->args.p, c->args.len), 1);
		buf_putc(&c->blocks, '}');
		buf_reset(&c->args);
		break;
	}
}

static void blk_close(struct hub_enc *e, struct buf *out)
{
	struct hub_claude_enc *c = &e->u.claude;

	if (c->block_open == HUB_CL_NONE)
		return;
	if (e->o.stream) {
		sse_open(out, "content_block_stop");
		buf_printf(out, "{\"type\":\"content_block_stop\",\"index\":%d}",
			   c->block_index);
		sse_close(out);
	} else {
		acc_close(c);
	}
	c->block_open = HUB_CL_NONE;
}

/* The id of a tool call (generated when the upstream gave none). */
static void put_call_id(struct hub_enc *e, struct buf *b,
			const struct hub_event *ev)
{
	char id[64];
	if (ev->id.p && ev->id.n) {
		hub_put_str(b, ev->id);
		return;
	}
	hub_gen_id(id, sizeof(id), "toolu_", e->o.seed, 1 + ev->index);
	buf_json_cstr(b, id);
}

/* Write the opening of a block of type t: the content_block value
 * (stream) or the block head in blocks (non-stream). */
static void put_block_head(struct hub_enc *e, struct buf *b, int t,
			   const struct hub_event *ev)
{
	if (t == HUB_CL_TEXT) {
		buf_puts(b, "{\"type\":\"text\",\"text\":\"");
	} else if (t == HUB_CL_THINKING) {
		buf_puts(b, "{\"type\":\"thinking\",\"thinking\":\"");
	} else {
		buf_puts(b, "{\"type\":\"tool_use\",\"id\":");
		put_call_id(e, b, ev);
		buf_puts(b, ",\"name\":");
		hub_put_str(b, ev->name);
		buf_puts(b, ",\"input\":");
	}
	if (!e->o.stream)
		return;
	buf_puts(b, t == HUB_CL_TOOL ? "{}}" : "\"}");
}

static void blk_open(struct hub_enc *e, struct buf *out, int t,
		     const struct hub_event *ev)
{
	struct hub_claude_enc *c = &e->u.claude;

	blk_close(e, out);
	c->block_index = c->nblocks++;
	c->block_open = t;
	if (t == HUB_CL_TOOL)
		c->tools++;
	if (!e->o.stream) {
		if (c->blocks.len)
			buf_putc(&c->blocks, ',');
		if (t == HUB_CL_THINKING)
			buf_reset(&c->sig);
		if (t == HUB_CL_TOOL)
			buf_reset(&c->args);
		put_block_head(e, &c->blocks, t, ev);
		return;
	}
	sse_open(out, "content_block_start");
	buf_printf(out,
		   "{\"type\":\"content_block_start\",\"index\":%d,"
		   "\"content_block\":",
		   c->block_index);
	put_block_head(e, out, t, ev);
	buf_putc(out, '}');
	sse_close(out);
}

/* A delta on the open block: kind is the delta type, key its field. */
static void put_delta(struct hub_enc *e, struct buf *out, const char *kind,
		      const char *key, struct hub_span s)
{
	sse_open(out, "content_block_delta");
	buf_printf(out,
		   "{\"type\":\"content_block_delta\",\"index\":%d,\"delta\":"
		   "{\"type\":\"%s\",\"%s\":",
		   e->u.claude.block_index, kind, key);
	hub_put_str(out, s);
	buf_puts(out, "}}");
	sse_close(out);
}

static void enc_text(struct hub_enc *e, struct buf *out,
		     const struct hub_event *ev, int t)
{
	if (!ev->text.p || ev->text.n == 0)
		return;
	if (e->u.claude.block_open != t)
		blk_open(e, out, t, ev);
	if (!e->o.stream)
		buf_put(&e->u.claude.blocks, ev->text.p, ev->text.n);
	else if (t == HUB_CL_TEXT)
		put_delta(e, out, "text_delta", "text", ev->text);
	else
		put_delta(e, out, "thinking_delta", "thinking", ev->text);
}

/* A signature seals its thinking block: more signature pieces still
 * join it, more thinking opens a new block. */
static void enc_signature(struct hub_enc *e, struct buf *out,
			  const struct hub_event *ev)
{
	struct hub_claude_enc *c = &e->u.claude;

	if (!ev->text.p || ev->text.n == 0)
		return;
	if (c->block_open != HUB_CL_THINKING && c->block_open != HUB_CL_SIGNED)
		blk_open(e, out, HUB_CL_THINKING, ev);
	if (e->o.stream)
		put_delta(e, out, "signature_delta", "signature", ev->text);
	else
		buf_put(&c->sig, ev->text.p, ev->text.n);
	c->block_open = HUB_CL_SIGNED;
}

static void enc_tool_args(struct hub_enc *e, struct buf *out,
			  const struct hub_event *ev)
{
	if (e->u.claude.block_open != HUB_CL_TOOL || !ev->text.p ||
	    ev->text.n == 0)
		return;
	if (e->o.stream)
		put_delta(e, out, "input_json_delta", "partial_json", ev->text);
	else
		buf_put(&e->u.claude.args, ev->text.p, ev->text.n);
}

static void enc_finish(struct hub_enc *e, struct buf *out,
		       const struct hub_event *ev)
{
	struct buf *stop = &e->u.claude.stop;

	if (!e->o.stream)
		blk_close(e, out);
	e->finish = ev->finish;
	e->have_finish = 1;
	buf_reset(stop);
	buf_put(stop, ev->stop_sequence.p, ev->stop_sequence.n);
}

static void enc_error(struct hub_enc *e, struct buf *out,
		      const struct hub_event *ev)
{
	struct hub_claude_enc *c = &e->u.claude;
	struct hub_span msg = ev->text.p ? ev->text : HUB_LIT("error");

	c->phase = 2;
	if (!e->o.stream) {
		/* the answer is replaced by an error body at DONE */
		buf_reset(&c->err);
		buf_put(&c->err, msg.p, msg.n);
		c->err_status = ev->status;
		return;
	}
	sse_open(out, "error");
	apierr_begin(out, HUB_CLAUDE, ev->status);
	hub_put_str(out, msg);
	apierr_end(out, HUB_CLAUDE, ev->status);
	sse_close(out);
}

static void put_stop(struct hub_enc *e, struct buf *out)
{
	const struct buf *seq = &e->u.claude.stop;
	enum hub_finish f = e->have_finish ? e->finish : HUB_FIN_STOP;
	const char *r = "end_turn";

	if (f == HUB_FIN_LENGTH)
		r = "max_tokens";
	else if (f == HUB_FIN_FILTER)
		r = "refusal";
	else if (f == HUB_FIN_TOOL || e->u.claude.tools > 0)
		r = "tool_use";
	else if (seq->len > 0)
		r = "stop_sequence";
	buf_printf(out, "\"stop_reason\":\"%s\",\"stop_sequence\":", r);
	if (seq->len > 0 && r[0] == 's')
		hub_put_str(out, hub_span_of(seq->p, seq->len));
	else
		buf_puts(out, "null");
}

static void enc_done_stream(struct hub_enc *e, struct buf *out)
{
	blk_close(e, out);
	sse_open(out, "message_delta");
	buf_puts(out, "{\"type\":\"message_delta\",\"delta\":{");
	put_stop(e, out);
	buf_puts(out, "},\"usage\":");
	put_usage(out, &e->usage, 0);
	buf_putc(out, '}');
	sse_close(out);
	sse_open(out, "message_stop");
	buf_puts(out, "{\"type\":\"message_stop\"}");
	sse_close(out);
}

static void enc_done_body(struct hub_enc *e, struct buf *out)
{
	struct hub_claude_enc *c = &e->u.claude;

	if (c->phase == 2) { /* an ERROR came */
		apierr_begin(out, HUB_CLAUDE, c->err_status);
		hub_put_str(out, hub_span_of(c->err.p, c->err.len));
		apierr_end(out, HUB_CLAUDE, c->err_status);
		return;
	}
	blk_close(e, out);
	buf_puts(out, "{\"id\":");
	buf_json_cstr(out, e->id);
	buf_puts(out, ",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
	buf_json_cstr(out, e->model);
	buf_puts(out, ",\"content\":[");
	buf_put(out, c->blocks.p, c->blocks.len);
	buf_puts(out, "],");
	put_stop(e, out);
	buf_puts(out, ",\"usage\":");
	put_usage(out, &e->usage, 1);
	buf_putc(out, '}');
}

void hub_claude_encode_event(struct hub_enc *e, const struct hub_event *ev,
			     struct buf *out)
{
	struct hub_claude_enc *c = &e->u.claude;

	if (c->phase == 3 || (c->phase == 2 && ev->type != HUB_EV_DONE))
		return; /* after an error only DONE; after DONE nothing */
	if (ev->type == HUB_EV_DONE) {
		int errored = c->phase == 2;
		enc_head(e, out);
		if (!e->o.stream)
			enc_done_body(e, out); /* answer or error body */
		else if (!errored)
			enc_done_stream(e, out);
		c->phase = 3;
		return;
	}
	if (ev->type == HUB_EV_ERROR) {
		enc_error(e, out, ev);
		return;
	}
	if (ev->type == HUB_EV_USAGE) {
		hub_usage_merge(&e->usage, &ev->usage);
		return;
	}
	if (ev->type == HUB_EV_START) {
		if (!e->id[0] && !c->phase) {
			hub_enc_take_start(e, ev);
			hub_enc_make_id(e, "msg_");
		}
		return;
	}
	enc_head(e, out);
	switch (ev->type) {
	case HUB_EV_TEXT: enc_text(e, out, ev, HUB_CL_TEXT); break;
	case HUB_EV_THINKING: enc_text(e, out, ev, HUB_CL_THINKING); break;
	case HUB_EV_THINKING_SIG: enc_signature(e, out, ev); break;
	case HUB_EV_TOOL_START: blk_open(e, out, HUB_CL_TOOL, ev); break;
	case HUB_EV_TOOL_ARGS: enc_tool_args(e, out, ev); break;
	case HUB_EV_TOOL_END:
		if (c->block_open == HUB_CL_TOOL)
			blk_close(e, out);
		break;
	case HUB_EV_FINISH: enc_finish(e, out, ev); break;
	default: break;
	}
}

/* ====================================================================
 * render_error
 * ==================================================================== */

void hub_claude_render_error(struct buf *out, int status, const char *msg)
{
	apierr_render(out, HUB_CLAUDE, status, msg);
}
