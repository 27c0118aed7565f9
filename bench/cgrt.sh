#!/usr/bin/env bash
# Instructions per request/response round trip, by callgrind: the count of
# a 0.5 s run less that of a 0.001 s run, over the difference in round
# trips, so set-up and teardown drop out. Unlike a timed figure it does not
# depend on the machine's load or on where heap objects land
# (README.md, "Placement").
#
#   bench/cgrt.sh BENCH_BINARY [SIZE]     e.g. build-bench/bench/oasis-bench 1
#
# Works with oasis-bench and lwip-bench (both print "rr SIZE B: N in ...").
set -euo pipefail
BIN=${1:?usage: cgrt.sh BENCH_BINARY [SIZE]}
SIZE=${2:-1}
command -v valgrind >/dev/null || { echo "cgrt.sh: needs valgrind" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {
    valgrind --tool=callgrind --callgrind-out-file="$tmp/$1.cg" "$BIN" rr "$SIZE" "$1" >"$tmp/$1.txt" 2>&1
    local ins rt
    ins=$(grep -E "^(summary|totals):" "$tmp/$1.cg" | awk '{print $2}' | tail -1)
    rt=$(grep -oE "rr $SIZE B: [0-9]+ in" "$tmp/$1.txt" | awk '{print $4}')
    echo "$ins $rt"
}
read -r i1 r1 < <(run 0.5)
read -r i0 r0 < <(run 0.001)
[ "$r1" -gt "$r0" ] || { echo "cgrt.sh: no round trips counted" >&2; exit 1; }
echo "$(basename "$BIN") rr $SIZE: $(( (i1 - i0) / (r1 - r0) )) instructions per round trip ($r1 - $r0 round trips)"
