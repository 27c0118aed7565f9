#!/usr/bin/env python3
"""Hostile and plain HTTP clients for the interop tests of `oasis serve`.

  idle HOST PORT N HOLD   opens N connections that each send 2 bytes of a
                          request and stay silent; holds them HOLD seconds
                          (or until the parent kills us); prints "open N"
                          once all are connected
  slowloris HOST PORT MAX sends a request head one byte every 0.3 s; prints
                          "closed STATUS-LINE" when the server gives up on it
                          (exit 0) or "not closed" after MAX seconds (exit 1)
  raw HOST PORT TEXT      sends TEXT (\\r\\n escapes allowed), prints the
                          answer, then "<EOF>" when the server closed, or
                          "<silence>" after 20 s without a byte
  keepalive10 HOST PORT   two HTTP/1.0 keep-alive requests on one connection;
                          prints each response head's Connection header
"""
import socket
import sys
import time


def connect(host, port):
    s = socket.create_connection((host, int(port)), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def idle(host, port, n, hold, say="GE"):
    socks = []
    for _ in range(int(n)):
        s = connect(host, port)
        if say:
            s.sendall(say.encode())
        socks.append(s)
    print("open", len(socks), flush=True)
    time.sleep(float(hold))


def silent(host, port, n, hold):
    """Connections that never say a word (nor close)."""
    idle(host, port, n, hold, say="")


def slowloris(host, port, max_s):
    s = connect(host, port)
    s.settimeout(0.3)
    head = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-a: " + b"b" * 10000
    end = time.monotonic() + float(max_s)
    got = b""
    i = 0
    while time.monotonic() < end:
        try:
            s.send(head[i:i + 1])
            i += 1
        except OSError:
            break  # reset or closed under us
        try:
            d = s.recv(4096)
            if not d:
                break
            got += d
        except socket.timeout:
            continue
        except OSError:
            break
    else:
        print("not closed")
        return 1
    print("closed", got.split(b"\r\n")[0].decode(errors="replace") or "-")
    return 0


def raw(host, port, text):
    s = connect(host, port)
    s.sendall(text.encode().decode("unicode_escape").encode("latin-1"))
    s.settimeout(20)
    out, end = b"", "<EOF>"
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except socket.timeout:
        end = "<silence>"
    except ConnectionResetError:
        end = "<reset>"
    sys.stdout.write(out.decode(errors="replace") + end + "\n")


def read_response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise SystemExit("EOF before the head")
        buf += d
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    n = int(fields["content-length"])
    while len(body) < n:
        body += s.recv(65536)
    return lines[0], fields


def keepalive10(host, port):
    s = connect(host, port)
    for _ in range(2):
        s.sendall(b"GET /bytes/10 HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
        status, fields = read_response(s)
        print(status, "connection=" + fields.get("connection", "-"))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    sys.exit({"idle": idle, "silent": silent, "slowloris": slowloris, "raw": raw,
              "keepalive10": keepalive10}[cmd](*args) or 0)
