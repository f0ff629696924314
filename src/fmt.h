/*
 * fmt.h - the printf subset this program uses, and output to a file
 * descriptor without stdio.  libc's printf family brought ~10 KB of code
 * into the static binary (most of it the floating-point conversions we
 * never use), and stdio's FILE machinery a few more.
 *
 * Conversions: d i u x X c s %.  Flags: - 0 + space.  Width and precision,
 * digits or '*' (a negative '*' width means '-'; a negative '*' precision
 * means none).  Length modifiers: hh h l ll z, on d i u x X.  %s of NULL
 * prints "(null)" (cut by a precision, like any string).  Anything else
 * (%f, %p, %n, '#', j t L, a width too large) is written out literally
 * from its '%' to the end of the format and no further argument is read,
 * so it shows in the output and never reads a wrong argument.
 *
 * The functions are declared with the format attribute: -Wformat checks
 * every call against its arguments, as it did libc's.
 */
#ifndef FMT_H
#define FMT_H

#include <stdarg.h>
#include <stddef.h>

/* C99 snprintf: returns the length the whole output has (not counting the
 * NUL), writes at most size-1 bytes and a NUL when size > 0; buf may be
 * NULL when size is 0.  -1 (errno EOVERFLOW) past INT_MAX. */
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* asprintf: *out is a new malloc'd string; returns its length, or -1
 * (then *out is untouched). */
int fmt_asprintf(char **out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Formatted output to fd, through a small stack buffer written whenever
 * it fills (so output of any length, in as few writes as fit).  Returns
 * the bytes formatted, or -1 if a write failed. */
int fmt_print(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int fmt_vprint(int fd, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Write all of p[0..n) to fd: short writes continued, EINTR retried,
 * EAGAIN (a non-blocking fd) waited out with poll().  0, or -1 (errno). */
int fmt_write(int fd, const void *p, size_t n);
/* fmt_write of a string, unformatted. */
int fmt_puts(int fd, const char *s);

/* strtoll(s, end, 10) and strtol(s, end, 10), with their results: white
 * space, a sign, digits; no digits: 0 and *end = s; out of range: the
 * limit and errno ERANGE; end may be NULL.  musl's read through a FILE
 * (__intscan, __shgetc, __uflow), which alone kept stdio's read side and
 * its exit-time flush in the static binary. */
long long fmt_strtoll(const char *s, char **end);
long fmt_strtol(const char *s, char **end);

#endif
