/*
 * t.h - a tiny unit-test framework (C99 + GNU constructor attribute).
 *
 *   #include "t.h"
 *   TEST(span_eq_ignores_case) {
 *           CHECK(http_span_eq("Host", 4, "host"));
 *           CHECK_EQ_INT(http_parse_length("12", 2), 12);
 *   }
 *
 * TEST(name) defines a test and registers it (via a constructor) in a list
 * that main.c runs in file/line order.  The CHECK* macros record a failure
 * ("FAIL name: file:line: expr ...") and continue; each is an expression
 * that is nonzero when the check passed, so a test can stop early with
 * REQUIRE(cond) (or `if (!CHECK(x)) return;`).
 *
 * Running: ./ut [substring]  runs every test (or those whose name contains
 * substring) and ends with one line "N passed, N failed" (tests, not
 * checks); the exit status is 0 iff nothing failed.  Each test runs in a
 * forked child so a crash (guard page, sanitizer, abort) or a hang fails
 * only that test.  Environment:
 *   T_NOFORK=1     run tests in-process (for gdb)
 *   T_TIMEOUT=sec  per-test time limit in fork mode (default 30)
 *   T_SEED=n       value returned by t_seed() instead of its default
 *   T_VERBOSE=1    also print "ok name" for passing tests
 */
#ifndef T_H
#define T_H

#include <stddef.h>
#include <stdint.h>

struct t_test {
	const char *name;
	void (*fn)(void);
	const char *file;
	int line;
	struct t_test *next;
};

void t_register(struct t_test *t);

#define T_CAT_(a, b) a##b
#define T_CAT(a, b) T_CAT_(a, b)

#define TEST(name)                                                           \
	static void T_CAT(t_fn_, name)(void);                                \
	static struct t_test T_CAT(t_rec_, name) = {                         \
		#name, T_CAT(t_fn_, name), __FILE__, __LINE__, 0};           \
	__attribute__((constructor)) static void T_CAT(t_reg_, name)(void)   \
	{                                                                    \
		t_register(&T_CAT(t_rec_, name));                            \
	}                                                                    \
	static void T_CAT(t_fn_, name)(void)

/* ---- checks (each returns nonzero when it passed) ---- */

int t_check(int ok, const char *file, int line, const char *expr);
int t_check_int(long long a, long long b, const char *file, int line,
		const char *ea, const char *eb);
int t_check_str(const char *a, const char *b, const char *file, int line,
		const char *ea, const char *eb);
int t_check_mem(const void *a, size_t alen, const void *b, size_t blen,
		const char *file, int line, const char *ea, const char *eb);

#define CHECK(cond) t_check(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_EQ_INT(a, b)                                                   \
	t_check_int((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b)
#define CHECK_EQ_STR(a, b) t_check_str((a), (b), __FILE__, __LINE__, #a, #b)
/* span (ptr, len) equals a string literal (or any NUL-terminated string) */
#define CHECK_SPAN(ptr, len, lit)                                            \
	t_check_mem((ptr), (len), (lit), t_strlen_(lit), __FILE__, __LINE__,  \
		    #ptr, #lit)
/* two spans are equal */
#define CHECK_EQ_MEM(a, alen, b, blen)                                       \
	t_check_mem((a), (alen), (b), (blen), __FILE__, __LINE__, #a, #b)

/* Stop the current test (a void function) when cond fails. */
#define REQUIRE(cond)                                                        \
	do {                                                                 \
		if (!CHECK(cond))                                            \
			return;                                              \
	} while (0)

/* Record a failure with a printf-style message. */
void t_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define FAILF(...) t_fail(__FILE__, __LINE__, __VA_ARGS__)

/* Failures recorded so far in the current test. */
int t_failures(void);
/* Name of the running test. */
const char *t_name(void);

size_t t_strlen_(const char *s);

/* Printable form of a span ("\r\n" -> "\\r\\n", cut to ~200 chars).  The
 * result lives in one of a few rotating static buffers. */
const char *t_esc(const void *p, size_t n);

#define T_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- deterministic PRNG (xorshift64*) ---- */

struct t_rng {
	uint64_t s;
};
void t_rng_seed(struct t_rng *r, uint64_t seed);
uint64_t t_rng_next(struct t_rng *r);
/* uniform-ish in [0, n); 0 when n == 0 */
size_t t_rng_below(struct t_rng *r, size_t n);
/* a piece length in [1, remaining], biased toward small pieces; 0 when
 * remaining == 0.  Use to cut an input into random splits. */
size_t t_rng_piece(struct t_rng *r, size_t remaining);
/* dflt, or the value of the environment variable T_SEED when set */
uint64_t t_seed(uint64_t dflt);

/* ---- guarded buffers ---- */

/* Writable copy of p[0..n) ending exactly at a PROT_NONE page: a read or
 * write past the end faults.  n may be 0 (then any access faults). */
void *t_guarded_copy(const void *p, size_t n);
/* Zero-filled guarded buffer of n bytes (e.g. an output buffer). */
void *t_guarded_alloc(size_t n);
/* Whole content of path, up to 4 KB, in a static buffer ("(missing)"
 * when it cannot be read). */
const char *t_slurp(const char *path);
/* Create path with text and mode (a failure is a test failure). */
void t_put(const char *path, const char *text, unsigned mode);

/* Free a buffer from t_guarded_copy/t_guarded_alloc; NULL is ignored. */
void t_guarded_free(void *p);

#endif
