#!/usr/bin/env bash
# Path MTU discovery over a real routed path with a 1280-byte link in the
# middle (issue 15). Oasis downloads (oasis get) and uploads (oasis nc)
# SIZE bytes to a Linux server, SHA-256 checked, in two modes:
#   icmp:      the routers send ICMP fragmentation-needed (RFC 1191);
#   blackhole: nftables drops every ICMP unreachable the routers would send,
#              so only packetization-layer discovery (RFC 4821) can help.
# Oasis reports the path MTU it ended with; the upload must find 1280.
#
#   Oasis --tap(1500)-- r1 --veth(1280)-- r2 --veth(1500)-- server
#   10.77.0.2       10.77.0.1  10.78.0.1/.2   10.79.0.1        10.79.0.2
#
# r1 is the TAP's own namespace (lib.sh's), r2 and the server have their
# own. Two routers, because a host on the small link itself would know its
# MTU and announce a small MSS: only a link between routers needs PMTUD.
# The Linux server runs with tcp_mtu_probing=1 (its black-hole detection):
# in blackhole mode Linux's data towards Oasis depends on it.
# Args: OASIS_BIN MODE(icmp|blackhole) SIZE_BYTES
TEST_NAME="interop_pmtu_${2:-icmp}"
NS_TAG=icmp15
source "$(dirname "$0")/lib.sh"
MODE=${2:-icmp}
SIZE=${3:-268435456}
need socat nft
SERVER_IP=10.79.0.2
R2="oasis-icmp15-$$-r2"
SRV="oasis-icmp15-$$-srv"

pmtu_cleanup() {
    local rc=$? n p
    set +e
    for n in "$SRV" "$R2"; do
        for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$n" 2>/dev/null
    done
    (exit "$rc")
    cleanup
}
trap pmtu_cleanup EXIT

setup_ns 1500
r2() { ip netns exec "$R2" "$@"; }
srv() { ip netns exec "$SRV" "$@"; }
ip netns add "$R2" || fail "cannot create $R2"
ip netns add "$SRV" || fail "cannot create $SRV"
for n in "$R2" "$SRV"; do
    ip netns exec "$n" ip link set lo up
    ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1 || true
done
# r1 (the TAP namespace) <-> r2: the 1280-byte link.
ns ip link add r1r2 mtu 1280 type veth peer name r2r1 mtu 1280 netns "$R2"
ns ip addr add 10.78.0.1/24 dev r1r2
ns ip link set r1r2 up
r2 ip addr add 10.78.0.2/24 dev r2r1
r2 ip link set r2r1 up
# r2 <-> server: 1500 again.
r2 ip link add r2sv type veth peer name svr2 netns "$SRV"
r2 ip addr add 10.79.0.1/24 dev r2sv
r2 ip link set r2sv up
srv ip addr add "$SERVER_IP/24" dev svr2
srv ip link set svr2 up
ns ip route add 10.79.0.0/24 via 10.78.0.2
r2 ip route add 10.77.0.0/24 via 10.78.0.1
srv ip route add default via 10.79.0.1
ns sysctl -qw net.ipv4.ip_forward=1
r2 sysctl -qw net.ipv4.ip_forward=1
srv sysctl -qw net.ipv4.tcp_mtu_probing=1
srv sysctl -qw net.ipv4.tcp_no_metrics_save=1
if [ "$MODE" = blackhole ]; then
    # The routers' ICMP errors (fragmentation needed among them) never leave.
    for r in ns r2; do
        $r nft add table ip icmp15
        $r nft add chain ip icmp15 out '{ type filter hook output priority 0; }'
        $r nft add rule ip icmp15 out icmp type destination-unreachable counter drop
    done
fi

# Linux's TCP server side: a file for the download, a hash for the upload.
SRVTMP="$TMP/srv"
mkdir -p "$SRVTMP"
head -c "$SIZE" /dev/urandom >"$SRVTMP/big.bin"
want_down=$(sha256sum <"$SRVTMP/big.bin" | cut -d' ' -f1)
want_up=$(pattern_sha "$SIZE")
ip netns exec "$SRV" python3 -m http.server 8000 --bind "$SERVER_IP" --directory "$SRVTMP" \
    >"$TMP/httpd.log" 2>&1 &
PIDS+=("$!")
ip netns exec "$SRV" bash -c "socat -u TCP-LISTEN:9000,reuseaddr - | sha256sum >'$TMP/up.sha'" \
    >"$TMP/socat.log" 2>&1 &
UPPID=$!
PIDS+=("$UPPID")
for ((i = 0; i < 100; i++)); do
    srv ss -Htln "sport = :8000" | grep -q . && srv ss -Htln "sport = :9000" | grep -q . && break
    sleep 0.1
done

# Download: Linux sends through the 1280-byte link.
start=$(date +%s.%N)
oasis_run get 120 get -q "http://$SERVER_IP:8000/big.bin"
end=$(date +%s.%N)
[ "$RC" -eq 0 ] || fail "oasis get exited $RC"
expect_eq "$(awk '$1 == "sha256" {print $2}' "$TMP/get.log")" "$want_down" \
    "download of $SIZE bytes through the 1280 link ($MODE)"
log "download ($MODE): $(python3 -c "print(f'{$end-$start:.1f} s, {$SIZE*8/($end-$start)/1e6:.0f} Mbit/s')"), Oasis path_mtu $(awk '$1 == "path_mtu" {print $2}' "$TMP/get.log")"

# Upload: Oasis sends through it and must find the path MTU.
start=$(date +%s.%N)
RC=0
"$OASIS" pattern "$SIZE" | timeout -k 5 120 ip netns exec "$NS" "$OASIS" nc --info \
    --tap "$TAP" --addr "$OASIS_IP/24" "$SERVER_IP" 9000 >"$TMP/nc.out" 2>"$TMP/nc.log" || RC=$?
end=$(date +%s.%N)
[ "$RC" -eq 0 ] || fail "oasis nc exited $RC"
for ((i = 0; i < 100; i++)); do [ -s "$TMP/up.sha" ] && break; sleep 0.1; done
expect_eq "$(cut -d' ' -f1 <"$TMP/up.sha")" "$want_up" "upload of $SIZE bytes through the 1280 link ($MODE)"
pmtu=$(sed -n 's/.*path_mtu \([0-9]*\).*/\1/p' "$TMP/nc.log")
log "upload ($MODE): $(python3 -c "print(f'{$end-$start:.1f} s, {$SIZE*8/($end-$start)/1e6:.0f} Mbit/s')"), Oasis path_mtu $pmtu"
expect_eq "$pmtu" "1280" "Oasis found the 1280-byte path MTU ($MODE)"
if [ "$MODE" = blackhole ]; then
    drops=$(ns nft list chain ip icmp15 out | sed -n 's/.*packets \([0-9]*\).*/\1/p')
    [ "${drops:-0}" -gt 0 ] || fail "the black hole dropped no ICMP: the test proved nothing"
    pass "r1 dropped $drops ICMP errors meant for Oasis"
fi
