#!/usr/bin/env bash
# Issue 12: `oasis serve` against the clients people use, and against
# clients that hold connections (idle, slowloris). Args: OASIS_BIN
TEST_NAME="interop_http_clients"
NS_TAG=http
source "$(dirname "$0")/lib.sh"
need curl ab
CLI="$HERE/http_clients.py"

setup_ns 1500
mkdir -p "$TMP/www/sub"
echo "<p>the root index</p>" >"$TMP/www/index.html"
echo "<p>sub index</p>" >"$TMP/www/sub/index.html"
head -c $((5 * 1024 * 1024 + 333)) /dev/urandom >"$TMP/www/file.bin"
# Timeouts long enough that only the behaviour under test can explain a
# success: a slot must be made by closing the longest-idle connection, not
# by a timeout (the default limit of 256 connections holds).
start_serve --root "$TMP/www" --quiet --idle-timeout http=120 --header-timeout 120
URL="http://$OASIS_IP"

# ---- HTTP/1.0 keep-alive, ab -k -------------------------------------------
out=$(ns python3 "$CLI" keepalive10 "$OASIS_IP" 80) || fail "HTTP/1.0 keep-alive exchange failed"
expect_eq "$out" $'HTTP/1.1 200 OK connection=keep-alive\nHTTP/1.1 200 OK connection=keep-alive' \
    "HTTP/1.0 keep-alive confirmed, two requests on one connection"
ns ab -k -n 5000 -c 20 -s 60 "$URL/bytes/100" >"$TMP/ab.log" 2>&1 || fail "ab -k failed"
expect_eq "$(awk '/^Complete requests:/ {print $3}' "$TMP/ab.log")" 5000 "ab -k: every request completed"
expect_eq "$(awk '/^Failed requests:/ {print $3}' "$TMP/ab.log")" 0 "ab -k: 0 failed requests"
expect_eq "$(awk '/^Keep-Alive requests:/ {print $3}' "$TMP/ab.log")" 5000 "ab -k: all on kept-alive connections"

# ---- what curl and browsers expect -----------------------------------------
expect_eq "$(ns curl -sS --fail --max-time 10 "$URL/")" "<p>the root index</p>" "GET / serves index.html"
got=$(ns curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 10 "$URL/sub")
expect_eq "$got" "301 $URL/sub/" "/sub redirects to /sub/"
expect_eq "$(ns curl -sSL --fail --max-time 10 "$URL/sub")" "<p>sub index</p>" "curl -L follows to the index"
got=$(ns python3 "$CLI" raw "$OASIS_IP" 80 'GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n' | head -1)
expect_eq "${got%$'\r'}" "HTTP/1.1 400 Bad Request" "a request line with four fields is 400"

# Byte ranges: curl -C - resumes a partial download, intact.
want=$(sha256sum <"$TMP/www/file.bin" | cut -d' ' -f1)
head -c 1234567 "$TMP/www/file.bin" >"$TMP/part.bin"
ns curl -sS --fail --max-time 60 -C - -o "$TMP/part.bin" -D "$TMP/resume.hdr" "$URL/file.bin" ||
    fail "curl -C - failed"
grep -q "^HTTP/1.1 206" "$TMP/resume.hdr" || fail "the resume was not a 206"
grep -qi "^Content-Range: bytes 1234567-5243212/5243213" "$TMP/resume.hdr" || fail "bad Content-Range"
expect_eq "$(sha256sum <"$TMP/part.bin" | cut -d' ' -f1)" "$want" "curl -C - resumed the download intact"
head -c 777 "$TMP/www/file.bin" >"$TMP/part2.bin"
ns curl -sS --fail --max-time 60 -C - -o "$TMP/part2.bin" "$URL/bytes/100000" || fail "curl -C - of /bytes failed"
expect_eq "$(tail -c +778 "$TMP/part2.bin" | sha256sum | cut -d' ' -f1)" \
    "$(python3 - <<'PY'
import hashlib
print(hashlib.sha256(bytes(((i % 251 + i // 65536) % 256) for i in range(777, 100000))).hexdigest())
PY
)" "a range of the pattern"
code=$(ns curl -s -o /dev/null -w '%{http_code}' -r 99999999- --max-time 10 "$URL/file.bin")
expect_eq "$code" "416" "a range past the end is 416"
ns curl -sSI --max-time 10 "$URL/file.bin" | grep -qi "^Accept-Ranges: bytes" || fail "no Accept-Ranges"
pass "Accept-Ranges: bytes"

# ---- 300 idle connections (limit 256) do not lock a new client out -------
bg idle python3 "$CLI" idle "$OASIS_IP" 80 300 600
IDLE_PID=$BG_PID
wait_for "$TMP/idle.log" "^open 300" 60
sleep 3 # every one of them idle long enough to be closed for room; the curl is not
got=$(ns curl -sS --fail --max-time 30 "$URL/bytes/10" | wc -c) || fail "curl locked out by idle connections"
expect_eq "$got" 10 "a new curl is served while 300 idle connections are held"
kill "$IDLE_PID" 2>/dev/null || true

# ---- slowloris: a head that never completes is cut at its deadline -------
stop_pid "$SERVE_PID" "oasis serve"
start_serve --root "$TMP/www" --quiet --idle-timeout http=120 --header-timeout 3
got=$(ns python3 "$CLI" slowloris "$OASIS_IP" 80 60) || fail "slowloris connection never closed"
expect_eq "$got" "closed HTTP/1.1 408 Request Timeout" "slowloris head closed with 408 at its deadline"
got=$(ns python3 "$CLI" raw "$OASIS_IP" 80 '')
expect_eq "$got" "<EOF>" "a silent connection is closed at the head deadline"

# ---- silent connections take no slot (--defer-accept) --------------------
# 40 connections that say nothing against --max-conns 4 and a backlog of 8:
# the first 8 wait in the stack's backlog, the rest are SYN cookies whose
# pure ACKs open nothing (TCPDeferAcceptDrop); a curl's request opens its
# flow and is served with no silent connection closed to make room for it
# (--defer-accept 0: the silent ones fill the 4 slots, and the curl waits
# until make_room closes them).
stop_pid "$SERVE_PID" "oasis serve"
METRICS="http://$OASIS_IP:9100/metrics"
start_serve_as serve_silent --root "$TMP/www" --max-conns 4 --backlog 8 --prometheus 9100 \
    --defer-accept "${DEFER_ACCEPT:-20}"
bg silent python3 "$CLI" silent "$OASIS_IP" 80 40 600
SILENT_PID=$BG_PID
wait_for "$TMP/silent.log" "^open 40" 60
got=$(ns curl -sS --fail --max-time 30 "$URL/bytes/10" | wc -c) || fail "curl locked out by silent connections"
expect_eq "$got" 10 "a curl is served while 40 silent connections are held (--max-conns 4)"
expect_eq "$(grep -c 'closed to make room' "$TMP/serve_silent.log" || true)" 0 \
    "silent connections closed to make room for it (none: they hold no slot)"
drops=$(metric TCPDeferAcceptDrop_total)
[ "${drops:-0}" -gt 0 ] || fail "no pure cookie ACK was left without a flow (TCPDeferAcceptDrop ${drops:-none})"
pass "$drops pure ACKs of SYN cookies opened no flow (TCPDeferAcceptDrop)"
kill "$SILENT_PID" 2>/dev/null || true

# Still serving after all that.
expect_eq "$(ns curl -sS --fail --max-time 10 "$URL/bytes/7" | wc -c)" 7 "still serving"
stop_pid "$SERVE_PID" "oasis serve"
