#!/usr/bin/env bash
# End to end with a real Prometheus server (issue 12, acceptance 2): Debian's `prometheus` scrapes centrigate's
# admin listener every second while tunnels are held open through it, and its HTTP API must return the tunnel count
# and a handshake rate.
#
#   examples/prometheus/e2e.sh          # after `mvn -B verify` (uses cli/target/centrigate.jar, bench/target/benchmarks.jar)
#
# Starts, all on loopback and stopped on exit (trap): the bench's WebSocket upstream (BenchUpstream), centrigate
# with --admin-listen, Prometheus with a generated config (scrape interval 1 s, examples/prometheus/alerts.yml
# loaded, storage in a temp dir), and the bench load generator holding TUNNELS tunnels open
# (LoadGen hold --warm-conns 0). Then asserts over Prometheus' /api/v1/query:
#   sum(centrigate_tunnels_open) == TUNNELS, sum(centrigate_node_tunnels) == TUNNELS,
#   sum(centrigate_handshakes_total{outcome="101"}) == TUNNELS,
#   sum(rate(centrigate_tunnels_opened_total[30s])) > 0, sum(rate(centrigate_handshakes_total{outcome="101"}[30s])) > 0,
#   and every alerting rule of alerts.yml evaluated by the server with health "ok"; promtool check metrics
#   accepts centrigate's exposition with the tunnels open.
# Prints PASS, or FAIL with the logs and exits 1. Builds nothing; every wait is bounded and a watchdog ends the
# whole script after LIMIT seconds.
#
# Prometheus missing: as root, scripts/install-test-deps.sh installs it (apt-get); not root: a SKIP line, exit 0.
# Environment: TUNNELS [50]  LIMIT [85] s  KEEP [0; 1 = keep the temp dir with the logs]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
TUNNELS="${TUNNELS:-50}"
LIMIT="${LIMIT:-85}"
KEEP="${KEEP:-0}"
PJAR=cli/target/centrigate.jar
BJAR=bench/target/benchmarks.jar
say() { printf 'e2e %s %s\n' "$(date +%T)" "$*"; }

# ------------------------------------------------------------------------------------------------- prerequisites
PROM=$(command -v prometheus || true)
if [[ -z "$PROM" ]]; then
    if [[ "$(id -u)" != 0 ]]; then
        echo "SKIP examples/prometheus/e2e.sh: prometheus is not installed (Debian package prometheus) and not root to install it"
        exit 0
    fi
    say "prometheus missing: scripts/install-test-deps.sh"
    scripts/install-test-deps.sh
    PROM=$(command -v prometheus || true)
    [[ -n "$PROM" ]] || { echo "FAIL examples/prometheus/e2e.sh: prometheus could not be installed"; exit 1; }
fi
for f in "$PJAR" "$BJAR"; do
    [[ -f $f ]] || { echo "FAIL examples/prometheus/e2e.sh: $f missing: run mvn -B verify (or package) first"; exit 1; }
done
for c in curl python3; do
    command -v "$c" >/dev/null 2>&1 || { echo "FAIL examples/prometheus/e2e.sh: $c is needed"; exit 1; }
done
say "$("$PROM" --version 2>&1 | head -1)"

# ------------------------------------------------------------------------------------------- processes, cleanup
TMP="$(mktemp -d /tmp/centrigate-prom-e2e.XXXXXX)"
pids=()
WATCHDOG=""
result=1
cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    [[ -n "$WATCHDOG" ]] && kill "$WATCHDOG" 2>/dev/null || true
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [[ $result != 0 ]]; then
        local f
        for f in "$TMP"/*.log; do
            [[ -s $f ]] || continue
            echo "---- $(basename "$f") (last 30 lines)"; tail -30 "$f"
        done
    fi
    if [[ $KEEP == 1 ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
    [[ $result == 0 ]] || { echo "FAIL examples/prometheus/e2e.sh"; exit 1; }
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted or over the ${LIMIT}s limit"; exit 1' INT TERM
# The watchdog: TERM to this shell after LIMIT seconds (the trap above fails the run and stops everything).
# (stdio to /dev/null and its sleep ended with it: nothing of it outlives the script or holds a pipe open)
( trap 'kill "$s" 2>/dev/null; exit 0' TERM; sleep "$LIMIT" & s=$!; wait "$s" && kill -TERM $$ ) > /dev/null 2>&1 &
WATCHDOG=$!

fail() { say "FAIL: $*"; exit 1; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # seconds description command...: runs the command every 0.2 s until it succeeds
    local secs="$1" what="$2" end; shift 2
    end=$(( SECONDS + secs ))
    until "$@"; do
        [[ $SECONDS -lt $end ]] || fail "$what: not within ${secs}s"
        sleep 0.2
    done
}
alive() { kill -0 "$1" 2>/dev/null || fail "$2 exited (see its log)"; }

JOPTS=(-Xms64m -Xmx256m -XX:+UseSerialGC)

# ------------------------------------------------------------------------------------------------ upstream
UPORT=$(free_port)
java "${JOPTS[@]}" -cp "$BJAR" io.centrigate.bench.load.BenchUpstream --host 127.0.0.1 --port "$UPORT" > "$TMP/upstream.log" 2>&1 &
UP_PID=$!; pids+=("$UP_PID")
up_ready() { alive "$UP_PID" upstream; grep -q '^upstream listening' "$TMP/upstream.log"; }
wait_for 15 "the upstream listening" up_ready
say "upstream 127.0.0.1:$UPORT (pid $UP_PID)"

# ---------------------------------------------------------------------------------------------- centrigate
PPORT=$(free_port)
java "${JOPTS[@]}" -XX:MaxDirectMemorySize=512m -jar "$PJAR" run --listen "127.0.0.1:$PPORT" --upstream "127.0.0.1:$UPORT" \
    --admin-listen 127.0.0.1:0 > "$TMP/centrigate.log" 2>&1 &
CG_PID=$!; pids+=("$CG_PID")
cg_ready() { alive "$CG_PID" centrigate; grep -q '^centrigate .* listening on' "$TMP/centrigate.log"; }
wait_for 15 "centrigate listening" cg_ready
ADMIN=$(grep -m1 '^centrigate ' "$TMP/centrigate.log" | grep -o ' admin [0-9.]*:[0-9]*' | cut -d' ' -f3)
[[ -n $ADMIN ]] || fail "no admin address on centrigate's startup line: $(head -1 "$TMP/centrigate.log")"
say "centrigate 127.0.0.1:$PPORT admin $ADMIN (pid $CG_PID)"
code=$(curl -s -o "$TMP/metrics.txt" -w '%{http_code}' --max-time 5 "http://$ADMIN/metrics" || true)
[[ $code == 200 ]] || fail "GET http://$ADMIN/metrics answered '$code'"

# ---------------------------------------------------------------------------------------------- prometheus
WPORT=$(free_port)
cp examples/prometheus/alerts.yml "$TMP/alerts.yml"
cat > "$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - alerts.yml
scrape_configs:
  - job_name: centrigate
    static_configs:
      - targets: ["$ADMIN"]
        labels:
          service: centrigate
EOF
"$PROM" --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
    --web.listen-address="127.0.0.1:$WPORT" > "$TMP/prometheus.log" 2>&1 &
PROM_PID=$!; pids+=("$PROM_PID")
API="http://127.0.0.1:$WPORT"
prom_ready() { alive "$PROM_PID" prometheus; [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$API/-/ready" || true) == 200 ]]; }
wait_for 20 "prometheus ready on 127.0.0.1:$WPORT" prom_ready
say "prometheus 127.0.0.1:$WPORT (pid $PROM_PID), storage $TMP/data"

# query EXPR -> the value of the single sample of an instant query ("none" when the result is empty)
query() {
    curl -s --max-time 3 -G "$API/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)
except ValueError:
    print("error"); sys.exit(0)
if r.get("status") != "success":
    print("error:" + str(r.get("error"))); sys.exit(0)
res = r["data"]["result"]
print(res[0]["value"][1] if res else "none")'
}
is_num() { [[ $1 =~ ^[0-9.eE+-]+$ ]]; }
# expect SECS EXPR OP VALUE: query until "value OP VALUE" holds (OP: eq, gt), within SECS seconds
expect() {
    local secs="$1" expr="$2" op="$3" want="$4" end v=""
    end=$(( SECONDS + secs ))
    while :; do
        v=$(query "$expr")
        if is_num "$v" && python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if (a == b if sys.argv[3] == 'eq' else a > b) else 1)" "$v" "$want" "$op"; then
            say "ok: $expr = $v ($op $want)"
            return 0
        fi
        [[ $SECONDS -lt $end ]] || fail "$expr = $v, expected $op $want (waited ${secs}s)"
        sleep 0.5
    done
}

expect 15 'up{job="centrigate"}' eq 1
expect 5 'sum(centrigate_tunnels_open)' eq 0

# ------------------------------------------------------------------------------------------------- tunnels
# LoadGen hold: opens TUNNELS WebSocket tunnels through centrigate (no warm-up connections), holds them for
# --settle seconds (longer than this script waits), then checks and closes them; cleanup ends it before.
java "${JOPTS[@]}" -cp "$BJAR" io.centrigate.bench.load.LoadGen hold --target "127.0.0.1:$PPORT" \
    --conns "$TUNNELS" --concurrency "$TUNNELS" --warm-conns 0 --settle 120 --label prometheus-e2e \
    > "$TMP/loadgen.out" 2> "$TMP/loadgen.log" &
LG_PID=$!; pids+=("$LG_PID")
say "load generator holding $TUNNELS tunnels (pid $LG_PID)"
# straight from centrigate first (a failure here is centrigate's or the load generator's, not Prometheus')
scraped_open() {
    alive "$LG_PID" "the load generator"
    [[ $(curl -s --max-time 3 "http://$ADMIN/metrics" | awk '/^centrigate_tunnels_open[{ ]/ { s += $NF } END { print s + 0 }') == "$TUNNELS" ]]
}
wait_for 20 "centrigate's /metrics showing $TUNNELS open tunnels" scraped_open
say "ok: centrigate's /metrics shows $TUNNELS open tunnels"
# promtool's linter on the exposition with traffic in it (the text format 0.0.4: promtool reads no OpenMetrics)
if command -v promtool >/dev/null 2>&1; then
    curl -s --max-time 3 "http://$ADMIN/metrics" > "$TMP/metrics-busy.txt"
    promtool check metrics < "$TMP/metrics-busy.txt" > "$TMP/promtool.log" 2>&1 ||
        fail "promtool check metrics: $(cat "$TMP/promtool.log")"
    say "ok: promtool check metrics accepts the exposition ($(grep -c '^# TYPE' "$TMP/metrics-busy.txt") families)"
fi

expect 10 'sum(centrigate_tunnels_open)' eq "$TUNNELS"
expect 5 'sum(centrigate_node_tunnels)' eq "$TUNNELS"
expect 5 'sum(centrigate_handshakes_total{outcome="101"})' eq "$TUNNELS"
expect 5 'sum(centrigate_connections_open)' eq "$TUNNELS"
expect 5 'sum(rate(centrigate_tunnels_opened_total[30s]))' gt 0
expect 5 'sum(rate(centrigate_handshakes_total{outcome="101"}[30s]))' gt 0
expect 5 'sum(rate(centrigate_connections_accepted_total[30s]))' gt 0

# every series the alerting rules read exists in what Prometheus scraped (a renamed family would leave a rule
# evaluating to nothing, silently)
for sel in centrigate_ready centrigate_node_up centrigate_handshakes_total process_open_fds process_max_fds \
        centrigate_buffer_chunks_in_use centrigate_buffer_chunks_limit centrigate_buffer_waits_total \
        'centrigate_reloads_total{result="failed"}' centrigate_access_log_dropped_total; do
    expect 5 "count($sel)" gt 0
done

# the alerting rules of examples/prometheus/alerts.yml, evaluated by the server against real series
rules_ok() {
    curl -s --max-time 3 "$API/api/v1/rules" | python3 -c '
import json, sys
r = json.load(sys.stdin)
rules = [x for g in r["data"]["groups"] for x in g["rules"]]
bad = [(x["name"], x.get("health"), x.get("lastError", "")) for x in rules if x.get("health") != "ok"]
if not rules or bad:
    print("rules not ok: %d loaded, %s" % (len(rules), bad), file=sys.stderr); sys.exit(1)
firing = [x["name"] for x in rules if x.get("state") == "firing"]
print("%d rules evaluated ok, firing: %s" % (len(rules), ", ".join(firing) or "none"))' > "$TMP/rules.txt" 2>> "$TMP/rules.log"
}
wait_for 10 "the alerting rules evaluated with health ok" rules_ok
say "ok: $(cat "$TMP/rules.txt")"

result=0
say "PASS: Prometheus scraped centrigate: $TUNNELS tunnels, handshake rate $(query 'sum(rate(centrigate_handshakes_total{outcome="101"}[30s]))')/s (${SECONDS}s)"
echo "PASS examples/prometheus/e2e.sh"
