/*
 * test_netaddr.c - bind addresses: literals of both families, brackets,
 * localhost, the wildcards, and what is refused (names, bad ports).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "netaddr.h"
#include "t.h"

TEST(netaddr_literals_localhost_and_wildcards)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	char txt[64];
	socklen_t len;

	REQUIRE(netaddr_parse("192.168.1.1", AF_UNSPEC, 8317, &ss, &len) == 0);
	CHECK_EQ_INT(ss.ss_family, AF_INET);
	CHECK_EQ_INT(len, sizeof(*a4));
	CHECK_EQ_INT(ntohs(a4->sin_port), 8317);
	CHECK_EQ_STR(inet_ntop(AF_INET, &a4->sin_addr, txt, sizeof(txt)),
		     "192.168.1.1");
	REQUIRE(netaddr_parse("localhost", AF_UNSPEC, 1455, &ss, &len) == 0);
	CHECK_EQ_STR(inet_ntop(AF_INET, &a4->sin_addr, txt, sizeof(txt)),
		     "127.0.0.1");
	for (int i = 0; i < 2; i++) {
		REQUIRE(netaddr_parse(i ? "[::1]" : "::1", AF_UNSPEC, 80, &ss,
				      &len) == 0);
		CHECK_EQ_INT(ss.ss_family, AF_INET6);
		CHECK_EQ_INT(len, sizeof(*a6));
		CHECK(IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr));
	}
	REQUIRE(netaddr_parse(NULL, AF_UNSPEC, 8317, &ss, &len) == 0);
	CHECK_EQ_INT(ss.ss_family, AF_INET6);
	CHECK(IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr));
	REQUIRE(netaddr_parse("", AF_INET, 8317, &ss, &len) == 0);
	CHECK_EQ_INT(ss.ss_family, AF_INET);
	CHECK_EQ_INT(a4->sin_addr.s_addr, htonl(INADDR_ANY));
}

TEST(netaddr_refuses_names_and_bad_ports)
{
	struct sockaddr_storage ss;
	socklen_t len;
	CHECK(netaddr_parse("router.lan", AF_UNSPEC, 80, &ss, &len) < 0);
	CHECK(netaddr_parse("1.2.3", AF_UNSPEC, 80, &ss, &len) < 0);
	CHECK(netaddr_parse("[1.2.3.4]x", AF_UNSPEC, 80, &ss, &len) < 0);
	CHECK(netaddr_parse("[::1", AF_UNSPEC, 80, &ss, &len) < 0);
	CHECK(netaddr_parse("127.0.0.1", AF_UNSPEC, 65536, &ss, &len) < 0);
	CHECK(netaddr_parse("127.0.0.1", AF_UNSPEC, -1, &ss, &len) < 0);
}

/* netaddr_peer against the C library's inet_ntop: IPv4, IPv4-mapped and
 * IPv6 addresses with zero runs of every length at every place. */
static void peer_same(const struct sockaddr_storage *ss)
{
	char want[80], got[80], host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		if (!strncmp(host, "::ffff:", 7) && strchr(host, '.'))
			snprintf(want, sizeof(want), "%s:%u", host + 7,
				 ntohs(a->sin6_port));
		else
			snprintf(want, sizeof(want), "[%s]:%u", host,
				 ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(want, sizeof(want), "%s:%u", host, ntohs(a->sin_port));
	}
	netaddr_peer(ss, got, sizeof(got));
	CHECK_EQ_STR(got, want);
}

TEST(netaddr_peer_matches_inet_ntop)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	static const char *const lits[] = {
		"::", "::1", "1::", "1::2", "1:0:0:2::3", "1::2:0:0:3",
		"0:1:0:1:0:1:0:1", "1:0:1:0:0:1:0:0", "fe80::1:2",
		"2001:db8::ff00:42:8329", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"::ffff:127.0.0.1", "::ffff:0.0.0.0", "::fffe:1.2.3.4",
		"1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "0:0:1::", "abcd::"};
	struct t_rng r;
	size_t i;
	char small[8];

	memset(&ss, 0, sizeof(ss));
	a4->sin_family = AF_INET;
	a4->sin_port = htons(8317);
	inet_pton(AF_INET, "127.0.0.1", &a4->sin_addr);
	peer_same(&ss);
	a4->sin_addr.s_addr = 0xffffffffu;
	a4->sin_port = htons(65535);
	peer_same(&ss);
	for (i = 0; i < T_ARRAY_LEN(lits); i++) {
		memset(&ss, 0, sizeof(ss));
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((unsigned short)(40000 + i));
		REQUIRE(inet_pton(AF_INET6, lits[i], &a6->sin6_addr) == 1);
		peer_same(&ss);
	}
	/* random fields, each zero half the time; not the deprecated
	 * IPv4-compatible ::a.b.c.d, which glibc writes dotted */
	t_rng_seed(&r, t_seed(5952));
	for (i = 0; i < 20000; i++) {
		uint64_t x = t_rng_next(&r), y = t_rng_next(&r);
		unsigned char *b = a6->sin6_addr.s6_addr;
		int k, compat = 1;
		for (k = 0; k < 8; k++) {
			unsigned v = (x >> (k * 8)) & 1 ? 0 : (unsigned)(y >> (k * 8));
			if (((x >> (k * 8 + 1)) & 3) == 0)
				v &= 0xf;
			b[2 * k] = (unsigned char)(v >> 8);
			b[2 * k + 1] = (unsigned char)v;
			if (k < 6 && v)
				compat = 0;
		}
		if (compat && (b[12] | b[13]))
			continue;
		peer_same(&ss);
	}
	/* cut to the buffer */
	memset(&ss, 0, sizeof(ss));
	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(1);
	inet_pton(AF_INET6, "2001:db8::1", &a6->sin6_addr);
	netaddr_peer(&ss, small, sizeof(small));
	CHECK_EQ_STR(small, "[2001:d");
}
