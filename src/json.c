/*
 * json.c - jsmn-based JSON reading (see json.h).  jsmn is compiled here,
 * once, in strict mode (JSMN_STRICT comes from the Makefile so every
 * includer sees the same token layout).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#undef JSMN_HEADER
#include "jsmn.h"
#define JSMN_HEADER
#include "json.h"

/*
 * Strict RFC 8259 syntax check.  jsmn is a tokenizer, not a validator (it
 * takes {"a":} and [1,,2]), so every document is checked first: one
 * recursive-descent pass, depth-limited, no allocation.
 */
struct vstate {
	const char *s;
	size_t i, n;
};

static void ws(struct vstate *v)
{
	while (v->i < v->n && (v->s[v->i] == ' ' || v->s[v->i] == '\t' ||
			       v->s[v->i] == '\n' || v->s[v->i] == '\r'))
		v->i++;
}

static int lit(struct vstate *v, const char *w)
{
	size_t k = strlen(w);
	if (v->n - v->i < k || memcmp(v->s + v->i, w, k) != 0)
		return -1;
	v->i += k;
	return 0;
}

static int digits(struct vstate *v)
{
	size_t s = v->i;
	while (v->i < v->n && v->s[v->i] >= '0' && v->s[v->i] <= '9')
		v->i++;
	return v->i > s ? 0 : -1;
}

static int number(struct vstate *v)
{
	if (v->s[v->i] == '-')
		v->i++;
	if (v->i < v->n && v->s[v->i] == '0')
		v->i++;
	else if (digits(v) < 0)
		return -1;
	if (v->i < v->n && v->s[v->i] == '.') {
		v->i++;
		if (digits(v) < 0)
			return -1;
	}
	if (v->i < v->n && (v->s[v->i] == 'e' || v->s[v->i] == 'E')) {
		v->i++;
		if (v->i < v->n && (v->s[v->i] == '+' || v->s[v->i] == '-'))
			v->i++;
		if (digits(v) < 0)
			return -1;
	}
	return 0;
}

static int string(struct vstate *v)
{
	v->i++; /* opening quote */
	while (v->i < v->n) {
		unsigned char c = (unsigned char)v->s[v->i++];
		if (c == '"')
			return 0;
		if (c < 0x20)
			return -1;
		if (c != '\\')
			continue;
		if (v->i >= v->n)
			return -1;
		c = (unsigned char)v->s[v->i++];
		if (c == 'u') {
			int k;
			for (k = 0; k < 4; k++, v->i++)
				if (v->i >= v->n || !strchr("0123456789abcdef"
							     "ABCDEF",
							     v->s[v->i]) ||
				    v->s[v->i] == '\0')
					return -1;
		} else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
			return -1;
		}
	}
	return -1;
}

static int value(struct vstate *v, int depth);

/* Top-level keys to locate while validating (json_scan_top). */
struct vscan {
	const char *const *keys;
	size_t *off, *len;  /* value span per key, len 0 = absent */
};
static struct vscan *scan_top;

static int value(struct vstate *v, int depth)
{
	char c;
	if (depth > JSON_MAX_DEPTH)
		return -1;
	ws(v);
	if (v->i >= v->n)
		return -1;
	c = v->s[v->i];
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		v->i++;
		ws(v);
		if (v->i < v->n && v->s[v->i] == close) {
			v->i++;
			return 0;
		}
		for (;;) {
			int want = -1;
			if (c == '{') {
				size_t ks;
				ws(v);
				ks = v->i + 1;
				if (v->i >= v->n || v->s[v->i] != '"' ||
				    string(v) < 0)
					return -1;
				if (depth == 0 && scan_top) {
					size_t kl = v->i - 1 - ks, k;
					for (k = 0; scan_top->keys[k]; k++)
						if (strlen(scan_top->keys[k]) == kl &&
						    !memcmp(v->s + ks,
							    scan_top->keys[k], kl))
							want = (int)k;
				}
				ws(v);
				if (v->i >= v->n || v->s[v->i++] != ':')
					return -1;
			}
			if (want >= 0) {
				size_t vs;
				ws(v);
				vs = v->i;
				if (value(v, depth + 1) < 0)
					return -1;
				scan_top->off[want] = vs;
				scan_top->len[want] = v->i - vs;
			} else if (value(v, depth + 1) < 0) {
				return -1;
			}
			ws(v);
			if (v->i >= v->n)
				return -1;
			if (v->s[v->i] == ',') {
				v->i++;
				continue;
			}
			if (v->s[v->i++] != close)
				return -1;
			return 0;
		}
	}
	if (c == '"')
		return string(v);
	if (c == '-' || (c >= '0' && c <= '9'))
		return number(v);
	if (c == 't')
		return lit(v, "true");
	if (c == 'f')
		return lit(v, "false");
	if (c == 'n')
		return lit(v, "null");
	return -1;
}

int json_scan_top(const char *js, size_t len, const char *const *keys,
		  size_t *off, size_t *vlen)
{
	struct vscan sc = {keys, off, vlen};
	size_t k;
	int rc;

	for (k = 0; keys[k]; k++)
		off[k] = vlen[k] = 0;
	scan_top = &sc;
	rc = json_validate(js, len);
	scan_top = NULL;
	if (rc == 0) {
		size_t i = 0;
		while (i < len && (js[i] == ' ' || js[i] == '\t' ||
				   js[i] == '\r' || js[i] == '\n'))
			i++;
		if (i >= len || js[i] != '{')
			return -1;
	}
	return rc;
}

int json_validate(const char *js, size_t len)
{
	struct vstate v = {js, 0, len};
	if (value(&v, 0) < 0)
		return -1;
	ws(&v);
	return v.i == len ? 0 : -1;
}

/*
 * A valid document that is one number or literal is one token, made here:
 * jsmn in strict mode wants a delimiter after a primitive, so it refuses
 * "1" (and takes "1 "), while json_validate accepts both, as RFC 8259
 * does.  Returns 0 when the document is not a lone primitive; else 1 with
 * j->tok set (NULL when out of memory).
 */
static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int top_primitive(struct json *j)
{
	size_t s = 0, e = j->len;
	char c;

	while (s < e && is_blank(j->js[s]))
		s++;
	c = j->js[s]; /* valid, so not all blank */
	if (c == '{' || c == '[' || c == '"')
		return 0;
	while (e > s && is_blank(j->js[e - 1]))
		e--;
	j->tok = malloc(sizeof(*j->tok));
	if (!j->tok)
		return 1;
	memset(j->tok, 0, sizeof(*j->tok));
	j->tok->type = JSMN_PRIMITIVE;
	j->tok->start = (int)s;
	j->tok->end = (int)e;
	j->tok->size = 0;
	j->ntok = 1;
	return 1;
}

int json_parse(struct json *j, const char *js, size_t len)
{
	jsmn_parser p;
	size_t cap;
	int n;

	memset(j, 0, sizeof(*j));
	j->js = js;
	j->len = len;
	if (json_validate(js, len) < 0)
		return -1;
	if (top_primitive(j) != 0)
		return j->tok ? 0 : -2;
	/* One tokenising pass in the common case: guess the token count
	 * from the size (real requests have one token per 8+ bytes), and
	 * only if jsmn runs out, count exactly and parse again. */
	cap = len / 8 + 16;
	for (;;) {
		/* a 32-bit size_t: 2^28 tokens (a body over 512 MB) would
		 * wrap the size and jsmn write past a small block */
		if (cap > SIZE_MAX / sizeof(*j->tok))
			return -2;
		j->tok = malloc(cap * sizeof(*j->tok));
		if (!j->tok)
			return -2;
		jsmn_init(&p);
		n = jsmn_parse(&p, js, len, j->tok, (unsigned)cap);
		if (n != JSMN_ERROR_NOMEM)
			break;
		json_free(j);
		jsmn_init(&p);
		n = jsmn_parse(&p, js, len, NULL, 0);
		if (n <= 0)
			return -1;
		cap = (size_t)n;
	}
	if (n <= 0) {
		json_free(j);
		return -1;
	}
	j->ntok = n;
	return 0;
}

void json_free(struct json *j)
{
	free(j->tok);
	j->tok = NULL;
	j->ntok = 0;
}

int json_skip(const struct json *j, int i)
{
	int n = 1; /* tokens still to pass over */
	while (n > 0 && i < j->ntok) {
		const jsmntok_t *t = &j->tok[i++];
		n--;
		if (t->type == JSMN_OBJECT)
			n += t->size * 2;
		else if (t->type == JSMN_ARRAY)
			n += t->size;
	}
	return i;
}

int json_get(const struct json *j, int obj, const char *key)
{
	int i, k, end;
	if (obj < 0 || obj >= j->ntok || j->tok[obj].type != JSMN_OBJECT)
		return -1;
	end = j->tok[obj].size;
	for (k = 0, i = obj + 1; k < end && i + 1 < j->ntok; k++) {
		if (json_str_eq(j, i, key))
			return i + 1;
		i = json_skip(j, i + 1);
	}
	return -1;
}

int json_str_eq(const struct json *j, int i, const char *s)
{
	size_t n = strlen(s);
	return i >= 0 && i < j->ntok && j->tok[i].type == JSMN_STRING &&
	       json_len(j, i) == n && memcmp(json_ptr(j, i), s, n) == 0;
}

/* Append code point cp as UTF-8; returns bytes written or -1. */
static int put_utf8(char *o, size_t room, unsigned long cp)
{
	if (cp < 0x80 && room >= 1) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800 && room >= 2) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000 && room >= 3) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp < 0x110000 && room >= 4) {
		o[0] = (char)(0xf0 | cp >> 18);
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		return 4;
	}
	return -1;
}

static long hex4(const char *p)
{
	long v = 0;
	int i;
	for (i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9') v |= c - '0';
		else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
		else return -1;
	}
	return v;
}

int json_unescape(const char *s, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0;
	while (i < n) {
		char c = s[i++];
		int w;
		if (c != '\\') {
			if (o >= cap)
				return -1;
			out[o++] = c;
			continue;
		}
		if (i >= n)
			return -1;
		c = s[i++];
		switch (c) {
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case '"': case '\\': case '/': break;
		case 'u': {
			long cp;
			if (i + 4 > n || (cp = hex4(s + i)) < 0)
				return -1;
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && i + 6 <= n &&
			    s[i] == '\\' && s[i + 1] == 'u') {
				long lo = hex4(s + i + 2);
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					     (lo - 0xdc00);
					i += 6;
				}
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd; /* lone surrogate */
			if ((w = put_utf8(out + o, cap - o, (unsigned long)cp)) < 0)
				return -1;
			o += (size_t)w;
			continue;
		}
		default:
			return -1;
		}
		if (o >= cap)
			return -1;
		out[o++] = c;
	}
	return (int)o;
}

int json_text(const struct json *j, int i, char *out, size_t cap)
{
	int n;
	if (i < 0 || i >= j->ntok || j->tok[i].type != JSMN_STRING || !cap)
		return -1;
	n = json_unescape(json_ptr(j, i), json_len(j, i), out, cap - 1);
	if (n < 0 || memchr(out, '\0', (size_t)n))
		return -1;
	out[n] = '\0';
	return n;
}
