#!/usr/bin/env bash
# Issue 12: wrk with 1000 connections against `oasis serve` at its default
# limit (256). Over the limit the server stops taking connections (they wait
# in the backlog, then SYN cookies) and turns its slots over; no client is
# reset, refused or left without an answer. wrk's --timeout is generous:
# the test is about errors, not latency. Args: OASIS_BIN
TEST_NAME="interop_http_wrk"
NS_TAG=http
source "$(dirname "$0")/lib.sh"
need wrk curl

setup_ns 1500
start_serve --quiet --verbose
URL="http://$OASIS_IP"
ns bash -c "ulimit -n 8192 && wrk -t2 -c1000 -d8s --timeout 30s '$URL/bytes/100'" >"$TMP/wrk.log" 2>&1 ||
    fail "wrk failed"
cat "$TMP/wrk.log"
expect_eq "$(ns curl -sS --fail --max-time 10 "$URL/bytes/3" | wc -c)" 3 "still serving afterwards"
stop_pid "$SERVE_PID" "oasis serve"
grep counters "$TMP/serve.log" || true
ns ip -s link show "$TAP" | sed -n "/TX:/,+1p" # the kernel side: frames it dropped at the TAP queue
reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.log")
[ -n "$reqs" ] && [ "$reqs" -gt 1000 ] || fail "wrk completed too few requests: '$reqs'"
pass "wrk -c1000 completed $reqs requests"
if grep -q "Socket errors" "$TMP/wrk.log"; then
    fail "wrk saw socket errors: $(grep 'Socket errors' "$TMP/wrk.log")"
fi
pass "wrk -c1000 against the default limit: 0 socket errors"
grep -q "Non-2xx" "$TMP/wrk.log" && fail "wrk saw non-2xx answers"
pass "every answer was 200"
