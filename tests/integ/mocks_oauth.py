"""
mocks_oauth.py - fake OAuth token endpoints for the tests of auth-dir
accounts, plus auth-file helpers.

The server reuses mocks.MockOpenAI's hand-written HTTP/1.1 server (TLS with
mocks.server_context(), keep-alive, .requests, .script(), .wait_requests(),
.headers_to_send, .url, .port, context manager).

MockTokenServer(tls=None)
    One server for every token endpoint shape (grant_type=refresh_token):
      POST /token                Google (Gemini CLI, Antigravity): form
                                 grant_type, refresh_token, client_id, client_secret
      POST /oauth/token          OpenAI (Codex): form client_id, grant_type,
                                 refresh_token, scope
      POST /v1/oauth/token       Claude: JSON {client_id, grant_type,
                                 refresh_token[, scope]}
      POST /api/v1/oauth2/token  Qwen: form grant_type, refresh_token, client_id
    Each record in .requests also has kind ("google" | "openai" | "claude" |
    "qwen" | None), params (the form or JSON body as a dict, {} if neither)
    and form (dict, or None when the body was not a form).
      .valid_refresh     None (accept any refresh token) or a set; the test
                         fills it
      .rotate            True: the used refresh token leaves .valid_refresh,
                         the new one enters; False: the answer carries back
                         the refresh token it was given, which stays valid
      .reuse_detection   False; True: an OpenAI refresh token used before
                         gets 401 {"error":{"code":"refresh_token_reused",..}}
                         instead of 400 invalid_grant
      .expected_client_ids  None, or a set: other client_ids get 401
                         {"error":"invalid_client"}
      .strict_content_type  True: a form endpoint given no form, or the
                         Claude endpoint given no JSON object, answers 400
      .expires_in (3600), .email, .account_id, .plan_type ("plus"),
      .resource_url ("portal.qwen.ai"), .access_prefix ({kind: prefix of
                         issued access tokens}, default none: "at-<n>")
      .issued            access tokens issued, in order; .issued_refresh the
                         refresh tokens; .used_refresh the refresh tokens
                         redeemed (each at most once)
      .in_flight, .max_in_flight   token requests being answered (the most
                         at once), to see that refreshes are single-flight
      .link(*upstreams)  every access token issued from now on is added to
                         each upstream's .valid_tokens (None becomes a set)
    A success is 200 {"access_token":"at-<n>","refresh_token":"rt-<n>",
    "expires_in":3600,"token_type":"Bearer"} (<n> counts grants from 1) plus,
    per kind: google scope; openai id_token (make_jwt: email and
    "https://api.openai.com/auth" {chatgpt_account_id, chatgpt_plan_type,
    chatgpt_user_id}) and scope; claude scope, organization {uuid, name},
    account {uuid, email_address}; qwen resource_url.  An unknown refresh
    token: 400 {"error":"invalid_grant","error_description":...}; another
    grant_type: 400 unsupported_grant_type; no refresh_token: 400
    invalid_request.
    Scripts (.script([...]), one per request):
      ("ok"[, overrides])    success whatever the refresh token (rotation as
                             usual); overrides are merged into the answer, a
                             None value drops that key (Claude may omit
                             refresh_token: the old one then stays valid)
      ("status", code, body[, headers])   that answer (OPENAI_REUSED is one)
      ("delay", seconds)     wait, then the default answer
      ("hang",)              never answer (records the client's close)
      ("reset",)             close with a TCP reset, no answer

Auth files
    write_auth_file(dir, kind, filename=None, expires_in=3600,
                    expires_at=None, flat=True, plan_type="plus", **fields) -> path
        kind: gemini | codex | claude | qwen | antigravity; the file holds
        the reference's field layout for that kind (LAYOUTS; gemini's nested
        token object GEMINI_TOKEN, and unless flat=False top-level copies of
        GEMINI_FLAT) with defaults for what is not given.  The expiry is
        expires_at (RFC 3339 string, datetime or Unix time) or now +
        expires_in; it fills expired / expiry (RFC 3339 UTC,
        "2026-01-02T03:04:05Z"), the codex id_token's exp and antigravity's
        expires_in + timestamp (ms).  fields: any layout field, written as
        given (None leaves it out; gemini: token fields go into token, or
        token={...} replaces it whole); other fields go at the top level.
        plan_type: the codex id_token's chatgpt_plan_type.  Default names:
        <email>-<project_id>.json, codex-<email>-<plan>.json,
        claude-<email>.json, qwen-<email>.json, antigravity-<email>.json.
        Written 0600 via a rename, so a watcher never sees half a file.
    read_auth_file(path) -> dict
    auth_tokens(d) -> {"access_token", "refresh_token", "expiry"} (expiry:
        Unix time or None) of any layout
    rfc3339(t) / parse_rfc3339(s)

make_jwt(payload, header=None) -> unsigned JWT (header.payload.sig, base64url)
decode_jwt(token) -> payload dict

Python 3 standard library only.
"""

import base64
import datetime
import json
import os
import time
import urllib.parse

import mocks
from mocks import _rst_close

# Client ids and secrets from the reference (protocol.md §2, providers-2026.md §1).
GEMINI_CLIENT_ID = "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com"
GEMINI_CLIENT_SECRET = "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"
ANTIGRAVITY_CLIENT_ID = "1071006060591-tmhssin2h21lcre235vtolojh4g403ep.apps.googleusercontent.com"
ANTIGRAVITY_CLIENT_SECRET = "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"
CODEX_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
CLAUDE_CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
QWEN_CLIENT_ID = "f0304373b74a44d2b584a3fb70ca9e56"
GEMINI_SCOPES = ["https://www.googleapis.com/auth/cloud-platform",
                 "https://www.googleapis.com/auth/userinfo.email",
                 "https://www.googleapis.com/auth/userinfo.profile"]

TOKEN_PATHS = {"/token": "google", "/oauth/token": "openai", "/v1/oauth/token": "claude",
               "/api/v1/oauth2/token": "qwen"}

# The answer of auth.openai.com to a refresh token redeemed twice.
OPENAI_REUSED = ("status", 401, {"error": {
    "message": "Your refresh token has already been used to generate a new access token. "
               "Please try signing in again.",
    "type": "invalid_request_error", "param": None, "code": "refresh_token_reused"}})


# --------------------------------------------------------------------------
# JWT and time helpers

def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(payload, header=None):
    """An unsigned JWT: base64url(header).base64url(payload).base64url(sig)."""
    h = header or {"alg": "RS256", "kid": "mock", "typ": "JWT"}
    return ".".join([_b64url(json.dumps(h, separators=(",", ":")).encode()),
                     _b64url(json.dumps(payload, separators=(",", ":")).encode()),
                     _b64url(b"mock-signature")])


def decode_jwt(token):
    """The payload of a JWT (no signature check)."""
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def openai_id_claims(email, account_id, plan_type="plus", ttl=3600):
    """The claims of an OpenAI id_token as Codex reads them."""
    now = int(time.time())
    return {"iss": "https://auth.openai.com", "aud": [CODEX_CLIENT_ID],
            "sub": "auth0|mock-user", "email": email, "email_verified": True,
            "iat": now, "exp": now + ttl, "auth_time": now,
            "https://api.openai.com/auth": {
                "chatgpt_account_id": account_id, "chatgpt_plan_type": plan_type,
                "chatgpt_user_id": "user-mock0001", "user_id": "user-mock0001",
                "organizations": [{"id": "org-mock0001", "is_default": True,
                                   "role": "owner", "title": "Personal"}]}}


def rfc3339(t):
    """Unix time -> RFC 3339 UTC with a Z, whole seconds."""
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(s):
    """RFC 3339 (Z or an offset, any fraction digits) -> Unix time (float)."""
    s = s.strip()
    if s[-1:] in ("Z", "z"):
        s = s[:-1] + "+00:00"
    date, _, rest = s.partition("T")
    if "." in rest:  # Go writes up to 9 fraction digits; Python takes 6
        clock, _, tail = rest.partition(".")
        i = 0
        while i < len(tail) and tail[i].isdigit():
            i += 1
        rest = clock + "." + (tail[:i] + "000000")[:6] + tail[i:]
    return datetime.datetime.fromisoformat(date + "T" + rest).timestamp()


def _when(v):
    """An expiry given as RFC 3339, datetime or Unix time -> Unix time."""
    if isinstance(v, str):
        return parse_rfc3339(v)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return v.timestamp()
    return float(v)


# --------------------------------------------------------------------------
# MockTokenServer

_TOKEN_SCRIPTS = {"ok": (0, 1), "status": (2, 3), "delay": (1, 1), "hang": (0, 0),
                  "reset": (0, 0)}
_INVALID_GRANT = {"google": "Token has been expired or revoked.",
                  "openai": "Invalid refresh token.",
                  "claude": "Refresh token not found or invalid",
                  "qwen": "Invalid refresh token or refresh token expired"}


def _oauth_error(code, desc):
    return {"error": code, "error_description": desc}


class MockTokenServer(mocks.MockOpenAI):

    def __init__(self, tls=None):
        super().__init__(tls=tls, prefix="")
        self.valid_refresh = None
        self.rotate = True
        self.reuse_detection = False
        self.expected_client_ids = None
        self.strict_content_type = True
        self.expires_in = 3600
        self.email = "mock@example.com"
        self.account_id = "acct-mock-0001"
        self.plan_type = "plus"
        self.resource_url = "portal.qwen.ai"
        self.access_prefix = {}
        self.issued = []
        self.issued_refresh = []
        self.used_refresh = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._n = 0
        self._linked = []

    def script(self, behaviours):
        for b in behaviours:
            if not isinstance(b, (tuple, list)) or not b or b[0] not in _TOKEN_SCRIPTS:
                raise ValueError("unknown token server behaviour %r" % (b,))
            lo, hi = _TOKEN_SCRIPTS[b[0]]
            if not lo <= len(b) - 1 <= hi:
                raise ValueError("wrong number of arguments in %r" % (b,))
        with self._lock:
            self._queue.extend(tuple(b) for b in behaviours)
        return self

    def link(self, *upstreams):
        """Access tokens issued from now on become valid at these upstreams."""
        for up in upstreams:
            if up.valid_tokens is None:
                up.valid_tokens = set()
            self._linked.append(up)
        return self

    # -- answers -------------------------------------------------------------
    def _parse(self, req):
        path = req["path"].split("?", 1)[0]
        req["kind"] = TOKEN_PATHS.get(path)
        ctype = req["headers"].get("content-type", "").lower()
        req["form"] = None
        req["params"] = {}
        if "application/x-www-form-urlencoded" in ctype:
            try:
                text = req["body"].decode("utf-8")
            except UnicodeDecodeError:
                text = ""
            req["form"] = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
            req["params"] = req["form"]
        elif isinstance(req["json"], dict):
            req["params"] = req["json"]

    def _grant(self, kind, rt, overrides):
        """The success body; updates the token sets.  Lock held."""
        self._n += 1
        n = self._n
        new_rt = "rt-%d" % n if self.rotate or not rt else rt
        body = {"access_token": self.access_prefix.get(kind, "") + "at-%d" % n,
                "refresh_token": new_rt, "expires_in": self.expires_in,
                "token_type": "Bearer"}
        if kind == "google":
            body["scope"] = " ".join(GEMINI_SCOPES)
        elif kind == "openai":
            body["id_token"] = make_jwt(openai_id_claims(self.email, self.account_id,
                                                         self.plan_type, self.expires_in))
            body["scope"] = "openid profile email"
        elif kind == "claude":
            body["scope"] = "user:inference user:profile"
            body["organization"] = {"uuid": "00000000-0000-4000-8000-00000000000a",
                                    "name": "Mock Org"}
            body["account"] = {"uuid": "00000000-0000-4000-8000-00000000000b",
                               "email_address": self.email}
        elif kind == "qwen":
            body["resource_url"] = self.resource_url
        body.update(overrides or {})
        body = {k: v for k, v in body.items() if v is not None}
        got_rt = body.get("refresh_token")
        if rt and got_rt != rt:
            self.used_refresh.append(rt)
            if self.valid_refresh is not None:
                self.valid_refresh.discard(rt)
        if got_rt:
            self.issued_refresh.append(got_rt)
            if self.valid_refresh is not None:
                self.valid_refresh.add(got_rt)
        at = body.get("access_token")
        if at:
            self.issued.append(at)
            for up in self._linked:
                up.valid_tokens.add(at)
        return body

    def _refusal(self, req, b):
        """(status, body) when the default answer is a refusal, else None."""
        kind, p = req["kind"], req["params"]
        if self.strict_content_type:
            if kind == "claude" and not isinstance(req["json"], dict):
                return 400, _oauth_error("invalid_request", "mock: expected a JSON object body")
            if kind != "claude" and req["form"] is None:
                return 400, _oauth_error("invalid_request",
                                         "mock: expected an application/x-www-form-urlencoded body")
        if b is not None:  # ("ok", ...): whatever the token
            return None
        if self.expected_client_ids is not None and \
                p.get("client_id") not in self.expected_client_ids:
            return 401, _oauth_error("invalid_client", "The OAuth client was not found.")
        if p.get("grant_type") != "refresh_token":
            return 400, _oauth_error("unsupported_grant_type",
                                     "mock: grant_type %r" % (p.get("grant_type"),))
        rt = p.get("refresh_token")
        if not isinstance(rt, str) or not rt:
            return 400, _oauth_error("invalid_request", "Missing required parameter: refresh_token")
        if self.valid_refresh is None or rt in self.valid_refresh:
            return None
        if kind == "openai" and self.reuse_detection and rt in self.used_refresh:
            return OPENAI_REUSED[1], OPENAI_REUSED[2]
        return 400, _oauth_error("invalid_grant", _INVALID_GRANT[kind])

    def _respond(self, conn, req, b, seq):
        self._parse(req)
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._answer(conn, req, b, seq)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, conn, req, b, seq):
        name = b[0] if b else None
        if name == "delay":
            if self._stopping.wait(b[1]):
                return False
            b = name = None
        if name == "hang":
            return mocks.MockOpenAI._respond(self, conn, req, b, seq)
        if name == "reset":
            _rst_close(conn.sock)
            return False
        if name == "status":
            return self._send_json(conn, req, b[1], b[2], b[3] if len(b) > 3 else None)
        if req["kind"] is None:
            return self._send_json(conn, req, 404, _oauth_error(
                "not_found", "mock: no token endpoint at %s" % req["path"]))
        if req["method"] != "POST":
            return self._send_json(conn, req, 405, _oauth_error(
                "invalid_request", "mock: %s not allowed" % req["method"]), {"Allow": "POST"})
        with self._lock:
            refusal = self._refusal(req, b)
            if refusal is None:
                body = self._grant(req["kind"], req["params"].get("refresh_token"),
                                   b[1] if b and len(b) > 1 else None)
        if refusal is not None:
            return self._send_json(conn, req, *refusal)
        return self._send_json(conn, req, 200, body,
                               {"Cache-Control": "no-store", "Pragma": "no-cache"})


# --------------------------------------------------------------------------
# auth files

# Field order of each kind's file (protocol.md §2, providers-2026.md §1.8,
# §2.3, §3, §4).  gemini: the nested token object's fields are GEMINI_TOKEN.
LAYOUTS = {
    "gemini": ["token", "project_id", "email", "auto", "checked", "type"],
    "codex": ["id_token", "access_token", "refresh_token", "account_id", "last_refresh",
              "email", "type", "expired", "disabled"],
    "claude": ["id_token", "access_token", "refresh_token", "last_refresh", "email",
               "account_uuid", "organization_uuid", "organization_name",
               "claude_device_ids", "type", "expired", "disabled"],
    "qwen": ["access_token", "refresh_token", "last_refresh", "resource_url", "email",
             "type", "expired"],
    "antigravity": ["type", "access_token", "refresh_token", "expires_in", "timestamp",
                    "expired", "email", "project_id"],
}
GEMINI_TOKEN = ["access_token", "token_type", "refresh_token", "expiry", "token_uri",
                "client_id", "client_secret", "scopes", "universe_domain"]
GEMINI_FLAT = ["access_token", "refresh_token", "token_type", "expiry"]


def _defaults(kind, now, expiry, expires_in, email, account_id, plan_type):
    """The default value of every field of kind's layout."""
    d = {"access_token": "at-file", "refresh_token": "rt-file", "email": email,
         "type": kind, "last_refresh": rfc3339(now), "expired": rfc3339(expiry)}
    if kind == "gemini":
        d.update(project_id="mock-project-1", auto=False, checked=True, token_type="Bearer",
                 expiry=rfc3339(expiry), token_uri="https://oauth2.googleapis.com/token",
                 client_id=GEMINI_CLIENT_ID, client_secret=GEMINI_CLIENT_SECRET,
                 scopes=list(GEMINI_SCOPES), universe_domain="googleapis.com")
    elif kind == "codex":
        d.update(account_id=account_id, disabled=False, id_token=make_jwt(
            openai_id_claims(email, account_id, plan_type, max(0, int(expiry - now)))))
    elif kind == "claude":
        d.update(id_token="", account_uuid="00000000-0000-4000-8000-00000000000b",
                 organization_uuid="00000000-0000-4000-8000-00000000000a",
                 organization_name="Mock Org", claude_device_ids=["ab" * 32], disabled=False)
    elif kind == "qwen":
        d.update(resource_url="portal.qwen.ai")
    elif kind == "antigravity":
        d.update(project_id="mock-project-1", expires_in=int(expires_in),
                 timestamp=int((expiry - expires_in) * 1000))
    else:
        raise ValueError("unknown auth file kind %r" % (kind,))
    names = LAYOUTS[kind] + (GEMINI_TOKEN if kind == "gemini" else [])
    return {k: d[k] for k in names if k in d}


def _default_name(kind, d):
    email = d.get("email") or "mock"
    if kind == "gemini":
        return "%s-%s.json" % (email, d.get("project_id") or "none")
    if kind == "codex":
        try:
            plan = decode_jwt(d["id_token"])["https://api.openai.com/auth"]["chatgpt_plan_type"]
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            plan = "plus"
        return "codex-%s-%s.json" % (email, plan)
    return "%s-%s.json" % (kind, email)


def write_auth_file(dirpath, kind, filename=None, expires_in=3600, expires_at=None,
                    flat=True, plan_type="plus", **fields):
    """Write an auth file of that kind into dirpath; returns its path.
    The expiry is expires_at (RFC 3339, datetime or Unix time) or now +
    expires_in; a layout field given in fields (expired, expiry, ...) is
    written as given, None leaves it out."""
    now = time.time()
    expiry = _when(expires_at) if expires_at is not None else now + expires_in
    if expires_at is not None:
        expires_in = max(0, int(expiry - now))
    d = _defaults(kind, now, expiry, expires_in, fields.get("email", "mock@example.com"),
                  fields.get("account_id", "acct-mock-0001"), plan_type)
    d.update(fields)
    if kind == "gemini":
        out = {"token": {k: d.pop(k) for k in GEMINI_TOKEN if k in d}}
        if isinstance(fields.get("token"), dict):  # a whole token object given
            out["token"] = fields["token"]
        d.pop("token", None)
        for k in LAYOUTS[kind][1:]:
            out[k] = d.pop(k, None)
        if flat:
            for k in GEMINI_FLAT:
                out[k] = out["token"].get(k)
        out["token"] = {k: v for k, v in out["token"].items() if v is not None}
    else:
        out = {k: d.pop(k, None) for k in LAYOUTS[kind]}
    out.update(d)  # fields outside the layout go at the top level
    out = {k: v for k, v in out.items() if v is not None}
    path = os.path.join(dirpath, filename or _default_name(kind, out))
    tmp = os.path.join(dirpath, "." + os.path.basename(path) + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    return path


def read_auth_file(path):
    with open(path) as f:
        return json.load(f)


_EXPIRY_KEYS = ("expired", "expire", "expires_at", "expiresAt", "expiry", "expires")


def auth_tokens(d):
    """{"access_token", "refresh_token", "expiry"} of an auth file's dict,
    whatever its layout (nested token first, as the reference reads it)."""
    out = {"access_token": None, "refresh_token": None, "expiry": None}
    for src in (d.get("token") if isinstance(d.get("token"), dict) else {}, d):
        for k in ("access_token", "refresh_token"):
            if out[k] is None and isinstance(src.get(k), str):
                out[k] = src[k]
        for k in _EXPIRY_KEYS:
            if out["expiry"] is None and src.get(k) not in (None, ""):
                v = src[k]
                out["expiry"] = parse_rfc3339(v) if isinstance(v, str) else float(v)
    if out["expiry"] is None and isinstance(d.get("timestamp"), (int, float)) and \
            isinstance(d.get("expires_in"), (int, float)):
        out["expiry"] = d["timestamp"] / 1000.0 + d["expires_in"]
    return out
