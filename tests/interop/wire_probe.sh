#!/usr/bin/env bash
# Hostile and unusual IPv4/TCP frames from the wire at one `oasis serve`
# process, checked against the RFCs in its replies and counters
# (wire_probe.py: raw frames from a host of its own on the TAP's link),
# then ordinary Linux clients against the same process: curl, and 200
# concurrent clients (ab -c 200 -n 4000). Every request must succeed and
# the server must still be alive and shut down cleanly.
# Args: OASIS_BIN
TEST_NAME=interop_wire_probe
NS_TAG=probe7
source "$(dirname "$0")/lib.sh"
need curl ab

PROBE_IP=10.77.0.66
METRICS_PORT=9100

setup_ns 1500
start_serve --quiet --prometheus "$METRICS_PORT" --max-conns 512
# A second link for Oasis as a client (oasis nc, started by the probe).
ns ip tuntap add dev oasis1 mode tap || fail "cannot create the second TAP device"
ns ip addr add 10.78.0.1/24 dev oasis1
ns ip link set oasis1 up
export CLIENT="oasis1,10.78.0.2,10.78.0.66,$OASIS"

# 1. The probe, 2. an ordinary client from the same process (lib.sh).
run_probe wire_probe.py "after the hostile frames" "$TAP" "$OASIS_IP" "$PROBE_IP" "$METRICS_PORT"
curl_after_probe "http://$OASIS_IP/bytes/100000"

# 3. Ordinary load: 200 concurrent clients, 4000 requests, none may fail.
ns ab -q -c 200 -n 4000 -s 20 "http://$OASIS_IP/bytes/1K" >"$TMP/ab.log" 2>&1 ||
    fail "ab failed: $(tail -n 3 "$TMP/ab.log")"
complete=$(awk '/^Complete requests:/ {print $3}' "$TMP/ab.log")
failed=$(awk '/^Failed requests:/ {print $3}' "$TMP/ab.log")
non2xx=$(awk '/^Non-2xx responses:/ {print $3}' "$TMP/ab.log")
expect_eq "$complete/${failed:-?}/${non2xx:-0}" "4000/0/0" \
    "ab -c 200 -n 4000: complete/failed/non-2xx (in $(awk '/^Time taken/ {print $5}' "$TMP/ab.log") s)"
serve_alive "after the load"
got=$(ns curl -sS --max-time 10 "http://$OASIS_IP/bytes/1K" | sha256sum | cut -d' ' -f1)
expect_eq "$got" "$(pattern_sha 1024)" "curl after the load"

stop_pid "$SERVE_PID" "oasis serve"
