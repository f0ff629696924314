/*
 * hub.c - the parts of the translation hub every codec shares (see hub.h):
 *
 *   view      its growable arrays (one append), and its string arena:
 *             blocks that never move, so spans into them stay valid until
 *             hub_view_free, bounded by HUB_VIEW_ARENA_MAX
 *   words     what the view means across formats: thinking budgets <->
 *             effort, OpenAI's effort and tool_choice words, a result's
 *             call, part counts
 *   state     decoder and encoder set-up, reset and free; the table of
 *             each encoder's buffers (enc_buf_off) is the one place that
 *             knows them; an answer's id and model (hub_enc_take_start,
 *             hub_enc_begin)
 *   strings   conversions between the "str" and "raw" span kinds, data
 *             URLs, tool arguments as an object, compact JSON, ids
 *   schemas   Gemini schema cleaning
 *
 * The token readers and the codecs' request / writer / sink helpers are in
 * hub_tok.c.
 */
#include "hub.h"
#include "hub_tok.h"
#include "sizes.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---- view -------------------------------------------------------------------- */

void hub_view_init(struct hub_view *v, const struct json *j)
{
	memset(v, 0, sizeof(*v));
	v->json = j;
	v->client_fmt = -1;
	v->max_tokens = -1;
	v->thinking = -1;
	v->thinking_budget = HUB_BUDGET_UNSET;
	v->include_thoughts = -1;
	v->parallel_tool_calls = -1;
}

/* A block of a view's string arena. */
struct hub_arena_blk {
	struct hub_arena_blk *next;
	size_t len, cap;
	char data[];
};

#define ARENA_BLOCK 1024

struct hub_span hub_view_str(struct hub_view *v, const char *p, size_t n)
{
	struct hub_arena_blk *b = v->arena;
	struct hub_span s = {NULL, 0};

	if (n > HUB_VIEW_ARENA_MAX - v->arena_used)
		return s;
	if (!n) {
		s.p = "";
		return s;
	}
	if (!b || b->cap - b->len < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return s;
		b->next = v->arena;
		b->len = 0;
		b->cap = cap;
		v->arena = b;
	}
	memcpy(b->data + b->len, p, n);
	s.p = b->data + b->len;
	s.n = n;
	b->len += n;
	v->arena_used += n;
	return s;
}

void hub_view_free(struct hub_view *v)
{
	while (v->arena) {
		struct hub_arena_blk *b = v->arena;
		v->arena = b->next;
		free(b);
	}
	v->arena_used = 0;
	free(v->parts);
	free(v->msgs);
	free(v->tools);
	v->parts = NULL;
	v->msgs = NULL;
	v->tools = NULL;
	v->nparts = v->nmsgs = v->ntools = 0;
}

/* Append a zeroed element of size elem to the array arr (*n used, *cap
 * allocated, doubling): the array, maybe moved, with *at set to the new
 * element; NULL when out of memory (arr is then unchanged). */
static void *append(void *arr, size_t *cap, size_t *n, size_t elem,
		    void **at)
{
	char *na = arr;

	if (*n >= *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		if (!(na = realloc(arr, nc * elem)))
			return NULL;
		*cap = nc;
	}
	*at = na + *n * elem;
	memset(*at, 0, elem);
	(*n)++;
	return na;
}

struct hub_part *hub_add_part(struct hub_view *v)
{
	void *p = NULL, *a = append(v->parts, &v->cap_parts, &v->nparts,
				    sizeof(*v->parts), &p);
	v->parts = a ? a : v->parts;
	return p;
}

struct hub_msg *hub_add_msg(struct hub_view *v, enum hub_role role)
{
	void *m = NULL, *a = append(v->msgs, &v->cap_msgs, &v->nmsgs,
				    sizeof(*v->msgs), &m);
	if (!a)
		return NULL;
	v->msgs = a;
	((struct hub_msg *)m)->role = role;
	((struct hub_msg *)m)->first = v->nparts;
	return m;
}

struct hub_tool *hub_add_tool(struct hub_view *v)
{
	void *t = NULL, *a = append(v->tools, &v->cap_tools, &v->ntools,
				    sizeof(*v->tools), &t);
	if (!a)
		return NULL;
	v->tools = a;
	((struct hub_tool *)t)->schema_tok = -1;
	return t;
}

struct hub_span hub_view_call_name(const struct hub_view *v, size_t before,
				   struct hub_span id)
{
	struct hub_span none = {NULL, 0};

	while (before-- > 0)
		if (v->parts[before].type == HUB_P_TOOL_CALL &&
		    hub_span_same(v->parts[before].id, id))
			return v->parts[before].name;
	return none;
}

size_t hub_msg_count(const struct hub_view *v, const struct hub_msg *m,
		     enum hub_part_type t)
{
	size_t i, n = 0;
	for (i = m->first; i < m->first + m->n; i++)
		n += v->parts[i].type == t;
	return n;
}

int hub_effort_of(const struct json *j, int t, enum hub_effort *e)
{
	static const struct hub_word tab[] = {
		{"none", HUB_EFFORT_NONE},     {"minimal", HUB_EFFORT_MINIMAL},
		{"low", HUB_EFFORT_LOW},       {"medium", HUB_EFFORT_MEDIUM},
		{"high", HUB_EFFORT_HIGH},     {"xhigh", HUB_EFFORT_HIGH},
		{"auto", HUB_EFFORT_AUTO},
	};
	int v = hub_word_val(tab, HUB_NELEM(tab), j, t, -1);

	if (v < 0)
		return -1;
	*e = (enum hub_effort)v;
	return 0;
}

int hub_tool_choice_of(const struct json *j, int tc, struct hub_view *v)
{
	static const struct hub_word tab[] = {
		{"auto", HUB_TC_AUTO}, {"none", HUB_TC_NONE},
		{"required", HUB_TC_ANY},
	};
	int f = json_get(j, tc, "function"), w;

	if ((w = hub_word_val(tab, HUB_NELEM(tab), j, tc, -1)) >= 0) {
		v->tool_choice = (enum hub_tool_choice)w;
		return 0;
	}
	if (!hub_tok_is(j, tc, JSMN_OBJECT))
		return -1;
	/* chat: {"type":"function","function":{"name"}}; Responses:
	 * {"type":"function","name"}; anything else (allowed_tools, hosted
	 * tools) leaves the choice to the model */
	if (hub_tok_is(j, f, JSMN_OBJECT))
		v->tool_choice_name = hub_tok_text(j, f, "name");
	else if (json_str_eq(j, json_get(j, tc, "type"), "function"))
		v->tool_choice_name = hub_tok_text(j, tc, "name");
	v->tool_choice = v->tool_choice_name.p ? HUB_TC_TOOL : HUB_TC_AUTO;
	return 0;
}

long hub_budget_for_effort(enum hub_effort e)
{
	switch (e) {
	case HUB_EFFORT_NONE: return 0;
	case HUB_EFFORT_MINIMAL: return 512;
	case HUB_EFFORT_LOW: return 1024;
	case HUB_EFFORT_MEDIUM: return 8192;
	case HUB_EFFORT_HIGH: return 24576;
	case HUB_EFFORT_AUTO: return -1;
	default: return HUB_BUDGET_UNSET;
	}
}

enum hub_effort hub_effort_for_budget(long b)
{
	if (b == HUB_BUDGET_UNSET)
		return HUB_EFFORT_UNSET;
	if (b < 0)
		return HUB_EFFORT_AUTO;
	if (b == 0)
		return HUB_EFFORT_NONE;
	if (b <= 512)
		return HUB_EFFORT_MINIMAL;
	if (b <= 1024)
		return HUB_EFFORT_LOW;
	if (b <= 8192)
		return HUB_EFFORT_MEDIUM;
	return HUB_EFFORT_HIGH;
}

void hub_usage_merge(struct hub_usage *u, const struct hub_usage *n)
{
	if (n->input >= 0)
		u->input = n->input;
	if (n->output >= 0)
		u->output = n->output;
	if (n->cached >= 0)
		u->cached = n->cached;
	if (n->cache_write >= 0)
		u->cache_write = n->cache_write;
	if (n->thoughts >= 0)
		u->thoughts = n->thoughts;
}

void hub_event_init(struct hub_event *ev, enum hub_ev_type t)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = t;
	ev->usage.input = ev->usage.output = ev->usage.cached = -1;
	ev->usage.cache_write = ev->usage.thoughts = -1;
}

/* ---- decoder / encoder state ---------------------------------------------- */

void hub_sdec_init(struct hub_sdec *d, enum hub_fmt f, uint32_t seed)
{
	memset(d, 0, sizeof(*d));
	d->fmt = f;
	d->seed = seed;
	d->usage.input = d->usage.output = d->usage.cached = -1;
	d->usage.cache_write = d->usage.thoughts = -1;
	buf_init(&d->scratch, 64 * 1024 * 1024);
}

void hub_sdec_free(struct hub_sdec *d)
{
	buf_free(&d->scratch);
	free(d->tok);
	d->tok = NULL;
	d->ntok_cap = 0;
}

int hub_sdec_parse(struct hub_sdec *d, const char *js, size_t len,
		   struct json *out)
{
	jsmn_parser p;
	int n;

	if (json_validate(js, len) < 0)
		return -1;
	for (;;) {
		if (!d->tok) {
			d->ntok_cap = 256;
			d->tok = malloc((size_t)d->ntok_cap * sizeof(*d->tok));
			if (!d->tok)
				return -1;
		}
		jsmn_init(&p);
		n = jsmn_parse(&p, js, len, d->tok, (unsigned)d->ntok_cap);
		if (n != JSMN_ERROR_NOMEM)
			break;
		{
			/* Grows to the largest event seen, then stays. */
			jsmntok_t *nt = realloc(d->tok, (size_t)d->ntok_cap * 2 *
							       sizeof(*nt));
			if (!nt)
				return -1;
			d->tok = nt;
			d->ntok_cap *= 2;
		}
	}
	if (n <= 0)
		return -1;
	out->js = js;
	out->len = len;
	out->tok = d->tok;
	out->ntok = n;
	return n;
}

/* The buffers of each format's encoder (all of its union member's), as
 * offsets into struct hub_enc; 0 ends a list. */
#define ENC_BUFS_MAX 5
#define EB(m) offsetof(struct hub_enc, u.m)

static const size_t enc_buf_off[HUB__COUNT][ENC_BUFS_MAX + 1] = {
	[HUB_OPENAI] = {EB(openai.text), EB(openai.reasoning),
			EB(openai.calls_json), EB(openai.err)},
	[HUB_CLAUDE] = {EB(claude.stop), EB(claude.blocks), EB(claude.sig),
			EB(claude.args), EB(claude.err)},
	[HUB_GEMINI] = {EB(gemini.args), EB(gemini.held), EB(gemini.parts),
			EB(gemini.err)},
	[HUB_RESPONSES] = {EB(responses.text), EB(responses.meta),
			   EB(responses.items), EB(responses.err)},
	[HUB_COMPLETIONS] = {EB(completions.text), EB(completions.err)},
};

/* Buffer k of e's encoder, or NULL past the last. */
static struct buf *enc_buf(const struct hub_enc *e, size_t k)
{
	size_t off;
	if ((unsigned)e->fmt >= HUB__COUNT || k >= ENC_BUFS_MAX)
		return NULL;
	off = enc_buf_off[e->fmt][k];
	return off ? (struct buf *)((char *)e + off) : NULL;
}

/* Everything but the options and the request copy, as new. */
static void enc_start(struct hub_enc *e)
{
	struct buf *b;
	size_t k;

	memset(&e->u, 0, sizeof(e->u));
	e->id[0] = '\0';
	snprintf(e->model, sizeof(e->model), "%s",
		 e->o.model ? e->o.model : "");
	e->usage.input = e->usage.output = e->usage.cached = -1;
	e->usage.cache_write = e->usage.thoughts = -1;
	e->finish = HUB_FIN_STOP;
	e->have_finish = 0;
	for (k = 0; (b = enc_buf(e, k)) != NULL; k++)
		buf_init(b, HUB_ENC_BUF_MAX);
}

static void enc_free_bufs(struct hub_enc *e)
{
	struct buf *b;
	size_t k;

	for (k = 0; (b = enc_buf(e, k)) != NULL; k++)
		buf_free(b);
}

void hub_enc_init(struct hub_enc *e, enum hub_fmt f,
		  const struct hub_enc_opts *o)
{
	memset(e, 0, sizeof(*e));
	e->fmt = f;
	e->o = *o;
	e->o.req = NULL; /* the view may not outlive this call */
	buf_init(&e->req, HUB_ENC_BUF_MAX);
	if (f == HUB_RESPONSES) /* it echoes the request's parameters */
		hub_responses_copy_request(&e->req, o->req);
	enc_start(e);
}

void hub_enc_reset(struct hub_enc *e)
{
	enc_free_bufs(e);
	enc_start(e);
}

void hub_enc_free(struct hub_enc *e)
{
	enc_free_bufs(e);
	buf_free(&e->req);
}

size_t hub_enc_held(const struct hub_enc *e)
{
	const struct buf *b;
	size_t k, held = e->req.cap;

	for (k = 0; (b = enc_buf(e, k)) != NULL; k++)
		held += b->cap;
	return held;
}

void hub_enc_take_start(struct hub_enc *e, const struct hub_event *ev)
{
	char tmp[sizeof(e->model)];

	if (ev->id.n && hub_unescape(ev->id, tmp, sizeof(e->id)) > 0)
		memcpy(e->id, tmp, sizeof(e->id));
	if (ev->model.n && hub_unescape(ev->model, tmp, sizeof(tmp)) > 0)
		memcpy(e->model, tmp, sizeof(e->model));
}

void hub_enc_make_id(struct hub_enc *e, const char *prefix)
{
	if (!e->id[0])
		hub_gen_id(e->id, sizeof(e->id), prefix, e->o.seed, 0);
}

int hub_enc_begin(struct hub_enc *e, int *started, const char *prefix)
{
	if (*started)
		return 0;
	*started = 1;
	hub_enc_make_id(e, prefix);
	return 1;
}

void hub_enc_first(struct hub_enc *e, const struct hub_event *ev,
		   int *started, const char *prefix)
{
	if (!*started && ev->type == HUB_EV_START)
		hub_enc_take_start(e, ev);
	hub_enc_begin(e, started, prefix);
}

/* ---- strings ------------------------------------------------------------- */

void hub_put_str(struct buf *b, struct hub_span s)
{
	buf_putc(b, '"');
	buf_put(b, s.p, s.n); /* nothing when unset (n is 0) */
	buf_putc(b, '"');
}

void hub_escape(struct buf *b, const char *p, size_t n)
{
	buf_json_esc(b, p, n);
}

void hub_put_json_as_str(struct buf *b, struct hub_span s)
{
	if (s.p)
		buf_json_str(b, s.p, s.n);
	else
		buf_puts(b, "\"\"");
}

void hub_put_str_as_json(struct buf *b, struct hub_span s)
{
	size_t start = b->len;
	int n;

	if (!s.p || s.n == 0 || buf_reserve(b, s.n) < s.n) {
		buf_puts(b, "{}");
		return;
	}
	n = json_unescape(s.p, s.n, b->p + b->len, s.n);
	if (n < 0 || json_validate(b->p + start, (size_t)n) < 0) {
		buf_puts(b, "{}");
		return;
	}
	b->len += (size_t)n; /* unescaping never grows the text */
}

void hub_put_args_object(struct buf *b, struct hub_span args, int is_str)
{
	size_t start = b->len, i;

	if (is_str)
		hub_put_str_as_json(b, args);
	else
		buf_put(b, args.p, args.n);
	for (i = start; i < b->len && (b->p[i] == ' ' || b->p[i] == '\t' ||
				       b->p[i] == '\n' || b->p[i] == '\r');
	     i++)
		;
	if (!b->overflow && (i >= b->len || b->p[i] != '{')) {
		b->len = start;
		buf_puts(b, "{}");
	}
}

void hub_put_json_compact(struct buf *b, struct hub_span s)
{
	size_t i, from = 0;
	int in_str = 0;

	for (i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			buf_put(b, s.p + from, i - from);
			from = i + 1;
		}
	}
	buf_put(b, s.p + from, s.n - from);
}

int hub_data_url(struct hub_span url, struct hub_span *mime,
		 struct hub_span *data)
{
	static const char tag[] = ";base64,";
	size_t i, semi = 0, tl = sizeof(tag) - 1;

	if (!url.p || url.n < 5 || (url.p[0] | 0x20) != 'd' ||
	    (url.p[1] | 0x20) != 'a' || (url.p[2] | 0x20) != 't' ||
	    (url.p[3] | 0x20) != 'a' || url.p[4] != ':')
		return 0;
	for (i = 5; i + tl <= url.n; i++) {
		if (url.p[i] == ';' && !semi)
			semi = i;
		if (memcmp(url.p + i, tag, tl) == 0) {
			mime->p = url.p + 5;
			mime->n = semi - 5;
			data->p = url.p + i + tl;
			data->n = url.n - i - tl;
			return 1;
		}
	}
	return -1;
}

int hub_unescape(struct hub_span s, char *out, size_t cap)
{
	int n;
	if (!s.p) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	if (cap == 0)
		return -1;
	n = json_unescape(s.p, s.n, out, cap - 1);
	if (n < 0)
		return -1;
	out[n] = '\0';
	return n;
}

void hub_gen_id(char *out, size_t cap, const char *prefix, uint32_t seed,
		long counter)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint64_t x = ((uint64_t)seed << 32) ^ (uint64_t)counter ^
		     0x9e3779b97f4a7c15ull;
	size_t pl = strlen(prefix), i;
	if (cap < pl + 25)
		return;
	memcpy(out, prefix, pl);
	for (i = 0; i < 24; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		out[pl + i] = al[x % (sizeof(al) - 1)];
	}
	out[pl + 24] = '\0';
}

/* ---- Gemini schema cleaning ------------------------------------------------ */

static int drop_key(const struct json *j, int k)
{
	static const char *const drop[] = {
		"$schema", "additionalProperties", "strict", "$ref", "$defs",
		"definitions", "exclusiveMinimum", "exclusiveMaximum",
		"patternProperties", "dependencies", "const", "$id", "$comment",
		"unevaluatedProperties", "propertyNames", "examples",
		"default", NULL,
	};
	size_t i;
	for (i = 0; drop[i]; i++)
		if (json_str_eq(j, k, drop[i]))
			return 1;
	return 0;
}

static void schema_value(struct buf *b, const struct json *j, int i,
			 int depth);

/* An object that is a schema (keys are keywords). */
static void schema_object(struct buf *b, const struct json *j, int obj,
			  int depth)
{
	int k = obj + 1, n = j->tok[obj].size, c, first = 1;
	int has_type = 0, union_type = -1;

	buf_putc(b, '{');
	for (c = 0; c < n; c++) {
		int v = k + 1;
		int next = json_skip(j, v);
		if (drop_key(j, k)) {
			k = next;
			continue;
		}
		if (json_str_eq(j, k, "type"))
			has_type = 1;
		if ((json_str_eq(j, k, "anyOf") || json_str_eq(j, k, "oneOf") ||
		     json_str_eq(j, k, "allOf")) &&
		    j->tok[v].type == JSMN_ARRAY) {
			/* Unions are dropped (as the reference does); the
			 * first non-null branch's type is kept below. */
			int e = v + 1, m;
			for (m = 0; m < j->tok[v].size && union_type < 0; m++) {
				int t = json_get(j, e, "type");
				if (t >= 0 && j->tok[t].type == JSMN_STRING &&
				    !json_str_eq(j, t, "null"))
					union_type = t;
				e = json_skip(j, e);
			}
			k = next;
			continue;
		}
		if (json_str_eq(j, k, "format")) {
			/* Gemini accepts only enum and date-time. */
			if (!json_str_eq(j, v, "enum") &&
			    !json_str_eq(j, v, "date-time")) {
				k = next;
				continue;
			}
		}
		if (!first)
			buf_putc(b, ',');
		first = 0;
		buf_putc(b, '"');
		buf_put(b, json_ptr(j, k), json_len(j, k));
		buf_puts(b, "\":");
		if (json_str_eq(j, k, "type") && j->tok[v].type == JSMN_ARRAY) {
			/* one type: the first string that is not "null", else
			 * "null" if listed, else "object" */
			int e = v + 1, m, pick = -1, null = -1;
			for (m = 0; m < j->tok[v].size; m++, e = json_skip(j, e)) {
				if (j->tok[e].type != JSMN_STRING)
					continue;
				if (json_str_eq(j, e, "null"))
					null = e;
				else if (pick < 0)
					pick = e;
			}
			if (pick < 0)
				pick = null;
			if (pick < 0) {
				buf_puts(b, "\"object\"");
			} else {
				buf_putc(b, '"');
				buf_put(b, json_ptr(j, pick), json_len(j, pick));
				buf_putc(b, '"');
			}
		} else if (json_str_eq(j, k, "enum") &&
			   j->tok[v].type == JSMN_ARRAY) {
			int e = v + 1, m;
			buf_putc(b, '[');
			for (m = 0; m < j->tok[v].size; m++) {
				if (m)
					buf_putc(b, ',');
				if (j->tok[e].type == JSMN_STRING)
					buf_put(b, json_ptr(j, e) - 1,
						json_len(j, e) + 2);
				else
					hub_put_json_as_str(b, hub_tok_span(j, e));
				e = json_skip(j, e);
			}
			buf_putc(b, ']');
		} else if ((json_str_eq(j, k, "properties")) &&
			   j->tok[v].type == JSMN_OBJECT) {
			/* keys are property names, values are schemas */
			int pk = v + 1, m, pf = 1;
			buf_putc(b, '{');
			for (m = 0; m < j->tok[v].size; m++) {
				if (!pf)
					buf_putc(b, ',');
				pf = 0;
				buf_put(b, json_ptr(j, pk) - 1,
					json_len(j, pk) + 2);
				buf_putc(b, ':');
				schema_value(b, j, pk + 1, depth + 1);
				pk = json_skip(j, pk + 1);
			}
			buf_putc(b, '}');
		} else {
			schema_value(b, j, v, depth + 1);
		}
		k = next;
	}
	if (!has_type && union_type >= 0) {
		if (!first)
			buf_putc(b, ',');
		buf_puts(b, "\"type\":");
		buf_put(b, json_ptr(j, union_type) - 1,
			json_len(j, union_type) + 2);
	}
	buf_putc(b, '}');
}

static void schema_value(struct buf *b, const struct json *j, int i,
			 int depth)
{
	if (depth > 64) {
		buf_puts(b, "{}");
		return;
	}
	if (j->tok[i].type == JSMN_OBJECT) {
		schema_object(b, j, i, depth);
	} else if (j->tok[i].type == JSMN_ARRAY) {
		int e = i + 1, m;
		buf_putc(b, '[');
		for (m = 0; m < j->tok[i].size; m++) {
			if (m)
				buf_putc(b, ',');
			schema_value(b, j, e, depth + 1);
			e = json_skip(j, e);
		}
		buf_putc(b, ']');
	} else {
		struct hub_span s = hub_tok_raw(j, i);
		buf_put(b, s.p, s.n);
	}
}

void hub_gemini_schema(struct buf *b, const struct json *j, int tok)
{
	if (tok < 0 || tok >= j->ntok || j->tok[tok].type != JSMN_OBJECT) {
		buf_puts(b, "{\"type\":\"object\",\"properties\":{}}");
		return;
	}
	schema_object(b, j, tok, 0);
}
