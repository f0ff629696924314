"""The smoke test: the least that shows a build works end to end.  make
cross-test runs only this file (run.py -k smoke.) against a cross-built binary
under qemu-user, where the whole suite would take too long; here it runs with
the rest.

One server with the three upstream kinds of test_translate.Env, each a mock
behind TLS signed by the test CA: the model list, then an OpenAI chat stream
translated from a Claude upstream, checked on both sides.  A big-endian or
32-bit build breaks it if the TLS records, the JSON numbers (usage, the
created times) or the SSE framing come out wrong."""

import harness
from harness import check, eq
import test_translate as tt


def test_models_and_tls_stream():
    env = tt.Env(tls=True)
    r = env.srv.get("/v1/models")
    eq(r.status, 200, "GET /v1/models")
    j = r.json()
    eq(j.get("object"), "list", "object of the model list")
    ids = [m.get("id") for m in j.get("data") or []]
    for want in (tt.ALIAS, tt.CLAUDE_MODEL, tt.GEMINI_MODEL):
        check(want in ids, "/v1/models lacks %s: %r" % (want, ids))
    created = {m.get("id"): m.get("created") for m in j["data"]}
    # the static tables' release dates (src/models.c D2025_05, D2025_06):
    # a truncated or byte-swapped number shows here
    eq(created[tt.CLAUDE_MODEL], 1747180800, "created of %s" % tt.CLAUDE_MODEL)
    eq(created[tt.GEMINI_MODEL], 1750118400, "created of %s" % tt.GEMINI_MODEL)

    mode, up = "openai_stream", "claude"
    what = "%s<-%s over TLS" % (mode, up)
    sc = tt.scenario()
    mock = env.mocks[up]
    mock.script([("text", tt.ANSWER)])
    a = tt.parse_answer(mode, env.send(mode, up, sc), what)
    eq(a.text, tt.ANSWER, "%s: text" % what)
    eq(a.finish, "stop", "%s: finish" % what)
    eq(a.error, None, "%s: error" % what)
    eq(a.usage, (11, 7), "%s: usage (input, output)" % what)
    v = tt.upstream_view(up, env.last(up))
    tt.check_upstream_basics(up, v, sc, mode, what)
    eq(v["flat"], [("text", "user", "Say hello to the world")],
       "%s: upstream messages" % what)
    check(mock.tls_handshakes, "%s: no TLS handshake seen" % what)
    eq(mock.tls_handshakes[0]["sni"], "localhost", "%s: SNI" % what)
    env.srv.assert_alive()
