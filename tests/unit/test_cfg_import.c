/*
 * test_cfg_import.c - a CLIProxyAPI config.yaml as config.ini
 * (cfg_import.c): keys, sections and entries in their INI spelling, the
 * reference's other spellings, comments, values that must be quoted or
 * cannot be written, and what is no config at all.  Every input comes
 * from a guarded copy that ends right after its NUL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cfg_import.h"
#include "sizes.h"
#include "t.h"

struct imp_res {
	int rc;
	char ini[65536], notes[4096];
};

static const struct imp_res *import(const char *text)
{
	static struct imp_res r;
	size_t n = strlen(text);
	char *g = t_guarded_copy(text, n + 1);
	struct buf ini, notes;

	buf_init(&ini, 1 << 20);
	buf_init(&notes, 1 << 20);
	r.rc = cfg_import_yaml("c.yaml", g, n, &ini, &notes);
	snprintf(r.ini, sizeof(r.ini), "%.*s", (int)ini.len,
		 ini.p ? ini.p : "");
	snprintf(r.notes, sizeof(r.notes), "%.*s", (int)notes.len,
		 notes.p ? notes.p : "");
	buf_free(&ini);
	buf_free(&notes);
	t_guarded_free(g);
	return &r;
}

#define HEAD "; config.ini made by cli-proxy-api --import-yaml from c.yaml\n" \
	     "; (the keys it left out are listed on stderr)\n\n"

TEST(import_keys_sections_and_entries)
{
	const struct imp_res *r = import(
		"# the port\n"
		"port: 8317 # default\n"
		"remote-management:\n"
		"  allow-remote: no\n"
		"api-keys: [k1, \"k2\"]\n"
		"claude-api-key:\n"
		"  - api-key: a\n"
		"    headers: {}\n"
		"  - api-key: b\n"
		"    base-url: https://x\n"
		"    headers:\n"
		"      X-A: v\n"
		"      X-B:\n"
		"debug: Y\n");

	CHECK_EQ_INT(r->rc, 0);
	CHECK_EQ_STR(r->notes, "");
	CHECK_EQ_STR(r->ini, HEAD
		     "; the port\n"
		     "; default\n"
		     "port = 8317\n"
		     "api-keys = k1\n"
		     "api-keys = k2\n"
		     "debug = true\n"
		     "\n"
		     "[remote-management]\n"
		     "allow-remote = no\n"
		     "\n"
		     "[claude-api-key]\n"
		     "api-key = a\n"
		     "\n"
		     "[claude-api-key]\n"
		     "api-key = b\n"
		     "base-url = https://x\n"
		     "header = X-A: v\n"
		     "header = X-B:\n");
}

TEST(import_renames_and_models)
{
	const struct imp_res *r = import(
		"gemini-api-key:\n"
		"  - api-key: g1\n"
		"    prefix: p\n"
		"  - g2\n"
		"openai-compatibility:\n"
		"  - name: or\n"
		"    base-url: http://h/v1\n"
		"    api-key-entries:\n"
		"      - api-key: s1 # first\n"
		"        proxy-url: socks5://p:1\n"
		"    models:\n"
		"      - name: up/m:free\n"
		"        alias: m\n"
		"        display-name: M\n"
		"      - name: plain\n"
		"      - {}\n");

	CHECK_EQ_INT(r->rc, 0);
	CHECK_EQ_STR(r->notes,
		     "c.yaml:3: 'gemini-api-key.prefix' is not supported yet, "
		     "skipped\n"
		     "c.yaml:10: 'openai-compatibility.api-key-entries."
		     "proxy-url' is not supported yet, skipped\n"
		     "c.yaml:14: 'openai-compatibility.models.display-name' is "
		     "not supported yet, skipped\n"
		     "c.yaml:16: 'openai-compatibility.models' has no value, "
		     "skipped\n");
	CHECK_EQ_STR(r->ini, HEAD
		     "generative-language-api-key = g1\n"
		     "generative-language-api-key = g2\n"
		     "\n"
		     "[openai-compatibility]\n"
		     "name = or\n"
		     "base-url = http://h/v1\n"
		     "; first\n"
		     "api-keys = s1\n"
		     "model = up/m:free = m\n"
		     "model = plain\n");
}

TEST(import_values_read_back_or_are_refused)
{
	const struct imp_res *r = import(
		"host: \" 127.0.0.1\"\n"
		"auth-dir: ';dir'\n"
		"proxy-url: '\"x\"'\n"
		"ca-file: \"a ;b\"\n"
		"api-keys:\n"
		"  - \"x\\ny\"\n"
		"  - a#b\n"
		"  - ''\n"
		"request-retry:\n"
		"access-log: maybe\n");

	CHECK_EQ_INT(r->rc, 0);
	CHECK(strstr(r->ini, "host = \" 127.0.0.1\"\n"));
	CHECK(strstr(r->ini, "auth-dir = \";dir\"\n"));
	CHECK(strstr(r->ini, "proxy-url = \"\"x\"\"\n"));
	CHECK(!strstr(r->ini, "ca-file"));
	CHECK(strstr(r->ini, "api-keys = a#b\n"));
	CHECK(strstr(r->ini, "access-log = maybe\n"));
	CHECK(strstr(r->notes, "c.yaml:4: 'ca-file' cannot be written in "
			       "config.ini"));
	CHECK(strstr(r->notes, "c.yaml:6: 'api-keys' cannot be written"));
	CHECK(strstr(r->notes, "c.yaml:8: 'api-keys' has no value, skipped"));
	CHECK(strstr(r->notes, "c.yaml:9: 'request-retry' has no value"));
	/* cfg.c refuses the result (maybe is no boolean): one more note */
	CHECK(strstr(r->notes, "c.yaml: the result does not load as it is: "
			       "(output):"));
	CHECK(!strstr(r->notes, "x\ny"));
}

TEST(import_durations_pass_through_to_cfg)
{
	const struct imp_res *r = import(
		"idle-timeout: 90s\n"
		"header-timeout: 30\n"
		"write-timeout: 1m30s\n");

	CHECK_EQ_INT(r->rc, 0);
	CHECK_EQ_STR(r->ini, HEAD
		     "idle-timeout = 90s\n"
		     "header-timeout = 30\n"
		     "write-timeout = 1m30s\n");
	/* a Go duration of two parts is no duration of ours: cfg.c says so */
	CHECK(strstr(r->notes, "(output):6: write-timeout must be a duration"));
}

TEST(import_refuses_what_is_no_config)
{
	const struct imp_res *r = import("");
	CHECK_EQ_INT(r->rc, -1);
	CHECK_EQ_STR(r->notes, "c.yaml: no settings (the file is empty or "
		     "only comments)\n");
	CHECK_EQ_STR(r->ini, "");
	r = import("- a\n");
	CHECK_EQ_INT(r->rc, -1);
	CHECK_EQ_STR(r->notes, "c.yaml:1: the top level is not a map of "
		     "keys\n");
	r = import("a: 1\n\tb: 2\n");
	CHECK_EQ_INT(r->rc, -1);
	CHECK_EQ_STR(r->notes, "c.yaml:2: tab in the indentation\n");
	r = import("remote-management: [a]\ntls:\n  enable: true\n");
	CHECK_EQ_INT(r->rc, 0);
	CHECK_EQ_STR(r->notes, "c.yaml:1: 'remote-management' is a list or "
		     "map where a value belongs, or the reverse, skipped\n"
		     "c.yaml:2: 'tls' is not supported yet, skipped\n");
}

TEST(import_comments_fit_inih_lines)
{
	static char text[3 * CFG_LINE_MAX];
	const struct imp_res *r;
	const char *c;
	size_t n;

	/* a comment longer than a line is cut on a UTF-8 boundary */
	n = (size_t)sprintf(text, "port: 1 #");
	while (n < 2 * CFG_LINE_MAX)
		n += (size_t)sprintf(text + n, "\xc3\xa9");
	sprintf(text + n, "\n");
	r = import(text);
	CHECK_EQ_INT(r->rc, 0);
	CHECK_EQ_STR(r->notes, "");
	REQUIRE((c = strstr(r->ini, "\n;\xc3\xa9")) != NULL);
	n = strcspn(c + 1, "\n");
	CHECK(n <= CFG_LINE_MAX - 2 && n % 2 == 1);
	CHECK(!strcmp(c + 1 + n, "\nport = 1\n"));
}

TEST(import_notes_keep_names_on_one_line)
{
	const struct imp_res *r = import("\"a\\nb\\tc\": 1\nport: 2\n");

	CHECK_EQ_INT(r->rc, 0);
	CHECK_EQ_STR(r->notes, "c.yaml:1: 'a?b?c' is not supported yet, "
		     "skipped\n");
}
