"""
bench/logintool.py - the Python side of bench/logins.sh (issue 11).

Commands (all traffic on 127.0.0.1; bench/logins.sh runs them in a network
namespace of their own when it can):

  mocks DIR SECONDS
      The login mocks of tests/integ (mocks_login.MockLogin, and a
      mocks_oauth.MockCodex the Codex tokens are valid at) over TLS with a
      throwaway test CA made in DIR/pki (tests/integ/testca.py, openssl).
      Writes DIR/ca (the CA's path, for ca-file) and DIR/endpoints.ini
      (an [endpoints] section pointing every login key and codex at them),
      then waits for DIR/go-1, DIR/go-2, ... (one line: PORT KEY EMAIL)
      and completes one management Codex login on the proxy at PORT for
      each, as tests/integ/test_management.py does:
        GET  /v0/management/codex-auth-url            -> url, state
        MockLogin.consent(url)                         (the "browser")
        POST /v0/management/oauth-callback {"provider": "codex",
             "redirect_url": <where the browser landed>}
        GET  /v0/management/get-auth-status?state=     until not "wait"
        GET  /v1/models                                until gpt-5 is listed
      and writes DIR/done-N: JSON with "ok", the times (ms from the first
      request: auth_url, callback, status_ok, listed) or "error".  Runs
      until SIGTERM or SECONDS.

  keytime PORT KEY REPS PID
      On a server whose key nobody has sent yet, over one keep-alive
      connection: one untimed GET /v1/models, REPS timed ones (the
      baseline), then the first management request with KEY (GET
      /v0/management/get-auth-status?state=bench-probe, Authorization:
      Bearer KEY; the server checks the key by bcrypt), then REPS more with
      the key, now accepted (cached).  PID's CPU time (/proc/PID/schedstat)
      is read around the first one.  Prints one line:
        FIRST_MS FIRST_CPU_MS CACHED_MEDIAN_MS MODELS_MEDIAN_MS STATUS
      and appends every sample to RAW (env LOGINTOOL_RAW) as a JSON line.

  loopcheck PORT KEY PID
      The loop while a key is checked: connection A (keep-alive) sends one
      untimed GET /v1/models; connection B sends the first management
      request with KEY (nobody sent it before: a bcrypt check starts);
      then A sends GET /v1/models one after the other, each timed, until
      B's answer has arrived (checked without blocking after each), then
      as many again with no check running (idle; the key is cached now,
      which /v1/models does not look at).  Prints one line:
        CHECK_MS CHECK_CPU_MS N DUR_P50 DUR_P99 DUR_MAX IDLE_P50 IDLE_P99
        IDLE_MAX STATUS
      (ms; p99 by nearest rank) and appends the samples to RAW as above.

Standard library only, plus tests/integ's mocks and test CA (found from
this file).
"""

import json
import math
import os
import select
import signal
import socket
import statistics
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integ"))

M = "/v0/management"
PROBE = M + "/get-auth-status?state=bench-probe"


# ------------------------------------------------------------------ HTTP

class Conn:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port, as little
    client work as possible between the clock readings."""

    def __init__(self, port, timeout=30):
        self.s = socket.create_connection(("127.0.0.1", port), timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        self.s.close()

    def send(self, method, path, key=None, body=None):
        h = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % (method, path)
        if key is not None:
            h += "Authorization: Bearer %s\r\n" % key
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            h += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(data)
        self.s.sendall(h.encode() + b"\r\n" + data)

    def _fill(self):
        b = self.s.recv(65536)
        if not b:
            raise SystemExit("the proxy closed the connection")
        self.buf += b

    def answer(self):
        """(status, body) of the next answer (Content-Length or chunked)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        hdr = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdr[k.strip().lower()] = v.strip()
        if "content-length" in hdr:
            n = int(hdr["content-length"])
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n], self.buf[n:]
            return status, body
        if "chunked" not in hdr.get("transfer-encoding", "").lower():
            raise SystemExit("an answer with neither Content-Length nor chunked: %r" % head)
        body = b""
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            size, self.buf = self.buf.split(b"\r\n", 1)
            n = int(size.split(b";")[0], 16)
            while len(self.buf) < n + 2:
                self._fill()
            body += self.buf[:n]
            self.buf = self.buf[n + 2:]
            if n == 0:
                return status, body

    def complete(self):
        """True when a whole answer is already buffered (or arrives without
        waiting)."""
        r, _, _ = select.select([self.s], [], [], 0)
        if r:
            self._fill()
        if b"\r\n\r\n" not in self.buf:
            return False
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        for ln in head.decode("latin-1").split("\r\n")[1:]:
            k, _, v = ln.partition(":")
            if k.strip().lower() == "content-length":
                return len(rest) >= int(v)
        return b"0\r\n\r\n" in rest

    def request(self, method, path, key=None, body=None):
        self.send(method, path, key, body)
        return self.answer()


def cpu_ns(pid):
    with open("/proc/%s/schedstat" % pid) as f:
        return int(f.read().split()[0])


def ms(a, b):
    return (b - a) / 1e6


def pct(v, p):
    """Nearest-rank percentile of v (p in 0..100)."""
    v = sorted(v)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


def raw_append(rec):
    path = os.environ.get("LOGINTOOL_RAW")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(rec) + "\n")


# ------------------------------------------------------------------ keytime

def keytime(port, key, reps, pid):
    c = Conn(port)
    st, _ = c.request("GET", "/v1/models")
    if st != 200:
        raise SystemExit("GET /v1/models answered %d" % st)
    models = []
    for _ in range(reps):
        t = time.perf_counter_ns()
        c.request("GET", "/v1/models")
        models.append(ms(t, time.perf_counter_ns()))
    c0 = cpu_ns(pid)
    t = time.perf_counter_ns()
    st, body = c.request("GET", PROBE, key)
    first = ms(t, time.perf_counter_ns())
    cpu = (cpu_ns(pid) - c0) / 1e6
    if st != 200:
        raise SystemExit("the first request with the key answered %d: %r" % (st, body[:200]))
    cached = []
    for _ in range(reps):
        t = time.perf_counter_ns()
        st2, _ = c.request("GET", PROBE, key)
        cached.append(ms(t, time.perf_counter_ns()))
        if st2 != 200:
            raise SystemExit("a request with the accepted key answered %d" % st2)
    c.close()
    raw_append({"what": "keytime", "first_ms": first, "first_cpu_ms": cpu,
                "cached_ms": cached, "models_ms": models})
    print("%.3f %.3f %.4f %.4f %d" % (first, cpu, statistics.median(cached),
                                       statistics.median(models), st))


# ---------------------------------------------------------------- loopcheck

def loopcheck(port, key, pid):
    a = Conn(port)
    st, _ = a.request("GET", "/v1/models")
    if st != 200:
        raise SystemExit("GET /v1/models answered %d" % st)
    b = Conn(port)
    during = []
    c0 = cpu_ns(pid)
    t0 = time.perf_counter_ns()
    b.send("GET", PROBE, key)
    while True:
        t = time.perf_counter_ns()
        a.request("GET", "/v1/models")
        t1 = time.perf_counter_ns()
        during.append(ms(t, t1))
        if b.complete():
            break
        if t1 - t0 > 60e9:
            raise SystemExit("the key check did not answer within 60 s")
    check = ms(t0, time.perf_counter_ns())
    cpu = (cpu_ns(pid) - c0) / 1e6
    st, body = b.answer()
    if st != 200:
        raise SystemExit("the key check answered %d: %r" % (st, body[:200]))
    idle = []
    for _ in range(len(during)):
        t = time.perf_counter_ns()
        a.request("GET", "/v1/models")
        idle.append(ms(t, time.perf_counter_ns()))
    a.close()
    b.close()
    raw_append({"what": "loopcheck", "check_ms": check, "check_cpu_ms": cpu,
                "during_ms": during, "idle_ms": idle})
    print("%.3f %.3f %d %.4f %.4f %.4f %.4f %.4f %.4f %d" % (
        check, cpu, len(during), pct(during, 50), pct(during, 99), max(during),
        pct(idle, 50), pct(idle, 99), max(idle), st))


# -------------------------------------------------------------------- mocks

def _json(c, method, path, key, body=None, want=200):
    st, data = c.request(method, path, key, body)
    if st != want:
        raise RuntimeError("%s %s answered %d: %r" % (method, path, st, data[:300]))
    return json.loads(data)


def mgmt_login(login, port, key, email):
    """One management Codex login, end to end; the times in ms from the
    first request."""
    login.email = email
    c = Conn(port)
    t0 = time.perf_counter_ns()
    j = _json(c, "GET", M + "/codex-auth-url", key)
    if j.get("status") != "ok" or not j.get("url") or not j.get("state"):
        raise RuntimeError("codex-auth-url: %r" % j)
    t_url = time.perf_counter_ns()
    redirect = login.consent(j["url"])
    j2 = _json(c, "POST", M + "/oauth-callback", key,
               {"provider": "codex", "redirect_url": redirect})
    if j2 != {"status": "ok"}:
        raise RuntimeError("oauth-callback: %r" % j2)
    t_cb = time.perf_counter_ns()
    q = M + "/get-auth-status?state=" + urllib.parse.quote(j["state"], safe="")
    while True:
        s = _json(c, "GET", q, key)
        if s.get("status") != "wait":
            break
        if time.perf_counter_ns() - t0 > 30e9:
            raise RuntimeError("the login still waits after 30 s")
        time.sleep(0.005)
    if s != {"status": "ok"}:
        raise RuntimeError("get-auth-status: %r" % s)
    t_ok = time.perf_counter_ns()
    while True:
        m = _json(c, "GET", "/v1/models", None)
        if any(x.get("id") == "gpt-5" for x in m.get("data", [])):
            break
        if time.perf_counter_ns() - t0 > 30e9:
            raise RuntimeError("gpt-5 not listed 30 s after the login")
        time.sleep(0.005)
    t_listed = time.perf_counter_ns()
    c.close()
    return {"ok": True, "auth_url_ms": ms(t0, t_url), "callback_ms": ms(t0, t_cb),
            "status_ok_ms": ms(t0, t_ok), "listed_ms": ms(t0, t_listed),
            "exchanges": len(login.exchanges)}


def mocks_cmd(d, secs):
    import mocks
    import mocks_login
    import mocks_oauth
    import testca
    d = os.path.abspath(d)
    pki = testca.make_test_pki(os.path.join(d, "pki"))
    ctx = mocks.server_context(pki["server_cert"], pki["server_key"])
    login = mocks_login.MockLogin(tls=ctx).start()
    cx = mocks_oauth.MockCodex(tls=ctx).start()
    login.link(cx)
    ep = dict(login.endpoints())
    ep["codex"] = cx.base_url
    with open(os.path.join(d, "endpoints.ini.tmp"), "w") as f:
        f.write("[endpoints]\n" + "".join("%s = %s\n" % kv for kv in sorted(ep.items())))
    with open(os.path.join(d, "ca"), "w") as f:
        f.write(pki["ca_cert"] + "\n")
    os.replace(os.path.join(d, "endpoints.ini.tmp"), os.path.join(d, "endpoints.ini"))
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    end = time.monotonic() + secs
    n = 1
    try:
        while time.monotonic() < end:
            go = os.path.join(d, "go-%d" % n)
            if not os.path.exists(go):
                time.sleep(0.01)
                continue
            with open(go) as f:
                port, key, email = f.read().split()
            try:
                res = mgmt_login(login, int(port), key, email)
            except (RuntimeError, OSError, SystemExit, AssertionError) as e:
                res = {"ok": False, "error": str(e)}
            with open(os.path.join(d, "done-%d.tmp" % n), "w") as f:
                json.dump(res, f)
            os.replace(os.path.join(d, "done-%d.tmp" % n), os.path.join(d, "done-%d" % n))
            n += 1
    finally:
        login.stop()
        cx.stop()


def main(a):
    if len(a) == 3 and a[0] == "mocks":
        mocks_cmd(a[1], float(a[2]))
    elif len(a) == 5 and a[0] == "keytime":
        keytime(int(a[1]), a[2], int(a[3]), a[4])
    elif len(a) == 4 and a[0] == "loopcheck":
        loopcheck(int(a[1]), a[2], a[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
