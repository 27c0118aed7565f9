#!/usr/bin/env bash
# curl -6 downloads from `oasis serve` at a given link MTU (1280, the IPv6
# minimum of RFC 8200 section 5; 1500; 9000), SHA-256 checked, every byte
# counted, and the MSS Linux sees on a connection to Oasis (MTU - 40 - 20
# - 12 for timestamps). Args: OASIS_BIN MTU [BYTES]
MTU=${2:?usage: $0 OASIS_BIN MTU [BYTES]}
TEST_NAME=interop_mtu6_$MTU
NS_TAG=pl6
source "$(dirname "$0")/lib.sh"
BIG=${3:-268435456}
need curl ss socat
TAP=pl6m0

setup_ns "$MTU"
L6=2001:db8:77::1
O6=2001:db8:77::2
tap_ipv6 "$L6/64"
start_serve --addr6 "$O6/64" --prometheus 9100
wait_for "$TMP/serve.log" "ipv6 $O6/64 preferred \(static\)" 10
URL="http://[$O6]"
METRICS="http://[$O6]:9100/metrics"

want=$(pattern_sha "$BIG")
got=$(ns curl -6 -sS --fail --max-time 120 -w '%{stderr}%{size_download} %{speed_download}\n' \
    "$URL/bytes/$BIG" 2>"$TMP/curl.log" | sha256sum | cut -d' ' -f1) ||
    fail "curl -6 of /bytes/$BIG at MTU $MTU failed: $(cat "$TMP/curl.log")"
expect_eq "$got" "$want" "curl -6 /bytes/$BIG at MTU $MTU: SHA-256"
read -r size speed <"$TMP/curl.log"
expect_eq "$size" "$BIG" "curl -6 at MTU $MTU received every byte"
log "rate at MTU $MTU: $(python3 -c "print(f'{$speed*8/1e6:.0f} Mbit/s')")"

# Four at once, each checked.
PAR=()
for i in 1 2 3 4; do
    ns bash -c "curl -6 -sS --fail --max-time 120 '$URL/bytes/$((BIG / 8 + i))' | sha256sum" >"$TMP/par$i.out" 2>&1 &
    PAR+=($!)
done
wait "${PAR[@]}" # not serve
for i in 1 2 3 4; do
    expect_eq "$(cut -d' ' -f1 <"$TMP/par$i.out")" "$(pattern_sha $((BIG / 8 + i)))" "parallel curl -6 $i at MTU $MTU"
done

bg client bash -c "sleep 5 | socat -u - 'TCP6:[$O6]:9'"
for ((i = 0; i < 50; i++)); do
    ns ss -6 -tnH state established "( dport = :9 )" | grep -q . && break
    sleep 0.1
done
line=$(ns ss -6 -tinH state established "( dport = :9 )" | tr '\n\t' '  ')
grep -q " mss:$((MTU - 72)) " <<<"$line" || fail "Linux's MSS toward Oasis at MTU $MTU is not $((MTU - 72)): $line"
pass "Linux's MSS toward Oasis at MTU $MTU: $((MTU - 72))"
kill "$BG_PID" 2>/dev/null || true
settled "after the downloads"
pass "every flow given back"
stop_pid "$SERVE_PID" "oasis serve"
