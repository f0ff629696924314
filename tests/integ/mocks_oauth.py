"""
mocks_oauth.py - fake OAuth token endpoints and subscription upstreams
(Gemini CLI / Antigravity Code Assist, Codex, Qwen) for the tests of auth-dir
accounts, plus auth-file helpers.

Every server reuses mocks.MockOpenAI's hand-written HTTP/1.1 server (TLS with
mocks.server_context(), keep-alive, .requests, .script(), .wait_requests(),
.headers_to_send, .url, .port, context manager); the upstreams also reuse
mocks_llm's scripts, rendering and credential check (mocks_llm.TokenCheck:
.valid_tokens, .rejected_tokens, 401 in the API's error shape).

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

MockCodeAssist(tls=None, pieces=3)
    Gemini CLI and Antigravity upstream: POST /v1internal:<method>
    (.base_url == .url).  generateContent and streamGenerateContent
    (?alt=sse or ?$alt=sse: SSE lines data: {"response":{...},"traceId":..};
    otherwise one JSON array) take {"project","model","request":{...}}
    (Antigravity adds userAgent, requestType, requestId, request.sessionId)
    and answer {"response":{GenerateContentResponse},"traceId":...}; the
    model is required, and the project too unless .require_project = False.
    countTokens {"request":{...}} -> {"totalTokens":N}.  loadCodeAssist
    (.project, None = no project yet; .tier), onboardUser (done:false
    .onboard_polls times, then done:true with .onboard_project),
    retrieveUserQuota (.available_models), any other method -> {}.
    fetchAvailableModels (.available_models, default ANTIGRAVITY_LIST) is
    a model-list call: answered apart, in .list_requests (mocks_llm.py;
    .list_answer replaces it, .valid_tokens apply).  .answers {method: JSON or callable(req) -> JSON}
    replaces an answer.  Each record also has ca_method, envelope (the keys
    among project, model, userAgent, requestType, requestId present at the
    top, plus sessionId when request.sessionId is), inner (request, or
    None), gemini_model, query.
    Scripts: all of MockGemini's, plus ("quota", seconds): 429
    RESOURCE_EXHAUSTED with ErrorInfo and RetryInfo retryDelay "<seconds>s".

MockCodex(tls=None, prefix="/backend-api/codex", pieces=3)
    POST <prefix>/responses, OpenAI Responses streaming only (without
    "stream": true -> 400 {"detail":"Stream must be set to true"}).  Events
    `event: <type>\\ndata: {"type":..,"sequence_number":n,...}\\n\\n`:
    response.created, response.in_progress, then per block: message
    (output_item.added, content_part.added, output_text.delta in .pieces,
    output_text.done, content_part.done, output_item.done), function_call
    (output_item.added, function_call_arguments.delta x3, .done,
    output_item.done), reasoning (output_item.added, reasoning_summary_part
    .added, reasoning_summary_text.delta, .done, reasoning_summary_part.done,
    output_item.done with encrypted_content = the script's signature); last
    response.completed (finish "length": response.incomplete, reason
    max_output_tokens) with usage {input_tokens, input_tokens_details
    .cached_tokens (.cached_tokens, 0), output_tokens, output_tokens_details
    .reasoning_tokens, total_tokens}.  ("error_event"[, msg[, n]]) ends with
    response.failed.  A refused credential: 401 {"detail":"Unauthorized"}.
    Each record also has codex: {header: value or None} for chatgpt-account-id,
    originator, user-agent, session_id, session-id, conversation_id, version,
    openai-beta, accept.
    Without a script: "echo: <last user input_text>".
    Scripts: all of MockOpenAIChat's, plus ("usage_limit", seconds): 429
    {"error":{"type":"usage_limit_reached","message":..,"plan_type":..,
    "resets_at":..,"resets_in_seconds":N}}.

MockQwen(tls=None, prefix="/v1", pieces=3)
    mocks_llm.MockOpenAIChat at any prefix, plus .resource_url
    ("localhost:PORT" over TLS, else "127.0.0.1:PORT") and the script
    ("quota",): 429 insufficient_quota.

Claude OAuth accounts need no class of their own: mocks_llm.MockClaude with
.valid_tokens (a refused token gets 401 authentication_error).

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
import mocks_llm
from mocks import _rst_close
from mocks_llm import _Answer, _last_user_text_any, split_pieces

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
# MockCodeAssist

def _duration(seconds):
    """Google's JSON Duration: "3s", "1.5s"."""
    if float(seconds).is_integer():
        return "%ds" % int(seconds)
    return ("%.6f" % seconds).rstrip("0") + "s"


def google_quota_body(seconds, model="gemini-mock"):
    """The 429 of Code Assist when a model's quota is used up."""
    return {"error": {
        "code": 429,
        "message": "You have exhausted your capacity on this model. Your quota will "
                   "reset after %s." % _duration(seconds),
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
             "reason": "RATE_LIMIT_EXCEEDED", "domain": "cloudcode-pa.googleapis.com",
             "metadata": {"uiMessage": "true", "model": model}},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo",
             "retryDelay": _duration(seconds)}]}}


_ENVELOPE_KEYS = ("project", "model", "userAgent", "requestType", "requestId")


# What Antigravity's fetchAvailableModels lists (the reference's newest
# table); Gemini CLI accounts do not ask.
ANTIGRAVITY_LIST = ["claude-opus-4-6-thinking", "claude-sonnet-4-6", "gemini-3-flash",
                    "gemini-3-flash-agent", "gemini-3.1-pro-low", "gemini-3.1-flash-image",
                    "gemini-3.1-flash-lite", "gemini-3.5-flash-low",
                    "gemini-3.5-flash-extra-low", "gemini-3.6-flash-high",
                    "gemini-3.7-flash-high", "gemini-pro-agent", "gpt-oss-120b-medium"]


class MockCodeAssist(mocks_llm.MockGemini):
    extra_scripts = {"quota": (1, 1)}

    def __init__(self, tls=None, pieces=3):
        super().__init__(tls=tls, pieces=pieces)
        self.prefix = ""
        self.require_project = True
        self.project = "mock-project-1"
        self.tier = "free-tier"
        self.onboard_project = "mock-project-1"
        self.onboard_polls = 0
        self.available_models = list(ANTIGRAVITY_LIST)
        self.answers = {}
        self._onboard_calls = 0

    def _envelope(self, req):
        u = urllib.parse.urlsplit(req["path"])
        req["query"] = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        pre = "/v1internal:"
        req["ca_method"] = u.path[len(pre):] if u.path.startswith(pre) else None
        j = req["json"] if isinstance(req["json"], dict) else {}
        inner = j.get("request")
        req["inner"] = inner if isinstance(inner, dict) else None
        env = {k: j[k] for k in _ENVELOPE_KEYS if k in j}
        if req["inner"] is not None and "sessionId" in inner:
            env["sessionId"] = inner["sessionId"]
        req["envelope"] = env
        m = j.get("model")
        req["gemini_model"] = m if isinstance(m, str) and m else "gemini-mock"
        req["gemini_method"] = req["ca_method"]

    def _wrap(self, obj, seq):
        return {"response": obj, "traceId": "mocktrace%08x" % seq}

    def json_answer(self, req, seq, ans):
        return self._wrap(super().json_answer(req, seq, ans), seq)

    def stream_objs(self, req, seq, ans, cut_text=None):
        return [self._wrap(o, seq) for o in super().stream_objs(req, seq, ans, cut_text)]

    def answer_for(self, b, req, seq):
        if b is None:
            return _Answer([("text", "echo: " + _last_user_text_any(req.get("inner")))])
        return super().answer_for(b, req, seq)

    list_call = ("POST", "/v1internal:fetchAvailableModels")

    def list_body(self):
        return self._models()

    def _respond(self, conn, req, b, seq):
        self._envelope(req)
        if b is not None and b[0] == "quota":
            return self._send_json(conn, req, 429, google_quota_body(b[1], req["gemini_model"]))
        return super()._respond(conn, req, b, seq)

    # -- built-in answers ------------------------------------------------------
    def _load(self):
        tiers = [{"id": "free-tier", "name": "Gemini Code Assist for individuals",
                  "description": "mock free tier", "isDefault": True,
                  "userDefinedCloudaicompanionProject": False},
                 {"id": "standard-tier", "name": "Gemini Code Assist",
                  "description": "mock standard tier",
                  "userDefinedCloudaicompanionProject": True}]
        out = {"allowedTiers": tiers, "gcpManaged": False}
        if self.project is not None:
            cur = next((t for t in tiers if t["id"] == self.tier), tiers[0])
            out["currentTier"] = cur
            out["cloudaicompanionProject"] = self.project
        return out

    def _onboard(self):
        with self._lock:
            self._onboard_calls += 1
            pending = self._onboard_calls <= self.onboard_polls
        if pending:
            return {"name": "operations/mock-onboard", "done": False}
        p = self.onboard_project
        return {"name": "operations/mock-onboard", "done": True, "response": {
            "@type": "type.googleapis.com/google.internal.cloud.code.v1internal."
                     "OnboardUserResponse",
            "cloudaicompanionProject": {"id": p, "name": p}}}

    def _models(self):
        reset = rfc3339(time.time() + 3600)
        return {"models": {m: {"displayName": m, "maxTokens": 1048576,
                               "quotaInfo": {"remainingFraction": 1, "resetTime": reset}}
                           for m in self.available_models}}

    def _quota(self):
        reset = rfc3339(time.time() + 86400)
        return {"buckets": [{"remainingAmount": "1000", "remainingFraction": 1,
                             "resetTime": reset, "tokenType": "REQUESTS", "modelId": m}
                            for m in self.available_models]}

    def serve(self, conn, req, b, seq, path):
        method = req["ca_method"]
        if req["method"] != "POST" or not method:
            return self._send_json(conn, req, *self.error_status(
                404, "mock code assist: no route for %s %s" % (req["method"], path)))
        if not isinstance(req["json"], dict):
            return self._send_json(conn, req, *self.error_status(
                400, "Invalid JSON payload received."))
        if method in self.answers:
            a = self.answers[method]
            return self._send_json(conn, req, 200, a(req) if callable(a) else a)
        if method == "countTokens":
            if req["inner"] is None:
                return self._send_json(conn, req, *self.error_status(400, "request is required"))
            return self._send_json(conn, req, 200, {"totalTokens": self.input_tokens})
        if method in ("generateContent", "streamGenerateContent"):
            env = req["envelope"]
            if req["inner"] is None or not env.get("model"):
                return self._send_json(conn, req, *self.error_status(
                    400, "Request contains an invalid argument: model and request are required."))
            if self.require_project and not env.get("project"):
                return self._send_json(conn, req, *self.error_status(
                    400, "Request contains an invalid argument: project is required."))
            if method == "generateContent":
                return self._generic(conn, req, b, seq, False)
            alt = req["query"].get("alt", req["query"].get("$alt"))
            if alt == "sse":
                return self._generic(conn, req, b, seq, True)
            return self._send_json_array(conn, req, b, seq)
        builtin = {"loadCodeAssist": self._load, "onboardUser": self._onboard,
                   "retrieveUserQuota": self._quota}.get(method)
        return self._send_json(conn, req, 200, builtin() if builtin else {})


# --------------------------------------------------------------------------
# MockCodex

_CODEX_HEADERS = ("chatgpt-account-id", "originator", "user-agent", "session_id", "session-id",
                  "conversation_id", "version", "openai-beta", "accept")


def _event(kind, n, **fields):
    obj = {"type": kind, "sequence_number": n}
    obj.update(fields)
    data = json.dumps(obj, ensure_ascii=False).encode()
    return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"


class _Events:
    """Builds numbered Responses events."""

    def __init__(self):
        self.out = []
        self.n = 0

    def __call__(self, kind, **fields):
        self.out.append(_event(kind, self.n, **fields))
        self.n += 1


def _last_input_text(j):
    """Last user text of a Responses request body."""
    inp = j.get("input") if isinstance(j, dict) else None
    if isinstance(inp, str):
        return inp
    for it in reversed(inp if isinstance(inp, list) else []):
        if isinstance(it, dict) and it.get("role") == "user":
            c = it.get("content")
            if isinstance(c, str):
                return c
            return "".join(p.get("text", "") for p in (c if isinstance(c, list) else [])
                           if isinstance(p, dict) and p.get("type") == "input_text")
    return ""


class MockCodex(mocks_llm.TokenCheck, mocks_llm._LLMBase):
    tool_id_prefix = "call_mock"
    extra_scripts = {"usage_limit": (1, 1)}
    unauthorized_message = "Unauthorized"

    def __init__(self, tls=None, prefix="/backend-api/codex", pieces=3):
        super().__init__(tls=tls, prefix=prefix, pieces=pieces)
        self.cached_tokens = 0
        self.plan_type = "plus"

    def _model(self, req):
        j = req["json"] if isinstance(req["json"], dict) else {}
        m = j.get("model")
        return m if isinstance(m, str) else "gpt-5-codex"

    def error_status(self, code, msg):
        return code, {"error": {"message": msg, "type": "server_error" if code >= 500
                                else "invalid_request_error", "param": None, "code": None}}

    def unauthorized(self, req):
        return 401, {"detail": self.unauthorized_message}

    def answer_for(self, b, req, seq):
        if b is None:
            return _Answer([("text", "echo: " + _last_input_text(req["json"]))])
        return super().answer_for(b, req, seq)

    def usage_limit_body(self, seconds):
        return {"error": {"type": "usage_limit_reached",
                          "message": "The usage limit has been reached",
                          "plan_type": self.plan_type,
                          "resets_at": int(time.time() + seconds),
                          "resets_in_seconds": int(seconds)}}

    # -- rendering ---------------------------------------------------------------
    def _usage(self, ans):
        return {"input_tokens": self.input_tokens,
                "input_tokens_details": {"cached_tokens": self.cached_tokens},
                "output_tokens": self.output_tokens,
                "output_tokens_details": {
                    "reasoning_tokens": self.thoughts_tokens if ans.has_thinking else 0},
                "total_tokens": self.input_tokens + self.output_tokens}

    def _response(self, req, seq, status, output, ans=None, error=None):
        j = req["json"] if isinstance(req["json"], dict) else {}
        inc = None
        if status == "incomplete":
            inc = {"reason": "max_output_tokens" if ans.finish == "length" else ans.finish}
        return {"id": "resp_mock%04d" % seq, "object": "response", "created_at": 1700000000,
                "status": status, "background": False, "error": error,
                "incomplete_details": inc, "instructions": j.get("instructions"),
                "model": self._model(req), "output": output, "parallel_tool_calls": True,
                "reasoning": j.get("reasoning") if isinstance(j.get("reasoning"), dict)
                else {"effort": "medium", "summary": None},
                "store": False, "tools": j.get("tools") or [],
                "usage": self._usage(ans) if ans is not None and error is None
                and status != "in_progress" else None,
                "metadata": {}}

    def _status(self, ans):
        return "completed" if ans.finish == "stop" or ans.has_tool else "incomplete"

    def _events(self, req, seq, ans, cut_text=None):
        """(events, the Responses output items) of an answer; cut_text: stop
        after that many text deltas."""
        ev = _Events()
        ev("response.created", response=self._response(req, seq, "in_progress", []))
        ev("response.in_progress", response=self._response(req, seq, "in_progress", []))
        output, ntext = [], 0
        for oi, bl in enumerate(ans.blocks):
            if bl[0] == "text":
                iid = "msg_mock%04d_%d" % (seq, oi)
                ev("response.output_item.added", output_index=oi, item={
                    "id": iid, "type": "message", "status": "in_progress", "content": [],
                    "role": "assistant"})
                ev("response.content_part.added", item_id=iid, output_index=oi, content_index=0,
                   part={"type": "output_text", "annotations": [], "logprobs": [], "text": ""})
                for p in split_pieces(bl[1], self.pieces):
                    if cut_text is not None and ntext >= cut_text:
                        return ev, output
                    ev("response.output_text.delta", item_id=iid, output_index=oi,
                       content_index=0, delta=p, logprobs=[])
                    ntext += 1
                if cut_text is not None:
                    return ev, output
                ev("response.output_text.done", item_id=iid, output_index=oi, content_index=0,
                   text=bl[1], logprobs=[])
                part = {"type": "output_text", "annotations": [], "logprobs": [], "text": bl[1]}
                ev("response.content_part.done", item_id=iid, output_index=oi, content_index=0,
                   part=part)
                item = {"id": iid, "type": "message", "status": "completed", "content": [part],
                        "role": "assistant"}
            elif bl[0] == "thinking":
                iid = "rs_mock%04d_%d" % (seq, oi)
                ev("response.output_item.added", output_index=oi, item={
                    "id": iid, "type": "reasoning", "summary": []})
                part = {"type": "summary_text", "text": ""}
                ev("response.reasoning_summary_part.added", item_id=iid, output_index=oi,
                   summary_index=0, part=part)
                for p in split_pieces(bl[1], self.pieces):
                    ev("response.reasoning_summary_text.delta", item_id=iid, output_index=oi,
                       summary_index=0, delta=p)
                ev("response.reasoning_summary_text.done", item_id=iid, output_index=oi,
                   summary_index=0, text=bl[1])
                part = {"type": "summary_text", "text": bl[1]}
                ev("response.reasoning_summary_part.done", item_id=iid, output_index=oi,
                   summary_index=0, part=part)
                item = {"id": iid, "type": "reasoning", "summary": [part]}
                if bl[2]:
                    item["encrypted_content"] = bl[2]
            else:
                iid = "fc_mock%04d_%d" % (seq, oi)
                args = json.dumps(bl[3])
                ev("response.output_item.added", output_index=oi, item={
                    "id": iid, "type": "function_call", "status": "in_progress",
                    "arguments": "", "call_id": bl[1], "name": bl[2]})
                for p in split_pieces(args, 3):
                    ev("response.function_call_arguments.delta", item_id=iid, output_index=oi,
                       delta=p)
                ev("response.function_call_arguments.done", item_id=iid, output_index=oi,
                   name=bl[2], arguments=args)
                item = {"id": iid, "type": "function_call", "status": "completed",
                        "arguments": args, "call_id": bl[1], "name": bl[2]}
            ev("response.output_item.done", output_index=oi, item=item)
            output.append(item)
        if cut_text is None:
            status = self._status(ans)
            ev("response.completed" if status == "completed" else "response.incomplete",
               response=self._response(req, seq, status, output, ans))
        return ev, output

    def stream_answer(self, req, seq, ans, cut_text=None):
        return self._events(req, seq, ans, cut_text)[0].out

    def json_answer(self, req, seq, ans):
        """The final response object (what response.completed carries)."""
        _, output = self._events(req, seq, ans)
        return self._response(req, seq, self._status(ans), output, ans)

    def _generic(self, conn, req, b, seq, stream):
        if b and b[0] == "error_event":
            msg = b[1] if len(b) > 1 else "Overloaded"
            n = b[2] if len(b) > 2 else 2
            ev, output = self._events(req, seq, self.answer_for(("text", "partial "), req, seq),
                                      cut_text=n)
            ev("response.failed", response=self._response(
                req, seq, "failed", output, error={"code": "server_error", "message": msg}))
            return self._send_events(conn, req, ev.out)
        return super()._generic(conn, req, b, seq, stream)

    # -- routing -----------------------------------------------------------------
    def _respond(self, conn, req, b, seq):
        h = req["headers"]
        req["codex"] = {k: h.get(k) for k in _CODEX_HEADERS}
        if b is not None and b[0] == "usage_limit":
            return self._send_json(conn, req, 429, self.usage_limit_body(b[1]))
        return super()._respond(conn, req, b, seq)

    def serve(self, conn, req, b, seq, path):
        if req["method"] != "POST" or path != self.prefix + "/responses":
            return self._send_json(conn, req, 404, {"detail": "Not Found"})
        if not isinstance(req["json"], dict):
            return self._send_json(conn, req, 400, {"detail": "Invalid JSON body"})
        if req["json"].get("stream") is not True:
            return self._send_json(conn, req, 400, {"detail": "Stream must be set to true"})
        return self._generic(conn, req, b, seq, True)


# --------------------------------------------------------------------------
# MockQwen

class MockQwen(mocks_llm.MockOpenAIChat):
    extra_scripts = {"quota": (0, 0)}
    unauthorized_message = "Invalid access token or token expired"

    def __init__(self, tls=None, prefix="/v1", pieces=3):
        super().__init__(tls=tls, prefix=prefix, pieces=pieces)

    @property
    def resource_url(self):
        """What a Qwen token's resource_url holds for this server."""
        return self.url.split("://", 1)[1]

    def _respond(self, conn, req, b, seq):
        if b is not None and b[0] == "quota":
            return self._send_json(conn, req, 429, {"error": {
                "message": "Free allocated quota exceeded.", "type": "insufficient_quota",
                "param": None, "code": "insufficient_quota"}})
        return super()._respond(conn, req, b, seq)


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
