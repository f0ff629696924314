/*
 * apierr.c - error bodies per client format, and the upstream failure
 * rules (see apierr.h).
 */
#define _GNU_SOURCE
#include "apierr.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmt.h"
#include "http.h"
#include "hub.h"

const char *apierr_openai_type(int status)
{
	switch (status) {
	case 401: return "authentication_error";
	case 403: return "permission_error";
	case 404: return "not_found_error";
	case 429: return "rate_limit_error";
	default: return status >= 500 ? "server_error"
				      : "invalid_request_error";
	}
}

const char *apierr_openai_code(int status)
{
	switch (status) {
	case 401: return "invalid_api_key";
	case 403: return "permission_denied";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 408: return "request_timeout";
	case 413: return "request_too_large";
	case 429: return "rate_limit_exceeded";
	case 431: return "request_header_too_large";
	case 501: return "not_implemented";
	case 503: return "service_unavailable";
	default: return status >= 500 ? "server_error" : "invalid_request";
	}
}

const char *apierr_claude_type(int status)
{
	switch (status) {
	case 401: return "authentication_error";
	case 403: return "permission_error";
	case 404: return "not_found_error";
	case 413: return "request_too_large";
	case 429: return "rate_limit_error";
	case 503: case 529: return "overloaded_error";
	default: return status >= 500 ? "api_error" : "invalid_request_error";
	}
}

const char *apierr_google_status(int status)
{
	switch (status) {
	case 400: case 413: case 431: return "INVALID_ARGUMENT";
	case 401: return "UNAUTHENTICATED";
	case 403: return "PERMISSION_DENIED";
	case 404: return "NOT_FOUND";
	case 405: case 501: return "UNIMPLEMENTED";
	case 408: case 504: return "DEADLINE_EXCEEDED";
	case 429: return "RESOURCE_EXHAUSTED";
	case 502: case 503: return "UNAVAILABLE";
	default: return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
	}
}

void apierr_begin(struct buf *b, int fmt, int status)
{
	switch (fmt) {
	case HUB_CLAUDE:
		buf_puts(b, "{\"type\":\"error\",\"error\":{\"type\":\"");
		buf_puts(b, apierr_claude_type(status));
		buf_puts(b, "\",\"message\":");
		break;
	case HUB_GEMINI:
		buf_puts(b, "{\"error\":{\"code\":");
		buf_putu(b, (unsigned)status);
		buf_puts(b, ",\"message\":");
		break;
	default:
		buf_puts(b, "{\"error\":{\"message\":");
		break;
	}
}

void apierr_end(struct buf *b, int fmt, int status)
{
	switch (fmt) {
	case HUB_CLAUDE:
		buf_puts(b, "}}");
		break;
	case HUB_GEMINI:
		buf_puts(b, ",\"status\":\"");
		buf_puts(b, apierr_google_status(status));
		buf_puts(b, "\"}}");
		break;
	default:
		buf_puts(b, ",\"type\":\"");
		buf_puts(b, apierr_openai_type(status));
		buf_puts(b, "\",\"param\":null,\"code\":\"");
		buf_puts(b, apierr_openai_code(status));
		buf_puts(b, "\"}}");
		break;
	}
}

void apierr_render(struct buf *b, int fmt, int status, const char *msg)
{
	apierr_begin(b, fmt, status);
	buf_json_cstr(b, msg ? msg : "");
	apierr_end(b, fmt, status);
}

enum upfail upfail_of_status(int status)
{
	switch (status) {
	case 401: case 403: return UF_AUTH;
	case 429: return UF_QUOTA;
	case 408: case 500: case 502: case 503: case 504: case 529:
		return UF_SERVER;
	default: return UF_CLIENT;
	}
}

/*
 * What each failure means.  A DNS or TLS failure is the same for every
 * key of a provider (same host), so another attempt cannot help.  A
 * refused credential moves to the next key without using up a retry (the
 * exchange answers 503, or 502 for a provider without keys, when none is
 * left); a 429 does too when quota-exceeded.switch-project is on (the
 * exchange checks that), else it is relayed.
 */
static const struct uprule rules[UF__COUNT] = {
	[UF_DNS] = {UA_GIVE_UP, 0, 502},
	[UF_CONNECT] = {UA_RETRY, 1, 502},
	[UF_TLS] = {UA_GIVE_UP, 0, 502},
	[UF_TIMEOUT] = {UA_RETRY, 1, 504},
	[UF_AUTH] = {UA_NEXT, 0, 503},
	[UF_QUOTA] = {UA_NEXT, 0, 0},
	[UF_SERVER] = {UA_RETRY, 1, 0},
	[UF_CLIENT] = {UA_GIVE_UP, 0, 0},
};

const struct uprule *apierr_rule(enum upfail f)
{
	return &rules[f];
}

/* ---- quota reset times ------------------------------------------------------ */

/* Longest rest a reset may ask (a bad value must not park a credential
 * for days). */
#define RESET_MAX_MS (24LL * 3600 * 1000)

static long long clamp_reset(double ms)
{
	if (!(ms > 0))
		return 0;
	return ms > (double)RESET_MAX_MS ? RESET_MAX_MS : (long long)ms;
}

/* "12.5" as strtod reads digits and one '.' (a second '.' ends it), with
 * no strtod: it alone pulled musl's 6 KB float scanner into the binary. */
static double decimal(const char *s)
{
	double v = 0, scale = 1;
	int dot = 0;
	for (; *s; s++) {
		if (*s == '.' && !dot) {
			dot = 1;
		} else if (*s >= '0' && *s <= '9') {
			if (dot) {
				scale /= 10;
				v += (*s - '0') * scale;
			} else {
				v = v * 10 + (*s - '0');
			}
		} else {
			break;
		}
	}
	return v;
}

/* A number at p[0..n) (leading blanks and one quote skipped). */
static double num_at(const char *p, size_t n, const char **end)
{
	char tmp[32];
	size_t i = 0, k = 0;
	while (i < n && (p[i] == ' ' || p[i] == '"'))
		i++;
	while (i < n && k + 1 < sizeof(tmp) &&
	       ((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
		tmp[k++] = p[i++];
	tmp[k] = '\0';
	if (end)
		*end = p + i;
	return k ? decimal(tmp) : -1;
}

long long apierr_reset_head_ms(const struct http_response *res)
{
	const struct http_header *h;
	double v;

	if ((h = http_find_response_header(res, "retry-after-ms", NULL)) &&
	    (v = num_at(h->value, h->value_len, NULL)) > 0)
		return clamp_reset(v);
	if ((h = http_find_response_header(res, "retry-after", NULL)) &&
	    (v = num_at(h->value, h->value_len, NULL)) > 0)
		return clamp_reset(v * 1000);
	if ((h = http_find_response_header(
		     res, "anthropic-ratelimit-unified-reset", NULL)) &&
	    (v = num_at(h->value, h->value_len, NULL)) > 0)
		return clamp_reset((v - (double)time(NULL)) * 1000);
	return 0;
}

/* The value after "key": in a JSON text, as a number (a string of a
 * number counts). */
static double member_num(const char *b, size_t n, const char *key)
{
	char pat[40];
	int kl = fmt_snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = memmem(b, n, pat, (size_t)kl), *e = b + n;
	if (!p)
		return -1;
	for (p += kl; p < e && (*p == ' ' || *p == ':'); p++)
		;
	return num_at(p, (size_t)(e - p), NULL);
}

long long apierr_reset_body_ms(const char *body, size_t n)
{
	double v;
	if (!body || !n)
		return 0;
	if ((v = member_num(body, n, "retryDelay")) > 0)
		return clamp_reset(v * 1000);
	if ((v = member_num(body, n, "resets_in_seconds")) > 0)
		return clamp_reset(v * 1000);
	if ((v = member_num(body, n, "resets_at")) > 0)
		return clamp_reset((v - (double)time(NULL)) * 1000);
	return 0;
}
