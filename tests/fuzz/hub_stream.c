/*
 * hub_stream.c - fuzz target: every upstream answer decoder into every
 * client encoder, driven as src/exch.c drives them.
 *
 * Input: four option bytes, then the upstream's answer bytes:
 *   [0] upstream format, [1] client format (enum hub_fmt, modulo count)
 *   [2] bit 0 stream, bit 1 Gemini CLI envelope for the client,
 *       bits 2-4 the model name reported (fz_models)
 *   [3] seed of the split points
 * Stream: the bytes go through sse_push (whole, then in random pieces
 * that are exact-size copies) into decode_event, then sse_end,
 * decode_event(NULL) and HUB_EV_DONE; each event goes to the client's
 * encode_event.  Not stream: decode_body on the whole input, then DONE.
 * An ERROR event before any client byte becomes an HTTP error rendered
 * with render_error, as exch.c does.
 *
 * One client encoder serves all runs of an input, started over with
 * hub_enc_reset before each, as exch.c does for a retry.
 *
 * Checks: the split runs give the same client bytes as the whole run; a
 * stream is a sequence of "event:"/"data:"/comment lines and blank lines,
 * ending with a blank line, and every data payload is valid JSON (or
 * [DONE]); a non-stream answer and every rendered error is valid JSON.
 */
#include "hub_codec.h"
#include "sizes.h" /* SSE_EVENT_MAX, as src/exch.c */
#include "sse.h"

#define OUT_MAX (64L * 1024 * 1024)

struct run {
	const struct hub_codec *cc, *uc;
	int cf, uf;
	struct hub_sdec dec;
	struct hub_enc *enc; /* made once per input, reset for every run */
	struct buf out;
	int early_status;
	char early_msg[300];
};

static void emit_client(void *user, const struct hub_event *ev)
{
	struct run *r = user;

	FZ_CHECK(ev->text.p != NULL || ev->text.n == 0);
	FZ_CHECK(ev->id.p != NULL || ev->id.n == 0);
	FZ_CHECK(ev->name.p != NULL || ev->name.n == 0);
	FZ_CHECK(ev->model.p != NULL || ev->model.n == 0);
	if (ev->type == HUB_EV_ERROR && r->out.len == 0 && !r->early_status) {
		r->early_status = ev->status ? ev->status : 502;
		snprintf(r->early_msg, sizeof(r->early_msg), "%.*s",
			 (int)(ev->text.n > 250 ? 250 : ev->text.n),
			 ev->text.p ? ev->text.p : "");
		return;
	}
	if (r->early_status)
		return;
	r->cc->encode_event(r->enc, ev, &r->out);
}

static void on_sse(void *user, const struct hub_sse *ev)
{
	struct run *r = user;
	r->uc->decode_event(&r->dec, ev, emit_client, r);
}

/* The client's encoder, as exch.c makes it (without a request). */
static void enc_make(struct hub_enc *e, int cf, unsigned fl)
{
	struct hub_enc_opts eo;

	memset(&eo, 0, sizeof(eo));
	eo.stream = fl & 1;
	eo.gemini_cli = (fl >> 1) & 1;
	eo.model = fz_models[(fl >> 2) & 7];
	eo.created = 1700000000;
	eo.seed = 42;
	hub_enc_init(e, (enum hub_fmt)cf, &eo);
}

/* A run starts the encoder over, as a retry does (hub_enc_reset): the
 * split runs then check that nothing of the last run is left in it. */
static void run_init(struct run *r, int uf, int cf, struct hub_enc *e)
{
	memset(r, 0, sizeof(*r));
	r->uf = uf;
	r->cf = cf;
	r->uc = hub_codec_for((enum hub_fmt)uf);
	r->cc = hub_codec_for((enum hub_fmt)cf);
	r->enc = e;
	hub_enc_reset(e);
	hub_sdec_init(&r->dec, (enum hub_fmt)uf, e->o.seed);
	buf_init(&r->out, OUT_MAX);
}

/* The end of the answer: DONE, or the early error's rendering. */
static void run_finish(struct run *r)
{
	struct hub_event ev;

	if (r->early_status) {
		buf_reset(&r->out);
		r->cc->render_error(&r->out, r->early_status, r->early_msg);
		FZ_CHECK(!r->out.overflow);
		fz_want_json("error", r->uf, r->cf, r->out.p, r->out.len);
		buf_reset(&r->out);
		buf_printf(&r->out, "HTTP %d\n", r->early_status);
		return;
	}
	hub_event_init(&ev, HUB_EV_DONE);
	emit_client(r, &ev);
}

static void run_free(struct run *r)
{
	hub_sdec_free(&r->dec);
	buf_free(&r->out);
}

/* Stream; rng NULL: whole.  Returns the client bytes (caller frees). */
static struct buf stream(const uint8_t *p, size_t n, int uf, int cf,
			 struct hub_enc *e, struct fz_rng *rng)
{
	struct run r;
	struct sse sse;
	struct buf res;
	size_t off = 0;

	run_init(&r, uf, cf, e);
	sse_init(&sse, SSE_EVENT_MAX);
	while (off < n) {
		size_t k = rng ? fz_piece(rng, n - off) : n - off;
		char *c = fz_dup(p + off, k);
		FZ_CHECK(sse_push(&sse, c, k, on_sse, &r) == 0);
		free(c);
		off += k;
	}
	sse_end(&sse, on_sse, &r);
	r.uc->decode_event(&r.dec, NULL, emit_client, &r);
	run_finish(&r);
	sse_free(&sse);
	res = r.out;
	memset(&r.out, 0, sizeof(r.out));
	run_free(&r);
	return res;
}

static struct buf body(const uint8_t *p, size_t n, int uf, int cf,
		       struct hub_enc *e)
{
	struct run r;
	struct buf res;
	char *c = fz_dup(p, n);

	run_init(&r, uf, cf, e);
	if (r.uc->decode_body(&r.dec, c, n, emit_client, &r) < 0) {
		r.early_status = 502;
		snprintf(r.early_msg, sizeof(r.early_msg), "upstream answer "
			 "is not valid for its API");
	}
	run_finish(&r);
	free(c);
	res = r.out;
	memset(&r.out, 0, sizeof(r.out));
	run_free(&r);
	return res;
}

static void framing_error(const struct buf *b, size_t at, const char *why,
			  int uf, int cf)
{
	fprintf(stderr, "%s -> %s stream: %s at byte %zu:\n%.*s\n",
		fz_fmt_names[uf], fz_fmt_names[cf], why, at,
		(int)(b->len > 4000 ? 4000 : b->len), b->p ? b->p : "");
	abort();
}

/* A client stream: SSE lines, each data payload one JSON document. */
static void check_stream(const struct buf *b, int uf, int cf)
{
	size_t i = 0;

	if (b->len == 0 || !memcmp(b->p, "HTTP ", 5))
		return;
	if (b->len < 2 || memcmp(b->p + b->len - 2, "\n\n", 2))
		framing_error(b, b->len, "no blank line at the end", uf, cf);
	while (i < b->len) {
		const char *l = b->p + i;
		const char *nl = memchr(l, '\n', b->len - i);
		size_t n = (size_t)(nl - l);
		FZ_CHECK(nl != NULL);
		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (n >= 5 && !memcmp(l, "data:", 5)) {
			const char *d = l + 5;
			size_t dn = n - 5;
			if (dn && *d == ' ') {
				d++;
				dn--;
			}
			if (!(dn == 6 && !memcmp(d, "[DONE]", 6)))
				fz_want_json("stream data", uf, cf, d, dn);
		} else if (n > 0 && l[0] != ':' &&
			   !(n >= 6 && !memcmp(l, "event:", 6))) {
			framing_error(b, i, "a line that is not SSE", uf, cf);
		}
		i = (size_t)(nl - b->p) + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	struct fz_rng rng;
	int uf, cf, i;
	unsigned fl;
	struct buf whole, other;
	struct hub_enc enc;

	uf = (int)(fz_byte(&f) % HUB__COUNT);
	cf = (int)(fz_byte(&f) % HUB__COUNT);
	fl = fz_byte(&f);
	fz_rng_seed(&rng, fz_byte(&f));
	enc_make(&enc, cf, fl);

	if (!(fl & 1)) {
		whole = body(f.p, f.n, uf, cf, &enc);
		if (whole.len < 5 || memcmp(whole.p, "HTTP ", 5))
			fz_want_json("answer", uf, cf, whole.p, whole.len);
		buf_free(&whole);
		hub_enc_free(&enc);
		return 0;
	}
	whole = stream(f.p, f.n, uf, cf, &enc, NULL);
	FZ_CHECK(!whole.overflow);
	check_stream(&whole, uf, cf);
	for (i = 0; i < 2; i++) {
		other = stream(f.p, f.n, uf, cf, &enc, &rng);
		if (other.len != whole.len ||
		    (whole.len && memcmp(other.p, whole.p, whole.len))) {
			fprintf(stderr, "%s -> %s: split output differs:\n"
				"whole:\n%.*s\nsplit:\n%.*s\n",
				fz_fmt_names[uf], fz_fmt_names[cf],
				(int)(whole.len > 2000 ? 2000 : whole.len),
				whole.p ? whole.p : "",
				(int)(other.len > 2000 ? 2000 : other.len),
				other.p ? other.p : "");
			abort();
		}
		buf_free(&other);
	}
	buf_free(&whole);
	hub_enc_free(&enc);
	return 0;
}
