#!/bin/bash
# Job queue benchmark: jobs completed per second by one `framefit worker
# --concurrency 4` (4 worker threads) on PostgreSQL 15 (a private cluster in
# build/bench/pgdata, default durability: fsync on, synchronous_commit on) and
# on SQLite (WAL, synchronous=NORMAL), with the no-op handler test.noop.
#
# Per case: migrate a fresh database, enqueue N jobs through the real enqueue
# path (POST /__test/jobs on a serve with FRAMEFIT_WORKERS=0), start the
# worker, wait until all N are done, then compute from the database
#   jobs/s = N / (max(finished_at) - min(started_at))
# i.e. first claim to last completion, without process start-up. Each job is
# one claim transaction plus one finish transaction (state + attempt row).
#
# Other handlers: call run_case LABEL DBURL TYPE PAYLOAD_JSON [N] below, e.g.
# the email handler against the local SMTP stand-in (mail part: start the SMTP
# server, export FRAMEFIT_SMTP_URL, then run_case with type email.send) in the
# section "EMAIL HANDLER" at the end.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/bench/lib/peer.sh"
FF=$ROOT/build/release/framefit
[ -x "$FF" ] || { echo "bench/jobs: build first (make build)" >&2; exit 1; }
N=${JOBS_N:-20000}
CONCURRENCY=${JOBS_CONCURRENCY:-4}
PORT=${JOBS_PORT:-18090}
OUT=$BENCH_DIR/jobs
rm -rf "$OUT" && mkdir -p "$OUT"
SRV_PID="" WRK_PID="" PG_STARTED=""

cleanup() {
    [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
    [ -n "$WRK_PID" ] && kill "$WRK_PID" 2>/dev/null && wait "$WRK_PID" 2>/dev/null
    [ -n "$PG_STARTED" ] && bench_pg_stop
    true
}
trap cleanup EXIT INT TERM

ffenv() {  # ffenv DBURL CMD...: framefit with the bench environment
    local url=$1; shift
    env FRAMEFIT_DATABASE_URL="$url" FRAMEFIT_DATA_DIR="$OUT/data" FRAMEFIT_TEST_ROUTES=1 \
        FRAMEFIT_SECRET_KEY="$(printf 'ab%.0s' $(seq 32))" FRAMEFIT_LOG_LEVEL=warn \
        FRAMEFIT_LOG_FORMAT=text FRAMEFIT_PORT="$PORT" FRAMEFIT_WORKERS=0 "$@"
}

exec_ffenv() {  # like ffenv, replacing the (sub)shell: $! is framefit's own pid
    local url=$1; shift
    exec env FRAMEFIT_DATABASE_URL="$url" FRAMEFIT_DATA_DIR="$OUT/data" FRAMEFIT_TEST_ROUTES=1 \
        FRAMEFIT_SECRET_KEY="$(printf 'ab%.0s' $(seq 32))" FRAMEFIT_LOG_LEVEL=warn \
        FRAMEFIT_LOG_FORMAT=text FRAMEFIT_PORT="$PORT" FRAMEFIT_WORKERS=0 "$@"
}

sql() {  # sql DBURL QUERY: one line of |-separated values
    case $1 in
    sqlite://*) sqlite3 "${1#sqlite://}" "$2" ;;
    *) bench_psql framefit_jobs -At -c "$2" ;;
    esac
}

run_case() {  # run_case LABEL DBURL TYPE PAYLOAD [N]
    local label=$1 url=$2 type=$3 payload=$4 n=${5:-$N}
    ffenv "$url" "$FF" migrate >/dev/null
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
        echo "bench/jobs: port $PORT is already in use (set JOBS_PORT)" >&2
        return 1
    fi
    (exec_ffenv "$url" "$FF" serve >"$OUT/serve.log" 2>&1) &
    SRV_PID=$!
    bench_wait_http "http://127.0.0.1:$PORT/healthz"
    local left=$n
    while [ "$left" -gt 0 ]; do
        local k=$((left > 5000 ? 5000 : left))
        curl -fs -o /dev/null -X POST -H 'Content-Type: application/json' \
            -d "{\"type\":\"$type\",\"count\":$k,\"payload\":$payload}" \
            "http://127.0.0.1:$PORT/__test/jobs"
        left=$((left - k))
    done
    kill "$SRV_PID" && wait "$SRV_PID" || true
    SRV_PID=""
    (exec_ffenv "$url" "$FF" worker --concurrency "$CONCURRENCY" >"$OUT/worker.log" 2>&1) &
    WRK_PID=$!
    local done=0 i=0
    while [ "$done" -lt "$n" ]; do
        sleep 0.2
        done=$(sql "$url" "SELECT count(*) FROM jobs WHERE type = '$type' AND state = 'done'")
        i=$((i + 1))
        if [ $i -gt 3000 ]; then
            echo "bench/jobs: $label: only $done of $n done after 10 minutes" >&2
            return 1
        fi
    done
    kill "$WRK_PID" && wait "$WRK_PID" || true
    WRK_PID=""
    local span
    span=$(sql "$url" "SELECT max(finished_at) - min(started_at) FROM jobs WHERE type = '$type' AND state = 'done'")
    [ "$span" -gt 0 ] || span=1
    awk -v l="$label" -v n="$n" -v ms="$span" \
        'BEGIN { printf "%-44s %8d jobs  %7.2f s  %9.0f jobs/s\n", l, n, ms / 1000, n * 1000 / ms }'
}

echo "jobs completed per second, one worker process with $CONCURRENCY threads, $N jobs each"

# ---- SQLite -----------------------------------------------------------------------
run_case "sqlite  test.noop ($CONCURRENCY workers)" "sqlite://$OUT/sqlite.db" test.noop '{}'

# ---- PostgreSQL ---------------------------------------------------------------------
if [ -x "$PGBIN/initdb" ]; then
    bench_pg_start
    PG_STARTED=1
    bench_createdb framefit_jobs
    run_case "postgres test.noop ($CONCURRENCY workers)" "$BENCH_PGURL/framefit_jobs" test.noop '{}'
else
    echo "bench/jobs: PostgreSQL 15 not installed; PostgreSQL case skipped"
fi

# ---- EMAIL HANDLER ---------------------------------------------------------------------
# (mail part) the email.send handler against the local SMTP stand-in goes here:
#   start the SMTP server, export FRAMEFIT_SMTP_URL=smtp://127.0.0.1:PORT, then e.g.
#   run_case "sqlite  email.send" "sqlite://$OUT/sqlite-mail.db" email.send '{...}' 2000
