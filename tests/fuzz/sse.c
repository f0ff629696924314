/*
 * sse.c - fuzz target: the SSE parser gives the same events whatever the
 * byte boundaries, and the events a plain reading of the stream gives.
 *
 * Input: two option bytes, then an event stream:
 *   [0] event cap: 0 = 1 MiB (never reached), else 4 * value bytes
 *   [1] seed of the split points
 * The stream is pushed whole, in random pieces (each an exact-size copy)
 * and, when short, one byte at a time; sse_end closes each run.  The
 * event lists (name and data of each) must be equal.  Below the cap they
 * must also equal those of a reference reading written from the SSE
 * spelling (LF, CRLF or CR line ends; ':' comments; one space after the
 * colon dropped; data lines joined with LF; the name cut to 64 bytes; an
 * unfinished event dispatched at the end).  When a run stops at the cap
 * (sse_push returns -1), what it had delivered must be a prefix of the
 * other runs' events.
 */
#include "fuzz.h"
#include "sse.h"

#define BIG_CAP (1u << 20)

/* Events as "name\0data\0" records, each preceded by the two lengths. */
struct rec {
	char *p;
	size_t len, cap;
	int n;
	int over;
};

static void rec_put(struct rec *r, const void *p, size_t n)
{
	if (r->len + n > r->cap) {
		r->cap = (r->len + n) * 2 + 64;
		r->p = realloc(r->p, r->cap);
		FZ_CHECK(r->p != NULL);
	}
	if (n)
		memcpy(r->p + r->len, p, n);
	r->len += n;
}

static void rec_event(struct rec *r, const char *name, size_t nn,
		      const char *data, size_t dn)
{
	size_t hdr[2] = {nn, dn};
	rec_put(r, hdr, sizeof(hdr));
	rec_put(r, name, nn);
	rec_put(r, data, dn);
	r->n++;
}

static void on_event(void *user, const struct hub_sse *ev)
{
	struct rec *r = user;

	FZ_CHECK(ev->event.p != NULL || ev->event.n == 0);
	FZ_CHECK(ev->event.n <= 64);
	FZ_CHECK(!memchr(ev->data.p, '\r', ev->data.n));
	if (ev->event.n)
		FZ_CHECK(!memchr(ev->event.p, '\r', ev->event.n) &&
			 !memchr(ev->event.p, '\n', ev->event.n));
	rec_event(r, ev->event.p, ev->event.n, ev->data.p, ev->data.n);
}

/* mode 0 whole, 1 byte per push, 2 random pieces */
static void run(const uint8_t *p, size_t n, size_t cap, int mode,
		struct fz_rng *rng, struct rec *r)
{
	struct sse s;
	size_t i = 0;

	memset(r, 0, sizeof(*r));
	sse_init(&s, cap);
	while (i < n) {
		size_t k = mode == 0 ? n - i : mode == 1 ? 1
			   : fz_piece(rng, n - i);
		char *c = fz_dup(p + i, k);
		int rc = sse_push(&s, c, k, on_event, r);
		free(c);
		i += k;
		if (rc < 0) {
			r->over = 1;
			break;
		}
	}
	if (!r->over)
		sse_end(&s, on_event, r);
	sse_free(&s);
}

/* ---- the reference reading ---- */

struct ref {
	char name[64];
	size_t name_len;
	char *data;
	size_t data_len;
	int have;
};

static void ref_line(struct ref *st, const char *l, size_t n, struct rec *r)
{
	const char *colon, *v;
	size_t nl, vl;

	if (n == 0) {
		if (st->have)
			rec_event(r, st->name, st->name_len, st->data,
				  st->data_len ? st->data_len - 1 : 0);
		st->have = 0;
		st->data_len = 0;
		st->name_len = 0;
		return;
	}
	if (l[0] == ':')
		return;
	colon = memchr(l, ':', n);
	nl = colon ? (size_t)(colon - l) : n;
	v = colon ? colon + 1 : l + n;
	vl = colon ? n - nl - 1 : 0;
	if (vl && *v == ' ') {
		v++;
		vl--;
	}
	if (nl == 4 && !memcmp(l, "data", 4)) {
		memcpy(st->data + st->data_len, v, vl);
		st->data_len += vl;
		st->data[st->data_len++] = '\n';
		st->have = 1;
	} else if (nl == 5 && !memcmp(l, "event", 5)) {
		st->name_len = vl < 64 ? vl : 64;
		memcpy(st->name, v, st->name_len);
	}
}

static void reference(const uint8_t *p, size_t n, struct rec *r)
{
	const char *s = (const char *)p;
	struct ref st;
	size_t i = 0, start = 0;

	memset(r, 0, sizeof(*r));
	memset(&st, 0, sizeof(st));
	st.data = malloc(n + 1);
	FZ_CHECK(st.data != NULL);
	while (i < n) {
		if (s[i] != '\r' && s[i] != '\n') {
			i++;
			continue;
		}
		ref_line(&st, s + start, i - start, r);
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			i++;
		start = ++i;
	}
	if (start < n)
		ref_line(&st, s + start, n - start, r);
	ref_line(&st, "", 0, r);
	free(st.data);
}

/* Is a's event list a prefix of b's? */
static int is_prefix(const struct rec *a, const struct rec *b)
{
	return a->len <= b->len && (a->len == 0 || !memcmp(a->p, b->p, a->len));
}

static void same(const struct rec *a, const struct rec *b)
{
	if (!a->over && !b->over) {
		FZ_CHECK(a->n == b->n && a->len == b->len &&
			 (a->len == 0 || !memcmp(a->p, b->p, a->len)));
		return;
	}
	if (a->over && b->over) /* both stopped: one saw more before */
		FZ_CHECK(a->len <= b->len ? is_prefix(a, b) : is_prefix(b, a));
	else
		FZ_CHECK(a->over ? is_prefix(a, b) : is_prefix(b, a));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	struct fz_rng rng;
	struct rec whole, other, ref;
	size_t cap;
	int i;

	cap = fz_byte(&f) * 4;
	if (cap == 0)
		cap = BIG_CAP;
	fz_rng_seed(&rng, fz_byte(&f));
	if (f.n >= BIG_CAP / 2)
		return 0;

	run(f.p, f.n, cap, 0, &rng, &whole);
	if (cap == BIG_CAP) {
		FZ_CHECK(!whole.over);
		reference(f.p, f.n, &ref);
		same(&whole, &ref);
		free(ref.p);
	}
	for (i = 0; i < 4; i++) {
		run(f.p, f.n, cap, 2, &rng, &other);
		same(&whole, &other);
		free(other.p);
	}
	if (f.n <= 512) {
		run(f.p, f.n, cap, 1, &rng, &other);
		same(&whole, &other);
		free(other.p);
	}
	free(whole.p);
	return 0;
}
