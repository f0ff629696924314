/*
 * mfetch.h - fetching what each credential's upstream says it serves.
 *
 * Kinds whose descriptor has a list call (prov.h: Claude keys, Claude
 * Code accounts, AI Studio keys, Antigravity accounts) ask their
 * upstream for its model list in the background, inside the loop: an
 * ordinary upstream call (hc) through the credential's base URL and
 * proxy, like a token refresh (acct.h).  The answer (mlist.h) replaces
 * the kind's table for that credential when the route is next built.
 *
 * The store keeps one entry per credential of the running route that
 * can list (struct mfetch_cred): its last good list, when to fetch
 * next, the fetch in flight.  A credential is known by its account (a
 * changed file is a new account, so a new entry, fetched at once) or by
 * its key, base URL and proxy (so a config reload keeps the lists of
 * keys it kept).  Entries point into the route they were last synced
 * with (mfetch_sync), which the store holds.
 *
 * When:      at start-up (each new entry at once), then every
 *            model-list-refresh; a failure retries after
 *            MFETCH_RETRY_MS, doubling up to model-list-refresh; an
 *            account whose token needs a refresh (acct_must_refresh) is
 *            skipped for MFETCH_RETRY_MS rather than refreshed for this.
 * How many:  one fetch per credential at a time, MFETCH_AT_ONCE in all.
 * Failures:  the previous list (or the table) stays; one log line, a
 *            warning for the first failure in a row, debug after.
 * Memory:    a list is one block; credentials with equal answers share
 *            it (mlist_same); answer bodies are held only while read.
 *
 * When a finished fetch changes a credential's list, changed() runs
 * once after the current callback (several in one loop turn: once), and
 * its owner builds a new route from mfetch_lists() as it does when the
 * accounts change; exchanges in flight keep the route they started
 * with, and that route keeps its lists referenced.
 */
#ifndef MFETCH_H
#define MFETCH_H

#include <stdint.h>

#include "loop.h"
#include "route.h"

struct hc_ctx;
struct mfetch_cred;

struct mfetch {
	struct loop *l;
	struct hc_ctx *hc;
	struct route *r;            /* the route last synced (held) */
	struct mfetch_cred *list;
	int inflight;
	struct loop_timer tick;     /* the next due fetch */
	struct loop_defer d;        /* changed() pending */
	void (*changed)(struct mfetch *m, void *u);
	void *u;
	unsigned long fetched;      /* answers taken, for tests and logs */
};

void mfetch_init(struct mfetch *m, struct loop *l, struct hc_ctx *hc,
		 void (*changed)(struct mfetch *m, void *u), void *u);
/* r is the running route now: entries for its listing credentials are
 * kept or made (new ones fetch at once), the others dropped (a fetch in
 * flight is aborted).  The store holds r until the next sync. */
void mfetch_sync(struct mfetch *m, struct route *r);
void mfetch_free(struct mfetch *m);

/* Where route_build finds the lists (route.h). */
struct route_lists mfetch_lists(struct mfetch *m);

#endif
