#!/bin/bash
# Checkout benchmark, side by side in one run: the roadmap's stack (Fastify + Prisma +
# PostgreSQL 15, ../shared/peers) and framefit on the same private PostgreSQL cluster
# (bench/lib/peer.sh: same settings, synchronous_commit on), then framefit on SQLite.
#
# The request: the peer's POST /api/v1/orders (JWT, two random distinct products of
# 10,000, quantity 1..2, one transaction) against framefit's direct form of the same
# route (bearer access token of a signed-in customer; {"items":[{"variant_id":N,
# "quantity":N},...]}, the same random choice: bench/orders/order_direct.lua). Same wrk
# parameters for both: 64 connections, 2 threads, warm-up WARMUP then DURATION measured;
# each server pinned to core 0 (SERVER_CPUS), wrk to core 1 (WRK_CPUS), PostgreSQL
# wherever the scheduler puts it.
#
# After each server's runs, the no-oversell check: for every variant (product for the
# peer) ordered units + remaining stock = initial stock, no stock below 0, and the
# number of orders in the database = the number of 201 answers wrk counted.
#
# Knobs: DURATION [10s] WARMUP [3s] CONNS [64] FF_PORT [18082]; framefit's pool
# FF_DB_POOL [16] and handler threads FF_HTTP_WORKERS [16] (see docs/storage.md).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/bench/lib/peer.sh"
if ! bench_have_shared; then
    echo "bench/orders: skipped: $SHARED/peers not found (the baseline stack lives there)"
    exit 0
fi
FF=$ROOT/build/release/framefit
[ -x "$FF" ] || { echo "bench/orders: build first (make build)" >&2; exit 1; }
WRK_CPUS=${WRK_CPUS:-1} SERVER_CPUS=${SERVER_CPUS:-0}
export SERVER_CPUS
DURATION=${DURATION:-10s} WARMUP=${WARMUP:-3s} CONNS=${CONNS:-64}
FF_PORT=${FF_PORT:-18082}
FF_DB_POOL=${FF_DB_POOL:-16} FF_HTTP_WORKERS=${FF_HTTP_WORKERS:-16}
OUT=$BENCH_DIR/orders
RESULTS=$OUT/results.tsv
INITIAL=1000000 # every seeded variant's / product's stock
mkdir -p "$OUT" && : > "$RESULTS"
EMAIL=orders-bench@framefit.test PASSWORD=correct-horse-9-orders

cleanup() { peer_stop; ff_stop; bench_pg_stop; }
trap cleanup EXIT INT TERM

WRKDIR=$OUT/wrk
rm -rf "$WRKDIR" && mkdir -p "$WRKDIR"
cp "$SHARED/peers/wrk/common.lua" "$SHARED/peers/wrk/order.lua" "$WRKDIR/"
cp "$ROOT/bench/orders/"*.lua "$WRKDIR/"
chmod -R u+w "$WRKDIR"

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# run_wrk LABEL SCRIPT BASE PID: warm-up, then the measured run; prints and records
# label, orders/s, p50, p99, errors, server CPU seconds. Every 201 (both runs) is
# added to $OUT/LABEL.count.
run_wrk() {
    label=$1 script=$2 base=$3 pid=$4
    cat "$WRKDIR/common.lua" "$WRKDIR/$script.lua" "$WRKDIR/count.lua" > "$OUT/$label.lua"
    export COUNT_FILE=$OUT/$label.count
    : > "$COUNT_FILE"
    taskset -c "$WRK_CPUS" wrk -t2 -c"$CONNS" -d"$WARMUP" --timeout 10s -s "$OUT/$label.lua" \
        "$base" >/dev/null 2>&1 || true
    sleep 1
    t0=$(cpu_ticks "$pid")
    out=$(taskset -c "$WRK_CPUS" wrk -t2 -c"$CONNS" -d"$DURATION" --timeout 10s \
          -s "$OUT/$label.lua" "$base" 2>&1 || true)
    t1=$(cpu_ticks "$pid")
    line=$(grep WRKRESULT <<<"$out" || true)
    [ -n "$line" ] || { echo "$label: wrk failed: $out" >&2; return 1; }
    get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    errs=$(( $(get non2xx) + $(get sock_err) ))
    cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", (b-a)/hz}')
    printf '%-16s %10s %9s %9s %7s %7s\n' "$label" "$(get req_s)" "$(get p50_ms)" \
        "$(get p99_ms)" "$errs" "$cpu"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$(get req_s)" "$(get p50_ms)" "$(get p99_ms)" \
        "$errs" "$cpu" >> "$RESULTS"
}

# check LABEL MISMATCHED NEGATIVE ORDERS [SENT_201 SENT_499]: the no-oversell verdict.
# wrk stops with up to CONNS requests in flight per run (warm-up and measured): those
# orders may commit while their 201 is never read, so the database may hold up to
# 2 x CONNS orders more than the 201s wrk read, never fewer. framefit also counts what
# it answered (/metrics): orders = its 201s + some of its 499s (client gone first).
check() {
    created=$(awk '{s += $1} END {print s + 0}' "$OUT/$1.count")
    cut=$(( $4 - created ))
    verdict=ok
    [ "$2" = 0 ] && [ "$3" = 0 ] && [ "$cut" -ge 0 ] && [ "$cut" -le $(( 2 * CONNS )) ] ||
        verdict=FAILED
    server=""
    if [ -n "${5:-}" ]; then
        [ "$4" -ge "$5" ] && [ "$4" -le $(( $5 + $6 )) ] || verdict=FAILED
        server=" (the server answered 201 $5 times, 499 client-gone $6)"
    fi
    [ $verdict = ok ] || status=1
    echo "oversell check $1: $verdict: ordered units + stock = $INITIAL for every item" \
        "($2 differ), stock < 0: $3; orders in the database $4$server; 201s wrk read" \
        "$created, so $cut were cut off in flight when wrk stopped (<= $(( 2 * CONNS )))"
    printf '%s\t%s\n' "$1" "$verdict" >> "$OUT/verdicts.tsv"
}
status=0
: > "$OUT/verdicts.tsv"

printf '%-16s %10s %9s %9s %7s %7s\n' label orders_s p50_ms p99_ms errors cpu_s

# ---- the peer ------------------------------------------------------------------------
peer_setup
bench_pg_start
peer_load_data
peer_start
PEER=http://127.0.0.1:$PEER_PORT
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$PEER/api/v1/auth/register"
TOKEN=$(curl -s -X POST -H 'Content-Type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$PEER/api/v1/auth/login" |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "bench/orders: could not log in to the peer" >&2; exit 1; }
export TOKEN BASE_PATH=""
run_wrk peer order "$PEER" "$PEER_PID"
peer_stop
read -r mis neg orders < <(bench_psql framefit -At -F' ' -c "
    SELECT (SELECT COUNT(*) FROM products p LEFT JOIN (SELECT product_id, SUM(quantity) q
              FROM order_items GROUP BY product_id) o ON o.product_id = p.id
            WHERE p.stock + COALESCE(o.q, 0) <> $INITIAL),
           (SELECT COUNT(*) FROM products WHERE stock < 0), (SELECT COUNT(*) FROM orders)")
check peer "$mis" "$neg" "$orders"

# ---- framefit ------------------------------------------------------------------------
ff_start() {  # ff_start DATABASE_URL
    if curl -s -o /dev/null "http://127.0.0.1:$FF_PORT/"; then
        echo "bench/orders: port $FF_PORT is already in use (set FF_PORT)" >&2
        return 1
    fi
    FRAMEFIT_DATABASE_URL=$1 FRAMEFIT_DATA_DIR=$OUT/ffdata FRAMEFIT_PORT=$FF_PORT \
        FRAMEFIT_LOG_LEVEL=warn FRAMEFIT_DB_POOL_SIZE=$FF_DB_POOL \
        FRAMEFIT_HTTP_WORKERS=$FF_HTTP_WORKERS FRAMEFIT_ACCESS_TOKEN_TTL=3600 \
        FRAMEFIT_RATELIMIT_AUTH_IP=0/0 FRAMEFIT_RATELIMIT_AUTH_ACCOUNT=0/0 \
        taskset -c "$SERVER_CPUS" "$FF" serve >"$OUT/framefit.log" 2>&1 &
    FF_PID=$!
    bench_wait_http "http://127.0.0.1:$FF_PORT/healthz"
}
ff_stop() {
    [ -n "${FF_PID:-}" ] && kill "$FF_PID" 2>/dev/null && wait "$FF_PID" 2>/dev/null
    FF_PID=""
}

# ff_bench LABEL DATABASE_URL SQL-RUNNER: seed, start, sign a customer in, measure, check.
ff_bench() {
    label=$1 url=$2 runsql=$3
    FRAMEFIT_DATABASE_URL=$url FRAMEFIT_DATA_DIR=$OUT/ffdata "$FF" migrate >/dev/null
    FRAMEFIT_DATABASE_URL=$url FRAMEFIT_DATA_DIR=$OUT/ffdata "$FF" seed --bench 10000 >/dev/null
    [ "$($runsql "SELECT COUNT(*) FROM variants WHERE id <> product_id OR stock <> $INITIAL")" = 0 ] ||
        { echo "bench/orders: variant i is not product i's only variant" >&2; exit 1; }
    ff_start "$url"
    base=http://127.0.0.1:$FF_PORT
    curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
        -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$base/api/v1/auth/register"
    TOKEN=$(curl -s -X POST -H 'Content-Type: application/json' \
        -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$base/api/v1/auth/login" |
        sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    [ -n "$TOKEN" ] || { echo "bench/orders: could not sign in to framefit" >&2; exit 1; }
    export TOKEN
    run_wrk "$label" order_direct "$base" "$FF_PID"
    # the requests wrk abandoned finish (the /metrics request itself is the one left)
    for _ in $(seq 1 300); do
        busy=$(curl -s "$base/metrics" | awk '$1 == "framefit_http_requests_in_flight" { print $2 }')
        [ "${busy:-1}" -le 1 ] 2>/dev/null && break
        sleep 0.1
    done
    metric() {
        curl -s "$base/metrics" | awk -v st="$1" '$1 == "framefit_http_requests_total{method=\"POST\",route=\"/api/v1/orders\",status=\"" st "\"}" { s += $2 } END { print s + 0 }'
    }
    sent=$(metric 201) gone=$(metric 499)
    ff_stop
    read -r mis neg orders <<<"$($runsql "
        SELECT (SELECT COUNT(*) FROM variants v LEFT JOIN (SELECT variant_id, SUM(quantity) q
                  FROM order_lines GROUP BY variant_id) o ON o.variant_id = v.id
                WHERE v.stock + COALESCE(o.q, 0) <> $INITIAL),
               (SELECT COUNT(*) FROM variants WHERE stock < 0), (SELECT COUNT(*) FROM orders)")"
    check "$label" "$mis" "$neg" "$orders" "$sent" "$gone"
}

pg_sql() { bench_psql framefit_orders -At -F' ' -c "$1"; }
SQLITE_DB=$OUT/ffdata/bench.db
sqlite_sql() {
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for row in c.execute(sys.argv[2]):
    print(" ".join(str(x) for x in row))' "$SQLITE_DB" "$1"
}

bench_createdb framefit_orders
rm -rf "$OUT/ffdata"
ff_bench framefit-pg "$BENCH_PGURL/framefit_orders" pg_sql
bench_pg_stop
rm -rf "$OUT/ffdata"
ff_bench framefit-sqlite "sqlite://$SQLITE_DB" sqlite_sql
rm -rf "$OUT/ffdata"

# ---- side by side ----------------------------------------------------------------------
awk -F'\t' -v target=5 '
    FNR == NR { verdict[$1] = $2; next }
    { rps[$1] = $2; p50[$1] = $3; p99[$1] = $4; err[$1] = $5; order[++n] = $1 }
    END {
        printf "\n%-16s %10s %9s %9s %7s %10s %9s\n", "server", "orders_s", "p50_ms", "p99_ms",
               "errors", "vs_peer", "oversell"
        for (i = 1; i <= n; i++) {
            l = order[i]
            r = (l != "peer" && rps["peer"] > 0) ? sprintf("%.2fx", rps[l] / rps["peer"]) : "-"
            printf "%-16s %10s %9s %9s %7s %10s %9s\n", l, rps[l], p50[l], p99[l], err[l], r,
                   verdict[l]
        }
        if (rps["peer"] > 0 && ("framefit-pg" in rps))
            printf "framefit-pg / peer = %.2fx orders/s (target %dx: %s)\n",
                   rps["framefit-pg"] / rps["peer"], target,
                   (rps["framefit-pg"] >= target * rps["peer"] ? "met" : "NOT met")
    }' "$OUT/verdicts.tsv" "$RESULTS"
exit $status
