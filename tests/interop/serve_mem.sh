#!/usr/bin/env bash
# oasis serve's heap under connection churn: 400 ab clients at once, one
# small answer (/bytes/100) per connection. Each answer's send buffer is as
# large as the answer (it was 256 KiB whatever the size, and kept until the
# peer's FIN: the heap reached 36-40 MB here, 75 MB with 500 clients). The
# check is the server's peak RSS (VmHWM), skipped under ASan (its allocator
# and shadow memory are not the server's heap). Args: OASIS_BIN
TEST_NAME=interop_serve_mem
NS_TAG=smem
source "$(dirname "$0")/lib.sh"
need ab

setup_ns 1500
start_serve --quiet --max-conns 1000 --txqueuelen 10000
hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$SERVE_PID/status"; }
log "VmHWM at start: $(hwm) KiB"
ns bash -c "ulimit -n 8192 && ab -q -n 4000 -c 400 -s 30 'http://$OASIS_IP/bytes/100'" >"$TMP/ab.log" 2>&1 ||
    fail "ab failed: $(tail -n 3 "$TMP/ab.log")"
expect_eq "$(awk '/^Complete requests:/ {print $3}' "$TMP/ab.log")/$(awk '/^Failed requests:/ {print $3}' "$TMP/ab.log")" \
    "4000/0" "ab -n 4000 -c 400 /bytes/100: complete/failed"
serve_alive "after ab"
peak=$(hwm)
if grep -q __asan_init "$OASIS"; then
    pass "peak RSS $peak KiB (ASan build: not checked)"
else
    [ "$peak" -le 20480 ] || fail "peak RSS $peak KiB over 20 MiB for 400 clients of 100-byte answers"
    pass "peak RSS $peak KiB <= 20 MiB"
fi
stop_pid "$SERVE_PID" "oasis serve"
