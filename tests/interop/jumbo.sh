#!/usr/bin/env bash
# The largest MTU: Oasis asked for 65535 gets the TAP maximum (65521) and
# says so; ping and a download work with frames that size.
TEST_NAME=interop_mtu_max
source "$(dirname "$0")/lib.sh"
SIZE=${2:-67108864}
need ping curl

setup_ns 65521
start_serve --mtu 65535
grep -q "mtu 65521" "$TMP/serve.log" || fail "serve does not run at MTU 65521"
grep -q "note: MTU 65521" "$TMP/serve.log" || fail "no note about the lowered MTU"
pass "MTU 65535 lowered to the TAP maximum with a note"
expect_eq "$(ns cat /sys/class/net/$TAP/mtu)" "65521" "device MTU"

ns ping -c 2 -i 0.2 -W 2 -s 65000 "$OASIS_IP" >"$TMP/ping.log" 2>&1 ||
    fail "Linux cannot ping Oasis with 65000-byte payloads"
pass "65000-byte pings in one frame"
got=$(ns curl -sS --fail --max-time 600 "http://$OASIS_IP/bytes/$SIZE" | sha256sum | cut -d' ' -f1)
expect_eq "$got" "$(pattern_sha "$SIZE")" "curl of $SIZE bytes at MTU 65521"
stop_pid "$SERVE_PID" "oasis serve"
