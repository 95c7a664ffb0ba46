#!/usr/bin/env bash
# Draws OUT/plot.png from OUT/plot/*.dat (written by io.centrigate.bench.load.Report): one panel per headline
# metric, a bar per target at the median, the whisker from min to max over the repetitions.
#   bench/e2e/plot.sh bench/results/2026-11-26
set -euo pipefail
out="$1"
dir="$out/plot"
panels=(
  "echo-rtt_p99_us.dat|echo: round-trip p99 (µs, lower is better)"
  "echo-rtt_p999_us.dat|echo: round-trip p99.9 (µs, lower is better)"
  "echo-proxy_cpu_s_per_100k.dat|echo: proxy CPU s / 100k msgs (lower is better)"
  "fanout-delivery_p99_us.dat|fanout: delivery p99 (µs, lower is better)"
  "fanout-proxy_cpu_s_per_100k.dat|fanout: proxy CPU s / 100k deliveries (lower is better)"
  "hold-rss_per_tunnel_bytes.dat|hold: proxy RSS per idle tunnel (bytes, lower is better)"
  "hold-connect_p99_us.dat|hold: connect time p99 (µs, lower is better)"
  "storm-handshakes_per_s.dat|storm: WebSocket handshakes/s (higher is better)"
  "http-requests_per_s.dat|http: requests/s, wrk -c64 (higher is better)"
  "idle-rtt_p99_us.dat|idle strategy: echo p99 (µs)"
  "cold-connect_p50_us.dat|cold start: connect+upgrade p50 (µs, lower is better)"
  "cold-connect_p99_us.dat|cold start: connect+upgrade p99 (µs, lower is better)"
  "cold-ready_s.dat|cold start: start to port ready (s)"
  "idle-proxy_cpu_pct.dat|idle strategy: proxy CPU (% of a core)"
)
present=()
for p in "${panels[@]}"; do
  f="${p%%|*}"
  [[ -s "$dir/$f" ]] && [[ $(grep -vc '^#' "$dir/$f") -gt 0 ]] && present+=("$p")
done
[[ ${#present[@]} -eq 0 ]] && { echo "plot.sh: no data in $dir" >&2; exit 1; }
n=${#present[@]}
cols=3
rows=$(( (n + cols - 1) / cols ))
{
  echo "set terminal pngcairo size $(( cols * 520 )),$(( rows * 340 )) font 'DejaVu Sans,9'"
  echo "set output '$out/plot.png'"
  echo "set multiplot layout $rows,$cols title 'centrigate end-to-end bench: medians, whiskers min-max over repetitions ($(basename "$out"))'"
  echo "set style fill solid 0.6 border -1"
  echo "set boxwidth 0.6"
  echo "set grid ytics"
  echo "set yrange [0:*]"
  echo "set xtics nomirror rotate by -20"
  echo "unset key"
  for p in "${present[@]}"; do
    f="${p%%|*}"; t="${p#*|}"
    echo "set title \"$t\""
    echo "plot '$dir/$f' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', \$2)) with labels offset 0,0.7"
  done
  echo "unset multiplot"
} > "$dir/plot.gp"
gnuplot "$dir/plot.gp"
echo "plot: $out/plot.png"
