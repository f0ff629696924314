/*
 * buf.c - growable capped buffer (see buf.h).  Growth doubles up to max;
 * a write that does not fit sets overflow and writes nothing, so a
 * truncated message is never sent half-formed: the caller checks overflow
 * once and answers with an error instead.
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "fmt.h"

void buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->off = b->len = b->cap = 0;
	b->overflow = 0;
}

void buf_reset(struct buf *b)
{
	b->off = b->len = 0;
	b->overflow = 0;
}

void buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

size_t buf_reserve(struct buf *b, size_t want)
{
	size_t room = b->cap - b->len, ncap;
	char *np;

	if (room >= want)
		return room;
	/* Reclaim consumed space first. */
	if (b->off > 0) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		room = b->cap - b->len;
		if (room >= want)
			return room;
	}
	if (b->len + want > b->max)
		want = b->max - b->len;
	ncap = b->cap ? b->cap : 256;
	while (ncap < b->len + want)
		ncap *= 2;
	if (ncap > b->max)
		ncap = b->max;
	if (ncap <= b->cap)
		return room;
	np = realloc(b->p, ncap);
	if (!np)
		return room;
	b->p = np;
	b->cap = ncap;
	return b->cap - b->len;
}

void buf_put(struct buf *b, const void *p, size_t n)
{
	/* n == 0 returns before touching p or b->p: both may be NULL
	 * (an empty span; a buffer not allocated yet), and memcpy and
	 * pointer arithmetic on NULL are undefined even for 0 bytes. */
	if (b->overflow || n == 0)
		return;
	if (buf_reserve(b, n) < n) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}


void buf_putc(struct buf *b, char c)
{
	buf_put(b, &c, 1);
}

void buf_putu(struct buf *b, unsigned long long v)
{
	char tmp[24];
	int i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_put(b, tmp + i, sizeof(tmp) - (size_t)i);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	size_t room;

	if (b->overflow)
		return;
	room = buf_reserve(b, 128);
	va_start(ap, fmt);
	n = fmt_vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->overflow = 1;
		return;
	}
	if ((size_t)n >= room) {
		room = buf_reserve(b, (size_t)n + 1);
		if (room < (size_t)n + 1) {
			b->overflow = 1;
			return;
		}
		va_start(ap, fmt);
		fmt_vsnprintf(b->p + b->len, room, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void buf_json_str(struct buf *b, const char *s, size_t n)
{
	buf_putc(b, '"');
	buf_json_esc(b, s, n);
	buf_putc(b, '"');
}

void buf_json_esc(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_put(b, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
			esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
			buf_put(b, esc, 6);
			continue;
		}
		buf_put(b, esc, 2);
	}
	buf_put(b, s + run, n - run);
}
