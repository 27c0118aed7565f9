#!/usr/bin/env bash
# Compares two benchmark binaries row by row, the way a change is judged on a
# shared machine: both pinned to the same core, alternated run by run (A, B,
# A, B, ...), so load drifts hit both alike; prints each one's median and the
# ratio B / A (above 1 = B is better; for every row here higher is better).
#
#   bench/compare.sh [-s SECS] [-n REPS] [-c CPU] [-r "ROW;ROW"] A B
#
#   A, B     two oasis-bench (or lwip-bench) binaries, e.g. the base commit's
#            and yours; put VAR=value before a path to set its environment
#            ("OASIS_BENCH_BUF=4194304 ./oasis-bench")
#   -s SECS  seconds per run (default 2)
#   -n REPS  runs per binary and row (default 3)
#   -c CPU   the core to pin to (default 0)
#   -r ROWS  the rows, ';'-separated argument lists (default: bulk at MTU
#            1500, 9000 and 65535, rr 1, rr 1024, crr)
#
# Example, issue 11's "no worse than the base":
#   bench/compare.sh ../base/build-bench/bench/oasis-bench build-bench/bench/oasis-bench
set -euo pipefail

SECS=2
REPS=3
CPU=0
ROWS="bulk 1500;bulk 9000;bulk 65535;rr 1;rr 1024;crr"
while getopts s:n:c:r:h opt; do
    case $opt in
    s) SECS=$OPTARG ;;
    n) REPS=$OPTARG ;;
    c) CPU=$OPTARG ;;
    r) ROWS=$OPTARG ;;
    *) sed -n '2,19p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { sed -n '2,19p' "$0"; exit 2; }
A=$1
B=$2

# run SPEC ARGS...: the figure of one run (the RESULT line's fifth field).
run() {
    local spec=$1; shift
    local envs=() prog
    for w in $spec; do
        case $w in *=*) envs+=("$w") ;; *) prog=$w ;; esac
    done
    # A figure counts even when the program then exits non-zero (older
    # builds' crr did, on a connection its own teardown canceled).
    { env "${envs[@]}" taskset -c "$CPU" "$prog" "$@" 2>/dev/null || true; } |
        awk -F, '/^RESULT,/ { print $5; exit }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.6g\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '# A: %s\n# B: %s\n# pinned to core %s, %s s per run, %s runs each, alternated\n' \
    "$A" "$B" "$CPU" "$SECS" "$REPS"
printf '%-12s %14s %14s %8s\n' row A B B/A
IFS=';' read -ra rows <<<"$ROWS"
for row in "${rows[@]}"; do
    read -ra args <<<"$row"
    ra=() rb=()
    for _ in $(seq "$REPS"); do
        ra+=("$(run "$A" "${args[@]}" "$SECS")")
        rb+=("$(run "$B" "${args[@]}" "$SECS")")
    done
    ma=$(printf '%s\n' "${ra[@]}" | grep . | median || true)
    mb=$(printf '%s\n' "${rb[@]}" | grep . | median || true)
    if [ -n "$ma" ] && [ -n "$mb" ]; then
        printf '%-12s %14s %14s %8s\n' "${row// /_}" "$ma" "$mb" \
            "$(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.2f", (a > 0) ? b / a : 0 }')"
    else
        printf '%-12s %14s %14s %8s\n' "${row// /_}" "${ma:-failed}" "${mb:-failed}" n/a
    fi
done
