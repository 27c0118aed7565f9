#!/usr/bin/env bash
# DHCP against dnsmasq (issue 15): dnsmasq, started by this test in the
# namespace, hands `oasis serve` (no --addr: DHCP is the default) a lease;
# Oasis renews it at T1 (unicast), then dnsmasq is stopped and Oasis renews
# in vain, rebinds at T2 (broadcast) and drops the address when the lease
# runs out (RFC 2131 4.4.5), then starts over with a DISCOVER.
#
# Lease time: dnsmasq refuses leases under 120 s (dhcp-range and the
# client's requested time are both raised to 2 minutes), so the lease is
# 120 s, with T1 10 s and T2 20 s given as options 58/59. The test takes
# about 2.5 minutes: bind, renew at 10 s, stop dnsmasq, expiry 120 s after
# the renewal. Instants are judged on the stack's own clock, which serve
# prints with each lease ("requested at S s, ends at E s") and with the
# expiry ("expired at X s (it ended at E s)"): never on the test's clock,
# which a loaded machine stretches.
TEST_NAME=interop_dhcp
NS_TAG=${NS_TAG:-dhcp15}
source "$(dirname "$0")/lib.sh"

need dnsmasq ping
setup_ns 1500
ns ip link set lo up

LEASES=$TMP/leases
bg dnsmasq dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface="$TAP" \
    --bind-interfaces --except-interface=lo --user=root --group=root --no-ping \
    --dhcp-range=10.77.0.50,10.77.0.99,255.255.255.0,2m \
    --dhcp-option=58,10 --dhcp-option=59,20 --dhcp-option=6,10.77.0.1 \
    --dhcp-leasefile="$LEASES" --log-dhcp --log-facility=- --pid-file=
DNSMASQ_PID=$BG_PID
wait_for "$TMP/dnsmasq.log" "DHCP, IP range 10.77.0.50" 10
pass "dnsmasq started (pid $DNSMASQ_PID)"

bg sniff python3 "$HERE/dhcp_sniff.py" "$TAP"
wait_for "$TMP/sniff.log" "^listening on $TAP" 10

start_serve_dhcp
grep -q "bound $ADDR/24 gateway 10.77.0.1 server 10.77.0.1 lease 120s (T1 10s, T2 20s) dns 10.77.0.1" \
    <<<"$BOUND" || fail "lease details: $BOUND"
pass "lease $ADDR/24 for 120 s with T1 10 s, T2 20 s, gateway and DNS server"
# stack_times LINE: "REQUESTED ENDS" in seconds on the stack's clock.
stack_times() {
    sed -nE 's/.*; requested at ([0-9.]+) s, ends at ([0-9.]+) s$/\1 \2/p' <<<"$1"
}
# secs_ok EXPR: a comparison of seconds (printed to the millisecond), in Python.
secs_ok() { python3 -c "import sys; sys.exit(0 if $1 else 1)"; }
read -r REQ_B END_B <<<"$(stack_times "$BOUND")"
[ -n "$END_B" ] || fail "no stack instants in: $BOUND"
secs_ok "round($END_B - $REQ_B, 3) == 120" ||
    fail "the lease ends at $END_B s, not 120 s after its REQUEST at $REQ_B s"
pass "the lease ends 120 s after the REQUEST that got it (stack clock $REQ_B -> $END_B s)"
grep -q "ready on $TAP, $ADDR/24" "$TMP/serve.log" || fail "serve did not report the leased address"
grep -Eq "^[0-9.]+ DISCOVER bcast 0.0.0.0 255.255.255.255 ciaddr=0.0.0.0" "$TMP/sniff.log" ||
    fail "no DISCOVER from 0.0.0.0 to 255.255.255.255"
grep -Eq "^[0-9.]+ REQUEST bcast 0.0.0.0 255.255.255.255 ciaddr=0.0.0.0" "$TMP/sniff.log" ||
    fail "no REQUEST from 0.0.0.0"
pass "DISCOVER and REQUEST from 0.0.0.0 to 255.255.255.255"
ns ping -c 1 -W 2 "$ADDR" >/dev/null || fail "the leased address does not answer ping"
pass "Oasis answers on $ADDR"
grep -q " $ADDR " "$LEASES" || fail "no lease for $ADDR in dnsmasq's lease file"
EXP1=$(awk -v a="$ADDR" '$3 == a {print $1}' "$LEASES")

# Renewal at T1: unicast REQUEST with ciaddr, ACKed by dnsmasq.
wait_for "$TMP/serve.log" "dhcp: renewed $ADDR/24" 20
grep -Eq "^[0-9.]+ REQUEST ucast $ADDR 10.77.0.1 ciaddr=$ADDR" "$TMP/sniff.log" ||
    fail "the renewal was not a unicast REQUEST to the server"
[ "$(grep -c "DHCPACK($TAP) $ADDR" "$TMP/dnsmasq.log")" -ge 2 ] || fail "dnsmasq did not ACK twice"
for _ in $(seq 20); do
    EXP2=$(awk -v a="$ADDR" '$3 == a {print $1}' "$LEASES")
    [ "$EXP2" -gt "$EXP1" ] && break
    sleep 0.1
done
[ "$EXP2" -gt "$EXP1" ] || fail "the lease file's expiry did not move ($EXP1 -> $EXP2)"
pass "renewed at T1 by unicast; dnsmasq's lease now ends at $EXP2 (was $EXP1)"
line=$(grep -m1 "dhcp: renewed $ADDR/24" "$TMP/serve.log")
log "$line"
read -r REQ_R END_R <<<"$(stack_times "$line")"
[ -n "$END_R" ] || fail "no stack instants in: $line"
secs_ok "$REQ_R >= $REQ_B + 10" || fail "renewal REQUEST at $REQ_R s, before T1 ($REQ_B + 10 s)"
secs_ok "round($END_R - $REQ_R, 3) == 120" ||
    fail "the renewed lease ends at $END_R s, not 120 s after its REQUEST at $REQ_R s"
pass "renewal REQUEST at T1 or later ($REQ_R s); the lease now ends at $END_R s"

# The server goes away.
kill -TERM "$DNSMASQ_PID"
wait "$DNSMASQ_PID" 2>/dev/null || true
pass "dnsmasq stopped"
nreq() { grep -Ec "^[0-9.]+ REQUEST $1 $ADDR $2 ciaddr=$ADDR" "$TMP/sniff.log" || true; }
U0=$(nreq ucast 10.77.0.1)
B0=$(nreq bcast 255.255.255.255)
# T1 (10 s after the renewal): RENEWING, unicast; T2 (20 s): REBINDING, broadcast.
for _ in $(seq 300); do
    [ "$(nreq bcast 255.255.255.255)" -gt "$B0" ] && break
    sleep 0.1
done
[ "$(nreq ucast 10.77.0.1)" -gt "$U0" ] || fail "no unicast REQUEST after T1 without a server"
[ "$(nreq bcast 255.255.255.255)" -gt "$B0" ] || fail "no broadcast REQUEST (REBINDING) after T2"
pass "without a server: RENEWING (unicast) then REBINDING (broadcast, ciaddr $ADDR)"
grep -q "expired" "$TMP/serve.log" && fail "expired before the lease time"

# Expiry: 120 s after the renewal's REQUEST, on the stack's clock. The wait
# is only a bound on a hung run: about 100 s are left of the lease here.
wait_for "$TMP/serve.log" "dhcp: lease of $ADDR expired at .*: address removed" 300
line=$(grep -m1 "dhcp: lease of $ADDR expired" "$TMP/serve.log")
log "$line"
read -r AT_X END_X <<<"$(sed -nE 's/.* expired at ([0-9.]+) s \(it ended at ([0-9.]+) s\).*/\1 \2/p' <<<"$line")"
[ -n "$END_X" ] || fail "no stack instants in: $line"
[ "$END_X" = "$END_R" ] ||
    fail "the lease that ran out ended at $END_X s, the renewed one at $END_R s"
secs_ok "$AT_X >= $END_X" || fail "removed at $AT_X s, before the lease's end at $END_X s"
pass "the renewed lease expired at $AT_X s, not before its end at $END_X s: address removed"
wait_for "$TMP/sniff.log" "DISCOVER bcast 0.0.0.0 255.255.255.255" 5
n=$(grep -c "DISCOVER bcast 0.0.0.0" "$TMP/sniff.log")
[ "$n" -ge 2 ] || fail "no new DISCOVER after the expiry"
pass "a new DISCOVER from 0.0.0.0 after the expiry"
ns ping -c 1 -W 1 "$ADDR" >/dev/null 2>&1 && fail "$ADDR still answers after the expiry"
pass "$ADDR no longer answers"
stop_pid "$SERVE_PID" "oasis serve"
