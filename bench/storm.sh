#!/usr/bin/env bash
# Reconnect-storm benchmark: new WebSocket handshakes per second through centrigate, per accept mode.
#
#   bench/storm.sh                      # direct, reuseport, acceptor; 3 reps x 10 s, 24 threads, pinned
#
# For each repetition the modes run in turn (interleaved, so drift hits every mode alike); each run starts a
# fresh proxy (none for "direct", where the load goes straight to the upstream), a warm-up that is not
# recorded, then the measured window. The upstream is UpgradeResponder (bench/.../storm), the load is
# HandshakeStorm: each thread connects, upgrades, checks the 101 and its accept key, closes with RST.
#
# Pinning (PIN=1, the default on a 2-core box): the proxy on CPU 0, upstream + load generator on CPU 1. So
# CPU 1 carries the same work in every mode and the proxy has one core of its own; "direct" is then the
# ceiling of the harness itself on one core, not a proxy-less deployment on two.
#
# Environment (defaults in brackets):
#   MODES ["direct reuseport acceptor"]  REPS [3]  SECONDS [10]  WARMUP [3]  THREADS [24]  LOOPS [2]
#   BJAR/PJAR (jars to use; copy them elsewhere first if others rebuild while you measure)
#   PIN [1]  PROXY_CPUS [0]  LOAD_CPUS [1]  SPREAD [1] (one extra run per proxy mode with the in-process
#   LoopSpreadProxy, to print connections accepted per loop)  OUT [bench/target/storm]  BUILD [auto|always|never]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
MODES="${MODES:-direct reuseport acceptor}"
REPS="${REPS:-3}"
SECONDS_RUN="${SECONDS:-10}"
# bash's own SECONDS counter would otherwise leak in; read the env var once, then reset it for timing.
SECONDS=0
WARMUP="${WARMUP:-3}"
THREADS="${THREADS:-24}"
LOOPS="${LOOPS:-2}"
PIN="${PIN:-1}"
PROXY_CPUS="${PROXY_CPUS:-0}"
LOAD_CPUS="${LOAD_CPUS:-1}"
SPREAD="${SPREAD:-1}"
OUT="${OUT:-bench/target/storm}"
BUILD="${BUILD:-auto}"
UPORT="${UPORT:-19101}"
BASE_PORT="${BASE_PORT:-19200}"
BJAR="${BJAR:-bench/target/benchmarks.jar}"
PJAR="${PJAR:-cli/target/centrigate.jar}"
JAVA="${JAVA:-java}"
EXPORTS="--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"
RUN_LIMIT=$(( SECONDS_RUN + WARMUP + 60 ))

if [[ "$BUILD" == auto ]]; then
    if [[ ! -f "$BJAR" || ! -f "$PJAR" ]] ||
       [[ -n "$(find pom.xml core cli bench/pom.xml bench/src -newer "$BJAR" -name '*.java' -print -quit 2>/dev/null)" ]]; then
        BUILD=always
    fi
fi
if [[ "$BUILD" == always ]]; then
    echo "building ..." >&2
    mvn -B -q -o -DskipTests package
fi

mkdir -p "$OUT"
stamp="$(date +%Y%m%d-%H%M%S)"
results="$OUT/storm-$stamp.jsonl"
: > "$results"
children=()
cleanup() {
    for pid in "${children[@]:-}"; do
        [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true
    done
    sleep 0.5
    for pid in "${children[@]:-}"; do
        [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_line() { # wait_line FILE PREFIX TIMEOUT_S
    local i
    for (( i = 0; i < $3 * 10; i++ )); do
        grep -q "^$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timed out waiting for '$2' in $1:" >&2; cat "$1" >&2; return 1
}

# CPU ticks (utime+stime) of each event-loop thread of PID, in thread-id order: "t0 t1 ..."
loop_ticks() {
    local pid="$1" t out=""
    for t in $(ls /proc/"$pid"/task 2>/dev/null | sort -n); do
        if [[ "$(cat /proc/"$pid"/task/"$t"/comm 2>/dev/null)" == centrigate-loop* ]]; then
            out+="$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/"$pid"/task/"$t"/stat) "
        fi
    done
    echo "${out% }"
}

# --- upstream
upstream_log="$OUT/responder-$stamp.log"
timeout -k 5 7200 $( [[ "$PIN" == 1 ]] && echo taskset -c "$LOAD_CPUS" ) "$JAVA" -Xms256m -Xmx256m -cp "$BJAR" \
    io.centrigate.bench.storm.UpgradeResponder "$UPORT" 1 > "$upstream_log" 2>&1 &
children+=($!)
wait_line "$upstream_log" "responder listening" 15

port=$BASE_PORT
run_one() { # run_one MODE REP KIND(jar|spread)
    local mode="$1" rep="$2" kind="$3" target proxy_pid="" tpid="" log before="" after="" json
    port=$(( port + 1 ))
    if [[ "$mode" == direct ]]; then
        target="127.0.0.1:$UPORT"
    else
        target="127.0.0.1:$port"
        log="$OUT/proxy-$stamp-$mode-$rep-$kind.log"
        if [[ "$kind" == jar ]]; then
            timeout -k 5 "$RUN_LIMIT" $( [[ "$PIN" == 1 ]] && echo taskset -c "$PROXY_CPUS" ) "$JAVA" -jar "$PJAR" run \
                --listen "$target" --upstream "127.0.0.1:$UPORT" --accept "$mode" --loops "$LOOPS" > "$log" 2>&1 &
            tpid=$!
            wait_line "$log" "centrigate " 20
        else
            timeout -k 5 "$RUN_LIMIT" $( [[ "$PIN" == 1 ]] && echo taskset -c "$PROXY_CPUS" ) "$JAVA" "$EXPORTS" \
                -cp "$BJAR" io.centrigate.bench.storm.LoopSpreadProxy "$port" "$UPORT" "$mode" "$LOOPS" > "$log" 2>&1 &
            tpid=$!
            wait_line "$log" "centrigate-embedded " 20
        fi
        children+=("$tpid")
        proxy_pid="$(pgrep -P "$tpid" | head -1 || true)"
        [[ -n "$proxy_pid" ]] && children+=("$proxy_pid")
        before="$(loop_ticks "$proxy_pid")"
    fi
    json="$(timeout -k 5 "$RUN_LIMIT" $( [[ "$PIN" == 1 ]] && echo taskset -c "$LOAD_CPUS" ) "$JAVA" -Xms512m -Xmx512m -cp "$BJAR" \
        io.centrigate.bench.storm.HandshakeStorm "$target" "$THREADS" "$SECONDS_RUN" "$WARMUP" "$mode" | tail -1)"
    if [[ -n "$proxy_pid" ]]; then
        after="$(loop_ticks "$proxy_pid")"
        kill -TERM "$proxy_pid" 2>/dev/null || true
        wait "$tpid" 2>/dev/null || true
        # loop CPU during warm-up + measured window, in clock ticks, per loop thread (tid order)
        local deltas
        deltas="$(paste -d' ' <(tr ' ' '\n' <<<"$before") <(tr ' ' '\n' <<<"$after") | awk '{printf "%s%d", (NR>1?",":""), $2-$1}')"
        json="$(jq -c --argjson rep "$rep" --arg kind "$kind" --arg pin "$PIN" \
            --argjson ticks "[${deltas}]" --argjson hz "$(getconf CLK_TCK)" \
            '. + {rep:$rep, kind:$kind, pinned:($pin=="1"), loop_cpu_ticks:$ticks,
                  loop_cpu_us_per_handshake: ((($ticks|add) * 1e6 / $hz) / ((.handshakes + .warmup_handshakes) | if . == 0 then 1 else . end) | . * 10 | round / 10)}' <<<"$json")"
        if [[ "$kind" == spread ]]; then
            local spread
            spread="$(grep '^{"mode"' "$log" | tail -1)"
            [[ -n "$spread" ]] && json="$(jq -c --argjson s "$spread" '. + {loop_spread:$s.loops}' <<<"$json")"
        fi
    else
        json="$(jq -c --argjson rep "$rep" --arg kind "$kind" --arg pin "$PIN" '. + {rep:$rep, kind:$kind, pinned:($pin=="1")}' <<<"$json")"
    fi
    echo "$json" | tee -a "$results"
}

echo "storm: modes [$MODES] reps $REPS x ${SECONDS_RUN}s (+${WARMUP}s warm-up) threads $THREADS loops $LOOPS pin $PIN" >&2
for (( rep = 1; rep <= REPS; rep++ )); do
    for mode in $MODES; do
        run_one "$mode" "$rep" jar
    done
done
if [[ "$SPREAD" == 1 ]]; then
    for mode in $MODES; do
        [[ "$mode" == direct ]] && continue
        run_one "$mode" 1 spread
    done
fi

echo >&2
echo "summary ($results), jar runs: handshakes/s median [min..max], p99 median" >&2
jq -rs '
  [ .[] | select(.kind=="jar") ] | group_by(.label) | map({
      mode: .[0].label,
      hps: (map(.handshakes_per_s) | sort),
      p99: (map(.p99_us) | sort),
      errors: (map(.errors) | add),
      cpu: (map(.loop_cpu_us_per_handshake // empty) | sort | if length > 0 then .[length/2|floor] else "-" end) }) | .[] |
  "\(.mode)\t\(.hps[(.hps|length)/2|floor])\t[\(.hps[0])..\(.hps[-1])]\tp99 \(.p99[(.p99|length)/2|floor]) us\terrors \(.errors)\tloop-cpu-us/hs \(.cpu)"' \
  "$results" >&2
