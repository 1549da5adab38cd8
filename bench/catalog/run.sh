#!/bin/bash
# bench/catalog/run.sh - the catalog API under wrk (CONNS=64 keep-alive connections,
# THREADS=2, DURATION=10s after WARMUP=2s) on the peer benchmark's 10,000 products
# (`framefit seed --bench 10000`), on SQLite and on a private PostgreSQL 15:
#   get      GET /api/v1/products/{id}            the peer's wrk/product_get.lua
#   search   GET /api/v1/products?q=&shape=&limit=20&offset=   the peer's product_search.lua
#            (framefit's q is a prefix word search, the peer's a substring match)
#   update   PATCH /api/v1/products/{id} with If-Match: *      (staff; bench/catalog/update.lua)
# Prints req/s, p50/p99 latency (ms), errors and the server's peak RSS (VmHWM).
# BENCH_DBS="sqlite postgres" selects the back ends. Needs ../shared/peers/wrk.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
CONNS=${CONNS:-64}; THREADS=${THREADS:-2}; DURATION=${DURATION:-10s}; WARMUP=${WARMUP:-2s}
BUILD=${BUILD:-build/release}
WRKDIR=${WRKDIR:-$ROOT/../shared/peers/wrk}
command -v wrk >/dev/null || { echo "bench/catalog: wrk missing (scripts/install-deps.sh --all)"; exit 1; }
[ -f "$WRKDIR/product_get.lua" ] || { echo "bench/catalog: no peer wrk scripts in $WRKDIR; skipped"; exit 0; }
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j 2 --target framefit >/dev/null
FF=$ROOT/$BUILD/framefit
TMP=$(mktemp -d)
TOKEN=bench-admin-token-0123456789abcdef
PID=""
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    [ -f "$TMP/pg/url" ] && sh tests/pg/pg-stop.sh "$TMP/pg" >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT
for s in product_get product_search; do cat "$WRKDIR/common.lua" "$WRKDIR/$s.lua" >"$TMP/$s.lua"; done
cat "$WRKDIR/common.lua" bench/catalog/update.lua >"$TMP/update.lua"

serve() {  # serve URL: seed and start framefit; sets PID and PORT
    env FRAMEFIT_DATABASE_URL="$1" FRAMEFIT_DATA_DIR="$TMP/var" "$FF" seed --bench 10000 >/dev/null
    env FRAMEFIT_DATABASE_URL="$1" FRAMEFIT_DATA_DIR="$TMP/var" FRAMEFIT_PORT=0 \
        FRAMEFIT_LOG_LEVEL=warn FRAMEFIT_ADMIN_TOKEN=$TOKEN "$FF" serve 2>"$TMP/log" &
    PID=$!
    PORT=""
    for _ in $(seq 1 100); do
        PORT=$(ss -ltnpH 2>/dev/null | awk -v p="pid=$PID," '$0 ~ p {n=split($4,a,":"); print a[n]; exit}')
        [ -n "$PORT" ] && break
        sleep 0.05
    done
    [ -n "$PORT" ] || { echo "bench/catalog: server did not start"; cat "$TMP/log"; exit 1; }
}

run() {  # run DB NAME SCRIPT
    local url="http://127.0.0.1:$PORT" out line
    ADMIN_TOKEN=$TOKEN wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$3" "$url" >/dev/null 2>&1 || true
    echo 5 >"/proc/$PID/clear_refs" 2>/dev/null || true
    out=$(ADMIN_TOKEN=$TOKEN wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$3" "$url" 2>&1 || true)
    line=$(grep WRKRESULT <<<"$out" || true)
    [ -n "$line" ] || { echo "$1 $2: wrk failed: $out"; return; }
    get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    printf '%-9s %-7s %6s %10s %8s %8s %7s %8s\n' "$1" "$2" "$CONNS" "$(get req_s)" \
        "$(get p50_ms)" "$(get p99_ms)" "$(( $(get non2xx) + $(get sock_err) ))" \
        "$(awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$PID/status")"
}

printf '%-9s %-7s %6s %10s %8s %8s %7s %8s\n' db endpoint conns req_s p50_ms p99_ms errors rss_mb
for db in ${BENCH_DBS:-sqlite postgres}; do
    case $db in
    sqlite) url="sqlite://$TMP/var/framefit.db" ;;
    postgres)
        url=$(bash tests/pg/pg-start.sh "$TMP/pg" 2>/dev/null | tail -1)
        [ -n "$url" ] || { echo "postgres: PostgreSQL 15 not available; skipped"; continue; } ;;
    esac
    serve "$url"
    run "$db" get "$TMP/product_get.lua"
    run "$db" search "$TMP/product_search.lua"
    run "$db" update "$TMP/update.lua"
    kill -TERM "$PID" && wait "$PID" || true
    PID=""
done
