/*
 * test_fmt.c - fmt.c against the C library's snprintf: every conversion,
 * flag, width and precision the program uses (and the few more fmt.c
 * accepts), at extreme and random values, cut at every buffer size.
 */
#define _POSIX_C_SOURCE 200809L
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fmt.h"

/* Everything fmt_print wrote to a pipe (up to cap bytes). */
static size_t via_pipe(char *out, size_t cap, int *ret, const char *fmt,
		       va_list ap)
{
	int p[2];
	size_t n = 0;
	ssize_t k;

	if (pipe(p) < 0)
		return 0;
	*ret = fmt_vprint(p[1], fmt, ap);
	close(p[1]);
	while (n < cap && (k = read(p[0], out + n, cap - n)) > 0)
		n += (size_t)k;
	close(p[0]);
	return n;
}

/* fmt_vsnprintf == vsnprintf: the return value, the text, and at every
 * size from 0 to the length + 1 the cut text, its NUL and no byte past
 * the buffer (a guarded one: a write past it faults).  Also fmt_asprintf
 * and fmt_print. */
static void same_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void same_at(const char *file, int line, const char *fmt, ...)
{
	static char want[70000], got[70000];
	va_list ap, aq;
	int wn, gn;
	size_t sz;

	va_start(ap, fmt);
	va_copy(aq, ap);
	wn = vsnprintf(want, sizeof(want), fmt, aq);
	va_end(aq);
	va_copy(aq, ap);
	gn = fmt_vsnprintf(got, sizeof(got), fmt, aq);
	va_end(aq);
	if (wn < 0 || (size_t)wn >= sizeof(want)) {
		t_fail(file, line, "test bug: libc gave %d for \"%s\"", wn, fmt);
		goto out;
	}
	if (gn != wn || strcmp(got, want) != 0) {
		t_fail(file, line, "\"%s\": got %d \"%s\", libc %d \"%s\"", fmt,
		       gn, t_esc(got, strlen(got)), wn,
		       t_esc(want, strlen(want)));
		goto out;
	}
	va_copy(aq, ap);
	gn = fmt_vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (gn != wn)
		t_fail(file, line, "\"%s\": NULL, 0 gave %d, not %d", fmt, gn,
		       wn);
	/* every cut of a short output; of a long one, the first few and
	 * the last few */
	for (sz = 0; sz <= (size_t)wn + 1; sz++) {
		char *b;
		if (sz == 200 && (size_t)wn > 400)
			sz = (size_t)wn - 198;
		b = t_guarded_alloc(sz);
		if (sz)
			memset(b, 'Z', sz);
		va_copy(aq, ap);
		gn = fmt_vsnprintf(b, sz, fmt, aq);
		va_end(aq);
		if (gn != wn || (sz && (memcmp(b, want, sz - 1) != 0 ||
					b[sz - 1] != '\0')))
			t_fail(file, line, "\"%s\" cut at %zu: %d \"%s\"", fmt,
			       sz, gn, sz ? t_esc(b, strlen(b)) : "");
		t_guarded_free(b);
	}
	va_copy(aq, ap);
	sz = via_pipe(got, sizeof(got), &gn, fmt, aq);
	va_end(aq);
	if (gn != wn || sz != (size_t)wn || memcmp(got, want, sz) != 0)
		t_fail(file, line, "\"%s\": fmt_print %d, %zu bytes \"%s\"", fmt,
		       gn, sz, t_esc(got, sz));
out:
	va_end(ap);
}
#define SAME(...) same_at(__FILE__, __LINE__, __VA_ARGS__)

static const int ints[] = {INT_MIN, INT_MIN + 1, -1000000, -65536, -255,
			   -42, -10, -9, -1, 0, 1, 7, 9, 10, 42, 99, 100,
			   255, 256, 4095, 65535, 1000000, INT_MAX - 1,
			   INT_MAX};
static const long long lls[] = {LLONG_MIN, LLONG_MIN + 1, -4294967296LL,
				(long long)INT_MIN - 1, -999999999, -1, 0, 1,
				999999999, 1000000000, (long long)INT_MAX + 1,
				4294967296LL, LLONG_MAX - 1, LLONG_MAX};
static const unsigned long long ulls[] = {0, 1, 9, 10, 255, 256, 65535,
					  UINT_MAX, (unsigned long long)UINT_MAX + 1,
					  (unsigned long long)LLONG_MAX,
					  (unsigned long long)LLONG_MAX + 1,
					  ULLONG_MAX - 1, ULLONG_MAX};

/* the formats, as variables: the loops below pass them each value */
static const char *const int_fmts[] = {
	"%d", "%i", "%02d", "%04d", "%03d", "%09d", "%5d", "%-5d", "%05d",
	"%-05d", "%+d", "% d", "%+05d", "% 05d", "%.0d", "%.3d", "%8.3d",
	"%-8.3d", "%08.3d", "%.12d", "%1d", "%12d", "%-12d|", "%+ d",
	"%hhd", "%hd", "%hhi", "%hi", "x%dy%dz"};
static const char *const uint_fmts[] = {
	"%u", "%02u", "%10u", "%-10u|", "%x", "%X", "%02x", "%08x", "%-4x|",
	"%.0x", "%.5x", "%hhx", "%hx", "%hhu", "%hu", "%+u", "% x", "%02X"};

TEST(fmt_int_conversions_match_libc)
{
	size_t i, j;

	for (i = 0; i < T_ARRAY_LEN(int_fmts); i++)
		for (j = 0; j < T_ARRAY_LEN(ints); j++)
			SAME(int_fmts[i], ints[j], ints[(j + 1) %
							T_ARRAY_LEN(ints)]);
	for (i = 0; i < T_ARRAY_LEN(uint_fmts); i++)
		for (j = 0; j < T_ARRAY_LEN(ints); j++)
			SAME(uint_fmts[i], (unsigned)ints[j]);
}

TEST(fmt_long_conversions_match_libc)
{
	static const char *const lfmts[] = {"%ld", "%03ld", "%09ld", "%-20ld|",
					    "%+ld", "%.15ld", "%025ld"};
	static const char *const llfmts[] = {"%lld", "%020lld", "%-22lld|",
					     "% lld", "%+030lld", "%.21lld"};
	static const char *const ullfmts[] = {"%llu", "%llx", "%llX",
					      "%025llu", "%-21llu|", "%.22llx"};
	size_t i, j;

	for (i = 0; i < T_ARRAY_LEN(lfmts); i++)
		for (j = 0; j < T_ARRAY_LEN(lls); j++)
			SAME(lfmts[i], (long)lls[j]);
	for (i = 0; i < T_ARRAY_LEN(llfmts); i++)
		for (j = 0; j < T_ARRAY_LEN(lls); j++)
			SAME(llfmts[i], lls[j]);
	for (i = 0; i < T_ARRAY_LEN(ullfmts); i++)
		for (j = 0; j < T_ARRAY_LEN(ulls); j++)
			SAME(ullfmts[i], ulls[j]);
	for (j = 0; j < T_ARRAY_LEN(ulls); j++) {
		SAME("%lu %lx", (unsigned long)ulls[j], (unsigned long)ulls[j]);
		SAME("%zu|%5zu|%-5zu|%020zu|%zx", (size_t)ulls[j],
		     (size_t)ulls[j], (size_t)ulls[j], (size_t)ulls[j],
		     (size_t)ulls[j]);
	}
	SAME("%zu %zu %zu", (size_t)0, SIZE_MAX, SIZE_MAX / 2);
	SAME("%zd %zd %zd %zd", (size_t)0, (size_t)-1, SIZE_MAX / 2,
	     SIZE_MAX / 2 + 1);
	SAME("%lld %lld %llu", LLONG_MIN, LLONG_MAX, ULLONG_MAX);
}

TEST(fmt_random_integers_match_libc)
{
	struct t_rng r;
	int i;

	t_rng_seed(&r, t_seed(20240611));
	for (i = 0; i < 150; i++) {
		/* a random magnitude: uniform bits are all ~19 digits */
		unsigned long long u = t_rng_next(&r) >> t_rng_below(&r, 64);
		int w = (int)t_rng_below(&r, 30) - 5;
		int p = (int)t_rng_below(&r, 25) - 3;
		SAME("%d|%05d|%-7d|%u|%x", (int)u, -(int)(u & 0xffff),
		     (int)(u >> 3), (unsigned)u, (unsigned)u);
		SAME("%lld|%020lld|%llu|%llx|%zu", (long long)u,
		     -(long long)(u >> 1), u, u, (size_t)u);
		SAME("[%*d][%-*d][%0*d][%.*d][%*.*lld]", w, (int)u, w, (int)u, w,
		     -(int)u, p, (int)u, w, p, (long long)u);
		SAME("%02x%02x%02x%02x", (unsigned)(u & 0xff),
		     (unsigned)((u >> 8) & 0xff), (unsigned)((u >> 16) & 0xff),
		     (unsigned)(u >> 60));
	}
}

TEST(fmt_strings_and_chars_match_libc)
{
	static const char *const strs[] = {"", "a", "abc", "hello, world",
					   "sixty-four characters of text to "
					   "cut at every size from zero up",
					   "tab\there\nand newline", "%d %s %"};
	int precs[] = {-5, -1, 0, 1, 2, 3, 5, 12, 60, 1000};
	size_t i, j;

	for (i = 0; i < T_ARRAY_LEN(strs); i++) {
		const char *s = strs[i];
		int n = (int)strlen(s);
		SAME("%s", s);
		SAME("<%s>", s);
		SAME("%s/%s", s, s);
		SAME("%.3s|%.60s|%.127s|%.0s", s, s, s, s);
		SAME("%8s|%-8s|%1s|%-1s|", s, s, s, s);
		SAME("%10.2s|%-10.2s|", s, s);
		SAME("%.*s", n, s);
		SAME("%.*s", n / 2, s);
		for (j = 0; j < T_ARRAY_LEN(precs); j++) {
			SAME("%.*s", precs[j], s);
			SAME("[%*.*s]", precs[j], precs[j], s);
			SAME("[%-*s]", precs[j], s);
		}
	}
	/* %.*s over bytes with no NUL after them */
	{
		char *g = t_guarded_copy("abcdef", 6);
		char out[16];
		CHECK_EQ_INT(fmt_snprintf(out, sizeof(out), "%.*s", 6, g), 6);
		CHECK_EQ_STR(out, "abcdef");
		CHECK_EQ_INT(fmt_snprintf(out, sizeof(out), "%.4s", g), 4);
		CHECK_EQ_STR(out, "abcd");
		t_guarded_free(g);
	}
	for (i = 1; i < 256; i++)
		SAME("%c|%3c|%-3c|", (int)i, (int)i, (int)i);
	SAME("%c", 0); /* a NUL in the middle: the length counts it */
	SAME("a%cb", 0);
	SAME("%c%c", 'x' + 256, -1);
	SAME("100%% %d%%%s", 5, "%");
}

TEST(fmt_program_formats_match_libc)
{
	/* the program's own format strings, as written in src/ */
	SAME("%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", 2024, 1, 9, 0, 5,
	     59, 7L, "info");
	SAME("%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", 999, 12, 31, 23, 59,
	     60, 999L, "debug");
	SAME("%s/%s-%lld%09ld", "logs", "v1-chat", 1712345678LL, 5L);
	SAME("%s/%s-%lld%09ld", "logs", "root", 0LL, 999999999L);
	SAME("-%d.log", 7);
	SAME("%.*s/logs", 5, "/etc/cpa/config.ini");
	SAME("%s:%d: ", "config.ini", 12);
	SAME("%.*s: %s", 3, "abcdef", "x");
	SAME("%ld%c", 64L, 'K');
	SAME("%s, %.3s %02d %.3s %04d %02d:%02d:%02d GMT", "Thu", "Jan", 1,
	     "Feb", 1970, 0, 0, 0);
	SAME("\\u%04x", 0x1f);
	SAME("%zu bytes %u", (size_t)12345, 4000000000u);
	SAME("%llu", 18446744073709551615ULL);
}

TEST(fmt_null_string)
{
	const char *volatile nul = NULL;
	char b[32];

	CHECK_EQ_INT(fmt_snprintf(b, sizeof(b), "%s", nul), 6);
	CHECK_EQ_STR(b, "(null)");
	CHECK_EQ_INT(fmt_snprintf(b, sizeof(b), "[%8s]", nul), 10);
	CHECK_EQ_STR(b, "[  (null)]");
	CHECK_EQ_INT(fmt_snprintf(b, sizeof(b), "%.3s", nul), 3);
	CHECK_EQ_STR(b, "(nu");
	CHECK_EQ_INT(fmt_snprintf(b, 4, "%s", nul), 6);
	CHECK_EQ_STR(b, "(nu");
}

/* Conversions fmt.c does not do: the rest of the format comes out as it
 * is, and no argument is read (the %n target is never written). */
TEST(fmt_unknown_conversions_are_visible)
{
	char b[64];
	int n = 12345;
	const char *volatile trail = "ab%";
	const char *volatile bad = "%5%|%d";
	const char *volatile wide = "%99999999999d|";

	CHECK_EQ_INT(fmt_snprintf(b, sizeof(b), "x=%f y=%d", 1.5, 3), 9);
	CHECK_EQ_STR(b, "x=%f y=%d");
	CHECK_EQ_INT(fmt_snprintf(b, sizeof(b), "%d %n%d", 1, &n, 2), 6);
	CHECK_EQ_STR(b, "1 %n%d");
	CHECK_EQ_INT(n, 12345);
	fmt_snprintf(b, sizeof(b), "%p.", (void *)b);
	CHECK_EQ_STR(b, "%p.");
	fmt_snprintf(b, sizeof(b), "%#x %d", 255u, 1);
	CHECK_EQ_STR(b, "%#x %d");
	fmt_snprintf(b, sizeof(b), "%jd|%td|%Lf", (intmax_t)1, (ptrdiff_t)2,
		     (long double)3);
	CHECK_EQ_STR(b, "%jd|%td|%Lf");
	fmt_snprintf(b, sizeof(b), "%ls", (const wchar_t *)L"w");
	CHECK_EQ_STR(b, "%ls");
	fmt_snprintf(b, sizeof(b), trail);
	CHECK_EQ_STR(b, "ab%");
	fmt_snprintf(b, sizeof(b), bad, 7);
	CHECK_EQ_STR(b, "%5%|%d");
	/* a width too large to be one is not read as one */
	fmt_snprintf(b, sizeof(b), wide, 1);
	CHECK_EQ_STR(b, "%99999999999d|");
}

TEST(fmt_huge_widths)
{
	char b[8];
	/* variables: gcc's -Wformat-overflow sees the literals' sizes */
	const char *volatile two = "%*d%*d", *volatile one_s = "%*s";

	/* counted, not written (and quickly) */
	CHECK_EQ_INT(fmt_snprintf(b, sizeof(b), "%*d", 100000000, 5),
		     100000000);
	CHECK_EQ_STR(b, "       ");
	CHECK_EQ_INT(fmt_snprintf(b, sizeof(b), "%-*d|", INT_MAX - 2, 5),
		     INT_MAX - 1);
	CHECK_EQ_STR(b, "5      ");
	errno = 0;
	CHECK_EQ_INT(fmt_snprintf(b, sizeof(b), two, INT_MAX, 1,
				  INT_MAX, 2), -1);
	CHECK_EQ_INT(errno, EOVERFLOW);
	/* INT_MIN as a '*' width: left-aligned, INT_MAX wide */
	CHECK_EQ_INT(fmt_snprintf(b, sizeof(b), one_s, INT_MIN, "ab"),
		     INT_MAX);
	CHECK_EQ_STR(b, "ab     ");
}

TEST(fmt_asprintf_allocates_the_whole_text)
{
	char *s = NULL;
	char big[3000];

	CHECK_EQ_INT(fmt_asprintf(&s, "%s%.*s%s", "https://", 4, "host:443",
				  "/v1"),
		     15);
	CHECK_EQ_STR(s, "https://host/v1");
	free(s);
	s = NULL;
	CHECK_EQ_INT(fmt_asprintf(&s, "%s", ""), 0);
	CHECK_EQ_STR(s, "");
	free(s);
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ_INT(fmt_asprintf(&s, "%s/%s", big, big), 5999);
	CHECK(s && strlen(s) == 5999 && s[2999] == '/');
	free(s);
}

TEST(fmt_print_long_outputs_in_pieces)
{
	static char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	SAME("%s", big);
	SAME("[%3000d][%-2500s]", -1, "left");
	SAME("%s|%s|%s", big + 4000, big + 3000, big + 10);
}

/* A non-blocking pipe that fills: fmt_write waits and then finishes. */
TEST(fmt_write_waits_out_a_full_nonblocking_pipe)
{
	static char data[300000];
	int p[2], st = 0;
	pid_t pid;

	memset(data, 'w', sizeof(data));
	REQUIRE(pipe(p) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		char b[4096];
		size_t total = 0;
		ssize_t k;
		close(p[1]);
		poll(NULL, 0, 100);
		while ((k = read(p[0], b, sizeof(b))) > 0)
			total += (size_t)k;
		_exit(total == sizeof(data) ? 0 : 1);
	}
	close(p[0]);
	fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
	CHECK_EQ_INT(fmt_write(p[1], data, sizeof(data)), 0);
	close(p[1]);
	REQUIRE(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* fmt_strtoll / fmt_strtol == strtoll / strtol in base 10: value, end
 * and errno. */
static void same_num(const char *s)
{
	char *we, *ge;
	long long wv, gv;
	long wl, gl;
	int werr, gerr;

	errno = 0;
	wv = strtoll(s, &we, 10);
	werr = errno;
	errno = 0;
	gv = fmt_strtoll(s, &ge);
	gerr = errno;
	if (gv != wv || ge != we || gerr != werr)
		FAILF("fmt_strtoll(\"%s\"): %lld +%d errno %d, libc %lld +%d "
		      "errno %d", t_esc(s, strlen(s)), gv, (int)(ge - s), gerr,
		      wv, (int)(we - s), werr);
	errno = 0;
	wl = strtol(s, &we, 10);
	werr = errno;
	errno = 0;
	gl = fmt_strtol(s, &ge);
	gerr = errno;
	if (gl != wl || ge != we || gerr != werr)
		FAILF("fmt_strtol(\"%s\"): %ld errno %d, libc %ld errno %d",
		      t_esc(s, strlen(s)), gl, gerr, wl, werr);
	CHECK_EQ_INT(fmt_strtoll(s, NULL), wv);
}

TEST(fmt_strtoll_matches_libc)
{
	static const char *const strs[] = {
		"", " ", "+", "-", "+-1", "-+1", "--1", "0", "-0", "+0", "00012",
		"12abc", "  42", "\t\n\v\f\r 7", "\x1c" "5", "-17 ", "0x1f", "1e5",
		"3600", "86400s", "9223372036854775806", "9223372036854775807",
		"9223372036854775808", "9223372036854775809",
		"-9223372036854775807", "-9223372036854775808",
		"-9223372036854775809", "99999999999999999999999999x",
		"-99999999999999999999999999", "2147483647", "2147483648",
		"-2147483648", "-2147483649", "4294967296", "18446744073709551615",
		"18446744073709551616", "1 2", ".5", "٣"};
	struct t_rng r;
	size_t i;
	int k;

	for (i = 0; i < T_ARRAY_LEN(strs); i++)
		same_num(strs[i]);
	t_rng_seed(&r, t_seed(1003));
	for (k = 0; k < 3000; k++) {
		char s[40];
		size_t n = 0, len = t_rng_below(&r, 24);
		static const char alpha[] = "0123456789 +-x\t";
		while (n < len) {
			uint64_t x = t_rng_next(&r);
			s[n++] = x & 3 ? (char)('0' + (x >> 8) % 10)
				       : alpha[(x >> 8) % (sizeof(alpha) - 1)];
		}
		s[n] = '\0';
		same_num(s);
	}
}
