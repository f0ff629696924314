/*
 * netaddr.c - bind addresses (netaddr.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "netaddr.h"

int netaddr_parse(const char *host, int family, int port,
		  struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	char lit[64];
	size_t n;

	memset(ss, 0, sizeof(*ss));
	if (port < 0 || port > 65535)
		return -1;
	if (!host || !*host) {
		if (family == AF_INET) {
			a4->sin_family = AF_INET;
			a4->sin_port = htons((unsigned short)port);
			a4->sin_addr.s_addr = htonl(INADDR_ANY);
			*len = sizeof(*a4);
		} else {
			a6->sin6_family = AF_INET6;
			a6->sin6_port = htons((unsigned short)port);
			a6->sin6_addr = in6addr_any;
			*len = sizeof(*a6);
		}
		return 0;
	}
	if (!strcmp(host, "localhost"))
		host = "127.0.0.1";
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof(lit))
		return -1;
	memcpy(lit, host, n);
	lit[n] = '\0';
	if (inet_pton(AF_INET, lit, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((unsigned short)port);
		*len = sizeof(*a4);
		return 0;
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET6, lit, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((unsigned short)port);
		*len = sizeof(*a6);
		return 0;
	}
	return -1;
}
