/*
 * conn.c - downstream HTTP/1.1 connection: reading heads and bodies,
 * enforcing limits and timeouts, writing answers, keep-alive, pipelining,
 * graceful close.
 *
 * Buffers: c->in holds raw bytes (at most CONN_HEAD_MAX + CONN_READ_CHUNK);
 * a parsed head stays at the front of c->in until the answer is queued, so
 * c->req's spans remain valid while the API layer runs.  Body bytes are
 * moved (or chunk-decoded) from c->in into c->body, a separate allocation
 * charged to the server-wide body budget and released as soon as the
 * request has been answered.  Pipelined requests simply stay in c->in.
 *
 * Writes are attempted directly after a response is queued (Redis style);
 * POLLOUT is only requested while bytes remain.  We stop parsing further
 * pipelined requests while more than CONN_OUT_HIGH bytes are unsent.
 *
 * Closing after an error: shutdown(SHUT_WR) then drain what the client
 * still sends for a while (LINGER), so the client reads our 4xx instead of
 * getting a reset with the answer unread.
 *
 * Who asks is settled when the head is parsed (env->head), before any body
 * byte is read or memory set aside for it; a 401/403 closes.  At the
 * connection cap, a keep-alive connection waiting for its next request or
 * one only lingering (conn_is_idle) gives its slot to a new client.
 *
 * A failed write only marks the connection CLOSING (conn.h): the slot is
 * reclaimed by reap() after the current callback, which also aborts the
 * answerer, so no caller checks whether a write closed the connection.
 * reap() also reads the next pipelined request once an answerer finished,
 * so a new request never starts inside the callback that ended the last.
 */
#define _GNU_SOURCE
#include "conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "fmt.h"
#include "log.h"
#include "rlog.h"

static void on_io(struct loop *l, struct loop_watch *w, int revents);
static void on_timer(struct loop *l, struct loop_timer *t);
static void process(struct conn *c);
static int flush_out(struct conn *c);

static const struct cfg *cfg_of(const struct conn *c)
{
	return c->env->cfg;
}

static void release_body(struct conn *c)
{
	if (c->body) {
		c->env->body_used -= (long)c->body_cap;
		free(c->body);
	}
	c->body = NULL;
	c->body_len = c->body_cap = 0;
	/* whatever the handler charged and did not give back */
	c->env->body_used -= c->charged;
	c->charged = 0;
}

int conn_charge(struct conn *c, long delta)
{
	if (delta < -c->charged)
		delta = -c->charged;
	c->charged += delta;
	c->env->body_used += delta;
	return delta > 0 && c->env->body_used > cfg_of(c)->max_body_total
		       ? -1 : 0;
}

static void reap(struct loop *l, struct loop_defer *d);

void conn_start(struct conn_env *e, struct conn *c, int fd, const char *peer)
{
	unsigned gen = c->gen + 1;

	memset(c, 0, sizeof(*c));
	c->gen = gen;
	c->env = e;
	c->reap.cb = reap;
	c->w.fd = fd;
	c->w.slot = -1;
	c->w.cb = on_io;
	c->t.slot = -1;
	c->t.cb = on_timer;
	c->state = CONN_HEAD;
	c->idle_at = loop_now(e->loop);
	buf_init(&c->in, CONN_HEAD_MAX + CONN_READ_CHUNK);
	buf_init(&c->out, CONN_OUT_MAX);
	fmt_snprintf(c->peer, sizeof(c->peer), "%s", peer);
	if (loop_add(e->loop, &c->w, POLLIN) < 0) {
		close(fd);
		c->state = CONN_FREE;
		e->released(e);
		return;
	}
	/* A new connection must deliver its first head in header-timeout. */
	loop_timer_set(e->loop, &c->t, cfg_of(c)->header_timeout_ms);
}

static int gone(const struct conn *c)
{
	return c->state == CONN_FREE || c->state == CONN_CLOSING;
}

void conn_dispatch_set(struct conn *c, const struct conn_dispatch *d,
		       void *owner)
{
	c->dsp = d;
	c->dsp_owner = owner;
}

void conn_close(struct conn *c)
{
	if (gone(c))
		return;
	c->state = CONN_CLOSING;
	c->streaming = 0;
	c->next_pending = 0;
	/* no more events: only the reclaim is left */
	loop_mute(c->env->loop, &c->w);
	loop_timer_cancel(c->env->loop, &c->t);
	loop_defer(c->env->loop, &c->reap);
}

void conn_close_now(struct conn *c)
{
	struct conn_env *e = c->env;
	const struct conn_dispatch *d = c->dsp;

	if (c->state == CONN_FREE)
		return;
	loop_defer_cancel(e->loop, &c->reap);
	c->state = CONN_CLOSING;
	c->dsp = NULL;
	if (d)
		d->abort(c->dsp_owner);
	rlog_close(&c->rlog);
	loop_del(e->loop, &c->w);
	loop_timer_cancel(e->loop, &c->t);
	close(c->w.fd);
	release_body(c);
	buf_free(&c->in);
	buf_free(&c->out);
	c->state = CONN_FREE;
	c->streaming = 0;
	c->gen++;
	e->released(e);
}

void conn_shutdown(struct conn *c)
{
	if (c->state == CONN_HEAD && buf_pending(&c->in) == 0 &&
	    buf_pending(&c->out) == 0) {
		conn_close(c);
		return;
	}
	c->keep_alive = 0;
	if (c->state == CONN_HEAD && buf_pending(&c->out) > 0)
		c->close_after = 1; /* answered; in-buffer holds no request */
}

int conn_is_idle(const struct conn *c)
{
	char b;
	if (c->state == CONN_LINGER)
		return 1; /* answered, only waiting for the client's close */
	if (c->state != CONN_HEAD || !c->answered || buf_pending(&c->in) ||
	    buf_pending(&c->out))
		return 0;
	/* a next request may be waiting in the socket, not read yet */
	return recv(c->w.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	       (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* ---- responses ----------------------------------------------------------- */

static void access_log(struct conn *c, int status, size_t bytes)
{
	int64_t ms = loop_now(c->env->loop) - c->t_start;
	if (!cfg_of(c)->access_log)
		return;
	log_info("%s \"%s %s\" %d %zu %lldms", c->peer,
		 c->method[0] ? c->method : "-", c->path[0] ? c->path : "-",
		 status, bytes, (long long)ms);
}

static void put_date(struct buf *b)
{
	static time_t last;
	static char date[96];
	time_t now = time(NULL);
	if (now != last) {
		struct tm tm;
		static const char wd[] = "SunMonTueWedThuFriSat",
				  mo[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
		gmtime_r(&now, &tm);
		/* fmt_snprintf, not strftime (it pulls musl's time zones) */
		fmt_snprintf(date, sizeof(date),
			     "Date: %.3s, %02d %.3s %04d %02d:%02d:%02d GMT\r\n",
			     wd + 3 * tm.tm_wday, tm.tm_mday, mo + 3 * tm.tm_mon,
			     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
		last = now;
	}
	buf_puts(b, date);
}

static void put_status_line(struct buf *o, int status)
{
	buf_puts(o, "HTTP/1.1 ");
	buf_putu(o, (unsigned long long)status);
	buf_putc(o, ' ');
	buf_puts(o, http_reason(status));
	buf_puts(o, "\r\n");
}

/* request-log: the head just put in out, from pending offset from on. */
static void log_response_head(struct conn *c, size_t from, int relayed)
{
	const struct buf *o = &c->out;
	const char *p = o->p + o->off + from, *end;
	if (!c->rlog || buf_pending(o) <= from)
		return;
	end = memmem(p, buf_pending(o) - from, "\r\n\r\n", 4);
	rlog_section(c->rlog, "RESPONSE", NULL);
	rlog_head_lines(c->rlog, p, end ? (size_t)(end - p)
				       : buf_pending(o) - from);
	if (relayed && rlog_relaying(c->rlog))
		rlog_body(c->rlog, "(body: the upstream's, relayed as it is)\n",
			  41);
}

void conn_respond(struct conn *c, int status, const char *ctype,
		  const char *extra_headers, const char *body, size_t len)
{
	struct buf *o = &c->out;
	size_t before = buf_pending(o);

	/* A refused client is not kept: its connection would hold a slot
	 * for idle-timeout, and its unread body would be read as a request. */
	if (c->env->stopping || status == 401 || status == 403)
		c->keep_alive = 0;
	put_status_line(o, status);
	buf_puts(o, "Server: cli-proxy-api\r\n");
	put_date(o);
	buf_puts(o, "Access-Control-Allow-Origin: *\r\n"
		    "Access-Control-Allow-Methods: GET, POST, PUT, PATCH, "
		    "DELETE, OPTIONS\r\n"
		    "Access-Control-Allow-Headers: *\r\n");
	if (extra_headers)
		buf_puts(o, extra_headers);
	if (ctype) {
		buf_puts(o, "Content-Type: ");
		buf_puts(o, ctype);
		buf_puts(o, "\r\n");
	}
	if (status != 204 && status >= 200) {
		buf_puts(o, "Content-Length: ");
		buf_putu(o, len);
		buf_puts(o, "\r\n");
	}
	buf_puts(o, c->keep_alive ? "Connection: keep-alive\r\n\r\n"
				  : "Connection: close\r\n\r\n");
	if (status != 204)
		buf_put(o, body, len);
	if (o->overflow) {
		/* Cannot happen for our bounded bodies; never send half. */
		o->overflow = 0;
		o->len = o->off + before;
		c->keep_alive = 0;
		buf_puts(o, "HTTP/1.1 500 Internal Server Error\r\n"
			    "Content-Length: 0\r\nConnection: close\r\n\r\n");
		status = 500;
		len = 0;
	}
	if (!c->keep_alive)
		c->close_after = 1;
	log_response_head(c, before, 0);
	if (status != 204 && len > 0) {
		rlog_section(c->rlog, "RESPONSE BODY", NULL);
		rlog_body(c->rlog, body, len);
	}
	access_log(c, status, len);
}

/* Error raised by the connection layer itself: answer, then close. */
static void fail(struct conn *c, int status, const char *msg)
{
	c->keep_alive = 0;
	if (!c->t_start)
		c->t_start = loop_now(c->env->loop);
	c->env->error(c, status, msg);
}

/* ---- request head -------------------------------------------------------- */

static void note_request_line(struct conn *c)
{
	const struct http_request *r = &c->req;
	size_t n = r->method_len, plen;
	const char *q;

	if (n >= sizeof(c->method))
		n = sizeof(c->method) - 1;
	memcpy(c->method, r->method, n);
	c->method[n] = '\0';
	/* The query string may carry ?key=: never log it. */
	q = memchr(r->target, '?', r->target_len);
	plen = q ? (size_t)(q - r->target) : r->target_len;
	if (plen >= sizeof(c->path))
		plen = sizeof(c->path) - 1;
	memcpy(c->path, r->target, plen);
	c->path[plen] = '\0';
}

/* Make room for want body bytes: exactly want for a Content-Length body,
 * doubling steps for a chunked one.  0 ok, else the status to answer. */
static int grow_body(struct conn *c, size_t want, int exact)
{
	struct conn_env *s = c->env;
	/* exact (a Content-Length body) keeps 256 bytes of slack, so the
	 * model rewrite of a pass-through body never reallocates */
	size_t ncap = exact ? want + 256 : c->body_cap ? c->body_cap : 16384;
	char *nb;

	while (ncap < want)
		ncap *= 2;
	if (ncap > (size_t)cfg_of(c)->max_body_size)
		ncap = (size_t)cfg_of(c)->max_body_size;
	if (ncap < want)
		return 413;
	if (s->body_used - (long)c->body_cap + (long)ncap >
	    cfg_of(c)->max_body_total)
		return 503;
	nb = realloc(c->body, ncap);
	if (!nb)
		return 503;
	s->body_used += (long)ncap - (long)c->body_cap;
	c->body = nb;
	c->body_cap = ncap;
	return 0;
}

static void body_limit_error(struct conn *c, int code)
{
	if (code == 413) {
		char msg[96];
		fmt_snprintf(msg, sizeof(msg), "request body is larger than "
			     "max-body-size (%ld bytes)", cfg_of(c)->max_body_size);
		fail(c, 413, msg);
	} else {
		fail(c, 503, "server is busy: too much request data in flight,"
		     " retry shortly");
	}
}

/* Validate the head and set up body reading.  0 ok, -1 answered. */
static int start_request(struct conn *c)
{
	const struct http_request *r = &c->req;
	const struct http_header *h, *te, *cl;
	size_t from = 0;
	int64_t len = -1;
	int code;

	note_request_line(c);
	c->keep_alive = r->minor_version == 1;
	if ((h = http_find_header(r, "connection", NULL)) != NULL) {
		if (http_value_has_token(h->value, h->value_len, "close"))
			c->keep_alive = 0;
		else if (http_value_has_token(h->value, h->value_len,
					      "keep-alive"))
			c->keep_alive = 1;
	}
	if (c->env->stopping)
		c->keep_alive = 0;
	/* Who asks, before anything is read or set aside for a body: a
	 * client without a key holds neither a slot nor memory. */
	if (c->env->head(c) < 0)
		return -1;

	switch (http_transfer_codings(r->headers, r->num_headers)) {
	case HTTP_TE_INVALID:
		fail(c, 400, "Transfer-Encoding must end with chunked, once "
		     "(its header lines are one list)");
		return -1;
	case HTTP_TE_OTHER:
		fail(c, 501, "only the chunked transfer-coding is supported");
		return -1;
	}
	te = http_find_header(r, "transfer-encoding", NULL);
	while ((cl = http_find_header(r, "content-length", &from)) != NULL) {
		int64_t v = http_parse_length(cl->value, cl->value_len);
		if (v < 0 || (len >= 0 && v != len)) {
			fail(c, 400, "invalid Content-Length");
			return -1;
		}
		len = v;
	}
	if (te && len >= 0) {
		fail(c, 400, "both Transfer-Encoding and Content-Length");
		return -1;
	}
	if (te) {
		if (r->minor_version == 0) {
			fail(c, 400, "chunked body in an HTTP/1.0 request");
			return -1;
		}
		c->chunked = 1;
		http_chunked_init(&c->ch);
		code = grow_body(c, cfg_of(c)->max_body_size < 16384
					 ? (size_t)cfg_of(c)->max_body_size
					 : 16384, 0);
		if (code) {
			body_limit_error(c, code);
			return -1;
		}
	} else if (len > 0) {
		if (len > cfg_of(c)->max_body_size) {
			body_limit_error(c, 413);
			return -1;
		}
		if ((code = grow_body(c, (size_t)len, 1)) != 0) {
			body_limit_error(c, code);
			return -1;
		}
		c->body_left = len;
	}
	h = http_find_header(r, "expect", NULL);
	if (h && r->minor_version == 1 &&
	    http_span_eq(h->value, h->value_len, "100-continue") &&
	    (c->chunked || c->body_left > 0))
		c->expect_continue = 1;
	return 0;
}

/* Parse a head from c->in.  1 = request ready, 0 = need more, -1 = failed. */
static int read_head(struct conn *c)
{
	size_t avail = buf_pending(&c->in);
	int n;

	if (avail == 0)
		return 0;
	n = http_parse_request(c->in.p + c->in.off,
			       avail > CONN_HEAD_MAX ? CONN_HEAD_MAX : avail,
			       &c->req);
	if (n == HTTP_PARTIAL) {
		if (avail >= CONN_HEAD_MAX) {
			fail(c, 431, "request head is larger than 16384 bytes");
			return -1;
		}
		return 0;
	}
	if (!c->t_start)
		c->t_start = loop_now(c->env->loop);
	if (n == HTTP_TOO_MANY_HEADERS) {
		fail(c, 431, "too many header lines");
		return -1;
	}
	if (n < 0) {
		fail(c, 400, "malformed request");
		return -1;
	}
	c->head_len = (size_t)n;
	c->head_at = c->in.p + c->in.off;
	if (log_debug_on()) {
		const struct http_header *ua, *cl;
		ua = http_find_header(&c->req, "user-agent", NULL);
		cl = http_find_header(&c->req, "content-length", NULL);
		log_debug("%s request head: %zu bytes, %zu headers, "
			  "user-agent '%.*s', content-length %.*s", c->peer,
			  c->head_len, c->req.num_headers,
			  ua ? (int)(ua->value_len > 80 ? 80 : ua->value_len) : 1,
			  ua ? ua->value : "-", cl ? (int)cl->value_len : 1,
			  cl ? cl->value : "-");
	}
	if (start_request(c) < 0)
		return -1;
	return 1;
}

/* Move body bytes from c->in (after the head) into c->body.
 * 1 = complete, 0 = need more, -1 = failed (answered). */
static int read_body(struct conn *c)
{
	char *src = c->in.p + c->in.off + c->head_len;
	size_t avail = buf_pending(&c->in) - c->head_len;

	if (!c->chunked) {
		size_t n = avail < (size_t)c->body_left ? avail
							: (size_t)c->body_left;
		memcpy(c->body + c->body_len, src, n);
		c->body_len += n;
		c->body_left -= (int64_t)n;
		/* Keep the head in place; drop the body bytes we took. */
		memmove(src, src + n, avail - n);
		c->in.len -= n;
		return c->body_left == 0 ? 1 : 0;
	}
	for (;;) {
		size_t used = 0, got = 0, max = (size_t)cfg_of(c)->max_body_size;
		int rc, code;

		rc = http_chunked_decode(&c->ch, src, avail, &used,
					 c->body + c->body_len,
					 c->body_cap - c->body_len, &got);
		if (rc < 0) {
			fail(c, 400, "invalid chunked body");
			return -1;
		}
		c->body_len += got;
		memmove(src, src + used, avail - used);
		c->in.len -= used;
		avail -= used;
		if (rc == 1)
			return 1;
		if (avail == 0)
			return 0; /* need input */
		/* Input left but the decoder stopped: the body buffer is full. */
		code = c->body_len >= max ? 413
			: grow_body(c, c->body_len + 4096 < max
					? c->body_len + 4096 : max, 0);
		if (code) {
			body_limit_error(c, code);
			return -1;
		}
	}
}

/* The current request is answered: drop it from the buffers. */
static void request_done(struct conn *c)
{
	rlog_close(&c->rlog);
	buf_consume(&c->in, c->head_len);
	c->head_len = 0;
	release_body(c);
	c->body_left = 0;
	c->chunked = 0;
	c->expect_continue = 0;
	c->t_start = 0;
	c->method[0] = c->path[0] = '\0';
	c->state = CONN_HEAD;
	c->idle_at = loop_now(c->env->loop);
	c->answered++;
	c->env->idle(c->env);
}

/* Request fully received: the handler answers it now, or fills the
 * dispatch slot and answers later. */
static void dispatch(struct conn *c)
{
	/* Reads since the head was parsed may have moved c->in (compaction,
	 * realloc): then parse the head again so c->req points at live
	 * bytes. */
	if (c->head_at != c->in.p + c->in.off)
		http_parse_request(c->in.p + c->in.off, c->head_len, &c->req);
	if (cfg_of(c)->request_log)
		c->rlog = rlog_open(cfg_of(c)->path, c->req.method,
				    c->req.method_len, c->req.target,
				    c->req.target_len, c->req.headers,
				    c->req.num_headers, c->body, c->body_len);
	c->env->request(c);
	if (c->dsp && c->state == CONN_BODY) {
		c->state = CONN_BUSY;
		return;
	}
	if (!gone(c))
		request_done(c);
}

void conn_request_finished(struct conn *c)
{
	c->dsp = NULL;
	c->dsp_owner = NULL;
	if (c->state != CONN_BUSY)
		return; /* answered inside the handler (dispatch goes on), or
			   closing */
	request_done(c);
	c->next_pending = 1;
	loop_defer(c->env->loop, &c->reap);
}

void conn_body_release(struct conn *c)
{
	release_body(c);
}

int conn_body_reserve(struct conn *c, size_t n)
{
	if (n <= c->body_cap)
		return 0;
	return grow_body(c, n, 1) ? -1 : 0;
}

int conn_out_full(const struct conn *c)
{
	/* a closing connection takes nothing more: its answerer stops
	 * reading upstream until the reclaim aborts it */
	return gone(c) || buf_pending(&c->out) >= CONN_OUT_HIGH;
}

void conn_stream_begin(struct conn *c, int status, const char *ctype,
		       const char *extra_headers, int64_t content_length)
{
	struct buf *o = &c->out;
	size_t before = buf_pending(o);

	if (gone(c))
		return;
	if (c->env->stopping)
		c->keep_alive = 0;
	c->stream_length = content_length;
	c->stream_chunked = content_length < 0 && c->req.minor_version >= 1;
	if (content_length < 0 && !c->stream_chunked)
		c->keep_alive = 0; /* HTTP/1.0: the close ends the body */
	put_status_line(o, status);
	buf_puts(o, "Server: cli-proxy-api\r\n");
	put_date(o);
	buf_puts(o, "Access-Control-Allow-Origin: *\r\n");
	if (extra_headers)
		buf_puts(o, extra_headers);
	buf_puts(o, "Content-Type: ");
	buf_puts(o, ctype);
	buf_puts(o, "\r\n");
	if (c->stream_chunked) {
		buf_puts(o, "Transfer-Encoding: chunked\r\n");
	} else if (content_length >= 0) {
		buf_puts(o, "Content-Length: ");
		buf_putu(o, (unsigned long long)content_length);
		buf_puts(o, "\r\n");
	}
	buf_puts(o, c->keep_alive ? "Connection: keep-alive\r\n\r\n"
				  : "Connection: close\r\n\r\n");
	c->streaming = 1;
	c->stream_status = status;
	c->stream_bytes = 0;
	log_response_head(c, before, 1);
}

void conn_flush(struct conn *c)
{
	if (!gone(c))
		flush_out(c);
}

void conn_stream_write(struct conn *c, const char *p, size_t n)
{
	struct buf *o = &c->out;
	if (n == 0 || !c->streaming || gone(c))
		return;
	if (c->stream_length >= 0 &&
	    c->stream_bytes + n > (uint64_t)c->stream_length)
		n = (size_t)((uint64_t)c->stream_length - c->stream_bytes);
	rlog_stream(c->rlog, RLOG_CLIENT, p, n);
	if (buf_pending(o) + n + 32 > o->max) {
		/* A piece larger than the usual cap (a whole translated
		 * answer, a huge tool call): send what is queued, then let the
		 * buffer hold this piece; backpressure keeps it from growing
		 * further while the client reads. */
		if (flush_out(c) < 0)
			return;
		if (buf_pending(o) + n + 32 > o->max)
			o->max = buf_pending(o) + n + 32;
	}
	if (c->stream_chunked) {
		char hex[20];
		int k = (int)sizeof(hex);
		size_t v = n;
		hex[--k] = '\n';
		hex[--k] = '\r';
		do {
			hex[--k] = "0123456789abcdef"[v & 15];
			v >>= 4;
		} while (v);
		buf_put(o, hex + k, sizeof(hex) - (size_t)k);
		buf_put(o, p, n);
		buf_puts(o, "\r\n");
	} else {
		buf_put(o, p, n);
	}
	c->stream_bytes += n;
	if (buf_pending(o) >= CONN_OUT_HIGH)
		flush_out(c);
}

void conn_stream_end(struct conn *c)
{
	if (!c->streaming || gone(c))
		return;
	if (c->stream_chunked)
		buf_puts(&c->out, "0\r\n\r\n");
	else if (c->stream_length < 0 ||
		 c->stream_bytes != (uint64_t)c->stream_length)
		c->close_after = 1; /* close-delimited, or short: close */
	c->streaming = 0;
	if (!c->keep_alive)
		c->close_after = 1;
	if (c->out.max > CONN_OUT_MAX && buf_pending(&c->out) <= CONN_OUT_MAX)
		c->out.max = CONN_OUT_MAX;
	access_log(c, c->stream_status, c->stream_bytes);
}

void conn_stream_abort(struct conn *c)
{
	if (gone(c))
		return;
	access_log(c, c->streaming ? c->stream_status : 502, c->stream_bytes);
	c->streaming = 0;
	c->keep_alive = 0;
	c->close_after = 1;
	c->dsp = NULL;
	c->dsp_owner = NULL;
	/* No terminating chunk: the client sees a truncated answer. */
	if (c->state == CONN_BUSY)
		request_done(c);
	flush_out(c);
}

static void set_state_timer(struct conn *c)
{
	const struct cfg *cfg = cfg_of(c);
	struct loop *l = c->env->loop;

	if (buf_pending(&c->out) > 0) {
		loop_timer_set(l, &c->t, cfg->write_timeout_ms);
	} else if (c->state == CONN_BUSY) {
		loop_timer_cancel(l, &c->t); /* upstream timeouts govern */
	} else if (c->state == CONN_BODY) {
		loop_timer_set(l, &c->t, cfg->body_timeout_ms);
	} else if (c->state == CONN_HEAD && buf_pending(&c->in) == 0) {
		loop_timer_set(l, &c->t, cfg->idle_timeout_ms);
	}
	/* HEAD with partial bytes: the header timer keeps running from the
	 * first byte (armed in on_read), so a trickle cannot extend it. */
}

/* Run the state machine as far as the buffered input allows. */
static void process(struct conn *c)
{
	for (;;) {
		/* Only HEAD and BODY make progress here. */
		if (c->close_after ||
		    (c->state != CONN_HEAD && c->state != CONN_BODY))
			break;
		if (c->state == CONN_HEAD) {
			int rc;
			if (buf_pending(&c->out) >= CONN_OUT_HIGH) {
				/* Pipelined requests wait while the client
				 * has much unread output; a flush may free
				 * room right now (nothing else would wake us
				 * if the client already sent everything). */
				if (flush_out(c) < 0)
					return;
				if (buf_pending(&c->out) >= CONN_OUT_HIGH ||
				    c->state != CONN_HEAD)
					break;
			}
			rc = read_head(c);
			if (rc <= 0)
				break;
			c->state = CONN_BODY;
			if (c->expect_continue &&
			    buf_pending(&c->in) == c->head_len)
				buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
		}
		if (c->state == CONN_BODY) {
			int rc = (c->chunked || c->body_left > 0) ? read_body(c)
								  : 1;
			if (rc < 0)
				break;
			if (rc == 0) {
				loop_timer_set(c->env->loop, &c->t,
					       cfg_of(c)->body_timeout_ms);
				break;
			}
			dispatch(c);
			if (buf_pending(&c->in) > 0)
				loop_timer_set(c->env->loop, &c->t,
					       cfg_of(c)->header_timeout_ms);
		}
	}
	if (gone(c) || flush_out(c) < 0)
		return;
	if (c->state != CONN_LINGER)
		set_state_timer(c);
}

/* ---- I/O ----------------------------------------------------------------- */

static void start_linger(struct conn *c)
{
	shutdown(c->w.fd, SHUT_WR);
	c->state = CONN_LINGER;
	c->idle_at = loop_now(c->env->loop);
	c->env->idle(c->env);
	c->linger_bytes = 0;
	buf_reset(&c->in);
	loop_mod(c->env->loop, &c->w, POLLIN);
	loop_timer_set(c->env->loop, &c->t, CONN_LINGER_MS);
}

/* Write what we can.  0 ok (maybe more pending), -1 connection closed. */
static int flush_out(struct conn *c)
{
	struct buf *o = &c->out;

	while (buf_pending(o) > 0) {
		ssize_t n = send(c->w.fd, o->p + o->off, buf_pending(o),
				 MSG_NOSIGNAL);
		if (n > 0) {
			buf_consume(o, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			loop_mod(c->env->loop, &c->w, POLLIN | POLLOUT);
			if (c->state == CONN_BUSY &&
			    !loop_timer_armed(&c->t))
				loop_timer_set(c->env->loop, &c->t,
					       cfg_of(c)->write_timeout_ms);
			return 0;
		}
		conn_close(c);
		return -1;
	}
	if (c->close_after && c->state != CONN_LINGER && c->state != CONN_BUSY) {
		start_linger(c);
		return 0;
	}
	loop_mod(c->env->loop, &c->w, POLLIN);
	if (c->state == CONN_BUSY)
		loop_timer_cancel(c->env->loop, &c->t);
	return 0;
}

static void on_read(struct conn *c)
{
	int was_empty = buf_pending(&c->in) == 0;
	size_t room = buf_reserve(&c->in, CONN_READ_CHUNK);
	ssize_t n;

	if (c->state == CONN_LINGER) {
		char sink[4096];
		n = recv(c->w.fd, sink, sizeof(sink), 0);
		if (n > 0 && (c->linger_bytes += (size_t)n) < CONN_LINGER_BYTES)
			return;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_close(c);
		return;
	}
	if (room == 0) {
		/* Input full while we wait for the client to read output:
		 * stop reading until output drains (backpressure). */
		loop_mod(c->env->loop, &c->w, POLLOUT);
		return;
	}
	n = recv(c->w.fd, c->in.p + c->in.len, room, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* Client closed (or reset).  Whatever was half-sent is lost
		 * with it; there is nobody left to answer. */
		if (buf_pending(&c->in) > 0)
			log_debug("%s closed with %zu bytes of an unfinished "
				  "request", c->peer, buf_pending(&c->in));
		conn_close(c);
		return;
	}
	c->in.len += (size_t)n;
	if (was_empty && c->state == CONN_HEAD)
		loop_timer_set(c->env->loop, &c->t,
			       cfg_of(c)->header_timeout_ms);
	process(c);
}

static void on_io(struct loop *l, struct loop_watch *w, int revents)
{
	struct conn *c = container_of(w, struct conn, w);
	(void)l;

	if (gone(c))
		return;
	if (revents & (POLLERR | POLLNVAL)) {
		conn_close(c);
		return;
	}
	if (revents & POLLOUT) {
		if (flush_out(c) < 0)
			return;
		if (c->state == CONN_BUSY && c->dsp && !conn_out_full(c))
			c->dsp->drained(c->dsp_owner); /* may finish it */
		if (gone(c))
			return;
		if (buf_pending(&c->out) == 0 && c->state != CONN_LINGER &&
		    c->state != CONN_BUSY)
			process(c); /* pipelined requests waiting on output */
		if (gone(c))
			return;
	}
	if (revents & (POLLIN | POLLHUP))
		on_read(c);
}

static void on_timer(struct loop *l, struct loop_timer *t)
{
	struct conn *c = container_of(t, struct conn, t);
	(void)l;

	if (c->state == CONN_LINGER || buf_pending(&c->out) > 0) {
		conn_close(c); /* linger over, or the client stopped reading */
		return;
	}
	if (c->state == CONN_HEAD && buf_pending(&c->in) == 0) {
		conn_close(c); /* idle: close quietly */
		return;
	}
	if (c->state == CONN_HEAD && !c->path[0]) {
		/* Partial head: take what we can of the request line for the
		 * access log and the error format. */
		const char *p = c->in.p + c->in.off;
		size_t n = buf_pending(&c->in), i = 0, s;
		while (i < n && p[i] != ' ')
			i++;
		s = ++i;
		while (i < n && p[i] != ' ' && p[i] != '?' && p[i] != '\r' &&
		       p[i] != '\n' && i - s < sizeof(c->path) - 1)
			i++;
		if (s < n && p[s] == '/') {
			memcpy(c->path, p + s, i - s);
			c->path[i - s] = '\0';
		}
	}
	fail(c, 408, c->state == CONN_BODY ? "timed out reading the request "
					     "body"
					   : "timed out reading the request "
					     "head");
	flush_out(c);
}

/* After the callback that closed the connection or finished its answer:
 * reclaim it, or read the next pipelined request. */
static void reap(struct loop *l, struct loop_defer *d)
{
	struct conn *c = container_of(d, struct conn, reap);
	(void)l;

	if (c->state == CONN_CLOSING) {
		conn_close_now(c);
		return;
	}
	if (!c->next_pending)
		return;
	c->next_pending = 0;
	if (c->close_after && buf_pending(&c->out) == 0) {
		flush_out(c); /* starts the lingering close */
		return;
	}
	process(c);
}

int conn_peer_is_loopback(const struct conn *c)
{
	return !strncmp(c->peer, "127.", 4) || !strncmp(c->peer, "[::1]", 5) ||
	       !strncmp(c->peer, "[::ffff:127.", 12);
}
