/*
 * hub_codec.h - option decoding shared by the two hub targets.
 */
#ifndef HUB_CODEC_H
#define HUB_CODEC_H

#include "fuzz.h"
#include "hub.h"
#include "json.h"

/* Model names the options pick from; the last needs escaping. */
static const char *const fz_models[8] = {
	"gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro", "gemini-2.5-flash",
	"o3-mini", "claude-opus-4-1-thinking", "", "we\"ird\\mo\001del",
};

static const char *const fz_fmt_names[HUB__COUNT] = {
	"openai", "responses", "claude", "gemini", "completions",
};

/* Fail with the output that is not valid JSON. */
static inline void fz_want_json(const char *what, int from, int to,
				const char *p, size_t n)
{
	if (json_validate(p, n) == 0)
		return;
	fprintf(stderr, "%s %s -> %s is not valid JSON (%zu bytes):\n%.*s\n",
		what, fz_fmt_names[from], fz_fmt_names[to], n,
		(int)(n > 4000 ? 4000 : n), p ? p : "");
	abort();
}

#endif
