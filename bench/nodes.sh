#!/usr/bin/env bash
# Node failures, side by side: a node that hangs and a node that restarts, behind centrigate, Nginx and HAProxy
# (and straight at one node, as a baseline), with a population of reconnecting WebSocket clients (issue 13, point 5).
#
#   bench/nodes.sh              # every target in turn, 2,000 clients (about 8 minutes); bench/results/<date>-nodes
#   bench/nodes.sh smoke        # CI-sized: 100 clients, phases of a few seconds, every target (about 50 s); only checks
#                               # that every target produced its row; bench/target/nodes-smoke
#   TARGETS="centrigate nginx" bench/nodes.sh
#
# Per target: two fresh bench nodes (BenchUpstream, a and b), a fresh proxy in front of both (none for "direct":
# the clients go straight to node b), then ReconnectingClients: CLIENTS WebSocket clients started at RAMP/s, each
# of which connects (upgrade, 101, one echo round trip as the SDK's connect command), holds, and on any close or
# failure reconnects after centrifuge-js's jittered backoff (BACKOFF_MIN_MS..BACKOFF_MAX_MS), abandoning an
# attempt after HS_TIMEOUT_MS, and pings every PING_MS. Then:
#   hang:    new clients arrive at ARRIVALS/s from PRE s before until AFTER s after the hang; node b gets SIGSTOP
#            (the kernel still completes TCP connects into its backlog) for HANG s, then SIGCONT.
#   restart: once every client is connected again (at most RECOVER s), node b is killed (SIGKILL), started again
#            on the same port DOWN s later, and the population is watched for WATCH s ("direct": until every client
#            is back).
# Once a second the established connections on each node's port are counted (ss). The harness marks each moment
# (epoch ms) in raw/TARGET/marks.txt; the clients log every attempt and close in raw/TARGET/events.txt;
# io.centrigate.bench.load.NodesReport turns them into OUT/results.md (the table) and OUT/summary.jsonl;
# bench/e2e/nodes-plot.sh draws OUT/nodes.png (connections per node over time) when gnuplot is installed.
#
# Targets (TARGETS ["direct centrigate nginx haproxy"]):
#   direct      the clients straight at node b (no proxy: what a node failure does to its own clients)
#   centrigate  java -jar centrigate.jar run --upstream a,b --loops LOOPS --health-check-path /health, defaults
#               otherwise (least-conn, checks every 1 s, timeout 1 s, rise 2, fall 2, --upgrade-timeout 1s)
#   nginx       bench/e2e/nginx.conf.in (the reference configuration) with upstream { least_conn; server a
#               max_fails=1 fail_timeout=10s; server b ...; } and proxy_connect_timeout 5s (OSS: no active checks)
#   haproxy     bench/e2e/haproxy.cfg.in (balance leastconn, timeout connect 5s) with option httpchk GET /health
#               and "check inter 1s rise 2 fall 2" on both servers
#
# Environment (defaults in brackets; smoke's in braces):
#   CLIENTS [2000] {100}  RAMP [500]/s  ARRIVALS [25]/s {20}  HS_TIMEOUT_MS [5000] {2000}
#   BACKOFF_MIN_MS [500] {100}  BACKOFF_MAX_MS [20000] {1000}  PING_MS [25000] (each client's ping, echoed by
#   the node, as Centrifugo's 25 s ping: keeps the proxies' idle timeouts off live tunnels)  SETTLE [3] {0.5} s
#   PRE [2] {0.5}  HANG [20] {2}  AFTER [5] {1}  RECOVER [40] {10}  DOWN [5] {1}  WATCH [90] {3}  (seconds)
#   PIN [1]  PROXY_CPUS [1]  LOAD_CPUS [0]  LOOPS [1]  OUT [bench/results/<date>-nodes] {bench/target/nodes-smoke}
#   PJAR [cli/target/centrigate.jar: another build of centrigate to measure]  BJAR [bench/target/benchmarks.jar]
#   BUILD [auto|always|never]  INSTALL [1] {0} (apt-get install nginx / haproxy when missing)  BASE_PORT [27300]
set -euo pipefail
CALLER_SETTINGS=$(env | grep -E '^(TARGETS|CLIENTS|RAMP|ARRIVALS|HS_TIMEOUT_MS|BACKOFF_[A-Z_]+|PING_MS|SETTLE|PRE|HANG|AFTER|RECOVER|DOWN|WATCH|PIN|PROXY_CPUS|LOAD_CPUS|LOOPS|OUT|BUILD|BASE_PORT|PJAR|BJAR)=' | sort | sed "s/=\(.*\)/='\1'/" | tr '\n' ' ' || true)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

SMOKE=0
for a in "$@"; do
    case "$a" in
        smoke) SMOKE=1 ;;
        -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "unknown argument '$a' (smoke)" >&2; exit 2 ;;
    esac
done
if [[ $SMOKE == 1 ]]; then
    CLIENTS="${CLIENTS:-100}"; ARRIVALS="${ARRIVALS:-20}"; HS_TIMEOUT_MS="${HS_TIMEOUT_MS:-2000}"
    BACKOFF_MIN_MS="${BACKOFF_MIN_MS:-100}"; BACKOFF_MAX_MS="${BACKOFF_MAX_MS:-1000}"; SETTLE="${SETTLE:-0.5}"
    PRE="${PRE:-0.5}"; HANG="${HANG:-2}"; AFTER="${AFTER:-1}"; RECOVER="${RECOVER:-10}"; DOWN="${DOWN:-1}"
    WATCH="${WATCH:-3}"; OUT="${OUT:-bench/target/nodes-smoke}"; INSTALL="${INSTALL:-0}"
fi
TARGETS="${TARGETS:-direct centrigate nginx haproxy}"
CLIENTS="${CLIENTS:-2000}"
RAMP="${RAMP:-500}"
ARRIVALS="${ARRIVALS:-25}"
HS_TIMEOUT_MS="${HS_TIMEOUT_MS:-5000}"
BACKOFF_MIN_MS="${BACKOFF_MIN_MS:-500}"
BACKOFF_MAX_MS="${BACKOFF_MAX_MS:-20000}"
PING_MS="${PING_MS:-25000}"
SETTLE="${SETTLE:-3}"
PRE="${PRE:-2}"
HANG="${HANG:-20}"
AFTER="${AFTER:-5}"
RECOVER="${RECOVER:-40}"
DOWN="${DOWN:-5}"
WATCH="${WATCH:-90}"
PIN="${PIN:-1}"
PROXY_CPUS="${PROXY_CPUS:-1}"
LOAD_CPUS="${LOAD_CPUS:-0}"
LOOPS="${LOOPS:-1}"
BUILD="${BUILD:-auto}"
INSTALL="${INSTALL:-1}"
BASE_PORT="${BASE_PORT:-27300}"
OUT="${OUT:-bench/results/$(date -u +%F)-nodes}"
JAVA="${JAVA:-java}"
BJAR="${BJAR:-bench/target/benchmarks.jar}"
PJAR="${PJAR:-cli/target/centrigate.jar}"
NOFILE=$(ulimit -Hn)
PATH="$PATH:/usr/sbin"

log() { printf '%s %s\n' "$(date -u +%T)" "$*" >&2; }
now_ms() { date +%s%3N; }
have() { command -v "$1" >/dev/null 2>&1; }

# ------------------------------------------------------------------------------------------------ build
if [[ "$BUILD" == auto ]]; then
    if [[ ! -f "$BJAR" || ! -f "$PJAR" ]] ||
       [[ -n "$(find pom.xml core cli bench/pom.xml bench/src -newer "$BJAR" \( -name '*.java' -o -name pom.xml \) -print -quit 2>/dev/null)" ]] ||
       [[ -n "$(find pom.xml core cli -newer "$PJAR" \( -name '*.java' -o -name pom.xml \) -print -quit 2>/dev/null)" ]]; then
        BUILD=always
    fi
fi
if [[ "$BUILD" == always ]]; then
    log "building (mvn -B -q -DskipTests package)"
    mvn -B -q -DskipTests package
fi
# Nginx and HAProxy from Debian when missing, as bench/run.sh does (not in smoke mode: CI skips what is missing)
need_pkgs=()
for t in $TARGETS; do
    case "$t" in nginx|haproxy) have "$t" || need_pkgs+=("$t") ;; esac
done
if [[ ${#need_pkgs[@]} -gt 0 && $INSTALL == 1 ]]; then
    log "installing from Debian: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d exit 101: the packages' own services are not started (port 80; we run our own instances)
    own_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
    fi
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
    [[ $own_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d
fi
active=()
for t in $TARGETS; do
    case "$t" in
        direct|centrigate) active+=("$t") ;;
        nginx|haproxy) if have "$t"; then active+=("$t"); else log "skipping $t: not installed (INSTALL=1 installs it)"; fi ;;
        *) echo "unknown target '$t' (direct centrigate nginx haproxy)" >&2; exit 2 ;;
    esac
done

# Private copies of the jars: a concurrent build may replace the files in target/ while this run starts JVMs.
JARS="$(mktemp -d /tmp/centrigate-nodes.XXXXXX)"
cp "$BJAR" "$JARS/benchmarks.jar"
cp "$PJAR" "$JARS/centrigate.jar"
BJAR="$JARS/benchmarks.jar"
PJAR="$JARS/centrigate.jar"

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
rm -rf "$OUT/raw"
mkdir -p "$OUT/raw"

# ------------------------------------------------------------------------------------- processes, trap
started=()
CTL_OPEN=0
cleanup() {
    local p
    [[ $CTL_OPEN == 1 ]] && exec 4>&- 2>/dev/null
    # a stopped process acts on SIGTERM only once continued
    for p in "${started[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill -TERM "$p" 2>/dev/null || true; done
    for p in "${started[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    rm -rf "$JARS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget() { local rest=() i; for i in "${started[@]}"; do [[ $i != "$1" ]] && rest+=("$i"); done; started=("${rest[@]}"); }
stop_pid() { # pid [signal]
    local p="$1" i
    kill -CONT "$p" 2>/dev/null || true
    kill "-${2:-TERM}" "$p" 2>/dev/null || { forget "$p"; return 0; }
    for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    { wait "$p"; } 2>/dev/null || true
    forget "$p"
}

PIN_PROXY=(); PIN_LOAD=()
if [[ $PIN == 1 ]]; then PIN_PROXY=(taskset -c "$PROXY_CPUS"); PIN_LOAD=(taskset -c "$LOAD_CPUS"); fi

# a port no socket holds now (bench/run.sh's pick_port)
pick_port() {
    local cands
    cands="$1 $(shuf -i 20000-32000 -n 300 | tr '\n' ' ')"
    ss -Htan 2>/dev/null | awk -v c="$cands" '{ n = split($4, a, ":"); used[a[n]] = 1 }
        END { k = split(c, p, " "); for (i = 1; i <= k; i++) if (!(p[i] in used)) { print p[i]; exit } print p[1] }'
}
listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q LISTEN; }
wait_listen() { # port pid
    local i
    for i in $(seq 1 150); do
        listening "$1" && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

NODE_PID=()
spawn_node() { # index(0=a,1=b) port logfile
    "${PIN_LOAD[@]}" "$JAVA" -Xms256m -Xmx256m -cp "$BJAR" io.centrigate.bench.load.BenchUpstream --port "$2" >> "$3" 2>&1 &
    NODE_PID[$1]=$!
    started+=("${NODE_PID[$1]}")
    # out of the job table: bash would report the SIGKILL of the restart phase as "Killed" on stderr
    disown "${NODE_PID[$1]}" 2>/dev/null || true
}
node_ready() { # index port logfile
    wait_listen "$2" "${NODE_PID[$1]}" || { log "node on port $2 did not start"; cat "$3" >&2; return 1; }
}
start_node() { spawn_node "$@"; node_ready "$@"; }

# ----------------------------------------------------------------------------------------------- targets
PROXY_PID=""
PROXY_CMD=""
start_proxy() { # target port a b dir
    local t="$1" port="$2" a="$3" b="$4" dir="$5"
    local logf="$dir/proxy.log"
    case "$t" in
        direct) PROXY_PID=""; PROXY_CMD="(none: the clients connect to node b)"; return 0 ;;
        centrigate)
            local cmd=("$JAVA" -jar "$PJAR" run --listen "127.0.0.1:$port" --upstream "127.0.0.1:$a,127.0.0.1:$b"
                --loops "$LOOPS" --health-check-path /health)
            PROXY_CMD="${cmd[*]}"
            "${PIN_PROXY[@]}" "${cmd[@]}" > "$logf" 2>&1 &
            PROXY_PID=$! ;;
        nginx)
            mkdir -p "$dir/nginx"
            sed -e "s#@PORT@#127.0.0.1:$port#; s#@WORKERS@#$LOOPS#; s#@NOFILE@#$NOFILE#; s#@RUNDIR@#$dir/nginx#g" \
                -e "s#^\( *\)server @UPSTREAM@;#\1least_conn;\n\1server 127.0.0.1:$a max_fails=1 fail_timeout=10s;\n\1server 127.0.0.1:$b max_fails=1 fail_timeout=10s;#" \
                -e "s#^\( *\)proxy_next_upstream error;#\1proxy_next_upstream error;\n\1proxy_connect_timeout 5s;#" \
                bench/e2e/nginx.conf.in > "$dir/nginx.conf"
            PROXY_CMD="nginx -c nginx.conf (worker_processes $LOOPS; least_conn, max_fails=1 fail_timeout=10s, proxy_connect_timeout 5s)"
            "${PIN_PROXY[@]}" nginx -e "$dir/nginx/error.log" -p "$dir/nginx" -c "$dir/nginx.conf" > "$logf" 2>&1 &
            PROXY_PID=$! ;;
        haproxy)
            local maxconn=$(( (NOFILE - 100) / 2 ))
            sed -e "s#@LISTEN@#127.0.0.1:$port#; s#@THREADS@#$LOOPS#; s#@MAXCONN@#$maxconn#g; s#@RUNDIR@#$dir#g" \
                -e "s#^\( *\)server node1 @UPSTREAM@#\1option httpchk GET /health\n\1server a 127.0.0.1:$a check inter 1s rise 2 fall 2\n\1server b 127.0.0.1:$b check inter 1s rise 2 fall 2#" \
                bench/e2e/haproxy.cfg.in > "$dir/haproxy.cfg"
            PROXY_CMD="haproxy -db -f haproxy.cfg (nbthread $LOOPS; leastconn, httpchk GET /health, check inter 1s rise 2 fall 2, timeout connect 5s)"
            "${PIN_PROXY[@]}" haproxy -db -f "$dir/haproxy.cfg" > "$logf" 2>&1 &
            PROXY_PID=$! ;;
    esac
    started+=("$PROXY_PID")
    wait_listen "$port" "$PROXY_PID" || { log "$t did not start"; cat "$logf" >&2; return 1; }
}

# once a second: established connections on each node's port (ss counts the node's side of each connection;
# while b is stopped, connections the kernel completed into its backlog count too)
SAMPLER_PID=""
start_sampler() { # a b file
    bash -c 'a=$1; b=$2; echo "epoch_ms,a,b"
        while :; do
            t=$(date +%s%3N)
            na=$(ss -Htn state established "( sport = :$a )" | wc -l)
            nb=$(ss -Htn state established "( sport = :$b )" | wc -l)
            echo "$t,$na,$nb"
            sleep 1
        done' sampler "$1" "$2" > "$3" 2>/dev/null &
    SAMPLER_PID=$!
    started+=("$SAMPLER_PID")
}

connected_now() { # clients-log -> "connected clients" of the last stat line
    grep '^stat ' "$1" 2>/dev/null | tail -1 | awk '{ print $4, $6 }'
}
wait_all_connected() { # clients-log max-seconds
    local deadline=$(( $(now_ms) + ${2%.*} * 1000 )) c n
    while [[ $(now_ms) -lt $deadline ]]; do
        read -r c n < <(connected_now "$1"; echo "0 1")
        [[ -n $c && $c == "$n" && $c != 0 ]] && return 0
        sleep 0.2
    done
    return 1
}

run_target() {
    local t="$1" dir="$OUT/raw/$1"
    mkdir -p "$dir"
    local marks="$dir/marks.txt"
    mark() { echo "$1 $(now_ms)" >> "$marks"; }
    : > "$marks"
    local pa pb pp
    pa=$(pick_port "$BASE_PORT"); pb=$(pick_port $(( BASE_PORT + 1 ))); pp=$(pick_port $(( BASE_PORT + 2 )))
    [[ $pa == "$pb" || $pb == "$pp" || $pa == "$pp" ]] && { pb=$(( pa + 7 )); pp=$(( pa + 13 )); }
    log "$t: nodes a :$pa b :$pb, proxy :$pp"
    spawn_node 0 "$pa" "$dir/node-a.log"; spawn_node 1 "$pb" "$dir/node-b.log"
    node_ready 0 "$pa" "$dir/node-a.log" || return 1
    node_ready 1 "$pb" "$dir/node-b.log" || return 1
    start_proxy "$t" "$pp" "$pa" "$pb" "$dir" || return 1
    local tport=$pp
    [[ $t == direct ]] && tport=$pb
    echo "$PROXY_CMD" > "$dir/proxy-cmd.txt"
    start_sampler "$pa" "$pb" "$dir/nodes.csv"

    mkfifo "$dir/ctl"
    "${PIN_LOAD[@]}" "$JAVA" -Xms512m -Xmx512m -cp "$BJAR" io.centrigate.bench.load.ReconnectingClients \
        --target "127.0.0.1:$tport" --clients "$CLIENTS" --ramp "$RAMP" --handshake-timeout-ms "$HS_TIMEOUT_MS" \
        --backoff-min-ms "$BACKOFF_MIN_MS" --backoff-max-ms "$BACKOFF_MAX_MS" --ping-ms "$PING_MS" --events "$dir/events.txt" \
        < "$dir/ctl" > "$dir/clients.log" 2> "$dir/clients.err" &
    local cpid=$!
    started+=("$cpid")
    exec 4<> "$dir/ctl"
    CTL_OPEN=1
    local ramp_s
    ramp_s=$(awk -v n="$CLIENTS" -v r="$RAMP" 'BEGIN { printf "%d", n / r + 30 }')
    if ! wait_all_connected "$dir/clients.log" "$ramp_s"; then
        log "$t: not every client connected within ${ramp_s}s ($(connected_now "$dir/clients.log")): going on"
    fi
    mark ramped
    sleep "$SETTLE"

    # ---- hang: node b stops answering; its kernel still completes connects into the backlog
    log "$t: hang: b stopped for ${HANG}s, new clients at ${ARRIVALS}/s"
    echo "arrive $ARRIVALS" >&4; mark arrivals_on
    sleep "$PRE"
    mark stop; kill -STOP "${NODE_PID[1]}"
    sleep "$HANG"
    kill -CONT "${NODE_PID[1]}"; mark cont
    sleep "$AFTER"
    echo "arrive 0" >&4; mark arrivals_off
    if ! wait_all_connected "$dir/clients.log" "$RECOVER"; then
        log "$t: not every client connected again within ${RECOVER}s ($(connected_now "$dir/clients.log")): going on"
    fi
    mark recovered
    sleep "$SETTLE"

    # ---- restart: node b killed, started again on the same port
    log "$t: restart: b killed, back after ${DOWN}s, watched for ${WATCH}s"
    mark kill; stop_pid "${NODE_PID[1]}" KILL
    sleep "$DOWN"
    start_node 1 "$pb" "$dir/node-b.log" || return 1
    mark restart
    if [[ $t == direct ]]; then
        wait_all_connected "$dir/clients.log" "$WATCH" || true
        sleep 1
    else
        sleep "$WATCH"
    fi
    mark end

    echo quit >&4
    exec 4>&-
    CTL_OPEN=0
    rm -f "$dir/ctl"
    local i
    for i in $(seq 1 50); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
    stop_pid "$cpid"
    stop_pid "$SAMPLER_PID"
    [[ -n $PROXY_PID ]] && stop_pid "$PROXY_PID"
    stop_pid "${NODE_PID[0]}"
    stop_pid "${NODE_PID[1]}"
    log "$t: $(connected_now "$dir/clients.log" | awk '{ print $1 " of " $2 " clients connected at the end" }')"
}

{
    echo "date: $(date -u +%FT%TZ)"
    echo "command: ${CALLER_SETTINGS}bench/nodes.sh${*:+ $*}"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo '?') $(git status --porcelain 2>/dev/null | grep -qv '^??' && echo '(with uncommitted changes)')"
    echo "kernel: $(uname -r); cpus: $(nproc); open files (hard): $NOFILE; somaxconn: $(cat /proc/sys/net/core/somaxconn)"
    echo "java: $("$JAVA" -version 2>&1 | head -1)"
    echo "centrigate jar: $(sha256sum "$PJAR" | cut -c1-12)"
    echo "nginx: $(nginx -v 2>&1 || true)"
    echo "haproxy: $(haproxy -v 2>/dev/null | head -1 || true)"
    echo "settings: CLIENTS=$CLIENTS RAMP=$RAMP ARRIVALS=$ARRIVALS HS_TIMEOUT_MS=$HS_TIMEOUT_MS BACKOFF=$BACKOFF_MIN_MS..$BACKOFF_MAX_MS ms PING_MS=$PING_MS"
    echo "          SETTLE=$SETTLE PRE=$PRE HANG=$HANG AFTER=$AFTER RECOVER=$RECOVER DOWN=$DOWN WATCH=$WATCH"
    echo "          PIN=$PIN PROXY_CPUS=$PROXY_CPUS LOAD_CPUS=$LOAD_CPUS LOOPS=$LOOPS"
    echo "uptime at start: $(uptime)"
} > "$OUT/env.txt"
log "output: $OUT; targets: ${active[*]}; $CLIENTS clients"

done_targets=()
for t in "${active[@]}"; do
    if run_target "$t"; then
        done_targets+=("$t")
    else
        log "$t: failed (see $OUT/raw/$t/)"
    fi
    for p in "${started[@]}"; do stop_pid "$p"; done
    echo "uptime after $t: $(uptime)" >> "$OUT/env.txt"
done

find "$OUT/raw" -type f -empty -delete
title="Run: \`${CALLER_SETTINGS}bench/nodes.sh${*:+ $*}\` on $(date -u +%F) ($(nproc) cores; proxy on CPU $PROXY_CPUS with $LOOPS loop/worker/thread, nodes + clients on CPU $LOAD_CPUS; $CLIENTS clients, hang ${HANG}s, restart after ${DOWN}s, watched ${WATCH}s)."
"$JAVA" -cp "$BJAR" io.centrigate.bench.load.NodesReport "$OUT" "$title" "$HS_TIMEOUT_MS" "${done_targets[@]}"
if have gnuplot; then
    bash bench/e2e/nodes-plot.sh "$OUT" "${done_targets[@]}" > /dev/null || log "plot failed"
fi
log "done: $OUT/results.md"
if [[ $SMOKE == 1 ]]; then
    n=$(grep -c '^{' "$OUT/summary.jsonl" || true)
    echo "smoke: $n result rows of ${#active[@]} targets"
    [[ $n -eq ${#active[@]} ]] || exit 1
fi
