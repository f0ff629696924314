/*
 * api_ca.c - /v1internal:*, Gemini CLI pointed at the proxy with
 * CODE_ASSIST_ENDPOINT (its Code Assist mode).
 *
 * Local clients only (the reference's rule: the calls carry no key of
 * ours).  Generation calls (generateContent, streamGenerateContent,
 * countTokens) go where their model is served, like every other
 * endpoint, with the Code Assist envelope kept both ways; the set-up
 * calls (loadCodeAssist, onboardUser, retrieveUserQuota, ...) go to Code
 * Assist with a Gemini CLI account's token, or get a minimal local
 * answer, so Gemini CLI starts with only API keys configured.
 */
#define _GNU_SOURCE
#include "api.h"
#include "api_int.h"

#include <string.h>

#include "acct.h"
#include "exch.h"
#include "models.h"
#include "route.h"
#include "sizes.h"
#include "srv.h"

/* What Code Assist answers a client with no account behind it, enough for
 * Gemini CLI to start and send generation calls (which go wherever their
 * model is served). */
static const struct {
	const char *method, *answer;
} ca_local[] = {
	{"loadCodeAssist",
	 "{\"currentTier\":{\"id\":\"standard-tier\",\"name\":\"cli-proxy-api\","
	 "\"userDefinedCloudaicompanionProject\":true},\"allowedTiers\":[{\"id\":"
	 "\"standard-tier\",\"isDefault\":true,\"userDefinedCloudaicompanionProject"
	 "\":true}],\"cloudaicompanionProject\":\"cli-proxy-api\"}"},
	{"onboardUser",
	 "{\"done\":true,\"response\":{\"cloudaicompanionProject\":{\"id\":"
	 "\"cli-proxy-api\",\"name\":\"cli-proxy-api\"}}}"},
	{"retrieveUserQuota", "{\"buckets\":[]}"},
	{"listExperiments", "{\"experimentIds\":[],\"flags\":[]}"},
};

/* A set-up call: to Code Assist with a Gemini CLI account's token, or a
 * local answer when there is none. */
static void ca_setup(struct conn *c, const char *meth, size_t mlen)
{
	struct route *rt = srv_of(c)->route;
	const struct route_model *rm = route_family(rt, "gemini-");
	struct exch_raw x;
	char tail[80];
	size_t i;
	int k;

	if (rm)
		for (k = 0; k < (int)rm->n; k++) {
			const struct route_cred *cr = route_cred_at(rt, rm, k);
			if (cr->prov != PROV_GEMINI_CLI || !cr->acct ||
			    !acct_available(cr->acct, loop_now(&srv_of(c)->loop)))
				continue;
			if (mlen + 2 > sizeof(tail))
				break;
			tail[0] = ':';
			memcpy(tail + 1, meth, mlen);
			tail[mlen + 1] = '\0';
			memset(&x, 0, sizeof(x));
			x.cfmt = HUB_GEMINI;
			x.rm = rm;
			x.cand = k;
			x.upmodel = "";
			x.path_tail = tail;
			exch_start_raw(c, &x);
			return;
		}
	for (i = 0; i < sizeof(ca_local) / sizeof(ca_local[0]); i++)
		if (http_span_eq(meth, mlen, ca_local[i].method)) {
			conn_respond(c, 200, "application/json", NULL,
				     ca_local[i].answer,
				     strlen(ca_local[i].answer));
			return;
		}
	conn_respond(c, 200, "application/json", NULL, "{}", 2);
}

/* The model of a Code Assist call: "model", else request.model, without
 * a "models/" prefix.  Its length in out, or -1 answered. */
static int ca_model(struct conn *c, const struct json *j, char *out,
		    size_t cap)
{
	int t = json_get(j, 0, "model"), n;
	if (t < 0) {
		int rq = json_get(j, 0, "request");
		t = rq >= 0 ? json_get(j, rq, "model") : -1;
	}
	if (t < 0 || j->tok[t].type != JSMN_STRING || !json_len(j, t)) {
		api_error(c, HUB_GEMINI, 400, "request has no \"model\" string");
		return -1;
	}
	n = json_unescape(json_ptr(j, t), json_len(j, t), out, cap);
	if (n <= 0) {
		api_error(c, HUB_GEMINI, 400, "\"model\" is not a valid model "
			  "name");
		return -1;
	}
	if (n > 7 && !memcmp(out, "models/", 7)) {
		memmove(out, out + 7, (size_t)n - 6);
		n -= 7;
	}
	return api_model_name_ok(c, HUB_GEMINI, out, (size_t)n) ? n : -1;
}

/* POST /v1internal:<method> (see the top of this file). */
void api_v1internal(struct conn *c, const struct endpoint *r)
{
	size_t plen = http_path_len(&c->req);
	const char *meth = c->req.target + r->len;
	size_t mlen = plen - r->len;
	struct json j;
	char model[MODEL_NAME_MAX + 8];
	int ml, gen, count;

	if (!conn_peer_is_loopback(c)) {
		api_error(c, HUB_GEMINI, 403, "/v1internal answers local "
			  "clients only");
		return;
	}
	gen = http_span_eq(meth, mlen, "generateContent") ||
	      http_span_eq(meth, mlen, "streamGenerateContent");
	count = http_span_eq(meth, mlen, "countTokens");
	if (!gen && !count) {
		size_t i;
		for (i = 0; i < mlen; i++)
			if (!((meth[i] >= 'a' && meth[i] <= 'z') ||
			      (meth[i] >= 'A' && meth[i] <= 'Z'))) {
				api_error(c, HUB_GEMINI, 404, "unknown method");
				return;
			}
		ca_setup(c, meth, mlen);
		return;
	}
	if (api_parse_body(c, HUB_GEMINI, &j) < 0)
		return;
	if ((ml = ca_model(c, &j, model, sizeof(model))) < 0) {
		api_body_free(c, &j);
		return;
	}
	api_gemini_call(c, &j, model, (size_t)ml, meth, mlen, 1);
}

