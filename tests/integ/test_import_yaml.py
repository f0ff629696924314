"""--import-yaml: a CLIProxyAPI config.yaml printed as our config.ini.

Each directory of tests/integ/import_yaml/ is one case: config.yaml (the
input), expect.ini (stdout), expect.stderr (the keys left out, with their
lines) and a one-line note.  CPA_UPDATE_GOLDEN=1 rewrites the expect files
from the binary's output (review the diff before committing).
"""

import difflib
import os
import shutil
import subprocess

from harness import (BINARY, HOST, SANITIZER_MARKERS, Server, TestFailure,
                     check, eq, new_tmpdir)

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "import_yaml")


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _import(text=None, args=None, copy=None):
    """Run --import-yaml in a fresh directory (no config.ini there) on a
    config.yaml holding text (or a copy of the file copy).  Returns
    (status, stdout, stderr, directory)."""
    d = new_tmpdir()
    if copy:
        shutil.copy(copy, os.path.join(d, "config.yaml"))
    elif text is not None:
        with open(os.path.join(d, "config.yaml"), "w", encoding="utf-8") as f:
            f.write(text)
    p = subprocess.run([BINARY] + (args or ["--import-yaml", "config.yaml"]),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=10, cwd=d)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    for m in SANITIZER_MARKERS:
        if m in err:
            raise TestFailure("sanitizer report in stderr: %s" % err[-2000:])
    return p.returncode, out, err, d


def _same(got, path, what):
    if os.environ.get("CPA_UPDATE_GOLDEN"):
        with open(path, "w", encoding="utf-8") as f:
            f.write(got)
    want = _read(path)
    if got != want:
        diff = "".join(difflib.unified_diff(
            want.splitlines(True), got.splitlines(True), "expected", "got"))
        raise TestFailure("%s differs from %s:\n%s" % (what, path, diff[:3000]))


def _golden(case):
    d = os.path.join(CASES, case)
    check(_read(os.path.join(d, "note")).strip(), "%s has no note" % case)
    status, out, err, _ = _import(copy=os.path.join(d, "config.yaml"))
    eq(status, 0, "exit status of --import-yaml on %s" % case)
    _same(out, os.path.join(d, "expect.ini"), "stdout of " + case)
    _same(err, os.path.join(d, "expect.stderr"), "stderr of " + case)
    return out


def test_reference_readme_example_matches_golden():
    out = _golden("reference-readme")
    # every key of the example has a place in config.ini
    for line in ("port = 8317", "api-keys = your-api-key-2",
                 "generative-language-api-key = AIzaSy...04",
                 "[remote-management]", "secret-key =", "[quota-exceeded]",
                 "switch-preview-model = true",
                 "base-url = https://www.example.com",
                 "model = moonshotai/kimi-k2:free = kimi-k2"):
        check("\n" + line + "\n" in out, "no line %r in:\n%s" % (line, out))
    check("; 提供商支持的模型。\n" in out, "a comment did not come over")


def test_later_example_matches_golden_and_lists_what_is_left_out():
    out = _golden("later-example")
    err = _read(os.path.join(CASES, "later-example", "expect.stderr"))
    for note in ("config.yaml:11: 'tls' is not supported yet, skipped",
                 "config.yaml:93: 'streaming.bootstrap-retries' is not "
                 "supported yet, skipped",
                 "config.yaml:98: 'gemini-api-key.prefix' is not supported "
                 "yet, skipped",
                 "config.yaml:145: 'openai-compatibility.api-key-entries."
                 "proxy-url' is not supported yet, skipped",
                 "config.yaml:179: 'payload' is not supported yet, skipped"):
        check(note + "\n" in err, "no note %r in:\n%s" % (note, err))
    for line in ("generative-language-api-key = AIzaSy...02",
                 "api-keys = sk-or-v1-...b781",
                 "header = X-Custom-Header: custom-value",
                 "proxy-url = socks5://proxy.example.com:1080",
                 "switch-preview-model = yes", "keepalive-seconds = 15"):
        check("\n" + line + "\n" in out, "no line %r in:\n%s" % (line, out))


def _serve(case, home):
    """Start the binary on the INI imported from case, as it is but for
    one line in front: model-list-refresh = 0, so no key asks its
    upstream for models and nothing leaves this machine.  HOME is home
    (the imported auth-dir is ~/.cli-proxy-api); --host and --port put it
    on a free loopback port."""
    status, out, err, _ = _import(copy=os.path.join(CASES, case, "config.yaml"))
    eq(status, 0, "exit status of --import-yaml")
    srv = Server(label=case)
    srv.write_config(text="model-list-refresh = 0\n" + out)
    srv.args = ["--host", HOST, "--port", str(srv.port)]
    old = os.environ.get("HOME")
    os.environ["HOME"] = home
    try:
        srv.start()
    finally:
        if old is None:
            del os.environ["HOME"]
        else:
            os.environ["HOME"] = old
    return srv


def _ids(srv, key):
    r = srv.get("/v1/models", headers={"Authorization": "Bearer " + key})
    eq(r.status, 200, "GET /v1/models with an imported key")
    return [m["id"] for m in r.json()["data"]]


def test_imported_reference_config_serves():
    home = new_tmpdir()
    srv = _serve("reference-readme", home)
    eq(srv.get("/v1/models").status, 401, "GET /v1/models without a key "
       "(api-keys came over)")
    ids = _ids(srv, "your-api-key-2")
    for want in ("kimi-k2", "claude-sonnet-4-20250514", "gemini-2.5-pro"):
        check(want in ids, "%s is not served: %r" % (want, ids))
    # secret-key came over empty: the management API is off
    eq(srv.get("/v0/management/config").status, 404, "management API")
    check(os.path.isdir(os.path.join(home, ".cli-proxy-api")),
          "the imported auth-dir ~/.cli-proxy-api is not in use")


def test_imported_later_config_serves():
    srv = _serve("later-example", new_tmpdir())
    eq(srv.get("/v1/models", headers={"Authorization": "Bearer nope"}).status,
       401, "GET /v1/models with a key that is not imported")
    ids = _ids(srv, "your-api-key-3")
    for want in ("kimi-k2", "deepseek/deepseek-chat-v3.1", "gpt-5-codex",
                 "claude-sonnet-4-20250514", "gemini-2.5-flash"):
        check(want in ids, "%s is not served: %r" % (want, ids))
    check("claude-sonnet-latest" not in ids,
          "a Claude model alias was imported though it is not supported")


def test_needs_no_config_ini_and_starts_no_server():
    status, out, err, d = _import("port: 1\n")
    eq(status, 0, "exit status")
    check("\nport = 1\n" in out, "stdout: %r" % out)
    eq(err, "", "stderr")
    eq(sorted(os.listdir(d)), ["config.yaml"], "files in the directory")


def test_missing_file_exits_1():
    status, out, err, _ = _import(args=["--import-yaml", "no-such.yaml"])
    eq(status, 1, "exit status for a missing file")
    eq(out, "", "stdout")
    check(err.startswith("no-such.yaml: cannot open: "), "stderr: %r" % err)


def test_syntax_error_exits_1_with_its_line():
    status, out, err, _ = _import("port: 8317\napi-keys:\n  - a\n  b: 1\n")
    eq(status, 1, "exit status for a YAML syntax error")
    eq(out, "", "stdout")
    check(err.startswith("config.yaml:4: bad indentation"), "stderr: %r" % err)
    status, out, err, _ = _import("a: 'open\nb: 2\n")
    eq(status, 1, "exit status for an unclosed quote")
    eq(err, "config.yaml:1: quoted value not closed on its line\n", "stderr")


def test_tab_indentation_exits_1_with_its_line():
    status, out, err, _ = _import("remote-management:\n  allow-remote: true\n"
                                  "\tsecret-key: x\n")
    eq(status, 1, "exit status for a tab in the indentation")
    eq(err, "config.yaml:3: tab in the indentation\n", "stderr")


def test_value_that_cannot_be_written_is_left_out_with_its_line():
    status, out, err, _ = _import("debug: true\nproxy-url: \"socks5://h:1 ;x\"\n"
                                  "api-keys:\n  - \"a\\nb\"\n  - ok\n"
                                  "host: ' 127.0.0.1'\n")
    eq(status, 0, "exit status (the INI was printed)")
    check("proxy-url" not in out and "a\nb" not in out, "stdout: %r" % out)
    check("\napi-keys = ok\n" in out and "\nhost = \" 127.0.0.1\"\n" in out,
          "stdout: %r" % out)
    for note in ("config.yaml:2: 'proxy-url' cannot be written in config.ini",
                 "config.yaml:4: 'api-keys' cannot be written in config.ini"):
        check(note in err, "no note %r in %r" % (note, err))
    check("h:1 ;x" not in err, "a value shows in stderr: %r" % err)


def test_empty_file_exits_1():
    for text in ("", "# nothing but a comment\n\n"):
        status, out, err, _ = _import(text)
        eq(status, 1, "exit status for %r" % text)
        eq(err, "config.yaml: no settings (the file is empty or only "
           "comments)\n", "stderr for %r" % text)
        eq(out, "", "stdout for %r" % text)


def test_usage_errors_exit_2():
    status, _, err, _ = _import(args=["--import-yaml"])
    eq(status, 2, "exit status of --import-yaml without a path")
    check("needs a value" in err, "stderr: %r" % err)
    status, _, err, _ = _import("port: 1\n", args=["--import-yaml",
                                                   "config.yaml", "--login"])
    eq(status, 2, "exit status of --import-yaml with a login flag")


def test_help_lists_import_yaml():
    status, out, _, _ = _import(args=["--help"])
    eq(status, 0, "exit status of --help")
    check("--import-yaml PATH" in out, "--help: %r" % out[-600:])
