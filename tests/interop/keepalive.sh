#!/usr/bin/env bash
# Keepalive: Linux answers Oasis's probes while it is there; once the Linux
# peer vanishes (its address removed: packets to it are dropped, no RST),
# Oasis declares the idle flow dead with the contract's errors.
TEST_NAME=interop_keepalive
source "$(dirname "$0")/lib.sh"
need socat

setup_ns 1500
# A Linux peer that never writes: TCP -> /dev/null.
bg server socat -u TCP-LISTEN:6002,reuseaddr OPEN:/dev/null
wait_port 6002

bg nc "$OASIS" nc -d --keepalive 1,1,3 --tap "$TAP" --addr "$OASIS_IP/24" "$LINUX_IP" 6002
NC_PID=$BG_PID
wait_for "$TMP/nc.log" "connected" 10
pass "Oasis connected with keepalive 1 s, 1 s, 3 probes"

# Idle for 4 s: with unanswered probes the flow would be dead by now.
sleep 4
kill -0 "$NC_PID" 2>/dev/null || fail "the flow died while Linux answered the probes"
pass "flow alive after 4 idle seconds (probes answered)"

ns ip addr del "$LINUX_IP/24" dev "$TAP"
log "Linux's address removed: the peer is gone"
for ((i = 0; i < 200; i++)); do kill -0 "$NC_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$NC_PID" 2>/dev/null && fail "flow not declared dead 20 s after the peer vanished"
RC=0
wait "$NC_PID" || RC=$?
expect_eq "$RC" "5" "oasis nc's exit status (keepalive death)"
grep -q "flow died: .*(OASIS_ETIMEDOUT); read reported OASIS_EOF" "$TMP/nc.log" ||
    fail "oasis nc did not report OASIS_ETIMEDOUT with a read at OASIS_EOF"
pass "keepalive reported OASIS_ETIMEDOUT, read saw OASIS_EOF"
