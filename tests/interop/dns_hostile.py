#!/usr/bin/env python3
"""A hostile DNS server for interop_dns_hostile (runs in the test's
namespace). No real server sends these answers; each name asks for one
misbehaviour, and most are followed by the real answer, which Oasis must
still take (RFC 5452 9.1, RFC 1035 4.1.4, RFC 7766 5 and 8, RFC 6891).

  forged.test   a reply with the wrong ID, one from port 5353, one from
                another address, one for another question; then the answer
  ptrloop.test  our ID, a compression pointer to itself; then the answer
  rdlen.test    our ID, an RDLENGTH past the end; then the answer
  drip.test     TC=1; over TCP the answer one octet per segment
  many.test     TC=1; over TCP 1000 A records
  tcp0.test     TC=1; over TCP a length prefix of 0
  loop.test     loop.test CNAME loop2.test; loop2.test CNAME loop.test
  fail.test     the first server SERVFAIL, the second answers
  refused.test  the first server REFUSED, the second answers
  badvers.test  the first server BADVERS (OPT extended RCODE 1), the second answers

Usage: dns_hostile.py ADDR1 ADDR2 OTHER ANSWER
(ADDR1 the first server, ADDR2 the second, OTHER an address for forged
replies, ANSWER the A record's address).
"""
import select
import socket
import struct
import sys
import threading
import time

A1, A2, OTHER, ANS = sys.argv[1:5]
ANS_B = socket.inet_aton(ANS)


def log(*a):
    print(*a, flush=True)


def parse_q(q):
    """(id, qname text, question bytes incl. type and class, opt present)."""
    qid = struct.unpack("!H", q[:2])[0]
    i = 12
    labels = []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("latin-1"))
        i += 1 + q[i]
    i += 1
    question = q[12:i + 4]
    arcount = struct.unpack("!H", q[10:12])[0]
    return qid, ".".join(labels).lower(), question, arcount > 0


def header(qid, flags, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, 1, an, ns, ar)


RESP = 0x8180  # QR RD RA


def a_rr(addr=ANS_B, ttl=60):
    return b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, ttl, 4) + addr


def wire_name(text):
    out = b""
    for l in text.split("."):
        out += bytes([len(l)]) + l.encode()
    return out + b"\x00"


def answer(qid, question, n=1):
    return header(qid, RESP, n) + question + a_rr() * n


def udp_reply(sock, srv_addr, q, peer, extra_socks):
    qid, name, question, has_opt = parse_q(q)
    log("udp", srv_addr, name, "id", qid, "from", peer)
    first = srv_addr == A1
    if name == "forged.test":
        bad = answer(qid ^ 0x5555, question)
        sock.sendto(bad, peer)
        extra_socks["port"].sendto(answer(qid, question), peer)
        extra_socks["other"].sendto(answer(qid, question), peer)
        other_q = wire_name("other.test") + question[-4:]
        sock.sendto(header(qid, RESP, 1) + other_q + a_rr(), peer)
        time.sleep(0.05)
        sock.sendto(answer(qid, question), peer)
    elif name == "ptrloop.test":
        # answer owner: a pointer to itself (offset of the record)
        off = 12 + len(question)
        loop = struct.pack("!H", 0xC000 | off)
        sock.sendto(header(qid, RESP, 1) + question + loop +
                    struct.pack("!HHIH", 1, 1, 60, 4) + ANS_B, peer)
        time.sleep(0.05)
        sock.sendto(answer(qid, question), peer)
    elif name == "rdlen.test":
        sock.sendto(header(qid, RESP, 1) + question + b"\xc0\x0c" +
                    struct.pack("!HHIH", 1, 1, 60, 400) + ANS_B, peer)
        time.sleep(0.05)
        sock.sendto(answer(qid, question), peer)
    elif name in ("drip.test", "many.test", "tcp0.test"):
        sock.sendto(header(qid, RESP | 0x0200) + question, peer)
    elif name in ("loop.test", "loop2.test"):
        target = "loop2.test" if name == "loop.test" else "loop.test"
        t = wire_name(target)
        sock.sendto(header(qid, RESP, 1) + question + b"\xc0\x0c" +
                    struct.pack("!HHIH", 5, 1, 60, len(t)) + t, peer)
    elif name in ("fail.test", "refused.test") and first:
        rc = 2 if name == "fail.test" else 5
        sock.sendto(header(qid, RESP | rc) + question, peer)
    elif name == "badvers.test" and first:
        opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 1 << 24, 0)
        sock.sendto(header(qid, RESP, 0, 0, 1) + question + opt, peer)
    else:
        sock.sendto(answer(qid, question), peer)


def tcp_client(conn):
    try:
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
            d = conn.recv(4096)
            if not d:
                return
            buf += d
        q = buf[2:2 + struct.unpack("!H", buf[:2])[0]]
        qid, name, question, _ = parse_q(q)
        log("tcp", name, "id", qid)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if name == "drip.test":
            m = answer(qid, question)
            m = struct.pack("!H", len(m)) + m
            for b in m:
                conn.send(bytes([b]))
                time.sleep(0.01)
        elif name == "many.test":
            m = answer(qid, question, 1000)
            conn.sendall(struct.pack("!H", len(m)) + m)
        elif name == "tcp0.test":
            conn.sendall(b"\x00\x00")
        else:
            m = answer(qid, question)
            conn.sendall(struct.pack("!H", len(m)) + m)
        time.sleep(0.5)
    finally:
        conn.close()


def main():
    socks = {}
    for a in (A1, A2):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a, 53))
        socks[s] = a
    extra = {"port": socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
             "other": socket.socket(socket.AF_INET, socket.SOCK_DGRAM)}
    extra["port"].bind((A1, 5353))
    extra["other"].bind((OTHER, 53))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((A1, 53))
    t.listen(8)
    log("ready")
    while True:
        r, _, _ = select.select(list(socks) + [t], [], [])
        for s in r:
            if s is t:
                conn, _ = t.accept()
                threading.Thread(target=tcp_client, args=(conn,), daemon=True).start()
            else:
                q, peer = s.recvfrom(4096)
                if len(q) >= 12:
                    udp_reply(s, socks[s], q, peer, extra)


if __name__ == "__main__":
    main()
