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

int json_parse(struct json *j, const char *js, size_t len)
{
	jsmn_parser p;
	int n;

	memset(j, 0, sizeof(*j));
	j->js = js;
	j->len = len;
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
	/* jsmn accepts several top-level values; JSON has exactly one. */
	if (json_skip(j, 0) != n) {
		json_free(j);
		return -1;
	}
	for (size_t i = (size_t)j->tok[0].end; i < len; i++)
		if (js[i] != ' ' && js[i] != '\t' && js[i] != '\r' &&
		    js[i] != '\n') {
			json_free(j);
			return -1;
		}
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
