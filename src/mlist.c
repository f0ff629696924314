/*
 * mlist.c - model lists and the parsers of list answers (see mlist.h).
 *
 * A parse walks the answer's jsmn tokens once.  Each candidate entry is
 * unescaped into a small stack buffer, checked, and appended to a
 * builder: its strings go into one growing buffer, the entry keeps their
 * offsets, and a little open-addressing table of ids catches repeats.
 * The finished list is the builder copied into one block (mlist.h), so
 * a list costs one allocation of exactly its size.
 */
#include "mlist.h"

#include <stdlib.h>
#include <string.h>

#include "acct_file.h"
#include "buf.h"
#include "json.h"
#include "models.h"
#include "sizes.h"

#define NO_DISPLAY ((size_t)-1)
#define ID_SLOTS 1024 /* a power of two, over twice MLIST_MODELS_MAX */
#if MLIST_MODELS_MAX * 2 > ID_SLOTS
#error "MLIST_MODELS_MAX needs a larger ID_SLOTS"
#endif

struct builder {
	struct buf s;               /* "id\0" ["display\0"] ... */
	struct {
		size_t id, display; /* offsets into s (display: or
				       NO_DISPLAY) */
		long long created;
	} e[MLIST_MODELS_MAX];
	size_t n, dropped;
	uint16_t slot[ID_SLOTS];    /* index + 1 into e, 0 empty */
};

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;
	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 16777619u;
	}
	return h;
}

/* Is s printable ASCII (what a display name is kept as)? */
static int printable(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* Append one entry (id already unescaped; display NULL or unescaped);
 * a bad name, a repeat, or one past the cap is counted as dropped. */
static void add(struct builder *b, const char *id, size_t idn,
		const char *display, size_t dn, long long created)
{
	uint32_t i;

	if (b->n == MLIST_MODELS_MAX || models_name_check(id, idn)) {
		b->dropped++;
		return;
	}
	for (i = fnv(2166136261u, id, idn) & (ID_SLOTS - 1); b->slot[i];
	     i = (i + 1) & (ID_SLOTS - 1)) {
		const char *o = b->s.p + b->e[b->slot[i] - 1].id;
		if (!strncmp(o, id, idn) && o[idn] == '\0') {
			b->dropped++;
			return;
		}
	}
	b->slot[i] = (uint16_t)(b->n + 1);
	b->e[b->n].id = b->s.len;
	buf_put(&b->s, id, idn);
	buf_putc(&b->s, '\0');
	b->e[b->n].display = NO_DISPLAY;
	if (display && dn && dn <= MLIST_DISPLAY_MAX && printable(display, dn) &&
	    (dn != idn || memcmp(display, id, idn))) {
		b->e[b->n].display = b->s.len;
		buf_put(&b->s, display, dn);
		buf_putc(&b->s, '\0');
	}
	b->e[b->n].created = created;
	b->n++;
}

/* One entry of the answer: the tokens of its id (which must begin with
 * prefix, left out) and display name (-1: none). */
static void take(struct builder *b, const struct json *j, int id,
		 int display, long long created, const char *prefix)
{
	char ids[MODEL_NAME_MAX + 1 + 7]; /* room for Gemini's "models/" */
	char ds[MLIST_DISPLAY_MAX + 1];
	size_t skip = strlen(prefix);
	int idn = json_text(j, id, ids, sizeof(ids));
	int dn = json_text(j, display, ds, sizeof(ds));

	if (idn < 0 || (size_t)idn < skip || memcmp(ids, prefix, skip)) {
		b->dropped++;
		return;
	}
	add(b, ids + skip, (size_t)idn - skip, dn >= 0 ? ds : NULL,
	    dn >= 0 ? (size_t)dn : 0, created);
}

/* An RFC 3339 string token as unix time, or 0 (none, or not within
 * 1970 .. 9999). */
#define YEAR_10000 253402300800LL

static long long time_of(const struct json *j, int t)
{
	long long v;
	if (t < 0 || j->tok[t].type != JSMN_STRING ||
	    acct_time_parse(json_ptr(j, t), json_len(j, t), &v) < 0 ||
	    v <= 0 || v >= YEAR_10000)
		return 0;
	return v;
}

/* ---- the answers ---------------------------------------------------------- */

static int claude(struct builder *b, const struct json *j)
{
	int data = json_get(j, 0, "data"), i, k;

	if (data < 0 || j->tok[data].type != JSMN_ARRAY)
		return -1;
	for (k = 0, i = data + 1; k < j->tok[data].size; k++,
	     i = json_skip(j, i))
		take(b, j, json_get(j, i, "id"), json_get(j, i, "display_name"),
		     time_of(j, json_get(j, i, "created_at")), "");
	return 0;
}

/* Does the array at t hold the string s? */
static int has_str(const struct json *j, int t, const char *s)
{
	int i, k;
	if (t < 0 || j->tok[t].type != JSMN_ARRAY)
		return 0;
	for (k = 0, i = t + 1; k < j->tok[t].size; k++, i = json_skip(j, i))
		if (json_str_eq(j, i, s))
			return 1;
	return 0;
}

static int gemini(struct builder *b, const struct json *j)
{
	int models = json_get(j, 0, "models"), i, k;

	if (models < 0 || j->tok[models].type != JSMN_ARRAY)
		return -1;
	for (k = 0, i = models + 1; k < j->tok[models].size; k++,
	     i = json_skip(j, i)) {
		if (has_str(j, json_get(j, i, "supportedGenerationMethods"),
			    "generateContent"))
			take(b, j, json_get(j, i, "name"),
			     json_get(j, i, "displayName"), 0, "models/");
		else
			b->dropped++;
	}
	return 0;
}

static int code_assist(struct builder *b, const struct json *j)
{
	int models = json_get(j, 0, "models"), i, k;

	if (models < 0 || j->tok[models].type != JSMN_OBJECT)
		return -1;
	for (k = 0, i = models + 1; k < j->tok[models].size; k++,
	     i = json_skip(j, i + 1))
		take(b, j, i, json_get(j, i + 1, "displayName"), 0, "");
	return 0;
}

/* ---- the list ---------------------------------------------------------------- */

static struct mlist *finish(const struct builder *b)
{
	size_t head = sizeof(struct mlist) + b->n * sizeof(struct mlist_model);
	struct mlist *l = malloc(head + b->s.len);
	char *str = (char *)l + head;
	uint32_t h = 2166136261u;
	size_t i;

	if (!l)
		return NULL;
	memcpy(str, b->s.p, b->s.len);
	l->refs = 1;
	l->n = b->n;
	l->dropped = b->dropped;
	for (i = 0; i < b->n; i++) {
		struct mlist_model *m = &l->v[i];
		m->id = str + b->e[i].id;
		m->display = b->e[i].display == NO_DISPLAY
				     ? m->id
				     : str + b->e[i].display;
		m->created = b->e[i].created;
		h = fnv(h, m->id, strlen(m->id) + 1);
		h = fnv(h, m->display, strlen(m->display) + 1);
		h = fnv(h, &m->created, sizeof(m->created));
	}
	l->hash = h;
	return l;
}

struct mlist *mlist_parse(enum mlist_fmt f, const char *body, size_t n,
			  const char **why)
{
	static int (*const walk[MLIST__COUNT])(struct builder *,
					       const struct json *) = {
		[MLIST_CLAUDE] = claude,
		[MLIST_GEMINI] = gemini,
		[MLIST_CODE_ASSIST] = code_assist,
	};
	struct builder *b;
	struct mlist *l = NULL;
	struct json j;
	int rc;

	*why = "out of memory";
	if ((unsigned)f >= MLIST__COUNT)
		return NULL;
	rc = json_parse(&j, body, n);
	if (rc == -1)
		*why = "not JSON";
	if (rc < 0)
		return NULL;
	if (!(b = calloc(1, sizeof(*b)))) {
		json_free(&j);
		return NULL;
	}
	buf_init(&b->s, MLIST_MODELS_MAX * (MODEL_NAME_MAX + MLIST_DISPLAY_MAX +
					    2));
	if (j.tok[0].type != JSMN_OBJECT || walk[f](b, &j) < 0)
		*why = "no model list in the answer";
	else if (b->s.overflow)
		*why = "out of memory";
	else if (!b->n)
		*why = "no usable model in the answer";
	else if ((l = finish(b)) == NULL)
		*why = "out of memory";
	json_free(&j);
	buf_free(&b->s);
	free(b);
	return l;
}

struct mlist *mlist_ref(struct mlist *l)
{
	l->refs++;
	return l;
}

void mlist_unref(struct mlist *l)
{
	if (l && --l->refs == 0)
		free(l);
}

int mlist_same(const struct mlist *a, const struct mlist *b)
{
	size_t i;
	if (a == b)
		return 1;
	if (!a || !b || a->n != b->n || a->hash != b->hash)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].id, b->v[i].id) ||
		    strcmp(a->v[i].display, b->v[i].display) ||
		    a->v[i].created != b->v[i].created)
			return 0;
	return 1;
}

const struct mlist_model *mlist_find(const struct mlist *l, const char *id)
{
	size_t i;
	for (i = 0; l && i < l->n; i++)
		if (!strcmp(l->v[i].id, id))
			return &l->v[i];
	return NULL;
}
