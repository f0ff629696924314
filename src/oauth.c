/*
 * oauth.c - states, PKCE, encoding and reading browser replies (oauth.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "bearssl.h"
#include "oauth.h"
#include "url.h"

int oauth_random(void *p, size_t n)
{
	unsigned char *o = p;
	size_t got = 0;
	int fd;

	while (got < n) {
		ssize_t r = getrandom(o + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got == n)
		return 0;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (got < n) {
		ssize_t r = read(fd, o + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return got == n ? 0 : -1;
}

int oauth_new_state(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	int i;

	if (oauth_random(r, sizeof(r)) < 0)
		return -1;
	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[32] = '\0';
	return 0;
}

int oauth_b64url(const void *src, size_t n, char *dst, size_t cap)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *s = src;
	size_t i, o = 0, need = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);

	if (need + 1 > cap)
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned long v = (unsigned long)s[i] << 16 |
				  (unsigned long)s[i + 1] << 8 | s[i + 2];
		dst[o++] = al[v >> 18 & 63];
		dst[o++] = al[v >> 12 & 63];
		dst[o++] = al[v >> 6 & 63];
		dst[o++] = al[v & 63];
	}
	if (n - i == 1) {
		dst[o++] = al[s[i] >> 2];
		dst[o++] = al[(s[i] & 3) << 4];
	} else if (n - i == 2) {
		unsigned long v = (unsigned long)s[i] << 8 | s[i + 1];
		dst[o++] = al[v >> 10 & 63];
		dst[o++] = al[v >> 4 & 63];
		dst[o++] = al[(v & 15) << 2];
	}
	dst[o] = '\0';
	return (int)o;
}

int oauth_new_verifier(char out[OAUTH_VERIFIER_LEN + 1])
{
	unsigned char r[96];
	int rc = -1;

	if (oauth_random(r, sizeof(r)) == 0 &&
	    oauth_b64url(r, sizeof(r), out, OAUTH_VERIFIER_LEN + 1) ==
		    OAUTH_VERIFIER_LEN)
		rc = 0;
	memset(r, 0, sizeof(r));
	return rc;
}

void oauth_challenge(const char *verifier, char out[OAUTH_CHALLENGE_LEN + 1])
{
	br_sha256_context h;
	unsigned char d[32];

	br_sha256_init(&h);
	br_sha256_update(&h, verifier, strlen(verifier));
	br_sha256_out(&h, d);
	oauth_b64url(d, sizeof(d), out, OAUTH_CHALLENGE_LEN + 1);
}

static int state_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int oauth_state_ok(const char *s, size_t n)
{
	size_t i;
	if (n == 0 || n > OAUTH_STATE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!state_char((unsigned char)s[i]))
			return 0;
	return 1;
}

void oauth_param(struct buf *b, const char *name, const char *value)
{
	size_t n = strlen(value), room;
	int w;

	if (b->len && b->p[b->len - 1] != '?')
		buf_putc(b, '&');
	buf_puts(b, name);
	buf_putc(b, '=');
	room = buf_reserve(b, 3 * n + 1);
	if (room < 3 * n + 1) {
		b->overflow = 1;
		return;
	}
	w = url_encode_segment(value, n, b->p + b->len, room);
	if (w < 0)
		b->overflow = 1;
	else
		b->len += (size_t)w;
}

/* ---- replies -------------------------------------------------------------- */

static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) ('+' is a space) into out[cap]: 0, or -1 when it
 * does not fit or decodes to a control character. */
static int decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%' && i + 2 < n && hexv(s[i + 1]) >= 0 &&
			 hexv(s[i + 2]) >= 0) {
			c = hexv(s[i + 1]) << 4 | hexv(s[i + 2]);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Read "k=v&k=v" s[0..n) into r.  -1 when a value is bad. */
static int params(const char *s, size_t n, struct oauth_reply *r)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i, eq;
		const char *k = s + i;
		while (j < n && s[j] != '&')
			j++;
		for (eq = i; eq < j && s[eq] != '='; eq++)
			;
		if (eq < j) {
			size_t kl = eq - i;
			const char *v = s + eq + 1;
			size_t vl = j - eq - 1;
			if (kl == 4 && !memcmp(k, "code", 4)) {
				if (decode(v, vl, r->code, sizeof(r->code)) < 0)
					return -1;
				r->has_code = r->code[0] != '\0';
			} else if (kl == 5 && !memcmp(k, "state", 5)) {
				if (decode(v, vl, r->state, sizeof(r->state)) < 0)
					return -1;
				r->has_state = r->state[0] != '\0';
			} else if (kl == 5 && !memcmp(k, "error", 5)) {
				if (decode(v, vl, r->error, sizeof(r->error)) < 0)
					return -1;
				r->has_error = r->error[0] != '\0';
			}
		}
		i = j + 1;
	}
	return 0;
}

/* "code#state" in r->code: split it (Claude's code page gives that). */
static void split_hash(struct oauth_reply *r)
{
	char *h = strchr(r->code, '#');
	if (!h)
		return;
	*h++ = '\0';
	if (!r->has_state && *h && strlen(h) <= OAUTH_STATE_MAX) {
		strcpy(r->state, h);
		r->has_state = 1;
	}
	r->has_code = r->code[0] != '\0';
}

int oauth_parse_reply(const char *s, size_t n, struct oauth_reply *r)
{
	const char *q, *hash, *end;
	size_t i;

	memset(r, 0, sizeof(*r));
	while (n && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' ||
		     s[0] == '\n'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
		     s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -1;
	end = s + n;
	if (!memchr(s, '=', n)) { /* "code#state", or a bare code */
		if (decode(s, n, r->code, sizeof(r->code)) < 0)
			return -1;
		r->has_code = 1;
		split_hash(r);
		return r->has_code ? 0 : -1;
	}
	q = memchr(s, '?', n);
	hash = q ? memchr(q, '#', (size_t)(end - q)) : memchr(s, '#', n);
	if (q) {
		if (params(q + 1, (size_t)((hash ? hash : end) - q - 1), r) < 0)
			return -1;
	} else if (!hash || hash != s) {
		/* "code=..&state=.." (no '?'): the whole line, up to a '#' */
		if (params(s, (size_t)((hash ? hash : end) - s), r) < 0)
			return -1;
	}
	if (hash && memchr(hash, '=', (size_t)(end - hash))) {
		if (params(hash + 1, (size_t)(end - hash - 1), r) < 0)
			return -1;
	} else if (hash && r->has_code && !r->has_state) {
		/* "?code=abc#state": a '#' the browser left in the code */
		size_t hl = (size_t)(end - hash - 1);
		if (hl > OAUTH_STATE_MAX)
			return -1;
		memcpy(r->state, hash + 1, hl);
		r->state[hl] = '\0';
		r->has_state = hl > 0;
	}
	if (r->has_code)
		split_hash(r);
	return r->has_code || r->has_error ? 0 : -1;
}

int oauth_request_target(const char *buf, size_t n, const char **t,
			 size_t *tn)
{
	const char *eol = memchr(buf, '\n', n), *sp;
	size_t ln;

	if (!eol)
		return n > 8192 ? -1 : 1;
	ln = (size_t)(eol - buf);
	if (ln && buf[ln - 1] == '\r')
		ln--;
	if (ln < 14 || memcmp(buf, "GET ", 4) != 0)
		return -1;
	sp = memchr(buf + 4, ' ', ln - 4);
	if (!sp || sp == buf + 4 || buf[4] != '/')
		return -1;
	if ((size_t)(buf + ln - sp) != 9 || memcmp(sp + 1, "HTTP/1.", 7) != 0 ||
	    (sp[8] != '0' && sp[8] != '1'))
		return -1;
	*t = buf + 4;
	*tn = (size_t)(sp - buf - 4);
	return 0;
}

int oauth_target_is(const char *t, size_t tn, const char *path,
		    const char **q, size_t *qn)
{
	size_t pl = strlen(path);
	if (tn < pl || memcmp(t, path, pl) != 0)
		return 0;
	if (tn == pl) {
		*q = t + tn;
		*qn = 0;
		return 1;
	}
	if (t[pl] != '?')
		return 0;
	*q = t + pl + 1;
	*qn = tn - pl - 1;
	return 1;
}
