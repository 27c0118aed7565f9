#!/usr/bin/env bash
# Long fuzzing runs (hours) with the libFuzzer targets of a clang build.
#
#   tests/fuzz/run_long.sh [options]
#
#   --build=DIR      clang build directory with the fuzz_* binaries
#                    (default: build-fuzz next to the source tree; configured
#                    and built first if it does not exist)
#   --hours=H        total wall-clock time, shared by the targets (default 2)
#   --seconds=S      the same in seconds (overrides --hours)
#   --jobs=J         parallel fuzzing processes per target (libFuzzer -fork;
#                    default: nproc)
#   --targets="..."  which targets, as tcp or fuzz_tcp (default: every fuzz_*
#                    binary found)
#   --corpus=DIR     where the growing corpora live, one subdirectory per
#                    target (default: BUILD/tests/fuzz/long); keep it between
#                    runs so that each run starts where the last one stopped
#   --merge          at the end, minimise each corpus into DIR/<target>.min
#
# Time is shared by weight: the whole-stack target gets 4 shares, tcp 2,
# every other target 1. Crashes, hangs (over 10 s per input) and inputs that
# take over 2 GiB are saved under CORPUS/artifacts/<target>/ and fuzzing goes
# on; the script lists them at the end and exits 1 if there are any.
# Reproduce one with:  BUILD/tests/fuzz/fuzz_<target> <artifact file>
# (or the gcc-friendly driver: BUILD/tests/fuzz/fuzz_<target>_run --iterations=0 <file>).
# Worth keeping inputs (new coverage) can be copied into
# tests/fuzz/corpus/<target>/ as seeds; keep that directory small.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build="" seconds=$((2 * 3600)) jobs=$(nproc 2>/dev/null || echo 2) targets="" corpus="" merge=0
while [ $# -gt 0 ]; do
  case $1 in
    --build=*) build=${1#*=} ;;
    --hours=*) seconds=$(awk -v h="${1#*=}" 'BEGIN { printf "%d", h * 3600 }') ;;
    --seconds=*) seconds=${1#*=} ;;
    --jobs=*) jobs=${1#*=} ;;
    --targets=*) targets=${1#*=} ;;
    --corpus=*) corpus=${1#*=} ;;
    --merge) merge=1 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "run_long.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "$build" ]; then
  build="$src/../build-fuzz"
  if [ ! -d "$build" ]; then
    CC=clang cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOASIS_WERROR=OFF || exit 2
  fi
  cmake --build "$build" -j "$jobs" || exit 2
fi
bin="$build/tests/fuzz"
corpus=${corpus:-$bin/long}
if [ -z "$targets" ]; then
  for f in "$bin"/fuzz_*; do
    case $f in *_run) continue ;; esac
    [ -x "$f" ] && targets="$targets ${f##*/fuzz_}"
  done
fi
[ -n "$targets" ] || { echo "run_long.sh: no libFuzzer binaries in $bin (clang build?)" >&2; exit 2; }
# Names as the binaries' (fuzz_tcp) or short (tcp); one that names no
# binary stops the run, instead of fuzzing nothing and reporting no crash.
named=""
for t in $targets; do
  t=${t#fuzz_}
  [ -x "$bin/fuzz_$t" ] || { echo "run_long.sh: no target $t ($bin/fuzz_$t)" >&2; exit 2; }
  named="$named $t"
done
targets=$named

weight() { case $1 in stack) echo 4 ;; tcp) echo 2 ;; *) echo 1 ;; esac; }
total=0
for t in $targets; do total=$((total + $(weight "$t"))); done

for t in $targets; do
  secs=$((seconds * $(weight "$t") / total))
  [ "$secs" -ge 10 ] || secs=10
  mkdir -p "$corpus/$t" "$corpus/artifacts/$t"
  echo "== fuzz_$t: ${secs}s, $jobs jobs, corpus $corpus/$t"
  "$bin/fuzz_$t" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -artifact_prefix="$corpus/artifacts/$t/" -print_final_stats=1 \
    "$corpus/$t" "$here/corpus/$t" 2>&1 | grep -E "^#|INFO: fuzzed|crash|ERROR|SUMMARY" | tail -5
  if [ "$merge" -eq 1 ]; then
    rm -rf "$corpus/$t.min" && mkdir -p "$corpus/$t.min"
    "$bin/fuzz_$t" -merge=1 "$corpus/$t.min" "$corpus/$t" >/dev/null 2>&1
    echo "   minimised: $(ls "$corpus/$t.min" | wc -l) inputs in $corpus/$t.min"
  fi
done

found=$(find "$corpus/artifacts" -type f | wc -l)
if [ "$found" -gt 0 ]; then
  echo "== $found artifact(s):"
  find "$corpus/artifacts" -type f | sort
  exit 1
fi
echo "== no crash, hang or out-of-memory input found"
