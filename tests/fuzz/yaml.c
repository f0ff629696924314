/*
 * yaml.c - fuzz target: the YAML reader (yaml_parse) and the config.yaml
 * import on top of it (cfg_import_yaml).
 *
 * Input: one option byte, then a YAML text (any bytes).  Option bits:
 *   0     the text is also read with CRLF line ends ('\n' -> "\r\n")
 *   1     ... and with a UTF-8 BOM before it
 * Checks:
 *   - yaml_parse returns 0 or -1; on -1 a message and a line within the
 *     text; on 0 a well-formed tree: the root first, every other node
 *     reached once from it through child/next, children after their
 *     parent and in line order, map entries with keys and sequence items
 *     without, strings inside the text's buffer with no NUL before their
 *     end, lead <= line, nesting no deeper than YAML_DEPTH_MAX levels (a
 *     flow list one more), comments inside the buffer;
 *   - the same text with CRLF line ends or a BOM (when it holds no CR)
 *     gives the same tree, or the same error on the same line;
 *   - cfg_import_yaml returns 0 exactly when the reader did and the root
 *     is a map; its output is an INI that inih (cfg.c's options) reads
 *     with no syntax error, every line within INI_MAX_LINE, no NUL; every
 *     note starts with the file name; and each of host, auth-dir,
 *     proxy-url and ca-file given once at the top level as a string
 *     reads back (inih, then cfg.c's one pair of quotes stripped) as the
 *     YAML string, unless a note says it could not be written.
 */
#define _GNU_SOURCE /* memmem */
#include "buf.h"
#include "cfg_import.h"
#include "fuzz.h"
#include "ini.h"
#include "sizes.h"
#include "yaml.h"

/* The tree as text (one byte per type, strings with their length). */
static void dump(const struct yaml_doc *d, int i, int depth, struct buf *b)
{
	const struct yaml_node *n = &d->nodes[i];
	int c;

	FZ_CHECK(depth <= YAML_DEPTH_MAX + 1);
	buf_printf(b, "%d@%d", (int)n->type, n->line);
	if (n->key)
		buf_printf(b, "k%zu:%s", strlen(n->key), n->key);
	if (n->str)
		buf_printf(b, "s%zu:%s", strlen(n->str), n->str);
	buf_putc(b, '(');
	for (c = n->child; c >= 0; c = d->nodes[c].next)
		dump(d, c, depth + 1, b);
	buf_putc(b, ')');
}

/* Is the NUL-terminated string s inside [base, base + n]? */
static int inside(const char *base, size_t n, const char *s)
{
	return fz_within(base, n + 1, s, strlen(s) + 1);
}

/* Parse a copy of text (exact size plus its NUL); the tree or the error
 * as text in out.  Returns the parse's result. */
static int parse(const char *text, size_t n, struct buf *out)
{
	char *g = fz_strdup(text, n);
	struct yaml_doc d;
	size_t i, reached = 1;
	int rc = yaml_parse(&d, g, n), l;

	FZ_CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		FZ_CHECK(d.err && *d.err);
		buf_printf(out, "E%d %s", d.err_line, d.err);
		goto done;
	}
	FZ_CHECK(d.n >= 1 && d.n <= n + 1 && d.nodes[0].key == NULL);
	for (i = 0; i < d.n; i++) {
		const struct yaml_node *p = &d.nodes[i];
		int c, prev = p->line;
		FZ_CHECK(p->lead <= p->line && p->line <= d.lines);
		FZ_CHECK((p->type == YAML_STR) == (p->str != NULL));
		if (p->str)
			FZ_CHECK(inside(g, n, p->str));
		if (p->key)
			FZ_CHECK(inside(g, n, p->key));
		FZ_CHECK(p->child < 0 || p->type >= YAML_MAP);
		for (c = p->child; c >= 0; c = d.nodes[c].next) {
			const struct yaml_node *k = &d.nodes[c];
			FZ_CHECK((size_t)c > i && (size_t)c < d.n);
			FZ_CHECK(k->line >= prev);
			FZ_CHECK((k->key != NULL) == (p->type == YAML_MAP));
			prev = k->line;
			reached++;
		}
	}
	FZ_CHECK(reached == d.n);
	for (l = 1; l <= d.lines; l++)
		if (d.comment[l])
			FZ_CHECK(inside(g, n, d.comment[l]));
	FZ_CHECK(d.tail >= 1 && d.tail <= d.lines + 1);
	dump(&d, 0, 1, out);
done:
	yaml_free(&d);
	free(g);
	return rc;
}

/* The first top-level value of inih for key, stripped as cfg.c does. */
struct find {
	const char *key;
	char *val;
	int count;
};

static int find_top(void *user, const char *section, const char *name,
		    const char *value, int line)
{
	struct find *f = user;
	size_t n;

	(void)line;
	if (!name || *section || strcmp(name, f->key) || f->count++)
		return 1;
	n = strlen(value);
	if (n >= 2 && value[0] == '"' && value[n - 1] == '"')
		f->val = fz_strdup(value + 1, n - 2);
	else
		f->val = fz_strdup(value, n);
	return 1;
}

static int any(void *user, const char *section, const char *name,
	       const char *value, int line)
{
	(void)user, (void)section, (void)name, (void)value, (void)line;
	return 1;
}

/* The YAML's top-level string value of key when it is given once. */
static const char *yaml_top(const char *text, size_t n, const char *key,
			    char **keep)
{
	char *g = fz_strdup(text, n);
	const char *v = NULL;
	struct yaml_doc d;
	int c, seen = 0;

	*keep = g;
	if (yaml_parse(&d, g, n) == 0 && d.nodes[0].type == YAML_MAP)
		for (c = d.nodes[0].child; c >= 0; c = d.nodes[c].next)
			if (!strcmp(d.nodes[c].key, key) && !seen++)
				v = d.nodes[c].type == YAML_STR
					    ? d.nodes[c].str : NULL;
	yaml_free(&d);
	return seen == 1 ? v : NULL;
}

static void check_import(const char *text, size_t n, int parsed)
{
	static const char *const keys[] = {"host", "auth-dir", "proxy-url",
					   "ca-file"};
	char *g = fz_strdup(text, n), *ini_text, *keep;
	struct buf ini, notes;
	size_t i, ls;
	int rc;

	buf_init(&ini, 4 * CFG_FILE_MAX);
	buf_init(&notes, 4 * CFG_FILE_MAX);
	rc = cfg_import_yaml("f.yaml", g, n, &ini, &notes);
	FZ_CHECK(rc == 0 || rc == -1);
	FZ_CHECK(!ini.overflow && !notes.overflow);
	if (parsed < 0)
		FZ_CHECK(rc < 0);
	for (i = 0; i < notes.len; i = ls + 1) {
		const char *nl = memchr(notes.p + i, '\n', notes.len - i);
		FZ_CHECK(nl != NULL);
		ls = (size_t)(nl - notes.p);
		FZ_CHECK(ls - i > 6 && !memcmp(notes.p + i, "f.yaml", 6));
	}
	if (rc < 0) {
		FZ_CHECK(ini.len == 0 && notes.len > 0);
		goto done;
	}
	ini_text = fz_strdup(ini.p, ini.len);
	FZ_CHECK(strlen(ini_text) == ini.len);
	for (i = 0; i < ini.len; i = ls + 1) {
		const char *nl = memchr(ini.p + i, '\n', ini.len - i);
		FZ_CHECK(nl != NULL);
		ls = (size_t)(nl - ini.p);
		FZ_CHECK(ls - i <= INI_MAX_LINE - 2);
	}
	FZ_CHECK(ini_parse_string(ini_text, any, NULL) == 0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct find f = {keys[i], NULL, 0};
		const char *want = yaml_top(text, n, keys[i], &keep);
		char bad[64];

		snprintf(bad, sizeof(bad), "'%s' cannot be written", keys[i]);
		ini_parse_string(ini_text, find_top, &f);
		if (want && !(notes.len &&
			      memmem(notes.p, notes.len, bad, strlen(bad)))) {
			if (!f.val || strcmp(f.val, want)) {
				fprintf(stderr, "%s: YAML \"%s\", INI \"%s\"\n",
					keys[i], want, f.val ? f.val : "(none)");
				abort();
			}
		}
		free(f.val);
		free(keep);
	}
	free(ini_text);
done:
	buf_free(&ini);
	buf_free(&notes);
	free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	unsigned opt = fz_byte(&f);
	const char *text = (const char *)f.p;
	size_t n = f.n, i, k = 0;
	struct buf a, b;
	int rc;

	buf_init(&a, 64 * CFG_FILE_MAX);
	buf_init(&b, 64 * CFG_FILE_MAX);
	rc = parse(text, n, &a);
	FZ_CHECK(!a.overflow);
	if ((opt & 3) && !memchr(text, '\r', n) && !memchr(text, '\0', n)) {
		char *t = malloc(2 * n + 4);
		if (!t)
			abort();
		if (opt & 2) {
			memcpy(t, "\xEF\xBB\xBF", 3);
			k = 3;
		}
		for (i = 0; i < n; i++) {
			if (text[i] == '\n' && (opt & 1))
				t[k++] = '\r';
			t[k++] = text[i];
		}
		/* a BOM before a BOM is text, not a BOM */
		if (!(n >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) && (opt & 2))) {
			FZ_CHECK(parse(t, k, &b) == rc);
			FZ_CHECK(b.len == a.len && !memcmp(a.p, b.p, a.len));
		}
		free(t);
	}
	check_import(text, n, rc);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
