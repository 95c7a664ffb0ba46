#!/usr/bin/env bash
# Checks examples/prometheus/ with promtool (Debian's `prometheus` package; scripts/install-test-deps.sh installs
# it): the scrape config (and the rule files it names), the alerting rules, and their unit tests (alerts_test.yml).
# Without promtool: a SKIP line and exit 0 when it cannot be installed here (not root), a failure otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if ! command -v promtool >/dev/null 2>&1; then
    if [[ "$(id -u)" != 0 ]]; then
        echo "SKIP examples/prometheus/check.sh: promtool not installed (Debian package prometheus) and not root to install it"
        exit 0
    fi
    echo "examples/prometheus/check.sh: promtool missing: run scripts/install-test-deps.sh (as root) first" >&2
    exit 1
fi
echo "== $(promtool --version 2>&1 | head -1)"
promtool check config prometheus.yml
promtool check rules alerts.yml
promtool test rules alerts_test.yml
echo "examples/prometheus/check.sh: PASS"
