#!/usr/bin/env python3
"""Many ordinary HTTP clients at once, for interop_load (Python standard
library only; one process drives every connection with a selector).

  stall HOST PORT N SIZE HOLD  N connections each GET /bytes/SIZE and read
                          nothing for HOLD seconds (small receive buffers:
                          the windows close); prints "stalled N" once all
                          requests are sent, then reads every response to
                          its end and prints "complete C bad B short S" (C
                          bodies of SIZE bytes with the pattern's SHA-256,
                          B with wrong bytes, S ended early). HOLD may be a
                          file name: the readers wait until it exists.
  reset HOST PORT N SIZE  N connections each GET /bytes/SIZE, read 1 to
                          64 KiB of the answer, then close with SO_LINGER 0
                          (an RST mid-response); prints "reset N"
  hold HOST PORT N SIZE   N connections each GET /bytes/SIZE and never read;
                          prints "open N" and waits to be killed
  stall-count HOST PORT N SIZE SECS  N connections GET /bytes/SIZE and never
                          read; after SECS prints "closed K" where K counts
                          those the server closed or reset meanwhile
"""
import hashlib
import os
import selectors
import socket
import struct
import sys
import time

RCVBUF = 4096


def pattern_sha(n):
    base = bytes(i % 251 for i in range(251 + 65536))
    h = hashlib.sha256()
    for block in range((n + 65535) // 65536):
        start = block * 65536
        length = min(65536, n - start)
        shift = bytes((x + block) & 255 for x in range(256))
        h.update(base[start % 251:start % 251 + length].translate(shift))
    return h.hexdigest()


def open_all(host, port, n, size):
    """N connected sockets, each with its request sent (Connection: close)."""
    req = ("GET /bytes/%d HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
           % (size, host)).encode()
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Before connect: the window scale is chosen from it.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        s.settimeout(60)
        s.connect((host, port))
        s.sendall(req)
        socks.append(s)
    return socks


class Reader:
    def __init__(self, s, size):
        self.s, self.size = s, size
        self.head = b""
        self.body = 0
        self.h = hashlib.sha256()
        self.in_body = False
        self.done = False
        self.status = None

    def feed(self, data):
        if not self.in_body:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            self.status = self.head.split(b"\r\n", 1)[0]
            data = self.head[end + 4:]
            self.in_body = True
        self.body += len(data)
        self.h.update(data)


def read_all(readers, timeout):
    sel = selectors.DefaultSelector()
    for r in readers:
        r.s.setblocking(False)
        sel.register(r.s, selectors.EVENT_READ, r)
    left = len(readers)
    end = time.monotonic() + timeout
    while left and time.monotonic() < end:
        for key, _ in sel.select(1.0):
            r = key.data
            try:
                data = r.s.recv(262144)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                r.feed(data)
                continue
            r.done = True
            sel.unregister(r.s)
            r.s.close()
            left -= 1
    for r in readers:
        if not r.done:
            sel.unregister(r.s)
            r.s.close()


def stall(host, port, n, size, hold):
    socks = open_all(host, port, n, size)
    print("stalled", len(socks), flush=True)
    try:
        time.sleep(float(hold))
    except ValueError:
        while not os.path.exists(hold):
            time.sleep(0.1)
    readers = [Reader(s, size) for s in socks]
    read_all(readers, 120)
    want = pattern_sha(size)
    ok = sum(1 for r in readers if r.body == size and r.h.hexdigest() == want)
    bad = sum(1 for r in readers if r.body == size and r.h.hexdigest() != want)
    print("complete %d bad %d short %d" % (ok, bad, len(readers) - ok - bad), flush=True)
    for r in readers:
        if r.body != size:
            print("  short: status=%r body=%d" % (r.status, r.body), file=sys.stderr)
    return 0 if ok == n else 1


def reset(host, port, n, size):
    socks = open_all(host, port, n, size)
    for i, s in enumerate(socks):
        want = 1 + (i * 7919) % 65536  # a different cut for each
        got = 0
        while got < want:
            d = s.recv(want - got)
            if not d:
                break
            got += len(d)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    print("reset", len(socks), flush=True)
    return 0


def hold(host, port, n, size):
    socks = open_all(host, port, n, size)
    print("open", len(socks), flush=True)
    while True:
        time.sleep(3600)


def stall_count(host, port, n, size, secs):
    socks = open_all(host, port, n, size)
    print("open", len(socks), flush=True)
    time.sleep(secs)
    # Whatever sits in the receive buffer is read; then a closed or reset
    # connection shows EOF or an error, a live one would block.
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            while True:
                d = s.recv(262144)
                if not d:
                    closed += 1
                    break
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    print("closed", closed, flush=True)
    return 0


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    a = sys.argv[4:]
    if mode == "stall":
        return stall(host, port, int(a[0]), int(a[1]), a[2])
    if mode == "reset":
        return reset(host, port, int(a[0]), int(a[1]))
    if mode == "hold":
        return hold(host, port, int(a[0]), int(a[1]))
    if mode == "stall-count":
        return stall_count(host, port, int(a[0]), int(a[1]), float(a[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
