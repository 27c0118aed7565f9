#!/usr/bin/env python3
"""Linux's end of the ECN interop test (tests/interop/ecn.sh): moves a file
over one TCP connection and then reports the kernel's view of it from
TCP_INFO, which ss from iproute2 6.1 does not show on newer kernels:
  ecn=1 ecnseen=1 bytes=N
ecn: ECN was negotiated (TCPI_OPT_ECN); ecnseen: ECT packets came from the
peer (TCPI_OPT_ECN_SEEN).

Usage: ecn_peer.py echo ADDR PORT FILE   connect, send FILE, read it back
                                         (an echo server), check, report
       ecn_peer.py sink ADDR PORT OUT    accept one connection, store what
                                         comes until EOF in OUT, report"""
import socket
import sys
import threading

TCPI_OPT_ECN, TCPI_OPT_ECN_SEEN = 8, 16


def report(sock, nbytes):
    options = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)[5]
    print(f"ecn={int(bool(options & TCPI_OPT_ECN))} "
          f"ecnseen={int(bool(options & TCPI_OPT_ECN_SEEN))} bytes={nbytes}", flush=True)


def echo(addr, port, path):
    data = open(path, "rb").read()
    conn = socket.create_connection((addr, port), timeout=30)
    sender = threading.Thread(target=conn.sendall, args=(data,))
    sender.start()
    got = bytearray()
    while len(got) < len(data):
        chunk = conn.recv(65536)
        if not chunk:
            break
        got += chunk
    sender.join()
    report(conn, len(got))
    conn.close()
    if bytes(got) != data:
        print(f"echo differs: {len(got)} of {len(data)} bytes", flush=True)
        sys.exit(1)


def sink(addr, port, out):
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((addr, port))
    lst.listen(1)
    print("listening", flush=True)
    conn, _ = lst.accept()
    n = 0
    with open(out, "wb") as f:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            f.write(chunk)
            n += len(chunk)
    report(conn, n)
    conn.close()


def main():
    mode, addr, port, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if mode == "echo":
        echo(addr, port, path)
    else:
        sink(addr, port, path)


if __name__ == "__main__":
    main()
