/*
 * hub_completions_client.c - the legacy OpenAI completions API
 * (/v1/completions) as a client format of the hub: the request decoder
 * and the event encoder.  Its upstream side (hub_completions_upstream.c)
 * refuses: no upstream speaks it except OpenAI-compatible providers, which
 * get the body passed through.
 *
 * The request's "prompt" (a string or an array of strings) becomes one
 * user message; the answer's text comes back as "text_completion" objects:
 *
 *   stream:  data: {"id","object":"text_completion","created","model",
 *                   "choices":[{"text","index":0,"logprobs":null,
 *                               "finish_reason"}]}  ...  data: [DONE]
 *   whole:   one such object with all the text and "usage".
 *
 * Thinking and tool calls have no place in this API and are dropped.
 * Errors are OpenAI's.  State: struct hub_completions_enc (hub.h).
 */
#include "fmt.h"
#include "hub_tok.h"

#include <stdlib.h>
#include <string.h>

int hub_completions_decode_request(const struct json *j, struct hub_view *v,
				   char *err, size_t errlen)
{
	int t, p, i, e, n;
	struct hub_msg *m;

	v->model = hub_tok_str(j, 0, "model");
	v->stream = hub_tok_true(j, json_get(j, 0, "stream"));
	p = json_get(j, 0, "prompt");
	if (!hub_tok_is(j, p, JSMN_STRING) && !hub_tok_is(j, p, JSMN_ARRAY))
		return hub_fail(err, errlen, "prompt must be a string or an "
				"array of strings");
	if (!(m = hub_add_msg(v, HUB_USER)))
		return hub_fail(err, errlen, "out of memory");
	n = j->tok[p].type == JSMN_ARRAY ? j->tok[p].size : 1;
	for (i = 0, e = j->tok[p].type == JSMN_ARRAY ? p + 1 : p; i < n;
	     i++, e = json_skip(j, e)) {
		struct hub_part *q;
		if (!hub_tok_is(j, e, JSMN_STRING))
			return hub_fail(err, errlen, "prompt must be a string "
					"or an array of strings");
		if (!(q = hub_add_part(v)))
			return hub_fail(err, errlen, "out of memory");
		q->type = HUB_P_TEXT;
		q->text = hub_tok_span(j, e);
		m->n++;
	}
	if (hub_tok_int(j, json_get(j, 0, "max_tokens"), 0, HUB_TOKENS_MAX,
			&v->max_tokens) == HUB_INT_BAD)
		return hub_fail(err, errlen, "max_tokens must be a whole "
				"number from 0 to 2147483647");
	if (hub_tok_number(j, t = json_get(j, 0, "temperature")))
		v->temperature = hub_tok_span(j, t);
	if (hub_tok_number(j, t = json_get(j, 0, "top_p")))
		v->top_p = hub_tok_span(j, t);
	t = json_get(j, 0, "stop");
	if (hub_tok_is(j, t, JSMN_STRING))
		v->stop[v->nstop++] = hub_tok_span(j, t);
	for (i = 0, e = t + 1;
	     hub_tok_is(j, t, JSMN_ARRAY) && i < j->tok[t].size && v->nstop < 8;
	     i++, e = json_skip(j, e))
		if (hub_tok_is(j, e, JSMN_STRING))
			v->stop[v->nstop++] = hub_tok_span(j, e);
	return 0;
}

static const char *finish_name(enum hub_finish f)
{
	switch (f) {
	case HUB_FIN_LENGTH: return "length";
	case HUB_FIN_FILTER: return "content_filter";
	default: return "stop";
	}
}

static void put_head(struct hub_enc *e, struct buf *out)
{
	buf_puts(out, "{\"id\":");
	buf_json_cstr(out, e->id);
	buf_puts(out, ",\"object\":\"text_completion\",\"created\":");
	buf_putu(out, (unsigned long long)e->o.created);
	buf_puts(out, ",\"model\":");
	buf_json_cstr(out, e->model);
	buf_puts(out, ",\"choices\":[{\"text\":\"");
}

static void put_usage(struct hub_enc *e, struct buf *out)
{
	long in = e->usage.input > 0 ? e->usage.input : 0;
	long o = e->usage.output > 0 ? e->usage.output : 0;
	buf_printf(out, ",\"usage\":{\"prompt_tokens\":%ld,\"completion_tokens\""
		   ":%ld,\"total_tokens\":%ld}", in, o, in + o);
}

void hub_completions_render_error(struct buf *out, int status, const char *msg)
{
	hub_openai_render_error(out, status, msg);
}

void hub_completions_encode_event(struct hub_enc *e, const struct hub_event *ev,
				  struct buf *out)
{
	struct hub_completions_enc *c = &e->u.completions;

	hub_enc_first(e, ev, &c->started, "cmpl-");
	if (c->err_status && ev->type != HUB_EV_DONE)
		return; /* after an error only the close remains */
	switch (ev->type) {
	case HUB_EV_TEXT:
		if (!ev->text.n)
			break;
		if (!e->o.stream) {
			buf_put(&c->text, ev->text.p, ev->text.n);
			break;
		}
		buf_puts(out, "data: ");
		put_head(e, out);
		buf_put(out, ev->text.p, ev->text.n);
		buf_puts(out, "\",\"index\":0,\"logprobs\":null,"
			      "\"finish_reason\":null}]}\n\n");
		break;
	case HUB_EV_USAGE: hub_usage_merge(&e->usage, &ev->usage); break;
	case HUB_EV_FINISH:
		e->finish = ev->finish;
		e->have_finish = 1;
		break;
	case HUB_EV_ERROR: {
		char msg[300];
		c->err_status = ev->status ? ev->status : 502;
		if (hub_unescape(ev->text, msg, sizeof(msg)) < 0)
			fmt_snprintf(msg, sizeof(msg), "upstream error");
		if (e->o.stream) {
			buf_puts(out, "data: ");
			hub_completions_render_error(out, c->err_status, msg);
			buf_puts(out, "\n\n");
		} else {
			buf_reset(&c->err);
			hub_completions_render_error(&c->err, c->err_status, msg);
		}
		break;
	}
	case HUB_EV_DONE:
		if (!e->o.stream) {
			if (c->err_status) {
				buf_put(out, c->err.p, c->err.len);
				break;
			}
			put_head(e, out);
			buf_put(out, c->text.p, c->text.len);
			buf_printf(out, "\",\"index\":0,\"logprobs\":null,"
				   "\"finish_reason\":\"%s\"}]",
				   finish_name(e->finish));
			put_usage(e, out);
			buf_putc(out, '}');
			break;
		}
		if (!c->err_status) {
			buf_puts(out, "data: ");
			put_head(e, out);
			buf_printf(out, "\",\"index\":0,\"logprobs\":null,"
				   "\"finish_reason\":\"%s\"}]",
				   finish_name(e->finish));
			if (e->usage.input >= 0 || e->usage.output >= 0)
				put_usage(e, out);
			buf_puts(out, "}\n\n");
		}
		buf_puts(out, "data: [DONE]\n\n");
		break;
	default:
		break; /* thinking and tools have no place here */
	}
}
