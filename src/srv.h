/*
 * srv.h - the server object: listeners, the connection pool, the running
 * config, signals, the shared body-memory budget, and the state of the
 * modules under it (the resolver, the upstream client).
 *
 * One struct srv exists per process.  The connection pool is an array
 * sized once from max-connections; slots are reused, and every reuse bumps
 * the slot's generation.  The connections see the server only through
 * its struct conn_env (loop, config, body budget, request handler), so
 * conn does not depend on srv; whoever answers requests (api, set up by
 * main) is injected with srv_handle(), so srv depends on neither api nor
 * exch.  Module dependencies run one way: main -> api -> exch -> srv ->
 * conn.
 */
#ifndef SRV_H
#define SRV_H

#include <stddef.h>

#include "acct.h"
#include "cfg.h"
#include "conn.h"
#include "dns.h"
#include "hc.h"
#include "loop.h"
#include "mfetch.h"
#include "watch.h"

#define SRV_MAX_LISTENERS 2
/* Room in the loop for the management logins (mgmt.c): the callback
 * listeners (two per login kind) and their connections (cbsrv.h), the
 * timers of those connections and of the logins. */
#define SRV_LOGIN_WATCHES (6 * 2 + 6 * 4)
#define SRV_LOGIN_TIMERS (6 * 4 + 8 * 2)

struct srv {
	struct loop loop;
	struct route *route;     /* the running config and its routing:
				    replaced (not changed) on reload; an
				    exchange keeps the one it started with */
	const struct cfg *cfg;   /* route->cfg */
	struct loop_watch listen[SRV_MAX_LISTENERS];
	int nlisten;
	int paused;              /* listeners paused at the connection cap */
	struct loop_timer accept_retry; /* after EMFILE/ENFILE */

	struct conn_env env;     /* what connections see of the server;
				    env.body_used is the max-body-total
				    budget in use, env.stopping is set
				    once SIGTERM/SIGINT was seen */
	struct conn *conns;      /* pool of pool_size slots */
	int pool_size;
	int nconns;              /* slots in use */

	int sigpipe[2];          /* self-pipe: signal handler -> loop */
	struct loop_watch sigw;
	struct loop_timer grace;
	int exit_code;
	int done;

	struct buf scratch;      /* response bodies are built here */

	struct dns_ctx dns;      /* the resolver */
	struct hc_ctx hc;        /* upstream connections, TLS sessions */
	struct acct_store accts; /* the accounts of auth-dir */
	struct mfetch models;    /* the model lists the upstreams gave */
	struct watch watch;      /* the config file and auth-dir */
};

/* Watched items (watch.h ids). */
enum { SRV_WATCH_CONFIG, SRV_WATCH_AUTH_DIR };

/* Bind and listen per cfg; err gets a message.  0 ok, -1 failed. */
int srv_init(struct srv *s, struct cfg *cfg, char *err, size_t errlen);
/* Run until stopped; returns the process exit code. */
int srv_run(struct srv *s);
void srv_free(struct srv *s);

/* Who answers requests (see struct conn_env for the three calls). */
void srv_handle(struct srv *s, int (*head)(struct conn *c),
		void (*request)(struct conn *c),
		void (*error)(struct conn *c, int status, const char *msg));

/* Read auth-dir now (an account was just added) and route to what
 * changed. */
void srv_rescan(struct srv *s);

/* The server a connection belongs to. */
static inline struct srv *srv_of(const struct conn *c)
{
	return container_of(c->env, struct srv, env);
}

#endif
