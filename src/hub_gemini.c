/*
 * hub_gemini.c - the Gemini generateContent codec of the translation hub
 * (see hub.h for the view, the event vocabulary and the span kinds).
 *
 * Both Google front doors are served here: the Generative Language API
 * (bare GenerateContentRequest / GenerateContentResponse) and the Cloud
 * Code Assist API used by Gemini CLI, which wraps the same objects as
 * {"model","project","request":{...}} and {"response":{...}}.  Decoders
 * accept both shapes always; encoders wrap when o->gemini_cli says so.
 *
 * REQUESTS.  contents[] map one to one onto view messages (role "model"
 * is the assistant, anything else the user).  Gemini has no tool-call
 * ids, so a functionCall without "id" gets one generated from its
 * position ("gcall_<n>"), and a functionResponse without "id" takes the
 * id of the first unanswered call of the same name in the nearest earlier
 * model turn.  Generated ids live in the view's string arena
 * (hub_view_str), freed with the view.
 *
 * Encoding a request merges consecutive parts of the same role into one
 * content (Gemini wants user/model alternation), writes tool results as
 * functionResponse parts of a "user" content, gives every functionCall a
 * thoughtSignature (its own, one borrowed from the thinking part right
 * before it, or the documented skip marker), and drops thinking that
 * Gemini cannot verify (unsigned, redacted, or not from a Gemini client).
 * When the client itself spoke Gemini (v->json holds "contents"), what
 * the view cannot carry is copied from its body: generationConfig keys
 * such as responseJsonSchema, safetySettings and built-in tools.  Values
 * beyond Gemini's limits are clamped (maxOutputTokens, thinkingBudget,
 * five stop sequences).
 *
 * STREAM DECODING.  Each SSE data payload is one GenerateContentResponse.
 * Parts become TEXT / THINKING (+ THINKING_SIG after them) and whole tool
 * calls (THINKING_SIG for the call's signature, then TOOL_START, one
 * TOOL_ARGS with the args object escaped into d->scratch, TOOL_END).
 * Usage arrives in most chunks; it is stored and emitted with the finish
 * (or at once for a usage-only chunk, or after the finish); input counts
 * cached tokens and output counts thoughts, as in OpenAI's usage.
 * d->done is set after an error so the rest of a broken stream is
 * ignored.
 *
 * CLIENT ENCODING.  Gemini clients need a tool call's arguments whole, so
 * TOOL_ARGS accumulate and one functionCall part is written at TOOL_END.
 * A signature is held (as the JSON fragment "thoughtSignature":"...")
 * until the next event: a following tool call carries it, anything else
 * flushes it as its own empty-text part.  The stream's last chunk
 * (finishReason + usageMetadata) goes out at FINISH when usage is known,
 * else at the next USAGE or at DONE; a USAGE after it gets a usage-only
 * chunk.  A non-stream answer builds its parts array (all kinds, in
 * order) in u.gemini.parts.  State: struct hub_gemini_enc (hub.h).
 */
#include "hub_tok.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEMINI_SKIP_SIG "skip_thought_signature_validator"
#define GEMINI_JSON_OBJECT "{\"type\":\"json_object\"}"
/* Gemini limits the view may exceed. */
#define GEMINI_MAX_STOP 5
#define GEMINI_MAX_OUTPUT 65536L
#define GEMINI_MAX_BUDGET_PRO 32768L
#define GEMINI_MAX_BUDGET 24576L

static const char gemini_empty_obj[] = "{}";

/* ---- small JSON helpers ------------------------------------------------ */

/* Value of key (camelCase) or of its snake_case spelling; protobuf JSON
 * accepts both and clients use both. */
static int gemini_get(const struct json *j, int obj, const char *camel,
		      const char *snake)
{
	int t = json_get(j, obj, camel);
	if (t < 0 && snake)
		t = json_get(j, obj, snake);
	return t;
}

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

/* Does str span s start with lit, reading JSON's "\/" as "/"? */
static int gemini_prefix(struct hub_span s, const char *lit)
{
	size_t i = 0;
	for (; *lit; lit++) {
		if (i + 1 < s.n && s.p[i] == '\\' && s.p[i + 1] == '/')
			i++;
		if (i >= s.n || tolower((unsigned char)s.p[i]) != *lit)
			return 0;
		i++;
	}
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
	int n = snprintf(id, sizeof(id), "gcall_%d", c->ngen++);
	struct hub_span s = hub_view_str(c->r.v, id, (size_t)n);

	return s.p ? s : fallback;
}

static int gemini_dec_system(struct gemini_dec *c, int root)
{
	const struct json *j = c->r.j;
	int si = gemini_get(j, root, "systemInstruction", "system_instruction");
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
			return hub_rq_fail(&c->r,
					   "systemInstruction must be an "
					   "object");
		parts = json_get(j, si, "parts");
		if (parts >= 0 && !hub_tok_is(j, parts, JSMN_ARRAY))
			return hub_rq_fail(&c->r,
					   "systemInstruction.parts must "
					   "be an array");
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

static int gemini_dec_inline(struct gemini_dec *c, int t)
{
	const struct json *j = c->r.j;
	struct hub_part *p;
	int data = json_get(j, t, "data");

	if (!hub_tok_is(j, t, JSMN_OBJECT) || !hub_tok_is(j, data, JSMN_STRING))
		return hub_rq_fail(&c->r, "inlineData needs a data string");
	if (!(p = hub_rq_part(&c->r, HUB_P_IMAGE)))
		return -1;
	p->mime = hub_tok_string(j, gemini_get(j, t, "mimeType", "mime_type"));
	p->data = hub_tok_span(j, data);
	return 0;
}

static int gemini_dec_file(struct gemini_dec *c, int t)
{
	const struct json *j = c->r.j;
	struct hub_part *p;
	int uri = gemini_get(j, t, "fileUri", "file_uri");

	if (!hub_tok_is(j, t, JSMN_OBJECT) || !hub_tok_is(j, uri, JSMN_STRING))
		return hub_rq_fail(&c->r, "fileData needs a fileUri string");
	if (!(p = hub_rq_part(&c->r, HUB_P_IMAGE)))
		return -1;
	p->mime = hub_tok_string(j, gemini_get(j, t, "mimeType", "mime_type"));
	p->url = hub_tok_span(j, uri);
	return 0;
}

static int gemini_dec_call(struct gemini_dec *c, int fc, int sig)
{
	const struct json *j = c->r.j;
	struct hub_part *p;
	int name = json_get(j, fc, "name"), args = json_get(j, fc, "args");
	struct hub_span id = hub_tok_string(j, json_get(j, fc, "id"));

	if (!hub_tok_is(j, fc, JSMN_OBJECT) ||
	    !hub_tok_is(j, name, JSMN_STRING))
		return hub_rq_fail(&c->r, "functionCall needs a name");
	if (!(p = hub_rq_part(&c->r, HUB_P_TOOL_CALL)))
		return -1;
	p->name = hub_tok_span(j, name);
	if (hub_tok_is(j, args, JSMN_OBJECT)) {
		p->args = hub_tok_raw(j, args);
	} else {
		p->args.p = gemini_empty_obj;
		p->args.n = 2;
	}
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
	struct hub_part *p;
	int name = json_get(j, fr, "name"), resp = json_get(j, fr, "response");
	struct hub_span id = hub_tok_string(j, json_get(j, fr, "id"));

	if (!hub_tok_is(j, fr, JSMN_OBJECT) ||
	    !hub_tok_is(j, name, JSMN_STRING))
		return hub_rq_fail(&c->r, "functionResponse needs a name");
	if (!id.n)
		id = gemini_match_call(c, hub_tok_span(j, name));
	if (!(p = hub_rq_part(&c->r, HUB_P_TOOL_RESULT)))
		return -1;
	p->name = hub_tok_span(j, name);
	p->id = id;
	if (resp >= 0) {
		p->result = hub_tok_raw(j, resp);
	} else {
		p->result.p = gemini_empty_obj;
		p->result.n = 2;
	}
	return 0;
}

static int gemini_dec_part(struct gemini_dec *c, int pt)
{
	const struct json *j = c->r.j;
	int sig, t, thought;
	struct hub_part *p;

	if (!hub_tok_is(j, pt, JSMN_OBJECT))
		return hub_rq_fail(&c->r, "each part must be an object");
	sig = gemini_get(j, pt, "thoughtSignature", "thought_signature");
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
	if ((t = gemini_get(j, pt, "inlineData", "inline_data")) >= 0)
		return gemini_dec_inline(c, t);
	if ((t = gemini_get(j, pt, "fileData", "file_data")) >= 0)
		return gemini_dec_file(c, t);
	if ((t = gemini_get(j, pt, "functionCall", "function_call")) >= 0)
		return gemini_dec_call(c, t, sig);
	t = gemini_get(j, pt, "functionResponse", "function_response");
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
		return hub_rq_fail(&c->r,
				   "functionDeclarations must be an array");
	for (i = 0, e = fds + 1; i < j->tok[fds].size;
	     i++, e = json_skip(j, e)) {
		int name = json_get(j, e, "name"), sch;
		struct hub_tool *t;
		if (!hub_tok_is(j, name, JSMN_STRING))
			return hub_rq_fail(&c->r,
					   "functionDeclarations[] needs "
					   "a name");
		if (!(t = hub_add_tool(c->r.v)))
			return hub_rq_fail(&c->r, "out of memory");
		t->name = hub_tok_span(j, name);
		t->description =
			hub_tok_string(j, json_get(j, e, "description"));
		sch = json_get(j, e, "parameters");
		if (!hub_tok_is(j, sch, JSMN_OBJECT))
			sch = gemini_get(j, e, "parametersJsonSchema",
					 "parameters_json_schema");
		if (hub_tok_is(j, sch, JSMN_OBJECT)) {
			t->schema = hub_tok_raw(j, sch);
			t->schema_tok = sch;
		}
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
		fds = gemini_get(j, e, "functionDeclarations",
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
	int tc = gemini_get(j, root, "toolConfig", "tool_config");
	int fcc = gemini_get(j, tc, "functionCallingConfig",
			     "function_calling_config");
	int names = gemini_get(j, fcc, "allowedFunctionNames",
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
	t = gemini_get(j, tc, "thinkingBudget", "thinking_budget");
	switch (hub_tok_int(j, t, -1, HUB_TOKENS_MAX, &n)) {
	case HUB_INT_OK:
		v->thinking_budget = n;
		v->thinking = n != 0;
		break;
	case HUB_INT_BAD:
		return hub_rq_fail(&c->r,
				   "thinkingBudget must be a whole number "
				   "from -1 to 2147483647");
	}
	t = gemini_get(j, tc, "includeThoughts", "include_thoughts");
	if (hub_tok_bool(j, t))
		v->include_thoughts = hub_tok_true(j, t);
	t = gemini_get(j, tc, "thinkingLevel", "thinking_level");
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
	int gc = gemini_get(j, root, "generationConfig", "generation_config");
	int t, e, i;

	if (!hub_tok_is(j, gc, JSMN_OBJECT))
		return 0;
	t = gemini_get(j, gc, "maxOutputTokens", "max_output_tokens");
	if (hub_tok_int(j, t, 0, HUB_TOKENS_MAX, &v->max_tokens) ==
	    HUB_INT_BAD)
		return hub_rq_fail(&c->r,
				   "maxOutputTokens must be a whole number "
				   "from 0 to 2147483647");
	if (hub_tok_number(j, t = json_get(j, gc, "temperature")))
		v->temperature = hub_tok_raw(j, t);
	t = gemini_get(j, gc, "topP", "top_p");
	if (hub_tok_number(j, t))
		v->top_p = hub_tok_raw(j, t);
	t = gemini_get(j, gc, "topK", "top_k");
	if (hub_tok_number(j, t))
		v->top_k = hub_tok_raw(j, t);
	t = gemini_get(j, gc, "stopSequences", "stop_sequences");
	for (i = 0, e = t + 1;
	     hub_tok_is(j, t, JSMN_ARRAY) && i < j->tok[t].size;
	     i++, e = json_skip(j, e))
		if (hub_tok_is(j, e, JSMN_STRING) && v->nstop < 8)
			v->stop[v->nstop++] = hub_tok_span(j, e);
	if (gemini_dec_thinking(
		    c, gemini_get(j, gc, "thinkingConfig", "thinking_config")) < 0)
		return -1;
	/* JSON mode maps to OpenAI's json_object (a schema has no view form
	 * the other formats could use without copying). */
	if (gemini_ieq(hub_tok_string(j, gemini_get(j, gc, "responseMimeType",
						    "response_mime_type")),
		       "application/json")) {
		v->response_format.p = GEMINI_JSON_OBJECT;
		v->response_format.n = sizeof(GEMINI_JSON_OBJECT) - 1;
	}
	return 0;
}

static int gemini_decode_request(const struct json *j, struct hub_view *v,
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

/* ==== encode_request: view -> Gemini upstream body ===================== */

struct gemini_enc_req {
	const struct hub_view *v;
	const struct hub_req_opts *o;
	struct buf *out;
	char *err;
	size_t errlen;
	int client_root;  /* the Gemini request object of the client
			     body, -1 when the client spoke another format */
	const char *role; /* role of the open content, NULL none */
	int nparts;       /* parts written in the open content */
	int ncontents;
};

/* The GenerateContentRequest object of a Gemini client body, or -1. */
static int gemini_client_root(const struct json *j)
{
	int req;
	if (!j || !hub_tok_is(j, 0, JSMN_OBJECT))
		return -1;
	req = json_get(j, 0, "request");
	if (hub_tok_is(j, req, JSMN_OBJECT) &&
	    json_get(j, req, "contents") >= 0)
		return req;
	return json_get(j, 0, "contents") >= 0 ? 0 : -1;
}

/* Start a part in a content of the given role (merging same roles). */
static void gemini_part_open(struct gemini_enc_req *c, const char *role)
{
	struct buf *b = c->out;
	if (c->role && strcmp(c->role, role) == 0) {
		buf_putc(b, ',');
		c->nparts++;
		return;
	}
	if (c->role)
		buf_puts(b, "]}");
	if (c->ncontents++)
		buf_putc(b, ',');
	buf_puts(b, "{\"role\":\"");
	buf_puts(b, role);
	buf_puts(b, "\",\"parts\":[");
	c->role = role;
	c->nparts = 1;
}

static const char *gemini_role(const struct hub_msg *m)
{
	return m->role == HUB_ASSISTANT ? "model" : "user";
}

/* A thinking signature in a Claude or Gemini history may be one Gemini
 * gave us (passed to a Claude client on a thinking block); an OpenAI
 * Responses encrypted_content never is. */
static int gemini_sig_may_be_ours(const struct hub_view *v)
{
	return v->client_fmt < 0 || v->client_fmt == HUB_CLAUDE ||
	       v->client_fmt == HUB_GEMINI;
}

/* Signature for the call at index i: its own, or that of a signed
 * thinking part right before it in the same message. */
static struct hub_span gemini_call_sig(const struct hub_view *v,
				       const struct hub_msg *m, size_t i)
{
	const struct hub_part *p = &v->parts[i], *q;
	if (p->signature.n || i == m->first)
		return p->signature;
	q = p - 1;
	if (q->type == HUB_P_THINKING && !q->redacted && q->signature.n &&
	    gemini_sig_may_be_ours(v))
		return q->signature;
	return p->signature;
}

static void gemini_put_call(struct gemini_enc_req *c, const struct hub_msg *m,
			    size_t i)
{
	const struct hub_part *p = &c->v->parts[i];
	struct hub_span sig = gemini_call_sig(c->v, m, i);
	struct buf *b = c->out;

	gemini_part_open(c, "model");
	buf_puts(b, "{\"functionCall\":{\"name\":");
	hub_put_str(b, p->name);
	buf_puts(b, ",\"args\":");
	hub_put_args_object(b, p->args, p->args_is_str);
	buf_puts(b, "},\"thoughtSignature\":");
	if (sig.n)
		hub_put_str(b, sig);
	else
		buf_puts(b, "\"" GEMINI_SKIP_SIG "\"");
	buf_putc(b, '}');
}

/* Name of the call with this id earlier in the view, else the id without
 * its last "-suffix" (ids we generate for Gemini are <name>-<suffix>). */
static struct hub_span gemini_result_name(const struct hub_view *v, size_t i)
{
	const struct hub_part *r = &v->parts[i];
	struct hub_span s = r->id;
	size_t k;

	if (r->name.n)
		return r->name;
	for (k = i; k-- > 0;)
		if (v->parts[k].type == HUB_P_TOOL_CALL &&
		    hub_span_same(v->parts[k].id, r->id))
			return v->parts[k].name;
	for (k = s.n; k > 0; k--)
		if (s.p[k - 1] == '-') {
			s.n = k - 1;
			break;
		}
	return s;
}

static void gemini_put_result(struct gemini_enc_req *c, size_t i)
{
	const struct hub_part *p = &c->v->parts[i];
	struct buf *b = c->out;

	gemini_part_open(c, "user");
	buf_puts(b, "{\"functionResponse\":{\"name\":");
	hub_put_str(b, gemini_result_name(c->v, i));
	buf_puts(b, ",\"response\":");
	if (!p->result_is_str && !p->result_error && p->result.n &&
	    p->result.p[0] == '{') {
		/* already a response object (a Gemini client's) */
		buf_put(b, p->result.p, p->result.n);
	} else {
		buf_puts(b, p->result_error ? "{\"error\":" : "{\"result\":");
		if (p->result_is_str || !p->result.p)
			hub_put_str(b, p->result);
		else
			buf_put(b, p->result.p, p->result.n);
		buf_putc(b, '}');
	}
	buf_puts(b, "}}");
}

/* MIME type of base64 image data from its first bytes. */
static const char *gemini_sniff_mime(struct hub_span d)
{
	if (gemini_prefix(d, "/9j/"))
		return "image/jpeg";
	if (gemini_prefix(d, "r0lg"))
		return "image/gif";
	if (gemini_prefix(d, "uklgr"))
		return "image/webp";
	return "image/png";
}

static void gemini_put_inline(struct buf *b, struct hub_span mime,
			      struct hub_span data)
{
	buf_puts(b, "{\"inlineData\":{\"mimeType\":");
	if (mime.n)
		hub_put_str(b, mime);
	else
		buf_json_cstr(b, gemini_sniff_mime(data));
	buf_puts(b, ",\"data\":");
	hub_put_str(b, data);
	buf_puts(b, "}}");
}

static int gemini_put_image(struct gemini_enc_req *c, const struct hub_msg *m,
			    const struct hub_part *p)
{
	struct buf *b = c->out;
	struct hub_span u = p->url, mime, data;

	if (p->data.p) {
		gemini_part_open(c, gemini_role(m));
		gemini_put_inline(b, p->mime, p->data);
		return 0;
	}
	if (hub_data_url(u, &mime, &data) > 0) {
		gemini_part_open(c, gemini_role(m));
		gemini_put_inline(b, mime, data);
		return 0;
	}
	if (!gemini_prefix(u, "gs://") &&
	    !gemini_prefix(u, "https://generativelanguage.googleapis.com/")) {
		snprintf(c->err, c->errlen,
			 "remote image URLs are not supported by Gemini");
		return -1;
	}
	gemini_part_open(c, gemini_role(m));
	buf_puts(b, "{\"fileData\":{");
	if (p->mime.n) {
		buf_puts(b, "\"mimeType\":");
		hub_put_str(b, p->mime);
		buf_putc(b, ',');
	}
	buf_puts(b, "\"fileUri\":");
	hub_put_str(b, u);
	buf_puts(b, "}}");
	return 0;
}

/* Thinking goes to Gemini only when it is verifiable: signed, not
 * redacted, and either a tool call right after it carries the signature
 * (then it is written there) or the client is a Gemini client (so the
 * signature is Gemini's own). */
static void gemini_put_thinking(struct gemini_enc_req *c,
				const struct hub_msg *m, size_t i)
{
	const struct hub_part *p = &c->v->parts[i], *q = p + 1;
	struct buf *b = c->out;

	if (p->redacted || !p->signature.n || c->client_root < 0)
		return;
	if (i + 1 < m->first + m->n && q->type == HUB_P_TOOL_CALL &&
	    !q->signature.n)
		return;
	gemini_part_open(c, gemini_role(m));
	buf_puts(b, "{\"text\":");
	hub_put_str(b, p->text);
	buf_puts(b, ",\"thought\":true,\"thoughtSignature\":");
	hub_put_str(b, p->signature);
	buf_putc(b, '}');
}

static int gemini_put_part(struct gemini_enc_req *c, const struct hub_msg *m,
			   size_t i)
{
	const struct hub_part *p = &c->v->parts[i];
	struct buf *b = c->out;

	switch (p->type) {
	case HUB_P_TEXT:
		if (!p->text.n)
			break; /* Gemini rejects empty text parts */
		gemini_part_open(c, gemini_role(m));
		buf_puts(b, "{\"text\":");
		hub_put_str(b, p->text);
		{
			/* Gemini carries the signature of the thoughts on the
			 * first answer part after them. */
			struct hub_span sig = p->signature;
			const struct hub_part *q = p - 1;
			if (!sig.n && m->role == HUB_ASSISTANT && i > m->first &&
			    q->type == HUB_P_THINKING && !q->redacted &&
			    gemini_sig_may_be_ours(c->v))
				sig = q->signature;
			if (sig.n) {
				buf_puts(b, ",\"thoughtSignature\":");
				hub_put_str(b, sig);
			}
		}
		buf_putc(b, '}');
		break;
	case HUB_P_THINKING:
		gemini_put_thinking(c, m, i);
		break;
	case HUB_P_IMAGE:
		return gemini_put_image(c, m, p);
	case HUB_P_TOOL_CALL:
		gemini_put_call(c, m, i);
		break;
	case HUB_P_TOOL_RESULT:
		gemini_put_result(c, i);
		break;
	}
	return 0;
}

static int gemini_put_contents(struct gemini_enc_req *c)
{
	const struct hub_view *v = c->v;
	size_t m, i;

	buf_puts(c->out, "\"contents\":[");
	for (m = 0; m < v->nmsgs; m++) {
		if (v->msgs[m].role == HUB_SYSTEM)
			continue; /* in systemInstruction (gemini_put_system) */
		for (i = v->msgs[m].first; i < v->msgs[m].first + v->msgs[m].n;
		     i++)
			if (gemini_put_part(c, &v->msgs[m], i) < 0)
				return -1;
	}
	if (c->role)
		buf_puts(c->out, "]}");
	buf_putc(c->out, ']');
	return 0;
}

static void gemini_put_sys_parts(struct buf *b, const struct hub_view *v,
				 size_t first, size_t count, size_t *n)
{
	size_t i;
	for (i = first; i < first + count; i++) {
		const struct hub_part *p = &v->parts[i];
		if (p->type != HUB_P_TEXT || !p->text.n)
			continue;
		buf_puts(b, (*n)++ ? ",{\"text\":"
				   : ",\"systemInstruction\":{\"parts\":"
				     "[{\"text\":");
		hub_put_str(b, p->text);
		buf_putc(b, '}');
	}
}

/* The system prompt, then the conversation's system messages in order:
 * Gemini has no system turn inside contents. */
static void gemini_put_system(struct gemini_enc_req *c)
{
	const struct hub_view *v = c->v;
	size_t m, n = 0;

	gemini_put_sys_parts(c->out, v, v->sys_first, v->sys_n, &n);
	for (m = 0; m < v->nmsgs; m++)
		if (v->msgs[m].role == HUB_SYSTEM)
			gemini_put_sys_parts(c->out, v, v->msgs[m].first,
					     v->msgs[m].n, &n);
	if (n)
		buf_puts(c->out, "]}");
}

/* A Gemini client's generationConfig keys the view has no place for
 * (responseMimeType, responseJsonSchema, seed, candidateCount...) are
 * copied as they are; the ones written from the view are skipped. */
static void gemini_put_gen_passthrough(struct gemini_enc_req *c, int *first)
{
	static const char *const mapped[] = {
		"maxOutputTokens", "max_output_tokens", "temperature", "topP",
		"top_p", "topK", "top_k", "stopSequences", "stop_sequences",
		"thinkingConfig", "thinking_config", NULL,
	};
	const struct json *j = c->v->json;
	int gc = gemini_get(j, c->client_root, "generationConfig",
			    "generation_config");
	int k, i, m;

	for (i = 0, k = gc + 1;
	     hub_tok_is(j, gc, JSMN_OBJECT) && i < j->tok[gc].size;
	     i++, k = json_skip(j, k + 1)) {
		struct hub_span r = hub_tok_raw(j, k + 1);
		for (m = 0; mapped[m] && !json_str_eq(j, k, mapped[m]); m++)
			;
		if (mapped[m])
			continue;
		if (!*first)
			buf_putc(c->out, ',');
		*first = 0;
		r.n += (size_t)(r.p - (json_ptr(j, k) - 1));
		r.p = json_ptr(j, k) - 1; /* "key":value as written */
		buf_put(c->out, r.p, r.n);
	}
}

/* OpenAI response_format -> responseMimeType (+ responseJsonSchema). */
static void gemini_put_response_format(struct gemini_enc_req *c, int *first)
{
	const struct json *j = c->v->json;
	struct hub_span rf = c->v->response_format;
	int t, sch;

	if (!rf.p)
		return;
	if (hub_span_eq(rf, GEMINI_JSON_OBJECT)) {
		hub_put_key(c->out, first, "responseMimeType");
		buf_puts(c->out, "\"application/json\"");
		return;
	}
	t = hub_tok_at(j, rf.p);
	if (t < 0 || !hub_tok_is(j, t, JSMN_OBJECT))
		return;
	if (!json_str_eq(j, json_get(j, t, "type"), "json_object") &&
	    !json_str_eq(j, json_get(j, t, "type"), "json_schema"))
		return;
	hub_put_key(c->out, first, "responseMimeType");
	buf_puts(c->out, "\"application/json\"");
	sch = json_get(j, json_get(j, t, "json_schema"), "schema");
	if (hub_tok_is(j, sch, JSMN_OBJECT)) {
		struct hub_span s = hub_tok_raw(j, sch);
		hub_put_key(c->out, first, "responseJsonSchema");
		buf_put(c->out, s.p, s.n);
	}
}

static void gemini_put_thinking_config(struct gemini_enc_req *c, int *first)
{
	const struct hub_view *v = c->v;
	struct buf *b = c->out;
	long budget = v->thinking_budget, max;
	int inc = v->include_thoughts;

	if (budget == HUB_BUDGET_UNSET)
		budget = hub_budget_for_effort(v->effort);
	if (budget == HUB_BUDGET_UNSET && v->thinking == 1)
		budget = -1;
	if (v->thinking == 0)
		budget = 0;
	if (inc < 0 && budget != HUB_BUDGET_UNSET && budget != 0)
		inc = 1;
	if (budget == HUB_BUDGET_UNSET && inc < 0)
		return;
	max = GEMINI_MAX_BUDGET;
	if (c->o->model && strstr(c->o->model, "pro"))
		max = GEMINI_MAX_BUDGET_PRO;
	if (budget > max)
		budget = max;
	hub_put_key(b, first, "thinkingConfig");
	buf_putc(b, '{');
	if (budget != HUB_BUDGET_UNSET)
		buf_printf(b, "\"thinkingBudget\":%ld%s", budget,
			   inc >= 0 ? "," : "");
	if (inc >= 0)
		buf_puts(b, inc ? "\"includeThoughts\":true"
				: "\"includeThoughts\":false");
	buf_putc(b, '}');
}

static void gemini_put_gen_config(struct gemini_enc_req *c)
{
	const struct hub_view *v = c->v;
	struct buf *b = c->out;
	size_t start = b->len;
	int first = 1, i;

	buf_puts(b, ",\"generationConfig\":{");
	if (v->max_tokens >= 0) {
		hub_put_key(b, &first, "maxOutputTokens");
		buf_printf(b, "%ld",
			   v->max_tokens > GEMINI_MAX_OUTPUT ? GEMINI_MAX_OUTPUT
							     : v->max_tokens);
	}
	if (v->temperature.p) {
		hub_put_key(b, &first, "temperature");
		buf_put(b, v->temperature.p, v->temperature.n);
	}
	if (v->top_p.p) {
		hub_put_key(b, &first, "topP");
		buf_put(b, v->top_p.p, v->top_p.n);
	}
	if (v->top_k.p) {
		hub_put_key(b, &first, "topK");
		buf_put(b, v->top_k.p, v->top_k.n);
	}
	for (i = 0; i < v->nstop && i < GEMINI_MAX_STOP; i++) {
		if (!i)
			hub_put_key(b, &first, "stopSequences");
		buf_putc(b, i ? ',' : '[');
		hub_put_str(b, v->stop[i]);
	}
	if (v->nstop > 0)
		buf_putc(b, ']');
	gemini_put_thinking_config(c, &first);
	if (c->client_root >= 0)
		gemini_put_gen_passthrough(c, &first);
	else
		gemini_put_response_format(c, &first);
	if (first && !b->overflow)
		b->len = start; /* nothing to say */
	else
		buf_putc(b, '}');
}

/* A Gemini client's own safetySettings pass through; other clients get
 * the permissive defaults of the reference. */
static void gemini_put_safety(struct gemini_enc_req *c)
{
	static const char *const cats[] = {
		"HARASSMENT", "HATE_SPEECH", "SEXUALLY_EXPLICIT",
		"DANGEROUS_CONTENT", NULL,
	};
	const struct json *j = c->v->json;
	struct buf *b = c->out;
	int i;

	if (c->client_root >= 0) {
		int s = gemini_get(j, c->client_root, "safetySettings",
				   "safety_settings");
		if (hub_tok_is(j, s, JSMN_ARRAY)) {
			struct hub_span r = hub_tok_raw(j, s);
			buf_puts(b, ",\"safetySettings\":");
			buf_put(b, r.p, r.n);
		}
		return;
	}
	buf_puts(b, ",\"safetySettings\":[");
	for (i = 0; cats[i]; i++)
		buf_printf(b,
			   "{\"category\":\"HARM_CATEGORY_%s\","
			   "\"threshold\":\"OFF\"},",
			   cats[i]);
	buf_puts(b, "{\"category\":\"HARM_CATEGORY_CIVIC_INTEGRITY\","
		    "\"threshold\":\"BLOCK_NONE\"}]");
}

static void gemini_put_decl(struct gemini_enc_req *c, const struct hub_tool *t)
{
	const struct json *j = c->v->json;
	struct buf *b = c->out;
	int props = j ? json_get(j, t->schema_tok, "properties") : -1;

	buf_puts(b, "{\"name\":");
	hub_put_str(b, t->name);
	if (t->description.p) {
		buf_puts(b, ",\"description\":");
		hub_put_str(b, t->description);
	}
	/* Gemini rejects OBJECT parameters with no properties: omit them. */
	if (hub_tok_is(j, props, JSMN_OBJECT) && j->tok[props].size > 0) {
		buf_puts(b, ",\"parameters\":");
		hub_gemini_schema(b, j, t->schema_tok);
	}
	buf_putc(b, '}');
}

/* Built-in tools (googleSearch...) of a Gemini client pass through. */
static void gemini_put_builtin_tools(struct gemini_enc_req *c, int *n)
{
	const struct json *j = c->v->json;
	int tools, e, i;

	if (c->client_root < 0)
		return;
	tools = json_get(j, c->client_root, "tools");
	for (i = 0, e = tools + 1;
	     hub_tok_is(j, tools, JSMN_ARRAY) && i < j->tok[tools].size;
	     i++, e = json_skip(j, e)) {
		struct hub_span r = hub_tok_raw(j, e);
		if (gemini_get(j, e, "functionDeclarations",
			       "function_declarations") >= 0)
			continue;
		buf_puts(c->out, (*n)++ ? "," : ",\"tools\":[");
		buf_put(c->out, r.p, r.n);
	}
}

static void gemini_put_tools(struct gemini_enc_req *c)
{
	const struct hub_view *v = c->v;
	struct buf *b = c->out;
	size_t i;
	int n = 0;

	if (v->ntools) {
		buf_puts(b, ",\"tools\":[{\"functionDeclarations\":[");
		for (i = 0; i < v->ntools; i++) {
			if (i)
				buf_putc(b, ',');
			gemini_put_decl(c, &v->tools[i]);
		}
		buf_puts(b, "]}");
		n = 1;
	}
	gemini_put_builtin_tools(c, &n);
	if (n)
		buf_putc(b, ']');
	if (!v->ntools || v->tool_choice == HUB_TC_UNSET)
		return;
	buf_puts(b, ",\"toolConfig\":{\"functionCallingConfig\":{\"mode\":");
	switch (v->tool_choice) {
	case HUB_TC_NONE:
		buf_puts(b, "\"NONE\"");
		break;
	case HUB_TC_ANY:
		buf_puts(b, "\"ANY\"");
		break;
	case HUB_TC_TOOL:
		buf_puts(b, "\"ANY\",\"allowedFunctionNames\":[");
		hub_put_str(b, v->tool_choice_name);
		buf_putc(b, ']');
		break;
	default:
		buf_puts(b, "\"AUTO\"");
		break;
	}
	buf_puts(b, "}}");
}

static int gemini_encode_request(const struct hub_view *v,
				 const struct hub_req_opts *o, struct buf *out,
				 char *err, size_t errlen)
{
	struct gemini_enc_req c;
	size_t start = out->len;

	memset(&c, 0, sizeof(c));
	c.v = v;
	c.o = o;
	c.out = out;
	c.err = err;
	c.errlen = errlen;
	c.client_root = gemini_client_root(v->json);
	if (o->gemini_cli) {
		buf_puts(out, "{\"model\":");
		buf_json_cstr(out, o->model ? o->model : "");
		buf_puts(out, ",\"project\":");
		buf_json_cstr(out, o->project ? o->project : "");
		buf_puts(out, ",\"request\":");
	}
	buf_putc(out, '{');
	if (gemini_put_contents(&c) < 0) {
		out->len = start;
		return -1;
	}
	gemini_put_system(&c);
	gemini_put_gen_config(&c);
	gemini_put_safety(&c);
	gemini_put_tools(&c);
	buf_putc(out, '}');
	if (o->gemini_cli)
		buf_putc(out, '}');
	if (out->overflow) {
		snprintf(err, errlen, "request too large for Gemini");
		return -1;
	}
	return 0;
}

/* ==== decode_event / decode_body: Gemini answers -> events ============= */

struct gemini_sink {
	struct hub_sdec *d;
	hub_emit_fn emit;
	void *user;
};

static void gemini_emit(struct gemini_sink *k, struct hub_event *ev)
{
	k->emit(k->user, ev);
}

static void gemini_emit_span(struct gemini_sink *k, enum hub_ev_type type,
			     struct hub_span s)
{
	struct hub_event ev;
	hub_event_init(&ev, type);
	ev.text = s;
	gemini_emit(k, &ev);
}

static void gemini_emit_error(struct gemini_sink *k, int status,
			      struct hub_span msg)
{
	struct hub_event ev;
	hub_event_init(&ev, HUB_EV_ERROR);
	ev.status = status;
	ev.text = msg;
	gemini_emit(k, &ev);
	k->d->done = 1; /* the rest of a failed stream is ignored */
}

static void gemini_emit_malformed(struct gemini_sink *k)
{
	static const char msg[] = "malformed upstream event";
	struct hub_span s = {msg, sizeof(msg) - 1};
	gemini_emit_error(k, 502, s);
}

/* A functionCall part: whole call as START / ARGS / END.  The generated
 * id and the escaped args are written to d->scratch first; spans are
 * taken after both writes since the buffer may move while growing. */
static void gemini_emit_call(struct gemini_sink *k, const struct json *j,
			     int fc, int sig)
{
	struct hub_sdec *d = k->d;
	struct hub_event ev;
	struct hub_span name = hub_tok_string(j, json_get(j, fc, "name"));
	struct hub_span id = hub_tok_string(j, json_get(j, fc, "id"));
	int args = json_get(j, fc, "args");
	size_t o0 = d->scratch.len, o1, o2;
	char suffix[40];

	if (!name.n)
		return;
	if (hub_tok_is(j, sig, JSMN_STRING))
		gemini_emit_span(k, HUB_EV_THINKING_SIG, hub_tok_span(j, sig));
	if (!id.n) {
		hub_gen_id(suffix, sizeof(suffix), "", d->seed, d->ntools);
		buf_put(&d->scratch, name.p, name.n);
		buf_putc(&d->scratch, '-');
		buf_put(&d->scratch, suffix, 8);
	}
	o1 = d->scratch.len;
	if (args >= 0) {
		struct hub_span r = hub_tok_raw(j, args);
		hub_escape(&d->scratch, r.p, r.n);
	} else {
		buf_puts(&d->scratch, "{}");
	}
	o2 = d->scratch.len;
	if (d->scratch.overflow) {
		static const char msg[] = "upstream tool call too large";
		struct hub_span s = {msg, sizeof(msg) - 1};
		gemini_emit_error(k, 502, s);
		return;
	}
	if (!id.n) {
		id.p = d->scratch.p + o0;
		id.n = o1 - o0;
	}
	hub_event_init(&ev, HUB_EV_TOOL_START);
	ev.index = d->ntools++;
	ev.id = id;
	ev.name = name;
	gemini_emit(k, &ev);
	ev.type = HUB_EV_TOOL_ARGS;
	ev.text.p = d->scratch.p + o1;
	ev.text.n = o2 - o1;
	gemini_emit(k, &ev);
	ev.type = HUB_EV_TOOL_END;
	ev.text.p = NULL;
	ev.text.n = 0;
	gemini_emit(k, &ev);
}

static void gemini_emit_part(struct gemini_sink *k, const struct json *j,
			     int pt)
{
	int sig = gemini_get(j, pt, "thoughtSignature", "thought_signature");
	int fc = gemini_get(j, pt, "functionCall", "function_call");
	struct hub_span text = hub_tok_string(j, json_get(j, pt, "text"));

	if (!hub_tok_is(j, pt, JSMN_OBJECT))
		return;
	if (fc >= 0) {
		gemini_emit_call(k, j, fc, sig);
		return;
	}
	if (!hub_tok_true(j, json_get(j, pt, "thought"))) {
		/* Gemini puts the signature of the thoughts before it on the
		 * first answer part: it closes the thinking, so it goes first. */
		if (hub_tok_is(j, sig, JSMN_STRING))
			gemini_emit_span(k, HUB_EV_THINKING_SIG,
					 hub_tok_span(j, sig));
		if (text.n && !k->d->done)
			gemini_emit_span(k, HUB_EV_TEXT, text);
		return;
	}
	if (text.n)
		gemini_emit_span(k, HUB_EV_THINKING, text);
	if (hub_tok_is(j, sig, JSMN_STRING) && !k->d->done)
		gemini_emit_span(k, HUB_EV_THINKING_SIG, hub_tok_span(j, sig));
}

static enum hub_finish gemini_finish_reason(const struct hub_sdec *d,
					    struct hub_span r)
{
	static const char *const filter[] = {
		"SAFETY", "RECITATION", "PROHIBITED_CONTENT", "BLOCKLIST",
		"SPII", "IMAGE_SAFETY", NULL,
	};
	int i;

	if (hub_span_eq(r, "MAX_TOKENS"))
		return HUB_FIN_LENGTH;
	for (i = 0; filter[i]; i++)
		if (hub_span_eq(r, filter[i]))
			return HUB_FIN_FILTER;
	return d->ntools ? HUB_FIN_TOOL : HUB_FIN_STOP;
}

static void gemini_read_usage(struct hub_sdec *d, const struct json *j, int um)
{
	long in = hub_tok_long(j, json_get(j, um, "promptTokenCount"), -1);
	long cand =
		hub_tok_long(j, json_get(j, um, "candidatesTokenCount"), -1);
	long th = hub_tok_long(j, json_get(j, um, "thoughtsTokenCount"), -1);
	long ca =
		hub_tok_long(j, json_get(j, um, "cachedContentTokenCount"), -1);

	/* input counts cached tokens (as Gemini and OpenAI do); output
	 * counts thoughts (as OpenAI and Claude do). */
	if (in >= 0)
		d->usage.input = in;
	if (cand >= 0 || th >= 0)
		d->usage.output = (cand > 0 ? cand : 0) + (th > 0 ? th : 0);
	if (th >= 0)
		d->usage.thoughts = th;
	if (ca >= 0)
		d->usage.cached = ca;
}

static void gemini_emit_start(struct gemini_sink *k, const struct json *j,
			      int r)
{
	struct hub_event ev;
	if (k->d->started)
		return;
	k->d->started = 1;
	hub_event_init(&ev, HUB_EV_START);
	ev.id = hub_tok_string(j, json_get(j, r, "responseId"));
	ev.model = hub_tok_string(j, json_get(j, r, "modelVersion"));
	gemini_emit(k, &ev);
}

/* One GenerateContentResponse (bare or in the CLI envelope). */
static void gemini_emit_response(struct gemini_sink *k, const struct json *j,
				 int r)
{
	struct hub_sdec *d = k->d;
	int env = json_get(j, r, "response"), err, cand, parts, um, pf, e, i;
	struct hub_span fin = {NULL, 0};
	struct hub_event ev;

	if (hub_tok_is(j, env, JSMN_OBJECT))
		r = env;
	err = json_get(j, r, "error");
	if (hub_tok_is(j, err, JSMN_OBJECT)) {
		long code = hub_tok_long(j, json_get(j, err, "code"), 502);
		struct hub_span msg =
			hub_tok_string(j, json_get(j, err, "message"));
		if (code < 400 || code >= 600)
			code = 502;
		gemini_emit_error(k, (int)code, msg);
		return;
	}
	gemini_emit_start(k, j, r);
	cand = json_get(j, r, "candidates");
	if (hub_tok_is(j, cand, JSMN_ARRAY) && j->tok[cand].size)
		cand++; /* the first candidate */
	else
		cand = -1;
	parts = json_get(j, json_get(j, cand, "content"), "parts");
	for (i = 0, e = parts + 1; hub_tok_is(j, parts, JSMN_ARRAY) &&
				   i < j->tok[parts].size && !d->done;
	     i++, e = json_skip(j, e))
		gemini_emit_part(k, j, e);
	if (d->done)
		return;
	fin = hub_tok_string(j, json_get(j, cand, "finishReason"));
	pf = json_get(j, r, "promptFeedback");
	if (!fin.n && hub_tok_string(j, json_get(j, pf, "blockReason")).n) {
		fin.p = "SAFETY"; /* the prompt itself was blocked */
		fin.n = 6;
	}
	um = json_get(j, r, "usageMetadata");
	if (hub_tok_is(j, um, JSMN_OBJECT))
		gemini_read_usage(d, j, um);
	hub_event_init(&ev, HUB_EV_USAGE);
	ev.usage = d->usage;
	/* usage is emitted with the finish, alone, or after the finish */
	if ((fin.n && !d->u.gemini.finished) ||
	    (hub_tok_is(j, um, JSMN_OBJECT) && (cand < 0 ||
						d->u.gemini.finished))) {
		ev.type = HUB_EV_USAGE;
		if (d->usage.input >= 0 || d->usage.output >= 0)
			gemini_emit(k, &ev);
	}
	if (fin.n && !d->u.gemini.finished) {
		d->u.gemini.finished = 1;
		ev.type = HUB_EV_FINISH;
		ev.finish = gemini_finish_reason(d, fin);
		gemini_emit(k, &ev);
	}
}

/* An event payload: a response object, or an array of them. */
static void gemini_emit_value(struct gemini_sink *k, const struct json *j,
			      int t)
{
	int e, i;
	if (hub_tok_is(j, t, JSMN_ARRAY)) {
		for (i = 0, e = t + 1; i < j->tok[t].size && !k->d->done;
		     i++, e = json_skip(j, e))
			gemini_emit_value(k, j, e);
	} else if (hub_tok_is(j, t, JSMN_OBJECT)) {
		buf_reset(&k->d->scratch);
		gemini_emit_response(k, j, t);
	}
}

static void gemini_decode_event(struct hub_sdec *d, const struct hub_sse *sse,
				hub_emit_fn emit, void *user)
{
	struct gemini_sink k = {d, emit, user};
	struct json j;
	struct hub_span data;

	if (!sse) { /* end of stream: usage that waited for a finish */
		if (!d->done && !d->u.gemini.finished &&
		    (d->usage.input >= 0 || d->usage.output >= 0)) {
			struct hub_event ev;
			hub_event_init(&ev, HUB_EV_USAGE);
			ev.usage = d->usage;
			gemini_emit(&k, &ev);
		}
		return;
	}
	data = hub_span_trim(sse->data);
	if (d->done || !data.n || hub_span_eq(data, "[DONE]"))
		return; /* keepalive, or the reference's end marker */
	if (hub_sdec_parse(d, data.p, data.n, &j) < 0) {
		gemini_emit_malformed(&k);
		return;
	}
	gemini_emit_value(&k, &j, 0);
}

/* Does the object at t look like a GenerateContentResponse? */
static int gemini_is_answer(const struct json *j, int t)
{
	static const char *const keys[] = {
		"candidates", "usageMetadata", "promptFeedback", "response",
		"error", "modelVersion", "responseId", NULL,
	};
	int i;
	if (!hub_tok_is(j, t, JSMN_OBJECT))
		return 0;
	for (i = 0; keys[i]; i++)
		if (json_get(j, t, keys[i]) >= 0)
			return 1;
	return 0;
}

static int gemini_decode_body(struct hub_sdec *d, const char *body, size_t len,
			      hub_emit_fn emit, void *user)
{
	struct gemini_sink k = {d, emit, user};
	struct hub_event ev;
	struct json j;
	int e, i;

	if (hub_sdec_parse(d, body, len, &j) < 0)
		return -1;
	if (hub_tok_is(&j, 0, JSMN_ARRAY)) {
		for (i = 0, e = 1; i < j.tok[0].size; i++, e = json_skip(&j, e))
			if (!gemini_is_answer(&j, e))
				return -1;
	} else if (!gemini_is_answer(&j, 0)) {
		return -1;
	}
	gemini_emit_value(&k, &j, 0);
	if (d->done || d->u.gemini.finished)
		return 0;
	/* a body always ends its answer */
	hub_event_init(&ev, HUB_EV_START);
	if (!d->started) {
		d->started = 1;
		emit(user, &ev);
	}
	ev.usage = d->usage;
	ev.type = HUB_EV_USAGE;
	if (d->usage.input >= 0 || d->usage.output >= 0)
		emit(user, &ev);
	d->u.gemini.finished = 1;
	ev.type = HUB_EV_FINISH;
	ev.finish = d->ntools ? HUB_FIN_TOOL : HUB_FIN_STOP;
	emit(user, &ev);
	return 0;
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
	const char *name;
	switch (status) {
	case 400:
		name = "INVALID_ARGUMENT";
		break;
	case 401:
		name = "UNAUTHENTICATED";
		break;
	case 403:
		name = "PERMISSION_DENIED";
		break;
	case 404:
		name = "NOT_FOUND";
		break;
	case 408:
	case 504:
		name = "DEADLINE_EXCEEDED";
		break;
	case 429:
		name = "RESOURCE_EXHAUSTED";
		break;
	case 502:
	case 503:
		name = "UNAVAILABLE";
		break;
	default:
		name = status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT";
	}
	buf_printf(b, "{\"error\":{\"code\":%d,\"message\":", status);
	if (plain)
		buf_json_cstr(b, plain);
	else
		hub_put_str(b, msg);
	buf_printf(b, ",\"status\":\"%s\"}}", name);
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

static void gemini_start(struct hub_enc *e, const struct hub_event *ev)
{
	char tmp[sizeof(e->model)];

	e->u.gemini.started = 1;
	if (ev && ev->model.n && hub_unescape(ev->model, tmp, sizeof(tmp)) > 0)
		memcpy(e->model, tmp, sizeof(tmp));
	if (ev && ev->id.n && hub_unescape(ev->id, e->id, sizeof(e->id)) > 0)
		return;
	hub_gen_id(e->id, sizeof(e->id), "", e->o.seed, 0);
}

static void gemini_encode_event(struct hub_enc *e, const struct hub_event *ev,
				struct buf *out)
{
	struct hub_gemini_enc *g = &e->u.gemini;

	if (!g->started)
		gemini_start(e, ev->type == HUB_EV_START ? ev : NULL);
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

static void gemini_render_error(struct buf *out, int status, const char *msg)
{
	struct hub_span none = {NULL, 0};
	gemini_put_error(out, status, none, msg ? msg : "");
}

const struct hub_codec hub_gemini = {
	.fmt = HUB_GEMINI,
	.decode_request = gemini_decode_request,
	.encode_request = gemini_encode_request,
	.decode_event = gemini_decode_event,
	.decode_body = gemini_decode_body,
	.encode_event = gemini_encode_event,
	.render_error = gemini_render_error,
};
