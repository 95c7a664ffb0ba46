#!/usr/bin/env bash
# One scenario against one target, pinned as bench/run.sh pins it, with a probe (perf, strace, ss...) run in the
# middle of the measured window. For looking at where time goes, not for results: the probe perturbs the run.
#
#   bench/e2e/probe.sh storm centrigate 'perf record -F 2000 -g -o /tmp/storm.data -p $PX -- sleep 3'
#   bench/e2e/probe.sh echo nginx 'perf sched record -C 1 -o /tmp/echo-sched.data -- sleep 3'
#   bench/e2e/probe.sh http centrigate 'ss -Htan state time-wait | wc -l'
#
# scenario: echo fanout storm http; target: centrigate nginx haproxy. In the probe, $PX is the proxy's pid
# (Nginx: its worker) and $PIDS all of its pids, comma-separated. Prints the load generator's JSON line (wrk's
# summary for http) and each proxy pid's utime/stime ticks before and after the probe (kernel vs user split).
# Environment: WARMUP [10] s, SECONDS_RUN [10] s, PROBE_AT [WARMUP + 2] s after the load starts,
# CENTRIGATE_JAVA_OPTS (e.g. "-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit" so perf names JIT frames),
# HTTP_CONNS [64] (wrk -c), UPORT [29100], PORT [29101]. Needs the jars of a build (mvn -DskipTests package).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
scenario="${1:?scenario}"; target="${2:?target}"; probe="${3:-true}"
WARMUP="${WARMUP:-10}"; SECONDS_RUN="${SECONDS_RUN:-10}"; PROBE_AT="${PROBE_AT:-$(( WARMUP + 2 ))}"
UPORT="${UPORT:-29100}"; PORT="${PORT:-29101}"
BJAR="$root/bench/target/benchmarks.jar"; PJAR="$root/cli/target/centrigate.jar"
work="$(mktemp -d /tmp/centrigate-probe.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

taskset -c 0 java -Xms1g -Xmx1g -cp "$BJAR" io.centrigate.bench.load.BenchUpstream --port "$UPORT" > "$work/up.log" 2>&1 &
pids+=($!)
case "$target" in
    centrigate)
        # shellcheck disable=SC2086
        taskset -c 1 java ${CENTRIGATE_JAVA_OPTS:-} -jar "$PJAR" run --listen "127.0.0.1:$PORT" \
            --upstream "127.0.0.1:$UPORT" --loops 1 > "$work/proxy.log" 2>&1 & ;;
    nginx)
        sed -e "s#@PORT@#127.0.0.1:$PORT#; s#@UPSTREAM@#127.0.0.1:$UPORT#; s#@WORKERS@#1#; s#@NOFILE@#$(ulimit -Hn)#;
                s#@RUNDIR@#$work#g" "$root/bench/e2e/nginx.conf.in" > "$work/nginx.conf"
        taskset -c 1 nginx -e "$work/nginx-error.log" -p "$work" -c "$work/nginx.conf" > "$work/proxy.log" 2>&1 & ;;
    haproxy)
        sed -e "s#@LISTEN@#127.0.0.1:$PORT#; s#@UPSTREAM@#127.0.0.1:$UPORT#; s#@THREADS@#1#;
                s#@MAXCONN@#$(( ($(ulimit -Hn) - 100) / 2 ))#g; s#@RUNDIR@#$work#g" "$root/bench/e2e/haproxy.cfg.in" > "$work/haproxy.cfg"
        taskset -c 1 haproxy -db -f "$work/haproxy.cfg" > "$work/proxy.log" 2>&1 & ;;
    *) echo "unknown target $target (centrigate nginx haproxy)" >&2; exit 2 ;;
esac
pids+=($!)
for _ in $(seq 1 100); do ss -Hltn "sport = :$PORT" | grep -q LISTEN && break; sleep 0.1; done
PX=${pids[1]}
[[ $target == nginx ]] && PX=$(pgrep -P "${pids[1]}" | head -1)
PIDS=$PX
export PX PIDS

case "$scenario" in
    echo) args=(--conns 100 --rate 20000 --size 64) ;;
    fanout) args=(--conns 5000) ;;
    storm) args=(--concurrency 64) ;;
    http) args=() ;;
    *) echo "unknown scenario $scenario (echo fanout storm http)" >&2; exit 2 ;;
esac
if [[ $scenario == http ]]; then
    taskset -c 0 wrk -t1 -c"${HTTP_CONNS:-64}" -d"${WARMUP}s" "http://127.0.0.1:$PORT/api/info" > /dev/null
    PROBE_AT=2
    taskset -c 0 wrk -t1 -c"${HTTP_CONNS:-64}" -d"${SECONDS_RUN}s" --latency "http://127.0.0.1:$PORT/api/info" > "$work/load.out" 2>&1 &
else
    taskset -c 0 java -Xms1g -Xmx1g -cp "$BJAR" io.centrigate.bench.load.LoadGen "$scenario" \
        --target "127.0.0.1:$PORT" "${args[@]}" --seconds "$SECONDS_RUN" --warmup "$WARMUP" --proxy-pids "$PIDS" \
        > "$work/load.out" 2> "$work/load.err" &
fi
load=$!
sleep "$PROBE_AT"
ticks() { awk '{ sub(/^.*\) /, ""); print "utime", $12, "stime", $13 }' "/proc/$PX/stat"; }
echo "proxy pid $PX before probe: $(ticks)"
eval "$probe" || true  # a probe bounded by timeout ends with 124
echo "proxy pid $PX after probe:  $(ticks)"
wait "$load" || true
cat "$work/load.out"
