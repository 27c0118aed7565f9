#!/usr/bin/env bash
# A transparent Oasis on a TAP device, as a transparent proxy on a router:
# Linux routes 198.51.100.0/24 through Oasis's address (ARP, then frames to
# Oasis's MAC for addresses that are not its own), and `oasis serve
# --transparent` takes the connections and datagrams and answers from the
# address asked for (Linux resets a SYN-ACK from any other source, so each
# download shows it). With offloads, so the super-segments Linux cuts come
# from that address too (the IPv4 transmit cache never covers it), and
# without. Args: OASIS_BIN [BYTES]
TEST_NAME=interop_transparent_tap
source "$(dirname "$0")/lib.sh"
need curl python3
SIZE=${2:-16777216}
setup_ns 1500
ns ip route add 198.51.100.0/24 via "$OASIS_IP"

for off in on off; do
    start_serve_as "serve-$off" --http-port 8080 --transparent --offload "$off"
    want=$(pattern_sha "$SIZE")
    for dst in 198.51.100.7 198.51.100.200 "$OASIS_IP"; do
        got=$(ns curl -sS --max-time 120 "http://$dst:8080/bytes/$SIZE" | sha256sum | cut -d' ' -f1)
        expect_eq "$got" "$want" "offload $off: SHA-256 of $SIZE bytes curl got from $dst"
    done
    # UDP echo from the address asked (a connected socket takes nothing else).
    got=$(ns python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("198.51.100.9", 7))
s.settimeout(2)
s.send(b"through the gateway")
try:
    print(s.recv(100).decode())
except OSError:
    print("none")
PY
)
    expect_eq "$got" "through the gateway" "offload $off: UDP echo from 198.51.100.9:7"
    stop_pid "$SERVE_PID" "oasis serve --transparent --offload $off"
done
