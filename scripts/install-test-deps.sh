#!/usr/bin/env bash
# Installs the system packages the tests use, when missing; idempotent, prints what it did.
# Without root (or apt-get) it only says what is missing: the tests that need it skip with a message.
set -euo pipefail

missing=()
need() { # need PACKAGE COMMAND: PACKAGE is missing when COMMAND is not executable
  if [ -x "$2" ] || command -v "$2" >/dev/null 2>&1; then
    echo "install-test-deps: $1 present ($2)"
  else
    missing+=("$1")
  fi
}

# Browser test of the admin stats page (StatsPageBrowserTest): headless Chromium driven by Selenium.
need chromium /usr/bin/chromium
need chromium-driver /usr/bin/chromedriver
# Prometheus (server and promtool): examples/prometheus/check.sh and e2e.sh, AdminRunTest.promtoolAcceptsTheExposition.
need prometheus /usr/bin/prometheus
# Node.js and npm: examples/sockjs/e2e.sh (the real sockjs-client against SockJS nodes, through centrigate).
need nodejs node
need npm npm
# HTTP/2: the python-h2 conformance and WebSocket-over-HTTP/2 clients (H2ConformanceTest), h2load for bench/h2load.sh.
need python3-h2 /usr/lib/python3/dist-packages/h2/__init__.py
need nghttp2-client h2load

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: nothing to install"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing ${missing[*]}; not root or no apt-get, not installed (those tests skip)"
  exit 0
fi
echo "install-test-deps: apt-get install -y ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d exit 101: packages with a service of their own (prometheus, its node exporter) are not started by
# the installation; the tests start their own instances on loopback ports
own_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
fi
rc=0
apt-get install -y -q "${missing[@]}" || { apt-get update -q && apt-get install -y -q "${missing[@]}"; } || rc=$?
[ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
[ "$rc" = 0 ] || exit "$rc"
echo "install-test-deps: installed ${missing[*]}"
