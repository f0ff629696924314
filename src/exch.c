/*
 * exch.c - proxied exchanges (see exch.h).
 *
 * Attempt loop (as nginx's upstream_next): an attempt picks the provider's
 * next key (round-robin cursor per provider), and sends the request.  While
 * nothing has been sent to the client, a failure may start another
 * attempt: connection-level failures and statuses 403/408/500/502/503/504
 * count against request-retry; 429 moves to the next key without counting
 * when quota-exceeded.switch-project is on, once per key.  The first
 * upstream status that is final is relayed: 2xx streams through, other
 * statuses pass through with their body (the provider speaks the client's
 * format already).
 *
 * Streams are cut at SSE event boundaries: bytes after the last complete
 * event wait in x->tail, so if the upstream breaks mid-event the client
 * still gets whole events followed by one error event and the stream's
 * terminator.  Nothing is allocated per chunk: the tail buffer grows once
 * to the largest partial event seen.
 */
#define _GNU_SOURCE
#include "exch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cfg.h"
#include "conn.h"
#include "hc.h"
#include "log.h"
#include "srv.h"
#include "url.h"

#define TAIL_MAX (256 * 1024)

static const struct hc_ops compat_ops;

static struct conn *conn_of(struct exch *x)
{
	return container_of(x, struct conn, x);
}

/* Round-robin cursors, one per provider, reset when the config changes. */
static struct {
	unsigned gen;
	size_t n;
	unsigned *cur;
} RR;

static unsigned next_key_index(struct srv *s, size_t prov, size_t nkeys)
{
	if (RR.gen != s->cfg_gen || RR.n != s->cfg.n_compat) {
		free(RR.cur);
		RR.n = s->cfg.n_compat;
		RR.cur = calloc(RR.n ? RR.n : 1, sizeof(*RR.cur));
		RR.gen = s->cfg_gen;
		if (!RR.cur)
			return 0;
	}
	return nkeys ? RR.cur[prov]++ % (unsigned)nkeys : 0;
}

static const struct cfg_compat *find_provider(struct srv *s, const char *name,
					      size_t *idx)
{
	size_t i;
	for (i = 0; i < s->cfg.n_compat; i++)
		if (!strcmp(s->cfg.compat[i].name, name)) {
			*idx = i;
			return &s->cfg.compat[i];
		}
	return NULL;
}

static void finish(struct exch *x)
{
	struct conn *c = conn_of(x);
	x->active = 0;
	x->hc = NULL;
	buf_free(&x->tail);
	if (!x->starting) /* else the dispatcher finishes the request */
		conn_request_finished(c);
}

/* Answer with an error before anything was sent, and end. */
static void fail_before_start(struct exch *x, int status, const char *msg)
{
	struct conn *c = conn_of(x);
	api_error(c, x->fmt, status, msg);
	finish(x);
}

/* Well-formed end of a stream that broke after it started. */
static void fail_after_start(struct exch *x, const char *msg)
{
	struct conn *c = conn_of(x);
	if (x->stream && x->upstream_ok) {
		struct buf *b = &c->srv->scratch;
		buf_reset(b);
		buf_puts(b, "data: ");
		api_render_error(b, API_OPENAI, 502, msg);
		buf_puts(b, "\n\ndata: [DONE]\n\n");
		conn_stream_write(c, b->p, b->len);
		if (!x->active)
			return;
		conn_stream_end(c);
		x->active = 0;
		x->hc = NULL;
		buf_free(&x->tail);
		conn_request_finished(c);
		return;
	}
	/* A JSON body cannot carry a late error: cut the response so the
	 * client sees it is incomplete rather than a valid-looking one. */
	x->active = 0;
	x->hc = NULL;
	buf_free(&x->tail);
	conn_stream_abort(c);
}

static int attempts_left(struct exch *x)
{
	return x->attempts <= conn_of(x)->srv->cfg.request_retry;
}

static void start_attempt(struct exch *x, int counted);

static void retry_or_fail(struct exch *x, int status, const char *msg)
{
	if (attempts_left(x)) {
		log_debug("%s: upstream attempt failed (%s), retrying",
			  x->provider, msg);
		start_attempt(x, 1);
		return;
	}
	fail_before_start(x, status, msg);
}

/* ---- upstream callbacks ----------------------------------------------------- */

static int retryable_status(int st)
{
	return st == 403 || st == 408 || st == 500 || st == 502 || st == 503 ||
	       st == 504;
}

static void on_head(void *owner, const struct http_response *res)
{
	struct exch *x = owner;
	struct conn *c = conn_of(x);
	struct srv *s = c->srv;
	const struct http_header *ct;
	char extra[128];
	size_t pidx;
	const struct cfg_compat *p = find_provider(s, x->provider, &pidx);
	size_t nkeys = p ? p->api_keys.n : 0;

	x->last_status = res->status;
	if (res->status == 429 && s->cfg.qe_switch_project &&
	    (size_t)x->tried_429 + 1 < nkeys) {
		x->tried_429++;
		snprintf(x->last_err, sizeof(x->last_err), "%s: quota "
			 "exceeded (429)", x->provider);
		hc_abort(x->hc);
		x->hc = NULL;
		start_attempt(x, 0); /* a quota switch is not a retry */
		return;
	}
	if (retryable_status(res->status) && attempts_left(x)) {
		snprintf(x->last_err, sizeof(x->last_err), "%s answered %d",
			 x->provider, res->status);
		hc_abort(x->hc);
		x->hc = NULL;
		start_attempt(x, 1);
		return;
	}
	x->upstream_ok = res->status >= 200 && res->status < 300;
	ct = http_find_response_header(res, "content-type", NULL);
	extra[0] = '\0';
	if (x->stream && x->upstream_ok)
		snprintf(extra, sizeof(extra), "Cache-Control: no-cache\r\n");
	{
		char ctype[128];
		const struct http_header *cl =
			http_find_response_header(res, "content-length", NULL);
		int64_t len = -1;
		snprintf(ctype, sizeof(ctype), "%.*s",
			 ct ? (int)(ct->value_len > 100 ? 100 : ct->value_len)
			    : 16,
			 ct ? ct->value : "application/json");
		/* A sized non-stream answer keeps its size: no chunking. */
		if (cl && !http_find_response_header(res, "transfer-encoding",
						     NULL) &&
		    !(x->stream && x->upstream_ok))
			len = http_parse_length(cl->value, cl->value_len);
		conn_stream_begin(c, res->status, ctype, extra, len);
	}
	x->started = 1;
	if (x->stream)
		conn_flush(c); /* headers now; tokens may take a while */
}

/* Forward [p, p+n), holding back a partial SSE event when streaming. */
static void forward(struct exch *x, const char *p, size_t n)
{
	struct conn *c = conn_of(x);
	const char *src = p;
	size_t len = n, cut, i;

	if (!(x->stream && x->upstream_ok)) {
		conn_stream_write(c, p, n);
		return;
	}
	if (buf_pending(&x->tail) > 0) {
		buf_put(&x->tail, p, n);
		if (x->tail.overflow) { /* event larger than we hold: send */
			x->tail.overflow = 0;
			conn_stream_write(c, x->tail.p + x->tail.off,
					  buf_pending(&x->tail));
			if (!x->active)
				return;
			buf_reset(&x->tail);
			conn_stream_write(c, p, n);
			return;
		}
		src = x->tail.p + x->tail.off;
		len = buf_pending(&x->tail);
	}
	/* Last event boundary: "\n\n" or "\n\r\n". */
	cut = 0;
	for (i = len; i >= 2; i--) {
		if (src[i - 1] == '\n' &&
		    (src[i - 2] == '\n' ||
		     (i >= 3 && src[i - 2] == '\r' && src[i - 3] == '\n'))) {
			cut = i;
			break;
		}
	}
	if (src == p) {
		if (cut)
			conn_stream_write(c, p, cut);
		if (cut < n && x->active) /* the write may have lost the client */
			buf_put(&x->tail, p + cut, n - cut);
		return;
	}
	if (cut) {
		conn_stream_write(c, src, cut);
		if (x->active)
			buf_consume(&x->tail, cut);
	}
}

static int on_body(void *owner, const char *p, size_t n)
{
	struct exch *x = owner;
	forward(x, p, n);
	if (!x->active)
		return 0;
	conn_flush(conn_of(x));
	if (!x->active)
		return 0;
	x->paused = conn_out_full(conn_of(x));
	return x->paused;
}

static void on_done(void *owner)
{
	struct exch *x = owner;
	struct conn *c = conn_of(x);

	x->hc = NULL;
	if (buf_pending(&x->tail) > 0)
		conn_stream_write(c, x->tail.p + x->tail.off,
				  buf_pending(&x->tail));
	if (!x->active)
		return; /* the client went away during the write */
	conn_stream_end(c);
	x->active = 0;
	buf_free(&x->tail);
	conn_request_finished(c);
}

static void on_error(void *owner, int err, const char *msg)
{
	struct exch *x = owner;

	x->hc = NULL;
	snprintf(x->last_err, sizeof(x->last_err), "upstream %s: %s",
		 x->provider, msg);
	log_warn("%s", x->last_err);
	if (x->started) {
		fail_after_start(x, x->last_err);
		return;
	}
	if (err == HC_EDNS || err == HC_ETLS) {
		/* Same host for every key: another attempt cannot help. */
		fail_before_start(x, 502, x->last_err);
		return;
	}
	retry_or_fail(x, err == HC_ETIMEOUT ? 504 : 502, x->last_err);
}

static const struct hc_ops compat_ops = {on_head, on_body, on_done, on_error};

/* ---- attempts ----------------------------------------------------------------- */

static int target_from_cfg(struct exch *x, const struct cfg_compat *p,
			   struct hc_target *t)
{
	const struct cfg *cfg = &conn_of(x)->srv->cfg;
	struct url u;

	memset(t, 0, sizeof(*t));
	if (url_parse(p->base_url, &u) < 0 ||
	    (u.scheme != URL_HTTP && u.scheme != URL_HTTPS))
		return -1;
	t->tls = u.scheme == URL_HTTPS;
	snprintf(t->host, sizeof(t->host), "%s", u.host);
	t->port = u.port;
	snprintf(x->path, sizeof(x->path), "%s%s", u.path,
		 x->path_kind ? "/completions" : "/chat/completions");
	if (cfg->proxy_url) {
		struct url pu;
		if (url_parse(cfg->proxy_url, &pu) < 0)
			return -2;
		t->proxy = (int)pu.scheme + 1;
		snprintf(t->proxy_host, sizeof(t->proxy_host), "%s", pu.host);
		t->proxy_port = pu.port;
		snprintf(t->proxy_user, sizeof(t->proxy_user), "%s", pu.user);
		snprintf(t->proxy_pass, sizeof(t->proxy_pass), "%s", pu.pass);
	}
	return 0;
}

static void start_attempt(struct exch *x, int counted)
{
	struct conn *c = conn_of(x);
	struct srv *s = c->srv;
	const struct cfg *cfg = &s->cfg;
	const struct cfg_compat *p;
	struct hc_target t;
	struct hc_timeouts to;
	struct hc_request r;
	size_t pidx;
	int n, rc;

	p = find_provider(s, x->provider, &pidx);
	if (!p) {
		fail_before_start(x, 503, "provider was removed from the "
				  "config during the request");
		return;
	}
	if ((rc = target_from_cfg(x, p, &t)) < 0) {
		fail_before_start(x, 500, rc == -1 ? "provider base-url is "
				  "not a valid http(s) URL"
				  : "proxy-url is not a valid URL");
		return;
	}
	x->attempts += counted;
	n = snprintf(x->headers, sizeof(x->headers),
		     "Content-Type: application/json\r\n"
		     "User-Agent: cli-proxy-api-%s\r\n"
		     "Accept: %s\r\n",
		     p->name, x->stream ? "text/event-stream"
					: "application/json");
	if (p->api_keys.n > 0) {
		const char *key = p->api_keys.v[next_key_index(s, pidx,
							       p->api_keys.n)];
		if (strlen(key) + (size_t)n + 32 > sizeof(x->headers)) {
			fail_before_start(x, 500, "provider api key too long");
			return;
		}
		snprintf(x->headers + n, sizeof(x->headers) - (size_t)n,
			 "Authorization: Bearer %s\r\n", key);
	}
	to.connect_ms = cfg->upstream_connect_timeout_ms;
	to.first_byte_ms = cfg->upstream_first_byte_timeout_ms;
	to.read_ms = cfg->upstream_read_timeout_ms;
	to.pool_idle_ms = cfg->upstream_keepalive_timeout_ms;
	r.method = "POST";
	r.path = x->path;
	r.headers = x->headers;
	r.body = c->body;
	r.body_len = c->body_len;
	x->upstream_ok = 0;
	x->hc = hc_request(&t, &r, &compat_ops, x, &to);
	if (!x->hc)
		fail_before_start(x, 503, "too many upstream connections in "
				  "use; retry shortly");
}

/* Replace the model value in the body (in place, growing if needed). */
static int rewrite_model(struct conn *c, size_t off, size_t len,
			 const char *model)
{
	struct buf esc;
	size_t nl;

	buf_init(&esc, 4096);
	buf_json_esc(&esc, model, strlen(model));
	if (esc.overflow) {
		buf_free(&esc);
		return -1;
	}
	nl = esc.len;
	if (conn_body_reserve(c, c->body_len - len + nl) < 0) {
		buf_free(&esc);
		return -1;
	}
	memmove(c->body + off + nl, c->body + off + len,
		c->body_len - off - len);
	memcpy(c->body + off, esc.p, nl);
	c->body_len = c->body_len - len + nl;
	buf_free(&esc);
	return 0;
}

int exch_start_compat(struct conn *c, const struct cfg_compat *prov,
		      const char *upstream_model, size_t model_off,
		      size_t model_len, int stream, int completions)
{
	struct exch *x = &c->x;

	memset(x, 0, sizeof(*x));
	x->fmt = API_OPENAI;
	x->stream = stream;
	x->path_kind = completions;
	snprintf(x->provider, sizeof(x->provider), "%s", prov->name);
	x->cfg_gen = c->srv->cfg_gen;
	buf_init(&x->tail, TAIL_MAX);
	if (rewrite_model(c, model_off, model_len, upstream_model) < 0) {
		api_error(c, API_OPENAI, 503, "server is busy: no memory to "
			  "rewrite the request");
		return -1;
	}
	x->active = 1;
	x->starting = 1;
	start_attempt(x, 1);
	x->starting = 0;
	return x->active ? 0 : -1;
}

void exch_abort(struct exch *x)
{
	if (!x->active)
		return;
	hc_abort(x->hc);
	x->hc = NULL;
	x->active = 0;
	buf_free(&x->tail);
}

void exch_resume(struct exch *x)
{
	if (x->active && x->paused && x->hc) {
		x->paused = 0;
		hc_resume(x->hc);
	}
}
