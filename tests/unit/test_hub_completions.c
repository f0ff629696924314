/*
 * test_hub_completions.c - the legacy completions client codec: prompt to
 * view, events to text_completion stream and object.
 */
#include <string.h>

#include "hub.h"
#include "t.h"

static int decode(const char *body, struct json *j, struct hub_view *v,
		  char *err)
{
	if (json_parse(j, body, strlen(body)) < 0)
		return -2;
	hub_view_init(v, j);
	return hub_completions.decode_request(j, v, err, 200);
}

TEST(completions_prompt_string_and_array_become_one_user_message)
{
	struct json j;
	struct hub_view v;
	char err[200];

	REQUIRE(decode("{\"model\":\"m\",\"prompt\":\"Say \\\"hi\\\"\","
		       "\"max_tokens\":7,\"stop\":[\"END\"],\"stream\":true}",
		       &j, &v, err) == 0);
	CHECK_EQ_INT(v.nmsgs, 1);
	CHECK_EQ_INT(v.msgs[0].role, HUB_USER);
	CHECK_EQ_INT(v.msgs[0].n, 1);
	CHECK_SPAN(v.parts[0].text.p, v.parts[0].text.n, "Say \\\"hi\\\"");
	CHECK_EQ_INT(v.max_tokens, 7);
	CHECK_EQ_INT(v.nstop, 1);
	CHECK(v.stream);
	hub_view_free(&v);
	json_free(&j);

	REQUIRE(decode("{\"model\":\"m\",\"prompt\":[\"a\",\"b\"]}", &j, &v,
		       err) == 0);
	CHECK_EQ_INT(v.msgs[0].n, 2);
	CHECK(!v.stream);
	hub_view_free(&v);
	json_free(&j);
}

TEST(completions_rejects_a_prompt_that_is_not_text)
{
	struct json j;
	struct hub_view v;
	char err[200];
	CHECK(decode("{\"model\":\"m\",\"prompt\":5}", &j, &v, err) == -1);
	CHECK(strstr(err, "prompt") != NULL);
	hub_view_free(&v);
	json_free(&j);
	CHECK(decode("{\"model\":\"m\",\"prompt\":[\"a\",1]}", &j, &v, err) ==
	      -1);
	hub_view_free(&v);
	json_free(&j);
	CHECK(decode("{\"model\":\"m\"}", &j, &v, err) == -1);
	hub_view_free(&v);
	json_free(&j);
}

static struct hub_event ev(enum hub_ev_type t, const char *text)
{
	struct hub_event e;
	hub_event_init(&e, t);
	if (text) {
		e.text.p = text;
		e.text.n = strlen(text);
	}
	return e;
}

TEST(completions_stream_chunks_then_finish_then_done)
{
	struct hub_enc e;
	struct hub_enc_opts o;
	struct buf out;
	struct hub_event x;

	memset(&o, 0, sizeof(o));
	o.stream = 1;
	o.model = "m";
	o.created = 1700000000;
	hub_enc_init(&e, HUB_COMPLETIONS, &o);
	buf_init(&out, 1 << 16);
	x = ev(HUB_EV_START, NULL);
	x.id.p = "c1";
	x.id.n = 2;
	hub_completions.encode_event(&e, &x, &out);
	CHECK_EQ_INT(out.len, 0); /* nothing before the first text */
	x = ev(HUB_EV_TEXT, "Hi\\n");
	hub_completions.encode_event(&e, &x, &out);
	x = ev(HUB_EV_THINKING, "hidden");
	hub_completions.encode_event(&e, &x, &out);
	x = ev(HUB_EV_FINISH, NULL);
	x.finish = HUB_FIN_LENGTH;
	hub_completions.encode_event(&e, &x, &out);
	x = ev(HUB_EV_DONE, NULL);
	hub_completions.encode_event(&e, &x, &out);
	CHECK_SPAN(out.p, out.len,
		   "data: {\"id\":\"c1\",\"object\":\"text_completion\","
		   "\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"text\":"
		   "\"Hi\\n\",\"index\":0,\"logprobs\":null,\"finish_reason\":"
		   "null}]}\n\n"
		   "data: {\"id\":\"c1\",\"object\":\"text_completion\","
		   "\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"text\":"
		   "\"\",\"index\":0,\"logprobs\":null,\"finish_reason\":"
		   "\"length\"}]}\n\n"
		   "data: [DONE]\n\n");
	buf_free(&out);
	hub_enc_free(&e);
}

TEST(completions_whole_answer_with_usage_and_error_body)
{
	struct hub_enc e;
	struct hub_enc_opts o;
	struct buf out;
	struct hub_event x;
	struct json j;
	int c;

	memset(&o, 0, sizeof(o));
	o.model = "m";
	hub_enc_init(&e, HUB_COMPLETIONS, &o);
	buf_init(&out, 1 << 16);
	x = ev(HUB_EV_TEXT, "a");
	hub_completions.encode_event(&e, &x, &out);
	x = ev(HUB_EV_TEXT, "b");
	hub_completions.encode_event(&e, &x, &out);
	x = ev(HUB_EV_USAGE, NULL);
	x.usage.input = 3;
	x.usage.output = 4;
	hub_completions.encode_event(&e, &x, &out);
	CHECK_EQ_INT(out.len, 0);
	x = ev(HUB_EV_DONE, NULL);
	hub_completions.encode_event(&e, &x, &out);
	REQUIRE(json_parse(&j, out.p, out.len) == 0);
	c = json_get(&j, 0, "choices");
	CHECK(json_str_eq(&j, json_get(&j, c + 1, "text"), "ab"));
	CHECK(json_str_eq(&j, json_get(&j, c + 1, "finish_reason"), "stop"));
	CHECK_SPAN(json_ptr(&j, json_get(&j, json_get(&j, 0, "usage"),
					"total_tokens")), 1, "7");
	json_free(&j);
	hub_enc_free(&e);

	hub_enc_init(&e, HUB_COMPLETIONS, &o);
	buf_reset(&out);
	x = ev(HUB_EV_ERROR, "quota");
	x.status = 429;
	hub_completions.encode_event(&e, &x, &out);
	x = ev(HUB_EV_DONE, NULL);
	hub_completions.encode_event(&e, &x, &out);
	CHECK(strstr(out.p, "\"rate_limit_error\"") != NULL ||
	      strstr(out.p, "quota") != NULL);
	buf_free(&out);
	hub_enc_free(&e);
}
