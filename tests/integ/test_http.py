"""HTTP/1.1 protocol behaviour: connections, framing, Expect, bad input."""

import random
import time

from harness import (check, eq, start_server, req, chunked, model_body, TestFailure)

CHAT = "/v1/chat/completions"


def _assert_unknown_model_404(r, model):
    """A 404 naming the model proves the whole body arrived and was decoded."""
    eq(r.status, 404, "status for a model nothing serves")
    check(model.encode() in r.body, "404 message does not name %r: %r" % (model, r.body[:300]))


def _assert_400_then_close(srv, raw, what):
    c = srv.connect()
    c.try_send(raw)
    r = c.read_response()
    eq(r.status, 400, "status for " + what)
    c.assert_closed(3, what)
    srv.assert_alive()


# ---------------------------------------------------------------- connections

def test_keep_alive_is_default_for_http11():
    srv = start_server()
    c = srv.connect()
    for i in range(3):
        r = c.request(req("GET", "/"))
        eq(r.status, 200, "request %d on one connection" % (i + 1))
    c.assert_silent(0.3, "keep-alive connection after 3 responses")


def test_connection_close_is_honoured():
    srv = start_server()
    c = srv.connect()
    r = c.request(req("GET", "/", ["Connection: close"]))
    eq(r.status, 200, "status")
    c.assert_closed(2, "after a Connection: close request")


def test_http10_closes_by_default():
    srv = start_server()
    c = srv.connect()
    r = c.request(req("GET", "/", version="HTTP/1.0"))
    eq(r.status, 200, "status")
    c.assert_closed(2, "after an HTTP/1.0 request")


def test_http10_keep_alive_header_keeps_connection():
    srv = start_server()
    c = srv.connect()
    r = c.request(req("GET", "/", ["Connection: keep-alive"], version="HTTP/1.0"))
    eq(r.status, 200, "first status")
    r = c.request(req("GET", "/", ["Connection: keep-alive"], version="HTTP/1.0"))
    eq(r.status, 200, "second status on the same HTTP/1.0 keep-alive connection")


def test_pipelined_requests_are_answered_in_order():
    srv = start_server()
    c = srv.connect()
    c.send(req("GET", "/") +
           req("GET", "/no/such/path") +
           req("POST", CHAT, body=model_body("pipe-model-one")) +
           req("GET", "/v1/models") +
           req("POST", CHAT, body=b"{not json"))
    got = []
    for _ in range(5):
        r = c.read_response()
        got.append(r.status)
        if r.status == 404 and b"pipe-model-one" in r.body:
            got[-1] = "404-model"
    eq(got, [200, 404, "404-model", 200, 400], "statuses of 5 pipelined requests")


def test_pipelined_requests_sent_one_byte_at_a_time():
    srv = start_server()
    c = srv.connect()
    c.send_slowly(req("GET", "/") + req("POST", CHAT, body=model_body("slow-pipe")) + req("GET", "/"),
                  delay=0.0005)
    eq(c.read_response().status, 200, "first")
    _assert_unknown_model_404(c.read_response(), "slow-pipe")
    eq(c.read_response().status, 200, "third")


def test_connection_close_in_a_pipeline_stops_there():
    srv = start_server()
    c = srv.connect()
    c.send(req("GET", "/", ["Connection: close"]) + req("GET", "/nope"))
    eq(c.read_response().status, 200, "the Connection: close request")
    c.assert_closed(2, "after the Connection: close request (the pipelined one must not be answered)")


def test_many_pipelined_requests_with_an_unread_backlog():
    """The client writes 300 requests before reading anything; the server must
    answer all of them in order (it may pause while its output is unread)."""
    srv = start_server(header_timeout="3s", generative_language_api_key="g", extra=(
        "[codex-api-key]\napi-key = c\nbase-url = http://127.0.0.1:9\n"
        "[claude-api-key]\napi-key = a\nbase-url = http://127.0.0.1:9\n"
        "[endpoints]\ngenerative-language = http://127.0.0.1:9\n"))
    c = srv.connect()
    n = 300
    paths = ["/v1/models" if i % 3 else "/v1beta/models" for i in range(n)]
    paths[-1] = "/last-one"
    c.send(b"".join(req("GET", p) for p in paths))
    for i, p in enumerate(paths):
        r = c.read_response(timeout=5)
        want = 404 if p == "/last-one" else 200
        eq(r.status, want, "response %d (%s)" % (i + 1, p))
        if p == "/v1beta/models":
            check(b'"models"' in r.body, "response %d is not the /v1beta/models answer" % (i + 1))
        elif p == "/v1/models":
            check(b'"object":"list"' in r.body.replace(b" ", b""), "response %d is not the /v1/models answer" % (i + 1))


def test_many_clients_at_once():
    srv = start_server()
    conns = [srv.connect() for _ in range(50)]
    for i, c in enumerate(conns):
        c.send(req("POST", CHAT, body=model_body("client-%d" % i)))
    for i, c in reversed(list(enumerate(conns))):
        _assert_unknown_model_404(c.read_response(), "client-%d" % i)


# ---------------------------------------------------------------- bodies

def test_content_length_body_is_received():
    srv = start_server()
    c = srv.connect()
    _assert_unknown_model_404(c.request(req("POST", CHAT, body=model_body("cl-model-7", pad=50000))),
                              "cl-model-7")


def test_chunked_body_in_random_pieces():
    srv = start_server()
    rnd = random.Random(1234)
    body = model_body("chunky-model-42", pad=20000)
    sizes = [rnd.randint(1, 3000) for _ in range(40)]
    raw = req("POST", CHAT, ["Transfer-Encoding: chunked"]) + chunked(body, sizes)
    c = srv.connect()
    i = 0
    while i < len(raw):
        n = rnd.randint(1, 700)
        c.send(raw[i:i + n])
        i += n
        if rnd.random() < 0.1:
            time.sleep(0.005)
    _assert_unknown_model_404(c.read_response(), "chunky-model-42")


def test_chunked_body_one_byte_per_send():
    srv = start_server()
    body = model_body("bytewise-model")
    raw = req("POST", CHAT, ["Transfer-Encoding: chunked"]) + chunked(body, [7, 1, 16, 3])
    c = srv.connect()
    c.send_slowly(raw, piece=1, delay=0.001)
    _assert_unknown_model_404(c.read_response(), "bytewise-model")


def test_chunked_body_with_extensions_and_uppercase_hex():
    srv = start_server()
    body = model_body("ext-model", pad=300)
    a, b = body[:200], body[200:]
    enc = (b"%X;name=value\r\n" % len(a) + a + b"\r\n" +
           b"%x;flag;q=\"quoted\"\r\n" % len(b) + b + b"\r\n" +
           b"0;last=1\r\n\r\n")
    c = srv.connect()
    _assert_unknown_model_404(c.request(req("POST", CHAT, ["Transfer-Encoding: chunked"]) + enc),
                              "ext-model")


def test_chunked_body_with_trailers_then_next_request():
    srv = start_server()
    body = model_body("trailer-model")
    enc = chunked(body, [10])[:-2] + b"X-Checksum: abc\r\nX-Other: 1\r\n\r\n"
    c = srv.connect()
    c.send(req("POST", CHAT, ["Transfer-Encoding: chunked"]) + enc + req("GET", "/"))
    _assert_unknown_model_404(c.read_response(), "trailer-model")
    eq(c.read_response().status, 200, "request pipelined after the trailers")


def test_content_length_and_transfer_encoding_is_400():
    srv = start_server()
    body = model_body("x")
    raw = req("POST", CHAT, ["Content-Length: %d" % len(body), "Transfer-Encoding: chunked"]) + chunked(body, [8])
    _assert_400_then_close(srv, raw, "Content-Length together with Transfer-Encoding")


def test_transfer_encoding_other_than_chunked_is_501():
    # chunked last, another coding before it: understood, not supported
    srv = start_server()
    c = srv.connect()
    r = c.request(req("POST", CHAT, ["Transfer-Encoding: gzip, chunked"]) + b"0\r\n\r\n")
    eq(r.status, 501, "status for Transfer-Encoding: gzip, chunked")
    srv.assert_alive()


def test_transfer_encoding_lines_are_one_list_and_chunked_must_be_last():
    # RFC 9112 6.3: repeated Transfer-Encoding lines are one list; unless
    # chunked is the final coding (once), the body length is unknown: 400
    # and close.  Two lines (chunked, then gzip) were read as chunked.
    srv = start_server()
    body = model_body("x")
    for hdrs in (["Transfer-Encoding: chunked", "Transfer-Encoding: gzip"],
                 ["Transfer-Encoding: chunked, gzip"],
                 ["Transfer-Encoding: gzip"],
                 ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
                 ["Transfer-Encoding: chunked, chunked"],
                 ["Transfer-Encoding: ,"],
                 ["Transfer-Encoding:"]):
        _assert_400_then_close(srv, req("POST", CHAT, hdrs) + chunked(body, [8]),
                               " + ".join(hdrs))
    c = srv.connect()
    r = c.request(req("POST", CHAT, ["Transfer-Encoding: Chunked"]) + chunked(body, [8]))
    eq(r.status, 404, "Transfer-Encoding: Chunked (any case) reads the body")


def test_content_length_not_a_number_is_400():
    srv = start_server()
    _assert_400_then_close(srv, req("POST", CHAT, ["Content-Length: abc"]), "Content-Length: abc")


def test_content_length_negative_is_400():
    srv = start_server()
    _assert_400_then_close(srv, req("POST", CHAT, ["Content-Length: -1"]), "Content-Length: -1")


def test_content_length_two_different_values_is_400():
    srv = start_server()
    raw = req("POST", CHAT, ["Content-Length: 5", "Content-Length: 6"]) + b"{}{}{}"
    _assert_400_then_close(srv, raw, "two different Content-Length headers")


def test_chunk_size_not_hex_is_400():
    srv = start_server()
    raw = req("POST", CHAT, ["Transfer-Encoding: chunked"]) + b"zz\r\nhello\r\n0\r\n\r\n"
    _assert_400_then_close(srv, raw, "chunk size 'zz'")


def test_chunk_size_with_too_many_hex_digits_is_400():
    srv = start_server()
    raw = req("POST", CHAT, ["Transfer-Encoding: chunked"]) + b"1" + b"0" * 16 + b"\r\nab\r\n"
    _assert_400_then_close(srv, raw, "chunk size with 17 hex digits")


# ---------------------------------------------------------------- Expect

def test_expect_100_continue_is_answered_before_the_body():
    srv = start_server()
    body = model_body("expect-model")
    c = srv.connect()
    c.send(req("POST", CHAT, ["Expect: 100-continue", "Content-Length: %d" % len(body)]))
    eq(c.read_head_raw(timeout=3), b"HTTP/1.1 100 Continue\r\n\r\n", "interim response")
    c.send(body)
    _assert_unknown_model_404(c.read_response(), "expect-model")


def test_expect_100_continue_with_body_over_limit_is_413_without_100():
    srv = start_server(max_body_size="1k")
    c = srv.connect()
    c.send(req("POST", CHAT, ["Expect: 100-continue", "Content-Length: 5000"]))
    r = c.read_response(timeout=3)
    eq(r.status, 413, "first response to an oversized Expect: 100-continue request")
    srv.assert_alive()


# ---------------------------------------------------------------- CORS

def test_every_response_has_cors_origin_header():
    srv = start_server(api_keys="cors-key")
    auth = {"Authorization": "Bearer cors-key"}
    cases = [("GET", "/", None, {}),                          # 200
             ("GET", "/v1/models", None, auth),               # 200
             ("GET", "/nope", None, auth),                    # 404
             ("POST", "/v1/models", b"{}", auth),             # 405
             ("GET", "/v1/models", None, {}),                 # 401
             ("POST", CHAT, b"{bad", auth)]                   # 400
    for m, p, b, h in cases:
        r = srv.request(m, p, body=b, headers=h)
        eq(r.header("Access-Control-Allow-Origin"), "*",
           "Access-Control-Allow-Origin on %s %s (status %d)" % (m, p, r.status))
    c = srv.connect()
    r = c.request(b"GARBAGE\r\n\r\n")
    eq(r.header("Access-Control-Allow-Origin"), "*", "Access-Control-Allow-Origin on a %d for a malformed request" % r.status)


def test_options_any_path_is_204_with_cors_headers_and_no_auth():
    srv = start_server(api_keys="opt-key")
    for path in ("/", "/v1/chat/completions", "/v1beta/models/x:generateContent", "/totally/unknown"):
        r = srv.request("OPTIONS", path, headers={
            "Origin": "http://example.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        eq(r.status, 204, "OPTIONS %s" % path)
        eq(r.body, b"", "OPTIONS %s body" % path)
        eq(r.header("Access-Control-Allow-Origin"), "*", "OPTIONS %s Allow-Origin" % path)
        check(r.header("Access-Control-Allow-Methods"), "OPTIONS %s: no Access-Control-Allow-Methods" % path)
        check(r.header("Access-Control-Allow-Headers"), "OPTIONS %s: no Access-Control-Allow-Headers" % path)


# ---------------------------------------------------------------- bad input

def test_garbage_request_line_is_400():
    srv = start_server()
    _assert_400_then_close(srv, b"GARBAGE\r\n\r\n", "request line 'GARBAGE'")


def test_bad_request_after_a_good_one_on_the_same_connection():
    srv = start_server()
    c = srv.connect()
    eq(c.request(req("GET", "/")).status, 200, "good request")
    eq(c.request(b"GET /x HTTP/1.1\r\nHost: a\r\nBad Header Name: v\r\n\r\n").status, 400,
       "malformed request on the same keep-alive connection")
    c.assert_closed(3, "after the 400")
    srv.assert_alive()


def test_unknown_http_version_is_400():
    srv = start_server()
    _assert_400_then_close(srv, b"GET /x HTTP/9.9\r\nHost: a\r\n\r\n", "HTTP/9.9")


def test_target_not_starting_with_slash_is_400():
    srv = start_server()
    _assert_400_then_close(srv, b"GET x/y HTTP/1.1\r\nHost: a\r\n\r\n", "target 'x/y'")


def test_header_without_colon_is_400():
    srv = start_server()
    _assert_400_then_close(srv, b"GET / HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n", "header line without colon")


def test_space_before_header_colon_is_400():
    srv = start_server()
    _assert_400_then_close(srv, b"GET / HTTP/1.1\r\nHost: a\r\nX-Foo : bar\r\n\r\n", "space before colon")


def test_control_character_in_header_value_is_400():
    srv = start_server()
    _assert_400_then_close(srv, b"GET / HTTP/1.1\r\nHost: a\r\nX-Foo: a\x01b\r\n\r\n", "control char in value")


def test_body_shorter_than_content_length_then_client_closes():
    srv = start_server()
    c = srv.connect()
    c.send(req("POST", CHAT, ["Content-Length: 100"]) + b'{"model":')
    time.sleep(0.1)
    c.close()
    time.sleep(0.1)
    srv.assert_alive()
    # and once more with a half-close instead of a full close
    c = srv.connect()
    c.send(req("POST", CHAT, ["Content-Length: 100"]) + b'{"model":')
    c.shutdown_write()
    c.wait_closed(3)
    srv.assert_alive()


def test_client_that_never_finishes_its_head_does_not_block_others():
    srv = start_server()
    stuck = srv.connect()
    stuck.send(b"GET / HTTP/1.1\r\nHost: a\r\nX-Half: ")
    srv.assert_alive()
    other = srv.connect()
    eq(other.request(req("GET", "/v1/models")).status, 200, "second client while the first is stuck")
