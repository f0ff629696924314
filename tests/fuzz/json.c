/*
 * json.c - fuzz target: json_validate, json_parse and json_scan_top agree.
 *
 * Input: a JSON text (no option bytes).  Checks:
 *   - json_parse accepts exactly what json_validate accepts (jsmn alone
 *     is a tokenizer that takes more; json.c validates first);
 *   - json_scan_top accepts exactly the valid documents that are
 *     objects, and the value spans it locates are those of the last
 *     occurrence of each key among the object's tokens (keys: "model",
 *     "stream" and the document's first key);
 *   - tokens nest inside the text and each other, json_skip of the root
 *     is the token count, every subtree's span is itself valid JSON, and
 *     every string token unescapes into no more bytes than it has.
 */
#include "fuzz.h"
#include "json.h"

static void check_tokens(const struct json *j)
{
	int i;

	FZ_CHECK(j->ntok > 0);
	FZ_CHECK(json_skip(j, 0) == j->ntok);
	for (i = 0; i < j->ntok; i++) {
		const jsmntok_t *t = &j->tok[i];
		size_t n;
		FZ_CHECK(t->start >= 0 && t->end >= t->start &&
			 (size_t)t->end <= j->len);
		n = (size_t)(t->end - t->start);
		if (t->type == JSMN_STRING) {
			char *out = malloc(n ? n : 1);
			FZ_CHECK(out != NULL);
			FZ_CHECK(t->start > 0 && (size_t)t->end < j->len);
			FZ_CHECK(json_unescape(j->js + t->start, n, out, n) >= 0);
			free(out);
			/* the quoted span is a document of its own */
			FZ_CHECK(json_validate(j->js + t->start - 1, n + 2) == 0);
		} else {
			FZ_CHECK(json_validate(j->js + t->start, n) == 0);
		}
		if (t->type == JSMN_OBJECT || t->type == JSMN_ARRAY) {
			int end = json_skip(j, i);
			FZ_CHECK(end > i && end <= j->ntok);
			if (end < j->ntok && j->tok[end].start < t->end)
				FZ_CHECK(0); /* next sibling inside the subtree */
		}
	}
}

/* Span of the last value of raw key in the root object, or absent. */
static void last_value(const struct json *j, const char *key, size_t *off,
		       size_t *len)
{
	int i = 1, k;

	*off = *len = 0;
	if (j->tok[0].type != JSMN_OBJECT)
		return;
	for (k = 0; k < j->tok[0].size; k++) {
		int v = i + 1;
		FZ_CHECK(v < j->ntok);
		if (json_str_eq(j, i, key)) {
			const jsmntok_t *t = &j->tok[v];
			int q = t->type == JSMN_STRING;
			*off = (size_t)t->start - (size_t)q;
			*len = (size_t)(t->end - t->start) + 2 * (size_t)q;
		}
		i = json_skip(j, v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *js = fz_dup(data, size), key0[256];
	const char *keys[4] = {"model", "stream", key0, NULL};
	size_t off[3], len[3], i;
	struct json j;
	int v, p, s, obj;

	v = json_validate(js, size);
	p = json_parse(&j, js, size);
	FZ_CHECK(v == 0 || v == -1);
	FZ_CHECK(p != -2);
	FZ_CHECK(v == p);

	/* third key: the first key of the document, when it is short */
	key0[0] = '\0';
	if (p == 0 && j.tok[0].type == JSMN_OBJECT && j.ntok > 1 &&
	    json_len(&j, 1) < sizeof(key0)) {
		memcpy(key0, json_ptr(&j, 1), json_len(&j, 1));
		key0[json_len(&j, 1)] = '\0';
	}
	if (!strcmp(key0, keys[0]) || !strcmp(key0, keys[1]))
		keys[2] = NULL; /* a key listed twice gets one span */
	s = json_scan_top(js, size, keys, off, len);
	obj = p == 0 && j.tok[0].type == JSMN_OBJECT;
	FZ_CHECK(s == (obj ? 0 : -1));
	if (p == 0) {
		check_tokens(&j);
		for (i = 0; obj && keys[i]; i++) {
			size_t o2, l2;
			last_value(&j, keys[i], &o2, &l2);
			FZ_CHECK(len[i] == l2 && (l2 == 0 || off[i] == o2));
		}
		json_free(&j);
	}
	free(js);
	return 0;
}
