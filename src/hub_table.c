/*
 * hub_table.c - format -> codec.  Kept apart from hub.c so a codec and its
 * unit tests build without the other three.
 */
#include "hub.h"

const struct hub_codec *hub_codec_for(enum hub_fmt f)
{
	switch (f) {
	case HUB_OPENAI: return &hub_openai;
	case HUB_RESPONSES: return &hub_responses;
	case HUB_CLAUDE: return &hub_claude;
	case HUB_GEMINI: return &hub_gemini;
	case HUB_COMPLETIONS: return &hub_completions;
	default: return NULL;
	}
}
