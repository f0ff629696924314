/*
 * test_tls_anchors.c - trust-anchor loading in src/tls.c against BearSSL's
 * own decoders.
 *
 * tls.c decodes PEM with tls_pem and certificates with tls_anchor_decode
 * instead of br_pem_decoder and br_x509_decoder (whose T0 interpreter made
 * start-up slow); the promise is that nothing else changes, but for two
 * bugs of BearSSL 0.6 fixed on purpose: CRLF line ends read as LF, and a
 * last END line without '\n' ends its object.  So every test here is
 * differential: the same input through BearSSL and through tls.c, and the
 * results must be equal, BearSSL's PEM decoder being reached through
 * ref_pem, which makes exactly those changes to its input.  A few tests
 * show the fixes themselves.
 *
 *   - tls_pem vs br_pem_decoder: events, names and decoded bytes, for
 *     generated bundles cut into random pieces, then for copies with
 *     random edits (line breaks, dashes, '=', CR, spaces, stray bytes...),
 *     and for the system bundle when there is one.
 *   - tls_anchor_decode vs br_x509_decoder: on generated certificates
 *     (RSA 1024-4096 and P-256/384/521 keys, both time formats, with and
 *     without version, unique IDs, extensions, basicConstraints, critical
 *     flags, long-form lengths), on hand-made edge cases and on copies
 *     with random byte edits and truncations it must accept exactly what
 *     br_x509_decoder accepts, with the same DN, key and CA flag.
 *   - tls_init vs the loader as it was (BearSSL decoders, same 4 KB reads,
 *     same skip and error rules), on whole files: the same anchors, in the
 *     same order; a bad certificate is skipped in the system bundle and is
 *     an error in the ca-file.
 *
 * Certificates are built here from random bytes (no signature is checked
 * when anchors are loaded, so none is made); nothing is copied from
 * elsewhere.  T_SEED changes the random inputs.
 */
#define _DEFAULT_SOURCE
#include "t.h"
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ======================================================================
 * DER builder
 * ====================================================================== */

struct der_buf {
	unsigned char p[8192];
	size_t n;
};

static void put(struct der_buf *b, const void *d, size_t n)
{
	if (b->n + n > sizeof(b->p))
		abort();
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void put8(struct der_buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;
	put(b, &c, 1);
}

/* tag, DER length (sometimes in a longer form than needed), content */
static void put_tlv(struct der_buf *b, unsigned tag, const void *d, size_t n,
		    struct t_rng *r)
{
	put8(b, tag);
	if (n < 0x80 && t_rng_below(r, 16) != 0) {
		put8(b, (unsigned)n);
	} else if (n < 0x100 && t_rng_below(r, 8) != 0) {
		put8(b, 0x81);
		put8(b, (unsigned)n);
	} else if (n < 0x10000 && t_rng_below(r, 8) != 0) {
		put8(b, 0x82);
		put8(b, (unsigned)(n >> 8));
		put8(b, (unsigned)n);
	} else {
		put8(b, 0x83);
		put8(b, (unsigned)(n >> 16));
		put8(b, (unsigned)(n >> 8));
		put8(b, (unsigned)n);
	}
	put(b, d, n);
}

static void put_wrap(struct der_buf *b, unsigned tag, const struct der_buf *in,
		     struct t_rng *r)
{
	put_tlv(b, tag, in->p, in->n, r);
}

static void put_random(struct der_buf *b, size_t n, struct t_rng *r)
{
	while (n--)
		put8(b, (unsigned)t_rng_next(r));
}

static const unsigned char oid_cn[] = {0x55, 0x04, 0x03};
static const unsigned char oid_org[] = {0x55, 0x04, 0x0A};
static const unsigned char oid_rsa[] = {0x2A, 0x86, 0x48, 0x86, 0xF7,
					0x0D, 0x01, 0x01, 0x01};
static const unsigned char oid_sha256rsa[] = {0x2A, 0x86, 0x48, 0x86, 0xF7,
					      0x0D, 0x01, 0x01, 0x0B};
static const unsigned char oid_ecdsa384[] = {0x2A, 0x86, 0x48, 0xCE,
					     0x3D, 0x04, 0x03, 0x03};
static const unsigned char oid_ec[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02,
				       0x01};
static const unsigned char oid_p256[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03,
					 0x01, 0x07};
static const unsigned char oid_p384[] = {0x2B, 0x81, 0x04, 0x00, 0x22};
static const unsigned char oid_p521[] = {0x2B, 0x81, 0x04, 0x00, 0x23};
static const unsigned char oid_bc[] = {0x55, 0x1D, 0x13};
static const unsigned char oid_ku[] = {0x55, 0x1D, 0x0F};
static const unsigned char oid_ski[] = {0x55, 0x1D, 0x0E};

/* Name: a few RDNs of random printable text. */
static void put_name(struct der_buf *b, struct t_rng *r)
{
	struct der_buf seq = {{0}, 0};
	size_t i, nrdn = 1 + t_rng_below(r, 3);

	for (i = 0; i < nrdn; i++) {
		struct der_buf atv = {{0}, 0}, set = {{0}, 0};
		char text[300];
		size_t j, len = 1 + t_rng_below(r, i == 0 ? 200 : 40);
		for (j = 0; j < len; j++)
			text[j] = (char)('a' + t_rng_below(r, 26));
		if (i == 0)
			put_tlv(&atv, 0x06, oid_cn, sizeof(oid_cn), r);
		else
			put_tlv(&atv, 0x06, oid_org, sizeof(oid_org), r);
		put_tlv(&atv, t_rng_below(r, 2) ? 0x0C : 0x13, text, len, r);
		put_wrap(&set, 0x30, &atv, r);
		put_wrap(&seq, 0x31, &set, r);
	}
	put_wrap(b, 0x30, &seq, r);
}

/* UTCTime or GeneralizedTime of a valid random date. */
static void put_time(struct der_buf *b, struct t_rng *r)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30,
				      31, 31, 30, 31, 30, 31};
	char s[40];
	int gen = (int)t_rng_below(r, 3) == 0;
	int y = gen ? 1600 + (int)t_rng_below(r, 900)
		    : 1950 + (int)t_rng_below(r, 100);
	int m = 1 + (int)t_rng_below(r, 12);
	int leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
	int d = 1 + (int)t_rng_below(r, (size_t)(mdays[m - 1] +
						   (m == 2 && leap)));
	int n;

	if (gen)
		n = snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02d", y, m, d,
			     (int)t_rng_below(r, 24), (int)t_rng_below(r, 60),
			     (int)t_rng_below(r, 61));
	else
		n = snprintf(s, sizeof(s), "%02d%02d%02d%02d%02d%02d", y % 100,
			     m, d, (int)t_rng_below(r, 24),
			     (int)t_rng_below(r, 60), (int)t_rng_below(r, 61));
	if (t_rng_below(r, 5) == 0) {
		size_t k, nd = t_rng_below(r, 4);
		s[n++] = '.';
		for (k = 0; k < nd; k++)
			s[n++] = (char)('0' + t_rng_below(r, 10));
	}
	s[n++] = 'Z';
	put_tlv(b, gen ? 0x18 : 0x17, s, (size_t)n, r);
}

/* INTEGER of nbytes random bytes, top bit set, so with a 00 sign byte
 * (and now and then a superfluous one). */
static void put_uint(struct der_buf *b, size_t nbytes, struct t_rng *r)
{
	struct der_buf v = {{0}, 0};
	put8(&v, 0);
	if (t_rng_below(r, 8) == 0)
		put8(&v, 0);
	put8(&v, 0x80 | (unsigned)t_rng_next(r));
	put_random(&v, nbytes - 1, r);
	put_wrap(b, 0x02, &v, r);
}

static void put_spki(struct der_buf *b, struct t_rng *r)
{
	struct der_buf spki = {{0}, 0}, alg = {{0}, 0}, bits = {{0}, 0};

	if (t_rng_below(r, 3) != 0) {
		static const size_t sizes[] = {128, 256, 384, 512};
		struct der_buf key = {{0}, 0}, seq = {{0}, 0};
		put_tlv(&alg, 0x06, oid_rsa, sizeof(oid_rsa), r);
		if (t_rng_below(r, 4) != 0)
			put_tlv(&alg, 0x05, "", 0, r);
		put_uint(&key, sizes[t_rng_below(r, 4)], r);
		if (t_rng_below(r, 2)) {
			static const unsigned char e[] = {0x01, 0x00, 0x01};
			put_tlv(&key, 0x02, e, sizeof(e), r);
		} else {
			put_tlv(&key, 0x02, "\x03", 1, r);
		}
		put_wrap(&seq, 0x30, &key, r);
		put8(&bits, 0);
		put(&bits, seq.p, seq.n);
	} else {
		static const size_t coord[] = {32, 48, 66};
		size_t c = t_rng_below(r, 3);
		put_tlv(&alg, 0x06, oid_ec, sizeof(oid_ec), r);
		if (c == 0)
			put_tlv(&alg, 0x06, oid_p256, sizeof(oid_p256), r);
		else if (c == 1)
			put_tlv(&alg, 0x06, oid_p384, sizeof(oid_p384), r);
		else
			put_tlv(&alg, 0x06, oid_p521, sizeof(oid_p521), r);
		put8(&bits, 0);
		put8(&bits, 4);
		put_random(&bits, 2 * coord[c], r);
	}
	put_wrap(&spki, 0x30, &alg, r);
	put_wrap(&spki, 0x03, &bits, r);
	put_wrap(b, 0x30, &spki, r);
}

static void put_ext(struct der_buf *seq, const unsigned char *oid, size_t olen,
		    const struct der_buf *value, struct t_rng *r)
{
	struct der_buf ext = {{0}, 0};
	put_tlv(&ext, 0x06, oid, olen, r);
	if (t_rng_below(r, 3) == 0)
		put_tlv(&ext, 0x01, t_rng_below(r, 2) ? "\xFF" : "\x00", 1, r);
	put_wrap(&ext, 0x04, value, r);
	put_wrap(seq, 0x30, &ext, r);
}

static void put_extensions(struct der_buf *tbs, struct t_rng *r)
{
	struct der_buf seq = {{0}, 0}, wrap = {{0}, 0}, v;
	size_t i, n = 1 + t_rng_below(r, 4);

	for (i = 0; i < n; i++) {
		struct der_buf in = {{0}, 0};
		v.n = 0;
		switch (t_rng_below(r, 3)) {
		case 0: /* basicConstraints */
			if (t_rng_below(r, 4) != 0)
				put_tlv(&in, 0x01,
					t_rng_below(r, 2) ? "\xFF" : "\x00", 1,
					r);
			if (t_rng_below(r, 3) == 0)
				put_tlv(&in, 0x02, "\x01", 1, r);
			put_wrap(&v, 0x30, &in, r);
			put_ext(&seq, oid_bc, sizeof(oid_bc), &v, r);
			break;
		case 1: /* keyUsage */
			put_tlv(&v, 0x03, "\x01\x06", 2, r);
			put_ext(&seq, oid_ku, sizeof(oid_ku), &v, r);
			break;
		default: /* subjectKeyIdentifier */
			put_random(&in, 20, r);
			put_wrap(&v, 0x04, &in, r);
			put_ext(&seq, oid_ski, sizeof(oid_ski), &v, r);
			break;
		}
	}
	put_wrap(&wrap, 0x30, &seq, r);
	put_wrap(tbs, 0xA3, &wrap, r);
}

/* Parts of a certificate chosen by a test; NULL/0: random. */
struct cert_spec {
	unsigned time_tag;            /* notBefore: this tag ... */
	const char *time;             /* ... and text */
	const struct der_buf *version; /* [0]'s content */
	const struct der_buf *spki;   /* whole SubjectPublicKeyInfo */
	const struct der_buf *exts;   /* content of the [3] SEQUENCE */
	unsigned exts_tag;            /* instead of A3 */
	const struct der_buf *tail;   /* after the extensions, in the TBS */
	const struct der_buf *in3;    /* after the SEQUENCE, inside [3] */
};

/* One certificate with random contents into out, but for what sp sets. */
static void make_cert_spec(struct der_buf *out, struct t_rng *r,
			   const struct cert_spec *sp)
{
	struct der_buf tbs = {{0}, 0}, tbsw = {{0}, 0}, cert = {{0}, 0};
	struct der_buf tmp = {{0}, 0}, alg = {{0}, 0};
	int v3 = sp->exts || t_rng_below(r, 5) != 0;

	if (sp->version) {
		put_wrap(&tbs, 0xA0, sp->version, r);
	} else if (v3 || t_rng_below(r, 2)) { /* version, [0] */
		put_tlv(&tmp, 0x02, v3 ? "\x02" : "\x00", 1, r);
		put_wrap(&tbs, 0xA0, &tmp, r);
	}
	tmp.n = 0;
	put8(&tmp, 0x01 + (unsigned)t_rng_below(r, 0x7F));
	put_random(&tmp, t_rng_below(r, 20), r);
	put_wrap(&tbs, 0x02, &tmp, r); /* serial */
	put_tlv(&alg, 0x06, oid_sha256rsa, sizeof(oid_sha256rsa), r);
	put_tlv(&alg, 0x05, "", 0, r);
	put_wrap(&tbs, 0x30, &alg, r); /* signature */
	put_name(&tbs, r);             /* issuer */
	tmp.n = 0;
	if (sp->time)
		put_tlv(&tmp, sp->time_tag, sp->time, strlen(sp->time), r);
	else
		put_time(&tmp, r);
	put_time(&tmp, r);
	put_wrap(&tbs, 0x30, &tmp, r); /* validity */
	put_name(&tbs, r);             /* subject */
	if (sp->spki)
		put(&tbs, sp->spki->p, sp->spki->n);
	else
		put_spki(&tbs, r);
	if (t_rng_below(r, 10) == 0) { /* issuerUniqueID [1] */
		tmp.n = 0;
		put8(&tmp, 0);
		put_random(&tmp, 8, r);
		put_wrap(&tbs, t_rng_below(r, 2) ? 0x81 : 0xA1, &tmp, r);
	}
	if (t_rng_below(r, 10) == 0) { /* subjectUniqueID [2] */
		tmp.n = 0;
		put8(&tmp, 0);
		put_random(&tmp, 8, r);
		put_wrap(&tbs, t_rng_below(r, 2) ? 0x82 : 0xA2, &tmp, r);
	}
	if (sp->exts) {
		struct der_buf w = {{0}, 0};
		put_wrap(&w, 0x30, sp->exts, r);
		if (sp->in3)
			put(&w, sp->in3->p, sp->in3->n);
		put_wrap(&tbs, sp->exts_tag ? sp->exts_tag : 0xA3, &w, r);
	} else if (v3) {
		put_extensions(&tbs, r);
	}
	if (sp->tail)
		put(&tbs, sp->tail->p, sp->tail->n);
	put_wrap(&tbsw, 0x30, &tbs, r);

	put(&cert, tbsw.p, tbsw.n);
	alg.n = 0;
	put_tlv(&alg, 0x06, oid_ecdsa384, sizeof(oid_ecdsa384), r);
	put_wrap(&cert, 0x30, &alg, r);
	tmp.n = 0;
	put8(&tmp, 0);
	put_random(&tmp, 64 + t_rng_below(r, 64), r);
	put_wrap(&cert, 0x03, &tmp, r);
	out->n = 0;
	put_wrap(out, 0x30, &cert, r);
}

static void make_cert(struct der_buf *out, struct t_rng *r)
{
	static const struct cert_spec random_spec;
	make_cert_spec(out, r, &random_spec);
}

/* ======================================================================
 * Reference: br_x509_decoder as the loader used it
 * ====================================================================== */

struct grow {
	unsigned char *p;
	size_t len, cap;
};

static void grow_add(void *ctx, const void *d, size_t n)
{
	struct grow *g = ctx;
	if (g->len + n > g->cap) {
		g->cap = (g->len + n) * 2 + 64;
		g->p = realloc(g->p, g->cap);
		if (!g->p)
			abort();
	}
	memcpy(g->p + g->len, d, n);
	g->len += n;
}

/* An anchor with its bytes in one malloc'd block (or nothing). */
struct ref_anchor {
	int ok;
	br_x509_trust_anchor ta;
	unsigned char *mem;
};

static void ref_free(struct ref_anchor *a)
{
	free(a->mem);
	memset(a, 0, sizeof(*a));
}

/* Fill a with copies of ta's bytes. */
static void ref_copy(struct ref_anchor *a, const br_x509_trust_anchor *ta)
{
	const br_x509_pkey *k = &ta->pkey;
	size_t n = ta->dn.len, off;

	n += k->key_type == BR_KEYTYPE_RSA ? k->key.rsa.nlen + k->key.rsa.elen
					   : k->key.ec.qlen;
	a->mem = malloc(n + 1);
	if (!a->mem)
		abort();
	a->ok = 1;
	a->ta = *ta;
	memcpy(a->mem, ta->dn.data, ta->dn.len);
	a->ta.dn.data = a->mem;
	off = ta->dn.len;
	if (k->key_type == BR_KEYTYPE_RSA) {
		memcpy(a->mem + off, k->key.rsa.n, k->key.rsa.nlen);
		a->ta.pkey.key.rsa.n = a->mem + off;
		off += k->key.rsa.nlen;
		memcpy(a->mem + off, k->key.rsa.e, k->key.rsa.elen);
		a->ta.pkey.key.rsa.e = a->mem + off;
	} else {
		memcpy(a->mem + off, k->key.ec.q, k->key.ec.qlen);
		a->ta.pkey.key.ec.q = a->mem + off;
	}
}

static void ref_decode(struct ref_anchor *a, const unsigned char *der,
		       size_t len)
{
	br_x509_decoder_context dc;
	struct grow dn = {0, 0, 0};
	br_x509_trust_anchor ta;
	br_x509_pkey *pk;

	memset(a, 0, sizeof(*a));
	br_x509_decoder_init(&dc, grow_add, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (pk && (pk->key_type == BR_KEYTYPE_RSA ||
		   pk->key_type == BR_KEYTYPE_EC)) {
		memset(&ta, 0, sizeof(ta));
		ta.dn.data = dn.p;
		ta.dn.len = dn.len;
		ta.flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
		ta.pkey = *pk;
		ref_copy(a, &ta);
	}
	free(dn.p);
}

static int anchors_equal(const br_x509_trust_anchor *a,
			 const br_x509_trust_anchor *b)
{
	const br_x509_pkey *x = &a->pkey, *y = &b->pkey;

	if (a->dn.len != b->dn.len || memcmp(a->dn.data, b->dn.data,
					     a->dn.len) ||
	    a->flags != b->flags || x->key_type != y->key_type)
		return 0;
	if (x->key_type == BR_KEYTYPE_RSA)
		return x->key.rsa.nlen == y->key.rsa.nlen &&
		       x->key.rsa.elen == y->key.rsa.elen &&
		       !memcmp(x->key.rsa.n, y->key.rsa.n, x->key.rsa.nlen) &&
		       !memcmp(x->key.rsa.e, y->key.rsa.e, x->key.rsa.elen);
	return x->key.ec.curve == y->key.ec.curve &&
	       x->key.ec.qlen == y->key.ec.qlen &&
	       !memcmp(x->key.ec.q, y->key.ec.q, x->key.ec.qlen);
}

/* tls_anchor_decode on a guarded copy against br_x509_decoder: both
 * accept with the same anchor, or both refuse.  Returns 1 (accepted), 0
 * (refused), -1 on a difference (already reported). */
static int check_der(const unsigned char *der, size_t len, const char *what)
{
	struct ref_anchor ref;
	br_x509_trust_anchor ta;
	unsigned char *g = t_guarded_copy(der, len);
	int fast = tls_anchor_decode(&ta, g, len), rc = fast;

	ref_decode(&ref, der, len);
	if (fast != ref.ok) {
		FAILF("%s: tls_anchor_decode %s what br_x509_decoder %s (%zu "
		      "bytes: %s)", what, fast ? "accepts" : "refuses",
		      fast ? "refuses" : "accepts", len, t_esc(der, len));
		rc = -1;
	} else if (fast && !anchors_equal(&ta, &ref.ta)) {
		FAILF("%s: anchor differs from br_x509_decoder's (%zu bytes: "
		      "%s)", what, len, t_esc(der, len));
		rc = -1;
	}
	ref_free(&ref);
	t_guarded_free(g);
	return rc;
}

/* ======================================================================
 * tls_anchor_decode
 * ====================================================================== */

TEST(tls_anchor_decode_equals_bearssl_on_generated_certificates)
{
	struct t_rng r;
	struct der_buf c;
	int i, rsa = 0, ec = 0, ca = 0;

	t_rng_seed(&r, t_seed(1));
	for (i = 0; i < 400 && t_failures() == 0; i++) {
		struct ref_anchor ref;
		make_cert(&c, &r);
		ref_decode(&ref, c.p, c.n);
		if (!CHECK(ref.ok)) /* the generator makes valid ones */
			FAILF("br_x509_decoder refused generated cert: %s",
			      t_esc(c.p, c.n));
		else if (ref.ta.pkey.key_type == BR_KEYTYPE_RSA)
			rsa++;
		else
			ec++;
		ca += ref.ok && (ref.ta.flags & BR_X509_TA_CA);
		ref_free(&ref);
		/* and the fast walk takes every one of them */
		CHECK_EQ_INT(check_der(c.p, c.n, "generated"), 1);
	}
	CHECK(rsa > 100 && ec > 50 && ca > 20 && ca < rsa + ec);
}

TEST(tls_anchor_decode_equals_bearssl_on_edited_certificates)
{
	struct t_rng r;
	struct der_buf c;
	unsigned char m[sizeof(c.p)];
	int i, accepted = 0, refused = 0;

	t_rng_seed(&r, t_seed(2));
	for (i = 0; i < 3000 && t_failures() == 0; i++) {
		size_t n, k, edits = 1 + t_rng_below(&r, 3);
		int rc;

		make_cert(&c, &r);
		memcpy(m, c.p, c.n);
		n = c.n;
		for (k = 0; k < edits; k++) {
			size_t at = t_rng_below(&r, n);
			switch (t_rng_below(&r, 6)) {
			case 0: /* truncate */
				n = at;
				break;
			case 1: /* a length or tag byte, most likely */
				m[at] ^= (unsigned char)(1u << t_rng_below(&r, 8));
				break;
			case 2:
				m[at] = (unsigned char)t_rng_below(&r, 256);
				break;
			case 3: { /* values that matter to DER */
				static const unsigned char v[] = {
					0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
					0x06, 0x17, 0x18, 0x1F, 0x30, 0x31,
					0x3F, 0x5A, 0x7F, 0x80, 0x81, 0x82,
					0x83, 0x84, 0xA0, 0xA1, 0xA2, 0xA3,
					0xFF, '.', 'Z', '0', '9'};
				m[at] = v[t_rng_below(&r, sizeof(v))];
				break;
			}
			case 4: /* drop a byte */
				if (n > 0) {
					memmove(m + at, m + at + 1, n - at - 1);
					n--;
				}
				break;
			default: /* add one */
				if (n < sizeof(m)) {
					memmove(m + at + 1, m + at, n - at);
					m[at] = (unsigned char)t_rng_below(&r,
									   256);
					n++;
				}
				break;
			}
		}
		rc = check_der(m, n, "mutated");
		accepted += rc == 1;
		refused += rc == 0;
	}
	/* both outcomes occur, so the comparison means something */
	CHECK(accepted > 100 && refused > 100);
}

TEST(tls_anchor_decode_checks_times_as_bearssl)
{
	static const struct {
		unsigned tag;
		const char *t;
	} times[] = {
		{0x17, "991231235960Z"}, {0x17, "991231235961Z"},
		{0x17, "000229000000Z"}, {0x17, "010229000000Z"},
		{0x17, "490101000000Z"}, {0x17, "500101000000Z"},
		{0x17, "991301000000Z"}, {0x17, "990001000000Z"},
		{0x17, "990100000000Z"}, {0x17, "990132000000Z"},
		{0x17, "990431000000Z"}, {0x17, "990430240000Z"},
		{0x17, "990430236000Z"}, {0x17, "9904302359Z"},
		{0x17, "990430235959"}, {0x17, "990430235959ZZ"},
		{0x17, "990430235959z"}, {0x17, "990430235959.Z"},
		{0x17, "990430235959.123Z"}, {0x17, "990430235959.12a"},
		{0x17, "990430235959+0100"}, {0x17, "9a0430235959Z"},
		{0x17, ""}, {0x17, "9"}, {0x17, "990430235959.1"},
		{0x18, "19000229000000Z"}, {0x18, "20000229000000Z"},
		{0x18, "21000229000000Z"}, {0x18, "20240229000000Z"},
		{0x18, "20230229000000Z"}, {0x18, "00000229000000Z"},
		{0x18, "99991231235960.999999Z"}, {0x18, "991231235959Z"},
		{0x16, "991231235959Z"}, {0x37, "991231235959Z"},
	};
	struct t_rng r;
	struct der_buf c;
	size_t i;

	t_rng_seed(&r, t_seed(9));
	for (i = 0; i < T_ARRAY_LEN(times); i++) {
		struct cert_spec sp = {times[i].tag, times[i].t, 0, 0, 0, 0, 0, 0};
		make_cert_spec(&c, &r, &sp);
		check_der(c.p, c.n, times[i].t);
	}
}

/* Bytes of a hex string ("30 03 01 01 FF") appended to b. */
static void put_hex(struct der_buf *b, const char *hex)
{
	while (*hex) {
		unsigned v;
		if (*hex == ' ') {
			hex++;
			continue;
		}
		if (sscanf(hex, "%2x", &v) != 1)
			abort();
		put8(b, v);
		hex += 2;
	}
}

/* A certificate with one part given in hex: tls_anchor_decode agrees with
 * br_x509_decoder. */
static void check_part(const char *what, const char *hex, struct t_rng *r)
{
	struct der_buf c, part = {{0}, 0};
	struct cert_spec sp = {0, 0, 0, 0, 0, 0, 0, 0};
	struct der_buf exts0 = {{0}, 0};
	put_hex(&part, hex);
	if (!strcmp(what, "version"))
		sp.version = &part;
	else if (!strcmp(what, "spki"))
		sp.spki = &part;
	else
		sp.exts = &part;
	if (!strcmp(what, "exts in [3] primitive"))
		sp.exts_tag = 0x83;
	if (!strcmp(what, "inside [3]")) {
		put_hex(&exts0, "30 09 06 03 551D13 04 02 30 00");
		sp.exts = &exts0;
		sp.in3 = &part;
	}
	if (!strcmp(what, "after the extensions")) {
		put_hex(&exts0, "30 09 06 03 551D13 04 02 30 00");
		sp.exts = &exts0;
		sp.tail = &part;
	}
	make_cert_spec(&c, r, &sp);
	if (check_der(c.p, c.n, hex) < 0)
		FAILF("in %s", what);
}

/* A certificate whose key is RSA (n of nlen bytes, e of elen) when
 * curve is NULL, else EC on that curve OID with q of elen bytes. */
static void check_key(size_t nlen, size_t elen, const unsigned char *curve,
		      struct t_rng *r)
{
	struct der_buf spki = {{0}, 0}, alg = {{0}, 0}, bits = {{0}, 0};
	struct der_buf key = {{0}, 0}, v = {{0}, 0}, c;
	struct cert_spec sp = {0, 0, 0, &spki, 0, 0, 0, 0};
	char what[64];

	put8(&bits, 0);
	if (!curve) {
		put_tlv(&alg, 0x06, oid_rsa, sizeof(oid_rsa), r);
		put_random(&v, nlen, r);
		v.p[0] = 0x7F;
		put_wrap(&key, 0x02, &v, r);
		v.n = 0;
		put_random(&v, elen, r);
		v.p[0] = 0x01;
		put_wrap(&key, 0x02, &v, r);
		put_wrap(&bits, 0x30, &key, r);
	} else {
		put_tlv(&alg, 0x06, oid_ec, sizeof(oid_ec), r);
		put_tlv(&alg, 0x06, curve, curve == oid_p256 ? sizeof(oid_p256)
				   : curve == oid_cn ? sizeof(oid_cn)
						     : sizeof(oid_p384), r);
		put_random(&bits, elen, r);
	}
	put_wrap(&spki, 0x30, &alg, r);
	put_wrap(&spki, 0x03, &bits, r);
	v = spki;
	spki.n = 0;
	put_wrap(&spki, 0x30, &v, r);
	make_cert_spec(&c, r, &sp);
	snprintf(what, sizeof(what), "key %zu/%zu", nlen, elen);
	check_der(c.p, c.n, what);
}

TEST(tls_anchor_decode_edge_cases_as_bearssl)
{
	static const char *const versions[] = {
		"02 01 00", "02 01 01", "02 01 02", "02 01 03", "02 01 80",
		"02 00", "02 02 00 02", "22 01 02", "02 01 02 00", "02 81 01 02",
		"02 05 0000000002", "02 05 0100000002",
	};
	/* bits of a P-256 key: 04 + 64 bytes */
	static const char q65[] =
		"04 00112233445566778899AABBCCDDEEFF00112233445566778899AABBCC"
		"DDEEFF 00112233445566778899AABBCCDDEEFF00112233445566778899AA"
		"BBCCDDEEFF";
	static const char *const exts[] = {
		/* basicConstraints: cA true, false, 05, absent, pathLen only */
		"30 0C 06 03 551D13 04 05 30 03 01 01 FF",
		"30 0C 06 03 551D13 04 05 30 03 01 01 00",
		"30 0C 06 03 551D13 04 05 30 03 01 01 05",
		"30 09 06 03 551D13 04 02 30 00",
		"30 0C 06 03 551D13 04 05 30 03 02 01 01",
		/* critical flag, then a constructed or long BOOLEAN */
		"30 0F 06 03 551D13 01 01 FF 04 05 30 03 01 01 FF",
		"30 0F 06 03 551D13 21 01 FF 04 05 30 03 01 01 FF",
		"30 10 06 03 551D13 01 02 00 FF 04 05 30 03 01 01 FF",
		"30 0C 06 03 551D13 04 05 30 03 21 01 FF",
		"30 0D 06 03 551D13 04 06 30 04 01 02 00 FF",
		"30 0C 06 03 551D13 04 05 30 03 01 02 FF",
		/* a first element with a tag BearSSL refuses, unread or not */
		"30 0C 06 03 551D13 04 05 30 03 1F 01 FF",
		"30 0C 06 03 551D13 04 05 30 03 41 01 FF",
		"30 0C 06 03 551D13 04 05 30 03 81 01 FF",
		/* extra bytes after the SEQUENCE, or after the OCTET STRING */
		"30 0D 06 03 551D13 04 06 30 03 01 01 FF 00",
		"30 0E 06 03 551D13 04 05 30 03 01 01 FF 05 00",
		/* twice: the last BOOLEAN counts */
		"30 0C 06 03 551D13 04 05 30 03 01 01 FF"
		" 30 09 06 03 551D13 04 02 30 00",
		"30 0C 06 03 551D13 04 05 30 03 01 01 FF"
		" 30 0C 06 03 551D13 04 05 30 03 01 01 00",
		/* OCTET STRING constructed; no value; only the OID */
		"30 0C 06 03 551D13 24 05 30 03 01 01 FF",
		"30 08 06 03 551D13 01 01 FF",
		"30 05 06 03 551D13",
		/* another extension; an empty list; an OID of length 0 */
		"30 09 06 03 551D0F 04 02 03 00",
		"",
		"30 04 06 00 04 00",
		/* lengths: indefinite, 4-byte, non-minimal */
		"30 80 06 03 551D13 04 05 30 03 01 01 FF 00 00",
		"30 84 0000000C 06 03 551D13 04 05 30 03 01 01 FF",
		"30 81 0C 06 03 551D13 04 81 05 30 03 01 01 FF",
		"30 09 06 03 551D13 04 02 30 80",
		"30 15 06 03 551D13 04 0E 30 89 010000000000000003 01 01 FF",
		"30 12 06 03 551D13 04 0B 30 86 000000000003 01 01 FF",
	};
	char spki[1600];
	struct t_rng r;
	size_t i;

	t_rng_seed(&r, t_seed(10));
	for (i = 0; i < T_ARRAY_LEN(versions); i++)
		check_part("version", versions[i], &r);
	for (i = 0; i < T_ARRAY_LEN(exts); i++)
		check_part("exts", exts[i], &r);

	check_part("exts in [3] primitive", exts[0], &r);
	check_part("after the extensions", "05 00", &r);
	check_part("after the extensions", "A3 02 30 00", &r);
	check_part("after the extensions", "", &r);
	check_part("inside [3]", "05 00", &r);
	check_part("inside [3]", "", &r);

	/* RSA: negative, zero, superfluous zeros, bits with unused bits or
	 * extra bytes, an extra INTEGER */
	check_part("spki", "30 1A 30 0D 06 09 2A864886F70D010101 05 00"
			   " 03 09 00 30 06 02 01 85 02 01 03", &r);
	check_part("spki", "30 1A 30 0D 06 09 2A864886F70D010101 05 00"
			   " 03 09 00 30 06 02 01 00 02 01 03", &r);
	check_part("spki", "30 1C 30 0D 06 09 2A864886F70D010101 05 00"
			   " 03 0B 00 30 08 02 03 000085 02 01 03", &r);
	check_part("spki", "30 19 30 0D 06 09 2A864886F70D010101 05 00"
			   " 03 08 00 30 05 02 00 02 01 03", &r);
	check_part("spki", "30 1B 30 0D 06 09 2A864886F70D010101 05 00"
			   " 03 0A 00 30 06 02 01 05 02 01 03 00", &r);
	check_part("spki", "30 1B 30 0D 06 09 2A864886F70D010101 05 00"
			   " 03 0A 01 30 07 02 01 05 02 02 0003", &r);
	check_part("spki", "30 1B 30 0D 06 09 2A864886F70D010101 05 00"
			   " 03 0A 00 30 07 02 01 05 02 02 0003", &r);
	check_part("spki", "30 1D 30 0D 06 09 2A864886F70D010101 05 00"
			   " 03 0C 00 30 09 02 01 05 02 01 03 02 01 03", &r);
	/* n + e at most 520 bytes (BearSSL's key buffer) */
	check_key(519, 1, 0, &r);
	check_key(520, 1, 0, &r);
	check_key(519, 2, 0, &r);
	check_key(1, 520, 0, &r);
	check_key(521, 1, 0, &r);
	/* EC: each curve, an unknown one, parameters not an OID, unused
	 * bits, extra elements, q of 520 and 521 bytes */
	check_key(0, 65, oid_p256, &r);
	check_key(0, 97, oid_p384, &r);
	check_key(0, 133, oid_p521, &r);
	check_key(0, 0, oid_p521, &r);
	check_key(0, 520, oid_p256, &r);
	check_key(0, 521, oid_p256, &r);
	check_key(0, 65, oid_cn, &r);
	snprintf(spki, sizeof(spki),
		 "30 53 30 0D 06 07 2A8648CE3D0201 30 02 05 00"
		 " 03 42 00 %s", q65);
	check_part("spki", spki, &r);
	snprintf(spki, sizeof(spki),
		 "30 59 30 13 06 07 2A8648CE3D0201 06 08 2A8648CE3D030107"
		 " 03 42 04 %s", q65);
	check_part("spki", spki, &r);
	snprintf(spki, sizeof(spki),
		 "30 5B 30 15 06 07 2A8648CE3D0201 06 08 2A8648CE3D030107"
		 " 05 00 03 42 00 %s", q65);
	check_part("spki", spki, &r);
	snprintf(spki, sizeof(spki),
		 "30 5B 30 13 06 07 2A8648CE3D0201 06 08 2A8648CE3D030107"
		 " 03 42 00 %s 05 00", q65);
	check_part("spki", spki, &r);
	/* neither RSA nor EC (id-dsa) */
	check_part("spki", "30 12 30 09 06 07 2A8648CE380401 03 05 00 02 03"
			   " 010001", &r);
}

/* ======================================================================
 * tls_pem
 * ====================================================================== */

/* A transcript of what a PEM decoder did: events, names, byte chunks. */
struct pem_log {
	struct grow g;
};

static void log_bytes(void *ctx, const void *d, size_t n)
{
	struct pem_log *l = ctx;
	unsigned char h[3] = {'D', (unsigned char)(n >> 8), (unsigned char)n};
	grow_add(&l->g, h, 3);
	grow_add(&l->g, d, n);
}

/* An event and the input offset just after the byte that raised it. */
static void log_event(struct pem_log *l, int ev, const char *name, size_t at)
{
	unsigned char e[5] = {(unsigned char)('0' + ev),
			      (unsigned char)(at >> 24),
			      (unsigned char)(at >> 16),
			      (unsigned char)(at >> 8), (unsigned char)at};
	grow_add(&l->g, e, sizeof(e));
	if (ev == BR_PEM_BEGIN_OBJ)
		grow_add(&l->g, name, strlen(name) + 1);
}

/* Objects whose name has an even length get their bytes, the others go
 * nowhere (dest NULL), so both paths of the decoder are compared. */
static int pem_wants(const char *name)
{
	return strlen(name) % 2 == 0;
}

/*
 * br_pem_decoder with the differences tls_pem makes on purpose.  CRLF
 * reads as LF: a CR is held back until the next byte shows whether a line
 * ends there; BearSSL sees the CR only when it does not.  An END line
 * ends its object at the end of the input too (ref_pem_end).  Offsets and
 * counts are those of the input as given.  Everything else is BearSSL's
 * own.
 */
struct ref_pem {
	br_pem_decoder_context br;
	int cr;
};

static void ref_pem_init(struct ref_pem *r)
{
	br_pem_decoder_init(&r->br);
	r->cr = 0;
}

/* As br_pem_decoder_push: bytes taken, up to the one raising an event. */
static size_t ref_pem_push(struct ref_pem *r, const void *data, size_t n)
{
	const unsigned char *s = data;
	size_t i = 0;

	while (i < n && !r->br.event) {
		const unsigned char *cr;
		size_t run;

		if (r->cr && s[i] != '\n' &&
		    br_pem_decoder_push(&r->br, "\r", 1) != 1)
			abort();
		r->cr = 0;
		if (s[i] == '\r') {
			r->cr = 1;
			i++;
			continue;
		}
		cr = memchr(s + i, '\r', n - i);
		run = cr ? (size_t)(cr - (s + i)) : n - i;
		i += br_pem_decoder_push(&r->br, s + i, run);
	}
	return i;
}

static int ref_pem_event(struct ref_pem *r)
{
	return br_pem_decoder_event(&r->br);
}

static const char *ref_pem_name(struct ref_pem *r)
{
	return br_pem_decoder_name(&r->br);
}

static void ref_pem_setdest(struct ref_pem *r,
			    void (*dest)(void *, const void *, size_t),
			    void *ctx)
{
	br_pem_decoder_setdest(&r->br, dest, ctx);
}

/* The input is over: BearSSL gets the '\n' a last line lacks (and a CR
 * held back), which counts only if it ends an object; what else it would
 * do (an error, bytes of a padded quartet, a BEGIN) is not tls_pem_end's,
 * so its bytes go nowhere and its event is dropped.  Then as after init. */
static int ref_pem_end(struct ref_pem *r)
{
	int ev;

	br_pem_decoder_setdest(&r->br, NULL, NULL);
	if ((r->cr && br_pem_decoder_push(&r->br, "\r", 1) != 1) ||
	    br_pem_decoder_push(&r->br, "\n", 1) != 1)
		abort();
	ev = br_pem_decoder_event(&r->br);
	ref_pem_init(r);
	return ev == BR_PEM_END_OBJ ? ev : 0;
}

static void run_bearssl(const unsigned char *s, size_t n, struct t_rng *r,
			struct pem_log *l)
{
	struct ref_pem pc;
	size_t off = 0;
	int last;

	ref_pem_init(&pc);
	while (off < n) {
		size_t piece = t_rng_piece(r, n - off), sub = 0;
		while (sub < piece) {
			size_t k = ref_pem_push(&pc, s + off + sub,
						piece - sub);
			int ev = ref_pem_event(&pc);
			sub += k;
			if (ev)
				log_event(l, ev, ref_pem_name(&pc), off + sub);
			if (ev == BR_PEM_BEGIN_OBJ)
				ref_pem_setdest(&pc,
						pem_wants(ref_pem_name(&pc))
							? log_bytes
							: NULL,
						l);
			if (!k && !ev)
				abort();
		}
		off += piece;
	}
	if ((last = ref_pem_end(&pc)) != 0)
		log_event(l, last, "", n);
}

static void run_tls_pem(const unsigned char *s, size_t n, struct t_rng *r,
			struct pem_log *l)
{
	struct tls_pem pc;
	size_t off = 0;
	int last;

	tls_pem_init(&pc);
	while (off < n) {
		size_t piece = t_rng_piece(r, n - off), sub = 0;
		unsigned char *g = t_guarded_copy(s + off, piece);
		while (sub < piece) {
			size_t k = tls_pem_push(&pc, g + sub, piece - sub);
			int ev = tls_pem_event(&pc);
			sub += k;
			if (ev)
				log_event(l, ev, pc.name, off + sub);
			if (ev == BR_PEM_BEGIN_OBJ)
				tls_pem_setdest(&pc,
						pem_wants(pc.name) ? log_bytes
								   : NULL,
						l);
			if (!k && !ev) {
				FAILF("tls_pem_push consumed nothing");
				t_guarded_free(g);
				return;
			}
		}
		t_guarded_free(g);
		off += piece;
	}
	if ((last = tls_pem_end(&pc)) != 0)
		log_event(l, last, "", n);
}

/* Both decoders on s (each cut into its own random pieces); 1 if their
 * transcripts are equal. */
static int check_pem(const unsigned char *s, size_t n, struct t_rng *r,
		     const char *what)
{
	struct pem_log a = {{0, 0, 0}}, b = {{0, 0, 0}};
	int ok;

	run_bearssl(s, n, r, &a);
	run_tls_pem(s, n, r, &b);
	ok = a.g.len == b.g.len && (a.g.len == 0 ||
				    !memcmp(a.g.p, b.g.p, a.g.len));
	if (!ok)
		FAILF("%s: tls_pem differs from br_pem_decoder (%zu vs %zu "
		      "transcript bytes) on %zu input bytes: %s", what,
		      b.g.len, a.g.len, n, t_esc(s, n));
	free(a.g.p);
	free(b.g.p);
	return ok;
}

/* A bundle of n certificates and other objects, LF or CRLF, with the
 * text that sits between objects in real bundles.  With plain, only
 * CERTIFICATE objects in lines of 64. */
static void make_bundle(struct grow *out, int n, int plain, struct t_rng *r)
{
	static const char *const names[] = {
		"CERTIFICATE", "TRUSTED CERTIFICATE", "certificate",
		"X509 CRL", "PRIVATE KEY", "CERTIFICATE---"};
	char pem[12000];
	int i;

	out->len = 0;
	for (i = 0; i < n; i++) {
		struct der_buf c;
		/* the first is always a certificate */
		const char *name = names[!plain && i > 0 &&
						 t_rng_below(r, 6) == 0
					 ? t_rng_below(r, 6)
					 : 0];
		unsigned flags = BR_PEM_LINE64;
		size_t len;
		if (t_rng_below(r, 3) == 0)
			grow_add(out, "# Comment line\n\n", 16);
		if (t_rng_below(r, 8) == 0)
			flags = BR_PEM_LINE64 | BR_PEM_CRLF;
		else if (!plain && t_rng_below(r, 8) == 0)
			flags = 0; /* one long line */
		make_cert(&c, r);
		len = br_pem_encode(pem, c.p, c.n, name, flags);
		grow_add(out, pem, len);
	}
}

TEST(tls_pem_equals_bearssl_on_generated_bundles)
{
	struct t_rng r;
	struct grow b = {0, 0, 0};
	int i;

	t_rng_seed(&r, t_seed(3));
	for (i = 0; i < 30 && t_failures() == 0; i++) {
		make_bundle(&b, 1 + (int)t_rng_below(&r, 4), 0, &r);
		check_pem(b.p, b.len, &r, "bundle");
	}
	free(b.p);
}

TEST(tls_pem_equals_bearssl_on_edited_bundles)
{
	static const unsigned char v[] = {
		'\n', '\n', '\r', ' ', '\t', '-', '-', '=', '=', 'A', 'z',
		'/', '+', '0', 'B', 'E', 'G', 'I', 'N', 0, 0x80, 0xFF, '#'};
	struct t_rng r;
	struct grow b = {0, 0, 0};
	int i;

	t_rng_seed(&r, t_seed(4));
	for (i = 0; i < 400 && t_failures() == 0; i++) {
		size_t k, edits = 1 + t_rng_below(&r, 6);
		make_bundle(&b, 1 + (int)t_rng_below(&r, 2), 0, &r);
		for (k = 0; k < edits && b.len > 0; k++) {
			size_t at = t_rng_below(&r, b.len);
			switch (t_rng_below(&r, 4)) {
			case 0:
				b.len = at; /* truncate */
				break;
			case 1:
				memmove(b.p + at, b.p + at + 1, b.len - at - 1);
				b.len--;
				break;
			default:
				b.p[at] = v[t_rng_below(&r, sizeof(v))];
				break;
			}
		}
		check_pem(b.p, b.len, &r, "edited bundle");
	}
	free(b.p);
}

TEST(tls_pem_equals_bearssl_on_hand_written_cases)
{
	static const char *const cases[] = {
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\r\nAAAA\r\n-----END X-----\r\n",
		"-----begin x-----\nAA==\n\n\n-----end x\n",
		"-----BEGIN X\n  AA A=  \n-----END\n",
		"-----BEGIN X\nAAA=x\n-----END X\n",
		"-----BEGIN X\nAA=\n-----END X\n",
		"-----BEGIN X\nAA\n-----END X\n",
		"-----BEGIN X\nAAAA-----END X\n",
		"-----BEGIN X\n -----END X\n",
		"-----BEGIN X\nAAAA\n\r\n-----END X\n",
		"-----BEGIN \n-----BEGIN ---\nAAAA\n-----END\n",
		"-----BEGIN X\nAAAA\n-----END X", /* no final newline */
		"x-----BEGIN X\n-----BEGIN Y\n-----END\n",
		"-----BEGIN X\nAB==\n-----END X\n", /* non-zero pad bits */
		"-----BEGIN X\nABC=\n-----END X\n",
		"-----BEGIN X\nAAA=\n\n-----END X\n",
		"-----BEGIN X\nAAA=\n  \n-----END X\n",
		"-----BEGIN X\nAA==  \nx\n-----BEGIN Y\nAAAA\n-----END Y\n",
		"-----BEGIN XY\n A A\tA A \r\nA B C D\n-----END\n",
		"-----BEGIN XY\nAB\001CD\037\nAAAA\n-----END\n",
		"-----BEGIN XY\nABCD\177\nAAAA\n-----END\n",
		"-----BEGIN XY\nAA=B\n-----END\n",
		"-----BEGIN XY\nAA= =\n-----END\n",
		"-----BEGIN XY\nAA==\r\n-----END\n",
		"-----BEGIN XY\nAAA= \t\n\n\n-----END\n",
	};
	struct t_rng r;
	size_t i;
	char longname[800];

	t_rng_seed(&r, t_seed(5));
	for (i = 0; i < T_ARRAY_LEN(cases); i++)
		check_pem((const unsigned char *)cases[i], strlen(cases[i]), &r,
			  "case");
	/* names of 126, 127 and 128 characters (127 is the limit) */
	for (i = 126; i <= 128; i++) {
		int n = snprintf(longname, sizeof(longname),
				 "-----BEGIN %0*d\nAAAA\n-----END\n"
				 "-----BEGIN %0*d\n-----BEGIN YY\nAAAA\n"
				 "-----END\n", (int)i, 0, (int)i, 0);
		check_pem((const unsigned char *)longname, (size_t)n, &r,
			  "long name");
	}
}

/* CRLF reads as LF, where BearSSL 0.6 took the CR into the name (which
 * kept its dashes: "CERTIFICATE-----") and took a CRLF blank line after a
 * padded quartet for a bad END line.  A CR elsewhere is still itself. */
TEST(tls_pem_reads_crlf_as_lf)
{
	static const char crlf[] =
		"-----BEGIN CERTIFICATE-----\r\nAAAA\r\nAA==\r\n\r\n"
		"-----END CERTIFICATE-----\r\n";
	static const char empty[] = "-----BEGIN \r\n-----BEGIN X\r\n";
	static const char lone[] = "-----BEGIN AB\rC-----\n";
	struct tls_pem p;
	size_t i, n;

	/* whole, and split anywhere in the banner line (at 28, between
	 * its CR and LF) */
	for (i = 0; i <= 29; i++) {
		struct grow out = {0, 0, 0};
		tls_pem_init(&p);
		n = tls_pem_push(&p, crlf, i);
		n += tls_pem_push(&p, crlf + n, sizeof(crlf) - 1 - n);
		CHECK_EQ_INT(n, 29);
		CHECK_EQ_INT(tls_pem_event(&p), BR_PEM_BEGIN_OBJ);
		CHECK_EQ_STR(p.name, "CERTIFICATE");
		tls_pem_setdest(&p, grow_add, &out);
		n += tls_pem_push(&p, crlf + n, sizeof(crlf) - 1 - n);
		CHECK_EQ_INT(n, sizeof(crlf) - 1);
		CHECK_EQ_INT(tls_pem_event(&p), BR_PEM_END_OBJ);
		CHECK_EQ_MEM(out.p, out.len, "\0\0\0\0", 4);
		free(out.p);
	}
	/* an empty name is no object, as with LF */
	tls_pem_init(&p);
	CHECK_EQ_INT(tls_pem_push(&p, empty, sizeof(empty) - 1),
		     sizeof(empty) - 1);
	CHECK_EQ_INT(tls_pem_event(&p), BR_PEM_BEGIN_OBJ);
	CHECK_EQ_STR(p.name, "X");
	/* a lone CR takes a slot in the name without being written, as in
	 * BearSSL (here the 0 left by tls_pem_init) */
	tls_pem_init(&p);
	CHECK_EQ_INT(tls_pem_push(&p, lone, sizeof(lone) - 1),
		     sizeof(lone) - 1);
	CHECK_EQ_INT(tls_pem_event(&p), BR_PEM_BEGIN_OBJ);
	CHECK_EQ_STR(p.name, "AB");
	CHECK(p.name[3] == 'C' && p.name[4] == 0);
}

/* At the end of the input, a last line that is an END line without its
 * '\n' ends its object; BearSSL 0.6 waited for the '\n', so a bundle
 * without a final newline lost its last certificate.  Anything short of
 * "-----END " is no END line, and an unfinished object is dropped. */
TEST(tls_pem_end_ends_a_last_end_line_without_newline)
{
	static const struct {
		const char *tail;
		int ev;
	} cases[] = {
		{"-----END CERTIFICATE-----", BR_PEM_END_OBJ},
		{"-----END CERTIFICATE-----\r", BR_PEM_END_OBJ},
		{"-----END ", BR_PEM_END_OBJ},
		{"-----end x", BR_PEM_END_OBJ},
		{"-----END", 0},
		{"-----EN", 0},
		{"-", 0},
		{"", 0},
		{"AAAA", 0},
		{"AAAA-----END X", 0}, /* an error at its '\n' */
	};
	static const char head[] = "-----BEGIN CERTIFICATE-----\nAAAA\nAA==\n";
	char text[128];
	size_t i, n, len;

	for (i = 0; i < T_ARRAY_LEN(cases); i++) {
		struct grow out = {0, 0, 0};
		struct tls_pem p;

		len = (size_t)snprintf(text, sizeof(text), "%s%s", head,
				       cases[i].tail);
		tls_pem_init(&p);
		n = tls_pem_push(&p, text, len);
		CHECK_EQ_INT(tls_pem_event(&p), BR_PEM_BEGIN_OBJ);
		tls_pem_setdest(&p, grow_add, &out);
		n += tls_pem_push(&p, text + n, len - n);
		CHECK_EQ_INT(n, len);
		CHECK_EQ_INT(tls_pem_event(&p), 0);
		if (!CHECK_EQ_INT(tls_pem_end(&p), cases[i].ev))
			FAILF("tail \"%s\"", t_esc(cases[i].tail,
						   strlen(cases[i].tail)));
		if (cases[i].ev)
			CHECK_EQ_MEM(out.p, out.len, "\0\0\0\0", 4);
		/* then as new: the next input starts afresh */
		CHECK_EQ_INT(tls_pem_push(&p, head, sizeof(head) - 1), 28);
		CHECK_EQ_INT(tls_pem_event(&p), BR_PEM_BEGIN_OBJ);
		CHECK_EQ_INT(tls_pem_end(&p), 0);
		free(out.p);
	}
	/* with its '\n', END is raised by the push, and not again */
	{
		static const char whole[] =
			"-----BEGIN X\nAAAA\n-----END X\n";
		struct tls_pem p;
		tls_pem_init(&p);
		n = tls_pem_push(&p, whole, sizeof(whole) - 1);
		CHECK_EQ_INT(tls_pem_event(&p), BR_PEM_BEGIN_OBJ);
		tls_pem_push(&p, whole + n, sizeof(whole) - 1 - n);
		CHECK_EQ_INT(tls_pem_event(&p), BR_PEM_END_OBJ);
		CHECK_EQ_INT(tls_pem_end(&p), 0);
	}
}

/* ======================================================================
 * The system bundle, when there is one
 * ====================================================================== */

static int read_file(const char *path, struct grow *out)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	out->len = 0;
	if (!f)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		grow_add(out, buf, n);
	fclose(f);
	return 0;
}

static const char *const system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/cert.pem",
	"/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem"};

static const char *system_bundle(struct grow *out)
{
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(system_bundles); i++)
		if (read_file(system_bundles[i], out) == 0 && out->len > 0)
			return system_bundles[i];
	return NULL;
}

/* Collects each CERTIFICATE object's DER, as the loader does. */
struct der_list {
	struct grow cur;
	struct grow all; /* [len:4][bytes] ... */
	int n;
};

static void der_list_end(struct der_list *d)
{
	unsigned char h[4] = {(unsigned char)(d->cur.len >> 24),
			      (unsigned char)(d->cur.len >> 16),
			      (unsigned char)(d->cur.len >> 8),
			      (unsigned char)d->cur.len};
	grow_add(&d->all, h, 4);
	grow_add(&d->all, d->cur.p, d->cur.len);
	d->n++;
}

TEST(tls_system_bundle_decodes_as_with_bearssl)
{
	struct grow b = {0, 0, 0};
	struct der_list d = {{0, 0, 0}, {0, 0, 0}, 0};
	struct t_rng r;
	struct ref_pem pc;
	const char *path = system_bundle(&b);
	size_t off = 0, i;
	int in_cert = 0;

	if (!path) {
		printf("note %s: no system CA bundle here; skipped\n",
		       t_name());
		return;
	}
	t_rng_seed(&r, t_seed(6));
	check_pem(b.p, b.len, &r, path);
	ref_pem_init(&pc);
	while (off < b.len) {
		int ev;
		off += ref_pem_push(&pc, b.p + off, b.len - off);
		ev = ref_pem_event(&pc);
		if (ev == BR_PEM_BEGIN_OBJ) {
			in_cert = !strcmp(ref_pem_name(&pc), "CERTIFICATE");
			d.cur.len = 0;
			ref_pem_setdest(&pc, in_cert ? grow_add : NULL,
					&d.cur);
		} else if (ev == BR_PEM_END_OBJ && in_cert) {
			der_list_end(&d);
		}
	}
	if (ref_pem_end(&pc) == BR_PEM_END_OBJ && in_cert)
		der_list_end(&d);
	for (i = 0; i < d.all.len;) {
		size_t n = (size_t)d.all.p[i] << 24 |
			   (size_t)d.all.p[i + 1] << 16 |
			   (size_t)d.all.p[i + 2] << 8 | d.all.p[i + 3];
		check_der(d.all.p + i + 4, n, path);
		i += 4 + n;
	}
	CHECK(d.n > 0);
	free(b.p);
	free(d.cur.p);
	free(d.all.p);
}

/* ======================================================================
 * tls_init against the loader as it was
 * ====================================================================== */

struct ref_set {
	struct ref_anchor a[512];
	size_t n;
};

static void ref_set_free(struct ref_set *s)
{
	size_t i;
	for (i = 0; i < s->n; i++)
		ref_free(&s->a[i]);
	s->n = 0;
}

/* A certificate object ended: its anchor, or one more bad. */
static void ref_end_cert(struct ref_set *s, const struct grow *obj,
			 int *added, int *bad)
{
	struct ref_anchor *a = &s->a[s->n];

	if (s->n == T_ARRAY_LEN(s->a))
		abort();
	ref_decode(a, obj->p, obj->len);
	if (a->ok) {
		s->n++;
		(*added)++;
	} else {
		(*bad)++;
	}
}

/* The old load_pem: br_pem_decoder (through ref_pem) over 4 KB reads,
 * reset and the rest of the read dropped on a PEM error, br_x509_decoder
 * per certificate. */
static int ref_load(const char *path, int strict, struct ref_set *s)
{
	struct ref_pem pc;
	struct grow obj = {0, 0, 0};
	unsigned char buf[4096];
	int in_cert = 0, added = 0, bad = 0;
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	ref_pem_init(&pc);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		size_t off = 0;
		while (off < n) {
			off += ref_pem_push(&pc, buf + off, n - off);
			switch (ref_pem_event(&pc)) {
			case BR_PEM_BEGIN_OBJ:
				obj.len = 0;
				in_cert = !strcmp(ref_pem_name(&pc),
						  "CERTIFICATE") ||
					  !strcmp(ref_pem_name(&pc),
						  "TRUSTED CERTIFICATE");
				ref_pem_setdest(&pc, in_cert ? grow_add : NULL,
						&obj);
				break;
			case BR_PEM_END_OBJ:
				if (in_cert)
					ref_end_cert(s, &obj, &added, &bad);
				in_cert = 0;
				break;
			case BR_PEM_ERROR:
				bad++;
				ref_pem_init(&pc);
				off = n;
				break;
			default:
				break;
			}
		}
	}
	if (ref_pem_end(&pc) == BR_PEM_END_OBJ && in_cert)
		ref_end_cert(s, &obj, &added, &bad);
	fclose(f);
	free(obj.p);
	if (strict && (bad || added == 0))
		return -2;
	return added;
}

/* The loaded anchors equal s->a[from..]; reports the first difference. */
static int check_loaded(const struct ref_set *s, size_t from, const char *what)
{
	const br_x509_trust_anchor *ta = tls_anchors();
	size_t i, n = tls_anchor_count();

	if (!CHECK_EQ_INT(n, s->n - from)) {
		FAILF("%s: anchor count", what);
		return 0;
	}
	for (i = 0; i < n; i++)
		if (!anchors_equal(&ta[i], &s->a[from + i].ta)) {
			FAILF("%s: anchor %zu differs", what, i);
			return 0;
		}
	return 1;
}

static char tmp_dir[64];

static const char *tmp_path(const char *name)
{
	static char p[4][128];
	static int k;
	char *o = p[k++ & 3];
	if (!tmp_dir[0]) {
		snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/t_tls_XXXXXX");
		if (!mkdtemp(tmp_dir))
			abort();
	}
	snprintf(o, sizeof(p[0]), "%s/%s", tmp_dir, name);
	return o;
}

static void tmp_cleanup(void)
{
	static const char *const names[] = {"sys.pem", "ca.pem"};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(names); i++)
		unlink(tmp_path(names[i]));
	rmdir(tmp_dir);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		abort();
}

TEST(tls_init_loads_the_system_bundle_as_before)
{
	struct grow b = {0, 0, 0};
	static struct ref_set s;
	char err[256];
	const char *path = system_bundle(&b);

	free(b.p);
	if (!path) {
		printf("note %s: no system CA bundle here; skipped\n",
		       t_name());
		return;
	}
	unsetenv("SSL_CERT_FILE");
	REQUIRE(ref_load(path, 0, &s) > 0);
	CHECK_EQ_INT(tls_init(NULL, err, sizeof(err)), s.n);
	check_loaded(&s, 0, path);
	ref_set_free(&s);
	tls_free();
}

TEST(tls_init_skips_bad_system_certificates_refuses_bad_ca_file)
{
	static const char bad_cert[] =
		"-----BEGIN CERTIFICATE-----\nMAMCAQA=\n"
		"-----END CERTIFICATE-----\n";
	static struct ref_set s;
	struct grow b = {0, 0, 0};
	struct t_rng r;
	char err[256];
	int nsys;

	t_rng_seed(&r, t_seed(7));
	make_bundle(&b, 5, 1, &r);
	grow_add(&b, bad_cert, sizeof(bad_cert) - 1);
	write_file(tmp_path("sys.pem"), b.p, b.len);
	setenv("SSL_CERT_FILE", tmp_path("sys.pem"), 1);
	nsys = ref_load(tmp_path("sys.pem"), 0, &s);
	REQUIRE(nsys > 0);
	CHECK_EQ_INT(tls_init(NULL, err, sizeof(err)), nsys);
	check_loaded(&s, 0, "system bundle with a bad certificate");

	/* the same file as ca-file: an error */
	CHECK_EQ_INT(tls_init(tmp_path("sys.pem"), err, sizeof(err)), -1);
	CHECK(strstr(err, "not a PEM file of certificates") != NULL);

	/* a good ca-file adds to the bundle's anchors */
	make_bundle(&b, 3, 1, &r);
	write_file(tmp_path("ca.pem"), b.p, b.len);
	REQUIRE(ref_load(tmp_path("ca.pem"), 1, &s) > 0);
	CHECK_EQ_INT(tls_init(tmp_path("ca.pem"), err, sizeof(err)), s.n);
	check_loaded(&s, 0, "bundle + ca-file");

	ref_set_free(&s);
	tls_free();
	free(b.p);
	tmp_cleanup();
	unsetenv("SSL_CERT_FILE");
}

/* The bytes of in with every line ending in LF (crlf 0) or CRLF (1). */
static void line_ends(struct grow *out, const struct grow *in, int crlf)
{
	size_t i;

	out->len = 0;
	for (i = 0; i < in->len; i++) {
		if (in->p[i] == '\r' && i + 1 < in->len && in->p[i + 1] == '\n')
			continue;
		if (in->p[i] == '\n' && crlf)
			grow_add(out, "\r", 1);
		grow_add(out, in->p + i, 1);
	}
}

/* A ca-file with CRLF line ends gives the anchors of the same file with
 * LF; BearSSL 0.6 named its objects "CERTIFICATE-----", so such a file
 * was "not a PEM file of certificates". */
TEST(tls_init_reads_a_crlf_ca_file)
{
	static struct ref_set s;
	struct grow b = {0, 0, 0}, f = {0, 0, 0};
	struct t_rng r;
	char err[256];

	t_rng_seed(&r, t_seed(11));
	make_bundle(&b, 2, 1, &r);
	line_ends(&f, &b, 0);
	write_file(tmp_path("sys.pem"), f.p, f.len);
	setenv("SSL_CERT_FILE", tmp_path("sys.pem"), 1);
	REQUIRE(ref_load(tmp_path("sys.pem"), 0, &s) == 2);
	make_bundle(&b, 3, 1, &r);
	line_ends(&f, &b, 0);
	write_file(tmp_path("ca.pem"), f.p, f.len);
	REQUIRE(ref_load(tmp_path("ca.pem"), 1, &s) == 3);

	line_ends(&f, &b, 1);
	write_file(tmp_path("ca.pem"), f.p, f.len);
	CHECK_EQ_INT(tls_init(tmp_path("ca.pem"), err, sizeof(err)), 5);
	check_loaded(&s, 0, "CRLF ca-file");

	ref_set_free(&s);
	tls_free();
	free(b.p);
	free(f.p);
	tmp_cleanup();
	unsetenv("SSL_CERT_FILE");
}

/* A ca-file or system bundle whose last line, the last certificate's END
 * line, has no '\n' keeps that certificate (BearSSL 0.6 dropped it
 * without a word: a ca-file of one certificate was "not a PEM file of
 * certificates"). */
TEST(tls_init_keeps_the_last_certificate_without_final_newline)
{
	static struct ref_set s;
	struct grow b = {0, 0, 0};
	struct t_rng r;
	char err[256];

	t_rng_seed(&r, t_seed(12));
	make_bundle(&b, 3, 1, &r);
	write_file(tmp_path("sys.pem"), b.p, b.len);
	REQUIRE(ref_load(tmp_path("sys.pem"), 0, &s) == 3);
	b.len -= 1 + (b.p[b.len - 2] == '\r'); /* drop the final LF/CRLF */
	write_file(tmp_path("sys.pem"), b.p, b.len);
	setenv("SSL_CERT_FILE", tmp_path("sys.pem"), 1);
	CHECK_EQ_INT(tls_init(NULL, err, sizeof(err)), 3);
	check_loaded(&s, 0, "system bundle without final newline");

	make_bundle(&b, 1, 1, &r);
	write_file(tmp_path("ca.pem"), b.p, b.len);
	REQUIRE(ref_load(tmp_path("ca.pem"), 1, &s) == 1);
	b.len -= 1 + (b.p[b.len - 2] == '\r');
	write_file(tmp_path("ca.pem"), b.p, b.len);
	CHECK_EQ_INT(tls_init(tmp_path("ca.pem"), err, sizeof(err)), 4);
	check_loaded(&s, 0, "ca-file without final newline");

	/* cut before "-----END " is whole, it is no certificate */
	b.len -= 18; /* "-----EN" left of "-----END CERTIFICATE-----" */
	write_file(tmp_path("ca.pem"), b.p, b.len);
	CHECK_EQ_INT(tls_init(tmp_path("ca.pem"), err, sizeof(err)), -1);

	ref_set_free(&s);
	tls_free();
	free(b.p);
	tmp_cleanup();
	unsetenv("SSL_CERT_FILE");
}

TEST(tls_init_equals_the_old_loader_on_edited_files)
{
	static const unsigned char v[] = {'\n', '\r', ' ', '-', '=', 'A',
					  '/', 0, 0xFF};
	static struct ref_set s;
	struct grow b = {0, 0, 0};
	struct t_rng r;
	char err[256];
	int i, nsys;

	t_rng_seed(&r, t_seed(8));
	make_bundle(&b, 3, 1, &r);
	write_file(tmp_path("sys.pem"), b.p, b.len);
	setenv("SSL_CERT_FILE", tmp_path("sys.pem"), 1);
	for (i = 0; i < 60 && t_failures() == 0; i++) {
		size_t k, edits = t_rng_below(&r, 4);
		int want;

		/* bundles larger than one 4 KB read, edited here and there */
		make_bundle(&b, 2 + (int)t_rng_below(&r, 6), 0, &r);
		for (k = 0; k < edits; k++) {
			size_t at = t_rng_below(&r, b.len);
			if (t_rng_below(&r, 2))
				b.p[at] = v[t_rng_below(&r, sizeof(v))];
			else
				b.p[at] ^= (unsigned char)(1u << t_rng_below(&r, 8));
		}
		write_file(tmp_path("ca.pem"), b.p, b.len);

		ref_set_free(&s);
		nsys = ref_load(tmp_path("sys.pem"), 0, &s);
		REQUIRE(nsys > 0);
		want = ref_load(tmp_path("ca.pem"), 1, &s);
		if (want < 0) {
			CHECK_EQ_INT(tls_init(tmp_path("ca.pem"), err,
					      sizeof(err)), -1);
		} else {
			CHECK_EQ_INT(tls_init(tmp_path("ca.pem"), err,
					      sizeof(err)), s.n);
			check_loaded(&s, 0, "edited ca-file");
		}

		/* the edited file as the system bundle: bad ones skipped */
		ref_set_free(&s);
		want = ref_load(tmp_path("ca.pem"), 0, &s);
		if (want > 0) { /* with none, tls_init looks elsewhere */
			setenv("SSL_CERT_FILE", tmp_path("ca.pem"), 1);
			CHECK_EQ_INT(tls_init(NULL, err, sizeof(err)), want);
			check_loaded(&s, 0, "edited system bundle");
			setenv("SSL_CERT_FILE", tmp_path("sys.pem"), 1);
		}
	}
	ref_set_free(&s);
	tls_free();
	free(b.p);
	tmp_cleanup();
	unsetenv("SSL_CERT_FILE");
}
