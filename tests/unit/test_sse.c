/*
 * test_sse.c - the SSE parser gives the same events whatever the byte
 * boundaries: every input fed whole, one byte at a time and in random
 * splits.
 */
#include <stdio.h>
#include <string.h>

#include "sse.h"
#include "t.h"

struct rec {
	char out[40000];
	size_t len;
	int n;
};

static void on_ev(void *u, const struct hub_sse *ev)
{
	struct rec *r = u;
	int k = snprintf(r->out + r->len, sizeof(r->out) - r->len, "[%.*s|%.*s]",
			 (int)ev->event.n, ev->event.p ? ev->event.p : "",
			 (int)ev->data.n, ev->data.p);
	if (k > 0)
		r->len += (size_t)k;
	r->n++;
}

/* Parse input with the given split plan: 0 whole, 1 bytewise, else seed */
static void run(const char *in, size_t n, int mode, struct rec *r,
		size_t max)
{
	struct sse s;
	struct t_rng rng;
	size_t i = 0;

	memset(r, 0, sizeof(*r));
	sse_init(&s, max);
	t_rng_seed(&rng, (uint64_t)mode);
	while (i < n) {
		size_t k = mode == 0 ? n - i : mode == 1 ? 1
			   : t_rng_piece(&rng, n - i);
		void *g = t_guarded_copy(in + i, k);
		sse_push(&s, g, k, on_ev, r);
		t_guarded_free(g);
		i += k;
	}
	sse_end(&s, on_ev, r);
	sse_free(&s);
}

static void expect(const char *in, const char *want)
{
	struct rec whole, other;
	int mode;
	run(in, strlen(in), 0, &whole, 1 << 20);
	CHECK_EQ_STR(whole.out, want);
	for (mode = 1; mode < 40; mode++) {
		run(in, strlen(in), mode, &other, 1 << 20);
		if (strcmp(other.out, whole.out) != 0) {
			FAILF("split mode %d gave %s", mode, other.out);
			return;
		}
	}
}

TEST(sse_basic_events_and_names)
{
	expect("event: a\ndata: 1\n\ndata: 2\n\n", "[a|1][|2]");
}

TEST(sse_crlf_and_cr_line_ends)
{
	expect("event: x\r\ndata: {\"a\":1}\r\n\r\ndata: y\r\rdata: z\n\n",
	       "[x|{\"a\":1}][|y][|z]");
}

TEST(sse_comments_and_keepalives_are_skipped)
{
	expect(": keep-alive\n\n:ping\ndata: a\n\n: x\n\n", "[|a]");
}

TEST(sse_multiline_data_joined_with_lf)
{
	expect("data: a\ndata:b\ndata\n\n", "[|a\nb\n]");
}

/* An empty first data value appends nothing to a data buffer not yet
 * allocated (it was memcpy from NULL + 0 under clang's UBSan). */
TEST(sse_empty_data_value_is_an_empty_event)
{
	expect("data:\n\n", "[|]");
	expect("data\n\ndata: \n\n", "[|][|]");
	expect("event: e\ndata:", "[e|]");
}

TEST(sse_utf8_passes_through_any_split)
{
	expect("data: \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80\n\n",
	       "[|\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80]");
}

TEST(sse_event_without_final_blank_line_is_dispatched_at_end)
{
	expect("data: a\n\ndata: tail", "[|a][|tail]");
}

TEST(sse_unknown_fields_ignored_and_space_kept_beyond_one)
{
	expect("id: 7\nretry: 10\ndata:  two\n\n", "[| two]");
}

TEST(sse_event_larger_than_a_read_is_whole)
{
	char big[20000];
	char want[20010];
	size_t i;
	memcpy(big, "data: ", 6);
	for (i = 6; i < 6 + 15000; i++)
		big[i] = (char)('a' + i % 26);
	memcpy(big + i, "\n\n", 3);
	snprintf(want, sizeof(want), "[|%.*s]", 15000, big + 6);
	expect(big, want);
}

TEST(sse_over_cap_is_an_error)
{
	struct sse s;
	struct rec r;
	char line[300];
	memset(&r, 0, sizeof(r));
	memset(line, 'x', sizeof(line));
	sse_init(&s, 128);
	CHECK(sse_push(&s, "data: ", 6, on_ev, &r) == 0);
	CHECK(sse_push(&s, line, sizeof(line), on_ev, &r) < 0);
	CHECK(sse_push(&s, "\n\n", 2, on_ev, &r) < 0); /* sticky */
	CHECK_EQ_INT(r.n, 0);
	sse_free(&s);
}
