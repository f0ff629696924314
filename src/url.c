/*
 * url.c - absolute URL splitting (see url.h).
 */
#include "url.h"

#include <string.h>
#include <strings.h>

static int hexv(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into dst. */
static int decode(const char *s, size_t n, char *dst, size_t cap)
{
	size_t i, o = 0;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i], a, b;
		if (c == '%' && i + 2 < n && (a = hexv(s[i + 1])) >= 0 &&
		    (b = hexv(s[i + 2])) >= 0) {
			c = a * 16 + b;
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

int url_parse(const char *s, struct url *u)
{
	static const struct {
		const char *name;
		enum url_scheme sch;
		int port;
	} schemes[] = {
		{"http://", URL_HTTP, 80},
		{"https://", URL_HTTPS, 443},
		{"socks5://", URL_SOCKS5, 1080},
		{"socks5h://", URL_SOCKS5H, 1080},
	};
	const char *p = NULL, *auth_end, *host, *host_end, *at, *colon;
	size_t i, n;

	memset(u, 0, sizeof(*u));
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		n = strlen(schemes[i].name);
		if (!strncasecmp(s, schemes[i].name, n)) {
			p = s + n;
			u->scheme = schemes[i].sch;
			u->port = schemes[i].port;
			break;
		}
	}
	if (!p)
		return -1;
	auth_end = p + strcspn(p, "/?#");
	at = NULL;
	for (host = p; host < auth_end; host++)
		if (*host == '@')
			at = host;
	host = p;
	if (at) {
		const char *c = memchr(p, ':', (size_t)(at - p));
		if (decode(p, (size_t)((c ? c : at) - p), u->user,
			   sizeof(u->user)) < 0)
			return -1;
		if (c && decode(c + 1, (size_t)(at - c - 1), u->pass,
				sizeof(u->pass)) < 0)
			return -1;
		host = at + 1;
	}
	if (*host == '[') {
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (!host_end)
			return -1;
		host++;
		colon = host_end + 1 < auth_end && host_end[1] == ':'
			? host_end + 1 : NULL;
		if (!colon && host_end + 1 != auth_end)
			return -1;
	} else {
		colon = memchr(host, ':', (size_t)(auth_end - host));
		host_end = colon ? colon : auth_end;
	}
	n = (size_t)(host_end - host);
	if (n == 0 || n >= sizeof(u->host))
		return -1;
	memcpy(u->host, host, n);
	u->host[n] = '\0';
	if (colon) {
		const char *d = colon + 1;
		int port = 0;
		if (d == auth_end)
			return -1;
		for (; d < auth_end; d++) {
			if (*d < '0' || *d > '9')
				return -1;
			port = port * 10 + (*d - '0');
			if (port > 65535)
				return -1;
		}
		if (port == 0)
			return -1;
		u->port = port;
	}
	n = strlen(auth_end);
	while (n > 0 && auth_end[n - 1] == '/')
		n--;
	if (n >= sizeof(u->path))
		return -1;
	memcpy(u->path, auth_end, n);
	u->path[n] = '\0';
	return 0;
}

int url_base64(const void *src, size_t n, char *dst, size_t cap)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = src;
	size_t i, o = 0;
	if (cap < (n + 2) / 3 * 4 + 1)
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		dst[o++] = tab[s[i] >> 2];
		dst[o++] = tab[(s[i] & 3) << 4 | s[i + 1] >> 4];
		dst[o++] = tab[(s[i + 1] & 15) << 2 | s[i + 2] >> 6];
		dst[o++] = tab[s[i + 2] & 63];
	}
	if (i < n) {
		dst[o++] = tab[s[i] >> 2];
		if (i + 1 < n) {
			dst[o++] = tab[(s[i] & 3) << 4 | s[i + 1] >> 4];
			dst[o++] = tab[(s[i + 1] & 15) << 2];
		} else {
			dst[o++] = tab[(s[i] & 3) << 4];
			dst[o++] = '=';
		}
		dst[o++] = '=';
	}
	dst[o] = '\0';
	return (int)o;
}

int url_encode_segment(const char *s, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
			    c == '_' || c == '~';
		if (o + (plain ? 1 : 3) >= cap)
			return -1;
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= cap)
		return -1;
	out[o] = '\0';
	return (int)o;
}
