"""
mocks.py - fake upstreams and outbound proxies for the integration tests.

Every server here binds 127.0.0.1 on a free port, runs on daemon threads and
never connects anywhere but loopback.  Each has .port, .url, .start(), .stop()
and works as a context manager (`with MockOpenAI() as up: ...`); stop() closes
every socket it owns and returns within a few seconds at most.

MockOpenAI(tls=None|SSLContext, prefix="/v1")
    An OpenAI-compatible upstream on a small hand-written HTTP/1.1 server
    (exact control of framing and faults).  POST {prefix}/chat/completions and
    POST {prefix}/completions (GET {prefix}/models too).  Keep-alive,
    Content-Length and chunked request bodies, Expect: 100-continue.
      .url               https://localhost:PORT (TLS) or http://127.0.0.1:PORT
      .base_url          .url + prefix
      .requests          [{method, path, version, headers, header_list, body, json,
                          conn_id, time, close}]  headers: dict lower-case name ->
                         last value; header_list: [(name, value)] in order; body:
                         decoded bytes; json: parsed body or None; time:
                         time.monotonic() when read; close: client asked to close
      .connections_accepted  TCP connections accepted (for reuse checks)
      .auth_keys_seen    bearer token of each request, in order (None if absent)
      .client_closed_at  time.monotonic() stamps at which a peer was seen closing
                         during ("hang",) or ("slow_stream", ...)
      .tls_handshakes    [{conn_id, version, cipher, sni, reused}] (sni only when the
                         context came from server_context())
      .tls_errors        handshake failures (str), e.g. client rejected our cert
      .headers_to_send   dict of extra headers added to every response
      .stream_chunks     content chunks of a default stream (5)
      .idle_close        None, or seconds after which an idle keep-alive
                         connection is closed by the server
      .script([behaviour, ...])  queue behaviours for the next requests (one is
                         consumed per request, whatever its path):
        ("status", code, body_json[, headers])   that status, JSON, Content-Length
        ("content_length", json_or_None)         200 with that JSON (None = echo)
        ("stream", n_chunks, delay_s)            SSE stream, delay between chunks
        ("stream_big", n_chunks)                 SSE stream, no delay
        ("slow_stream", n_chunks, delay_s)       like stream; records peer close
        ("reset_after", n_chunks)                n chunks then RST, no last chunk
        ("hang",)                                read the request, never answer
        ("close_delimited", text_or_json)        200, body ended by closing
        ("drop",)                                read the request, close unanswered
      .wait_requests(n, timeout), .wait_client_closed(n, timeout)
      .list_requests     the requests a subclass answered as model-list calls
                         (_list_answer): not in .requests, no script consumed,
                         so the proxy's background list fetches leave the
                         tests' counts and scripts alone

ConnectProxy(auth=None|(user, pass))
    HTTP proxy: CONNECT host:port tunnels and absolute-form plain-HTTP requests
    (forwarded in origin-form with Connection: close, one per client connection;
    Proxy-Authorization and Proxy-Connection are not forwarded).  Only 127.0.0.1 / localhost targets
    (others get 403).  With auth, Proxy-Authorization: Basic is required (407).
      .connects ["host:port"] of CONNECTs that passed auth, .requests [dicts],
      .auth_failures, .refused

Socks5Proxy(auth=None|(user, pass))
    RFC 1928 CONNECT, ATYP IPv4 / domain / IPv6; RFC 1929 user/pass with auth.
    Only loopback targets; the domain "localhost" resolves to 127.0.0.1.
      .connects [(atyp, host, port)] (atyp 1 IPv4, 3 domain, 4 IPv6),
      .methods_offered, .auth_failures, .refused

server_context(cert, key, min_version=TLSv1_2, max_version=None) -> SSLContext
client_context(cafile) -> SSLContext for Python clients in the tests.

Python 3 standard library only.
"""

import base64
import collections
import http
import ipaddress
import json
import os
import select
import socket
import ssl
import struct
import threading
import time
import urllib.parse

HOST = "127.0.0.1"
MAX_HEAD = 64 * 1024


# --------------------------------------------------------------------------
# TLS helpers

def server_context(cert, key, min_version=ssl.TLSVersion.TLSv1_2, max_version=None):
    """A server-side context for the mocks (TLS 1.2 and 1.3 unless narrowed).
    Remembers the SNI each client sent (see MockOpenAI.tls_handshakes)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    ctx.load_cert_chain(cert, key)
    try:
        ctx.set_alpn_protocols(["http/1.1"])
    except (NotImplementedError, ssl.SSLError):
        pass

    def _sni(sslsock, name, _ctx):
        try:
            sslsock.cpa_sni = name
        except Exception:
            pass
        return None

    ctx.sni_callback = _sni
    return ctx


def client_context(cafile):
    """A verifying client context trusting only cafile (for Python clients)."""
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


# --------------------------------------------------------------------------
# common server machinery

class _PeerClosed(Exception):
    pass


class _Conn:
    """A server-side connection with a read buffer."""

    def __init__(self, sock, cid):
        self.sock = sock
        self.cid = cid
        self.buf = b""

    def fill(self):
        try:
            d = self.sock.recv(65536)
        except (ConnectionError, ssl.SSLError, OSError):
            d = b""
        if not d:
            raise _PeerClosed()
        self.buf += d

    def read_until(self, sep, limit=MAX_HEAD):
        while sep not in self.buf:
            if len(self.buf) > limit:
                raise _PeerClosed()
            self.fill()
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, data):
        self.sock.sendall(data)

    def readable_within(self, timeout):
        """True if data (or EOF) is ready within timeout."""
        if self.buf:
            return True
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True
        try:
            r, _, _ = select.select([self.sock], [], [], timeout)
        except (OSError, ValueError):
            return True
        return bool(r)

    def peer_closed_within(self, timeout):
        """Wait up to timeout; True as soon as the peer closes (EOF or error).
        Data that arrives meanwhile is kept in the buffer."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                r, _, _ = select.select([self.sock], [], [], left)
            except (OSError, ValueError):
                return True
            if not r:
                return False
            try:
                self.sock.settimeout(max(0.05, min(left, 0.2)))
                d = self.sock.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except (ConnectionError, ssl.SSLError, OSError):
                return True
            finally:
                try:
                    self.sock.settimeout(None)
                except OSError:
                    pass
            if not d:
                return True
            self.buf += d


class _ServerBase:
    """Listening socket + accept thread + one daemon thread per connection."""

    tls = None

    def __init__(self):
        self.port = None
        self.connections_accepted = 0
        self._lsock = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._socks = set()
        self._threads = []
        self._accept_thread = None
        self._next_cid = 0

    # -- lifecycle ---------------------------------------------------------
    @property
    def url(self):
        if self.tls is not None:
            return "https://localhost:%d" % self.port
        return "http://%s:%d" % (HOST, self.port)

    def start(self):
        if self._lsock is not None:
            return self
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((HOST, 0))
        s.listen(128)
        s.settimeout(None)
        self._lsock = s
        self.port = s.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True,
                                               name="%s-accept" % type(self).__name__)
        self._accept_thread.start()
        return self

    def stop(self, timeout=3.0):
        if self._lsock is None or self._stopping.is_set():
            return
        self._stopping.set()
        with self._lock:
            for s in list(self._socks):
                _kick(s)
        deadline = time.monotonic() + timeout
        if self._accept_thread is not None:
            self._accept_thread.join(max(0.0, deadline - time.monotonic()))
        try:
            self._lsock.close()
        except OSError:
            pass
        for t in list(self._threads):
            t.join(max(0.0, deadline - time.monotonic()))
        with self._lock:  # anything still open after the joins
            for s in list(self._socks):
                try:
                    s.close()
                except OSError:
                    pass
            self._socks.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def stopping(self):
        return self._stopping.is_set()

    # -- sockets -----------------------------------------------------------
    def _track(self, s):
        with self._lock:
            if self._stopping.is_set():
                _kick(s)
            self._socks.add(s)

    def _untrack_close(self, s):
        with self._lock:
            self._socks.discard(s)
            try:
                s.close()
            except OSError:
                pass

    def _replace_tracked(self, old, new):
        with self._lock:
            self._socks.discard(old)
            self._socks.add(new)
            if self._stopping.is_set():
                _kick(new)

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                r, _, _ = select.select([self._lsock], [], [], 0.1)
                if not r:
                    continue
                c, _addr = self._lsock.accept()
            except (OSError, ValueError):
                if self._stopping.is_set():
                    return
                time.sleep(0.01)
                continue
            c.settimeout(None)
            try:
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
            with self._lock:
                self._next_cid += 1
                cid = self._next_cid
                self.connections_accepted += 1
            self._track(c)
            t = threading.Thread(target=self._conn_thread, args=(c, cid), daemon=True,
                                 name="%s-conn-%d" % (type(self).__name__, cid))
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)
            t.start()

    def _conn_thread(self, sock, cid):
        try:
            self.handle(sock, cid)
        except Exception:
            pass
        finally:
            # handle() may have replaced the socket (TLS wrap); close what is tracked
            s = getattr(threading.current_thread(), "cpa_sock", None) or sock
            self._untrack_close(s)

    def handle(self, sock, cid):  # pragma: no cover - overridden
        raise NotImplementedError


def _kick(s):
    """Wake a thread blocked on s without touching s's Python state:
    shutdown() on a dup of the descriptor.  Caller holds the owner's lock."""
    try:
        fd = s.fileno()
        if fd < 0:
            return
        d = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        d.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        d.close()


def _rst_close(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass


def _graceful_close(sock):
    """TLS: send close_notify without waiting for the peer's; then FIN."""
    if isinstance(sock, ssl.SSLSocket):
        try:
            sock.settimeout(0.0)
            sock.unwrap()
        except (ssl.SSLError, OSError, ValueError):
            pass
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _reason(code):
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return "Status %d" % code


def _chunk(data):
    return b"%x\r\n" % len(data) + data + b"\r\n"


# --------------------------------------------------------------------------
# HTTP/1.1 request reading

class Request(dict):
    pass


def _read_request(conn, on_continue=None):
    """Read one request from conn; None if the peer closed between requests."""
    while conn.buf.startswith(b"\r\n"):
        conn.buf = conn.buf[2:]
    try:
        head = conn.read_until(b"\r\n\r\n")
    except _PeerClosed:
        return None
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ")
    if len(parts) != 3:
        raise _PeerClosed()
    method, target, version = parts
    hlist = []
    for ln in lines[1:]:
        name, _, value = ln.partition(b":")
        hlist.append((name.strip().decode("latin-1").lower(), value.strip().decode("latin-1")))
    headers = {k: v for k, v in hlist}
    if headers.get("expect", "").lower() == "100-continue" and on_continue:
        on_continue()
    te = headers.get("transfer-encoding", "").lower()
    if "chunked" in te:
        body = b""
        while True:
            size_line = conn.read_until(b"\r\n").strip()
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                while conn.read_until(b"\r\n") != b"\r\n":  # trailers
                    pass
                break
            body += conn.read_exact(size)
            conn.read_exact(2)
    elif "content-length" in headers:
        body = conn.read_exact(int(headers["content-length"]))
    else:
        body = b""
    try:
        parsed = json.loads(body.decode("utf-8")) if body else None
    except (ValueError, UnicodeDecodeError):
        parsed = None
    conn_close = "close" in headers.get("connection", "").lower() or (
        version == "HTTP/1.0" and "keep-alive" not in headers.get("connection", "").lower())
    return Request(method=method, path=target, version=version, headers=headers,
                   header_list=hlist, body=body, json=parsed, conn_id=conn.cid,
                   time=time.monotonic(), close=conn_close)


# --------------------------------------------------------------------------
# MockOpenAI

_BEHAVIOURS = {"status": (2, 3), "stream": (2, 2), "stream_big": (1, 1),
               "reset_after": (1, 1), "hang": (0, 0), "drop": (0, 0), "slow_stream": (2, 2),
               "close_delimited": (1, 1), "content_length": (1, 1)}


def _last_user_text(messages):
    if not isinstance(messages, list):
        return ""
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, str):
                return c
            if isinstance(c, list):
                return "".join(p.get("text", "") for p in c if isinstance(p, dict))
            return ""
    return ""


class MockOpenAI(_ServerBase):

    def __init__(self, tls=None, prefix="/v1", models=("mock-model",), stream_chunks=5):
        super().__init__()
        self.tls = tls
        self.prefix = prefix.rstrip("/")
        self.models = list(models)
        self.stream_chunks = stream_chunks
        self.requests = []
        self.list_requests = []
        self.auth_keys_seen = []
        self.client_closed_at = []
        self.tls_handshakes = []
        self.tls_errors = []
        self.headers_to_send = {}
        self.idle_close = None
        self._queue = collections.deque()
        self._seq = 0

    @property
    def base_url(self):
        return self.url + self.prefix

    # -- scripting ---------------------------------------------------------
    def script(self, behaviours):
        for b in behaviours:
            if not isinstance(b, (tuple, list)) or not b or b[0] not in _BEHAVIOURS:
                raise ValueError("unknown mock behaviour %r" % (b,))
            lo, hi = _BEHAVIOURS[b[0]]
            if not lo <= len(b) - 1 <= hi:
                raise ValueError("wrong number of arguments in %r" % (b,))
        with self._lock:
            self._queue.extend(tuple(b) for b in behaviours)
        return self

    def clear_script(self):
        with self._lock:
            self._queue.clear()

    def pending_script(self):
        with self._lock:
            return list(self._queue)

    # -- waiting helpers -----------------------------------------------------
    def wait_requests(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return len(self.requests) >= n

    def wait_client_closed(self, n=1, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.client_closed_at) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return len(self.client_closed_at) >= n

    # -- connection --------------------------------------------------------
    def handle(self, sock, cid):
        if self.tls is not None:
            sock.settimeout(5.0)
            try:
                ssock = self.tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as e:
                self.tls_errors.append("%s: %s" % (type(e).__name__, e))
                return
            ssock.settimeout(None)
            self._replace_tracked(sock, ssock)
            threading.current_thread().cpa_sock = ssock
            sock = ssock
            self.tls_handshakes.append({"conn_id": cid, "version": ssock.version(),
                                        "cipher": (ssock.cipher() or (None,))[0],
                                        "sni": getattr(ssock, "cpa_sni", None),
                                        "reused": ssock.session_reused})
        conn = _Conn(sock, cid)
        while not self.stopping:
            if self.idle_close is not None and not conn.readable_within(self.idle_close):
                _graceful_close(sock)
                return
            req = _read_request(conn, on_continue=lambda: conn.send(b"HTTP/1.1 100 Continue\r\n\r\n"))
            if req is None:
                # the client is done: end TLS in good order, as servers do
                # (OpenSSL forgets the session of a connection that ends
                # without its own close_notify)
                _graceful_close(sock)
                return
            lst = self._list_answer(req)
            if lst is not None:
                with self._lock:
                    self.list_requests.append(req)
                try:
                    self._send_json(conn, req, *lst)
                except (ConnectionError, ssl.SSLError, OSError):
                    return
                if req["close"]:
                    _graceful_close(sock)
                    return
                continue
            auth = req["headers"].get("authorization")
            token = auth[7:].strip() if auth and auth[:7].lower() == "bearer " else None
            with self._lock:
                self.requests.append(req)
                self.auth_keys_seen.append(token)
                self._seq += 1
                seq = self._seq
                b = self._gate(req)
                if b is None:
                    b = self._queue.popleft() if self._queue else None
            try:
                keep = self._respond(conn, req, b, seq)
            except (ConnectionError, ssl.SSLError, OSError, _PeerClosed):
                return
            if not keep or req["close"]:
                if keep:
                    _graceful_close(sock)
                return

    def _list_answer(self, req):
        """(status, json[, headers]) when req is the upstream's model-list
        call, answered apart (.list_requests); None for other requests.
        MockOpenAI's own GET /models is an ordinary request."""
        return None

    def _gate(self, req):
        """A behaviour that answers req in place of the script (the queue is
        then left alone), or None.  Called with the lock held, after req was
        recorded; subclasses check credentials here (mocks_llm.TokenCheck)."""
        return None

    # -- responses ---------------------------------------------------------
    def _kind(self, req):
        path = req["path"].split("?", 1)[0]
        if path == self.prefix + "/chat/completions":
            return "chat"
        if path == self.prefix + "/completions":
            return "text"
        if path == self.prefix + "/models":
            return "models"
        return None

    def _head(self, status, headers, req):
        h = ["HTTP/1.1 %d %s" % (status, _reason(status))]
        h += ["%s: %s" % kv for kv in headers]
        h += ["%s: %s" % kv for kv in self.headers_to_send.items()]
        if req["close"]:
            h.append("Connection: close")
        return ("\r\n".join(h) + "\r\n\r\n").encode("latin-1")

    def _send_json(self, conn, req, status, obj, extra=None):
        body = json.dumps(obj).encode()
        hdrs = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        hdrs += list((extra or {}).items())
        conn.send(self._head(status, hdrs, req) + (body if req["method"] != "HEAD" else b""))
        return True

    def _model(self, req):
        j = req["json"] if isinstance(req["json"], dict) else {}
        m = j.get("model")
        return m if isinstance(m, str) else "mock-model"

    def _usage(self, req, n):
        j = req["json"] if isinstance(req["json"], dict) else {}
        p = len(_last_user_text(j.get("messages")).split()) or 1
        return {"prompt_tokens": p, "completion_tokens": n, "total_tokens": p + n}

    def _echo(self, req, seq, kind):
        j = req["json"] if isinstance(req["json"], dict) else {}
        if kind == "text":
            prompt = j.get("prompt", "")
            if isinstance(prompt, list):
                prompt = prompt[0] if prompt and isinstance(prompt[0], str) else ""
            text = "echo: %s" % (prompt if isinstance(prompt, str) else "")
            return {"id": "cmpl-mock-%d" % seq, "object": "text_completion",
                    "created": int(time.time()), "model": self._model(req),
                    "choices": [{"index": 0, "text": text, "logprobs": None,
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": len(text.split()), "completion_tokens": 2,
                              "total_tokens": len(text.split()) + 2}}
        text = "echo: " + _last_user_text(j.get("messages"))
        u = self._usage(req, len(text.split()))
        return {"id": "chatcmpl-mock-%d" % seq, "object": "chat.completion",
                "created": int(time.time()), "model": self._model(req),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "logprobs": None, "finish_reason": "stop"}],
                "usage": u}

    def stream_events(self, req, seq, n, kind="chat"):
        """The SSE events (bytes, one per event) of a default stream of n chunks."""
        model, created = self._model(req), int(time.time())
        out = []
        for i in range(n):
            if kind == "text":
                ev = {"id": "cmpl-mock-%d" % seq, "object": "text_completion",
                      "created": created, "model": model,
                      "choices": [{"index": 0, "text": "tok%d " % i, "logprobs": None,
                                   "finish_reason": None}]}
            else:
                delta = {"content": "tok%d " % i}
                if i == 0:
                    delta = {"role": "assistant", "content": "tok0 "}
                ev = {"id": "chatcmpl-mock-%d" % seq, "object": "chat.completion.chunk",
                      "created": created, "model": model,
                      "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                   "finish_reason": None}]}
            out.append(ev)
        if kind == "text":
            last = {"id": "cmpl-mock-%d" % seq, "object": "text_completion", "created": created,
                    "model": model, "choices": [{"index": 0, "text": "", "logprobs": None,
                                                 "finish_reason": "stop"}],
                    "usage": self._usage(req, n)}
        else:
            last = {"id": "chatcmpl-mock-%d" % seq, "object": "chat.completion.chunk",
                    "created": created, "model": model,
                    "choices": [{"index": 0, "delta": {}, "logprobs": None,
                                 "finish_reason": "stop"}],
                    "usage": self._usage(req, n)}
        out.append(last)
        return [b"data: " + json.dumps(e).encode() + b"\n\n" for e in out] + [b"data: [DONE]\n\n"]

    def _stream(self, conn, req, seq, kind, n, delay=0.0, record_close=False, reset=False):
        hdrs = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                ("Transfer-Encoding", "chunked")]
        events = self.stream_events(req, seq, n, "text" if kind == "text" else "chat")
        if reset:
            events = events[:n]
        try:
            conn.send(self._head(200, hdrs, req))
            for i, ev in enumerate(events):
                if i and delay:
                    if conn.peer_closed_within(delay):
                        raise _PeerClosed()
                    if self.stopping:
                        return False
                conn.send(_chunk(ev))
            if reset:
                _rst_close(conn.sock)
                return False
            conn.send(b"0\r\n\r\n")
        except (ConnectionError, ssl.SSLError, OSError, _PeerClosed):
            if record_close and not self.stopping:
                self.client_closed_at.append(time.monotonic())
            return False
        return True

    def _respond(self, conn, req, b, seq):
        kind = self._kind(req)
        if b is None:
            if kind is None:
                return self._send_json(conn, req, 404, {"error": {
                    "message": "mock: no route for %s %s" % (req["method"], req["path"]),
                    "type": "invalid_request_error", "code": "not_found"}})
            if kind == "models":
                return self._send_json(conn, req, 200, {"object": "list", "data": [
                    {"id": m, "object": "model", "created": 0, "owned_by": "mock"}
                    for m in self.models]})
            j = req["json"] if isinstance(req["json"], dict) else {}
            if j.get("stream") is True:
                b = ("stream", self.stream_chunks, 0)
            else:
                b = ("content_length", None)
        name = b[0]
        if name == "status":
            return self._send_json(conn, req, b[1], b[2], b[3] if len(b) > 3 else None)
        if name == "content_length":
            obj = b[1] if b[1] is not None else self._echo(req, seq, kind)
            return self._send_json(conn, req, 200, obj)
        if name == "stream":
            return self._stream(conn, req, seq, kind, b[1], b[2])
        if name == "stream_big":
            return self._stream(conn, req, seq, kind, b[1])
        if name == "slow_stream":
            return self._stream(conn, req, seq, kind, b[1], b[2], record_close=True)
        if name == "reset_after":
            return self._stream(conn, req, seq, kind, b[1], reset=True)
        if name == "close_delimited":
            body = b[1]
            if isinstance(body, (dict, list)):
                body, ctype = json.dumps(body).encode(), "application/json"
            else:
                body = body.encode() if isinstance(body, str) else bytes(body)
                try:
                    json.loads(body.decode("utf-8"))
                    ctype = "application/json"
                except (ValueError, UnicodeDecodeError):
                    ctype = "text/plain"
            conn.send(self._head(200, [("Content-Type", ctype), ("Connection", "close")],
                                 dict(req, close=False)) + body)
            _graceful_close(conn.sock)
            return False
        if name == "drop":
            _graceful_close(conn.sock)
            return False
        if name == "hang":
            while not self.stopping:
                try:
                    d = conn.sock.recv(65536)
                except (ConnectionError, ssl.SSLError, OSError):
                    d = b""
                if not d:
                    if not self.stopping:
                        self.client_closed_at.append(time.monotonic())
                    return False
            return False
        raise ValueError("unknown behaviour %r" % (b,))


# --------------------------------------------------------------------------
# outbound proxies

_ALLOWED_NAMES = ("127.0.0.1", "localhost")


def _relay(a, b, stopping):
    """Copy bytes both ways until both directions ended (EOF is passed on as a
    half-close) or either side fails."""
    peer = {a: b, b: a}
    live = [a, b]
    while live and not stopping.is_set():
        try:
            r, _, _ = select.select(live, [], [], 0.2)
        except (OSError, ValueError):
            return
        for s in r:
            try:
                d = s.recv(65536)
                # A TLS socket may hold decrypted bytes select() cannot see.
                while d and hasattr(s, "pending") and s.pending():
                    d += s.recv(s.pending())
            except OSError:
                return
            if not d:
                live.remove(s)
                try:
                    peer[s].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                continue
            try:
                peer[s].sendall(d)
            except OSError:
                return


class _ProxyBase(_ServerBase):
    def __init__(self, auth=None):
        super().__init__()
        self.auth = auth
        self.connects = []
        self.requests = []
        self.refused = []
        self.auth_failures = 0

    def _dial(self, host, port, family=socket.AF_INET):
        o = socket.socket(family, socket.SOCK_STREAM)
        self._track(o)
        try:
            o.settimeout(5.0)
            o.connect((host, port))
            o.settimeout(None)
            o.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            self._untrack_close(o)
            raise
        return o


class ConnectProxy(_ProxyBase):
    """HTTP proxy; with tls=SSLContext it is an https:// proxy (TLS between
    the client and the proxy, then CONNECT inside it)."""

    def __init__(self, auth=None, tls=None):
        super().__init__(auth)
        self.tls = tls
        self.tls_handshakes = 0

    @property
    def url(self):
        return "%s://%s:%d" % ("https" if self.tls else "http",
                               "localhost" if self.tls else HOST, self.port)

    def _reply(self, conn, code, extra=()):
        h = ["HTTP/1.1 %d %s" % (code, _reason(code))] + list(extra)
        h += ["Content-Length: 0", "Connection: close"]
        try:
            conn.send(("\r\n".join(h) + "\r\n\r\n").encode("latin-1"))
        except OSError:
            pass

    def _authorized(self, headers):
        if self.auth is None:
            return True
        want = base64.b64encode(("%s:%s" % self.auth).encode()).decode()
        got = headers.get("proxy-authorization", "")
        return got[:6].lower() == "basic " and got[6:].strip() == want

    def handle(self, sock, cid):
        if self.tls is not None:
            sock.settimeout(5.0)
            try:
                ssock = self.tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                return
            ssock.settimeout(None)
            self._replace_tracked(sock, ssock)
            threading.current_thread().cpa_sock = ssock
            sock = ssock
            self.tls_handshakes += 1
        conn = _Conn(sock, cid)
        try:
            head = conn.read_until(b"\r\n\r\n")
        except _PeerClosed:
            return
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].decode("latin-1").split(" ")
        if len(parts) != 3:
            self._reply(conn, 400)
            return
        method, target, version = parts
        hlist = []
        for ln in lines[1:]:
            k, _, v = ln.partition(b":")
            hlist.append((k.strip().decode("latin-1"), v.strip().decode("latin-1")))
        headers = {k.lower(): v for k, v in hlist}
        ok = self._authorized(headers)
        self.requests.append({"method": method, "target": target, "version": version,
                              "headers": headers, "conn_id": cid, "authorized": ok})
        if not ok:
            self.auth_failures += 1
            self._reply(conn, 407, ['Proxy-Authenticate: Basic realm="mock-proxy"'])
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            self.connects.append(target)
            if host.lower() not in _ALLOWED_NAMES or not port.isdigit():
                self.refused.append(target)
                self._reply(conn, 403)
                return
            try:
                origin = self._dial(HOST, int(port))
            except OSError:
                self._reply(conn, 502)
                return
            try:
                conn.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if conn.buf:
                    origin.sendall(conn.buf)
                _relay(sock, origin, self._stopping)
            except OSError:
                pass
            finally:
                self._untrack_close(origin)
            return
        # absolute-form plain HTTP
        u = urllib.parse.urlsplit(target)
        if u.scheme != "http" or not u.hostname:
            self._reply(conn, 400)
            return
        if u.hostname.lower() not in _ALLOWED_NAMES:
            self.refused.append(target)
            self._reply(conn, 403)
            return
        try:
            origin = self._dial(HOST, u.port or 80)
        except OSError:
            self._reply(conn, 502)
            return
        try:
            path = (u.path or "/") + ("?" + u.query if u.query else "")
            drop = ("proxy-authorization", "proxy-connection", "connection", "keep-alive")
            out = ["%s %s %s" % (method, path, version)]
            out += ["%s: %s" % (k, v) for k, v in hlist if k.lower() not in drop]
            out.append("Connection: close")
            origin.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + conn.buf)
            _relay(sock, origin, self._stopping)
        except OSError:
            pass
        finally:
            self._untrack_close(origin)


class Socks5Proxy(_ProxyBase):

    def __init__(self, auth=None):
        super().__init__(auth)
        self.methods_offered = []

    @property
    def url(self):
        return "socks5://%s:%d" % (HOST, self.port)

    @staticmethod
    def _reply(conn, rep, bind=("0.0.0.0", 0)):
        try:
            conn.send(b"\x05" + bytes([rep]) + b"\x00\x01" + socket.inet_aton(bind[0])
                      + struct.pack("!H", bind[1]))
        except OSError:
            pass

    def handle(self, sock, cid):
        conn = _Conn(sock, cid)
        try:
            ver, nmethods = conn.read_exact(2)
            if ver != 5:
                return
            methods = list(conn.read_exact(nmethods))
            self.methods_offered.append(methods)
            want = 0x02 if self.auth is not None else 0x00
            if want not in methods:
                conn.send(b"\x05\xff")
                return
            conn.send(b"\x05" + bytes([want]))
            if want == 0x02:
                v = conn.read_exact(1)[0]
                user = conn.read_exact(conn.read_exact(1)[0]).decode("utf-8", "replace")
                pw = conn.read_exact(conn.read_exact(1)[0]).decode("utf-8", "replace")
                if v != 1 or (user, pw) != tuple(self.auth):
                    self.auth_failures += 1
                    conn.send(b"\x01\x01")
                    return
                conn.send(b"\x01\x00")
            ver, cmd, _rsv, atyp = conn.read_exact(4)
            if atyp == 1:
                host = socket.inet_ntoa(conn.read_exact(4))
            elif atyp == 3:
                host = conn.read_exact(conn.read_exact(1)[0]).decode("latin-1")
            elif atyp == 4:
                host = socket.inet_ntop(socket.AF_INET6, conn.read_exact(16))
            else:
                self._reply(conn, 0x08)
                return
            port = struct.unpack("!H", conn.read_exact(2))[0]
        except (_PeerClosed, OSError):
            return
        if ver != 5 or cmd != 1:
            self._reply(conn, 0x07)
            return
        self.connects.append((atyp, host, port))
        dest = self._allowed(atyp, host)
        if dest is None:
            self.refused.append((atyp, host, port))
            self._reply(conn, 0x02)
            return
        fam = socket.AF_INET6 if ":" in dest else socket.AF_INET
        try:
            origin = self._dial(dest, port, fam)
        except OSError as e:
            self._reply(conn, 0x05 if isinstance(e, ConnectionRefusedError) else 0x01)
            return
        try:
            bhost, bport = origin.getsockname()[:2]
            if fam == socket.AF_INET6:
                bhost = "0.0.0.0"
            self._reply(conn, 0x00, (bhost, bport))
            if conn.buf:
                origin.sendall(conn.buf)
            _relay(sock, origin, self._stopping)
        except OSError:
            pass
        finally:
            self._untrack_close(origin)

    @staticmethod
    def _allowed(atyp, host):
        """The loopback address to dial, or None when the target is refused."""
        if atyp == 3 and host.lower() == "localhost":
            return HOST
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return None
        return str(ip) if ip.is_loopback else None
