/*
 * url.c - fuzz target: url_parse and url_base64.
 *
 * Input: one option byte (the output room given to url_base64), then a
 * URL (cut at the first NUL).  Checks: a parsed URL has a non-empty host,
 * a port in 1..65535, a path that is empty or starts with '/', '?' or
 * '#' and does not end with '/', NUL-terminated fields; putting it back
 * together as scheme://host:port+path (brackets round a host with ':'
 * or a leading '[')
 * parses to the same host, port and path.  url_base64 of the input
 * writes exactly 4*ceil(n/3) characters, or refuses when the room is
 * short, and never writes past it.
 */
#include "fuzz.h"
#include "url.h"

static const char *const scheme_name[] = {
	"http", "https", "socks5", "socks5h",
};

static void check_field(const char *f, size_t cap)
{
	FZ_CHECK(memchr(f, '\0', cap) != NULL);
}

static void check_round_trip(const struct url *u)
{
	struct url v;
	size_t n = 16 + strlen(u->host) + 8 + strlen(u->path) + 1;
	char *s = malloc(n);
	int bracket = strchr(u->host, ':') != NULL || u->host[0] == '[';

	FZ_CHECK(s != NULL);
	snprintf(s, n, "%s://%s%s%s:%d%s", scheme_name[u->scheme],
		 bracket ? "[" : "", u->host, bracket ? "]" : "", u->port,
		 u->path);
	if (url_parse(s, &v) != 0 || v.scheme != u->scheme ||
	    strcmp(v.host, u->host) || v.port != u->port ||
	    strcmp(v.path, u->path)) {
		fprintf(stderr, "round trip of '%s' differs\n", s);
		abort();
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	size_t room = fz_byte(&f), need;
	char *s = fz_strdup(f.p, f.n), *b64;
	struct url u;
	int rc;

	rc = url_parse(s, &u);
	FZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		check_field(u.host, sizeof(u.host));
		check_field(u.user, sizeof(u.user));
		check_field(u.pass, sizeof(u.pass));
		check_field(u.path, sizeof(u.path));
		FZ_CHECK(u.host[0] != '\0');
		FZ_CHECK(u.port >= 1 && u.port <= 65535);
		FZ_CHECK(u.scheme <= URL_SOCKS5H);
		FZ_CHECK(u.path[0] == '\0' || strchr("/?#", u.path[0]));
		FZ_CHECK(u.path[0] == '\0' ||
			 u.path[strlen(u.path) - 1] != '/');
		check_round_trip(&u);
	}

	need = (f.n + 2) / 3 * 4;
	if (room == 0)
		room = need + 1;
	b64 = malloc(room);
	FZ_CHECK(b64 != NULL);
	rc = url_base64(f.p, f.n, b64, room);
	if (room < need + 1) {
		FZ_CHECK(rc == -1);
	} else {
		FZ_CHECK(rc == (int)need && b64[need] == '\0');
	}
	free(b64);
	free(s);
	return 0;
}
