/*
 * cfg.h - config.ini: the INI spelling of the reference's YAML config.
 *
 * One struct holds a whole parsed config.  Loading builds a fresh struct;
 * the running one is replaced only when the new one is valid (SIGHUP), so a
 * bad edit never takes a running server down.  All strings are owned by the
 * struct and freed by cfg_free.
 *
 * Spelling (see config.ini.example for every key and its default):
 *   top-level keys; lists are repeated keys (api-keys = a / api-keys = b);
 *   lists of objects are repeated sections ([claude-api-key] twice = two
 *   entries); nested maps are sections ([remote-management]).
 */
#ifndef CFG_H
#define CFG_H

#include <stddef.h>

struct cfg_strlist {
	char **v;
	size_t n;
};

struct cfg_key_entry { /* [claude-api-key], [codex-api-key] */
	char *api_key;
	char *base_url; /* NULL = the provider's endpoint from [endpoints] */
	struct cfg_strlist headers; /* "Name: value", sent upstream */
	char *proxy_url; /* NULL = the top-level proxy-url */
	int line; /* where the section starts, for messages */
};

struct cfg_model_map { /* model = upstream-name [= alias] */
	char *name;  /* upstream model name */
	char *alias; /* name clients use; equals name when no alias given;
		      * unique across all [openai-compatibility] sections */
	int line;    /* for messages */
};

struct cfg_compat { /* [openai-compatibility] */
	char *name; /* unique across the sections */
	char *base_url;
	struct cfg_strlist api_keys;
	struct cfg_strlist headers; /* "Name: value", sent upstream */
	char *proxy_url; /* NULL = the top-level proxy-url */
	struct cfg_model_map *models;
	size_t n_models;
	int line; /* where the section starts, for messages */
	int name_line; /* where name is set, for messages */
};

/* Upstream and OAuth URLs the program calls; [endpoints] overrides each. */
enum cfg_endpoint {
	EP_GENERATIVE_LANGUAGE, /* Gemini AI Studio */
	EP_GEMINI_CLI,          /* Cloud Code Assist */
	EP_CLAUDE,
	EP_CODEX,
	EP_QWEN,
	EP_GOOGLE_AUTH,
	EP_GOOGLE_TOKEN,
	EP_GOOGLE_USERINFO,
	EP_GOOGLE_CLOUD_RESOURCE_MANAGER,
	EP_OPENAI_AUTH,
	EP_CLAUDE_AUTH,
	EP_CLAUDE_TOKEN,
	EP_QWEN_AUTH,
	EP_ANTIGRAVITY,         /* Antigravity's Code Assist (daily host) */
	EP_ANTIGRAVITY_FALLBACK,/* ... and where it goes when that fails */
	EP_GOOGLE_SERVICE_USAGE,/* the Gemini CLI login's project check */
	EP__COUNT
};

/*
 * Upstream kinds whose fixed headers (the official client's fingerprint,
 * prov.c) [upstream-headers] changes; a key of that section each.  The
 * API-key kinds and the login kinds of one vendor are apart: Claude Code
 * and Codex logins send other headers than the keys.
 */
enum cfg_upstream {
	UH_GEMINI,       /* gemini: generative-language-api-key */
	UH_CLAUDE,       /* claude: [claude-api-key] */
	UH_CODEX,        /* codex: [codex-api-key] */
	UH_GEMINI_CLI,   /* gemini-cli: Gemini CLI logins */
	UH_ANTIGRAVITY,  /* antigravity: Antigravity logins */
	UH_CODEX_LOGIN,  /* codex-login: ChatGPT (Codex) logins */
	UH_CLAUDE_LOGIN, /* claude-login: Claude Code logins */
	UH_QWEN,         /* qwen: Qwen Code logins */
	UH__COUNT
};

struct cfg {
	char *path; /* file this came from, NULL for built-in defaults */

	/* server */
	int port;
	char *host; /* NULL/empty = all interfaces (IPv6 and IPv4) */
	long max_body_size;
	long max_body_total;
	int max_connections;
	int header_timeout_ms;
	int body_timeout_ms;
	int idle_timeout_ms;
	int write_timeout_ms;
	int shutdown_timeout_ms;
	int upstream_connect_timeout_ms;
	int upstream_first_byte_timeout_ms;
	int upstream_read_timeout_ms;
	int upstream_keepalive_timeout_ms;
	int model_list_refresh_ms; /* 0 = never: the built-in tables */
	int login_timeout_ms;      /* a login waits this long for its user */

	/* reference keys */
	char *auth_dir; /* ~ expanded */
	int debug;
	int access_log;
	int request_log;
	char *proxy_url;
	int request_retry;
	char *ca_file; /* ~ expanded */
	int force_gpt_5_codex;
	int allow_localhost_unauthenticated;
	struct cfg_strlist api_keys;
	struct cfg_strlist gl_api_keys; /* generative-language-api-key */

	int rm_allow_remote; /* [remote-management] */
	char *rm_secret_key;   /* a bcrypt hash once cfg_secret_hash ran */
	char *rm_callback_host; /* management logins' callback listeners
				   bind here; NULL = loopback */

	int qe_switch_project; /* [quota-exceeded] */
	int qe_switch_preview_model;

	int stream_keepalive_s; /* [streaming] keepalive-seconds; 0 = off */

	struct cfg_key_entry *claude_keys;
	size_t n_claude_keys;
	struct cfg_key_entry *codex_keys;
	size_t n_codex_keys;
	struct cfg_compat *compat;
	size_t n_compat;

	char *endpoints[EP__COUNT];

	/* [upstream-headers]: per kind, "Name: value" lines that replace the
	 * fixed header of that name or add one; "Name: " (no value) removes
	 * it.  Names are unique per kind; never a credential or a header
	 * the proxy sets per call.  "{model}" in a value stands for the
	 * upstream model name (prov.c). */
	struct cfg_strlist up_headers[UH__COUNT];
};

/* Fill c with the built-in defaults (what an empty file means). */
void cfg_defaults(struct cfg *c);

/*
 * Load path into c (which is initialised here).  On error returns -1, c is
 * freed, and err holds "path:line: message" (never a secret value).
 */
int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen);

/*
 * The whole regular file at path (at most CFG_FILE_MAX bytes, no NUL
 * byte), malloc'd and NUL-terminated, its length in *len; NULL with
 * "path: why" in err.
 */
char *cfg_read_file(const char *path, size_t *len, char *err, size_t errlen);

/* Same from a string (tests); name is used in messages. */
int cfg_load_string(struct cfg *c, const char *text, const char *name,
		    char *err, size_t errlen);

void cfg_free(struct cfg *c);

/*
 * Command-line overrides (--host, --port), applied by every later load,
 * reloads included.  host NULL = no override, "" = all interfaces; port 0 =
 * no override.  The strings must outlive the process's loads (argv).
 */
void cfg_set_overrides(const char *host, int port);

/*
 * The kind of value a key takes, as config.ini spells it: what an
 * importer of another format needs to write one (cfg_import.c).
 */
enum cfg_kind {
	CFG_K_STR,      /* one string; empty = not set */
	CFG_K_NUM,      /* one whole number or size */
	CFG_K_BOOL,     /* true/false, yes/no, on/off, 1/0 */
	CFG_K_MS,       /* a duration: a number with ms, s, m or h */
	CFG_K_LIST,     /* repeated key, one value each */
	CFG_K_HEADER,   /* repeated key, "Name: value" each */
	CFG_K_MODEL,    /* repeated key, "upstream-name [= alias]" each */
	CFG_K_SECTION,  /* a section of keys ([remote-management]) */
	CFG_K_ENTRIES,  /* a section per entry ([claude-api-key]) */
};

/*
 * The kind of key name in section ("" = the top level, where sections
 * are keys too; for a section of entries, the name of the section), or
 * -1 when config.ini has no such key there.
 */
int cfg_key_kind(const char *section, const char *name);

/* Name of an endpoint key in [endpoints]. */
const char *cfg_endpoint_name(enum cfg_endpoint e);

/* Expand a leading ~ or ~/ to $HOME; returns malloc'd string or NULL. */
char *cfg_expand_home(const char *p);

struct buf;

/*
 * cfg_edit.c: set one value in a config's text, keeping every other byte
 * (comments, inline comments and the whitespace before them, indentation,
 * the spacing around '=', CRLF or LF, a missing final newline, a BOM).
 * The line changed is the first "key = value" (or "key=value", "key :
 * value") whose trimmed key is key, in the first section named exactly
 * section (NULL or "": the keys before any section header), read as inih
 * reads it, so it is the line whose value cfg_load takes.  Only the old
 * value (trimmed, without its inline comment) is replaced; an empty one
 * ("key =") becomes "key = value".  value is written as it is (cfg.c
 * strips one pair of surrounding double quotes when it reads it).
 *
 * Returns 0 and appends the whole new text to out; 1 when the key is not
 * in that section; -1 when a syntax error comes before it, the text holds
 * a NUL, a line would grow past INI_MAX_LINE, out has no room, or value
 * would not read back unchanged (a newline, whitespace at either end, a
 * leading ';' or '#', or whitespace then ';' or '#' inside), or key or
 * section is no name inih gives (an empty key, '=' or ':' in it, a
 * section of more than 49 bytes or with ']').  On 1 and -1, out is
 * untouched.
 */
int cfg_edit_value(const char *text, size_t len, const char *section,
		   const char *key, const char *value, struct buf *out);

/*
 * Set the value in the file at path (cfg_edit_value) and write it back
 * atomically with the file's mode (fsx_write_atomic).  A symlink is
 * followed (realpath): its target is rewritten and the link stays.  The
 * new file is the writing process's (run as another user than the
 * file's owner, the owner changes).  Returns 0, 1 (the key is not there;
 * the file is unchanged), -1; on 1 and -1 err holds "path: message",
 * naming the key but never a value.
 */
int cfg_edit_file(const char *path, const char *section, const char *key,
		  const char *value, char *err, size_t errlen);

#endif
