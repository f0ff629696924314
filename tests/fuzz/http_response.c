/*
 * http_response.c - fuzz target: http_parse_response on growing
 * prefixes.
 *
 * Input: one option byte (seed of the prefix lengths tried when the
 * input is long), then the bytes of a response head.  Checks as for
 * requests (http_prefix.h), and: the status is three digits >= 100, the
 * reason lies on the status line.
 */
#include "http_prefix.h"

static void parse(const char *buf, size_t n, struct fz_head *h)
{
	struct http_response res;
	size_t i, head;

	h->rc = http_parse_response(buf, n, &res);
	if (h->rc <= 0)
		return;
	head = (size_t)h->rc;
	FZ_CHECK(res.status >= 100 && res.status <= 999);
	FZ_CHECK(res.minor_version == 0 || res.minor_version == 1);
	h->ints[0] = res.status * 2 + res.minor_version;
	fz_head_span(h, buf, head, res.reason, res.reason_len);
	FZ_CHECK(!memchr(res.reason, '\n', res.reason_len));
	FZ_CHECK(res.num_headers <= HTTP_MAX_HEADERS);
	h->ints[1] = (int)res.num_headers;
	for (i = 0; i < res.num_headers; i++) {
		const struct http_header *hd = &res.headers[i], *f;
		size_t from = 0;
		fz_head_span(h, buf, head, hd->name, hd->name_len);
		fz_head_span(h, buf, head, hd->value, hd->value_len);
		fz_head_check_header(hd);
		fz_head_check_value(hd->value, hd->value_len);
		do {
			f = http_find_response_header_n(&res, hd->name,
							hd->name_len, &from);
			FZ_CHECK(f != NULL);
		} while (f != hd);
	}
	(void)http_reason(res.status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	struct fz_rng rng;

	fz_rng_seed(&rng, fz_byte(&f));
	fz_head_prefixes(parse, f.p, f.n, &rng);
	return 0;
}
