/*
 * mgmt.h - /v0/management: the management key, and the logins a browser
 * anywhere on the LAN can run (reference/protocol.md 1.3,
 * providers-2026.md 6, management-2026.md 1.4 and 5).
 *
 * On when [remote-management] secret-key is set (a bcrypt hash by then:
 * cfg_secret.h) or the environment has MANAGEMENT_PASSWORD; every
 * management path answers 404 otherwise.
 *
 * The key: "Authorization: Bearer <key>" (or the bare value), else
 * "X-Management-Key".  Loopback needs it too; other addresses are refused
 * unless allow-remote is true.  Five failures from one address refuse
 * that address for 30 minutes; a success resets its count.  Only the TCP
 * peer counts: no X-Forwarded-For.  An accepted key is remembered as an
 * HMAC under a key made at start-up (never the key itself), so bcrypt
 * runs once per key, not per request; failed bcrypt checks are capped
 * per minute across all addresses, so nobody can keep the loop busy with
 * them.
 *
 * Logins: GET .../{gemini-cli,codex,anthropic,qwen,antigravity}-auth-url
 * starts one (login.c) inside the serving loop and answers its address
 * and state; the state is then the login's handle for
 * get-auth-status, oauth-callback (the browser's redirect, pasted) and
 * DELETE oauth-session.  While a login waits for its browser, its fixed
 * callback port listens too ([remote-management] callback-host, default
 * loopback).  A saved account joins the rotation at once.
 */
#ifndef MGMT_H
#define MGMT_H

struct conn;
struct srv;

/* Is this request's path under /v0/management? */
int mgmt_is_path(const struct conn *c);
/* Its key check, when the head is in: 0 go on (read the body), -1
 * answered. */
int mgmt_head(struct conn *c);
/* Answer it (the body is in). */
void mgmt_handle(struct conn *c);
/* Stop every login and listener (before the server is freed). */
void mgmt_free(void);

#endif
