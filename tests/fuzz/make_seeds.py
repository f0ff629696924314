#!/usr/bin/env python3
"""Write seed inputs for the fuzz targets, one directory per target, and
libFuzzer dictionaries (OUTDIR/<target>.dict) of the words the code looks
for: JSON keys and values the codecs compare, config keys and sections.

    python3 tests/fuzz/make_seeds.py OUTDIR

Seeds come from the translation fixtures (tests/fixtures/cases), from the
string literals of the unit tests, from config.ini.example, and from a few
packets and texts built here.  Each seed starts with the option bytes its
target reads (see the comment at the top of each target).  The committed
corpus is these seeds minimized with libFuzzer's -merge=1 (merge.sh), plus
every input that ever crashed a target.
"""
import os
import re
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FMT = {"openai": 0, "responses": 1, "claude": 2, "gemini": 3,
       "completions": 4}
MAX_SEED = 16 * 1024  # larger fixtures are left out (the "big" cases)

seeds = {}


def add(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if len(data) <= MAX_SEED:
        seeds.setdefault(target, []).append(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# ---- C string literals of the unit tests --------------------------------

LIT = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
ADJ = re.compile(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+')
ESC = {"n": 10, "r": 13, "t": 9, "0": 0, "\\": 92, '"': 34, "'": 39,
       "a": 7, "b": 8, "f": 12, "v": 11, "?": 63}


def c_unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        n = s[i + 1]
        if n == "x":
            m = re.match(r"[0-9a-fA-F]+", s[i + 2:])
            out.append(int(m.group(0), 16) & 0xFF)
            i += 2 + len(m.group(0))
        elif n in "01234567":
            m = re.match(r"[0-7]{1,3}", s[i + 1:])
            out.append(int(m.group(0), 8) & 0xFF)
            i += 1 + len(m.group(0))
        else:
            out.append(ESC.get(n, ord(n)))
            i += 2
    return bytes(out)


def literals(path):
    """Adjacent literals joined, as the C compiler does."""
    text = read(path).decode("utf-8", "surrogateescape")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    for m in ADJ.finditer(text):
        yield b"".join(c_unescape(x) for x in LIT.findall(m.group(0)))


def unit(name):
    return literals(os.path.join(ROOT, "tests", "unit", name))


def http_seeds():
    req = re.compile(rb"^\r?\n?[A-Z]+ /")
    for lit in unit("test_http.c"):
        if req.match(lit):
            add("http_request", b"\x00" + lit)
        if re.match(rb"^[0-9a-fA-F]+[ \t;\r\n]", lit):
            for opt in (b"\x00\x01\x00", b"\x03\x07\x01"):
                add("http_chunked", opt + lit)
    for lit in unit("test_http_response.c"):
        if lit.startswith(b"HTTP/"):
            add("http_response", b"\x00" + lit)
    add("http_request", b"\x00GET /v1/models HTTP/1.1\r\nHost: a\r\n"
        b"Authorization: Bearer k\r\n\r\n")
    add("http_request", b"\x05\r\nPOST /v1/chat/completions HTTP/1.1\n"
        b"Content-Length: 2\nTransfer-Encoding: chunked\n\n{}")
    add("http_response", b"\x00HTTP/1.1 200 OK\r\nContent-Type: "
        b"text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    add("http_response", b"\x00HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 429"
        b"\r\nRetry-After: 1\r\n\r\n")
    add("http_chunked", b"\x00\x00\x00" + b"5\r\nhello\r\n0\r\n\r\nGET")
    add("http_chunked", b"\x02\x09\x01" + b"a;x=y\r\n0123456789\r\n"
        b"0\r\nTrailer: t\r\n\r\n")


def sse_seeds():
    for lit in unit("test_sse.c"):
        if b"data" in lit or b"event" in lit:
            add("sse", b"\x00\x01" + lit)
            add("sse", b"\x04\x02" + lit)


def json_seeds():
    for lit in unit("test_json_buf.c"):
        if lit[:1] in (b"{", b"[", b'"', b" ") or lit[:1].isdigit():
            add("json", lit)
    for v in (b"1", b"-0.5e+3 ", b"true", b"null", b'"\\ud83d\\ude00"',
              b"[[[[]]]]", b'{"model":"m","stream":true,"model":1}'):
        add("json", v)


def cfg_seeds():
    add("cfg", read(os.path.join(ROOT, "config.ini.example")))
    for lit in unit("test_cfg.c"):
        if b"=" in lit and (b"\n" in lit or b"[" in lit):
            add("cfg", lit)
    add("cfg", b"[remote-management]\nsecret-key = 0123456789abcdef\n"
        b"allow-remote = maybe\n")


def cfg_edit_seeds():
    """config.ini.example and the unit tests' texts behind option bytes
    that pick each key and value (cfg_edit.c), plus a few layouts."""
    texts = [read(os.path.join(ROOT, "config.ini.example"))]
    for lit in unit("test_cfg_edit.c"):
        if b"=" in lit and b"\n" in lit:
            texts.append(lit)
    texts += [b"\xef\xbb\xbf[remote-management]\r\nsecret-key =\r\n",
              b"port=1\n[a]\nk : v ; c\n[a]\nk = w",
              b"api-keys = a\napi-keys = b\n[claude-api-key]\napi-key = \"k\"\n"
              b"[openai-compatibility]\nname = n # c\n[endpoints]\n"
              b"claude = http://h/#f\n[streaming]\nkeepalive-seconds=\t\n"]
    for i, t in enumerate(texts):
        # key by index; value: hash, "", "x", the odd one; small room
        for opt in (i & 7, (i & 7) | 8, (i + 3 & 7) | 16 | (64 if i % 3 == 0 else 0),
                    (i + 5 & 7) | 24, (i & 7) | (32 + (i % 4) * 8 & 56)):
            add("cfg_edit", bytes([opt]) + t)


def yaml_seeds():
    """The import test's config.yaml files and the unit tests' YAML texts,
    behind each option byte (LF, CRLF, BOM, both)."""
    texts = []
    d = os.path.join(ROOT, "tests", "integ", "import_yaml")
    for case in sorted(os.listdir(d)):
        p = os.path.join(d, case, "config.yaml")
        if os.path.exists(p):
            texts.append(read(p))
    for lit in unit("test_yaml.c"):
        if b":" in lit or lit.startswith(b"- ") or b"\n" in lit:
            texts.append(lit)
    for i, t in enumerate(texts):
        add("yaml", bytes([i % 4]) + t)


def acct_file_seeds():
    """Auth files of the five types as the reference writes them (compact,
    and indented as Go's MarshalIndent does), behind an option byte, plus
    the unit tests' JSON literals."""
    import base64
    import json

    def jwt(claims):
        enc = base64.urlsafe_b64encode(json.dumps(claims).encode())
        return "eyJhbGciOiJSUzI1NiJ9." + enc.rstrip(b"=").decode() + ".c2ln"

    files = [
        {"token": {"access_token": "ya29.a0-access", "token_type": "Bearer",
                   "refresh_token": "1//0g-refresh",
                   "expiry": "2026-09-01T12:34:56.123456789+02:00",
                   "token_uri": "https://oauth2.googleapis.com/token",
                   "client_id": "681255809395-x.apps.googleusercontent.com",
                   "client_secret": "GOCSPX-secret",
                   "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                   "universe_domain": "googleapis.com"},
         "project_id": "proj-a,proj-b", "email": "u@example.com",
         "auto": False, "checked": True, "type": "gemini"},
        {"access_token": "flat", "refresh_token": "", "expiry":
         "2026-03-11T10:00:00Z", "token": {"access_token": "old",
                                           "refresh_token": "nested"},
         "token_type": "Bearer", "type": "gemini"},
        {"id_token": jwt({"email": "c@example.com",
                          "https://api.openai.com/auth": {
                              "chatgpt_account_id": "acct-1",
                              "chatgpt_plan_type": "plus"}}),
         "access_token": "eyJ-access", "refresh_token": "rt_refresh",
         "last_refresh": "2026-03-01T10:00:00Z", "type": "codex",
         "expired": "2026-03-11T10:00:00Z", "disabled": False},
        {"id_token": "", "access_token": "sk-ant-oat01-a",
         "refresh_token": "sk-ant-ort01-r",
         "last_refresh": "2026-12-03T17:21:51+00:00",
         "email": "cl@example.com", "account_uuid": "0a1b",
         "claude_device_ids": ["00" * 32], "type": "claude",
         "expired": "2026-12-04T01:21:51+08:00", "disabled": True,
         "refresh_interval_seconds": "1h30m"},
        {"access_token": "q-access", "refresh_token": "q-refresh",
         "last_refresh": 1772359200000, "resource_url": "portal.qwen.ai",
         "email": "qwen-1712345678901", "type": "qwen",
         "expired": "2026-03-01T16:00:00+06:00"},
        {"type": "antigravity", "access_token": "ya29.ag",
         "refresh_token": "1//ag", "expires_in": 3599,
         "timestamp": 1767225600000, "email": "ag@example.com",
         "project_id": "ag-proj", "base_url": "https://x.example.com",
         "user_agent": "antigravity/1.11.5", "proxy_url": "http://p:3128",
         "prefix": "team", "priority": 2, "note": "n"},
    ]
    for i, f in enumerate(files):
        add("acct_file", bytes([i * 5 & 31]) +
            json.dumps(f, separators=(",", ":")).encode())
        add("acct_file", bytes([(i * 7 + 3) & 31]) +
            json.dumps(f, indent=2).encode() + b"\n")
    for lit in unit("test_acct_file.c"):
        if lit[:1] in (b"{", b" ", b"["):
            add("acct_file", b"\x1f" + lit)
    add("acct_file", b"\x00" + b"2026-05-20T08:00:00.25-08:00")


def mlist_seeds():
    """List answers of the three shapes as the services write them (and
    indented), behind the option byte naming the shape, plus the unit
    tests' JSON literals under each shape."""
    import json
    claude = {"data": [
        {"type": "model", "id": "claude-opus-4-7", "display_name": "Claude Opus 4.7",
         "created_at": "2026-09-01T00:00:00Z"},
        {"type": "model", "id": "claude-sonnet-4-20250514",
         "display_name": "Claude Sonnet 4", "created_at": "2025-05-22T00:00:00+02:00"},
        {"type": "model", "id": r"claude-\u0068aiku", "display_name": r"bad\u0001"}],
        "has_more": False, "first_id": "claude-opus-4-7", "last_id": "claude-haiku"}
    gemini = {"models": [
        {"name": "models/gemini-2.5-pro", "version": "2.5", "displayName": "Gemini 2.5 Pro",
         "description": "Stable", "inputTokenLimit": 1048576, "outputTokenLimit": 65536,
         "supportedGenerationMethods": ["generateContent", "countTokens",
                                        "createCachedContent", "batchGenerateContent"],
         "temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2, "thinking": True},
        {"name": "models/text-embedding-004", "displayName": "Text Embedding 004",
         "supportedGenerationMethods": ["embedContent"]},
        {"name": "tunedModels/x", "supportedGenerationMethods": ["generateContent"]}],
        "nextPageToken": "Ch9tb2RlbHM"}
    ca = {"models": {
        "gemini-3-pro-high": {"displayName": "Gemini 3 Pro (High)", "maxTokens": 1048576,
                              "quotaInfo": {"remainingFraction": 1,
                                            "resetTime": "2026-01-01T00:00:00Z"}},
        "claude-sonnet-4-6": {"displayName": "Claude Sonnet 4.6"},
        "chat_20706": {}, "rev19 uic3": {}}}
    for opt, ans in ((0, claude), (1, gemini), (2, ca)):
        text = json.dumps(ans, separators=(",", ":")).replace("\\\\u", "\\u")
        add("mlist", bytes([opt]) + text.encode())
        add("mlist", bytes([opt]) + json.dumps(ans, indent=2).encode() + b"\n")
    for lit in unit("test_mlist.c"):
        if lit[:1] in (b"{", b"["):
            for opt in (0, 1, 2):
                add("mlist", bytes([opt]) + lit)


def bcrypt_seeds():
    """The unit tests' known answers up to cost 6 (hash, then key), some
    malformed neighbours, and inputs of the built mode (option bit 2:
    cost, variant, 16 salt bytes, then the key)."""
    pairs = [
        (b"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
         b"U*U"),
        (b"$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy",
         b""),
        (b"$2b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e",
         b"\xff\xff\xa3"),
        (b"$2y$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq",
         b"\xa3"),
        (b"$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
         b"0123456789abcdefghijklmnopqrstuvwxyz"
         b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored"),
        (b"$2b$05$abcdefghijklmnopqrstuuZryQ3HLnGrTji8GGXkkAn2CuMsqqjDG",
         b"a\x00b"),
        (b"$2b$04$abcdefghijklmnopqrstuuMFdJu9yVgmagVAIC24fOZkaFqd3s9JC",
         b"a"),
        (b"$2a$04$......................Rqr9jLuREF2VFGGbeI5O6Id0bo8jgBq",
         b"Tr0ub4dor&3"),
        (b"$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i",
         b"abc"),
        (b"$2a$10$k1wbIrmNyFAPwPVPSVa/zecw2BCEnBwVS2GbrmgzxFUOqW9dk4TCW",
         b""),
    ]
    for i, (h, k) in enumerate(pairs):
        add("bcrypt", bytes([i & 3, len(h)]) + h + k)
    bad = [b"$2x$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e",
           b"$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
           b"$2a$32$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
           b"$2a$05$CCCCCCCCCCCCCCCCCCCCC/E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
           b"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeX",
           b"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe",
           b"$2a$05$CCCCCCCCCCCC+CCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"]
    for h in bad:
        add("bcrypt", bytes([0, len(h)]) + h + b"U*U")
    for opt, cost, variant, key in ((4, 0, b"a", b"secret"),
                                    (5, 1, b"b", b""),
                                    (6, 2, b"y", b"k" * 80),
                                    (7, 0, b"x", b"k")):
        add("bcrypt", bytes([opt, 18, cost]) + variant +
            bytes(range(16)) + key)


def url_seeds():
    for u in (b"http://a", b"https://user:p%40ss@host.example:8443/v1/",
              b"socks5://u:p@10.0.0.1:1080", b"socks5h://[::1]:9050",
              b"http://[fe80::1%25eth0]/x?y#z", b"HTTPS://H/?q",
              b"http://a:65536", b"http://:80", b"ftp://x"):
        add("url", b"\x00" + u)
    add("url", b"\x05" + b"http://short")
    for lit in unit("test_cfg.c"):
        m = re.search(rb"(https?|socks5h?)://[^\s\"]+", lit)
        if m:
            add("url", b"\x00" + m.group(0))


def fmt_seeds():
    """Each format of the table at rooms 0, 1, 7 and the whole output,
    with extreme and ordinary integers; numbers and an IPv6 address (the
    data's first 16 bytes) in the string."""
    ints = (0, -1, 1, 42, -42, 2**31 - 1, -2**31, 123456789, -300, 300)
    data = (b"::1 is not a number", b" -9223372036854775808x",
            b"\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
            b"99999999999999999999", b"\x00" * 10 + b"\xff\xff\x7f\x00\x00\x01",
            b"")
    n = 0
    for which in range(14):
        for room in (0, 1, 7, 255):
            a = ints[n % len(ints)]
            b = ints[(n * 3 + 1) % len(ints)]
            c = ints[(n * 7 + 2) % len(ints)]
            w = ints[(n * 5 + 3) % len(ints)] % 301
            p = ints[(n * 11 + 4) % len(ints)] % 301
            add("fmt", bytes([which, room]) +
                struct.pack(">iiiii", a, b, c, w, p) + data[n % len(data)])
            n += 1


def dns_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def dns_answer(qid, qtype, records, rcode=0, flags=0x8180):
    hdr = struct.pack(">HHHHHH", qid, flags | rcode, 1, len(records), 0, 0)
    q = dns_name("example.com") + struct.pack(">HH", qtype, 1)
    rr = b""
    for owner, rtype, ttl, rdata in records:
        rr += owner + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata
    return hdr + q + rr


def dns_seeds():
    ptr = b"\xc0\x0c"
    a = dns_answer(0x1234, 1, [(ptr, 1, 300, bytes([93, 184, 216, 34])),
                               (ptr, 1, 60, bytes([1, 2, 3, 4]))])
    aaaa = dns_answer(0xBEEF, 28, [(ptr, 28, 120, bytes(range(16)))])
    cname = dns_answer(7, 1, [(ptr, 5, 30, dns_name("www.example.net")),
                              (b"\xc0\x29", 1, 10, bytes([10, 0, 0, 1]))])
    nx = dns_answer(9, 1, [], rcode=3)
    loop = dns_answer(11, 1, [(b"\xc0\x1d", 1, 5, bytes(4))])
    add("dns", b"\x00\x00" + a)
    add("dns", b"\x00\x03" + a)
    add("dns", b"\x01\x00" + aaaa)
    add("dns", b"\x00\x00" + cname)
    add("dns", b"\x00\x00" + nx)
    add("dns", b"\x00\x10" + a)
    add("dns", b"\x00\x00" + loop)
    add("dns", b"\x00\x08" + a[:40])
    add("dns", b"\x02\x00example.com")
    add("dns", b"\x02\x01a.b.c.")
    add("dns", b"\x03nameserver 10.0.0.53\nnameserver ::1\n"
        b"options timeout:2 attempts:3 rotate\n# x\n; y\n")
    add("dns", b"\x04127.0.0.1 localhost\n::1 localhost ip6-localhost\n"
        b"10.1.2.3 api.example  # comment\n\x00api.example")


def hc_proxy_seeds():
    # [0] bit 0 SOCKS5, bits 1-2 address (0 IPv4, 1 IPv6, 2 name), bit 3
    # credentials; [1] split seed; then the proxy's bytes.
    ok4 = b"\x05\x00\x00\x01" + bytes(6)
    ok6 = b"\x05\x00\x00\x04" + bytes(18)
    okn = b"\x05\x00\x00\x03\x09proxy.lan\x04\x38"
    add("hc_proxy", b"\x00\x01HTTP/1.1 200 Connection established\r\n\r\n")
    add("hc_proxy", b"\x08\x02HTTP/1.0 200 OK\r\nProxy-Agent: p\r\n\r\n"
        b"\x16\x03\x03\x00\x02hi")
    add("hc_proxy", b"\x00\x03HTTP/1.1 407 Proxy Authentication Required\r\n"
        b"Proxy-Authenticate: Basic realm=\"p\"\r\n\r\n")
    add("hc_proxy", b"\x00\x04HTTP/1.1 502 Bad Gateway\r\n\r\n")
    add("hc_proxy", b"\x00\x05SSH-2.0-OpenSSH_9.6\r\n\r\n")
    add("hc_proxy", b"\x01\x06\x05\x00" + ok4)
    add("hc_proxy", b"\x03\x07\x05\x00" + ok6 + b"HTTP/1.1 200")
    add("hc_proxy", b"\x05\x08\x05\x00" + okn)
    add("hc_proxy", b"\x09\x09\x05\x02\x01\x00" + ok4)
    add("hc_proxy", b"\x0d\x0a\x05\x02\x05\x00" + okn)
    add("hc_proxy", b"\x09\x0b\x05\x02\x01\x01")
    add("hc_proxy", b"\x01\x0c\x05\xff")
    add("hc_proxy", b"\x01\x0d\x05\x00\x05\x05\x00\x01" + bytes(6))
    add("hc_proxy", b"\x01\x0e\x05\x00\x05\x00\x00\x02" + bytes(6))
    add("hc_proxy", b"\x01\x0f\x04\x5a")


# ---- fixtures ----------------------------------------------------------------

def fixture_seeds():
    base = os.path.join(ROOT, "tests", "fixtures", "cases")
    for i, case in enumerate(sorted(os.listdir(base))):
        d = os.path.join(base, case)
        meta = {}
        for line in read(os.path.join(d, "meta")).decode().splitlines():
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                meta[k] = v.strip()
        cf, uf = FMT[meta["client"]], FMT[meta["upstream"]]
        stream = int(meta.get("stream", "0"))
        body = read(os.path.join(d, "client.json"))
        model = i % 8
        add("hub_request", bytes([cf, stream | (model << 3) |
                                  (2 if i % 5 == 0 else 0)]) + body)
        add("json", body)
        for name in ("upstream.sse", "upstream.json"):
            p = os.path.join(d, name)
            if not os.path.exists(p):
                continue
            up = read(p)
            s = 1 if name == "upstream.sse" else 0
            add("hub_stream", bytes([uf, cf, s | ((i % 8) << 2) |
                                     (2 if i % 7 == 0 else 0), i]) + up)
            if s:
                add("sse", bytes([0, i]) + up)
            else:
                add("json", up)


# ---- dictionaries -----------------------------------------------------------

def src(name):
    return read(os.path.join(ROOT, "src", name)).decode("utf-8", "replace")


def dict_line(word):
    out = ""
    for b in word if isinstance(word, bytes) else word.encode():
        out += chr(b) if 32 <= b < 127 and chr(b) not in '"\\' \
            else "\\x%02x" % b
    return '"%s"' % out


def dicts(out):
    hub = ""
    for f in sorted(os.listdir(os.path.join(ROOT, "src"))):
        if f.startswith("hub") and f.endswith(".c"):
            hub += src(f)
    keys = set(re.findall(r'json_get\([^;]*?"([^"\\]+)"\)', hub))
    words = set(re.findall(r'(?:hub_span_eq|json_str_eq|http_span_eq)'
                           r'\([^;]*?"([^"\\]+)"\)', hub))
    js = sorted({'"%s":' % k for k in keys} | {'"%s"' % w for w in words})
    js += ["true", "false", "null", "\\u0000", "\\ud83d\\ude00", "[]",
           "{}"]
    sse = ["data: ", "event: ", "\n\n", "\r\n", "[DONE]", ": ping"]
    cfgsrc = src("cfg.c")
    cfgw = set(re.findall(r'\{"([a-z-]*)", "([a-z0-9-]+)", V_', cfgsrc))
    cfg = sorted({k for _, k in cfgw} | {"[%s]" % s for s, _ in cfgw if s})
    cfg += ["[claude-api-key]", "[codex-api-key]", "[openai-compatibility]",
            "[endpoints]", "[upstream-headers]", "claude-login",
            "codex-login", "gemini-cli", "User-Agent: ", "{model}",
            "api-key", "base-url", "header", "proxy-url",
            "models", "name", " = ", " ;", "true", "off", "10s", "1m"]
    proxy = ["HTTP/1.1 200 ", "HTTP/1.0 ", " OK", "\r\n", "\r\n\r\n", ": ",
             "\x05\x00", "\x05\x02", "\x01\x00", "\x00\x01", "\x00\x03",
             "\x00\x04"]
    # PEM banners and the DER bytes tls_anchor_decode looks for (tags,
    # long lengths, key and curve OIDs, basicConstraints, dates)
    tls = [b"-----BEGIN ", b"-----END ", b"CERTIFICATE",
           b"TRUSTED CERTIFICATE", b"-----", b"\r\n", b"==",
           b"\x30\x82", b"\x30\x81", b"\xa0\x03\x02\x01\x02", b"\xa3",
           b"\x01\x01\xff", b"\x03\x01\x00",
           b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01",
           b"\x06\x07\x2a\x86\x48\xce\x3d\x02\x01",
           b"\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07",
           b"\x06\x05\x2b\x81\x04\x00\x22",
           b"\x06\x05\x2b\x81\x04\x00\x23",
           b"\x06\x03\x55\x1d\x13", b"\x17\x0d", b"\x18\x0f",
           b"000229000000Z"]
    acct = ['"%s":' % k for k in sorted(set(re.findall(
        r'"([a-zA-Z_]+)"', src("acct_file.c"))))]
    acct += ['"%s"' % t for t in ("gemini", "codex", "claude", "qwen",
                                  "antigravity")]
    acct += ["\\u0000", "\\ud83d\\ude00", "T00:00:00Z", "+05:30", ".5",
             "1767225600000", "https://api.openai.com/auth", "eyJ"]
    mlist = ['"%s":' % k for k in ("data", "id", "display_name", "created_at",
                                    "has_more", "models", "name", "displayName",
                                    "supportedGenerationMethods")]
    mlist += ['"generateContent"', '"models/', "\\u0000", "T00:00:00Z", "[]",
              "{}"]
    bcrypt = ["$2a$", "$2b$", "$2y$", "$04$", "$05$", "$06$", "$31$",
              "./", "O", "e", "u", ".", "\x00"]
    cfg_edit = ["[remote-management]", "secret-key", "port", "api-keys",
                "[claude-api-key]", "api-key", "[openai-compatibility]",
                "name", "[endpoints]", "claude", "[a]", "k", "[streaming]",
                "keepalive-seconds", " = ", "=", ":", " ;", " #", "\r\n",
                b"\xef\xbb\xbf", "[]"]
    yaml = [": ", "- ", "\n  ", "\n    - ", "# ", " #", "---", "'", "''",
            '"', "\\u00e9", "\\x41", "\\U0001F600", "\\n", "[", "]",
            ", ", "{}", "[]", "~", "null", "\r\n", "\t", b"\xef\xbb\xbf",
            "&a", "*a", "!!str", "|", ">", "...", "%YAML",
            "gemini-api-key", "api-key-entries", "headers", "models",
            "alias", "y", "n"] + sorted({k for _, k in cfgw} |
                                     {s for s, _ in cfgw if s})
    want = {"hub_request": js, "hub_stream": js + sse, "json": js,
            "yaml": yaml,
            "bcrypt": bcrypt, "cfg_edit": cfg_edit,
            "acct_file": acct,
            "mlist": mlist,
            "sse": sse, "cfg": cfg, "hc_proxy": proxy, "tls_anchors": tls}
    for target, ws in want.items():
        with open(os.path.join(out, target + ".dict"), "w") as f:
            for w in ws:
                f.write(dict_line(w) + "\n")


def oauth_seeds():
    for line in (b"http://localhost:1455/auth/callback?code=ac_1&state=0123abcd",
                 b"?code=abc%2Fdef&state=s1", b"code=abc&state=s1",
                 b"abc123#state-1", b"http://localhost:8085/oauth2callback?error=access_denied&state=x",
                 b"  http://localhost:54545/callback?code=c%23x&state=y#frag\n",
                 b"#code=a&state=b", b"https://h/p?state=s&code=a+b&scope=x"):
        add("oauth", b"\x00" + line)
    for req in (b"GET /auth/callback?code=a&state=b HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /auth/callback HTTP/1.0\n", b"POST / HTTP/1.1\r\n",
                b"GET /x?y HTTP/1.1"):
        add("oauth", b"\x01" + req)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    http_seeds()
    sse_seeds()
    json_seeds()
    cfg_seeds()
    cfg_edit_seeds()
    yaml_seeds()
    acct_file_seeds()
    mlist_seeds()
    bcrypt_seeds()
    url_seeds()
    fmt_seeds()
    oauth_seeds()
    dns_seeds()
    hc_proxy_seeds()
    fixture_seeds()
    os.makedirs(out, exist_ok=True)
    dicts(out)
    add("hub_request", b"\x04\x00" + b'{"model":"m","prompt":["a","b"],'
        b'"stop":"x","max_tokens":5}')
    for target, items in sorted(seeds.items()):
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for n, data in enumerate(items):
            with open(os.path.join(d, "seed-%03d" % n), "wb") as f:
                f.write(data)
        print("%-14s %3d seeds" % (target, len(items)))


if __name__ == "__main__":
    main()
