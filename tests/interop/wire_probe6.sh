#!/usr/bin/env bash
# Hostile and unusual IPv6 frames from the wire at one `oasis serve`
# process (wire_probe6.py: Neighbour Discovery, router advertisements,
# extension headers, fragments, ICMPv6 errors, TCP over IPv6, from a host
# of its own on the TAP's link), checked against the RFCs in Oasis's
# replies and counters; then curl over IPv6 against the same process, which
# must still answer correctly and shut down cleanly.
# Args: OASIS_BIN
TEST_NAME=interop_wire_probe6
NS_TAG=probe8
source "$(dirname "$0")/lib.sh"
need curl

PROBE_IP=10.77.0.66
METRICS_PORT=9100
L6=2001:db8:77::1
O6=2001:db8:77::2

setup_ns 1500
# The final curl wants IPv6 on the TAP; the probe's forged RAs are not for Linux.
ns sysctl -qw net.ipv6.conf.$TAP.accept_ra=0
tap_ipv6 "$L6/64"
start_serve6 "$O6/64" --quiet --prometheus "$METRICS_PORT"

# 1. The probe (wire_probe6.py imports wire_probe.py, which reads its
# first four arguments), 2. an ordinary client over IPv6.
run_probe wire_probe6.py "after the hostile frames" "$TAP" "$OASIS_IP" "$PROBE_IP" \
    "$METRICS_PORT" "$O6" "$OASIS_LL"
curl_after_probe "http://[$O6]/bytes/100000" -6

stop_pid "$SERVE_PID" "oasis serve"
