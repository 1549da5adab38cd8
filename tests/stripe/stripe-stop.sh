#!/bin/sh
# Stops the Stripe stand-in started by stripe-start.sh DIR.
dir=$1
[ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null
rm -f "$dir/pid" "$dir/url" "$dir/port"
exit 0
