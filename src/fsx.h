/*
 * fsx.h - whole-file reads and atomic whole-file writes.
 *
 * fsx_write_atomic replaces a file so that a reader (or a crash) sees
 * either the old content or the new one, never a mix: the data goes to a
 * temp file beside the target, is synced, and is renamed over it.  The
 * temp file is named ".<name>.tmp<pid>": a leading dot and no ".json"
 * ending, so the auth-dir scan and its watcher skip it.
 */
#ifndef FSX_H
#define FSX_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct buf;

/*
 * Write data[0..n) to path atomically: a temp file in path's directory
 * (created O_EXCL|O_NOFOLLOW; a stale one of an earlier process with the
 * same pid is removed once), the whole data written, fchmod(mode), fsync,
 * rename over path, then an fsync of the directory (a failure of that
 * last step is not reported: the new file is in place).  A symlink at
 * path is replaced, not followed: resolve it first to write its target.
 * Returns 0, or -1 with errno set and no temp file left behind.
 */
int fsx_write_atomic(const char *path, const char *data, size_t n,
		     mode_t mode);

/*
 * Read the regular file at path (a symlink is refused: O_NOFOLLOW) into b,
 * appending; at most b's max bytes, else EFBIG.  *st is the file's fstat.
 * Returns 0, or -1 with errno set (EINVAL: not a regular file).
 */
int fsx_read_file(const char *path, struct buf *b, struct stat *st);

#endif
