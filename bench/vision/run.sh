#!/bin/sh
# bench/vision/run.sh - the vision benchmarks: runs every other bench/vision/*.sh
# (landmarks.sh here; the detector's *detect*.sh beside it) in name order.
# Each script builds what it needs in build/bench-vision and prints its numbers.
set -u
cd "$(dirname "$0")/../.."
status=0
for s in bench/vision/*.sh; do
    [ "$(basename "$s")" = run.sh ] && continue
    [ -f "$s" ] || continue
    echo "--- $s"
    sh "$s" || status=1
done
exit $status
