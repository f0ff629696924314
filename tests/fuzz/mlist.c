/*
 * mlist.c - fuzz target: mlist_parse, the parsers of the upstreams'
 * model-list answers.
 *
 * Input: one option byte, then an answer body.  Option bits 0-1: the
 * answer's shape (enum mlist_fmt; 3 is read as MLIST_CLAUDE).
 * Checks:
 *   - a refusal says one of the four documented reasons (never a piece
 *     of the answer);
 *   - a list has 1 .. MLIST_MODELS_MAX entries, refs 1; every id passes
 *     models_name_check and is there once (mlist_find finds that entry);
 *     a display name is the id itself or printable ASCII of at most
 *     MLIST_DISPLAY_MAX bytes; created is not negative;
 *   - the list written back as an answer of the same shape parses to an
 *     equal list (mlist_same) with nothing dropped.
 */
#include "acct_file.h"
#include "buf.h"
#include "fuzz.h"
#include "mlist.h"
#include "models.h"
#include "sizes.h"

static void check_reason(const char *why)
{
	static const char *const reasons[] = {
		"not JSON", "no model list in the answer",
		"no usable model in the answer", "out of memory", NULL,
	};
	size_t i;
	FZ_CHECK(why != NULL);
	for (i = 0; reasons[i]; i++)
		if (!strcmp(why, reasons[i]))
			return;
	fprintf(stderr, "unexpected reason: %s\n", why);
	abort();
}

static void check_entry(const struct mlist *l, size_t i)
{
	const struct mlist_model *m = &l->v[i];
	size_t k, n = strlen(m->display);

	FZ_CHECK(models_name_check(m->id, strlen(m->id)) == NULL);
	FZ_CHECK(mlist_find(l, m->id) == m);
	FZ_CHECK(m->created >= 0);
	if (m->display == m->id)
		return;
	FZ_CHECK(strcmp(m->display, m->id) != 0);
	FZ_CHECK(n >= 1 && n <= MLIST_DISPLAY_MAX);
	for (k = 0; k < n; k++)
		FZ_CHECK(m->display[k] >= 0x20 && m->display[k] <= 0x7e);
}

/* l as an answer of shape f. */
static void write_answer(struct buf *b, enum mlist_fmt f,
			 const struct mlist *l)
{
	size_t i;

	buf_puts(b, f == MLIST_CLAUDE ? "{\"data\":[" : f == MLIST_GEMINI
						      ? "{\"models\":["
						      : "{\"models\":{");
	for (i = 0; i < l->n; i++) {
		const struct mlist_model *m = &l->v[i];
		char tm[32];
		if (i)
			buf_putc(b, ',');
		switch (f) {
		case MLIST_CLAUDE:
			buf_puts(b, "{\"type\":\"model\",\"id\":");
			buf_json_cstr(b, m->id);
			if (m->display != m->id) {
				buf_puts(b, ",\"display_name\":");
				buf_json_cstr(b, m->display);
			}
			if (m->created) {
				acct_time_format(m->created, tm);
				buf_puts(b, ",\"created_at\":");
				buf_json_cstr(b, tm);
			}
			buf_putc(b, '}');
			break;
		case MLIST_GEMINI:
			buf_puts(b, "{\"name\":\"models/");
			buf_json_esc(b, m->id, strlen(m->id));
			buf_putc(b, '"');
			if (m->display != m->id) {
				buf_puts(b, ",\"displayName\":");
				buf_json_cstr(b, m->display);
			}
			buf_puts(b, ",\"supportedGenerationMethods\":"
				    "[\"generateContent\"]}");
			break;
		default:
			buf_json_cstr(b, m->id);
			buf_puts(b, ":{");
			if (m->display != m->id) {
				buf_puts(b, "\"displayName\":");
				buf_json_cstr(b, m->display);
			}
			buf_putc(b, '}');
			break;
		}
	}
	buf_puts(b, f == MLIST_CODE_ASSIST ? "}}" : "]}");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = {data, size};
	unsigned opt = fz_byte(&in);
	enum mlist_fmt f = (opt & 3) == 3 ? MLIST_CLAUDE : (enum mlist_fmt)(opt & 3);
	char *body = fz_dup(in.p, in.n);
	const char *why = NULL;
	struct mlist *l = mlist_parse(f, body, in.n, &why), *again;
	struct buf b;
	size_t i;

	free(body);
	if (!l) {
		check_reason(why);
		return 0;
	}
	FZ_CHECK(l->refs == 1);
	FZ_CHECK(l->n >= 1 && l->n <= MLIST_MODELS_MAX);
	for (i = 0; i < l->n; i++)
		check_entry(l, i);

	buf_init(&b, 4 * 1024 * 1024);
	write_answer(&b, f, l);
	FZ_CHECK(!b.overflow);
	body = fz_dup(b.p, b.len);
	again = mlist_parse(f, body, b.len, &why);
	if (!again)
		fprintf(stderr, "written back and refused (%s): %.*s\n", why,
			(int)(b.len > 400 ? 400 : b.len), b.p);
	FZ_CHECK(again != NULL);
	FZ_CHECK(again->dropped == 0);
	FZ_CHECK(mlist_same(l, again));
	free(body);
	buf_free(&b);
	mlist_unref(again);
	mlist_unref(l);
	return 0;
}
