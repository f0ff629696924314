"""The CLI logins (issue 11), end to end through the real binary: --login
(Gemini CLI), --codex-login, --codex-device-login, --claude-login,
--qwen-login and --antigravity-login against the login mocks
(mocks_login.py) on localhost with the test CA, reached via [endpoints].

Each callback login runs twice: completed by a GET on its fixed callback
port, and by the redirect address written to the process's stdin.  Then the
failures: state mismatch, access_denied, a busy callback port, the device
flow's slow_down and expiry, a Google login with no project.

The interface (output lines, file names and fields, exit codes) is the one
agreed for issue 11."""

import http.client
import hashlib
import json
import os
import re
import socket
import stat
import subprocess
import threading
import time
import urllib.parse

import harness
import mocks
import mocks_llm
import mocks_login
import mocks_oauth
import testca
from harness import TestFailure, check, eq

LOGIN_TIMEOUT = 20      # seconds a login may take once the consent is given
URL_TIMEOUT = 10        # seconds until the address is printed
GEMINI_META = {"ideType": "IDE_UNSPECIFIED", "platform": "PLATFORM_UNSPECIFIED",
               "pluginType": "GEMINI"}
# The word after "Account:" for each login (the spec says <kind>).
KIND_WORDS = {"gemini": ("gemini", "gemini-cli"), "codex": ("codex",), "claude": ("claude",),
              "qwen": ("qwen",), "antigravity": ("antigravity",)}
# One model each kind's "Models:" line must name (the tables in src/models.c).
KIND_MODELS = {"gemini": ["gemini-2.5-pro"], "codex": ["gpt-5"],
               "claude": ["claude-sonnet-4-20250514"], "qwen": ["qwen3-coder-plus"],
               "antigravity": list(mocks_oauth.ANTIGRAVITY_LIST)}


def _ctx():
    pki = testca.shared_pki()
    return mocks.server_context(pki["server_cert"], pki["server_key"])


class LoginEnv:
    """The login mock, the upstreams (Code Assist for Gemini CLI and
    Antigravity, Codex, Claude, Qwen; every token the login mock issues is
    valid at each) and a config whose [endpoints] point at them.  Stopped by
    harness.end_test (it is listed as one of the test's servers)."""

    label = "login mocks"

    def __init__(self, more=""):
        ctx = _ctx()
        self.login = mocks_login.MockLogin(tls=ctx).start()
        self.ca = mocks_login.LoginCodeAssist(tls=ctx).start()
        self.ag = mocks_login.LoginCodeAssist(tls=ctx).start()
        self.ag2 = mocks_oauth.MockCodeAssist(tls=ctx).start()
        self.cx = mocks_oauth.MockCodex(tls=ctx).start()
        self.cl = mocks_llm.MockClaude(tls=ctx).start()
        self.qw = mocks_oauth.MockQwen(tls=ctx).start()
        self.mocks = [self.login, self.ca, self.ag, self.ag2, self.cx, self.cl, self.qw]
        self.procs = []
        harness._servers.append(self)
        self.login.link(self.ca, self.ag, self.ag2, self.cx, self.cl, self.qw)
        self.login.resource_url = self.qw.resource_url
        ep = dict(self.login.endpoints())
        ep.update({"gemini-cli": self.ca.url, "antigravity": self.ag.url,
                   "antigravity-fallback": self.ag2.url, "codex": self.cx.base_url,
                   "claude": self.cl.url, "qwen": self.qw.base_url})
        self.extra = more + "\n[endpoints]\n" + "".join("%s = %s\n" % kv for kv in ep.items())
        self.dir = harness.new_tmpdir()
        self.auth_dir = os.path.join(self.dir, "auth-dir")
        os.mkdir(self.auth_dir)
        self.settings = {"host": harness.HOST, "port": harness.free_port(),
                         "auth-dir": self.auth_dir, "shutdown-timeout": "2s",
                         "ca-file": testca.shared_pki()["ca_cert"], "request-retry": 1,
                         "upstream-connect-timeout": "2s", "upstream-first-byte-timeout": "4s",
                         "upstream-read-timeout": "4s"}
        self.config_path = os.path.join(self.dir, "config.ini")
        with open(self.config_path, "w") as f:
            f.write(harness.render_config(self.settings, self.extra))

    def run(self, args, **kw):
        p = LoginProc(self, list(args), **kw)
        self.procs.append(p)
        return p

    def server(self, extra="", start=True, **settings):
        """A harness.Server (the proxy itself) with these endpoints."""
        s = dict(self.settings)
        s.pop("auth-dir")
        s.pop("port")
        s.update({k.replace("_", "-"): v for k, v in settings.items()})
        srv = harness.Server(extra=extra + "\n" + self.extra, settings=s, label="cli-proxy-api")
        return srv.start() if start else srv

    def files(self, auth_dir=None):
        return sorted(os.listdir(auth_dir or self.auth_dir))

    def secrets(self):
        """Every token the login mock issued and every PKCE verifier sent."""
        out = []
        for _, body in self.login.grants:
            out += [body.get(k) for k in ("access_token", "refresh_token", "id_token")]
        for r in self.login.exchanges:
            out.append(r["params"].get("code_verifier"))
        for d in self.login.codex_devices:
            if d["code"]:
                out.append(d["code"]["code_verifier"])
        return [s for s in out if isinstance(s, str) and len(s) >= 8]

    # harness.end_test's interface
    def stop(self):
        for p in self.procs:
            p.stop()
        for m in self.mocks:
            m.stop()

    def stderr_text(self):
        return ""


class LoginProc:
    """One login process: stdin a pipe (or a terminal with tty=True), stdout
    and stderr read as they come."""

    def __init__(self, env, args, tty=False, environ=None):
        self.env = env
        self.args = args
        self.label = "cli-proxy-api " + " ".join(args)
        e = {k: v for k, v in os.environ.items()
             if k not in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")}
        e.update(environ or {})
        self.master = None
        stdin = subprocess.PIPE
        if tty:
            self.master, stdin = os.openpty()
        self.t0 = time.time()
        self.proc = subprocess.Popen([harness.BINARY, "--config", env.config_path] + args,
                                     stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=env.dir, env=e)
        if tty:
            os.close(stdin)
        self._buf = {"out": bytearray(), "err": bytearray()}
        self._lock = threading.Lock()
        self._readers = [threading.Thread(target=self._read, args=(self.proc.stdout, "out"),
                                          daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, "err"),
                                          daemon=True)]
        for t in self._readers:
            t.start()
        harness._servers.append(self)

    def _read(self, f, which):
        fd = f.fileno()
        while True:
            try:
                d = os.read(fd, 65536)
            except OSError:
                d = b""
            if not d:
                return
            with self._lock:
                self._buf[which] += d

    def out(self):
        with self._lock:
            return self._buf["out"].decode("utf-8", "replace")

    def err(self):
        with self._lock:
            return self._buf["err"].decode("utf-8", "replace")

    stderr_text = err

    def _tails(self):
        return "stdout %r, stderr %r" % (self.out()[-800:], self.err()[-800:])

    def wait_for(self, pred, timeout, what):
        """Wait until pred(stdout, stderr) is true; fail if the process ends
        first or the time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            if pred(self.out(), self.err()):
                return
            if self.proc.poll() is not None:
                for t in self._readers:
                    t.join(2)
                if pred(self.out(), self.err()):
                    return
                raise TestFailure("%s: %s exited with %s first (%s)"
                                  % (what, self.label, self.proc.returncode, self._tails()))
            if time.monotonic() > deadline:
                raise TestFailure("%s: not within %ds (%s)" % (what, timeout, self._tails()))
            time.sleep(0.02)

    def url(self, device=False, timeout=URL_TIMEOUT):
        """The address printed on stdout (the first line starting with http://
        or https://), after the line the spec puts before it."""
        self.wait_for(lambda o, e: _url_index(o.split("\n")) is not None, timeout,
                      "the address on stdout")
        ls = self.out().split("\n")
        i = _url_index(ls)
        before = ls[i - 1] if i else ""
        if device:
            m = re.match(r"^Open this address in a browser and enter the code (\S+):$", before)
            check(m, "the line before a device address: %r" % before)
            self.user_code = m.group(1)
        else:
            check(re.match(r"^Open this address in a browser to sign in \(.+\):$", before),
                  "the line before the address: %r" % before)
        return ls[i].strip()

    def send(self, line):
        data = (line + "\n").encode()
        if self.master is not None:
            os.write(self.master, data)
        else:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def close_stdin(self):
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass

    def wait(self, timeout=LOGIN_TIMEOUT):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("%s still running after %ds (%s)" % (self.label, timeout,
                                                                   self._tails()))
        for t in self._readers:
            t.join(5)
        self.t1 = time.time()
        return rc

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.close_stdin()
        for f in (self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass
        if self.master is not None:
            try:
                os.close(self.master)
            except OSError:
                pass
            self.master = None


# --------------------------------------------------------------------------
# helpers

def _url_index(lines):
    """Index of the first line starting with http(s)://, once it is whole."""
    for i, l in enumerate(lines):
        if l.startswith(("http://", "https://")):
            return i if i + 1 < len(lines) else None
    return None


def need_port(port, timeout=5.0):
    """Wait until the fixed callback port is free (a previous login may still
    be closing); skip when something else on this machine holds it."""
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((harness.HOST, port))
            return
        except OSError:
            if time.monotonic() > deadline:
                harness.skip("callback port %d is busy on this machine" % port)
            time.sleep(0.1)
        finally:
            s.close()


def callback_get(redirect_url, timeout=10.0):
    """The browser following the redirect: GET on 127.0.0.1:<port><path>?...;
    retried while nothing listens yet.  Returns (status, body)."""
    u = urllib.parse.urlsplit(redirect_url)
    target = u.path + ("?" + u.query if u.query else "")
    deadline = time.monotonic() + timeout
    while True:
        hc = http.client.HTTPConnection(harness.HOST, u.port, timeout=5)
        try:
            hc.request("GET", target, headers={"Host": u.netloc})
            r = hc.getresponse()
            return r.status, r.read()
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise TestFailure("nothing listens on port %d for the callback" % u.port)
            time.sleep(0.05)
        finally:
            hc.close()


def query_of(redirect_url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect_url).query))


def near(got, want, slack, what):
    check(abs(got - want) <= slack, "%s: %r is not within %ss of %r" % (what, got, slack, want))


def check_saved(env, lp, kind, names, email=None):
    """The login ended well: exit 0, `Saved <path>` naming one of names (or a
    name matching the regex names) in auth-dir, mode 0600, the Account and
    Models lines, no secret printed.  Returns (path, the file's JSON)."""
    rc = lp.wait()
    out, err = lp.out(), lp.err()
    eq(rc, 0, "%s exit status (%s)" % (lp.label, lp._tails()))
    # not anchored: a prompt without a newline (Qwen's alias) may come first
    saved = re.findall(r"Saved (\S.*)$", out, re.M)
    eq(len(saved), 1, "Saved lines in stdout %r" % out[-800:])
    path = saved[0].strip()
    eq(os.path.realpath(os.path.dirname(path)), os.path.realpath(env.auth_dir),
       "directory of the saved file")
    name = os.path.basename(path)
    ok = re.match(names, name) if isinstance(names, str) else name in names
    check(ok, "file name %r, want %r" % (name, names))
    check(os.path.isfile(path), "%s was not written" % path)
    eq(stat.S_IMODE(os.stat(path).st_mode), 0o600, "mode of %s" % path)
    with open(path) as f:
        data = json.load(f)
    acct = re.findall(r"^Account: (\S+)(?: (.*))?$", out, re.M)
    eq(len(acct), 1, "Account lines in %r" % out[-800:])
    check(acct[0][0].lower() in KIND_WORDS[kind], "Account kind %r for %s" % (acct[0][0], kind))
    if email:
        check(email in acct[0][1], "Account line %r does not name %s" % (acct[0], email))
    models = re.findall(r"^Models: (.+)$", out, re.M)
    eq(len(models), 1, "Models lines in %r" % out[-800:])
    listed = [m.strip() for m in models[0].split(",")]
    check(any(m in listed for m in KIND_MODELS[kind]), "Models %r name none of %r"
          % (listed, KIND_MODELS[kind][:3]))
    no_secrets(env, lp)
    leftovers = [f for f in env.files() if f.startswith(".") or f.endswith(".tmp")]
    eq(leftovers, [], "temporary files left in auth-dir")
    return path, data


def no_secrets(env, lp):
    text = lp.out() + lp.err()
    for s in env.secrets():
        check(s not in text, "a secret (%s...) appears in the output of %s" % (s[:12], lp.label))


def check_failed(env, lp, needle=None, files_before=()):
    """exit 1, `cli-proxy-api: login failed: ...` on stderr (with needle),
    no new file, no secret printed."""
    rc = lp.wait()
    err = lp.err()
    eq(rc, 1, "%s exit status (%s)" % (lp.label, lp._tails()))
    check("cli-proxy-api: login failed: " in err, "no 'login failed' line: %r" % err[-800:])
    if needle:
        check(needle in err, "stderr does not say %r: %r" % (needle, err[-800:]))
    eq(env.files(), sorted(files_before), "files in auth-dir after a failed login")
    check("Saved " not in lp.out(), "a failed login printed Saved")
    no_secrets(env, lp)


def issued(env, kind):
    """The success body of the last grant of kind."""
    bodies = [b for k, b in env.login.grants if k == kind]
    check(bodies, "the login mock issued no %s token" % kind)
    return bodies[-1]


def check_times(data_time, t0, t1, what, slack=5):
    check(t0 - slack <= data_time <= t1 + slack, "%s %r not between the login's start %r and end %r"
          % (what, data_time, t0, t1))


def check_gemini_file(env, data, email, project, auto, checked, t0, t1):
    tok = issued(env, "google")
    eq(data.get("type"), "gemini", "type")
    eq(data.get("email"), email, "email")
    eq(data.get("project_id"), project, "project_id")
    eq(data.get("auto"), auto, "auto")
    eq(data.get("checked"), checked, "checked")
    t = data.get("token")
    check(isinstance(t, dict), "no token object: %r" % data)
    eq(t.get("access_token"), tok["access_token"], "token.access_token")
    eq(t.get("refresh_token"), tok["refresh_token"], "token.refresh_token")
    eq(t.get("token_type"), "Bearer", "token.token_type")
    eq(t.get("client_id"), mocks_oauth.GEMINI_CLIENT_ID, "token.client_id")
    eq(t.get("client_secret"), mocks_oauth.GEMINI_CLIENT_SECRET, "token.client_secret")
    eq(sorted(t.get("scopes") or []), sorted(mocks_oauth.GEMINI_SCOPES), "token.scopes")
    exp = mocks_oauth.parse_rfc3339(t.get("expiry"))
    check_times(exp - 3600, t0, t1, "token.expiry - expires_in")


def check_google_calls(env, cass, token, meta, project_flag=None):
    """userinfo with the new token; loadCodeAssist at cass with the spec's body."""
    ui = [c for c in env.login.calls if c[0] == "userinfo"]
    eq(len(ui), 1, "userinfo calls")
    check("alt=json" in ui[0][2], "userinfo without ?alt=json: %r" % ui[0][2])
    loads = cass.calls("loadCodeAssist")
    eq(len(loads), 1, "loadCodeAssist calls")
    want = {"metadata": meta}
    if project_flag:
        want["cloudaicompanionProject"] = project_flag
    eq(loads[0]["json"], want, "loadCodeAssist body")
    eq(loads[0]["headers"].get("authorization"), "Bearer " + token, "loadCodeAssist bearer")


# --------------------------------------------------------------------------
# Gemini CLI (--login)

def test_login_gemini_callback():
    """--login completed by the browser's GET on :8085 (stdin at EOF: the
    login goes on): the project from loadCodeAssist (a tier and a project:
    no onboarding), the service switched on, <email>-<project>.json."""
    need_port(8085)
    env = LoginEnv()
    env.login.email = "gem.user@example.com"
    env.ca.project = "cloud-proj-7"
    lp = env.run(["--login"])
    url = lp.url()
    redirect = env.login.consent(url)
    lp.close_stdin()
    st, body = callback_get(redirect)
    eq(st, 200, "callback answer (%r)" % body[:200])
    _, data = check_saved(env, lp, "gemini", ["gem.user@example.com-cloud-proj-7.json"],
                          "gem.user@example.com")
    check_gemini_file(env, data, "gem.user@example.com", "cloud-proj-7", True, True,
                      lp.t0, lp.t1)
    tok = issued(env, "google")["access_token"]
    check_google_calls(env, env.ca, tok, GEMINI_META)
    eq(env.ca.calls("onboardUser"), [], "onboardUser with a tier and a project")
    eq([(m, p) for m, p, _ in env.login.service_calls],
       [("GET", "cloud-proj-7"), ("POST", "cloud-proj-7")], "service check and enable")
    eq(env.ag.requests, [], "the Antigravity host was called")


def test_login_gemini_paste_with_project_id():
    """--login --project_id: the pasted full redirect address completes it;
    loadCodeAssist names the project, the file takes it (auto false), an
    ENABLED service is not enabled again."""
    need_port(8085)
    env = LoginEnv()
    env.login.email = "gp@example.com"
    # the backend answers with the project asked for (which one wins when
    # they differ is not settled: the spec says --project_id, the reference
    # since v7.2.19 the backend's)
    env.ca.project = "my-proj-1"
    env.login.service_states["my-proj-1"] = "ENABLED"
    lp = env.run(["--login", "--project_id", "my-proj-1", "--no-browser"])
    redirect = env.login.consent(lp.url())
    lp.send(redirect)
    _, data = check_saved(env, lp, "gemini", ["gp@example.com-my-proj-1.json"], "gp@example.com")
    check_gemini_file(env, data, "gp@example.com", "my-proj-1", False, True, lp.t0, lp.t1)
    check_google_calls(env, env.ca, issued(env, "google")["access_token"], GEMINI_META,
                       "my-proj-1")
    eq([(m, p) for m, p, _ in env.login.service_calls], [("GET", "my-proj-1")],
       "service calls for an enabled service")


def test_login_gemini_onboards_when_there_is_no_tier():
    """No currentTier and no project: onboardUser with the default tier,
    polled (2 s apart) until done, the project from its answer; the paste
    is only the query `?code=...&state=...`."""
    need_port(8085)
    env = LoginEnv()
    env.login.email = "on@example.com"
    env.ca.project, env.ca.current_tier = None, False
    env.ca.onboard_polls, env.ca.onboard_project = 1, "onboarded-9"
    lp = env.run(["--login", "--no-browser"])
    redirect = env.login.consent(lp.url())
    lp.send("?" + urllib.parse.urlsplit(redirect).query)
    _, data = check_saved(env, lp, "gemini", ["on@example.com-onboarded-9.json"], "on@example.com")
    check_gemini_file(env, data, "on@example.com", "onboarded-9", True, True, lp.t0, lp.t1)
    ob = env.ca.calls("onboardUser")
    eq(len(ob), 2, "onboardUser calls (done:false once)")
    for r in ob:
        eq(r["json"].get("tierId"), "free-tier", "tierId (allowedTiers[isDefault])")
        eq(r["json"].get("metadata"), GEMINI_META, "onboardUser metadata")
        check("cloudaicompanionProject" not in r["json"], "auto onboarding names a project: %r"
              % r["json"])
    gap = ob[1]["time"] - ob[0]["time"]
    check(gap >= 1.5, "onboardUser polled %.2fs apart (the spec says 2 s)" % gap)


def test_login_gemini_service_check_failure_only_warns():
    need_port(8085)
    env = LoginEnv()
    env.login.email = "w@example.com"
    env.login.fail["enable"] = (403, {"error": {"code": 403, "message": "Permission denied",
                                                "status": "PERMISSION_DENIED"}})
    lp = env.run(["--login", "--no-browser"])
    lp.send(env.login.consent(lp.url()))
    _, data = check_saved(env, lp, "gemini", ["w@example.com-mock-project-1.json"])
    eq(data.get("checked"), False, "checked after a failed enable")
    eq([m for m, _, _ in env.login.service_calls], ["GET", "POST"], "service calls")


def test_login_gemini_without_any_project_lists_projects():
    """No project from loadCodeAssist nor onboardUser and no --project_id:
    exit 1, the projects of the account listed, --project_id advised."""
    need_port(8085)
    env = LoginEnv()
    env.ca.project, env.ca.current_tier, env.ca.onboard_project = None, False, None
    env.login.projects = ["alpha-proj-1", "beta-proj-2"]
    lp = env.run(["--login"])
    redirect = env.login.consent(lp.url())
    lp.close_stdin()
    eq(callback_get(redirect)[0], 200, "callback answer")
    check_failed(env, lp, "--project_id")
    err = lp.err()
    check("alpha-proj-1" in err and "beta-proj-2" in err, "projects not listed: %r" % err[-800:])
    check([c for c in env.login.calls if c[0] == "projects"], "the project list was not asked")


# --------------------------------------------------------------------------
# Codex

def _codex_names(email, account_id="acct-mock-0001", plan="plus"):
    """The reference's name at HEAD (providers-2026.md section 3):
    codex-<first 8 hex of SHA-256(account id)>-<email>-<plan>.json."""
    h = hashlib.sha256(account_id.encode()).hexdigest()[:8]
    return ["codex-%s-%s-%s.json" % (h, email, plan)]


def check_codex_file(env, data, email, t0, t1):
    tok = issued(env, "openai")
    eq(data.get("type"), "codex", "type")
    for k in ("id_token", "access_token", "refresh_token"):
        eq(data.get(k), tok[k], k)
    eq(data.get("account_id"), env.login.account_id, "account_id (from the id_token)")
    eq(data.get("email"), email, "email")
    check_times(mocks_oauth.parse_rfc3339(data.get("last_refresh")), t0, t1, "last_refresh")
    check_times(mocks_oauth.parse_rfc3339(data.get("expired")) - 3600, t0, t1,
                "expired - expires_in")


def test_login_codex_callback():
    """--codex-login completed on :1455; another path there is 404 and does
    not end the login."""
    need_port(1455)
    env = LoginEnv()
    env.login.email, env.login.account_id = "cx@example.com", "acct-cx-1"
    lp = env.run(["--codex-login"])
    redirect = env.login.consent(lp.url())
    lp.close_stdin()
    eq(callback_get(redirect.replace("/auth/callback?", "/other?"))[0], 404, "another path")
    check(lp.proc.poll() is None, "the login ended on a request to another path")
    st, body = callback_get(redirect)
    eq(st, 200, "callback answer (%r)" % body[:200])
    _, data = check_saved(env, lp, "codex", _codex_names("cx@example.com", env.login.account_id), "cx@example.com")
    check_codex_file(env, data, "cx@example.com", lp.t0, lp.t1)
    ex = env.login.exchanges[-1]
    eq(ex["params"].get("redirect_uri"), mocks_login.REDIRECTS["codex"], "exchange redirect_uri")
    eq(len(ex["params"].get("code_verifier", "")), 128, "verifier = base64url(96 bytes)")


def test_login_codex_paste():
    """The full redirect address pasted; then, in a second login, the bare
    query `code=...&state=...`."""
    need_port(1455)
    env = LoginEnv()
    env.login.email = "cp@example.com"
    lp = env.run(["--codex-login", "--no-browser"])
    lp.send(env.login.consent(lp.url()))
    _, data = check_saved(env, lp, "codex", _codex_names("cp@example.com", env.login.account_id), "cp@example.com")
    check_codex_file(env, data, "cp@example.com", lp.t0, lp.t1)
    need_port(1455)
    env.login.email = "cq@example.com"
    lp = env.run(["--codex-login", "--no-browser"])
    lp.send(urllib.parse.urlsplit(env.login.consent(lp.url())).query)
    _, data = check_saved(env, lp, "codex", _codex_names("cq@example.com", env.login.account_id), "cq@example.com")
    check_codex_file(env, data, "cq@example.com", lp.t0, lp.t1)


def test_login_codex_device():
    """--codex-device-login: the user code and <openai-auth>/codex/device on
    stdout, polled every interval (403 while pending), then the code
    exchanged with <openai-auth>/deviceauth/callback and the verifier
    the poll gave."""
    env = LoginEnv()
    env.login.email = "dev@example.com"
    lp = env.run(["--codex-device-login"])
    url = lp.url(device=True)
    lp.close_stdin()
    eq(url, env.login.endpoints()["openai-auth"] + "/codex/device", "device page")
    d = env.login.wait_device("codex")
    check(d is not None, "no usercode request")
    eq(lp.user_code, d["user_code"], "the user code printed")
    check(env.login.wait_polls(d["user_code"], 2, 10), "fewer than 2 polls in 10 s")
    env.login.approve(d["user_code"])
    _, data = check_saved(env, lp, "codex", _codex_names("dev@example.com", env.login.account_id), "dev@example.com")
    check_codex_file(env, data, "dev@example.com", lp.t0, lp.t1)
    ex = env.login.exchanges[-1]["params"]
    eq(ex.get("redirect_uri"), env.login.url + "/deviceauth/callback", "device redirect_uri")
    eq(ex.get("code_verifier"), d["code"]["code_verifier"], "the poll's verifier")
    gaps = [b - a for a, b in zip(d["polls"], d["polls"][1:])]
    check(all(g >= 0.8 for g in gaps), "polls closer than the interval (1 s): %r" % gaps)


# --------------------------------------------------------------------------
# Claude

def check_claude_file(env, data, email, t0, t1):
    tok = issued(env, "claude")
    eq(data.get("type"), "claude", "type")
    eq(data.get("id_token"), "", "id_token")
    eq(data.get("access_token"), tok["access_token"], "access_token")
    eq(data.get("refresh_token"), tok["refresh_token"], "refresh_token")
    eq(data.get("email"), email, "email")
    eq(data.get("account_uuid"), tok["account"]["uuid"], "account_uuid")
    eq(data.get("organization_uuid"), tok["organization"]["uuid"], "organization_uuid")
    eq(data.get("organization_name"), tok["organization"]["name"], "organization_name")
    check_times(mocks_oauth.parse_rfc3339(data.get("last_refresh")), t0, t1, "last_refresh")
    check_times(mocks_oauth.parse_rfc3339(data.get("expired")) - 3600, t0, t1,
                "expired - expires_in")


def test_login_claude_callback():
    need_port(54545)
    env = LoginEnv()
    env.login.email = "cl@example.com"
    lp = env.run(["--claude-login"])
    redirect = env.login.consent(lp.url())
    lp.close_stdin()
    eq(callback_get(redirect)[0], 200, "callback answer")
    _, data = check_saved(env, lp, "claude", ["claude-cl@example.com.json"], "cl@example.com")
    check_claude_file(env, data, "cl@example.com", lp.t0, lp.t1)
    ex = env.login.exchanges[-1]
    check("application/json" in ex["headers"].get("content-type", ""), "exchange not JSON")
    eq(ex["params"].get("state"), query_of(redirect)["state"], "state in the exchange")


def test_login_claude_paste_full_url():
    need_port(54545)
    env = LoginEnv()
    env.login.email = "cu@example.com"
    lp = env.run(["--claude-login", "--no-browser"])
    lp.send(env.login.consent(lp.url()))
    _, data = check_saved(env, lp, "claude", ["claude-cu@example.com.json"], "cu@example.com")
    check_claude_file(env, data, "cu@example.com", lp.t0, lp.t1)


def test_login_claude_paste_code_hash_state():
    """The page Claude shows is `code#state`: pasted so, it is split."""
    need_port(54545)
    env = LoginEnv()
    env.login.email = "ch@example.com"
    lp = env.run(["--claude-login", "--no-browser"])
    q = query_of(env.login.consent(lp.url()))
    lp.send("%s#%s" % (q["code"], q["state"]))
    _, data = check_saved(env, lp, "claude", ["claude-ch@example.com.json"], "ch@example.com")
    check_claude_file(env, data, "ch@example.com", lp.t0, lp.t1)


# --------------------------------------------------------------------------
# Qwen

def _qwen_start(env, lp):
    url = lp.url(device=True)
    d = env.login.wait_device("qwen")
    check(d is not None, "no device/code request")
    eq(lp.user_code, d["user_code"], "the user code printed")
    page = env.login.url + "/authorize"
    check(url == page or url.startswith(page + "?"), "address %r is not the verification page"
          % url)
    return d


def check_qwen_file(env, data, email, t0, t1):
    tok = issued(env, "qwen")
    eq(data.get("type"), "qwen", "type")
    eq(data.get("access_token"), tok["access_token"], "access_token")
    eq(data.get("refresh_token"), tok["refresh_token"], "refresh_token")
    eq(data.get("resource_url"), env.qw.resource_url, "resource_url")
    eq(data.get("email"), email, "email")
    check_times(mocks_oauth.parse_rfc3339(data.get("last_refresh")), t0, t1, "last_refresh")
    check_times(mocks_oauth.parse_rfc3339(data.get("expired")) - 3600, t0, t1,
                "expired - expires_in")


def test_login_qwen_device():
    """--qwen-login: PKCE device code, pending polls, approval; stdin not a
    terminal: qwen-<unix-ms>.json with an empty email."""
    env = LoginEnv()
    lp = env.run(["--qwen-login"])
    d = _qwen_start(env, lp)
    lp.close_stdin()
    check(env.login.wait_polls(d["user_code"], 1, 10), "no poll in 10 s")
    env.login.approve(d["user_code"])
    path, data = check_saved(env, lp, "qwen", r"^qwen-\d{13}\.json$")
    ms = int(re.match(r"^qwen-(\d{13})\.json$", os.path.basename(path)).group(1))
    check_times(ms / 1000.0, lp.t0, lp.t1, "the file name's unix ms")
    check_qwen_file(env, data, "", lp.t0, lp.t1)
    answers = [a for _, a in d["polls"]]
    eq(answers[-1], "ok", "last poll")
    check(set(answers[:-1]) <= {"authorization_pending"}, "poll answers %r" % answers)


def test_login_qwen_alias_from_a_terminal():
    """stdin a terminal: the alias asked after the token names the file
    (characters outside [A-Za-z0-9@._+-] become _) and is the email."""
    env = LoginEnv()
    lp = env.run(["--qwen-login"], tty=True)
    d = _qwen_start(env, lp)
    env.login.approve(d["user_code"])
    deadline = time.monotonic() + 10
    while not any(a == "ok" for _, a in d["polls"]):
        check(time.monotonic() < deadline and lp.proc.poll() is None,
              "the token was not fetched (%s)" % lp._tails())
        time.sleep(0.05)
    lp.send("team q/1")
    _, data = check_saved(env, lp, "qwen", ["qwen-team_q_1.json"])
    check_qwen_file(env, data, "team q/1", lp.t0, lp.t1)


def test_login_qwen_slow_down_grows_the_interval():
    env = LoginEnv()
    env.login.qwen_slow_down = [2]
    lp = env.run(["--qwen-login"])
    d = _qwen_start(env, lp)
    lp.close_stdin()
    check(env.login.wait_polls(d["user_code"], 3, 15), "fewer than 3 polls (%s)" % lp._tails())
    env.login.approve(d["user_code"])
    check_saved(env, lp, "qwen", r"^qwen-\d{13}\.json$")
    t = [x for x, _ in d["polls"]]
    eq([a for _, a in d["polls"]][:2], ["authorization_pending", "slow_down"], "answers")
    gaps = [b - a for a, b in zip(t, t[1:])]
    check(gaps[0] >= 0.8, "polled %.2fs apart with interval 1" % gaps[0])
    # RFC 8628: +5 s for this and all later polls (the reference: x1.5)
    for g in gaps[1:]:
        check(g >= 1.4 and g >= gaps[0] + 0.4, "after slow_down the polls are %r apart "
              "(before: %.2f)" % (gaps[1:], gaps[0]))


def test_login_qwen_slow_down_answered_as_429_still_polls():
    """The same OAuth error code under another status (a rate limiter's
    429) is read by its code: the login slows down and goes on."""
    env = LoginEnv()
    env.login.qwen_slow_down = [1]
    env.login.qwen_slow_down_status = 429
    lp = env.run(["--qwen-login"])
    d = _qwen_start(env, lp)
    lp.close_stdin()
    check(env.login.wait_polls(d["user_code"], 2, 15), "fewer than 2 polls (%s)" % lp._tails())
    env.login.approve(d["user_code"])
    check_saved(env, lp, "qwen", r"^qwen-\d{13}\.json$")
    eq([a for _, a in d["polls"]][:2], ["slow_down", "authorization_pending"], "answers")


def test_login_qwen_device_code_expiry_fails():
    env = LoginEnv()
    env.login.qwen_expires_in = 3
    lp = env.run(["--qwen-login"])
    d = _qwen_start(env, lp)
    lp.close_stdin()
    check_failed(env, lp)
    check(lp.t1 - lp.t0 < 15, "the login went on %.1fs past a 3 s device code" % (lp.t1 - lp.t0))
    check(d["polls"], "never polled")


# --------------------------------------------------------------------------
# Antigravity

AG_META = {"ideType": "ANTIGRAVITY", "platform": "PLATFORM_UNSPECIFIED", "pluginType": "GEMINI"}


def check_antigravity_file(env, data, email, project, t0, t1):
    tok = issued(env, "google")
    eq(data.get("type"), "antigravity", "type")
    eq(data.get("access_token"), tok["access_token"], "access_token")
    eq(data.get("refresh_token"), tok["refresh_token"], "refresh_token")
    eq(data.get("expires_in"), 3600, "expires_in")
    check(isinstance(data.get("timestamp"), int), "timestamp %r" % data.get("timestamp"))
    check_times(data["timestamp"] / 1000.0, t0, t1, "timestamp (ms)")
    near(mocks_oauth.parse_rfc3339(data.get("expired")), data["timestamp"] / 1000.0 + 3600, 5,
         "expired")
    eq(data.get("email"), email, "email")
    eq(data.get("project_id"), project, "project_id")


def test_login_antigravity_callback():
    """--antigravity-login on :51121: the Antigravity client and scopes,
    loadCodeAssist on the antigravity host (ideType ANTIGRAVITY), the
    project as {id}; no service check."""
    need_port(51121)
    env = LoginEnv()
    env.login.email = "ag@example.com"
    env.ag.project, env.ag.project_object = "ag-proj-3", True
    lp = env.run(["--antigravity-login"])
    redirect = env.login.consent(lp.url())
    lp.close_stdin()
    eq(callback_get(redirect)[0], 200, "callback answer")
    _, data = check_saved(env, lp, "antigravity", ["antigravity-ag@example.com.json"],
                          "ag@example.com")
    check_antigravity_file(env, data, "ag@example.com", "ag-proj-3", lp.t0, lp.t1)
    check_google_calls(env, env.ag, issued(env, "google")["access_token"], AG_META)
    eq(env.ca.calls("loadCodeAssist"), [], "the Gemini CLI host was asked")
    eq(env.login.service_calls, [], "service usage calls for Antigravity")
    eq(env.login.exchanges[-1]["params"].get("client_id"), mocks_oauth.ANTIGRAVITY_CLIENT_ID,
       "exchange client")


def test_login_antigravity_paste_onboards():
    need_port(51121)
    env = LoginEnv()
    env.login.email = "ao@example.com"
    env.ag.project, env.ag.current_tier, env.ag.onboard_project = None, False, "ag-onboarded"
    lp = env.run(["--antigravity-login", "--no-browser"])
    lp.send(env.login.consent(lp.url()))
    _, data = check_saved(env, lp, "antigravity", ["antigravity-ao@example.com.json"])
    check_antigravity_file(env, data, "ao@example.com", "ag-onboarded", lp.t0, lp.t1)
    ob = env.ag.calls("onboardUser")
    eq(len(ob), 1, "onboardUser calls")
    eq(ob[0]["json"].get("tierId"), "free-tier", "tierId")


# --------------------------------------------------------------------------
# failures

def test_login_state_mismatch_on_the_callback():
    need_port(1455)
    env = LoginEnv()
    lp = env.run(["--codex-login"])
    redirect = env.login.consent(lp.url(), state_override="0" * 32)
    lp.close_stdin()
    eq(callback_get(redirect)[0], 400, "callback with another state")
    check_failed(env, lp, "state")
    eq(env.login.exchanges, [], "a code with the wrong state was exchanged")


def test_login_state_mismatch_in_a_paste():
    need_port(8085)
    env = LoginEnv()
    lp = env.run(["--login", "--no-browser"])
    lp.send(env.login.consent(lp.url(), state_override="abcdef" * 5 + "ab"))
    check_failed(env, lp, "state")
    eq(env.login.exchanges, [], "a code with the wrong state was exchanged")


def test_login_access_denied_on_the_callback_and_in_a_paste():
    need_port(54545)
    env = LoginEnv()
    lp = env.run(["--claude-login"])
    redirect = env.login.consent(lp.url(), deny=True)
    lp.close_stdin()
    callback_get(redirect)
    check_failed(env, lp, "access_denied")
    need_port(51121)
    lp = env.run(["--antigravity-login", "--no-browser"])
    lp.send(env.login.consent(lp.url(), deny=True))
    check_failed(env, lp, "access_denied")
    eq(env.login.exchanges, [], "exchanges after a denied consent")


def test_login_callback_port_in_use_paste_still_works():
    need_port(1455)
    env = LoginEnv()
    held = []
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        try:
            s.bind((addr, 1455))
            s.listen(1)
            held.append(s)
        except OSError:
            s.close()
            check(fam == socket.AF_INET6, "could not hold 127.0.0.1:1455")
    try:
        env.login.email = "busy@example.com"
        lp = env.run(["--codex-login", "--no-browser"])
        url = lp.url()
        lp.wait_for(lambda o, e: "port 1455 is in use" in e, 10, "the busy port message")
        check(lp.proc.poll() is None, "the login ended on a busy port")
        lp.send(env.login.consent(url))
        check_saved(env, lp, "codex", _codex_names("busy@example.com", env.login.account_id))
    finally:
        for s in held:
            s.close()


def test_login_token_exchange_refused_fails_cleanly():
    need_port(1455)
    env = LoginEnv()
    env.login.script([("status", 400, {"error": "invalid_grant",
                                       "error_description": "Code expired"})])
    lp = env.run(["--codex-login", "--no-browser"])
    lp.send(env.login.consent(lp.url()))
    check_failed(env, lp)
    eq(len(env.login.requests), 1, "token requests")


def test_login_times_out_with_a_clear_message():
    """No answer from the browser within login-timeout (5 minutes unless
    set; 2 s here): exit 1, a message that says so, no file, the callback
    port free again."""
    need_port(1455)
    env = LoginEnv(more="login-timeout = 2s\n")
    lp = env.run(["--codex-login", "--no-browser"])
    lp.url()
    check_failed(env, lp, "timed out after 2 seconds")
    eq(len(env.login.requests), 0, "token requests")
    need_port(1455)


_FAKE_OPEN = "#!/bin/sh\nprintf '%%s\\n' \"$*\" >> %s\n"


def test_login_opens_a_browser_only_when_one_is_there():
    """xdg-open (a fake one here) gets the address when DISPLAY is set and
    --no-browser is not given; never otherwise."""
    need_port(1455)
    env = LoginEnv()
    bindir = os.path.join(env.dir, "bin")
    os.mkdir(bindir)
    log = os.path.join(env.dir, "opened.log")
    with open(os.path.join(bindir, "xdg-open"), "w") as f:
        f.write(_FAKE_OPEN % log)
    os.chmod(os.path.join(bindir, "xdg-open"), 0o755)
    path = bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")

    def opened():
        try:
            with open(log) as f:
                return f.read().split("\n")[:-1]
        except FileNotFoundError:
            return []

    for i, (args, environ, want) in enumerate((
            ([], {"PATH": path, "DISPLAY": ":99"}, True),
            (["--no-browser"], {"PATH": path, "DISPLAY": ":99"}, False),
            ([], {"PATH": path}, False))):
        env.login.email = "b%d@example.com" % i
        before = opened()
        lp = env.run(["--codex-login"] + args, environ=environ)
        url = lp.url()
        if want:
            deadline = time.monotonic() + 5
            while url not in opened()[len(before):] and time.monotonic() < deadline:
                time.sleep(0.05)
        lp.send(env.login.consent(url))
        check_saved(env, lp, "codex", _codex_names("b%d@example.com" % i, env.login.account_id))
        eq(opened()[len(before):], [url] if want else [],
           "xdg-open calls with %r and %r" % (args, sorted(environ)))
