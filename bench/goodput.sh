#!/bin/sh
# Goodput against loss (bench/goodput.c) with the Mathis bound, as a table
# (goodput.tsv) and a plot (goodput.png, needs gnuplot).
#   bench/goodput.sh [--build DIR] [--out DIR] [--secs N]
set -eu
build=build; out=.; secs=20
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --secs) secs=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--out DIR] [--secs N]" >&2; exit 2 ;;
    esac
done
src=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$src" -B "$build" >/dev/null
cmake --build "$build" --target goodput -j >/dev/null
mkdir -p "$out"
"$build/bench/goodput" "$secs" > "$out/goodput.tsv"
column -t -s "$(printf '\t')" "$out/goodput.tsv" 2>/dev/null || cat "$out/goodput.tsv"
command -v gnuplot >/dev/null || { echo "gnuplot not found: no plot"; exit 0; }
# One panel per RTT; loss 0 has no Mathis bound and no place on a log axis.
dat="$out/goodput-series"
mkdir -p "$dat"
for rtt in 10 50; do
    for cc in newreno cubic; do
        for sack in 0 1; do
            awk -F '\t' -v r=$rtt -v c=$cc -v k=$sack \
                '$1==r && $3==c && $4==k && $2>0 {print $2, $5}' "$out/goodput.tsv" \
                > "$dat/$rtt-$cc-$sack.dat"
        done
    done
    awk -F '\t' -v r=$rtt '$1==r && $3=="newreno" && $4==0 && $2>0 {print $2, $6}' \
        "$out/goodput.tsv" > "$dat/$rtt-mathis.dat"
done
gnuplot <<GP
set terminal pngcairo size 1200,500
set output "$out/goodput.png"
set logscale xy
set xlabel "loss probability"
set ylabel "goodput (Mbit/s)"
set key bottom left
set grid
set multiplot layout 1,2
do for [rtt in "10 50"] {
  set title sprintf("one flow, 100 Mbit/s bottleneck, RTT %s ms", rtt)
  plot for [cc in "newreno cubic"] for [sack=0:1] \
    sprintf("$dat/%s-%s-%d.dat", rtt, cc, sack) using 1:2 with linespoints lw 2 \
      title sprintf("%s, %s", cc, sack ? "SACK" : "no SACK"), \
    sprintf("$dat/%s-mathis.dat", rtt) using 1:2 with lines dt 2 lw 2 lc rgb "black" \
      title "Mathis MSS/RTT*1.22/sqrt(p)"
}
unset multiplot
GP
echo "plot: $out/goodput.png"
