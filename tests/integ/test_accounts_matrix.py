"""Every client format against every subscription-account upstream kind,
stream and not, with tools, over real sockets.

One generated test per (client mode of test_translate.MODES) x (kind):
test_matrix_<mode>_<kind>, kind one of geminicli, antigravity, codex,
claude_oauth, qwen.  Each starts test_accounts.Env (every OAuth endpoint on
a mock) with ONE account of that kind and runs

  - a text exchange (test_translate.scenario()), and
  - a tool-call exchange (test_translate.tool_scenario(): tool definitions
    and a prior call and result; the mock answers two tool calls),

building the client's request and parsing its answer with test_translate's
builders and parsers.  Every upstream request is checked for what the kind
needs (the Code Assist envelope with the account's project, Antigravity's
members, Codex's forced stream and Chatgpt-Account-Id, Claude Code's
Bearer, beta and system line, Qwen's resource_url) and for the client's
tool names in the upstream's own format.  Antigravity is run with a Gemini
model and with a Claude model (which is always streamed upstream, a
non-stream answer folded from it) in the same test.

A server per test (with its mocks): the 45 tests take 11-17 s in all,
so nothing is shared between tests and run.py's per-test clean-up (it
stops a test's servers and removes its directories) needs no help."""

import json

from harness import TestFailure, check, eq
import mocks_oauth
import test_accounts
from test_translate import (ANSWER, CALLS, MODES, SYSTEM, build_request, fmt_of,
                            is_stream, parse_answer, scenario, tool_scenario)

CLAUDE_CODE_LINE = "You are Claude Code, Anthropic's official CLI for Claude."

# kind -> (auth file kind, the account's fields, models to ask for)
KINDS = {
    "geminicli": ("gemini", dict(email="g@example.com", project_id="proj-matrix-g",
                                 access_token="ya29.matrix-g"), ("gemini-2.5-flash",)),
    "antigravity": ("antigravity", dict(email="ag@example.com", project_id="proj-matrix-ag",
                                        access_token="ya29.matrix-ag"),
                    ("gemini-3-flash", "claude-sonnet-4-6")),
    "codex": ("codex", dict(email="c@example.com", access_token="cx-matrix",
                            account_id="acct-matrix"), ("gpt-5-codex",)),
    "claude_oauth": ("claude", dict(email="a@example.com", access_token="sk-ant-oat01-matrix"),
                     ("claude-sonnet-4-20250514",)),
    "qwen": ("qwen", dict(email="q@example.com", access_token="qw-matrix"),
             ("qwen3-coder-plus",)),
}


def start(kind):
    """(env, the upstream mock) with one account of kind.  A Qwen account's
    resource_url names a mock of its own, apart from [endpoints] qwen, so
    the test sees which base the proxy took."""
    fkind, fields, _ = KINDS[kind]
    env = test_accounts.Env(start=False)
    if kind == "qwen":
        up = mocks_oauth.MockQwen(tls=test_accounts._ctx()).start()
        env.mocks.append(up)
        fields = dict(fields, resource_url=up.resource_url)
    else:
        up = {"geminicli": env.ca, "antigravity": env.ag, "codex": env.cx,
              "claude_oauth": env.cl}[kind]
    env.write(fkind, **fields)
    env.srv.start()
    up.valid_tokens = {fields["access_token"]}
    return env, up


def upstream_streams(kind, mode, model):
    """Is the upstream asked for a stream?"""
    if kind == "codex":
        return True                      # the Codex backend streams only
    if kind == "claude_oauth":
        return is_stream(mode) or fmt_of(mode) != "claude"   # force_stream 2
    if kind == "antigravity" and "claude" in model:
        return True
    return is_stream(mode)


# ---- the upstream request, per kind: checks the kind's shape, returns
# {"stream": asked for a stream, "tools": tool names, "system": text,
#  "calls": [(id, name, args)], "results": [(id, name, text)]} (the
# history's tool calls and results; None where the format has no such field)

def _texts(blocks):
    if isinstance(blocks, str):
        return blocks
    return "".join(b.get("text", "") for b in blocks or [] if isinstance(b, dict))


def _args(text, what):
    """Tool arguments sent as a JSON string -> the object."""
    check(isinstance(text, str), "%s: arguments not a string: %r" % (what, text))
    try:
        return json.loads(text)
    except ValueError:
        raise TestFailure("%s: arguments not JSON: %r" % (what, text))


def _bearer(req, kind, what):
    eq(req["headers"].get("authorization"), "Bearer " + KINDS[kind][1]["access_token"],
       "%s: upstream Authorization" % what)


def _up_code_assist(kind, req, model, what):
    acct = KINDS[kind][1]
    _bearer(req, kind, what)
    meth = req["ca_method"]
    check(meth in ("generateContent", "streamGenerateContent"), "%s: method %r" % (what, meth))
    if meth == "streamGenerateContent":
        eq(req["query"].get("alt"), "sse", "%s: stream asks alt=sse" % what)
    e = req["envelope"]
    eq(e.get("project"), acct["project_id"], "%s: envelope project" % what)
    eq(e.get("model"), model, "%s: envelope model" % what)
    if kind == "antigravity":
        eq(e.get("userAgent"), "antigravity", "%s: envelope userAgent" % what)
        eq(e.get("requestType"), "agent", "%s: envelope requestType" % what)
        check(str(e.get("requestId", "")).startswith("agent-"),
              "%s: envelope requestId %r" % (what, e.get("requestId")))
        check(e.get("sessionId"), "%s: no request.sessionId" % what)
    else:
        for k in ("userAgent", "requestType", "requestId"):
            check(k not in e, "%s: Gemini CLI envelope has Antigravity's %s" % (what, k))
    inner = req["inner"]
    check(isinstance(inner, dict) and inner.get("contents"), "%s: inner request %r"
          % (what, req["body"][:300]))
    tools = [d.get("name") for t in inner.get("tools") or []
             for d in t.get("functionDeclarations") or []]
    if tools and kind == "antigravity" and "claude" in model:
        eq(((inner.get("toolConfig") or {}).get("functionCallingConfig") or {}).get("mode"),
           "VALIDATED", "%s: Claude model's function calling mode" % what)
    si = inner.get("systemInstruction") or {}
    parts = [p for c in inner["contents"] for p in c.get("parts") or []]
    return {"stream": meth == "streamGenerateContent", "tools": tools,
            "system": _texts(si.get("parts")),
            "calls": [(p["functionCall"].get("id"), p["functionCall"].get("name"),
                       p["functionCall"].get("args")) for p in parts if "functionCall" in p],
            "results": [(p["functionResponse"].get("id"), p["functionResponse"].get("name"),
                         json.dumps(p["functionResponse"].get("response")))
                        for p in parts if "functionResponse" in p]}


def _up_codex(kind, req, model, what):
    _bearer(req, kind, what)
    eq(req["path"], "/backend-api/codex/responses", "%s: upstream path" % what)
    j = req["json"]
    eq(j.get("stream"), True, "%s: Codex body stream" % what)
    eq(j.get("model"), model, "%s: Codex model" % what)
    eq(req["codex"].get("chatgpt-account-id"), KINDS[kind][1]["account_id"],
       "%s: Chatgpt-Account-Id" % what)
    tools = [t.get("name") for t in j.get("tools") or [] if t.get("type") == "function"]
    system = j.get("instructions") or ""
    items = [it for it in j.get("input") or [] if isinstance(it, dict)]
    for it in items:
        if it.get("role") in ("system", "developer"):
            system += _texts(it.get("content"))
    return {"stream": True, "tools": tools, "system": system,
            "calls": [(it.get("call_id"), it.get("name"), _args(it.get("arguments"), what))
                      for it in items if it.get("type") == "function_call"],
            "results": [(it.get("call_id"), None, _texts(it.get("output")))
                        for it in items if it.get("type") == "function_call_output"]}


def _up_claude(kind, req, model, what):
    _bearer(req, kind, what)
    h = req["headers"]
    check("x-api-key" not in h, "%s: x-api-key sent with an OAuth token" % what)
    check("oauth-2025-04-20" in (h.get("anthropic-beta") or "").split(","),
          "%s: anthropic-beta %r" % (what, h.get("anthropic-beta")))
    eq(req["path"], "/v1/messages?beta=true", "%s: upstream path" % what)
    j = req["json"]
    eq(j.get("model"), model, "%s: Claude model" % what)
    sysv = j.get("system")
    check(isinstance(sysv, list) and sysv and sysv[0].get("text") == CLAUDE_CODE_LINE,
          "%s: system does not begin with the Claude Code line: %r" % (what, sysv))
    blocks = [b for m in j.get("messages") or [] if isinstance(m.get("content"), list)
              for b in m["content"]]
    return {"stream": j.get("stream") is True,
            "tools": [t.get("name") for t in j.get("tools") or []],
            "system": _texts(sysv[1:]),
            "calls": [(b.get("id"), b.get("name"), b.get("input"))
                      for b in blocks if b.get("type") == "tool_use"],
            "results": [(b.get("tool_use_id"), None, _texts(b.get("content")))
                        for b in blocks if b.get("type") == "tool_result"]}


def _up_qwen(kind, req, model, what):
    _bearer(req, kind, what)
    eq(req["path"], "/v1/chat/completions", "%s: upstream path" % what)
    j = req["json"]
    eq(j.get("model"), model, "%s: Qwen model" % what)
    tools = [(t.get("function") or {}).get("name") for t in j.get("tools") or []]
    msgs = j.get("messages") or []
    return {"stream": j.get("stream") is True, "tools": tools,
            "system": "".join(_texts(m.get("content")) for m in msgs
                              if m.get("role") == "system"),
            "calls": [(tc.get("id"), tc["function"].get("name"),
                       _args(tc["function"].get("arguments"), what))
                      for m in msgs for tc in m.get("tool_calls") or []],
            "results": [(m.get("tool_call_id"), None, _texts(m.get("content")))
                        for m in msgs if m.get("role") == "tool"]}


UPSTREAM = {"geminicli": _up_code_assist, "antigravity": _up_code_assist,
            "codex": _up_codex, "claude_oauth": _up_claude, "qwen": _up_qwen}


# ---- one exchange

def exchange(env, up, kind, mode, model, sc, script, what):
    """Send sc as mode's client with the mock scripted; checks the upstream
    request; returns (the client's Answer, the upstream's view, the
    upstream request)."""
    up.script([script])
    n = len(up.requests)
    path, body = build_request(mode, model, sc)
    a = parse_answer(mode, env.srv.request("POST", path, body=body, timeout=10.0), what)
    eq(len(up.requests), n + 1, "%s: upstream requests" % what)
    req = up.requests[-1]
    check(not req.get("auth_rejected"), "%s: the mock refused the credential" % what)
    v = UPSTREAM[kind](kind, req, model, what)
    eq(v["stream"], upstream_streams(kind, mode, model), "%s: upstream streamed" % what)
    check(SYSTEM in v["system"], "%s: the client's system prompt is not the upstream's: %r"
          % (what, v["system"][:300]))
    return a, v, req


def check_history(kind, fmt, sc, v, what):
    """The client's prior call and its result reached the upstream, with
    ids that pair them where the upstream's format has ids."""
    eq([c[1:] for c in v["calls"]], [("get_weather", {"city": "Paris"})],
       "%s: upstream history's tool calls (%r)" % (what, v["calls"]))
    eq(len(v["results"]), 1, "%s: upstream history's tool results (%r)" % (what, v["results"]))
    check("22C and sunny" in v["results"][0][2], "%s: upstream tool result %r"
          % (what, v["results"][0]))
    cid, rid = v["calls"][0][0], v["results"][0][0]
    if kind in ("codex", "claude_oauth", "qwen"):
        check(isinstance(cid, str) and cid, "%s: upstream tool call without an id" % what)
        eq(rid, cid, "%s: upstream tool result id vs the call's" % what)
        if fmt != "gemini":
            eq(cid, sc["msgs"][1][1][0][1], "%s: the client's tool call id kept" % what)
    else:
        eq(v["results"][0][1], "get_weather", "%s: functionResponse name" % what)
        if rid is not None or cid is not None:
            eq(rid, cid, "%s: functionResponse id vs the functionCall's" % what)


def run_matrix(mode, kind):
    env, up = start(kind)
    fmt = fmt_of(mode)
    for model in KINDS[kind][2]:
        what = "%s<-%s(%s)" % (mode, kind, model)
        # text
        a, v, req = exchange(env, up, kind, mode, model, scenario(), ("text", ANSWER), what)
        eq(a.error, None, "%s: error" % what)
        eq(a.text, ANSWER, "%s: text" % what)
        eq(a.tools, [], "%s: tool calls" % what)
        eq(a.finish, "stop", "%s: finish" % what)
        eq(a.usage, (11, 7), "%s: usage (input, output)" % what)
        eq(v["tools"], [], "%s: upstream tools" % what)
        check(b"Say hello to the world" in req["body"], "%s: the user's text went missing"
              % what)
        # tools
        what += " tools"
        sc = tool_scenario(fmt)
        a, v, req = exchange(env, up, kind, mode, model, sc, ("tools", list(CALLS)), what)
        eq(v["tools"], ["get_weather", "get_time"], "%s: upstream tool names" % what)
        check_history(kind, fmt, sc, v, what)
        eq(a.error, None, "%s: error" % what)
        eq([t[1] for t in a.tools], [c[0] for c in CALLS], "%s: client tool names (%r)"
           % (what, a.tools))
        for t, (name, args) in zip(a.tools, CALLS):
            eq(_args(t[2], "%s: %s" % (what, name)), args, "%s: %s arguments" % (what, name))
        if fmt != "gemini":
            ids = [t[0] for t in a.tools]
            check(all(isinstance(i, str) and i for i in ids) and len(set(ids)) == 2,
                  "%s: client tool ids %r" % (what, ids))
            if kind in ("codex", "claude_oauth", "qwen"):
                eq(ids, ["%s_%d_%d" % (up.tool_id_prefix, len(up.requests), k) for k in (0, 1)],
                   "%s: tool ids kept from the upstream" % what)
        eq(a.finish, "tool", "%s: finish" % what)
        eq(a.text, "", "%s: text" % what)
    if kind == "antigravity":
        eq(len(env.ag2.requests), 0, "requests to the fallback host")
    if kind == "qwen":
        eq(len(env.qw.requests), 0, "requests to [endpoints] qwen despite resource_url")
    env.srv.assert_alive()


def _gen():
    for m in MODES:
        for k in KINDS:
            def t(m=m, k=k):
                run_matrix(m, k)
            t.__name__ = "test_matrix_%s_%s" % (m, k)
            globals()[t.__name__] = t


_gen()
