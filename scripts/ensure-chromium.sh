#!/bin/sh
# The browser tests drive a real Chromium. Install Debian's package when we
# can (root on Debian); otherwise say exactly what is needed.
set -eu
browser="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium package for the browser tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    exit 0
fi
echo "The browser tests need Chromium at $browser." >&2
echo "On Debian or Ubuntu: sudo apt-get install chromium" >&2
echo "Elsewhere: install Chromium or Chrome and set CHROMIUM=/path/to/the/binary" >&2
exit 1
