#!/usr/bin/env bash
# A hostile DHCPv6 server (dhcp6_hostile.py) against `oasis serve
# --dhcp6=stateful` on a real TAP: Advertises with a wrong transaction-id,
# another Client ID, no Server ID, T1 > T2, preferred > valid lifetime or an
# IA_NA running past the message are ignored, though each says preference
# 255 (RFC 8415 16.3, 21.4, 21.6); Replies with a wrong transaction-id or no
# Server ID are ignored; a Reply to Renew without the IA_NA, or whose IA_NA
# holds no address, leaves the address (18.2.10.1) and the client Rebinds at
# T2; a Reconfigure (not supported) and an unasked Advertise are dropped.
TEST_NAME=interop_dhcp6_hostile
NS_TAG=${NS_TAG:-pd6}
source "$(dirname "$0")/lib.sh"

GOOD=2001:db8:66::100
BAD=2001:db8:66::bad
setup_ns 1500
tap_ipv6
bg hostile python3 "$HERE/dhcp6_hostile.py" "$TAP" "$GOOD" "$BAD"
wait_for "$TMP/hostile.log" "^ready" 10

start_serve --http-port 0 --dhcp6=stateful
wait_for "$TMP/serve.log" "dhcp6: bound " 15
grep -q "dhcp6: bound $GOOD/128" "$TMP/serve.log" ||
    fail "not bound to $GOOD: $(grep 'dhcp6: bound' "$TMP/serve.log")"
bad_req=$(grep '^request' "$TMP/hostile.log" | grep -v "addrs $GOOD\$" || true)
[ -z "$bad_req" ] || fail "a Request named what a bad Advertise offered: $bad_req"
pass "bad Advertises (preference 255 each) and bad Replies ignored; bound to $GOOD"

wait_for "$TMP/hostile.log" "^sent reply to renew ia_na without address" 15
wait_for "$TMP/hostile.log" "^rebind xid .* addrs $GOOD\$" 15
wait_for "$TMP/serve.log" "dhcp6: renewed $GOOD/128 preferred 1800s valid 3600s" 5
grep -q "expired" "$TMP/serve.log" && fail "the lease was dropped: $(grep expired "$TMP/serve.log")"
pass "Replies to Renew without our address left it; Rebind at T2 renewed it"

wait_for "$TMP/hostile.log" "^done" 5
sleep 1
[ "$(grep -c '^solicit' "$TMP/hostile.log")" -eq 1 ] || fail "more than one Solicit"
grep -q "expired\|declined" "$TMP/serve.log" && fail "the lease ended after the Reconfigure"
serve_alive "after the hostile DHCPv6 exchange"
pass "Reconfigure and an unasked Advertise dropped: one Solicit, the lease held"
stop_pid "$SERVE_PID" "oasis serve"
