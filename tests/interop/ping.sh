#!/usr/bin/env bash
# ARP and ICMP echo both ways between Linux and Oasis, small and fragmented.
TEST_NAME=interop_ping
source "$(dirname "$0")/lib.sh"
need ping
TAP_OPEN=${2:?usage: ping.sh OASIS_BIN TAP_OPEN_BIN}

setup_ns 1500
start_serve --http-port 0

# Linux -> Oasis: Linux must resolve Oasis's MAC by ARP first.
ns ping -c 3 -i 0.2 -W 2 "$OASIS_IP" >"$TMP/linux-ping.log" 2>&1 ||
    fail "Linux cannot ping Oasis"
grep -q " 0% packet loss" "$TMP/linux-ping.log" || fail "Linux ping lost packets"
pass "Linux pings Oasis (3/3 replies)"
mac=$(ns ip neigh show "$OASIS_IP" dev "$TAP" | awk '{print $3}')
expect_eq "$mac" "02:4f:0a:4d:00:02" "Linux's ARP entry for Oasis"

# Fragmented both ways: Oasis reassembles the request, fragments its reply.
ns ping -c 2 -i 0.2 -W 2 -s 8000 "$OASIS_IP" >"$TMP/linux-ping-big.log" 2>&1 ||
    fail "Linux cannot ping Oasis with 8000-byte payloads (fragmentation)"
pass "Linux pings Oasis with fragmented 8000-byte payloads"

# Oasis -> Linux (a second Oasis instance cannot share the TAP: stop serve).
stop_pid "$SERVE_PID" "oasis serve"
ns ip neigh flush dev "$TAP"
oasis_run oasis-ping 20 ping -c 3 -i 0.2 -W 2 "$LINUX_IP"
[ "$RC" -eq 0 ] || fail "Oasis cannot ping Linux (exit $RC)"
grep -q "3 received" "$TMP/oasis-ping.log" || fail "Oasis ping lost replies"
# (The kernel flushes the TAP's neighbours when Oasis exits, so Linux's
# side of this ARP exchange is seen through the replies only.)
pass "Oasis pings Linux (ARP from Oasis's side, 3/3 replies)"

# The first ARP request after the TAP is opened is answered: Linux starts
# the device's queue a moment after we attach, and drops what it sends to
# us until then, unless oasis_tap_open waits for the device to run.
ns "$TAP_OPEN" "$TAP" "$LINUX_IP" 12 >"$TMP/tap_open.log" 2>&1 ||
    fail "$(cat "$TMP/tap_open.log")"
pass "$(cat "$TMP/tap_open.log")"

oasis_run oasis-ping-big 20 ping -c 2 -i 0.2 -W 2 -s 8000 "$LINUX_IP"
[ "$RC" -eq 0 ] && grep -q "2 received" "$TMP/oasis-ping-big.log" ||
    fail "Oasis cannot ping Linux with 8000-byte payloads (exit $RC)"
pass "Oasis pings Linux with fragmented 8000-byte payloads"

# No answer: an address nobody has.
oasis_run oasis-ping-none 20 ping -c 1 -W 1 10.77.0.99
[ "$RC" -eq 1 ] || fail "ping to a missing host: exit $RC, want 1"
grep -q "OASIS_EUNREACH\|OASIS_ETIMEDOUT" "$TMP/oasis-ping-none.log" ||
    fail "ping to a missing host does not say why"
pass "ping to a missing host fails with $(grep -o 'OASIS_E[A-Z]*' "$TMP/oasis-ping-none.log" | head -1)"
