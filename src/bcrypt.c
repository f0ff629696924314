/*
 * bcrypt.c - bcrypt ("A Future-Adaptable Password Scheme", Provos and
 * Mazieres, 1999) on Blowfish (see bcrypt.h).
 *
 * The algorithm, with Blowfish's state (P: 18 words, S: 4 x 256 words)
 * starting from the digits of pi (bcrypt_pi.h):
 *
 *   EksBlowfishSetup(cost, salt, key):
 *       state = pi
 *       ExpandKey(state, salt, key)
 *       repeat 2^cost times:                      <- the "round pairs"
 *           ExpandKey(state, 0, key)
 *           ExpandKey(state, 0, salt)
 *   ctext = "OrpheanBeholderScryDoubt" (three 64-bit blocks)
 *   repeat 64 times: encrypt each block (ECB)
 *   hash = the first 23 of ctext's 24 bytes (big-endian words)
 *
 *   ExpandKey(state, data, key):
 *       P[i] ^= key word i (i = 0..17; the key repeats to 72 bytes)
 *       (L, R) = (0, 0)
 *       for each pair of words of P, then of S0..S3, in order:
 *           (L, R) ^= the next two words of data (cycling; none when 0)
 *           (L, R) = encrypt(L, R), stored into that pair
 *
 * The key is read once into 18 big-endian words (key || NUL, repeated,
 * first 72 bytes); the salt, used as a key, is its 4 words repeated.  A
 * job is that state plus a count of round pairs left, so a check can run
 * a few rounds per call (bcrypt_job_step) with the same result as all at
 * once.  Encryption is the usual 16 rounds, unrolled, with L and R in
 * registers; F(x) = ((S0[a] + S1[b]) ^ S2[c]) + S3[d] on x's bytes a..d.
 *
 * Strings use bcrypt's base64: standard bit order, alphabet
 * "./A-Za-z0-9", no padding; decoding refuses other characters and
 * non-zero unused bits, so only canonical strings parse.
 */
#define _GNU_SOURCE /* getrandom */
#include "bcrypt.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "bcrypt_pi.h"

/* ---- wiping ------------------------------------------------------------- */

/* memset through a volatile pointer: the compiler cannot prove the stores
 * dead, so it keeps them even when the memory is never read again. */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

static void wipe(void *p, size_t n)
{
	wipe_memset(p, 0, n);
}

/* ---- Blowfish ----------------------------------------------------------- */

#define BF_F(j, x)                                                           \
	((((j)->s[0][(x) >> 24] + (j)->s[1][((x) >> 16) & 0xff]) ^           \
	  (j)->s[2][((x) >> 8) & 0xff]) +                                    \
	 (j)->s[3][(x)&0xff])

/* Encrypt the block (*lp, *rp) in place. */
static inline void bf_encrypt(const struct bcrypt_job *j, uint32_t *lp,
			      uint32_t *rp)
{
	const uint32_t *p = j->p;
	uint32_t l = *lp ^ p[0], r = *rp;

	r ^= BF_F(j, l) ^ p[1];
	l ^= BF_F(j, r) ^ p[2];
	r ^= BF_F(j, l) ^ p[3];
	l ^= BF_F(j, r) ^ p[4];
	r ^= BF_F(j, l) ^ p[5];
	l ^= BF_F(j, r) ^ p[6];
	r ^= BF_F(j, l) ^ p[7];
	l ^= BF_F(j, r) ^ p[8];
	r ^= BF_F(j, l) ^ p[9];
	l ^= BF_F(j, r) ^ p[10];
	r ^= BF_F(j, l) ^ p[11];
	l ^= BF_F(j, r) ^ p[12];
	r ^= BF_F(j, l) ^ p[13];
	l ^= BF_F(j, r) ^ p[14];
	r ^= BF_F(j, l) ^ p[15];
	l ^= BF_F(j, r) ^ p[16];
	*lp = r ^ p[17];
	*rp = l;
}

/* The second half of ExpandKey with no data: chain encryptions of zero
 * through P and the S-boxes. */
static void bf_rekey(struct bcrypt_job *j)
{
	uint32_t l = 0, r = 0;
	int i, b;

	for (i = 0; i < 18; i += 2) {
		bf_encrypt(j, &l, &r);
		j->p[i] = l;
		j->p[i + 1] = r;
	}
	for (b = 0; b < 4; b++)
		for (i = 0; i < 256; i += 2) {
			bf_encrypt(j, &l, &r);
			j->s[b][i] = l;
			j->s[b][i + 1] = r;
		}
}

/* ExpandKey(state, salt, key): the first, salted schedule. */
static void bf_expand_salted(struct bcrypt_job *j)
{
	uint32_t l = 0, r = 0;
	int i, b, k = 0;

	for (i = 0; i < 18; i++)
		j->p[i] ^= j->key[i];
	for (i = 0; i < 18; i += 2) {
		l ^= j->salt[k];
		r ^= j->salt[k + 1];
		k ^= 2;
		bf_encrypt(j, &l, &r);
		j->p[i] = l;
		j->p[i + 1] = r;
	}
	for (b = 0; b < 4; b++)
		for (i = 0; i < 256; i += 2) {
			l ^= j->salt[k];
			r ^= j->salt[k + 1];
			k ^= 2;
			bf_encrypt(j, &l, &r);
			j->s[b][i] = l;
			j->s[b][i + 1] = r;
		}
}

/* n round pairs: ExpandKey(state, 0, key), ExpandKey(state, 0, salt). */
static void bf_rounds(struct bcrypt_job *j, uint32_t n)
{
	int i;

	while (n--) {
		for (i = 0; i < 18; i++)
			j->p[i] ^= j->key[i];
		bf_rekey(j);
		for (i = 0; i < 18; i++)
			j->p[i] ^= j->salt[i & 3];
		bf_rekey(j);
	}
}

/* ---- base64 (bcrypt's alphabet) ----------------------------------------- */

static const char b64_chars[] =
	"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static int b64_value(char c)
{
	if (c == '.' || c == '/')
		return c - '.';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 2;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 28;
	if (c >= '0' && c <= '9')
		return c - '0' + 54;
	return -1;
}

/* in[0..n) as ceil(n * 4 / 3) characters (no NUL written). */
static char *b64_encode(char *out, const unsigned char *in, size_t n)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			*out++ = b64_chars[(acc >> bits) & 63];
		}
	}
	if (bits)
		*out++ = b64_chars[(acc << (6 - bits)) & 63];
	return out;
}

/* Decode n bytes from in; 0, or -1 on a character outside the alphabet
 * (the NUL included, so reading stops at the string's end) or non-zero
 * unused bits in the last character. */
static int b64_decode(unsigned char *out, size_t n, const char *in)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	int v;

	while (o < n) {
		if ((v = b64_value(*in++)) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return acc & ((1u << bits) - 1) ? -1 : 0;
}

/* ---- hash strings ------------------------------------------------------- */

/* "$2b$10$" + 22 + 31 */
#define SETTING_LEN 7
#define SALT_CHARS 22
#define HASH_BYTES 23

struct parsed {
	int cost;
	unsigned char salt[BCRYPT_SALT_LEN];
	unsigned char hash[HASH_BYTES];
};

static int variant_ok(char v)
{
	return v == 'a' || v == 'b' || v == 'y';
}

/* Parse a whole hash string; 0 or -1.  Reads no further than its NUL. */
static int parse(const char *s, struct parsed *h)
{
	if (!s || s[0] != '$' || s[1] != '2' || !variant_ok(s[2]) ||
	    s[3] != '$')
		return -1;
	if (s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' ||
	    s[6] != '$')
		return -1;
	h->cost = (s[4] - '0') * 10 + (s[5] - '0');
	if (h->cost < BCRYPT_COST_MIN || h->cost > BCRYPT_COST_MAX)
		return -1;
	if (b64_decode(h->salt, BCRYPT_SALT_LEN, s + SETTING_LEN) < 0 ||
	    b64_decode(h->hash, HASH_BYTES, s + SETTING_LEN + SALT_CHARS) < 0)
		return -1;
	return s[BCRYPT_HASH_LEN] == '\0' ? 0 : -1;
}

int bcrypt_is_hash(const char *s)
{
	struct parsed h;
	return parse(s, &h) == 0;
}

/* ---- the computation ---------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Fresh state, key and salt words, the salted schedule; 2^cost round
 * pairs left. */
static void job_setup(struct bcrypt_job *j, const char *key, size_t keylen,
		      const unsigned char salt[BCRYPT_SALT_LEN], int cost)
{
	/* key || NUL, repeated: byte i is key[i % period], or the NUL */
	size_t period = keylen < BCRYPT_KEY_MAX ? keylen + 1 : BCRYPT_KEY_MAX;
	unsigned char kb[BCRYPT_KEY_MAX];
	size_t i, k;

	memcpy(j->p, bcrypt_pi_p, sizeof(j->p));
	memcpy(j->s, bcrypt_pi_s, sizeof(j->s));
	for (i = 0; i < BCRYPT_KEY_MAX; i++) {
		k = i % period;
		kb[i] = k < keylen ? (unsigned char)key[k] : 0;
	}
	for (i = 0; i < 18; i++)
		j->key[i] = be32(kb + 4 * i);
	wipe(kb, sizeof(kb));
	for (i = 0; i < 4; i++)
		j->salt[i] = be32(salt + 4 * i);
	memset(j->want, 0, sizeof(j->want));
	j->match = 0;
	j->state = 0;
	j->left = (uint32_t)1 << cost;
	bf_expand_salted(j);
}

/* Encrypt "OrpheanBeholderScryDoubt" 64 times; its first 23 bytes. */
static void job_output(struct bcrypt_job *j, unsigned char out[HASH_BYTES])
{
	static const unsigned char magic[24] = "OrpheanBeholderScryDoubt";
	uint32_t c[6];
	unsigned char bytes[24];
	int i, n;

	for (i = 0; i < 6; i++)
		c[i] = be32(magic + 4 * i);
	for (i = 0; i < 6; i += 2)
		for (n = 0; n < 64; n++)
			bf_encrypt(j, &c[i], &c[i + 1]);
	for (i = 0; i < 6; i++) {
		bytes[4 * i] = (unsigned char)(c[i] >> 24);
		bytes[4 * i + 1] = (unsigned char)(c[i] >> 16);
		bytes[4 * i + 2] = (unsigned char)(c[i] >> 8);
		bytes[4 * i + 3] = (unsigned char)c[i];
	}
	memcpy(out, bytes, HASH_BYTES);
	wipe(c, sizeof(c));
	wipe(bytes, sizeof(bytes));
}

int bcrypt_hash(const char *key, size_t keylen,
		const unsigned char salt[BCRYPT_SALT_LEN], int cost,
		char variant, char out[BCRYPT_HASH_LEN + 1])
{
	struct bcrypt_job j;
	unsigned char h[HASH_BYTES];
	char *o = out;

	out[0] = '\0';
	if (cost < BCRYPT_COST_MIN || cost > BCRYPT_COST_MAX ||
	    !variant_ok(variant) || !salt || (!key && keylen))
		return -1;
	job_setup(&j, key, keylen, salt, cost);
	bf_rounds(&j, j.left);
	job_output(&j, h);
	bcrypt_job_wipe(&j);

	*o++ = '$';
	*o++ = '2';
	*o++ = variant;
	*o++ = '$';
	*o++ = (char)('0' + cost / 10);
	*o++ = (char)('0' + cost % 10);
	*o++ = '$';
	o = b64_encode(o, salt, BCRYPT_SALT_LEN);
	o = b64_encode(o, h, HASH_BYTES);
	*o = '\0';
	wipe(h, sizeof(h));
	return 0;
}

/* ---- checking ----------------------------------------------------------- */

int bcrypt_job_start(struct bcrypt_job *j, const char *key, size_t keylen,
		     const char *hash)
{
	struct parsed h;

	if (parse(hash, &h) < 0 || (!key && keylen)) {
		bcrypt_job_wipe(j);
		j->state = -1;
		return -1;
	}
	job_setup(j, key, keylen, h.salt, h.cost);
	memcpy(j->want, h.hash, sizeof(j->want));
	return 0;
}

int bcrypt_job_step(struct bcrypt_job *j, unsigned max_rounds)
{
	unsigned char got[HASH_BYTES];
	unsigned diff = 0;
	uint32_t n;
	int i;

	if (j->state != 0)
		return 1;
	n = max_rounds < j->left ? (uint32_t)max_rounds : j->left;
	bf_rounds(j, n);
	j->left -= n;
	if (j->left)
		return 0;

	job_output(j, got);
	for (i = 0; i < HASH_BYTES; i++)
		diff |= (unsigned)(got[i] ^ j->want[i]);
	wipe(got, sizeof(got));
	bcrypt_job_wipe(j);
	/* diff is 0..255: diff - 1 wraps (top bits set) only for 0 */
	j->match = (unsigned char)((diff - 1) >> 8 & 1);
	j->state = 1;
	return 1;
}

int bcrypt_job_result(const struct bcrypt_job *j)
{
	return j->state == 1 && j->match;
}

void bcrypt_job_wipe(struct bcrypt_job *j)
{
	wipe(j, sizeof(*j));
}

int bcrypt_check(const char *key, size_t keylen, const char *hash)
{
	struct bcrypt_job j;
	int ok;

	if (bcrypt_job_start(&j, key, keylen, hash) < 0)
		return -1;
	bcrypt_job_step(&j, (unsigned)-1);
	ok = bcrypt_job_result(&j);
	bcrypt_job_wipe(&j);
	return ok;
}

/* ---- new hashes --------------------------------------------------------- */

/* n random bytes: getrandom() (blocking until the pool is initialised),
 * /dev/urandom where the system call is missing.  0 or -1. */
static int random_bytes(unsigned char *p, size_t n)
{
	size_t got = 0;
	ssize_t r;
	int fd;

	while (got < n) {
		r = getrandom(p + got, n - got, 0);
		if (r > 0)
			got += (size_t)r;
		else if (r < 0 && errno == EINTR)
			continue;
		else if (r < 0 && errno == ENOSYS)
			break;
		else
			return -1;
	}
	if (got == n)
		return 0;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (got < n) {
		r = read(fd, p + got, n - got);
		if (r > 0)
			got += (size_t)r;
		else if (!(r < 0 && errno == EINTR))
			break;
	}
	close(fd);
	return got == n ? 0 : -1;
}

int bcrypt_new(const char *key, size_t keylen, int cost,
	       char out[BCRYPT_HASH_LEN + 1])
{
	unsigned char salt[BCRYPT_SALT_LEN];
	int rc;

	out[0] = '\0';
	if (cost < BCRYPT_COST_MIN || cost > BCRYPT_COST_MAX)
		return -1;
	if (random_bytes(salt, sizeof(salt)) < 0)
		return -1;
	rc = bcrypt_hash(key, keylen, salt, cost, 'a', out);
	wipe(salt, sizeof(salt));
	return rc;
}
