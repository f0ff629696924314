/*
 * bcrypt.c - fuzz target: bcrypt_is_hash, bcrypt_check, bcrypt_hash and
 * the step-by-step job agree.
 *
 * Input: [opt] [n] [n bytes: a hash candidate] [the rest: a key].
 * Option bits:
 *   0-1   the job's step: 1, 7, 64 or UINT_MAX round pairs
 *   2     built mode: the candidate's bytes are not a string but
 *         [cost] [variant] [16 salt bytes] for bcrypt_hash, whose output
 *         is then checked (so most runs reach a match)
 * Checks, on the candidate as a C string (it ends at its first NUL):
 *   - bcrypt_is_hash agrees with a plain reading of the format written
 *     here (60 characters, $2a$/$2b$/$2y$, cost 04..31, bcrypt's base64
 *     with the unused bits of the last salt and hash characters zero);
 *   - bcrypt_check gives -1 exactly when it is not a hash, and
 *     bcrypt_job_start -1 exactly then too (the job then finished, 0);
 *   - for a hash of cost <= 6 (higher ones are skipped: too slow to
 *     fuzz): the job in steps gives bcrypt_check's answer, after the
 *     expected number of steps; bcrypt_hash of the key with the hash's
 *     salt, cost and prefix equals the hash exactly when the check says
 *     1; a key longer than 72 bytes answers as its first 72;
 *   - built mode: bcrypt_hash fails exactly on a bad variant; otherwise
 *     its output is a hash, the key matches it (check and job), and the
 *     key with its first byte changed does not.
 */
#include <limits.h>

#include "bcrypt.h"
#include "fuzz.h"

#define COST_CAP 6

static const char alphabet[] =
	"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* Index of c in the alphabet, -1 when not in it (NUL included). */
static int b64_index(char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

/* The format, read plainly. */
static int reference_is_hash(const char *s)
{
	int i, cost;

	if (strlen(s) != BCRYPT_HASH_LEN)
		return 0;
	if (strncmp(s, "$2", 2) || !strchr("aby", s[2]) || s[3] != '$' ||
	    s[6] != '$')
		return 0;
	if (s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9')
		return 0;
	cost = (s[4] - '0') * 10 + (s[5] - '0');
	if (cost < 4 || cost > 31)
		return 0;
	for (i = 7; i < BCRYPT_HASH_LEN; i++)
		if (b64_index(s[i]) < 0)
			return 0;
	/* 22 characters hold 132 bits for 128; 31 hold 186 for 184 */
	return (b64_index(s[28]) & 15) == 0 && (b64_index(s[59]) & 3) == 0;
}

static void salt_of(const char *s, unsigned char salt[16])
{
	unsigned acc = 0, bits = 0;
	int i, o = 0;

	for (i = 0; o < 16; i++) {
		acc = acc << 6 | (unsigned)b64_index(s[7 + i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			salt[o++] = (unsigned char)(acc >> bits);
		}
	}
}

static unsigned step_of(unsigned opt)
{
	static const unsigned steps[] = {1, 7, 64, UINT_MAX};
	return steps[opt & 3];
}

/* The job's answer in steps of `step`; checks the count of steps. */
static int job_answer(const char *key, size_t n, const char *hash,
		      unsigned step, int cost)
{
	struct bcrypt_job j;
	unsigned calls = 0, rounds = 1u << cost;
	int r;

	FZ_CHECK(bcrypt_job_start(&j, key, n, hash) == 0);
	do
		calls++;
	while (!bcrypt_job_step(&j, step));
	FZ_CHECK(calls == (rounds - 1) / step + 1);
	r = bcrypt_job_result(&j);
	FZ_CHECK(bcrypt_job_step(&j, step) == 1 && bcrypt_job_result(&j) == r);
	bcrypt_job_wipe(&j);
	return r;
}

static void candidate(const char *s, const char *key, size_t n,
		      unsigned opt)
{
	struct bcrypt_job j;
	int is = bcrypt_is_hash(s), r, cost;
	unsigned char salt[16];
	char out[BCRYPT_HASH_LEN + 1];

	FZ_CHECK(is == reference_is_hash(s));
	if (!is) {
		FZ_CHECK(bcrypt_check(key, n, s) == -1);
		FZ_CHECK(bcrypt_job_start(&j, key, n, s) == -1);
		FZ_CHECK(bcrypt_job_step(&j, 1) == 1);
		FZ_CHECK(bcrypt_job_result(&j) == 0);
		return;
	}
	cost = (s[4] - '0') * 10 + (s[5] - '0');
	if (cost > COST_CAP) {
		/* starting is cheap at any cost */
		FZ_CHECK(bcrypt_job_start(&j, key, n, s) == 0);
		FZ_CHECK(bcrypt_job_result(&j) == 0);
		bcrypt_job_wipe(&j);
		return;
	}
	r = bcrypt_check(key, n, s);
	FZ_CHECK(r == 0 || r == 1);
	FZ_CHECK(job_answer(key, n, s, step_of(opt), cost) == r);
	salt_of(s, salt);
	FZ_CHECK(bcrypt_hash(key, n, salt, cost, s[2], out) == 0);
	FZ_CHECK((strcmp(out, s) == 0) == r);
	if (n > BCRYPT_KEY_MAX)
		FZ_CHECK(bcrypt_check(key, BCRYPT_KEY_MAX, s) == r);
}

static void built(const uint8_t *p, size_t len, char *key, size_t n,
		  unsigned opt)
{
	unsigned char salt[16] = {0};
	char out[BCRYPT_HASH_LEN + 1];
	int cost = 4 + (len > 0 ? p[0] % (COST_CAP - 3) : 0);
	char variant = len > 1 ? (char)p[1] : 'a';
	int rc;

	if (len > 2)
		memcpy(salt, p + 2, len - 2 < 16 ? len - 2 : 16);
	memset(out, 'x', sizeof(out));
	rc = bcrypt_hash(key, n, salt, cost, variant, out);
	if (variant != 'a' && variant != 'b' && variant != 'y') {
		FZ_CHECK(rc == -1 && out[0] == '\0');
		return;
	}
	FZ_CHECK(rc == 0);
	FZ_CHECK(bcrypt_is_hash(out) && reference_is_hash(out));
	FZ_CHECK(out[2] == variant && out[4] == '0' && out[5] == '0' + cost);
	FZ_CHECK(bcrypt_check(key, n, out) == 1);
	FZ_CHECK(job_answer(key, n, out, step_of(opt), cost) == 1);
	if (n == 0) {
		FZ_CHECK(bcrypt_check("\x01", 1, out) == 0);
	} else {
		key[0] ^= 1;
		FZ_CHECK(bcrypt_check(key, n, out) == 0);
		key[0] ^= 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = {data, size};
	unsigned opt = fz_byte(&in);
	size_t hlen = fz_byte(&in);
	char *hash, *key;

	if (hlen > in.n)
		hlen = in.n;
	hash = fz_strdup(in.p, hlen);
	key = fz_dup(in.p + hlen, in.n - hlen);
	if (opt & 4)
		built(in.p, hlen, key, in.n - hlen, opt);
	else
		candidate(hash, key, in.n - hlen, opt);
	free(hash);
	free(key);
	return 0;
}
