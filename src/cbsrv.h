/*
 * cbsrv.h - the OAuth callback listener: a tiny HTTP/1.x server on a
 * login's fixed port (8085, 1455, 54545, 51121) that takes the browser's
 * redirect ("GET /path?code=..&state=..") and answers a short page.
 *
 * It lives in the same poll loop as everything else, holds at most
 * CBSRV_CONNS connections (each closed after one answer or 10 s), reads
 * only the request line (oauth_request_target), and hands the query to
 * its owner, whose answer picks the page.  By default it binds loopback
 * (127.0.0.1 and ::1), as the redirect always names localhost.
 */
#ifndef CBSRV_H
#define CBSRV_H

#include <stddef.h>

#include "loop.h"

#define CBSRV_CONNS 4
#define CBSRV_IN 4096

struct cbsrv;

/* The owner's answer to a callback query q[0..qn): 1 taken (success
 * page), 0 refused (msg, a short plain sentence, goes on the page). */
typedef int (*cbsrv_fn)(struct cbsrv *c, const char *q, size_t qn,
			char *msg, size_t cap);

struct cbsrv_conn {
	struct loop_watch w;
	struct loop_timer t;
	struct cbsrv *srv;
	size_t n;
	char in[CBSRV_IN];
};

struct cbsrv_listen {
	struct loop_watch w;
	struct cbsrv *srv;
};

struct cbsrv {
	struct loop *l;
	struct cbsrv_listen lw[2];
	int nl;
	int port;
	const char *path;
	cbsrv_fn fn;
	void *user;
	struct cbsrv_conn conns[CBSRV_CONNS];
};

/* Listen on host (NULL or "": loopback, both families) at port for path.
 * 0; -1 with err (a busy port says "port N is in use"). */
int cbsrv_open(struct cbsrv *c, struct loop *l, const char *host, int port,
	       const char *path, cbsrv_fn fn, void *user, char *err,
	       size_t errlen);
/* Close the listener and its connections (safe when not open). */
void cbsrv_close(struct cbsrv *c);
static inline int cbsrv_is_open(const struct cbsrv *c)
{
	return c->nl > 0;
}

#endif
