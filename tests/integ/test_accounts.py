"""Subscription accounts: the auth-dir store, token refresh, the OAuth
upstreams (Gemini CLI, Antigravity, Codex, Claude Code, Qwen), many
accounts, and watching auth-dir and the config file.

Every upstream and token endpoint is a mock on localhost with the test CA
(mocks_oauth.py), reached through [endpoints]."""

import json
import os
import signal
import stat
import time

import harness
import mocks
import mocks_llm
import mocks_oauth
import test_upstream
import testca
from harness import TestFailure, check, eq

OPENAI_BODY = {"model": None, "messages": [{"role": "user", "content": "hello accounts"}]}


def _ctx():
    pki = testca.shared_pki()
    return mocks.server_context(pki["server_cert"], pki["server_key"])


class Env:
    """A server with every OAuth endpoint on mocks; accounts are files the
    test writes into srv.auth_dir before or after the start."""

    def __init__(self, files=(), more="", start=True, **settings):
        ctx = _ctx()
        self.tok = mocks_oauth.MockTokenServer(tls=ctx).start()
        self.ca = mocks_oauth.MockCodeAssist(tls=ctx).start()
        self.ag = mocks_oauth.MockCodeAssist(tls=ctx).start()
        self.ag2 = mocks_oauth.MockCodeAssist(tls=ctx).start()   # its fallback host
        self.cx = mocks_oauth.MockCodex(tls=ctx).start()
        self.cl = mocks_llm.MockClaude(tls=ctx).start()
        self.qw = mocks_oauth.MockQwen(tls=ctx).start()
        self.mocks = [self.tok, self.ca, self.ag, self.ag2, self.cx, self.cl, self.qw]
        extra = more + (
            "\n[endpoints]\n"
            "gemini-cli = %s\nantigravity = %s\nantigravity-fallback = %s\n"
            "codex = %s\nclaude = %s\nqwen = %s\n"
            "google-token = %s/token\nopenai-auth = %s\nclaude-token = %s/v1/oauth/token\n"
            "qwen-auth = %s/api/v1/oauth2\n"
            % (self.ca.url, self.ag.url, self.ag2.url, self.cx.base_url, self.cl.url,
               self.qw.base_url, self.tok.url, self.tok.url, self.tok.url, self.tok.url))
        s = {"ca-file": testca.shared_pki()["ca_cert"], "request-retry": 1,
             "upstream-connect-timeout": "2s", "upstream-first-byte-timeout": "4s",
             "upstream-read-timeout": "4s", "debug": "true"}
        s.update({k.replace("_", "-"): v for k, v in settings.items()})
        self.srv = harness.Server(extra=extra, settings=s, label="cli-proxy-api")
        for kind, kw in files:
            self.write(kind, **kw)
        stop = self.srv.stop

        def stop_all():
            try:
                stop()
            finally:
                for m in self.mocks:
                    m.stop()
        self.srv.stop = stop_all
        if start:
            self.srv.start()

    def write(self, kind, **kw):
        return mocks_oauth.write_auth_file(self.srv.auth_dir, kind, **kw)

    def path(self, name):
        return os.path.join(self.srv.auth_dir, name)

    def chat(self, model, stream=False, timeout=10):
        body = dict(OPENAI_BODY, model=model)
        if stream:
            body["stream"] = True
        return self.srv.request("POST", "/v1/chat/completions", body=json.dumps(body),
                                headers={"Content-Type": "application/json"},
                                timeout=timeout)

    def models(self):
        r = self.srv.get("/v1/models")
        eq(r.status, 200, "GET /v1/models")
        return [m["id"] for m in r.json()["data"]]

    def log(self):
        with open(self.srv.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def _content(r, what):
    eq(r.status, 200, "%s: status (body %r)" % (what, r.body[:400]))
    return r.json()["choices"][0]["message"]["content"]


def _stream_text(r, what):
    eq(r.status, 200, "%s: status (body %r)" % (what, r.body[:400]))
    text = ""
    for line in r.body.decode().split("\n"):
        if line.startswith("data: ") and line != "data: [DONE]":
            ch = json.loads(line[6:])["choices"]
            if ch and ch[0]["delta"].get("content"):
                text += ch[0]["delta"]["content"]
    return text


def _wait(cond, timeout, what):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if cond():
            return time.monotonic() - t0
        time.sleep(0.05)
    raise TestFailure("%s: not within %.1fs" % (what, timeout))


def _no_secrets(env, secrets):
    log = env.log()
    for s in secrets:
        check(s not in log, "secret %r appears in the log" % s[:12])


# ---- the store --------------------------------------------------------------

def test_accounts_every_kind_loads_and_lists_its_models():
    env = Env(files=[
        ("gemini", dict(email="g@example.com", project_id="proj-g", access_token="ya29.gem",
                        refresh_token="1//gem-refresh")),
        ("codex", dict(email="c@example.com", access_token="cx-access",
                       refresh_token="cx-refresh")),
        ("claude", dict(email="a@example.com", access_token="sk-ant-oat01-cl",
                        refresh_token="sk-ant-ort01-cl")),
        ("qwen", dict(email="q@example.com", access_token="qw-access",
                      refresh_token="qw-refresh")),
        ("antigravity", dict(email="ag@example.com", project_id="proj-ag",
                             access_token="ya29.ag", refresh_token="1//ag-refresh")),
    ])
    ids = env.models()
    for want in ("gemini-2.5-pro", "gemini-2.5-flash", "gpt-5", "gpt-5-codex",
                 "claude-sonnet-4-20250514", "qwen3-coder-plus", "qwen3-coder-flash",
                 "claude-sonnet-4-6", "gemini-3-flash"):
        check(want in ids, "%s not listed: %r" % (want, ids))
    eq(len(ids), len(set(ids)), "models listed once")
    log = env.log()
    for name in ("g@example.com-proj-g.json", "codex-c@example.com-plus.json",
                 "claude-a@example.com.json", "qwen-q@example.com.json",
                 "antigravity-ag@example.com.json"):
        check("loaded %s" % name in log, "debug log does not show %s loaded" % name)
    _no_secrets(env, ["ya29.gem", "1//gem-refresh", "cx-access", "cx-refresh",
                      "sk-ant-oat01-cl", "qw-refresh", "1//ag-refresh"])


def test_accounts_bad_files_are_skipped_with_one_line_each():
    env = Env(start=False)
    d = env.srv.auth_dir
    with open(os.path.join(d, "broken.json"), "w") as f:
        f.write('{"type": "codex", "access_token": "sk-should-not-log-1"')
    with open(os.path.join(d, "notype.json"), "w") as f:
        f.write('{"access_token": "sk-should-not-log-2"}')
    with open(os.path.join(d, "weird.json"), "w") as f:
        f.write('{"type": "weird", "access_token": "sk-should-not-log-3"}')
    env.write("codex", filename="off.json", disabled=True, access_token="sk-should-not-log-4")
    env.write("codex", filename="ok.json", email="ok@example.com")
    with open(os.path.join(d, "notes.txt"), "w") as f:
        f.write("not an account")
    env.srv.start()
    ids = env.models()
    check("gpt-5" in ids, "the good account serves: %r" % ids)
    log = env.log()
    for name in ("broken.json", "notype.json", "weird.json", "off.json"):
        lines = [l for l in log.splitlines() if "skipping %s" % name in l]
        eq(len(lines), 1, "log lines skipping %s in %r" % (name, log[-2000:]))
    check("notes.txt" not in log, "a non-JSON file was read")
    _no_secrets(env, ["sk-should-not-log-%d" % i for i in range(1, 5)])
    # a second scan (a new file) does not report them again
    env.write("qwen", filename="later.json")
    _wait(lambda: "qwen3-coder-plus" in env.models(), 3, "new file")
    log = env.log()
    eq(len([l for l in log.splitlines() if "skipping broken.json" in l]), 1,
       "broken.json reported once")


def test_accounts_reference_files_byte_for_byte_load():
    """Files as the reference writes them (protocol.md / providers-2026.md
    field lists), including one from v5 with a nested token only."""
    env = Env(start=False)
    d = env.srv.auth_dir
    exp = mocks_oauth.rfc3339(time.time() + 3600)
    files = {
        "me@example.com-my-proj.json": {
            "token": {"access_token": "ya29.v5", "token_type": "Bearer",
                      "refresh_token": "1//v5", "expiry": exp,
                      "token_uri": "https://oauth2.googleapis.com/token",
                      "client_id": mocks_oauth.GEMINI_CLIENT_ID,
                      "client_secret": mocks_oauth.GEMINI_CLIENT_SECRET,
                      "scopes": mocks_oauth.GEMINI_SCOPES, "universe_domain": "googleapis.com"},
            "project_id": "my-proj", "email": "me@example.com", "auto": False,
            "checked": True, "type": "gemini"},
        "claude-me@example.com.json": {
            "id_token": "", "access_token": "sk-ant-oat01-x", "refresh_token": "sk-ant-ort01-x",
            "last_refresh": exp, "email": "me@example.com", "type": "claude", "expired": exp},
        "codex-me@example.com-plus.json": {
            "id_token": mocks_oauth.make_jwt(mocks_oauth.openai_id_claims(
                "me@example.com", "acct-from-jwt", "pro")),
            "access_token": "cx-ref", "refresh_token": "rt-ref", "last_refresh": exp,
            "email": "me@example.com", "type": "codex", "expired": exp},
        "qwen-me.json": {
            "access_token": "qa", "refresh_token": "qr", "last_refresh": exp,
            "resource_url": "portal.qwen.ai", "email": "me", "type": "qwen", "expired": exp},
        "antigravity-me@example.com.json": {
            "type": "antigravity", "access_token": "ya29.ag", "refresh_token": "1//ag",
            "expires_in": 3599, "timestamp": int(time.time() * 1000), "expired": exp,
            "email": "me@example.com", "project_id": "bright-wave-1a2b3"},
    }
    for name, obj in files.items():
        with open(os.path.join(d, name), "w") as f:
            json.dump(obj, f)
    env.srv.start()
    ids = env.models()
    for want in ("gemini-2.5-pro", "claude-sonnet-4-20250514", "qwen3-coder-plus",
                 "gemini-3-flash", "gpt-5.5"):
        check(want in ids, "%s not listed: %r" % (want, ids))
    check("skipping" not in env.log(), "a reference file was skipped: %s" % env.log()[-1500:])
    check("plan pro" in env.log(), "the Codex plan was not read from its id_token")
    # the account id the file lacks comes from its id_token
    _content(env.chat("gpt-5"), "codex from a reference file")
    eq(env.cx.requests[-1]["codex"].get("chatgpt-account-id"), "acct-from-jwt",
       "account id from the id_token")


# ---- the upstream kinds ------------------------------------------------------

def test_accounts_gemini_cli_envelope_and_headers():
    env = Env(files=[("gemini", dict(email="g@example.com", project_id="proj-g",
                                     access_token="ya29.live"))])
    env.ca.valid_tokens = {"ya29.live"}
    eq(_content(env.chat("gemini-2.5-pro"), "non-stream"), "echo: hello accounts", "content")
    req = env.ca.requests[-1]
    eq(req["ca_method"], "generateContent", "method")
    eq(req["envelope"].get("project"), "proj-g", "envelope project")
    eq(req["envelope"].get("model"), "gemini-2.5-pro", "envelope model")
    h = req["headers"]
    eq(h.get("authorization"), "Bearer ya29.live", "bearer")
    check(h.get("user-agent", "").startswith("GeminiCLI/"), "user-agent %r" % h.get("user-agent"))
    eq(_stream_text(env.chat("gemini-2.5-flash", stream=True), "stream"),
       "echo: hello accounts", "stream text")
    eq(env.ca.requests[-1]["ca_method"], "streamGenerateContent", "stream method")


def test_accounts_gemini_multi_project_file_rotates_projects():
    env = Env(files=[("gemini", dict(filename="gemini-g@example.com-all.json",
                                     email="g@example.com", project_id="p-one,p-two",
                                     access_token="ya29.all"))])
    for _ in range(4):
        _content(env.chat("gemini-2.5-pro"), "request")
    eq([r["envelope"].get("project") for r in env.ca.requests],
       ["p-one", "p-two", "p-one", "p-two"], "projects used")


def test_accounts_codex_oauth_stream_forced_and_folded():
    env = Env(files=[("codex", dict(email="c@example.com", access_token="cx-live",
                                    account_id="acct-42"))])
    env.cx.valid_tokens = {"cx-live"}
    eq(_content(env.chat("gpt-5-codex"), "non-stream"), "echo: hello accounts", "folded")
    req = env.cx.requests[-1]
    body = json.loads(req["body"])
    eq(body.get("stream"), True, "upstream always streams")
    eq(body.get("model"), "gpt-5-codex", "model")
    eq(req["codex"].get("chatgpt-account-id"), "acct-42", "Chatgpt-Account-Id")
    eq(req["codex"].get("originator"), "codex-tui", "Originator")
    check(req["codex"].get("session-id"), "no Session-Id")
    eq(_stream_text(env.chat("gpt-5", stream=True), "stream"), "echo: hello accounts",
       "stream text")
    # an effort in the name becomes the reasoning effort
    _content(env.chat("gpt-5-codex-high"), "effort name")
    body = json.loads(env.cx.requests[-1]["body"])
    eq(body.get("model"), "gpt-5-codex", "model without its effort")
    eq(body.get("reasoning", {}).get("effort"), "high", "effort")


def test_accounts_claude_oauth_bearer_betas_and_system_line():
    env = Env(files=[("claude", dict(email="a@example.com", access_token="sk-ant-oat01-live"))])
    env.cl.valid_tokens = {"sk-ant-oat01-live"}
    eq(_content(env.chat("claude-sonnet-4-20250514"), "openai client"),
       "echo: hello accounts", "content")
    req = env.cl.requests[-1]
    h = req["headers"]
    eq(h.get("authorization"), "Bearer sk-ant-oat01-live", "bearer")
    check("x-api-key" not in h, "x-api-key sent with an OAuth token")
    check("oauth-2025-04-20" in h.get("anthropic-beta", ""), "betas %r" % h.get("anthropic-beta"))
    check(req["path"].endswith("?beta=true"), "path %r" % req["path"])
    body = json.loads(req["body"])
    sys0 = body["system"][0]["text"] if isinstance(body.get("system"), list) else body.get("system")
    check(sys0 and sys0.startswith("You are Claude Code"), "system %r" % body.get("system"))
    # a Claude client's own betas are kept, the OAuth one added
    r = env.srv.request("POST", "/v1/messages", body=json.dumps({
        "model": "claude-sonnet-4-20250514", "max_tokens": 50,
        "system": [{"type": "text", "text": "You are Claude Code, Anthropic's official CLI."}],
        "messages": [{"role": "user", "content": "hi"}]}),
        headers={"Content-Type": "application/json", "anthropic-beta": "tools-2024"})
    eq(r.status, 200, "claude client status (%r)" % r.body[:300])
    h = env.cl.requests[-1]["headers"]
    eq(h.get("anthropic-beta"), "tools-2024,oauth-2025-04-20", "client betas + oauth")


def test_accounts_upstream_headers_of_the_config_reach_the_upstream():
    """[upstream-headers] changes a login kind's fixed headers; an edit of
    the config applies to the next call; the account file's user_agent
    wins over it."""
    env = Env(files=[("claude", dict(email="a@example.com", access_token="sk-ant-oat01-live"))],
              more="[upstream-headers]\n"
                   "claude-login = User-Agent: claude-cli/9.9.9 (external, cli)\n"
                   "claude-login = X-Stainless-Package-Version: 0.99.0\n"
                   "claude-login = X-App:\n"
                   "claude-login = X-Model: {model}\n")
    env.cl.valid_tokens = {"sk-ant-oat01-live"}
    _content(env.chat("claude-sonnet-4-20250514"), "configured headers")
    req = env.cl.requests[-1]
    h = req["headers"]
    names = [n.lower() for n, _ in req["header_list"]]
    eq(names.count("user-agent"), 1, "User-Agent lines")
    eq(h.get("user-agent"), "claude-cli/9.9.9 (external, cli)", "replaced User-Agent")
    eq(h.get("x-stainless-package-version"), "0.99.0", "replaced line")
    check("x-app" not in h, "removed X-App was sent: %r" % h.get("x-app"))
    eq(h.get("x-model"), "claude-sonnet-4-20250514", "added line with the model")
    eq(h.get("x-stainless-lang"), "js", "fixed line kept")
    eq(h.get("authorization"), "Bearer sk-ant-oat01-live", "bearer")

    env.srv.write_config(extra=env.srv.extra.replace("9.9.9", "9.9.10"))
    env.srv.signal(signal.SIGHUP)

    def ua_is(want):
        _content(env.chat("claude-sonnet-4-20250514"), "after the edit")
        return env.cl.requests[-1]["headers"].get("user-agent") == want
    _wait(lambda: ua_is("claude-cli/9.9.10 (external, cli)"), 3, "reloaded User-Agent")

    env.write("claude", email="a@example.com", access_token="sk-ant-oat01-live",
              user_agent="claude-cli/1.2.3 (the file's)")
    _wait(lambda: ua_is("claude-cli/1.2.3 (the file's)"), 3, "the file's User-Agent")
    eq(env.cl.requests[-1]["headers"].get("x-stainless-package-version"), "0.99.0",
       "the other configured lines stay")


def test_accounts_qwen_resource_url_is_the_base():
    env = Env(start=False)
    env.write("qwen", email="q@example.com", access_token="qw-live",
              resource_url=env.qw.resource_url)
    env.srv.start()
    env.qw.valid_tokens = {"qw-live"}
    eq(_content(env.chat("qwen3-coder-plus"), "qwen"), "echo: hello accounts", "content")
    req = env.qw.requests[-1]
    eq(req["path"], "/v1/chat/completions", "path")
    h = req["headers"]
    check(h.get("user-agent", "").startswith("QwenCode/"), "user-agent %r" % h.get("user-agent"))
    eq(h.get("x-dashscope-authtype"), "qwen-oauth", "dashscope auth type")


def test_accounts_antigravity_envelope():
    env = Env(files=[("antigravity", dict(email="ag@example.com", project_id="proj-ag",
                                          access_token="ya29.ag-live"))])
    env.ag.valid_tokens = {"ya29.ag-live"}
    env.ag2.valid_tokens = {"ya29.ag-live"}
    eq(_content(env.chat("gemini-3-flash"), "antigravity"), "echo: hello accounts", "content")
    req = env.ag.requests[-1]
    eq(req["envelope"].get("project"), "proj-ag", "project")
    eq(req["envelope"].get("userAgent"), "antigravity", "userAgent")
    check(str(req["envelope"].get("requestId", "")).startswith("agent-"),
          "requestId %r" % req["envelope"].get("requestId"))
    h = req["headers"]
    check(h.get("user-agent", "").startswith("antigravity/"), "UA %r" % h.get("user-agent"))
    # a Claude model: asked as a stream, folded into one answer
    eq(_content(env.chat("claude-sonnet-4-6"), "claude on antigravity"),
       "echo: hello accounts", "claude content")
    eq(env.ag.requests[-1]["ca_method"], "streamGenerateContent", "claude model streamed")
    # the daily host over quota: the same account on the fallback host
    env.ag.script([("quota", 30)])
    eq(_content(env.chat("gemini-3-flash"), "fallback"), "echo: hello accounts", "fallback")
    eq(len(env.ag2.requests), 1, "requests to the fallback host")
    eq(env.ag2.requests[0]["headers"].get("authorization"), "Bearer ya29.ag-live",
       "same account on the fallback host")


# ---- refresh -------------------------------------------------------------------

def test_accounts_expired_token_is_refreshed_and_written_back_atomically():
    env = Env(start=False)
    p = env.write("codex", email="c@example.com", access_token="cx-old", refresh_token="rt-old",
                  expires_in=-60, extra_field={"kept": [1, 2, 3]}, note="mine")
    before = mocks_oauth.read_auth_file(p)
    env.tok.valid_refresh = {"rt-old"}
    env.tok.link(env.cx)
    env.srv.start()
    eq(_content(env.chat("gpt-5"), "after refresh"), "echo: hello accounts", "content")
    eq(len(env.tok.requests), 1, "one refresh")
    tr = env.tok.requests[0]
    eq(tr["kind"], "openai", "token endpoint shape")
    eq(tr["params"].get("refresh_token"), "rt-old", "refresh token sent")
    eq(tr["params"].get("client_id"), mocks_oauth.CODEX_CLIENT_ID, "client id")
    h = env.cx.requests[-1]["headers"]
    eq(h.get("authorization"), "Bearer " + env.tok.issued[0], "new token used")
    after = mocks_oauth.read_auth_file(p)
    eq(after["access_token"], env.tok.issued[0], "access token on disk")
    eq(after["refresh_token"], env.tok.issued_refresh[0], "rotated refresh token on disk")
    eq(after["extra_field"], {"kept": [1, 2, 3]}, "unknown field kept")
    eq(after["note"], "mine", "unknown field kept")
    for k in before:
        check(k in after, "field %s dropped" % k)
    check(mocks_oauth.parse_rfc3339(after["expired"]) > time.time() + 3000, "new expiry")
    eq(stat.S_IMODE(os.stat(p).st_mode), 0o600, "mode")
    check(not [n for n in os.listdir(env.srv.auth_dir) if n.startswith(".")],
          "temp files left: %r" % os.listdir(env.srv.auth_dir))
    # the file we wrote is not taken for an outside change
    time.sleep(1.5)
    check("changed" not in env.log(), "own write reloaded the account")
    _no_secrets(env, ["rt-old", env.tok.issued_refresh[0]])


def test_accounts_401_refreshes_once_then_succeeds():
    env = Env(files=[("claude", dict(email="a@example.com", access_token="sk-ant-oat01-stale",
                                     refresh_token="rt-c1"))])
    env.tok.valid_refresh = {"rt-c1"}
    env.tok.link(env.cl)   # only tokens issued from now on are valid
    r = env.chat("claude-sonnet-4-20250514")
    eq(_content(r, "after 401"), "echo: hello accounts", "content")
    eq(len(env.tok.requests), 1, "one refresh")
    eq(env.tok.requests[0]["kind"], "claude", "Claude's token endpoint")
    eq(len(env.cl.requests), 2, "the refused attempt, then the retry")
    # a 401 again after the refresh does not loop: one refresh, then the
    # client gets an error naming no key
    refused = {"type": "error", "error": {"type": "authentication_error",
                                          "message": "invalid x-api-key sk-ant-oat01-zzz"}}
    env.cl.script([("status", 401, refused), ("status", 401, refused)])
    n = len(env.cl.requests)
    r = env.chat("claude-sonnet-4-20250514")
    eq(r.status, 503, "status after a refused fresh token (%r)" % r.body[:300])
    check(b"sk-ant" not in r.body, "the upstream's message reached the client")
    eq(len(env.tok.requests), 2, "refreshes")
    eq(len(env.cl.requests) - n, 2, "attempts")


def test_accounts_invalid_grant_disables_the_account_and_the_other_serves():
    env = Env(start=False)
    env.write("gemini", filename="a-bad.json", email="bad@example.com", project_id="p-bad",
              access_token="ya29.bad", refresh_token="rt-revoked", expires_in=-10)
    env.write("gemini", filename="b-good.json", email="good@example.com", project_id="p-good",
              access_token="ya29.good", refresh_token="rt-good")
    env.tok.valid_refresh = {"rt-good"}   # rt-revoked -> invalid_grant
    env.srv.start()
    for i in range(4):
        eq(_content(env.chat("gemini-2.5-pro"), "request %d" % i), "echo: hello accounts",
           "content")
    projects = [r["envelope"].get("project") for r in env.ca.requests]
    eq(set(projects), {"p-good"}, "projects served")
    eq(len([r for r in env.tok.requests if r["params"].get("refresh_token") == "rt-revoked"]),
       1, "the refused refresh token is tried once")
    check("refused the refresh token" in env.log(), "no log line for the disabled account")
    # its file is untouched: the refresh token is not lost
    eq(mocks_oauth.read_auth_file(env.path("a-bad.json"))["token"]["refresh_token"],
       "rt-revoked", "stored refresh token")
    # a changed file brings it back
    env.tok.valid_refresh.add("rt-new")
    env.write("gemini", filename="a-bad.json", email="bad@example.com", project_id="p-bad",
              access_token="ya29.bad2", refresh_token="rt-new")
    _wait(lambda: (_content(env.chat("gemini-2.5-pro"), "x") and
                   env.ca.requests[-1]["envelope"].get("project") == "p-bad"), 4,
          "the re-written account serves again")


def test_accounts_refresh_failure_keeps_the_stored_token_and_retries_later():
    env = Env(start=False)
    p = env.write("qwen", email="q@example.com", access_token="qa", refresh_token="rt-q",
                  expires_in=-10, resource_url=env.qw.resource_url)
    env.tok.script([("status", 503, {"error": "temporarily_unavailable"})])
    env.srv.start()
    env.tok.wait_requests(1, 3)
    r = env.chat("qwen3-coder-plus")
    eq(r.status, 503, "status when the only account cannot refresh (%r)" % r.body[:300])
    eq(mocks_oauth.read_auth_file(p)["refresh_token"], "rt-q", "refresh token kept on disk")
    eq(len(env.tok.requests), 1, "no second refresh during the back-off")
    eq(env.srv.proc.poll(), None, "server alive")


def test_accounts_one_refresh_for_concurrent_requests():
    import threading
    env = Env(start=False)
    env.write("codex", email="c@example.com", access_token="old", refresh_token="rt-1",
              expires_in=-5)
    env.tok.valid_refresh = {"rt-1"}
    env.tok.link(env.cx)
    env.srv.start()
    env.tok.script([("delay", 0.5)])
    out = []

    def one():
        out.append(env.chat("gpt-5").status)
    ts = [threading.Thread(target=one) for _ in range(5)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(15)
    eq(sorted(out), [200] * 5, "statuses")
    eq(len(env.tok.requests), 1, "refreshes for five waiting requests")
    eq(env.tok.max_in_flight, 1, "refreshes at once")


def test_accounts_background_refresh_ahead_of_expiry():
    # Qwen's lead is 20 minutes: a two-hour token with 10 left is refreshed
    # at once, without a request, and the file gets the new one
    env = Env(start=False)
    p = env.write("qwen", email="q@example.com", access_token="qa", refresh_token="rt-bg",
                  expires_in=600, last_refresh=mocks_oauth.rfc3339(time.time() - 6600))
    env.tok.valid_refresh = {"rt-bg"}
    env.srv.start()
    _wait(lambda: mocks_oauth.read_auth_file(p)["refresh_token"] != "rt-bg", 5,
          "background refresh written")
    eq(len(env.tok.requests), 1, "one refresh")
    # the new token lasts an hour: not due again
    time.sleep(1)
    eq(len(env.tok.requests), 1, "refreshes after the first")

    # a token far from expiry is left alone
    env2 = Env(start=False)
    env2.write("qwen", email="q2@example.com", refresh_token="rt-far", expires_in=6 * 3600,
               last_refresh=mocks_oauth.rfc3339(time.time()))
    env2.srv.start()
    time.sleep(1)
    eq(len(env2.tok.requests), 0, "refreshes of a fresh token")


def test_accounts_stop_during_a_refresh():
    """SIGTERM while a refresh waits on its token endpoint: a clean exit
    (under the sanitizers, nothing leaked: the refresh's hold on the
    account ends with the store)."""
    env = Env(start=False)
    env.write("codex", email="c@example.com", access_token="old", refresh_token="rt-1",
              expires_in=-5)
    env.tok.script([("hang",)])
    env.srv.start()
    check(env.tok.wait_requests(1, 3), "no refresh started")
    env.srv.signal(signal.SIGTERM)
    eq(env.srv.wait_exit(5), 0, "exit status")


def test_accounts_kill_during_refresh_writes_leaves_a_whole_file():
    """SIGKILL at random moments around refresh writes: the file is always
    the old one or the new one, never a torn one."""
    env = Env(start=False)
    p = env.write("codex", email="c@example.com", access_token="a0", refresh_token="r0",
                  expires_in=-5, padding="x" * 20000)
    env.tok.valid_refresh = None  # accept any
    env.srv.start()
    for i in range(12):
        if env.srv.proc.poll() is not None:
            env.srv.start()
        mocks_oauth.write_auth_file(env.srv.auth_dir, "codex", filename=os.path.basename(p),
                                    email="c@example.com", access_token="a%d" % i,
                                    refresh_token="r%d" % i, expires_in=-5,
                                    padding="x" * 20000)
        try:
            env.chat("gpt-5", timeout=0.05 + 0.02 * i)
        except Exception:
            pass
        env.srv.proc.send_signal(signal.SIGKILL)
        env.srv.proc.wait(5)
        d = mocks_oauth.read_auth_file(p)   # raises if torn
        eq(d.get("padding"), "x" * 20000, "round %d: the unknown field" % i)
        check(d.get("refresh_token"), "round %d: no refresh token" % i)
    check(env.tok.requests, "no refresh happened at all")


# ---- many accounts ---------------------------------------------------------------

def test_accounts_round_robin_and_429_rests_until_the_reset():
    env = Env(start=False)
    env.write("codex", filename="codex-a.json", email="a@example.com", access_token="tok-a",
              account_id="A")
    env.write("codex", filename="codex-b.json", email="b@example.com", access_token="tok-b",
              account_id="B")
    env.srv.start()
    for _ in range(4):
        _content(env.chat("gpt-5"), "rotation")
    eq([r["codex"]["chatgpt-account-id"] for r in env.cx.requests], ["A", "B", "A", "B"],
       "round robin")
    # A answers 429 with a 2 s reset: B serves, at once, and A is left alone
    env.cx.script([("usage_limit", 2)])
    n0 = len(env.cx.requests)
    t0 = time.monotonic()
    eq(_content(env.chat("gpt-5"), "after 429"),
       "echo: hello accounts", "content")
    check(time.monotonic() - t0 < 2, "the other account was not used at once")
    seen = [r["codex"]["chatgpt-account-id"] for r in env.cx.requests[n0:]]
    eq(seen, ["A", "B"], "429 on A, then B")
    for _ in range(3):
        _content(env.chat("gpt-5"), "while A rests")
    eq({r["codex"]["chatgpt-account-id"] for r in env.cx.requests[n0 + 2:]}, {"B"},
       "A not tried while resting")
    time.sleep(2.2)
    ids = []
    for _ in range(2):
        _content(env.chat("gpt-5"), "after the reset")
        ids.append(env.cx.requests[-1]["codex"]["chatgpt-account-id"])
    check("A" in ids, "A back after its reset: %r" % ids)


def test_accounts_all_resting_is_a_429_with_the_earliest_reset():
    env = Env(files=[("gemini", dict(email="g@example.com", project_id="p1",
                                     access_token="ya29.q"))])
    env.ca.script([("quota", 30)])
    r = env.chat("gemini-2.5-pro")
    eq(r.status, 429, "status")
    ra = int(r.header("retry-after") or 0)
    check(25 <= ra <= 30, "Retry-After %r" % ra)
    j = r.json()
    check("error" in j and j["error"].get("type") == "rate_limit_error", "OpenAI error %r" % j)
    # while resting: answered at once, the upstream not asked
    n = len(env.ca.requests)
    r = env.chat("gemini-2.5-pro")
    eq(r.status, 429, "status while resting")
    eq(len(env.ca.requests), n, "upstream asked while resting")
    # a Gemini client gets it in Gemini's shape
    r = env.srv.request("POST", "/v1beta/models/gemini-2.5-pro:generateContent",
                        body=json.dumps({"contents": [{"role": "user",
                                                       "parts": [{"text": "hi"}]}]}),
                        headers={"Content-Type": "application/json"})
    eq(r.status, 429, "gemini client status")
    eq(r.json()["error"].get("status"), "RESOURCE_EXHAUSTED", "gemini error shape")


# ---- watching ---------------------------------------------------------------------

def test_accounts_auth_dir_add_change_delete_without_a_signal():
    env = Env()
    check("gpt-5" not in env.models(), "no account yet")
    env.write("codex", filename="codex-w.json", email="w@example.com", access_token="w1",
              account_id="W1")
    dt = _wait(lambda: "gpt-5" in env.models(), 2.5, "added file")
    _content(env.chat("gpt-5"), "new account")
    eq(env.cx.requests[-1]["codex"]["chatgpt-account-id"], "W1", "account")
    env.write("codex", filename="codex-w.json", email="w@example.com", access_token="w2",
              account_id="W2")

    def changed():
        _content(env.chat("gpt-5"), "changed")
        return env.cx.requests[-1]["codex"]["chatgpt-account-id"] == "W2"
    _wait(changed, 2.5, "changed file")
    os.unlink(env.path("codex-w.json"))
    _wait(lambda: "gpt-5" not in env.models(), 2.5, "removed file")
    r = env.chat("gpt-5")
    eq(r.status, 404, "model of a removed account")
    check(dt < 2.5, "add took %.1fs" % dt)


def _codex_events(text, pause):
    """A Codex stream whose text comes after a pause."""
    def ev(n, kind, **f):
        f.update(type=kind, sequence_number=n)
        return ("event: %s\ndata: %s\n\n" % (kind, json.dumps(f))).encode()
    return [ev(0, "response.created", response={"id": "resp_1", "model": "gpt-5"}),
            pause,
            ev(1, "response.output_item.added", output_index=0,
               item={"id": "msg_1", "type": "message", "role": "assistant", "content": []}),
            ev(2, "response.output_text.delta", output_index=0, content_index=0,
               item_id="msg_1", delta=text),
            ev(3, "response.output_item.done", output_index=0,
               item={"id": "msg_1", "type": "message", "role": "assistant",
                     "content": [{"type": "output_text", "text": text}]}),
            ev(4, "response.completed",
               response={"id": "resp_1", "model": "gpt-5", "status": "completed",
                         "usage": {"input_tokens": 3, "output_tokens": 2,
                                   "total_tokens": 5}})]


def test_accounts_in_flight_request_keeps_its_account():
    env = Env(files=[("codex", dict(filename="codex-f.json", email="f@example.com",
                                    access_token="f1", account_id="F1"))])
    env.cx.script([("raw_events", _codex_events("still here", 1.5))])
    rs = test_upstream.RawStream(env.srv.port, dict(OPENAI_BODY, model="gpt-5", stream=True),
                                 timeout=8)
    try:
        eq(rs.head(), 200, "status")
        os.unlink(env.path("codex-f.json"))
        _wait(lambda: "gpt-5" not in env.models(), 2.5, "account gone from the list")
        data = rs.read_all()
    finally:
        rs.close()
    check(b"still here" in data and b"[DONE]" in data, "stream finished: %r" % data[-400:])


def test_accounts_config_file_change_reloads_without_a_signal():
    env = Env()
    check("kimi-k2" not in env.models(), "no compat provider yet")
    up = mocks.MockOpenAI().start()
    env.mocks.append(up)
    env.srv.write_config(extra=env.srv.extra + (
        "\n[openai-compatibility]\nname = later\nbase-url = %s\napi-keys = k\n"
        "model = m-up = kimi-k2\n" % up.base_url))
    _wait(lambda: "kimi-k2" in env.models(), 2.5, "config change")
    # a broken edit keeps the running config
    with open(env.srv.config_path, "a") as f:
        f.write("\nthis is not ini\n")
    time.sleep(1.0)
    check("kimi-k2" in env.models(), "a bad edit dropped the running config")
    check("config not reloaded" in env.log(), "no log line for the bad edit")


# ---- /v1internal: Gemini CLI in Code Assist mode --------------------------------

def _ca_post(env, method, body, query=""):
    return env.srv.request("POST", "/v1internal:%s%s" % (method, query),
                           body=json.dumps(body),
                           headers={"Content-Type": "application/json",
                                    "Authorization": "Bearer anything-the-cli-sends"})


CA_BODY = {"model": "gemini-2.5-pro", "project": "cli-chosen", "user_prompt_id": "u1",
           "request": {"contents": [{"role": "user", "parts": [{"text": "hello accounts"}]}]}}


def test_v1internal_setup_calls_use_an_account_token_or_answer_locally():
    # no Gemini CLI account: local answers good enough to start
    env = Env(more="api-keys = sk-client\n")
    r = _ca_post(env, "loadCodeAssist", {"metadata": {"ideType": "IDE_UNSPECIFIED"}})
    eq(r.status, 200, "loadCodeAssist without an account (%r)" % r.body[:200])
    check(r.json().get("currentTier", {}).get("id"), "a tier: %r" % r.json())
    eq(_ca_post(env, "retrieveUserQuota", {"project": "x"}).json(), {"buckets": []}, "quota")
    eq(_ca_post(env, "somethingNew", {}).json(), {}, "unknown set-up call")
    eq(_ca_post(env, "bad/method", {}).status, 404, "a method that is no name")
    eq(len(env.ca.requests), 0, "Code Assist asked without an account")
    # with one: forwarded with its token, the body as it was
    env.write("gemini", email="g@example.com", project_id="proj-g", access_token="ya29.setup")
    _wait(lambda: "gemini-2.5-pro" in [m["id"] for m in env.srv.get(
        "/v1/models", headers={"Authorization": "Bearer sk-client"}).json()["data"]], 3,
        "account loaded")
    env.ca.project = "proj-from-upstream"
    r = _ca_post(env, "loadCodeAssist", {"metadata": {"ideType": "IDE_UNSPECIFIED"}})
    eq(r.status, 200, "forwarded loadCodeAssist (%r)" % r.body[:200])
    req = env.ca.requests[-1]
    eq(req["ca_method"], "loadCodeAssist", "forwarded method")
    eq(req["headers"].get("authorization"), "Bearer ya29.setup", "the account's token")
    eq(json.loads(req["body"]), {"metadata": {"ideType": "IDE_UNSPECIFIED"}}, "body as sent")


def test_v1internal_generation_routes_by_model_with_the_envelope_both_ways():
    up = mocks.MockOpenAI().start()
    env = Env(files=[("gemini", dict(email="g@example.com", project_id="proj-g",
                                     access_token="ya29.gen"))],
              more="[openai-compatibility]\nname = other\nbase-url = %s\napi-keys = k\n"
                   "model = up-model = other-model\n" % up.base_url)
    env.mocks.append(up)
    # a gemini model: the Gemini CLI account, its project in the envelope
    r = _ca_post(env, "generateContent", CA_BODY)
    eq(r.status, 200, "status (%r)" % r.body[:300])
    j = r.json()
    eq(j["response"]["candidates"][0]["content"]["parts"][0]["text"], "echo: hello accounts",
       "answer in the envelope")
    eq(env.ca.requests[-1]["envelope"].get("project"), "proj-g", "the account's project")
    # streamed
    r = _ca_post(env, "streamGenerateContent", CA_BODY, "?alt=sse")
    eq(r.status, 200, "stream status")
    frames = [json.loads(l[6:]) for l in r.body.decode().split("\n") if l.startswith("data: ")]
    check(frames and all("response" in f for f in frames), "frames %r" % frames[:2])
    # another provider's model, through the hub, still enveloped for the CLI
    r = _ca_post(env, "generateContent", dict(CA_BODY, model="other-model"))
    eq(r.status, 200, "compat status (%r)" % r.body[:300])
    eq(r.json()["response"]["candidates"][0]["content"]["parts"][0]["text"],
       "echo: hello accounts", "compat answer")
    eq(up.requests[-1]["json"]["model"], "up-model", "compat upstream model")
    # countTokens
    r = _ca_post(env, "countTokens", {"request": {"model": "models/gemini-2.5-pro",
                                                   "contents": CA_BODY["request"]["contents"]}})
    eq(r.status, 200, "countTokens (%r)" % r.body[:200])
    check(isinstance(r.json().get("totalTokens"), int), "totalTokens %r" % r.json())
    eq(json.loads(env.ca.requests[-1]["body"]).keys() >= {"request"}, True, "count body")
    # bad input: no model
    r = _ca_post(env, "generateContent", {"request": {"contents": []}})
    eq(r.status, 400, "no model")
    eq(r.json()["error"].get("status"), "INVALID_ARGUMENT", "Gemini error shape")


_NS_CLIENT = r'''
import socket, sys, time
port = int(sys.argv[1])
def ask(src, dst):
    for _ in range(100):
        try:
            s = socket.create_connection((dst, port), timeout=2, source_address=(src, 0))
            break
        except OSError:
            time.sleep(0.05)
    body = b'{"metadata":{}}'
    s.sendall(b"POST /v1internal:loadCodeAssist HTTP/1.1\r\nHost: x\r\nContent-Type: "
              b"application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
              % len(body) + body)
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    print(data.split(b" ")[1].decode(), data.split(b"\r\n\r\n", 1)[1].decode())
ask("10.9.0.1", "10.9.0.1")
ask("127.0.0.1", "127.0.0.1")
'''


def test_v1internal_refuses_non_local_clients():
    """A client from a non-loopback address gets 403 in Gemini's shape; the
    same call from loopback is answered.  Run in a network namespace of
    the test's own (its lo also holds 10.9.0.1), so nothing leaves the
    machine."""
    srv = harness.Server(settings={"host": ""}, label="cli-proxy-api")
    lines = harness.run_in_netns(srv, _NS_CLIENT, [], "10.9.0.1")
    eq(len(lines), 2, "answers %r" % lines)
    st, body = lines[0].split(" ", 1)
    eq(st, "403", "non-loopback client")
    eq(json.loads(body)["error"]["status"], "PERMISSION_DENIED", "Gemini error shape")
    eq(lines[1].split(" ", 1)[0], "200", "loopback client")


def test_accounts_refresh_and_calls_go_through_the_proxy():
    """proxy-url carries both the upstream call and the token refresh
    (users behind a geo-block saw refreshes go direct and fail); an
    account's own proxy_url wins over it."""
    px = mocks.ConnectProxy().start()
    own = mocks.ConnectProxy().start()
    env = Env(start=False, proxy_url=px.url)
    env.mocks += [px, own]
    env.write("codex", filename="codex-p.json", email="p@example.com", access_token="old",
              refresh_token="rt-p", expires_in=-5)
    env.write("qwen", filename="qwen-own.json", email="o@example.com", access_token="qa",
              refresh_token="rt-o", expires_in=-5, proxy_url=own.url,
              resource_url=env.qw.resource_url)
    env.tok.resource_url = env.qw.resource_url   # what the refresh answers
    env.srv.start()
    _content(env.chat("gpt-5"), "codex through proxy-url")
    tok_target = "localhost:%d" % env.tok.port
    check(tok_target in px.connects, "refresh not through proxy-url: %r" % px.connects)
    check("localhost:%d" % env.cx.port in px.connects, "call not through proxy-url")
    _content(env.chat("qwen3-coder-plus"), "qwen through its own proxy")
    check(tok_target in own.connects, "refresh not through the file's proxy_url: %r"
          % own.connects)
    check("localhost:%d" % env.qw.port in own.connects, "call not through the file's proxy")
    check("localhost:%d" % env.qw.port not in px.connects, "proxy-url used over the file's")


def test_accounts_codex_long_tool_names_come_back_whole():
    """Codex takes tool names of 64 bytes at most: longer ones are
    shortened on the way up, and a call of one comes back to an OpenAI or
    Claude client under the name it gave."""
    long_name = "mcp__a_rather_long_server_name__and_an_even_longer_tool_name_for_it"
    check(len(long_name) > 64, "name not long enough")
    env = Env(files=[("codex", dict(email="c@example.com", access_token="cx",
                                    account_id="A"))])
    tools = [{"type": "function", "function": {
        "name": long_name, "description": "d",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}]
    body = dict(OPENAI_BODY, model="gpt-5", tools=tools)
    r = env.srv.request("POST", "/v1/chat/completions", body=body)
    eq(r.status, 200, "first request")
    sent = json.loads(env.cx.requests[-1]["body"])["tools"][0]["name"]
    check(len(sent) <= 64 and sent != long_name, "upstream name %r" % sent)
    env.cx.script([("tool", sent, {"q": "x"})])
    r = env.srv.request("POST", "/v1/chat/completions", body=body)
    eq(r.status, 200, "tool call (%r)" % r.body[:300])
    call = r.json()["choices"][0]["message"]["tool_calls"][0]["function"]
    eq(call["name"], long_name, "the client's name")
    eq(json.loads(call["arguments"]), {"q": "x"}, "arguments")
    # a Claude client too
    env.cx.script([("tool", sent, {"q": "y"})])
    r = env.srv.request("POST", "/v1/messages", body={
        "model": "gpt-5", "max_tokens": 100,
        "tools": [{"name": long_name, "description": "d",
                   "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}],
        "messages": [{"role": "user", "content": "hi"}]})
    eq(r.status, 200, "claude client (%r)" % r.body[:300])
    blocks = [b for b in r.json()["content"] if b["type"] == "tool_use"]
    eq(blocks[0]["name"], long_name, "the Claude client's name")


def test_accounts_codex_api_key_is_the_codex_kind():
    """A [codex-api-key] entry calls the Codex upstream as a login does
    (Responses, always streamed, the key as Bearer, Codex's headers), with
    no account id, and takes turns with a ChatGPT login for the model."""
    env = Env(start=False)
    env.srv.extra = ("[codex-api-key]\napi-key = sk-codex-key\nbase-url = %s\n"
                     % env.cx.base_url) + env.srv.extra
    env.srv.write_config()
    env.write("codex", filename="codex-l.json", email="l@example.com", access_token="cx-login",
              account_id="L")
    env.srv.start()
    seen = []
    for _ in range(2):
        eq(_content(env.chat("gpt-5"), "codex"), "echo: hello accounts", "content")
        r = env.cx.requests[-1]
        seen.append((r["headers"].get("authorization"), r["codex"].get("chatgpt-account-id")))
        eq(json.loads(r["body"]).get("stream"), True, "streamed")
        eq(r["codex"].get("originator"), "codex-tui", "Originator")
    eq(sorted(seen), [("Bearer cx-login", "L"), ("Bearer sk-codex-key", None)],
       "the key and the login in turn")
    _no_secrets(env, ["sk-codex-key"])


def test_accounts_a_token_that_expires_at_once_is_not_a_refresh_loop():
    """A token endpoint answering expires_in 10 (inside the 30 s a request
    waits for a refresh): the request goes on with that token after one
    refresh instead of asking again and again."""
    env = Env(start=False)
    env.write("claude", email="a@example.com", access_token="sk-ant-oat01-old",
              refresh_token="rt-short", expires_in=-5)
    env.tok.script([("ok", {"expires_in": 10})] * 5)
    env.srv.start()
    check(env.tok.wait_requests(1, 3), "no refresh at start-up")  # the background one
    eq(_content(env.chat("claude-sonnet-4-20250514"), "short-lived token"),
       "echo: hello accounts", "content")
    eq(len(env.tok.requests), 2, "refreshes: the background one and the request's")
