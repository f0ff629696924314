/*
 * http.h - pure HTTP/1.1 parsing: request heads and chunked bodies.
 *
 * No I/O and no allocation.  Results are pointer+length pairs into the
 * caller's buffer.  Every function is resumable: give it what has arrived,
 * and call again with more when it says "partial".
 *
 * Return conventions (as picohttpparser): > 0 or >= 0 bytes consumed,
 * HTTP_PARTIAL (-2) need more input, HTTP_INVALID (-1) malformed.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "sizes.h"

#define HTTP_INVALID (-1)
#define HTTP_PARTIAL (-2)
#define HTTP_TOO_MANY_HEADERS (-3)

struct http_header {
	const char *name;
	size_t name_len;
	const char *value; /* leading/trailing blanks trimmed */
	size_t value_len;
};

struct http_request {
	const char *method;
	size_t method_len;
	const char *target; /* origin-form: path and optional ?query */
	size_t target_len;
	int minor_version;  /* 0 or 1 (HTTP/1.0, HTTP/1.1) */
	size_t num_headers;
	struct http_header headers[HTTP_MAX_HEADERS];
};

/*
 * Parse a request head from buf[0..len).  Leading empty lines (CRLF left
 * over from a previous request) are skipped, as RFC 9112 2.2 allows.
 * Returns the length of the head including the final blank line (> 0),
 * HTTP_PARTIAL when the blank line has not arrived, HTTP_INVALID on a
 * syntax error (bad method token, target not starting with '/', version
 * other than HTTP/1.0 or HTTP/1.1, header name not a token, control
 * characters in a value, obsolete line folding), or HTTP_TOO_MANY_HEADERS.
 * Bare LF line ends are accepted.  The caller bounds len (431 when a
 * partial head reaches CONN_HEAD_MAX).
 */
int http_parse_request(const char *buf, size_t len, struct http_request *req);

struct http_response {
	int status;
	int minor_version;
	const char *reason;
	size_t reason_len;
	size_t num_headers;
	struct http_header headers[HTTP_MAX_HEADERS];
};

/*
 * Parse a response head ("HTTP/1.x NNN reason" + headers + blank line).
 * Same returns as http_parse_request.  1xx heads are returned like any
 * other; the caller skips them.
 */
int http_parse_response(const char *buf, size_t len, struct http_response *res);

/* Case-insensitive header lookup; NULL when absent.  *from lets the caller
 * walk repeats: pass 0 first, then the index after the previous hit.
 * The macros pass the name's length, which the compiler folds to a
 * constant for the usual literal names. */
const struct http_header *http_find_header_n(const struct http_request *req,
					     const char *name, size_t name_len,
					     size_t *from);
const struct http_header *http_find_response_header_n(
	const struct http_response *res, const char *name, size_t name_len,
	size_t *from);
#define http_find_header(req, name, from) \
	http_find_header_n((req), (name), strlen(name), (from))
#define http_find_response_header(res, name, from) \
	http_find_response_header_n((res), (name), strlen(name), (from))

/*
 * The transfer codings of a message, its Transfer-Encoding header lines
 * read as one list (RFC 9112 6.1): HTTP_TE_NONE without the header,
 * HTTP_TE_CHUNKED for exactly "chunked", HTTP_TE_OTHER when codings we do
 * not decode come before a final "chunked" (501), HTTP_TE_INVALID when
 * chunked is not the final coding, appears twice, or the list is empty:
 * the body length is then unknown (400 and close).
 */
enum { HTTP_TE_NONE, HTTP_TE_CHUNKED, HTTP_TE_OTHER, HTTP_TE_INVALID };
int http_transfer_codings(const struct http_header *hs, size_t nh);

/* Does the comma-separated header value contain token (case-insensitive)? */
int http_value_has_token(const char *v, size_t len, const char *token);

/* Content-Length value: digits only, no sign, no overflow.  -1 if bad. */
int64_t http_parse_length(const char *v, size_t len);

/* Case-insensitive comparison of a span with a string of lit_len bytes;
 * http_span_eq takes a NUL-terminated one (a literal's length folds). */
int http_span_eq_n(const char *s, size_t len, const char *lit,
		   size_t lit_len);
#define http_span_eq(s, len, lit) \
	http_span_eq_n((s), (len), (lit), strlen(lit))

/*
 * Chunked transfer-coding decoder: a resumable state machine.
 * Feed input with http_chunked_decode; decoded payload bytes are written
 * to out (which may alias the input: out never runs ahead of the read
 * position, so in-place decoding works as in picohttpparser).
 */
struct http_chunked {
	int state;
	uint64_t left;      /* bytes left in the current chunk */
	unsigned digits;    /* hex digits seen in the size line */
	size_t line_len;    /* bytes of the current size line / trailer line */
	size_t trailer_len; /* total trailer bytes */
};

void http_chunked_init(struct http_chunked *d);

/*
 * Decode from in[0..in_len) into out (capacity out_cap).
 * *consumed gets the input bytes used, *out_len the payload bytes written.
 * Returns 1 when the last chunk and trailer section are complete (input
 * after that is not consumed: it is the next request), 0 when more input
 * (or output room) is needed, HTTP_INVALID on a bad size line (non-hex,
 * more than 16 hex digits, size line over HTTP_CHUNK_LINE_MAX), a chunk not
 * followed by CRLF, or trailers over HTTP_TRAILER_MAX.
 */
int http_chunked_decode(struct http_chunked *d, const char *in, size_t in_len,
			size_t *consumed, char *out, size_t out_cap,
			size_t *out_len);

/* Reason phrase for a status code ("OK", "Not Found", ...). */
const char *http_reason(int status);

/* The request path without its query string. */
size_t http_path_len(const struct http_request *r);
/* Query parameter name of r, percent-decoded into out: its length, or
 * -1 when absent. */
int http_query_param(const struct http_request *r, const char *name,
		     char *out, size_t outcap);
/* Does a credential a from a request equal the configured b?  Constant
 * time in a's contents; b empty never matches. */
int http_secret_eq(const char *a, size_t alen, const char *b, size_t blen);

#endif
