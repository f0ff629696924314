/*
 * test_watch.c - file change notices (watch.c): inotify and the stat
 * scan that stands in where the kernel has no inotify.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "t.h"
#include "watch.h"

static unsigned seen;

static void on_change(struct watch *w, unsigned changed, void *u)
{
	(void)w;
	(void)u;
	seen |= changed;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* Run the loop until a change is seen or ms pass. */
static unsigned wait_change(struct loop *l, int ms)
{
	int64_t end = loop_clock_ms() + ms;
	seen = 0;
	while (!seen && loop_clock_ms() < end)
		loop_run_once(l, 50);
	return seen;
}

static void run(int scan)
{
	struct loop l;
	struct watch w;
	char dir[64] = "/tmp/ut-watch-XXXXXX", path[128], cmd[128];

	REQUIRE(mkdtemp(dir) != NULL);
	REQUIRE(loop_init(&l, 4, 8) == 0);
	REQUIRE(watch_init(&w, &l, on_change, NULL) == 0);
	if (scan && w.fd >= 0) { /* as on a kernel without inotify */
		loop_close(&l, &w.lw);
		w.fd = -1;
	}
	snprintf(path, sizeof(path), "%s/config.ini", dir);
	write_file(dir, "config.ini", "port = 1\n");
	REQUIRE(watch_add(&w, 0, path, 0) == 0);
	REQUIRE(watch_add(&w, 1, dir, 1) == 0);
	CHECK_EQ_INT(wait_change(&l, 300), 0); /* nothing yet */
	write_file(dir, "a.json", "{}");
	CHECK(wait_change(&l, 2500) & 2);
	write_file(dir, "config.ini", "port = 22\n");
	CHECK(wait_change(&l, 2500) & 1);
	/* a dot file (a temp file being written) is not a change of the
	 * directory's (inotify ignores it; the scan skips it too) */
	write_file(dir, ".a.json.tmp", "{");
	CHECK_EQ_INT(wait_change(&l, scan ? 1500 : 400) & 2, 0);
	snprintf(path, sizeof(path), "%s/a.json", dir);
	unlink(path);
	CHECK(wait_change(&l, 2500) & 2);
	watch_free(&w);
	loop_free(&l);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		FAILF("could not remove %s", dir);
}

TEST(watch_sees_files_change_with_inotify)
{
	run(0);
}

TEST(watch_sees_files_change_with_the_stat_scan)
{
	run(1);
}

TEST(watch_signature_follows_the_directory)
{
	char dir[64] = "/tmp/ut-wsig-XXXXXX", cmd[128];
	struct watch_item it;
	uint64_t a, b;
	REQUIRE(mkdtemp(dir) != NULL);
	memset(&it, 0, sizeof(it));
	it.dir = dir;
	a = watch_signature(&it);
	write_file(dir, "x.json", "1");
	b = watch_signature(&it);
	CHECK(a != b);
	CHECK(watch_signature(&it) == b);
	write_file(dir, ".hidden", "1");
	CHECK(watch_signature(&it) == b);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		FAILF("could not remove %s", dir);
}
