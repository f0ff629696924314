/*
 * fmt.c - fuzz target: fmt_snprintf, fmt_strtoll / fmt_strtol and
 * netaddr_peer against the C library's snprintf, strtoll / strtol and
 * inet_ntop.
 *
 * Input: option bytes, then the data.
 *   byte 0: which format of the table below (mod its size); the formats
 *           are fixed (the program's own and every flag, width, precision
 *           and length fmt.c takes): a format string from the input
 *           would call for arguments nobody passed
 *   byte 1: the output room (0..255; 255 means the whole output + 1)
 *   then 4 bytes each: the integer arguments (sign-extended, and as
 *           64 bits two of them together), the '*' widths and precisions
 *           (-300..300), then the rest of the input: the string argument
 *           (cut at the first NUL), also read by fmt_strtoll
 * Checks: fmt_snprintf returns and writes what snprintf does at that
 * room (the buffer is of exactly that size); fmt_strtoll and fmt_strtol
 * give strtoll's and strtol's value, end and errno on the string;
 * netaddr_peer writes what inet_ntop gives for the first 16 data bytes
 * as an IPv6 address (not the deprecated IPv4-compatible ::a.b.c.d,
 * which glibc writes dotted) and for the first 4 as IPv4.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>

#include "fmt.h"
#include "fuzz.h"
#include "netaddr.h"

static size_t room_opt;

static void both(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void both(const char *fmt, ...)
{
	va_list ap, aq;
	char *want, *got;
	int wn, gn;
	size_t room, keep;

	va_start(ap, fmt);
	va_copy(aq, ap);
	wn = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	FZ_CHECK(wn >= 0);
	room = room_opt == 255 ? (size_t)wn + 1 : room_opt;
	want = malloc((size_t)wn + 1);
	got = room ? malloc(room) : NULL; /* exactly room: ASan sees past it */
	FZ_CHECK(want && (!room || got));
	va_copy(aq, ap);
	vsnprintf(want, (size_t)wn + 1, fmt, aq);
	va_end(aq);
	gn = fmt_vsnprintf(got, room, fmt, ap);
	va_end(ap);
	keep = room && room - 1 < (size_t)wn ? room - 1 : (size_t)wn;
	if (gn != wn ||
	    (room && (memcmp(got, want, keep) != 0 || got[keep] != '\0'))) {
		fprintf(stderr, "\"%s\" at room %zu: %d, libc %d \"%s\"\n", fmt,
			room, gn, wn, want);
		abort();
	}
	free(got);
	free(want);
}

/* The next 4 bytes as a signed 32-bit number (0 once the input ends). */
static int32_t next32(struct fz *f)
{
	uint32_t v = 0;
	int i;
	for (i = 0; i < 4; i++)
		v = v << 8 | fz_byte(f);
	return (int32_t)v;
}

static void numbers(const char *s)
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
	FZ_CHECK(gv == wv && ge == we && gerr == werr);
	errno = 0;
	wl = strtol(s, &we, 10);
	werr = errno;
	errno = 0;
	gl = fmt_strtol(s, &ge);
	gerr = errno;
	FZ_CHECK(gl == wl && ge == we && gerr == werr);
}

static void peers(const uint8_t *d, size_t n)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	char host[INET6_ADDRSTRLEN], want[80], got[80];
	static const uint8_t zero[12];

	if (n < 16)
		return;
	memset(&ss, 0, sizeof(ss));
	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(8317);
	memcpy(a6->sin6_addr.s6_addr, d, 16);
	if (!(memcmp(d, zero, 12) == 0 && (d[12] | d[13]))) {
		FZ_CHECK(inet_ntop(AF_INET6, d, host, sizeof(host)));
		if (!strncmp(host, "::ffff:", 7) && strchr(host, '.'))
			snprintf(want, sizeof(want), "%s:8317", host + 7);
		else
			snprintf(want, sizeof(want), "[%s]:8317", host);
		netaddr_peer(&ss, got, sizeof(got));
		FZ_CHECK(strcmp(got, want) == 0);
	}
	memset(&ss, 0, sizeof(ss));
	a4->sin_family = AF_INET;
	a4->sin_port = htons(1);
	memcpy(&a4->sin_addr, d, 4);
	FZ_CHECK(inet_ntop(AF_INET, d, host, sizeof(host)));
	snprintf(want, sizeof(want), "%s:1", host);
	netaddr_peer(&ss, got, sizeof(got));
	FZ_CHECK(strcmp(got, want) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	unsigned which = fz_byte(&f);
	int32_t a, b, c, w, p;
	long long ll;
	char *s;

	room_opt = fz_byte(&f);
	a = next32(&f);
	b = next32(&f);
	c = next32(&f);
	ll = (long long)((uint64_t)(uint32_t)a << 32 | (uint32_t)b);
	w = next32(&f) % 301;
	p = next32(&f) % 301;
	peers(f.p, f.n);
	s = fz_strdup(f.p, f.n);
	numbers(s);

	switch (which % 14) {
	case 0:
		both("%d|%i|%5d|%-5d|%05d|%+d|% d|%.3d|%8.3d|%.0d|%-+7d", a, a,
		     a, a, a, a, a, a, a, c, b);
		break;
	case 1:
		both("%ld %03ld %09ld %-20ld| %+.15ld", (long)ll, (long)a,
		     (long)b, (long)ll, (long)c);
		break;
	case 2:
		both("%lld %020lld %llu %llx %llX %-22llu|", ll, ll,
		     (unsigned long long)ll, (unsigned long long)ll,
		     (unsigned long long)ll, (unsigned long long)ll);
		break;
	case 3:
		both("%zu %5zu %zx %zd", (size_t)ll, (size_t)a, (size_t)ll,
		     (size_t)b);
		break;
	case 4:
		both("%u %x %X %02x %08x %.5x %hhx %hx %hhu %hu %hhd %hd",
		     (unsigned)a, (unsigned)a, (unsigned)b, (unsigned)a & 0xff,
		     (unsigned)c, (unsigned)b, (unsigned char)a,
		     (unsigned short)b, (unsigned char)c, (unsigned short)a,
		     (signed char)a, (short)b);
		break;
	case 5:
		both("[%*d][%-*d][%0*d][%.*d][%*.*lld][%-*.*u]", w, a, w, b, w,
		     c, p, a, w, p, ll, w, p, (unsigned)b);
		break;
	case 6:
		both("%s|%.*s|%*s|%-*.*s|", s, p, s, w, s, w, p, s);
		break;
	case 7:
		both("%.3s|%.60s|%.127s|%8s|%-8s|%.0s", s, s, s, s, s, s);
		break;
	case 8:
		both("%c%c%3c%-3c|", a, b, c, a);
		break;
	case 9:
		both("%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", a, b, c, a, b,
		     c, (long)w, s);
		break;
	case 10:
		both("%s/%s-%lld%09ld", s, s, ll, (long)c);
		break;
	case 11:
		both("%.*s: %s %ld%c", p, s, s, (long)a, b);
		break;
	case 12:
		both("100%% %d%%%s%%", a, s);
		break;
	default:
		both("\\u%04x %zu bytes %u %s", (unsigned)a & 0xffff, (size_t)b,
		     (unsigned)c, s);
		break;
	}
	free(s);
	return 0;
}
