#!/usr/bin/env python3
"""The Linux kernel's view of a TCP connection with Oasis (getsockopt
TCP_INFO, what `ss -tin` prints), in one line:
  options=ts,sack,wscale snd_wscale=7 rcv_wscale=10 snd_mss=1448 advmss=1448 pmtu=1500

Usage: tcpinfo.py server ADDR PORT   accept one connection, report, hold it
                                     until the peer closes
       tcpinfo.py client ADDR PORT   connect, report, close
(ss from iproute2 6.1 leaves out "ts" and "sack" on newer kernels, so the
tests read TCP_INFO themselves.)"""
import socket
import struct
import sys

TCPI_OPT_TIMESTAMPS, TCPI_OPT_SACK, TCPI_OPT_WSCALE = 1, 2, 4


def report(sock):
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    options, wscale = info[5], info[6]
    snd_mss = struct.unpack_from("I", info, 16)[0]
    pmtu = struct.unpack_from("I", info, 60)[0]
    advmss = struct.unpack_from("I", info, 84)[0]
    names = [n for bit, n in ((TCPI_OPT_TIMESTAMPS, "ts"), (TCPI_OPT_SACK, "sack"),
                              (TCPI_OPT_WSCALE, "wscale")) if options & bit]
    print(f"options={','.join(names) or 'none'} snd_wscale={wscale & 15} "
          f"rcv_wscale={wscale >> 4} snd_mss={snd_mss} advmss={advmss} pmtu={pmtu}", flush=True)


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "server":
        lst = socket.socket()
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind((addr, port))
        lst.listen(1)
        print("listening", flush=True)
        conn, _ = lst.accept()
        report(conn)
        while conn.recv(65536):
            pass
    else:
        conn = socket.create_connection((addr, port), timeout=10)
        report(conn)
        conn.close()


if __name__ == "__main__":
    main()
