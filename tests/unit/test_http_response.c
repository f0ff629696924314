/*
 * test_http_response.c - unit tests of http_parse_response and
 * http_find_response_header against the contract in http.h.
 *
 * Every input is handed to the parser in a guarded buffer (it ends at a
 * PROT_NONE page), so reading past the given length crashes the test.
 * Every vector is also fed byte by byte and in random growing prefixes:
 * the parser is restartable, so each call gets a fresh, longer buffer.
 */
#include "t.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A parse result with pointers turned into offsets, so results from
 * different buffers can be compared. */
struct norm_hdr {
	size_t name_off, name_len, value_off, value_len;
};
struct norm_resp {
	int rc;
	int status, minor_version;
	size_t reason_off, reason_len;
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

static int parse_norm(const char *buf, size_t len, struct norm_resp *n)
{
	struct http_response res;
	char *g = t_guarded_copy(buf, len);
	int bad = 0;
	size_t i;

	memset(&res, 0xa5, sizeof(res));
	memset(n, 0, sizeof(*n));
	n->rc = http_parse_response(g, len, &res);
	if (n->rc > 0) {
		if ((size_t)n->rc > len) {
			FAILF("parse of \"%s\": length %d > input %zu",
			      t_esc(buf, len), n->rc, len);
			bad = 1;
		}
		n->status = res.status;
		n->minor_version = res.minor_version;
		n->reason_off =
			off_in(g, len, res.reason, res.reason_len, &bad);
		n->reason_len = res.reason_len;
		n->num_headers = res.num_headers;
		if (res.num_headers > HTTP_MAX_HEADERS) {
			FAILF("num_headers %zu > HTTP_MAX_HEADERS",
			      res.num_headers);
			n->num_headers = 0;
			bad = 1;
		}
		for (i = 0; i < n->num_headers; i++) {
			const struct http_header *h = &res.headers[i];
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

static int norm_eq(const struct norm_resp *a, const struct norm_resp *b)
{
	size_t i;

	if (a->rc != b->rc)
		return 0;
	if (a->rc <= 0)
		return 1;
	if (a->status != b->status || a->minor_version != b->minor_version ||
	    a->reason_off != b->reason_off || a->reason_len != b->reason_len ||
	    a->num_headers != b->num_headers)
		return 0;
	for (i = 0; i < a->num_headers; i++)
		if (memcmp(&a->h[i], &b->h[i], sizeof(a->h[i])) != 0)
			return 0;
	return 1;
}

static int prefix_rc_ok(int rc, size_t plen, int expect)
{
	if (expect > 0)
		return plen < (size_t)expect ? rc == HTTP_PARTIAL : rc == expect;
	return rc == HTTP_PARTIAL || rc == expect;
}

/*
 * Feed s[0..len) whole, then every prefix (growing by one byte), then 50
 * random sequences of growing prefixes.  expect: the head length (shorter
 * prefixes must be HTTP_PARTIAL, longer ones must give it again, with the
 * same fields) or an error code (prefixes give HTTP_PARTIAL or that code).
 * On success with out set, out holds a parse of out_buf (a copy of s).
 */
static int parse_all_ways(const char *s, size_t len, int expect,
			  struct http_response *out, char *out_buf)
{
	struct norm_resp whole, cur;
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
		if (expect > 0 && p >= (size_t)expect && !norm_eq(&cur, &whole)) {
			FAILF("byte-by-byte \"%s\": prefix of %zu bytes: "
			      "fields differ from the whole parse",
			      t_esc(s, len), p);
			return 0;
		}
	}
	t_rng_seed(&rng, t_seed(0x7e5) ^ len);
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
		http_parse_response(out_buf, len, out);
	}
	return ok;
}

static char resp_buf[64 * 1024];
static struct http_response R;

#define PARSE_OK(str, expect_len)                                            \
	parse_all_ways((str), sizeof(str) - 1, (expect_len), &R, resp_buf)
#define PARSE_FULL(str) PARSE_OK(str, (int)sizeof(str) - 1)
#define PARSE_ERR(str, code)                                                 \
	parse_all_ways((str), sizeof(str) - 1, (code), NULL, NULL)
#define PARSE_INVALID(str) PARSE_ERR(str, HTTP_INVALID)

#define CHECK_NAME(i, lit)                                                   \
	CHECK_SPAN(R.headers[i].name, R.headers[i].name_len, lit)
#define CHECK_VALUE(i, lit)                                                  \
	CHECK_SPAN(R.headers[i].value, R.headers[i].value_len, lit)
#define CHECK_REASON(lit) CHECK_SPAN(R.reason, R.reason_len, lit)

/* ======================================================================
 * Status lines
 * ====================================================================== */

TEST(resp_http11_200_ok)
{
	static const char in[] = "HTTP/1.1 200 OK\r\n\r\n";
	REQUIRE(PARSE_FULL(in));
	CHECK_EQ_INT(R.status, 200);
	CHECK_EQ_INT(R.minor_version, 1);
	CHECK_REASON("OK");
	CHECK_EQ_INT(R.num_headers, 0);
}

TEST(resp_http10_404_not_found)
{
	static const char in[] =
		"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
	REQUIRE(PARSE_FULL(in));
	CHECK_EQ_INT(R.status, 404);
	CHECK_EQ_INT(R.minor_version, 0);
	CHECK_REASON("Not Found");
	REQUIRE(CHECK_EQ_INT(R.num_headers, 1));
	CHECK_NAME(0, "Content-Length");
	CHECK_VALUE(0, "0");
}

TEST(resp_empty_reason_without_space)
{
	static const char in[] = "HTTP/1.1 204\r\nDate: x\r\n\r\n";
	REQUIRE(PARSE_FULL(in));
	CHECK_EQ_INT(R.status, 204);
	CHECK_EQ_INT(R.reason_len, 0);
	REQUIRE(CHECK_EQ_INT(R.num_headers, 1));
	CHECK_VALUE(0, "x");
}

/* A control byte in the reason phrase (a bare CR among them) is refused,
 * as in header values; a tab is allowed. */
TEST(resp_control_in_reason_is_invalid)
{
	CHECK(PARSE_INVALID("HTTP/1.1 200 O\rK\r\n\r\n"));
	CHECK(PARSE_INVALID("HTTP/1.1 200 O\x01K\r\n\r\n"));
	CHECK(PARSE_INVALID("HTTP/1.1 200 OK\x7f\r\n\r\n"));
	REQUIRE(PARSE_FULL("HTTP/1.1 200 O\tK\r\n\r\n"));
	CHECK_REASON("O\tK");
}

TEST(resp_empty_reason_with_space)
{
	static const char in[] = "HTTP/1.1 204 \r\n\r\n";
	REQUIRE(PARSE_FULL(in));
	CHECK_EQ_INT(R.status, 204);
	CHECK_EQ_INT(R.reason_len, 0);
	CHECK_EQ_INT(R.num_headers, 0);
}

TEST(resp_multi_word_reason)
{
	static const char in[] =
		"HTTP/1.1 503 Service Temporarily Unavailable\r\n"
		"Retry-After: 5\r\n\r\n";
	REQUIRE(PARSE_FULL(in));
	CHECK_EQ_INT(R.status, 503);
	CHECK_REASON("Service Temporarily Unavailable");
	REQUIRE(CHECK_EQ_INT(R.num_headers, 1));
	CHECK_NAME(0, "Retry-After");
	CHECK_VALUE(0, "5");
}

TEST(resp_1xx_continue)
{
	static const char in[] = "HTTP/1.1 100 Continue\r\n\r\n";
	REQUIRE(PARSE_FULL(in));
	CHECK_EQ_INT(R.status, 100);
	CHECK_REASON("Continue");
	CHECK_EQ_INT(R.num_headers, 0);
}

TEST(resp_1xx_then_final_head_parsed_separately)
{
	/* the 1xx head ends at its blank line; the final head follows */
	static const char first[] = "HTTP/1.1 100 Continue\r\n\r\n";
	static const char in[] = "HTTP/1.1 100 Continue\r\n\r\n"
				 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
				 "hi";
	static const char rest[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
	REQUIRE(PARSE_OK(in, (int)sizeof(first) - 1));
	CHECK_EQ_INT(R.status, 100);
	REQUIRE(PARSE_OK(rest, (int)sizeof(rest) - 1 - 2));
	CHECK_EQ_INT(R.status, 200);
	REQUIRE(CHECK_EQ_INT(R.num_headers, 1));
	CHECK_VALUE(0, "2");
}

TEST(resp_edge_status_codes)
{
	static const char in1[] = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
	static const char in2[] = "HTTP/1.1 599 Custom\r\n\r\n";
	static const char in3[] = "HTTP/1.1 999 Whatever\r\n\r\n";
	REQUIRE(PARSE_FULL(in1));
	CHECK_EQ_INT(R.status, 101);
	REQUIRE(PARSE_FULL(in2));
	CHECK_EQ_INT(R.status, 599);
	/* RFC 9110: 3DIGIT; the first digit's class is not the parser's
	 * business, but 100..999 must at least parse or be refused cleanly */
	{
		struct norm_resp n;
		parse_norm(in3, sizeof(in3) - 1, &n);
		CHECK(n.rc == HTTP_INVALID || (n.rc > 0 && n.status == 999));
	}
}

TEST(resp_reason_with_odd_bytes)
{
	static const char in[] = "HTTP/1.1 200 Okay\tfine caf\xc3\xa9!\r\n\r\n";
	REQUIRE(PARSE_FULL(in));
	CHECK_REASON("Okay\tfine caf\xc3\xa9!");
}

/* ======================================================================
 * Headers
 * ====================================================================== */

TEST(resp_headers_trimmed)
{
	static const char in[] = "HTTP/1.1 200 OK\r\n"
				 "Content-Type:   application/json  \r\n"
				 "X-Tab:\t \tv a l\t \r\n"
				 "X-None:v\r\n"
				 "X-Empty:\r\n"
				 "X-Blank:  \t \r\n"
				 "\r\n";
	REQUIRE(PARSE_FULL(in));
	REQUIRE(CHECK_EQ_INT(R.num_headers, 5));
	CHECK_NAME(0, "Content-Type");
	CHECK_VALUE(0, "application/json");
	CHECK_NAME(1, "X-Tab");
	CHECK_VALUE(1, "v a l");
	CHECK_VALUE(2, "v");
	CHECK_NAME(3, "X-Empty");
	CHECK_EQ_INT(R.headers[3].value_len, 0);
	CHECK_NAME(4, "X-Blank");
	CHECK_EQ_INT(R.headers[4].value_len, 0);
}

TEST(resp_bare_lf)
{
	static const char in[] =
		"HTTP/1.1 301 Moved Permanently\nLocation: /x\nA: b\n\n";
	REQUIRE(PARSE_FULL(in));
	CHECK_EQ_INT(R.status, 301);
	CHECK_REASON("Moved Permanently");
	REQUIRE(CHECK_EQ_INT(R.num_headers, 2));
	CHECK_NAME(0, "Location");
	CHECK_VALUE(0, "/x");
	CHECK_VALUE(1, "b");
}

TEST(resp_mixed_line_ends)
{
	static const char in[] = "HTTP/1.1 200 OK\nA: 1\r\nB: 2\n\r\n";
	REQUIRE(PARSE_FULL(in));
	CHECK_REASON("OK");
	REQUIRE(CHECK_EQ_INT(R.num_headers, 2));
	CHECK_VALUE(0, "1");
	CHECK_VALUE(1, "2");
}

TEST(resp_bare_lf_status_only)
{
	static const char in[] = "HTTP/1.0 204\n\n";
	REQUIRE(PARSE_FULL(in));
	CHECK_EQ_INT(R.status, 204);
	CHECK_EQ_INT(R.minor_version, 0);
	CHECK_EQ_INT(R.reason_len, 0);
}

TEST(resp_typical_upstream_head)
{
	static const char in[] =
		"HTTP/1.1 200 OK\r\n"
		"Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
		"Content-Type: text/event-stream; charset=utf-8\r\n"
		"Transfer-Encoding: chunked\r\n"
		"Connection: keep-alive\r\n"
		"Set-Cookie: a=1\r\n"
		"set-cookie: b=2\r\n"
		"\r\n";
	REQUIRE(PARSE_FULL(in));
	REQUIRE(CHECK_EQ_INT(R.num_headers, 6));
	CHECK_VALUE(0, "Mon, 01 Jan 2024 00:00:00 GMT");
	CHECK_VALUE(1, "text/event-stream; charset=utf-8");
	CHECK_NAME(2, "Transfer-Encoding");
	CHECK_VALUE(2, "chunked");
	CHECK_NAME(5, "set-cookie");
}

TEST(resp_stops_at_blank_line_before_body)
{
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n";
	static const char in[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n"
		"{\"a\":\"\r\n\r\n\"}";
	REQUIRE(PARSE_OK(in, (int)sizeof(head) - 1));
	REQUIRE(CHECK_EQ_INT(R.num_headers, 1));
	CHECK_VALUE(0, "13");
}

TEST(resp_body_that_looks_like_a_head_not_consumed)
{
	static const char head[] = "HTTP/1.1 200 OK\n\n";
	static const char in[] = "HTTP/1.1 200 OK\n\nHTTP/1.1 500 Bad\r\n\r\n";
	REQUIRE(PARSE_OK(in, (int)sizeof(head) - 1));
	CHECK_EQ_INT(R.status, 200);
	CHECK_EQ_INT(R.num_headers, 0);
}

TEST(resp_accepts_exactly_max_headers)
{
	static char in[HTTP_MAX_HEADERS * 16 + 64];
	size_t n = 0, i;

	n += (size_t)sprintf(in + n, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < HTTP_MAX_HEADERS; i++)
		n += (size_t)sprintf(in + n, "H%zu: %zu\r\n", i, i);
	n += (size_t)sprintf(in + n, "\r\n");
	REQUIRE(parse_all_ways(in, n, (int)n, &R, resp_buf));
	CHECK_EQ_INT(R.num_headers, HTTP_MAX_HEADERS);
}

TEST(resp_too_many_headers)
{
	static char in[HTTP_MAX_HEADERS * 16 + 64];
	size_t n = 0, i;

	n += (size_t)sprintf(in + n, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < HTTP_MAX_HEADERS + 1; i++)
		n += (size_t)sprintf(in + n, "H%zu: %zu\r\n", i, i);
	n += (size_t)sprintf(in + n, "\r\n");
	parse_all_ways(in, n, HTTP_TOO_MANY_HEADERS, NULL, NULL);

	/* far too many: still the same verdict */
	n = (size_t)sprintf(in, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < HTTP_MAX_HEADERS * 2 && n + 32 < sizeof(in); i++)
		n += (size_t)sprintf(in + n, "X: %zu\r\n", i);
	n += (size_t)sprintf(in + n, "\r\n");
	parse_all_ways(in, n, HTTP_TOO_MANY_HEADERS, NULL, NULL);
}

/* ======================================================================
 * Invalid heads
 * ====================================================================== */

TEST(resp_invalid_versions)
{
	PARSE_INVALID("HTTP/2 200 OK\r\n\r\n");
	PARSE_INVALID("HTTP/2.0 200 OK\r\n\r\n");
	PARSE_INVALID("HTTP/1.2 200 OK\r\n\r\n");
	PARSE_INVALID("HTTP/1.x 200 OK\r\n\r\n");
	PARSE_INVALID("HTTP/1 200 OK\r\n\r\n");
	PARSE_INVALID("HTTP/11 200 OK\r\n\r\n");
	PARSE_INVALID("http/1.1 200 OK\r\n\r\n");
	PARSE_INVALID("HTTPS/1.1 200 OK\r\n\r\n");
	PARSE_INVALID("ICY 200 OK\r\n\r\n");
	PARSE_INVALID(" HTTP/1.1 200 OK\r\n\r\n");
}

TEST(resp_invalid_status_codes)
{
	PARSE_INVALID("HTTP/1.1 20 OK\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 2000 OK\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 abc OK\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 099 X\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 000 X\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 2x0 OK\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 -20 OK\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 +20 OK\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 20\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 2\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 \r\n\r\n");
	PARSE_INVALID("HTTP/1.1\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 20\n\n");
	PARSE_INVALID("HTTP/1.1 200\tOK\r\n\r\n");
}

TEST(resp_invalid_missing_space)
{
	PARSE_INVALID("HTTP/1.1200 OK\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 200OK\r\n\r\n");
	PARSE_INVALID("HTTP/1.1  200 OK\r\n\r\n");
	PARSE_INVALID("HTTP/1.1\t200 OK\r\n\r\n");
}

TEST(resp_invalid_header_lines)
{
	PARSE_INVALID("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 200 OK\r\nName : x\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 200 OK\r\n: x\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 200 OK\r\nA: 1\r\n\tfolded\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 200 OK\r\n folded-first: x\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 200 OK\r\nA: a\x01z\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 200 OK\r\nA: a\x7fz\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 200 OK\r\nA: a\rz\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 200 OK\r\nA(b): x\r\n\r\n");
	PARSE_INVALID("HTTP/1.1 200 OK\r\nA\x80: x\r\n\r\n");
}

TEST(resp_invalid_nul_in_header)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nA: x\0y\r\n\r\n";
	parse_all_ways(in, sizeof(in) - 1, HTTP_INVALID, NULL, NULL);
}

TEST(resp_invalid_leading_blank_line)
{
	/* a response has no leftover CRLF to skip: an empty status line is
	 * either invalid or never a complete head */
	struct norm_resp n;
	static const char in[] = "\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
	parse_norm(in, sizeof(in) - 1, &n);
	if (n.rc > 0)
		CHECK_EQ_INT(n.status, 200);
	else
		CHECK(n.rc == HTTP_INVALID || n.rc == HTTP_PARTIAL);
}

/* ======================================================================
 * Partial input
 * ====================================================================== */

TEST(resp_empty_input_partial)
{
	struct norm_resp n;
	parse_norm("", 0, &n);
	CHECK_EQ_INT(n.rc, HTTP_PARTIAL);
}

TEST(resp_every_prefix_partial)
{
	/* parse_all_ways already checks every prefix of every vector; this
	 * one spells out the usual split points */
	static const char in[] = "HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
	static const size_t cuts[] = {1, 8, 9, 12, 13, 15, 16, 17, 22, 23, 24};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(cuts); i++) {
		struct norm_resp n;
		parse_norm(in, cuts[i], &n);
		if (!CHECK_EQ_INT(n.rc, HTTP_PARTIAL))
			FAILF("  cut at %zu: \"%s\"", cuts[i],
			      t_esc(in, cuts[i]));
	}
	REQUIRE(PARSE_FULL(in));
}

TEST(resp_random_heads_split_randomly)
{
	/* build random valid heads and check every way of feeding them */
	struct t_rng rng;
	static char in[4096];
	static const char *const reasons[] = {"", "OK", "Not Found",
					      "I'm a teapot", "x y z"};
	static const char *const eols[] = {"\r\n", "\n"};
	int iter;

	t_rng_seed(&rng, t_seed(0xbeef));
	for (iter = 0; iter < 40; iter++) {
		size_t n = 0, nh = t_rng_below(&rng, 8), i;
		int status = 100 + (int)t_rng_below(&rng, 500);
		const char *reason = reasons[t_rng_below(&rng, 5)];
		int minor = (int)t_rng_below(&rng, 2);
		n += (size_t)sprintf(in + n, "HTTP/1.%d %03d%s%s%s", minor,
				     status, *reason ? " " : "", reason,
				     eols[t_rng_below(&rng, 2)]);
		for (i = 0; i < nh; i++)
			n += (size_t)sprintf(in + n, "X-H%zu:%s%zu%s%s", i,
					     t_rng_below(&rng, 2) ? " " : "",
					     (size_t)t_rng_below(&rng, 100000),
					     t_rng_below(&rng, 2) ? " \t" : "",
					     eols[t_rng_below(&rng, 2)]);
		n += (size_t)sprintf(in + n, "%s", eols[t_rng_below(&rng, 2)]);
		if (!parse_all_ways(in, n, (int)n, &R, resp_buf))
			return;
		CHECK_EQ_INT(R.status, status);
		CHECK_EQ_INT(R.minor_version, minor);
		CHECK_SPAN(R.reason, R.reason_len, reason);
		CHECK_EQ_INT(R.num_headers, nh);
	}
}

/* ======================================================================
 * http_find_response_header
 * ====================================================================== */

TEST(resp_find_header_case_insensitive)
{
	static const char in[] = "HTTP/1.1 200 OK\r\n"
				 "Content-Type: a/b\r\n"
				 "Content-Length: 5\r\n"
				 "\r\n";
	const struct http_header *h;
	REQUIRE(PARSE_FULL(in));
	h = http_find_response_header(&R, "content-length", NULL);
	REQUIRE(h != NULL);
	CHECK_SPAN(h->value, h->value_len, "5");
	h = http_find_response_header(&R, "CONTENT-TYPE", NULL);
	REQUIRE(h != NULL);
	CHECK_SPAN(h->value, h->value_len, "a/b");
	CHECK(http_find_response_header(&R, "Content", NULL) == NULL);
	CHECK(http_find_response_header(&R, "Content-Lengths", NULL) == NULL);
	CHECK(http_find_response_header(&R, "", NULL) == NULL);
}

TEST(resp_find_header_walks_repeats)
{
	static const char in[] = "HTTP/1.1 200 OK\r\n"
				 "Set-Cookie: a=1\r\n"
				 "X: y\r\n"
				 "set-cookie: b=2\r\n"
				 "SET-COOKIE: c=3\r\n"
				 "\r\n";
	const struct http_header *h;
	size_t from = 0;
	REQUIRE(PARSE_FULL(in));
	h = http_find_response_header(&R, "Set-Cookie", &from);
	REQUIRE(h != NULL);
	CHECK_SPAN(h->value, h->value_len, "a=1");
	CHECK_EQ_INT(from, 1);
	h = http_find_response_header(&R, "Set-Cookie", &from);
	REQUIRE(h != NULL);
	CHECK_SPAN(h->value, h->value_len, "b=2");
	CHECK_EQ_INT(from, 3);
	h = http_find_response_header(&R, "Set-Cookie", &from);
	REQUIRE(h != NULL);
	CHECK_SPAN(h->value, h->value_len, "c=3");
	CHECK(http_find_response_header(&R, "Set-Cookie", &from) == NULL);
	/* and stays exhausted */
	CHECK(http_find_response_header(&R, "Set-Cookie", &from) == NULL);
}

TEST(resp_find_header_none)
{
	static const char in[] = "HTTP/1.1 204\r\n\r\n";
	size_t from = 0;
	REQUIRE(PARSE_FULL(in));
	CHECK(http_find_response_header(&R, "Content-Length", NULL) == NULL);
	CHECK(http_find_response_header(&R, "Content-Length", &from) == NULL);
}
