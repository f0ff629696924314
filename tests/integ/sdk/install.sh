#!/bin/sh
# install.sh - make the pinned OpenAI Node.js SDK (package-lock.json) usable:
# installs node/npm from Debian when missing, then `npm ci` when
# node_modules/openai is missing.  Prints nothing on success; on failure prints
# npm's output and exits non-zero.
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

if [ ! -f node_modules/openai/package.json ]; then
    if ! npm ci --no-audit --no-fund >"$log" 2>&1; then
        cat "$log" >&2
        echo "install.sh: npm ci failed" >&2
        exit 1
    fi
fi
