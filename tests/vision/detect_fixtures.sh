#!/bin/sh
# Regenerates tests/data/vision/detect_dlib_{rgb,gray}.jsonl: dlib 19.24's
# detections (boxes, scores, filter; numbers only, never pixels) on the dev faces
# and the speed photos in ../shared/data, from the oracle dlib_ref_detect.
#   sh tests/vision/detect_fixtures.sh [BUILD_DIR]   (default build/ci)
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build/ci}
O=$B/tests/vision/detect/oracle/dlib_ref_detect
S=${FF_SHARED_DIR:-../shared}
[ -x "$O" ] || { echo "build the oracle first ($O)" >&2; exit 1; }
imgs="$(ls "$S"/data/faces/*.jpg "$S"/data/faces/*.png "$S"/data/speed/*.jpg)"
# shellcheck disable=SC2086
"$O" $imgs > tests/data/vision/detect_dlib_rgb.jsonl
# shellcheck disable=SC2086
"$O" --gray $imgs > tests/data/vision/detect_dlib_gray.jsonl
sed -i -e 's/,"ms":[0-9.]*,"cpu_ms":[0-9.]*}/}/' -e 's/,"ms":[0-9.]*}/}/' tests/data/vision/detect_dlib_rgb.jsonl tests/data/vision/detect_dlib_gray.jsonl
wc -l tests/data/vision/detect_dlib_*.jsonl
