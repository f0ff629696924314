/*
 * fuzz.h - helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * Every target is one LLVMFuzzerTestOneInput().  The first bytes of the
 * input are options (which codec pair, where to split, how small a
 * buffer), taken with fz_byte(); the rest is the data under test.  A seed
 * made from a fixture is the option bytes followed by the fixture file.
 *
 * A finding is a crash: a sanitizer report, or FZ_CHECK() failing, which
 * prints what disagreed and aborts (libFuzzer then saves the input).
 * Spans under test are copied into buffers of their exact size
 * (fz_dup), so a read one byte past a prefix is an ASan report even when
 * the whole input continues there.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond)                                                       \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",        \
				__FILE__, __LINE__, #cond);                  \
			abort();                                             \
		}                                                            \
	} while (0)

/* The input, consumed from the front. */
struct fz {
	const uint8_t *p;
	size_t n;
};

/* Next option byte (0 once the input is used up). */
static inline unsigned fz_byte(struct fz *f)
{
	if (f->n == 0)
		return 0;
	f->n--;
	return *f->p++;
}

/* xorshift64 seeded from option bytes: split points and the like. */
struct fz_rng {
	uint64_t s;
};

static inline void fz_rng_seed(struct fz_rng *r, uint64_t seed)
{
	r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
	if (r->s == 0)
		r->s = 1;
}

static inline uint64_t fz_rng_next(struct fz_rng *r)
{
	uint64_t x = r->s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return r->s = x;
}

/* A piece length in [1, left], mostly small (splits inside lines and
 * UTF-8 sequences), sometimes large (several records at once). */
static inline size_t fz_piece(struct fz_rng *r, size_t left)
{
	uint64_t x = fz_rng_next(r);
	size_t k;

	if (left == 0)
		return 0;
	switch (x & 3) {
	case 0: k = 1; break;
	case 1: k = 1 + (size_t)((x >> 8) % 8); break;
	case 2: k = 1 + (size_t)((x >> 8) % 64); break;
	default: k = 1 + (size_t)((x >> 8) % left); break;
	}
	return k < left ? k : left;
}

/* Exact-size heap copy (at least one byte allocated; never NULL). */
static inline char *fz_dup(const void *p, size_t n)
{
	char *c = malloc(n ? n : 1);
	if (!c)
		abort();
	if (n)
		memcpy(c, p, n);
	else
		c[0] = '\0';
	return c;
}

/* NUL-terminated heap copy. */
static inline char *fz_strdup(const void *p, size_t n)
{
	char *c = malloc(n + 1);
	if (!c)
		abort();
	if (n)
		memcpy(c, p, n);
	c[n] = '\0';
	return c;
}

/* Is p inside [base, base + n]? (Spans may end exactly at the end.) */
static inline int fz_within(const void *base, size_t n, const void *p,
			    size_t len)
{
	uintptr_t b = (uintptr_t)base, q = (uintptr_t)p;
	return q >= b && len <= n && q - b <= n - len;
}

#endif
