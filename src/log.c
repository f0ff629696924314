/*
 * log.c - timestamped lines on stderr, written with one write() each so
 * lines from a crash handler or a child never interleave mid-line.
 */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"

static int debug_on, plain;

void log_set_debug(int on) { debug_on = on; }
void log_set_plain(int on) { plain = on; }
int log_debug_on(void) { return debug_on; }

void log_msg(enum log_level lv, const char *fmt, ...)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int k;
	va_list ap;

	if (plain) {
		/* syslog (logd, journald) stamps the time and the pid */
		k = fmt_snprintf(line, sizeof(line), "%s: ", names[lv]);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		/* fmt_snprintf, not strftime: it pulls musl's time zones */
		k = fmt_snprintf(line, sizeof(line),
				 "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
				 tm.tm_hour, tm.tm_min, tm.tm_sec,
				 ts.tv_nsec / 1000000, names[lv]);
	}
	n = (size_t)k;
	va_start(ap, fmt);
	k = fmt_vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (k < 0)
		k = 0;
	n += (size_t)k;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	/* Control characters from peers must not forge log lines. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = '?';
	line[n++] = '\n';
	(void)!write(2, line, n);
}
