#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests (e2e/).
# Idempotent: does nothing when it is there; refreshes apt's lists only when the
# package is not known yet. Playwright drives this browser; `playwright install`
# (which downloads a browser build of its own) is never used.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "Chromium is at $CHROMIUM."
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show chromium >/dev/null 2>&1; then
    echo "Refreshing apt's package lists..."
    apt-get update -qq
fi
echo "Installing Chromium (Debian package)..."
apt-get install -y -qq chromium >/dev/null
[ -x "$CHROMIUM" ] || { echo "chromium was installed but $CHROMIUM is missing" >&2; exit 1; }
echo "Chromium is at $CHROMIUM."
