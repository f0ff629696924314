/*
 * hub_gemini_client.c - the client side of the Gemini generateContent
 * codec (generateContent / streamGenerateContent, bare or in the Gemini
 * CLI's Code Assist envelope): the request decoder (client body -> view)
 * and the event encoder (events -> GenerateContentResponse chunks or one
 * body).  See hub.h for the view, the events and the string convention;
 * the upstream side is hub_gemini_upstream.c.
 *
 * REQUEST.  Both request shapes are accepted: a bare
 * GenerateContentRequest and {"model","project","request":{...}}.
 * contents[] map one to one onto view messages (role "model" is the
 * assistant, anything else the user).  Gemini has no tool-call ids, so a
 * functionCall without "id" gets one generated from its position
 * ("gcall_<n>"), and a functionResponse without "id" takes the id of the
 * first unanswered call of the same name in the nearest earlier model
 * turn.  Generated ids live in the view's string arena (hub_view_str),
 * freed with the view.
 *
 * EVENTS.  Gemini clients need a tool call's arguments whole, so TOOL_ARGS
 * accumulate and one functionCall part is written at TOOL_END.  A
 * signature is held (as the JSON fragment "thoughtSignature":"...") until
 * the next event: a following tool call carries it, anything else flushes
 * it as its own empty-text part.  The stream's last chunk (finishReason +
 * usageMetadata) goes out at FINISH when usage is known, else at the next
 * USAGE or at DONE; a USAGE after it gets a usage-only chunk.  A
 * non-stream answer builds its parts array (all kinds, in order) in
 * u.gemini.parts; o.gemini_cli wraps every answer as {"response":...}.
 * State: struct hub_gemini_enc (hub.h).
 */
#include "apierr.h"
#include "fmt.h"
#include "hub_tok.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Does s equal lit (lower case), ignoring case? */
static int gemini_ieq(struct hub_span s, const char *lit)
{
	size_t n = strlen(lit), i;
	if (!s.p || s.n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (tolower((unsigned char)s.p[i]) != lit[i])
			return 0;
	return 1;
}

/* ==== decode_request: Gemini client body -> view ======================= */

/* A request being decoded, and how many call ids it generated. */
struct gemini_dec {
	struct hub_rq r;
	int ngen;
};

/* A generated call id, "gcall_<n>", or fallback when the view's arena is
 * full. */
static struct hub_span gemini_gen_call_id(struct gemini_dec *c,
					  struct hub_span fallback)
{
	char id[32];
	int n = fmt_snprintf(id, sizeof(id), "gcall_%d", c->ngen++);
	struct hub_span s = hub_view_str(c->r.v, id, (size_t)n);

	return s.p ? s : fallback;
}

static int gemini_dec_system(struct gemini_dec *c, int root)
{
	const struct json *j = c->r.j;
	int si = hub_tok_member(j, root, "systemInstruction", "system_instruction");
	int parts, e, i;
	struct hub_part *p;

	c->r.v->sys_first = c->r.v->nparts;
	if (si < 0)
		return 0;
	if (hub_tok_is(j, si, JSMN_STRING)) {
		if (!(p = hub_rq_part(&c->r, HUB_P_TEXT)))
			return -1;
		p->text = hub_tok_span(j, si);
	} else {
		if (!hub_tok_is(j, si, JSMN_OBJECT))
			return hub_rq_fail(&c->r, "systemInstruction must be "
					   "an object");
		parts = json_get(j, si, "parts");
		if (parts >= 0 && !hub_tok_is(j, parts, JSMN_ARRAY))
			return hub_rq_fail(&c->r, "systemInstruction.parts "
					   "must be an array");
		for (i = 0, e = parts + 1; parts >= 0 && i < j->tok[parts].size;
		     i++, e = json_skip(j, e)) {
			int t = json_get(j, e, "text");
			if (!hub_tok_is(j, t, JSMN_STRING))
				continue; /* only text is a system prompt */
			if (!(p = hub_rq_part(&c->r, HUB_P_TEXT)))
				return -1;
			p->text = hub_tok_span(j, t);
		}
	}
	c->r.v->sys_n = c->r.v->nparts - c->r.v->sys_first;
	return 0;
}

/* inlineData {mimeType, data} or (file) fileData {mimeType, fileUri}. */
static int gemini_dec_media(struct gemini_dec *c, int t, int file)
{
	const struct json *j = c->r.j;
	int src = file ? hub_tok_member(j, t, "fileUri", "file_uri")
		       : json_get(j, t, "data");
	struct hub_part *p;

	if (!hub_tok_is(j, src, JSMN_STRING))
		return hub_rq_fail(&c->r, "%s", file
				   ? "fileData needs a fileUri string"
				   : "inlineData needs a data string");
	if (!(p = hub_rq_part(&c->r, HUB_P_IMAGE)))
		return -1;
	p->mime = hub_tok_string(j, hub_tok_member(j, t, "mimeType",
						   "mime_type"));
	if (file)
		p->url = hub_tok_span(j, src);
	else
		p->data = hub_tok_span(j, src);
	return 0;
}

/* The name of a functionCall / functionResponse object fn, or -1 with
 * "<what> needs a name". */
static int gemini_fn_name(struct gemini_dec *c, int fn, const char *what)
{
	int name = json_get(c->r.j, fn, "name");

	if (!hub_tok_is(c->r.j, name, JSMN_STRING))
		return hub_rq_fail(&c->r, "%s needs a name", what);
	return name;
}

static int gemini_dec_call(struct gemini_dec *c, int fc, int sig)
{
	const struct json *j = c->r.j;
	int name = gemini_fn_name(c, fc, "functionCall");
	int args = json_get(j, fc, "args");
	struct hub_span id = hub_tok_string(j, json_get(j, fc, "id"));
	struct hub_part *p;

	if (name < 0 || !(p = hub_rq_part(&c->r, HUB_P_TOOL_CALL)))
		return -1;
	p->name = hub_tok_span(j, name);
	p->args = hub_tok_is(j, args, JSMN_OBJECT) ? hub_tok_raw(j, args)
						   : HUB_LIT("{}");
	p->id = id.n ? id : gemini_gen_call_id(c, p->name);
	p->signature = hub_tok_string(j, sig);
	return 0;
}

/* Is the call at part index i answered by a later TOOL_RESULT? */
static int gemini_answered(const struct hub_view *v, size_t i)
{
	size_t k;
	for (k = i + 1; k < v->nparts; k++)
		if (v->parts[k].type == HUB_P_TOOL_RESULT &&
		    hub_span_same(v->parts[k].id, v->parts[i].id))
			return 1;
	return 0;
}

/* Id for a functionResponse without one: the first unanswered call of
 * that name in the nearest model turn that has one, else a new id. */
static struct hub_span gemini_match_call(struct gemini_dec *c,
					 struct hub_span name)
{
	const struct hub_view *v = c->r.v;
	size_t m = v->nmsgs, i;

	while (m-- > 0) {
		const struct hub_msg *g = &v->msgs[m];
		if (g->role != HUB_ASSISTANT)
			continue;
		for (i = g->first; i < g->first + g->n; i++) {
			const struct hub_part *p = &v->parts[i];
			if (p->type == HUB_P_TOOL_CALL &&
			    hub_span_same(p->name, name) &&
			    !gemini_answered(v, i))
				return p->id;
		}
	}
	return gemini_gen_call_id(c, name);
}

static int gemini_dec_result(struct gemini_dec *c, int fr)
{
	const struct json *j = c->r.j;
	int name = gemini_fn_name(c, fr, "functionResponse");
	int resp = json_get(j, fr, "response");
	struct hub_span id = hub_tok_string(j, json_get(j, fr, "id"));
	struct hub_part *p;

	if (name < 0)
		return -1;
	if (!id.n)
		id = gemini_match_call(c, hub_tok_span(j, name));
	if (!(p = hub_rq_part(&c->r, HUB_P_TOOL_RESULT)))
		return -1;
	p->name = hub_tok_span(j, name);
	p->id = id;
	p->result = resp >= 0 ? hub_tok_raw(j, resp) : HUB_LIT("{}");
	return 0;
}

static int gemini_dec_part(struct gemini_dec *c, int pt)
{
	const struct json *j = c->r.j;
	int sig, t, thought;
	struct hub_part *p;

	if (!hub_tok_is(j, pt, JSMN_OBJECT))
		return hub_rq_fail(&c->r, "each part must be an object");
	sig = hub_tok_member(j, pt, "thoughtSignature", "thought_signature");
	thought = hub_tok_true(j, json_get(j, pt, "thought"));
	if ((t = json_get(j, pt, "text")) >= 0) {
		if (!hub_tok_is(j, t, JSMN_STRING))
			return hub_rq_fail(&c->r, "part.text must be a string");
		p = hub_rq_part(&c->r, thought ? HUB_P_THINKING : HUB_P_TEXT);
		if (!p)
			return -1;
		p->text = hub_tok_span(j, t);
		p->signature = hub_tok_string(j, sig);
		return 0;
	}
	if ((t = hub_tok_member(j, pt, "inlineData", "inline_data")) >= 0)
		return gemini_dec_media(c, t, 0);
	if ((t = hub_tok_member(j, pt, "fileData", "file_data")) >= 0)
		return gemini_dec_media(c, t, 1);
	if ((t = hub_tok_member(j, pt, "functionCall", "function_call")) >= 0)
		return gemini_dec_call(c, t, sig);
	t = hub_tok_member(j, pt, "functionResponse", "function_response");
	if (t >= 0)
		return gemini_dec_result(c, t);
	if (hub_tok_is(j, sig, JSMN_STRING)) {
		/* A bare signature part: keep it as signed empty thinking. */
		if (!(p = hub_rq_part(&c->r, HUB_P_THINKING)))
			return -1;
		p->text.p = json_ptr(j, sig);
		p->signature = hub_tok_span(j, sig);
	}
	return 0; /* other part kinds (executableCode...) are ignored */
}

static int gemini_dec_content(struct gemini_dec *c, int ct)
{
	const struct json *j = c->r.j;
	int parts, e, i, role;
	size_t mi;

	if (!hub_tok_is(j, ct, JSMN_OBJECT))
		return hub_rq_fail(&c->r, "each contents[] entry must be an "
				   "object");
	role = json_get(j, ct, "role");
	parts = json_get(j, ct, "parts");
	if (!hub_tok_is(j, parts, JSMN_ARRAY))
		return hub_rq_fail(&c->r, "contents[].parts must be an array");
	if (!hub_add_msg(c->r.v, json_str_eq(j, role, "model") ? HUB_ASSISTANT
							       : HUB_USER))
		return hub_rq_fail(&c->r, "out of memory");
	mi = c->r.v->nmsgs - 1;
	for (i = 0, e = parts + 1; i < j->tok[parts].size;
	     i++, e = json_skip(j, e)) {
		if (gemini_dec_part(c, e) < 0)
			return -1;
		/* kept current: gemini_match_call reads this message too */
		c->r.v->msgs[mi].n = c->r.v->nparts - c->r.v->msgs[mi].first;
	}
	return 0;
}

static int gemini_dec_contents(struct gemini_dec *c, int root)
{
	const struct json *j = c->r.j;
	int cs = json_get(j, root, "contents"), e, i;

	if (cs < 0)
		return hub_rq_fail(&c->r, "contents is required");
	if (!hub_tok_is(j, cs, JSMN_ARRAY))
		return hub_rq_fail(&c->r, "contents must be an array");
	for (i = 0, e = cs + 1; i < j->tok[cs].size; i++, e = json_skip(j, e))
		if (gemini_dec_content(c, e) < 0)
			return -1;
	return 0;
}

static int gemini_dec_decls(struct gemini_dec *c, int fds)
{
	const struct json *j = c->r.j;
	int e, i;

	if (!hub_tok_is(j, fds, JSMN_ARRAY))
		return hub_rq_fail(&c->r, "functionDeclarations must be an "
				   "array");
	for (i = 0, e = fds + 1; i < j->tok[fds].size;
	     i++, e = json_skip(j, e)) {
		int name = json_get(j, e, "name");
		int sch = json_get(j, e, "parameters");

		if (!hub_tok_is(j, name, JSMN_STRING))
			return hub_rq_fail(&c->r, "functionDeclarations[] "
					   "needs a name");
		if (!hub_tok_is(j, sch, JSMN_OBJECT))
			sch = hub_tok_member(j, e, "parametersJsonSchema",
					     "parameters_json_schema");
		if (!hub_rq_tool(&c->r, hub_tok_span(j, name),
				 hub_tok_str(j, e, "description"), sch))
			return -1;
	}
	return 0;
}

static int gemini_dec_tools(struct gemini_dec *c, int root)
{
	const struct json *j = c->r.j;
	int tools = json_get(j, root, "tools"), e, i;

	if (tools < 0)
		return 0;
	if (!hub_tok_is(j, tools, JSMN_ARRAY))
		return hub_rq_fail(&c->r, "tools must be an array");
	for (i = 0, e = tools + 1; i < j->tok[tools].size;
	     i++, e = json_skip(j, e)) {
		int fds;
		if (!hub_tok_is(j, e, JSMN_OBJECT))
			return hub_rq_fail(&c->r, "each tools[] entry must be "
					   "an object");
		fds = hub_tok_member(j, e, "functionDeclarations",
				 "function_declarations");
		if (fds >= 0 && gemini_dec_decls(c, fds) < 0)
			return -1;
		/* googleSearch, codeExecution...: no view form (skipped) */
	}
	return 0;
}

static void gemini_dec_tool_config(struct gemini_dec *c, int root)
{
	const struct json *j = c->r.j;
	struct hub_view *v = c->r.v;
	int tc = hub_tok_member(j, root, "toolConfig", "tool_config");
	int fcc = hub_tok_member(j, tc, "functionCallingConfig",
			     "function_calling_config");
	int names = hub_tok_member(j, fcc, "allowedFunctionNames",
			       "allowed_function_names");
	struct hub_span mode = hub_tok_string(j, json_get(j, fcc, "mode"));

	if (gemini_ieq(mode, "auto") || gemini_ieq(mode, "validated"))
		v->tool_choice = HUB_TC_AUTO;
	else if (gemini_ieq(mode, "none"))
		v->tool_choice = HUB_TC_NONE;
	else if (gemini_ieq(mode, "any"))
		v->tool_choice = HUB_TC_ANY;
	/* Exactly one allowed name forces that tool; several stay "any". */
	if (v->tool_choice == HUB_TC_ANY && hub_tok_is(j, names, JSMN_ARRAY) &&
	    j->tok[names].size == 1 && hub_tok_is(j, names + 1, JSMN_STRING)) {
		v->tool_choice = HUB_TC_TOOL;
		v->tool_choice_name = hub_tok_span(j, names + 1);
	}
}

static int gemini_dec_thinking(struct gemini_dec *c, int tc)
{
	const struct json *j = c->r.j;
	struct hub_view *v = c->r.v;
	int t;
	long n;
	struct hub_span lvl;

	if (!hub_tok_is(j, tc, JSMN_OBJECT))
		return 0;
	t = hub_tok_member(j, tc, "thinkingBudget", "thinking_budget");
	switch (hub_tok_int(j, t, -1, HUB_TOKENS_MAX, &n)) {
	case HUB_INT_OK:
		v->thinking_budget = n;
		v->thinking = n != 0;
		break;
	case HUB_INT_BAD:
		return hub_rq_fail(&c->r, "thinkingBudget must be a whole "
				   "number from -1 to 2147483647");
	}
	t = hub_tok_member(j, tc, "includeThoughts", "include_thoughts");
	if (hub_tok_bool(j, t))
		v->include_thoughts = hub_tok_true(j, t);
	t = hub_tok_member(j, tc, "thinkingLevel", "thinking_level");
	lvl = hub_tok_string(j, t);
	if (lvl.p) {
		v->effort = gemini_ieq(lvl, "minimal")	? HUB_EFFORT_MINIMAL
			    : gemini_ieq(lvl, "low")	? HUB_EFFORT_LOW
			    : gemini_ieq(lvl, "medium") ? HUB_EFFORT_MEDIUM
			    : gemini_ieq(lvl, "high")	? HUB_EFFORT_HIGH
							: HUB_EFFORT_AUTO;
		v->thinking = 1;
	}
	return 0;
}

static int gemini_dec_gen_config(struct gemini_dec *c, int root)
{
	const struct json *j = c->r.j;
	struct hub_view *v = c->r.v;
	int gc = hub_tok_member(j, root, "generationConfig", "generation_config");
	int t;

	if (!hub_tok_is(j, gc, JSMN_OBJECT))
		return 0;
	t = hub_tok_member(j, gc, "maxOutputTokens", "max_output_tokens");
	if (hub_tok_int(j, t, 0, HUB_TOKENS_MAX, &v->max_tokens) ==
	    HUB_INT_BAD)
		return hub_rq_fail(&c->r, "maxOutputTokens must be a whole "
				   "number from 0 to 2147483647");
	v->temperature = hub_tok_num(j, gc, "temperature");
	t = hub_tok_member(j, gc, "topP", "top_p");
	if (hub_tok_number(j, t))
		v->top_p = hub_tok_raw(j, t);
	t = hub_tok_member(j, gc, "topK", "top_k");
	if (hub_tok_number(j, t))
		v->top_k = hub_tok_raw(j, t);
	t = hub_tok_member(j, gc, "stopSequences", "stop_sequences");
	if (hub_tok_is(j, t, JSMN_ARRAY))
		hub_rq_stops(&c->r, t);
	if (gemini_dec_thinking(
		    c, hub_tok_member(j, gc, "thinkingConfig", "thinking_config")) < 0)
		return -1;
	/* JSON mode maps to OpenAI's json_object (a schema has no view form
	 * the other formats could use without copying). */
	if (gemini_ieq(hub_tok_string(j, hub_tok_member(j, gc, "responseMimeType",
						    "response_mime_type")),
		       "application/json")) {
		v->response_format = HUB_LIT(HUB_JSON_MODE);
	}
	return 0;
}

int hub_gemini_decode_request(const struct json *j, struct hub_view *v,
			      char *err, size_t errlen)
{
	struct gemini_dec c;
	int root = 0, req;

	c.r.j = j;
	c.r.v = v;
	c.r.err = err;
	c.r.errlen = errlen;
	c.ngen = 0;
	if (!hub_tok_is(j, 0, JSMN_OBJECT))
		return hub_rq_fail(&c.r, "request body must be a JSON object");
	req = json_get(j, 0, "request");
	if (hub_tok_is(j, req, JSMN_OBJECT)) {
		/* Code Assist envelope: the model is in the body here. */
		v->model = hub_tok_string(j, json_get(j, 0, "model"));
		root = req;
	}
	if (gemini_dec_system(&c, root) < 0 ||
	    gemini_dec_contents(&c, root) < 0 || gemini_dec_tools(&c, root) < 0)
		return -1;
	gemini_dec_tool_config(&c, root);
	return gemini_dec_gen_config(&c, root);
}

/* ==== encode_event: events -> Gemini client ============================ */

static const char *gemini_finish_name(enum hub_finish f)
{
	switch (f) {
	case HUB_FIN_LENGTH:
		return "MAX_TOKENS";
	case HUB_FIN_FILTER:
		return "SAFETY";
	case HUB_FIN_ERROR:
		return "OTHER";
	default:
		return "STOP";
	}
}

static int gemini_usage_known(const struct hub_usage *u)
{
	return u->input >= 0 || u->output >= 0;
}

/* `"usageMetadata":{...}`, preceded by sep when not NULL. */
static void gemini_put_usage(struct buf *b, const struct hub_usage *u,
			     const char *sep)
{
	long cand = u->output, tot;
	int first = 1;

	if (!gemini_usage_known(u))
		return;
	if (cand >= 0 && u->thoughts > 0 && cand >= u->thoughts)
		cand -= u->thoughts;
	tot = (u->input > 0 ? u->input : 0) + (u->output > 0 ? u->output : 0);
	if (sep)
		buf_puts(b, sep);
	buf_puts(b, "\"usageMetadata\":{");
	if (u->input >= 0) {
		hub_put_key(b, &first, "promptTokenCount");
		buf_printf(b, "%ld", u->input);
	}
	if (cand >= 0) {
		hub_put_key(b, &first, "candidatesTokenCount");
		buf_printf(b, "%ld", cand);
	}
	hub_put_key(b, &first, "totalTokenCount");
	buf_printf(b, "%ld", tot);
	if (u->thoughts > 0)
		buf_printf(b, ",\"thoughtsTokenCount\":%ld", u->thoughts);
	if (u->cached > 0)
		buf_printf(b, ",\"cachedContentTokenCount\":%ld", u->cached);
	buf_putc(b, '}');
}

/* `,"modelVersion":..,"responseId":..}` and the envelope's close. */
static void gemini_put_tail(struct hub_enc *e, struct buf *b)
{
	buf_puts(b, ",\"modelVersion\":");
	buf_json_cstr(b, e->model);
	buf_puts(b, ",\"responseId\":");
	buf_json_cstr(b, e->id);
	buf_puts(b, e->o.gemini_cli ? "}}" : "}");
}

static void gemini_put_head(struct hub_enc *e, struct buf *b)
{
	buf_puts(b, e->o.gemini_cli ? "{\"response\":{" : "{");
}

/* Begin one part: in a stream, a chunk of its own; otherwise the next
 * element of the parts array.  Returns where to write. */
static struct buf *gemini_part_begin(struct hub_enc *e, struct buf *out)
{
	struct buf *parts = &e->u.gemini.parts;

	if (e->o.stream) {
		buf_puts(out, "data: ");
		gemini_put_head(e, out);
		buf_puts(out, "\"candidates\":[{\"content\":"
			      "{\"role\":\"model\",\"parts\":[");
		return out;
	}
	if (parts->len)
		buf_putc(parts, ',');
	return parts;
}

static void gemini_part_end(struct hub_enc *e, struct buf *out)
{
	if (!e->o.stream)
		return;
	buf_puts(out, "]},\"index\":0}]");
	gemini_put_tail(e, out);
	buf_puts(out, "\n\n");
}

/* Non-stream: close the text part open in parts, with a signature when
 * one is given. */
static void gemini_close_text(struct hub_enc *e, struct hub_span sig)
{
	struct hub_gemini_enc *g = &e->u.gemini;
	struct buf *b = &g->parts;

	if (e->o.stream || !g->text_kind)
		return;
	buf_putc(b, '"');
	if (g->text_kind == 2)
		buf_puts(b, ",\"thought\":true");
	if (sig.p) {
		buf_puts(b, ",\"thoughtSignature\":");
		hub_put_str(b, sig);
	} else if (g->sig == 2) {
		/* the signature of the thoughts before this answer part */
		buf_putc(b, ',');
		buf_put(b, g->held.p, g->held.len);
		buf_reset(&g->held);
		g->sig = 0;
	}
	buf_putc(b, '}');
	g->text_kind = 0;
}

/* A held signature no tool call took: its own empty-text part. */
static void gemini_flush_sig(struct hub_enc *e, struct buf *out)
{
	struct hub_gemini_enc *g = &e->u.gemini;
	struct buf *b;

	if (g->sig != 1)
		return;
	b = gemini_part_begin(e, out);
	buf_puts(b, g->text_kind == 2 ? "{\"text\":\"\",\"thought\":true,"
				      : "{\"text\":\"\",");
	buf_put(b, g->held.p, g->held.len);
	buf_putc(b, '}');
	gemini_part_end(e, out);
	buf_reset(&g->held);
	g->sig = 0;
}

static void gemini_tool_end(struct hub_enc *e, struct buf *out)
{
	struct hub_gemini_enc *g = &e->u.gemini;
	struct buf *b;

	if (!g->call_open)
		return;
	b = gemini_part_begin(e, out);
	buf_putc(b, '{');
	buf_put(b, g->held.p, g->held.len);
	hub_put_str_as_json(b, hub_span_of(g->args.p, g->args.len));
	buf_puts(b, "}}");
	gemini_part_end(e, out);
	buf_reset(&g->args);
	buf_reset(&g->held);
	g->call_open = 0;
	g->calls++;
}

/* Close whatever is open before a different kind of output. */
static void gemini_flush(struct hub_enc *e, struct buf *out)
{
	gemini_tool_end(e, out);
	gemini_close_text(e, hub_span_of(NULL, 0));
	gemini_flush_sig(e, out);
}

static void gemini_tool_start(struct hub_enc *e, const struct hub_event *ev,
			      struct buf *out)
{
	struct hub_gemini_enc *g = &e->u.gemini;
	struct buf *h = &g->held;

	gemini_tool_end(e, out);
	gemini_close_text(e, hub_span_of(NULL, 0));
	if (g->sig)
		buf_putc(h, ','); /* the held signature goes on this call */
	else
		buf_reset(h);
	g->sig = 0;
	buf_puts(h, "\"functionCall\":{\"name\":");
	hub_put_str(h, ev->name);
	if (ev->id.n) {
		buf_puts(h, ",\"id\":");
		hub_put_str(h, ev->id);
	}
	buf_puts(h, ",\"args\":");
	buf_reset(&g->args);
	g->call_open = 1;
}

static void gemini_text(struct hub_enc *e, const struct hub_event *ev,
			struct buf *out)
{
	struct hub_gemini_enc *g = &e->u.gemini;
	int kind = ev->type == HUB_EV_THINKING ? 2 : 1;
	struct buf *b;

	if (!ev->text.n)
		return;
	gemini_tool_end(e, out);
	if (kind == 2)
		gemini_flush_sig(e, out); /* a signature goes on answer parts */
	if (e->o.stream) {
		b = gemini_part_begin(e, out);
		buf_puts(b, "{\"text\":");
		hub_put_str(b, ev->text);
		if (kind == 2)
			buf_puts(b, ",\"thought\":true");
		if (kind == 1 && g->sig) {
			/* the pending signature rides on the first answer
			 * part, where Gemini itself puts it */
			buf_putc(b, ',');
			buf_put(b, g->held.p, g->held.len);
			buf_reset(&g->held);
			g->sig = 0;
		}
		buf_putc(b, '}');
		gemini_part_end(e, out);
	} else {
		if (g->text_kind != kind) {
			gemini_close_text(e, hub_span_of(NULL, 0));
			b = gemini_part_begin(e, out);
			buf_puts(b, "{\"text\":\"");
			if (kind == 1 && g->sig == 1)
				g->sig = 2; /* written at close */
		}
		buf_put(&g->parts, ev->text.p, ev->text.n);
	}
	g->text_kind = kind;
}

static void gemini_sig(struct hub_enc *e, const struct hub_event *ev,
		       struct buf *out)
{
	struct hub_gemini_enc *g = &e->u.gemini;

	gemini_tool_end(e, out);
	if (!e->o.stream && g->text_kind == 2) {
		/* a thought part carrying its own signature */
		gemini_close_text(e, ev->text);
		return;
	}
	if (!e->o.stream && g->text_kind == 1) /* the signature starts a part */
		gemini_close_text(e, hub_span_of(NULL, 0));
	gemini_flush_sig(e, out);
	buf_reset(&g->held);
	buf_puts(&g->held, "\"thoughtSignature\":");
	hub_put_str(&g->held, ev->text);
	g->sig = 1;
}

static enum hub_finish gemini_enc_finish(const struct hub_enc *e)
{
	if (e->have_finish)
		return e->finish;
	return e->u.gemini.calls ? HUB_FIN_TOOL : HUB_FIN_STOP;
}

/* Stream: the chunk with finishReason and the usage known so far. */
static void gemini_final_chunk(struct hub_enc *e, struct buf *out)
{
	buf_puts(out, "data: ");
	gemini_put_head(e, out);
	buf_puts(out, "\"candidates\":[{\"finishReason\":\"");
	buf_puts(out, gemini_finish_name(gemini_enc_finish(e)));
	buf_puts(out, "\",\"index\":0}]");
	gemini_put_usage(out, &e->usage, ",");
	gemini_put_tail(e, out);
	buf_puts(out, "\n\n");
	e->u.gemini.final_sent = 1;
}

/* Stream: usage that came after the final chunk, as a chunk of its own
 * (none when no count is known: the chunk would be empty). */
static void gemini_usage_chunk(struct hub_enc *e, struct buf *out)
{
	if (!gemini_usage_known(&e->usage))
		return;
	buf_puts(out, "data: ");
	gemini_put_head(e, out);
	gemini_put_usage(out, &e->usage, NULL);
	gemini_put_tail(e, out);
	buf_puts(out, "\n\n");
}

static void gemini_put_error(struct buf *b, int status, struct hub_span msg,
			     const char *plain)
{
	apierr_begin(b, HUB_GEMINI, status);
	if (plain)
		buf_json_cstr(b, plain);
	else
		hub_put_str(b, msg);
	apierr_end(b, HUB_GEMINI, status);
}

static void gemini_error(struct hub_enc *e, const struct hub_event *ev,
			 struct buf *out)
{
	struct hub_gemini_enc *g = &e->u.gemini;
	int status = ev->status > 0 ? ev->status : 502;

	if (g->err_status)
		return; /* one error per answer */
	g->err_status = status;
	if (e->o.stream) {
		buf_puts(out, "data: ");
		gemini_put_error(out, status, ev->text, NULL);
		buf_puts(out, "\n\n");
		return;
	}
	buf_reset(&g->err);
	gemini_put_error(&g->err, status, ev->text, NULL);
}

static void gemini_done(struct hub_enc *e, struct buf *out)
{
	struct hub_gemini_enc *g = &e->u.gemini;

	if (g->err_status) {
		if (!e->o.stream)
			buf_put(out, g->err.p, g->err.len);
		return;
	}
	gemini_flush(e, out);
	if (e->o.stream) {
		if (!g->final_sent)
			gemini_final_chunk(e, out);
		return;
	}
	gemini_put_head(e, out);
	buf_puts(out, "\"candidates\":[{\"content\":{\"role\":\"model\","
		      "\"parts\":[");
	buf_put(out, g->parts.p, g->parts.len);
	buf_puts(out, "]},\"finishReason\":\"");
	buf_puts(out, gemini_finish_name(gemini_enc_finish(e)));
	buf_puts(out, "\",\"index\":0}]");
	gemini_put_usage(out, &e->usage, ",");
	gemini_put_tail(e, out);
}

void hub_gemini_encode_event(struct hub_enc *e, const struct hub_event *ev,
			     struct buf *out)
{
	struct hub_gemini_enc *g = &e->u.gemini;

	hub_enc_first(e, ev, &g->started, "");
	if (g->err_status && ev->type != HUB_EV_DONE)
		return; /* after an error only the close remains */
	switch (ev->type) {
	case HUB_EV_START:
		break;
	case HUB_EV_TEXT:
	case HUB_EV_THINKING:
		gemini_text(e, ev, out);
		break;
	case HUB_EV_THINKING_SIG:
		gemini_sig(e, ev, out);
		break;
	case HUB_EV_TOOL_START:
		gemini_tool_start(e, ev, out);
		break;
	case HUB_EV_TOOL_ARGS:
		if (g->call_open)
			buf_put(&g->args, ev->text.p, ev->text.n);
		break;
	case HUB_EV_TOOL_END:
		gemini_tool_end(e, out);
		break;
	case HUB_EV_USAGE:
		hub_usage_merge(&e->usage, &ev->usage);
		if (e->o.stream && g->final_sent)
			gemini_usage_chunk(e, out);
		else if (e->o.stream && e->have_finish)
			gemini_final_chunk(e, out);
		break;
	case HUB_EV_FINISH:
		e->finish = ev->finish;
		e->have_finish = 1;
		gemini_flush(e, out);
		/* without usage yet, the finish waits for it (or DONE) */
		if (e->o.stream && !g->final_sent &&
		    gemini_usage_known(&e->usage))
			gemini_final_chunk(e, out);
		break;
	case HUB_EV_ERROR:
		gemini_error(e, ev, out);
		break;
	case HUB_EV_DONE:
		gemini_done(e, out);
		break;
	}
}

void hub_gemini_render_error(struct buf *out, int status, const char *msg)
{
	struct hub_span none = {NULL, 0};
	gemini_put_error(out, status, none, msg ? msg : "");
}
