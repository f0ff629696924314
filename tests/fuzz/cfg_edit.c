/*
 * cfg_edit.c - fuzz target: cfg_edit_value, against inih itself.
 *
 * Input: one option byte, then a config's text (any bytes).  Option bits:
 *   0-2   which key: [remote-management] secret-key, top-level port,
 *         top-level ("") api-keys, [claude-api-key] api-key,
 *         [openai-compatibility] name, [endpoints] claude, [a] k,
 *         [streaming] keepalive-seconds
 *   3-5   the new value: a bcrypt hash, "", "x", one with '$' '/' '='
 *         ';' '#' ':' and a space inside, and four that cannot be written
 *         (leading space, " ;" inside, a newline, a leading '#')
 *   6     out has little room (half the input) and holds 3 bytes already
 * Checks, with inih (the parser cfg.c uses, same options) run on the text
 * and recording every call of its handler:
 *   - the result is exactly what inih predicts: -1 for a NUL in the text,
 *     a value that would not read back, a syntax error at or before the
 *     first line inih hands the key in that section, a line grown past
 *     INI_MAX_LINE or no room in out; 0 when inih hands the key over;
 *     else 1;
 *   - on 0, the output is the input with inih's value on that line
 *     replaced by the new one (with one space before a new value that
 *     fills an empty one when the separator has a blank before it),
 *     and nothing
 *     else changed: putting the old value back gives the input;
 *     inih reads the output as the input, call for call, but for that
 *     value; editing the output again with the new value changes nothing,
 *     and with the old value (when it can be written, the new one is not
 *     empty and no space was added) gives the input back;
 *   - on 1 and -1, out is untouched.
 */
#include "buf.h"
#include "cfg.h"
#include "fuzz.h"
#include "ini.h"

#define HASH "$2a$10$N9qo8uLOickgx2ZMRZoMye/IjZAgcfl7p92ldGxad68LJZdL17lhWy"

static const char *const sections[8] = {
	"remote-management", NULL, "", "claude-api-key",
	"openai-compatibility", "endpoints", "a", "streaming",
};
static const char *const keys[8] = {
	"secret-key", "port", "api-keys", "api-key", "name", "claude", "k",
	"keepalive-seconds",
};
static const char *const values[8] = {
	HASH, "", "x", "a$b/c=d;e#f g:h", " lead", "a ;b", "a\nb", "#x",
};

/* One handler call of inih: a section (name NULL) or a pair. */
struct call {
	char *section, *name, *value;
	int line;
};

struct calls {
	struct call *v;
	size_t n, cap;
	const char *want_section, *want_key;
	int first; /* index of the first call handing the key over, or -1 */
};

static int record(void *user, const char *section, const char *name,
		  const char *value, int line)
{
	struct calls *c = user;
	struct call *k;

	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 16;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		if (!c->v)
			abort();
	}
	k = &c->v[c->n];
	k->section = fz_strdup(section, strlen(section));
	k->name = name ? fz_strdup(name, strlen(name)) : NULL;
	k->value = value ? fz_strdup(value, strlen(value)) : NULL;
	k->line = line;
	if (c->first < 0 && name && !strcmp(section, c->want_section) &&
	    !strcmp(name, c->want_key))
		c->first = (int)c->n;
	c->n++;
	return 1;
}

static int parse(const char *text, size_t n, struct calls *c,
		 const char *section, const char *key)
{
	memset(c, 0, sizeof(*c));
	c->want_section = section;
	c->want_key = key;
	c->first = -1;
	return ini_parse_string_length(text, n, record, c);
}

static void calls_free(struct calls *c)
{
	size_t i;
	for (i = 0; i < c->n; i++) {
		free(c->v[i].section);
		free(c->v[i].name);
		free(c->v[i].value);
	}
	free(c->v);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

/* cfg.h's promise: what cfg_edit_value will write as a value. */
static int writable(const char *v)
{
	size_t i, n = strlen(v);

	if (n && (is_space(v[0]) || is_space(v[n - 1]) || v[0] == ';' ||
		  v[0] == '#'))
		return 0;
	for (i = 0; i < n; i++)
		if (v[i] == '\n' || v[i] == '\r' ||
		    (is_space(v[i]) && (v[i + 1] == ';' || v[i + 1] == '#')))
			return 0;
	return 1;
}

/* Byte range [*ls, *le) of line number line (1-based), '\n' included. */
static void line_span(const char *t, size_t n, int line, size_t *ls,
		      size_t *le)
{
	size_t i = 0;
	int at = 1;

	while (at < line) {
		const char *nl = memchr(t + i, '\n', n - i);
		FZ_CHECK(nl != NULL);
		i = (size_t)(nl - t) + 1;
		at++;
	}
	*ls = i;
	while (i < n && t[i] != '\n')
		i++;
	*le = i < n ? i + 1 : n;
}

/* Is out the input with old replaced by ins (pad + new) at some offset
 * inside [ls, le)?  Offsets that keep the common prefix and suffix are
 * the only candidates. */
static int one_splice(const char *in, size_t n, const char *out, size_t on,
		      const char *old, const char *ins, size_t ls, size_t le)
{
	size_t ol = strlen(old), il = strlen(ins), pre = 0, suf = 0, a, lo;

	if (on + ol != n + il)
		return 0;
	while (pre < n && pre < on && in[pre] == out[pre])
		pre++;
	while (suf < n && suf < on && in[n - 1 - suf] == out[on - 1 - suf])
		suf++;
	lo = n - ol > suf ? n - ol - suf : 0;
	for (a = lo < ls ? ls : lo; a <= pre && a + ol <= le; a++)
		if (!memcmp(in + a, old, ol) && !memcmp(out + a, ins, il) &&
		    !memcmp(in + a + ol, out + a + il, n - a - ol))
			return 1;
	return 0;
}

/* The same calls, but the value of call `first`, which is want. */
static void same_calls(const struct calls *a, const struct calls *b,
		       const char *want)
{
	size_t i;

	FZ_CHECK(a->n == b->n && a->first == b->first);
	for (i = 0; i < a->n; i++) {
		const struct call *x = &a->v[i], *y = &b->v[i];
		FZ_CHECK(x->line == y->line && !strcmp(x->section, y->section));
		FZ_CHECK(!x->name == !y->name && !x->value == !y->value);
		if (!x->name)
			continue;
		FZ_CHECK(!strcmp(x->name, y->name));
		if ((int)i == a->first)
			FZ_CHECK(!strcmp(y->value, want));
		else
			FZ_CHECK(!strcmp(x->value, y->value));
	}
}

/* Edit text again and expect want (when want is not NULL) or 0. */
static void edit_again(const char *text, size_t n, const char *section,
		       const char *key, const char *value, const char *want,
		       size_t wn)
{
	struct buf b;
	int rc;

	buf_init(&b, n + strlen(value) + 16);
	rc = cfg_edit_value(text, n, section, key, value, &b);
	FZ_CHECK(rc == 0);
	FZ_CHECK(b.len == wn && !memcmp(b.p, want, wn));
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	unsigned opt = fz_byte(&f);
	const char *section = sections[opt & 7], *key = keys[opt & 7];
	const char *value = values[(opt >> 3) & 7];
	char *text = fz_dup(f.p, f.n);
	size_t n = f.n, room = opt & 64 ? n / 2 + 3 : n + 256, ls = 0, le = 0;
	struct calls in, out;
	const char *old = NULL, *pad = "";
	struct buf b;
	int rc, want, irc = 0, orc;

	buf_init(&b, room);
	buf_puts(&b, "pre");
	rc = cfg_edit_value(text, n, section, key, value, &b);
	FZ_CHECK(rc == 0 || rc == 1 || rc == -1);

	memset(&in, 0, sizeof(in));
	in.first = -1;
	if (memchr(text, '\0', n) || !writable(value)) {
		want = -1;
	} else {
		irc = parse(text, n, &in, section ? section : "", key);
		FZ_CHECK(irc >= 0);
		if (in.first < 0) {
			want = irc ? -1 : 1;
		} else if (irc && irc <= in.v[in.first].line) {
			want = -1;
		} else {
			const char *sep;

			old = in.v[in.first].value;
			line_span(text, n, in.v[in.first].line, &ls, &le);
			sep = text + ls;
			while (*sep != '=' && *sep != ':')
				sep++;
			if (!*old && *value &&
			    (sep[-1] == ' ' || sep[-1] == '\t'))
				pad = " ";
			want = le - ls - strlen(old) + strlen(pad) +
					       strlen(value) > INI_MAX_LINE - 1 ||
				       3 + n - strlen(old) + strlen(pad) +
					       strlen(value) > room
				       ? -1 : 0;
		}
	}
	if (rc != want) {
		fprintf(stderr, "result %d, inih says %d (inih %d)\n", rc, want,
			irc);
		abort();
	}
	FZ_CHECK(b.len >= 3 && !memcmp(b.p, "pre", 3) && !b.overflow);
	if (rc != 0) {
		FZ_CHECK(b.len == 3);
	} else {
		const char *o = b.p + 3;
		size_t on = b.len - 3;
		char *ins = malloc(strlen(pad) + strlen(value) + 1);

		if (!ins)
			abort();
		strcpy(ins, pad);
		strcat(ins, value);
		FZ_CHECK(one_splice(text, n, o, on, old, ins, ls, le));
		orc = parse(o, on, &out, section ? section : "", key);
		FZ_CHECK(orc == irc);
		same_calls(&in, &out, value);
		calls_free(&out);
		edit_again(o, on, section, key, value, o, on);
		if (!*pad && *value && writable(old))
			edit_again(o, on, section, key, old, text, n);
		free(ins);
	}
	calls_free(&in);
	buf_free(&b);
	free(text);
	return 0;
}
