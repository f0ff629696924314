/*
 * oauth.h - the small pure pieces of the OAuth logins (login.c): random
 * states, PKCE, form and query encoding, and reading what comes back from
 * a browser: the callback's request line, or an address the user pasted.
 *
 * Pure except oauth_random (the kernel's generator).  No allocation.
 */
#ifndef OAUTH_H
#define OAUTH_H

#include <stddef.h>

#include "buf.h"

#define OAUTH_STATE_MAX 128      /* longest state accepted */
#define OAUTH_CODE_MAX 2048      /* longest authorization code */
#define OAUTH_VERIFIER_LEN 128   /* base64url of 96 random bytes */
#define OAUTH_CHALLENGE_LEN 43   /* base64url of a SHA-256 */

/* n random bytes from getrandom (or /dev/urandom).  0, -1. */
int oauth_random(void *p, size_t n);

/* A new state: 32 lowercase hex characters (16 random bytes).  0, -1. */
int oauth_new_state(char out[33]);

/* PKCE (RFC 7636, S256): a verifier of 96 random bytes in base64url, and
 * its challenge, base64url(SHA-256(verifier)).  0, -1. */
int oauth_new_verifier(char out[OAUTH_VERIFIER_LEN + 1]);
void oauth_challenge(const char *verifier, char out[OAUTH_CHALLENGE_LEN + 1]);

/* Base64url without padding of src into dst: the length, or -1 when cap
 * is too small. */
int oauth_b64url(const void *src, size_t n, char *dst, size_t cap);

/* Is s[0..n) a state we hand out or accept: 1..OAUTH_STATE_MAX of
 * [A-Za-z0-9._-]. */
int oauth_state_ok(const char *s, size_t n);

/* Append "name=value" percent-encoded (application/x-www-form-urlencoded,
 * also right for a URL query), with a '&' (or sep, when the buffer is
 * empty or ends in '?') before it as needed. */
void oauth_param(struct buf *b, const char *name, const char *value);

/* What a browser brought back. */
struct oauth_reply {
	char code[OAUTH_CODE_MAX + 1];
	char state[OAUTH_STATE_MAX + 1];
	char error[128];
	int has_code, has_state, has_error;
};

/*
 * Read what the user pasted, s[0..n): the whole address the browser was
 * sent to ("http://localhost:1455/auth/callback?code=..&state=.."), its
 * query ("?code=..&state=.." or "code=..&state=.."), parameters in a
 * fragment ("#code=..&state=.."), or "code#state" (Claude's page).
 * Surrounding whitespace is ignored.  0 when it holds a code or an error;
 * -1 when it is nothing of the kind, or a value is too long or holds a
 * control character.
 */
int oauth_parse_reply(const char *s, size_t n, struct oauth_reply *r);

/*
 * The request line of a callback request in buf[0..n): 1 when the line
 * is not complete yet, 0 with the target ("/path?query") in *t / *tn,
 * -1 when it is no "GET <target> HTTP/1.x" line (or longer than n allows).
 */
int oauth_request_target(const char *buf, size_t n, const char **t,
			 size_t *tn);

/* Does target t[0..tn) have the path path?  Its query (after '?', may be
 * empty) in *q / *qn then.  1 yes, 0 no. */
int oauth_target_is(const char *t, size_t tn, const char *path,
		    const char **q, size_t *qn);

#endif
