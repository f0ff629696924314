/*
 * http_request.c - fuzz target: http_parse_request on growing prefixes.
 *
 * Input: one option byte (seed of the prefix lengths tried when the
 * input is long), then the bytes of a request head (and maybe more).
 * Checks (http_prefix.h): prefixes answer "partial" or the whole input's
 * result, with the same spans; spans lie inside the head; the method is
 * a token, the target starts with '/', header values are trimmed and
 * free of control bytes; header lookup finds every parsed header.
 */
#include "http_prefix.h"

static int is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void parse(const char *buf, size_t n, struct fz_head *h)
{
	struct http_request req;
	size_t i, head;

	h->rc = http_parse_request(buf, n, &req);
	if (h->rc <= 0)
		return;
	head = (size_t)h->rc;
	fz_head_span(h, buf, head, req.method, req.method_len);
	fz_head_span(h, buf, head, req.target, req.target_len);
	h->ints[0] = req.minor_version;
	FZ_CHECK(req.minor_version == 0 || req.minor_version == 1);
	FZ_CHECK(req.method_len > 0 && req.target_len > 0);
	for (i = 0; i < req.method_len; i++)
		FZ_CHECK(is_tchar((unsigned char)req.method[i]));
	FZ_CHECK(req.target[0] == '/');
	FZ_CHECK(req.num_headers <= HTTP_MAX_HEADERS);
	h->ints[1] = (int)req.num_headers;
	for (i = 0; i < req.num_headers; i++) {
		const struct http_header *hd = &req.headers[i], *f;
		size_t from = 0;
		fz_head_span(h, buf, head, hd->name, hd->name_len);
		fz_head_span(h, buf, head, hd->value, hd->value_len);
		fz_head_check_header(hd);
		fz_head_check_value(hd->value, hd->value_len);
		/* the lookup walks repeats and must reach this one */
		do {
			f = http_find_header_n(&req, hd->name, hd->name_len,
					       &from);
			FZ_CHECK(f != NULL);
		} while (f != hd);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	struct fz_rng rng;

	fz_rng_seed(&rng, fz_byte(&f));
	fz_head_prefixes(parse, f.p, f.n, &rng);
	return 0;
}
