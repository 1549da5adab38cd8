#!/bin/sh
# pg-stop.sh DIR - stop the cluster pg-start.sh DIR started; remove it and DIR.
set -eu
DIR=${1:?usage: pg-stop.sh DIR}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
[ -f "$DIR/cluster" ] || { rm -rf "$DIR"; exit 0; }
C=$(cat "$DIR/cluster")
case "$C" in */framefit-pg.*) ;; *) echo "pg-stop: odd cluster path $C" >&2; exit 1 ;; esac
if [ -f "$C/data/postmaster.pid" ]; then
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$C/data" -m immediate -w stop >/dev/null || true
    else
        "$PGBIN/pg_ctl" -D "$C/data" -m immediate -w stop >/dev/null || true
    fi
fi
rm -rf "$C" "$DIR"
