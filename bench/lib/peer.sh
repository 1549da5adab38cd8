# bench/lib/peer.sh - sourced by benchmarks: the roadmap's baseline stack
# (Fastify + Prisma + PostgreSQL 15) from ../shared/peers, run side by side with framefit.
#
#   peer_setup        copy seed-stack into build/bench/peer, npm ci, prisma generate
#   bench_pg_start    private PostgreSQL 15 on 127.0.0.1:$BENCH_PGPORT (data in build/bench)
#   bench_pg_stop
#   peer_load_data    schema.sql + seed.sql (10,000 products) into database "framefit"
#   peer_start / peer_stop   node server.js on $PEER_PORT; PEER_PID is set
# Needs: ROOT (repo root). Every server listens on loopback only.
SHARED=${SHARED:-$ROOT/../shared}
BENCH_DIR=$ROOT/build/bench
PEER_DIR=$BENCH_DIR/peer
BENCH_PGPORT=${BENCH_PGPORT:-55432}
PEER_PORT=${PEER_PORT:-3000}
PGBIN=/usr/lib/postgresql/15/bin
BENCH_PGURL="postgresql://framefit@127.0.0.1:$BENCH_PGPORT"

bench_have_shared() {
    [ -d "$SHARED/peers/seed-stack" ]
}

peer_setup() {
    mkdir -p "$BENCH_DIR"
    if [ ! -f "$PEER_DIR/server.js" ]; then
        rm -rf "$PEER_DIR"
        cp -r "$SHARED/peers/seed-stack" "$PEER_DIR"
        rm -rf "$PEER_DIR/pgdata"
    fi
    chmod -R u+w "$PEER_DIR"
    if [ ! -d "$PEER_DIR/node_modules/fastify" ]; then
        (cd "$PEER_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
    if [ ! -d "$PEER_DIR/generated/client" ]; then
        (cd "$PEER_DIR" && PRISMA_SCHEMA_ENGINE_BINARY=/bin/false npx prisma generate >/dev/null)
    fi
}

_runas() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bench_pg_start() {
    PGDATA=$BENCH_DIR/pgdata
    export PGDATA
    if [ ! -f "$PGDATA/PG_VERSION" ]; then
        mkdir -p "$PGDATA"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDATA"
        _runas "$PGBIN/initdb" -D "$PGDATA" -U framefit --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$PGDATA"
    _runas "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1 && return 0
    _runas "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -o \
        "-p $BENCH_PGPORT -c listen_addresses=127.0.0.1 -k /tmp -c max_connections=200 -c shared_buffers=256MB" \
        start >/dev/null
}

bench_pg_stop() {
    _runas "$PGBIN/pg_ctl" -D "$BENCH_DIR/pgdata" -m fast stop >/dev/null 2>&1 || true
}

bench_psql() {  # bench_psql DB [psql args...]
    db=$1; shift
    _runas "$PGBIN/psql" -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$BENCH_PGPORT" -U framefit -d "$db" "$@"
}

bench_createdb() {  # bench_createdb NAME: (re)create an empty database
    bench_psql postgres -c "DROP DATABASE IF EXISTS \"$1\"" >/dev/null 2>&1
    bench_psql postgres -c "CREATE DATABASE \"$1\"" >/dev/null
}

peer_load_data() {
    bench_createdb framefit
    bench_psql framefit < "$PEER_DIR/schema.sql" >/dev/null 2>&1
    bench_psql framefit < "$PEER_DIR/seed.sql" >/dev/null
}

bench_wait_http() {  # bench_wait_http URL: up to 30 s
    i=0
    until curl -fs -o /dev/null "$1"; do
        i=$((i + 1))
        [ $i -gt 300 ] && { echo "bench: $1 did not come up" >&2; return 1; }
        sleep 0.1
    done
}

peer_start() {
    if curl -s -o /dev/null "http://127.0.0.1:$PEER_PORT/"; then
        echo "bench: port $PEER_PORT is already in use; stop that server or set PEER_PORT" >&2
        return 1
    fi
    PORT=$PEER_PORT DATABASE_URL="$BENCH_PGURL/framefit" \
        taskset -c "${SERVER_CPUS:-0}" node "$PEER_DIR/server.js" >"$BENCH_DIR/peer.log" 2>&1 &
    PEER_PID=$!
    bench_wait_http "http://127.0.0.1:$PEER_PORT/api/v1/products/1"
}

peer_stop() {
    [ -n "${PEER_PID:-}" ] && kill "$PEER_PID" 2>/dev/null && wait "$PEER_PID" 2>/dev/null
    PEER_PID=""
}
