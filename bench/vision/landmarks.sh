#!/bin/sh
# bench/vision/landmarks.sh - 68-point landmark prediction, framefit vs dlib 19.24,
# same photos, same boxes (dlib's own detections), one core (taskset -c 0), one run:
#   1. time per face (median of 5 rounds of LM_REPS predictions): CPU time of the
#      predicting thread (steadier on a shared machine; the ratio uses it) and wall
#      time; then framefit's SIMD kernels side by side;
#   2. instructions per prediction under valgrind --tool=callgrind (counted only inside
#      vis_shape_predict / ref_predict, dlib_ref_landmarks's out-of-line call of dlib);
#   3. model load time: framefit cold (convert + write cache) and warm (mmap), dlib
#      (deserialize), and the resident memory each loaded model adds.
# Needs libdlib-dev (scripts/install-deps.sh --test) and ../shared/data; skips without.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
B=$ROOT/build/bench-vision
REPS=${LM_REPS:-300}
MODEL=${FRAMEFIT_LANDMARK_MODEL:-/usr/share/dlib/shape_predictor_68_face_landmarks.dat}
if [ ! -d "$SHARED/data/speed" ] || [ ! -f "$MODEL" ]; then
    echo "landmarks: SKIP (needs $SHARED/data/speed and $MODEL)"; exit 0
fi
mkdir -p "$B"
{ cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release &&
    cmake --build "$B" -j 2 --target framefit_landmark_bench dlib_ref_landmarks; } >"$B/build.log" 2>&1 || {
        echo "landmarks: build failed (is libdlib-dev installed? see $B/build.log)"; exit 1; }
FF=$B/tests/vision/framefit_landmark_bench
DL=$B/tests/vision/dlib_ref_landmarks
CACHE=$B/landmark-cache
CPU="taskset -c 0"
command -v taskset >/dev/null || CPU=""
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
num() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" | head -1; }

echo "landmarks: model $MODEL"
# --- load time and memory
rm -rf "$CACHE"
cold=$($CPU "$FF" --model "$MODEL" --cache-dir "$CACHE" "$SHARED/data/speed/1259817140_1_640x480.jpg")
warm=$($CPU "$FF" --model "$MODEL" --cache-dir "$CACHE" "$SHARED/data/speed/1259817140_1_640x480.jpg")
dlib=$($CPU "$DL" --model "$MODEL" "$SHARED/data/speed/1259817140_1_640x480.jpg")
printf 'load: framefit cold (convert+cache) %s ms, warm (mmap) %s ms; dlib deserialize %s ms\n' \
    "$(echo "$cold" | num load_ms)" "$(echo "$warm" | num load_ms)" "$(echo "$dlib" | num load_ms)"
printf 'resident memory of the loaded model: framefit %s kB (file-backed mmap, shared between processes), dlib %s kB (heap)\n' \
    "$(echo "$warm" | num rss_model_kb)" "$(echo "$dlib" | num rss_load_kb)"

# --- time
med() { echo "$@" | tr ' ' '\n' | sort -n | sed -n 3p; }
tot_ff=0; tot_dl=0; totw_ff=0; totw_dl=0; n=0
printf '%-28s %5s %22s %22s %7s\n' image faces "framefit cpu (wall)" "dlib cpu (wall)" "ratio"
for img in "$SHARED"/data/speed/*.jpg; do
    boxes=$("$DL" --model "$MODEL" --detect "$img" | sed -n 's/.*"detections":\[\(.*\)\],"faces".*/\1/p' |
        sed 's/\],\[/ /g; s/[][]//g')
    [ -n "$boxes" ] || { echo "$(basename "$img"): dlib found no face"; continue; }
    cf=""; cd=""; wf=""; wd=""
    for round in 1 2 3 4 5; do
        o=$($CPU "$FF" --model "$MODEL" --cache-dir "$CACHE" --time "$REPS" "$img" $boxes)
        cf="$cf $(echo "$o" | num cpu_ns_per_prediction)"; wf="$wf $(echo "$o" | num ns_per_prediction)"
        o=$($CPU "$DL" --model "$MODEL" --time "$REPS" "$img" $boxes)
        cd="$cd $(echo "$o" | num cpu_ns_per_prediction)"; wd="$wd $(echo "$o" | num ns_per_prediction)"
    done
    f=$(med $cf); d=$(med $cd); fw=$(med $wf); dw=$(med $wd)
    printf '%-28s %5s %9.3f (%6.3f) ms %9.3f (%6.3f) ms %6.2fx\n' "$(basename "$img")" "$(echo $boxes | wc -w)" \
        "$(calc "$f / 1000000")" "$(calc "$fw / 1000000")" "$(calc "$d / 1000000")" "$(calc "$dw / 1000000")" \
        "$(calc "$d / $f")"
    tot_ff=$(calc "$tot_ff + $f"); tot_dl=$(calc "$tot_dl + $d")
    totw_ff=$(calc "$totw_ff + $fw"); totw_dl=$(calc "$totw_dl + $dw"); n=$((n + 1))
done
if [ "$n" -gt 0 ]; then
    printf 'landmark time per face, one core, mean of medians: CPU framefit %.3f ms, dlib %.3f ms, dlib/framefit = %.2fx\n' \
        "$(calc "$tot_ff / $n / 1000000")" "$(calc "$tot_dl / $n / 1000000")" "$(calc "$tot_dl / $tot_ff")"
    printf '                                                   wall framefit %.3f ms, dlib %.3f ms, dlib/framefit = %.2fx\n' \
        "$(calc "$totw_ff / $n / 1000000")" "$(calc "$totw_dl / $n / 1000000")" "$(calc "$totw_dl / $totw_ff")"
fi
img="$SHARED/data/speed/1259817140_1_640x480.jpg"
box=$("$DL" --model "$MODEL" --detect "$img" | sed -n 's/.*"detections":\[\[\([0-9,-]*\)\].*/\1/p')
line="framefit kernels (CPU ms per face, 640x480):"
for k in avx512 avx2 sse2 scalar; do
    o=$($CPU "$FF" --model "$MODEL" --cache-dir "$CACHE" --kernel "$k" --time "$REPS" "$img" "$box")
    [ "$(echo "$o" | sed -n 's/.*"kernel":"\([a-z0-9]*\)".*/\1/p')" = "$k" ] || continue
    line="$line $k $(awk "BEGIN { printf \"%.3f\", $(echo "$o" | num cpu_ns_per_prediction) / 1000000 }")"
done
echo "$line"

# --- instructions (2 predictions each: one untimed plus --time 1)
if command -v valgrind >/dev/null; then
    cg() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | tail -1; }
    fi_=$(cg --toggle-collect='vis_shape_predict' "$FF" --model "$MODEL" --cache-dir "$CACHE" --time 1 "$img" "$box")
    di_=$(cg --toggle-collect='ref_predict*' "$DL" --model "$MODEL" --time 1 "$img" "$box")
    kern=$(valgrind -q "$FF" --model "$MODEL" --cache-dir "$CACHE" "$img" 2>/dev/null | sed -n 's/.*"kernel":"\([a-z0-9]*\)".*/\1/p')
    if [ -n "$fi_" ] && [ -n "$di_" ] && [ "$fi_" -gt 0 ]; then
        printf 'instructions per prediction (callgrind): framefit %.2f M (kernel %s under valgrind), dlib %.2f M, dlib/framefit = %.1fx\n' \
            "$(calc "$fi_ / 2000000")" "$kern" "$(calc "$di_ / 2000000")" "$(calc "$di_ / $fi_")"
    else
        echo "instructions: callgrind gave no count (framefit '$fi_', dlib '$di_')"
    fi
else
    echo "instructions: valgrind not installed, skipped"
fi
