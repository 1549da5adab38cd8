#!/bin/sh
# openapi_lint.sh REPO TOOLS_DIR - lints openapi/openapi.json with @redocly/cli.
# The linter is installed with `npm ci` from tests/tools/{package.json,
# package-lock.json} into TOOLS_DIR (in the build tree, so parallel build
# flavours never share a node_modules), and only again when the lock changes.
set -eu
REPO=$1
T=$2
if ! command -v npm >/dev/null 2>&1; then
    echo "SKIP: npm is not installed (scripts/install-deps.sh --all installs it)"
    exit 77
fi
mkdir -p "$T"
if ! cmp -s "$REPO/tests/tools/package-lock.json" "$T/package-lock.json" ||
   [ ! -x "$T/node_modules/.bin/redocly" ]; then
    cp "$REPO/tests/tools/package.json" "$REPO/tests/tools/package-lock.json" "$T/"
    (cd "$T" && npm ci --no-audit --no-fund --loglevel=error) || {
        rm -f "$T/package-lock.json"
        echo "openapi_lint: npm ci failed (is the npm registry reachable?)" >&2
        exit 1
    }
fi
cd "$REPO/openapi"
exec "$T/node_modules/.bin/redocly" lint --config redocly.yaml openapi.json
