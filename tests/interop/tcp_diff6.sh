#!/usr/bin/env bash
# The differential TCP probe (tcp_diff.py, as tcp_diff.sh) over IPv6: the
# same hand-made segments in IPv6 datagrams at `oasis serve` (TAP oasis0,
# --addr6) and at the namespace's own Linux TCP (TAP dflx0), and `oasis nc
# --addr6` as a client on oasis1. Every scenario of the IPv4 run (the MSS
# limits IPv6's: MTU - 60, 1220 without an option) and an ICMPv6 Packet Too
# Big. Only Oasis's RFC requirements decide the result.
# Args: OASIS_BIN
TEST_NAME=interop_tcp_diff6
NS_TAG=d6
source "$(dirname "$0")/lib.sh"

O6=2001:db8:d6::2
PROBE6=2001:db8:d6::66
LX_TAP=dflx0
LX6=2001:db8:d7::1
LX_PROBE6=2001:db8:d7::66

setup_ns 1500
start_serve6 "$O6/64" --quiet --max-conns 512
# Linux's side: a TAP whose user side is the probe, Linux's servers behind
# it; IPv6 on it after all (setup_ns turns it off), no DAD, the probe's
# link address static, as the IPv4 run's ARP entry.
ns ip tuntap add dev "$LX_TAP" mode tap || fail "cannot create the Linux side's TAP"
ns sysctl -qw net.ipv6.conf.$LX_TAP.disable_ipv6=0 net.ipv6.conf.$LX_TAP.accept_dad=0 \
    net.ipv6.conf.$LX_TAP.accept_ra=0
ns ip -6 addr add "$LX6/64" dev "$LX_TAP" nodad
ns ip link set "$LX_TAP" up
ns ip -6 neigh replace "$LX_PROBE6" lladdr 02:a5:c0:ff:ee:df dev "$LX_TAP" nud permanent
# Linux's defaults, stated (the net.ipv4 ones are TCP's, IPv6 too).
ns sysctl -qw net.ipv4.tcp_ecn=2 net.ipv4.tcp_sack=1 net.ipv4.tcp_timestamps=1 net.ipv4.tcp_dsack=1
# Oasis as a client (oasis nc --addr6, started by the probe) on a TAP of its own.
ns ip tuntap add dev oasis1 mode tap || fail "cannot create the client's TAP"
ns ip link set oasis1 up
bg linux python3 "$HERE/tcp_diff.py" --linux-servers "$LX6"
wait_for "$TMP/linux.log" "linux servers ready" 10

rc=0
ns timeout 300 python3 "$HERE/tcp_diff.py" -6 "$TAP" "$O6" "$PROBE6" "$LX_TAP" "$LX6" "$LX_PROBE6" \
    "oasis1,2001:db8:d8::2,2001:db8:d8::66,$OASIS,10.78.0.2" \
    >"$TMP/diff.log" 2>&1 || rc=$?
sed 's/^/  /' "$TMP/diff.log"
serve_alive "after the differential probe"
[ "$rc" -eq 0 ] || fail "$rc Oasis requirement(s) failed over IPv6 (see above)"
pass "differential probe over IPv6: $(grep -c '^   ok:' "$TMP/diff.log") Oasis requirements met"
stop_pid "$SERVE_PID" "oasis serve"
