/*
 * frame.c - client framing of a streamed answer (see frame.h).
 */
#define _GNU_SOURCE
#include "frame.h"

#include <string.h>

#include "apierr.h"
#include "hub.h"

void frame_init(struct frame *f, unsigned flags, frame_write_fn w,
		void *user)
{
	f->flags = flags;
	f->n = 0;
	f->write = w;
	f->user = user;
}

void frame_element(struct frame *f, const char *p, size_t n)
{
	if (f->n++ == 0)
		f->write(f->user, "[", 1);
	else
		f->write(f->user, ",\r\n", 3);
	f->write(f->user, p, n);
}

void frame_end(struct frame *f)
{
	if (f->flags & FRAME_ARRAY)
		f->write(f->user, f->n ? "]" : "[]", f->n ? 1 : 2);
}

/* Each "data: <json>\n\n" event (as the encoders write them) becomes an
 * element. */
static void to_array(struct frame *f, const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		const char *s = p + i, *e;
		if (n - i < 6 || memcmp(s, "data: ", 6) != 0)
			break;
		e = memmem(s + 6, n - i - 6, "\n\n", 2);
		if (!e)
			e = p + n;
		frame_element(f, s + 6, (size_t)(e - s - 6));
		i = (size_t)(e - p) + 2;
	}
}

/*
 * A Gemini client gets only "data:" lines and blank lines: its reader
 * (Gemini CLI, @google/genai) matches "data: " at the start of its
 * buffer, and a comment (": ping") or any other field line there is never
 * consumed, so the stream would end as "Incomplete JSON".  An event left
 * with no line loses its blank line too.
 */
static void data_lines(struct frame *f, const char *p, size_t n)
{
	const char *end = p + n, *s = p, *keep = p;
	int kept = 0, dropped = 0; /* lines of the current event */

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *next = nl ? nl + 1 : end;
		size_t len = (size_t)(next - s);
		int blank = *s == '\n' || *s == '\r';
		int wanted = blank ? kept || !dropped
				   : len >= 5 && !memcmp(s, "data:", 5);
		if (blank)
			kept = dropped = 0;
		else if (wanted)
			kept = 1;
		else
			dropped = 1;
		if (!wanted) {
			if (s > keep)
				f->write(f->user, keep, (size_t)(s - keep));
			keep = next;
		}
		s = next;
	}
	if (end > keep)
		f->write(f->user, keep, (size_t)(end - keep));
}

void frame_events(struct frame *f, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (f->flags & FRAME_ARRAY)
		to_array(f, p, n);
	else if ((f->flags & (FRAME_GEMINI | FRAME_RELAY)) ==
		 (FRAME_GEMINI | FRAME_RELAY))
		data_lines(f, p, n);
	else
		f->write(f->user, p, n);
}

void frame_heartbeat(struct frame *f)
{
	/* Gemini readers take whitespace between events, never a comment;
	 * SSE ignores a blank line, JSON whitespace between elements. */
	if (f->flags & (FRAME_ARRAY | FRAME_GEMINI))
		f->write(f->user, "\n", 1);
	else
		f->write(f->user, ": keep-alive\n\n", 14);
}

void frame_late_error(struct frame *f, int cfmt, const char *msg,
		      struct buf *b)
{
	int openai = cfmt != HUB_CLAUDE && cfmt != HUB_GEMINI;
	int array = (f->flags & FRAME_ARRAY) != 0;

	buf_reset(b);
	if (array)
		buf_puts(b, f->n ? ",\r\n" : "[");
	else
		buf_puts(b, cfmt == HUB_CLAUDE ? "event: error\ndata: "
					       : "data: ");
	apierr_render(b, cfmt, 502, msg);
	if (array)
		buf_putc(b, ']');
	else
		buf_puts(b, openai ? "\n\ndata: [DONE]\n\n" : "\n\n");
	f->write(f->user, b->p, b->len);
}
