#!/usr/bin/env bash
# IPv4 multicast and IGMP against the Linux kernel's bridge: Oasis's TAP is
# a port of a bridge with IGMP snooping and its own IGMPv3 querier (queries
# every 2 s from 0.0.0.0, memberships forgotten after 5 s), and the port
# does not flood multicast, so a group's datagrams reach Oasis only while
# the bridge believes Oasis's reports.
#  1. Oasis joins 239.1.2.3: the bridge's multicast database lists the
#     group on the TAP port;
#  2. a datagram Linux sends to the group arrives (one to 239.1.2.4, not
#     joined, does not);
#  3. 12 s later (over twice the membership interval) the entry is still
#     there: Oasis answered the querier's general queries;
#  4. Oasis leaves: the bridge asks about the group and drops the entry.
# Args: UDP_TOOL (tests/interop/udp_tool.c)
TEST_NAME=interop_mcast
NS_TAG=mcast
source "$(dirname "$0")/lib.sh"
need socat bridge

setup_ns 1500
ns ip addr del "$LINUX_IP/24" dev "$TAP"
ns ip link add br0 type bridge mcast_snooping 1 mcast_querier 1 mcast_igmp_version 3 \
    mcast_query_interval 200 mcast_query_response_interval 100 mcast_membership_interval 500 \
    mcast_startup_query_interval 100 mcast_startup_query_count 2 \
    mcast_last_member_interval 100 mcast_last_member_count 2 ||
    fail "cannot create a bridge with an IGMP querier"
ns ip link set "$TAP" master br0
ns ip addr add "$LINUX_IP/24" dev br0
ns ip link set br0 up
ns bridge link set dev "$TAP" mcast_flood off || fail "cannot turn multicast flooding off"

in_mdb() { ns bridge mdb show dev br0 | grep -q "port $TAP grp $1"; }
send_to() { printf '%s' "$2" | ns timeout 5 socat -u - "UDP4-DATAGRAM:$1:7007,ip-multicast-if=$LINUX_IP"; }

bg mecho "$OASIS" mecho 239.1.2.3 7007 --tap "$TAP" --addr "$OASIS_IP/24"
MECHO_PID=$BG_PID
wait_for "$TMP/mecho.log" "joined 239.1.2.3" 10
for ((i = 0; i < 50; i++)); do in_mdb 239.1.2.3 && break; sleep 0.1; done
in_mdb 239.1.2.3 || fail "the bridge did not learn 239.1.2.3 on $TAP: $(ns bridge mdb show dev br0)"
pass "Linux's bridge learned 239.1.2.3 on the TAP port from Oasis's IGMPv3 report"

send_to 239.1.2.4 "not-for-us"
send_to 239.1.2.3 "hello-group"
wait_for "$TMP/mecho.log" "rx v4 $LINUX_IP:[0-9]+ -> 239.1.2.3:7007 11 bytes" 10
grep -q -- "-> 239.1.2.4" "$TMP/mecho.log" && fail "a datagram to 239.1.2.4 (not joined) arrived"
pass "a datagram to the group reached Oasis; one to another group did not"

sleep 12
in_mdb 239.1.2.3 || fail "the entry expired: Oasis did not answer the querier ($(ns bridge mdb show dev br0))"
send_to 239.1.2.3 "still-here"
wait_for "$TMP/mecho.log" "rx v4 $LINUX_IP:[0-9]+ -> 239.1.2.3:7007 10 bytes" 10
pass "12 s later (membership interval 5 s) the group is still Oasis's: its answers to the queries count"

stop_pid "$MECHO_PID" "udp_tool mecho"
grep -q "^leave ok" "$TMP/mecho.log" || fail "no leave: $(tail -3 "$TMP/mecho.log")"
for ((i = 0; i < 50; i++)); do in_mdb 239.1.2.3 || break; sleep 0.1; done
in_mdb 239.1.2.3 && fail "the bridge still lists 239.1.2.3 after Oasis left"
pass "after Oasis's leave the bridge dropped the group"
q=$(grep -oE "^igmp in=[0-9]+ errors=0 queries=[0-9]+" "$TMP/mecho.log" | grep -oE "queries=[0-9]+" | cut -d= -f2)
[ -n "$q" ] && [ "$q" -ge 5 ] || fail "Oasis's IGMP counters: $(grep '^igmp' "$TMP/mecho.log")"
pass "Oasis took $q queries, with no IGMP errors"
