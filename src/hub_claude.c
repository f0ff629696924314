/*
 * hub_claude.c - the Claude Messages codec of the translation hub (see
 * hub.h): POST /v1/messages as a client format and api.anthropic.com as an
 * upstream format.
 *
 * Request side.  claude_decode_request walks the client body's tokens once
 * and fills the view with spans into it (nothing is copied).
 * claude_encode_request writes a Claude body from any view.  Claude wants
 * strictly alternating roles, so the encoder works on *runs*: a run is a
 * maximal sequence of emitted parts with the same effective role (a tool
 * result is always "user", a tool call or thinking always "assistant"),
 * whatever message they came from.  Each run becomes one message written
 * in two passes: first the blocks Claude wants in front (tool_result in a
 * user turn, thinking in an assistant turn), then the rest in order.
 * Parts that Claude would reject are not emitted at all (empty text,
 * thinking without a signature), so they can neither split nor create a
 * turn.
 *
 * Stream decoder.  Claude's SSE is already block-structured and never
 * interleaves blocks, so events map almost one to one.  Per block index
 * (mod 64, safe because blocks are sequential) the decoder remembers the
 * block type and, for tool_use blocks, the hub tool index (0, 1, ... in
 * order of appearance).  The data's "type" field decides; the SSE event
 * name is only a fallback.
 *
 * Usage convention.  Hub usage.input counts every prompt token (as OpenAI,
 * Responses and Gemini do), cached and cache-written ones included.
 * Claude's input_tokens excludes both, so the decoder adds them and the
 * encoder subtracts them again.
 *
 * Client encoder.  Blocks are written sequentially: a text or thinking
 * delta opens a block of its type if the open one is different (closing
 * that one first); a non-stream answer is built the same way in
 * u.claude.blocks.  State: struct hub_claude_enc (hub.h); after an ERROR
 * only DONE is still handled.
 */
#include "hub_tok.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Block types (hub_claude_sdec.block_type, hub_claude_enc.block_open). */
enum {
	CL_BLK_NONE, CL_BLK_TEXT, CL_BLK_THINKING, CL_BLK_TOOL, CL_BLK_OTHER,
	CL_BLK_SIGNED /* encoder: a thinking block whose signature came */
};

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
 * decode_request: Claude client body -> view
 * ==================================================================== */

/* A token count of the request: 0 ok (*out set when present), -1 with
 * the message for a 400. */
static int req_tokens(struct hub_rq *r, int t, const char *what, long *out)
{
	if (hub_tok_int(r->j, t, 0, HUB_TOKENS_MAX, out) != HUB_INT_BAD)
		return 0;
	return hub_rq_fail(r,
			   "%s must be a whole number from 0 to "
			   "2147483647",
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
				return hub_rq_fail(
					r, "system[%d]: expected a text block",
					k);
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

static int dec_image(struct hub_rq *r, int blk, const char *where)
{
	const struct json *j = r->j;
	int src = json_get(j, blk, "source");
	struct hub_part *p;

	if (!hub_tok_is(j, src, JSMN_OBJECT))
		return hub_rq_fail(r, "%s: image without source", where);
	p = hub_rq_part(r, HUB_P_IMAGE);
	if (!p)
		return -1;
	p->cache = json_get(j, blk, "cache_control") >= 0;
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
		return hub_rq_fail(
			r, "%s: image source needs media_type and data", where);
	return 0;
}

/* Name of the tool_use with this id earlier in the request. */
static struct hub_span tool_name_for(const struct hub_view *v,
				     struct hub_span id)
{
	size_t i = v->nparts;
	while (i-- > 0)
		if (v->parts[i].type == HUB_P_TOOL_CALL &&
		    hub_span_same(v->parts[i].id, id))
			return v->parts[i].name;
	return hub_span_of(NULL, 0);
}

static int dec_tool_use(struct hub_rq *r, int blk, const char *where)
{
	const struct json *j = r->j;
	int in = json_get(j, blk, "input");
	struct hub_part *p = hub_rq_part(r, HUB_P_TOOL_CALL);

	if (!p)
		return -1;
	p->id = hub_tok_str(j, blk, "id");
	p->name = hub_tok_str(j, blk, "name");
	if (!p->id.p || !p->name.p || !hub_tok_is(j, in, JSMN_OBJECT))
		return hub_rq_fail(
			r, "%s: tool_use needs id, name and an input object",
			where);
	p->args = hub_tok_raw(j, in);
	p->args_is_str = 0;
	p->cache = json_get(j, blk, "cache_control") >= 0;
	return 0;
}

static int dec_tool_result(struct hub_rq *r, int blk, const char *where)
{
	const struct json *j = r->j;
	int c = json_get(j, blk, "content");
	struct hub_part *p = hub_rq_part(r, HUB_P_TOOL_RESULT);

	if (!p)
		return -1;
	p->id = hub_tok_str(j, blk, "tool_use_id");
	if (!p->id.p)
		return hub_rq_fail(r, "%s: tool_result needs tool_use_id",
				   where);
	p->name = tool_name_for(r->v, p->id);
	p->result_error = hub_tok_true(j, json_get(j, blk, "is_error"));
	p->cache = json_get(j, blk, "cache_control") >= 0;
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
			return hub_rq_fail(
				r, "%s: redacted_thinking needs data", where);
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
		return hub_rq_fail(r,
				   "messages[%d]: role must be user, "
				   "assistant or system",
				   idx);
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
			snprintf(where, sizeof(where), "messages[%d].content[%d]",
				 idx, k);
			if (dec_block(r, i, where) < 0)
				return -1;
		}
	} else {
		return hub_rq_fail(
			r, "messages[%d]: content must be a string or an array",
			idx);
	}
	r->v->msgs[mi].n = r->v->nparts - r->v->msgs[mi].first;
	if (r->v->msgs[mi].role == HUB_SYSTEM) {
		size_t p;
		for (p = r->v->msgs[mi].first; p < r->v->nparts; p++)
			if (r->v->parts[p].type != HUB_P_TEXT)
				return hub_rq_fail(
					r,
					"messages[%d]: a "
					"system message holds text only",
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
		int ty = json_get(j, i, "type"), s;
		struct hub_tool *t;

		if (!hub_tok_is(j, i, JSMN_OBJECT))
			return hub_rq_fail(r, "tools[%d]: expected an object",
					   k);
		/* Server tools (web_search_..., bash_...) have no meaning
		 * for other upstreams. */
		if (ty >= 0 && !json_str_eq(j, ty, "custom"))
			continue;
		t = hub_add_tool(r->v);
		if (!t)
			return hub_rq_fail(r, "out of memory");
		t->name = hub_tok_str(j, i, "name");
		if (!t->name.p)
			return hub_rq_fail(r, "tools[%d]: name required", k);
		t->description = hub_tok_str(j, i, "description");
		s = json_get(j, i, "input_schema");
		if (hub_tok_is(j, s, JSMN_OBJECT)) {
			t->schema = hub_tok_raw(j, s);
			t->schema_tok = s;
		}
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
			return hub_rq_fail(
				r, "tool_choice: type tool needs a name");
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
	int t, k, i;

	if (req_tokens(r, json_get(j, 0, "max_tokens"), "max_tokens",
		       &v->max_tokens) < 0)
		return -1;
	if (hub_tok_number(j, t = json_get(j, 0, "temperature")))
		v->temperature = hub_tok_raw(j, t);
	if (hub_tok_number(j, t = json_get(j, 0, "top_p")))
		v->top_p = hub_tok_raw(j, t);
	if (hub_tok_number(j, t = json_get(j, 0, "top_k")))
		v->top_k = hub_tok_raw(j, t);
	t = json_get(j, 0, "stop_sequences");
	if (t >= 0 && !hub_tok_is(j, t, JSMN_ARRAY))
		return hub_rq_fail(r, "stop_sequences: expected an array");
	for (k = 0, i = t + 1; t >= 0 && k < j->tok[t].size;
	     k++, i = json_skip(j, i))
		if (hub_tok_is(j, i, JSMN_STRING) && v->nstop < 8)
			v->stop[v->nstop++] = hub_tok_span(j, i);
	return 0;
}

static int claude_decode_request(const struct json *j, struct hub_view *v,
				 char *err, size_t errlen)
{
	struct hub_rq r = {j, v, err, errlen};
	int msgs, k, i, t;

	if (!hub_tok_is(j, 0, JSMN_OBJECT))
		return hub_fail(err, errlen,
				"request body must be a JSON object");
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

static int claude_encode_request(const struct hub_view *v,
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
	d->u.claude.block_type[idx] = CL_BLK_OTHER;
	if (json_str_eq(j, ty, "text")) {
		d->u.claude.block_type[idx] = CL_BLK_TEXT;
		if (hub_tok_str(j, cb, "text").n > 0)
			emit_simple(x, HUB_EV_TEXT, hub_tok_str(j, cb, "text"),
				    0);
	} else if (json_str_eq(j, ty, "thinking")) {
		d->u.claude.block_type[idx] = CL_BLK_THINKING;
		if (hub_tok_str(j, cb, "thinking").n > 0)
			emit_simple(x, HUB_EV_THINKING,
				    hub_tok_str(j, cb, "thinking"), 0);
	} else if (json_str_eq(j, ty, "redacted_thinking")) {
		emit_simple(x, HUB_EV_THINKING_SIG, hub_tok_str(j, cb, "data"),
			    0);
	} else if (json_str_eq(j, ty, "tool_use")) {
		d->u.claude.block_type[idx] = CL_BLK_TOOL;
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
		   d->u.claude.block_type[idx] == CL_BLK_TOOL) {
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
	if (d->u.claude.block_type[idx] == CL_BLK_TOOL)
		emit_simple(x, HUB_EV_TOOL_END, hub_span_of(NULL, 0),
			    d->u.claude.tool_index[idx]);
	d->u.claude.block_type[idx] = CL_BLK_NONE;
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

static void claude_decode_event(struct hub_sdec *d, const struct hub_sse *ev,
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

static int claude_decode_body(struct hub_sdec *d, const char *body,
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

/* ====================================================================
 * encode_event: hub events -> Claude client
 * ==================================================================== */

static const char *error_type(int status)
{
	switch (status) {
	case 400: return "invalid_request_error";
	case 401: return "authentication_error";
	case 403: return "permission_error";
	case 404: return "not_found_error";
	case 413: return "request_too_large";
	case 429: return "rate_limit_error";
	case 503: case 529: return "overloaded_error";
	default: return status >= 400 && status < 500 ? "invalid_request_error"
						      : "api_error";
	}
}

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

/* Remember START's id and model (plain text in e->id / e->model). */
static void enc_take_start(struct hub_enc *e, const struct hub_event *ev)
{
	if (!ev || !ev->id.p || ev->id.n == 0 ||
	    hub_unescape(ev->id, e->id, sizeof(e->id)) <= 0)
		hub_gen_id(e->id, sizeof(e->id), "msg_", e->o.seed, 0);
	if (ev && ev->model.p && ev->model.n)
		hub_unescape(ev->model, e->model, sizeof(e->model));
}

/* message_start, once, at the first event after START that is not USAGE
 * (so a usage event that came with START fills input_tokens), or lazily
 * when START never came. */
static void enc_head(struct hub_enc *e, struct buf *out)
{
	long in;

	if (e->u.claude.phase)
		return;
	e->u.claude.phase = 1;
	if (!e->id[0])
		enc_take_start(e, NULL);
	if (!e->o.stream)
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
	case CL_BLK_TEXT:
		buf_puts(&c->blocks, "\"}");
		break;
	case CL_BLK_THINKING:
	case CL_BLK_SIGNED:
		buf_puts(&c->blocks, "\",\"signature\":\"");
		buf_put(&c->blocks, c->sig.p, c->sig.len);
		buf_puts(&c->blocks, "\"}");
		buf_reset(&c->sig);
		break;
	case CL_BLK_TOOL:
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

	if (c->block_open == CL_BLK_NONE)
		return;
	if (e->o.stream) {
		sse_open(out, "content_block_stop");
		buf_printf(out, "{\"type\":\"content_block_stop\",\"index\":%d}",
			   c->block_index);
		sse_close(out);
	} else {
		acc_close(c);
	}
	c->block_open = CL_BLK_NONE;
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
 * (stream) or the block head in acc (non-stream). */
static void put_block_head(struct hub_enc *e, struct buf *b, int t,
			   const struct hub_event *ev)
{
	if (t == CL_BLK_TEXT) {
		buf_puts(b, "{\"type\":\"text\",\"text\":\"");
	} else if (t == CL_BLK_THINKING) {
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
	buf_puts(b, t == CL_BLK_TOOL ? "{}}" : "\"}");
}

static void blk_open(struct hub_enc *e, struct buf *out, int t,
		     const struct hub_event *ev)
{
	struct hub_claude_enc *c = &e->u.claude;

	blk_close(e, out);
	c->block_index = c->nblocks++;
	c->block_open = t;
	if (t == CL_BLK_TOOL)
		c->tools++;
	if (!e->o.stream) {
		if (c->blocks.len)
			buf_putc(&c->blocks, ',');
		if (t == CL_BLK_THINKING)
			buf_reset(&c->sig);
		if (t == CL_BLK_TOOL)
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
	else if (t == CL_BLK_TEXT)
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
	if (c->block_open != CL_BLK_THINKING && c->block_open != CL_BLK_SIGNED)
		blk_open(e, out, CL_BLK_THINKING, ev);
	if (e->o.stream)
		put_delta(e, out, "signature_delta", "signature", ev->text);
	else
		buf_put(&c->sig, ev->text.p, ev->text.n);
	c->block_open = CL_BLK_SIGNED;
}

static void enc_tool_args(struct hub_enc *e, struct buf *out,
			  const struct hub_event *ev)
{
	if (e->u.claude.block_open != CL_BLK_TOOL || !ev->text.p ||
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
	buf_puts(out, "{\"type\":\"error\",\"error\":{\"type\":");
	buf_json_cstr(out, error_type(ev->status));
	buf_puts(out, ",\"message\":");
	hub_put_str(out, msg);
	buf_puts(out, "}}");
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
		buf_puts(out, "{\"type\":\"error\",\"error\":{\"type\":");
		buf_json_cstr(out, error_type(c->err_status));
		buf_puts(out, ",\"message\":");
		hub_put_str(out, hub_span_of(c->err.p, c->err.len));
		buf_puts(out, "}}");
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

static void claude_encode_event(struct hub_enc *e, const struct hub_event *ev,
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
		if (!e->id[0] && !c->phase)
			enc_take_start(e, ev);
		return;
	}
	enc_head(e, out);
	switch (ev->type) {
	case HUB_EV_TEXT: enc_text(e, out, ev, CL_BLK_TEXT); break;
	case HUB_EV_THINKING: enc_text(e, out, ev, CL_BLK_THINKING); break;
	case HUB_EV_THINKING_SIG: enc_signature(e, out, ev); break;
	case HUB_EV_TOOL_START: blk_open(e, out, CL_BLK_TOOL, ev); break;
	case HUB_EV_TOOL_ARGS: enc_tool_args(e, out, ev); break;
	case HUB_EV_TOOL_END:
		if (c->block_open == CL_BLK_TOOL)
			blk_close(e, out);
		break;
	case HUB_EV_FINISH: enc_finish(e, out, ev); break;
	default: break;
	}
}

/* ====================================================================
 * render_error
 * ==================================================================== */

static void claude_render_error(struct buf *out, int status, const char *msg)
{
	buf_puts(out, "{\"type\":\"error\",\"error\":{\"type\":");
	buf_json_cstr(out, error_type(status));
	buf_puts(out, ",\"message\":");
	buf_json_cstr(out, msg ? msg : "");
	buf_puts(out, "}}");
}

const struct hub_codec hub_claude = {
	HUB_CLAUDE,
	claude_decode_request,
	claude_encode_request,
	claude_decode_event,
	claude_decode_body,
	claude_encode_event,
	claude_render_error,
};
