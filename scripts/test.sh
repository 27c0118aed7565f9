#!/usr/bin/env bash
# The whole test run: installs dependencies, builds Oasis twice (plain, and
# with AddressSanitizer + UndefinedBehaviorSanitizer), and runs every test in
# both builds with ctest. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

# Tests labelled "waits" spend minutes idle on a server's clock (a DHCP
# lease running out): they run beside the others rather than in one of the
# $jobs slots, their output printed after.
run() { # build-dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOASIS_BUILD_TESTS=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  (cd "$dir" && ctest --output-on-failure -L '^waits$' >waits.log 2>&1) &
  local waits=$! rc=0 wrc=0
  (cd "$dir" && ctest --output-on-failure -j"$jobs" -LE '^waits$') || rc=$?
  wait "$waits" || wrc=$?
  echo "-- tests that wait (label waits), run beside the others:"
  cat "$dir/waits.log"
  [ "$rc" = 0 ] && [ "$wrc" = 0 ]
}

echo "== plain build =="
run build
echo "== ASan + UBSan build =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run build-asan -DOASIS_SANITIZE=ON -DOASIS_ALLOC_FAIL=ON
echo "== clang build: libFuzzer targets, bounded time, ASan+UBSan =="
CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-clang -j"$jobs"
(cd build-clang && ctest --output-on-failure -j"$jobs" -R '^fuzz_')
