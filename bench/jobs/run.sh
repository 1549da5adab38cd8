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
# Other handlers: call run_case LABEL DBURL TYPE PAYLOAD_JSON [N] below. The
# start/fill/drain/measure steps are shared with bench/mail (bench/lib/drain.sh).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${JOBS_N:-20000}
CONCURRENCY=${JOBS_CONCURRENCY:-4}
PORT=${JOBS_PORT:-18090}
NAME=jobs DBNAME=framefit_jobs
OUT=$ROOT/build/bench/jobs
. "$ROOT/bench/lib/drain.sh"
[ -x "$FF" ] || { echo "bench/jobs: build first (make build)" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"

run_case() {  # run_case LABEL DBURL TYPE PAYLOAD [N]
    local label=$1 url=$2 type=$3 payload=$4 n=${5:-$N}
    drain_serve "$url"
    local left=$n
    while [ "$left" -gt 0 ]; do
        local k=$((left > 5000 ? 5000 : left))
        curl -fs -o /dev/null -X POST -H 'Content-Type: application/json' \
            -d "{\"type\":\"$type\",\"count\":$k,\"payload\":$payload}" \
            "http://127.0.0.1:$PORT/__test/jobs"
        left=$((left - k))
    done
    local done_q="FROM jobs WHERE type = '$type' AND state = 'done'"
    drain_run "$label" "$url" "$n" jobs "$CONCURRENCY" "SELECT count(*) $done_q" \
        "SELECT max(finished_at) - min(started_at) $done_q"
}

echo "jobs completed per second, one worker process with $CONCURRENCY threads, $N jobs each"

# ---- SQLite -----------------------------------------------------------------------
run_case "sqlite  test.noop ($CONCURRENCY workers)" "sqlite://$OUT/sqlite.db" test.noop '{}'

# ---- PostgreSQL ---------------------------------------------------------------------
if drain_pg; then
    run_case "postgres test.noop ($CONCURRENCY workers)" "$BENCH_PGURL/framefit_jobs" test.noop '{}'
else
    echo "bench/jobs: PostgreSQL 15 not installed; PostgreSQL case skipped"
fi

# The email.send handler against the SMTP stand-in: bench/mail/run.sh.
