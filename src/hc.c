/*
 * hc.c - upstream HTTP/1.1 client connections (see hc.h).
 *
 * Each connection is a state machine driven by drive(): every step either
 * advances the state (loop again), waits for the socket (poll interest in
 * h->want_in / h->want_out), or ends the connection.  The steps:
 *
 *   RESOLVE -> CONNECT -> [PROXY] -> [HANDSHAKE] -> SEND -> HEAD -> BODY
 *                                                    ^               |
 *                                                    +---- IDLE <----+
 *
 * TLS sits under SEND/HEAD/BODY through io_read()/io_write(), which run
 * the BearSSL engine pump of tls.c over the socket as needed; a step never
 * knows whether the connection is encrypted.  PROXY drives one of the pure
 * handshake engines of hc_proxy.c over the socket (or over TLS to an
 * https:// proxy); whatever the proxy sent past its last reply is handed to
 * the layers above before anything else read from the tunnel.
 *
 * One timer per connection: the connect deadline (resolve, connect, proxy
 * and handshake together), the first-byte deadline, the idle-read
 * deadline, or the pool idle time, depending on the state.
 *
 * A connection taken from the idle pool may have been closed by the
 * server just before we reused it.  If such a connection fails before any
 * response byte arrives, the request is replayed once on a fresh
 * connection: the owner never sees that failure.
 *
 * Module state (the pool, the idle list, the TLS session cache, counters)
 * is the caller's struct hc_ctx; each connection points back to it.
 */
#define _GNU_SOURCE
#include "hc.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "fmt.h"
#include "hc_proxy.h"
#include "log.h"
#include "url.h"

#define HC_HEAD_MAX (64 * 1024)
#define HC_READ_CHUNK (16 * 1024)
#define HC_IDLE_PER_TARGET 64

enum hc_state {
	HC_FREE,
	HC_RESOLVE,
	HC_CONNECT,
	HC_PROXY_TLS,  /* TLS with an https:// proxy */
	HC_PROXY,      /* the CONNECT or SOCKS5 handshake */
	HC_HANDSHAKE,
	HC_SEND,
	HC_HEAD,
	HC_BODY,
	HC_IDLE,
	HC_FAILED,     /* failed inside hc_request: owner told on next tick */
};

enum { STEP_AGAIN, STEP_WAIT, STEP_GONE };
enum { ROLE_TARGET, ROLE_PROXY };  /* whose TLS session (tls_sess_*) */
enum { FR_NONE, FR_LENGTH, FR_CHUNKED, FR_CLOSE };

struct hc {
	enum hc_state state;
	unsigned gen;
	struct hc_ctx *c;
	struct loop_watch w;
	struct loop_timer t;
	struct hc_target tg;

	const struct hc_ops *ops;
	void *owner;
	struct hc_timeouts to;
	struct hc_request req;

	struct buf wbuf;          /* the request head (and a small body) */
	size_t body_off, post_off;
	int want_in, want_out;

	struct dns_handle dh;
	struct dns_addrs addrs;
	int ai;                   /* address being tried */
	int resolving_target;     /* socks5: resolving the target first */
	struct sockaddr_storage target_ip;
	struct hc_proxy *px;      /* during HC_PROXY only */
	struct buf tun;           /* tunnel bytes read with the proxy's reply */

	struct tls_client *tls;   /* TLS to the target */
	struct tls_client *ptls;  /* TLS to an https:// proxy */
	struct tls_io raw_io;     /* the socket, under ptls */
	struct tls_io sock_io;    /* the socket or ptls, under tls */

	struct buf rbuf;          /* response bytes */
	int framing;
	uint64_t left;
	struct http_chunked ch;
	int keepalive;
	int got_bytes;            /* any response byte this request */
	int reused;               /* came from the idle pool */
	int paused;
	int eof;
	int pending_start;        /* start on the next loop tick */
	int in_start;             /* inside hc_request: no callbacks now */
	int head_built;           /* request head is in wbuf / sent */
	int pending_err;          /* HC_FAILED: the error to report */
	char pending_msg[300];
	uint64_t key;             /* hash of tg, for the idle pool */
	int clean;                /* in good order: a TLS goodbye on release */
	struct hc *idle_next, *idle_prev;
};

/* FNV-1a over the fields that identify a target. */
static uint64_t target_key(const struct hc_target *t)
{
	uint64_t h = 1469598103934665603ull;
	const char *parts[4] = {t->host, t->proxy_host, t->proxy_user,
				t->proxy_pass};
	int nums[4] = {t->tls, t->port, t->proxy, t->proxy_port};
	size_t i;
	for (i = 0; i < 4; i++) {
		const unsigned char *p = (const unsigned char *)parts[i];
		for (; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
		h = (h ^ (uint64_t)(unsigned)nums[i] ^ 0xffu) * 1099511628211ull;
	}
	return h;
}

static int same_target(const struct hc *h, const struct hc_target *t,
		       uint64_t key)
{
	const struct hc_target *a = &h->tg;
	if (h->key != key || a->tls != t->tls || a->port != t->port ||
	    a->proxy != t->proxy || strcmp(a->host, t->host) != 0)
		return 0;
	return !t->proxy || (a->proxy_port == t->proxy_port &&
			     !strcmp(a->proxy_host, t->proxy_host) &&
			     !strcmp(a->proxy_user, t->proxy_user) &&
			     !strcmp(a->proxy_pass, t->proxy_pass));
}

static void idle_remove(struct hc *h)
{
	if (h->idle_prev)
		h->idle_prev->idle_next = h->idle_next;
	else if (h->c->idle == h)
		h->c->idle = h->idle_next;
	if (h->idle_next)
		h->idle_next->idle_prev = h->idle_prev;
	h->idle_next = h->idle_prev = NULL;
}

static void idle_add(struct hc *h)
{
	h->idle_prev = NULL;
	h->idle_next = h->c->idle;
	if (h->c->idle)
		h->c->idle->idle_prev = h;
	h->c->idle = h;
}

static void drive(struct hc *h);
static void on_io(struct loop *l, struct loop_watch *w, int revents);
static void on_timer(struct loop *l, struct loop_timer *t);
static void start_connect(struct hc *h);

int hc_pool_init(struct hc_ctx *c, struct loop *l, struct dns_ctx *dns,
		 int max_conns)
{
	memset(c, 0, sizeof(*c));
	c->l = l;
	c->dns = dns;
	c->n = max_conns;
	c->pool = calloc((size_t)max_conns, sizeof(*c->pool));
	return c->pool ? 0 : -1;
}

void hc_get_stats(const struct hc_ctx *c, struct hc_stats *s)
{
	*s = c->st;
}

/* ---- teardown ------------------------------------------------------------ */

static void tls_goodbye(struct hc *h);

/* Close the socket and drop what belongs to it: TLS engines, a proxy
 * handshake, tunnel bytes not read yet. */
static void disconnect(struct hc *h)
{
	loop_close(h->c->l, &h->w);
	free(h->tls);
	h->tls = NULL;
	free(h->ptls);
	h->ptls = NULL;
	free(h->px);
	h->px = NULL;
	buf_free(&h->tun);
}

static void release(struct hc *h)
{
	if (h->state == HC_FREE)
		return;
	if (h->state == HC_IDLE)
		idle_remove(h);
	dns_cancel(h->c->dns, &h->dh);
	if (h->clean && h->tls && h->w.fd >= 0)
		tls_goodbye(h);
	h->clean = 0;
	disconnect(h);
	loop_timer_cancel(h->c->l, &h->t);
	buf_free(&h->wbuf);
	buf_free(&h->rbuf);
	h->state = HC_FREE;
	h->owner = NULL;
	h->ops = NULL;
	h->gen++;
}

void hc_pool_free(struct hc_ctx *c)
{
	int i;
	for (i = 0; c->pool && i < c->n; i++)
		release(&c->pool[i]);
	free(c->pool);
	c->pool = NULL;
	tls_sess_forget_all(&c->sess);
}

void hc_pool_close_idle(struct hc_ctx *c)
{
	int i;
	tls_sess_forget_all(&c->sess);
	for (i = 0; c->pool && i < c->n; i++)
		if (c->pool[i].state == HC_IDLE)
			release(&c->pool[i]);
}

void hc_abort(struct hc *h)
{
	if (h)
		release(h);
}

/* End with an error: detach, close, then tell the owner.  A reused
 * connection that failed before any response byte is replayed instead. */
static int fail(struct hc *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct hc *h, int err, const char *fmt, ...)
{
	const struct hc_ops *ops = h->ops;
	void *owner = h->owner;
	char msg[300];
	va_list ap;

	if (h->reused && !h->got_bytes &&
	    (err == HC_ERESET || err == HC_EPROTO)) {
		log_debug("upstream %s:%d: reused connection was closed; "
			  "retrying on a new one", h->tg.host, h->tg.port);
		disconnect(h);
		buf_reset(&h->rbuf);
		buf_reset(&h->wbuf);
		h->body_off = h->post_off = 0;
		h->head_built = 0;
		h->reused = 0;
		h->eof = 0;
		h->state = HC_RESOLVE;
		h->pending_start = 1;
		loop_timer_set(h->c->l, &h->t, 0);
		return STEP_GONE;
	}
	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (h->in_start) {
		/* Never call the owner back before hc_request returned. */
		loop_close(h->c->l, &h->w);
		h->state = HC_FAILED;
		h->pending_err = err;
		fmt_snprintf(h->pending_msg, sizeof(h->pending_msg), "%s", msg);
		loop_timer_set(h->c->l, &h->t, 0);
		return STEP_GONE;
	}
	release(h);
	if (ops)
		ops->on_error(owner, err, msg);
	return STEP_GONE;
}

/* ---- socket and TLS I/O ---------------------------------------------------- */

/*
 * Three layers, each with the contract of struct tls_io (bytes moved,
 * 0 = EOF for reads, IO_AGAIN with want_in/want_out set, -1 = error):
 *
 *   raw_*   the socket
 *   sock_*  the tunnel: the socket, or TLS to an https:// proxy over it
 *           (h->raw_io); first the bytes that came with the proxy's reply
 *   io_*    sock_*, or TLS to the target over it (h->sock_io)
 *
 * A read that meets the end of the stream marks the connection eof: it
 * ends unclean and never goes back to the pool.
 */
#define IO_AGAIN TLS_AGAIN

/* A send or recv result; would-block asks poll for that direction. */
static ssize_t raw_result(ssize_t k, int *want)
{
	if (k >= 0)
		return k;
	if (errno == EAGAIN || errno == EINTR) {
		*want = 1;
		return IO_AGAIN;
	}
	return -1;
}

static ssize_t raw_send(void *ctx, const void *p, size_t n)
{
	struct hc *h = ctx;
	return raw_result(send(h->w.fd, p, n, MSG_NOSIGNAL), &h->want_out);
}

static ssize_t raw_recv(void *ctx, void *p, size_t n)
{
	struct hc *h = ctx;
	ssize_t k = raw_result(recv(h->w.fd, p, n, 0), &h->want_in);
	if (k == 0)
		h->eof = 1;
	return k;
}

static ssize_t sock_send(void *ctx, const void *p, size_t n)
{
	struct hc *h = ctx;
	if (!h->ptls)
		return raw_send(h, p, n);
	return tls_write(h->ptls, &h->raw_io, p, n);
}

static ssize_t sock_recv(void *ctx, void *p, size_t n)
{
	struct hc *h = ctx;
	size_t early = buf_pending(&h->tun);
	ssize_t k;

	if (early > 0) {
		if (early > n)
			early = n;
		memcpy(p, h->tun.p + h->tun.off, early);
		buf_consume(&h->tun, early);
		if (buf_pending(&h->tun) == 0)
			buf_free(&h->tun);
		return (ssize_t)early;
	}
	if (!h->ptls)
		return raw_recv(h, p, n);
	k = tls_read(h->ptls, &h->raw_io, p, n);
	if (k == 0)
		h->eof = 1;
	return k;
}

/* Flush records still queued in the proxy engine (after sock_send).
 * 0, IO_AGAIN or -1. */
static int sock_flush(struct hc *h)
{
	return h->ptls ? tls_flush(h->ptls, &h->raw_io) : 0;
}

/* close_notify to the target (see tls_close_notify): best effort, what
 * the socket takes now. */
static void tls_goodbye(struct hc *h)
{
	if (tls_close_notify(h->tls, &h->sock_io) == 0)
		sock_flush(h);
}

static ssize_t io_write(struct hc *h, const char *p, size_t n)
{
	ssize_t k;
	if (!h->tls)
		k = sock_send(h, p, n);
	else
		k = tls_write(h->tls, &h->sock_io, p, n);
	if (k > 0 && sock_flush(h) == -1)
		return -1;
	return k;
}

static ssize_t io_read(struct hc *h, char *p, size_t n)
{
	ssize_t k;
	if (!h->tls)
		return sock_recv(h, p, n);
	k = tls_read(h->tls, &h->sock_io, p, n);
	if (sock_flush(h) == -1)
		return -1;
	return k;
}

/* The unread response bytes.  Before the first read rbuf.p is NULL, and
 * NULL + 0 is undefined. */
static const char *rbuf_at(const struct hc *h)
{
	return buf_pending(&h->rbuf) ? h->rbuf.p + h->rbuf.off : "";
}

/* The response head waiting in rbuf, parsed. */
static int parse_head(const struct hc *h, struct http_response *res)
{
	if (buf_pending(&h->rbuf) == 0)
		return HTTP_PARTIAL;
	return http_parse_response(rbuf_at(h), buf_pending(&h->rbuf), res);
}

/* Read into rbuf until it holds at least want bytes. 1 yes, 0 wait, -1. */
static int proxy_fill(struct hc *h, size_t want)
{
	while (buf_pending(&h->rbuf) < want) {
		size_t room = buf_reserve(&h->rbuf, 512);
		ssize_t n;
		if (room == 0)
			return -1;
		n = sock_recv(h, h->rbuf.p + h->rbuf.len, room);
		if (n > 0) {
			h->rbuf.len += (size_t)n;
			continue;
		}
		return n == IO_AGAIN ? 0 : -1;
	}
	return 1;
}

/* ---- connecting -------------------------------------------------------------- */

static const char *connect_host(const struct hc *h)
{
	return h->tg.proxy ? h->tg.proxy_host : h->tg.host;
}

static int connect_port(const struct hc *h)
{
	return h->tg.proxy ? h->tg.proxy_port : h->tg.port;
}

static void after_connected(struct hc *h)
{
	int one = 1;
	setsockopt(h->w.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	h->c->st.connects++;
	if (h->tg.proxy == URL_HTTPS + 1)
		h->state = HC_PROXY_TLS;
	else if (h->tg.proxy)
		h->state = HC_PROXY;
	else
		h->state = h->tg.tls ? HC_HANDSHAKE : HC_SEND;
}

/* Try addresses from h->ai on; returns when one is in progress. */
static int try_connect(struct hc *h)
{
	for (; h->ai < h->addrs.n; h->ai++) {
		struct sockaddr_storage ss = h->addrs.a[h->ai];
		socklen_t sl;
		int fd;

		if (ss.ss_family == AF_INET) {
			((struct sockaddr_in *)&ss)->sin_port =
				htons((uint16_t)connect_port(h));
			sl = sizeof(struct sockaddr_in);
		} else {
			((struct sockaddr_in6 *)&ss)->sin6_port =
				htons((uint16_t)connect_port(h));
			sl = sizeof(struct sockaddr_in6);
		}
		fd = socket(ss.ss_family,
			    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, (struct sockaddr *)&ss, sl) < 0 &&
		    errno != EINPROGRESS) {
			close(fd);
			continue;
		}
		h->w.fd = fd;
		if (loop_add(h->c->l, &h->w, POLLOUT) < 0) {
			close(fd);
			h->w.fd = -1;
			return fail(h, HC_ENOMEM, "too many open connections");
		}
		h->state = HC_CONNECT;
		return STEP_WAIT;
	}
	return fail(h, HC_ECONNECT, "cannot connect to %s%s:%d",
		    h->tg.proxy ? "proxy " : "", connect_host(h),
		    connect_port(h));
}

static void on_resolved(void *user, int err, const struct dns_addrs *res)
{
	struct hc *h = user;
	h->dh.slot = -1;
	if (err != DNS_OK) {
		fail(h, HC_EDNS, "cannot resolve %s: %s",
		     h->resolving_target ? h->tg.host : connect_host(h),
		     dns_strerror(err));
		return;
	}
	if (h->resolving_target) {
		h->target_ip = res->a[0];
		h->resolving_target = 0;
		start_connect(h);
		return;
	}
	h->addrs = *res;
	h->ai = 0;
	if (try_connect(h) == STEP_WAIT)
		drive(h);
}

static void start_connect(struct hc *h)
{
	struct dns_addrs res;
	int rc;

	h->state = HC_RESOLVE;
	h->resolving_target = h->tg.proxy == URL_SOCKS5 + 1 &&
			      h->target_ip.ss_family == 0;
	rc = dns_lookup(h->c->dns,
			h->resolving_target ? h->tg.host : connect_host(h),
			&res, on_resolved, h, &h->dh);
	if (rc == 1) {
		on_resolved(h, DNS_OK, &res);
		return;
	}
	if (rc < 0) {
		h->dh.slot = -1;
		on_resolved(h, rc, &res);
	}
}

/* ---- proxy handshake ------------------------------------------------------- */

static int is_socks(const struct hc *h)
{
	return h->tg.proxy == URL_SOCKS5 + 1 || h->tg.proxy == URL_SOCKS5H + 1;
}

/* Set up the handshake engine: every message it will send is made now. */
static int proxy_start(struct hc *h)
{
	const struct hc_target *t = &h->tg;
	int rc;

	if (!(h->px = malloc(sizeof(*h->px))))
		return fail(h, HC_ENOMEM, "out of memory for the proxy "
			    "handshake");
	if (!is_socks(h))
		rc = hc_proxy_http_init(h->px, t->host, t->port, t->proxy_user,
					t->proxy_pass);
	else
		rc = hc_proxy_socks5_init(h->px, t->host, t->port,
					  t->proxy == URL_SOCKS5H + 1
						  ? NULL : &h->target_ip,
					  t->proxy_user, t->proxy_pass);
	if (rc < 0)
		return fail(h, HC_EPROXY, "request to proxy %s:%d for %s:%d "
			    "is too long", t->proxy_host, t->proxy_port,
			    t->host, t->port);
	return STEP_AGAIN;
}

static int proxy_closed(struct hc *h)
{
	return fail(h, HC_EPROXY, "%s %s:%d closed the connection during "
		    "the handshake", is_socks(h) ? "SOCKS5 proxy" : "proxy",
		    h->tg.proxy_host, h->tg.proxy_port);
}

/* The engine failed: say why, in the proxy's terms. */
static int proxy_refused(struct hc *h)
{
	const struct hc_target *t = &h->tg;
	int d = hc_proxy_detail(h->px);
	char why[360];

	switch (hc_proxy_last_error(h->px)) {
	case HC_PROXY_ESTATUS:
		fmt_snprintf(why, sizeof(why), "refused CONNECT to %s:%d with "
			     "status %d", t->host, t->port, d);
		break;
	case HC_PROXY_EREP:
		fmt_snprintf(why, sizeof(why), "could not connect to %s:%d (reply "
			     "%d)", t->host, t->port, d);
		break;
	case HC_PROXY_EMETHOD:
		fmt_snprintf(why, sizeof(why), "refused our authentication methods");
		break;
	case HC_PROXY_EAUTH:
		fmt_snprintf(why, sizeof(why), "rejected the user name or password");
		break;
	case HC_PROXY_ETOOBIG:
		fmt_snprintf(why, sizeof(why), "sent too large an answer to CONNECT");
		break;
	default:
		fmt_snprintf(why, sizeof(why), "sent a malformed reply");
		break;
	}
	return fail(h, HC_EPROXY, "%s %s:%d %s",
		    is_socks(h) ? "SOCKS5 proxy" : "proxy", t->proxy_host,
		    t->proxy_port, why);
}

/* The tunnel is open.  Bytes the proxy sent after its reply came from the
 * target: sock_recv hands them out before reading the socket again. */
static int proxy_open(struct hc *h)
{
	free(h->px);
	h->px = NULL;
	buf_put(&h->tun, rbuf_at(h), buf_pending(&h->rbuf));
	buf_reset(&h->rbuf);
	if (h->tun.overflow)
		return fail(h, HC_ENOMEM, "out of memory for the proxy tunnel");
	h->state = h->tg.tls ? HC_HANDSHAKE : HC_SEND;
	return STEP_AGAIN;
}

/* Drive the engine: send what it has, present what the proxy sent. */
static int proxy_step(struct hc *h)
{
	int rc;

	if (!h->px && (rc = proxy_start(h)) != STEP_AGAIN)
		return rc;
	for (;;) {
		size_t len;
		const unsigned char *out = hc_proxy_sendbuf(h->px, &len);

		if (out) {
			ssize_t n = sock_send(h, out, len);
			if (n > 0) {
				hc_proxy_sendack(h->px, (size_t)n);
				continue;
			}
			return n == IO_AGAIN ? STEP_WAIT : proxy_closed(h);
		}
		if ((rc = sock_flush(h)) != 0)
			return rc == IO_AGAIN ? STEP_WAIT : proxy_closed(h);
		if (hc_proxy_done(h->px))
			return proxy_open(h);
		rc = hc_proxy_recv(h->px, rbuf_at(h), buf_pending(&h->rbuf));
		if (rc > 0) {
			buf_consume(&h->rbuf, (size_t)rc);
			continue;
		}
		if (rc == HC_PROXY_FAILED)
			return proxy_refused(h);
		if ((rc = proxy_fill(h, buf_pending(&h->rbuf) + 1)) <= 0)
			return rc == 0 ? STEP_WAIT : proxy_closed(h);
	}
}

/* ---- TLS handshakes ---------------------------------------------------------- */

/* Run a handshake on *slot (created on first call, offering the session
 * cached for host:port) over io: the proxy's engine rides the socket, the
 * target's rides the tunnel.  Returns STEP_AGAIN when done. */
static int handshake(struct hc *h, struct tls_client **slot, const char *host,
		     int port, const struct tls_io *io, int role)
{
	struct hc_ctx *c = h->c;
	int rc, err;

	if (!*slot) {
		*slot = malloc(sizeof(**slot));
		if (!*slot)
			return fail(h, HC_ENOMEM, "out of memory for TLS");
		if (tls_client_start(*slot, host, tls_sess_find(&c->sess, host,
								 port, role)) < 0)
			return fail(h, HC_ETLS, "TLS set-up failed for %s", host);
		c->st.tls_handshakes++;
	}
	rc = tls_pump(*slot, io, 1);
	if (rc == 1) {
		if (sock_flush(h) == -1)
			return fail(h, HC_ETLS, "connection to %s:%d lost "
				    "during the TLS handshake", host, port);
		if (tls_sess_keep(&c->sess, host, port, role, *slot)) {
			c->st.tls_resumed++;
			log_debug("TLS with %s%s:%d: session resumed",
				  role == ROLE_PROXY ? "proxy " : "", host, port);
		}
		return STEP_AGAIN;
	}
	if (rc == IO_AGAIN)
		return STEP_WAIT;
	tls_sess_forget(&c->sess, host, port, role);
	err = tls_last_error(*slot);
	return fail(h, role == ROLE_TARGET ? HC_ETLS : HC_EPROXY,
		    "TLS with %s%s:%d failed: %s",
		    role == ROLE_PROXY ? "proxy " : "", host, port,
		    err ? tls_strerror(err)
			: "connection closed during the handshake");
}

static int handshake_step(struct hc *h)
{
	int rc = handshake(h, &h->tls, h->tg.host, h->tg.port, &h->sock_io,
			   ROLE_TARGET);
	if (rc == STEP_AGAIN)
		h->state = HC_SEND;
	return rc;
}

static int proxy_tls_step(struct hc *h)
{
	int rc = handshake(h, &h->ptls, h->tg.proxy_host, h->tg.proxy_port,
			   &h->raw_io, ROLE_PROXY);
	if (rc == STEP_AGAIN)
		h->state = HC_PROXY;
	return rc;
}

/* ---- request and response ------------------------------------------------------ */

static void build_head(struct hc *h)
{
	struct buf *b = &h->wbuf;
	int v6 = strchr(h->tg.host, ':') != NULL;
	int dflt = h->tg.port == (h->tg.tls ? 443 : 80);

	buf_reset(b);
	buf_puts(b, h->req.method);
	buf_putc(b, ' ');
	buf_puts(b, h->req.path);
	buf_puts(b, v6 ? " HTTP/1.1\r\nHost: [" : " HTTP/1.1\r\nHost: ");
	buf_puts(b, h->tg.host);
	if (v6)
		buf_putc(b, ']');
	if (!dflt) {
		buf_putc(b, ':');
		buf_putu(b, (unsigned long long)h->tg.port);
	}
	buf_puts(b, "\r\n");
	if (h->req.headers)
		buf_puts(b, h->req.headers);
	if (h->req.body || strcmp(h->req.method, "GET") != 0) {
		buf_puts(b, "Content-Length: ");
		buf_putu(b, h->req.pre_len + h->req.body_len +
			    h->req.post_len);
		buf_puts(b, "\r\n");
	}
	buf_puts(b, "\r\n");
}

/* Write p[*off..n) to the target.  STEP_AGAIN once all of it went. */
static int send_all(struct hc *h, const char *p, size_t n, size_t *off)
{
	while (*off < n) {
		ssize_t k = io_write(h, p + *off, n - *off);
		if (k == IO_AGAIN)
			return STEP_WAIT;
		if (k < 0)
			return fail(h, HC_ERESET, "connection to %s:%d lost "
				    "while sending the request", h->tg.host,
				    h->tg.port);
		*off += (size_t)k;
	}
	return STEP_AGAIN;
}

static int send_step(struct hc *h)
{
	int rc;

	if (!h->head_built) {
		h->head_built = 1;
		build_head(h);
		if (h->wbuf.overflow)
			return fail(h, HC_ENOMEM, "request head too large");
		/* The body's wrapping (an envelope's head) goes with the
		 * request head; so does a small body and its tail: one
		 * write for all of it. */
		buf_put(&h->wbuf, h->req.pre, h->req.pre_len);
		if (h->wbuf.overflow)
			return fail(h, HC_ENOMEM, "request head too large");
		if (h->req.body_len + h->req.post_len <= 16 * 1024) {
			size_t at = h->wbuf.len;
			buf_put(&h->wbuf, h->req.body, h->req.body_len);
			buf_put(&h->wbuf, h->req.post, h->req.post_len);
			if (!h->wbuf.overflow) {
				h->body_off = h->req.body_len;
				h->post_off = h->req.post_len;
			} else {
				h->wbuf.len = at;
			}
			h->wbuf.overflow = 0;
		}
	}
	if ((rc = send_all(h, h->wbuf.p, h->wbuf.len, &h->wbuf.off)) !=
		    STEP_AGAIN ||
	    (rc = send_all(h, h->req.body, h->req.body_len, &h->body_off)) !=
		    STEP_AGAIN ||
	    (rc = send_all(h, h->req.post, h->req.post_len, &h->post_off)) !=
		    STEP_AGAIN)
		return rc;
	h->state = HC_HEAD;
	loop_timer_set(h->c->l, &h->t, h->to.first_byte_ms);
	return STEP_AGAIN;
}

/* Read more response bytes into rbuf.  1 got some, 0 wait, -1 EOF, -2 err */
static int fill(struct hc *h)
{
	size_t room = buf_reserve(&h->rbuf, HC_READ_CHUNK);
	ssize_t n;

	if (room == 0)
		return -2;
	n = io_read(h, h->rbuf.p + h->rbuf.len, room);
	if (n == IO_AGAIN)
		return 0;
	if (n < 0)
		return -2;
	if (n == 0)
		return -1;
	h->rbuf.len += (size_t)n;
	h->got_bytes = 1;
	loop_timer_set(h->c->l, &h->t, h->to.read_ms);
	return 1;
}

static int head_step(struct hc *h)
{
	struct http_response res;
	const struct http_header *hd;
	unsigned gen;
	int n, rc, te;

	for (;;) {
		n = parse_head(h, &res);
		if (n > 0 && res.status >= 100 && res.status < 200 &&
		    res.status != 101) {
			buf_consume(&h->rbuf, (size_t)n); /* 100 Continue */
			continue;
		}
		if (n > 0)
			break;
		if (n != HTTP_PARTIAL)
			return fail(h, HC_EPROTO, "malformed response head from "
				    "%s:%d", h->tg.host, h->tg.port);
		if (buf_pending(&h->rbuf) >= HC_HEAD_MAX)
			return fail(h, HC_EPROTO, "response head from %s:%d is "
				    "too large", h->tg.host, h->tg.port);
		rc = fill(h);
		if (rc == 0)
			return STEP_WAIT;
		if (rc < 0)
			return fail(h, HC_ERESET, "%s:%d closed the connection "
				    "before answering", h->tg.host, h->tg.port);
	}

	h->keepalive = res.minor_version == 1;
	if ((hd = http_find_response_header(&res, "connection", NULL)) != NULL) {
		if (http_value_has_token(hd->value, hd->value_len, "close"))
			h->keepalive = 0;
		else if (http_value_has_token(hd->value, hd->value_len,
					      "keep-alive"))
			h->keepalive = 1;
	}
	te = http_transfer_codings(res.headers, res.num_headers);
	if (!strcmp(h->req.method, "HEAD") || res.status == 204 ||
	    res.status == 304) {
		h->framing = FR_NONE;
	} else if (te == HTTP_TE_OTHER) {
		return fail(h, HC_EPROTO, "%s:%d used a transfer-coding the "
			    "proxy does not decode", h->tg.host, h->tg.port);
	} else if (te == HTTP_TE_CHUNKED) {
		h->framing = FR_CHUNKED;
		http_chunked_init(&h->ch);
		/* with a Content-Length too, the server is confused or
		 * smuggling: read this answer, never reuse the connection */
		if (http_find_response_header(&res, "content-length", NULL))
			h->keepalive = 0;
	} else if (te == HTTP_TE_INVALID) {
		h->framing = FR_CLOSE; /* RFC 9112 6.3: read until close */
		h->keepalive = 0;
	} else if ((hd = http_find_response_header(&res, "content-length",
						   NULL)) != NULL) {
		int64_t len = http_parse_length(hd->value, hd->value_len);
		if (len < 0)
			return fail(h, HC_EPROTO, "bad Content-Length from "
				    "%s:%d", h->tg.host, h->tg.port);
		h->framing = FR_LENGTH;
		h->left = (uint64_t)len;
	} else {
		h->framing = FR_CLOSE;
		h->keepalive = 0;
	}
	gen = h->gen;
	h->ops->on_head(h->owner, &res);
	if (h->gen != gen)
		return STEP_GONE; /* the owner aborted us */
	buf_consume(&h->rbuf, (size_t)n);
	h->state = HC_BODY;
	return STEP_AGAIN;
}

/* Bytes the server sent beyond the response, still inside a TLS engine
 * or the tunnel. */
static int tls_unread(const struct hc *h)
{
	return (h->tls && tls_has_unread(h->tls)) ||
	       (h->ptls && tls_has_unread(h->ptls)) ||
	       buf_pending(&h->tun) > 0;
}

/* The response is complete: back to the pool, or closed.  A connection
 * that holds a byte beyond the response is never pooled: the next request
 * would read it as the start of its answer. */
static int finish(struct hc *h)
{
	const struct hc_ops *ops = h->ops;
	void *owner = h->owner;
	struct hc *c;
	int idle = 0;

	h->ops = NULL;
	h->owner = NULL;
	for (c = h->c->idle; c; c = c->idle_next)
		if (c->key == h->key)
			idle++;
	h->clean = !h->eof;
	if (h->keepalive && buf_pending(&h->rbuf) == 0 && !h->eof &&
	    !tls_unread(h) && idle < HC_IDLE_PER_TARGET &&
	    h->to.pool_idle_ms > 0) {
		h->state = HC_IDLE;
		idle_add(h);
		buf_reset(&h->wbuf); /* buffers kept for the next request */
		buf_reset(&h->rbuf);
		h->want_in = 0;
		h->want_out = 0;
		loop_mute(h->c->l, &h->w); /* see idle_usable() */
		loop_timer_set(h->c->l, &h->t, h->to.pool_idle_ms);
	} else {
		release(h);
	}
	ops->on_done(owner);
	return STEP_GONE;
}

/* Hand buffered body bytes to the owner.  Returns a STEP_ or -1 when the
 * buffer is drained and more input is needed. */
static int deliver(struct hc *h)
{
	unsigned gen = h->gen;

	while (buf_pending(&h->rbuf) > 0 && !h->paused) {
		char *p = h->rbuf.p + h->rbuf.off;
		size_t avail = buf_pending(&h->rbuf), used = avail, out = avail;
		int rc = 0;

		if (h->framing == FR_LENGTH) {
			if (out > h->left)
				out = used = (size_t)h->left;
			h->left -= out;
		} else if (h->framing == FR_CHUNKED) {
			rc = http_chunked_decode(&h->ch, p, avail, &used, p,
						 avail, &out);
			if (rc < 0)
				return fail(h, HC_EPROTO, "bad chunked body "
					    "from %s:%d", h->tg.host,
					    h->tg.port);
		}
		if (out > 0) {
			h->paused = h->ops->on_body(h->owner, p, out);
			if (h->gen != gen)
				return STEP_GONE;
			if (h->paused) /* a slow client is not a slow upstream */
				loop_timer_cancel(h->c->l, &h->t);
		}
		buf_consume(&h->rbuf, used);
		if ((h->framing == FR_LENGTH && h->left == 0) || rc == 1)
			return finish(h);
		if (used == 0)
			break; /* partial chunk framing: need more input */
	}
	if (h->framing == FR_LENGTH && h->left == 0)
		return finish(h);
	return h->paused ? STEP_WAIT : -1;
}

static int body_step(struct hc *h)
{
	for (;;) {
		int rc;
		if (h->framing == FR_NONE)
			return finish(h);
		rc = deliver(h);
		if (rc != -1)
			return rc;
		rc = fill(h);
		if (rc == 1)
			continue;
		if (rc == 0)
			return STEP_WAIT;
		if (rc == -1 && h->framing == FR_CLOSE) {
			h->eof = 1;
			return finish(h);
		}
		return fail(h, HC_ERESET, "%s:%d closed the connection in the "
			    "middle of the response", h->tg.host, h->tg.port);
	}
}

/* ---- driving -------------------------------------------------------------------- */

static void set_events(struct hc *h)
{
	short ev = 0;
	if (h->w.fd < 0)
		return;
	if (h->want_in && !(h->state == HC_BODY && h->paused))
		ev |= POLLIN;
	if (h->want_out)
		ev |= POLLOUT;
	loop_mod(h->c->l, &h->w, ev);
}

static void drive(struct hc *h)
{
	for (;;) {
		int rc;
		h->want_in = h->want_out = 0;
		switch (h->state) {
		case HC_PROXY: rc = proxy_step(h); break;
		case HC_PROXY_TLS: rc = proxy_tls_step(h); break;
		case HC_HANDSHAKE: rc = handshake_step(h); break;
		case HC_SEND: rc = send_step(h); break;
		case HC_HEAD: rc = head_step(h); break;
		case HC_BODY: rc = body_step(h); break;
		default: return;
		}
		if (rc == STEP_GONE)
			return;
		if (rc == STEP_WAIT || (h->in_start && h->state == HC_HEAD)) {
			if (rc != STEP_WAIT)
				h->want_in = 1; /* request sent: await the answer */
			set_events(h);
			return;
		}
	}
}

static void on_io(struct loop *l, struct loop_watch *w, int revents)
{
	struct hc *h = container_of(w, struct hc, w);
	(void)l;

	if (h->state == HC_CONNECT) {
		int err = 0;
		socklen_t sl = sizeof(err);
		getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err || (revents & (POLLERR | POLLHUP))) {
			loop_close(h->c->l, &h->w);
			h->ai++;
			try_connect(h);
			return;
		}
		after_connected(h);
		drive(h);
		return;
	}
	drive(h);
}

static void on_timer(struct loop *l, struct loop_timer *t)
{
	struct hc *h = container_of(t, struct hc, t);
	(void)l;

	if (h->state == HC_FAILED) {
		const struct hc_ops *ops = h->ops;
		void *owner = h->owner;
		char msg[300];
		int err = h->pending_err;
		fmt_snprintf(msg, sizeof(msg), "%s", h->pending_msg);
		release(h);
		if (ops)
			ops->on_error(owner, err, msg);
		return;
	}
	if (h->pending_start) {
		h->pending_start = 0;
		if (h->state == HC_RESOLVE) {
			loop_timer_set(h->c->l, &h->t, h->to.connect_ms);
			start_connect(h);
		} else {
			loop_timer_set(h->c->l, &h->t, h->to.first_byte_ms);
			drive(h);
		}
		return;
	}
	switch (h->state) {
	case HC_IDLE:
		release(h);
		return;
	case HC_RESOLVE:
	case HC_CONNECT:
	case HC_PROXY_TLS:
	case HC_PROXY:
	case HC_HANDSHAKE:
		fail(h, HC_ETIMEOUT, "connecting to %s%s:%d timed out",
		     h->tg.proxy ? "proxy " : "", connect_host(h),
		     connect_port(h));
		return;
	case HC_SEND:
	case HC_HEAD:
		h->reused = 0; /* a slow server is not a stale connection */
		fail(h, HC_ETIMEOUT, "%s:%d did not answer in time",
		     h->tg.host, h->tg.port);
		return;
	case HC_BODY:
		fail(h, HC_ETIMEOUT, "%s:%d stopped sending mid-response",
		     h->tg.host, h->tg.port);
		return;
	default:
		return;
	}
}

/* ---- public ------------------------------------------------------------------------ */

/*
 * Idle pooled connections are muted in the loop rather than watched: with
 * poll(), every watched descriptor costs each call a wait-queue entry, and
 * a pool of idle connections would tax every request of every client.
 * So before an idle connection is reused, the socket is asked whether the
 * server closed it or sent anything (a TLS close_notify, junk, a second
 * answer smuggled in by a broken or attacked server): any of these makes
 * it unusable, since the next request would read those bytes as its
 * answer.  A close that races the reuse is replayed once on a new
 * connection (see fail()).
 */
static int idle_usable(struct hc *h)
{
	char b;
	ssize_t n;

	n = recv(h->w.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static void setup(struct hc *h, const struct hc_request *r,
		  const struct hc_ops *ops, void *owner,
		  const struct hc_timeouts *to)
{
	h->ops = ops;
	h->owner = owner;
	h->to = *to;
	h->req = *r;
	h->clean = 0;
	h->body_off = h->post_off = 0;
	h->head_built = 0;
	h->got_bytes = 0;
	h->paused = 0;
	h->eof = 0;
	if (h->wbuf.max) { /* a pooled connection keeps its buffers */
		buf_reset(&h->wbuf);
		buf_reset(&h->rbuf);
	} else {
		buf_init(&h->wbuf, HC_HEAD_MAX);
		buf_init(&h->rbuf, HC_HEAD_MAX + HC_READ_CHUNK);
	}
}

/* A slot for a new connection: a free one, else the least recently used
 * idle one, closed; NULL when every slot is busy. */
static struct hc *spare_slot(struct hc_ctx *c)
{
	struct hc *lru = c->idle;
	int i;

	for (i = 0; i < c->n; i++)
		if (c->pool[i].state == HC_FREE)
			return &c->pool[i];
	while (lru && lru->idle_next)
		lru = lru->idle_next;
	if (lru)
		release(lru);
	return lru;
}

/* An idle connection to t, checked as usable (see idle_usable). */
static struct hc *idle_take(struct hc_ctx *c, const struct hc_target *t,
			    uint64_t key)
{
	struct hc *h, *next;

	for (h = c->idle; h; h = next) {
		next = h->idle_next;
		if (!same_target(h, t, key))
			continue;
		if (idle_usable(h)) {
			idle_remove(h);
			return h;
		}
		log_debug("upstream %s:%d: an idle connection was closed by "
			  "the server; not reusing it", h->tg.host, h->tg.port);
		release(h);
	}
	return NULL;
}

struct hc *hc_request(struct hc_ctx *c, const struct hc_target *t,
		      const struct hc_request *r, const struct hc_ops *ops,
		      void *owner, const struct hc_timeouts *to)
{
	uint64_t key = target_key(t);
	struct hc *h = idle_take(c, t, key);
	unsigned gen;

	if (h) {
		/* Send right away; the answer is read on the next events, so
		 * the owner is never called back before it has our pointer. */
		c->st.reuses++;
		setup(h, r, ops, owner, to);
		h->reused = 1;
		h->state = HC_SEND;
		loop_timer_set(c->l, &h->t, to->first_byte_ms);
		h->in_start = 1;
		drive(h);
		h->in_start = 0;
		return h;
	}
	if (!(h = spare_slot(c)))
		return NULL;
	gen = h->gen;
	memset(h, 0, sizeof(*h));
	h->gen = gen + 1;
	h->c = c;
	h->tg = *t;
	h->key = key;
	loop_watch_init(&h->w, -1, on_io);
	loop_timer_init(&h->t, on_timer);
	h->dh.slot = -1;
	h->raw_io = (struct tls_io){raw_send, raw_recv, h};
	h->sock_io = (struct tls_io){sock_send, sock_recv, h};
	buf_init(&h->tun, HC_HEAD_MAX + HC_READ_CHUNK);
	setup(h, r, ops, owner, to);
	h->state = HC_RESOLVE;
	h->pending_start = 1;
	loop_timer_set(c->l, &h->t, 0);
	return h;
}

void hc_resume(struct hc *h)
{
	if (!h || h->state != HC_BODY || !h->paused)
		return;
	h->paused = 0;
	loop_timer_set(h->c->l, &h->t, h->to.read_ms);
	drive(h);
}
