#!/usr/bin/env bash
# The reporter's InfluxDB 2.x writes against Debian's VictoriaMetrics (which
# takes /api/v2/write), and the control port, in a private network
# namespace (tests/interop/lib.sh). The kernel side 10.77.0.1 runs
# VictoriaMetrics on 8428 and, on 8087, a socat relay to it that logs the
# requests (so the test sees the token and the gzip header on the wire).
#
#  1. oasis serve --influx http://../api/v2/write?org=..&bucket=..
#     --influx-token-file --influx-gzip: the points arrive and are queried
#     back; the requests carried "Authorization: Token <the file's token>"
#     and gzip bodies.
#  2. The control port: list, an unknown command refused, "disable udp":
#     every report after the answer lacks udp while tcp goes on; "enable
#     udp" brings it back; "interval 100" changes the pace.
#  3. At exit, the final snapshot (--metrics-dump) is in VictoriaMetrics
#     field for field.
# Args: OASIS_BIN
TEST_NAME=metrics_interop_victoria
NS_TAG=metrics
MYDIR=$(cd "$(dirname "$0")" && pwd)
source "$MYDIR/../interop/lib.sh"
VM=http://$LINUX_IP:8428
TOKEN="oasis-metrics-token-$$"
DL_BYTES=$((64 * 1024 * 1024))

need curl socat victoria-metrics
setup_ns 1500

bg vm victoria-metrics -httpListenAddr="$LINUX_IP:8428" -storageDataPath="$TMP/vm" \
    -retentionPeriod=100y -search.latencyOffset=0s -search.disableCache
VM_PID=$BG_PID
for ((i = 0; i < 300; i++)); do
    [ "$(ns curl -s -o /dev/null -w '%{http_code}' "$VM/health")" = 200 ] && break
    kill -0 "$VM_PID" 2>/dev/null || fail "victoria-metrics exited at start"
    sleep 0.1
done
[ "$(ns curl -s -o /dev/null -w '%{http_code}' "$VM/health")" = 200 ] || fail "victoria-metrics is not up"
pass "VictoriaMetrics $(dpkg-query -W -f='${Version}' victoria-metrics 2>/dev/null) up on $LINUX_IP:8428"
bg relay socat -v "TCP-LISTEN:8087,bind=$LINUX_IP,reuseaddr,fork" "TCP:$LINUX_IP:8428"
wait_port 8087

printf '%s\n' "$TOKEN" >"$TMP/token"
start_serve --quiet --influx "http://$LINUX_IP:8087/api/v2/write?org=oasis&bucket=oasis" \
    --influx-token-file "$TMP/token" --influx-gzip --influx-interval 200 --host-tag oasis-vm \
    --control "$OASIS_IP:7070" --metrics-dump "$TMP/dump.lp"
wait_for "$TMP/serve.log" "metrics control port on $OASIS_IP:7070" 5
vq() { ns python3 "$MYDIR/vmcheck.py" "$VM" "$@"; }
now_ns() { date +%s%N; }

# ---- 1: v2 writes with a token, gzip'd ------------------------------------------------
got=$(ns curl -s -o /dev/null -w '%{size_download}' "http://$OASIS_IP/bytes/$DL_BYTES") ||
    fail "download from oasis serve failed"
expect_eq "$got" "$DL_BYTES" "download of $DL_BYTES bytes while reporting"
for ((i = 0; i < 100; i++)); do
    [ "$(vq count tcp_InSegs 0)" -gt 2 ] && break
    sleep 0.1
done
n=$(vq count tcp_InSegs 0)
[ "$n" -gt 2 ] || fail "no tcp points in VictoriaMetrics"
pass "$n tcp points in VictoriaMetrics through /api/v2/write"
grep -q "POST /api/v2/write?org=oasis&bucket=oasis&precision=ns HTTP/1.1" "$TMP/relay.log" ||
    fail "no v2 request line on the wire"
grep -q "Authorization: Token $TOKEN" "$TMP/relay.log" || fail "the token did not travel"
grep -q "Content-Encoding: gzip" "$TMP/relay.log" || fail "no gzip body"
pass "the requests carried the token from --influx-token-file and gzip bodies"

# ---- 2: the control port ---------------------------------------------------------------
# ctl "cmd": one command, its answer up to the ok/error line.
ctl() {
    ns python3 - "$OASIS_IP" "$1" <<'EOF2'
import socket, sys
s = socket.create_connection((sys.argv[1], 7070), timeout=10)
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    buf += d
    last = buf.rstrip(b"\n").split(b"\n")[-1]
    if buf.endswith(b"\n") and (last.startswith(b"ok") or last.startswith(b"error")):
        break
s.close()
sys.stdout.write(buf.decode())
EOF2
}
out=$(ctl list)
grep -q '^source udp on$' <<<"$out" || fail "list: no udp source: $out"
grep -q '^ok 11 sources$' <<<"$out" || fail "list: $out" # 6 IPv4 layers, ipv6, icmp6, nd, udp6, the reporter
pass "control: list"
expect_eq "$(ctl frob)" "error unknown command 'frob' (try help)" "control: an unknown command is refused"
expect_eq "$(ctl 'interval 100')" "ok interval 100 ms" "control: interval 100"
before=$(vq count udp_InDatagrams 0)
[ "$before" -gt 0 ] || fail "no udp points before switching it off"
expect_eq "$(ctl 'disable udp')" "ok udp off (1)" "control: disable udp"
t_off=$(now_ns)
sleep 1.5
tcp_after=$(vq count tcp_InSegs "$t_off")
udp_after=$(vq count udp_InDatagrams "$t_off")
[ "$tcp_after" -ge 5 ] || fail "only $tcp_after tcp points after the switch (interval 100 ms)"
expect_eq "$udp_after" 0 "no udp point in the $tcp_after reports after 'disable udp'"
expect_eq "$(ctl 'enable udp')" "ok udp on (1)" "control: enable udp"
t_on=$(now_ns)
for ((i = 0; i < 50; i++)); do
    [ "$(vq count udp_InDatagrams "$t_on")" -gt 0 ] && break
    sleep 0.1
done
[ "$(vq count udp_InDatagrams "$t_on")" -gt 0 ] || fail "udp did not come back"
pass "udp points again after 'enable udp'"

# ---- 3: the final snapshot ----------------------------------------------------------------
stop_pid "$SERVE_PID" "oasis serve"
[ -s "$TMP/dump.lp" ] || fail "no --metrics-dump written"
log "$(grep '^oasis serve: metrics:' "$TMP/serve.log")"
grep -q "^oasis serve: metrics: .* 0 dropped, 0 rejected, 0 left;" "$TMP/serve.log" ||
    fail "points were lost: $(grep '^oasis serve: metrics:' "$TMP/serve.log")"
# VictoriaMetrics makes fresh rows searchable in the background: ask again
# for a while before calling a missing row a failure.
for ((i = 0; i < 50; i++)); do
    res=$(vq compare "$TMP/dump.lp" 2>&1) && break
    sleep 0.2
done
res=$(vq compare "$TMP/dump.lp" 2>&1) || fail "final snapshot: $res"
log "final snapshot searchable after $i retries"
read -r matched insegs <<<"$res"
[ "$matched" -ge 31 ] || fail "only $matched fields compared"
pass "all $matched tcp fields of the final snapshot are in VictoriaMetrics (InSegs $insegs)"
