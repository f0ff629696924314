/*
 * models.h - which models the configured providers serve.
 *
 * The list is derived from a config: each API key family contributes its
 * static model list, each openai-compatibility provider its aliases.  Ids
 * are unique in the walk: the first provider to claim an id lists it.
 * route.c walks it once per config generation and answers lookups from
 * its own table.
 */
#ifndef MODELS_H
#define MODELS_H

#include <stddef.h>

#include "prov.h"

struct cfg;


struct model_info {
	const char *id;
	const char *display_name;
	const char *owned_by;
	long created;           /* unix time of the model's release */
	enum prov_kind provider;
	const void *entry;      /* PROV_COMPAT: the struct cfg_compat */
	const char *upstream;   /* PROV_COMPAT: upstream model name */
};

/* Call cb for each model served; stop early when cb returns non-zero. */
void models_each(const struct cfg *c,
		 int (*cb)(const struct model_info *m, void *u), void *u);

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
