#!/usr/bin/env python3
"""A hostile DHCP server for interop_dhcp_hostile (runs in the test's
namespace, on the TAP device). To each DISCOVER it sends OFFERs that must
be ignored (RFC 2131 4.4.1: wrong xid, wrong chaddr; RFC 6842 3: another
client identifier; an option whose length runs past the datagram), then a
good one whose server identifier and lease time sit in 'sname' and 'file'
(option overload, RFC 2132 9.3). To the REQUEST: an ACK with lease time 0
(unusable), then one with 0xffffffff (infinity, RFC 2131 3.3). Ten seconds
after, a NAK with the same xid while the client is BOUND (RFC 2131 4.4
figure 5: discarded). Logs what it sent.

Usage: dhcp_hostile.py IFNAME SERVER_IP OFFERED_IP
"""
import socket
import struct
import sys
import time

IF, SERVER, OFFERED = sys.argv[1:4]
MAGIC = bytes([99, 130, 83, 99])


def log(*a):
    print(*a, flush=True)


def opt(code, data):
    return bytes([code, len(data)]) + data


def reply(xid, chaddr, yiaddr, opts, sname=b"", file=b""):
    m = bytearray(240)
    m[0], m[1], m[2] = 2, 1, 6
    m[4:8] = struct.pack("!I", xid)
    m[16:20] = socket.inet_aton(yiaddr)
    m[28:28 + len(chaddr)] = chaddr
    m[44:44 + len(sname)] = sname
    m[108:108 + len(file)] = file
    m[236:240] = MAGIC
    body = bytes(m) + opts + b"\xff"
    return body + bytes(max(0, 300 - len(body)))


def parse(m):
    xid = struct.unpack("!I", m[4:8])[0]
    chaddr = m[28:34]
    i, opts = 240, {}
    while i < len(m) and m[i] != 255:
        if m[i] == 0:
            i += 1
            continue
        opts[m[i]] = m[i + 2:i + 2 + m[i + 1]]
        i += 2 + m[i + 1]
    return xid, chaddr, opts


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, IF.encode())
    s.bind(("0.0.0.0", 67))
    dst = ("255.255.255.255", 68)
    sid = socket.inet_aton(SERVER)
    common = opt(1, socket.inet_aton("255.255.255.0")) + opt(3, sid) + opt(6, sid)
    log("ready")
    nak_at = None
    last = None
    while True:
        s.settimeout(0.2)
        try:
            m, peer = s.recvfrom(2048)
        except socket.timeout:
            m = None
        if nak_at and time.time() >= nak_at:
            xid, chaddr = last
            s.sendto(reply(xid, chaddr, "0.0.0.0", opt(53, b"\x06") + opt(54, sid)), dst)
            log("nak sent while bound")
            nak_at = None
        if not m or len(m) < 240 or m[236:240] != MAGIC:
            continue
        xid, chaddr, o = parse(m)
        mtype = o.get(53, b"\x00")[0]
        cid = o.get(61, b"")
        if mtype == 1:  # DISCOVER
            log("discover xid", hex(xid))
            # The bad OFFERs name another server: a REQUEST naming it
            # would show one of them was taken.
            good = opt(53, b"\x02") + opt(54, socket.inet_aton("10.77.0.9")) + \
                opt(51, struct.pack("!I", 600)) + common
            s.sendto(reply(xid ^ 1, chaddr, OFFERED, good), dst)
            log("offer wrong xid")
            other = bytes([chaddr[0] ^ 0x02]) + chaddr[1:]
            s.sendto(reply(xid, other, OFFERED, good), dst)
            log("offer wrong chaddr")
            s.sendto(reply(xid, chaddr, OFFERED, good + opt(61, b"\x01\xaa\xbb\xcc\xdd\xee\xff")),
                     dst)
            log("offer wrong client id")
            over = good + bytes([12, 250]) + b"xy"
            s.sendto((reply(xid, chaddr, OFFERED, b"")[:240] + over), dst)
            log("offer option overrun")
            sname = opt(54, sid) + b"\xff"
            file = opt(51, struct.pack("!I", 600)) + b"\xff"
            s.sendto(reply(xid, chaddr, OFFERED, opt(53, b"\x02") + opt(52, b"\x03") + common,
                           sname, file), dst)
            log("offer overloaded")
        elif mtype == 3:  # REQUEST
            log("request xid", hex(xid), "server", o.get(54, b"").hex(), "cid", cid.hex())
            base = opt(53, b"\x05") + opt(54, sid) + common
            s.sendto(reply(xid, chaddr, OFFERED, base + opt(51, struct.pack("!I", 0))), dst)
            log("ack lease 0")
            s.sendto(reply(xid, chaddr, OFFERED, base + opt(51, struct.pack("!I", 0xffffffff))),
                     dst)
            log("ack lease infinite")
            last = (xid, chaddr)
            nak_at = time.time() + 10


if __name__ == "__main__":
    main()
