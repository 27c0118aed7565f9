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

# 1. The probe (wire_probe_l2.py imports wire_probe.py, which reads the
# first four arguments), 2. an ordinary client from the same process.
run_probe wire_probe_l2.py "after the probe" "$TAP" "$OASIS_IP" "$PROBE_IP" "$METRICS_PORT"
curl_after_probe "http://$OASIS_IP/bytes/100000"

stop_pid "$SERVE_PID" "oasis serve"
