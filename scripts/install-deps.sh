#!/bin/sh
# Installs the Debian 12 packages framefit needs to build, run, test and benchmark.
# Idempotent and quiet when everything is already there. Run as root (or with sudo).
set -eu

PKGS="build-essential cmake pkg-config clang llvm libclang-rt-14-dev git curl ca-certificates
libmicrohttpd-dev libwslay-dev libjansson-dev libsqlite3-dev sqlite3 libpq-dev
libsodium-dev librhonabwy-dev libcurl4-openssl-dev libhiredis-dev libjpeg62-turbo-dev libpng-dev libexif-dev
postgresql postgresql-client redis-server libdlib-data
libwebp-dev libssl-dev"
# libwebp-dev: the try-on render endpoint offers format=webp (issue 8), libwebp encodes it.
# libssl-dev: OpenSSL's libcrypto verifies the SendGrid (ECDSA P-256) and SNS (RSA)
# webhook signatures in src/mail; libsodium has neither algorithm.

# Only for tests and benchmarks (oracles, linters, load drivers).
TEST_PKGS="libdlib-dev prometheus wrk valgrind python3 chromium chromium-driver python3-aiosmtpd"
# chromium + chromium-driver: tests/browser drives the try-on page headless (WebDriver).
# python3-aiosmtpd: the SMTP stand-in of the email tests (tests/smtp).

want="$PKGS"
case "${1:-}" in
    --test|--all) want="$PKGS $TEST_PKGS" ;;
esac

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# Node (for the OpenAPI linter and the peer stack): the machine's own Node ships npm;
# Debian's nodejs and npm are only installed where there is no node at all.
case "$want" in *valgrind*)
    command -v node >/dev/null 2>&1 || missing="$missing nodejs"
    command -v npm >/dev/null 2>&1 || missing="$missing npm" ;;
esac
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts services on install; the project starts its own on loopback.
if command -v service >/dev/null 2>&1; then
    $SUDO service redis-server stop >/dev/null 2>&1 || true
    $SUDO service prometheus stop >/dev/null 2>&1 || true
fi
exit 0
