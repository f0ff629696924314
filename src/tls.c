/*
 * tls.c - trust anchors and BearSSL client engines (see tls.h).
 *
 * Anchor loading.  A PEM file is read in 4 KB pieces and pushed through
 * tls_pem; each CERTIFICATE object is collected into a growing DER buffer,
 * then tls_anchor_decode takes the subject DN and public key from it
 * without copying, and those few hundred bytes are copied into a trust
 * anchor.  Objects that are not certificates are skipped; a certificate
 * that fails to decode is skipped too when it comes from the system
 * bundle, and is an error when it comes from the user's ca-file.
 *
 * tls_pem and tls_anchor_decode do what br_pem_decoder and br_x509_decoder
 * did here before, with the same results, quirks included (but for CRLF
 * line ends and a last END line without '\n', which BearSSL misread: see
 * tls_pem_push and tls_pem_end), in plain C:
 * BearSSL's decoders run on its T0 interpreter at ~1,300 instructions per
 * PEM byte plus ~0.5 M per certificate, which made the ~220 KB system
 * bundle cost ~70 ms at every start (about a second on a MIPS router);
 * now it is ~6.4 M instructions in all.
 *
 * Invariant: the anchors (count, order, bytes, arena layout) are those the
 * BearSSL decoders give for the same file with its CRLF line ends made LF
 * and, if it ends in an END line, a final LF;
 * tests/unit/test_tls_anchors.c compares both on generated, edited and
 * system bundles.
 *
 * The second half of the file is the engine pump (records between an
 * engine and the layer below it; engines stack, for TLS inside an https://
 * proxy's TLS) and the session cache that hc keeps per context: see the
 * comments in tls.h.  Neither touches a socket: the layers are callbacks.
 */
#define _POSIX_C_SOURCE 200809L
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"

static br_x509_trust_anchor *tas;
static size_t ntas, captas;

/*
 * Anchor bytes (DNs and keys, ~150 anchors of a few hundred bytes) live in
 * a bump arena of large blocks: one malloc per block instead of three per
 * anchor keeps idle memory close to the bytes actually stored.
 */
#define ARENA_BLOCK (32 * 1024)
struct arena_block {
	struct arena_block *next;
	size_t used;
	unsigned char data[];
};
static struct arena_block *arena;

static void *arena_dup(const void *p, size_t n)
{
	struct arena_block *b = arena;
	size_t need = (n + 7) & ~(size_t)7;
	void *r;
	if (!b || b->used + need > ARENA_BLOCK) {
		size_t cap = need > ARENA_BLOCK ? need : ARENA_BLOCK;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = arena;
		b->used = 0;
		arena = b;
	}
	r = b->data + b->used;
	b->used += need;
	memcpy(r, p, n);
	return r;
}

size_t tls_anchor_count(void)
{
	return ntas;
}

const br_x509_trust_anchor *tls_anchors(void)
{
	return tas;
}

/* ---- PEM decoder ---------------------------------------------------------
 *
 * One state per place where BearSSL's pemdec.t0 reads a byte:
 *
 *   BANNER --"-----BEGIN "--> NAME --\n--> (BEGIN) Q0 <-----------+
 *     ^  \--other--> SKIP --\n--^                |  quartet:      |
 *     |                                          +-> Q1 Q2 Q3 ----+
 *     +--(END)-- END_NL <-- TRAIL <-"-" at line start, or after "="
 *     +--(ERROR)-- on a bad character, at the end of its line
 *
 * END_NL raises END at the LF, or at the end of the input (tls_pem_end),
 * where BearSSL, waiting for an LF, dropped a bundle's last certificate.
 *
 * k counts the characters of a banner matched so far; acc gathers the
 * quartet's 6-bit values; decoded bytes wait in buf (255 bytes, flushed
 * to dest when full and at END) exactly as in BearSSL, where bytes left
 * there by a broken object go to the next object's dest.
 *
 * Before the states, tls_pem_push reads CRLF as LF: a CR waits (cr) for
 * the next byte, and is stepped only if that byte is not LF.  Only LF
 * raises events, so stepping a late CR never does.  BearSSL steps every
 * CR: in a name it takes a slot without being written, which kept the
 * dashes of "CERTIFICATE-----\r" (and a stale byte), and a CRLF blank
 * line after a padded quartet was an error.
 */
enum {
	PEM_BANNER,	/* matching "-----BEGIN " at k */
	PEM_SKIP,	/* to the end of the line, then BANNER */
	PEM_NAME,	/* object name, k bytes so far */
	PEM_Q0,		/* first character of a quartet */
	PEM_Q0_WS,	/* the same, after white space */
	PEM_Q1,
	PEM_Q2,
	PEM_Q3,
	PEM_PAD2_4,	/* after "x=": the fourth character */
	PEM_PAD_WS,	/* after padding: the rest of the line */
	PEM_TRAIL_NL,	/* after padding: blank lines, then "-" */
	PEM_TRAIL,	/* matching "----END " at k */
	PEM_END_NL,	/* to the end of the END line, then the END event */
	PEM_ERR_NL,	/* to the end of the line, then the ERROR event */
};

static const char pem_begin[] = "-----BEGIN ";
static const char pem_end[] = "----END ";

static int pem_ws(int c) /* BearSSL's ws?: control or space, not \n */
{
	return c <= 32 && c != '\n';
}

static int pem_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

static int pem_b64(int c) /* 0..63, or -1 for '=', -2 for anything else */
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return c == '=' ? -1 : -2;
}

static void pem_flush(struct tls_pem *p)
{
	if (p->ptr > 0) {
		if (p->dest)
			p->dest(p->dest_ctx, p->buf, p->ptr);
		p->ptr = 0;
	}
}

static void pem_write(struct tls_pem *p, uint32_t x)
{
	p->buf[p->ptr++] = (unsigned char)x;
	if (p->ptr == sizeof(p->buf)) {
		if (p->dest)
			p->dest(p->dest_ctx, p->buf, sizeof(p->buf));
		p->ptr = 0;
	}
}

/* End of the name line: drop trailing dashes, as BearSSL's trim-dashes
 * does (a lone '\r' took a slot in the name without writing it). */
static void pem_name_end(struct tls_pem *p, unsigned len)
{
	while (len > 0) {
		len--;
		if (p->name[len] != '-') {
			p->name[len + 1] = 0;
			return;
		}
	}
	p->name[0] = 0;
}

/* One byte; returns the event it raises (0 for none). */
static int pem_step(struct tls_pem *p, int c)
{
	int v;

	switch (p->state) {
	case PEM_BANNER:
		if (c == '\n') {
			p->k = 0;
		} else if (pem_upper(c) != pem_begin[p->k]) {
			p->state = PEM_SKIP;
		} else if (++p->k == sizeof(pem_begin) - 1) {
			p->state = PEM_NAME;
			p->k = 0;
		}
		return 0;
	case PEM_SKIP:
		if (c == '\n') {
			p->state = PEM_BANNER;
			p->k = 0;
		}
		return 0;
	case PEM_NAME:
		if (p->k == sizeof(p->name) - 1) { /* too long: skip it */
			p->state = c == '\n' ? PEM_BANNER : PEM_SKIP;
			p->k = 0;
			return 0;
		}
		if (c != '\n') {
			if (c != '\r')
				p->name[p->k] = (char)pem_upper(c);
			p->k++;
			return 0;
		}
		if (p->k == 0) {
			p->state = PEM_BANNER;
			return 0;
		}
		pem_name_end(p, p->k);
		p->state = PEM_Q0;
		p->first = 1;
		return BR_PEM_BEGIN_OBJ;
	case PEM_Q0:
		if (c == '-') {
			p->state = p->first ? PEM_TRAIL : PEM_ERR_NL;
			p->k = 0;
			return 0;
		}
		/* fall through */
	case PEM_Q0_WS:
		if (c == '\n') { /* blank line, or end of a line */
			p->state = PEM_Q0;
			p->first = 1;
			return 0;
		}
		if (pem_ws(c)) {
			p->state = PEM_Q0_WS;
			return 0;
		}
		break;
	case PEM_Q1:
	case PEM_Q2:
	case PEM_Q3:
	case PEM_PAD2_4:
		if (pem_ws(c))
			return 0;
		if (c == '\n')
			goto error_here;
		break;
	case PEM_PAD_WS:
		if (c != '\n') {
			if (!pem_ws(c))
				p->allws = 0;
			return 0;
		}
		if (!p->allws)
			goto error_here;
		if (p->pad == 2) { /* "x==" */
			if (p->c4 != '=' || (p->acc & 0x0F))
				goto error_here;
			pem_write(p, p->acc >> 4);
		} else { /* "xx=" */
			if (p->acc & 0x03)
				goto error_here;
			pem_write(p, p->acc >> 10);
			pem_write(p, p->acc >> 2);
		}
		p->state = PEM_TRAIL_NL;
		return 0;
	case PEM_TRAIL_NL:
		if (c == '\n')
			return 0;
		p->state = c == '-' ? PEM_TRAIL : PEM_ERR_NL;
		p->k = 0;
		return 0;
	case PEM_TRAIL:
		c = pem_upper(c);
		if (c == '\n')
			goto error_here;
		if (c != pem_end[p->k]) {
			p->state = PEM_ERR_NL;
		} else if (++p->k == sizeof(pem_end) - 1) {
			pem_flush(p);
			p->state = PEM_END_NL;
		}
		return 0;
	case PEM_END_NL:
		if (c != '\n')
			return 0;
		p->state = PEM_BANNER;
		p->k = 0;
		return BR_PEM_END_OBJ;
	case PEM_ERR_NL:
		if (c != '\n')
			return 0;
		goto error_here;
	}

	/* A non-blank character inside a quartet (Q0..Q3, PAD2_4). */
	switch (p->state) {
	case PEM_PAD2_4:
		p->c4 = c;
		p->pad = 2;
		p->allws = 1;
		p->state = PEM_PAD_WS;
		return 0;
	case PEM_Q2:
	case PEM_Q3:
		if (c == '=') {
			if (p->state == PEM_Q2) {
				p->state = PEM_PAD2_4;
			} else {
				p->pad = 1;
				p->allws = 1;
				p->state = PEM_PAD_WS;
			}
			return 0;
		}
		break;
	default:
		break;
	}
	v = pem_b64(c);
	if (v < 0) {
		p->state = PEM_ERR_NL;
		return 0;
	}
	switch (p->state) {
	case PEM_Q3:
		p->acc = (p->acc << 6) + (uint32_t)v;
		pem_write(p, p->acc >> 16);
		pem_write(p, p->acc >> 8);
		pem_write(p, p->acc);
		p->state = PEM_Q0;
		p->first = 0;
		return 0;
	case PEM_Q1:
	case PEM_Q2:
		p->acc = (p->acc << 6) + (uint32_t)v;
		p->state = p->state == PEM_Q1 ? PEM_Q2 : PEM_Q3;
		return 0;
	default: /* Q0, Q0_WS */
		p->acc = (uint32_t)v;
		p->state = PEM_Q1;
		return 0;
	}

error_here:
	p->state = PEM_BANNER;
	p->k = 0;
	return BR_PEM_ERROR;
}

/* see tls.h */
void tls_pem_init(struct tls_pem *p)
{
	memset(p, 0, sizeof(*p));
	p->state = PEM_BANNER;
}

/* see tls.h */
size_t tls_pem_push(struct tls_pem *p, const void *data, size_t len)
{
	const unsigned char *s = data;
	size_t i = 0;

	if (p->event)
		return 0;
	while (i < len) {
		int ch = s[i];

		/* Most of a bundle is whole quartets: four base64 characters
		 * at the start of one do what pem_step would do with them. */
		if (p->state == PEM_Q0 && !p->cr && len - i >= 4) {
			int a = pem_b64(s[i]), b = pem_b64(s[i + 1]),
			    c = pem_b64(s[i + 2]), d = pem_b64(s[i + 3]);
			if ((a | b | c | d) >= 0) {
				p->acc = (uint32_t)a << 18 | (uint32_t)b << 12 |
					 (uint32_t)c << 6 | (uint32_t)d;
				pem_write(p, p->acc >> 16);
				pem_write(p, p->acc >> 8);
				pem_write(p, p->acc);
				p->first = 0;
				i += 4;
				continue;
			}
		}
		if (p->cr) { /* a CR before anything but LF is itself */
			p->cr = 0;
			if (ch != '\n')
				pem_step(p, '\r'); /* raises no event */
		}
		i++;
		if (ch == '\r')
			p->cr = 1;
		else if ((p->event = pem_step(p, ch)) != 0)
			break;
	}
	return i;
}

/* see tls.h */
int tls_pem_event(struct tls_pem *p)
{
	int e = p->event;
	p->event = 0;
	return e;
}

/* see tls.h */
int tls_pem_end(struct tls_pem *p)
{
	/* "----END " matched: what is left of the line does not count */
	int ev = !p->event && p->state == PEM_END_NL ? BR_PEM_END_OBJ : 0;

	tls_pem_init(p);
	return ev;
}

/* see tls.h */
void tls_pem_setdest(struct tls_pem *p,
		     void (*dest)(void *ctx, const void *buf, size_t len),
		     void *ctx)
{
	p->dest = dest;
	p->dest_ctx = ctx;
}

/* ---- DER walk of a certificate ------------------------------------------
 *
 * BearSSL's x509_decoder.t0 (with asn1.t0) redone on a byte span already
 * in memory.  A cursor spans the value of one element; der_get opens the
 * next element inside it, which must carry the given tag byte.  Every
 * check BearSSL makes is made here (tag classes, length forms, version,
 * serial, both dates, key algorithm and size, extensions and
 * basicConstraints, signature algorithm and bits, nothing left over), so
 * the walk accepts what br_x509_decoder accepts, with the same DN, key and
 * CA flag, and refuses the rest; elements BearSSL skips unread are skipped
 * unread here.  Errors are sticky: the first failure clears *ok, every
 * later call then does nothing and returns an empty cursor, and the result
 * is read once at the end.
 */
struct der_rd {
	const unsigned char *p, *end;
	int *ok;
};

static void der_fail(const struct der_rd *r)
{
	*r->ok = 0;
}

/* Tag byte of the next element, -1 at the end (or after a failure). */
static int der_peek(const struct der_rd *r)
{
	return *r->ok && r->p < r->end ? *r->p : -1;
}

/* The value of the next element, which must have tag byte tag; r moves
 * past it.  Lengths as BearSSL reads them: short or long form (not
 * indefinite), each byte taken while the value is at most 0x7FFFFF. */
static struct der_rd der_get(struct der_rd *r, int tag)
{
	struct der_rd in = {r->end, r->end, r->ok};
	const unsigned char *p = r->p;
	size_t len, n;

	if (der_peek(r) != tag || ++p == r->end)
		goto bad;
	len = *p++;
	if (len >= 0x80) {
		n = len - 0x80;
		if (n == 0)
			goto bad;
		for (len = 0; n > 0; n--) {
			if (len > 0x7FFFFF || p == r->end)
				goto bad;
			len = (len << 8) + *p++;
		}
	}
	if ((size_t)(r->end - p) < len)
		goto bad;
	in.p = p;
	in.end = r->p = p + len;
	return in;
bad:
	der_fail(r);
	return in;
}

/* Nothing may be left in r. */
static void der_end(const struct der_rd *r)
{
	if (r->p != r->end)
		der_fail(r);
}

static int der_is(const struct der_rd *v, const unsigned char *b, size_t n)
{
	return (size_t)(v->end - v->p) == n && !memcmp(v->p, b, n);
}

static int der_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* UTCTime or GeneralizedTime, checked as BearSSL's read-date does: two
 * digits each for year (four), month, day, hour, minute, second (up to
 * 60), optional '.' and digits, 'Z', nothing after. */
static void der_date(struct der_rd *r)
{
	static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30,
						31, 31, 30, 31, 30, 31};
	static const unsigned char hi[5] = {12, 31, 23, 59, 60};
	int gen = der_peek(r) == 0x18, x[7], i, n = gen ? 7 : 6, y;
	struct der_rd d = der_get(r, gen ? 0x18 : 0x17);

	for (i = 0; i < n; i++, d.p += 2) {
		if (d.end - d.p < 2 || !der_digit(d.p[0]) ||
		    !der_digit(d.p[1]))
			goto bad;
		x[i] = (d.p[0] - '0') * 10 + (d.p[1] - '0');
		if (i >= n - 5 && x[i] > hi[i - (n - 5)])
			goto bad;
	}
	y = gen ? x[0] * 100 + x[1] : x[0] + (x[0] < 50 ? 2000 : 1900);
	i = x[n - 5]; /* month */
	if (i == 0 || x[n - 4] == 0 ||
	    x[n - 4] > mdays[i - 1] + (i == 2 && y % 4 == 0 &&
				       (y % 100 != 0 || y % 400 == 0)))
		goto bad;
	if (d.p < d.end && *d.p == '.')
		for (d.p++; d.p < d.end && der_digit(*d.p); d.p++)
			;
	if (d.p < d.end && *d.p == 'Z' && d.p + 1 == d.end)
		return;
bad:
	der_fail(r);
}

/* A positive INTEGER without its leading zeros (none left of an all-zero
 * one), at most max bytes. */
static void der_uint(struct der_rd *r, size_t max, unsigned char **v,
		     size_t *n)
{
	struct der_rd in = der_get(r, 0x02);

	if (in.p == in.end || *in.p >= 0x80)
		der_fail(r);
	while (in.p < in.end && *in.p == 0)
		in.p++;
	*v = (unsigned char *)in.p;
	*n = (size_t)(in.end - in.p);
	if (*n > max)
		der_fail(r);
}

/* A BIT STRING with no unused bits: its bytes after that count. */
static struct der_rd der_bits(struct der_rd *r)
{
	struct der_rd in = der_get(r, 0x03);

	if (in.p == in.end || *in.p++ != 0)
		der_fail(r);
	return in;
}

static const unsigned char oid_rsa[] = {0x2A, 0x86, 0x48, 0x86, 0xF7,
					0x0D, 0x01, 0x01, 0x01};
static const unsigned char oid_ec[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02,
				       0x01};
static const unsigned char oid_p256[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03,
					 0x01, 0x07};
static const unsigned char oid_p384[] = {0x2B, 0x81, 0x04, 0x00, 0x22};
static const unsigned char oid_p521[] = {0x2B, 0x81, 0x04, 0x00, 0x23};
static const unsigned char oid_bc[] = {0x55, 0x1D, 0x13};

/* SubjectPublicKeyInfo: RSA or EC on P-256/384/521, in BearSSL's 520-byte
 * key buffer. */
static void der_spki(struct der_rd *r, br_x509_pkey *pk)
{
	struct der_rd spki = der_get(r, 0x30), alg = der_get(&spki, 0x30);
	struct der_rd oid = der_get(&alg, 0x06), bits, key;
	br_rsa_public_key *rsa = &pk->key.rsa;

	if (der_is(&oid, oid_rsa, sizeof(oid_rsa))) {
		pk->key_type = BR_KEYTYPE_RSA;
		bits = der_bits(&spki);
		key = der_get(&bits, 0x30);
		der_end(&bits);
		der_uint(&key, BR_X509_BUFSIZE_KEY, &rsa->n, &rsa->nlen);
		der_uint(&key, BR_X509_BUFSIZE_KEY - rsa->nlen, &rsa->e,
			 &rsa->elen);
		der_end(&key);
	} else if (der_is(&oid, oid_ec, sizeof(oid_ec))) {
		pk->key_type = BR_KEYTYPE_EC;
		oid = der_get(&alg, 0x06);
		der_end(&alg);
		if (der_is(&oid, oid_p256, sizeof(oid_p256)))
			pk->key.ec.curve = BR_EC_secp256r1;
		else if (der_is(&oid, oid_p384, sizeof(oid_p384)))
			pk->key.ec.curve = BR_EC_secp384r1;
		else if (der_is(&oid, oid_p521, sizeof(oid_p521)))
			pk->key.ec.curve = BR_EC_secp521r1;
		else
			der_fail(r);
		bits = der_bits(&spki);
		pk->key.ec.q = (unsigned char *)bits.p;
		pk->key.ec.qlen = (size_t)(bits.end - bits.p);
		if (pk->key.ec.qlen > BR_X509_BUFSIZE_KEY)
			der_fail(r);
	} else {
		der_fail(r);
	}
	der_end(&spki);
}

/* A BOOLEAN's value byte (BearSSL: any nonzero is true). */
static int der_bool(struct der_rd *r)
{
	struct der_rd b = der_get(r, 0x01);

	if (b.end - b.p != 1) {
		der_fail(r);
		return 0;
	}
	return *b.p != 0;
}

/* The extensions' SEQUENCE; basicConstraints sets BR_X509_TA_CA in *flags
 * from its cA BOOLEAN, when that comes first (the last one counts). */
static void der_extensions(struct der_rd *r, unsigned *flags)
{
	struct der_rd exts = der_get(r, 0x30), ext, oid, v, bc;
	int t;

	der_end(r);
	while (der_peek(&exts) >= 0) {
		ext = der_get(&exts, 0x30);
		oid = der_get(&ext, 0x06);
		if (der_peek(&ext) == 0x01) /* critical */
			der_bool(&ext);
		v = der_get(&ext, 0x04);
		der_end(&ext);
		if (!der_is(&oid, oid_bc, sizeof(oid_bc)))
			continue;
		bc = der_get(&v, 0x30);
		der_end(&v);
		/* BearSSL reads the first tag and, unless it is a BOOLEAN,
		 * skips the rest unread: only that tag must be valid. */
		t = der_peek(&bc);
		if (t < 0)
			continue;
		if ((t & 0x40) || (t & 0x1F) == 0x1F)
			der_fail(r);
		else if (t == 0x01 || t == 0x21)
			*flags = der_bool(&bc) ? BR_X509_TA_CA : 0;
	}
}

/* see tls.h */
int tls_anchor_decode(br_x509_trust_anchor *ta, const unsigned char *der,
		      size_t len)
{
	int ok = len <= 0xFFFFFF; /* BearSSL's limit for a certificate */
	struct der_rd all = {der, der + len, &ok}, cert, tbs, v;
	int t;

	memset(ta, 0, sizeof(*ta));
	cert = der_get(&all, 0x30);
	der_end(&all);
	tbs = der_get(&cert, 0x30);
	if (der_peek(&tbs) == 0xA0) { /* version: [0] { INTEGER 0..2 } */
		struct der_rd e = der_get(&tbs, 0xA0);
		uint32_t x = 0;
		v = der_get(&e, 0x02);
		der_end(&e);
		/* BearSSL also refuses a negative value, or one that grows
		 * past 0xFFFFFF: both are more than 2 here */
		if (v.p == v.end)
			der_fail(&e);
		for (; v.p < v.end && x < 0xFFFFFF; v.p++)
			x = (x << 8) + *v.p;
		if (x > 2)
			der_fail(&e);
	}
	der_get(&tbs, 0x02); /* serial */
	der_get(&tbs, 0x30); /* signature algorithm */
	der_get(&tbs, 0x30); /* issuer */
	v = der_get(&tbs, 0x30);
	der_date(&v);
	der_date(&v);
	der_end(&v);
	ta->dn.data = (unsigned char *)tbs.p;
	der_get(&tbs, 0x30); /* subject */
	ta->dn.len = (size_t)(tbs.p - ta->dn.data);
	der_spki(&tbs, &ta->pkey);
	/* issuerUniqueID [1], subjectUniqueID [2] (either form), in that
	 * order, then extensions [3], then nothing */
	t = der_peek(&tbs);
	if (t == 0x81 || t == 0xA1)
		der_get(&tbs, t);
	t = der_peek(&tbs);
	if (t == 0x82 || t == 0xA2)
		der_get(&tbs, t);
	if (der_peek(&tbs) == 0xA3) {
		v = der_get(&tbs, 0xA3);
		der_extensions(&v, &ta->flags);
	}
	der_end(&tbs);
	v = der_get(&cert, 0x30); /* signature algorithm */
	der_get(&v, 0x06);
	der_bits(&cert);
	der_end(&cert);
	return ok;
}

/* ---- loading -------------------------------------------------------------- */

struct der {
	unsigned char *p;
	size_t len, cap;
	int oom;
};

static void der_append(void *ctx, const void *buf, size_t len)
{
	struct der *d = ctx;
	if (d->oom)
		return;
	if (d->len + len > d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 2048;
		unsigned char *np;
		while (nc < d->len + len)
			nc *= 2;
		np = realloc(d->p, nc);
		if (!np) {
			d->oom = 1;
			return;
		}
		d->p = np;
		d->cap = nc;
	}
	memcpy(d->p + d->len, buf, len);
	d->len += len;
}

/* Decode one DER certificate into a new trust anchor.  0 ok, -1 bad. */
static int add_anchor(const unsigned char *der, size_t len)
{
	br_x509_trust_anchor src, ta;

	if (!tls_anchor_decode(&src, der, len))
		return -1;
	ta = src;
	ta.dn.data = arena_dup(src.dn.data, src.dn.len);
	if (src.pkey.key_type == BR_KEYTYPE_RSA) {
		ta.pkey.key.rsa.n = arena_dup(src.pkey.key.rsa.n,
					      src.pkey.key.rsa.nlen);
		ta.pkey.key.rsa.e = arena_dup(src.pkey.key.rsa.e,
					      src.pkey.key.rsa.elen);
		if (!ta.pkey.key.rsa.n || !ta.pkey.key.rsa.e)
			return -1;
	} else {
		ta.pkey.key.ec.q = arena_dup(src.pkey.key.ec.q,
					     src.pkey.key.ec.qlen);
		if (!ta.pkey.key.ec.q)
			return -1;
	}
	if (!ta.dn.data)
		return -1;
	if (ntas == captas) {
		size_t nc = captas ? captas * 2 : 160;
		br_x509_trust_anchor *n = realloc(tas, nc * sizeof(*n));
		if (!n)
			return -1;
		tas = n;
		captas = nc;
	}
	tas[ntas++] = ta;
	return 0;
}

/* A certificate object ended: add its anchor, or count it bad. */
static void end_cert(const struct der *obj, int *added, int *bad)
{
	if (obj->oom || add_anchor(obj->p, obj->len) < 0)
		(*bad)++;
	else
		(*added)++;
}

/*
 * Read a PEM file and add its certificates.  Returns the number added,
 * -1 if the file cannot be read, -2 if strict and something is malformed.
 */
static int load_pem(const char *path, int strict)
{
	struct tls_pem pc;
	struct der obj = {0};
	unsigned char buf[4096];
	int in_cert = 0, added = 0, bad = 0;
	ssize_t k;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	tls_pem_init(&pc);
	while ((k = read(fd, buf, sizeof(buf))) != 0) {
		size_t off = 0, n = (size_t)k;
		if (k < 0) {
			if (errno == EINTR)
				continue;
			break; /* what was read counts, as with fread */
		}
		while (off < n) {
			off += tls_pem_push(&pc, buf + off, n - off);
			switch (tls_pem_event(&pc)) {
			case BR_PEM_BEGIN_OBJ:
				obj.len = 0;
				in_cert = !strcmp(pc.name, "CERTIFICATE") ||
					  !strcmp(pc.name,
						  "TRUSTED CERTIFICATE");
				tls_pem_setdest(&pc, in_cert ? der_append : NULL,
						&obj);
				break;
			case BR_PEM_END_OBJ:
				if (in_cert)
					end_cert(&obj, &added, &bad);
				in_cert = 0;
				break;
			case BR_PEM_ERROR:
				bad++;
				tls_pem_init(&pc);
				off = n; /* resynchronise on the next read */
				break;
			default:
				break;
			}
		}
	}
	if (tls_pem_end(&pc) == BR_PEM_END_OBJ && in_cert)
		end_cert(&obj, &added, &bad);
	close(fd);
	free(obj.p);
	if (strict && (bad || added == 0))
		return -2;
	return added;
}

int tls_init(const char *ca_file, char *err, size_t errlen)
{
	static const char *const bundles[] = {
		"/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu,
							 Alpine, OpenWrt */
		"/etc/ssl/cert.pem",                  /* Alpine, macOS-ish */
		"/etc/pki/tls/certs/ca-bundle.crt",   /* Fedora, RHEL */
		"/etc/ssl/ca-bundle.pem",             /* openSUSE */
		NULL,
	};
	const char *env = getenv("SSL_CERT_FILE");
	int i, rc = -1;

	tls_free();
	if (env && *env)
		rc = load_pem(env, 0);
	for (i = 0; rc <= 0 && bundles[i]; i++)
		rc = load_pem(bundles[i], 0);
	if (rc <= 0)
		log_warn("no system CA bundle found: only ca-file anchors will "
			 "be trusted");
	if (ca_file) {
		rc = load_pem(ca_file, 1);
		if (rc < 0) {
			fmt_snprintf(err, errlen, "ca-file %s: %s", ca_file,
				     rc == -1 ? strerror(errno)
					  : "not a PEM file of certificates");
			return -1;
		}
	}
	log_debug("tls: %zu trust anchors loaded", ntas);
	return (int)ntas;
}

void tls_free(void)
{
	while (arena) {
		struct arena_block *n = arena->next;
		free(arena);
		arena = n;
	}
	free(tas);
	tas = NULL;
	ntas = captas = 0;
}

int tls_client_start(struct tls_client *t, const char *host,
		     const br_ssl_session_parameters *resume)
{
	static const uint16_t suites[] = {
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	};
	static const struct {
		int id;
		const br_hash_class *impl;
	} hashes[] = {
		{br_sha1_ID, &br_sha1_vtable},
		{br_sha224_ID, &br_sha224_vtable},
		{br_sha256_ID, &br_sha256_vtable},
		{br_sha384_ID, &br_sha384_vtable},
		{br_sha512_ID, &br_sha512_vtable},
	};
	br_ssl_client_context *cc = &t->cc;
	br_x509_minimal_context *xc = &t->xc;
	size_t i;

	br_ssl_client_zero(cc);
	br_ssl_engine_set_versions(&cc->eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(&cc->eng, suites,
				 sizeof(suites) / sizeof(suites[0]));
	br_ssl_client_set_default_rsapub(cc);
	br_ssl_engine_set_default_rsavrfy(&cc->eng);
	br_ssl_engine_set_default_ecdsa(&cc->eng);
	br_ssl_engine_set_ec(&cc->eng, br_ec_get_default());
	br_ssl_engine_set_prf_sha256(&cc->eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(&cc->eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(&cc->eng);
	br_ssl_engine_set_default_chapol(&cc->eng);

	br_x509_minimal_init(xc, &br_sha256_vtable, tas, ntas);
	br_x509_minimal_set_rsa(xc, br_rsa_pkcs1_vrfy_get_default());
	br_x509_minimal_set_ecdsa(xc, br_ec_get_default(),
				  br_ecdsa_vrfy_asn1_get_default());
	for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
		br_ssl_engine_set_hash(&cc->eng, hashes[i].id, hashes[i].impl);
		br_x509_minimal_set_hash(xc, hashes[i].id, hashes[i].impl);
	}
	br_ssl_engine_set_x509(&cc->eng, &xc->vtable);
	br_ssl_engine_set_buffers_bidi(&cc->eng, t->ibuf, sizeof(t->ibuf),
				       t->obuf, sizeof(t->obuf));
	if (resume)
		br_ssl_engine_set_session_parameters(&cc->eng, resume);
	return br_ssl_client_reset(cc, host, resume != NULL) ? 0 : -1;
}

const char *tls_strerror(int err)
{
	switch (err) {
	case BR_ERR_OK: return "closed";
	case BR_ERR_X509_NOT_TRUSTED: return "certificate is not trusted "
					     "(unknown issuer)";
	case BR_ERR_X509_BAD_SERVER_NAME: return "certificate does not "
						 "match the host name";
	case BR_ERR_X509_EXPIRED: return "certificate expired or not yet "
					 "valid";
	case BR_ERR_X509_NOT_CA: return "issuer is not a CA";
	case BR_ERR_X509_WEAK_PUBLIC_KEY: return "weak certificate key";
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE: return "certificate key usage "
						    "forbids TLS";
	case BR_ERR_BAD_VERSION: return "server does not speak TLS 1.2";
	case BR_ERR_BAD_CIPHER_SUITE: return "no common cipher suite";
	case BR_ERR_IO: return "connection lost during TLS";
	default:
		if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT)
			return "server sent a fatal TLS alert";
		if (err >= BR_ERR_X509_OK)
			return "certificate verification failed";
		return "TLS protocol error";
	}
}

/* ---- the engine pump ---------------------------------------------------- */

/* see tls.h */
int tls_flush(struct tls_client *t, const struct tls_io *io)
{
	br_ssl_engine_context *e = &t->cc.eng;
	while (br_ssl_engine_current_state(e) & BR_SSL_SENDREC) {
		size_t len;
		unsigned char *b = br_ssl_engine_sendrec_buf(e, &len);
		ssize_t n = io->send(io->ctx, b, len);
		if (n > 0) {
			br_ssl_engine_sendrec_ack(e, (size_t)n);
			continue;
		}
		return n == TLS_AGAIN ? TLS_AGAIN : -1;
	}
	return 0;
}

/* Feed the engine records from below.  1 progress, TLS_AGAIN, 0 EOF, -1. */
static int fill(struct tls_client *t, const struct tls_io *io)
{
	br_ssl_engine_context *e = &t->cc.eng;
	size_t len;
	unsigned char *b = br_ssl_engine_recvrec_buf(e, &len);
	ssize_t n = io->recv(io->ctx, b, len);
	if (n > 0) {
		br_ssl_engine_recvrec_ack(e, (size_t)n);
		return 1;
	}
	return n == TLS_AGAIN ? TLS_AGAIN : (int)n;
}

/* see tls.h */
int tls_pump(struct tls_client *t, const struct tls_io *io, int for_send)
{
	br_ssl_engine_context *e = &t->cc.eng;
	for (;;) {
		unsigned st = br_ssl_engine_current_state(e);
		int rc;
		if (st & BR_SSL_CLOSED)
			return br_ssl_engine_last_error(e) == BR_ERR_OK ? 0 : -1;
		if (for_send ? (st & BR_SSL_SENDAPP) : (st & BR_SSL_RECVAPP))
			return 1;
		if (st & BR_SSL_SENDREC) {
			if ((rc = tls_flush(t, io)) != 0)
				return rc;
			continue;
		}
		if (st & BR_SSL_RECVREC) {
			rc = fill(t, io);
			if (rc == 0) /* EOF without close_notify */
				return for_send ? -1 : 0;
			if (rc < 0)
				return rc;
			continue;
		}
		return TLS_AGAIN;
	}
}

/* see tls.h */
ssize_t tls_write(struct tls_client *t, const struct tls_io *io,
		  const void *p, size_t n)
{
	br_ssl_engine_context *e = &t->cc.eng;
	size_t room;
	unsigned char *b;
	int rc = tls_pump(t, io, 1);

	if (rc != 1)
		return rc == 0 ? -1 : rc;
	b = br_ssl_engine_sendapp_buf(e, &room);
	if (room > n)
		room = n;
	memcpy(b, p, room);
	br_ssl_engine_sendapp_ack(e, room);
	br_ssl_engine_flush(e, 0);
	if (tls_flush(t, io) == -1)
		return -1;
	return (ssize_t)room; /* records left are sent on the next call */
}

/* see tls.h */
ssize_t tls_read(struct tls_client *t, const struct tls_io *io, void *p,
		 size_t n)
{
	br_ssl_engine_context *e = &t->cc.eng;
	size_t avail;
	unsigned char *b;
	int rc = tls_pump(t, io, 0);

	if (rc != 1)
		return rc;
	b = br_ssl_engine_recvapp_buf(e, &avail);
	if (avail > n)
		avail = n;
	memcpy(p, b, avail);
	br_ssl_engine_recvapp_ack(e, avail);
	return (ssize_t)avail;
}

/*
 * A TLS connection that ends in good order says so with close_notify:
 * OpenSSL-based servers drop the session of a connection cut without it,
 * and the next connection could not resume it.
 */
int tls_close_notify(struct tls_client *t, const struct tls_io *io)
{
	br_ssl_engine_context *e = &t->cc.eng;
	if (!(br_ssl_engine_current_state(e) & BR_SSL_SENDAPP))
		return -1; /* not past the handshake, or already closed */
	br_ssl_engine_close(e);
	return tls_flush(t, io);
}

/* see tls.h */
int tls_has_unread(const struct tls_client *t)
{
	return (br_ssl_engine_current_state(&t->cc.eng) & BR_SSL_RECVAPP) != 0;
}

/* see tls.h */
int tls_last_error(const struct tls_client *t)
{
	return br_ssl_engine_last_error(&t->cc.eng);
}

/* ---- the session cache ----------------------------------------------------- */

/* Index of the entry for host:port in role, or -1. */
static int sess_index(const struct tls_sess_cache *c, const char *host,
		      int port, int role)
{
	int i;
	for (i = 0; i < TLS_SESSIONS; i++)
		if (c->e[i].used && c->e[i].role == role &&
		    c->e[i].port == port && !strcmp(c->e[i].host, host))
			return i;
	return -1;
}

static struct tls_sess *sess_find(struct tls_sess_cache *c, const char *host,
				  int port, int role)
{
	int i = sess_index(c, host, port, role);
	return i < 0 ? NULL : &c->e[i];
}

/* see tls.h */
const br_ssl_session_parameters *
tls_sess_find(const struct tls_sess_cache *c, const char *host, int port,
	      int role)
{
	int i = sess_index(c, host, port, role);
	return i < 0 ? NULL : &c->e[i].sp;
}

static void sess_wipe(struct tls_sess *s)
{
	if (s)
		memset(s, 0, sizeof(*s)); /* the master secret too */
}

/* The entry to fill for a server not in the cache: a free one, else the
 * least recently used. */
static struct tls_sess *sess_victim(struct tls_sess_cache *c)
{
	struct tls_sess *s = &c->e[0];
	int i;
	for (i = 0; i < TLS_SESSIONS; i++) {
		if (!c->e[i].used)
			return &c->e[i];
		if (c->e[i].stamp < s->stamp)
			s = &c->e[i];
	}
	return s;
}

/* see tls.h */
int tls_sess_keep(struct tls_sess_cache *c, const char *host, int port,
		  int role, const struct tls_client *t)
{
	struct tls_sess *s = sess_find(c, host, port, role);
	br_ssl_session_parameters sp;
	int resumed;

	br_ssl_engine_get_session_parameters(&t->cc.eng, &sp);
	resumed = s && sp.session_id_len &&
		  sp.session_id_len == s->sp.session_id_len &&
		  !memcmp(sp.session_id, s->sp.session_id, sp.session_id_len);
	if (sp.session_id_len == 0) { /* the server keeps no sessions */
		sess_wipe(s);
		return resumed;
	}
	if (!s && strlen(host) < sizeof(s->host)) {
		s = sess_victim(c);
		sess_wipe(s);
		s->used = 1;
		s->role = role;
		s->port = port;
		memcpy(s->host, host, strlen(host) + 1);
	}
	if (s) {
		s->sp = sp;
		s->stamp = ++c->clock;
	}
	return resumed;
}

/* see tls.h */
void tls_sess_forget(struct tls_sess_cache *c, const char *host, int port,
		     int role)
{
	sess_wipe(sess_find(c, host, port, role));
}

/* see tls.h */
void tls_sess_forget_all(struct tls_sess_cache *c)
{
	int i;
	for (i = 0; i < TLS_SESSIONS; i++)
		sess_wipe(&c->e[i]);
}
