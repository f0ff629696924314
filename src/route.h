/*
 * route.h - which credentials answer which model, compiled once per
 * config generation and account-set change.
 *
 * A route is a snapshot.  It holds the config it was built from
 * (refcounted: a route rebuilt for a new account set shares it), every
 * credential that can be used (each key of the config, each usable
 * account of auth-dir, referenced), and the served models: a hash from
 * model id to its candidates, the credentials that serve it, which a
 * cursor per model rotates through.  The server holds the current route;
 * each exchange holds a reference to the one it started with, so a
 * reload or an auth-dir change never pulls a config, a provider, a key
 * or an account out from under it.
 *
 * What a credential serves is its kind's fixed table (models.h) or,
 * when its upstream answered a list fetch (mfetch.h), that list and the
 * kind's kept names.  The route references each list it serves from, so
 * a newer fetch never pulls ids out from under it.
 *
 * Besides the listed models there are three families for names no list
 * has: other gemini-*, claude-* and gpt-* names go to every credential
 * of that vendor (as the reference routes them by prefix).
 */
#ifndef ROUTE_H
#define ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "models.h"
#include "prov.h"

struct acct;
struct acct_store;
struct mlist;

/* One credential: a key of the config or an account. */
struct route_cred {
	enum prov_kind prov;
	const struct cfg_compat *compat; /* PROV_COMPAT: its provider */
	struct prov_key key;             /* key kinds: all of it */
	struct acct *acct;               /* account kinds (referenced) */
	int64_t rest_until;              /* key kinds: resting after a quota
					    answer (loop ms; accounts keep
					    theirs in struct acct) */
	struct mlist *models;            /* what its upstream listed
					    (referenced), or NULL: it serves
					    its kind's table */
};

/* Where a build finds the lists the credentials' upstreams gave
 * (mfetch.h): of() returns c's list, or NULL for its kind's table.  The
 * route takes its own reference.  Only kinds with a list call are asked,
 * and none when the config's model-list-refresh is 0. */
struct route_lists {
	struct mlist *(*of)(void *u, const struct route_cred *c);
	void *u;
};

/* A candidate for a model: a credential, and the upstream's name for the
 * model (compat aliases; NULL: the name the client used). */
struct route_cand {
	uint32_t cred;
	const char *upstream;
};

struct route_model {
	struct model_info m;
	uint32_t first, n;        /* cands[first .. first+n) */
	unsigned cursor;          /* round-robin */
	unsigned kinds;           /* 1 << enum prov_kind of its candidates */
};

struct route_cfg;

struct route {
	unsigned refs;
	unsigned gen;               /* generation (prov's memo) */
	struct cfg *cfg;            /* the config snapshot (shared) */
	struct route_cfg *cs;
	unsigned acct_gen;          /* the account set it was built from */
	struct route_cred *creds;
	size_t ncreds;
	struct route_cand *cands;
	size_t ncands;
	struct route_model *models; /* listed models, then the families */
	size_t nmodels;             /* listed ones */
	size_t nall;                /* with the families */
	uint32_t *slots;            /* open addressing: index + 1, 0 empty */
	size_t nslots;              /* a power of two */
};

/* Build from *cfg, which the route takes over (*cfg is cleared), the
 * usable accounts of st (NULL: none) and the lists of ls (NULL: the
 * tables).  NULL when out of memory (cfg is then freed). */
struct route *route_build(struct cfg *cfg, const struct acct_store *st,
			  const struct route_lists *ls, unsigned gen);
/* The same config as old, with st's accounts and ls's lists now. */
struct route *route_rebuild(const struct route *old,
			    const struct acct_store *st,
			    const struct route_lists *ls, unsigned gen);
struct route *route_ref(struct route *r);
void route_unref(struct route *r);

/* The model clients ask for by id[0..len): 1 found (*out filled, out->rm
 * its candidates), 0 not.  Names no list has go to their vendor's family
 * when it has credentials (out->id is then NULL). */
int route_find(const struct route *r, const char *id, size_t len,
	       struct model_info *out);

/* The family entry of names beginning with prefix ("gemini-", "claude-",
 * "gpt-"): every credential of that vendor.  NULL when it has none. */
const struct route_model *route_family(const struct route *r,
				       const char *prefix);

/* Each listed model, in list order; stops when cb returns non-zero. */
void route_each(const struct route *r,
		int (*cb)(const struct model_info *m, void *u), void *u);

/* Pick a candidate of rm for a new request at loop time now: the next in
 * rotation whose credential can be used now.  Its index in rm (0..n-1),
 * or -1 when every one is resting; *ready_at then says when the first
 * one can be used again (loop ms). */
int route_pick(struct route *r, const struct route_model *rm, int64_t now,
	       int64_t *ready_at);
/* The next candidate after index i for a retry: same provider kind (and
 * compat provider) as cand i0, usable now, not tried (tried counts the
 * candidates moved past since i0).  -1 when none is left. */
int route_next(const struct route *r, const struct route_model *rm, int i0,
	       int i, int64_t now);

/* Candidate i of rm was moved to: the rotation goes on after it. */
void route_used(struct route *r, const struct route_model *rm, int i);

static inline const struct route_cand *
route_cand_at(const struct route *r, const struct route_model *rm, int i)
{
	return &r->cands[rm->first + (uint32_t)i];
}

static inline struct route_cred *
route_cred_at(const struct route *r, const struct route_model *rm, int i)
{
	return &r->creds[route_cand_at(r, rm, i)->cred];
}

/* The credential's key for an attempt: key kinds as they are; an
 * account's token, project (p: index from acct_pick_project), account id,
 * base URL. */
void route_key_of(const struct route_cred *c, int p, struct prov_key *out);

#endif
