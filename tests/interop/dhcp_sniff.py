#!/usr/bin/env python3
"""Logs every DHCP message to a server (UDP port 67) seen on a device, one
line each, flushed: seconds since start, message type, Ethernet
destination (bcast/ucast), IP source, IP destination, ciaddr, xid.
Usage: dhcp_sniff.py DEVICE (runs until killed; needs CAP_NET_RAW)."""
import socket
import struct
import sys
import time

TYPES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK",
         7: "RELEASE", 8: "INFORM"}


def msg_type(opts):
    i = 0
    while i < len(opts):
        c = opts[i]
        if c == 0:
            i += 1
            continue
        if c == 255 or i + 1 >= len(opts):
            break
        n = opts[i + 1]
        if c == 53 and n == 1 and i + 2 < len(opts):
            return TYPES.get(opts[i + 2], "?")
        i += 2 + n
    return "?"


def main():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.bind((sys.argv[1], 0))
    print("listening on %s" % sys.argv[1], flush=True)
    t0 = time.monotonic()
    while True:
        f = s.recv(65535)
        if len(f) < 14 + 20 + 8 + 240:
            continue
        ip = f[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17:
            continue
        udp = ip[ihl:]
        if struct.unpack("!H", udp[2:4])[0] != 67:
            continue
        d = udp[8:]
        if len(d) < 240:
            continue
        bcast = "bcast" if f[0:6] == b"\xff" * 6 else "ucast"
        print("%.3f %s %s %s %s ciaddr=%s xid=%08x" % (
            time.monotonic() - t0, msg_type(d[240:]), bcast, socket.inet_ntoa(ip[12:16]),
            socket.inet_ntoa(ip[16:20]), socket.inet_ntoa(d[12:16]),
            struct.unpack("!I", d[4:8])[0]), flush=True)


main()
