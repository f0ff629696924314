/*
 * fmt.c - printf subset and unbuffered fd output (see fmt.h).
 *
 * One formatter, fmt_out(), writes into a struct out: either the caller's
 * string (bytes past its end only counted) or a staging buffer that is
 * written to a file descriptor whenever it fills.
 */
#define _POSIX_C_SOURCE 200809L
#include "fmt.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct out {
	char *p;
	size_t cap;   /* bytes of p usable for output (a string: size - 1) */
	size_t len;   /* bytes in p */
	size_t total; /* bytes of output, stored or not */
	int fd;       /* -1: p is the result; else p is flushed to fd */
	int err;      /* a write to fd failed */
};

int fmt_write(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t k = write(fd, s, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd pf = {fd, POLLOUT, 0};
				if (poll(&pf, 1, -1) >= 0 || errno == EINTR)
					continue;
			}
			return -1;
		}
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

int fmt_puts(int fd, const char *s)
{
	return fmt_write(fd, s, strlen(s));
}

static void flush(struct out *o)
{
	if (o->len && fmt_write(o->fd, o->p, o->len) < 0)
		o->err = 1;
	o->len = 0;
}

static void put(struct out *o, const char *s, size_t n)
{
	o->total += n;
	while (n > 0) {
		size_t k = o->cap - o->len;
		if (k == 0) {
			if (o->fd < 0)
				return; /* a full string: only counted */
			flush(o);
			continue;
		}
		if (k > n)
			k = n;
		memcpy(o->p + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

static void pad(struct out *o, char c, size_t n)
{
	char run[16];

	memset(run, c, sizeof(run));
	while (n > 0) {
		size_t k = n < sizeof(run) ? n : sizeof(run);
		if (o->fd < 0 && o->len == o->cap) {
			o->total += n; /* a huge width: count, not loop */
			return;
		}
		put(o, run, k);
		n -= k;
	}
}

/* [spaces] prefix [zeros] body [spaces], at least width bytes. */
static void field(struct out *o, const char *pfx, size_t npfx, size_t zeros,
		  const char *body, size_t nbody, size_t width, int left)
{
	size_t n = npfx + zeros + nbody;
	size_t fill = width > n ? width - n : 0;

	if (!left)
		pad(o, ' ', fill);
	put(o, pfx, npfx);
	pad(o, '0', zeros);
	put(o, body, nbody);
	if (left)
		pad(o, ' ', fill);
}

/* Digits of a width or precision; -1 past a sane size. */
static int digits(const char **fp)
{
	const char *f = *fp;
	int v = 0;

	while (*f >= '0' && *f <= '9') {
		if (v > (INT_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*f++ - '0');
	}
	*fp = f;
	return v;
}

enum { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z };

static void fmt_out(struct out *o, const char *f, va_list ap)
{
	while (*f) {
		const char *spec, *lit = f;
		int left = 0, zero = 0, width = 0, prec = -1, len = LEN_NONE;
		char sign = 0;

		while (*f && *f != '%')
			f++;
		put(o, lit, (size_t)(f - lit));
		if (!*f)
			return;
		spec = f++;
		for (;; f++) {
			if (*f == '-')
				left = 1;
			else if (*f == '0')
				zero = 1;
			else if (*f == '+')
				sign = '+';
			else if (*f == ' ') {
				if (sign != '+')
					sign = ' ';
			} else
				break;
		}
		if (*f == '*') {
			f++;
			width = va_arg(ap, int);
			if (width < 0) {
				left = 1;
				width = width == INT_MIN ? INT_MAX : -width;
			}
		} else if ((width = digits(&f)) < 0) {
			goto unknown;
		}
		if (*f == '.') {
			f++;
			if (*f == '*') {
				f++;
				prec = va_arg(ap, int);
				if (prec < 0)
					prec = -1;
			} else if ((prec = digits(&f)) < 0) {
				goto unknown;
			}
		}
		if (*f == 'h') {
			len = LEN_H;
			if (*++f == 'h') {
				len = LEN_HH;
				f++;
			}
		} else if (*f == 'l') {
			len = LEN_L;
			if (*++f == 'l') {
				len = LEN_LL;
				f++;
			}
		} else if (*f == 'z') {
			len = LEN_Z;
			f++;
		}

		switch (*f) {
		case '%':
			if (f != spec + 1)
				goto unknown;
			put(o, "%", 1);
			break;
		case 'c': {
			char c;
			if (len != LEN_NONE)
				goto unknown;
			c = (char)(unsigned char)va_arg(ap, int);
			field(o, "", 0, 0, &c, 1, (size_t)width, left);
			break;
		}
		case 's': {
			const char *s;
			size_t n = 0;
			if (len != LEN_NONE)
				goto unknown;
			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			while ((prec < 0 || n < (size_t)prec) && s[n])
				n++;
			field(o, "", 0, 0, s, n, (size_t)width, left);
			break;
		}
		case 'd':
		case 'i':
		case 'u':
		case 'x':
		case 'X': {
			static const char xl[] = "0123456789abcdef";
			static const char xu[] = "0123456789ABCDEF";
			const char *xd = *f == 'X' ? xu : xl;
			unsigned base = *f == 'x' || *f == 'X' ? 16 : 10;
			unsigned long long u;
			char dig[3 * sizeof(u)], *e = dig + sizeof(dig), *d = e;
			size_t nd, zeros = 0, npfx = 0;

			if (*f == 'd' || *f == 'i') {
				long long v;
				switch (len) {
				case LEN_HH:
					v = (signed char)va_arg(ap, int);
					break;
				case LEN_H:
					v = (short)va_arg(ap, int);
					break;
				case LEN_L:
					v = va_arg(ap, long);
					break;
				case LEN_LL:
					v = va_arg(ap, long long);
					break;
				case LEN_Z: { /* the signed type of size_t's size */
					size_t z = va_arg(ap, size_t);
					v = z <= SIZE_MAX / 2
						    ? (long long)z
						    : -(long long)(SIZE_MAX - z) - 1;
					break;
				}
				default:
					v = va_arg(ap, int);
					break;
				}
				if (v < 0) {
					sign = '-';
					u = 0ULL - (unsigned long long)v;
				} else {
					u = (unsigned long long)v;
				}
			} else {
				sign = 0; /* + and space are for signed ones */
				switch (len) {
				case LEN_HH:
					u = (unsigned char)va_arg(ap, unsigned);
					break;
				case LEN_H:
					u = (unsigned short)va_arg(ap, unsigned);
					break;
				case LEN_L:
					u = va_arg(ap, unsigned long);
					break;
				case LEN_LL:
					u = va_arg(ap, unsigned long long);
					break;
				case LEN_Z:
					u = va_arg(ap, size_t);
					break;
				default:
					u = va_arg(ap, unsigned);
					break;
				}
			}
			if (u != 0 || prec != 0)
				do {
					*--d = xd[u % base];
					u /= base;
				} while (u);
			nd = (size_t)(e - d);
			npfx = sign ? 1 : 0;
			if (prec >= 0) {
				if ((size_t)prec > nd)
					zeros = (size_t)prec - nd;
			} else if (zero && !left && (size_t)width > npfx + nd) {
				zeros = (size_t)width - npfx - nd;
			}
			field(o, &sign, npfx, zeros, d, nd, (size_t)width, left);
			break;
		}
		default:
			goto unknown;
		}
		f++;
		continue;
	unknown:
		/* visible, and no argument read past this point */
		put(o, spec, strlen(spec));
		return;
	}
}

static int result(struct out *o)
{
	if (o->total > INT_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	return (int)o->total;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size ? size - 1 : 0, 0, 0, -1, 0};

	fmt_out(&o, fmt, ap);
	if (size)
		buf[o.len] = '\0';
	return result(&o);
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int fmt_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(s = malloc((size_t)n + 1)))
		return -1;
	va_start(ap, fmt);
	fmt_vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*out = s;
	return n;
}

int fmt_vprint(int fd, const char *fmt, va_list ap)
{
	char stage[1024];
	struct out o = {stage, sizeof(stage), 0, 0, fd, 0};

	fmt_out(&o, fmt, ap);
	flush(&o);
	return o.err ? -1 : result(&o);
}

int fmt_print(int fd, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vprint(fd, fmt, ap);
	va_end(ap);
	return n;
}

long long fmt_strtoll(const char *s, char **end)
{
	const char *p = s;
	unsigned long long v = 0, lim = LLONG_MAX;
	int neg = 0, any = 0, over = 0;

	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (neg)
		lim++; /* -LLONG_MIN */
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		any = 1;
		if (v > (lim - d) / 10)
			over = 1; /* the digits are still consumed */
		else
			v = v * 10 + d;
	}
	if (end)
		*end = (char *)(any ? p : s);
	if (over) {
		errno = ERANGE;
		return neg ? LLONG_MIN : LLONG_MAX;
	}
	if (neg && v)
		return -(long long)(v - 1) - 1;
	return (long long)v;
}

long fmt_strtol(const char *s, char **end)
{
	long long v = fmt_strtoll(s, end);

	if (v > LONG_MAX || v < LONG_MIN) { /* only where long is narrower */
		errno = ERANGE;
		return v > 0 ? LONG_MAX : LONG_MIN;
	}
	return (long)v;
}
