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

#include "bearssl.h"

#define TLS_OBUF_SIZE (4096 + 85)

struct tls_client {
	br_ssl_client_context cc;
	br_x509_minimal_context xc;
	unsigned char ibuf[BR_SSL_BUFSIZE_INPUT];
	unsigned char obuf[TLS_OBUF_SIZE];
};

/* Load anchors: the system bundle (missing is not an error when ca_file
 * is given) and ca_file (must decode).  Returns the anchor count, or -1
 * with err set. */
int tls_init(const char *ca_file, char *err, size_t errlen);
void tls_free(void);
size_t tls_anchor_count(void);

/* Prepare t for a handshake with host (SNI and name check).  With
 * resume, offer that earlier session with the same host (an abbreviated
 * handshake if the server still has it, a full one otherwise).  0 ok. */
int tls_client_start(struct tls_client *t, const char *host,
		     const br_ssl_session_parameters *resume);

/* Text for a BearSSL error code, for messages ("certificate is not
 * trusted", "server name mismatch", ...). */
const char *tls_strerror(int err);

#endif
