#!/bin/sh
# redis-stop.sh DIR - stop the redis-server redis-start.sh DIR started (by its
# pid file); remove its directory and DIR.
set -eu
DIR=${1:?usage: redis-stop.sh DIR}
[ -f "$DIR/server" ] || { rm -rf "$DIR"; exit 0; }
D=$(cat "$DIR/server")
case "$D" in */framefit-redis.*) ;; *) echo "redis-stop: odd server path $D" >&2; exit 1 ;; esac
if [ -f "$D/redis.pid" ]; then
    pid=$(cat "$D/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
fi
rm -rf "$D" "$DIR"
