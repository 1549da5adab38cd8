#!/bin/sh
# smoke.sh TARGET SHORTNAME SECONDS - one brief libFuzzer run on a scratch copy of the
# target's seed corpus, so the run never changes the repo.
set -eu
t=$1; short=$2; secs=$3
S=$(cd "$(dirname "$0")" && pwd)
work="work-$short"
rm -rf "$work" && mkdir -p "$work"
[ -d "$S/corpus/$short" ] && cp -r "$S/corpus/$short/." "$work/"
dict=""; [ -f "$S/$short.dict" ] && dict="-dict=$S/$short.dict"
exec "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $dict "$work"
