/*
 * cfg_secret.h - the management key in config.ini: a plain secret-key is
 * replaced by its bcrypt hash in the file itself, as the reference does,
 * so the key a user typed is on disk only until the server first reads it.
 */
#ifndef CFG_SECRET_H
#define CFG_SECRET_H

#include <stddef.h>

struct cfg;

#define CFG_SECRET_COST 10

/*
 * When c's [remote-management] secret-key is set and not a bcrypt hash
 * yet: hash it (cost CFG_SECRET_COST), write the hash over it in c->path
 * (only that value changes: comments and everything else stay; atomic),
 * and keep the hash in c.  0 done or nothing to do; -1 when the file
 * cannot be rewritten (err says why, never the key): c keeps the plain
 * key then, which still works.
 */
int cfg_secret_hash(struct cfg *c, char *err, size_t errlen);

#endif
