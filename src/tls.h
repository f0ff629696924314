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
 * host-name verification. *
 * Also here: the pump that moves an engine's records over the layer below
 * it (a socket, or another engine), and the cache of sessions to resume;
 * both are described where they are declared, below.
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bearssl.h"

#define TLS_OBUF_SIZE (4096 + 85)

struct tls_client {
	br_ssl_client_context cc;
	br_x509_minimal_context xc;
	unsigned char ibuf[BR_SSL_BUFSIZE_INPUT];
	unsigned char obuf[TLS_OBUF_SIZE];
};

/*
 * PEM decoder: BearSSL's br_pem_decoder (bearssl_pem.h) in plain C,
 * without its interpreter (~1,300 instructions per input byte), with the
 * same behaviour byte for byte (events, upper-cased names, decoded bytes,
 * resynchronisation on the next "-----BEGIN " after an error) but for two
 * things: CRLF reads as LF (BearSSL 0.6 keeps the CR in a name, so a CRLF
 * file's objects were "CERTIFICATE-----", no certificates), and an END
 * line is complete without its '\n' at the end of the input (tls_pem_end).
 *
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
	int cr; /* a CR was pushed, not yet stepped: is it a CRLF? */
	char name[128];
	unsigned char buf[255];
};
void tls_pem_init(struct tls_pem *p);
size_t tls_pem_push(struct tls_pem *p, const void *data, size_t len);
int tls_pem_event(struct tls_pem *p);
/* The input is over (its last event read).  BR_PEM_END_OBJ if its last
 * line, with no '\n', is an END line ("-----END " and anything after it,
 * as BearSSL reads one with its '\n'): that object ends as it would with
 * the '\n' (BearSSL waits for it, so a bundle without a final newline
 * lost its last certificate).  0 otherwise: an unfinished object is
 * dropped.  p is then as after tls_pem_init. */
int tls_pem_end(struct tls_pem *p);
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

/* ---- the engine pump --------------------------------------------------------
 *
 * A client engine is a state machine without I/O (bearssl_ssl.h); the pump
 * moves its records to and from the layer below, which is a socket or, for
 * TLS inside an https:// proxy's TLS, the application data of another
 * engine.  A layer is a pair of functions with one contract: bytes moved,
 * 0 at the end of the stream (recv), TLS_AGAIN when it would block (the
 * layer itself notes what to wait for), -1 on an error.  The functions
 * below return the same, so engines stack.
 */
#define TLS_AGAIN (-2)

struct tls_io {
	ssize_t (*send)(void *ctx, const void *p, size_t n);
	ssize_t (*recv)(void *ctx, void *p, size_t n);
	void *ctx;
};

/* Send the records the engine has queued.  0 all sent, TLS_AGAIN, -1. */
int tls_flush(struct tls_client *t, const struct tls_io *io);

/* Run the engine (handshake included) until it takes application data
 * (for_send) or has some (!for_send).  1 ready, 0 closed (for reading: an
 * end of stream, with or without close_notify), TLS_AGAIN, -1 error
 * (tls_last_error says which). */
int tls_pump(struct tls_client *t, const struct tls_io *io, int for_send);

/* Application data: bytes moved (the records of a write are sent as far
 * as the layer takes them; the rest go with the next call or tls_flush),
 * 0 at the end of the stream (read), TLS_AGAIN, -1. */
ssize_t tls_write(struct tls_client *t, const struct tls_io *io,
		  const void *p, size_t n);
ssize_t tls_read(struct tls_client *t, const struct tls_io *io, void *p,
		 size_t n);

/* Say close_notify, if the handshake is done and the engine still open,
 * and send what the layer takes now, never waiting.  0 when all of it
 * went out (the caller may flush the layer below), else nonzero. */
int tls_close_notify(struct tls_client *t, const struct tls_io *io);

/* Application data the peer sent that nobody read yet. */
int tls_has_unread(const struct tls_client *t);

/* The engine's error (BR_ERR_*), 0 when none. */
int tls_last_error(const struct tls_client *t);

/* ---- the session cache ------------------------------------------------------
 *
 * Sessions to resume, by host, port and role (the caller's: hc uses 0 for
 * the target, 1 for an https:// proxy).  A new connection to a server
 * spoken to before offers its session; a server that still holds it skips
 * the key exchange and the certificate chain, most of a handshake's CPU
 * and a round trip.  The chain was verified for this very host name when
 * the session was made.  Least recently used entries make room.
 */
#ifndef TLS_SESSIONS
#define TLS_SESSIONS 8
#endif

struct tls_sess {
	int used, role, port;
	unsigned long stamp;      /* least recently used goes first */
	char host[256];
	br_ssl_session_parameters sp;
};

struct tls_sess_cache {
	struct tls_sess e[TLS_SESSIONS];
	unsigned long clock;
};

/* The session to offer to host:port in role, or NULL. */
const br_ssl_session_parameters *
tls_sess_find(const struct tls_sess_cache *c, const char *host, int port,
	      int role);
/* The handshake of t with host:port is done: remember its session (forget
 * it when the server keeps none).  Returns 1 when the server resumed the
 * session offered, else 0. */
int tls_sess_keep(struct tls_sess_cache *c, const char *host, int port,
		  int role, const struct tls_client *t);
/* A handshake failed: forget that server's session. */
void tls_sess_forget(struct tls_sess_cache *c, const char *host, int port,
		     int role);
/* Forget every session (reload, shutdown); secrets are wiped. */
void tls_sess_forget_all(struct tls_sess_cache *c);

#endif
