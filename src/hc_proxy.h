/*
 * hc_proxy.h - the proxy handshakes of the upstream client as pure
 * push/pull engines: HTTP CONNECT (RFC 9110 9.3.6, with Basic
 * Proxy-Authorization) and SOCKS5 (RFC 1928, with the user/password
 * method of RFC 1929).
 *
 * An engine does no I/O and keeps no pointer to the caller's memory.  The
 * caller moves bytes:
 *
 *   out = hc_proxy_sendbuf(p, &len)   bytes to send now (len 0: none);
 *   hc_proxy_sendack(p, n)            n of them went out;
 *   rc = hc_proxy_recv(p, in, len)    the reply bytes received so far, from
 *                                     the first one not yet consumed.
 *
 * hc_proxy_recv returns how many bytes it consumed (> 0: one whole
 * message of the proxy), HC_PROXY_PARTIAL when the message is not
 * complete (consumes nothing: present the same bytes again with more
 * behind them) or HC_PROXY_FAILED (sticky: see hc_proxy_last_error).  It
 * never consumes a byte past the message it was waiting for, so whatever
 * the proxy sent after its last reply stays with the caller: those bytes
 * are the first of the tunnel (the target's TLS or HTTP).
 *
 * Order: the bytes of hc_proxy_sendbuf must all be sent (acked) before
 * the reply to them is presented; a reply presented while output is
 * pending fails the engine (HC_PROXY_EORDER).  The tunnel is open when
 * hc_proxy_done() says so.
 */
#ifndef HC_PROXY_H
#define HC_PROXY_H

#include <stddef.h>
#include <sys/socket.h>

/* Largest CONNECT answer head accepted (the same cap as an upstream
 * response head). */
#ifndef HC_PROXY_HEAD_MAX
#define HC_PROXY_HEAD_MAX (64 * 1024)
#endif

/* Room for the longest message we send: a CONNECT request for a 255-byte
 * host with 255 bytes of credentials is about 930 bytes; SOCKS5 greeting,
 * user/password and request together at most 3 + 513 + 262. */
#define HC_PROXY_OUT_MAX 1024

#define HC_PROXY_FAILED (-1)
#define HC_PROXY_PARTIAL (-2)

enum hc_proxy_err {
	HC_PROXY_OK = 0,
	HC_PROXY_EGARBLED,    /* the reply is not the protocol's */
	HC_PROXY_ETOOBIG,     /* CONNECT answer head over HC_PROXY_HEAD_MAX */
	HC_PROXY_ESTATUS,     /* CONNECT answered with a non-2xx (detail) */
	HC_PROXY_EMETHOD,     /* SOCKS5: no acceptable authentication method */
	HC_PROXY_EAUTH,       /* SOCKS5: user name or password rejected */
	HC_PROXY_EREP,        /* SOCKS5: request failed, REP code in detail */
	HC_PROXY_EORDER,      /* a reply presented before our message was sent */
	HC_PROXY_ETOOLONG,    /* init: a name does not fit the message */
};

struct hc_proxy {
	int kind;             /* HTTP or SOCKS5 (hc_proxy.c) */
	int state;            /* the reply awaited next */
	int err;              /* enum hc_proxy_err, sticky */
	int detail;           /* HTTP status or SOCKS5 REP code of a failure */
	/*
	 * Every message is written at init, one after another:
	 *   HTTP    [CONNECT request]
	 *   SOCKS5  [greeting][user/password, maybe empty][request]
	 * seg is the message being sent, sent how much of it went out.
	 */
	unsigned short seg_off[3], seg_len[3];
	int seg;
	size_t sent;
	unsigned char out[HC_PROXY_OUT_MAX];
};

/*
 * HTTP CONNECT to host:port (an IPv6 literal is bracketed), with Basic
 * credentials when user is not empty.  0, or HC_PROXY_FAILED
 * (HC_PROXY_ETOOLONG) when the request would not fit.
 */
int hc_proxy_http_init(struct hc_proxy *p, const char *host, int port,
		       const char *user, const char *pass);

/*
 * SOCKS5 CONNECT to host:port.  With ip NULL the proxy resolves host
 * (address type 3, a name: socks5h://); else ip (AF_INET: type 1,
 * AF_INET6: type 4) is sent and host is not.  Offers user/password
 * (method 2) when user is not empty, else no authentication (method 0).
 * Names and credentials longer than 255 bytes are cut to 255.
 */
int hc_proxy_socks5_init(struct hc_proxy *p, const char *host, int port,
			 const struct sockaddr_storage *ip, const char *user,
			 const char *pass);

/* The bytes to send now; *len 0 (and NULL) when there are none. */
const unsigned char *hc_proxy_sendbuf(const struct hc_proxy *p, size_t *len);
/* n bytes of hc_proxy_sendbuf were sent. */
void hc_proxy_sendack(struct hc_proxy *p, size_t n);

/* Present reply bytes: see the top of this file. */
int hc_proxy_recv(struct hc_proxy *p, const void *in, size_t len);

/* 1 once the tunnel is open (every reply taken, nothing left to send). */
int hc_proxy_done(const struct hc_proxy *p);
/* enum hc_proxy_err; HC_PROXY_OK while the handshake is fine. */
int hc_proxy_last_error(const struct hc_proxy *p);
/* The HTTP status (HC_PROXY_ESTATUS) or REP code (HC_PROXY_EREP). */
int hc_proxy_detail(const struct hc_proxy *p);

#endif
