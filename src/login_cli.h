/*
 * login_cli.h - the command-line logins (login_cli.c).
 */
#ifndef LOGIN_CLI_H
#define LOGIN_CLI_H

#include "login.h"

struct cfg;

/* Run login k to its end: 0 when an account was saved, 1 when not (the
 * reason is on stderr).  project_id: --project_id (Gemini CLI), or NULL;
 * no_browser: print the address only. */
int login_cli(const struct cfg *cfg, enum login_kind k,
	      const char *project_id, int no_browser);

#endif
