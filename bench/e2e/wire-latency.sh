#!/usr/bin/env bash
# A proxy's request latency as the wire sees it: from each request packet that reaches PORT to the response packet
# that leaves it, per connection, in order (HTTP/1.1 keep-alive without pipelining: one answer per request).
# Timestamps are the kernel's, taken on the loopback device, so the load generator's own scheduling is not in
# them; compare with what the load generator reports to see how much of its tail is its own.
#
#   tcpdump -i lo -n -s 80 -w /tmp/x.pcap 'tcp port 29101 and tcp[tcpflags] & tcp-push != 0'   # while loaded
#   bench/e2e/wire-latency.sh /tmp/x.pcap 29101
#
# Needs tcpdump (Debian package tcpdump). Prints the number of request/response pairs and percentiles in µs.
set -euo pipefail
file="${1:?pcap file}"; port="${2:?proxy port}"
command -v tcpdump >/dev/null 2>&1 || { echo "wire-latency.sh needs tcpdump: apt-get install tcpdump" >&2; exit 2; }
tcpdump -r "$file" -n -tt 2>/dev/null | awk -v port="$port" '
    # 1795722171.239730 IP 127.0.0.1.48144 > 127.0.0.1.29101: Flags [P.], seq ..., length 40
    $2 == "IP" && $NF + 0 > 0 {
        src = $3; dst = $5; sub(/:$/, "", dst)
        sp = src; sub(/.*\./, "", sp); dp = dst; sub(/.*\./, "", dp)
        if (dp == port) { q[sp, tail[sp] + 0] = $1; tail[sp]++ }
        else if (sp == port && head[dp] + 0 < tail[dp] + 0) { h = head[dp] + 0; printf "%.1f\n", ($1 - q[dp, h]) * 1e6; delete q[dp, h]; head[dp] = h + 1 }
    }' | sort -n | awk '
    { lat[++n] = $1 }
    END {
        if (n == 0) { print "no request/response pairs"; exit 1 }
        printf "pairs %d", n
        split("50 90 99 99.9", ps, " ")
        for (i = 1; i <= 4; i++) { k = int(n * ps[i] / 100); if (k < 1) k = 1; printf "  p%s %.0f us", ps[i], lat[k] }
        printf "  max %.0f us\n", lat[n]
    }'
