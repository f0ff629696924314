/*
 * main.c - runner of the tiny test framework in t.h.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, strsignal */
#endif
#include "t.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static struct t_test *t_list;
static size_t t_count;
static const struct t_test *t_cur;
static int t_cur_failures;

/* Sanitizer defaults: make UBSan findings fatal (by default they only print
 * and the test would pass).  Harmless when built without sanitizers. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

/* exit status of a child whose failures were already printed */
#define T_EXIT_FAILED 97

void t_register(struct t_test *t)
{
	t->next = t_list;
	t_list = t;
	t_count++;
}

int t_failures(void)
{
	return t_cur_failures;
}

const char *t_name(void)
{
	return t_cur ? t_cur->name : "?";
}

size_t t_strlen_(const char *s)
{
	return s ? strlen(s) : 0;
}

void t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	t_cur_failures++;
	printf("FAIL %s: %s:%d: ", t_name(), file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

int t_check(int ok, const char *file, int line, const char *expr)
{
	if (!ok)
		t_fail(file, line, "%s", expr);
	return ok;
}

int t_check_int(long long a, long long b, const char *file, int line,
		const char *ea, const char *eb)
{
	if (a == b)
		return 1;
	t_fail(file, line, "%s == %s (%lld vs %lld)", ea, eb, a, b);
	return 0;
}

int t_check_str(const char *a, const char *b, const char *file, int line,
		const char *ea, const char *eb)
{
	if (a == b || (a && b && strcmp(a, b) == 0))
		return 1;
	t_fail(file, line, "%s == %s (\"%s\" vs \"%s\")", ea, eb,
	       a ? t_esc(a, strlen(a)) : "(null)",
	       b ? t_esc(b, strlen(b)) : "(null)");
	return 0;
}

int t_check_mem(const void *a, size_t alen, const void *b, size_t blen,
		const char *file, int line, const char *ea, const char *eb)
{
	if (alen == blen && (alen == 0 || (a && b && memcmp(a, b, alen) == 0)))
		return 1;
	t_fail(file, line, "%s == %s (\"%s\" [%zu] vs \"%s\" [%zu])", ea, eb,
	       a ? t_esc(a, alen) : "(null)", alen,
	       b ? t_esc(b, blen) : "(null)", blen);
	return 0;
}

const char *t_esc(const void *p, size_t n)
{
	static char bufs[4][1024];
	static int k;
	const unsigned char *s = p;
	char *o = bufs[k++ & 3];
	size_t i, j = 0;

	for (i = 0; i < n && j < 800; i++) {
		unsigned c = s[i];
		if (c == '\r')
			j += (size_t)sprintf(o + j, "\\r");
		else if (c == '\n')
			j += (size_t)sprintf(o + j, "\\n");
		else if (c == '\t')
			j += (size_t)sprintf(o + j, "\\t");
		else if (c == '\\' || c == '"')
			j += (size_t)sprintf(o + j, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			j += (size_t)sprintf(o + j, "\\x%02x", c);
		else
			o[j++] = (char)c;
	}
	if (i < n)
		j += (size_t)sprintf(o + j, "...(+%zu)", n - i);
	o[j] = 0;
	return o;
}

/* ---- PRNG ---- */

void t_rng_seed(struct t_rng *r, uint64_t seed)
{
	/* splitmix64 of the seed, so small seeds give unrelated streams */
	uint64_t z = seed + 0x9E3779B97F4A7C15ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	r->s = z ? z : 1;
}

uint64_t t_rng_next(struct t_rng *r)
{
	uint64_t x = r->s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

size_t t_rng_below(struct t_rng *r, size_t n)
{
	return n ? (size_t)(t_rng_next(r) % n) : 0;
}

size_t t_rng_piece(struct t_rng *r, size_t remaining)
{
	size_t max;

	if (remaining == 0)
		return 0;
	switch (t_rng_below(r, 4)) {
	case 0:
		max = 2;
		break;
	case 1:
		max = 8;
		break;
	case 2:
		max = 32;
		break;
	default:
		max = remaining;
		break;
	}
	if (max > remaining)
		max = remaining;
	return 1 + t_rng_below(r, max);
}

uint64_t t_seed(uint64_t dflt)
{
	const char *s = getenv("T_SEED");
	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

/* ---- guarded buffers ----
 * Mapping: [header (2 size_t) ... data][guard page].  The data ends at the
 * guard page; the header sits just below the page that holds the data's
 * first byte minus the header size, i.e. at the mapping's base. */

struct t_guard_hdr {
	size_t map_len;
	size_t magic;
};
#define T_GUARD_MAGIC ((size_t)0x67756172u)

static size_t t_page(void)
{
	static size_t pg;
	if (!pg)
		pg = (size_t)sysconf(_SC_PAGESIZE);
	return pg;
}

void *t_guarded_alloc(size_t n)
{
	size_t pg = t_page();
	size_t data_pages = (n + sizeof(struct t_guard_hdr) + pg - 1) / pg;
	size_t map_len = (data_pages + 1) * pg;
	char *base, *p;
	struct t_guard_hdr *h;

	base = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		perror("t_guarded_alloc: mmap");
		abort();
	}
	if (mprotect(base + data_pages * pg, pg, PROT_NONE) != 0) {
		perror("t_guarded_alloc: mprotect");
		abort();
	}
	h = (struct t_guard_hdr *)(void *)base;
	h->map_len = map_len;
	h->magic = T_GUARD_MAGIC;
	p = base + data_pages * pg - n;
	return p;
}

void *t_guarded_copy(const void *src, size_t n)
{
	void *p = t_guarded_alloc(n);
	if (n)
		memcpy(p, src, n);
	return p;
}

void t_guarded_free(void *ptr)
{
	size_t pg = t_page();
	char *p = ptr;
	char *base;
	struct t_guard_hdr *h;

	if (!p)
		return;
	/* the header is at least sizeof(hdr) below p and within a page */
	base = (char *)(((uintptr_t)(p - sizeof(struct t_guard_hdr))) /
			pg * pg);
	h = (struct t_guard_hdr *)(void *)base;
	if (h->magic != T_GUARD_MAGIC) {
		fprintf(stderr, "t_guarded_free: not a guarded buffer\n");
		abort();
	}
	h->magic = 0;
	munmap(base, h->map_len);
}

/* ---- runner ---- */

static int t_cmp(const void *a, const void *b)
{
	const struct t_test *x = *(const struct t_test *const *)a;
	const struct t_test *y = *(const struct t_test *const *)b;
	int c = strcmp(x->file, y->file);
	if (c)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

/* Run one test; returns 1 when it passed. */
static int t_run(const struct t_test *t, int fork_mode, unsigned timeout)
{
	pid_t pid;
	int st;

	t_cur = t;
	t_cur_failures = 0;
	if (!fork_mode) {
		t->fn();
		return t_cur_failures == 0;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		alarm(timeout);
		t->fn();
		fflush(stdout);
		_exit(t_cur_failures ? T_EXIT_FAILED : 0);
	}
	while (waitpid(pid, &st, 0) < 0)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == T_EXIT_FAILED)
		return 0;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
		printf("FAIL %s: %s:%d: timed out after %us\n", t->name,
		       t->file, t->line, timeout);
	else if (WIFSIGNALED(st))
		printf("FAIL %s: %s:%d: crashed (signal %d: %s)\n", t->name,
		       t->file, t->line, WTERMSIG(st),
		       strsignal(WTERMSIG(st)));
	else
		printf("FAIL %s: %s:%d: crashed (exit status %d, see stderr)\n",
		       t->name, t->file, t->line, WEXITSTATUS(st));
	return 0;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	const char *e;
	int fork_mode = !((e = getenv("T_NOFORK")) && *e && *e != '0');
	int verbose = (e = getenv("T_VERBOSE")) && *e && *e != '0';
	unsigned timeout = 30;
	struct t_test **v, *t;
	size_t i, n = 0, passed = 0, failed = 0;

	if ((e = getenv("T_TIMEOUT")) && *e)
		timeout = (unsigned)strtoul(e, NULL, 10);
	setvbuf(stdout, NULL, _IOLBF, 0);
	v = calloc(t_count ? t_count : 1, sizeof(*v));
	if (!v)
		return 2;
	for (t = t_list; t; t = t->next)
		v[n++] = t;
	qsort(v, n, sizeof(*v), t_cmp);
	for (i = 0; i < n; i++) {
		if (filter && !strstr(v[i]->name, filter))
			continue;
		if (t_run(v[i], fork_mode, timeout)) {
			passed++;
			if (verbose)
				printf("ok %s\n", v[i]->name);
		} else {
			failed++;
		}
	}
	free(v);
	printf("%zu passed, %zu failed\n", passed, failed);
	return failed ? 1 : 0;
}

const char *t_slurp(const char *path)
{
	static char out[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return "(missing)";
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	return out;
}

void t_put(const char *path, const char *text, unsigned mode)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		FAILF("cannot create %s", path);
		return;
	}
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
}
