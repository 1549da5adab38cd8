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
N=${MAIL_N:-2000}
CONCURRENCY=${MAIL_CONCURRENCY:-4}
PORT=${MAIL_PORT:-18091}
NAME=mail DBNAME=framefit_mail
OUT=$ROOT/build/bench/mail
. "$ROOT/bench/lib/drain.sh"
[ -x "$FF" ] || { echo "bench/mail: build first (make build)" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"

PY=python3
python3 -c 'import aiosmtpd' 2>/dev/null || PY=/usr/bin/python3
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
    echo "bench/mail: python3-aiosmtpd missing (make test-deps); skipped"
    exit 0
fi
"$PY" "$ROOT/tests/smtp/smtp_server.py" --dir "$OUT/smtp" >"$OUT/smtp.port" &
DRAIN_EXTRA_PIDS=$!
for _ in $(seq 100); do grep -q PORT "$OUT/smtp.port" 2>/dev/null && break; sleep 0.1; done
DRAIN_ENV="FRAMEFIT_SMTP_URL=smtp://127.0.0.1:$(awk '/PORT/ {print $2}' "$OUT/smtp.port")
FRAMEFIT_PUBLIC_URL=https://shop.example"

run_case() {  # run_case LABEL DBURL
    local label=$1 url=$2 n=$N
    drain_serve "$url"
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
    drain_run "$label" "$url" "$n" emails "$CONCURRENCY" \
        "SELECT count(*) FROM mail_messages WHERE status = 'sent'" \
        "SELECT max(finished_at) - min(started_at) FROM jobs WHERE type = 'email.send' AND state = 'done'"
}

echo "email.send jobs completed per second (SMTP to the local stand-in), one worker process with $CONCURRENCY threads, $N emails each"
run_case "sqlite  email.send ($CONCURRENCY workers)" "sqlite://$OUT/sqlite.db"
if drain_pg; then
    run_case "postgres email.send ($CONCURRENCY workers)" "$BENCH_PGURL/framefit_mail"
else
    echo "bench/mail: PostgreSQL 15 not installed; PostgreSQL case skipped"
fi
echo "messages received by the stand-in: $(ls "$OUT/smtp" | grep -c '\.json$')"
