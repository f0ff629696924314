#!/bin/sh
# Tests for third_party/fetch.sh, against small Debian-style archives served
# by python3 -m http.server on 127.0.0.1.
#
# fetch.sh runs on a copy with its own deps.lock (a made-up package "libdemo")
# and, through APT_CONFIG, a private apt configuration per case, so the
# machine's /etc/apt plays no part.  The whole test runs in a private network
# namespace (unshare -n, or -rn when not root) where only loopback exists;
# where that cannot be made it says so and relies on the private
# configuration, which names only 127.0.0.1.
#
# The archives (one server, one directory each):
#   good/      libdemo 1.0 (pinned) in pool/main; a Sources index that lists
#              only 1.1-1, whose files are in the pool too
#   ubuntu/    libdemo 1.0 in pool/universe, no index
#   tampered/  a different libdemo_1.0.orig.tar.gz in pool/main, no index
#   moved/     libdemo 1.0 only under another pool directory, found through
#              its Sources index
#   badhash/   like good/, but the 1.1 tarball differs from its index entry
#   empty/     nothing
#
#   sh tests/third_party/test_fetch.sh      (KEEP=1 keeps its work directory)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PYTHON=${PYTHON:-python3}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ftp_proxy all_proxy \
	ALL_PROXY no_proxy NO_PROXY

# ---- only loopback -------------------------------------------------------------
if [ -z "${FETCH_TEST_NETNS:-}" ]; then
	u=-rn
	[ "$(id -u)" = 0 ] && u=-n
	if command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 &&
		unshare $u true 2>/dev/null; then
		FETCH_TEST_NETNS=1 exec unshare $u sh -c \
			'ip link set lo up && exec sh "$0"' "$0"
	fi
	echo "test_fetch: no private network namespace here (unshare);" \
		"relying on the private apt configuration (127.0.0.1 only)"
	FETCH_TEST_NETNS=0
elif [ "$FETCH_TEST_NETNS" = 1 ]; then
	echo "test_fetch: in a private network namespace (loopback only)"
fi

w=$(mktemp -d "${TMPDIR:-/tmp}/test_fetch.XXXXXX")
srv=
cleanup() {
	[ -z "$srv" ] || kill "$srv" 2>/dev/null || true
	if [ -n "${KEEP:-}" ]; then echo "kept $w"; else rm -rf "$w"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check() { # description command...
	d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
has() { grep -qF -- "$2" "$1"; }
hasnt() { ! grep -qF -- "$2" "$1"; }

sha() { sha256sum "$1" | cut -d' ' -f1; }
md5() { md5sum "$1" | cut -d' ' -f1; }
size() { echo $(($(wc -c <"$1"))); }

# ---- fixtures -----------------------------------------------------------------
# mk_tar FILE TOPDIR CONTENT: a tarball with TOPDIR/VERSION holding CONTENT.
mk_tar() {
	rm -rf "$w/t"
	mkdir -p "$w/t/$2" "${1%/*}"
	echo "$3" >"$w/t/$2/VERSION"
	(cd "$w/t" && tar -czf "$1" "$2")
}

# mk_src ARCHIVE VERSION UPSTREAM POOLDIR: a source package libdemo VERSION
# (tarball from UPSTREAM, made unless already there) in ARCHIVE/POOLDIR,
# added to its Sources index.
mk_src() {
	a=$w/www/$1 v=$2 up=$3 dir=$4
	mkdir -p "$a/$dir" "$a/dists/stable/main/source"
	[ -f "$a/$dir/libdemo_$up.orig.tar.gz" ] ||
		mk_tar "$a/$dir/libdemo_$up.orig.tar.gz" "demo-$up" "VERSION=$up"
	mkdir -p "$w/t/debian"
	echo "libdemo ($v) unstable; urgency=low" >"$w/t/debian/changelog"
	(cd "$w/t" && tar -czf "$a/$dir/libdemo_$v.debian.tar.gz" debian)
	printf 'Format: 3.0 (quilt)\nSource: libdemo\nVersion: %s\n' "$v" \
		>"$a/$dir/libdemo_$v.dsc"
	set -- "$a/$dir/libdemo_$v.dsc" "$a/$dir/libdemo_$up.orig.tar.gz" \
		"$a/$dir/libdemo_$v.debian.tar.gz"
	{
		printf 'Package: libdemo\nBinary: libdemo-dev\nVersion: %s\n' "$v"
		printf 'Maintainer: Test <test@example.invalid>\n'
		printf 'Architecture: any\nFormat: 3.0 (quilt)\nDirectory: %s\n' "$dir"
		echo "Files:"
		for f; do echo " $(md5 "$f") $(size "$f") ${f##*/}"; done
		echo "Checksums-Sha256:"
		for f; do echo " $(sha "$f") $(size "$f") ${f##*/}"; done
		echo
	} >>"$a/dists/stable/main/source/Sources"
}

# mk_release ARCHIVE: an (unsigned) Release file for its index.
mk_release() {
	d=$w/www/$1/dists/stable
	gzip -9c "$d/main/source/Sources" >"$d/main/source/Sources.gz"
	{
		printf 'Origin: test\nLabel: test\nSuite: stable\nCodename: stable\n'
		echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
		printf 'Architectures: amd64\nComponents: main\nSHA256:\n'
		for f in main/source/Sources main/source/Sources.gz; do
			echo " $(sha "$d/$f") $(size "$d/$f") $f"
		done
	} >"$d/Release"
}

mkdir -p "$w/www"
mk_tar "$w/www/good/pool/main/libd/libdemo/libdemo_1.0.orig.tar.gz" demo-1.0 VERSION=1.0
mk_src good 1.1-1 1.1 pool/main/libd/libdemo
mk_release good

mkdir -p "$w/www/ubuntu/pool/universe"
cp -R "$w/www/good/pool/main/libd" "$w/www/ubuntu/pool/universe/"

mk_tar "$w/www/tampered/pool/main/libd/libdemo/libdemo_1.0.orig.tar.gz" demo-1.0 VERSION=evil

mkdir -p "$w/www/moved/pool/main/old/libdemo"
cp "$w/www/good/pool/main/libd/libdemo/libdemo_1.0.orig.tar.gz" \
	"$w/www/moved/pool/main/old/libdemo/"
mk_src moved 1.0-1 1.0 pool/main/old/libdemo
mk_release moved

mk_src badhash 1.1-1 1.1 pool/main/libd/libdemo
mk_release badhash
mk_tar "$w/www/badhash/pool/main/libd/libdemo/libdemo_1.1.orig.tar.gz" demo-1.1 VERSION=6.6

mkdir -p "$w/www/empty"

# fetch.sh with its own deps.lock: "demo" pins 1.0 (present in good/);
# "gone" pins 0.9, which no archive has any more.
mkdir -p "$w/tp"
cp "$root/third_party/fetch.sh" "$w/tp/"
sum10=$(sha "$w/www/good/pool/main/libd/libdemo/libdemo_1.0.orig.tar.gz")
cat >"$w/tp/deps.lock" <<EOF
# name version source-package pool-path sha256 top
demo 1.0 libdemo main/libd/libdemo/libdemo_1.0.orig.tar.gz $sum10 demo-1.0
gone 0.9 libdemo main/libd/libdemo/libdemo_0.9.orig.tar.gz $(echo 0.9 | sha256sum | cut -d' ' -f1) demo-0.9
EOF

# ---- the server ---------------------------------------------------------------
(cd "$w/www" && exec "$PYTHON" -u -m http.server 0 --bind 127.0.0.1) \
	>"$w/srv.out" 2>"$w/srv.log" &
srv=$!
port=
for _ in $(seq 50); do
	port=$(sed -n 's/.* port \([0-9][0-9]*\).*/\1/p' "$w/srv.out")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "test_fetch: the http server did not start" >&2; exit 1; }
url=http://127.0.0.1:$port

# ---- running fetch.sh ---------------------------------------------------------
# new_case NAME: a private apt configuration in $c/etc; sources go to
# $c/etc/sources.list (one-line) and $c/etc/parts/*.sources (deb822).
new_case() {
	c=$w/case/$1
	mkdir -p "$c/etc/parts" "$c/etc/conf.d" "$c/etc/trusted.d"
	: >"$c/etc/sources.list"
	: >"$c/status"
	cat >"$c/apt.conf" <<EOF
Dir::Etc::sourcelist "$c/etc/sources.list";
Dir::Etc::sourceparts "$c/etc/parts";
Dir::Etc::parts "$c/etc/conf.d";
Dir::Etc::main "$c/etc/apt.conf";
Dir::Etc::preferences "$c/etc/preferences";
Dir::Etc::preferencesparts "$c/etc/preferences.d";
Dir::Etc::trusted "$c/etc/trusted.gpg";
Dir::Etc::trustedparts "$c/etc/trusted.d";
Dir::State "$c/state";
Dir::State::status "$c/status";
Dir::Cache "$c/cache";
Dir::Log "$c/log";
Acquire::http::Proxy "DIRECT";
EOF
}

# run NAME [VAR=value...]: fetch.sh NAME into $c/out; $rc, $c/stdout, $c/stderr.
run() {
	n=$1
	shift
	cp "$w/srv.log" "$w/srv.before"
	touch "$c/mark"
	rc=0
	env APT_CONFIG="$c/apt.conf" "$@" sh "$w/tp/fetch.sh" "$n" "$c/out" \
		>"$c/stdout" 2>"$c/stderr" || rc=$?
	# What the server saw during this run.
	tail -n +$(($(wc -l <"$w/srv.before") + 1)) "$w/srv.log" >"$c/requests"
}

quiet() { [ ! -s "$c/stdout" ] && [ ! -s "$c/stderr" ]; }
tree_is() { [ "$(cat "$c/out/$1/VERSION" 2>/dev/null)" = "VERSION=$2" ]; }
# Nothing written outside OUTDIR (the private config's own dirs included).
only_outdir() {
	[ -z "$(find "$c" -mindepth 1 -newer "$c/mark" ! -path "$c/out" ! -path "$c/out/*" \
		! -name stdout ! -name stderr ! -name requests)" ]
}
show() { # on failure, what fetch.sh said
	[ "$fail" = "$1" ] || sed 's/^/    | /' "$c/stdout" "$c/stderr"
}

# (a) The pinned tarball, from the first enabled archive that has it.  A
# disabled deb822 stanza naming the tampered archive comes first.
new_case pinned
cat >"$c/etc/parts/test.sources" <<EOF
Types: deb
URIs: $url/tampered
Suites: stable
Components: main
Trusted: yes
Enabled: no

# a comment
Types: deb
URIs: $url/empty $url/good
Suites: stable
Components: main
Trusted: yes
EOF
f0=$fail
run demo
check "pinned: exit 0" [ "$rc" = 0 ]
check "pinned: quiet on success" quiet
check "pinned: tree at OUTDIR/demo" tree_is demo 1.0
check "pinned: archives asked in order, disabled one skipped" \
	sh -c 'grep -q "GET /empty/pool/main/libd/libdemo/libdemo_1.0" "$1" &&
		grep -q "GET /good/pool/main/libd/libdemo/libdemo_1.0" "$1" &&
		! grep -q tampered "$1"' - "$c/requests"
check "pinned: writes only below OUTDIR" only_outdir
show "$f0"

f0=$fail
run demo
check "pinned again: done, nothing fetched" \
	sh -c '[ "$1" = 0 ] && [ ! -s "$2" ]' - "$rc" "$c/requests"
show "$f0"

# Ubuntu keeps it in universe; one-line entry with [options].
new_case ubuntu
echo "deb [ trusted=yes arch=amd64 ] $url/ubuntu stable universe" >"$c/etc/sources.list"
f0=$fail
run demo
check "universe: pinned tarball found" sh -c '[ "$1" = 0 ]' - "$rc"
check "universe: tree at OUTDIR/demo" tree_is demo 1.0
show "$f0"

# A tarball whose SHA-256 differs is refused.
new_case tampered
echo "deb [trusted=yes] $url/tampered stable main" >"$c/etc/sources.list"
f0=$fail
run demo
check "tampered: refused, exit non-zero" [ "$rc" != 0 ]
check "tampered: says SHA-256 mismatch" has "$c/stderr" \
	"$url/tampered/pool/main/libd/libdemo/libdemo_1.0.orig.tar.gz: SHA-256 mismatch, refused"
check "tampered: names DEMO_SRC" has "$c/stderr" "DEMO_SRC=/path/to/demo-source"
check "tampered: no tree, no tarball kept" \
	sh -c '[ ! -e "$1/demo" ] && [ -z "$(ls "$1/dl" | grep tar)" ]' - "$c/out"
show "$f0"

# (b) The pinned path is gone but the archive's Sources index still lists the
# pinned tarball (under another directory): apt-get source fetches it.
new_case moved
echo "deb-src [trusted=yes] $url/moved stable main" >"$c/etc/sources.list"
f0=$fail
run demo
check "moved: exit 0, quiet" sh -c '[ "$1" = 0 ] && [ ! -s "$2" ]' - "$rc" "$c/stderr"
check "moved: the pinned tree" tree_is demo 1.0
check "moved: through apt-get source" has "$c/requests" \
	"GET /moved/pool/main/old/libdemo/libdemo_1.0.orig.tar.gz"
check "moved: writes only below OUTDIR" only_outdir
show "$f0"

# The pinned version has left the archive: apt-get source gives the current
# one, and says so.
new_case gone
cat >"$c/etc/parts/good.sources" <<EOF
Types: deb
URIs: $url/good
Suites: stable
Components: main
Trusted: yes
EOF
f0=$fail
run gone
check "gone: exit 0" [ "$rc" = 0 ]
check "gone: says which version it used" has "$c/stderr" \
	"third_party: pinned gone 0.9 is gone from the archive; using libdemo 1.1-1 from apt-get source (verified by apt)"
check "gone: the archive's tree" tree_is gone 1.1
check "gone: writes only below OUTDIR" only_outdir
show "$f0"

# apt checks what it fetches against the index.
new_case badhash
echo "deb [trusted=yes] $url/badhash stable main" >"$c/etc/sources.list"
f0=$fail
run gone
check "badhash: refused by apt, exit non-zero" [ "$rc" != 0 ]
check "badhash: apt's complaint is shown" \
	grep -qE "libdemo_1.1.orig.tar.gz .*(Hash Sum mismatch|unexpected size)" "$c/stderr"
check "badhash: no tree" [ ! -e "$c/out/gone" ]
show "$f0"

# Nothing anywhere: a clear message naming what was tried.
new_case nothing
echo "deb [trusted=yes] $url/empty stable main" >"$c/etc/sources.list"
f0=$fail
run gone
check "nothing: exit non-zero" [ "$rc" != 0 ]
check "nothing: names the pinned version" has "$c/stderr" "pinned: gone 0.9, main/libd/libdemo/libdemo_0.9.orig.tar.gz"
check "nothing: names the archive tried" has "$c/stderr" \
	"$url/empty/pool/main/libd/libdemo/libdemo_0.9.orig.tar.gz: not found"
check "nothing: names apt-get source's result" has "$c/stderr" "apt-get source libdemo"
check "nothing: names GONE_SRC" has "$c/stderr" "GONE_SRC=/path/to/gone-source"
show "$f0"

new_case unconfigured
f0=$fail
run gone
check "unconfigured: exit non-zero" [ "$rc" != 0 ]
check "unconfigured: says no archive is configured" has "$c/stderr" "none configured"
show "$f0"

# (c) Everything went to 127.0.0.1, and *_SRC wins without any request.
check "only 127.0.0.1 was asked" sh -c '! grep -h "^[^ ]" "$@" | grep -v "^127\.0\.0\.1 "' - "$w/srv.log"
new_case override
mkdir -p "$w/mine"
echo VERSION=mine >"$w/mine/VERSION"
f0=$fail
run demo DEMO_SRC="$w/mine"
check "DEMO_SRC: used, nothing fetched" \
	sh -c '[ "$1" = 0 ] && [ -L "$2/demo" ] && [ ! -s "$3" ]' - "$rc" "$c/out" "$c/requests"
check "DEMO_SRC: the user's tree" tree_is demo mine
show "$f0"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
