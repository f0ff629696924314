/*
 * bcrypt.h - bcrypt password hashes ($2a$, $2b$, $2y$): make one, check a
 * key against one, at once or a few rounds at a time.
 *
 * A hash is 60 characters: "$2b$" (or $2a$ / $2y$), a two-digit cost
 * 04..31, "$", 22 characters of salt (16 bytes) and 31 of hash (23 bytes),
 * both in bcrypt's base64 ("./A-Za-z0-9", no padding).  Checking costs
 * 2^cost rounds of Blowfish's key schedule (~60 ms at cost 10); a server
 * spreads that over several turns of its loop with struct bcrypt_job.
 *
 * Keys.  The key is keylen bytes followed by one NUL, and of that only
 * the first 72 bytes count (a key of 72 bytes or more loses its NUL).
 * Bytes are bytes: an embedded NUL is part of the key, as with Go's
 * x/crypto/bcrypt (C crypt() stops there), though the repetition makes
 * some such keys equal to others ("\0" hashes as "", "a\0a" as "a");
 * a byte >= 0x80 is unsigned ($2x$, crypt_blowfish's name for the old
 * sign-extension bug, is refused).
 *
 * The three prefixes compute the same thing, for every key length: this
 * is what OpenBSD's $2b$, crypt_blowfish's $2y$, bcryptjs and pyca/bcrypt
 * do.  Two older readings of $2a$ differ, both on rare keys only:
 *  - OpenBSD's $2a$ counts the key length in 8 bits, so a key of 255
 *    bytes or more wraps (a 300-byte key hashes as its first 45 bytes);
 *    here a long $2a$ key is cut at 72 bytes like any other;
 *  - crypt_blowfish's $2a$ alters the state for keys whose bytes >= 0x80
 *    would have collided under the sign-extension bug (openwall's test
 *    key "\xff\xff\xa3"); here $2a$ hashes those as $2b$ does.
 *
 * Strings.  Only canonical hashes are accepted: the unused low bits of the
 * last salt character (4) and of the last hash character (2) must be
 * zero, as every implementation writes them.  So a well-formed hash is
 * exactly a string that bcrypt_hash can produce, and checking compares
 * the computed 23 bytes with the stored ones in constant time.
 *
 * Key material (the key's words, the Blowfish state) is wiped when a job
 * ends and by bcrypt_job_wipe; only bcrypt_new does I/O (the random salt).
 */
#ifndef BCRYPT_H
#define BCRYPT_H

#include <stddef.h>
#include <stdint.h>

#define BCRYPT_HASH_LEN 60
#define BCRYPT_SALT_LEN 16
#define BCRYPT_COST_MIN 4
#define BCRYPT_COST_MAX 31
/* Bytes of the key that count (the NUL after a shorter key counts too). */
#define BCRYPT_KEY_MAX 72

/* 1 when s is a well-formed canonical $2a$/$2b$/$2y$ hash (cost 04..31,
 * exactly 60 characters), else 0.  NULL gives 0. */
int bcrypt_is_hash(const char *s);

/* Hash key[0..keylen) with salt at cost 4..31; variant is 'a', 'b' or 'y'
 * (the prefix written).  out gets 60 characters and a NUL.  0, or -1 on a
 * bad cost or variant, a NULL salt, or a NULL key with keylen > 0 (out
 * then holds "").  key may be NULL when keylen is 0. */
int bcrypt_hash(const char *key, size_t keylen,
		const unsigned char salt[BCRYPT_SALT_LEN], int cost,
		char variant, char out[BCRYPT_HASH_LEN + 1]);

/* 1 when key matches hash, 0 when it does not, -1 when hash is not
 * well-formed (bcrypt_is_hash) or key is NULL with keylen > 0.  Runs all
 * 2^cost rounds at once. */
int bcrypt_check(const char *key, size_t keylen, const char *hash);

/* A new $2a$ hash of key (the prefix Go's x/crypto/bcrypt writes, read by
 * every implementation) with a salt from getrandom(), or /dev/urandom
 * where that system call is missing.  0, or -1 on a bad cost or when no
 * randomness could be had (out then holds ""). */
int bcrypt_new(const char *key, size_t keylen, int cost,
	       char out[BCRYPT_HASH_LEN + 1]);

/* ---- checking a few rounds at a time -------------------------------------
 *
 *   struct bcrypt_job j;
 *   if (bcrypt_job_start(&j, key, keylen, hash) < 0)
 *           -> malformed hash
 *   while (!bcrypt_job_step(&j, 64))
 *           -> come back on the next turn of the loop
 *   ok = bcrypt_job_result(&j);
 *   bcrypt_job_wipe(&j);
 *
 * The job copies what it needs from key and hash, so neither must outlive
 * bcrypt_job_start.  It holds the whole Blowfish state (~4.2 KB); the
 * caller owns the memory.  Fields are private.
 */
struct bcrypt_job {
	uint32_t p[18];
	uint32_t s[4][256];
	uint32_t key[18];       /* the key as 18 big-endian words */
	uint32_t salt[4];       /* the salt as 4 big-endian words */
	unsigned char want[23]; /* the stored hash's bytes */
	unsigned char match;    /* result, once done */
	signed char state;      /* 0 running, 1 done, -1 malformed hash */
	uint32_t left;          /* round pairs still to do */
};

/* Start checking key against hash: the salted key schedule (half a
 * round pair's work) runs here.  0, or -1 when hash is not well-formed
 * or key is NULL with keylen > 0 (the job is then finished, result 0). */
int bcrypt_job_start(struct bcrypt_job *j, const char *key, size_t keylen,
		     const char *hash);

/* Run at most max_rounds of the 2^cost round pairs (each: the key
 * schedule with the key, then with the salt; ~60 us each).  Returns 1
 * when the check is finished (the key material is wiped then), 0 when
 * more remains.  A finished job stays finished. */
int bcrypt_job_step(struct bcrypt_job *j, unsigned max_rounds);

/* 1 when the job finished and the key matched, else 0. */
int bcrypt_job_result(const struct bcrypt_job *j);

/* Wipe the whole job (key words, state, result). */
void bcrypt_job_wipe(struct bcrypt_job *j);

#endif
