#!/usr/bin/env bash
# The IPv6 side of the MIB counters (RFC 4293 ipSystemStatsTable for ipv6,
# icmpStatsTable and icmpMsgStatsTable for ICMPv6, RFC 4022 TCP-MIB and
# RFC 4113 UDP-MIB over IPv6) of `oasis serve`, against what a packet
# socket on the TAP saw go in and out (mib_probe6.py).
# Args: OASIS_BIN
TEST_NAME=interop_mib_probe6
NS_TAG=m6x
source "$(dirname "$0")/lib.sh"

PROBE_IP=10.77.0.66
METRICS_PORT=9100
O6=2001:db8:77::2

# No IPv6 on the kernel's side of the TAP: every IPv6 frame there is the
# probe's or Oasis's.
setup_ns 1500
start_serve6 "$O6/64" --quiet --prometheus "$METRICS_PORT"

# mib_probe6.py imports mib_probe.py and wire_probe6.py (wire_probe.py reads
# the first four arguments).
run_probe mib_probe6.py "after the MIB probe over IPv6" "$TAP" "$OASIS_IP" "$PROBE_IP" \
    "$METRICS_PORT" "$O6" "$OASIS_LL"
stop_pid "$SERVE_PID" "oasis serve"
