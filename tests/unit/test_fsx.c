/*
 * test_fsx.c - whole-file I/O (fsx.c).  Atomic writes: the content and
 * the mode asked for, nothing left beside the file, and clean failures
 * (missing or read-only directory, a rename that cannot happen).  Reads:
 * up to the buffer's max, regular files only, never through a symlink.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "fsx.h"
#include "t.h"

static int mkdir_tmp(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/ut-fsx-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static void rm_tmp(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx %s; rm -rf %s", dir, dir);
	if (system(cmd) != 0)
		FAILF("could not remove %s", dir);
}

/* Entries of dir other than . and .., sorted, names joined by '/'. */
static const char *entries(const char *dir)
{
	static char out[512];
	struct dirent **v;
	int i, n = scandir(dir, &v, NULL, alphasort);

	out[0] = '\0';
	if (n < 0)
		return "(cannot open)";
	for (i = 0; i < n; i++) {
		const char *name = v[i]->d_name;
		if (strcmp(name, ".") && strcmp(name, "..")) {
			if (out[0])
				strncat(out, "/", sizeof(out) - strlen(out) - 1);
			strncat(out, name, sizeof(out) - strlen(out) - 1);
		}
		free(v[i]);
	}
	free(v);
	return out;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

TEST(fsx_write_atomic_creates_with_content_and_mode)
{
	char dir[64], path[128];
	mode_t old = umask(022);

	REQUIRE(mkdir_tmp(dir, sizeof(dir)) == 0);
	snprintf(path, sizeof(path), "%s/a.json", dir);
	CHECK_EQ_INT(fsx_write_atomic(path, "{\"a\":1}\n", 8, 0666), 0);
	CHECK_EQ_STR(t_slurp(path), "{\"a\":1}\n");
	CHECK_EQ_INT(mode_of(path), 0666); /* exactly the mode, no umask */
	CHECK_EQ_STR(entries(dir), "a.json");
	CHECK_EQ_INT(fsx_write_atomic(path, "", 0, 0600), 0);
	CHECK_EQ_STR(t_slurp(path), "");
	CHECK_EQ_INT(mode_of(path), 0600);
	CHECK_EQ_STR(entries(dir), "a.json");
	umask(old);
	rm_tmp(dir);
}

TEST(fsx_write_atomic_replaces_with_a_new_inode)
{
	char dir[64], path[128];
	struct stat before, after;

	REQUIRE(mkdir_tmp(dir, sizeof(dir)) == 0);
	snprintf(path, sizeof(path), "%s/config.ini", dir);
	t_put(path, "port = 1\n", 0644);
	REQUIRE(stat(path, &before) == 0);
	CHECK_EQ_INT(fsx_write_atomic(path, "port = 2\n", 9, 0640), 0);
	REQUIRE(stat(path, &after) == 0);
	CHECK(after.st_ino != before.st_ino); /* renamed over, not rewritten */
	CHECK_EQ_STR(t_slurp(path), "port = 2\n");
	CHECK_EQ_INT(after.st_mode & 07777, 0640);
	CHECK_EQ_STR(entries(dir), "config.ini");
	rm_tmp(dir);
}

/* A stale temp file (same pid, planted as a symlink) is removed, never
 * followed; a symlink at path itself is replaced, not written through. */
TEST(fsx_write_atomic_never_follows_links)
{
	char dir[64], path[128], tmp[160], victim[128];
	struct stat st;

	REQUIRE(mkdir_tmp(dir, sizeof(dir)) == 0);
	snprintf(path, sizeof(path), "%s/a.json", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(tmp, sizeof(tmp), "%s/.a.json.tmp%ld", dir, (long)getpid());
	t_put(victim, "keep", 0600);
	REQUIRE(symlink(victim, tmp) == 0);
	CHECK_EQ_INT(fsx_write_atomic(path, "new", 3, 0600), 0);
	CHECK_EQ_STR(t_slurp(victim), "keep");
	CHECK_EQ_STR(t_slurp(path), "new");
	CHECK(access(tmp, F_OK) != 0);

	unlink(path);
	REQUIRE(symlink(victim, path) == 0);
	CHECK_EQ_INT(fsx_write_atomic(path, "x", 1, 0600), 0);
	CHECK_EQ_STR(t_slurp(victim), "keep");
	REQUIRE(lstat(path, &st) == 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ_INT(st.st_mode & 07777, 0600);
	CHECK_EQ_STR(t_slurp(path), "x");
	rm_tmp(dir);
}

TEST(fsx_write_atomic_fails_cleanly)
{
	char dir[64], path[128], sub[128];

	REQUIRE(mkdir_tmp(dir, sizeof(dir)) == 0);
	/* missing directory */
	snprintf(path, sizeof(path), "%s/nodir/a.json", dir);
	errno = 0;
	CHECK_EQ_INT(fsx_write_atomic(path, "x", 1, 0600), -1);
	CHECK_EQ_INT(errno, ENOENT);
	/* a file where the directory should be */
	snprintf(sub, sizeof(sub), "%s/file", dir);
	t_put(sub, "f", 0600);
	snprintf(path, sizeof(path), "%s/file/a.json", dir);
	errno = 0;
	CHECK_EQ_INT(fsx_write_atomic(path, "x", 1, 0600), -1);
	CHECK_EQ_INT(errno, ENOTDIR);
	/* the temp file is written, the rename fails: it goes away again */
	snprintf(sub, sizeof(sub), "%s/d", dir);
	REQUIRE(mkdir(sub, 0700) == 0);
	snprintf(path, sizeof(path), "%s/d/x", dir);
	t_put(path, "", 0600);
	errno = 0;
	CHECK_EQ_INT(fsx_write_atomic(sub, "x", 1, 0600), -1);
	CHECK(errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST);
	CHECK_EQ_STR(entries(dir), "d/file");
	/* no name at all */
	errno = 0;
	CHECK_EQ_INT(fsx_write_atomic("/tmp/", "x", 1, 0600), -1);
	CHECK_EQ_INT(errno, EISDIR);
	rm_tmp(dir);
}

/* Write path in a child without root's override of permissions (as
 * nobody when run as root); its exit status is the errno (0: written). */
static int write_unprivileged(const char *path)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(100);
		_exit(fsx_write_atomic(path, "new", 3, 0644) == 0 ? 0 : errno);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST(fsx_write_atomic_fails_cleanly_in_a_read_only_directory)
{
	char dir[64], ro[128], path[160];

	REQUIRE(mkdir_tmp(dir, sizeof(dir)) == 0);
	snprintf(ro, sizeof(ro), "%s/ro", dir);
	snprintf(path, sizeof(path), "%s/config.ini", ro);
	REQUIRE(mkdir(ro, 0755) == 0);
	t_put(path, "old", 0666);
	REQUIRE(chmod(ro, 0555) == 0 && chmod(dir, 0755) == 0);
	CHECK_EQ_INT(write_unprivileged(path), EACCES);
	CHECK_EQ_STR(t_slurp(path), "old");
	CHECK_EQ_STR(entries(ro), "config.ini");
	rm_tmp(dir);
}

TEST(fsx_read_file_reads_up_to_the_buffer_max)
{
	char dir[64], path[128], link[128];
	struct buf b;
	struct stat st;

	REQUIRE(mkdir_tmp(dir, sizeof(dir)) == 0);
	snprintf(path, sizeof(path), "%s/a.json", dir);
	snprintf(link, sizeof(link), "%s/link.json", dir);
	t_put(path, "0123456789", 0640);
	buf_init(&b, 10); /* exactly the file's size */
	CHECK_EQ_INT(fsx_read_file(path, &b, &st), 0);
	CHECK_SPAN(b.p, b.len, "0123456789");
	CHECK_EQ_INT(st.st_size, 10);
	CHECK_EQ_INT(st.st_mode & 07777, 0640);
	buf_free(&b);

	buf_init(&b, 9);
	errno = 0;
	CHECK_EQ_INT(fsx_read_file(path, &b, &st), -1);
	CHECK_EQ_INT(errno, EFBIG);
	buf_free(&b);

	buf_init(&b, 64); /* appends */
	buf_puts(&b, ">");
	CHECK_EQ_INT(fsx_read_file(path, &b, &st), 0);
	CHECK_SPAN(b.p, b.len, ">0123456789");
	buf_reset(&b);

	REQUIRE(symlink(path, link) == 0);
	errno = 0;
	CHECK_EQ_INT(fsx_read_file(link, &b, &st), -1);
	CHECK_EQ_INT(errno, ELOOP);
	errno = 0;
	CHECK_EQ_INT(fsx_read_file(dir, &b, &st), -1);
	CHECK_EQ_INT(errno, EINVAL);
	errno = 0;
	snprintf(path, sizeof(path), "%s/missing", dir);
	CHECK_EQ_INT(fsx_read_file(path, &b, &st), -1);
	CHECK_EQ_INT(errno, ENOENT);
	CHECK_EQ_INT(b.len, 0);
	buf_free(&b);
	rm_tmp(dir);
}
