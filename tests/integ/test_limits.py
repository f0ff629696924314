"""Size limits, connection cap and timeouts."""

import socket
import time

from harness import (HOST, Conn, TestFailure, check, eq, start_server, req, chunked, model_body)

CHAT = "/v1/chat/completions"


def _timed_response(c, timeout):
    t0 = time.monotonic()
    r = c.read_response(timeout=timeout)
    return r, time.monotonic() - t0


def _wait_alive(srv, within):
    """The server answers GET / on a new connection within `within` seconds."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        try:
            c = Conn(srv.port, timeout=1.0)
            try:
                r = c.request(req("GET", "/"), timeout=1.0)
                if r.status == 200:
                    return
                last = "status %d" % r.status
            finally:
                c.close()
        except (OSError, TestFailure) as e:
            last = repr(e)
        time.sleep(0.1)
    raise TestFailure("server did not answer GET / within %.0fs after the bad clients (%s)" % (within, last))


# ---------------------------------------------------------------- head size

def test_head_over_16k_is_431_then_close():
    srv = start_server()
    c = srv.connect()
    c.try_send(req("GET", "/", ["X-Big: " + "a" * 17000]))
    eq(c.read_response().status, 431, "status for a 17 KB head")
    c.assert_closed(4, "after 431")
    srv.assert_alive()


def test_unfinished_head_growing_past_16k_is_431():
    srv = start_server()
    c = srv.connect()
    c.try_send(b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X-Pad: " + b"b" * 20000)
    eq(c.read_response().status, 431, "status for a 20 KB head with no end")
    c.assert_closed(4, "after 431")
    srv.assert_alive()


def test_head_of_15k_is_accepted():
    srv = start_server()
    c = srv.connect()
    eq(c.request(req("GET", "/", ["X-Big: " + "a" * 15000])).status, 200, "status for a 15 KB head")


def test_more_than_64_header_lines_is_431():
    srv = start_server()
    c = srv.connect()
    headers = ["X-H%d: v" % i for i in range(64)]  # + Host = 65 lines
    eq(c.request(req("GET", "/", headers)).status, 431, "status for 65 header lines")
    srv.assert_alive()


def test_64_header_lines_are_accepted():
    srv = start_server()
    c = srv.connect()
    headers = ["X-H%d: v" % i for i in range(63)]  # + Host = 64 lines
    eq(c.request(req("GET", "/", headers)).status, 200, "status for 64 header lines")


# ---------------------------------------------------------------- body size

def test_body_over_max_body_size_is_413_before_the_body_is_sent():
    srv = start_server(max_body_size="1m")
    c = srv.connect()
    c.send(req("POST", CHAT, ["Content-Length: 1000000000"]))  # head only, no body
    r = c.read_response(timeout=3)
    eq(r.status, 413, "status for Content-Length 1e9 with max-body-size 1m")
    c.assert_closed(4, "after 413")
    srv.assert_alive()


def test_body_exactly_max_body_size_is_accepted_and_one_more_byte_is_413():
    srv = start_server(max_body_size="1k")
    base = model_body("limit-model")
    body = model_body("limit-model", pad=1024 - len(base))
    eq(len(body), 1024, "test body length")
    r = srv.connect().request(req("POST", CHAT, body=body))
    eq(r.status, 404, "status for a 1024-byte body with max-body-size 1k")
    check(b"limit-model" in r.body, "404 does not name the model: %r" % r.body[:200])
    body = model_body("limit-model", pad=1025 - len(base))
    c = srv.connect()
    c.try_send(req("POST", CHAT, body=body))
    eq(c.read_response().status, 413, "status for a 1025-byte body with max-body-size 1k")


def test_chunked_body_growing_past_max_body_size_is_413():
    srv = start_server(max_body_size="1k")
    c = srv.connect()
    c.send(req("POST", CHAT, ["Transfer-Encoding: chunked"]))
    for _ in range(20):
        if not c.try_send(b"c8\r\n" + b"x" * 200 + b"\r\n"):
            break
        time.sleep(0.01)
    eq(c.read_response(timeout=3).status, 413, "status for a chunked body of 4000 bytes with max-body-size 1k")
    srv.assert_alive()


def test_chunked_body_within_max_body_size_is_accepted():
    srv = start_server(max_body_size="1k")
    body = model_body("small-chunked", pad=600)
    r = srv.connect().request(req("POST", CHAT, ["Transfer-Encoding: chunked"]) + chunked(body, [100]))
    eq(r.status, 404, "status for a chunked body of %d bytes with max-body-size 1k" % len(body))
    check(b"small-chunked" in r.body, "404 does not name the model: %r" % r.body[:200])


# ---------------------------------------------------------------- connection cap

def test_max_connections_pauses_the_listener_while_all_are_busy():
    srv = start_server(max_connections=2)
    a, b = srv.connect(), srv.connect()
    eq(a.request(req("GET", "/")).status, 200, "first connection")
    eq(b.request(req("GET", "/")).status, 200, "second connection")
    raw = req("GET", "/")
    a.send(raw[:5])  # both busy: a request is being read on each
    b.send(raw[:5])
    time.sleep(0.2)
    c = srv.connect()  # the kernel completes the handshake
    c.send(raw)
    c.assert_silent(1.0, "third connection while 2 of max-connections=2 are busy")
    a.send(raw[5:])
    eq(a.read_response().status, 200, "first connection still served")
    b.send(raw[5:])
    eq(b.read_response().status, 200, "second connection still served")
    b.close()
    r = c.read_response(timeout=3)
    eq(r.status, 200, "third connection once the second closed")


def test_max_connections_closes_the_oldest_idle_for_a_new_client():
    # Idle keep-alive clients must not lock out new ones: at the cap, the one
    # that has waited longest for a request gives up its slot.
    srv = start_server(max_connections=2)
    a, b = srv.connect(), srv.connect()
    eq(a.request(req("GET", "/")).status, 200, "first connection")
    time.sleep(0.05)
    eq(b.request(req("GET", "/")).status, 200, "second connection")
    c = srv.connect()
    eq(c.request(req("GET", "/"), timeout=2).status, 200, "third connection at the cap")
    closed, _ = a.wait_closed(1.0)
    check(closed, "the oldest idle connection was not closed")
    eq(b.request(req("GET", "/")).status, 200, "second connection still served")


def test_flood_of_200_connections_past_the_cap():
    srv = start_server(max_connections=4, header_timeout="1s")
    socks = []
    try:
        for _ in range(200):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((HOST, srv.port))
            socks.append(s)
        time.sleep(0.3)
        raw = req("GET", "/v1/models")
        for i, s in enumerate(socks):
            try:
                s.send(raw if i % 2 == 0 else raw[:10])
            except OSError:
                pass
        time.sleep(0.5)
        check(srv.proc.poll() is None, "server died during the flood (status %s)" % srv.proc.returncode)
    finally:
        for s in socks:
            s.close()
    _wait_alive(srv, 5)


# ---------------------------------------------------------------- timeouts

def test_header_timeout_stalled_head_gets_408_and_close():
    srv = start_server(header_timeout="1s", idle_timeout="10s")
    c = srv.connect()
    c.send(b"GET / HTTP/1.1\r\nHost: a\r\n")
    r, took = _timed_response(c, 5)
    eq(r.status, 408, "status for a head stalled past header-timeout")
    check(0.7 <= took <= 3.0, "408 after %.2fs, header-timeout is 1s" % took)
    c.assert_closed(3, "after 408")
    srv.assert_alive()


def test_header_timeout_silent_connection_closed_without_answer():
    srv = start_server(header_timeout="1s", idle_timeout="10s")
    c = srv.connect()
    t0 = time.monotonic()
    c.assert_closed(5, "connection that never sent a byte")
    took = time.monotonic() - t0
    check(0.7 <= took <= 3.0, "closed after %.2fs, header-timeout is 1s" % took)


def test_header_timeout_bare_number_is_seconds():
    srv = start_server(header_timeout="1", idle_timeout="10s")
    c = srv.connect()
    c.send(b"GET / HTTP/1.1\r\n")
    r, took = _timed_response(c, 5)
    eq(r.status, 408, "status")
    check(0.7 <= took <= 3.0, "408 after %.2fs, header-timeout is '1' (seconds)" % took)


def test_header_timeout_counts_the_whole_head_not_each_gap():
    """A head trickling in one byte every 0.2 s never stalls for long, but
    the head as a whole must still arrive within header-timeout."""
    srv = start_server(header_timeout="1s", idle_timeout="10s")
    c = srv.connect()
    t0 = time.monotonic()
    head = b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"s" * 100
    got = b""
    for b in head:
        if not c.try_send(bytes([b])):
            break
        time.sleep(0.2)
        closed, got = c.wait_closed(0.001)
        if closed or got or time.monotonic() - t0 > 4:
            break
    took = time.monotonic() - t0
    check(got.startswith(b"HTTP/1.1 408"), "trickled head: want a 408 within ~1s, got %r after %.1fs" % (got[:40], took))
    check(took <= 3.0, "408 after %.2fs, header-timeout is 1s" % took)


def test_header_timeout_in_milliseconds():
    srv = start_server(header_timeout="1500ms", idle_timeout="10s")
    c = srv.connect()
    c.send(b"GET / HTTP/1.1\r\n")
    r, took = _timed_response(c, 5)
    eq(r.status, 408, "status")
    check(1.2 <= took <= 3.5, "408 after %.2fs, header-timeout is 1500ms" % took)


def test_idle_timeout_closes_keep_alive_connection():
    srv = start_server(idle_timeout="1s", header_timeout="10s")
    c = srv.connect()
    eq(c.request(req("GET", "/")).status, 200, "status")
    t0 = time.monotonic()
    c.assert_closed(5, "idle keep-alive connection")
    took = time.monotonic() - t0
    check(0.7 <= took <= 3.0, "closed after %.2fs, idle-timeout is 1s" % took)


def test_idle_timeout_does_not_cut_a_busy_connection():
    srv = start_server(idle_timeout="1s", header_timeout="10s")
    c = srv.connect()
    for i in range(6):
        eq(c.request(req("GET", "/")).status, 200, "request %d, 0.5 s apart" % (i + 1))
        time.sleep(0.5)


def test_body_timeout_is_the_longest_silence_not_the_total():
    srv = start_server(body_timeout="1s", header_timeout="10s", idle_timeout="10s")
    body = model_body("trickle-model", pad=100)
    c = srv.connect()
    c.send(req("POST", CHAT, ["Content-Length: %d" % len(body)]))
    step = len(body) // 5 + 1
    for i in range(0, len(body), step):
        time.sleep(0.4)
        c.send(body[i:i + step])
    r = c.read_response()
    eq(r.status, 404, "body sent in 5 pieces 0.4 s apart (2 s in all) with body-timeout 1s")
    check(b"trickle-model" in r.body, "404 does not name the model: %r" % r.body[:200])


def test_body_timeout_stalled_body_gets_408_and_close():
    srv = start_server(body_timeout="1s", header_timeout="10s", idle_timeout="10s")
    c = srv.connect()
    c.send(req("POST", CHAT, ["Content-Length: 100"]) + b'{"model":')
    r, took = _timed_response(c, 5)
    eq(r.status, 408, "status for a body stalled past body-timeout")
    check(0.7 <= took <= 3.0, "408 after %.2fs, body-timeout is 1s" % took)
    c.assert_closed(3, "after 408")
    srv.assert_alive()
