/*
 * oauth.c - fuzz target: what comes back from a browser (oauth.h):
 * oauth_parse_reply (a pasted address, query, fragment or code#state) and
 * oauth_request_target / oauth_target_is (the callback's request line).
 *
 * Input: one option byte (bit 0: the rest is a request line, else a
 * paste), then the text.  Checks: a parsed reply has a code or an error;
 * every field is NUL-terminated within its array, free of control
 * characters, the code free of '#'; the state at most OAUTH_STATE_MAX;
 * encoding the reply again as "?code=..&state=..&error=.." parses to the
 * same fields.  A request target lies inside the input, starts with '/',
 * holds no space; a matched path's query lies inside the target.
 */
#include "fuzz.h"
#include "oauth.h"

static void check_field(const char *f, size_t cap)
{
	const char *end = memchr(f, '\0', cap);
	FZ_CHECK(end != NULL);
	for (; f < end; f++)
		FZ_CHECK((unsigned char)*f >= 0x20 && *f != 0x7f);
}

static void check_reply(const struct oauth_reply *r)
{
	struct oauth_reply again;
	struct buf b;

	check_field(r->code, sizeof(r->code));
	check_field(r->state, sizeof(r->state));
	check_field(r->error, sizeof(r->error));
	FZ_CHECK(r->has_code || r->has_error);
	FZ_CHECK(!strchr(r->code, '#'));
	FZ_CHECK(strlen(r->state) <= OAUTH_STATE_MAX);
	FZ_CHECK(!r->has_code == !r->code[0]);

	buf_init(&b, 64 * 1024);
	buf_putc(&b, '?');
	if (r->has_code)
		oauth_param(&b, "code", r->code);
	if (r->has_state)
		oauth_param(&b, "state", r->state);
	if (r->has_error)
		oauth_param(&b, "error", r->error);
	FZ_CHECK(!b.overflow);
	FZ_CHECK(oauth_parse_reply(b.p, b.len, &again) == 0);
	FZ_CHECK(again.has_code == r->has_code &&
		 again.has_state == r->has_state &&
		 again.has_error == r->has_error);
	FZ_CHECK(!strcmp(again.code, r->code));
	FZ_CHECK(!strcmp(again.state, r->state));
	FZ_CHECK(!strcmp(again.error, r->error));
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	unsigned opt = fz_byte(&f);
	char *s = malloc(f.n ? f.n : 1);
	struct oauth_reply *r = malloc(sizeof(*r));
	const char *t, *q;
	size_t tn, qn;
	int rc;

	FZ_CHECK(s && r);
	memcpy(s, f.p, f.n);
	if (opt & 1) {
		rc = oauth_request_target(s, f.n, &t, &tn);
		FZ_CHECK(rc >= -1 && rc <= 1);
		if (rc == 0) {
			FZ_CHECK(t > s && t + tn <= s + f.n);
			FZ_CHECK(tn > 0 && t[0] == '/');
			FZ_CHECK(!memchr(t, ' ', tn));
			if (oauth_target_is(t, tn, "/auth/callback", &q, &qn))
				FZ_CHECK(q >= t && q + qn == t + tn);
		}
	} else if (oauth_parse_reply(s, f.n, r) == 0) {
		check_reply(r);
	}
	free(r);
	free(s);
	return 0;
}
