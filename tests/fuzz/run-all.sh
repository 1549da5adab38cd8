#!/bin/sh
# run-all.sh BUILD_DIR - runs every fuzz target for $FUZZ_SECONDS, growing the corpus
# in BUILD_DIR/corpus-<name> (seeded from tests/fuzz/corpus/<name>).
set -eu
B=${1:?usage: run-all.sh BUILD_DIR}
S=$(cd "$(dirname "$0")" && pwd)
for t in "$B"/tests/fuzz/fuzz_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t"); short=${name#fuzz_}
    mkdir -p "$B/corpus-$short"
    [ -d "$S/corpus/$short" ] && cp -rn "$S/corpus/$short/." "$B/corpus-$short/" 2>/dev/null || true
    dict=""; [ -f "$S/$short.dict" ] && dict="-dict=$S/$short.dict"
    echo "== $name (${FUZZ_SECONDS:-60}s)"
    "$t" -max_total_time="${FUZZ_SECONDS:-60}" -timeout=10 $dict "$B/corpus-$short"
done
