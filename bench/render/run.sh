#!/bin/bash
# bench/render/run.sh - try-on render latency (first render = cache miss, cached
# render = hit, 304) and throughput with 8 concurrent shoppers (bench.py). Builds the
# Release binary in build/release. Env: N_FIRST, N_CACHED, SHOPPERS, FLIPS, WIDTH,
# FORMAT (see bench.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build/release}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j 2 --target framefit >/dev/null
exec python3 bench/render/bench.py "$BUILD/framefit"
