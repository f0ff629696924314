#!/bin/sh
# Checks make release's files (run by make release-check):
#
#   tests/release/check.sh VERSION RELEASE_DIR
#
#  1. SHA256SUMS verifies and names both tarballs.
#  2. The binary tarball holds exactly the promised files, with their modes;
#     the binary is static (no program interpreter, no dynamic section),
#     stripped, and prints "cli-proxy-api VERSION".
#  3. The source tarball has no openwrt/ and builds nothing by itself here
#     (its Makefile and sources are those of HEAD).
#  4. Packing again gives the same bytes (reproducible).
#  5. dist/cli-proxy-api.service passes systemd-analyze verify (where
#     systemd-analyze exists) and has the settings the README promises.
#  6. dist/Dockerfile: its final stage run as a root filesystem in a chroot
#     (tests/release/docker_layout.py).
set -eu

version=$1 rel=$2
here=$(cd "$(dirname "$0")/../.." && pwd)
py=${PYTHON:-python3}
arch=$(uname -m)
bname=cli-proxy-api-$version-linux-$arch
sname=cli-proxy-api-$version
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# 1
if (cd "$rel" && sha256sum -c --quiet SHA256SUMS) &&
	[ "$(awk '{print $2}' "$rel/SHA256SUMS" | sort | tr '\n' ' ')" = \
		"$bname.tar.gz $sname.tar.gz " ]; then
	ok "SHA256SUMS verifies both tarballs"
else
	bad "SHA256SUMS does not verify or does not list both tarballs"
fi

# 2
tar -tvzf "$rel/$bname.tar.gz" | awk '{print $1, $2, $6}' | sort -k3 \
	>"$tmp/list"
cat >"$tmp/want" <<EOT
drwxr-xr-x 0/0 $bname/
-rw-r--r-- 0/0 $bname/LICENSE
-rw-r--r-- 0/0 $bname/README.md
-rw-r--r-- 0/0 $bname/THIRD_PARTY_LICENSES
-rwxr-xr-x 0/0 $bname/cli-proxy-api
-rw-r--r-- 0/0 $bname/cli-proxy-api.service
-rw-r--r-- 0/0 $bname/config.ini.example
EOT
sort -k3 "$tmp/want" -o "$tmp/want"
if cmp -s "$tmp/list" "$tmp/want"; then
	ok "binary tarball: files, modes, owner 0"
else
	bad "binary tarball contents differ:"; diff "$tmp/want" "$tmp/list" || :
fi
tar -xzf "$rel/$bname.tar.gz" -C "$tmp"
b=$tmp/$bname/cli-proxy-api
if readelf -lW "$b" | grep -q 'INTERP\|Requesting program interpreter' ||
	readelf -dW "$b" | grep -q NEEDED; then
	bad "the binary is not static"
else
	ok "the binary is static"
fi
if readelf -SW "$b" | grep -q '\.symtab\|\.debug_'; then
	bad "the binary is not stripped"
else
	ok "the binary is stripped ($(wc -c <"$b") bytes)"
fi
v=$("$b" --version 2>&1 || :)
if [ "$v" = "cli-proxy-api $version" ]; then
	ok "--version: $v"
else
	bad "--version printed '$v'"
fi
for f in BearSSL inih jsmn; do
	grep -q "======== $f ========" "$tmp/$bname/THIRD_PARTY_LICENSES" ||
		bad "THIRD_PARTY_LICENSES lacks $f"
done
grep -q 'Thomas Pornin' "$tmp/$bname/THIRD_PARTY_LICENSES" &&
	grep -q 'Ben Hoyt' "$tmp/$bname/THIRD_PARTY_LICENSES" &&
	grep -q 'Serge A. Zaitsev' "$tmp/$bname/THIRD_PARTY_LICENSES" &&
	ok "THIRD_PARTY_LICENSES carries the three notices" ||
	bad "THIRD_PARTY_LICENSES lacks a copyright notice"

# 3
tar -tzf "$rel/$sname.tar.gz" >"$tmp/src"
if grep -q "^$sname/openwrt" "$tmp/src"; then
	bad "source tarball contains openwrt/"
elif ! grep -qx "$sname/Makefile" "$tmp/src" ||
	! grep -qx "$sname/src/main.c" "$tmp/src" ||
	grep -v "^$sname/" "$tmp/src" | grep -q .; then
	bad "source tarball: not one $sname/ tree with Makefile and src/"
else
	ok "source tarball: $(wc -l <"$tmp/src") entries under $sname/, no openwrt/"
fi
git -C "$here" archive --format=tar HEAD -- src/main.c | tar -xOf - >"$tmp/head.c"
tar -xzOf "$rel/$sname.tar.gz" "$sname/src/main.c" | cmp -s - "$tmp/head.c" &&
	ok "source tarball is HEAD" || bad "source tarball's src/main.c is not HEAD's"

# 4
sh "$here/dist/release.sh" "$version" "$b" "$here/build/third_party" \
	"$tmp/again" >/dev/null
if cmp -s "$tmp/again/SHA256SUMS" "$rel/SHA256SUMS"; then
	ok "packing again gives the same bytes"
else
	bad "not reproducible:"; diff "$rel/SHA256SUMS" "$tmp/again/SHA256SUMS" || :
fi

# 4b  the OpenWrt package points at this release
pmk=$here/openwrt/cli-proxy-api/Makefile
if [ -f "$pmk" ]; then
	pv=$(sed -n 's/^PKG_VERSION:=//p' "$pmk")
	ph=$(sed -n 's/^PKG_HASH:=//p' "$pmk")
	[ "$pv" = "$version" ] && ok "openwrt package: PKG_VERSION $pv" ||
		bad "openwrt package: PKG_VERSION $pv, the program says $version"
	sh=$(awk -v f="$sname.tar.gz" '$2 == f {print $1}' "$rel/SHA256SUMS")
	if [ "$ph" = "$sh" ]; then
		ok "openwrt package: PKG_HASH is this tree's source tarball"
	else
		# Only a release commit must match: the next commit outside
		# openwrt/ changes the tarball until make openwrt-bump.
		echo "note openwrt package: PKG_HASH is not this tree's source" \
			"tarball (make openwrt-bump when releasing)"
	fi
fi

# 5
unit=$here/dist/cli-proxy-api.service
for kv in DynamicUser=yes StateDirectory=cli-proxy-api ProtectSystem=strict \
	NoNewPrivileges=yes 'ExecReload=/bin/kill -HUP $MAINPID' \
	CapabilityBoundingSet= AmbientCapabilities=; do
	grep -qxF "$kv" "$unit" || bad "the unit lacks '$kv'"
done
grep -q '^ExecStart=/usr/local/bin/cli-proxy-api --config ' "$unit" ||
	bad "the unit's ExecStart is not the installed binary with --config"
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify wants ExecStart's program to exist: point it at this one
	sed "s#/usr/local/bin/cli-proxy-api#$b#g" "$unit" >"$tmp/cli-proxy-api.service"
	if systemd-analyze verify "$tmp/cli-proxy-api.service" >"$tmp/sa" 2>&1 &&
		! grep -q . "$tmp/sa"; then
		ok "systemd-analyze verify: clean"
	else
		bad "systemd-analyze verify:"; cat "$tmp/sa"
	fi
	printf '[Service]\nExecStart=%s\nDynamicUser=maybe\n' "$b" \
		>"$tmp/broken.service"
	if systemd-analyze verify "$tmp/broken.service" >/dev/null 2>&1 &&
		! systemd-analyze verify "$tmp/broken.service" 2>&1 | grep -q .; then
		bad "systemd-analyze verify passes a broken unit: the check means nothing"
	fi
else
	echo "skip systemd-analyze verify: no systemd-analyze here"
fi

# 6
if "$py" "$here/tests/release/docker_layout.py" "$here/dist/Dockerfile" "$b"; then
	ok "Dockerfile's image layout runs"
else
	bad "Dockerfile's image layout"
fi

if [ "$fails" -ne 0 ]; then
	echo "release-check: $fails failed"
	exit 1
fi
echo "release-check: all passed"
