#!/usr/bin/env bash
# DHCP Rapid Commit (RFC 4039) against dnsmasq --dhcp-rapid-commit: with
# --dhcp-rapid-commit, `oasis serve` gets its lease from a DISCOVER and an
# ACK alone (no OFFER, no REQUEST on the wire nor in dnsmasq's log), the
# address probed and then answering ping; without the flag, the same server
# goes through the four messages (the client asks for it, not the server).
# Apart from dhcp.sh (whose checks count every DISCOVER and ACK of its
# run) and short: about 10 s, two leases and their RFC 5227 probes.
TEST_NAME=interop_dhcp_rapid
NS_TAG=${NS_TAG:-rapid}
source "$(dirname "$0")/lib.sh"

need dnsmasq ping
setup_ns 1500

bg dnsmasq dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface="$TAP" \
    --bind-interfaces --except-interface=lo --user=root --group=root --no-ping \
    --dhcp-range=10.77.0.50,10.77.0.99,255.255.255.0,2m --dhcp-rapid-commit \
    --dhcp-leasefile="$TMP/leases" --log-dhcp --log-facility=- --pid-file=
wait_for "$TMP/dnsmasq.log" "DHCP, IP range 10.77.0.50" 10
pass "dnsmasq started with --dhcp-rapid-commit"

bg sniff python3 "$HERE/dhcp_sniff.py" "$TAP"
wait_for "$TMP/sniff.log" "^listening on $TAP" 10

# With the flag: DISCOVER (option 80, length 0) answered by the lease.
start_serve_dhcp --dhcp-rapid-commit
grep -q "bound (rapid commit) $ADDR/24 gateway 10.77.0.1 server 10.77.0.1 lease 120s" <<<"$BOUND" ||
    fail "lease details: $BOUND"
pass "lease $ADDR/24 for 120 s, by Rapid Commit (the bound line says so)"
grep -Eq "^[0-9.]+ DISCOVER bcast 0.0.0.0 255.255.255.255 ciaddr=0.0.0.0 xid=[0-9a-f]+ rapid-commit$" \
    "$TMP/sniff.log" || fail "no DISCOVER with a Rapid Commit option of length 0"
grep -q " REQUEST " "$TMP/sniff.log" && fail "a REQUEST was sent: $(grep -m1 ' REQUEST ' "$TMP/sniff.log")"
pass "DISCOVER with Rapid Commit (length 0), no REQUEST on the wire"
grep -q "DHCPACK($TAP) $ADDR" "$TMP/dnsmasq.log" || fail "dnsmasq did not ACK $ADDR"
grep -Eq "sent size: *0 option: *80 " "$TMP/dnsmasq.log" ||
    fail "dnsmasq's ACK carried no Rapid Commit option"
grep -q "DHCPREQUEST" "$TMP/dnsmasq.log" && fail "dnsmasq saw a DHCPREQUEST"
grep -q "DHCPOFFER" "$TMP/dnsmasq.log" && fail "dnsmasq sent a DHCPOFFER"
pass "dnsmasq: DHCPDISCOVER then DHCPACK with option 80, without DHCPOFFER or DHCPREQUEST"
ns ping -c 1 -W 2 "$ADDR" >/dev/null || fail "the leased address does not answer ping"
pass "Oasis answers on $ADDR"
stop_pid "$SERVE_PID" "oasis serve"

# Without the flag, the same server: no option 80, four messages.
n0=$(wc -l <"$TMP/sniff.log")
bg serve2 "$OASIS" serve --tap "$TAP" --http-port 0
SERVE_PID=$BG_PID
wait_for "$TMP/serve2.log" "dhcp: bound" 20
tail -n +"$((n0 + 1))" "$TMP/sniff.log" >"$TMP/sniff2.log"
grep -q "rapid-commit" "$TMP/sniff2.log" && fail "option 80 sent without --dhcp-rapid-commit"
grep -Eq "^[0-9.]+ DISCOVER " "$TMP/sniff2.log" || fail "no DISCOVER without the flag"
grep -Eq "^[0-9.]+ REQUEST bcast 0.0.0.0 " "$TMP/sniff2.log" || fail "no REQUEST without the flag"
grep -q "DHCPOFFER($TAP)" "$TMP/dnsmasq.log" || fail "dnsmasq sent no DHCPOFFER without the flag"
grep -q "dhcp: bound (rapid commit)" "$TMP/serve2.log" && fail "a four-message lease printed as rapid"
pass "without the flag: DISCOVER without option 80, OFFER, REQUEST, ACK"
stop_pid "$SERVE_PID" "oasis serve"
