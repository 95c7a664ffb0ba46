#!/usr/bin/env bash
# Draws OUT/nodes.png from OUT/raw/TARGET/nodes.csv and marks.txt (written by bench/nodes.sh): one panel per target,
# established connections on node a and node b once a second over the whole run, with the harness's moments
# (SIGSTOP, SIGCONT, kill, restart) as vertical lines.
#   bench/e2e/nodes-plot.sh bench/results/2026-12-04-nodes direct centrigate nginx haproxy
set -euo pipefail
out="$1"; shift
targets=()
for t in "$@"; do [[ -s "$out/raw/$t/nodes.csv" ]] && targets+=("$t"); done
[[ ${#targets[@]} -eq 0 ]] && { echo "nodes-plot.sh: no nodes.csv under $out/raw" >&2; exit 1; }
n=${#targets[@]}
{
    echo "set terminal pngcairo size 1100,$(( 260 * n )) font ',9'"
    echo "set output '$out/nodes.png'"
    echo "set datafile separator ','"
    echo "set multiplot layout $n,1"
    echo "set key bottom right opaque"
    echo "set ylabel 'connections'"
    echo "set grid ytics"
    for t in "${targets[@]}"; do
        t0=$(awk -F, 'NR == 2 { print $1 }' "$out/raw/$t/nodes.csv")
        echo "unset arrow; unset label"
        while read -r name ms; do
            case "$name" in stop|cont|kill|restart) ;; *) continue ;; esac
            x=$(awk -v a="$ms" -v b="$t0" 'BEGIN { printf "%.1f", (a - b) / 1000 }')
            echo "set arrow from $x, graph 0 to $x, graph 1 nohead dt 2 lc rgb 'gray40'"
            echo "set label '$name' at $x, graph 0.95 left offset 0.3,0 tc rgb 'gray30'"
        done < "$out/raw/$t/marks.txt"
        echo "set title '$t: established connections per node (s since the nodes started)'"
        echo "plot '$out/raw/$t/nodes.csv' every ::1 using ((\$1 - $t0) / 1000):2 with lines lw 2 title 'node a', \\"
        echo "     '' every ::1 using ((\$1 - $t0) / 1000):3 with lines lw 2 title 'node b (hung, then restarted)'"
    done
    echo "unset multiplot"
} | gnuplot
echo "$out/nodes.png"
