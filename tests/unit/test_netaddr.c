/*
 * test_netaddr.c - bind addresses: literals of both families, brackets,
 * localhost, the wildcards, and what is refused (names, bad ports).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
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
