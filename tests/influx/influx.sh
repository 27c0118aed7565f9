#!/usr/bin/env bash
# `oasis serve --influx` against a real InfluxDB 1.x, in a private network
# namespace (tests/interop/lib.sh): the kernel side is 10.78.0.1 (InfluxDB's
# HTTP API, nothing else), Oasis is 10.78.0.2 on the TAP device.
#
#  1. Oasis serves a download while it reports every 200 ms.
#  2. InfluxDB is killed, Oasis keeps running (and serving) with a queue of
#     40 points, InfluxDB comes back: the reporter must reconnect by itself
#     and points taken after the restart must arrive.
#  3. Oasis exits: it takes a last snapshot, delivers it, and dumps the
#     counters of that same instant (--metrics-dump). Every value of the dump
#     must be in InfluxDB at the dump's timestamp; last(InSegs) must be the
#     dump's; and the points stored must be exactly the points collected
#     minus the points the reporter says it dropped.
# Args: OASIS_BIN
TEST_NAME=influx_reporter
MYDIR=$(cd "$(dirname "$0")" && pwd)
source "$MYDIR/../interop/lib.sh"
LINUX_IP=10.78.0.1
OASIS_IP=10.78.0.2
BASE="http://$LINUX_IP:8086"
INTERVAL_MS=200
QUEUE=40
DL_BYTES=$((256 * 1024 * 1024))

need curl
if ! command -v influxd >/dev/null 2>&1; then
    log "influxd missing: installing the Debian package influxdb"
    DEBIAN_FRONTEND=noninteractive apt-get install -y influxdb >/dev/null 2>&1 ||
        fail "influxd missing and 'apt-get install -y influxdb' failed"
fi

setup_ns 1500

source "$MYDIR/influxd_lib.sh"

q() { ns python3 "$MYDIR/check.py" "$BASE" oasis "$@"; }
now_ns() { date +%s%N; }

write_influx_conf "$LINUX_IP:8086"
start_influx "$BASE"
ns curl -sf -XPOST "$BASE/query" --data-urlencode 'q=CREATE DATABASE oasis' >/dev/null ||
    fail "CREATE DATABASE failed"
pass "InfluxDB $(influxd version | awk '{print $2}') up on $LINUX_IP:8086"

start_serve --quiet --influx "$BASE/oasis" --influx-interval "$INTERVAL_MS" --host-tag oasis-it \
    --influx-queue "$QUEUE" --influx-backoff-max 1000 --metrics-dump "$TMP/dump.lp"
wait_for "$TMP/serve.log" "reporting metrics every $INTERVAL_MS ms" 5

# ---- 1: reporting while serving ---------------------------------------------
got=$(ns curl -s -o /dev/null -w '%{size_download}' "http://$OASIS_IP/bytes/$DL_BYTES") ||
    fail "download from oasis serve failed"
expect_eq "$got" "$DL_BYTES" "download of $DL_BYTES bytes while reporting"
sleep 1
n1=$(q count)
[ "$n1" -gt 0 ] || fail "no points in InfluxDB after the download"
pass "$n1 points in InfluxDB during the transfer"
segs=$(q last tcp OutSegs)
[ "$segs" -ge $((DL_BYTES / 1460)) ] || fail "last OutSegs $segs is below $((DL_BYTES / 1460))"
pass "InfluxDB saw the download: last tcp OutSegs $segs"

# ---- 2: InfluxDB goes away and comes back ---------------------------------------
# Kill it halfway between two reports, so that no request is in flight (a
# request InfluxDB stored but never answered would be counted as lost).
last=$(ns python3 - "$BASE" <<'EOF'
import json, sys, urllib.parse, urllib.request
u = sys.argv[1] + "/query?" + urllib.parse.urlencode(
    {"db": "oasis", "q": 'SELECT last(points_sent) FROM "oasis_reporter"', "epoch": "ns"})
print(json.load(urllib.request.urlopen(u))["results"][0]["series"][0]["values"][0][0])
EOF
)
period=$((INTERVAL_MS * 1000000))
phase=$(( ($(now_ns) - last) % period ))
wait_ns=$(( (period / 2 - phase + period) % period ))
sleep "$(printf '0.%09d' "$wait_ns")"
kill -KILL "$INFLUX_PID"
wait "$INFLUX_PID" 2>/dev/null || true
down_at=$(now_ns)
log "InfluxDB killed"
bg dl2 curl -s -o /dev/null "http://$OASIS_IP/bytes/$DL_BYTES"
sleep 4 # 20 reports of 8 points: far more than the queue of $QUEUE holds
kill -0 "$SERVE_PID" 2>/dev/null || fail "oasis serve died while InfluxDB was away"
start_influx "$BASE"
up_at=$(now_ns)
pass "InfluxDB restarted after $(( (up_at - down_at) / 1000000 )) ms away"
for ((i = 0; i < 150; i++)); do
    [ "$(q count-since "$up_at")" -gt 0 ] && break
    sleep 0.1
done
[ "$(q count-since "$up_at")" -gt 0 ] || fail "no points taken after the restart arrived"
pass "the reporter reconnected by itself; points taken after the restart arrived"
sleep 1

# ---- 3: exit, final snapshot, exact comparison --------------------------------------
stop_pid "$SERVE_PID" "oasis serve"
[ -s "$TMP/dump.lp" ] || fail "no --metrics-dump written"
grep -q "^oasis serve: metrics:" "$TMP/serve.log" || fail "no metrics summary"
log "$(grep '^oasis serve: metrics:' "$TMP/serve.log")"
read -r collected sent dropped rejected left cfail sfail < <(python3 - "$TMP/dump.lp" <<'EOF'
import sys
for line in open(sys.argv[1]):
    if line.startswith("oasis_reporter_final,"):
        f = dict(kv.split("=") for kv in line.split(" ")[1].split(","))
        v = {k: int(x.rstrip("i")) for k, x in f.items()}
        print(v["points_collected"], v["points_sent"], v["points_dropped"],
              v["points_rejected"], v["queue_points"] + v["inflight_points"],
              v["connect_failures"], v["send_failures"])
EOF
)
[ -n "${collected:-}" ] || fail "no reporter totals in the dump"
log "reporter totals: collected $collected, sent $sent, dropped $dropped, rejected $rejected, left $left, connect failures $cfail"
expect_eq "$left" 0 "nothing left queued at exit"
expect_eq "$rejected" 0 "no batch rejected"
[ "$dropped" -gt 0 ] || fail "no points dropped with a queue of $QUEUE during the outage"
[ "$cfail" -gt 0 ] || fail "no connect failure counted during the outage"
pass "$dropped points dropped, $cfail connect failures during the outage"
expect_eq "$((sent + dropped))" "$collected" "collected = sent + dropped"
stored=$(q count)
if [ "$sfail" -eq 0 ]; then
    expect_eq "$stored" "$sent" "points in InfluxDB = points the reporter sent"
else
    # A batch in flight when InfluxDB was killed may have been stored before
    # the answer was lost: the reporter cannot know, queues it again, and the
    # full queue may then drop it. So InfluxDB holds what was sent plus at
    # most what was dropped, never less than what was sent.
    [ "$stored" -ge "$sent" ] && [ "$stored" -le "$((sent + dropped))" ] ||
        fail "points in InfluxDB: $stored, want $sent..$((sent + dropped)) ($sfail send failures)"
    pass "points in InfluxDB ($stored) = sent ($sent) plus at most the dropped ($sfail request(s) lost with the connection)"
fi

checked=$(q compare "$TMP/dump.lp") || fail "the final counters differ: $checked"
pass "all $checked values of the final counters are in InfluxDB at the dump's timestamp"
dump_in=$(awk '/^tcp,/ {n = split($2, f, ","); for (i = 1; i <= n; i++) if (f[i] ~ /^InSegs=/) {sub(/^InSegs=/, "", f[i]); sub(/i$/, "", f[i]); print f[i]}}' "$TMP/dump.lp")
expect_eq "$(q last tcp InSegs)" "$dump_in" "last(InSegs) in InfluxDB = the stack's final InSegs"
