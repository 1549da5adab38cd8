#!/bin/sh
# bench/vision/detect.sh - face detection, framefit vs dlib 19.24, in the same run,
# on one core (taskset -c 0), on the speed photos ../shared/data/speed/ (640x480,
# 1280x720, 1920x1080; two photos each).
#   * time: REPS detections per image (default 15), median per program, as CPU
#     time of the detecting thread (cpu) and wall time (wall); on a shared,
#     loaded machine the CPU time is the steadier one and the ratio (dlib /
#     framefit, higher is better for framefit) uses it;
#   * instructions: valgrind --tool=callgrind, one detection at 640x480 and at
#     1920x1080, counting only the detection call (framefit: vis_detect_ex; dlib:
#     object_detector::operator() via ff_oracle_detect). valgrind hides AVX-512,
#     so framefit's count is its AVX2 path.
# dlib is the oracle tests/vision/dlib_ref_detect.cpp built from Debian's
# libdlib-dev with -O3 and no -march (SSE2), as a user's program would be; an
# extra dlib build with DLIB_MARCH (default "-mavx2 -mfma"; empty to skip) is
# timed and counted too (its scores differ slightly: FMA).
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build/bench-vision}
REPS=${REPS:-15}
S=${FF_SHARED_DIR:-../shared}/data/speed
[ -d "$S" ] || { echo "bench/vision/detect: $S absent, skipped"; exit 0; }
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j 2 --target ff_detect_run >/dev/null
FF=$BUILD/tests/vision/detect/ff_detect_run
DL=$BUILD/tests/vision/detect/oracle/dlib_ref_detect
if cmake --build "$BUILD" -j 2 --target dlib_ref_detect >/dev/null 2>&1; then :; else DL=""; fi
DLX=""
DLIB_MARCH=${DLIB_MARCH--mavx2 -mfma}
if [ -n "$DLIB_MARCH" ] && [ -n "$DL" ]; then
    DLX=$BUILD/dlib_ref_detect_march
    # shellcheck disable=SC2046
    g++ -O3 $DLIB_MARCH -DNDEBUG -o "$DLX" tests/vision/dlib_ref_detect.cpp \
        $(pkg-config --cflags --libs dlib-1) 2>/dev/null || DLX=""
fi
PIN=""
command -v taskset >/dev/null && PIN="taskset -c 0"

ms() { sed -n 's/.*"ms":\([0-9.]*\).*/\1/p'; }
cpu() { sed -n 's/.*"cpu_ms":\([0-9.]*\).*/\1/p'; }
boxes() { sed -n 's/.*"detections":\(\[[^]]*\]\).*/\1/p' | sed 's/"score":[-0-9.]*,//g'; }

echo "detection time per image, median of $REPS, one core: cpu ms (wall ms)"
printf '%-28s %18s %18s %7s %s\n' image framefit dlib ratio boxes
for size in 640x480 1280x720 1920x1080; do
    for f in "$S"/*_"$size".jpg; do
        [ -f "$f" ] || continue
        a=$($PIN "$FF" --time "$REPS" "$f")
        am="$(echo "$a" | cpu) ($(echo "$a" | ms))"; ac=$(echo "$a" | cpu)
        if [ -n "$DL" ]; then
            b=$($PIN "$DL" --time "$REPS" "$f")
            bm="$(echo "$b" | cpu) ($(echo "$b" | ms))"; bc=$(echo "$b" | cpu)
            same=differ
            [ "$(echo "$a" | boxes)" = "$(echo "$b" | boxes)" ] && same=same
            ratio=$(awk -v a="$ac" -v b="$bc" 'BEGIN{printf "%.2fx", b/a}')
        else
            bm=-; ratio=-; same=-
        fi
        extra=""
        if [ -n "$DLX" ]; then
            cm=$($PIN "$DLX" --time "$REPS" "$f" | cpu)
            extra=" dlib($DLIB_MARCH)=${cm}ms"
        fi
        printf '%-28s %18s %18s %7s %s%s\n' "$(basename "$f")" "$am" "$bm" "$ratio" "$same" "$extra"
    done
done

if command -v valgrind >/dev/null; then
    echo "instructions per detection (callgrind, millions)"
    printf '%-28s %10s %10s %8s\n' image framefit dlib ratio
    T=$(mktemp -d)
    for size in 640x480 1920x1080; do
        f=$(ls "$S"/*_"$size".jpg | head -n 1)
        ir() { valgrind --tool=callgrind --callgrind-out-file="$T/cg" --toggle-collect="$1" \
                   "$2" "$f" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
        a=$(ir vis_detect_ex "$FF")
        b=-; r=-
        if [ -n "$DL" ]; then
            b=$(ir '*ff_oracle_detect*' "$DL")
            r=$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2fx", b/a}')
            b=$(awk -v b="$b" 'BEGIN{printf "%.1f", b/1e6}')
        fi
        extra=""
        if [ -n "$DLX" ]; then
            c=$(ir '*ff_oracle_detect*' "$DLX")
            extra=$(awk -v a="$a" -v c="$c" -v m="$DLIB_MARCH" \
                'BEGIN{printf " dlib(%s)=%.1f (%.2fx)", m, c/1e6, c/a}')
        fi
        printf '%-28s %10s %10s %8s%s\n' "$(basename "$f")" \
            "$(awk -v a="$a" 'BEGIN{printf "%.1f", a/1e6}')" "$b" "$r" "$extra"
    done
    rm -rf "$T"
else
    echo "valgrind missing: no instruction counts (scripts/install-deps.sh --all)"
fi
