/*
 * cbsrv.c - the OAuth callback listener (cbsrv.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cbsrv.h"
#include "fmt.h"
#include "netaddr.h"
#include "oauth.h"

#define CONN_MS 10000

static int bind_one(const char *host, int port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	if (netaddr_parse(host, AF_UNSPEC, port, &ss, &sl) < 0) {
		fmt_snprintf(err, errlen, "callback-host '%s' is not an IP address "
			     "(or localhost)", host);
		return -1;
	}
	fd = netaddr_listen(&ss, sl, 1, 8);
	if (fd < 0) {
		if (errno == EADDRINUSE)
			fmt_snprintf(err, errlen, "port %d is in use", port);
		else
			fmt_snprintf(err, errlen, "cannot listen on %s port %d: %s",
				     host, port, strerror(errno));
	}
	return fd;
}

static void conn_end(struct cbsrv_conn *k)
{
	struct loop *l = k->srv->l;
	loop_timer_cancel(l, &k->t);
	loop_close(l, &k->w);
	k->n = 0;
}

static void reply(struct cbsrv_conn *k, int status, const char *title,
		  const char *msg)
{
	char page[1024], out[1400];
	int pn, on;
	const char *reason = status == 200 ? "OK"
			     : status == 404 ? "Not Found" : "Bad Request";

	pn = fmt_snprintf(page, sizeof(page),
			  "<!doctype html><html><head><meta charset=\"utf-8\">"
			  "<title>cli-proxy-api</title></head><body>"
			  "<h1>%s</h1><p>%s</p></body></html>\n", title, msg);
	if (pn < 0 || (size_t)pn >= sizeof(page))
		pn = 0;
	on = fmt_snprintf(out, sizeof(out),
			  "HTTP/1.1 %d %s\r\nContent-Type: text/html; "
			  "charset=utf-8\r\nContent-Length: %d\r\n"
			  "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
			  "%.*s", status, reason, pn, pn, page);
	if (on > 0 && (size_t)on < sizeof(out)) {
		ssize_t w = write(k->w.fd, out, (size_t)on);
		(void)w; /* a short page on a fresh socket; best effort */
	}
	shutdown(k->w.fd, SHUT_WR);
	conn_end(k);
}

static void on_read(struct loop *l, struct loop_watch *w, int revents)
{
	struct cbsrv_conn *k = container_of(w, struct cbsrv_conn, w);
	struct cbsrv *c = k->srv;
	const char *t, *q;
	size_t tn, qn;
	char msg[256];
	ssize_t r;
	int rc;
	(void)l;
	(void)revents;

	r = read(w->fd, k->in + k->n, sizeof(k->in) - k->n);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		conn_end(k);
		return;
	}
	k->n += (size_t)r;
	rc = oauth_request_target(k->in, k->n, &t, &tn);
	if (rc == 1 && k->n < sizeof(k->in))
		return;
	if (rc != 0) {
		reply(k, 400, "Bad request", "This port only takes the "
		      "sign-in's redirect.");
		return;
	}
	if (!oauth_target_is(t, tn, c->path, &q, &qn)) {
		reply(k, 404, "Not found", "This port only takes the "
		      "sign-in's redirect.");
		return;
	}
	msg[0] = '\0';
	if (c->fn(c, q, qn, msg, sizeof(msg)))
		reply(k, 200, "Signed in", msg[0] ? msg :
		      "cli-proxy-api has the sign-in. You can close this "
		      "window.");
	else
		reply(k, 400, "Sign-in not completed", msg[0] ? msg :
		      "The reply was not accepted.");
}

static void on_timeout(struct loop *l, struct loop_timer *t)
{
	struct cbsrv_conn *k = container_of(t, struct cbsrv_conn, t);
	(void)l;
	conn_end(k);
}

static void on_accept(struct loop *l, struct loop_watch *w, int revents)
{
	struct cbsrv *c = container_of(w, struct cbsrv_listen, w)->srv;
	struct cbsrv_conn *k = NULL;
	int fd, i;
	(void)revents;

	fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < CBSRV_CONNS && !k; i++)
		if (c->conns[i].w.fd < 0)
			k = &c->conns[i];
	if (!k) { /* busy: the browser retries */
		close(fd);
		return;
	}
	loop_watch_init(&k->w, fd, on_read);
	k->n = 0;
	if (loop_add(l, &k->w, POLLIN) < 0) {
		close(fd);
		k->w.fd = -1;
		return;
	}
	loop_timer_set(l, &k->t, CONN_MS);
}

int cbsrv_open(struct cbsrv *c, struct loop *l, const char *host, int port,
	       const char *path, cbsrv_fn fn, void *user, char *err,
	       size_t errlen)
{
	const char *hosts[2];
	int nh = 0, i, fd;
	char e2[160];

	memset(c, 0, sizeof(*c));
	c->l = l;
	c->port = port;
	c->path = path;
	c->fn = fn;
	c->user = user;
	for (i = 0; i < CBSRV_CONNS; i++) {
		c->conns[i].srv = c;
		c->conns[i].w.fd = -1;
		loop_timer_init(&c->conns[i].t, on_timeout);
	}
	if (!host || !*host || !strcmp(host, "localhost")) {
		hosts[nh++] = "127.0.0.1";
		hosts[nh++] = "::1";
	} else {
		hosts[nh++] = host;
	}
	for (i = 0; i < nh; i++) {
		fd = bind_one(hosts[i], port, i ? e2 : err,
			      i ? sizeof(e2) : errlen);
		if (fd < 0) {
			if (i == 0) {
				cbsrv_close(c);
				return -1;
			}
			continue; /* no IPv6 loopback: 127.0.0.1 does */
		}
		c->lw[c->nl].srv = c;
		loop_watch_init(&c->lw[c->nl].w, fd, on_accept);
		if (loop_add(l, &c->lw[c->nl].w, POLLIN) < 0) {
			close(fd);
			fmt_snprintf(err, errlen, "no room for another listener");
			cbsrv_close(c);
			return -1;
		}
		c->nl++;
	}
	return 0;
}

void cbsrv_close(struct cbsrv *c)
{
	int i;
	if (!c->l)
		return;
	for (i = 0; i < c->nl; i++)
		loop_close(c->l, &c->lw[i].w);
	c->nl = 0;
	for (i = 0; i < CBSRV_CONNS; i++)
		if (c->conns[i].w.fd >= 0)
			conn_end(&c->conns[i]);
}
