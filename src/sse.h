/*
 * sse.h - server-sent events parser (push bytes, get whole events).
 *
 * Resumable at any byte: lines may be split anywhere across pushes
 * (including between CR and LF, or inside a UTF-8 sequence, which passes
 * through untouched).  Accepts LF, CRLF and CR line ends, skips comment
 * lines (": keep-alive"), joins multi-line data with LF, and keeps the
 * "event:" name.  Memory: a line buffer and a data buffer that grow to the
 * largest event seen (capped), never per event.
 */
#ifndef SSE_H
#define SSE_H

#include <stddef.h>

#include "buf.h"
#include "hub.h"

struct sse {
	struct buf line;   /* partial line carried over between pushes */
	struct buf data;   /* data of the event being read */
	char event[64];
	size_t event_len;
	int skip_lf;       /* previous push ended with CR */
	int have_data;
	int overflow;      /* an event exceeded the cap (sticky) */
};

typedef void (*sse_cb)(void *user, const struct hub_sse *ev);

void sse_init(struct sse *s, size_t max_event);
void sse_free(struct sse *s);

/* Push n bytes; cb gets every event completed by them.  Returns 0, or -1
 * once an event has exceeded max_event bytes (sticky). */
int sse_push(struct sse *s, const char *p, size_t n, sse_cb cb, void *user);

/* End of input: an event missing its final blank line is dispatched. */
void sse_end(struct sse *s, sse_cb cb, void *user);

#endif
