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

/* Elements of an array. */
#define HUB_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A str span of a string literal. */
#define HUB_LIT(lit) ((struct hub_span){(lit), sizeof(lit) - 1})

static inline struct hub_span hub_span_of(const char *p, size_t n)
{
	struct hub_span s;
	s.p = p;
	s.n = n;
	return s;
}

/* ---- tokens -------------------------------------------------------------- */

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
/* Token counts at the paths names[0..3] (input, output, cached,
 * thoughts; NULL: unknown) from usage object u; cache_write unknown. */
void hub_tok_usage(const struct json *j, int u, const char *const names[4],
		   struct hub_usage *us);
/* The token at a dotted path of member keys from object obj
 * ("usage.prompt_tokens_details.cached_tokens"), or -1. */
int hub_tok_path(const struct json *j, int obj, const char *path);
/* hub_tok_long of the token at path from obj. */
long hub_tok_long_at(const struct json *j, int obj, const char *path,
		     long dflt);
/* The value of member key of object obj as a str span: unset when obj is
 * not an object, key is absent or its value is not a string. */
struct hub_span hub_tok_str(const struct json *j, int obj, const char *key);
/* The same, unset also when the string is empty. */
struct hub_span hub_tok_text(const struct json *j, int obj, const char *key);
/* The value of member key of object obj, or of member alt when key is
 * absent (protobuf JSON takes camelCase and snake_case keys alike). */
int hub_tok_member(const struct json *j, int obj, const char *key,
		   const char *alt);
/* The value of member key of object obj as a raw span when it is a
 * number (temperature, top_p, ...), else unset. */
struct hub_span hub_tok_num(const struct json *j, int obj, const char *key);
/* Token of j whose text starts at p (the spans of a view point into its
 * body), or -1.  Tokens are in document order, so a binary search. */
int hub_tok_at(const struct json *j, const char *p);

/* ---- word tables --------------------------------------------------------- */

/* The value of the entry whose word is string token i, or dflt. */
int hub_word_val(const struct hub_word *t, size_t n, const struct json *j,
		 int i, int dflt);
/* The word of the first entry of value val, or dflt. */
const char *hub_word_of(const struct hub_word *t, size_t n, int val,
			const char *dflt);

/* ---- spans --------------------------------------------------------------- */

/* Both set and byte for byte the same (two str spans of one id). */
int hub_span_same(struct hub_span a, struct hub_span b);
/* Does s start with lit / hold lit anywhere? */
int hub_span_prefix(struct hub_span s, const char *lit);
int hub_span_has(struct hub_span s, const char *lit);
/* s without the JSON whitespace (space, tab, CR, LF) around it. */
struct hub_span hub_span_trim(struct hub_span s);

/* ---- decoders' events ---------------------------------------------------- */

/* Where an upstream decoder's events go: its state, the event (or body)
 * being decoded, and the caller's callback. */
struct hub_sink {
	struct hub_sdec *d;
	const struct json *j;
	hub_emit_fn emit;
	void *user;
};

void hub_sink_emit(struct hub_sink *k, const struct hub_event *ev);
/* START, once per answer: id and model (str spans, may be unset). */
void hub_sink_start(struct hub_sink *k, struct hub_span id,
		    struct hub_span model);
/* An event that carries text (TEXT, THINKING, THINKING_SIG, TOOL_ARGS,
 * TOOL_END): type, tool index and text. */
void hub_sink_text(struct hub_sink *k, enum hub_ev_type t, int index,
		   struct hub_span text);
/* USAGE with the counts read so far (d->usage). */
void hub_sink_usage(struct hub_sink *k);
/* FINISH: the reason, and the stop sequence that ended the answer (may
 * be unset). */
void hub_sink_finish(struct hub_sink *k, enum hub_finish f,
		     struct hub_span stop);
/* ERROR; the rest of the upstream's answer is ignored (d->done). */
void hub_sink_error(struct hub_sink *k, int status, struct hub_span msg);

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
/* A new function tool: name, description (may be unset) and the schema
 * at token schema when it is an object; NULL with "out of memory". */
struct hub_tool *hub_rq_tool(struct hub_rq *rq, struct hub_span name,
			     struct hub_span description, int schema);

/* Stop sequences at token t into the view (at most its 8): a string, or
 * the strings of an array.  -1 when t is neither, else how many array
 * elements were not strings (skipped). */
int hub_rq_stops(struct hub_rq *rq, int t);

/* `,"key":raw` when raw is set (a sampling parameter, ...). */
void hub_put_raw_member(struct buf *b, const char *key, struct hub_span raw);
/* `["...",...]`: n str spans as a JSON array. */
void hub_put_str_list(struct buf *b, const struct hub_span *s, int n);
/* `,"key":"..."` when str span s is set. */
void hub_put_str_member(struct buf *b, const char *key, struct hub_span s);
/* A tool's parameter schema: its raw JSON object, or an empty object
 * schema when it has none. */
void hub_put_schema(struct buf *b, struct hub_span schema);
/* The URL text of an IMAGE part (inside a JSON string): its remote URL,
 * or a data URL of its base64 data ("image/png" when it has no type). */
void hub_put_image_url(struct buf *b, const struct hub_part *p);
/* `,"tools":[...]` of the view's tools when it has any: each is open,
 * hub_put_tool_head, `,"<schema_key>":` and its schema, then close. */
void hub_put_tools(struct buf *b, const struct hub_view *v, const char *open,
		   const char *schema_key, const char *close);
/* `"name":"..."` and, when the tool has one, `,"description":"..."`. */
void hub_put_tool_head(struct buf *b, const struct hub_tool *t);

/* `"key":`, after a ',' unless *first (then cleared): object members
 * whose first one is not known in advance. */
void hub_put_key(struct buf *b, int *first, const char *key);

#endif
