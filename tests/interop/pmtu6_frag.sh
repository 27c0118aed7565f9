#!/usr/bin/env bash
# Path MTU discovery for fragmented UDP over IPv6 through a Linux router
# (RFC 8201 4, RFC 4443 2.4 d). The kernel routes between the TAP (MTU
# 1500, Oasis behind it) and a veth pair of MTU 1400 to a client in a
# second namespace; radvd makes it Oasis's default router. The client sends
# a 3000-byte datagram to udp_tool's echo on Oasis; Oasis's echo goes in
# 1500-byte fragments, which the router cannot forward: it answers with a
# Packet Too Big quoting the first fragment. Oasis must lower its path MTU,
# so the client's next try is echoed in fragments that fit. Then `oasis
# ping -s 3000` to the client: its first request draws the Packet Too Big,
# the later ones fit. Before the fix every error quoting a Fragment header
# was dropped and no try came back.
# Args: UDP_TOOL OASIS
TEST_NAME=interop_pmtu6_frag
NS_TAG=p6
source "$(dirname "$0")/lib.sh"
need radvd
OASIS_CLI=$(readlink -f "${2:?usage: $0 UDP_TOOL OASIS}")

OASIS_G=2001:db8:77::2
CLIENT=2001:db8:88::2
CNS="oasis-${NS_TAG}-c-$$-$RANDOM"
# The client's namespace goes too, then lib.sh's cleanup (with the status).
p6_cleanup() {
    local rc=$?
    set +e
    ip netns del "$CNS" 2>/dev/null
    (exit "$rc")
    cleanup
}
trap p6_cleanup EXIT

setup_ns 1500
tap_ipv6 2001:db8:77::1/64
ns sysctl -qw net.ipv6.conf.all.forwarding=1
ip netns add "$CNS" || fail "cannot create namespace $CNS"
ip link add p6r netns "$NS" mtu 1400 type veth peer name p6c netns "$CNS" mtu 1400 ||
    fail "cannot create the veth pair"
ns sysctl -qw net.ipv6.conf.p6r.disable_ipv6=0
ns ip link set p6r up
ns ip -6 addr add 2001:db8:88::1/64 dev p6r nodad
ip netns exec "$CNS" ip link set lo up
ip netns exec "$CNS" sysctl -qw net.ipv6.conf.p6c.disable_ipv6=0
ip netns exec "$CNS" ip link set p6c up
ip netns exec "$CNS" ip -6 addr add "$CLIENT/64" dev p6c nodad
ip netns exec "$CNS" ip -6 route add default via 2001:db8:88::1
cat >"$TMP/radvd.conf" <<CONF
interface $TAP {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    AdvDefaultLifetime 600;
};
CONF
bg radvd radvd -n -d 1 -m stderr -C "$TMP/radvd.conf" -p "$TMP/radvd.pid"
RADVD_PID=$BG_PID
bg echo "$OASIS" echo 7007 --tap "$TAP" --addr "$OASIS_IP/24" --addr6 "$OASIS_G/64" --verbose
ECHO_PID=$BG_PID
wait_for "$TMP/echo.log" "echo ready on 7007" 10
wait_for "$TMP/echo.log" "ipv6 $OASIS_G/64 preferred \(static\)" 10

# Up to 6 tries, 1 s each: the first reply that fits comes back (the
# first try may also wait on Oasis learning its router from radvd).
cat >"$TMP/client.py" <<'PY'
import os, socket, sys
data = os.urandom(3000)
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(1.0)
for i in range(1, 7):
    s.sendto(data, (sys.argv[1], 7007))
    try:
        got = s.recv(65536)
    except socket.timeout:
        print(f"try {i}: no echo", flush=True)
        continue
    print(f"try {i}: {len(got)} bytes, {'match' if got == data else 'differ'}", flush=True)
    sys.exit(0 if got == data else 1)
sys.exit(1)
PY
rc=0
ip netns exec "$CNS" timeout 20 python3 "$TMP/client.py" "$OASIS_G" >"$TMP/client.log" 2>&1 || rc=$?
sed 's/^/  /' "$TMP/client.log"
[ "$rc" -eq 0 ] || fail "no 3000-byte echo through the 1400-byte link (Oasis ignored the router's Packet Too Big)"
pass "a 3000-byte datagram echoed through a 1400-byte link: the router's Packet Too Big about Oasis's first fragment lowered its path MTU"
ptb=$(ns cat /proc/net/snmp6 | awk '$1 == "Icmp6OutPktTooBigs" { print $2 }')
[ "${ptb:-0}" -ge 1 ] || fail "the router sent no Packet Too Big (the test proves nothing)"
pass "the router sent $ptb Packet Too Big message(s)"
stop_pid "$ECHO_PID" "udp_tool echo"

# Oasis's own 3000-byte echo requests through the same router. The ping
# starts with no router on the link: radvd comes back 2 s later, and the
# tool must wait for its RA rather than fail at once with "no route to
# host" (as it did when it waited for its address only; CI once lost that
# race against radvd's 3 s rate limit on RAs).
kill -TERM "$RADVD_PID" 2>/dev/null || true
wait "$RADVD_PID" 2>/dev/null || true
rc=0
timeout -k 5 30 ip netns exec "$NS" "$OASIS_CLI" ping -c 5 -i 0.5 -W 1 -s 3000 "$CLIENT" \
    --tap "$TAP" --addr "$OASIS_IP/24" --addr6 "$OASIS_G/64" >"$TMP/ping.log" 2>&1 &
PING_PID=$!
PIDS+=("$PING_PID")
sleep 2
bg radvd2 radvd -n -d 1 -m stderr -C "$TMP/radvd.conf" -p "$TMP/radvd2.pid"
wait "$PING_PID" || rc=$?
sed 's/^/  /' "$TMP/ping.log"
! grep -q ENOROUTE "$TMP/ping.log" || fail "oasis ping gave up before the router's RA came"
[ "$rc" -eq 0 ] || fail "oasis ping -s 3000 through the 1400-byte link: no reply (exit $rc)"
n=$(grep -c "bytes from" "$TMP/ping.log" || true)
[ "$n" -ge 2 ] || fail "oasis ping -s 3000: $n replies of 5"
pass "oasis ping -s 3000 through the 1400-byte link: $n replies of 5 after the Packet Too Big"
