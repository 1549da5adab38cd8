#!/bin/bash
# Email benchmark: email.send jobs completed per second by one `framefit worker
# --concurrency 4` (4 worker threads) against the local SMTP stand-in
# (tests/smtp/smtp_server.py, aiosmtpd on loopback, which writes every message
# to disk), on SQLite (WAL) and on PostgreSQL 15 (a private cluster, default
# durability).
#
# Per case: migrate a fresh database, enqueue N messages through the real
# path (mail_enqueue: outbox row + "email.send" job, via POST /__test/mail with
# "count" on a serve with FRAMEFIT_WORKERS=0), start the worker, wait until all
# N messages are "sent", then
#   emails/s = N / (max(jobs.finished_at) - min(jobs.started_at))
# i.e. first claim to last completion. Each email is: claim, load + suppression
# check + template render + MIME build, one SMTP transaction (a new connection
# per message: libcurl easy handle), the outbox update, and the job's finish.
# MAIL_N (default 2000), MAIL_CONCURRENCY (4), MAIL_PORT (18091); BENCH_PGPORT moves
# the PostgreSQL cluster off 55432 when another bench holds it.
# Measured 2026-11-25 on the 2-core dev VM while other builds ran (load ~11):
# SQLite 161-246 emails/s, PostgreSQL 141 emails/s; the Python stand-in (one
# process, a file per message) and a new SMTP connection per message dominate.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/bench/lib/peer.sh"
FF=$ROOT/build/release/framefit
[ -x "$FF" ] || { echo "bench/mail: build first (make build)" >&2; exit 1; }
N=${MAIL_N:-2000}
CONCURRENCY=${MAIL_CONCURRENCY:-4}
PORT=${MAIL_PORT:-18091}
OUT=$BENCH_DIR/mail
rm -rf "$OUT" && mkdir -p "$OUT"
SRV_PID="" WRK_PID="" SMTP_PID="" PG_STARTED=""

cleanup() {
    [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
    [ -n "$WRK_PID" ] && kill "$WRK_PID" 2>/dev/null && wait "$WRK_PID" 2>/dev/null
    [ -n "$SMTP_PID" ] && kill "$SMTP_PID" 2>/dev/null && wait "$SMTP_PID" 2>/dev/null
    [ -n "$PG_STARTED" ] && bench_pg_stop
    true
}
trap cleanup EXIT INT TERM

PY=python3
python3 -c 'import aiosmtpd' 2>/dev/null || PY=/usr/bin/python3
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
    echo "bench/mail: python3-aiosmtpd missing (make test-deps); skipped"
    exit 0
fi
"$PY" "$ROOT/tests/smtp/smtp_server.py" --dir "$OUT/smtp" >"$OUT/smtp.port" &
SMTP_PID=$!
for _ in $(seq 100); do grep -q PORT "$OUT/smtp.port" 2>/dev/null && break; sleep 0.1; done
SMTP_URL="smtp://127.0.0.1:$(awk '/PORT/ {print $2}' "$OUT/smtp.port")"

ffenv() {  # ffenv DBURL CMD...: framefit with the bench environment (in a subshell:
    # exec, so that `ffenv ... &` leaves $! = framefit's own pid, which cleanup kills)
    local url=$1; shift
    exec env FRAMEFIT_DATABASE_URL="$url" FRAMEFIT_DATA_DIR="$OUT/data" FRAMEFIT_TEST_ROUTES=1 \
        FRAMEFIT_SECRET_KEY="$(printf 'cd%.0s' $(seq 32))" FRAMEFIT_LOG_LEVEL=warn \
        FRAMEFIT_LOG_FORMAT=text FRAMEFIT_PORT="$PORT" FRAMEFIT_WORKERS=0 \
        FRAMEFIT_SMTP_URL="$SMTP_URL" FRAMEFIT_PUBLIC_URL=https://shop.example "$@"
}

sql() {  # sql DBURL QUERY: one line of |-separated values
    case $1 in
    sqlite://*) sqlite3 "${1#sqlite://}" "$2" ;;
    *) bench_psql framefit_mail -At -c "$2" ;;
    esac
}

run_case() {  # run_case LABEL DBURL
    local label=$1 url=$2 n=$N
    (ffenv "$url" "$FF" migrate >/dev/null)
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
        echo "bench/mail: port $PORT is already in use (set MAIL_PORT)" >&2
        return 1
    fi
    ffenv "$url" "$FF" serve >"$OUT/serve.log" 2>&1 &
    SRV_PID=$!
    bench_wait_http "http://127.0.0.1:$PORT/healthz"
    local left=$n
    while [ "$left" -gt 0 ]; do
        local k=$((left > 1000 ? 1000 : left))
        curl -fs -o /dev/null -X POST -H 'Content-Type: application/json' \
            -d "{\"to\":\"bench@example.test\",\"template\":\"order-confirmation\",\"count\":$k,
                 \"vars\":{\"name\":\"Ada <Lovelace>\",\"order_number\":\"A-1001\",
                 \"total\":\"258.00 EUR\",\"link\":\"https://shop.example/o/A-1001\",
                 \"items\":[{\"title\":\"Round acetate\",\"quantity\":1,\"price\":\"129.00 EUR\"},
                            {\"title\":\"Aviator & co\",\"quantity\":1,\"price\":\"129.00 EUR\"}]}}" \
            "http://127.0.0.1:$PORT/__test/mail"
        left=$((left - k))
    done
    kill "$SRV_PID" && wait "$SRV_PID" || true
    SRV_PID=""
    ffenv "$url" "$FF" worker --concurrency "$CONCURRENCY" >"$OUT/worker.log" 2>&1 &
    WRK_PID=$!
    local sent=0 i=0
    while [ "$sent" -lt "$n" ]; do
        sleep 0.2
        sent=$(sql "$url" "SELECT count(*) FROM mail_messages WHERE status = 'sent'")
        i=$((i + 1))
        if [ $i -gt 3000 ]; then
            echo "bench/mail: $label: only $sent of $n sent after 10 minutes" >&2
            return 1
        fi
    done
    kill "$WRK_PID" && wait "$WRK_PID" || true
    WRK_PID=""
    local span
    span=$(sql "$url" "SELECT max(finished_at) - min(started_at) FROM jobs WHERE type = 'email.send' AND state = 'done'")
    [ "$span" -gt 0 ] || span=1
    awk -v l="$label" -v n="$n" -v ms="$span" \
        'BEGIN { printf "%-44s %8d emails %7.2f s  %9.0f emails/s\n", l, n, ms / 1000, n * 1000 / ms }'
}

echo "email.send jobs completed per second (SMTP to the local stand-in), one worker process with $CONCURRENCY threads, $N emails each"
run_case "sqlite  email.send ($CONCURRENCY workers)" "sqlite://$OUT/sqlite.db"
if [ -x "$PGBIN/initdb" ]; then
    bench_pg_start
    PG_STARTED=1
    bench_createdb framefit_mail
    run_case "postgres email.send ($CONCURRENCY workers)" "$BENCH_PGURL/framefit_mail"
else
    echo "bench/mail: PostgreSQL 15 not installed; PostgreSQL case skipped"
fi
echo "messages received by the stand-in: $(ls "$OUT/smtp" | grep -c '\.json$')"
