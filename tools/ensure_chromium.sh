#!/usr/bin/env bash
# Make Debian's chromium available for the browser tests, when this machine allows it.
# Prints what it did; never downloads a browser of its own.
set -u
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests (apt-get)..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
    && echo "chromium installed: $(/usr/bin/chromium --version 2>/dev/null)" && exit 0
  echo "could not install chromium with apt-get; browser tests will be skipped (or fail under CI=true)"
  exit 0
fi
echo "chromium is missing and this user cannot apt-get it; browser tests will be skipped (or fail under CI=true)"
exit 0
