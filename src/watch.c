/*
 * watch.c - file change notices (see watch.h).
 */
#define _GNU_SOURCE
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif

#include "fmt.h"
#include "log.h"

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;
	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull; /* FNV-1a 64 */
	}
	return h;
}

static uint64_t mix_stat(uint64_t h, const char *name, const struct stat *st)
{
	uint64_t v[5];
	v[0] = (uint64_t)st->st_ino;
	v[1] = (uint64_t)st->st_size;
	v[2] = (uint64_t)st->st_mtim.tv_sec;
	v[3] = (uint64_t)st->st_mtim.tv_nsec;
	v[4] = (uint64_t)st->st_mode;
	h = mix(h, name, strlen(name) + 1);
	return mix(h, v, sizeof(v));
}

uint64_t watch_signature(const struct watch_item *it)
{
	uint64_t h = 14695981039346656037ull;
	struct stat st;
	DIR *d;
	struct dirent *e;
	char path[4096];

	if (it->name) {
		if ((size_t)fmt_snprintf(path, sizeof(path), "%s/%s", it->dir,
					 it->name) >= sizeof(path) ||
		    stat(path, &st) < 0)
			return h;
		return mix_stat(h, it->name, &st);
	}
	if (!(d = opendir(it->dir)))
		return h;
	/* Order-independent: readdir's order may change between scans. */
	{
		uint64_t sum = 0;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			if ((size_t)fmt_snprintf(path, sizeof(path), "%s/%s",
						 it->dir, e->d_name) >=
				    sizeof(path) ||
			    stat(path, &st) < 0)
				continue;
			sum += mix_stat(14695981039346656037ull, e->d_name,
					&st);
		}
		h = mix(h, &sum, sizeof(sum));
	}
	closedir(d);
	return h;
}

static void fire(struct watch *w)
{
	unsigned ch = w->pending;
	w->pending = 0;
	if (ch)
		w->cb(w, ch, w->u);
}

static void on_settle(struct loop *l, struct loop_timer *t)
{
	(void)l;
	fire(container_of(t, struct watch, settle));
}

static int scanned(const struct watch *w)
{
	int i;
	for (i = 0; i < w->n; i++)
		if (w->it[i].dir && w->it[i].wd < 0)
			return 1;
	return 0;
}

static void on_scan(struct loop *l, struct loop_timer *t)
{
	struct watch *w = container_of(t, struct watch, scan);
	int i;

	for (i = 0; i < w->n; i++) {
		struct watch_item *it = &w->it[i];
		uint64_t s;
		if (!it->dir || it->wd >= 0)
			continue;
		s = watch_signature(it);
		if (s != it->sig) {
			it->sig = s;
			w->pending |= 1u << i;
		}
	}
	fire(w);
	loop_timer_set(l, t, WATCH_SCAN_MS);
}

#ifdef __linux__
static void on_events(struct loop *l, struct loop_watch *lw, int revents)
{
	struct watch *w = container_of(lw, struct watch, lw);
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	(void)revents;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		char *p = buf;
		while (p < buf + n) {
			struct inotify_event *ev = (struct inotify_event *)(void *)p;
			int i;
			for (i = 0; i < w->n; i++) {
				struct watch_item *it = &w->it[i];
				if (!it->dir || it->wd != ev->wd)
					continue;
				if (ev->mask & (IN_IGNORED | IN_DELETE_SELF |
						IN_MOVE_SELF)) {
					/* the directory itself went: scan */
					it->wd = -1;
					it->sig = 0;
					if (!loop_timer_armed(&w->scan))
						loop_timer_set(l, &w->scan,
							       WATCH_SCAN_MS);
					w->pending |= 1u << i;
					continue;
				}
				if (it->name && (!ev->len ||
						 strcmp(ev->name, it->name)))
					continue;
				if (!it->name && ev->len && ev->name[0] == '.')
					continue; /* temp files, ours too */
				w->pending |= 1u << i;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	if (w->pending && !loop_timer_armed(&w->settle))
		loop_timer_set(l, &w->settle, WATCH_SETTLE_MS);
}
#endif

int watch_init(struct watch *w, struct loop *l, watch_cb cb, void *u)
{
	memset(w, 0, sizeof(*w));
	w->l = l;
	w->cb = cb;
	w->u = u;
	w->fd = -1;
	loop_timer_init(&w->settle, on_settle);
	loop_timer_init(&w->scan, on_scan);
#ifdef __linux__
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd >= 0) {
		loop_watch_init(&w->lw, w->fd, on_events);
		if (loop_add(l, &w->lw, POLLIN) < 0) {
			close(w->fd);
			w->fd = -1;
			return -1;
		}
	} else {
		log_warn("inotify not available (%s): watching files with a "
			 "stat scan every %d ms", strerror(errno),
			 WATCH_SCAN_MS);
	}
#endif
	return 0;
}

int watch_add(struct watch *w, int id, const char *path, int dir_only)
{
	struct watch_item *it;
	const char *slash;

	if (id < 0 || id >= WATCH_MAX || !path || !*path)
		return -1;
	it = &w->it[id];
	free(it->dir);
	free(it->name);
	memset(it, 0, sizeof(*it));
	it->wd = -1;
	if (dir_only) {
		it->dir = strdup(path);
	} else if ((slash = strrchr(path, '/')) != NULL) {
		it->dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
		it->name = strdup(slash + 1);
	} else {
		it->dir = strdup(".");
		it->name = strdup(path);
	}
	if (!it->dir || (!dir_only && !it->name)) {
		free(it->dir);
		free(it->name);
		it->dir = it->name = NULL;
		return -1;
	}
	if (id >= w->n)
		w->n = id + 1;
#ifdef __linux__
	if (w->fd >= 0)
		it->wd = inotify_add_watch(w->fd, it->dir,
					   IN_CREATE | IN_DELETE | IN_MOVED_TO |
						   IN_MOVED_FROM |
						   IN_CLOSE_WRITE | IN_ATTRIB |
						   IN_DELETE_SELF |
						   IN_MOVE_SELF);
#endif
	it->sig = watch_signature(it);
	if (it->wd < 0 && !loop_timer_armed(&w->scan))
		loop_timer_set(w->l, &w->scan, WATCH_SCAN_MS);
	return 0;
}

void watch_clear(struct watch *w)
{
	int i;
	for (i = 0; i < w->n; i++) {
		struct watch_item *it = &w->it[i];
#ifdef __linux__
		if (it->wd >= 0 && w->fd >= 0)
			inotify_rm_watch(w->fd, it->wd);
#endif
		free(it->dir);
		free(it->name);
		memset(it, 0, sizeof(*it));
		it->wd = -1;
	}
	w->n = 0;
	w->pending = 0;
	if (!scanned(w))
		loop_timer_cancel(w->l, &w->scan);
}

void watch_free(struct watch *w)
{
	if (!w->l)
		return;
	watch_clear(w);
	loop_timer_cancel(w->l, &w->settle);
	loop_timer_cancel(w->l, &w->scan);
	if (w->fd >= 0)
		loop_close(w->l, &w->lw);
	w->fd = -1;
}
