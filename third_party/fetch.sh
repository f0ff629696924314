#!/bin/sh
# Obtain one pinned third-party source tree (bearssl, inih or jsmn) at build
# time.  Nothing third-party is committed: this script reads deps.lock, takes
# the tree from $<NAME>_SRC when the user names one, else downloads the
# pinned upstream tarball from a Debian (or Ubuntu) archive mirror that this
# machine's apt is configured with, checks its SHA-256 and unpacks it.
#
#   third_party/fetch.sh NAME OUTDIR
#
# Leaves the source tree at OUTDIR/NAME (a symlink when $<NAME>_SRC is used).
# Works unprivileged: it uses apt's own downloader (apt-helper), or curl/wget
# where present, and writes only below OUTDIR.
#
# Environment:
#   BEARSSL_SRC, INIH_SRC, JSMN_SRC  use this directory instead of downloading
#   DEBIAN_MIRROR                    try this archive root first
#                                    (e.g. http://deb.debian.org/debian)
set -eu

name=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
lock="$here/deps.lock"

die() { echo "third_party: $*" >&2; exit 1; }

line=$(awk -v n="$name" '$1 == n { print; exit }' "$lock")
[ -n "$line" ] || die "unknown dependency '$name' (see $lock)"
set -- $line
version=$2 pool=$3 sum=$4 top=$5

mkdir -p "$out"
dest="$out/$name"

# 1. A tree the user names wins.
uname=$(echo "$name" | tr a-z A-Z)
eval "user_src=\${${uname}_SRC:-}"
if [ -n "$user_src" ]; then
	[ -d "$user_src" ] || die "${uname}_SRC=$user_src is not a directory"
	rm -rf "$dest"
	ln -s "$(cd "$user_src" && pwd)" "$dest"
	echo "third_party: $name from ${uname}_SRC"
	exit 0
fi

if [ -f "$dest/.fetched-$version" ]; then
	exit 0
fi

dl="$out/dl"
mkdir -p "$dl"
file="$dl/$(basename "$pool")"

sha_ok() {
	[ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$sum" ]
}

# Mirror roots from apt's configuration: deb822 "URIs:" lines and one-line
# "deb URI suite ..." entries.  Security and third-party archives are tried
# too; a wrong one simply fails the download or the checksum.
mirrors() {
	[ -n "${DEBIAN_MIRROR:-}" ] && echo "$DEBIAN_MIRROR"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" || $1 == "deb-src" {
			for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; break }
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f"
	done
	echo http://deb.debian.org/debian
}

download() { # url file
	if [ -x /usr/lib/apt/apt-helper ]; then
		/usr/lib/apt/apt-helper download-file "$1" "$2" >/dev/null 2>&1 && return 0
	fi
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL -o "$2" "$1" && return 0
	fi
	if command -v wget >/dev/null 2>&1; then
		wget -q -O "$2" "$1" && return 0
	fi
	return 1
}

if ! sha_ok "$file"; then
	rm -f "$file"
	for m in $(mirrors | awk '!seen[$0]++'); do
		m=${m%/}
		# Ubuntu keeps these packages in universe; Debian in main.
		for p in "$pool" "$(echo "$pool" | sed 's,^main/,universe/,')"; do
			echo "third_party: fetching $name $version from $m/pool/$p"
			if download "$m/pool/$p" "$file.part" && sha_ok "$file.part"; then
				mv "$file.part" "$file"
				break 2
			fi
			rm -f "$file.part"
		done
	done
fi
sha_ok "$file" || die "could not obtain $name $version with SHA-256 $sum; set ${uname}_SRC=/path/to/$name-source or DEBIAN_MIRROR=..."

tmp="$out/.unpack-$name"
rm -rf "$tmp" "$dest"
mkdir -p "$tmp"
tar -xf "$file" -C "$tmp"
mv "$tmp/$top" "$dest"
rm -rf "$tmp"
touch "$dest/.fetched-$version"
echo "third_party: $name $version ready"
