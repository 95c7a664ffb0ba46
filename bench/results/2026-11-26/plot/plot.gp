set terminal pngcairo size 1560,1360 font 'DejaVu Sans,9'
set output '/tmp/bench-full/plot.png'
set multiplot layout 4,3 title 'centrigate end-to-end bench: medians, whiskers min-max over repetitions (bench-full)'
set style fill solid 0.6 border -1
set boxwidth 0.6
set grid ytics
set yrange [0:*]
set xtics nomirror rotate by -20
unset key
set title "echo: round-trip p99 (µs, lower is better)"
plot '/tmp/bench-full/plot/echo-rtt_p99_us.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "echo: round-trip p99.9 (µs, lower is better)"
plot '/tmp/bench-full/plot/echo-rtt_p999_us.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "echo: proxy CPU s / 100k msgs (lower is better)"
plot '/tmp/bench-full/plot/echo-proxy_cpu_s_per_100k.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "fanout: delivery p99 (µs, lower is better)"
plot '/tmp/bench-full/plot/fanout-delivery_p99_us.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "fanout: proxy CPU s / 100k deliveries (lower is better)"
plot '/tmp/bench-full/plot/fanout-proxy_cpu_s_per_100k.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "hold: proxy RSS per idle tunnel (bytes, lower is better)"
plot '/tmp/bench-full/plot/hold-rss_per_tunnel_bytes.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "hold: connect time p99 (µs, lower is better)"
plot '/tmp/bench-full/plot/hold-connect_p99_us.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "storm: WebSocket handshakes/s (higher is better)"
plot '/tmp/bench-full/plot/storm-handshakes_per_s.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "http: requests/s, wrk -c64 (higher is better)"
plot '/tmp/bench-full/plot/http-requests_per_s.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "idle strategy: echo p99 (µs)"
plot '/tmp/bench-full/plot/idle-rtt_p99_us.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "idle strategy: proxy CPU (% of a core)"
plot '/tmp/bench-full/plot/idle-proxy_cpu_pct.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
unset multiplot
