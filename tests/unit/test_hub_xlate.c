/*
 * test_hub_xlate.c - the translation pipeline (src/xlate.c) in "the
 * fold": an upstream that always streams (Codex, Claude OAuth) answering
 * a client that asked for no stream.  The client gets one JSON answer
 * assembled from the stream, or an HTTP error when the stream ends before
 * its answer does.
 */
#include "t.h"

#include <string.h>

#include "hub.h"
#include "sizes.h"
#include "xlate.h"

/* A Codex backend stream: text, then a function call in two deltas. */
static const char codex_sse[] =
	"event: response.created\n"
	"data: {\"type\":\"response.created\",\"sequence_number\":0,"
	"\"response\":{\"id\":\"resp_1\",\"object\":\"response\","
	"\"model\":\"gpt-5-codex\",\"status\":\"in_progress\",\"output\":[]}}\n\n"
	"event: response.output_item.added\n"
	"data: {\"type\":\"response.output_item.added\",\"sequence_number\":1,"
	"\"output_index\":0,\"item\":{\"id\":\"msg_1\",\"type\":\"message\","
	"\"status\":\"in_progress\",\"content\":[],\"role\":\"assistant\"}}\n\n"
	"event: response.output_text.delta\n"
	"data: {\"type\":\"response.output_text.delta\",\"sequence_number\":2,"
	"\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,"
	"\"delta\":\"Checking.\"}\n\n"
	"event: response.output_item.done\n"
	"data: {\"type\":\"response.output_item.done\",\"sequence_number\":3,"
	"\"output_index\":0,\"item\":{\"id\":\"msg_1\",\"type\":\"message\","
	"\"status\":\"completed\",\"content\":[{\"type\":\"output_text\","
	"\"text\":\"Checking.\"}],\"role\":\"assistant\"}}\n\n"
	"event: response.output_item.added\n"
	"data: {\"type\":\"response.output_item.added\",\"sequence_number\":4,"
	"\"output_index\":1,\"item\":{\"id\":\"fc_1\",\"type\":\"function_call\","
	"\"status\":\"in_progress\",\"arguments\":\"\",\"call_id\":\"call_1\","
	"\"name\":\"get_weather\"}}\n\n"
	"event: response.function_call_arguments.delta\n"
	"data: {\"type\":\"response.function_call_arguments.delta\","
	"\"sequence_number\":5,\"item_id\":\"fc_1\",\"output_index\":1,"
	"\"delta\":\"{\\\"city\\\":\"}\n\n"
	"event: response.function_call_arguments.delta\n"
	"data: {\"type\":\"response.function_call_arguments.delta\","
	"\"sequence_number\":6,\"item_id\":\"fc_1\",\"output_index\":1,"
	"\"delta\":\"\\\"Tokyo\\\"}\"}\n\n"
	"event: response.output_item.done\n"
	"data: {\"type\":\"response.output_item.done\",\"sequence_number\":7,"
	"\"output_index\":1,\"item\":{\"id\":\"fc_1\",\"type\":\"function_call\","
	"\"status\":\"completed\",\"arguments\":\"{\\\"city\\\":\\\"Tokyo\\\"}\","
	"\"call_id\":\"call_1\",\"name\":\"get_weather\"}}\n\n";

static const char codex_completed[] =
	"event: response.completed\n"
	"data: {\"type\":\"response.completed\",\"sequence_number\":8,"
	"\"response\":{\"id\":\"resp_1\",\"object\":\"response\","
	"\"model\":\"gpt-5-codex\",\"status\":\"completed\",\"output\":[],"
	"\"usage\":{\"input_tokens\":20,\"output_tokens\":9,"
	"\"output_tokens_details\":{\"reasoning_tokens\":0}}}}\n\n";

/* Run sse through a pipeline for an OpenAI chat client (stream or not):
 * the client's bytes (NUL-terminated) in out, the pipeline's early status
 * returned. */
static int fold(const char *sse, int stream, struct buf *out)
{
	struct hub_enc_opts eo;
	struct xlate t;
	int st;

	memset(&eo, 0, sizeof(eo));
	eo.stream = stream;
	eo.model = "gpt-5-codex";
	eo.created = 1700000000;
	eo.seed = 7;
	xlate_init(&t, HUB_OPENAI, HUB_RESPONSES, &eo, 1 << 20);
	CHECK_EQ_INT(xlate_stream(&t, sse, strlen(sse)), 0);
	xlate_stream_end(&t);
	st = t.early_status;
	if (!st)
		xlate_done(&t);
	buf_init(out, 1 << 20);
	buf_put(out, st ? t.early_msg : t.out.p, st ? strlen(t.early_msg)
						    : t.out.len);
	buf_putc(out, '\0');
	xlate_free(&t);
	return st;
}

TEST(xlate_fold_codex_stream_into_one_answer)
{
	char sse[sizeof(codex_sse) + sizeof(codex_completed)];
	struct buf out;

	memcpy(sse, codex_sse, sizeof(codex_sse) - 1);
	memcpy(sse + sizeof(codex_sse) - 1, codex_completed,
	       sizeof(codex_completed));
	REQUIRE(fold(sse, 0, &out) == 0);
	CHECK_EQ_STR(out.p,
		"{\"id\":\"resp_1\",\"object\":\"chat.completion\",\"created\":"
		"1700000000,\"model\":\"gpt-5-codex\",\"choices\":[{\"index\":0,"
		"\"message\":{\"role\":\"assistant\",\"content\":\"Checking.\","
		"\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
		"\"function\":{\"name\":\"get_weather\",\"arguments\":"
		"\"{\\\"city\\\":\\\"Tokyo\\\"}\"}}]},\"finish_reason\":"
		"\"tool_calls\"}],\"usage\":{\"prompt_tokens\":20,"
		"\"completion_tokens\":9,\"total_tokens\":29,"
		"\"prompt_tokens_details\":{\"cached_tokens\":0},"
		"\"completion_tokens_details\":{\"reasoning_tokens\":0}}}");
	buf_free(&out);
}

/* Without response.completed the folded answer would look whole: it is
 * an error instead.  A stream client keeps what it was sent. */
TEST(xlate_fold_cut_stream_is_an_error)
{
	struct buf out;

	CHECK_EQ_INT(fold(codex_sse, 0, &out), 502);
	CHECK_EQ_STR(out.p, "upstream stream ended before the answer was "
			    "complete");
	buf_free(&out);
	CHECK_EQ_INT(fold(codex_sse, 1, &out), 0);
	CHECK(strstr(out.p, "data: [DONE]") != NULL);
	buf_free(&out);
}
