#!/bin/bash
# Accounts benchmark, side by side with the roadmap's stack (../shared/peers, bcryptjs
# cost 10 on its event loop): login req/s (Argon2id / bcrypt bound), token refresh req/s
# and p99 (rotation on every call), an authenticated GET (/api/v1/me: JWT verify +
# session check) req/s and p99, and the p99 of GET product by id WHILE logins run flat
# out (the storm: a second wrk hammering login at the same time). Servers pinned to
# core 0 (SERVER_CPUS), wrk to core 1 (WRK_CPUS); 64 connections for single endpoints,
# 32 + 32 for the storm. framefit runs on SQLite with the 10,000-product bench seed and
# its rate limits off (they would throttle a benchmark from one address by design).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/bench/lib/peer.sh"
FF=$ROOT/build/release/framefit
[ -x "$FF" ] || { echo "bench/accounts: build first (make build)" >&2; exit 1; }
export WRK_CPUS=${WRK_CPUS:-1} SERVER_CPUS=${SERVER_CPUS:-0}
export DURATION=${DURATION:-10s} CONNS=${CONNS:-64}
FF_PORT=${FF_PORT:-18081}
OUT=$BENCH_DIR/accounts
RESULTS=$BENCH_DIR/accounts.tsv
mkdir -p "$OUT" && : > "$RESULTS"
export RESULTS
export BENCH_EMAIL=bench@framefit.test BENCH_PASSWORD=correct-horse-9
HAVE_PEER=0
bench_have_shared && HAVE_PEER=1

cleanup() { peer_stop; ff_stop; [ $HAVE_PEER = 1 ] && bench_pg_stop; rm -rf "$OUT/ffdata"; }
trap cleanup EXIT INT TERM

WRKDIR=$OUT/wrk
rm -rf "$WRKDIR" && mkdir -p "$WRKDIR"
if [ $HAVE_PEER = 1 ]; then
    cp "$SHARED/peers/wrk/"*.lua "$WRKDIR/"
else
    echo "bench/accounts: $SHARED/peers not found: framefit only"
    cp "$ROOT/bench/catalog/"*.lua "$WRKDIR/" 2>/dev/null || true
fi
cp "$ROOT/bench/accounts/"*.lua "$WRKDIR/"
chmod -R u+w "$WRKDIR"

# wrk_run LABEL ENDPOINT CONNS [extra env...]: one measured run; prints and records
# label endpoint conns req_s p50 p99 errors (the peer driver's format).
wrk_run() {
    label=$1 ep=$2 conns=$3
    cat "$WRKDIR/common.lua" "$WRKDIR/$ep.lua" > "$OUT/$ep.run.lua"
    out=$(taskset -c "$WRK_CPUS" wrk -t2 -c"$conns" -d"$DURATION" --timeout 20s \
          -s "$OUT/$ep.run.lua" "$BASE" 2>&1 || true)
    line=$(grep WRKRESULT <<<"$out" || true)
    [ -n "$line" ] || { echo "$label $ep: wrk failed: $out" >&2; return 0; }
    get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    errs=$(( $(get non2xx) + $(get sock_err) ))
    printf '%-10s %-22s %5s %10s %10s %10s %7s\n' "$label" "$ep" "$conns" "$(get req_s)" \
        "$(get p50_ms)" "$(get p99_ms)" "$errs"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$ep" "$conns" "$(get req_s)" "$(get p50_ms)" \
        "$(get p99_ms)" "$errs" >> "$RESULTS"
}

# storm LABEL: product_get (32 conns) measured while login (32 conns) runs alongside.
storm() {
    cat "$WRKDIR/common.lua" "$WRKDIR/login.lua" > "$OUT/login.storm.lua"
    taskset -c "$WRK_CPUS" wrk -t1 -c32 -d"$DURATION" --timeout 30s -s "$OUT/login.storm.lua" \
        "$BASE" >"$OUT/storm-login.txt" 2>&1 &
    storm_pid=$!
    sleep 1
    wrk_run "$1" product_get_in_storm 32 || true
    wait "$storm_pid" || true
    sed -n 's/.*WRKRESULT req_s=\([^ ]*\).*/  (login alongside: \1 req\/s)/p' "$OUT/storm-login.txt"
}
cp "$WRKDIR/product_get.lua" "$WRKDIR/product_get_in_storm.lua"

# drain: wait (up to 60 s) until one login answers within 2 s, so a run does not start
# behind the backlog of the previous one (both servers keep hashing abandoned logins).
drain() {
    for _ in $(seq 1 30); do
        t=$(curl -s -o /dev/null -w '%{time_total}' -m 30 -X POST -H 'Content-Type: application/json' \
            -d "{\"email\":\"$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\"}" "$BASE/api/v1/auth/login")
        awk -v t="$t" 'BEGIN{exit !(t < 2)}' && return 0
        sleep 2
    done
}

register() {
    curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
        -d "{\"email\":\"$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\"}" "$BASE/api/v1/auth/register"
}

printf '%-10s %-22s %5s %10s %10s %10s %7s\n' label endpoint conns req_s p50_ms p99_ms errors

# ---- the peer ------------------------------------------------------------------------
if [ $HAVE_PEER = 1 ]; then
    peer_setup
    bench_pg_start
    peer_load_data
    peer_start
    BASE=http://127.0.0.1:$PEER_PORT
    register
    wrk_run peer product_get "$CONNS"
    wrk_run peer login "$CONNS"
    drain
    storm peer
    peer_stop
fi

# ---- framefit ------------------------------------------------------------------------
rm -rf "$OUT/ffdata"
export FRAMEFIT_DATA_DIR=$OUT/ffdata FRAMEFIT_DATABASE_URL=sqlite://$OUT/ffdata/bench.db
"$FF" migrate >/dev/null
"$FF" seed --bench 10000 >/dev/null
if curl -s -o /dev/null "http://127.0.0.1:$FF_PORT/"; then
    echo "bench/accounts: port $FF_PORT is already in use (set FF_PORT)" >&2
    exit 1
fi
FRAMEFIT_PORT=$FF_PORT FRAMEFIT_LOG_LEVEL=warn FRAMEFIT_RATELIMIT_API=0/0 \
    FRAMEFIT_RATELIMIT_AUTH_IP=0/0 FRAMEFIT_RATELIMIT_AUTH_ACCOUNT=0/0 \
    taskset -c "$SERVER_CPUS" "$FF" serve >"$OUT/framefit.log" 2>&1 &
FF_PID=$!
ff_stop() { [ -n "${FF_PID:-}" ] && kill "$FF_PID" 2>/dev/null && wait "$FF_PID" 2>/dev/null; FF_PID=""; }
BASE=http://127.0.0.1:$FF_PORT
bench_wait_http "$BASE/healthz"
register
wrk_run framefit product_get "$CONNS"
wrk_run framefit login "$CONNS"
drain
storm framefit
drain
# refresh: a pool of live refresh tokens, 48 per wrk thread (more than its connections)
: > "$OUT/refresh_tokens"
for _ in $(seq 1 96); do
    t=$(curl -s -X POST -H 'Content-Type: application/json' \
        -d "{\"email\":\"$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\"}" "$BASE/api/v1/auth/login" |
        sed -n 's/.*"refresh_token":"\([^"]*\)".*/\1/p')
    echo "$t" >> "$OUT/refresh_tokens"  # (the body has no final newline)
done
# failed logins: a known and an unknown address take the same path (one Argon2id verify).
# 3 addresses x 3 failures each (the lockout starts at the 5th failure of an address).
fail_ms() {  # fail_ms PREFIX: median of 9 failed logins, in ms
    for i in 1 2 3; do for _ in 1 2 3; do
        curl -s -o /dev/null -w '%{time_total}\n' -X POST -H 'Content-Type: application/json' \
            -d "{\"email\":\"$1$i@framefit.test\",\"password\":\"not-the-password-1\"}" \
            "$BASE/api/v1/auth/login"
    done; done | sort -n | sed -n 5p | awk '{printf "%.1f", $1 * 1000}'
}
for i in 1 2 3; do
    curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
        -d "{\"email\":\"known$i@framefit.test\",\"password\":\"$BENCH_PASSWORD\"}" "$BASE/api/v1/auth/register"
done
echo "failed login, median of 9: known address $(fail_ms known) ms, unknown address $(fail_ms ghost) ms"
ACCESS_TOKEN=$(curl -s -X POST -H 'Content-Type: application/json' \
    -d "{\"email\":\"$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\"}" "$BASE/api/v1/auth/login" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
export ACCESS_TOKEN REFRESH_TOKENS=$OUT/refresh_tokens TOKENS_PER_THREAD=48
wrk_run framefit refresh "$CONNS"
wrk_run framefit me "$CONNS"
ff_stop
rm -f "$OUT/refresh_tokens"

# ---- ratios --------------------------------------------------------------------------
awk -F'\t' '
    { rps[$1 SUBSEP $2] = $4; p99[$1 SUBSEP $2] = $6; eps[$2] = 1 }
    END {
        printf "\n%-22s %12s %12s %12s %12s %10s\n", "endpoint", "framefit_rps", "peer_rps",
               "framefit_p99", "peer_p99", "rps_ratio"
        for (e in eps) {
            f = "framefit" SUBSEP e; p = "peer" SUBSEP e
            r = (p in rps && rps[p] > 0 && f in rps) ? sprintf("%.1fx", rps[f] / rps[p]) : "-"
            printf "%-22s %12s %12s %12s %12s %10s\n", e, (f in rps) ? rps[f] : "-",
                   (p in rps) ? rps[p] : "-", (f in p99) ? p99[f] : "-", (p in p99) ? p99[p] : "-", r
        }
    }' "$RESULTS"
