#!/bin/sh
# test_cmd_db.sh FRAMEFIT sqlite|pg [PG_URL_FILE] - the database commands end to end:
# migrate, seed (idempotent), backup, change data, restore, check the data; bad
# arguments and bad backups change nothing.
set -u
FF=$1
KIND=$2
T=$(mktemp -d /tmp/ff-cmd-db.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ "$KIND" = pg ]; then
    [ -s "${3:-}" ] || { echo "SKIP: no PostgreSQL test cluster" >&2; exit 77; }
    base=$(sed 's#/[^/]*$##' "$3")
    port=$(echo "$base" | sed 's#.*:##')
    PSQL="psql -X -q -h 127.0.0.1 -p $port -U postgres"
    $PSQL -d framefit -c "DROP DATABASE IF EXISTS t_cmd_db WITH (FORCE)" >/dev/null || fail "drop db"
    $PSQL -d framefit -c "CREATE DATABASE t_cmd_db" >/dev/null || fail "create db"
    export FRAMEFIT_DATABASE_URL="$base/t_cmd_db"
    count() { $PSQL -d t_cmd_db -Atc "$1"; }
    BK=$T/backup.pgdump
else
    export FRAMEFIT_DATA_DIR=$T/var
    unset FRAMEFIT_DATABASE_URL
    count() { sqlite3 "$T/var/framefit.db" "$1"; }
    BK=$T/backup.db
fi

"$FF" migrate >/dev/null || fail "migrate"
"$FF" migrate | grep -q "applied 0" || fail "second migrate applied something"
"$FF" seed | grep -q "320 demo products added" || fail "seed"
"$FF" seed | grep -q "0 demo products added (320 already present)" || fail "seed not idempotent"
[ "$(count 'SELECT count(*) FROM products')" = 320 ] || fail "expected 320 products"
[ "$(count 'SELECT count(DISTINCT shape) FROM products')" = 9 ] || fail "expected 9 shapes"

"$FF" backup "$BK" >/dev/null || fail "backup"
"$FF" backup "$BK" 2>/dev/null && fail "backup overwrote an existing file"
"$FF" seed --count 330 | grep -q "10 demo products added" || fail "seed --count"
count "UPDATE products SET name = 'changed' WHERE id = 1" >/dev/null
[ "$(count 'SELECT count(*) FROM products')" = 330 ] || fail "expected 330 products"

echo "not a backup" >"$T/junk"
"$FF" restore "$T/junk" 2>/dev/null && fail "restored junk"
[ "$(count 'SELECT count(*) FROM products')" = 330 ] || fail "junk restore changed data"
"$FF" restore "$BK" >/dev/null || fail "restore"
[ "$(count 'SELECT count(*) FROM products')" = 320 ] || fail "restore: expected 320 products"
[ "$(count 'SELECT name FROM products WHERE id = 1')" != changed ] || fail "restore kept a change"
"$FF" migrate | grep -q "applied 0" || fail "migrate after restore"

# usage errors
"$FF" backup 2>/dev/null; [ $? -eq 2 ] || fail "backup without DEST should exit 2"
"$FF" seed --count 0 2>/dev/null; [ $? -eq 2 ] || fail "seed --count 0 should exit 2"
"$FF" seed --bogus 2>/dev/null; [ $? -eq 2 ] || fail "seed --bogus should exit 2"
for c in migrate seed backup restore; do
    "$FF" $c --help | grep -q "usage: framefit $c" || fail "$c --help"
done
# a database newer than the binary: migrate and serve refuse it
count "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9999, '9999_future', 'x', 0)" >/dev/null
"$FF" migrate 2>"$T/err" && fail "migrate accepted a newer schema"
grep -q "newer than this binary" "$T/err" || fail "migrate: no clear message: $(cat "$T/err")"
FRAMEFIT_PORT=0 timeout 30 "$FF" serve >"$T/serve.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "serve on a newer schema exited $rc (want 1)"
grep -q "newer than this binary" "$T/serve.out" || fail "serve: no clear message"
echo "ok: database commands on $KIND"
