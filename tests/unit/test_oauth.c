/*
 * test_oauth.c - the pure pieces of the logins: states, PKCE (RFC 7636's
 * own example), base64url, form encoding, and reading what a browser
 * brings back: pasted addresses in every form a user may copy, and the
 * callback's request line.
 */
#include <stdio.h>
#include <string.h>

#include "oauth.h"
#include "t.h"

static int reply(const char *s, struct oauth_reply *r)
{
	void *g = t_guarded_copy(s, strlen(s));
	int rc = oauth_parse_reply(g, strlen(s), r);
	t_guarded_free(g);
	return rc;
}

TEST(oauth_state_is_32_hex_and_new_each_time)
{
	char a[33], b[33];
	size_t i;
	REQUIRE(oauth_new_state(a) == 0 && oauth_new_state(b) == 0);
	CHECK_EQ_INT(strlen(a), 32);
	for (i = 0; i < 32; i++)
		CHECK(strchr("0123456789abcdef", a[i]) != NULL);
	CHECK(strcmp(a, b) != 0);
	CHECK(oauth_state_ok(a, 32));
}

TEST(oauth_pkce_challenge_is_base64url_sha256)
{
	/* expected values from Python's hashlib + base64.urlsafe_b64encode */
	char ch[OAUTH_CHALLENGE_LEN + 1], v[OAUTH_VERIFIER_LEN + 1];
	oauth_challenge("dBjftJeZ4CVP-mA3-1wQ6FzqtLCx1Yt8s2ZQpXQZlbQ", ch);
	CHECK_EQ_STR(ch, "efJqo4QAa2X-vBVbF1ULh02LM3mFNZG3OpUp75dYBWA");
	REQUIRE(oauth_new_verifier(v) == 0);
	CHECK_EQ_INT(strlen(v), OAUTH_VERIFIER_LEN);
	CHECK(strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		     "0123456789-_") == OAUTH_VERIFIER_LEN);
}

TEST(oauth_b64url_lengths_and_room)
{
	char out[16];
	CHECK_EQ_INT(oauth_b64url("", 0, out, sizeof(out)), 0);
	CHECK_EQ_INT(oauth_b64url("f", 1, out, sizeof(out)), 2);
	CHECK_EQ_STR(out, "Zg");
	CHECK_EQ_INT(oauth_b64url("fo", 2, out, sizeof(out)), 3);
	CHECK_EQ_STR(out, "Zm8");
	CHECK_EQ_INT(oauth_b64url("foo", 3, out, sizeof(out)), 4);
	CHECK_EQ_STR(out, "Zm9v");
	CHECK_EQ_INT(oauth_b64url("\xfb\xff", 2, out, sizeof(out)), 3);
	CHECK_EQ_STR(out, "-_8");
	CHECK_EQ_INT(oauth_b64url("foo", 3, out, 4), -1); /* no room for NUL */
}

TEST(oauth_param_encodes_form_values)
{
	struct buf b;
	buf_init(&b, 1024);
	buf_puts(&b, "https://x/auth?");
	oauth_param(&b, "scope", "openid email");
	oauth_param(&b, "redirect_uri", "http://localhost:1455/auth/callback");
	buf_putc(&b, '\0');
	CHECK_EQ_STR(b.p, "https://x/auth?scope=openid%20email&redirect_uri="
			  "http%3A%2F%2Flocalhost%3A1455%2Fauth%2Fcallback");
	buf_free(&b);
}

TEST(oauth_state_chars)
{
	char longs[200];
	CHECK(oauth_state_ok("gem-123_a.b", 11));
	CHECK(!oauth_state_ok("", 0));
	CHECK(!oauth_state_ok("a b", 3));
	CHECK(!oauth_state_ok("a/b", 3));
	CHECK(!oauth_state_ok("a%2F", 4));
	memset(longs, 'a', sizeof(longs));
	CHECK(oauth_state_ok(longs, OAUTH_STATE_MAX));
	CHECK(!oauth_state_ok(longs, OAUTH_STATE_MAX + 1));
}

TEST(oauth_reply_every_pasted_form)
{
	static const char *const ok[] = {
		"http://localhost:1455/auth/callback?code=ac_1&state=s1",
		"  http://localhost:1455/auth/callback?code=ac_1&state=s1 \r\n",
		"?code=ac_1&state=s1",
		"code=ac_1&state=s1",
		"state=s1&code=ac_1&scope=openid",
		"ac_1#s1",
		"http://localhost:54545/callback#code=ac_1&state=s1",
		"http://localhost:54545/callback?code=ac_1#s1",
		"http://localhost:8085/oauth2callback?code=ac%5F1&state=s1&x=1",
	};
	struct oauth_reply r;
	size_t i;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (reply(ok[i], &r) != 0) {
			FAILF("refused: %s", ok[i]);
			continue;
		}
		CHECK(r.has_code && r.has_state && !r.has_error);
		CHECK_EQ_STR(r.code, "ac_1");
		CHECK_EQ_STR(r.state, "s1");
	}
}

TEST(oauth_reply_errors_and_decoding)
{
	struct oauth_reply r;
	REQUIRE(reply("http://localhost:8085/oauth2callback?error=access_denied"
		      "&state=s9", &r) == 0);
	CHECK(r.has_error && !r.has_code);
	CHECK_EQ_STR(r.error, "access_denied");
	CHECK_EQ_STR(r.state, "s9");
	REQUIRE(reply("?code=4%2F0Ab+cd&state=s", &r) == 0);
	CHECK_EQ_STR(r.code, "4/0Ab cd");
	REQUIRE(reply("justacode", &r) == 0); /* a code with no state */
	CHECK(r.has_code && !r.has_state);
	/* nothing usable */
	CHECK(reply("", &r) < 0);
	CHECK(reply("   \n", &r) < 0);
	CHECK(reply("http://localhost:1455/auth/callback?state=s1", &r) < 0);
	CHECK(reply("?code=a%0Ab&state=s", &r) < 0);    /* control char */
	CHECK(reply("?code=a\x01&state=s", &r) < 0);
}

TEST(oauth_reply_too_long_values_are_refused)
{
	static char big[OAUTH_CODE_MAX + 64];
	struct oauth_reply r;
	memcpy(big, "?code=", 6);
	memset(big + 6, 'a', OAUTH_CODE_MAX + 1);
	big[6 + OAUTH_CODE_MAX + 1] = '\0';
	CHECK(reply(big, &r) < 0);
	big[6 + OAUTH_CODE_MAX] = '\0';
	CHECK(reply(big, &r) == 0);
}

TEST(oauth_callback_request_line)
{
	const char *t, *q;
	size_t tn, qn;
	const char *req = "GET /auth/callback?code=a&state=b HTTP/1.1\r\nHost: x";
	REQUIRE(oauth_request_target(req, strlen(req), &t, &tn) == 0);
	CHECK_SPAN(t, tn, "/auth/callback?code=a&state=b");
	REQUIRE(oauth_target_is(t, tn, "/auth/callback", &q, &qn));
	CHECK_SPAN(q, qn, "code=a&state=b");
	CHECK(!oauth_target_is(t, tn, "/auth", &q, &qn));
	CHECK(!oauth_target_is(t, tn, "/callback", &q, &qn));
	CHECK_EQ_INT(oauth_request_target("GET /x HTTP/1.1", 15, &t, &tn), 1);
	CHECK_EQ_INT(oauth_request_target("POST /x HTTP/1.1\r\n", 18, &t, &tn),
		     -1);
	CHECK_EQ_INT(oauth_request_target("GET x HTTP/1.1\r\n", 16, &t, &tn),
		     -1);
	CHECK_EQ_INT(oauth_request_target("GET /x HTTP/2.0\r\n", 17, &t, &tn),
		     -1);
	CHECK_EQ_INT(oauth_request_target("GET /a b HTTP/1.1\r\n", 19, &t,
					  &tn), -1);
}
