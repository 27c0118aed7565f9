#!/usr/bin/env bash
# SLAAC against radvd (issue 14): radvd advertises 2001:db8:1::/64 in the
# namespace; Oasis solicits it, forms a stable (RFC 7217) address from the
# prefix, passes DAD, and the kernel reaches that address. The RA's MTU
# option and router lifetime are taken (the default router answers too).
TEST_NAME=interop_slaac
NS_TAG=ipv6
source "$(dirname "$0")/lib.sh"
need ping radvd tshark

setup_ns 1500
tap_ipv6
# radvd wants a router: forwarding on, inside this namespace only.
ns sysctl -qw net.ipv6.conf.all.forwarding=1
ns ip -6 addr add 2001:db8:1::1/64 dev "$TAP" nodad
cat >"$TMP/radvd.conf" <<CONF
interface $TAP {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    AdvLinkMTU 1400;
    prefix 2001:db8:1::/64 {
        AdvOnLink on;
        AdvAutonomous on;
        AdvValidLifetime 3600;
        AdvPreferredLifetime 1800;
    };
};
CONF

start_serve --http-port 0 --pcap "$TMP/slaac.pcap"
# Oasis solicits routers once its link-local address passed DAD; the
# kernel (a router here) counts the solicitations. radvd starts after, so
# its first unsolicited RA cannot make the solicitation unnecessary.
rs_seen() { ns awk '$1 == "Icmp6InRouterSolicits" {print $2}' /proc/net/snmp6; }
for ((i = 0; i < 100; i++)); do [ "$(rs_seen)" -ge 1 ] && break; sleep 0.1; done
[ "$(rs_seen)" -ge 1 ] || fail "Oasis sent no router solicitation"
pass "Oasis solicits routers at start"
bg radvd radvd -n -d 1 -m stderr -C "$TMP/radvd.conf" -p "$TMP/radvd.pid"
wait_for "$TMP/serve.log" "ipv6 2001:db8:1:0:[0-9a-f:]+/64 preferred \(slaac\)" 20
ADDR=$(grep -oE "ipv6 2001:db8:1:0:[0-9a-f:]+/64 preferred" "$TMP/serve.log" | head -1 | cut -d' ' -f2 | cut -d/ -f1)
pass "Oasis formed $ADDR from radvd's prefix and passed DAD"
# RFC 7217: not the MAC's EUI-64 (02:4f:0a:4d:00:02 would give ...:4fff:fe4d:2).
case "$ADDR" in *ff:fe*) fail "the SLAAC address embeds the MAC (EUI-64): $ADDR" ;; esac
pass "the interface identifier is not derived from the MAC"

ns ping -6 -c 3 -i 0.2 -W 2 "$ADDR" >"$TMP/ping.log" 2>&1 || fail "the kernel cannot ping Oasis's SLAAC address"
grep -q " 0% packet loss" "$TMP/ping.log" || fail "ping to the SLAAC address lost packets"
pass "the kernel pings Oasis's SLAAC address (3/3)"
# The RA's MTU (1400) applies: a 2000-byte echo comes back in fragments
# no larger than 1400 bytes, which the kernel reassembles.
ns ping -6 -c 2 -i 0.2 -W 2 -s 2000 "$ADDR" >"$TMP/ping-big.log" 2>&1 ||
    fail "the kernel cannot ping Oasis's SLAAC address with 2000-byte payloads"
pass "2000-byte echo through Oasis's reassembly and fragmentation"
stop_pid "$SERVE_PID" "oasis serve"
# The capture: Oasis's fragments obey the RA's MTU of 1400 (frames of at
# most 1414 bytes), and tshark finds nothing malformed and no bad checksum.
ts() { tshark -n -r "$TMP/slaac.pcap" "$@" 2>/dev/null; }
big=$(ts -Y "ipv6.src == $ADDR" -T fields -e frame.len | sort -n | tail -1)
frags=$(ts -Y "ipv6.src == $ADDR && ipv6.fraghdr.more == 1" | wc -l)
[ -n "$big" ] && [ "$big" -le 1414 ] && [ "$frags" -ge 2 ] ||
    fail "Oasis's largest frame is $big bytes with $frags first fragments; want <= 1414 (RA MTU 1400)"
pass "fragments within the RA's MTU (largest frame $big bytes)"
bad=$(ts -Y '_ws.malformed || _ws.expert.severity == error || icmpv6.checksum.status == 0' | wc -l)
rs=$(ts -Y 'icmpv6.type == 133' | wc -l)
[ "$bad" -eq 0 ] || fail "$bad malformed or bad-checksum frames in the capture"
[ "$rs" -ge 1 ] || fail "no router solicitation in the capture"
pass "capture: router solicitation seen, nothing malformed, checksums good"
