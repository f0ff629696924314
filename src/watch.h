/*
 * watch.h - notice that files changed, inside the poll loop.
 *
 * Each item is a directory, or one file in a directory (watched through
 * its directory, because editors and our own atomic writes replace files
 * rather than write them in place).  With inotify the directories are
 * watched and a burst of events is gathered for WATCH_SETTLE_MS before
 * the callback runs; without it (or when a directory cannot be watched)
 * a stat scan runs every WATCH_SCAN_MS and compares each item's
 * signature (names, sizes, mtimes, inodes).  Either way the callback
 * gets the bit mask of the items (1 << id) that may have changed; it
 * decides what really did.
 */
#ifndef WATCH_H
#define WATCH_H

#include <stdint.h>

#include "loop.h"

#define WATCH_MAX 4
#define WATCH_SETTLE_MS 150
#define WATCH_SCAN_MS 1000

struct watch;
typedef void (*watch_cb)(struct watch *w, unsigned changed, void *u);

struct watch_item {
	char *dir;          /* the directory watched */
	char *name;         /* the one file in it, or NULL for every file */
	int wd;             /* inotify watch, -1 none (scanned) */
	uint64_t sig;       /* last scan's signature */
};

struct watch {
	struct loop *l;
	int fd;                    /* inotify, -1 when not available */
	struct loop_watch lw;
	struct loop_timer settle;  /* gathers a burst of events */
	struct loop_timer scan;    /* the stat scan, for unwatched items */
	struct watch_item it[WATCH_MAX];
	int n;
	unsigned pending;          /* items changed, callback not run yet */
	watch_cb cb;
	void *u;
};

/* 0, or -1 when the loop has no room (the watch then scans). */
int watch_init(struct watch *w, struct loop *l, watch_cb cb, void *u);
/* Watch path as item id (0..WATCH_MAX-1): a directory when dir_only,
 * else the file path.  0, -1 bad path or no room. */
int watch_add(struct watch *w, int id, const char *path, int dir_only);
/* Forget every item (reload adds them again). */
void watch_clear(struct watch *w);
void watch_free(struct watch *w);

/* The stat signature of an item (exposed for tests). */
uint64_t watch_signature(const struct watch_item *it);

#endif
