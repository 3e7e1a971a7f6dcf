#!/bin/sh
# The tests drive a real Chromium (browser tests) and a real nginx (a proxy in
# front of the server). Install Debian's packages when we can (root on
# Debian); otherwise say exactly what is needed.
set -eu
browser="${CHROMIUM:-/usr/bin/chromium}"
missing=""
[ -x "$browser" ] || missing="$missing chromium"
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"  # a certificate for the TLS proxy tests
if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's packages for the tests:$missing"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    exit 0
fi
echo "The tests need:$missing" >&2
echo "On Debian or Ubuntu: sudo apt-get install$missing" >&2
echo "For Chromium elsewhere: install Chromium or Chrome and set CHROMIUM=/path/to/the/binary" >&2
exit 1
