/*
 * test_dns.c - unit tests of the pure parts of src/dns.c (query building,
 * answer parsing, resolv.conf and hosts parsing), of the synchronous
 * paths of dns_lookup (literals, *.invalid, localhost, hosts file), and of
 * lookups that go to a nameserver this file plays on 127.0.0.1: the
 * answer, the cache, cancelling, DNS_BUSY, and the memory an idle
 * resolver does not hold.
 *
 * Answer packets are built by hand below.  Every packet handed to
 * dns_parse_answer sits in a guarded buffer (it ends at a PROT_NONE page),
 * so reading past the given length crashes the test.  No query leaves the
 * machine: the environment points dns_reload() at temporary files whose
 * only nameserver is 127.0.0.1, on a port of a socket the test holds.
 */
#define _DEFAULT_SOURCE
#include "t.h"
#include "dns.h"
#include "loop.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T_A 1
#define T_CNAME 5
#define T_AAAA 28

/* ======================================================================
 * Packet builder
 * ====================================================================== */

struct pkt {
	uint8_t b[2048];
	size_t n;
};

static void put8(struct pkt *p, unsigned v)
{
	if (p->n < sizeof(p->b))
		p->b[p->n++] = (uint8_t)v;
}

static void put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v & 0xff);
}

static void put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static void put_bytes(struct pkt *p, const void *d, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		put8(p, ((const uint8_t *)d)[i]);
}

/* Uncompressed labels of a dotted name, then the root label when
 * terminate is set (else the caller appends a pointer). */
static void put_labels(struct pkt *p, const char *name, int terminate)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		put8(p, (unsigned)l);
		put_bytes(p, name, l);
		name += l;
		if (*name == '.')
			name++;
	}
	if (terminate)
		put8(p, 0);
}

static void put_ptr(struct pkt *p, size_t off)
{
	put16(p, 0xc000 | (unsigned)off);
}

/* Header: flags 0x8180 = response, RD, RA, rcode 0. */
static void put_header(struct pkt *p, uint16_t id, unsigned flags,
		       unsigned qd, unsigned an)
{
	p->n = 0;
	put16(p, id);
	put16(p, flags);
	put16(p, qd);
	put16(p, an);
	put16(p, 0);
	put16(p, 0);
}

/* Header plus one question (the name sits at offset 12). */
static void put_question(struct pkt *p, uint16_t id, unsigned flags,
			 unsigned an, const char *name, unsigned qtype)
{
	put_header(p, id, flags, 1, an);
	put_labels(p, name, 1);
	put16(p, qtype);
	put16(p, 1);
}

/* Fixed part of a resource record after its owner name. */
static void put_rr_fixed(struct pkt *p, unsigned type, uint32_t ttl,
			 unsigned rdlen)
{
	put16(p, type);
	put16(p, 1);
	put32(p, ttl);
	put16(p, rdlen);
}

/* An A record owned by a pointer to `owner`. */
static void put_a(struct pkt *p, size_t owner, uint32_t ttl, uint8_t a0,
		  uint8_t a1, uint8_t a2, uint8_t a3)
{
	put_ptr(p, owner);
	put_rr_fixed(p, T_A, ttl, 4);
	put8(p, a0);
	put8(p, a1);
	put8(p, a2);
	put8(p, a3);
}

static void put_aaaa(struct pkt *p, size_t owner, uint32_t ttl,
		     const char *addr6)
{
	uint8_t a[16];
	if (inet_pton(AF_INET6, addr6, a) != 1)
		memset(a, 0xee, sizeof(a));
	put_ptr(p, owner);
	put_rr_fixed(p, T_AAAA, ttl, 16);
	put_bytes(p, a, 16);
}

/* Parse a packet from a guarded copy into *out (which the caller set). */
static int parse_g(const struct pkt *p, size_t len, uint16_t id,
		   uint16_t qtype, struct dns_addrs *out, uint32_t *ttl)
{
	void *g = t_guarded_copy(p->b, len);
	int rc = dns_parse_answer(g, len, id, qtype, out, ttl);
	t_guarded_free(g);
	return rc;
}

static void addrs_init(struct dns_addrs *a)
{
	memset(a, 0x5a, sizeof(*a));
	a->n = 0;
}

/* Is a->a[i] the IPv4 address s? */
static int is_v4(const struct dns_addrs *a, int i, const char *s)
{
	const struct sockaddr_in *s4 = (const void *)&a->a[i];
	struct in_addr want;
	if (i >= a->n || inet_pton(AF_INET, s, &want) != 1)
		return 0;
	return s4->sin_family == AF_INET &&
	       memcmp(&s4->sin_addr, &want, sizeof(want)) == 0;
}

static int is_v6(const struct dns_addrs *a, int i, const char *s)
{
	const struct sockaddr_in6 *s6 = (const void *)&a->a[i];
	struct in6_addr want;
	if (i >= a->n || inet_pton(AF_INET6, s, &want) != 1)
		return 0;
	return s6->sin6_family == AF_INET6 &&
	       memcmp(&s6->sin6_addr, &want, sizeof(want)) == 0;
}

static const char *addr_str(const struct sockaddr_storage *ss)
{
	static char buf[4][INET6_ADDRSTRLEN + 16];
	static int k;
	char *b = buf[k++ & 3];
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
			  b, INET6_ADDRSTRLEN);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)ss)->sin6_addr, b,
			  INET6_ADDRSTRLEN);
	else
		snprintf(b, sizeof(buf[0]), "<family %d>", ss->ss_family);
	return b;
}

#define CHECK_ADDR(is_fn, A_, I_, S_)                                        \
	do {                                                                 \
		if (!CHECK(is_fn((A_), (I_), (S_))))                         \
			FAILF("  entry %d: have %s (n=%d), want %s", (I_),   \
			      (I_) < (A_)->n ? addr_str(&(A_)->a[(I_)])      \
					     : "none",                       \
			      (A_)->n, (S_));                                \
	} while (0)
#define CHECK_V4(A_, I_, S_) CHECK_ADDR(is_v4, A_, I_, S_)
#define CHECK_V6(A_, I_, S_) CHECK_ADDR(is_v6, A_, I_, S_)

/* ======================================================================
 * dns_build_query
 * ====================================================================== */

static const uint8_t q_example_a[] = {
	0x12, 0x34,             /* id */
	0x01, 0x00,             /* RD */
	0x00, 0x01,             /* QDCOUNT */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	0x00, 0x01,             /* A */
	0x00, 0x01,             /* IN */
};

static int build_g(size_t cap, uint16_t id, const char *name, uint16_t qtype,
		   uint8_t *copy_out)
{
	uint8_t *g = t_guarded_alloc(cap);
	int rc = dns_build_query(g, cap, id, name, qtype);
	if (rc > 0 && copy_out)
		memcpy(copy_out, g, (size_t)rc);
	t_guarded_free(g);
	return rc;
}

TEST(dns_build_query_example_a_exact_bytes)
{
	uint8_t out[512];
	int rc = build_g(sizeof(out), 0x1234, "example.com", T_A, out);
	REQUIRE(CHECK_EQ_INT(rc, sizeof(q_example_a)));
	CHECK_EQ_MEM(out, (size_t)rc, q_example_a, sizeof(q_example_a));
}

TEST(dns_build_query_example_aaaa_exact_bytes)
{
	uint8_t want[sizeof(q_example_a)], out[512];
	int rc;
	memcpy(want, q_example_a, sizeof(want));
	want[0] = 0xab;
	want[1] = 0xcd;
	want[sizeof(want) - 3] = 28; /* qtype low byte */
	rc = build_g(sizeof(out), 0xabcd, "example.com", T_AAAA, out);
	REQUIRE(CHECK_EQ_INT(rc, sizeof(want)));
	CHECK_EQ_MEM(out, (size_t)rc, want, sizeof(want));
}

TEST(dns_build_query_header_fields)
{
	uint8_t out[512];
	static const uint16_t ids[] = {0, 1, 0x00ff, 0xff00, 0xffff};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(ids); i++) {
		int rc = build_g(sizeof(out), ids[i], "a.b", T_A, out);
		REQUIRE(CHECK_EQ_INT(rc, 12 + 5 + 4));
		CHECK_EQ_INT(out[0] << 8 | out[1], ids[i]);
		CHECK_EQ_INT(out[2], 0x01); /* only RD; QR=0, opcode 0 */
		CHECK_EQ_INT(out[3], 0x00);
		CHECK_EQ_INT(out[4] << 8 | out[5], 1);
		CHECK_EQ_INT(out[6] | out[7] | out[8] | out[9] | out[10] |
				     out[11],
			     0);
	}
}

TEST(dns_build_query_single_label_and_trailing_dot)
{
	static const uint8_t want[] = {1, 'x', 0, 0, 1, 0, 1};
	uint8_t out[512];
	int rc = build_g(sizeof(out), 7, "x", T_A, out);
	REQUIRE(CHECK_EQ_INT(rc, 12 + (int)sizeof(want)));
	CHECK_EQ_MEM(out + 12, sizeof(want), want, sizeof(want));

	/* a fully-qualified name with its trailing dot: the same question
	 * (or a refusal; never an empty label on the wire) */
	rc = build_g(sizeof(out), 0x1234, "example.com.", T_A, out);
	if (rc >= 0) {
		CHECK_EQ_INT(rc, sizeof(q_example_a));
		CHECK_EQ_MEM(out, (size_t)rc, q_example_a,
			     sizeof(q_example_a));
	}
}

TEST(dns_build_query_rejects_bad_names)
{
	static const char *const bad[] = {
		"", ".", "..", "a..b", ".a", "..a", "a..", "example..com",
	};
	uint8_t out[512];
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(bad); i++) {
		int rc = build_g(sizeof(out), 1, bad[i], T_A, out);
		if (!CHECK_EQ_INT(rc, -1))
			FAILF("  name \"%s\" accepted", bad[i]);
	}
}

TEST(dns_build_query_label_length_limit)
{
	char name[300];
	uint8_t out[512];
	int rc;

	/* 63-byte label: fine */
	memset(name, 'a', 63);
	strcpy(name + 63, ".com");
	rc = build_g(sizeof(out), 1, name, T_A, out);
	REQUIRE(CHECK_EQ_INT(rc, 12 + 1 + 63 + 1 + 3 + 1 + 4));
	CHECK_EQ_INT(out[12], 63);
	CHECK_EQ_INT(out[12 + 64], 3);

	/* 64-byte label: rejected, first, middle or last */
	memset(name, 'a', 64);
	strcpy(name + 64, ".com");
	CHECK_EQ_INT(build_g(sizeof(out), 1, name, T_A, out), -1);
	strcpy(name, "x.");
	memset(name + 2, 'b', 64);
	strcpy(name + 66, ".com");
	CHECK_EQ_INT(build_g(sizeof(out), 1, name, T_A, out), -1);
	strcpy(name, "x.");
	memset(name + 2, 'b', 64);
	name[66] = '\0';
	CHECK_EQ_INT(build_g(sizeof(out), 1, name, T_A, out), -1);
}

/* A name of exactly `len` chars made of 63-char labels. */
static void long_name(char *name, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++)
		name[i] = (i % 64 == 63) ? '.' : (char)('a' + i % 26);
	name[len] = '\0';
	if (len && name[len - 1] == '.')
		name[len - 1] = 'z';
}

TEST(dns_build_query_name_length_limit)
{
	char name[400];
	uint8_t out[600];
	int rc;

	long_name(name, 253); /* 63.63.63.61 */
	rc = build_g(sizeof(out), 1, name, T_A, out);
	REQUIRE(CHECK_EQ_INT(rc, 12 + 255 + 4));
	CHECK_EQ_INT(out[12 + 254], 0); /* root label */

	long_name(name, 254);
	CHECK_EQ_INT(build_g(sizeof(out), 1, name, T_A, out), -1);
	long_name(name, 300);
	CHECK_EQ_INT(build_g(sizeof(out), 1, name, T_A, out), -1);
}

TEST(dns_build_query_cap_too_small)
{
	size_t cap;
	uint8_t out[512];
	/* every cap below the query size is refused, without writing past
	 * the buffer (guarded); the exact size is enough */
	for (cap = 0; cap < sizeof(q_example_a); cap++) {
		int rc = build_g(cap, 0x1234, "example.com", T_A, NULL);
		if (!CHECK_EQ_INT(rc, -1))
			FAILF("  cap %zu", cap);
	}
	CHECK_EQ_INT(build_g(sizeof(q_example_a), 0x1234, "example.com", T_A,
			     out),
		     sizeof(q_example_a));
	CHECK_EQ_MEM(out, sizeof(q_example_a), q_example_a,
		     sizeof(q_example_a));
}

/* ======================================================================
 * dns_parse_answer: valid answers
 * ====================================================================== */

TEST(dns_parse_answer_single_a)
{
	struct pkt p;
	struct dns_addrs out;
	uint32_t ttl = 300;
	int rc;

	put_question(&p, 0x1234, 0x8180, 1, "example.com", T_A);
	put_a(&p, 12, 60, 93, 184, 216, 34);
	addrs_init(&out);
	rc = parse_g(&p, p.n, 0x1234, T_A, &out, &ttl);
	REQUIRE(CHECK_EQ_INT(rc, 1));
	CHECK_EQ_INT(out.n, 1);
	CHECK_V4(&out, 0, "93.184.216.34");
	CHECK_EQ_INT(ttl, 60);
}

TEST(dns_parse_answer_ttl_only_lowered)
{
	struct pkt p;
	struct dns_addrs out;
	uint32_t ttl = 30;

	put_question(&p, 1, 0x8180, 1, "example.com", T_A);
	put_a(&p, 12, 3600, 10, 0, 0, 1);
	addrs_init(&out);
	REQUIRE(CHECK_EQ_INT(parse_g(&p, p.n, 1, T_A, &out, &ttl), 1));
	CHECK_EQ_INT(ttl, 30);
}

TEST(dns_parse_answer_aaaa_records)
{
	struct pkt p;
	struct dns_addrs out;
	uint32_t ttl = 1000;
	int rc;

	put_question(&p, 0xbeef, 0x8180, 2, "example.com", T_AAAA);
	put_aaaa(&p, 12, 500, "2001:db8::1");
	put_aaaa(&p, 12, 400, "2001:db8:ffff::abcd");
	addrs_init(&out);
	rc = parse_g(&p, p.n, 0xbeef, T_AAAA, &out, &ttl);
	REQUIRE(CHECK_EQ_INT(rc, 2));
	CHECK_EQ_INT(out.n, 2);
	CHECK_V6(&out, 0, "2001:db8::1");
	CHECK_V6(&out, 1, "2001:db8:ffff::abcd");
	CHECK_EQ_INT(ttl, 400);
}

TEST(dns_parse_answer_appends_to_existing)
{
	struct pkt p;
	struct dns_addrs out;
	uint32_t ttl = 1000;

	put_question(&p, 2, 0x8180, 1, "example.com", T_AAAA);
	put_aaaa(&p, 12, 100, "::2");
	addrs_init(&out);
	out.n = 1;
	{
		struct sockaddr_in *s4 = (void *)&out.a[0];
		memset(s4, 0, sizeof(out.a[0]));
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, "1.2.3.4", &s4->sin_addr);
	}
	REQUIRE(CHECK_EQ_INT(parse_g(&p, p.n, 2, T_AAAA, &out, &ttl), 1));
	CHECK_EQ_INT(out.n, 2);
	CHECK_V4(&out, 0, "1.2.3.4");
	CHECK_V6(&out, 1, "::2");
}

TEST(dns_parse_answer_cname_then_a)
{
	struct pkt p;
	struct dns_addrs out;
	uint32_t ttl = 300;
	size_t cname_target;
	int rc;

	/* www.example.com CNAME cdn.example.com; cdn.example.com A ... */
	put_question(&p, 0x4242, 0x8180, 2, "www.example.com", T_A);
	put_ptr(&p, 12);
	put_rr_fixed(&p, T_CNAME, 120, 6);
	cname_target = p.n;
	put_labels(&p, "cdn", 0);
	put_ptr(&p, 16); /* "example.com" inside the question name */
	put_a(&p, cname_target, 50, 192, 0, 2, 7);
	addrs_init(&out);
	rc = parse_g(&p, p.n, 0x4242, T_A, &out, &ttl);
	REQUIRE(CHECK_EQ_INT(rc, 1));
	CHECK_V4(&out, 0, "192.0.2.7");
	CHECK_EQ_INT(ttl, 50);
}

TEST(dns_parse_answer_cname_chain_uncompressed)
{
	struct pkt p;
	struct dns_addrs out;
	uint32_t ttl = 300;

	/* owner names written out in full, two CNAMEs, then two A */
	put_question(&p, 9, 0x8180, 4, "a.example", T_A);
	put_labels(&p, "a.example", 1);
	put_rr_fixed(&p, T_CNAME, 10, 11);
	put_labels(&p, "b.example", 1);
	put_labels(&p, "b.example", 1);
	put_rr_fixed(&p, T_CNAME, 10, 11);
	put_labels(&p, "c.example", 1);
	put_labels(&p, "c.example", 1);
	put_rr_fixed(&p, T_A, 70, 4);
	put_bytes(&p, "\x0a\x00\x00\x01", 4);
	put_labels(&p, "c.example", 1);
	put_rr_fixed(&p, T_A, 80, 4);
	put_bytes(&p, "\x0a\x00\x00\x02", 4);
	addrs_init(&out);
	REQUIRE(CHECK_EQ_INT(parse_g(&p, p.n, 9, T_A, &out, &ttl), 2));
	CHECK_V4(&out, 0, "10.0.0.1");
	CHECK_V4(&out, 1, "10.0.0.2");
	CHECK_EQ_INT(ttl, 70);
}

TEST(dns_parse_answer_owner_labels_then_pointer)
{
	struct pkt p;
	struct dns_addrs out;
	uint32_t ttl = 300;

	/* owner "www" + pointer to "example.com" in the question */
	put_question(&p, 3, 0x8180, 1, "example.com", T_A);
	put_labels(&p, "www", 0);
	put_ptr(&p, 12);
	put_rr_fixed(&p, T_A, 100, 4);
	put_bytes(&p, "\x7f\x00\x00\x09", 4);
	addrs_init(&out);
	REQUIRE(CHECK_EQ_INT(parse_g(&p, p.n, 3, T_A, &out, &ttl), 1));
	CHECK_V4(&out, 0, "127.0.0.9");
}

TEST(dns_parse_answer_min_ttl_of_several)
{
	struct pkt p;
	struct dns_addrs out;
	uint32_t ttl = 86400;

	put_question(&p, 5, 0x8180, 4, "example.com", T_A);
	put_a(&p, 12, 300, 10, 0, 0, 1);
	put_a(&p, 12, 30, 10, 0, 0, 2);
	put_a(&p, 12, 7200, 10, 0, 0, 3);
	put_a(&p, 12, 120, 10, 0, 0, 4);
	addrs_init(&out);
	REQUIRE(CHECK_EQ_INT(parse_g(&p, p.n, 5, T_A, &out, &ttl), 4));
	CHECK_EQ_INT(ttl, 30);
	CHECK_V4(&out, 0, "10.0.0.1");
	CHECK_V4(&out, 3, "10.0.0.4");
}

TEST(dns_parse_answer_ignores_other_types)
{
	struct pkt p;
	struct dns_addrs out;
	uint32_t ttl = 300;

	/* an AAAA in an answer to an A question, and a TXT: not collected */
	put_question(&p, 6, 0x8180, 3, "example.com", T_A);
	put_aaaa(&p, 12, 10, "::1");
	put_ptr(&p, 12);
	put_rr_fixed(&p, 16, 10, 3);
	put_bytes(&p, "\x02hi", 3);
	put_a(&p, 12, 100, 10, 1, 1, 1);
	addrs_init(&out);
	REQUIRE(CHECK_EQ_INT(parse_g(&p, p.n, 6, T_A, &out, &ttl), 1));
	CHECK_EQ_INT(out.n, 1);
	CHECK_V4(&out, 0, "10.1.1.1");
	CHECK_EQ_INT(ttl, 100); /* TTLs of skipped records don't count */
}

TEST(dns_parse_answer_wrong_rdlength_for_type_not_collected)
{
	struct pkt p;
	struct dns_addrs out;
	uint32_t ttl = 300;
	int rc;

	put_question(&p, 6, 0x8180, 1, "example.com", T_A);
	put_ptr(&p, 12);
	put_rr_fixed(&p, T_A, 10, 5);
	put_bytes(&p, "\x01\x02\x03\x04\x05", 5);
	addrs_init(&out);
	rc = parse_g(&p, p.n, 6, T_A, &out, &ttl);
	CHECK(rc == 0 || rc == DNS_FAIL);
	CHECK_EQ_INT(out.n, 0);
}

TEST(dns_parse_answer_nodata_is_zero)
{
	struct pkt p;
	struct dns_addrs out;
	uint32_t ttl = 300;

	put_question(&p, 7, 0x8180, 0, "example.com", T_AAAA);
	addrs_init(&out);
	CHECK_EQ_INT(parse_g(&p, p.n, 7, T_AAAA, &out, &ttl), 0);
	CHECK_EQ_INT(out.n, 0);
	CHECK_EQ_INT(ttl, 300);
}

TEST(dns_parse_answer_stops_at_max_addrs)
{
	struct pkt p;
	struct dns_addrs out;
	uint32_t ttl = 300;
	int i, rc;

	put_question(&p, 8, 0x8180, DNS_MAX_ADDRS + 4, "example.com", T_A);
	for (i = 0; i < DNS_MAX_ADDRS + 4; i++)
		put_a(&p, 12, 100, 10, 0, 0, (uint8_t)(i + 1));
	addrs_init(&out);
	rc = parse_g(&p, p.n, 8, T_A, &out, &ttl);
	CHECK_EQ_INT(rc, DNS_MAX_ADDRS);
	CHECK_EQ_INT(out.n, DNS_MAX_ADDRS);
	CHECK_V4(&out, 0, "10.0.0.1");
	CHECK_V4(&out, DNS_MAX_ADDRS - 1, "10.0.0.8");

	/* already partly full: only the room left is filled */
	addrs_init(&out);
	out.n = DNS_MAX_ADDRS - 2;
	rc = parse_g(&p, p.n, 8, T_A, &out, &ttl);
	CHECK_EQ_INT(rc, 2);
	CHECK_EQ_INT(out.n, DNS_MAX_ADDRS);
	CHECK_V4(&out, DNS_MAX_ADDRS - 2, "10.0.0.1");
	CHECK_V4(&out, DNS_MAX_ADDRS - 1, "10.0.0.2");

	/* already full */
	addrs_init(&out);
	out.n = DNS_MAX_ADDRS;
	rc = parse_g(&p, p.n, 8, T_A, &out, &ttl);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(out.n, DNS_MAX_ADDRS);
}

/* ======================================================================
 * dns_parse_answer: errors
 * ====================================================================== */

static void one_a(struct pkt *p, uint16_t id, unsigned flags, unsigned qtype)
{
	put_question(p, id, flags, 1, "example.com", qtype);
	put_a(p, 12, 60, 10, 0, 0, 1);
}

static int parse_one(const struct pkt *p, uint16_t id, uint16_t qtype,
		     struct dns_addrs *out)
{
	uint32_t ttl = 300;
	addrs_init(out);
	return parse_g(p, p->n, id, qtype, out, &ttl);
}

TEST(dns_parse_answer_nxdomain)
{
	struct pkt p;
	struct dns_addrs out;
	put_question(&p, 0x1111, 0x8183, 0, "nope.example", T_A);
	CHECK_EQ_INT(parse_one(&p, 0x1111, T_A, &out), DNS_NOTFOUND);
	CHECK_EQ_INT(out.n, 0);
	/* with the AA bit set too, answering an AAAA question */
	put_question(&p, 0x1111, 0x8583, 0, "nope.example", T_AAAA);
	CHECK_EQ_INT(parse_one(&p, 0x1111, T_AAAA, &out), DNS_NOTFOUND);
}

TEST(dns_parse_answer_other_rcodes_fail)
{
	struct pkt p;
	struct dns_addrs out;
	static const unsigned rcodes[] = {1, 2, 4, 5, 9, 15};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(rcodes); i++) {
		one_a(&p, 0x2222, 0x8180 | rcodes[i], T_A);
		if (!CHECK_EQ_INT(parse_one(&p, 0x2222, T_A, &out), DNS_FAIL))
			FAILF("  rcode %u", rcodes[i]);
		CHECK_EQ_INT(out.n, 0);
	}
}

TEST(dns_parse_answer_wrong_id_fails)
{
	struct pkt p;
	struct dns_addrs out;
	one_a(&p, 0x3333, 0x8180, T_A);
	CHECK_EQ_INT(parse_one(&p, 0x3334, T_A, &out), DNS_FAIL);
	CHECK_EQ_INT(parse_one(&p, 0x3433, T_A, &out), DNS_FAIL);
	CHECK_EQ_INT(out.n, 0);
	/* a wrong id with NXDOMAIN is not believed either */
	put_question(&p, 0x3333, 0x8183, 0, "example.com", T_A);
	CHECK_EQ_INT(parse_one(&p, 0x4444, T_A, &out), DNS_FAIL);
}

TEST(dns_parse_answer_query_not_response_fails)
{
	struct pkt p;
	struct dns_addrs out;
	one_a(&p, 0x5555, 0x0180, T_A);
	CHECK_EQ_INT(parse_one(&p, 0x5555, T_A, &out), DNS_FAIL);
	CHECK_EQ_INT(out.n, 0);
	put_question(&p, 0x5555, 0x0183, 0, "example.com", T_A);
	CHECK_EQ_INT(parse_one(&p, 0x5555, T_A, &out), DNS_FAIL);
}

TEST(dns_parse_answer_question_type_mismatch_fails)
{
	struct pkt p;
	struct dns_addrs out;
	/* answer to an AAAA question offered as the A answer */
	put_question(&p, 0x6666, 0x8180, 1, "example.com", T_AAAA);
	put_a(&p, 12, 60, 10, 0, 0, 1);
	CHECK_EQ_INT(parse_one(&p, 0x6666, T_A, &out), DNS_FAIL);
	CHECK_EQ_INT(out.n, 0);
	one_a(&p, 0x6666, 0x8180, T_A);
	CHECK_EQ_INT(parse_one(&p, 0x6666, T_AAAA, &out), DNS_FAIL);
	CHECK_EQ_INT(out.n, 0);
}

/* The question is part of matching an answer to its query, whatever the
 * rcode: an NXDOMAIN that names the other query type is not ours. */
TEST(dns_parse_answer_nxdomain_question_type_mismatch_fails)
{
	struct pkt p;
	struct dns_addrs out;
	put_question(&p, 0x6767, 0x8183, 0, "example.com", T_AAAA);
	CHECK_EQ_INT(parse_one(&p, 0x6767, T_A, &out), DNS_FAIL);
}

TEST(dns_parse_answer_question_count_not_one_fails)
{
	struct pkt p;
	struct dns_addrs out;
	put_header(&p, 0x7777, 0x8180, 0, 1);
	put_a(&p, 12, 60, 10, 0, 0, 1); /* pointer to nothing sensible */
	CHECK_EQ_INT(parse_one(&p, 0x7777, T_A, &out), DNS_FAIL);
	CHECK_EQ_INT(out.n, 0);
}

TEST(dns_parse_answer_rdlength_past_end_fails)
{
	struct pkt p;
	struct dns_addrs out;
	put_question(&p, 0x8888, 0x8180, 1, "example.com", T_A);
	put_ptr(&p, 12);
	put_rr_fixed(&p, T_A, 60, 8); /* claims 8, only 4 follow */
	put_bytes(&p, "\x0a\x00\x00\x01", 4);
	CHECK_EQ_INT(parse_one(&p, 0x8888, T_A, &out), DNS_FAIL);
	CHECK_EQ_INT(out.n, 0);

	put_question(&p, 0x8888, 0x8180, 1, "example.com", T_A);
	put_ptr(&p, 12);
	put_rr_fixed(&p, T_A, 60, 0xffff);
	put_bytes(&p, "\x0a\x00\x00\x01", 4);
	CHECK_EQ_INT(parse_one(&p, 0x8888, T_A, &out), DNS_FAIL);
}

TEST(dns_parse_answer_ancount_beyond_data_fails)
{
	struct pkt p;
	struct dns_addrs out;
	put_question(&p, 0x9999, 0x8180, 3, "example.com", T_A);
	put_a(&p, 12, 60, 10, 0, 0, 1); /* says 3 answers, has 1 */
	CHECK_EQ_INT(parse_one(&p, 0x9999, T_A, &out), DNS_FAIL);
}

TEST(dns_parse_answer_bad_label_types_fail)
{
	struct pkt p;
	struct dns_addrs out;
	/* 0x40 and 0x80 label types (extended / reserved) */
	put_question(&p, 0xaaaa, 0x8180, 1, "example.com", T_A);
	put8(&p, 0x41);
	put8(&p, 'x');
	put8(&p, 0);
	put_rr_fixed(&p, T_A, 60, 4);
	put_bytes(&p, "\x0a\x00\x00\x01", 4);
	CHECK_EQ_INT(parse_one(&p, 0xaaaa, T_A, &out), DNS_FAIL);
	CHECK_EQ_INT(out.n, 0);
	p.b[29] = 0x81;
	CHECK_EQ_INT(parse_one(&p, 0xaaaa, T_A, &out), DNS_FAIL);
	CHECK_EQ_INT(out.n, 0);
}

TEST(dns_parse_answer_pointer_loop_terminates)
{
	struct pkt p;
	struct dns_addrs out;
	size_t self;
	int rc;
	/* an owner name that points at itself; whatever the verdict, the
	 * parser must return (the fork-mode timeout catches a hang) */
	put_question(&p, 0xbbbb, 0x8180, 1, "example.com", T_A);
	self = p.n;
	put_ptr(&p, self);
	put_rr_fixed(&p, T_A, 60, 4);
	put_bytes(&p, "\x0a\x00\x00\x01", 4);
	rc = parse_one(&p, 0xbbbb, T_A, &out);
	CHECK(rc == DNS_FAIL || rc == 1);
	/* a question name that is a pointer loop */
	put_header(&p, 0xbbbb, 0x8180, 1, 0);
	put_ptr(&p, 12);
	put16(&p, T_A);
	put16(&p, 1);
	rc = parse_one(&p, 0xbbbb, T_A, &out);
	CHECK(rc == DNS_FAIL || rc == 0);
}

TEST(dns_parse_answer_short_header_fails)
{
	struct pkt p;
	struct dns_addrs out;
	uint32_t ttl = 300;
	size_t n;
	one_a(&p, 0x1234, 0x8180, T_A);
	for (n = 0; n < 12; n++) {
		addrs_init(&out);
		if (!CHECK_EQ_INT(parse_g(&p, n, 0x1234, T_A, &out, &ttl),
				  DNS_FAIL))
			FAILF("  length %zu", n);
	}
}

/* The set of full answer packets used for the truncation checks. */
static size_t build_vectors(struct pkt *v, uint16_t *qtype)
{
	size_t k = 0, tgt;
	int i;

	one_a(&v[k], 0x1234, 0x8180, T_A);
	qtype[k++] = T_A;

	put_question(&v[k], 0x1234, 0x8180, 2, "example.com", T_AAAA);
	put_aaaa(&v[k], 12, 500, "2001:db8::1");
	put_aaaa(&v[k], 12, 400, "2001:db8::2");
	qtype[k++] = T_AAAA;

	put_question(&v[k], 0x1234, 0x8180, 3, "www.example.com", T_A);
	put_ptr(&v[k], 12);
	put_rr_fixed(&v[k], T_CNAME, 120, 6);
	tgt = v[k].n;
	put_labels(&v[k], "cdn", 0);
	put_ptr(&v[k], 16);
	put_a(&v[k], tgt, 50, 192, 0, 2, 7);
	put_labels(&v[k], "x", 0);
	put_ptr(&v[k], tgt);
	put_rr_fixed(&v[k], T_A, 50, 4);
	put_bytes(&v[k], "\xc0\x00\x02\x08", 4);
	qtype[k++] = T_A;

	put_question(&v[k], 0x1234, 0x8180, 10, "example.com", T_A);
	for (i = 0; i < 10; i++)
		put_a(&v[k], 12, (uint32_t)(100 - i), 10, 0, 0, (uint8_t)i);
	qtype[k++] = T_A;

	put_question(&v[k], 0x1234, 0x8183, 0, "nope.example.com", T_A);
	qtype[k++] = T_A;
	return k;
}

TEST(dns_parse_answer_every_truncation_is_safe)
{
	struct pkt v[8];
	uint16_t qt[8];
	size_t k, nv = build_vectors(v, qt), len;

	for (k = 0; k < nv; k++) {
		struct dns_addrs out;
		uint32_t ttl = 1000;
		int full;
		addrs_init(&out);
		full = parse_g(&v[k], v[k].n, 0x1234, qt[k], &out, &ttl);
		if (!CHECK(full >= 0 || full == DNS_NOTFOUND))
			FAILF("  vector %zu: full packet gives %d", k, full);
		for (len = 0; len < v[k].n; len++) {
			int rc;
			addrs_init(&out);
			ttl = 1000;
			rc = parse_g(&v[k], len, 0x1234, qt[k], &out, &ttl);
			if (full == DNS_NOTFOUND && len >= 12)
				/* the rcode is in the header: may be seen */
				continue;
			if (!CHECK(rc == DNS_FAIL ||
				   (rc >= 0 && rc == out.n)))
				FAILF("  vector %zu cut to %zu of %zu: %d", k,
				      len, v[k].n, rc);
			if (!CHECK(out.n >= 0 && out.n <= DNS_MAX_ADDRS))
				FAILF("  vector %zu cut to %zu: n=%d", k, len,
				      out.n);
		}
	}
}

/* A DNS_FAIL verdict means "ignore this packet" to the caller (q_on_read
 * drops it and waits for a good answer or the next server), so a failed
 * parse must not leave addresses or a lowered TTL behind. */
TEST(dns_parse_answer_fail_leaves_out_and_ttl_untouched)
{
	struct pkt v[8];
	uint16_t qt[8];
	size_t k, nv = build_vectors(v, qt), len;
	int reported = 0;

	for (k = 0; k < nv; k++) {
		for (len = 0; len < v[k].n; len++) {
			struct dns_addrs out;
			uint32_t ttl = 1000;
			int rc;
			addrs_init(&out);
			rc = parse_g(&v[k], len, 0x1234, qt[k], &out, &ttl);
			if (rc != DNS_FAIL)
				continue;
			if ((out.n != 0 || ttl != 1000) && reported++ < 3)
				FAILF("vector %zu cut to %zu of %zu bytes: "
				      "DNS_FAIL but out.n=%d ttl=%u",
				      k, len, v[k].n, out.n, (unsigned)ttl);
		}
	}
	if (reported > 3)
		FAILF("... %d such cases in all", reported);
}

TEST(dns_parse_answer_random_mutations_are_safe)
{
	struct pkt v[8], m;
	uint16_t qt[8];
	size_t nv = build_vectors(v, qt);
	struct t_rng rng;
	int iter;

	t_rng_seed(&rng, t_seed(0xd15));
	for (iter = 0; iter < 20000; iter++) {
		size_t k = t_rng_below(&rng, nv), flips, j, len;
		struct dns_addrs out;
		uint32_t ttl = 1000;
		int rc;
		m = v[k];
		flips = 1 + t_rng_below(&rng, 4);
		for (j = 0; j < flips; j++)
			m.b[t_rng_below(&rng, m.n)] = (uint8_t)t_rng_next(&rng);
		len = t_rng_below(&rng, 3) ? m.n : t_rng_below(&rng, m.n);
		addrs_init(&out);
		rc = parse_g(&m, len, 0x1234, qt[k], &out, &ttl);
		if (!CHECK(rc >= DNS_FAIL && rc <= DNS_MAX_ADDRS &&
			   out.n >= 0 && out.n <= DNS_MAX_ADDRS)) {
			FAILF("  iteration %d: rc %d n %d", iter, rc, out.n);
			return;
		}
	}
}

/* ======================================================================
 * dns_parse_resolv_conf
 * ====================================================================== */

static void conf_parse(const char *text, struct dns_conf *c)
{
	memset(c, 0xa5, sizeof(*c));
	dns_parse_resolv_conf(text, c);
}

static int srv_is(const struct dns_conf *c, int i, const char *s)
{
	struct dns_addrs a;
	if (i >= c->nservers || i >= DNS_MAX_SERVERS)
		return 0;
	a.n = 1;
	a.a[0] = c->server[i];
	return strchr(s, ':') ? is_v6(&a, 0, s) : is_v4(&a, 0, s);
}

#define CHECK_SRV(c, i, s)                                                   \
	do {                                                                 \
		if (!CHECK(srv_is((c), (i), (s))))                           \
			FAILF("  server %d: have %s (n=%d), want %s", (i),   \
			      (i) < (c)->nservers ?                          \
				      addr_str(&(c)->server[(i)]) :          \
				      "none",                                \
			      (c)->nservers, (s));                           \
	} while (0)

TEST(dns_resolv_conf_ipv4_and_ipv6)
{
	struct dns_conf c;
	conf_parse("nameserver 10.0.0.53\nnameserver 2001:db8::53\n", &c);
	REQUIRE(CHECK_EQ_INT(c.nservers, 2));
	CHECK_SRV(&c, 0, "10.0.0.53");
	CHECK_SRV(&c, 1, "2001:db8::53");
	CHECK_EQ_INT(c.timeout_ms, 5000);
	CHECK_EQ_INT(c.attempts, 2);
}

TEST(dns_resolv_conf_at_most_max_servers)
{
	struct dns_conf c;
	conf_parse("nameserver 10.0.0.1\n"
		   "nameserver 10.0.0.2\n"
		   "nameserver ::3\n"
		   "nameserver 10.0.0.4\n"
		   "nameserver 10.0.0.5\n",
		   &c);
	REQUIRE(CHECK_EQ_INT(c.nservers, DNS_MAX_SERVERS));
	CHECK_SRV(&c, 0, "10.0.0.1");
	CHECK_SRV(&c, 1, "10.0.0.2");
	CHECK_SRV(&c, 2, "::3");
}

TEST(dns_resolv_conf_comments_and_junk)
{
	struct dns_conf c;
	conf_parse("# nameserver 1.1.1.1\n"
		   "; nameserver 2.2.2.2\n"
		   "\n"
		   "search example.com corp\n"
		   "domain example.com\n"
		   "nameserver not-an-address\n"
		   "nameserver\n"
		   "nameserver 300.1.1.1\n"
		   "sortlist 10.0.0.0/8\n"
		   "  \tnameserver\t10.9.8.7  \r\n"
		   "nameserver 10.9.8.6",
		   &c);
	REQUIRE(CHECK_EQ_INT(c.nservers, 2));
	CHECK_SRV(&c, 0, "10.9.8.7");
	CHECK_SRV(&c, 1, "10.9.8.6");
}

TEST(dns_resolv_conf_default_server)
{
	static const char *const texts[] = {
		"",
		"# empty\n",
		"search example.com\noptions ndots:1\n",
		"nameserver bogus\n",
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(texts); i++) {
		struct dns_conf c;
		conf_parse(texts[i], &c);
		if (!CHECK_EQ_INT(c.nservers, 1)) {
			FAILF("  text \"%s\"", t_esc(texts[i], strlen(texts[i])));
			continue;
		}
		CHECK_SRV(&c, 0, "127.0.0.1");
		CHECK_EQ_INT(c.timeout_ms, 5000);
		CHECK_EQ_INT(c.attempts, 2);
	}
}

TEST(dns_resolv_conf_options)
{
	struct dns_conf c;
	conf_parse("nameserver 10.0.0.1\noptions timeout:3 attempts:4\n", &c);
	CHECK_EQ_INT(c.timeout_ms, 3000);
	CHECK_EQ_INT(c.attempts, 4);

	conf_parse("options ndots:2 rotate timeout:1\noptions attempts:1\n",
		   &c);
	CHECK_EQ_INT(c.timeout_ms, 1000);
	CHECK_EQ_INT(c.attempts, 1);
	CHECK_EQ_INT(c.nservers, 1);

	/* the last value wins */
	conf_parse("options timeout:2\noptions timeout:7\n", &c);
	CHECK_EQ_INT(c.timeout_ms, 7000);

	/* a commented-out options line */
	conf_parse("#options timeout:9 attempts:5\n", &c);
	CHECK_EQ_INT(c.timeout_ms, 5000);
	CHECK_EQ_INT(c.attempts, 2);
}

TEST(dns_resolv_conf_option_bounds)
{
	static const char *const texts[] = {
		"options timeout:0 attempts:0\n",
		"options timeout:-5 attempts:-1\n",
		"options timeout:100000 attempts:1000\n",
		"options timeout:4294967297 attempts:4294967298\n",
		"options timeout: attempts:\n",
		"options timeout:x attempts:y\n",
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(texts); i++) {
		struct dns_conf c;
		conf_parse(texts[i], &c);
		if (!CHECK(c.timeout_ms >= 1000 && c.timeout_ms <= 30000) ||
		    !CHECK(c.attempts >= 1 && c.attempts <= 5))
			FAILF("  \"%s\": timeout_ms %d attempts %d",
			      t_esc(texts[i], strlen(texts[i])), c.timeout_ms,
			      c.attempts);
	}
	/* the edges themselves are taken */
	{
		struct dns_conf c;
		conf_parse("options timeout:30 attempts:5\n", &c);
		CHECK_EQ_INT(c.timeout_ms, 30000);
		CHECK_EQ_INT(c.attempts, 5);
	}
}

TEST(dns_resolv_conf_long_line_is_safe)
{
	static char text[4096];
	struct dns_conf c;
	memset(text, 'x', sizeof(text) - 64);
	strcpy(text + sizeof(text) - 64, "\nnameserver 10.1.2.3\n");
	conf_parse(text, &c);
	REQUIRE(CHECK_EQ_INT(c.nservers, 1));
	CHECK_SRV(&c, 0, "10.1.2.3");
}

/* ======================================================================
 * dns_hosts_lookup
 * ====================================================================== */

static const char hosts_text[] =
	"# /etc/hosts for the tests\n"
	"127.0.0.1\tlocalhost\n"
	"::1 localhost ip6-localhost ip6-loopback\n"
	"10.1.2.3   alpha beta\tGamma   # the delta in this comment: delta\n"
	"# 10.9.9.9 hidden\n"
	"10.1.2.4 alphabet\n"
	"999.1.1.1 bad\n"
	"not-an-ip bad\n"
	"10.0.0.7 bad\n"
	"fe80::1234:5678 v6only\n"
	"\n"
	"   \t\n"
	"10.0.0.8 dup dup DUP\n"
	"10.0.0.9 last"; /* no final newline */

static int hosts(const char *text, const char *name, struct dns_addrs *out)
{
	addrs_init(out);
	return dns_hosts_lookup(text, name, out);
}

TEST(dns_hosts_several_names_per_line)
{
	struct dns_addrs a;
	REQUIRE(CHECK_EQ_INT(hosts(hosts_text, "alpha", &a), 1));
	CHECK_V4(&a, 0, "10.1.2.3");
	REQUIRE(CHECK_EQ_INT(hosts(hosts_text, "beta", &a), 1));
	CHECK_V4(&a, 0, "10.1.2.3");
	REQUIRE(CHECK_EQ_INT(hosts(hosts_text, "gamma", &a), 1));
	CHECK_V4(&a, 0, "10.1.2.3");
	REQUIRE(CHECK_EQ_INT(hosts(hosts_text, "last", &a), 1));
	CHECK_V4(&a, 0, "10.0.0.9");
}

TEST(dns_hosts_case_insensitive)
{
	struct dns_addrs a;
	REQUIRE(CHECK_EQ_INT(hosts(hosts_text, "ALPHA", &a), 1));
	CHECK_V4(&a, 0, "10.1.2.3");
	REQUIRE(CHECK_EQ_INT(hosts(hosts_text, "GaMmA", &a), 1));
	REQUIRE(CHECK_EQ_INT(hosts(hosts_text, "LocalHost", &a), 2));
}

TEST(dns_hosts_comments_ignored)
{
	struct dns_addrs a;
	CHECK_EQ_INT(hosts(hosts_text, "hidden", &a), 0);
	CHECK_EQ_INT(hosts(hosts_text, "delta", &a), 0);
	CHECK_EQ_INT(hosts(hosts_text, "#", &a), 0);
	CHECK_EQ_INT(hosts(hosts_text, "comment:", &a), 0);
	CHECK_EQ_INT(a.n, 0);
}

TEST(dns_hosts_whole_name_match_only)
{
	struct dns_addrs a;
	REQUIRE(CHECK_EQ_INT(hosts(hosts_text, "alphabet", &a), 1));
	CHECK_V4(&a, 0, "10.1.2.4");
	CHECK_EQ_INT(hosts(hosts_text, "alph", &a), 0);
	CHECK_EQ_INT(hosts(hosts_text, "alpha.", &a), 0);
	CHECK_EQ_INT(hosts(hosts_text, "local", &a), 0);
	CHECK_EQ_INT(hosts(hosts_text, "10.1.2.3", &a), 0);
}

TEST(dns_hosts_ipv6_entries)
{
	struct dns_addrs a;
	REQUIRE(CHECK_EQ_INT(hosts(hosts_text, "localhost", &a), 2));
	CHECK_V4(&a, 0, "127.0.0.1");
	CHECK_V6(&a, 1, "::1");
	REQUIRE(CHECK_EQ_INT(hosts(hosts_text, "ip6-loopback", &a), 1));
	CHECK_V6(&a, 0, "::1");
	REQUIRE(CHECK_EQ_INT(hosts(hosts_text, "v6only", &a), 1));
	CHECK_V6(&a, 0, "fe80::1234:5678");
}

TEST(dns_hosts_invalid_addresses_skipped)
{
	struct dns_addrs a;
	REQUIRE(CHECK_EQ_INT(hosts(hosts_text, "bad", &a), 1));
	CHECK_EQ_INT(a.n, 1);
	CHECK_V4(&a, 0, "10.0.0.7");
	CHECK_EQ_INT(hosts(hosts_text, "not-an-ip", &a), 0);
}

TEST(dns_hosts_name_repeated_on_a_line_counts_once)
{
	struct dns_addrs a;
	REQUIRE(CHECK_EQ_INT(hosts(hosts_text, "dup", &a), 1));
	CHECK_V4(&a, 0, "10.0.0.8");
}

TEST(dns_hosts_absent_and_empty)
{
	struct dns_addrs a;
	CHECK_EQ_INT(hosts(hosts_text, "nowhere", &a), 0);
	CHECK_EQ_INT(hosts("", "alpha", &a), 0);
	CHECK_EQ_INT(hosts("\n\n# x\n", "x", &a), 0);
	CHECK_EQ_INT(a.n, 0);
}

TEST(dns_hosts_stops_at_max_addrs)
{
	char text[2048];
	size_t n = 0;
	int i, rc;
	struct dns_addrs a;
	for (i = 0; i < DNS_MAX_ADDRS + 5; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "10.0.1.%d many\n", i + 1);
	rc = hosts(text, "many", &a);
	CHECK_EQ_INT(rc, DNS_MAX_ADDRS);
	CHECK_EQ_INT(a.n, DNS_MAX_ADDRS);
	CHECK_V4(&a, 0, "10.0.1.1");
	CHECK_V4(&a, DNS_MAX_ADDRS - 1, "10.0.1.8");
}

/* ======================================================================
 * dns_lookup: synchronous answers
 * ====================================================================== */

/* A resolver of its own on a loop of its own: nothing is shared between
 * two of these (or with a server). */
struct lk {
	struct loop l;
	struct dns_ctx d;
};

static int cb_calls, cb_err;
static struct dns_addrs cb_res;

static void test_cb(void *user, int err, const struct dns_addrs *res)
{
	(void)user;
	cb_err = err;
	cb_res = *res;
	cb_calls++;
}

static char tmp_resolv[64], tmp_hosts[64];

static int write_tmp(char *path, size_t cap, const char *text)
{
	int fd;
	size_t n = strlen(text);
	snprintf(path, cap, "/tmp/t_dns_XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Point a new resolver at a resolv.conf with only 127.0.0.1 (queries to
 * dns_port, 0 for 53) and at the given hosts text (NULL: a hosts file
 * that does not exist), and read them. */
static int lookup_setup_port(struct lk *t, const char *hosts_file_text,
			     int dns_port)
{
	char port[16];
	if (write_tmp(tmp_resolv, sizeof(tmp_resolv),
		      "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n") <
	    0)
		return -1;
	if (hosts_file_text) {
		if (write_tmp(tmp_hosts, sizeof(tmp_hosts), hosts_file_text) <
		    0)
			return -1;
	} else {
		snprintf(tmp_hosts, sizeof(tmp_hosts),
			 "/nonexistent/t_dns_hosts");
	}
	setenv("CPA_RESOLV_CONF", tmp_resolv, 1);
	setenv("CPA_HOSTS", tmp_hosts, 1);
	if (dns_port) {
		snprintf(port, sizeof(port), "%d", dns_port);
		setenv("CPA_DNS_PORT", port, 1);
	} else {
		unsetenv("CPA_DNS_PORT");
	}
	cb_calls = 0;
	cb_err = 1;
	if (loop_init(&t->l, 2 * DNS_MAX_QUERIES + 8,
		      2 * DNS_MAX_QUERIES + 8) < 0)
		return -1;
	dns_init(&t->d, &t->l);
	dns_reload(&t->d);
	return 0;
}

static int lookup_setup(struct lk *t, const char *hosts_file_text)
{
	return lookup_setup_port(t, hosts_file_text, 0);
}

static void lookup_teardown(struct lk *t)
{
	dns_free(&t->d);
	loop_free(&t->l);
	unlink(tmp_resolv);
	if (strncmp(tmp_hosts, "/tmp/", 5) == 0)
		unlink(tmp_hosts);
}

/* dns_lookup that must answer synchronously.  Should it go pending (a
 * real query would be on its way to 127.0.0.1), cancel at once. */
static int lookup_sync(struct lk *t, const char *host, struct dns_addrs *out)
{
	struct dns_handle h = {-1, 0};
	int rc = dns_lookup(&t->d, host, out, test_cb, NULL, &h);
	if (rc == 0) {
		FAILF("dns_lookup(\"%s\") went to the network", host);
		dns_cancel(&t->d, &h);
	}
	return rc;
}

static int is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >>
			24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
			&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return 0;
}

TEST(dns_lookup_ipv4_literal)
{
	struct lk l;
	struct dns_addrs out;
	REQUIRE(lookup_setup(&l, "") == 0);
	memset(&out, 0xa5, sizeof(out));
	REQUIRE(CHECK_EQ_INT(lookup_sync(&l, "127.0.0.1", &out), 1));
	CHECK_EQ_INT(out.n, 1);
	CHECK_V4(&out, 0, "127.0.0.1");
	CHECK_EQ_INT(((struct sockaddr_in *)&out.a[0])->sin_port, 0);
	REQUIRE(CHECK_EQ_INT(lookup_sync(&l, "192.0.2.55", &out), 1));
	CHECK_EQ_INT(out.n, 1);
	CHECK_V4(&out, 0, "192.0.2.55");
	CHECK_EQ_INT(cb_calls, 0);
	lookup_teardown(&l);
}

TEST(dns_lookup_ipv6_literal)
{
	struct lk l;
	struct dns_addrs out;
	REQUIRE(lookup_setup(&l, "") == 0);
	memset(&out, 0xa5, sizeof(out));
	REQUIRE(CHECK_EQ_INT(lookup_sync(&l, "::1", &out), 1));
	CHECK_EQ_INT(out.n, 1);
	CHECK_V6(&out, 0, "::1");
	CHECK_EQ_INT(((struct sockaddr_in6 *)&out.a[0])->sin6_port, 0);
	REQUIRE(CHECK_EQ_INT(lookup_sync(&l, "2001:db8::7", &out), 1));
	CHECK_EQ_INT(out.n, 1);
	CHECK_V6(&out, 0, "2001:db8::7");
	CHECK_EQ_INT(cb_calls, 0);
	lookup_teardown(&l);
}

TEST(dns_lookup_invalid_tld_not_found)
{
	static const char *const names[] = {
		"foo.invalid", "FOO.INVALID", "foo.invalid.", "a.b.c.invalid",
		"invalid",
	};
	struct lk l;
	struct dns_addrs out;
	size_t i;
	REQUIRE(lookup_setup(&l, "") == 0);
	for (i = 0; i < T_ARRAY_LEN(names); i++)
		if (!CHECK_EQ_INT(lookup_sync(&l, names[i], &out),
				  DNS_NOTFOUND))
			FAILF("  name \"%s\"", names[i]);
	CHECK_EQ_INT(cb_calls, 0);
	lookup_teardown(&l);
}

TEST(dns_lookup_localhost_from_hosts_file)
{
	struct lk l;
	struct dns_addrs out;
	int i;
	REQUIRE(lookup_setup(&l, "127.0.0.1 localhost\n") == 0);
	REQUIRE(CHECK_EQ_INT(lookup_sync(&l, "localhost", &out), 1));
	REQUIRE(CHECK(out.n >= 1 && out.n <= DNS_MAX_ADDRS));
	for (i = 0; i < out.n; i++)
		CHECK(is_loopback(&out.a[i]));
	CHECK_EQ_INT(cb_calls, 0);
	lookup_teardown(&l);
}

TEST(dns_lookup_localhost_builtin_fallback)
{
	static const char *const names[] = {"localhost", "LOCALHOST",
					    "localhost.", "api.localhost"};
	struct lk l;
	struct dns_addrs out;
	size_t k;
	int i;
	/* neither a hosts file nor a localhost line in it: built in */
	REQUIRE(lookup_setup(&l, NULL) == 0);
	for (k = 0; k < T_ARRAY_LEN(names); k++) {
		if (!CHECK_EQ_INT(lookup_sync(&l, names[k], &out), 1)) {
			FAILF("  name \"%s\"", names[k]);
			continue;
		}
		REQUIRE(CHECK(out.n >= 1 && out.n <= DNS_MAX_ADDRS));
		for (i = 0; i < out.n; i++)
			CHECK(is_loopback(&out.a[i]));
	}
	lookup_teardown(&l);

	REQUIRE(lookup_setup(&l, "10.0.0.1 other\n") == 0);
	REQUIRE(CHECK_EQ_INT(lookup_sync(&l, "localhost", &out), 1));
	REQUIRE(CHECK(out.n >= 1));
	for (i = 0; i < out.n; i++)
		CHECK(is_loopback(&out.a[i]));
	CHECK_EQ_INT(cb_calls, 0);
	lookup_teardown(&l);
}

TEST(dns_lookup_name_from_hosts_file)
{
	struct lk l;
	struct dns_addrs out;
	REQUIRE(lookup_setup(&l, "# test hosts\n"
				 "10.20.30.40 upstream.test up\n"
				 "2001:db8::40 upstream.test\n") == 0);
	REQUIRE(CHECK_EQ_INT(lookup_sync(&l, "upstream.test", &out), 1));
	REQUIRE(CHECK_EQ_INT(out.n, 2));
	CHECK_V4(&out, 0, "10.20.30.40");
	CHECK_V6(&out, 1, "2001:db8::40");
	REQUIRE(CHECK_EQ_INT(lookup_sync(&l, "UP", &out), 1));
	CHECK_V4(&out, 0, "10.20.30.40");
	REQUIRE(CHECK_EQ_INT(lookup_sync(&l, "Upstream.Test.", &out), 1));
	CHECK_EQ_INT(out.n, 2);
	CHECK_EQ_INT(cb_calls, 0);
	lookup_teardown(&l);
}

TEST(dns_lookup_reload_picks_up_new_hosts)
{
	struct lk l;
	struct dns_addrs out;
	FILE *f;
	REQUIRE(lookup_setup(&l, "10.0.0.1 moving.test\n") == 0);
	REQUIRE(CHECK_EQ_INT(lookup_sync(&l, "moving.test", &out), 1));
	CHECK_V4(&out, 0, "10.0.0.1");
	f = fopen(tmp_hosts, "w");
	REQUIRE(f != NULL);
	fputs("10.0.0.2 moving.test\n", f);
	fclose(f);
	dns_reload(&l.d);
	REQUIRE(CHECK_EQ_INT(lookup_sync(&l, "moving.test", &out), 1));
	CHECK_EQ_INT(out.n, 1);
	CHECK_V4(&out, 0, "10.0.0.2");
	lookup_teardown(&l);
}

TEST(dns_lookup_overlong_name_not_found)
{
	char name[400];
	struct lk l;
	struct dns_addrs out;
	REQUIRE(lookup_setup(&l, "") == 0);
	long_name(name, 300);
	CHECK_EQ_INT(lookup_sync(&l, name, &out), DNS_NOTFOUND);
	CHECK_EQ_INT(lookup_sync(&l, "", &out), DNS_NOTFOUND);
	lookup_teardown(&l);
}

/* ======================================================================
 * dns_lookup through a nameserver on 127.0.0.1
 * ====================================================================== */

/* The nameserver: a UDP socket on 127.0.0.1 that the test reads itself. */
static int ns_open(int *port)
{
	struct sockaddr_in a;
	socklen_t sl = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &sl) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* Answer the next query (waiting up to 2 s) with rcode; a NOERROR answer
 * to an A query holds a4, one to an AAAA query holds no record.  Returns
 * the type asked, or -1 when no query came. */
static int ns_answer(int fd, const uint8_t a4[4], unsigned rcode)
{
	uint8_t q[512];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	struct pollfd pfd = {fd, POLLIN, 0};
	struct pkt p;
	size_t o = 12;
	unsigned qtype;
	ssize_t n;

	if (poll(&pfd, 1, 2000) != 1)
		return -1;
	n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
	if (n < 17)
		return -1;
	while (o < (size_t)n && q[o])
		o += 1 + (size_t)q[o];
	if (o + 5 > (size_t)n)
		return -1;
	qtype = (unsigned)q[o + 1] << 8 | q[o + 2];
	p.n = 0;
	put_bytes(&p, q, o + 5); /* the query's header and question */
	p.b[2] = 0x81;           /* response, RD */
	p.b[3] = (uint8_t)(0x80 | rcode);
	if (qtype == T_A && rcode == 0) {
		p.b[7] = 1;      /* ANCOUNT */
		put_a(&p, 12, 60, a4[0], a4[1], a4[2], a4[3]);
	}
	sendto(fd, p.b, p.n, 0, (struct sockaddr *)&from, fl);
	return (int)qtype;
}

/* Run the loop until the callback came (or about 3 s went by). */
static void run_until_cb(struct lk *t)
{
	int i;
	for (i = 0; i < 30 && !cb_calls; i++)
		loop_run_once(&t->l, 100);
}

static const uint8_t addr_a[4] = {10, 9, 8, 7};

TEST(dns_lookup_idle_resolver_holds_no_cache_or_slots)
{
	struct lk l;
	struct dns_addrs out;
	int i;
	REQUIRE(lookup_setup(&l, "10.0.0.1 up.test\n") == 0);
	CHECK_EQ_INT(lookup_sync(&l, "up.test", &out), 1);
	CHECK_EQ_INT(lookup_sync(&l, "localhost", &out), 1);
	CHECK_EQ_INT(lookup_sync(&l, "192.0.2.1", &out), 1);
	CHECK(l.d.cache == NULL);
	for (i = 0; i < DNS_MAX_QUERIES; i++)
		CHECK(l.d.q[i] == NULL);
	lookup_teardown(&l);
}

TEST(dns_lookup_network_answer_then_cache)
{
	struct lk l;
	struct dns_addrs out;
	struct dns_handle h = {-1, 0};
	int ns, port, k;

	REQUIRE((ns = ns_open(&port)) >= 0);
	REQUIRE(lookup_setup_port(&l, NULL, port) == 0);
	REQUIRE(CHECK_EQ_INT(dns_lookup(&l.d, "api.example", &out, test_cb,
					NULL, &h), 0));
	CHECK(h.slot == 0);
	CHECK(l.d.q[0] != NULL && l.d.q[1] == NULL);
	for (k = 0; k < 2; k++) /* the A and the AAAA query */
		CHECK(ns_answer(ns, addr_a, 0) > 0);
	run_until_cb(&l);
	REQUIRE(CHECK_EQ_INT(cb_calls, 1));
	CHECK_EQ_INT(cb_err, DNS_OK);
	CHECK_EQ_INT(cb_res.n, 1);
	CHECK_V4(&cb_res, 0, "10.9.8.7");
	CHECK(l.d.cache != NULL);
	/* again: from the cache, whatever the case and a final dot */
	REQUIRE(CHECK_EQ_INT(lookup_sync(&l, "API.example.", &out), 1));
	CHECK_EQ_INT(out.n, 1);
	CHECK_V4(&out, 0, "10.9.8.7");
	/* a reload drops the cache: the name goes to the network again */
	dns_reload(&l.d);
	CHECK_EQ_INT(dns_lookup(&l.d, "api.example", &out, test_cb, NULL, &h),
		     0);
	dns_cancel(&l.d, &h);
	lookup_teardown(&l);
	close(ns);
}

TEST(dns_lookup_contexts_share_nothing)
{
	struct lk l;
	struct dns_ctx other;
	struct dns_addrs out;
	struct dns_handle h = {-1, 0};
	int ns, port, k;

	REQUIRE((ns = ns_open(&port)) >= 0);
	REQUIRE(lookup_setup_port(&l, NULL, port) == 0);
	REQUIRE(CHECK_EQ_INT(dns_lookup(&l.d, "api.example", &out, test_cb,
					NULL, &h), 0));
	for (k = 0; k < 2; k++)
		ns_answer(ns, addr_a, 0);
	run_until_cb(&l);
	REQUIRE(CHECK_EQ_INT(cb_err, DNS_OK));
	dns_init(&other, &l.l);
	CHECK_EQ_INT(dns_lookup(&other, "api.example", &out, test_cb, NULL,
				&h), 0);
	CHECK(other.cache == NULL);
	dns_free(&other); /* cancels the lookup: no callback */
	loop_run_once(&l.l, 0);
	CHECK_EQ_INT(cb_calls, 1);
	lookup_teardown(&l);
	close(ns);
}

TEST(dns_lookup_not_found)
{
	struct lk l;
	struct dns_addrs out;
	struct dns_handle h = {-1, 0};
	int ns, port, k;

	REQUIRE((ns = ns_open(&port)) >= 0);
	REQUIRE(lookup_setup_port(&l, NULL, port) == 0);
	REQUIRE(CHECK_EQ_INT(dns_lookup(&l.d, "nx.example", &out, test_cb,
					NULL, &h), 0));
	for (k = 0; k < 2; k++)
		CHECK(ns_answer(ns, addr_a, 3) > 0);
	run_until_cb(&l);
	REQUIRE(CHECK_EQ_INT(cb_calls, 1));
	CHECK_EQ_INT(cb_err, DNS_NOTFOUND);
	CHECK_EQ_INT(cb_res.n, 0);
	CHECK(l.d.cache == NULL); /* failures are not cached */
	lookup_teardown(&l);
	close(ns);
}

TEST(dns_lookup_timeout)
{
	struct lk l;
	struct dns_addrs out;
	struct dns_handle h = {-1, 0};
	int ns, port;

	REQUIRE((ns = ns_open(&port)) >= 0); /* never answers */
	REQUIRE(lookup_setup_port(&l, NULL, port) == 0);
	REQUIRE(CHECK_EQ_INT(dns_lookup(&l.d, "slow.example", &out, test_cb,
					NULL, &h), 0));
	run_until_cb(&l); /* timeout:1 attempts:1 */
	REQUIRE(CHECK_EQ_INT(cb_calls, 1));
	CHECK_EQ_INT(cb_err, DNS_TIMEOUT);
	lookup_teardown(&l);
	close(ns);
}

TEST(dns_cancel_and_stale_handles)
{
	struct lk l;
	struct dns_addrs out;
	struct dns_handle h = {-1, 0}, old;
	int ns, port, k;

	REQUIRE((ns = ns_open(&port)) >= 0);
	REQUIRE(lookup_setup_port(&l, NULL, port) == 0);
	REQUIRE(CHECK_EQ_INT(dns_lookup(&l.d, "a.example", &out, test_cb,
					NULL, &h), 0));
	old = h;
	dns_cancel(&l.d, &h);
	CHECK_EQ_INT(h.slot, -1);
	dns_cancel(&l.d, &h); /* unset: ignored */
	for (k = 0; k < 2; k++)
		ns_answer(ns, addr_a, 0); /* to a socket that is gone */
	loop_run_once(&l.l, 50);
	CHECK_EQ_INT(cb_calls, 0);

	/* The slot is reused; the old handle no longer names it. */
	REQUIRE(CHECK_EQ_INT(dns_lookup(&l.d, "b.example", &out, test_cb,
					NULL, &h), 0));
	CHECK_EQ_INT(h.slot, old.slot);
	CHECK(h.gen != old.gen);
	CHECK(l.d.q[1] == NULL);
	dns_cancel(&l.d, &old);
	for (k = 0; k < 2; k++)
		CHECK(ns_answer(ns, addr_a, 0) > 0);
	run_until_cb(&l);
	CHECK_EQ_INT(cb_calls, 1);
	CHECK_EQ_INT(cb_err, DNS_OK);
	lookup_teardown(&l);
	close(ns);
}

TEST(dns_lookup_busy_then_free_in_flight)
{
	struct lk l;
	struct dns_addrs out;
	struct dns_handle h;
	char name[32];
	int ns, port, i;

	REQUIRE((ns = ns_open(&port)) >= 0);
	REQUIRE(lookup_setup_port(&l, NULL, port) == 0);
	for (i = 0; i < DNS_MAX_QUERIES; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		if (!CHECK_EQ_INT(dns_lookup(&l.d, name, &out, test_cb, NULL,
					     &h), 0))
			break;
	}
	CHECK_EQ_INT(dns_lookup(&l.d, "one.more.example", &out, test_cb, NULL,
				&h), DNS_BUSY);
	dns_free(&l.d); /* every lookup cancelled, no callback */
	CHECK_EQ_INT(cb_calls, 0);
	for (i = 0; i < DNS_MAX_QUERIES; i++)
		CHECK(l.d.q[i] == NULL);
	lookup_teardown(&l);
	close(ns);
}

TEST(dns_strerror_names)
{
	CHECK(dns_strerror(DNS_OK) != NULL);
	CHECK(strcmp(dns_strerror(DNS_NOTFOUND), dns_strerror(DNS_FAIL)) != 0);
	CHECK(strcmp(dns_strerror(DNS_TIMEOUT), dns_strerror(DNS_FAIL)) != 0);
	CHECK(dns_strerror(12345) != NULL);
}
