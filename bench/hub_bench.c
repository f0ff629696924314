/*
 * bench/hub_bench.c - streamed translation throughput of the hub (issue 4).
 *
 * For each upstream format (OpenAI chat, Claude messages, Gemini) it builds
 * in memory a realistic SSE answer of about MB megabytes: many text deltas
 * of 20-60 bytes (words, code, markdown, JSON escapes, UTF-8), then tool
 * calls whose arguments are streamed in 20-60 byte fragments (whole, in one
 * event, for Gemini, as Gemini sends them), then finish and usage, framed
 * exactly as the real APIs frame them.  Then, for each client format
 * (OpenAI, Responses, Claude, Gemini), it runs the shipped pipeline
 * (src/xlate.c, the one src/exch.c drives) on it: xlate_stream in 16 KB
 * pieces -> upstream decode_event -> client encode_event into the
 * pipeline's output buffer, reset after every push (as src/exch.c does
 * after writing it to the socket), and times it with
 * CLOCK_PROCESS_CPUTIME_ID, best of REPS (run in rounds over all pairs).
 *
 * Before timing, one untimed pass per pair counts the decoded events and
 * checks them against what was generated (text bytes, tool calls, argument
 * bytes, finish, no error): a wrong stream is reported, not timed.
 *
 * Usage:
 *   hub_bench [MB [REPS]]          table on stdout (tab-separated rows)
 *   hub_bench dump DIR KB          small streams + every pair's client output
 *                                  into DIR (for bench/hub.sh's checker)
 *   hub_bench gen FMT BYTES NTOOLS FILE
 *                                  write one upstream stream to FILE
 *
 * Build (bench/hub.sh does it):
 *   cc -std=c99 -O2 -D_DEFAULT_SOURCE -DJSMN_STRICT -Isrc
 *      -Ibuild/third_party/jsmn bench/hub_bench.c src/hub*.c src/xlate.c
 *      src/apierr.c
 *      src/sse.c src/json.c src/buf.c -o build/bench/hub_bench
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "hub.h"
#include "xlate.h"

#define PIECE (16 * 1024)               /* bytes per sse_push */
#define OBUF_MAX (64L * 1024 * 1024)    /* as UBODY_MAX in exch.c */
#define BIG (512L * 1024 * 1024)
#define NTOOLS_DEFAULT 8

/* Streaming client formats measured (the legacy completions client is
 * a thin variant of OpenAI's and is left out). */
#define NCLIENTS HUB_COMPLETIONS

static const char *const fmt_name[HUB__COUNT] = {
	"openai", "responses", "claude", "gemini", "completions"
};

/* ------------------------------------------------------------ generator */

static uint32_t rng = 0x9e3779b9u;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static unsigned rnd_in(unsigned lo, unsigned hi) /* [lo, hi] */
{
	return lo + rnd() % (hi - lo + 1);
}

/* Pieces of model output: prose, markdown, code with quotes, backslashes,
 * tabs and newlines, and non-ASCII text (passes through as UTF-8). */
static const char *const words[] = {
	"the ", "function ", "returns ", "a ", "value ", "of ", "type ",
	"and ", "then ", "we ", "need ", "to ", "update ", "config ",
	"handler ", "so ", "that ", "it ", "works. ", "This ", "is ",
	"because ", "request ", "stream ", "buffer ", "with ", "each ",
	"event ", "file ", "tests ", "pass", ", ", ". ", "\n\n", "\n",
	"## Summary\n", "- ", "**Note:** ", "`src/exch.c` ", "`buf_put()` ",
	"```c\n", "```\n", "    ", "\t", "if (n < 0)\n", "\treturn -1;\n",
	"printf(\"%s\\n\", name);\n", "{\"key\": \"value\"}", "C:\\path\\to ",
	"x = a[i] * 2;\n", "<div class=\"x\">", "caf\xc3\xa9 ",
	"na\xc3\xafve ", "\xe2\x80\x94 ", "\xe2\x80\x9cquoted\xe2\x80\x9d ",
	"\xe4\xb8\xad\xe6\x96\x87 ", "\xf0\x9f\x9a\x80 ", "->", "=> ",
	"42 ", "0x1f ", "3.14 ", "(see above) ", "TODO: ", "// comment\n",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

struct gen {
	struct buf s;        /* the SSE stream */
	struct buf tmp;      /* scratch */
	long ntext;          /* text deltas */
	long text_bytes;     /* escaped text bytes */
	long ntool;          /* tool calls */
	long args_bytes;     /* escaped argument bytes */
	long nevents;        /* SSE events */
};

/* One text delta: raw 20-60 bytes of whole words, escaped into out. */
static void gen_delta(struct buf *out)
{
	unsigned want = rnd_in(20, 60), n = 0;
	char raw[128];
	while (n < want) {
		const char *w = words[rnd() % NWORDS];
		size_t l = strlen(w);
		if (n + l > sizeof(raw))
			break;
		memcpy(raw + n, w, l);
		n += (unsigned)l;
	}
	buf_json_esc(out, raw, n);
}

/* Tool call k: name and raw JSON arguments (about 2-12 KB: Claude Code
 * style Write/Edit/Bash/Read calls). */
static const char *const tool_names[] = {
	"Write", "Edit", "Bash", "Read", "Grep", "TodoWrite", "Write", "Edit"
};

static void gen_args(struct buf *a, int k)
{
	unsigned i, lines = rnd_in(40, 240);
	buf_reset(a);
	switch (k % 4) {
	case 0: /* Write: a whole file */
		buf_printf(a, "{\"file_path\":\"/home/user/project/src/mod_%d.py\",\"content\":\"", k);
		for (i = 0; i < lines; i++) {
			char line[160];
			int n = snprintf(line, sizeof(line),
					 "    result_%u = compute(\"item-%u\", %u)  # caf\xc3\xa9\n",
					 i, rnd() % 1000, i * 7);
			buf_json_esc(a, line, (size_t)n);
		}
		buf_puts(a, "\"}");
		break;
	case 1: /* Edit */
		buf_printf(a, "{\"file_path\":\"/home/user/project/src/exch_%d.c\",\"old_string\":\"", k);
		for (i = 0; i < lines / 2; i++)
			buf_puts(a, "\\tif (x->active)\\n\\t\\tflush_obuf(x);\\n");
		buf_puts(a, "\",\"new_string\":\"");
		for (i = 0; i < lines / 2; i++)
			buf_puts(a, "\\tif (x->active && !x->paused)\\n\\t\\tflush_obuf(x); /* \\\"hot\\\" */\\n");
		buf_puts(a, "\",\"replace_all\":false}");
		break;
	case 2: /* Bash */
		buf_puts(a, "{\"command\":\"cd ~/project && make -j4 && ");
		for (i = 0; i < lines / 4; i++)
			buf_printf(a, "grep -rn \\\"pattern_%u\\\" src/ | head -n %u && ", i, i + 1);
		buf_puts(a, "echo done\",\"description\":\"Build and search\",\"timeout\":120000}");
		break;
	default: /* TodoWrite */
		buf_puts(a, "{\"todos\":[");
		for (i = 0; i < lines / 8 + 1; i++)
			buf_printf(a, "%s{\"content\":\"Step %u: update the \\\"%s\\\" path\",\"status\":\"%s\",\"activeForm\":\"Updating step %u\",\"id\":\"%u\"}",
				   i ? "," : "", i, words[i % NWORDS][0] == '\n' ? "x" : "hub",
				   i % 3 ? "pending" : "in_progress", i, i);
		buf_puts(a, "]}");
		break;
	}
}

/* Split the raw JSON text a into 20-60 byte fragments (never inside a
 * UTF-8 sequence); calls put(g, escaped fragment) for each. */
static void gen_fragments(struct gen *g, const struct buf *a,
			  void (*put)(struct gen *, const char *, size_t))
{
	size_t off = 0;
	struct buf esc;
	buf_init(&esc, BIG);
	while (off < a->len) {
		size_t n = rnd_in(20, 60);
		if (off + n > a->len)
			n = a->len - off;
		while (off + n < a->len && ((unsigned char)a->p[off + n] & 0xc0) == 0x80)
			n++;
		buf_reset(&esc);
		buf_json_esc(&esc, a->p + off, n);
		g->args_bytes += (long)esc.len;
		put(g, esc.p, esc.len);
		off += n;
	}
	buf_free(&esc);
}

/* ---- OpenAI chat completions ---- */

#define OA_HEAD "data: {\"id\":\"chatcmpl-CbBench0123456789abcdefXYZ\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":\"gpt-4.1-2025-04-14\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_b3f1157249\",\"choices\":["

static void oa_obf(struct buf *s)
{
	/* "obfuscation": random padding OpenAI adds to every chunk */
	static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned i, n = rnd_in(2, 12);
	buf_puts(s, ",\"obfuscation\":\"");
	for (i = 0; i < n; i++)
		buf_putc(s, al[rnd() % (sizeof(al) - 1)]);
	buf_putc(s, '"');
}

static int oa_tool_idx;

static void oa_args(struct gen *g, const char *p, size_t n)
{
	buf_printf(&g->s, OA_HEAD "{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":%d,\"function\":{\"arguments\":\"", oa_tool_idx);
	buf_put(&g->s, p, n);
	buf_puts(&g->s, "\"}}]},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null");
	oa_obf(&g->s);
	buf_puts(&g->s, "}\n\n");
	g->nevents++;
}

static void gen_openai(struct gen *g, size_t target, int ntools)
{
	struct buf *s = &g->s;
	int k;
	buf_puts(s, OA_HEAD "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null");
	oa_obf(s);
	buf_puts(s, "}\n\n");
	g->nevents++;
	while (s->len + (size_t)ntools * 12000 + 1024 < target) {
		size_t o;
		buf_puts(s, OA_HEAD "{\"index\":0,\"delta\":{\"content\":\"");
		o = s->len;
		gen_delta(s);
		g->text_bytes += (long)(s->len - o);
		g->ntext++;
		buf_puts(s, "\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null");
		oa_obf(s);
		buf_puts(s, "}\n\n");
		g->nevents++;
	}
	for (k = 0; k < ntools; k++) {
		oa_tool_idx = k;
		buf_printf(s, OA_HEAD "{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":%d,\"id\":\"call_Bench%08uQz\",\"type\":\"function\",\"function\":{\"name\":\"%s\",\"arguments\":\"\"}}]},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null",
			   k, rnd() % 100000000u, tool_names[k % 8]);
		oa_obf(s);
		buf_puts(s, "}\n\n");
		g->nevents++;
		gen_args(&g->tmp, k);
		gen_fragments(g, &g->tmp, oa_args);
		g->ntool++;
	}
	buf_printf(s, OA_HEAD "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"%s\"}],\"usage\":null",
		   ntools ? "tool_calls" : "stop");
	oa_obf(s);
	buf_puts(s, "}\n\n");
	buf_printf(s, OA_HEAD "],\"usage\":{\"prompt_tokens\":48213,\"completion_tokens\":%ld,\"total_tokens\":%ld,\"prompt_tokens_details\":{\"cached_tokens\":41984,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}",
		   g->ntext + 100, g->ntext + 48313);
	oa_obf(s);
	buf_puts(s, "}\n\ndata: [DONE]\n\n");
	g->nevents += 3;
}

/* ---- Claude messages ---- */

static int cl_block;

static void cl_args(struct gen *g, const char *p, size_t n)
{
	buf_printf(&g->s, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":%d,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"", cl_block);
	buf_put(&g->s, p, n);
	buf_puts(&g->s, "\"}}\n\n");
	g->nevents++;
}

static void gen_claude(struct gen *g, size_t target, int ntools)
{
	struct buf *s = &g->s;
	int k;
	buf_puts(s, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":6229,\"cache_creation_input_tokens\":1024,\"cache_read_input_tokens\":40960,\"cache_creation\":{\"ephemeral_5m_input_tokens\":1024,\"ephemeral_1h_input_tokens\":0},\"output_tokens\":3,\"service_tier\":\"standard\"}}}\n\n");
	buf_puts(s, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
	buf_puts(s, "event: ping\ndata: {\"type\": \"ping\"}\n\n");
	g->nevents += 3;
	while (s->len + (size_t)ntools * 12000 + 1024 < target) {
		size_t o;
		buf_puts(s, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"");
		o = s->len;
		gen_delta(s);
		g->text_bytes += (long)(s->len - o);
		g->ntext++;
		buf_puts(s, "\"}}\n\n");
		g->nevents++;
	}
	buf_puts(s, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
	g->nevents++;
	for (k = 0; k < ntools; k++) {
		cl_block = k + 1;
		buf_printf(s, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":%d,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01Bench%08uAbCdEfGh\",\"name\":\"%s\",\"input\":{}}}\n\n",
			   cl_block, rnd() % 100000000u, tool_names[k % 8]);
		buf_printf(s, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":%d,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\n\n", cl_block);
		g->nevents += 2;
		gen_args(&g->tmp, k);
		gen_fragments(g, &g->tmp, cl_args);
		buf_printf(s, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":%d}\n\n", cl_block);
		g->nevents++;
		g->ntool++;
	}
	buf_printf(s, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"%s\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":6229,\"cache_creation_input_tokens\":1024,\"cache_read_input_tokens\":40960,\"output_tokens\":%ld}}\n\n",
		   ntools ? "tool_use" : "end_turn", g->ntext + 100);
	buf_puts(s, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
	g->nevents += 2;
}

/* ---- Gemini (streamGenerateContent?alt=sse: CRLF framing, spaces after
 * colons, usageMetadata/modelVersion/responseId on every chunk) ---- */

#define GM_TAIL "\"modelVersion\": \"gemini-2.5-pro\",\"responseId\": \"Xb5QaK3xBq2nz7IPsLDy4Ak\"}\r\n\r\n"

static void gm_usage(struct buf *s, long cand)
{
	if (cand < 0)
		buf_puts(s, "\"usageMetadata\": {\"promptTokenCount\": 48213,\"totalTokenCount\": 48213,\"cachedContentTokenCount\": 41984,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 48213}]},");
	else
		buf_printf(s, "\"usageMetadata\": {\"promptTokenCount\": 48213,\"candidatesTokenCount\": %ld,\"totalTokenCount\": %ld,\"cachedContentTokenCount\": 41984,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 48213}],\"thoughtsTokenCount\": 512},",
			   cand, cand + 48725);
}

static void gen_gemini(struct gen *g, size_t target, int ntools)
{
	struct buf *s = &g->s;
	int k;
	while (s->len + (size_t)ntools * 12000 + 1024 < target) {
		size_t o;
		buf_puts(s, "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"");
		o = s->len;
		gen_delta(s);
		g->text_bytes += (long)(s->len - o);
		g->ntext++;
		buf_puts(s, "\"}],\"role\": \"model\"},\"index\": 0}],");
		gm_usage(s, -1);
		buf_puts(s, GM_TAIL);
		g->nevents++;
	}
	for (k = 0; k < ntools; k++) {
		struct buf esc;
		buf_puts(s, "data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"");
		buf_puts(s, tool_names[k % 8]);
		buf_puts(s, "\",\"args\": ");
		gen_args(&g->tmp, k);
		buf_put(s, g->tmp.p, g->tmp.len);
		buf_puts(s, "}");
		if (k == 0)
			buf_puts(s, ",\"thoughtSignature\": \"CiQB0e2Kb7Q1mZ3x9vYH8lL2pQbench+sig/AAAA==\"");
		buf_puts(s, "}],\"role\": \"model\"},");
		if (k == ntools - 1)
			buf_puts(s, "\"finishReason\": \"STOP\",");
		buf_puts(s, "\"index\": 0}],");
		gm_usage(s, k == ntools - 1 ? g->ntext + 100 : -1);
		buf_puts(s, GM_TAIL);
		buf_init(&esc, BIG);
		buf_json_esc(&esc, g->tmp.p, g->tmp.len);
		g->args_bytes += (long)esc.len;
		buf_free(&esc);
		g->ntool++;
		g->nevents++;
	}
	if (!ntools) {
		buf_puts(s, "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],");
		gm_usage(s, g->ntext + 100);
		buf_puts(s, GM_TAIL);
		g->nevents++;
	}
}

static void generate(struct gen *g, enum hub_fmt f, size_t target, int ntools)
{
	memset(g, 0, sizeof(*g));
	buf_init(&g->s, BIG);
	buf_init(&g->tmp, BIG);
	rng = 0x9e3779b9u; /* same content for every format */
	if (f == HUB_OPENAI)
		gen_openai(g, target, ntools);
	else if (f == HUB_CLAUDE)
		gen_claude(g, target, ntools);
	else
		gen_gemini(g, target, ntools);
	if (g->s.overflow) {
		fprintf(stderr, "hub_bench: generator overflow\n");
		exit(1);
	}
}

/* ----------------------------------------------------------- the pipe */

struct counts {
	long ev[HUB_EV_DONE + 1];
	long text_bytes, args_bytes;
	int finish;
	char err[200];
};

/* The shipped pipeline (src/xlate.c), with a tap that counts events on
 * the checking pass. */
struct pipe {
	struct xlate t;
	struct counts *cnt;  /* NULL when timing */
	long out_bytes;
	FILE *dump;          /* client output, when dumping */
};

static void on_event(void *user, const struct hub_event *ev)
{
	struct counts *c = user;
	c->ev[ev->type]++;
	if (ev->type == HUB_EV_TEXT)
		c->text_bytes += (long)ev->text.n;
	else if (ev->type == HUB_EV_TOOL_ARGS)
		c->args_bytes += (long)ev->text.n;
	else if (ev->type == HUB_EV_FINISH)
		c->finish = ev->finish;
	else if (ev->type == HUB_EV_ERROR && !c->err[0])
		snprintf(c->err, sizeof(c->err), "%d %.*s", ev->status,
			 (int)(ev->text.n > 150 ? 150 : ev->text.n),
			 ev->text.p ? ev->text.p : "");
}

static void flush(struct pipe *x)
{
	struct buf *o = &x->t.out;
	x->out_bytes += (long)o->len;
	if (x->dump && o->len)
		fwrite(o->p, 1, o->len, x->dump);
	buf_reset(o);
}

/* One pass of stream s through (u -> c).  Returns CPU seconds; sets
 * *out_bytes; -1 on an overflow. */
static double run(enum hub_fmt u, enum hub_fmt c, const struct buf *s,
		  struct counts *cnt, FILE *dump, long *out_bytes)
{
	struct pipe x;
	struct hub_enc_opts eo;
	struct timespec t0, t1;
	size_t off;
	int bad = 0;

	memset(&x, 0, sizeof(x));
	x.cnt = cnt;
	x.dump = dump;
	memset(&eo, 0, sizeof(eo));
	eo.stream = 1;
	eo.model = c == HUB_GEMINI ? "gemini-2.5-pro"
		   : c == HUB_CLAUDE ? "claude-sonnet-4-5" : "gpt-4.1";
	eo.created = 1764000000;
	eo.seed = 12345;
	xlate_init(&x.t, c, u, &eo, OBUF_MAX);
	if (cnt) {
		x.t.tap = on_event;
		x.t.tap_user = cnt;
	}
	x.t.sent = 1; /* an error is an event of the stream here */

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (off = 0; off < s->len; off += PIECE) {
		size_t n = s->len - off < PIECE ? s->len - off : PIECE;
		if (xlate_stream(&x.t, s->p + off, n) < 0)
			bad = 1;
		if (x.t.out.overflow)
			bad = 1;
		flush(&x);
	}
	xlate_stream_end(&x.t);
	xlate_done(&x.t);
	if (x.t.out.overflow)
		bad = 1;
	flush(&x);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);

	xlate_free(&x.t);
	*out_bytes = x.out_bytes;
	if (bad)
		return -1;
	return (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* The untimed checking pass.  NULL when the events match the stream, else
 * what is wrong. */
static const char *verify(enum hub_fmt u, enum hub_fmt c, const struct gen *g,
			  struct counts *cnt)
{
	static char why[400];
	long ob;
	memset(cnt, 0, sizeof(*cnt));
	if (run(u, c, &g->s, cnt, NULL, &ob) < 0)
		return "buffer overflow (sse event or output)";
	if (cnt->err[0]) {
		snprintf(why, sizeof(why), "ERROR event: %s", cnt->err);
		return why;
	}
	if (cnt->ev[HUB_EV_TEXT] != g->ntext || cnt->text_bytes != g->text_bytes) {
		snprintf(why, sizeof(why), "text: %ld events / %ld bytes, generated %ld / %ld",
			 cnt->ev[HUB_EV_TEXT], cnt->text_bytes, g->ntext, g->text_bytes);
		return why;
	}
	if (cnt->ev[HUB_EV_TOOL_START] != g->ntool ||
	    cnt->ev[HUB_EV_TOOL_END] != g->ntool ||
	    cnt->args_bytes != g->args_bytes) {
		snprintf(why, sizeof(why), "tools: %ld starts, %ld ends, %ld arg bytes; generated %ld calls, %ld arg bytes",
			 cnt->ev[HUB_EV_TOOL_START], cnt->ev[HUB_EV_TOOL_END],
			 cnt->args_bytes, g->ntool, g->args_bytes);
		return why;
	}
	if (cnt->ev[HUB_EV_FINISH] != 1 || cnt->ev[HUB_EV_USAGE] < 1 ||
	    cnt->ev[HUB_EV_START] != 1) {
		snprintf(why, sizeof(why), "start %ld, finish %ld, usage %ld (want 1, 1, >= 1)",
			 cnt->ev[HUB_EV_START], cnt->ev[HUB_EV_FINISH], cnt->ev[HUB_EV_USAGE]);
		return why;
	}
	if (cnt->finish != (g->ntool ? HUB_FIN_TOOL : HUB_FIN_STOP))
		return "wrong finish reason";
	return NULL;
}

static const enum hub_fmt ups[3] = {HUB_OPENAI, HUB_CLAUDE, HUB_GEMINI};

static int parse_fmt(const char *s)
{
	int i;
	for (i = 0; i < HUB__COUNT; i++)
		if (strcmp(s, fmt_name[i]) == 0)
			return i;
	return -1;
}

/* All three streams are generated first; then the repetitions run in
 * rounds over every pair, so a burst of other load on the machine cannot
 * spoil all repetitions of one pair. */
static int cmd_bench(double mb, int reps)
{
	size_t target = (size_t)(mb * 1024 * 1024);
	struct gen g[3];
	const char *why[3][HUB__COUNT];
	double best[3][HUB__COUNT];
	long ob[3][HUB__COUNT];
	int ui, c, r, fails = 0;

	for (ui = 0; ui < 3; ui++) {
		generate(&g[ui], ups[ui], target, NTOOLS_DEFAULT);
		for (c = 0; c < NCLIENTS; c++) {
			struct counts cnt;
			why[ui][c] = verify(ups[ui], (enum hub_fmt)c, &g[ui], &cnt);
			if (why[ui][c]) {
				/* verify's message lives in a static buffer */
				why[ui][c] = strdup(why[ui][c]);
				fails++;
			}
			best[ui][c] = 1e9;
			ob[ui][c] = 0;
		}
	}
	for (r = 0; r < reps; r++)
		for (ui = 0; ui < 3; ui++)
			for (c = 0; c < NCLIENTS; c++) {
				double t;
				if (why[ui][c])
					continue;
				t = run(ups[ui], (enum hub_fmt)c, &g[ui].s, NULL, NULL, &ob[ui][c]);
				if (t >= 0 && t < best[ui][c])
					best[ui][c] = t;
			}
	printf("# upstream\tclient\tin_bytes\tsse_events\ttext_deltas\ttool_calls\tout_bytes\tbest_cpu_s\tMB_per_s\tdeltas_per_s\tcheck\n");
	for (ui = 0; ui < 3; ui++) {
		const struct gen *x = &g[ui];
		for (c = 0; c < NCLIENTS; c++) {
			if (why[ui][c]) {
				printf("%s\t%s\t%zu\t%ld\t%ld\t%ld\t-\t-\t-\t-\tFAIL: %s\n",
				       fmt_name[ups[ui]], fmt_name[c], x->s.len, x->nevents,
				       x->ntext, x->ntool, why[ui][c]);
				continue;
			}
			printf("%s\t%s\t%zu\t%ld\t%ld\t%ld\t%ld\t%.4f\t%.1f\t%.0f\tok\n",
			       fmt_name[ups[ui]], fmt_name[c], x->s.len, x->nevents,
			       x->ntext, x->ntool, ob[ui][c], best[ui][c],
			       (double)x->s.len / (1024.0 * 1024.0) / best[ui][c],
			       (double)x->ntext / best[ui][c]);
		}
	}
	for (ui = 0; ui < 3; ui++) {
		buf_free(&g[ui].s);
		buf_free(&g[ui].tmp);
	}
	return fails ? 2 : 0;
}

static int write_file(const char *path, const char *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "hub_bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int cmd_dump(const char *dir, long kb)
{
	int ui, c;
	char path[4096];
	for (ui = 0; ui < 3; ui++) {
		enum hub_fmt u = ups[ui];
		struct gen g;
		generate(&g, u, (size_t)kb * 1024, 4);
		snprintf(path, sizeof(path), "%s/up-%s.sse", dir, fmt_name[u]);
		if (write_file(path, g.s.p, g.s.len) < 0)
			return 1;
		for (c = 0; c < NCLIENTS; c++) {
			long ob;
			FILE *f;
			snprintf(path, sizeof(path), "%s/out-%s-%s.txt", dir,
				 fmt_name[u], fmt_name[c]);
			f = fopen(path, "wb");
			if (!f) {
				fprintf(stderr, "hub_bench: %s: %s\n", path, strerror(errno));
				return 1;
			}
			if (run(u, (enum hub_fmt)c, &g.s, NULL, f, &ob) < 0)
				fprintf(stderr, "hub_bench: overflow in %s\n", path);
			fclose(f);
		}
		buf_free(&g.s);
		buf_free(&g.tmp);
	}
	return 0;
}

static int cmd_gen(const char *fmt, long bytes, int ntools, const char *file)
{
	struct gen g;
	int f = parse_fmt(fmt);
	if (f < 0 || f == HUB_RESPONSES) {
		fprintf(stderr, "hub_bench: gen: format must be openai, claude or gemini\n");
		return 1;
	}
	generate(&g, (enum hub_fmt)f, (size_t)bytes, ntools);
	return write_file(file, g.s.p, g.s.len) < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "dump") == 0) {
		if (argc != 4)
			goto usage;
		return cmd_dump(argv[2], atol(argv[3]));
	}
	if (argc >= 2 && strcmp(argv[1], "gen") == 0) {
		if (argc != 6)
			goto usage;
		return cmd_gen(argv[2], atol(argv[3]), atoi(argv[4]), argv[5]);
	}
	if (argc <= 3) {
		double mb = argc >= 2 ? atof(argv[1]) : 20;
		int reps = argc >= 3 ? atoi(argv[2]) : 3;
		if (mb <= 0 || mb > 400 || reps < 1)
			goto usage;
		return cmd_bench(mb, reps);
	}
usage:
	fprintf(stderr, "usage: hub_bench [MB [REPS]] | dump DIR KB | gen FMT BYTES NTOOLS FILE\n");
	return 1;
}
