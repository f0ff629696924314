#!/usr/bin/env python3
"""gemini_sse_probe.py - which bytes may a server put into a silence of a
Gemini SSE stream without breaking the real Gemini CLI (0.61.0)?

    python3 tests/integ/clients/gemini_sse_probe.py [NAME-SUBSTRING] [PLACES]

Runs the pinned CLI (node_modules/.bin/gemini, API-key mode) DIRECTLY against
a small Gemini mock on 127.0.0.1 (no proxy in between).  The mock answers
POST /v1beta/models/M:streamGenerateContent?alt=sse with two data: chunks
("Hello from the" / " mock upstream.", the second with finishReason STOP),
~3 s of silence in between, and a candidate filler in the middle of that
silence.  PLACES (comma-separated, default "between"):
  between    after the first whole event
  start      before the first event
  end        after the last event
  midjson    in the middle of the second event's JSON
  beforesep  after the second event's data line, before its blank line
Each line printed: place, candidate, exit status, upstream requests (the CLI
retries a stream it cannot read), whether stdout equals the baseline run
(no filler, no silence), and the CLI's error line.  Slow: ~7 s a passing
candidate, ~25 s a failing one (4 attempts).  Offline as in test_clients.py:
fresh HOME/TMPDIR, telemetry off, proxies pointed at a refusing local port
(the "stray" column lists anything that tried to use it).
"""

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CLI = os.path.join(HERE, "node_modules", ".bin", "gemini")
MODEL = "gemini-2.5-flash"

C1 = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hello from the"}]},
                      "index": 0}],
      "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5},
      "modelVersion": MODEL, "responseId": "r1"}
C2 = {"candidates": [{"content": {"role": "model", "parts": [{"text": " mock upstream."}]},
                      "finishReason": "STOP", "index": 0}],
      "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 4, "totalTokenCount": 9},
      "modelVersion": MODEL, "responseId": "r1"}

CANDIDATES = [
    ("nothing (plain silence)", b""),
    (": keep-alive\\n\\n", b": keep-alive\n\n"),
    (":\\n\\n", b":\n\n"),
    ("\\n", b"\n"),
    ("\\r\\n", b"\r\n"),
    ("\\n\\n", b"\n\n"),
    ("space", b" "),
    ("data: {}\\n\\n", b"data: {}\n\n"),
    ('data: {"candidates":[]}\\n\\n', b'data: {"candidates":[]}\n\n'),
    ("data: {one empty text part}\\n\\n",
     b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":""}]}}]}\n\n'),
    ("event: ping\\ndata: {}\\n\\n", b"event: ping\ndata: {}\n\n"),
    ("data: \\n\\n (empty data)", b"data: \n\n"),
]

STATE = {"filler": b"", "where": "between", "silence": 3.0, "sep": b"\r\n\r\n", "n": 0}


class Mock(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _chunk(self, b):
        if b:
            self.wfile.write(b"%x\r\n" % len(b) + b + b"\r\n")
            self.wfile.flush()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        STATE["n"] += 1
        if ":streamGenerateContent" not in self.path:
            body = b'{"error":{"code":404,"message":"mock: no route","status":"NOT_FOUND"}}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sep, f, w, s = STATE["sep"], STATE["filler"], STATE["where"], STATE["silence"]
        e1 = b"data: " + json.dumps(C1).encode() + sep
        e2 = b"data: " + json.dumps(C2).encode() + sep
        try:
            if w == "between":
                self._chunk(e1); time.sleep(s / 2); self._chunk(f); time.sleep(s / 2); self._chunk(e2)
            elif w == "start":
                self._chunk(f); time.sleep(s); self._chunk(e1); self._chunk(e2)
            elif w == "end":
                self._chunk(e1); self._chunk(e2); self._chunk(f); time.sleep(s)
            elif w == "midjson":
                k = len(e2) // 2
                self._chunk(e1); self._chunk(e2[:k]); time.sleep(s / 2); self._chunk(f)
                time.sleep(s / 2); self._chunk(e2[k:])
            elif w == "beforesep":
                k = len(e2) - len(sep)
                self._chunk(e1); self._chunk(e2[:k]); time.sleep(s / 2); self._chunk(f)
                time.sleep(s / 2); self._chunk(e2[k:])
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            pass  # the CLI gave up on the stream


class Refuser(threading.Thread):
    """Where the proxy variables point: records the first line, answers 403."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.seen = []

    def run(self):
        while True:
            c, _ = self.sock.accept()
            c.settimeout(1)
            try:
                self.seen.append(c.recv(300).split(b"\r\n")[0].decode("latin-1"))
                c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
            c.close()


def run(filler, where="between", silence=3.0, sep=b"\r\n\r\n"):
    STATE.update(filler=filler, where=where, silence=silence, sep=sep, n=0)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mock)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    ref = Refuser()
    ref.start()
    home = tempfile.mkdtemp(prefix="gemini-probe-")
    try:
        os.makedirs(os.path.join(home, ".gemini"))
        os.makedirs(os.path.join(home, "project"))
        with open(os.path.join(home, ".gemini", "settings.json"), "w") as f:
            json.dump({"security": {"auth": {"selectedType": "gemini-api-key"}},
                       "privacy": {"usageStatisticsEnabled": False},
                       "general": {"enableAutoUpdate": False},
                       "telemetry": {"enabled": False}}, f)
        px = "http://127.0.0.1:%d" % ref.port
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "TMPDIR": home,
               "TERM": "dumb", "GEMINI_API_KEY": "probe-key",
               "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:%d" % srv.server_address[1],
               "GEMINI_CLI_TRUST_WORKSPACE": "true",
               "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
               "HTTPS_PROXY": px, "https_proxy": px, "HTTP_PROXY": px, "http_proxy": px}
        p = subprocess.run([CLI, "-m", MODEL, "-p", "say hi"], env=env,
                           cwd=os.path.join(home, "project"), capture_output=True,
                           timeout=120, stdin=subprocess.DEVNULL)
    finally:
        srv.shutdown()
        shutil.rmtree(home, ignore_errors=True)
    err = [re.sub(r"Full report available at: \S+ ", "", ln.strip())
           for ln in p.stderr.decode("utf-8", "replace").splitlines()
           if "Error" in ln and not ln.strip().startswith("at ")]
    return p.returncode, p.stdout.decode("utf-8", "replace"), STATE["n"], err, ref.seen


def main():
    want = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "all" else None
    places = sys.argv[2].split(",") if len(sys.argv) > 2 else ["between"]
    rc, base, n, err, stray = run(b"", silence=0.0)
    print("baseline: status %d, %d request(s), stdout %r, stray %r" % (rc, n, base, stray),
          flush=True)
    if rc != 0:
        print("baseline failed: %r" % err)
        return 1
    for where in places:
        for name, filler in CANDIDATES:
            if want and want not in name:
                continue
            rc, out, n, err, stray = run(filler, where=where)
            print("%-9s %-34s status %d  requests %d  same output %-5s stray %r  %s"
                  % (where, name, rc, n, out == base, stray, err[0] if err else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
