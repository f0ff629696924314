"""
testca.py - a throw-away PKI for the TLS tests, made with the openssl command.

    make_test_pki(dirpath) -> dict of file paths:
        ca_cert                         test CA (EC P-256, self-signed)
        server_cert, server_key         leaf for DNS:localhost, IP:127.0.0.1,
                                        EC P-256 key, signed by the test CA
        server_rsa_cert, server_rsa_key same names, RSA-2048 key, same CA
        wrong_ca_cert                   an unrelated CA (EC P-256)
        wrong_server_cert, wrong_server_key
                                        localhost leaf signed by the wrong CA

    shared_pki() -> the same dict for a directory made once per process and
                    removed at exit.

All certificates are valid from one day ago for ten years and carry proper v3
extensions (CA: basicConstraints critical CA:TRUE, keyUsage keyCertSign;
leaf: CA:FALSE, keyUsage digitalSignature(+keyEncipherment for RSA),
extendedKeyUsage serverAuth, subjectAltName DNS:localhost,IP:127.0.0.1).
Every signature is ECDSA with SHA-256 (both CAs have EC keys).

Files already present in dirpath are reused.  Python 3 standard library only.
"""

import atexit
import datetime
import fcntl
import os
import shutil
import subprocess
import tempfile
import threading

FILES = {
    "ca_cert": "ca.pem",
    "server_cert": "server.pem",
    "server_key": "server.key",
    "server_rsa_cert": "server-rsa.pem",
    "server_rsa_key": "server-rsa.key",
    "wrong_ca_cert": "wrong-ca.pem",
    "wrong_server_cert": "wrong-server.pem",
    "wrong_server_key": "wrong-server.key",
}

_lock = threading.Lock()
_shared = None

_CNF = """\
# written by tests/integ/testca.py
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused

[ ca ]
default_ca = testca

[ testca ]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
preserve = yes

[ policy_any ]
commonName = supplied
organizationName = optional
organizationalUnitName = optional

[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_leaf_ec ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer

[ v3_leaf_rsa ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
"""


class PKIError(RuntimeError):
    pass


def _openssl_path():
    p = shutil.which("openssl")
    if p:
        return p
    cmd = ["apt-get", "install", "-y", "-qq", "openssl"]
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            raise PKIError("the openssl command is missing and neither root nor sudo is "
                           "available to install it (apt-get install openssl)")
        cmd = ["sudo", "-n"] + cmd
    if shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        r = subprocess.run(cmd, capture_output=True, env=env, stdin=subprocess.DEVNULL)
        if r.returncode != 0:  # maybe the package lists are missing: update once
            subprocess.run(cmd[:-4] + ["update", "-qq"], capture_output=True, env=env,
                           stdin=subprocess.DEVNULL)
            r = subprocess.run(cmd, capture_output=True, env=env, stdin=subprocess.DEVNULL)
        p = shutil.which("openssl")
        if p:
            return p
        raise PKIError("the openssl command is missing and `%s` failed: %s"
                       % (" ".join(cmd), r.stderr.decode("utf-8", "replace")[-500:]))
    raise PKIError("the openssl command is missing (install the openssl package)")


def _run(openssl, args, cwd):
    r = subprocess.run([openssl] + args, cwd=cwd, capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=60)
    if r.returncode != 0:
        raise PKIError("openssl %s failed (%d): %s" % (
            " ".join(args), r.returncode,
            (r.stderr + r.stdout).decode("utf-8", "replace")[-1500:]))
    return r.stdout


def _utc(dt):
    return dt.strftime("%Y%m%d%H%M%SZ")


class _CA:
    """One CA made with `openssl ca` (so the start date can be set)."""

    def __init__(self, openssl, work, name, cn):
        self.openssl = openssl
        self.dir = os.path.join(work, name)
        os.makedirs(os.path.join(self.dir, "newcerts"))
        open(os.path.join(self.dir, "index.txt"), "w").close()
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("%016X\n" % int.from_bytes(os.urandom(8), "big"))
        self.cnf = os.path.join(self.dir, "openssl.cnf")
        with open(self.cnf, "w") as f:
            f.write(_CNF.format(dir=self.dir))
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        self.start = _utc(now - datetime.timedelta(days=1))
        self.end = _utc(now + datetime.timedelta(days=3650))
        self.key = self.genkey("ca.key", "ec")
        csr = self.csr(self.key, cn)
        self.cert = os.path.join(self.dir, "ca.pem")
        self._sign(csr, self.cert, "v3_ca", ["-selfsign", "-keyfile", self.key])

    def genkey(self, name, kind):
        path = os.path.join(self.dir, name)
        if kind == "ec":
            opts = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-pkeyopt", "ec_param_enc:named_curve"]
        else:
            opts = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        _run(self.openssl, ["genpkey"] + opts + ["-out", path], self.dir)
        os.chmod(path, 0o600)
        return path

    def csr(self, key, cn):
        path = key + ".csr"
        _run(self.openssl, ["req", "-config", self.cnf, "-new", "-sha256", "-key", key,
                            "-subj", "/O=cli-proxy-api tests/CN=" + cn, "-out", path],
             self.dir)
        return path

    def _sign(self, csr, out, ext, extra):
        _run(self.openssl, ["ca", "-batch", "-notext", "-config", self.cnf, "-md", "sha256",
                            "-startdate", self.start, "-enddate", self.end,
                            "-extensions", ext, "-in", csr, "-out", out] + extra, self.dir)

    def issue(self, name, kind):
        key = self.genkey(name + ".key", kind)
        cert = os.path.join(self.dir, name + ".pem")
        self._sign(self.csr(key, "localhost"), cert,
                   "v3_leaf_ec" if kind == "ec" else "v3_leaf_rsa",
                   ["-cert", self.cert, "-keyfile", self.key])
        return cert, key


def _paths(dirpath):
    return {k: os.path.join(dirpath, v) for k, v in FILES.items()}


def _generate(dirpath, openssl):
    work = tempfile.mkdtemp(prefix=".pki-", dir=dirpath)
    try:
        good = _CA(openssl, work, "good", "cli-proxy-api test CA")
        wrong = _CA(openssl, work, "wrong", "cli-proxy-api WRONG test CA")
        made = {"ca_cert": good.cert, "wrong_ca_cert": wrong.cert}
        made["server_cert"], made["server_key"] = good.issue("server", "ec")
        made["server_rsa_cert"], made["server_rsa_key"] = good.issue("server-rsa", "rsa")
        made["wrong_server_cert"], made["wrong_server_key"] = wrong.issue("server", "ec")
        # sanity: the good leaves verify against the good CA only
        for leaf in ("server_cert", "server_rsa_cert"):
            _run(openssl, ["verify", "-CAfile", made["ca_cert"], "-purpose", "sslserver",
                           made[leaf]], work)
        r = subprocess.run([openssl, "verify", "-CAfile", made["ca_cert"],
                            made["wrong_server_cert"]], capture_output=True,
                           stdin=subprocess.DEVNULL)
        if r.returncode == 0:
            raise PKIError("wrong_server_cert unexpectedly verifies against the test CA")
        dest = _paths(dirpath)
        # keys and leaves first, the CA certificate last: its presence marks a
        # complete set for _complete()
        for k in sorted(made, key=lambda k: k == "ca_cert"):
            os.replace(made[k], dest[k])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _complete(dirpath):
    return all(os.path.isfile(p) and os.path.getsize(p) > 0 for p in _paths(dirpath).values())


def make_test_pki(dirpath):
    """Create (or reuse) the test PKI in dirpath; return the dict of paths."""
    os.makedirs(dirpath, exist_ok=True)
    with _lock:
        if not _complete(dirpath):
            lockf = open(os.path.join(dirpath, ".pki.lock"), "w")
            try:
                fcntl.flock(lockf, fcntl.LOCK_EX)  # another process may be making it
                if not _complete(dirpath):
                    _generate(dirpath, _openssl_path())
            finally:
                lockf.close()
    return _paths(dirpath)


def shared_pki():
    """One PKI per test process, in a temp dir removed at exit."""
    global _shared
    with _lock:
        if _shared is None:
            d = tempfile.mkdtemp(prefix="cpa-integ-pki-")
            atexit.register(shutil.rmtree, d, True)
            _shared = d
    return make_test_pki(_shared)


if __name__ == "__main__":
    import sys
    target = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="cpa-pki-")
    for k, v in sorted(make_test_pki(target).items()):
        print("%-18s %s" % (k, v))
