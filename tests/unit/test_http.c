/*
 * test_http.c - unit tests of src/http.c against the contract in http.h.
 *
 * Every input is handed to the code under test in a guarded buffer (it ends
 * at a PROT_NONE page), so reading past the given length crashes the test.
 */
#include "t.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(lit) (lit), (sizeof(lit) - 1)

/* ======================================================================
 * Request-head helpers
 * ====================================================================== */

/* A parse result with pointers turned into offsets, so results from
 * different buffers can be compared. */
struct norm_hdr {
	size_t name_off, name_len, value_off, value_len;
};
struct norm_req {
	int rc;
	size_t method_off, method_len, target_off, target_len;
	int minor_version;
	size_t num_headers;
	struct norm_hdr h[HTTP_MAX_HEADERS];
};

static size_t off_in(const char *buf, size_t len, const char *p, size_t n,
		     int *bad)
{
	if (n == 0)
		return 0; /* position of an empty span is unspecified */
	if (!p || p < buf || p + n > buf + len) {
		*bad = 1;
		return (size_t)-1;
	}
	return (size_t)(p - buf);
}

/* Parse buf[0..len) from a guarded copy; normalize the result.  Returns 0
 * (after recording a failure) when a returned span lies outside the
 * buffer. */
static int parse_norm(const char *buf, size_t len, struct norm_req *n)
{
	struct http_request req;
	char *g = t_guarded_copy(buf, len);
	int bad = 0;
	size_t i;

	memset(&req, 0xa5, sizeof(req));
	memset(n, 0, sizeof(*n));
	n->rc = http_parse_request(g, len, &req);
	if (n->rc > 0) {
		n->method_off = off_in(g, len, req.method, req.method_len, &bad);
		n->method_len = req.method_len;
		n->target_off = off_in(g, len, req.target, req.target_len, &bad);
		n->target_len = req.target_len;
		n->minor_version = req.minor_version;
		n->num_headers = req.num_headers;
		if (req.num_headers > HTTP_MAX_HEADERS) {
			FAILF("num_headers %zu > HTTP_MAX_HEADERS",
			      req.num_headers);
			n->num_headers = 0;
			bad = 1;
		}
		for (i = 0; i < n->num_headers; i++) {
			const struct http_header *h = &req.headers[i];
			n->h[i].name_off =
				off_in(g, len, h->name, h->name_len, &bad);
			n->h[i].name_len = h->name_len;
			n->h[i].value_off =
				off_in(g, len, h->value, h->value_len, &bad);
			n->h[i].value_len = h->value_len;
		}
		if (bad)
			FAILF("parse of \"%s\": a returned span is outside "
			      "the %zu-byte buffer", t_esc(buf, len), len);
	}
	t_guarded_free(g);
	return !bad;
}

static int norm_eq(const struct norm_req *a, const struct norm_req *b)
{
	size_t i;

	if (a->rc != b->rc)
		return 0;
	if (a->rc <= 0)
		return 1;
	if (a->method_off != b->method_off || a->method_len != b->method_len ||
	    a->target_off != b->target_off || a->target_len != b->target_len ||
	    a->minor_version != b->minor_version ||
	    a->num_headers != b->num_headers)
		return 0;
	for (i = 0; i < a->num_headers; i++)
		if (memcmp(&a->h[i], &b->h[i], sizeof(a->h[i])) != 0)
			return 0;
	return 1;
}

/* Is rc acceptable for a prefix of `plen` bytes of a vector whose full
 * result is `expect` (a head length or an error code)? */
static int prefix_rc_ok(int rc, size_t plen, int expect)
{
	if (expect > 0)
		return plen < (size_t)expect ? rc == HTTP_PARTIAL : rc == expect;
	/* an error may be detected early, but nothing else may be returned */
	return rc == HTTP_PARTIAL || rc == expect;
}

/*
 * Feed s[0..len) (a) whole, (b) as every prefix growing by one byte, (c) as
 * 50 random growing prefixes.  expect is the result for the whole input: a
 * head length (prefixes shorter than it must be HTTP_PARTIAL, longer ones
 * must give it again) or an error code (prefixes give HTTP_PARTIAL or that
 * code).  The final results must be identical.  The whole-input parse is
 * repeated into *out (with the real pointers into a buffer the caller
 * owns: out_buf, which must hold len bytes) for field checks.
 */
static int parse_all_ways(const char *s, size_t len, int expect,
			  struct http_request *out, char *out_buf)
{
	struct norm_req whole, cur;
	struct t_rng rng;
	size_t p;
	int split, ok = 1;

	parse_norm(s, len, &whole);
	if (whole.rc != expect) {
		FAILF("whole \"%s\": got %d, want %d", t_esc(s, len), whole.rc,
		      expect);
		return 0;
	}
	for (p = 0; p <= len; p++) {
		if (!parse_norm(s, p, &cur))
			return 0;
		if (!prefix_rc_ok(cur.rc, p, expect)) {
			FAILF("byte-by-byte \"%s\": prefix of %zu bytes: got "
			      "%d, want %d%s",
			      t_esc(s, len), p, cur.rc,
			      expect > 0 && p < (size_t)expect ? HTTP_PARTIAL
							       : expect,
			      expect < 0 ? " or -2" : "");
			return 0;
		}
	}
	if (!norm_eq(&cur, &whole)) {
		FAILF("byte-by-byte \"%s\": final result differs from whole",
		      t_esc(s, len));
		ok = 0;
	}
	t_rng_seed(&rng, t_seed(0x5eed) ^ len);
	for (split = 0; split < 50 && ok; split++) {
		p = 0;
		while (p < len) {
			p += t_rng_piece(&rng, len - p);
			if (!parse_norm(s, p, &cur))
				return 0;
			if (!prefix_rc_ok(cur.rc, p, expect)) {
				FAILF("split %d \"%s\": prefix of %zu: got %d",
				      split, t_esc(s, len), p, cur.rc);
				return 0;
			}
		}
		if (!norm_eq(&cur, &whole)) {
			FAILF("split %d \"%s\": final result differs from "
			      "whole",
			      split, t_esc(s, len));
			ok = 0;
		}
	}
	if (out) {
		memcpy(out_buf, s, len);
		memset(out, 0, sizeof(*out));
		http_parse_request(out_buf, len, out);
	}
	return ok;
}

/* Buffer big enough for every vector in this file. */
static char req_buf[64 * 1024];
static struct http_request R;

/* Valid vector: all ways must return expect_len; then R/req_buf hold it. */
#define PARSE_OK(str, expect_len)                                            \
	parse_all_ways((str), sizeof(str) - 1, (expect_len), &R, req_buf)
#define PARSE_ERR(str, code)                                                 \
	parse_all_ways((str), sizeof(str) - 1, (code), NULL, NULL)
#define PARSE_INVALID(str) PARSE_ERR(str, HTTP_INVALID)

#define CHECK_NAME(i, lit)                                                   \
	CHECK_SPAN(R.headers[i].name, R.headers[i].name_len, lit)
#define CHECK_VALUE(i, lit)                                                  \
	CHECK_SPAN(R.headers[i].value, R.headers[i].value_len, lit)

/* ======================================================================
 * http_parse_request: valid heads
 * ====================================================================== */

TEST(parse_simple_get)
{
	static const char in[] = "GET / HTTP/1.1\r\n\r\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(in) - 1));
	CHECK_SPAN(R.method, R.method_len, "GET");
	CHECK_SPAN(R.target, R.target_len, "/");
	CHECK_EQ_INT(R.minor_version, 1);
	CHECK_EQ_INT(R.num_headers, 0);
}

/* A connection's buffer before its first read: no bytes, maybe no memory
 * yet.  Nothing is read through the null pointer (UBSan checks it). */
TEST(parse_null_buffer_is_partial)
{
	struct http_request req;
	struct http_response res;
	CHECK_EQ_INT(http_parse_request(NULL, 0, &req), HTTP_PARTIAL);
	CHECK_EQ_INT(http_parse_response(NULL, 0, &res), HTTP_PARTIAL);
}

/* Transfer-Encoding lines are one list; chunked must end it, once. */
TEST(transfer_codings_read_as_one_list)
{
	static const struct {
		const char *head;
		int want;
	} v[] = {
		{"POST / HTTP/1.1\r\n\r\n", HTTP_TE_NONE},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
		 HTTP_TE_CHUNKED},
		{"POST / HTTP/1.1\r\nTransfer-Encoding:  CHUNKED \r\n\r\n",
		 HTTP_TE_CHUNKED},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		 HTTP_TE_OTHER},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n", HTTP_TE_OTHER},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
		 "Transfer-Encoding: gzip\r\n\r\n", HTTP_TE_INVALID},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
		 HTTP_TE_INVALID},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
		 HTTP_TE_INVALID},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n", HTTP_TE_INVALID},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: , ,\r\n\r\n",
		 HTTP_TE_INVALID},
		{"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n",
		 HTTP_TE_INVALID},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n",
		 HTTP_TE_INVALID},
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(v); i++) {
		struct http_request r;
		REQUIRE(http_parse_request(v[i].head, strlen(v[i].head), &r) > 0);
		if (!CHECK_EQ_INT(http_transfer_codings(r.headers, r.num_headers),
				  v[i].want))
			FAILF("case %zu: %s", i, v[i].head);
	}
}

TEST(parse_get_with_host_and_query)
{
	static const char in[] =
		"GET /v1/models?key=a%20b&x=1 HTTP/1.1\r\nHost: localhost:8317\r\n\r\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(in) - 1));
	CHECK_SPAN(R.method, R.method_len, "GET");
	CHECK_SPAN(R.target, R.target_len, "/v1/models?key=a%20b&x=1");
	REQUIRE(CHECK_EQ_INT(R.num_headers, 1));
	CHECK_NAME(0, "Host");
	CHECK_VALUE(0, "localhost:8317");
}

TEST(parse_post_with_headers)
{
	static const char in[] = "POST /v1/chat/completions HTTP/1.1\r\n"
				 "Host: example.com\r\n"
				 "Content-Type: application/json\r\n"
				 "Content-Length: 17\r\n"
				 "Authorization: Bearer sk-abc\r\n"
				 "\r\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(in) - 1));
	CHECK_SPAN(R.method, R.method_len, "POST");
	CHECK_SPAN(R.target, R.target_len, "/v1/chat/completions");
	CHECK_EQ_INT(R.minor_version, 1);
	REQUIRE(CHECK_EQ_INT(R.num_headers, 4));
	CHECK_NAME(0, "Host");
	CHECK_VALUE(0, "example.com");
	CHECK_NAME(1, "Content-Type");
	CHECK_VALUE(1, "application/json");
	CHECK_NAME(2, "Content-Length");
	CHECK_VALUE(2, "17");
	CHECK_NAME(3, "Authorization");
	CHECK_VALUE(3, "Bearer sk-abc");
}

TEST(parse_keeps_header_order_and_repeats)
{
	static const char in[] = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\na: 3\r\n\r\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(in) - 1));
	REQUIRE(CHECK_EQ_INT(R.num_headers, 3));
	CHECK_NAME(2, "a");
	CHECK_VALUE(2, "3");
}

TEST(parse_trims_header_value_blanks)
{
	static const char in[] = "GET / HTTP/1.1\r\n"
				 "Host:   example.com  \r\n"
				 "X-Tab:\t \tv a l\t \r\n"
				 "X-None:v\r\n"
				 "\r\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(in) - 1));
	REQUIRE(CHECK_EQ_INT(R.num_headers, 3));
	CHECK_VALUE(0, "example.com");
	CHECK_NAME(1, "X-Tab");
	CHECK_VALUE(1, "v a l");
	CHECK_VALUE(2, "v");
}

TEST(parse_accepts_empty_header_value)
{
	static const char in[] =
		"GET / HTTP/1.1\r\nX-Empty:\r\nX-Blank:   \t \r\nY: y\r\n\r\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(in) - 1));
	REQUIRE(CHECK_EQ_INT(R.num_headers, 3));
	CHECK_NAME(0, "X-Empty");
	CHECK_EQ_INT(R.headers[0].value_len, 0);
	CHECK_NAME(1, "X-Blank");
	CHECK_EQ_INT(R.headers[1].value_len, 0);
	CHECK_VALUE(2, "y");
}

TEST(parse_allows_tab_inside_value)
{
	static const char in[] = "GET / HTTP/1.1\r\nX: a\tb\r\n\r\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(in) - 1));
	REQUIRE(CHECK_EQ_INT(R.num_headers, 1));
	CHECK_VALUE(0, "a\tb");
}

TEST(parse_allows_utf8_obs_text_in_value)
{
	/* bytes >= 0x80 are obs-text, not control characters */
	static const char in[] = "GET / HTTP/1.1\r\nX-Name: caf\xc3\xa9\r\n\r\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(in) - 1));
	REQUIRE(CHECK_EQ_INT(R.num_headers, 1));
	CHECK_VALUE(0, "caf\xc3\xa9");
}

TEST(parse_accepts_token_chars_in_names_and_method)
{
	static const char in[] = "M-SEARCH_x.1~ /a HTTP/1.1\r\n"
				 "X-Odd!#$%&'*+.^_`|~09: ok\r\n\r\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(in) - 1));
	CHECK_SPAN(R.method, R.method_len, "M-SEARCH_x.1~");
	REQUIRE(CHECK_EQ_INT(R.num_headers, 1));
	CHECK_NAME(0, "X-Odd!#$%&'*+.^_`|~09");
}

TEST(parse_accepts_bare_lf_line_ends)
{
	static const char in[] = "GET /lf HTTP/1.1\nHost: a\nX: b\n\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(in) - 1));
	CHECK_SPAN(R.target, R.target_len, "/lf");
	REQUIRE(CHECK_EQ_INT(R.num_headers, 2));
	CHECK_VALUE(0, "a");
	CHECK_VALUE(1, "b");
}

TEST(parse_accepts_mixed_line_ends)
{
	static const char in[] = "GET / HTTP/1.1\nHost: a\r\nX: b\n\r\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(in) - 1));
	REQUIRE(CHECK_EQ_INT(R.num_headers, 2));
	CHECK_VALUE(0, "a");
	CHECK_VALUE(1, "b");
}

TEST(parse_skips_leading_empty_lines)
{
	/* the returned length counts the skipped CRLFs: it is what the
	 * caller consumes */
	static const char in[] = "\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(in) - 1));
	CHECK_SPAN(R.method, R.method_len, "GET");
	CHECK_SPAN(R.target, R.target_len, "/x");
	REQUIRE(CHECK_EQ_INT(R.num_headers, 1));
	CHECK_VALUE(0, "h");
}

TEST(parse_only_empty_lines_is_partial)
{
	static const char in[] = "\r\n\r\n\r\n";
	struct norm_req n;
	parse_norm(S(in), &n);
	CHECK_EQ_INT(n.rc, HTTP_PARTIAL);
}

TEST(parse_empty_input_is_partial)
{
	struct norm_req n;
	parse_norm("", 0, &n);
	CHECK_EQ_INT(n.rc, HTTP_PARTIAL);
}

TEST(parse_http_1_0)
{
	static const char in[] = "GET /old HTTP/1.0\r\nHost: a\r\n\r\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(in) - 1));
	CHECK_EQ_INT(R.minor_version, 0);
	CHECK_SPAN(R.target, R.target_len, "/old");
}

TEST(parse_stops_at_blank_line_when_pipelined)
{
	static const char head[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char in[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
				 "GET /b HTTP/1.1\r\nHost: y\r\n\r\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(head) - 1));
	CHECK_SPAN(R.target, R.target_len, "/a");
	REQUIRE(CHECK_EQ_INT(R.num_headers, 1));
	CHECK_VALUE(0, "x");
}

TEST(parse_stops_at_blank_line_before_body)
{
	static const char head[] = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
	static const char in[] =
		"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
	REQUIRE(PARSE_OK(in, (int)sizeof(head) - 1));
	REQUIRE(CHECK_EQ_INT(R.num_headers, 1));
	CHECK_VALUE(0, "5");
}

TEST(parse_accepts_exactly_max_headers)
{
	static char in[HTTP_MAX_HEADERS * 16 + 64];
	char last[16];
	size_t n = 0, i;

	n += (size_t)sprintf(in + n, "GET / HTTP/1.1\r\n");
	for (i = 0; i < HTTP_MAX_HEADERS; i++)
		n += (size_t)sprintf(in + n, "H%zu: %zu\r\n", i, i);
	n += (size_t)sprintf(in + n, "\r\n");
	REQUIRE(parse_all_ways(in, n, (int)n, &R, req_buf));
	REQUIRE(CHECK_EQ_INT(R.num_headers, HTTP_MAX_HEADERS));
	sprintf(last, "H%d", HTTP_MAX_HEADERS - 1);
	CHECK_NAME(HTTP_MAX_HEADERS - 1, last);
}

/* ======================================================================
 * http_parse_request: invalid heads
 * ====================================================================== */

TEST(parse_rejects_bad_method_chars)
{
	CHECK(PARSE_INVALID("G@T / HTTP/1.1\r\n\r\n"));
	CHECK(PARSE_INVALID("GE(T / HTTP/1.1\r\n\r\n"));
	CHECK(PARSE_INVALID("G\"T / HTTP/1.1\r\n\r\n"));
	CHECK(PARSE_INVALID("G\x01T / HTTP/1.1\r\n\r\n"));
	CHECK(PARSE_INVALID("G\x80T / HTTP/1.1\r\n\r\n"));
}

TEST(parse_rejects_empty_method)
{
	CHECK(PARSE_INVALID(" / HTTP/1.1\r\n\r\n"));
}

TEST(parse_rejects_target_not_starting_with_slash)
{
	CHECK(PARSE_INVALID("GET x HTTP/1.1\r\n\r\n"));
	CHECK(PARSE_INVALID("GET http://h/ HTTP/1.1\r\n\r\n"));
	CHECK(PARSE_INVALID("GET ?a=b HTTP/1.1\r\n\r\n"));
}

TEST(parse_rejects_empty_target)
{
	CHECK(PARSE_INVALID("GET  HTTP/1.1\r\n\r\n"));
}

TEST(parse_rejects_space_in_target)
{
	CHECK(PARSE_INVALID("GET /a b HTTP/1.1\r\n\r\n"));
}

TEST(parse_rejects_http_9_9)
{
	CHECK(PARSE_INVALID("GET / HTTP/9.9\r\n\r\n"));
}

TEST(parse_rejects_other_versions)
{
	CHECK(PARSE_INVALID("GET / HTTP/2.0\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / HTTP/1.2\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / HTTP/0.9\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / http/1.1\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / HTTP/1\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / HTTPS/1.1\r\n\r\n"));
}

TEST(parse_rejects_trailing_chars_after_version)
{
	CHECK(PARSE_INVALID("GET / HTTP/1.1x\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / HTTP/1.11\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / HTTP/1.1 \r\n\r\n"));
}

TEST(parse_rejects_missing_version)
{
	CHECK(PARSE_INVALID("GET /\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / \r\n\r\n"));
}

TEST(parse_rejects_cr_not_followed_by_lf)
{
	CHECK(PARSE_INVALID("GET / HTTP/1.1\rX: a\r\n\r\n"));
}

TEST(parse_rejects_header_without_colon)
{
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nHost example.com\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nHost\r\n\r\n"));
}

TEST(parse_rejects_space_before_colon)
{
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nHost : example.com\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nHost\t: example.com\r\n\r\n"));
}

TEST(parse_rejects_empty_header_name)
{
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\n: v\r\n\r\n"));
}

TEST(parse_rejects_non_token_header_name)
{
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nX(y): v\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nX\x01: v\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nX\"y: v\r\n\r\n"));
}

TEST(parse_rejects_nul_in_header_value)
{
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"));
}

TEST(parse_rejects_control_chars_in_header_value)
{
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nX: a\x1f" "b\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nX: a\x7f" "b\r\n\r\n"));
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nX: a\x0b" "b\r\n\r\n"));
}

TEST(parse_rejects_bare_cr_in_header_value)
{
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n"));
}

TEST(parse_rejects_obs_fold_with_space)
{
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"));
}

TEST(parse_rejects_obs_fold_with_tab)
{
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"));
}

TEST(parse_rejects_whitespace_before_first_header)
{
	CHECK(PARSE_INVALID("GET / HTTP/1.1\r\n Host: a\r\n\r\n"));
}

TEST(parse_rejects_more_than_max_headers)
{
	static char in[(HTTP_MAX_HEADERS + 1) * 16 + 64];
	size_t n = 0, i;

	n += (size_t)sprintf(in + n, "GET / HTTP/1.1\r\n");
	for (i = 0; i < HTTP_MAX_HEADERS + 1; i++)
		n += (size_t)sprintf(in + n, "H%zu: %zu\r\n", i, i);
	n += (size_t)sprintf(in + n, "\r\n");
	CHECK(parse_all_ways(in, n, HTTP_TOO_MANY_HEADERS, NULL, NULL));
}

/* ======================================================================
 * http_find_header
 * ====================================================================== */

/* Four headers, so the tests also build with -DHTTP_MAX_HEADERS=4. */
static void make_req(struct http_request *r)
{
	static const char *const kv[][2] = {
		{"X-A", "1"}, {"Host", "a"}, {"x-a", "2"}, {"X-AB", "3"},
	};
	size_t i;

	memset(r, 0, sizeof(*r));
	r->method = "GET";
	r->method_len = 3;
	r->target = "/";
	r->target_len = 1;
	r->minor_version = 1;
	for (i = 0; i < T_ARRAY_LEN(kv) && i < HTTP_MAX_HEADERS; i++) {
		r->headers[i].name = kv[i][0];
		r->headers[i].name_len = strlen(kv[i][0]);
		r->headers[i].value = kv[i][1];
		r->headers[i].value_len = strlen(kv[i][1]);
	}
	r->num_headers = i;
}

TEST(find_header_is_case_insensitive)
{
	struct http_request r;
	size_t from = 0;

	make_req(&r);
	CHECK(http_find_header(&r, "HOST", &from) == &r.headers[1]);
	from = 0;
	CHECK(http_find_header(&r, "host", &from) == &r.headers[1]);
}

TEST(find_header_absent_is_null)
{
	struct http_request r;
	size_t from = 0;

	make_req(&r);
	CHECK(http_find_header(&r, "Content-Length", &from) == NULL);
	from = 0;
	CHECK(http_find_header(&r, "Hos", &from) == NULL);
	from = 0;
	CHECK(http_find_header(&r, "Hostx", &from) == NULL);
	from = 0;
	CHECK(http_find_header(&r, "", &from) == NULL);
}

TEST(find_header_matches_whole_name_only)
{
	struct http_request r;
	size_t from = 0;

	make_req(&r);
	/* "X-AB" is found as itself, and never as a repeat of "X-A" */
	CHECK(http_find_header(&r, "x-ab", &from) == &r.headers[3]);
}

TEST(find_header_walks_repeats_with_from)
{
	struct http_request r;
	const struct http_header *h;
	size_t from = 0;

	make_req(&r);
	h = http_find_header(&r, "X-A", &from);
	REQUIRE(CHECK(h == &r.headers[0]));
	CHECK_EQ_INT(from, 1); /* the index after the hit */
	from = 1;
	h = http_find_header(&r, "X-A", &from);
	REQUIRE(CHECK(h == &r.headers[2]));
	CHECK_EQ_INT(from, 3);
	from = 3;
	CHECK(http_find_header(&r, "X-A", &from) == NULL);
}

TEST(find_header_from_past_end_is_null)
{
	struct http_request r;
	size_t from;

	make_req(&r);
	from = r.num_headers;
	CHECK(http_find_header(&r, "Host", &from) == NULL);
	from = r.num_headers + 10;
	CHECK(http_find_header(&r, "Host", &from) == NULL);
}

TEST(find_header_in_empty_request_is_null)
{
	struct http_request r;
	size_t from = 0;

	make_req(&r);
	r.num_headers = 0;
	CHECK(http_find_header(&r, "Host", &from) == NULL);
}

TEST(find_header_does_not_read_past_name_len)
{
	/* header names are spans into the request buffer, not strings */
	struct http_request r;
	char *name = t_guarded_copy("Host", 4);
	char *value = t_guarded_copy("h", 1);
	size_t from = 0;

	make_req(&r);
	r.headers[1].name = name;
	r.headers[1].value = value;
	CHECK(http_find_header(&r, "host", &from) == &r.headers[1]);
	from = 0;
	CHECK(http_find_header(&r, "hostname", &from) == NULL);
	t_guarded_free(name);
	t_guarded_free(value);
}

/* ======================================================================
 * http_value_has_token
 * ====================================================================== */

static int has_token(const char *v, const char *tok)
{
	size_t n = strlen(v);
	char *g = t_guarded_copy(v, n); /* not NUL-terminated */
	int r = http_value_has_token(g, n, tok);
	t_guarded_free(g);
	return r;
}

TEST(value_has_token_finds_case_insensitive_list_member)
{
	CHECK(has_token("keep-alive, Upgrade", "upgrade"));
	CHECK(has_token("keep-alive, Upgrade", "Keep-Alive"));
	CHECK(has_token("close", "close"));
	CHECK(has_token("CLOSE", "close"));
}

TEST(value_has_token_rejects_partial_words)
{
	CHECK(!has_token("closed", "close"));
	CHECK(!has_token("xclose", "close"));
	CHECK(!has_token("clos", "close"));
	CHECK(!has_token("keep-alive, closed", "close"));
	CHECK(!has_token("close-x, y", "close"));
}

TEST(value_has_token_handles_blanks_and_empty_elements)
{
	CHECK(has_token("a ,close", "close"));
	CHECK(has_token("a,\tclose\t,b", "close"));
	CHECK(has_token("a,,close", "close"));
	CHECK(has_token(",close,", "close"));
	CHECK(has_token("close ,x", "close"));
	CHECK(has_token("a,b,chunked", "chunked"));
	CHECK(has_token("gzip, chunked", "chunked"));
}

TEST(value_has_token_empty_value_has_nothing)
{
	CHECK(!has_token("", "close"));
	CHECK(!has_token(" , ", "close"));
}

TEST(value_has_token_respects_len)
{
	char *g = t_guarded_copy("close", 5);
	CHECK(!http_value_has_token(g, 4, "close"));
	CHECK(http_value_has_token(g, 5, "close"));
	t_guarded_free(g);
}

/* ======================================================================
 * http_parse_length
 * ====================================================================== */

static int64_t plen(const char *v)
{
	size_t n = strlen(v);
	char *g = t_guarded_copy(v, n);
	int64_t r = http_parse_length(g, n);
	t_guarded_free(g);
	return r;
}

TEST(parse_length_accepts_digits)
{
	CHECK_EQ_INT(plen("0"), 0);
	CHECK_EQ_INT(plen("123"), 123);
	CHECK_EQ_INT(plen("007"), 7);
	CHECK_EQ_INT(plen("8388608"), 8388608);
}

TEST(parse_length_accepts_19_digits_up_to_int64_max)
{
	CHECK_EQ_INT(plen("1000000000000000000"), 1000000000000000000LL);
	CHECK_EQ_INT(plen("9223372036854775807"), INT64_MAX);
}

TEST(parse_length_rejects_empty)
{
	CHECK_EQ_INT(plen(""), -1);
}

TEST(parse_length_rejects_blanks)
{
	/* the caller passes a trimmed value: any blank is invalid */
	CHECK_EQ_INT(plen(" 12"), -1);
	CHECK_EQ_INT(plen("12 "), -1);
	CHECK_EQ_INT(plen("1 2"), -1);
	CHECK_EQ_INT(plen("\t1"), -1);
}

TEST(parse_length_rejects_signs)
{
	CHECK_EQ_INT(plen("-1"), -1);
	CHECK_EQ_INT(plen("+1"), -1);
	CHECK_EQ_INT(plen("-0"), -1);
}

TEST(parse_length_rejects_non_digits)
{
	CHECK_EQ_INT(plen("1a"), -1);
	CHECK_EQ_INT(plen("a1"), -1);
	CHECK_EQ_INT(plen("0x10"), -1);
	CHECK_EQ_INT(plen("1.0"), -1);
	CHECK_EQ_INT(plen("1,2"), -1);
}

TEST(parse_length_rejects_overflow)
{
	CHECK_EQ_INT(plen("9223372036854775808"), -1);
	CHECK_EQ_INT(plen("18446744073709551615"), -1);
	CHECK_EQ_INT(plen("18446744073709551616"), -1);
	CHECK_EQ_INT(plen("99999999999999999999"), -1);
	CHECK_EQ_INT(plen("123456789012345678901234567890"), -1);
}

TEST(parse_length_respects_len)
{
	char *g = t_guarded_copy("12x", 3);
	CHECK_EQ_INT(http_parse_length(g, 2), 12);
	CHECK_EQ_INT(http_parse_length(g, 3), -1);
	t_guarded_free(g);
}

/* ======================================================================
 * http_span_eq
 * ====================================================================== */

static int span_eq(const char *s, const char *lit)
{
	size_t n = strlen(s);
	char *g = t_guarded_copy(s, n);
	int r = http_span_eq(g, n, lit);
	t_guarded_free(g);
	return r;
}

TEST(span_eq_ignores_case)
{
	CHECK(span_eq("Host", "host"));
	CHECK(span_eq("CONTENT-LENGTH", "content-length"));
	CHECK(span_eq("chunked", "Chunked"));
}

TEST(span_eq_requires_same_length)
{
	CHECK(!span_eq("Hos", "host"));
	CHECK(!span_eq("Hosts", "host"));
	CHECK(!span_eq("", "host"));
	CHECK(!span_eq("host", ""));
}

TEST(span_eq_empty_equals_empty)
{
	CHECK(span_eq("", ""));
}

TEST(span_eq_differs_on_other_chars)
{
	CHECK(!span_eq("hast", "host"));
	CHECK(!span_eq("x-a", "x_a"));
	/* case folding is ASCII letters only: '@' vs '`', '[' vs '{' */
	CHECK(!span_eq("@", "`"));
	CHECK(!span_eq("[", "{"));
}

/* ======================================================================
 * http_reason
 * ====================================================================== */

TEST(reason_of_common_statuses)
{
	CHECK_EQ_STR(http_reason(200), "OK");
	CHECK_EQ_STR(http_reason(400), "Bad Request");
	CHECK_EQ_STR(http_reason(401), "Unauthorized");
	CHECK_EQ_STR(http_reason(403), "Forbidden");
	CHECK_EQ_STR(http_reason(404), "Not Found");
	CHECK_EQ_STR(http_reason(405), "Method Not Allowed");
	CHECK_EQ_STR(http_reason(408), "Request Timeout");
	CHECK_EQ_STR(http_reason(411), "Length Required");
	CHECK_EQ_STR(http_reason(429), "Too Many Requests");
	CHECK_EQ_STR(http_reason(431), "Request Header Fields Too Large");
	CHECK_EQ_STR(http_reason(500), "Internal Server Error");
	CHECK_EQ_STR(http_reason(501), "Not Implemented");
	CHECK_EQ_STR(http_reason(502), "Bad Gateway");
	CHECK_EQ_STR(http_reason(503), "Service Unavailable");
	CHECK_EQ_STR(http_reason(504), "Gateway Timeout");
}

TEST(reason_of_413_is_either_rfc_name)
{
	const char *r = http_reason(413);
	REQUIRE(CHECK(r != NULL));
	CHECK(strcmp(r, "Content Too Large") == 0 ||
	      strcmp(r, "Payload Too Large") == 0);
}

TEST(reason_of_unknown_status_is_a_string)
{
	CHECK(http_reason(599) != NULL);
	CHECK(http_reason(0) != NULL);
	CHECK(http_reason(-1) != NULL);
	CHECK(http_reason(1000) != NULL);
}

/* ======================================================================
 * Chunked decoder helpers
 * ====================================================================== */

enum feed { FEED_WHOLE, FEED_BYTES, FEED_RANDOM };

struct chunk_result {
	int rc;          /* last return value (1, 0 = ran out of input, -1) */
	size_t consumed; /* total input bytes consumed */
	char *payload;   /* malloc'd */
	size_t payload_len;
	int misuse; /* consumed/out_len out of range: already reported */
};

/*
 * Decode in[0..len), cut into pieces by `feed` (seed for FEED_RANDOM).  The
 * caller side keeps the unconsumed remainder and appends each new piece to
 * it; after a call that made progress (consumed or produced something) it
 * calls again without new input, so a small out_cap drains.  Every call
 * gets a fresh guarded copy of the pending input; the output buffer is a
 * guarded buffer of exactly out_cap bytes, or the input itself when
 * in_place (then out_cap = pending length).
 */
static void chunk_run(const char *in, size_t len, enum feed feed,
		      uint64_t seed, size_t out_cap, int in_place,
		      struct chunk_result *res)
{
	struct http_chunked d;
	struct t_rng rng;
	char *pend = malloc(len + 1);
	size_t pend_len = 0, fed = 0, iters = 0;

	memset(res, 0, sizeof(*res));
	res->payload = malloc(len + 1);
	t_rng_seed(&rng, seed);
	http_chunked_init(&d);
	for (;;) {
		size_t consumed = (size_t)-1, out_len = (size_t)-1, cap;
		char *g, *out;
		int rc;

		if (++iters > 4 * len + 1000) {
			FAILF("chunked decoder does not stop on \"%s\"",
			      t_esc(in, len));
			res->misuse = 1;
			break;
		}
		g = t_guarded_copy(pend, pend_len);
		if (in_place) {
			out = g;
			cap = pend_len;
		} else {
			out = t_guarded_alloc(out_cap);
			cap = out_cap;
		}
		rc = http_chunked_decode(&d, g, pend_len, &consumed, out, cap,
					 &out_len);
		res->rc = rc;
		if (rc == HTTP_INVALID) {
			if (!in_place)
				t_guarded_free(out);
			t_guarded_free(g);
			break;
		}
		if ((rc != 0 && rc != 1) || consumed > pend_len ||
		    out_len > cap) {
			FAILF("chunked decode returned %d, consumed %zu of %zu, "
			      "out_len %zu of %zu",
			      rc, consumed, pend_len, out_len, cap);
			res->misuse = 1;
			if (!in_place)
				t_guarded_free(out);
			t_guarded_free(g);
			break;
		}
		if (res->payload_len + out_len > len) {
			FAILF("chunked decode produced more payload than input "
			      "(%zu + %zu > %zu)",
			      res->payload_len, out_len, len);
			res->misuse = 1;
			if (!in_place)
				t_guarded_free(out);
			t_guarded_free(g);
			break;
		}
		memcpy(res->payload + res->payload_len, out, out_len);
		res->payload_len += out_len;
		res->consumed += consumed;
		/* the unconsumed input must be untouched even in place */
		memmove(pend, g + consumed, pend_len - consumed);
		pend_len -= consumed;
		if (!in_place)
			t_guarded_free(out);
		t_guarded_free(g);
		if (rc == 1)
			break;
		if (consumed == 0 && out_len == 0) {
			size_t piece;
			if (fed == len)
				break; /* rc 0: needs more than there is */
			switch (feed) {
			case FEED_WHOLE:
				piece = len - fed;
				break;
			case FEED_BYTES:
				piece = 1;
				break;
			default:
				piece = t_rng_piece(&rng, len - fed);
				break;
			}
			memcpy(pend + pend_len, in + fed, piece);
			pend_len += piece;
			fed += piece;
		}
	}
	free(pend);
}

/*
 * Decode in[0..len) whole, byte by byte, in 50 random splits, in place
 * (whole, byte by byte, random), and with small output buffers; every
 * run must end with 1, the payload `want`, and exactly `want_consumed`
 * input bytes consumed.
 */
static int chunked_all_ways(const char *in, size_t len, const char *want,
			    size_t want_len, size_t want_consumed)
{
	struct chunk_result r;
	struct {
		enum feed feed;
		int in_place;
		size_t out_cap;
		int runs;
		const char *what;
	} modes[] = {
		{FEED_WHOLE, 0, len + 1, 1, "whole"},
		{FEED_BYTES, 0, len + 1, 1, "byte-by-byte"},
		{FEED_RANDOM, 0, len + 1, 50, "random split"},
		{FEED_WHOLE, 1, 0, 1, "in place whole"},
		{FEED_BYTES, 1, 0, 1, "in place byte-by-byte"},
		{FEED_RANDOM, 1, 0, 10, "in place random split"},
		{FEED_WHOLE, 0, 1, 1, "out_cap 1 whole"},
		{FEED_BYTES, 0, 1, 1, "out_cap 1 byte-by-byte"},
		{FEED_RANDOM, 0, 3, 10, "out_cap 3 random split"},
	};
	size_t m;
	int i, ok = 1;

	for (m = 0; m < T_ARRAY_LEN(modes) && ok; m++) {
		for (i = 0; i < modes[m].runs && ok; i++) {
			chunk_run(in, len, modes[m].feed,
				  t_seed(0xc4c4) + (uint64_t)i,
				  modes[m].out_cap, modes[m].in_place, &r);
			if (r.misuse) {
				ok = 0;
			} else if (r.rc != 1 || r.consumed != want_consumed ||
				   r.payload_len != want_len ||
				   memcmp(r.payload, want, want_len) != 0) {
				FAILF("%s #%d of \"%s\": rc %d (want 1), "
				      "consumed %zu (want %zu), payload "
				      "\"%s\" (want \"%s\")",
				      modes[m].what, i, t_esc(in, len), r.rc,
				      r.consumed, want_consumed,
				      t_esc(r.payload, r.payload_len),
				      t_esc(want, want_len));
				ok = 0;
			}
			free(r.payload);
		}
	}
	return ok;
}

/* Invalid input: whole, byte by byte and in random splits, the decoder
 * must end with HTTP_INVALID (never 1, never waiting for more). */
static int chunked_invalid_all_ways(const char *in, size_t len)
{
	struct chunk_result r;
	int i, ok = 1;

	for (i = 0; i < 12 && ok; i++) {
		enum feed f = i == 0 ? FEED_WHOLE
				     : i == 1 ? FEED_BYTES : FEED_RANDOM;
		chunk_run(in, len, f, t_seed(0xbad) + (uint64_t)i, len + 1, 0,
			  &r);
		if (r.misuse) {
			ok = 0;
		} else if (r.rc != HTTP_INVALID) {
			FAILF("%s of \"%s\": rc %d, want %d (HTTP_INVALID)",
			      i == 0 ? "whole"
				     : i == 1 ? "byte-by-byte" : "random split",
			      t_esc(in, len), r.rc, HTTP_INVALID);
			ok = 0;
		}
		free(r.payload);
	}
	return ok;
}

#define CHUNKED_OK(in, want)                                                 \
	chunked_all_ways((in), sizeof(in) - 1, (want), sizeof(want) - 1,     \
			 sizeof(in) - 1)
#define CHUNKED_INVALID(in) chunked_invalid_all_ways((in), sizeof(in) - 1)

/* Decode whole, one call, into a big buffer. */
static int chunk_once(const char *in, size_t len, size_t *consumed,
		      char *out, size_t out_cap, size_t *out_len)
{
	struct http_chunked d;
	char *g = t_guarded_copy(in, len);
	int rc;

	http_chunked_init(&d);
	*consumed = (size_t)-1;
	*out_len = (size_t)-1;
	rc = http_chunked_decode(&d, g, len, consumed, out, out_cap, out_len);
	t_guarded_free(g);
	return rc;
}

/* ======================================================================
 * http_chunked_decode: valid bodies
 * ====================================================================== */

TEST(chunked_decodes_wikipedia)
{
	static const char in[] = "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
	char out[64];
	size_t consumed, out_len;

	CHECK_EQ_INT(chunk_once(S(in), &consumed, out, sizeof(out), &out_len),
		     1);
	CHECK_EQ_INT(consumed, sizeof(in) - 1);
	CHECK_SPAN(out, out_len, "Wikipedia");
}

TEST(chunked_wikipedia_same_in_every_split)
{
	CHECK(CHUNKED_OK("4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n", "Wikipedia"));
}

TEST(chunked_does_not_consume_next_request)
{
	static const char body[] = "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
	static const char in[] = "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"
				 "GET / HTTP/1.1\r\n\r\n";
	char out[64];
	size_t consumed, out_len;

	CHECK_EQ_INT(chunk_once(S(in), &consumed, out, sizeof(out), &out_len),
		     1);
	CHECK_EQ_INT(consumed, sizeof(body) - 1);
	CHECK_SPAN(out, out_len, "Wikipedia");
	CHECK(chunked_all_ways(S(in), S("Wikipedia"), sizeof(body) - 1));
}

TEST(chunked_empty_body)
{
	CHECK(CHUNKED_OK("0\r\n\r\n", ""));
}

TEST(chunked_lf_only_end_does_not_consume_next_request)
{
	static const char body[] = "4\nWiki\n0\n\n";
	static const char in[] = "4\nWiki\n0\n\nGET / HTTP/1.1\n\n";
	CHECK(chunked_all_ways(S(in), S("Wiki"), sizeof(body) - 1));
}

TEST(chunked_accepts_extensions)
{
	CHECK(CHUNKED_OK("4;foo=bar\r\nWiki\r\n5;a;b=\"q;x\"\r\npedia\r\n"
			 "0;last=1\r\n\r\n",
			 "Wikipedia"));
}

TEST(chunked_accepts_blank_before_extension)
{
	/* RFC 9112 7.1.1: BWS ";" chunk-ext-name */
	CHECK(CHUNKED_OK("4 ;a=b\r\nWiki\r\n0\r\n\r\n", "Wiki"));
}

TEST(chunked_accepts_quoted_extension_value)
{
	/* chunk-ext-val may be a quoted-string: qdtext includes SP and '/' */
	CHECK(CHUNKED_OK("4;name=\"a/b c\"\r\nWiki\r\n0\r\n\r\n", "Wiki"));
}

TEST(chunked_accepts_trailers)
{
	CHECK(CHUNKED_OK("4\r\nWiki\r\n0\r\nX-T: 1\r\n\r\n", "Wiki"));
	CHECK(CHUNKED_OK("0\r\nX-T: 1\r\nX-U: two\r\n\r\n", ""));
}

TEST(chunked_trailers_do_not_consume_next_request)
{
	static const char body[] = "1\r\na\r\n0\r\nX-T: 1\r\n\r\n";
	static const char in[] = "1\r\na\r\n0\r\nX-T: 1\r\n\r\nGET /";
	CHECK(chunked_all_ways(S(in), S("a"), sizeof(body) - 1));
}

TEST(chunked_accepts_trailers_below_limit)
{
	static char in[HTTP_TRAILER_MAX + 64];
	size_t n = 0;

	n += (size_t)sprintf(in, "1\r\nz\r\n0\r\n");
	while (n < 6 + HTTP_TRAILER_MAX / 2)
		n += (size_t)sprintf(in + n, "X-Pad: %040d\r\n", 7);
	n += (size_t)sprintf(in + n, "\r\n");
	CHECK(chunked_all_ways(in, n, S("z"), n));
}

TEST(chunked_accepts_uppercase_and_mixed_hex)
{
	CHECK(CHUNKED_OK("A\r\n0123456789\r\n0\r\n\r\n", "0123456789"));
	CHECK(CHUNKED_OK("1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n",
			 "abcdefghijklmnopqrstuvwxyz"));
	CHECK(CHUNKED_OK("1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n",
			 "abcdefghijklmnopqrstuvwxyz"));
}

TEST(chunked_accepts_leading_zeros_up_to_16_digits)
{
	CHECK(CHUNKED_OK("0000000000000004\r\nWiki\r\n0000000000000000\r\n\r\n",
			 "Wiki"));
}

TEST(chunked_accepts_lf_only_line_ends)
{
	CHECK(CHUNKED_OK("4\nWiki\n5\npedia\n0\n\n", "Wikipedia"));
	CHECK(CHUNKED_OK("4\nWiki\r\n5;x=y\npedia\n0\nX-T: 1\n\n",
			 "Wikipedia"));
}

TEST(chunked_binary_payload_with_crlf_inside)
{
	static const char in[] = "6\r\n\r\n\0\n\r\xff\r\n0\r\n\r\n";
	static const char want[] = "\r\n\0\n\r\xff";
	CHECK(CHUNKED_OK(in, want));
}

TEST(chunked_many_one_byte_chunks)
{
	static char in[4096], want[256];
	size_t n = 0, i;

	for (i = 0; i < 200; i++) {
		want[i] = (char)('a' + i % 26);
		n += (size_t)sprintf(in + n, "1\r\n%c\r\n", want[i]);
	}
	n += (size_t)sprintf(in + n, "0\r\n\r\n");
	CHECK(chunked_all_ways(in, n, want, 200, n));
}

TEST(chunked_large_chunk)
{
	static char in[20000], want[16384];
	size_t n, i;

	for (i = 0; i < sizeof(want); i++)
		want[i] = (char)(i * 7 + 3);
	n = (size_t)sprintf(in, "%zx\r\n", sizeof(want));
	memcpy(in + n, want, sizeof(want));
	n += sizeof(want);
	n += (size_t)sprintf(in + n, "\r\n0\r\n\r\n");
	CHECK(chunked_all_ways(in, n, want, sizeof(want), n));
}

TEST(chunked_decodes_in_place)
{
	static const char src[] = "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\nNEXT";
	char *g = t_guarded_copy(src, sizeof(src) - 1);
	struct http_chunked d;
	size_t consumed = 0, out_len = 0;

	http_chunked_init(&d);
	CHECK_EQ_INT(http_chunked_decode(&d, g, sizeof(src) - 1, &consumed, g,
					 sizeof(src) - 1, &out_len),
		     1);
	CHECK_EQ_INT(consumed, sizeof(src) - 1 - 4);
	CHECK_SPAN(g, out_len, "Wikipedia");
	CHECK_SPAN(g + consumed, 4, "NEXT");
	t_guarded_free(g);
}

TEST(chunked_small_out_cap_makes_progress)
{
	static const char in[] = "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
	struct http_chunked d;
	char out[1], got[64];
	size_t pos = 0, got_len = 0, calls = 0;
	int rc = 0;

	http_chunked_init(&d);
	while (rc == 0 && calls++ < 1000) {
		size_t consumed = 0, out_len = 0;
		char *g = t_guarded_copy(in + pos, sizeof(in) - 1 - pos);
		rc = http_chunked_decode(&d, g, sizeof(in) - 1 - pos,
					 &consumed, out, sizeof(out), &out_len);
		t_guarded_free(g);
		if (rc < 0)
			break;
		REQUIRE(CHECK(out_len <= 1));
		REQUIRE(CHECK(consumed <= sizeof(in) - 1 - pos));
		REQUIRE(CHECK(consumed > 0 || out_len > 0 || rc == 1));
		memcpy(got + got_len, out, out_len);
		got_len += out_len;
		pos += consumed;
	}
	CHECK_EQ_INT(rc, 1);
	CHECK_EQ_INT(pos, sizeof(in) - 1);
	CHECK_SPAN(got, got_len, "Wikipedia");
}

TEST(chunked_partial_input_returns_zero)
{
	static const char in[] = "4\r\nWi";
	char out[16];
	size_t consumed, out_len;

	CHECK_EQ_INT(chunk_once(S(in), &consumed, out, sizeof(out), &out_len),
		     0);
	CHECK(consumed <= sizeof(in) - 1);
	/* whatever was consumed of the data was delivered */
	CHECK(out_len <= 2);
}

TEST(chunked_empty_input_returns_zero)
{
	char out[16];
	size_t consumed, out_len;

	CHECK_EQ_INT(chunk_once("", 0, &consumed, out, sizeof(out), &out_len),
		     0);
	CHECK_EQ_INT(consumed, 0);
	CHECK_EQ_INT(out_len, 0);
}

TEST(chunked_huge_16_digit_size_waits_for_data)
{
	/* 16 hex digits are allowed; the body limit is the caller's job */
	static const char in[] = "ffffffffffffffff\r\nab";
	struct chunk_result r;

	chunk_run(S(in), FEED_WHOLE, 1, 65536, 0, &r);
	CHECK(!r.misuse);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_SPAN(r.payload, r.payload_len, "ab");
	free(r.payload);
}

/* ======================================================================
 * http_chunked_decode: invalid bodies
 * ====================================================================== */

TEST(chunked_rejects_non_hex_size)
{
	CHECK(CHUNKED_INVALID("zz\r\nWiki\r\n0\r\n\r\n"));
	CHECK(CHUNKED_INVALID("4z\r\nWiki\r\n0\r\n\r\n"));
	CHECK(CHUNKED_INVALID("-4\r\nWiki\r\n0\r\n\r\n"));
	CHECK(CHUNKED_INVALID("4 5\r\nWiki\r\n0\r\n\r\n"));
	CHECK(CHUNKED_INVALID("4\r\nWiki\r\ng\r\n"));
}

TEST(chunked_rejects_last_chunk_spelled_0x)
{
	/* "0x4" is not hex; read as size 0 it would end the body and turn
	 * the rest into trailers (a request-smuggling shape) */
	CHECK(CHUNKED_INVALID("0x4\r\nWiki\r\n0\r\n\r\n"));
}

TEST(chunked_rejects_bare_cr_in_size_line)
{
	CHECK(CHUNKED_INVALID("4\rx\nWiki\r\n0\r\n\r\n"));
	CHECK(CHUNKED_INVALID("4;a\rb\r\nWiki\r\n0\r\n\r\n"));
}

TEST(chunked_rejects_empty_size_line)
{
	CHECK(CHUNKED_INVALID("\r\nWiki\r\n0\r\n\r\n"));
	CHECK(CHUNKED_INVALID(";ext\r\nWiki\r\n0\r\n\r\n"));
	CHECK(CHUNKED_INVALID("4\r\nWiki\r\n\r\n0\r\n\r\n"));
}

TEST(chunked_rejects_17_hex_digits)
{
	CHECK(CHUNKED_INVALID("10000000000000000\r\nx\r\n0\r\n\r\n"));
	CHECK(CHUNKED_INVALID("00000000000000004\r\nWiki\r\n0\r\n\r\n"));
}

TEST(chunked_rejects_size_line_over_limit)
{
	static char in[2 * HTTP_CHUNK_LINE_MAX + 64];
	size_t n;

	n = (size_t)sprintf(in, "4;x=");
	memset(in + n, 'a', HTTP_CHUNK_LINE_MAX + 16);
	n += HTTP_CHUNK_LINE_MAX + 16;
	n += (size_t)sprintf(in + n, "\r\nWiki\r\n0\r\n\r\n");
	CHECK(chunked_invalid_all_ways(in, n));
}

TEST(chunked_rejects_unterminated_long_size_line)
{
	/* no line end at all: the decoder must not wait forever */
	static char in[2 * HTTP_CHUNK_LINE_MAX + 64];
	size_t n;

	n = (size_t)sprintf(in, "4;x=");
	memset(in + n, 'a', 2 * HTTP_CHUNK_LINE_MAX);
	n += 2 * HTTP_CHUNK_LINE_MAX;
	CHECK(chunked_invalid_all_ways(in, n));
}

TEST(chunked_accepts_size_line_well_below_limit)
{
	static char in[HTTP_CHUNK_LINE_MAX + 64];
	size_t n;

	n = (size_t)sprintf(in, "4;x=");
	memset(in + n, 'a', HTTP_CHUNK_LINE_MAX / 2);
	n += HTTP_CHUNK_LINE_MAX / 2;
	n += (size_t)sprintf(in + n, "\r\nWiki\r\n0\r\n\r\n");
	CHECK(chunked_all_ways(in, n, S("Wiki"), n));
}

TEST(chunked_rejects_missing_crlf_after_data)
{
	CHECK(CHUNKED_INVALID("4\r\nWikiX"));
	CHECK(CHUNKED_INVALID("4\r\nWikiX\r\n0\r\n\r\n"));
	CHECK(CHUNKED_INVALID("4\r\nWiki\rX\n0\r\n\r\n"));
	CHECK(CHUNKED_INVALID("4\r\nWikipedia\r\n0\r\n\r\n"));
}

TEST(chunked_rejects_trailers_over_limit)
{
	static char in[3 * HTTP_TRAILER_MAX];
	size_t n = 0;

	n += (size_t)sprintf(in, "1\r\nz\r\n0\r\n");
	while (n < 2 * HTTP_TRAILER_MAX)
		n += (size_t)sprintf(in + n, "X-Pad: %090d\r\n", 7);
	n += (size_t)sprintf(in + n, "\r\n");
	CHECK(chunked_invalid_all_ways(in, n));
}

TEST(chunked_rejects_unterminated_trailers_over_limit)
{
	/* one endless trailer line, no line end: must not wait forever */
	static char in[3 * HTTP_TRAILER_MAX];
	size_t n;

	n = (size_t)sprintf(in, "0\r\nX-Pad: ");
	memset(in + n, 'a', 2 * HTTP_TRAILER_MAX);
	n += 2 * HTTP_TRAILER_MAX;
	CHECK(chunked_invalid_all_ways(in, n));
}
