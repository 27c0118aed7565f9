#!/usr/bin/env python3
"""Logs every DHCP message to a server (UDP port 67) seen on a device, one
line each, flushed: seconds since start, message type, Ethernet
destination (bcast/ucast), IP source, IP destination, ciaddr, xid, and
"rapid-commit" when it carries option 80 (RFC 4039; "rapid-commit/N" when
its length N is not 0).
Usage: dhcp_sniff.py DEVICE (runs until killed; needs CAP_NET_RAW)."""
import socket
import struct
import sys
import time

TYPES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK",
         7: "RELEASE", 8: "INFORM"}


def options(opts):
    """{code: data} of the options field (the first of each code)."""
    found = {}
    i = 0
    while i < len(opts):
        c = opts[i]
        if c == 0:
            i += 1
            continue
        if c == 255 or i + 1 >= len(opts):
            break
        n = opts[i + 1]
        found.setdefault(c, opts[i + 2:i + 2 + n])
        i += 2 + n
    return found


def msg_type(found):
    t = found.get(53, b"")
    return TYPES.get(t[0], "?") if len(t) == 1 else "?"


def rapid(found):
    if 80 not in found:
        return ""
    return " rapid-commit" if len(found[80]) == 0 else " rapid-commit/%d" % len(found[80])


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
        found = options(d[240:])
        print("%.3f %s %s %s %s ciaddr=%s xid=%08x%s" % (
            time.monotonic() - t0, msg_type(found), bcast, socket.inet_ntoa(ip[12:16]),
            socket.inet_ntoa(ip[16:20]), socket.inet_ntoa(d[12:16]),
            struct.unpack("!I", d[4:8])[0], rapid(found)), flush=True)


main()
