"""Hostile clients and broken upstreams: what outside testing broke, one test
per defect, each of which failed before its fix.

Only 127.0.0.1 is ever contacted."""

import json
import signal
import socket
import time

import harness
from harness import HOST, TestFailure, check, eq
import mocks
from test_upstream import RawUpstream, _start, _body, ALIAS, CHAT


# ------------------------------------------------------------------ helpers

def _cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


def _not_spinning(srv, what):
    a = _cpu_seconds(srv.proc.pid)
    time.sleep(0.5)
    b = _cpu_seconds(srv.proc.pid)
    check(b - a < 0.25, "%s: the server used %.2fs of CPU in 0.5s while idle" % (what, b - a))


def _alive_models(srv, what):
    check(srv.proc.poll() is None, "%s: server died (status %s)" % (what, srv.proc.returncode))
    try:
        r = srv.request("GET", "/v1/models", timeout=2.0)
    except OSError as e:
        raise TestFailure("%s: server no longer answers: %r" % (what, e))
    eq(r.status, 200, "%s: GET /v1/models" % what)


def _request_bytes(path, body, extra=b""):
    raw = json.dumps(body).encode()
    return (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            % path.encode() + extra + b"Content-Length: %d\r\n\r\n" % len(raw) + raw)


def _endless(framing):
    """An upstream handler answering with an endless body."""
    ev = b"data: " + json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1,
                                 "model": "m", "choices": [{"index": 0, "delta":
                                                            {"content": "x" * 2000},
                                                            "finish_reason": None}]}).encode() + b"\n\n"

    def handler(c, head, body):
        if framing == "chunked":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            blk = b"%x\r\n" % (len(ev) * 8) + ev * 8 + b"\r\n"
        elif framing == "length":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 900000000\r\n\r\n")
            blk = b"y" * 16384
        else:  # close-delimited SSE
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
            blk = ev * 8
        try:
            while True:
                c.sendall(blk)
        except OSError:
            pass
    return handler


def _read_then_leave(port, request, amount=200000):
    """Read a while, stop, drain what the kernel holds and close with an empty
    receive buffer (a FIN, not a reset): the server then sees its client
    writable and gone in the same poll round."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    s.settimeout(3)
    s.connect((HOST, port))
    s.sendall(request)
    got = 0
    while got < amount:
        d = s.recv(65536)
        if not d:
            break
        got += len(d)
    time.sleep(0.2)
    s.setblocking(False)
    try:
        while s.recv(1 << 20):
            pass
    except BlockingIOError:
        pass
    s.close()


# ------------------------------------------------ 1. a client leaving mid-relay

def test_client_leaving_an_endless_relay_does_not_freeze_the_server():
    """Pass-through answers in every upstream framing, and a translated
    stream: the client reads for a moment and leaves.  The server must go on
    answering others, idle at no CPU, and stop on SIGTERM."""
    cases = [("chunked", CHAT, _body(stream=True)),
             ("length", CHAT, _body()),
             ("close", CHAT, _body(stream=True)),
             ("chunked", "/v1/messages",
              {"model": ALIAS, "max_tokens": 50, "stream": True,
               "messages": [{"role": "user", "content": "hi"}]})]
    for framing, path, body in cases:
        what = "%s %s" % (framing, path)
        with RawUpstream(_endless(framing)) as up:
            srv = _start(up.base_url, retry=0)
            for _ in range(3):
                _read_then_leave(srv.port, _request_bytes(path, body))
                time.sleep(0.1)
                _alive_models(srv, what)
            _not_spinning(srv, what)
            srv.signal(signal.SIGTERM)
            check(srv.wait_exit(3) is not None, "%s: SIGTERM did not stop the server" % what)


# ------------------------------------------------ 2, 3. model names toward the upstream

GEMINI_KEY = "AIzaHardeningKey"


def _gemini_server(mock, **settings):
    s = {"generative-language-api-key": GEMINI_KEY, "request-retry": 0,
         "upstream-first-byte-timeout": "2s", "upstream-read-timeout": "2s"}
    s.update(settings)
    srv = harness.Server(extra="[endpoints]\ngenerative-language = %s\n" % mock.url,
                         settings=s, label="cli-proxy-api")
    return srv.start()


def _raw_post(srv, path, body_bytes, headers=b""):
    c = srv.connect()
    c.send(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           + headers + b"Content-Length: %d\r\n\r\n" % len(body_bytes) + body_bytes)
    r = c.read_response()
    c.close()
    return r


def _error_of(r, fmt):
    j = r.json()
    if fmt == "openai":
        check(isinstance(j.get("error"), dict) and isinstance(j["error"].get("message"), str),
              "not an OpenAI error: %r" % j)
        return j["error"]["message"]
    if fmt == "claude":
        eq(j.get("type"), "error", "Claude error type")
        return j["error"]["message"]
    check(isinstance(j.get("error"), dict) and isinstance(j["error"].get("code"), int)
          and isinstance(j["error"].get("status"), str), "not a Google error: %r" % j)
    return j["error"]["message"]


def test_crlf_in_a_model_name_never_reaches_the_upstream():
    inj = ("gemini-2.5-pro:generateContent HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n"
           "{}POST /v1beta/models/gemini-X")
    import mocks_llm
    with mocks_llm.MockGemini() as up:
        srv = _gemini_server(up)
        msgs = [{"role": "user", "content": "hi"}]
        cases = [("openai", b"/v1/chat/completions", {"model": inj, "messages": msgs}),
                 ("openai", b"/v1/responses", {"model": inj, "input": "hi"}),
                 ("claude", b"/v1/messages", {"model": inj, "max_tokens": 9, "messages": msgs}),
                 ("claude", b"/v1/messages/count_tokens", {"model": inj, "messages": msgs}),
                 ("openai", b"/v1/chat/completions", {"model": "gemini-a\u0000b", "messages": msgs}),
                 ("openai", b"/v1/chat/completions", {"model": "gemini-a b", "messages": msgs}),
                 ("openai", b"/v1/chat/completions", {"model": "gemini-" + "x" * 300,
                                                      "messages": msgs})]
        for fmt, path, body in cases:
            r = _raw_post(srv, path, json.dumps(body).encode())
            eq(r.status, 400, "%s with a bad model name (body %r)" % (path, r.body[:200]))
            msg = _error_of(r, fmt)
            check("model" in msg, "the error does not say what is wrong: %r" % msg)
            check("\r" not in msg and "Host: x" not in msg, "the error repeats the name: %r" % msg)
        # the same through the Gemini path, percent-encoded
        gpath = (b"/v1beta/models/gemini-2.5-pro%3AgenerateContent%20HTTP/1.1%0D%0AHost:%20x"
                 b"%0D%0A%0D%0A:generateContent")
        r = _raw_post(srv, gpath, b'{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}')
        eq(r.status, 400, "Gemini path with CRLF in the model")
        _error_of(r, "gemini")
        eq(len(up.requests), 0, "requests that reached the upstream")
        # a valid name with characters a path must not carry raw is encoded
        r = _raw_post(srv, b"/v1/chat/completions", json.dumps(
            {"model": "gemini-2.5-pro:x@y", "messages": msgs}).encode())
        eq(r.status, 200, "a name with ':' and '@' (body %r)" % r.body[:200])
        eq(up.requests[-1]["path"],
           "/v1beta/models/gemini-2.5-pro%3Ax%40y:generateContent", "upstream path")
        # the Gemini route takes the method after the last colon
        r = _raw_post(srv, b"/v1beta/models/gemini-2.5-pro:x:generateContent",
                      b'{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}')
        eq(r.status, 200, "Gemini path with a colon in the model (body %r)" % r.body[:200])
        eq(up.requests[-1]["path"],
           "/v1beta/models/gemini-2.5-pro%3Ax:generateContent", "upstream path")


def test_dot_segments_and_encoded_slashes_in_model_names_are_refused():
    import mocks_llm
    with mocks_llm.MockGemini() as up:
        srv = _gemini_server(up)
        body = b'{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}'
        for path in (b"/v1beta/models/gemini-x/../../../v1beta/other:generateContent",
                     b"/v1beta/models/gemini-x/./y:generateContent",
                     b"/v1beta/models/gemini-x//y:generateContent",
                     b"/v1beta/models/gemini-x%2F..%2F..%2Fother:generateContent",
                     b"/v1beta/models/gemini-x%2f..:streamGenerateContent?alt=sse",
                     b"/v1beta/models/gemini-x/%2E%2E/y:generateContent",
                     b"/v1/models/gemini-x/../../other:generateContent",
                     b"/v1beta/models/gemini-x/..:countTokens"):
            r = _raw_post(srv, path, body)
            eq(r.status, 400, "%s (body %r)" % (path, r.body[:200]))
            _error_of(r, "gemini")
        for name in ("gemini-x/../../other", "gemini-x/..", "gemini-x/./y", "gemini-/x"):
            r = _raw_post(srv, b"/v1/chat/completions", json.dumps(
                {"model": name, "messages": [{"role": "user", "content": "hi"}]}).encode())
            check(r.status == 400 or (name == "gemini-/x" and r.status == 200),
                  "model %r: status %d (body %r)" % (name, r.status, r.body[:200]))
        for q in up.requests:
            check(".." not in q["path"] and "/./" not in q["path"],
                  "upstream path has a dot segment: %r" % q["path"])
        eq(len(up.requests), 1, "requests that reached the upstream")
        eq(up.requests[0]["path"], "/v1beta/models/gemini-%2Fx:generateContent",
           "upstream path of a name holding '/'")


# ------------------------------------------------ 2. pooled connections with stray bytes

class KeepAliveUpstream:
    """An OpenAI-compatible upstream on keep-alive connections, answering
    each request with answer(n) where n counts requests; extra(n) bytes are
    sent right after the answer, and late(n) bytes 0.1 s later."""

    def __init__(self, extra=None, late=None):
        import threading
        self.extra = extra or (lambda n: b"")
        self.late = late or (lambda n: b"")
        self.n = 0
        self.conns = 0
        self.paths = []
        self.lsock = socket.socket()
        self.lsock.bind((HOST, 0))
        self.lsock.listen(16)
        self.lsock.settimeout(0.1)
        self.base_url = "http://127.0.0.1:%d/v1" % self.lsock.getsockname()[1]
        self._stop = False
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    @staticmethod
    def answer(n, tag=None):
        body = json.dumps({"id": "a%d" % n, "object": "chat.completion", "created": 1,
                           "model": "m", "choices": [{"index": 0, "finish_reason": "stop",
                                                      "message": {"role": "assistant",
                                                                  "content": tag or "answer %d" % n}}]}
                          ).encode()
        return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % len(body) + body)

    def _loop(self):
        import threading
        while not self._stop:
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.conns += 1
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        buf = b""
        c.settimeout(3)
        try:
            while not self._stop:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, _, buf = buf.partition(b"\r\n\r\n")
                n = 0
                for ln in head.split(b"\r\n")[1:]:
                    k, _, v = ln.partition(b":")
                    if k.strip().lower() == b"content-length":
                        n = int(v)
                while len(buf) < n:
                    buf += c.recv(65536)
                buf = buf[n:]
                self.paths.append(head.split(b" ")[1])
                self.n += 1
                c.sendall(self.answer(self.n) + self.extra(self.n))
                late = self.late(self.n)
                if late:
                    time.sleep(0.1)
                    c.sendall(late)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self._stop = True
        self.lsock.close()


def test_a_pooled_connection_with_stray_bytes_is_never_reused():
    smuggled = KeepAliveUpstream.answer(99, "INJECTED")
    for kind in ("extra", "late"):
        up = KeepAliveUpstream(**{kind: lambda n: smuggled if n == 1 else b""})
        try:
            srv = _start(up.base_url, retry=0)
            texts = []
            for i in range(3):
                r = srv.post(CHAT, _body())
                eq(r.status, 200, "%s: request %d" % (kind, i))
                texts.append(r.json()["choices"][0]["message"]["content"])
                time.sleep(0.3)
            check("INJECTED" not in texts, "%s: a client got the smuggled answer: %r"
                  % (kind, texts))
            eq(texts, ["answer 1", "answer 2", "answer 3"], "%s: answers" % kind)
            eq(up.conns, 2, "%s: upstream connections (the tainted one dropped)" % kind)
        finally:
            up.close()


# ------------------------------------------------ 4. clients without a key

def test_a_client_without_a_key_is_refused_before_its_body():
    srv = harness.start_server(api_keys="good-key", max_connections=16)
    for hdrs, what in ((b"", "no key"), (b"Authorization: Bearer bad\r\n", "wrong key"),
                       (b"Expect: 100-continue\r\n", "no key, Expect: 100-continue"),
                       (b"x-api-key: bad\r\nTransfer-Encoding: chunked\r\n", "chunked")):
        c = srv.connect()
        cl = b"" if b"chunked" in hdrs else b"Content-Length: 8000000\r\n"
        c.send(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\n" + hdrs + cl + b"\r\n")
        r = c.read_response(timeout=1.0)
        eq(r.status, 401, "%s: status before any body byte" % what)
        eq(r.header("connection"), "close", "%s: Connection header" % what)
        eq(r.json().get("type"), "error", "%s: a Claude error" % what)
        closed, extra = c.wait_closed(3.0)
        check(closed and not extra, "%s: connection not closed after the 401 (extra %r)"
              % (what, extra[:100]))
    # many refused clients do not lock out a client with the key
    socks = []
    for _ in range(40):
        c = srv.connect()
        c.send(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(c)
    for c in socks:
        eq(c.read_response(timeout=2).status, 401, "keyless GET")
    r = srv.request("GET", "/v1/models", headers={"Authorization": "Bearer good-key"},
                    timeout=2)
    eq(r.status, 200, "a client with the key after 40 refused ones")
    # a client with the key still sends its body
    r = srv.request("POST", "/v1/chat/completions", body={"model": "nope", "messages": []},
                    headers={"Authorization": "Bearer good-key"})
    eq(r.status, 404, "a client with the key reaches the route")


def test_idle_keep_alive_clients_do_not_lock_out_new_ones():
    srv = harness.start_server(max_connections=8)
    idle = [srv.connect() for _ in range(8)]
    for c in idle:
        eq(c.request(harness.req("GET", "/")).status, 200, "idle client's first request")
    for i in range(12):
        r = srv.request("GET", "/v1/models", timeout=2)
        eq(r.status, 200, "new client %d at the cap" % i)


# ------------------------------------------------ 9. Gemini streams carry data lines only

def test_gemini_clients_get_only_data_lines_and_newline_heartbeats():
    ev1 = b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"a"}]}}]}\r\n\r\n'
    ev2 = b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"b"}]}}]}\r\n\r\n'

    def handler(c, head, body):
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                  b"Connection: close\r\n\r\n" + b": ping\r\n\r\n" + ev1 +
                  b"event: x\r\n: note\r\n" + ev2[:20])
        time.sleep(2.5)  # a silence: heartbeats go out
        c.sendall(ev2[20:] + b": bye\n\n")

    with RawUpstream(handler) as up:
        srv = harness.Server(
            extra="[endpoints]\ngenerative-language = http://127.0.0.1:%d\n"
                  "[streaming]\nkeepalive-seconds = 1\n" % up.port,
            settings={"generative-language-api-key": GEMINI_KEY, "request-retry": 0,
                      "upstream-read-timeout": "5s"}, label="cli-proxy-api").start()
        r = srv.request("POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                        body={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
                        timeout=8)
        eq(r.status, 200, "status")
        data = r.body
        check(b":" not in data.replace(b"data:", b"").split(b"{", 1)[0],
              "a comment reached the Gemini client: %r" % data[:200])
        lines = [ln for ln in data.split(b"\n") if ln.strip()]
        check(all(ln.startswith(b"data: ") for ln in lines),
              "non-data lines reached the Gemini client: %r" % data)
        check(data.replace(b"\n", b"").replace(b"\r", b"") ==
              (ev1 + ev2).replace(b"\n", b"").replace(b"\r", b""),
              "events changed: %r" % data)
        check(data.startswith(ev1), "the first event is not byte-exact: %r" % data[:120])
        check(b"\r\n\r\n\n" in data, "no newline heartbeat in the silence: %r" % data)


# ------------------------------------------------ 5. translated answers are bounded

def _vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith(key + ":"):
                return int(ln.split()[1])
    return None


def test_endless_translated_answers_fail_promptly_within_the_budget():
    """Four Claude clients on an endless non-stream upstream, and a stream
    whose SSE line never ends: each gets a prompt 5xx in its format, and the
    process stays small (the buffers are charged to max-body-total)."""
    import threading
    ev_head = b"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\""

    def endless_line(c, head, body):
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        blk = b"x" * 65536
        try:
            c.sendall(b"%x\r\n" % len(ev_head) + ev_head + b"\r\n")
            while True:
                c.sendall(b"%x\r\n" % len(blk) + blk + b"\r\n")
        except OSError:
            pass

    claude = {"model": ALIAS, "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
    with RawUpstream(_endless("length")) as up:
        srv = _start(up.base_url, retry=0)
        results = [None] * 4

        def one(i):
            t0 = time.monotonic()
            try:
                r = srv.request("POST", "/v1/messages", body=claude, timeout=15)
                results[i] = (r.status, r.json(), time.monotonic() - t0)
            except Exception as e:  # reported below
                results[i] = (None, repr(e), time.monotonic() - t0)
        ts = [threading.Thread(target=one, args=(i,)) for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(20)
        for st, j, dt in results:
            check(st in (502, 503), "status %r (%r)" % (st, j))
            eq(j.get("type"), "error", "a Claude error")
            check(dt < 8, "the answer took %.1fs" % dt)
        peak = _vm(srv.proc.pid, "VmHWM")
        check(harness.sanitized() or (peak is not None and peak < 80 * 1024),
              "peak RSS %s kB" % peak)
        print("    (peak RSS %d kB)" % peak)
        _alive_models(srv, "after the endless answers")
    with RawUpstream(endless_line) as up:
        srv = _start(up.base_url, retry=0)
        t0 = time.monotonic()
        r = srv.request("POST", "/v1/messages", body=dict(claude, stream=True), timeout=15)
        dt = time.monotonic() - t0
        check(r.status == 502 or (r.status == 200 and b"event: error" in r.body),
              "endless SSE line: %d %r" % (r.status, r.body[:300]))
        check(dt < 8, "the answer to an endless SSE line took %.1fs" % dt)
        _alive_models(srv, "after the endless line")


# ------------------------------------------------ 10. one number reader for every codec

def test_max_tokens_means_the_same_in_every_client_format():
    import mocks_llm
    with mocks_llm.MockGemini() as up:
        srv = _gemini_server(up)
        model = "gemini-2.5-flash"
        msgs = [{"role": "user", "content": "hi"}]

        def claude(n):
            return "/v1/messages", b'{"model":"%s","max_tokens":%s,"messages":%s}' % (
                model.encode(), n, json.dumps(msgs).encode())

        def openai(n):
            return "/v1/chat/completions", b'{"model":"%s","max_tokens":%s,"messages":%s}' % (
                model.encode(), n, json.dumps(msgs).encode())

        def responses(n):
            return "/v1/responses", b'{"model":"%s","max_output_tokens":%s,"input":"hi"}' % (
                model.encode(), n)

        for build, fmt in ((claude, "claude"), (openai, "openai"), (responses, "openai")):
            for n in (b"1e3", b"1000.0", b"1000"):
                path, body = build(n)
                r = _raw_post(srv, path.encode(), body)
                eq(r.status, 200, "%s max tokens %s (body %r)" % (path, n, r.body[:200]))
                eq(up.requests[-1]["json"]["generationConfig"].get("maxOutputTokens"), 1000,
                   "%s max tokens %s upstream" % (path, n))
            for n in (b"1.5", b"-3", b"1e12"):
                path, body = build(n)
                r = _raw_post(srv, path.encode(), body)
                eq(r.status, 400, "%s max tokens %s" % (path, n))
                check("max" in _error_of(r, fmt), "%s: the error names the field" % path)


# ------------------------------------------------ issue 9: one budget

def test_parsed_tokens_and_the_view_count_against_max_body_total():
    """A 60 KB body of tiny JSON values parses into ~20,000 tokens (over
    300 KB): with max-body-total at 200 KB the body fits, its tokens do not.
    A translated request gets a 503 in its format at once and nothing
    reaches the upstream; the same body passed through (an OpenAI client on
    an OpenAI-compatible provider is only scanned, never tokenised) is
    served, and so is a small request after."""
    hits = []

    def handler(c, head, body):
        hits.append(1)
        ans = json.dumps({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
                          "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                       "finish_reason": "stop"}]}).encode()
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(ans) + ans)

    with RawUpstream(handler) as up:
        srv = _start(up.base_url, retry=0, max_body_size="100k", max_body_total="200k")
        many = ",".join(["1"] * 20000)
        body = {"model": ALIAS, "max_tokens": 5,
                "messages": [{"role": "user", "content": "hi"}], "metadata": {"x": []}}
        raw = json.dumps(body).replace('"x": []', '"x": [%s]' % many).encode()
        check(len(raw) < 100 * 1024, "test body too large: %d" % len(raw))
        for path, fmt in (("/v1/messages", "claude"), ("/v1/responses", "openai")):
            c = srv.connect()
            c.send(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: "
                   b"application/json\r\nContent-Length: %d\r\n\r\n" % len(raw) + raw)
            r = c.read_response()
            c.close()
            eq(r.status, 503, "%s: tokens over the budget" % path)
            j = r.json()
            if fmt == "claude":
                eq(j.get("type"), "error", "a Claude error")
            else:
                check(isinstance(j["error"].get("code"), str), "OpenAI code is a string: %r" % j)
        eq(len(hits), 0, "nothing reached the upstream")
        c = srv.connect()
        c.send(b"POST " + CHAT.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: "
               b"application/json\r\nContent-Length: %d\r\n\r\n" % len(raw) + raw)
        r = c.read_response()
        c.close()
        eq(r.status, 200, "the same body passed through")
        r = srv.request("POST", "/v1/messages", body={
            "model": ALIAS, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]})
        eq(r.status, 200, "a small request after")
