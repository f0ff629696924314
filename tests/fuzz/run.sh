#!/bin/sh
# Run libFuzzer targets one after another (make fuzz).
#   tests/fuzz/run.sh BINDIR SECONDS TARGET...
# Each target starts from its committed corpus tests/fuzz/corpus/<target>/
# (read, never written) and writes what it finds new to
# BINDIR/../new/<target>/ and crashing inputs to BINDIR/../crash/<target>/.
# A dictionary BINDIR/../seeds/<target>.dict (make_seeds.py) is used when
# there is one.  Extra libFuzzer flags come from FUZZ_FLAGS, e.g.
# FUZZ_FLAGS="-fork=1 -ignore_crashes=1" to go on past a known finding.
# Exits 1 if any target found a crash, after running all of them.
set -u
bindir=$1
secs=$2
shift 2
here=$(dirname "$0")
out=$(dirname "$bindir")
failed=
for t in "$@"; do
	mkdir -p "$out/new/$t" "$out/crash/$t" "$here/corpus/$t"
	echo "== fuzz $t for ${secs}s"
	before=$(ls "$out/crash/$t" | wc -l)
	dict=
	[ -f "$out/seeds/$t.dict" ] && dict=-dict=$out/seeds/$t.dict
	# shellcheck disable=SC2086
	if ! "$bindir/$t" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$out/crash/$t/" $dict ${FUZZ_FLAGS:-} \
		"$out/new/$t" "$here/corpus/$t" >"$out/$t.log" 2>&1; then
		failed="$failed $t"
		tail -n 40 "$out/$t.log"
	fi
	# the last status line: executions so far, coverage (also -fork=1)
	grep -E '^#[0-9]+' "$out/$t.log" | tail -n 1
	after=$(ls "$out/crash/$t" | wc -l)
	if [ "$after" != "$before" ]; then
		echo "$t: $((after - before)) new crashing inputs in $out/crash/$t/"
		case " $failed " in *" $t "*) ;; *) failed="$failed $t" ;; esac
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: crashes in:$failed (inputs in $out/crash/, logs in $out/)"
	exit 1
fi
