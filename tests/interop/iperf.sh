#!/usr/bin/env bash
# `oasis iperf` against Debian's iperf3, both ways, on a TAP device in a
# private namespace. Byte counts are exact (-n), checked from both ends'
# JSON results: forward, reverse (-R) and two streams (-P 2).
#   server: iperf3 -c (Linux) -> oasis iperf -s; also a hostile client
#   client: oasis iperf -c -> iperf3 -s (Linux)
# Args: OASIS_BIN server|client [BYTES]
NS_TAG=iperf13
MODE=${2:-server}
TEST_NAME="interop_iperf_$MODE"
source "$(dirname "$0")/lib.sh"
SIZE=${3:-67108864}
need iperf3

setup_ns 1500

# check_json FILE WHAT WANT_SENT_MIN STREAMS [EXACT [SHORT]]: sum_sent ==
# sum_received, sum_sent >= WANT (== WANT when EXACT=1), STREAMS stream
# entries whose sender and receiver bytes agree. SHORT=1: the receiver may
# have counted less (never more); see linux_count.
check_json() {
    local file=$1 what=$2 want=$3 streams=$4 exact=${5:-1} short=${6:-0} out
    out=$(python3 - "$file" "$want" "$streams" "$exact" "$short" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
want, streams, exact, short = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5] == "1"
e = j["end"]
sent, recv = int(e["sum_sent"]["bytes"]), int(e["sum_received"]["bytes"])
errs = []
if sent != recv and not (short and recv < sent): errs.append(f"sent {sent} != received {recv}")
if exact and sent != want: errs.append(f"sent {sent} != {want}")
if sent < want: errs.append(f"sent {sent} < {want}")
if len(e["streams"]) != streams: errs.append(f"{len(e['streams'])} streams, want {streams}")
for s in e["streams"]:
    a, b = s["sender"]["bytes"], s["receiver"]["bytes"]
    if a != b and not (short and b < a):
        errs.append(f"stream bytes differ: {a} vs {b}")
print("; ".join(errs) if errs else f"ok {sent} bytes {e['sum_received']['bits_per_second']/1e9:.2f} Gbit/s")
PY
    ) || fail "$what: unreadable JSON in $(basename "$file")"
    case $out in ok*) pass "$what: $out" ;; *) fail "$what: $out" ;; esac
}

# received_bytes FILE: the receiving side's total in an iperf3 -J document.
received_bytes() {
    python3 -c "import json,sys; print(int(json.load(open(sys.argv[1]))['end']['sum_received']['bytes']))" "$1"
}
sent_bytes() {
    python3 -c "import json,sys; print(int(json.load(open(sys.argv[1]))['end']['sum_sent']['bytes']))" "$1"
}

if [ "$MODE" = server ]; then
    bg iperfs "$OASIS" iperf -s --tap "$TAP" --addr "$OASIS_IP/24"
    SRV=$BG_PID
    wait_for "$TMP/iperfs.log" "ready on port 5201" 10

    # iperf3 sends whole blocks, so its -n is a floor; the Oasis server
    # waits for every byte the sender's results claim.
    ns timeout 60 iperf3 -c "$OASIS_IP" -n "$SIZE" -J >"$TMP/fwd.json" || fail "iperf3 -c failed"
    check_json "$TMP/fwd.json" "iperf3 -c -> oasis iperf -s" "$SIZE" 1 0
    # Reverse: Oasis sends exactly -n; iperf3 ends once it has read them.
    ns timeout 60 iperf3 -c "$OASIS_IP" -n "$SIZE" -R -J >"$TMP/rev.json" || fail "iperf3 -c -R failed"
    check_json "$TMP/rev.json" "iperf3 -c -R <- oasis iperf -s" "$SIZE" 1 1
    ns timeout 60 iperf3 -c "$OASIS_IP" -n "$SIZE" -P 2 -J >"$TMP/p2.json" || fail "iperf3 -c -P 2 failed"
    check_json "$TMP/p2.json" "iperf3 -c -P 2 -> oasis iperf -s" "$SIZE" 2 0

    # A hostile client: a JSON length of 2 GiB is refused with
    # SERVER_ERROR, not allocated; the server then serves the next test.
    got=$(ns python3 - "$OASIS_IP" <<'PY'
import socket, struct, sys
s = socket.create_connection((sys.argv[1], 5201), timeout=10)
s.sendall(b"a" * 36 + b"\0")
state = s.recv(1)
s.sendall(struct.pack("!I", 0x7fffffff) + b"{")
reply = b""
while True:
    d = s.recv(64)
    if not d: break
    reply += d
print(struct.unpack("b", state)[0], struct.unpack("b", reply[:1])[0] if reply else "none",
      struct.unpack("!i", reply[1:5])[0] if len(reply) >= 5 else "none")
PY
    ) || fail "the hostile client's connection failed"
    expect_eq "$got" "9 -2 114" "a 2 GiB parameter length: PARAM_EXCHANGE, then SERVER_ERROR IERECVPARAMS"
    ns timeout 60 iperf3 -c "$OASIS_IP" -n 1M -J >"$TMP/after.json" || fail "iperf3 -c after the hostile client failed"
    check_json "$TMP/after.json" "a normal test after the hostile one" 1048576 1 0

    # Stream ids follow the order the streams connected, as iperf3's own
    # server numbers them, also when both cookies arrive in one go: a
    # client speaking iperf3's protocol connects A then B, stops the server
    # (SIGSTOP) while it sends both cookies, sends A 100000 bytes and B
    # 200000, and reads the server's results: id 1 must be A's. Once, two
    # cookies read together gave the later stream id 1 (CI, under ASan:
    # "stream bytes differ", two streams swapped).
    got=$(ns python3 - "$OASIS_IP" "$SRV" <<'PY'
import json, os, signal, socket, struct, sys, time
ip, pid = sys.argv[1], int(sys.argv[2])
cookie = b"c" * 36 + b"\0"
c = socket.create_connection((ip, 5201), timeout=20)
def state():
    d = c.recv(1)
    return struct.unpack("b", d)[0] if d else None
def send_json(o):
    b = json.dumps(o).encode()
    c.sendall(struct.pack("!I", len(b)) + b)
def recv_exact(n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise SystemExit("control connection closed")
        b += d
    return b
c.sendall(cookie)
assert state() == 9, "no PARAM_EXCHANGE"
send_json({"tcp": True, "omit": 0, "time": 0, "num": 300000, "parallel": 2, "len": 131072,
           "client_version": "3.12"})
assert state() == 10, "no CREATE_STREAMS"
a = socket.create_connection((ip, 5201), timeout=20)
b = socket.create_connection((ip, 5201), timeout=20)
time.sleep(0.5)  # both accepted (and reading) before the server stops
os.kill(pid, signal.SIGSTOP)
try:
    a.sendall(cookie)
    b.sendall(cookie)
    time.sleep(0.3)
finally:
    os.kill(pid, signal.SIGCONT)
assert state() == 1 and state() == 2, "no TEST_START, TEST_RUNNING"
a.sendall(b"a" * 100000)
b.sendall(b"b" * 200000)
c.sendall(struct.pack("b", 4))  # TEST_END
assert state() == 13, "no EXCHANGE_RESULTS"
send_json({"cpu_util_total": 0, "cpu_util_user": 0, "cpu_util_system": 0,
           "sender_has_retransmits": 0, "streams": [
               {"id": 1, "bytes": 100000, "retransmits": 0, "jitter": 0, "errors": 0, "packets": 0,
                "start_time": 0, "end_time": 1},
               {"id": 3, "bytes": 200000, "retransmits": 0, "jitter": 0, "errors": 0, "packets": 0,
                "start_time": 0, "end_time": 1}]})
n = struct.unpack("!I", recv_exact(4))[0]
res = json.loads(recv_exact(n))
print(" ".join(f"{s['id']}:{s['bytes']}" for s in sorted(res["streams"], key=lambda s: s["id"])))
c.sendall(struct.pack("b", 16))  # IPERF_DONE
PY
    ) || fail "the two-cookie client failed: $got"
    expect_eq "$got" "1:100000 3:200000" "two cookies read together: ids in connect order (the server's results)"
    stop_pid "$SRV" "oasis iperf -s"
else
    # Connections Linux reset because the application closed them with
    # bytes unread (the namespace's TcpExt TCPAbortOnClose).
    aborts_on_close() {
        ns awk '/^TcpExt:/ { if (!n) { for (i = 2; i <= NF; i++) if ($i == "TCPAbortOnClose") c = i; n = 1 } else print $c }' /proc/net/netstat
    }
    # linux_count NAME WANT WHAT: iperf3 -s's own count of received bytes
    # is WANT; or less, when iperf3 closed a stream with bytes unread during
    # that test. iperf3 stops reading at TEST_END, and nothing in TCP proves
    # that a receiver read everything (flushed() in tools/oasis/iperf.c
    # waits for the signs there are), so this is iperf3's race, not a loss;
    # bytes short with no such close are.
    linux_count() {
        local got
        got=$(received_bytes "$TMP/srv-$1.json")
        if [ "$got" = "$2" ]; then
            pass "$3: $got"
        elif [ "$got" -lt "$2" ] && [ "$ABORTED" -gt 0 ]; then
            pass "$3: $got, $(($2 - got)) unread when iperf3 -s closed its stream at TEST_END (TCPAbortOnClose +$ABORTED)"
        else
            fail "$3: $got, want $2 (TCPAbortOnClose +$ABORTED)"
        fi
    }
    # iperf3 -s -1 -J per test: its own view of the bytes. ABORTED: how
    # many of Linux's connections closed unread meanwhile.
    run_client() { # NAME ARGS...
        local name=$1 before
        shift
        before=$(aborts_on_close)
        # Niced up: iperf3 counts only what it read before TEST_END, and a
        # loaded machine can keep it from reading for a while.
        bg "srv-$name" nice -n -10 iperf3 -s -1 -J -B "$LINUX_IP"
        local srv=$BG_PID
        wait_port 5201
        oasis_run "$name" 60 iperf -c "$LINUX_IP" -J "$@"
        [ "$RC" -eq 0 ] || fail "oasis iperf -c $* exited with $RC"
        # The JSON document is stdout; log lines go to stderr (same file):
        # keep from the first '{' line on.
        sed -n '/^{/,$p' "$TMP/$name.log" >"$TMP/$name.json"
        # How a sending client knew the server had read everything.
        grep -h "window reopened\|gave up waiting" "$TMP/$name.log" | while read -r l; do log "$name: $l"; done || true
        wait "$srv" || fail "iperf3 -s exited with an error"
        sed -n '/^{/,$p' "$TMP/srv-$name.log" >"$TMP/srv-$name.json"
        ABORTED=$(($(aborts_on_close) - before))
    }
    run_client fwd -n "$SIZE"
    check_json "$TMP/fwd.json" "oasis iperf -c -> iperf3 -s" "$SIZE" 1 1 $((ABORTED > 0))
    linux_count fwd "$SIZE" "iperf3 -s's own count of received bytes"
    run_client rev -n "$SIZE" -R
    check_json "$TMP/rev.json" "oasis iperf -c -R <- iperf3 -s" "$SIZE" 1 0
    expect_eq "$(sent_bytes "$TMP/srv-rev.json")" "$(received_bytes "$TMP/rev.json")" \
        "iperf3 -s's count of sent bytes = oasis's received"
    run_client p2 -n "$SIZE" -P 2
    check_json "$TMP/p2.json" "oasis iperf -c -P 2 -> iperf3 -s" "$SIZE" 2 1 $((ABORTED > 0))
    linux_count p2 "$SIZE" "iperf3 -s's own count, two streams"
fi
