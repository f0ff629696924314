/*
 * http_chunked.c - fuzz target: the chunked decoder gives the same bytes
 * whatever the input boundaries and output room.
 *
 * Input: three option bytes, then a chunked body (and maybe more):
 *   [0] output room per call: 0 = as large as the input, else 1..255
 *   [1] seed of the input split points
 *   [2] bit 0: decode in place (output over the input, as conn.c may)
 * The reference is one call on the whole input with room for all of it.
 * A second decoder gets the input in random pieces (each an exact-size
 * copy, so reading past a piece is an ASan report) with the chosen room,
 * calling again whenever it stops; it must end with the same result, the
 * same payload and, when complete, the same number of bytes consumed
 * (what follows the body is the next request, never eaten).
 */
#include "fuzz.h"
#include "http.h"

struct res {
	int rc;
	size_t consumed;
	char *out;
	size_t len;
};

static void whole(const uint8_t *p, size_t n, struct res *r)
{
	struct http_chunked d;
	char *in = fz_dup(p, n);
	size_t used = (size_t)-1, got = (size_t)-1;

	r->out = malloc(n ? n : 1);
	FZ_CHECK(r->out != NULL);
	http_chunked_init(&d);
	r->rc = http_chunked_decode(&d, in, n, &used, r->out, n, &got);
	r->consumed = r->len = 0;
	if (r->rc >= 0) {
		FZ_CHECK(used <= n && got <= used);
		/* room for all: it stops early only at the end of the body */
		FZ_CHECK(r->rc == 1 || used == n);
		r->consumed = used;
		r->len = got;
	} else {
		FZ_CHECK(r->rc == HTTP_INVALID);
	}
	free(in);
}

static void pieces(const uint8_t *p, size_t n, size_t room, int in_place,
		   struct fz_rng *rng, struct res *r)
{
	struct http_chunked d;
	char *buf = in_place ? fz_dup(p, n) : NULL;
	size_t pos = 0, end = fz_piece(rng, n), w = 0;

	r->out = malloc(n ? n : 1);
	FZ_CHECK(r->out != NULL);
	r->rc = 0;
	http_chunked_init(&d);
	while (pos < n || end < n) {
		size_t used = (size_t)-1, got = (size_t)-1, cap;
		char *out, *in;

		if (pos == end)
			end += fz_piece(rng, n - end);
		if (in_place) {
			in = buf + pos;
			out = buf + w;
			cap = n - w < room ? n - w : room;
		} else {
			in = fz_dup(p + pos, end - pos);
			out = malloc(room);
			FZ_CHECK(out != NULL);
			cap = room;
		}
		r->rc = http_chunked_decode(&d, in, end - pos, &used, out, cap,
					    &got);
		if (r->rc >= 0) {
			FZ_CHECK(used <= end - pos && got <= cap);
			FZ_CHECK(got <= used); /* never ahead of input */
			if (!in_place)
				memcpy(r->out + w, out, got);
			w += got;
			pos += used;
			/* it stops short of its input only when the output
			 * is full or the body is complete */
			FZ_CHECK(r->rc == 1 || pos == end || got == cap);
		}
		if (!in_place) {
			free(in);
			free(out);
		}
		if (r->rc != 0)
			break;
	}
	if (in_place)
		memcpy(r->out, buf, w);
	free(buf);
	r->consumed = pos;
	r->len = w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	struct fz_rng rng;
	struct res a, b;
	size_t room;
	int in_place;

	room = fz_byte(&f);
	fz_rng_seed(&rng, fz_byte(&f));
	in_place = fz_byte(&f) & 1;
	if (room == 0)
		room = f.n ? f.n : 1;
	whole(f.p, f.n, &a);
	pieces(f.p, f.n, room, in_place, &rng, &b);
	FZ_CHECK(a.rc == b.rc);
	if (a.rc >= 0) {
		FZ_CHECK(a.len == b.len && !memcmp(a.out, b.out, a.len));
		FZ_CHECK(a.consumed == b.consumed);
	}
	free(a.out);
	free(b.out);
	return 0;
}
