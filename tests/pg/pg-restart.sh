#!/bin/sh
# pg-restart.sh DIR - restart the test cluster pg-start.sh DIR started
# (for tests of reconnecting after a database restart).
set -eu
DIR=${1:?usage: pg-restart.sh DIR}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
C=$(cat "$DIR/cluster")
if [ "$(id -u)" = 0 ]; then
    exec runuser -u postgres -- "$PGBIN/pg_ctl" -D "$C/data" -m fast -w restart -l "$C/server.log" >/dev/null
fi
exec "$PGBIN/pg_ctl" -D "$C/data" -m fast -w restart -l "$C/server.log" >/dev/null
