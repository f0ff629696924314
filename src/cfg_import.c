/*
 * cfg_import.c - a CLIProxyAPI config.yaml written as our config.ini.
 *
 * The YAML is read whole into a tree (yaml.c).  Each key is looked up in
 * cfg.c's own key table (cfg_key_kind), so a key comes over exactly when
 * config.ini has it, under the same name:
 *
 *   port: 8317                      port = 8317
 *   api-keys: [a, b]                api-keys = a, api-keys = b
 *   quota-exceeded: {...}           [quota-exceeded] and its keys
 *   claude-api-key: [{...}, {...}]  one [claude-api-key] per item
 *   headers: {N: v}                 header = N: v
 *   models: [{name: n, alias: a}]   model = n = a
 *
 * plus what the reference spells otherwise: gemini-api-key items give
 * generative-language-api-key, api-key-entries items give api-keys, and
 * y/n are booleans (yaml.v3 reads them so for a bool; cfg.c takes every
 * other spelling of the reference).  No reference key is one of our
 * durations (those are ours only: timeouts, model-list-refresh), so
 * none needs a translation; cfg.c judges one given in a YAML all the
 * same.  Top-level keys are written first (INI has no way back to the
 * top level after a section), then the sections, each group in file
 * order.
 *
 * Comments go before the line they belong to: the block above a key, then
 * the one on its own line.
 *
 * A value is written so that inih and cfg.c read back the same string:
 * in double quotes (cfg.c strips one pair) when it has blanks at either
 * end, starts with ';' or '#', or is itself in quotes.  A line break, a
 * blank before ';' or '#' (an inline comment to inih) or a line over
 * inih's limit cannot be written: that key is left out with a note, as
 * is every key config.ini does not have.  At the end the result is
 * loaded with cfg.c as a check, and a refusal is one more note.
 */
#define _POSIX_C_SOURCE 200809L
#include "cfg_import.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cfg.h"
#include "fmt.h"
#include "sizes.h"
#include "yaml.h"

#define LINE_LEN (CFG_LINE_MAX - 2) /* inih's longest line, no '\n' */

static const char UNSUP[] = "is not supported yet";
static const char NOVAL[] = "has no value";
static const char SHAPE[] = "is a list or map where a value belongs, or "
			    "the reverse";
static const char CANT[] = "cannot be written in config.ini (a line "
			   "break, a blank before ';' or '#', or too long)";

/* Reference keys that are another key here; section NULL = any. */
static const char *const renames[][3] = {
	{"", "gemini-api-key", "generative-language-api-key"},
	{"openai-compatibility", "api-key-entries", "api-keys"},
	{NULL, "headers", "header"},
	{NULL, "models", "model"},
};

struct imp {
	struct yaml_doc d;
	const char *name;  /* the YAML file, for notes */
	struct buf *notes;
};

static const struct yaml_node *at(const struct imp *m, int i)
{
	return i < 0 ? NULL : &m->d.nodes[i];
}

/* isspace() of the C locale, which inih trims with. */
static int is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* s with control bytes shown as '?': names from the file on one line. */
static void put_name(struct buf *b, const char *s)
{
	for (; *s; s++)
		buf_putc(b, (unsigned char)*s < ' ' || *s == 0x7f ? '?' : *s);
}

/* "file:line: 'sec.sub.key' why, skipped" for node n, the names one
 * line each whatever they hold; 0. */
static int note(struct imp *m, const struct yaml_node *n, const char *sec,
		const char *sub, const char *why)
{
	const char *part[3] = {sec, sub, n->key};
	int i, dot = 0;

	buf_printf(m->notes, "%s:%d: '", m->name, n->line);
	for (i = 0; i < 3; i++)
		if (part[i] && *part[i]) {
			if (dot++)
				buf_putc(m->notes, '.');
			put_name(m->notes, part[i]);
		}
	buf_printf(m->notes, "' %s, skipped\n", why);
	return 0;
}

/* A blank line, unless o is empty or ends in one or in a [section]. */
static void gap(struct buf *o)
{
	if (o->len > 1 && o->p[o->len - 2] != '\n' && o->p[o->len - 2] != ']')
		buf_putc(o, '\n');
}

/*
 * The comments of lines from .. to, each once, as ";text" lines cut to
 * inih's limit on a UTF-8 boundary; a run of blank lines before or
 * between them is one blank line.
 */
static void put_block(struct imp *m, struct buf *o, int from, int to)
{
	const char **c = m->d.comment;
	int blank = 0;
	size_t n;

	for (; from <= to; from++) {
		if (!c[from]) {
			blank = 1;
			continue;
		}
		if (blank)
			gap(o);
		if ((n = strlen(c[from])) >= LINE_LEN)
			for (n = LINE_LEN - 1; n && (c[from][n] & 0xC0) == 0x80;
			     n--)
				;
		buf_putc(o, ';');
		buf_put(o, c[from], n);
		buf_putc(o, '\n');
		c[from] = NULL;
		blank = 0;
	}
}

/* "key = v" as inih and cfg.c read v back; -1 when it cannot be. */
static int put_pair(struct buf *o, const char *key, const char *v)
{
	size_t i, n = strlen(v);
	int q = n && (is_space(v[0]) || is_space(v[n - 1]) || v[0] == ';' ||
		      v[0] == '#' || (n > 1 && v[0] == '"' && v[n - 1] == '"'));

	for (i = 0; i < n; i++)
		if (v[i] == '\n' || v[i] == '\r' ||
		    (i && is_space(v[i - 1]) && (v[i] == ';' || v[i] == '#')))
			return -1;
	if (strlen(key) + n + 5 > LINE_LEN)
		return -1;
	buf_printf(o, q ? "%s = \"%s\"\n" : n ? "%s = %s\n" : "%s =%s\n", key,
		   v);
	return 0;
}

/*
 * One value of key n (kind k, written as name) from it: n itself for a
 * single value, else one item of n's list, or one entry of n's headers
 * map (pair).  An item that is a map gives its api-key (lists) or its
 * name and alias (models).
 */
static int put_value(struct imp *m, struct buf *o, const char *sec,
		     const struct yaml_node *n, const char *name, int k,
		     const struct yaml_node *it, int pair)
{
	const struct yaml_node *c, *val = it, *alias = NULL;
	const char *sub = it == n ? NULL : n->key, *s, *a;
	char v[CFG_LINE_MAX];

	if (it->type == YAML_MAP && !pair && k != CFG_K_HEADER) {
		val = NULL;
		for (c = at(m, it->child); c; c = at(m, c->next)) {
			if (!val && !strcmp(c->key, k == CFG_K_MODEL ? "name"
							: "api-key"))
				val = c;
			else if (!alias && k == CFG_K_MODEL &&
				 !strcmp(c->key, "alias"))
				alias = c;
			else {
				note(m, c, sec, n->key, UNSUP);
				continue;
			}
			put_block(m, o, c->lead, c->line);
		}
		if (!val)
			return note(m, it, sec, sub, NOVAL);
	}
	if (val->type > YAML_STR)
		return note(m, it, sec, sub, SHAPE);
	s = val->str ? val->str : "";
	if (!*s && !pair && k != CFG_K_STR)
		return note(m, it, sec, sub, NOVAL);
	/* the reference's y and n (yaml.v3 takes them for a bool) */
	if (k == CFG_K_BOOL && !s[1] && strchr("yYnN", *s))
		s = (*s | 32) == 'y' ? "true" : "false";
	a = alias && alias->str ? alias->str : "";
	if (fmt_snprintf(v, sizeof(v), "%s%s%s%s%s", pair ? it->key : "",
			 pair ? *s ? ": " : ":" : "", s, *a ? " = " : "", a) >=
		    (int)sizeof(v) || put_pair(o, name, v) < 0)
		note(m, it, sec, sub, CANT);
	return 0;
}

/* Key n of section sec ("" = the top level, or an entry's section). */
static int put_key(struct imp *m, struct buf *o, const char *sec,
		   const struct yaml_node *n)
{
	const struct yaml_node *it;
	const char *name = n->key;
	size_t i;
	int k;

	for (i = 0; i < sizeof(renames) / sizeof(renames[0]); i++)
		if ((!renames[i][0] || !strcmp(sec, renames[i][0])) &&
		    !strcmp(name, renames[i][1]))
			name = renames[i][2];
	if ((k = cfg_key_kind(sec, name)) < 0)
		return note(m, n, sec, NULL, UNSUP);
	put_block(m, o, n->lead, n->line);
	if (k < CFG_K_LIST || n->type == YAML_STR)
		return put_value(m, o, sec, n, name, k, n, 0);
	if (n->type == YAML_MAP && k != CFG_K_HEADER)
		return note(m, n, sec, NULL, SHAPE);
	for (it = at(m, n->child); it; it = at(m, it->next)) {
		put_block(m, o, it->lead, it->line);
		put_value(m, o, sec, n, name, k, it, n->type == YAML_MAP);
	}
	return 0;
}

/* A top-level key that is a section (k CFG_K_SECTION: a map) or a
 * section per entry (CFG_K_ENTRIES: a list of maps). */
static int put_section(struct imp *m, struct buf *o,
		       const struct yaml_node *n, int k)
{
	const struct yaml_node *it = n, *c;
	int i = 0;

	gap(o);
	put_block(m, o, n->lead, n->line);
	if (n->type != (k == CFG_K_SECTION ? YAML_MAP : YAML_SEQ))
		return n->type == YAML_NULL ? 0 : note(m, n, "", NULL, SHAPE);
	if (k == CFG_K_ENTRIES)
		it = at(m, n->child);
	for (; it; it = k == CFG_K_ENTRIES ? at(m, it->next) : NULL) {
		if (it != n) {
			if (i++)
				gap(o);
			put_block(m, o, it->lead, it->line - 1);
		}
		if (it->type != YAML_MAP) {
			note(m, it, n->key, NULL, SHAPE);
			continue;
		}
		buf_printf(o, "[%s]\n", n->key);
		for (c = at(m, it->child); c; c = at(m, c->next))
			put_key(m, o, n->key, c);
	}
	return 0;
}

/* "file[:line]: why" */
static void fail(struct imp *m, int line, const char *why)
{
	buf_puts(m->notes, m->name);
	if (line)
		buf_printf(m->notes, ":%d", line);
	buf_printf(m->notes, ": %s\n", why);
}

int cfg_import_yaml(const char *name, char *text, size_t len,
		    struct buf *ini, struct buf *notes)
{
	const struct yaml_node *root, *n;
	const char *base = strrchr(name, '/');
	struct buf top, secs;
	size_t start = ini->len;
	struct imp m;
	struct cfg c;
	char err[512];
	int rc = -1, k;

	memset(&m, 0, sizeof(m));
	m.name = name;
	m.notes = notes;
	buf_init(&top, 2 * CFG_FILE_MAX);
	buf_init(&secs, 2 * CFG_FILE_MAX);
	if (yaml_parse(&m.d, text, len) < 0) {
		fail(&m, m.d.err_line, m.d.err);
		goto done;
	}
	root = &m.d.nodes[0];
	if (root->type != YAML_MAP) {
		fail(&m, root->line, root->type == YAML_NULL
			     ? "no settings (the file is empty or only comments)"
			     : "the top level is not a map of keys");
		goto done;
	}
	for (n = at(&m, root->child); n; n = at(&m, n->next)) {
		k = cfg_key_kind("", n->key);
		if (k >= CFG_K_SECTION)
			put_section(&m, &secs, n, k);
		else
			put_key(&m, &top, "", n);
	}
	buf_puts(ini, "; config.ini made by cli-proxy-api --import-yaml from ");
	put_name(ini, base ? base + 1 : name);
	buf_puts(ini, "\n; (the keys it left out are listed on stderr)\n\n");
	buf_put(ini, top.p, top.len);
	if (secs.len) {
		gap(ini);
		buf_put(ini, secs.p, secs.len);
	}
	put_block(&m, ini, m.d.tail, m.d.lines);
	buf_putc(ini, '\0');
	if (ini->overflow || top.overflow || secs.overflow) {
		ini->len = start;
		fail(&m, 0, "the result is too large");
		goto done;
	}
	ini->len--;
	if (cfg_load_string(&c, ini->p + start, "(output)", err,
			    sizeof(err)) < 0) {
		buf_printf(notes, "%s: the result does not load as it is: %s\n",
			   name, err);
	} else {
		cfg_free(&c);
	}
	rc = 0;
done:
	yaml_free(&m.d);
	buf_free(&top);
	buf_free(&secs);
	return rc;
}

int cfg_import_file(const char *path, struct buf *ini, struct buf *notes)
{
	char err[512];
	size_t len;
	char *text = cfg_read_file(path, &len, err, sizeof(err));
	int rc = -1;

	if (!text)
		buf_printf(notes, "%s\n", err);
	else
		rc = cfg_import_yaml(path, text, len, ini, notes);
	free(text);
	return rc;
}
