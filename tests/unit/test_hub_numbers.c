/*
 * test_hub_numbers.c - one number reader for every codec (hub_tok_int):
 * integral values in any JSON spelling mean the same everywhere, and a
 * fraction or an out-of-range count is a 400 in every client format.
 */
#include "t.h"
#include "hub.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* hub_tok_int on the value text (parsed inside an array). */
static int read_int(const char *text, long min, long max, long *out)
{
	char doc[128];
	struct json j;
	int rc;
	snprintf(doc, sizeof(doc), "[%s]", text);
	if (!CHECK(json_parse(&j, doc, strlen(doc)) == 0))
		return -1;
	rc = hub_tok_int(&j, 1, min, max, out);
	json_free(&j);
	return rc;
}

TEST(tok_int_accepts_every_integral_spelling)
{
	static const struct {
		const char *in;
		long want;
	} ok[] = {
		{"1000", 1000}, {"1e3", 1000}, {"1E3", 1000}, {"1e+3", 1000},
		{"1000.0", 1000}, {"1000.000", 1000}, {"0.1e4", 1000},
		{"10E+2", 1000}, {"100000e-2", 1000}, {"0", 0}, {"-0", 0},
		{"0.0", 0}, {"0e5", 0}, {"-7", -7}, {"-7.0e0", -7},
		{"2147483647", 2147483647L}, {"1.0000000000000000000000", 1},
		{"0.00000000000000000001e20", 1}, {"null", -99},
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(ok); i++) {
		long v = -99;
		int rc = read_int(ok[i].in, LONG_MIN, LONG_MAX, &v);
		if (!CHECK_EQ_INT(rc, ok[i].want == -99 ? HUB_INT_ABSENT
							: HUB_INT_OK) ||
		    !CHECK_EQ_INT(v, ok[i].want))
			FAILF("case %s", ok[i].in);
	}
}

TEST(tok_int_refuses_fractions_ranges_and_other_types)
{
	static const char *const bad[] = {
		"1.5", "0.5", "1e-1", "10.01", "1234.56e1", "1e19",
		"99999999999999999999", "1e100000000", "-1e30", "\"5\"",
		"true", "[1]", "{}", "0.1",
	};
	size_t i;
	long v = 42;
	for (i = 0; i < T_ARRAY_LEN(bad); i++)
		if (!CHECK_EQ_INT(read_int(bad[i], LONG_MIN, LONG_MAX, &v),
				  HUB_INT_BAD))
			FAILF("case %s", bad[i]);
	CHECK_EQ_INT(v, 42); /* untouched */
	CHECK_EQ_INT(read_int("-1", 0, 10, &v), HUB_INT_BAD);
	CHECK_EQ_INT(read_int("11", 0, 10, &v), HUB_INT_BAD);
	CHECK_EQ_INT(read_int("1e1", 0, 10, &v), HUB_INT_OK);
	CHECK_EQ_INT(v, 10);
}

/* A request body of codec f asking for max tokens spelled n. */
static void body_for(enum hub_fmt f, const char *n, char *out, size_t cap)
{
	switch (f) {
	case HUB_OPENAI:
		snprintf(out, cap, "{\"model\":\"m\",\"messages\":[{\"role\":"
			 "\"user\",\"content\":\"x\"}],\"max_tokens\":%s}", n);
		break;
	case HUB_RESPONSES:
		snprintf(out, cap, "{\"model\":\"m\",\"input\":\"x\","
			 "\"max_output_tokens\":%s}", n);
		break;
	case HUB_CLAUDE:
		snprintf(out, cap, "{\"model\":\"m\",\"max_tokens\":%s,"
			 "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
			 n);
		break;
	case HUB_GEMINI:
		snprintf(out, cap, "{\"contents\":[{\"role\":\"user\",\"parts\":"
			 "[{\"text\":\"x\"}]}],\"generationConfig\":"
			 "{\"maxOutputTokens\":%s}}", n);
		break;
	default:
		snprintf(out, cap, "{\"model\":\"m\",\"prompt\":\"x\","
			 "\"max_tokens\":%s}", n);
		break;
	}
}

/* decode_request of codec f: 0 with *max set, or -1 with err. */
static int decode_max(enum hub_fmt f, const char *n, long *max, char *err,
		      size_t errlen)
{
	char body[512];
	struct json j;
	struct hub_view v;
	int rc;

	body_for(f, n, body, sizeof(body));
	if (!CHECK(json_parse(&j, body, strlen(body)) == 0))
		return -2;
	hub_view_init(&v, &j);
	err[0] = '\0';
	rc = hub_codec_for(f)->decode_request(&j, &v, err, errlen);
	*max = v.max_tokens;
	hub_view_free(&v);
	json_free(&j);
	return rc;
}

TEST(every_codec_reads_max_tokens_the_same_way)
{
	static const enum hub_fmt fmts[] = {HUB_OPENAI, HUB_RESPONSES,
					    HUB_CLAUDE, HUB_GEMINI,
					    HUB_COMPLETIONS};
	static const char *const same[] = {"1000", "1e3", "1000.0", "0.1e4"};
	static const char *const bad[] = {"1.5", "-1", "1e10", "2147483648",
					  "\"1000\""};
	size_t f, i;

	for (f = 0; f < T_ARRAY_LEN(fmts); f++) {
		char err[256];
		long max;
		for (i = 0; i < T_ARRAY_LEN(same); i++)
			if (!CHECK_EQ_INT(decode_max(fmts[f], same[i], &max, err,
						     sizeof(err)), 0) ||
			    !CHECK_EQ_INT(max, 1000))
				FAILF("format %d, max tokens %s: %s", (int)fmts[f],
				      same[i], err);
		for (i = 0; i < T_ARRAY_LEN(bad); i++)
			if (!CHECK_EQ_INT(decode_max(fmts[f], bad[i], &max, err,
						     sizeof(err)), -1) ||
			    !CHECK(strstr(err, "whole number") ||
				   strstr(err, "number")))
				FAILF("format %d, max tokens %s: err '%s'",
				      (int)fmts[f], bad[i], err);
		CHECK_EQ_INT(decode_max(fmts[f], "null", &max, err,
					sizeof(err)), 0);
		CHECK_EQ_INT(max, -1);
	}
}
