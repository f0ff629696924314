/*
 * dns.c - fuzz target: the pure parts of the stub resolver (dns.h).
 *
 * Input: option bytes, then data; [0] picks the function:
 *   0, 1  dns_parse_answer on the data as a packet, for an A (0) or AAAA
 *         (1) query.  [1] bits 0-3: addresses already in *out (0..8),
 *         bit 4: the expected id differs from the packet's.  Checks: the
 *         result is a count, DNS_NOTFOUND or DNS_FAIL; on failure *out
 *         and *ttl are untouched; on success exactly that many addresses
 *         of the asked family were added (never past DNS_MAX_ADDRS) and
 *         the TTL only went down.
 *   2     dns_build_query for the data as a name (up to a NUL), [1] the
 *         type; a built query must spell the name as labels, and the
 *         same packet turned into an answer with one A record (name as a
 *         pointer to the question) must parse to that one address.
 *   3     dns_parse_resolv_conf on the data as text: 1..3 servers,
 *         timeout and attempts within their bounds.
 *   4     dns_hosts_lookup: text up to the first NUL, the name after it.
 */
#include <arpa/inet.h>

#include "dns.h"
#include "fuzz.h"

static void answer(struct fz *f, uint16_t qtype)
{
	unsigned o = fz_byte(f);
	struct dns_addrs out, before;
	uint32_t ttl = 3600, ttl0 = ttl;
	uint16_t id;
	const uint8_t *pkt;
	int prior = (int)(o & 15) % (DNS_MAX_ADDRS + 1), i, rc;

	memset(&out, 0, sizeof(out));
	for (i = 0; i < prior; i++) {
		struct sockaddr_in *s4 = (void *)&out.a[i];
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(0x0a000001u + (uint32_t)i);
	}
	out.n = prior;
	before = out;
	id = f->n >= 2 ? (uint16_t)(f->p[0] << 8 | f->p[1]) : 0;
	if (o & 16)
		id ^= 0x5a5a;
	pkt = (const uint8_t *)fz_dup(f->p, f->n);
	rc = dns_parse_answer(pkt, f->n, id, qtype, &out, &ttl);
	if (rc < 0) {
		FZ_CHECK(rc == DNS_NOTFOUND || rc == DNS_FAIL);
		FZ_CHECK(!memcmp(&out, &before, sizeof(out)) && ttl == ttl0);
	} else {
		FZ_CHECK(out.n == prior + rc && out.n <= DNS_MAX_ADDRS);
		FZ_CHECK(!memcmp(out.a, before.a, (size_t)prior *
						  sizeof(out.a[0])));
		FZ_CHECK(ttl <= ttl0);
		for (i = prior; i < out.n; i++)
			FZ_CHECK(out.a[i].ss_family ==
				 (qtype == 1 ? AF_INET : AF_INET6));
		if (rc == 0)
			FZ_CHECK(ttl == ttl0);
	}
	free((void *)pkt);
}

static void query(struct fz *f)
{
	uint16_t qtype = fz_byte(f) & 1 ? 28 : 1;
	char *name = fz_strdup(f->p, f->n);
	uint8_t pkt[512 + 16];
	struct dns_addrs out;
	uint32_t ttl = 3600;
	size_t nl = strlen(name), o;
	int n = dns_build_query(pkt, 512, 0x1234, name, qtype);

	if (n < 0) {
		free(name);
		return;
	}
	/* labels spell the name (a final dot is optional) */
	FZ_CHECK(nl > 0 && nl <= DNS_NAME_MAX);
	FZ_CHECK((size_t)n == 12 + nl + 1 + (name[nl - 1] == '.' ? 0 : 1) + 4);
	for (o = 12; pkt[o]; o += 1 + pkt[o]) {
		FZ_CHECK(pkt[o] <= 63);
		FZ_CHECK(o + 1 + pkt[o] < (size_t)n);
	}
	/* answer it: QR, ANCOUNT 1, one record of the asked type */
	pkt[2] |= 0x80;
	pkt[7] = 1;
	o = (size_t)n;
	pkt[o++] = 0xc0;
	pkt[o++] = 12;
	pkt[o++] = 0;
	pkt[o++] = (uint8_t)qtype;
	pkt[o++] = 0;
	pkt[o++] = 1;
	memcpy(pkt + o, "\0\0\0\x3c", 4); /* TTL 60 */
	o += 4;
	pkt[o++] = 0;
	pkt[o++] = qtype == 1 ? 4 : 16;
	memset(pkt + o, 7, qtype == 1 ? 4 : 16);
	o += qtype == 1 ? 4 : 16;
	memset(&out, 0, sizeof(out));
	FZ_CHECK(dns_parse_answer(pkt, o, 0x1234, qtype, &out, &ttl) == 1);
	FZ_CHECK(out.n == 1 && ttl == 60);
	free(name);
}

static void resolv(struct fz *f)
{
	char *text = fz_strdup(f->p, f->n);
	struct dns_conf c;

	dns_parse_resolv_conf(text, &c);
	FZ_CHECK(c.nservers >= 1 && c.nservers <= DNS_MAX_SERVERS);
	FZ_CHECK(c.timeout_ms >= 1000 && c.timeout_ms <= 30000);
	FZ_CHECK(c.attempts >= 1 && c.attempts <= 5);
	free(text);
}

static void hosts(struct fz *f)
{
	char *text = fz_strdup(f->p, f->n);
	const char *name = text + strlen(text);
	struct dns_addrs out;
	int n;

	if ((size_t)(name - text) < f->n)
		name++; /* after the NUL */
	else
		name = "example.com";
	memset(&out, 0, sizeof(out));
	n = dns_hosts_lookup(text, name, &out);
	FZ_CHECK(n == out.n && n >= 0 && n <= DNS_MAX_ADDRS);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};

	switch (fz_byte(&f) % 5) {
	case 0: answer(&f, 1); break;
	case 1: answer(&f, 28); break;
	case 2: query(&f); break;
	case 3: resolv(&f); break;
	default: hosts(&f); break;
	}
	return 0;
}
