#!/usr/bin/env bash
# Recovery against Linux through --impair, both roles, one line per run:
# a curl download from oasis serve (Oasis sends, Linux receives) and a
# socat upload to its hash service (Linux sends, Oasis receives), each with
# the same impairment in both directions, and what each sender did
# (Oasis's counters line; Linux's nstat deltas in the namespace). Goodput
# on a shared machine is noisy: compare the counters first.
#   sudo bench/impair_linux.sh OASIS_BIN [SIZE_BYTES] [SPEC...]
#   e.g. sudo bench/impair_linux.sh build/tools/oasis 16777216 loss=0.02 "loss=0.02,dir=in"
# SPEC: --impair's (README "Impairing the link"); offloads off and on each.
NS_TAG=${NS_TAG:-imb}
TEST_NAME=impair_linux
source "$(dirname "$0")/../tests/interop/lib.sh"
SIZE=${2:-16777216}
shift 2 || true
[ $# -gt 0 ] || set -- loss=0.01 loss=0.02 loss=0.05
need curl socat nstat
setup_ns 1500

nstat_line() { # the sender-side counters Linux moved since the last call
    ns nstat -s 2>/dev/null | awk '$1 ~ /TcpRetransSegs|TCPTimeouts|TCPFastRetrans|TCPLossProbes|TCPDSACKRecv$|TCPDSACKUndo|TCPSACKReorder/ {printf "%s=%s ", $1, $2}' | sed 's/TcpExt//g; s/Tcp//g'
}
rate() { python3 -c "print(f'{$1*8/($3-$2)/1e6:.0f}')"; }
want=$(pattern_sha "$SIZE")
n=0
for spec in "$@"; do
    for off in off on; do
        n=$((n + 1))
        start_serve_as "serve$n" --offload "$off" --impair "$spec" --verbose
        ns nstat -n >/dev/null
        t0=$(date +%s.%N)
        got=$(ns curl -sS --fail --max-time 600 "http://$OASIS_IP/bytes/$SIZE" | sha256sum | cut -d' ' -f1) ||
            fail "curl failed ($spec)"
        t1=$(date +%s.%N)
        [ "$got" = "$want" ] || fail "download SHA-256 differs ($spec)"
        down_linux=$(nstat_line)
        t2=$(date +%s.%N)
        got=$("$OASIS" pattern "$SIZE" | ns timeout 600 socat -t 60 - "TCP:$OASIS_IP:5001") ||
            fail "upload failed ($spec)"
        t3=$(date +%s.%N)
        [ "$got" = "$want $SIZE" ] || fail "upload SHA-256 differs ($spec)"
        up_linux=$(nstat_line)
        stop_pid "$SERVE_PID" "oasis serve" >/dev/null
        line=$(grep "^counters: impair" "$TMP/serve$n.log" | sed 's/^counters: //')
        echo "[$spec offload $off] down $(rate "$SIZE" "$t0" "$t1") Mbit/s, up $(rate "$SIZE" "$t2" "$t3") Mbit/s"
        echo "  oasis (sender down, receiver up): $line"
        echo "  linux receiving (down): ${down_linux:-nothing}"
        echo "  linux sending (up):     ${up_linux:-nothing}"
    done
done
