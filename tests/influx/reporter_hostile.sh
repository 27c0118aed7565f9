#!/usr/bin/env bash
# The reporter (`oasis serve --influx`) against a misbehaving InfluxDB 1.x
# (fake_influx.py: no real one answers like this on demand), then the lines
# it sent read by a real InfluxDB. In a private network namespace on a TAP
# device (tests/interop/lib.sh); the host tag needs every escape.
#
#  0. Nothing listens and the queue is small: it stays bounded, the points
#     that find no room are counted as dropped.
#  1. Nothing listens at start: the points are kept and arrive once it does.
#  2. 503, then 429 (RFC 6585 4: too many requests, try later): the points
#     of the failed requests are sent again, none lost.
#  3. 400: that batch is rejected and counted, not retried.
#  4. Connection: close after every answer, or a close without saying so;
#     answers slower than usual;
#     an answer later than the reporter's timeout (3 s here, --influx-timeout):
#     the batch is sent again.
#  5. At exit: collected = sent + dropped + rejected (nothing queued).
#  6. A real InfluxDB takes every line and the dump as they are (204), and
#     its SHOW TAG VALUES gives the host tag back unchanged.
# Args: OASIS_BIN
TEST_NAME=influx_reporter_hostile
NS_TAG=${NS_TAG:-pmet}
MYDIR=$(cd "$(dirname "$0")" && pwd)
source "$MYDIR/../interop/lib.sh"
HOSTTAG='pm "x\y z,a=b'
INTERVAL_MS=200

need curl
setup_ns 1500
F=$TMP/fake
mkdir -p "$F"
# Replaced whole (rename), never truncated in place: the fake server reads
# the file before every answer, and under load it read an empty one.
mode() { echo "$*" >"$F/mode.new" && mv -f "$F/mode.new" "$F/mode"; }
rc() { python3 "$MYDIR/rep_check.py" "$F/lines.lp" "$@"; }
now_ns() { date +%s%N; }
nreq() { local n; n=$(grep -c " $1 " "$F/requests.log" 2>/dev/null) || true; echo "${n:-0}"; }
wait_req() { # STATUS N: until N requests got STATUS
    local i
    for ((i = 0; i < 300; i++)); do
        [ "$(nreq "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    fail "no $2 request(s) answered $1 (got $(nreq "$1"))"
}
# wait_stat FIELD OP N: until the newest oasis_reporter point says FIELD OP N.
wait_stat() {
    local i v
    for ((i = 0; i < 300; i++)); do
        v=$(rc last "$1")
        [ -n "$v" ] && [ "$v" "$2" "$3" ] && return 0
        sleep 0.1
    done
    fail "oasis_reporter $1 is '$v', not $2 $3"
}
# delivered A B WHAT: every collection stamped in [A, B] (one tcp point each)
# is in what the server took; the count is what an interval of
# $INTERVAL_MS ms gives, less one for either end.
delivered() {
    local n want=$((($2 - $1) / (INTERVAL_MS * 1000000) - 1))
    n=$(rc count tcp "$1" "$2")
    [ "$n" -ge "$want" ] || fail "$3: $n tcp points stamped in the window, want at least $want"
    pass "$3: all $n collections of the window delivered"
}

mode ok
# ---- 0: a small queue while nothing listens: bounded, the drops counted -----------
start_serve_as small --quiet --influx "http://$LINUX_IP:8086/oasis" --influx-interval $INTERVAL_MS \
    --influx-queue 30 --influx-backoff-max 500 --metrics-dump "$TMP/small.lp"
sleep 3
stop_pid "$SERVE_PID" "oasis serve (queue 30)"
final=$(grep '^oasis_reporter_final' "$TMP/small.lp")
get() { sed -E "s/.*[ ,]$1=([0-9]+)i.*/\1/" <<<"$final"; }
coll=$(get points_collected) sent=$(get points_sent) drop=$(get points_dropped) queue=$(get queue_points)
[ "$sent" = 0 ] && [ "$queue" -le 30 ] && [ "$drop" -gt 0 ] && [ $((queue + drop)) = "$coll" ] ||
    fail "queue 30, nothing listening: collected $coll, sent $sent, dropped $drop, queued $queue"
pass "queue 30, nothing listening: $queue queued, the other $drop of $coll counted as dropped"

# ---- 1: nothing listens at start --------------------------------------------------
t0=$(now_ns)
start_serve --quiet --influx "http://$LINUX_IP:8086/oasis" --influx-interval $INTERVAL_MS \
    --influx-queue 20000 --influx-backoff-max 500 --influx-timeout 3000 --host-tag "$HOSTTAG" --metrics-dump "$TMP/dump.lp" --prometheus 9100
sleep 2
t1=$(now_ns)
bg fake python3 "$MYDIR/fake_influx.py" "$LINUX_IP" 8086 "$F"
wait_req 204 1
wait_stat points_sent -gt 0
wait_stat connect_failures -gt 0
delivered "$t0" "$t1" "down at start: the points of the first 2 s kept and sent once it listens"

# ---- 2: 503, then 429 ----------------------------------------------------------------
for st in 503 429; do
    n0=$(nreq $st)
    a=$(now_ns)
    mode status $st
    wait_req $st $((n0 + 2))
    sleep 1
    mode ok
    b=$(now_ns)
    sleep 2
    wait_stat http_errors -ge 2
    delivered "$a" "$b" "$st for a while"
done
[ "$(rc last points_rejected)" = 0 ] || fail "points rejected after 503/429: $(rc last points_rejected)"
[ "$(rc last points_dropped)" = 0 ] || fail "points dropped after 503/429: $(rc last points_dropped)"
pass "503 and 429: nothing rejected, nothing dropped"

# ---- 3: 400 -------------------------------------------------------------------------
n0=$(nreq 400)
mode status 400
wait_req 400 $((n0 + 1))
mode ok
lines400=$(awk -v n="$n0" '$2 == 400 { if (++k == n + 1) print $3 }' "$F/requests.log")
sleep 1
wait_stat points_rejected -ge "$lines400"
expect_eq "$(rc last batches_rejected)" 1 "400: that batch ($lines400 points) rejected, counted, not sent again"

# ---- 4: close after each answer, slow answers, an answer past the timeout -----------
c0=$(rc last connects)
mode close
sleep 2
mode ok
sleep 1
conns=$(awk '$2 == 204 {print $1}' "$F/requests.log" | sort -u | wc -l)
[ "$(rc last connects)" -ge $((c0 + 4)) ] || fail "Connection: close: connects went from $c0 to $(rc last connects)"
pass "Connection: close after every answer: a new connection each time ($conns connections so far)"
a=$(now_ns)
mode hangup
sleep 2
mode ok
b=$(now_ns)
sleep 2
delivered "$a" "$b" "closed after every answer without saying so"
a=$(now_ns)
mode slow 1.5
sleep 4
mode ok
b=$(now_ns)
sleep 2
delivered "$a" "$b" "answers 1.5 s late"
[ "$(rc last send_failures)" = 0 ] || fail "send failures with slow answers: $(rc last send_failures)"
a=$(now_ns)
mode slow 5
sleep 3.5 # (the request answered in 5 s has failed at 3 s; its retry gets a prompt answer)
mode ok
wait_stat send_failures -ge 1
b=$(now_ns)
sleep 3
delivered "$a" "$b" "an answer past the reporter's timeout (--influx-timeout 3000)"
serve_alive "after the fake's misbehaviour"

# ---- 5: at exit ---------------------------------------------------------------------------
stop_pid "$SERVE_PID" "oasis serve"
[ -s "$TMP/dump.lp" ] || fail "no dump"
final=$(grep '^oasis_reporter_final' "$TMP/dump.lp")
get() { sed -E "s/.*[ ,]$1=([0-9]+)i.*/\1/" <<<"$final"; }
coll=$(get points_collected) sent=$(get points_sent) drop=$(get points_dropped) rej=$(get points_rejected)
queue=$(get queue_points) infl=$(get inflight_points)
log "collected $coll, sent $sent, dropped $drop, rejected $rej, queued $queue, in flight $infl"
expect_eq "$((sent + drop + rej + queue + infl))" "$coll" "at exit: every point collected is sent, dropped or rejected"
expect_eq "$queue$infl" 00 "at exit: nothing left queued or in flight"
uniq=$(rc unique)
[ "$uniq" -ge "$sent" ] || fail "the server took $uniq distinct lines, fewer than the $sent points sent"
pass "the server took $uniq distinct lines for $sent points sent (late answers make duplicates)"

# ---- 6: a real InfluxDB reads them --------------------------------------------------------
if ! command -v influxd >/dev/null 2>&1; then
    fail "influxd missing (Debian package influxdb; scripts/deps.sh)"
fi
source "$MYDIR/influxd_lib.sh"
BASE=http://127.0.0.1:8087
write_influx_conf 127.0.0.1:8087
start_influx "$BASE"
ns curl -sf -XPOST "$BASE/query" --data-urlencode 'q=CREATE DATABASE oasis' >/dev/null || fail "CREATE DATABASE"
st=$(ns curl -s -o "$TMP/w1.txt" -w '%{http_code}' -XPOST "$BASE/write?db=oasis&precision=ns" --data-binary @"$F/lines.lp")
[ "$st" = 204 ] || fail "InfluxDB refused the reporter's lines: $st $(head -c 300 "$TMP/w1.txt")"
pass "InfluxDB $(influxd version | awk '{print $2}') takes all $uniq lines the reporter sent (204)"
got=$(ns curl -s "$BASE/query?db=oasis" --data-urlencode 'q=SHOW TAG VALUES FROM "tcp" WITH KEY = "host"' |
    python3 -c 'import json,sys; print("\n".join(v[1] for s in json.load(sys.stdin)["results"][0]["series"] for v in s["values"]))')
expect_eq "$got" "$HOSTTAG" "InfluxDB's host tag value is the --host-tag as given"
st=$(ns curl -s -o "$TMP/w2.txt" -w '%{http_code}' -XPOST "$BASE/write?db=oasis&precision=ns" --data-binary @"$TMP/dump.lp")
[ "$st" = 204 ] || fail "InfluxDB refused the --metrics-dump: $st $(head -c 300 "$TMP/w2.txt")"
pass "InfluxDB takes the --metrics-dump as it is (204)"
for m in oasis_reporter_final oasis_prometheus_final; do
    got=$(ns curl -s "$BASE/query?db=oasis" --data-urlencode "q=SHOW TAG VALUES FROM \"$m\" WITH KEY = \"host\"" |
        python3 -c 'import json,sys; print("\n".join(v[1] for s in json.load(sys.stdin)["results"][0].get("series", []) for v in s["values"]))')
    expect_eq "$got" "$HOSTTAG" "the dump's $m carries the host tag unchanged"
done
