/*
 * mlist.h - a model list as an upstream answered it: the value, and the
 * parsers of the list answers.
 *
 * A list is one immutable malloc'd block, refcounted: the header, the
 * entries, then their strings.  Routes (route.h) point their model ids
 * into it and hold a reference while they live, so a list replaced by a
 * newer fetch stays readable for the exchanges that still use the old
 * route.  Credentials that got the same answer share one block (mfetch.h
 * finds equal lists with mlist_same).
 *
 *   +--------+---------------------+----------------------------------+
 *   | header | v[0] .. v[n-1]      | "id\0" ["display\0"] ...         |
 *   +--------+---------------------+----------------------------------+
 *                 |  id, display ------^
 *
 * The parsers are pure (no I/O): a whole answer body in, a list out.
 * Every id passed models_name_check (models.h), no id is there twice,
 * and at most MLIST_MODELS_MAX (sizes.h) are kept, in the answer's
 * order.  A display name is kept when it is printable ASCII of at most
 * MLIST_DISPLAY_MAX bytes; otherwise it is the id.
 */
#ifndef MLIST_H
#define MLIST_H

#include <stddef.h>
#include <stdint.h>

/* The shapes of list answers. */
enum mlist_fmt {
	/* Claude's GET /v1/models: {"data":[{"id","display_name",
	 * "created_at"}],"has_more":..} */
	MLIST_CLAUDE,
	/* Gemini's GET /v1beta/models: {"models":[{"name":"models/<id>",
	 * "displayName","supportedGenerationMethods":[..]}]}; only models
	 * that support generateContent */
	MLIST_GEMINI,
	/* Code Assist's POST /v1internal:fetchAvailableModels
	 * (Antigravity): {"models":{"<id>":{"displayName",..}}} */
	MLIST_CODE_ASSIST,
	MLIST__COUNT
};

struct mlist_model {
	const char *id;
	const char *display;  /* the upstream's display name, or id */
	long long created;    /* unix time; 0 when the answer has none */
};

struct mlist {
	unsigned refs;
	uint32_t hash;        /* of every entry: equal lists hash equal */
	size_t n;             /* at least 1 */
	size_t dropped;       /* entries of the answer left out (names
				 that fail the check, repeats, past the
				 cap, unsupported): for the debug log */
	struct mlist_model v[];
};

/*
 * Parse a whole list answer body[0..n) of shape f.  Returns the new list
 * (refs 1), or NULL with *why set to a short message that quotes nothing
 * of the answer: "not JSON", "no model list in the answer", "no usable
 * model in the answer", "out of memory".
 */
struct mlist *mlist_parse(enum mlist_fmt f, const char *body, size_t n,
			  const char **why);

struct mlist *mlist_ref(struct mlist *l);
void mlist_unref(struct mlist *l);

/* Do a and b list the same entries in the same order? */
int mlist_same(const struct mlist *a, const struct mlist *b);

/* The entry for id, or NULL. */
const struct mlist_model *mlist_find(const struct mlist *l, const char *id);

#endif
