#!/usr/bin/env bash
# The MIB counters (RFC 4022 TCP-MIB, RFC 4293 IP-MIB and ICMP, RFC 4113
# UDP-MIB) and the Prometheus types of `oasis serve`, against what a
# packet socket on the TAP saw go in and out (mib_probe.py).
# Args: OASIS_BIN
TEST_NAME=interop_mib_probe
NS_TAG=mib
source "$(dirname "$0")/lib.sh"

PROBE_IP=10.77.0.66
METRICS_PORT=9100

setup_ns 1500
# The reporter makes Oasis a client of the probe's host: active opens.
start_serve --quiet --prometheus "$METRICS_PORT" --metrics-flows 64 \
    --influx "tcp://$PROBE_IP:8094" --influx-interval 3600000 --influx-backoff-max 2000 \
    --control "$OASIS_IP:7070"
run_probe mib_probe.py "after the MIB probe" "$TAP" "$OASIS_IP" "$PROBE_IP" "$METRICS_PORT"
stop_pid "$SERVE_PID" "oasis serve"
