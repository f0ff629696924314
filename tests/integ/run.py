#!/usr/bin/env python3
"""
run.py - integration tests for cli-proxy-api against the real binary.

    python3 tests/integ/run.py [--bin PATH] [-k SUBSTRING]

Runs every function named test_* in tests/integ/test_*.py (in file order),
prints `ok NAME`, `skip NAME: why` (harness.skip) or `FAIL NAME: reason`
per test and ends with one line `N passed, N failed, N skipped`.  A skipped
test is never counted as passed.  Exit status 0 only when nothing failed.
The binary defaults to build/cli-proxy-api under the repo root, or $CPA_BIN.
"""

import argparse
import importlib
import os
import signal
import sys
import time
import traceback

sys.dont_write_bytecode = True  # keep tests/integ free of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

TEST_TIMEOUT = 30  # seconds; a hung test fails instead of hanging the suite
ORDER = ["test_cli", "test_http", "test_routes", "test_auth", "test_logging",
         "test_limits", "test_signals"]


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout("test still running after %ds" % TEST_TIMEOUT)


def collect():
    names = sorted(f[:-3] for f in os.listdir(HERE)
                   if f.startswith("test_") and f.endswith(".py"))
    names.sort(key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))
    tests = []
    for n in names:
        mod = importlib.import_module(n)
        for attr, fn in vars(mod).items():
            if attr.startswith("test_") and callable(fn):
                tests.append(("%s.%s" % (n[5:], attr[5:]), fn))
    return tests


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", help="server binary (default build/cli-proxy-api or $CPA_BIN)")
    ap.add_argument("-k", dest="pattern", help="run only tests whose name contains this")
    args = ap.parse_args()

    import harness
    if args.bin:
        harness.BINARY = os.path.abspath(args.bin)
    if not os.access(harness.BINARY, os.X_OK):
        print("FAIL setup: server binary %s not found or not executable" % harness.BINARY)
        print("0 passed, 1 failed")
        return 1

    signal.signal(signal.SIGALRM, _alarm)
    passed = failed = skipped = 0
    t0 = time.monotonic()
    for name, fn in collect():
        if args.pattern and args.pattern not in name:
            continue
        harness.begin_test()
        err = skip_why = None
        signal.alarm(TEST_TIMEOUT)
        try:
            fn()
        except harness.Skipped as e:
            skip_why = str(e)
        except harness.TestFailure as e:
            err = str(e)
        except TestTimeout as e:
            err = str(e)
        except Exception as e:
            tb = traceback.extract_tb(e.__traceback__)
            where = next((f for f in reversed(tb) if os.path.basename(f.filename).startswith("test_")),
                         tb[-1] if tb else None)
            err = "%s: %s" % (type(e).__name__, e)
            if where:
                err += " (at %s:%d)" % (os.path.basename(where.filename), where.lineno)
        finally:
            signal.alarm(0)
        try:
            problems, tails = harness.end_test()
        except TestTimeout:
            problems, tails = ["timed out while stopping servers"], []
        if problems:
            err = "; ".join(([err] if err else []) + problems)
        if err is None and skip_why is not None:
            skipped += 1
            print("skip %s: %s" % (name, skip_why), flush=True)
        elif err is None:
            passed += 1
            print("ok %s" % name, flush=True)
        else:
            failed += 1
            print("FAIL %s: %s" % (name, err), flush=True)
            for label, tail in tails:
                print("    --- last stderr lines of %s ---" % label)
                for ln in tail.splitlines():
                    print("    | " + ln)
    sys.stderr.write("(%.1fs)\n" % (time.monotonic() - t0))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
