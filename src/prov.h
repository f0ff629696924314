/*
 * prov.h - the provider descriptor table: one entry per upstream kind,
 * saying how to call it.
 *
 * A descriptor holds the upstream's wire format, where its base URL comes
 * from ([endpoints] or the key entry's own base-url), the path for a
 * generation, a stream and a token count, the header that carries the
 * credential, and its fixed headers (the official client's fingerprint,
 * which [upstream-headers] of the config changes: cfg.h).
 * prov_prepare() turns one attempt (kind, credential, model, stream) into
 * an upstream target, a path and header lines.  Adding a provider is one
 * descriptor (and, for OAuth kinds, its account store), not edits across
 * files.  Which key an attempt uses is the route's choice (route.h).
 */
#ifndef PROV_H
#define PROV_H

#include <stddef.h>

#include "buf.h"
#include "hc.h"
#include "hub.h"

struct cfg;
struct cfg_compat;
struct cfg_strlist;

enum prov_kind {
	PROV_GEMINI,  /* generative-language-api-key (AI Studio) */
	PROV_CLAUDE,  /* [claude-api-key] */
	PROV_CODEX,   /* [codex-api-key] */
	PROV_COMPAT,  /* [openai-compatibility] */
	/* accounts of auth-dir (acct.h) */
	PROV_GEMINI_CLI,   /* Gemini CLI / Cloud Code Assist */
	PROV_ANTIGRAVITY,  /* Antigravity (Code Assist, daily host) */
	PROV_CODEX_OAUTH,  /* ChatGPT Codex */
	PROV_CLAUDE_OAUTH, /* Claude Code */
	PROV_QWEN,         /* Qwen Code */
	PROV__COUNT
};

/* The kind serving an account of acct_kind k (enum acct_kind). */
enum prov_kind prov_of_acct(int k);

struct prov_desc {
	enum prov_kind kind;
	const char *name;        /* for messages ("gemini"; a compat
				    provider is named by its entry) */
	const char *owned_by;    /* model lists */
	enum hub_fmt wire;       /* upstream wire format */
	int endpoint;            /* enum cfg_endpoint of the default base
				    URL; -1: the entry's own base-url */
	const char *auth_name;   /* header carrying the credential */
	const char *auth_prefix; /* before the credential ("Bearer ") */
	const char *fixed;       /* fixed header lines (CRLF each), or "";
				    "{model}" in a value stands for the
				    upstream model name */
	int up_headers;          /* enum cfg_upstream: its key in
				    [upstream-headers]; -1 none */
	/* Paths after the base URL's own path: path, then the model as
	 * one segment when model_segment, then the call's tail (NULL: the
	 * kind has no such call; completions NULL: as gen). */
	const char *path;
	int model_segment;
	const char *gen, *stream, *count, *completions;
	/* What the kind's calls need besides (all 0 for the key kinds). */
	int envelope;            /* Code Assist envelope around the body:
				    {"project":..., ...} (pc->pre) */
	int force_stream;        /* always a stream upstream; a non-stream
				    answer is folded from it */
	int claude_code;         /* Claude Code's system line (hub) */
	int stream_usage;        /* stream_options.include_usage (hub) */
	int no_accept;           /* no Accept header */
	/* The upstream's model list (mfetch.h): its path after the base
	 * URL's own (NULL: the kind has none, its table is what it
	 * serves), POST with {} when list_post (else GET), and the answer's
	 * shape (enum mlist_fmt). */
	const char *list;
	int list_post;
	int list_fmt;
};

const struct prov_desc *prov_desc(enum prov_kind k);

/* The credential an attempt uses and what comes with it. */
struct prov_key {
	const char *key;                  /* NULL: none (keyless compat);
					     an account's access token */
	const char *base_url;             /* NULL: the descriptor's endpoint */
	const char *proxy_url;            /* NULL: the top-level proxy-url */
	const struct cfg_strlist *headers;/* the entry's own, or NULL */
	/* accounts */
	const char *project;              /* Code Assist project */
	const char *account_id;           /* Codex: Chatgpt-Account-Id */
	const char *user_agent;           /* the file's own, or NULL */
	int volatile_strings;             /* base_url/proxy_url may be freed
					     and reused: do not memoise */
};

/* One upstream call, as prov_prepare builds it. */
struct prov_call {
	struct hc_target t;
	struct buf path;         /* NUL-terminated */
	struct buf headers;      /* header lines, NUL-terminated */
	size_t extra_hdr_off;    /* where the entry's own headers start
				    (request-log hides their values) */
	struct buf pre;          /* envelope head sent before the body; the
				    body then starts after its own
				    {"project":"" (see prov_body_skip) */
	size_t body_skip;        /* bytes of the body replaced by pre */
};

void prov_call_init(struct prov_call *pc);
void prov_call_free(struct prov_call *pc);

/* What an attempt asks. */
struct prov_req {
	const struct prov_desc *d;
	const struct prov_key *k;
	const char *upmodel;     /* upstream model name */
	int stream, count, completions;
	const char *beta;        /* a Claude client's anthropic-beta, or
				    NULL */
	const char *body;        /* the body (envelope kinds: as the hub
				    wrote it, with an empty project) */
	size_t body_len;
	const char *session;     /* an id for this conversation (Codex
				    Session-Id), or NULL */
	const char *path_tail;   /* replaces the call's tail (Code Assist
				    set-up calls: ":loadCodeAssist"); the
				    body is then sent as it is */
	const char *ua_name;     /* compat: provider name for User-Agent */
	int list;                /* the kind's model-list call (desc->list)
				    instead: no model, no envelope */
};

/* The target of a base URL (http or https) through proxy (NULL: none),
 * and the base URL's path (in path, cap bytes).  TG_OK, TG_BAD_BASE or
 * TG_BAD_PROXY. */
enum { TG_OK, TG_BAD_BASE, TG_BAD_PROXY };
int prov_target(const char *base, const char *proxy, struct hc_target *t,
		char *path, size_t cap);

/* Fill pc for r.  NULL ok, else a message for a 500 (a config that
 * cannot be called). */
const char *prov_prepare(const struct cfg *cfg, unsigned gen,
			 const struct prov_req *r, struct prov_call *pc);

#endif
