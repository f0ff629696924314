/*
 * json.c - jsmn-based JSON reading (see json.h).  jsmn is compiled here,
 * once, in strict mode (JSMN_STRICT comes from the Makefile so every
 * includer sees the same token layout).
 */
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
			if (c == '{') {
				ws(v);
				if (v->i >= v->n || v->s[v->i] != '"' ||
				    string(v) < 0)
					return -1;
				ws(v);
				if (v->i >= v->n || v->s[v->i++] != ':')
					return -1;
			}
			if (value(v, depth + 1) < 0)
				return -1;
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

int json_validate(const char *js, size_t len)
{
	struct vstate v = {js, 0, len};
	if (value(&v, 0) < 0)
		return -1;
	ws(&v);
	return v.i == len ? 0 : -1;
}

int json_parse(struct json *j, const char *js, size_t len)
{
	jsmn_parser p;
	int n;

	memset(j, 0, sizeof(*j));
	j->js = js;
	j->len = len;
	if (json_validate(js, len) < 0)
		return -1;
	jsmn_init(&p);
	n = jsmn_parse(&p, js, len, NULL, 0);
	if (n <= 0)
		return -1;
	j->tok = malloc((size_t)n * sizeof(*j->tok));
	if (!j->tok)
		return -2;
	jsmn_init(&p);
	if (jsmn_parse(&p, js, len, j->tok, (unsigned)n) != n) {
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
