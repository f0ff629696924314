/*
 * hub_completions_upstream.c - the upstream side of the legacy completions
 * codec, which does not exist: no upstream is reached through translation
 * in this format (OpenAI-compatible providers get a completions body
 * passed through), so the request encoder refuses and the decoders see
 * nothing.  The client side is hub_completions_client.c.
 */
#include "hub_tok.h"

int hub_completions_encode_request(const struct hub_view *v,
				   const struct hub_req_opts *o, struct buf *out,
				   char *err, size_t errlen)
{
	(void)v;
	(void)o;
	(void)out;
	return hub_fail(err, errlen, "no upstream speaks the legacy "
			"completions API through translation");
}

void hub_completions_decode_event(struct hub_sdec *d,
				  const struct hub_sse *ev, hub_emit_fn emit,
				  void *user)
{
	(void)d;
	(void)ev;
	(void)emit;
	(void)user;
}

int hub_completions_decode_body(struct hub_sdec *d, const char *body,
				size_t len, hub_emit_fn emit, void *user)
{
	(void)d;
	(void)body;
	(void)len;
	(void)emit;
	(void)user;
	return -1;
}
