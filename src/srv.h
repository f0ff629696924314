/*
 * srv.h - the server object: listeners, the connection pool, the running
 * config, signals, and the shared body-memory budget.
 *
 * One struct srv exists per process.  The connection pool is an array
 * sized once from max-connections; slots are reused, and every reuse bumps
 * the slot's generation so a stale reference (a later upstream exchange
 * holding "conn #7, gen 3") can tell its peer is gone.
 */
#ifndef SRV_H
#define SRV_H

#include <stddef.h>

#include "cfg.h"
#include "conn.h"
#include "loop.h"

#define SRV_MAX_LISTENERS 2

struct srv {
	struct loop loop;
	struct cfg cfg;          /* the running config */
	unsigned cfg_gen;        /* bumped on every reload */
	struct loop_watch listen[SRV_MAX_LISTENERS];
	int nlisten;
	int paused;              /* listeners paused at the connection cap */
	struct loop_timer accept_retry; /* after EMFILE/ENFILE */

	struct conn *conns;      /* pool of pool_size slots */
	int pool_size;
	int nconns;              /* slots in use */

	long body_used;          /* bytes of request bodies held right now */

	int sigpipe[2];          /* self-pipe: signal handler -> loop */
	struct loop_watch sigw;
	int stopping;            /* SIGTERM/SIGINT seen */
	struct loop_timer grace;
	int exit_code;
	int done;

	struct buf scratch;      /* response bodies are built here */
};

/* Bind and listen per cfg; err gets a message.  0 ok, -1 failed. */
int srv_init(struct srv *s, struct cfg *cfg, char *err, size_t errlen);
/* Run until stopped; returns the process exit code. */
int srv_run(struct srv *s);
void srv_free(struct srv *s);

/* Connection bookkeeping used by conn.c: a slot was freed; a connection
 * became idle or lingering (conn_is_idle), so a paused listener may accept
 * again and give that slot to a new client. */
void srv_conn_released(struct srv *s);
void srv_conn_idle(struct srv *s);

#endif
