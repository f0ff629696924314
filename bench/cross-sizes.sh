#!/usr/bin/env bash
# shellcheck disable=SC2119 # machine_info (bench/lib.sh) has optional arguments
#
# bench/cross-sizes.sh - the stripped static binary per architecture, from
# the same source: x86_64 with musl (`make static`, what the release ships)
# and mips, mipsel, arm, aarch64 with Debian's glibc cross compilers (`make
# cross ARCH=...`, same -Os/LTO flags, see tests/cross/cross.mk).
#
# glibc's static part is much larger than musl's (stdio, locale, the
# dynamic-loading and NSS machinery a static glibc still carries), so the
# totals do not compare across the two libcs.  To make them compare, each
# binary is linked once more with a linker map (-Wl,-Map; the link is
# otherwise the same) and the bytes of its loaded, in-file sections are
# summed by where they came from:
#   program   our code, BearSSL and inih (LTO objects)
#   libc      libc.a and the C start files (crt*.o)
#   libgcc    the compiler's runtime (libgcc.a, libgcc_eh.a)
#   rest      the stripped size minus those: ELF and program headers,
#             section table, alignment padding, and what the linker makes
#             itself (GOT, PLT)
# The program column is the one that says how big the code is on each
# architecture; the libc column is what a musl router build would not pay.
#
# Usage: bench/cross-sizes.sh            (about five minutes: five builds)
# Environment (optional):
#   BENCH_ARCHES="mips mipsel arm aarch64"   the cross targets
#   BENCH_REPO=DIR                           repository root
# Toolchains that are missing are installed by make static / make cross
# (apt-get).  Results: printed and written to build/bench/cross-sizes.md;
# the maps and build logs in build/bench/cross-sizes/.

set -Eeuo pipefail

REPO=$(cd "${BENCH_REPO:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)
ARCHES=${BENCH_ARCHES:-mips mipsel arm aarch64}
OUT_DIR=$REPO/build/bench
RAW=$OUT_DIR/cross-sizes
RESULTS=$OUT_DIR/cross-sizes.md
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cpa-crosssizes.XXXXXX")
BENCH_NAME="cross sizes"
CLEANUP_PIDS=()
NOTES=()
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"

t0=$SECONDS
mkdir -p "$RAW"
cd "$REPO"

# Sum a map's input sections by origin; print "program libc libgcc".
# Only output sections that the stripped file holds with bytes (allocated,
# not NOBITS) count.
map_sum() { # map stripped-binary
	readelf -SW "$2" >"$TMP/sections"
	python3 - "$1" "$TMP/sections" <<'PY'
import re, sys

keep = set()
for line in open(sys.argv[2]):
    m = re.match(r'\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S*)', line)
    if m and m.group(2) != "NOBITS" and "A" in m.group(3):
        keep.add(m.group(1))
sums = {"program": 0, "libc": 0, "libgcc": 0}
out = None
pending = None
started = False
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not started:
        started = line.startswith("Linker script and memory map")
        continue
    m = re.match(r'^(\.\S+)', line)
    if m:  # an output section
        out = m.group(1)
        pending = None
        continue
    m = re.match(r'^ (\.\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$', line)
    if m:
        size, src = int(m.group(3), 16), m.group(4)
    else:
        m = re.match(r'^ (\.\S+)$', line)
        if m:  # a long input section name: its figures on the next line
            pending = m.group(1)
            continue
        m = re.match(r'^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$', line)
        if not m or pending is None:
            pending = None
            continue
        size, src = int(m.group(2), 16), m.group(3)
    pending = None
    if out not in keep or size == 0:
        continue
    base = src.rsplit("/", 1)[-1]
    if re.search(r'libgcc(_eh)?\.a\(', src):
        sums["libgcc"] += size
    elif "libc.a(" in src or re.match(r'(crt1|crti|crtn|Scrt1|rcrt1)\.o$', base):
        sums["libc"] += size
    elif re.match(r'crt(begin|end)\S*\.o$', base):
        sums["libgcc"] += size  # gcc's own start files
    else:
        sums["program"] += size
print(sums["program"], sums["libc"], sums["libgcc"])
PY
}

# Link bin again with a map (its objects are up to date: the caller built
# it), strip it and add a table row.
ROWS=()
measure() { # name bin strip compiler libc [make args...]
	local name=$1 bin=$2 strip=$3 cc=$4 libc=$5 size prog lc lg
	shift 5
	rm -f "$bin"
	# shellcheck disable=SC2016 # $@ is make's: each link names its own map
	make --no-print-directory "$bin" "$@" LDFLAGS='-Wl,-Map,$@.map' \
		>>"$RAW/$name.log" 2>&1 ||
		die "the link with a map failed: see ${RAW#"$REPO"/}/$name.log"
	"$strip" -o "$bin.stripped" "$bin"
	cp "$bin.map" "$RAW/$name.map"
	size=$(stat -c %s "$bin.stripped")
	read -r prog lc lg < <(map_sum "$bin.map" "$bin.stripped")
	ROWS+=("| $name | $cc | $libc | $size | $prog | $lc | $lg | $((size - prog - lc - lg)) |")
	printf '    %s: %s bytes stripped (program %s, libc %s, libgcc %s)\n' \
		"$name" "$size" "$prog" "$lc" "$lg" >&2
}

build() { # name make-args...: the normal build (installs what is missing)
	local name=$1
	shift
	log "$name: make $*"
	make --no-print-directory "$@" >"$RAW/$name.log" 2>&1 ||
		die "make $* failed: see ${RAW#"$REPO"/}/$name.log"
}

pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }

build x86_64-musl static
measure x86_64-musl build/static/cli-proxy-api strip \
	"gcc $(gcc -dumpfullversion) (musl-gcc)" "musl $(pkg_version musl-dev)"

for a in $ARCHES; do
	case $a in
	mips) t=mips-linux-gnu; l=libc6-dev-mips-cross ;;
	mipsel) t=mipsel-linux-gnu; l=libc6-dev-mipsel-cross ;;
	arm) t=arm-linux-gnueabihf; l=libc6-dev-armhf-cross ;;
	aarch64) t=aarch64-linux-gnu; l=libc6-dev-arm64-cross ;;
	*) die "unknown architecture '$a' (mips, mipsel, arm, aarch64)" ;;
	esac
	build "$a-glibc" cross ARCH="$a"
	measure "$a-glibc" "build/cross-$a/cli-proxy-api" "$t-strip" \
		"$t-gcc $("$t-gcc" -dumpfullversion)" "glibc $(pkg_version "$l")" \
		ARCH="$a"
done

machine_info
{
	echo "# Stripped static binary per architecture"
	echo
	echo "Commit $COMMIT, $DATE; $CPU_MODEL, $CORES CPUs, Linux $KERNEL."
	echo "Bytes of the stripped binary, and of its loaded sections by origin"
	echo "(linker map): program = our code + BearSSL + inih; rest = headers,"
	echo "padding and what the linker made (GOT, PLT)."
	echo
	echo "| binary | compiler | libc | stripped | program | libc | libgcc | rest |"
	echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"
	printf '%s\n' "${ROWS[@]}"
} >"$RESULTS"
echo
cat "$RESULTS"
echo
echo "(written to ${RESULTS#"$REPO"/}; maps and logs in ${RAW#"$REPO"/}/; took $((SECONDS - t0)) s)"
