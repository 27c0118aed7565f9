#!/usr/bin/env bash
# UDP over IPv6 against the Linux kernel (issue 14), with socat on the
# Linux side and tests/interop/udp_tool.c on Oasis's: datagrams both ways on
# the global and the link-local address, fragmented ones (4000 bytes), IPv4
# through the same socket API, ICMPv6 port unreachable both ways (Oasis's
# reaches the socket's error callback), checksums verified by tshark in
# Oasis's capture. Then a DAD conflict with an address the kernel already
# holds (RFC 4862 5.4.5): Oasis detects it, reports it, counts it and never
# uses the address.
TEST_NAME=interop_udp6
NS_TAG=udp6
source "$(dirname "$0")/lib.sh"
need socat tshark ss

setup_ns 1500
tap_ipv6 2001:db8:77::1/64
LINUX_G=2001:db8:77::1
OASIS_G=2001:db8:77::2
KMAC=$(ns cat /sys/class/net/$TAP/address)

# Payloads are the test's own bytes: decoded by port, a client port Linux
# picked at random could make tshark call them a malformed message of
# whatever protocol owns that port.
tsh() { tshark -n -r "$1" -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE \
          -d udp.port==1-65535,data -Y "$2" 2>/dev/null | wc -l; }

# ---- Linux -> Oasis: Oasis echoes on port 7007 (both families) ----
bg echo "$OASIS" echo 7007 --tap "$TAP" --addr "$OASIS_IP/24" --addr6 "$OASIS_G/64" \
    --pcap "$TMP/echo.pcap"
ECHO_PID=$BG_PID
wait_for "$TMP/echo.log" "echo ready on 7007" 10
wait_for "$TMP/echo.log" "ipv6 $OASIS_G/64 preferred \(static\)" 10
wait_for "$TMP/echo.log" "ipv6 fe80::[0-9a-f:]+/64 preferred \(link-local\)" 10
OASIS_LL=$(grep -oE "ipv6 fe80::[0-9a-f:]+/64 preferred" "$TMP/echo.log" | head -1 | cut -d' ' -f2 | cut -d/ -f1)
pass "Oasis echoes UDP on 7007 ($OASIS_G, $OASIS_LL)"

out=$(printf 'hello-udp6' | ns timeout 10 socat -t 2 - "UDP6:[$OASIS_G]:7007" 2>"$TMP/socat1.log") || true
expect_eq "$out" "hello-udp6" "socat over IPv6 to Oasis's global address, echoed"
out=$(printf 'hello-ll' | ns timeout 10 socat -t 2 - "UDP6:[$OASIS_LL%$TAP]:7007" 2>"$TMP/socat2.log") || true
expect_eq "$out" "hello-ll" "socat over IPv6 to Oasis's link-local address, echoed"
head -c 4000 /dev/urandom >"$TMP/big"
ns timeout 10 socat -t 2 -b 65536 - "UDP6:[$OASIS_G]:7007" <"$TMP/big" >"$TMP/big.out" 2>"$TMP/socat3.log" || true
cmp -s "$TMP/big" "$TMP/big.out" || fail "4000-byte datagram not echoed intact over IPv6 ($(stat -c %s "$TMP/big.out") bytes back)"
pass "4000-byte datagram both ways over IPv6 (fragmented and reassembled by each side)"
out=$(printf 'hello-udp4' | ns timeout 10 socat -t 2 - "UDP4:$OASIS_IP:7007" 2>"$TMP/socat4.log") || true
expect_eq "$out" "hello-udp4" "socat over IPv4 to the same Oasis socket, echoed"
# No one on 7008: Oasis answers ICMPv6 port unreachable, Linux's connected
# socket reports it.
printf 'nobody' | ns timeout 10 socat -t 2 - "UDP6:[$OASIS_G]:7008" >/dev/null 2>"$TMP/socat5.log" || true
grep -q "Connection refused" "$TMP/socat5.log" ||
    fail "Linux got no port unreachable from Oasis for port 7008: $(cat "$TMP/socat5.log")"
pass "Oasis's ICMPv6 port unreachable reaches Linux's socket (Connection refused)"
stop_pid "$ECHO_PID" "udp_tool echo"
grep -qE "^udp6 in=3 out=3 noports=1 inerrors=0 csumerrors=0 zerocsum=0$" "$TMP/echo.log" ||
    fail "Oasis's UDP6 counters: $(grep '^udp6' "$TMP/echo.log")"
pass "Oasis counted 3 IPv6 datagrams in and out, 1 to no port, no errors"

# Every UDP and ICMPv6 checksum in Oasis's capture verifies; nothing malformed.
n=$(tsh "$TMP/echo.pcap" "udp && ipv6")
[ "$n" -ge 6 ] || fail "only $n IPv6 UDP frames in the capture"
BAD="_ws.malformed || _ws.expert.severity == error || udp.checksum.status == 0 || icmpv6.checksum.status == 0 || ip.checksum.status == 0"
bad=$(tsh "$TMP/echo.pcap" "$BAD")
[ "$bad" -eq 0 ] || fail "malformed or bad-checksum frames: $(tshark -n -r "$TMP/echo.pcap" -o udp.check_checksum:TRUE -d udp.port==1-65535,data -Y "$BAD" -V 2>/dev/null | grep -iE "expert|malformed|status|Frame [0-9]|Protocols" | head -30)"
pass "no malformed frame or bad checksum in Oasis's capture ($n IPv6 UDP frames)"
n=$(tsh "$TMP/echo.pcap" "ipv6 && udp.checksum.status == 1 && eth.src != $KMAC")
[ "$n" -ge 3 ] || fail "tshark verified only $n of Oasis's IPv6 UDP checksums"
n=$(tsh "$TMP/echo.pcap" "icmpv6.type == 1 && icmpv6.code == 4 && eth.src != $KMAC")
expect_eq "$n" "1" "Oasis sent one ICMPv6 port unreachable"

# ---- Oasis -> Linux: socat echoes on 9009 (IPv6) and 9004 (IPv4) ----
bg socat6 socat "UDP6-RECVFROM:9009,fork" PIPE
bg socat4 socat "UDP4-RECVFROM:9004,fork" PIPE
for ((i = 0; i < 100; i++)); do
    [ "$(ns ss -Huln "( sport = :9009 or sport = :9004 )" | wc -l)" -ge 2 ] && break
    sleep 0.1
done
oasis_run send6 20 send "$LINUX_G" 9009 1000 --addr6 "$OASIS_G/64"
[ "$RC" -eq 0 ] && grep -q "reply from $LINUX_G:9009 1000 bytes match" "$TMP/send6.log" ||
    fail "Oasis -> Linux over IPv6 (exit $RC): $(cat "$TMP/send6.log")"
pass "Oasis -> Linux's global address over IPv6, echoed by socat"
oasis_run send6big 20 send "$LINUX_G" 9009 4000 --addr6 "$OASIS_G/64"
[ "$RC" -eq 0 ] && grep -q "4000 bytes match" "$TMP/send6big.log" ||
    fail "Oasis -> Linux 4000 bytes over IPv6 (exit $RC): $(cat "$TMP/send6big.log")"
pass "Oasis -> Linux 4000-byte datagram over IPv6 (fragmented), echoed"
LINUX_LL=$(ns ip -6 -o addr show dev "$TAP" scope link | awk '{print $4}' | cut -d/ -f1 | head -1)
[ -n "$LINUX_LL" ] || fail "the kernel has no link-local address on $TAP"
oasis_run send6ll 20 send "$LINUX_LL" 9009 100
[ "$RC" -eq 0 ] && grep -q "100 bytes match" "$TMP/send6ll.log" ||
    fail "Oasis -> Linux's link-local address (exit $RC): $(cat "$TMP/send6ll.log")"
pass "Oasis -> Linux's link-local address over IPv6, echoed"
oasis_run send4 20 send "$LINUX_IP" 9004 100
[ "$RC" -eq 0 ] && grep -q "100 bytes match" "$TMP/send4.log" ||
    fail "Oasis -> Linux over IPv4 (exit $RC): $(cat "$TMP/send4.log")"
pass "Oasis -> Linux over IPv4 through the same API, echoed"
# Linux has nobody on 9010: its ICMPv6 port unreachable reaches Oasis's
# socket as OASIS_EREFUSED.
oasis_run send6refused 20 send "$LINUX_G" 9010 10 --addr6 "$OASIS_G/64"
[ "$RC" -eq 4 ] && grep -q "error OASIS_EREFUSED from $LINUX_G about $LINUX_G:9010 (type 1 code 4)" "$TMP/send6refused.log" ||
    fail "Linux's port unreachable did not reach Oasis's socket (exit $RC): $(cat "$TMP/send6refused.log")"
pass "Linux's ICMPv6 port unreachable reaches Oasis's socket (OASIS_EREFUSED)"

# ---- DAD conflict: the kernel holds 2001:db8:77::1 already ----
oasis_run dad 30 addrs 4 2001:db8:77::5 --addr6 "$LINUX_G/64" --pcap "$TMP/dad.pcap"
[ "$RC" -eq 0 ] || fail "udp_tool addrs exited $RC: $(cat "$TMP/dad.log")"
grep -q "ipv6 $LINUX_G/64 duplicate (static)" "$TMP/dad.log" || fail "no duplicate event: $(cat "$TMP/dad.log")"
pass "Oasis reports $LINUX_G duplicate (the kernel defended it)"
grep -q "^addr $LINUX_G/64 duplicate$" "$TMP/dad.log" || fail "the address is not left duplicate"
grep -q "ipv6 $LINUX_G/64 preferred" "$TMP/dad.log" && fail "Oasis went on to use the duplicate address"
grep -qE "^addr fe80::[0-9a-f:]+/64 preferred$" "$TMP/dad.log" || fail "the link-local address did not survive"
pass "the duplicate address stays unused; the link-local one is preferred"
grep -q "^nd dad_ok=1 dad_conflicts=1$" "$TMP/dad.log" || fail "DAD counters: $(grep '^nd' "$TMP/dad.log")"
pass "the conflict is counted (dad_conflicts=1, dad_ok=1 for the link-local)"
grep -q "^send OASIS_ENOROUTE$" "$TMP/dad.log" ||
    fail "a global destination found a source address: $(grep '^send' "$TMP/dad.log")"
pass "with its only global address duplicate, Oasis has no source for a global destination"
n=$(tsh "$TMP/dad.pcap" "icmpv6.type == 135 && ipv6.src == :: && icmpv6.nd.ns.target_address == $LINUX_G")
[ "$n" -ge 1 ] || fail "no DAD probe for $LINUX_G in the capture"
n=$(tsh "$TMP/dad.pcap" "icmpv6.type == 136 && icmpv6.nd.na.target_address == $LINUX_G && eth.src == $KMAC")
[ "$n" -ge 1 ] || fail "the kernel's defending NA is not in the capture"
n=$(tsh "$TMP/dad.pcap" "ipv6.src == $LINUX_G && eth.src != $KMAC")
expect_eq "$n" "0" "Oasis never sent from the duplicate address (DAD probe from ::, kernel's NA seen)"
