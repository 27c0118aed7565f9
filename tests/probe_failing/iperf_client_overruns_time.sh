#!/usr/bin/env bash
# PROBE (failing): `oasis iperf -c HOST -t 3 -P N` against Linux's
# `iperf3 -s` sends for far longer than 3 s once N is large: measured on
# the 2-core CI-like machine, -P 16: 3.15 s; -P 64: 11.5 s (the client's own
# report says "[SUM] 0.00-11.55 sec ... sender", iperf3 -s logs intervals up
# to 11.5 s at rising rates, 10 GB moved); -P 100: 39.7 s; -P 128: 45 s
# and then "the peer closed the control connection unexpectedly" (iperf3
# -s: "select failed: Bad file descriptor"), exit 1.
# Reverse (-R -P 128 -t 3) ends on time, so only Oasis as the sender.
# Expected: the test ends about -t seconds after it starts (iperf3 itself
# does, as does `oasis iperf -c -P 16`); allowed here: 3 s + 5 s.
# Root cause (found with throw-away fprintfs, not committed): one call of
# src/core/loop.c tap_readable() ran 10.78 s and read 84,943 frames in its
# do-while; the gap between two tick() calls reached 9.8 s, although oasis_loop_run()
# is called with IPF_SLICE (50 ms) and written data sets `kick`. The loop
# never gets back to loop_run()'s done()/timeout checks: src/core/loop.c
# tap_readable() drains the TAP in `do { oasis_tap_input(.., l->batch);
# oasis_stack_poll(); } while (got == l->batch && !should_stop(l));`
# (loop.c:146-153) with no bound on frames or time. With 64+ flows sending
# at full speed, every batch of ACKs processed releases more data, whose
# ACKs fill the next batch, so the read is never short and the do-while
# runs for seconds; done(), the loop's timeout and every other watched fd
# (timerfds of the application) starve meanwhile. iperf's end_at is
# checked in tick(), so the test runs on until the drain happens to break.
# A bound on the drain (frames or a time budget per step, then back to
# loop_run) would fix it; tools/oasis/iperf.c's logic is right.
# Usage: bash iperf_client_overruns_time.sh /path/to/oasis   (exit 0: fixed, 1: bug)
TEST_NAME=probe_iperf_client_overruns_time
NS_TAG=pnet
source "$(dirname "$0")/../interop/lib.sh"
need iperf3

setup_ns 1500
bad=0
for n in 16 64; do
    bg "srv-$n" iperf3 -s -1 -B "$LINUX_IP"
    srv=$BG_PID
    wait_port 5201
    t0=$(date +%s%N)
    oasis_run "cli-$n" 120 iperf -c "$LINUX_IP" -P "$n" -t 3
    took=$((($(date +%s%N) - t0) / 1000000))
    wait "$srv" || true
    sum=$(grep -E '^\[SUM\].*sender' "$TMP/cli-$n.log" | tail -n 1)
    if [ "$RC" -eq 0 ] && [ "$took" -le 8000 ]; then
        pass "-P $n -t 3: done in $took ms ($sum)"
    else
        log "BUG: oasis iperf -c -P $n -t 3: exit $RC after $took ms; $sum"
        bad=1
    fi
done
[ "$bad" -eq 0 ] || fail "oasis iperf -c -t 3 overruns its time with many streams (see BUG lines)"
