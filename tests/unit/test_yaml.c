/*
 * test_yaml.c - the YAML subset reader (yaml.c).
 *
 * Every input is fed whole from a guarded copy that ends right after its
 * NUL, so a read past the text faults.  A tree is compared as one line:
 * {key=value,...} for maps, [item,...] for sequences, ~ for null, and
 * scalars as they are ("@N" after a node when lines are asked for).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sizes.h"
#include "t.h"
#include "yaml.h"

static void dump(const struct yaml_doc *d, int i, int lines, struct buf *b)
{
	const struct yaml_node *n = &d->nodes[i];
	int c, first = 1;

	if (n->type == YAML_NULL)
		buf_putc(b, '~');
	else if (n->type == YAML_STR)
		buf_puts(b, n->str);
	else
		buf_putc(b, n->type == YAML_MAP ? '{' : '[');
	if (n->type >= YAML_MAP) {
		for (c = n->child; c >= 0; c = d->nodes[c].next) {
			if (!first)
				buf_putc(b, ',');
			first = 0;
			if (d->nodes[c].key) {
				buf_puts(b, d->nodes[c].key);
				buf_putc(b, '=');
			}
			dump(d, c, lines, b);
		}
		buf_putc(b, n->type == YAML_MAP ? '}' : ']');
	}
	if (lines && i)
		buf_printf(b, "@%d", n->line);
}

/* Parse text (a guarded copy); the tree as one line, or "ERR line: why".
 * The result is static, valid until the next call. */
static const char *tree(const char *text, int lines)
{
	static char res[8192];
	size_t n = strlen(text);
	char *g = t_guarded_copy(text, n + 1);
	struct yaml_doc d;
	struct buf b;

	buf_init(&b, sizeof(res) - 1);
	if (yaml_parse(&d, g, n) < 0)
		buf_printf(&b, "ERR %d: %s", d.err_line, d.err);
	else
		dump(&d, 0, lines, &b);
	snprintf(res, sizeof(res), "%.*s", (int)b.len, b.p ? b.p : "");
	buf_free(&b);
	yaml_free(&d);
	t_guarded_free(g);
	return res;
}

#define TREE(text, want) CHECK_EQ_STR(tree(text, 0), want)
#define LINES(text, want) CHECK_EQ_STR(tree(text, 1), want)
/* The error's line and the start of its message. */
#define ERROR(text, line, why)                                               \
	do {                                                                 \
		char w_[256];                                                \
		snprintf(w_, sizeof(w_), "ERR %d: %s", line, why);           \
		if (strncmp(tree(text, 0), w_, strlen(w_)))                  \
			FAILF("%s: got \"%s\", want \"%s...\"",              \
			      t_esc(text, strlen(text)), tree(text, 0), w_); \
	} while (0)

TEST(yaml_block_maps_and_scalars)
{
	TREE("port: 8317\ndebug: false\n", "{port=8317,debug=false}");
	TREE("a:\n  b: 1\n  c:\n    d: x y z\ne: 2", "{a={b=1,c={d=x y z}},e=2}");
	TREE("url: http://h:1/p?q=a:b#frag\n", "{url=http://h:1/p?q=a:b#frag}");
	TREE("a: b#c\n", "{a=b#c}");
	TREE("a:b: c\n", "{a:b=c}");
	TREE("k:   spaced   value   \n", "{k=spaced   value}");
	TREE("a:\nb: 1\n", "{a=~,b=1}");
	TREE("a: ~\nb: null\nc: Null\nd: NULL\ne: 'null'\nf: \"~\"\n",
	     "{a=~,b=~,c=~,d=~,e=null,f=~}");
	LINES("\n\na: 1\n\n  \nb:\n  c: 2\n", "{a=1@3,b={c=2@7}@6}");
}

TEST(yaml_quoted_scalars)
{
	TREE("a: 'it''s # not a comment'\n", "{a=it's # not a comment}");
	TREE("a: ''\nb: \"\"\n", "{a=,b=}");
	TREE("a: \"q\\\" b\\\\s \\/ t\\tn\\nr\\re\\e\"\n",
	     "{a=q\" b\\s / t\tn\nr\re\033}");
	TREE("a: \"\\x41\\u00e9\\u20AC\\U0001F600\"\n",
	     "{a=A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80}");
	TREE("a: \"\\ \\\t\\a\\b\\f\\v\"\n", "{a= \t\a\b\f\v}");
	TREE("\"quoted key\": 1\n'k''2' : 2\n", "{quoted key=1,k'2=2}");
	TREE("a: \"x\"   # note\n", "{a=x}");
	TREE("a: \"x\"#note\n", "{a=x}");
	ERROR("a: \"abc\n", 1, "quoted value not closed on its line");
	ERROR("a: 'abc\n", 1, "quoted value not closed on its line");
	ERROR("a: \"\\q\"\n", 1, "bad escape in a quoted value");
	ERROR("a: \"\\\"\n", 1, "quoted value not closed on its line");
	ERROR("a: \"\\u00\"\n", 1, "bad escape in a quoted value");
	ERROR("a: \"\\u0000\"\n", 1, "bad escape in a quoted value");
	ERROR("a: \"\\x00\"\n", 1, "bad escape in a quoted value");
	ERROR("a: \"\\ud83d\\ude00\"\n", 1, "bad escape in a quoted value");
	ERROR("a: \"\\ude00\"\n", 1, "bad escape in a quoted value");
	ERROR("a: \"\\U00110000\"\n", 1, "bad escape in a quoted value");
	ERROR("a: \"x\" y\n", 1, "unexpected text after the value");
	ERROR("\"a\":b\n", 1, "unexpected text after the value");
}

TEST(yaml_sequences)
{
	TREE("k:\n  - a\n  - \"b\"\n  -\n  - 'c'\n", "{k=[a,b,~,c]}");
	TREE("k:\n- a\n- b\nz: 1\n", "{k=[a,b],z=1}");
	TREE("- a\n- b\n", "[a,b]");
	TREE("- - a\n  - b\n- c\n", "[[a,b],c]");
	TREE("k:\n  - name: x\n    alias: y\n  - name: z\n  -   n: 1\n"
	     "      m: 2\n",
	     "{k=[{name=x,alias=y},{name=z},{n=1,m=2}]}");
	TREE("k:\n  -\n    a: 1\n  - b\n", "{k=[{a=1},b]}");
	TREE("k:\n  - a:\n      - 1\n    b: 2\n", "{k=[{a=[1],b=2}]}");
	LINES("k:\n  - a: 1\n    b: 2\n  - c\n",
	      "{k=[{a=1@2,b=2@3}@2,c@4]@1}");
	ERROR("k:\n  - a\n  b: 1\n", 3, "bad indentation (or '- item' and");
	ERROR("k: 1\n- a\n", 2, "bad indentation (or '- item' and");
	ERROR("k: - a\n", 1, "a map or list cannot start on its key's line");
}

TEST(yaml_flow_forms)
{
	TREE("a: []\nb: {}\nc: [ ]\nd: { }\n", "{a=[],b={},c=[],d={}}");
	TREE("a: [x, \"y z\", 'w', ~, 1.5]\n", "{a=[x,y z,w,~,1.5]}");
	TREE("a: [x,y,]\nb: [ x ] # c\n", "{a=[x,y],b=[x]}");
	TREE("- [a]\n- []\n", "[[a],[]]");
	TREE("a:\n  [b, c]\n", "{a=[b,c]}");
	TREE("a: [\"x,]\", 'y]']\n", "{a=[x,],y]]}");
	ERROR("a: [x, [y]]\n", 1, "nested [ ] and { } are not supported");
	ERROR("a: [x, {y: 1}]\n", 1, "nested [ ] and { } are not supported");
	ERROR("a: {x: 1}\n", 1, "{ } with content is not supported");
	ERROR("a: [x, y\n", 1, "[ ] must close on its line");
	ERROR("a: [x,\n  y]\n", 1, "[ ] must close on its line");
	ERROR("a: [x, , y]\n", 1, "unexpected character (quote the value)");
	ERROR("a: [x: 1]\n", 1, "[ ] must close on its line");
	ERROR("a: [x] y\n", 1, "unexpected text after the value");
	ERROR("a: 1\n[b]: 2\n", 2, "expected 'key: value' or '- item'");
}

TEST(yaml_comments_are_kept_by_line)
{
	static const char text[] =
		"# head\n"          /* 1 */
		"\n"                /* 2 */
		"a: 1 # one\n"      /* 3 */
		"b: 'x # y' #two\n" /* 4 */
		"  # inner\n"       /* 5 */
		"c: \"#\"\n"        /* 6 */
		"d: e#f\n"          /* 7 */
		"# tail\n";         /* 8 */
	size_t n = strlen(text);
	char *g = t_guarded_copy(text, n + 1);
	struct yaml_doc d;

	REQUIRE(yaml_parse(&d, g, n) == 0);
	CHECK_EQ_INT(d.lines, 9);
	CHECK_EQ_STR(d.comment[1], " head");
	CHECK(!d.comment[2]);
	CHECK_EQ_STR(d.comment[3], " one");
	CHECK_EQ_STR(d.comment[4], "two");
	CHECK_EQ_STR(d.comment[5], " inner");
	CHECK(!d.comment[6] && !d.comment[7]);
	CHECK_EQ_STR(d.comment[8], " tail");
	REQUIRE(d.n == 5);
	CHECK_EQ_STR(d.nodes[1].key, "a");
	CHECK_EQ_INT(d.nodes[1].lead, 1);
	CHECK_EQ_STR(d.nodes[2].str, "x # y");
	CHECK_EQ_INT(d.nodes[2].lead, 4);
	CHECK_EQ_INT(d.nodes[3].lead, 5);
	CHECK_EQ_STR(d.nodes[3].str, "#");
	CHECK_EQ_STR(d.nodes[4].str, "e#f");
	CHECK_EQ_INT(d.tail, 8);
	yaml_free(&d);
	t_guarded_free(g);
}

TEST(yaml_document_start_crlf_bom)
{
	TREE("---\na: 1\n", "{a=1}");
	TREE("# c\n--- # start\na: 1\n", "{a=1}");
	TREE("a: 1\r\nb:\r\n  - x  \r\n", "{a=1,b=[x]}");
	TREE("\xEF\xBB\xBF" "a: 1\n", "{a=1}");
	TREE("\xEF\xBB\xBF", "~");
	TREE("", "~");
	TREE("# only\n\n", "~");
	TREE("a: 1", "{a=1}");
	TREE("just text\n", "just text");
	ERROR("a: 1\n---\nb: 2\n", 2, "directives, '...' and a second");
	ERROR("--- a: 1\n", 1, "directives, '...' and a second");
	ERROR("%YAML 1.2\n---\na: 1\n", 1, "directives, '...' and a second");
	ERROR("a: 1\n...\n", 2, "directives, '...' and a second");
	ERROR("a: 1\rb: 2\n", 1, "a carriage return inside a line");
	ERROR("a: 1\n\rb: 2\n", 2, "a carriage return inside a line");
}

TEST(yaml_unsupported_forms_name_their_line)
{
	ERROR("a: 1\n\tb: 2\n", 2, "tab in the indentation");
	ERROR("a:\n  \tb: 2\n", 2, "tab in the indentation");
	ERROR("a: &x 1\n", 1, "anchors, aliases and tags");
	ERROR("a: *x\n", 1, "anchors, aliases and tags");
	ERROR("a: !!str 1\n", 1, "anchors, aliases and tags");
	ERROR("a: |\n  text\n", 1, "block scalars");
	ERROR("a: >-\n  text\n", 1, "block scalars");
	ERROR("? a\n: 1\n", 1, "unexpected character (quote the value)");
	ERROR("a: @x\n", 1, "unexpected character (quote the value)");
	ERROR("a: b: c\n", 1, "a map or list cannot start on its key's line");
	ERROR("a: b\n  c\n", 2, "expected 'key: value' or '- item'");
	ERROR("a:\n  b: 1\n c: 2\n", 3, "bad indentation");
	ERROR("a:\n  b\n  c\n", 3, "expected 'key: value' or '- item'");
	ERROR("a: 1\nb\n", 2, "expected 'key: value' or '- item'");
	TREE("a: 1\n\t\n  \t# tab before a comment is fine\n", "{a=1}");
}

TEST(yaml_nul_bytes_are_refused_with_their_line)
{
	static const char text[] = "a: 1\nb: x\0y\n";
	char *g = t_guarded_copy(text, sizeof(text));
	struct yaml_doc d;

	CHECK_EQ_INT(yaml_parse(&d, g, sizeof(text) - 1), -1);
	CHECK_EQ_INT(d.err_line, 2);
	CHECK_EQ_STR(d.err, "a NUL byte");
	yaml_free(&d);
	t_guarded_free(g);
}

/* depth levels of maps (and of "- " items on one line). */
static char *deep(int depth, int dashes)
{
	char *s = malloc((size_t)depth * (2 * (size_t)depth + 8) + 16), *p = s;
	int i;

	if (dashes) {
		for (i = 0; i < depth; i++)
			p += sprintf(p, "- ");
		sprintf(p, "x\n");
		return s;
	}
	for (i = 0; i < depth; i++)
		p += sprintf(p, "%*sk%d:\n", 2 * i, "", i);
	sprintf(p, "%*sv: 1\n", 2 * depth, "");
	return s;
}

TEST(yaml_depth_is_bounded)
{
	char *ok = deep(YAML_DEPTH_MAX - 1, 0), *bad = deep(YAML_DEPTH_MAX, 0);
	char *okd = deep(YAML_DEPTH_MAX, 1), *badd = deep(YAML_DEPTH_MAX + 1, 1);
	char want[64];

	CHECK(strncmp(tree(ok, 0), "ERR", 3) != 0);
	snprintf(want, sizeof(want), "ERR %d: nested deeper than %d levels",
		 YAML_DEPTH_MAX + 1, YAML_DEPTH_MAX);
	CHECK_EQ_STR(tree(bad, 0), want);
	CHECK(strncmp(tree(okd, 0), "ERR", 3) != 0);
	snprintf(want, sizeof(want), "ERR 1: nested deeper than %d levels",
		 YAML_DEPTH_MAX);
	CHECK_EQ_STR(tree(badd, 0), want);
	free(ok);
	free(bad);
	free(okd);
	free(badd);
}

/* Many entries and long lines: one pass, no quadratic work (the test's
 * time limit catches a blow-up). */
TEST(yaml_large_inputs)
{
	size_t i, n = 200000, len = 0;
	char *s = malloc(n * 16 + 64), *g;
	struct yaml_doc d;

	len += (size_t)sprintf(s, "k:\n");
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "  - item%zu\n", i);
	len += (size_t)sprintf(s + len, "f: [");
	for (i = 0; i < n / 4; i++)
		len += (size_t)sprintf(s + len, "a,");
	len += (size_t)sprintf(s + len, "b]\n");
	g = t_guarded_copy(s, len + 1);
	REQUIRE(yaml_parse(&d, g, len) == 0);
	CHECK_EQ_INT(d.n, 1 + 1 + n + 1 + n / 4 + 1);
	CHECK_EQ_STR(d.nodes[d.n - 1].str, "b");
	yaml_free(&d);
	t_guarded_free(g);
	free(s);
}
