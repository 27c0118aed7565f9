#!/usr/bin/env bash
# The same persistent TAP device served with offloads on, then off (what
# bench/impair_linux.sh does between its stages). TUNSETOFFLOAD outlives
# the descriptor: unless the plain-frame reader clears it, Linux keeps
# sending partial checksums (only the pseudo-header sum) and the second
# serve drops every SYN as corrupt, so curl never connects. Each pass
# downloads and uploads SIZE bytes, SHA-256 checked.
# Args: OASIS_BIN [SIZE_BYTES]
TEST_NAME=interop_offload_switch
NS_TAG=offsw
source "$(dirname "$0")/lib.sh"
SIZE=${2:-1048576}
need curl socat

setup_ns 1500
want=$(pattern_sha "$SIZE")
n=0
for mode in on off on off; do
    n=$((n + 1))
    start_serve_as "serve$n" --offload "$mode" --verbose
    grep -q "offloads $mode on $TAP" "$TMP/serve$n.log" || fail "pass $n: offloads are not $mode"
    # Several SYNs fit in the connect timeout (Linux resends after 1 s);
    # without the fix none of them is answered, however long curl waits.
    got=$(ns curl -sS --fail --connect-timeout 10 --max-time 120 "http://$OASIS_IP/bytes/$SIZE" |
        sha256sum | cut -d' ' -f1) || fail "pass $n (offloads $mode): curl failed"
    expect_eq "$got" "$want" "pass $n (offloads $mode): download SHA-256 of $SIZE bytes"
    got=$("$OASIS" pattern "$SIZE" | ns timeout 120 socat -t 30 - "TCP:$OASIS_IP:5001,connect-timeout=10") ||
        fail "pass $n (offloads $mode): upload failed"
    expect_eq "$got" "$want $SIZE" "pass $n (offloads $mode): upload SHA-256 of $SIZE bytes"
    stop_pid "$SERVE_PID" "oasis serve (pass $n, offloads $mode)"
done
