"""
bench/acctool.py - the Python side of bench/accounts.sh (issue 10).

Commands (all traffic on 127.0.0.1):

  record OUT BIN PIECES TEXT_BYTES
      Recording run against the Python mocks of tests/integ (MockCodex,
      MockCodeAssist, MockTokenServer), so that the nginx mock of the timed
      runs answers exactly what those mocks answer.  It writes one Codex
      and one Gemini CLI account (tokens valid for 30 days), starts BIN on
      them, sends the four client requests of the timed runs (OpenAI chat,
      stream and not, to gpt-5 and gemini-2.5-pro; the user text is
      TEXT_BYTES long and the mocks echo it back in PIECES deltas), checks
      each answer carries the echo, and keeps what the proxy sent upstream.
      Then it sends each of those upstream requests again, straight to its
      mock, and keeps the answer.  Into OUT it writes:
        html/cx/responses, html/ca/v1internal:generateContent,
        html/ca/v1internal:streamGenerateContent    the mocks' answers
        client-<case>.lua, direct-<case>.lua        wrk scripts: the
            client's request (to the proxy) and what the proxy sent
            upstream (to the mock directly), headers and body
        record.json   the text, sizes and checks (printed, less the text)
      case: cx-ns, cx-s (Codex; the upstream is asked for a stream either
      way, and the non-stream client's answer is folded), ca-ns, ca-s
      (Gemini CLI, Code Assist envelope).

  serve-codex PORTFILE PIECES SECONDS
      MockCodex alone (echo answers, PIECES deltas) for SECONDS, its port
      written to PORTFILE: the Python-mock baseline the script compares
      with nginx.

  check CASE FILE RECORD_JSON
      Exit 0 when the client answer in FILE (case as above) carries the
      echo of the recorded text, else 1 saying why.

  startup RUNS CPU_SRV CPU_CLI RAWFILE NAME PORT ARGV... -- [NAME ...  --]
      Start-up times, as bench/run.sh takes them: clock read, spawn (on
      CPU_SRV; the client then moves to CPU_CLI; empty: no pinning),
      connect() retried at once until the port accepts, GET /v1/models
      and its status line, SIGTERM.  One untimed start of each server,
      then RUNS rounds of one start each, in turn.  Every start goes to
      RAWFILE; printed per server: NAME connect|answer MEDIAN MIN P90
      (ms) and NAME status LINES.

  mkauth DIR N MIX TOKEN_HOST
      N auth files in DIR, as the reference writes them
      (mocks_oauth.write_auth_file), with tokens of realistic sizes and
      expiring in 30 days (every kind's refresh lead is shorter, so the
      server starts no refresh).  MIX: "mixed" (the five kinds in turn)
      or one kind.  Qwen's resource_url is TOKEN_HOST (127.0.0.1:PORT).
      Prints the files' total and mean size.

Standard library only, plus tests/integ's mocks (found from this file).
"""

import http.client
import json
import os
import random
import signal
import socket
import statistics
import string
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integ"))

import mocks_oauth  # noqa: E402

DAYS30 = 30 * 24 * 3600
CASES = {"cx-ns": ("gpt-5", False), "cx-s": ("gpt-5", True),
         "ca-ns": ("gemini-2.5-pro", False), "ca-s": ("gemini-2.5-pro", True)}


# ---------------------------------------------------------------- tokens

def _rand(rng, n, alphabet=string.ascii_letters + string.digits + "-_"):
    return "".join(rng.choice(alphabet) for _ in range(n))


def _codex_access(rng, email, account_id):
    """An OpenAI access token as Codex logins get them: an RS256 JWT of
    about 1.9 KB (its claims padded to the size of real ones)."""
    now = int(time.time())
    claims = {
        "aud": ["https://api.openai.com/v1"], "client_id": mocks_oauth.CODEX_CLIENT_ID,
        "exp": now + DAYS30, "iat": now, "iss": "https://auth.openai.com",
        "jti": "%s-%s" % (_rand(rng, 8, "0123456789abcdef"), _rand(rng, 27, "0123456789abcdef")),
        "nbf": now, "pwd_auth_time": now * 1000, "sid": _rand(rng, 36, "0123456789abcdef-"),
        "scp": ["openid", "profile", "email", "offline_access", "model.request", "model.read",
                "organization.read", "organization.write", "api.connectors.read",
                "api.connectors.invoke"],
        "amr": ["pwd", "otp", "mfa", "urn:openai:amr:otp_email"],
        "session_id": "authsess_" + _rand(rng, 24),
        "sub": "google-oauth2|" + _rand(rng, 21, string.digits),
        "https://api.openai.com/auth": {
            "chatgpt_account_id": account_id, "chatgpt_compute_residency": "no_constraint",
            "chatgpt_account_user_id": "user-%s__%s" % (_rand(rng, 24), account_id),
            "chatgpt_plan_type": "plus", "chatgpt_user_id": "user-" + _rand(rng, 24),
            "user_id": "user-" + _rand(rng, 24), "localhost": True},
        "https://api.openai.com/mfa": {"required": "no"},
        "https://api.openai.com/profile": {"email": email, "email_verified": True}}
    head = {"alg": "RS256", "kid": _rand(rng, 36, "0123456789abcdef-"), "typ": "JWT"}
    tok = mocks_oauth.make_jwt(claims, head)
    sig = _rand(rng, 342)  # base64url of a 2048-bit RSA signature
    return tok.rsplit(".", 1)[0] + "." + sig


def _codex_id(rng, email, account_id):
    """The id_token beside it: a JWT of about 1.6 KB."""
    now = int(time.time())
    claims = mocks_oauth.openai_id_claims(email, account_id, "plus", DAYS30)
    claims.update({"at_hash": _rand(rng, 22), "rat": now, "sid": _rand(rng, 36),
                   "auth_provider": "google", "jti": _rand(rng, 36)})
    claims["https://api.openai.com/auth"].update({
        "chatgpt_subscription_active_start": mocks_oauth.rfc3339(now),
        "chatgpt_subscription_active_until": mocks_oauth.rfc3339(now + DAYS30),
        "chatgpt_subscription_last_checked": mocks_oauth.rfc3339(now)})
    tok = mocks_oauth.make_jwt(claims, {"alg": "RS256", "kid": _rand(rng, 36), "typ": "JWT"})
    return tok.rsplit(".", 1)[0] + "." + _rand(rng, 342)


def account(rng, kind, i, token_host):
    """(kind, write_auth_file keyword arguments) of account number i."""
    email = "bench%04d@example.com" % i
    google_access = "ya29.a0" + _rand(rng, 210)          # ~218 B
    google_refresh = "1//0" + _rand(rng, 99)             # ~103 B
    if kind == "codex":
        acc = "%08x-%04x-4%03x-8%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                               rng.getrandbits(12), rng.getrandbits(12),
                                               rng.getrandbits(48))
        return dict(email=email, account_id=acc, access_token=_codex_access(rng, email, acc),
                    id_token=_codex_id(rng, email, acc),
                    refresh_token="rt_" + _rand(rng, 43) + "." + _rand(rng, 43))
    if kind == "claude":
        return dict(email=email, access_token="sk-ant-oat01-" + _rand(rng, 95),
                    refresh_token="sk-ant-ort01-" + _rand(rng, 95))
    if kind == "qwen":
        return dict(email=email, access_token=_rand(rng, 86), refresh_token=_rand(rng, 86),
                    resource_url=token_host)
    if kind == "gemini":
        return dict(email=email, project_id="bench-project-%04d" % i,
                    access_token=google_access, refresh_token=google_refresh)
    if kind == "antigravity":
        return dict(email=email, project_id="bench-ag-%04d" % i,
                    access_token=google_access, refresh_token=google_refresh)
    raise SystemExit("unknown kind %r" % kind)


KINDS = ["codex", "gemini", "claude", "qwen", "antigravity"]


def mkauth(d, n, mix, token_host, seed=10):
    rng = random.Random(seed)
    os.makedirs(d, exist_ok=True)
    total = 0
    for i in range(n):
        kind = KINDS[i % len(KINDS)] if mix == "mixed" else mix
        kw = account(rng, kind, i, token_host)
        p = mocks_oauth.write_auth_file(d, kind, expires_in=DAYS30, **kw)
        total += os.path.getsize(p)
    return {"files": n, "bytes": total, "mean": round(total / n) if n else 0}


# ---------------------------------------------------------------- record

def _wait_port(port, proc, secs=10):
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        if proc.poll() is not None:
            raise SystemExit("the proxy exited before it listened")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit("the proxy did not listen within %d s" % secs)


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def _post(port, path, body, headers):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    ctype = r.getheader("Content-Type", "")
    c.close()
    return r.status, ctype, data


def _text_of(case, data):
    """The assistant text of a chat answer (JSON or SSE chunks)."""
    if not CASES[case][1]:
        return json.loads(data)["choices"][0]["message"]["content"]
    out = ""
    for line in data.decode().split("\n"):
        if line.startswith("data: {"):
            ch = json.loads(line[6:]).get("choices") or []
            if ch and (ch[0].get("delta") or {}).get("content"):
                out += ch[0]["delta"]["content"]
    return out


def _lua(path, body, headers):
    """A wrk script that sends this request (the URL gives the path)."""
    def q(s):
        return "[==[" + s + "]==]"
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write("wrk.body = %s\n" % q(body))
        for k, v in headers.items():
            f.write("wrk.headers[ %s ] = %s\n" % (q(k), q(v)))


def sample_text(n):
    """n bytes of plain English-like text (the prompt, echoed back)."""
    words = ("the proxy forwards every request to the account that serves its model "
             "and folds a stream into one answer when the client asked for none").split()
    out, i = [], 0
    while len(" ".join(out)) < n:
        out.append(words[i % len(words)])
        i += 1
    return " ".join(out)[:n]


def record(out, binpath, pieces, text_bytes):
    os.makedirs(out, exist_ok=True)
    text = sample_text(text_bytes)
    cx = mocks_oauth.MockCodex(pieces=pieces).start()
    ca = mocks_oauth.MockCodeAssist(pieces=pieces).start()
    tok = mocks_oauth.MockTokenServer().start()
    proc = None
    res = {"text_bytes": len(text), "pieces": pieces, "text": text, "cases": {}}
    try:
        auth = os.path.join(out, "rec-auth")
        os.makedirs(auth, exist_ok=True)
        rng = random.Random(1)
        mocks_oauth.write_auth_file(auth, "codex", expires_in=DAYS30,
                                    **account(rng, "codex", 0, "127.0.0.1:9"))
        mocks_oauth.write_auth_file(auth, "gemini", expires_in=DAYS30,
                                    **account(rng, "gemini", 1, "127.0.0.1:9"))
        port = _free_port()
        cfg = os.path.join(out, "rec.ini")
        with open(cfg, "w") as f:
            f.write("port = %d\nhost = 127.0.0.1\naccess-log = false\nauth-dir = %s\n"
                    "request-retry = 0\n\n[endpoints]\ngemini-cli = %s\ncodex = %s\n"
                    "google-token = %s/token\nopenai-auth = %s\n"
                    "claude-token = %s/v1/oauth/token\nqwen-auth = %s/api/v1/oauth2\n"
                    "claude = %s\nqwen = %s\nantigravity = %s\nantigravity-fallback = %s\n"
                    % (port, auth, ca.url, cx.base_url, tok.url, tok.url, tok.url, tok.url,
                       tok.url, tok.url, tok.url, tok.url))
        log = open(os.path.join(out, "rec-proxy.log"), "wb")
        proc = subprocess.Popen([binpath, "--config", cfg], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log)
        _wait_port(port, proc)
        for case, (model, stream) in CASES.items():
            up = cx if case.startswith("cx") else ca
            body = json.dumps({"model": model, "stream": stream,
                               "messages": [{"role": "user", "content": text}]})
            hdr = {"Content-Type": "application/json"}
            n0 = len(up.requests)
            st, ctype, data = _post(port, "/v1/chat/completions", body, hdr)
            if st != 200:
                raise SystemExit("%s: the proxy answered %d: %r" % (case, st, data[:300]))
            got = _text_of(case, data)
            if got != "echo: " + text:
                raise SystemExit("%s: the answer's text differs from the echo (%d vs %d bytes)"
                                 % (case, len(got), len(text) + 6))
            if len(up.requests) != n0 + 1:
                raise SystemExit("%s: %d upstream requests, not 1" % (case, len(up.requests) - n0))
            r = up.requests[-1]
            _lua(os.path.join(out, "client-%s.lua" % case), body, hdr)
            uhdr = {k: v for k, v in r["header_list"]
                    if k.lower() not in ("host", "content-length", "connection",
                                         "transfer-encoding")}
            ubody = r["body"].decode()
            # the same request straight to the mock
            ust, uctype, udata = _post(up.port, r["path"], ubody, uhdr)
            if ust != 200:
                raise SystemExit("%s: the mock answered the direct request %d" % (case, ust))
            prefix = "/backend-api/codex" if case.startswith("cx") else ""
            rel = r["path"].split("?", 1)[0][len(prefix):]
            dest = os.path.join(out, "html", "cx" if case.startswith("cx") else "ca",
                                rel.lstrip("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as f:
                f.write(udata)
            mock_path = "/" + ("cx" if case.startswith("cx") else "ca") + rel + \
                ("?" + r["path"].split("?", 1)[1] if "?" in r["path"] else "")
            _lua(os.path.join(out, "direct-%s.lua" % case), ubody, uhdr)
            res["cases"][case] = {
                "client_request": len(body), "upstream_path": r["path"],
                "upstream_request": len(ubody), "upstream_answer": len(udata),
                "upstream_type": uctype.split(";")[0],
                "upstream_events": udata.count(b"\ndata: ") + udata.startswith(b"data: "),
                "client_answer": len(data), "client_type": ctype.split(";")[0],
                "client_events": data.count(b"data: {"), "mock_path": mock_path}
        res["token_requests"] = len(tok.requests)
    finally:
        if proc:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        for m in (cx, ca, tok):
            m.stop()
    with open(os.path.join(out, "record.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps({k: v for k, v in res.items() if k != "text"}))


def check(case, path, recjson):
    """Exit 0 when the answer in path carries the echo of the recorded
    text, else 1 with the reason."""
    text = json.load(open(recjson))["text"]
    with open(path, "rb") as f:
        data = f.read()
    try:
        got = _text_of(case, data)
    except (ValueError, KeyError, IndexError, TypeError) as e:
        sys.exit("%s: not a chat answer (%s): %r" % (case, e, data[:200]))
    if got != "echo: " + text:
        sys.exit("%s: text of %d bytes, want %d" % (case, len(got), len(text) + 6))


# --------------------------------------------------------------- start-up

def _start_once(name, port, argv, cpu_srv, cpu_cli, log):
    """Spawn argv, connect() to port until it accepts, GET /v1/models and
    read its status line; SIGTERM.  (ms to connect, ms to status, status)."""
    if cpu_srv:
        os.sched_setaffinity(0, {int(cpu_srv)})
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    if cpu_cli:
        os.sched_setaffinity(0, {int(cpu_cli)})
    try:
        while True:
            s = socket.socket()
            try:
                s.connect(("127.0.0.1", port))
                break
            except ConnectionRefusedError:
                s.close()
            if p.poll() is not None:
                sys.exit("%s exited before it accepted" % name)
            if time.perf_counter_ns() - t0 > 10e9:
                sys.exit("%s: port %d did not accept within 10 s" % (name, port))
        t_conn = time.perf_counter_ns()
        s.sendall(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        head = b""
        while b"\r\n" not in head:
            b = s.recv(4096)
            if not b:
                sys.exit("%s closed without an answer" % name)
            head += b
        t_ans = time.perf_counter_ns()
        s.close()
    finally:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    status = head.split(b"\r\n")[0].decode("latin-1")
    c, a = (t_conn - t0) / 1e6, (t_ans - t0) / 1e6
    log.write("%s %.3f %.3f %s\n" % (name, c, a, status))
    return c, a, status


def startup(runs, cpu_srv, cpu_cli, raw, args):
    """args: NAME PORT ARGV... -- (repeated).  One untimed start of each,
    then runs rounds of one start each, in turn.  Prints per server:
    NAME connect|answer MEDIAN MIN P90 (ms), and NAME status LINES."""
    servers = []
    while args:
        end = args.index("--")
        servers.append((args[0], int(args[1]), args[2:end]))
        args = args[end + 1:]
    got = {name: ([], [], set()) for name, _, _ in servers}
    with open(raw, "w") as log:
        log.write("# server, ms exec -> connect, ms exec -> status line, status line\n")
        for name, port, argv in servers:
            _start_once(name, port, argv, cpu_srv, cpu_cli, log)
        for _ in range(runs):
            for name, port, argv in servers:
                c, a, st = _start_once(name, port, argv, cpu_srv, cpu_cli, log)
                got[name][0].append(c)
                got[name][1].append(a)
                got[name][2].add(st)
    for name, (c, a, st) in got.items():
        for what, v in (("connect", c), ("answer", a)):
            v = sorted(v)
            print("%s %s %.2f %.2f %.2f" % (name, what, statistics.median(v), v[0],
                                            v[int(0.9 * (len(v) - 1))]))
        print("%s status %s" % (name, " | ".join(sorted(st))))


def serve_codex(portfile, pieces, secs):
    cx = mocks_oauth.MockCodex(pieces=pieces).start()
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % cx.port)
    os.replace(portfile + ".tmp", portfile)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        time.sleep(secs)
    finally:
        cx.stop()


def main(a):
    if len(a) == 5 and a[0] == "record":
        record(a[1], a[2], int(a[3]), int(a[4]))
    elif len(a) == 4 and a[0] == "serve-codex":
        serve_codex(a[1], int(a[2]), float(a[3]))
    elif len(a) == 5 and a[0] == "mkauth":
        print(json.dumps(mkauth(a[1], int(a[2]), a[3], a[4])))
    elif len(a) == 4 and a[0] == "check":
        check(a[1], a[2], a[3])
    elif len(a) > 5 and a[0] == "startup":
        startup(int(a[1]), a[2], a[3], a[4], a[5:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
