/*
 * hub_tok.h - the token layer every codec reads JSON through: typed
 * looks at jsmn tokens, member getters, one integer reader, span
 * comparisons, and the error message of a refused request.
 *
 * Every getter takes what the walk produced without checking it first:
 * an index of -1 (json_get's "absent"), an index past the last token or
 * a NULL document all read as "not there", never as a crash, so a codec
 * writes hub_tok_str(j, json_get(j, obj, "a"), "b") without guards.
 * Strings come back as str spans (escaped content, see hub.h); "raw"
 * spans are whole JSON values.
 *
 * hub.h declares the four of these that code outside the codecs uses
 * (hub_tok_span, hub_tok_raw, hub_tok_int, hub_span_eq).
 */
#ifndef HUB_TOK_H
#define HUB_TOK_H

#include <stddef.h>

#include "buf.h"
#include "hub.h"
#include "json.h"

/* A str span of a string literal. */
#define HUB_LIT(lit) ((struct hub_span){(lit), sizeof(lit) - 1})

static inline struct hub_span hub_span_of(const char *p, size_t n)
{
	struct hub_span s;
	s.p = p;
	s.n = n;
	return s;
}

/* ---- tokens ------------------------------------------------------------- */

/* Is token i there and of type t? */
int hub_tok_is(const struct json *j, int i, jsmntype_t t);
/* Is token i absent (i < 0) or the literal null? */
int hub_tok_null(const struct json *j, int i);
/* Is token i the literal true? */
int hub_tok_true(const struct json *j, int i);
/* Is token i the literal true or false? */
int hub_tok_bool(const struct json *j, int i);
/* Is token i a number? */
int hub_tok_number(const struct json *j, int i);
/* The integer value of number token i (hub_tok_int over the range of a
 * long), or dflt when i is absent, null or not an integer. */
long hub_tok_long(const struct json *j, int i, long dflt);
/* Token i as a str span when it is a string, else unset. */
struct hub_span hub_tok_string(const struct json *j, int i);
/* The value of member key of object obj as a str span: unset when obj is
 * not an object, key is absent or its value is not a string. */
struct hub_span hub_tok_str(const struct json *j, int obj, const char *key);
/* The same, unset also when the string is empty. */
struct hub_span hub_tok_text(const struct json *j, int obj, const char *key);
/* The value of member key of object obj, or of member alt when key is
 * absent (protobuf JSON takes camelCase and snake_case keys alike). */
int hub_tok_member(const struct json *j, int obj, const char *key,
		   const char *alt);
/* Token of j whose text starts at p (the spans of a view point into its
 * body), or -1.  Tokens are in document order, so a binary search. */
int hub_tok_at(const struct json *j, const char *p);

/* ---- spans --------------------------------------------------------------- */

/* Both set and byte for byte the same (two str spans of one id). */
int hub_span_same(struct hub_span a, struct hub_span b);
/* Does s start with lit / hold lit anywhere? */
int hub_span_prefix(struct hub_span s, const char *lit);
int hub_span_has(struct hub_span s, const char *lit);
/* s without the JSON whitespace (space, tab, CR, LF) around it. */
struct hub_span hub_span_trim(struct hub_span s);

/* ---- errors and writing -------------------------------------------------- */

/* Write the message of a refused request into err (at most errlen bytes,
 * always terminated; nothing when errlen is 0) and return -1. */
int hub_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A client request being decoded: its body, the view it fills, and where
 * the message of a refusal goes. */
struct hub_rq {
	const struct json *j;
	struct hub_view *v;
	char *err;
	size_t errlen;
};

/* hub_fail into rq's message buffer; returns -1. */
int hub_rq_fail(struct hub_rq *rq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A new part of type t at the end of the view, or NULL with "out of
 * memory" as the message. */
struct hub_part *hub_rq_part(struct hub_rq *rq, enum hub_part_type t);

/* `"key":`, after a ',' unless *first (then cleared): object members
 * whose first one is not known in advance. */
void hub_put_key(struct buf *b, int *first, const char *key);

#endif
