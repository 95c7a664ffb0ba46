set terminal pngcairo size 1560,340 font 'DejaVu Sans,9'
set output '/tmp/cd1/ab6/plot.png'
set multiplot layout 1,3 title 'centrigate end-to-end bench: medians, whiskers min-max over repetitions (ab6)'
set style fill solid 0.6 border -1
set boxwidth 0.6
set grid ytics
set yrange [0:*]
set xtics nomirror rotate by -20
unset key
set title "cold start: connect+upgrade p50 (µs, lower is better)"
plot '/tmp/cd1/ab6/plot/cold-connect_p50_us.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "cold start: connect+upgrade p99 (µs, lower is better)"
plot '/tmp/cd1/ab6/plot/cold-connect_p99_us.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
set title "cold start: start to port ready (s)"
plot '/tmp/cd1/ab6/plot/cold-ready_s.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, '' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.7
unset multiplot
