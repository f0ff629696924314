"""
mocks_login.py - fake OAuth login servers (Google, OpenAI, Claude, Qwen) for
the tests of the CLI logins and the management-started logins (issue 11),
and a "browser" that gives consent.

One server, MockLogin, answers every login endpoint; it extends
mocks_oauth.MockTokenServer (its refresh grants, .link(), .requests,
.issued, scripts on the token paths) with the authorization_code and
device_code grants and the calls a login makes after the token.  TLS with
the test CA (mocks.server_context()), reached via [endpoints]:

    MockLogin.endpoints() -> {[endpoints] key: URL} for the login keys
      google-auth                    <url>/o/oauth2/auth       (browser only)
      google-token                   <url>/token
      google-userinfo                <url>/oauth2/v1/userinfo
      google-cloud-resource-manager  <url>/v1/projects
      google-service-usage           <url>
      openai-auth                    <url>   (/oauth/authorize, /oauth/token,
                                     /api/accounts/deviceauth/usercode|token,
                                     page /codex/device, device redirect_uri
                                     <url>/deviceauth/callback)
      claude-auth                    <url>/claude/oauth/authorize (browser only)
      claude-token                   <url>/v1/oauth/token
      qwen-auth                      <url>/api/v1/oauth2  (/device/code, /token)

The browser
    consent(authorize_url, deny=False, state_override=None, email=None,
            redirect_uri=None) -> the redirect URL
        Parses the authorize URL, checks that it starts with the provider's
        authorize endpoint and carries every parameter the provider needs
        (AUTHORIZE_PARAMS; client, redirect_uri (the fixed callback of
        REDIRECTS unless redirect_uri= says otherwise), scope set, state of
        32 hex digits, PKCE S256 challenge where needed), registers a code
        bound to (client_id, redirect_uri, code_challenge, state) and returns
        "<redirect_uri>?code=<code>&state=<state>" (the query URL-encoded;
        Google's codes hold a "/") or, with deny, "?error=access_denied&
        state=...".  A bad URL raises harness-style AssertionError
        (LoginMockError).  email: the account the code logs in (default
        .email).  .consents: [{provider, params, code}] in order.

Token endpoint, authorization_code (each code works once; a refused one is
400 invalid_grant and stays unused only when the refusal was not about it):
    Google /token form: code, redirect_uri, client_id, client_secret (the
        client's own secret, else 401 invalid_client).  -> access_token,
        refresh_token, expires_in, token_type, scope, id_token.
    OpenAI /oauth/token form: client_id, code, redirect_uri, code_verifier
        (base64url(sha256(verifier)) == challenge) -> id_token (email,
        "https://api.openai.com/auth".chatgpt_account_id / _plan_type of
        .account_id / .plan_type), access_token, refresh_token, expires_in.
    Claude /v1/oauth/token JSON: grant_type, code, redirect_uri, client_id,
        code_verifier, state (== the authorize URL's) -> access_token,
        refresh_token, expires_in, token_type, account {uuid,email_address},
        organization {uuid,name}.
    Qwen /api/v1/oauth2/token form, device_code grant (see below).
  Issued tokens are long and distinct per kind (ya29.mock-..., sk-ant-oat01-
  mock-..., ...), recorded in .issued / .issued_refresh, and added to every
  linked upstream's .valid_tokens (MockTokenServer.link).  .token_info
  {access_token: (kind, email)}; .grants [(kind, success body)] in order;
  .exchanges: the code/device grant requests.
  .expires_in (3600) as in MockTokenServer.

Google calls after the token (Bearer must be an issued Google token, else
401; each in .calls as (name, method, path, time)):
    GET  /oauth2/v1/userinfo[?alt=json]  -> {"id","email","verified_email"}
    GET  /v1/projects/<p>/services/cloudaicompanion.googleapis.com
         -> {"name","parent","state"}; .service_states {project: state}
         (default .service_default "DISABLED"); .service_calls
         [(method, project, time)] (failed ones too)
    POST /v1/projects/<p>/services/cloudaicompanion.googleapis.com:enable
         -> a done operation; the state becomes ENABLED
    GET  /v1/projects -> {"projects":[{projectId, name, projectNumber,
         lifecycleState}]} of .projects (ids)
  .fail {name: (status, body)}: that route answers so (names userinfo,
  serviceusage, enable, projects, codex_usercode, codex_poll, qwen_code).

Codex device flow
    POST /api/accounts/deviceauth/usercode JSON {"client_id"} ->
        {"device_auth_id","user_code","interval": .codex_interval ("1")}
    POST /api/accounts/deviceauth/token JSON {"device_auth_id","user_code"}
        -> 403 {"error":{..."deviceauth_authorization_pending"}} until
        approve(user_code); then 200 {"authorization_code","code_verifier",
        "code_challenge"} (the code bound to <url>/deviceauth/callback).
    .codex_devices [{device_auth_id, user_code, polls: [time], approved,
        code}]

Qwen device flow
    POST /api/v1/oauth2/device/code form client_id, scope, code_challenge,
        code_challenge_method=S256 -> {device_code, user_code,
        verification_uri, verification_uri_complete, expires_in
        (.qwen_expires_in, 300), interval (.qwen_interval, 1)}
    POST /api/v1/oauth2/token form grant_type=urn:ietf:params:oauth:
        grant-type:device_code, client_id, device_code, code_verifier ->
        400 {"error":"authorization_pending"} until approve(user_code);
        400 slow_down at the poll numbers in .qwen_slow_down (1-based, e.g.
        [2]); 400 expired_token once expires_in has passed; 400
        access_denied after approve(user_code, deny=True); 200 {access_token,
        refresh_token, token_type, resource_url (.resource_url),
        expires_in} when approved and the verifier matches the challenge.
    .qwen_devices [{device_code, user_code, challenge, polls: [(time,
        answer)], approved, created}]

approve(user_code, deny=False): the user entered the code and agreed (or
    refused) in their browser.  wait_polls(user_code, n, timeout).

LoginCodeAssist(tls)   mocks_oauth.MockCodeAssist for the logins' project
    discovery, configurable:
      .project           None: no cloudaicompanionProject in loadCodeAssist
      .project_object    True: the project as {"id","name"}, else a string
      .current_tier      False: no currentTier in loadCodeAssist
      .onboard_polls     onboardUser answers done:false that many times first
      .onboard_project   None: the done answer has no project
      .onboard_project_object  True (default): {"id","name"}, else a string
    .calls(method) -> the requests of that method (loadCodeAssist, ...)

pkce_challenge(verifier) -> base64url(sha256(verifier)) without padding.

Python 3 standard library only; nothing here connects anywhere.
"""

import base64
import hashlib
import os
import re
import time
import urllib.parse

import mocks_oauth
from mocks_oauth import (ANTIGRAVITY_CLIENT_ID, ANTIGRAVITY_CLIENT_SECRET, CLAUDE_CLIENT_ID,
                         CODEX_CLIENT_ID, GEMINI_CLIENT_ID, GEMINI_CLIENT_SECRET,
                         GEMINI_SCOPES, QWEN_CLIENT_ID, make_jwt, openai_id_claims)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

ANTIGRAVITY_SCOPES = GEMINI_SCOPES + ["https://www.googleapis.com/auth/cclog",
                                      "https://www.googleapis.com/auth/experimentsandconfigs"]
CODEX_SCOPES = ["openid", "email", "profile", "offline_access"]
CLAUDE_SCOPES = ["user:profile", "user:inference", "user:sessions:claude_code",
                 "user:mcp_servers", "user:file_upload"]
QWEN_SCOPE = "openid profile email model.completion"

# The fixed callback of each login (issue 11, protocol.md §3).
REDIRECTS = {
    "gemini": "http://localhost:8085/oauth2callback",
    "codex": "http://localhost:1455/auth/callback",
    "claude": "http://localhost:54545/callback",
    "antigravity": "http://localhost:51121/oauth-callback",
}
PORTS = {k: int(urllib.parse.urlsplit(v).port) for k, v in REDIRECTS.items()}

CLIENTS = {GEMINI_CLIENT_ID: "gemini", ANTIGRAVITY_CLIENT_ID: "antigravity",
           CODEX_CLIENT_ID: "codex", CLAUDE_CLIENT_ID: "claude"}
SECRETS = {GEMINI_CLIENT_ID: GEMINI_CLIENT_SECRET, ANTIGRAVITY_CLIENT_ID: ANTIGRAVITY_CLIENT_SECRET}

# Parameters each authorize URL must carry with exactly this value (None:
# present and not empty).  scope is compared as a set of space-separated
# words; redirect_uri, state and the PKCE pair are checked apart.
AUTHORIZE_PARAMS = {
    "gemini": {"response_type": "code", "access_type": "offline", "prompt": "consent"},
    "antigravity": {"response_type": "code", "access_type": "offline", "prompt": "consent"},
    "codex": {"response_type": "code", "prompt": "login", "id_token_add_organizations": "true",
              "codex_cli_simplified_flow": "true", "code_challenge_method": "S256"},
    "claude": {"code": "true", "response_type": "code", "code_challenge_method": "S256"},
}
AUTHORIZE_SCOPES = {"gemini": GEMINI_SCOPES, "antigravity": ANTIGRAVITY_SCOPES,
                    "codex": CODEX_SCOPES, "claude": CLAUDE_SCOPES}
PKCE = ("codex", "claude")
# The token endpoint kind (mocks_oauth.TOKEN_PATHS) each login's code is for.
TOKEN_KIND = {"gemini": "google", "antigravity": "google", "codex": "openai",
              "claude": "claude"}

_STATE_RE = re.compile(r"^[0-9a-fA-F]{32}$")
_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_SERVICE_RE = re.compile(r"^/v1/projects/([^/:]+)/services/cloudaicompanion\.googleapis\.com"
                         r"(:enable)?$")


class LoginMockError(AssertionError):
    """The authorize URL (or a use of the mock) is not what the spec says."""


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_challenge(verifier):
    """S256: base64url(sha256(verifier)) without padding."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def _hex(n=8):
    return os.urandom(n).hex()


def _google_error(code, msg, status):
    return {"error": {"code": code, "message": msg, "status": status}}


_UNAUTH = _google_error(401, "Request is missing required authentication credential. "
                        "Expected OAuth 2 access token.", "UNAUTHENTICATED")


class MockLogin(mocks_oauth.MockTokenServer):

    def __init__(self, tls=None):
        super().__init__(tls=tls)
        self.email = "login@example.com"
        self.consents = []
        self.codes = {}
        self.exchanges = []
        self.token_info = {}
        self.grants = []
        self.calls = []
        self.fail = {}
        self.service_states = {}
        self.service_default = "DISABLED"
        self.service_calls = []
        self.projects = ["proj-alpha", "proj-beta"]
        self.codex_interval = "1"
        self.codex_devices = []
        self.qwen_interval = 1
        self.qwen_expires_in = 300
        self.qwen_slow_down = []
        self.qwen_slow_down_status = 400   # a rate limiter may say 429
        self.qwen_devices = []
        self._ncode = 0

    # -- configuration -------------------------------------------------------------
    def endpoints(self):
        u = self.url
        return {"google-auth": u + "/o/oauth2/auth", "google-token": u + "/token",
                "google-userinfo": u + "/oauth2/v1/userinfo",
                "google-cloud-resource-manager": u + "/v1/projects",
                "google-service-usage": u, "openai-auth": u,
                "claude-auth": u + "/claude/oauth/authorize",
                "claude-token": u + "/v1/oauth/token", "qwen-auth": u + "/api/v1/oauth2"}

    def authorize_base(self, provider):
        e = self.endpoints()
        return {"gemini": e["google-auth"], "antigravity": e["google-auth"],
                "codex": e["openai-auth"] + "/oauth/authorize",
                "claude": e["claude-auth"]}[provider]

    # -- the browser -----------------------------------------------------------------
    def consent(self, authorize_url, deny=False, state_override=None, email=None,
                redirect_uri=None):
        """Check the authorize URL as the provider would, register a code and
        return the URL the browser is then sent to."""
        u = urllib.parse.urlsplit(authorize_url)
        pairs = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
        params = {}
        for k, v in pairs:
            if k in params:
                raise LoginMockError("authorize URL repeats %r: %s" % (k, authorize_url))
            params[k] = v
        provider = CLIENTS.get(params.get("client_id"))
        if provider is None:
            raise LoginMockError("authorize URL: unknown client_id %r in %s"
                                 % (params.get("client_id"), authorize_url))
        base = urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, "", ""))
        if base != self.authorize_base(provider):
            raise LoginMockError("%s authorize URL at %s, want %s"
                                 % (provider, base, self.authorize_base(provider)))
        for k, want in AUTHORIZE_PARAMS[provider].items():
            if params.get(k) != want:
                raise LoginMockError("%s authorize URL: %s=%r, want %r (%s)"
                                     % (provider, k, params.get(k), want, authorize_url))
        scopes = params.get("scope", "").split(" ")
        if sorted(scopes) != sorted(AUTHORIZE_SCOPES[provider]) or len(set(scopes)) != len(scopes):
            raise LoginMockError("%s authorize URL: scope %r, want %r"
                                 % (provider, params.get("scope"),
                                    " ".join(AUTHORIZE_SCOPES[provider])))
        want_redirect = redirect_uri or REDIRECTS[provider]
        if params.get("redirect_uri") != want_redirect:
            raise LoginMockError("%s authorize URL: redirect_uri %r, want %r"
                                 % (provider, params.get("redirect_uri"), want_redirect))
        state = params.get("state", "")
        if not _STATE_RE.match(state):
            raise LoginMockError("%s authorize URL: state %r is not 32 hex digits"
                                 % (provider, state))
        challenge = params.get("code_challenge")
        if provider in PKCE:
            if not challenge or len(challenge) != 43 or not _B64URL_RE.match(challenge):
                raise LoginMockError("%s authorize URL: code_challenge %r is not a base64url "
                                     "SHA-256" % (provider, challenge))
        elif challenge is not None or "code_challenge_method" in params:
            raise LoginMockError("%s authorize URL has PKCE parameters (the spec says none)"
                                 % provider)
        code = None
        if not deny:
            code = self._new_code(provider, params["client_id"], want_redirect, challenge,
                                  state, email or self.email)
        with self._lock:
            self.consents.append({"provider": provider, "params": params, "code": code,
                                  "deny": deny})
        q = [("code", code)] if not deny else [("error", "access_denied")]
        q.append(("state", state if state_override is None else state_override))
        return want_redirect + "?" + urllib.parse.urlencode(q)

    def _new_code(self, *args):
        with self._lock:
            return self._new_code_locked(*args)

    def _new_code_locked(self, provider, client_id, redirect_uri, challenge, state, email):
        self._ncode += 1
        n = self._ncode
        if provider in ("gemini", "antigravity"):
            code = "4/0Amock%d-%s" % (n, _hex(12))   # Google's codes hold a "/"
        elif provider == "claude":
            code = "mockclaudecode%d%s" % (n, _hex(12))
        else:
            code = "ac_mock%d.%s" % (n, _hex(12))
        self.codes[code] = {"provider": provider, "kind": TOKEN_KIND[provider],
                            "client_id": client_id, "redirect_uri": redirect_uri,
                            "challenge": challenge, "state": state, "email": email,
                            "used": False}
        return code

    # -- approvals of device codes ---------------------------------------------------
    def approve(self, user_code, deny=False):
        with self._lock:
            for d in self.codex_devices + self.qwen_devices:
                if d["user_code"] == user_code:
                    d["approved"] = "denied" if deny else True
                    return d
        raise LoginMockError("no device login with user code %r" % user_code)

    def device(self, user_code):
        with self._lock:
            for d in self.codex_devices + self.qwen_devices:
                if d["user_code"] == user_code:
                    return d
        return None

    def wait_polls(self, user_code, n, timeout=10.0):
        """Wait until the device login of user_code was polled n times."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            d = self.device(user_code)
            if d is not None and len(d["polls"]) >= n:
                return True
            time.sleep(0.02)
        return False

    def wait_device(self, which, timeout=10.0):
        """The first device login started ("codex" or "qwen"), waiting for it."""
        lst = self.codex_devices if which == "codex" else self.qwen_devices
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if lst:
                    return lst[-1]
            time.sleep(0.02)
        return None

    # -- routing ---------------------------------------------------------------------
    def _gate(self, req):
        # only the token paths take scripts; every other route is answered
        # without touching the queue
        if req["path"].split("?", 1)[0] not in mocks_oauth.TOKEN_PATHS:
            return ("_route",)
        return None

    def _answer(self, conn, req, b, seq):
        if b is not None and b[0] == "_route":
            return self._route(conn, req)
        gt = req["params"].get("grant_type")
        if b is None and req["kind"] is not None and req["method"] == "POST" \
                and gt in ("authorization_code", DEVICE_GRANT):
            return self._exchange(conn, req)
        return super()._answer(conn, req, b, seq)

    def _bearer_ok(self, req):
        auth = req["headers"].get("authorization", "")
        if auth[:7].lower() != "bearer ":
            return None
        info = self.token_info.get(auth[7:].strip())
        return info if info is not None and info[0] == "google" else None

    def _route(self, conn, req):
        u = urllib.parse.urlsplit(req["path"])
        path, method = u.path, req["method"]
        req["query"] = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        m = _SERVICE_RE.match(path)
        if path == "/oauth2/v1/userinfo" and method == "GET":
            name = "userinfo"
        elif m and method == "GET" and not m.group(2):
            name = "serviceusage"
        elif m and method == "POST" and m.group(2):
            name = "enable"
        elif path == "/v1/projects" and method == "GET":
            name = "projects"
        elif path == "/api/accounts/deviceauth/usercode" and method == "POST":
            name = "codex_usercode"
        elif path == "/api/accounts/deviceauth/token" and method == "POST":
            name = "codex_poll"
        elif path == "/api/v1/oauth2/device/code" and method == "POST":
            name = "qwen_code"
        else:
            return self._send_json(conn, req, 404, _google_error(
                404, "mock login: no route for %s %s" % (method, path), "NOT_FOUND"))
        with self._lock:
            self.calls.append((name, method, req["path"], time.monotonic()))
            if m:
                self.service_calls.append((method, m.group(1), time.monotonic()))
            fail = self.fail.get(name)
        if fail is not None:
            return self._send_json(conn, req, fail[0], fail[1])
        if name in ("userinfo", "serviceusage", "enable", "projects"):
            info = self._bearer_ok(req)
            if info is None:
                return self._send_json(conn, req, 401, _UNAUTH)
            if name == "userinfo":
                return self._send_json(conn, req, 200, {
                    "id": "100000000000000000001", "email": info[1],
                    "verified_email": True, "picture": "https://example.invalid/p.png"})
            if name == "projects":
                return self._send_json(conn, req, 200, {"projects": [
                    {"projectNumber": str(100000 + i), "projectId": p, "name": "Project %s" % p,
                     "lifecycleState": "ACTIVE"} for i, p in enumerate(self.projects)]})
            return self._service(conn, req, name, m.group(1))
        if name == "codex_usercode":
            return self._codex_usercode(conn, req)
        if name == "codex_poll":
            return self._codex_poll(conn, req)
        return self._qwen_code(conn, req)

    def _service(self, conn, req, name, project):
        with self._lock:
            if name == "enable":
                self.service_states[project] = "ENABLED"
            state = self.service_states.get(project, self.service_default)
        svc = {"name": "projects/123456/services/cloudaicompanion.googleapis.com",
               "parent": "projects/123456", "state": state,
               "config": {"name": "cloudaicompanion.googleapis.com",
                          "title": "Gemini for Google Cloud API"}}
        if name == "serviceusage":
            return self._send_json(conn, req, 200, svc)
        return self._send_json(conn, req, 200, {
            "name": "operations/noop.DONE_OPERATION", "done": True,
            "response": {"@type": "type.googleapis.com/google.api.serviceusage.v1."
                                  "EnableServiceResponse", "service": svc}})

    # -- the token exchanges -----------------------------------------------------------
    def _issue(self, kind, email, extra=None):
        """A success body for kind, the tokens recorded and linked.  Lock held."""
        n = self._n + 1
        if kind == "google":
            at, rt = "ya29.mock-%d-%s" % (n, _hex()), "1//mock-rt-%d-%s" % (n, _hex())
        elif kind == "openai":
            at, rt = "eyJmock-at-%d-%s" % (n, _hex()), "rt_mock-%d-%s" % (n, _hex())
        elif kind == "claude":
            at = "sk-ant-oat01-mock-%d-%s" % (n, _hex())
            rt = "sk-ant-ort01-mock-%d-%s" % (n, _hex())
        else:
            at, rt = "qwen-mock-at-%d-%s" % (n, _hex()), "qwen-mock-rt-%d-%s" % (n, _hex())
        over = {"access_token": at, "refresh_token": rt}
        if kind == "google":
            over["id_token"] = make_jwt({"iss": "https://accounts.google.com", "email": email,
                                         "aud": "mock", "sub": "1%d" % n})
        elif kind == "openai":
            over["id_token"] = make_jwt(openai_id_claims(email, self.account_id, self.plan_type,
                                                         self.expires_in))
        elif kind == "claude":
            over["account"] = {"uuid": "00000000-0000-4000-8000-00000000000b",
                               "email_address": email}
        over.update(extra or {})
        body = self._grant(kind, None, over)
        self.token_info[body["access_token"]] = (kind, email)
        self.grants.append((kind, dict(body)))
        return body

    def _exchange(self, conn, req):
        with self._lock:
            self.exchanges.append(req)
            if req["kind"] == "qwen":
                st, body = self._qwen_poll(req)
            else:
                st, body = self._code_grant(req)
        extra = {"Cache-Control": "no-store", "Pragma": "no-cache"} if st == 200 else None
        return self._send_json(conn, req, st, body, extra)

    def _code_grant(self, req):
        kind, p = req["kind"], req["params"]
        err = mocks_oauth._oauth_error
        if kind == "claude":
            if not isinstance(req["json"], dict) or \
                    "application/json" not in req["headers"].get("content-type", ""):
                return 400, err("invalid_request", "mock: the Claude exchange takes JSON")
        elif req["form"] is None:
            return 400, err("invalid_request", "mock: expected a form body")
        code = p.get("code")
        rec = self.codes.get(code) if isinstance(code, str) else None
        if rec is None or rec["kind"] != kind:
            return 400, err("invalid_grant", "mock: unknown authorization code")
        if rec["used"]:
            return 400, err("invalid_grant", "mock: authorization code already used")
        if p.get("client_id") != rec["client_id"]:
            return 401, err("invalid_client", "mock: client_id %r" % (p.get("client_id"),))
        if kind == "google" and p.get("client_secret") != SECRETS[rec["client_id"]]:
            return 401, err("invalid_client", "mock: wrong client_secret")
        if p.get("redirect_uri") != rec["redirect_uri"]:
            return 400, err("invalid_grant", "mock: redirect_uri %r does not match %r"
                            % (p.get("redirect_uri"), rec["redirect_uri"]))
        if rec["challenge"] is not None:
            v = p.get("code_verifier")
            if not isinstance(v, str) or not 43 <= len(v) <= 128 or \
                    pkce_challenge(v) != rec["challenge"]:
                return 400, err("invalid_grant", "mock: code_verifier does not match the "
                                                 "code_challenge")
        if kind == "claude" and p.get("state") != rec["state"]:
            return 400, err("invalid_grant", "mock: state %r is not the authorize state"
                            % (p.get("state"),))
        rec["used"] = True
        return 200, self._issue(kind, rec["email"])

    # -- Codex device flow -------------------------------------------------------------------
    def _codex_usercode(self, conn, req):
        j = req["json"]
        if not isinstance(j, dict) or j.get("client_id") != CODEX_CLIENT_ID:
            return self._send_json(conn, req, 400, {"error": {
                "message": "mock: client_id %r" % ((j or {}).get("client_id")
                                                   if isinstance(j, dict) else None),
                "type": "invalid_request_error", "code": "invalid_client"}})
        with self._lock:
            n = len(self.codex_devices) + 1
            d = {"device_auth_id": "deviceauth_mock%d%s" % (n, _hex(6)),
                 "user_code": "CDX%d-%s" % (n, _hex(2).upper()), "polls": [],
                 "approved": None, "code": None, "created": time.monotonic()}
            self.codex_devices.append(d)
        return self._send_json(conn, req, 200, {
            "device_auth_id": d["device_auth_id"], "user_code": d["user_code"],
            "interval": self.codex_interval,
            "expires_at": mocks_oauth.rfc3339(time.time() + 900)})

    def _codex_poll(self, conn, req):
        j = req["json"] if isinstance(req["json"], dict) else {}
        with self._lock:
            d = next((x for x in self.codex_devices
                      if x["device_auth_id"] == j.get("device_auth_id")), None)
            if d is None or j.get("user_code") != d["user_code"]:
                return self._send_json(conn, req, 404, {"error": {
                    "message": "mock: unknown device authorization",
                    "type": "invalid_request_error", "code": "deviceauth_not_found"}})
            d["polls"].append(time.monotonic())
            if d["approved"] is not True:  # None or "denied"
                return self._send_json(conn, req, 403, {"error": {
                    "message": "Device authorization is pending",
                    "type": "invalid_request_error",
                    "code": "deviceauth_authorization_pending"}})
            if d["code"] is None:
                verifier = _b64url(os.urandom(64))
                challenge = pkce_challenge(verifier)
                code = self._new_code_locked("codex", CODEX_CLIENT_ID,
                                             self.url + "/deviceauth/callback", challenge, None,
                                             self.email)
                d["code"] = {"authorization_code": code, "code_verifier": verifier,
                             "code_challenge": challenge}
            body = d["code"]
        return self._send_json(conn, req, 200, body)

    # -- Qwen device flow --------------------------------------------------------------------
    def _qwen_code(self, conn, req):
        f = req["form"]   # MockTokenServer._respond parsed the body
        if f is None:
            return self._send_json(conn, req, 400, mocks_oauth._oauth_error(
                "invalid_request", "mock: expected a form body"))
        bad = None
        if f.get("client_id") != QWEN_CLIENT_ID:
            bad = "client_id %r" % (f.get("client_id"),)
        elif f.get("scope") != QWEN_SCOPE:
            bad = "scope %r, want %r" % (f.get("scope"), QWEN_SCOPE)
        elif f.get("code_challenge_method") != "S256":
            bad = "code_challenge_method %r" % (f.get("code_challenge_method"),)
        elif not _B64URL_RE.match(f.get("code_challenge") or "") or \
                len(f.get("code_challenge")) != 43:
            bad = "code_challenge %r" % (f.get("code_challenge"),)
        if bad:
            return self._send_json(conn, req, 400, mocks_oauth._oauth_error(
                "invalid_request", "mock: " + bad))
        with self._lock:
            n = len(self.qwen_devices) + 1
            d = {"device_code": "qwen-dc-%d-%s" % (n, _hex()),
                 "user_code": "QW%d%s" % (n, _hex(3).upper()),
                 "challenge": f["code_challenge"], "polls": [], "approved": None,
                 "done": False, "created": time.monotonic(),
                 "expires_in": self.qwen_expires_in, "interval": self.qwen_interval,
                 "slow_down": list(self.qwen_slow_down)}
            self.qwen_devices.append(d)
        page = self.url + "/authorize"
        return self._send_json(conn, req, 200, {
            "device_code": d["device_code"], "user_code": d["user_code"],
            "verification_uri": page,
            "verification_uri_complete": page + "?" + urllib.parse.urlencode(
                [("user_code", d["user_code"]), ("client", "qwen-code")]),
            "expires_in": d["expires_in"], "interval": d["interval"]})

    def _qwen_poll(self, req):
        """(status, body) of a device_code grant.  Lock held."""
        p = req["params"]
        err = mocks_oauth._oauth_error
        if req["form"] is None:
            return 400, err("invalid_request", "mock: expected a form body")
        if p.get("grant_type") != DEVICE_GRANT or p.get("client_id") != QWEN_CLIENT_ID:
            return 400, err("invalid_request", "mock: grant_type %r client_id %r"
                            % (p.get("grant_type"), p.get("client_id")))
        d = next((x for x in self.qwen_devices if x["device_code"] == p.get("device_code")), None)
        if d is None:
            return 400, err("invalid_grant", "mock: unknown device_code")
        now = time.monotonic()
        k = len(d["polls"]) + 1

        def answer(st, body):
            d["polls"].append((now, body.get("error", "ok")))
            return st, body
        if d["done"]:
            return answer(400, err("invalid_grant", "mock: device code already used"))
        if now - d["created"] > d["expires_in"]:
            return answer(400, err("expired_token", "The device code has expired"))
        if k in d["slow_down"]:
            return answer(self.qwen_slow_down_status,
                          err("slow_down", "Polling too frequently"))
        if d["approved"] == "denied":
            return answer(400, err("access_denied", "The user denied the authorization"))
        if d["approved"] is not True:
            return answer(400, err("authorization_pending",
                                   "The authorization request is still pending"))
        v = p.get("code_verifier")
        if not isinstance(v, str) or pkce_challenge(v) != d["challenge"]:
            return answer(400, err("invalid_grant", "mock: code_verifier does not match"))
        d["done"] = True
        body = self._issue("qwen", "", {"resource_url": self.resource_url})
        return answer(200, body)


# --------------------------------------------------------------------------
# Code Assist for the logins

class LoginCodeAssist(mocks_oauth.MockCodeAssist):

    def __init__(self, tls=None, pieces=3):
        super().__init__(tls=tls, pieces=pieces)
        self.project_object = False
        self.current_tier = True
        self.onboard_project_object = True

    def calls(self, method):
        return [r for r in list(self.requests) if r.get("ca_method") == method]

    def _load(self):
        out = super()._load()
        out.pop("currentTier", None)
        out.pop("cloudaicompanionProject", None)
        if self.current_tier:
            tiers = out["allowedTiers"]
            out["currentTier"] = next((t for t in tiers if t["id"] == self.tier), tiers[0])
        if self.project is not None:
            out["cloudaicompanionProject"] = {"id": self.project, "name": self.project} \
                if self.project_object else self.project
        return out

    def _onboard(self):
        out = super()._onboard()
        if out.get("done"):
            p = self.onboard_project
            resp = out["response"]
            if p is None:
                resp.pop("cloudaicompanionProject", None)
            elif not self.onboard_project_object:
                resp["cloudaicompanionProject"] = p
        return out
