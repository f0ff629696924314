"""Translation end to end over real sockets: every client format (OpenAI chat,
Responses, Claude messages, Gemini JSON / SSE / JSON-array stream) against
every upstream (an [openai-compatibility] alias on mocks_llm.MockOpenAIChat,
claude-* on mocks_llm.MockClaude, gemini-* on mocks_llm.MockGemini).

The pair matrix is generated: test functions are put into the module
namespace (test_<what>_<client mode>_<upstream>) so run.py finds each one.

Client modes: openai, openai_stream, responses, responses_stream, claude,
claude_stream, gemini (generateContent), gemini_sse
(streamGenerateContent?alt=sse), gemini_array (streamGenerateContent, one
JSON array).

Every answer is parsed strictly per the client's framing into a neutral
form (text, thinking, signature, tool calls, finish, usage, error), and every
upstream request the mock received is parsed per the upstream's API into a
neutral form (system, flat parts, max tokens, temperature, stops, tools)."""

import base64
import json
import os
import re

import harness
from harness import TestFailure, check, eq
import mocks
import mocks_llm
import testca

ALIAS = "gpt-mock-alias"
UP_OPENAI = "up-gpt-model"
CLAUDE_MODEL = "claude-sonnet-4-20250514"
GEMINI_MODEL = "gemini-2.5-flash"
MODELS = {"openai": ALIAS, "claude": CLAUDE_MODEL, "gemini": GEMINI_MODEL}
UPSTREAMS = ("openai", "claude", "gemini")
MODES = ("openai", "openai_stream", "responses", "responses_stream", "claude",
         "claude_stream", "gemini", "gemini_sse", "gemini_array")
STREAM_MODES = tuple(m for m in MODES if m.endswith(("_stream", "_sse", "_array")))

OA_KEY, CLAUDE_KEY, GEMINI_KEY = "sk-oa-test-1", "sk-ant-test-1", "AIzaTestKey1"
SYSTEM = "You are a terse assistant."
ANSWER = "Hello, w\u00f6rld! \u4e2d\u6587 \"quoted\" \\ back\nslash \u2713"
SIG = base64.b64encode(bytes(range(7, 160))).decode()  # has + / =
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8ffff3f0005fe02fea7d6a4a0"
    "0000000049454e44ae426082")).decode()
TOOLS = [{"name": "get_weather", "description": "Weather for a city",
          "schema": {"type": "object", "properties": {"city": {"type": "string"}},
                     "required": ["city"]}},
         {"name": "get_time", "description": "Time in a zone",
          "schema": {"type": "object", "properties": {"tz": {"type": "string"}},
                     "required": ["tz"]}}]
CALLS = [("get_weather", {"city": "Paris", "units": ["c", "f"], "deep": {"n": 1.5}}),
         ("get_time", {"tz": "Europe/Paris"})]


def fmt_of(mode):
    return mode.split("_")[0]


def is_stream(mode):
    return mode != fmt_of(mode)


# ================================================================ server

class Env:
    """A server with all three upstream kinds configured, each on a mock."""

    def __init__(self, tls=False, more="", **settings):
        ctx = None
        if tls:
            pki = testca.shared_pki()
            ctx = mocks.server_context(pki["server_cert"], pki["server_key"])
        self.oa = mocks_llm.MockOpenAIChat(tls=ctx).start()
        self.cl = mocks_llm.MockClaude(tls=ctx).start()
        self.ge = mocks_llm.MockGemini(tls=ctx).start()
        self.mocks = {"openai": self.oa, "claude": self.cl, "gemini": self.ge}
        extra = ("[openai-compatibility]\nname = mockoa\nbase-url = %s\napi-keys = %s\n"
                 "model = %s = %s\n\n[claude-api-key]\napi-key = %s\nbase-url = %s\n\n"
                 "[endpoints]\ngenerative-language = %s\n"
                 % (self.oa.base_url, OA_KEY, UP_OPENAI, ALIAS, CLAUDE_KEY, self.cl.url,
                    self.ge.url)) + more.replace("{oa}", self.oa.base_url)
        # model-list-refresh = 0: the keys' background list calls would
        # race the tests' own for the mocks' connections (counted below)
        s = {"ca-file": testca.shared_pki()["ca_cert"], "request-retry": 0,
             "model-list-refresh": "0",
             "generative-language-api-key": GEMINI_KEY,
             "upstream-connect-timeout": "2s", "upstream-first-byte-timeout": "3s",
             "upstream-read-timeout": "3s"}
        s.update({k.replace("_", "-"): v for k, v in settings.items()})
        self.srv = harness.Server(extra=extra, settings=s, label="cli-proxy-api")
        self.srv.start()
        # the mocks stop with the test: register a stopper on the server
        stop = self.srv.stop

        def stop_all():
            try:
                stop()
            finally:
                for m in self.mocks.values():
                    m.stop()
        self.srv.stop = stop_all

    def last(self, up):
        m = self.mocks[up]
        check(m.requests, "the %s mock received no request" % up)
        return m.requests[-1]

    def send(self, mode, up, sc):
        path, body = build_request(mode, MODELS[up], sc)
        return self.srv.request("POST", path, body=body, timeout=8.0)


# ================================================================ client requests

def scenario(**kw):
    sc = {"system": SYSTEM, "msgs": [("user", [("text", "Say hello to the world")])],
          "max_tokens": 64, "temperature": 0.5, "stop": ["END"], "tools": None,
          "thinking": None}
    sc.update(kw)
    return sc


def tool_scenario(fmt):
    cid = "toolu_01PriorCall" if fmt == "claude" else "call_prior_1"
    return scenario(tools=TOOLS, msgs=[
        ("user", [("text", "What's the weather in Paris?")]),
        ("assistant", [("tool_call", cid, "get_weather", {"city": "Paris"})]),
        ("user", [("tool_result", cid, "get_weather", "22C and sunny")]),
    ])


def _data_url(mime, data):
    return "data:%s;base64,%s" % (mime, data)


def build_request(mode, model, sc):
    fmt, stream = fmt_of(mode), is_stream(mode)
    return {"openai": _build_openai, "responses": _build_responses,
            "claude": _build_claude, "gemini": _build_gemini}[fmt](mode, model, sc, stream)


def _build_openai(mode, model, sc, stream):
    msgs = [{"role": "system", "content": sc["system"]}] if sc["system"] else []
    for role, parts in sc["msgs"]:
        if role == "user":
            for p in parts:
                if p[0] == "tool_result":
                    msgs.append({"role": "tool", "tool_call_id": p[1], "content": p[3]})
            rest = [p for p in parts if p[0] in ("text", "image")]
            if len(rest) == 1 and rest[0][0] == "text":
                msgs.append({"role": "user", "content": rest[0][1]})
            elif rest:
                msgs.append({"role": "user", "content": [
                    {"type": "text", "text": p[1]} if p[0] == "text" else
                    {"type": "image_url", "image_url": {"url": _data_url(p[1], p[2])}}
                    for p in rest]})
        else:
            m = {"role": "assistant", "content": None}
            text = "".join(p[1] for p in parts if p[0] == "text")
            if text:
                m["content"] = text
            tcs = [{"id": p[1], "type": "function",
                    "function": {"name": p[2], "arguments": json.dumps(p[3])}}
                   for p in parts if p[0] == "tool_call"]
            if tcs:
                m["tool_calls"] = tcs
            msgs.append(m)
    b = {"model": model, "messages": msgs, "max_tokens": sc["max_tokens"],
         "temperature": sc["temperature"]}
    if sc["stop"]:
        b["stop"] = sc["stop"]
    if sc["tools"]:
        b["tools"] = [{"type": "function", "function": {
            "name": t["name"], "description": t["description"], "parameters": t["schema"]}}
            for t in sc["tools"]]
    if stream:
        b["stream"] = True
        b["stream_options"] = {"include_usage": True}
    return "/v1/chat/completions", b


def _build_responses(mode, model, sc, stream):
    items = []
    for role, parts in sc["msgs"]:
        content = []
        for p in parts:
            if p[0] == "text":
                content.append({"type": "input_text" if role == "user" else "output_text",
                                "text": p[1]})
            elif p[0] == "image":
                content.append({"type": "input_image", "image_url": _data_url(p[1], p[2])})
            elif p[0] == "tool_call":
                items.append({"type": "function_call", "call_id": p[1], "name": p[2],
                              "arguments": json.dumps(p[3])})
            elif p[0] == "tool_result":
                items.append({"type": "function_call_output", "call_id": p[1], "output": p[3]})
        if content:
            items.append({"type": "message", "role": role, "content": content})
    b = {"model": model, "instructions": sc["system"], "input": items,
         "max_output_tokens": sc["max_tokens"], "temperature": sc["temperature"]}
    if sc["tools"]:
        b["tools"] = [{"type": "function", "name": t["name"], "description": t["description"],
                       "parameters": t["schema"]} for t in sc["tools"]]
    if stream:
        b["stream"] = True
    return "/v1/responses", b


def _build_claude(mode, model, sc, stream):
    msgs = []
    for role, parts in sc["msgs"]:
        blocks = []
        for p in parts:
            if p[0] == "text":
                blocks.append({"type": "text", "text": p[1]})
            elif p[0] == "image":
                blocks.append({"type": "image", "source": {"type": "base64",
                                                           "media_type": p[1], "data": p[2]}})
            elif p[0] == "tool_call":
                blocks.append({"type": "tool_use", "id": p[1], "name": p[2], "input": p[3]})
            elif p[0] == "tool_result":
                blocks.append({"type": "tool_result", "tool_use_id": p[1], "content": p[3]})
            elif p[0] == "thinking":
                blocks.append({"type": "thinking", "thinking": p[1], "signature": p[2]})
        if len(blocks) == 1 and blocks[0]["type"] == "text" and role == "user":
            msgs.append({"role": role, "content": blocks[0]["text"]})
        else:
            msgs.append({"role": role, "content": blocks})
    b = {"model": model, "max_tokens": sc["max_tokens"], "messages": msgs,
         "temperature": sc["temperature"]}
    if sc["system"]:
        b["system"] = sc["system"]
    if sc["stop"]:
        b["stop_sequences"] = sc["stop"]
    if sc["tools"]:
        b["tools"] = [{"name": t["name"], "description": t["description"],
                       "input_schema": t["schema"]} for t in sc["tools"]]
    if sc["thinking"]:
        b["thinking"] = {"type": "enabled", "budget_tokens": sc["thinking"]}
    if stream:
        b["stream"] = True
    return "/v1/messages", b


def _build_gemini(mode, model, sc, stream):
    contents = []
    for role, parts in sc["msgs"]:
        ps = []
        for p in parts:
            if p[0] == "text":
                ps.append({"text": p[1]})
            elif p[0] == "image":
                ps.append({"inlineData": {"mimeType": p[1], "data": p[2]}})
            elif p[0] == "tool_call":
                ps.append({"functionCall": {"name": p[2], "args": p[3]}})
            elif p[0] == "tool_result":
                ps.append({"functionResponse": {"name": p[2], "response": {"result": p[3]}}})
            elif p[0] == "thinking":
                ps.append({"text": p[1], "thought": True, "thoughtSignature": p[2]})
        contents.append({"role": "model" if role == "assistant" else "user", "parts": ps})
    gc = {"maxOutputTokens": sc["max_tokens"], "temperature": sc["temperature"]}
    if sc["stop"]:
        gc["stopSequences"] = sc["stop"]
    if sc["thinking"]:
        gc["thinkingConfig"] = {"thinkingBudget": sc["thinking"], "includeThoughts": True}
    b = {"contents": contents, "generationConfig": gc}
    if sc["system"]:
        b["systemInstruction"] = {"parts": [{"text": sc["system"]}]}
    if sc["tools"]:
        b["tools"] = [{"functionDeclarations": [
            {"name": t["name"], "description": t["description"], "parameters": t["schema"]}
            for t in sc["tools"]]}]
    meth = {"gemini": ":generateContent", "gemini_sse": ":streamGenerateContent?alt=sse",
            "gemini_array": ":streamGenerateContent"}[mode]
    return "/v1beta/models/%s%s" % (model, meth), b


# ================================================================ upstream requests

def upstream_view(up, req):
    """The neutral form of the request a mock received."""
    j = req["json"]
    check(isinstance(j, dict), "%s upstream body is not a JSON object: %r" % (up, req["body"][:300]))
    return {"openai": _up_openai, "claude": _up_claude, "gemini": _up_gemini}[up](req, j)


def _text_of(c):
    if isinstance(c, str):
        return c
    if isinstance(c, list):
        return "".join(x.get("text", "") for x in c if isinstance(x, dict))
    return json.dumps(c)


def _up_openai(req, j):
    v = {"model": j.get("model"), "system": "", "flat": [], "stream": j.get("stream") is True,
         "max_tokens": j.get("max_tokens", j.get("max_completion_tokens")),
         "temperature": j.get("temperature"), "stop": j.get("stop"),
         "tools": [t["function"]["name"] for t in j.get("tools") or []],
         "schemas": {t["function"]["name"]: t["function"].get("parameters")
                     for t in j.get("tools") or []}}
    if isinstance(v["stop"], str):
        v["stop"] = [v["stop"]]
    eq(req["path"], "/v1/chat/completions", "openai upstream path")
    eq(req["headers"].get("authorization"), "Bearer " + OA_KEY, "openai upstream key")
    for m in j.get("messages") or []:
        role, c = m.get("role"), m.get("content")
        if role in ("system", "developer"):
            v["system"] += _text_of(c)
            continue
        if role == "tool":
            v["flat"].append(("tool_result", "user", m.get("tool_call_id"), None, _text_of(c)))
            continue
        role = "assistant" if role == "assistant" else "user"
        if m.get("reasoning_content"):
            v["flat"].append(("thinking", role, m["reasoning_content"], None))
        if isinstance(c, str):
            if c:
                v["flat"].append(("text", role, c))
        elif isinstance(c, list):
            for p in c:
                if p.get("type") == "text":
                    v["flat"].append(("text", role, p.get("text")))
                elif p.get("type") == "image_url":
                    url = p["image_url"]["url"] if isinstance(p.get("image_url"), dict) \
                        else p.get("image_url")
                    mm = re.match(r"data:([^;]+);base64,(.*)$", url or "", re.S)
                    check(mm, "openai upstream image is not a data URL: %r" % (url or "")[:80])
                    v["flat"].append(("image", role, mm.group(1), mm.group(2)))
                else:
                    v["flat"].append(("unknown", role, p))
        for tc in m.get("tool_calls") or []:
            eq(tc.get("type"), "function", "openai upstream tool_call type")
            args = tc["function"]["arguments"]
            check(isinstance(args, str), "openai upstream arguments not a string: %r" % (args,))
            v["flat"].append(("tool_call", role, tc.get("id"), tc["function"]["name"],
                              json.loads(args)))
    re_ = j.get("reasoning_effort")
    v["thinking"] = re_
    return v


def _up_claude(req, j):
    eq(req["path"], "/v1/messages", "claude upstream path")
    eq(req["headers"].get("x-api-key"), CLAUDE_KEY, "claude upstream x-api-key")
    eq(req["headers"].get("anthropic-version"), "2023-06-01", "claude upstream anthropic-version")
    sysv = j.get("system")
    v = {"model": j.get("model"), "system": _text_of(sysv) if sysv is not None else "",
         "flat": [], "stream": j.get("stream") is True, "max_tokens": j.get("max_tokens"),
         "temperature": j.get("temperature"), "stop": j.get("stop_sequences"),
         "tools": [t.get("name") for t in j.get("tools") or []],
         "schemas": {t.get("name"): t.get("input_schema") for t in j.get("tools") or []},
         "thinking": j.get("thinking")}
    check(isinstance(v["max_tokens"], int), "claude upstream max_tokens missing: %r" % (j,))
    prev = None
    for m in j.get("messages") or []:
        role = m.get("role")
        check(role in ("user", "assistant"), "claude upstream role %r" % role)
        check(role != prev, "claude upstream roles do not alternate: %r" %
              [x.get("role") for x in j["messages"]])
        prev = role
        c = m.get("content")
        if isinstance(c, str):
            v["flat"].append(("text", role, c))
            continue
        for b in c:
            t = b.get("type")
            if t == "text":
                v["flat"].append(("text", role, b["text"]))
            elif t == "image":
                s = b["source"]
                eq(s.get("type"), "base64", "claude upstream image source type")
                v["flat"].append(("image", role, s.get("media_type"), s.get("data")))
            elif t == "tool_use":
                check(re.match(r"^[a-zA-Z0-9_-]+$", b.get("id") or ""),
                      "claude upstream tool_use id invalid: %r" % b.get("id"))
                check(isinstance(b.get("input"), dict), "claude tool_use input not an object")
                v["flat"].append(("tool_call", role, b["id"], b["name"], b["input"]))
            elif t == "tool_result":
                v["flat"].append(("tool_result", role, b.get("tool_use_id"), None,
                                  _text_of(b.get("content"))))
            elif t == "thinking":
                v["flat"].append(("thinking", role, b.get("thinking"), b.get("signature")))
            else:
                v["flat"].append(("unknown", role, b))
    return v


def _up_gemini(req, j):
    path = req["path"].split("?")[0]
    check(path.startswith("/v1beta/models/" + GEMINI_MODEL + ":"),
          "gemini upstream path %r" % req["path"])
    eq(req["headers"].get("x-goog-api-key"), GEMINI_KEY, "gemini upstream x-goog-api-key")
    meth = path.split(":", 1)[1]
    gc = j.get("generationConfig") or {}
    si = j.get("systemInstruction") or j.get("system_instruction")
    v = {"model": path[len("/v1beta/models/"):].split(":")[0],
         "system": _text_of((si or {}).get("parts")) if si else "",
         "flat": [], "stream": meth == "streamGenerateContent",
         "max_tokens": gc.get("maxOutputTokens"), "temperature": gc.get("temperature"),
         "stop": gc.get("stopSequences"), "tools": [], "schemas": {},
         "thinking": gc.get("thinkingConfig")}
    if v["stream"]:
        eq(req["query"].get("alt"), "sse", "gemini upstream stream asks alt=sse")
    for t in j.get("tools") or []:
        for d in t.get("functionDeclarations") or t.get("function_declarations") or []:
            v["tools"].append(d.get("name"))
            v["schemas"][d.get("name")] = d.get("parameters", d.get("parametersJsonSchema"))
    prev = None
    for c in j.get("contents") or []:
        role = "assistant" if c.get("role") == "model" else "user"
        check(c.get("role") in ("user", "model", "function"), "gemini upstream role %r" % c.get("role"))
        check(role != prev, "gemini upstream roles do not alternate: %r" %
              [x.get("role") for x in j["contents"]])
        prev = role
        for p in c.get("parts") or []:
            if "functionCall" in p:
                fc = p["functionCall"]
                v["flat"].append(("tool_call", role, fc.get("id"), fc.get("name"), fc.get("args")))
            elif "functionResponse" in p:
                fr = p["functionResponse"]
                v["flat"].append(("tool_result", role, fr.get("id"), fr.get("name"),
                                  json.dumps(fr.get("response"), ensure_ascii=False)))
            elif "inlineData" in p:
                v["flat"].append(("image", role, p["inlineData"].get("mimeType"),
                                  p["inlineData"].get("data")))
            elif p.get("thought"):
                v["flat"].append(("thinking", role, p.get("text"), p.get("thoughtSignature")))
            elif "text" in p:
                if p["text"]:
                    v["flat"].append(("text", role, p["text"]))
            else:
                v["flat"].append(("unknown", role, p))
    return v


def check_upstream_basics(up, v, sc, mode, what):
    want_model = {"openai": UP_OPENAI, "claude": CLAUDE_MODEL, "gemini": GEMINI_MODEL}[up]
    eq(v["model"], want_model, "%s: upstream model" % what)
    eq(v["stream"], is_stream(mode), "%s: upstream stream flag" % what)
    eq(v["system"], sc["system"], "%s: upstream system prompt" % what)
    eq(v["max_tokens"], sc["max_tokens"], "%s: upstream max tokens" % what)
    eq(v["temperature"], sc["temperature"], "%s: upstream temperature" % what)
    if fmt_of(mode) != "responses":  # Responses has no stop parameter
        eq(v["stop"], sc["stop"], "%s: upstream stop sequences" % what)
    check(not any(p[0] == "unknown" for p in v["flat"]),
          "%s: upstream has unexpected parts %r" % (what, v["flat"]))


# ================================================================ client answers

def sse_events(data, what, named):
    """Strict SSE split: [(event name or None, data str)]."""
    check(data.endswith(b"\n\n"), "%s: stream does not end with a blank line: %r"
          % (what, data[-200:]))
    out = []
    for raw in data[:-2].split(b"\n\n"):
        if raw == b": keep-alive":
            continue  # the heartbeat ([streaming] keepalive-seconds), a comment
        lines = raw.decode("utf-8").split("\n")
        name = None
        if named:
            check(lines[0].startswith("event: "), "%s: SSE event without event: line: %r"
                  % (what, raw[:200]))
            name = lines[0][7:]
            lines = lines[1:]
        check(len(lines) == 1 and lines[0].startswith("data: "),
              "%s: SSE event is not one data: line: %r" % (what, raw[:300]))
        out.append((name, lines[0][6:]))
    return out


def _loads(s, what):
    try:
        return json.loads(s)
    except ValueError:
        raise TestFailure("%s: not JSON: %r" % (what, s[:300]))


class Answer:
    def __init__(self):
        self.text = ""
        self.thinking = ""
        self.signature = None
        self.tools = []          # [[id, name, args_text]]
        self.finish = None
        self.usage = None        # (input, output)
        self.error = None        # message
        self.error_obj = None

    def __repr__(self):
        return "Answer(%r)" % self.__dict__


def parse_answer(mode, resp, what):
    """Parse a 200 answer in the client's format into an Answer."""
    eq(resp.status, 200, "%s: status (body %r)" % (what, resp.body[:300]))
    fmt, stream = fmt_of(mode), is_stream(mode)
    ct = resp.header("Content-Type") or ""
    if stream and mode != "gemini_array":
        check(ct.startswith("text/event-stream"), "%s: content-type %r" % (what, ct))
    else:
        check(ct.startswith("application/json"), "%s: content-type %r" % (what, ct))
    a = Answer()
    if fmt == "openai":
        _parse_openai_stream(resp.body, a, what) if stream else _parse_openai(resp.json(), a, what)
    elif fmt == "claude":
        _parse_claude_stream(resp.body, a, what) if stream else _parse_claude(resp.json(), a, what)
    elif fmt == "responses":
        _parse_responses_stream(resp.body, a, what) if stream else \
            _parse_responses(resp.json(), a, what)
    elif mode == "gemini":
        _parse_gemini_chunks([resp.json()], a, what)
    elif mode == "gemini_sse":
        _parse_gemini_chunks([_loads(d, what) for _, d in sse_events(resp.body, what, False)],
                             a, what)
    else:
        arr = resp.json()
        check(isinstance(arr, list) and arr, "%s: JSON-array stream is not a non-empty array: %r"
              % (what, resp.body[:300]))
        _parse_gemini_chunks(arr, a, what)
    return a


_OA_FIN = {"stop": "stop", "length": "length", "tool_calls": "tool"}


def _oa_usage(u, what):
    check(isinstance(u, dict), "%s: usage missing" % what)
    eq(u.get("total_tokens"), u.get("prompt_tokens", 0) + u.get("completion_tokens", 0),
       "%s: usage total_tokens" % what)
    return (u.get("prompt_tokens"), u.get("completion_tokens"))


def _parse_openai(j, a, what):
    eq(j.get("object"), "chat.completion", "%s: object" % what)
    check(isinstance(j.get("id"), str) and j["id"], "%s: id" % what)
    ch = j["choices"][0]
    m = ch["message"]
    eq(m.get("role"), "assistant", "%s: role" % what)
    a.text = m.get("content") or ""
    a.thinking = m.get("reasoning_content") or ""
    for tc in m.get("tool_calls") or []:
        eq(tc.get("type"), "function", "%s: tool_call type" % what)
        a.tools.append([tc.get("id"), tc["function"]["name"], tc["function"]["arguments"]])
    a.finish = _OA_FIN.get(ch.get("finish_reason"), ch.get("finish_reason"))
    a.usage = _oa_usage(j.get("usage"), what)


def _parse_openai_stream(body, a, what):
    evs = sse_events(body, what, False)
    check(evs, "%s: empty stream" % what)
    done = evs[-1][1] == "[DONE]"
    if not done:
        # A stream may end at an error the upstream sent without [DONE]
        check(_loads(evs[-1][1], what).get("error") is not None,
              "%s: stream does not end with data: [DONE]: %r" % (what, evs[-1][1][:200]))
    cid = None
    tools = {}
    for i, (_, d) in enumerate(evs[:-1] if done else evs):
        check(d != "[DONE]", "%s: [DONE] before the end" % what)
        j = _loads(d, what)
        if "error" in j:
            a.error, a.error_obj = j["error"].get("message"), j
            continue
        check(a.error is None, "%s: chunk after the error: %r" % (what, d[:200]))
        eq(j.get("object"), "chat.completion.chunk", "%s: chunk object" % what)
        if cid is None:
            cid = j.get("id")
            check(isinstance(cid, str) and cid, "%s: chunk id" % what)
        eq(j.get("id"), cid, "%s: chunk ids stable" % what)
        if j.get("usage"):
            a.usage = _oa_usage(j["usage"], what)
        for ch in j.get("choices") or []:
            eq(ch.get("index"), 0, "%s: choice index" % what)
            dl = ch.get("delta") or {}
            if dl.get("content"):
                check(a.finish is None, "%s: content after finish_reason" % what)
                a.text += dl["content"]
            if dl.get("reasoning_content"):
                a.thinking += dl["reasoning_content"]
            for tc in dl.get("tool_calls") or []:
                k = tc.get("index")
                check(isinstance(k, int), "%s: tool_call delta without index: %r" % (what, tc))
                if k not in tools:
                    eq(k, len(tools), "%s: tool_call index order" % what)
                    check(tc.get("id") and (tc.get("function") or {}).get("name"),
                          "%s: first tool_call delta lacks id/name: %r" % (what, tc))
                    eq(tc.get("type"), "function", "%s: tool_call type" % what)
                    tools[k] = [tc["id"], tc["function"]["name"], ""]
                    a.tools.append(tools[k])
                elif tc.get("id") is not None:
                    eq(tc["id"], tools[k][0], "%s: tool_call id stable" % what)
                tools[k][2] += (tc.get("function") or {}).get("arguments") or ""
            if ch.get("finish_reason"):
                check(a.finish is None, "%s: two finish_reasons" % what)
                a.finish = _OA_FIN.get(ch["finish_reason"], ch["finish_reason"])


_CL_FIN = {"end_turn": "stop", "max_tokens": "length", "tool_use": "tool",
           "stop_sequence": "stop"}


def _cl_usage(u, what):
    check(isinstance(u, dict), "%s: usage missing" % what)
    inp = u.get("input_tokens", 0) + (u.get("cache_read_input_tokens") or 0) + \
        (u.get("cache_creation_input_tokens") or 0)
    return (inp, u.get("output_tokens"))


def _parse_claude(j, a, what):
    eq(j.get("type"), "message", "%s: type" % what)
    eq(j.get("role"), "assistant", "%s: role" % what)
    check(isinstance(j.get("id"), str) and j["id"], "%s: id" % what)
    for b in j.get("content") or []:
        t = b.get("type")
        if t == "text":
            a.text += b["text"]
        elif t == "thinking":
            a.thinking += b["thinking"]
            a.signature = b.get("signature")
        elif t == "tool_use":
            check(isinstance(b.get("input"), dict), "%s: tool_use input %r" % (what, b))
            a.tools.append([b.get("id"), b.get("name"), json.dumps(b["input"])])
        else:
            raise TestFailure("%s: unexpected content block %r" % (what, b))
    a.finish = _CL_FIN.get(j.get("stop_reason"), j.get("stop_reason"))
    a.usage = _cl_usage(j.get("usage"), what)


def _parse_claude_stream(body, a, what):
    evs = sse_events(body, what, True)
    state = "start"
    open_idx, open_type, next_idx = None, None, 0
    in_tokens = None
    for name, d in evs:
        j = _loads(d, what)
        eq(j.get("type"), name, "%s: event name vs data type" % what)
        if name == "ping":
            continue
        if name == "error":
            check(isinstance(j.get("error"), dict) and j["error"].get("type")
                  and isinstance(j["error"].get("message"), str),
                  "%s: malformed error event %r" % (what, d[:200]))
            a.error, a.error_obj = j["error"]["message"], j
            state = "error"
            continue
        if state == "error":
            check(name in ("message_delta", "message_stop", "content_block_stop"),
                  "%s: %s after the error event" % (what, name))
            if name == "message_stop":
                state = "stopped"
            continue
        check(state != "stopped", "%s: %s after message_stop" % (what, name))
        if state == "start":
            eq(name, "message_start", "%s: first event" % what)
            m = j["message"]
            eq(m.get("type"), "message", "%s: message_start type" % what)
            eq(m.get("role"), "assistant", "%s: message_start role" % what)
            eq(m.get("content"), [], "%s: message_start content" % what)
            check(isinstance(m.get("id"), str) and m["id"], "%s: message id" % what)
            in_tokens = _cl_usage(m.get("usage"), what)[0]
            state = "blocks"
            continue
        check(name != "message_start", "%s: second message_start" % what)
        if name == "content_block_start":
            check(state == "blocks" and open_idx is None,
                  "%s: content_block_start while a block is open" % what)
            eq(j.get("index"), next_idx, "%s: content block index" % what)
            cb = j["content_block"]
            open_idx, open_type = next_idx, cb.get("type")
            next_idx += 1
            if open_type == "text":
                eq(cb.get("text"), "", "%s: text block start" % what)
            elif open_type == "thinking":
                eq(cb.get("thinking"), "", "%s: thinking block start" % what)
            elif open_type == "tool_use":
                check(cb.get("id") and cb.get("name"), "%s: tool_use start %r" % (what, cb))
                a.tools.append([cb["id"], cb["name"], ""])
                if cb.get("input") not in ({}, None):
                    raise TestFailure("%s: tool_use start input not empty %r" % (what, cb))
            else:
                raise TestFailure("%s: unexpected block type %r" % (what, open_type))
        elif name == "content_block_delta":
            eq(j.get("index"), open_idx, "%s: delta index is the open block" % what)
            dl = j["delta"]
            want = {"text": ("text_delta",), "thinking": ("thinking_delta", "signature_delta"),
                    "tool_use": ("input_json_delta",)}[open_type]
            check(dl.get("type") in want, "%s: %s delta in a %s block"
                  % (what, dl.get("type"), open_type))
            if dl["type"] == "text_delta":
                a.text += dl["text"]
            elif dl["type"] == "thinking_delta":
                a.thinking += dl["thinking"]
            elif dl["type"] == "signature_delta":
                a.signature = (a.signature or "") + dl["signature"]
            else:
                a.tools[-1][2] += dl["partial_json"]
        elif name == "content_block_stop":
            eq(j.get("index"), open_idx, "%s: content_block_stop index" % what)
            open_idx = None
        elif name == "message_delta":
            check(open_idx is None, "%s: message_delta with a block open" % what)
            check(state == "blocks", "%s: second message_delta" % what)
            a.finish = _CL_FIN.get(j["delta"].get("stop_reason"), j["delta"].get("stop_reason"))
            u = j.get("usage") or {}
            check("output_tokens" in u, "%s: message_delta usage %r" % (what, u))
            inp = u.get("input_tokens")
            a.usage = (inp if inp is not None else in_tokens, u["output_tokens"])
            state = "delta"
        elif name == "message_stop":
            eq(state, "delta", "%s: message_stop before message_delta" % what)
            state = "stopped"
        else:
            raise TestFailure("%s: unknown event %r" % (what, name))
    check(state in ("stopped", "error"), "%s: stream ended in state %s" % (what, state))


def _resp_finish(r, a):
    st = r.get("status")
    if st == "incomplete":
        reason = (r.get("incomplete_details") or {}).get("reason")
        return "length" if reason == "max_output_tokens" else "incomplete:%s" % reason
    if st == "completed":
        return "tool" if a.tools else "stop"
    return st


def _resp_usage(u, what):
    check(isinstance(u, dict), "%s: usage missing" % what)
    eq(u.get("total_tokens"), u.get("input_tokens", 0) + u.get("output_tokens", 0),
       "%s: usage total_tokens" % what)
    return (u.get("input_tokens"), u.get("output_tokens"))


def _parse_responses(j, a, what):
    eq(j.get("object"), "response", "%s: object" % what)
    check(isinstance(j.get("id"), str) and j["id"], "%s: id" % what)
    if j.get("status") == "failed":
        a.error = (j.get("error") or {}).get("message")
        a.error_obj = j
        return
    for it in j.get("output") or []:
        t = it.get("type")
        if t == "message":
            eq(it.get("role"), "assistant", "%s: message role" % what)
            for c in it.get("content") or []:
                eq(c.get("type"), "output_text", "%s: message content type" % what)
                a.text += c["text"]
        elif t == "reasoning":
            for s in (it.get("summary") or []) + (it.get("content") or []):
                a.thinking += s.get("text", "")
        elif t == "function_call":
            check(isinstance(it.get("arguments"), str), "%s: arguments not a string" % what)
            a.tools.append([it.get("call_id"), it.get("name"), it["arguments"]])
        else:
            raise TestFailure("%s: unexpected output item %r" % (what, it))
    a.finish = _resp_finish(j, a)
    a.usage = _resp_usage(j.get("usage"), what)


def _parse_responses_stream(body, a, what):
    evs = sse_events(body, what, True)
    seq = None
    items = {}          # output_index -> item dict (added)
    final = None
    terminal = ("response.completed", "response.incomplete", "response.failed")
    for k, (name, d) in enumerate(evs):
        j = _loads(d, what)
        eq(j.get("type"), name, "%s: event name vs data type" % what)
        sn = j.get("sequence_number")
        check(isinstance(sn, int), "%s: %s without sequence_number" % (what, name))
        if seq is not None:
            eq(sn, seq + 1, "%s: sequence_number after %d" % (what, seq))
        seq = sn
        if k == 0:
            eq(name, "response.created", "%s: first event" % what)
        if name == "error":
            a.error = j.get("message") or (j.get("error") or {}).get("message")
            a.error_obj = j
            continue
        check(final is None, "%s: %s after %s" % (what, name, final and final[0]))
        if name in terminal:
            final = (name, j["response"])
            if name == "response.failed":
                a.error = a.error or ((j["response"].get("error") or {}).get("message"))
                a.error_obj = a.error_obj or j
        elif name == "response.output_item.added":
            it = j["item"]
            items[j["output_index"]] = it
            if it.get("type") == "function_call":
                check(it.get("call_id") and it.get("name"), "%s: function_call item %r" % (what, it))
                a.tools.append([it["call_id"], it["name"], ""])
                it["_tool"] = a.tools[-1]
        elif name == "response.output_text.delta":
            check(items.get(j["output_index"], {}).get("type") == "message",
                  "%s: text delta for a non-message item" % what)
            a.text += j["delta"]
        elif name in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            a.thinking += j["delta"]
        elif name == "response.function_call_arguments.delta":
            it = items.get(j["output_index"])
            check(it is not None and it.get("type") == "function_call",
                  "%s: arguments delta for output_index %r" % (what, j.get("output_index")))
            it["_tool"][2] += j["delta"]
        elif name == "response.function_call_arguments.done":
            it = items.get(j["output_index"])
            eq(j.get("arguments"), it["_tool"][2], "%s: arguments.done vs deltas" % what)
    if a.error is not None and final is None:
        return
    check(final is not None, "%s: stream ended without response.completed: last %r"
          % (what, evs[-1][0] if evs else None))
    check(evs[-1][0] in terminal, "%s: last event %r" % (what, evs[-1][0]))
    if final[0] != "response.failed":
        b = Answer()
        _parse_responses(final[1], b, what + " (final response)")
        eq(b.text, a.text, "%s: final response text vs streamed deltas" % what)
        eq([t[:2] + [json.loads(t[2])] for t in b.tools],
           [t[:2] + [_loads(t[2], what)] for t in a.tools],
           "%s: final response tool calls vs streamed" % what)
        a.finish, a.usage = b.finish, b.usage


_GE_FIN = {"STOP": "stop", "MAX_TOKENS": "length"}


def _parse_gemini_chunks(chunks, a, what):
    for c in chunks:
        check(isinstance(c, dict), "%s: chunk is not an object: %r" % (what, c))
        if "error" in c:
            e = c["error"]
            check(isinstance(e.get("code"), int) and isinstance(e.get("message"), str),
                  "%s: malformed error chunk %r" % (what, c))
            a.error, a.error_obj = e["message"], c
            continue
        check(a.error is None, "%s: chunk after the error: %r" % (what, c))
        for cand in c.get("candidates") or []:
            for p in (cand.get("content") or {}).get("parts") or []:
                if "functionCall" in p:
                    fc = p["functionCall"]
                    check(isinstance(fc.get("args", {}), dict), "%s: args %r" % (what, fc))
                    a.tools.append([fc.get("id"), fc.get("name"), json.dumps(fc.get("args", {}))])
                    if p.get("thoughtSignature"):
                        a.signature = p["thoughtSignature"]
                    continue
                if p.get("thought"):
                    a.thinking += p.get("text", "")
                else:
                    a.text += p.get("text", "")
                if p.get("thoughtSignature"):
                    a.signature = p["thoughtSignature"]
            if cand.get("finishReason"):
                check(a.finish is None, "%s: two finishReasons" % what)
                a.finish = _GE_FIN.get(cand["finishReason"], cand["finishReason"])
        if c.get("usageMetadata"):
            u = c["usageMetadata"]
            out = u.get("candidatesTokenCount", 0) + u.get("thoughtsTokenCount", 0)
            a.usage = (u.get("promptTokenCount"), out)
            if "totalTokenCount" in u and "candidatesTokenCount" in u:
                eq(u["totalTokenCount"], u["promptTokenCount"] + out,
                   "%s: usage totalTokenCount" % what)
    if a.tools and a.finish == "stop":
        a.finish = "tool"


def check_error_body(mode, resp, status, msg, what):
    """An HTTP error in the client's format."""
    eq(resp.status, status, "%s: status (body %r)" % (what, resp.body[:300]))
    j = resp.json()
    fmt = fmt_of(mode)
    if fmt == "claude":
        eq(j.get("type"), "error", "%s: claude error type" % what)
        want = {400: "invalid_request_error", 429: "rate_limit_error",
                503: "overloaded_error", 502: "api_error"}[status]
        eq(j["error"].get("type"), want, "%s: claude error.type" % what)
        m = j["error"].get("message")
    elif fmt == "gemini":
        e = j.get("error") or {}
        eq(e.get("code"), status, "%s: google error code" % what)
        # 502 has no canonical code: INTERNAL (api.c) or UNAVAILABLE (as
        # gRPC maps HTTP 502) are both accepted
        want = {400: ("INVALID_ARGUMENT",), 429: ("RESOURCE_EXHAUSTED",),
                503: ("UNAVAILABLE",), 502: ("INTERNAL", "UNAVAILABLE")}[status]
        check(e.get("status") in want, "%s: google error status %r, want one of %r"
              % (what, e.get("status"), want))
        m = e.get("message")
    else:
        check(isinstance(j.get("error"), dict), "%s: not an OpenAI error %r" % (what, j))
        m = j["error"].get("message")
    check(isinstance(m, str) and (msg is None or msg in m),
          "%s: error message %r does not carry %r" % (what, m, msg))


# ================================================================ tests

def _expect_usage(a, what, inp=11, out=7):
    eq(a.usage, (inp, out), "%s: usage (input, output)" % what)


def run_text(mode, up):
    env = Env()
    what = "%s<-%s" % (mode, up)
    sc = scenario()
    mock = env.mocks[up]
    mock.script([("text", ANSWER)])
    a = parse_answer(mode, env.send(mode, up, sc), what)
    eq(a.text, ANSWER, "%s: text" % what)
    eq(a.tools, [], "%s: tool calls" % what)
    eq(a.error, None, "%s: error" % what)
    eq(a.finish, "stop", "%s: finish" % what)
    _expect_usage(a, what)
    v = upstream_view(up, env.last(up))
    check_upstream_basics(up, v, sc, mode, what)
    eq(v["flat"], [("text", "user", "Say hello to the world")], "%s: upstream messages" % what)
    # finish by length
    mock.script([("text", "cut sho", "length")])
    a = parse_answer(mode, env.send(mode, up, sc), what + " (length)")
    eq(a.text, "cut sho", "%s (length): text" % what)
    eq(a.finish, "length", "%s (length): finish" % what)


def _args_equal(got_text, want, what):
    got = _loads(got_text, what)
    eq(got, want, what)


def run_tools(mode, up):
    env = Env()
    fmt = fmt_of(mode)
    what = "%s<-%s tools" % (mode, up)
    sc = tool_scenario(fmt)
    mock = env.mocks[up]
    mock.script([("tools", [CALLS[0], CALLS[1]])])
    a = parse_answer(mode, env.send(mode, up, sc), what)
    # (b)+(c) what the upstream received
    v = upstream_view(up, env.last(up))
    check_upstream_basics(up, v, sc, mode, what)
    eq(v["tools"], ["get_weather", "get_time"], "%s: upstream tool names" % what)
    sch = v["schemas"].get("get_weather") or {}
    eq((sch.get("properties") or {}).get("city", {}).get("type"), "string",
       "%s: upstream tool schema city type (%r)" % (what, sch))
    flat = [p for p in v["flat"] if p[0] != "thinking"]
    eq([(p[0], p[1]) for p in flat],
       [("text", "user"), ("tool_call", "assistant"), ("tool_result", "user")],
       "%s: upstream part kinds (%r)" % (what, flat))
    eq(flat[0][2], "What's the weather in Paris?", "%s: upstream user text" % what)
    call, res = flat[1], flat[2]
    eq(call[3], "get_weather", "%s: upstream tool call name" % what)
    eq(call[4], {"city": "Paris"}, "%s: upstream tool call args" % what)
    check("22C and sunny" in res[4], "%s: upstream tool result content %r" % (what, res[4]))
    client_id = sc["msgs"][1][1][0][1]
    if up != "gemini":
        check(call[2], "%s: upstream tool call has no id" % what)
        eq(res[2], call[2], "%s: upstream tool result id matches the call" % what)
        if fmt != "gemini":
            eq(call[2], client_id, "%s: tool call id preserved" % what)
    else:
        eq(res[3], "get_weather", "%s: gemini functionResponse name recovered" % what)
        if res[2] is not None or call[2] is not None:
            eq(res[2], call[2], "%s: gemini functionResponse id matches the call" % what)
    # the answer: two tool calls in the client's format
    eq(a.error, None, "%s: error" % what)
    eq([t[1] for t in a.tools], ["get_weather", "get_time"], "%s: client tool names (%r)"
       % (what, a.tools))
    for t, (_n, args) in zip(a.tools, CALLS):
        _args_equal(t[2], args, "%s: client tool args of %s" % (what, t[1]))
    if fmt != "gemini":
        ids = [t[0] for t in a.tools]
        check(all(isinstance(i, str) and i for i in ids) and len(set(ids)) == 2,
              "%s: client tool ids %r" % (what, ids))
        if up != "gemini":
            eq(ids, ["%s_%d_%d" % (mock.tool_id_prefix, len(mock.requests), k) for k in (0, 1)],
               "%s: tool ids preserved from the upstream" % what)
    eq(a.finish, "tool", "%s: finish" % what)
    eq(a.text, "", "%s: text" % what)


def run_image(mode, up):
    env = Env()
    what = "%s<-%s image" % (mode, up)
    sc = scenario(msgs=[("user", [("text", "What is in this picture?"),
                                  ("image", "image/png", PNG)])])
    env.mocks[up].script([("text", "A pixel.")])
    a = parse_answer(mode, env.send(mode, up, sc), what)
    eq(a.text, "A pixel.", "%s: text" % what)
    v = upstream_view(up, env.last(up))
    eq(v["flat"], [("text", "user", "What is in this picture?"),
                   ("image", "user", "image/png", PNG)], "%s: upstream parts" % what)


def run_status_errors(mode, up):
    env = Env()
    what = "%s<-%s" % (mode, up)
    mock = env.mocks[up]
    # 400 first: after the 429 the only key rests (the default minute)
    for code, msg in ((400, "messages: field required xyz"),
                      (429, "Rate limit reached for requests")):
        st, body = mock.error_status(code, msg)
        mock.script([("status", st, body)])
        r = env.send(mode, up, scenario())
        check_error_body(mode, r, code, msg, "%s upstream %d" % (what, code))
        if code == 429:
            check(r.header("retry-after") is not None,
                  "%s upstream 429: no Retry-After" % what)
    harness_alive(env)


def harness_alive(env):
    check(env.srv.proc.poll() is None, "server died")
    r = env.srv.get("/v1/models")
    eq(r.status, 200, "GET /v1/models afterwards")


RESET_AFTER = {"openai": 2, "claude": 4, "gemini": 1}


def run_stream_faults(mode, up):
    env = Env()
    what = "%s<-%s" % (mode, up)
    mock = env.mocks[up]
    # in-stream error event after some text
    mock.script([("error_event", "Overloaded right now", 2)])
    a = parse_answer(mode, env.send(mode, up, scenario()), what + " error event")
    check(a.error is not None and "Overloaded right now" in a.error,
          "%s error event: client error %r (answer %r)" % (what, a.error, a))
    check("partial ".startswith(a.text), "%s error event: text %r" % (what, a.text))
    # reset mid-stream
    mock.script([("reset_after", RESET_AFTER[up])])
    try:
        r = env.send(mode, up, scenario())
    except Exception as e:
        raise TestFailure("%s reset: client response not complete: %r" % (what, e))
    a = parse_answer(mode, r, what + " reset")
    check(a.error is not None, "%s reset: no error in the client stream: %r" % (what, a))
    check("partial answer that will be cut off".startswith(a.text),
          "%s reset: text %r" % (what, a.text))
    harness_alive(env)


def run_nonstream_reset(mode, up):
    env = Env()
    what = "%s<-%s reset" % (mode, up)
    env.mocks[up].script([("reset_after", 1)])
    try:
        r = env.send(mode, up, scenario())
    except Exception as e:
        if fmt_of(mode) == up:
            return  # pass-through: the body is cut, as documented in exch.c
        raise TestFailure("%s: no complete response: %r" % (what, e))
    check_error_body(mode, r, 502, None, what)
    harness_alive(env)


# ---- generation

def _gen(prefix, fn, modes, ups):
    for m in modes:
        for u in ups:
            def t(m=m, u=u):
                fn(m, u)
            t.__name__ = "test_%s_%s_%s" % (prefix, m, u)
            globals()[t.__name__] = t


_gen("text", run_text, MODES, UPSTREAMS)
_gen("tools", run_tools, MODES, UPSTREAMS)
_gen("image", run_image, ("openai", "responses", "claude", "gemini"), UPSTREAMS)
_gen("status_error", run_status_errors, MODES, UPSTREAMS)
_gen("stream_fault", run_stream_faults, STREAM_MODES, UPSTREAMS)
_gen("nonstream_reset", run_nonstream_reset, ("openai", "responses", "claude", "gemini"),
     UPSTREAMS)


# ---- thinking

def _thinking_request(mode, budget=2048):
    return scenario(thinking=budget, temperature=1, stop=None)


def run_thinking_config(mode, up):
    """Claude client with thinking enabled -> the upstream's thinking knob."""
    env = Env()
    what = "%s->%s thinking config" % (mode, up)
    env.mocks[up].script([("text", "ok")])
    a = parse_answer(mode, env.send(mode, up, _thinking_request(mode)), what)
    eq(a.text, "ok", "%s: text" % what)
    v = upstream_view(up, env.last(up))
    if up == "gemini":
        tc = v["thinking"] or {}
        eq(tc.get("thinkingBudget"), 2048, "%s: thinkingConfig.thinkingBudget (%r)" % (what, tc))
        eq(tc.get("includeThoughts"), True, "%s: thinkingConfig.includeThoughts" % what)
    elif up == "claude":
        eq(v["thinking"], {"type": "enabled", "budget_tokens": 2048}, "%s: thinking" % what)
    else:
        check(v["thinking"] in ("low", "medium", "high", "minimal"),
              "%s: reasoning_effort %r" % (what, v["thinking"]))


def run_thinking_answer(mode, up):
    """Upstream thinking -> thinking blocks (Claude: signature byte-exact),
    reasoning_content (OpenAI), thought parts (Gemini)."""
    env = Env()
    what = "%s<-%s thinking" % (mode, up)
    thought = "Let me think: \"2+2\" is 4 \u2014 ok."
    env.mocks[up].script([("thinking", thought, SIG, "Four.")])
    a = parse_answer(mode, env.send(mode, up, _thinking_request(mode)), what)
    eq(a.text, "Four.", "%s: text" % what)
    eq(a.thinking, thought, "%s: thinking text" % what)
    if fmt_of(mode) == "claude" and up != "openai":
        eq(a.signature, SIG, "%s: signature byte-exact" % what)
    if fmt_of(mode) == "gemini" and up == "gemini":
        eq(a.signature, SIG, "%s: thoughtSignature byte-exact" % what)
    eq(a.finish, "stop", "%s: finish" % what)
    if up == "gemini" and fmt_of(mode) != "gemini":
        eq(a.usage[1], 12, "%s: output tokens include thoughts" % what)


def run_thinking_history(mode, up):
    """A signed thinking block the client sends back reaches a Claude
    upstream byte-exact (and thoughtSignatures on Gemini function calls
    reach a Gemini upstream)."""
    env = Env()
    what = "%s->%s thinking history" % (mode, up)
    cid = "toolu_01PriorCall"
    sc = scenario(thinking=2048, temperature=1, stop=None, tools=TOOLS, msgs=[
        ("user", [("text", "Weather?")]),
        ("assistant", [("thinking", "I should call the tool.", SIG),
                       ("tool_call", cid, "get_weather", {"city": "Paris"})]),
        ("user", [("tool_result", cid, "get_weather", "22C and sunny")])])
    if fmt_of(mode) == "gemini":  # Gemini: the signature rides on the call
        path, body = build_request(mode, MODELS[up], sc)
        parts = body["contents"][1]["parts"]
        parts[1]["thoughtSignature"] = SIG
        env.mocks[up].script([("text", "ok")])
        r = env.srv.request("POST", path, body=body, timeout=8.0)
    else:
        env.mocks[up].script([("text", "ok")])
        r = env.send(mode, up, sc)
    a = parse_answer(mode, r, what)
    eq(a.text, "ok", "%s: text" % what)
    req = env.last(up)
    if up == "claude":
        blocks = req["json"]["messages"][1]["content"]
        eq(blocks[0], {"type": "thinking", "thinking": "I should call the tool.",
                       "signature": SIG}, "%s: thinking block sent upstream" % what)
    else:
        parts = req["json"]["contents"][1]["parts"]
        fcs = [p for p in parts if "functionCall" in p]
        eq(len(fcs), 1, "%s: functionCall parts %r" % (what, parts))
        eq(fcs[0].get("thoughtSignature"), SIG, "%s: thoughtSignature on the call" % what)


def run_thinking_tool_sig(mode, up):
    """Gemini upstream thinking + function call with its thoughtSignature ->
    a Gemini client gets the signature on the call; a Claude client gets a
    signed thinking block."""
    env = Env()
    what = "%s<-%s thinking tool" % (mode, up)
    env.mocks[up].script([("thinking_tool", "Need weather.", SIG, "get_weather", {"city": "Oslo"})])
    a = parse_answer(mode, env.send(mode, up, scenario(tools=TOOLS, thinking=2048,
                                                       temperature=1, stop=None)), what)
    eq([t[1] for t in a.tools], ["get_weather"], "%s: tools" % what)
    _args_equal(a.tools[0][2], {"city": "Oslo"}, "%s: args" % what)
    eq(a.thinking, "Need weather.", "%s: thinking" % what)
    eq(a.signature, SIG, "%s: signature byte-exact" % what)


for _m in ("claude", "claude_stream"):
    for _u in ("gemini", "claude"):
        def _t(m=_m, u=_u):
            run_thinking_config(m, u)
        _t.__name__ = "test_thinking_config_%s_%s" % (_m, _u)
        globals()[_t.__name__] = _t
_gen("thinking_answer", run_thinking_answer,
     ("claude", "claude_stream", "openai", "openai_stream", "gemini_sse", "responses_stream"),
     ("claude", "gemini"))
_gen("thinking_answer", run_thinking_answer, ("openai", "openai_stream"), ("openai",))
_gen("thinking_history", run_thinking_history, ("claude", "claude_stream"), ("claude",))
_gen("thinking_history", run_thinking_history, ("gemini", "gemini_sse"), ("gemini",))
_gen("thinking_tool_sig", run_thinking_tool_sig,
     ("claude", "claude_stream", "gemini", "gemini_sse"), ("claude", "gemini"))


# ---- count tokens, TLS

def test_count_tokens_claude_route():
    env = Env()
    body = {"model": CLAUDE_MODEL, "system": SYSTEM,
            "messages": [{"role": "user", "content": "How many tokens is this?"}]}
    r = env.srv.request("POST", "/v1/messages/count_tokens", body=body)
    eq(r.status, 200, "count_tokens status (%r)" % r.body[:200])
    n = r.json().get("input_tokens")
    check(isinstance(n, int) and n > 0, "input_tokens %r" % n)
    for model in (GEMINI_MODEL, ALIAS):
        r = env.srv.request("POST", "/v1/messages/count_tokens", body=dict(body, model=model))
        eq(r.status, 200, "count_tokens for %s (%r)" % (model, r.body[:200]))
    r = env.srv.request("POST", "/v1/messages/count_tokens",
                        body=dict(body, model="no-such-model-xyz"))
    eq(r.status, 404, "count_tokens unknown model status")
    eq(r.json()["error"]["type"], "not_found_error", "count_tokens unknown error type")
    r = env.srv.request("POST", "/v1/messages/count_tokens?beta=true", body=body)
    eq(r.status, 200, "count_tokens ?beta=true status (%r)" % r.body[:200])


def test_count_tokens_gemini_route():
    env = Env()
    body = {"contents": [{"role": "user", "parts": [{"text": "How many tokens is this?"}]}]}
    for pre in ("/v1beta", "/v1"):
        r = env.srv.request("POST", "%s/models/%s:countTokens" % (pre, GEMINI_MODEL), body=body)
        eq(r.status, 200, "%s countTokens status (%r)" % (pre, r.body[:200]))
        n = r.json().get("totalTokens")
        check(isinstance(n, int) and n > 0, "totalTokens %r" % n)
    r = env.srv.request("POST", "/v1beta/models/no-such-model-xyz:countTokens", body=body)
    eq(r.status, 404, "countTokens unknown model status (%r)" % r.body[:200])
    e = r.json().get("error") or {}
    eq((e.get("code"), e.get("status")), (404, "NOT_FOUND"), "countTokens unknown error")


def _tls_text(mode, up):
    env = Env(tls=True)
    what = "%s<-%s over TLS" % (mode, up)
    env.mocks[up].script([("text", ANSWER), ("text", "again")])
    a = parse_answer(mode, env.send(mode, up, scenario()), what)
    eq(a.text, ANSWER, "%s: text" % what)
    a = parse_answer(mode, env.send(mode, up, scenario()), what + " (2)")
    eq(a.text, "again", "%s: second text" % what)
    m = env.mocks[up]
    check(m.tls_handshakes, "%s: no TLS handshake seen" % what)
    eq(m.tls_handshakes[0]["sni"], "localhost", "%s: SNI" % what)
    eq(m.connections_accepted, 1, "%s: upstream connection reused" % what)


def test_tls_claude_stream_from_claude():
    _tls_text("claude_stream", "claude")


def test_tls_openai_from_gemini():
    _tls_text("openai", "gemini")


def test_tls_gemini_sse_from_claude():
    _tls_text("gemini_sse", "claude")


# ---- same-format pairs: relayed as they are (protocol.md 4.1: passthrough)

def _claude_code_like_body(stream):
    """What Claude Code sends, with fields and blocks the hub has no view of."""
    return {
        "model": CLAUDE_MODEL, "max_tokens": 128000, "stream": stream,
        "thinking": {"type": "adaptive", "display": "omitted"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015",
                                          "keep": {"type": "thinking_turns", "value": 1}}]},
        "output_config": {"effort": "high"},
        "metadata": {"user_id": json.dumps({"device_id": "d-1", "session_id": "s-1"})},
        "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=1;"},
                   {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Summarise the document", "cache_control": {"type": "ephemeral"}},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain",
                                            "data": "A short document."},
             "citations": {"enabled": True}}]}],
        "tools": [{"name": "get_weather", "description": "Weather", "input_schema":
                   {"type": "object", "properties": {"city": {"type": "string"}}},
                   "cache_control": {"type": "ephemeral"}},
                  {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}],
        "a_field_from_the_future": {"x": [1, 2.5, None, "\u00e9"]},
    }


def test_claude_client_on_claude_key_is_relayed_as_is():
    env = Env()
    events = [
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message",'
        b'"role":"assistant","model":"' + CLAUDE_MODEL.encode() + b'","content":[],"stop_reason":null,'
        b'"usage":{"input_tokens":11,"cache_read_input_tokens":9000,"output_tokens":1}}}\n\n',
        b'event: ping\ndata: {"type": "ping"}\n\n',
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":'
        b'{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}}\n\n',
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
        b'{"type":"input_json_delta","partial_json":"{\\"query\\":\\"x\\"}"}}\n\n',
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
        b'event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":'
        b'{"type":"text","text":"","citations":[]}}\n\n',
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":'
        b'{"type":"citations_delta","citation":{"type":"char_location","cited_text":"A short",'
        b'"document_index":0,"start_char_index":0,"end_char_index":7}}}\n\n',
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":'
        b'{"type":"text_delta","text":"Short."}}\n\n',
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n',
        b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
        b'"usage":{"output_tokens":7},"context_management":{"applied_edits":[]}}\n\n',
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    ]
    env.cl.script([("raw_events", events)])
    raw = json.dumps(_claude_code_like_body(True), indent=1).encode()
    r = env.srv.request("POST", "/v1/messages?beta=true", body=raw, timeout=8.0,
                        headers={"Content-Type": "application/json",
                                 "anthropic-beta": "context-management-2025-06-27",
                                 "x-api-key": "client-secret-key"})
    eq(r.status, 200, "status (body %r)" % r.body[:300])
    eq(r.body, b"".join(events), "the client gets the upstream's events byte for byte")
    up = env.last("claude")
    eq(up["body"], raw, "the upstream gets the client's body byte for byte")
    eq(up["headers"].get("x-api-key"), CLAUDE_KEY, "upstream key")
    eq(up["headers"].get("anthropic-beta"), "context-management-2025-06-27", "beta forwarded")
    eq(up["headers"].get("anthropic-version"), "2023-06-01", "anthropic-version")
    check("client-secret-key" not in repr(up["header_list"]),
          "the client's key went upstream: %r" % up["header_list"])
    # non-stream: the upstream's JSON as it is
    answer = {"id": "msg_2", "type": "message", "role": "assistant", "model": CLAUDE_MODEL,
              "content": [{"type": "text", "text": "ok", "citations": None}],
              "stop_reason": "end_turn", "stop_sequence": None,
              "usage": {"input_tokens": 3, "output_tokens": 1,
                        "server_tool_use": {"web_search_requests": 0}},
              "container": None}
    env.cl.script([("status", 200, answer)])
    r = env.srv.request("POST", "/v1/messages", body=_claude_code_like_body(False), timeout=8.0)
    eq(r.status, 200, "non-stream status (body %r)" % r.body[:300])
    eq(json.loads(r.body), answer, "non-stream answer as the upstream sent it")
    # an upstream error keeps its status and body
    err = {"type": "error", "error": {"type": "invalid_request_error",
                                      "message": "context_management: bad edit"}}
    env.cl.script([("status", 400, err)])
    r = env.srv.request("POST", "/v1/messages", body=_claude_code_like_body(True), timeout=8.0)
    eq(r.status, 400, "upstream 400 relayed")
    eq(json.loads(r.body), err, "upstream error body relayed")
    harness_alive(env)


def _gemini_cli_like_body():
    return {
        "contents": [{"role": "user", "parts": [{"text": "Say hello"}]}],
        "systemInstruction": {"role": "user", "parts": [{"text": SYSTEM}]},
        "generationConfig": {"temperature": 0, "topP": 1, "responseMimeType": "application/json",
                             "responseSchema": {"type": "OBJECT", "properties":
                                                {"greeting": {"type": "STRING"}}},
                             "thinkingConfig": {"includeThoughts": True, "thinkingBudget": 512}},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
        "labels": {"team": "home"},
        "cachedContent": "cachedContents/abc123",
    }


def test_gemini_client_on_gemini_key_is_relayed_as_is():
    env = Env()
    d1 = (b'{"candidates":[{"content":{"role":"model","parts":[{"text":"{\\"greeting\\":"}]},'
          b'"index":0}],"usageMetadata":{"promptTokenCount":11,"cachedContentTokenCount":8},'
          b'"modelVersion":"gemini-2.5-flash","responseId":"r-1"}')
    d2 = (b'{"candidates":[{"content":{"role":"model","parts":[{"text":"\\"hi\\"}"}]},'
          b'"finishReason":"STOP","index":0,"groundingMetadata":{"webSearchQueries":["hi"]}}],'
          b'"usageMetadata":{"promptTokenCount":11,"candidatesTokenCount":7,"totalTokenCount":18},'
          b'"modelVersion":"gemini-2.5-flash","responseId":"r-1"}')
    events = [b"data: " + d1 + b"\r\n\r\n", b"data: " + d2 + b"\r\n\r\n"]
    raw = json.dumps(_gemini_cli_like_body(), indent=2).encode()
    hdrs = {"Content-Type": "application/json", "x-goog-api-key": "client-secret-key"}
    base = "/v1beta/models/%s:streamGenerateContent" % GEMINI_MODEL
    # SSE
    env.ge.script([("raw_events", events)])
    r = env.srv.request("POST", base + "?alt=sse", body=raw, headers=hdrs, timeout=8.0)
    eq(r.status, 200, "sse status (body %r)" % r.body[:300])
    eq(r.body, b"".join(events), "SSE events byte for byte")
    up = env.last("gemini")
    eq(up["body"], raw, "the upstream gets the client's body byte for byte")
    eq(up["query"].get("alt"), "sse", "upstream asked for SSE")
    eq(up["headers"].get("x-goog-api-key"), GEMINI_KEY, "upstream key")
    check("client-secret-key" not in repr(up["header_list"]),
          "the client's key went upstream: %r" % up["header_list"])
    # JSON array: the same events' data, framed as one array
    env.ge.script([("raw_events", events)])
    r = env.srv.request("POST", base, body=raw, headers=hdrs, timeout=8.0)
    eq(r.status, 200, "array status (body %r)" % r.body[:300])
    eq(r.body, b"[" + d1 + b",\r\n" + d2 + b"]", "array framing of the upstream's data")
    eq(len(json.loads(r.body)), 2, "array elements")
    check((r.header("content-type") or "").startswith("application/json"),
          "array content type: %r" % r.header("content-type"))
    eq(env.last("gemini")["body"], raw, "array: the upstream gets the body byte for byte")
    # non-stream
    answer = json.loads(d2)
    env.ge.script([("status", 200, answer)])
    r = env.srv.request("POST", "/v1beta/models/%s:generateContent" % GEMINI_MODEL, body=raw,
                        headers=hdrs, timeout=8.0)
    eq(r.status, 200, "non-stream status (body %r)" % r.body[:300])
    eq(json.loads(r.body), answer, "non-stream answer as the upstream sent it")
    harness_alive(env)


def test_gemini_array_pass_through_faults():
    env = Env()
    base = "/v1beta/models/%s:streamGenerateContent" % GEMINI_MODEL
    body = _gemini_cli_like_body()
    # a reset mid-stream ends the array with an error element
    env.ge.script([("reset_after", 1)])
    r = env.srv.request("POST", base, body=body, timeout=8.0)
    eq(r.status, 200, "status")
    arr = json.loads(r.body)
    check(isinstance(arr, list) and len(arr) == 2, "array of one chunk and the error: %r" % arr)
    check("candidates" in arr[0], "first element is the upstream's chunk: %r" % arr[0])
    e = arr[-1].get("error") or {}
    eq(e.get("code"), 502, "error element code")
    check("gemini" in e.get("message", ""), "error element message: %r" % e)
    # nothing at all before the reset: the head was sent, so the client
    # gets an array holding only the error
    env.ge.script([("reset_after", 0)])
    r = env.srv.request("POST", base, body=body, timeout=8.0)
    eq(r.status, 200, "reset before any event: status")
    arr = json.loads(r.body)
    check(isinstance(arr, list) and len(arr) == 1 and arr[0]["error"]["code"] == 502,
          "reset before any event: body %r" % r.body[:200])
    harness_alive(env)


# ---- [streaming] keepalive-seconds: heartbeats during silences

KA = "[streaming]\nkeepalive-seconds = 1\n"
HB = b": keep-alive\n\n"


def _claude_events(text):
    return [
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_k","type":'
        b'"message","role":"assistant","model":"' + CLAUDE_MODEL.encode() + b'","content":[],'
        b'"stop_reason":null,"usage":{"input_tokens":11,"output_tokens":1}}}\n\n',
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"text","text":""}}\n\n',
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
        b'{"type":"text_delta","text":"' + text.encode() + b'"}}\n\n',
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
        b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
        b'"usage":{"output_tokens":7}}\n\n',
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n']


def test_stream_keepalive_in_a_pass_through_silence():
    env = Env(more=KA)
    ev = _claude_events("after a pause")
    env.cl.script([("raw_events", ev[:2] + [2.6] + ev[2:])])
    path, body = build_request("claude_stream", CLAUDE_MODEL, scenario())
    r = env.srv.request("POST", path, body=body, timeout=8.0)
    eq(r.status, 200, "status")
    check(HB in r.body, "no heartbeat during a 2.6 s silence: %r" % r.body[:400])
    check(r.body.index(HB) >= len(ev[0] + ev[1]),
          "heartbeat not after the events before the silence: %r" % r.body[:400])
    eq(r.body.replace(HB, b""), b"".join(ev), "the events around the heartbeats, unchanged")
    a = parse_answer("claude_stream", r, "claude stream with heartbeats")
    eq(a.text, "after a pause", "text")
    # without the setting: no heartbeat
    env2 = Env()
    env2.cl.script([("raw_events", ev[:2] + [1.5] + ev[2:])])
    r = env2.srv.request("POST", path, body=body, timeout=8.0)
    eq(r.body, b"".join(ev), "no heartbeat when keepalive-seconds is not set")


def test_stream_keepalive_gives_a_translated_stream_its_head_early():
    import http.client
    import time
    env = Env(more=KA)
    env.cl.script([("raw_events", _claude_events("late hello"), 2.6)])
    path, body = build_request("openai_stream", CLAUDE_MODEL, scenario())
    hc = http.client.HTTPConnection("127.0.0.1", env.srv.port, timeout=8.0)
    try:
        t0 = time.monotonic()
        hc.request("POST", path, body=json.dumps(body).encode(),
                   headers={"Content-Type": "application/json"})
        resp = hc.getresponse()
        head_after = time.monotonic() - t0
        data = resp.read()
    finally:
        hc.close()
    eq(resp.status, 200, "status")
    check(head_after < 2.0, "head only after %.2f s: the upstream answered at 2.6 s"
          % head_after)
    check(data.startswith(HB), "stream does not start with a heartbeat: %r" % data[:200])
    r = harness.Response(resp.status, resp.reason, resp.getheaders(), data, "HTTP/1.1")
    a = parse_answer("openai_stream", r, "openai stream with an early head")
    eq(a.text, "late hello", "text")
    check(a.error is None, "error %r" % a.error)


def test_stream_keepalive_then_upstream_timeout_is_an_error_event():
    env = Env(more=KA)
    env.cl.script([("hang",)])
    r = env.send("openai_stream", "claude", scenario())
    eq(r.status, 200, "status: the head went out with the first heartbeat")
    check(r.body.startswith(HB), "no heartbeat first: %r" % r.body[:200])
    a = parse_answer("openai_stream", r, "openai stream, upstream silent")
    check(a.error is not None and "did not answer" in a.error,
          "the timeout is not an error event: %r" % (a,))
    harness_alive(env)


def test_stream_keepalive_in_a_gemini_array_stream():
    env = Env(more=KA)
    env.cl.script([("raw_events", _claude_events("array hello"), 2.6)])
    r = env.send("gemini_array", "claude", scenario())
    eq(r.status, 200, "status")
    check(r.body.startswith(b"\n"), "no whitespace heartbeat first: %r" % r.body[:100])
    a = parse_answer("gemini_array", r, "gemini array with heartbeats")
    eq(a.text, "array hello", "text")


# ---- request-log = true: one file per request, without credentials

def _log_files(env, prefix):
    d = os.path.join(env.srv.dir, "logs")
    return sorted(os.path.join(d, f) for f in (os.listdir(d) if os.path.isdir(d) else [])
                  if f.startswith(prefix) and f.endswith(".log"))


def _wait_log(env, prefix, n, needle):
    """The n-th file for prefix once it holds needle (the server closes a
    file just after the answer's last byte)."""
    import time
    deadline = time.monotonic() + 3.0
    while True:
        files = _log_files(env, prefix)
        if len(files) >= n:
            with open(files[n - 1], "rb") as f:
                text = f.read()
            if needle in text:
                return files[n - 1], text
        if time.monotonic() > deadline:
            raise TestFailure("no request log %d for %s holding %r (files: %r)"
                              % (n, prefix, needle, files))
        time.sleep(0.05)


def test_request_log_files():
    secret = "client-secret-rl-77"
    env = Env(request_log="true", api_keys=secret)
    auth = {"Authorization": "Bearer " + secret, "Content-Type": "application/json"}
    # a pass-through (OpenAI client, OpenAI-compatible provider)
    path, body = build_request("openai", ALIAS, scenario())
    r = env.srv.request("POST", path, body=json.dumps(body).encode(), headers=auth, timeout=8.0)
    eq(r.status, 200, "pass-through status (body %r)" % r.body[:200])
    f, t = _wait_log(env, "v1-chat-completions-", 1, b"=== RESPONSE ===")
    for part in (b"=== REQUEST ===\nPOST /v1/chat/completions\n", b"Say hello to the world",
                 b"=== UPSTREAM REQUEST ===\nPOST http://127.0.0.1:",
                 b"=== UPSTREAM REQUEST BODY ===", b"=== UPSTREAM RESPONSE ===\nHTTP/1.1 200",
                 b"=== UPSTREAM RESPONSE BODY ===", b"echo: Say hello to the world",
                 b"(body: the upstream's, relayed as it is)", b"Authorization: [redacted]"):
        check(part in t, "pass-through log lacks %r:\n%s" % (part, t[:3000].decode("utf-8", "replace")))
    up_body = t.split(b"=== UPSTREAM REQUEST BODY ===")[1].split(b"===")[0]
    check(UP_OPENAI.encode() in up_body and ALIAS.encode() not in up_body,
          "the upstream body in the log is not the rewritten one: %r" % up_body[:300])
    eq(os.stat(f).st_mode & 0o777, 0o600, "log file mode")
    # a translated stream (Claude client, Gemini upstream), key in x-api-key
    path, body = build_request("claude_stream", GEMINI_MODEL, scenario())
    r = env.srv.request("POST", path, body=json.dumps(body).encode(), timeout=8.0,
                        headers={"x-api-key": secret, "Content-Type": "application/json"})
    eq(r.status, 200, "translated status")
    f, t = _wait_log(env, "v1-messages-", 1, b"message_stop")
    for part in (b"=== UPSTREAM REQUEST ===\nPOST http://127.0.0.1:",
                 b":streamGenerateContent?alt=sse", b"x-goog-api-key: [redacted]",
                 b"x-api-key: [redacted]", b"=== UPSTREAM RESPONSE BODY ===",
                 b"=== RESPONSE BODY ===", b"event: message_start"):
        check(part in t, "translated log lacks %r:\n%s" % (part, t[:3000].decode("utf-8", "replace")))
    # a Gemini client with the key in the query; the answer an error of ours
    r = env.srv.request("POST", "/v1beta/models/no-such-model:generateContent?key=%s&alt=json"
                        % secret, body=b'{"contents":[]}', timeout=8.0,
                        headers={"Content-Type": "application/json"})
    eq(r.status, 404, "unknown model")
    f, t = _wait_log(env, "v1beta-models-no-such-model-generateContent-", 1, b"=== RESPONSE BODY ===")
    check(b"?key=[redacted]&alt=json" in t, "query key not redacted:\n%s" % t[:600].decode())
    check(b"HTTP/1.1 404" in t and b"no-such-model" in t, "error answer not logged: %r" % t[-400:])
    # no credential anywhere
    for f in _log_files(env, ""):
        with open(f, "rb") as fh:
            t = fh.read()
        for s in (secret, OA_KEY, GEMINI_KEY, CLAUDE_KEY):
            check(s.encode() not in t, "%s holds a credential (%s...)" % (f, s[:6]))
    eq(env.srv.request("GET", "/v1/models", headers=auth).status, 200, "still serving")


def test_request_log_off_writes_nothing():
    env = Env()
    eq(env.send("openai", "openai", scenario()).status, 200, "status")
    check(not os.path.exists(os.path.join(env.srv.dir, "logs")),
          "a logs directory without request-log")


# ---- header = Name: value (per-entry upstream headers)

def test_configured_upstream_headers():
    relay = "relay-secret-4711"
    env = Env(request_log="true", more=(
        "\n[openai-compatibility]\nname = hdrprov\nbase-url = {oa}\napi-keys = %s\n"
        "model = %s = hdr-alias\nheader = X-Relay-Token: %s\n"
        "header = user-agent: my-agent/1.0\n"
        "header = HTTP-Referer: https://home.example\n") % (OA_KEY, UP_OPENAI, relay))
    r = env.srv.request("POST", "/v1/chat/completions", timeout=8.0,
                        body={"model": "hdr-alias", "messages": [{"role": "user", "content": "hi"}]})
    eq(r.status, 200, "status (body %r)" % r.body[:300])
    up = env.last("openai")
    hl = up["header_list"]
    eq([v for k, v in hl if k.lower() == "x-relay-token"], [relay], "configured header sent once")
    eq([v for k, v in hl if k.lower() == "user-agent"], ["my-agent/1.0"],
       "our User-Agent replaced by the configured one")
    eq([v for k, v in hl if k.lower() == "http-referer"], ["https://home.example"], "referer")
    eq([v for k, v in hl if k.lower() == "authorization"], ["Bearer " + OA_KEY],
       "our Authorization still sent")
    f, t = _wait_log(env, "v1-chat-completions-", 1, b"=== RESPONSE ===")
    check(relay.encode() not in t, "the configured header's value is in the request log")
    check(b"X-Relay-Token: [redacted]" in t, "configured header not listed (hidden) in the log")
    harness_alive(env)


def test_configured_header_replaces_anthropic_version():
    env = Env(more="")
    text = open(env.srv.config_path).read().replace(
        "api-key = %s\n" % CLAUDE_KEY,
        "api-key = %s\nheader = anthropic-version: 2099-01-01\n" % CLAUDE_KEY)
    with open(env.srv.config_path, "w") as f:
        f.write(text)
    env.srv.proc.send_signal(__import__("signal").SIGHUP)
    env.srv.wait_stderr("config reloaded", 3.0)
    r = env.send("claude", "claude", scenario())
    eq(r.status, 200, "status")
    hl = env.last("claude")["header_list"]
    eq([v for k, v in hl if k.lower() == "anthropic-version"], ["2099-01-01"],
       "anthropic-version from the config, once")
    eq([v for k, v in hl if k.lower() == "x-api-key"], [CLAUDE_KEY], "key still ours")


def test_beta_query_claude_route():
    env = Env()
    env.cl.script([("text", "beta ok")])
    path, body = build_request("claude_stream", CLAUDE_MODEL, scenario())
    r = env.srv.request("POST", path + "?beta=true", body=body,
                        headers={"anthropic-beta": "interleaved-thinking-2025-05-14"})
    a = parse_answer("claude_stream", r, "?beta=true")
    eq(a.text, "beta ok", "?beta=true text")
    eq(env.last("claude")["headers"].get("anthropic-beta"), "interleaved-thinking-2025-05-14",
       "anthropic-beta forwarded")


# ---- answers larger than the connection's usual output cap (1 MB)

def test_large_answers_over_1mb_arrive_whole():
    """A translated answer is written to the client as one piece (a whole
    non-stream JSON, a whole Gemini tool call); pieces over the output
    buffer's 1 MB cap must still arrive whole, stream and non-stream."""
    env = Env()
    big = "word " * 300000  # 1.5 MB of text
    env.oa.script([("text", big), ("text", big), ("text", big)])
    r = env.srv.request("POST", "/v1/messages", timeout=20.0, body={
        "model": ALIAS, "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}]})
    eq(r.status, 200, "claude non-stream status")
    got = "".join(b.get("text", "") for b in r.json()["content"])
    eq(len(got), len(big), "claude non-stream text length")
    r = env.srv.request("POST", "/v1beta/models/%s:generateContent" % ALIAS, timeout=20.0,
                        body={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    eq(r.status, 200, "gemini non-stream status")
    got = "".join(p.get("text", "") for p in r.json()["candidates"][0]["content"]["parts"])
    eq(len(got), len(big), "gemini non-stream text length")
    r = env.srv.request("POST", "/v1/responses", timeout=20.0,
                        body={"model": ALIAS, "input": "hi"})
    eq(r.status, 200, "responses non-stream status")
    env.srv.assert_alive()


def test_responses_client_gets_its_request_parameters_echoed():
    """The response object of a Responses client echoes the request's
    parameters (instructions, max_output_tokens, tools, ...) as OpenAI's
    does, in response.created and response.completed and in a whole body:
    the encoder copies them before the client's body is released."""
    env = Env()
    tools = [{"type": "function", "name": "get_weather", "description": "Weather",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    body = {"model": ALIAS, "instructions": "Be \"brief\"", "input": "hi",
            "max_output_tokens": 77, "temperature": 0.25, "tools": tools,
            "tool_choice": "auto", "metadata": {"run": "echo"}}
    want = {"instructions": 'Be "brief"', "max_output_tokens": 77, "temperature": 0.25,
            "tools": tools, "tool_choice": "auto", "metadata": {"run": "echo"},
            "top_p": 1, "user": None}

    def check_echo(resp, what):
        for k, v in want.items():
            eq(resp.get(k), v, "%s: %s" % (what, k))

    for up in ("openai", "claude", "gemini"):
        env.mocks[up].script([("text", "Hello")])
        b = dict(body, model=MODELS[up])
        r = env.srv.request("POST", "/v1/responses", body=b, timeout=8.0)
        eq(r.status, 200, "%s non-stream status" % up)
        check_echo(r.json(), up + " non-stream")
        env.mocks[up].script([("text", "Hello")])
        r = env.srv.request("POST", "/v1/responses", body=dict(b, stream=True), timeout=8.0)
        eq(r.status, 200, "%s stream status" % up)
        evs = dict((n, json.loads(d)) for n, d in sse_events(r.body, up, True))
        check_echo(evs["response.created"]["response"], up + " response.created")
        check_echo(evs["response.completed"]["response"], up + " response.completed")
    env.srv.assert_alive()


def test_count_tokens_asks_claude_and_gemini_upstreams():
    """count_tokens goes to the upstream's own counter when the provider has
    one: Claude /v1/messages/count_tokens (the client's body less the keys
    only generation takes) and Gemini :countTokens (generateContentRequest
    when translated, the client's body when it is a Gemini client),
    answered in the client's shape; an OpenAI-compatible provider gets the
    documented estimate."""
    env = Env()
    env.cl.input_tokens = 4242
    env.ge.input_tokens = 777
    body = {"model": CLAUDE_MODEL, "system": [{"type": "text", "text": SYSTEM,
                                                "cache_control": {"type": "ephemeral"}}],
            "max_tokens": 100, "stream": False, "temperature": 0.2,
            "messages": [{"role": "user", "content": "count me"}],
            "tools": [{"type": "web_search_20250305", "name": "web_search"}]}
    r = env.srv.request("POST", "/v1/messages/count_tokens", body=body)
    eq(r.status, 200, "claude count status (%r)" % r.body[:200])
    eq(r.json(), {"input_tokens": 4242}, "claude upstream count")
    up = env.last("claude")
    eq(up["path"], "/v1/messages/count_tokens", "claude count path")
    check("max_tokens" not in up["json"] and "stream" not in up["json"],
          "count body has only count keys: %r" % sorted(up["json"]))
    eq(up["json"]["model"], CLAUDE_MODEL, "claude count model")
    eq({k: up["json"][k] for k in ("system", "messages", "tools")},
       {k: body[k] for k in ("system", "messages", "tools")},
       "claude count: the other keys as the client sent them")
    r = env.srv.request("POST", "/v1/messages/count_tokens", body=dict(body, model=GEMINI_MODEL))
    eq(r.json(), {"input_tokens": 777}, "gemini upstream count for a Claude client")
    up = env.last("gemini")
    check(up["path"].endswith(":countTokens"), "gemini count path %r" % up["path"])
    gcr = up["json"].get("generateContentRequest") or {}
    check(gcr.get("contents"), "generateContentRequest carries contents: %r" % up["json"])
    eq(gcr.get("model"), "models/" + GEMINI_MODEL, "generateContentRequest model")
    gbody = {"contents": [{"role": "user", "parts": [{"text": "x"}]}]}
    r = env.srv.request("POST", "/v1beta/models/%s:countTokens" % GEMINI_MODEL, body=gbody)
    eq(r.json().get("totalTokens"), 777, "gemini client count (%r)" % r.json())
    eq(env.last("gemini")["json"], gbody, "gemini client count: the body as sent")
    n_before = len(env.oa.requests)
    r = env.srv.request("POST", "/v1/messages/count_tokens", body=dict(body, model=ALIAS))
    eq(r.status, 200, "estimate status")
    check(r.json()["input_tokens"] > 0, "estimate > 0")
    eq(len(env.oa.requests), n_before, "no upstream call for the estimate")


def test_legacy_completions_on_claude_and_gemini():
    """/v1/completions reaches every provider: the prompt becomes one user
    message and the answer comes back as text_completion objects."""
    env = Env()
    for model, up in ((CLAUDE_MODEL, "claude"), (GEMINI_MODEL, "gemini")):
        r = env.srv.request("POST", "/v1/completions",
                            body={"model": model, "prompt": "Say hi", "max_tokens": 20})
        eq(r.status, 200, "%s completions status (%r)" % (up, r.body[:200]))
        j = r.json()
        eq(j["object"], "text_completion", "object")
        eq(j["choices"][0]["text"], "echo: Say hi", "%s text" % up)
        eq(j["choices"][0]["finish_reason"], "stop", "finish")
        check(j["usage"]["total_tokens"] > 0, "usage")
        r = env.srv.request("POST", "/v1/completions",
                            body={"model": model, "prompt": ["Say", " hi"], "stream": True})
        eq(r.status, 200, "%s stream status" % up)
        lines = [l for l in r.body.decode().split("\n\n") if l.strip()]
        eq(lines[-1], "data: [DONE]", "stream ends with [DONE]")
        chunks = [json.loads(l[6:]) for l in lines[:-1]]
        text = "".join(c["choices"][0]["text"] for c in chunks)
        eq(text, "echo: Say hi", "%s streamed text" % up)
        eq(chunks[-1]["choices"][0]["finish_reason"], "stop", "last chunk finish")
    r = env.srv.request("POST", "/v1/completions", body={"model": CLAUDE_MODEL, "prompt": 5})
    eq(r.status, 400, "bad prompt status")
    check("prompt" in r.json()["error"]["message"], "bad prompt message")


def test_responses_instructions_reach_the_upstream_and_are_echoed():
    """A Responses client's instructions become the upstream's system
    prompt (OpenAI, Claude, Gemini upstreams) and come back in the
    response object, streamed (response.created, response.completed) and
    not, as OpenAI's API echoes them; so do the other echoed parameters."""
    env = Env()
    for up, model in (("openai", ALIAS), ("claude", CLAUDE_MODEL),
                      ("gemini", MODELS["gemini"])):
        body = {"model": model, "instructions": "Answer in French.",
                "input": "hello", "max_output_tokens": 77, "temperature": 0.25}
        r = env.srv.request("POST", "/v1/responses", body=body, timeout=8.0)
        eq(r.status, 200, "%s: status (%r)" % (up, r.body[:200]))
        j = r.json()
        eq(j.get("instructions"), "Answer in French.", "%s: echoed instructions" % up)
        eq(j.get("max_output_tokens"), 77, "%s: echoed max_output_tokens" % up)
        eq(j.get("temperature"), 0.25, "%s: echoed temperature" % up)
        sent = json.dumps(env.last(up)["json"])
        check("Answer in French." in sent, "%s: instructions did not reach the upstream: %s"
              % (up, sent[:300]))
        body["stream"] = True
        r = env.srv.request("POST", "/v1/responses", body=body, timeout=8.0)
        eq(r.status, 200, "%s: stream status" % up)
        evs = [json.loads(ln[6:]) for ln in r.body.decode().split("\n")
               if ln.startswith("data: {")]
        done = [e for e in evs if e.get("type") in ("response.created", "response.completed")]
        eq(len(done), 2, "%s: created and completed events" % up)
        for e in done:
            eq(e["response"].get("instructions"), "Answer in French.",
               "%s: %s echoes instructions" % (up, e["type"]))
