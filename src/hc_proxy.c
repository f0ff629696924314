/*
 * hc_proxy.c - HTTP CONNECT and SOCKS5 handshakes as pure engines (see
 * hc_proxy.h).  hc.c owns the socket and drives an engine between
 * "connected to the proxy" and "tunnel open".
 *
 * Every message we send is known at init, so init writes them all into
 * p->out, one segment each, and sending is a cursor over the current
 * segment.  The engine needs no copy of the host or the credentials
 * afterwards, and holds no pointer into the caller's memory.
 *
 * Receiving follows picohttpparser's contract: the caller presents all
 * the reply bytes it holds, the engine either takes one whole message
 * (returns its length), asks for more (HC_PROXY_PARTIAL, nothing taken),
 * or fails.  A message is never taken in part, so the engine keeps no
 * input buffer and bytes past a reply stay with the caller.
 *
 *   HTTP:    send CONNECT ------------> R_HTTP_HEAD -> done
 *   SOCKS5:  send greeting ----------> R_METHOD
 *              method 2: send user/password -> R_AUTH -+
 *              method 0: ------------------------------+-> send request
 *                                                        -> R_REPLY -> done
 *
 * Failures are sticky: p->err is set once, every later call returns
 * HC_PROXY_FAILED and sends nothing.
 */
#include "hc_proxy.h"

#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include "fmt.h"
#include "http.h"
#include "url.h"

enum { KIND_HTTP, KIND_SOCKS5 };

enum {
	R_HTTP_HEAD,   /* the CONNECT answer head */
	R_METHOD,      /* SOCKS5: 05 method */
	R_AUTH,        /* SOCKS5: 01 status (RFC 1929) */
	R_REPLY,       /* SOCKS5: 05 rep 00 atyp addr port */
	R_DONE,
};

enum { SEG_FIRST, SEG_AUTH, SEG_REQUEST };

/* A writer into p->out with a sticky overflow flag. */
struct w {
	struct hc_proxy *p;
	size_t len;
	int overflow;
};

static void put(struct w *w, const void *s, size_t n)
{
	if (w->overflow || n > HC_PROXY_OUT_MAX - w->len) {
		w->overflow = 1;
		return;
	}
	memcpy(w->p->out + w->len, s, n);
	w->len += n;
}

static void put_byte(struct w *w, unsigned v)
{
	unsigned char c = (unsigned char)v;
	put(w, &c, 1);
}

static void put_str(struct w *w, const char *s)
{
	put(w, s, strlen(s));
}

/* A SOCKS5 length-prefixed field, cut to 255 bytes. */
static void put_field(struct w *w, const char *s)
{
	size_t n = strlen(s);
	if (n > 255)
		n = 255;
	put_byte(w, (unsigned)n);
	put(w, s, n);
}

/* host:port, an IPv6 literal in brackets. */
static void put_authority(struct w *w, const char *host, int port)
{
	char num[16];
	int v6 = strchr(host, ':') != NULL;
	if (v6)
		put_str(w, "[");
	put_str(w, host);
	fmt_snprintf(num, sizeof(num), "%s:%d", v6 ? "]" : "", port);
	put_str(w, num);
}

/* Close segment s: it spans from where the previous one ended. */
static void end_seg(struct w *w, int s)
{
	size_t from = s ? (size_t)w->p->seg_off[s - 1] + w->p->seg_len[s - 1]
			: 0;
	w->p->seg_off[s] = (unsigned short)from;
	w->p->seg_len[s] = (unsigned short)(w->len - from);
}

static int fail(struct hc_proxy *p, int err, int detail)
{
	if (!p->err) {
		p->err = err;
		p->detail = detail;
	}
	return HC_PROXY_FAILED;
}

static void reset(struct hc_proxy *p, int kind, int state)
{
	memset(p, 0, offsetof(struct hc_proxy, out));
	p->kind = kind;
	p->state = state;
}

/* see hc_proxy.h */
int hc_proxy_http_init(struct hc_proxy *p, const char *host, int port,
		       const char *user, const char *pass)
{
	struct w w = {p, 0, 0};

	reset(p, KIND_HTTP, R_HTTP_HEAD);
	put_str(&w, "CONNECT ");
	put_authority(&w, host, port);
	put_str(&w, " HTTP/1.1\r\nHost: ");
	put_authority(&w, host, port);
	put_str(&w, "\r\n");
	if (user[0]) {
		char cred[260], b64[360];
		fmt_snprintf(cred, sizeof(cred), "%s:%s", user, pass);
		url_base64(cred, strlen(cred), b64, sizeof(b64));
		put_str(&w, "Proxy-Authorization: Basic ");
		put_str(&w, b64);
		put_str(&w, "\r\n");
	}
	put_str(&w, "\r\n");
	end_seg(&w, SEG_FIRST);
	p->seg = SEG_FIRST;
	return w.overflow ? fail(p, HC_PROXY_ETOOLONG, 0) : 0;
}

/* see hc_proxy.h */
int hc_proxy_socks5_init(struct hc_proxy *p, const char *host, int port,
			 const struct sockaddr_storage *ip, const char *user,
			 const char *pass)
{
	struct w w = {p, 0, 0};
	int auth = user[0] != '\0';

	reset(p, KIND_SOCKS5, R_METHOD);
	put(&w, auth ? "\x05\x01\x02" : "\x05\x01\x00", 3);
	end_seg(&w, SEG_FIRST);
	if (auth) {
		put_byte(&w, 1);
		put_field(&w, user);
		put_field(&w, pass);
	}
	end_seg(&w, SEG_AUTH);
	put(&w, "\x05\x01\x00", 3);
	if (!ip) {
		put_byte(&w, 3);
		put_field(&w, host);
	} else if (ip->ss_family == AF_INET) {
		put_byte(&w, 1);
		put(&w, &((const struct sockaddr_in *)(const void *)ip)->sin_addr,
		    4);
	} else {
		put_byte(&w, 4);
		put(&w,
		    &((const struct sockaddr_in6 *)(const void *)ip)->sin6_addr,
		    16);
	}
	put_byte(&w, ((unsigned)port >> 8) & 0xff);
	put_byte(&w, (unsigned)port & 0xff);
	end_seg(&w, SEG_REQUEST);
	p->seg = SEG_FIRST;
	return w.overflow ? fail(p, HC_PROXY_ETOOLONG, 0) : 0;
}

/* see hc_proxy.h */
const unsigned char *hc_proxy_sendbuf(const struct hc_proxy *p, size_t *len)
{
	if (p->err || p->state == R_DONE || p->sent >= p->seg_len[p->seg]) {
		*len = 0;
		return NULL;
	}
	*len = p->seg_len[p->seg] - p->sent;
	return p->out + p->seg_off[p->seg] + p->sent;
}

/* see hc_proxy.h */
void hc_proxy_sendack(struct hc_proxy *p, size_t n)
{
	size_t left;
	hc_proxy_sendbuf(p, &left);
	p->sent += n < left ? n : left;
}

/* Move to segment s (to be sent) and the reply that answers it. */
static void next(struct hc_proxy *p, int seg, int state)
{
	p->seg = seg;
	p->sent = 0;
	p->state = state;
}

static int recv_http(struct hc_proxy *p, const char *in, size_t len)
{
	struct http_response res;
	int n = http_parse_response(in, len, &res);

	if (n == HTTP_PARTIAL)
		return len >= HC_PROXY_HEAD_MAX ? fail(p, HC_PROXY_ETOOBIG, 0)
						: HC_PROXY_PARTIAL;
	if (n < 0)
		return fail(p, HC_PROXY_EGARBLED, 0);
	if ((size_t)n > HC_PROXY_HEAD_MAX)
		return fail(p, HC_PROXY_ETOOBIG, 0);
	if (res.status < 200 || res.status > 299)
		return fail(p, HC_PROXY_ESTATUS, res.status);
	p->state = R_DONE;
	return n;
}

/* Length of the SOCKS5 reply starting at r (5 bytes present), 0 when its
 * address type is unknown. */
static size_t socks_reply_len(const unsigned char *r)
{
	switch (r[3]) {
	case 1: return 4 + 4 + 2;
	case 3: return 4 + 1 + (size_t)r[4] + 2;
	case 4: return 4 + 16 + 2;
	default: return 0;
	}
}

/* A SOCKS5 reply.  Each starts with a version and a code, and a failure
 * is known from those two bytes (some proxies close right after them). */
static int recv_socks(struct hc_proxy *p, const unsigned char *r, size_t len)
{
	size_t need;

	if (len < 2)
		return HC_PROXY_PARTIAL;
	if (p->state == R_AUTH) {
		/* 01 status: RFC 1929 says version 1, some servers answer 5;
		 * only the status counts. */
		if (r[1] != 0)
			return fail(p, HC_PROXY_EAUTH, r[1]);
		next(p, SEG_REQUEST, R_REPLY);
		return 2;
	}
	if (r[0] != 5)
		return fail(p, HC_PROXY_EGARBLED, 0);
	if (p->state == R_METHOD) { /* 05 method */
		if (r[1] == 2 && p->seg_len[SEG_AUTH]) {
			next(p, SEG_AUTH, R_AUTH);
			return 2;
		}
		if (r[1] != 0)
			return fail(p, HC_PROXY_EMETHOD, r[1]);
		next(p, SEG_REQUEST, R_REPLY);
		return 2;
	}
	/* R_REPLY: 05 rep 00 atyp addr port */
	if (r[1] != 0)
		return fail(p, HC_PROXY_EREP, r[1]);
	if (len < 5)
		return HC_PROXY_PARTIAL;
	if ((need = socks_reply_len(r)) == 0)
		return fail(p, HC_PROXY_EGARBLED, 0);
	if (len < need)
		return HC_PROXY_PARTIAL;
	p->state = R_DONE;
	return (int)need;
}

/* see hc_proxy.h */
int hc_proxy_recv(struct hc_proxy *p, const void *in, size_t len)
{
	size_t pending;

	if (p->err)
		return HC_PROXY_FAILED;
	hc_proxy_sendbuf(p, &pending);
	if (pending || p->state == R_DONE)
		return fail(p, HC_PROXY_EORDER, 0);
	if (len == 0)
		return HC_PROXY_PARTIAL;
	if (p->kind == KIND_HTTP)
		return recv_http(p, in, len);
	return recv_socks(p, in, len);
}

/* see hc_proxy.h */
int hc_proxy_done(const struct hc_proxy *p)
{
	return !p->err && p->state == R_DONE;
}

/* see hc_proxy.h */
int hc_proxy_last_error(const struct hc_proxy *p)
{
	return p->err;
}

/* see hc_proxy.h */
int hc_proxy_detail(const struct hc_proxy *p)
{
	return p->detail;
}
