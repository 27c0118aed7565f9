#!/usr/bin/env bash
# `oasis serve` under load from ordinary Linux clients (wrk, ab, and
# load_clients.py for hundreds of sockets at once), with a small TCP memory
# budget, checked through its own Prometheus endpoint:
#  1. wrk: 1000 keep-alive connections (small bodies), 200 on large ones;
#  2. ab: 10,000 connections, one request each, from 2000 client ports (each
#     reused about five times while Oasis holds the old one in TIME_WAIT);
#  3. 300 clients that reset (SO_LINGER 0) mid-response;
#  4. 300 clients that stop reading 1 MiB downloads: the budget (--tcp-mem
#     8M) is under pressure and never exceeded, a scrape still gets its
#     answer, and every download completes intact once they read again;
#  5. afterwards every flow is given back (CurrEstab, CurrFlows back to the
#     scrape's own; scrapes leave none behind) and the server exits cleanly
#     (under ASan: no leak);
#  6. a second server with a 2 s HTTP idle timeout: 50 readers that stop
#     for good are reset, and 100 clients that vanish mid-download (nftables
#     drops their traffic, the process is killed) are reclaimed.
# Assertions are on bytes and counts; waits are generous deadlines for
# things that must happen. Args: OASIS_BIN
TEST_NAME=interop_load
NS_TAG=load8
source "$(dirname "$0")/lib.sh"
need wrk ab curl nft
TAP=l8tap0
CLI="$HERE/load_clients.py"
METRICS="http://$OASIS_IP:9100/metrics"
URL="http://$OASIS_IP"

alive() {
    kill -0 "$SERVE_PID" 2>/dev/null && return 0
    head -n 60 "$TMP/serve.log"
    fail "oasis serve died ($1)"
}

setup_ns 1500
# Client ports 40000..41999: ab's 10,000 connections reuse each about five times.
ns sysctl -qw net.ipv4.ip_local_port_range="40000 41999"
start_serve --quiet --prometheus 9100 --max-conns 2000 --tcp-mem 8M --txqueuelen 10000
[ -n "$(metric CurrEstab)" ] || fail "no metrics at $METRICS"

# ---- 1. wrk ----------------------------------------------------------------
ns bash -c "ulimit -n 8192 && wrk -t2 -c1000 -d3s --timeout 30s '$URL/bytes/100'" \
    >"$TMP/wrk.log" 2>&1 || fail "wrk failed: $(tail -n 3 "$TMP/wrk.log")"
reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.log")
grep -q "Socket errors" "$TMP/wrk.log" && fail "wrk -c1000: $(grep 'Socket errors' "$TMP/wrk.log")"
grep -q "Non-2xx" "$TMP/wrk.log" && fail "wrk -c1000 saw non-2xx answers"
[ -n "$reqs" ] && [ "$reqs" -gt 1000 ] || fail "wrk -c1000 completed too few requests: '$reqs'"
pass "wrk -c1000 keep-alive /bytes/100: $reqs requests, no error, all 200"
ns bash -c "ulimit -n 8192 && wrk -t2 -c200 -d3s --timeout 30s '$URL/bytes/256K'" \
    >"$TMP/wrk2.log" 2>&1 || fail "wrk failed: $(tail -n 3 "$TMP/wrk2.log")"
reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk2.log")
grep -q "Socket errors" "$TMP/wrk2.log" && fail "wrk -c200: $(grep 'Socket errors' "$TMP/wrk2.log")"
grep -q "Non-2xx" "$TMP/wrk2.log" && fail "wrk -c200 saw non-2xx answers"
[ -n "$reqs" ] && [ "$reqs" -gt 0 ] || fail "wrk -c200 completed no request"
pass "wrk -c200 keep-alive /bytes/256K within the 8 MiB budget: $reqs requests, no error"
alive "after wrk"

# ---- 2. connection churn ------------------------------------------------------
ns bash -c "ulimit -n 8192 && ab -q -n 10000 -c 100 -s 30 '$URL/bytes/1K'" >"$TMP/ab.log" 2>&1 ||
    fail "ab failed: $(tail -n 3 "$TMP/ab.log")"
complete=$(awk '/^Complete requests:/ {print $3}' "$TMP/ab.log")
failed=$(awk '/^Failed requests:/ {print $3}' "$TMP/ab.log")
non2xx=$(awk '/^Non-2xx responses:/ {print $3}' "$TMP/ab.log")
expect_eq "$complete/$failed/${non2xx:-0}" "10000/0/0" \
    "ab -n 10000 -c 100 from 2000 ports: complete/failed/non-2xx"

# ---- 3. resets mid-response ---------------------------------------------------------
resets0=$(metric EstabResets_total)
got=$(ns bash -c "ulimit -n 8192 && python3 '$CLI' reset '$OASIS_IP' 80 300 10000000") ||
    fail "reset clients failed"
expect_eq "$got" "reset 300" "300 clients closed with SO_LINGER 0 mid-response"
settled "after the resets"
resets=$(($(metric EstabResets_total) - resets0))
[ "$resets" -ge 300 ] || fail "EstabResets grew by $resets, want 300"
pass "EstabResets counted them ($resets); every flow given back"
alive "after the resets"

# ---- 4. readers that stop, under a small budget ------------------------------------
bg stall bash -c "ulimit -n 8192 && exec python3 '$CLI' stall '$OASIS_IP' 80 300 1048576 '$TMP/go'"
STALL_PID=$BG_PID
wait_for "$TMP/stall.log" "^stalled 300" 60
sleep 2 # the windows close, the server's buffers fill
ns curl -sS --fail --max-time 30 -o "$TMP/m.txt" "$METRICS" || fail "no scrape answer under memory pressure"
pass "a scrape is answered while 300 readers hold the budget"
# New clients get their requests in and their answers out meanwhile.
ns ab -q -n 200 -c 20 -s 30 "$URL/bytes/10K" >"$TMP/ab2.log" 2>&1 ||
    fail "ab beside the stalled readers failed: $(tail -n 3 "$TMP/ab2.log")"
expect_eq "$(awk '/^Complete requests:/ {print $3}' "$TMP/ab2.log")/$(awk '/^Failed requests:/ {print $3}' "$TMP/ab2.log")" \
    "200/0" "ab -n 200 -c 20 beside the stalled readers: complete/failed"
val() { awk -v n="oasis_tcp_$1" '$1 == n {print $2}' "$TMP/m.txt"; }
[ "$(val CurrEstab)" -ge 300 ] || fail "only $(val CurrEstab) connections established"
[ "$(val TCPMemoryPressures_total)" -ge 1 ] || fail "no memory pressure recorded"
[ "$(val TCPMemBytes)" -le $((8 << 20)) ] || fail "TCPMemBytes $(val TCPMemBytes) over the budget"
pass "under pressure: TCPMemBytes $(val TCPMemBytes) <= 8 MiB, pressures $(val TCPMemoryPressures_total), TCPMemSndLimited $(val TCPMemSndLimited_total)"
touch "$TMP/go"
wait "$STALL_PID" || true
expect_eq "$(head -n 2 "$TMP/stall.log" | tail -n 1)" "complete 300 bad 0 short 0" \
    "300 stalled downloads of 1 MiB complete intact once read"
peak=$(metric TCPMemPeakBytes)
[ "$peak" -le $((8 << 20)) ] || fail "TCPMemPeakBytes $peak over the budget"
pass "TCPMemPeakBytes $peak <= 8 MiB"
alive "after the stalled readers"

# ---- 5. nothing left behind ---------------------------------------------------------
settled "after the load"
for _ in 1 2 3 4 5; do metric CurrFlows >/dev/null; done
expect_eq "$(metric CurrFlows)" 1 "scrapes leave no flow behind"
mem=$(metric TCPMemBytes)
[ "$mem" -le 65536 ] || fail "TCPMemBytes $mem with one connection open"
pass "buffer memory back to $mem bytes; server RSS $(ps -o rss= -p "$SERVE_PID") KiB"
stop_pid "$SERVE_PID" "oasis serve (load)"

# ---- 6. readers that stop for good, clients that vanish --------------------------------
start_serve --quiet --prometheus 9100 --max-conns 2000 --idle-timeout http=2
got=$(ns python3 "$CLI" stall-count "$OASIS_IP" 80 50 10000000 8) || fail "stall-count failed"
expect_eq "$(echo "$got" | tail -n 1)" "closed 50" "50 readers stopped for good: reset after the idle timeout"
bg hold python3 "$CLI" hold "$OASIS_IP" 80 100 10000000
HOLD_PID=$BG_PID
wait_for "$TMP/hold.log" "^open 100" 60
[ "$(metric CurrEstab)" -ge 101 ] || fail "the 100 downloads are not established"
ns nft add table ip load8 || fail "nft: cannot add a table"
ns nft add chain ip load8 in '{ type filter hook input priority 0 ; }'
ns nft add chain ip load8 out '{ type filter hook output priority 0 ; }'
ns nft add rule ip load8 in ip saddr "$OASIS_IP" tcp sport 80 drop
ns nft add rule ip load8 out ip daddr "$OASIS_IP" tcp dport 80 drop
kill -KILL "$HOLD_PID"
wait "$HOLD_PID" 2>/dev/null || true
settled "after 100 clients vanished"
pass "100 vanished clients timed out and reclaimed"
ns nft delete table ip load8
expect_eq "$(ns curl -sS --fail --max-time 10 "$URL/bytes/1000" | sha256sum | cut -d' ' -f1)" \
    "$(pattern_sha 1000)" "still serving afterwards"
stop_pid "$SERVE_PID" "oasis serve (timeouts)"
