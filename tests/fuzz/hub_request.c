/*
 * hub_request.c - fuzz target: every client request decoder into every
 * upstream request encoder; every body they write is valid JSON.
 *
 * Input: two option bytes, then a client request body:
 *   [0] client format (enum hub_fmt, modulo the count)
 *   [1] bit 0 stream, bit 1 Gemini CLI envelope, bit 2 a project id,
 *       bits 3-5 the upstream model name (fz_models), bit 6 the
 *       subscription accounts' flags (Antigravity, Claude Code, Codex,
 *       stream usage, with an effort and a request id that need escaping)
 * As api.c does, only a JSON object reaches the codec (its tokens in an
 * array of exactly their number); its decode_request fills a view, and
 * each codec's encode_request writes an upstream body from it.  A refused request (-1, with a message) is fine; a body that
 * json_validate refuses is a finding.
 */
#include "hub_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	unsigned cf, fl;
	struct json j;
	struct hub_view v;
	char err[256], *body;
	int rc, u;

	cf = fz_byte(&f) % HUB__COUNT;
	fl = fz_byte(&f);
	body = fz_dup(f.p, f.n);
	if (json_parse(&j, body, f.n) < 0) {
		free(body);
		return 0;
	}
	if (j.tok[0].type != JSMN_OBJECT)
		goto out;
	/* json_parse's token array has room to spare: make it exact, so a
	 * walk past the last token is an ASan report, not a quiet read of
	 * uninitialised tokens. */
	{
		jsmntok_t *t = realloc(j.tok, (size_t)j.ntok * sizeof(*t));
		FZ_CHECK(t != NULL);
		j.tok = t;
	}
	hub_view_init(&v, &j);
	v.client_fmt = (int)cf;
	err[0] = '\0';
	rc = hub_codec_for((enum hub_fmt)cf)->decode_request(&j, &v, err,
							     sizeof(err));
	FZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (rc == 0) {
		for (u = 0; u < HUB__COUNT; u++) {
			struct hub_req_opts ro;
			struct buf out;
			memset(&ro, 0, sizeof(ro));
			ro.model = fz_models[(fl >> 3) & 7];
			ro.stream = fl & 1;
			ro.gemini_cli = (fl >> 1) & 1;
			ro.project = fl & 4 ? "proj-\"1\"" : NULL;
			if (fl & 64) {
				ro.antigravity = ro.claude_code = 1;
				ro.codex = ro.stream_usage = 1;
				ro.effort = "hi\"gh";
				ro.request_id = "agent-\\1";
			}
			buf_init(&out, 64L * 1024 * 1024);
			err[0] = '\0';
			rc = hub_codec_for((enum hub_fmt)u)->encode_request(
				&v, &ro, &out, err, sizeof(err));
			FZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
			if (rc == 0 && !out.overflow)
				fz_want_json("request", (int)cf, u, out.p,
					     out.len);
			buf_free(&out);
		}
	} else {
		FZ_CHECK(rc == -1);
	}
	hub_view_free(&v);
out:
	json_free(&j);
	free(body);
	return 0;
}
