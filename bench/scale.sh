#!/usr/bin/env bash
# Scale run: more than 65,536 concurrent WebSocket tunnels through centrigate on one machine whose open-file limit
# is 20,000 per process, every tunnel verified alive by an echo at the end. Optionally the same run through Nginx,
# side by side, repeated (TARGETS, RUNS; PRESET=issue11 is the comparison of issue 11).
#
#   bench/scale.sh                  # the full run (~2-3 minutes on 2 cores; as root for ip_local_port_range)
#   TUNNELS=2000 PROXIES=2 UPSTREAMS=2 LOADGENS=2 OUT=/tmp/scale-smoke bench/scale.sh   # a small rehearsal
#   PRESET=issue11 bench/scale.sh   # issue 11: 8 centrigate processes vs Nginx with 8 workers, 65,536 clients at
#                                   # 1,000/s, twice in a row (~12 minutes); results in bench/results/scale/issue11
#
# Installs nothing, except Nginx from Debian when TARGETS has nginx and it is missing (as bench/run.sh does; needs
# java, ss from iproute2, awk; Maven only if a jar is missing or older than its sources).
# Changes kernel settings for the duration of the run and restores them on exit: net.ipv4.ip_local_port_range
# (PORT_RANGE, "1024 65535"; PORT_RANGE=keep leaves it alone) and, with it, ip_local_reserved_ports (the
# bench's own listening ports, so no source port takes them). Every process it starts is stopped on exit (trap).
#
# What runs (bench/scale/README.md has the design and the 4-tuple arithmetic), once per target and repetition:
#   UPSTREAMS bench upstreams  (io.centrigate.bench.load.BenchUpstream, WebSocket echo), ports UPORT_BASE, +1, ...
#   the proxy on 127.0.0.1:PORT, one SO_REUSEPORT group of PROXIES processes:
#     centrigate: PROXIES centrigate processes, each --upstream = all upstreams, --loops LOOPS --max-connections MAX_CONN
#     nginx:      one master and PROXIES workers (listen ... reuseport), upstream = all upstreams (bench/scale/nginx.conf.in)
#   LOADGENS  load generators (io.centrigate.bench.scale.ScaleClient), the i-th binds its sockets to 127.0.0.(i+2)
# Phases: warm-up (WARM tunnels per load generator, opened and closed) → RSS "before" → open TUNNELS at RATE/s
# in total → settle → RSS "after", per-process counts → verify (one echo per tunnel) → release → report.
# Before every target run it waits (at most QUIET_MAX s) until the TIME_WAIT sockets on its ports are fewer than
# 1 % of TUNNELS (an Nginx run leaves one per tunnel), so that every target starts from the same state of the box.
#
# Environment (defaults in brackets):
#   TARGETS [centrigate] "centrigate nginx" for both; centrigate-base = the jar BASE_JAR (another build, e.g. before a
#          change)  RUNS [1] repetitions of the whole list, back to back
#   HOG [0] busy-loop processes running through each target run: a saturated box, the same for every target
#   PRESET [none | issue11: PROXIES=8 TUNNELS=GOAL=65536 RATE=1000 TARGETS="centrigate nginx" RUNS=2; explicit
#          variables win over the preset]
#   TUNNELS [67500]  GOAL [65536]  PROXIES [9]  LOOPS [1]  MAX_CONN [9900]  UPSTREAMS [5]  LOADGENS [5]
#   RATE [3000] handshakes/s in total  INFLIGHT [256] pending handshakes per load generator  WARM [100]
#   HANDSHAKE_TIMEOUT [10] s, client side (TCP connect → 101; never retried)  QUIET_MAX [65] s
#   SETTLE [3] s  PORT [28000]  UPORT_BASE [28101]  PORT_RANGE ["1024 65535" | keep]
#   PROXY_JAVA_OPTS [-Xmx256m]  PROXY_ARGS_EXTRA [--buffer-memory 64m --tunnel-idle-timeout 10m]  PROXY_JAVA [$JAVA]
#   NGINX_WORKER_CONNECTIONS [2 x MAX_CONN + 100]  NGINX_PROXY_TIMEOUT [10m] (proxy_read/send_timeout)
#   UPSTREAM_JAVA_OPTS [-Xmx768m]  LOADGEN_JAVA_OPTS [-Xmx768m]  MAX_SECONDS [540] hard bound of one target run
#   OUT [bench/results/scale; with PRESET=issue11 bench/results/scale/issue11]  BUILD [auto|always|never]
#   KEEP_SS [0; 1 = keep the full ss listing of the proxy port]  INSTALL [1; 0 = never apt-get]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[[ "${1:-}" == -h || "${1:-}" == --help ]] && { sed -n '2,42p' "$0"; exit 0; }

# the exact command: what the caller set in the environment, before any default or preset
COMMAND="bench/scale.sh"
for v in OUT BUILD KEEP_SS INSTALL MAX_SECONDS LOADGEN_JAVA_OPTS UPSTREAM_JAVA_OPTS NGINX_PROXY_TIMEOUT NGINX_WORKER_CONNECTIONS \
         PROXY_ARGS_EXTRA PROXY_JAVA_OPTS PORT_RANGE UPORT_BASE PORT SETTLE QUIET_MAX HANDSHAKE_TIMEOUT WARM INFLIGHT RATE \
         LOADGENS UPSTREAMS MAX_CONN LOOPS PROXIES GOAL TUNNELS RUNS TARGETS HOG BASE_JAR PRESET; do
    [[ -n "${!v+x}" ]] && [[ "$(env | grep -c "^$v=")" -gt 0 ]] && COMMAND="$v=$(printf '%q' "${!v}") $COMMAND"
done

PRESET="${PRESET:-}"
case "$PRESET" in
    "") ;;
    # issue 11: 8 processes on one port, 65,536 clients at 1,000/s, upstreams and clients on the same box, back to
    # back with Nginx (8 workers), twice. 5 upstream ports and 5 source addresses: 13,108 connections per
    # upstream port and per source address, within the port range and each process's 20,000 descriptors.
    issue11)
        : "${PROXIES:=8}" "${TUNNELS:=65536}" "${GOAL:=65536}" "${RATE:=1000}" "${TARGETS:=centrigate nginx}"
        : "${RUNS:=2}" "${UPSTREAMS:=5}" "${LOADGENS:=5}" "${MAX_CONN:=9900}" "${OUT:=bench/results/scale/issue11}" ;;
    *) echo "unknown PRESET '$PRESET' (known: issue11)" >&2; exit 2 ;;
esac

TARGETS="${TARGETS:-centrigate}"
RUNS="${RUNS:-1}"
TUNNELS="${TUNNELS:-67500}"
GOAL="${GOAL:-65536}"
PROXIES="${PROXIES:-9}"
LOOPS="${LOOPS:-1}"
MAX_CONN="${MAX_CONN:-9900}"
UPSTREAMS="${UPSTREAMS:-5}"
LOADGENS="${LOADGENS:-5}"
RATE="${RATE:-3000}"
INFLIGHT="${INFLIGHT:-256}"
WARM="${WARM:-100}"
HANDSHAKE_TIMEOUT="${HANDSHAKE_TIMEOUT:-10}"
QUIET_MAX="${QUIET_MAX:-65}"
SETTLE="${SETTLE:-3}"
PORT="${PORT:-28000}"
UPORT_BASE="${UPORT_BASE:-28101}"
PORT_RANGE="${PORT_RANGE:-1024 65535}"
PROXY_JAVA_OPTS="${PROXY_JAVA_OPTS:--Xmx256m}"
PROXY_ARGS_EXTRA="${PROXY_ARGS_EXTRA:---buffer-memory 64m --tunnel-idle-timeout 10m}"
NGINX_WORKER_CONNECTIONS="${NGINX_WORKER_CONNECTIONS:-$(( 2 * MAX_CONN + 100 ))}"
NGINX_PROXY_TIMEOUT="${NGINX_PROXY_TIMEOUT:-10m}"
UPSTREAM_JAVA_OPTS="${UPSTREAM_JAVA_OPTS:--Xmx768m}"
LOADGEN_JAVA_OPTS="${LOADGEN_JAVA_OPTS:--Xmx768m}"
MAX_SECONDS="${MAX_SECONDS:-540}"
OUT="${OUT:-bench/results/scale}"
BUILD="${BUILD:-auto}"
INSTALL="${INSTALL:-1}"
JAVA="${JAVA:-java}"
# The proxies' JVM: e.g. a JDK 25 with PROXY_ARGS_EXTRA="... --transport epoll" (the jar must be built on JDK 22+).
PROXY_JAVA="${PROXY_JAVA:-$JAVA}"
NOFILE=$(ulimit -Hn)
[[ $NOFILE == unlimited ]] && NOFILE=1048576
ulimit -n "$NOFILE" 2>/dev/null || true
[[ -n "$PRESET" ]] && COMMAND="$COMMAND   # PRESET=$PRESET: TARGETS='$TARGETS' RUNS=$RUNS PROXIES=$PROXIES TUNNELS=$TUNNELS GOAL=$GOAL RATE=$RATE UPSTREAMS=$UPSTREAMS LOADGENS=$LOADGENS"

START=$SECONDS
SCRIPT_LOG=/dev/null
RUN_LOG=/dev/null
log() {
    local line
    line="$(printf '%s [%3ds] %s' "$(date +%T)" $(( SECONDS - START )) "$*")"
    echo "$line" >> "$SCRIPT_LOG"
    [[ "$RUN_LOG" != "$SCRIPT_LOG" ]] && echo "$line" >> "$RUN_LOG"
    echo "$line" >&2
}
die() { log "FAILED: $*"; exit 1; }

for t in $TARGETS; do [[ $t == centrigate || $t == nginx || ( $t == centrigate-base && -n ${BASE_JAR:-} ) ]] ||
    { echo "unknown target '$t' (centrigate, nginx; centrigate-base with BASE_JAR)" >&2; exit 2; }; done
HOG="${HOG:-0}"
(( RUNS >= 1 )) || { echo "RUNS must be at least 1" >&2; exit 2; }
N_TARGETS=$(wc -w <<< "$TARGETS")
N_RUNS=$(( RUNS * N_TARGETS ))
# one target run: the layout of before (OUT/raw, OUT/logs with the script's log, OUT/summary.md); several:
# OUT/run<r>-<target>/ with that layout each, OUT/scale.log, OUT/logs/ (environment, checks), OUT/comparison.md
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
TOP="$OUT"
if (( N_RUNS > 1 )); then
    rm -f "$TOP/scale.log" "$TOP/comparison.md" "$TOP/command.txt"
    for r in $(seq 1 "$RUNS"); do for t in $TARGETS; do rm -rf "${TOP:?}/run$r-$t"; done; done
    rm -rf "$TOP/logs"
    mkdir -p "$TOP/logs"
    echo "$COMMAND" > "$TOP/command.txt"
    SCRIPT_LOG="$TOP/scale.log"
else
    rm -rf "$OUT/raw" "$OUT/logs"
    mkdir -p "$OUT/raw" "$OUT/logs"
    SCRIPT_LOG="$OUT/logs/scale.log"
fi
RUN_LOG="$SCRIPT_LOG"

# ------------------------------------------------------------------------------------ arithmetic, up front
per_lg=$(( (TUNNELS + LOADGENS - 1) / LOADGENS ))
per_up=$(( (TUNNELS + UPSTREAMS - 1) / UPSTREAMS ))
per_proxy=$(( (TUNNELS + PROXIES - 1) / PROXIES ))
if [[ $PORT_RANGE == keep ]]; then read -r plo phi < /proc/sys/net/ipv4/ip_local_port_range
else read -r plo phi <<< "$PORT_RANGE"; fi
ports=$(( phi - plo + 1 ))
log "plan: targets '$TARGETS' x $RUNS run(s); each: $TUNNELS tunnels = $LOADGENS load generators x $per_lg (source 127.0.0.2..127.0.0.$(( LOADGENS + 1 ))) ->" \
    "$PROXIES proxy processes on 127.0.0.1:$PORT (~$per_proxy each) -> $UPSTREAMS upstreams (~$per_up each)"
(( LOADGENS <= 250 )) || die "at most 250 load generators (source addresses 127.0.0.2..127.0.0.251)"
(( per_lg + 200 <= NOFILE )) || die "a load generator would hold $per_lg sockets: over the open-file limit $NOFILE; more LOADGENS"
(( per_up + 200 <= NOFILE )) || die "an upstream would hold ~$per_up sockets: over the open-file limit $NOFILE; more UPSTREAMS"
if [[ " $TARGETS " == *" centrigate "* ]]; then
    (( 2 * MAX_CONN + 64 <= NOFILE )) || die "MAX_CONN $MAX_CONN needs $(( 2 * MAX_CONN + 64 )) descriptors > $NOFILE"
    (( PROXIES * MAX_CONN >= TUNNELS )) || die "PROXIES x MAX_CONN = $(( PROXIES * MAX_CONN )) < $TUNNELS"
    (( per_proxy * 110 / 100 <= MAX_CONN )) || log "warning: the mean per proxy $per_proxy leaves less than 10 % headroom below MAX_CONN $MAX_CONN for the reuseport hash's unevenness (a full proxy answers 503)"
fi
if [[ " $TARGETS " == *" nginx "* ]]; then
    # an Nginx worker holds 2 connections (and descriptors) per tunnel, like a centrigate process; worker_connections
    # counts both and its listening socket; worker_rlimit_nofile is the hard limit (it cannot go higher)
    (( NGINX_WORKER_CONNECTIONS + 32 <= NOFILE )) || die "NGINX_WORKER_CONNECTIONS $NGINX_WORKER_CONNECTIONS + 32 > the open-file limit $NOFILE (worker_rlimit_nofile)"
    (( PROXIES * (NGINX_WORKER_CONNECTIONS - 16) / 2 >= TUNNELS )) || die "PROXIES x NGINX_WORKER_CONNECTIONS / 2 < $TUNNELS tunnels"
    (( per_proxy * 2 * 110 / 100 <= NGINX_WORKER_CONNECTIONS )) || log "warning: the mean per Nginx worker (2 x $per_proxy connections) leaves less than 10 % headroom below worker_connections $NGINX_WORKER_CONNECTIONS"
fi
# 4-tuples: (127.0.0.x, sport, 127.0.0.1, PORT) per source address; (127.0.0.1, sport, 127.0.0.1, UPORT) per upstream
(( per_lg < ports )) || die "$per_lg client sockets per source address > $ports ephemeral ports: more LOADGENS"
(( per_up < ports )) || die "$per_up proxy->upstream connections per upstream port > $ports ephemeral ports: more UPSTREAMS"

# ------------------------------------------------------------------------------------------- nginx, install
PATH="$PATH:/usr/sbin"
if [[ " $TARGETS " == *" nginx "* ]] && ! command -v nginx >/dev/null 2>&1; then
    [[ $INSTALL == 1 ]] || die "nginx is not installed (INSTALL=0)"
    log "installing nginx from Debian (as bench/run.sh does)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d exit 101: the package's own service is not started (port 80; we run our own instance)
    own_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
    fi
    apt-get install -y -qq --no-install-recommends nginx >/dev/null
    [[ $own_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d
    command -v nginx >/dev/null 2>&1 || die "nginx still missing after apt-get install"
fi
# ------------------------------------------------------------------------------------------------ build
BJAR=bench/target/benchmarks.jar
PJAR=cli/target/centrigate.jar
if [[ "$BUILD" == auto ]]; then
    if [[ ! -f "$BJAR" || ! -f "$PJAR" ]] ||
       [[ -n "$(find pom.xml core cli bench/pom.xml bench/src -newer "$BJAR" \( -name '*.java' -o -name pom.xml \) -print -quit 2>/dev/null)" ]] ||
       [[ -n "$(find pom.xml core cli -newer "$PJAR" \( -name '*.java' -o -name pom.xml \) -print -quit 2>/dev/null)" ]]; then
        BUILD=always
    fi
fi
if [[ "$BUILD" == always ]]; then
    log "building (mvn -B -q -o -DskipTests package)"
    mvn -B -q -o -DskipTests package || mvn -B -q -DskipTests package
fi
# private copies: a concurrent build must not swap a jar under a running JVM
JARS="$(mktemp -d /tmp/centrigate-scale.XXXXXX)"
cp "$BJAR" "$JARS/benchmarks.jar"
cp "$PJAR" "$JARS/centrigate.jar"
[[ -z ${BASE_JAR:-} ]] || cp "$BASE_JAR" "$JARS/base.jar"
BJAR="$JARS/benchmarks.jar"
PJAR="$JARS/centrigate.jar"

# ------------------------------------------------------------------------------------- processes, trap
started=()
WATCHDOG=0
ORIG_RANGE="$(tr '\t' ' ' < /proc/sys/net/ipv4/ip_local_port_range)"
RANGE_CHANGED=0
ORIG_RESERVED="$(cat /proc/sys/net/ipv4/ip_local_reserved_ports)"
cleanup() {
    local rc=$? p
    pkill -TERM -P "$WATCHDOG" 2>/dev/null || true   # the watchdog's own sleep
    for p in "${started[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${started[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    if [[ $RANGE_CHANGED == 1 ]]; then
        echo "$ORIG_RANGE" > /proc/sys/net/ipv4/ip_local_port_range &&
            log "ip_local_port_range restored to '$(tr '\t' ' ' < /proc/sys/net/ipv4/ip_local_port_range)'"
        echo "$ORIG_RESERVED" > /proc/sys/net/ipv4/ip_local_reserved_ports || true
    fi
    rm -rf "$JARS"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# the whole run is bounded: a watchdog ends this script (and so, through the trap, everything) after MAX_SECONDS
# per target run and QUIET_MAX per pause between two of them
BOUND=$(( N_RUNS * MAX_SECONDS + (N_RUNS - 1) * QUIET_MAX ))
( sleep "$BOUND"; log "bound of $BOUND s (MAX_SECONDS=$MAX_SECONDS per target run) reached: stopping"; kill -TERM $$ ) 2>/dev/null &
WATCHDOG=$!
started+=("$WATCHDOG")

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
anon_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
machine_busy() { awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6 }' /proc/stat; }
CLK_TCK=$(getconf CLK_TCK)
proxy_fds() { local s=0 p; for p in "${PX_PIDS[@]}"; do s=$(( s + $(fds "$p") )); done; echo $s; }
# TIME_WAIT sockets from or to the proxy port and the upstream ports: what one target run leaves for the next
time_wait() {
    ss -Htn state time-wait | awk -v p="$PORT" -v lo="$UPORT_BASE" -v hi=$(( UPORT_BASE + UPSTREAMS - 1 )) '
        { split($3, a, ":"); split($4, b, ":"); l = a[length(a)] + 0; r = b[length(b)] + 0
          if (l == p || r == p || (l >= lo && l <= hi) || (r >= lo && r <= hi)) n++ } END { print n + 0 }'
}
port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
wait_line() { # file pattern count timeout-s
    local i
    for i in $(seq 1 $(( $4 * 10 ))); do
        [[ $(grep -c "$2" "$1" 2>/dev/null || true) -ge $3 ]] && return 0
        sleep 0.1
    done
    return 1
}

{
    echo "date=$(date -u +%FT%TZ)"
    echo "kernel=$(uname -r)"
    echo "cpus=$(nproc)"
    echo "mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "java=$("$JAVA" -version 2>&1 | head -1)"
    echo "nofile=$(ulimit -Sn) soft / $(ulimit -Hn) hard"
    for s in net.core.somaxconn net.ipv4.tcp_max_syn_backlog net.ipv4.ip_local_port_range net.ipv4.tcp_tw_reuse \
             fs.file-max fs.nr_open net.netfilter.nf_conntrack_max net.ipv4.tcp_max_tw_buckets net.ipv4.tcp_mem; do
        echo "$s=$(sysctl -n $s 2>/dev/null | tr '\t' ' ')"
    done
    echo "loadavg=$(cat /proc/loadavg)"
    if command -v nginx >/dev/null 2>&1; then echo "nginx=$(nginx -v 2>&1)"; fi
} > "$TOP/logs/env.txt"

# centrigate check, as an operator would run it for the whole target (one process) and for one process's share
for spec in "$GOAL $UPSTREAMS" "$MAX_CONN $UPSTREAMS"; do
    read -r n k <<< "$spec"
    { echo "\$ centrigate check --connections $n --upstreams $k   # ip_local_port_range $(tr '\t' ' ' < /proc/sys/net/ipv4/ip_local_port_range)"
      "$JAVA" -jar "$PJAR" check --connections "$n" --upstreams "$k" || echo "(exit $?)"; } > "$TOP/logs/check-$n-before.txt" 2>&1
done

# -------------------------------------------------------------------------------------------- one target run
# Counts the proxies' log lines of note. centrigate: `upstream-connect: <node>: connect timed out` (its error log
# prints a kind at most once per 10 s and adds "(N more since last report)": events = lines + N). Nginx: one error
# log for all workers, `upstream timed out ... while connecting to upstream` by worker pid, and the other errors.
proxy_log_counts() {
    local i f lines events per="" sum=0 p
    if [[ $target == centrigate* ]]; then
        for i in "${!PX_PIDS[@]}"; do
            f="$OUT/logs/proxy-$i.log"
            lines=$(grep -c 'upstream-connect: .*connect timed out' "$f" || true)
            # "(N more since last report)" adds N suppressed events to the line's one
            events=$(grep 'upstream-connect: ' "$f" | sed -E 's/.*\(([0-9]+) more since last report\).*/\1/; t; s/.*/0/' |
                awk '{ n += 1 + $1 } END { print n + 0 }' || true)
            per+="${per:+ }$lines/$events"
            sum=$(( sum + events ))
        done
        PROXY_LOG_COUNTS="per process, 'connect timed out' lines / all upstream-connect events (lines + suppressed): $per"
    else
        f="$OUT/logs/nginx-error.log"
        for p in "${PX_PIDS[@]:1}"; do
            lines=$(grep -c " $p#[0-9]*: .*upstream timed out .*while connecting to upstream" "$f" || true)
            per+="${per:+ }$lines"
            sum=$(( sum + lines ))
        done
        # the other errors, by message with numbers and addresses blanked, the five most frequent
        local others
        others=$(grep -E '\[(error|crit|alert|emerg)\]' "$f" 2>/dev/null | grep -v 'while connecting to upstream' |
            sed -E 's/^.*\] [0-9]+#[0-9]+: (\*[0-9]+ )?//; s/, client:.*$//; s/[0-9]+/N/g' | sort | uniq -c | sort -rn |
            head -5 | awk '{ c = $1; $1 = ""; printf "%s%d x%s", (NR > 1 ? "; " : ""), c, $0 }' || true)
        PROXY_LOG_COUNTS="per worker, 'upstream timed out ... while connecting to upstream' lines: $per; other errors: ${others:-none}"
    fi
    PROXY_LOG_UPSTREAM_TIMEOUTS=$sum
    log "proxy logs: $PROXY_LOG_COUNTS"
}

run_one() { # run target
    local run=$1 target=$2
    CTRL="$JARS/control-run$run-$target"
    mkdir -p "$CTRL"
    TW_AT_START=$(time_wait)
    LOAD_AT_START="$(cut -d' ' -f1-3 /proc/loadavg)"
    log "=== run $run, target $target: $OUT (TIME_WAIT sockets on the run's ports: $TW_AT_START; load $LOAD_AT_START)"
    # A saturated box, the same for every target: HOG busy loops at normal priority for the whole target run.
    HOG_PIDS=()
    for _ in $(seq 1 "$HOG"); do
        sh -c 'while :; do :; done' & HOG_PIDS+=($!); started+=($!)
    done
    (( HOG == 0 )) || log "$HOG CPU hogs running (pids ${HOG_PIDS[*]})"
    # ---------------------------------------------------------------------------------------------- upstreams
    for p in $PORT $(seq "$UPORT_BASE" $(( UPORT_BASE + UPSTREAMS - 1 ))); do port_free "$p" || die "port $p is in use"; done
    UP_PIDS=(); UP_PORTS=(); UPSTREAM_LIST=""
    for i in $(seq 0 $(( UPSTREAMS - 1 ))); do
        up=$(( UPORT_BASE + i ))
        # shellcheck disable=SC2086
        "$JAVA" $UPSTREAM_JAVA_OPTS -cp "$BJAR" io.centrigate.bench.load.BenchUpstream --host 127.0.0.1 --port "$up" \
            > "$OUT/logs/upstream-$i.log" 2>&1 &
        UP_PIDS+=($!); UP_PORTS+=("$up"); started+=($!)
        UPSTREAM_LIST+="${UPSTREAM_LIST:+,}127.0.0.1:$up"
    done
    for i in "${!UP_PIDS[@]}"; do
        wait_line "$OUT/logs/upstream-$i.log" '^upstream listening' 1 30 || { cat "$OUT/logs/upstream-$i.log"; die "upstream $i did not start"; }
    done
    log "$UPSTREAMS upstreams up: $UPSTREAM_LIST (pids ${UP_PIDS[*]})"

    # ------------------------------------------------------------------------------------------------ proxies
    PX_PIDS=(); PX_ROLES=()
    if [[ $target == centrigate* ]]; then
        # shellcheck disable=SC2206
        PROXY_ARGS=(run --listen "127.0.0.1:$PORT" --upstream "$UPSTREAM_LIST" --loops "$LOOPS" --max-connections "$MAX_CONN" $PROXY_ARGS_EXTRA)
        PROXY_CMD="$PROXY_JAVA $PROXY_JAVA_OPTS -jar centrigate.jar ${PROXY_ARGS[*]}"
        PROXY_PROCESSES="$PROXIES centrigate processes"
        for i in $(seq 0 $(( PROXIES - 1 ))); do
            # shellcheck disable=SC2086
            "$PROXY_JAVA" $PROXY_JAVA_OPTS -jar "$([[ $target == centrigate-base ]] && echo "$JARS/base.jar" || echo "$PJAR")" \
                "${PROXY_ARGS[@]}" > "$OUT/logs/proxy-$i.log" 2>&1 &
            PX_PIDS+=($!); PX_ROLES+=(proxy); started+=($!)
        done
        for i in "${!PX_PIDS[@]}"; do
            wait_line "$OUT/logs/proxy-$i.log" '^centrigate ' 1 60 || { cat "$OUT/logs/proxy-$i.log"; die "proxy $i did not start"; }
        done
        log "$PROXIES proxies up on 127.0.0.1:$PORT (pids ${PX_PIDS[*]}): $(grep -m1 '^centrigate ' "$OUT/logs/proxy-0.log")"
    else
        ndir="$JARS/nginx-run$run"
        mkdir -p "$ndir"
        servers=""
        for up in "${UP_PORTS[@]}"; do servers+="server 127.0.0.1:$up; "; done
        sed -e "s#@PORT@#127.0.0.1:$PORT#g; s#@UPSTREAM_SERVERS@#$servers#g; s#@WORKERS@#$PROXIES#g; s#@NOFILE@#$NOFILE#g;
                s#@WORKER_CONNECTIONS@#$NGINX_WORKER_CONNECTIONS#g; s#@PROXY_TIMEOUT@#$NGINX_PROXY_TIMEOUT#g;
                s#@ERROR_LOG@#$OUT/logs/nginx-error.log#g; s#@RUNDIR@#$ndir#g" bench/scale/nginx.conf.in > "$ndir/nginx.conf"
        cp "$ndir/nginx.conf" "$OUT/logs/nginx.conf"
        PROXY_CMD="nginx -c nginx.conf (logs/nginx.conf: worker_processes $PROXIES, worker_connections $NGINX_WORKER_CONNECTIONS, worker_rlimit_nofile $NOFILE, listen reuseport backlog=4096)"
        PROXY_PROCESSES="Nginx: 1 master + $PROXIES workers"
        nginx -e "$OUT/logs/nginx-error.log" -p "$ndir" -c "$ndir/nginx.conf" > "$OUT/logs/proxy-master.log" 2>&1 &
        master=$!
        PX_PIDS+=("$master"); PX_ROLES+=(proxy-master); started+=("$master")
        workers=()
        for _ in $(seq 1 100); do
            kill -0 "$master" 2>/dev/null || { cat "$OUT/logs/proxy-master.log" "$OUT/logs/nginx-error.log" >&2; die "nginx did not start"; }
            mapfile -t workers < <(pgrep -P "$master" || true)
            [[ ${#workers[@]} -ge $PROXIES && $(ss -Hltn "sport = :$PORT" | wc -l) -ge $PROXIES ]] && break
            sleep 0.1
        done
        [[ ${#workers[@]} -ge $PROXIES ]] || { cat "$OUT/logs/nginx-error.log" >&2; die "nginx: ${#workers[@]} of $PROXIES workers"; }
        for p in "${workers[@]}"; do PX_PIDS+=("$p"); PX_ROLES+=(proxy); started+=("$p"); done
        log "nginx up on 127.0.0.1:$PORT: master $master, workers ${workers[*]} ($(nginx -v 2>&1))"
    fi
    listeners=$(ss -Hltn "sport = :$PORT" | wc -l)
    log "listening sockets on :$PORT (one SO_REUSEPORT group): $listeners"
    sleep 2
    declare -A RSS_START
    for p in "${PX_PIDS[@]}" "${UP_PIDS[@]}"; do RSS_START[$p]=$(rss_kb "$p"); done

    # ------------------------------------------------------------------------------- ephemeral port range
    # widened once, before the first load generator starts, and restored on exit (trap)
    if [[ $PORT_RANGE != keep && $RANGE_CHANGED == 0 ]]; then
        echo "$PORT_RANGE" > /proc/sys/net/ipv4/ip_local_port_range || die "cannot set ip_local_port_range (root needed; PORT_RANGE=keep to skip)"
        RANGE_CHANGED=1
        # The widened range covers the bench's own listening ports: reserve them, or any process on the box (a
        # previous run's load generator, a build's tests) may take one as a source port and a later run's
        # upstream cannot bind.
        echo "${ORIG_RESERVED:+$ORIG_RESERVED,}$PORT,$UPORT_BASE-$((UPORT_BASE + UPSTREAMS - 1))" \
            > /proc/sys/net/ipv4/ip_local_reserved_ports || true
        log "ip_local_port_range '$ORIG_RANGE' -> '$(tr '\t' ' ' < /proc/sys/net/ipv4/ip_local_port_range)' (restored on exit)"
    fi
    if [[ ! -f "$TOP/logs/check-$GOAL-during.txt" ]]; then
        for spec in "$GOAL $UPSTREAMS" "$MAX_CONN $UPSTREAMS"; do
            read -r n k <<< "$spec"
            { echo "\$ centrigate check --connections $n --upstreams $k   # ip_local_port_range $(tr '\t' ' ' < /proc/sys/net/ipv4/ip_local_port_range)"
              "$JAVA" -jar "$PJAR" check --connections "$n" --upstreams "$k" || echo "(exit $?)"; } > "$TOP/logs/check-$n-during.txt" 2>&1
        done
    fi

    # ---------------------------------------------------------------------------------------- load generators
    LG_PIDS=()
    rate_lg=$(awk -v r="$RATE" -v n="$LOADGENS" 'BEGIN { printf "%.1f", r / n }')
    left=$TUNNELS
    for i in $(seq 0 $(( LOADGENS - 1 ))); do
        n=$(( left / (LOADGENS - i) )); left=$(( left - n ))
        # shellcheck disable=SC2086
        "$JAVA" $LOADGEN_JAVA_OPTS -cp "$BJAR" io.centrigate.bench.scale.ScaleClient --target "127.0.0.1:$PORT" \
            --source "127.0.0.$(( i + 2 ))" --label "lg$i" --conns "$n" --rate "$rate_lg" --inflight "$INFLIGHT" \
            --warm "$WARM" --handshake-timeout "$HANDSHAKE_TIMEOUT" --control "$CTRL" --out "$OUT/raw/loadgen-$i" \
            --max-seconds "$MAX_SECONDS" \
            > "$OUT/logs/loadgen-$i.log" 2>&1 &
        LG_PIDS+=($!); started+=($!)
    done
    for i in "${!LG_PIDS[@]}"; do
        wait_line "$OUT/logs/loadgen-$i.log" '^WARM ' 1 60 || { cat "$OUT/logs/loadgen-$i.log"; die "load generator $i: no warm-up"; }
    done
    log "warm-up done ($WARM tunnels per load generator, opened and closed): $(grep -h '^WARM ' "$OUT"/logs/loadgen-*.log | grep -o '"warm_failed":[0-9]*' | tr '\n' ' ')"
    sleep 2
    declare -A RSS_BEFORE ANON_BEFORE FD_BEFORE
    for p in "${PX_PIDS[@]}" "${UP_PIDS[@]}"; do
        RSS_BEFORE[$p]=$(rss_kb "$p"); ANON_BEFORE[$p]=$(anon_kb "$p"); FD_BEFORE[$p]=$(fds "$p")
    done
    fd0=$(proxy_fds)
    log "before: proxy RSS sum $(( $(for p in "${PX_PIDS[@]}"; do echo -n "${RSS_BEFORE[$p]}+"; done) 0 )) KiB, descriptors $fd0"

    # ---------------------------------------------------------------------------------------------- open all
    log "opening $TUNNELS tunnels at $RATE/s in total ($rate_lg/s per load generator, at most $INFLIGHT pending each)"
    declare -A CPU0 CPU1
    for p in "${PX_PIDS[@]}" "${UP_PIDS[@]}" "${LG_PIDS[@]}"; do CPU0[$p]=$(cpu_ticks "$p"); done
    read -r mb0 mt0 < <(machine_busy)
    [[ $target == centrigate* ]] && command -v jcmd >/dev/null && { echo "# proxy 0 (pid ${PX_PIDS[0]}) before the open phase"; jcmd "${PX_PIDS[0]}" GC.heap_info 2>&1; } > "$OUT/raw/proxy-0-heap.txt" || true
    NSTAT_KEYS="TcpExtListenOverflows TcpExtListenDrops TcpExtSyncookiesSent TcpExtTCPReqQFullDoCookies TcpExtTCPReqQFullDrop TcpExtTCPAbortOnMemory TcpExtTCPTimeWaitOverflow"
    command -v nstat >/dev/null && { echo "# before the open phase (absolute counters)"; nstat -az $NSTAT_KEYS; } > "$OUT/raw/nstat.txt" 2>&1 || true
    touch "$CTRL/go"
    t_go=$SECONDS
    while :; do
        done_n=$(grep -l '^OPENED ' "$OUT"/logs/loadgen-*.log 2>/dev/null | wc -l || true)
        [[ $done_n -ge $LOADGENS ]] && break
        for p in "${LG_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || die "load generator pid $p exited: $(tail -3 "$OUT"/logs/loadgen-*.log)"; done
        for p in "${PX_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || log "proxy pid $p is gone!"; done
        sleep 1
        if (( (SECONDS - t_go) % 5 == 0 )); then
            log "  $(( SECONDS - t_go ))s: ~$(( ($(proxy_fds) - fd0) / 2 )) tunnels held by the proxies (descriptors / 2), $done_n/$LOADGENS load generators done"
        fi
    done
    opened=$(grep -h '^OPENED ' "$OUT"/logs/loadgen-*.log | grep -o '"opened":[0-9]*' | awk -F: '{ s += $2 } END { print s }')
    failed=$(grep -h '^OPENED ' "$OUT"/logs/loadgen-*.log | grep -o '"failed":[0-9]*' | awk -F: '{ s += $2 } END { print s }')
    for p in "${PX_PIDS[@]}" "${UP_PIDS[@]}" "${LG_PIDS[@]}"; do CPU1[$p]=$(cpu_ticks "$p"); done
    read -r mb1 mt1 < <(machine_busy)
    command -v nstat >/dev/null && { echo "# after the open phase (absolute counters)"; nstat -az $NSTAT_KEYS; } >> "$OUT/raw/nstat.txt" 2>&1 || true
    log "open phase over after $(( SECONDS - t_go ))s: $opened opened, $failed failed"
    grep -h '^OPENED ' "$OUT"/logs/loadgen-*.log | grep -o '"failures":{[^}]*}' | sort | uniq -c | sed 's/^/    /' | tee -a "$OUT/logs/scale.log" >&2 || true
    fails_total=0

    sleep "$SETTLE"
    # ----------------------------------------------------------------------------------- measure, all tunnels up
    declare -A RSS_AFTER ANON_AFTER FD_AFTER EST
    [[ $target == centrigate* ]] && command -v jcmd >/dev/null && { echo "# proxy 0 (pid ${PX_PIDS[0]}) with all tunnels up"; jcmd "${PX_PIDS[0]}" GC.heap_info 2>&1; } >> "$OUT/raw/proxy-0-heap.txt" || true
    for p in "${LG_PIDS[@]}"; do RSS_START[$p]=0; RSS_BEFORE[$p]=0; ANON_BEFORE[$p]=0; FD_BEFORE[$p]=0; done
    for p in "${PX_PIDS[@]}" "${UP_PIDS[@]}" "${LG_PIDS[@]}"; do
        RSS_AFTER[$p]=$(rss_kb "$p"); ANON_AFTER[$p]=$(anon_kb "$p"); FD_AFTER[$p]=$(fds "$p")
    done
    # tunnels per proxy process as the kernel sees them: established sockets on the listening port, by owning pid
    ss -Htnp state established "( sport = :$PORT )" > "$OUT/raw/ss-proxy-port.txt" 2>/dev/null || true
    for p in "${PX_PIDS[@]}"; do EST[$p]=$(grep -c "pid=$p," "$OUT/raw/ss-proxy-port.txt" || true); done
    # only sockets whose local address is 127.0.0.1: a client socket bound to 127.0.0.x may have drawn the same port number
    local_is() { awk -v a="127.0.0.1:$1" -v b="[::ffff:127.0.0.1]:$1" '$3 == a || $3 == b'; }
    for i in "${!UP_PIDS[@]}"; do
        EST[${UP_PIDS[$i]}]=$(ss -Htn state established "( sport = :${UP_PORTS[$i]} )" | local_is "${UP_PORTS[$i]}" | wc -l)
    done
    { echo "# established sockets per (source address) towards :$PORT"
      ss -Htn state established "( dport = :$PORT )" |
          awk '{ a = $3; sub(/:[0-9]+$/, "", a); gsub(/\[|\]|::ffff:/, "", a); n[a]++ } END { for (k in n) print k, n[k] }' | sort
    } > "$OUT/raw/ss-client-sources.txt"
    for i in "${!LG_PIDS[@]}"; do
        EST[${LG_PIDS[$i]}]=$(awk -v a="127.0.0.$(( i + 2 ))" '$1 == a { print $2 }' "$OUT/raw/ss-client-sources.txt")
    done
    total_est=$(local_is "$PORT" < "$OUT/raw/ss-proxy-port.txt" | wc -l)
    { echo "# established sockets with local address 127.0.0.1:$PORT, by owning process (ss -Htnp state established)"
      local_is "$PORT" < "$OUT/raw/ss-proxy-port.txt" | grep -o 'pid=[0-9]*' | sort | uniq -c
      echo "# total $total_est"; } > "$OUT/raw/ss-proxy-port-by-pid.txt"
    [[ "${KEEP_SS:-0}" == 1 ]] || rm -f "$OUT/raw/ss-proxy-port.txt"   # the full listing is ~100 B per tunnel
    log "all up: $total_est established client sockets on :$PORT; per proxy: $(for p in "${PX_PIDS[@]}"; do echo -n "${EST[$p]} "; done)"
    log "per upstream: $(for p in "${UP_PIDS[@]}"; do echo -n "${EST[$p]} "; done)"

    # ------------------------------------------------------------------------------------------------- verify
    touch "$CTRL/verify"
    for i in "${!LG_PIDS[@]}"; do
        wait_line "$OUT/logs/loadgen-$i.log" '^VERIFIED ' 1 90 || die "load generator $i: no verification result"
    done
    alive=$(grep -h '^VERIFIED ' "$OUT"/logs/loadgen-*.log | grep -o '"alive":[0-9]*' | awk -F: '{ s += $2 } END { print s }')
    log "verified alive: $alive (goal $GOAL)"
    declare -A RSS_VERIFY
    for p in "${PX_PIDS[@]}" "${UP_PIDS[@]}" "${LG_PIDS[@]}"; do RSS_VERIFY[$p]=$(rss_kb "$p"); done

    # ------------------------------------------------------------------------------------- release and record
    touch "$CTRL/release"
    for i in "${!LG_PIDS[@]}"; do wait_line "$OUT/logs/loadgen-$i.log" '^DONE ' 1 60 || log "load generator $i did not finish"; done
    {
        printf 'role\tidx\tpid\tport\trss_start_kb\trss_before_kb\trss_after_kb\trss_after_verify_kb\tanon_before_kb\tanon_after_kb\tfd_before\tfd_after\testablished\tcpu_open_s\n'
        row() { # role idx pid port
            local p=$3
            printf '%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$p" "$4" "${RSS_START[$p]}" "${RSS_BEFORE[$p]}" \
                "${RSS_AFTER[$p]}" "${RSS_VERIFY[$p]}" "${ANON_BEFORE[$p]}" "${ANON_AFTER[$p]}" "${FD_BEFORE[$p]}" "${FD_AFTER[$p]}" "${EST[$p]:-0}" \
                "$(awk -v a="${CPU0[$p]}" -v b="${CPU1[$p]}" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t }')"
        }
        for i in "${!PX_PIDS[@]}"; do row "${PX_ROLES[$i]}" "$i" "${PX_PIDS[$i]}" "$PORT"; done
        for i in "${!UP_PIDS[@]}"; do row upstream "$i" "${UP_PIDS[$i]}" "${UP_PORTS[$i]}"; done
        for i in "${!LG_PIDS[@]}"; do row loadgen "$i" "${LG_PIDS[$i]}" "127.0.0.$(( i + 2 ))"; done
    } > "$OUT/raw/processes.tsv"
    proxy_log_counts
    {
        echo "date=$(date +%F)"
        echo "command=$COMMAND"
        echo "target=$target"
        echo "run=$run"
        echo "handshake_timeout_s=$HANDSHAKE_TIMEOUT"
        echo "proxy_processes=$PROXY_PROCESSES"
        echo "proxy_log_counts=$PROXY_LOG_COUNTS"
        echo "proxy_log_upstream_connect_timeouts=$PROXY_LOG_UPSTREAM_TIMEOUTS"
        echo "time_wait_at_start=$TW_AT_START"
    echo "loadavg_at_start=$LOAD_AT_START"
        echo "machine=$(nproc) cores, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r), $("$JAVA" -version 2>&1 | head -1), open files $(ulimit -Hn) per process"
        echo "goal=$GOAL"
        echo "tunnels=$TUNNELS"
        echo "proxies=$PROXIES"
        echo "cpu_hogs=$HOG"
        echo "proxy_args=$PROXY_CMD"
        echo "upstreams=$UPSTREAMS ($UPSTREAM_LIST), java $UPSTREAM_JAVA_OPTS BenchUpstream"
        echo "loadgens=$LOADGENS (sources 127.0.0.2..127.0.0.$(( LOADGENS + 1 ))), java $LOADGEN_JAVA_OPTS ScaleClient"
        echo "rate=$RATE"
        echo "inflight_per_loadgen=$INFLIGHT"
        echo "warm_per_loadgen=$WARM"
        echo "settle_s=$SETTLE"
        echo "ip_local_port_range=$(tr '\t' ' ' < /proc/sys/net/ipv4/ip_local_port_range) (was $ORIG_RANGE)"
        echo "nofile=$(ulimit -Hn)"
        echo "script_seconds_at_report=$(( SECONDS - START ))"
        echo "open_phase_machine_busy_pct=$(( 100 * (mb1 - mb0) / (mt1 - mt0 + 1) ))"
        echo "open_phase_cpu_s_total=$(awk -v a="$mb0" -v b="$mb1" -v t="$CLK_TCK" 'BEGIN { printf "%.1f", (b - a) / t }')"
        echo "loadavg_at_report=$(cut -d' ' -f1-3 /proc/loadavg)"
        echo "listen_drops_during_open=$(awk '/^# after/ { a = 1 } /^TcpExt(ListenOverflows|ListenDrops|TCPReqQFullDrop)/ { if (a) s += $2; else s -= $2 } END { print s + 0 }' "$OUT/raw/nstat.txt" 2>/dev/null)"
        echo "syn_cookies_during_open=$(awk '/^# after/ { a = 1 } /^TcpExtSyncookiesSent/ { if (a) s += $2; else s -= $2 } END { print s + 0 }' "$OUT/raw/nstat.txt" 2>/dev/null)"
        echo "source=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$( [[ -n "$(git status --porcelain core cli 2>/dev/null)" ]] && echo ' plus uncommitted changes in core/ or cli/ at run time')"
    } > "$OUT/raw/run.properties"
    log "stopping the proxies and upstreams"
    for p in "${PX_PIDS[@]}" "${UP_PIDS[@]}" "${LG_PIDS[@]}" "${HOG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PX_PIDS[@]}" "${UP_PIDS[@]}" "${LG_PIDS[@]}" "${HOG_PIDS[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    started=("$WATCHDOG")
    "$JAVA" -cp "$BJAR" io.centrigate.bench.scale.ScaleReport "$OUT" > /dev/null
    log "report: $OUT/summary.md ($(( SECONDS - START ))s in all)"
    (( N_RUNS > 1 )) || sed -n '1,30p' "$OUT/summary.md"
    RUN_ALIVE=$alive

}

# Before every target run: until the TIME_WAIT sockets on the run's ports (an Nginx run leaves one per tunnel, its
# upstream side; a centrigate run none, it passes the client's reset on) are fewer than 1 % of TUNNELS, at most
# QUIET_MAX s (TIME_WAIT lasts 60 s on Linux), so that every target starts from the same state of the box.
quiet_wait() {
    local t0=$SECONDS tw
    (( ${#dirs[@]} == 0 )) || sleep 3
    while :; do
        tw=$(time_wait)
        (( tw <= TUNNELS / 100 || SECONDS - t0 >= QUIET_MAX )) && break
        sleep 2
    done
    (( SECONDS - t0 < 1 )) || log "waited $(( SECONDS - t0 )) s for a quiet box: TIME_WAIT sockets on the run's ports now $tw (QUIET_MAX $QUIET_MAX s)"
}

# ------------------------------------------------------------------------------------------------ all runs
dirs=()
for run in $(seq 1 "$RUNS"); do
    for target in $TARGETS; do
        quiet_wait
        if (( N_RUNS > 1 )); then
            OUT="$TOP/run$run-$target"
            mkdir -p "$OUT/raw" "$OUT/logs"
            RUN_LOG="$OUT/logs/scale.log"
        fi
        run_one "$run" "$target"
        dirs+=("$OUT")
        RUN_LOG="$SCRIPT_LOG"
    done
done
if (( N_RUNS > 1 )); then
    "$JAVA" -cp "$BJAR" io.centrigate.bench.scale.ScaleReport --compare "$TOP" "${dirs[@]}" > /dev/null
    log "comparison: $TOP/comparison.md ($(( SECONDS - START ))s in all)"
    cat "$TOP/comparison.md"
else
    [[ $RUN_ALIVE -ge $GOAL ]] || { log "goal $GOAL NOT reached: $RUN_ALIVE verified"; exit 3; }
fi
