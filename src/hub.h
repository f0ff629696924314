/*
 * hub.h - the translation hub: one request view and one stream-event
 * vocabulary shared by every API format (DESIGN.md section 3).
 *
 *   client body --decode_request--> view --encode_request--> upstream body
 *   upstream SSE/JSON --decode (stream or body)--> events --encode--> client
 *
 * Four formats: OpenAI chat completions, OpenAI Responses, Claude
 * messages, Gemini generateContent (the Gemini CLI / Code Assist envelope
 * and Antigravity's are flags of the Gemini codec, as the other body
 * changes subscription accounts need are of theirs: struct
 * hub_req_opts), plus the legacy completions API as a client.  Each format is one codec (struct hub_codec below) in two files,
 * one per side of the proxy, with one naming convention:
 *
 *   hub_<fmt>_client.c     the format as a client speaks it:
 *                            hub_<fmt>_decode_request  client body -> view
 *                            hub_<fmt>_encode_event    events -> client
 *                            hub_<fmt>_render_error    an error, its shape
 *   hub_<fmt>_upstream.c   the format as an upstream speaks it:
 *                            hub_<fmt>_encode_request  view -> upstream body
 *                            hub_<fmt>_decode_event    upstream SSE -> events
 *                            hub_<fmt>_decode_body     upstream body -> events
 *
 * hub_table.c puts the six together as hub_<fmt> (hub_codec_for), so every
 * (client, upstream) pair works by composition.  What the codecs share
 * lives once: hub.c (view, state set-up, span conversions, schemas) and
 * hub_tok.c (the token readers, request helpers, member writers and the
 * event sink every decoder uses; hub_tok.h).  Static helpers of a codec
 * file are file-local; a format's two halves share only what this header
 * declares (the Claude error types, the Responses tool-name map).
 *
 * STRING CONVENTION.  A struct hub_span holds raw bytes of the client
 * body or of an upstream event.  Which kind is said by where it sits:
 *   - "str" spans are the *escaped content* of a JSON string (what is
 *     between the quotes, escapes kept): copying them between two quotes
 *     is valid JSON, so re-emitting costs a copy, never a re-escape.
 *   - "raw" spans are a whole JSON value (object, array, number, literal,
 *     or a quoted string with its quotes).
 * Helpers in hub.c convert when a format needs the other kind (e.g. the
 * OpenAI tool "arguments" string vs the Claude tool "input" object).
 *
 * STATE.  Each decoder and encoder keeps its own state struct
 * (hub_<fmt>_sdec, hub_<fmt>_enc), one member of the union in struct
 * hub_sdec / struct hub_enc.  An encoder copies what it needs of the
 * request at hub_enc_init (the view may be gone by the first event) and
 * hub_enc_reset starts it over for a retry, keeping that copy.
 *
 * MEMORY.  A view points into the parsed client body (struct json), which
 * must outlive it; its arrays and the few strings a decoder makes (its
 * arena) are malloc'd and freed by hub_view_free.
 * Event spans are valid only during the emit callback.  Stream state
 * (decoders and encoders) is fixed-size except where a format must hold a
 * whole item (a Gemini client needs a tool call's complete arguments),
 * which grows with that item, never with the number of chunks.
 */
#ifndef HUB_H
#define HUB_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"

enum hub_fmt {
	HUB_OPENAI,    /* /v1/chat/completions (and legacy /v1/completions) */
	HUB_RESPONSES, /* /v1/responses */
	HUB_CLAUDE,    /* /v1/messages */
	HUB_GEMINI,    /* generateContent / streamGenerateContent */
	HUB_COMPLETIONS, /* legacy /v1/completions (client side only) */
	HUB__COUNT
};

struct hub_span {
	const char *p;
	size_t n;
};

#define HUB_SPAN_SET(s) ((s).p != NULL)

/* ---- request view ------------------------------------------------------- */

/* HUB_SYSTEM: a system message inside the conversation (Claude Code's
 * mid-conversation system messages); TEXT parts only.  The leading system
 * prompt is not a message: it is parts[sys_first .. sys_first+sys_n).
 * Encoders put a HUB_SYSTEM message where their format can: in place
 * (OpenAI system message, Responses developer item, Claude system
 * message) or, for Gemini, appended to systemInstruction in order. */
enum hub_role { HUB_USER, HUB_ASSISTANT, HUB_SYSTEM };

enum hub_part_type {
	HUB_P_TEXT,        /* text (str) */
	HUB_P_IMAGE,       /* mime (str) + data (str, base64) or url (str) */
	HUB_P_TOOL_CALL,   /* id, name (str), args */
	HUB_P_TOOL_RESULT, /* id, name (str; may be unset), result */
	HUB_P_THINKING,    /* text (str) + signature (str, may be unset) */
};

struct hub_part {
	enum hub_part_type type;
	struct hub_span text;      /* TEXT, THINKING: str */
	struct hub_span signature; /* THINKING: str; also Gemini
				      thoughtSignature on TOOL_CALL */
	int redacted;              /* THINKING: redacted_thinking (data in
				      signature, text unset) */
	struct hub_span mime;      /* IMAGE: str, e.g. image/png */
	struct hub_span data;      /* IMAGE: str, base64 */
	struct hub_span url;       /* IMAGE: str, remote URL (no data) */
	struct hub_span id;        /* TOOL_CALL / TOOL_RESULT: str */
	struct hub_span name;      /* TOOL_CALL / TOOL_RESULT: str */
	struct hub_span args;      /* TOOL_CALL: see args_is_str */
	int args_is_str;           /* 1: args is str whose unescaped text is
				      JSON (OpenAI); 0: args is raw JSON
				      (Claude input, Gemini args) */
	struct hub_span result;    /* TOOL_RESULT: see result_is_str */
	int result_is_str;         /* 1: str (text output); 0: raw JSON
				      (array of blocks, object) */
	int result_error;          /* TOOL_RESULT: is_error */
	int cache;                 /* Claude cache_control on this part */
};

struct hub_msg {
	enum hub_role role;
	size_t first, n;           /* parts[first .. first+n) */
};

struct hub_tool {
	struct hub_span name;        /* str */
	struct hub_span description; /* str, may be unset */
	struct hub_span schema;      /* raw JSON object, may be unset */
	int schema_tok;              /* token index of schema in the client
					json, -1 if unset */
};

enum hub_tool_choice {
	HUB_TC_UNSET, HUB_TC_AUTO, HUB_TC_NONE, HUB_TC_ANY, HUB_TC_TOOL
};

enum hub_effort {
	HUB_EFFORT_UNSET, HUB_EFFORT_NONE, HUB_EFFORT_MINIMAL, HUB_EFFORT_LOW,
	HUB_EFFORT_MEDIUM, HUB_EFFORT_HIGH, HUB_EFFORT_AUTO
};

struct hub_arena_blk;

struct hub_view {
	const struct json *json;  /* the client body */
	int client_fmt;           /* enum hub_fmt the client spoke (-1 if
				     unknown); encoders use it to judge where
				     a thinking signature came from */
	struct hub_span model;    /* str */
	int stream;

	struct hub_part *parts;   /* all parts, messages index into them */
	size_t nparts, cap_parts;
	size_t sys_first, sys_n;  /* system prompt: TEXT parts (in parts) */
	struct hub_msg *msgs;
	size_t nmsgs, cap_msgs;
	struct hub_tool *tools;
	size_t ntools, cap_tools;

	enum hub_tool_choice tool_choice;
	struct hub_span tool_choice_name; /* str, HUB_TC_TOOL */
	int parallel_tool_calls;          /* -1 unset, 0, 1 */

	long max_tokens;                  /* -1 unset */
	struct hub_span temperature;      /* raw number, may be unset */
	struct hub_span top_p;            /* raw */
	struct hub_span top_k;            /* raw */
	struct hub_span stop[8];          /* str */
	int nstop;

	/* Thinking / reasoning, normalised: budget in tokens (-1 dynamic,
	 * 0 off) and/or an effort level; decoders fill what their format
	 * says, encoders derive the rest with hub_budget_for_effort() and
	 * hub_effort_for_budget(). */
	int thinking;                     /* -1 unset, 0 off, 1 on */
	long thinking_budget;             /* tokens; -1 dynamic; 0 off;
					     HUB_BUDGET_UNSET unset */
	enum hub_effort effort;
	int include_thoughts;             /* -1 unset */

	struct hub_span response_format;  /* raw JSON (OpenAI
					     response_format), may be unset;
					     HUB_JSON_MODE when a decoder
					     only knows "JSON, no schema" */
	struct hub_span user;             /* str, may be unset */

	struct hub_arena_blk *arena;      /* strings a decoder made */
	size_t arena_used;                /* bytes in it (HUB_VIEW_ARENA_MAX) */
};

#define HUB_BUDGET_UNSET (-2L)
#define HUB_JSON_MODE "{\"type\":\"json_object\"}"

void hub_view_init(struct hub_view *v, const struct json *j);
void hub_view_free(struct hub_view *v);
/* A copy of p[0..n) that lives until hub_view_free: strings a decoder
 * makes (the call ids Gemini does not send) are owned by the view, in
 * blocks that never move.  Unset when HUB_VIEW_ARENA_MAX bytes are used
 * up or memory is. */
struct hub_span hub_view_str(struct hub_view *v, const char *p, size_t n);
/* Append; return the new element or NULL when out of memory. */
struct hub_part *hub_add_part(struct hub_view *v);
struct hub_msg *hub_add_msg(struct hub_view *v, enum hub_role role);
struct hub_tool *hub_add_tool(struct hub_view *v);

/* The name of the last TOOL_CALL with this id in parts[0 .. before)
 * (what a tool result answers), or unset. */
struct hub_span hub_view_call_name(const struct hub_view *v, size_t before,
				   struct hub_span id);
/* How many parts of message m are of type t. */
size_t hub_msg_count(const struct hub_view *v, const struct hub_msg *m,
		     enum hub_part_type t);

/* Thinking budgets <-> effort, per protocol.md: low 1024, medium 8192,
 * high 24576, minimal 512, none 0, auto -1. */
long hub_budget_for_effort(enum hub_effort e);
/* OpenAI's tool_choice (chat completions and Responses) at token tc into
 * the view: 0, or -1 when it is none of its forms. */
int hub_tool_choice_of(const struct json *j, int tc, struct hub_view *v);
/* OpenAI's effort names (none, minimal, low, medium, high, xhigh, auto) at
 * string token t: 0 and *e set, or -1. */
int hub_effort_of(const struct json *j, int t, enum hub_effort *e);
enum hub_effort hub_effort_for_budget(long budget);

/* ---- stream events -------------------------------------------------------- */

enum hub_ev_type {
	HUB_EV_START,       /* id (str), model (str): first event */
	HUB_EV_TEXT,        /* text (str) delta */
	HUB_EV_THINKING,    /* text (str) delta */
	HUB_EV_THINKING_SIG,/* text (str): signature, byte-exact */
	HUB_EV_TOOL_START,  /* index, id (str), name (str) */
	HUB_EV_TOOL_ARGS,   /* index, text (str): a fragment of the arguments
			       JSON text, escaped as a JSON string */
	HUB_EV_TOOL_END,    /* index */
	HUB_EV_USAGE,       /* usage fields (may come more than once; the
			       last values win) */
	HUB_EV_FINISH,      /* finish reason */
	HUB_EV_ERROR,       /* status + text (str) message */
	HUB_EV_DONE,        /* end of the answer (always last) */
};

enum hub_finish {
	HUB_FIN_STOP, HUB_FIN_LENGTH, HUB_FIN_TOOL, HUB_FIN_FILTER,
	HUB_FIN_ERROR
};

/*
 * Token counts, one meaning for every format (decoders convert, encoders
 * convert back): input = all prompt tokens, INCLUDING cached and
 * cache-write ones (cached and cache_write are parts of it); output = all
 * generated tokens, INCLUDING reasoning (thoughts is part of it).  So a
 * Claude decoder adds cache_read/cache_creation into input, a Gemini
 * decoder adds thoughtsTokenCount into output, and their encoders take
 * them out again.  -1 = unknown.
 */
struct hub_usage {
	long input, output, cached, cache_write, thoughts;
};

struct hub_event {
	enum hub_ev_type type;
	int index;              /* tool call index (0, 1, ...) */
	struct hub_span id;     /* str */
	struct hub_span name;   /* str */
	struct hub_span text;   /* str */
	struct hub_span model;  /* str */
	struct hub_usage usage;
	enum hub_finish finish;
	struct hub_span stop_sequence; /* str, may be unset */
	int status;             /* ERROR: HTTP-like status */
};

typedef void (*hub_emit_fn)(void *user, const struct hub_event *ev);

/* An empty event of type t (usage counts unknown). */
void hub_event_init(struct hub_event *ev, enum hub_ev_type t);
/* Take the counts n knows (>= 0) into u: the last values win. */
void hub_usage_merge(struct hub_usage *u, const struct hub_usage *n);

/* ---- SSE input ------------------------------------------------------------- */

/* One server-sent event, as the stream decoders see it. */
struct hub_sse {
	struct hub_span event; /* event name (raw), may be unset */
	struct hub_span data;  /* data lines joined with \n (raw) */
};

/* ---- per-format codec ----------------------------------------------------- */

/*
 * How an upstream wants its body, beyond the view: the subscription
 * (OAuth) upstreams each ask for small changes, chosen by the exchange.
 * Strings are plain text (escaped when written); a flag a format does not
 * read is ignored by its encoder.
 */
struct hub_req_opts {
	const char *model;       /* upstream model name (plain text) */
	int stream;              /* ask the upstream for a stream */
	int gemini_cli;          /* Gemini: Code Assist envelope
				    {"project","model","request"} */
	const char *project;     /* Gemini CLI / Antigravity project id */
	int antigravity;         /* Gemini: Antigravity envelope (implies the
				    Code Assist one): userAgent, requestType,
				    requestId, request.sessionId; no
				    safetySettings; Claude models get
				    VALIDATED function calling, others no
				    maxOutputTokens; tool schemas cleaned
				    harder (hub_gemini_schema) */
	const char *request_id;  /* Antigravity "requestId" (the caller makes
				    it, e.g. "agent-<uuid>"); NULL: omitted */
	int claude_code;         /* Claude: Claude Code OAuth body: system
				    begins with the Claude Code line (not
				    for claude-3-5-haiku models) */
	int stream_usage;        /* OpenAI chat: when streaming,
				    "stream_options":{"include_usage":true}
				    (Qwen).  The encoder asks for usage on
				    every stream already, so this only
				    names the need */
	const char *effort;      /* Responses: reasoning.effort ("low",
				    ...) instead of the view's; NULL: the
				    view's */
	int codex;               /* Responses: the ChatGPT Codex backend,
				    which refuses max_output_tokens,
				    temperature and top_p: left out */
};

struct hub_enc_opts {
	int stream;              /* client asked for a stream */
	const char *model;       /* model name to report (client's name) */
	long long created;       /* unix time for ids/created fields */
	uint32_t seed;           /* for generated ids (deterministic in
				    fixtures) */
	int gemini_cli;          /* Gemini: wrap as {"response": ...} */
	const struct hub_view *req; /* the client's request: hub_enc_init
				       copies what the encoder needs
				       (Responses: the parameters it echoes,
				       restored tool names); may be NULL */
};

/* Tool-call and block slots a decoder tracks by upstream index (mod). */
#define HUB_SLOTS 64

/* Each decoder's own state (the union of struct hub_sdec). */
struct hub_openai_sdec {
	int open_tool;          /* upstream index + 1 of the last started
				   call (0 none) */
	int tool_open;          /* that call is still open (no TOOL_END) */
	int finished;           /* 1: FINISH held for the usage chunk that
				   follows it; 2: emitted */
	enum hub_finish finish; /* the held reason */
	char id[96];            /* the last call's id (a new id at the same
				   index starts a new call) */
};

/* Claude content block types (decoder block_type, encoder block_open). */
enum hub_claude_block {
	HUB_CL_NONE, HUB_CL_TEXT, HUB_CL_THINKING, HUB_CL_TOOL, HUB_CL_OTHER,
	HUB_CL_SIGNED /* encoder: a thinking block whose signature came */
};

struct hub_claude_sdec {
	unsigned char block_type[HUB_SLOTS]; /* by block index (mod) */
	int tool_index[HUB_SLOTS];           /* tool block -> hub index */
};

struct hub_gemini_sdec {
	int finished;           /* FINISH emitted */
};

struct hub_responses_sdec {
	unsigned char seen[HUB_SLOTS]; /* deltas came for output_index */
	int open_tool;          /* hub index + 1 of the open call */
};

/*
 * Stream decoder state: what every decoder keeps, then the state of the
 * decoder of the upstream format (one member of the union, chosen by
 * fmt; all zero at hub_sdec_init).
 */
struct hub_sdec {
	enum hub_fmt fmt;
	uint32_t seed;            /* generated tool ids */
	int started;              /* START emitted */
	int done;                 /* the answer ended or failed: the rest of
				     the upstream's bytes are ignored */
	int ntools;               /* tool calls started: hub indexes
				     0 .. ntools-1 */
	struct hub_usage usage;   /* counts read so far */
	struct buf scratch;       /* escaped copies of raw values, generated
				     ids: valid until the next event */
	jsmntok_t *tok;           /* token array for event JSON */
	int ntok_cap;
	union {
		struct hub_openai_sdec openai;
		struct hub_claude_sdec claude;
		struct hub_gemini_sdec gemini;
		struct hub_responses_sdec responses;
	} u;
};

/* Each encoder's own state (the union of struct hub_enc). */
struct hub_openai_enc {
	int started;            /* id set; stream: the role chunk is out */
	int err_status;         /* an ERROR came: its status (message in
				   err) */
	int calls;              /* tool calls started */
	int open_call;          /* index + 1 of the open call (0 none) */
	int call_args;          /* stream: the open call got arguments */
	size_t args_at;         /* non-stream: where the open call's
				   arguments start in calls_json */
	struct buf text;        /* non-stream: content */
	struct buf reasoning;   /* non-stream: reasoning_content */
	struct buf calls_json;  /* non-stream: the tool_calls elements */
	struct buf err;         /* the ERROR's message */
};

struct hub_claude_enc {
	int phase;              /* 0 nothing written, 1 message open, 2 an
				   ERROR came, 3 DONE handled */
	int block_open;         /* type of the open block (0 none) */
	int block_index;        /* index of the open (or last) block */
	int nblocks;            /* blocks opened */
	int tools;              /* tool_use blocks opened */
	int err_status;         /* non-stream: the ERROR's status */
	struct buf stop;        /* FINISH's stop sequence */
	struct buf blocks;      /* non-stream: the content blocks, the open
				   one written straight into it */
	struct buf sig;         /* non-stream: the open thinking block's
				   signature */
	struct buf args;        /* non-stream: the open tool call's
				   arguments */
	struct buf err;         /* non-stream: the ERROR's message */
};

struct hub_gemini_enc {
	int started;            /* id and model set */
	int text_kind;          /* the current text part: 0 none, 1 text,
				   2 thought (stream: the last one written;
				   non-stream: the one open in parts) */
	int call_open;          /* TOOL_START seen, TOOL_END not yet */
	int sig;                /* 1: held is a signature for the next
				   answer part or call; 2: it goes on the
				   open non-stream text part */
	int calls;              /* tool calls finished */
	int final_sent;         /* stream: the finish chunk is out */
	int err_status;         /* an ERROR came: its status */
	struct buf args;        /* the open call's arguments */
	struct buf held;        /* "thoughtSignature":"..." waiting, or the
				   open call's head */
	struct buf parts;       /* non-stream: the parts array */
	struct buf err;         /* non-stream: the error body */
};

struct hub_responses_enc {
	int started;            /* the response's head is out */
	long seq;               /* the next sequence_number */
	int reasoning;          /* a reasoning item is open: 1, 2 once its
				   summary part was added */
	int text_open;          /* a message item is open */
	int call_open;          /* hub index + 1 of the open call */
	int out_index;          /* output_index of the open item */
	int tools;              /* function_call items closed */
	struct buf text;        /* the open item's text or arguments */
	struct buf meta;        /* the open reasoning item's signature, or
				   the open call's call_id \0 name \0 */
	struct buf items;       /* finished items, comma-separated */
	struct buf err;         /* non-stream: the error body */
};

struct hub_completions_enc {
	int started;            /* id and model set */
	int err_status;         /* an ERROR came: its status */
	struct buf text;        /* non-stream: the text */
	struct buf err;         /* non-stream: the error body */
};

/*
 * Client encoder state: the options and what every encoder keeps, then
 * the state of the client format's encoder (one member of the union,
 * chosen by fmt).  Every buffer is grown on first use and capped at
 * HUB_ENC_BUF_MAX; an overflow makes the answer an error, never a
 * truncated one.  req holds what the encoder copied from the request at
 * hub_enc_init (the view may be gone afterwards); hub_enc_reset keeps it.
 */
struct hub_enc {
	enum hub_fmt fmt;
	struct hub_enc_opts o;    /* o.req is NULL after hub_enc_init */
	char id[96];              /* the answer's id: START's, else made */
	char model[128];          /* the model reported: START's, else
				     o.model */
	struct hub_usage usage;   /* counts of the USAGE events, merged */
	enum hub_finish finish;   /* FINISH's reason, when have_finish */
	int have_finish;
	struct buf req;           /* copied from the request (per format) */
	union {
		struct hub_openai_enc openai;
		struct hub_claude_enc claude;
		struct hub_gemini_enc gemini;
		struct hub_responses_enc responses;
		struct hub_completions_enc completions;
	} u;
};

/* Largest of each encoder buffer (an answer held whole). */
#define HUB_ENC_BUF_MAX (64L * 1024 * 1024)

struct hub_codec {
	enum hub_fmt fmt;
	/* Client body -> view.  0 ok; -1 with a message for a 400. */
	int (*decode_request)(const struct json *j, struct hub_view *v,
			      char *err, size_t errlen);
	/* View -> upstream body (appended to out). 0 ok, -1 unsupported
	 * content (message in err, for a 400 to the client). */
	int (*encode_request)(const struct hub_view *v,
			      const struct hub_req_opts *o, struct buf *out,
			      char *err, size_t errlen);
	/* One upstream SSE event -> events.  At the end of the upstream
	 * stream the caller calls it once more with ev == NULL, so a decoder
	 * can emit what it held back (e.g. a FINISH waiting for usage); the
	 * caller then emits DONE. */
	void (*decode_event)(struct hub_sdec *d, const struct hub_sse *ev,
			     hub_emit_fn emit, void *user);
	/* Whole non-stream upstream body -> the same events. 0 ok, -1 bad. */
	int (*decode_body)(struct hub_sdec *d, const char *body, size_t len,
			   hub_emit_fn emit, void *user);
	/* Events -> client bytes (stream framing, or the whole JSON answer
	 * at HUB_EV_DONE when not streaming). */
	void (*encode_event)(struct hub_enc *e, const struct hub_event *ev,
			     struct buf *out);
	/* Render an upstream error (status + message) in this format. */
	void (*render_error)(struct buf *out, int status, const char *msg);
};

extern const struct hub_codec hub_openai, hub_responses, hub_claude,
	hub_gemini, hub_completions;
const struct hub_codec *hub_codec_for(enum hub_fmt f);

/*
 * The entry points the codecs are made of (hub_table.c), one naming
 * convention for every format <fmt>:
 *
 *   hub_<fmt>_client.c     hub_<fmt>_decode_request   client body -> view
 *                          hub_<fmt>_encode_event     events -> client bytes
 *                          hub_<fmt>_render_error     an error, client shape
 *   hub_<fmt>_upstream.c   hub_<fmt>_encode_request   view -> upstream body
 *                          hub_<fmt>_decode_event     upstream SSE -> events
 *                          hub_<fmt>_decode_body      upstream body -> events
 *
 * Each has the signature of the struct hub_codec member of its name.  Code
 * outside the hub calls them through the codec (hub_codec_for).
 */
#define HUB_CODEC_DECLARE(fmt)                                               \
	int hub_##fmt##_decode_request(const struct json *j,                 \
				       struct hub_view *v, char *err,        \
				       size_t errlen);                       \
	void hub_##fmt##_encode_event(struct hub_enc *e,                     \
				      const struct hub_event *ev,            \
				      struct buf *out);                      \
	void hub_##fmt##_render_error(struct buf *out, int status,           \
				      const char *msg);                      \
	int hub_##fmt##_encode_request(const struct hub_view *v,             \
				       const struct hub_req_opts *o,         \
				       struct buf *out, char *err,           \
				       size_t errlen);                       \
	void hub_##fmt##_decode_event(struct hub_sdec *d,                    \
				      const struct hub_sse *ev,              \
				      hub_emit_fn emit, void *user);         \
	int hub_##fmt##_decode_body(struct hub_sdec *d, const char *body,    \
				    size_t len, hub_emit_fn emit,            \
				    void *user)

HUB_CODEC_DECLARE(openai);
HUB_CODEC_DECLARE(responses);
HUB_CODEC_DECLARE(claude);
HUB_CODEC_DECLARE(gemini);
HUB_CODEC_DECLARE(completions);

void hub_sdec_init(struct hub_sdec *d, enum hub_fmt f, uint32_t seed);
void hub_sdec_free(struct hub_sdec *d);
/* Parse one JSON event payload with the decoder's token array (grown as
 * needed).  Returns the token count, or -1. */
int hub_sdec_parse(struct hub_sdec *d, const char *js, size_t len,
		   struct json *out);

/* Set up a client encoder; what it needs of o->req is copied. */
void hub_enc_init(struct hub_enc *e, enum hub_fmt f,
		  const struct hub_enc_opts *o);
/* Start over for a new upstream attempt: the options and what was copied
 * from the request stay, everything else is as after hub_enc_init. */
void hub_enc_reset(struct hub_enc *e);
void hub_enc_free(struct hub_enc *e);
/* Bytes the encoder's buffers hold (charged to the request budget). */
size_t hub_enc_held(const struct hub_enc *e);
/* For encoders: take START's id and model (plain text) when they are
 * given and fit; an answer that has no id yet gets prefix + a generated
 * one from hub_enc_make_id. */
void hub_enc_take_start(struct hub_enc *e, const struct hub_event *ev);
void hub_enc_make_id(struct hub_enc *e, const char *prefix);
/* The head of an answer, once: 1 (and *started set, the id made when
 * there is none) the first time, 0 after. */
int hub_enc_begin(struct hub_enc *e, int *started, const char *prefix);
/* At an encoder's first event (*started still 0): START's id and model
 * when it is START, then hub_enc_begin. */
void hub_enc_first(struct hub_enc *e, const struct hub_event *ev,
		   int *started, const char *prefix);

/* ---- shared helpers (hub.c) ---------------------------------------------- */

/* Write str span s (escaped content) as a JSON string with quotes. */
void hub_put_str(struct buf *b, struct hub_span s);
/* Write the unescaped text of str span s as raw JSON (e.g. OpenAI
 * arguments -> Claude input).  Falls back to {} when it is not valid
 * JSON. */
void hub_put_str_as_json(struct buf *b, struct hub_span s);
/* Write raw JSON span s without the whitespace between its tokens (one
 * line, as an SSE data line needs). */
void hub_put_json_compact(struct buf *b, struct hub_span s);
/* The same, escaped as a JSON string's content (a raw value into a str
 * span, e.g. Gemini's pretty-printed args as OpenAI arguments). */
void hub_escape_json_compact(struct buf *b, struct hub_span s);
/* Write raw JSON span s as a JSON string (escaping it). */
void hub_put_json_as_str(struct buf *b, struct hub_span s);
/* Escape raw bytes into b without quotes (for building str spans). */
void hub_escape(struct buf *b, const char *p, size_t n);
/* Decode str span into a C string buffer (UTF-8); -1 if it doesn't fit. */
int hub_unescape(struct hub_span s, char *out, size_t cap);
/* Write args as a JSON object: a str span whose text is JSON (is_str)
 * or a raw value; anything that is not an object becomes {} (Claude
 * input, Gemini args). */
void hub_put_args_object(struct buf *b, struct hub_span args, int is_str);
/* A "data:<mime>[;params];base64,<data>" URL (str span): 1 and its mime
 * (without parameters) and data; 0 when url is no data URL at all; -1
 * for a data URL that is not base64. */
int hub_data_url(struct hub_span url, struct hub_span *mime,
		 struct hub_span *data);

/* The token readers other modules use (hub_tok.c; the codecs' whole
 * token layer is in hub_tok.h). */
/* Compare a str span with a plain C string. */
int hub_span_eq(struct hub_span s, const char *lit);
/* Span of token i of j (string: content without quotes; else raw). */
struct hub_span hub_tok_span(const struct json *j, int i);
/*
 * The integer value of number token i, one reading for every codec:
 * integral values in any JSON spelling count (1000, 1e3, 1000.0, 10E+2,
 * 0.1e4); the decimal text is read exactly, never through a double.
 * Returns HUB_INT_OK and sets *out; HUB_INT_ABSENT when i < 0 or the
 * value is null; HUB_INT_BAD when it is not a number, not integral, or
 * outside [min, max].
 */
enum { HUB_INT_OK, HUB_INT_ABSENT, HUB_INT_BAD };
/* The range of token counts a request may ask for (max tokens, budgets). */
#define HUB_TOKENS_MAX 2147483647L
int hub_tok_int(const struct json *j, int i, long min, long max, long *out);

/* Raw span of token i including quotes for strings. */
struct hub_span hub_tok_raw(const struct json *j, int i);
/* A generated id: prefix + 24 chars from seed/counter (deterministic). */
void hub_gen_id(char *out, size_t cap, const char *prefix, uint32_t seed,
		long counter);

/* ---- between the two halves of a codec --------------------------------- */

/* One entry of a table that names values: an effort level, an HTTP status
 * (an upstream's error type, a client format's error name); hub_tok.h has
 * the lookups. */
struct hub_word {
	const char *word;
	int val;
};

/* Claude's error types and their HTTP statuses, read by its upstream
 * decoder and written by its client encoder. */
extern const struct hub_word hub_claude_errors[];
extern const size_t hub_claude_nerrors;

/* Responses: the request's tools whose names the upstream gets shortened
 * (over 64 bytes, or taken), as "upstream\0client\0" pairs (the client
 * name a str span); -1 when out of memory. */
int hub_responses_name_map(const struct hub_view *v, struct buf *map);
/* The client's name for an upstream function name, appended to out (1),
 * or 0 when name is not in map (it is the client's own). */
int hub_responses_restore(const char *map, size_t n, struct hub_span name,
			  struct buf *out);
/* Responses client encoder: copy into req the parameters a response
 * echoes (v may be NULL: the defaults) and the name map. */
void hub_responses_copy_request(struct buf *req, const struct hub_view *v);

/* Gemini tool schemas: copy the raw JSON schema at token tok, dropping
 * what Gemini rejects ($schema, additionalProperties, strict, $ref, $defs,
 * definitions, anyOf/oneOf/allOf (first branch kept), exclusiveMinimum,
 * exclusiveMaximum, patternProperties, dependencies, const, format other
 * than enum/date-time), collapsing type arrays to one type (preferring a
 * non-null one) and turning enum values into strings.  With ag
 * (Antigravity) it also drops pattern, minItems, maxItems, uniqueItems,
 * minLength, maxLength and every format, turns const into an enum of one,
 * flattens allOf (merged) and anyOf/oneOf (the branch that says most:
 * object, array, other; null never) into the schema, keeps only required
 * names that are properties, names a $ref it does not follow in the
 * description, and gives every object schema without properties the
 * required placeholder property "reason" (a string).  No schema (tok < 0)
 * is an empty object schema. */
void hub_gemini_schema(struct buf *b, const struct json *j, int tok, int ag);

#endif
