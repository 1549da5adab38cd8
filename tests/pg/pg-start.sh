#!/bin/bash
# pg-start.sh DIR - start a throwaway PostgreSQL 15 cluster for tests.
#
# initdb in a new temporary directory (its path is kept in DIR/cluster),
# pg_ctl on a free loopback port (unix socket in that directory), database
# "framefit", trust auth for user "postgres". Prints the URL
# (postgres://postgres@127.0.0.1:PORT/framefit) and writes it to DIR/url. When PostgreSQL is not installed, writes nothing and exits 0 so
# that PostgreSQL tests skip. As root, the server runs as user postgres.
set -eu
DIR=${1:?usage: pg-start.sh DIR}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PGBIN/initdb" ]; then
    echo "pg-start: no PostgreSQL 15 in $PGBIN; PostgreSQL tests will skip" >&2
    mkdir -p "$DIR" && rm -f "$DIR/url"
    exit 0
fi
# a leftover cluster from an interrupted run
[ -f "$DIR/cluster" ] && sh "$(dirname "$0")/pg-stop.sh" "$DIR" || true
rm -rf "$DIR"
mkdir -p "$DIR"
STATE=$(cd "$DIR" && pwd)
DIR=$(mktemp -d "${TMPDIR:-/tmp}/framefit-pg.XXXXXX")
echo "$DIR" >"$STATE/cluster"
RUNAS=()
if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$DIR"
    RUNAS=(runuser -u postgres --)
fi
"${RUNAS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 \
    --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=""
for _ in $(seq 1 20); do
    port=$((20000 + RANDOM % 40000))
    port_busy "$port" && continue
    if "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-p $port -c listen_addresses=127.0.0.1 -k $DIR -c max_connections=100 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null; then
        started=$port
        break
    fi
done
if [ -z "$started" ]; then
    echo "pg-start: could not start PostgreSQL; log:" >&2
    cat "$DIR/server.log" >&2 || true
    exit 1
fi
"${RUNAS[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$started" -U postgres framefit
url="postgres://postgres@127.0.0.1:$started/framefit"
echo "$url" >"$STATE/url"
echo "$url"
