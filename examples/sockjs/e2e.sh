#!/usr/bin/env bash
# End-to-end: the real sockjs-client through centrigate to three SockJS (sockjs-node) echo nodes.
#   1. --sockjs-sticky on (the default): with xhr-streaming and with xhr-polling forced, 30 sessions x 5 messages;
#      every echo must come back byte-exact, all of a session's echoes from one node, sessions on all 3 nodes.
#   2. --sockjs-sticky off: the same sessions must break or spread (a SockJS session lives in one node's memory;
#      xhr_send to another node gets 404), which shows what stickiness is for.
# Needs: node + npm (npm ci installs into ./node_modules), java, and the jar (mvn -pl core,cli -am package).
# Exits non-zero on any failure. Every wait is bounded; everything started here is stopped on exit.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
JAR="${JAR:-$ROOT/cli/target/centrigate.jar}"
NODES=3
SESSIONS="${SESSIONS:-30}"
MESSAGES="${MESSAGES:-5}"
JAVA="${JAVA:-java}"
# More centrigate options (not CENTRIGATE_*: centrigate itself rejects unknown ones of those), e.g. PROXY_ARGS="--transport epoll" (with JAVA= a JDK 22+).
read -r -a EXTRA_ARGS <<<"${PROXY_ARGS:-}"
cd "$HERE"

[ -f "$JAR" ] || { echo "no $JAR: build it with 'mvn -B -o -pl core,cli -am package -DskipTests'" >&2; exit 2; }
# The exact versions of package-lock.json (SKIP_NPM_CI=1 reuses an installed node_modules).
if [ "${SKIP_NPM_CI:-0}" != 1 ] || [ ! -d node_modules ]; then
  timeout 300 npm ci --no-audit --no-fund
fi

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || true
  done
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT INT TERM

forget() { # pids that have exited: cleanup must not signal a process that might have taken the number since
  local keep=() pid gone
  for pid in "${PIDS[@]:-}"; do
    for gone in "$@"; do [ "$pid" = "$gone" ] && continue 2; done
    [ -n "$pid" ] && keep+=("$pid")
  done
  PIDS=("${keep[@]:-}")
}

wait_file() { # path, seconds
  local deadline=$((SECONDS + $2))
  until [ -s "$1" ]; do
    [ $SECONDS -lt $deadline ] || { echo "timed out waiting for $1" >&2; return 1; }
    sleep 0.1
  done
}

# start_nodes <phase>: three fresh SockJS nodes (no session left from an earlier phase), each on a port the OS
# picks; sets NODE_PIDS and UPSTREAM_LIST. Their stderr (404s, the request counts at exit) goes to $WORK/nodes-<phase>.log.
start_nodes() {
  NODE_PIDS=()
  local ups=() i
  for i in $(seq 1 $NODES); do
    rm -f "$WORK/port$i"
    node server.js "node$i" "$WORK/port$i" 2>>"$WORK/nodes-$1.log" &
    NODE_PIDS+=($!)
    PIDS+=($!)
  done
  for i in $(seq 1 $NODES); do
    wait_file "$WORK/port$i" 15
    ups+=("127.0.0.1:$(cat "$WORK/port$i")")
  done
  UPSTREAM_LIST="$(IFS=,; echo "${ups[*]}")"
  echo "nodes: node1..node$NODES at $UPSTREAM_LIST"
}

stop_nodes() { # phase: stops the nodes, then prints what they saw
  local pid
  for pid in "${NODE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${NODE_PIDS[@]}"; do timeout 10 tail --pid="$pid" -f /dev/null || kill -9 "$pid" 2>/dev/null || true; done
  forget "${NODE_PIDS[@]}"
  grep ' stopping: ' "$WORK/nodes-$1.log" || true
  NODE_404=$(grep -c ' 404 ' "$WORK/nodes-$1.log" || true)
  echo "nodes answered 404 (session not on that node) $NODE_404 times"
  grep ' 404 ' "$WORK/nodes-$1.log" | head -3 || true
}

# run_proxy <sticky on|off>: starts centrigate in front of the nodes, sets PROXY_PID and URL.
run_proxy() {
  local port
  port="$(node free-port.js)"
  "$JAVA" -jar "$JAR" run --listen "127.0.0.1:$port" --upstream "$UPSTREAM_LIST" --sockjs-sticky "$1" \
    --access-log off "${EXTRA_ARGS[@]}" >"$WORK/centrigate-$1.log" 2>&1 &
  PROXY_PID=$!
  PIDS+=($PROXY_PID)
  URL="http://127.0.0.1:$port/connection/sockjs"
  if ! node wait-http.js "$URL/info" 30000; then
    cat "$WORK/centrigate-$1.log" >&2
    return 1
  fi
  echo "centrigate --sockjs-sticky $1 ${EXTRA_ARGS[*]} listening on 127.0.0.1:$port (pid $PROXY_PID)"
}

stop_proxy() {
  kill "$PROXY_PID" 2>/dev/null || true
  timeout 15 tail --pid="$PROXY_PID" -f /dev/null || { kill -9 "$PROXY_PID" 2>/dev/null || true; }
  forget "$PROXY_PID"
}

client() { # transport expectation
  if ! NODES=$NODES timeout 120 node client.js "$URL" "$1" "$2" "$SESSIONS" "$MESSAGES"; then
    FAILED=1
  fi
}

FAILED=0
echo "== --sockjs-sticky on (the default) =="
start_nodes on
run_proxy on
client xhr-streaming sticky
client xhr-polling sticky
stop_proxy
stop_nodes on
[ "$NODE_404" -eq 0 ] || { echo "FAIL: a node was asked for a session it does not hold"; FAILED=1; }

echo "== --sockjs-sticky off =="
start_nodes off
run_proxy off
client xhr-streaming unsticky
client xhr-polling unsticky
stop_proxy
stop_nodes off

if [ $FAILED -ne 0 ]; then
  echo "E2E FAILED"
  exit 1
fi
echo "E2E PASSED"
