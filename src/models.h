/*
 * models.h - which models the configured providers serve.
 *
 * Each kind of key and account serves a fixed list (for Codex accounts,
 * by plan), or what its upstream lists when it has a list endpoint and
 * answered (mlist.h, mfetch.h); each openai-compatibility provider its
 * aliases.  route.c gathers them once per config, account-set and list
 * generation.
 */
#ifndef MODELS_H
#define MODELS_H

#include <stddef.h>

#include "prov.h"

struct cfg;


struct route_model;

struct model_info {
	const char *id;
	const char *display_name;
	const char *owned_by;
	long long created;      /* unix time of the model's release */
	enum prov_kind provider;/* the kind of its first candidate */
	const void *entry;      /* PROV_COMPAT: the struct cfg_compat */
	const char *upstream;   /* PROV_COMPAT: upstream model name */
	const struct route_model *rm; /* route.h: who serves it */
};

/* A provider's fixed model list (NULL-id ended), or NULL (compat). */
struct model_fixed {
	const char *id, *display;
	long long created;
};
const struct model_fixed *models_table(enum prov_kind k, const char *plan);

/* The names of kind k that stay served when its credential serves the
 * list its upstream gave (mlist.h) and that list lacks them: names the
 * reference's README documents, which clients count on.  NULL-ended, or
 * NULL.  Each is in models_table(k, NULL). */
const char *const *models_kept(enum prov_kind k);

const char *models_provider_name(enum prov_kind p);

/*
 * Is s[0..n) a model name a client may ask for?  NULL when it is, else a
 * message for a 400 (which never repeats the name).  The set is kept
 * narrow because names reach upstream paths and request lines: ASCII
 * letters, digits and - . _ ~ : / @ + = , ( ) [ ] !, at most
 * MODEL_NAME_MAX bytes, and '/'-separated segments that are neither
 * empty nor "." nor "..".
 */
const char *models_name_check(const char *s, size_t n);

#endif
