#!/usr/bin/env bash
# Syscalls per tunnel set up: centrigate (NIO, and epoll where the jar and a JDK 25 allow) against Nginx, counted with strace -c while a warm proxy opens
# CONNS WebSocket tunnels (issue 11's cost per handshake, issue 14's baseline for a native transport).
#
#   bench/syscalls.sh [OUT]          (default OUT: bench/results/<date>-syscalls)
#
# Each target: BenchUpstream, the proxy with one loop / one worker, a warm-up load (WARM_CONNS tunnels, then
# closed), then strace -c -f attached to the proxy (centrigate: every thread of the JVM, so JVM housekeeping is in
# the counts too; Nginx: its one worker) while LoadGen hold opens CONNS tunnels at RATE/s. Needs strace and nginx
# (installs them from Debian when missing) and a build (mvn -B -DskipTests package).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-bench/results/$(date -u +%Y-%m-%d)-syscalls}"
CONNS="${CONNS:-1000}"; RATE="${RATE:-500}"; WARM_CONNS="${WARM_CONNS:-2000}"
mkdir -p "$OUT"
for p in strace nginx; do command -v "$p" > /dev/null || apt-get install -y "$p" > /dev/null; done
BJAR=bench/target/benchmarks.jar; PJAR=cli/target/centrigate.jar
[[ -f $BJAR && -f $PJAR ]] || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }
LOAD=(java -Xms1g -Xmx1g -cp "$BJAR" io.centrigate.bench.load.LoadGen hold --seconds 1 --warmup 0 --clk-tck 100 --settle 1)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done; }
trap cleanup EXIT

census() { # target port proxy-pid upstream-pid
    local t="$1" port="$2" ppid="$3" upid="$4"
    "${LOAD[@]}" --target "127.0.0.1:$port" --label warm --proxy-pids "$ppid" --upstream-pid "$upid" \
        --conns "$WARM_CONNS" --rate 1000 --concurrency "$WARM_CONNS" > /dev/null 2>&1
    sleep 2 # the warm-up's tunnels close when its load generator exits: let the proxy finish closing them
    timeout 120 strace -c -f -p "$ppid" -o "$OUT/$t-strace.txt" & local sp=$!
    sleep 1
    "${LOAD[@]}" --target "127.0.0.1:$port" --label census --proxy-pids "$ppid" --upstream-pid "$upid" \
        --conns "$CONNS" --rate "$RATE" --concurrency "$CONNS" > "$OUT/$t-load.json" 2> /dev/null
    sleep 1
    kill -INT "$sp"; wait "$sp" 2> /dev/null || true
}

up=27720
java -Xms1g -Xmx1g -cp "$BJAR" io.centrigate.bench.load.BenchUpstream --port "$up" > "$OUT/upstream.log" 2>&1 &
upid=$!; pids+=("$upid")
for _ in $(seq 1 100); do grep -q '^upstream listening' "$OUT/upstream.log" && break; sleep 0.1; done

java -jar "$PJAR" run --listen 127.0.0.1:27721 --upstream "127.0.0.1:$up" --loops 1 --health-check-path off \
    > "$OUT/centrigate.log" 2>&1 &
cpid=$!; pids+=("$cpid")
for _ in $(seq 1 100); do grep -q '^centrigate .* listening' "$OUT/centrigate.log" && break; sleep 0.1; done
census centrigate 27721 "$cpid" "$upid"
kill "$cpid"

# The epoll transport (issue 14): the same jar on a JDK >= 22, when the jar was built on one (JAVA25 to choose it).
targets=(centrigate)
java25="${JAVA25:-$(ls -d /usr/lib/jvm/temurin-25*/bin/java 2> /dev/null | head -1)}"
# (the listing is taken whole first: grep -q stopping early would fail the pipe under pipefail)
listing="$(unzip -l "$PJAR" 2> /dev/null || true)"
if [[ -x "$java25" ]] && grep -qE 'META-INF/versions/22/io/centrigate/nativeio/(Native|Epoll)Poller' <<< "$listing"; then
    "$java25" --sun-misc-unsafe-memory-access=allow -jar "$PJAR" run --transport epoll --listen 127.0.0.1:27723 \
        --upstream "127.0.0.1:$up" --loops 1 --health-check-path off > "$OUT/centrigate-epoll.log" 2>&1 &
    epid=$!; pids+=("$epid")
    for _ in $(seq 1 100); do grep -q '^centrigate .* listening' "$OUT/centrigate-epoll.log" && break; sleep 0.1; done
    census centrigate-epoll 27723 "$epid" "$upid"
    kill "$epid"
    targets+=(centrigate-epoll)
else
    echo "centrigate-epoll skipped: no JDK 25 or the jar has no epoll transport (build it with JAVA_HOME=<JDK 25>)" >&2
fi

dir=$(mktemp -d /tmp/centrigate-syscalls.XXXXXX)
sed -e "s#@PORT@#127.0.0.1:27722#; s#@UPSTREAM@#127.0.0.1:$up#; s#@WORKERS@#1#; s#@NOFILE@#20000#; s#@RUNDIR@#$dir#g" \
    bench/e2e/nginx.conf.in > "$dir/nginx.conf"
nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" > "$OUT/nginx.log" 2>&1 & # daemon off: stays in front
npid=$!; pids+=("$npid")
worker=""
for _ in $(seq 1 50); do worker=$(pgrep -P "$npid" | head -1 || true); [[ -n $worker ]] && break; sleep 0.1; done
[[ -n $worker ]] || { echo "nginx did not start:"; cat "$OUT/nginx.log" "$dir/error.log"; exit 1; } >&2
census nginx 27722 "$worker" "$upid"
kill "$npid"

for t in "${targets[@]}" nginx; do
    # Per tunnel = per upstream connect in the window: LoadGen hold opens a 500-connection warm-up of its own
    # before its CONNS, so the window holds CONNS + 500 tunnels, not CONNS (counts before 2026-12-07 evening
    # were divided by CONNS: 1.5 times too high, for every target alike).
    awk -v t="$t" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ { c = $4; s = $NF; if (s == "connect") n = c;
        if (s !~ /^(total|futex|gettid|restart_syscall|openat|sysinfo|newfstatat|getrusage|clock_nanosleep|pread64|madvise|mprotect|sched_yield|rt_sigreturn)$/) tot += c }
        END { printf "%s: %d network syscalls, %d tunnels (upstream connects), %.1f per tunnel opened\n", t, tot, n, tot / n }' "$OUT/$t-strace.txt"
done | tee "$OUT/summary.txt"
