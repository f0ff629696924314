#!/bin/sh
# Obtain one third-party source tree (bearssl, inih or jsmn) at build time.
# Nothing third-party is committed; deps.lock pins each one by version and
# SHA-256 of its Debian upstream ("orig") tarball.
#
#   third_party/fetch.sh NAME OUTDIR
#
# Leaves the source tree at OUTDIR/NAME (a symlink when $<NAME>_SRC is used).
# Archives come only from this machine's apt configuration (apt-config, so
# APT_CONFIG is honoured; one-line .list and deb822 .sources entries alike).
# In order:
#
#   1. $<NAME>_SRC, when the user names a directory.
#   2. The pinned tarball from each configured archive's pool (Debian keeps
#      these packages in main, Ubuntu in universe), checked against the
#      pinned SHA-256.
#   3. apt-get source --download-only with a private apt state under
#      OUTDIR/apt and deb-src entries made from the same archives: apt checks
#      the Release signature and the file hashes.  The pinned tarball is
#      taken when the archive's Sources index still lists it; otherwise, the
#      pinned version having left the archive, the archive's current one,
#      with a line saying so.
#   4. Otherwise fail, saying what was tried and how to proceed.
#
# Quiet on success.  Works unprivileged and writes only below OUTDIR.
#
# Environment:
#   BEARSSL_SRC, INIH_SRC, JSMN_SRC  use this directory instead of downloading
set -eu

name=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
lock="$here/deps.lock"

die() { echo "third_party: $*" >&2; exit 1; }

line=$(awk -v n="$name" '$1 == n { print; exit }' "$lock")
[ -n "$line" ] || die "unknown dependency '$name' (see $lock)"
set -- $line
[ $# -eq 6 ] || die "bad line for '$name' in $lock"
version=$2 srcpkg=$3 pool=$4 sum=$5 top=$6

mkdir -p "$out"
out=$(cd "$out" && pwd)
dest="$out/$name"
uname=$(echo "$name" | tr a-z A-Z)

# 1. A tree the user names wins.
eval "user_src=\${${uname}_SRC:-}"
if [ -n "$user_src" ]; then
	[ -d "$user_src" ] || die "${uname}_SRC=$user_src is not a directory"
	rm -rf "$dest"
	ln -s "$(cd "$user_src" && pwd)" "$dest"
	echo "third_party: $name from ${uname}_SRC"
	exit 0
fi

stamp="pinned $version $sum"
if [ -f "$dest/.fetched" ] && [ "$(cat "$dest/.fetched")" = "$stamp" ]; then
	exit 0
fi

dl="$out/dl"
apt="$out/apt"
file="$dl/$(basename "$pool")"
tried="$dl/$name.tried"
mkdir -p "$dl"
: >"$tried"

sha_ok() {
	[ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$sum" ]
}

# Unpack tarball $1 and move its directory $2 (or, when $2 is empty, its
# single top-level directory) to $dest.
unpack() {
	tmp="$out/.unpack-$name"
	rm -rf "$tmp" "$dest"
	mkdir -p "$tmp"
	tar -xf "$1" -C "$tmp" || die "cannot unpack $1"
	t=$2
	if [ -z "$t" ]; then
		t=$(cd "$tmp" && ls -A)
		if [ "$(echo "$t" | wc -l)" -ne 1 ]; then
			die "$1 has no single top-level directory"
		fi
	fi
	[ -d "$tmp/$t" ] || die "$1 has no directory $t"
	mv "$tmp/$t" "$dest"
	rm -rf "$tmp"
}

# apt as root drops to its sandbox user, which may not reach OUTDIR (and
# cannot exist inside a user namespace); we only download into OUTDIR.
sandbox=
[ "$(id -u)" = 0 ] && sandbox="-o APT::Sandbox::User=root"

# ---- the archives apt is configured with ------------------------------------
# Copied as deb-src entries into a private configuration under $apt/etc:
# one-line entries keep their [options], deb822 stanzas all their fields
# (Signed-By, Trusted, ...) but "Types: deb-src"; "Enabled: no" stanzas and
# comments are dropped.  File names and order are kept, so the URIs come out
# in apt's order.
conf_sl='' conf_sp=''
if command -v apt-config >/dev/null 2>&1; then
	eval "$(apt-config shell conf_sl Dir::Etc::sourcelist/f \
		conf_sp Dir::Etc::sourceparts/d)"
	conf_sp=${conf_sp%/}
	conf="$conf_sl, $conf_sp/"
else
	conf="none: apt-config is not available"
fi

list_to_src() {
	awk '{ sub(/#.*/, "") }
	$1 == "deb" || $1 == "deb-src" {
		$1 = "deb-src"
		i = 2
		if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
		if ($i !~ /^cdrom:/ && !seen[$0]++) print
	}' "$1"
}

sources_to_src() {
	awk 'function flush(k) {
		if (n && on && types ~ /(^|[ \t])deb(-src)?([ \t]|$)/) {
			print "Types: deb-src"
			for (k = 1; k <= n; k++) print buf[k]
			print ""
		}
		n = 0; on = 1; types = ""; cur = ""
	}
	BEGIN { flush() }
	/^#/ { next }
	/^[ \t]*$/ { flush(); next }
	/^[ \t]/ {
		if (cur == "types") types = types " " $0
		else if (cur != "enabled") buf[++n] = $0
		next
	}
	{
		c = index($0, ":")
		cur = tolower(substr($0, 1, c - 1))
		val = substr($0, c + 1)
		gsub(/[ \t]/, "", val)
		if (cur == "types") types = substr($0, c + 1)
		else if (cur == "enabled") {
			if (tolower(val) ~ /^(no|false|off|0|disable)$/) on = 0
		}
		else buf[++n] = $0
	}
	END { flush() }' "$1"
}

mkdir -p "$apt/etc/parts"
rm -f "$apt/etc/parts/"*
: >"$apt/etc/sources.list"
[ -f "$conf_sl" ] && list_to_src "$conf_sl" >"$apt/etc/sources.list"
[ -z "$conf_sp" ] || for f in "$conf_sp"/*.list "$conf_sp"/*.sources; do
	[ -f "$f" ] || continue
	case $f in
	*.list) list_to_src "$f" ;;
	*) sources_to_src "$f" ;;
	esac >"$apt/etc/parts/${f##*/}"
done

# Archive roots, in apt's order, each once.
archives() {
	{
		awk '{ i = 2
			if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
			print $i }' "$apt/etc/sources.list"
		for f in "$apt/etc/parts/"*; do
			[ -f "$f" ] || continue
			case $f in
			*.list) awk '{ i = 2
				if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
				print $i }' "$f" ;;
			*) awk '/^[^ \t]/ { u = tolower($0) ~ /^uris:/; sub(/^[^:]*:/, "") }
				u { for (i = 1; i <= NF; i++) print $i }' "$f" ;;
			esac
		done
	} | awk '!seen[$0]++'
}

download() { # url file
	if [ -x /usr/lib/apt/apt-helper ]; then
		/usr/lib/apt/apt-helper $sandbox download-file "$1" "$2" >/dev/null 2>&1
	elif command -v curl >/dev/null 2>&1; then
		curl -fsL -o "$2" "$1" 2>/dev/null
	else
		wget -q -O "$2" "$1" 2>/dev/null
	fi
}

# ---- 2. the pinned tarball from each archive's pool ---------------------------
fetch_pinned() {
	for m in $(archives); do
		m=${m%/}
		for p in "$pool" "$(echo "$pool" | sed 's,^main/,universe/,')"; do
			rm -f "$file.part"
			if ! download "$m/pool/$p" "$file.part"; then
				echo "    $m/pool/$p: not found" >>"$tried"
			elif ! sha_ok "$file.part"; then
				echo "    $m/pool/$p: SHA-256 mismatch, refused" >>"$tried"
			else
				mv "$file.part" "$file"
				return 0
			fi
		done
	done
	rm -f "$file.part"
	return 1
}

# ---- 3. apt-get source with a private apt state --------------------------------
# Runs apt-get or apt-cache ($1) on the private configuration.  The user's
# apt.conf (proxies, keyrings) still applies.
papt() {
	cmd=$1
	shift
	"$cmd" $sandbox -q \
		-o "Dir::Etc::sourcelist=$apt/etc/sources.list" \
		-o "Dir::Etc::sourceparts=$apt/etc/parts" \
		-o "Dir::State=$apt/state" \
		-o "Dir::State::lists=$apt/state/lists" \
		-o "Dir::Cache=$apt/cache" \
		-o "Dir::Cache::archives=$apt/cache/archives" \
		-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" \
		-o "Acquire::Languages=none" \
		"$@"
}

apt_note() { # what happened, for the failure message
	echo "$*" >"$apt/result"
}

# Sets $got (tarball) and $gotver (Debian version) on success.
apt_source() {
	if ! command -v apt-get >/dev/null 2>&1; then
		apt_note "apt-get is not available"
		return 1
	fi
	if [ -z "$(archives)" ]; then
		apt_note "not tried, no archive to ask"
		return 1
	fi
	mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial"
	papt apt-get update >"$apt/update.log" 2>&1 || true

	# The pinned tarball, if some version in the Sources index still has it.
	want=$(papt apt-cache showsrc --only-source "$srcpkg" 2>/dev/null |
		awk -v s="$sum" '/^Version:/ { v = $2 }
			/^Checksums-Sha256:/ { c = 1; next }
			/^[^ ]/ { c = 0 }
			c && $1 == s { print v; exit }')

	rm -rf "$apt/src"
	mkdir -p "$apt/src"
	if ! (cd "$apt/src" && papt apt-get source --download-only \
		--only-source "$srcpkg${want:+=$want}") >"$apt/source.log" 2>&1; then
		why=$(cat "$apt/source.log" "$apt/update.log" |
			grep -E '^(E|W):' | awk '!seen[$0]++' | head -n 6) || true
		apt_note "${why:-failed (see $apt/source.log)}"
		return 1
	fi
	got=''
	for f in "$apt/src/"*.orig.tar.* "$apt/src/"*.tar.*; do
		case $f in *.asc | *.debian.tar.*) continue ;; esac
		if [ -f "$f" ]; then got=$f; break; fi
	done
	if [ -z "$got" ]; then
		apt_note "downloaded $srcpkg but found no upstream tarball in it"
		return 1
	fi
	gotver=$(awk '/^Version:/ { print $2; exit }' "$apt/src/"*.dsc 2>/dev/null) || true
	return 0
}

fail() {
	{
		echo "third_party: could not obtain $name."
		echo "  pinned: $name $version, $pool"
		echo "          SHA-256 $sum"
		echo "  archives from apt's configuration ($conf):"
		if [ -s "$tried" ]; then cat "$tried"; else echo "    none configured"; fi
		echo "  apt-get source $srcpkg (private state in $apt):"
		sed 's/^/    /' "$apt/result"
		echo "  Fix apt's sources (a Debian or Ubuntu archive that has $srcpkg),"
		echo "  or build from a copy you have: ${uname}_SRC=/path/to/$name-source make"
	} >&2
	exit 1
}

# ---- run ----------------------------------------------------------------------
if sha_ok "$file" || fetch_pinned; then
	unpack "$file" "$top"
	echo "$stamp" >"$dest/.fetched"
	exit 0
fi

rm -f "$apt/result"
apt_source || fail
if sha_ok "$got"; then
	cp "$got" "$file"
	unpack "$file" "$top"
	echo "$stamp" >"$dest/.fetched"
	exit 0
fi
unpack "$got" ""
echo "apt $srcpkg $gotver" >"$dest/.fetched"
echo "third_party: pinned $name $version is gone from the archive;" \
	"using $srcpkg $gotver from apt-get source (verified by apt)" >&2
