#!/usr/bin/env bash
# HTTP/2 over TLS, centrigate against Nginx (issue 16, acceptance 2): h2load (Debian nghttp2-client) against
# `centrigate run --http2 on` and Nginx 1.22 (`listen ... ssl http2`) in one run, the same certificate, the same
# HTTP/1.1 upstream (the bench upstream, io.centrigate.bench.load.BenchUpstream), the same h2load parameters.
# Target: centrigate >= 1.2x Nginx's requests/s at a lower p99.
#
#   bench/h2load.sh                 # REPS 3 x shapes "small large" x targets "centrigate nginx"; bench/results/<date>-h2load
#   bench/h2load.sh smoke           # seconds: REPS 1, 2 s runs; shows the script works, measures nothing
#                                   # (output bench/target/h2load-smoke unless OUT is given)
#
# Shapes: small = GET /api/info (100 bytes of JSON), large = GET /api/large (LARGE_SIZE bytes); both answered by the
# upstream with Content-Length and keep-alive. For each repetition, each shape and each target in turn (interleaved,
# so drift hits both alike): a fresh proxy, h2load for WARMUP s (discarded: the JVM is measured warm, as it runs in
# production), h2load for MEASURE_WARMUP + DURATION s (the last DURATION measured, with --log-file), the proxy
# stopped. Per run: requests/s, failures,
# latency min/mean/max (h2load's "time for request") and p50/p99/p99.9 from the per-request log (microseconds from
# a request's start to its response's end), the proxy's CPU time per 100k requests. The table gives the medians of
# the REPS runs and the ratio centrigate / Nginx.
#
# Pinning (PIN=1, as bench/run.sh): the proxy on PROXY_CPUS (CPU 1), the upstream and h2load on LOAD_CPUS (CPU 0);
# centrigate --loops and Nginx worker_processes = LOOPS (the number of PROXY_CPUS).
#
# Environment (defaults in brackets; smoke's in braces):
#   REPS [3] {1}  DURATION [10] {2} s measured  WARMUP [5] {1} s  MEASURE_WARMUP [2] s (the measured h2load's own
#   --warm-up-time: its connections' handshakes and first requests, not counted)  CLIENTS [16] (h2load -c)  STREAMS [16] (-m, streams
#   in flight per connection)  H2LOAD_THREADS [1] (-t)  SHAPES ["small large"]  LARGE_SIZE [16384]
#   TARGETS ["centrigate nginx"]  PIN [1]  PROXY_CPUS [1]  LOAD_CPUS [0]  LOOPS [number of PROXY_CPUS]
#   JAVA [java: the proxy's JVM]  TRANSPORT [nio; epoll/io_uring need JAVA >= 22 and a jar built on it]
#   CENTRIGATE_JAVA_OPTS [none]  PROXY_ARGS [none: more `centrigate run` options (not CENTRIGATE_*: centrigate refuses unknown ones), e.g. "--jit-priority background"]
#   H2LOAD_OPTS [none: more h2load options for both targets, e.g. "--tls13-ciphers=TLS_AES_256_GCM_SHA384"]
#   PJAR [cli/target/centrigate.jar]  OUT [bench/results/<date>-h2load]
# Results in OUT: results.md (the table), results.csv (one line per run), env.txt, raw/<shape>-<target>-<rep>.txt
# (h2load's output), raw/<shape>-<target>-<rep>.log.gz (h2load --log-file), logs/ (proxy logs, nginx.conf, cert.pem).
# Needs: h2load, nginx, openssl, taskset (PIN=1); the jars built first (mvn -B -DskipTests package).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
SMOKE=0
for a in "$@"; do
    case "$a" in
        smoke) SMOKE=1 ;;
        -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
        *) echo "unknown argument '$a' (smoke)" >&2; exit 2 ;;
    esac
done
if [[ $SMOKE == 1 ]]; then
    REPS="${REPS:-1}"; DURATION="${DURATION:-2}"; WARMUP="${WARMUP:-1}"; MEASURE_WARMUP="${MEASURE_WARMUP:-1}"
    OUT="${OUT:-bench/target/h2load-smoke}"
fi
REPS="${REPS:-3}"; DURATION="${DURATION:-10}"; WARMUP="${WARMUP:-5}"
CLIENTS="${CLIENTS:-16}"; STREAMS="${STREAMS:-16}"; H2LOAD_THREADS="${H2LOAD_THREADS:-1}"
SHAPES="${SHAPES:-small large}"; LARGE_SIZE="${LARGE_SIZE:-16384}"; TARGETS="${TARGETS:-centrigate nginx}"
PIN="${PIN:-1}"; PROXY_CPUS="${PROXY_CPUS:-1}"; LOAD_CPUS="${LOAD_CPUS:-0}"
ncpus() { local n=0 part; IFS=, read -ra parts <<< "$1"; for part in "${parts[@]}"; do
    if [[ $part == *-* ]]; then n=$(( n + ${part#*-} - ${part%-*} + 1 )); else n=$(( n + 1 )); fi; done; echo $n; }
LOOPS="${LOOPS:-$(ncpus "$PROXY_CPUS")}"
JAVA="${JAVA:-java}"; TRANSPORT="${TRANSPORT:-nio}"; CENTRIGATE_JAVA_OPTS="${CENTRIGATE_JAVA_OPTS:-}"
PROXY_ARGS="${PROXY_ARGS:-}"; H2LOAD_OPTS="${H2LOAD_OPTS:-}"; MEASURE_WARMUP="${MEASURE_WARMUP:-2}"
PJAR="${PJAR:-cli/target/centrigate.jar}"; BJAR=bench/target/benchmarks.jar
OUT="${OUT:-bench/results/$(date -u +%F)-h2load}"
NOFILE=$(ulimit -Hn)
CLK_TCK=$(getconf CLK_TCK)
PATH="$PATH:/usr/sbin"

log() { printf '%s %s\n' "$(date -u +%T)" "$*" >&2; }
for tool in h2load openssl; do command -v "$tool" >/dev/null || { echo "$tool not installed (Debian nghttp2-client, openssl)" >&2; exit 2; }; done
[[ " $TARGETS " == *" nginx "* ]] && { command -v nginx >/dev/null || { echo "nginx not installed" >&2; exit 2; }; }
[[ -f "$PJAR" && -f "$BJAR" ]] || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }
for s in $SHAPES; do [[ $s == small || $s == large ]] || { echo "unknown shape '$s' (small large)" >&2; exit 2; }; done

mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"
rm -rf "$OUT/raw" "$OUT/logs"; mkdir -p "$OUT/raw" "$OUT/logs"
# Private copies of the jars (a concurrent build may replace target/), the certificate, Nginx's run directory.
WORK="$(mktemp -d /tmp/centrigate-h2load.XXXXXX)"
cp "$PJAR" "$WORK/centrigate.jar"; cp "$BJAR" "$WORK/benchmarks.jar"

pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pid() { # pid: SIGTERM, at most 10 s, then SIGKILL
    local p="$1" i rest=()
    kill -TERM "$p" 2>/dev/null || return 0
    for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    for i in "${pids[@]}"; do [[ $i != "$p" ]] && rest+=("$i"); done
    pids=("${rest[@]}")
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_listen() { # port pid
    local i
    for i in $(seq 1 150); do
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
machine_busy() { awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6 }' /proc/stat; }

PIN_PROXY=(); PIN_LOAD=()
if [[ $PIN == 1 ]]; then PIN_PROXY=(taskset -c "$PROXY_CPUS"); PIN_LOAD=(taskset -c "$LOAD_CPUS"); fi

# The one certificate both serve: EC P-256, self-signed, for localhost and 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/key.pem" \
    -out "$WORK/cert.pem" -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
cp "$WORK/cert.pem" "$OUT/logs/cert.pem"

UPORT=$(free_port)
"${PIN_LOAD[@]}" "$JAVA" -Xms512m -Xmx512m -cp "$WORK/benchmarks.jar" io.centrigate.bench.load.BenchUpstream \
    --port "$UPORT" --large-size "$LARGE_SIZE" > "$OUT/logs/upstream.log" 2>&1 &
UP_PID=$!; pids+=("$UP_PID")
wait_listen "$UPORT" "$UP_PID" || { echo "the upstream did not start" >&2; cat "$OUT/logs/upstream.log" >&2; exit 1; }

native=(); "$JAVA" -version 2>&1 | grep -q 'version "1[0-9]\.' || native=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
{
    echo "date: $(date -u +%FT%TZ); command: $(env | grep -E '^(REPS|DURATION|WARMUP|CLIENTS|STREAMS|H2LOAD_THREADS|SHAPES|LARGE_SIZE|TARGETS|PIN|PROXY_CPUS|LOAD_CPUS|LOOPS|JAVA|TRANSPORT|CENTRIGATE_JAVA_OPTS|PROXY_ARGS|H2LOAD_OPTS|OUT)=' | sort | tr '\n' ' ')bench/h2load.sh $*"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- core cli bench 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "h2load: $(h2load --version 2>&1 | head -1); nginx: $(nginx -v 2>&1); openssl: $(openssl version)"
    echo "proxy java: $("$JAVA" -version 2>&1 | head -1); transport $TRANSPORT; loops/workers $LOOPS; pinning PIN=$PIN proxy CPUs $PROXY_CPUS, upstream + h2load CPUs $LOAD_CPUS"
    echo "h2load: -c $CLIENTS -m $STREAMS -t $H2LOAD_THREADS, ${WARMUP}s warm-up then ${DURATION}s measured; large = $LARGE_SIZE bytes"
    echo "cores: $(nproc); uptime at start: $(uptime)"
} > "$OUT/env.txt"
log "output $OUT; targets $TARGETS; shapes $SHAPES; reps $REPS; ${WARMUP}s + ${DURATION}s per run"

TARGET_PORT=0; TARGET_MAIN=""; TARGET_PIDS=""
start_target() { # target tag
    local t="$1" tag="$2"
    TARGET_PORT=$(free_port)
    case "$t" in
        centrigate)
            local jopts=() cargs=()
            # shellcheck disable=SC2206
            [[ -n "$CENTRIGATE_JAVA_OPTS" ]] && jopts=($CENTRIGATE_JAVA_OPTS)
            # shellcheck disable=SC2206
            [[ -n "$PROXY_ARGS" ]] && cargs=($PROXY_ARGS)
            "${PIN_PROXY[@]}" "$JAVA" "${native[@]}" "${jopts[@]}" -jar "$WORK/centrigate.jar" run \
                --listen "127.0.0.1:$(free_port)" --tls-listen "127.0.0.1:$TARGET_PORT" \
                --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" --http2 on \
                --upstream "127.0.0.1:$UPORT" --loops "$LOOPS" --transport "$TRANSPORT" "${cargs[@]}" \
                > "$OUT/logs/$tag.log" 2>&1 &
            TARGET_MAIN=$!; pids+=("$TARGET_MAIN")
            wait_listen "$TARGET_PORT" "$TARGET_MAIN" || { log "centrigate did not start"; cat "$OUT/logs/$tag.log" >&2; return 1; }
            TARGET_PIDS="$TARGET_MAIN" ;;
        nginx)
            local dir="$WORK/nginx-$tag"
            mkdir -p "$dir"
            sed -e "s#@PORT@#127.0.0.1:$TARGET_PORT#; s#@UPSTREAM@#127.0.0.1:$UPORT#; s#@WORKERS@#$LOOPS#;
                    s#@NOFILE@#$NOFILE#; s#@RUNDIR@#$dir#g; s#@CERT@#$WORK/cert.pem#; s#@KEY@#$WORK/key.pem#" \
                bench/e2e/nginx-h2.conf.in > "$dir/nginx.conf"
            cp "$dir/nginx.conf" "$OUT/logs/nginx.conf"
            "${PIN_PROXY[@]}" nginx -e "$OUT/logs/$tag.log" -p "$dir" -c "$dir/nginx.conf" >> "$OUT/logs/$tag.log" 2>&1 &
            TARGET_MAIN=$!; pids+=("$TARGET_MAIN")
            wait_listen "$TARGET_PORT" "$TARGET_MAIN" || { log "nginx did not start"; cat "$OUT/logs/$tag.log" "$dir/nginx-error.log" >&2; return 1; }
            sleep 0.2 # the workers forked
            TARGET_PIDS="$TARGET_MAIN $(pgrep -P "$TARGET_MAIN" | tr '\n' ' ')" ;;
        *) log "unknown target $t (centrigate nginx)"; return 1 ;;
    esac
}

path_of() { case "$1" in small) echo /api/info ;; large) echo /api/large ;; esac; }

# h2load's "time for request:" min, max, mean in microseconds (it prints us, ms or s).
to_us() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) m = 1; else if (v ~ /ms$/) m = 1000; else m = 1000000;
    sub(/[a-z]+$/, "", v); printf "%.1f", v * m }'; }

echo "shape,target,rep,requests_per_s,succeeded,failed,errored,timeout,non_2xx,protocol,min_us,mean_us,max_us,p50_us,p99_us,p999_us,proxy_cpu_s_per_100k,machine_busy_pct" \
    > "$OUT/results.csv"
for rep in $(seq 1 "$REPS"); do
    for shape in $SHAPES; do
        for t in $TARGETS; do
            tag="$shape-$t-$rep"
            start_target "$t" "$tag" || exit 1
            url="https://127.0.0.1:$TARGET_PORT$(path_of "$shape")"
            h2=(-c "$CLIENTS" -m "$STREAMS" -t "$H2LOAD_THREADS")
            # shellcheck disable=SC2206
            [[ -n "$H2LOAD_OPTS" ]] && h2+=($H2LOAD_OPTS)
            # Every h2load is bounded: a client still in its TLS handshake when -D's time is up is never stopped by
            # h2load 1.52 (it goes on with requests uncounted until the server closes the connection, which neither
            # proxy does here). Seen on a fresh JVM's first handshakes on a busy machine with a 1 s warm-up; harmless
            # for the warm-up, whose output is discarded; a measured run that hits it fails the bench.
            timeout "$(( WARMUP + 30 ))" "${PIN_LOAD[@]}" h2load "${h2[@]}" -D "$WARMUP" "$url" \
                > "$OUT/raw/$tag.warmup.txt" 2>&1 || true
            # The measured h2load opens new connections: their TLS handshakes and first requests go in its own
            # warm-up (--warm-up-time, not counted), so the DURATION s measure established connections as the
            # table says; the CPU sample starts when that warm-up ends.
            rc=0
            timeout "$(( MEASURE_WARMUP + DURATION + 60 ))" "${PIN_LOAD[@]}" h2load "${h2[@]}" -D "$DURATION" \
                --warm-up-time="${MEASURE_WARMUP}s" --log-file="$WORK/$tag.log" "$url" > "$OUT/raw/$tag.txt" 2>&1 &
            hpid=$!
            sleep "$MEASURE_WARMUP"
            c0=$(cpu_ticks $TARGET_PIDS); read -r b0 m0 < <(machine_busy)
            wait "$hpid" || rc=$?
            c1=$(cpu_ticks $TARGET_PIDS); read -r b1 m1 < <(machine_busy)
            [[ $rc == 124 ]] && { log "$tag: h2load did not end within $(( DURATION + 60 ))s (see above): $OUT/raw/$tag.txt"; exit 1; }
            stop_pid "$TARGET_MAIN"
            raw="$OUT/raw/$tag.txt"
            rps=$(awk '/^finished in/ { gsub(/,/, ""); print $4 }' "$raw")
            read -r ok failed errored timeout < <(awk '/^requests:/ { gsub(/,/, ""); print $8, $10, $12, $14 }' "$raw")
            non2xx=$(awk '/^status codes:/ { gsub(/,/, ""); print $5 + $7 + $9 }' "$raw")
            proto=$(awk -F': ' '/^Application protocol/ { print $2 }' "$raw")
            read -r tmin tmax tmean < <(awk '/^time for request:/ { print $4, $5, $6 }' "$raw")
            if [[ -z "${rps:-}" || -z "${tmean:-}" ]]; then
                log "$tag: h2load gave no result"; cat "$raw" >&2; exit 1
            fi
            # p50 / p99 / p99.9 of the per-request times (3rd column, microseconds), nearest rank
            read -r p50 p99 p999 < <(cut -f3 "$WORK/$tag.log" | sort -n | awk '{ v[NR] = $1 } END {
                if (NR == 0) { print "nan nan nan"; exit }
                split("0.5 0.99 0.999", q, " ");
                for (i = 1; i <= 3; i++) { r = int(q[i] * NR + 0.999999); if (r < 1) r = 1; printf "%s ", v[r] } print "" }')
            gzip -c "$WORK/$tag.log" > "$OUT/raw/$tag.log.gz"; rm -f "$WORK/$tag.log"
            total=$(( ok + failed + errored ))
            cpu=$(awk -v c=$(( c1 - c0 )) -v t="$CLK_TCK" -v n="$total" 'BEGIN { printf "%.3f", (n > 0 ? c / t * 100000 / n : 0) }')
            busy=$(( m1 > m0 ? 100 * (b1 - b0) / (m1 - m0) : 0 ))
            echo "$shape,$t,$rep,$rps,$ok,$failed,$errored,$timeout,$non2xx,$proto,$(to_us "$tmin"),$(to_us "$tmean"),$(to_us "$tmax"),$p50,$p99,$p999,$cpu,$busy" \
                >> "$OUT/results.csv"
            log "$tag: $rps req/s ($proto), mean $tmean, p99 ${p99} us, failed $failed errored $errored, non-2xx $non2xx"
            [[ $proto == h2 ]] || log "$tag: WARNING: h2load negotiated '$proto', not h2"
        done
    done
done

# The table: medians of the runs per shape and target, then centrigate / Nginx.
{
    echo "Run: \`$(grep -o 'command: .*' "$OUT/env.txt" | cut -d' ' -f2-)\` ($(date -u +%F), $(nproc) cores)."
    echo "h2load -c $CLIENTS -m $STREAMS -t $H2LOAD_THREADS, ${DURATION}s measured after ${WARMUP}s of warm-up, $REPS run(s) per" \
        "target and shape, medians; proxy $TRANSPORT on $("$JAVA" -version 2>&1 | head -1 | sed 's/.*version "\([^"]*\)".*/JDK \1/')," \
        "$LOOPS loop(s) / worker(s); Nginx $(nginx -v 2>&1 | sed 's#.*nginx/##'). Latency: from a request's start to its response's end."
    echo
    echo "| shape | target | requests/s | mean (µs) | p50 (µs) | p99 (µs) | p99.9 (µs) | max (µs) | failed+errored | non-2xx | protocol | proxy CPU s / 100k req | machine busy % |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F, 'NR > 1 { k = $1 SUBSEP $2; n[k]++; for (c = 4; c <= 18; c++) v[k, c, n[k]] = $c; if (!(k in seen)) { seen[k] = 1; order[++o] = k } }
        function median(k, c,   i, j, t, a, m) { m = n[k]; for (i = 1; i <= m; i++) a[i] = v[k, c, i];
            for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
            return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
        function sum(k, c,   i, s) { s = 0; for (i = 1; i <= n[k]; i++) s += v[k, c, i]; return s }
        END { for (i = 1; i <= o; i++) { k = order[i]; split(k, p, SUBSEP);
            printf "| %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %d | %d | %s | %.2f | %.0f |\n", p[1], p[2],
                median(k, 4), median(k, 12), median(k, 14), median(k, 15), median(k, 16), median(k, 13),
                sum(k, 6) + sum(k, 7), sum(k, 9), v[k, 10, 1], median(k, 17), median(k, 18) }
            for (s = 1; s <= o; s++) { split(order[s], p, SUBSEP); if (p[2] != "centrigate") continue;
                kn = p[1] SUBSEP "nginx"; if (!(kn in n)) continue; kc = order[s];
                r = median(kn, 4) > 0 ? median(kc, 4) / median(kn, 4) : 0;
                l = median(kn, 15) > 0 ? median(kc, 15) / median(kn, 15) : 0;
                ratios = ratios sprintf("- %s: centrigate / Nginx requests/s %.2f, p99 %.2f, mean %.2f, CPU per request %.2f; target (>= 1.20 at a lower p99): %s\n",
                    p[1], r, l, median(kn, 12) > 0 ? median(kc, 12) / median(kn, 12) : 0,
                    median(kn, 17) > 0 ? median(kc, 17) / median(kn, 17) : 0, r >= 1.2 && l < 1 ? "met" : "not met") }
            if (ratios != "") printf "\n%s", ratios }' "$OUT/results.csv"
} > "$OUT/results.md"
cat "$OUT/results.md"
