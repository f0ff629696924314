"""The official Node SDKs (pinned in sdk/package.json: openai, @anthropic-ai/sdk,
@google/genai) against the proxy, each talking to a mock upstream of ANOTHER
format, checking what the SDK hands its caller (the scripts in sdk/ print it as
one JSON line) and what the upstream received.

  Anthropic SDK (stream, tool + thinking) -> OpenAI-compatible upstream
  Anthropic SDK (stream, tool + thinking) -> Gemini upstream
  Anthropic SDK count_tokens
  @google/genai (stream, function call)   -> OpenAI-compatible upstream
  @google/genai (stream, function call)   -> Claude upstream
  OpenAI SDK chat (stream, tools)         -> Claude upstream
  OpenAI SDK responses (stream)           -> OpenAI-compatible upstream

Every upstream (mocks_llm.MockOpenAIChat / MockClaude / MockGemini, over TLS)
answers the same scripted turn (SCRIPT: thinking, text, one tool call; usage
set to ANSWER's counts) rendered in its own wire format, so the expectations
are the same whatever the path.  node and the packages are required: sdk/install.sh
runs first and a missing SDK fails the test.  Only 127.0.0.1 is contacted.
SDK_DEBUG=1 in the environment prints each script's JSON line."""

import json
import os
import subprocess
import time

import harness
from harness import TestFailure, check, eq
import mocks
import mocks_llm
import testca

SDK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sdk")

ALIAS = "alias-sdk"          # [openai-compatibility] alias the clients ask for
UPSTREAM = "up-sdk-model"    # what the OpenAI-compatible mock is asked for
CLAUDE_MODEL = "claude-sonnet-4-5"
GEMINI_MODEL = "gemini-2.5-pro"
COMPAT_KEY = "compat-key-1"
CLAUDE_KEY = "claude-key-1"
GEMINI_KEY = "gemini-key-1"

# The one turn every mock upstream answers (after the user asked for the weather).
TOOL_ARGS = {"city": "Paris", "unit": "c"}
ANSWER = {
    "thinking": "Let me check the weather tool.",
    "signature": "EqMBCkYIBxgCKkD+sig/9xY==",   # byte-exact through the proxy
    "text": "Checking Paris.",
    "tool_id": "toolu_01MockCall",   # id the upstream gives its call
    "tool_name": "get_weather",
    "tool_args": TOOL_ARGS,
    "input_tokens": 21,
    "output_tokens": 13,      # all generated tokens, thoughts included
    "thought_tokens": 5,      # Gemini reports them apart (thoughtsTokenCount)
}
THINKING = ANSWER["thinking"]
TEXT = ANSWER["text"]


# ---------------------------------------------------------------- node side

_installed = []


def _install():
    """sdk/install.sh once per process; failing here fails the test."""
    if _installed:
        return
    try:
        p = subprocess.run(["sh", os.path.join(SDK_DIR, "install.sh")],
                           capture_output=True, timeout=25)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise TestFailure("sdk/install.sh could not run: %r" % (e,))
    check(p.returncode == 0, "sdk/install.sh failed (status %d): %s"
          % (p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")[-1500:]))
    _installed.append(True)


def _node(script, base_url, model, args=(), api_key="client-key", prompt=None,
          expect_error=False):
    """Run sdk/<script> and return the JSON object it printed."""
    _install()
    env = dict(os.environ, BASE_URL=base_url, API_KEY=api_key, MODEL=model,
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY",
              "all_proxy"):
        env.pop(k, None)
    if prompt is not None:
        env["PROMPT"] = prompt
    try:
        p = subprocess.run(["node", os.path.join(SDK_DIR, script)] + list(args),
                           capture_output=True, timeout=20, env=env, cwd=SDK_DIR)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise TestFailure("node %s could not run: %r" % (script, e))
    out = p.stdout.decode("utf-8", "replace").strip()
    try:
        j = json.loads(out.splitlines()[-1])
    except (ValueError, IndexError):
        raise TestFailure("%s printed %r (status %d, stderr %r)"
                          % (script, out[:300], p.returncode,
                             p.stderr.decode("utf-8", "replace")[-800:]))
    if os.environ.get("SDK_DEBUG"):
        print("DEBUG", script, json.dumps(j))
    if expect_error:
        check(p.returncode == 1 and "error" in j,
              "%s: wanted an SDK error, got %r" % (script, j))
    else:
        check(p.returncode == 0 and "error" not in j, "%s failed: %r" % (script, j))
    return j


# ---------------------------------------------------------------- mock upstreams

def _pki():
    return testca.shared_pki()


def _tls():
    pki = _pki()
    return mocks.server_context(pki["server_cert"], pki["server_key"])


# ANSWER as a mocks_llm script; every mock renders it in its own wire format.
SCRIPT = ("answer", [("thinking", THINKING, ANSWER["signature"]), ("text", TEXT),
                     ("tool", ANSWER["tool_name"], TOOL_ARGS, ANSWER["tool_id"])])


def _up(cls):
    """A TLS mocks_llm upstream reporting ANSWER's token counts (Gemini counts
    thoughts apart from candidates; the proxy adds them into output)."""
    up = cls(tls=_tls())
    up.input_tokens = ANSWER["input_tokens"]
    up.output_tokens = ANSWER["output_tokens"]
    if issubclass(cls, mocks_llm.MockGemini):
        up.output_tokens -= ANSWER["thought_tokens"]
        up.thoughts_tokens = ANSWER["thought_tokens"]
    return up


# ---------------------------------------------------------------- the proxy

def _start(openai_up=None, claude_up=None, gemini_up=None):
    extra = ""
    if openai_up is not None:
        extra += ("[openai-compatibility]\nname = sdkprov\nbase-url = %s\n"
                  "api-keys = %s\nmodel = %s = %s\n\n"
                  % (openai_up.base_url, COMPAT_KEY, UPSTREAM, ALIAS))
    if claude_up is not None:
        extra += "[claude-api-key]\napi-key = %s\n\n" % CLAUDE_KEY
    eps = []
    if claude_up is not None:
        eps.append("claude = %s" % claude_up.url)
    if gemini_up is not None:
        eps.append("generative-language = %s" % gemini_up.url)
    if eps:
        extra += "[endpoints]\n" + "\n".join(eps) + "\n"
    settings = {"ca-file": _pki()["ca_cert"], "request-retry": 0,
                "upstream-connect-timeout": "2s", "upstream-first-byte-timeout": "5s",
                "upstream-read-timeout": "5s"}
    if gemini_up is not None:
        settings["generative-language-api-key"] = GEMINI_KEY
    srv = harness.Server(extra=extra, settings=settings, label="cli-proxy-api")
    return srv.start()


def _root(srv):
    return "http://127.0.0.1:%d" % srv.port


def _one_request(up, what):
    check(up.wait_requests(1, 2.0), "%s: the upstream got no request" % what)
    time.sleep(0.05)
    eq(len(up.requests), 1, "%s: upstream requests" % what)
    r = up.requests[0]
    check(isinstance(r["json"], dict), "%s: upstream body is not JSON: %r"
          % (what, r["body"][:300]))
    return r


def _n_requests(up, n, what):
    check(up.wait_requests(n, 2.0), "%s: the upstream got %d of %d requests"
          % (what, len(up.requests), n))
    time.sleep(0.05)
    eq(len(up.requests), n, "%s: upstream requests" % what)
    for r in up.requests:
        check(isinstance(r["json"], dict), "%s: upstream body is not JSON: %r"
              % (what, r["body"][:300]))
    return up.requests


PROMPT = "What is the weather in Paris?"   # the scripts' default prompt
RESULT = "18 C, sunny"                      # the followup's tool result
FOLLOWUP = "It is 18 C and sunny in Paris."  # a plain text answer


# ---------------------------------------------------------------- checks

def _check_anthropic(j, what, want_signature):
    """finalMessage() of anthropic_stream.mjs for ANSWER."""
    blocks = j.get("content") or []
    types = [b.get("type") for b in blocks]
    thinking = [b for b in blocks if b.get("type") == "thinking"]
    texts = [b for b in blocks if b.get("type") == "text"]
    tools = [b for b in blocks if b.get("type") == "tool_use"]
    check("thinking" in types and "text" in types and "tool_use" in types
          and types.index("thinking") < types.index("text") < types.index("tool_use"),
          "%s: content block types %r (want thinking, text, tool_use in that order)"
          % (what, types))
    eq("".join(b.get("thinking") or "" for b in thinking), THINKING, what + ": thinking text")
    if want_signature:
        sigs = [b.get("signature") for b in thinking if b.get("signature")]
        eq(sigs, [ANSWER["signature"]], what + ": thinking signatures (byte-exact)")
    eq("".join(b.get("text") or "" for b in texts), TEXT, what + ": text")
    eq(j.get("text"), TEXT, what + ": text seen by the 'text' listener")
    eq(len(tools), 1, what + ": tool_use blocks")
    t = tools[0]
    eq(t.get("name"), ANSWER["tool_name"], what + ": tool_use name")
    eq(t.get("input"), TOOL_ARGS, what + ": tool_use input")
    check(isinstance(t.get("id"), str) and t["id"],
          "%s: tool_use id %r is not a non-empty string" % (what, t.get("id")))
    eq(j.get("stop_reason"), "tool_use", what + ": stop_reason")
    eq(j.get("role"), "assistant", what + ": role")
    u = j.get("usage") or {}
    eq((u.get("input_tokens"), u.get("output_tokens")),
       (ANSWER["input_tokens"], ANSWER["output_tokens"]), what + ": usage in/out")
    check(isinstance(j.get("id"), str) and j["id"], "%s: message id %r" % (what, j.get("id")))


def _check_genai(j, what):
    """genai_stream.mjs output for ANSWER."""
    eq(j.get("text"), TEXT, what + ": chunk.text joined (thoughts excluded)")
    calls = j.get("function_calls")
    check(isinstance(calls, list) and len(calls) == 1,
          "%s: functionCalls %r (want exactly one)" % (what, calls))
    eq(calls[0].get("name"), ANSWER["tool_name"], what + ": functionCall name")
    eq(calls[0].get("args"), TOOL_ARGS, what + ": functionCall args")
    eq(j.get("finish_reason"), "STOP", what + ": finishReason")
    u = j.get("usage") or {}
    eq(u.get("promptTokenCount"), ANSWER["input_tokens"], what + ": promptTokenCount")
    eq(u.get("totalTokenCount"), ANSWER["input_tokens"] + ANSWER["output_tokens"],
       what + ": totalTokenCount")
    eq((u.get("candidatesTokenCount") or 0) + (u.get("thoughtsTokenCount") or 0),
       ANSWER["output_tokens"], what + ": candidatesTokenCount + thoughtsTokenCount")


def _check_tool_decl(tools, what, shape):
    """The upstream request carries get_weather with the client's schema."""
    check(isinstance(tools, list) and tools, "%s: no tools sent upstream: %r" % (what, tools))
    if shape == "openai":
        fns = [t.get("function") or {} for t in tools if t.get("type") == "function"]
        eq([f.get("name") for f in fns], [ANSWER["tool_name"]], what + ": tool names")
        params = fns[0].get("parameters") or {}
    elif shape == "claude":
        eq([t.get("name") for t in tools], [ANSWER["tool_name"]], what + ": tool names")
        params = tools[0].get("input_schema") or {}
    else:
        decls = [d for t in tools for d in (t.get("functionDeclarations")
                                             or t.get("function_declarations") or [])]
        eq([d.get("name") for d in decls], [ANSWER["tool_name"]], what + ": tool names")
        params = decls[0].get("parametersJsonSchema") or decls[0].get("parameters") or {}
    check("city" in (params.get("properties") or {}),
          "%s: tool schema lost its properties: %r" % (what, params))


# ---------------------------------------------------------------- tests

def test_sdk_anthropic_stream_tools_thinking_via_openai_compat():
    what = "anthropic->openai"
    with _up(mocks_llm.MockOpenAIChat) as up:
        up.script([SCRIPT, ("text", FOLLOWUP)])
        srv = _start(openai_up=up)
        j = _node("anthropic_stream.mjs", _root(srv), ALIAS, args=["followup"])
        r1, r2 = _n_requests(up, 2, what)
        eq(r1["path"], "/v1/chat/completions", "upstream path")
        eq(r1["headers"].get("authorization"), "Bearer " + COMPAT_KEY, "upstream key")
        eq(r1["json"].get("model"), UPSTREAM, "upstream model")
        eq(r1["json"].get("stream"), True, "upstream stream flag")
        eq(r1["json"].get("max_tokens", r1["json"].get("max_completion_tokens")), 4096,
           "upstream max_tokens")
        eq([(m.get("role"), m.get("content")) for m in r1["json"].get("messages") or []],
           [("user", PROMPT)], "upstream messages")
        _check_tool_decl(r1["json"].get("tools"), what, "openai")
        # OpenAI-compatible upstreams sign nothing: thinking text only.
        _check_anthropic(j, what, want_signature=False)

        # second turn: the assistant's tool call and the tool result go upstream
        call_id = [b for b in j["content"] if b.get("type") == "tool_use"][0]["id"]
        msgs = r2["json"].get("messages") or []
        eq([m.get("role") for m in msgs], ["user", "assistant", "tool"],
           what + " followup: upstream message roles")
        tcs = msgs[1].get("tool_calls") or []
        eq([(t.get("id"), t.get("type"), (t.get("function") or {}).get("name"))
            for t in tcs], [(call_id, "function", ANSWER["tool_name"])],
           what + " followup: upstream assistant tool_calls")
        try:
            args = json.loads((tcs[0].get("function") or {}).get("arguments") or "")
        except ValueError:
            raise TestFailure("%s followup: arguments not JSON: %r" % (what, tcs[0]))
        eq(args, TOOL_ARGS, what + " followup: upstream tool call arguments")
        eq(msgs[2].get("tool_call_id"), call_id, what + " followup: tool_call_id")
        c = msgs[2].get("content")
        if isinstance(c, list):
            c = "".join(p.get("text", "") for p in c if isinstance(p, dict))
        eq(c, RESULT, what + " followup: tool result content")
        f = j.get("followup") or {}
        eq([(b.get("type"), b.get("text")) for b in f.get("content") or []],
           [("text", FOLLOWUP)], what + " followup: answer content")
        eq(f.get("stop_reason"), "end_turn", what + " followup: stop_reason")
        srv.assert_alive()


def test_sdk_anthropic_stream_tools_thinking_via_gemini():
    # mocks_llm.MockGemini: thought parts, the signature on the last one, then
    # the text, then the functionCall.
    what = "anthropic->gemini"
    with _up(mocks_llm.MockGemini) as up:
        up.script([SCRIPT])
        srv = _start(gemini_up=up)
        j = _node("anthropic_stream.mjs", _root(srv), GEMINI_MODEL)
        r1 = _one_request(up, what)
        eq(r1["path"], "/v1beta/models/%s:streamGenerateContent?alt=sse" % GEMINI_MODEL,
           "upstream path")
        eq(r1["headers"].get("x-goog-api-key"), GEMINI_KEY, "upstream key")
        eq(r1["json"].get("contents"), [{"role": "user", "parts": [{"text": PROMPT}]}],
           "upstream contents")
        _check_tool_decl(r1["json"].get("tools"), what, "gemini")
        gc = r1["json"].get("generationConfig") or {}
        eq(gc.get("maxOutputTokens"), 4096, "upstream generationConfig.maxOutputTokens")
        tc = gc.get("thinkingConfig") or {}
        eq(tc.get("thinkingBudget"), 2048, "upstream thinkingConfig.thinkingBudget")
        eq(tc.get("includeThoughts"), True, "upstream thinkingConfig.includeThoughts")
        _check_anthropic(j, what, want_signature=True)
        srv.assert_alive()


class _GeminiCallSigned(mocks_llm.MockGemini):
    """Gemini 3 / flash function calling: the thought parts carry no
    signature, the first functionCall part does."""

    def _parts(self, ans, stream):
        groups = super()._parts(ans, stream)
        sig = next((b[2] for b in ans.blocks if b[0] == "thinking"), None)
        for g in groups:
            for p in g:
                p.pop("thoughtSignature", None)
        for g in groups:
            for p in g:
                if "functionCall" in p and sig is not None:
                    p["thoughtSignature"] = sig
                    return groups
        return groups


def _gemini_followup(up, j, what):
    """The second request of anthropic_stream.mjs followup: Gemini must get its
    model turn back (text, functionCall) with the signature it sent, byte-exact,
    then the functionResponse.  Returns the model turn's parts."""
    r1, r2 = _n_requests(up, 2, what)
    contents = r2["json"].get("contents") or []
    eq([c.get("role") for c in contents], ["user", "model", "user"],
       what + ": upstream content roles")
    parts = contents[1].get("parts") or []
    calls = [p for p in parts if "functionCall" in p]
    eq([(p["functionCall"].get("name"), p["functionCall"].get("args")) for p in calls],
       [(ANSWER["tool_name"], TOOL_ARGS)], what + ": upstream functionCall")
    texts = [p.get("text") for p in parts if "text" in p and not p.get("thought")]
    eq("".join(texts), TEXT, what + ": upstream model text")
    resp = [p["functionResponse"] for p in contents[2].get("parts") or []
            if "functionResponse" in p]
    eq([r.get("name") for r in resp], [ANSWER["tool_name"]],
       what + ": upstream functionResponse name")
    check(RESULT in json.dumps(resp[0].get("response")),
          "%s: tool result missing from functionResponse %r" % (what, resp[0]))
    _check_anthropic(j.get("followup") or {}, what + " (second answer)", want_signature=True)
    return parts


def test_sdk_anthropic_followup_gemini_signature_on_call():
    what = "anthropic->gemini followup (signature on the functionCall)"
    with _up(_GeminiCallSigned) as up:
        up.script([SCRIPT, SCRIPT])
        srv = _start(gemini_up=up)
        j = _node("anthropic_stream.mjs", _root(srv), GEMINI_MODEL, args=["followup"])
        _check_anthropic(j, what + " (first answer)", want_signature=True)
        parts = _gemini_followup(up, j, what)
        calls = [p for p in parts if "functionCall" in p]
        eq(calls[0].get("thoughtSignature"), ANSWER["signature"],
           what + ": functionCall thoughtSignature (byte-exact)")
        srv.assert_alive()


def test_sdk_anthropic_followup_gemini_signature_on_thought():
    # The signature Gemini put on its thought part went to the Claude client
    # (thinking block signature) and comes back with the history: it must
    # reach Gemini again, byte-exact, in that model turn ("pass it back exactly
    # as received", ai.google.dev/gemini-api/docs/thought-signatures).
    what = "anthropic->gemini followup (signature on the thought part)"
    with _up(mocks_llm.MockGemini) as up:
        up.script([SCRIPT, SCRIPT])
        srv = _start(gemini_up=up)
        j = _node("anthropic_stream.mjs", _root(srv), GEMINI_MODEL, args=["followup"])
        _check_anthropic(j, what + " (first answer)", want_signature=True)
        parts = _gemini_followup(up, j, what)
        sigs = [p.get("thoughtSignature") for p in parts if "thoughtSignature" in p]
        check(ANSWER["signature"] in sigs,
              "%s: Gemini's signature %r is not in the model turn sent back; its parts: %s"
              % (what, ANSWER["signature"], json.dumps(parts)))
        srv.assert_alive()


def test_sdk_anthropic_on_claude_key_pass_through_followup():
    # Same API both sides: the request and the answer are relayed as they
    # are; the second turn carries the thinking block (signature included)
    # and the tool_use exactly as the SDK returned them.
    what = "anthropic->claude (pass-through)"
    with _up(mocks_llm.MockClaude) as up:
        up.script([SCRIPT, ("text", FOLLOWUP)])
        srv = _start(claude_up=up)
        j = _node("anthropic_stream.mjs", _root(srv), CLAUDE_MODEL, args=["followup"])
        _check_anthropic(j, what, want_signature=True)
        r1, r2 = _n_requests(up, 2, what)
        eq(r1["path"].split("?", 1)[0], "/v1/messages", "upstream path")
        eq(r1["headers"].get("x-api-key"), CLAUDE_KEY, "upstream x-api-key")
        check("client-key" not in repr(r1["header_list"]),
              "%s: the client's key went upstream" % what)
        _check_tool_decl(r1["json"].get("tools"), what, "claude")
        msgs = r2["json"].get("messages") or []
        eq([m.get("role") for m in msgs], ["user", "assistant", "user"],
           what + " followup: roles")
        blocks = msgs[1].get("content") or []
        th = [b for b in blocks if b.get("type") == "thinking"]
        check(th and th[0].get("signature") == ANSWER["signature"]
              and th[0].get("thinking") == THINKING,
              "%s followup: thinking block not sent back byte-exact: %r" % (what, blocks))
        call_id = [b for b in j["content"] if b.get("type") == "tool_use"][0]["id"]
        tr = msgs[2].get("content") or []
        eq([b.get("tool_use_id") for b in tr if b.get("type") == "tool_result"], [call_id],
           what + " followup: tool_result id")
        f = j.get("followup") or {}
        eq([(b.get("type"), b.get("text")) for b in f.get("content") or []],
           [("text", FOLLOWUP)], what + " followup: answer content")
        srv.assert_alive()


def test_sdk_genai_on_gemini_key_pass_through():
    what = "genai->gemini (pass-through)"
    with _up(mocks_llm.MockGemini) as up:
        up.script([SCRIPT])
        srv = _start(gemini_up=up)
        j = _node("genai_stream.mjs", _root(srv), GEMINI_MODEL)
        r = _one_request(up, what)
        eq(r["path"].split("?", 1)[0],
           "/v1beta/models/%s:streamGenerateContent" % GEMINI_MODEL, "upstream path")
        eq(r["headers"].get("x-goog-api-key"), GEMINI_KEY, "upstream key")
        check("client-key" not in repr(r["header_list"]),
              "%s: the client's key went upstream" % what)
        _check_tool_decl(r["json"].get("tools"), what, "gemini")
        _check_genai(j, what)
        srv.assert_alive()


def test_sdk_anthropic_count_tokens():
    with mocks_llm.MockOpenAIChat() as up:
        srv = _start(openai_up=up)
        j = _node("anthropic_count.mjs", _root(srv), ALIAS)
        check(isinstance(j.get("input_tokens"), int) and j["input_tokens"] > 0,
              "count_tokens input_tokens %r" % (j.get("input_tokens"),))
        eq(j.get("keys"), ["input_tokens"], "count_tokens result keys")
        longer = _node("anthropic_count.mjs", _root(srv), ALIAS, prompt="word " * 400)
        check(longer["input_tokens"] > j["input_tokens"] + 200,
              "count_tokens does not grow with the prompt: %r then %r"
              % (j["input_tokens"], longer["input_tokens"]))
        e = _node("anthropic_count.mjs", _root(srv), "no-such-model", expect_error=True)
        eq(e.get("status"), 404, "count_tokens for an unserved model: SDK error status")
        eq(len(up.requests), 0, "count_tokens upstream requests (estimated locally)")
        srv.assert_alive()


def test_sdk_genai_stream_function_call_via_openai_compat():
    with _up(mocks_llm.MockOpenAIChat) as up:
        up.script([SCRIPT])
        srv = _start(openai_up=up)
        j = _node("genai_stream.mjs", _root(srv), ALIAS)
        r = _one_request(up, "genai->openai")
        eq(r["json"].get("model"), UPSTREAM, "upstream model")
        eq(r["json"].get("stream"), True, "upstream stream flag")
        _check_tool_decl(r["json"].get("tools"), "genai->openai", "openai")
        _check_genai(j, "genai->openai")
        srv.assert_alive()


def test_sdk_genai_stream_function_call_via_claude():
    with _up(mocks_llm.MockClaude) as up:
        up.script([SCRIPT])
        srv = _start(claude_up=up)
        j = _node("genai_stream.mjs", _root(srv), CLAUDE_MODEL)
        r = _one_request(up, "genai->claude")
        eq(r["path"].split("?", 1)[0], "/v1/messages", "upstream path")
        eq(r["headers"].get("x-api-key"), CLAUDE_KEY, "upstream x-api-key")
        eq(r["headers"].get("anthropic-version"), "2023-06-01", "upstream anthropic-version")
        eq(r["json"].get("model"), CLAUDE_MODEL, "upstream model")
        eq(r["json"].get("stream"), True, "upstream stream flag")
        check(isinstance(r["json"].get("max_tokens"), int) and r["json"]["max_tokens"] > 0,
              "upstream max_tokens %r" % (r["json"].get("max_tokens"),))
        _check_tool_decl(r["json"].get("tools"), "genai->claude", "claude")
        _check_genai(j, "genai->claude")
        srv.assert_alive()


def test_sdk_openai_chat_stream_tools_via_claude():
    with _up(mocks_llm.MockClaude) as up:
        up.script([SCRIPT, SCRIPT])
        srv = _start(claude_up=up)
        j = _node("openai_tools.mjs", _root(srv) + "/v1", CLAUDE_MODEL, args=["followup"])
        what = "openai chat->claude"
        r, r2 = _n_requests(up, 2, what)
        eq(r["json"].get("stream"), True, "upstream stream flag")
        eq(r["json"].get("messages"), [{"role": "user", "content": PROMPT}]
           if isinstance((r["json"].get("messages") or [{}])[0].get("content"), str)
           else [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}],
           "upstream messages")
        _check_tool_decl(r["json"].get("tools"), what, "claude")
        eq(j.get("content"), TEXT, what + ": content")
        calls = j.get("tool_calls") or []
        eq(len(calls), 1, what + ": tool_calls (by index)")
        c = calls[0]
        eq(c.get("index"), 0, what + ": tool_call index")
        eq(c.get("type"), "function", what + ": tool_call type")
        eq(c.get("name"), ANSWER["tool_name"], what + ": tool_call name")
        check(isinstance(c.get("id"), str) and c["id"], "%s: tool_call id %r" % (what, c.get("id")))
        try:
            args = json.loads(c.get("arguments") or "")
        except ValueError:
            raise TestFailure("%s: arguments are not JSON: %r" % (what, c.get("arguments")))
        eq(args, TOOL_ARGS, what + ": tool_call arguments")
        eq(j.get("finish_reason"), "tool_calls", what + ": finish_reason")
        u = j.get("usage") or {}
        eq((u.get("prompt_tokens"), u.get("completion_tokens"), u.get("total_tokens")),
           (ANSWER["input_tokens"], ANSWER["output_tokens"],
            ANSWER["input_tokens"] + ANSWER["output_tokens"]), what + ": usage")

        # second turn: Claude gets tool_use (same id) then tool_result
        msgs = r2["json"].get("messages") or []
        eq([m.get("role") for m in msgs], ["user", "assistant", "user"],
           what + " followup: upstream message roles")
        blocks = msgs[1].get("content")
        check(isinstance(blocks, list), "%s followup: assistant content %r" % (what, blocks))
        uses = [b for b in blocks if b.get("type") == "tool_use"]
        eq([(u.get("id"), u.get("name"), u.get("input")) for u in uses],
           [(c["id"], ANSWER["tool_name"], TOOL_ARGS)], what + " followup: upstream tool_use")
        res = msgs[2].get("content")
        check(isinstance(res, list), "%s followup: tool result content %r" % (what, res))
        res = [b for b in res if b.get("type") == "tool_result"]
        eq([b.get("tool_use_id") for b in res], [c["id"]], what + " followup: tool_use_id")
        check(RESULT in json.dumps(res[0].get("content")),
              "%s followup: tool result text missing: %r" % (what, res[0]))
        f = j.get("followup") or {}
        eq(f.get("content"), TEXT, what + " followup: content")
        eq(f.get("finish_reason"), "tool_calls", what + " followup: finish_reason")
        srv.assert_alive()


def test_sdk_openai_responses_stream_via_openai_compat():
    with _up(mocks_llm.MockOpenAIChat) as up:
        up.script([("text", FOLLOWUP), SCRIPT])
        srv = _start(openai_up=up)
        j = _node("openai_responses.mjs", _root(srv) + "/v1", ALIAS)
        r = _one_request(up, "responses->openai")
        eq(r["path"], "/v1/chat/completions", "upstream path")
        eq(r["json"].get("model"), UPSTREAM, "upstream model")
        eq(r["json"].get("stream"), True, "upstream stream flag")
        what = "responses->openai"
        want = FOLLOWUP
        eq(j.get("text"), want, what + ": output_text deltas")
        eq(j.get("status"), "completed", what + ": final status")
        eq(j.get("output"), [{"type": "message", "role": "assistant", "text": want}],
           what + ": final output")
        eq(j.get("output_text"), want, what + ": final output_text")
        ev = j.get("events") or []
        check(ev[:1] == ["response.created"] and ev[-1:] == ["response.completed"]
              and "response.output_text.delta" in ev,
              "%s: event types %r" % (what, ev))
        u = j.get("usage") or {}
        eq((u.get("input_tokens"), u.get("output_tokens")),
           (ANSWER["input_tokens"], ANSWER["output_tokens"]), what + ": usage")

        j = _node("openai_responses.mjs", _root(srv) + "/v1", ALIAS, args=["tools"])
        what = "responses (tools)->openai"
        check(up.wait_requests(2, 2.0), what + ": no upstream request")
        _check_tool_decl(up.requests[1]["json"].get("tools"), what, "openai")
        eq(j.get("text"), TEXT, what + ": output_text deltas")
        eq(j.get("status"), "completed", what + ": final status")
        fc = [o for o in j.get("output") or [] if o.get("type") == "function_call"]
        eq(len(fc), 1, what + ": function_call output items in %r" % (j.get("output"),))
        eq(fc[0].get("name"), ANSWER["tool_name"], what + ": function_call name")
        try:
            args = json.loads(fc[0].get("arguments") or "")
        except ValueError:
            raise TestFailure("%s: arguments are not JSON: %r" % (what, fc[0].get("arguments")))
        eq(args, TOOL_ARGS, what + ": function_call arguments")
        check(isinstance(fc[0].get("call_id"), str) and fc[0]["call_id"],
              "%s: call_id %r" % (what, fc[0].get("call_id")))
        msgs = [o for o in j.get("output") or [] if o.get("type") == "message"]
        eq([m.get("text") for m in msgs], [TEXT], what + ": message output text")
        u = j.get("usage") or {}
        eq((u.get("input_tokens"), u.get("output_tokens")),
           (ANSWER["input_tokens"], ANSWER["output_tokens"]), what + ": usage")
        srv.assert_alive()


def test_sdk_genai_models_list_and_get_on_v1():
    # @google/genai 3.x reads the model list at /v1/models (not /v1beta):
    # a Gemini client there gets the Gemini shape, an OpenAI client the
    # OpenAI one.
    what = "genai models on /v1"
    with _up(mocks_llm.MockGemini) as up:
        srv = _start(gemini_up=up)
        j = _node("genai_models.mjs", _root(srv), GEMINI_MODEL)
        check("error" not in j, "%s: %r" % (what, j))
        check("models/" + GEMINI_MODEL in j["list"], "%s: list %r" % (what, j["list"]))
        eq(j["get"]["name"], "models/" + GEMINI_MODEL, what + ": get name")
        check(isinstance(j["get"]["inputTokenLimit"], int), "%s: get %r" % (what, j["get"]))
        r = srv.request("GET", "/v1/models", headers={"Authorization": "Bearer client-key"})
        eq(r.json().get("object"), "list", "an OpenAI client on /v1/models")
        eq(len(up.requests), 0, "upstream requests")
