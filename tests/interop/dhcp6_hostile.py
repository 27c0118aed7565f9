#!/usr/bin/env python3
"""A hostile DHCPv6 server for interop_dhcp6_hostile (runs in the test's
namespace, on the TAP device). To the Solicit it sends Advertises that must
be ignored, each with preference 255 (taken at once if accepted) and the
address BAD: a wrong transaction-id, a Client Identifier not the client's
(RFC 8415 16.3), no Server Identifier, an IA_NA with T1 > T2 (21.4), an
IAADDR with preferred > valid lifetime (21.6), an IA_NA running past the
message; then a good one for GOOD. To the Request: a Reply with a wrong
transaction-id and one with no Server Identifier, then the lease (T1 3 s,
T2 6 s). To the first Renew: a Reply without the IA_NA and one whose IA_NA
holds no address (18.2.10.1: the address stays; the Renew goes on, then a
Rebind at T2). To the Rebind: a long lease. Then a Reconfigure and an
unasked Advertise, which the client drops. Logs what it got and sent.

Usage: dhcp6_hostile.py IFNAME GOOD BAD
"""
import ipaddress
import socket
import struct
import sys
import time

IF, GOOD, BAD = sys.argv[1:4]
SID = bytes([0, 3, 0, 1, 2, 0, 0, 0, 0, 0x66])  # DUID-LL


def log(*a):
    print(*a, flush=True)


def opt(code, data):
    return struct.pack("!HH", code, len(data)) + data


def msg(mtype, xid, *opts):
    return bytes([mtype]) + xid.to_bytes(3, "big") + b"".join(opts)


def iaaddr(addr, pref, valid):
    return opt(5, ipaddress.IPv6Address(addr).packed + struct.pack("!II", pref, valid))


def ia_na(iaid, t1, t2, *subs):
    return opt(3, struct.pack("!III", iaid, t1, t2) + b"".join(subs))


def parse(m):
    o, i = {}, 4
    while i + 4 <= len(m):
        code, ln = struct.unpack("!HH", m[i:i + 4])
        o.setdefault(code, m[i + 4:i + 4 + ln])
        i += 4 + ln
    return m[0], int.from_bytes(m[1:4], "big"), o


def ia_addrs(ia):
    out, i = [], 12
    while i + 4 <= len(ia):
        code, ln = struct.unpack("!HH", ia[i:i + 4])
        if code == 5:
            out.append(str(ipaddress.IPv6Address(ia[i + 4:i + 20])))
        i += 4 + ln
    return out


def main():
    ifindex = socket.if_nametoindex(IF)
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, IF.encode())
    s.bind(("::", 547))
    grp = socket.inet_pton(socket.AF_INET6, "ff02::1:2") + struct.pack("@I", ifindex)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, grp)
    log("ready")
    renews = 0
    while True:
        m, peer = s.recvfrom(2048)
        to = (peer[0], 546, 0, ifindex)
        mtype, xid, o = parse(m)
        cid = o.get(1, b"")
        ia = o.get(3, b"")
        iaid = struct.unpack("!I", ia[:4])[0] if len(ia) >= 12 else 1
        ident = opt(1, cid) + opt(2, SID)

        def send(what, mt, x, *opts):
            s.sendto(msg(mt, x, *opts), to)
            log("sent", what)

        if mtype == 1:  # Solicit
            log("solicit xid", hex(xid))
            pref = opt(7, b"\xff")
            bad = ia_na(iaid, 0, 0, iaaddr(BAD, 200, 300))
            send("advertise wrong xid", 2, xid ^ 1, ident, pref, bad)
            send("advertise wrong client id", 2, xid, opt(1, b"\x00\x03\x00\x01\x02\xaa\xbb\xcc\xdd\xee"),
                 opt(2, SID), pref, bad)
            send("advertise no server id", 2, xid, opt(1, cid), pref, bad)
            send("advertise t1 > t2", 2, xid, ident, pref, ia_na(iaid, 300, 200, iaaddr(BAD, 400, 500)))
            send("advertise preferred > valid", 2, xid, ident, pref,
                 ia_na(iaid, 0, 0, iaaddr(BAD, 500, 300)))
            over = ia_na(iaid, 0, 0, iaaddr(BAD, 200, 300))
            over = over[:2] + struct.pack("!H", len(over) + 40) + over[4:]
            send("advertise ia_na overrun", 2, xid, ident, pref, over)
            send("advertise good", 2, xid, ident, opt(7, b"\x80"),
                 ia_na(iaid, 0, 0, iaaddr(GOOD, 200, 300)))
        elif mtype == 3:  # Request
            log("request xid", hex(xid), "addrs", ",".join(ia_addrs(ia)))
            lease = ia_na(iaid, 3, 6, iaaddr(GOOD, 20, 40))
            send("reply wrong xid", 7, xid ^ 1, ident, lease)
            send("reply no server id", 7, xid, opt(1, cid), lease)
            send("reply lease", 7, xid, ident, lease)
        elif mtype == 5:  # Renew
            renews += 1
            log("renew xid", hex(xid), "addrs", ",".join(ia_addrs(ia)))
            if renews == 1:
                send("reply to renew without ia_na", 7, xid, ident)
                send("reply to renew ia_na without address", 7, xid, ident, ia_na(iaid, 3, 6))
        elif mtype == 6:  # Rebind
            log("rebind xid", hex(xid), "addrs", ",".join(ia_addrs(ia)))
            send("reply to rebind", 7, xid, ident, ia_na(iaid, 1000, 1600, iaaddr(GOOD, 1800, 3600)))
            time.sleep(0.3)
            send("reconfigure", 10, 0, ident, opt(19, b"\x05"))
            send("unasked advertise", 2, xid, ident, opt(7, b"\xff"),
                 ia_na(iaid, 0, 0, iaaddr(BAD, 200, 300)))
            log("done")
        else:
            log("type", mtype, "xid", hex(xid))


if __name__ == "__main__":
    main()
