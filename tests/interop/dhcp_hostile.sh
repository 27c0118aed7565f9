#!/usr/bin/env bash
# A hostile DHCP server (dhcp_hostile.py) against `oasis serve`'s DHCP
# client on a real TAP: OFFERs with the wrong xid, chaddr or client
# identifier, or an option running past the datagram, are ignored; the
# overloaded OFFER (server identifier in 'sname', lease time in 'file',
# RFC 2132 9.3) is taken; an ACK with lease time 0 is not, the one with
# 0xffffffff (infinity) is; a NAK while BOUND is discarded (RFC 2131 4.4).
TEST_NAME=interop_dhcp_hostile
NS_TAG=${NS_TAG:-pdns}
source "$(dirname "$0")/lib.sh"
need ping

setup_ns 1500
OFFERED=10.77.0.60
bg hostile python3 "$HERE/dhcp_hostile.py" "$TAP" "$LINUX_IP" "$OFFERED"
wait_for "$TMP/hostile.log" "^ready" 10

start_serve_dhcp
[ "$ADDR" = "$OFFERED" ] || fail "bound to $ADDR, not $OFFERED"
grep -q "server $LINUX_IP lease 4294967295s" <<<"$BOUND" ||
    fail "not bound by the infinite lease: $BOUND"
pass "bad OFFERs and the lease-0 ACK ignored; the overloaded OFFER and the infinite ACK taken"
grep -q "server 0a4d0001" "$TMP/hostile.log" || fail "the REQUEST did not name the server from 'sname'"
pass "the REQUEST names the server identifier read from 'sname' (the bad OFFERs name 10.77.0.9)"
[ "$(grep -c '^discover' "$TMP/hostile.log")" -eq 1 ] || fail "more than one DISCOVER"
[ "$(grep -c '^request' "$TMP/hostile.log")" -eq 1 ] || fail "more than one REQUEST"
pass "one DISCOVER, one REQUEST"

wait_for "$TMP/hostile.log" "^nak sent while bound" 30
sleep 1
grep -q "dhcp: NAK" "$TMP/serve.log" && fail "a NAK while BOUND was acted on"
ns ping -c 1 -W 2 "$ADDR" >/dev/null || fail "$ADDR does not answer ping after the NAK"
pass "NAK while BOUND discarded: $ADDR still answers"
serve_alive "after the hostile DHCP exchange"
stop_pid "$SERVE_PID" "oasis serve"
