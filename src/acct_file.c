/*
 * acct_file.c - the reference's OAuth auth files: reading their fields
 * and patching changed ones back in (see acct_file.h for the formats).
 *
 * Reading.  The text is validated and tokenised once (json_parse); fields
 * are then looked up by name.  member() walks an object's members with
 * json_skip and keeps the last one whose *decoded* key matches, so a key
 * written with escapes ("access\u005ftoken") or twice reads as Go reads
 * it.  The reader keeps a sticky failure (struct rd): the first one (a
 * NUL in a string, out of memory) is kept, later steps do nothing, and
 * acct_parse checks once at the end.  A reason names a member, never a
 * value.
 *
 * Patching.  One update at a time, each one pass over the current text
 * that copies it with a few byte ranges (edits) changed:
 *
 *   text   {"a":1, "token":{"x":2}, "b":"old"}
 *   edits                   ^ add   ^^^^^ replace
 *   out    copy ........... new ... copy. new value copy
 *
 * Edits are member values of the root, members of the nested "token"
 * object (itself a root value, but never one being replaced: an update
 * named "token" skips the nested step) and at most one insertion point,
 * so they never overlap; sorted, they are applied in one sweep.  What
 * lies between edits is copied as is: unknown members, their order and
 * the file's spacing survive, and a new member borrows the spacing of its
 * object's last member.  Updates apply in order, each to the result of
 * the one before, so the second of two updates of one name wins.
 *
 * Invariants: every read is bounded by the text's length (jsmn spans of
 * a validated document; the time parser checks n before each field); the
 * strings handed out are NUL-terminated copies without inner NULs.
 */
#include "acct_file.h"

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "json.h"
#include "sizes.h"

/* ---- kinds ---------------------------------------------------------------- */

static const char *const kind_name[AK__COUNT] = {
	"gemini-cli", "codex", "claude", "qwen", "antigravity",
};
static const char *const kind_type[AK__COUNT] = {
	"gemini", "codex", "claude", "qwen", "antigravity",
};

const char *acct_kind_name(enum acct_kind k)
{
	return (unsigned)k < AK__COUNT ? kind_name[k] : "?";
}

const char *acct_kind_type(enum acct_kind k)
{
	return (unsigned)k < AK__COUNT ? kind_type[k] : "?";
}

/* ---- members -------------------------------------------------------------- */

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Is key token k a string whose decoded text is name? */
static int key_eq(const struct json *j, int k, const char *name)
{
	const char *raw = json_ptr(j, k);
	size_t n = json_len(j, k), nl = strlen(name);
	char tmp[64], *d;
	int dn, eq;

	if (j->tok[k].type != JSMN_STRING)
		return 0;
	if (!memchr(raw, '\\', n))
		return n == nl && memcmp(raw, name, n) == 0;
	/* Decoding never lengthens; room for nl + 4 bytes tells a longer
	 * key (json_unescape fails or returns more) from an equal one. */
	d = nl + 4 <= sizeof(tmp) ? tmp : malloc(nl + 4);
	if (!d)
		return 0;
	dn = json_unescape(raw, n, d, nl + 4);
	eq = dn >= 0 && (size_t)dn == nl && memcmp(d, name, nl) == 0;
	if (d != tmp)
		free(d);
	return eq;
}

/*
 * An object's members, in order:
 *   for (k = first_key(j, obj, &left); k >= 0; k = next_key(j, k, &left))
 * k is the key token, k + 1 its value.
 */
static int first_key(const struct json *j, int obj, int *left)
{
	if (obj < 0 || obj >= j->ntok || j->tok[obj].type != JSMN_OBJECT)
		return -1;
	*left = j->tok[obj].size;
	return *left > 0 && obj + 2 < j->ntok ? obj + 1 : -1;
}

static int next_key(const struct json *j, int k, int *left)
{
	int i = json_skip(j, k + 1);
	return --*left > 0 && i + 1 < j->ntok ? i : -1;
}

/* Value token of the last member name of object obj, or -1. */
static int member(const struct json *j, int obj, const char *name)
{
	int k, left, found = -1;

	for (k = first_key(j, obj, &left); k >= 0; k = next_key(j, k, &left))
		if (key_eq(j, k, name))
			found = k + 1;
	return found;
}

/* The nested token object: the last top-level "token", if an object. */
static int nested_token(const struct json *j)
{
	int t = member(j, 0, "token");
	return t >= 0 && j->tok[t].type == JSMN_OBJECT ? t : -1;
}

/* A string token decoded into b[0..cap) (NUL-terminated): 0 ok with *n,
 * -1 when i is not a string, is longer or holds a NUL. */
static int tok_text(const struct json *j, int i, char *b, size_t cap,
		    size_t *n)
{
	int dn = json_text(j, i, b, cap);

	if (dn < 0)
		return -1;
	*n = (size_t)dn;
	return 0;
}

/* Is token i the literal true? */
static int is_true(const struct json *j, int i)
{
	return i >= 0 && j->tok[i].type == JSMN_PRIMITIVE &&
	       json_len(j, i) == 4 && !memcmp(json_ptr(j, i), "true", 4);
}

/* String token i as a new C string; *out stays NULL when i is absent,
 * not a string or empty.  0 ok, -1 it holds a NUL, -2 out of memory. */
static int str_dup(const struct json *j, int i, char **out)
{
	size_t n;
	char *s;
	int dn;

	*out = NULL;
	if (i < 0 || j->tok[i].type != JSMN_STRING || json_len(j, i) == 0)
		return 0;
	n = json_len(j, i);
	s = malloc(n + 1); /* decoding never lengthens */
	if (!s)
		return -2;
	dn = json_unescape(json_ptr(j, i), n, s, n);
	if (dn < 0 || memchr(s, '\0', (size_t)dn)) {
		free(s);
		return dn < 0 ? 0 : -1;
	}
	s[dn] = '\0';
	*out = s;
	return 0;
}

/* ---- numbers, times, durations -------------------------------------------- */

/* Latest time kept: 9999-12-31T23:59:59Z (four-digit years, as RFC 3339). */
#define TIME_MAX 253402300799LL
/* Days from 0000-01-01 to 1970-01-01 (days_to_year(1970)). */
#define EPOCH_DAYS 719528LL

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* An unsigned decimal number s[0..n): digits with an optional fraction
 * and exponent ("1735689600", "1.5", "1.7e12", "5.", ".5").  0 ok with
 * *v (maybe infinite: callers check the range), -1 not a number. */
static int num_parse(const char *s, size_t n, double *v)
{
	size_t i = 0;
	double x = 0, scale = 0.1;
	int digits = 0, e = 0, eneg = 0;

	for (; i < n && is_digit(s[i]); i++, digits++)
		x = x * 10 + (s[i] - '0');
	if (i < n && s[i] == '.')
		for (i++; i < n && is_digit(s[i]); i++, digits++) {
			x += (s[i] - '0') * scale;
			scale /= 10;
		}
	if (!digits)
		return -1;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		if (i >= n || !is_digit(s[i]))
			return -1;
		for (; i < n && is_digit(s[i]); i++)
			if (e < 1000)
				e = e * 10 + (s[i] - '0');
	}
	if (i != n)
		return -1;
	for (; e > 0; e--)
		x = eneg ? x / 10 : x * 10;
	*v = x;
	return 0;
}

/* Token i as a number: a JSON number, or a string holding one. */
static int tok_num(const struct json *j, int i, double *v)
{
	char b[64];
	size_t n;

	if (i < 0)
		return -1;
	if (j->tok[i].type == JSMN_PRIMITIVE)
		return num_parse(json_ptr(j, i), json_len(j, i), v);
	if (tok_text(j, i, b, sizeof(b), &n) < 0)
		return -1;
	return num_parse(b, n, v);
}

/* Unix seconds from a count of seconds, or of milliseconds when over
 * 1e12; 0 ok, -1 out of range (before 1970-01-01T00:00:01Z, after
 * TIME_MAX). */
static int secs_of(double v, long long *out)
{
	if (!(v >= 1))
		return -1; /* NaN too */
	if (v > 1e12)
		v /= 1000;
	if (v > (double)TIME_MAX)
		return -1;
	*out = (long long)v;
	return 0;
}

/* Token i as a time: an RFC 3339 string, or a number (string). */
static int tok_time(const struct json *j, int i, long long *out)
{
	char b[128];
	size_t n;
	double v;

	if (i < 0)
		return -1;
	if (j->tok[i].type == JSMN_STRING) {
		if (tok_text(j, i, b, sizeof(b), &n) < 0)
			return -1;
		if (acct_time_parse(b, n, out) == 0)
			return *out >= 1 ? 0 : -1;
	}
	if (tok_num(j, i, &v) < 0)
		return -1;
	return secs_of(v, out);
}

/* The time of the first of keys in obj that holds one, or 0. */
static long long first_time(const struct json *j, int obj,
			    const char *const *keys)
{
	long long t;

	for (; *keys; keys++)
		if (tok_time(j, member(j, obj, *keys), &t) == 0)
			return t;
	return 0;
}

/* A Go duration s[0..n) ("90s", "1h30m", "1.5h", "300ms", "-5m", "0")
 * in seconds: 0 ok, -1 not one. */
static int go_duration(const char *s, size_t n, double *out)
{
	static const struct {
		const char *unit;
		double secs;
	} units[] = {
		{"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6},
		{"\xce\xbcs", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60},
		{"h", 3600},
	};
	size_t i = 0, k;
	double total = 0;
	int neg = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (n - i == 1 && s[i] == '0') {
		*out = 0;
		return 0;
	}
	if (i >= n)
		return -1;
	while (i < n) {
		size_t st = i;
		double v;
		while (i < n && (is_digit(s[i]) || s[i] == '.'))
			i++;
		if (num_parse(s + st, i - st, &v) < 0)
			return -1;
		st = i;
		while (i < n && !is_digit(s[i]) && s[i] != '.')
			i++;
		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++)
			if (strlen(units[k].unit) == i - st &&
			    !memcmp(s + st, units[k].unit, i - st))
				break;
		if (k == sizeof(units) / sizeof(units[0]))
			return -1;
		total += v * units[k].secs;
	}
	*out = neg ? -total : total;
	return 0;
}

/* Token i as a refresh interval in whole seconds (at least 1 when
 * positive, at most INT_MAX), or 0: a number of seconds, or a string
 * holding a Go duration or a number of seconds, blanks around it
 * ignored. */
static int tok_interval(const struct json *j, int i)
{
	char b[128], *p;
	size_t n;
	double v;

	if (i < 0)
		return 0;
	if (j->tok[i].type == JSMN_STRING) {
		if (tok_text(j, i, b, sizeof(b), &n) < 0)
			return 0;
		for (p = b; n && is_blank(*p); p++, n--)
			;
		while (n && is_blank(p[n - 1]))
			n--;
		if (go_duration(p, n, &v) < 0 && num_parse(p, n, &v) < 0)
			return 0;
	} else if (tok_num(j, i, &v) < 0) {
		return 0;
	}
	if (!(v > 0))
		return 0;
	if (v >= (double)INT_MAX)
		return INT_MAX;
	return v < 1 ? 1 : (int)v;
}

static int leap(long long y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/* Days from 0000-01-01 to January 1st of year y >= 0 (proleptic
 * Gregorian; year 0 is a leap year): the leap years before y are the
 * multiples of 4, less those of 100, plus those of 400. */
static long long days_to_year(long long y)
{
	return 365 * y + (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400;
}

/* Day of the year each month starts on, in a common year (index 12: the
 * year's length). */
static const short month_start[13] = {
	0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365,
};

/* Day of the year month mo (1..12) of year y starts on. */
static int month_first(long long y, int mo)
{
	return month_start[mo - 1] + (mo > 2 && leap(y));
}

static int month_days(long long y, int mo)
{
	return mo == 12 ? 31 : month_first(y, mo + 1) - month_first(y, mo);
}

/* k decimal digits at s[at..]: 0 ok with *v, -1 not digits. */
static int digits(const char *s, size_t at, size_t k, int *v)
{
	int x = 0;
	size_t i;

	for (i = 0; i < k; i++) {
		if (!is_digit(s[at + i]))
			return -1;
		x = x * 10 + (s[at + i] - '0');
	}
	*v = x;
	return 0;
}

/* see acct_file.h */
int acct_time_parse(const char *s, size_t n, long long *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	size_t i = 19;
	long long t;

	/* "YYYY-MM-DDThh:mm:ss" then a fraction and a zone */
	if (n < 20 || digits(s, 0, 4, &y) || s[4] != '-' ||
	    digits(s, 5, 2, &mo) || s[7] != '-' || digits(s, 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s, 11, 2, &h) || s[13] != ':' || digits(s, 14, 2, &mi) ||
	    s[16] != ':' || digits(s, 17, 2, &sec))
		return -1;
	if (s[i] == '.') {
		size_t st = ++i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == st)
			return -1;
	}
	if (i >= n)
		return -1;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '-' ? -1 : 1;
		if (n - i < 6 || digits(s, i + 1, 2, &oh) || s[i + 3] != ':' ||
		    digits(s, i + 4, 2, &om))
			return -1;
		i += 6;
	} else {
		return -1;
	}
	if (i != n || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59 ||
	    oh > 23 || om > 59)
		return -1;
	if (d < 1 || d > month_days(y, mo))
		return -1;
	t = days_to_year(y) - EPOCH_DAYS + month_first(y, mo) + d - 1;
	t = t * 86400 + h * 3600 + mi * 60 + sec;
	*out = t - sign * (oh * 3600 + om * 60);
	return 0;
}

/* v in decimal, at least w digits (zero-padded), at o; returns the end.
 * The longest a time gets is "-292277026596-12-04T15:30:08Z" (29 bytes
 * and a NUL, within the caller's 32). */
static char *put_dec(char *o, unsigned long long v, int w)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < w)
		tmp[n++] = '0';
	while (n)
		*o++ = tmp[--n];
	return o;
}

/* see acct_file.h */
void acct_time_format(long long t, char out[32])
{
	/* Days since 0000-01-01, then whole 400-year cycles (146097 days
	 * each) and the year within the cycle. */
	long long days = t / 86400, rem = t % 86400, cyc, r, y, yday;
	int mo, day;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	days += EPOCH_DAYS;
	cyc = days / 146097;
	r = days % 146097;
	if (r < 0) {
		r += 146097;
		cyc--;
	}
	for (y = r / 366; days_to_year(y + 1) <= r; y++)
		;
	yday = r - days_to_year(y);
	for (mo = 1; mo < 12 && yday >= month_first(y, mo + 1); mo++)
		;
	day = (int)(yday - month_first(y, mo) + 1);
	y += cyc * 400;
	if (y < 0)
		*out++ = '-';
	out = put_dec(out, (unsigned long long)(y < 0 ? -y : y), 4);
	*out++ = '-';
	out = put_dec(out, (unsigned)mo, 2);
	*out++ = '-';
	out = put_dec(out, (unsigned)day, 2);
	*out++ = 'T';
	out = put_dec(out, (unsigned long long)(rem / 3600), 2);
	*out++ = ':';
	out = put_dec(out, (unsigned long long)(rem / 60 % 60), 2);
	*out++ = ':';
	out = put_dec(out, (unsigned long long)(rem % 60), 2);
	*out++ = 'Z';
	*out = '\0';
}

/* ---- JWT claims (Codex id_token) ------------------------------------------ */

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (is_digit(c))
		return c - '0' + 52;
	if (c == '-' || c == '+')
		return 62;
	if (c == '_' || c == '/')
		return 63;
	return -1;
}

/* Decode base64url (standard base64 too) s[0..n), padding optional, into
 * out (room n / 4 * 3 + 2): the length, or -1. */
static long b64_decode(const char *s, size_t n, unsigned char *out)
{
	unsigned long acc = 0;
	size_t i, o = 0;
	int bits = 0;

	if (n >= 1 && s[n - 1] == '=')
		n--;
	if (n >= 1 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		int v = b64_val(s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)o;
}

/* ---- reading -------------------------------------------------------------- */

/* The reader's state: the document, its root and nested token object,
 * and the first failure (sticky). */
struct rd {
	const struct json *j;
	int tok;          /* nested "token" object, or -1 */
	const char *fail; /* reason, or NULL */
	char why[64];     /* a reason naming a member */
};

static void rd_oom(struct rd *r)
{
	if (!r->fail)
		r->fail = "out of memory";
}

/* String member name of obj into *dst, unless *dst is set already. */
static void rd_str(struct rd *r, int obj, const char *name, char **dst)
{
	int rc;

	if (r->fail || *dst)
		return;
	rc = str_dup(r->j, member(r->j, obj, name), dst);
	if (rc == -2) {
		rd_oom(r);
	} else if (rc == -1) {
		fmt_snprintf(r->why, sizeof(r->why), "'%s' holds a NUL character",
			     name);
		r->fail = r->why;
	}
}

/* The string fields: where each lives, and whether it may come from the
 * nested token object (TOK) and then marks the file nested (NEST). */
enum { F_TOK = 1, F_NEST = 2 };
static const struct {
	const char *name;
	size_t off;
	int how;
} str_fields[] = {
	{"access_token", offsetof(struct acct_fields, access_token),
	 F_TOK | F_NEST},
	{"refresh_token", offsetof(struct acct_fields, refresh_token),
	 F_TOK | F_NEST},
	{"id_token", offsetof(struct acct_fields, id_token), F_TOK},
	{"email", offsetof(struct acct_fields, email), 0},
	{"project_id", offsetof(struct acct_fields, project_id), 0},
	{"account_id", offsetof(struct acct_fields, account_id), 0},
	{"resource_url", offsetof(struct acct_fields, resource_url), 0},
	{"base_url", offsetof(struct acct_fields, base_url), 0},
	{"user_agent", offsetof(struct acct_fields, user_agent), 0},
	{"proxy_url", offsetof(struct acct_fields, proxy_url), 0},
	{"plan_type", offsetof(struct acct_fields, plan_type), 0},
	{"client_id", offsetof(struct acct_fields, client_id), F_TOK},
	{"client_secret", offsetof(struct acct_fields, client_secret), F_TOK},
	{"token_uri", offsetof(struct acct_fields, token_uri), F_TOK},
	{"prefix", offsetof(struct acct_fields, prefix), 0},
};
#define N_STR_FIELDS (sizeof(str_fields) / sizeof(str_fields[0]))

static char **field_at(struct acct_fields *f, size_t k)
{
	return (char **)(void *)((char *)f + str_fields[k].off);
}

static void rd_strings(struct rd *r, struct acct_fields *f)
{
	size_t k;

	for (k = 0; k < N_STR_FIELDS; k++) {
		char **dst = field_at(f, k);
		rd_str(r, 0, str_fields[k].name, dst);
		if (*dst || !(str_fields[k].how & F_TOK))
			continue;
		rd_str(r, r->tok, str_fields[k].name, dst);
		if (*dst && (str_fields[k].how & F_NEST))
			f->nested = 1;
	}
}

/* "type": one of the five.  Only a short plain word is quoted back. */
static void rd_kind(struct rd *r, struct acct_fields *f)
{
	char b[32];
	size_t n, i;
	int t = member(r->j, 0, "type"), k;

	if (t < 0) {
		r->fail = "no type";
		return;
	}
	if (tok_text(r->j, t, b, sizeof(b), &n) == 0)
		for (k = 0; k < AK__COUNT; k++)
			if (!strcmp(b, kind_type[k])) {
				f->kind = (enum acct_kind)k;
				return;
			}
	r->fail = "unknown type";
	if (r->j->tok[t].type != JSMN_STRING || json_len(r->j, t) == 0 ||
	    json_len(r->j, t) > 24)
		return;
	for (i = 0; i < json_len(r->j, t); i++) {
		char c = json_ptr(r->j, t)[i];
		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !is_digit(c) && c != '-' && c != '_' && c != '.')
			return;
	}
	fmt_snprintf(r->why, sizeof(r->why), "unknown type '%.*s'",
		     (int)json_len(r->j, t), json_ptr(r->j, t));
	r->fail = r->why;
}

static void rd_times(struct rd *r, struct acct_fields *f)
{
	static const char *const expiry_keys[] = {
		"expired", "expire", "expires_at", "expiresAt", "expiry",
		"expires", NULL,
	};
	static const char *const refresh_keys[] = {
		"last_refresh", "lastRefresh", "last_refreshed_at",
		"lastRefreshedAt", NULL,
	};
	static const char *const interval_keys[] = {
		"refresh_interval_seconds", "refreshIntervalSeconds",
		"refresh_interval", "refreshInterval", NULL,
	};
	const struct json *j = r->j;
	const char *const *k;

	f->expiry = first_time(j, 0, expiry_keys);
	if (!f->expiry)
		f->expiry = first_time(j, r->tok, expiry_keys);
	if (!f->expiry && f->kind == AK_ANTIGRAVITY) {
		double ts, in;
		long long s;
		if (tok_num(j, member(j, 0, "timestamp"), &ts) == 0 &&
		    secs_of(ts, &s) == 0 &&
		    tok_num(j, member(j, 0, "expires_in"), &in) == 0 &&
		    in >= 0 && in <= (double)(TIME_MAX - s))
			f->expiry = s + (long long)in;
	}
	f->last_refresh = first_time(j, 0, refresh_keys);
	for (k = interval_keys; *k && !f->refresh_interval_s; k++)
		f->refresh_interval_s = tok_interval(j, member(j, 0, *k));
}

/* A claim into *dst unless set: a NUL or a non-string leaves it NULL. */
static void rd_claim(struct rd *r, const struct json *c, int obj,
		     const char *name, char **dst)
{
	if (!*dst && str_dup(c, member(c, obj, name), dst) == -2)
		rd_oom(r);
}

/* Codex: email, account_id and plan_type the file lacks, from the
 * id_token's payload (header.payload.signature, no signature check). */
static void rd_codex_claims(struct rd *r, struct acct_fields *f)
{
	const char *p, *q;
	unsigned char *pl;
	struct json c;
	long pn;
	int rc;

	if (r->fail || f->kind != AK_CODEX || !f->id_token ||
	    (f->email && f->account_id && f->plan_type))
		return;
	if (!(p = strchr(f->id_token, '.')) || !(q = strchr(p + 1, '.')))
		return;
	p++;
	pl = malloc((size_t)(q - p) / 4 * 3 + 2);
	if (!pl) {
		rd_oom(r);
		return;
	}
	pn = b64_decode(p, (size_t)(q - p), pl);
	rc = pn > 0 ? json_parse(&c, (const char *)pl, (size_t)pn) : -1;
	if (rc == -2)
		rd_oom(r);
	if (rc == 0 && c.tok[0].type == JSMN_OBJECT) {
		int auth = member(&c, 0, "https://api.openai.com/auth");
		rd_claim(r, &c, 0, "email", &f->email);
		rd_claim(r, &c, auth, "chatgpt_account_id", &f->account_id);
		rd_claim(r, &c, auth, "chatgpt_plan_type", &f->plan_type);
	}
	if (rc == 0)
		json_free(&c);
	free(pl);
}

static int fail(char *err, size_t errlen, const char *why)
{
	if (errlen)
		fmt_snprintf(err, errlen, "%s", why);
	return -1;
}

/* see acct_file.h */
int acct_parse(const char *text, size_t len, struct acct_fields *f,
	       char *err, size_t errlen)
{
	struct json j;
	struct rd r;
	int rc;

	memset(f, 0, sizeof(*f));
	if (len > ACCT_FILE_MAX)
		return fail(err, errlen, "file too large");
	rc = json_parse(&j, text, len);
	if (rc == -2)
		return fail(err, errlen, "out of memory");
	if (rc < 0)
		return fail(err, errlen, "not valid JSON");
	if (j.tok[0].type != JSMN_OBJECT) {
		json_free(&j);
		return fail(err, errlen, "not a JSON object");
	}
	memset(&r, 0, sizeof(r));
	r.j = &j;
	r.tok = nested_token(&j);
	rd_kind(&r, f);
	if (!r.fail) {
		rd_strings(&r, f);
		f->disabled = is_true(&j, member(&j, 0, "disabled"));
		rd_times(&r, f);
		rd_codex_claims(&r, f);
	}
	if (!r.fail && !f->access_token && !f->refresh_token)
		r.fail = "no refresh_token or access_token";
	json_free(&j);
	if (r.fail) {
		acct_fields_free(f);
		return fail(err, errlen, r.fail);
	}
	return 0;
}

/* see acct_file.h */
void acct_fields_free(struct acct_fields *f)
{
	size_t k;

	for (k = 0; k < N_STR_FIELDS; k++)
		free(*field_at(f, k));
	memset(f, 0, sizeof(*f));
}

/* ---- patching ------------------------------------------------------------- */

/* One change of the current text: bytes [from, to) give way to the
 * update's value (obj < 0) or to a new member added to object obj. */
struct edit {
	size_t from, to;
	int obj;
};

/* Where value token i's text starts and ends (a string's with quotes). */
static size_t val_from(const struct json *j, int i)
{
	return (size_t)j->tok[i].start - (j->tok[i].type == JSMN_STRING);
}

static size_t val_to(const struct json *j, int i)
{
	return (size_t)j->tok[i].end + (j->tok[i].type == JSMN_STRING);
}

/* Key token of the last member of object obj, or -1 when it is empty. */
static int last_key(const struct json *j, int obj)
{
	int k, left, last = -1;

	for (k = first_key(j, obj, &left); k >= 0; k = next_key(j, k, &left))
		last = k;
	return last;
}

/* An edit replacing the value of every member name of obj. */
static void edit_values(const struct json *j, int obj, const char *name,
			struct edit *e, size_t *ne)
{
	int k, left;

	for (k = first_key(j, obj, &left); k >= 0; k = next_key(j, k, &left))
		if (key_eq(j, k, name)) {
			e[*ne].from = val_from(j, k + 1);
			e[*ne].to = val_to(j, k + 1);
			e[*ne].obj = -1;
			(*ne)++;
		}
}

/* An edit adding a member to obj: after its last value, or inside the
 * braces of an empty object. */
static void edit_add(const struct json *j, int obj, struct edit *e,
		     size_t *ne)
{
	int k = last_key(j, obj);

	e[*ne].from = e[*ne].to = k < 0 ? (size_t)j->tok[obj].start + 1
					 : val_to(j, k + 1);
	e[*ne].obj = obj;
	(*ne)++;
}

/* The new member, spaced like obj's last one: the blanks before its key
 * and the bytes from its key to its value (":" or " : "). */
static void put_member(struct buf *o, const struct json *j, int obj,
		       const struct acct_update *u)
{
	int k = last_key(j, obj);
	size_t q, b, colon;

	if (k >= 0) {
		q = (size_t)j->tok[k].start - 1; /* the key's opening quote */
		for (b = q; b > 0 && is_blank(j->js[b - 1]); b--)
			;
		colon = (size_t)j->tok[k].end + 1;
		buf_putc(o, ',');
		buf_put(o, j->js + b, q - b);
		buf_json_cstr(o, u->name);
		buf_put(o, j->js + colon, val_from(j, k + 1) - colon);
	} else {
		buf_json_cstr(o, u->name);
		buf_putc(o, ':');
	}
	buf_puts(o, u->json);
}

/* Members the nested token object gets even when it lacks them. */
static int token_member(const char *name)
{
	return !strcmp(name, "access_token") ||
	       !strcmp(name, "refresh_token") || !strcmp(name, "expiry") ||
	       !strcmp(name, "token_type");
}

static int by_from(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;
	return (x->from > y->from) - (x->from < y->from);
}

/* Apply one update to t[0..n), appending the result to o.  0 ok, -1 not
 * a JSON object, -2 out of memory. */
static int patch_one(const char *t, size_t n, const struct acct_update *u,
		     struct buf *o)
{
	struct json j;
	struct edit *e;
	size_t ne = 0, at = 0, i;
	int rc, nt;

	rc = json_parse(&j, t, n);
	if (rc < 0)
		return rc;
	if (j.tok[0].type != JSMN_OBJECT) {
		json_free(&j);
		return -1;
	}
	/* at most one edit per member, plus one addition */
	e = malloc(((size_t)j.ntok + 1) * sizeof(*e));
	if (!e) {
		json_free(&j);
		return -2;
	}
	edit_values(&j, 0, u->name, e, &ne);
	nt = strcmp(u->name, "token") ? nested_token(&j) : -1;
	if (nt >= 0) {
		size_t top = ne;
		edit_values(&j, nt, u->name, e, &ne);
		if (ne == top && token_member(u->name))
			edit_add(&j, nt, e, &ne);
	}
	if (ne == 0)
		edit_add(&j, 0, e, &ne);
	qsort(e, ne, sizeof(*e), by_from);
	for (i = 0; i < ne; i++) {
		buf_put(o, t + at, e[i].from - at);
		if (e[i].obj < 0)
			buf_puts(o, u->json);
		else
			put_member(o, &j, e[i].obj, u);
		at = e[i].to;
	}
	buf_put(o, t + at, n - at);
	free(e);
	json_free(&j);
	return 0;
}

/* see acct_file.h */
int acct_patch(const char *text, size_t len, const struct acct_update *u,
	       size_t nu, struct buf *out)
{
	static const char *const no_keys[] = {NULL};
	struct buf tmp[2];
	const char *cur = text;
	size_t n = len, i, off, vlen;
	int rc = 0;

	if (len > ACCT_FILE_MAX ||
	    json_scan_top(text, len, no_keys, &off, &vlen) < 0)
		return -1;
	for (i = 0; i < nu; i++)
		if (!u[i].name || !u[i].json ||
		    json_validate(u[i].json, strlen(u[i].json)) < 0)
			return -1;
	/* Each step writes the other buffer; jsmn offsets are ints. */
	buf_init(&tmp[0], INT_MAX / 2);
	buf_init(&tmp[1], INT_MAX / 2);
	for (i = 0; i < nu && rc == 0; i++) {
		struct buf *b = &tmp[i & 1];
		buf_reset(b);
		rc = patch_one(cur, n, &u[i], b);
		if (rc == 0 && b->overflow)
			rc = -2;
		cur = b->p;
		n = b->len;
	}
	if (rc == -2)
		out->overflow = 1;
	else if (rc == 0)
		buf_put(out, cur, n);
	buf_free(&tmp[0]);
	buf_free(&tmp[1]);
	return rc == -1 ? -1 : 0;
}
