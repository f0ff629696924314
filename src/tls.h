/*
 * tls.h - BearSSL client set-up: trust anchors and per-connection engines.
 *
 * Trust anchors are decoded once at start-up from the system CA bundle
 * (the usual Debian, Alpine, OpenWrt and Fedora paths, or $SSL_CERT_FILE)
 * plus the config's ca-file, and shared by every connection.  A client
 * engine is created only when a TLS connection is opened; its 16.7 KB
 * input buffer is the floor BearSSL needs (servers ignore
 * max_fragment_length), the output buffer is smaller.
 *
 * Profile: TLS 1.2 with ECDHE key exchange and AEAD ciphers only
 * (ChaCha20-Poly1305, AES-GCM), RSA or ECDSA server keys, full chain and
 * host-name verification.
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>
#include <stdint.h>

#include "bearssl.h"

#define TLS_OBUF_SIZE (4096 + 85)

struct tls_client {
	br_ssl_client_context cc;
	br_x509_minimal_context xc;
	unsigned char ibuf[BR_SSL_BUFSIZE_INPUT];
	unsigned char obuf[TLS_OBUF_SIZE];
};

/*
 * PEM decoder: BearSSL's br_pem_decoder (bearssl_pem.h) in plain C, with
 * the same behaviour byte for byte (events, upper-cased names, decoded
 * bytes, resynchronisation on the next "-----BEGIN " after an error) but
 * not its interpreter, which costs ~1,300 instructions per input byte.
 * Push bytes; the count consumed stops at an event, which must then be
 * read with tls_pem_event (BR_PEM_BEGIN_OBJ, BR_PEM_END_OBJ, BR_PEM_ERROR,
 * or 0); until then push consumes nothing.  After BR_PEM_BEGIN_OBJ, name
 * holds the object's name and tls_pem_setdest chooses where its bytes go
 * (NULL: nowhere).  Resumable at any byte; no allocation.
 */
struct tls_pem {
	void (*dest)(void *ctx, const void *buf, size_t len);
	void *dest_ctx;
	unsigned state, k, ptr;
	uint32_t acc;
	int event, first, allws, pad, c4;
	char name[128];
	unsigned char buf[255];
};
void tls_pem_init(struct tls_pem *p);
size_t tls_pem_push(struct tls_pem *p, const void *data, size_t len);
int tls_pem_event(struct tls_pem *p);
void tls_pem_setdest(struct tls_pem *p,
		     void (*dest)(void *ctx, const void *buf, size_t len),
		     void *ctx);

/* Trust-anchor fields of one DER certificate, as br_x509_decoder gives
 * them (subject DN with its tag and length, public key without leading
 * zeros, BR_X509_TA_CA from basicConstraints), pointing into der: 1.
 * 0 where br_x509_decoder refuses the certificate. */
int tls_anchor_decode(br_x509_trust_anchor *ta, const unsigned char *der,
		      size_t len);

/* Load anchors: the system bundle (missing is not an error when ca_file
 * is given) and ca_file (must decode).  Returns the anchor count, or -1
 * with err set. */
int tls_init(const char *ca_file, char *err, size_t errlen);
void tls_free(void);
size_t tls_anchor_count(void);
/* The loaded anchors (tls_anchor_count of them). */
const br_x509_trust_anchor *tls_anchors(void);

/* Prepare t for a handshake with host (SNI and name check).  With
 * resume, offer that earlier session with the same host (an abbreviated
 * handshake if the server still has it, a full one otherwise).  0 ok. */
int tls_client_start(struct tls_client *t, const char *host,
		     const br_ssl_session_parameters *resume);

/* Text for a BearSSL error code, for messages ("certificate is not
 * trusted", "server name mismatch", ...). */
const char *tls_strerror(int err);

#endif
