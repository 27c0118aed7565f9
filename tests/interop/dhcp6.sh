#!/usr/bin/env bash
# DHCPv6 (RFC 8415) against dnsmasq, which sends the Router Advertisements
# too (enable-ra), in a namespace of its own (name with h22dhcp6):
#  1. stateless: `dhcp-range=...,ra-stateless` makes dnsmasq advertise
#     O=1, M=0; `oasis serve --dhcp6` (mode auto) sends an
#     Information-request and prints the DNS server (option 23), search
#     domain (24) and refresh time (32) of dnsmasq's Reply; a name is then
#     looked up through that server.
#  2. stateful: a dhcp-range of addresses makes dnsmasq advertise M=1;
#     Oasis solicits, requests, runs DAD on the leased address, and
#     dnsmasq's lease file holds it; the kernel side pings that address;
#     on exit Oasis sends a Release and dnsmasq drops the lease.
#  3. Rapid Commit: with --dhcp6-rapid-commit dnsmasq answers the Solicit
#     with the lease (Reply), no Advertise or Request on the wire.
TEST_NAME=interop_dhcp6
NS_TAG=h22dhcp6
source "$(dirname "$0")/lib.sh"
need dnsmasq ping

V6=2001:db8:6::1
setup_ns 1500
tap_ipv6 "$V6/64"

# run_dnsmasq NAME RANGE...: dnsmasq as DNS server on $V6, DHCPv6 server
# and RA sender on the TAP (--bind-dynamic: the TAP's link-local address
# comes only once Oasis opens the device).
run_dnsmasq() {
    local name=$1
    shift
    bg "$name" dnsmasq --keep-in-foreground --log-facility=- --log-dhcp --log-queries \
        --no-resolv --no-hosts --conf-file=/dev/null --pid-file= --user=root \
        --bind-dynamic --interface="$TAP" --port=53 \
        --dhcp-leasefile="$TMP/leases" --enable-ra --ra-param="$TAP,4" \
        --dhcp-option=option6:dns-server,[$V6] --dhcp-option=option6:domain-search,oasis.test \
        --dhcp-option=option6:information-refresh-time,700 \
        --host-record=web6.oasis.test,$V6 --local=/test/ "$@"
    DNSMASQ_PID=$BG_PID
    wait_for "$TMP/$name.log" "started, version" 10
}

# ---- 1. stateless ----
run_dnsmasq dnsmasq1 --dhcp-range=2001:db8:6::,ra-stateless
start_serve_as serve1 --http-port 0 --dhcp6
grep -q "dhcp6: information dns $V6 search oasis.test refresh 700s" "$TMP/serve1.log" ||
    fail "no DHCPv6 information from dnsmasq's Reply"
pass "stateless: Information-request answered: dns $V6, search oasis.test, refresh 700 s"
grep -Eq "DHCPINFORMATION-REQUEST|information-request" "$TMP/dnsmasq1.log" ||
    fail "dnsmasq saw no Information-request"
pass "dnsmasq logged the Information-request"
stop_pid "$SERVE_PID" "oasis serve --dhcp6 (stateless)"

# The name resolves through the server DHCPv6 gave (no --dns).
oasis_run ping-name 40 ping -c 2 -W 2 --dhcp6=stateless web6.oasis.test
[ "$RC" -eq 0 ] || { cat "$TMP/ping-name.log"; fail "oasis ping web6.oasis.test exited $RC"; }
grep -q "query\[AAAA\] web6.oasis.test" "$TMP/dnsmasq1.log" || fail "dnsmasq saw no AAAA query"
pass "ping by name through the DHCPv6 DNS server"
stop_pid "$DNSMASQ_PID" "dnsmasq (stateless)"

# ---- 2. stateful ----
run_dnsmasq dnsmasq2 --dhcp-range=2001:db8:6::100,2001:db8:6::1ff,64,600
start_serve_as serve2 --http-port 0 --dhcp6
line=$(grep -m1 "dhcp6: bound " "$TMP/serve2.log") || fail "no DHCPv6 lease"
leased=$(sed -E 's/.*bound ([0-9a-f:]+)\/128.*/\1/' <<<"$line")
case "$leased" in
2001:db8:6::1[0-9a-f][0-9a-f]) ;;
*) fail "leased address '$leased' outside dnsmasq's range" ;;
esac
pass "stateful: Solicit/Advertise/Request/Reply, DAD passed: $leased"
grep -q "ipv6 $leased/128 preferred (dhcp6)" "$TMP/serve2.log" ||
    fail "the address did not pass DAD as origin dhcp6"
pass "the leased address went through DAD"
grep -q "$leased" "$TMP/leases" || fail "dnsmasq's lease file does not hold $leased"
pass "dnsmasq's lease file holds $leased"
ns ping -6 -c 2 -W 2 "$leased" >"$TMP/ping6.log" 2>&1 || fail "the kernel cannot ping $leased"
pass "the kernel side pings the leased address"
stop_pid "$SERVE_PID" "oasis serve --dhcp6 (stateful)"
for ((i = 0; i < 30; i++)); do
    grep -Eq "DHCPRELEASE|release" "$TMP/dnsmasq2.log" && break
    sleep 0.1
done
grep -Eq "DHCPRELEASE|release" "$TMP/dnsmasq2.log" || fail "dnsmasq saw no Release"
pass "Release on exit reached dnsmasq"
grep -q "dhcp6: release answered" "$TMP/serve2.log" ||
    fail "no Reply to the Release before the exit (RFC 8415 18.2.7)"
pass "dnsmasq answered the Release"
for ((i = 0; i < 30; i++)); do
    grep -q "$leased" "$TMP/leases" || break
    sleep 0.1
done
! grep -q "$leased" "$TMP/leases" || fail "dnsmasq still holds $leased after the Release"
pass "dnsmasq dropped the lease of $leased"
stop_pid "$DNSMASQ_PID" "dnsmasq (stateful)"

# ---- 3. Rapid Commit (RFC 8415 18.2.1) ----
# dnsmasq answers a Solicit that carries Rapid Commit with a Reply that
# commits the lease: two messages, no Advertise and no Request.
run_dnsmasq dnsmasq3 --dhcp-range=2001:db8:6::100,2001:db8:6::1ff,64,600
start_serve_as serve3 --http-port 0 --dhcp6-rapid-commit
line=$(grep -m1 "dhcp6: bound (rapid commit) " "$TMP/serve3.log") ||
    fail "no DHCPv6 lease by Rapid Commit: $(grep dhcp6 "$TMP/serve3.log")"
leased=$(sed -E 's/.*commit\) ([0-9a-f:]+)\/128.*/\1/' <<<"$line")
case "$leased" in
2001:db8:6::1[0-9a-f][0-9a-f]) ;;
*) fail "leased address '$leased' outside dnsmasq's range" ;;
esac
grep -q "$leased" "$TMP/leases" || fail "dnsmasq's lease file does not hold $leased"
grep -q "DHCPSOLICIT" "$TMP/dnsmasq3.log" || fail "dnsmasq saw no Solicit"
! grep -Eq "DHCPADVERTISE|DHCPREQUEST" "$TMP/dnsmasq3.log" ||
    fail "Advertise or Request on the wire: not the two-message exchange"
pass "Rapid Commit: Solicit and Reply only, $leased leased and past DAD"
ns ping -6 -c 1 -W 2 "$leased" >"$TMP/ping6-rc.log" 2>&1 || fail "the kernel cannot ping $leased"
pass "the kernel side pings the address leased by Rapid Commit"
stop_pid "$SERVE_PID" "oasis serve --dhcp6-rapid-commit"
