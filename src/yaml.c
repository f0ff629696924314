/*
 * yaml.c - the YAML subset of config files, read into a tree of nodes.
 *
 * Design: one pass over the lines, each cut at its end in place (CR and
 * trailing blanks dropped), and no recursion.  A stack holds the open
 * block maps and sequences with the column of their keys or dashes; a
 * line's column closes the deeper ones.  A key or dash with nothing
 * after it is "pending": the next line decides whether its value is a
 * map (a key deeper down), a sequence (a dash deeper down, or at the
 * key's own column), a scalar, or nothing (null).  A dash with more on
 * its line makes the item pending and reads the rest as that item's
 * value at the rest's column, so "- key: v" opens a map there and
 * "- - a" a sequence.  The root is pending before the first line.
 *
 * Scalars are decoded in place: a quoted one moves left over its opening
 * quote and escapes only shrink, so the writer never passes the reader;
 * each string ends in a NUL written over a byte already read (its
 * closing quote, the ':' of a key, the blank before a comment, the ','
 * or ']' of a flow list, the end of the line).
 *
 *   in:   - key: "a\tb"  # note\n
 *   out:  - key\0 a<TAB>b\0b"  # note\0
 *           ^key   ^str               ^comment[line] (" note")
 *
 * Invariants: nodes[0] is the root; a parent's children are linked in
 * file order; every node but the root costs at least one byte of text,
 * so there are at most len + 1 nodes.
 */
#define _POSIX_C_SOURCE 200809L
#include "yaml.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sizes.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const char UNCLOSED[] = "quoted value not closed on its line";
static const char BAD_ESCAPE[] = "bad escape in a quoted value";
static const char UNEXPECTED[] = "unexpected text after the value";
static const char EXPECTED[] = "expected 'key: value' or '- item' (no "
			       "multi-line values)";

struct level { /* an open block map or sequence */
	int node, col;
};

struct parse {
	struct yaml_doc *d;
	struct level st[YAML_DEPTH_MAX];
	int depth;
	int pending;  /* node whose value is still to come, or -1 */
	int pend_col; /* the column of its key or dash */
	int line;
	int lead;     /* lead of the next node */
	char *start;  /* the current line */
};

static int fail(struct parse *y, const char *why)
{
	y->d->err = why;
	y->d->err_line = y->line;
	return -1;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Does c end a token: a blank or the end of the line? */
static int is_end(char c)
{
	return c == '\0' || is_blank(c);
}

static char *skip_blank(char *p)
{
	while (is_blank(*p))
		p++;
	return p;
}

static int is_dash(const char *p)
{
	return p[0] == '-' && is_end(p[1]);
}

/* Nothing but a comment (recorded) left at p? */
static int at_end(struct parse *y, char *p)
{
	if (*p == '#')
		y->d->comment[y->line] = p + 1;
	return *p == '\0' || *p == '#';
}

/* A new node, the last child of parent (-1: none). */
static int add(struct parse *y, int parent, enum yaml_type type)
{
	struct yaml_doc *d = y->d;
	struct yaml_node *n;
	int i = (int)d->n;

	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		if (!(n = realloc(d->nodes, cap * sizeof(*n))))
			return fail(y, "out of memory");
		d->nodes = n;
		d->cap = cap;
	}
	n = &d->nodes[i];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = y->line;
	n->lead = y->lead;
	n->child = n->next = n->last = -1;
	y->lead = y->line;
	if (parent >= 0) {
		struct yaml_node *p = &d->nodes[parent];
		if (p->last >= 0)
			d->nodes[p->last].next = i;
		else
			p->child = i;
		p->last = i;
	}
	d->n++;
	return i;
}

/* Node n becomes an open map or sequence whose keys or dashes sit at
 * column col. */
static int push(struct parse *y, int n, enum yaml_type type, int col)
{
	if (y->depth == YAML_DEPTH_MAX)
		return fail(y, "nested deeper than " STR(YAML_DEPTH_MAX)
			    " levels");
	y->d->nodes[n].type = type;
	y->st[y->depth].node = n;
	y->st[y->depth++].col = col;
	return 0;
}

/* Value of the n hex digits at p, or -1. */
static long hex(const char *p, int n)
{
	long v = 0;

	while (n--) {
		int c = *p++, lc = c | 32;
		if (c >= '0' && c <= '9')
			v = v * 16 + (c - '0');
		else if (lc >= 'a' && lc <= 'f')
			v = v * 16 + (lc - 'a' + 10);
		else
			return -1;
	}
	return v;
}

/* UTF-8 of code point c at w: the byte count, 0 for no character. */
static int put_utf8(char *w, long c)
{
	int n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4, i;

	if (c <= 0 || (c >= 0xD800 && c < 0xE000) || c > 0x10FFFF)
		return 0;
	for (i = n - 1; i > 0; i--, c >>= 6)
		w[i] = (char)(0x80 | (c & 0x3F));
	w[0] = (char)(n == 1 ? c : (0xF00 >> n) | c);
	return n;
}

/* The double-quoted scalar at p, decoded to p; the byte after its
 * closing quote, or NULL. */
static char *dquoted(struct parse *y, char *p)
{
	/* escape letter, then what it stands for */
	static const char esc[] = "a\ab\bt\tn\nv\vf\fr\re\033  \"\"//\\\\\t\t";
	char *r = p + 1, *w = p;

	while (*r != '"') {
		const char *e;
		if (!*r)
			return fail(y, UNCLOSED), NULL;
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		r++;
		if (*r == 'x' || *r == 'u' || *r == 'U') {
			int n = *r == 'x' ? 2 : *r == 'u' ? 4 : 8, k;
			long c = hex(r + 1, n);
			if (!(k = put_utf8(w, c)))
				return fail(y, BAD_ESCAPE), NULL;
			r += 1 + n;
			w += k;
			continue;
		}
		for (e = esc; *e && *e != *r; e += 2)
			;
		if (!*e || !*r)
			return fail(y, BAD_ESCAPE), NULL;
		*w++ = e[1];
		r++;
	}
	*w = '\0';
	return r + 1;
}

/* The single-quoted scalar at p, decoded to p; the byte after it, or
 * NULL. */
static char *squoted(struct parse *y, char *p)
{
	char *r = p + 1, *w = p;

	for (;;) {
		if (!*r)
			return fail(y, UNCLOSED), NULL;
		if (*r == '\'' && *++r != '\'')
			break;
		*w++ = *r++;
	}
	*w = '\0';
	return r;
}

/* Why a plain scalar cannot start at p (NULL: it can). */
static const char *bad_start(const char *p)
{
	if (!*p)
		return NULL;
	if (strchr("&*!", *p))
		return "anchors, aliases and tags are not supported";
	if (strchr("|>", *p))
		return "block scalars (| >) are not supported";
	if (strchr("%@`,]}", *p) || (*p == '?' && is_end(p[1])))
		return "unexpected character (quote the value)";
	return NULL;
}

/*
 * The scalar at *pp (not a flow collection), decoded and NUL-terminated
 * in place at *sp; *type says whether it is a string or null.  *pp moves
 * past it, the ':' or ',' that ended it and the blanks after.  Returns
 * what ended it: ':' (it is a key), ',' or ']' (inside a flow list, flow
 * set), 0 (the end of the line or a comment), or -1.
 */
static int scalar(struct parse *y, char **pp, char **sp, int flow,
		  enum yaml_type *type)
{
	char *p = *pp, *q, *e = NULL;
	const char *why;
	int c;

	*sp = p;
	*type = YAML_STR;
	if (*p == '"' || *p == '\'') {
		if (!(q = *p == '"' ? dquoted(y, p) : squoted(y, p)))
			return -1;
		q = skip_blank(q);
	} else {
		if ((why = bad_start(p)))
			return fail(y, why);
		for (q = p; *q; q++)
			if ((*q == ':' && is_end(q[1])) ||
			    (*q == '#' && (q == p || is_blank(q[-1]))) ||
			    (flow && strchr(",[]{}", *q)))
				break;
		for (e = q; e > p && is_blank(e[-1]); e--)
			;
	}
	c = at_end(y, q) ? 0 : *q;
	if (flow ? c != ',' && c != ']' : c && (c != ':' || !is_end(q[1])))
		return fail(y, flow ? "[ ] must close on its line and hold "
			    "only values" : UNEXPECTED);
	if (e) {
		*e = '\0';
		if (!*p || !strcmp(p, "~") || !strcasecmp(p, "null"))
			*type = YAML_NULL;
	}
	if (c)
		q++;
	*pp = skip_blank(q);
	return c;
}

/* The flow collection at p ('[' or '{') as node n's value; the byte
 * after it, or NULL. */
static char *flow(struct parse *y, int n, char *p)
{
	struct yaml_doc *d = y->d;
	enum yaml_type t;
	char *s;
	int k, c;

	if (*p == '{') {
		p = skip_blank(p + 1);
		if (*p != '}')
			return fail(y, "{ } with content is not supported"),
			       NULL;
		d->nodes[n].type = YAML_MAP;
		return p + 1;
	}
	d->nodes[n].type = YAML_SEQ;
	p = skip_blank(p + 1);
	if (*p == ']')
		return p + 1;
	for (;;) {
		if (*p == '[' || *p == '{')
			return fail(y, "nested [ ] and { } are not supported"),
			       NULL;
		if ((k = add(y, n, YAML_STR)) < 0 ||
		    (c = scalar(y, &p, &s, 1, &t)) < 0)
			return NULL;
		d->nodes[k].type = t;
		d->nodes[k].str = t == YAML_STR ? s : NULL;
		if (c == ',' && *p == ']')
			p++;
		else if (c == ',')
			continue;
		return p;
	}
}

/* The value of node n from p to the end of the line: a flow collection
 * or a scalar. */
static int value(struct parse *y, int n, char *p)
{
	enum yaml_type t;
	char *s;
	int c = 0;

	if (*p == '[' || *p == '{') {
		if (!(p = flow(y, n, p)))
			return -1;
		p = skip_blank(p);
		return at_end(y, p) ? 0 : fail(y, UNEXPECTED);
	}
	if (is_dash(p) || (c = scalar(y, &p, &s, 0, &t)) > 0)
		return fail(y, "a map or list cannot start on its key's line "
			    "(quote a value with ': ')");
	if (c < 0)
		return -1;
	y->d->nodes[n].type = t;
	y->d->nodes[n].str = t == YAML_STR ? s : NULL;
	return 0;
}

/* Close what column col ends; 0 when the innermost open collection then
 * takes an item (dash) or entry (key) at col. */
static int close_to(struct parse *y, int col, int dash)
{
	struct level *st = y->st;

	while (y->depth && st[y->depth - 1].col > col)
		y->depth--;
	/* "key:\n- a\nnext:": the sequence at its key's column ends */
	if (!dash && y->depth > 1 && st[y->depth - 1].col == col &&
	    st[y->depth - 2].col == col)
		y->depth--;
	if (!y->depth || st[y->depth - 1].col != col ||
	    (y->d->nodes[st[y->depth - 1].node].type == YAML_SEQ) != dash)
		return fail(y, "bad indentation (or '- item' and 'key: value' "
			    "mixed)");
	return 0;
}

/* The content of a line from p, at column col. */
static int content(struct parse *y, char *p, int col)
{
	struct yaml_doc *d = y->d;

	for (;;) {
		int dash = is_dash(p), c = 0, n;
		enum yaml_type t = YAML_STR;
		char *s = NULL;

		if (!dash && *p != '[' && *p != '{' &&
		    (c = scalar(y, &p, &s, 0, &t)) < 0)
			return -1;
		if (y->pending >= 0) {
			int pend = y->pending, key = c == ':';
			y->pending = -1;
			if (col > y->pend_col ||
			    (col == y->pend_col && dash && d->nodes[pend].key)) {
				if (!dash && !key && !s)
					return value(y, pend, p);
				if (!dash && !key) {
					d->nodes[pend].type = t;
					d->nodes[pend].str =
						t == YAML_STR ? s : NULL;
					return 0;
				}
				if (push(y, pend, dash ? YAML_SEQ : YAML_MAP,
					 col) < 0)
					return -1;
			}
		}
		if (!dash && c != ':')
			return fail(y, EXPECTED);
		if (close_to(y, col, dash) < 0 ||
		    (n = add(y, y->st[y->depth - 1].node, YAML_NULL)) < 0)
			return -1;
		y->pending = n;
		y->pend_col = col;
		if (dash)
			p = skip_blank(p + 1);
		else
			d->nodes[n].key = s;
		if (at_end(y, p))
			return 0;
		if (!dash) {
			y->pending = -1;
			return value(y, n, p);
		}
		col = (int)(p - y->start);
	}
}

/* One line (NUL-terminated, trailing blanks gone).  *started: content
 * came before. */
static int line(struct parse *y, char *p, int *started)
{
	char *q;
	int col = 0;

	while (p[col] == ' ')
		col++;
	q = skip_blank(p + col);
	if (at_end(y, q))
		return 0;
	if (q != p + col)
		return fail(y, "tab in the indentation");
	if (!col && !strncmp(p, "---", 3) && is_end(p[3]) && !*started &&
	    at_end(y, skip_blank(p + 3)))
		return 0;
	if (!col && (*p == '%' || ((*p == '-' || *p == '.') && p[1] == *p &&
				   p[2] == *p && is_end(p[3]))))
		return fail(y, "directives, '...' and a second document are "
			    "not supported");
	if (!*started)
		y->d->nodes[0].line = y->line;
	*started = 1;
	y->start = p;
	if (content(y, q, col) < 0)
		return -1;
	y->lead = y->line + 1;
	return 0;
}

int yaml_parse(struct yaml_doc *d, char *text, size_t len)
{
	struct parse y;
	char *p = text, *end = text + len, *e;
	size_t lines = 1;
	int started = 0;

	memset(d, 0, sizeof(*d));
	memset(&y, 0, sizeof(y));
	y.d = d;
	if (len > INT_MAX / 4)
		return fail(&y, "too large");
	for (e = text; e < end; e++)
		lines += *e == '\n';
	d->lines = (int)lines;
	if (!(d->comment = calloc(lines + 1, sizeof(*d->comment))) ||
	    add(&y, -1, YAML_NULL) < 0)
		return fail(&y, "out of memory");
	y.pending = 0;
	y.pend_col = -1;
	y.lead = 1;
	if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	for (y.line = 1;; y.line++) {
		char *nl = p + strcspn(p, "\r\n");
		if (*nl == '\r' && *++nl != '\n' && nl != end)
			return fail(&y, "a carriage return inside a line");
		if (!*nl && nl != end)
			return fail(&y, "a NUL byte");
		for (e = nl; e > p && (is_blank(e[-1]) || e[-1] == '\r'); e--)
			;
		*e = '\0';
		if (line(&y, p, &started) < 0)
			return -1;
		if (nl == end)
			break;
		p = nl + 1;
	}
	d->tail = y.lead;
	return 0;
}

void yaml_free(struct yaml_doc *d)
{
	free(d->nodes);
	free(d->comment);
	memset(d, 0, sizeof(*d));
}
