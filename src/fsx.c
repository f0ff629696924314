/*
 * fsx.c - whole-file reads and atomic whole-file writes (see fsx.h).
 *
 * The write is the classic sequence: temp file in the same directory (so
 * the rename stays on one filesystem and is atomic), full write, fchmod,
 * fsync, rename, fsync of the directory (so the rename itself survives a
 * crash).  Every failure before the rename removes the temp file and
 * hands back the errno of the step that failed.
 */
#define _POSIX_C_SOURCE 200809L
#include "fsx.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h> /* rename */
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fmt.h"

/* Split path into its directory (for the fsync) and the temp file's
 * path ".<name>.tmp<pid>" beside it.  0, -1 (errno). */
static int temp_name(const char *path, char *dir, char *tmp, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	size_t dl = slash ? (size_t)(slash - path) : 0;
	int n;

	if (!*name) {
		errno = EISDIR;
		return -1;
	}
	if (dl >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!slash)
		memcpy(dir, ".", 2);
	else if (dl == 0)
		memcpy(dir, "/", 2);
	else {
		memcpy(dir, path, dl);
		dir[dl] = '\0';
	}
	n = fmt_snprintf(tmp, len, "%.*s.%s.tmp%ld", (int)(name - path), path,
			 name, (long)getpid());
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int write_all(int fd, const char *data, size_t n)
{
	size_t off = 0;
	ssize_t w;

	while (off < n) {
		w = write(fd, data + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

int fsx_write_atomic(const char *path, const char *data, size_t n,
		     mode_t mode)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd, dfd, e;

	if (temp_name(path, dir, tmp, sizeof(tmp)) < 0)
		return -1;
	fd = open(tmp, flags, 0600);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, flags, 0600); /* left by a dead process */
	if (fd < 0)
		return -1;
	if (write_all(fd, data, n) < 0 || fchmod(fd, mode) < 0 ||
	    fsync(fd) < 0) {
		e = errno;
		close(fd);
		goto fail;
	}
	/* Linux closes the descriptor even when close reports EINTR */
	if (close(fd) < 0 && errno != EINTR) {
		e = errno;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		e = errno;
		goto fail;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	unlink(tmp);
	errno = e;
	return -1;
}

int fsx_read_file(const char *path, struct buf *b, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	char probe;

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		size_t room = buf_reserve(b, 4096);
		/* b is full: the file fits only if it ends here */
		n = room ? read(fd, b->p + b->len, room) : read(fd, &probe, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!room) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
		b->len += (size_t)n;
	}
	if (n < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}
