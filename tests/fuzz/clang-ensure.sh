#!/bin/sh
# Make sure clang can build and link with the given sanitizers, installing
# clang and then its runtime package (Debian: libclang-rt-<major>-dev,
# which holds libFuzzer and the ASan/UBSan runtimes) when it cannot.
#   tests/fuzz/clang-ensure.sh CC SANITIZERS     e.g. clang fuzzer,address
set -eu
cc=$1
san=$2
here=$(dirname "$0")
sh "$here/../../third_party/apt-ensure.sh" "$cc" clang

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case ",$san," in
*,fuzzer,*)
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
		'{ (void)d; (void)n; return 0; }' >"$tmp/t.c" ;;
*)
	printf '%s\n' 'int main(void) { return 0; }' >"$tmp/t.c" ;;
esac
links() { "$cc" -fsanitize="$san" -o "$tmp/t" "$tmp/t.c" >/dev/null 2>&1; }
links && exit 0

major=$("$cc" --version | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -n 1)
if [ -z "$major" ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "clang-ensure: '$cc -fsanitize=$san' does not link; install clang's sanitizer runtime" >&2
	exit 1
fi
pkg=libclang-rt-$major-dev
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
echo "clang-ensure: installing $pkg (for -fsanitize=$san)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y --no-install-recommends "$pkg" >/dev/null; then
	$sudo apt-get update >/dev/null
	$sudo apt-get install -y --no-install-recommends "$pkg" >/dev/null
fi
links || { echo "clang-ensure: '$cc -fsanitize=$san' still does not link" >&2; exit 1; }
