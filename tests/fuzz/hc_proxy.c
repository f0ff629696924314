/*
 * hc_proxy.c - fuzz target: the proxy handshake engines (hc_proxy.h).
 *
 * Input: two option bytes, then what the proxy sends (its replies and
 * whatever follows them).
 *   [0] bit 0: SOCKS5 (else HTTP CONNECT); bits 1-2: the SOCKS5 address
 *       sent (0 IPv4, 1 IPv6, 2 and 3 the name); bit 3: credentials.
 *   [1] seed of the random splits (the proxy's bytes arriving in pieces,
 *       our messages going out in pieces).
 * The proxy's bytes are played to the engine twice: whole, and in random
 * pieces.  Each time the engine's output is all taken before the replies
 * are presented, from exact-size copies (a read past what was presented
 * is an ASan report; so is one past the engine's output buffer, which
 * ends the heap block).  Checks: hc_proxy_recv takes a whole message or
 * nothing (never more than presented); both runs end alike (open,
 * failed with the same error and detail, or waiting) having taken the
 * same bytes; a run that waits holds fewer bytes than the longest
 * message it could be waiting for, so more input always ends it, open or
 * failed; a failure is sticky; what we send starts as the protocol says.
 */
#include <netinet/in.h>

#include "fuzz.h"
#include "hc_proxy.h"

struct outcome {
	int rc;          /* 1 open, HC_PROXY_FAILED, HC_PROXY_PARTIAL */
	int err, detail;
	size_t consumed, sent;
	unsigned char first[8]; /* the first bytes we sent */
};

static struct hc_proxy *make(unsigned opt)
{
	struct hc_proxy *p = malloc(sizeof(*p));
	const char *user = opt & 8 ? "user" : "";
	struct sockaddr_storage ss;
	int rc;

	FZ_CHECK(p != NULL);
	memset(&ss, 0, sizeof(ss));
	if (!(opt & 1)) {
		rc = hc_proxy_http_init(p, "api.example", 443, user, "pass");
	} else if (((opt >> 1) & 3) == 0) {
		struct sockaddr_in *s4 = (void *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(0xc0000207u);
		rc = hc_proxy_socks5_init(p, "api.example", 443, &ss, user,
					  "pass");
	} else if (((opt >> 1) & 3) == 1) {
		struct sockaddr_in6 *s6 = (void *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr.s6_addr[0] = 0x20;
		s6->sin6_addr.s6_addr[15] = 9;
		rc = hc_proxy_socks5_init(p, "api.example", 443, &ss, user,
					  "pass");
	} else {
		rc = hc_proxy_socks5_init(p, "api.example", 443, NULL, user,
					  "pass");
	}
	FZ_CHECK(rc == 0);
	return p;
}

/* Take the engine's output, in pieces when rng is given. */
static void drain(struct hc_proxy *p, struct fz_rng *rng, struct outcome *o)
{
	const unsigned char *b;
	size_t len;

	while ((b = hc_proxy_sendbuf(p, &len)) != NULL) {
		size_t k = rng ? fz_piece(rng, len) : len;
		char *copy;
		FZ_CHECK(len > 0 && len <= HC_PROXY_OUT_MAX);
		copy = fz_dup(b, len); /* reads all of it: in bounds? */
		if (o->sent < sizeof(o->first))
			memcpy(o->first + o->sent, copy,
			       k < sizeof(o->first) - o->sent
				       ? k : sizeof(o->first) - o->sent);
		free(copy);
		o->sent += k;
		hc_proxy_sendack(p, k);
	}
	FZ_CHECK(len == 0);
}

static void play(unsigned opt, const uint8_t *in, size_t n,
		 struct fz_rng *rng, struct outcome *o)
{
	struct hc_proxy *p = make(opt);
	size_t arrived = rng ? 0 : n;

	memset(o, 0, sizeof(*o));
	for (;;) {
		size_t have;
		char *g;
		int rc;

		drain(p, rng, o);
		if (hc_proxy_done(p)) {
			o->rc = 1;
			break;
		}
		have = arrived - o->consumed;
		g = fz_dup(in + o->consumed, have);
		rc = hc_proxy_recv(p, g, have);
		free(g);
		if (rc > 0) {
			FZ_CHECK((size_t)rc <= have);
			o->consumed += (size_t)rc;
			continue;
		}
		if (rc == HC_PROXY_FAILED) {
			FZ_CHECK(hc_proxy_last_error(p) != HC_PROXY_OK);
			o->rc = rc;
			break;
		}
		FZ_CHECK(rc == HC_PROXY_PARTIAL);
		if (arrived == n) {
			/* waiting: for fewer bytes than a whole message */
			FZ_CHECK(have < ((opt & 1) ? 4 + 1 + 255 + 2
						   : HC_PROXY_HEAD_MAX));
			o->rc = rc;
			break;
		}
		arrived += fz_piece(rng, n - arrived);
	}
	o->err = hc_proxy_last_error(p);
	o->detail = hc_proxy_detail(p);
	FZ_CHECK(hc_proxy_done(p) == (o->rc == 1));
	if (o->rc == HC_PROXY_FAILED) { /* sticky */
		size_t len;
		FZ_CHECK(hc_proxy_sendbuf(p, &len) == NULL && len == 0);
		FZ_CHECK(hc_proxy_recv(p, "\x05\x00", 2) == HC_PROXY_FAILED);
		FZ_CHECK(hc_proxy_last_error(p) == o->err);
	}
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	unsigned opt = fz_byte(&f), seed = fz_byte(&f);
	struct outcome whole, split;
	struct fz_rng rng;

	play(opt, f.p, f.n, NULL, &whole);
	fz_rng_seed(&rng, seed);
	play(opt, f.p, f.n, &rng, &split);
	if (whole.rc != split.rc || whole.err != split.err ||
	    whole.detail != split.detail || whole.consumed != split.consumed ||
	    whole.sent != split.sent) {
		fprintf(stderr, "whole: rc %d err %d detail %d consumed %zu; "
			"split: rc %d err %d detail %d consumed %zu\n",
			whole.rc, whole.err, whole.detail, whole.consumed,
			split.rc, split.err, split.detail, split.consumed);
		abort();
	}
	FZ_CHECK(whole.consumed <= f.n);
	FZ_CHECK(whole.sent >= 3);
	if (opt & 1)
		FZ_CHECK(!memcmp(whole.first, opt & 8 ? "\x05\x01\x02"
						      : "\x05\x01\x00", 3));
	else
		FZ_CHECK(whole.sent >= 8 && !memcmp(whole.first, "CONNECT ", 8));
	return 0;
}
