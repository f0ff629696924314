"""SIGHUP reloads the config; SIGTERM/SIGINT shut down gracefully."""

import signal
import socket
import time

from harness import HOST, TestFailure, check, eq, start_server, req, model_body

CHAT = "/v1/chat/completions"


def _status_with_key(srv, key):
    return srv.get("/v1/models", headers={"Authorization": "Bearer " + key}).status


def _wait_for(pred, within, step=0.05):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def _listener_gone(port):
    """True when a new connection is refused or reset/closed without an answer."""
    try:
        s = socket.create_connection((HOST, port), timeout=0.5)
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    try:
        s.settimeout(0.5)
        s.sendall(req("GET", "/"))
        return s.recv(100) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    finally:
        s.close()


# ---------------------------------------------------------------- SIGHUP

def test_sighup_applies_changed_api_keys():
    srv = start_server(api_keys="old-key-1")
    eq(_status_with_key(srv, "old-key-1"), 200, "old key before reload")
    eq(_status_with_key(srv, "new-key-2"), 401, "new key before reload")
    srv.write_config(settings={"api-keys": "new-key-2"})
    srv.signal(signal.SIGHUP)
    check(_wait_for(lambda: _status_with_key(srv, "new-key-2") == 200, 3),
          "new key not accepted within 3s of SIGHUP")
    eq(_status_with_key(srv, "old-key-1"), 401, "old key after reload")
    check(srv.proc.poll() is None, "server exited on SIGHUP")


def test_sighup_keeps_an_established_connection():
    srv = start_server()
    c = srv.connect()
    eq(c.request(req("GET", "/")).status, 200, "before SIGHUP")
    srv.write_config(settings={"api-keys": "k"})
    srv.signal(signal.SIGHUP)
    time.sleep(0.5)
    eq(c.request(req("GET", "/")).status, 200, "GET / on the same connection after SIGHUP")


def test_sighup_with_invalid_config_keeps_old_config():
    srv = start_server(api_keys="keep-me")
    text = open(srv.config_path).read()
    bad = text + "\nthis-key-does-not-exist = 1\n"
    bad_line = bad.count("\n")  # the new key is the last line
    srv.write_config(text=bad)
    srv.signal(signal.SIGHUP)
    where = "%s:%d:" % (srv.config_path, bad_line)
    check(srv.wait_stderr(where, 3) is not None,
          "stderr does not say %r after SIGHUP with a bad config" % where)
    check(srv.proc.poll() is None, "server exited after a bad reload (status %s)" % srv.proc.returncode)
    eq(_status_with_key(srv, "keep-me"), 200, "old key after a rejected reload")
    eq(_status_with_key(srv, "other"), 401, "auth still enforced after a rejected reload")


# ---------------------------------------------------------------- SIGTERM / SIGINT

def test_sigterm_exits_0_quickly_when_idle():
    srv = start_server(shutdown_timeout="5s")
    eq(srv.get("/").status, 200, "before SIGTERM")
    t0 = time.monotonic()
    srv.signal(signal.SIGTERM)
    eq(srv.wait_exit(5), 0, "exit status after SIGTERM")
    check(time.monotonic() - t0 < 2.0, "idle server took %.1fs to exit" % (time.monotonic() - t0))


def test_sigint_exits_0():
    srv = start_server()
    srv.signal(signal.SIGINT)
    eq(srv.wait_exit(5), 0, "exit status after SIGINT")


def test_sigterm_finishes_request_in_flight():
    srv = start_server(shutdown_timeout="5s")
    body = model_body("in-flight-model", pad=2000)
    half = len(body) // 2
    c = srv.connect()
    c.send(req("POST", CHAT, ["Content-Length: %d" % len(body)]) + body[:half])
    time.sleep(0.2)
    srv.signal(signal.SIGTERM)
    check(_wait_for(lambda: _listener_gone(srv.port), 2, step=0.1),
          "new connections still accepted 2s after SIGTERM")
    check(srv.proc.poll() is None, "server exited with a request in flight (status %s)" % srv.proc.returncode)
    c.send(body[half:])
    r = c.read_response(timeout=3)
    eq(r.status, 404, "status of the request in flight")
    check(b"in-flight-model" in r.body, "in-flight response incomplete: %r" % r.body[:200])
    eq(srv.wait_exit(5), 0, "exit status after the in-flight request finished")


def test_sigterm_closes_idle_keep_alive_connections():
    srv = start_server(shutdown_timeout="5s", idle_timeout="60s")
    c = srv.connect()
    eq(c.request(req("GET", "/")).status, 200, "before SIGTERM")
    t0 = time.monotonic()
    srv.signal(signal.SIGTERM)
    c.assert_closed(3, "idle keep-alive connection at SIGTERM")
    eq(srv.wait_exit(3), 0, "exit status")
    check(time.monotonic() - t0 < 3.0, "took %.1fs" % (time.monotonic() - t0))


def test_sigterm_gives_up_on_a_stalled_request_after_shutdown_timeout():
    srv = start_server(shutdown_timeout="1s", body_timeout="30s")
    c = srv.connect()
    c.send(req("POST", CHAT, ["Content-Length: 100"]) + b'{"model":')
    time.sleep(0.2)
    t0 = time.monotonic()
    srv.signal(signal.SIGTERM)
    status = srv.wait_exit(5)
    took = time.monotonic() - t0
    check(status is not None, "still running 5s after SIGTERM with shutdown-timeout 1s")
    eq(status, 0, "exit status")
    check(took <= 2.5, "exited %.1fs after SIGTERM, shutdown-timeout is 1s" % took)
