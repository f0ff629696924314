/*
 * frame.h - client framing of a streamed answer.
 *
 * What the client reads between the response head and the end: SSE
 * events as they are; for a Gemini client only their "data:" lines (its
 * readers refuse anything else); or, for a Gemini client that did not ask
 * for SSE (no alt=sse), one JSON array whose elements are the events'
 * data.  Heartbeats and the pass-through's late errors are framing too.
 * Pure: output goes to a write callback (the connection, or a buffer in
 * tests), no state beyond the array's element count.
 */
#ifndef FRAME_H
#define FRAME_H

#include <stddef.h>

#include "buf.h"

typedef void (*frame_write_fn)(void *user, const char *p, size_t n);

enum {
	FRAME_ARRAY = 1,   /* one JSON array of the events' data */
	FRAME_GEMINI = 2,  /* a Gemini reader: heartbeats are whitespace */
	FRAME_RELAY = 4,   /* events straight from an upstream: a Gemini
			      reader gets only their data lines */
};

struct frame {
	unsigned flags;
	int n;                 /* array elements written */
	frame_write_fn write;
	void *user;
};

void frame_init(struct frame *f, unsigned flags, frame_write_fn w,
		void *user);

/* Whole SSE events (ending at an event boundary). */
void frame_events(struct frame *f, const char *p, size_t n);
/* One element of an array answer (an event's data). */
void frame_element(struct frame *f, const char *p, size_t n);
/* The end of an array answer ("]", or "[]" when it had none). */
void frame_end(struct frame *f);
/* A heartbeat that every reader of this framing skips. */
void frame_heartbeat(struct frame *f);
/* An error ending a pass-through stream of a client of format cfmt
 * (enum hub_fmt), as that API sends one, with its end marker; scratch
 * is used to build it. */
void frame_late_error(struct frame *f, int cfmt, const char *msg,
		      struct buf *scratch);

#endif
