/*
 * acct.h - the account store: the OAuth accounts of auth-dir, their state
 * and their token refresh.
 *
 * One struct acct per *.json file of auth-dir (acct_file.h reads the
 * reference's formats).  The store keeps every file it has seen, usable
 * or not, with the identity it had when read (inode, size, mtime), so a
 * scan reads only what changed and a bad file is reported once.  A
 * changed file becomes a new struct acct; the old one leaves the store
 * but lives on while a route snapshot (and so an exchange) holds it:
 * requests in flight keep the account they started with.
 *
 * State: usable (loaded, type known, not "disabled"), resting until a
 * time after a quota answer, refused (the provider refused its refresh
 * token: unused until its file changes).
 *
 * Refresh runs inside the loop as an upstream exchange (hc) to the
 * provider's token endpoint, through the account's proxy (or proxy-url).
 * One per account at a time; whoever needs it waits (struct acct_wait).
 * Ahead of expiry by a lead per kind, in the background; at once when the
 * token has expired or an upstream refused it.  The new tokens are
 * written back atomically (temp file in auth-dir, fsync, rename, 0600),
 * patched into the file as it is on disk then, so fields written by
 * others are kept; the rotated refresh token is on disk before anything
 * uses the new tokens, and a failed refresh writes nothing.
 */
#ifndef ACCT_H
#define ACCT_H

#include <stdint.h>
#include <sys/types.h>

#include "acct_file.h"
#include "buf.h"
#include "loop.h"

struct cfg;
struct hc;
struct hc_ctx;
struct acct_store;

/* How long before expiry a token is refreshed, and the margin under
 * which a request waits for the refresh rather than use the old one. */
#define ACCT_MUST_WAIT_S 30
#define ACCT_TICK_MS 15000          /* background refresh check */
#define ACCT_REFRESH_MAX 4          /* background refreshes at a time */
#define ACCT_BACKOFF_MIN_S 15
#define ACCT_BACKOFF_MAX_S 300

/* An exchange waiting for a refresh: cb runs (after the refresh's own
 * callback, from the loop) with ok = 1 when the account has a fresh
 * token, 0 when it has none (refused, failed: use another). */
struct acct_wait {
	struct acct_wait *next;
	void (*cb)(struct acct_wait *w, int ok);
	int ok;
	struct loop_defer d;
	struct loop *l;             /* set when queued */
	struct acct *a;             /* while queued on a */
};

struct acct {
	unsigned refs;
	struct acct *next;          /* the store's list */
	struct acct_store *st;      /* NULL once it left the store */
	struct loop *l;
	char *name;                 /* file name in auth-dir */
	char *path;                 /* the whole path */
	struct acct_fields f;       /* what the file says (id_token
				       dropped after reading) */
	char *base;                 /* base URL: the file's base_url, or
				       Qwen's https://<resource_url>/v1;
				       NULL: the kind's [endpoints] URL */
	char **projects;            /* Gemini: one or more (-all files) */
	size_t nproj;
	unsigned proj_cursor;
	int64_t *proj_rest;         /* resting until (loop ms), per project */

	/* the file as read or last written by us */
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;

	int usable;                 /* loaded, not disabled */
	int seen;                   /* scan mark */
	int refused;                /* refresh refused: not used */
	char why[160];              /* why unusable (never a secret) */
	int64_t rest_until;         /* loop ms: resting after a quota
				       answer (every project) */

	/* refresh */
	int refreshing;
	int64_t refresh_after;      /* loop ms: back-off after a failure */
	int refresh_fails;
	struct acct_wait *waiters;
	struct loop_defer startd;   /* the refresh starts after the caller */
	struct hc *rhc;
	struct buf rreq;            /* request: path \0 headers \0 body */
	size_t rpath_len, rhdr_len;
	struct buf rbody;           /* answer */
	int rstatus;
	unsigned long refreshes;    /* done, for the debug log and tests */
};

struct acct_store {
	struct loop *l;
	struct hc_ctx *hc;
	const struct cfg *cfg;      /* the running config (endpoints,
				       proxy-url, timeouts, auth-dir) */
	char *dir;                  /* auth-dir, as scanned */
	struct acct *list;
	unsigned gen;               /* bumps when the usable set changed */
	int nrefreshing;
	struct buf rd;              /* a scan's file reads */
	struct loop_timer tick;
	void (*changed)(struct acct_store *st, void *u);
	void *u;
};

void acct_store_init(struct acct_store *st, struct loop *l,
		     struct hc_ctx *hc, const struct cfg *cfg);
/* The config changed (reload): the store reads it from now on; a new
 * auth-dir is scanned from scratch by the next acct_store_scan. */
void acct_store_set_cfg(struct acct_store *st, const struct cfg *cfg);
/* Read what changed in auth-dir.  Returns 1 when the usable set changed
 * (st->gen was bumped), 0 when not. */
int acct_store_scan(struct acct_store *st);
void acct_store_free(struct acct_store *st);

struct acct *acct_ref(struct acct *a);
void acct_unref(struct acct *a);

/* Can a request use a now (loop ms)?  Not refused, not resting (every
 * project resting counts). */
int acct_available(const struct acct *a, int64_t now);
/* The earliest time (loop ms) it is available again (0: now). */
int64_t acct_available_at(const struct acct *a);
/* Does its token need a refresh before use (expired, or within
 * ACCT_MUST_WAIT_S of it)?  (wall clock) */
int acct_must_refresh(const struct acct *a);
/* Refresh now (unless one runs) and wait: w->cb runs when it ends.  0
 * waiting, -1 cannot refresh (no refresh token, refused, backing off). */
int acct_refresh(struct acct *a, struct acct_wait *w);
/* Stop waiting (the exchange ended first). */
void acct_wait_cancel(struct acct_wait *w);
/* Rest after a quota answer: project p (index; -1 all) until t. */
void acct_rest(struct acct *a, int p, int64_t until);
/* The next project to use (round-robin over the ones not resting), or
 * -1 when it has none. */
int acct_pick_project(struct acct *a, int64_t now);

/* The refresh lead of a kind, in seconds. */
long acct_refresh_lead(enum acct_kind k);
/* The OAuth client of the kind's official CLI (secret NULL: none), used
 * by refreshes of files that name none, and by the logins. */
const char *acct_client_id(enum acct_kind k);
const char *acct_client_secret(enum acct_kind k);

#endif
