/*
 * netaddr.h - the address a listening socket binds: an IP literal,
 * "localhost", or the wildcard; and a peer's address as text.  Pure
 * (inet_pton only, no inet_ntop: see netaddr_peer): no resolver, so
 * the static binary carries none of libc's (the upstream side has its own,
 * dns.c), and a bind address that names a host is a clear error rather
 * than a lookup at start-up.
 */
#ifndef NETADDR_H
#define NETADDR_H

#include <sys/socket.h>

/*
 * host: an IPv4 or IPv6 literal (brackets allowed: "[::1]"), "localhost"
 * (127.0.0.1), or NULL / "" for the wildcard of family (AF_INET6 or
 * AF_INET; AF_UNSPEC means AF_INET6).  0 with ss / len filled, -1 when
 * host is none of these or port is out of 0..65535.
 */
int netaddr_parse(const char *host, int family, int port,
		  struct sockaddr_storage *ss, socklen_t *len);

/* A non-blocking, close-on-exec socket bound to ss and listening
 * (SO_REUSEADDR; for IPv6, IPV6_V6ONLY set to v6only, or left as the
 * system has it when v6only < 0).  The descriptor,
 * or -1 with errno from the step that failed. */
int netaddr_listen(const struct sockaddr_storage *ss, socklen_t len,
		   int v6only, int backlog);

/* A peer's address as "1.2.3.4:port", or "[v6]:port" in RFC 5952's form
 * (an IPv4-mapped address as its IPv4 one), cut to outlen.  The text is
 * inet_ntop's, but for the deprecated IPv4-compatible ::a.b.c.d (glibc
 * writes it dotted; here it is hex, as musl does). */
void netaddr_peer(const struct sockaddr_storage *ss, char *out,
		  size_t outlen);

#endif
