#!/usr/bin/env bash
# Records a training run of centrigate and writes a class archive that makes the next start warm sooner:
#
#   systemd/cold-start-archive.sh JAR ARCHIVE [--if-stale]
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java systemd/cold-start-archive.sh centrigate.jar centrigate.aot
#
# The kind of archive follows the java it is given (JAVA, default `java`):
#   JDK 25 or newer: an AOT cache (JEP 483/514/515: loaded and linked classes, method profiles) recorded in one
#                    step with -XX:AOTCacheOutput=ARCHIVE; use it with   java -XX:AOTCache=ARCHIVE -jar JAR ...
#   JDK 17 to 24:    an AppCDS dynamic archive (the classes loaded) written at exit by
#                    -XX:ArchiveClassesAtExit=ARCHIVE; use it with       java -XX:SharedArchiveFile=ARCHIVE -jar JAR ...
# Either is tied to that exact JDK build and to the JAR's path, size and modification time: after an upgrade of
# either, the JVM prints a warning, ignores the archive and starts as without it. --if-stale: do nothing (but print
# the path) when ARCHIVE exists and is newer than both JAR and the java binary.
#
# The training run: centrigate on 127.0.0.1:PORT (a free port), then WebSocket upgrades and HTTP requests through it,
# then SIGTERM (an orderly exit, which is when the JVM writes the archive). The upgrades and requests come from the
# bench load generator (BENCH_JAR, default bench/target/benchmarks.jar next to this script's checkout) when that jar
# exists, else from curl. The upstream is UPSTREAM (HOST:PORT) when set, else the bench upstream started from
# BENCH_JAR, else nothing: then every request is answered 502 by centrigate and only that path is trained.
#
# Environment: JAVA [java]  JAVA_OPTS [none: the JVM options of the real start; -Xmx, the GC etc. belong here too]
#   UPSTREAM [see above]  BENCH_JAR  CONNS [400 WebSocket upgrades]  REQUESTS [400 HTTP requests]
#   RUN_ARGS [none: more `centrigate run` options, e.g. "--loops 1"]  PORT [a free one: the training run's listen port]
# CENTRIGATE_* variables (a unit's EnvironmentFile) are not passed to the training run: it must not bind the
# service's own ports or read its TLS files; it runs with centrigate's defaults and RUN_ARGS.
# Output: the archive's path on stdout (one line); progress on stderr. Exit status non-zero when no archive was made.
set -euo pipefail

usage() { sed -n '2,27p' "$0" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
jar="$1"; archive="$2"; if_stale=0
[[ "${3:-}" == --if-stale ]] && if_stale=1
[[ -f "$jar" ]] || { echo "cold-start-archive: no jar at $jar" >&2; exit 1; }
JAVA="${JAVA:-java}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_JAR="${BENCH_JAR:-$here/../bench/target/benchmarks.jar}"
CONNS="${CONNS:-400}"
REQUESTS="${REQUESTS:-400}"
# shellcheck disable=SC2206
jopts=(${JAVA_OPTS:-})
# shellcheck disable=SC2206
run_args=(${RUN_ARGS:-})

log() { echo "cold-start-archive: $*" >&2; }

java_bin="$(command -v "$JAVA" || echo "$JAVA")"
if [[ $if_stale == 1 && -s "$archive" && "$archive" -nt "$jar" && "$archive" -nt "$(readlink -f "$java_bin")" ]]; then
    log "$archive is up to date"
    echo "$archive"
    exit 0
fi

feature="$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ { print $2 }')"
feature="${feature%%.*}"
[[ "$feature" =~ ^[0-9]+$ ]] || { log "cannot tell the version of $JAVA"; exit 1; }
rm -f "$archive"
if [[ $feature -ge 25 ]]; then
    kind="AOT cache (JDK $feature)"; record=(-XX:AOTCacheOutput="$archive"); use="-XX:AOTCache=$archive"
    # Agrona's Unsafe use, allowed without a warning on JDK 24+ (the JVM still runs without it)
    jopts+=(--sun-misc-unsafe-memory-access=allow)
else
    kind="AppCDS dynamic archive (JDK $feature)"; record=(-XX:ArchiveClassesAtExit="$archive"); use="-XX:SharedArchiveFile=$archive"
fi

free_port() { # a port no socket uses (any state), below the ephemeral range, away from bench/run.sh's 27100-27199
    local p low
    low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [[ $low -gt 12000 ]] || low=61000
    for _ in $(seq 1 100); do
        p=$(( low - 11000 + RANDOM % 10000 ))
        [[ $p -ge 27100 && $p -le 27199 ]] && continue
        ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
    done
    return 1
}

pids=()
work="$(mktemp -d /tmp/cold-start-archive.XXXXXX)"
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

have_bench=0
[[ -f "$BENCH_JAR" ]] && have_bench=1
upstream="${UPSTREAM:-}"
if [[ -z "$upstream" && $have_bench == 1 ]]; then
    uport=$(free_port)
    java -cp "$BENCH_JAR" io.centrigate.bench.load.BenchUpstream --port "$uport" > "$work/upstream.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do grep -q '^upstream listening' "$work/upstream.log" && break; kill -0 "${pids[-1]}" 2>/dev/null || break; sleep 0.1; done
    grep -q '^upstream listening' "$work/upstream.log" || { log "bench upstream did not start"; cat "$work/upstream.log" >&2; exit 1; }
    upstream="127.0.0.1:$uport"
fi
if [[ -z "$upstream" ]]; then
    log "no UPSTREAM and no bench jar: training against a closed port (502 answers only)"
    upstream="127.0.0.1:$(free_port)"
fi

port="${PORT:-$(free_port)}"
unset_env=()
while IFS= read -r name; do unset_env+=(-u "$name"); done < <(compgen -e | grep '^CENTRIGATE_' || true)
log "training run for an $kind: $JAVA ${jopts[*]} ${record[*]} -jar $jar run --listen 127.0.0.1:$port --upstream $upstream ${run_args[*]}"
env "${unset_env[@]}" "$JAVA" "${jopts[@]}" "${record[@]}" -jar "$jar" run --listen "127.0.0.1:$port" --upstream "$upstream" "${run_args[@]}" \
    > "$work/centrigate.log" 2>&1 &
cpid=$!
pids+=("$cpid")
for _ in $(seq 1 300); do grep -q '^centrigate .* listening' "$work/centrigate.log" && break; kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
grep -q '^centrigate .* listening' "$work/centrigate.log" || { log "centrigate did not start:"; cat "$work/centrigate.log" >&2; exit 1; }

target="127.0.0.1:$port"
if [[ $have_bench == 1 ]]; then
    # the bench's own hold load (upgrade, 101 checked, one echo per tunnel), then a short handshake storm
    java -cp "$BENCH_JAR" io.centrigate.bench.load.LoadGen hold --target "$target" --conns "$CONNS" --concurrency 32 \
        --settle 0.2 --warm-conns 0 > "$work/hold.json" 2> "$work/hold.err" || log "hold load failed (see below)"
    java -cp "$BENCH_JAR" io.centrigate.bench.load.LoadGen storm --target "$target" --concurrency 8 --seconds 1 \
        --warmup 0.5 > "$work/storm.json" 2> "$work/storm.err" || log "storm load failed"
    grep -o '"opened":[0-9]*\|"alive":[0-9]*\|"handshakes_per_s":[0-9.]*' "$work/hold.json" "$work/storm.json" 2>/dev/null \
        | tr '\n' ' ' >&2 || true
    echo >&2
else
    key="dGhlIHNhbXBsZSBub25jZQ=="
    for _ in $(seq 1 $(( CONNS / 10 + 1 ))); do
        curl -s --max-time 0.3 -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
            -H 'Sec-WebSocket-Version: 13' -H "Sec-WebSocket-Key: $key" "http://$target/connection/websocket" > /dev/null || true
    done
fi
# HTTP: keep-alive requests on one connection per curl, GET and POST (the API and the HTTP-streaming paths)
urls=()
for _ in $(seq 1 50); do urls+=("http://$target/api/info"); done
for _ in $(seq 1 $(( REQUESTS / 50 + 1 ))); do
    curl -s --max-time 5 "${urls[@]}" > /dev/null || true
    curl -s -o /dev/null --max-time 5 -X POST -H 'Content-Type: application/json' --data '{"method":"info"}' \
        "http://$target/api" > /dev/null || true
done

kill -TERM "$cpid"
for _ in $(seq 1 600); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
wait "$cpid" 2>/dev/null || true
grep -i -E 'error|warn' "$work/centrigate.log" | grep -v -i 'unsafe' | head -5 >&2 || true
[[ -s "$archive" ]] || { log "no archive written:"; tail -20 "$work/centrigate.log" >&2; exit 1; }
log "wrote $archive ($(du -h "$archive" | cut -f1)); start with: $JAVA ${use} -jar $jar run ..."
echo "$archive"
