#!/usr/bin/env bash
# `oasis serve --prometheus` against odd and hostile HTTP clients, from
# outside over the TAP device (tests/interop/lib.sh): HEAD, POST with a body,
# HTTP/1.0 without Host, OpenMetrics by Accept, pipelining, a trickled head
# (and more trickled heads than slots),
# 200 concurrent scrapes, over-long heads, resets mid-answer, clients that
# never read, garbage (prom_hostile.py). The server must stay up, answer
# each well-formed request correctly, and keep its memory bounded (TCP
# buffer memory from its own gauge, the process's RSS from /proc).
# Args: OASIS_BIN
TEST_NAME=metrics_interop_prom_hostile
NS_TAG=${NS_TAG:-pmet}
MYDIR=$(cd "$(dirname "$0")" && pwd)
source "$MYDIR/../interop/lib.sh"
TARGET=http://$OASIS_IP:9100/metrics

need curl
setup_ns 1500
start_serve --quiet --prometheus 9100 --metrics-flows 64
wait_for "$TMP/serve.log" "Prometheus metrics at $TARGET" 5
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SERVE_PID/status"; }

probe() { # GROUP...
    local rc=0
    ns timeout 200 python3 "$MYDIR/prom_hostile.py" "$OASIS_IP" 9100 "$@" >"$TMP/probe.log" 2>&1 || rc=$?
    sed 's/^/  /' "$TMP/probe.log"
    serve_alive "$*"
    [ "$rc" -eq 0 ] || fail "$rc group(s) of the probe failed: $*"
    pass "probe $*: $(grep -c '^ok:' "$TMP/probe.log") checks"
}

probe methods openmetrics pipeline garbage leading_crlf
probe slowloris slowloris_many long
rss0=$(rss)
probe concurrent resets
probe noread
rss1=$(rss)
probe noread
probe concurrent
rss2=$(rss)
log "RSS: ${rss0} kB at start, ${rss1} kB after the first wave, ${rss2} kB after the second"
# A second wave of the same clients must not grow the process much: state
# is bounded, not accumulated. Under ASan the RSS says little (its
# quarantine holds freed memory up to 256 MB); LeakSanitizer at exit and
# the TCPMemBytes checks above stand for it there.
if grep -q __asan_init "$OASIS"; then
    log "ASan build: RSS not compared"
else
    [ "$rss2" -le $((rss1 + 8192)) ] || fail "RSS grew from ${rss1} kB to ${rss2} kB on a repeat of the same clients"
    pass "RSS bounded across repeated waves (${rss1} -> ${rss2} kB)"
fi
got=$(ns curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$TARGET")
expect_eq "$got" 200 "an ordinary scrape after all that"
stop_pid "$SERVE_PID" "oasis serve"
