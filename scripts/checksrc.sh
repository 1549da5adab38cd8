#!/bin/sh
# checksrc.sh [ROOT] - the project's own source rules (after curl's checksrc):
#   * banned calls: sprintf, vsprintf, strcpy, strcat, strtok, gets, atoi, atol, atof;
#   * heap memory only through core/alloc.h: no raw malloc/calloc/realloc/free/strdup
#     outside src/core/alloc.c (a line may say "checksrc: allow" with a reason, e.g. to
#     free memory a library allocated with malloc);
#   * module boundaries (STYLE.md 2.2): <microhttpd.h> only in src/http/server.c and
#     src/http/ws.c, <sqlite3.h> only in src/db/sqlite*.c, <libpq-fe.h> only in
#     src/db/pg*.c, and src/vision and src/render include nothing of http, db, curl or catalog.
# Prints one line per finding; exits 1 if there is any.
set -u
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$ROOT" || exit 2
bad=0
report() { echo "checksrc: $1"; bad=1; }

files=$(find src -name '*.c' -o -name '*.h' | sort)
for f in $files; do
    hits=$(grep -nE '(^|[^A-Za-z0-9_.>])(v?sprintf|strcpy|strcat|strtok|gets|atoi|atol|atof)[[:space:]]*\(' "$f" |
        grep -v 'checksrc: allow')
    [ -n "$hits" ] && report "$f: banned call (use snprintf, memcpy with lengths, strtol...):
$hits"
    case "$f" in src/core/alloc.c) ;; *)
        hits=$(grep -nE '(^|[^A-Za-z0-9_.>])(malloc|calloc|realloc|free|strdup|strndup)[[:space:]]*\(' "$f" |
            grep -vE 'checksrc: allow|^[0-9]+:[[:space:]]*(\*|/\*|//)')
        [ -n "$hits" ] && report "$f: raw heap call (use ff_malloc/ff_free from core/alloc.h):
$hits" ;;
    esac
    inc() { grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]$1" "$f"; }
    case "$f" in src/http/server.c|src/http/ws.c) ;; *)
        [ -n "$(inc 'microhttpd\.h')" ] && report "$f: includes <microhttpd.h> (only http/server.c, http/ws.c)" ;;
    esac
    case "$f" in src/db/sqlite*) ;; *)
        [ -n "$(inc 'sqlite3\.h')" ] && report "$f: includes <sqlite3.h> (only src/db/sqlite*.c)" ;;
    esac
    case "$f" in src/db/pg*) ;; *)
        [ -n "$(inc '(libpq-fe|postgresql/libpq-fe)\.h')" ] && report "$f: includes <libpq-fe.h> (only src/db/pg*.c)" ;;
    esac
    case "$f" in src/vision/*|src/render/*)
        [ -n "$(inc '(http/|db/|catalog/|curl/|microhttpd|sqlite3|libpq)')" ] &&
            report "$f: vision and render must not include http, db, catalog or curl headers" ;;
    esac
done
[ $bad -eq 0 ] && echo "checksrc: $(echo "$files" | wc -l) files clean"
exit $bad
