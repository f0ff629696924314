/*
 * quota_reset.c - fuzz target: the reset time of a quota answer
 * (apierr_reset_head_ms, apierr_reset_body_ms), read from an upstream's
 * 429 head and body.
 *
 * Input: the bytes of a response (head, then body).  When the head
 * parses, its headers are read for a reset and the rest is the body;
 * the whole input is also read as a body.  Checks: a reset is never
 * negative and never above a day (a bad value must not park a
 * credential for longer), and the same bytes give the same answer.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include "apierr.h"
#include "http.h"

#define DAY_MS (24LL * 3600 * 1000)

static void in_range(long long ms)
{
	FZ_CHECK(ms >= 0 && ms <= DAY_MS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_response res;
	char *buf = malloc(size ? size : 1);
	int rc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	rc = http_parse_response(buf, size, &res);
	if (rc > 0) {
		long long a = apierr_reset_head_ms(&res);
		in_range(a);
		in_range(apierr_reset_body_ms(buf + rc, size - (size_t)rc));
	}
	{
		long long b = apierr_reset_body_ms(buf, size);
		in_range(b);
		/* a body reset is read from the bytes alone (a unix time
		 * may move by the clock between two reads: not compared) */
		if (!memmem(buf, size, "resets_at", 9))
			FZ_CHECK(apierr_reset_body_ms(buf, size) == b);
	}
	free(buf);
	return 0;
}
