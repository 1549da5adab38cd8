#!/bin/sh
# Installs Stripe's Node SDK (npm ci, pinned by package-lock.json) and writes
# signature vectors to OUT for test_stripe_sdk. Exits 77 (skip) without node/npm.
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
    { echo "sdk-vectors: node/npm not installed: skipping the Stripe SDK cross-check"; exit 77; }
cd "$here"
if [ ! -d node_modules/stripe ]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
node sdk-vectors.js >"$out.tmp"
mv "$out.tmp" "$out"
