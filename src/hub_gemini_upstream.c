/*
 * hub_gemini_upstream.c - the upstream side of the Gemini generateContent
 * codec (the Generative Language API, and the Cloud Code Assist API of
 * Gemini CLI accounts when o->gemini_cli): the request encoder (view ->
 * GenerateContentRequest) and the event decoder (SSE chunks or a whole
 * answer -> events).  See hub.h for the view, the events and the string
 * convention; the client side is hub_gemini_client.c.
 *
 * REQUEST.  Consecutive parts of the same role merge into one content
 * (Gemini wants user/model alternation), tool results become
 * functionResponse parts of a "user" content, every functionCall gets a
 * thoughtSignature (its own, one borrowed from the thinking part right
 * before it, or the documented skip marker), and thinking Gemini cannot
 * verify (unsigned, redacted, or not from a Gemini client) is dropped.
 * When the client itself spoke Gemini (v->json holds "contents"), what the
 * view cannot carry is copied from its body: generationConfig keys such as
 * responseJsonSchema, safetySettings and built-in tools.  Values beyond
 * Gemini's limits are clamped (maxOutputTokens, thinkingBudget, five stop
 * sequences).
 *
 * ENVELOPES.  o->gemini_cli wraps the request as Code Assist wants it,
 * {"model","project","request":{...}}; o->antigravity adds Antigravity's
 * members (userAgent, requestType, requestId, request.sessionId), sends
 * no safetySettings, cleans tool schemas harder (hub_gemini_schema), and
 * per model: a Claude model gets function calling mode VALIDATED when
 * tools exist, any other model no maxOutputTokens (providers-2026 1.5).
 *
 * EVENTS.  Each SSE data payload is one GenerateContentResponse (bare or
 * as {"response":...}).  Parts become TEXT / THINKING (+ THINKING_SIG
 * after them) and whole tool calls (THINKING_SIG for the call's
 * signature, then TOOL_START, one TOOL_ARGS with the args object escaped
 * into d->scratch, TOOL_END).  Usage arrives in most chunks; it is stored
 * and emitted with the finish (or at once for a usage-only chunk, or after
 * the finish); input counts cached tokens and output counts thoughts, as
 * in OpenAI's usage.  d->done is set after an error so the rest of a
 * broken stream is ignored.  State: struct hub_gemini_sdec (hub.h).
 */
#include "fmt.h"
#include "hub_tok.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define GEMINI_SKIP_SIG "skip_thought_signature_validator"
/* Gemini limits the view may exceed. */
#define GEMINI_MAX_STOP 5
#define GEMINI_MAX_OUTPUT 65536L
#define GEMINI_MAX_BUDGET_PRO 32768L
#define GEMINI_MAX_BUDGET 24576L

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

/* Does the upstream model's name hold lit? */
static int gemini_model_has(const struct gemini_enc_req *c, const char *lit)
{
	return c->o->model && strstr(c->o->model, lit) != NULL;
}

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
	struct hub_span s = r->id, called = hub_view_call_name(v, i, r->id);
	size_t k;

	if (r->name.n)
		return r->name;
	if (called.p)
		return called;
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
		fmt_snprintf(c->err, c->errlen,
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
	int gc = hub_tok_member(j, c->client_root, "generationConfig",
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
	if (hub_span_eq(rf, HUB_JSON_MODE)) {
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

/* Members are written each after a ',' (first stays 0); the one after
 * the '{' is taken out at the end, and an empty config is not sent. */
static void gemini_put_gen_config(struct gemini_enc_req *c)
{
	const struct hub_view *v = c->v;
	struct buf *b = c->out;
	size_t start = b->len, open;
	int first = 0;

	buf_puts(b, ",\"generationConfig\":{");
	open = b->len;
	/* Antigravity takes an output cap for Claude models only */
	if (v->max_tokens >= 0 &&
	    (!c->o->antigravity || gemini_model_has(c, "claude")))
		buf_printf(b, ",\"maxOutputTokens\":%ld",
			   v->max_tokens > GEMINI_MAX_OUTPUT ? GEMINI_MAX_OUTPUT
							     : v->max_tokens);
	hub_put_raw_member(b, "temperature", v->temperature);
	hub_put_raw_member(b, "topP", v->top_p);
	hub_put_raw_member(b, "topK", v->top_k);
	if (v->nstop > 0) {
		hub_put_key(b, &first, "stopSequences");
		hub_put_str_list(b, v->stop, v->nstop < GEMINI_MAX_STOP
						     ? v->nstop
						     : GEMINI_MAX_STOP);
	}
	gemini_put_thinking_config(c, &first);
	if (c->client_root >= 0)
		gemini_put_gen_passthrough(c, &first);
	else
		gemini_put_response_format(c, &first);
	if (b->overflow)
		return;
	if (b->len == open) {
		b->len = start; /* nothing to say */
		return;
	}
	memmove(b->p + open, b->p + open + 1, b->len - open - 1);
	b->len--;
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

	if (c->o->antigravity)
		return; /* Antigravity takes none */
	if (c->client_root >= 0) {
		int s = hub_tok_member(j, c->client_root, "safetySettings",
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

	buf_putc(b, '{');
	hub_put_tool_head(b, t);
	/* Gemini rejects OBJECT parameters with no properties: omit them
	 * (Antigravity's cleaning gives them a placeholder instead). */
	if (c->o->antigravity) {
		buf_puts(b, ",\"parameters\":");
		hub_gemini_schema(b, j, t->schema_tok, 1);
	} else if (hub_tok_is(j, props, JSMN_OBJECT) && j->tok[props].size > 0) {
		buf_puts(b, ",\"parameters\":");
		hub_gemini_schema(b, j, t->schema_tok, 0);
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
		if (hub_tok_member(j, e, "functionDeclarations",
			       "function_declarations") >= 0)
			continue;
		buf_puts(c->out, (*n)++ ? "," : ",\"tools\":[");
		buf_put(c->out, r.p, r.n);
	}
}

static void gemini_put_tools(struct gemini_enc_req *c)
{
	static const char *const mode[] = {
		[HUB_TC_UNSET] = "AUTO", [HUB_TC_AUTO] = "AUTO",
		[HUB_TC_NONE] = "NONE",  [HUB_TC_ANY] = "ANY",
		[HUB_TC_TOOL] = "ANY",
	};
	const struct hub_view *v = c->v;
	struct buf *b = c->out;
	const char *m = mode[v->tool_choice];
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
	if (!v->ntools)
		return;
	if (c->o->antigravity && gemini_model_has(c, "claude"))
		m = "VALIDATED"; /* Antigravity's Claude models want it */
	else if (v->tool_choice == HUB_TC_UNSET)
		return;
	buf_printf(b, ",\"toolConfig\":{\"functionCallingConfig\":{\"mode\":"
		      "\"%s\"", m);
	if (v->tool_choice == HUB_TC_TOOL) {
		buf_puts(b, ",\"allowedFunctionNames\":[");
		hub_put_str(b, v->tool_choice_name);
		buf_putc(b, ']');
	}
	buf_puts(b, "}}");
}

/* FNV-1a, 64 bits, of p[0..n). */
static uint64_t gemini_fnv1a(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Antigravity's request.sessionId: "-" and a number that stays the same
 * for a conversation, so the upstream can keep its cache.  The reference
 * draws it from SHA-256 of the first user turn's first text (random
 * without one); here it is FNV-1a 64 of that text (unescaped; none is
 * the empty text), its low 63 bits: no randomness, no SHA-256 in the
 * hub, the same number for the same conversation. */
static void gemini_put_session(struct gemini_enc_req *c)
{
	const struct hub_view *v = c->v;
	struct hub_span t = {"", 0};
	size_t m, i;
	uint64_t h;
	char *plain;
	int n;

	for (m = 0; m < v->nmsgs && !t.n; m++) {
		if (v->msgs[m].role != HUB_USER)
			continue;
		for (i = v->msgs[m].first;
		     i < v->msgs[m].first + v->msgs[m].n && !t.n; i++)
			if (v->parts[i].type == HUB_P_TEXT && v->parts[i].text.n)
				t = v->parts[i].text;
		break; /* the first user turn only */
	}
	/* unescaping never grows the text */
	plain = t.n ? malloc(t.n) : NULL;
	n = plain ? json_unescape(t.p, t.n, plain, t.n) : -1;
	h = n >= 0 ? gemini_fnv1a(plain, (size_t)n) : gemini_fnv1a(t.p, t.n);
	free(plain);
	buf_printf(c->out, ",\"sessionId\":\"-%llu\"",
		   (unsigned long long)(h & 0x7fffffffffffffffull));
}

/* The Code Assist envelope's head (Gemini CLI and Antigravity), up to
 * "request":. */
static void gemini_put_envelope(struct gemini_enc_req *c)
{
	const struct hub_req_opts *o = c->o;
	struct buf *out = c->out;

	buf_puts(out, "{\"model\":");
	buf_json_cstr(out, o->model ? o->model : "");
	buf_puts(out, ",\"project\":");
	buf_json_cstr(out, o->project ? o->project : "");
	if (o->antigravity) {
		buf_puts(out, gemini_model_has(c, "image")
				      ? ",\"userAgent\":\"antigravity\","
					"\"requestType\":\"image_gen\""
				      : ",\"userAgent\":\"antigravity\","
					"\"requestType\":\"agent\"");
		if (o->request_id) {
			buf_puts(out, ",\"requestId\":");
			buf_json_cstr(out, o->request_id);
		}
	}
	buf_puts(out, ",\"request\":");
}

int hub_gemini_encode_request(const struct hub_view *v,
			      const struct hub_req_opts *o, struct buf *out,
			      char *err, size_t errlen)
{
	struct gemini_enc_req c;
	size_t start = out->len;
	int env = o->gemini_cli || o->antigravity;

	memset(&c, 0, sizeof(c));
	c.v = v;
	c.o = o;
	c.out = out;
	c.err = err;
	c.errlen = errlen;
	c.client_root = gemini_client_root(v->json);
	if (env)
		gemini_put_envelope(&c);
	buf_putc(out, '{');
	if (gemini_put_contents(&c) < 0) {
		out->len = start;
		return -1;
	}
	gemini_put_system(&c);
	gemini_put_gen_config(&c);
	gemini_put_safety(&c);
	gemini_put_tools(&c);
	if (o->antigravity && !gemini_model_has(&c, "image"))
		gemini_put_session(&c);
	buf_putc(out, '}');
	if (env)
		buf_putc(out, '}');
	if (out->overflow)
		return hub_fail(err, errlen, "request too large for Gemini");
	return 0;
}

/* ==== decode_event / decode_body: Gemini answers -> events ============= */

/* A functionCall part: whole call as START / ARGS / END.  The generated
 * id and the escaped args are written to d->scratch first; spans are
 * taken after both writes since the buffer may move while growing. */
static void gemini_emit_call(struct hub_sink *k, const struct json *j,
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
		hub_sink_text(k, HUB_EV_THINKING_SIG, 0, hub_tok_span(j, sig));
	if (!id.n) {
		hub_gen_id(suffix, sizeof(suffix), "", d->seed, d->ntools);
		buf_put(&d->scratch, name.p, name.n);
		buf_putc(&d->scratch, '-');
		buf_put(&d->scratch, suffix, 8);
	}
	o1 = d->scratch.len;
	if (args >= 0) {
		/* non-stream answers are pretty-printed: one line, as in a
		 * stream */
		hub_escape_json_compact(&d->scratch, hub_tok_raw(j, args));
	} else {
		buf_puts(&d->scratch, "{}");
	}
	o2 = d->scratch.len;
	if (d->scratch.overflow) {
		hub_sink_error(k, 502, HUB_LIT("upstream tool call too large"));
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
	hub_sink_emit(k, &ev);
	ev.type = HUB_EV_TOOL_ARGS;
	ev.text.p = d->scratch.p + o1;
	ev.text.n = o2 - o1;
	hub_sink_emit(k, &ev);
	ev.type = HUB_EV_TOOL_END;
	ev.text.p = NULL;
	ev.text.n = 0;
	hub_sink_emit(k, &ev);
}

static void gemini_emit_part(struct hub_sink *k, const struct json *j,
			     int pt)
{
	int sig = hub_tok_member(j, pt, "thoughtSignature", "thought_signature");
	int fc = hub_tok_member(j, pt, "functionCall", "function_call");
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
			hub_sink_text(k, HUB_EV_THINKING_SIG, 0,
				      hub_tok_span(j, sig));
		if (text.n && !k->d->done)
			hub_sink_text(k, HUB_EV_TEXT, 0, text);
		return;
	}
	if (text.n)
		hub_sink_text(k, HUB_EV_THINKING, 0, text);
	if (hub_tok_is(j, sig, JSMN_STRING) && !k->d->done)
		hub_sink_text(k, HUB_EV_THINKING_SIG, 0, hub_tok_span(j, sig));
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

/* USAGE, when some count is known. */
static void gemini_usage(struct hub_sink *k)
{
	if (k->d->usage.input >= 0 || k->d->usage.output >= 0)
		hub_sink_usage(k);
}

static void gemini_read_usage(struct hub_sdec *d, const struct json *j, int um)
{
	long in = hub_tok_long_at(j, um, "promptTokenCount", -1);
	long cand =
		hub_tok_long_at(j, um, "candidatesTokenCount", -1);
	long th = hub_tok_long_at(j, um, "thoughtsTokenCount", -1);
	long ca =
		hub_tok_long_at(j, um, "cachedContentTokenCount", -1);

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

static void gemini_emit_start(struct hub_sink *k, const struct json *j,
			      int r)
{
	hub_sink_start(k, hub_tok_str(j, r, "responseId"),
		       hub_tok_str(j, r, "modelVersion"));
}

/* One GenerateContentResponse (bare or in the CLI envelope). */
static void gemini_emit_response(struct hub_sink *k, const struct json *j,
				 int r)
{
	struct hub_sdec *d = k->d;
	int env = json_get(j, r, "response"), err, cand, parts, um, pf, e, i;
	struct hub_span fin = {NULL, 0};

	if (hub_tok_is(j, env, JSMN_OBJECT))
		r = env;
	err = json_get(j, r, "error");
	if (hub_tok_is(j, err, JSMN_OBJECT)) {
		long code = hub_tok_long_at(j, err, "code", 502);
		struct hub_span msg =
			hub_tok_string(j, json_get(j, err, "message"));
		if (code < 400 || code >= 600)
			code = 502;
		hub_sink_error(k, (int)code, msg);
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
	/* usage is emitted with the finish, alone, or after the finish */
	if ((fin.n && !d->u.gemini.finished) ||
	    (hub_tok_is(j, um, JSMN_OBJECT) &&
	     (cand < 0 || d->u.gemini.finished)))
		gemini_usage(k);
	if (fin.n && !d->u.gemini.finished) {
		d->u.gemini.finished = 1;
		hub_sink_finish(k, gemini_finish_reason(d, fin),
				hub_span_of(NULL, 0));
	}
}

/* An event payload: a response object, or an array of them. */
static void gemini_emit_value(struct hub_sink *k, const struct json *j,
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

void hub_gemini_decode_event(struct hub_sdec *d, const struct hub_sse *sse,
			     hub_emit_fn emit, void *user)
{
	struct hub_sink k = {d, NULL, emit, user};
	struct json j;
	struct hub_span data;

	if (!sse) { /* end of stream: usage that waited for a finish */
		if (!d->done && !d->u.gemini.finished)
			gemini_usage(&k);
		return;
	}
	data = hub_span_trim(sse->data);
	if (d->done || !data.n || hub_span_eq(data, "[DONE]"))
		return; /* keepalive, or the reference's end marker */
	if (hub_sdec_parse(d, data.p, data.n, &j) < 0) {
		hub_sink_error(&k, 502, HUB_LIT("malformed upstream event"));
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

int hub_gemini_decode_body(struct hub_sdec *d, const char *body, size_t len,
			   hub_emit_fn emit, void *user)
{
	struct hub_sink k = {d, NULL, emit, user};
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
	hub_sink_start(&k, hub_span_of(NULL, 0), hub_span_of(NULL, 0));
	gemini_usage(&k);
	d->u.gemini.finished = 1;
	hub_sink_finish(&k, d->ntools ? HUB_FIN_TOOL : HUB_FIN_STOP,
			hub_span_of(NULL, 0));
	return 0;
}
