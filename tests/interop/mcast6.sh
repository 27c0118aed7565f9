#!/usr/bin/env bash
# IPv6 multicast and MLD against the Linux kernel's bridge: Oasis's TAP is
# a port of a bridge with MLD snooping and its own MLDv2 querier (queries
# every 2 s, memberships forgotten after 5 s), and the port does not flood
# multicast, so a group's datagrams reach Oasis only while the bridge
# believes Oasis's MLD reports.
#  1. Oasis joins ff05::1:3 (oasis_ipv6_join): the bridge's multicast
#     database lists the group on the TAP port;
#  2. a datagram Linux sends to the group arrives (one to ff05::1:4, not
#     joined, does not);
#  3. 12 s later (over twice the membership interval) the entry is still
#     there: Oasis answered the querier's general queries;
#  4. Oasis leaves: the bridge asks about the group and drops the entry.
# Args: UDP_TOOL (tests/interop/udp_tool.c)
TEST_NAME=interop_mcast6
NS_TAG=mcast6
source "$(dirname "$0")/lib.sh"
need socat bridge

G=ff05::1:3
setup_ns 1500
ns ip addr del "$LINUX_IP/24" dev "$TAP"
ns ip link add br0 type bridge mcast_snooping 1 mcast_querier 1 mcast_mld_version 2 \
    mcast_query_interval 200 mcast_query_response_interval 100 mcast_membership_interval 500 \
    mcast_startup_query_interval 100 mcast_startup_query_count 2 \
    mcast_last_member_interval 100 mcast_last_member_count 2 ||
    fail "cannot create a bridge with an MLD querier"
# The querier sends from the bridge's link-local address: IPv6 on br0.
ns sysctl -qw net.ipv6.conf.br0.disable_ipv6=0
ns sysctl -qw net.ipv6.conf.br0.accept_dad=0
tap_ipv6
ns ip link set "$TAP" master br0
ns ip addr add "$LINUX_IP/24" dev br0
ns ip -6 addr add 2001:db8:6::1/64 dev br0 nodad
ns ip link set br0 up
ns bridge link set dev "$TAP" mcast_flood off || fail "cannot turn multicast flooding off"

in_mdb() { ns bridge mdb show dev br0 | grep -q "port $TAP grp $1"; }
send_to() { printf '%s' "$2" | ns timeout 5 socat -u - "UDP6-DATAGRAM:[$1]:7007,so-bindtodevice=br0"; }

bg mecho "$OASIS" mecho "$G" 7007 --tap "$TAP" --addr "$OASIS_IP/24"
MECHO_PID=$BG_PID
wait_for "$TMP/mecho.log" "joined $G" 10
for ((i = 0; i < 80; i++)); do in_mdb "$G" && break; sleep 0.1; done
in_mdb "$G" || fail "the bridge did not learn $G on $TAP: $(ns bridge mdb show dev br0)"
pass "Linux's bridge learned $G on the TAP port from Oasis's MLDv2 report"

send_to ff05::1:4 "not-for-us"
send_to "$G" "hello-group"
wait_for "$TMP/mecho.log" "rx v6 [0-9a-f:]+:[0-9]+ -> $G:7007 11 bytes" 10
grep -q -- "-> ff05::1:4" "$TMP/mecho.log" && fail "a datagram to ff05::1:4 (not joined) arrived"
pass "a datagram to the group reached Oasis; one to another group did not"

sleep 12
in_mdb "$G" || fail "the entry expired: Oasis did not answer the querier ($(ns bridge mdb show dev br0))"
send_to "$G" "still-here"
wait_for "$TMP/mecho.log" "rx v6 [0-9a-f:]+:[0-9]+ -> $G:7007 10 bytes" 10
pass "12 s later (membership interval 5 s) the group is still Oasis's: its answers to the queries count"

stop_pid "$MECHO_PID" "udp_tool mecho"
grep -q "^leave ok" "$TMP/mecho.log" || fail "no leave: $(tail -3 "$TMP/mecho.log")"
for ((i = 0; i < 50; i++)); do in_mdb "$G" || break; sleep 0.1; done
in_mdb "$G" && fail "the bridge still lists $G after Oasis left"
pass "after Oasis's leave the bridge dropped the group"
q=$(grep -oE "^mld queries=[0-9]+" "$TMP/mecho.log" | cut -d= -f2)
[ -n "$q" ] && [ "$q" -ge 5 ] || fail "Oasis's MLD counters: $(grep '^mld' "$TMP/mecho.log")"
pass "Oasis took $q MLD queries"
