/*
 * netaddr.c - bind addresses (netaddr.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

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

int netaddr_listen(const struct sockaddr_storage *ss, socklen_t len,
		   int v6only, int backlog)
{
	int fd, one = 1, e;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6 && v6only >= 0)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
			   sizeof(v6only));
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 ||
	    listen(fd, backlog) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
