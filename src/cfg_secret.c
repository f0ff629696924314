/*
 * cfg_secret.c - hashing a plain management key into config.ini
 * (cfg_secret.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "bcrypt.h"
#include "cfg.h"
#include "cfg_secret.h"
#include "fmt.h"

int cfg_secret_hash(struct cfg *c, char *err, size_t errlen)
{
	char hash[BCRYPT_HASH_LEN + 1], *dup;
	const char *k = c->rm_secret_key;

	if (!k || !*k || bcrypt_is_hash(k))
		return 0;
	if (!c->path) {
		fmt_snprintf(err, errlen, "no config file to keep the hash in");
		return -1;
	}
	if (bcrypt_new(k, strlen(k), CFG_SECRET_COST, hash) < 0) {
		fmt_snprintf(err, errlen, "no random salt for the key's hash");
		return -1;
	}
	if (cfg_edit_file(c->path, "remote-management", "secret-key", hash,
			  err, errlen) != 0) {
		if (!err[0])
			fmt_snprintf(err, errlen, "secret-key not found in %s",
				     c->path);
		return -1;
	}
	if (!(dup = strdup(hash))) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(c->rm_secret_key, 0, strlen(c->rm_secret_key));
	free(c->rm_secret_key);
	c->rm_secret_key = dup;
	return 0;
}
