#!/bin/bash
# redis-start.sh DIR - start a throwaway redis-server for tests (CTest fixture "redis").
#
# A private temporary directory (its path kept in DIR/server), a free loopback
# port, no persistence, a password. Writes the URL
# (redis://:PASSWORD@127.0.0.1:PORT/1) to DIR/url and prints it. When
# redis-server is not installed, writes nothing and exits 0 so that the Redis
# tests skip.
set -eu
DIR=${1:?usage: redis-start.sh DIR}
BIN=${REDIS_SERVER:-$(command -v redis-server || true)}
if [ -z "$BIN" ]; then
    echo "redis-start: no redis-server (scripts/install-deps.sh installs it); Redis tests will skip" >&2
    mkdir -p "$DIR" && rm -f "$DIR/url"
    exit 0
fi
[ -f "$DIR/server" ] && sh "$(dirname "$0")/redis-stop.sh" "$DIR" || true
rm -rf "$DIR"
mkdir -p "$DIR"
STATE=$(cd "$DIR" && pwd)
D=$(mktemp -d "${TMPDIR:-/tmp}/framefit-redis.XXXXXX")
echo "$D" >"$STATE/server"
PASS=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 1 20); do
    port=$((20000 + RANDOM % 40000))
    port_busy "$port" && continue
    "$BIN" --port "$port" --bind 127.0.0.1 --dir "$D" --daemonize yes \
        --pidfile "$D/redis.pid" --logfile "$D/redis.log" --save "" --appendonly no \
        --requirepass "$PASS" >/dev/null 2>&1 || continue
    for _ in $(seq 1 100); do
        if redis-cli -p "$port" -a "$PASS" --no-auth-warning ping 2>/dev/null | grep -q PONG; then
            url="redis://:$PASS@127.0.0.1:$port/1"
            echo "$url" >"$STATE/url"
            echo "$url"
            exit 0
        fi
        sleep 0.05
    done
    [ -f "$D/redis.pid" ] && kill "$(cat "$D/redis.pid")" 2>/dev/null || true
done
echo "redis-start: could not start redis-server; log:" >&2
cat "$D/redis.log" >&2 || true
exit 1
