/*
 * xlate.h - the translation pipeline, pure: upstream bytes -> SSE parser
 * -> upstream decoder -> hub events -> client encoder -> client bytes.
 *
 * The exchange (exch.c), the fixture runner (tests/fixtures/runner.c)
 * and the benchmark (bench/hub_bench.c) all drive this one copy, so the
 * fixtures test the shipped code.  No sockets, no loop, no config: the
 * caller feeds upstream bytes and takes the client bytes from t->out.
 *
 * EARLY ERRORS.  An error the upstream reports before the client was
 * sent anything (t->sent clear, t->out empty) is not encoded: it is kept
 * in early_status / early_msg so the caller can answer with a real HTTP
 * status in the client's format.  Once the caller has sent something it
 * sets t->sent, and errors go into the stream (xlate_error).
 *
 * THE FOLD.  The upstream side follows what the upstream sends, the
 * client side what the client asked for: xlate_stream / xlate_stream_end
 * for an SSE answer, xlate_body for a JSON one, whatever eo->stream
 * says.  Codex and Claude OAuth accounts (and Antigravity's Claude
 * models) are always asked for a stream; for a client that asked for none
 * (eo->stream == 0) the pipeline decodes that stream while the client's
 * encoder collects, and xlate_done writes the one JSON answer.  As that
 * answer cannot say it was cut short, an upstream stream that ends
 * without finishing its answer (no FINISH event) is then an early error
 * (502), like a truncated JSON body.
 *
 * TOOL NAMES.  A Responses upstream gets tool names over 64 bytes
 * shortened; the calls it answers with get their client names back here
 * (for a Responses client, in its encoder).
 * MEMORY.  The SSE parser, the decoder's scratch and token array and the
 * encoder's accumulators grow to the largest event seen (capped by
 * SSE_EVENT_MAX and the buffers' own caps); xlate_held() says how much
 * they hold, for the caller's budget.
 */
#ifndef XLATE_H
#define XLATE_H

#include <stddef.h>

#include "buf.h"
#include "hub.h"
#include "sse.h"

struct xlate {
	const struct hub_codec *cc, *uc; /* client, upstream */
	enum hub_fmt cfmt, ufmt;
	struct hub_enc_opts eo;   /* for restarts (req cleared) */
	struct sse sse;
	struct hub_sdec dec;
	struct hub_enc enc;
	struct buf out;           /* client bytes produced, not yet taken */
	int sent;                 /* the caller has sent the client bytes */
	int early_status;         /* an upstream ERROR before any byte */
	int finished;             /* a FINISH event came: the answer is
				     whole */
	char early_msg[256];
	/* A Responses upstream (Codex) got some tool names shortened (over
	 * 64 bytes): the request's map, to give calls their client names
	 * back for clients of the other formats (the Responses encoder does
	 * its own); names holds the restored name of the current event. */
	struct buf names, name;
	/* optional: sees every event before the encoder (benchmark) */
	void (*tap)(void *user, const struct hub_event *ev);
	void *tap_user;
};

/* Set up for one answer.  eo->req (the client's request view) need live
 * only during this call: the client's encoder copies what it echoes.
 * out_max caps t->out. */
void xlate_init(struct xlate *t, enum hub_fmt cfmt, enum hub_fmt ufmt,
		const struct hub_enc_opts *eo, size_t out_max);
/* Start over for another upstream attempt (nothing was sent). */
void xlate_restart(struct xlate *t);
void xlate_free(struct xlate *t);

/* Streamed answer bytes.  0 ok; -1 an event is larger than the parser
 * holds (the stream cannot go on). */
int xlate_stream(struct xlate *t, const char *p, size_t n);
/* The upstream stream ended: what the parser and decoder held back.  For
 * a non-stream client (the fold) an answer without its FINISH becomes the
 * early error 502. */
void xlate_stream_end(struct xlate *t);
/* A whole non-stream answer.  0 ok; -1 not valid for its API. */
int xlate_body(struct xlate *t, const char *p, size_t n);
/* A late error into the client's stream (after xlate_stream). */
void xlate_error(struct xlate *t, int status, const char *msg);
/* The end of the answer (the encoder writes its last bytes, or for a
 * non-stream client the whole answer). */
void xlate_done(struct xlate *t);

/* Bytes held by the pipeline's growable buffers. */
size_t xlate_held(const struct xlate *t);

#endif
