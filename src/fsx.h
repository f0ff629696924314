/* fsx.h - placeholder until the fsx module lands (atomic file writes). */
#ifndef FSX_H
#define FSX_H
#include <stddef.h>
#include <sys/types.h>
int fsx_write_atomic(const char *path, const char *data, size_t n, mode_t mode);
#endif
