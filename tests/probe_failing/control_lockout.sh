#!/usr/bin/env bash
# PROBE (failing): four connections that say nothing lock the metrics
# control port (`oasis serve --control ADDR:PORT`) out for good.
# The control port takes cfg.max_conns connections at once (4 by default)
# and resets the rest; it has no idle timeout and makes no room, so any
# host on the link that opens 4 connections and keeps them (sending nothing,
# or a line over 256 bytes and then more) keeps the operator out as long as
# it likes: every new session is reset. The Prometheus server beside it
# (src/metrics/prom_server.c) guards against exactly this: an idle timeout
# (300 s) and "the longest-waiting one makes room" (interop_wire_probe_l2,
# metrics_slow_clients).
# Expected: a new "list" session is answered (room made, as the /metrics
# server does), or at least the silent ones are closed after a timeout.
# Actual: ECONNRESET for every new session, still after 40 s.
# Also: a session that sent an over-long line gets "error line too long"
# and conn_close(); close keeps receiving (RFC 9293 3.6, by design) but
# nothing reads any more, so the window closes, a peer that keeps sending
# never reaches its FIN, and the slot is never given back.
# Root cause: src/metrics/control.c on_accept() (`ctl->nconns <
# ctl->cfg.max_conns ... : NULL` -> release) with no timer or eviction
# anywhere in control.c; conn_close() after "line too long" without
# oasis_tcp_shutdown(READ).
# Usage: bash control_lockout.sh /path/to/oasis   (exit 0: fixed, 1: bug)
TEST_NAME=probe_control_lockout
NS_TAG=pnet
source "$(dirname "$0")/../interop/lib.sh"

setup_ns 1500
start_serve --quiet --control "$OASIS_IP:7070"
out=$(ns timeout 120 python3 - "$OASIS_IP" <<'PY'
import socket, sys, time
H = sys.argv[1]
def session(cmd=b"list\n"):
    try:
        s = socket.create_connection((H, 7070), timeout=3)
        s.sendall(cmd)
        s.shutdown(socket.SHUT_WR)
        b = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            b += d
        return "answered" if b.rstrip().split(b"\n")[-1].startswith(b"ok") else f"got {b[-40:]!r}"
    except OSError as e:
        return type(e).__name__
print("before:", session())
held = []
for kind in ("idle", "idle", "longline", "longline"):
    s = socket.create_connection((H, 7070), timeout=3)
    if kind == "longline":
        s.setblocking(False)
        try:
            while True:
                s.send(b"a" * 65536)
        except BlockingIOError:
            pass
    held.append(s)
time.sleep(0.5)
print("held 4, now:", session())
time.sleep(40)
print("held 4, 40 s later:", session())
PY
) || fail "the control client failed"
echo "$out" | sed 's/^/  /'
echo "$out" | grep -q "^before: answered" || fail "the control port does not answer at all"
serve_alive "after the control sessions"
if echo "$out" | grep -q "40 s later: answered"; then
    pass "the control port made room for a new session"
else
    fail "4 silent/over-long control sessions lock the control port out: $(echo "$out" | tail -n 1)"
fi
