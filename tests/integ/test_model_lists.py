"""Model lists the upstreams give: Claude keys and Claude Code accounts
(GET /v1/models), AI Studio keys (GET /v1beta/models) and Antigravity
accounts (POST :fetchAvailableModels) are asked in the background what
they serve; /v1/models lists and routes that, the built-in table until
then or when the list call fails, the names the reference's README
documents always.  The mocks answer the list calls apart from the other
requests (.list_requests)."""

import json
import time

import harness
import mocks_llm
import test_accounts
import testca
from harness import check, eq
from test_accounts import _wait

CLAUDE_KEY = "sk-ant-api03-list-key-1"
GEMINI_KEY = "AIzaSy-list-key-1"

# The built-in tables (test_routes.py has them whole).
CLAUDE_TABLE = [m[0] for m in mocks_llm.CLAUDE_LIST]
GEMINI_TABLE = list(mocks_llm.GEMINI_LIST)
CLAUDE_UA = {"User-Agent": "claude-cli/2.1.220 (external, cli)"}


class Keys:
    """A server with a Claude key and an AI Studio key whose upstreams
    are mocks (reached through [endpoints])."""

    def __init__(self, start=True, more="", **settings):
        ctx = test_accounts._ctx()
        self.cl = mocks_llm.MockClaude(tls=ctx).start()
        self.gm = mocks_llm.MockGemini(tls=ctx).start()
        extra = more + ("\n[claude-api-key]\napi-key = %s\n"
                        "\n[endpoints]\nclaude = %s\ngenerative-language = %s\n"
                        % (CLAUDE_KEY, self.cl.url, self.gm.url))
        s = {"ca-file": testca.shared_pki()["ca_cert"], "request-retry": 1,
             "upstream-connect-timeout": "2s", "upstream-first-byte-timeout": "4s",
             "upstream-read-timeout": "4s", "debug": "true",
             "generative-language-api-key": GEMINI_KEY}
        s.update({k.replace("_", "-"): v for k, v in settings.items()})
        self.srv = harness.Server(extra=extra, settings=s, label="cli-proxy-api")
        stop = self.srv.stop

        def stop_all():
            try:
                stop()
            finally:
                self.cl.stop()
                self.gm.stop()
        self.srv.stop = stop_all
        if start:
            self.srv.start()

    def models(self, headers=None):
        r = self.srv.get("/v1/models", headers=headers)
        eq(r.status, 200, "GET /v1/models")
        return [m["id"] for m in r.json()["data"]]

    def log(self):
        return self.srv.stderr_text()


def _chat(srv, model):
    return srv.request("POST", "/v1/chat/completions", body=json.dumps({
        "model": model, "messages": [{"role": "user", "content": "hello lists"}]}),
        headers={"Content-Type": "application/json"})


def _claude_ids(ids):
    return sorted(i for i in ids if i.startswith("claude-") or i.startswith("mystery-"))


def _gemini_ids(ids):
    return sorted(i for i in ids if i.startswith("gemini-") or i.startswith("gemma-"))


# ---- keys ---------------------------------------------------------------------

def test_model_lists_claude_key_lists_and_routes_what_its_upstream_serves():
    k = Keys(start=False)
    # a new model, one outside the claude-* family, and neither
    # claude-opus-4-6 (a table name) nor claude-sonnet-4-20250514 (a name the
    # README documents, which stays)
    k.cl.list_models = ["claude-opus-4-7", "mystery-model-1", "claude-sonnet-4-6"]
    k.srv.start()
    dt = _wait(lambda: "claude-opus-4-7" in k.models(), 3, "the fetched model listed")
    check(dt < 3, "took %.1fs" % dt)
    eq(_claude_ids(k.models()),
       sorted(["claude-opus-4-7", "mystery-model-1", "claude-sonnet-4-6",
               "claude-sonnet-4-20250514", "claude-opus-4-1-20250805"]),
       "Claude models after the fetch")
    # the list call: one, with the key's headers, not among the requests
    eq(len(k.cl.list_requests), 1, "list calls")
    lr = k.cl.list_requests[0]
    eq(lr["path"], "/v1/models?limit=1000", "list path")
    eq(lr["headers"].get("x-api-key"), CLAUDE_KEY, "x-api-key")
    eq(lr["headers"].get("anthropic-version"), "2023-06-01", "anthropic-version")
    eq(k.cl.requests, [], "list call recorded as a request")
    # routable: the new names go to the key
    for model in ("claude-opus-4-7", "mystery-model-1"):
        r = _chat(k.srv, model)
        eq(r.status, 200, "%s: status (%r)" % (model, r.body[:300]))
        eq(json.loads(k.cl.requests[-1]["body"])["model"], model, "upstream model")
    # a table name the list lacks is not listed, yet still routes by family
    r = _chat(k.srv, "claude-opus-4-6")
    eq(r.status, 200, "family route (%r)" % r.body[:300])
    # the Claude shape shows the upstream's display name and date
    r = k.srv.get("/v1/models", headers=CLAUDE_UA)
    got = {m["id"]: m for m in r.json()["data"]}
    eq(got["claude-opus-4-7"]["created_at"], "2026-10-01T00:00:00Z", "created_at")
    eq(got["claude-sonnet-4-6"]["display_name"], "Claude Sonnet 4.6", "display_name")
    check(CLAUDE_KEY not in k.log() and GEMINI_KEY not in k.log(), "a key in the log")


def test_model_lists_gemini_key_keeps_generate_content_models():
    k = Keys(start=False)
    k.gm.list_models = ["gemini-2.5-pro", "gemini-9-ultra", "gemma-4-27b-it"]
    k.srv.start()
    _wait(lambda: "gemini-9-ultra" in k.models(), 3, "the fetched model listed")
    eq(_gemini_ids(k.models()),
       sorted(["gemini-2.5-pro", "gemini-9-ultra", "gemma-4-27b-it", "gemini-2.5-flash"]),
       "Gemini models (2.5-flash stays: the README names it; the embedding model is "
       "left out)")
    lr = k.gm.list_requests[0]
    eq(lr["path"], "/v1beta/models?pageSize=1000", "list path")
    eq(lr["headers"].get("x-goog-api-key"), GEMINI_KEY, "x-goog-api-key")
    # the Gemini shape lists them too, and a generation call reaches the key
    r = k.srv.get("/v1beta/models")
    names = [m["name"] for m in r.json()["models"]]
    check("models/gemma-4-27b-it" in names, "Gemini shape: %r" % names)
    r = k.srv.request("POST", "/v1beta/models/gemma-4-27b-it:generateContent",
                      body=json.dumps({"contents": [{"role": "user",
                                                     "parts": [{"text": "hi"}]}]}),
                      headers={"Content-Type": "application/json"})
    eq(r.status, 200, "generateContent (%r)" % r.body[:300])
    eq(k.gm.requests[-1]["gemini_model"], "gemma-4-27b-it", "upstream model")


def test_model_lists_failing_list_calls_keep_the_tables():
    k = Keys(start=False)
    k.cl.list_answer = (500, {"type": "error", "error": {"type": "api_error",
                                                         "message": "list down"}})
    k.gm.list_answer = (200, {"unexpected": True})
    k.srv.start()
    _wait(lambda: k.cl.list_requests and k.gm.list_requests, 3, "list calls")
    _wait(lambda: "model list not fetched" in k.log(), 2, "the failure logged")
    time.sleep(0.3)
    ids = k.models()
    eq(_claude_ids(ids), sorted(CLAUDE_TABLE), "Claude table kept")
    eq(_gemini_ids(ids), sorted(GEMINI_TABLE), "Gemini table kept")
    lines = [l for l in k.log().splitlines() if "model list not fetched" in l]
    eq(len(lines), 2, "one line per failing credential: %r" % lines)
    check(any("claude-api-key 1" in l and "HTTP 500" in l for l in lines), "%r" % lines)
    check(any("generative-language-api-key 1" in l and "no model list" in l
              for l in lines), "%r" % lines)
    check(CLAUDE_KEY not in k.log() and GEMINI_KEY not in k.log(), "a key in the log")
    # requests are served from the table as before
    eq(_chat(k.srv, "claude-opus-4-6").status, 200, "table model")


def test_model_lists_refused_key_and_model_list_refresh_zero():
    k = Keys(start=False)
    k.cl.valid_tokens = {"some-other-key"}
    k.cl.list_models = ["claude-never-listed"]
    k.srv.start()
    _wait(lambda: k.cl.list_requests, 3, "list call")
    _wait(lambda: "HTTP 401" in k.log(), 2, "the refusal logged")
    check("claude-never-listed" not in k.models(), "a refused list was used")
    eq(k.cl.rejected_tokens, [], "list calls counted as refused requests")
    # model-list-refresh = 0: nobody is asked, the tables serve
    z = Keys(start=False, model_list_refresh="0")
    z.cl.list_models = ["claude-never-listed"]
    z.srv.start()
    time.sleep(1.0)
    eq(z.cl.list_requests + z.gm.list_requests, [], "list calls with refresh 0")
    eq(_claude_ids(z.models()), sorted(CLAUDE_TABLE), "Claude table")


def test_model_lists_config_reload_keeps_the_lists_of_kept_keys():
    k = Keys(start=False)
    k.cl.list_models = ["claude-opus-4-7"]
    k.srv.start()
    _wait(lambda: "claude-opus-4-7" in k.models(), 3, "fetched")
    k.srv.write_config(settings={"request-retry": 2})
    time.sleep(1.5)   # the config watcher reloads; the key is the same key
    check("claude-opus-4-7" in k.models(), "the list survived the reload")
    eq(len(k.cl.list_requests), 1, "list calls (no refetch for an unchanged key)")


# ---- accounts -------------------------------------------------------------------

def test_model_lists_claude_account_refetched_when_its_file_changes():
    env = test_accounts.Env(start=False)
    env.write("claude", filename="claude-a@example.com.json", email="a@example.com",
              access_token="sk-ant-oat01-first")
    env.cl.list_models = ["claude-first-list", "claude-sonnet-4-6"]
    env.srv.start()
    _wait(lambda: "claude-first-list" in env.models(), 3, "the first list")
    lr = env.cl.list_requests[-1]
    eq(lr["headers"].get("authorization"), "Bearer sk-ant-oat01-first", "bearer")
    eq(lr["headers"].get("anthropic-beta"), "oauth-2025-04-20", "anthropic-beta")
    eq(lr["headers"].get("anthropic-version"), "2023-06-01", "anthropic-version")
    check("x-api-key" not in lr["headers"], "x-api-key sent with an OAuth token")
    # the file changes (a new login): asked again, the new list served
    env.cl.list_models = ["claude-second-list", "claude-sonnet-4-6"]
    env.write("claude", filename="claude-a@example.com.json", email="a@example.com",
              access_token="sk-ant-oat01-second")
    _wait(lambda: "claude-second-list" in env.models(), 3, "the second list")
    check("claude-first-list" not in env.models(), "the old list is still served")
    eq(env.cl.list_requests[-1]["headers"].get("authorization"),
       "Bearer sk-ant-oat01-second", "the new token")
    eq(len(env.cl.list_requests), 2, "list calls")
    r = env.chat("claude-second-list")
    eq(r.status, 200, "routable (%r)" % r.body[:300])
    test_accounts._no_secrets(env, ["sk-ant-oat01-first", "sk-ant-oat01-second"])


def test_model_lists_antigravity_fetch_available_models():
    env = test_accounts.Env(start=False)
    env.ag.available_models = ["gemini-3-flash", "gemini-ag-extra", "claude-sonnet-4-6"]
    env.write("antigravity", email="ag@example.com", project_id="proj-ag",
              access_token="ya29.ag-list")
    env.srv.start()
    _wait(lambda: "gemini-ag-extra" in env.models(), 3, "the fetched list")
    ids = env.models()
    check("gemini-3.7-flash-high" not in ids, "a table name the account lacks: %r" % ids)
    lr = env.ag.list_requests[-1]
    eq(lr["method"], "POST", "method")
    eq(lr["path"], "/v1internal:fetchAvailableModels", "path")
    eq(lr["json"], {}, "body")
    eq(lr["headers"].get("authorization"), "Bearer ya29.ag-list", "bearer")
    eq(env.ag2.list_requests, [], "the fallback host asked")
    r = env.chat("gemini-ag-extra")
    eq(r.status, 200, "routable (%r)" % r.body[:300])
    eq(env.ag.requests[-1]["envelope"].get("model"), "gemini-ag-extra", "upstream model")


def test_model_lists_account_needing_a_refresh_is_skipped_not_refreshed():
    env = test_accounts.Env(start=False)
    env.write("claude", email="a@example.com", access_token="sk-ant-oat01-old",
              refresh_token="rt-c", expires_in=-60)
    env.tok.script([("status", 503, {"error": "temporarily_unavailable"})])
    env.cl.list_models = ["claude-not-asked"]
    env.srv.start()
    time.sleep(1.5)
    eq(env.cl.list_requests, [], "list calls with an expired token")
    eq(len(env.tok.requests), 1, "refreshes (the background one only)")
    check("claude-not-asked" not in env.models(), "listed without asking")
