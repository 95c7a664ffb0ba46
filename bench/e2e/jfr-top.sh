#!/usr/bin/env bash
# Summarises a JFR recording of centrigate by where the CPU samples fall:
#   bench/e2e/jfr-top.sh FILE.jfr [N=25] [EVENT=jdk.ExecutionSample]
# prints the N most frequent top frames (self time) and the N most frequent io.centrigate frames nearest to
# the top of each sampled stack (where in the proxy's code the time is spent, JDK/NIO frames below it).
# EVENT jdk.ExecutionSample covers threads running Java code; jdk.NativeMethodSample covers threads inside native
# code (read/write/epoll syscalls; it also counts a loop blocked in epoll_wait, which is idle, not CPU).
# Record with: JFR=1 bench/run.sh SCENARIO  (or java -XX:StartFlightRecording=filename=x.jfr,settings=profile)
set -euo pipefail
f="$1"; n="${2:-25}"; ev="${3:-jdk.ExecutionSample}"
tmp="$(mktemp)"; trap 'rm -f "$tmp"' EXIT
jfr print --events "$ev" --stack-depth 64 "$f" > "$tmp"
total=$(grep -c "^$ev" "$tmp" || true)
echo "== $f: $total $ev samples"
echo "-- top frames (self):"
awk '/stackTrace = \[/ { getline; sub(/^[ \t]+/, ""); sub(/[ \t]+line:.*$/, ""); print }' "$tmp" |
    sort | uniq -c | sort -rn | head -n "$n" | awk -v t="$total" '{ c = $1; $1 = ""; printf "%6d %5.1f%% %s\n", c, 100 * c / t, $0 }'
echo "-- nearest io.centrigate frame:"
awk '/stackTrace = \[/ { inst = 1; found = 0; next }
     inst && /^[ \t]*\]/ { if (!found) print "(no centrigate frame)"; inst = 0; next }
     inst && !found && /io\.centrigate\./ { l = $0; sub(/^[ \t]+/, "", l); sub(/[ \t]+line:.*$/, "", l); print l; found = 1 }' "$tmp" |
    sort | uniq -c | sort -rn | head -n "$n" | awk -v t="$total" '{ c = $1; $1 = ""; printf "%6d %5.1f%% %s\n", c, 100 * c / t, $0 }'
