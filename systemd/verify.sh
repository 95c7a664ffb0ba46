#!/usr/bin/env bash
# Verifies everything in systemd/: `systemd-analyze verify` on each unit (and on an instance of the template),
# `systemd-sysusers --dry-run` on the user definition, and the syntax of the sysctl drop-in.
# Exits non-zero on any error. Needs no running systemd (works in a container) and changes nothing on the machine.
#
# How a missing file is avoided without weakening the check: verify fails when an Exec*= command does not exist.
# The units are verified as shipped; only when a command is missing here (e.g. no /usr/bin/java because the JDK
# lives in /opt) does the script verify a temporary copy in which that one path points at the same command found
# on PATH, and it says so. The user `centrigate` need not exist: verify does not resolve User=, and the sysusers
# file is checked against an empty temporary root. Warnings (e.g. "Unknown key ..., ignoring") do not change
# systemd-analyze's exit code, so any line it prints about our units counts as an error too.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
units=(centrigate.service centrigate@.service)

if ! command -v systemd-analyze > /dev/null; then
  echo "verify: systemd-analyze not found: installing the Debian package 'systemd' (apt-get)"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends systemd > /dev/null
fi
echo "verify: $(systemd-analyze --version | head -1)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
errors=0
fail() { echo "FAIL $*"; errors=$((errors + 1)); }

for unit in "${units[@]}"; do
  cp "$here/$unit" "$tmp/$unit"
  # First word of every Exec*= line, without systemd's prefixes (-, @, +, !, :).
  for cmd in $(sed -n 's/^Exec[A-Za-z]*=[-@+!:]*\([^ ]*\).*/\1/p' "$here/$unit" | sort -u); do
    if [ ! -x "$cmd" ]; then
      found="$(command -v "$(basename "$cmd")" || true)"
      if [ -n "$found" ]; then
        found="$(readlink -f "$found")"
        echo "verify: $cmd is missing here; verifying a copy of $unit that runs $found instead"
        sed -i "s#^\(Exec[A-Za-z]*=[-@+!:]*\)$cmd #\1$found #" "$tmp/$unit"
      fi
    fi
  done
done

# The template as a file, and one instance of it (%i resolved); verify finds the template next to the instance.
for unit in centrigate.service centrigate@.service centrigate@1.service; do
  rc=0
  out="$(cd "$tmp" && systemd-analyze verify --man=no "$tmp/$unit" 2>&1)" || rc=$?
  ours="$(printf '%s\n' "$out" | grep -i 'centrigate' || true)"
  others="$(printf '%s\n' "$out" | grep -vi 'centrigate' | grep -v '^$' || true)"
  [ -z "$others" ] || printf 'verify: (about the machine, not our units) %s\n' "$others"
  if [ "$rc" != 0 ] || [ -n "$ours" ]; then
    fail "systemd-analyze verify $unit (exit $rc)"; [ -z "$ours" ] || printf '%s\n' "$ours"
  else
    echo "PASS systemd-analyze verify $unit"
  fi
done

# The user: parsed and applied to an empty root, nothing written (--dry-run).
mkdir -p "$tmp/root/etc"
rc=0
out="$(systemd-sysusers --dry-run --root="$tmp/root" --replace=/usr/lib/sysusers.d/centrigate.conf - \
  < "$here/centrigate.sysusers" 2>&1)" || rc=$?
if [ "$rc" != 0 ] || printf '%s\n' "$out" | grep -q ':[0-9]*: ' || ! printf '%s\n' "$out" | grep -q "user 'centrigate'"; then
  fail "systemd-sysusers --dry-run centrigate.sysusers (exit $rc)"; printf '%s\n' "$out"
else
  echo "PASS systemd-sysusers --dry-run centrigate.sysusers"
fi

# The sysctl drop-in: every active line is "key = value" (sysctl.d(5)); keys this kernel lacks are only noted,
# since a CI container's kernel is not the target machine's.
n=0; bad=0
while IFS= read -r line; do
  n=$((n + 1))
  case "$line" in ''|'#'*|';'*) continue ;; esac
  if [[ ! "$line" =~ ^-?([a-z0-9_./-]+)[[:space:]]*=[[:space:]]*([^[:space:]].*)$ ]]; then
    fail "99-centrigate.conf:$n: not 'key = value': $line"; bad=1; continue
  fi
  key="${BASH_REMATCH[1]}"
  [ -e "/proc/sys/${key//.//}" ] || echo "verify: 99-centrigate.conf:$n: $key does not exist on this kernel (not an error here)"
done < "$here/99-centrigate.conf"
[ "$bad" = 1 ] || echo "PASS sysctl.d syntax 99-centrigate.conf"

if [ "$errors" != 0 ]; then
  echo "verify: $errors error(s)"
  exit 1
fi
echo "verify: all passed"
