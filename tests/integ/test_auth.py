"""Client authentication with api-keys."""

from harness import check, eq, start_server, model_body

KEY = "client-key-alpha"
KEY2 = "client-key-beta"


def _keyed():
    return start_server(api_keys=[KEY, KEY2])


def test_everything_open_when_no_api_keys():
    srv = start_server()
    eq(srv.get("/v1/models").status, 200, "GET /v1/models without a key")
    eq(srv.get("/v1beta/models").status, 200, "GET /v1beta/models without a key")
    eq(srv.post("/v1/messages", model_body("open-model")).status, 404, "POST /v1/messages without a key")


def test_key_accepted_from_each_place():
    srv = _keyed()
    ways = [("Authorization: Bearer", "/v1/models", {"Authorization": "Bearer " + KEY}),
            ("x-api-key", "/v1/models", {"x-api-key": KEY}),
            ("x-goog-api-key", "/v1beta/models", {"x-goog-api-key": KEY}),
            ("?key=", "/v1/models?key=" + KEY, {}),
            ("?key= on v1beta", "/v1beta/models?key=" + KEY2, {}),
            ("second configured key", "/v1/models", {"Authorization": "Bearer " + KEY2})]
    for what, path, headers in ways:
        eq(srv.get(path, headers=headers).status, 200, "key given by " + what)


def test_openai_routes_401_in_openai_format():
    srv = _keyed()
    for method, path, headers in [("GET", "/v1/models", {}),
                                  ("GET", "/v1/models", {"Authorization": "Bearer wrong-key"}),
                                  ("POST", "/v1/chat/completions", {}),
                                  ("POST", "/v1/responses", {"x-api-key": "wrong-key"}),
                                  ("POST", "/v1/completions", {"Authorization": "Bearer " + KEY + "x"})]:
        r = srv.request(method, path, body=model_body("m") if method == "POST" else None, headers=headers)
        eq(r.status, 401, "%s %s %r" % (method, path, headers))
        e = r.json().get("error")
        check(isinstance(e, dict) and isinstance(e.get("message"), str) and "type" in e,
              "%s: not an OpenAI error: %r" % (path, r.body[:200]))


def test_claude_routes_401_in_claude_format():
    srv = _keyed()
    for path, headers in [("/v1/messages", {}), ("/v1/messages", {"x-api-key": "wrong"}),
                          ("/v1/messages/count_tokens", {"Authorization": "Bearer wrong"})]:
        r = srv.post(path, model_body("m"), headers=headers)
        eq(r.status, 401, "POST %s %r" % (path, headers))
        j = r.json()
        eq(j.get("type"), "error", "%s: type" % path)
        eq((j.get("error") or {}).get("type"), "authentication_error", "%s: error.type" % path)


def test_google_routes_401_in_google_format():
    srv = _keyed()
    for method, path, headers in [("GET", "/v1beta/models", {}),
                                  ("GET", "/v1beta/models/gemini-2.5-pro", {"x-goog-api-key": "wrong"}),
                                  ("POST", "/v1beta/models/gemini-2.5-pro:generateContent", {}),
                                  ("GET", "/v1beta/models?key=wrong", {})]:
        r = srv.request(method, path, body=b"{}" if method == "POST" else None, headers=headers)
        eq(r.status, 401, "%s %s %r" % (method, path, headers))
        e = r.json().get("error") or {}
        eq(e.get("code"), 401, "%s: error.code" % path)
        eq(e.get("status"), "UNAUTHENTICATED", "%s: error.status" % path)


def test_key_must_match_exactly():
    """A key must match exactly: prefixes, suffixes and case changes fail."""
    srv = _keyed()
    for bad in (KEY[:-1], KEY + "-", KEY.upper(), " " + KEY + "x", ""):
        eq(srv.get("/v1/models", headers={"Authorization": "Bearer " + bad}).status, 401,
           "Bearer %r" % bad)


def test_root_and_options_need_no_key():
    srv = _keyed()
    eq(srv.get("/").status, 200, "GET / without a key")
    eq(srv.request("OPTIONS", "/v1/chat/completions").status, 204, "OPTIONS without a key")
    eq(srv.request("OPTIONS", "/v1beta/models").status, 204, "OPTIONS without a key")
