"""Self-tests of mocks_login.py (the login servers and the browser), driven
by Python's urllib over TLS with the test CA, as a login would drive them.
No server binary."""

import json
import time
import urllib.error
import urllib.parse
import urllib.request

from harness import TestFailure, check, eq
import mocks
import mocks_login
import mocks_oauth
import testca
from mocks_login import LoginMockError, pkce_challenge


def _ctx():
    pki = testca.shared_pki()
    return mocks.server_context(pki["server_cert"], pki["server_key"])


def _call(url, method="GET", form=None, obj=None, token=None):
    """(status, parsed JSON or raw text) of one request over TLS."""
    data, headers = None, {}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif obj is not None:
        data = json.dumps(obj).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    cctx = mocks.client_context(testca.shared_pki()["ca_cert"])
    try:
        with urllib.request.urlopen(req, context=cctx, timeout=5) as r:
            st, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        st, raw = e.code, e.read()
    try:
        return st, json.loads(raw.decode())
    except ValueError:
        return st, raw.decode("utf-8", "replace")


def _authorize(m, provider, **over):
    """An authorize URL as the spec says the login builds it; over changes
    or (None) drops parameters."""
    state = "0123456789abcdef0123456789abcdef"
    q = {"client_id": {"gemini": mocks_oauth.GEMINI_CLIENT_ID,
                       "antigravity": mocks_oauth.ANTIGRAVITY_CLIENT_ID,
                       "codex": mocks_oauth.CODEX_CLIENT_ID,
                       "claude": mocks_oauth.CLAUDE_CLIENT_ID}[provider],
         "redirect_uri": mocks_login.REDIRECTS[provider],
         "scope": " ".join(mocks_login.AUTHORIZE_SCOPES[provider]), "state": state}
    q.update(mocks_login.AUTHORIZE_PARAMS[provider])
    if provider in mocks_login.PKCE:
        q["code_challenge"] = pkce_challenge(over.pop("verifier", "v" * 64))
    for k, v in over.items():
        if v is None:
            q.pop(k, None)
        else:
            q[k] = v
    return m.authorize_base(provider) + "?" + urllib.parse.urlencode(q)


def _redirect_query(url, want_prefix):
    check(url.startswith(want_prefix + "?"), "redirect %r does not start with %r"
          % (url, want_prefix))
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def _refused(fn, what):
    try:
        fn()
    except LoginMockError:
        return
    raise TestFailure("consent accepted %s" % what)


def test_mock_login_consent_checks_the_authorize_url():
    with mocks_login.MockLogin(tls=_ctx()) as m:
        for p in ("gemini", "antigravity", "codex", "claude"):
            q = _redirect_query(m.consent(_authorize(m, p)), mocks_login.REDIRECTS[p])
            eq(q["state"], "0123456789abcdef0123456789abcdef", "%s state" % p)
            check(q["code"] in m.codes, "%s code registered" % p)
        eq([c["provider"] for c in m.consents], ["gemini", "antigravity", "codex", "claude"],
           "consents")
        # Google's code holds a "/", sent URL-encoded
        check("code=4%2F0Amock" in m.consent(_authorize(m, "gemini")), "encoded Google code")
        q = _redirect_query(m.consent(_authorize(m, "codex"), deny=True),
                            mocks_login.REDIRECTS["codex"])
        eq(q, {"error": "access_denied", "state": "0123456789abcdef0123456789abcdef"}, "deny")
        q = _redirect_query(m.consent(_authorize(m, "claude"), state_override="f" * 32),
                            mocks_login.REDIRECTS["claude"])
        eq(q["state"], "f" * 32, "state_override")
        bad = [("gemini", {"prompt": None}, "no prompt=consent"),
               ("gemini", {"access_type": "online"}, "access_type online"),
               ("gemini", {"scope": "openid"}, "a wrong scope"),
               ("gemini", {"redirect_uri": "http://localhost:9999/cb"}, "another redirect"),
               ("gemini", {"code_challenge": "x" * 43, "code_challenge_method": "S256"},
                "PKCE on Google"),
               ("antigravity", {"scope": " ".join(mocks_oauth.GEMINI_SCOPES)}, "3 scopes"),
               ("codex", {"code_challenge": None}, "no PKCE challenge"),
               ("codex", {"code_challenge_method": "plain"}, "plain PKCE"),
               ("codex", {"state": "state-token"}, "a state that is not 32 hex"),
               ("codex", {"codex_cli_simplified_flow": None}, "no codex_cli_simplified_flow"),
               ("claude", {"code": None}, "no code=true"),
               ("claude", {"scope": "org:create_api_key user:profile user:inference"},
                "the old Claude scopes"),
               ("claude", {"client_id": "someone-else"}, "an unknown client")]
        for p, over, what in bad:
            _refused(lambda: m.consent(_authorize(m, p, **over)), what)
        _refused(lambda: m.consent(_authorize(m, "claude").replace("/claude/oauth", "/oauth")),
                 "the Claude authorize URL at the OpenAI path")


def test_mock_login_google_code_grant_userinfo_services_projects():
    ctx = _ctx()
    with mocks_login.MockLogin(tls=ctx) as m, mocks_login.LoginCodeAssist(tls=ctx) as ca:
        m.link(ca)
        e = m.endpoints()
        redirect = mocks_login.REDIRECTS["gemini"]
        code = _redirect_query(m.consent(_authorize(m, "gemini"), email="g@example.com"),
                               redirect)["code"]
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                "client_id": mocks_oauth.GEMINI_CLIENT_ID,
                "client_secret": mocks_oauth.GEMINI_CLIENT_SECRET}
        st, body = _call(e["google-token"], "POST", form=dict(form, client_secret="nope"))
        eq((st, body.get("error")), (401, "invalid_client"), "wrong secret")
        st, body = _call(e["google-token"], "POST", form=dict(form, redirect_uri="http://x/"))
        eq((st, body.get("error")), (400, "invalid_grant"), "other redirect_uri")
        st, body = _call(e["google-token"], "POST", obj=form)
        eq(st, 400, "JSON body at the Google token endpoint")
        st, tok = _call(e["google-token"], "POST", form=form)
        eq(st, 200, "exchange (%r)" % (tok,))
        check(tok["access_token"].startswith("ya29.mock-") and tok["refresh_token"],
              "tokens %r" % tok)
        eq(tok["scope"], " ".join(mocks_oauth.GEMINI_SCOPES), "scope")
        st, body = _call(e["google-token"], "POST", form=form)
        eq((st, body.get("error")), (400, "invalid_grant"), "the code a second time")
        eq(len(m.exchanges), 5, "exchanges recorded")
        # antigravity's client with its own secret
        ag_redirect = mocks_login.REDIRECTS["antigravity"]
        code = _redirect_query(m.consent(_authorize(m, "antigravity")), ag_redirect)["code"]
        st, _ = _call(e["google-token"], "POST", form=dict(
            form, code=code, redirect_uri=ag_redirect, client_id=mocks_oauth.ANTIGRAVITY_CLIENT_ID))
        eq(st, 401, "antigravity code with the Gemini CLI secret")
        st, tok2 = _call(e["google-token"], "POST", form=dict(
            form, code=code, redirect_uri=ag_redirect, client_id=mocks_oauth.ANTIGRAVITY_CLIENT_ID,
            client_secret=mocks_oauth.ANTIGRAVITY_CLIENT_SECRET))
        eq(st, 200, "antigravity exchange")
        eq(m.token_info[tok2["access_token"]], ("google", m.email), "default email")
        # userinfo
        at = tok["access_token"]
        eq(_call(e["google-userinfo"] + "?alt=json", token=at)[1].get("email"), "g@example.com",
           "userinfo email")
        eq(_call(e["google-userinfo"] + "?alt=json")[0], 401, "userinfo without a token")
        eq(_call(e["google-userinfo"] + "?alt=json", token="ya29.other")[0], 401,
           "userinfo with another token")
        # service usage
        svc = e["google-service-usage"] + "/v1/projects/p-1/services/cloudaicompanion.googleapis.com"
        eq(_call(svc, token=at)[1].get("state"), "DISABLED", "initial state")
        st, op = _call(svc + ":enable", "POST", obj={}, token=at)
        eq((st, op.get("done")), (200, True), "enable")
        eq(_call(svc, token=at)[1].get("state"), "ENABLED", "state after enable")
        eq([(c[0], c[1]) for c in m.service_calls], [("GET", "p-1"), ("POST", "p-1"),
                                                     ("GET", "p-1")], "service calls")
        m.service_states["p-2"] = "ENABLED"
        eq(_call(svc.replace("p-1", "p-2"), token=at)[1].get("state"), "ENABLED",
           "configured state")
        m.fail["serviceusage"] = (500, {"error": {"code": 500, "message": "boom"}})
        eq(_call(svc, token=at)[0], 500, "scripted failure")
        # projects
        st, pj = _call(e["google-cloud-resource-manager"], token=at)
        eq([p["projectId"] for p in pj["projects"]], ["proj-alpha", "proj-beta"], "projects")
        check([c[0] for c in m.calls].count("userinfo") == 3, "calls %r" % m.calls)
        # the issued token works at the linked Code Assist
        check(at in ca.valid_tokens, "issued token linked")
        st, load = _call(ca.url + "/v1internal:loadCodeAssist", "POST",
                         obj={"metadata": {"ideType": "IDE_UNSPECIFIED"}}, token=at)
        eq(st, 200, "loadCodeAssist with the issued token")
        eq(load.get("cloudaicompanionProject"), "mock-project-1", "project")
        eq(_call(ca.url + "/v1internal:loadCodeAssist", "POST", obj={}, token="ya29.x")[0], 401,
           "loadCodeAssist with another token")


def test_mock_login_codex_and_claude_pkce_exchanges():
    with mocks_login.MockLogin(tls=_ctx()) as m:
        e = m.endpoints()
        verifier = "A" * 20 + "b" * 60
        redirect = mocks_login.REDIRECTS["codex"]
        m.account_id, m.plan_type = "acct-77", "pro"
        code = _redirect_query(m.consent(_authorize(m, "codex", verifier=verifier),
                                         email="c@example.com"), redirect)["code"]
        form = {"grant_type": "authorization_code", "client_id": mocks_oauth.CODEX_CLIENT_ID,
                "code": code, "redirect_uri": redirect, "code_verifier": "Z" * 80}
        st, body = _call(e["openai-auth"] + "/oauth/token", "POST", form=form)
        eq((st, body.get("error")), (400, "invalid_grant"), "wrong verifier")
        st, tok = _call(e["openai-auth"] + "/oauth/token", "POST",
                        form=dict(form, code_verifier=verifier))
        eq(st, 200, "codex exchange (%r)" % (tok,))
        claims = mocks_oauth.decode_jwt(tok["id_token"])
        eq(claims["email"], "c@example.com", "id_token email")
        eq(claims["https://api.openai.com/auth"]["chatgpt_account_id"], "acct-77", "account id")
        eq(claims["https://api.openai.com/auth"]["chatgpt_plan_type"], "pro", "plan")
        check(tok["refresh_token"] and tok["expires_in"] == 3600, "tokens %r" % tok)
        # Claude: JSON, PKCE and the state
        redirect = mocks_login.REDIRECTS["claude"]
        code = _redirect_query(m.consent(_authorize(m, "claude", verifier=verifier),
                                         email="a@example.com"), redirect)["code"]
        body = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                "client_id": mocks_oauth.CLAUDE_CLIENT_ID, "code_verifier": verifier,
                "state": "0123456789abcdef0123456789abcdef"}
        eq(_call(e["claude-token"], "POST", form=body)[0], 400, "Claude exchange as a form")
        eq(_call(e["claude-token"], "POST", obj=dict(body, state="e" * 32))[0], 400,
           "Claude exchange with another state")
        eq(_call(e["claude-token"], "POST", obj=dict(body, code_verifier="q" * 50))[0], 400,
           "Claude exchange with another verifier")
        st, tok = _call(e["claude-token"], "POST", obj=body)
        eq(st, 200, "Claude exchange (%r)" % (tok,))
        eq(tok["account"]["email_address"], "a@example.com", "account email")
        check(tok["organization"]["uuid"] and tok["access_token"].startswith("sk-ant-oat01-"),
              "answer %r" % tok)
        eq(_call(e["claude-token"], "POST", obj=body)[0], 400, "the code twice")
        # refresh grants still work as in MockTokenServer
        st, r = _call(e["claude-token"], "POST", obj={
            "grant_type": "refresh_token", "refresh_token": tok["refresh_token"],
            "client_id": mocks_oauth.CLAUDE_CLIENT_ID})
        eq(st, 200, "refresh of an issued token")


def test_mock_login_codex_device_flow():
    with mocks_login.MockLogin(tls=_ctx()) as m:
        base = m.endpoints()["openai-auth"]
        eq(_call(base + "/api/accounts/deviceauth/usercode", "POST",
                 obj={"client_id": "other"})[0], 400, "usercode for another client")
        st, uc = _call(base + "/api/accounts/deviceauth/usercode", "POST",
                       obj={"client_id": mocks_oauth.CODEX_CLIENT_ID})
        eq(st, 200, "usercode")
        eq(uc["interval"], "1", "interval as a string")
        poll = {"device_auth_id": uc["device_auth_id"], "user_code": uc["user_code"]}
        eq(_call(base + "/api/accounts/deviceauth/token", "POST", obj=poll)[0], 403, "pending")
        eq(_call(base + "/api/accounts/deviceauth/token", "POST",
                 obj=dict(poll, user_code="WRONG"))[0], 404, "another user code")
        m.approve(uc["user_code"])
        st, got = _call(base + "/api/accounts/deviceauth/token", "POST", obj=poll)
        eq(st, 200, "approved")
        eq(pkce_challenge(got["code_verifier"]), got["code_challenge"], "the pair matches")
        eq(len(m.device(uc["user_code"])["polls"]), 2, "polls recorded")
        st, tok = _call(base + "/oauth/token", "POST", form={
            "grant_type": "authorization_code", "client_id": mocks_oauth.CODEX_CLIENT_ID,
            "code": got["authorization_code"], "redirect_uri": base + "/deviceauth/callback",
            "code_verifier": got["code_verifier"]})
        eq(st, 200, "exchange of the device code (%r)" % (tok,))
        check("id_token" in tok, "id_token")


def test_mock_login_qwen_device_flow_slow_down_and_expiry():
    with mocks_login.MockLogin(tls=_ctx()) as m:
        base = m.endpoints()["qwen-auth"]
        verifier = "Q" * 43
        form = {"client_id": mocks_oauth.QWEN_CLIENT_ID, "scope": mocks_login.QWEN_SCOPE,
                "code_challenge": pkce_challenge(verifier), "code_challenge_method": "S256"}
        eq(_call(base + "/device/code", "POST", form=dict(form, scope="openid"))[0], 400,
           "wrong scope")
        eq(_call(base + "/device/code", "POST", obj=form)[0], 400, "JSON body")
        m.qwen_slow_down = [2]
        m.resource_url = "localhost:1234"
        st, dc = _call(base + "/device/code", "POST", form=form)
        eq(st, 200, "device code")
        eq(dc["interval"], 1, "interval")
        check(dc["verification_uri_complete"].startswith(dc["verification_uri"] + "?")
              and dc["user_code"] in dc["verification_uri_complete"], "urls %r" % dc)
        poll = {"grant_type": mocks_login.DEVICE_GRANT, "client_id": mocks_oauth.QWEN_CLIENT_ID,
                "device_code": dc["device_code"], "code_verifier": verifier}
        answers = [_call(base + "/token", "POST", form=poll)[1].get("error") for _ in range(3)]
        eq(answers, ["authorization_pending", "slow_down", "authorization_pending"], "answers")
        m.approve(dc["user_code"])
        st, body = _call(base + "/token", "POST", form=dict(poll, code_verifier="R" * 43))
        eq((st, body.get("error")), (400, "invalid_grant"), "wrong verifier")
        st, tok = _call(base + "/token", "POST", form=poll)
        eq(st, 200, "approved (%r)" % (tok,))
        eq(tok["resource_url"], "localhost:1234", "resource_url")
        check(tok["access_token"] and tok["refresh_token"], "tokens")
        eq(_call(base + "/token", "POST", form=poll)[1].get("error"), "invalid_grant",
           "the device code twice")
        eq([a for _, a in m.qwen_devices[0]["polls"]],
           ["authorization_pending", "slow_down", "authorization_pending", "invalid_grant", "ok",
            "invalid_grant"], "poll log")
        # denied, then an expired code
        st, dc = _call(base + "/device/code", "POST", form=form)
        m.approve(dc["user_code"], deny=True)
        eq(_call(base + "/token", "POST", form=dict(poll, device_code=dc["device_code"]))[1]
           .get("error"), "access_denied", "denied")
        m.qwen_expires_in = 1
        st, dc = _call(base + "/device/code", "POST", form=form)
        eq(dc["expires_in"], 1, "expires_in")
        time.sleep(1.2)
        m.approve(dc["user_code"])
        eq(_call(base + "/token", "POST", form=dict(poll, device_code=dc["device_code"]))[1]
           .get("error"), "expired_token", "expired")


def test_mock_login_code_assist_project_knobs():
    with mocks_login.LoginCodeAssist(tls=_ctx()) as ca:
        url = ca.url + "/v1internal:"
        st, load = _call(url + "loadCodeAssist", "POST", obj={"metadata": {}})
        eq((load.get("cloudaicompanionProject"), load["currentTier"]["id"]),
           ("mock-project-1", "free-tier"), "default: a project and a tier")
        ca.project, ca.current_tier = None, False
        st, load = _call(url + "loadCodeAssist", "POST", obj={"metadata": {}})
        check("cloudaicompanionProject" not in load and "currentTier" not in load,
              "neither: %r" % load)
        check(any(t.get("isDefault") for t in load["allowedTiers"]), "a default tier")
        ca.project, ca.project_object = "p-obj", True
        st, load = _call(url + "loadCodeAssist", "POST", obj={"metadata": {}})
        eq(load.get("cloudaicompanionProject"), {"id": "p-obj", "name": "p-obj"}, "object form")
        ca.onboard_polls, ca.onboard_project = 1, "p-on"
        eq(_call(url + "onboardUser", "POST", obj={"tierId": "free-tier"})[1].get("done"), False,
           "first onboard")
        st, on = _call(url + "onboardUser", "POST", obj={"tierId": "free-tier"})
        eq(on["response"]["cloudaicompanionProject"], {"id": "p-on", "name": "p-on"}, "onboard")
        ca.onboard_project_object = False
        eq(_call(url + "onboardUser", "POST", obj={})[1]["response"]["cloudaicompanionProject"],
           "p-on", "string form")
        ca.onboard_project = None
        on = _call(url + "onboardUser", "POST", obj={})[1]
        check(on["done"] and "cloudaicompanionProject" not in on["response"], "none: %r" % on)
        eq(len(ca.calls("onboardUser")), 4, "onboard calls")
        eq(len(ca.calls("loadCodeAssist")), 3, "load calls")
