/*
 * login_file.h - the file a login writes: the account it learned, in the
 * reference's name and members for its kind (acct_file.h reads them
 * back), atomically with mode 0600 into auth-dir, made when missing.
 */
#ifndef LOGIN_FILE_H
#define LOGIN_FILE_H

#include <stddef.h>

#include "acct_file.h"

/* What a login learned of the account. */
struct login_acct {
	enum acct_kind ak;
	char *access, *refresh, *id_token, *resource_url; /* malloc'd */
	long expires_in;
	char email[256], account_id[128], plan[64];
	char account_uuid[64], org_uuid[64], org_name[256];
	char project[256];
	int gemini_auto;             /* no --project_id: Google chose */
	int checked;                 /* the project's API is on */
	char alias[128];             /* Qwen: name for the file, "" = time */
};

/* Gemini CLI's scopes, space-separated (its authorize URL; its file). */
extern const char login_google_scopes[];

/* Write a into directory dir (token_uri: the Google token URL the file
 * names); the file's path in path.  0, or -1 with err (never a token). */
int login_file_write(const struct login_acct *a, const char *dir,
		     const char *token_uri, char *path, size_t pathcap,
		     char *err, size_t cap);

#endif
