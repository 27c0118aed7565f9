#!/usr/bin/env bash
# Request/response over the TAP: a Linux client sends one byte and waits for
# Oasis's echo, 400 times. Each round trip wakes the event loop with one
# frame; after a few such wakeups the loop must stop draining the device to
# an empty read (loop.h, oasis_loop_set_batch), which was one system call in
# four per round trip. oasis serve prints the loop's counts at exit.
TEST_NAME=interop_lone_frames
source "$(dirname "$0")/lib.sh"
need python3

setup_ns 1500
start_serve --http-port 0 --hash-port 0 --discard-port 0
ns timeout 60 python3 - "$OASIS_IP" >"$TMP/client.log" 2>&1 <<'PY' || fail "the echo client failed"
import socket, sys
s = socket.create_connection((sys.argv[1], 7), timeout=20)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for i in range(400):
    b = bytes([i & 0xff])
    s.sendall(b)
    got = s.recv(1)
    if got != b:
        sys.exit("round trip %d: sent %r, got %r" % (i, b, got))
s.close()
print("400 round trips")
PY
pass "$(cat "$TMP/client.log")"
stop_pid "$SERVE_PID" "oasis serve"
line=$(grep "oasis serve: TAP:" "$TMP/serve.log") || fail "oasis serve printed no loop counts"
read -r wakeups frames empty < <(echo "$line" | sed -E 's/.*: ([0-9]+) wakeups, ([0-9]+) frames, ([0-9]+) empty reads/\1 \2 \3/')
log "$line"
[ "$frames" -ge 400 ] || fail "only $frames frames read for 400 requests"
# Draining every wakeup would read empty about once per wakeup (>= 400);
# one read per lone frame leaves the entry run, the probes (1 in 16) and
# the odd burst.
[ $((empty * 4)) -lt "$wakeups" ] || fail "$empty empty reads in $wakeups wakeups"
pass "$empty empty reads in $wakeups wakeups ($frames frames)"
