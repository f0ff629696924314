#!/bin/sh
# Make sure a command is available, installing its Debian/Ubuntu package
# with apt-get when it is not (sudo when not root).
#   third_party/apt-ensure.sh COMMAND PACKAGE [PACKAGE...]
set -eu
cmd=$1
shift
command -v "$cmd" >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
	echo "apt-ensure: '$cmd' is missing and this is not a Debian-like system; install: $*" >&2
	exit 1
fi
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
echo "apt-ensure: installing $* (for $cmd)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y --no-install-recommends "$@" >/dev/null; then
	$sudo apt-get update >/dev/null
	$sudo apt-get install -y --no-install-recommends "$@" >/dev/null
fi
command -v "$cmd" >/dev/null 2>&1
