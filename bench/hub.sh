#!/usr/bin/env bash
# shellcheck disable=SC2119 # stop_proxy (bench/lib.sh) has an optional argument
#
# bench/hub.sh - translation figures for cli-proxy-api (issue 4).
#
# What it measures, all in one run on this machine:
#   1. Streamed translation throughput of the hub, per (upstream, client)
#      pair: bench/hub_bench.c builds a ~20 MB realistic SSE answer per
#      upstream format (OpenAI chat, Claude, Gemini) in memory and runs it
#      through sse_push (16 KB pieces) -> decode_event -> encode_event into
#      one reused buffer; CPU time (CLOCK_PROCESS_CPUTIME_ID), best of 3;
#      MB of upstream SSE per CPU-second and the output/input size ratio.
#      Before that, a small version of every pair is written out and
#      checked by a Python parser (text and tool calls arrive unchanged).
#   2. A 2 MB Claude-Code-sized POST /v1/messages (stream) translated to a
#      Gemini upstream (nginx serving a static :streamGenerateContent SSE
#      answer), end to end, p50/p95 over 50 sequential requests on one
#      keep-alive connection; the same request straight to nginx as the
#      baseline.
#   3. Proxy RSS while 64 such requests are in flight: a Python upstream
#      that waits 2 s before answering holds them; VmRSS/VmHWM sampled
#      every 20 ms.  Run once with max-body-total = 256m (all admitted) and
#      once with the default (64m).  The translated Gemini request the
#      upstream received is checked (schema keys Gemini rejects removed).
#   4. Memory per stream against answer length: one streamed Claude-client
#      request whose OpenAI-compatible upstream (nginx, static SSE file)
#      answers 1 KB, then, on a fresh proxy, one answering 50 MB; VmHWM
#      after each.
# Servers (proxy, nginx, Python upstream, hub_bench) run on CPU 0, clients
# on CPU 1 (BENCH_PIN, as in bench/run.sh).  Traffic goes only to
# 127.0.0.1; every server runs under `timeout`, every client has a timeout.
#
# Usage: bench/hub.sh           (about a minute)
# Environment (all optional):
#   BENCH_BIN=PATH      proxy binary instead of `make static`
#   BENCH_REPO=DIR      repository root (default: the parent of bench/)
#   BENCH_PIN=split     split | same | none, as for bench/run.sh
#   BENCH_MB=20         size of each generated upstream stream in part 1
#   BENCH_REQS=50       timed requests per target in part 2
#   BENCH_CONC=64       concurrent requests in part 3
#
# Results: printed at the end and written to build/bench/hub.md; raw
# output, configs and logs in build/bench/hub/.

set -Eeuo pipefail

REPO=$(cd "${BENCH_REPO:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)
MB=${BENCH_MB:-20}
NREQ=${BENCH_REQS:-50}
NCONC=${BENCH_CONC:-64}
OUT_DIR=$REPO/build/bench
RAW=$OUT_DIR/hub
RESULTS=$OUT_DIR/hub.md
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cpa-hubbench.XXXXXX")
GUARD=(timeout -k 5 600)  # no server lives longer than 10 minutes
REQ_BYTES=$((2 * 1024 * 1024))
BIG_BYTES=$((50 * 1024 * 1024))
SLOW_DELAY=2
MBS_TARGET=100
P50_TARGET=20

MOCK_PID=
SERVER_PID=
SERVER_REAL=
SLOW_PID=
NOTES=()

BENCH_NAME="hub bench"
CLEANUP_PIDS=(SERVER_PID SLOW_PID MOCK_PID)
# log, note, die, cleanup, ports, pinning, start_proxy, ...
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ------------------------------------------------------------------ build

build_all() {
	log "make -C $REPO deps"
	make -C "$REPO" deps >"$RAW/make-deps.log" 2>&1 ||
		{ tail -n 20 "$RAW/make-deps.log" >&2; die "'make deps' failed"; }
	log "cc bench/hub_bench.c"
	(cd "$REPO" && cc -std=c99 -O2 -D_DEFAULT_SOURCE -DJSMN_STRICT -Isrc -Ibuild/third_party/jsmn \
		bench/hub_bench.c src/hub*.c src/xlate.c src/apierr.c src/sse.c src/json.c src/buf.c \
		-o build/bench/hub_bench) >"$RAW/cc-hub_bench.log" 2>&1 ||
		{ cat "$RAW/cc-hub_bench.log" >&2; die "building hub_bench failed"; }
	HB=$OUT_DIR/hub_bench
	CC_VERSION=$(cc --version | head -n 1)
	if [ -n "${BENCH_BIN:-}" ]; then
		[ -x "$BENCH_BIN" ] || die "BENCH_BIN=$BENCH_BIN is not executable"
		BIN=$BENCH_BIN BIN_KIND="$BENCH_BIN (BENCH_BIN)"
		note "parts 2-4 measured BENCH_BIN=$BENCH_BIN, not a fresh build"
		return
	fi
	try_make_static "$RAW" && return
	note "'make static' failed (log: build/bench/hub/make-static.log): parts 2-4 FELL BACK to the dynamic build/cli-proxy-api"
	if ! make -C "$REPO" >"$RAW/make.log" 2>&1 || [ ! -x "$REPO/build/cli-proxy-api" ]; then
		tail -n 20 "$RAW/make.log" >&2
		die "'make' failed"
	fi
	BIN=$REPO/build/cli-proxy-api
	BIN_KIND="build/cli-proxy-api (plain make, fallback)"
}

# ---------------------------------------------------------------- helpers

# utime + stime of a process, in clock ticks (fields 14 and 15; the
# command name in field 2 has no spaces here).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

jget() { # file key: a top-level value of a JSON object (compact JSON)
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print(json.dumps(v) if isinstance(v,(dict,list)) else v)' "$1" "$2"
}

# ------------------------------------------------------------ python tools

# check.py: parses the client output of every pair written by
# `hub_bench dump` and compares its text and tool calls with the upstream's.
# hubtool.py: the request generator, HTTP clients, slow upstream, checks.
write_python() {
	cat >"$TMP/check.py" <<'PYEOF'
# Checks hub_bench dump output: for every (upstream, client) pair, the
# client stream parses (every data: payload is JSON), ends as its format
# ends, and carries the upstream's text and tool calls unchanged.
import json, sys, os

def events(path):
    raw = open(path, "rb").read().decode("utf-8")
    raw = raw.replace("\r\n", "\n")
    out = []
    for block in raw.split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        if data:
            out.append((name, "\n".join(data)))
    return out

def parse(fmt, path):
    text, tools, end = [], {}, False
    order = []
    for name, d in events(path):
        if d == "[DONE]":
            end = fmt == "openai"
            continue
        j = json.loads(d)  # raises on invalid JSON
        if fmt == "openai":
            for ch in j.get("choices") or []:
                de = ch.get("delta") or {}
                if de.get("content"):
                    text.append(de["content"])
                for tc in de.get("tool_calls") or []:
                    t = tools.setdefault(tc["index"], ["", ""])
                    if tc["index"] not in order: order.append(tc["index"])
                    f = tc.get("function") or {}
                    if f.get("name"): t[0] = f["name"]
                    t[1] += f.get("arguments") or ""
        elif fmt == "claude":
            ty = j.get("type")
            if ty == "content_block_start" and j["content_block"]["type"] == "tool_use":
                tools[j["index"]] = [j["content_block"]["name"], ""]
                order.append(j["index"])
            elif ty == "content_block_delta":
                de = j["delta"]
                if de["type"] == "text_delta":
                    text.append(de["text"])
                elif de["type"] == "input_json_delta":
                    tools[j["index"]][1] += de["partial_json"]
            elif ty == "message_stop":
                end = True
        elif fmt == "gemini":
            j = j.get("response", j)
            for c in j.get("candidates") or []:
                for p in (c.get("content") or {}).get("parts") or []:
                    if "functionCall" in p:
                        k = len(order); order.append(k)
                        tools[k] = [p["functionCall"]["name"], json.dumps(p["functionCall"].get("args", {}))]
                    elif p.get("text") and not p.get("thought"):
                        text.append(p["text"])
                if c.get("finishReason"):
                    end = True
        elif fmt == "responses":
            ty = j.get("type")
            if ty == "response.output_text.delta":
                text.append(j["delta"])
            elif ty == "response.output_item.done" and j["item"]["type"] == "function_call":
                k = len(order); order.append(k)
                tools[k] = [j["item"]["name"], j["item"]["arguments"]]
            elif ty == "response.completed":
                end = True
    calls = [(tools[k][0], json.loads(tools[k][1] or "{}")) for k in order]
    return "".join(text), calls, end

def main(d):
    bad = 0
    for up in ("openai", "claude", "gemini"):
        t0, c0, _ = parse(up, os.path.join(d, "up-%s.sse" % up))
        for cl in ("openai", "responses", "claude", "gemini"):
            p = os.path.join(d, "out-%s-%s.txt" % (up, cl))
            try:
                t, c, end = parse(cl, p)
                why = []
                if t != t0: why.append("text differs (%d vs %d chars)" % (len(t), len(t0)))
                if c != c0: why.append("tool calls differ (%d vs %d)" % (len(c), len(c0)))
                if not end: why.append("no end-of-stream marker")
            except Exception as e:
                why = ["%s: %s" % (type(e).__name__, str(e)[:120])]
            if why:
                bad += 1
                print("%s -> %s: FAIL: %s" % (up, cl, "; ".join(why)))
            else:
                print("%s -> %s: ok (%d chars of text, %d tool calls)" % (up, cl, len(t0), len(c0)))
    return 1 if bad else 0

sys.exit(main(sys.argv[1]))
PYEOF
	cat >"$TMP/hubtool.py" <<'PYEOF'
# bench/hub.sh helper (Python stdlib only).
#   mkreq OUT BYTES MODEL          Claude Code-sized /v1/messages request
#   lat PORT PATH BODY N WARM      sequential timed requests on one connection
#   slow PORT DELAY ANSWER CAPTURE LIFETIME
#                                  upstream that waits DELAY s, then answers
#   conc PORT PATH BODY N PID TIMEOUT
#                                  N concurrent requests, proxy RSS sampled
#   one PORT PATH BODY PID MARKER  one request; bytes, end marker, VmHWM after
#   gemreq CAPTURE                 check a captured Gemini request body
import json, os, random, socket, sys, threading, time

# ------------------------------------------------------------ request

SCHEMA = "http://json-schema.org/draft-07/schema#"

def obj(props, required=(), **kw):
    o = {"type": "object", "properties": props, "required": list(required),
         "additionalProperties": False, "$schema": SCHEMA}
    o.update(kw)
    return o

def s(desc, **kw):
    d = {"type": "string", "description": desc}
    d.update(kw)
    return d

def tools(rnd):
    lorem = ("Use this tool when the task needs it. It runs in the user's "
             "workspace; paths must be absolute. Prefer the specialised tools "
             "over shell commands for reading and searching files. ")
    base = [
        ("Task", obj({"description": s("A short (3-5 word) description of the task"),
                      "prompt": s("The task for the agent to perform"),
                      "subagent_type": s("The type of specialized agent to use for this task")},
                     ["description", "prompt", "subagent_type"])),
        ("Bash", obj({"command": s("The command to execute"),
                      "timeout": {"type": "number", "description": "Optional timeout in milliseconds (max 600000)"},
                      "description": s("Clear, concise description of what this command does in 5-10 words"),
                      "run_in_background": {"type": "boolean", "description": "Set to true to run this command in the background."}},
                     ["command"])),
        ("Glob", obj({"pattern": s("The glob pattern to match files against"),
                      "path": s("The directory to search in.")}, ["pattern"])),
        ("Grep", obj({"pattern": s("The regular expression pattern to search for in file contents"),
                      "path": s("File or directory to search in"),
                      "glob": s("Glob pattern to filter files"),
                      "output_mode": {"type": "string", "enum": ["content", "files_with_matches", "count"],
                                      "description": "Output mode"},
                      "-B": {"type": "number", "description": "Lines before each match"},
                      "-A": {"type": "number", "description": "Lines after each match"},
                      "-C": {"type": "number", "description": "Lines around each match"},
                      "-n": {"type": "boolean", "description": "Show line numbers"},
                      "-i": {"type": "boolean", "description": "Case insensitive search"},
                      "type": s("File type to search"),
                      "head_limit": {"type": "number", "description": "Limit output to first N lines/entries"},
                      "multiline": {"type": "boolean", "description": "Enable multiline mode"}},
                     ["pattern"])),
        ("ExitPlanMode", obj({"plan": s("The plan you came up with, in markdown")}, ["plan"])),
        ("Read", obj({"file_path": s("The absolute path to the file to read"),
                      "offset": {"type": "number", "description": "The line number to start reading from"},
                      "limit": {"type": "number", "description": "The number of lines to read"}},
                     ["file_path"])),
        ("Edit", obj({"file_path": s("The absolute path to the file to modify"),
                      "old_string": s("The text to replace"),
                      "new_string": s("The text to replace it with (must be different from old_string)"),
                      "replace_all": {"type": "boolean", "default": False, "description": "Replace all occurences"}},
                     ["file_path", "old_string", "new_string"])),
        ("MultiEdit", obj({"file_path": s("The absolute path to the file to modify"),
                           "edits": {"type": "array", "minItems": 1, "description": "Array of edit operations",
                                     "items": {"type": "object", "additionalProperties": False,
                                               "required": ["old_string", "new_string"],
                                               "properties": {"old_string": s("The text to replace"),
                                                              "new_string": s("The replacement text"),
                                                              "replace_all": {"type": "boolean", "default": False}}}}},
                          ["file_path", "edits"])),
        ("Write", obj({"file_path": s("The absolute path to the file to write"),
                       "content": s("The content to write to the file")}, ["file_path", "content"])),
        ("NotebookEdit", obj({"notebook_path": s("The absolute path to the Jupyter notebook file"),
                              "cell_id": s("The ID of the cell to edit"),
                              "new_source": s("The new source for the cell"),
                              "cell_type": {"type": "string", "enum": ["code", "markdown"]},
                              "edit_mode": {"type": "string", "enum": ["replace", "insert", "delete"]}},
                             ["notebook_path", "new_source"])),
        ("WebFetch", obj({"url": s("The URL to fetch content from", format="uri"),
                          "prompt": s("The prompt to run on the fetched content")}, ["url", "prompt"])),
        ("TodoWrite", obj({"todos": {"type": "array", "description": "The updated todo list",
                                     "items": {"type": "object", "additionalProperties": False,
                                               "required": ["content", "status", "activeForm"],
                                               "properties": {"content": {"type": "string", "minLength": 1},
                                                              "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
                                                              "activeForm": {"type": "string", "minLength": 1}}}}},
                          ["todos"])),
        ("WebSearch", obj({"query": s("The search query to use", minLength=2),
                           "allowed_domains": {"type": "array", "items": {"type": "string"}},
                           "blocked_domains": {"type": "array", "items": {"type": "string"}}}, ["query"])),
        ("BashOutput", obj({"bash_id": s("The ID of the background shell"),
                            "filter": s("Optional regular expression to filter the output lines")}, ["bash_id"])),
        ("KillShell", obj({"shell_id": s("The ID of the background shell to kill")}, ["shell_id"])),
        ("SlashCommand", obj({"command": s("The slash command to execute with its arguments")}, ["command"])),
    ]
    for i in range(24 - len(base)):
        base.append(("mcp__server%d__tool_%d" % (i % 3, i),
                     obj({"query": s("Query text"),
                          "limit": {"type": ["integer", "null"], "description": "Max results", "exclusiveMinimum": 0},
                          "options": {"type": "object", "additionalProperties": {"type": "string"},
                                      "properties": {"mode": {"type": "string", "const": "fast"}}}},
                         ["query"])))
    return [{"name": n, "description": lorem * rnd.randint(2, 12), "input_schema": sch}
            for n, sch in base]

def code_lines(rnd, n):
    words = ["buf", "conn", "exch", "hub", "sse", "json", "len", "off", "cap", "ret"]
    out = []
    for i in range(1, n + 1):
        w = rnd.choice(words)
        out.append("%6d\u2192    if (%s->%s < %d) { return \"%s\\n\"; }  // caf\u00e9" %
                   (i, w, rnd.choice(words), rnd.randint(0, 9999), w))
    return "\n".join(out)

def mkreq(out, size, model):
    rnd = random.Random(4)
    msgs = [{"role": "user", "content": [
        {"type": "text", "text": "<system-reminder>\nThis is a reminder. The user's workspace is /home/user/project.\n</system-reminder>"},
        {"type": "text", "text": "Please refactor the stream path in src/exch.c and make the tests pass."}]}]
    names = ["Read", "Grep", "Bash", "Edit", "Glob", "TodoWrite"]
    body = None
    k = 0
    while True:
        tid = "toolu_01%022d" % k
        name = names[k % len(names)]
        inp = {"Read": {"file_path": "/home/user/project/src/f%d.c" % k},
               "Grep": {"pattern": "sse_push\\(", "path": "/home/user/project/src", "output_mode": "content", "-n": True},
               "Bash": {"command": "make -C /home/user/project test 2>&1 | tail -n 40", "description": "Run the tests"},
               "Edit": {"file_path": "/home/user/project/src/f%d.c" % k, "old_string": "a\n\tb", "new_string": "a\n\tc"},
               "Glob": {"pattern": "src/**/*.c"},
               "TodoWrite": {"todos": [{"content": "Step %d" % i, "status": "pending", "activeForm": "Doing step %d" % i} for i in range(4)]}}[name]
        msgs.append({"role": "assistant", "content": [
            {"type": "text", "text": "Let me look at the next part of the code (step %d)." % k},
            {"type": "tool_use", "id": tid, "name": name, "input": inp}]})
        if k % 5 == 3:
            content = [{"type": "text", "text": code_lines(rnd, rnd.randint(80, 300))}]
        else:
            content = code_lines(rnd, rnd.randint(80, 400))
        res = {"type": "tool_result", "tool_use_id": tid, "content": content}
        if k % 11 == 7:
            res["is_error"] = True
        msgs.append({"role": "user", "content": [res]})
        k += 1
        body = {"model": model, "max_tokens": 32000, "stream": True, "temperature": 1,
                "metadata": {"user_id": "user_0123456789abcdef_account__session_2b1f"},
                "system": [{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.",
                            "cache_control": {"type": "ephemeral"}},
                           {"type": "text", "text": ("You are an interactive CLI tool that helps users with software engineering tasks. " * 150),
                            "cache_control": {"type": "ephemeral"}}],
                "tools": tools(random.Random(7)), "messages": msgs}
        if len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()) >= size:
            break
    msgs.append({"role": "assistant", "content": [{"type": "text", "text": "The tests pass now."}]})
    msgs.append({"role": "user", "content": [{"type": "text", "text": "Great, now summarise the change.",
                                              "cache_control": {"type": "ephemeral"}}]})
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    open(out, "wb").write(data)
    print(json.dumps({"bytes": len(data), "messages": len(msgs), "tool_uses": k,
                      "tools": len(body["tools"])}))

# ------------------------------------------------------------ http client

def request_bytes(port, path, body, close=False):
    return (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            b"anthropic-version: 2023-06-01\r\nx-api-key: bench\r\nContent-Length: %d\r\n%s\r\n"
            % (path.encode(), port, len(body), b"Connection: close\r\n" if close else b"")) + body

class Reader:
    def __init__(self, sock):
        self.s, self.b, self.total = sock, b"", 0
    def fill(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise ConnectionError("connection closed early")
        self.total += len(d)
        self.b += d
    def until(self, sep):
        while True:
            i = self.b.find(sep)
            if i >= 0:
                r, self.b = self.b[:i], self.b[i + len(sep):]
                return r
            self.fill()
    def exactly(self, n):
        while len(self.b) < n:
            self.fill()
        r, self.b = self.b[:n], self.b[n:]
        return r

def response(rd, keep_tail=4096):
    """Read one response; returns (status, body bytes count, tail of body)."""
    head = rd.until(b"\r\n\r\n").decode("latin-1").split("\r\n")
    status = int(head[0].split(" ")[1])
    hdr = {}
    for l in head[1:]:
        k, _, v = l.partition(":")
        hdr[k.strip().lower()] = v.strip()
    n, tail = 0, b""
    if hdr.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(rd.until(b"\r\n").split(b";")[0], 16)
            if size == 0:
                rd.until(b"\r\n")
                break
            chunk = rd.exactly(size)
            rd.exactly(2)
            n += size
            tail = (tail + chunk)[-keep_tail:]
    elif "content-length" in hdr:
        chunk = rd.exactly(int(hdr["content-length"]))
        n, tail = len(chunk), chunk[-keep_tail:]
    else:
        while True:
            try:
                rd.fill()
            except ConnectionError:
                break
        n, tail = len(rd.b), rd.b[-keep_tail:]
    return status, n, tail

def pct(v, p):
    v = sorted(v)
    i = min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[i]

def lat(port, path, bodyf, n, warm):
    body = open(bodyf, "rb").read()
    req = request_bytes(port, path, body)
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rd = Reader(sock)
    times, statuses, nbytes, tail = [], {}, 0, b""
    for i in range(warm + n):
        t0 = time.perf_counter()
        sock.sendall(req)
        st, nbytes, tail = response(rd)
        dt = (time.perf_counter() - t0) * 1000
        statuses[st] = statuses.get(st, 0) + 1
        if i >= warm:
            times.append(dt)
    sock.close()
    print(json.dumps({"n": n, "p50": round(pct(times, 50), 3), "p95": round(pct(times, 95), 3),
                      "min": round(min(times), 3), "max": round(max(times), 3),
                      "mean": round(sum(times) / len(times), 3), "statuses": statuses,
                      "resp_bytes": nbytes, "tail": tail[-300:].decode("utf-8", "replace")}))

# ------------------------------------------------------------ slow upstream

def slow(port, delay, answerf, capture, lifetime):
    import asyncio
    answer = open(answerf, "rb").read()
    state = {"captured": False}

    async def handle(r, w):
        try:
            while True:
                head = await r.readuntil(b"\r\n\r\n")
                length, chunked = 0, False
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    k = k.strip().lower()
                    if k == b"content-length":
                        length = int(v)
                    elif k == b"transfer-encoding" and b"chunked" in v.lower():
                        chunked = True
                body = b""
                if chunked:
                    parts = []
                    while True:
                        size = int((await r.readuntil(b"\r\n")).split(b";")[0], 16)
                        parts.append((await r.readexactly(size + 2))[:size])
                        if size == 0:
                            break
                    body = b"".join(parts)
                elif length:
                    body = await r.readexactly(length)
                if not state["captured"]:
                    state["captured"] = True
                    open(capture, "wb").write(head + body)
                await asyncio.sleep(delay)
                w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                        b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer))
                await w.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError, ValueError):
            pass
        finally:
            w.close()

    async def main():
        srv = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024, limit=1 << 20)
        async with srv:
            try:
                await asyncio.wait_for(srv.serve_forever(), lifetime)
            except asyncio.TimeoutError:
                pass
    asyncio.run(main())

# ------------------------------------------------------------ concurrency

def status_kb(pid):
    r = {}
    try:
        for l in open("/proc/%d/status" % pid):
            if l.startswith(("VmRSS:", "VmHWM:")):
                r[l.split(":")[0]] = int(l.split()[1])
    except OSError:
        pass
    return r.get("VmRSS", 0), r.get("VmHWM", 0)

def conc(port, path, bodyf, n, pid, timeout):
    body = open(bodyf, "rb").read()
    req = request_bytes(port, path, body, close=True)
    res = [None] * n
    sent = [0.0] * n
    barrier = threading.Barrier(n)
    stop = threading.Event()
    samples = []

    def sampler():
        while not stop.is_set():
            samples.append((time.monotonic(),) + status_kb(pid))
            time.sleep(0.02)

    def one(i):
        try:
            barrier.wait(timeout)
            sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            sock.sendall(req)
            sent[i] = time.monotonic()
            st, nb, tail = response(Reader(sock))
            sock.close()
            res[i] = (st, nb, b"message_stop" in tail)
        except Exception as e:
            res[i] = ("error " + type(e).__name__, 0, False)

    idle = status_kb(pid)
    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    t0 = time.monotonic()
    ts = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout + 5)
    secs = time.monotonic() - t0
    time.sleep(0.1)
    stop.set()
    th.join()
    after = status_kb(pid)
    statuses = {}
    for r in res:
        k = str(r[0]) if r else "none"
        statuses[k] = statuses.get(k, 0) + 1
    complete = sum(1 for r in res if r and r[0] == 200 and r[2])
    peak_rss = max([x[1] for x in samples] + [after[0]])
    sent_all = max(sent) - t0 if all(sent) else None
    print(json.dumps({"clients": n, "statuses": statuses, "complete": complete,
                      "idle_rss": idle[0], "peak_rss": peak_rss, "hwm": after[1],
                      "rss_after": after[0], "samples": len(samples),
                      "all_sent_s": round(sent_all, 3) if sent_all else None,
                      "seconds": round(secs, 2)}))

def one(port, path, bodyf, pid, marker):
    body = open(bodyf, "rb").read()
    idle = status_kb(pid)
    # A stall (no byte for 10 s) or an early close is reported, not raised.
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.perf_counter()
    sock.sendall(request_bytes(port, path, body, close=True))
    rd = Reader(sock)
    try:
        st, nb, tail = response(rd)
    except (OSError, ValueError) as e:
        what = "stalled (no byte for 10 s)" if isinstance(e, socket.timeout) else type(e).__name__ + " " + str(e)
        st, nb, tail = "%s after %d bytes (head included)" % (what, rd.total), rd.total, b""
    secs = time.perf_counter() - t0
    sock.close()
    time.sleep(0.2)
    after = status_kb(pid)
    print(json.dumps({"status": st, "resp_bytes": nb, "seconds": round(secs, 3),
                      "ends_ok": marker.encode() in tail, "idle_rss": idle[0],
                      "rss_after": after[0], "hwm": after[1]}))

# ------------------------------------------------------------ checks

def gemreq(capture):
    raw = open(capture, "rb").read()
    head, _, body = raw.partition(b"\r\n\r\n")
    j = json.loads(body)
    bad = []
    def walk(v):
        if isinstance(v, dict):
            for k in v:
                if k in ("$schema", "additionalProperties", "exclusiveMinimum", "const"):
                    bad.append(k)
                walk(v[k])
        elif isinstance(v, list):
            for x in v:
                walk(x)
    decls = sum(len(t.get("functionDeclarations", t.get("function_declarations", [])))
                for t in j.get("tools", []))
    for t in j.get("tools", []):
        walk(t)
    calls = sum(1 for c in j.get("contents", []) for p in c.get("parts", []) if "functionCall" in p)
    results = sum(1 for c in j.get("contents", []) for p in c.get("parts", []) if "functionResponse" in p)
    print(json.dumps({"request_line": head.split(b"\r\n")[0].decode(), "body_bytes": len(body),
                      "contents": len(j.get("contents", [])), "functionDeclarations": decls,
                      "functionCalls": calls, "functionResponses": results,
                      "systemInstruction": "systemInstruction" in j or "system_instruction" in j,
                      "rejected_schema_keys": sorted(set(bad))}))

if __name__ == "__main__":
    a = sys.argv
    cmd = a[1]
    if cmd == "mkreq":
        mkreq(a[2], int(a[3]), a[4])
    elif cmd == "lat":
        lat(int(a[2]), a[3], a[4], int(a[5]), int(a[6]))
    elif cmd == "slow":
        slow(int(a[2]), float(a[3]), a[4], a[5], float(a[6]))
    elif cmd == "conc":
        conc(int(a[2]), a[3], a[4], int(a[5]), int(a[6]), float(a[7]))
    elif cmd == "one":
        one(int(a[2]), a[3], a[4], int(a[5]), a[6])
    elif cmd == "gemreq":
        gemreq(a[2])
    else:
        sys.exit("unknown command")
PYEOF
}

# ------------------------------------------------------------------ part 1

bench_codecs() {
	log "part 1: correctness of every pair (small streams, Python parser)"
	mkdir -p "$TMP/dump"
	"$HB" dump "$TMP/dump" 512 || die "hub_bench dump failed"
	if python3 "$TMP/check.py" "$TMP/dump" >"$RAW/pairs-check.txt" 2>&1; then
		PAIRS_OK=yes
	else
		PAIRS_OK=no
		note "the client output of some pairs does not carry the upstream's text/tool calls (build/bench/hub/pairs-check.txt): $(grep -c FAIL "$RAW/pairs-check.txt" || true) of 12 FAIL"
	fi
	sed 's/^/    /' "$RAW/pairs-check.txt" >&2
	log "part 1: throughput, ${MB} MB per upstream format, best of 3 (CPU 0)"
	check_quiet "the throughput runs"
	local rc=0
	"${PIN_SERVER[@]}" "$HB" "$MB" 3 >"$RAW/hub_bench.tsv" 2>"$RAW/hub_bench.err" || rc=$?
	cat "$RAW/hub_bench.tsv" >&2
	[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || { cat "$RAW/hub_bench.err" >&2; die "hub_bench failed ($rc)"; }
	[ "$rc" -eq 0 ] || note "hub_bench: some pairs decoded the wrong events and were not timed (see the table)"
}

# ---------------------------------------------------------------- fixtures

make_fixtures() {
	log "fixtures: 2 MB Claude Code request, upstream answers"
	local h=$TMP/html
	mkdir -p "$h/v1beta/models" "$h/oa1k/v1/chat" "$h/oa50m/v1/chat"
	python3 "$TMP/hubtool.py" mkreq "$TMP/req.json" "$REQ_BYTES" gemini-2.5-pro >"$RAW/request.json" ||
		die "request generator failed"
	REQ_INFO=$(cat "$RAW/request.json")
	REQ_SIZE=$(stat -c %s "$TMP/req.json")
	"$HB" gen gemini 2048 0 "$h/v1beta/models/gemini-2.5-pro:streamGenerateContent"
	GEM_ANSWER=$(stat -c %s "$h/v1beta/models/gemini-2.5-pro:streamGenerateContent")
	cp "$h/v1beta/models/gemini-2.5-pro:streamGenerateContent" "$TMP/gemini-answer.sse"
	"$HB" gen openai 1024 0 "$h/oa1k/v1/chat/completions"
	"$HB" gen openai "$BIG_BYTES" 0 "$h/oa50m/v1/chat/completions"
	SMALL_BYTES=$(stat -c %s "$h/oa1k/v1/chat/completions")
	BIG_SSE=$(stat -c %s "$h/oa50m/v1/chat/completions")
	BIG_EVENTS=$(grep -c '^data: {' "$h/oa50m/v1/chat/completions" || true)
	SMALL_EVENTS=$(grep -c '^data: {' "$h/oa1k/v1/chat/completions" || true)
	printf '%s\n' '{"model":"oa-small","max_tokens":4096,"stream":true,"messages":[{"role":"user","content":"hi"}]}' >"$TMP/small.json"
	printf '%s\n' '{"model":"oa-big","max_tokens":4096,"stream":true,"messages":[{"role":"user","content":"hi"}]}' >"$TMP/big.json"
	printf '%s\n' '{"model":"oa-small","stream":true,"input":"hi"}' >"$TMP/rsmall.json"
	printf '%s\n' '{"model":"oa-big","stream":true,"input":"hi"}' >"$TMP/rbig.json"
}

# ------------------------------------------------------------------ nginx

# Static files answered to POST: the static module refuses POST with 405,
# "error_page 405 =200 $uri" turns that into an internal GET of the same
# file with status 200 (as in bench/upstream.sh).
start_mock() {
	local d=$TMP/mock
	free_port MOCK_PORT
	{
		nginx_common "$d"
		cat <<-EOF
		    client_max_body_size 16m;
		    client_body_buffer_size 1m;
		    etag off;
		    max_ranges 0;
		    server {
		        listen 127.0.0.1:$MOCK_PORT;
		        root $TMP/html;
		        add_header Last-Modified "";
		        location / {
		            default_type text/event-stream;
		            error_page 405 =200 \$uri;
		        }
		    }
		}
		EOF
	} >"$d.conf"
	cp "$d.conf" "$RAW/nginx-mock.conf"
	"${PIN_SERVER[@]}" "${GUARD[@]}" nginx -p "$d/" -c "$d.conf" -e "$d/logs/error.log" \
		>"$RAW/nginx-mock.log" 2>&1 &
	MOCK_PID=$!
	wait_port "$MOCK_PORT" "$MOCK_PID" "$RAW/nginx-mock.log"
}

# ------------------------------------------------------------------- proxy

gemini_config() { # file port upstream-base [extra lines...]
	local f=$1 port=$2 base=$3
	shift 3
	{
		printf 'port = %s\nhost = 127.0.0.1\naccess-log = false\nmax-body-size = 8m\n' "$port"
		for l in "$@"; do printf '%s\n' "$l"; done
		printf 'generative-language-api-key = k\n\n[endpoints]\ngenerative-language = %s\n' "$base"
	} >"$f"
}

# ------------------------------------------------------------------ part 2

lat_run() { # key port path: L[key,...] from hubtool lat
	local out=$RAW/lat-$1.json
	"${PIN_CLIENT[@]}" timeout 300 python3 "$TMP/hubtool.py" lat "$2" "$3" "$TMP/req.json" "$NREQ" 5 \
		>"$out" 2>"$RAW/lat-$1.err" || { cat "$RAW/lat-$1.err" >&2; die "latency client ($1) failed"; }
	L[$1,p50]=$(jget "$out" p50) L[$1,p95]=$(jget "$out" p95)
	L[$1,min]=$(jget "$out" min) L[$1,max]=$(jget "$out" max) L[$1,mean]=$(jget "$out" mean)
	L[$1,st]=$(jget "$out" statuses) L[$1,bytes]=$(jget "$out" resp_bytes)
}

bench_latency() {
	log "part 2: 2 MB Claude request -> Gemini upstream, $NREQ sequential requests"
	local cfg=$TMP/proxy-lat.ini port
	declare -gA L=()
	free_port port
	gemini_config "$cfg" "$port" "http://127.0.0.1:$MOCK_PORT"
	cp "$cfg" "$RAW/proxy-latency.ini"
	start_proxy "$cfg" "$port" "$RAW/proxy-latency.log"
	check_quiet "the latency runs"
	lat_run direct "$MOCK_PORT" "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
	local c0 c1 hz
	hz=$(getconf CLK_TCK)
	c0=$(cpu_ticks "$SERVER_REAL")
	lat_run proxy "$port" "/v1/messages?beta=true"
	c1=$(cpu_ticks "$SERVER_REAL")
	LAT_CPU=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v n=$((NREQ + 5)) 'BEGIN { printf "%.1f", (b - a) * 1000 / hz / n }')
	[ "${L[direct,st]}" = "{\"200\": $((NREQ + 5))}" ] ||
		note "direct to nginx: statuses ${L[direct,st]} (want all 200)"
	[ "${L[proxy,st]}" = "{\"200\": $((NREQ + 5))}" ] ||
		note "through the proxy: statuses ${L[proxy,st]} (want all 200; tail: $(jget "$RAW/lat-proxy.json" tail | tr '\n' ' ' | cut -c1-300))"
	grep -q 'message_stop' "$RAW/lat-proxy.json" ||
		note "the proxy's answer did not end with message_stop (see build/bench/hub/lat-proxy.json)"
	LAT_RSS=$(proc_kb "$SERVER_REAL" VmRSS) LAT_HWM=$(proc_kb "$SERVER_REAL" VmHWM)
	stop_proxy
}

# ------------------------------------------------------------------ part 3

conc_run() { # key [extra config lines...]: C[key,...]
	local key=$1 cfg=$TMP/proxy-$1.ini port out=$RAW/conc-$1.json
	shift
	free_port port
	gemini_config "$cfg" "$port" "http://127.0.0.1:$SLOW_PORT" "$@"
	cp "$cfg" "$RAW/proxy-conc-$key.ini"
	start_proxy "$cfg" "$port" "$RAW/proxy-conc-$key.log"
	sleep 0.5
	"${PIN_CLIENT[@]}" timeout 120 python3 "$TMP/hubtool.py" conc "$port" /v1/messages "$TMP/req.json" \
		"$NCONC" "$SERVER_REAL" 60 >"$out" 2>"$RAW/conc-$key.err" ||
		{ cat "$RAW/conc-$key.err" >&2; die "concurrent client ($key) failed"; }
	C[$key,idle]=$(jget "$out" idle_rss) C[$key,peak]=$(jget "$out" peak_rss)
	C[$key,hwm]=$(jget "$out" hwm) C[$key,after]=$(jget "$out" rss_after)
	C[$key,st]=$(jget "$out" statuses) C[$key,ok]=$(jget "$out" complete)
	C[$key,secs]=$(jget "$out" seconds)
	C[$key,samples]=$(jget "$out" samples)
	[ "${C[$key,hwm]}" -le "${C[$key,peak]}" ] || C[$key,peak]=${C[$key,hwm]}
	C[$key,per]=$(awk -v p="${C[$key,peak]}" -v i="${C[$key,idle]}" -v n="$NCONC" 'BEGIN { printf "%.0f", (p - i) / n }')
	stop_proxy
}

bench_concurrent() {
	log "part 3: $NCONC concurrent 2 MB requests, upstream waits ${SLOW_DELAY} s"
	declare -gA C=()
	free_port SLOW_PORT
	"${PIN_SERVER[@]}" "${GUARD[@]}" python3 "$TMP/hubtool.py" slow "$SLOW_PORT" "$SLOW_DELAY" \
		"$TMP/gemini-answer.sse" "$TMP/captured.http" 300 >"$RAW/slow-upstream.log" 2>&1 &
	SLOW_PID=$!
	wait_port "$SLOW_PORT" "$SLOW_PID" "$RAW/slow-upstream.log"
	conc_run total256 "max-body-total = 256m"
	[ "${C[total256,ok]}" = "$NCONC" ] ||
		note "max-body-total = 256m: only ${C[total256,ok]} of $NCONC requests completed with 200 and message_stop: ${C[total256,st]}"
	if [ -s "$TMP/captured.http" ]; then
		python3 "$TMP/hubtool.py" gemreq "$TMP/captured.http" >"$RAW/gemini-request-check.json" ||
			note "the Gemini request the upstream received is not valid JSON"
		GEMREQ=$(cat "$RAW/gemini-request-check.json" 2>/dev/null || echo '{}')
		[ "$(jget "$RAW/gemini-request-check.json" rejected_schema_keys)" = "[]" ] ||
			note "the translated Gemini request still has schema keys Gemini rejects: $(jget "$RAW/gemini-request-check.json" rejected_schema_keys)"
	else
		GEMREQ='(nothing captured)'
		note "the slow upstream captured no request"
	fi
	conc_run total64
	stop_pid "$SLOW_PID"; SLOW_PID=
}

# ------------------------------------------------------------------ part 4

stream_run() { # key path body-file end-marker: S[key,...]
	local key=$1 cfg=$TMP/proxy-stream.ini port out=$RAW/stream-$1.json
	free_port port
	{
		printf 'port = %s\nhost = 127.0.0.1\naccess-log = false\n' "$port"
		printf '\n[openai-compatibility]\nname = oa-small\nbase-url = http://127.0.0.1:%s/oa1k/v1\napi-keys = sk-bench\nmodel = gpt-4.1 = oa-small\n' "$MOCK_PORT"
		printf '\n[openai-compatibility]\nname = oa-big\nbase-url = http://127.0.0.1:%s/oa50m/v1\napi-keys = sk-bench\nmodel = gpt-4.1 = oa-big\n' "$MOCK_PORT"
	} >"$cfg"
	cp "$cfg" "$RAW/proxy-stream.ini"
	start_proxy "$cfg" "$port" "$RAW/proxy-stream-$key.log"
	sleep 0.5
	"${PIN_CLIENT[@]}" timeout 120 python3 "$TMP/hubtool.py" one "$port" "$2" "$3" "$SERVER_REAL" "$4" \
		>"$out" 2>"$RAW/stream-$key.err" || { cat "$RAW/stream-$key.err" >&2; die "stream client ($key) failed"; }
	S[$key,st]=$(jget "$out" status) S[$key,bytes]=$(jget "$out" resp_bytes)
	S[$key,secs]=$(jget "$out" seconds) S[$key,end]=$(jget "$out" ends_ok)
	S[$key,idle]=$(jget "$out" idle_rss) S[$key,after]=$(jget "$out" rss_after)
	S[$key,hwm]=$(jget "$out" hwm)
	if [ "${S[$key,st]}" != 200 ] || [ "${S[$key,end]}" != True ]; then
		note "stream $key: status ${S[$key,st]}, ends with $4: ${S[$key,end]}"
	fi
	stop_proxy
}

bench_stream_memory() {
	log "part 4: one streamed Claude-client request, 1 KB vs 50 MB OpenAI upstream answer"
	declare -gA S=()
	stream_run small /v1/messages "$TMP/small.json" message_stop
	stream_run big /v1/messages "$TMP/big.json" message_stop
	log "part 4 (comparison): the same with a Responses client"
	stream_run rsmall /v1/responses "$TMP/rsmall.json" response.completed
	stream_run rbig /v1/responses "$TMP/rbig.json" response.completed
}

# ---------------------------------------------------------------- results

write_results() {
	local lat_check hwm_ratio
	lat_check=$(check "${L[proxy,p50]}" "<=" "$P50_TARGET")
	hwm_ratio=$(ratio "${S[big,hwm]}" "${S[small,hwm]}")
	{
		echo "## Translation results ($DATE)"
		echo
		echo "hub_bench: $CC_VERSION, -O2; parts 2-4: $BIN_KIND; commit: $COMMIT"
		echo
		echo "### 1. Streamed translation throughput (hub_bench, CPU time, best of 3)"
		echo
		echo "Upstream SSE fed through sse_push in 16 KB pieces -> decode_event -> encode_event (client stream); MB = 2^20 bytes of upstream SSE."
		echo "Every pair's output was also checked with a Python parser on 512 KB streams (text and tool calls unchanged, stream properly ended): $PAIRS_OK."
		echo
		echo "| upstream | client | upstream MB | SSE events | text deltas | tool calls | MB/s per core | deltas/s | out/in bytes | target >= $MBS_TARGET MB/s |"
		echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
		awk -F'\t' -v t="$MBS_TARGET" '!/^#/ {
			if ($11 != "ok") { printf "| %s | %s | %.1f | %s | %s | %s | - | - | - | %s |\n", $1, $2, $3 / 1048576, $4, $5, $6, $11; next }
			printf "| %s | %s | %.1f | %s | %s | %s | %.1f | %.0f | %.2f | %s |\n", $1, $2, $3 / 1048576, $4, $5, $6, $9, $10, $7 / $3, ($9 >= t ? "PASS" : "FAIL") }' \
			"$RAW/hub_bench.tsv"
		echo
		awk -F'\t' '!/^#/ && $11 == "ok" { n++; s += $9; if (min == "" || $9 < min) { min = $9; mp = $1 " -> " $2 } if ($9 > max) { max = $9; xp = $1 " -> " $2 } }
			END { if (n) printf "Slowest pair %s: %.1f MB/s; fastest %s: %.1f MB/s; mean of %d pairs %.1f MB/s.\n", mp, min, xp, max, n, s / n }' "$RAW/hub_bench.tsv"
		echo
		echo "### 2. 2 MB Claude Code request -> Gemini upstream, end to end (ms)"
		echo
		echo "Request: $REQ_SIZE B POST /v1/messages?beta=true, stream (generator: $REQ_INFO). Upstream answer: $GEM_ANSWER B of Gemini SSE (nginx static file)."
		echo "One keep-alive connection, $NREQ sequential requests after 5 warm-up ones; time = first byte sent -> last byte of the answer read."
		echo
		echo "| target | p50 | p95 | min | max | mean | answer bytes | statuses | target p50 <= $P50_TARGET ms |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
		echo "| nginx direct (same body to :streamGenerateContent) | ${L[direct,p50]} | ${L[direct,p95]} | ${L[direct,min]} | ${L[direct,max]} | ${L[direct,mean]} | ${L[direct,bytes]} | ${L[direct,st]} | |"
		echo "| cli-proxy-api -> nginx (Claude -> Gemini) | ${L[proxy,p50]} | ${L[proxy,p95]} | ${L[proxy,min]} | ${L[proxy,max]} | ${L[proxy,mean]} | ${L[proxy,bytes]} | ${L[proxy,st]} | $lat_check |"
		echo
		echo "Added by the proxy at p50: $(awk -v a="${L[proxy,p50]}" -v b="${L[direct,p50]}" 'BEGIN { printf "%.3f", a - b }') ms. Proxy CPU time per request (utime + stime over all $((NREQ + 5)) requests): $LAT_CPU ms. Proxy RSS after them: VmRSS $LAT_RSS KB, VmHWM $LAT_HWM KB."
		echo
		echo "### 3. Memory with $NCONC concurrent 2 MB requests in flight"
		echo
		echo "Python upstream waits ${SLOW_DELAY} s, then answers $GEM_ANSWER B of SSE; $NCONC client threads send the request at once (Connection: close); proxy VmRSS sampled every 20 ms."
		echo
		echo "| config | idle RSS | peak RSS (max VmRSS, VmHWM) | RSS after | per request ((peak - idle) / $NCONC) | complete (200 + message_stop) | statuses | wall |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |"
		local k lbl
		for k in total256 total64; do
			lbl="max-body-total = 256m"; [ "$k" = total64 ] && lbl="default (max-body-total = 64m)"
			echo "| $lbl | ${C[$k,idle]} KB | ${C[$k,peak]} KB ($(mb "${C[$k,peak]}") MB) | ${C[$k,after]} KB | ${C[$k,per]} KB | ${C[$k,ok]} / $NCONC | ${C[$k,st]} | ${C[$k,secs]} s |"
		done
		echo
		echo "The translated request the upstream received (first one): $GEMREQ"
		echo
		echo "### 4. Memory per stream against answer length (Claude client, OpenAI-compatible upstream)"
		echo
		echo "Fresh proxy for each; nginx serves the upstream SSE (chat.completion.chunk events + [DONE]); one request, answer read at full speed."
		echo
		echo "| client | upstream answer | client got | status, ends properly | time | idle RSS | RSS after | VmHWM after |"
		echo "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |"
		local row
		for row in "small|Claude (/v1/messages)|$SMALL_BYTES B ($SMALL_EVENTS events)" \
			"big|Claude (/v1/messages)|$BIG_SSE B ($BIG_EVENTS events)" \
			"rsmall|Responses (/v1/responses), comparison|$SMALL_BYTES B ($SMALL_EVENTS events)" \
			"rbig|Responses (/v1/responses), comparison|$BIG_SSE B ($BIG_EVENTS events)"; do
			k=${row%%|*}; row=${row#*|}
			echo "| ${row%%|*} | ${row#*|} | ${S[$k,bytes]} B | ${S[$k,st]}, ${S[$k,end]} | ${S[$k,secs]} s | ${S[$k,idle]} KB | ${S[$k,after]} KB | ${S[$k,hwm]} KB |"
		done
		echo
		echo "Claude client, VmHWM 50 MB / 1 KB: $hwm_ratio (difference $((S[big,hwm] - S[small,hwm])) KB). Responses client: $(ratio "${S[rbig,hwm]}" "${S[rsmall,hwm]}") (difference $((S[rbig,hwm] - S[rsmall,hwm])) KB)."
		echo
		echo "Machine: $CPU_MODEL; $CORES CPUs; kernel $KERNEL; $PINNING."
		echo "Tools: $NGINX_VERSION (1 worker); $PY_VERSION."
		notes_md
	} >"$RESULTS"
}

# ------------------------------------------------------------------- main

main() {
	local t0=$SECONDS
	mkdir -p "$OUT_DIR" "$RAW"
	rm -f "$RAW"/* "$RESULTS"
	ensure_tools nginx:nginx-light musl-gcc:musl-tools python3:python3 cc:gcc \
		-- nginx python3 cc taskset timeout
	setup_pinning "servers (proxy, nginx, Python upstream) and hub_bench on CPU 0, clients on CPU 1" \
		"everything on CPU 0"
	machine_info python3
	build_all
	write_python
	log "parts 2-4 measure $BIN ($BIN_KIND)"
	bench_codecs
	make_fixtures
	start_mock
	bench_latency
	bench_concurrent
	bench_stream_memory
	stop_pid "$MOCK_PID"; MOCK_PID=
	finish_run
}

main "$@"
