/*
 * login_file.c - the file a login writes (login_file.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "acct.h"
#include "bearssl.h"
#include "fmt.h"
#include "fsx.h"
#include "login_file.h"

const char login_google_scopes[] =
	"https://www.googleapis.com/auth/cloud-platform "
	"https://www.googleapis.com/auth/userinfo.email "
	"https://www.googleapis.com/auth/userinfo.profile";

/* Characters outside [A-Za-z0-9@._+-] become '_'. */
static void name_part(struct buf *b, const char *s)
{
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '@' || c == '.' ||
		      c == '_' || c == '+' || c == '-'))
			c = '_';
		buf_putc(b, c);
	}
}

/* The reference's (HEAD) name: codex-<first 8 hex of SHA-256 of the
 * account id>-<email>-<plan>, so two workspaces of one e-mail do not
 * share a file; without an account id codex-<email>[-<plan>]. */
static void codex_name(const struct login_acct *a, struct buf *name)
{
	static const char hex[] = "0123456789abcdef";
	br_sha256_context h;
	unsigned char d[32];
	int i;

	buf_puts(name, "codex-");
	if (a->account_id[0]) {
		br_sha256_init(&h);
		br_sha256_update(&h, a->account_id, strlen(a->account_id));
		br_sha256_out(&h, d);
		for (i = 0; i < 4; i++) {
			buf_putc(name, hex[d[i] >> 4]);
			buf_putc(name, hex[d[i] & 15]);
		}
		buf_putc(name, '-');
	}
	name_part(name, a->email);
	if (a->plan[0]) {
		char low[sizeof(a->plan)];
		for (i = 0; a->plan[i]; i++)
			low[i] = a->plan[i] >= 'A' && a->plan[i] <= 'Z'
					 ? (char)(a->plan[i] + 32) : a->plan[i];
		low[i] = '\0';
		buf_putc(name, '-');
		name_part(name, low);
	}
}

static void member(struct buf *b, const char *k, const char *v)
{
	if (b->len > 1)
		buf_puts(b, ",\n  ");
	else
		buf_puts(b, "\n  ");
	buf_json_cstr(b, k);
	buf_puts(b, ": ");
	buf_json_cstr(b, v ? v : "");
}

static void member_raw(struct buf *b, const char *k, const char *raw)
{
	buf_puts(b, ",\n  ");
	buf_json_cstr(b, k);
	buf_puts(b, ": ");
	buf_puts(b, raw);
}

/* mkdir -p dir (mode 0700 for what it creates). */
static int make_dir(const char *dir)
{
	char p[4096];
	size_t i, n = strlen(dir);
	if (n == 0 || n >= sizeof(p))
		return -1;
	memcpy(p, dir, n + 1);
	for (i = 1; i <= n; i++)
		if (p[i] == '/' || p[i] == '\0') {
			char c = p[i];
			p[i] = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST)
				return -1;
			p[i] = c;
		}
	return 0;
}

/* "a b c" as "a", "b", "c" (JSON strings). */
static void scope_list(struct buf *b, const char *s)
{
	const char *sp;
	int first = 1;
	while (*s) {
		sp = strchr(s, ' ');
		if (!first)
			buf_puts(b, ", ");
		buf_json_str(b, s, sp ? (size_t)(sp - s) : strlen(s));
		first = 0;
		if (!sp)
			break;
		s = sp + 1;
	}
}

int login_file_write(const struct login_acct *a, const char *dir,
		     const char *token_uri, char *path, size_t pathcap,
		     char *err, size_t cap)
{
	time_t now = time(NULL);
	char exp[32], last[32], num[32];
	struct buf name, b;
	const char *type = acct_kind_type(a->ak);
	int rc, ok = -1;

	acct_time_format((long long)now + a->expires_in, exp);
	acct_time_format((long long)now, last);
	buf_init(&name, 1024);
	buf_init(&b, 64 * 1024);
	buf_putc(&b, '{');
	member(&b, "type", type);
	switch (a->ak) {
	case AK_GEMINI_CLI:
		name_part(&name, a->email);
		buf_putc(&name, '-');
		name_part(&name, a->project);
		member(&b, "email", a->email);
		member(&b, "project_id", a->project);
		member_raw(&b, "auto", a->gemini_auto ? "true" : "false");
		member_raw(&b, "checked", a->checked ? "true" : "false");
		buf_puts(&b, ",\n  \"token\": {\n    \"access_token\": ");
		buf_json_cstr(&b, a->access);
		buf_puts(&b, ",\n    \"refresh_token\": ");
		buf_json_cstr(&b, a->refresh ? a->refresh : "");
		buf_puts(&b, ",\n    \"token_type\": \"Bearer\",\n"
			     "    \"expiry\": ");
		buf_json_cstr(&b, exp);
		buf_puts(&b, ",\n    \"client_id\": ");
		buf_json_cstr(&b, acct_client_id(AK_GEMINI_CLI));
		buf_puts(&b, ",\n    \"client_secret\": ");
		buf_json_cstr(&b, acct_client_secret(AK_GEMINI_CLI));
		buf_puts(&b, ",\n    \"token_uri\": ");
		buf_json_cstr(&b, token_uri);
		buf_puts(&b, ",\n    \"scopes\": [");
		scope_list(&b, login_google_scopes);
		buf_puts(&b, "]\n  }");
		break;
	case AK_ANTIGRAVITY:
		buf_puts(&name, "antigravity-");
		name_part(&name, a->email);
		member(&b, "access_token", a->access);
		member(&b, "refresh_token", a->refresh);
		fmt_snprintf(num, sizeof(num), "%ld", a->expires_in);
		member_raw(&b, "expires_in", num);
		fmt_snprintf(num, sizeof(num), "%lld", (long long)now * 1000);
		member_raw(&b, "timestamp", num);
		member(&b, "expired", exp);
		member(&b, "email", a->email);
		member(&b, "project_id", a->project);
		break;
	case AK_CODEX:
		codex_name(a, &name);
		member(&b, "id_token", a->id_token);
		member(&b, "access_token", a->access);
		member(&b, "refresh_token", a->refresh);
		member(&b, "account_id", a->account_id);
		member(&b, "email", a->email);
		member(&b, "last_refresh", last);
		member(&b, "expired", exp);
		break;
	case AK_CLAUDE:
		buf_puts(&name, "claude-");
		name_part(&name, a->email);
		member(&b, "id_token", "");
		member(&b, "access_token", a->access);
		member(&b, "refresh_token", a->refresh);
		member(&b, "email", a->email);
		member(&b, "account_uuid", a->account_uuid);
		member(&b, "organization_uuid", a->org_uuid);
		member(&b, "organization_name", a->org_name);
		member(&b, "last_refresh", last);
		member(&b, "expired", exp);
		break;
	case AK_QWEN:
		buf_puts(&name, "qwen-");
		if (a->alias[0]) {
			name_part(&name, a->alias);
		} else {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			buf_printf(&name, "%lld", (long long)ts.tv_sec * 1000 +
						  ts.tv_nsec / 1000000);
		}
		member(&b, "access_token", a->access);
		member(&b, "refresh_token", a->refresh);
		member(&b, "resource_url", a->resource_url);
		member(&b, "email", a->alias);
		member(&b, "last_refresh", last);
		member(&b, "expired", exp);
		break;
	default:
		break;
	}
	buf_puts(&b, "\n}\n");
	buf_puts(&name, ".json");
	buf_putc(&name, '\0');
	rc = !b.overflow && !name.overflow && dir &&
	     (size_t)fmt_snprintf(path, pathcap, "%s/%s", dir, name.p) < pathcap;
	if (!rc) {
		fmt_snprintf(err, cap, "the account's file name or contents are "
			     "too long");
	} else if (make_dir(dir) < 0) {
		fmt_snprintf(err, cap, "cannot create auth-dir %s: %s",
			     dir, strerror(errno));
	} else if (fsx_write_atomic(path, b.p, b.len, 0600) < 0) {
		fmt_snprintf(err, cap, "cannot write %s: %s", path,
			     strerror(errno));
	} else {
		ok = 0;
	}
	if (b.p)
		memset(b.p, 0, b.cap);
	buf_free(&b);
	buf_free(&name);
	return ok;
}

