/*
 * tls_anchors.c - fuzz target: the CA bundle decoders of tls.c (tls_pem,
 * tls_anchor_decode) against BearSSL's own (br_pem_decoder,
 * br_x509_decoder), which this target links.
 *
 * Input: two option bytes, then data (a PEM bundle or a DER certificate):
 *   [0] seed of the split points
 *   [1] bit 0: every object's bytes are collected (otherwise only those of
 *       certificates, the others going to a NULL dest, as in the loader);
 *       bit 1: push one byte at a time
 *
 * PEM: the data goes to tls_pem in random pieces (each an exact-size copy,
 * so reading past a piece is an ASan report) and whole to br_pem_decoder,
 * but for the two bugs of BearSSL 0.6 that tls_pem fixes on purpose
 * (ref_pem: CRLF made LF on the way, a last END line without '\n' ends
 * its object at tls_pem_end; the offsets stay those of the data).  The
 * transcripts (each event with the input offset just after the byte
 * that raised it, each name, each chunk of decoded bytes as handed to
 * dest) must be equal.  tls_pem on its own: push consumes at most what it
 * is given and stops only at an event; while an event is unread it
 * consumes nothing; a name is a string within its buffer.
 *
 * DER: each CERTIFICATE or TRUSTED CERTIFICATE object's bytes (what the
 * loader decodes), and the data itself, go to tls_anchor_decode (an
 * exact-size copy) and to br_x509_decoder: both accept with the same
 * subject DN, key and CA flag, or both refuse.  An accepted anchor's DN
 * and key lie inside the DER.
 */
#include "fuzz.h"
#include "tls.h"

/* A growing byte string. */
struct fz_buf {
	unsigned char *p;
	size_t len, cap;
};

static void buf_add(struct fz_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		FZ_CHECK(b->p != NULL);
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* ---- tls_anchor_decode vs br_x509_decoder ------------------------------- */

static int within(const unsigned char *der, size_t len, const void *p,
		  size_t n)
{
	return n == 0 || fz_within(der, len, p, n);
}

static void dn_add(void *ctx, const void *p, size_t n)
{
	buf_add(ctx, p, n);
}

static int same_key(const br_x509_pkey *a, const br_x509_pkey *b)
{
	if (a->key_type != b->key_type)
		return 0;
	if (a->key_type == BR_KEYTYPE_RSA)
		return a->key.rsa.nlen == b->key.rsa.nlen &&
		       a->key.rsa.elen == b->key.rsa.elen &&
		       !memcmp(a->key.rsa.n, b->key.rsa.n, a->key.rsa.nlen) &&
		       !memcmp(a->key.rsa.e, b->key.rsa.e, a->key.rsa.elen);
	return a->key.ec.curve == b->key.ec.curve &&
	       a->key.ec.qlen == b->key.ec.qlen &&
	       !memcmp(a->key.ec.q, b->key.ec.q, a->key.ec.qlen);
}

static void check_der(const unsigned char *der, size_t len)
{
	unsigned char *g = (unsigned char *)fz_dup(der, len);
	br_x509_decoder_context dc;
	struct fz_buf dn = {0, 0, 0};
	br_x509_trust_anchor ta;
	const br_x509_pkey *k = &ta.pkey, *ref;
	int ok = tls_anchor_decode(&ta, g, len), ref_ok;

	br_x509_decoder_init(&dc, dn_add, &dn);
	br_x509_decoder_push(&dc, der, len);
	ref = br_x509_decoder_get_pkey(&dc);
	ref_ok = ref && (ref->key_type == BR_KEYTYPE_RSA ||
			 ref->key_type == BR_KEYTYPE_EC);
	if (ok != ref_ok) {
		fprintf(stderr, "tls_anchor_decode %s, br_x509_decoder %s\n",
			ok ? "accepts" : "refuses",
			ref_ok ? "accepts" : "refuses");
		abort();
	}
	if (ok) {
		FZ_CHECK(ta.dn.len == dn.len &&
			 !memcmp(ta.dn.data, dn.p, dn.len));
		FZ_CHECK(ta.flags == (br_x509_decoder_isCA(&dc)
					      ? BR_X509_TA_CA : 0u));
		FZ_CHECK(same_key(k, ref));
		FZ_CHECK(within(g, len, ta.dn.data, ta.dn.len));
		if (k->key_type == BR_KEYTYPE_RSA)
			FZ_CHECK(within(g, len, k->key.rsa.n,
					k->key.rsa.nlen) &&
				 within(g, len, k->key.rsa.e,
					k->key.rsa.elen));
		else
			FZ_CHECK(within(g, len, k->key.ec.q, k->key.ec.qlen));
	}
	free(dn.p);
	free(g);
}

/* ---- tls_pem vs br_pem_decoder ------------------------------------------- */

/* One decoder's run: its transcript and the current object's bytes. */
struct run {
	struct fz_buf log, obj;
	int all, cert;
};

static void log_bytes(void *ctx, const void *p, size_t n)
{
	struct run *r = ctx;
	unsigned char h[3] = {'D', (unsigned char)(n >> 8), (unsigned char)n};

	FZ_CHECK(n > 0 && n <= 255);
	buf_add(&r->log, h, 3);
	buf_add(&r->log, p, n);
	if (r->cert)
		buf_add(&r->obj, p, n);
}

typedef void dest_fn(void *ctx, const void *p, size_t n);

/* Log an event raised by the byte before offset at; returns the dest the
 * object gets (NULL: its bytes go nowhere). */
static dest_fn *log_event(struct run *r, int ev, const char *name, size_t at)
{
	unsigned char e[5] = {(unsigned char)('0' + ev),
			      (unsigned char)(at >> 24),
			      (unsigned char)(at >> 16),
			      (unsigned char)(at >> 8), (unsigned char)at};

	buf_add(&r->log, e, sizeof(e));
	if (ev != BR_PEM_BEGIN_OBJ)
		return NULL;
	buf_add(&r->log, name, strlen(name) + 1);
	r->cert = !strcmp(name, "CERTIFICATE") ||
		  !strcmp(name, "TRUSTED CERTIFICATE");
	r->obj.len = 0;
	return r->cert || r->all ? log_bytes : NULL;
}

static void run_tls_pem(const uint8_t *data, size_t n, struct fz_rng *rng,
			int bytewise, struct run *r)
{
	struct tls_pem p;
	size_t off = 0;
	int ev;

	tls_pem_init(&p);
	while (off < n) {
		size_t piece = bytewise ? 1 : fz_piece(rng, n - off), sub = 0;
		char *g = fz_dup(data + off, piece);
		while (sub < piece) {
			size_t k = tls_pem_push(&p, g + sub, piece - sub);
			FZ_CHECK(k <= piece - sub);
			/* it stopped at an event: unread, nothing is taken */
			if (k < piece - sub)
				FZ_CHECK(tls_pem_push(&p, g + sub + k,
						      piece - sub - k) == 0);
			ev = tls_pem_event(&p);
			FZ_CHECK(ev >= 0 && ev <= BR_PEM_ERROR);
			FZ_CHECK(ev != 0 || k == piece - sub);
			sub += k;
			if (!ev)
				continue;
			if (ev == BR_PEM_BEGIN_OBJ)
				FZ_CHECK(memchr(p.name, 0, sizeof(p.name)));
			tls_pem_setdest(&p, log_event(r, ev, p.name, off + sub),
					r);
			if (ev == BR_PEM_END_OBJ && r->cert)
				check_der(r->obj.p, r->obj.len);
			if (ev != BR_PEM_BEGIN_OBJ)
				r->cert = 0;
		}
		free(g);
		off += piece;
	}
	ev = tls_pem_end(&p);
	FZ_CHECK(ev == 0 || ev == BR_PEM_END_OBJ);
	if (ev) {
		log_event(r, ev, "", n);
		if (r->cert)
			check_der(r->obj.p, r->obj.len);
	}
}

/*
 * br_pem_decoder with the differences tls_pem makes on purpose (as
 * ref_pem in tests/unit/test_tls_anchors.c).  CRLF reads as LF: a CR is
 * held back until the next byte shows whether a line ends there; BearSSL
 * sees the CR only when it does not.  At the end of the input BearSSL
 * gets the '\n' a last line lacks, which counts only if it ends an object
 * (its other effects go nowhere).  Offsets and counts are those of the
 * input as given.
 */
struct ref_pem {
	br_pem_decoder_context br;
	int cr;
};

static size_t ref_pem_push(struct ref_pem *r, const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n && !r->br.event) {
		const uint8_t *cr;
		size_t run;

		if (r->cr && s[i] != '\n')
			FZ_CHECK(br_pem_decoder_push(&r->br, "\r", 1) == 1);
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

static int ref_pem_end(struct ref_pem *r)
{
	br_pem_decoder_setdest(&r->br, NULL, NULL);
	if (r->cr)
		FZ_CHECK(br_pem_decoder_push(&r->br, "\r", 1) == 1);
	FZ_CHECK(br_pem_decoder_push(&r->br, "\n", 1) == 1);
	return br_pem_decoder_event(&r->br) == BR_PEM_END_OBJ ? BR_PEM_END_OBJ
							      : 0;
}

static void run_bearssl(const uint8_t *data, size_t n, struct run *r)
{
	struct ref_pem p;
	size_t off = 0;

	br_pem_decoder_init(&p.br);
	p.cr = 0;
	while (off < n) {
		int ev;
		off += ref_pem_push(&p, data + off, n - off);
		ev = br_pem_decoder_event(&p.br);
		if (!ev)
			continue;
		br_pem_decoder_setdest(
			&p.br, log_event(r, ev, br_pem_decoder_name(&p.br), off),
			r);
		if (ev != BR_PEM_BEGIN_OBJ)
			r->cert = 0;
	}
	if (ref_pem_end(&p))
		log_event(r, BR_PEM_END_OBJ, "", n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	struct fz_rng rng;
	struct run a, b;
	unsigned opt;

	fz_rng_seed(&rng, fz_byte(&f));
	opt = fz_byte(&f);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.all = b.all = opt & 1;
	run_tls_pem(f.p, f.n, &rng, opt & 2, &a);
	run_bearssl(f.p, f.n, &b);
	if (a.log.len != b.log.len ||
	    (a.log.len && memcmp(a.log.p, b.log.p, a.log.len))) {
		fprintf(stderr, "tls_pem and br_pem_decoder differ (%zu vs %zu "
			"transcript bytes)\n", a.log.len, b.log.len);
		abort();
	}
	check_der(f.p, f.n);
	free(a.log.p);
	free(a.obj.p);
	free(b.log.p);
	free(b.obj.p);
	return 0;
}
