#!/usr/bin/env python3
"""A misbehaving InfluxDB 1.x write endpoint for reporter_hostile.sh (no
real InfluxDB answers 429/503 on demand, slowly, or closes after every
request).

Usage: fake_influx.py ADDR PORT DIR
Before every answer it reads DIR/mode (one line):
  ok          204, keep-alive
  close       204 and Connection: close, then closes
  hangup      204 (keep-alive by the look of it), then closes all the same
  status N    N with a small JSON body, keep-alive
  slow S      waits S seconds, then 204
It appends each request's body lines to DIR/lines.lp (only for a 2xx
answer; all of them to DIR/all.lp) and one line per request to
DIR/requests.log: 'CONN STATUS NLINES PATH'."""
import os
import socket
import sys
import threading
import time

ADDR, PORT, DIR = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
nconn = [0]


def mode():
    try:
        m = open(os.path.join(DIR, "mode")).read().split()
    except OSError:
        m = []
    return m or ["ok"]  # (absent, or a writer that truncates in place caught midway)


def append(name, data):
    with open(os.path.join(DIR, name), "ab") as f:
        f.write(data)


def serve(c, cid):
    try:
        answer(c, cid)
    except OSError:
        pass  # the reporter gave up on a late answer: a reset is expected
    finally:
        c.close()


def answer(c, cid):
    f = c.makefile("rb")
    while True:
        line = f.readline()
        if not line:
            return
        path = line.split()[1].decode() if len(line.split()) > 1 else "?"
        n = 0
        while True:
            h = f.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v.strip())
        body = f.read(n)
        m = mode()
        st, close = 204, False
        if m[0] in ("close", "hangup"):
            close = True
        elif m[0] == "status":
            st = int(m[1])
        elif m[0] == "slow":
            time.sleep(float(m[1]))
        with lock:
            append("all.lp", body)
            if 200 <= st < 300:
                append("lines.lp", body)
            append("requests.log", b"%d %d %d %s\n" % (cid, st, body.count(b"\n"), path.encode()))
        text = b'{"error":"test"}' if st >= 400 else b""
        head = b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (st, len(text))
        if st == 429 or st == 503:
            head += b"Retry-After: 1\r\n"
        if close and m[0] == "close":
            head += b"Connection: close\r\n"
        try:
            c.sendall(head + b"\r\n" + text)
        except OSError:
            return
        if close:
            return


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((ADDR, PORT))
s.listen(16)
while True:
    c, _ = s.accept()
    nconn[0] += 1
    threading.Thread(target=serve, args=(c, nconn[0]), daemon=True).start()
