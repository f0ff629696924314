/*
 * buf.h - a byte buffer that grows up to a fixed cap, with a sticky
 * overflow flag (check it once, after writing a whole message), and a read
 * offset so it doubles as a send queue.
 *
 *   [0 ......... off ........... len ......... cap]   (cap <= max)
 *    already sent   still to send   free room
 */
#ifndef BUF_H
#define BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
	char *p;
	size_t off, len, cap, max;
	int overflow;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Drop everything and the overflow flag (keeps the memory). */
void buf_reset(struct buf *b);
/* Bytes queued and not yet consumed. */
static inline size_t buf_pending(const struct buf *b) { return b->len - b->off; }
/* Mark n queued bytes consumed; resets the buffer once all are. */
void buf_consume(struct buf *b, size_t n);

void buf_put(struct buf *b, const void *p, size_t n);
/* Always inline, so that a literal's length is folded at compile time. */
static inline __attribute__((always_inline)) void
buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_putu(struct buf *b, unsigned long long v);

/* JSON string with quotes, escaping raw bytes (UTF-8 passes through). */
void buf_json_str(struct buf *b, const char *s, size_t n);
/* The same without the quotes (to build one string from parts). */
void buf_json_esc(struct buf *b, const char *s, size_t n);
static inline void buf_json_cstr(struct buf *b, const char *s)
{
	buf_json_str(b, s, strlen(s));
}

/* Free room at the tail, growing to at least want bytes if allowed;
 * returns the room available (maybe less than want). */
size_t buf_reserve(struct buf *b, size_t want);

#endif
