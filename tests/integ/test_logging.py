"""What the server writes on stderr: access lines, and never a secret."""

import signal
import time

from harness import check, eq, start_server, model_body, free_port

DEAD = "http://127.0.0.1:%d" % free_port()


def _lines_with(text, needle):
    return [ln for ln in text.splitlines() if needle in ln]


def test_one_access_line_per_request_with_method_path_status():
    srv = start_server()
    srv.get("/v1beta/models/log-probe-one?alt=sse&foo=bar-query-marker")
    srv.post("/v1/chat/completions", model_body("m"), headers={"X-Probe": "1"})
    srv.request("GET", "/log-probe-unknown-path")
    c = srv.connect()
    c.request(b"POST /v1/models HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")

    want = [("GET", "/v1beta/models/log-probe-one", "404"),
            ("GET", "/log-probe-unknown-path", "404"),
            ("POST", "/v1/models", "405")]
    text = srv.wait_stderr(lambda t: all(p in t for _, p, _ in want), 2.0) or srv.stderr_text()
    for method, path, status in want:
        lines = [ln for ln in _lines_with(text, path)
                 if (path + "/") not in ln and (path + ":") not in ln]
        lines = [ln for ln in lines if method in ln]
        eq(len(lines), 1, "access lines for %s %s (stderr lines naming the path: %r)"
           % (method, path, _lines_with(text, path)))
        check(status in lines[0], "access line %r lacks status %s" % (lines[0], status))
    chat = [ln for ln in _lines_with(text, "/v1/chat/completions") if "POST" in ln]
    eq(len(chat), 1, "access lines for POST /v1/chat/completions")
    check("404" in chat[0], "access line %r lacks status 404" % chat[0])
    eq(_lines_with(text, "bar-query-marker"), [], "lines showing the query string")


SECRETS = {
    "api-keys": "sk-SECRET-client-key-0001",
    "claude": "sk-SECRET-claude-key-0002",
    "codex": "sk-SECRET-codex-key-0003",
    "mgmt": "sk-SECRET-management-0004",
    "gl": "sk-SECRET-gemini-key-0005",
    "compat": "sk-SECRET-compat-key-0006",
    "query-wrong": "sk-SECRET-query-wrong-0007",
    "bearer-wrong": "sk-SECRET-bearer-wrong-0008",
    "xapi-wrong": "sk-SECRET-xapi-wrong-0009",
}


def _secret_server(**settings):
    extra = """
[remote-management]
allow-remote = false
secret-key = {mgmt}

[claude-api-key]
api-key = {claude}
base-url = {dead}

[codex-api-key]
api-key = {codex}
base-url = {dead}

[openai-compatibility]
name = prov
base-url = {dead}
api-keys = {compat}
model = up = alias-x

[endpoints]
generative-language = {dead}
""".format(dead=DEAD, **SECRETS)
    return start_server(extra=extra, api_keys=SECRETS["api-keys"],
                        generative_language_api_key=SECRETS["gl"], **settings)


def _exercise_keys(srv):
    good = SECRETS["api-keys"]
    reqs = [
        ("GET", "/v1/models?key=" + good, {}),
        ("GET", "/v1beta/models?key=" + SECRETS["query-wrong"], {}),
        ("GET", "/v1/models", {"Authorization": "Bearer " + good}),
        ("GET", "/v1/models", {"Authorization": "Bearer " + SECRETS["bearer-wrong"]}),
        ("GET", "/v1/models", {"x-api-key": good}),
        ("POST", "/v1/messages", {"x-api-key": SECRETS["xapi-wrong"]}),
        ("GET", "/v1beta/models", {"x-goog-api-key": good}),
        ("POST", "/v1/messages", {"x-api-key": good}),            # configured model: upstream path
        ("POST", "/v1/chat/completions?key=" + good, {}),        # alias of the compat provider
    ]
    statuses = []
    for method, path, headers in reqs:
        body = None
        if method == "POST":
            body = model_body("alias-x" if "chat" in path else "claude-sonnet-4-20250514")
        statuses.append(srv.request(method, path, body=body, headers=headers).status)
    eq(statuses[:7], [200, 401, 200, 401, 200, 401, 200], "statuses of the key probes")


def _assert_no_secret(srv):
    time.sleep(0.2)
    text = srv.stderr_text()
    leaked = [name for name, v in SECRETS.items() if v in text]
    check("sk-SECRET" not in text and not leaked,
          "secrets on stderr: %s; lines: %r" % (leaked, _lines_with(text, "sk-SECRET")[:5]))


def test_no_secret_on_stderr():
    srv = _secret_server()
    _exercise_keys(srv)
    _assert_no_secret(srv)


def test_no_secret_on_stderr_with_debug_and_request_log():
    srv = _secret_server(debug="true", request_log="true")
    _exercise_keys(srv)
    srv.signal(signal.SIGHUP)
    time.sleep(0.3)
    _exercise_keys(srv)
    srv.stop()
    _assert_no_secret(srv)


def test_no_secret_in_config_error_on_sighup():
    srv = _secret_server()
    srv.write_config(text=open(srv.config_path).read() +
                     "\n[claude-api-key]\napi-key = sk-SECRET-claude-key-0002\nbogus-key = sk-SECRET-bogus-value\n")
    srv.signal(signal.SIGHUP)
    text = srv.wait_stderr(srv.config_path + ":", 2.0)
    check(text is not None, "no config error on stderr after SIGHUP with a bad config")
    check("sk-SECRET" not in text, "secret on stderr: %r" % _lines_with(text, "sk-SECRET")[:5])
