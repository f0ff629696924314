/*
 * xlate.c - the translation pipeline (see xlate.h): the SSE parser feeds
 * the upstream's decoder, whose events go to the client's encoder through
 * emit(), which keeps an error that comes before any client byte for an
 * HTTP answer and notes whether the answer finished (the fold).
 */
#include "xlate.h"

#include <string.h>

#include "fmt.h"
#include "sizes.h"

static void emit(void *user, const struct hub_event *ev)
{
	struct xlate *t = user;

	if (t->tap)
		t->tap(t->tap_user, ev);
	if (ev->type == HUB_EV_FINISH)
		t->finished = 1;
	if (ev->type == HUB_EV_ERROR && !t->sent && t->out.len == 0 &&
	    !t->early_status) {
		/* Nothing sent yet: kept for a real HTTP error. */
		t->early_status = ev->status ? ev->status : 502;
		fmt_snprintf(t->early_msg, sizeof(t->early_msg), "%.*s",
			     (int)(ev->text.n > 250 ? 250 : ev->text.n),
			     ev->text.p ? ev->text.p : "");
		return;
	}
	if (t->early_status)
		return; /* answered as an HTTP error at the end */
	if (ev->type == HUB_EV_TOOL_START && t->names.len) {
		struct hub_event e = *ev;
		buf_reset(&t->name);
		if (hub_responses_restore(t->names.p, t->names.len, ev->name,
					  &t->name) && !t->name.overflow) {
			e.name.p = t->name.p;
			e.name.n = t->name.len;
			t->cc->encode_event(&t->enc, &e, &t->out);
			return;
		}
	}
	t->cc->encode_event(&t->enc, ev, &t->out);
}

static void on_sse(void *user, const struct hub_sse *ev)
{
	struct xlate *t = user;
	t->uc->decode_event(&t->dec, ev, emit, t);
}

/* Decoder and parser for one run of the answer (the encoder is made
 * once, at init, and reset for each run). */
static void start(struct xlate *t)
{
	hub_sdec_init(&t->dec, t->ufmt, t->eo.seed);
	sse_init(&t->sse, SSE_EVENT_MAX);
	t->sent = 0;
	t->finished = 0;
	t->early_status = 0;
	t->early_msg[0] = '\0';
}

void xlate_init(struct xlate *t, enum hub_fmt cfmt, enum hub_fmt ufmt,
		const struct hub_enc_opts *eo, size_t out_max)
{
	memset(t, 0, sizeof(*t));
	t->cfmt = cfmt;
	t->ufmt = ufmt;
	t->cc = hub_codec_for(cfmt);
	t->uc = hub_codec_for(ufmt);
	t->eo = *eo;
	t->eo.req = NULL; /* the encoder copies what it needs now */
	buf_init(&t->out, out_max);
	buf_init(&t->names, HUB_ENC_BUF_MAX);
	buf_init(&t->name, HUB_ENC_BUF_MAX);
	if (ufmt == HUB_RESPONSES && cfmt != HUB_RESPONSES && eo->req &&
	    hub_responses_name_map(eo->req, &t->names) < 0)
		buf_reset(&t->names);
	hub_enc_init(&t->enc, cfmt, eo);
	start(t);
}

static void stop(struct xlate *t)
{
	sse_free(&t->sse);
	hub_sdec_free(&t->dec);
}

void xlate_restart(struct xlate *t)
{
	stop(t);
	buf_reset(&t->out);
	hub_enc_reset(&t->enc);
	start(t);
}

void xlate_free(struct xlate *t)
{
	stop(t);
	hub_enc_free(&t->enc);
	buf_free(&t->out);
	buf_free(&t->names);
	buf_free(&t->name);
}

int xlate_stream(struct xlate *t, const char *p, size_t n)
{
	return sse_push(&t->sse, p, n, on_sse, t);
}

void xlate_stream_end(struct xlate *t)
{
	sse_end(&t->sse, on_sse, t);
	t->uc->decode_event(&t->dec, NULL, emit, t);
	/* the fold: a whole answer or an error, never a cut one */
	if (!t->eo.stream && !t->finished && !t->early_status)
		xlate_error(t, 502, "upstream stream ended before the answer "
			    "was complete");
}

int xlate_body(struct xlate *t, const char *p, size_t n)
{
	return t->uc->decode_body(&t->dec, p, n, emit, t);
}

void xlate_error(struct xlate *t, int status, const char *msg)
{
	struct hub_event ev;
	char esc[512];
	size_t i, n = 0;

	/* event text is escaped JSON string content */
	for (i = 0; msg[i] && n + 2 < sizeof(esc); i++) {
		unsigned char ch = (unsigned char)msg[i];
		if (ch == '"' || ch == '\\')
			esc[n++] = '\\';
		esc[n++] = ch < 0x20 ? ' ' : (char)ch;
	}
	hub_event_init(&ev, HUB_EV_ERROR);
	ev.status = status;
	ev.text.p = esc;
	ev.text.n = n;
	emit(t, &ev);
}

void xlate_done(struct xlate *t)
{
	struct hub_event ev;
	hub_event_init(&ev, HUB_EV_DONE);
	emit(t, &ev);
}

size_t xlate_held(const struct xlate *t)
{
	return t->out.cap + t->sse.line.cap + t->sse.data.cap +
	       t->dec.scratch.cap +
	       (size_t)t->dec.ntok_cap * sizeof(*t->dec.tok) +
	       hub_enc_held(&t->enc) + t->names.cap + t->name.cap;
}
