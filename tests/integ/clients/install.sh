#!/bin/sh
# install.sh - make the pinned real CLI clients (package-lock.json:
# @anthropic-ai/claude-code, @google/gemini-cli, @openai/codex) usable: installs node/npm from
# Debian when missing, then `npm ci` when any of them is missing from
# node_modules, is not the version package.json pins, or Claude Code's
# postinstall has not put its native binary in place.  Prints nothing on
# success; on failure prints npm's output and exits non-zero.
set -eu
cd "$(dirname "$0")"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
        echo "install.sh: need root (or sudo) to run: $*" >&2; return 1; fi
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install.sh: node/npm missing and no apt-get to install them" >&2
        exit 1
    fi
    if ! { as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "install.sh: installing nodejs npm failed" >&2
        exit 1
    fi
fi

# Each pinned package must be installed at exactly the pinned version, and
# claude-code's bin/claude.exe must be the native binary its postinstall
# copies over the small placeholder shipped in the package.
need_ci=$(node -e '
const fs = require("fs");
const deps = JSON.parse(fs.readFileSync("package.json", "utf8")).dependencies || {};
for (const [name, want] of Object.entries(deps)) {
  let got = null;
  try { got = JSON.parse(fs.readFileSync("node_modules/" + name + "/package.json", "utf8")).version; } catch (e) {}
  if (got !== want) { console.log("yes"); process.exit(0); }
}
let size = 0;
try { size = fs.statSync("node_modules/@anthropic-ai/claude-code/bin/claude.exe").size; } catch (e) {}
console.log(size > 1000000 ? "no" : "yes");
' 2>/dev/null || echo yes)

if [ "$need_ci" != no ]; then
    if ! npm ci --no-audit --no-fund >"$log" 2>&1; then
        cat "$log" >&2
        echo "install.sh: npm ci failed" >&2
        exit 1
    fi
fi
