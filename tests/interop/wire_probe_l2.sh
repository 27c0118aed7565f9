#!/usr/bin/env bash
# ARP and UDP frames from the wire, and hostile HTTP clients, at one
# `oasis serve` process (wire_probe_l2.py: poisoning, conflicts, malformed
# and flooded ARP; UDP checksums, lengths, broadcasts and the port
# unreachable's rate limit; HTTP heads past the limits, pipelining, bare
# LF, half-close, resets, trickled heads and stalled bodies), checked in
# Oasis's replies and counters; then curl against the same process, which
# must still answer and shut down cleanly.
# Args: OASIS_BIN
TEST_NAME=interop_wire_probe_l2
NS_TAG=${NS_TAG:-probel2}
source "$(dirname "$0")/lib.sh"
need curl

PROBE_IP=10.77.0.66
METRICS_PORT=9100

setup_ns 1500
# Short timeouts so the trickled head and the stalled body end quickly.
start_serve --quiet --prometheus "$METRICS_PORT" --header-timeout 2 --idle-timeout http=3

alive() {
    kill -0 "$SERVE_PID" 2>/dev/null && return 0
    head -n 60 "$TMP/serve.log"
    fail "oasis serve died ($1)"
}

# 1. The probe. Its exit status is the number of failed check groups.
# wire_probe_l2.py imports wire_probe.py, which reads the first four arguments.
rc=0
ns timeout 120 python3 "$HERE/wire_probe_l2.py" "$TAP" "$OASIS_IP" "$PROBE_IP" "$METRICS_PORT" \
    >"$TMP/probe.log" 2>&1 || rc=$?
sed 's/^/  /' "$TMP/probe.log"
alive "after the probe"
[ "$rc" -eq 0 ] || fail "$rc check group(s) of the probe failed (see above)"
pass "probe: $(grep -c '^ok:' "$TMP/probe.log") checks passed"

# 2. An ordinary client still gets a correct answer from the same process.
want=$(pattern_sha 100000)
got=$(ns curl -sS --max-time 10 "http://$OASIS_IP/bytes/100000" | sha256sum | cut -d' ' -f1) ||
    fail "curl after the probe failed"
expect_eq "$got" "$want" "curl after the probe: 100000 bytes, SHA-256 as expected"
alive "after curl"

stop_pid "$SERVE_PID" "oasis serve"
