#!/usr/bin/env bash
# Floods of hostile frames from the wire at one `oasis serve` process
# (hostile_floods.py: out-of-order 1-byte segments, fragments that never
# complete, SYNs, completed handshakes that stay silent, sequence numbers
# wrapping): the state each leaves stays bounded, every flow is given back,
# and curl still gets correct bytes; the server shuts down cleanly.
# Args: OASIS_BIN
TEST_NAME=interop_hostile_floods
NS_TAG=flood
source "$(dirname "$0")/lib.sh"
need curl

setup_ns 1500
start_serve --quiet --prometheus 9100 --max-conns 512
run_probe hostile_floods.py "after the floods" "$TAP" "$OASIS_IP" 10.77.0.66 9100
curl_after_probe "http://$OASIS_IP/bytes/100000"
stop_pid "$SERVE_PID" "oasis serve"
