#!/usr/bin/env bash
# Upstream source addresses against a narrowed ephemeral port range (issue 15, acceptance 4): with
# net.ipv4.ip_local_port_range narrowed to WINDOW ports, centrigate with one --upstream-source address holds about
# WINDOW tunnels to one node (then the connect error is logged and counted, the rest get 503), with two addresses
# about twice as many.
#
#   sudo bench/source-ports.sh            (root: it writes /proc/sys/net/ipv4/ip_local_port_range)
#   env: CONNS (800 tunnels per run), WINDOW (300 ports), BASE (40000: first run's window starts here),
#        TRANSPORTS ("epoll nio": epoll runs on JDK 25 when installed, nio on the default java),
#        PJAR (cli/target/centrigate.jar), OUT (/tmp/centrigate-source-ports)
#
# The range is machine-wide: every process connecting anywhere meanwhile draws from the narrow window. So it is
# narrowed only while one run's load generator opens and verifies its tunnels (seconds), restored right after,
# and a trap restores the saved value on any exit (failure, ctrl-c, kill).
#
# Who takes ports from the narrowed window, and why the runs do not disturb each other:
# - The proxy's upstream connects from the source addresses (127.0.0.20, 127.0.0.20-127.0.0.21) to the node
#   (127.0.0.1:UP): this is what is measured. With epoll the port is picked at connect time per 4-tuple
#   (IP_BIND_ADDRESS_NO_PORT); with NIO bind() takes a port of the address for every destination. With one node
#   both give WINDOW tunnels per source address.
# - The clients: they connect to the proxy's listen port, so their 4-tuples are (client addr, port, 127.0.0.1, PX),
#   a different destination from the upstream side. Left to the kernel, their ports would come from the same
#   window, and two ways would make the clients, not the proxy, the limit: from 127.0.0.1 alone only WINDOW
#   clients fit (one destination), fewer than CONNS; and bound with port 0 to other addresses (LoadGen --sources)
#   each client's bind() takes a port of the window that no connect-time pick may share afterwards (the kernel
#   lets a connect reuse a port only if every socket on it got it at connect time), which starved the epoll runs
#   (IP_BIND_ADDRESS_NO_PORT picks at connect) to 183 and 318 tunnels in a first try. So the clients bind
#   explicit ports outside the window (LoadGen --source-port-base 20000, with SO_REUSEADDR against a previous
#   run's TIME_WAIT) on 127.0.0.2-127.0.0.5 (--sources 4): they draw nothing from the window, and they are not
#   the proxy's source addresses (127.0.0.20+), so only the proxy's side can run out.
# - The listen ports (node, proxy, admin) are bound before the range is narrowed.
# - Closed connections leave TIME_WAIT sockets holding their ports for 60 s (the proxy's upstream side when the
#   proxy is stopped, the clients' side when the load generator exits). So each run gets its own window
#   (BASE, BASE+WINDOW, ...): a run never finds ports of the previous one still held. The load generator opens no
#   warm-up connections (--warm-conns 0) for the same reason.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "needs root (writes /proc/sys/net/ipv4/ip_local_port_range)" >&2; exit 2; }
RANGE=/proc/sys/net/ipv4/ip_local_port_range
SAVED="$(cat "$RANGE")"
restore() { echo "$SAVED" > "$RANGE"; }
pids=()
cleanup() { restore; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

jdk25=/usr/lib/jvm/temurin-25-jdk-amd64
PJAR="${PJAR:-cli/target/centrigate.jar}"
BJAR=bench/target/benchmarks.jar
CONNS="${CONNS:-800}"
WINDOW="${WINDOW:-300}"
BASE="${BASE:-40000}"
TRANSPORTS="${TRANSPORTS:-epoll nio}"
OUT="${OUT:-/tmp/centrigate-source-ports}"
CLIENT_SOURCES=4
[ "$CONNS" -le 40000 ] || { echo "CONNS > 40000: the clients' explicit ports would reach 30000" >&2; exit 2; }
[ -f "$PJAR" ] && [ -f "$BJAR" ] || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }
rm -rf "$OUT"; mkdir -p "$OUT"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

UP=$(free_port)
java -Xms256m -Xmx256m -cp "$BJAR" io.centrigate.bench.load.BenchUpstream --port "$UP" > "$OUT/upstream.log" 2>&1 &
upid=$!; pids+=("$upid")
for _ in $(seq 100); do grep -q '^upstream listening' "$OUT/upstream.log" && break; sleep 0.1; done
grep -q '^upstream listening' "$OUT/upstream.log" || { echo "upstream did not start" >&2; exit 1; }

echo "saved ip_local_port_range: $SAVED; conns per run: $CONNS; window: $WINDOW ports; client sources: $CLIENT_SOURCES"
printf '%-6s %-8s %-24s %-13s %6s %6s %6s %9s %13s\n' transport jdk upstream-source window opened alive failed \
    503s bind-failures > "$OUT/table.txt"
run=0
for transport in $TRANSPORTS; do
    if [ "$transport" = nio ]; then JAVA=java; else
        [ -x "$jdk25/bin/java" ] || { echo "skip $transport: no JDK 25" | tee -a "$OUT/table.txt"; continue; }
        JAVA=$jdk25/bin/java
    fi
    native=(); "$JAVA" -version 2>&1 | grep -q 'version "1[0-9]\.' || native=(--enable-native-access=ALL-UNNAMED)
    jdk="$("$JAVA" -version 2>&1 | head -1 | sed 's/.*version "\([0-9]*\).*/\1/')"
    for sources in 127.0.0.20 127.0.0.20-127.0.0.21; do
        lo=$(( BASE + run * WINDOW )); hi=$(( lo + WINDOW - 1 )); run=$(( run + 1 ))
        tag="$transport-$(echo "$sources" | tr -c '0-9\n' _)"
        PX=$(free_port)
        "$JAVA" "${native[@]}" -Xmx256m -jar "$PJAR" run --listen "127.0.0.1:$PX" --upstream "127.0.0.1:$UP" \
            --loops 1 --transport "$transport" --upstream-source "$sources" --admin-listen 127.0.0.1:0 \
            > "$OUT/proxy-$tag.log" 2>&1 &
        ppid=$!; pids+=("$ppid")
        for _ in $(seq 100); do grep -q 'listening on' "$OUT/proxy-$tag.log" && break; sleep 0.1; done
        # the admin port: the startup line names it (":0" picks one)
        admin=$(grep -o 'admin[^0-9]*127\.0\.0\.1:[0-9]*' "$OUT/proxy-$tag.log" | head -1 | grep -o '[0-9]*$' || true)
        echo "$lo $hi" > "$RANGE"
        java -Xms256m -Xmx256m -cp "$BJAR" io.centrigate.bench.load.LoadGen hold --target "127.0.0.1:$PX" \
            --label "$tag" --conns "$CONNS" --concurrency 64 --warm-conns 0 --settle 2 --sources "$CLIENT_SOURCES" \
            --source-port-base 20000 \
            > "$OUT/load-$tag.json" 2> "$OUT/load-$tag.err" || true
        restore
        metrics=""
        [ -n "$admin" ] && metrics="$(curl -s --max-time 5 "http://127.0.0.1:$admin/metrics" || true)"
        echo "$metrics" > "$OUT/metrics-$tag.txt"
        kill "$ppid" 2>/dev/null || true; wait "$ppid" 2>/dev/null || true
        # the JSON's fields
        field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' \
            "$OUT/load-$tag.json" "$1" 2>/dev/null || echo '?'; }
        opened=$(field opened); alive=$(field alive); failed=$(field handshake_errors)
        sum() { echo "$metrics" | awk -v m="$1" '$1 ~ "^"m"({|$)" { s += $2 } END { print s + 0 }'; }
        bindf=$(sum centrigate_upstream_source_bind_failures_total)
        s503=$(echo "$metrics" | awk '$1 ~ /^centrigate_errors_total\{.*status="503"/ { s += $2 } END { print s + 0 }')
        printf '%-6s %-8s %-24s %-13s %6s %6s %6s %9s %13s\n' "$transport" "$jdk" "$sources" "$lo-$hi" \
            "$opened" "$alive" "$failed" "$s503" "$bindf" >> "$OUT/table.txt"
        echo "--- $tag: proxy log lines about the source addresses (connect error reported):"
        grep -i 'source' "$OUT/proxy-$tag.log" | head -5 || true
        echo "$metrics" | grep -E '^centrigate_(upstream_source_bind_failures_total|errors_total\{.*status="503")' \
            | grep -v ' 0\.0$' || true
    done
done
echo
cat "$OUT/table.txt"
echo "restored ip_local_port_range: $(cat "$RANGE")"
