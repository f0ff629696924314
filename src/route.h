/*
 * route.h - which upstream answers which model, compiled once per
 * config generation.
 *
 * A route is a snapshot: it owns the config it was built from, the list
 * of served models (models.c says which each key family serves) with a
 * hash from model id to entry, and the round-robin cursors that spread
 * requests over each provider's keys.  The server holds the current one;
 * each exchange holds a reference to the one it started with, so a
 * reload never pulls a config, a provider or a key out from under it:
 * the old snapshot is freed when its last exchange ends.
 *
 * The accounts work adds OAuth accounts, their cooldowns and the
 * account-set generation to the candidates kept here.
 */
#ifndef ROUTE_H
#define ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "models.h"
#include "prov.h"

struct route {
	unsigned refs;
	unsigned gen;               /* config generation (for prov's memo) */
	struct cfg cfg;             /* the snapshot */
	struct model_info *models;  /* served models, in list order */
	size_t nmodels;
	uint32_t *slots;            /* open addressing: index + 1, 0 empty */
	size_t nslots;              /* a power of two */
	unsigned *cursor;           /* key rotation: one per compat provider,
				       then one per key family */
};

/* Build from *cfg, which the route takes over (*cfg is cleared).  NULL
 * when out of memory (cfg is then freed). */
struct route *route_build(struct cfg *cfg, unsigned gen);
struct route *route_ref(struct route *r);
void route_unref(struct route *r);

/* The model clients ask for by id[0..len): 1 found (*out filled), 0 not.
 * As the reference, other gemini-* / claude-* names go to that vendor's
 * key family when one is configured (out->id is then NULL). */
int route_find(const struct route *r, const char *id, size_t len,
	       struct model_info *out);

/* Each served model, in list order; stops when cb returns non-zero. */
void route_each(const struct route *r,
		int (*cb)(const struct model_info *m, void *u), void *u);

/* Keys a provider has (compat: that entry's). */
size_t route_nkeys(const struct route *r, enum prov_kind k,
		   const struct cfg_compat *compat);

/* The next key of a provider, round-robin, and what comes with it.
 * 0 ok, else a status (500: nothing configured), with *msg. */
int route_key(struct route *r, enum prov_kind k,
	      const struct cfg_compat *compat, struct prov_key *out,
	      const char **msg);

#endif
