#!/bin/bash
# bench/tryon/run.sh - try-on upload + analysis, end to end over HTTP.
#
# Driver: wrk with bench/tryon/upload.lua, which POSTs a 1920x1080 JPEG from
# /work/shared/data/speed (PHOTO=...) as a raw image/jpeg body to
# /api/v1/tryon/sessions. Each request does everything a shopper's upload
# does: body read, metadata stripping, JPEG decode, face detection, 68
# landmarks, pose/quality, face shape and scale, photo into the object store
# (fsync), session row into SQLite, JSON reply.
#   latency     1 connection, one request at a time: p50 / p99 / max
#   throughput  8 connections (8 concurrent shoppers), server pinned to 2 cores
#               (taskset -c 0,1 when there are more): req/s, p50 / p99
# DURATION (default 20s) after a WARMUP (5s). Render benchmarks live in the
# render part's own bench folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-20s}; WARMUP=${WARMUP:-5s}
BUILD=${BUILD:-build/release}
SHARED=${FF_SHARED_DIR:-$(cd .. && pwd)/shared}
PHOTO=${PHOTO:-$SHARED/data/speed/1259817140_1_1920x1080.jpg}
command -v wrk >/dev/null || { echo "bench/tryon: wrk missing (scripts/install-deps.sh --all)"; exit 1; }
[ -f "$PHOTO" ] || { echo "bench/tryon: SKIP: no photo at $PHOTO"; exit 0; }
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j 2 --target framefit >/dev/null

TMP=$(mktemp -d)
cleanup() { [ -n "${PID:-}" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
PIN=""
if [ "$(nproc)" -gt 2 ] && command -v taskset >/dev/null; then PIN="taskset -c 0,1"; fi
env -u FRAMEFIT_DATABASE_URL FRAMEFIT_PORT=0 FRAMEFIT_DATA_DIR="$TMP/var" \
    FRAMEFIT_LOG_LEVEL=warn FRAMEFIT_LOG_FORMAT=json \
    $PIN "$BUILD/framefit" serve 2>"$TMP/log" &
PID=$!
for _ in $(seq 1 200); do
    PORT=$(ss -ltnpH 2>/dev/null | awk -v p="pid=$PID," '$0 ~ p {n=split($4,a,":"); print a[n]; exit}')
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "${PORT:-}" ] || { echo "bench/tryon: server did not start"; cat "$TMP/log"; exit 1; }
URL="http://127.0.0.1:$PORT"
# one request first: it must succeed and find a face, else the numbers mean nothing
code=$(curl -s -o "$TMP/first.json" -w '%{http_code}' -H 'Content-Type: image/jpeg' \
            --data-binary @"$PHOTO" "$URL/api/v1/tryon/sessions")
faces=$(sed -n 's/.*"faces_found":\([0-9]*\).*/\1/p' "$TMP/first.json")
[ "$code" = 201 ] || { echo "bench/tryon: upload failed ($code): $(head -c 300 "$TMP/first.json")"; exit 1; }
echo "photo: $(basename "$PHOTO") ($(stat -c %s "$PHOTO") bytes), faces found: $faces," \
     "cores: $(nproc)${PIN:+ (server pinned to 2)}, workers: default"

export WRK_FILE=$PHOTO
printf '%-11s %5s %8s %8s %8s %8s %8s %6s\n' run conns req_s p50_ms p99_ms max_ms requests errors
run() {
    local name=$1 conns=$2 threads=$3
    wrk -t"$threads" -c"$conns" -d"$WARMUP" -s bench/tryon/upload.lua "$URL" >/dev/null 2>&1 || true
    local out line
    out=$(wrk -t"$threads" -c"$conns" -d"$DURATION" --timeout 30s -s bench/tryon/upload.lua \
              "$URL" 2>&1 || true)
    line=$(grep WRKRESULT <<<"$out" || true)
    [ -n "$line" ] || { echo "$name: wrk failed: $out"; return; }
    get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    printf '%-11s %5s %8s %8s %8s %8s %8s %6s\n' "$name" "$conns" "$(get req_s)" \
        "$(get p50_ms)" "$(get p99_ms)" "$(get max_ms)" "$(get requests)" \
        "$(( $(get non2xx) + $(get sock_err) ))"
}
run latency 1 1
run throughput 8 2
echo "server peak RSS: $(awk '/VmHWM/{printf "%.1f MB", $2/1024}' /proc/$PID/status)"
