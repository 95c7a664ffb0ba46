set terminal pngcairo size 1560,340 font 'DejaVu Sans,9'
set output '/work/main/bench/results/2026-12-08-http-headscanner/plot.png'
set multiplot layout 1,3 title 'centrigate end-to-end bench: medians, whiskers min-max over repetitions (2026-12-08-http-headscanner)'
set style fill solid 0.6 border -1
set boxwidth 0.6
set grid ytics
set yrange [0:*]
set xtics nomirror rotate by -20
unset key
set title "http: requests/s, wrk -c64 (higher is better)"
plot '/work/main/bench/results/2026-12-08-http-headscanner/plot/http-requests_per_s.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
unset multiplot
