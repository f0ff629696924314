/*
 * test_acct_file.c - the reference's auth files: each type as the
 * reference writes it, every expiry spelling, the Codex JWT fallback, bad
 * files (whose reasons never show a token), RFC 3339 times, and patching
 * that changes the named members and keeps every other byte.
 *
 * Every input is parsed from a copy that ends at a guard page, so a read
 * past the length faults.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct_file.h"
#include "buf.h"
#include "sizes.h"
#include "t.h"

/* ---- helpers ---------------------------------------------------------------- */

static int parse(const char *js, struct acct_fields *f, char *err,
		 size_t errlen)
{
	size_t n = strlen(js);
	void *g = t_guarded_copy(js, n);
	int rc = acct_parse(g, n, f, err, errlen);
	t_guarded_free(g);
	return rc;
}

/* Parse js, which must succeed. */
static int parse_ok(const char *js, struct acct_fields *f)
{
	char err[128];
	if (parse(js, f, err, sizeof(err)) == 0)
		return 1;
	FAILF("refused (%s): %s", err, t_esc(js, strlen(js)));
	return 0;
}

/* A refused file: its reason holds fragment and not hidden. */
static void expect_bad(const char *js, const char *fragment,
		       const char *hidden)
{
	struct acct_fields f;
	char err[128];

	memset(err, 'x', sizeof(err));
	if (parse(js, &f, err, sizeof(err)) == 0) {
		FAILF("accepted %s", t_esc(js, strlen(js)));
		acct_fields_free(&f);
		return;
	}
	if (!memchr(err, '\0', sizeof(err)))
		FAILF("reason not terminated");
	else if (!strstr(err, fragment))
		FAILF("reason '%s' lacks '%s'", err, fragment);
	if (hidden && strstr(err, hidden))
		FAILF("reason '%s' shows the secret '%s'", err, hidden);
	CHECK(f.access_token == NULL && f.refresh_token == NULL &&
	      f.email == NULL);
}

/* Patch js, which must succeed; the result as a malloc'd C string. */
static char *patch(const char *js, const struct acct_update *u, size_t nu)
{
	size_t n = strlen(js);
	void *g = t_guarded_copy(js, n);
	struct buf b;
	char *s;
	int rc;

	buf_init(&b, 1 << 20);
	rc = acct_patch(g, n, u, nu, &b);
	t_guarded_free(g);
	if (rc != 0 || b.overflow) {
		FAILF("patch refused %s", t_esc(js, n));
		buf_free(&b);
		return NULL;
	}
	s = malloc(b.len + 1);
	if (b.len)
		memcpy(s, b.p, b.len);
	s[b.len] = '\0';
	buf_free(&b);
	return s;
}

static void expect_patch(const char *js, const struct acct_update *u,
			 size_t nu, const char *want)
{
	char *got = patch(js, u, nu);
	if (got)
		CHECK_EQ_STR(got, want);
	free(got);
}

/* base64url without padding, written independently of the decoder. */
static void b64url(const char *s, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				"0123456789-_";
	size_t n = strlen(s), i, o = 0;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16 |
			     (unsigned char)s[i + 1] << 8 |
			     (unsigned char)s[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned char)s[i] << 16;
		out[o++] = a[v >> 18];
		out[o++] = a[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned char)s[i] << 16 |
			     (unsigned char)s[i + 1] << 8;
		out[o++] = a[v >> 18];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
	}
	out[o] = '\0';
}

/* A Codex file whose id_token is header.<payload>.sig and whose other
 * members are extra (starting with ',' or empty). */
static void codex_with_jwt(char *out, size_t cap, const char *payload,
			   const char *extra)
{
	char p[1024];
	b64url(payload, p);
	snprintf(out, cap,
		 "{\"id_token\":\"eyJhbGciOiJSUzI1NiJ9.%s.c2ln\","
		 "\"access_token\":\"cx-access\",\"refresh_token\":"
		 "\"cx-refresh\",\"type\":\"codex\"%s}",
		 p, extra);
}

/* ---- the five types as the reference writes them ---------------------------- */

/* protocol.md 2.1: v5 Gemini CLI, tokens only in "token". */
static const char gemini_v5[] =
	"{\"token\":{\"access_token\":\"ya29.a0AfB_gem-access\","
	"\"token_type\":\"Bearer\",\"refresh_token\":\"1//0gem-refresh\","
	"\"expiry\":\"2025-09-01T12:34:56.123456789+02:00\","
	"\"expires_in\":3599,"
	"\"token_uri\":\"https://oauth2.googleapis.com/token\","
	"\"client_id\":\"681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps."
	"googleusercontent.com\","
	"\"client_secret\":\"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\","
	"\"scopes\":[\"https://www.googleapis.com/auth/cloud-platform\","
	"\"https://www.googleapis.com/auth/userinfo.email\","
	"\"https://www.googleapis.com/auth/userinfo.profile\"],"
	"\"universe_domain\":\"googleapis.com\"},"
	"\"project_id\":\"my-proj-123\",\"email\":\"user@example.com\","
	"\"auto\":false,\"checked\":true,\"type\":\"gemini\"}\n";

TEST(acct_reads_a_v5_gemini_file_with_nested_tokens)
{
	struct acct_fields f;
	REQUIRE(parse_ok(gemini_v5, &f));
	CHECK_EQ_INT(f.kind, AK_GEMINI_CLI);
	CHECK_EQ_STR(acct_kind_name(f.kind), "gemini-cli");
	CHECK_EQ_STR(f.access_token, "ya29.a0AfB_gem-access");
	CHECK_EQ_STR(f.refresh_token, "1//0gem-refresh");
	CHECK_EQ_INT(f.nested, 1);
	CHECK_EQ_INT(f.expiry, 1756722896); /* 10:34:56Z */
	CHECK_EQ_STR(f.token_uri, "https://oauth2.googleapis.com/token");
	CHECK_EQ_STR(f.client_id, "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j"
				  ".apps.googleusercontent.com");
	CHECK_EQ_STR(f.client_secret, "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");
	CHECK_EQ_STR(f.project_id, "my-proj-123");
	CHECK_EQ_STR(f.email, "user@example.com");
	CHECK(f.id_token == NULL && f.account_id == NULL &&
	      f.resource_url == NULL && f.prefix == NULL);
	CHECK_EQ_INT(f.disabled, 0);
	CHECK_EQ_INT(f.last_refresh, 0);
	CHECK_EQ_INT(f.refresh_interval_s, 0);
	acct_fields_free(&f);
	CHECK(f.access_token == NULL && f.email == NULL);
}

/* providers-2026.md 4: v6 writes the tokens flat and nested; the flat
 * ones win, and an empty flat one falls back to the nested one.  The
 * "-all.json" multi-project form keeps its comma list. */
TEST(acct_reads_a_v6_gemini_file_flat_tokens_first)
{
	static const char v6[] =
		"{\n  \"access_token\": \"flat-access\",\n"
		"  \"auto\": false,\n  \"checked\": true,\n"
		"  \"email\": \"user@example.com\",\n"
		"  \"expiry\": \"2026-03-11T10:00:00Z\",\n"
		"  \"project_id\": \"proj-a,proj-b,proj-c\",\n"
		"  \"refresh_token\": \"\",\n"
		"  \"token\": {\n    \"access_token\": \"old-access\",\n"
		"    \"expiry\": \"2025-01-01T00:00:00Z\",\n"
		"    \"refresh_token\": \"nested-refresh\",\n"
		"    \"token_type\": \"Bearer\"\n  },\n"
		"  \"token_type\": \"Bearer\",\n  \"type\": \"gemini\"\n}\n";
	struct acct_fields f;

	REQUIRE(parse_ok(v6, &f));
	CHECK_EQ_STR(f.access_token, "flat-access");
	CHECK_EQ_STR(f.refresh_token, "nested-refresh");
	CHECK_EQ_INT(f.nested, 1); /* the refresh token came from "token" */
	CHECK_EQ_INT(f.expiry, 1773223200); /* the top-level expiry */
	CHECK_EQ_STR(f.project_id, "proj-a,proj-b,proj-c");
	acct_fields_free(&f);

	REQUIRE(parse_ok("{\"type\":\"gemini\",\"access_token\":\"a\","
			 "\"refresh_token\":\"r\",\"token\":{\"access_token\":"
			 "\"n\",\"refresh_token\":\"m\"}}", &f));
	CHECK_EQ_STR(f.access_token, "a");
	CHECK_EQ_STR(f.refresh_token, "r");
	CHECK_EQ_INT(f.nested, 0);
	acct_fields_free(&f);
}

/* protocol.md 2.3, providers-2026.md 3. */
TEST(acct_reads_a_codex_file)
{
	static const char js[] =
		"{\"id_token\":\"eyJhbGciOiJSUzI1NiJ9.e30.c2ln\","
		"\"access_token\":\"eyJ-codex-access\","
		"\"refresh_token\":\"rt_codex-refresh\","
		"\"account_id\":\"5f8e-acct\","
		"\"last_refresh\":\"2026-03-01T10:00:00Z\","
		"\"email\":\"coder@example.com\",\"type\":\"codex\","
		"\"expired\":\"2026-03-11T10:00:00Z\",\"disabled\":false}";
	struct acct_fields f;

	REQUIRE(parse_ok(js, &f));
	CHECK_EQ_INT(f.kind, AK_CODEX);
	CHECK_EQ_STR(acct_kind_name(f.kind), "codex");
	CHECK_EQ_STR(f.id_token, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
	CHECK_EQ_STR(f.access_token, "eyJ-codex-access");
	CHECK_EQ_STR(f.refresh_token, "rt_codex-refresh");
	CHECK_EQ_STR(f.account_id, "5f8e-acct");
	CHECK_EQ_STR(f.email, "coder@example.com");
	CHECK(f.plan_type == NULL); /* the JWT payload {} has none */
	CHECK_EQ_INT(f.last_refresh, 1772359200);
	CHECK_EQ_INT(f.expiry, 1773223200);
	CHECK_EQ_INT(f.nested, 0);
	CHECK_EQ_INT(f.disabled, 0);
	acct_fields_free(&f);
}

/* protocol.md 2.4, providers-2026.md 2.3: id_token is written empty. */
TEST(acct_reads_a_claude_file)
{
	static const char js[] =
		"{\n  \"id_token\": \"\",\n"
		"  \"access_token\": \"sk-ant-oat01-claude-access\",\n"
		"  \"refresh_token\": \"sk-ant-ort01-claude-refresh\",\n"
		"  \"last_refresh\": \"2026-12-03T17:21:51+00:00\",\n"
		"  \"email\": \"claude@example.com\",\n"
		"  \"account_uuid\": \"0a1b2c3d-0000-4000-8000-000000000001\",\n"
		"  \"organization_uuid\": \"0a1b2c3d-0000-4000-8000-000000000002\",\n"
		"  \"organization_name\": \"Household\",\n"
		"  \"claude_device_ids\": [\"00112233445566778899aabbccddeeff"
		"00112233445566778899aabbccddeeff\"],\n"
		"  \"type\": \"claude\",\n"
		"  \"expired\": \"2026-12-04T01:21:51+08:00\",\n"
		"  \"disabled\": true,\n  \"proxy_url\": \"socks5://10.0.0.2:1080\"\n}";
	struct acct_fields f;

	REQUIRE(parse_ok(js, &f));
	CHECK_EQ_INT(f.kind, AK_CLAUDE);
	CHECK_EQ_STR(acct_kind_name(f.kind), "claude");
	CHECK(f.id_token == NULL);
	CHECK_EQ_STR(f.access_token, "sk-ant-oat01-claude-access");
	CHECK_EQ_STR(f.refresh_token, "sk-ant-ort01-claude-refresh");
	CHECK_EQ_STR(f.email, "claude@example.com");
	CHECK_EQ_STR(f.proxy_url, "socks5://10.0.0.2:1080");
	CHECK_EQ_INT(f.last_refresh, 1796318511);
	CHECK_EQ_INT(f.expiry, 1796318511); /* 01:21:51+08:00 = 17:21:51Z */
	CHECK_EQ_INT(f.disabled, 1);
	acct_fields_free(&f);
}

/* protocol.md 2.5. */
TEST(acct_reads_a_qwen_file)
{
	static const char js[] =
		"{\"access_token\":\"qwen-access\",\"refresh_token\":"
		"\"qwen-refresh\",\"last_refresh\":\"2026-03-01T10:00:00Z\","
		"\"resource_url\":\"portal.qwen.ai\",\"email\":"
		"\"qwen-1712345678901\",\"type\":\"qwen\","
		"\"expired\":\"2026-03-01T16:00:00+06:00\"}";
	struct acct_fields f;

	REQUIRE(parse_ok(js, &f));
	CHECK_EQ_INT(f.kind, AK_QWEN);
	CHECK_EQ_STR(acct_kind_name(f.kind), "qwen");
	CHECK_EQ_STR(f.resource_url, "portal.qwen.ai");
	CHECK_EQ_STR(f.email, "qwen-1712345678901");
	CHECK_EQ_INT(f.expiry, 1772359200);
	CHECK_EQ_INT(f.last_refresh, 1772359200);
	acct_fields_free(&f);
}

/* providers-2026.md 1.8, with the optional members. */
TEST(acct_reads_an_antigravity_file)
{
	static const char js[] =
		"{\"type\":\"antigravity\",\"access_token\":\"ya29.ag-access\","
		"\"refresh_token\":\"1//ag-refresh\",\"expires_in\":3599,"
		"\"timestamp\":1767225600000,"
		"\"expired\":\"2026-01-01T00:59:59Z\","
		"\"email\":\"ag@example.com\",\"project_id\":\"ag-proj-1\","
		"\"base_url\":\"https://daily-cloudcode-pa.example.com\","
		"\"user_agent\":\"antigravity/1.11.5 linux/amd64\","
		"\"proxy_url\":\"http://proxy.lan:3128\",\"disabled\":true,"
		"\"prefix\":\"team-a\",\"priority\":2,\"note\":\"spare\"}";
	struct acct_fields f;

	REQUIRE(parse_ok(js, &f));
	CHECK_EQ_INT(f.kind, AK_ANTIGRAVITY);
	CHECK_EQ_STR(acct_kind_name(f.kind), "antigravity");
	CHECK_EQ_STR(f.access_token, "ya29.ag-access");
	CHECK_EQ_STR(f.refresh_token, "1//ag-refresh");
	CHECK_EQ_INT(f.expiry, 1767229199);
	CHECK_EQ_STR(f.email, "ag@example.com");
	CHECK_EQ_STR(f.project_id, "ag-proj-1");
	CHECK_EQ_STR(f.base_url, "https://daily-cloudcode-pa.example.com");
	CHECK_EQ_STR(f.user_agent, "antigravity/1.11.5 linux/amd64");
	CHECK_EQ_STR(f.proxy_url, "http://proxy.lan:3128");
	CHECK_EQ_STR(f.prefix, "team-a");
	CHECK_EQ_INT(f.disabled, 1);
	acct_fields_free(&f);
}

/* Without an expiry key: timestamp (unix ms) + expires_in (s). */
TEST(acct_antigravity_expiry_from_timestamp_and_expires_in)
{
	struct acct_fields f;

	REQUIRE(parse_ok("{\"type\":\"antigravity\",\"access_token\":\"a\","
			 "\"expires_in\":3599,\"timestamp\":1767225600000}",
			 &f));
	CHECK_EQ_INT(f.expiry, 1767225600 + 3599);
	acct_fields_free(&f);
	/* an expiry key wins over them */
	REQUIRE(parse_ok("{\"type\":\"antigravity\",\"access_token\":\"a\","
			 "\"expires_in\":3599,\"timestamp\":1767225600000,"
			 "\"expired\":\"2026-01-01T00:00:10Z\"}", &f));
	CHECK_EQ_INT(f.expiry, 1767225610);
	acct_fields_free(&f);
	/* half of the pair is no expiry */
	REQUIRE(parse_ok("{\"type\":\"antigravity\",\"access_token\":\"a\","
			 "\"timestamp\":1767225600000}", &f));
	CHECK_EQ_INT(f.expiry, 0);
	acct_fields_free(&f);
	/* other types do not read the pair */
	REQUIRE(parse_ok("{\"type\":\"qwen\",\"access_token\":\"a\","
			 "\"expires_in\":3599,\"timestamp\":1767225600000}",
			 &f));
	CHECK_EQ_INT(f.expiry, 0);
	acct_fields_free(&f);
}

TEST(acct_kind_names_and_types)
{
	static const char *const names[] = {"gemini-cli", "codex", "claude",
					    "qwen", "antigravity"};
	static const char *const types[] = {"gemini", "codex", "claude",
					    "qwen", "antigravity"};
	int k;

	for (k = 0; k < AK__COUNT; k++) {
		char js[128];
		struct acct_fields f;
		CHECK_EQ_STR(acct_kind_name((enum acct_kind)k), names[k]);
		CHECK_EQ_STR(acct_kind_type((enum acct_kind)k), types[k]);
		snprintf(js, sizeof(js),
			 "{\"type\":\"%s\",\"refresh_token\":\"r\"}", types[k]);
		if (!parse_ok(js, &f))
			continue;
		CHECK_EQ_INT(f.kind, k);
		CHECK(f.access_token == NULL);
		CHECK_EQ_STR(f.refresh_token, "r");
		acct_fields_free(&f);
	}
	CHECK_EQ_STR(acct_kind_name(AK__COUNT), "?");
	CHECK_EQ_STR(acct_kind_name((enum acct_kind)-1), "?");
}

/* ---- expiry spellings --------------------------------------------------------- */

TEST(acct_reads_every_expiry_spelling_top_level_and_nested)
{
	static const char *const keys[] = {"expired", "expire", "expires_at",
					   "expiresAt", "expiry", "expires"};
	size_t k;

	for (k = 0; k < T_ARRAY_LEN(keys); k++) {
		char js[256];
		struct acct_fields f;

		snprintf(js, sizeof(js),
			 "{\"type\":\"codex\",\"access_token\":\"a\","
			 "\"%s\":\"2026-06-30T12:00:00Z\"}", keys[k]);
		if (parse_ok(js, &f)) {
			if (f.expiry != 1782820800)
				FAILF("%s: %lld", keys[k], f.expiry);
			acct_fields_free(&f);
		}
		snprintf(js, sizeof(js),
			 "{\"type\":\"gemini\",\"token\":{\"access_token\":"
			 "\"a\",\"%s\":1782820800}}", keys[k]);
		if (parse_ok(js, &f)) {
			if (f.expiry != 1782820800)
				FAILF("nested %s: %lld", keys[k], f.expiry);
			acct_fields_free(&f);
		}
	}
}

TEST(acct_expiry_key_order_and_fallthrough)
{
	struct acct_fields f;

	/* "expired" comes before "expiry", wherever each sits */
	REQUIRE(parse_ok("{\"type\":\"codex\",\"access_token\":\"a\","
			 "\"expiry\":\"2026-07-15T09:30:00Z\","
			 "\"expired\":\"2026-06-30T12:00:00Z\"}", &f));
	CHECK_EQ_INT(f.expiry, 1782820800);
	acct_fields_free(&f);
	/* top level before "token" */
	REQUIRE(parse_ok("{\"type\":\"gemini\",\"token\":{\"access_token\":"
			 "\"a\",\"expired\":\"2026-07-15T09:30:00Z\"},"
			 "\"expires\":\"2026-06-30T12:00:00Z\"}", &f));
	CHECK_EQ_INT(f.expiry, 1782820800);
	acct_fields_free(&f);
	/* a value that is no time passes to the next key */
	REQUIRE(parse_ok("{\"type\":\"codex\",\"access_token\":\"a\","
			 "\"expired\":\"soon\",\"expire\":null,"
			 "\"expires_at\":-5,\"expiresAt\":{},"
			 "\"expiry\":\"2026-07-15T09:30:00Z\"}", &f));
	CHECK_EQ_INT(f.expiry, 1784107800);
	acct_fields_free(&f);
	/* none that reads: unknown */
	REQUIRE(parse_ok("{\"type\":\"codex\",\"access_token\":\"a\","
			 "\"expired\":\"2026-02-30T00:00:00Z\"}", &f));
	CHECK_EQ_INT(f.expiry, 0);
	acct_fields_free(&f);
}

TEST(acct_expiry_numbers_seconds_or_milliseconds)
{
	static const struct {
		const char *v;
		long long want;
	} c[] = {
		{"1782820800", 1782820800},
		{"1782820800123", 1782820800},      /* ms, over 1e12 */
		{"1782820800.75", 1782820800},      /* fraction dropped */
		{"1.7828208e9", 1782820800},
		{"1.782820800999e12", 1782820800},
		{"\"1782820800\"", 1782820800},     /* a number in a string */
		{"\"1782820800123\"", 1782820800},
		{"253402300799", 253402300799LL},   /* 9999-12-31T23:59:59Z */
		{"253402300800", 0},                /* past that, not yet ms */
		{"0", 0},
		{"-1782820800", 0},
		{"1e400", 0},
		{"true", 0},
	};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(c); i++) {
		char js[160];
		struct acct_fields f;
		snprintf(js, sizeof(js),
			 "{\"type\":\"claude\",\"access_token\":\"a\","
			 "\"expired\":%s}", c[i].v);
		if (!parse_ok(js, &f))
			continue;
		if (f.expiry != c[i].want)
			FAILF("%s: %lld, want %lld", c[i].v, f.expiry,
			      c[i].want);
		acct_fields_free(&f);
	}
}

TEST(acct_last_refresh_and_refresh_interval)
{
	static const struct {
		const char *member;
		int want;
	} c[] = {
		{"\"refresh_interval_seconds\":300", 300},
		{"\"refresh_interval_seconds\":300.9", 300},
		{"\"refresh_interval_seconds\":\"300\"", 300},
		{"\"refresh_interval_seconds\":\" 5m \"", 300},
		{"\"refresh_interval\":\"1h30m\"", 5400},
		{"\"refresh_interval\":\"1.5h\"", 5400},
		{"\"refresh_interval\":\"90s\"", 90},
		{"\"refresh_interval\":\"500ms\"", 1},
		{"\"refreshInterval\":45", 45},
		{"\"refreshIntervalSeconds\":46", 46},
		{"\"refresh_interval\":\"-5m\"", 0},
		{"\"refresh_interval\":\"0\"", 0},
		{"\"refresh_interval\":\"5x\"", 0},
		{"\"refresh_interval\":\"m\"", 0},
		{"\"refresh_interval\":1e30", INT_MAX},
		{"\"refresh_interval\":true", 0},
		/* the first key with a positive value counts */
		{"\"refresh_interval\":60,\"refresh_interval_seconds\":0", 60},
		{"\"refresh_interval\":60,\"refresh_interval_seconds\":30", 30},
	};
	struct acct_fields f;
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(c); i++) {
		char js[200];
		snprintf(js, sizeof(js),
			 "{\"type\":\"qwen\",\"access_token\":\"a\",%s}",
			 c[i].member);
		if (!parse_ok(js, &f))
			continue;
		if (f.refresh_interval_s != c[i].want)
			FAILF("%s: %d, want %d", c[i].member,
			      f.refresh_interval_s, c[i].want);
		acct_fields_free(&f);
	}
	REQUIRE(parse_ok("{\"type\":\"qwen\",\"access_token\":\"a\","
			 "\"lastRefresh\":\"2026-03-01T10:00:00Z\"}", &f));
	CHECK_EQ_INT(f.last_refresh, 1772359200);
	acct_fields_free(&f);
	REQUIRE(parse_ok("{\"type\":\"qwen\",\"access_token\":\"a\","
			 "\"last_refresh\":1772359200000}", &f));
	CHECK_EQ_INT(f.last_refresh, 1772359200);
	acct_fields_free(&f);
}

/* ---- Codex JWT fallback -------------------------------------------------------- */

TEST(acct_codex_reads_missing_email_and_account_from_the_jwt)
{
	/* made with Python's base64.urlsafe_b64encode, padding stripped */
	static const char js[] =
		"{\"id_token\":\"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9."
		"eyJlbWFpbCI6Imp3dEBleGFtcGxlLmNvbSIsImh0dHBzOi8vYXBpLm9wZW5h"
		"aS5jb20vYXV0aCI6eyJjaGF0Z3B0X2FjY291bnRfaWQiOiJhY2N0LWp3dC03"
		"IiwiY2hhdGdwdF9wbGFuX3R5cGUiOiJwbHVzIiwiY2hhdGdwdF91c2VyX2lk"
		"IjoidXNlci14In0sImV4cCI6MTc2NzIyNTYwMH0.c2lnbmF0dXJl\","
		"\"access_token\":\"a\",\"refresh_token\":\"r\","
		"\"type\":\"codex\"}";
	struct acct_fields f;

	REQUIRE(parse_ok(js, &f));
	CHECK_EQ_STR(f.email, "jwt@example.com");
	CHECK_EQ_STR(f.account_id, "acct-jwt-7");
	CHECK_EQ_STR(f.plan_type, "plus");
	acct_fields_free(&f);
}

TEST(acct_codex_file_members_win_over_the_jwt)
{
	char js[2048];
	struct acct_fields f;

	codex_with_jwt(js, sizeof(js),
		       "{\"email\":\"jwt@x\",\"https://api.openai.com/auth\":"
		       "{\"chatgpt_account_id\":\"jwt-acct\","
		       "\"chatgpt_plan_type\":\"team\"}}",
		       ",\"email\":\"file@x\",\"account_id\":\"\"");
	REQUIRE(parse_ok(js, &f));
	CHECK_EQ_STR(f.email, "file@x");
	CHECK_EQ_STR(f.account_id, "jwt-acct"); /* empty in the file */
	CHECK_EQ_STR(f.plan_type, "team");
	acct_fields_free(&f);

	/* escaped slashes in the claim's key, padding kept */
	REQUIRE(parse_ok("{\"id_token\":\"h.eyJlbWFpbCI6InBhZEBleGFtcGxlLmNv"
			 "bSIsImh0dHBzOlwvXC9hcGkub3BlbmFpLmNvbVwvYXV0aCI6eyJj"
			 "aGF0Z3B0X2FjY291bnRfaWQiOiJhY2N0LXBhZCJ9fQ==.s\","
			 "\"access_token\":\"a\",\"type\":\"codex\"}", &f));
	CHECK_EQ_STR(f.email, "pad@example.com");
	CHECK_EQ_STR(f.account_id, "acct-pad");
	CHECK(f.plan_type == NULL);
	acct_fields_free(&f);

	/* only Codex files look into the JWT */
	REQUIRE(parse_ok("{\"id_token\":\"h.eyJlbWFpbCI6InBhZEBleGFtcGxlLmNv"
			 "bSJ9.s\",\"access_token\":\"a\",\"type\":\"claude\"}",
			 &f));
	CHECK(f.email == NULL);
	acct_fields_free(&f);
}

TEST(acct_codex_malformed_jwt_leaves_fields_unset)
{
	static const char *const bad[] = {
		"no-dots-at-all",
		"one.dot",
		"h.!!!!.s",                  /* not base64 */
		"h.e.s",                     /* 1 char: no whole byte */
		"h.WzEsMl0.s",               /* [1,2] */
		"h.eyJlbWFpbCI6.s",          /* {"email": cut */
		"h.eyJlbWFpbCI6MX0.s",       /* {"email":1} */
		"h..s",                      /* empty payload */
		"h.eyJlbWFpbCI6ImFcdTAwMDBiIn0.s", /* {"email":"a\u0000b"} */
	};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(bad); i++) {
		char js[256];
		struct acct_fields f;
		snprintf(js, sizeof(js),
			 "{\"id_token\":\"%s\",\"access_token\":\"a\","
			 "\"type\":\"codex\"}", bad[i]);
		if (!parse_ok(js, &f))
			continue;
		if (f.email || f.account_id || f.plan_type)
			FAILF("%s gave fields", bad[i]);
		CHECK_EQ_STR(f.id_token, bad[i]);
		acct_fields_free(&f);
	}
}

/* ---- strings ------------------------------------------------------------------ */

TEST(acct_unescapes_strings_and_keys)
{
	struct acct_fields f;

	REQUIRE(parse_ok("{\"type\":\"qwen\",\"access\\u005ftoken\":"
			 "\"a\\\"b\\\\c\\/d\\n\",\"email\":"
			 "\"\\ud83d\\ude00\\u00e9@x\",\"prefix\":\"\\ud800z\"}",
			 &f));
	CHECK_EQ_STR(f.access_token, "a\"b\\c/d\n");
	CHECK_EQ_STR(f.email, "\xf0\x9f\x98\x80\xc3\xa9@x");
	CHECK_EQ_STR(f.prefix, "\xef\xbf\xbdz"); /* lone surrogate: U+FFFD */
	acct_fields_free(&f);
}

TEST(acct_last_of_a_repeated_member_counts)
{
	struct acct_fields f;

	REQUIRE(parse_ok("{\"type\":\"claude\",\"type\":\"qwen\","
			 "\"access_token\":\"first\",\"access_token\":\"second\"}",
			 &f));
	CHECK_EQ_INT(f.kind, AK_QWEN);
	CHECK_EQ_STR(f.access_token, "second");
	acct_fields_free(&f);
	/* the last "token" is the nested object, here not an object */
	REQUIRE(parse_ok("{\"type\":\"gemini\",\"refresh_token\":\"r\","
			 "\"token\":{\"access_token\":\"n\"},\"token\":1}", &f));
	CHECK(f.access_token == NULL);
	acct_fields_free(&f);
}

TEST(acct_disabled_only_when_true)
{
	static const struct {
		const char *v;
		int want;
	} c[] = {{"true", 1}, {"false", 0}, {"\"true\"", 0}, {"1", 0},
		 {"null", 0}};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(c); i++) {
		char js[128];
		struct acct_fields f;
		snprintf(js, sizeof(js),
			 "{\"type\":\"codex\",\"access_token\":\"a\","
			 "\"disabled\":%s}", c[i].v);
		if (!parse_ok(js, &f))
			continue;
		if (f.disabled != c[i].want)
			FAILF("disabled %s: %d", c[i].v, f.disabled);
		acct_fields_free(&f);
	}
}

/* ---- bad files ------------------------------------------------------------------ */

TEST(acct_refuses_bad_files_without_showing_tokens)
{
	static const char secret[] = "sk-ant-oat01-SECRETSECRETSECRET";
	char js[512];

	expect_bad("", "not valid JSON", NULL);
	expect_bad("{\"type\":\"codex\",\"access_token\":\"sk-ant-oat01-"
		   "SECRETSECRETSECRET\"", "not valid JSON", secret);
	expect_bad("[{\"type\":\"codex\",\"access_token\":\"sk-ant-oat01-"
		   "SECRETSECRETSECRET\"}]", "not a JSON object", secret);
	expect_bad("\"sk-ant-oat01-SECRETSECRETSECRET\"", "not a JSON object",
		   secret);
	expect_bad("42", "not a JSON object", NULL);
	expect_bad("{\"access_token\":\"sk-ant-oat01-SECRETSECRETSECRET\"}",
		   "no type", secret);
	expect_bad("{\"type\":\"gemini-cli\",\"access_token\":\"sk-ant-oat01-"
		   "SECRETSECRETSECRET\"}", "unknown type 'gemini-cli'", secret);
	expect_bad("{\"type\":\"Codex\",\"access_token\":\"x\"}",
		   "unknown type 'Codex'", NULL);
	/* a type that could be anything is not quoted */
	expect_bad("{\"type\":\"sk-ant-oat01-SECRETSECRETSECRET\"}",
		   "unknown type", secret);
	expect_bad("{\"type\":\"a b\",\"access_token\":\"x\"}", "unknown type",
		   "a b");
	expect_bad("{\"type\":7,\"access_token\":\"x\"}", "unknown type",
		   NULL);
	expect_bad("{\"type\":\"\",\"access_token\":\"x\"}", "unknown type",
		   "''");
	expect_bad("{\"type\":\"codex\",\"id_token\":\"sk-ant-oat01-SECRET"
		   "SECRETSECRET\",\"email\":\"e@x\"}",
		   "no refresh_token or access_token", secret);
	expect_bad("{\"type\":\"gemini\",\"access_token\":\"\","
		   "\"refresh_token\":null,\"token\":{\"access_token\":7}}",
		   "no refresh_token or access_token", NULL);
	expect_bad("{\"type\":\"codex\",\"access_token\":\"sk-ant-oat01-"
		   "SECRET\\u0000SECRETSECRET\"}",
		   "'access_token' holds a NUL character", "SECRET");
	expect_bad("{\"type\":\"codex\",\"access_token\":\"a\",\"email\":"
		   "\"a\\u0000b\"}", "'email' holds a NUL", NULL);
	snprintf(js, sizeof(js), "{\"type\":\"qwen\",\"access_token\":\"%s\"}"
		 " x", secret);
	expect_bad(js, "not valid JSON", secret);
}

TEST(acct_refuses_a_file_over_the_limit)
{
	size_t n = ACCT_FILE_MAX + 1;
	char *big = malloc(n + 1);
	const char head[] = "{\"type\":\"qwen\",\"access_token\":\"a\",\"x\":\"";
	struct acct_fields f;
	char err[64];

	REQUIRE(big != NULL);
	memset(big, 'a', n);
	memcpy(big, head, sizeof(head) - 1);
	big[n - 2] = '"';
	big[n - 1] = '}';
	big[n] = '\0';
	CHECK_EQ_INT(parse(big, &f, err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "file too large");
	/* one byte less is read */
	big[n - 3] = '"';
	big[n - 2] = '}';
	big[n - 1] = '\0';
	if (CHECK_EQ_INT(parse(big, &f, err, sizeof(err)), 0))
		acct_fields_free(&f);
	free(big);
}

TEST(acct_reason_fits_any_buffer)
{
	struct acct_fields f;
	char err[8];

	CHECK_EQ_INT(parse("[]", &f, err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "not a J");
	CHECK_EQ_INT(parse("[]", &f, NULL, 0), -1);
}

/* Every prefix of each sample and random byte changes: no crash, no read
 * past the end (guard page), and a result that either frees or holds
 * nothing. */
TEST(acct_survives_prefixes_and_mutations)
{
	static const char *const samples[] = {gemini_v5,
		"{\"type\":\"codex\",\"id_token\":\"h.eyJlbWFpbCI6InBhZEBleGFtcGxl"
		"LmNvbSJ9.s\",\"access_token\":\"a\",\"expired\":"
		"\"2026-03-11T10:00:00.5-01:30\",\"refresh_interval\":\"1h\"}",
		"{\"type\":\"antigravity\",\"access_token\":\"a\",\"expires_in\":"
		"3599,\"timestamp\":1767225600000}"};
	struct t_rng r;
	size_t s, n, k;

	t_rng_seed(&r, t_seed(7));
	for (s = 0; s < T_ARRAY_LEN(samples); s++) {
		size_t len = strlen(samples[s]);
		for (n = 0; n <= len; n++) {
			struct acct_fields f;
			char *g = t_guarded_copy(samples[s], n);
			if (acct_parse(g, n, &f, NULL, 0) == 0)
				acct_fields_free(&f);
			t_guarded_free(g);
		}
		for (k = 0; k < 3000; k++) {
			struct acct_fields f;
			char *g = t_guarded_copy(samples[s], len);
			size_t m, flips = 1 + t_rng_below(&r, 4);
			for (m = 0; m < flips; m++)
				g[t_rng_below(&r, len)] =
					"\"\\{}[]:,0u.-eT+Z \x00\xff"
					[t_rng_below(&r, 20)];
			if (acct_parse(g, len, &f, NULL, 0) == 0)
				acct_fields_free(&f);
			t_guarded_free(g);
		}
	}
}

/* ---- RFC 3339 ---------------------------------------------------------------------- */

TEST(acct_time_parse_accepts_rfc3339)
{
	static const struct {
		const char *s;
		long long t;
	} c[] = {
		{"1970-01-01T00:00:00Z", 0},
		{"1969-12-31T23:59:59Z", -1},
		{"2026-12-03T17:21:51Z", 1796318511},
		{"2026-12-03t17:21:51z", 1796318511},
		{"2026-12-03 17:21:51Z", 1796318511},
		{"2026-12-03T17:21:51.999999999Z", 1796318511},
		{"2026-12-03T17:21:51.1Z", 1796318511},
		{"2026-12-03T17:21:51+00:00", 1796318511},
		{"2026-12-03T17:21:51-00:00", 1796318511},
		{"2026-05-20T08:00:00+05:30", 1779244200},
		{"2026-05-20T08:00:00-08:00", 1779292800},
		{"2026-05-20T08:00:00.25-08:00", 1779292800},
		{"2024-02-29T23:59:59Z", 1709251199},
		{"2000-02-29T00:00:00Z", 951782400},
		{"2100-03-01T00:00:00Z", 4107542400LL},
		{"0001-01-01T00:00:00Z", -62135596800LL},
		{"0000-01-01T00:00:00Z", -62167219200LL},
		{"9999-12-31T23:59:59Z", 253402300799LL},
		{"2026-01-01T00:30:00+23:59", 1767225600 + 1800 - 86340},
	};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(c); i++) {
		long long t = 12345;
		void *g = t_guarded_copy(c[i].s, strlen(c[i].s));
		if (acct_time_parse(g, strlen(c[i].s), &t) != 0)
			FAILF("refused %s", c[i].s);
		else if (t != c[i].t)
			FAILF("%s: %lld, want %lld", c[i].s, t, c[i].t);
		t_guarded_free(g);
	}
}

TEST(acct_time_parse_refuses_what_is_not_rfc3339)
{
	static const char *const bad[] = {
		"", "2026-12-03", "2026-12-03T17:21:51", "2026-12-03T17:21Z",
		"2026-12-03T17:21:51.Z", "2026-12-03T17:21:51ZZ",
		"2026-12-03T17:21:51+0100", "2026-12-03T17:21:51+01",
		"2026-12-03T17:21:51+01:00x", "2026-12-03T17:21:51 Z",
		"2026-12-03X17:21:51Z", "2026/12/03T17:21:51Z",
		"26-12-03T17:21:51Z", "2026-13-03T17:21:51Z",
		"2026-00-03T17:21:51Z", "2026-12-00T17:21:51Z",
		"2026-12-32T17:21:51Z", "2026-04-31T00:00:00Z",
		"2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
		"2100-02-29T00:00:00Z", "2026-12-03T24:00:00Z",
		"2026-12-03T23:60:00Z", "2026-12-03T23:59:60Z",
		"2026-12-03T17:21:51+24:00", "2026-12-03T17:21:51+01:60",
		"-026-12-03T17:21:51Z", "2026-1a-03T17:21:51Z",
		"+2026-12-03T17:21:51Z", "2026-12-03T17:21:5",
	};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(bad); i++) {
		long long t;
		void *g = t_guarded_copy(bad[i], strlen(bad[i]));
		if (acct_time_parse(g, strlen(bad[i]), &t) == 0)
			FAILF("accepted '%s' as %lld", bad[i], t);
		t_guarded_free(g);
	}
	/* every prefix of a valid time but itself is refused, past n unread */
	{
		static const char s[] = "2026-05-20T08:00:00.25-08:00";
		size_t n;
		for (n = 0; n < sizeof(s) - 1; n++) {
			long long t;
			void *g = t_guarded_copy(s, n);
			int rc = acct_time_parse(g, n, &t);
			t_guarded_free(g);
			/* "...:00.2" and "...:00.25" are no times either */
			if (rc == 0)
				FAILF("accepted prefix %zu", n);
		}
	}
}

TEST(acct_time_format_and_round_trips)
{
	static const struct {
		long long t;
		const char *s;
	} c[] = {
		{0, "1970-01-01T00:00:00Z"},
		{-1, "1969-12-31T23:59:59Z"},
		{1796318511, "2026-12-03T17:21:51Z"},
		{951782400, "2000-02-29T00:00:00Z"},
		{951868800, "2000-03-01T00:00:00Z"},
		{1709251199, "2024-02-29T23:59:59Z"},
		{4107542399LL, "2100-02-28T23:59:59Z"},
		{4107542400LL, "2100-03-01T00:00:00Z"},
		{-62167219200LL, "0000-01-01T00:00:00Z"},
		{-62135596800LL, "0001-01-01T00:00:00Z"},
		{253402300799LL, "9999-12-31T23:59:59Z"},
		{253402300800LL, "10000-01-01T00:00:00Z"},
		{-62167219201LL, "-0001-12-31T23:59:59Z"},
	};
	struct t_rng r;
	char out[32];
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(c); i++) {
		long long t;
		acct_time_format(c[i].t, out);
		CHECK_EQ_STR(out, c[i].s);
		if (c[i].t >= -62167219200LL && c[i].t <= 253402300799LL) {
			CHECK_EQ_INT(acct_time_parse(out, strlen(out), &t), 0);
			CHECK_EQ_INT(t, c[i].t);
		}
	}
	/* the extremes fit the 32 bytes */
	memset(out, 'x', sizeof(out));
	acct_time_format(LLONG_MIN, out);
	CHECK(memchr(out, '\0', sizeof(out)) != NULL);
	CHECK(out[0] == '-' && out[strlen(out) - 1] == 'Z');
	acct_time_format(LLONG_MAX, out);
	CHECK(memchr(out, '\0', sizeof(out)) != NULL);
	/* random instants over the whole four-digit range, and every day
	 * around the 2100 and 2000 February ends */
	t_rng_seed(&r, t_seed(11));
	for (i = 0; i < 200000; i++) {
		long long t = (long long)(t_rng_next(&r) %
					  (253402300799ULL + 62167219201ULL)) -
			      62167219200LL, back;
		acct_time_format(t, out);
		if (acct_time_parse(out, strlen(out), &back) != 0 || back != t) {
			FAILF("%lld -> %s -> %lld", t, out, back);
			break;
		}
	}
	for (i = 0; i < 4 * 366; i++) {
		long long t = 946684800LL + (long long)i * 86400, back;
		acct_time_format(t, out);
		if (acct_time_parse(out, strlen(out), &back) != 0 || back != t)
			FAILF("day %zu: %s", i, out);
	}
	/* parse then format normalises the zone to Z */
	{
		long long t;
		REQUIRE(acct_time_parse("2026-12-04T01:21:51.5+08:00", 27, &t) ==
			0);
		acct_time_format(t, out);
		CHECK_EQ_STR(out, "2026-12-03T17:21:51Z");
	}
}

/* ---- patching ------------------------------------------------------------------- */

TEST(acct_patch_replaces_in_place_and_keeps_unknown_members)
{
	static const char js[] =
		"{\"id_token\":\"old-id\",\"access_token\":\"old-access\","
		"\"refresh_token\":\"old-refresh\",\"account_id\":\"acct\","
		"\"last_refresh\":\"2026-03-01T10:00:00Z\",\"x-unknown\":"
		"{\"keep\":[1, 2.50, \"\\u00e9\"]},\"email\":\"a@b\","
		"\"type\":\"codex\",\"expired\":\"2026-03-11T10:00:00Z\"}\n";
	const struct acct_update u[] = {
		{"access_token", "\"new-access\""},
		{"refresh_token", "\"new-refresh\""},
		{"expired", "\"2026-04-01T00:00:00Z\""},
		{"last_refresh", "\"2026-03-31T23:00:00Z\""},
	};
	char *out;
	struct acct_fields f;

	expect_patch(js, u, T_ARRAY_LEN(u),
		     "{\"id_token\":\"old-id\",\"access_token\":\"new-access\","
		     "\"refresh_token\":\"new-refresh\",\"account_id\":\"acct\","
		     "\"last_refresh\":\"2026-03-31T23:00:00Z\",\"x-unknown\":"
		     "{\"keep\":[1, 2.50, \"\\u00e9\"]},\"email\":\"a@b\","
		     "\"type\":\"codex\",\"expired\":\"2026-04-01T00:00:00Z\"}\n");
	out = patch(js, u, T_ARRAY_LEN(u));
	REQUIRE(out != NULL);
	REQUIRE(parse_ok(out, &f));
	CHECK_EQ_STR(f.access_token, "new-access");
	CHECK_EQ_STR(f.refresh_token, "new-refresh");
	CHECK_EQ_INT(f.expiry, 1775001600);
	acct_fields_free(&f);
	free(out);
}

TEST(acct_patch_updates_the_nested_token_too)
{
	const struct acct_update u[] = {
		{"access_token", "\"ya29.new\""},
		{"expiry", "\"2026-06-30T12:00:00Z\""},
		{"refresh_token", "\"1//0gem-refresh\""},
	};
	char *out = patch(gemini_v5, u, T_ARRAY_LEN(u));
	struct acct_fields f;

	REQUIRE(out != NULL);
	/* the v5 shape stays: nothing flat is added */
	CHECK_EQ_STR(out,
		"{\"token\":{\"access_token\":\"ya29.new\","
		"\"token_type\":\"Bearer\",\"refresh_token\":\"1//0gem-refresh\","
		"\"expiry\":\"2026-06-30T12:00:00Z\","
		"\"expires_in\":3599,"
		"\"token_uri\":\"https://oauth2.googleapis.com/token\","
		"\"client_id\":\"681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps."
		"googleusercontent.com\","
		"\"client_secret\":\"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\","
		"\"scopes\":[\"https://www.googleapis.com/auth/cloud-platform\","
		"\"https://www.googleapis.com/auth/userinfo.email\","
		"\"https://www.googleapis.com/auth/userinfo.profile\"],"
		"\"universe_domain\":\"googleapis.com\"},"
		"\"project_id\":\"my-proj-123\",\"email\":\"user@example.com\","
		"\"auto\":false,\"checked\":true,\"type\":\"gemini\"}\n");
	REQUIRE(parse_ok(out, &f));
	CHECK_EQ_STR(f.access_token, "ya29.new");
	CHECK_EQ_INT(f.expiry, 1782820800);
	acct_fields_free(&f);
	free(out);
}

TEST(acct_patch_v6_gemini_both_places_and_adds_to_token)
{
	static const char js[] =
		"{\n  \"access_token\": \"a0\",\n"
		"  \"token\": {\n    \"refresh_token\": \"r0\"\n  },\n"
		"  \"type\": \"gemini\"\n}\n";
	const struct acct_update u[] = {
		{"access_token", "\"a1\""},
		{"token_type", "\"Bearer\""},
		{"refresh_token", "\"r1\""},
		{"project_id", "\"p\""},
	};

	/* access_token: flat replaced, added to token (it lacks it);
	 * token_type: added to token only; refresh_token: replaced in
	 * token only; project_id: appended at top level */
	expect_patch(js, u, T_ARRAY_LEN(u),
		     "{\n  \"access_token\": \"a1\",\n"
		     "  \"token\": {\n    \"refresh_token\": \"r1\",\n"
		     "    \"access_token\": \"a1\",\n"
		     "    \"token_type\": \"Bearer\"\n  },\n"
		     "  \"type\": \"gemini\",\n  \"project_id\": \"p\"\n}\n");
}

TEST(acct_patch_appends_a_missing_member)
{
	static const struct {
		const char *in, *want;
	} c[] = {
		{"{\"type\":\"qwen\",\"access_token\":\"a\"}",
		 "{\"type\":\"qwen\",\"access_token\":\"a\",\"disabled\":true}"},
		{"{}", "{\"disabled\":true}"},
		{" { } ", " {\"disabled\":true } "},
		{"{\"a\" : 1 }", "{\"a\" : 1,\"disabled\" : true }"},
		{"{\r\n\t\"a\":\t[1,\r\n\t2]\r\n}\r\n",
		 "{\r\n\t\"a\":\t[1,\r\n\t2],\r\n\t\"disabled\":\ttrue\r\n}\r\n"},
		/* a member nested deeper is not the top-level one */
		{"{\"x\":{\"disabled\":false}}",
		 "{\"x\":{\"disabled\":false},\"disabled\":true}"},
		/* a "token" that is no object is no nested token */
		{"{\"token\":\"t\"}", "{\"token\":\"t\",\"disabled\":true}"},
	};
	const struct acct_update u = {"disabled", "true"};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(c); i++)
		expect_patch(c[i].in, &u, 1, c[i].want);
}

TEST(acct_patch_indented_file_keeps_its_style)
{
	static const char js[] =
		"{\n"
		"    \"type\": \"antigravity\",\n"
		"    \"access_token\": \"old\",\n"
		"    \"expires_in\": 3599,\n"
		"    \"timestamp\": 1767225600000,\n"
		"    \"note\": \"do not touch \\\"this\\\"\"\n"
		"}";
	const struct acct_update u[] = {
		{"access_token", "\"new\""},
		{"timestamp", "1767229200000"},
		{"refresh_token", "\"1//rt\""},
		{"expired", "\"2026-01-01T01:59:59Z\""},
	};

	expect_patch(js, u, T_ARRAY_LEN(u),
		     "{\n"
		     "    \"type\": \"antigravity\",\n"
		     "    \"access_token\": \"new\",\n"
		     "    \"expires_in\": 3599,\n"
		     "    \"timestamp\": 1767229200000,\n"
		     "    \"note\": \"do not touch \\\"this\\\"\",\n"
		     "    \"refresh_token\": \"1//rt\",\n"
		     "    \"expired\": \"2026-01-01T01:59:59Z\"\n"
		     "}");
}

TEST(acct_patch_escapes_names_and_matches_escaped_keys)
{
	const struct acct_update u[] = {
		{"access_token", "\"tok\\\"en\\u00e9\""},
		{"odd \"name\"\\\n", "1"},
	};
	char *out;
	struct acct_fields f;

	/* the escaped key is the same member: replaced, not doubled; a
	 * name that needs escapes is written escaped */
	expect_patch("{\"type\":\"qwen\",\"access\\u005ftoken\":\"a\"}", u,
		     T_ARRAY_LEN(u),
		     "{\"type\":\"qwen\",\"access\\u005ftoken\":"
		     "\"tok\\\"en\\u00e9\",\"odd \\\"name\\\"\\\\\\n\":1}");
	out = patch("{\"type\":\"qwen\",\"refresh_token\":\"r\"}", u,
		    T_ARRAY_LEN(u));
	REQUIRE(out != NULL);
	REQUIRE(parse_ok(out, &f));
	CHECK_EQ_STR(f.access_token, "tok\"en\xc3\xa9");
	acct_fields_free(&f);
	/* and a second run finds the escaped name */
	{
		char *again = patch(out, u, T_ARRAY_LEN(u));
		if (again)
			CHECK_EQ_STR(again, out);
		free(again);
	}
	free(out);
}

TEST(acct_patch_replaces_every_copy_of_a_repeated_member)
{
	const struct acct_update u = {"access_token", "\"n\""};
	expect_patch("{\"access_token\":\"a\",\"x\":1,\"access_token\":\"b\"}",
		     &u, 1,
		     "{\"access_token\":\"n\",\"x\":1,\"access_token\":\"n\"}");
}

TEST(acct_patch_is_idempotent)
{
	static const char *const files[] = {
		gemini_v5,
		"{\"type\":\"codex\",\"access_token\":\"a\"}",
		"{\n  \"type\": \"gemini\",\n  \"token\": {}\n}\n",
	};
	const struct acct_update u[] = {
		{"access_token", "\"a2\""}, {"refresh_token", "\"r2\""},
		{"expiry", "\"2026-06-30T12:00:00Z\""},
		{"last_refresh", "\"2026-06-30T11:00:00Z\""},
		{"token", "{\"access_token\":\"t\"}"},
	};
	size_t i, nu;

	for (i = 0; i < T_ARRAY_LEN(files); i++)
		for (nu = 1; nu <= T_ARRAY_LEN(u); nu++) {
			char *once = patch(files[i], u, nu);
			char *twice = once ? patch(once, u, nu) : NULL;
			if (twice && strcmp(once, twice))
				FAILF("file %zu, %zu updates: '%s' then '%s'", i,
				      nu, t_esc(once, strlen(once)),
				      t_esc(twice, strlen(twice)));
			free(once);
			free(twice);
		}
}

TEST(acct_patch_later_update_of_a_name_wins)
{
	const struct acct_update u[] = {
		{"note", "\"first\""}, {"note", "\"second\""},
	};
	expect_patch("{\"a\":1}", u, 2, "{\"a\":1,\"note\":\"second\"}");
}

TEST(acct_patch_a_token_update_replaces_the_whole_object)
{
	const struct acct_update u[] = {
		{"token", "{\"access_token\":\"x\"}"},
	};
	expect_patch("{\"token\":{\"access_token\":\"a\",\"token\":1},"
		     "\"type\":\"gemini\"}", u, 1,
		     "{\"token\":{\"access_token\":\"x\"},\"type\":\"gemini\"}");
}

TEST(acct_patch_refuses_non_objects_and_bad_updates)
{
	static const char *const bad[] = {
		"", "[]", "[{\"a\":1}]", "\"s\"", "1", "{", "{\"a\":1}x", "nul",
	};
	const struct acct_update ok = {"a", "1"};
	const struct acct_update wrong[] = {
		{NULL, "1"}, {"a", NULL}, {"a", ""}, {"a", "\"open"},
		{"a", "1,2"}, {"a", "{\"b\":}"},
	};
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 16);
	buf_puts(&b, "kept");
	for (i = 0; i < T_ARRAY_LEN(bad); i++) {
		void *g = t_guarded_copy(bad[i], strlen(bad[i]));
		if (acct_patch(g, strlen(bad[i]), &ok, 1, &b) != -1)
			FAILF("patched '%s'", bad[i]);
		if (acct_patch(g, strlen(bad[i]), NULL, 0, &b) != -1)
			FAILF("copied '%s'", bad[i]);
		t_guarded_free(g);
	}
	for (i = 0; i < T_ARRAY_LEN(wrong); i++)
		if (acct_patch("{}", 2, &wrong[i], 1, &b) != -1)
			FAILF("took update %zu", i);
	/* out untouched by every refusal */
	CHECK_SPAN(b.p, b.len, "kept");
	CHECK_EQ_INT(b.overflow, 0);
	/* no updates: the same bytes, appended */
	CHECK_EQ_INT(acct_patch(" {\"a\" :1}\n", 10, NULL, 0, &b), 0);
	CHECK_SPAN(b.p, b.len, "kept {\"a\" :1}\n");
	buf_free(&b);
}

TEST(acct_patch_overflow_is_sticky_on_out)
{
	const struct acct_update u = {"access_token", "\"0123456789\""};
	struct buf b;

	buf_init(&b, 16);
	CHECK_EQ_INT(acct_patch("{\"access_token\":\"a\"}", 20, &u, 1, &b), 0);
	CHECK_EQ_INT(b.overflow, 1);
	buf_free(&b);
}

/* Patch each prefix and mutation of a file: no crash or over-read, and
 * an accepted text reads back with the new tokens. */
TEST(acct_patch_then_parse_on_mutations)
{
	const struct acct_update u[] = {
		{"access_token", "\"fresh-access\""},
		{"refresh_token", "\"fresh-refresh\""},
	};
	struct t_rng r;
	size_t len = strlen(gemini_v5), k;

	t_rng_seed(&r, t_seed(5));
	for (k = 0; k < 4000; k++) {
		char *g = t_guarded_copy(gemini_v5, len);
		size_t n = k < len ? k : len, m;
		struct buf b;
		struct acct_fields f, f2;
		int ok1;

		if (k >= len)
			for (m = 0; m < 1 + t_rng_below(&r, 3); m++)
				g[t_rng_below(&r, len)] =
					"\"\\{}[]:,0tn \x01"[t_rng_below(&r, 13)];
		buf_init(&b, 1 << 20);
		ok1 = acct_parse(g, n, &f, NULL, 0) == 0;
		if (acct_patch(g, n, u, 2, &b) == 0 && ok1) {
			if (acct_parse(b.p, b.len, &f2, NULL, 0) != 0) {
				FAILF("patched text does not read: %s",
				      t_esc(b.p, b.len));
			} else {
				CHECK_EQ_STR(f2.access_token, "fresh-access");
				CHECK_EQ_STR(f2.refresh_token, "fresh-refresh");
				CHECK_EQ_INT(f2.kind, f.kind);
				CHECK_EQ_INT(f2.expiry, f.expiry);
				CHECK_EQ_STR(f2.email, f.email);
				acct_fields_free(&f2);
			}
		}
		if (ok1)
			acct_fields_free(&f);
		buf_free(&b);
		t_guarded_free(g);
		if (t_failures())
			break;
	}
}
