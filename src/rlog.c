/*
 * rlog.c - per-request log files (request-log = true); see rlog.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "rlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"

struct rlog {
	int fd;
	size_t nbuf; /* bytes in buf, not yet written */
	size_t bytes;
	int cut;     /* RLOG_MAX reached: nothing more is written */
	int cur;     /* stream whose bytes were written last (RLOG_*), or 0 */
	int seen;    /* streams whose section was opened before (bits) */
	int relay;   /* pass-through: the client body is the upstream's */
	char buf[4096];
};

/* Buffered like the stdio this replaced: a write per 4 KB, not per
 * piece; write errors are ignored (a log must not fail a request). */
static void out(struct rlog *r, const char *p, size_t n)
{
	if (r->nbuf + n > sizeof(r->buf)) {
		(void)fmt_write(r->fd, r->buf, r->nbuf);
		r->nbuf = 0;
		if (n > sizeof(r->buf)) {
			(void)fmt_write(r->fd, p, n);
			return;
		}
	}
	memcpy(r->buf + r->nbuf, p, n);
	r->nbuf += n;
}

static void put(struct rlog *r, const char *p, size_t n)
{
	if (r->cut || n == 0)
		return;
	if (r->bytes + n > RLOG_MAX) {
		static const char note[] = "\n[request log cut at its size cap]\n";
		out(r, p, RLOG_MAX - r->bytes);
		out(r, note, sizeof(note) - 1);
		r->cut = 1;
		return;
	}
	out(r, p, n);
	r->bytes += n;
}

static void puts_(struct rlog *r, const char *s) { put(r, s, strlen(s)); }

static int secret_header(const char *name, size_t n)
{
	static const char *const names[] = {
		"authorization", "proxy-authorization", "x-api-key",
		"x-goog-api-key", "api-key", "cookie", "set-cookie", NULL};
	size_t i;
	for (i = 0; names[i]; i++)
		if (http_span_eq(name, n, names[i]))
			return 1;
	return 0;
}

static void header(struct rlog *r, const char *name, size_t nn,
		   const char *value, size_t vn, int hide)
{
	put(r, name, nn);
	puts_(r, ": ");
	if (hide || secret_header(name, nn))
		puts_(r, "[redacted]");
	else
		put(r, value, vn);
	puts_(r, "\n");
}

/* The request target with credential query parameters redacted. */
static void target(struct rlog *r, const char *t, size_t n)
{
	static const char *const keys[] = {"key", "api_key", "access_token",
					   NULL};
	const char *q = memchr(t, '?', n);
	size_t i;

	if (!q) {
		put(r, t, n);
		return;
	}
	put(r, t, (size_t)(q - t) + 1);
	i = (size_t)(q - t) + 1;
	while (i < n) {
		const char *p = t + i, *amp = memchr(p, '&', n - i);
		size_t len = amp ? (size_t)(amp - p) : n - i, k;
		const char *eq = memchr(p, '=', len);
		int secret = 0;
		for (k = 0; eq && keys[k]; k++)
			if ((size_t)(eq - p) == strlen(keys[k]) &&
			    !memcmp(p, keys[k], (size_t)(eq - p)))
				secret = 1;
		if (secret) {
			put(r, p, (size_t)(eq - p) + 1);
			puts_(r, "[redacted]");
		} else {
			put(r, p, len);
		}
		i += len;
		if (amp) {
			puts_(r, "&");
			i++;
		}
	}
}

/* logs/<sanitised path>-<ns>.log beside the config; 0600, never an
 * existing file. */
static int create(const char *config_path, const char *t, size_t n)
{
	char dir[4096], name[160], path[4400];
	const char *slash = config_path ? strrchr(config_path, '/') : NULL;
	size_t i, k = 0;
	struct timespec ts;
	int fd = -1, tries;

	if (slash && (size_t)(slash - config_path) < sizeof(dir) - 6)
		fmt_snprintf(dir, sizeof(dir), "%.*s/logs",
			     (int)(slash - config_path), config_path);
	else
		fmt_snprintf(dir, sizeof(dir), "logs");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	for (i = 0; i < n && t[i] != '?' && k < 80; i++) {
		unsigned char c = (unsigned char)t[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9');
		if (alnum)
			name[k++] = (char)c;
		else if (k > 0 && name[k - 1] != '-')
			name[k++] = '-';
	}
	while (k > 0 && name[k - 1] == '-')
		k--;
	if (k == 0) {
		memcpy(name, "root", 4);
		k = 4;
	}
	name[k] = '\0';
	clock_gettime(CLOCK_REALTIME, &ts);
	for (tries = 0; tries < 8 && fd < 0; tries++) {
		int m = fmt_snprintf(path, sizeof(path), "%s/%s-%lld%09ld", dir,
				     name, (long long)ts.tv_sec, ts.tv_nsec);
		fmt_snprintf(path + m, sizeof(path) - (size_t)m,
			     tries ? "-%d.log" : ".log", tries);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return -1;
	}
	return fd;
}

struct rlog *rlog_open(const char *config_path, const char *method,
		       size_t method_len, const char *t, size_t t_len,
		       const struct http_header *hs, size_t nh,
		       const char *body, size_t body_len)
{
	struct rlog *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if ((r->fd = create(config_path, t, t_len)) < 0) {
		log_warn("request-log: cannot create a log file: %s",
			 strerror(errno));
		free(r);
		return NULL;
	}
	puts_(r, "=== REQUEST ===\n");
	put(r, method, method_len);
	puts_(r, " ");
	target(r, t, t_len);
	puts_(r, "\n");
	rlog_headers(r, hs, nh);
	puts_(r, "\n");
	put(r, body, body_len);
	puts_(r, "\n");
	return r;
}

void rlog_section(struct rlog *r, const char *title, const char *text)
{
	if (!r)
		return;
	r->cur = 0;
	puts_(r, "\n=== ");
	puts_(r, title);
	puts_(r, " ===\n");
	if (text)
		puts_(r, text);
}

void rlog_headers(struct rlog *r, const struct http_header *hs, size_t nh)
{
	size_t i;
	if (!r)
		return;
	for (i = 0; i < nh; i++)
		header(r, hs[i].name, hs[i].name_len, hs[i].value,
		       hs[i].value_len, 0);
}

static void head_lines(struct rlog *r, const char *p, size_t n, int hide)
{
	size_t i = 0;
	if (!r)
		return;
	while (i < n) {
		const char *l = p + i, *nl = memchr(l, '\n', n - i);
		size_t len = nl ? (size_t)(nl - l) : n - i, nn, v;
		const char *colon;
		i += len + (nl != NULL);
		if (len > 0 && l[len - 1] == '\r')
			len--;
		if (len == 0)
			continue;
		if (!(colon = memchr(l, ':', len))) {
			put(r, l, len);
			puts_(r, "\n");
			continue;
		}
		nn = (size_t)(colon - l);
		for (v = nn + 1; v < len && (l[v] == ' ' || l[v] == '\t'); v++)
			;
		header(r, l, nn, l + v, len - v, hide);
	}
}

void rlog_head_lines(struct rlog *r, const char *p, size_t n)
{
	head_lines(r, p, n, 0);
}

void rlog_head_names(struct rlog *r, const char *p, size_t n)
{
	head_lines(r, p, n, 1);
}

void rlog_body(struct rlog *r, const char *p, size_t n)
{
	if (r)
		put(r, p, n);
}

void rlog_stream(struct rlog *r, int which, const char *p, size_t n)
{
	if (!r || n == 0 || (which == RLOG_CLIENT && r->relay))
		return;
	if (r->cur != which) {
		rlog_section(r, which == RLOG_UPSTREAM
					? (r->seen & which
						   ? "UPSTREAM RESPONSE BODY "
						     "(continued)"
						   : "UPSTREAM RESPONSE BODY")
					: (r->seen & which
						   ? "RESPONSE BODY (continued)"
						   : "RESPONSE BODY"),
			     NULL);
		r->cur = which;
		r->seen |= which;
	}
	put(r, p, n);
}

void rlog_relay(struct rlog *r)
{
	if (r)
		r->relay = 1;
}

int rlog_relaying(const struct rlog *r)
{
	return r && r->relay;
}

void rlog_close(struct rlog **rp)
{
	struct rlog *r = *rp;
	if (!r)
		return;
	*rp = NULL;
	puts_(r, "\n");
	(void)fmt_write(r->fd, r->buf, r->nbuf);
	close(r->fd);
	free(r);
}
