#!/bin/sh
# Point the OpenWrt package at a release: PKG_VERSION and PKG_HASH from the
# source tarball make release wrote, PKG_RELEASE back to 1 when the version
# changes (the packages feed's rule).
#
#   dist/openwrt-bump.sh VERSION SOURCE_TARBALL PACKAGE_MAKEFILE
set -eu

version=$1 tarball=$2 mk=$3
[ -f "$tarball" ] || { echo "openwrt-bump: $tarball missing (make release)" >&2; exit 1; }
hash=$(sha256sum "$tarball" | cut -d' ' -f1)
old=$(sed -n 's/^PKG_VERSION:=//p' "$mk")
tmp=$mk.tmp
sed -e "s/^PKG_VERSION:=.*/PKG_VERSION:=$version/" \
	-e "s/^PKG_HASH:=.*/PKG_HASH:=$hash/" "$mk" >"$tmp"
[ "$old" = "$version" ] || sed -i 's/^PKG_RELEASE:=.*/PKG_RELEASE:=1/' "$tmp"
mv "$tmp" "$mk"
echo "openwrt-bump: $mk: PKG_VERSION $version, PKG_HASH $hash"
