/*
 * loop.h - the one poll() event loop: file-descriptor watches and timers.
 *
 * Objects embed their struct loop_watch / struct loop_timer and are
 * recovered in the callback with container_of.  The loop never allocates
 * after loop_init.  Time is a cached monotonic clock in milliseconds,
 * refreshed once per iteration (loop_now).
 *
 * Deferred work (struct loop_defer) runs after the callback that queued
 * it has returned, before the next callback: a connection closed inside
 * a write is reclaimed there, and a retry starts there, so no callback
 * ever runs on an object freed under it (Redis freeClientAsync).
 */
#ifndef LOOP_H
#define LOOP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define container_of(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

struct loop;
struct loop_watch;
struct loop_timer;

typedef void (*loop_watch_cb)(struct loop *l, struct loop_watch *w, int revents);
typedef void (*loop_timer_cb)(struct loop *l, struct loop_timer *t);

struct loop_watch {
	int fd;
	int slot;            /* index in the poll array, -1 when not added */
	loop_watch_cb cb;
};

struct loop_timer {
	int64_t at;          /* deadline, loop_now() milliseconds */
	int slot;            /* index in the heap, -1 when not armed */
	loop_timer_cb cb;
};

struct loop_defer;
typedef void (*loop_defer_cb)(struct loop *l, struct loop_defer *d);

struct loop_defer {
	struct loop_defer *next, *prev;
	int queued;
	loop_defer_cb cb;
};

/* Ready an embedded watch (not added yet) or timer (not armed) for use. */
static inline void loop_watch_init(struct loop_watch *w, int fd,
				   loop_watch_cb cb)
{
	w->fd = fd;
	w->slot = -1;
	w->cb = cb;
}

static inline void loop_timer_init(struct loop_timer *t, loop_timer_cb cb)
{
	t->at = 0;
	t->slot = -1;
	t->cb = cb;
}

struct loop {
	struct pollfd *pfd;
	struct loop_watch **watch;
	int n, cap;
	int dirty;           /* some slots were deleted: compact before poll */
	struct loop_timer **heap;
	int nheap, heap_cap;
	int64_t now;
	struct loop_defer *dhead, *dtail; /* deferred work, in order */
};

/* Room for max_fds watches and max_timers timers.  0 / -1 with errno. */
int loop_init(struct loop *l, int max_fds, int max_timers);
void loop_free(struct loop *l);

/* Start watching w->fd for events (POLLIN, POLLOUT).  -1 when full. */
int loop_add(struct loop *l, struct loop_watch *w, short events);
/* Change the events of a watch (and unmute it); 0 pauses it without
 * removing it (poll still reports POLLHUP / POLLERR). */
void loop_mod(struct loop *l, struct loop_watch *w, short events);
/* Keep the watch's slot but have poll() skip it entirely, for a file
 * nobody needs to hear from for a while (an idle pooled connection): a
 * muted slot costs poll() next to nothing, a watched one costs a wait-queue
 * entry per call.  loop_mod unmutes. */
void loop_mute(struct loop *l, struct loop_watch *w);
/* Stop watching; safe inside any callback of the same iteration. */
void loop_del(struct loop *l, struct loop_watch *w);
/* loop_del, then close the descriptor (if any) and set w->fd to -1. */
void loop_close(struct loop *l, struct loop_watch *w);

/* Arm t to fire at loop_now() + ms (re-arming moves it). */
void loop_timer_set(struct loop *l, struct loop_timer *t, int64_t ms);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);
static inline int loop_timer_armed(const struct loop_timer *t)
{
	return t->slot >= 0;
}

/* Run d->cb once the current callback has returned (queued once: a
 * second call before it ran does nothing). */
void loop_defer(struct loop *l, struct loop_defer *d);
void loop_defer_cancel(struct loop *l, struct loop_defer *d);
/* Run what is queued now (loop_run_once does it after each callback;
 * for code that runs outside the loop, e.g. at exit). */
void loop_run_deferred(struct loop *l);

int64_t loop_now(struct loop *l);
/* Current monotonic time, read from the clock (not cached). */
int64_t loop_clock_ms(void);

/* One iteration: poll (at most max_wait_ms, -1 = until an event or the
 * next timer), dispatch ready watches, then due timers.  Returns -1 only
 * when poll fails with something other than EINTR. */
int loop_run_once(struct loop *l, int max_wait_ms);

#endif
