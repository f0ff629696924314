"""Run dist/Dockerfile's image without Docker (there is no engine here).

    python3 tests/release/docker_layout.py DOCKERFILE STATIC_BINARY

Reads the Dockerfile's final stage (it must be FROM scratch, with a numeric
non-root USER, EXPOSE 8317, VOLUME /data and an exec-form ENTRYPOINT), lays
its COPY lines out as a root filesystem in a temp dir (the build stage's
/out/cli-proxy-api is STATIC_BINARY, its CA bundle is the test CA), writes
/data/config.ini as a user would, and runs the ENTRYPOINT with ENV only, in
a chroot, as USER, in a network namespace of its own (so port 8317 is free
and nothing leaves the machine) next to a TLS mock upstream.  Then:

  - the server answers on port 8317 (the container's published port);
  - an upstream call over TLS works with only the image's CA bundle (no
    ca-file in the config), and fails once the bundle is gone: the image's
    bundle is what made it work;
  - with the bundle only at /etc/ssl/cert.pem (OpenWrt's symlink, other
    distributions) and SSL_CERT_FILE unset, it works too;
  - the process runs as USER and the server can write /data (a login's
    token file goes there).

Exits 0 when all hold, 1 otherwise; 0 with a "skip" line where no network
namespace or chroot can be had (not root)."""

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integ"))

PORT = 8317
KEY = "docker-layout-key"
ALIAS = "alias-chat"


def fail(msg):
    print("FAIL docker layout: %s" % msg)
    sys.exit(1)


def parse(path):
    """The final stage's instructions: [(KEYWORD, rest)], continuation lines
    joined, comments dropped."""
    stages, cur, buf = [], None, ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not buf and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                buf += line[:-1] + " "
                continue
            line, buf = buf + line, ""
            word, _, rest = line.strip().partition(" ")
            word = word.upper()
            if word == "FROM":
                cur = []
                stages.append((rest.strip(), cur))
            elif cur is None:
                fail("%s before FROM" % word)
            else:
                cur.append((word, rest.strip()))
    if not stages:
        fail("no FROM")
    return stages[-1]


def layout(dockerfile, binary, ca_pem, root):
    base, instrs = parse(dockerfile)
    if base.split()[0] != "scratch":
        fail("the final stage is FROM %s, not scratch" % base)
    sources = {"/out/cli-proxy-api": binary,
               "/etc/ssl/certs/ca-certificates.crt": ca_pem,
               "/out/data": None}  # an empty directory
    user = env = entry = None
    env = {}
    exposed, volumes = [], []
    for word, rest in instrs:
        if word == "COPY":
            args = shlex.split(rest)
            opts = [a for a in args if a.startswith("--")]
            src, dst = [a for a in args if not a.startswith("--")]
            if "--from=build" not in opts:
                fail("COPY %s is not from the build stage" % rest)
            if src not in sources:
                fail("COPY of %s: this check does not know that file" % src)
            target = os.path.join(root, dst.lstrip("/"))
            if sources[src] is None:
                os.makedirs(target, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(sources[src], target)
            for o in opts:
                if o.startswith("--chown="):
                    uid, gid = (int(x) for x in o[8:].split(":"))
                    os.chown(target, uid, gid)
        elif word == "USER":
            user = rest
        elif word == "ENV":
            k, _, v = rest.partition("=")
            env[k.strip()] = v.strip()
        elif word == "EXPOSE":
            exposed += rest.split()
        elif word == "VOLUME":
            volumes += json.loads(rest)
        elif word == "ENTRYPOINT":
            entry = json.loads(rest)
        else:
            fail("unexpected %s in the final stage" % word)
    if not user or not all(p.isdigit() for p in user.split(":")) or user.split(":")[0] == "0":
        fail("USER %r is not a numeric non-root uid:gid" % user)
    if str(PORT) not in exposed:
        fail("EXPOSE lacks %d" % PORT)
    if "/data" not in volumes:
        fail("VOLUME lacks /data")
    if not isinstance(entry, list) or not entry or not os.path.exists(
            os.path.join(root, entry[0].lstrip("/"))):
        fail("ENTRYPOINT %r is not an exec-form command of the image" % (entry,))
    uid, gid = (int(x) for x in user.split(":"))
    if os.stat(os.path.join(root, "data")).st_uid != uid:
        fail("/data is not owned by the USER %d (COPY --chown)" % uid)
    return entry, env, uid, gid


def http(method, path, body=None, key=KEY, timeout=10):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    data = json.dumps(body).encode() if body is not None else b""
    head = "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % (method, path)
    if key:
        head += "Authorization: Bearer %s\r\n" % key
    head += "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(data)
    s.sendall(head.encode() + data)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    head, _, rest = out.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.decode("latin-1"), rest


def run(root, entry, env, uid, gid, label):
    log = open(os.path.join(root, "..", label + ".log"), "wb")
    p = subprocess.Popen([shutil.which("chroot"), "--userspec=%d:%d" % (uid, gid), root] + entry,
                         env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if p.poll() is not None:
            fail("%s: the server exited (%s): %s" % (label, p.returncode, logtext(root, label)))
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.5).close()
            return p
        except OSError:
            time.sleep(0.05)
    p.kill()
    fail("%s: nothing listens on %d" % (label, PORT))


def logtext(root, label):
    with open(os.path.join(root, "..", label + ".log"), "rb") as f:
        return f.read().decode("utf-8", "replace")[-600:]


def stop(p):
    p.terminate()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def chat(up, label, want_ok):
    n = len(up.requests)
    st, head, body = http("POST", "/v1/chat/completions",
                          {"model": ALIAS, "messages": [{"role": "user", "content": "hi"}]})
    if want_ok:
        if st != 200 or len(up.requests) != n + 1:
            fail("%s: chat through the TLS upstream: %d %r" % (label, st, body[:300]))
        if not json.loads(body).get("choices"):
            fail("%s: no choices in %r" % (label, body[:300]))
    elif st == 200 or len(up.requests) != n:
        fail("%s: the upstream call worked without a CA bundle (%d): the bundle "
             "check means nothing" % (label, st))


def main():
    dockerfile, binary = sys.argv[1], os.path.abspath(sys.argv[2])
    if os.environ.get("CPA_IN_NETNS") != "1":
        if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("chroot"):
            print("skip docker layout: needs root, unshare and chroot")
            return 0
        env = dict(os.environ, CPA_IN_NETNS="1")
        r = subprocess.run(["unshare", "-n", sys.executable] + sys.argv, env=env)
        return r.returncode
    if subprocess.run(["ip", "link", "set", "lo", "up"]).returncode != 0:
        print("skip docker layout: cannot bring lo up in the namespace")
        return 0

    import mocks
    import testca
    pki = testca.shared_pki()
    up = mocks.MockOpenAI(tls=mocks.server_context(pki["server_cert"], pki["server_key"]),
                          models=("up-model",))
    up.start()
    tmp = tempfile.mkdtemp(prefix="cpa-docker-")
    try:
        root = os.path.join(tmp, "root")
        entry, env, uid, gid = layout(dockerfile, binary, pki["ca_cert"], root)
        os.chmod(tmp, 0o755)
        with open(os.path.join(root, "data", "config.ini"), "w") as f:
            f.write("auth-dir = /data/auth\napi-keys = %s\n"
                    "upstream-connect-timeout = 2s\n\n"
                    "[openai-compatibility]\nname = up\nbase-url = %s\n"
                    "api-keys = upkey\nmodel = up-model = %s\n"
                    % (KEY, up.base_url, ALIAS))
        os.chown(os.path.join(root, "data", "config.ini"), uid, gid)

        p = run(root, entry, env, uid, gid, "image")
        try:
            with open("/proc/%d/status" % p.pid) as f:
                uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
            if any(int(u) != uid for u in uids):
                fail("the server runs as uid %s, not the USER %d" % (uids, uid))
            st, _, body = http("GET", "/v1/models")
            if st != 200 or ALIAS.encode() not in body:
                fail("GET /v1/models on %d: %d %r" % (PORT, st, body[:200]))
            st, _, _ = http("GET", "/v1/models", key=None)
            if st != 401:
                fail("GET /v1/models without the key: %d, not 401" % st)
            chat(up, "image", True)
        finally:
            stop(p)
        # The server made its auth-dir in /data, as the USER.
        if os.stat(os.path.join(root, "data", "auth")).st_uid != uid:
            fail("/data/auth was not created by the USER")

        # OpenWrt's layout: the bundle at /etc/ssl/cert.pem, no SSL_CERT_FILE.
        certs = os.path.join(root, "etc", "ssl", "certs", "ca-certificates.crt")
        os.rename(certs, os.path.join(root, "etc", "ssl", "cert.pem"))
        plain = {k: v for k, v in env.items() if k != "SSL_CERT_FILE"}
        p = run(root, entry, plain, uid, gid, "cert-pem")
        try:
            chat(up, "bundle at /etc/ssl/cert.pem", True)
        finally:
            stop(p)
        # And without any bundle the same call must fail.
        os.unlink(os.path.join(root, "etc", "ssl", "cert.pem"))
        p = run(root, entry, plain, uid, gid, "no-bundle")
        try:
            chat(up, "no CA bundle", False)
        finally:
            stop(p)
    finally:
        up.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok   docker layout: FROM scratch, USER %d:%d, /data, port %d, CA bundle "
          "at both paths" % (uid, gid, PORT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
