/*
 * acct_file.c - fuzz target: acct_parse, acct_patch and the RFC 3339
 * helpers.
 *
 * Input: one option byte, then an auth file's text.  Option bits:
 *   0     the new tokens carry escapes ("\u00e9", "\"", "\\")
 *   1     also update "disabled" (to bit 2's value)
 *   3     also add an unknown member "fz_note" with an object value
 *   4     also update "expired" to 2030-01-01T00:00:00Z
 * Checks:
 *   - acct_parse returns 0 or -1; on -1 the reason is terminated and is
 *     one of the documented ones (only a short plain word is quoted), so
 *     it never shows a value of the file;
 *   - a parsed file has a known kind and an access or refresh token;
 *   - acct_patch with no updates copies the text; with updates it
 *     succeeds, and the result parses to the new tokens and disabled
 *     flag, every other field as before (expiry too, unless "expired" was
 *     updated while the file had it at top level: then the new time);
 *     patching the result again changes nothing;
 *   - acct_patch of a text that acct_parse refuses as "not valid JSON" or
 *     "not a JSON object" is refused and leaves its output untouched;
 *   - a text that acct_time_parse takes formats to a time that parses to
 *     the same instant, and any 8 bytes as a time format within 32 bytes.
 */
#include "acct_file.h"
#include "fuzz.h"
#include "json.h"
#include "sizes.h"

static const char *const field_names[] = {
	"access_token", "refresh_token", "id_token", "email", "project_id",
	"account_id", "resource_url", "base_url", "user_agent", "proxy_url",
	"plan_type", "client_id", "client_secret", "token_uri", "prefix", NULL,
};

static void check_reason(const char *err, size_t cap)
{
	static const char *const fixed[] = {
		"not valid JSON", "not a JSON object", "no type",
		"unknown type", "no refresh_token or access_token",
		"file too large", "out of memory", NULL,
	};
	static const char nul[] = "' holds a NUL character";
	size_t i, n;

	FZ_CHECK(memchr(err, '\0', cap) != NULL);
	for (i = 0; fixed[i]; i++)
		if (!strcmp(err, fixed[i]))
			return;
	n = strlen(err);
	if (!strncmp(err, "unknown type '", 14) && n >= 15 &&
	    err[n - 1] == '\'') {
		FZ_CHECK(n - 15 >= 1 && n - 15 <= 24);
		for (i = 14; i < n - 1; i++)
			FZ_CHECK(strchr("abcdefghijklmnopqrstuvwxyz"
					"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
					err[i]) && err[i] != '\0');
		return;
	}
	for (i = 0; field_names[i]; i++) {
		size_t k = strlen(field_names[i]);
		if (err[0] == '\'' && !strncmp(err + 1, field_names[i], k) &&
		    !strcmp(err + 1 + k, nul))
			return;
	}
	fprintf(stderr, "unexpected reason: %s\n", err);
	abort();
}

static const char *str_field(const struct acct_fields *f, int k)
{
	const char *v[] = {
		f->access_token, f->refresh_token, f->id_token, f->email,
		f->project_id, f->account_id, f->resource_url, f->base_url,
		f->user_agent, f->proxy_url, f->plan_type, f->client_id,
		f->client_secret, f->token_uri, f->prefix,
	};
	return v[k];
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Does the file have a top-level member spelled exactly "expired"? */
static int has_top_expired(const char *text, size_t n)
{
	struct json j;
	int found;

	if (json_parse(&j, text, n) != 0)
		return 0;
	found = j.tok[0].type == JSMN_OBJECT && json_get(&j, 0, "expired") > 0;
	json_free(&j);
	return found;
}

static void check_times(const uint8_t *p, size_t n)
{
	char *s = fz_dup(p, n), out[33];
	long long t, back;
	uint64_t raw = 0;
	size_t i;

	if (acct_time_parse(s, n, &t) == 0) {
		acct_time_format(t, out);
		FZ_CHECK(acct_time_parse(out, strlen(out), &back) == 0);
		FZ_CHECK(back == t);
	}
	for (i = 0; i < 8 && i < n; i++)
		raw = raw << 8 | p[i];
	memset(out, 'x', sizeof(out));
	acct_time_format((long long)raw, out);
	FZ_CHECK(memchr(out, '\0', 32) != NULL && out[32] == 'x');
	t = (long long)(raw % (253402300799ULL + 62167219201ULL)) -
	    62167219200LL;
	acct_time_format(t, out);
	FZ_CHECK(acct_time_parse(out, strlen(out), &back) == 0 && back == t);
	free(s);
}

/* Patch text with u[0..nu) into a fresh buffer; 0 ok. */
static int run_patch(const char *text, size_t n, const struct acct_update *u,
		     size_t nu, struct buf *b)
{
	int rc;

	buf_init(b, 4 * ACCT_FILE_MAX);
	rc = acct_patch(text, n, u, nu, b);
	FZ_CHECK(rc == 0 || rc == -1);
	FZ_CHECK(!b->overflow);
	if (rc < 0)
		FZ_CHECK(b->len == 0);
	return rc;
}

static void check_patch(const char *text, size_t n, unsigned opt,
			const struct acct_fields *f)
{
	struct acct_update u[5];
	struct acct_fields g;
	struct buf b, c;
	size_t nu = 0;
	char err[128];
	int k, expired = (opt & 16) && has_top_expired(text, n);
	const char *at = opt & 1 ? "\"fz-\\u00e9\\\"a\\\\b\"" : "\"fz-access\"";
	const char *at_s = opt & 1 ? "fz-\xc3\xa9\"a\\b" : "fz-access";

	u[nu].name = "access_token";
	u[nu++].json = at;
	u[nu].name = "refresh_token";
	u[nu++].json = "\"fz-refresh\"";
	if (opt & 2) {
		u[nu].name = "disabled";
		u[nu++].json = opt & 4 ? "true" : "false";
	}
	if (opt & 8) {
		u[nu].name = "fz_note";
		u[nu++].json = "{\"a\":[1,\"x\"]}";
	}
	if (opt & 16) {
		u[nu].name = "expired";
		u[nu++].json = "\"2030-01-01T00:00:00Z\"";
	}
	FZ_CHECK(run_patch(text, n, u, nu, &b) == 0);
	if (b.len > ACCT_FILE_MAX) {
		buf_free(&b);
		return;
	}
	if (acct_parse(b.p, b.len, &g, err, sizeof(err)) != 0) {
		fprintf(stderr, "patched file refused: %s\n", err);
		abort();
	}
	FZ_CHECK(g.kind == f->kind);
	FZ_CHECK(!strcmp(g.access_token, at_s));
	FZ_CHECK(!strcmp(g.refresh_token, "fz-refresh"));
	for (k = 2; field_names[k]; k++)
		FZ_CHECK(same_str(str_field(&g, k), str_field(f, k)));
	FZ_CHECK(g.disabled == (opt & 2 ? !!(opt & 4) : f->disabled));
	if (expired)
		FZ_CHECK(g.expiry == 1893456000);
	else if (!(opt & 16))
		FZ_CHECK(g.expiry == f->expiry);
	FZ_CHECK(g.last_refresh == f->last_refresh);
	FZ_CHECK(g.refresh_interval_s == f->refresh_interval_s);
	acct_fields_free(&g);

	/* the same updates again change nothing */
	FZ_CHECK(run_patch(b.p, b.len, u, nu, &c) == 0);
	FZ_CHECK(c.len == b.len && !memcmp(c.p, b.p, b.len));
	buf_free(&c);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = {data, size};
	unsigned opt = fz_byte(&in);
	char *text = fz_dup(in.p, in.n), err[128];
	struct acct_fields f;
	struct buf b;
	int rc, k;

	memset(err, 'x', sizeof(err));
	rc = acct_parse(text, in.n, &f, err, sizeof(err));
	FZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		FZ_CHECK((unsigned)f.kind < AK__COUNT);
		FZ_CHECK(f.access_token || f.refresh_token);
		for (k = 0; field_names[k]; k++) {
			const char *s = str_field(&f, k);
			FZ_CHECK(!s || (s[0] != '\0' && strlen(s) <= in.n));
		}
		FZ_CHECK(f.expiry >= 0 && f.last_refresh >= 0 &&
			 f.refresh_interval_s >= 0);
		/* no updates: the same bytes */
		FZ_CHECK(run_patch(text, in.n, NULL, 0, &b) == 0);
		FZ_CHECK(b.len == in.n && (in.n == 0 ||
					   !memcmp(b.p, text, in.n)));
		buf_free(&b);
		check_patch(text, in.n, opt, &f);
		acct_fields_free(&f);
	} else {
		check_reason(err, sizeof(err));
		if (!strcmp(err, "not valid JSON") ||
		    !strcmp(err, "not a JSON object")) {
			const struct acct_update u = {"a", "1"};
			FZ_CHECK(run_patch(text, in.n, &u, 1, &b) == -1);
			buf_free(&b);
		}
	}
	check_times(in.p, in.n);
	free(text);
	return 0;
}
