/*
 * main.c - command line, config loading and the serving loop.
 *
 * Flags follow the reference (Go's flag package): one or two dashes,
 * "-flag value" or "-flag=value".  A login flag runs that login
 * (login_cli.c) instead of the server; --import-yaml prints the
 * config.ini of a CLIProxyAPI config.yaml (cfg_import.c) instead.
 *
 * Exit codes: 0 clean stop (a login: an account saved; an import: the
 * INI printed), 1 run-time failure (cannot listen; a login failed; the
 * YAML cannot be read), 2 usage or config error.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "cfg_import.h"
#include "log.h"
#include "api.h"
#include "exch.h"
#include "cfg_secret.h"
#include "fmt.h"
#include "login_cli.h"
#include "mgmt.h"
#include "sizes.h"
#include "srv.h"
#include "version.h"

static void usage(void)
{
	fmt_puts(1,
		"usage: cli-proxy-api [--config PATH]\n"
		"\n"
		"One local endpoint speaking the OpenAI, Claude and Gemini APIs.\n"
		"\n"
		"  --config PATH   config file (default ./config.ini if present,\n"
		"                  else built-in defaults: port 8317)\n"
		"  --host ADDR     listen address instead of the config's host\n"
		"                  (an IP address, localhost, or \"\" for all)\n"
		"  --port N        listen port instead of the config's port\n"
		"  --log-plain     log lines without a timestamp (for logread,\n"
		"                  journald: they add their own)\n"
		"  --import-yaml PATH\n"
		"                  print the config.ini for a CLIProxyAPI\n"
		"                  config.yaml (keys left out: on stderr), exit\n"
		"  --help          this text\n"
		"  --version       print the version\n"
		"\n"
		"Logins (each saves an account into auth-dir, then exits; on a\n"
		"machine without a browser, open the address elsewhere and paste\n"
		"back the address the browser was sent to):\n"
		"  --login               Google account for Gemini CLI\n"
		"                        (--project_id ID picks the project)\n"
		"  --antigravity-login   Google account for Antigravity\n"
		"  --codex-login         ChatGPT account for Codex\n"
		"  --codex-device-login  the same with a device code (no redirect)\n"
		"  --claude-login        Anthropic account for Claude Code\n"
		"  --qwen-login          Qwen Chat account for Qwen Code\n"
		"  --no-browser          print the address, do not open a browser\n"
		"\n"
		"Signals: SIGHUP re-reads the config, SIGTERM/SIGINT stop gracefully.\n");
}

/* --import-yaml: the INI on stdout, what was left out on stderr; 0, or
 * 1 when the file cannot be read or is no YAML config. */
static int import_yaml(const char *path)
{
	struct buf ini, notes;
	int rc;

	buf_init(&ini, 2 * CFG_FILE_MAX);
	buf_init(&notes, CFG_FILE_MAX);
	rc = cfg_import_file(path, &ini, &notes) < 0;
	if (ini.len)
		fmt_write(1, ini.p, ini.len);
	if (notes.len)
		fmt_write(2, notes.p, notes.len);
	buf_free(&ini);
	buf_free(&notes);
	return rc;
}

static enum login_kind login_kind_of(const char *flag)
{
	if (!strcmp(flag, "codex-login"))
		return LOGIN_CODEX;
	if (!strcmp(flag, "codex-device-login"))
		return LOGIN_CODEX_DEVICE;
	if (!strcmp(flag, "claude-login"))
		return LOGIN_CLAUDE;
	if (!strcmp(flag, "qwen-login"))
		return LOGIN_QWEN;
	if (!strcmp(flag, "antigravity-login"))
		return LOGIN_ANTIGRAVITY;
	return LOGIN_GEMINI_CLI;
}

struct opts {
	const char *config;
	const char *import; /* --import-yaml: the YAML to convert */
	const char *login; /* which login flag, or NULL */
	const char *project_id;
	const char *host; /* --host: overrides the config's host */
	int port;         /* --port: overrides its port; 0 = not given */
	int no_browser;
};

static int parse_port(const char *v, int *port)
{
	long n = 0;

	if (!*v || strlen(v) > 5 || v[strspn(v, "0123456789")])
		return -1;
	while (*v)
		n = n * 10 + (*v++ - '0');
	if (n < 1 || n > 65535)
		return -1;
	*port = (int)n;
	return 0;
}

/* Match "-name", "--name" (and "=value" forms when takes_value). */
static int flag_is(const char *arg, const char *name, const char **inline_val)
{
	size_t n = strlen(name);
	if (arg[0] != '-')
		return 0;
	arg += arg[1] == '-' ? 2 : 1;
	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == '\0') {
		*inline_val = NULL;
		return 1;
	}
	if (arg[n] == '=') {
		*inline_val = arg + n + 1;
		return 1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const char *const logins[] = {
		"login", "codex-login", "codex-device-login", "claude-login",
		"qwen-login", "antigravity-login"};
	int i;
	size_t k;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int matched = 0;

		if (flag_is(a, "help", &v) || flag_is(a, "h", &v)) {
			usage();
			exit(0);
		}
		if (flag_is(a, "version", &v)) {
			fmt_print(1, "cli-proxy-api %s\n", CPA_VERSION);
			exit(0);
		}
		if (flag_is(a, "config", &v) || flag_is(a, "project_id", &v) ||
		    flag_is(a, "project-id", &v) || flag_is(a, "host", &v) ||
		    flag_is(a, "port", &v) || flag_is(a, "import-yaml", &v)) {
			char name = a[strspn(a, "-")];
			if (!v) {
				if (i + 1 >= argc) {
					fmt_print(2, "cli-proxy-api: %s needs"
						  " a value\n", a);
					return -1;
				}
				v = argv[++i];
			}
			if (name == 'c')
				o->config = v;
			else if (name == 'h')
				o->host = v;
			else if (name == 'i')
				o->import = v;
			else if (name == 'p' && a[strspn(a, "-") + 1] == 'o') {
				if (parse_port(v, &o->port) < 0) {
					fmt_print(2, "cli-proxy-api: --port "
						  "takes a number from 1 to "
						  "65535\n");
					return -1;
				}
			} else
				o->project_id = v;
			continue;
		}
		if (flag_is(a, "log-plain", &v)) {
			log_set_plain(1);
			continue;
		}
		if (flag_is(a, "no-browser", &v)) {
			o->no_browser = 1;
			continue;
		}
		for (k = 0; k < sizeof(logins) / sizeof(logins[0]); k++)
			if (flag_is(a, logins[k], &v)) {
				o->login = logins[k];
				matched = 1;
			}
		if (matched)
			continue;
		fmt_print(2, "cli-proxy-api: unknown argument '%s' "
			  "(try --help)\n", a);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct cfg cfg;
	struct srv s;
	char err[512] = "";
	int rc;

	memset(&o, 0, sizeof(o));
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	if (o.import && o.login) {
		fmt_puts(2, "cli-proxy-api: --import-yaml goes without a "
			 "login flag\n");
		return 2;
	}
	if (o.import)
		return import_yaml(o.import);
	if (!o.login && (o.no_browser || o.project_id)) {
		/* a login flag forgotten must not start an open server */
		fmt_print(2, "cli-proxy-api: %s goes with a login flag "
			  "(--login, --antigravity-login, --codex-login, "
			  "--codex-device-login, --claude-login, --qwen-login)\n",
			  o.no_browser ? "--no-browser" : "--project_id");
		return 2;
	}
	cfg_set_overrides(o.host, o.port);
	if (!o.config && access("config.ini", F_OK) == 0)
		o.config = "config.ini";
	if (o.config) {
		if (cfg_load(&cfg, o.config, err, sizeof(err)) < 0) {
			fmt_print(2, "cli-proxy-api: %s\n", err);
			return 2;
		}
	} else {
		if (cfg_load_string(&cfg, "", "(defaults)", err,
				    sizeof(err)) < 0) {
			fmt_print(2, "cli-proxy-api: %s\n", err);
			return 2;
		}
		if (!o.login)
			log_info("no config file: running on built-in "
				 "defaults");
	}
	if (o.login) {
		rc = login_cli(&cfg, login_kind_of(o.login), o.project_id,
			       o.no_browser);
		cfg_free(&cfg);
		return rc;
	}

	if (cfg_secret_hash(&cfg, err, sizeof(err)) < 0) {
		log_warn("[remote-management] secret-key: the plain key stays "
			 "in use, its hash was not written: %s", err);
		err[0] = '\0';
	}
	if (srv_init(&s, &cfg, err, sizeof(err)) < 0 || api_attach(&s) < 0) {
		log_error("%s", err[0] ? err : "out of memory");
		srv_free(&s);
		exch_pool_free();
		return 1;
	}
	rc = srv_run(&s);
	mgmt_free();
	srv_free(&s);
	exch_pool_free();
	return rc;
}
