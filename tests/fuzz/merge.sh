#!/bin/sh
# Rebuild the committed corpora (make fuzz-merge).
#   tests/fuzz/merge.sh BINDIR SEEDDIR TARGET...
# For each target, libFuzzer's -merge=1 picks, from the committed corpus
# and the seeds (make_seeds.py), a small set of inputs with the same
# coverage, and it replaces the corpus's files except those named
# regress-*: inputs that once crashed a target, which stay whatever their
# coverage.  FUZZ_MERGE_NEW=1 also offers what `make fuzz` found
# (BINDIR/../new/): hundreds of files for the hub targets, so review.
set -eu
bindir=$1
seeds=$2
shift 2
here=$(dirname "$0")
out=$(dirname "$bindir")
for t in "$@"; do
	c=$here/corpus/$t
	tmp=$out/merge/$t
	new=
	[ "${FUZZ_MERGE_NEW:-0}" = 1 ] && new=$out/new/$t
	rm -rf "$tmp"
	mkdir -p "$tmp" "$c" "$seeds/$t"
	# shellcheck disable=SC2086
	"$bindir/$t" -merge=1 "$tmp" "$c" "$seeds/$t" $new \
		>"$out/merge-$t.log" 2>&1 || { tail -n 20 "$out/merge-$t.log"; exit 1; }
	find "$c" -type f ! -name 'regress-*' -exec rm -f {} +
	cp "$tmp"/* "$c"/ 2>/dev/null || true
	# a regress-* input is not kept twice under its hash name
	for r in "$c"/regress-*; do
		[ -f "$r" ] && rm -f "$c/$(sha1sum <"$r" | cut -c1-40)"
	done
	echo "$t: $(ls "$c" | wc -l) files, $(cat "$c"/* | wc -c) bytes"
done
