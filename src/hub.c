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
#include "fmt.h"
#include "hub_tok.h"
#include "sizes.h"

#include <limits.h>
#include <stddef.h>
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
		/* (a 32-bit size_t: a huge request must not wrap the size) */
		if (nc > SIZE_MAX / elem || !(na = realloc(arr, nc * elem)))
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
	fmt_snprintf(e->model, sizeof(e->model), "%s",
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

/* The runs of s between whitespace outside strings, each copied (or
 * escaped into a JSON string's content when esc). */
static void put_compact(struct buf *b, struct hub_span s, int esc)
{
	size_t i, from = 0;
	int in_str = 0;

	for (i = 0; i <= s.n; i++) {
		char c = i < s.n ? s.p[i] : ' ';
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (esc)
				buf_json_esc(b, s.p + from, i - from);
			else
				buf_put(b, s.p + from, i - from);
			from = i + 1;
		}
	}
}

void hub_put_json_compact(struct buf *b, struct hub_span s)
{
	put_compact(b, s, 0);
}

void hub_escape_json_compact(struct buf *b, struct hub_span s)
{
	put_compact(b, s, 1);
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

/*
 * One pass over the client's schema tokens writes the cleaned copy.  A
 * schema object's members are written one by one (schema_member); the
 * keywords Gemini rejects are dropped.  Antigravity (ag) is stricter and
 * flattens: an object schema is written from its *sources*, the object
 * itself, its allOf branches and the best branch of its anyOf / oneOf, a
 * keyword from the first source that has it, properties and required
 * merged from all of them (required only for properties that exist).
 */

#define SCHEMA_DEPTH_MAX 64
#define SCHEMA_SRC_MAX 8      /* sources of one flattened object */
#define SCHEMA_PLACEHOLDER                                                   \
	"\"properties\":{\"reason\":{\"type\":\"string\",\"description\":"  \
	"\"Brief explanation of why you are calling this tool\"}},"          \
	"\"required\":[\"reason\"]"

static int in_list(const struct json *j, int k, const char *const *list)
{
	size_t i;
	for (i = 0; list[i]; i++)
		if (json_str_eq(j, k, list[i]))
			return 1;
	return 0;
}

static int drop_key(const struct json *j, int k, int ag)
{
	static const char *const drop[] = {
		"$schema", "additionalProperties", "strict", "$ref", "$defs",
		"definitions", "exclusiveMinimum", "exclusiveMaximum",
		"patternProperties", "dependencies", "const", "$id", "$comment",
		"unevaluatedProperties", "propertyNames", "examples",
		"default", NULL,
	};
	/* and, for Antigravity, the constraints it refuses (all formats) */
	static const char *const drop_ag[] = {
		"pattern", "minItems", "maxItems", "uniqueItems", "minLength",
		"maxLength", "format", NULL,
	};
	return in_list(j, k, drop) || (ag && in_list(j, k, drop_ag));
}

static int is_union_key(const struct json *j, int k)
{
	static const char *const u[] = {"anyOf", "oneOf", "allOf", NULL};
	return in_list(j, k, u);
}

/* The value token of the member of object obj whose key is spelled as
 * key token k, or -1. */
static int key_in(const struct json *j, int obj, int k)
{
	int c, kk = obj + 1;

	if (obj < 0 || j->tok[obj].type != JSMN_OBJECT)
		return -1;
	for (c = 0; c < j->tok[obj].size; c++, kk = json_skip(j, kk + 1))
		if (json_len(j, kk) == json_len(j, k) &&
		    memcmp(json_ptr(j, kk), json_ptr(j, k), json_len(j, k)) == 0)
			return kk + 1;
	return -1;
}

/* The type a "type" value v names: v when it is a string; of an array,
 * the first string that is not "null", else "null" when listed; -1 for
 * none (written as "object"). */
static int schema_type_of(const struct json *j, int v)
{
	int e = v + 1, m, pick = -1, null = -1;

	if (j->tok[v].type == JSMN_STRING)
		return v;
	if (j->tok[v].type != JSMN_ARRAY)
		return -1;
	for (m = 0; m < j->tok[v].size; m++, e = json_skip(j, e)) {
		if (j->tok[e].type != JSMN_STRING)
			continue;
		if (json_str_eq(j, e, "null"))
			null = e;
		else if (pick < 0)
			pick = e;
	}
	return pick < 0 ? null : pick;
}

/* A string token with its quotes. */
static void put_tok_str(struct buf *b, const struct json *j, int t)
{
	buf_put(b, json_ptr(j, t) - 1, json_len(j, t) + 2);
}

/* One enum value, as a string (Gemini's enums are strings). */
static void put_enum_value(struct buf *b, const struct json *j, int e)
{
	if (j->tok[e].type == JSMN_STRING)
		put_tok_str(b, j, e);
	else
		hub_put_json_as_str(b, hub_tok_span(j, e));
}

static void schema_value(struct buf *b, const struct json *j, int i,
			 int depth, int ag);

/* `,"key":` (no ',' while *first). */
static void schema_key(struct buf *b, const struct json *j, int k,
		       int *first)
{
	if (!*first)
		buf_putc(b, ',');
	*first = 0;
	put_tok_str(b, j, k);
	buf_putc(b, ':');
}

/* Member k: v of a schema object, cleaned (the caller dropped what goes):
 * one type, string enums, property schemas, the rest as schemas. */
static void schema_member(struct buf *b, const struct json *j, int k, int v,
			  int depth, int ag, int *first)
{
	int e, m;

	schema_key(b, j, k, first);
	if (json_str_eq(j, k, "type") && j->tok[v].type == JSMN_ARRAY) {
		int t = schema_type_of(j, v);
		if (t < 0)
			buf_puts(b, "\"object\"");
		else
			put_tok_str(b, j, t);
	} else if (json_str_eq(j, k, "enum") && j->tok[v].type == JSMN_ARRAY) {
		buf_putc(b, '[');
		for (m = 0, e = v + 1; m < j->tok[v].size;
		     m++, e = json_skip(j, e)) {
			if (m)
				buf_putc(b, ',');
			put_enum_value(b, j, e);
		}
		buf_putc(b, ']');
	} else if (json_str_eq(j, k, "properties") &&
		   j->tok[v].type == JSMN_OBJECT) {
		/* keys are property names, values are schemas */
		int pf = 1;
		buf_putc(b, '{');
		for (m = 0, e = v + 1; m < j->tok[v].size;
		     m++, e = json_skip(j, e + 1)) {
			schema_key(b, j, e, &pf);
			schema_value(b, j, e + 1, depth + 1, ag);
		}
		buf_putc(b, '}');
	} else {
		schema_value(b, j, v, depth + 1, ag);
	}
}

/* A schema object for Gemini: unions are dropped, the first non-null
 * branch's type kept when the object has none. */
static void schema_object(struct buf *b, const struct json *j, int obj,
			  int depth)
{
	int k = obj + 1, n = j->tok[obj].size, c, first = 1;
	int has_type = 0, union_type = -1;

	buf_putc(b, '{');
	for (c = 0; c < n; c++, k = json_skip(j, k + 1)) {
		int v = k + 1;
		if (drop_key(j, k, 0))
			continue;
		if (json_str_eq(j, k, "type"))
			has_type = 1;
		if (is_union_key(j, k) && j->tok[v].type == JSMN_ARRAY) {
			int e = v + 1, m;
			for (m = 0; m < j->tok[v].size && union_type < 0; m++) {
				int t = json_get(j, e, "type");
				if (t >= 0 && j->tok[t].type == JSMN_STRING &&
				    !json_str_eq(j, t, "null"))
					union_type = t;
				e = json_skip(j, e);
			}
			continue;
		}
		/* Gemini accepts only the formats enum and date-time. */
		if (json_str_eq(j, k, "format") && !json_str_eq(j, v, "enum") &&
		    !json_str_eq(j, v, "date-time"))
			continue;
		schema_member(b, j, k, v, depth, 0, &first);
	}
	if (!has_type && union_type >= 0) {
		if (!first)
			buf_putc(b, ',');
		buf_puts(b, "\"type\":");
		put_tok_str(b, j, union_type);
	}
	buf_putc(b, '}');
}

/* How well a union branch keeps a schema's meaning: objects and arrays
 * say most, a null branch nothing. */
static int branch_rank(const struct json *j, int e)
{
	int t = json_get(j, e, "type");

	if (j->tok[e].type != JSMN_OBJECT || json_str_eq(j, t, "null"))
		return 0;
	if (json_str_eq(j, t, "object") || json_get(j, e, "properties") >= 0)
		return 3;
	if (json_str_eq(j, t, "array") || json_get(j, e, "items") >= 0)
		return 2;
	return 1;
}

/* The sources of object obj (see above) into src; their count. */
static int schema_sources(const struct json *j, int obj, int *src)
{
	static const char *const one_of[] = {"anyOf", "oneOf"};
	int n = 0, v, e, m, u, best, rank;

	src[n++] = obj;
	v = json_get(j, obj, "allOf");
	for (m = 0, e = v + 1; v >= 0 && j->tok[v].type == JSMN_ARRAY &&
			       m < j->tok[v].size; m++, e = json_skip(j, e))
		if (j->tok[e].type == JSMN_OBJECT && n < SCHEMA_SRC_MAX - 2)
			src[n++] = e;
	for (u = 0; u < 2; u++) {
		v = json_get(j, obj, one_of[u]);
		best = -1;
		rank = 0;
		for (m = 0, e = v + 1; v >= 0 &&
				       j->tok[v].type == JSMN_ARRAY &&
				       m < j->tok[v].size;
		     m++, e = json_skip(j, e))
			if (branch_rank(j, e) > rank) {
				rank = branch_rank(j, e);
				best = e;
			}
		if (best >= 0)
			src[n++] = best;
	}
	return n;
}

/* The first value of key among the sources (or -1). */
static int src_get(const struct json *j, const int *src, int n,
		   const char *key)
{
	int i, v;
	for (i = 0; i < n; i++)
		if ((v = json_get(j, src[i], key)) >= 0)
			return v;
	return -1;
}

/* Is key token k a member of a source before src[i]? */
static int src_seen(const struct json *j, const int *src, int i, int k)
{
	while (i-- > 0)
		if (key_in(j, src[i], k) >= 0)
			return 1;
	return 0;
}

/* Is property name token k defined by a source before src[upto]? */
static int prop_defined(const struct json *j, const int *src, int upto,
			int k)
{
	int i;
	for (i = 0; i < upto; i++)
		if (key_in(j, json_get(j, src[i], "properties"), k) >= 0)
			return 1;
	return 0;
}

/* The sources' properties merged: each name once, its first schema. */
static void ag_properties(struct buf *b, const struct json *j,
			  const int *src, int n, int depth, int *first)
{
	int i, m, e, pf = 1;

	buf_puts(b, *first ? "\"properties\":{" : ",\"properties\":{");
	*first = 0;
	for (i = 0; i < n; i++) {
		int p = json_get(j, src[i], "properties");
		if (p < 0 || j->tok[p].type != JSMN_OBJECT)
			continue;
		for (m = 0, e = p + 1; m < j->tok[p].size;
		     m++, e = json_skip(j, e + 1)) {
			if (prop_defined(j, src, i, e))
				continue;
			schema_key(b, j, e, &pf);
			schema_value(b, j, e + 1, depth + 1, 1);
		}
	}
	buf_putc(b, '}');
}

/* Calls fn on every string of the sources' required arrays, in order,
 * until it returns nonzero; returns that. */
static int each_required(const struct json *j, const int *src, int n,
			 int (*fn)(const struct json *, int, void *),
			 void *arg)
{
	int i, m, e, r, rc;

	for (i = 0; i < n; i++) {
		r = json_get(j, src[i], "required");
		if (r < 0 || j->tok[r].type != JSMN_ARRAY)
			continue;
		for (m = 0, e = r + 1; m < j->tok[r].size;
		     m++, e = json_skip(j, e))
			if (j->tok[e].type == JSMN_STRING &&
			    (rc = fn(j, e, arg)) != 0)
				return rc;
	}
	return 0;
}

struct req_walk {
	const int *src;
	int n;
	int name;        /* the name looked for (dup_of) */
	struct buf *b;   /* where names go (put_required) */
	int count;
};

/* 1 when e is the token w->name itself, 2 when it is an earlier string
 * of the same text. */
static int dup_of(const struct json *j, int e, void *arg)
{
	const struct req_walk *w = arg;

	if (e == w->name)
		return 1;
	return json_len(j, e) == json_len(j, w->name) &&
	       memcmp(json_ptr(j, e), json_ptr(j, w->name),
		      json_len(j, e)) == 0 ? 2 : 0;
}

/* Write name e when a source defines it and it did not come before. */
static int put_required(const struct json *j, int e, void *arg)
{
	struct req_walk *w = arg, d = *w;

	d.name = e;
	if (!prop_defined(j, w->src, w->n, e) ||
	    each_required(j, w->src, w->n, dup_of, &d) == 2)
		return 0;
	if (w->count++)
		buf_putc(w->b, ',');
	put_tok_str(w->b, j, e);
	return 0;
}

/* The sources' required names merged, each once and only when a source
 * defines it; nothing at all when none is left. */
static void ag_required(struct buf *b, const struct json *j, const int *src,
			int n, int *first)
{
	struct req_walk w = {src, n, -1, b, 0};
	size_t start = b->len;
	int was_first = *first;

	buf_puts(b, *first ? "\"required\":[" : ",\"required\":[");
	*first = 0;
	each_required(j, src, n, put_required, &w);
	if (!w.count) {
		b->len = start;
		*first = was_first;
		return;
	}
	buf_putc(b, ']');
}

/* Members of the sources for Antigravity, but properties and required
 * (merged) and a const (an enum of one). */
static void ag_members(struct buf *b, const struct json *j, const int *src,
		       int n, int depth, int placeholder, int *first)
{
	int i, c, k, v, props = 0, req = 0;
	int has_enum = src_get(j, src, n, "enum") >= 0;

	for (i = 0; i < n; i++)
		for (c = 0, k = src[i] + 1; c < j->tok[src[i]].size;
		     c++, k = json_skip(j, k + 1)) {
			v = k + 1;
			if (is_union_key(j, k) || src_seen(j, src, i, k))
				continue;
			if (json_str_eq(j, k, "properties")) {
				if (!placeholder && !props++)
					ag_properties(b, j, src, n, depth,
						      first);
			} else if (json_str_eq(j, k, "required")) {
				if (!placeholder && !req++)
					ag_required(b, j, src, n, first);
			} else if (json_str_eq(j, k, "const")) {
				if (has_enum)
					continue;
				buf_puts(b, *first ? "\"enum\":[" : ",\"enum\":[");
				*first = 0;
				put_enum_value(b, j, v);
				buf_putc(b, ']');
			} else if (!drop_key(j, k, 1)) {
				schema_member(b, j, k, v, depth, 1, first);
			}
		}
}

/* A schema object for Antigravity, flattened from its sources; an
 * object schema without properties gets the required placeholder
 * "reason" (Claude's VALIDATED mode wants one), a $ref (not followed)
 * becomes an object that names it. */
static void schema_object_ag(struct buf *b, const struct json *j, int obj,
			     int depth)
{
	int src[SCHEMA_SRC_MAX], n = schema_sources(j, obj, src), i;
	int type = src_get(j, src, n, "type"), ref = src_get(j, src, n, "$ref");
	int nprops = 0, is_object, first = 1;

	for (i = 0; i < n; i++) {
		int p = json_get(j, src[i], "properties");
		if (p >= 0 && j->tok[p].type == JSMN_OBJECT)
			nprops += j->tok[p].size;
	}
	if (type >= 0) {
		int t = schema_type_of(j, type);
		is_object = t < 0 || json_str_eq(j, t, "object");
	} else {
		is_object = ref >= 0 || src_get(j, src, n, "properties") >= 0;
	}
	buf_putc(b, '{');
	ag_members(b, j, src, n, depth, is_object && !nprops, &first);
	if (type < 0 && is_object) {
		buf_puts(b, first ? "\"type\":\"object\"" : ",\"type\":\"object\"");
		first = 0;
	}
	if (ref >= 0 && j->tok[ref].type == JSMN_STRING &&
	    src_get(j, src, n, "description") < 0) {
		struct hub_span r = hub_tok_span(j, ref);
		size_t at = r.n;
		while (at > 0 && r.p[at - 1] != '/')
			at--;
		buf_puts(b, first ? "\"description\":\"See: "
				  : ",\"description\":\"See: ");
		buf_put(b, r.p + at, r.n - at);
		buf_putc(b, '"');
		first = 0;
	}
	if (is_object && !nprops) {
		if (!first)
			buf_putc(b, ',');
		buf_puts(b, SCHEMA_PLACEHOLDER);
	}
	buf_putc(b, '}');
}

static void schema_value(struct buf *b, const struct json *j, int i,
			 int depth, int ag)
{
	if (depth > SCHEMA_DEPTH_MAX) {
		buf_puts(b, "{}");
		return;
	}
	if (j->tok[i].type == JSMN_OBJECT) {
		if (ag)
			schema_object_ag(b, j, i, depth);
		else
			schema_object(b, j, i, depth);
	} else if (j->tok[i].type == JSMN_ARRAY) {
		int e = i + 1, m;
		buf_putc(b, '[');
		for (m = 0; m < j->tok[i].size; m++) {
			if (m)
				buf_putc(b, ',');
			schema_value(b, j, e, depth + 1, ag);
			e = json_skip(j, e);
		}
		buf_putc(b, ']');
	} else {
		struct hub_span s = hub_tok_raw(j, i);
		buf_put(b, s.p, s.n);
	}
}

void hub_gemini_schema(struct buf *b, const struct json *j, int tok, int ag)
{
	if (!j || tok < 0 || tok >= j->ntok ||
	    j->tok[tok].type != JSMN_OBJECT) {
		buf_puts(b, ag ? "{\"type\":\"object\"," SCHEMA_PLACEHOLDER "}"
			       : "{\"type\":\"object\",\"properties\":{}}");
		return;
	}
	schema_value(b, j, tok, 0, ag);
}
