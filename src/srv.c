/*
 * srv.c - listeners, accepting, the connection pool, signals (reload and
 * graceful stop) and the main loop.
 *
 * Signals never run logic in the handler: it writes the signal number to a
 * self-pipe that the loop watches, so reload and shutdown happen between
 * two loop iterations, never inside another callback.
 *
 * At the connection cap the listeners are paused (their poll events set to
 * 0): further clients wait in the kernel's backlog while the connections we
 * have keep being served; the first close resumes accepting.
 *
 * A reload builds a new route snapshot (route.h) and makes it current;
 * exchanges under way keep the one they started with.  So does a change
 * of the accounts in auth-dir, or of a model list an upstream gave
 * (mfetch.h): the running config is routed again (rebuild).
 *
 * The server also owns the state of the modules under it, and sets it up,
 * reloads it and frees it: the resolver (struct dns_ctx) and the upstream
 * client (struct hc_ctx: its connection pool and TLS sessions).
 */
#define _GNU_SOURCE
#include "srv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cfg_secret.h"
#include "dns.h"
#include "fmt.h"
#include "hc.h"
#include "log.h"
#include "netaddr.h"
#include "acct.h"
#include "route.h"
#include "tls.h"

static struct srv *the_srv; /* for the signal handler's pipe */

static void log_config(const struct cfg *c);

static void on_signal(int sig)
{
	int e = errno;
	unsigned char b = (unsigned char)sig;
	if (the_srv)
		(void)!write(the_srv->sigpipe[1], &b, 1);
	errno = e;
}

static int listen_on(struct srv *s, int family, const char *host, int port,
		     char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	if (netaddr_parse(host, family, port, &ss, &sl) < 0) {
		fmt_snprintf(err, errlen, "host '%s' is not an IP address (or "
			     "localhost)", host ? host : "");
		return -1;
	}
	/* no host: one IPv6 socket takes IPv4 too */
	fd = netaddr_listen(&ss, sl, host ? -1 : 0, 511);
	if (fd < 0) {
		fmt_snprintf(err, errlen, "cannot listen on %s:%d: %s",
			     host ? host : "*", port, strerror(errno));
		return -1;
	}
	s->listen[s->nlisten].fd = fd;
	s->listen[s->nlisten].slot = -1;
	s->nlisten++;
	return 0;
}

static void set_listening(struct srv *s, int on)
{
	int i;
	for (i = 0; i < s->nlisten; i++)
		loop_mod(&s->loop, &s->listen[i], on ? POLLIN : 0);
	s->paused = !on;
}

/* A slot was freed; a connection became idle or lingering
 * (conn_is_idle): a paused listener may accept again and give that slot
 * to a new client. */
static void conn_released(struct conn_env *e)
{
	struct srv *s = container_of(e, struct srv, env);
	s->nconns--;
	if (s->paused && !s->env.stopping && !loop_timer_armed(&s->accept_retry))
		set_listening(s, 1);
}

static void conn_idle(struct conn_env *e)
{
	struct srv *s = container_of(e, struct srv, env);
	if (s->paused && !s->env.stopping && !loop_timer_armed(&s->accept_retry))
		set_listening(s, 1);
}

static struct conn *free_slot(struct srv *s)
{
	int i;
	for (i = 0; i < s->pool_size; i++)
		if (s->conns[i].state == CONN_FREE)
			return &s->conns[i];
	return NULL;
}

/* At the connection cap, the connection that has waited longest for a
 * request gives its slot to a new client, so idle keep-alive clients
 * cannot lock others out.  NULL when every connection is busy. */
static struct conn *oldest_idle(struct srv *s)
{
	struct conn *old = NULL;
	int i;
	for (i = 0; i < s->pool_size; i++) {
		struct conn *c = &s->conns[i];
		if (c->state != CONN_FREE && conn_is_idle(c) &&
		    (!old || c->idle_at < old->idle_at))
			old = c;
	}
	return old;
}

static void on_accept(struct loop *l, struct loop_watch *w, int revents)
{
	struct srv *s = container_of(l, struct srv, loop);
	(void)revents;

	while (!s->env.stopping) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char peer[64];
		struct conn *c, *evict = NULL;
		int fd, one = 1;

		if (s->nconns >= s->cfg->max_connections ||
		    s->nconns >= s->pool_size) {
			if (!(evict = oldest_idle(s))) {
				set_listening(s, 0);
				return;
			}
		}
		fd = accept4(w->fd, (struct sockaddr *)&ss, &sl,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: back off briefly
				 * instead of spinning on a ready listener. */
				log_warn("accept: %s; pausing 100ms",
					 strerror(errno));
				set_listening(s, 0);
				loop_timer_set(l, &s->accept_retry, 100);
			}
			return;
		}
		if (evict) {
			log_debug("%s: closing an idle connection to make "
				  "room (at max-connections)", evict->peer);
			conn_close_now(evict);
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		netaddr_peer(&ss, peer, sizeof(peer));
		c = free_slot(s);
		s->nconns++;
		conn_start(&s->env, c, fd, peer);
	}
}

static void on_accept_retry(struct loop *l, struct loop_timer *t)
{
	struct srv *s = container_of(t, struct srv, accept_retry);
	(void)l;
	if (!s->env.stopping)
		set_listening(s, 1);
}

/* ---- reload and shutdown ------------------------------------------------- */

/* Make r the running route (exchanges under way keep theirs). */
static void set_route(struct srv *s, struct route *r)
{
	route_unref(s->route);
	s->route = r;
	s->cfg = r->cfg;
	s->env.cfg = s->cfg;
	acct_store_set_cfg(&s->accts, s->cfg);
	mfetch_sync(&s->models, r);
}

/* Watch the config file and auth-dir (again, after a reload). */
static void watch_files(struct srv *s)
{
	watch_clear(&s->watch);
	if (s->cfg->path)
		watch_add(&s->watch, SRV_WATCH_CONFIG, s->cfg->path, 0);
	if (s->cfg->auth_dir && *s->cfg->auth_dir)
		watch_add(&s->watch, SRV_WATCH_AUTH_DIR, s->cfg->auth_dir, 1);
}

/* The running config routed again, with the accounts and the model
 * lists as they are now. */
static void rebuild(struct srv *s, const char *what)
{
	struct route_lists ls = mfetch_lists(&s->models);
	struct route *r = route_rebuild(s->route, &s->accts, &ls,
					s->route->gen + 1);
	if (!r) {
		log_error("%s: out of memory; keeping the running routes",
			  what);
		return;
	}
	set_route(s, r);
}

/* Read auth-dir again; a changed account set gets a new route. */
static void rescan(struct srv *s)
{
	if (!acct_store_scan(&s->accts) &&
	    s->route->acct_gen == s->accts.gen)
		return;
	rebuild(s, "auth-dir");
}

void srv_rescan(struct srv *s)
{
	rescan(s);
}

/* A fetched model list changed what a credential serves (mfetch.h). */
static void lists_changed(struct mfetch *m, void *u)
{
	struct srv *s = u;
	(void)m;
	if (!s->env.stopping)
		rebuild(s, "model lists");
}

static void reload(struct srv *s, const char *why)
{
	struct cfg nc;
	char err[512];
	int dir_changed;

	if (!s->cfg->path) {
		log_warn("%s: running on built-in defaults, no config file "
			 "to re-read", why);
		rescan(s);
		return;
	}
	if (cfg_load(&nc, s->cfg->path, err, sizeof(err)) < 0) {
		log_error("%s: config not reloaded, keeping the running "
			  "one: %s", why, err);
		rescan(s);
		return;
	}
	if (cfg_secret_hash(&nc, err, sizeof(err)) < 0)
		log_warn("%s: [remote-management] secret-key: the plain key "
			 "stays in use, its hash was not written: %s", why,
			 err);
	if (nc.port != s->cfg->port ||
	    !!nc.host != !!s->cfg->host ||
	    (nc.host && strcmp(nc.host, s->cfg->host)))
		log_warn("%s: port/host changes take effect after a "
			 "restart", why);
	if (nc.max_connections > s->pool_size)
		log_warn("%s: max-connections above %d takes effect after "
			 "a restart", why, s->pool_size);
	if (!!nc.ca_file != !!s->cfg->ca_file ||
	    (nc.ca_file && strcmp(nc.ca_file, s->cfg->ca_file)))
		log_warn("%s: ca-file changes take effect after a restart",
			 why);
	dir_changed = !!nc.auth_dir != !!s->cfg->auth_dir ||
		      (nc.auth_dir && strcmp(nc.auth_dir, s->cfg->auth_dir));
	{
		struct route_lists ls = mfetch_lists(&s->models);
		struct route *r = route_build(&nc, &s->accts, &ls,
					      s->route->gen + 1);
		if (!r) {
			log_error("%s: out of memory; keeping the running "
				  "config", why);
			return;
		}
		set_route(s, r);
	}
	if (dir_changed)
		watch_files(s);
	rescan(s);
	log_set_debug(s->cfg->debug);
	dns_reload(&s->dns);
	hc_pool_close_idle(&s->hc);
	log_info("config reloaded from %s (%s)", s->cfg->path, why);
	log_config(s->cfg);
}

/* The config file or auth-dir changed (watch.h). */
static void on_files(struct watch *w, unsigned changed, void *u)
{
	struct srv *s = u;
	(void)w;
	if (s->env.stopping)
		return;
	if (changed & (1u << SRV_WATCH_CONFIG))
		reload(s, "config file changed");
	else if (changed & (1u << SRV_WATCH_AUTH_DIR))
		rescan(s);
}

static void on_grace(struct loop *l, struct loop_timer *t)
{
	struct srv *s = container_of(t, struct srv, grace);
	(void)l;
	log_warn("shutdown: %d connection(s) still busy after "
		 "shutdown-timeout; closing them", s->nconns);
	s->done = 1;
}

static void begin_shutdown(struct srv *s, int sig)
{
	int i;

	if (s->env.stopping) {
		log_warn("second signal: stopping now");
		s->done = 1;
		return;
	}
	s->env.stopping = 1;
	log_info("%s: no longer accepting; finishing %d connection(s)",
		 sig == SIGINT ? "SIGINT" : "SIGTERM", s->nconns);
	for (i = 0; i < s->nlisten; i++) {
		loop_del(&s->loop, &s->listen[i]);
		close(s->listen[i].fd);
	}
	s->nlisten = 0;
	for (i = 0; i < s->pool_size; i++)
		if (s->conns[i].state != CONN_FREE)
			conn_shutdown(&s->conns[i]);
	loop_timer_set(&s->loop, &s->grace, s->cfg->shutdown_timeout_ms);
}

static void on_sigpipe(struct loop *l, struct loop_watch *w, int revents)
{
	struct srv *s = container_of(w, struct srv, sigw);
	unsigned char sig[16];
	ssize_t n, i;
	(void)l;
	(void)revents;

	while ((n = read(w->fd, sig, sizeof(sig))) > 0)
		for (i = 0; i < n; i++) {
			if (sig[i] == SIGHUP)
				reload(s, "SIGHUP");
			else
				begin_shutdown(s, sig[i]);
		}
}

/* ---- life cycle ---------------------------------------------------------- */

int srv_init(struct srv *s, struct cfg *cfg, char *err, size_t errlen)
{
	struct sigaction sa;
	int i, nup;
	const char *host;

	memset(s, 0, sizeof(*s));
	s->route = route_build(cfg, NULL, NULL, 1);
	if (!s->route) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->cfg = s->route->cfg;
	s->sigpipe[0] = s->sigpipe[1] = -1;
	loop_timer_init(&s->accept_retry, on_accept_retry);
	loop_timer_init(&s->grace, on_grace);
	buf_init(&s->scratch, CONN_OUT_MAX);
	dns_init(&s->dns, &s->loop);
	log_set_debug(s->cfg->debug);
	s->env.loop = &s->loop;
	s->env.cfg = s->cfg;
	s->env.released = conn_released;
	s->env.idle = conn_idle;

	s->pool_size = s->cfg->max_connections;
	s->conns = calloc((size_t)s->pool_size, sizeof(*s->conns));
	nup = s->pool_size + UPSTREAM_EXTRA_CONNS;
	/* Watches and timers: clients, upstreams, DNS queries, listeners,
	 * the signal pipe, and the server's own timers (accept retry,
	 * grace, the account tick, two of the watcher, the list fetches),
	 * and the management logins' (mgmt.c). */
	if (!s->conns ||
	    loop_init(&s->loop, s->pool_size + nup + DNS_MAX_QUERIES +
				SRV_MAX_LISTENERS + 2 + SRV_LOGIN_WATCHES,
		      s->pool_size + nup + DNS_MAX_QUERIES + 6 +
			      SRV_LOGIN_TIMERS) < 0 ||
	    hc_pool_init(&s->hc, &s->loop, &s->dns, nup) < 0) {
		fmt_snprintf(err, errlen, "out of memory for %d connections",
			     s->pool_size);
		return -1;
	}
	/* the accounts, the model lists, and the files the accounts and
	 * the config come from */
	acct_store_init(&s->accts, &s->loop, &s->hc, s->cfg);
	mfetch_init(&s->models, &s->loop, &s->hc, lists_changed, s);
	mfetch_sync(&s->models, s->route);
	watch_init(&s->watch, &s->loop, on_files, s);
	watch_files(s);
	rescan(s);
	if (tls_init(s->cfg->ca_file, err, errlen) < 0)
		return -1;
	dns_reload(&s->dns);

	host = s->cfg->host && *s->cfg->host ? s->cfg->host : NULL;
	if (listen_on(s, host ? AF_UNSPEC : AF_INET6, host, s->cfg->port, err,
		      errlen) < 0) {
		if (host || listen_on(s, AF_INET, NULL, s->cfg->port, err,
				      errlen) < 0)
			return -1;
	}
	for (i = 0; i < s->nlisten; i++) {
		s->listen[i].cb = on_accept;
		loop_add(&s->loop, &s->listen[i], POLLIN);
	}

	if (pipe2(s->sigpipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		fmt_snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	loop_watch_init(&s->sigw, s->sigpipe[0], on_sigpipe);
	loop_add(&s->loop, &s->sigw, POLLIN);

	the_srv = s;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

void srv_handle(struct srv *s, int (*head)(struct conn *c),
		void (*request)(struct conn *c),
		void (*error)(struct conn *c, int status, const char *msg))
{
	s->env.head = head;
	s->env.request = request;
	s->env.error = error;
}

/* Debug summary of what a config serves: counts only, never values. */
static void log_config(const struct cfg *c)
{
	log_debug("config: %zu client key(s), %zu Gemini key(s), %zu Claude "
		  "key(s), %zu Codex key(s), %zu OpenAI-compatible "
		  "provider(s), proxy %s, max-body-size %ld, timeouts "
		  "header %dms body %dms idle %dms", c->api_keys.n,
		  c->gl_api_keys.n, c->n_claude_keys, c->n_codex_keys,
		  c->n_compat, c->proxy_url ? "set" : "none", c->max_body_size,
		  c->header_timeout_ms, c->body_timeout_ms, c->idle_timeout_ms);
}

int srv_run(struct srv *s)
{
	log_config(s->cfg);
	log_info("cli-proxy-api listening on %s:%d (%d connections max%s)",
		 s->cfg->host && *s->cfg->host ? s->cfg->host : "*", s->cfg->port,
		 s->cfg->max_connections,
		 s->cfg->api_keys.n ? "" : "; no api-keys: open to every "
					  "client that can reach this port");
	while (!s->done) {
		if (s->env.stopping && s->nconns == 0)
			break;
		if (loop_run_once(&s->loop, -1) < 0) {
			log_error("poll: %s", strerror(errno));
			return 1;
		}
	}
	log_info("stopped");
	return s->exit_code;
}

void srv_free(struct srv *s)
{
	int i;
	for (i = 0; s->conns && i < s->pool_size; i++)
		conn_close_now(&s->conns[i]);
	for (i = 0; i < s->nlisten; i++)
		close(s->listen[i].fd);
	if (s->sigpipe[0] >= 0)
		close(s->sigpipe[0]);
	if (s->sigpipe[1] >= 0)
		close(s->sigpipe[1]);
	the_srv = NULL;
	watch_free(&s->watch);
	route_unref(s->route);
	s->route = NULL;
	mfetch_free(&s->models);
	acct_store_free(&s->accts);
	hc_pool_free(&s->hc);
	dns_free(&s->dns);
	tls_free();
	free(s->conns);
	loop_free(&s->loop);
	buf_free(&s->scratch);
	s->cfg = NULL;
}
