/*
 * cfg_edit.c - change one value of a config.ini in place, every other
 * byte kept: start-up replaces a plain [remote-management] secret-key by
 * its bcrypt hash without losing the user's comments and layout.
 *
 * The text is read line by line as inih reads it with the Makefile's
 * options (INIH_DEFS), so the line changed is the one whose value cfg.c
 * was handed:
 *   - a line ends at '\n'; a '\r' before it is trimmed like any other
 *     whitespace; a UTF-8 BOM before the first line is skipped;
 *   - after leading whitespace, ';' or '#' starts a comment line; an
 *     empty line is nothing;
 *   - "[name]" opens section name: the bytes between '[' and the first
 *     ']', untrimmed, cut to 49 bytes (inih's buffer); what follows ']'
 *     is ignored;
 *   - any other line is "key = value" or "key : value": the key runs to
 *     the first '=' or ':' and is trimmed (so "key=value" is one too);
 *     the value runs from there to an inline comment (';' or '#' right
 *     after whitespace) or the end of the line, and is trimmed;
 *   - a line that is none of these, a section without ']', or a line
 *     longer than INI_MAX_LINE is a syntax error, where inih stops.
 *
 *      "  secret-key =  hunter2   ; set by hand\r\n"
 *                       ^      ^
 *                       vs     ve     only [vs, ve) is replaced
 *
 * An empty value (vs == ve) takes the new one right after the separator,
 * with a space before it when the key has whitespace before the
 * separator: "key =" becomes "key = new", "key=" becomes "key=new" (and
 * "key =" stays "key =" when the new value is empty too).
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "cfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "fmt.h"
#include "fsx.h"
#include "ini.h"
#include "sizes.h"

#define SECTION_MAX 50 /* inih's MAX_SECTION: names are cut to 49 bytes */

/* isspace() of the C locale, which inih uses. */
static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

static int is_inline_comment(char c)
{
	return c && strchr(INI_INLINE_COMMENT_PREFIXES, c) != NULL;
}

/* inih's ini_find_chars_or_comment on [s, e): the first byte of chars
 * (none when NULL), or the start of an inline comment, or e. */
static const char *find_chars_or_comment(const char *s, const char *e,
					 const char *chars)
{
	int was_space = 0;

	for (; s < e; s++) {
		if (chars && strchr(chars, *s))
			break;
		if (was_space && is_inline_comment(*s))
			break;
		was_space = is_space(*s);
	}
	return s;
}

/* Can v be written as a value that inih reads back unchanged? */
static int value_ok(const char *v)
{
	size_t i, n = strlen(v);

	if (n && (is_space(v[0]) || is_space(v[n - 1]) ||
		  is_inline_comment(v[0])))
		return 0;
	for (i = 0; i < n; i++)
		if (v[i] == '\n' || v[i] == '\r' ||
		    (is_space(v[i]) && is_inline_comment(v[i + 1])))
			return 0;
	return 1;
}

/* Could inih hand key over, and section be a name it reads? */
static int names_ok(const char *section, const char *key)
{
	size_t n = strlen(key);

	if (!n || is_space(key[0]) || is_space(key[n - 1]) ||
	    strpbrk(key, "=:\n"))
		return 0;
	return strlen(section) < SECTION_MAX && !strpbrk(section, "]\n");
}

/* One line as inih reads it: [s, e) is its content, trimmed. */
enum line_kind { L_BLANK, L_SECTION, L_PAIR, L_ERROR };

struct line {
	const char *s, *e;
	const char *name;   /* L_SECTION, L_PAIR: the name ... */
	size_t name_len;    /* ... untrimmed or trimmed, as inih gives it */
	const char *sep;    /* L_PAIR: the '=' or ':' */
};

/* Read the line [p, e) (without its '\n'); first: it starts the text. */
static enum line_kind read_line(const char *p, const char *e, int first,
				struct line *l)
{
	const char *s = p, *r;

	if (first && e - p >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		s += 3;
	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	l->s = s;
	l->e = e;
	if (s == e || strchr(INI_START_COMMENT_PREFIXES, *s))
		return L_BLANK;
	if (*s == '[') {
		r = find_chars_or_comment(s + 1, e, "]");
		if (r == e || *r != ']')
			return L_ERROR;
		l->name = s + 1;
		l->name_len = (size_t)(r - l->name);
		return L_SECTION;
	}
	r = find_chars_or_comment(s, e, "=:");
	if (r == e || (*r != '=' && *r != ':'))
		return L_ERROR;
	l->sep = r;
	while (r > s && is_space(r[-1]))
		r--;
	l->name = s;
	l->name_len = (size_t)(r - s);
	return L_PAIR;
}

/* Write text with l's value replaced by value (see the top of the file
 * for an empty one).  0, or -1 when the line would grow past
 * INI_MAX_LINE or out has no room (then out is untouched). */
static int replace_value(const char *text, size_t len, const struct line *l,
			 size_t line_len, const char *value, struct buf *out)
{
	const char *vs, *ve = find_chars_or_comment(l->sep + 1, l->e, NULL);
	const char *pad = "";
	size_t pn, vn = strlen(value), total;

	for (vs = l->sep + 1; vs < ve && is_space(*vs); vs++)
		;
	while (ve > vs && is_space(ve[-1]))
		ve--;
	if (vs == ve) {
		vs = ve = l->sep + 1;
		if (*value && (l->sep[-1] == ' ' || l->sep[-1] == '\t'))
			pad = " ";
	}
	pn = strlen(pad);
	if (line_len - (size_t)(ve - vs) + pn + vn > INI_MAX_LINE - 1)
		return -1;
	total = len - (size_t)(ve - vs) + pn + vn;
	if (buf_reserve(out, total) < total)
		return -1;
	buf_put(out, text, (size_t)(vs - text));
	buf_put(out, pad, pn);
	buf_put(out, value, vn);
	buf_put(out, ve, len - (size_t)(ve - text));
	return 0;
}

int cfg_edit_value(const char *text, size_t len, const char *section,
		   const char *key, const char *value, struct buf *out)
{
	const char *p, *end;
	char cur[SECTION_MAX] = "";
	struct line l;
	size_t n;

	if (!section)
		section = "";
	if (!len)
		text = "";
	if (!names_ok(section, key) || !value_ok(value) ||
	    memchr(text, '\0', len))
		return -1;
	for (p = text, end = text + len; p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;

		if (next - p > INI_MAX_LINE - 1)
			return -1; /* inih reads it cut, and stops */
		switch (read_line(p, nl ? nl : end, p == text, &l)) {
		case L_ERROR:
			return -1;
		case L_SECTION:
			n = l.name_len < SECTION_MAX ? l.name_len
						     : SECTION_MAX - 1;
			memcpy(cur, l.name, n);
			cur[n] = '\0';
			break;
		case L_PAIR:
			if (l.name_len == strlen(key) &&
			    !memcmp(l.name, key, l.name_len) &&
			    !strcmp(cur, section))
				return replace_value(text, len, &l,
						     (size_t)(next - p), value,
						     out);
			break;
		case L_BLANK:
			break;
		}
		p = next;
	}
	return 1;
}

int cfg_edit_file(const char *path, const char *section, const char *key,
		  const char *value, char *err, size_t errlen)
{
	const char *where = section && *section ? section : NULL;
	struct buf in, out;
	struct stat st;
	char *real;
	int rc = -1;

	if (errlen)
		err[0] = '\0';
	/* a symlinked config stays a symlink: its target is rewritten */
	if (!(real = realpath(path, NULL))) {
		fmt_snprintf(err, errlen, "%s: cannot open: %s", path,
			     strerror(errno));
		return -1;
	}
	buf_init(&in, CFG_FILE_MAX);
	buf_init(&out, CFG_FILE_MAX);
	if (fsx_read_file(real, &in, &st) < 0) {
		if (errno == EFBIG || errno == EINVAL)
			fmt_snprintf(err, errlen, "%s: not a regular file of at "
				     "most %d bytes", path, CFG_FILE_MAX);
		else
			fmt_snprintf(err, errlen, "%s: cannot read: %s", path,
				     strerror(errno));
		goto done;
	}
	rc = cfg_edit_value(in.p ? in.p : "", in.len, section, key, value,
			    &out);
	if (rc == 1) {
		fmt_snprintf(err, errlen, "%s: no '%s' %s%s%s", path, key,
			     where ? "in [" : "at the top level", where ? where : "",
			     where ? "]" : "");
	} else if (rc < 0) {
		fmt_snprintf(err, errlen, "%s: cannot set '%s'%s%s%s: a syntax "
			     "error comes first, the new value would not read "
			     "back as it is, or a line or the file would be too "
			     "long", path, key, where ? " in [" : "",
			     where ? where : "", where ? "]" : "");
	} else if (fsx_write_atomic(real, out.p, out.len,
				    st.st_mode & 07777) < 0) {
		fmt_snprintf(err, errlen, "%s: cannot write: %s", path,
			     strerror(errno));
		rc = -1;
	}
done:
	free(real);
	buf_free(&in);
	buf_free(&out);
	return rc;
}
