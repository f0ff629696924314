/*
 * test_json_buf.c - the JSON reader (jsmn wrapper), the capped output
 * buffer with its sticky overflow flag, and the loop's timer heap.
 */
#include <string.h>

#include "buf.h"
#include "json.h"
#include "loop.h"
#include "t.h"

TEST(json_get_finds_top_level_keys_only)
{
	static const char js[] =
		"{\"messages\":[{\"model\":\"inner\"}],\"meta\":{\"model\":"
		"\"nested\"},\"model\":\"gpt-x\",\"n\":1}";
	struct json j;
	int i;

	REQUIRE(json_parse(&j, js, strlen(js)) == 0);
	i = json_get(&j, 0, "model");
	REQUIRE(i > 0);
	CHECK_SPAN(json_ptr(&j, i), json_len(&j, i), "gpt-x");
	CHECK(json_get(&j, 0, "absent") < 0);
	i = json_get(&j, 0, "meta");
	REQUIRE(i > 0);
	i = json_get(&j, i, "model");
	CHECK_SPAN(json_ptr(&j, i), json_len(&j, i), "nested");
	json_free(&j);
}

TEST(json_skip_passes_whole_subtrees)
{
	static const char js[] = "[{\"a\":[1,2,{\"b\":3}]},4]";
	struct json j;
	REQUIRE(json_parse(&j, js, strlen(js)) == 0);
	/* tokens: [ { "a" [ 1 2 { "b" 3 4  -> 10 tokens */
	CHECK_EQ_INT(j.ntok, 10);
	CHECK_EQ_INT(json_skip(&j, 0), 10);
	CHECK_EQ_INT(json_skip(&j, 1), 9);
	CHECK_EQ_INT(json_skip(&j, 9), 10);
	json_free(&j);
}

TEST(json_rejects_invalid_documents)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":}", "{\"a\" 1}", "[1,,2]", "{\"a\":1}}",
		"{\"a\":1} {\"b\":2}", "{\"a\":tru}", "{\"a\":\"x}", "nul",
		"{\"a\":1} x",
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(bad); i++) {
		struct json j;
		void *g = t_guarded_copy(bad[i], strlen(bad[i]));
		if (json_parse(&j, g, strlen(bad[i])) == 0) {
			FAILF("accepted %s", bad[i]);
			json_free(&j);
		}
		t_guarded_free(g);
	}
}

TEST(json_accepts_trailing_whitespace_and_escapes)
{
	static const char js[] = "{\"model\":\"a\\\"b\"}\r\n ";
	struct json j;
	int i;
	REQUIRE(json_parse(&j, js, strlen(js)) == 0);
	i = json_get(&j, 0, "model");
	CHECK_SPAN(json_ptr(&j, i), json_len(&j, i), "a\\\"b");
	json_free(&j);
}

/* json_parse takes what json_validate takes: a lone number or literal is
 * one primitive token, with or without blanks after it (jsmn's strict
 * mode alone refused "1" and took "1 "). */
TEST(json_parse_takes_a_top_level_primitive_as_validate_does)
{
	static const char *const doc[] = {
		"1", "1 ", "true", " -2.5e3 \r\n", "null", "\t0",
	};
	static const char *const tok[] = {
		"1", "1", "true", "-2.5e3", "null", "0",
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(doc); i++) {
		struct json j;
		size_t n = strlen(doc[i]);
		void *g = t_guarded_copy(doc[i], n);
		CHECK_EQ_INT(json_validate(g, n), 0);
		if (!CHECK_EQ_INT(json_parse(&j, g, n), 0)) {
			t_guarded_free(g);
			continue;
		}
		CHECK_EQ_INT(j.ntok, 1);
		CHECK_EQ_INT(j.tok[0].type, JSMN_PRIMITIVE);
		CHECK_SPAN(json_ptr(&j, 0), json_len(&j, 0), tok[i]);
		CHECK_EQ_INT(json_skip(&j, 0), 1);
		CHECK_EQ_INT(json_get(&j, 0, "a"), -1);
		json_free(&j);
		t_guarded_free(g);
	}
}

TEST(buf_json_str_escapes_controls_and_quotes)
{
	struct buf b;
	buf_init(&b, 1024);
	buf_json_str(&b, "a\"b\\c\n\x01\xc3\xa9", 9);
	CHECK_SPAN(b.p, b.len, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
	buf_free(&b);
}

TEST(buf_overflow_is_sticky_and_writes_nothing_more)
{
	struct buf b;
	char big[100];
	memset(big, 'x', sizeof(big));
	buf_init(&b, 64);
	buf_puts(&b, "hello");
	buf_put(&b, big, sizeof(big));
	CHECK(b.overflow);
	CHECK_EQ_INT(b.len, 5);
	buf_puts(&b, "!");
	CHECK_EQ_INT(b.len, 5);
	buf_reset(&b);
	CHECK(!b.overflow);
	buf_printf(&b, "%d-%s", 42, "ok");
	CHECK_SPAN(b.p, b.len, "42-ok");
	buf_free(&b);
}

/* An empty span (NULL, 0) into a buffer not allocated yet: no memcpy from
 * NULL, no NULL + 0 (clang's UBSan reports both; SSE "data" with an empty
 * value and Gemini's done event write such spans). */
TEST(buf_put_of_nothing_touches_nothing)
{
	struct buf b;
	buf_init(&b, 64);
	buf_put(&b, NULL, 0);
	CHECK(b.p == NULL);
	CHECK_EQ_INT(b.len, 0);
	CHECK(!b.overflow);
	buf_puts(&b, "");
	CHECK(b.p == NULL);
	buf_puts(&b, "ab");
	buf_put(&b, NULL, 0);
	CHECK_SPAN(b.p, b.len, "ab");
	buf_free(&b);
}

TEST(buf_consume_then_reserve_reclaims_space)
{
	struct buf b;
	buf_init(&b, 32);
	buf_puts(&b, "0123456789abcdefghijklmnopqrstu"); /* 31 bytes */
	buf_consume(&b, 30);
	CHECK_EQ_INT(buf_pending(&b), 1);
	CHECK(buf_reserve(&b, 20) >= 20); /* only possible by compaction */
	CHECK_EQ_INT(b.p[b.off], 'u');
	buf_free(&b);
}

TEST(buf_printf_grows_for_long_output)
{
	struct buf b;
	char s[600];
	memset(s, 'y', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	buf_init(&b, 4096);
	buf_printf(&b, "<%s>", s);
	CHECK(!b.overflow);
	CHECK_EQ_INT(b.len, 601);
	buf_free(&b);
}

/* Timer heap: timers fire in deadline order whatever the insert order. */
static int fired[16], nfired;
struct tt {
	struct loop_timer t;
	int id;
};
static void tick(struct loop *l, struct loop_timer *t)
{
	(void)l;
	fired[nfired++] = container_of(t, struct tt, t)->id;
}

TEST(loop_timers_fire_in_deadline_order_and_cancel_works)
{
	static const int delay[8] = {50, 10, 40, 0, 30, 20, 70, 60};
	struct loop l;
	struct tt t[8];
	int i;

	REQUIRE(loop_init(&l, 4, 8) == 0);
	nfired = 0;
	for (i = 0; i < 8; i++) {
		t[i].t.slot = -1;
		t[i].t.cb = tick;
		t[i].id = i;
		loop_timer_set(&l, &t[i].t, delay[i]);
	}
	loop_timer_cancel(&l, &t[2].t);   /* 40 ms: never fires */
	loop_timer_set(&l, &t[6].t, 5);   /* moved earlier */
	while (l.nheap > 0)
		loop_run_once(&l, 100);
	CHECK_EQ_INT(nfired, 7);
	{
		static const int want[7] = {3, 6, 1, 5, 4, 0, 7};
		for (i = 0; i < 7; i++)
			CHECK_EQ_INT(fired[i], want[i]);
	}
	loop_free(&l);
}

TEST(json_validate_follows_rfc8259)
{
	static const char *const good[] = {
		"0", "-0.5e+3", "1E9", "\"\\u00e9\\n\"", "[]", "{}", "true",
		" [ null , false , {\"a\" : [ 1 ] } ] ", "\"\xc3\xa9\"",
	};
	static const char *const bad[] = {
		"01", "1.", ".5", "-", "1e", "+1", "\"\\x\"", "\"\\u12\"",
		"\"a\nb\"", "[1,]", "{\"a\":1,}", "{a:1}", "'a'", "[", "]",
		"truex", "nulll", "{\"a\"}", "\"open",
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(good); i++)
		if (json_validate(good[i], strlen(good[i])) != 0)
			FAILF("rejected valid %s", good[i]);
	for (i = 0; i < T_ARRAY_LEN(bad); i++) {
		void *g = t_guarded_copy(bad[i], strlen(bad[i]));
		if (json_validate(g, strlen(bad[i])) == 0)
			FAILF("accepted invalid %s", bad[i]);
		t_guarded_free(g);
	}
}

TEST(json_validate_bounds_nesting_depth)
{
	char deep[2 * (JSON_MAX_DEPTH + 10)];
	size_t n = JSON_MAX_DEPTH + 10, i;
	for (i = 0; i < n; i++) {
		deep[i] = '[';
		deep[2 * n - 1 - i] = ']';
	}
	CHECK(json_validate(deep, 2 * n) < 0);
	CHECK(json_validate(deep + 20, 2 * n - 40) == 0);
}

TEST(json_scan_top_validates_and_locates_top_level_keys_only)
{
	static const char *const keys[] = {"model", "stream", NULL};
	static const char js[] =
		" {\"messages\":[{\"model\":\"inner\"}],\"model\":\"a\\\"b\","
		"\"meta\":{\"stream\":false},\"stream\":true} ";
	size_t off[2], len[2];

	REQUIRE(json_scan_top(js, strlen(js), keys, off, len) == 0);
	CHECK_SPAN(js + off[0], len[0], "\"a\\\"b\"");
	CHECK_SPAN(js + off[1], len[1], "true");
	CHECK(json_scan_top("{\"x\":1}", 7, keys, off, len) == 0);
	CHECK_EQ_INT(len[0], 0);
	CHECK_EQ_INT(len[1], 0);
	CHECK(json_scan_top("[1]", 3, keys, off, len) < 0);     /* not an object */
	CHECK(json_scan_top("{\"model\":}", 10, keys, off, len) < 0);
	CHECK(json_scan_top("{\"model\":\"a\"", 12, keys, off, len) < 0);
}
