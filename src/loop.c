/*
 * loop.c - poll() loop with a binary min-heap of timers.
 *
 * Watches live in two parallel arrays (pfd[] for poll, watch[] for the
 * owner).  Deleting inside a callback only clears the slot (fd = -1, which
 * poll ignores, and watch = NULL); the arrays are compacted before the next
 * poll, so indices stay valid for the rest of the dispatch pass.  Watches
 * added during dispatch are appended past the count being dispatched.
 *
 * Timers sit in a min-heap keyed by deadline; each timer knows its heap
 * slot, so re-arming and cancelling are O(log n).  Due timers run after the
 * fd callbacks; a timer callback may re-arm itself or others.
 *
 * Deferred work is a doubly linked FIFO of caller-owned nodes (nothing is
 * allocated); it is drained after every watch and timer callback.
 */
#define _POSIX_C_SOURCE 200809L
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int64_t loop_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int loop_init(struct loop *l, int max_fds, int max_timers)
{
	memset(l, 0, sizeof(*l));
	l->pfd = calloc((size_t)max_fds, sizeof(*l->pfd));
	l->watch = calloc((size_t)max_fds, sizeof(*l->watch));
	l->heap = calloc((size_t)max_timers, sizeof(*l->heap));
	if (!l->pfd || !l->watch || !l->heap) {
		loop_free(l);
		errno = ENOMEM;
		return -1;
	}
	l->cap = max_fds;
	l->heap_cap = max_timers;
	l->now = loop_clock_ms();
	return 0;
}

void loop_free(struct loop *l)
{
	free(l->pfd);
	free(l->watch);
	free(l->heap);
	memset(l, 0, sizeof(*l));
}

int64_t loop_now(struct loop *l)
{
	return l->now;
}

int loop_add(struct loop *l, struct loop_watch *w, short events)
{
	if (l->n == l->cap) {
		errno = EMFILE;
		return -1;
	}
	w->slot = l->n++;
	l->pfd[w->slot].fd = w->fd;
	l->pfd[w->slot].events = events;
	l->pfd[w->slot].revents = 0;
	l->watch[w->slot] = w;
	return 0;
}

void loop_mod(struct loop *l, struct loop_watch *w, short events)
{
	if (w->slot >= 0) {
		l->pfd[w->slot].fd = w->fd;
		l->pfd[w->slot].events = events;
	}
}

void loop_mute(struct loop *l, struct loop_watch *w)
{
	if (w->slot >= 0) {
		l->pfd[w->slot].fd = -1;
		l->pfd[w->slot].events = 0;
		l->pfd[w->slot].revents = 0;
	}
}

void loop_del(struct loop *l, struct loop_watch *w)
{
	if (w->slot < 0)
		return;
	l->pfd[w->slot].fd = -1;
	l->pfd[w->slot].events = 0;
	l->pfd[w->slot].revents = 0;
	l->watch[w->slot] = NULL;
	w->slot = -1;
	l->dirty = 1;
}

void loop_defer(struct loop *l, struct loop_defer *d)
{
	if (d->queued)
		return;
	d->queued = 1;
	d->next = NULL;
	d->prev = l->dtail;
	if (l->dtail)
		l->dtail->next = d;
	else
		l->dhead = d;
	l->dtail = d;
}

void loop_defer_cancel(struct loop *l, struct loop_defer *d)
{
	if (!d->queued)
		return;
	if (d->prev)
		d->prev->next = d->next;
	else
		l->dhead = d->next;
	if (d->next)
		d->next->prev = d->prev;
	else
		l->dtail = d->prev;
	d->next = d->prev = NULL;
	d->queued = 0;
}

void loop_run_deferred(struct loop *l)
{
	struct loop_defer *d;
	while ((d = l->dhead) != NULL) {
		loop_defer_cancel(l, d);
		d->cb(l, d);
	}
}

void loop_close(struct loop *l, struct loop_watch *w)
{
	loop_del(l, w);
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
}

static void compact(struct loop *l)
{
	int i, j = 0;
	for (i = 0; i < l->n; i++) {
		if (!l->watch[i])
			continue;
		if (i != j) {
			l->pfd[j] = l->pfd[i];
			l->watch[j] = l->watch[i];
			l->watch[j]->slot = j;
		}
		j++;
	}
	l->n = j;
	l->dirty = 0;
}

/* ---- timer heap ---------------------------------------------------------- */

static void heap_swap(struct loop *l, int a, int b)
{
	struct loop_timer *t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->slot = a;
	l->heap[b]->slot = b;
}

static void heap_up(struct loop *l, int i)
{
	while (i > 0) {
		int p = (i - 1) / 2;
		if (l->heap[p]->at <= l->heap[i]->at)
			break;
		heap_swap(l, p, i);
		i = p;
	}
}

static void heap_down(struct loop *l, int i)
{
	for (;;) {
		int c = 2 * i + 1, m = i;
		if (c < l->nheap && l->heap[c]->at < l->heap[m]->at)
			m = c;
		if (c + 1 < l->nheap && l->heap[c + 1]->at < l->heap[m]->at)
			m = c + 1;
		if (m == i)
			break;
		heap_swap(l, i, m);
		i = m;
	}
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	int i = t->slot;
	if (i < 0)
		return;
	t->slot = -1;
	l->nheap--;
	if (i == l->nheap)
		return;
	l->heap[i] = l->heap[l->nheap];
	l->heap[i]->slot = i;
	heap_up(l, i);
	heap_down(l, l->heap[i]->slot);
}

void loop_timer_set(struct loop *l, struct loop_timer *t, int64_t ms)
{
	loop_timer_cancel(l, t);
	if (l->nheap == l->heap_cap)
		return; /* cannot happen: one timer per object, sized at init */
	t->at = l->now + ms;
	t->slot = l->nheap++;
	l->heap[t->slot] = t;
	heap_up(l, t->slot);
}

/* ---- iteration ----------------------------------------------------------- */

int loop_run_once(struct loop *l, int max_wait_ms)
{
	int i, n, rc, wait = max_wait_ms;

	if (l->dirty)
		compact(l);
	if (l->nheap > 0) {
		int64_t d = l->heap[0]->at - loop_clock_ms();
		if (d < 0)
			d = 0;
		if (wait < 0 || d < wait)
			wait = d > 0x7fffffff ? 0x7fffffff : (int)d;
	}
	rc = poll(l->pfd, (nfds_t)l->n, wait);
	l->now = loop_clock_ms();
	if (rc < 0 && errno != EINTR)
		return -1;

	n = l->n;
	for (i = 0; rc > 0 && i < n; i++) {
		struct loop_watch *w = l->watch[i];
		short re = l->pfd[i].revents;
		if (!re || !w)
			continue;
		l->pfd[i].revents = 0;
		w->cb(l, w, re);
		loop_run_deferred(l);
	}

	while (l->nheap > 0 && l->heap[0]->at <= l->now) {
		struct loop_timer *t = l->heap[0];
		loop_timer_cancel(l, t);
		t->cb(l, t);
		loop_run_deferred(l);
	}
	return 0;
}
