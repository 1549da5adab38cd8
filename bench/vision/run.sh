#!/bin/sh
# bench/vision/run.sh - runs every bench/vision/*.sh (detection, landmarks, ...).
set -eu
cd "$(dirname "$0")"
status=0
for s in ./*.sh; do
    [ "$s" = ./run.sh ] && continue
    [ -f "$s" ] || continue
    echo "--- vision: $(basename "$s" .sh)"
    sh "$s" || status=1
done
exit $status
