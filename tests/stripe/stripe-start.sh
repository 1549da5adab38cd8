#!/bin/sh
# Starts the Stripe stand-in (fake_stripe.py) on a free loopback port.
# Usage: stripe-start.sh DIR   -> DIR/url holds http://127.0.0.1:PORT, DIR/pid its PID.
set -eu
dir=$1
mkdir -p "$dir"
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
rm -f "$dir/port" "$dir/url" "$dir/pid"
python3 "$here/fake_stripe.py" --port 0 --port-file "$dir/port" >"$dir/log" 2>&1 &
echo $! >"$dir/pid"
i=0
while [ ! -s "$dir/port" ]; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
        echo "stripe-start: the stand-in did not start; log:" >&2
        cat "$dir/log" >&2
        exit 1
    fi
    sleep 0.1
done
echo "http://127.0.0.1:$(cat "$dir/port")" >"$dir/url"
