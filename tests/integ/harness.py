"""
harness.py - start the real cli-proxy-api binary and talk to it over sockets.

Python 3 standard library only.  Every server started through this module is
recorded for the running test; run.py stops them all when the test ends, checks
their stderr for sanitizer reports and, on failure, prints its tail.

Nothing here ever connects anywhere but 127.0.0.1.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HOST = "127.0.0.1"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("CPA_BIN") or os.path.join(REPO, "build", "cli-proxy-api")

# Text in the server's stderr that fails the test whatever else happened.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

READY_TIMEOUT = 5.0
socket.setdefaulttimeout(5.0)  # no test may hang forever on a socket


class TestFailure(AssertionError):
    pass


class Skipped(Exception):
    """Raised by skip(): the test could not run here; run.py counts it as
    skipped, never as passed."""


def skip(why):
    raise Skipped(why)


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def eq(got, want, what):
    if got != want:
        raise TestFailure("%s: got %r, want %r" % (what, got, want))


# --------------------------------------------------------------------------
# per-test bookkeeping (used by run.py)

_servers = []   # Server objects started during the current test
_tmpdirs = []


def begin_test():
    _servers.clear()
    _tmpdirs.clear()


def end_test():
    """Stop everything the test started.  Returns a list of problems found
    (sanitizer reports) and the stderr tails for a failure report."""
    problems, tails = [], []
    for s in _servers:
        try:
            s.stop()
        except Exception as e:  # pragma: no cover - best effort
            problems.append("stopping server: %r" % (e,))
        text = s.stderr_text()
        for m in SANITIZER_MARKERS:
            if m in text:
                problems.append("sanitizer report in server stderr (%s)" % m)
                break
        tails.append((s.label, "\n".join(text.splitlines()[-20:])))
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)
    _servers.clear()
    _tmpdirs.clear()
    return problems, tails


_sanitized = []


def sanitized():
    """Is the binary under test built with AddressSanitizer?  Its memory
    figures (shadow memory, quarantine) then say nothing about ours."""
    if not _sanitized:
        try:
            with open(BINARY, "rb") as f:
                _sanitized.append(b"__asan_" in f.read())
        except OSError:
            _sanitized.append(False)
    return _sanitized[0]


def new_tmpdir():
    d = tempfile.mkdtemp(prefix="cpa-integ-")
    _tmpdirs.append(d)
    return d


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --------------------------------------------------------------------------
# config

def render_config(settings, extra=""):
    """settings: ordered dict of top-level keys (a list value = repeated key;
    None = key left out).  extra: raw INI text appended (sections go here)."""
    lines = ["; written by tests/integ/harness.py"]
    for k, v in settings.items():
        if v is None:
            continue
        for item in (v if isinstance(v, (list, tuple)) else [v]):
            lines.append("%s = %s" % (k, item))
    text = "\n".join(lines) + "\n"
    if extra:
        text += "\n" + extra.strip("\n") + "\n"
    return text


class Server:
    """One server process with its own temp dir, config.ini and auth-dir.

    start_server(extra, **settings): keys in settings use '_' for '-'
    (header_timeout='1s'); they override the defaults below."""

    def __init__(self, extra="", settings=None, label="server", binary=None):
        self.dir = new_tmpdir()
        self.auth_dir = os.path.join(self.dir, "auth-dir")
        os.mkdir(self.auth_dir)
        self.config_path = os.path.join(self.dir, "config.ini")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.stdout_path = os.path.join(self.dir, "stdout.log")
        self.port = free_port()
        self.label = label
        self.binary = binary or BINARY
        self.settings = {
            "host": HOST,
            "port": self.port,
            "auth-dir": self.auth_dir,
            "shutdown-timeout": "2s",
        }
        self.settings.update(settings or {})
        self.extra = extra
        self.proc = None
        self.conns = []
        self.args = []  # extra command-line arguments after --config
        self.write_config()

    # -- config -----------------------------------------------------------
    def write_config(self, extra=None, settings=None, text=None):
        """Rewrite config.ini (for SIGHUP tests).  text replaces everything."""
        if extra is not None:
            self.extra = extra
        if settings:
            self.settings.update(settings)
        if text is None:
            text = render_config(self.settings, self.extra)
        with open(self.config_path + ".tmp", "w") as f:
            f.write(text)
        os.replace(self.config_path + ".tmp", self.config_path)

    # -- process ----------------------------------------------------------
    def start(self, wait=True):
        self._err = open(self.stderr_path, "wb")
        self._out = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "--config", self.config_path] + self.args,
            stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err,
            cwd=self.dir)
        _servers.append(self)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise TestFailure("server exited with %s before accepting connections"
                                  % self.proc.returncode)
            try:
                s = socket.create_connection((HOST, self.port), timeout=0.5)
                s.close()
                return
            except OSError:
                time.sleep(0.02)
        raise TestFailure("server not accepting on port %d after %.0fs" % (self.port, timeout))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        """Return the exit status, or None if still running after timeout."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        for c in self.conns:
            c.close()
        self.conns = []
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(5) is None:
                self.proc.kill()
                self.proc.wait()
        for f in ("_err", "_out"):
            if hasattr(self, f):
                getattr(self, f).close()

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_stderr(self, needle, timeout=2.0):
        """Wait until needle (str or predicate on the text) shows up in stderr."""
        pred = needle if callable(needle) else (lambda t: needle in t)
        deadline = time.monotonic() + timeout
        while True:
            t = self.stderr_text()
            if pred(t):
                return t
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    # -- clients ----------------------------------------------------------
    def connect(self, timeout=5.0, nodelay=True):
        c = Conn(self.port, timeout=timeout, nodelay=nodelay)
        self.conns.append(c)
        return c

    def request(self, method, path, body=None, headers=None, timeout=5.0):
        """One request through http.client on a fresh connection."""
        hc = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                headers = dict(headers or {})
                headers.setdefault("Content-Type", "application/json")
            hc.request(method, path, body=body, headers=headers or {})
            r = hc.getresponse()
            return Response(r.status, r.reason, r.getheaders(), r.read(), "HTTP/1.1")
        finally:
            hc.close()

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def post(self, path, body, headers=None):
        return self.request("POST", path, body=body, headers=headers)

    def assert_alive(self):
        """The server still answers a normal request on a new connection."""
        check(self.proc.poll() is None, "server process died (status %s)" % self.proc.returncode)
        try:
            r = self.get("/")
        except OSError as e:
            raise TestFailure("server no longer answers GET /: %r" % (e,))
        eq(r.status, 200, "GET / after the bad client")


def start_server(extra="", label="server", wait=True, **settings):
    s = Server(extra=extra, label=label,
               settings={k.replace("_", "-"): v for k, v in settings.items()})
    return s.start(wait=wait)


def run_cli(args, config_text=None, timeout=10, env=None):
    """Run the binary to completion.  If config_text is given it is written to
    a temp config.ini whose path replaces '{config}' in args.
    Returns (status, stdout, stderr, config_path)."""
    path = None
    if config_text is not None:
        d = new_tmpdir()
        path = os.path.join(d, "config.ini")
        with open(path, "w") as f:
            f.write(config_text)
        args = [a.replace("{config}", path) for a in args]
    p = subprocess.run([BINARY] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout, env=env)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    for m in SANITIZER_MARKERS:
        if m in err:
            raise TestFailure("sanitizer report in stderr: %s" % err[-2000:])
    return p.returncode, out, err, path


# --------------------------------------------------------------------------
# responses and raw connections

def run_in_netns(srv, client_source, client_args, remote, timeout=20):
    """Run srv's binary (not started: its config and stderr files) and a
    Python client in a network namespace of the test's own, whose lo also
    holds the address remote, so a non-loopback peer can be tried while
    nothing leaves the machine.  client_args are the client's arguments
    after the port.  Skips where there is no namespace (not root, no
    unshare or ip).  Returns the client's stdout lines."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        skip("needs root, unshare and ip for a network namespace")
    client = os.path.join(srv.dir, "client.py")
    with open(client, "w") as f:
        f.write(client_source)
    script = ("ip link set lo up && ip addr add %s/32 dev lo || exit 97\n"
              "%s --config %s 2>%s & pid=$!\n"
              "python3 %s %d %s; rc=$?\nkill $pid; wait $pid\nexit $rc\n"
              % (remote, BINARY, srv.config_path, srv.stderr_path, client, srv.port,
                 " ".join("'%s'" % a for a in client_args)))
    try:
        p = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True,
                           timeout=timeout)
    except OSError as e:
        skip("unshare: %r" % e)
    if p.returncode == 97 or b"Operation not permitted" in p.stderr:
        skip("no network namespace here: %r" % p.stderr[-200:])
    eq(p.returncode, 0, "namespace run (stderr %r)" % p.stderr[-500:])
    return p.stdout.decode().strip().split("\n")


class Response:
    def __init__(self, status, reason, headers, body, version):
        self.status = status
        self.reason = reason
        self.headers = [(k, v) for k, v in headers]
        self.body = body
        self.version = version

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise TestFailure("%d response body is not JSON: %r" % (self.status, self.body[:300]))

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:200])


class Closed(Exception):
    pass


class Conn:
    """A raw TCP connection with exact byte control and a tiny HTTP reader."""

    def __init__(self, port, timeout=5.0, nodelay=True):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        if nodelay:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False
        self.timeout = timeout

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def send_slowly(self, data, piece=1, delay=0.001):
        if isinstance(data, str):
            data = data.encode("latin-1")
        for i in range(0, len(data), piece):
            self.sock.sendall(data[i:i + piece])
            if delay:
                time.sleep(delay)

    def try_send(self, data):
        """Send, ignoring errors from a peer that has closed already."""
        try:
            self.send(data)
            return True
        except OSError:
            return False

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def _fill(self, deadline):
        if self.eof:
            raise Closed()
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(65536)
        except ConnectionResetError:
            d = b""
        if not d:
            self.eof = True
            raise Closed()
        self.buf += d

    def read_until(self, sep, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while sep not in self.buf:
            self._fill(deadline)
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_head_raw(self, timeout=None):
        try:
            return self.read_until(b"\r\n\r\n", timeout)
        except Closed:
            raise TestFailure("connection closed before a response head (got %r)" % self.buf[:200])
        except socket.timeout:
            raise TestFailure("no response head within %.1fs (got %r)" % (timeout or self.timeout, self.buf[:200]))

    def read_response(self, timeout=None, method="GET"):
        """Read one response (interim 1xx responses are returned as such)."""
        timeout = timeout or self.timeout
        deadline = time.monotonic() + timeout
        try:
            head = self.read_until(b"\r\n\r\n", timeout)
        except Closed:
            raise TestFailure("connection closed before a response (got %r)" % self.buf[:200])
        except socket.timeout:
            raise TestFailure("no response within %.1fs (got %r)" % (timeout, self.buf[:200]))
        lines = head[:-4].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        check(len(parts) >= 2 and parts[0].startswith("HTTP/1.") and parts[1].isdigit(),
              "bad status line %r" % lines[0])
        status = int(parts[1])
        headers = []
        for ln in lines[1:]:
            k, sep, v = ln.partition(":")
            check(sep == ":", "bad response header line %r" % ln)
            headers.append((k.strip(), v.strip()))
        r = Response(status, parts[2] if len(parts) > 2 else "", headers, b"", parts[0])
        if status < 200 or status in (204, 304) or method == "HEAD":
            return r
        te = r.header("Transfer-Encoding")
        cl = r.header("Content-Length")
        left = lambda: max(0.05, deadline - time.monotonic())
        try:
            if te and "chunked" in te.lower():
                body = b""
                while True:
                    line = self.read_until(b"\r\n", left())
                    size = int(line.split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.read_until(b"\r\n", left()) != b"\r\n":
                            pass
                        break
                    body += self.read_exact(size, left())
                    self.read_exact(2, left())
                r.body = body
            elif cl is not None:
                r.body = self.read_exact(int(cl), left())
            else:
                while True:
                    try:
                        self._fill(deadline)
                    except Closed:
                        break
                r.body, self.buf = self.buf, b""
        except Closed:
            raise TestFailure("connection closed in the middle of a %d response body" % status)
        except socket.timeout:
            raise TestFailure("%d response body incomplete after %.1fs" % (status, timeout))
        return r

    def request(self, raw, timeout=None, method="GET"):
        self.send(raw)
        return self.read_response(timeout, method=method)

    def wait_closed(self, timeout):
        """Wait for the peer to close.  Returns (closed, extra_bytes):
        closed is True when recv returned b'' (or the connection was reset)."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._fill(deadline)
        except Closed:
            extra, self.buf = self.buf, b""
            return True, extra
        except socket.timeout:
            extra, self.buf = self.buf, b""
            return False, extra

    def assert_closed(self, timeout=3.0, what="connection"):
        closed, extra = self.wait_closed(timeout)
        check(not extra, "%s: unexpected bytes before close: %r" % (what, extra[:200]))
        check(closed, "%s: server did not close within %.1fs" % (what, timeout))

    def assert_silent(self, timeout, what="connection"):
        """Nothing arrives (and no close) for timeout seconds."""
        closed, extra = self.wait_closed(timeout)
        check(not extra, "%s: expected no answer yet, got %r" % (what, extra[:200]))
        check(not closed, "%s: server closed the connection" % what)


def req(method, path, headers=(), body=b"", version="HTTP/1.1", host=True):
    """Build a raw request.  headers: list of (name, value) or 'Name: v' strings.
    Content-Length is added for a non-empty body unless a header sets it or
    Transfer-Encoding."""
    if isinstance(body, str):
        body = body.encode()
    lines = ["%s %s %s" % (method, path, version)]
    if host:
        lines.append("Host: 127.0.0.1")
    names = set()
    for h in headers:
        if isinstance(h, tuple):
            h = "%s: %s" % h
        lines.append(h)
        names.add(h.split(":", 1)[0].strip().lower())
    if body and not names & {"content-length", "transfer-encoding"}:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(data, sizes):
    """Encode data as chunks of the given sizes (cycled), plus the last chunk."""
    out, i, k = b"", 0, 0
    while i < len(data):
        n = min(sizes[k % len(sizes)], len(data) - i)
        k += 1
        out += b"%x\r\n" % n + data[i:i + n] + b"\r\n"
        i += n
    return out + b"0\r\n\r\n"


def model_body(model, pad=0, key_last=True):
    """A JSON request body naming model; pad makes it longer.  The model comes
    last so a body cut short cannot parse to the same answer."""
    msgs = [{"role": "user", "content": "x" * pad}]
    if key_last:
        return json.dumps({"messages": msgs, "model": model}).encode()
    return json.dumps({"model": model, "messages": msgs}).encode()
