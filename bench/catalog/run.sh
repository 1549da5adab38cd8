#!/bin/bash
# Catalog benchmark, side by side in one run: the roadmap's stack (Fastify + Prisma +
# PostgreSQL, ../shared/peers) and framefit on PostgreSQL (same cluster, same 10,000
# products) and on SQLite. Each server is pinned to core 0 (SERVER_CPUS), wrk to core 1
# (WRK_CPUS); 64 connections, keep-alive. The shared driver (bench.sh) prints req/s,
# p50, p99, errors, peak RSS and CPU seconds per endpoint; a ratio table follows.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/bench/lib/peer.sh"
if ! bench_have_shared; then
    echo "bench/catalog: skipped: $SHARED/peers not found (the baseline stack lives there)"
    exit 0
fi
FF=$ROOT/build/release/framefit
[ -x "$FF" ] || { echo "bench/catalog: build first (make build)" >&2; exit 1; }
export WRK_CPUS=${WRK_CPUS:-1} SERVER_CPUS=${SERVER_CPUS:-0}
export DURATION=${DURATION:-10s} CONNS=${CONNS:-64}
FF_PORT=${FF_PORT:-18080}
RESULTS=$BENCH_DIR/catalog.tsv
mkdir -p "$BENCH_DIR" && : > "$RESULTS"
export RESULTS
ADMIN_TOKEN=bench-admin-token-0123456789abcdef
export ADMIN_TOKEN

cleanup() { peer_stop; ff_stop; bench_pg_stop; }
trap cleanup EXIT INT TERM

# The shared wrk driver, copied so framefit's own request script (update.lua: PATCH
# with If-Match: *, staff token) can sit beside the peer's. Both servers get the peer's
# own product_get.lua and product_search.lua (q, shape, limit=20, offset 0..80); note
# framefit's q is a full-text prefix-word search, the peer's a substring match.
DRIVER=$BENCH_DIR/driver
rm -rf "$DRIVER" && mkdir -p "$DRIVER"
cp -r "$SHARED/peers/bench.sh" "$SHARED/peers/wrk" "$DRIVER/"
chmod -R u+w "$DRIVER"
cp "$ROOT/bench/catalog/"*.lua "$DRIVER/wrk/"

ff_start() {  # ff_start DATABASE_URL
    FRAMEFIT_DATABASE_URL=$1 FRAMEFIT_DATA_DIR=$BENCH_DIR/ffdata FRAMEFIT_PORT=$FF_PORT \
        FRAMEFIT_ADMIN_TOKEN=$ADMIN_TOKEN FRAMEFIT_LOG_LEVEL=warn \
        taskset -c "$SERVER_CPUS" "$FF" serve >"$BENCH_DIR/framefit.log" 2>&1 &
    FF_PID=$!
    bench_wait_http "http://127.0.0.1:$FF_PORT/healthz"
}
ff_stop() {
    [ -n "${FF_PID:-}" ] && kill "$FF_PID" 2>/dev/null && wait "$FF_PID" 2>/dev/null
    FF_PID=""
}
ff_bench() {  # ff_bench LABEL DATABASE_URL
    FRAMEFIT_DATABASE_URL=$2 FRAMEFIT_DATA_DIR=$BENCH_DIR/ffdata "$FF" migrate >/dev/null
    FRAMEFIT_DATABASE_URL=$2 FRAMEFIT_DATA_DIR=$BENCH_DIR/ffdata "$FF" seed --bench 10000 >/dev/null
    ff_start "$2"
    LABEL=$1 ENDPOINTS="product_get product_search update" \
        bash "$DRIVER/bench.sh" "http://127.0.0.1:$FF_PORT" "$FF_PID"
    ff_stop
}

echo "setting up the baseline stack and PostgreSQL..."
peer_setup
bench_pg_start
peer_load_data
peer_start
LABEL=peer ENDPOINTS="product_get product_search" bash "$DRIVER/bench.sh" \
    "http://127.0.0.1:$PEER_PORT" "$PEER_PID"
peer_stop

bench_createdb framefit_ff
ff_bench framefit-pg "$BENCH_PGURL/framefit_ff"
rm -rf "$BENCH_DIR/ffdata"
ff_bench framefit-sqlite "sqlite://$BENCH_DIR/ffdata/bench.db"

# Ratios against the peer: req/s (higher is better) and p99 (lower is better).
awk -F'\t' '
    { ep = $3; key = $2 SUBSEP ep; rps[key] = $5; p99[key] = $7; rss[key] = $9; eps[ep] = 1; labels[$2] = 1 }
    END {
        printf "\n%-16s %-16s %10s %12s %8s\n", "label", "endpoint", "req_s/peer", "p99/peer", "rss_mb"
        for (l in labels) for (e in eps) {
            k = l SUBSEP e; pk = "peer" SUBSEP e
            if (l == "peer" || !(k in rps)) continue
            xr = (pk in rps && rps[pk] > 0) ? sprintf("%.1fx", rps[k] / rps[pk]) : "-"
            pr = (pk in p99 && p99[pk] > 0) ? sprintf("%.3f", p99[k] / p99[pk]) : "-"
            printf "%-16s %-16s %10s %12s %8s\n", l, e, xr, pr, rss[k]
        }
    }' "$RESULTS"
