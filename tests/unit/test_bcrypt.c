/*
 * test_bcrypt.c - bcrypt hashes: known answers for $2a$, $2b$, $2y$ at
 * every cost from 4 to 12, the 72-byte cut, empty, high-bit and
 * embedded-NUL keys, malformed hashes, the step-by-step job against the
 * one-call check, and new hashes with random salts.
 *
 * Where the vectors come from (each was also checked by at least one
 * other of these implementations before it was committed):
 *   OW   openwall crypt_blowfish 1.3's wrapper.c test list (cost 5)
 *   JB   jBCrypt's test vectors (Damien Miller; costs 6, 8, 10, 12)
 *   PY   pyca/bcrypt's test list (the long $2a$ keys, cost 4)
 *   JS   made with bcryptjs 3.0.3 (npm) from a chosen setting
 *   HT   made with htpasswd -B (Apache's apr-util crypt_blowfish)
 * All but the embedded-NUL key (which pyca/bcrypt refuses to take) verify
 * with pyca/bcrypt 3.2; the JS and $2y$ ones with htpasswd too.
 */
#include <limits.h>
#include <string.h>

#include "bcrypt.h"
#include "t.h"

struct vec {
	const char *key;
	int len; /* -1: strlen(key) */
	const char *hash;
};

#define K72 "0123456789abcdefghijklmnopqrstuvwxyz" \
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define AA12 "\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa"
#define AA72 AA12 AA12 AA12 AA12 AA12 AA12
#define A5_12 "\xaa\x55\xaa\x55\xaa\x55\xaa\x55\xaa\x55\xaa\x55"
#define A5_72 A5_12 A5_12 A5_12 A5_12 A5_12 A5_12
#define U9 "\x55\xaa\xff\x55\xaa\xff\x55\xaa\xff"
#define U9_72 U9 U9 U9 U9 U9 U9 U9 U9
#define D10 "0123456789"
#define D250 D10 D10 D10 D10 D10 D10 D10 D10 D10 D10 D10 D10 D10 \
	     D10 D10 D10 D10 D10 D10 D10 D10 D10 D10 D10 D10

#define OW_UU "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
#define OW_UUU "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a"
#define OW_EMPTY "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy"
#define OW_FFA3_B "$2b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e"
#define OW_FFA3_Y "$2y$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e"
#define JS_A_NUL_B \
	"$2b$05$abcdefghijklmnopqrstuuZryQ3HLnGrTji8GGXkkAn2CuMsqqjDG"
#define JS_A "$2b$05$abcdefghijklmnopqrstuu8.veTXNDPV2eEsdpKNczMw2otgh5LnK"

static const struct vec vecs[] = {
	/* cost 4 */
	{"a", -1, /* JS */
	 "$2b$04$abcdefghijklmnopqrstuuMFdJu9yVgmagVAIC24fOZkaFqd3s9JC"},
	{"Tr0ub4dor&3", -1, /* JS */
	 "$2a$04$......................Rqr9jLuREF2VFGGbeI5O6Id0bo8jgBq"},
	{"", -1, /* HT */
	 "$2y$04$pp4IOacoJgXTD3MR6LWlY.dQed4z51N0V6gA7x3L3nnqPNHWnSGvm"},
	/* cost 5: openwall */
	{"U*U", -1, OW_UU},
	{"U*U*", -1, "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK"},
	{"U*U*U", -1, OW_UUU},
	{"", -1, OW_EMPTY},
	{K72 "chars after 72 are ignored", -1,
	 "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"},
	{"\xa3", -1, "$2a$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq"},
	{"\xa3", -1, "$2y$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq"},
	{"\xff\xff\xa3", -1, OW_FFA3_B},
	{"\xff\xff\xa3", -1, OW_FFA3_Y},
	{"\xff\xa3" "345", -1,
	 "$2a$05$/OK.fbVrR/bpIqNJ5ianF.nRht2l/HRhr6zmCp9vYUvvsqynflf9e"},
	{"\xa3" "ab", -1,
	 "$2a$05$/OK.fbVrR/bpIqNJ5ianF.6IflQkJytoRVc1yuaNtHfiuq.FRlSIS"},
	{AA72 "chars after 72 are ignored as usual", -1,
	 "$2a$05$/OK.fbVrR/bpIqNJ5ianF.swQOIzjOiJ9GHEPuhEkvqrUyvWhEMx6"},
	{A5_72, -1, "$2a$05$/OK.fbVrR/bpIqNJ5ianF.R9xrDjiycxMbQE2bp.vgqlYpW5wx2yy"},
	{U9_72, -1, "$2a$05$/OK.fbVrR/bpIqNJ5ianF.9tQZzcJfm3uj2NvJ/n5xkhpqLrMpWCe"},
	/* cost 5: a NUL inside the key is part of it (JS) */
	{"a\0b", 3, JS_A_NUL_B},
	{"a", -1, JS_A},
	/* cost 6 */
	{"", -1, /* JB */
	 "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s."},
	{"abc", -1, /* JB */
	 "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i"},
	{"~!@#$%^&*()      ~!@#$%^&*()PNBFRD", -1, /* JB */
	 "$2a$06$fPIsBO8qRqkjj273rfaOI.HtSV9jLDpTbZn782DC6/t7qT67P6FfO"},
	{D10 D10 D10 D10 D10 D10 D10 "01", -1, /* 72 bytes (JS) */
	 "$2b$06$R1lJ2gkNaoPGdafE.H.16.Ije4qNl/G16pDpPv4.8vwo7ocZfxsga"},
	{D10 D10 D10 D10 D10 D10 D10 "0", -1, /* 71 bytes (JS) */
	 "$2b$06$R1lJ2gkNaoPGdafE.H.16.NHXsEWWRhkcsncVoO6/ezf6Nk6BMT1e"},
	/* cost 7 (JS) */
	{"correct horse battery staple", -1,
	 "$2y$07$Xu5vUJv7V4tK0b4G0aXnqekydT0Kyy9D9RqDi6T1O1F7EQBG07gH."},
	{"p\xc3\xa4ssw\xc3\xb6rd \xe2\x98\x83", -1,
	 "$2b$07$0123456789abcdefghijkurmJd4coXGpJ2QeN08V.0jzIJ0HBLNcq"},
	/* cost 8 */
	{"", -1, /* JB */
	 "$2a$08$HqWuK6/Ng6sg9gQzbLrgb.Tl.ZHfXLhvt/SgVyWhQqgqcZ7ZuUtye"},
	{"secret-key", -1, /* JS */
	 "$2a$08$ABCDEFGHIJKLMNOPQRSTUuntfbsOrjIrYHHP5CnUIZpiINqZfqn5a"},
	/* cost 9 (JS) */
	{"abcdefghijklmnopqrstuvwxyz", -1,
	 "$2b$09$zyxwvutsrqponmlkjihgfe9sxI2YojJQQ1m5Qm/TvI52Xsa.Wksmq"},
	/* cost 10 */
	{"", -1, /* JB */
	 "$2a$10$k1wbIrmNyFAPwPVPSVa/zecw2BCEnBwVS2GbrmgzxFUOqW9dk4TCW"},
	{"hunter2", -1, /* JS */
	 "$2y$10$/////////////////////.Jo6qE5OYVUPgifmIFzzqYGH00rvpEcO"},
};

/* the slow ones: checked once each, not hashed too */
static const struct vec slow_vecs[] = {
	/* cost 11 */
	{"management", -1, /* JS */
	 "$2b$11$O5lzwORSFzOLA2Ku1vFereAvf67tKt4EG1r/eCUvpkhzVnCqD7Q5a"},
	/* HT: a Russian phrase ("kljuch dostupa") in UTF-8 */
	{"\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87 \xd0\xb4\xd0\xbe\xd1\x81\xd1\x82"
	 "\xd1\x83\xd0\xbf\xd0\xb0", -1,
	 "$2y$11$WgML/NaphwGh63fu2Fin1.4dW2axt3EUVEiU.Dr4ZwEJmvmRLoxDm"},
	/* cost 12 */
	{"", -1, /* JB */
	 "$2a$12$k42ZFHFWqBp3vWli.nIn8uYyIkbvYRvodzbfbK18SSsY.CsIQPlxO"},
	{"Pr0xy-management-key!", -1, /* HT */
	 "$2y$12$uFdtXLmDC64WfWE1JsRsluzXcKhk3ccuu6J9t9JKiPRQjF3QtvAV2"},
};

static size_t vlen(const struct vec *v)
{
	return v->len < 0 ? strlen(v->key) : (size_t)v->len;
}

/* The 16 salt bytes of a hash string, decoded here independently of
 * bcrypt.c (alphabet lookup with strchr). */
static void salt_of(const char *hash, unsigned char salt[16])
{
	static const char abc[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned v[22];
	int i;

	for (i = 0; i < 22; i++)
		v[i] = (unsigned)(strchr(abc, hash[7 + i]) - abc);
	for (i = 0; i < 5; i++) {
		salt[3 * i] = (unsigned char)(v[4 * i] << 2 | v[4 * i + 1] >> 4);
		salt[3 * i + 1] =
			(unsigned char)(v[4 * i + 1] << 4 | v[4 * i + 2] >> 2);
		salt[3 * i + 2] = (unsigned char)(v[4 * i + 2] << 6 | v[4 * i + 3]);
	}
	salt[15] = (unsigned char)(v[20] << 2 | v[21] >> 4);
}

static int cost_of(const char *hash)
{
	return (hash[4] - '0') * 10 + hash[5] - '0';
}

/* bcrypt_hash of the vector's key with its salt, cost and prefix. */
static int hash_again(const struct vec *v, char out[BCRYPT_HASH_LEN + 1])
{
	unsigned char salt[16];

	salt_of(v->hash, salt);
	return bcrypt_hash(v->key, vlen(v), salt, cost_of(v->hash), v->hash[2],
			   out);
}

/* ---- known answers ------------------------------------------------------ */

TEST(bcrypt_vectors_hash_and_check)
{
	char out[BCRYPT_HASH_LEN + 1];
	int seen[13] = {0};
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(vecs); i++) {
		const struct vec *v = &vecs[i];
		CHECK(bcrypt_is_hash(v->hash));
		memset(out, 'x', sizeof(out));
		if (CHECK_EQ_INT(hash_again(v, out), 0))
			CHECK_EQ_STR(out, v->hash);
		if (!CHECK_EQ_INT(bcrypt_check(v->key, vlen(v), v->hash), 1))
			FAILF("vector %zu: %s", i, v->hash);
		seen[cost_of(v->hash)] = 1;
	}
	for (i = 4; i <= 10; i++)
		if (!seen[i])
			FAILF("no vector of cost %zu", i);
}

TEST(bcrypt_vectors_cost_11_and_12)
{
	size_t i;

	for (i = 0; i < T_ARRAY_LEN(slow_vecs); i++) {
		const struct vec *v = &slow_vecs[i];
		CHECK(bcrypt_is_hash(v->hash));
		if (!CHECK_EQ_INT(bcrypt_check(v->key, vlen(v), v->hash), 1))
			FAILF("vector %s", v->hash);
	}
}

TEST(bcrypt_wrong_keys_do_not_match)
{
	char k[80];
	size_t i, n;

	for (i = 0; i < T_ARRAY_LEN(vecs); i++) {
		const struct vec *v = &vecs[i];
		if (cost_of(v->hash) > 6)
			continue;
		n = vlen(v);
		if (n >= 72)
			continue;
		/* one byte more, one byte changed, one byte less */
		memcpy(k, v->key, n);
		k[n] = 'z';
		CHECK_EQ_INT(bcrypt_check(k, n + 1, v->hash), 0);
		if (n > 0) {
			k[n - 1] ^= 1;
			CHECK_EQ_INT(bcrypt_check(k, n, v->hash), 0);
			CHECK_EQ_INT(bcrypt_check(v->key, n - 1, v->hash), 0);
		}
	}
	/* the openwall vectors of neighbouring keys do not cross */
	CHECK_EQ_INT(bcrypt_check("U*U*", 4, OW_UU), 0);
	CHECK_EQ_INT(bcrypt_check("U*U", 3, OW_UUU), 0);
	CHECK_EQ_INT(bcrypt_check("\xa3", 1, OW_FFA3_B), 0);
}

/* ---- keys --------------------------------------------------------------- */

TEST(bcrypt_only_72_bytes_count)
{
	static const unsigned char salt[16] = "0123456789abcdef";
	char k[100], a[BCRYPT_HASH_LEN + 1], b[BCRYPT_HASH_LEN + 1];
	int i;

	for (i = 0; i < (int)sizeof(k); i++)
		k[i] = (char)('!' + i);
	/* 72, 73 and 100 bytes: the same; 71: different */
	REQUIRE(bcrypt_hash(k, 72, salt, 4, 'b', a) == 0);
	REQUIRE(bcrypt_hash(k, 73, salt, 4, 'b', b) == 0);
	CHECK_EQ_STR(a, b);
	REQUIRE(bcrypt_hash(k, 100, salt, 4, 'b', b) == 0);
	CHECK_EQ_STR(a, b);
	CHECK_EQ_INT(bcrypt_check(k, 73, a), 1);
	REQUIRE(bcrypt_hash(k, 71, salt, 4, 'b', b) == 0);
	CHECK(strcmp(a, b) != 0);
	CHECK_EQ_INT(bcrypt_check(k, 71, a), 0);
	/* the JS vectors: 73 bytes hash as their first 72 */
	CHECK_EQ_INT(bcrypt_check(D10 D10 D10 D10 D10 D10 D10 "012", 73,
				  "$2b$06$R1lJ2gkNaoPGdafE.H.16.Ije4qNl/G16pDp"
				  "Pv4.8vwo7ocZfxsga"),
		     1);
}

TEST(bcrypt_long_2a_keys_are_cut_at_72_not_wrapped)
{
	/* pyca/bcrypt's vectors: 254..257 bytes, one hash (OpenBSD's $2a$
	 * would wrap the length at 256) */
	static const char h[] =
		"$2a$04$R1lJ2gkNaoPGdafE.H.16.1MKHPvmKwryeulRe225LKProWYwt9Oi";
	static const char key[] = D250 "0123456789";
	size_t n;

	for (n = 254; n <= 257; n++)
		CHECK_EQ_INT(bcrypt_check(key, n, h), 1);
	CHECK_EQ_INT(bcrypt_check(key, 72, h), 1);
	CHECK_EQ_INT(bcrypt_check(key, 71, h), 0);
}

TEST(bcrypt_empty_key)
{
	static const unsigned char salt[16] = {0};
	char a[BCRYPT_HASH_LEN + 1], b[BCRYPT_HASH_LEN + 1];

	/* NULL with length 0 is the empty key */
	CHECK_EQ_INT(bcrypt_check(NULL, 0, OW_EMPTY), 1);
	CHECK_EQ_INT(bcrypt_check("", 0, OW_EMPTY), 1);
	/* NULs only: the same stream of zero bytes as the empty key */
	CHECK_EQ_INT(bcrypt_check("\0", 1, OW_EMPTY), 1);
	CHECK_EQ_INT(bcrypt_check("\0\0\0", 3, OW_EMPTY), 1);
	CHECK_EQ_INT(bcrypt_check("\0\1", 2, OW_EMPTY), 0);
	REQUIRE(bcrypt_hash(NULL, 0, salt, 4, 'a', a) == 0);
	REQUIRE(bcrypt_hash("x", 0, salt, 4, 'a', b) == 0);
	CHECK_EQ_STR(a, b);
	CHECK_EQ_INT(bcrypt_check(NULL, 1, OW_EMPTY), -1);
}

TEST(bcrypt_high_bit_bytes_and_the_2a_choice)
{
	static const char k[] = "\xff\xff\xa3";
	static const char modern_a[] =
		"$2a$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e";
	/* crypt_blowfish's $2a$ for this key (its countermeasure for keys
	 * that collided under the old sign-extension bug) */
	static const char openwall_a[] =
		"$2a$05$/OK.fbVrR/bpIqNJ5ianF.nqd1wy.pTMdcvrRWxyiGL2eMz.2a85.";
	/* crypt_blowfish's $2x$ (the bug itself) */
	static const char bug_x[] =
		"$2x$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e";

	CHECK_EQ_INT(bcrypt_check(k, 3, OW_FFA3_B), 1);
	CHECK_EQ_INT(bcrypt_check(k, 3, OW_FFA3_Y), 1);
	/* $2a$ computes as $2b$ does (OpenBSD, pyca, bcryptjs) */
	CHECK_EQ_INT(bcrypt_check(k, 3, modern_a), 1);
	CHECK_EQ_INT(bcrypt_check(k, 3, openwall_a), 0);
	CHECK_EQ_INT(bcrypt_check(k, 3, bug_x), -1);
	/* the bytes are unsigned: "\xa3" is not "\xff\xff\xa3" */
	CHECK_EQ_INT(bcrypt_check("\xa3", 1, OW_FFA3_B), 0);
}

TEST(bcrypt_embedded_nul_is_part_of_the_key)
{
	CHECK_EQ_INT(bcrypt_check("a\0b", 3, JS_A_NUL_B), 1);
	CHECK_EQ_INT(bcrypt_check("a", 1, JS_A_NUL_B), 0);
	CHECK_EQ_INT(bcrypt_check("a", 1, JS_A), 1);
	CHECK_EQ_INT(bcrypt_check("a\0b", 3, JS_A), 0);
	/* "a" is hashed as "a\0" repeated: "a\0" is another key, "a\0a"
	 * repeats the same bytes (bcryptjs agrees) */
	CHECK_EQ_INT(bcrypt_check("a\0", 2, JS_A), 0);
	CHECK_EQ_INT(bcrypt_check("a\0a", 3, JS_A), 1);
}

TEST(bcrypt_prefixes_compute_the_same)
{
	static const unsigned char salt[16] = "salt-salt-salt-!";
	char a[BCRYPT_HASH_LEN + 1], b[BCRYPT_HASH_LEN + 1],
		y[BCRYPT_HASH_LEN + 1];

	REQUIRE(bcrypt_hash("k\x80\xff", 3, salt, 4, 'a', a) == 0);
	REQUIRE(bcrypt_hash("k\x80\xff", 3, salt, 4, 'b', b) == 0);
	REQUIRE(bcrypt_hash("k\x80\xff", 3, salt, 4, 'y', y) == 0);
	CHECK(!strncmp(a, "$2a$04$", 7) && !strncmp(b, "$2b$04$", 7) &&
	      !strncmp(y, "$2y$04$", 7));
	CHECK_EQ_STR(a + 3, b + 3);
	CHECK_EQ_STR(a + 3, y + 3);
}

/* ---- strings ------------------------------------------------------------ */

/* Malformed: bcrypt_is_hash 0, bcrypt_check -1, a job that starts -1 and
 * is finished with result 0.  The string ends at a guard page. */
static void expect_malformed(const char *s, size_t n)
{
	char *g = t_guarded_alloc(n + 1);
	struct bcrypt_job j;

	memcpy(g, s, n);
	g[n] = '\0';

	if (bcrypt_is_hash(g))
		FAILF("accepted \"%s\"", t_esc(s, n));
	CHECK_EQ_INT(bcrypt_check("U*U", 3, g), -1);
	memset(&j, 0x55, sizeof(j));
	CHECK_EQ_INT(bcrypt_job_start(&j, "U*U", 3, g), -1);
	CHECK_EQ_INT(bcrypt_job_step(&j, 1), 1);
	CHECK_EQ_INT(bcrypt_job_result(&j), 0);
	t_guarded_free(g);
}

#define MALFORMED(lit) expect_malformed(lit, sizeof(lit) - 1)

TEST(bcrypt_malformed_hashes)
{
	static const char good[] =
		"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
	char s[80];
	size_t n, i;

	CHECK(bcrypt_is_hash(good));
	CHECK(!bcrypt_is_hash(NULL));
	CHECK_EQ_INT(bcrypt_check("U*U", 3, NULL), -1);
	/* prefixes */
	MALFORMED("$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	MALFORMED("$2c$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	MALFORMED("$2A$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	MALFORMED("$3a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	MALFORMED("$1$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	MALFORMED("$2$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	MALFORMED("2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	/* costs */
	MALFORMED("$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	MALFORMED("$2a$32$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	MALFORMED("$2a$00$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	MALFORMED("$2a$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	MALFORMED("$2a$5$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWx");
	MALFORMED("$2a$ 5$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	MALFORMED("$2a$005$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe");
	MALFORMED("$2a$0a$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	/* characters outside bcrypt's base64, in the salt and in the hash */
	MALFORMED("$2a$05$CCCCCCCCCC+CCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	MALFORMED("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe=");
	MALFORMED("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyu_Gyh0XouQYb4YMJKvyOeW");
	MALFORMED("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyu Gyh0XouQYb4YMJKvyOeW");
	MALFORMED("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyu\xc3yh0XouQYb4YMJKvyOeW");
	MALFORMED("$2a$05$CCCCCCCCCCCCCCCCCCCCC$E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	/* non-canonical: unused bits set in the last salt / hash character */
	MALFORMED("$2a$05$CCCCCCCCCCCCCCCCCCCCC/E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	MALFORMED("$2a$05$CCCCCCCCCCCCCCCCCCCCCCE5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
	MALFORMED("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeX");
	MALFORMED("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe9");
	/* lengths: every prefix, and one character more */
	for (n = 0; n < BCRYPT_HASH_LEN; n++)
		expect_malformed(good, n);
	MALFORMED("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW.");
	MALFORMED("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW\n");
	/* any one character replaced by one outside the alphabet */
	for (i = 0; i < BCRYPT_HASH_LEN; i++) {
		memcpy(s, good, sizeof(good));
		s[i] = '*';
		expect_malformed(s, BCRYPT_HASH_LEN);
	}
	/* and the canonical neighbours are fine */
	CHECK(bcrypt_is_hash(
		"$2a$05$CCCCCCCCCCCCCCCCCCCCCeE5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
	CHECK(bcrypt_is_hash(
		"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeS"));
	CHECK(bcrypt_is_hash(
		"$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
	CHECK(bcrypt_is_hash(
		"$2y$04$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
}

TEST(bcrypt_hash_refuses_bad_arguments)
{
	static const unsigned char salt[16] = {1, 2, 3};
	char out[BCRYPT_HASH_LEN + 1];
	static const char variants[] = "ABxcz2$\0";
	size_t i;

	memset(out, 'x', sizeof(out));
	CHECK_EQ_INT(bcrypt_hash("k", 1, salt, 3, 'b', out), -1);
	CHECK_EQ_STR(out, "");
	CHECK_EQ_INT(bcrypt_hash("k", 1, salt, 32, 'b', out), -1);
	CHECK_EQ_INT(bcrypt_hash("k", 1, salt, -1, 'b', out), -1);
	CHECK_EQ_INT(bcrypt_hash("k", 1, salt, INT_MAX, 'b', out), -1);
	for (i = 0; i < sizeof(variants) - 1; i++)
		CHECK_EQ_INT(bcrypt_hash("k", 1, salt, 4, variants[i], out), -1);
	CHECK_EQ_INT(bcrypt_hash("k", 1, NULL, 4, 'b', out), -1);
	CHECK_EQ_INT(bcrypt_hash(NULL, 1, salt, 4, 'b', out), -1);
	CHECK_EQ_INT(bcrypt_hash("k", 1, salt, 4, 'b', out), 0);
	CHECK(bcrypt_is_hash(out));
}

/* ---- the step-by-step job ----------------------------------------------- */

static int all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	while (n--)
		if (*c++)
			return 0;
	return 1;
}

/* Run a job on (key, hash) in steps of `step`; its result, -1 when it
 * would not start.  *calls gets the number of step calls. */
static int run_job(const char *key, size_t keylen, const char *hash,
		   unsigned step, unsigned *calls)
{
	struct bcrypt_job j;
	int r;

	*calls = 0;
	if (bcrypt_job_start(&j, key, keylen, hash) < 0)
		return -1;
	CHECK_EQ_INT(bcrypt_job_step(&j, 0), 0); /* no rounds: not done */
	do {
		++*calls;
		CHECK_EQ_INT(bcrypt_job_result(&j), 0); /* not before the end */
	} while (!bcrypt_job_step(&j, step));
	r = bcrypt_job_result(&j);
	/* finished: the key and the state are wiped, the result stays */
	CHECK(all_zero(j.key, sizeof(j.key)));
	CHECK(all_zero(j.salt, sizeof(j.salt)));
	CHECK(all_zero(j.p, sizeof(j.p)) && all_zero(j.s, sizeof(j.s)));
	CHECK_EQ_INT(bcrypt_job_step(&j, step), 1);
	CHECK_EQ_INT(bcrypt_job_result(&j), r);
	bcrypt_job_wipe(&j);
	CHECK(all_zero(&j, sizeof(j)));
	CHECK_EQ_INT(bcrypt_job_result(&j), 0);
	return r;
}

TEST(bcrypt_job_in_steps_agrees_with_check)
{
	static const unsigned steps[] = {1, 7, UINT_MAX};
	static const char *const other = "not the key";
	unsigned calls;
	size_t i, s;

	for (i = 0; i < T_ARRAY_LEN(vecs); i++) {
		const struct vec *v = &vecs[i];
		unsigned rounds = 1u << cost_of(v->hash);
		int want = bcrypt_check(v->key, vlen(v), v->hash);
		int want_other = bcrypt_check(other, strlen(other), v->hash);

		if (cost_of(v->hash) > 5)
			continue;
		CHECK_EQ_INT(want, 1);
		CHECK_EQ_INT(want_other, 0);
		for (s = 0; s < T_ARRAY_LEN(steps); s++) {
			unsigned step = steps[s];
			CHECK_EQ_INT(run_job(v->key, vlen(v), v->hash, step,
					     &calls), want);
			CHECK_EQ_INT(calls, (rounds - 1) / step + 1);
			CHECK_EQ_INT(run_job(other, strlen(other), v->hash,
					     step, &calls), want_other);
		}
	}
}

TEST(bcrypt_job_copies_key_and_hash)
{
	char key[8] = "U*U", hash[BCRYPT_HASH_LEN + 1];
	struct bcrypt_job j;

	memcpy(hash, OW_UU, sizeof(hash));
	REQUIRE(bcrypt_job_start(&j, key, 3, hash) == 0);
	memset(key, 'q', sizeof(key));
	memset(hash, 'q', sizeof(hash));
	while (!bcrypt_job_step(&j, 5))
		;
	CHECK_EQ_INT(bcrypt_job_result(&j), 1);
	bcrypt_job_wipe(&j);
}

/* ---- new hashes --------------------------------------------------------- */

TEST(bcrypt_new_round_trips)
{
	char a[BCRYPT_HASH_LEN + 1], b[BCRYPT_HASH_LEN + 1];

	REQUIRE(bcrypt_new("s3cret", 6, 4, a) == 0);
	CHECK(bcrypt_is_hash(a));
	CHECK_EQ_INT(strlen(a), BCRYPT_HASH_LEN);
	CHECK(!strncmp(a, "$2a$04$", 7));
	CHECK_EQ_INT(bcrypt_check("s3cret", 6, a), 1);
	CHECK_EQ_INT(bcrypt_check("s3cret", 5, a), 0);
	CHECK_EQ_INT(bcrypt_check("s3creT", 6, a), 0);
	/* a new salt each time */
	REQUIRE(bcrypt_new("s3cret", 6, 4, b) == 0);
	CHECK(memcmp(a + 7, b + 7, 22) != 0);
	CHECK_EQ_INT(bcrypt_check("s3cret", 6, b), 1);
	/* the empty key, cost 5 */
	REQUIRE(bcrypt_new(NULL, 0, 5, a) == 0);
	CHECK(!strncmp(a, "$2a$05$", 7));
	CHECK_EQ_INT(bcrypt_check("", 0, a), 1);
	/* bad costs */
	memset(a, 'x', sizeof(a));
	CHECK_EQ_INT(bcrypt_new("k", 1, 3, a), -1);
	CHECK_EQ_STR(a, "");
	CHECK_EQ_INT(bcrypt_new("k", 1, 32, a), -1);
}
