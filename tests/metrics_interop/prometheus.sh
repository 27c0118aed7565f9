#!/usr/bin/env bash
# `oasis serve --prometheus` against Debian's Prometheus, in a private
# network namespace (tests/interop/lib.sh): Oasis is 10.77.0.2 on the TAP
# device, Prometheus runs on the namespace's loopback and scrapes it every
# second.
#
#  1. The exposition itself, read with curl: text format 0.0.4 that promtool
#     parses, OpenMetrics when asked for, keep-alive, 404/405/400/431.
#  2. Prometheus scrapes while curl downloads from the same stack; the
#     per-flow series of the download reach Prometheus.
#  3. Exactness: after the download, the last scrape Prometheus stored has
#     a number K (oasis_prometheus_scrapes_total); `oasis serve` copies the
#     stack's own counters at every scrape and writes them at exit
#     (--metrics-dump, tagged scrape=K). Every tcp counter Prometheus
#     returns for scrape K must equal the stack's at scrape K.
# Args: OASIS_BIN
TEST_NAME=metrics_interop_prometheus
NS_TAG=metrics
MYDIR=$(cd "$(dirname "$0")" && pwd)
source "$MYDIR/../interop/lib.sh"
PROM=http://127.0.0.1:9090
TARGET=http://$OASIS_IP:9100/metrics
DL_BYTES=$((256 * 1024 * 1024))

need curl socat prometheus promtool
setup_ns 1500

start_serve --quiet --prometheus 9100 --metrics-flows 16 --metrics-dump "$TMP/dump.lp"
wait_for "$TMP/serve.log" "Prometheus metrics at $TARGET" 5

# ---- 1: the exposition ------------------------------------------------------------
ns curl -s -D "$TMP/h.txt" -o "$TMP/m.txt" "$TARGET" || fail "GET /metrics failed"
grep -q '^HTTP/1.1 200 OK' "$TMP/h.txt" || fail "no 200: $(head -1 "$TMP/h.txt")"
grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$TMP/h.txt" ||
    fail "not the text format 0.0.4"
grep -q '^# TYPE oasis_tcp_InSegs_total counter$' "$TMP/m.txt" || fail "no InSegs counter"
grep -q '^# TYPE oasis_tcp_CurrEstab gauge$' "$TMP/m.txt" || fail "CurrEstab is not a gauge"
pass "GET /metrics: text format 0.0.4, counters and gauges"
# promtool parses it; what it says is style only (Linux MIB names are CamelCase,
# like node_exporter's node_netstat_Tcp_InSegs).
ns promtool check metrics <"$TMP/m.txt" >"$TMP/promtool.log" 2>&1 || true
if grep -Ev "camelCase|abbreviated units|^$" "$TMP/promtool.log" | grep -q .; then
    fail "promtool: $(grep -Ev 'camelCase|abbreviated units' "$TMP/promtool.log" | head -3)"
fi
pass "promtool check metrics parses it ($(wc -l <"$TMP/promtool.log") style remarks)"
ns curl -s -D "$TMP/h2.txt" -o "$TMP/om.txt" \
    -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' "$TARGET"
grep -qi '^Content-Type: application/openmetrics-text; version=1.0.0' "$TMP/h2.txt" ||
    fail "no OpenMetrics when asked for it"
[ "$(tail -1 "$TMP/om.txt")" = "# EOF" ] || fail "OpenMetrics does not end in # EOF"
grep -q '^# TYPE oasis_tcp_InSegs counter$' "$TMP/om.txt" || fail "OpenMetrics counter family"
pass "OpenMetrics 1.0.0 by Accept header, ending in # EOF"
reuse=$(ns curl -sv -o /dev/null -o /dev/null "$TARGET" "$TARGET" 2>&1 | grep -c 'Re-using existing connection' || true)
expect_eq "$reuse" 1 "HTTP/1.1 keep-alive: the second GET reuses the connection"
expect_eq "$(ns curl -s -o /dev/null -w '%{http_code}' "http://$OASIS_IP:9100/nope")" 404 "404 for another path"
expect_eq "$(ns curl -s -o /dev/null -w '%{http_code}' -X POST "$TARGET")" 405 "405 for POST"
st=$(printf 'GET /metrics HTTP/1.1\r\n\r\n' | ns timeout 5 socat -t 3 - "TCP:$OASIS_IP:9100" | head -1 | tr -d '\r')
expect_eq "$st" "HTTP/1.1 400 Bad Request" "400 for HTTP/1.1 without Host"
expect_eq "$(ns curl -s -o /dev/null -w '%{http_code}' -H "X-Pad: $(head -c 9000 /dev/zero | tr '\0' a)" "$TARGET")" \
    431 "431 for a request head over 8 KiB"

# ---- 2: Prometheus scrapes during a download --------------------------------------------
cat >"$TMP/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: oasis
    static_configs:
      - targets: ['$OASIS_IP:9100']
EOF2
bg prometheus prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
    --web.listen-address=127.0.0.1:9090
PROM_PID=$BG_PID
pq() { ns python3 "$MYDIR/promcheck.py" "$PROM" "$@"; }
for ((i = 0; i < 300; i++)); do
    [ "$(pq value 'up{job="oasis"}' 2>/dev/null)" = 1 ] && break
    kill -0 "$PROM_PID" 2>/dev/null || fail "prometheus exited at start"
    sleep 0.1
done
[ "$(pq value 'up{job="oasis"}')" = 1 ] || fail "Prometheus does not scrape oasis (up != 1)"
pass "Prometheus $(prometheus --version 2>&1 | awk 'NR==1 {print $3}') scrapes oasis serve"

# 64 MB/s: the download lasts about 4 s, several scrapes happen during it.
got=$(ns curl -s --limit-rate 64M -o /dev/null -w '%{size_download}' "http://$OASIS_IP/bytes/$DL_BYTES") ||
    fail "download from oasis serve failed"
expect_eq "$got" "$DL_BYTES" "download of $DL_BYTES bytes while Prometheus scrapes"
acked=$(pq value 'max(max_over_time(oasis_tcp_flow_bytes_acked_total{local_port="80"}[5m]))')
[ -n "$acked" ] && [ "${acked%.*}" -gt 0 ] || fail "no per-flow series of the download in Prometheus"
pass "per-flow series (4-tuple labels) of the download in Prometheus: bytes_acked up to $acked"
[ "$(pq value 'count(max_over_time(oasis_tcp_flow_state_info{local_port="80",state="ESTABLISHED"}[5m]))')" -ge 1 ] ||
    fail "no flow state info series"
pass "the flow's state as an info series (state=\"ESTABLISHED\")"

# ---- 3: the last scrape against the stack's own counters --------------------------------------
k0=$(pq value 'oasis_prometheus_scrapes_total')
for ((i = 0; i < 100; i++)); do
    k=$(pq value 'oasis_prometheus_scrapes_total')
    [ "${k%.*}" -ge $((${k0%.*} + 2)) ] && break
    sleep 0.1
done
[ "${k%.*}" -ge $((${k0%.*} + 2)) ] || fail "Prometheus stopped scraping"
# Query, then stop: the scrape Prometheus has as its last is still in the
# stack's ring of the last 64 scrapes when oasis serve exits a moment later.
pq fetch "$TMP/prom.json" || fail "range query failed"
stop_pid "$PROM_PID" "prometheus"
stop_pid "$SERVE_PID" "oasis serve"
[ -s "$TMP/dump.lp" ] || fail "no --metrics-dump written"
res=$(python3 "$MYDIR/promcheck.py" - compare "$TMP/prom.json" "$TMP/dump.lp") ||
    fail "Prometheus differs from the stack: $res"
read -r matched kq insegs outsegs <<<"$res"
[ "$matched" -ge 31 ] || fail "only $matched tcp counters compared"
[ "$outsegs" -ge $((DL_BYTES / 1460)) ] || fail "OutSegs $outsegs is below the download's $((DL_BYTES / 1460))"
pass "all $matched tcp counters of scrape $kq in Prometheus equal the stack's own at that scrape (InSegs $insegs, OutSegs $outsegs)"
