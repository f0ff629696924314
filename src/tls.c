/*
 * tls.c - trust anchors and BearSSL client engines (see tls.h).
 *
 * PEM files are pushed through br_pem_decoder; each CERTIFICATE object is
 * collected into a growing DER buffer, then br_x509_decoder extracts the
 * subject DN and public key, which are copied into a trust anchor.  Objects
 * that are not certificates are skipped; a certificate that fails to
 * decode is skipped too when it comes from the system bundle, and is an
 * error when it comes from the user's ca-file.
 */
#define _POSIX_C_SOURCE 200809L
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	br_x509_decoder_context dc;
	struct der dn = {0};
	br_x509_pkey *pk;
	br_x509_trust_anchor ta;
	int ok = 0;

	br_x509_decoder_init(&dc, der_append, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk || dn.oom)
		goto out;
	memset(&ta, 0, sizeof(ta));
	ta.dn.data = arena_dup(dn.p, dn.len);
	ta.dn.len = dn.len;
	ta.flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	ta.pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta.pkey.key.rsa.n = arena_dup(pk->key.rsa.n, pk->key.rsa.nlen);
		ta.pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta.pkey.key.rsa.e = arena_dup(pk->key.rsa.e, pk->key.rsa.elen);
		ta.pkey.key.rsa.elen = pk->key.rsa.elen;
		ok = ta.pkey.key.rsa.n && ta.pkey.key.rsa.e;
	} else if (pk->key_type == BR_KEYTYPE_EC) {
		ta.pkey.key.ec.curve = pk->key.ec.curve;
		ta.pkey.key.ec.q = arena_dup(pk->key.ec.q, pk->key.ec.qlen);
		ta.pkey.key.ec.qlen = pk->key.ec.qlen;
		ok = ta.pkey.key.ec.q != NULL;
	}
	if (!ok || !ta.dn.data)
		goto out;
	ok = 0;
	if (ntas == captas) {
		size_t nc = captas ? captas * 2 : 160;
		br_x509_trust_anchor *n = realloc(tas, nc * sizeof(*n));
		if (!n)
			goto out;
		tas = n;
		captas = nc;
	}
	tas[ntas++] = ta;
	ok = 1;
out:
	free(dn.p);
	return ok ? 0 : -1;
}

/*
 * Read a PEM file and add its certificates.  Returns the number added,
 * -1 if the file cannot be read, -2 if strict and something is malformed.
 */
static int load_pem(const char *path, int strict)
{
	br_pem_decoder_context pc;
	struct der obj = {0};
	unsigned char buf[4096];
	int in_cert = 0, added = 0, bad = 0;
	size_t n;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	br_pem_decoder_init(&pc);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		size_t off = 0;
		while (off < n) {
			off += br_pem_decoder_push(&pc, buf + off, n - off);
			switch (br_pem_decoder_event(&pc)) {
			case BR_PEM_BEGIN_OBJ:
				obj.len = 0;
				in_cert = !strcmp(br_pem_decoder_name(&pc),
						  "CERTIFICATE") ||
					  !strcmp(br_pem_decoder_name(&pc),
						  "TRUSTED CERTIFICATE");
				br_pem_decoder_setdest(&pc, in_cert ? der_append
								    : NULL,
						       &obj);
				break;
			case BR_PEM_END_OBJ:
				if (in_cert) {
					if (obj.oom || add_anchor(obj.p, obj.len) < 0)
						bad++;
					else
						added++;
				}
				in_cert = 0;
				break;
			case BR_PEM_ERROR:
				bad++;
				br_pem_decoder_init(&pc);
				off = n; /* resynchronise on the next read */
				break;
			default:
				break;
			}
		}
	}
	fclose(f);
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
			snprintf(err, errlen, "ca-file %s: %s", ca_file,
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
