#!/bin/sh
# Release files, from a built static binary and the git checkout:
#
#   dist/release.sh VERSION BINARY THIRD_PARTY_DIR OUTDIR
#
# OUTDIR/cli-proxy-api-VERSION-linux-ARCH.tar.gz
#     cli-proxy-api-VERSION-linux-ARCH/ with the binary (static, stripped),
#     config.ini.example, README.md, LICENSE, THIRD_PARTY_LICENSES (BearSSL,
#     inih, jsmn: taken from the fetched trees, whose licences ask for their
#     notice to go with binaries) and cli-proxy-api.service.
# OUTDIR/cli-proxy-api-VERSION.tar.gz
#     the source at git HEAD, without openwrt/ (the package that downloads
#     this tarball lives in a feed; its PKG_HASH must not depend on itself).
# OUTDIR/SHA256SUMS
#
# Both tarballs are reproducible: names sorted, owner 0, and every mtime
# the time of the last commit that changed something outside openwrt/, so
# the same tree gives the same bytes (gzip -n: no name, no time).
set -eu

version=$1 bin=$2 tp=$3 out=$4
here=$(cd "$(dirname "$0")/.." && pwd)
arch=$(uname -m)
name=cli-proxy-api-$version
bdir=$name-linux-$arch

die() { echo "release: $*" >&2; exit 1; }

[ -x "$bin" ] || die "$bin: no binary (make static)"
git -C "$here" rev-parse --verify -q HEAD >/dev/null ||
	die "not a git checkout with a commit: the source tarball comes from HEAD"
for f in bearssl/LICENSE.txt inih/LICENSE.txt jsmn/LICENSE; do
	[ -f "$tp/$f" ] || die "$tp/$f missing (make deps)"
done

epoch=$(git -C "$here" log -1 --format=%ct HEAD -- . ':(exclude)openwrt')
pack() { # pack DIR PARENT OUTFILE
	tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
		--format=gnu -C "$2" -cf - "$1" | gzip -n -9 >"$3.tmp"
	mv "$3.tmp" "$3"
}

mkdir -p "$out"
stage=$(mktemp -d "$out/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM

# the binary tarball
d=$stage/$bdir
mkdir -p "$d"
install -m 0755 "$bin" "$d/cli-proxy-api"
install -m 0644 "$here/config.ini.example" "$here/README.md" \
	"$here/dist/cli-proxy-api.service" "$d/"
install -m 0644 "$here/dist/LICENSE" "$d/LICENSE"
{
	echo "cli-proxy-api $version is built with three libraries, each under"
	echo "its own licence, whose notices follow."
	for lib in "BearSSL bearssl/LICENSE.txt" "inih inih/LICENSE.txt" \
		"jsmn jsmn/LICENSE"; do
		set -- $lib
		printf '\n======== %s ========\n\n' "$1"
		cat "$tp/$2"
	done
} >"$d/THIRD_PARTY_LICENSES"
chmod 0644 "$d/THIRD_PARTY_LICENSES"
pack "$bdir" "$stage" "$out/$bdir.tar.gz"

# the source tarball
mkdir "$stage/src"
git -C "$here" archive --format=tar --prefix="$name/" HEAD -- . \
	':(exclude)openwrt' | tar -C "$stage/src" -xf -
pack "$name" "$stage/src" "$out/$name.tar.gz"

(cd "$out" && sha256sum "$bdir.tar.gz" "$name.tar.gz" >SHA256SUMS)
(cd "$out" && cat SHA256SUMS)
