#!/usr/bin/env bash
# Interleaved comparison of N binaries: every rep runs each binary once in turn
# (all pinned to one core), medians per binary, then the last binary's median
# over the best median among the others ("lwIP at its best", same run).
#   bench/multi_compare.sh -s SECS -n REPS -c CPU -r "rr 1;rr 1024" BIN1 ... BINk OASIS
# As in compare.sh, VAR=value before a path sets its environment, e.g.
# "OASIS_BENCH_OPTS=lwip ./oasis-bench" (one argument, quoted).
set -uo pipefail
SECS=2; REPS=5; CPU=0; ROWS="rr 1;rr 1024"
while getopts s:n:c:r: opt; do case $opt in s) SECS=$OPTARG;; n) REPS=$OPTARG;; c) CPU=$OPTARG;; r) ROWS=$OPTARG;; esac; done
shift $((OPTIND-1)); BINS=("$@"); K=${#BINS[@]}
run() {
  local spec=$1; shift
  local envs=() prog
  for w in $spec; do case $w in *=*) envs+=("$w") ;; *) prog=$w ;; esac; done
  env "${envs[@]}" taskset -c "$CPU" "$prog" "$@" 2>/dev/null | awk -F, '/^RESULT,/ { print $5; exit }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.6g\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "# $(date -u) load $(cut -d' ' -f1-3 /proc/loadavg); core $CPU, $SECS s per run, $REPS reps, interleaved"
IFS=';' read -ra rows <<<"$ROWS"
for row in "${rows[@]}"; do
  read -ra args <<<"$row"
  declare -A res=()
  for r in $(seq "$REPS"); do
    for i in $(seq 0 $((K-1))); do res[$i]+="$(run "${BINS[$i]}" "${args[@]}" "$SECS") "; done
  done
  best=0; bestbin=""
  for i in $(seq 0 $((K-1))); do
    m=$(printf '%s\n' ${res[$i]} | grep . | median)
    printf '%-10s %-55s median %12s   runs: %s\n' "${row// /_}" "${BINS[$i]}" "$m" "${res[$i]}"
    if [ "$i" -lt $((K-1)) ] && awk -v a="$m" -v b="$best" 'BEGIN{exit !(a>b)}'; then best=$m; bestbin=${BINS[$i]}; fi
    last=$m
  done
  printf '%-10s last/best-of-others = %s / %s = %.2fx  (best: %s)\n' "${row// /_}" "$last" "$best" "$(awk -v a="$last" -v b="$best" 'BEGIN{print a/b}')" "$bestbin"
  unset res
done
