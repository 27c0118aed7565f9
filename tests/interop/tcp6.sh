#!/usr/bin/env bash
# TCP over IPv6 against the Linux kernel (issue 14): curl -6 downloads from
# `oasis serve` (SHA-256 checked), the options Linux sees on a connection
# to Oasis (window scaling, timestamps, SACK, MSS = 1500 - 60 - 12), socat
# uploads and Linux's half-close, `oasis get` from a Linux HTTP server and
# Oasis's half-close with `oasis nc`, all over IPv6 global addresses.
# Then ordinary clients under load over IPv6: wrk with 1000 keep-alive
# connections and ab with 5000 one-request connections, no error, and every
# flow given back afterwards.
# Args: OASIS_BIN [BIG_SIZE_BYTES]
TEST_NAME=interop_tcp6
NS_TAG=tcp6
source "$(dirname "$0")/lib.sh"
BIG=${2:-1073741824}
need curl socat ss wrk ab

setup_ns 1500
L6=2001:db8:66::1
O6=2001:db8:66::2
tap_ipv6 "$L6/64"

start_serve --addr6 "$O6/64"
wait_for "$TMP/serve.log" "ipv6 $O6/64 preferred \(static\)" 10
URL="http://[$O6]"

# Oasis -> Linux: the pattern, hashed on both ends.
want=$(pattern_sha "$BIG")
got=$(ns curl -6 -sS --fail --max-time 120 -w '%{stderr}%{size_download} %{speed_download}\n' \
    "$URL/bytes/$BIG" 2>"$TMP/curl-big.log" | sha256sum | cut -d' ' -f1) ||
    fail "curl -6 of /bytes/$BIG failed"
expect_eq "$got" "$want" "curl -6 /bytes/$BIG SHA-256"
read -r size speed <"$TMP/curl-big.log"
expect_eq "$size" "$BIG" "curl -6 received every byte"
log "rate Oasis->Linux over IPv6: $(python3 -c "print(f'{$speed*8/1e6:.0f} Mbit/s')") ($BIG bytes)"
grep -q "^http peer=\[$L6\]:[0-9]* " "$TMP/serve.log" || fail "serve's log does not name the IPv6 peer"
pass "serve logs the peer as [$L6]:port"

# The options of a connection Linux opened to Oasis (Oasis's SYN-ACK),
# as the kernel sees them.
bg client bash -c "sleep 5 | socat -u - 'TCP6:[$O6]:9'"
for ((i = 0; i < 50; i++)); do
    ns ss -6 -tnH state established "( dport = :9 )" | grep -q . && break
    sleep 0.1
done
line=$(ns ss -6 -tinH state established "( dport = :9 )" | tr '\n\t' '  ')
echo "ss: $line" >>"$TMP/ss.log"
grep -q "wscale:[0-9]*,[1-9][0-9]*" <<<"$line" || fail "no window scaling from Oasis: $line"
# 1500 - 40 (IPv6) - 20 (TCP) - 12 (timestamps)
grep -q " mss:1428 " <<<"$line" || fail "Linux's MSS toward Oasis is not 1428: $line"
pass "Oasis's SYN-ACK over IPv6 (ss): $(grep -o 'wscale:[0-9,]*' <<<"$line") mss:1428"
# The kernel's TCP_INFO of a connection of its own to Oasis.
info=$(ns python3 "$HERE/tcpinfo.py" client "$O6" 9) || fail "tcpinfo.py cannot connect over IPv6"
echo "tcpinfo: $info" >>"$TMP/ss.log"
grep -q "options=ts,sack,wscale " <<<"$info" || fail "not all of ts, sack, wscale: $info"
expect_eq "$(grep -o 'snd_mss=[0-9]*' <<<"$info" | cut -d= -f2)" 1428 "TCP_INFO snd_mss toward Oasis"
pass "Oasis's SYN-ACK over IPv6 (TCP_INFO): timestamps, SACK and window scaling negotiated"

# Linux -> Oasis: uploads, then Linux's half-close with the answer after it.
UP=$((BIG / 4))   # socat's upload is slower than curl's download
want=$(pattern_sha "$UP")
"$OASIS" pattern "$UP" | ns timeout 120 socat -u - "TCP6:[$O6]:9" || fail "socat -6 upload failed"
wait_for "$TMP/serve.log" "^discard .* bytes=$UP " 30
got=$(grep "^discard .* bytes=$UP " "$TMP/serve.log" | head -1 | sed 's/.*sha256=\([0-9a-f]*\).*/\1/')
expect_eq "$got" "$want" "discard's SHA-256 of $UP bytes uploaded over IPv6"
"$OASIS" pattern 8M >"$TMP/big"
got=$(ns timeout 60 socat -t 30 - "TCP6:[$O6]:5001,shut-down" <"$TMP/big") ||
    fail "socat -6 to the hash service failed"
expect_eq "$got" "$(sha256sum <"$TMP/big" | cut -d' ' -f1) $(stat -c %s "$TMP/big")" \
    "Linux half-closed first over IPv6, then got Oasis's answer"
stop_pid "$SERVE_PID" "oasis serve"

# Oasis -> Linux server: oasis get from python's http.server on [L6].
mkdir -p "$TMP/www"
head -c $((16 * 1024 * 1024 + 3)) /dev/urandom >"$TMP/www/file.bin"
bg http python3 -m http.server 8000 --bind "$L6" --directory "$TMP/www"
wait_port 8000
oasis_run get6 60 get -q -o "$TMP/got.bin" "http://[$L6]:8000/file.bin" --addr6 "$O6/64"
[ "$RC" -eq 0 ] || fail "oasis get over IPv6 exited $RC: $(tail -3 "$TMP/get6.log")"
expect_eq "$(sha256sum <"$TMP/got.bin" | cut -d' ' -f1)" \
    "$(sha256sum <"$TMP/www/file.bin" | cut -d' ' -f1)" "oasis get of 16 MiB from Linux over IPv6"
# The same from Linux's link-local address, the zone in the URL as RFC
# 6874 writes it ("%25" and the TAP's name).
LINUX_LL=$(ns ip -6 -o addr show dev "$TAP" scope link | awk '{print $4}' | cut -d/ -f1 | head -1)
[ -n "$LINUX_LL" ] || fail "the kernel has no link-local address on $TAP"
bg http_ll python3 -m http.server 8001 --bind :: --directory "$TMP/www"
wait_port 8001
oasis_run get6ll 60 get -q -o "$TMP/got-ll.bin" "http://[$LINUX_LL%25$TAP]:8001/file.bin"
[ "$RC" -eq 0 ] || fail "oasis get from [$LINUX_LL%25$TAP] exited $RC: $(tail -3 "$TMP/get6ll.log")"
expect_eq "$(sha256sum <"$TMP/got-ll.bin" | cut -d' ' -f1)" \
    "$(sha256sum <"$TMP/www/file.bin" | cut -d' ' -f1)" "oasis get from Linux's link-local address, zone in the URL"

# Oasis half-closes first (oasis nc), Linux answers after reading to EOF.
bg server socat -t 30 "TCP6-LISTEN:6000,reuseaddr" "SYSTEM:sha256sum,shut-down"
wait_port 6000
oasis_run nc6 60 nc "$L6" 6000 --addr6 "$O6/64" <"$TMP/big"
[ "$RC" -eq 0 ] || fail "oasis nc over IPv6 exited $RC"
grep -q "^oasis nc: 8388608 bytes sent" "$TMP/nc6.log" || fail "oasis nc did not send every byte"
expect_eq "$(grep -v '^oasis nc:' "$TMP/nc6.log" | head -1 | cut -d' ' -f1)" "$(sha256sum <"$TMP/big" | cut -d' ' -f1)" \
    "Oasis half-closed first over IPv6, then got Linux's answer"
wait "$BG_PID" || fail "the Linux server failed"

# nc --source (RFC 1122 4.2.4.4's local address in OPEN): Linux names the
# peer it accepted; an address that is not Oasis's is refused at once.
bg server socat -t 10 "TCP6-LISTEN:6001,reuseaddr" 'SYSTEM:echo peer=$SOCAT_PEERADDR'
wait_port 6001
oasis_run nc6src 30 nc -d --source "$O6" "$L6" 6001 --addr6 "$O6/64"
[ "$RC" -eq 0 ] || fail "oasis nc --source exited $RC: $(tail -3 "$TMP/nc6src.log")"
peer=$(sed -n 's/^peer=\[\(.*\)\]$/\1/p' "$TMP/nc6src.log")
peer=$(python3 -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1]))' "${peer:-none}" 2>/dev/null)
expect_eq "$peer" "$O6" "the peer Linux accepted from oasis nc --source $O6"
wait "$BG_PID" || fail "the Linux server failed"
oasis_run nc6bad 30 nc -d --source 2001:db8:66::99 "$L6" 6001 --addr6 "$O6/64"
expect_eq "$RC" "1" "oasis nc --source with an address not Oasis's"
grep -q "local address not available" "$TMP/nc6bad.log" ||
    fail "nc did not say why: $(cat "$TMP/nc6bad.log")"
pass "oasis nc --source $O6: Linux accepted from it; a stranger address refused"

# Under load over IPv6.
start_serve --quiet --addr6 "$O6/64" --prometheus 9100 --max-conns 2000 --txqueuelen 10000
wait_for "$TMP/serve.log" "ipv6 $O6/64 preferred \(static\)" 10
METRICS="http://[$O6]:9100/metrics"
ns bash -c "ulimit -n 8192 && wrk -t2 -c1000 -d3s --timeout 30s '$URL/bytes/100'" >"$TMP/wrk6.log" 2>&1 ||
    fail "wrk over IPv6 failed: $(tail -n 3 "$TMP/wrk6.log")"
grep -q "Socket errors" "$TMP/wrk6.log" && fail "wrk -c1000 over IPv6: $(grep 'Socket errors' "$TMP/wrk6.log")"
grep -q "Non-2xx" "$TMP/wrk6.log" && fail "wrk -c1000 over IPv6 saw non-2xx answers"
reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk6.log")
[ -n "$reqs" ] && [ "$reqs" -gt 0 ] || fail "wrk -c1000 over IPv6 completed no request"
pass "wrk -c1000 over IPv6: $reqs requests, no socket error, all 200"
ns bash -c "ulimit -n 8192 && ab -q -n 5000 -c 500 '$URL/bytes/1000'" >"$TMP/ab6.log" 2>&1 ||
    fail "ab over IPv6 failed: $(tail -n 3 "$TMP/ab6.log")"
expect_eq "$(awk '/^Complete requests:/ {print $3}' "$TMP/ab6.log") $(awk '/^Failed requests:/ {print $3}' "$TMP/ab6.log")" \
    "5000 0" "ab -n 5000 -c 500 over IPv6: complete, failed"
settled "after the load over IPv6"
pass "every flow given back after the load (CurrEstab, CurrFlows: the scrape's own)"
stop_pid "$SERVE_PID" "oasis serve"
