/*
 * login.h - the OAuth logins that put accounts into auth-dir, as state
 * machines inside a poll loop (reference/protocol.md 3,
 * providers-2026.md 1, 2, 3, 5, 6).
 *
 * A login is one flow from start to one outcome:
 *
 *   callback flows (Gemini CLI, Antigravity, Codex, Claude):
 *     start: state (+ PKCE) -> the authorize address, ready at once
 *     WAIT the browser's reply, fed by whoever got it: the callback
 *       listener, a line pasted on stdin, POST /v0/management/oauth-callback
 *     exchange the code -> (Google: userinfo, loadCodeAssist, onboardUser
 *       until done, the service check) -> the file -> done
 *   device flows (Qwen, Codex device code):
 *     start: ask for a device code -> the address and user code (on_url)
 *     poll the token endpoint at the interval it asks for -> the file ->
 *     done
 *
 * Every call is an upstream exchange through hc, to the URLs of
 * [endpoints], through proxy-url.  Steps run from loop_defer, never inside
 * another object's callback.  The outcome is reported once, by on_done;
 * a login that times out (login-timeout, 5 minutes; a device code's own
 * expiry) fails
 * with a message that says so.  Messages never hold a token or a code.
 *
 * The file is the reference's (name and fields), written atomically with
 * mode 0600 into auth-dir, which the account store then picks up.
 */
#ifndef LOGIN_H
#define LOGIN_H

#include <stdint.h>

#include "acct_file.h"
#include "buf.h"
#include "login_file.h"
#include "loop.h"
#include "oauth.h"

struct cfg;
struct hc;
struct hc_ctx;

enum login_kind {
	LOGIN_GEMINI_CLI,     /* --login */
	LOGIN_CODEX,          /* --codex-login */
	LOGIN_CODEX_DEVICE,   /* --codex-device-login */
	LOGIN_CLAUDE,         /* --claude-login */
	LOGIN_QWEN,           /* --qwen-login */
	LOGIN_ANTIGRAVITY,    /* --antigravity-login */
	LOGIN__COUNT
};

enum login_status { LOGIN_PENDING, LOGIN_OK, LOGIN_FAILED };

struct login;

struct login_env {
	struct loop *l;
	struct hc_ctx *hc;
	const struct cfg *cfg;       /* valid until the login ends */
	void (*on_url)(struct login *lg);  /* device flows: url is ready */
	void (*on_done)(struct login *lg); /* the outcome (status) */
	/* Qwen: the tokens are in, the file not named yet (the CLI asks
	 * for an alias here); NULL: none */
	void (*before_save)(struct login *lg);
	void *user;
};

struct login {
	enum login_kind kind;
	struct login_env env;
	enum login_status status;
	int phase;                   /* login.c's steps */
	int waiting;                 /* a browser reply is expected now */

	char state[33];
	char verifier[OAUTH_VERIFIER_LEN + 1];
	char *url;                   /* the address to open (malloc'd) */
	char user_code[64];          /* device flows */
	char project_req[128];       /* --project_id, "" = discover */

	struct loop_timer poll;      /* polls and waits between steps */
	struct loop_timer dead;      /* the deadline */
	struct loop_defer step;      /* the next step */
	void (*then)(struct login *lg);

	/* the call in flight */
	struct hc *h;
	struct buf req;              /* path \0 headers \0 body */
	size_t path_len, hdr_len;
	struct buf res;              /* answer body */
	int rstatus;
	int rerr;                    /* hc error, 0 none */

	/* what the flow learned */
	char code[OAUTH_CODE_MAX + 1];
	char device[512];            /* device_code / device_auth_id */
	int interval_s;
	int tries;
	char tier[64];
	int current_tier;
	struct login_acct acct;      /* the account (login_file.h) */

	char err[320];               /* why it failed */
	char path[4096];             /* the file written */
};

/* Start a login of kind k (project_id: Gemini CLI's --project_id, may be
 * NULL).  0: running (for the callback flows, lg->url is set); -1: lg->err
 * says why.  The env's cfg, loop and hc must outlive it. */
int login_start(struct login *lg, enum login_kind k,
		const struct login_env *env, const char *project_id);

/* A browser's reply.  0 taken (the flow goes on, or ends with the error
 * the reply carries); -1 not taken: why says what was wrong (no flow
 * waiting; no state, so nothing to check it by; or a state that is not
 * this login's: the login then fails, a reply for another sign-in must
 * not be mistaken for this one). */
int login_feed(struct login *lg, const struct oauth_reply *r, char *why,
	       size_t cap);

/* Stop without a callback and free what it holds. */
void login_cancel(struct login *lg);

/* The fixed loopback callback of a callback flow: port and path (0 /
 * NULL for the device flows). */
int login_port(enum login_kind k);
const char *login_path(enum login_kind k);
/* Provider name for messages ("Gemini CLI", "Codex", ...). */
const char *login_title(enum login_kind k);


#endif
