"""Routes: root, model lists, inference routes' body handling, 404/405, error formats."""

import json

from harness import check, eq, start_server, model_body, free_port

# What each key family serves (late 2026; the names the reference's README
# documents stay: gemini-2.5-pro/flash, claude-sonnet-4-20250514, gpt-5,
# gpt-5-codex).
GEMINI = ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-3-pro-preview",
          "gemini-3.1-pro-preview", "gemini-3-flash-preview", "gemini-3.1-flash-lite-preview"]
CLAUDE = ["claude-opus-4-6", "claude-sonnet-4-6", "claude-opus-4-5-20251101",
          "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805",
          "claude-sonnet-4-20250514"]
CODEX = ["gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-5.5", "gpt-5.4", "gpt-5.4-mini",
         "gpt-5.3-codex-spark", "codex-auto-review", "gpt-5", "gpt-5-minimal", "gpt-5-low",
         "gpt-5-medium", "gpt-5-high", "gpt-5-codex", "gpt-5-codex-low", "gpt-5-codex-medium",
         "gpt-5-codex-high"]

CLAUDE_UA = {"User-Agent": "claude-cli/1.0.83 (external, cli)"}

# Upstream URLs point at a closed local port: nothing may leave this machine.
DEAD = "http://127.0.0.1:%d" % free_port()


# Gemini keys call [endpoints] generative-language (their model list too).
GEMINI_DEAD = "\n[endpoints]\ngenerative-language = %s\n" % DEAD


def _claude_section(key="sk-test-claude"):
    return "[claude-api-key]\napi-key = %s\nbase-url = %s\n" % (key, DEAD)


def _codex_section(key="sk-test-codex"):
    return "[codex-api-key]\napi-key = %s\nbase-url = %s\n" % (key, DEAD)


COMPAT = """
[openai-compatibility]
name = openrouter
base-url = %s/v1
api-keys = sk-test-or-1
api-keys = sk-test-or-2
model = moonshotai/kimi-k2:free = kimi-k2
model = qwen/qwen3-coder
""" % DEAD


def _openai_ids(srv):
    r = srv.get("/v1/models")
    eq(r.status, 200, "GET /v1/models")
    j = r.json()
    eq(j.get("object"), "list", "object of the model list")
    check(isinstance(j.get("data"), list), "data is not a list: %r" % j)
    for m in j["data"]:
        check(isinstance(m.get("id"), str), "model entry without string id: %r" % m)
        eq(m.get("object"), "model", "object of %s" % m.get("id"))
        check(isinstance(m.get("created"), int), "created of %s is not an integer: %r" % (m["id"], m))
        check(isinstance(m.get("owned_by"), str), "owned_by of %s is not a string: %r" % (m["id"], m))
    return [m["id"] for m in j["data"]], j["data"]


def _assert_ids(got, want, what):
    check(len(got) == len(set(got)), "%s: duplicate ids in %r" % (what, got))
    eq(sorted(got), sorted(want), what)


def _openai_error(r, status):
    eq(r.status, status, "status")
    e = r.json().get("error")
    check(isinstance(e, dict) and isinstance(e.get("message"), str) and "type" in e and "code" in e,
          "not an OpenAI error object: %r" % r.body[:300])
    return e


def _claude_error(r, status):
    eq(r.status, status, "status")
    j = r.json()
    eq(j.get("type"), "error", "Claude error type")
    e = j.get("error")
    check(isinstance(e, dict) and isinstance(e.get("type"), str) and isinstance(e.get("message"), str),
          "not a Claude error object: %r" % r.body[:300])
    return e


def _google_error(r, status, google_status):
    eq(r.status, status, "status")
    e = r.json().get("error")
    check(isinstance(e, dict), "not a Google error object: %r" % r.body[:300])
    eq(e.get("code"), status, "error.code")
    if google_status is None:
        check(isinstance(e.get("status"), str) and e["status"], "error.status missing: %r" % e)
    else:
        eq(e.get("status"), google_status, "error.status")
    check(isinstance(e.get("message"), str), "error.message missing: %r" % e)
    return e


# ---------------------------------------------------------------- root

def test_root_describes_the_server():
    srv = start_server()
    r = srv.get("/")
    eq(r.status, 200, "GET /")
    check("json" in (r.header("Content-Type") or ""), "Content-Type %r" % r.header("Content-Type"))
    j = r.json()
    eq(j.get("message"), "CLI Proxy API Server", "message")
    check(isinstance(j.get("version"), str) and j["version"], "version is not a string: %r" % j)


# ---------------------------------------------------------------- model lists

def test_models_empty_when_nothing_configured():
    srv = start_server()
    ids, _ = _openai_ids(srv)
    eq(ids, [], "/v1/models with nothing configured")
    r = srv.get("/v1beta/models")
    eq(r.status, 200, "GET /v1beta/models")
    eq(r.json().get("models"), [], "/v1beta/models with nothing configured")


def test_models_gemini_key():
    srv = start_server(generative_language_api_key="AIza-test-1", extra=GEMINI_DEAD)
    ids, _ = _openai_ids(srv)
    _assert_ids(ids, GEMINI, "models with a generative-language-api-key")


def test_models_claude_key():
    srv = start_server(extra=_claude_section())
    ids, _ = _openai_ids(srv)
    _assert_ids(ids, CLAUDE, "models with a [claude-api-key]")


def test_models_codex_key():
    srv = start_server(extra=_codex_section())
    ids, _ = _openai_ids(srv)
    _assert_ids(ids, CODEX, "models with a [codex-api-key]")


def test_models_openai_compatibility_aliases():
    srv = start_server(extra=COMPAT)
    ids, data = _openai_ids(srv)
    _assert_ids(ids, ["kimi-k2", "qwen/qwen3-coder"], "models of an [openai-compatibility] provider")
    for m in data:
        eq(m["owned_by"], "openrouter", "owned_by of %s" % m["id"])


def test_models_everything_configured_no_duplicates():
    extra = (_claude_section("sk-a") + _claude_section("sk-b") + _codex_section("sk-c") +
             _codex_section("sk-d") + COMPAT +
             "\n[openai-compatibility]\nname = other\nbase-url = %s\napi-keys = k\n"
             "model = up-gem = gemini-2.5-pro\nmodel = up-x = only-other\n" % DEAD)
    srv = start_server(extra=extra + GEMINI_DEAD,
                       generative_language_api_key=["AIza-1", "AIza-2"])
    ids, _ = _openai_ids(srv)
    _assert_ids(ids, GEMINI + CLAUDE + CODEX + ["kimi-k2", "qwen/qwen3-coder", "only-other"],
                "models with everything configured (two keys each, one alias clashing)")


def test_models_claude_shape_for_claude_cli_user_agent():
    srv = start_server(extra=_claude_section())
    r = srv.get("/v1/models", headers=CLAUDE_UA)
    eq(r.status, 200, "status")
    j = r.json()
    eq(j.get("has_more"), False, "has_more")
    check(isinstance(j.get("data"), list), "data is not a list: %r" % j)
    for m in j["data"]:
        eq(m.get("type"), "model", "type of %r" % m.get("id"))
        for k in ("id", "display_name", "created_at"):
            check(isinstance(m.get(k), str), "%s missing or not a string in %r" % (k, m))
    _assert_ids([m["id"] for m in j["data"]], CLAUDE, "Claude-shaped list")
    check("object" not in j or j["object"] != "list", "Claude shape must not be the OpenAI list: %r" % j)


def test_v1beta_models_google_shape():
    srv = start_server(generative_language_api_key="AIza-test-1",
                       extra=_claude_section() + GEMINI_DEAD)
    r = srv.get("/v1beta/models")
    eq(r.status, 200, "status")
    models = r.json().get("models")
    check(isinstance(models, list), "models is not a list: %r" % r.body[:300])
    names = []
    for m in models:
        check(isinstance(m.get("name"), str) and m["name"].startswith("models/"),
              "name is not models/<id>: %r" % m)
        check(isinstance(m.get("displayName"), str), "displayName missing: %r" % m)
        check(isinstance(m.get("supportedGenerationMethods"), list) and m["supportedGenerationMethods"],
              "supportedGenerationMethods missing: %r" % m)
        names.append(m["name"][len("models/"):])
    _assert_ids(names, GEMINI + CLAUDE, "/v1beta/models names")


def test_v1beta_single_model_and_404():
    srv = start_server(generative_language_api_key="AIza-test-1", extra=GEMINI_DEAD)
    r = srv.get("/v1beta/models/gemini-2.5-flash")
    eq(r.status, 200, "GET /v1beta/models/gemini-2.5-flash")
    j = r.json()
    eq(j.get("name"), "models/gemini-2.5-flash", "name of the single entry")
    check(isinstance(j.get("supportedGenerationMethods"), list), "supportedGenerationMethods: %r" % j)
    r = srv.get("/v1beta/models/no-such-model-99")
    e = _google_error(r, 404, "NOT_FOUND")
    check("no-such-model-99" in e["message"], "404 message does not name the model: %r" % e)


# ---------------------------------------------------------------- inference routes

OPENAI_POSTS = ["/v1/chat/completions", "/v1/completions", "/v1/responses"]
CLAUDE_POSTS = ["/v1/messages", "/v1/messages/count_tokens"]
GOOGLE_ACTIONS = ["generateContent", "streamGenerateContent", "countTokens"]


def test_openai_routes_body_errors():
    srv = start_server()
    for p in OPENAI_POSTS:
        _openai_error(srv.post(p, b"{not json"), 400)
        _openai_error(srv.post(p, b'{"messages":[]}'), 400)
        e = _openai_error(srv.post(p, model_body("nobody-serves-this-1")), 404)
        check("nobody-serves-this-1" in e["message"], "%s 404 message: %r" % (p, e))


def test_claude_routes_body_errors():
    srv = start_server()
    for p in CLAUDE_POSTS:
        _claude_error(srv.post(p, b"{not json"), 400)
        _claude_error(srv.post(p, b'{"messages":[]}'), 400)
        e = _claude_error(srv.post(p, model_body("nobody-serves-this-2")), 404)
        check("nobody-serves-this-2" in e["message"], "%s 404 message: %r" % (p, e))


def test_google_routes_body_errors():
    srv = start_server()
    for prefix in ("/v1beta/models/", "/v1/models/"):
        for a in GOOGLE_ACTIONS:
            p = "%snobody-serves-this-3:%s" % (prefix, a)
            _google_error(srv.post(p, b"{not json"), 400, None)
            e = _google_error(srv.post(p, b'{"contents":[{"parts":[{"text":"hi"}]}]}'), 404, "NOT_FOUND")
            check("nobody-serves-this-3" in e["message"], "%s 404 message: %r" % (p, e))


def test_configured_model_is_not_a_404():
    srv = start_server(extra=_claude_section())
    r = srv.post("/v1/messages", {"model": "claude-sonnet-4-20250514", "max_tokens": 1,
                                  "messages": [{"role": "user", "content": "hi"}]})
    check(r.status >= 500, "configured model answered %d (want >= 500 until upstreams exist): %r"
          % (r.status, r.body[:200]))


def test_unknown_path_is_404_json():
    srv = start_server()
    for m, p in (("GET", "/nope"), ("POST", "/v2/chat/completions"), ("GET", "/v1/modelsx")):
        r = srv.request(m, p, body=b"{}" if m == "POST" else None)
        eq(r.status, 404, "%s %s" % (m, p))
        r.json()


def test_wrong_method_is_405_with_allow():
    srv = start_server()
    cases = [("POST", "/v1/models", "GET"), ("GET", "/v1/chat/completions", "POST"),
             ("GET", "/v1/messages", "POST"), ("DELETE", "/v1beta/models", "GET"),
             ("PUT", "/v1/responses", "POST"), ("GET", "/v1/messages/count_tokens", "POST")]
    for m, p, allowed in cases:
        r = srv.request(m, p, body=b"{}" if m == "POST" else None)
        eq(r.status, 405, "%s %s" % (m, p))
        allow = r.header("Allow") or ""
        check(allowed in [a.strip() for a in allow.split(",")],
              "%s %s: Allow header %r does not list %s" % (m, p, allow, allowed))


def test_unknown_model_is_named_verbatim_in_the_error():
    """The name is JSON-decoded from the body and named in the error as the
    client sent it; a name with characters model names may not have (quotes,
    backslashes, non-ASCII) is a 400 that does not repeat it."""
    srv = start_server()
    for path, get_msg in (("/v1/chat/completions", lambda j: j["error"]["message"]),
                          ("/v1/messages", lambda j: j["error"]["message"])):
        name = "vendor/no-such-model:free@v2"
        # "\/" is the JSON escape of "/": decoded before the lookup
        r = srv.post(path, json.dumps({"model": name}).encode().replace(b"/", b"\\/"))
        eq(r.status, 404, "%s with model %r" % (path, name))
        msg = get_msg(r.json())
        check(name in msg, "%s: error message %r does not contain the model name %r" % (path, msg, name))
        for bad in ('quote"and\\backslash', "caf\u00e9-\u6a21\u578b"):
            r = srv.post(path, json.dumps({"model": bad}).encode())
            eq(r.status, 400, "%s with model %r" % (path, bad))
            msg = get_msg(r.json())
            check(bad not in msg and "model" in msg, "%s: error message %r" % (path, msg))


def test_model_name_with_json_escapes_is_decoded_before_lookup():
    srv = start_server(extra=_claude_section())
    raw = b'{"model":"claude-sonnet-4-2025051\\u0034","max_tokens":1,"messages":[]}'
    r = srv.post("/v1/messages", raw)
    check(r.status >= 500, "model \"claude-sonnet-4-2025051\\u0034\" (= a configured model) answered %d: %r"
          % (r.status, r.body[:200]))
