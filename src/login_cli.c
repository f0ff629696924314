/*
 * login_cli.c - the command-line logins (--login, --codex-login, ...):
 * one login (login.c) in a small poll loop of its own, before and
 * instead of the server.
 *
 * The login's address is printed (and opened in a browser when there is
 * one).  Two ways back, both open at once: the provider's redirect to the
 * fixed loopback port (cbsrv.c), and stdin, where a user whose browser
 * runs on another machine pastes the address it was sent to.  Device
 * flows need neither: they poll until the user approves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cbsrv.h"
#include "cfg.h"
#include "dns.h"
#include "fmt.h"
#include "hc.h"
#include "log.h"
#include "login.h"
#include "login_cli.h"
#include "models.h"
#include "prov.h"
#include "tls.h"

extern char **environ;

struct cli {
	struct loop l;
	struct dns_ctx dns;
	struct hc_ctx hc;
	struct login lg;
	struct cbsrv cb;
	struct loop_watch in;
	size_t n;
	char line[8192];
	int listening;
};

static void open_browser(const char *url)
{
	char *argv[3];
	posix_spawn_file_actions_t fa;
	pid_t pid;

	if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY"))
		return;
	argv[0] = "xdg-open";
	argv[1] = (char *)url;
	argv[2] = NULL;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "xdg-open", &fa, NULL, argv, environ) != 0)
		fmt_puts(1, "(no browser could be opened: open the address "
			    "yourself)\n");
	posix_spawn_file_actions_destroy(&fa);
}

static void feed(struct cli *c, const char *s, size_t n, int from_stdin)
{
	struct oauth_reply r;
	char why[160];

	if (oauth_parse_reply(s, n, &r) < 0) {
		if (from_stdin)
			fmt_puts(1, "That is not a sign-in address. Paste the "
				    "whole address from the browser's address "
				    "bar (it holds code= and state=).\n");
		return;
	}
	if (login_feed(&c->lg, &r, why, sizeof(why)) < 0 &&
	    c->lg.status == LOGIN_PENDING)
		fmt_print(1, "Not taken: %s. Paste the whole address from the "
			     "browser's address bar (it holds code= and "
			     "state=).\n", why);
	memset(&r, 0, sizeof(r));
}

static int on_callback(struct cbsrv *cb, const char *q, size_t qn, char *msg,
		       size_t cap)
{
	struct cli *c = cb->user;
	struct oauth_reply r;
	char why[160];

	if (oauth_parse_reply(q, qn, &r) < 0) {
		fmt_snprintf(msg, cap, "The address holds no sign-in reply.");
		return 0;
	}
	if (login_feed(&c->lg, &r, why, sizeof(why)) < 0) {
		fmt_snprintf(msg, cap, "Not accepted: %s.", why);
		return 0;
	}
	if (r.has_error) {
		fmt_snprintf(msg, cap, "The sign-in was refused. You can close "
			     "this window.");
		return 0;
	}
	return 1;
}

static void on_stdin(struct loop *l, struct loop_watch *w, int revents)
{
	struct cli *c = container_of(w, struct cli, in);
	ssize_t r;
	char *nl;
	(void)revents;

	r = read(w->fd, c->line + c->n, sizeof(c->line) - 1 - c->n);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) { /* EOF: only the callback is left */
		loop_del(l, w);
		return;
	}
	c->n += (size_t)r;
	while ((nl = memchr(c->line, '\n', c->n)) != NULL) {
		size_t ln = (size_t)(nl - c->line);
		if (ln && c->lg.status == LOGIN_PENDING)
			feed(c, c->line, ln, 1);
		memmove(c->line, nl + 1, c->n - ln - 1);
		c->n -= ln + 1;
	}
	if (c->n == sizeof(c->line) - 1) /* a line too long: drop it */
		c->n = 0;
}

static void on_url(struct login *lg)
{
	fmt_print(1, "Open this address in a browser and enter the code "
		     "%s:\n%s\n", lg->user_code, lg->url);
}

static void print_models(const struct login *lg)
{
	const struct model_fixed *m =
		models_table(prov_of_acct(lg->acct.ak), lg->acct.plan[0] ? lg->acct.plan
							       : NULL);
	int i;

	fmt_puts(1, "Models:");
	for (i = 0; m && m[i].id; i++)
		fmt_print(1, "%s %s", i ? "," : "", m[i].id);
	fmt_puts(1, "\n");
}

/* Qwen's token names nobody: ask for a name when someone can answer. */
static void ask_alias(struct login *lg)
{
	char line[256], ch;
	size_t n = 0;
	ssize_t r;

	if (!isatty(0))
		return;
	fmt_puts(1, "Signed in.\nName for this Qwen account (e-mail or alias; "
		    "Enter for none): ");
	/* one line, a byte at a time (no stdio): the rest stays unread */
	while ((r = read(0, &ch, 1)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (ch == '\n')
			break;
		if (n < sizeof(line) - 1)
			line[n++] = ch;
	}
	if (r == 0 && n == 0)
		return; /* end of input: no answer */
	line[n] = '\0';
	line[strcspn(line, "\r")] = '\0';
	fmt_snprintf(lg->acct.alias, sizeof(lg->acct.alias), "%.127s", line);
}

int login_cli(const struct cfg *cfg, enum login_kind k,
	      const char *project_id, int no_browser)
{
	struct cli *c = calloc(1, sizeof(*c));
	struct login_env env;
	char err[512];
	int rc = 1, port = login_port(k);

	if (!c) {
		fmt_puts(2, "cli-proxy-api: out of memory\n");
		return 1;
	}
	if (loop_init(&c->l, 64, 64) < 0) {
		fmt_puts(2, "cli-proxy-api: out of memory\n");
		free(c);
		return 1;
	}
	dns_init(&c->dns, &c->l);
	dns_reload(&c->dns);
	if (hc_pool_init(&c->hc, &c->l, &c->dns, 8) < 0 ||
	    tls_init(cfg->ca_file, err, sizeof(err)) < 0) {
		fmt_print(2, "cli-proxy-api: %s\n",
			  err[0] ? err : "out of memory");
		goto out;
	}
	memset(&env, 0, sizeof(env));
	env.l = &c->l;
	env.hc = &c->hc;
	env.cfg = cfg;
	env.on_url = on_url;
	env.before_save = ask_alias;
	env.user = c;
	err[0] = '\0';
	if (login_start(&c->lg, k, &env, project_id) < 0) {
		fmt_print(2, "cli-proxy-api: login failed: %s\n", c->lg.err);
		goto out;
	}
	if (port) {
		fmt_print(1, "Open this address in a browser to sign in "
			     "(%s):\n%s\n", login_title(k), c->lg.url);
		if (cbsrv_open(&c->cb, &c->l, NULL, port, login_path(k),
			       on_callback, c, err, sizeof(err)) < 0) {
			fmt_print(2, "cli-proxy-api: %s: the browser's "
				  "redirect to http://localhost:%d%s cannot "
				  "arrive here. Paste the address the browser "
				  "was sent to below, or sign in through the "
				  "management API of a running server (see "
				  "README, \"Logging in on a router\").\n",
				  err, port, login_path(k));
		}
		fmt_print(1, "Waiting for the browser's redirect to "
			     "http://localhost:%d%s.\nIf the browser runs on "
			     "another machine, its page will not load: copy "
			     "the address from its address bar, paste it here "
			     "and press Enter.\n", port, login_path(k));
		if (!no_browser)
			open_browser(c->lg.url);
		loop_watch_init(&c->in, 0, on_stdin);
		fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
		loop_add(&c->l, &c->in, POLLIN);
	}
	while (c->lg.status == LOGIN_PENDING)
		if (loop_run_once(&c->l, -1) < 0)
			break;
	if (c->in.slot >= 0)
		loop_del(&c->l, &c->in);
	if (port)
		fcntl(0, F_SETFL, fcntl(0, F_GETFL) & ~O_NONBLOCK);
	if (c->lg.status == LOGIN_OK) {
		fmt_print(1, "Saved %s\nAccount: %s %s\n", c->lg.path,
			  acct_kind_name(c->lg.acct.ak),
			  c->lg.acct.email[0] ? c->lg.acct.email
					      : "(no e-mail)");
		print_models(&c->lg);
		rc = 0;
	} else {
		fmt_print(2, "cli-proxy-api: login failed: %s\n",
			  c->lg.err[0] ? c->lg.err : "stopped");
	}
out:
	login_cancel(&c->lg);
	cbsrv_close(&c->cb);
	hc_pool_free(&c->hc);
	dns_free(&c->dns);
	loop_free(&c->l);
	tls_free();
	free(c);
	return rc;
}
