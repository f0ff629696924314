/*
 * replay.c - run a fuzz target on saved inputs, without libFuzzer.
 *
 *   TARGET PATH...
 *
 * Each PATH is a file, or a directory whose regular files are all run (in
 * name order, not recursing).  The target's LLVMFuzzerTestOneInput gets
 * each file's bytes in a buffer of exactly that size, as libFuzzer gives
 * them, so this binary built with ASan+UBSan replays a corpus with the
 * same checks.  A finding aborts (the sanitizer or the target's FZ_CHECK
 * says where); otherwise it prints how many inputs ran and exits 0.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* DT_REG */
#endif
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* UBSan findings are fatal here as in the libFuzzer build. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static const char *prog;
static unsigned long nrun;

static void die(const char *what, const char *path)
{
	fprintf(stderr, "%s: %s %s: %s\n", prog, what, path, strerror(errno));
	exit(2);
}

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *p;
	size_t n;

	if (!f || fstat(fileno(f), &st) < 0)
		die("cannot open", path);
	n = (size_t)st.st_size;
	p = malloc(n ? n : 1);
	if (!p || fread(p, 1, n, f) != n)
		die("cannot read", path);
	fclose(f);
	LLVMFuzzerTestOneInput(p, n);
	free(p);
	nrun++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;

	if (!d)
		die("cannot open", dir);
	while ((e = readdir(d)) != NULL) {
		char *path;
		struct stat st;
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		if (e->d_name[0] == '.')
			continue;
		path = malloc(len);
		if (!path)
			die("out of memory in", dir);
		snprintf(path, len, "%s/%s", dir, e->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				die("out of memory in", dir);
		}
		names[n++] = path;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		run_file(names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	int i;

	prog = argv[0];
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", prog);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0)
			die("cannot open", argv[i]);
		if (S_ISDIR(st.st_mode))
			run_dir(argv[i]);
		else
			run_file(argv[i]);
	}
	printf("%s: %lu inputs ok\n", prog, nrun);
	return 0;
}
