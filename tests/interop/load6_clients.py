#!/usr/bin/env python3
"""Ordinary Linux clients over IPv6 for interop_load6 (standard library only).

  churn HOST PORT N CONC SIZE WHO  N short connections, CONC at a time: each
                 connects, sends one GET /bytes/SIZE, reads the whole answer
                 and closes. WHO=server: the request says Connection: close
                 (Oasis closes first, holds TIME_WAIT); WHO=client: the
                 client closes once it has Content-Length bytes (Linux
                 holds TIME_WAIT). Prints "churn ok O bad B err E" and the
                 error kinds.
  halfclose HOST PORT N SIZE  N connections at once to the echo service:
                 each sends SIZE bytes, shutdown(SHUT_WR), then reads until
                 EOF; prints "halfclose ok O bad B err E".
  httphalf HOST PORT N SIZE  N connections: GET /bytes/SIZE then
                 shutdown(SHUT_WR), read to EOF; prints "httphalf ok O bad B
                 err E".
"""
import collections
import concurrent.futures
import hashlib
import socket
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from load_clients import pattern_sha  # noqa: E402


def recv_all(s):
    chunks = []
    while True:
        b = s.recv(262144)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def split_http(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return None, None, b""
    lines = head.split(b"\r\n")
    status = lines[0].split(b" ")[1] if b" " in lines[0] else b""
    cl = None
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        if k.strip().lower() == b"content-length":
            cl = int(v.strip())
    return status, cl, body


def one_get(host, port, size, who, want):
    conn = "close" if who == "server" else "keep-alive"
    req = ("GET /bytes/%d HTTP/1.1\r\nHost: x\r\nConnection: %s\r\n\r\n" % (size, conn)).encode()
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(req)
        if who == "server":
            data = recv_all(s)
        else:
            data = b""
            while True:
                b = s.recv(262144)
                if not b:
                    break
                data += b
                st, cl, body = split_http(data)
                if cl is not None and len(body) >= cl:
                    break
    st, cl, body = split_http(data)
    return st == b"200" and cl == size and len(body) == size and hashlib.sha256(body).hexdigest() == want


def one_half(host, port, size, payload):
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        return recv_all(s)


def run(n, conc, fn):
    ok = bad = 0
    errs = collections.Counter()
    with concurrent.futures.ThreadPoolExecutor(conc) as ex:
        for fut in [ex.submit(fn) for _ in range(n)]:
            try:
                if fut.result():
                    ok += 1
                else:
                    bad += 1
            except OSError as e:
                errs[type(e).__name__ + ":" + str(e.errno)] += 1
    return ok, bad, errs


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    a = sys.argv[4:]
    if mode == "churn":
        n, conc, size, who = int(a[0]), int(a[1]), int(a[2]), a[3]
        want = pattern_sha(size)
        ok, bad, errs = run(n, conc, lambda: one_get(host, port, size, who, want))
    elif mode == "halfclose":
        n, size = int(a[0]), int(a[1])
        payload = bytes((i * 7) & 255 for i in range(size))
        ok, bad, errs = run(n, n, lambda: one_half(host, port, size, payload) == payload)
    elif mode == "httphalf":
        n, size = int(a[0]), int(a[1])
        want = pattern_sha(size)
        req = b"GET /bytes/%d HTTP/1.1\r\nHost: x\r\n\r\n" % size

        def f():
            st, cl, body = split_http(one_half(host, port, size, req))
            return st == b"200" and cl == size and hashlib.sha256(body).hexdigest() == want
        ok, bad, errs = run(n, n, f)
    else:
        sys.exit("unknown mode " + mode)
    print("%s ok %d bad %d err %d" % (mode, ok, bad, sum(errs.values())))
    for k, v in sorted(errs.items()):
        print("  %s x%d" % (k, v))


if __name__ == "__main__":
    main()
