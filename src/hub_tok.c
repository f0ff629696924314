/*
 * hub_tok.c - the token layer of the codecs (see hub_tok.h): one copy of
 * the small readers each codec used to carry its own version of.
 *
 * Where those copies disagreed, this is the reading kept:
 *   - true / false / null are the literals, nothing else: a string
 *     "true" is not true, a number is not a boolean, null is not false;
 *   - an integer is read exactly by hub_tok_int (1e3 and 1000.0 are
 *     1000), never through a double and never from a fraction;
 *   - trimming knows JSON's four whitespace bytes, not isspace()'s six;
 *   - a refused request's message is printf-formatted and truncated to
 *     the caller's buffer, which may have no room at all.
 */
#include "hub_tok.h"

#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "fmt.h"

/* ---- tokens -------------------------------------------------------------- */

int hub_tok_is(const struct json *j, int i, jsmntype_t t)
{
	return j && i >= 0 && i < j->ntok && j->tok[i].type == t;
}

/* Is primitive token i the literal lit? */
static int tok_lit(const struct json *j, int i, const char *lit, size_t n)
{
	return hub_tok_is(j, i, JSMN_PRIMITIVE) && json_len(j, i) == n &&
	       memcmp(json_ptr(j, i), lit, n) == 0;
}

int hub_tok_null(const struct json *j, int i)
{
	return i < 0 || tok_lit(j, i, "null", 4);
}

int hub_tok_true(const struct json *j, int i)
{
	return tok_lit(j, i, "true", 4);
}

int hub_tok_bool(const struct json *j, int i)
{
	return tok_lit(j, i, "true", 4) || tok_lit(j, i, "false", 5);
}

int hub_tok_number(const struct json *j, int i)
{
	char c;
	if (!hub_tok_is(j, i, JSMN_PRIMITIVE))
		return 0;
	c = json_ptr(j, i)[0];
	return c == '-' || (c >= '0' && c <= '9');
}

long hub_tok_long(const struct json *j, int i, long dflt)
{
	long v;
	if (!j)
		return dflt;
	return hub_tok_int(j, i, LONG_MIN, LONG_MAX, &v) == HUB_INT_OK ? v
								       : dflt;
}

int hub_tok_path(const struct json *j, int obj, const char *path)
{
	char key[64];
	const char *dot;
	size_t n;

	while (obj >= 0 && (dot = strchr(path, '.')) != NULL) {
		n = (size_t)(dot - path);
		if (n >= sizeof(key))
			return -1;
		memcpy(key, path, n);
		key[n] = '\0';
		obj = hub_tok_is(j, obj, JSMN_OBJECT) ? json_get(j, obj,
								 key) : -1;
		path = dot + 1;
	}
	return hub_tok_is(j, obj, JSMN_OBJECT) ? json_get(j, obj, path) : -1;
}

long hub_tok_long_at(const struct json *j, int obj, const char *path,
		     long dflt)
{
	return hub_tok_long(j, hub_tok_path(j, obj, path), dflt);
}

void hub_tok_usage(const struct json *j, int u, const char *const names[4],
		   struct hub_usage *us)
{
	long *at[4];
	int k;

	at[0] = &us->input;
	at[1] = &us->output;
	at[2] = &us->cached;
	at[3] = &us->thoughts;
	us->cache_write = -1;
	for (k = 0; k < 4; k++)
		*at[k] = names[k] ? hub_tok_long_at(j, u, names[k], -1) : -1;
}

struct hub_span hub_tok_string(const struct json *j, int i)
{
	if (!hub_tok_is(j, i, JSMN_STRING))
		return hub_span_of(NULL, 0);
	return hub_tok_span(j, i);
}

struct hub_span hub_tok_str(const struct json *j, int obj, const char *key)
{
	if (!hub_tok_is(j, obj, JSMN_OBJECT))
		return hub_span_of(NULL, 0);
	return hub_tok_string(j, json_get(j, obj, key));
}

struct hub_span hub_tok_text(const struct json *j, int obj, const char *key)
{
	struct hub_span s = hub_tok_str(j, obj, key);
	return s.n ? s : hub_span_of(NULL, 0);
}

struct hub_span hub_tok_num(const struct json *j, int obj, const char *key)
{
	int t = hub_tok_is(j, obj, JSMN_OBJECT) ? json_get(j, obj, key) : -1;
	return hub_tok_number(j, t) ? hub_tok_raw(j, t) : hub_span_of(NULL, 0);
}

int hub_tok_member(const struct json *j, int obj, const char *key,
		   const char *alt)
{
	int t;
	if (!hub_tok_is(j, obj, JSMN_OBJECT))
		return -1;
	t = json_get(j, obj, key);
	if (t < 0 && alt)
		t = json_get(j, obj, alt);
	return t;
}

int hub_tok_at(const struct json *j, const char *p)
{
	int lo = 0, hi, mid;
	long off;

	if (!j || !j->js || !j->tok || !p || p < j->js || p >= j->js + j->len)
		return -1;
	off = (long)(p - j->js);
	hi = j->ntok - 1;
	while (lo <= hi) {
		mid = lo + (hi - lo) / 2;
		if (j->tok[mid].start < off)
			lo = mid + 1;
		else if (j->tok[mid].start > off)
			hi = mid - 1;
		else
			return mid;
	}
	return -1;
}

struct hub_span hub_tok_span(const struct json *j, int i)
{
	if (!j || i < 0 || i >= j->ntok)
		return hub_span_of(NULL, 0);
	return hub_span_of(json_ptr(j, i), json_len(j, i));
}

struct hub_span hub_tok_raw(const struct json *j, int i)
{
	struct hub_span s = hub_tok_span(j, i);
	if (s.p && j->tok[i].type == JSMN_STRING) {
		s.p--;
		s.n += 2;
	}
	return s;
}

int hub_tok_int(const struct json *j, int i, long min, long max, long *out)
{
	const char *p, *e;
	char dig[19]; /* significant digits, at most 10^18 */
	size_t nd = 0;
	long exp = 0, zeros = 0; /* zeros: pending, not yet in dig */
	long long v = 0;
	int neg = 0, point = 0;

	if (i < 0 || i >= j->ntok)
		return HUB_INT_ABSENT;
	if (j->tok[i].type != JSMN_PRIMITIVE)
		return HUB_INT_BAD;
	p = json_ptr(j, i);
	e = p + json_len(j, i);
	if (p < e && *p == 'n')
		return HUB_INT_ABSENT;
	if (p < e && *p == '-') {
		neg = 1;
		p++;
	}
	if (p >= e || *p < '0' || *p > '9')
		return HUB_INT_BAD;
	/* value = dig * 10^exp: digits after the point lower exp by one */
	for (; p < e && ((*p >= '0' && *p <= '9') || *p == '.'); p++) {
		if (*p == '.') {
			if (point++)
				return HUB_INT_BAD;
			continue;
		}
		exp -= point;
		if (*p == '0') {
			zeros += nd > 0; /* leading zeros are nothing */
			continue;
		}
		if (nd + (size_t)zeros + 1 > sizeof(dig))
			return HUB_INT_BAD; /* more than a long long holds */
		for (; zeros > 0; zeros--)
			dig[nd++] = '0';
		dig[nd++] = *p;
	}
	exp += zeros; /* trailing zeros: 1000.0 = 1e3 */
	if (p < e && (*p == 'e' || *p == 'E')) {
		long x = 0;
		int eneg = 0;
		if (++p < e && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p >= e)
			return HUB_INT_BAD;
		for (; p < e && *p >= '0' && *p <= '9'; p++)
			if (x < 100000)
				x = x * 10 + (*p - '0');
		exp += eneg ? -x : x;
	}
	if (p != e)
		return HUB_INT_BAD;
	if (nd > 0) {
		size_t d;
		if (exp < 0 || (long)nd + exp > 18)
			return HUB_INT_BAD; /* a fraction, or too large */
		for (d = 0; d < nd; d++)
			v = v * 10 + (dig[d] - '0');
		for (; exp > 0; exp--)
			v *= 10;
		if (neg)
			v = -v;
	}
	if (v < min || v > max)
		return HUB_INT_BAD;
	*out = (long)v;
	return HUB_INT_OK;
}

/* ---- word tables --------------------------------------------------------- */

int hub_word_val(const struct hub_word *t, size_t n, const struct json *j,
		 int i, int dflt)
{
	size_t k;
	for (k = 0; k < n; k++)
		if (json_str_eq(j, i, t[k].word))
			return t[k].val;
	return dflt;
}

const char *hub_word_of(const struct hub_word *t, size_t n, int val,
			const char *dflt)
{
	size_t k;
	for (k = 0; k < n; k++)
		if (t[k].val == val)
			return t[k].word;
	return dflt;
}

/* ---- spans --------------------------------------------------------------- */

int hub_span_eq(struct hub_span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.p && s.n == n && memcmp(s.p, lit, n) == 0;
}

int hub_span_same(struct hub_span a, struct hub_span b)
{
	return a.p && b.p && a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

int hub_span_prefix(struct hub_span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.p && s.n >= n && memcmp(s.p, lit, n) == 0;
}

int hub_span_has(struct hub_span s, const char *lit)
{
	size_t n = strlen(lit), i;
	for (i = 0; s.p && i + n <= s.n; i++)
		if (memcmp(s.p + i, lit, n) == 0)
			return 1;
	return 0;
}

static int json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

struct hub_span hub_span_trim(struct hub_span s)
{
	while (s.n && json_space(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && json_space(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* ---- decoders' events ---------------------------------------------------- */

void hub_sink_emit(struct hub_sink *k, const struct hub_event *ev)
{
	k->emit(k->user, ev);
}

/* An event of type t, the rest unknown (hub_event_init). */
static struct hub_event ev_of(enum hub_ev_type t)
{
	struct hub_event ev;
	hub_event_init(&ev, t);
	return ev;
}

void hub_sink_start(struct hub_sink *k, struct hub_span id,
		    struct hub_span model)
{
	struct hub_event ev = ev_of(HUB_EV_START);

	if (k->d->started)
		return;
	k->d->started = 1;
	ev.id = id;
	ev.model = model;
	k->emit(k->user, &ev);
}

void hub_sink_text(struct hub_sink *k, enum hub_ev_type t, int index,
		   struct hub_span text)
{
	struct hub_event ev = ev_of(t);

	ev.index = index;
	ev.text = text;
	k->emit(k->user, &ev);
}

void hub_sink_usage(struct hub_sink *k)
{
	struct hub_event ev = ev_of(HUB_EV_USAGE);

	ev.usage = k->d->usage;
	k->emit(k->user, &ev);
}

void hub_sink_finish(struct hub_sink *k, enum hub_finish f,
		     struct hub_span stop)
{
	struct hub_event ev = ev_of(HUB_EV_FINISH);

	ev.finish = f;
	ev.stop_sequence = stop;
	k->emit(k->user, &ev);
}

void hub_sink_error(struct hub_sink *k, int status, struct hub_span msg)
{
	struct hub_event ev = ev_of(HUB_EV_ERROR);

	ev.status = status;
	ev.text = msg;
	k->d->done = 1;
	k->emit(k->user, &ev);
}

/* ---- errors and writing -------------------------------------------------- */

int hub_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		fmt_vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int hub_rq_fail(struct hub_rq *rq, const char *fmt, ...)
{
	va_list ap;
	if (rq->err && rq->errlen) {
		va_start(ap, fmt);
		fmt_vsnprintf(rq->err, rq->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

struct hub_part *hub_rq_part(struct hub_rq *rq, enum hub_part_type t)
{
	struct hub_part *p = hub_add_part(rq->v);
	if (!p) {
		hub_rq_fail(rq, "out of memory");
		return NULL;
	}
	p->type = t;
	return p;
}

struct hub_tool *hub_rq_tool(struct hub_rq *rq, struct hub_span name,
			     struct hub_span description, int schema)
{
	struct hub_tool *t = hub_add_tool(rq->v);

	if (!t) {
		hub_rq_fail(rq, "out of memory");
		return NULL;
	}
	t->name = name;
	t->description = description;
	if (hub_tok_is(rq->j, schema, JSMN_OBJECT)) {
		t->schema = hub_tok_raw(rq->j, schema);
		t->schema_tok = schema;
	}
	return t;
}

int hub_rq_stops(struct hub_rq *rq, int t)
{
	const struct json *j = rq->j;
	struct hub_view *v = rq->v;
	int k, e, bad = 0;

	if (hub_tok_is(j, t, JSMN_STRING)) {
		if (v->nstop < (int)HUB_NELEM(v->stop))
			v->stop[v->nstop++] = hub_tok_span(j, t);
		return 0;
	}
	if (!hub_tok_is(j, t, JSMN_ARRAY))
		return -1;
	for (k = 0, e = t + 1; k < j->tok[t].size; k++, e = json_skip(j, e)) {
		if (!hub_tok_is(j, e, JSMN_STRING))
			bad++;
		else if (v->nstop < (int)HUB_NELEM(v->stop))
			v->stop[v->nstop++] = hub_tok_span(j, e);
	}
	return bad;
}

/* `,"key":` */
static void put_member(struct buf *b, const char *key)
{
	buf_puts(b, ",\"");
	buf_puts(b, key);
	buf_puts(b, "\":");
}

void hub_put_raw_member(struct buf *b, const char *key, struct hub_span raw)
{
	if (raw.p) {
		put_member(b, key);
		buf_put(b, raw.p, raw.n);
	}
}

void hub_put_str_list(struct buf *b, const struct hub_span *s, int n)
{
	int i;

	buf_putc(b, '[');
	for (i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		hub_put_str(b, s[i]);
	}
	buf_putc(b, ']');
}

void hub_put_str_member(struct buf *b, const char *key, struct hub_span s)
{
	if (s.p) {
		put_member(b, key);
		hub_put_str(b, s);
	}
}

void hub_put_tools(struct buf *b, const struct hub_view *v, const char *open,
		   const char *schema_key, const char *close)
{
	size_t i;

	if (!v->ntools)
		return;
	buf_puts(b, ",\"tools\":[");
	for (i = 0; i < v->ntools; i++) {
		if (i)
			buf_putc(b, ',');
		buf_puts(b, open);
		hub_put_tool_head(b, &v->tools[i]);
		put_member(b, schema_key);
		hub_put_schema(b, v->tools[i].schema);
		buf_puts(b, close);
	}
	buf_putc(b, ']');
}

void hub_put_tool_head(struct buf *b, const struct hub_tool *t)
{
	buf_puts(b, "\"name\":");
	hub_put_str(b, t->name);
	hub_put_str_member(b, "description", t->description);
}

void hub_put_schema(struct buf *b, struct hub_span schema)
{
	struct hub_span s = hub_span_trim(schema);

	if (s.n && s.p[0] == '{')
		buf_put(b, schema.p, schema.n);
	else
		buf_puts(b, "{\"type\":\"object\",\"properties\":{}}");
}

void hub_put_image_url(struct buf *b, const struct hub_part *p)
{
	if (!p->data.p) {
		buf_put(b, p->url.p, p->url.n);
		return;
	}
	buf_puts(b, "data:");
	if (p->mime.n)
		buf_put(b, p->mime.p, p->mime.n);
	else
		buf_puts(b, "image/png");
	buf_puts(b, ";base64,");
	buf_put(b, p->data.p, p->data.n);
}

void hub_put_key(struct buf *b, int *first, const char *key)
{
	if (*first) { /* no ',' before the first member */
		buf_putc(b, '"');
		buf_puts(b, key);
		buf_puts(b, "\":");
	} else {
		put_member(b, key);
	}
	*first = 0;
}
