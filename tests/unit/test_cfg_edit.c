/*
 * test_cfg_edit.c - setting one value of a config.ini (cfg_edit.c): only
 * the old value's bytes change, the line changed is the one cfg_load
 * reads, and the file keeps its mode, its symlink and its other bytes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "ini.h"
#include "t.h"

#define RM "remote-management"
#define HASH "$2a$10$N9qo8uLOickgx2ZMRZoMye/IjZAgcfl7p92ldGxad68LJZdL17lhWy"

/* cfg_edit_value on a guarded copy of text; its result, and in *got
 * the output (static, valid until the next call). */
static int edit(const char *text, const char *section, const char *key,
		const char *value, const char **got)
{
	static char res[4096];
	size_t n = strlen(text);
	char *g = t_guarded_copy(text, n);
	struct buf out;
	int rc;

	buf_init(&out, 1 << 20);
	rc = cfg_edit_value(g, n, section, key, value, &out);
	if (rc != 0 && out.len != 0)
		FAILF("result %d but %zu bytes written", rc, out.len);
	snprintf(res, sizeof(res), "%.*s", (int)out.len, out.p ? out.p : "");
	*got = res;
	buf_free(&out);
	t_guarded_free(g);
	return rc;
}

/* The edit gives want; and when the key is [remote-management]
 * secret-key and cfg_load takes the text, it reads the new value from
 * the result. */
static void expect(const char *text, const char *section, const char *key,
		   const char *value, const char *want)
{
	const char *got;
	struct cfg c;
	char err[256];

	if (!CHECK_EQ_INT(edit(text, section, key, value, &got), 0))
		return;
	if (!CHECK_EQ_STR(got, want))
		return;
	if (!section || strcmp(section, RM) || strcmp(key, "secret-key"))
		return;
	if (cfg_load_string(&c, text, "t.ini", err, sizeof(err)) < 0)
		return;
	cfg_free(&c);
	if (!CHECK_EQ_INT(cfg_load_string(&c, got, "t.ini", err, sizeof(err)),
			  0)) {
		FAILF("%s", err);
		return;
	}
	CHECK_EQ_STR(c.rm_secret_key ? c.rm_secret_key : "", value);
	cfg_free(&c);
}

static void expect_rc(const char *text, const char *section,
		      const char *key, const char *value, int want)
{
	const char *got;
	CHECK_EQ_INT(edit(text, section, key, value, &got), want);
}

TEST(cfg_edit_keeps_comments_byte_for_byte)
{
	expect("; cli-proxy-api\n"
	       "# second comment\n"
	       "port = 8317 ; inline # both\n"
	       "\n"
	       "[remote-management]\n"
	       "; hashed at start-up\n"
	       "allow-remote = false\t# not yet\n"
	       "  secret-key   =   hunter2  \t ; set by hand # more\n"
	       "; after\n"
	       "[streaming]\n"
	       "keepalive-seconds = 0\n",
	       RM, "secret-key", HASH,
	       "; cli-proxy-api\n"
	       "# second comment\n"
	       "port = 8317 ; inline # both\n"
	       "\n"
	       "[remote-management]\n"
	       "; hashed at start-up\n"
	       "allow-remote = false\t# not yet\n"
	       "  secret-key   =   " HASH "  \t ; set by hand # more\n"
	       "; after\n"
	       "[streaming]\n"
	       "keepalive-seconds = 0\n");
	/* ';' or '#' without whitespace before it is part of the value */
	expect("[remote-management]\nsecret-key = a;b#c ;d\n", RM,
	       "secret-key", "x", "[remote-management]\nsecret-key = x ;d\n");
	/* a commented-out line with the key is not the key */
	expect("[remote-management]\n;secret-key = old\n  # secret-key = o\n"
	       "secret-key = new\n", RM, "secret-key", "x",
	       "[remote-management]\n;secret-key = old\n  # secret-key = o\n"
	       "secret-key = x\n");
}

TEST(cfg_edit_keeps_crlf_bom_and_missing_newline)
{
	expect("port = 1\r\n[remote-management]\r\nsecret-key = hunter2\r\n"
	       "allow-remote = true\r\n", RM, "secret-key", HASH,
	       "port = 1\r\n[remote-management]\r\nsecret-key = " HASH "\r\n"
	       "allow-remote = true\r\n");
	expect("[remote-management]\r\nsecret-key = hunter2 ; c\r\n", RM,
	       "secret-key", HASH,
	       "[remote-management]\r\nsecret-key = " HASH " ; c\r\n");
	expect("[remote-management]\nsecret-key = hunter2", RM, "secret-key",
	       HASH, "[remote-management]\nsecret-key = " HASH);
	expect("[remote-management]\r\nsecret-key = hunter2\r", RM,
	       "secret-key", HASH,
	       "[remote-management]\r\nsecret-key = " HASH "\r");
	expect("\xEF\xBB\xBF[remote-management]\nsecret-key = hunter2\n", RM,
	       "secret-key", HASH,
	       "\xEF\xBB\xBF[remote-management]\nsecret-key = " HASH "\n");
	expect("\xEF\xBB\xBFport = 1\n", NULL, "port", "2",
	       "\xEF\xBB\xBFport = 2\n");
	/* a BOM is only skipped at the start of the file */
	expect_rc("port = 1\n\xEF\xBB\xBFport = 2\n", NULL, "port", "3", 0);
	expect_rc("\n\xEF\xBB\xBFport = 2\n", "", "port", "3", 1);
}

TEST(cfg_edit_matches_the_section_and_the_key_exactly)
{
	const char *text = "secret-key = top\n"
			   "[claude-api-key]\nsecret-key = other\n"
			   "[remote-management]\nsecret-key-old = a\n"
			   "Secret-Key = b\nsecret = c\nsecret-key = rm\n";
	const char *got;

	expect(text, RM, "secret-key", "x",
	       "secret-key = top\n"
	       "[claude-api-key]\nsecret-key = other\n"
	       "[remote-management]\nsecret-key-old = a\n"
	       "Secret-Key = b\nsecret = c\nsecret-key = x\n");
	expect(text, NULL, "secret-key", "x",
	       "secret-key = x\n"
	       "[claude-api-key]\nsecret-key = other\n"
	       "[remote-management]\nsecret-key-old = a\n"
	       "Secret-Key = b\nsecret = c\nsecret-key = rm\n");
	expect(text, "", "secret-key", "x",
	       "secret-key = x\n"
	       "[claude-api-key]\nsecret-key = other\n"
	       "[remote-management]\nsecret-key-old = a\n"
	       "Secret-Key = b\nsecret = c\nsecret-key = rm\n");
	expect(text, "claude-api-key", "secret-key", "x",
	       "secret-key = top\n"
	       "[claude-api-key]\nsecret-key = x\n"
	       "[remote-management]\nsecret-key-old = a\n"
	       "Secret-Key = b\nsecret = c\nsecret-key = rm\n");
	/* the key only in another section, or only at the top level */
	expect_rc("[claude-api-key]\nsecret-key = k\n[remote-management]\n"
		  "allow-remote = true\n", RM, "secret-key", "x", 1);
	expect_rc("secret-key = k\n[remote-management]\n", RM, "secret-key",
		  "x", 1);
	expect_rc("[remote-management]\nsecret-key = k\n", NULL,
		  "secret-key", "x", 1);
	expect_rc("", RM, "secret-key", "x", 1);
	expect_rc(text, "remote", "secret-key", "x", 1);
	expect_rc(text, RM, "secret-ke", "x", 1);
	CHECK_EQ_INT(edit(text, "nope", "secret-key", "x", &got), 1);
	CHECK_EQ_STR(got, "");
}

TEST(cfg_edit_reads_section_headers_as_inih_does)
{
	/* whitespace around the brackets and text after ']' are ignored */
	expect("  [remote-management]  ; hashed\nsecret-key = k\n", RM,
	       "secret-key", "x",
	       "  [remote-management]  ; hashed\nsecret-key = x\n");
	expect("[remote-management] junk\nsecret-key = k\n", RM,
	       "secret-key", "x",
	       "[remote-management] junk\nsecret-key = x\n");
	/* ... but not inside them */
	expect_rc("[ remote-management ]\nsecret-key = k\n", RM,
		  "secret-key", "x", 1);
	expect_rc("[remote-management ]\nsecret-key = k\n", RM,
		  "secret-key", "x", 1);
	/* names are cut to 49 bytes, as inih's buffer does */
	expect("[0123456789012345678901234567890123456789012345678xyz]\n"
	       "k = v\n", "0123456789012345678901234567890123456789012345678",
	       "k", "w",
	       "[0123456789012345678901234567890123456789012345678xyz]\n"
	       "k = w\n");
	expect_rc("k = v\n", "01234567890123456789012345678901234567890123456789",
		  "k", "w", -1);
}

TEST(cfg_edit_takes_the_first_match_of_repeated_sections)
{
	expect("[remote-management]\nallow-remote = true\n"
	       "[streaming]\nsecret-key = s\n"
	       "[remote-management]\nsecret-key = first\n"
	       "secret-key = second\n"
	       "[remote-management]\nsecret-key = third\n",
	       RM, "secret-key", "x",
	       "[remote-management]\nallow-remote = true\n"
	       "[streaming]\nsecret-key = s\n"
	       "[remote-management]\nsecret-key = x\n"
	       "secret-key = second\n"
	       "[remote-management]\nsecret-key = third\n");
	expect("[claude-api-key]\napi-key = a\n[claude-api-key]\n"
	       "api-key = b\n", "claude-api-key", "api-key", "x",
	       "[claude-api-key]\napi-key = x\n[claude-api-key]\n"
	       "api-key = b\n");
}

TEST(cfg_edit_keeps_the_spacing_around_the_separator)
{
	expect("[remote-management]\nsecret-key=hunter2\n", RM, "secret-key",
	       HASH, "[remote-management]\nsecret-key=" HASH "\n");
	expect("[remote-management]\n\tsecret-key\t=\thunter2\t\n", RM,
	       "secret-key", HASH,
	       "[remote-management]\n\tsecret-key\t=\t" HASH "\t\n");
	expect("[remote-management]\nsecret-key : hunter2\n", RM,
	       "secret-key", HASH,
	       "[remote-management]\nsecret-key : " HASH "\n");
	/* the first '=' or ':' separates; the rest is the value */
	expect("[remote-management]\nsecret-key = a=b:c\n", RM, "secret-key",
	       "x", "[remote-management]\nsecret-key = x\n");
	expect("[remote-management]\nsecret-key = \"hunter2\"\n", RM,
	       "secret-key", HASH,
	       "[remote-management]\nsecret-key = " HASH "\n");
	/* values with '$', '/', '=', ';', '#', inner spaces */
	expect("[remote-management]\nsecret-key = old\n", RM, "secret-key",
	       "a$b/c=d;e#f", "[remote-management]\nsecret-key = "
	       "a$b/c=d;e#f\n");
	expect("[x]\nk = old\n", "x", "k", "a b\tc", "[x]\nk = a b\tc\n");
}

TEST(cfg_edit_fills_an_empty_value)
{
	expect("[remote-management]\nsecret-key =\n", RM, "secret-key", HASH,
	       "[remote-management]\nsecret-key = " HASH "\n");
	expect("[remote-management]\nsecret-key=\n", RM, "secret-key", HASH,
	       "[remote-management]\nsecret-key=" HASH "\n");
	expect("[remote-management]\nsecret-key = \n", RM, "secret-key",
	       HASH, "[remote-management]\nsecret-key = " HASH " \n");
	expect("[remote-management]\nsecret-key =   ; none yet\n", RM,
	       "secret-key", HASH,
	       "[remote-management]\nsecret-key = " HASH "   ; none yet\n");
	expect("[remote-management]\nsecret-key =\r\n", RM, "secret-key",
	       HASH, "[remote-management]\nsecret-key = " HASH "\r\n");
	expect("[remote-management]\nsecret-key =", RM, "secret-key", HASH,
	       "[remote-management]\nsecret-key = " HASH);
	expect("[remote-management]\nsecret-key =\n", RM, "secret-key", "",
	       "[remote-management]\nsecret-key =\n");
	/* and a value can be emptied */
	expect("[remote-management]\nsecret-key = old ; c\n", RM,
	       "secret-key", "", "[remote-management]\nsecret-key =  ; c\n");
}

TEST(cfg_edit_refuses_what_would_not_read_back)
{
	const char *text = "[remote-management]\nsecret-key = k\n";
	static const char *const bad_values[] = {
		"a\nb", "a\rb", " lead", "trail ", "\tx", ";x", "#x", "a ;b",
		"a\t#b", NULL,
	};
	static const char *const bad_keys[] = {
		"", "a=b", "a:b", " secret-key", "secret-key ", "a\nb", NULL,
	};
	size_t i;
	struct buf out;

	for (i = 0; bad_values[i]; i++)
		expect_rc(text, RM, "secret-key", bad_values[i], -1);
	for (i = 0; bad_keys[i]; i++)
		expect_rc(text, RM, bad_keys[i], "x", -1);
	expect_rc(text, "a]b", "secret-key", "x", -1);
	/* a NUL byte */
	buf_init(&out, 1024);
	CHECK_EQ_INT(cfg_edit_value("k = v\n\0", 7, NULL, "k", "w", &out), -1);
	/* out has no room: untouched */
	buf_free(&out);
	buf_init(&out, 8);
	buf_puts(&out, "keep");
	CHECK_EQ_INT(cfg_edit_value(text, strlen(text), RM, "secret-key", "x",
				    &out), -1);
	CHECK_SPAN(out.p, out.len, "keep");
	CHECK(!out.overflow);
	buf_free(&out);
}

TEST(cfg_edit_stops_at_a_syntax_error_before_the_key)
{
	expect_rc("[remote-management]\njunk line\nsecret-key = k\n", RM,
		  "secret-key", "x", -1);
	expect_rc("[remote-management\nsecret-key = k\n", RM, "secret-key",
		  "x", -1);
	expect_rc("[remote-management]\nsecret ;key = k\n", RM, "secret-key",
		  "x", -1);
	expect_rc("[remote-management]\n[x ;]\nsecret-key = k\n", RM,
		  "secret-key", "x", -1);
	/* after it, the edit is done (cfg_load would refuse the file) */
	expect_rc("[remote-management]\nsecret-key = k\njunk\n", RM,
		  "secret-key", "x", 0);
}

TEST(cfg_edit_keeps_lines_within_ini_max_line)
{
	size_t n = INI_MAX_LINE + 64;
	char *text = malloc(n), *value = malloc(n);
	struct buf out;

	REQUIRE(text && value);
	buf_init(&out, 4 * n);
	/* a line of INI_MAX_LINE - 1 bytes with its '\n' is read whole */
	memcpy(text, "k = ", 4);
	memset(text + 4, 'v', INI_MAX_LINE - 6);
	memcpy(text + INI_MAX_LINE - 2, "\nj = 1\n", 8);
	CHECK_EQ_INT(cfg_edit_value(text, strlen(text), NULL, "j", "2", &out),
		     0);
	buf_reset(&out);
	/* one byte more is a syntax error for inih */
	memset(text + 4, 'v', INI_MAX_LINE - 5);
	memcpy(text + INI_MAX_LINE - 1, "\nj = 1\n", 8);
	CHECK_EQ_INT(cfg_edit_value(text, strlen(text), NULL, "j", "2", &out),
		     -1);
	/* the edited line may not grow past it */
	memset(value, 'w', INI_MAX_LINE - 6);
	value[INI_MAX_LINE - 6] = '\0';
	CHECK_EQ_INT(cfg_edit_value("k = v\n", 6, NULL, "k", value, &out), 0);
	buf_reset(&out);
	value[INI_MAX_LINE - 6] = 'w';
	value[INI_MAX_LINE - 5] = '\0';
	CHECK_EQ_INT(cfg_edit_value("k = v\n", 6, NULL, "k", value, &out), -1);
	CHECK_EQ_INT(out.len, 0);
	buf_free(&out);
	free(text);
	free(value);
}

/* ---- cfg_edit_file ------------------------------------------------------ */

static int mkdir_tmp(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/ut-cfg-edit-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static void rm_tmp(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		FAILF("could not remove %s", dir);
}

static int count_entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

#define FILE_TEXT \
	"; config\r\nport = 8317\r\n[remote-management]\r\n" \
	"secret-key = hunter2 ; plain\r\n"

TEST(cfg_edit_file_keeps_mode_and_bytes)
{
	char dir[64], path[128], err[256];
	struct stat st;

	REQUIRE(mkdir_tmp(dir, sizeof(dir)) == 0);
	snprintf(path, sizeof(path), "%s/config.ini", dir);
	t_put(path, FILE_TEXT, 0640);
	CHECK_EQ_INT(cfg_edit_file(path, RM, "secret-key", HASH, err,
				   sizeof(err)), 0);
	CHECK_EQ_STR(err, "");
	CHECK_EQ_STR(t_slurp(path), "; config\r\nport = 8317\r\n"
		     "[remote-management]\r\nsecret-key = " HASH " ; plain\r\n");
	REQUIRE(stat(path, &st) == 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0640);
	CHECK_EQ_INT(count_entries(dir), 1);
	rm_tmp(dir);
}

TEST(cfg_edit_file_writes_through_a_symlink)
{
	char dir[64], real[128], sub[128], link[128], err[256];
	struct stat st;

	REQUIRE(mkdir_tmp(dir, sizeof(dir)) == 0);
	snprintf(sub, sizeof(sub), "%s/etc", dir);
	snprintf(real, sizeof(real), "%s/etc/config.ini", dir);
	snprintf(link, sizeof(link), "%s/config.ini", dir);
	REQUIRE(mkdir(sub, 0700) == 0);
	t_put(real, FILE_TEXT, 0600);
	REQUIRE(symlink("etc/config.ini", link) == 0);
	CHECK_EQ_INT(cfg_edit_file(link, RM, "secret-key", HASH, err,
				   sizeof(err)), 0);
	REQUIRE(lstat(link, &st) == 0);
	CHECK(S_ISLNK(st.st_mode));
	CHECK(strstr(t_slurp(real), "secret-key = " HASH " ; plain\r\n"));
	CHECK_EQ_INT(count_entries(sub), 1);
	CHECK_EQ_INT(count_entries(dir), 2);
	rm_tmp(dir);
}

TEST(cfg_edit_file_reports_without_values)
{
	char dir[64], path[128], err[256];
	struct stat before, after;

	REQUIRE(mkdir_tmp(dir, sizeof(dir)) == 0);
	snprintf(path, sizeof(path), "%s/config.ini", dir);
	t_put(path, "secret-key = hunter2\n[remote-management]\n", 0600);
	REQUIRE(stat(path, &before) == 0);
	CHECK_EQ_INT(cfg_edit_file(path, RM, "secret-key", HASH, err,
				   sizeof(err)), 1);
	CHECK(strstr(err, "config.ini: no 'secret-key' in "
		      "[remote-management]") != NULL);
	CHECK(!strstr(err, "hunter2") && !strstr(err, "$2a$"));
	REQUIRE(stat(path, &after) == 0);
	CHECK(after.st_ino == before.st_ino); /* not rewritten */
	CHECK_EQ_STR(t_slurp(path), "secret-key = hunter2\n[remote-management]\n");

	t_put(path, "[remote-management]\nhunter2\nsecret-key = hunter2\n",
	    0600);
	CHECK_EQ_INT(cfg_edit_file(path, RM, "secret-key", HASH, err,
				   sizeof(err)), -1);
	CHECK(strstr(err, "cannot set 'secret-key' in [remote-management]"));
	CHECK(!strstr(err, "hunter2") && !strstr(err, "$2a$"));
	CHECK_EQ_INT(cfg_edit_file(path, RM, "secret-key", "bad\nvalue", err,
				   sizeof(err)), -1);
	CHECK(!strstr(err, "bad"));

	snprintf(path, sizeof(path), "%s/missing.ini", dir);
	CHECK_EQ_INT(cfg_edit_file(path, NULL, "port", "1", err, sizeof(err)),
		     -1);
	CHECK(strstr(err, "missing.ini: cannot open") != NULL);
	CHECK_EQ_INT(cfg_edit_file(dir, NULL, "port", "1", err, sizeof(err)),
		     -1);
	CHECK(strstr(err, "not a regular file") != NULL);
	CHECK_EQ_INT(count_entries(dir), 1);
	rm_tmp(dir);
}
