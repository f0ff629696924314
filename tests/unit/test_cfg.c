/*
 * test_cfg.c - config.ini parsing: every key's spelling, defaults, and a
 * clear "name:line: message" for every kind of bad input.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "t.h"

static int load(struct cfg *c, const char *text, char *err, size_t errlen)
{
	return cfg_load_string(c, text, "t.ini", err, errlen);
}

/* Expect a failure whose message starts with "t.ini:<line>:", holds the
 * fragment and, when hidden is not NULL, does not hold hidden (a secret
 * from the text). */
static void expect_error_hiding(const char *text, int line,
				const char *fragment, const char *hidden)
{
	struct cfg c;
	char err[512], want[32];

	if (load(&c, text, err, sizeof(err)) == 0) {
		FAILF("accepted bad config: %s", t_esc(text, strlen(text)));
		cfg_free(&c);
		return;
	}
	snprintf(want, sizeof(want), "t.ini:%d:", line);
	if (line > 0 && strncmp(err, want, strlen(want)) != 0)
		FAILF("error '%s' does not start with '%s'", err, want);
	if (!strstr(err, fragment))
		FAILF("error '%s' does not mention '%s'", err, fragment);
	if (hidden && strstr(err, hidden))
		FAILF("error '%s' shows the secret '%s'", err, hidden);
}

static void expect_error(const char *text, int line, const char *fragment)
{
	expect_error_hiding(text, line, fragment, NULL);
}

TEST(cfg_empty_file_gives_defaults)
{
	struct cfg c;
	char err[256];
	REQUIRE(load(&c, "", err, sizeof(err)) == 0);
	CHECK_EQ_INT(c.port, 8317);
	CHECK(c.host == NULL);
	CHECK_EQ_INT(c.request_retry, 3);
	CHECK_EQ_INT(c.max_body_size, 8L * 1024 * 1024);
	CHECK_EQ_INT(c.max_connections, 256);
	CHECK_EQ_INT(c.header_timeout_ms, 10000);
	CHECK_EQ_INT(c.idle_timeout_ms, 60000);
	CHECK(c.qe_switch_project && c.qe_switch_preview_model);
	CHECK_EQ_INT(c.stream_keepalive_s, 0); /* off, as in the reference */
	CHECK(!c.debug && !c.rm_allow_remote);
	CHECK_EQ_INT(c.api_keys.n, 0);
	CHECK_EQ_STR(c.endpoints[EP_CLAUDE], "https://api.anthropic.com");
	CHECK_EQ_STR(c.endpoints[EP_GENERATIVE_LANGUAGE],
		     "https://generativelanguage.googleapis.com");
	CHECK(c.auth_dir && strstr(c.auth_dir, ".cli-proxy-api") &&
	      c.auth_dir[0] != '~');
	cfg_free(&c);
}

TEST(cfg_reads_every_reference_key)
{
	static const char text[] =
		"port = 9000\n"
		"host = 127.0.0.1\n"
		"auth-dir = /var/lib/cpa\n"
		"debug = yes\n"
		"request-log = on\n"
		"proxy-url = socks5://user:pass@10.0.0.1:1080\n"
		"request-retry = 5\n"
		"ca-file = /etc/ca.pem\n"
		"force-gpt-5-codex = true\n"
		"allow-localhost-unauthenticated = 1\n"
		"api-keys = k1\n"
		"api-keys = \"k2\"\n"
		"generative-language-api-key = AIza1\n"
		"generative-language-api-key = AIza2\n"
		"max-body-size = 2m\n"
		"max-body-total = 1g\n"
		"max-connections = 32\n"
		"header-timeout = 1500ms\n"
		"body-timeout = 2\n"
		"idle-timeout = 1m\n"
		"write-timeout = 1h\n"
		"shutdown-timeout = 0\n"
		"; a comment\n"
		"# another\n"
		"[remote-management]\n"
		"allow-remote = true\n"
		"secret-key = s3cret\n"
		"[quota-exceeded]\n"
		"switch-project = false\n"
		"switch-preview-model = off\n"
		"[streaming]\n"
		"keepalive-seconds = 15\n"
		"[claude-api-key]\n"
		"api-key = sk-ant-1\n"
		"[claude-api-key]\n"
		"api-key = sk-ant-2\n"
		"base-url = https://relay.example/claude\n"
		"[codex-api-key]\n"
		"api-key = sk-cx\n"
		"[openai-compatibility]\n"
		"name = openrouter\n"
		"base-url = https://openrouter.ai/api/v1\n"
		"api-keys = sk-or-1\n"
		"api-keys = sk-or-2\n"
		"model = moonshotai/kimi-k2:free = kimi-k2\n"
		"model = plain-model\n"
		"[openai-compatibility]\n"
		"name = other\n"
		"base-url = http://127.0.0.1:9/v1\n"
		"[endpoints]\n"
		"claude = https://localhost:8443\n";
	struct cfg c;
	char err[256];

	REQUIRE(load(&c, text, err, sizeof(err)) == 0);
	CHECK_EQ_INT(c.port, 9000);
	CHECK_EQ_STR(c.host, "127.0.0.1");
	CHECK_EQ_STR(c.auth_dir, "/var/lib/cpa");
	CHECK(c.debug && c.request_log && c.force_gpt_5_codex &&
	      c.allow_localhost_unauthenticated);
	CHECK_EQ_STR(c.proxy_url, "socks5://user:pass@10.0.0.1:1080");
	CHECK_EQ_INT(c.request_retry, 5);
	CHECK_EQ_STR(c.ca_file, "/etc/ca.pem");
	REQUIRE(c.api_keys.n == 2);
	CHECK_EQ_STR(c.api_keys.v[0], "k1");
	CHECK_EQ_STR(c.api_keys.v[1], "k2"); /* YAML-style quotes dropped */
	CHECK_EQ_INT(c.gl_api_keys.n, 2);
	CHECK_EQ_INT(c.max_body_size, 2L * 1024 * 1024);
	CHECK_EQ_INT(c.max_body_total, 1L << 30);
	CHECK_EQ_INT(c.max_connections, 32);
	CHECK_EQ_INT(c.header_timeout_ms, 1500);
	CHECK_EQ_INT(c.body_timeout_ms, 2000);
	CHECK_EQ_INT(c.idle_timeout_ms, 60000);
	CHECK_EQ_INT(c.write_timeout_ms, 3600000);
	CHECK_EQ_INT(c.shutdown_timeout_ms, 0);
	CHECK(c.rm_allow_remote);
	CHECK_EQ_STR(c.rm_secret_key, "s3cret");
	CHECK(!c.qe_switch_project && !c.qe_switch_preview_model);
	CHECK_EQ_INT(c.stream_keepalive_s, 15);
	REQUIRE(c.n_claude_keys == 2);
	CHECK_EQ_STR(c.claude_keys[0].api_key, "sk-ant-1");
	CHECK(c.claude_keys[0].base_url == NULL);
	CHECK_EQ_STR(c.claude_keys[1].base_url, "https://relay.example/claude");
	REQUIRE(c.n_codex_keys == 1);
	REQUIRE(c.n_compat == 2);
	CHECK_EQ_STR(c.compat[0].name, "openrouter");
	CHECK_EQ_INT(c.compat[0].api_keys.n, 2);
	REQUIRE(c.compat[0].n_models == 2);
	CHECK_EQ_STR(c.compat[0].models[0].name, "moonshotai/kimi-k2:free");
	CHECK_EQ_STR(c.compat[0].models[0].alias, "kimi-k2");
	CHECK_EQ_STR(c.compat[0].models[1].alias, "plain-model");
	CHECK_EQ_INT(c.compat[1].api_keys.n, 0);
	CHECK_EQ_STR(c.endpoints[EP_CLAUDE], "https://localhost:8443");
	CHECK_EQ_STR(c.endpoints[EP_GEMINI_CLI],
		     "https://cloudcode-pa.googleapis.com");
	cfg_free(&c);
}

TEST(cfg_expands_home)
{
	char *p;
	const char *old = getenv("HOME");
	char *save = old ? strdup(old) : NULL;

	setenv("HOME", "/home/u/", 1);
	p = cfg_expand_home("~/x");
	CHECK_EQ_STR(p, "/home/u/x");
	free(p);
	p = cfg_expand_home("~");
	CHECK_EQ_STR(p, "/home/u");
	free(p);
	p = cfg_expand_home("~other/x"); /* not ours to expand */
	CHECK_EQ_STR(p, "~other/x");
	free(p);
	if (save) {
		setenv("HOME", save, 1);
		free(save);
	}
}

TEST(cfg_accepts_an_8k_api_key)
{
	/* Debian's prebuilt inih cuts lines at 200 bytes; ours must not. */
	size_t n = 8000;
	char *text = malloc(n + 32);
	struct cfg c;
	char err[256];

	strcpy(text, "api-keys = ");
	memset(text + 11, 'k', n);
	strcpy(text + 11 + n, "\n");
	REQUIRE(load(&c, text, err, sizeof(err)) == 0);
	REQUIRE(c.api_keys.n == 1);
	CHECK_EQ_INT(strlen(c.api_keys.v[0]), n);
	cfg_free(&c);
	free(text);
}

TEST(cfg_rejects_over_long_line_with_its_number)
{
	size_t n = 20000;
	char *text = malloc(n + 64);
	strcpy(text, "port = 1\napi-keys = ");
	memset(text + strlen(text), 'k', n);
	strcpy(text + 20 + n, "\n");
	expect_error(text, 2, "syntax error");
	free(text);
}

TEST(cfg_rejects_unknown_key_with_line)
{
	expect_error("port = 1\n\nbogus = 2\n", 3, "unknown key 'bogus'");
	expect_error("[remote-management]\nallow = true\n", 2,
		     "unknown key 'allow' in [remote-management]");
	expect_error("[claude-api-key]\napi-key = x\nmodel = y\n", 3,
		     "unknown key 'model' in [claude-api-key]");
	expect_error("[endpoints]\nnowhere = https://x\n", 2,
		     "unknown key 'nowhere' in [endpoints]");
}

TEST(cfg_rejects_unknown_section)
{
	expect_error("port = 1\n[nope]\n", 2, "unknown section [nope]");
}

TEST(cfg_rejects_bad_values)
{
	expect_error("[streaming]\nkeepalive-seconds = -1\n", 2,
		     "keepalive-seconds");
	expect_error("[streaming]\nkeepalive-seconds = 3601\n", 2,
		     "keepalive-seconds");
	expect_error("port = 0\n", 1, "port must be a whole number");
	expect_error("port = 70000\n", 1, "port");
	expect_error("port = 80x\n", 1, "port");
	expect_error("port =\n", 1, "port");
	expect_error("debug = maybe\n", 1, "debug must be true or false");
	expect_error("max-body-size = 12q\n", 1, "max-body-size must be a size");
	expect_error("max-body-size = 10\n", 1, "max-body-size"); /* < 1k */
	expect_error("header-timeout = soon\n", 1, "header-timeout must be a "
		     "duration");
	expect_error("header-timeout = -1s\n", 1, "header-timeout");
	expect_error("max-connections = 0\n", 1, "max-connections");
	expect_error("request-retry = -1\n", 1, "request-retry");
	expect_error("proxy-url = ftp://x\n", 1, "proxy-url must be");
	expect_error("api-keys =\n", 1, "api-keys needs a value");
	expect_error("[endpoints]\nclaude = localhost:1\n", 2,
		     "claude must start with http");
}

TEST(cfg_rejects_syntax_errors)
{
	expect_error("port = 1\n[unclosed\n", 2, "syntax error");
	expect_error("just words\n", 1, "syntax error");
}

TEST(cfg_hash_after_a_space_starts_an_inline_comment)
{
	/* " #" ends a value exactly like " ;"; a # with no space before it
	 * is part of the value (URL fragments, keys). */
	struct cfg c;
	char err[512];
	REQUIRE(load(&c, "port = 9000 # the usual\n"
			 "api-keys = secret # main key\n"
			 "api-keys = tabbed\t# tab before the #\n"
			 "api-keys = semi ; old style\n"
			 "api-keys = a#b\n"
			 "[openai-compatibility]\nname = mock # local\n"
			 "base-url = http://127.0.0.1:18111/v1 # local mock\n"
			 "model = up = alias # comment\n"
			 "[endpoints]\nclaude = http://x/#frag\n"
			 "codex = http://y/p#frag # a comment after it\n",
		     err, sizeof(err)) == 0);
	CHECK_EQ_INT(c.port, 9000);
	REQUIRE(c.api_keys.n == 4);
	CHECK_EQ_STR(c.api_keys.v[0], "secret");
	CHECK_EQ_STR(c.api_keys.v[1], "tabbed");
	CHECK_EQ_STR(c.api_keys.v[2], "semi");
	CHECK_EQ_STR(c.api_keys.v[3], "a#b");
	REQUIRE(c.n_compat == 1);
	CHECK_EQ_STR(c.compat[0].name, "mock");
	CHECK_EQ_STR(c.compat[0].base_url, "http://127.0.0.1:18111/v1");
	REQUIRE(c.compat[0].n_models == 1);
	CHECK_EQ_STR(c.compat[0].models[0].alias, "alias");
	CHECK_EQ_STR(c.endpoints[EP_CLAUDE], "http://x/#frag");
	CHECK_EQ_STR(c.endpoints[EP_CODEX], "http://y/p#frag");
	cfg_free(&c);
}

TEST(cfg_rejects_whitespace_in_urls_keys_and_model_names)
{
	/* Each of these is one token; a space inside is a mistake (two keys
	 * on a line, a comment without its " #"), never part of the value.
	 * Keys and URLs (user:pass@) are not echoed. */
	static const struct {
		const char *text;
		int line;
		const char *fragment;
	} bad[] = {
		{"proxy-url = http://u:SECRET@h:1 x\n", 1,
		 "proxy-url cannot contain spaces"},
		{"api-keys = sk-SECRET other\n", 1,
		 "api-keys cannot contain spaces"},
		{"api-keys = \"sk-SECRET other\"\n", 1,
		 "api-keys cannot contain spaces"},
		{"generative-language-api-key = AIza\tSECRET\n", 1,
		 "generative-language-api-key cannot contain spaces"},
		{"[remote-management]\nsecret-key = my SECRET\n", 2,
		 "secret-key cannot contain spaces"},
		{"[claude-api-key]\napi-key = sk-ant SECRET\n", 2,
		 "api-key cannot contain spaces"},
		{"[claude-api-key]\napi-key = k\n"
		 "base-url = http://SECRET@h /v1\n", 3,
		 "base-url cannot contain spaces"},
		{"[codex-api-key]\napi-key = sk\vSECRET\n", 2,
		 "api-key cannot contain spaces"},
		{"[codex-api-key]\napi-key = k\n"
		 "proxy-url = socks5://u:SECRET@h:1 x\n", 3,
		 "proxy-url cannot contain spaces"},
		{"[openai-compatibility]\nname = n\n"
		 "base-url = http://h/v1 SECRET\n", 3,
		 "base-url cannot contain spaces"},
		{"[openai-compatibility]\nname = n\n"
		 "api-keys = sk-or SECRET\n", 3,
		 "api-keys cannot contain spaces"},
		{"[openai-compatibility]\nname = n\n"
		 "proxy-url = http://u:SECRET@h:1 x\n", 3,
		 "proxy-url cannot contain spaces"},
		{"[openai-compatibility]\nname = n\nbase-url = http://h\n"
		 "model = up name = alias\n", 4,
		 "model names cannot contain spaces"},
		{"[openai-compatibility]\nname = n\nbase-url = http://h\n"
		 "model = up = my alias\n", 4,
		 "model names cannot contain spaces"},
		{"[openai-compatibility]\nname = n\nbase-url = http://h\n"
		 "model = up\tname\n", 4, "model names cannot contain spaces"},
		{"[endpoints]\nclaude = http://SECRET@h /x\n", 2,
		 "claude cannot contain spaces"},
	};
	size_t i;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error_hiding(bad[i].text, bad[i].line, bad[i].fragment,
				    "SECRET");
}

TEST(cfg_rejects_a_comma_in_key_lists_with_a_hint)
{
	/* YAML-ish "a,b" is one key per line in this INI. */
	expect_error_hiding("api-keys = sk-SECRET,k2\n", 1,
			    "api-keys has a comma: one key per line, repeat "
			    "api-keys for more", "SECRET");
	expect_error_hiding("api-keys = k1, sk-SECRET\n", 1,
			    "api-keys has a comma", "SECRET");
	expect_error_hiding("generative-language-api-key = AIza1,AIzaSECRET\n",
			    1, "repeat generative-language-api-key for more",
			    "SECRET");
	expect_error_hiding("[openai-compatibility]\nname = n\n"
			    "api-keys = k1,SECRET\n", 3,
			    "api-keys has a comma", "SECRET");
}

TEST(cfg_rejects_a_scalar_key_given_twice_naming_both_lines)
{
	struct cfg c;
	char err[512];

	/* The second value used to win silently. */
	expect_error("port = 1\nhost = x\nport = 2\n", 3,
		     "port is set twice (first on line 1)");
	expect_error("[remote-management]\nsecret-key = a\n"
		     "[quota-exceeded]\nswitch-project = true\n"
		     "[remote-management]\nsecret-key = SECRET\n", 6,
		     "secret-key is set twice (first on line 2)");
	expect_error_hiding("[claude-api-key]\napi-key = k1\n"
			    "api-key = sk-SECRET\n", 3,
			    "api-key is set twice (first on line 2)", "SECRET");
	expect_error("[claude-api-key]\napi-key = k1\n"
		     "proxy-url = http://h:1\nproxy-url = http://h:2\n", 4,
		     "proxy-url is set twice (first on line 3)");
	expect_error("[codex-api-key]\nbase-url = http://a\napi-key = k\n"
		     "base-url = http://b\n", 4,
		     "base-url is set twice (first on line 2)");
	expect_error("[openai-compatibility]\nname = a\nbase-url = http://a\n"
		     "name = b\n", 4, "name is set twice (first on line 2)");
	expect_error("[openai-compatibility]\nname = a\nbase-url = http://a\n"
		     "base-url = http://b\n", 4,
		     "base-url is set twice (first on line 3)");
	expect_error("[endpoints]\nclaude = http://a\n[endpoints]\n"
		     "claude = http://b\n", 4,
		     "claude is set twice (first on line 2)");

	/* Lists repeat; each new section is a new entry with its own keys. */
	REQUIRE(load(&c, "api-keys = a\napi-keys = b\n"
			 "generative-language-api-key = g1\n"
			 "generative-language-api-key = g2\n"
			 "[claude-api-key]\napi-key = k1\n"
			 "header = X-A: 1\nheaders = X-B: 2\n"
			 "[claude-api-key]\napi-key = k2\n"
			 "[openai-compatibility]\nname = a\n"
			 "base-url = http://a\napi-keys = x\napi-keys = y\n"
			 "model = m1\nmodels = m2\n"
			 "[openai-compatibility]\nname = b\n"
			 "base-url = http://b\n",
		     err, sizeof(err)) == 0);
	CHECK_EQ_INT(c.api_keys.n, 2);
	CHECK_EQ_INT(c.gl_api_keys.n, 2);
	CHECK_EQ_INT(c.n_claude_keys, 2);
	CHECK_EQ_INT(c.claude_keys[0].headers.n, 2);
	CHECK_EQ_INT(c.compat[0].api_keys.n, 2);
	CHECK_EQ_INT(c.compat[0].n_models, 2);
	CHECK_EQ_INT(c.n_compat, 2);
	cfg_free(&c);
}

TEST(cfg_requires_list_entry_fields)
{
	/* A whole-section error names the section's line. */
	expect_error("port = 1\n\n[claude-api-key]\nbase-url = https://x\n", 3,
		     "[claude-api-key] section has no api-key");
	expect_error("[claude-api-key]\napi-key = k\n[claude-api-key]\n"
		     "api-key = k2\n[codex-api-key]\napi-key = k3\n"
		     "[codex-api-key]\n", 7,
		     "[codex-api-key] section has no api-key");
	expect_error("\n[openai-compatibility]\nbase-url = https://x\n", 2,
		     "needs a name");
	expect_error("[openai-compatibility]\nname = a\n", 1,
		     "'a' needs a base-url");
	expect_error("[openai-compatibility]\nname = a\nbase-url = https://x\n"
		     "model = = alias\n", 4, "upstream model name");
	expect_error("[openai-compatibility]\nname = a\nbase-url = https://x\n"
		     "model = up =\n", 4, "model must be");
}

TEST(cfg_rejects_a_provider_name_or_alias_claimed_twice)
{
	struct cfg c;
	char err[512];

	expect_error("[openai-compatibility]\nname = or\nbase-url = http://a\n"
		     "[openai-compatibility]\nbase-url = http://b\n"
		     "name = or\n", 6,
		     "provider name 'or' is used twice (first on line 2)");
	/* The alias is what clients ask for: within one provider... */
	expect_error("[openai-compatibility]\nname = a\nbase-url = http://a\n"
		     "model = up1 = k2\nmodel = up2 = k2\n", 5,
		     "model alias 'k2' is claimed twice (first on line 4)");
	/* ...where a model without an alias claims its upstream name... */
	expect_error("[openai-compatibility]\nname = a\nbase-url = http://a\n"
		     "model = kimi\nmodel = other = kimi\n", 5,
		     "model alias 'kimi' is claimed twice (first on line 4)");
	/* ...and across providers. */
	expect_error("[openai-compatibility]\nname = a\nbase-url = http://a\n"
		     "model = up = k2\n"
		     "[openai-compatibility]\nname = b\nbase-url = http://b\n"
		     "model = other = k2\n", 8,
		     "model alias 'k2' is claimed twice (first on line 4)");
	/* With several repeats, the first one in the file is reported. */
	expect_error("[openai-compatibility]\nname = a\nbase-url = http://a\n"
		     "model = x\nmodel = y\nmodel = m = y\nmodel = n = x\n", 6,
		     "model alias 'y' is claimed twice (first on line 5)");
	expect_error("[openai-compatibility]\nname = a\nbase-url = http://a\n"
		     "model = x\nmodel = m = x\n"
		     "[openai-compatibility]\nname = a\nbase-url = http://b\n", 5,
		     "model alias 'x' is claimed twice (first on line 4)");

	/* One upstream model under two aliases is fine. */
	REQUIRE(load(&c, "[openai-compatibility]\nname = a\n"
			 "base-url = http://a\nmodel = up = one\n"
			 "model = up = two\nmodel = up\n"
			 "[openai-compatibility]\nname = b\n"
			 "base-url = http://b\nmodel = up = three\n",
		     err, sizeof(err)) == 0);
	CHECK_EQ_INT(c.compat[0].n_models, 3);
	cfg_free(&c);
}

TEST(cfg_names_the_line_that_breaks_max_body_total)
{
	expect_error("max-body-size = 8m\nport = 1\nmax-body-total = 1m\n", 3,
		     "max-body-total must be at least max-body-size (line 1)");
	expect_error("port = 1\nmax-body-total = 1m\n", 2,
		     "max-body-total must be at least max-body-size (8m by "
		     "default)");
	expect_error("port = 1\nmax-body-size = 128m\n", 2,
		     "max-body-size must be at most max-body-total (64m by "
		     "default)");
}

/* The cap is 4g where a long holds it and 1g where a long is 32 bits (a
 * 32-bit build once had 0 for a cap, and refused every value). */
#if LONG_MAX > 0x7fffffff
#define T_TOTAL_CAP (1L << 32)
#define T_TOTAL_OVER "5g"
#else
#define T_TOTAL_CAP (1L << 30)
#define T_TOTAL_OVER "2g"
#endif
TEST(cfg_max_body_total_cap_fits_a_long)
{
	struct cfg c;
	char err[256], text[64];

	snprintf(text, sizeof(text), "max-body-total = %ld\n", T_TOTAL_CAP);
	if (CHECK(load(&c, text, err, sizeof(err)) == 0)) {
		CHECK_EQ_INT(c.max_body_total, T_TOTAL_CAP);
		cfg_free(&c);
	}
	snprintf(text, sizeof(text), "max-body-total = %ld\n",
		 T_TOTAL_CAP + 1);
	expect_error(text, 1, "(from 1024 to ");
	snprintf(text, sizeof(text), "(from 1024 to %ld bytes)", T_TOTAL_CAP);
	expect_error("max-body-total = " T_TOTAL_OVER "\n", 1, text);
}

TEST(cfg_errors_never_echo_secret_values)
{
	struct cfg c;
	char err[512];
	/* A URL-typed key may carry user:pass: its value is never echoed. */
	REQUIRE(load(&c, "proxy-url = bad://user:hunter2@h\n", err,
		     sizeof(err)) < 0);
	CHECK(strstr(err, "hunter2") == NULL);
	REQUIRE(load(&c, "[claude-api-key]\napi-key = sk-ant-SECRET\n"
			 "bogus = 1\n", err, sizeof(err)) < 0);
	CHECK(strstr(err, "SECRET") == NULL);
	REQUIRE(load(&c, "[openai-compatibility]\nname = n\n"
			 "base-url = gopher://sk-SECRET\n", err,
		     sizeof(err)) < 0);
	CHECK(strstr(err, "SECRET") == NULL);
}

TEST(cfg_reads_upstream_headers)
{
	struct cfg c;
	char err[512];
	REQUIRE(load(&c, "[claude-api-key]\napi-key = k\n"
			 "header = anthropic-version:2024-01-01\n"
			 "header = X-Relay-Token:   t0k\tx\n"
			 "[openai-compatibility]\nname = n\n"
			 "base-url = http://127.0.0.1:9/v1\n"
			 "headers = HTTP-Referer: https://example.org\n",
		     err, sizeof(err)) == 0);
	REQUIRE(c.claude_keys[0].headers.n == 2);
	CHECK_EQ_STR(c.claude_keys[0].headers.v[0],
		     "anthropic-version: 2024-01-01");
	CHECK_EQ_STR(c.claude_keys[0].headers.v[1], "X-Relay-Token: t0k\tx");
	REQUIRE(c.compat[0].headers.n == 1);
	CHECK_EQ_STR(c.compat[0].headers.v[0],
		     "HTTP-Referer: https://example.org");
	cfg_free(&c);
}

TEST(cfg_reads_entry_proxy_urls)
{
	struct cfg c;
	char err[512];
	REQUIRE(load(&c, "proxy-url = socks5://10.0.0.1:1080\n"
			 "[claude-api-key]\napi-key = k\n"
			 "proxy-url = http://u:p@10.0.0.2:3128\n"
			 "[claude-api-key]\napi-key = k2\n"
			 "[openai-compatibility]\nname = n\n"
			 "base-url = http://127.0.0.1:9/v1\n"
			 "proxy-url = socks5h://10.0.0.3:1080\n",
		     err, sizeof(err)) == 0);
	CHECK_EQ_STR(c.proxy_url, "socks5://10.0.0.1:1080");
	CHECK_EQ_STR(c.claude_keys[0].proxy_url, "http://u:p@10.0.0.2:3128");
	CHECK(c.claude_keys[1].proxy_url == NULL);
	CHECK_EQ_STR(c.compat[0].proxy_url, "socks5h://10.0.0.3:1080");
	cfg_free(&c);
	expect_error("[claude-api-key]\napi-key = k\nproxy-url = ftp://h:1\n", 3,
		     "proxy-url must be");
	REQUIRE(load(&c, "[openai-compatibility]\nname = n\n"
			 "proxy-url = gopher://u:hunter2@h\n",
		     err, sizeof(err)) < 0);
	CHECK(strstr(err, "hunter2") == NULL);
}

TEST(cfg_rejects_bad_upstream_headers_without_echoing_them)
{
	struct cfg c;
	char err[512];
	expect_error("[claude-api-key]\napi-key = k\nheader = no colon here\n",
		     3, "'Name: value'");
	expect_error("[claude-api-key]\napi-key = k\nheader = : v\n", 3,
		     "'Name: value'");
	expect_error("[claude-api-key]\napi-key = k\nheader = Bad Name: v\n",
		     3, "does not allow");
	expect_error("[openai-compatibility]\nname = n\nheader = Host: x\n", 3,
		     "cannot set host");
	expect_error("[openai-compatibility]\nname = n\n"
		     "header = content-LENGTH: 5\n", 3,
		     "cannot set content-length");
	REQUIRE(load(&c, "[claude-api-key]\napi-key = k\n"
			 "header = X Token: sk-SECRET\n",
		     err, sizeof(err)) < 0);
	CHECK(strstr(err, "SECRET") == NULL);
}

TEST(cfg_reads_upstream_headers_per_kind)
{
	struct cfg c;
	char err[512];
	REQUIRE(load(&c, "[upstream-headers]\n"
			 "claude-login = User-Agent: claude-cli/2.1.230 "
			 "(external, cli)\n"
			 "claude-login = X-Stainless-Package-Version:0.95.0\n"
			 "claude-login = X-App:\n"
			 "gemini-cli = User-Agent: GeminiCLI/0.40.0/{model} "
			 "(linux; x64; terminal)\n"
			 "claude = X-App: cli\n",
		     err, sizeof(err)) == 0);
	REQUIRE(c.up_headers[UH_CLAUDE_LOGIN].n == 3);
	CHECK_EQ_STR(c.up_headers[UH_CLAUDE_LOGIN].v[0],
		     "User-Agent: claude-cli/2.1.230 (external, cli)");
	CHECK_EQ_STR(c.up_headers[UH_CLAUDE_LOGIN].v[1],
		     "X-Stainless-Package-Version: 0.95.0");
	CHECK_EQ_STR(c.up_headers[UH_CLAUDE_LOGIN].v[2], "X-App: ");
	REQUIRE(c.up_headers[UH_GEMINI_CLI].n == 1);
	CHECK_EQ_STR(c.up_headers[UH_GEMINI_CLI].v[0],
		     "User-Agent: GeminiCLI/0.40.0/{model} (linux; x64; "
		     "terminal)");
	CHECK_EQ_INT(c.up_headers[UH_CLAUDE].n, 1);
	CHECK_EQ_INT(c.up_headers[UH_CODEX_LOGIN].n, 0);
	cfg_free(&c);
}

TEST(cfg_rejects_bad_upstream_header_lines_naming_the_line)
{
	expect_error("[upstream-headers]\nclaude-code = User-Agent: x\n", 2,
		     "unknown upstream kind 'claude-code' in "
		     "[upstream-headers] (one of gemini, claude, codex, "
		     "gemini-cli, antigravity, codex-login, claude-login, "
		     "qwen)");
	expect_error("[upstream-headers]\ncodex-login = no colon\n", 2,
		     "'Name: value'");
	expect_error("[upstream-headers]\nqwen = Bad Name: v\n", 2,
		     "does not allow");
	expect_error("[upstream-headers]\nqwen = Connection: close\n", 2,
		     "cannot set connection");
	expect_error("[upstream-headers]\nclaude = X-A: 1\n"
		     "claude = x-a: 2\n", 3,
		     "x-a is set twice for claude (first on line 2)");
	/* the credential and the headers of each call are the proxy's */
	expect_error("[upstream-headers]\nclaude-login = Authorization: "
		     "Bearer x\n", 2, "cannot set authorization");
	expect_error("[upstream-headers]\nclaude = X-Api-Key: k\n", 2,
		     "cannot set x-api-key");
	expect_error("[upstream-headers]\ngemini = x-goog-api-key: k\n", 2,
		     "cannot set x-goog-api-key");
	expect_error("[upstream-headers]\nclaude-login = anthropic-beta: "
		     "a\n", 2, "cannot set anthropic-beta");
	expect_error("[upstream-headers]\ncodex-login = Session-Id: s\n", 2,
		     "cannot set session-id");
	/* a value that could be a secret is not echoed */
	expect_error_hiding("[upstream-headers]\ncodex = X-Tok\x01: "
			    "sk-SECRET\n", 2, "does not allow", "SECRET");
}

TEST(cfg_load_reports_missing_file)
{
	struct cfg c;
	char err[256];
	CHECK(cfg_load(&c, "/nonexistent/dir/config.ini", err,
		       sizeof(err)) < 0);
	CHECK(strstr(err, "/nonexistent/dir/config.ini") != NULL);
}
