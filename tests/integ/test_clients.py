"""The real CLI clients (pinned in clients/package.json: Claude Code 2.1.197,
Gemini CLI 0.61.0, Codex 0.171.0) against the proxy, each on a mock upstream, checking what
the CLI prints and its exit status, and how many requests the upstream got
(a CLI that retries has met an answer it could not use).

  claude -p on a Gemini key (gemini-2.5-pro)       -> mocks_llm.MockGemini
  claude -p on an [openai-compatibility] alias      -> mocks_llm.MockOpenAIChat
  claude -p on a Claude key (claude-*, pass-through) -> mocks_llm.MockClaude
  gemini -p, keepalive-seconds = 1, a 3 s silence mid-stream -> MockGemini
  gemini -p, the upstream sends SSE comment lines (": ping")  -> MockGemini
  claude -p on a Claude Code login (auth-dir)        -> MockClaude, Bearer
  gemini -p in Code Assist mode on a Google login    -> mocks_oauth.MockCodeAssist
  codex exec on a ChatGPT login                      -> mocks_oauth.MockCodex

What the SDK tests miss: Claude Code puts a "role":"system" message into
messages for any model it does not know as a Claude model (see
clients/README.md), and Gemini CLI reads SSE with a regex anchored at the
start of its buffer, so anything but whitespace or a whole "data:" event
there (an SSE comment such as ": keep-alive") is never consumed and the
stream ends as "Incomplete JSON segment at the end", which it retries.

Offline as in the reference notes: a fresh HOME (and TMPDIR) per run,
CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1, Gemini settings.json with usage
statistics, telemetry and auto-update off, NO_PROXY=127.0.0.1,localhost and
HTTPS_PROXY / HTTP_PROXY set to a local mocks.ConnectProxy that refuses every
target off this machine; a test fails if a CLI tried to use it at all.
The tests skip (and say why) only when node is missing; otherwise
clients/install.sh runs first and a missing client fails the test."""

import json
import os
import re
import shutil
import subprocess

import harness
from harness import TestFailure, check, eq
import mocks
import mocks_llm
import mocks_oauth

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS_DIR = os.path.join(HERE, "clients")
BIN_DIR = os.path.join(CLIENTS_DIR, "node_modules", ".bin")

GEMINI_KEY = "gemini-key-clients"
CLAUDE_KEY = "claude-key-clients"
COMPAT_KEY = "compat-key-clients"
CLIENT_KEY = "client-key-clients"     # what the CLIs send the proxy
ALIAS = "kimi-k2"                     # [openai-compatibility] alias
UPSTREAM = "moonshotai/kimi-k2"       # the name the compat upstream gets
ANSWER = "Hello from the mock upstream."
CLI_TIMEOUT = 24                      # seconds; the runner allows 30 a test


# ---------------------------------------------------------------- setup

_installed = []


def _skip(name):
    """Skips the test (harness.skip: counted as skipped, never passed) when
    the clients cannot run here at all; False otherwise."""
    if shutil.which("node") is None:
        harness.skip("node not found on PATH")
    return False


def _install():
    """clients/install.sh once per process; failing here fails the test."""
    if _installed:
        return
    try:
        p = subprocess.run(["sh", os.path.join(CLIENTS_DIR, "install.sh")],
                           capture_output=True, timeout=25, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise TestFailure("clients/install.sh could not run: %r" % (e,))
    check(p.returncode == 0, "clients/install.sh failed (status %d): %s"
          % (p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")[-1500:]))
    _installed.append(True)


def _start(extra, **settings):
    s = {"request-retry": 0, "upstream-connect-timeout": "2s",
         "upstream-first-byte-timeout": "10s", "upstream-read-timeout": "10s"}
    s.update({k.replace("_", "-"): v for k, v in settings.items()})
    return harness.Server(extra=extra, settings=s, label="cli-proxy-api").start()


def _root(srv):
    return "http://127.0.0.1:%d" % srv.port


class _Run:
    def __init__(self, p):
        self.status = p.returncode
        self.out = p.stdout.decode("utf-8", "replace")
        self.err = p.stderr.decode("utf-8", "replace")

    def errors(self):
        """The CLI's own error lines from stderr (no stack frames, terminal
        warnings or report file names), else its stdout."""
        lines = [re.sub(r"Full report available at: \S+ ", "", ln.strip())
                 for ln in self.err.splitlines()]
        keep = [ln for ln in lines if ln and not ln.startswith("at ")
                and not ln.startswith("Warning:") and "Ripgrep" not in ln]
        return " | ".join(keep)[-900:] or self.out.strip()[-300:]


def _run(argv, env_extra, home, what, refused_ok=()):
    """Run one CLI offline; returns _Run.  Every proxy variable points at a
    refusing local proxy that must see nothing (but the targets in
    refused_ok, which it refuses as it does every other)."""
    _install()
    with mocks.ConnectProxy() as guard:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
               "TMPDIR": home, "LANG": "C.UTF-8", "TERM": "dumb", "NO_COLOR": "1",
               "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
               "HTTPS_PROXY": guard.url, "https_proxy": guard.url,
               "HTTP_PROXY": guard.url, "http_proxy": guard.url}
        env.update(env_extra)
        work = os.path.join(home, "project")
        os.makedirs(work, exist_ok=True)
        try:
            p = subprocess.run(argv, env=env, cwd=work, capture_output=True,
                               timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise TestFailure("%s: still running after %ds (stdout %r, stderr %r)"
                              % (what, CLI_TIMEOUT, (e.stdout or b"")[-300:],
                                 (e.stderr or b"")[-600:]))
        except OSError as e:
            raise TestFailure("%s: could not run %s: %r" % (what, argv[0], e))
        tried = [r["target"] for r in guard.requests if r["target"] not in refused_ok]
        check(not tried, "%s: the CLI tried to leave the machine through "
              "HTTPS_PROXY: %r" % (what, tried))
    return _Run(p)


def _claude(srv, model, what, prompt="say hi"):
    home = harness.new_tmpdir()
    return _run([os.path.join(BIN_DIR, "claude"), "-p", prompt, "--model", model],
                {"ANTHROPIC_BASE_URL": _root(srv), "ANTHROPIC_API_KEY": CLIENT_KEY,
                 "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                 "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1",
                 "DISABLE_ERROR_REPORTING": "1",
                 # an error answer fails at once instead of being retried with
                 # back-off for minutes; the upstream count shows any retry
                 "CLAUDE_CODE_MAX_RETRIES": "0"},
                home, what)


def _gemini(srv, model, what, prompt="say hi"):
    home = harness.new_tmpdir()
    os.makedirs(os.path.join(home, ".gemini"))
    with open(os.path.join(home, ".gemini", "settings.json"), "w") as f:
        json.dump({"security": {"auth": {"selectedType": "gemini-api-key"}},
                   "privacy": {"usageStatisticsEnabled": False},
                   # 2 attempts, not 4: a stream the CLI cannot read fails
                   # (with its own error message) within the runner's 30 s,
                   # and the retry still shows in the upstream count
                   "general": {"enableAutoUpdate": False, "maxAttempts": 2},
                   "telemetry": {"enabled": False}}, f)
    return _run([os.path.join(BIN_DIR, "gemini"), "-m", model, "-p", prompt],
                {"GEMINI_API_KEY": CLIENT_KEY, "GOOGLE_GEMINI_BASE_URL": _root(srv),
                 "GEMINI_CLI_TRUST_WORKSPACE": "true"},
                home, what)


def _codex(srv, model, what, prompt="say hi"):
    """codex exec on a custom provider (the wire Codex users point at the
    proxy: POST /v1/responses, stream, ~10 tools); every background call
    (update check, analytics, plugin marketplace) turned off."""
    home = harness.new_tmpdir()
    cdx = os.path.join(home, ".codex")
    os.makedirs(cdx)
    with open(os.path.join(cdx, "config.toml"), "w") as f:
        f.write('model = "%s"\nmodel_provider = "proxy"\n'
                'check_for_update_on_startup = false\n'
                '[analytics]\nenabled = false\n[features]\nplugins = false\n'
                '[model_providers.proxy]\nname = "proxy"\nbase_url = "%s/v1"\n'
                'env_key = "PROXY_KEY"\nwire_api = "responses"\n' % (model, _root(srv)))
    return _run([os.path.join(BIN_DIR, "codex"), "exec", "--skip-git-repo-check", prompt],
                {"CODEX_HOME": cdx, "PROXY_KEY": CLIENT_KEY}, home, what)


def _check_answer(run, up, what):
    """The CLI exited 0, printed exactly ANSWER, and the upstream was asked once."""
    n = len(up.requests)
    if run.status != 0 or run.out.strip() != ANSWER or n != 1:
        raise TestFailure("%s: status %d, stdout %r, %d upstream request(s) (want 0, %r, 1); "
                          "CLI errors: %s" % (what, run.status, run.out[-400:], n, ANSWER,
                                              run.errors()))


# ---------------------------------------------------------------- Claude Code

def test_claude_code_on_gemini_key():
    # Claude Code sends a non-Claude model a "role":"system" message inside
    # messages (after the user turn) with beta mid-conversation-system-2026-04-07.
    if _skip("claude_code_on_gemini_key"):
        return
    what = "claude -p --model gemini-2.5-pro (Gemini key)"
    with mocks_llm.MockGemini() as up:
        up.script([("text", ANSWER)] * 3)
        srv = _start("[endpoints]\ngenerative-language = %s\n" % up.url,
                     generative_language_api_key=GEMINI_KEY)
        run = _claude(srv, "gemini-2.5-pro", what)
        _check_answer(run, up, what)
        r = up.requests[0]
        check(r["path"].startswith("/v1beta/models/gemini-2.5-pro:"),
              "%s: upstream path %r" % (what, r["path"]))
        eq(r["headers"].get("x-goog-api-key"), GEMINI_KEY, what + ": upstream key")
        srv.assert_alive()


def test_claude_code_on_openai_compat_alias():
    if _skip("claude_code_on_openai_compat_alias"):
        return
    what = "claude -p --model %s ([openai-compatibility])" % ALIAS
    with mocks_llm.MockOpenAIChat() as up:
        up.script([("text", ANSWER)] * 3)
        srv = _start("[openai-compatibility]\nname = kimiprov\nbase-url = %s\n"
                     "api-keys = %s\nmodel = %s = %s\n" % (up.base_url, COMPAT_KEY,
                                                          UPSTREAM, ALIAS))
        run = _claude(srv, ALIAS, what)
        _check_answer(run, up, what)
        r = up.requests[0]
        eq(r["path"], "/v1/chat/completions", what + ": upstream path")
        eq(r["json"].get("model"), UPSTREAM, what + ": upstream model")
        eq(r["headers"].get("authorization"), "Bearer " + COMPAT_KEY,
           what + ": upstream key")
        srv.assert_alive()


def test_codex_on_openai_compat_alias_and_claude_key():
    """Codex (Responses, streamed, with its tools) translated to an
    OpenAI-compatible provider and to a Claude key: it exits 0 with the
    upstream's answer as its last message, and the upstream got Codex's
    instructions as its system prompt."""
    if _skip("codex_on_openai_compat_alias_and_claude_key"):
        return
    with mocks_llm.MockOpenAIChat() as oa, mocks_llm.MockClaude() as cl:
        oa.script([("text", ANSWER)] * 3)
        cl.script([("text", ANSWER)] * 3)
        srv = _start("[openai-compatibility]\nname = kimiprov\nbase-url = %s\n"
                     "api-keys = %s\nmodel = %s = %s\n[claude-api-key]\napi-key = %s\n"
                     "base-url = %s\n" % (oa.base_url, COMPAT_KEY, UPSTREAM, ALIAS,
                                           CLAUDE_KEY, cl.url))
        for up, model in ((oa, ALIAS), (cl, "claude-sonnet-4-5")):
            what = "codex exec -m %s" % model
            run = _codex(srv, model, what)
            n = len(up.requests)
            if run.status != 0 or ANSWER not in run.out or n != 1:
                raise TestFailure("%s: status %d, stdout %r, %d upstream request(s); "
                                  "CLI errors: %s" % (what, run.status, run.out[-400:], n,
                                                      run.errors()))
            body = json.dumps(up.requests[0]["json"])
            check("tools" in up.requests[0]["json"], what + ": Codex's tools reached the upstream")
            check(len(body) > 2000, what + ": the upstream got Codex's instructions (%d bytes)"
                  % len(body))
        srv.assert_alive()


def test_claude_code_on_claude_key_pass_through():
    if _skip("claude_code_on_claude_key_pass_through"):
        return
    what = "claude -p --model claude-sonnet-4-5 (Claude key)"
    with mocks_llm.MockClaude() as up:
        up.script([("text", ANSWER)] * 3)
        srv = _start("[claude-api-key]\napi-key = %s\n\n[endpoints]\nclaude = %s\n"
                     % (CLAUDE_KEY, up.url))
        run = _claude(srv, "claude-sonnet-4-5", what)
        _check_answer(run, up, what)
        r = up.requests[0]
        eq(r["path"].split("?", 1)[0], "/v1/messages", what + ": upstream path")
        eq(r["json"].get("model"), "claude-sonnet-4-5", what + ": upstream model")
        eq(r["headers"].get("x-api-key"), CLAUDE_KEY, what + ": upstream key")
        check(CLIENT_KEY not in repr(r["header_list"]),
              "%s: the client's key went upstream" % what)
        srv.assert_alive()


# ---------------------------------------------------------------- Gemini CLI

def _gemini_event(obj):
    # generativelanguage.googleapis.com frames its SSE events with CRLF
    return b"data: " + json.dumps(obj).encode() + b"\r\n\r\n"


def _gemini_halves(model):
    """ANSWER as two Gemini stream chunks, the second one final."""
    half = len("Hello from the")

    def chunk(text, last):
        cand = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
        usage = {"promptTokenCount": 11, "totalTokenCount": 11}
        if last:
            cand["finishReason"] = "STOP"
            usage = {"promptTokenCount": 11, "candidatesTokenCount": 7,
                     "totalTokenCount": 18}
        return _gemini_event({"candidates": [cand], "usageMetadata": usage,
                              "modelVersion": model, "responseId": "mockRespClients"})
    return chunk(ANSWER[:half], False), chunk(ANSWER[half:], True)


def test_gemini_cli_keepalive_during_silence():
    # keepalive-seconds = 1 and 3 s of upstream silence between two chunks:
    # the proxy sends heartbeats, which Gemini CLI must not see as anything
    # (it retries a stream it cannot read: 2 upstream requests).
    if _skip("gemini_cli_keepalive_during_silence"):
        return
    what = "gemini -p through keepalive-seconds = 1 and a 3 s silence"
    model = "gemini-2.5-flash"
    first, second = _gemini_halves(model)
    with mocks_llm.MockGemini() as up:
        up.script([("raw_events", [first, 3.0, second])] * 2)
        srv = _start("[streaming]\nkeepalive-seconds = 1\n\n"
                     "[endpoints]\ngenerative-language = %s\n" % up.url,
                     generative_language_api_key=GEMINI_KEY)
        run = _gemini(srv, model, what)
        _check_answer(run, up, what)
        r = up.requests[0]
        eq(r["path"], "/v1beta/models/%s:streamGenerateContent?alt=sse" % model,
           what + ": upstream path")
        eq(r["headers"].get("x-goog-api-key"), GEMINI_KEY, what + ": upstream key")
        srv.assert_alive()


def test_gemini_cli_upstream_sse_comments_dropped():
    # A relay in front of Gemini may send SSE comment lines; on the way to a
    # Gemini client (same API both sides) the proxy must drop them.
    if _skip("gemini_cli_upstream_sse_comments_dropped"):
        return
    what = "gemini -p, upstream stream with ': ping' comment lines"
    model = "gemini-2.5-flash"
    first, second = _gemini_halves(model)
    with mocks_llm.MockGemini() as up:
        ping = b": ping\r\n\r\n"
        up.script([("raw_events", [ping, first, ping, second, ping])] * 2)
        srv = _start("[endpoints]\ngenerative-language = %s\n" % up.url,
                     generative_language_api_key=GEMINI_KEY)
        run = _gemini(srv, model, what)
        _check_answer(run, up, what)
        srv.assert_alive()


# ---------------------------------------------------------------- on subscription logins

def _login_server(kind, extra, **fields):
    """A server with one account of kind in its auth-dir (mocks_oauth's
    layout of the reference's files)."""
    s = {"request-retry": 0, "upstream-connect-timeout": "2s",
         "upstream-first-byte-timeout": "10s", "upstream-read-timeout": "10s"}
    srv = harness.Server(extra=extra, settings=s, label="cli-proxy-api")
    mocks_oauth.write_auth_file(srv.auth_dir, kind, **fields)
    return srv.start()


def test_claude_code_on_a_claude_code_login():
    """Claude Code's own body goes to a Claude Code login as it is, with
    the login's token as Bearer and the OAuth beta added to its betas."""
    if _skip("claude_code_on_a_claude_code_login"):
        return
    what = "claude -p --model claude-sonnet-4-5 (Claude Code login)"
    with mocks_llm.MockClaude() as up:
        up.valid_tokens = {"sk-ant-oat01-clients"}
        up.script([("text", ANSWER)] * 3)
        srv = _login_server("claude", "[endpoints]\nclaude = %s\n" % up.url,
                            email="me@example.com", access_token="sk-ant-oat01-clients")
        run = _claude(srv, "claude-sonnet-4-5", what)
        _check_answer(run, up, what)
        r = up.requests[0]
        eq(r["headers"].get("authorization"), "Bearer sk-ant-oat01-clients",
           what + ": the login's token")
        check("x-api-key" not in r["headers"], what + ": an x-api-key went upstream")
        check("oauth-2025-04-20" in r["headers"].get("anthropic-beta", ""),
              what + ": betas %r" % r["headers"].get("anthropic-beta"))
        check(CLIENT_KEY not in repr(r["header_list"]),
              "%s: the client's key went upstream" % what)
        srv.assert_alive()


def test_gemini_cli_code_assist_mode_on_a_google_login():
    """Gemini CLI with CODE_ASSIST_ENDPOINT pointed at the proxy: its
    set-up calls reach Code Assist with the login's token, its generation
    call carries the login's project, and it prints the answer."""
    if _skip("gemini_cli_code_assist_mode_on_a_google_login"):
        return
    what = "gemini -p in Code Assist mode (Gemini CLI login)"
    model = "gemini-2.5-flash"
    with mocks_oauth.MockCodeAssist() as up:
        up.valid_tokens = {"ya29.clients"}
        up.project = "proj-login"
        first, second = _gemini_halves(model)
        srv = _login_server("gemini", "[endpoints]\ngemini-cli = %s\n" % up.url,
                            email="me@example.com", project_id="proj-login",
                            access_token="ya29.clients")
        up.answers = {}
        up.script([("text", ANSWER)] * 6)
        home = harness.new_tmpdir()
        os.makedirs(os.path.join(home, ".gemini"))
        with open(os.path.join(home, ".gemini", "settings.json"), "w") as f:
            json.dump({"privacy": {"usageStatisticsEnabled": False},
                       "general": {"enableAutoUpdate": False, "maxAttempts": 2},
                       "telemetry": {"enabled": False}}, f)
        run = _run([os.path.join(BIN_DIR, "gemini"), "-m", model, "-p", "say hi"],
                   {"GOOGLE_GENAI_USE_GCA": "true",
                    "GOOGLE_CLOUD_ACCESS_TOKEN": "anything-the-cli-has",
                    "CODE_ASSIST_ENDPOINT": _root(srv),
                    "GEMINI_CLI_TRUST_WORKSPACE": "true"}, home, what,
                   # its user-info lookup (clients.md): refused, and tolerated
                   refused_ok=("www.googleapis.com:443",))
        gens = [r for r in up.requests if r.get("ca_method") in
                ("generateContent", "streamGenerateContent")]
        if run.status != 0 or run.out.strip() != ANSWER or len(gens) != 1:
            raise TestFailure("%s: status %d, stdout %r, %d generation request(s), methods %r; "
                              "CLI errors: %s" % (what, run.status, run.out[-400:], len(gens),
                                                  [r.get("ca_method") for r in up.requests],
                                                  run.errors()))
        eq(gens[0]["envelope"].get("project"), "proj-login", what + ": project")
        for r in up.requests:
            eq(r["headers"].get("authorization"), "Bearer ya29.clients",
               what + ": token of %s" % r.get("ca_method"))
        srv.assert_alive()


def test_codex_on_a_chatgpt_login():
    if _skip("codex_on_a_chatgpt_login"):
        return
    what = "codex exec -m gpt-5-codex (ChatGPT login)"
    with mocks_oauth.MockCodex() as up:
        up.valid_tokens = {"cx-clients"}
        up.script([("text", ANSWER)] * 3)
        srv = _login_server("codex", "[endpoints]\ncodex = %s\n" % up.base_url,
                            email="me@example.com", access_token="cx-clients",
                            account_id="acct-clients")
        run = _codex(srv, "gpt-5-codex", what)
        n = len(up.requests)
        if run.status != 0 or ANSWER not in run.out or n != 1:
            raise TestFailure("%s: status %d, stdout %r, %d upstream request(s); "
                              "CLI errors: %s" % (what, run.status, run.out[-400:], n,
                                                  run.errors()))
        r = up.requests[0]
        eq(r["codex"].get("chatgpt-account-id"), "acct-clients", what + ": account id")
        body = json.loads(r["body"])
        eq(body.get("stream"), True, what + ": stream")
        check(body.get("tools"), what + ": Codex's tools reached the upstream")
        srv.assert_alive()
