#!/usr/bin/env bash
# bioq.sh BUILD [OUT]: the bioq sweep (bench_bioq), its CSV, the model check
# and the plots (gnuplot, PNG and SVG).  Everything runs in virtual time,
# so a rerun gives the same files.  OUT defaults to bench/results/bioq.
set -euo pipefail
build=${1:?usage: bench/bioq.sh BUILD_DIR [OUT_DIR]}
out=${2:-$(dirname "$0")/results/bioq}
command -v gnuplot >/dev/null || { echo "bioq.sh: gnuplot missing (scripts/deps.sh installs gnuplot-nox)" >&2; exit 1; }
mkdir -p "$out"
"$build/bench/bench_bioq" --csv "$out/bioq.csv" > "$out/bioq.txt"
"$build/bench/bench_bioq" --model-check > "$out/model-check.md"

# Heat maps: read p99 over minor_interval x burst_bytes, minor_bytes 262144,
# burst_interval 60 (DragonFly's), one per device and queue depth.
mis="1 5 15 30 60"; bbs="262144 524288 3000000"
for dev in hdd ssd; do
  for qd in 1 32; do
    awk -F, -v dev=$dev -v qd=$qd -v mis="$mis" -v bbs="$bbs" '
      NR > 1 && $1 == dev && $2 == qd && $3 == "bioq" && $4 == 262144 && $7 == 60 { v[$5 "," $6] = $11 }
      END { nm = split(mis, m, " "); nb = split(bbs, b, " ")
            for (j = 1; j <= nb; j++) { line = ""
              for (i = 1; i <= nm; i++) line = line (i > 1 ? " " : "") v[b[j] "," m[i]]
              print line } }' "$out/bioq.csv" > "$out/heat_${dev}_qd${qd}.dat"
  done
  # trade-off: every policy, both depths
  awk -F, -v dev=$dev 'NR > 1 && $1 == dev { print $2, $3, $4, $5, $6, $7, $19, $11 }' \
    "$out/bioq.csv" > "$out/trade_${dev}.dat"
done

for fmt in png svg; do
  if [ $fmt = png ]; then term="pngcairo size 1100,800 font ',10'"; else term="svg size 1100,800 font 'sans,10'"; fi
  for dev in hdd ssd; do
    gnuplot <<GP
set terminal $term
set termoption noenhanced
set output "$out/heat_${dev}.$fmt"
set multiplot layout 1,2 title "bench_bioq: random 16 KiB read p99 (ms), ${dev} model, minor_bytes 262144, burst_interval 60"
set xtics ("1" 0, "5" 1, "15" 2, "30" 3, "60" 4)
set ytics ("262144" 0, "524288" 1, "3000000" 2)
set xlabel "kern.bioq_reorder_minor_interval"
set ylabel "kern.bioq_reorder_burst_bytes"
set cblabel "read p99 (ms)"
set palette rgbformulae 22,13,-31
set xrange [-0.5:4.5]; set yrange [-0.5:2.5]
set title "queue depth 1"
plot "$out/heat_${dev}_qd1.dat" matrix with image notitle, \
     "" matrix using 1:2:(sprintf("%.1f", \$3)) with labels notitle
set title "queue depth 32"
plot "$out/heat_${dev}_qd32.dat" matrix with image notitle, \
     "" matrix using 1:2:(sprintf("%.1f", \$3)) with labels notitle
unset multiplot
GP
    gnuplot <<GP
set terminal $term
set termoption noenhanced
set output "$out/tradeoff_${dev}.$fmt"
set title "bench_bioq: read p99 against write throughput, ${dev} model (every point of the sweep)"
set xlabel "write throughput (MB/s, device bytes)"
set ylabel "random 16 KiB read p99 (ms)"
set logscale y
set key outside right top
set grid
f = "$out/trade_${dev}.dat"
plot f using (\$1 == 1 && strcol(2) eq "bioq" ? \$7 : 1/0):8 with points pt 7 ps 0.6 lc rgb "#4477aa" title "bioq, depth 1", \
     f using (\$1 == 32 && strcol(2) eq "bioq" ? \$7 : 1/0):8 with points pt 5 ps 0.6 lc rgb "#88ccee" title "bioq, depth 32", \
     f using (strcol(2) eq "fifo" ? \$7 : 1/0):8 with points pt 9 ps 2 lc rgb "#cc3311" title "FIFO (depth 1 and 32)", \
     f using (strcol(2) eq "bioq" && \$3 == 262144 && \$4 == 3000000 && \$5 == 5 && \$6 == 60 ? \$7 : 1/0):8 with points pt 13 ps 2.2 lc rgb "#000000" title "DragonFly defaults 262144/3000000/5/60", \
     f using (strcol(2) eq "bioq" && \$3 == 262144 && \$4 <= 524288 && \$5 >= 15 && \$6 == 60 ? \$7 : 1/0):8 with points pt 6 ps 1.8 lc rgb "#ee7733" title "HAMMER(5): minor_interval 15/30/60, burst_bytes 256K/512K"
GP
  done
done
rm -f "$out"/heat_*_qd*.dat "$out"/trade_*.dat
echo "bioq.sh: wrote $(ls "$out" | tr '\n' ' ')"
