/*
 * exch.h - one proxied exchange: a client request forwarded upstream,
 * retried on another key while nothing has reached the client yet, and
 * the answer streamed back with backpressure.
 *
 * Started in one of two ways:
 *   - exch_start_raw, pass-through: a client on an upstream of its own
 *     format (OpenAI chat/completions on an OpenAI-compatible provider,
 *     Claude messages on a Claude key, Gemini on a Gemini key); the body
 *     is forwarded with only the model name rewritten, the answer relayed
 *     as it is (exch_relay.c);
 *   - exch_start_hub / exch_start_count, translated: any other pair.  The
 *     client's request view (hub.h) is encoded in the upstream's format;
 *     the answer runs through xlate.h into the client's format
 *     (exch_xlate.c).
 * Inside, an exchange is a core (exch.c: attempts, failure rules, budget,
 * backpressure, heartbeats) and a kind (exch_int.h) saying what the
 * answer means for the client.
 *
 * An exchange comes from a pool (exch_pool_init) and answers its
 * request through the connection's dispatch slot (conn.h): the
 * connection aborts it when the client goes away, which closes the
 * upstream connection at once, and tells it when output drained.  A
 * retry starts after the callback that saw the failure (loop_defer),
 * never inside it.
 *
 * Memory: every growable buffer of an exchange is charged to the server's
 * body budget (max-body-total) while it is held, and each has a cap
 * (sizes.h); running out of either ends the exchange at once with an
 * error in the client's format, rather than reading on.
 */
#ifndef EXCH_H
#define EXCH_H

#include <stddef.h>
#include <stdint.h>

#include "acct.h"
#include "buf.h"
#include "hub.h"
#include "loop.h"
#include "frame.h"
#include "prov.h"
#include "sizes.h"
#include "sse.h"
#include "xlate.h"

struct conn;
struct hc;
struct cfg_compat;
struct route;
struct route_model;
struct exch_kind;

struct exch {
	/* --- zeroed at the start of every exchange (up to "provider") --- */
	int active;           /* the pool slot is in use */
	const struct exch_kind *k; /* what the answer means (exch_int.h) */
	struct conn *c;       /* the client connection answered */
	struct hc *hc;
	int count;            /* a token count (count_tokens / countTokens) */
	int cfmt, ufmt;       /* enum hub_fmt: client, upstream */
	int stream;           /* client asked for a stream */
	int gemini_cli;       /* Gemini client speaks the Code Assist envelope */
	int raw_sse;          /* rsse is initialised */
	struct frame frame;   /* the client's framing */
	int path_kind;        /* OpenAI pass-through: 0 chat, 1 completions */
	int prov;             /* enum prov_kind */
	struct route *route;  /* the config snapshot it started with */
	const struct cfg_compat *compat; /* PROV_COMPAT: the provider */
	int attempts;         /* counted attempts made */
	const struct route_model *rm; /* the model's candidates */
	int cand0, cand;      /* the first candidate, the current one */
	int proj;             /* the account's project in use (-1 none) */
	int refreshed;        /* the current account's token was refreshed
				 for this request (once per account: after a
				 401, or when it had expired) */
	int fallback;         /* Antigravity: on its fallback host */
	int quota;            /* the answer is a quota refusal, being read
				 for its reset time */
	int64_t reset_ms;     /* ... the reset its headers gave (0 none) */
	int force_stream;     /* the upstream streams, whatever the client
				 asked (a non-stream answer is folded) */
	struct acct_wait wait;/* waiting for the account's token */
	int started;          /* response head sent to the client */
	int upstream_ok;      /* current upstream status is 2xx */
	int paused;           /* upstream reading paused for the client */
	int last_status;      /* last upstream status, for the final error */
	struct loop_timer ka; /* stream heartbeat ([streaming]); slot -1 set
				 by begin, cancelled by release */
	struct loop_defer retry; /* the next attempt, after this callback */
	int retry_counted;    /* ... counts against request-retry */
	uint64_t ka_bytes;    /* client bytes at the last heartbeat tick */
	long long t0;
	long charged;         /* upbody bytes counted in the body budget */
	int xl_ready;         /* xl initialised */
	struct buf tail;      /* pass-through: bytes after the last event */
	struct buf upbody;    /* translated: upstream request (for retries) */
	struct buf ubody;     /* translated: non-stream or error body */
	struct prov_call call;/* this attempt's target, path, headers */

	/* --- strings: set before use (first byte cleared at start) --- */
	char provider[128];   /* provider name, for messages */
	char model[MODEL_NAME_MAX + 1];   /* the client's model name */
	char upmodel[MODEL_NAME_MAX + 1]; /* the upstream's (names are
					     checked to fit, never cut) */
	char beta[512];       /* a Claude client's anthropic-beta, forwarded */
	char session[40];     /* Codex Session-Id */
	char path_tail[80];   /* exch_raw's path_tail, or "" */
	char last_err[256];

	/* --- translated: set up by exch_start_hub --- */
	struct xlate xl;         /* the pipeline, when xl_ready */
	/* --- pass-through JSON-array stream (raw_sse) --- */
	struct sse rsse;
};

/* A pass-through request (see the top of this file). */
struct exch_raw {
	int cfmt;                        /* enum hub_fmt of the client */
	const struct route_model *rm;    /* the model's candidates ... */
	int cand;                        /* ... and the one picked */
	const char *upmodel;             /* the upstream's model name */
	size_t model_off, model_len;     /* the body's model string, inside
					    its quotes (Gemini: none) */
	int stream;
	int gemini_array;                /* Gemini stream without alt=sse:
					    the upstream's SSE events are
					    framed as one JSON array */
	const char *anthropic_beta;      /* may be NULL */
	int count;                       /* a token count (count_tokens,
					    countTokens) */
	const char *path_tail;           /* the call's path after the
					    kind's own (Code Assist set-up
					    calls), or NULL */
};

/* Start a pass-through exchange.  0 started, -1 answered with an error. */
int exch_start_raw(struct conn *c, const struct exch_raw *r);

/* What a translated exchange needs to know about the request. */
struct exch_req {
	int cfmt;                     /* enum hub_fmt of the client */
	const struct route_model *rm; /* the model's candidates ... */
	int cand;                     /* ... and the one picked */
	const char *model;            /* client's model name */
	const char *upmodel;          /* upstream model name */
	int stream;
	int gemini_array;
	int gemini_cli;
	const struct hub_view *view;  /* decoded client request */
	const char *anthropic_beta;   /* may be NULL */
	const char *effort;           /* Codex: reasoning effort the model
					 name asked for, or NULL */
};

/* Start a translated exchange.  0 started, -1 answered with an error. */
int exch_start_hub(struct conn *c, const struct exch_req *r);

/* Ask a Claude or Gemini upstream to count the request's tokens; the
 * answer is given in the client's shape.  0 started, -1 answered. */
int exch_start_count(struct conn *c, const struct exch_req *r);

/* n exchanges at most at a time (one per connection).  0, -1 no memory. */
int exch_pool_init(int n);
void exch_pool_free(void);

#endif
