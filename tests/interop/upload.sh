#!/usr/bin/env bash
# Linux -> Oasis uploads with socat, to the discard service (which logs a
# SHA-256) and to the hash service (which answers with one).
# Args: OASIS_BIN MTU SIZE_BYTES
TEST_NAME="interop_upload_mtu${2:-1500}"
source "$(dirname "$0")/lib.sh"
MTU=${2:-1500}
SIZE=${3:-67108864}
need socat

setup_ns "$MTU"
start_serve --mtu "$MTU" --http-port 0
want=$(pattern_sha "$SIZE")

start=$(date +%s.%N)
"$OASIS" pattern "$SIZE" | ns timeout 600 socat -u - "TCP:$OASIS_IP:9" ||
    fail "socat upload to discard failed"
end=$(date +%s.%N)
wait_for "$TMP/serve.log" "^discard .* bytes=$SIZE " 30
got=$(grep "^discard .* bytes=$SIZE " "$TMP/serve.log" | head -1 | sed 's/.*sha256=\([0-9a-f]*\).*/\1/')
expect_eq "$got" "$want" "discard's SHA-256 of $SIZE uploaded bytes at MTU $MTU"
log "rate Linux->Oasis (socat upload) at MTU $MTU: $(python3 -c "print(f'{$SIZE*8/($end-$start)/1e6:.0f} Mbit/s')")"

got=$("$OASIS" pattern "$SIZE" | ns timeout 600 socat -t 60 - "TCP:$OASIS_IP:5001") ||
    fail "socat upload to the hash service failed"
expect_eq "$got" "$want $SIZE" "hash service's answer"

stop_pid "$SERVE_PID" "oasis serve"
