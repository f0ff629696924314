/*
 * netaddr.c - bind addresses (netaddr.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
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

/* Our own inet_ntop: musl's formats with snprintf, which alone would keep
 * libc's whole printf in the static binary. */
void netaddr_peer(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0,
						 0, 0, 0, 0, 0xff, 0xff};
	const unsigned char *b;
	unsigned port;

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		char host[48], *p = host;
		unsigned w[8];
		int i, best = -1, bestn = 1, run = 0;

		b = a->sin6_addr.s6_addr;
		port = ntohs(a->sin6_port);
		if (memcmp(b, mapped, sizeof(mapped)) != 0) {
			/* RFC 5952: the first longest run of two or more zero
			 * fields becomes "::"; lower-case hex, no leading 0 */
			for (i = 0; i < 8; i++) {
				w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
				run = w[i] ? 0 : run + 1;
				if (run > bestn) {
					bestn = run;
					best = i - run + 1;
				}
			}
			for (i = 0; i < 8; i++) {
				if (i == best) {
					*p++ = ':';
					*p++ = ':';
					i += bestn - 1;
					continue;
				}
				if (i && i != best + bestn)
					*p++ = ':';
				p += fmt_snprintf(p, 5, "%x", w[i]); /* <= 39 */
			}
			*p = '\0';
			fmt_snprintf(out, outlen, "[%s]:%u", host, port);
			return;
		}
		b += sizeof(mapped); /* an IPv4 client of a dual-stack socket */
	} else {
		const struct sockaddr_in *a = (const void *)ss;
		b = (const unsigned char *)&a->sin_addr;
		port = ntohs(a->sin_port);
	}
	fmt_snprintf(out, outlen, "%u.%u.%u.%u:%u", b[0], b[1], b[2], b[3], port);
}
