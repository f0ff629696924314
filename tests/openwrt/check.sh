#!/bin/sh
# shellcheck disable=SC2015 # "a && b || fail": fail exits
# tests/openwrt/check.sh - `make openwrt-check`: the OpenWrt package in
# openwrt/cli-proxy-api/ checked on this machine, without an SDK.
#
#   sh tests/openwrt/check.sh WORKDIR
#
# 1. The init script: busybox ash -n (OpenWrt's shell) and shellcheck.
# 2. The init script run by a stand-in rc.common (tests/openwrt/rc.common)
#    for each case in tests/openwrt/init/: the procd calls, chown, chmod,
#    mkdir and logger it makes are compared with the case's "expected".
# 3. The package Makefile read through a stand-in buildroot
#    (tests/openwrt/sdk, stage.mk): the PKG_* values against
#    src/version.h, the Download blocks against third_party/deps.lock,
#    then Build/Prepare on a source tarball of the tracked files and the
#    pinned tarballs.
# 4. Build/Compile as OpenWrt runs it: musl-gcc, OpenWrt's hardening
#    flags (and LTO's, the package asking for it) in the environment, CC,
#    AR, STRIP, CROSS and ARCH on the command line.  No warning; a PIE
#    linked against musl with full RELRO and the stack protector; no
#    download; --version says PKG_VERSION; the shipped config.ini loads.
# 5. Package/install into a staging directory: every path and mode, the
#    conffiles, the licence files.
#
# Everything goes below WORKDIR (emptied first).  Missing tools are
# installed with third_party/apt-ensure.sh: busybox, shellcheck, musl-gcc,
# python3 (it finds a free port).
# Exit status 0 when every check passes; else the first failure is
# described and the status is 1.
set -eu
umask 022

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
pkg=$top/openwrt/cli-proxy-api
init=$pkg/files/cli-proxy-api.init
W=${1:?usage: check.sh WORKDIR}

fail() {
	echo "openwrt-check: FAIL: $*" >&2
	exit 1
}
ok() { echo "  ok    $*"; }
step() { printf '\n== %s\n' "$*"; }

rm -rf "$W"
mkdir -p "$W"
W=$(cd "$W" && pwd)

sh "$top/third_party/apt-ensure.sh" busybox busybox
sh "$top/third_party/apt-ensure.sh" shellcheck shellcheck
sh "$top/third_party/apt-ensure.sh" musl-gcc musl-tools
sh "$top/third_party/apt-ensure.sh" python3 python3

version=$(sed -n 's/^#define CPA_VERSION "\(.*\)"$/\1/p' "$top/src/version.h")
[ -n "$version" ] || fail "no CPA_VERSION in src/version.h"

# ---------------------------------------------------------------------------
step "1. init script: syntax (busybox ash -n) and shellcheck"
busybox ash -n "$init" || fail "busybox ash -n $init"
ok "busybox ash -n files/cli-proxy-api.init"
head -n 1 "$init" | grep -qx '#!/bin/sh /etc/rc.common' ||
	fail "the init script's first line must be #!/bin/sh /etc/rc.common"
grep -qx 'USE_PROCD=1' "$init" || fail "the init script must set USE_PROCD=1"
grep -Eqx 'START=[0-9]{1,2}' "$init" || fail "the init script must set START=NN"
ok "#!/bin/sh /etc/rc.common, USE_PROCD=1, $(grep -Ex 'START=[0-9]+' "$init")"
shellcheck -s dash -e SC2034 "$init" ||
	fail "shellcheck -s dash -e SC2034 $init"
ok "shellcheck -s dash -e SC2034 files/cli-proxy-api.init"
shellcheck -s dash "$here/rc.common" || fail "shellcheck of tests/openwrt/rc.common"
shellcheck -s sh "$here/check.sh" || fail "shellcheck of tests/openwrt/check.sh"
ok "shellcheck of the stand-in rc.common and this script"

# ---------------------------------------------------------------------------
step "2. init script behaviour (tests/openwrt/init/*, stand-in rc.common)"
bad=0
for c in "$here"/init/*/; do
	c=${c%/}
	name=${c##*/}
	root=$W/init/$name/root
	mkdir -p "$root/etc/cli-proxy-api"
	if [ -f "$c/config.ini" ]; then
		cp "$c/config.ini" "$root/etc/cli-proxy-api/config.ini"
	elif [ ! -f "$c/no-config.ini" ]; then
		# the shipped file, with a key of one's own if the case has one
		if [ -f "$c/key" ]; then
			sed "s/^api-keys = replace-with-your-own-key\$/api-keys = $(cat "$c/key")/" \
				"$pkg/files/config.ini" >"$root/etc/cli-proxy-api/config.ini"
			! grep -q replace-with-your-own-key \
				"$root/etc/cli-proxy-api/config.ini" ||
				fail "init/$name: the placeholder line of files/config.ini was not found"
		else
			cp "$pkg/files/config.ini" "$root/etc/cli-proxy-api/config.ini"
		fi
	fi
	[ ! -f "$c/setup" ] || sh "$c/setup" "$root"
	users=$W/init/$name/users
	if [ -f "$c/users" ]; then
		cp "$c/users" "$users"
	else
		printf 'root root\ncli-proxy-api cli-proxy-api\n' >"$users"
	fi
	uci=$pkg/files/cli-proxy-api.config
	[ ! -f "$c/uci" ] || uci=$c/uci
	rec=$W/init/$name/record
	: >"$rec"
	ROOT=$root UCI_FILE=$uci USERS=$users RECORD=$rec \
		busybox ash "$here/rc.common" "$init" >"$W/init/$name/out" 2>&1 ||
		fail "init/$name: the stand-in rc.common failed: $(cat "$W/init/$name/out")"
	[ ! -s "$W/init/$name/out" ] ||
		fail "init/$name: output outside start_service: $(cat "$W/init/$name/out")"
	sed "s|$root||g" "$rec" >"$W/init/$name/actual"
	if diff -u "$c/expected" "$W/init/$name/actual" >"$W/init/$name/diff"; then
		ok "$name: $(cat "$c/note")"
	else
		echo "  FAIL  $name: $(cat "$c/note")"
		sed 's/^/        /' "$W/init/$name/diff"
		bad=1
	fi
done
[ "$bad" = 0 ] || fail "the init script did not do what tests/openwrt/init/*/expected says"

# ---------------------------------------------------------------------------
step "3. package Makefile: values, Download blocks, Build/Prepare"
dl=$W/dl
bd=$W/build_dir
mkdir -p "$dl" "$bd"
# A make of its own: nothing from the make that runs this script (its
# jobserver, its command-line variables) reaches the package build.
stage_make() { # GOAL [VAR=value...]
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		make --no-print-directory -C "$pkg" -f "$here/stage.mk" \
			TOPDIR="$here/sdk" BUILD_DIR="$bd" DL_DIR="$dl" "$@"
}
stage_make info >"$W/info" || fail "the package Makefile does not read (see above)"
val() { sed -n "s/^$1=//p" "$W/info"; }
expect() { # NAME VALUE
	[ "$(val "$1")" = "$2" ] || fail "$1 is '$(val "$1")', expected '$2'"
	ok "$1 = $2"
}
matches() { # NAME ERE WHAT
	val "$1" | grep -Eqx "$2" || fail "$1 '$(val "$1")' is not $3"
	ok "$1 = $(val "$1") ($3)"
}

expect PKG_NAME cli-proxy-api
expect PKG_VERSION "$version"
matches PKG_VERSION '[0-9]+\.[0-9]+\.[0-9]+' "x.y.z, as apk needs; = CPA_VERSION"
matches PKG_RELEASE '[1-9][0-9]*' "a positive integer"
expect PKG_SOURCE "cli-proxy-api-$version.tar.gz"
matches PKG_SOURCE_URL "https://[^ ]+/v$(echo "$version" | sed 's/\./\\./g')" \
	"an https address ending in /v<version>"
matches PKG_HASH '[0-9a-f]{64}' "64 hex digits"
[ "$(val PKG_HASH)" != "$(printf '%064d' 0)" ] ||
	fail "PKG_HASH is still the all-zero placeholder (make openwrt-bump)"
for l in MIT BSD-3-Clause; do
	val PKG_LICENSE | tr ' ' '\n' | grep -qx "$l" ||
		fail "PKG_LICENSE '$(val PKG_LICENSE)' lacks $l"
done
ok "PKG_LICENSE = $(val PKG_LICENSE) (ours, BearSSL's and jsmn's MIT; inih's BSD-3-Clause)"
head -n 1 "$top/dist/LICENSE" | grep -qx 'MIT License' ||
	fail "dist/LICENSE, which PKG_LICENSE says is MIT, does not start with 'MIT License'"
ok "dist/LICENSE is the MIT licence"
expect BUILT_PACKAGES cli-proxy-api
expect SECTION net
expect CATEGORY Network
[ -n "$(val TITLE)" ] || fail "the package has no TITLE"
[ "$(val DESCRIPTION_WORDS)" -gt 5 ] || fail "the package has no description"
ok "TITLE and description set"
val DEPENDS | tr ' ' '\n' | grep -qx '+ca-bundle' ||
	fail "DEPENDS '$(val DEPENDS)' lacks +ca-bundle (the CA bundle at /etc/ssl/certs)"
ok "DEPENDS has +ca-bundle"
uid=$(val USERID | sed -n 's/^cli-proxy-api=\([0-9]*\):cli-proxy-api=\([0-9]*\)$/\1/p')
gid=$(val USERID | sed -n 's/^cli-proxy-api=\([0-9]*\):cli-proxy-api=\([0-9]*\)$/\2/p')
[ -n "$uid" ] && [ -n "$gid" ] ||
	fail "USERID '$(val USERID)' is not cli-proxy-api=UID:cli-proxy-api=GID"
[ "$uid" -ge 1 ] && [ "$uid" -le 65535 ] && [ "$gid" -ge 1 ] && [ "$gid" -le 65535 ] ||
	fail "USERID's ids must be from 1 to 65535"
ok "USERID = $(val USERID)"
! grep -n -- '-static' "$pkg/Makefile" ||
	fail "the package Makefile must not force -static (musl is on the device)"
ok "no -static in the package Makefile"

# Download blocks: the files, addresses and hashes deps.lock pins
[ "$(val DL_IDS)" = "bearssl inih jsmn" ] ||
	fail "Download blocks '$(val DL_IDS)', expected bearssl inih jsmn"
grep -v '^#' "$top/third_party/deps.lock" | while read -r id _ _ pool sum _; do
	[ -n "$id" ] || continue
	file=${pool##*/}
	[ "$(val "DL_${id}_FILE")" = "$file" ] ||
		fail "Download/$id FILE '$(val "DL_${id}_FILE")', deps.lock has $file"
	[ "$(val "DL_${id}_URL")" = "https://deb.debian.org/debian/pool/${pool%/*}" ] ||
		fail "Download/$id URL '$(val "DL_${id}_URL")', expected https://deb.debian.org/debian/pool/${pool%/*}"
	[ "$(val "DL_${id}_HASH")" = "$sum" ] ||
		fail "Download/$id HASH '$(val "DL_${id}_HASH")', deps.lock has $sum"
	ok "Download/$id = deps.lock: $file, its pool address, its sha256"
done

# DL_DIR: the pinned tarballs (fetched by make deps, else fetched here)
# and a source tarball like the release's, of the tracked files as they
# are now.
for id in $(val DL_IDS); do
	file=$(val "DL_${id}_FILE")
	sum=$(val "DL_${id}_HASH")
	src=$top/build/third_party/dl/$file
	if [ ! -f "$src" ] || [ "$(sha256sum <"$src" | cut -d' ' -f1)" != "$sum" ]; then
		env -u BEARSSL_SRC -u INIH_SRC -u JSMN_SRC \
			sh "$top/third_party/fetch.sh" "$id" "$W/third_party" ||
			fail "cannot fetch $id"
		src=$W/third_party/dl/$file
	fi
	cp "$src" "$dl/$file"
	[ "$(sha256sum <"$dl/$file" | cut -d' ' -f1)" = "$sum" ] ||
		fail "$file does not have the Download block's sha256"
done
ok "DL_DIR: the three pinned tarballs, sha256 as in their Download blocks"
name=cli-proxy-api-$version
if git -C "$top" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	(cd "$top" && git ls-files -- . ':(exclude)openwrt') >"$W/files"
else # an unpacked source tarball
	(cd "$top" && find . \( -path ./build -o -path ./openwrt \) -prune -o \
		-type f -print | sed 's,^\./,,' | LC_ALL=C sort) >"$W/files"
fi
[ -s "$W/files" ] || fail "no source files found"
tar -C "$top" --transform "s,^,$name/," -czf "$dl/$name.tar.gz" -T "$W/files" ||
	fail "cannot make the source tarball"
ok "DL_DIR/$name.tar.gz: the $(wc -l <"$W/files") source files but openwrt/, in $name/"

stage_make prepare >"$W/prepare.log" 2>&1 ||
	fail "Build/Prepare: $(tail -n 20 "$W/prepare.log")"
B=$(val PKG_BUILD_DIR)
for f in Makefile src/version.h deps-src/bearssl/inc/bearssl.h \
	deps-src/bearssl/src/ssl/ssl_engine.c deps-src/inih/ini.c \
	deps-src/jsmn/jsmn.h $(val PKG_LICENSE_FILES); do
	[ -f "$B/$f" ] || fail "after Build/Prepare, PKG_BUILD_DIR has no $f"
done
[ ! -e "$B/openwrt" ] || fail "the source tarball must not hold openwrt/"
ok "Build/Prepare: the source in PKG_BUILD_DIR, the three trees in deps-src/, every PKG_LICENSE_FILES file"

# PKG_HASH against a release source tarball of HEAD, made the way
# dist/release.sh makes it.  Every commit outside openwrt/ changes that
# tarball, so a difference is reported, not failed: `make openwrt-bump`
# sets PKG_HASH for a release.
if git -C "$top" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	epoch=$(git -C "$top" log -1 --format=%ct HEAD -- . ':(exclude)openwrt')
	mkdir -p "$W/release"
	git -C "$top" archive --format=tar --prefix="$name/" HEAD -- . \
		':(exclude)openwrt' | tar -C "$W/release" -xf -
	head_sum=$(tar --sort=name --mtime="@$epoch" --owner=0 --group=0 \
		--numeric-owner --format=gnu -C "$W/release" -cf - "$name" |
		gzip -n -9 | sha256sum | cut -d' ' -f1)
	if [ "$head_sum" = "$(val PKG_HASH)" ]; then
		ok "PKG_HASH is the sha256 of HEAD's release source tarball"
	else
		echo "  note  PKG_HASH is not HEAD's release source tarball ($head_sum):"
		echo "        run make openwrt-bump before a release"
	fi
fi

# ---------------------------------------------------------------------------
step "4. Build/Compile the OpenWrt way (musl-gcc, OpenWrt's flags)"
# A proxy that does not exist: the build must not download anything.
log=$W/compile.log
if ! http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
	stage_make compile V=1 JOBS="$(nproc 2>/dev/null || echo 2)" >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	fail "Build/Compile failed (log: $log)"
fi
ok "built (log: $log)"
if grep -n -i 'warning' "$log"; then
	fail "the OpenWrt build warns (above; log: $log)"
fi
ok "no warning"
for id in bearssl inih jsmn; do
	u=$(echo "$id" | tr '[:lower:]' '[:upper:]')
	grep -qx "third_party: $id from ${u}_SRC" "$log" ||
		fail "$id did not come from ${u}_SRC (MAKE_VARS)"
	[ "$(readlink "$B/build/third_party/$id")" = "$B/deps-src/$id" ] ||
		fail "build/third_party/$id is not the tree Build/Prepare unpacked"
done
ok "BearSSL, inih and jsmn from the unpacked Download tarballs (MAKE_VARS)"
cc_lines=$(grep -c '^musl-gcc .* -c -o ' "$log") || true
[ "$cc_lines" -gt 100 ] || fail "found $cc_lines musl-gcc compile lines in the log"
lto=
! val PKG_BUILD_FLAGS | tr ' ' '\n' | grep -qx lto || lto=-flto=auto
for f in -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fpic $lto; do
	[ "$(grep '^musl-gcc .* -c -o ' "$log" | grep -c -e " $f ")" = "$cc_lines" ] ||
		fail "not every compile line has $f (OpenWrt's CFLAGS)"
done
ok "all $cc_lines compile lines have OpenWrt's CFLAGS${lto:+, LTO included}"
grep '^musl-gcc .* -o build/cli-proxy-api ' "$log" |
	grep -e ' -pie ' | grep -e ' -Wl,-z,relro ' | grep -q -e " ${lto:--pie} " ||
	fail "the link line lacks OpenWrt's LDFLAGS"
grep -q '^gcc-ar rcs build/libbearssl.a ' "$log" ||
	fail "libbearssl.a was not made with AR (gcc-ar)"
ok "link line with OpenWrt's LDFLAGS; archive made by AR=gcc-ar"

bin=$B/build/cli-proxy-api
[ -x "$bin" ] || fail "no $bin"
readelf -h "$bin" | grep -Eq 'Type:[[:space:]]+DYN' ||
	fail "not a PIE: $(readelf -h "$bin" | grep Type:)"
interp=$(readelf -l "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
[ "$interp" = /lib/ld-musl-x86_64.so.1 ] ||
	fail "program interpreter '$interp', expected /lib/ld-musl-x86_64.so.1"
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
needed=${needed% }
[ "$needed" = libc.so ] || fail "needs '$needed', expected musl's libc.so only"
readelf -d "$bin" | grep -q 'BIND_NOW' || fail "no BIND_NOW (-z now)"
readelf -l "$bin" | grep -q 'GNU_RELRO' || fail "no GNU_RELRO segment (-z relro)"
readelf --dyn-syms "$bin" | grep -q '__stack_chk_fail' ||
	fail "no __stack_chk_fail: the stack protector is not in"
ok "dynamic PIE, interpreter $interp, needs $needed, full RELRO, stack protector"
out=$("$bin" --version) || fail "$bin --version failed"
[ "$out" = "cli-proxy-api $version" ] ||
	fail "--version says '$out', expected 'cli-proxy-api $version' (PKG_VERSION)"
ok "--version: $out"
strip -o "$W/cli-proxy-api.stripped" "$bin"
ok "size: $(wc -c <"$bin" | tr -d ' ') bytes, stripped $(wc -c <"$W/cli-proxy-api.stripped" | tr -d ' ') bytes"

# The shipped config.ini, auth-dir moved here, with the init script's
# --log-plain and an unused port on loopback through --host and --port.
run=$W/run
mkdir -p "$run/auth"
sed "s|^auth-dir = .*|auth-dir = $run/auth|" "$pkg/files/config.ini" >"$run/config.ini"
grep -qx "auth-dir = $run/auth" "$run/config.ini" ||
	fail "files/config.ini has no 'auth-dir = ' line"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" --config "$run/config.ini" --log-plain --host 127.0.0.1 --port "$port" \
	>"$run/log" 2>&1 &
pid=$!
i=0
while ! grep -q "^info: cli-proxy-api listening on 127.0.0.1:$port " "$run/log"; do
	i=$((i + 1))
	if [ "$i" -gt 50 ] || ! kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		fail "the shipped config.ini did not start the program: $(cat "$run/log")"
	fi
	sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || fail "the program did not stop cleanly on SIGTERM: $(cat "$run/log")"
! grep -v '^[a-z]*: ' "$run/log" || fail "--log-plain lines must be 'level: message'"
ok "files/config.ini loads: $(head -n 1 "$run/log")"

# ---------------------------------------------------------------------------
step "5. Package/install: paths, modes, conffiles, licences"
S=$W/stage
mkdir -p "$S"
stage_make install STAGE="$S" >"$W/install.log" 2>&1 ||
	fail "Package/install: $(tail -n 20 "$W/install.log")"
(cd "$S" && find . -mindepth 1 -printf '%P %y %m\n' | LC_ALL=C sort) >"$W/installed"
diff -u "$here/install.expected" "$W/installed" ||
	fail "the staged files differ from tests/openwrt/install.expected (above: - expected, + staged)"
ok "every path and mode as tests/openwrt/install.expected says ($(wc -l <"$W/installed") entries)"
same() { # STAGED SOURCE
	cmp -s "$S/$1" "$2" || fail "/$1 is not ${2#"$top"/}"
}
same usr/bin/cli-proxy-api "$bin"
same etc/init.d/cli-proxy-api "$init"
same etc/config/cli-proxy-api "$pkg/files/cli-proxy-api.config"
same etc/cli-proxy-api/config.ini "$pkg/files/config.ini"
same usr/share/licenses/cli-proxy-api/LICENSE "$top/dist/LICENSE"
ok "binary, init script, UCI file, config.ini and our LICENSE are the right files"
lic=$S/usr/share/licenses/cli-proxy-api
grep -q 'Thomas Pornin' "$lic/LICENSE.BearSSL" &&
	grep -q 'Permission is hereby granted' "$lic/LICENSE.BearSSL" ||
	fail "LICENSE.BearSSL is not BearSSL's MIT licence"
grep -q 'Redistribution and use in source and binary forms' "$lic/LICENSE.inih" &&
	grep -q 'Ben Hoyt' "$lic/LICENSE.inih" ||
	fail "LICENSE.inih is not inih's BSD licence"
grep -q 'Permission is hereby granted' "$lic/LICENSE.jsmn" &&
	grep -q 'Serge' "$lic/LICENSE.jsmn" ||
	fail "LICENSE.jsmn is not jsmn's MIT licence"
ok "BearSSL's, inih's and jsmn's notices from their trees"

sed -n '/^conffiles:$/,/^end$/p' "$W/info" | sed '1d;$d' | sed '/^$/d' >"$W/conffiles"
printf '/etc/config/cli-proxy-api\n/etc/cli-proxy-api/\n' | diff -u - "$W/conffiles" ||
	fail "conffiles differ (above: - expected, + the package's)"
while read -r f; do
	case $f in
	*/) [ -d "$S$f" ] || fail "conffile $f: no such directory in the package" ;;
	*) [ -f "$S$f" ] || fail "conffile $f: no such file in the package" ;;
	esac
done <"$W/conffiles"
(cd "$S" && find etc -type f ! -path 'etc/init.d/*') | while read -r f; do
	grep -q -e "^/$f\$" -e "^/$(dirname "$f")/\$" "$W/conffiles" ||
		fail "/$f is not kept across upgrades (not in conffiles)"
done
ok "conffiles: /etc/config/cli-proxy-api and /etc/cli-proxy-api/, unindented, present, covering every file in /etc but the init script"

printf '\nopenwrt-check: all passed\n'
