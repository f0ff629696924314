/*
 * hub_table.c - the codecs: each format's two sides put together (the
 * entry points of hub_<fmt>_client.c and hub_<fmt>_upstream.c, declared in
 * hub.h), and format -> codec.  Kept apart from hub.c so that the shared
 * part builds without any codec.
 */
#include "hub.h"

#define HUB_CODEC(f, fmt)                                                    \
	{                                                                    \
		f, hub_##fmt##_decode_request, hub_##fmt##_encode_request,   \
		hub_##fmt##_decode_event, hub_##fmt##_decode_body,           \
		hub_##fmt##_encode_event, hub_##fmt##_render_error           \
	}

const struct hub_codec hub_openai = HUB_CODEC(HUB_OPENAI, openai);
const struct hub_codec hub_responses = HUB_CODEC(HUB_RESPONSES, responses);
const struct hub_codec hub_claude = HUB_CODEC(HUB_CLAUDE, claude);
const struct hub_codec hub_gemini = HUB_CODEC(HUB_GEMINI, gemini);
const struct hub_codec hub_completions =
	HUB_CODEC(HUB_COMPLETIONS, completions);

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
