#!/usr/bin/env bash
# Live heap per idle tunnel: opens CONNS WebSocket tunnels through one centrigate process (the bench's hold load),
# takes `jmap -histo:live` while they are held, and prints the classes with at least one instance per tunnel and
# the whole live heap divided by the tunnels (the process's own base included, so an upper bound).
#
# Why next to bench/run.sh's "RSS per idle tunnel": for a JVM that figure is the RSS growth while the tunnels open,
# which is mostly young-generation pages touched for the first time by whatever was allocated meanwhile (live or
# not); it moves by +-50 % between identical runs. The live heap is exact and says where the bytes go.
#
#   bench/heap-per-tunnel.sh [proxy run options...]          e.g. --transport epoll
#   env: JAVA (the proxy's JVM; default: JDK 25 if installed, else java), PJAR (cli/target/centrigate.jar),
#        CONNS (9000), OUT (/tmp/centrigate-heap-per-tunnel)
set -euo pipefail
cd "$(dirname "$0")/.."
jdk25=/usr/lib/jvm/temurin-25-jdk-amd64
JAVA="${JAVA:-$([ -x $jdk25/bin/java ] && echo $jdk25/bin/java || echo java)}"
PJAR="${PJAR:-cli/target/centrigate.jar}"
BJAR=bench/target/benchmarks.jar
CONNS="${CONNS:-9000}"
OUT="${OUT:-/tmp/centrigate-heap-per-tunnel}"
JMAP="$(dirname "$(readlink -f "$(command -v "$JAVA")")")/jmap"
rm -rf "$OUT"; mkdir -p "$OUT"
[ -f "$PJAR" ] && [ -f "$BJAR" ] || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
UP=$(free_port); PX=$(free_port)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
java -Xms1g -Xmx1g -cp "$BJAR" io.centrigate.bench.load.BenchUpstream --port "$UP" > "$OUT/upstream.log" 2>&1 &
upid=$!; pids+=("$upid")
for _ in $(seq 100); do grep -q '^upstream listening' "$OUT/upstream.log" && break; sleep 0.1; done
native=(); "$JAVA" -version 2>&1 | grep -q 'version "1[0-9]\.' || native=(--enable-native-access=ALL-UNNAMED)
"$JAVA" "${native[@]}" -jar "$PJAR" run --listen "127.0.0.1:$PX" --upstream "127.0.0.1:$UP" --loops 1 "$@" \
    > "$OUT/proxy.log" 2>&1 &
ppid=$!; pids+=("$ppid")
for _ in $(seq 100); do grep -q 'listening on' "$OUT/proxy.log" && break; sleep 0.1; done
java -Xms1g -Xmx1g -cp "$BJAR" io.centrigate.bench.load.LoadGen hold --target "127.0.0.1:$PX" --label heap \
    --seconds 10 --warmup 10 --proxy-pids "$ppid" --upstream-pid "$upid" --clk-tck "$(getconf CLK_TCK)" \
    --conns "$CONNS" --concurrency 64 --settle 20 > "$OUT/load.json" 2> "$OUT/load.err" &
lpid=$!; pids+=("$lpid")
# Bounded wait until every tunnel is established (the load generator then holds them for --settle seconds).
for _ in $(seq 600); do
    [ "$(ss -Htn state established "( sport = :$PX )" | wc -l)" -ge "$CONNS" ] && break; sleep 0.2
done
"$JMAP" -histo:live "$ppid" > "$OUT/histo.txt"
wait "$lpid" || true
echo "proxy: $("$JAVA" -version 2>&1 | head -1); options: $*; tunnels: $CONNS"
awk -v n="$CONNS" '$2 >= 0.98 * n && $1 ~ /:$/ { printf "%-62s %8d %10d %8.1f B/tunnel\n", $4, $2, $3, $3 / n }
    /^Total/ { printf "%-62s %8d %10d %8.1f B/tunnel (whole live heap / tunnels)\n", "total", $2, $3, $3 / n }' \
    "$OUT/histo.txt"
