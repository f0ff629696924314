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
            for _ in range(4):
                _read_then_leave(srv.port, _request_bytes(path, body))
                time.sleep(0.1)
                _alive_models(srv, what)
            _not_spinning(srv, what)
            srv.signal(signal.SIGTERM)
            check(srv.wait_exit(3) is not None, "%s: SIGTERM did not stop the server" % what)
