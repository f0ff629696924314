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
#include <stdio.h>
#include <string.h>

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

/* ---- spans ---------------------------------------------------------------- */

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

/* ---- errors and writing ------------------------------------------------- */

int hub_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int hub_rq_fail(struct hub_rq *rq, const char *fmt, ...)
{
	va_list ap;
	if (rq->err && rq->errlen) {
		va_start(ap, fmt);
		vsnprintf(rq->err, rq->errlen, fmt, ap);
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

void hub_put_key(struct buf *b, int *first, const char *key)
{
	if (!*first)
		buf_putc(b, ',');
	*first = 0;
	buf_putc(b, '"');
	buf_puts(b, key);
	buf_puts(b, "\":");
}
