set terminal pngcairo size 1560,680 font 'DejaVu Sans,9'
set output '/work/main/bench/results/2026-12-07-iouring/plot.png'
set multiplot layout 2,3 title 'centrigate end-to-end bench: medians, whiskers min-max over repetitions (2026-12-07-iouring)'
set style fill solid 0.6 border -1
set boxwidth 0.6
set grid ytics
set yrange [0:*]
set xtics nomirror rotate by -20
unset key
set title "echo: round-trip p99 (µs, lower is better)"
plot '/work/main/bench/results/2026-12-07-iouring/plot/echo-rtt_p99_us.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "echo: round-trip p99.9 (µs, lower is better)"
plot '/work/main/bench/results/2026-12-07-iouring/plot/echo-rtt_p999_us.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "echo: proxy CPU s / 100k msgs (lower is better)"
plot '/work/main/bench/results/2026-12-07-iouring/plot/echo-proxy_cpu_s_per_100k.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "fanout: delivery p99 (µs, lower is better)"
plot '/work/main/bench/results/2026-12-07-iouring/plot/fanout-delivery_p99_us.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "fanout: proxy CPU s / 100k deliveries (lower is better)"
plot '/work/main/bench/results/2026-12-07-iouring/plot/fanout-proxy_cpu_s_per_100k.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
unset multiplot
