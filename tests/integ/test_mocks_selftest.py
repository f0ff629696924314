"""Self-tests of the test doubles in mocks.py, mocks_llm.py (credential
check), mocks_oauth.py, testca.py and sdk/, driven by Python's own clients
(and the pinned OpenAI Node.js SDK).  No server binary."""

import http.client
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
import urllib.parse

import harness
from harness import check, eq, TestFailure
import mocks
import mocks_llm
import mocks_oauth
import testca

HOST = "127.0.0.1"
CHAT = "/v1/chat/completions"
SDK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sdk")


def _chat(content="hi", model="m-1", stream=False):
    return json.dumps({"model": model, "stream": stream,
                       "messages": [{"role": "system", "content": "sys"},
                                    {"role": "user", "content": content}]}).encode()


def _post(hc, path, body, headers=None, **kw):
    h = {"Content-Type": "application/json", "Authorization": "Bearer k-test"}
    h.update(headers or {})
    hc.request("POST", path, body=body, headers=h, **kw)
    return hc.getresponse()


def _events(raw):
    """data: payloads of an SSE body."""
    return [e[len(b"data: "):] for e in raw.split(b"\n\n") if e.startswith(b"data: ")]


def _dechunk(body):
    """Split a complete chunked body into its chunks (the last one b'')."""
    out = []
    while True:
        line, _, body = body.partition(b"\r\n")
        n = int(line, 16)
        out.append(body[:n])
        if n == 0:
            return out
        check(body[n:n + 2] == b"\r\n", "bad chunk framing: %r" % body[:n + 10])
        body = body[n + 2:]


def _raw_request(sock, path, body, extra=""):
    sock.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  "Content-Length: %d\r\n%s\r\n" % (path, len(body), extra)).encode() + body)


def _recv_all(sock, timeout=3.0):
    sock.settimeout(timeout)
    out = b""
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                return out, "eof"
            out += d
    except ConnectionResetError:
        return out, "reset"
    except socket.timeout:
        return out, "timeout"


# ------------------------------------------------------------ MockOpenAI

def test_mock_keepalive_echo_and_chunked_body():
    with mocks.MockOpenAI() as up:
        hc = http.client.HTTPConnection(HOST, up.port, timeout=5)
        r = _post(hc, CHAT, _chat("hello there", model="gpt-x"))
        eq(r.status, 200, "status")
        j = json.loads(r.read())
        eq(j["object"], "chat.completion", "object")
        eq(j["model"], "gpt-x", "echoed model")
        eq(j["choices"][0]["message"]["content"], "echo: hello there", "content")
        check(j["usage"]["total_tokens"] > 0, "usage missing: %r" % j)
        # a chunked request body on the same connection
        r = _post(hc, CHAT, iter([_chat("chunked")[:10], _chat("chunked")[10:]]),
                  encode_chunked=True)
        eq(json.loads(r.read())["choices"][0]["message"]["content"], "echo: chunked",
           "content of a chunked request")
        r = _post(hc, "/v1/completions", json.dumps({"model": "t", "prompt": "p"}).encode())
        j = json.loads(r.read())
        eq((j["object"], j["choices"][0]["text"]), ("text_completion", "echo: p"), "completion")
        r = _post(hc, "/nope", b"{}")
        r.read()
        eq(r.status, 404, "unknown path")
        hc.close()
        eq(up.connections_accepted, 1, "connections for 4 keep-alive requests")
        eq(len(up.requests), 4, "requests recorded")
        eq(up.requests[1]["headers"].get("transfer-encoding"), "chunked", "TE recorded")
        eq(up.requests[1]["json"]["messages"][1]["content"], "chunked", "decoded body")
        eq(up.auth_keys_seen, ["k-test"] * 4, "bearer tokens")
        eq({q["conn_id"] for q in up.requests}, {1}, "conn ids")
        # a second connection is counted
        hc = http.client.HTTPConnection(HOST, up.port, timeout=5)
        _post(hc, CHAT, _chat()).read()
        hc.close()
        eq(up.connections_accepted, 2, "connections after a new client")


def test_mock_stream_is_chunked_sse():
    with mocks.MockOpenAI() as up:
        s = socket.create_connection((HOST, up.port))
        _raw_request(s, CHAT, _chat(stream=True), "Connection: close\r\n")
        raw, how = _recv_all(s)
        s.close()
        eq(how, "eof", "end of a Connection: close stream")
        head, _, body = raw.partition(b"\r\n\r\n")
        check(b"Transfer-Encoding: chunked" in head and b"text/event-stream" in head,
              "stream head: %r" % head)
        check(body.endswith(b"\r\n0\r\n\r\n"), "no terminating chunk: %r" % body[-40:])
        chunks = _dechunk(body)
        eq(len(chunks), 5 + 2 + 1, "chunks (5 content, final, [DONE], last-chunk)")
        check(all(c.startswith(b"data: ") and c.endswith(b"\n\n") for c in chunks[:-1]),
              "not one event per chunk: %r" % chunks[:2])
        hc = http.client.HTTPConnection(HOST, up.port, timeout=5)
        r = _post(hc, CHAT, _chat(stream=True))
        ev = _events(r.read())
        eq(len(ev), 5 + 2, "events (5 content, final, [DONE])")
        eq(ev[-1], b"[DONE]", "last event")
        chunks = [json.loads(e) for e in ev[:-1]]
        eq("".join(c["choices"][0]["delta"].get("content", "") for c in chunks),
           "tok0 tok1 tok2 tok3 tok4 ", "content")
        eq(chunks[-1]["choices"][0]["finish_reason"], "stop", "finish_reason")
        check("usage" in chunks[-1], "no usage in the final chunk")
        eq(chunks[0]["object"], "chat.completion.chunk", "object")
        up.script([("stream_big", 500), ("stream", 3, 0.05)])
        ev = _events(_post(hc, CHAT, _chat(stream=True)).read())
        eq(len(ev), 502, "stream_big events")
        t0 = time.monotonic()
        ev = _events(_post(hc, CHAT, _chat(stream=True)).read())
        eq(len(ev), 5, "scripted stream events")
        check(time.monotonic() - t0 >= 0.09, "delays between chunks missing")
        hc.close()
        eq(up.connections_accepted, 2, "connections (1 raw + 1 keep-alive)")


def test_mock_reset_after_leaves_incomplete_chunked_body():
    with mocks.MockOpenAI() as up:
        up.script([("reset_after", 2)])
        s = socket.create_connection((HOST, up.port))
        _raw_request(s, CHAT, _chat(stream=True))
        raw, how = _recv_all(s)
        s.close()
        check(how in ("reset", "eof"), "connection not closed: %s" % how)
        body = raw.partition(b"\r\n\r\n")[2]
        eq(body.count(b"data: "), 2, "chunks before the reset")
        check(not body.endswith(b"0\r\n\r\n"), "terminating chunk sent despite reset")
        up.script([("reset_after", 1)])
        hc = http.client.HTTPConnection(HOST, up.port, timeout=5)
        r = _post(hc, CHAT, _chat(stream=True))
        try:
            r.read()
            raise TestFailure("http.client read a complete body after reset_after")
        except (http.client.IncompleteRead, ConnectionResetError):
            pass
        hc.close()


def test_mock_status_close_delimited_and_content_length_scripts():
    with mocks.MockOpenAI() as up:
        up.headers_to_send["X-Mock"] = "1"
        up.script([("status", 500, {"error": {"message": "boom"}}),
                   ("status", 429, {"error": {"message": "slow"}}, {"Retry-After": "1"}),
                   ("content_length", {"fixed": True}),
                   ("close_delimited", "plain text body")])
        hc = http.client.HTTPConnection(HOST, up.port, timeout=5)
        r = _post(hc, CHAT, _chat())
        eq((r.status, json.loads(r.read())["error"]["message"]), (500, "boom"), "scripted 500")
        eq(r.getheader("X-Mock"), "1", "headers_to_send")
        r = _post(hc, CHAT, _chat())
        eq((r.status, r.getheader("Retry-After")), (429, "1"), "scripted 429")
        r.read()
        eq(json.loads(_post(hc, CHAT, _chat()).read()), {"fixed": True}, "content_length")
        r = _post(hc, CHAT, _chat())
        check(r.getheader("Content-Length") is None and r.getheader("Transfer-Encoding") is None,
              "close_delimited has framing headers: %r" % r.getheaders())
        eq(r.read(), b"plain text body", "close-delimited body")
        hc.close()
        eq(up.connections_accepted, 1, "connections")
        eq(up.pending_script(), [], "script left")
        hc = http.client.HTTPConnection(HOST, up.port, timeout=5)
        eq(_post(hc, CHAT, _chat()).status, 200, "default after the script")
        hc.close()
        try:
            up.script([("bogus",)])
            raise TestFailure("unknown behaviour accepted")
        except ValueError:
            pass


def test_mock_hang_and_slow_stream_record_client_close():
    with mocks.MockOpenAI() as up:
        up.script([("hang",), ("slow_stream", 100, 0.2)])
        s = socket.create_connection((HOST, up.port))
        _raw_request(s, CHAT, _chat())
        check(up.wait_requests(1, 2), "hang request not recorded")
        raw, how = _recv_all(s, 0.3)
        eq((raw, how), (b"", "timeout"), "hang answered")
        closed = time.monotonic()
        s.close()
        check(up.wait_client_closed(1, 2), "client close during hang not recorded")
        check(up.client_closed_at[0] - closed < 0.5, "close noticed late")
        s = socket.create_connection((HOST, up.port))
        _raw_request(s, CHAT, _chat(stream=True))
        s.settimeout(3)
        got = b""
        while b"tok1" not in got:
            got += s.recv(4096)
        closed = time.monotonic()
        s.close()
        check(up.wait_client_closed(2, 2), "client close during slow_stream not recorded")
        check(up.client_closed_at[1] - closed < 0.5,
              "slow_stream close noticed after %.2fs" % (up.client_closed_at[1] - closed))
    check(not any(t.is_alive() for t in up._threads), "threads left after stop")


def test_mock_tls_with_test_ca():
    pki = testca.shared_pki()
    for cert, key in ((pki["server_cert"], pki["server_key"]),
                      (pki["server_rsa_cert"], pki["server_rsa_key"])):
        with mocks.MockOpenAI(tls=mocks.server_context(cert, key)) as up:
            check(up.url.startswith("https://localhost:"), "url %s" % up.url)
            hc = http.client.HTTPSConnection("localhost", up.port, timeout=5,
                                             context=mocks.client_context(pki["ca_cert"]))
            for stream in (False, True):
                r = _post(hc, CHAT, _chat(stream=stream))
                eq(r.status, 200, "status over TLS")
                r.read()
            hc.close()
            eq(up.connections_accepted, 1, "TLS keep-alive connections")
            eq(up.tls_handshakes[0]["sni"], "localhost", "SNI seen by the mock")
            # the IP SAN works too
            hc = http.client.HTTPSConnection(HOST, up.port, timeout=5,
                                             context=mocks.client_context(pki["ca_cert"]))
            eq(_post(hc, CHAT, _chat()).status, 200, "status via IP SAN")
            hc.close()
    # a certificate from the wrong CA fails verification on both sides
    with mocks.MockOpenAI(tls=mocks.server_context(pki["wrong_server_cert"],
                                                   pki["wrong_server_key"])) as up:
        hc = http.client.HTTPSConnection("localhost", up.port, timeout=5,
                                         context=mocks.client_context(pki["ca_cert"]))
        try:
            _post(hc, CHAT, _chat())
            raise TestFailure("certificate from the wrong CA accepted")
        except ssl.SSLCertVerificationError:
            pass
        hc.close()
        deadline = time.monotonic() + 2
        while not up.tls_errors and time.monotonic() < deadline:
            time.sleep(0.01)
        check(up.tls_errors, "mock did not record the failed handshake")
        eq(up.requests, [], "requests over a failed handshake")
    # TLS 1.2 only and TLS 1.3 only servers
    for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = mocks.server_context(pki["server_cert"], pki["server_key"], min_version=v,
                                   max_version=v)
        with mocks.MockOpenAI(tls=ctx) as up:
            hc = http.client.HTTPSConnection("localhost", up.port, timeout=5,
                                             context=mocks.client_context(pki["ca_cert"]))
            eq(_post(hc, CHAT, _chat()).status, 200, "status with %s" % v.name)
            hc.close()
            eq(up.tls_handshakes[0]["version"], v.name.replace("_", "."),
               "negotiated version")


# ------------------------------------------------------------ proxies

def test_connect_proxy_tunnel_absolute_form_and_auth():
    pki = testca.shared_pki()
    auth = "Basic " + __import__("base64").b64encode(b"user:pa ss").decode()
    with mocks.MockOpenAI(tls=mocks.server_context(pki["server_cert"], pki["server_key"])) as up, \
            mocks.MockOpenAI() as plain, mocks.ConnectProxy(auth=("user", "pa ss")) as px:
        # CONNECT + TLS through the tunnel, two requests on one tunnel
        hc = http.client.HTTPSConnection(HOST, px.port, timeout=5,
                                         context=mocks.client_context(pki["ca_cert"]))
        hc.set_tunnel("localhost", up.port, headers={"Proxy-Authorization": auth})
        for _ in range(2):
            r = _post(hc, CHAT, _chat("via tunnel"))
            eq(json.loads(r.read())["choices"][0]["message"]["content"], "echo: via tunnel",
               "content through the tunnel")
        hc.close()
        eq(px.connects, ["localhost:%d" % up.port], "CONNECT targets")
        eq(up.connections_accepted, 1, "upstream connections through one tunnel")
        # wrong and missing credentials
        for hdrs in ({"Proxy-Authorization": "Basic " + "dXNlcjpubw=="}, {}):
            hc = http.client.HTTPSConnection(HOST, px.port, timeout=5,
                                             context=mocks.client_context(pki["ca_cert"]))
            hc.set_tunnel("localhost", up.port, headers=hdrs)
            try:
                _post(hc, CHAT, _chat())
                raise TestFailure("tunnel without valid credentials worked")
            except OSError as e:
                check("407" in str(e), "not a 407: %r" % e)
            hc.close()
        eq(px.auth_failures, 2, "auth failures")
        # absolute-form plain HTTP
        hc = http.client.HTTPConnection(HOST, px.port, timeout=5)
        r = _post(hc, "http://127.0.0.1:%d%s" % (plain.port, CHAT), _chat("abs"),
                  {"Proxy-Authorization": auth})
        eq(json.loads(r.read())["choices"][0]["message"]["content"], "echo: abs",
           "content via absolute-form")
        hc.close()
        eq(plain.requests[0]["path"], CHAT, "origin-form path at the origin")
        check("proxy-authorization" not in plain.requests[0]["headers"],
              "Proxy-Authorization forwarded")
        eq(plain.requests[0]["headers"].get("connection"), "close", "Connection at the origin")
        # non-loopback targets are refused without connecting
        for target in ("example.com:443", "10.0.0.1:80"):
            s = socket.create_connection((HOST, px.port))
            s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: %s\r\n\r\n"
                       % (target, target, auth)).encode())
            raw, _ = _recv_all(s, 2)
            s.close()
            check(raw.startswith(b"HTTP/1.1 403"), "CONNECT %s: %r" % (target, raw[:60]))
        eq(px.refused, ["example.com:443", "10.0.0.1:80"], "refused targets")


def socks5_connect(proxy_port, host, port, atyp, auth=None):
    """A minimal SOCKS5 client.  Returns (socket, reply code); the socket is
    closed unless the reply was 0 (success)."""
    s = socket.create_connection((HOST, proxy_port), timeout=5)
    s.sendall(b"\x05\x01" + (b"\x02" if auth else b"\x00"))
    sel = s.recv(2)
    if sel[1:] == b"\xff" or len(sel) < 2:
        s.close()
        return None, "no acceptable method"
    if auth:
        u, p = (x.encode() for x in auth)
        s.sendall(b"\x01" + bytes([len(u)]) + u + bytes([len(p)]) + p)
        st = s.recv(2)
        if st != b"\x01\x00":
            s.close()
            return None, "auth failed %r" % st
    if atyp == 1:
        addr = socket.inet_aton(host)
    elif atyp == 3:
        addr = bytes([len(host)]) + host.encode()
    else:
        addr = socket.inet_pton(socket.AF_INET6, host)
    s.sendall(b"\x05\x01\x00" + bytes([atyp]) + addr + struct.pack("!H", port))
    rep = b""
    while len(rep) < 10:
        d = s.recv(10 - len(rep))
        if not d:
            break
        rep += d
    code = rep[1] if len(rep) > 1 else None
    if code != 0:
        s.close()
        return None, code
    return s, 0


def _http_over(sock):
    hc = http.client.HTTPConnection("localhost", 80, timeout=5)
    hc.sock = sock
    return hc


def test_socks5_proxy_atyps_and_auth():
    with mocks.MockOpenAI() as up, mocks.Socks5Proxy() as px, \
            mocks.Socks5Proxy(auth=("u1", "secret")) as pxa:
        for atyp, host in ((1, "127.0.0.1"), (3, "localhost")):
            s, code = socks5_connect(px.port, host, up.port, atyp)
            eq(code, 0, "reply for atyp %d" % atyp)
            hc = _http_over(s)
            r = _post(hc, CHAT, _chat("socks"))
            eq(json.loads(r.read())["choices"][0]["message"]["content"], "echo: socks",
               "content through SOCKS5 atyp %d" % atyp)
            hc.close()
        eq(px.connects, [(1, "127.0.0.1", up.port), (3, "localhost", up.port)], "connects")
        eq(socks5_connect(px.port, "example.com", 443, 3)[1], 2, "non-loopback domain")
        eq(socks5_connect(px.port, "192.0.2.1", 443, 1)[1], 2, "non-loopback IPv4")
        # IPv6 loopback is allowed; nothing listens on [::1]:port so it is refused
        code = socks5_connect(px.port, "::1", up.port, 4)[1]
        check(code in (1, 4, 5), "IPv6 loopback reply %r" % (code,))
        eq(px.connects[-1], (4, "::1", up.port), "IPv6 recorded")
        eq(px.refused, [(3, "example.com", 443), (1, "192.0.2.1", 443)], "refused")
        # auth
        eq(socks5_connect(pxa.port, "127.0.0.1", up.port, 1)[1], "no acceptable method",
           "no-auth method against an auth proxy")
        check(str(socks5_connect(pxa.port, "127.0.0.1", up.port, 1,
                                 auth=("u1", "wrong"))[1]).startswith("auth failed"),
              "wrong password accepted")
        eq(pxa.auth_failures, 1, "auth failures")
        s, code = socks5_connect(pxa.port, "localhost", up.port, 3, auth=("u1", "secret"))
        eq(code, 0, "reply with the right password")
        hc = _http_over(s)
        eq(_post(hc, CHAT, _chat()).status, 200, "status through authenticated SOCKS5")
        hc.close()
        eq(pxa.connects, [(3, "localhost", up.port)], "connects after auth")
        eq(socks5_connect(px.port, "127.0.0.1", up.port, 1, auth=("a", "b"))[1],
           "no acceptable method", "user/pass against a no-auth proxy")


# ------------------------------------------------------------ subscription mocks

def _form(hc, path, fields, headers=None):
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    h.update(headers or {})
    hc.request("POST", path, body=urllib.parse.urlencode(fields).encode(), headers=h)
    r = hc.getresponse()
    return r.status, json.loads(r.read() or b"null"), r


def _json_post(hc, path, obj, headers=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    hc.request("POST", path, body=json.dumps(obj).encode(), headers=h)
    r = hc.getresponse()
    return r.status, json.loads(r.read() or b"null"), r


def _refresh(hc, kind, rt):
    """One refresh in kind's shape; (status, body)."""
    if kind == "google":
        return _form(hc, "/token", {"grant_type": "refresh_token", "refresh_token": rt,
                                    "client_id": mocks_oauth.GEMINI_CLIENT_ID,
                                    "client_secret": mocks_oauth.GEMINI_CLIENT_SECRET})[:2]
    if kind == "openai":
        return _form(hc, "/oauth/token", {"client_id": mocks_oauth.CODEX_CLIENT_ID,
                                          "grant_type": "refresh_token", "refresh_token": rt,
                                          "scope": "openid profile email"})[:2]
    if kind == "claude":
        return _json_post(hc, "/v1/oauth/token", {"client_id": mocks_oauth.CLAUDE_CLIENT_ID,
                                                  "grant_type": "refresh_token",
                                                  "refresh_token": rt})[:2]
    return _form(hc, "/api/v1/oauth2/token", {"grant_type": "refresh_token", "refresh_token": rt,
                                              "client_id": mocks_oauth.QWEN_CLIENT_ID})[:2]


def _named_events(raw):
    """[(event name or None, parsed data)] of an SSE body."""
    out = []
    for block in raw.decode("utf-8").split("\n\n"):
        name, data = None, None
        for ln in block.split("\n"):
            if ln.startswith("event: "):
                name = ln[7:]
            elif ln.startswith("data: "):
                data = ln[6:]
        if data is not None:
            out.append((name, json.loads(data)))
    return out


def test_mock_token_server_shapes_and_rotation():
    with mocks_oauth.MockTokenServer() as ts:
        ts.valid_refresh = {"rt-g", "rt-o", "rt-c", "rt-q"}
        hc = http.client.HTTPConnection(HOST, ts.port, timeout=5)
        got = {}
        for kind, rt in (("google", "rt-g"), ("openai", "rt-o"), ("claude", "rt-c"),
                         ("qwen", "rt-q")):
            st, body = _refresh(hc, kind, rt)
            eq(st, 200, "%s refresh status" % kind)
            got[kind] = body
            for k, want in (("expires_in", 3600), ("token_type", "Bearer")):
                eq(body[k], want, "%s %s" % (kind, k))
        eq([got[k]["access_token"] for k in ("google", "openai", "claude", "qwen")],
           ["at-1", "at-2", "at-3", "at-4"], "access tokens")
        eq([got[k]["refresh_token"] for k in ("google", "openai", "claude", "qwen")],
           ["rt-1", "rt-2", "rt-3", "rt-4"], "refresh tokens")
        eq(ts.issued, ["at-1", "at-2", "at-3", "at-4"], ".issued")
        eq(ts.valid_refresh, {"rt-1", "rt-2", "rt-3", "rt-4"}, "rotated valid_refresh")
        claims = mocks_oauth.decode_jwt(got["openai"]["id_token"])
        eq(claims["email"], ts.email, "id_token email")
        eq(claims["https://api.openai.com/auth"]["chatgpt_account_id"], ts.account_id,
           "id_token account id")
        eq(claims["https://api.openai.com/auth"]["chatgpt_plan_type"], "plus", "plan")
        eq(len(got["openai"]["id_token"].split(".")), 3, "JWT parts")
        eq(got["qwen"]["resource_url"], "portal.qwen.ai", "qwen resource_url")
        eq(got["claude"]["account"]["email_address"], ts.email, "claude account")
        check("uuid" in got["claude"]["organization"], "claude organization")
        # records
        eq([r["kind"] for r in ts.requests], ["google", "openai", "claude", "qwen"], "kinds")
        eq(ts.requests[0]["form"]["client_secret"], mocks_oauth.GEMINI_CLIENT_SECRET,
           "google form")
        eq(ts.requests[1]["params"]["scope"], "openid profile email", "openai form")
        eq(ts.requests[2]["form"], None, "claude has no form")
        eq(ts.requests[2]["params"]["client_id"], mocks_oauth.CLAUDE_CLIENT_ID, "claude JSON")
        eq(ts.requests[3]["headers"]["content-type"], "application/x-www-form-urlencoded",
           "headers recorded")
        # a used refresh token is refused; the new one works
        for kind, old in (("google", "rt-g"), ("openai", "rt-o"), ("claude", "rt-c"),
                          ("qwen", "rt-q")):
            st, body = _refresh(hc, kind, old)
            eq((st, body["error"]), (400, "invalid_grant"), "%s reused token" % kind)
            check(body.get("error_description"), "error_description missing")
        eq(_refresh(hc, "claude", "rt-3")[1]["access_token"], "at-5", "new token works")
        eq(_refresh(hc, "google", "nope")[0], 400, "unknown token")
        # OpenAI reuse detection
        ts.reuse_detection = True
        st, body = _refresh(hc, "openai", "rt-o")
        eq((st, body["error"]["code"]), (401, "refresh_token_reused"), "reuse detection")
        eq(_refresh(hc, "openai", "never-seen")[1]["error"], "invalid_grant",
           "unknown token with reuse detection")
        # no rotation: the same refresh token comes back and stays valid
        ts.rotate = False
        for _ in range(2):
            st, body = _refresh(hc, "qwen", "rt-4")
            eq((st, body["refresh_token"]), (200, "rt-4"), "rotate=False")
        check("rt-4" in ts.valid_refresh, "rt-4 still valid")
        # None accepts anything
        ts.valid_refresh = None
        eq(_refresh(hc, "google", "anything")[0], 200, "valid_refresh None")
        # malformed requests
        st, body, _ = _form(hc, "/token", {"grant_type": "authorization_code", "code": "x"})
        eq((st, body["error"]), (400, "unsupported_grant_type"), "other grant")
        st, body, _ = _form(hc, "/oauth/token", {"grant_type": "refresh_token"})
        eq((st, body["error"]), (400, "invalid_request"), "no refresh_token")
        st, body, _ = _form(hc, "/v1/oauth/token", {"grant_type": "refresh_token",
                                                    "refresh_token": "x"})
        eq(st, 400, "claude endpoint given a form")
        st, body, _ = _json_post(hc, "/token", {"grant_type": "refresh_token",
                                                "refresh_token": "x"})
        eq(st, 400, "google endpoint given JSON")
        ts.expected_client_ids = {mocks_oauth.GEMINI_CLIENT_ID}
        eq(_refresh(hc, "google", "x")[0], 200, "expected client id")
        st, body = _refresh(hc, "qwen", "x")
        eq((st, body["error"]), (401, "invalid_client"), "unexpected client id")
        st, body, _ = _form(hc, "/nope", {})
        eq(st, 404, "unknown path")
        hc.close()


def test_mock_token_server_scripts():
    with mocks_oauth.MockTokenServer() as ts:
        ts.valid_refresh = {"rt-a"}
        ts.script([("ok", {"refresh_token": None, "expires_in": 60, "extra": 1}),
                   ("status", 429, {"error": "slow_down"}, {"Retry-After": "7"}),
                   mocks_oauth.OPENAI_REUSED,
                   ("delay", 0.3),
                   ("ok",)])
        hc = http.client.HTTPConnection(HOST, ts.port, timeout=5)
        st, body = _refresh(hc, "claude", "not-valid")
        eq(st, 200, "ok script ignores validity")
        check("refresh_token" not in body, "override None drops the key: %r" % body)
        eq((body["expires_in"], body["extra"]), (60, 1), "overrides")
        st, body, r = _form(hc, "/token", {"grant_type": "refresh_token", "refresh_token": "x"})
        eq((st, r.getheader("Retry-After")), (429, "7"), "status script")
        eq(_refresh(hc, "openai", "rt-a")[1]["error"]["code"], "refresh_token_reused",
           "OPENAI_REUSED")
        check("rt-a" in ts.valid_refresh, "a scripted refusal leaves the token valid")
        t0 = time.monotonic()
        st, body = _refresh(hc, "google", "rt-a")
        check(time.monotonic() - t0 >= 0.28, "delay script too short")
        eq(st, 200, "default answer after the delay")
        eq(ts.valid_refresh, {body["refresh_token"]}, "rotation after delay")
        st, body = _refresh(hc, "qwen", "")  # ("ok",) with no refresh token at all
        eq((st, body["refresh_token"]), (200, "rt-3"), "ok without a refresh token")
        hc.close()
        eq(ts.pending_script(), [], "script left")
        # hang, then reset
        ts.script([("hang",), ("reset",)])
        s = socket.create_connection((HOST, ts.port))
        _raw_request(s, "/v1/oauth/token", b'{"grant_type":"refresh_token"}')
        raw, how = _recv_all(s, 0.3)
        eq((raw, how), (b"", "timeout"), "hang answered")
        s.close()
        check(ts.wait_client_closed(1, 2), "hang did not see the close")
        s = socket.create_connection((HOST, ts.port))
        _raw_request(s, "/v1/oauth/token", b'{"grant_type":"refresh_token"}')
        raw, how = _recv_all(s, 2)
        s.close()
        eq(raw, b"", "reset sent bytes")
        check(how in ("reset", "eof"), "reset: %s" % how)
        check(ts.wait_requests(7, 1), "requests recorded")
        # concurrency is measured
        ts.script([("delay", 0.3), ("delay", 0.3)])
        ts.valid_refresh = None
        results = []

        def one():
            c = http.client.HTTPConnection(HOST, ts.port, timeout=5)
            results.append(_refresh(c, "google", "x")[0])
            c.close()
        threads = [threading.Thread(target=one) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(5)
        eq(results, [200, 200], "concurrent refreshes")
        eq(ts.max_in_flight, 2, "max_in_flight")
        # the server thread counts down after the client has its answer
        deadline = time.monotonic() + 2
        while ts.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        eq(ts.in_flight, 0, "in_flight after")
        for bad in (("bogus",), ("ok", {}, 1), ("delay",)):
            try:
                ts.script([bad])
                raise TestFailure("bad script %r accepted" % (bad,))
            except ValueError:
                pass


def test_mock_bearer_check_on_llm_mocks():
    msg = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    gem = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    with mocks_llm.MockClaude() as cl, mocks_llm.MockOpenAIChat() as oa, \
            mocks_llm.MockGemini() as gm:
        # None (the default) accepts anything, as before
        hc = http.client.HTTPConnection(HOST, cl.port, timeout=5)
        eq(_json_post(hc, "/v1/messages", msg)[0], 200, "claude without a key")
        cl.valid_tokens = {"sk-good"}
        cl.script([("text", "scripted")])
        st, body, _ = _json_post(hc, "/v1/messages", msg, {"Authorization": "Bearer sk-bad"})
        eq((st, body["type"], body["error"]["type"]), (401, "error", "authentication_error"),
           "claude 401 shape")
        st, body, _ = _json_post(hc, "/v1/messages", msg)
        eq(st, 401, "claude without a credential")
        st, body, _ = _json_post(hc, "/v1/messages", msg, {"x-api-key": "sk-good"})
        eq((st, body["content"][0]["text"]), (200, "scripted"),
           "x-api-key accepted and the script kept for it")
        eq(cl.rejected_tokens, ["sk-bad", None], "rejected_tokens")
        eq([bool(r.get("auth_rejected")) for r in cl.requests], [False, True, True, False],
           "auth_rejected marks")
        hc.close()
        oa.valid_tokens = {"k1"}
        hc = http.client.HTTPConnection(HOST, oa.port, timeout=5)
        st, body, _ = _json_post(hc, CHAT, msg, {"Authorization": "Bearer k2"})
        eq((st, body["error"]["code"]), (401, "invalid_api_key"), "openai 401 shape")
        st, body, _ = _json_post(hc, CHAT, msg, {"Authorization": "Bearer k1"})
        eq(st, 200, "openai good bearer")
        hc.close()
        gm.valid_tokens = {"g1"}
        hc = http.client.HTTPConnection(HOST, gm.port, timeout=5)
        path = "/v1beta/models/gemini-2.5-pro:generateContent"
        st, body, r = _json_post(hc, path, gem, {"x-goog-api-key": "g2"})
        eq((st, body["error"]["status"]), (401, "UNAUTHENTICATED"), "gemini 401 shape")
        check("invalid_token" in (r.getheader("WWW-Authenticate") or ""), "WWW-Authenticate")
        eq(_json_post(hc, path, gem, {"x-goog-api-key": "g1"})[0], 200, "x-goog-api-key")
        eq(_json_post(hc, path + "?key=g1", gem)[0], 200, "key= in the query")
        eq(_json_post(hc, path, gem, {"Authorization": "Bearer g1"})[0], 200, "bearer")
        hc.close()


def _json_get(hc, path, headers=None):
    hc.request("GET", path, headers=headers or {})
    r = hc.getresponse()
    return r.status, json.loads(r.read() or b"null")


def test_mock_model_lists_are_answered_apart():
    with mocks_llm.MockClaude() as cl, mocks_llm.MockGemini() as gm:
        cl.script([("text", "kept for the next message")])
        hc = http.client.HTTPConnection(HOST, cl.port, timeout=5)
        st, body = _json_get(hc, "/v1/models?limit=1000", {"x-api-key": "k"})
        eq(st, 200, "claude list status")
        eq([m["id"] for m in body["data"]], [m[0] for m in mocks_llm.CLAUDE_LIST], "ids")
        eq((body["has_more"], body["data"][0]["type"]), (False, "model"), "claude shape")
        cl.list_models = ["claude-x"]
        eq(_json_get(hc, "/v1/models")[1]["data"][0]["display_name"], "claude-x", "new id")
        cl.list_answer = (503, {"type": "error"})
        eq(_json_get(hc, "/v1/models")[0], 503, "list_answer")
        cl.list_answer = None
        cl.valid_tokens = {"good"}
        eq(_json_get(hc, "/v1/models", {"x-api-key": "bad"})[0], 401, "refused credential")
        eq(_json_get(hc, "/v1/models", {"x-api-key": "good"})[0], 200, "accepted credential")
        eq((cl.requests, len(cl.list_requests), cl.rejected_tokens), ([], 5, []),
           "list calls apart, no script used, no rejection counted")
        msg = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
        st, body, _ = _json_post(hc, "/v1/messages", msg, {"x-api-key": "good"})
        eq(body["content"][0]["text"], "kept for the next message", "script kept")
        hc.close()
        hc = http.client.HTTPConnection(HOST, gm.port, timeout=5)
        gm.list_models = ["gemini-a"]
        st, body = _json_get(hc, "/v1beta/models?pageSize=1000")
        eq([(m["name"], m["supportedGenerationMethods"][0]) for m in body["models"]],
           [("models/gemini-a", "generateContent"), ("models/text-embedding-004", "embedContent")],
           "gemini list")
        eq((gm.requests, len(gm.list_requests)), ([], 1), "gemini list call apart")
        hc.close()


def test_mock_token_server_linked_upstream_over_tls():
    pki = testca.shared_pki()
    ctx = mocks.server_context(pki["server_cert"], pki["server_key"])
    cctx = mocks.client_context(pki["ca_cert"])
    msg = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    with mocks_oauth.MockTokenServer(tls=ctx) as ts, mocks_llm.MockClaude(tls=ctx) as up:
        check(ts.url.startswith("https://localhost:"), "token server url %s" % ts.url)
        ts.valid_refresh = {"rt-0"}
        ts.link(up)
        eq(up.valid_tokens, set(), "link makes the upstream strict")
        hc = http.client.HTTPSConnection("localhost", ts.port, timeout=5, context=cctx)
        st, body = _refresh(hc, "claude", "rt-0")
        hc.close()
        eq(st, 200, "refresh over TLS")
        eq(ts.tls_handshakes[0]["sni"], "localhost", "SNI at the token server")
        hc = http.client.HTTPSConnection("localhost", up.port, timeout=5, context=cctx)
        st, _, _ = _json_post(hc, "/v1/messages", msg,
                              {"Authorization": "Bearer " + body["access_token"]})
        eq(st, 200, "issued token accepted by the linked upstream")
        eq(_json_post(hc, "/v1/messages", msg, {"Authorization": "Bearer at-old"})[0], 401,
           "other token refused")
        hc.close()


def _ca_body(text="hello", model="gemini-2.5-pro", project="proj-1", **extra):
    inner = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    inner.update(extra.pop("inner", {}))
    body = {"model": model, "project": project, "request": inner}
    body.update(extra)
    return body


def test_mock_code_assist_envelope_methods_and_scripts():
    with mocks_oauth.MockCodeAssist() as ca:
        eq(ca.base_url, ca.url, "base_url")
        hc = http.client.HTTPConnection(HOST, ca.port, timeout=5)
        st, body, _ = _json_post(hc, "/v1internal:generateContent", _ca_body("hi there"))
        eq(st, 200, "generateContent")
        check("traceId" in body, "traceId")
        resp = body["response"]
        eq(resp["candidates"][0]["content"]["parts"][0]["text"], "echo: hi there", "echo")
        eq(resp["candidates"][0]["finishReason"], "STOP", "finishReason")
        eq(resp["modelVersion"], "gemini-2.5-pro", "model from the envelope")
        eq(resp["usageMetadata"]["promptTokenCount"], 11, "usage")
        r0 = ca.requests[0]
        eq(r0["envelope"], {"project": "proj-1", "model": "gemini-2.5-pro"}, "envelope")
        eq(r0["ca_method"], "generateContent", "ca_method")
        eq(r0["inner"]["contents"][0]["parts"][0]["text"], "hi there", "inner")
        # SSE, Antigravity envelope
        ag = _ca_body("x", model="claude-sonnet-4-6", userAgent="antigravity",
                      requestType="agent", requestId="agent-1234",
                      inner={"sessionId": "-42"})
        ca.script([("thinking_tool", "ponder", "sig-1", "get_weather", {"city": "Paris"})])
        hc.request("POST", "/v1internal:streamGenerateContent?alt=sse", body=json.dumps(ag),
                   headers={"Content-Type": "application/json"})
        r = hc.getresponse()
        eq((r.status, r.getheader("Content-Type").split(";")[0]), (200, "text/event-stream"),
           "SSE head")
        evs = _named_events(r.read())
        check(evs and all(set(d) == {"response", "traceId"} for _, d in evs),
              "every SSE line enveloped: %r" % evs[:1])
        parts = [p for _, d in evs for p in d["response"]["candidates"][0]["content"]["parts"]]
        eq("".join(p["text"] for p in parts if p.get("thought")), "ponder", "thought parts")
        fc = [p for p in parts if "functionCall" in p]
        eq((fc[0]["functionCall"]["name"], fc[0]["thoughtSignature"]), ("get_weather", "sig-1"),
           "function call with its signature")
        eq(ca.requests[1]["envelope"], {"project": "proj-1", "model": "claude-sonnet-4-6",
                                        "userAgent": "antigravity", "requestType": "agent",
                                        "requestId": "agent-1234", "sessionId": "-42"},
           "antigravity envelope")
        # $alt=sse and the JSON array form
        hc.request("POST", "/v1internal:streamGenerateContent?$alt=sse",
                   body=json.dumps(_ca_body("y")), headers={"Content-Type": "application/json"})
        r = hc.getresponse()
        eq(_named_events(r.read())[-1][1]["response"]["candidates"][0]["finishReason"], "STOP",
           "$alt=sse")
        st, arr, _ = _json_post(hc, "/v1internal:streamGenerateContent", _ca_body("z"))
        check(st == 200 and isinstance(arr, list) and all("response" in o for o in arr),
              "JSON array stream: %r" % (arr,))
        # countTokens and the other methods
        st, body, _ = _json_post(hc, "/v1internal:countTokens",
                                 {"request": {"contents": [{"role": "user",
                                                            "parts": [{"text": "a"}]}]}})
        eq((st, body), (200, {"totalTokens": 11}), "countTokens")
        eq(ca.requests[-1]["envelope"], {}, "countTokens envelope")
        st, body, _ = _json_post(hc, "/v1internal:loadCodeAssist", {"metadata": {}})
        eq((body["cloudaicompanionProject"], body["currentTier"]["id"]),
           ("mock-project-1", "free-tier"), "loadCodeAssist")
        check(any(t.get("isDefault") for t in body["allowedTiers"]), "default tier")
        ca.project = None
        st, body, _ = _json_post(hc, "/v1internal:loadCodeAssist", {"metadata": {}})
        check("cloudaicompanionProject" not in body and "currentTier" not in body,
              "loadCodeAssist without a project: %r" % body)
        ca.onboard_polls = 1
        eq(_json_post(hc, "/v1internal:onboardUser", {"tierId": "free-tier"})[1]["done"], False,
           "onboard pending")
        body = _json_post(hc, "/v1internal:onboardUser", {"tierId": "free-tier"})[1]
        eq((body["done"], body["response"]["cloudaicompanionProject"]["id"]),
           (True, "mock-project-1"), "onboard done")
        n = len(ca.requests)
        body = _json_post(hc, "/v1internal:fetchAvailableModels", {})[1]
        eq(sorted(body["models"]), sorted(mocks_oauth.ANTIGRAVITY_LIST), "fetchAvailableModels")
        eq((len(ca.requests), len(ca.list_requests)), (n, 1), "a list call, apart")
        body = _json_post(hc, "/v1internal:retrieveUserQuota", {"project": "p"})[1]
        check(body["buckets"] and "remainingFraction" in body["buckets"][0], "retrieveUserQuota")
        eq(_json_post(hc, "/v1internal:listExperiments", {})[:2], (200, {}), "other method")
        ca.answers["listExperiments"] = lambda req: {"flags": [req["ca_method"]]}
        eq(_json_post(hc, "/v1internal:listExperiments", {})[1], {"flags": ["listExperiments"]},
           "answers override")
        # envelope checks, quota, status, text scripts
        st, body, _ = _json_post(hc, "/v1internal:generateContent", _ca_body(project=""))
        eq((st, body["error"]["status"]), (400, "INVALID_ARGUMENT"), "no project")
        ca.script([("quota", 3), ("quota", 1.5), ("status", 503, {"error": {"code": 503}}),
                   ("text", "done", "length")])
        st, body, _ = _json_post(hc, "/v1internal:generateContent", _ca_body())
        eq((st, body["error"]["status"], body["error"]["code"]), (429, "RESOURCE_EXHAUSTED", 429),
           "quota")
        ri = [d for d in body["error"]["details"]
              if d["@type"] == "type.googleapis.com/google.rpc.RetryInfo"]
        eq(ri[0]["retryDelay"], "3s", "retryDelay")
        body = _json_post(hc, "/v1internal:streamGenerateContent?alt=sse", _ca_body())[1]
        eq(body["error"]["details"][-1]["retryDelay"], "1.5s", "fractional retryDelay")
        eq(_json_post(hc, "/v1internal:generateContent", _ca_body())[0], 503, "status script")
        body = _json_post(hc, "/v1internal:generateContent", _ca_body())[1]
        eq((body["response"]["candidates"][0]["content"]["parts"][0]["text"],
            body["response"]["candidates"][0]["finishReason"]), ("done", "MAX_TOKENS"),
           "text script")
        # credentials
        ca.valid_tokens = {"ya29.good"}
        st, body, r = _json_post(hc, "/v1internal:generateContent", _ca_body(),
                                 {"Authorization": "Bearer ya29.old"})
        eq((st, body["error"]["status"]), (401, "UNAUTHENTICATED"), "bad bearer")
        eq(ca.requests[-1]["envelope"]["project"], "proj-1", "envelope of a refused request")
        eq(_json_post(hc, "/v1internal:loadCodeAssist", {})[0], 401, "no bearer")
        eq(_json_post(hc, "/v1internal:generateContent", _ca_body(),
                      {"Authorization": "Bearer ya29.good"})[0], 200, "good bearer")
        hc.close()
        try:
            ca.script([("quota",)])
            raise TestFailure("quota without seconds accepted")
        except ValueError:
            pass


def _codex_body(text="hi", stream=True, **extra):
    b = {"model": "gpt-5-codex", "instructions": "", "stream": stream, "store": False,
         "input": [{"type": "message", "role": "user",
                    "content": [{"type": "input_text", "text": text}]}]}
    b.update(extra)
    return b


def _codex_stream(hc, path, body, headers=None):
    h = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    h.update(headers or {})
    hc.request("POST", path, body=json.dumps(body), headers=h)
    r = hc.getresponse()
    raw = r.read()
    return r.status, (_named_events(raw) if r.status == 200 else json.loads(raw)), r


def test_mock_codex_stream_shapes_scripts_and_headers():
    path = "/backend-api/codex/responses"
    with mocks_oauth.MockCodex() as cx:
        hc = http.client.HTTPConnection(HOST, cx.port, timeout=5)
        hdrs = {"Authorization": "Bearer at-1", "Chatgpt-Account-Id": "acct-9",
                "Originator": "codex_cli_rs", "User-Agent": "codex_cli_rs/0.116.0",
                "Session_id": "sess-1"}
        st, evs, r = _codex_stream(hc, path, _codex_body("hello world"), hdrs)
        eq((st, r.getheader("Content-Type").split(";")[0]), (200, "text/event-stream"), "head")
        names = [n for n, _ in evs]
        eq(names, ["response.created", "response.in_progress", "response.output_item.added",
                   "response.content_part.added"] + ["response.output_text.delta"] * 3 +
           ["response.output_text.done", "response.content_part.done",
            "response.output_item.done", "response.completed"], "event order")
        eq([d["type"] for _, d in evs], names, "type matches event:")
        eq([d["sequence_number"] for _, d in evs], list(range(len(evs))), "sequence numbers")
        eq("".join(d["delta"] for n, d in evs if n == "response.output_text.delta"),
           "echo: hello world", "text deltas")
        done = evs[-1][1]["response"]
        eq((done["status"], done["model"], done["id"]), ("completed", "gpt-5-codex",
                                                         evs[0][1]["response"]["id"]), "final")
        eq(done["usage"], {"input_tokens": 11, "input_tokens_details": {"cached_tokens": 0},
                           "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 0},
                           "total_tokens": 18}, "usage")
        eq(done["output"][0]["content"][0]["text"], "echo: hello world", "output item")
        c = cx.requests[0]["codex"]
        eq((c["chatgpt-account-id"], c["originator"], c["user-agent"], c["session_id"]),
           ("acct-9", "codex_cli_rs", "codex_cli_rs/0.116.0", "sess-1"), "headers recorded")
        eq(c["version"], None, "absent header")
        # tool, thinking, length
        cx.cached_tokens = 4
        cx.script([("tool", "shell", {"command": ["ls"]}, "call_1"),
                   ("thinking", "let me think", "enc-sig", "answer"),
                   ("text", "cut", "length")])
        evs = _codex_stream(hc, path, _codex_body())[1]
        names = [n for n, _ in evs]
        check("response.function_call_arguments.done" in names, "tool events: %r" % names)
        added = [d["item"] for n, d in evs if n == "response.output_item.added"][0]
        eq((added["type"], added["call_id"], added["name"]), ("function_call", "call_1", "shell"),
           "function_call item")
        eq(json.loads("".join(d["delta"] for n, d in evs
                              if n == "response.function_call_arguments.delta")),
           {"command": ["ls"]}, "argument deltas")
        eq(evs[-1][1]["response"]["output"][0]["arguments"], json.dumps({"command": ["ls"]}),
           "final arguments")
        eq(evs[-1][1]["response"]["usage"]["input_tokens_details"]["cached_tokens"], 4, "cached")
        evs = _codex_stream(hc, path, _codex_body())[1]
        rs = [d["item"] for n, d in evs if n == "response.output_item.done"][0]
        eq((rs["type"], rs["encrypted_content"], rs["summary"][0]["text"]),
           ("reasoning", "enc-sig", "let me think"), "reasoning item")
        eq("".join(d["delta"] for n, d in evs if n == "response.reasoning_summary_text.delta"),
           "let me think", "summary deltas")
        eq(evs[-1][1]["response"]["usage"]["output_tokens_details"]["reasoning_tokens"], 5,
           "reasoning tokens")
        evs = _codex_stream(hc, path, _codex_body())[1]
        eq((evs[-1][0], evs[-1][1]["response"]["status"],
            evs[-1][1]["response"]["incomplete_details"]),
           ("response.incomplete", "incomplete", {"reason": "max_output_tokens"}), "length")
        # errors
        st, body, _ = _codex_stream(hc, path, _codex_body(stream=False))
        eq((st, body), (400, {"detail": "Stream must be set to true"}), "non-stream refused")
        cx.script([("usage_limit", 120), ("error_event", "boom", 1),
                   ("status", 500, {"error": {"message": "x"}})])
        st, body, _ = _codex_stream(hc, path, _codex_body())
        eq((st, body["error"]["type"], body["error"]["resets_in_seconds"]),
           (429, "usage_limit_reached", 120), "usage_limit")
        check(body["error"]["resets_at"] >= time.time() + 100, "resets_at")
        evs = _codex_stream(hc, path, _codex_body())[1]
        eq([n for n, _ in evs][-2:], ["response.output_text.delta", "response.failed"],
           "error_event")
        eq(evs[-1][1]["response"]["error"]["message"], "boom", "failed message")
        eq(evs[-1][1]["sequence_number"], len(evs) - 1, "failed sequence number")
        eq(_codex_stream(hc, path, _codex_body())[0], 500, "status script")
        # credentials
        cx.valid_tokens = {"at-2"}
        st, body, _ = _codex_stream(hc, path, _codex_body(), {"Authorization": "Bearer at-1"})
        eq((st, body), (401, {"detail": "Unauthorized"}), "bad bearer")
        eq(_codex_stream(hc, path, _codex_body(), {"Authorization": "Bearer at-2"})[0], 200,
           "good bearer")
        eq(_codex_stream(hc, "/v1/responses", _codex_body(),
                         {"Authorization": "Bearer at-2"})[0], 404, "other path")
        hc.close()


def test_mock_codex_and_code_assist_over_tls():
    pki = testca.shared_pki()
    ctx = mocks.server_context(pki["server_cert"], pki["server_key"])
    cctx = mocks.client_context(pki["ca_cert"])
    with mocks_oauth.MockCodex(tls=ctx, prefix="/codex") as cx, \
            mocks_oauth.MockCodeAssist(tls=ctx) as ca:
        for up in (cx, ca):
            check(up.url.startswith("https://localhost:"), "url %s" % up.url)
        hc = http.client.HTTPSConnection("localhost", cx.port, timeout=5, context=cctx)
        st, evs, _ = _codex_stream(hc, "/codex/responses", _codex_body("tls"))
        eq((st, evs[-1][0]), (200, "response.completed"), "codex over TLS at a prefix")
        hc.close()
        hc = http.client.HTTPSConnection("localhost", ca.port, timeout=5, context=cctx)
        st, body, _ = _json_post(hc, "/v1internal:generateContent", _ca_body("tls"))
        eq((st, body["response"]["candidates"][0]["content"]["parts"][0]["text"]),
           (200, "echo: tls"), "code assist over TLS")
        hc.close()
        eq((cx.tls_handshakes[0]["sni"], ca.tls_handshakes[0]["sni"]), ("localhost", "localhost"),
           "SNI")


def test_mock_qwen_at_any_prefix():
    pki = testca.shared_pki()
    ctx = mocks.server_context(pki["server_cert"], pki["server_key"])
    chat = {"model": "coder-model", "messages": [{"role": "user", "content": "q"}]}
    with mocks_oauth.MockQwen(tls=ctx) as qw, \
            mocks_oauth.MockQwen(prefix="/compatible-mode/v1") as q2:
        eq(qw.resource_url, "localhost:%d" % qw.port, "resource_url over TLS")
        eq(q2.resource_url, "127.0.0.1:%d" % q2.port, "resource_url plain")
        qw.valid_tokens = {"at-q"}
        hc = http.client.HTTPSConnection("localhost", qw.port, timeout=5,
                                         context=mocks.client_context(pki["ca_cert"]))
        st, body, _ = _json_post(hc, CHAT, chat, {"Authorization": "Bearer at-x"})
        eq((st, body["error"]["code"]), (401, "invalid_api_key"), "qwen bad bearer")
        qw.script([("quota",), ("text", "fine")])
        st, body, _ = _json_post(hc, CHAT, chat, {"Authorization": "Bearer at-q"})
        eq((st, body["error"]["code"]), (429, "insufficient_quota"), "quota script")
        st, body, _ = _json_post(hc, CHAT, chat, {"Authorization": "Bearer at-q"})
        eq(body["choices"][0]["message"]["content"], "fine", "text script")
        hc.close()
        hc = http.client.HTTPConnection(HOST, q2.port, timeout=5)
        hc.request("POST", "/compatible-mode/v1/chat/completions",
                   body=json.dumps(dict(chat, stream=True)),
                   headers={"Content-Type": "application/json"})
        r = hc.getresponse()
        ev = _events(r.read())
        eq((r.status, ev[-1]), (200, b"[DONE]"), "stream at a prefix")
        hc.request("POST", "/compatible-mode/v1/chat/completions", body=json.dumps(chat),
                   headers={"Content-Type": "application/json"})
        r = hc.getresponse()
        eq(json.loads(r.read())["choices"][0]["message"]["content"], "echo: q", "echo at a prefix")
        st, body, _ = _json_post(hc, CHAT, chat)
        eq(st, 404, "/v1 is not served at another prefix")
        hc.close()


def test_auth_files_layouts():
    d = harness.new_tmpdir()
    want_keys = {
        "gemini": ["token", "project_id", "email", "auto", "checked", "type", "access_token",
                   "refresh_token", "token_type", "expiry"],
        "codex": ["id_token", "access_token", "refresh_token", "account_id", "last_refresh",
                  "email", "type", "expired", "disabled"],
        "claude": ["id_token", "access_token", "refresh_token", "last_refresh", "email",
                   "account_uuid", "organization_uuid", "organization_name",
                   "claude_device_ids", "type", "expired", "disabled"],
        "qwen": ["access_token", "refresh_token", "last_refresh", "resource_url", "email",
                 "type", "expired"],
        "antigravity": ["type", "access_token", "refresh_token", "expires_in", "timestamp",
                        "expired", "email", "project_id"],
    }
    names = {"gemini": "a@b.c-p1.json", "codex": "codex-a@b.c-pro.json",
             "claude": "claude-a@b.c.json", "qwen": "qwen-a@b.c.json",
             "antigravity": "antigravity-a@b.c.json"}
    for kind, keys in want_keys.items():
        extra = {"project_id": "p1"} if kind in ("gemini", "antigravity") else {}
        path = mocks_oauth.write_auth_file(d, kind, access_token="at-" + kind,
                                           refresh_token="rt-" + kind, email="a@b.c",
                                           expires_at="2030-01-02T03:04:05Z", plan_type="pro",
                                           **extra)
        eq(os.path.basename(path), names[kind], "%s file name" % kind)
        eq(os.stat(path).st_mode & 0o777, 0o600, "%s mode" % kind)
        j = mocks_oauth.read_auth_file(path)
        eq(list(j), keys, "%s keys" % kind)
        eq(j["type"], kind, "%s type" % kind)
        t = mocks_oauth.auth_tokens(j)
        eq((t["access_token"], t["refresh_token"]), ("at-" + kind, "rt-" + kind),
           "%s tokens" % kind)
        eq(t["expiry"], mocks_oauth.parse_rfc3339("2030-01-02T03:04:05Z"), "%s expiry" % kind)
        if kind == "gemini":
            tok = j["token"]
            eq((tok["access_token"], tok["expiry"], tok["client_id"]),
               ("at-gemini", "2030-01-02T03:04:05Z", mocks_oauth.GEMINI_CLIENT_ID), "gemini token")
            eq(tok["scopes"], mocks_oauth.GEMINI_SCOPES, "gemini scopes")
            eq(j["expiry"], tok["expiry"], "gemini flat expiry")
        else:
            eq(j["expired"], "2030-01-02T03:04:05Z", "%s expired" % kind)
        if kind == "codex":
            c = mocks_oauth.decode_jwt(j["id_token"])
            eq((c["email"], c["https://api.openai.com/auth"]["chatgpt_account_id"],
                c["https://api.openai.com/auth"]["chatgpt_plan_type"]),
               ("a@b.c", j["account_id"], "pro"), "codex id_token")
        if kind == "antigravity":
            eq(j["timestamp"] + j["expires_in"] * 1000,
               int(mocks_oauth.parse_rfc3339("2030-01-02T03:04:05Z") * 1000), "timestamp")
    # relative expiry, no flat copies, a field left out, an extra field, a name
    t0 = time.time()
    path = mocks_oauth.write_auth_file(d, "gemini", filename="g.json", expires_in=-60,
                                       flat=False, refresh_token=None, proxy_url="socks5://x")
    j = mocks_oauth.read_auth_file(path)
    eq(list(j), ["token", "project_id", "email", "auto", "checked", "type", "proxy_url"],
       "gemini without flat copies")
    check("refresh_token" not in j["token"], "None leaves a field out")
    exp = mocks_oauth.auth_tokens(j)["expiry"]
    check(t0 - 62 <= exp <= t0 - 58, "expires_in=-60 gave %r" % (exp - t0))
    path = mocks_oauth.write_auth_file(d, "claude", filename="c.json", expired="not a time")
    eq(mocks_oauth.read_auth_file(path)["expired"], "not a time", "layout field as given")
    eq(sorted(f for f in os.listdir(d) if f.startswith(".")), [], "temp files left")
    # the readers take what Go writes
    eq(mocks_oauth.parse_rfc3339("2030-01-02T11:04:05.123456789+08:00"),
       mocks_oauth.parse_rfc3339("2030-01-02T03:04:05Z") + 0.123456, "offset and nanoseconds")
    eq(mocks_oauth.rfc3339(0), "1970-01-01T00:00:00Z", "rfc3339")


# ------------------------------------------------------------ Node.js SDK

def _node_ready():
    """(True, None) when node and the pinned SDK are usable, else (False, why)."""
    try:
        p = subprocess.run(["sh", os.path.join(SDK_DIR, "install.sh")], capture_output=True,
                           timeout=25, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return False, "sdk/install.sh did not finish in 25s"
    if p.returncode != 0 or not shutil.which("node"):
        return False, "sdk/install.sh failed: %s" % p.stderr.decode("utf-8", "replace")[-300:]
    return True, None


def _sdk(mode, base_url, model="sdk-model", key="sdk-key"):
    env = dict(os.environ, BASE_URL=base_url, API_KEY=key, MODEL=model, PROMPT="from sdk")
    p = subprocess.run(["node", os.path.join(SDK_DIR, "openai_chat.mjs"), mode], env=env,
                       capture_output=True, timeout=25, stdin=subprocess.DEVNULL)
    lines = p.stdout.decode().strip().splitlines()
    check(len(lines) == 1, "sdk output is not one line: %r (stderr %r)"
          % (p.stdout[:300], p.stderr[-300:]))
    return p.returncode, json.loads(lines[0])


def test_sdk_openai_node_against_mock():
    ok, why = _node_ready()
    if not ok:
        harness.skip(why)
    with mocks.MockOpenAI() as up:
        rc, out = _sdk("nonstream", up.base_url)
        eq((rc, out), (0, {"content": "echo: from sdk", "model": "sdk-model",
                           "finish_reason": "stop"}), "nonstream")
        rc, out = _sdk("stream", up.base_url)
        eq((rc, out), (0, {"content": "tok0 tok1 tok2 tok3 tok4 ", "chunks": 6,
                           "finish_reason": "stop"}), "stream")
        up.script([("status", 401, {"error": {"message": "bad key", "type": "auth"}})])
        rc, out = _sdk("nonstream", up.base_url)
        eq((rc, out.get("status")), (1, 401), "error exit and status")
        check("bad key" in out.get("error", ""), "error message: %r" % out)
        eq(up.auth_keys_seen, ["sdk-key"] * 3, "keys sent by the SDK")
        eq(up.requests[1]["json"].get("stream"), True, "stream flag sent")
