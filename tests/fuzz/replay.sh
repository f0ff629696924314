#!/bin/sh
# Replay each target's committed corpus through its replay build
# (make fuzz-replay, make check-csan).
#   tests/fuzz/replay.sh BINDIR TARGET...
# Prints one line per target and a closing "N passed, N failed" (targets).
set -u
bindir=$1
shift
here=$(dirname "$0")
pass=0
fail=0
for t in "$@"; do
	if ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
		"$bindir/$t" "$here/corpus/$t"; then
		pass=$((pass + 1))
	else
		echo "FAIL fuzz corpus of $t"
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" = 0 ]
