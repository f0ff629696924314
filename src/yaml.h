/*
 * yaml.h - read the subset of YAML that config files are written in.
 *
 * Supported: block maps and sequences (a sequence may sit at its key's
 * own column), "- key: value" items with their continuation lines,
 * scalars plain, 'single-quoted' ('' is a quote) and "double-quoted"
 * (\" \\ \/ \n \t \r \b \f \v \a \e, \ and a blank, \xXX, \uXXXX,
 * \UXXXXXXXX; no surrogates, no NUL), empty values, null and ~, the
 * flow forms [] {} and [a, "b", 'c'] on one line, comments (a whole
 * line, or '#' after a blank), one "---" before the content, CRLF line
 * ends, a UTF-8 BOM.  Everything else is an error naming its line: a
 * tab in the indentation, anchors, aliases and tags, block scalars
 * (| >), values over several lines, flow maps with content, nested flow
 * collections, directives, a second document, a NUL byte, a CR that
 * ends no line.  Duplicate keys are kept as they come.
 *
 * The reader is pure (no I/O) and does no recursion: nesting is bounded
 * by YAML_DEPTH_MAX (sizes.h).  Strings are decoded in the caller's text,
 * which must stay alive as long as the document.
 */
#ifndef YAML_H
#define YAML_H

#include <stddef.h>

enum yaml_type { YAML_NULL, YAML_STR, YAML_MAP, YAML_SEQ };

struct yaml_node {
	enum yaml_type type;
	const char *key; /* the key of a map's entry; NULL for the root and
			    for sequence items */
	const char *str; /* YAML_STR: the value, NUL-terminated (never holds
			    a NUL); NULL for the other types */
	int line;        /* 1-based line of its key, dash or value */
	int lead;        /* lines lead .. line - 1 hold only comments and
			    blanks that come before it (lead == line: none) */
	int child;       /* first entry or item of a map or sequence, in
			    file order; -1 = none */
	int next;        /* next entry or item of its parent; -1 = last */
	int last;        /* last entry or item (for appending) */
};

struct yaml_doc {
	struct yaml_node *nodes; /* nodes[0] is the root (YAML_NULL with
				    line 0 for an empty document) */
	size_t n, cap;
	/* comment[l] for 1 <= l <= lines: the text after the '#' of line l
	 * (a comment line, or a comment after the content), or NULL */
	const char **comment;
	int lines;
	int tail;        /* lines tail .. lines come after the last node */
	int err_line;    /* on error: where (0 = the whole text) */
	const char *err; /* on error: what, a constant string */
};

/*
 * Read text[0..len) into d, decoding in place; text[len] must be a NUL
 * (the buffer holds len + 1 bytes).  Returns 0, or -1 with d->err and
 * d->err_line set.  Either way yaml_free(d) releases d.
 */
int yaml_parse(struct yaml_doc *d, char *text, size_t len);

void yaml_free(struct yaml_doc *d);

#endif
