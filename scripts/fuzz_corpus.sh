#!/usr/bin/env bash
# Write each fuzz target's built-in seeds into tests/fuzz/corpus/<target>/
# (seed-N files, valid inputs built by the target's code) and two invalid
# ones (empty, and cut-0: seed-0 cut in half), from a normal build's
# mutation-driver binaries:
#   scripts/fuzz_corpus.sh [BUILD_DIR]
# Hand-written inputs kept beside them (any other name) are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
for bin in "$build"/tests/fuzz_*; do
	[ -x "$bin" ] || continue
	t=${bin##*/fuzz_}
	dir=tests/fuzz/corpus/$t
	mkdir -p "$dir"
	rm -f "$dir"/seed-* "$dir"/cut-0 "$dir"/empty
	"$bin" --write-seeds "$dir"
	: >"$dir"/empty
	if [ -f "$dir"/seed-0 ]; then
		head -c $(($(stat -c %s "$dir"/seed-0) / 2)) "$dir"/seed-0 >"$dir"/cut-0
	fi
	echo "$t: $(ls "$dir" | wc -l) inputs"
done
