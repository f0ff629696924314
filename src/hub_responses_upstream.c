/*
 * hub_responses_upstream.c - the upstream side of the OpenAI Responses
 * codec (the ChatGPT Codex backend): the request encoder (view -> Codex
 * body) and the event decoder (response.* SSE events or a whole response
 * -> events).  See hub.h for the view, the events and the string
 * convention; the client side is hub_responses_client.c.
 *
 * REQUEST.  The Codex dialect: a message item per run of text and image
 * parts, one item per tool call / result, one reasoning item per run of
 * THINKING parts ending in a signed one (unsigned thinking, and thinking
 * another format signed, cannot be replayed and is dropped).  Function names longer than 64 bytes are
 * shortened (mcp__ rule, truncation, ~N on collisions, protocol.md 4.6)
 * through a table built from the view's tools; hub_responses_name_map
 * gives the client's encoder the names that changed.  reasoning.effort is
 * the caller's (o->effort) or the view's; for the Codex backend (o->codex)
 * the output cap and sampling parameters are left out, as it answers them
 * with 400 "Unsupported parameter".
 *
 * EVENTS.  Items arrive one after another, so tool calls never
 * interleave: output_item.added(function_call) opens a call, argument
 * deltas stream into it, output_item.done closes it.  Per output_index the
 * decoder remembers whether any delta came (u.responses.seen[],
 * HUB_SLOTS items); an item.done without deltas (or a whole non-stream
 * body) has its content emitted from the finished item instead.  State:
 * struct hub_responses_sdec (hub.h).
 */
#include "fmt.h"
#include "hub_tok.h"

#include <stdlib.h>
#include <string.h>

#define RESP_NAME_MAX 64   /* upstream limit on function names */
#define RESP_NAME_BUF 512  /* unescaped tool names we shorten */

/* ---- tool name shortening (protocol.md 4.6) ---------------------------- */

struct resp_names {
	size_t n;
	char (*s)[RESP_NAME_MAX + 1]; /* plain text, per view tool */
};

/* Longest prefix of s[0..n) of at most max bytes that ends on a UTF-8
 * character boundary. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
	size_t len = n < max ? n : max;
	while (len > 0 && len < n && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return len;
}

static void name_base(const char *s, size_t n, char *out)
{
	size_t len, i;

	if (n > RESP_NAME_MAX && n > 5 && memcmp(s, "mcp__", 5) == 0) {
		for (i = n - 2; i > 0; i--)
			if (s[i] == '_' && s[i + 1] == '_')
				break;
		if (i > 0) {
			len = utf8_cut(s + i + 2, n - i - 2, RESP_NAME_MAX - 5);
			memcpy(out, "mcp__", 5);
			memcpy(out + 5, s + i + 2, len);
			out[5 + len] = '\0';
			return;
		}
	}
	len = utf8_cut(s, n, RESP_NAME_MAX);
	memcpy(out, s, len);
	out[len] = '\0';
}

/* Plain text of a str span for shortening; falls back to the escaped
 * bytes when there is no escape or it does not fit. */
static struct hub_span name_plain(struct hub_span s, char *tmp, size_t cap)
{
	struct hub_span r = s;
	int n;
	if (s.p && memchr(s.p, '\\', s.n) &&
	    (n = hub_unescape(s, tmp, cap)) >= 0) {
		r.p = tmp;
		r.n = (size_t)n;
	}
	return r;
}

static int name_used(const struct resp_names *m, size_t upto, const char *c)
{
	size_t i;
	for (i = 0; i < upto; i++)
		if (strcmp(m->s[i], c) == 0)
			return 1;
	return 0;
}

/* m->s[k] = cand, or cand cut to make room for ~1, ~2, ... if taken. */
static void name_unique(struct resp_names *m, size_t k, const char *cand)
{
	char tmp[RESP_NAME_MAX + 1], suf[16];
	size_t len = strlen(cand), cut;
	int i, sl;

	if (!name_used(m, k, cand)) {
		memcpy(m->s[k], cand, len + 1);
		return;
	}
	for (i = 1;; i++) {
		sl = fmt_snprintf(suf, sizeof(suf), "~%d", i);
		cut = utf8_cut(cand, len, RESP_NAME_MAX - (size_t)sl);
		fmt_snprintf(tmp, sizeof(tmp), "%.*s%s", (int)cut, cand, suf);
		if (!name_used(m, k, tmp))
			break;
	}
	memcpy(m->s[k], tmp, strlen(tmp) + 1);
}

static int names_build(const struct hub_view *v, struct resp_names *m)
{
	char tmp[RESP_NAME_BUF], cand[RESP_NAME_MAX + 1];
	size_t i, k;

	m->n = v->ntools;
	m->s = NULL;
	if (!m->n)
		return 0;
	m->s = calloc(m->n, sizeof(*m->s));
	if (!m->s)
		return -1;
	for (i = 0; i < m->n; i++) {
		struct hub_span p = name_plain(v->tools[i].name, tmp,
					       sizeof(tmp));
		for (k = 0; k < i; k++)
			if (hub_span_same(v->tools[k].name, v->tools[i].name))
				break;
		if (k < i) { /* the same tool twice keeps one name */
			memcpy(m->s[i], m->s[k], sizeof(m->s[i]));
			continue;
		}
		name_base(p.p ? p.p : "", p.n, cand);
		name_unique(m, i, cand);
	}
	return 0;
}

/* The upstream name for a str span: the tool table's entry when it names
 * a tool, else the name shortened on its own. */
static void put_name(struct buf *b, const struct hub_view *v,
		     const struct resp_names *m, struct hub_span name)
{
	char tmp[RESP_NAME_BUF], cand[RESP_NAME_MAX + 1];
	struct hub_span p;
	size_t i;

	for (i = 0; i < m->n; i++)
		if (hub_span_same(v->tools[i].name, name)) {
			buf_json_cstr(b, m->s[i]);
			return;
		}
	if (name.n <= RESP_NAME_MAX) {
		hub_put_str(b, name);
		return;
	}
	p = name_plain(name, tmp, sizeof(tmp));
	name_base(p.p, p.n, cand);
	buf_json_cstr(b, cand);
}

int hub_responses_name_map(const struct hub_view *v, struct buf *map)
{
	struct resp_names m;
	char tmp[RESP_NAME_BUF];
	size_t i;

	if (names_build(v, &m) < 0)
		return -1;
	for (i = 0; i < m.n; i++) {
		struct hub_span p = name_plain(v->tools[i].name, tmp,
					       sizeof(tmp));
		if (p.n == strlen(m.s[i]) && memcmp(p.p, m.s[i], p.n) == 0)
			continue; /* sent as it is */
		buf_puts(map, m.s[i]);
		buf_putc(map, '\0');
		buf_put(map, v->tools[i].name.p, v->tools[i].name.n);
		buf_putc(map, '\0');
	}
	free(m.s);
	return 0;
}

/* ---- encode_request ------------------------------------------------------ */

struct resp_rw {
	const struct hub_view *v;
	struct buf *b;
	struct resp_names names;
	int open;   /* role of the open message item, -1 none */
	int nitems;
};

static void rw_close(struct resp_rw *w)
{
	if (w->open >= 0) {
		buf_puts(w->b, "]}");
		w->open = -1;
	}
}

/* Start a new item (closing an open message). */
static void rw_item(struct resp_rw *w)
{
	rw_close(w);
	if (w->nitems++)
		buf_putc(w->b, ',');
}

static void rw_message(struct resp_rw *w, enum hub_role role)
{
	if (w->open == (int)role) {
		buf_putc(w->b, ',');
		return;
	}
	rw_item(w);
	buf_puts(w->b, role == HUB_ASSISTANT ?
		 "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[" :
		 role == HUB_SYSTEM ?
		 "{\"type\":\"message\",\"role\":\"developer\",\"content\":[" :
		 "{\"type\":\"message\",\"role\":\"user\",\"content\":[");
	w->open = (int)role;
}

static void rw_image(struct resp_rw *w, const struct hub_part *p)
{
	rw_message(w, HUB_USER); /* assistant content cannot hold images */
	buf_puts(w->b, "{\"type\":\"input_image\",\"image_url\":\"");
	hub_put_image_url(w->b, p);
	buf_puts(w->b, "\"}");
}

/* Call ids for parts without one (Gemini): "call_<msg>_<k>" with k the
 * ordinal among id-less calls of the assistant message; a result pairs
 * with the previous assistant message and its own ordinal. */
static void rw_synth_id(struct resp_rw *w, size_t mi, size_t pi)
{
	const struct hub_view *v = w->v;
	size_t m = mi, k = 0, i;

	for (i = v->msgs[mi].first; i < pi; i++)
		if (v->parts[i].type == v->parts[pi].type && !v->parts[i].id.p)
			k++;
	if (v->parts[pi].type == HUB_P_TOOL_RESULT)
		while (m > 0 && v->msgs[m].role != HUB_ASSISTANT)
			m--;
	buf_printf(w->b, "\"call_%zu_%zu\"", m, k);
}

/* A new item of a type that carries call_id: `{"type":..,"call_id":..`. */
static void rw_call_item(struct resp_rw *w, const char *type, size_t mi,
			 size_t pi)
{
	const struct hub_part *p = &w->v->parts[pi];

	rw_item(w);
	buf_printf(w->b, "{\"type\":\"%s\",\"call_id\":", type);
	if (p->id.p)
		hub_put_str(w->b, p->id);
	else
		rw_synth_id(w, mi, pi);
}

static void rw_call(struct resp_rw *w, size_t mi, size_t pi)
{
	const struct hub_part *p = &w->v->parts[pi];

	rw_call_item(w, "function_call", mi, pi);
	buf_puts(w->b, ",\"name\":");
	put_name(w->b, w->v, &w->names, p->name);
	buf_puts(w->b, ",\"arguments\":");
	if (!p->args.p || !p->args.n)
		buf_puts(w->b, "\"{}\"");
	else if (p->args_is_str)
		hub_put_str(w->b, p->args);
	else
		hub_put_json_as_str(w->b, p->args);
	buf_putc(w->b, '}');
}

/* Raw results: a JSON string stays, an array of text blocks becomes its
 * joined text, anything else its JSON text. */
static void rw_result_raw(struct resp_rw *w, struct hub_span r)
{
	const struct json *j = w->v->json;
	int t = hub_tok_at(j, r.p), k, e, ok = 1;

	if (r.n && r.p[0] == '"') {
		buf_put(w->b, r.p, r.n);
		return;
	}
	for (k = 0, e = t + 1;
	     hub_tok_is(j, t, JSMN_ARRAY) && k < j->tok[t].size;
	     k++, e = json_skip(j, e))
		if (!hub_tok_str(j, e, "text").p)
			ok = 0;
	if (!hub_tok_is(j, t, JSMN_ARRAY) || !ok) {
		hub_put_json_as_str(w->b, r);
		return;
	}
	buf_putc(w->b, '"');
	for (k = 0, e = t + 1; k < j->tok[t].size; k++, e = json_skip(j, e)) {
		struct hub_span s = hub_tok_str(j, e, "text");
		if (k)
			buf_puts(w->b, "\\n");
		buf_put(w->b, s.p, s.n);
	}
	buf_putc(w->b, '"');
}

static void rw_result(struct resp_rw *w, size_t mi, size_t pi)
{
	const struct hub_part *p = &w->v->parts[pi];

	rw_call_item(w, "function_call_output", mi, pi);
	buf_puts(w->b, ",\"output\":");
	if (p->result_is_str || !p->result.p)
		hub_put_str(w->b, p->result);
	else
		rw_result_raw(w, p->result);
	buf_putc(w->b, '}');
}

/* THINKING parts [pi, end) up to and including the first signed one form
 * one reasoning item; an unsigned run is dropped.  Returns end. */
static size_t rw_reasoning(struct resp_rw *w, size_t pi, size_t end)
{
	const struct hub_part *ps = w->v->parts;
	int client = w->v->client_fmt;
	size_t e = pi, i;
	int n = 0;

	/* Only Codex's own encrypted_content can be replayed: a signature a
	 * Claude, Gemini or OpenRouter client brings is not (the view of an
	 * unknown client is taken as it is). */
	if (client >= 0 && client != HUB_RESPONSES) {
		while (e < end && ps[e].type == HUB_P_THINKING)
			e++;
		return e;
	}
	while (e < end && ps[e].type == HUB_P_THINKING && !ps[e].signature.p)
		e++;
	if (e >= end || ps[e].type != HUB_P_THINKING)
		return e; /* no signature: cannot be replayed */
	rw_item(w);
	buf_puts(w->b, "{\"type\":\"reasoning\",\"summary\":[");
	for (i = pi; i <= e; i++) {
		if (ps[i].redacted || !ps[i].text.n)
			continue;
		buf_puts(w->b, n++ ? ",{\"type\":\"summary_text\",\"text\":" :
			 "{\"type\":\"summary_text\",\"text\":");
		hub_put_str(w->b, ps[i].text);
		buf_putc(w->b, '}');
	}
	buf_puts(w->b, "],\"encrypted_content\":");
	hub_put_str(w->b, ps[e].signature);
	buf_putc(w->b, '}');
	return e + 1;
}

static void rw_input(struct resp_rw *w)
{
	const struct hub_view *v = w->v;
	size_t mi, pi, end;

	for (mi = 0; mi < v->nmsgs; mi++) {
		const struct hub_msg *m = &v->msgs[mi];
		end = m->first + m->n;
		for (pi = m->first; pi < end;) {
			const struct hub_part *p = &v->parts[pi];
			switch (p->type) {
			case HUB_P_TEXT:
				rw_message(w, m->role);
				buf_puts(w->b, m->role == HUB_ASSISTANT ?
					 "{\"type\":\"output_text\",\"text\":" :
					 "{\"type\":\"input_text\",\"text\":");
				hub_put_str(w->b, p->text);
				buf_putc(w->b, '}');
				break;
			case HUB_P_IMAGE: rw_image(w, p); break;
			case HUB_P_TOOL_CALL: rw_call(w, mi, pi); break;
			case HUB_P_TOOL_RESULT: rw_result(w, mi, pi); break;
			case HUB_P_THINKING:
				pi = rw_reasoning(w, pi, end);
				continue;
			}
			pi++;
		}
		rw_close(w); /* a new view message starts a new item */
	}
}

static void rw_tools(struct resp_rw *w)
{
	const struct hub_view *v = w->v;
	size_t i;

	if (!v->ntools)
		return;
	buf_puts(w->b, ",\"tools\":[");
	for (i = 0; i < v->ntools; i++) {
		const struct hub_tool *t = &v->tools[i];
		buf_puts(w->b, i ? ",{\"type\":\"function\",\"name\":" :
			 "{\"type\":\"function\",\"name\":");
		buf_json_cstr(w->b, w->names.s[i]);
		hub_put_str_member(w->b, "description", t->description);
		buf_puts(w->b, ",\"parameters\":");
		hub_put_schema(w->b, t->schema);
		buf_puts(w->b, ",\"strict\":false}");
	}
	buf_puts(w->b, "],\"tool_choice\":");
	switch (v->tool_choice) {
	case HUB_TC_NONE: buf_puts(w->b, "\"none\""); break;
	case HUB_TC_ANY: buf_puts(w->b, "\"required\""); break;
	case HUB_TC_TOOL:
		buf_puts(w->b, "{\"type\":\"function\",\"name\":");
		put_name(w->b, v, &w->names, v->tool_choice_name);
		buf_putc(w->b, '}');
		break;
	default: buf_puts(w->b, "\"auto\""); break;
	}
}

/* Explicit efforts pass as they are; one derived from "thinking off"
 * becomes low (Codex models reject none/minimal unevenly). */
static const char *rw_effort(const struct hub_view *v)
{
	enum hub_effort e = v->effort;

	if (e == HUB_EFFORT_UNSET) {
		e = hub_effort_for_budget(v->thinking_budget);
		if (e == HUB_EFFORT_UNSET && v->thinking == 0)
			e = HUB_EFFORT_NONE;
		if (e == HUB_EFFORT_NONE || e == HUB_EFFORT_MINIMAL)
			e = HUB_EFFORT_LOW;
	}
	switch (e) {
	case HUB_EFFORT_NONE: return "none";
	case HUB_EFFORT_MINIMAL: return "minimal";
	case HUB_EFFORT_LOW: return "low";
	case HUB_EFFORT_HIGH: return "high";
	default: return "medium";
	}
}

/* response_format -> text.format: the chat shape {type, json_schema:{name,
 * schema, strict}} is flattened; the Responses shape is copied. */
static void rw_text_format(struct resp_rw *w)
{
	const struct json *j = w->v->json;
	struct hub_span rf = w->v->response_format;
	int t = hub_tok_at(j, rf.p), js = json_get(j, t, "json_schema");

	if (!rf.p)
		return;
	buf_puts(w->b, ",\"text\":{\"format\":");
	if (hub_tok_is(j, js, JSMN_OBJECT) && j->tok[js].size > 0) {
		struct hub_span in = hub_tok_raw(j, js);
		buf_puts(w->b, "{\"type\":\"json_schema\",");
		buf_put(w->b, in.p + 1, in.n - 1); /* members and the '}' */
	} else if (hub_tok_is(j, js, JSMN_OBJECT)) {
		buf_puts(w->b, "{\"type\":\"json_schema\"}");
	} else {
		buf_put(w->b, rf.p, rf.n);
	}
	buf_putc(w->b, '}');
}

/* The output cap and the sampling parameters the view has. */
static void rw_sampling(const struct hub_view *v, struct buf *out)
{
	if (v->max_tokens >= 0)
		buf_printf(out, ",\"max_output_tokens\":%ld", v->max_tokens);
	hub_put_raw_member(out, "temperature", v->temperature);
	hub_put_raw_member(out, "top_p", v->top_p);
}

int hub_responses_encode_request(const struct hub_view *v,
				 const struct hub_req_opts *o,
				 struct buf *out, char *err, size_t errlen)
{
	struct resp_rw w;
	size_t i;

	memset(&w, 0, sizeof(w));
	w.v = v;
	w.b = out;
	w.open = -1;
	if (names_build(v, &w.names) < 0)
		return hub_fail(err, errlen, "out of memory");
	buf_puts(out, "{\"model\":");
	if (o->model)
		buf_json_cstr(out, o->model);
	else
		hub_put_str(out, v->model);
	buf_puts(out, ",\"instructions\":\"");
	for (i = 0; i < v->sys_n; i++) {
		const struct hub_part *p = &v->parts[v->sys_first + i];
		if (i)
			buf_puts(out, "\\n\\n");
		if (p->type == HUB_P_TEXT && p->text.p)
			buf_put(out, p->text.p, p->text.n);
	}
	buf_puts(out, "\",\"input\":[");
	rw_input(&w);
	buf_putc(out, ']');
	rw_tools(&w);
	buf_printf(out, ",\"parallel_tool_calls\":%s,\"reasoning\":{\"effort\":",
		   v->parallel_tool_calls == 0 ? "false" : "true");
	buf_json_cstr(out, o->effort ? o->effort : rw_effort(v));
	buf_printf(out, ",\"summary\":\"auto\"},\"stream\":%s,\"store\":false,"
		   "\"include\":[\"reasoning.encrypted_content\"]",
		   o->stream ? "true" : "false");
	if (!o->codex) /* the Codex backend refuses these three */
		rw_sampling(v, out);
	rw_text_format(&w);
	buf_putc(out, '}');
	free(w.names.s);
	return 0;
}

/* ---- decode_event / decode_body -------------------------------------------- */

/* Emit, preceded by START when nothing was emitted yet. */
static void dc_begin(struct hub_sink *c)
{
	hub_sink_start(c, hub_span_of(NULL, 0), hub_span_of(NULL, 0));
}

static void dc_emit(struct hub_sink *c, struct hub_event *ev)
{
	dc_begin(c);
	hub_sink_emit(c, ev);
}

static void dc_text(struct hub_sink *c, enum hub_ev_type type,
		    struct hub_span s)
{
	struct hub_event ev;
	if (!s.p || !s.n)
		return;
	hub_event_init(&ev, type);
	ev.text = s;
	if (type == HUB_EV_TOOL_ARGS)
		ev.index = c->d->u.responses.open_tool - 1;
	dc_emit(c, &ev);
}

/* Did deltas already stream output item oi?  (Unknown ones: yes.) */
static int dc_seen(struct hub_sink *c, long oi)
{
	return oi < 0 || oi >= HUB_SLOTS || c->d->u.responses.seen[oi];
}

static void dc_mark(struct hub_sink *c, int obj)
{
	long oi = hub_tok_long_at(c->j, obj, "output_index", -1);
	if (oi >= 0 && oi < HUB_SLOTS)
		c->d->u.responses.seen[oi] = 1;
}

static void dc_tool_end(struct hub_sink *c)
{
	struct hub_event ev;
	if (!c->d->u.responses.open_tool)
		return;
	hub_event_init(&ev, HUB_EV_TOOL_END);
	ev.index = c->d->u.responses.open_tool - 1;
	c->d->u.responses.open_tool = 0;
	dc_emit(c, &ev);
}

static void dc_tool_start(struct hub_sink *c, int item)
{
	struct hub_event ev;
	char id[40];

	dc_tool_end(c);
	hub_event_init(&ev, HUB_EV_TOOL_START);
	ev.index = c->d->ntools++;
	ev.id = hub_tok_str(c->j, item, "call_id");
	if (!ev.id.p)
		ev.id = hub_tok_str(c->j, item, "id");
	if (!ev.id.p) { /* made for this event: the span dies with it */
		hub_gen_id(id, sizeof(id), "call_", c->d->seed, ev.index);
		ev.id = hub_span_of(id, strlen(id));
	}
	ev.name = hub_tok_str(c->j, item, "name");
	c->d->u.responses.open_tool = ev.index + 1;
	dc_emit(c, &ev);
}

static void dc_message_item(struct hub_sink *c, int item)
{
	const struct json *j = c->j;
	int ct = json_get(j, item, "content"), k, e;

	for (k = 0, e = ct + 1;
	     hub_tok_is(j, ct, JSMN_ARRAY) && k < j->tok[ct].size;
	     k++, e = json_skip(j, e)) {
		if (json_str_eq(j, json_get(j, e, "type"), "refusal"))
			dc_text(c, HUB_EV_TEXT, hub_tok_str(j, e, "refusal"));
		else
			dc_text(c, HUB_EV_TEXT, hub_tok_str(j, e, "text"));
	}
}

static void dc_reasoning_item(struct hub_sink *c, int item, int seen)
{
	static const struct hub_span sep = {"\\n\\n", 4};
	const struct json *j = c->j;
	int sum = json_get(j, item, "summary"), k, e;

	for (k = 0, e = sum + 1;
	     !seen && hub_tok_is(j, sum, JSMN_ARRAY) && k < j->tok[sum].size;
	     k++, e = json_skip(j, e)) {
		if (k)
			dc_text(c, HUB_EV_THINKING, sep);
		dc_text(c, HUB_EV_THINKING, hub_tok_str(j, e, "text"));
	}
	dc_text(c, HUB_EV_THINKING_SIG,
		hub_tok_str(j, item, "encrypted_content"));
}

/* A finished output item: its content unless deltas carried it already. */
static void dc_item_done(struct hub_sink *c, int item, int seen)
{
	const struct json *j = c->j;
	int ty = json_get(j, item, "type");

	if (json_str_eq(j, ty, "function_call")) {
		if (!c->d->u.responses.open_tool)
			dc_tool_start(c, item);
		if (!seen)
			dc_text(c, HUB_EV_TOOL_ARGS,
				hub_tok_str(j, item, "arguments"));
		dc_tool_end(c);
	} else if (json_str_eq(j, ty, "reasoning")) {
		dc_reasoning_item(c, item, seen);
	} else if (json_str_eq(j, ty, "message") && !seen) {
		dc_message_item(c, item);
	}
}

static int dc_status_for(struct hub_span code)
{
	if (hub_span_has(code, "rate_limit") || hub_span_has(code, "quota") ||
	    hub_span_has(code, "usage_limit"))
		return 429;
	if (hub_span_has(code, "context_length") ||
	    hub_span_has(code, "invalid"))
		return 400;
	/* the Codex backend's "server_is_overloaded", "slow_down": the
	 * client may try again, which a 503 says (a 502 says it failed) */
	if (hub_span_has(code, "overloaded") || hub_span_has(code, "slow_down"))
		return 503;
	return 502;
}

/* An error object {code, message} (or a whole error event). */
static void dc_error(struct hub_sink *c, int obj)
{
	struct hub_span msg = hub_tok_str(c->j, obj, "message");

	dc_begin(c);
	hub_sink_error(c, dc_status_for(hub_tok_str(c->j, obj, "code")),
		       msg.p ? msg : HUB_LIT("upstream request failed"));
}

static void dc_usage(struct hub_sink *c, int r)
{
	static const char *const names[4] = {
		"input_tokens", "output_tokens",
		"input_tokens_details.cached_tokens",
		"output_tokens_details.reasoning_tokens",
	};
	int u = json_get(c->j, r, "usage");

	if (!hub_tok_is(c->j, u, JSMN_OBJECT))
		return;
	hub_tok_usage(c->j, u, names, &c->d->usage);
	dc_begin(c);
	hub_sink_usage(c);
}

/* The response object at its end: usage and finish reason. */
static void dc_finish(struct hub_sink *c, int r)
{
	const struct json *j = c->j;
	struct hub_span why =
		hub_tok_str(j, json_get(j, r, "incomplete_details"), "reason");
	enum hub_finish f = c->d->ntools ? HUB_FIN_TOOL : HUB_FIN_STOP;

	dc_tool_end(c);
	dc_usage(c, r);
	if (json_str_eq(j, json_get(j, r, "status"), "incomplete") && why.p)
		f = hub_span_eq(why, "content_filter") ? HUB_FIN_FILTER
						       : HUB_FIN_LENGTH;
	c->d->done = 1;
	dc_begin(c);
	hub_sink_finish(c, f, hub_span_of(NULL, 0));
}

static void dc_start(struct hub_sink *c, int r)
{
	hub_sink_start(c, hub_tok_str(c->j, r, "id"),
		       hub_tok_str(c->j, r, "model"));
}

static void dc_dispatch(struct hub_sink *c, struct hub_span ty)
{
	static const struct hub_span sep = {"\\n\\n", 4};
	const struct json *j = c->j;
	int r = json_get(j, 0, "response"), item = json_get(j, 0, "item");
	long oi = hub_tok_long_at(j, 0, "output_index", -1);

	if (hub_span_eq(ty, "response.created")) {
		dc_start(c, r);
	} else if (hub_span_eq(ty, "response.output_text.delta") ||
		   hub_span_eq(ty, "response.refusal.delta")) {
		dc_mark(c, 0);
		dc_text(c, HUB_EV_TEXT, hub_tok_str(j, 0, "delta"));
	} else if (hub_span_eq(ty, "response.reasoning_summary_text.delta") ||
		   hub_span_eq(ty, "response.reasoning_text.delta")) {
		dc_mark(c, 0);
		dc_text(c, HUB_EV_THINKING, hub_tok_str(j, 0, "delta"));
	} else if (hub_span_eq(ty, "response.reasoning_summary_part.added")) {
		if (hub_tok_long_at(j, 0, "summary_index", 0) > 0)
			dc_text(c, HUB_EV_THINKING, sep);
	} else if (hub_span_eq(ty, "response.output_item.added")) {
		if (json_str_eq(j, json_get(j, item, "type"), "function_call")) {
			dc_tool_start(c, item);
			if (hub_tok_str(j, item, "arguments").n)
				dc_mark(c, 0);
			dc_text(c, HUB_EV_TOOL_ARGS,
				hub_tok_str(j, item, "arguments"));
		}
	} else if (hub_span_eq(ty, "response.function_call_arguments.delta")) {
		if (c->d->u.responses.open_tool) {
			dc_mark(c, 0);
			dc_text(c, HUB_EV_TOOL_ARGS,
				hub_tok_str(j, 0, "delta"));
		}
	} else if (hub_span_eq(ty, "response.output_item.done")) {
		if (hub_tok_is(j, item, JSMN_OBJECT))
			dc_item_done(c, item, dc_seen(c, oi));
	} else if (hub_span_eq(ty, "response.completed") ||
		   hub_span_eq(ty, "response.incomplete")) {
		dc_finish(c, r);
	} else if (hub_span_eq(ty, "response.failed")) {
		dc_error(c, json_get(j, r, "error"));
	} else if (hub_span_eq(ty, "error")) {
		int e = json_get(j, 0, "error");
		dc_error(c, hub_tok_is(j, e, JSMN_OBJECT) ? e : 0);
	}
}

void hub_responses_decode_event(struct hub_sdec *d, const struct hub_sse *ev,
				hub_emit_fn emit, void *user)
{
	struct hub_sink c = {d, NULL, emit, user};
	struct json j;
	struct hub_span ty;

	if (!ev || d->done || !ev->data.p || !ev->data.n)
		return; /* !ev: end of stream, nothing is held back */
	if (hub_span_eq(ev->data, "[DONE]")) {
		d->done = 1;
		return;
	}
	buf_reset(&d->scratch);
	if (hub_sdec_parse(d, ev->data.p, ev->data.n, &j) < 0 ||
	    j.tok[0].type != JSMN_OBJECT) {
		dc_begin(&c);
		hub_sink_error(&c, 502, HUB_LIT("malformed upstream event"));
		return;
	}
	c.j = &j;
	ty = hub_tok_str(&j, 0, "type");
	dc_dispatch(&c, ty.p ? ty : ev->event);
}

int hub_responses_decode_body(struct hub_sdec *d, const char *body,
			      size_t len, hub_emit_fn emit, void *user)
{
	struct hub_sink c = {d, NULL, emit, user};
	struct json j;
	int r = 0, out, k, it;

	if (hub_sdec_parse(d, body, len, &j) < 0 || j.tok[0].type != JSMN_OBJECT)
		return -1;
	c.j = &j;
	if (json_get(&j, 0, "output") < 0 &&
	    hub_tok_is(&j, json_get(&j, 0, "response"), JSMN_OBJECT))
		r = json_get(&j, 0, "response"); /* a response.* event's data */
	out = json_get(&j, r, "output");
	if (!hub_tok_is(&j, out, JSMN_ARRAY))
		return -1;
	dc_start(&c, r);
	if (json_str_eq(&j, json_get(&j, r, "status"), "failed")) {
		dc_error(&c, json_get(&j, r, "error"));
		return 0;
	}
	for (k = 0, it = out + 1; k < j.tok[out].size; k++, it = json_skip(&j, it))
		if (hub_tok_is(&j, it, JSMN_OBJECT))
			dc_item_done(&c, it, 0);
	dc_finish(&c, r);
	return 0;
}
