#!/usr/bin/env bash
# `oasis iperf -c -P 128` against Debian's `iperf3 -s`: 128 flows sending
# at once keep every TAP batch full (each batch of ACKs frees more data),
# which once held one loop step for seconds: iperf's tick, the loop's done
# and timeout starved, the test ran 45 s instead of 2 and the control
# connection broke. The loop's drain now stops after 16 batches
# (src/core/loop.c, LOOP_DRAIN_BATCHES) and the next wait takes up the
# rest. Checked without timing anything: the run completes (exit 0, a
# sender summary), no wakeup read more than 16 batches of 64 frames, and
# drains were cut short (the flood this test is about did happen).
TEST_NAME=interop_iperf_many
NS_TAG=iperfmany
source "$(dirname "$0")/lib.sh"
need iperf3

setup_ns 1500
bg srv iperf3 -s -1 -B "$LINUX_IP"
wait_port 5201
oasis_run cli 180 iperf -c "$LINUX_IP" -P 128 -t 2 --batch 64
[ "$RC" -eq 0 ] || fail "oasis iperf -c -P 128 exited $RC: $(tail -n 3 "$TMP/cli.log")"
grep -Eq '^\[SUM\].*sender' "$TMP/cli.log" || fail "no sender summary"
pass "128 streams: $(grep -E '^\[SUM\].*sender' "$TMP/cli.log" | tail -n 1)"
line=$(grep -m1 "oasis iperf: TAP:" "$TMP/cli.log") || fail "no TAP counts line"
log "$line"
read -r longest cut < <(sed -E 's/.*longest drain ([0-9]+) frames, ([0-9]+) drains cut short/\1 \2/' <<<"$line")
[ "$longest" -le 1024 ] || fail "one wakeup read $longest frames (--batch 64: the bound is 16 x 64)"
[ "$cut" -gt 0 ] || fail "no drain was cut short: the flood this test needs did not happen"
pass "longest drain $longest frames, $cut drains cut short"
