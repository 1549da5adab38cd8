#!/bin/bash
# bench/http/run.sh - HTTP engine throughput of `framefit serve` with wrk
# (keep-alive, CONNS=64 connections, THREADS=2 wrk threads, DURATION=10s after
# a WARMUP=2s run). Endpoints:
#   healthz   GET /healthz            answered on the I/O thread (inline route)
#   readyz    GET /readyz             worker pool path (suspend/resume) + storage ping
#   json      POST /__test/json       ~1 KB JSON parsed and re-serialized on a worker
#   notfound  GET /nope               404 problem+json
# Prints req/s, p50 and p99 latency (ms), errors, and the server's peak RSS
# (VmHWM). Access logging is off (FRAMEFIT_LOG_LEVEL=warn) unless LOG=info.
set -euo pipefail
cd "$(dirname "$0")/../.."
CONNS=${CONNS:-64}; THREADS=${THREADS:-2}; DURATION=${DURATION:-10s}; WARMUP=${WARMUP:-2s}
BUILD=${BUILD:-build/release}
command -v wrk >/dev/null || { echo "bench/http: wrk missing (scripts/install-deps.sh --all)"; exit 1; }
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j 2 --target framefit >/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

TMP=$(mktemp -d)
cleanup() { [ -n "${PID:-}" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
env -u FRAMEFIT_DATABASE_URL FRAMEFIT_PORT=0 FRAMEFIT_DATA_DIR="$TMP/var" \
    FRAMEFIT_LOG_LEVEL="${LOG:-warn}" FRAMEFIT_TEST_ROUTES=1 FRAMEFIT_LOG_FORMAT=json \
    "$BUILD/framefit" serve 2>"$TMP/log" &
PID=$!
# the listening line is logged at info; with LOG=warn read the port from ss
for _ in $(seq 1 100); do
    PORT=$(ss -ltnpH 2>/dev/null | awk -v p="pid=$PID," '$0 ~ p {n=split($4,a,":"); print a[n]; exit}')
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "${PORT:-}" ] || { echo "bench/http: server did not start"; cat "$TMP/log"; exit 1; }
URL="http://127.0.0.1:$PORT"

ITEMS=""
for i in 1 2 3 4 5 6 7 8; do
    ITEMS="$ITEMS${ITEMS:+,}{\"product_id\":$((1000 + i)),\"sku\":\"FF-00100$i\",\"quantity\":$((i % 3 + 1)),\"unit_price_cents\":$((4900 + i * 137)),\"note\":\"engraving-$i\"}"
done
JSON="{\"user\":{\"id\":42,\"email\":\"jane.doe@example.com\",\"name\":\"Jane Doe\"},\"currency\":\"EUR\",\"shipping\":{\"street\":\"Rue de la Paix 1\",\"city\":\"Paris\",\"zip\":\"75002\",\"country\":\"FR\"},\"items\":[$ITEMS],\"coupon\":null,\"gift\":false}"

printf '%-10s %6s %10s %8s %8s %7s %8s\n' endpoint conns req_s p50_ms p99_ms errors rss_mb
run() {
    local name=$1 method=$2 path=$3 body=${4:-}
    export WRK_METHOD=$method WRK_PATH=$path WRK_BODY=$body
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s bench/http/wrk.lua "$URL" >/dev/null 2>&1 || true
    echo 5 > "/proc/$PID/clear_refs" 2>/dev/null || true
    local out line
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s bench/http/wrk.lua "$URL" 2>&1 || true)
    line=$(grep WRKRESULT <<<"$out" || true)
    [ -n "$line" ] || { echo "$name: wrk failed: $out"; return; }
    get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    local errs=$(( $(get non2xx) + $(get sock_err) ))
    [ "$name" = notfound ] && errs=$(get sock_err)
    local rss; rss=$(awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$PID/status")
    printf '%-10s %6s %10s %8s %8s %7s %8s\n' "$name" "$CONNS" "$(get req_s)" "$(get p50_ms)" \
        "$(get p99_ms)" "$errs" "$rss"
}
run healthz GET /healthz
run readyz GET /readyz
run json POST /__test/json "$JSON"
run notfound GET /nope
echo "peak RSS over the whole run: $(awk '/VmPeak|VmHWM/{printf "%s %.1f MB  ", $1, $2/1024}' /proc/$PID/status)"
