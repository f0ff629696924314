/*
 * apierr.h - errors as each client API writes them, and what an upstream
 * failure means.
 *
 * RENDERING.  Every error a client sees, from any layer (the connection's
 * 408/413, the API's 401/404, an exchange's 502, an error event inside a
 * stream), is written here, so the shapes cannot drift apart:
 *   OpenAI (chat, completions, Responses)
 *     {"error":{"message":M,"type":T,"param":null,"code":C}}  C a string
 *   Claude   {"type":"error","error":{"type":T,"message":M}}
 *   Gemini   {"error":{"code":N,"message":M,"status":S}}
 * The format is the client's enum hub_fmt.  apierr_begin/apierr_end put
 * what comes before and after the message, for callers that hold the
 * message as an escaped JSON span (stream error events).
 *
 * CLASSIFYING.  An upstream attempt fails in one of a few ways
 * (enum upfail); apierr_rule() says, once for the whole program, what
 * each means: try again (counting against request-retry or not), move to
 * the next key or account, or give up with which status.  The account
 * work adds a refresh action for OAuth credentials.
 */
#ifndef APIERR_H
#define APIERR_H

#include <stddef.h>

#include "buf.h"

/* The whole error body for a client of format fmt (enum hub_fmt). */
void apierr_render(struct buf *b, int fmt, int status, const char *msg);

/* The body up to its message value (after "message":), and after it. */
void apierr_begin(struct buf *b, int fmt, int status);
void apierr_end(struct buf *b, int fmt, int status);

/* The tables behind them. */
const char *apierr_openai_type(int status);
const char *apierr_openai_code(int status);
const char *apierr_claude_type(int status);
const char *apierr_google_status(int status);

enum upfail {
	UF_DNS,      /* the upstream's name did not resolve */
	UF_CONNECT,  /* refused, reset, closed before an answer */
	UF_TLS,      /* handshake or certificate failed */
	UF_TIMEOUT,  /* connect, first byte or read timed out */
	UF_AUTH,     /* 401 / 403: the proxy's credential was refused */
	UF_QUOTA,    /* 429 */
	UF_SERVER,   /* 408, 500, 502, 503, 504, 529 */
	UF_CLIENT,   /* any other status: about the request itself */
	UF__COUNT
};

enum upact {
	UA_RETRY,    /* another attempt (next key in rotation) */
	UA_NEXT,     /* the next key or account, not counted as a retry */
	UA_GIVE_UP,  /* answer the client now */
};

struct uprule {
	enum upact act;
	int counted;       /* UA_RETRY: counts against request-retry */
	int status;        /* status for the client when giving up (0: the
			      upstream's own answer is relayed) */
};

enum upfail upfail_of_status(int status);
const struct uprule *apierr_rule(enum upfail f);

/* A credential refused for quota (429) rests until the reset the
 * upstream gave, else this long. */
#define QUOTA_REST_DEFAULT_S 60

struct http_response;
/* The reset a quota answer's head gives, in ms from now (0 none):
 * Retry-After (seconds), Retry-After-Ms, Anthropic's
 * anthropic-ratelimit-unified-reset (unix time). */
long long apierr_reset_head_ms(const struct http_response *res);
/* ... and its body: Gemini's RetryInfo "retryDelay": "12.5s", Codex's
 * "resets_in_seconds": N or "resets_at": unix time. */
long long apierr_reset_body_ms(const char *body, size_t n);

#endif
