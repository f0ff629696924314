#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fsx.h"
int fsx_write_atomic(const char *path, const char *data, size_t n, mode_t mode)
{
	char tmp[4300];
	size_t off = 0;
	int fd;
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	while (off < n) {
		ssize_t w = write(fd, data + off, n - off);
		if (w <= 0) { close(fd); unlink(tmp); return -1; }
		off += (size_t)w;
	}
	fchmod(fd, mode);
	fsync(fd);
	close(fd);
	return rename(tmp, path);
}
