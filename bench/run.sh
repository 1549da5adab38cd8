#!/bin/sh
# make bench: runs every bench/<part>/run.sh in turn (vision, http, catalog, ...).
# BENCH_ONLY="vision catalog" restricts the parts. Results are printed and appended
# to build/bench/results.txt.
set -eu
cd "$(dirname "$0")/.."
mkdir -p build/bench
status=0
for s in bench/*/run.sh; do
    [ -f "$s" ] || continue
    part=$(basename "$(dirname "$s")")
    if [ -n "${BENCH_ONLY:-}" ]; then
        case " $BENCH_ONLY " in *" $part "*) ;; *) continue ;; esac
    fi
    echo "=== bench: $part"
    bash "$s" 2>&1 | tee -a build/bench/results.txt || status=1
done
exit $status
