/*
 * json.h - reading JSON with jsmn tokens, without copying.
 *
 * A parsed document is the source text plus jsmn's token array.  Token i
 * is a span into the text; strings stay escaped.  Walking follows jsmn's
 * example: json_skip() returns the index after a whole subtree, so loops
 * never step blindly with i++.
 */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>

#define JSMN_HEADER
#include "jsmn.h"

struct json {
	const char *js;
	size_t len;
	jsmntok_t *tok;
	int ntok;
};

/* Nesting deeper than this is refused (stack bound of the validator). */
#ifndef JSON_MAX_DEPTH
#define JSON_MAX_DEPTH 256
#endif

/* Strict RFC 8259 syntax check of one document.  0 valid, -1 not. */
int json_validate(const char *js, size_t len);

/*
 * Validate one document that must be an object, and locate the values
 * of some of its top-level keys in the same pass (no tokens): keys is a
 * NULL-terminated list; off/vlen get each value's raw span (vlen 0 when
 * absent; a string's span includes its quotes).  0 ok, -1 invalid.
 */
int json_scan_top(const char *js, size_t len, const char *const *keys,
		  size_t *off, size_t *vlen);

/* Validate and tokenise js[0..len).  0 ok; -1 not valid JSON; -2 out of memory.
 * The tokens are malloc'd: release with json_free. */
int json_parse(struct json *j, const char *js, size_t len);
void json_free(struct json *j);

/* Index of the token after the subtree rooted at i. */
int json_skip(const struct json *j, int i);

/* Value token of key in the object at obj, or -1. */
int json_get(const struct json *j, int obj, const char *key);

/* Is token i a string whose raw (escaped) text equals s? */
int json_str_eq(const struct json *j, int i, const char *s);

/* Decode the JSON escapes of a string token's raw text s[0..n) into out
 * (UTF-8).  Returns the decoded length, or -1 if malformed or out is too
 * small. */
int json_unescape(const char *s, size_t n, char *out, size_t cap);

/* String token i decoded (json_unescape) into out[0..cap), NUL-ended:
 * its length, or -1 when i is no string token, or its text is malformed,
 * longer than cap - 1 bytes, or holds a NUL. */
int json_text(const struct json *j, int i, char *out, size_t cap);

/* Token i's span. */
static inline const char *json_ptr(const struct json *j, int i)
{
	return j->js + j->tok[i].start;
}
static inline size_t json_len(const struct json *j, int i)
{
	return (size_t)(j->tok[i].end - j->tok[i].start);
}

#endif
