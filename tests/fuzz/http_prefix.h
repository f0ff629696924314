/*
 * http_prefix.h - the growing-prefix check shared by the request and
 * response head targets.
 *
 * The head parsers keep no state: a caller with a partial head calls
 * again with the longer buffer.  So for an input whose whole-buffer
 * result is R, every prefix must answer HTTP_PARTIAL until the bytes that
 * decide R have arrived, then R itself, with the same spans (as offsets),
 * never something else: a prefix may not be refused when the whole is
 * accepted, nor accepted with other fields.
 */
#ifndef HTTP_PREFIX_H
#define HTTP_PREFIX_H

#include "fuzz.h"
#include "http.h"

/* A parse result as offsets into the buffer, comparable across copies. */
struct fz_head {
	int rc;
	size_t nspans;
	size_t span[2 * (4 + 2 * HTTP_MAX_HEADERS)];
	int ints[2];
};

/* Parse buf[0..n) (an exact-size copy) into *h. */
typedef void (*fz_head_fn)(const char *buf, size_t n, struct fz_head *h);

static inline void fz_head_span(struct fz_head *h, const char *base,
				size_t n, const char *p, size_t len)
{
	FZ_CHECK(fz_within(base, n, p, len));
	h->span[h->nspans++] = (size_t)(p - base);
	h->span[h->nspans++] = len;
}

static inline int fz_head_eq(const struct fz_head *a, const struct fz_head *b)
{
	return a->rc == b->rc && a->nspans == b->nspans &&
	       !memcmp(a->span, b->span, a->nspans * sizeof(a->span[0])) &&
	       a->ints[0] == b->ints[0] && a->ints[1] == b->ints[1];
}

static inline void fz_head_at(fz_head_fn parse, const uint8_t *p, size_t k,
			      struct fz_head *h)
{
	char *c = fz_dup(p, k);
	memset(h, 0, sizeof(*h));
	parse(c, k, h);
	free(c);
}

/* Whole input vs its prefixes; which prefixes is chosen by rng. */
static inline void fz_head_prefixes(fz_head_fn parse, const uint8_t *p,
				    size_t n, struct fz_rng *rng)
{
	struct fz_head whole, part;
	size_t k, tries;
	int seen_final = 0;

	fz_head_at(parse, p, n, &whole);
	if (whole.rc > 0)
		FZ_CHECK((size_t)whole.rc <= n);
	if (n <= 300) {
		/* every prefix, in order: once final, always the same */
		for (k = 0; k <= n; k++) {
			fz_head_at(parse, p, k, &part);
			if (part.rc == HTTP_PARTIAL) {
				FZ_CHECK(!seen_final);
				FZ_CHECK(whole.rc <= 0 || k < (size_t)whole.rc);
				continue;
			}
			seen_final = 1;
			FZ_CHECK(fz_head_eq(&part, &whole));
		}
		return;
	}
	for (tries = 0; tries < 40; tries++) {
		k = tries == 0 && whole.rc > 0 ? (size_t)whole.rc - 1
		    : tries == 1 && whole.rc > 0 ? (size_t)whole.rc
		    : (size_t)(fz_rng_next(rng) % (n + 1));
		fz_head_at(parse, p, k, &part);
		if (part.rc == HTTP_PARTIAL)
			FZ_CHECK(whole.rc <= 0 || k < (size_t)whole.rc);
		else
			FZ_CHECK(fz_head_eq(&part, &whole));
	}
}

/* Checks every parsed header line must pass. */
static inline void fz_head_check_header(const struct http_header *h)
{
	size_t i;

	FZ_CHECK(h->name_len > 0);
	for (i = 0; i < h->value_len; i++) {
		unsigned char c = (unsigned char)h->value[i];
		FZ_CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
	}
	if (h->value_len > 0) {
		FZ_CHECK(h->value[0] != ' ' && h->value[0] != '\t');
		FZ_CHECK(h->value[h->value_len - 1] != ' ' &&
			 h->value[h->value_len - 1] != '\t');
	}
}

/* The value helpers on a parsed value: they must stay in bounds and
 * agree with a plain reading of the bytes. */
static inline void fz_head_check_value(const char *v, size_t n)
{
	int64_t len = http_parse_length(v, n);
	size_t i;

	if (len >= 0) {
		int64_t x = 0;
		FZ_CHECK(n > 0);
		for (i = 0; i < n; i++) {
			FZ_CHECK(v[i] >= '0' && v[i] <= '9');
			x = x * 10 + (v[i] - '0');
		}
		FZ_CHECK(x == len);
	}
	(void)http_value_has_token(v, n, "chunked");
	(void)http_value_has_token(v, n, "close");
}

#endif
