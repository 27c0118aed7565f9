#!/usr/bin/env bash
# Allocation-failure driver for an OASIS_ALLOC_FAIL build (docs/hardening.md).
#
#   alloc_fail.sh [options] PROGRAM [ARGS...]
#   alloc_fail.sh [options] --suite=BUILD_DIR      every BUILD_DIR/tests/test_*
#
# For each program: one run with OASIS_ALLOC_FAIL_N=0 counts its allocations
# (OASIS_ALLOC_COUNT_FILE), then one run per n in 1..count with allocation n
# failing. A run is BAD when the process
#   - died of a signal (exit status >= 128) or hung (--timeout, 124),
#   - printed a sanitizer report (AddressSanitizer, UndefinedBehaviorSanitizer
#     "runtime error:"), or cmocka caught a signal ("Test failed with
#     exception"),
#   - leaked (LeakSanitizer), except in a cmocka program whose tests failed:
#     cmocka skips the rest of a test after a failed assertion, teardown
#     included, so its fixtures leak by design. --strict counts every leak
#     (for programs that clean up on every path, like alloc_fail_stack).
# A test that FAILS its assertions is fine: a failed allocation is expected to
# surface as an error, and cmocka reports it as a failure with a normal exit.
#
# Options:
#   --strict         every leak report is BAD
#   --max=N          at most N runs per program (default 400): n = 1..N/2,
#                    then N/2 values of n spread evenly over the rest
#   --persistent     every allocation from n on fails (OASIS_ALLOC_FAIL_PERSIST)
#   --timeout=S      seconds per run (default 120)
#   --jobs=J         runs in parallel (default: nproc)
#   --logs=DIR       where the output of BAD runs goes (default ./alloc_fail_logs)
# Exit status: 0 if no run was BAD, 1 otherwise, 2 on usage errors.
set -u

strict=0 max=400 persistent=0 timeout_s=120 jobs=$(nproc 2>/dev/null || echo 2)
logs=./alloc_fail_logs suite=""
while [ $# -gt 0 ]; do
  case $1 in
    --strict) strict=1 ;;
    --persistent) persistent=1 ;;
    --max=*) max=${1#*=} ;;
    --timeout=*) timeout_s=${1#*=} ;;
    --jobs=*) jobs=${1#*=} ;;
    --logs=*) logs=${1#*=} ;;
    --suite=*) suite=${1#*=} ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    --) shift; break ;;
    -*) echo "alloc_fail.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
here=$(cd "$(dirname "$0")" && pwd)
export OASIS_SOURCE_DIR=${OASIS_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
# Sanitizer reports go to the captured output and leaks are looked for at
# exit; these settings come last so they win over the caller's.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
mkdir -p "$logs" || exit 2
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# classify N OUTPUT_FILE STATUS -> prints OK / BAD:reason
classify() {
  local out=$2 st=$3
  if [ "$st" -eq 124 ]; then echo "BAD:hang"; return; fi
  if [ "$st" -ge 128 ]; then echo "BAD:signal $((st - 128))"; return; fi
  if grep -q -e "ERROR: AddressSanitizer" -e "runtime error:" -e "Test failed with exception" \
       -e "AddressSanitizer:DEADLYSIGNAL" "$out"; then
    echo "BAD:sanitizer"; return
  fi
  if grep -q "ERROR: LeakSanitizer" "$out"; then
    if [ "$strict" -eq 1 ] || ! grep -q -e "\[  FAILED  \]" -e "\[  ERROR   \]" "$out"; then
      echo "BAD:leak"; return
    fi
  fi
  echo OK
}

# run_n NAME N PROGRAM ARGS... : one run with allocation N failing
run_n() {
  local name=$1 n=$2; shift 2
  local out="$tmp/$name.$n.out" st
  OASIS_ALLOC_FAIL_N=$n OASIS_ALLOC_FAIL_PERSIST=$persistent \
    timeout "$timeout_s" "$@" >"$out" 2>&1
  st=$?
  local verdict
  verdict=$(classify "$n" "$out" "$st")
  if [ "$verdict" != OK ]; then
    cp "$out" "$logs/$name.n$n.log"
    echo "$verdict n=$n exit=$st (replay: OASIS_ALLOC_FAIL_N=$n OASIS_ALLOC_FAIL_PERSIST=$persistent $*; log: $logs/$name.n$n.log)" >"$tmp/$name.$n.bad"
  fi
  rm -f "$out"
}

# The values of n to try for a program that made `count` allocations.
pick_ns() {
  local count=$1
  if [ "$count" -le "$max" ]; then seq 1 "$count"; return; fi
  local head=$((max / 2)) rest=$((max - max / 2))
  seq 1 "$head"
  awk -v a="$head" -v b="$count" -v k="$rest" \
    'BEGIN { for (i = 1; i <= k; i++) printf "%d\n", a + int((b - a) * i / k) }' | uniq
}

# check_program PROGRAM ARGS... ; returns 1 if any run was BAD
check_program() {
  local name countfile count
  name=$(basename "$1")
  countfile="$tmp/$name.count"
  OASIS_ALLOC_FAIL_N=0 OASIS_ALLOC_COUNT_FILE=$countfile timeout "$timeout_s" "$@" \
    >"$tmp/$name.clean" 2>&1
  local st=$?
  if [ "$st" -eq 124 ]; then
    echo "$name: the clean run timed out after ${timeout_s}s (raise --timeout)" >&2
    return 1
  fi
  if [ ! -s "$countfile" ]; then
    if [ "$st" -eq 0 ]; then
      # mem.c is not linked in, or nothing reached the default allocator
      # (the program brings its own): nothing to inject.
      echo "$name: no allocation through the default allocator; skipped"
      return 0
    fi
    echo "$name: the clean run failed (exit $st) and wrote no count; is this an OASIS_ALLOC_FAIL build?" >&2
    return 1
  fi
  count=$(cat "$countfile")
  local running=0
  for n in $(pick_ns "$count"); do
    run_n "$name" "$n" "$@" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
  done
  wait
  local bad
  bad=$(cat "$tmp/$name".*.bad 2>/dev/null | wc -l)
  local ran
  ran=$(pick_ns "$count" | wc -l)
  echo "$name: $count allocations, $ran runs with one failing, $bad bad (clean run exit $st)"
  if [ "$bad" -gt 0 ]; then
    sort -t= -k2 -n "$tmp/$name".*.bad | head -20
    return 1
  fi
  return 0
}

rc=0
if [ -n "$suite" ]; then
  found=0
  for t in "$suite"/tests/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    found=1
    check_program "$t" || rc=1
  done
  [ "$found" -eq 1 ] || { echo "alloc_fail.sh: no test programs in $suite/tests" >&2; exit 2; }
else
  [ $# -ge 1 ] || { echo "usage: alloc_fail.sh [options] PROGRAM [ARGS...] | --suite=BUILD_DIR" >&2; exit 2; }
  check_program "$@" || rc=1
fi
exit $rc
