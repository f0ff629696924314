"""Command line and config file handling."""

import os
import re
import signal
import socket

from harness import HOST, check, eq, free_port, run_cli, start_server, new_tmpdir, Server


def _base(port=None):
    return "host = %s\nport = %d\nauth-dir = %s\n" % (HOST, port or free_port(), new_tmpdir())


def test_help_exits_0_and_mentions_config():
    status, out, err, _ = run_cli(["--help"])
    eq(status, 0, "exit status of --help")
    check("--config" in out + err, "--help output does not mention --config: %r" % (out + err)[:300])


def test_version_exits_0_and_prints_a_version():
    status, out, err, _ = run_cli(["--version"])
    eq(status, 0, "exit status of --version")
    check(re.search(r"\d+\.\d+", out + err), "--version prints no version: %r" % (out + err)[:300])


def test_help_lists_every_login():
    status, out, err, _ = run_cli(["--help"])
    eq(status, 0, "exit status of --help")
    for flag in ("--login", "--antigravity-login", "--codex-login", "--codex-device-login",
                 "--claude-login", "--qwen-login", "--no-browser", "--project_id"):
        check(flag in out, "--help does not list %s: %r" % (flag, out[-900:]))
    check("not available" not in out, "--help still says logins are not available")


def test_login_options_without_a_login_flag_are_an_error():
    # --no-browser or --project_id alone used to start an open server
    for args in (["--no-browser"], ["--project_id", "p-1"], ["--project_id=p-1"],
                 ["-no-browser"]):
        status, out, err, _ = run_cli(args, timeout=5)
        eq(status, 2, "exit status of %r" % args)
        check("login" in err, "%r: the error does not name the login flags: %r" % (args, err))


def test_unknown_flag_exits_2():
    status, out, err, _ = run_cli(["--no-such-flag"])
    eq(status, 2, "exit status for an unknown flag")


def test_missing_config_file_exits_2_naming_the_path():
    path = "/nonexistent/cpa-integ/config.ini"
    status, out, err, _ = run_cli(["--config", path])
    eq(status, 2, "exit status for a config file that does not exist")
    check(path in out + err, "output does not name %s: %r" % (path, (out + err)[:300]))


def _config_error(lines_after_base, bad_line_offset, what):
    """Write base keys + lines; the bad line is lines_after_base[bad_line_offset]."""
    base = "; comment line\n# another comment\n" + _base()
    text = base + "".join(l + "\n" for l in lines_after_base)
    line_no = base.count("\n") + 1 + bad_line_offset
    status, out, err, path = run_cli(["--config", "{config}"], config_text=text, timeout=5)
    eq(status, 2, "exit status for %s" % what)
    where = "%s:%d:" % (path, line_no)
    check(where in err, "%s: stderr lacks %r: %r" % (what, where, err[:400]))


def test_config_unknown_key():
    _config_error(["debug = false", "no-such-key = 1"], 1, "an unknown key")


def test_config_unknown_section():
    _config_error(["", "[no-such-section]", "x = 1"], 1, "an unknown section")


def test_config_unknown_key_in_a_section():
    _config_error(["[claude-api-key]", "api-key = k", "bogus = 2"], 2, "an unknown key in [claude-api-key]")


def test_config_bad_values():
    cases = [("port = eighty", "a non-numeric port"),
             ("debug = maybe", "a bad bool"),
             ("max-body-size = 12q", "a bad size suffix"),
             ("header-timeout = 5x", "a bad duration suffix"),
             ("max-connections = lots", "a non-numeric max-connections"),
             ("idle-timeout = -1s", "a negative duration")]
    for line, what in cases:
        # port given here would duplicate the base one; give port its own file
        if line.startswith("port"):
            text = "host = %s\n%s\n" % (HOST, line)
            status, out, err, path = run_cli(["--config", "{config}"], config_text=text, timeout=5)
            eq(status, 2, "exit status for " + what)
            check("%s:2:" % path in err, "%s: stderr lacks %s:2: %r" % (what, path, err[:300]))
        else:
            _config_error(["; a comment", line], 1, what)


def test_config_accepts_the_documented_keys():
    port = free_port()
    text = _base(port) + """
; every key of the spec, with values in each accepted spelling
debug = yes
request-log = off
proxy-url = http://127.0.0.1:9
request-retry = 3
force-gpt-5-codex = 0
allow-localhost-unauthenticated = no
api-keys = k1
api-keys = k2
generative-language-api-key = g1
generative-language-api-key = g2
max-body-size = 2m
max-body-total = 1g
max-connections = 100
header-timeout = 10
body-timeout = 30s
idle-timeout = 1m
write-timeout = 1h
shutdown-timeout = 2000ms
model-list-refresh = 6h
# hash comment

[remote-management]
allow-remote = false
secret-key = s

[quota-exceeded]
switch-project = true
switch-preview-model = on

[claude-api-key]
api-key = c1
base-url = http://127.0.0.1:9

[claude-api-key]
api-key = c2

[codex-api-key]
api-key = x1
base-url = http://127.0.0.1:9

[openai-compatibility]
name = p
base-url = http://127.0.0.1:9
api-keys = a
model = up = al
model = up2

[endpoints]
claude = http://127.0.0.1:9
"""
    srv = Server(label="server")
    srv.write_config(text=text)
    srv.port = port
    srv.start()
    eq(srv.get("/").status, 200, "GET / with the full config")


def test_bool_spellings_are_accepted():
    for v in ("true", "false", "yes", "no", "on", "off", "1", "0"):
        srv = start_server(debug=v)
        eq(srv.get("/").status, 200, "server with debug = %s" % v)
        srv.stop()


def test_port_in_use_exits_1():
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        blocker.bind((HOST, 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        status, out, err, _ = run_cli(["--config", "{config}"], config_text=_base(port), timeout=5)
        eq(status, 1, "exit status when the port is in use")
    finally:
        blocker.close()


def test_host_is_an_address_or_localhost():
    """host binds an IP literal or localhost (127.0.0.1; the IPv6 literals
    are unit-tested: the harness dials 127.0.0.1); a name is a clear
    error, not a lookup at start-up."""
    for host in ("localhost", "127.0.0.1"):
        srv = start_server(host=host)
        r = srv.get("/")
        eq(r.status, 200, "server with host = %s" % host)
        srv.stop()
    text = "host = router.example\nport = %d\nauth-dir = %s\n" % (free_port(), new_tmpdir())
    status, out, err, _ = run_cli(["--config", "{config}"], config_text=text, timeout=5)
    eq(status, 1, "exit status for a host name")
    check("not an IP address" in err, "no clear error: %r" % err[-400:])


def test_version_prints_the_package_version():
    # OpenWrt's package CI runs --version and looks for PKG_VERSION in it
    with open(os.path.join(os.path.dirname(__file__), "../../src/version.h")) as f:
        want = re.search(r'#define CPA_VERSION "([^"]+)"', f.read()).group(1)
    status, out, err, _ = run_cli(["--version"])
    eq(status, 0, "exit status of --version")
    eq(out, "cli-proxy-api %s\n" % want, "--version output")


def test_port_and_host_flags_override_the_config_and_survive_a_reload():
    srv = Server()
    cfg_port = srv.port
    srv.port = free_port()  # where the flag sends it
    srv.args = ["--port", str(srv.port), "--host=" + HOST]
    srv.settings["host"] = "::1"  # the flag must win over this
    srv.write_config()
    srv.start()
    try:
        eq(srv.get("/v1/models").status, 200, "GET /v1/models on the --port port")
        try:
            socket.create_connection((HOST, cfg_port), timeout=0.5).close()
            raise AssertionError("the config's port %d is listening too" % cfg_port)
        except OSError:
            pass
        srv.write_config(settings={"request-retry": 2})
        srv.signal(signal.SIGHUP)
        srv.wait_stderr("config reloaded")
        check("take effect after a restart" not in srv.stderr_text(),
              "a reload with the same overrides warns of a port/host change: %r"
              % srv.stderr_text()[-400:])
        eq(srv.get("/v1/models").status, 200, "GET /v1/models after SIGHUP")
    finally:
        srv.stop()


def test_bad_port_flag_exits_2():
    for args in (["--port", "0"], ["--port", "65536"], ["--port=80x"], ["--port", ""],
                 ["--port"], ["--host"]):
        status, out, err, _ = run_cli(args, timeout=5)
        eq(status, 2, "exit status of %r" % args)
        check("port" in err or "needs a value" in err, "%r: unclear error %r" % (args, err))


def test_log_plain_drops_the_timestamp():
    srv = Server()
    srv.args = ["--log-plain"]
    srv.start()
    try:
        srv.get("/v1/models")
    finally:
        srv.stop()
    lines = [l for l in srv.stderr_text().splitlines() if l]
    check(lines, "no log lines")
    for l in lines:
        check(re.match(r"(error|warn|info|debug): \S", l), "not a plain log line: %r" % l)
