#!/usr/bin/env bash
# Oasis on a TUN device (an IP link, OASIS_LINK_IP): the kernel hands it
# bare IPv4 and IPv6 packets, with no Ethernet, ARP or Neighbour Discovery.
# Linux pings it and downloads from it over both families; Oasis pings
# Linux, downloads from Linux's http.server, and reaches an address beyond
# its subnet with no gateway (an IP link routes everything through the
# device). Oasis's own capture shows nothing but IP, and misuse of --tun
# is refused with a clear message. Then, as a tun2socks program would,
# `oasis serve --transparent` takes Linux's connections to addresses that
# are not its own, routed into the TUN (IPv4 and IPv6), and answers from
# them, for TCP and UDP echo; behind a router with a narrower link its flows
# take the router's ICMP errors sent to those addresses (path MTU
# discovery). Serve's UDP echo and discard are checked on the way, and
# --impair on the TUN. Args: OASIS_BIN [BYTES]
TEST_NAME=interop_tun
source "$(dirname "$0")/lib.sh"
need ping curl tshark python3
SIZE=${2:-16777216}
TAP=tun0
LINUX_IP=10.78.0.1
OASIS_IP=10.78.0.2
LINUX_IP6=fd00:78::1
OASIS_IP6=fd00:78::2
FAR=192.0.2.1 # Linux's, on its loopback: beyond Oasis's /24

TMP=$(mktemp -d "${TMPDIR:-/tmp}/oasis-interop.XXXXXX")
NS="oasis-${NS_TAG:-it}-tun-$$-$RANDOM"
CNS="$NS-c" # a client behind NS, for path MTU discovery
tun_cleanup() {
    local rc=$? p
    set +e
    for p in $(ip netns pids "$CNS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$CNS" 2>/dev/null
    (exit "$rc")
    cleanup
}
trap tun_cleanup EXIT
ip netns add "$NS" || fail "cannot create network namespace $NS"
ns ip link set lo up
ns ip tuntap add dev "$TAP" mode tun || fail "cannot create TUN device"
ns ip addr add "$LINUX_IP/24" dev "$TAP"
ns ip -6 addr add "$LINUX_IP6/64" dev "$TAP" nodad
ns ip addr add "$FAR/32" dev lo
ns ip link set "$TAP" up

# Misuse first: no address, and a device of the other kind.
RC=0
ns "$OASIS" ping --tun "$TAP" -c 1 "$LINUX_IP" >"$TMP/no-addr.log" 2>&1 || RC=$?
expect_eq "$RC" "2" "exit status of --tun without --addr"
grep -q -- "--tun needs --addr" "$TMP/no-addr.log" || fail "no word on --tun without --addr"
ns ip tuntap add dev tap9 mode tap
RC=0
ns "$OASIS" ping --tun tap9 --addr 10.79.0.2/24 -c 1 10.79.0.1 >"$TMP/wrong-kind.log" 2>&1 || RC=$?
expect_eq "$RC" "3" "exit status of --tun on a TAP device"
grep -q "is not a TUN device" "$TMP/wrong-kind.log" || fail "$(cat "$TMP/wrong-kind.log")"
pass "--tun on a TAP device: $(head -1 "$TMP/wrong-kind.log")"

# --offload on: the kernel takes the virtio-net header on a TUN as on a
# TAP (TSO and partial checksums both ways), or serve fails to start; a
# run without offloads comes at the end.
bg serve "$OASIS" serve --tun "$TAP" --addr "$OASIS_IP/24" --addr6 "$OASIS_IP6/64" \
    --http-port 8080 --pcap "$TMP/serve.pcap" --offload on
SERVE_PID=$BG_PID
wait_for "$TMP/serve.log" "ready on" 10
# No DAD on an IP link: the static address is preferred at once.
grep -q "ipv6 $OASIS_IP6/64 preferred" "$TMP/serve.log" || fail "IPv6 address not usable at once"
pass "IPv6 address preferred at start (no DAD on an IP link)"

for dst in "$OASIS_IP" "$OASIS_IP6"; do
    ns ping -c 3 -i 0.2 -W 2 "$dst" >"$TMP/ping.log" 2>&1 || fail "Linux cannot ping $dst"
    grep -q " 0% packet loss" "$TMP/ping.log" || fail "Linux's ping of $dst lost packets"
    pass "Linux pings Oasis at $dst through the TUN (3/3)"
done

# curl_both WHAT: SIZE bytes from serve over IPv4 and IPv6, SHA-256 checked.
curl_both() {
    local want url got
    want=$(pattern_sha "$SIZE")
    for url in "http://$OASIS_IP:8080/bytes/$SIZE" "http://[$OASIS_IP6]:8080/bytes/$SIZE"; do
        got=$(ns curl -sS --max-time 300 "$url" | sha256sum | cut -d' ' -f1)
        expect_eq "$got" "$want" "$1: SHA-256 of $SIZE bytes curl got from $url"
    done
}
curl_both "offloads on"

# udp_ask ADDR PORT [LOCAL_PORT]: one datagram to ADDR:PORT from Linux;
# prints what came back from that very address and port within 2 s (a
# connected socket takes nothing else), "none", or "error" (an ICMP error).
udp_ask() {
    ns python3 - "$@" <<'PY'
import socket, sys
a, p = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in a else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if len(sys.argv) > 3:
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", int(sys.argv[3])))
s.connect((a, p))
s.settimeout(2)
s.send(b"oasis-udp-echo")
try:
    print(s.recv(100).decode())
except socket.timeout:
    print("none")
except OSError:
    print("error")
PY
}
# UDP echo and discard (RFC 862, 863) on serve's ports: the echo answers
# from the address asked; nothing comes back from discard, nor from echo
# to a request from chargen's port (two small services would loop).
for dst in "$OASIS_IP" "$OASIS_IP6"; do
    expect_eq "$(udp_ask "$dst" 7)" "oasis-udp-echo" "UDP echo from $dst port 7"
done
expect_eq "$(udp_ask "$OASIS_IP" 9)" "none" "UDP discard's answer"
expect_eq "$(udp_ask "$OASIS_IP" 7 19)" "none" "UDP echo's answer to chargen's port"
stop_pid "$SERVE_PID" "oasis serve --tun"
grep -q "UDP: 2 echoed, 1 discarded, 1 refused" "$TMP/serve.log" ||
    fail "serve's UDP counts: $(grep 'UDP:' "$TMP/serve.log")"
pass "serve counted 2 UDP echoes, 1 discarded, 1 refused"

# The capture of everything serve sent and received: IP only (one pass:
# each frame's Ethernet type and ICMPv6 type).
tshark -r "$TMP/serve.pcap" -T fields -e eth.type -e icmpv6.type >"$TMP/types.txt" 2>/dev/null
total=$(wc -l <"$TMP/types.txt")
[ "$total" -gt 1000 ] || fail "serve's capture holds $total frames"
nonip=$(awk '$1 != "0x0800" && $1 != "0x86dd"' "$TMP/types.txt" | wc -l)
expect_eq "$nonip" "0" "frames in serve's capture ($total) that are not IP"
nd=$(awk '$2 == 135 || $2 == 136' "$TMP/types.txt" | wc -l)
expect_eq "$nd" "0" "Neighbour Solicitations and Advertisements in it"

# Oasis to Linux: ping over both families, and an address beyond its
# subnet with no gateway at all.
for dst in "$LINUX_IP" "$LINUX_IP6" "$FAR"; do
    RC=0
    timeout -k 5 20 ip netns exec "$NS" "$OASIS" ping --tun "$TAP" --addr "$OASIS_IP/24" \
        --addr6 "$OASIS_IP6/64" --gw none -c 3 -i 0.2 -W 2 "$dst" >"$TMP/oping.log" 2>&1 || RC=$?
    [ "$RC" -eq 0 ] && grep -q "3 received" "$TMP/oping.log" ||
        fail "Oasis cannot ping $dst (exit $RC): $(tail -2 "$TMP/oping.log")"
    pass "Oasis pings $dst through the TUN (3/3)"
done

# Linux sends, Oasis receives: oasis get from Python's http.server.
mkdir -p "$TMP/www"
head -c "$SIZE" /dev/urandom >"$TMP/www/big.bin"
want=$(sha256sum <"$TMP/www/big.bin" | cut -d' ' -f1)
bg httpd python3 -m http.server 8000 --bind "::" --directory "$TMP/www"
wait_port 8000
for url in "http://$LINUX_IP:8000/big.bin" "http://[$LINUX_IP6]:8000/big.bin"; do
    RC=0
    timeout -k 5 300 ip netns exec "$NS" "$OASIS" get --tun "$TAP" --addr "$OASIS_IP/24" \
        --addr6 "$OASIS_IP6/64" -q "$url" >"$TMP/get.log" 2>&1 || RC=$?
    [ "$RC" -eq 0 ] || fail "oasis get $url exited $RC: $(tail -2 "$TMP/get.log")"
    expect_eq "$(awk '$1 == "sha256" {print $2}' "$TMP/get.log")" "$want" \
        "SHA-256 of $SIZE bytes oasis get fetched from $url"
done

# Transparent: Linux routes two foreign prefixes into the TUN; serve takes
# connections to any address there, and answers from it (Linux's TCP
# would reset a SYN-ACK from another source).
ns ip route add 198.51.100.0/24 dev "$TAP"
ns ip -6 route add 2001:db8::/32 dev "$TAP"
bg serve-t "$OASIS" serve --tun "$TAP" --addr "$OASIS_IP/24" --addr6 "$OASIS_IP6/64" \
    --http-port 8080 --transparent --prometheus 9100
METRICS="http://$OASIS_IP:9100/metrics"
SERVE_PID=$BG_PID
wait_for "$TMP/serve-t.log" "ready on" 10
want=$(pattern_sha 1000000)
for url in "http://198.51.100.7:8080/bytes/1000000" "http://198.51.100.200:8080/bytes/1000000" \
    "http://[2001:db8::7]:8080/bytes/1000000" "http://$OASIS_IP:8080/bytes/1000000"; do
    got=$(ns curl -sS --max-time 30 "$url" | sha256sum | cut -d' ' -f1)
    expect_eq "$got" "$want" "transparent: SHA-256 of 1000000 bytes from $url"
done
# UDP echo on every address: the answer comes from the address asked.
for dst in 198.51.100.7 2001:db8::7; do
    expect_eq "$(udp_ask "$dst" 7)" "oasis-udp-echo" "transparent: UDP echo from $dst port 7"
done
# A port nobody listens on, at a foreign address: refused (a reset from it).
RC=0
ns curl -sS --max-time 10 -o /dev/null "http://198.51.100.7:8081/" 2>"$TMP/refused.log" || RC=$?
expect_eq "$RC" "7" "curl's exit status for a closed port at a foreign address (refused)"
# Path MTU discovery for flows from foreign addresses: a client behind the
# namespace, which routes its subnet with a 1280-byte MTU (its own link
# stays 1500). Its SYN says
# 1460 (its own link is 1500), so serve's first segments are too big; the
# kernel, as a router, sends Fragmentation Needed / Packet Too Big to the
# foreign address they came from, which routes into the TUN. Serve must
# take those (PMTUDLowered) rather than wait for black-hole detection.
ip netns add "$CNS" || fail "cannot create $CNS"
cns() { ip netns exec "$CNS" "$@"; }
cns ip link set lo up
ns ip link add tc0 type veth peer name ct0 netns "$CNS"
ns ip addr add 10.80.0.1/24 dev tc0
ns ip -6 addr add fd00:80::1/64 dev tc0 nodad
ns ip link set tc0 up
cns ip addr add 10.80.0.2/24 dev ct0
cns ip -6 addr add fd00:80::2/64 dev ct0 nodad
cns ip link set ct0 up
cns ip route add default via 10.80.0.1
cns ip -6 route add default via fd00:80::1
# (IPv4 forwarding honours a route's MTU; IPv6's takes the interface's.)
ns ip route replace 10.80.0.0/24 dev tc0 mtu 1280
ns sysctl -qw net.ipv6.conf.tc0.mtu=1280
ns sysctl -qw net.ipv4.ip_forward=1
ns sysctl -qw net.ipv6.conf.all.forwarding=1
lowered0=$(metric TCPPMTUMSSLowered_total)
for url in "http://198.51.100.7:8080/bytes/1000000" "http://[2001:db8::7]:8080/bytes/1000000"; do
    got=$(cns curl -sS --max-time 30 "$url" | sha256sum | cut -d' ' -f1)
    expect_eq "$got" "$want" "transparent behind a 1280-byte route: SHA-256 of 1000000 bytes from $url"
done
lowered=$(metric TCPPMTUMSSLowered_total)
[ -n "$lowered" ] && [ "$lowered" -ge $((lowered0 + 2)) ] ||
    fail "serve lowered no flow's MSS for the router's ICMP errors ($lowered0 -> '$lowered')"
pass "both flows from foreign addresses lowered their MSS for the router's errors ($lowered0 -> $lowered)"
expect_eq "$(metric TCPMTUPFail_total)" "0" "black holes detected (none: the errors came through)"
stop_pid "$SERVE_PID" "oasis serve --transparent"
grep -q "UDP: 2 echoed, 0 discarded, 0 refused" "$TMP/serve-t.log" ||
    fail "transparent serve's UDP counts: $(grep 'UDP:' "$TMP/serve-t.log")"

# --impair on a TUN device: the filter loses, corrupts, reorders and
# duplicates the packets both ways (super-segments cut first); the downloads
# still arrive whole.
bg serve-imp "$OASIS" serve --tun "$TAP" --addr "$OASIS_IP/24" --addr6 "$OASIS_IP6/64" \
    --http-port 8080 --offload on --impair loss=0.02,reorder=0.01,dup=0.01,corrupt=0.005,seed=11
SERVE_PID=$BG_PID
wait_for "$TMP/serve-imp.log" "ready on" 10
want=$(pattern_sha 4000000)
for url in "http://$OASIS_IP:8080/bytes/4000000" "http://[$OASIS_IP6]:8080/bytes/4000000"; do
    got=$(ns curl -sS --max-time 120 "$url" | sha256sum | cut -d' ' -f1)
    expect_eq "$got" "$want" "through --impair: SHA-256 of 4000000 bytes from $url"
done
stop_pid "$SERVE_PID" "oasis serve --tun --impair"
log "$(grep 'counters: impair' "$TMP/serve-imp.log")"
python3 - "$TMP/serve-imp.log" <<'PY' || fail "serve's impair counters: $(grep 'counters: impair' "$TMP/serve-imp.log")"
import re, sys
l = [x for x in open(sys.argv[1]) if x.startswith("counters: impair")][-1]
for d in ("out", "in"):
    f = dict(re.findall(r"([a-z]+) (\d+)", re.search(r"[,;] %s (.*?)(;|$)" % d, l).group(1)))
    for k in ("lost", "corrupted", "reordered", "duplicated"):
        assert int(f[k]) > 0, (d, k, f)
    if d == "out":
        assert int(f["segmented"]) > 0, f
PY
pass "the filter lost, corrupted, reordered and duplicated packets both ways, and cut super-segments"

# Plain packets (--offload off): the same downloads, one read or write per
# packet.
bg serve-plain "$OASIS" serve --tun "$TAP" --addr "$OASIS_IP/24" --addr6 "$OASIS_IP6/64" \
    --http-port 8080 --offload off
SERVE_PID=$BG_PID
wait_for "$TMP/serve-plain.log" "ready on" 10
curl_both "offloads off"
stop_pid "$SERVE_PID" "oasis serve --tun --offload off"
