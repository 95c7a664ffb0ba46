#!/usr/bin/env bash
# End-to-end bench: direct vs centrigate vs Nginx vs HAProxy on the same upstream, the same load, the same cores.
#
#   bench/run.sh                       # every scenario, every target, 3 repetitions (about 25 minutes)
#   bench/run.sh echo storm            # some scenarios: echo fanout hold storm http idle bulk
#   bench/run.sh smoke                 # seconds: every scenario once, tiny load, no target check (CI)
#   bench/run.sh cold                  # cold start: 9,000 upgrades at 2,000/s into a proxy that just bound its port,
#                                      # with and without each cold-start remedy (not part of the default set)
#
# What it does: installs what is missing from Debian (nginx, haproxy, wrk, gnuplot-nox; not in smoke mode),
# builds centrigate and the bench jar when the sources are newer, starts the bench upstream
# (io.centrigate.bench.load.BenchUpstream), then for each repetition, each scenario and each target in turn
# (interleaved, so drift hits every target alike) starts a fresh proxy, runs the load, stops the proxy. Every
# process it starts is stopped on exit (trap). Results: $OUT/results.md (table), results.csv, summary.csv,
# raw/runs.jsonl, raw/hdr/*.hlog (HdrHistogram logs), plot.png, env.txt, logs/. See bench/e2e/README.md.
#
# Pinning (PIN=1): each proxy on PROXY_CPUS (CPU 1), upstream + load generator + wrk on LOAD_CPUS (CPU 0).
# Every proxy gets the same cores: centrigate --loops, Nginx worker_processes and HAProxy nbthread = LOOPS.
#
# Environment (defaults in brackets):
#   TARGETS ["direct centrigate nginx haproxy"]  REPS [3]  DURATION [10] s measured  WARMUP [10] s
#     (also centrigate-admin: centrigate with --admin-listen, /metrics and /status scraped every second, after
#     ADMIN_WARM_SCRAPES [300] scrapes in a row before the load: its scrape path compiled, as in production;
#     ADMIN_SCRAPE ["metrics status"]: which of the two endpoints the scraper reads, to tell their costs apart;
#     "live": two fetches of /live a second, the scraper's own cost without a scrape's; ADMIN_SCRAPE_INTERVAL [1]
#     seconds between scrapes, shorter to magnify a scrape's cost; centrigate-base-admin: the same on BASE_JAR)
#   PIN [1]  PROXY_CPUS [1]  LOAD_CPUS [0]  LOOPS [number of PROXY_CPUS]
#   ECHO_CONNS [100] ECHO_RATE [20000] ECHO_SIZE [64]  FANOUT_CONNS [5000]  HOLD_CONNS [9000]
#   STORM_CONCURRENCY [64]  HTTP_CONNS [64]  BULK_CONNS [4] BULK_SIZE [524288] (bulk: 512 KiB binary messages both
#   ways, closed loop; proxy CPU per GiB)  OUT [bench/results/<date>, smoke: bench/target/e2e-smoke]
#   APPEND [0; 1 = keep the other scenarios' results in OUT and replace only those run now]
#   BUILD [auto|always|never]  INSTALL [1; 0 in smoke]  JFR [0; 1 = a JFR recording of every centrigate run]
#     (also centrigate-epoll / centrigate-iouring: --transport epoll / io_uring on JAVA25; the jar is then built on
#     JAVA25 so it has the native transports; centrigate-epoll-splice / centrigate-iouring-splice: the same with
#     --splice-threshold 16k (-nosplice: 0, the default): TARGETS="centrigate-epoll-splice centrigate-epoll-nosplice
#     haproxy haproxy-splice" bench/run.sh bulk compares splice with the copy path (haproxy-splice: option
#     splice-auto);
#     centrigate-jdk25: NIO on the same JDK, to tell the transport's effect from the JDK's)
#   CENTRIGATE_JAVA_OPTS [none: java -jar as the README runs it]  BASE_PORT [27100]
#   BASE_JAR [none]: the jar of another build (e.g. main before a change), run as the target centrigate-base, so
#     a change is measured before and after in one run: TARGETS="centrigate-base centrigate" BASE_JAR=/tmp/old.jar
#     (cold: centrigate-base-warmup / centrigate-base-epoll-warmup against centrigate-warmup / centrigate-epoll-warmup)
#   cold: COLD_CONNS [9000] COLD_RATE [2000] opens/s  COLD_WARMUP [5s: centrigate run --warmup]  JAVA25 [auto: a JDK >= 25
#   under /usr/lib/jvm]  COLD_TARGETS [direct nginx centrigate centrigate-cds centrigate-jdk25 centrigate-aot
#   centrigate-warmup centrigate-cds-warmup centrigate-aot-warmup; TARGETS, when set, replaces it; also
#   centrigate-warmup-jitnormal (--jit-priority normal after the warm-up) and centrigate-jitbg (no warm-up,
#   --jit-priority background), centrigate-jdk25-warmup, centrigate-epoll-warmup, centrigate-iouring-warmup and
#   centrigate-aot-epoll-warmup (JDK 25, the native transport, its AOT cache trained on epoll)]
#   COLD_LOADGEN_WARM [2000; N = the load generator first opens N upgrades straight at the upstream, paced like the
#   ramp: its own warm-up; 0: none]. The load generator of the cold scenario runs C1 only (-XX:TieredStopAtLevel=1),
#   and the cold results record steal_pct (% of a CPU the hypervisor gave to others during the ramp)
#   LOAD_JAVA_OPTS [none]: more JVM options for the load generator and the upstream, e.g.
#   -Dcentrigate.bench.timeline=FILE (cold/hold: when each upgrade started and how long it took)
#   QUIET_MAX_PCT [15; 0 in smoke] QUIET_WAIT [15]: before each run, wait (at most QUIET_WAIT s) until the whole
#   machine is below QUIET_MAX_PCT % busy over 1 s (other work on a shared box); each result records other_cpu_pct
set -euo pipefail
# the caller's settings, before any default: part of the command a result was produced by
CALLER_SETTINGS=$(env | grep -E '^(ADMIN_[A-Z_]+|TARGETS|REPS|DURATION|WARMUP|LOOPS|PIN|OUT|BUILD|COLD_[A-Z_]+|CENTRIGATE_JAVA_OPTS|JAVA25|[A-Z]+_CONNS|[A-Z]+_RATE|[A-Z]+_SIZE|BASE_PORT|QUIET_[A-Z]+)=' | sort | sed "s/=\(.*\)/='\1'/" | tr '\n' ' ' || true)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

ALL_SCENARIOS=(echo fanout hold storm http idle bulk)
SMOKE=0
scenarios=()
for a in "$@"; do
    case "$a" in
        smoke) SMOKE=1 ;;
        echo|fanout|hold|storm|http|idle|bulk) scenarios+=("$a") ;;
        cold) scenarios+=("$a") ;;
        -h|--help) sed -n '2,46p' "$0"; exit 0 ;;
        *) echo "unknown scenario '$a' (echo fanout hold storm http idle bulk cold smoke)" >&2; exit 2 ;;
    esac
done
[[ ${#scenarios[@]} -eq 0 ]] && scenarios=("${ALL_SCENARIOS[@]}")

if [[ $SMOKE == 1 ]]; then
    REPS="${REPS:-1}"; DURATION="${DURATION:-1}"; WARMUP="${WARMUP:-0.5}"
    ECHO_RATE="${ECHO_RATE:-2000}"; FANOUT_CONNS="${FANOUT_CONNS:-200}"; HOLD_CONNS="${HOLD_CONNS:-300}"
    STORM_CONCURRENCY="${STORM_CONCURRENCY:-8}"; INSTALL="${INSTALL:-0}"; HOLD_SETTLE="${HOLD_SETTLE:-0.5}"
    QUIET_MAX_PCT="${QUIET_MAX_PCT:-0}"
    COLD_CONNS="${COLD_CONNS:-300}"; COLD_RATE="${COLD_RATE:-1000}"; COLD_TRAIN_CONNS="${COLD_TRAIN_CONNS:-100}"
    OUT="${OUT:-bench/target/e2e-smoke}"
fi
TARGETS_GIVEN="${TARGETS:+1}"
TARGETS="${TARGETS:-direct centrigate nginx haproxy}"
COLD_TARGETS="${COLD_TARGETS:-direct nginx centrigate centrigate-cds centrigate-jdk25 centrigate-aot centrigate-warmup centrigate-cds-warmup centrigate-aot-warmup}"
[[ -n "$TARGETS_GIVEN" ]] && COLD_TARGETS="$TARGETS"
COLD_CONNS="${COLD_CONNS:-9000}"
COLD_RATE="${COLD_RATE:-2000}"
COLD_WARMUP="${COLD_WARMUP:-5s}"
COLD_TRAIN_CONNS="${COLD_TRAIN_CONNS:-400}"
COLD_LOADGEN_WARM="${COLD_LOADGEN_WARM:-2000}"
REPS="${REPS:-3}"
DURATION="${DURATION:-10}"
# 10 s, not 3: every run starts a fresh proxy, and a JVM must be measured warm, as it runs in production. With 3 s
# the first expiry of the 5 s header timeout fell inside the window: the loop's compiled code was deoptimized and
# recompiled there, and the C2 compiler thread, on the proxy's one core, held the loop back by up to 5.4 ms
# (PrintCompilation and perf sched; bench/results/2026-11-26/profile.md). Nginx and HAProxy are unaffected by it.
WARMUP="${WARMUP:-10}"
PIN="${PIN:-1}"
PROXY_CPUS="${PROXY_CPUS:-1}"
LOAD_CPUS="${LOAD_CPUS:-0}"
ncpus() { local n=0 part; IFS=, read -ra parts <<< "$1"; for part in "${parts[@]}"; do
    if [[ $part == *-* ]]; then n=$(( n + ${part#*-} - ${part%-*} + 1 )); else n=$(( n + 1 )); fi; done; echo $n; }
LOOPS="${LOOPS:-$(ncpus "$PROXY_CPUS")}"
ECHO_CONNS="${ECHO_CONNS:-100}"
ECHO_RATE="${ECHO_RATE:-20000}"
ECHO_SIZE="${ECHO_SIZE:-64}"
FANOUT_CONNS="${FANOUT_CONNS:-5000}"
HOLD_CONNS="${HOLD_CONNS:-9000}"
HOLD_SETTLE="${HOLD_SETTLE:-3}"
STORM_CONCURRENCY="${STORM_CONCURRENCY:-64}"
HTTP_CONNS="${HTTP_CONNS:-64}"
BULK_CONNS="${BULK_CONNS:-4}"
BULK_SIZE="${BULK_SIZE:-524288}"
OUT="${OUT:-bench/results/$(date +%F)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
BUILD="${BUILD:-auto}"
INSTALL="${INSTALL:-1}"
JFR="${JFR:-0}"
CENTRIGATE_JAVA_OPTS="${CENTRIGATE_JAVA_OPTS:-}"
ADMIN_WARM_SCRAPES="${ADMIN_WARM_SCRAPES:-300}"
ADMIN_SCRAPE="${ADMIN_SCRAPE:-metrics status}"
ADMIN_SCRAPE_INTERVAL="${ADMIN_SCRAPE_INTERVAL:-1}"
QUIET_MAX_PCT="${QUIET_MAX_PCT:-15}"
QUIET_WAIT="${QUIET_WAIT:-15}"
BASE_PORT="${BASE_PORT:-27100}"
UPORT=$BASE_PORT
CLK_TCK=$(getconf CLK_TCK)
NOFILE=$(ulimit -Hn)
BJAR=bench/target/benchmarks.jar
PJAR=cli/target/centrigate.jar
JAVA="${JAVA:-java}"
# extra JVM options of the load generator, e.g. -Dcentrigate.bench.timeline=FILE (when each upgrade started, how
# long it took)
LOAD_JAVA_OPTS="${LOAD_JAVA_OPTS:-}"
# shellcheck disable=SC2206
LOAD_JAVA=("$JAVA" -Xms1g -Xmx1g $LOAD_JAVA_OPTS -cp "$BJAR")

LOADGEN_JIT=()
log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

# ---------------------------------------------------------------------------------------------- install
need_pkgs=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need_pkgs+=(nginx)
command -v haproxy >/dev/null 2>&1 || [[ -x /usr/sbin/haproxy ]] || need_pkgs+=(haproxy)
command -v wrk >/dev/null 2>&1 || need_pkgs+=(wrk)
command -v gnuplot >/dev/null 2>&1 || need_pkgs+=(gnuplot-nox)
if [[ ${#need_pkgs[@]} -gt 0 ]]; then
    if [[ $INSTALL == 1 ]]; then
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
    else
        log "not installed (INSTALL=0): ${need_pkgs[*]}; the targets or steps needing them are skipped"
    fi
fi
PATH="$PATH:/usr/sbin"
have() { command -v "$1" >/dev/null 2>&1; }
active_targets=()
for t in $TARGETS; do
    case "$t" in
        nginx|haproxy) if have "$t"; then active_targets+=("$t"); else log "skipping target $t: not installed"; fi ;;
        haproxy-splice) if have haproxy; then active_targets+=("$t"); else log "skipping target $t: not installed"; fi ;;
        *) active_targets+=("$t") ;;
    esac
done
has_scenario() { local x; for x in "${scenarios[@]}"; do [[ $x == "$1" ]] && return 0; done; return 1; }

# A JDK >= 25 for the *-jdk25, *-aot and *-epoll targets (JAVA25 to choose one), found once.
java_feature() { "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ { sub(/\..*/, "", $2); print $2 }'; }
if [[ -z "${JAVA25:-}" ]]; then
    best=0
    for j in /usr/lib/jvm/*/bin/java; do
        [[ -x $j ]] || continue
        f=$(java_feature "$j"); [[ "$f" =~ ^[0-9]+$ ]] || continue
        if [[ $f -ge 25 && $f -gt $best ]]; then best=$f; JAVA25=$j; fi
    done
fi
JAVA25="${JAVA25:-}"
# The epoll transport exists only in a jar built on JDK 22+ (META-INF/versions/22): such targets build with JAVA25.
WANT_EPOLL=0
[[ " $TARGETS $COLD_TARGETS " == *-epoll* || " $TARGETS $COLD_TARGETS " == *-iouring* ]] && WANT_EPOLL=1
if [[ $WANT_EPOLL == 1 ]]; then
    [[ -n "$JAVA25" ]] || { echo "the *-epoll targets need a JDK >= 25 (JAVA25=/path/to/bin/java)" >&2; exit 2; }
    # (the listing whole first: grep -q stopping early would fail the pipe under pipefail)
    listing="$(unzip -l "$PJAR" 2>/dev/null || true)"
    if [[ -f "$PJAR" ]] && ! grep -qE 'META-INF/versions/22/io/centrigate/nativeio/(Native|Epoll)Poller' <<< "$listing"; then
        [[ "$BUILD" == never ]] && { echo "$PJAR has no epoll transport (built on JDK < 22) and BUILD=never" >&2; exit 2; }
        BUILD=always
    fi
fi

# ------------------------------------------------------------------------------------------------ build
if [[ "$BUILD" == auto ]]; then
    if [[ ! -f "$BJAR" || ! -f "$PJAR" ]] ||
       [[ -n "$(find pom.xml core cli bench/pom.xml bench/src -newer "$BJAR" \( -name '*.java' -o -name pom.xml \) -print -quit 2>/dev/null)" ]] ||
       [[ -n "$(find pom.xml core cli -newer "$PJAR" \( -name '*.java' -o -name pom.xml \) -print -quit 2>/dev/null)" ]]; then
        BUILD=always
    fi
fi
if [[ "$BUILD" == always ]]; then
    if [[ $WANT_EPOLL == 1 ]]; then
        log "building on $JAVA25 (JAVA_HOME=... mvn -B -q -DskipTests package): the jar gets the epoll transport"
        JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA25")")")" mvn -B -q -DskipTests package
    else
        log "building (mvn -B -q -DskipTests package)"
        mvn -B -q -DskipTests package
    fi
fi

# Run from private copies of the jars: a concurrent build (another bench, CI) may replace the files in
# target/ while this run is starting JVMs from them.
JARS="$(mktemp -d /tmp/centrigate-bench.XXXXXX)"
cp "$BJAR" "$JARS/benchmarks.jar"
cp "$PJAR" "$JARS/centrigate.jar"
if [[ " ${TARGETS:-} " == *" centrigate-base"* ]]; then
    [[ -f "${BASE_JAR:-}" ]] || { echo "centrigate-base needs BASE_JAR=<the other build's centrigate.jar>" >&2; exit 2; }
    cp "$BASE_JAR" "$JARS/centrigate-base.jar"
fi
BJAR="$JARS/benchmarks.jar"
PJAR="$JARS/centrigate.jar"
# shellcheck disable=SC2206
LOAD_JAVA=("$JAVA" -Xms1g -Xmx1g $LOAD_JAVA_OPTS -cp "$BJAR")

# ------------------------------------------------------------------------------------- processes, trap
mkdir -p "$OUT/raw/hdr" "$OUT/logs"
RAW="$OUT/raw/runs.jsonl"
if [[ "${APPEND:-0}" == 1 && -f "$RAW" ]]; then
    # re-run some scenarios into an existing result: keep the other scenarios' lines, replace these
    keep="$(mktemp)"
    grep -v -E "\"scenario_name\":\"($(IFS='|'; echo "${scenarios[*]}"))\"" "$RAW" > "$keep" || true
    mv "$keep" "$RAW"
else
    : > "$RAW"
    rm -f "$OUT"/raw/hdr/*.hlog
fi
started=()
cleanup() {
    local p
    for p in "${started[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${started[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    rm -rf "$JARS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Command prefixes rather than a function: a background job must be the process itself (taskset execs the
# command, so $! is the proxy's pid), not a subshell around it that a signal would orphan it from.
PIN_PROXY=(); PIN_LOAD=()
if [[ $PIN == 1 ]]; then PIN_PROXY=(taskset -c "$PROXY_CPUS"); PIN_LOAD=(taskset -c "$LOAD_CPUS"); fi

stop_pid() {
    local p="$1" i
    kill -TERM "$p" 2>/dev/null || return 0
    for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    local rest=()
    for i in "${started[@]}"; do [[ $i != "$p" ]] && rest+=("$i"); done
    started=("${rest[@]}")
}

wait_listen() { # port pid
    local i
    for i in $(seq 1 100); do
        ss -Hltn "sport = :$1" 2>/dev/null | grep -q LISTEN && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

cpu_ticks() { # pids... -> summed utime+stime
    local s=0 p v
    for p in "$@"; do
        v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)
        s=$(( s + v ))
    done
    echo $s
}

children_ticks() { # CH = user+system CPU of this shell's waited-for children, in clock ticks (not in a subshell:
    # `times` there would see the subshell's children only)
    times > "$JARS/times.txt"
    CH=$(awk -v t="$CLK_TCK" 'NR == 2 { split($1, a, /[ms]/); split($2, b, /[ms]/);
        printf "%d", (a[1] * 60 + a[2] + b[1] * 60 + b[2]) * t }' "$JARS/times.txt")
}

machine_task_busy() { # user + nice + system ticks of all CPUs (no irq/softirq: not charged to processes), total
    awk '/^cpu / { b = $2 + $3 + $4; print b, b + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}

machine_busy() { # busy and total ticks of all CPUs
    awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6 }' /proc/stat
}

wait_quiet() {
    [[ $QUIET_MAX_PCT == 0 ]] && return 0
    local deadline=$(( SECONDS + QUIET_WAIT )) b0 t0 b1 t1 pct
    while :; do
        read -r b0 t0 < <(machine_busy); sleep 1; read -r b1 t1 < <(machine_busy)
        pct=$(( t1 > t0 ? 100 * (b1 - b0) / (t1 - t0) : 0 ))
        [[ $pct -le $QUIET_MAX_PCT ]] && return 0
        if [[ $SECONDS -ge $deadline ]]; then
            log "machine still ${pct}% busy with other work after ${QUIET_WAIT}s: running anyway (see other_cpu_pct)"
            return 0
        fi
    done
}

log "output: $OUT; targets: ${active_targets[*]}; scenarios: ${scenarios[*]}; reps $REPS; ${DURATION}s + ${WARMUP}s warm-up"
log "pinning: PIN=$PIN proxy on CPU $PROXY_CPUS ($LOOPS loop/worker/thread), upstream + load generator on CPU $LOAD_CPUS"

# ---------------------------------------------------------------------------------------------- upstream
start_upstream() {
    "${PIN_LOAD[@]}" "${LOAD_JAVA[@]}" io.centrigate.bench.load.BenchUpstream --port "$UPORT" \
        >> "$OUT/logs/upstream.log" 2>&1 &
    UP_PID=$!
    started+=("$UP_PID")
    local i
    for i in $(seq 1 100); do [[ $(grep -c '^upstream listening' "$OUT/logs/upstream.log") -ge $1 ]] && break; sleep 0.1; done
    [[ $(grep -c '^upstream listening' "$OUT/logs/upstream.log") -ge $1 ]] || { cat "$OUT/logs/upstream.log"; exit 1; }
    log "$(tail -1 "$OUT/logs/upstream.log") (pid $UP_PID)"
}
# A port some socket already holds (any state: with a widened ip_local_port_range, as bench/scale.sh sets it, other
# clients' connections take local ports everywhere) makes the bind fail: then a random one no socket holds now.
pick_port() { # preferred -> a port
    local cands
    cands="$1 $(shuf -i 20000-60000 -n 300 | tr '\n' ' ')"
    ss -Htan 2>/dev/null | awk -v c="$cands" '{ n = split($4, a, ":"); used[a[n]] = 1 }
        END { k = split(c, p, " "); for (i = 1; i <= k; i++) if (!(p[i] in used)) { print p[i]; exit } print p[1] }'
}

UPORT=$(pick_port "$UPORT") # (a port held by another socket: see pick_port)
: > "$OUT/logs/upstream.log"
UP_STARTS=1
start_upstream $UP_STARTS

# The upstream is checked before and after every run: on a shared machine it has been killed from outside
# (a broad pkill of someone else's); then it is restarted, the run's line is set aside and the run repeated once.
upstream_alive() { [[ -r /proc/$UP_PID/status ]] && ! grep -q "^State:.*zombie" /proc/$UP_PID/status; }
restart_upstream() {
    log "the upstream (pid $UP_PID) is gone: restarting it"
    echo "upstream pid $UP_PID gone at $(date -u +%T), restarted" >> "$OUT/env.txt"
    UP_STARTS=$(( UP_STARTS + 1 ))
    start_upstream $UP_STARTS
}

# ----------------------------------------------------------------------------------------------- targets
TARGET_PORT=0
TARGET_PIDS=""
TARGET_MAIN=""
TARGET_CMD=""
port_of() {
    case "$1" in
        direct) echo "$UPORT" ;; centrigate) echo $(( BASE_PORT + 1 )) ;; nginx) echo $(( BASE_PORT + 2 )) ;;
        haproxy) echo $(( BASE_PORT + 3 )) ;; haproxy-splice) echo $(( BASE_PORT + 23 )) ;; centrigate-block) echo $(( BASE_PORT + 4 )) ;;
        centrigate-spin) echo $(( BASE_PORT + 5 )) ;;
        centrigate-cds) echo $(( BASE_PORT + 6 )) ;; centrigate-jdk25) echo $(( BASE_PORT + 7 )) ;;
        centrigate-aot) echo $(( BASE_PORT + 8 )) ;; centrigate-warmup) echo $(( BASE_PORT + 9 )) ;;
        centrigate-cds-warmup) echo $(( BASE_PORT + 10 )) ;; centrigate-aot-warmup) echo $(( BASE_PORT + 11 )) ;;
        centrigate-admin) echo $(( BASE_PORT + 12 )) ;; centrigate-base) echo $(( BASE_PORT + 13 )) ;;
        centrigate-base-admin) echo $(( BASE_PORT + 14 )) ;; centrigate-epoll) echo $(( BASE_PORT + 15 )) ;;
        centrigate-iouring) echo $(( BASE_PORT + 18 )) ;;
        centrigate-epoll-nosplice) echo $(( BASE_PORT + 19 )) ;; centrigate-iouring-nosplice) echo $(( BASE_PORT + 20 )) ;;
        centrigate-warmup-jitnormal) echo $(( BASE_PORT + 16 )) ;; centrigate-jitbg) echo $(( BASE_PORT + 17 )) ;;
        centrigate-epoll-warmup) echo $(( BASE_PORT + 24 )) ;; centrigate-aot-epoll-warmup) echo $(( BASE_PORT + 25 )) ;;
        centrigate-epoll-splice) echo $(( BASE_PORT + 26 )) ;; centrigate-iouring-splice) echo $(( BASE_PORT + 27 )) ;;
        centrigate-iouring-warmup) echo $(( BASE_PORT + 21 )) ;; centrigate-jdk25-warmup) echo $(( BASE_PORT + 22 )) ;;
        centrigate-base-warmup) echo $(( BASE_PORT + 28 )) ;; centrigate-base-epoll-warmup) echo $(( BASE_PORT + 29 )) ;;
    esac
}

# The cold scenario measures from the moment the port accepts: READY_S = seconds from the proxy's exec to its listening
# socket, polled every 10 ms (a --warmup delays the bind, so it shows here).
READY_S=null
COLD_RUN=0
wait_ready() { # port pid t0 timeout-s
    local end=$(( SECONDS + $4 ))
    while [[ $SECONDS -le $end ]]; do
        if ss -Hltn "sport = :$1" 2>/dev/null | grep -q LISTEN; then
            READY_S=$(awk -v a="$3" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
            return 0
        fi
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.01
    done
    return 1
}

# centrigate[-cds|-jdk25|-aot][-warmup]: the JVM (JDK 17 = $JAVA, or JAVA25), the archive of a training run, --warmup
CDS_ARCHIVE=""; AOT_CACHE=""; AOT_CACHE_EPOLL=""
variant_java() { case "$1" in *-jdk25*|*-aot*|*-epoll*|*-iouring*) echo "$JAVA25" ;; *) echo "$JAVA" ;; esac; }
variant_opts() { # JVM options of a centrigate variant beyond CENTRIGATE_JAVA_OPTS
    case "$1" in *-jdk25*|*-aot*|*-epoll*|*-iouring*) echo "--sun-misc-unsafe-memory-access=allow" ;; esac
    case "$1" in
        *-cds*) echo "-XX:SharedArchiveFile=$CDS_ARCHIVE" ;;
        *-aot-epoll*) echo "-XX:AOTCache=$AOT_CACHE_EPOLL" ;;
        *-aot*) echo "-XX:AOTCache=$AOT_CACHE" ;;
    esac
}

start_target() { # target tag: up to 3 attempts, each on a port free at that moment (a bind can still lose a race)
    local attempt
    for attempt in 1 2 3; do
        start_target_once "$@" && return 0
        stop_target
        [[ $1 == direct ]] && return 1
        log "$2: start failed (attempt $attempt), trying another port"
    done
    return 1
}

start_target_once() { # target tag
    local t="$1" tag="$2" port
    port=$(port_of "$t")
    [[ $t != direct ]] && port=$(pick_port "$port")
    TARGET_PORT=$port
    TARGET_PIDS=""
    TARGET_MAIN=""
    READY_S=null
    local logf="$OUT/logs/$tag.log"
    case "$t" in
        direct)
            TARGET_CMD="(none: clients connect to the upstream)"
            return 0 ;;
        centrigate|centrigate-*)
            local idle=block
            [[ $t == centrigate-spin ]] && idle=spin
            local jopts=()
            # shellcheck disable=SC2206
            [[ -n "$CENTRIGATE_JAVA_OPTS" ]] && jopts=($CENTRIGATE_JAVA_OPTS)
            # shellcheck disable=SC2207
            jopts+=($(variant_opts "$t"))
            [[ $JFR == 1 ]] && jopts+=(-XX:StartFlightRecording=filename="$OUT/logs/$tag.jfr",settings=profile)
            local jar="$PJAR"
            [[ $t == centrigate-base* ]] && jar="$JARS/centrigate-base.jar"
            local cmd=("$(variant_java "$t")" "${jopts[@]}" -jar "$jar" run --listen "127.0.0.1:$port"
                --upstream "127.0.0.1:$UPORT" --loops "$LOOPS" --idle-strategy "$idle")
            [[ $t == *-warmup || $t == *-warmup-* ]] && cmd+=(--warmup "$COLD_WARMUP")
            # --jit-priority (default auto: background after a warm-up): -jitnormal keeps the compilers normal after
            # the warm-up, -jitbg puts them in the background without one
            [[ $t == *-jitnormal ]] && cmd+=(--jit-priority normal)
            [[ $t == *-jitbg ]] && cmd+=(--jit-priority background)
            # centrigate-epoll: the native transport (JDK 25, the jar built on it)
            [[ $t == *-epoll* ]] && cmd+=(--transport epoll)
            [[ $t == *-iouring* ]] && cmd+=(--transport io_uring)
            # *-splice / *-nosplice: the native transport with large payloads spliced (--splice-threshold 16k) or
            # every frame copied (0, the default), so the bulk scenario's CPU per GiB compares the two paths
            [[ $t == *-nosplice ]] && cmd+=(--splice-threshold 0)
            [[ $t == *-splice ]] && cmd+=(--splice-threshold 16k)
            # centrigate-admin: the metrics on, as in production: an admin listener (a free port it picks itself,
            # named on the startup line) that a scraper below reads every second
            [[ $t == *-admin ]] && cmd+=(--admin-listen 127.0.0.1:0)
            TARGET_CMD="${cmd[*]}"
            local t0
            t0=$(date +%s.%N)
            "${PIN_PROXY[@]}" "${cmd[@]}" > "$logf" 2>&1 &
            TARGET_MAIN=$!
            started+=("$TARGET_MAIN")
            if [[ $COLD_RUN == 1 ]]; then
                wait_ready "$port" "$TARGET_MAIN" "$t0" 120 || { log "centrigate did not start:"; cat "$logf" >&2; return 1; }
            else
                local i
                for i in $(seq 1 100); do grep -q '^centrigate ' "$logf" && break; kill -0 "$TARGET_MAIN" || break; sleep 0.1; done
                grep -q '^centrigate ' "$logf" || { log "centrigate did not start:"; cat "$logf" >&2; return 1; }
            fi
            TARGET_PIDS="$TARGET_MAIN"
            if [[ $t == *-admin ]]; then
                local admin
                admin=$(grep -m1 '^centrigate ' "$logf" | grep -o ' admin [0-9.]*:[0-9]*' | cut -d' ' -f3)
                [[ -n $admin ]] || { log "centrigate-admin: no admin address on the startup line"; cat "$logf" >&2; return 1; }
                warm_scrapes "$admin" || { log "centrigate-admin: the admin listener did not answer"; return 1; }
                start_scraper "$admin" "$OUT/logs/$tag-scrape.log"
            fi ;;
        nginx)
            local dir="$JARS/nginx"
            mkdir -p "$dir"
            sed -e "s#@PORT@#127.0.0.1:$port#; s#@UPSTREAM@#127.0.0.1:$UPORT#; s#@WORKERS@#$LOOPS#;
                    s#@NOFILE@#$NOFILE#; s#@RUNDIR@#$dir#g" bench/e2e/nginx.conf.in > "$dir/nginx.conf"
            cp "$dir/nginx.conf" "$OUT/logs/nginx.conf"
            TARGET_CMD="nginx -c nginx.conf (worker_processes $LOOPS)"
            local t0
            t0=$(date +%s.%N)
            "${PIN_PROXY[@]}" nginx -e "$logf" -p "$dir" -c "$dir/nginx.conf" > "$logf" 2>&1 &
            TARGET_MAIN=$!
            started+=("$TARGET_MAIN")
            if [[ $COLD_RUN == 1 ]]; then
                wait_ready "$port" "$TARGET_MAIN" "$t0" 30 || { log "nginx did not start:"; cat "$logf" "$dir/nginx-error.log" >&2; return 1; }
            else
                wait_listen "$port" "$TARGET_MAIN" || { log "nginx did not start:"; cat "$logf" "$dir/nginx-error.log" >&2; return 1; }
                sleep 0.2
            fi
            TARGET_PIDS="$TARGET_MAIN $(pgrep -P "$TARGET_MAIN" | tr '\n' ' ')" ;;
        haproxy|haproxy-splice)
            local dir="$JARS/$t"
            mkdir -p "$dir"
            local maxconn=$(( (NOFILE - 100) / 2 ))
            # splicing keeps pipes (2 descriptors each, maxpipes = maxconn / 4 by default) within the same limit
            [[ $t == haproxy-splice ]] && maxconn=$(( (NOFILE - 100) * 2 / 5 ))
            sed -e "s#@LISTEN@#127.0.0.1:$port#; s#@UPSTREAM@#127.0.0.1:$UPORT#; s#@THREADS@#$LOOPS#;
                    s#@MAXCONN@#$maxconn#g; s#@RUNDIR@#$dir#g" bench/e2e/haproxy.cfg.in > "$dir/haproxy.cfg"
            # haproxy-splice: kernel splicing where HAProxy judges it worth it (the bulk scenario's comparison)
            [[ $t == haproxy-splice ]] && sed -i 's#^    timeout tunnel 1h#    timeout tunnel 1h\n    option splice-auto#' "$dir/haproxy.cfg"
            cp "$dir/haproxy.cfg" "$OUT/logs/$t.cfg"
            TARGET_CMD="haproxy -db -f haproxy.cfg (nbthread $LOOPS, maxconn $maxconn)"
            "${PIN_PROXY[@]}" haproxy -db -f "$dir/haproxy.cfg" > "$logf" 2>&1 &
            TARGET_MAIN=$!
            started+=("$TARGET_MAIN")
            wait_listen "$port" "$TARGET_MAIN" || { log "haproxy did not start:"; cat "$logf" >&2; return 1; }
            TARGET_PIDS="$TARGET_MAIN" ;;
        *) log "unknown target $t"; return 1 ;;
    esac
}

# The centrigate-admin target's scraper: GET /metrics (as Prometheus asks for it: OpenMetrics) and /status every
# second, on the load generator's CPU (a monitoring server runs elsewhere; what the scrape costs the proxy, its
# admin thread and the loops' snapshots, stays on the proxy's CPU). One line per scrape in logs/TAG-scrape.log:
# time, HTTP codes, seconds, bytes. Stopped with the target.
# Before the load starts, ADMIN_WARM_SCRAPES fetches of both in a row: the bench measures a JVM warm, as it runs
# in production, and a production proxy scraped for minutes has its scrape path compiled; without these the JIT
# compiles it (and the JVM instrumentation) on the proxy's one core inside the measured window, which a fresh
# 20 s run at one scrape a second would otherwise charge to the metrics (warm, a /metrics costs ~1 ms of CPU,
# cold ~5 ms plus the compilations).
warm_scrapes() { # admin-address
    # One python process for all of them (a curl per fetch made 3,000 warm scrapes take minutes)
    "${PIN_LOAD[@]}" python3 -c '
import http.client, sys
host, port = sys.argv[1].rsplit(":", 1)
accept = "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5"
for i in range(int(sys.argv[2])):
    for path, headers in (("/metrics", {"Accept": accept}), ("/status", {})):
        c = http.client.HTTPConnection(host, int(port), timeout=5)
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 200:
            sys.exit(1)
' "$1" "$ADMIN_WARM_SCRAPES"
}
SCRAPER_PID=""
start_scraper() { # admin-address logfile
    local admin="$1" slog="$2"
    # One long-lived process on the load CPU, as a Prometheus server is one process: a shell loop that starts
    # curl, date and cut every second cost the load CPU (where the load generator and the upstream run) enough
    # process starts to double the echo p99 by itself (seen with ADMIN_SCRAPE=live: /live costs the proxy nothing).
    "${PIN_LOAD[@]}" python3 -u -c '
import http.client, sys, time
admin, what, interval = sys.argv[1], sys.argv[2].split(), float(sys.argv[3])
host, port = admin.rsplit(":", 1)
accept = {"metrics": "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5"}
paths = [p for p in ("metrics", "status") if p in what] or (["live", "live"] if "live" in what else [])
while True:
    started = time.monotonic()
    out = []
    for p in paths:
        t0 = time.monotonic()
        try:
            c = http.client.HTTPConnection(host, int(port), timeout=5)
            c.request("GET", "/" + p, headers={"Accept": accept.get(p, "*/*")})
            r = c.getresponse()
            body = r.read()
            c.close()
            out.append("%s %d %.6f %d" % (p, r.status, time.monotonic() - t0, len(body)))
        except Exception as e:
            out.append("%s 000 - -" % p)
    print(time.strftime("%H:%M:%S"), " ".join(out))
    time.sleep(max(0.0, interval - (time.monotonic() - started)))
' "$admin" "$ADMIN_SCRAPE" "$ADMIN_SCRAPE_INTERVAL" > "$slog" 2>&1 &
    SCRAPER_PID=$!
    started+=("$SCRAPER_PID")
}

stop_target() {
    [[ -n "$SCRAPER_PID" ]] && stop_pid "$SCRAPER_PID"
    SCRAPER_PID=""
    [[ -n "$TARGET_MAIN" ]] && stop_pid "$TARGET_MAIN"
    TARGET_MAIN=""
}

# ---------------------------------------------------------------------------------------------- scenarios
loadgen() { # scenario target rep tag extra-args...
    local s="$1" t="$2" rep="$3" tag="$4"; shift 4
    local pids
    pids=$(echo "$TARGET_PIDS" | xargs | tr ' ' ',')
    local limit
    limit=$(awk -v d="$DURATION" -v w="$WARMUP" 'BEGIN { printf "%d", d + w + 150 }')
    "${PIN_LOAD[@]}" timeout -k 5 "$limit" "${LOAD_JAVA[@]}" "${LOADGEN_JIT[@]}" io.centrigate.bench.load.LoadGen "$s" \
        --target "127.0.0.1:$TARGET_PORT" --label "$tag" --seconds "$DURATION" --warmup "$WARMUP" \
        --proxy-pids "$pids" --upstream-pid "$UP_PID" --clk-tck "$CLK_TCK" --hlog "$OUT/raw/hdr/$tag.hlog" \
        --tag "scenario_name=$s" --tag "target_name=$t" --tag "rep=$rep" --tag "proxy_cmd=$TARGET_CMD" "$@" \
        2> "$OUT/logs/$tag-loadgen.err"
}

to_us() { # wrk duration (e.g. 1.23ms, 850.00us, 1.01s) -> microseconds
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) m = 1; else if (v ~ /ms$/) m = 1000; else if (v ~ /s$/) m = 1000000;
        else m = 1; printf "%.1f", n * m }'
}

http_run() { # target rep tag
    local t="$1" rep="$2" tag="$3"
    local url="http://127.0.0.1:$TARGET_PORT/api/info"
    # shellcheck disable=SC2086
    local pids=($TARGET_PIDS)
    local w=${WARMUP%.*}; [[ -z $w || $w -lt 1 ]] && w=1
    local d=${DURATION%.*}; [[ -z $d || $d -lt 1 ]] && d=1
    "${PIN_LOAD[@]}" timeout -k 5 $(( w + 30 )) wrk -t1 -c"$HTTP_CONNS" -d"${w}s" "$url" > /dev/null 2>&1 || true
    local c0 u0 c1 u1 t0 t1
    local mb0 mt0 mb1 mt1
    read -r mb0 mt0 < <(machine_busy)
    c0=$(cpu_ticks "${pids[@]}"); u0=$(cpu_ticks "$UP_PID"); t0=$(date +%s.%N)
    local txt
    txt=$("${PIN_LOAD[@]}" timeout -k 5 $(( d + 30 )) wrk -t1 -c"$HTTP_CONNS" -d"${d}s" --latency "$url" 2>&1 || true)
    c1=$(cpu_ticks "${pids[@]}"); u1=$(cpu_ticks "$UP_PID"); t1=$(date +%s.%N)
    read -r mb1 mt1 < <(machine_busy)
    echo "$txt" > "$OUT/logs/$tag-wrk.txt"
    local rps p50 p99 reqs sockerr non2xx
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<< "$txt")
    p50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<< "$txt")")
    p99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<< "$txt")")
    reqs=$(awk '/requests in/ { print $1 }' <<< "$txt")
    sockerr=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' <<< "$txt")
    non2xx=$(awk '/Non-2xx/ { print $NF }' <<< "$txt")
    local wall proxy_cpu up_cpu
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    proxy_cpu=null
    [[ ${#pids[@]} -gt 0 ]] && proxy_cpu=$(awk -v a="$c0" -v b="$c1" -v t="$CLK_TCK" 'BEGIN { printf "%.3f", (b - a) / t }')
    up_cpu=$(awk -v a="$u0" -v b="$u1" -v t="$CLK_TCK" 'BEGIN { printf "%.3f", (b - a) / t }')
    local pct=null per100k=null
    [[ $proxy_cpu != null && ${reqs:-0} -gt 0 ]] && per100k=$(awk -v c="$proxy_cpu" -v n="$reqs" 'BEGIN { printf "%.3f", c / (n / 1e5) }')
    [[ $proxy_cpu != null ]] && pct=$(awk -v c="$proxy_cpu" -v w="$wall" 'BEGIN { printf "%.1f", 100 * c / w }')
    printf '{"scenario":"http","label":"%s","scenario_name":"http","target_name":"%s","rep":"%s","proxy_cmd":"%s","connections":%s,"seconds":%s,"loadavg":"%s","requests":%s,"requests_per_s":%s,"p50_us":%s,"p99_us":%s,"socket_errors":%s,"non_2xx":%s,"errors":%s,"proxy_cpu_s":%s,"proxy_cpu_pct":%s,"proxy_cpu_s_per_100k":%s,"upstream_cpu_s":%s,"machine_busy_pct":%s,"tool":"wrk -t1 -c%s -d%ss --latency"}\n' \
        "$tag" "$t" "$rep" "$TARGET_CMD" "$HTTP_CONNS" "$d" "$(cut -d' ' -f1 /proc/loadavg)" "${reqs:-0}" "${rps:-0}" \
        "${p50:-null}" "${p99:-null}" "${sockerr:-0}" "${non2xx:-0}" $(( ${sockerr:-0} + ${non2xx:-0} )) \
        "$proxy_cpu" "$pct" "$per100k" "$up_cpu" $(( 100 * (mb1 - mb0) / (mt1 - mt0 + 1) )) "$HTTP_CONNS" "$d"
}

run_one() { # scenario target rep [retry]
    local s="$1" t="$2" rep="$3" retry="${4:-0}"
    local tag="$s-$t-$rep"
    wait_quiet
    upstream_alive || restart_upstream
    COLD_RUN=0; [[ $s == cold ]] && COLD_RUN=1
    start_target "$t" "$tag" || { log "$tag: target failed to start"; stop_target; return 0; }
    local line=""
    case "$s" in
        echo|idle) line=$(loadgen echo "$t" "$rep" "$tag" --conns "$ECHO_CONNS" --rate "$ECHO_RATE" --size "$ECHO_SIZE" || true) ;;
        fanout) line=$(loadgen fanout "$t" "$rep" "$tag" --conns "$FANOUT_CONNS" || true) ;;
        hold) line=$(loadgen hold "$t" "$rep" "$tag" --conns "$HOLD_CONNS" --concurrency 64 --settle "$HOLD_SETTLE" || true) ;;
        storm) line=$(loadgen storm "$t" "$rep" "$tag" --concurrency "$STORM_CONCURRENCY" || true) ;;
        bulk) line=$(loadgen bulk "$t" "$rep" "$tag" --conns "$BULK_CONNS" --size "$BULK_SIZE" || true) ;;
        cold)
            # at once, no warm-up of any kind: opens paced at COLD_RATE (open loop; the cap is never the limit).
            # other_cpu_pct (% of a core) = the whole machine's busy time over the run minus the proxy's, the upstream's
            # and the load generator's (this shell's children): other work on a shared box, as the report flags it.
            # Busy here is user + nice + system time only: irq/softirq time (loopback TCP) is in no process's figures
            local mb0 mt0 mb1 mt1 c0 c1 u0 u1 ch0 ch1 w0 w1
            # shellcheck disable=SC2086
            read -r mb0 mt0 < <(machine_task_busy); c0=$(cpu_ticks $TARGET_PIDS); u0=$(cpu_ticks "$UP_PID")
            # steal: time the hypervisor ran something else on our virtual CPUs (a busy host slows every target)
            local st0 st1; st0=$(awk '/^cpu / { print $9 }' /proc/stat)
            children_ticks; ch0=$CH; w0=$(date +%s.%N)
            # The load generator without C2: its own compilations during the ramp (C2 at 50-80 % of the load CPU
            # for the first second even after a warm-up) delayed starts and answers by tens of ms whatever the
            # target; C1 code keeps up with 2,000 opens/s at the same CPU (bench/results/2026-12-08-cold-fdtable).
            LOADGEN_JIT=(-XX:TieredStopAtLevel=1)
            line=$(loadgen hold "$t" "$rep" "$tag" --conns "$COLD_CONNS" --rate "$COLD_RATE" --concurrency "$COLD_CONNS" \
                --warm-conns "$COLD_LOADGEN_WARM" --warm-target "127.0.0.1:$UPORT" --settle "$HOLD_SETTLE" || true)
            LOADGEN_JIT=()
            # shellcheck disable=SC2086
            read -r mb1 mt1 < <(machine_task_busy); c1=$(cpu_ticks $TARGET_PIDS); u1=$(cpu_ticks "$UP_PID")
            st1=$(awk '/^cpu / { print $9 }' /proc/stat)
            children_ticks; ch1=$CH; w1=$(date +%s.%N)
            if [[ -n $line ]]; then
                local other
                other=$(awk -v m=$(( mb1 - mb0 )) -v p=$(( c1 - c0 )) -v u=$(( u1 - u0 )) -v c=$(( ch1 - ch0 )) \
                    -v t="$CLK_TCK" -v a="$w0" -v b="$w1" 'BEGIN { o = (m - p - u - c) / t / (b - a) * 100;
                    if (o < 0) o = 0; printf "%.1f", o }')
                line="${line/\"scenario_name\":\"hold\"/\"scenario_name\":\"cold\"}"
                local steal
                steal=$(awk -v s=$(( st1 - st0 )) -v t="$CLK_TCK" -v a="$w0" -v b="$w1" \
                    'BEGIN { printf "%.1f", s / t / (b - a) * 100 }')
                line="${line%\}},\"ready_s\":$READY_S,\"other_cpu_pct\":$other,\"steal_pct\":$steal,\"machine_busy_pct\":$(( 100 * (mb1 - mb0) / (mt1 - mt0 + 1) ))}"
            fi ;;
        http)
            if have wrk; then line=$(http_run "$t" "$rep" "$tag"); else log "http: wrk not installed, skipped"; fi ;;
    esac
    # the idle scenario's lines are echo runs filed under "idle"
    [[ $s == idle && -n $line ]] && line="${line/\"scenario_name\":\"echo\"/\"scenario_name\":\"idle\"}"
    if ! upstream_alive; then
        [[ -n "$line" ]] && echo "$line" >> "$OUT/logs/discarded.jsonl"
        log "$tag: the upstream died during the run: result set aside (logs/discarded.jsonl)"
        stop_target
        restart_upstream
        [[ $retry == 0 ]] && run_one "$s" "$t" "$rep" 1
        return 0
    fi
    if [[ -n "$line" ]]; then
        echo "$line" >> "$RAW"
        log "$tag: $(summary_of "$s" "$line")"
    else
        log "$tag: no result (see $OUT/logs/$tag-loadgen.err)"
    fi
    if [[ -n "$TARGET_MAIN" ]] && ! kill -0 "$TARGET_MAIN" 2>/dev/null; then
        log "$tag: the proxy process is gone (crashed?) - see $OUT/logs/$tag.log"
    fi
    thread_cpu > "$OUT/logs/$tag-threads.txt"
    stop_target
}

thread_cpu() { # per thread name of the target's processes, over their whole life (warm-up included): CPU seconds,
    # and seconds spent runnable but waiting for a CPU (schedstat's run delay: what other threads cost this one)
    local p task
    echo "     cpu   run-delay  thread"
    # shellcheck disable=SC2086
    for p in $TARGET_PIDS; do
        for task in /proc/"$p"/task/*; do
            echo "$(cat "$task/schedstat" 2>/dev/null) $(cat "$task/stat" 2>/dev/null)"
        done
    done | awk -v t="$CLK_TCK" 'NF > 5 { i = index($0, "("); j = index($0, ") "); name = substr($0, i + 1, j - i - 1);
        gsub(/[0-9]+$/, "#", name); split(substr($0, j + 2), f, " "); cpu[name] += f[12] + f[13]; delay[name] += $2 }
        END { for (n in cpu) if (cpu[n] > 0) printf "%8.2f s %8.3f s  %s\n", cpu[n] / t, delay[n] / 1e9, n }' | sort -rn
}

summary_of() {
    local keys
    case "$1" in
        echo|idle) keys="rtt_p50_us rtt_p99_us rtt_p999_us lost proxy_cpu_pct proxy_cpu_s_per_100k loadgen_cpu_pct other_cpu_pct" ;;
        fanout) keys="delivered_ratio delivery_p50_us delivery_p99_us proxy_cpu_pct proxy_cpu_s_per_100k loadgen_cpu_pct other_cpu_pct" ;;
        hold) keys="opened alive connect_p99_us rss_per_tunnel_bytes" ;;
        cold) keys="ready_s opened alive connect_p50_us connect_p99_us connect_p999_us connect_max_us open_behind_max_us other_cpu_pct steal_pct" ;;
        storm) keys="handshakes_per_s handshake_p99_us failed proxy_cpu_pct loadgen_cpu_pct other_cpu_pct" ;;
        bulk) keys="mib_per_s message_rtt_p50_us proxy_cpu_pct proxy_cpu_s_per_gib io_errors other_cpu_pct" ;;
        http) keys="requests_per_s p99_us errors proxy_cpu_pct machine_busy_pct" ;;
    esac
    local k out=""
    for k in $keys; do
        out+="$k=$(grep -o "\"$k\":[^,}]*" <<< "$2" | head -1 | cut -d: -f2) "
    done
    if grep -q '"error":' <<< "$2"; then out+="ERROR=$(grep -o '"error":"[^"]*"' <<< "$2")"; fi
    echo "$out"
}

{
    echo "date: $(date -u +%FT%TZ)"
    echo "command: ${CALLER_SETTINGS}bench/run.sh $*"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo '?') $(git status --porcelain 2>/dev/null | grep -qv '^??' && echo '(with uncommitted changes)')"
    echo "kernel: $(uname -r); cpus: $(nproc); mem: $(free -g | awk '/Mem:/ { print $2 }') GiB; open files (hard): $NOFILE"
    echo "java: $("$JAVA" -version 2>&1 | head -1)"
    echo "centrigate: $(unzip -p "$PJAR" META-INF/MANIFEST.MF 2>/dev/null | grep -i '^Implementation-Version' | tr -d '\r' || true) jar $(sha256sum "$PJAR" | cut -c1-12)"
    echo "nginx: $(nginx -v 2>&1 || true)"
    echo "haproxy: $(haproxy -v 2>/dev/null | head -1 || true)"
    echo "wrk: $(wrk -v 2>&1 | head -1 || true)"
    echo "settings: REPS=$REPS DURATION=$DURATION WARMUP=$WARMUP PIN=$PIN PROXY_CPUS=$PROXY_CPUS LOAD_CPUS=$LOAD_CPUS LOOPS=$LOOPS"
    echo "          ECHO_CONNS=$ECHO_CONNS ECHO_RATE=$ECHO_RATE ECHO_SIZE=$ECHO_SIZE FANOUT_CONNS=$FANOUT_CONNS HOLD_CONNS=$HOLD_CONNS STORM_CONCURRENCY=$STORM_CONCURRENCY HTTP_CONNS=$HTTP_CONNS"
    echo "loadavg at start: $(cat /proc/loadavg)"
} > "$OUT/env.txt.new"
if [[ "${APPEND:-0}" == 1 && -f "$OUT/env.txt" ]]; then
    { cat "$OUT/env.txt"; echo; echo "== re-run of: ${scenarios[*]}"; cat "$OUT/env.txt.new"; } > "$OUT/env.txt.tmp"
    mv "$OUT/env.txt.tmp" "$OUT/env.txt"; rm -f "$OUT/env.txt.new"
else
    mv "$OUT/env.txt.new" "$OUT/env.txt"
fi

# ------------------------------------------------------------------------------------------- cold set-up
# The cold scenario's targets: JDK 25 ones need a JDK >= 25, the *-warmup ones a jar whose `run` takes --warmup,
# the cds / aot ones the archive of a training run (systemd/cold-start-archive.sh, the script a service would use),
# recorded once here against the bench upstream, on the proxy's CPU, with the same jar path the targets run.
cold_targets=()
if has_scenario cold; then
    warmup_ok=0
    "$JAVA" -jar "$PJAR" run --help 2>&1 | grep -q -- --warmup && warmup_ok=1
    for t in $COLD_TARGETS; do
        case "$t" in
            nginx|haproxy) have "$t" || { log "cold: skipping $t: not installed"; continue; } ;;
        esac
        if [[ $t == *-jdk25* || $t == *-aot* ]] && [[ -z "$JAVA25" ]]; then
            log "cold: skipping $t: no JDK 25 or newer (set JAVA25=/path/to/bin/java)"; continue
        fi
        if [[ $t == *-warmup || $t == *-warmup-* ]] && [[ $warmup_ok == 0 ]]; then
            log "cold: skipping $t: this centrigate.jar has no 'run --warmup' option"; continue
        fi
        cold_targets+=("$t")
    done
    train() { # java archive kind [run options] -> the archive's path, or nothing
        local logf="$OUT/logs/train-$3.log"
        log "cold: training run for the $3 archive ($1)"
        "${PIN_PROXY[@]}" env JAVA="$1" JAVA_OPTS="$CENTRIGATE_JAVA_OPTS" RUN_ARGS="--loops $LOOPS ${4:-}" \
            UPSTREAM="127.0.0.1:$UPORT" BENCH_JAR="$BJAR" CONNS="$COLD_TRAIN_CONNS" REQUESTS="$COLD_TRAIN_CONNS" \
            bash systemd/cold-start-archive.sh "$PJAR" "$2" 2> "$logf" || { log "cold: training failed, see $logf"; return 0; }
    }
    need_cds=0; need_aot=0; need_aot_epoll=0
    for t in "${cold_targets[@]}"; do
        [[ $t == *-cds* ]] && need_cds=1
        [[ $t == *-aot-epoll* ]] && need_aot_epoll=1
        [[ $t == *-aot* && $t != *-aot-epoll* ]] && need_aot=1
    done
    [[ $need_cds == 1 ]] && CDS_ARCHIVE=$(train "$JAVA" "$JARS/centrigate.jsa" cds)
    [[ $need_aot == 1 ]] && AOT_CACHE=$(train "$JAVA25" "$JARS/centrigate.aot" aot)
    # the epoll transport's cache is trained on epoll: its FFM call sites are what a NIO training never loads
    [[ $need_aot_epoll == 1 ]] && AOT_CACHE_EPOLL=$(train "$JAVA25" "$JARS/centrigate-epoll.aot" aot-epoll "--transport epoll")
    kept=()
    for t in "${cold_targets[@]}"; do
        if [[ $t == *-cds* && -z "$CDS_ARCHIVE" ]] || [[ $t == *-aot-epoll* && -z "$AOT_CACHE_EPOLL" ]] \
            || [[ $t == *-aot* && $t != *-aot-epoll* && -z "$AOT_CACHE" ]]; then
            log "cold: skipping $t: no archive"; continue
        fi
        kept+=("$t")
    done
    cold_targets=("${kept[@]}")
    {
        echo "cold: COLD_CONNS=$COLD_CONNS COLD_RATE=$COLD_RATE/s COLD_WARMUP=$COLD_WARMUP COLD_LOADGEN_WARM=$COLD_LOADGEN_WARM targets: ${cold_targets[*]}"
        [[ -n "$JAVA25" ]] && echo "java25: $JAVA25: $("$JAVA25" -version 2>&1 | head -1)"
        [[ -n "$CDS_ARCHIVE" ]] && echo "cds archive: $(du -h "$CDS_ARCHIVE" | cut -f1) (logs/train-cds.log)"
        [[ -n "$AOT_CACHE" ]] && echo "aot cache: $(du -h "$AOT_CACHE" | cut -f1) (logs/train-aot.log)"
        [[ -n "$AOT_CACHE_EPOLL" ]] && echo "aot cache (epoll): $(du -h "$AOT_CACHE_EPOLL" | cut -f1) (logs/train-aot-epoll.log)"
    } >> "$OUT/env.txt"
    log "cold: targets ${cold_targets[*]}; $COLD_CONNS upgrades at $COLD_RATE/s right after the port accepts"
    # cold is the proxy, not the upstream: the upstream's JIT is warmed by the same load straight at it, not recorded
    TARGET_PORT=$UPORT; TARGET_PIDS=""; TARGET_CMD="upstream warm-up"
    loadgen hold direct 0 cold-upstream-warmup --conns "$COLD_CONNS" --rate "$COLD_RATE" --concurrency "$COLD_CONNS" \
        --warm-conns 500 --settle 0.5 > /dev/null || log "cold: upstream warm-up failed (logs/cold-upstream-warmup-loadgen.err)"
    rm -f "$OUT/raw/hdr/cold-upstream-warmup.hlog"
fi

targets_of() { # scenario -> TGT
    case "$1" in
        idle) TGT=(centrigate-block centrigate-spin) ;;
        cold) TGT=("${cold_targets[@]}") ;;
        *) TGT=("${active_targets[@]}") ;;
    esac
}

for rep in $(seq 1 "$REPS"); do
    for s in "${scenarios[@]}"; do
        targets_of "$s"
        for t in "${TGT[@]}"; do run_one "$s" "$t" "$rep"; done
    done
done
echo "loadavg at end: $(cat /proc/loadavg)" >> "$OUT/env.txt"

stop_pid "$UP_PID"
find "$OUT/logs" -type f -empty -delete

# ------------------------------------------------------------------------------------------------ report
title="Run: \`bench/run.sh $*\` on $(date -u +%F) ($(nproc) cores; proxy on CPU $PROXY_CPUS with $LOOPS loop/worker/thread, upstream + load on CPU $LOAD_CPUS; $REPS repetitions of ${DURATION}s after ${WARMUP}s warm-up)."
"$JAVA" -cp "$BJAR" io.centrigate.bench.load.Report "$OUT" "$title" > /dev/null
if have gnuplot; then
    bash bench/e2e/plot.sh "$OUT" || log "plot failed"
else
    log "gnuplot not installed: no plot"
fi
log "done: $OUT/results.md"
if [[ $SMOKE == 1 ]]; then
    # smoke: every scenario produced a result line without errors; no performance check
    n=$(grep -c '^{' "$RAW" || true)
    bad=$(grep -c '"error":' "$RAW" || true)
    expected=0
    for s in "${scenarios[@]}"; do
        targets_of "$s"
        if [[ $s == http ]] && ! have wrk; then :;
        else expected=$(( expected + ${#TGT[@]} )); fi
    done
    echo "smoke: $n result lines of $expected expected, $bad with errors"
    [[ $n -eq $expected && $bad -eq 0 ]] || exit 1
fi
