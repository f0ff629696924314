#!/bin/sh
# Rebuild the committed corpora (make fuzz-merge).
#   tests/fuzz/merge.sh BINDIR SEEDDIR TARGET...
# For each target, libFuzzer's -merge=1 picks, from the committed corpus,
# the seeds (make_seeds.py) and what `make fuzz` found (BINDIR/../new/),
# a small set of inputs with the same coverage; it replaces the corpus's
# files except those named regress-*: inputs that once crashed a target,
# which stay whatever their coverage.
set -eu
bindir=$1
seeds=$2
shift 2
here=$(dirname "$0")
out=$(dirname "$bindir")
for t in "$@"; do
	c=$here/corpus/$t
	tmp=$out/merge/$t
	rm -rf "$tmp"
	mkdir -p "$tmp" "$c" "$seeds/$t" "$out/new/$t"
	"$bindir/$t" -merge=1 "$tmp" "$c" "$seeds/$t" "$out/new/$t" \
		>"$out/merge-$t.log" 2>&1 || { tail -n 20 "$out/merge-$t.log"; exit 1; }
	find "$c" -type f ! -name 'regress-*' -exec rm -f {} +
	cp "$tmp"/* "$c"/ 2>/dev/null || true
	echo "$t: $(ls "$c" | wc -l) files, $(du -sk "$c" | cut -f1) KB"
done
