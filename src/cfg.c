/*
 * cfg.c - config.ini loader on top of inih.
 *
 * Design: inih calls handler() once per "key = value" (and, built with
 * INI_CALL_HANDLER_ON_NEW_SECTION, once per section header).  A section
 * header of a list-of-objects section ([claude-api-key], [codex-api-key],
 * [openai-compatibility]) appends a fresh entry; the keys that follow fill
 * the last entry.  Every key is described by a table (name, type, offset
 * into struct cfg or into the entry), so adding a key is one line; only
 * [endpoints], one URL per enum cfg_endpoint, and [upstream-headers], one
 * list of header lines per enum cfg_upstream, are matched by a loop.  The
 * first error stops the parse and is reported as "file:line: message".
 * Values of keys that may hold secrets are never echoed in messages.
 */
#define _POSIX_C_SOURCE 200809L
#include "cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"
#include "ini.h"
#include "sizes.h"

static const char *const ep_names[EP__COUNT] = {
	[EP_GENERATIVE_LANGUAGE] = "generative-language",
	[EP_GEMINI_CLI] = "gemini-cli",
	[EP_CLAUDE] = "claude",
	[EP_CODEX] = "codex",
	[EP_QWEN] = "qwen",
	[EP_GOOGLE_AUTH] = "google-auth",
	[EP_GOOGLE_TOKEN] = "google-token",
	[EP_GOOGLE_USERINFO] = "google-userinfo",
	[EP_GOOGLE_CLOUD_RESOURCE_MANAGER] = "google-cloud-resource-manager",
	[EP_OPENAI_AUTH] = "openai-auth",
	[EP_CLAUDE_AUTH] = "claude-auth",
	[EP_CLAUDE_TOKEN] = "claude-token",
	[EP_QWEN_AUTH] = "qwen-auth",
	[EP_ANTIGRAVITY] = "antigravity",
	[EP_ANTIGRAVITY_FALLBACK] = "antigravity-fallback",
	[EP_GOOGLE_SERVICE_USAGE] = "google-service-usage",
};

static const char *const ep_defaults[EP__COUNT] = {
	[EP_GENERATIVE_LANGUAGE] = "https://generativelanguage.googleapis.com",
	[EP_GEMINI_CLI] = "https://cloudcode-pa.googleapis.com",
	[EP_CLAUDE] = "https://api.anthropic.com",
	[EP_CODEX] = "https://chatgpt.com/backend-api/codex",
	[EP_QWEN] = "https://portal.qwen.ai/v1",
	[EP_GOOGLE_AUTH] = "https://accounts.google.com/o/oauth2/auth",
	[EP_GOOGLE_TOKEN] = "https://oauth2.googleapis.com/token",
	[EP_GOOGLE_USERINFO] = "https://www.googleapis.com/oauth2/v1/userinfo",
	[EP_GOOGLE_CLOUD_RESOURCE_MANAGER] =
		"https://cloudresourcemanager.googleapis.com/v1/projects",
	[EP_OPENAI_AUTH] = "https://auth.openai.com",
	[EP_CLAUDE_AUTH] = "https://claude.ai/oauth/authorize",
	/* console.anthropic.com answers non-browsers with a Cloudflare
	 * challenge now */
	[EP_CLAUDE_TOKEN] = "https://platform.claude.com/v1/oauth/token",
	[EP_QWEN_AUTH] = "https://chat.qwen.ai/api/v1/oauth2",
	[EP_ANTIGRAVITY] = "https://daily-cloudcode-pa.googleapis.com",
	[EP_ANTIGRAVITY_FALLBACK] = "https://cloudcode-pa.googleapis.com",
	[EP_GOOGLE_SERVICE_USAGE] = "https://serviceusage.googleapis.com",
};

const char *cfg_endpoint_name(enum cfg_endpoint e)
{
	return ep_names[e];
}

static const char *const uh_names[UH__COUNT] = {
	[UH_GEMINI] = "gemini",
	[UH_CLAUDE] = "claude",
	[UH_CODEX] = "codex",
	[UH_GEMINI_CLI] = "gemini-cli",
	[UH_ANTIGRAVITY] = "antigravity",
	[UH_CODEX_LOGIN] = "codex-login",
	[UH_CLAUDE_LOGIN] = "claude-login",
	[UH_QWEN] = "qwen",
};

/* ---- value types --------------------------------------------------------- */

enum vtype {
	V_INT,      /* int, range checked */
	V_BOOL,
	V_SIZE,     /* long bytes, k/m/g suffix */
	V_MS,       /* int milliseconds: 10s, 500ms, 2m, 1h, bare = seconds */
	V_STR,      /* char *, empty = NULL */
	V_NAME,     /* V_STR naming a struct cfg_compat; its line is kept */
	V_PATH,     /* char *, ~ expanded */
	V_URL,      /* char *, http(s)://, never echoed (may hold user:pass) */
	V_PROXY,    /* char *, http(s)://, socks5(h)://, never echoed */
	V_SECRET,   /* char *, never echoed */
	V_KEYS,     /* struct cfg_strlist of secrets, one per line, no ',' */
	V_HEADERS,  /* struct cfg_strlist of "Name: value", never echoed */
	V_MODELS,   /* struct cfg_compat's models: upstream-name [= alias] */
};

/*
 * One key of a table.  off is an offset into the struct the table fills:
 * struct cfg for keys[], the current entry for entry_keys[] and
 * compat_keys[].  For the string types, min = 1 means "may not be empty".
 */
struct key {
	const char *section; /* "" = top level (or the entry itself) */
	const char *name;
	enum vtype type;
	size_t off;
	long min, max;       /* V_INT / V_SIZE / V_MS bounds */
};

/* The most max-body-total may be: 4 GiB, or 1 GiB (max-body-size's cap)
 * where a long is 32 bits (ARM, MIPS): 1L << 32 does not fit there, the
 * body budget plus one more body must fit a long, and a 32-bit process has
 * only 2 to 3 GiB of address space in all. */
#if LONG_MAX > 0x7fffffff
#define BODY_TOTAL_CAP (1L << 32)
#else
#define BODY_TOTAL_CAP (1L << 30)
#endif

#define O(f) offsetof(struct cfg, f)
static const struct key keys[] = {
	{"", "port", V_INT, O(port), 1, 65535},
	{"", "host", V_STR, O(host), 0, 0},
	{"", "auth-dir", V_PATH, O(auth_dir), 0, 0},
	{"", "debug", V_BOOL, O(debug), 0, 0},
	{"", "access-log", V_BOOL, O(access_log), 0, 0},
	{"", "request-log", V_BOOL, O(request_log), 0, 0},
	{"", "proxy-url", V_PROXY, O(proxy_url), 0, 0},
	{"", "request-retry", V_INT, O(request_retry), 0, 100},
	{"", "ca-file", V_PATH, O(ca_file), 0, 0},
	{"", "force-gpt-5-codex", V_BOOL, O(force_gpt_5_codex), 0, 0},
	{"", "allow-localhost-unauthenticated", V_BOOL,
	 O(allow_localhost_unauthenticated), 0, 0},
	{"", "api-keys", V_KEYS, O(api_keys), 0, 0},
	{"", "generative-language-api-key", V_KEYS, O(gl_api_keys), 0, 0},
	{"", "max-body-size", V_SIZE, O(max_body_size), 1024, 1L << 30},
	{"", "max-body-total", V_SIZE, O(max_body_total), 1024,
	 BODY_TOTAL_CAP},
	{"", "max-connections", V_INT, O(max_connections), 1,
	 MAX_CONNECTIONS_CAP},
	{"", "header-timeout", V_MS, O(header_timeout_ms), 100, 3600000},
	{"", "body-timeout", V_MS, O(body_timeout_ms), 100, 3600000},
	{"", "idle-timeout", V_MS, O(idle_timeout_ms), 100, 86400000},
	{"", "write-timeout", V_MS, O(write_timeout_ms), 100, 3600000},
	{"", "shutdown-timeout", V_MS, O(shutdown_timeout_ms), 0, 3600000},
	{"", "upstream-connect-timeout", V_MS, O(upstream_connect_timeout_ms),
	 100, 600000},
	{"", "upstream-first-byte-timeout", V_MS,
	 O(upstream_first_byte_timeout_ms), 100, 3600000},
	{"", "upstream-read-timeout", V_MS, O(upstream_read_timeout_ms), 100,
	 3600000},
	{"", "upstream-keepalive-timeout", V_MS,
	 O(upstream_keepalive_timeout_ms), 0, 3600000},
	{"", "login-timeout", V_MS, O(login_timeout_ms), 1000, 3600000},
	{"", "model-list-refresh", V_MS, O(model_list_refresh_ms), 0,
	 7 * 86400000},
	{"remote-management", "allow-remote", V_BOOL, O(rm_allow_remote), 0, 0},
	{"remote-management", "secret-key", V_SECRET, O(rm_secret_key), 0, 0},
	{"remote-management", "callback-host", V_STR, O(rm_callback_host), 0,
	 0},
	{"quota-exceeded", "switch-project", V_BOOL, O(qe_switch_project), 0, 0},
	{"quota-exceeded", "switch-preview-model", V_BOOL,
	 O(qe_switch_preview_model), 0, 0},
	{"streaming", "keepalive-seconds", V_INT, O(stream_keepalive_s), 0,
	 3600},
};
#undef O

/* [claude-api-key] and [codex-api-key]: one struct cfg_key_entry each.
 * header/headers and model/models: the INI spelling and the YAML one. */
#define E(f) offsetof(struct cfg_key_entry, f)
static const struct key entry_keys[] = {
	{"", "api-key", V_SECRET, E(api_key), 1, 0},
	{"", "base-url", V_URL, E(base_url), 0, 0},
	{"", "header", V_HEADERS, E(headers), 0, 0},
	{"", "headers", V_HEADERS, E(headers), 0, 0},
	{"", "proxy-url", V_PROXY, E(proxy_url), 0, 0},
};
#undef E

/* [openai-compatibility]: one struct cfg_compat each. */
#define X(f) offsetof(struct cfg_compat, f)
static const struct key compat_keys[] = {
	{"", "name", V_NAME, X(name), 0, 0},
	{"", "base-url", V_URL, X(base_url), 1, 0},
	{"", "api-keys", V_KEYS, X(api_keys), 0, 0},
	{"", "model", V_MODELS, 0, 0, 0},
	{"", "models", V_MODELS, 0, 0, 0},
	{"", "header", V_HEADERS, X(headers), 0, 0},
	{"", "headers", V_HEADERS, X(headers), 0, 0},
	{"", "proxy-url", V_PROXY, X(proxy_url), 0, 0},
};
#undef X

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_OF(a, b) ((a) > (b) ? (a) : (b))

/* Sections whose every occurrence is a new list entry. */
enum { S_TOP, S_MAP, S_CLAUDE, S_CODEX, S_COMPAT, S_ENDPOINTS,
       S_UPSTREAM_HEADERS };

struct parse {
	struct cfg *c;
	const char *name;
	char *err;
	size_t errlen;
	int failed;
	int kind;          /* current section kind */
	int section_line;
	char section[64];
	/* Where each scalar key was set, 0 = not yet: keys[] for the whole
	 * file, the current entry's table (cleared per section), [endpoints]. */
	int top_line[N_OF(keys)];
	int entry_line[MAX_OF(N_OF(entry_keys), N_OF(compat_keys))];
	int ep_line[EP__COUNT];
	/* [upstream-headers]: the line of each header of up_headers[u] */
	int *uh_line[UH__COUNT];
};

static int fail(struct parse *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (p->failed)
		return 0;
	p->failed = 1;
	n = fmt_snprintf(p->err, p->errlen, "%s:%d: ", p->name, line);
	if (n < 0 || (size_t)n >= p->errlen)
		return 0;
	va_start(ap, fmt);
	fmt_vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return 0;
}

char *cfg_expand_home(const char *p)
{
	const char *home;
	char *r;
	size_t hl;

	if (p[0] != '~' || (p[1] != '\0' && p[1] != '/'))
		return strdup(p);
	home = getenv("HOME");
	if (!home || !*home)
		home = "/";
	hl = strlen(home);
	while (hl > 1 && home[hl - 1] == '/')
		hl--;
	r = malloc(hl + strlen(p));
	if (!r)
		return NULL;
	memcpy(r, home, hl);
	strcpy(r + hl, p + 1);
	return r;
}

static int parse_bool(const char *v, int *out)
{
	static const char *t[] = {"true", "yes", "on", "1"};
	static const char *f[] = {"false", "no", "off", "0"};
	size_t i;
	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, t[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, f[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

/* Whole decimal number followed by an optional unit from units[]. */
static int parse_scaled(const char *v, const char *const *units,
			const long long *mult, long long def_mult,
			long long *out)
{
	char *end;
	long long n;
	size_t i;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = fmt_strtoll(v, &end);
	if (errno || n < 0)
		return -1;
	while (*end == ' ')
		end++;
	if (*end == '\0') {
		if (def_mult && n > LLONG_MAX / def_mult)
			return -1;
		*out = n * def_mult;
		return 0;
	}
	for (i = 0; units[i]; i++) {
		if (strcasecmp(end, units[i]) == 0) {
			if (n > LLONG_MAX / mult[i])
				return -1;
			*out = n * mult[i];
			return 0;
		}
	}
	return -1;
}

static int parse_size(const char *v, long long *out)
{
	static const char *const u[] = {"b", "k", "kb", "m", "mb", "g", "gb",
					NULL};
	static const long long m[] = {1, 1024, 1024, 1048576, 1048576,
				      1073741824, 1073741824};
	return parse_scaled(v, u, m, 1, out);
}

static int parse_ms(const char *v, long long *out)
{
	static const char *const u[] = {"ms", "s", "m", "h", NULL};
	static const long long m[] = {1, 1000, 60000, 3600000};
	return parse_scaled(v, u, m, 1000, out);
}

static int has_scheme(const char *v, const char *const *schemes)
{
	size_t i;
	for (i = 0; schemes[i]; i++) {
		size_t n = strlen(schemes[i]);
		if (strncasecmp(v, schemes[i], n) == 0 && v[n] != '\0')
			return 1;
	}
	return 0;
}

static int list_add(struct cfg_strlist *l, const char *v)
{
	char **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	l->v = nv;
	if (!(l->v[l->n] = strdup(v)))
		return -1;
	l->n++;
	return 0;
}

static void list_free(struct cfg_strlist *l)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = NULL;
	if (*v == '\0')
		return 0;
	return (*dst = strdup(v)) ? 0 : -1;
}

/*
 * URLs, keys and model names are single tokens: a space or a control
 * character in one is a mistake (two keys on one line, a comment that
 * starts with // rather than # or ;), never part of the value.
 */
static int has_blank(const char *v, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
			return 1;
	return 0;
}

/* The name of names[] that the header line v (name n bytes) has, in any
 * case; NULL if none. */
static const char *name_in(const char *v, size_t n, const char *const *names)
{
	size_t i;
	for (i = 0; names[i]; i++)
		if (strlen(names[i]) == n && !strncasecmp(v, names[i], n))
			return names[i];
	return NULL;
}

/*
 * header = Name: value (the reference's per-entry "headers" map): sent
 * with every upstream request of the entry, replacing a header of ours
 * with the same name.  The request's framing stays ours.  The value is
 * never echoed in an error: it is often a credential.
 */
static int add_header(struct parse *p, struct cfg_strlist *l, const char *v,
		      int line)
{
	static const char *const framing[] = {
		"host", "content-length", "transfer-encoding", "connection",
		"keep-alive", "upgrade", "te", "trailer", "expect", NULL};
	const char *colon = strchr(v, ':'), *val, *own;
	char norm[CFG_LINE_MAX];
	size_t n, i;

	if (!colon || colon == v)
		return fail(p, line, "header must be 'Name: value'");
	n = (size_t)(colon - v);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c <= ' ' || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c))
			return fail(p, line, "header name has a character "
				    "HTTP does not allow in names");
	}
	if ((own = name_in(v, n, framing)) != NULL)
		return fail(p, line, "header cannot set %s: the proxy frames "
			    "its requests itself", own);
	for (val = colon + 1; *val == ' ' || *val == '\t'; val++)
		;
	for (i = 0; val[i]; i++)
		if (((unsigned char)val[i] < ' ' && val[i] != '\t') ||
		    (unsigned char)val[i] == 0x7f)
			return fail(p, line, "header value has a control "
				    "character");
	fmt_snprintf(norm, sizeof(norm), "%.*s: %s", (int)n, v, val);
	return list_add(l, norm) < 0 ? fail(p, line, "out of memory") : 1;
}

/* model = upstream-name [= alias] */
static int add_model(struct parse *p, struct cfg_compat *e, const char *v,
		     int line)
{
	const char *eq = strchr(v, '=');
	size_t nl = eq ? (size_t)(eq - v) : strlen(v);
	const char *alias = eq ? eq + 1 : NULL;
	struct cfg_model_map *nm;

	while (nl > 0 && (v[nl - 1] == ' ' || v[nl - 1] == '\t'))
		nl--;
	if (alias) {
		while (*alias == ' ' || *alias == '\t')
			alias++;
		if (*alias == '\0' || strchr(alias, '='))
			return fail(p, line, "model must be 'upstream-name' or "
				    "'upstream-name = alias'");
	}
	if (nl == 0)
		return fail(p, line, "model needs an upstream model name");
	if (has_blank(v, nl) || (alias && has_blank(alias, strlen(alias))))
		return fail(p, line, "model names cannot contain spaces or "
			    "control characters ('upstream-name = alias')");
	if (nl > MODEL_NAME_MAX || (alias && strlen(alias) > MODEL_NAME_MAX))
		return fail(p, line, "model names are at most 255 bytes");
	nm = realloc(e->models, (e->n_models + 1) * sizeof(*nm));
	if (!nm)
		return fail(p, line, "out of memory");
	e->models = nm;
	nm = &e->models[e->n_models];
	nm->name = strndup(v, nl);
	nm->alias = strdup(alias ? alias : nm->name ? nm->name : "");
	nm->line = line;
	if (!nm->name || !nm->alias) {
		free(nm->name);
		free(nm->alias);
		return fail(p, line, "out of memory");
	}
	e->n_models++;
	return 1;
}

/* Schemes a proxy-url may have. */
static const char *const proxies[] = {"http://", "https://", "socks5://",
				      "socks5h://", NULL};

/* Apply one table key to the struct at base.  Returns 1 ok, 0 failed
 * (message set). */
static int apply_key(struct parse *p, const struct key *k, void *base,
		     const char *v, int line)
{
	void *f = (char *)base + k->off;
	long long n;
	static const char *const urls[] = {"http://", "https://", NULL};

	switch (k->type) {
	case V_INT: {
		char *end;
		errno = 0;
		n = fmt_strtoll(v, &end);
		if (*v == '\0' || *end != '\0' || errno || n < k->min ||
		    n > k->max)
			return fail(p, line, "%s must be a whole number from "
				    "%ld to %ld, not '%s'", k->name, k->min,
				    k->max, v);
		*(int *)f = (int)n;
		return 1;
	}
	case V_BOOL:
		if (parse_bool(v, (int *)f) < 0)
			return fail(p, line, "%s must be true or false, not "
				    "'%s'", k->name, v);
		return 1;
	case V_SIZE:
		if (parse_size(v, &n) < 0 || n < k->min || n > k->max)
			return fail(p, line, "%s must be a size like 8m or "
				    "65536 (from %ld to %ld bytes), not '%s'",
				    k->name, k->min, k->max, v);
		*(long *)f = (long)n;
		return 1;
	case V_MS:
		if (parse_ms(v, &n) < 0 || n < k->min || n > k->max)
			return fail(p, line, "%s must be a duration like 10s "
				    "or 500ms (from %ldms to %ldms), not '%s'",
				    k->name, k->min, k->max, v);
		*(int *)f = (int)n;
		return 1;
	case V_URL:
		if ((*v || k->min) && !has_scheme(v, urls))
			return fail(p, line, "%s must start with http:// or "
				    "https://", k->name);
		break;
	case V_PROXY:
		if (*v && !has_scheme(v, proxies))
			return fail(p, line, "%s must be socks5://, socks5h://,"
				    " http:// or https:// (host:port after it)",
				    k->name);
		break;
	case V_KEYS:
		if (*v == '\0')
			return fail(p, line, "%s needs a value", k->name);
		if (strchr(v, ','))
			return fail(p, line, "%s has a comma: one key per line, "
				    "repeat %s for more", k->name, k->name);
		if (has_blank(v, strlen(v)))
			return fail(p, line, "%s cannot contain spaces or "
				    "control characters (one key per line, "
				    "repeat %s for more)", k->name, k->name);
		if (list_add((struct cfg_strlist *)f, v) < 0)
			return fail(p, line, "out of memory");
		return 1;
	case V_HEADERS:
		return add_header(p, (struct cfg_strlist *)f, v, line);
	case V_MODELS:
		return add_model(p, (struct cfg_compat *)base, v, line);
	case V_PATH: {
		char **dst = (char **)f;
		free(*dst);
		*dst = NULL;
		if (*v && !(*dst = cfg_expand_home(v)))
			return fail(p, line, "out of memory");
		return 1;
	}
	case V_NAME:
		((struct cfg_compat *)base)->name_line = line;
		break;
	case V_STR:
	case V_SECRET:
		if (*v == '\0' && k->min)
			return fail(p, line, "%s needs a value", k->name);
		break;
	}
	if ((k->type == V_URL || k->type == V_PROXY || k->type == V_SECRET) &&
	    has_blank(v, strlen(v)))
		return fail(p, line, "%s cannot contain spaces or control "
			    "characters", k->name);
	if (set_str((char **)f, v) < 0)
		return fail(p, line, "out of memory");
	return 1;
}

/*
 * A scalar key is set once per scope: the top level with its maps, one
 * list entry, [endpoints].  A second value used to replace the first
 * without a word; lists (api-keys, model, header...) repeat by design.
 */
static int set_once(struct parse *p, const struct key *k, int *first,
		    int line)
{
	if (k->type == V_KEYS || k->type == V_HEADERS || k->type == V_MODELS)
		return 1;
	if (!*first) {
		*first = line;
		return 1;
	}
	if (p->kind == S_CLAUDE || p->kind == S_CODEX || p->kind == S_COMPAT)
		return fail(p, line, "%s is set twice (first on line %d); "
			    "each [%s] section is one entry, start another "
			    "for a second one", k->name, *first, p->section);
	return fail(p, line, "%s is set twice (first on line %d)", k->name,
		    *first);
}

static const struct key *find_key(const struct key *t, size_t n,
				  const char *section, const char *name)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!strcmp(t[i].section, section) && !strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

static int section_kind(const char *s)
{
	if (!strcmp(s, "remote-management") || !strcmp(s, "quota-exceeded") ||
	    !strcmp(s, "streaming"))
		return S_MAP;
	if (!strcmp(s, "claude-api-key"))
		return S_CLAUDE;
	if (!strcmp(s, "codex-api-key"))
		return S_CODEX;
	if (!strcmp(s, "openai-compatibility"))
		return S_COMPAT;
	if (!strcmp(s, "endpoints"))
		return S_ENDPOINTS;
	if (!strcmp(s, "upstream-headers"))
		return S_UPSTREAM_HEADERS;
	return -1;
}

static int new_section(struct parse *p, const char *s, int line)
{
	struct cfg *c = p->c;
	int kind = section_kind(s);

	if (kind < 0)
		return fail(p, line, "unknown section [%s]", s);
	p->kind = kind;
	p->section_line = line;
	fmt_snprintf(p->section, sizeof(p->section), "%s", s);
	memset(p->entry_line, 0, sizeof(p->entry_line));
	if (kind == S_CLAUDE || kind == S_CODEX) {
		struct cfg_key_entry **arr = kind == S_CLAUDE ? &c->claude_keys
							      : &c->codex_keys;
		size_t *n = kind == S_CLAUDE ? &c->n_claude_keys
					     : &c->n_codex_keys;
		struct cfg_key_entry *na = realloc(*arr, (*n + 1) * sizeof(*na));
		if (!na)
			return fail(p, line, "out of memory");
		memset(&na[*n], 0, sizeof(*na));
		na[*n].line = line;
		*arr = na;
		(*n)++;
	} else if (kind == S_COMPAT) {
		struct cfg_compat *na = realloc(c->compat,
						(c->n_compat + 1) * sizeof(*na));
		if (!na)
			return fail(p, line, "out of memory");
		memset(&na[c->n_compat], 0, sizeof(*na));
		na[c->n_compat].line = line;
		c->compat = na;
		c->n_compat++;
	}
	return 1;
}

/* A key inside the current [claude-api-key], [codex-api-key] or
 * [openai-compatibility] entry. */
static int entry_key(struct parse *p, const char *name, const char *v,
		     int line)
{
	struct cfg *c = p->c;
	const struct key *t, *k;
	void *base;

	if (p->kind == S_COMPAT) {
		t = compat_keys;
		k = find_key(t, N_OF(compat_keys), "", name);
		base = &c->compat[c->n_compat - 1];
	} else {
		t = entry_keys;
		k = find_key(t, N_OF(entry_keys), "", name);
		base = p->kind == S_CLAUDE
			? &c->claude_keys[c->n_claude_keys - 1]
			: &c->codex_keys[c->n_codex_keys - 1];
	}
	if (!k)
		return fail(p, line, "unknown key '%s' in [%s]", name,
			    p->section);
	return set_once(p, k, &p->entry_line[k - t], line) &&
	       apply_key(p, k, base, v, line);
}

static int endpoint_key(struct parse *p, const char *name, const char *v,
			int line)
{
	int i;
	for (i = 0; i < EP__COUNT; i++) {
		struct key k = {"endpoints", ep_names[i], V_URL,
				offsetof(struct cfg, endpoints) +
				(size_t)i * sizeof(char *), 1, 0};
		if (!strcmp(name, ep_names[i]))
			return set_once(p, &k, &p->ep_line[i], line) &&
			       apply_key(p, &k, p->c, v, line);
	}
	return fail(p, line, "unknown key '%s' in [endpoints]", name);
}

/*
 * [upstream-headers]: kind = Name: value, checked as an entry's header
 * line is, one line per header name and kind.  The credential and the
 * headers that depend on the call (its body, the client's betas, the
 * account) are the proxy's own: a fixed value would break the call.
 */
static int upstream_header_key(struct parse *p, const char *name,
			       const char *v, int line)
{
	static const char *const per_call[] = {
		"authorization", "x-api-key", "x-goog-api-key",
		"content-type", "accept", "anthropic-beta",
		"chatgpt-account-id", "session-id", NULL};
	struct cfg_strlist *l;
	const char *hd, *own;
	char kinds[256];
	size_t n, i, k = 0;
	int u, *at;

	for (u = 0; u < UH__COUNT; u++)
		if (!strcmp(name, uh_names[u]))
			break;
	if (u == UH__COUNT) {
		for (i = 0; i < UH__COUNT; i++)
			k += (size_t)fmt_snprintf(kinds + k, sizeof(kinds) - k,
						  "%s%s", i ? ", " : "",
						  uh_names[i]);
		return fail(p, line, "unknown upstream kind '%s' in "
			    "[upstream-headers] (one of %s)", name, kinds);
	}
	l = &p->c->up_headers[u];
	if (!add_header(p, l, v, line))
		return 0;
	hd = l->v[l->n - 1];
	n = strcspn(hd, ":");
	if ((own = name_in(hd, n, per_call)) != NULL)
		return fail(p, line, "[upstream-headers] cannot set %s: the "
			    "proxy sets it for each call", own);
	for (i = 0; i + 1 < l->n; i++)
		if (!strncasecmp(l->v[i], hd, n) && l->v[i][n] == ':')
			return fail(p, line, "%.*s is set twice for %s (first "
				    "on line %d)", (int)n, hd, name,
				    p->uh_line[u][i]);
	if (!(at = realloc(p->uh_line[u], l->n * sizeof(*at))))
		return fail(p, line, "out of memory");
	at[l->n - 1] = line;
	p->uh_line[u] = at;
	return 1;
}

int cfg_key_kind(const char *section, const char *name)
{
	static const unsigned char kinds[] = {
		[V_INT] = CFG_K_NUM, [V_BOOL] = CFG_K_BOOL,
		[V_SIZE] = CFG_K_NUM, [V_MS] = CFG_K_MS, [V_STR] = CFG_K_STR,
		[V_NAME] = CFG_K_STR, [V_PATH] = CFG_K_STR,
		[V_URL] = CFG_K_STR, [V_PROXY] = CFG_K_STR,
		[V_SECRET] = CFG_K_STR, [V_KEYS] = CFG_K_LIST,
		[V_HEADERS] = CFG_K_HEADER, [V_MODELS] = CFG_K_MODEL};
	const struct key *k;
	int i, s = section_kind(*section ? section : name);

	if (!*section && s >= 0)
		return s == S_MAP || s == S_ENDPOINTS ||
		       s == S_UPSTREAM_HEADERS ? CFG_K_SECTION : CFG_K_ENTRIES;
	if (s == S_ENDPOINTS || s == S_UPSTREAM_HEADERS) {
		for (i = 0; i < (s == S_ENDPOINTS ? EP__COUNT : UH__COUNT); i++)
			if (!strcmp(name, s == S_ENDPOINTS ? ep_names[i]
							   : uh_names[i]))
				return s == S_ENDPOINTS ? CFG_K_STR
							: CFG_K_HEADER;
		return -1;
	}
	if (s == S_COMPAT)
		k = find_key(compat_keys, N_OF(compat_keys), "", name);
	else if (s == S_CLAUDE || s == S_CODEX)
		k = find_key(entry_keys, N_OF(entry_keys), "", name);
	else
		k = find_key(keys, N_OF(keys), section, name);
	return k ? kinds[k->type] : -1;
}

/* Strip one pair of surrounding double quotes (YAML habit). */
static const char *unquote(const char *v, char *tmp, size_t tmplen)
{
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"' && n - 1 <= tmplen) {
		memcpy(tmp, v + 1, n - 2);
		tmp[n - 2] = '\0';
		return tmp;
	}
	return v;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value, int line)
{
	struct parse *p = user;
	char tmp[CFG_LINE_MAX];
	const struct key *k;

	if (p->failed)
		return 0;
	if (!name)
		return new_section(p, section, line);
	value = unquote(value, tmp, sizeof(tmp));
	if (p->kind == S_CLAUDE || p->kind == S_CODEX || p->kind == S_COMPAT)
		return entry_key(p, name, value, line);
	if (p->kind == S_ENDPOINTS)
		return endpoint_key(p, name, value, line);
	if (p->kind == S_UPSTREAM_HEADERS)
		return upstream_header_key(p, name, value, line);
	if ((k = find_key(keys, N_OF(keys), section, name)))
		return set_once(p, k, &p->top_line[k - keys], line) &&
		       apply_key(p, k, p->c, value, line);
	if (*section)
		return fail(p, line, "unknown key '%s' in [%s]", name, section);
	return fail(p, line, "unknown key '%s'", name);
}

void cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->port = DEF_PORT;
	c->access_log = 1;
	c->auth_dir = cfg_expand_home("~/.cli-proxy-api");
	c->request_retry = DEF_REQUEST_RETRY;
	c->max_body_size = DEF_MAX_BODY_SIZE;
	c->max_body_total = DEF_MAX_BODY_TOTAL;
	c->max_connections = DEF_MAX_CONNECTIONS;
	c->header_timeout_ms = DEF_HEADER_TIMEOUT_MS;
	c->body_timeout_ms = DEF_BODY_TIMEOUT_MS;
	c->idle_timeout_ms = DEF_IDLE_TIMEOUT_MS;
	c->write_timeout_ms = DEF_WRITE_TIMEOUT_MS;
	c->shutdown_timeout_ms = DEF_SHUTDOWN_TIMEOUT_MS;
	c->upstream_connect_timeout_ms = DEF_UP_CONNECT_TIMEOUT_MS;
	c->upstream_first_byte_timeout_ms = DEF_UP_FIRST_BYTE_TIMEOUT_MS;
	c->upstream_read_timeout_ms = DEF_UP_READ_TIMEOUT_MS;
	c->upstream_keepalive_timeout_ms = DEF_UP_KEEPALIVE_TIMEOUT_MS;
	c->model_list_refresh_ms = DEF_MODEL_LIST_REFRESH_MS;
	c->login_timeout_ms = DEF_LOGIN_TIMEOUT_MS;
	c->qe_switch_project = 1;
	c->qe_switch_preview_model = 1;
}

/* A size as the config would spell it: 64m, 512k, 1000. */
static const char *size_str(long n, char *buf, size_t len)
{
	static const char u[] = "gmk";
	int i;
	for (i = 0; i < 3; i++) {
		long m = 1L << (10 * (3 - i));
		if (n >= m && n % m == 0) {
			fmt_snprintf(buf, len, "%ld%c", n / m, u[i]);
			return buf;
		}
	}
	fmt_snprintf(buf, len, "%ld", n);
	return buf;
}

/* Where a top-level key was set (0 = not set). */
static int top_line(const struct parse *p, const char *name)
{
	const struct key *k = find_key(keys, N_OF(keys), "", name);
	return k ? p->top_line[k - keys] : 0;
}

/* max-body-total >= max-body-size, named at the line that set either. */
static int check_body_limits(struct parse *p)
{
	const struct cfg *c = p->c;
	int size_at = top_line(p, "max-body-size");
	int total_at = top_line(p, "max-body-total");
	char buf[32];

	if (c->max_body_total >= c->max_body_size)
		return 1;
	if (total_at && size_at)
		return fail(p, total_at, "max-body-total must be at least "
			    "max-body-size (line %d)", size_at);
	if (total_at)
		return fail(p, total_at, "max-body-total must be at least "
			    "max-body-size (%s by default)",
			    size_str(c->max_body_size, buf, sizeof(buf)));
	return fail(p, size_at, "max-body-size must be at most max-body-total "
		    "(%s by default); raise max-body-total too",
		    size_str(c->max_body_total, buf, sizeof(buf)));
}

/* A string that must be unique in the file, and the line that gives it. */
struct claim {
	const char *s;
	int line;
};

static int claim_cmp(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int r = strcmp(x->s, y->s);
	return r ? r : (x->line > y->line) - (x->line < y->line);
}

/*
 * The string claimed twice whose second claim comes first in the file
 * (NULL if none); *first is the line of its first claim.  Sorting keeps
 * this O(n log n) for a file of many models.  Reorders v.
 */
static const struct claim *first_repeat(struct claim *v, size_t n, int *first)
{
	const struct claim *again = NULL;
	size_t i;

	if (n < 2)
		return NULL;
	qsort(v, n, sizeof(*v), claim_cmp);
	for (i = 1; i < n; i++)
		if (!strcmp(v[i].s, v[i - 1].s) &&
		    (!again || v[i].line < again->line)) {
			again = &v[i];
			*first = v[i - 1].line;
		}
	return again;
}

/*
 * Provider names and model aliases (what clients ask for) name one thing
 * each: a second claim would be unreachable, or reached by chance.  Of
 * the two kinds of repeat, the one earlier in the file is reported.
 */
static int check_unique_names(struct parse *p)
{
	const struct cfg *c = p->c;
	const struct claim *name = NULL, *alias = NULL;
	struct claim *v;
	size_t i, j, n = c->n_compat;
	int name_first = 0, alias_first = 0, ok = 1;

	for (i = 0; i < c->n_compat; i++)
		n += c->compat[i].n_models;
	if (!n)
		return 1;
	if (!(v = malloc(n * sizeof(*v))))
		return fail(p, 0, "out of memory");
	for (i = 0; i < c->n_compat; i++)
		v[i] = (struct claim){c->compat[i].name, c->compat[i].name_line};
	name = first_repeat(v, c->n_compat, &name_first);
	for (n = c->n_compat, i = 0; i < c->n_compat; i++)
		for (j = 0; j < c->compat[i].n_models; j++)
			v[n++] = (struct claim){c->compat[i].models[j].alias,
						c->compat[i].models[j].line};
	alias = first_repeat(v + c->n_compat, n - c->n_compat, &alias_first);
	if (name && (!alias || name->line < alias->line))
		ok = fail(p, name->line, "provider name '%s' is used twice "
			  "(first on line %d)", name->s, name_first);
	else if (alias)
		ok = fail(p, alias->line, "model alias '%s' is claimed twice "
			  "(first on line %d); the name clients ask for must "
			  "be unique", alias->s, alias_first);
	free(v);
	return ok;
}

/* Checks that need the whole file. */
static int validate(struct parse *p)
{
	struct cfg *c = p->c;
	size_t i;
	int e;

	for (i = 0; i < c->n_claude_keys; i++)
		if (!c->claude_keys[i].api_key)
			return fail(p, c->claude_keys[i].line, "a "
				    "[claude-api-key] section has no api-key");
	for (i = 0; i < c->n_codex_keys; i++)
		if (!c->codex_keys[i].api_key)
			return fail(p, c->codex_keys[i].line, "a "
				    "[codex-api-key] section has no api-key");
	for (i = 0; i < c->n_compat; i++) {
		struct cfg_compat *x = &c->compat[i];
		if (!x->name)
			return fail(p, x->line, "[openai-compatibility] needs "
				    "a name");
		if (!x->base_url)
			return fail(p, x->line, "[openai-compatibility] '%s' "
				    "needs a base-url", x->name);
	}
	if (!check_unique_names(p) || !check_body_limits(p))
		return 0;
	for (e = 0; e < EP__COUNT; e++)
		if (!c->endpoints[e] &&
		    !(c->endpoints[e] = strdup(ep_defaults[e])))
			return fail(p, 0, "out of memory");
	return 1;
}

static const char *ov_host;
static int ov_port;

void cfg_set_overrides(const char *host, int port)
{
	ov_host = host;
	ov_port = port;
}

/* The command line wins over the file. */
static int apply_overrides(struct parse *p)
{
	struct cfg *c = p->c;

	if (ov_port)
		c->port = ov_port;
	if (ov_host) {
		free(c->host);
		c->host = NULL;
		if (*ov_host && !(c->host = strdup(ov_host)))
			return fail(p, 0, "out of memory");
	}
	return 1;
}

int cfg_load_string(struct cfg *c, const char *text, const char *name,
		    char *err, size_t errlen)
{
	struct parse p;
	int rc, u;

	memset(&p, 0, sizeof(p));
	cfg_defaults(c);
	p.c = c;
	p.name = name;
	p.err = err;
	p.errlen = errlen;
	if (errlen)
		err[0] = '\0';

	rc = ini_parse_string(text, handler, &p);
	if (rc > 0 && !p.failed)
		fail(&p, rc, "syntax error (expected 'key = value', "
		     "'[section]' or a comment; lines are at most %d bytes)",
		     CFG_LINE_MAX - 2);
	else if (rc < 0 && !p.failed)
		fail(&p, 0, "out of memory");
	if (!p.failed && apply_overrides(&p))
		validate(&p);
	for (u = 0; u < UH__COUNT; u++)
		free(p.uh_line[u]);
	if (p.failed) {
		/* Line 0 means "whole file": drop the ":0" for readability. */
		char *z = strstr(err, ":0: ");
		if (z && z == err + strlen(name))
			memmove(z + 1, z + 3, strlen(z + 3) + 1);
		cfg_free(c);
		return -1;
	}
	return 0;
}

char *cfg_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *text;
	ssize_t n;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fmt_snprintf(err, errlen, "%s: cannot open: %s", path,
			     strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CFG_FILE_MAX) {
		fmt_snprintf(err, errlen, "%s: not a regular file of at most %d "
			     "bytes", path, CFG_FILE_MAX);
		close(fd);
		return NULL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		fmt_snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	       (n = read(fd, text + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	text[got] = '\0';
	if (memchr(text, '\0', got)) {
		free(text);
		fmt_snprintf(err, errlen, "%s: contains a NUL byte", path);
		return NULL;
	}
	*len = got;
	return text;
}

int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen)
{
	size_t len;
	char *text = cfg_read_file(path, &len, err, errlen);
	int rc;

	if (!text)
		return -1;
	rc = cfg_load_string(c, text, path, err, errlen);
	free(text);
	if (rc == 0 && !(c->path = strdup(path))) {
		cfg_free(c);
		fmt_snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	return rc;
}

void cfg_free(struct cfg *c)
{
	size_t i, j;
	int e;

	free(c->path);
	free(c->host);
	free(c->auth_dir);
	free(c->proxy_url);
	free(c->ca_file);
	free(c->rm_secret_key);
	free(c->rm_callback_host);
	list_free(&c->api_keys);
	list_free(&c->gl_api_keys);
	for (i = 0; i < c->n_claude_keys; i++) {
		free(c->claude_keys[i].api_key);
		free(c->claude_keys[i].base_url);
		list_free(&c->claude_keys[i].headers);
		free(c->claude_keys[i].proxy_url);
	}
	free(c->claude_keys);
	for (i = 0; i < c->n_codex_keys; i++) {
		free(c->codex_keys[i].api_key);
		free(c->codex_keys[i].base_url);
		list_free(&c->codex_keys[i].headers);
		free(c->codex_keys[i].proxy_url);
	}
	free(c->codex_keys);
	for (i = 0; i < c->n_compat; i++) {
		struct cfg_compat *x = &c->compat[i];
		free(x->name);
		free(x->base_url);
		list_free(&x->api_keys);
		list_free(&x->headers);
		free(x->proxy_url);
		for (j = 0; j < x->n_models; j++) {
			free(x->models[j].name);
			free(x->models[j].alias);
		}
		free(x->models);
	}
	free(c->compat);
	for (e = 0; e < EP__COUNT; e++)
		free(c->endpoints[e]);
	for (e = 0; e < UH__COUNT; e++)
		list_free(&c->up_headers[e]);
	memset(c, 0, sizeof(*c));
}
