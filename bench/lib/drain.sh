# bench/lib/drain.sh - sourced by the queue benchmarks (bench/jobs, bench/mail):
# fill a fresh database with work through a real `framefit serve` (workers off),
# stop it, start one `framefit worker`, wait until a count reaches N, and
# report the rate from the database's own timestamps:
#   rate = N / (max(finished_at) - min(started_at))   (first claim to last completion)
#
# The caller sets, before sourcing: ROOT, OUT (scratch dir), PORT, DBNAME (the
# PostgreSQL database), NAME (for messages) and, optionally, DRAIN_ENV (more
# VAR=value words for framefit). Every framefit is exec'd in its own subshell so
# $! is its pid and the EXIT trap stops exactly the processes it started.
. "$ROOT/bench/lib/peer.sh"
FF=$ROOT/build/release/framefit
SRV_PID="" WRK_PID="" PG_STARTED="" DRAIN_EXTRA_PIDS=""

drain_cleanup() {
    for p in $SRV_PID $WRK_PID $DRAIN_EXTRA_PIDS; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    [ -n "$PG_STARTED" ] && bench_pg_stop
    true
}
trap drain_cleanup EXIT INT TERM

ffenv() {  # ffenv DBURL CMD...: exec framefit with the bench environment (use in a subshell)
    local url=$1; shift
    # shellcheck disable=SC2086  # DRAIN_ENV is a list of VAR=value words
    exec env FRAMEFIT_DATABASE_URL="$url" FRAMEFIT_DATA_DIR="$OUT/data" FRAMEFIT_TEST_ROUTES=1 \
        FRAMEFIT_SECRET_KEY="$(printf 'ab%.0s' $(seq 32))" FRAMEFIT_LOG_LEVEL=warn \
        FRAMEFIT_LOG_FORMAT=text FRAMEFIT_PORT="$PORT" FRAMEFIT_WORKERS=0 ${DRAIN_ENV:-} "$@"
}

sql() {  # sql DBURL QUERY: one line of |-separated values
    case $1 in
    sqlite://*) sqlite3 "${1#sqlite://}" "$2" ;;
    *) bench_psql "$DBNAME" -At -c "$2" ;;
    esac
}

drain_serve() {  # drain_serve DBURL: migrate, then serve in the background (SRV_PID)
    (ffenv "$1" "$FF" migrate >/dev/null)
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
        echo "bench/$NAME: port $PORT is already in use" >&2
        return 1
    fi
    (ffenv "$1" "$FF" serve >"$OUT/serve.log" 2>&1) &
    SRV_PID=$!
    bench_wait_http "http://127.0.0.1:$PORT/healthz"
}

drain_run() {  # drain_run LABEL DBURL N UNIT CONCURRENCY COUNT_SQL SPAN_SQL
    local label=$1 url=$2 n=$3 unit=$4 conc=$5 count_sql=$6 span_sql=$7
    kill "$SRV_PID" && wait "$SRV_PID" || true
    SRV_PID=""
    (ffenv "$url" "$FF" worker --concurrency "$conc" >"$OUT/worker.log" 2>&1) &
    WRK_PID=$!
    local got=0 i=0
    while [ "$got" -lt "$n" ]; do
        sleep 0.2
        got=$(sql "$url" "$count_sql")
        i=$((i + 1))
        if [ $i -gt 3000 ]; then
            echo "bench/$NAME: $label: only $got of $n after 10 minutes" >&2
            return 1
        fi
    done
    kill "$WRK_PID" && wait "$WRK_PID" || true
    WRK_PID=""
    local span
    span=$(sql "$url" "$span_sql")
    [ "$span" -gt 0 ] || span=1
    awk -v l="$label" -v n="$n" -v ms="$span" -v u="$unit" \
        'BEGIN { printf "%-44s %8d %-6s %7.2f s  %9.0f %s/s\n", l, n, u, ms / 1000, n * 1000 / ms, u }'
}

drain_pg() {  # drain_pg: start the private PostgreSQL and a fresh $DBNAME; 1 when not installed
    [ -x "$PGBIN/initdb" ] || return 1
    bench_pg_start
    PG_STARTED=1
    bench_createdb "$DBNAME"
}
