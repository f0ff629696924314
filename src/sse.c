/*
 * sse.c - SSE parser (see sse.h).
 *
 * Complete lines inside a push are handled in place; only a line split
 * across pushes is copied into s->line until its end arrives.  A field is
 * "name: value" (one space after the colon is dropped); "data" appends
 * value + LF to the event's data, "event" sets the name, a blank line
 * dispatches the event (its data without the final LF).
 */
#include "sse.h"

#include <string.h>

void sse_init(struct sse *s, size_t max_event)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->line, max_event);
	buf_init(&s->data, max_event);
}

void sse_free(struct sse *s)
{
	buf_free(&s->line);
	buf_free(&s->data);
}

static void dispatch(struct sse *s, sse_cb cb, void *user)
{
	struct hub_sse ev;

	if (s->have_data) {
		ev.event.p = s->event_len ? s->event : NULL;
		ev.event.n = s->event_len;
		ev.data.p = s->data.p + s->data.off;
		ev.data.n = buf_pending(&s->data);
		if (ev.data.n > 0)
			ev.data.n--; /* the LF after the last data line */
		cb(user, &ev);
	}
	buf_reset(&s->data);
	s->event_len = 0;
	s->have_data = 0;
}

static void field(struct sse *s, const char *l, size_t n, sse_cb cb,
		  void *user)
{
	const char *colon;
	size_t nl, vl;
	const char *v;

	if (n == 0) {
		dispatch(s, cb, user);
		return;
	}
	if (l[0] == ':')
		return; /* comment / keep-alive */
	colon = memchr(l, ':', n);
	nl = colon ? (size_t)(colon - l) : n;
	v = colon ? colon + 1 : l + n;
	vl = colon ? n - nl - 1 : 0;
	if (vl > 0 && v[0] == ' ') {
		v++;
		vl--;
	}
	if (nl == 4 && !memcmp(l, "data", 4)) {
		buf_put(&s->data, v, vl);
		buf_putc(&s->data, '\n');
		if (s->data.overflow)
			s->overflow = 1;
		s->have_data = 1;
	} else if (nl == 5 && !memcmp(l, "event", 5)) {
		s->event_len = vl < sizeof(s->event) ? vl : sizeof(s->event);
		memcpy(s->event, v, s->event_len);
	}
}

int sse_push(struct sse *s, const char *p, size_t n, sse_cb cb, void *user)
{
	size_t i = 0;

	if (s->overflow)
		return -1;
	if (s->skip_lf && n > 0) {
		s->skip_lf = 0;
		if (p[0] == '\n')
			i = 1;
	}
	while (i < n) {
		const char *start = p + i;
		size_t rest = n - i, k;
		/* find the next CR or LF */
		for (k = 0; k < rest && start[k] != '\n' && start[k] != '\r'; k++)
			;
		if (k == rest) { /* partial line: keep it */
			buf_put(&s->line, start, rest);
			if (s->line.overflow)
				s->overflow = 1;
			break;
		}
		if (buf_pending(&s->line) > 0) {
			buf_put(&s->line, start, k);
			if (s->line.overflow) {
				s->overflow = 1;
				break;
			}
			field(s, s->line.p + s->line.off,
			      buf_pending(&s->line), cb, user);
			buf_reset(&s->line);
		} else {
			field(s, start, k, cb, user);
		}
		i += k + 1;
		if (start[k] == '\r') {
			if (i < n) {
				if (p[i] == '\n')
					i++;
			} else {
				s->skip_lf = 1;
			}
		}
		if (s->overflow)
			break;
	}
	return s->overflow ? -1 : 0;
}

void sse_end(struct sse *s, sse_cb cb, void *user)
{
	if (buf_pending(&s->line) > 0) {
		field(s, s->line.p + s->line.off, buf_pending(&s->line), cb,
		      user);
		buf_reset(&s->line);
	}
	dispatch(s, cb, user);
}
