/*
 * acct_file.h - one OAuth auth file of the reference (CLIProxyAPI): read
 * its fields, and write changed fields back keeping every other byte.
 *
 * Pure: no file I/O, no globals, no logging.  The caller reads the file,
 * calls acct_parse, and after a refresh calls acct_patch with the new
 * values and writes the result (atomically, DESIGN.md section 5).
 *
 * The formats (reference/protocol.md 2.1-2.5, providers-2026.md 1.8, 2.3,
 * 3, 4, 7) are flat JSON objects with a "type", except Gemini's, whose
 * tokens sit in a nested "token" object (v6 writes them flat as well):
 *
 *   gemini       {"token":{"access_token","token_type","refresh_token",
 *                 "expiry",...},"project_id","email","auto","checked",
 *                 "type":"gemini"}
 *   codex        {"id_token","access_token","refresh_token","account_id",
 *                 "last_refresh","email","type":"codex","expired"}
 *   claude       {"id_token":"","access_token","refresh_token",
 *                 "last_refresh","email","type":"claude","expired",...}
 *   qwen         {"access_token","refresh_token","last_refresh",
 *                 "resource_url","email","type":"qwen","expired"}
 *   antigravity  {"type":"antigravity","access_token","refresh_token",
 *                 "expires_in","timestamp","expired","email","project_id"}
 *
 * Members are matched by their decoded names; when a name occurs twice in
 * one object the last occurrence counts, as with Go's encoding/json.
 */
#ifndef ACCT_FILE_H
#define ACCT_FILE_H

#include <stddef.h>

#include "buf.h"

enum acct_kind {
	AK_GEMINI_CLI,
	AK_CODEX,
	AK_CLAUDE,
	AK_QWEN,
	AK_ANTIGRAVITY,
	AK__COUNT
};

/* Provider name: "gemini-cli", "codex", "claude", "qwen", "antigravity"
 * ("?" for a value out of range). */
const char *acct_kind_name(enum acct_kind k);
/* The "type" value of the kind's files: "gemini", "codex", ... */
const char *acct_kind_type(enum acct_kind k);

struct acct_fields {
	enum acct_kind kind;     /* from "type" */
	int disabled;            /* "disabled": true */
	/* malloc'd, unescaped, NULL when absent, empty or not a string */
	char *access_token, *refresh_token, *id_token;
	char *email, *project_id, *account_id, *resource_url, *base_url,
		*user_agent, *proxy_url, *plan_type, *client_id,
		*client_secret, *token_uri, *prefix;
	long long expiry;        /* unix seconds, 0 = unknown */
	long long last_refresh;  /* unix seconds, 0 = unknown */
	int refresh_interval_s;  /* per-file refresh interval, 0 = none */
	int nested;              /* access or refresh token read from "token" */
};

/*
 * Read an auth file text[0..len) (not NUL-terminated).  0 ok; -1 with a
 * short reason in err (at most errlen bytes, always terminated): "not
 * valid JSON", "not a JSON object", "no type", "unknown type 'x'", "no
 * refresh_token or access_token", "'email' holds a NUL character", "file
 * too large", "out of memory".  A reason names members, never a value
 * (only a short plain "type" value is quoted), so it never shows a token.
 * On -1 *f holds nothing to free.
 *
 * Where each field comes from:
 *   - access_token, refresh_token, id_token, client_id, client_secret,
 *     token_uri: the top-level member when it is a non-empty string, else
 *     the same member of the "token" object;
 *   - expiry: the first of expired, expire, expires_at, expiresAt, expiry,
 *     expires (top level, then in "token") holding an RFC 3339 string or
 *     a number (unix seconds; milliseconds when over 1e12); antigravity
 *     without one: timestamp (unix ms) + expires_in (s);
 *   - last_refresh: last_refresh (or lastRefresh, last_refreshed_at,
 *     lastRefreshedAt), read like expiry;
 *   - refresh_interval_s: refresh_interval_seconds (or
 *     refreshIntervalSeconds, refresh_interval, refreshInterval): seconds
 *     as a number or a numeric string, or a Go duration string ("90s",
 *     "1h30m"); rounded down, at least 1 when positive;
 *   - codex: email, account_id and plan_type missing from the file are
 *     read from the id_token's JWT payload (claim "email", and
 *     "https://api.openai.com/auth" chatgpt_account_id and
 *     chatgpt_plan_type); a malformed JWT leaves them NULL;
 *   - project_id as written: a Gemini "-all.json" file holds a
 *     comma-joined list.
 * A file needs a type of the five and an access or refresh token.
 */
int acct_parse(const char *text, size_t len, struct acct_fields *f,
	       char *err, size_t errlen);
/* Free the strings (NULL-safe for fields never set) and zero *f. */
void acct_fields_free(struct acct_fields *f);

/*
 * RFC 3339 timestamps: "YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm|-hh:mm)"
 * ('t' or ' ' may stand for 'T', 'z' for 'Z'; the fraction is dropped;
 * seconds 0..59 as Go's time.Parse takes them).  Parse s[0..n) to unix
 * seconds: 0 ok, -1 not such a timestamp.
 */
int acct_time_parse(const char *s, size_t n, long long *out);
/* Format unix seconds t as UTC "2026-12-03T17:21:51Z" (any t). */
void acct_time_format(long long t, char out[32]);

/* One member to write: its name, and its new value as a complete raw
 * JSON value ("\"abc\"", "3600", "true", "{...}"). */
struct acct_update {
	const char *name;
	const char *json;
};

/*
 * Append to out the text of an auth file with each update applied, in
 * order:
 *   - every top-level member of that name gets the new value in place;
 *   - when the file has a "token" object (the last top-level "token",
 *     when it is an object) and the name is not "token", the members of
 *     that name in it get the value too; access_token, refresh_token,
 *     expiry and token_type are added to it when it lacks them;
 *   - a name found nowhere (and not added to "token") is appended as the
 *     last top-level member.
 * Every other byte stays: unknown members, their order, whitespace.  An
 * appended member copies the spacing of the object's last member
 * (newline and indent before it, the bytes around its ':').
 * 0 ok; -1 when text is not a JSON object, is over ACCT_FILE_MAX, or an
 * update has no name or a value that is not one JSON value (out untouched
 * then).  Running out of memory sets out's overflow flag.
 */
int acct_patch(const char *text, size_t len, const struct acct_update *u,
	       size_t nu, struct buf *out);

#endif
