/*
 * url.h - split the absolute URLs of the config (base-url, proxy-url,
 * endpoints) into parts.  Pure; no allocation; bounded fields.
 */
#ifndef URL_H
#define URL_H

#include <stddef.h>

enum url_scheme { URL_HTTP, URL_HTTPS, URL_SOCKS5, URL_SOCKS5H };

struct url {
	enum url_scheme scheme;
	char host[256];   /* without [] for IPv6 literals */
	int port;         /* explicit, or the scheme's default */
	char user[128];   /* userinfo, percent-decoded; empty if none */
	char pass[128];
	char path[1024];  /* "/..." without a trailing '/', or "" */
};

/* 0 ok, -1 malformed (unknown scheme, empty host, bad port, too long). */
int url_parse(const char *s, struct url *u);

/* Percent-encode s[0..n) as one path segment: every byte but the RFC 3986
 * unreserved ones (A-Z a-z 0-9 - . _ ~) becomes %XX, so nothing a client
 * chose can end a segment, a path or a request line.  Writes a NUL-ended
 * string; returns its length, or -1 if out (cap bytes) is too small. */
int url_encode_segment(const char *s, size_t n, char *out, size_t cap);

/* Base64 (standard alphabet, padded) of src into dst; returns length or
 * -1 if dst is too small. */
int url_base64(const void *src, size_t n, char *dst, size_t cap);

#endif
