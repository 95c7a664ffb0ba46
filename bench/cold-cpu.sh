#!/usr/bin/env bash
# How far a warm-up gets from the steady state: one centrigate process (CPU 1) in front of the bench upstream,
# then the cold scenario's load (9,000 upgrades at 2,000/s, load generator and upstream on CPU 0) RUNS times
# against the same process, printing connect+upgrade p99 and the proxy's CPU per tunnel (utime + stime of all
# its threads, the JIT's included, per open and close) for each run. The first run is what a cold start meets;
# the last, the steady state.
#
#   bench/cold-cpu.sh                     # no warm-up
#   RUN_ARGS="--warmup 5s" bench/cold-cpu.sh
#
# Needs the built jars (mvn -B -DskipTests package) and taskset. Ports 27900-27901.
set -euo pipefail
cd "$(dirname "$0")/.."
B=bench/target/benchmarks.jar; J=cli/target/centrigate.jar
RUNS="${RUNS:-3}"; RUN_ARGS="${RUN_ARGS:-}"; JAVA_OPTS="${JAVA_OPTS:-}"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
taskset -c 0 java -Xms1g -Xmx1g -cp "$B" io.centrigate.bench.load.BenchUpstream --port 27900 > /tmp/cold-cpu-up.log 2>&1 &
pids+=($!); UP=$!
for _ in $(seq 100); do ss -ltn | grep -q ':27900 ' && break; sleep 0.05; done
# shellcheck disable=SC2086
taskset -c 1 java $JAVA_OPTS -jar "$J" run --listen 127.0.0.1:27901 --upstream 127.0.0.1:27900 --loops 1 $RUN_ARGS \
    > /tmp/cold-cpu-proxy.log 2>&1 &
pids+=($!); CG=$!
for _ in $(seq 1200); do grep -q " listening on " /tmp/cold-cpu-proxy.log && break; sleep 0.05; done
grep -h "warmed up" /tmp/cold-cpu-proxy.log || true
cpu() { awk '{ print $14 + $15 }' "/proc/$CG/stat"; }
tck=$(getconf CLK_TCK)
for r in $(seq 1 "$RUNS"); do
    c0=$(cpu)
    p99=$(taskset -c 0 java -Xms1g -Xmx1g -cp "$B" io.centrigate.bench.load.LoadGen hold --target 127.0.0.1:27901 \
        --label cold-cpu --seconds 1 --warmup 0 --conns 9000 --rate 2000 --concurrency 9000 --warm-conns 2000 \
        --warm-target 127.0.0.1:27900 --settle 0.5 --proxy-pids "$CG" --upstream-pid "$UP" 2>/dev/null \
        | grep -o '"connect_p99_us":[0-9.]*' | cut -d: -f2)
    c1=$(cpu)
    echo "run $r: connect+upgrade p99 ${p99} us; proxy CPU $(( (c1 - c0) * 1000 / tck )) ms, $(( (c1 - c0) * 1000000 / tck / 9000 )) us per tunnel"
done
