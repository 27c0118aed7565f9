#!/usr/bin/env bash
# IPv6 against the Linux kernel (issue 14): Linux accepts Oasis as a
# neighbour (NS/NA) and pings it on its link-local and a static global
# address, small and fragmented; Oasis pings Linux both ways; a DAD
# conflict with an address the kernel holds leaves that address unused.
TEST_NAME=interop_ping6
NS_TAG=ipv6
source "$(dirname "$0")/lib.sh"
need ping

setup_ns 1500
tap_ipv6 2001:db8:77::1/64

OASIS_G=2001:db8:77::2
start_serve --http-port 0 --addr6 "$OASIS_G/64"
wait_for "$TMP/serve.log" "ipv6 fe80::[0-9a-f:]+/64 preferred \(link-local\)" 10
wait_for "$TMP/serve.log" "ipv6 $OASIS_G/64 preferred \(static\)" 10
OASIS_LL=$(grep -oE "ipv6 fe80::[0-9a-f:]+/64 preferred" "$TMP/serve.log" | head -1 | cut -d' ' -f2 | cut -d/ -f1)
pass "Oasis passed DAD on $OASIS_LL and $OASIS_G"

# Linux -> Oasis: Linux resolves Oasis by NS/NA first.
ns ping -6 -c 3 -i 0.2 -W 2 "$OASIS_LL%$TAP" >"$TMP/ping-ll.log" 2>&1 || fail "Linux cannot ping Oasis's link-local address"
grep -q " 0% packet loss" "$TMP/ping-ll.log" || fail "Linux's ping to the link-local address lost packets"
pass "Linux pings Oasis's link-local address (3/3)"
ns ping -6 -c 3 -i 0.2 -W 2 "$OASIS_G" >"$TMP/ping-g.log" 2>&1 || fail "Linux cannot ping Oasis's global address"
grep -q " 0% packet loss" "$TMP/ping-g.log" || fail "Linux's ping to the global address lost packets"
pass "Linux pings Oasis's global address (3/3)"
mac=$(ns ip -6 neigh show "$OASIS_G" dev "$TAP" | awk '{print $3}')
expect_eq "$mac" "02:4f:0a:4d:00:02" "Linux's neighbour entry for Oasis"

# Fragmented both ways: Oasis reassembles 3 fragments and fragments its reply.
ns ping -6 -c 2 -i 0.2 -W 2 -s 4000 "$OASIS_G" >"$TMP/ping-big.log" 2>&1 ||
    fail "Linux cannot ping Oasis with 4000-byte payloads (fragmentation)"
pass "Linux pings Oasis with fragmented 4000-byte payloads"
stop_pid "$SERVE_PID" "oasis serve"

# Oasis -> Linux: link-local and global (Oasis resolves Linux by NS/NA).
LINUX_LL=$(ns ip -6 -o addr show dev "$TAP" scope link | awk '{print $4}' | cut -d/ -f1 | head -1)
[ -n "$LINUX_LL" ] || fail "the kernel has no link-local address on $TAP"
oasis_run oasis-ping6-ll 20 ping -c 3 -i 0.2 -W 2 "$LINUX_LL"
[ "$RC" -eq 0 ] && grep -q "3 received" "$TMP/oasis-ping6-ll.log" ||
    fail "Oasis cannot ping Linux's link-local $LINUX_LL (exit $RC)"
pass "Oasis pings Linux's link-local address (3/3)"
# The same with a zone, as Linux's tools print link-local addresses (RFC
# 4007 11): the TAP's name is this stack's one link; another is refused.
oasis_run oasis-ping6-zone 20 ping -c 2 -i 0.2 -W 2 "$LINUX_LL%$TAP"
[ "$RC" -eq 0 ] && grep -q "2 received" "$TMP/oasis-ping6-zone.log" ||
    fail "Oasis cannot ping $LINUX_LL%$TAP (exit $RC)"
oasis_run oasis-ping6-badzone 20 ping -c 1 -W 1 "$LINUX_LL%nosuch0"
[ "$RC" -ne 0 ] && grep -q "zone must name this stack's link" "$TMP/oasis-ping6-badzone.log" ||
    fail "Oasis took a zone that is not its link (exit $RC)"
pass "Oasis pings $LINUX_LL%$TAP, and refuses another zone"
# To all nodes (RFC 4443 4.2): the first member's answer counts, ours
# included (multicast loop).
oasis_run oasis-ping6-all 20 ping -c 2 -i 0.2 -W 2 "ff02::1%$TAP"
[ "$RC" -eq 0 ] && grep -q "2 received" "$TMP/oasis-ping6-all.log" ||
    fail "Oasis's ping to ff02::1 got no answers (exit $RC)"
pass "Oasis pings ff02::1 (2/2)"
oasis_run oasis-ping6-g 20 ping -c 3 -i 0.2 -W 2 --addr6 "$OASIS_G/64" 2001:db8:77::1
[ "$RC" -eq 0 ] && grep -q "3 received" "$TMP/oasis-ping6-g.log" ||
    fail "Oasis cannot ping Linux's global address (exit $RC)"
pass "Oasis pings Linux's global address (3/3)"
oasis_run oasis-ping6-big 20 ping -c 2 -i 0.2 -W 2 -s 4000 --addr6 "$OASIS_G/64" 2001:db8:77::1
[ "$RC" -eq 0 ] && grep -q "2 received" "$TMP/oasis-ping6-big.log" ||
    fail "Oasis cannot ping Linux with 4000-byte payloads (exit $RC)"
pass "Oasis pings Linux with fragmented 4000-byte payloads"

# DAD conflict: the kernel already holds 2001:db8:77::1. Oasis must find
# it duplicate and never use it; its other addresses go on working.
start_serve --http-port 0 --addr6 2001:db8:77::1/64
wait_for "$TMP/serve.log" "ipv6 2001:db8:77::1/64 duplicate \(static\)" 10
pass "DAD found the kernel's 2001:db8:77::1: Oasis reports it duplicate"
if grep -q "ipv6 2001:db8:77::1/64 preferred" "$TMP/serve.log"; then
    fail "Oasis went on to use the duplicate address"
fi
wait_for "$TMP/serve.log" "ipv6 fe80::[0-9a-f:]+/64 preferred \(link-local\)" 10
OASIS_LL=$(grep -oE "ipv6 fe80::[0-9a-f:]+/64 preferred" "$TMP/serve.log" | tail -1 | cut -d' ' -f2 | cut -d/ -f1)
ns ping -6 -c 2 -i 0.2 -W 2 "$OASIS_LL%$TAP" >"$TMP/ping-after-dad.log" 2>&1 ||
    fail "Oasis's link-local address stopped answering after the conflict"
pass "Oasis's link-local address still answers after the conflict"
stop_pid "$SERVE_PID" "oasis serve"
