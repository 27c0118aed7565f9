#!/usr/bin/env bash
# `oasis get` against a hostile Linux HTTP server (a Python script): heads
# without end or with 200,000 fields, a Location too long, lying or
# contradictory lengths, chunk sizes that overflow or go negative, a reset
# mid-body, a body that stalls, 300,000 one-byte chunks, a body that ends
# with the stream. Each ends with the right exit status and message (or the
# right bytes), never a hang or a crash. Args: OASIS_BIN
TEST_NAME=interop_get_hostile
NS_TAG=geth
source "$(dirname "$0")/lib.sh"

setup_ns 1500
cat >"$TMP/srv.py" <<'PY'
import socket, struct, sys, threading, time
def handle(c):
    try:
        req = b""
        while b"\r\n\r\n" not in req:
            d = c.recv(4096)
            if not d:
                return
            req += d
        path = req.split(b" ")[1].decode()
        s = c.sendall
        ok = b"HTTP/1.1 200 OK\r\n"
        if path == "/endless-head":
            s(ok + b"X: ")
            for _ in range(20000):
                s(b"a" * 1000)
        elif path == "/many-fields":
            s(ok + b"".join(b"X-%d: y\r\n" % i for i in range(200000)) + b"Content-Length: 1\r\n\r\nz")
        elif path == "/long-location":
            s(b"HTTP/1.1 302 Found\r\nLocation: /" + b"a" * 200000 + b"\r\nContent-Length: 0\r\n\r\n")
        elif path == "/length-short":
            s(ok + b"Content-Length: 1000\r\n\r\n" + b"x" * 10)
        elif path == "/length-long":
            s(ok + b"Content-Length: 10\r\n\r\n" + b"x" * 1000000)
        elif path == "/two-lengths":
            s(ok + b"Content-Length: 5\r\nContent-Length: 7\r\n\r\nabcdefg")
        elif path == "/huge-length":
            s(ok + b"Content-Length: 99999999999999999999999\r\n\r\nabc")
        elif path == "/chunk-huge":
            s(ok + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n" + b"x" * 100000)
        elif path == "/chunk-overflow":
            s(ok + b"Transfer-Encoding: chunked\r\n\r\n10000000000000001\r\nabc\r\n0\r\n\r\n")
        elif path == "/chunk-negative":
            s(ok + b"Transfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n")
        elif path == "/chunk-tiny":
            s(ok + b"Transfer-Encoding: chunked\r\n\r\n" + b"1\r\na\r\n" * 300000 + b"0\r\n\r\n")
        elif path == "/reset-mid":
            s(ok + b"Content-Length: 10000000\r\n\r\n" + b"x" * 500000)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif path == "/stall":
            s(ok + b"Content-Length: 10000\r\n\r\nabc")
            time.sleep(30)
        elif path == "/interim":
            s(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
              + ok + b"Content-Length: 2\r\n\r\nok")
        elif path == "/interim-endless":
            s(b"HTTP/1.1 100 Continue\r\n\r\n" * 100)
        elif path == "/switch-unasked":
            s(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n")
        elif path == "/status-4digit":
            s(b"HTTP/1.1 2001 OK\r\nContent-Length: 2\r\n\r\nok")
        elif path == "/to-close":
            s(ok + b"Connection: close\r\n\r\n" + b"y" * 123457)
        c.shutdown(socket.SHUT_WR)
        time.sleep(0.5)
    except OSError:
        pass
    finally:
        c.close()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], 8000))
ls.listen(16)
while True:
    threading.Thread(target=handle, args=(ls.accept()[0],), daemon=True).start()
PY
bg srv python3 "$TMP/srv.py" "$LINUX_IP"
wait_port 8000
URL="http://$LINUX_IP:8000"

# expect PATH RC REGEX WHAT: oasis get's exit status and a line of its output.
expect() {
    oasis_run "get-$1" 60 get -q --timeout 10 "$URL/$1"
    [ "$RC" -eq "$2" ] || fail "/$1: oasis get exited $RC, want $2: $(tr '\n' ' ' <"$TMP/get-$1.log")"
    grep -Eq "$3" "$TMP/get-$1.log" || fail "/$1: no /$3/ in: $(tr '\n' ' ' <"$TMP/get-$1.log")"
    pass "/$1 ($4): exit $2, $(grep -Em1 "$3" "$TMP/get-$1.log")"
}
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

expect endless-head 1 "response head too large" "a field without end"
expect many-fields 1 "response head too large" "200,000 fields"
expect long-location 1 "response head too large" "a 200 KB Location"
expect length-short 1 "closed the connection after 10 body bytes" "Content-Length 1000, 10 sent"
expect length-long 0 "^sha256 $(sha xxxxxxxxxx) bytes 10 " "Content-Length 10, 1 MB sent: 10 taken"
expect two-lengths 1 "malformed response head" "two different Content-Lengths (RFC 9112 6.3)"
expect huge-length 1 "malformed response head" "a 23-digit Content-Length"
expect chunk-huge 1 "malformed chunked body" "a 20-digit chunk size"
expect chunk-overflow 1 "malformed chunked body" "a chunk size past 2^64"
expect chunk-negative 1 "malformed chunked body" "a chunk size of -1"
expect chunk-tiny 0 "^sha256 $(python3 -c 'import hashlib; print(hashlib.sha256(b"a" * 300000).hexdigest())') bytes 300000 " \
    "300,000 one-byte chunks"
expect reset-mid 1 "closed the connection after 500000 body bytes|connection died" "a reset mid-body"
expect stall 5 "timed out after 3 bytes" "a body that stops (--timeout 10)"
expect interim 0 "^sha256 $(sha ok) bytes 2 " "100 Continue and 103 Early Hints before the 200 (RFC 9110 15.2)"
expect interim-endless 1 "more than 64 interim" "100 interim responses"
expect switch-unasked 1 "switched protocols" "a 101 nobody asked for (RFC 9110 15.2.2)"
expect status-4digit 1 "malformed response head" "a 4-digit status (RFC 9112 4)"
expect to-close 0 "^sha256 $(python3 -c 'import hashlib; print(hashlib.sha256(b"y" * 123457).hexdigest())') bytes 123457 " \
    "no length: the body ends with the stream"
