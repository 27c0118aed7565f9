#!/usr/bin/env bash
# `oasis serve` under load from ordinary Linux clients over IPv6 (the IPv4
# side is load.sh): ab with one request per connection, wrk with 400
# keep-alive connections, short connections at a high rate from a few
# client ports (Oasis's TIME_WAIT entries met by new SYNs on the same
# tuple, RFC 6191 section 2; then Linux closing first), and clients that
# half-close (shutdown(SHUT_WR)) before reading. Afterwards every flow is
# given back and TCPMemBytes is down. Then a server at --max-conns 8
# --backlog 4: ab at -c 16 (slots plus queue) gets every answer, wrk -c400
# sees no error, SYN cookies (RFC 4987 3.6) carrying the overflow over
# IPv6. Counts and hashes only.
# Args: OASIS_BIN [AB_REQUESTS] [CHURN_CONNECTIONS]
TEST_NAME=interop_load6
NS_TAG=${NS_TAG:-pl6}
source "$(dirname "$0")/lib.sh"
AB_N=${2:-20000}
CHURN_N=${3:-4000}
need wrk ab curl
TAP=pl6tap0
CLI="$HERE/load6_clients.py"

setup_ns 1500
L6=2001:db8:76::1
O6=2001:db8:76::2
tap_ipv6 "$L6/64"
start_serve --quiet --addr6 "$O6/64" --prometheus 9100 --max-conns 2000 --txqueuelen 10000
wait_for "$TMP/serve.log" "ipv6 $O6/64 preferred \(static\)" 10
URL="http://[$O6]"
METRICS="http://[$O6]:9100/metrics"
# Client ports 40000..40499 (the scrapes' too) until the churn is done.
ns sysctl -qw net.ipv4.ip_local_port_range="40000 40499"
[ -n "$(metric CurrEstab)" ] || fail "no metrics at $METRICS"

# ---- short connections from 500 ports ------------------------------------------
# From 500 client ports: the churn reuses each several times while
# Oasis (which closes first) holds the old tuple in TIME_WAIT; a new SYN
# with a higher timestamp takes it over (RFC 6191).
got=$(ns bash -c "ulimit -n 8192 && python3 '$CLI' churn '$O6' 80 $CHURN_N 50 2000 server") || fail "churn (server closes) failed: $got"
echo "$got" >>"$TMP/churn.log"
expect_eq "$(head -n 1 <<<"$got")" "churn ok $CHURN_N bad 0 err 0" "$CHURN_N short connections over 500 ports, Oasis closing first"
# One entry per tuple: a SYN that reopens a tuple takes its entry over.
tw=$(metric CurrTimeWait)
[ "$tw" -le 500 ] || fail "$tw TIME_WAIT entries for 500 tuples"
pass "Oasis's TIME_WAIT entries after the churn: $tw (500 tuples)"
# Linux closing first holds its own TIME_WAIT (and cannot reuse a port of
# its own within a second): the whole range for these.
ns sysctl -qw net.ipv4.ip_local_port_range="32768 60999"
got=$(ns bash -c "ulimit -n 8192 && python3 '$CLI' churn '$O6' 80 $CHURN_N 50 2000 client") || fail "churn (client closes) failed: $got"
expect_eq "$(head -n 1 <<<"$got")" "churn ok $CHURN_N bad 0 err 0" "$CHURN_N short connections, Linux closing first"
serve_alive "after the churn"

# ---- ab: one request per connection -----------------------------------------
ns bash -c "ulimit -n 8192 && ab -q -n $AB_N -c 200 -s 30 '$URL/bytes/1000'" >"$TMP/ab.log" 2>&1 ||
    fail "ab over IPv6 failed: $(tail -n 3 "$TMP/ab.log")"
expect_eq "$(awk '/^Complete requests:/ {print $3}' "$TMP/ab.log")/$(awk '/^Failed requests:/ {print $3}' "$TMP/ab.log")/$(awk '/^Non-2xx responses:/ {print $3}' "$TMP/ab.log")" \
    "$AB_N/0/" "ab -n $AB_N -c 200 over IPv6: complete/failed/non-2xx"
expect_eq "$(awk '/^HTML transferred:/ {print $3}' "$TMP/ab.log")" "$((AB_N * 1000))" "ab: every body whole"
serve_alive "after ab"

# ---- wrk: 400 keep-alive connections -------------------------------------------
ns bash -c "ulimit -n 8192 && wrk -t2 -c400 -d3s --timeout 30s '$URL/bytes/4K'" >"$TMP/wrk.log" 2>&1 ||
    fail "wrk over IPv6 failed: $(tail -n 3 "$TMP/wrk.log")"
grep -q "Socket errors" "$TMP/wrk.log" && fail "wrk -c400 over IPv6: $(grep 'Socket errors' "$TMP/wrk.log")"
grep -q "Non-2xx" "$TMP/wrk.log" && fail "wrk -c400 over IPv6 saw non-2xx answers"
reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.log")
[ -n "$reqs" ] && [ "$reqs" -gt 400 ] || fail "wrk -c400 over IPv6 completed too few requests: '$reqs'"
pass "wrk -c400 over IPv6: $reqs requests, no socket error, all 200"
serve_alive "after wrk"

# ---- half-close -------------------------------------------------------------------
got=$(ns python3 "$CLI" halfclose "$O6" 7 100 100000) || fail "halfclose failed: $got"
expect_eq "$(head -n 1 <<<"$got")" "halfclose ok 100 bad 0 err 0" "100 clients half-closed, then read their echo"
got=$(ns python3 "$CLI" httphalf "$O6" 80 100 300000) || fail "httphalf failed: $got"
expect_eq "$(head -n 1 <<<"$got")" "httphalf ok 100 bad 0 err 0" "100 HTTP clients half-closed after the request, then read the answer"

# ---- nothing left behind -------------------------------------------------------------
settled "after the load over IPv6"
mem=$(metric TCPMemBytes)
[ "$mem" -le 65536 ] || fail "TCPMemBytes $mem with one connection open"
pass "every flow given back; TCPMemBytes $mem"
stop_pid "$SERVE_PID" "oasis serve"
grep counters "$TMP/serve.log" | sed 's/^/  /' || true

# ---- over the limit: the backlog, then SYN cookies over IPv6 --------------------------
# --max-conns 8 --backlog 4: 8 connections served, at most 8 more (twice
# the backlog) waiting in the listener's queue, from the 5th on by SYN
# cookies (RFC 4987 3.6). Past that a SYN, or a cookie's ACK even with the
# request on it, is dropped (as Linux drops them at a full accept queue)
# and the client's TCP resends it on its own backoff.
#
# So ab runs at -c 16, slots plus queue places: once serve holds 8, no
# more of ab's connections wait than the queue takes (a SYN of its first
# burst may be dropped and comes again 1 s later), and every request must
# be answered. At -c 200 nothing bounds the time: ab gave up after -s 30 s
# without an event in 5 of 9 ASan and 2 of 6 plain runs of this part, two
# at a time on 2 cores (and once in CI, 1962 of 2000 done). The captures:
# ab's own silent connections (below) held the 8 slots and the 8 queue
# places for make_room's 2 s while about 100 of its requests had their
# cookie ACK dropped. Linux resent those in step (the same 200 ms RTO,
# doubled each time); each round, all within 0.2 ms, found 8 places and
# was dropped again for the rest. After 8 rounds the gap is 51 s, and 100
# requests at 8 a round take 13 rounds: no -s covers that. wrk -c400
# leaves some 300 connections that Linux resends in step for 100 s after
# wrk exits (in FIN-WAIT-1, request and FIN never taken), which crowded
# the queue the same way: wrk runs after ab. On a failure the state of
# both sides is printed (limit_state).
limit_state() {
    {
        echo "oasis:"
        ns curl -sS --max-time 10 "$METRICS" | grep -E "^oasis_tcp_(ListenOverflows|Syncookies|CurrEstab|CurrFlows)"
        echo "linux, connections to port 80: state, how many, how many with data never acknowledged, highest backoff"
        ns ss -Htanoi "( dport = :80 )" | awk '
            /^[A-Z]/ {st = $1; sq = $3; next}
            { n[st]++; if (sq > 0 && / bytes_acked:1 /) u[st]++
              if (match($0, /backoff:[0-9]+/)) { b = substr($0, RSTART + 8, RLENGTH - 8) + 0; if (b > mb[st]) mb[st] = b } }
            END { for (s in n) printf "  %s %d %d %d\n", s, n[s], u[s] + 0, mb[s] + 0 }'
        grep -vE " GET | HEAD " "$TMP/serve2.log" | tail -n 20
    } >"$TMP/limit_state.log" 2>&1
}
start_serve_as serve2 --addr6 "$O6/64" --prometheus 9100 --max-conns 8 --backlog 4
wait_for "$TMP/serve2.log" "ipv6 $O6/64 preferred \(static\)" 10
if ! ns bash -c "ulimit -n 8192 && ab -q -n 2000 -c 16 -s 30 '$URL/bytes/1000'" >"$TMP/ab2.log" 2>&1; then
    limit_state
    fail "ab over the limit failed: $(tail -n 3 "$TMP/ab2.log")"
fi
# ab's failures here are its own: once it has started its -n requests it
# still opens connections but writes nothing on them (its write_request
# returns when started >= requests). Those can hold the server's slots
# while requests ab did send wait, until make_room closes them, and ab
# counts each such close as a short answer ("Length"). What must hold:
# every request completes, every failure is a "Length" one that got no
# byte at all (ab's own totals: no answer cut or refused), and no
# connection is closed in the middle of a request head. The server's
# count of silent connections it closed is printed beside ab's failures
# (a first CI run had 14 failures against 8 such closes, unexplained).
complete=$(awk '/^Complete requests:/ {print $3}' "$TMP/ab2.log")
failed=$(awk '/^Failed requests:/ {print $3}' "$TMP/ab2.log")
length=$(sed -n 's/.*(Connect: .*Length: \([0-9]*\).*/\1/p' "$TMP/ab2.log")
total=$(awk '/^Total transferred:/ {print $3}' "$TMP/ab2.log")
html=$(awk '/^HTML transferred:/ {print $3}' "$TMP/ab2.log")
werr=$(awk '/^Write errors:/ {print $3}' "$TMP/ab2.log")
silent=$(grep -c "nothing read" "$TMP/serve2.log" || true)
expect_eq "$complete" 2000 "ab -n 2000 -c 16 over --max-conns 8 --backlog 4: complete requests"
expect_eq "${length:-0}" "$failed" "ab over the limit: every failure a short answer (Length)"
expect_eq "$(grep -c 'Non-2xx' "$TMP/ab2.log" || true)" 0 "ab over the limit: no answer but 200"
expect_eq "$(grep -c 'closed to make room.*request head unfinished' "$TMP/serve2.log" || true)" 0 \
    "connections closed to make room in the middle of a request head (none)"
good=$((complete - failed))
[ "$good" -gt 0 ] || fail "ab over the limit: no answer at all"
expect_eq "$html/$((total % good))" "$((good * 1000))/0" \
    "ab: bodies and bytes of the answers it got, none of them cut, none to a failed request (HTML transferred / remainder)"
pass "ab -c16 over the limit: $failed failed, each without a byte; serve closed $silent connections that had sent nothing; ab write errors: ${werr:-0}"
[ "$failed" -le "$silent" ] || grep -E "make room|head timeout" "$TMP/serve2.log" | tail -n 20 | sed 's/^/  /' || true
ns bash -c "ulimit -n 8192 && wrk -t2 -c400 -d2s --timeout 30s '$URL/bytes/100'" >"$TMP/wrk2.log" 2>&1 ||
    fail "wrk over the limit failed: $(tail -n 3 "$TMP/wrk2.log")"
grep -q "Socket errors" "$TMP/wrk2.log" && fail "wrk -c400 over --max-conns 8: $(grep 'Socket errors' "$TMP/wrk2.log")"
grep -q "Non-2xx" "$TMP/wrk2.log" && fail "wrk -c400 over --max-conns 8 saw non-2xx answers"
cookies=$(metric SyncookiesRecv_total)
[ "${cookies:-0}" -gt 0 ] || fail "no SYN cookie came back over IPv6 (the overflow this part needs did not happen)"
pass "ab -c16 and wrk -c400 over --max-conns 8 --backlog 4: $cookies connections from SYN cookies"
settled "after the load over the limit"
stop_pid "$SERVE_PID" "oasis serve (limit)"
