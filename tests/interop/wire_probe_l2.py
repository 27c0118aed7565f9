#!/usr/bin/env python3
"""ARP and UDP frames from the wire, and hostile HTTP clients, at `oasis serve`.

A sibling of wire_probe.py, whose Probe (a host of its own on the TAP's
link: a made-up MAC and address, frames through an AF_PACKET socket) and
counter helpers it imports; wire_probe.py reads its first four arguments
on import, so both take the same ones. A second AF_PACKET socket watches
every frame Oasis sends (Watch), to see where its frames go and which ARP
it sends. The HTTP checks are ordinary Linux clients: Python sockets
through the kernel's TCP.

Every check prints "ok: <clause>: <what>" or "FAIL: ..."; the exit status
is the number of failed check groups. Standard library only.

Usage: wire_probe_l2.py TAP OASIS_IP PROBE_IP METRICS_PORT
"""
import os
import select
import socket
import struct
import sys
import time

import wire_probe as wp
from wire_probe import ACK, RST, SYN, Delta, Fail, check, csum, ip4, ok

TAP, OASIS_IP, PROBE_IP = wp.TAP, wp.OASIS_IP, wp.PROBE_IP
BCAST_MAC = b"\xff" * 6
BAD_MAC = bytes.fromhex("02badbadbad1")    # poisoning attempts: Oasis must never send to it
OTHER_MAC = bytes.fromhex("02a5c0ffee21")  # a stranger on the link
ETH_IP, ETH_ARP = 0x0800, 0x0806
CLOSED_PORT, HTTP_PORT = 4444, 80
SUBNET_BCAST = OASIS_IP.rsplit(".", 1)[0] + ".255"
P = None
W = None


# ---- frames ---------------------------------------------------------------


def raw_frame(dst, src, ethertype, payload, pad=True):
    f = dst + src + struct.pack("!H", ethertype) + payload
    return f + b"\0" * max(0, 60 - len(f)) if pad else f


def arp_body(op, sha, spa, tha, tpa, htype=1, ptype=ETH_IP, hlen=6, plen=4):
    return struct.pack("!HHBBH", htype, ptype, hlen, plen, op) + sha + ip4(spa) + tha + ip4(tpa)


def send_arp(op, sha, spa, tpa, tha=b"\0" * 6, dst=BCAST_MAC, eth_src=None, **kw):
    P.send_frame(raw_frame(dst, eth_src or sha, ETH_ARP, arp_body(op, sha, spa, tha, tpa, **kw)))


def udp_dgram(src, dst, sport, dport, data, csum_mode="good", ulen=None):
    """csum_mode: good, zero, bad. ulen: the length field (None: true length)."""
    ln = 8 + len(data) if ulen is None else ulen
    h = struct.pack("!HHHH", sport, dport, ln, 0)
    seg = h + data
    if csum_mode == "zero":
        return seg
    covered = seg[:max(8, min(ln, len(seg)))]
    c = csum(ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, ln) + covered) or 0xFFFF
    if csum_mode == "bad":
        c ^= 0x5A5A
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def send_udp(dport, data=b"probe", src=None, dst=None, dst_mac=None, **kw):
    src, dst = src or PROBE_IP, dst or OASIS_IP
    P.send_ip(wp.ip_bytes(udp_dgram(src, dst, 40001, dport, data, **kw), src, dst, proto=17),
              dst_mac)


class Watch:
    """Every frame Oasis sends: (dst MAC, ethertype, payload)."""

    def __init__(self):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        try:
            self.s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
        except OSError:
            pass
        self.s.bind((TAP, 0))
        self.frames = []

    def poll(self, timeout):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            r, _, _ = select.select([self.s], [], [], max(0.0, left))
            if not r:
                if left <= 0:
                    return
                continue
            f, addr = self.s.recvfrom(65536)
            if addr[2] == wp.PACKET_OUTGOING or len(f) < 14 or f[6:12] != P.oasis_mac:
                continue
            self.frames.append((f[:6], struct.unpack("!H", f[12:14])[0], f[14:]))

    def take(self):
        """The frames seen so far (and forgets them)."""
        self.poll(0)
        got, self.frames = self.frames, []
        return got

    def arps(self, frames):
        out = []
        for dst, et, pl in frames:
            if et == ETH_ARP and len(pl) >= 28:
                op = struct.unpack("!H", pl[6:8])[0]
                out.append(dict(dst=dst, op=op, sha=pl[8:14], spa=socket.inet_ntoa(pl[14:18]),
                                tha=pl[18:24], tpa=socket.inet_ntoa(pl[24:28])))
        return out

    def icmps(self, frames):
        out = []
        for dst, et, pl in frames:
            if et == ETH_IP and len(pl) >= 28 and pl[9] == 1:
                hl = (pl[0] & 15) * 4
                out.append((dst, pl[hl:struct.unpack("!H", pl[2:4])[0]]))
        return out


def settle(t=0.3):
    """Lets Oasis answer (its frames land in P and W)."""
    P.poll(t)
    P.pending.clear()  # segments to the kernel's clients are not the probe's


def entries(m):
    return wp.counter(m, "arp", "CacheEntries")


# ---- ARP ------------------------------------------------------------------

CHECKS = []


def probe(fn):
    CHECKS.append(fn)
    return fn


@probe
def arp_malformed():
    W.take()
    bad = [
        ("truncated (20 bytes)", arp_body(1, P.s_mac, PROBE_IP, b"\0" * 6, OASIS_IP)[:20], False),
        ("hardware length 8", arp_body(1, P.s_mac, PROBE_IP, b"\0" * 6, OASIS_IP, hlen=8), True),
        ("protocol length 16", arp_body(1, P.s_mac, PROBE_IP, b"\0" * 6, OASIS_IP, plen=16), True),
        ("hardware type 6 (IEEE 802)", arp_body(1, P.s_mac, PROBE_IP, b"\0" * 6, OASIS_IP, htype=6), True),
        ("protocol type 0x86dd", arp_body(1, P.s_mac, PROBE_IP, b"\0" * 6, OASIS_IP, ptype=0x86DD), True),
        ("op 0", arp_body(0, P.s_mac, PROBE_IP, b"\0" * 6, OASIS_IP), True),
        ("op 3 (RARP)", arp_body(3, P.s_mac, PROBE_IP, b"\0" * 6, OASIS_IP), True),
    ]
    with Delta() as d:
        for _, body, pad in bad:
            P.send_frame(raw_frame(BCAST_MAC, P.s_mac, ETH_ARP, body, pad))
        settle()
    replies = [a for a in W.arps(W.take()) if a["op"] == 2 and a["tpa"] == PROBE_IP]
    check(not replies, f"a malformed ARP request drew a reply: {replies}")
    check(d.get("arp", "RxMalformed") == len(bad),
          f"RxMalformed moved by {d.get('arp', 'RxMalformed')}, want {len(bad)}")
    ok("RFC 826 (packet reception)", f"{len(bad)} malformed ARP packets (" +
       ", ".join(w for w, _, _ in bad) + ") dropped unanswered, each counted")


@probe
def arp_group_sender():
    """A group address as the sender's (and the frame's source): no station
    owns it (IEEE 802 source addresses are individual), so nothing may be
    sent to it as a neighbour. Linux still answers such a request (to the
    group: one frame for one), and so may Oasis."""
    for i, mac in enumerate((BCAST_MAC, bytes.fromhex("01005e000001"), bytes.fromhex("333300000001"))):
        spa = f"10.77.0.{70 + i}"
        with Delta() as d:
            send_arp(1, mac, spa, OASIS_IP)
            settle()
        check(d.get("arp", "CacheEntries") == 0, f"sender {mac.hex(':')} took a cache entry")
        check(d.get("arp", "RxBadSender") == 1, f"sender {mac.hex(':')}: RxBadSender not counted")
    ok("RFC 1812 3.3.2 / IEEE 802 (source addresses are individual)",
       "requests whose sender is broadcast or multicast: counted, never cached")


def echo_conn():
    c = wp.Conn()
    c.open()
    c.echo(b"warm", "an ordinary connection")
    return c


@probe
def arp_gratuitous_overwrite():
    """A gratuitous request and an unsolicited reply give the probe's
    address (cached, in use by a connection) a new MAC. Oasis must not take
    it on trust: it asks the old MAC, which answers, and keeps it."""
    c = echo_conn()
    W.take()
    with Delta() as d:
        send_arp(1, BAD_MAC, PROBE_IP, PROBE_IP)                       # gratuitous request
        send_arp(2, BAD_MAC, PROBE_IP, PROBE_IP, tha=BCAST_MAC)         # gratuitous reply
        send_arp(2, BAD_MAC, PROBE_IP, OASIS_IP, dst=P.oasis_mac)       # unicast reply, unasked
        P.poll(0.5)  # the probe answers Oasis's unicast question from the right MAC
        c.echo(b"still me", "after the gratuitous ARP")
        settle(0.3)
    frames = W.take()
    asked = [a for a in W.arps(frames) if a["op"] == 1 and a["tpa"] == PROBE_IP]
    to_bad = [f for f in frames if f[0] == BAD_MAC]
    check(d.get("arp", "MacChangeSuspect") >= 1, "MacChangeSuspect not counted")
    check(d.get("arp", "MacChanges") == 0, "the MAC was changed although the old one answers")
    check(asked and all(a["dst"] == P.s_mac for a in asked),
          f"Oasis did not ask the old MAC, unicast, whether it is still there: {asked}")
    check(not to_bad, f"{len(to_bad)} frame(s) went to the claimed MAC")
    ok("RFC 826 merge / RFC 5227 2.4 (spoofing)", "a new MAC for a live, cached neighbour is "
       "only a suspicion: Oasis asks the old MAC (unicast), which answers; no frame goes to the "
       "claimed one and the connection lives on")
    c.close()


@probe
def arp_unsolicited_reply():
    stranger = "10.77.0.80"
    W.take()
    with Delta() as d:
        send_arp(2, OTHER_MAC, stranger, OASIS_IP, tha=P.oasis_mac, dst=P.oasis_mac)
        settle(0.1)
        # A SYN from the stranger: the SYN-ACK needs its MAC, which Oasis
        # must ask for, not take from the reply nobody asked for.
        sport = P.next_port()
        P.send_tcp(sport, wp.ECHO, 1000, 0, SYN, src=stranger, opts=wp.MSS1460)
        settle(0.4)
    frames = W.take()
    asked = [a for a in W.arps(frames) if a["op"] == 1 and a["tpa"] == stranger]
    check(d.get("arp", "RxUnsolicited") >= 1, "the unsolicited reply was not counted")
    check(asked and asked[0]["dst"] == BCAST_MAC,
          f"Oasis did not resolve the stranger afresh (ARP sent: {W.arps(frames)})")
    check(not [f for f in frames if f[0] == OTHER_MAC and f[1] == ETH_IP],
          "Oasis sent IP to the MAC of an unsolicited reply")
    ok("RFC 826 (merge only for known senders) / RFC 1122 2.3.2.1",
       "an unsolicited reply for an unknown address is counted and not cached: the next "
       "datagram to it waits for a request of Oasis's own")


@probe
def arp_address_conflict():
    W.take()
    with Delta() as d:
        send_arp(1, BAD_MAC, OASIS_IP, "10.77.0.1")   # someone else claims our address
        settle(0.3)
        send_arp(2, BAD_MAC, OASIS_IP, OASIS_IP)      # and again, as a reply
        settle(0.3)
    arps = W.arps(W.take())
    defence = [a for a in arps if a["spa"] == OASIS_IP and a["tpa"] == OASIS_IP]
    check(d.get("arp", "AddrConflicts") == 2, f"AddrConflicts moved by {d.get('arp', 'AddrConflicts')}, want 2")
    check(d.get("arp", "TxDefends") <= 1 and len(defence) <= 1,
          f"more than one defence within 10 s ({len(defence)})")
    check(not [a for a in arps if a["dst"] == BAD_MAC or a["tha"] == BAD_MAC],
          f"Oasis answered the address's thief: {arps}")
    check(all(a["sha"] == P.oasis_mac and a["dst"] == BCAST_MAC for a in defence),
          f"the defence is not a broadcast announcement with Oasis's MAC: {defence}")
    # Oasis keeps its address and answers for it.
    P.oasis_mac_seen = P.oasis_mac
    send_arp(1, P.s_mac, PROBE_IP, OASIS_IP)
    settle(0.2)
    replies = [a for a in W.arps(W.take()) if a["op"] == 2 and a["spa"] == OASIS_IP]
    check(replies and replies[0]["sha"] == P.oasis_mac, f"Oasis no longer answers for its address: {replies}")
    ok("RFC 5227 2.4 (c)", "a conflicting sender is counted, defended at most once per "
       "DEFEND_INTERVAL with a broadcast announcement, never answered; Oasis keeps its address")


@probe
def arp_probe_answered():
    """An RFC 5227 probe (sender 0.0.0.0) for our address is answered."""
    W.take()
    send_arp(1, OTHER_MAC, "0.0.0.0", OASIS_IP)
    settle(0.3)
    replies = [a for a in W.arps(W.take()) if a["op"] == 2 and a["spa"] == OASIS_IP]
    check(replies and replies[0]["dst"] == OTHER_MAC, f"an ARP probe for our address drew {replies}")
    ok("RFC 5227 2.1.1", "an ARP probe (sender 0.0.0.0) for our address is answered")


@probe
def arp_flood():
    """Requests for us from 1200 made-up senders: the cache stays bounded and
    the entries carrying traffic (the probe's, the kernel's) survive."""
    c = echo_conn()
    n = 1200
    with Delta() as d:
        for i in range(n):
            spa = f"10.{100 + i // 60000}.{(i // 250) % 240}.{1 + i % 250}"
            mac = bytes.fromhex("02f1") + struct.pack("!I", i)
            send_arp(1, mac, spa, OASIS_IP)
            if i % 100 == 99:
                P.poll(0.01)
                P.pending.clear()
        settle(0.5)
        W.take()
        c.echo(b"after the flood", "after the ARP flood")
        settle(0.2)
    asked = [a for a in W.arps(W.take()) if a["op"] == 1 and a["tpa"] == PROBE_IP and a["dst"] == BCAST_MAC]
    check(entries(d.after) <= 256, f"{entries(d.after)} ARP entries, the bound is 256")
    check(not asked, "the probe's entry (in use) was evicted: Oasis asked for it again")
    check(d.get("arp", "CacheNoRoom") + d.get("arp", "CacheEvictions") > 0,
          "neither CacheNoRoom nor CacheEvictions moved")
    ok("RFC 1122 2.3.2.2 / RFC 826", f"{n} requests from forged senders: cache at "
       f"{int(entries(d.after))} (bound 256), entries in use survive, the connection lives on")
    c.close()


# ---- UDP over IPv4 --------------------------------------------------------


def port_unreachs(frames):
    return [m for _, m in W.icmps(frames) if len(m) >= 8 and m[0] == 3 and m[1] == 3]


@probe
def udp_checksums_and_lengths():
    cases = [  # what, kwargs, accepted (NoPorts + ICMP) or counter
        ("zero checksum", dict(csum_mode="zero"), "accepted"),
        ("bad checksum", dict(csum_mode="bad"), "InCsumErrors"),
        ("length field beyond the datagram", dict(ulen=8 + 5 + 20), "InErrors"),
        ("length field below 8", dict(ulen=4), "InErrors"),
        ("length field short of the datagram (IP padding after it)", dict(ulen=8 + 2), "accepted"),
    ]
    for what, kw, want in cases:
        W.take()
        with Delta() as d:
            send_udp(CLOSED_PORT, b"probe", **kw)
            settle(0.15)
        un = port_unreachs(W.take())
        if want == "accepted":
            check(d.get("udp", "NoPorts") == 1, f"{what}: NoPorts moved by {d.get('udp', 'NoPorts')}, want 1")
            check(len(un) == 1, f"{what}: {len(un)} port unreachables, want 1")
            q = un[0][8:]
            check(len(q) >= 28 and socket.inet_ntoa(q[12:16]) == PROBE_IP and
                  struct.unpack("!H", q[22:24])[0] == CLOSED_PORT,
                  f"{what}: the unreachable does not quote the datagram ({q.hex()})")
        else:
            check(d.get("udp", want) == 1, f"{what}: {want} moved by {d.get('udp', want)}, want 1")
            check(d.get("udp", "NoPorts") == 0 and not un, f"{what}: the datagram was taken ({un})")
    ok("RFC 768 / RFC 1122 4.1.3.4 / 4.1.3.1", "zero checksum accepted (IPv4), bad checksum and "
       "lengths beyond the datagram or below 8 counted and dropped, a length short of the "
       "datagram takes the rest as padding; port unreachable for a closed port")


@probe
def udp_no_error_for_broadcast():
    sends = [
        ("subnet broadcast", dict(dst=SUBNET_BCAST, dst_mac=BCAST_MAC)),
        ("limited broadcast", dict(dst="255.255.255.255", dst_mac=BCAST_MAC)),
        ("subnet broadcast in a unicast frame", dict(dst=SUBNET_BCAST)),
        ("multicast", dict(dst="224.0.0.1", dst_mac=bytes.fromhex("01005e000001"))),
        ("our address in a broadcast frame", dict(dst_mac=BCAST_MAC)),
    ]
    W.take()
    with Delta() as d:
        for _, kw in sends:
            send_udp(CLOSED_PORT, b"to all", **kw)
        settle(0.3)
    un = port_unreachs(W.take())
    check(not un, f"{len(un)} port unreachable(s) for datagrams to broadcast or multicast")
    check(d.get("icmp", "OutDestUnreachs") == 0, "OutDestUnreachs moved")
    ok("RFC 1122 3.2.2 / 4.1.3.1 / 3.3.6", "no port unreachable for a datagram to a broadcast "
       "or multicast address or in a link broadcast")


@probe
def udp_unreachable_rate_limit():
    n = 300
    W.take()
    with Delta() as d:
        for i in range(n):
            send_udp(CLOSED_PORT, b"x%d" % i)
        settle(0.5)
    un = port_unreachs(W.take())
    limited = d.get("icmp", "OutRateLimited")
    # Burst 50, 100 a second: the sends take well under a second.
    check(len(un) < n // 2, f"{len(un)} port unreachables for {n} datagrams: no rate limit")
    check(limited >= n - len(un) - 5, f"OutRateLimited {limited} for {n - len(un)} suppressed")
    check(d.get("udp", "NoPorts") == n, f"NoPorts moved by {d.get('udp', 'NoPorts')}, want {n}")
    ok("RFC 1812 4.3.2.8 / RFC 1122 3.2.2", f"{n} datagrams to a closed port drew {len(un)} "
       f"port unreachables, the rest rate limited and counted")


# ---- HTTP from ordinary clients ---------------------------------------------


def http_conn(timeout=5.0):
    s = socket.create_connection((OASIS_IP, HTTP_PORT), timeout=timeout)
    s.settimeout(timeout)
    return s


def read_all(s, limit=1 << 20):
    buf = b""
    try:
        while len(buf) < limit:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except socket.timeout:
        raise Fail(f"no EOF from the server (read {len(buf)} bytes: {buf[:120]!r})")
    except ConnectionResetError:
        pass
    return buf


def responses(buf, head_only=()):
    """Splits a byte stream into (status, headers, body) responses."""
    out = []
    i = 0
    while i < len(buf):
        e = buf.find(b"\r\n\r\n", i)
        check(e >= 0, f"a partial response head: {buf[i:i + 200]!r}")
        lines = buf[i:e].decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = 0 if len(out) in head_only else int(hdrs.get("content-length", "0"))
        out.append((status, hdrs, buf[e + 4:e + 4 + n]))
        i = e + 4 + n
    return out


def exchange(data, shut=True, timeout=5.0):
    s = http_conn(timeout)
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    got = read_all(s)
    s.close()
    return got


def pattern(n):
    return wp.pattern(n)


@probe
def http_sizes():
    for path, want in (("/bytes/-1", 400), ("/bytes/99999999999999999999", 400),
                       ("/bytes/abc", 400), ("/bytes/", 400), ("/bytes/1K", 200),
                       ("/bytes/0", 200), ("/bytes/1x", 400), ("/bytes/0x10", 400),
                       ("/bytes/2000T", 400), ("/bytes/%2D5", 400)):
        r = responses(exchange(f"GET {path} HTTP/1.1\r\nHost: o\r\n\r\n".encode()))
        check(len(r) == 1 and r[0][0] == want, f"GET {path}: {[x[0] for x in r]}, want {want}")
        if want == 200:
            n = 1024 if path.endswith("K") else 0
            check(r[0][2] == pattern(n), f"GET {path}: wrong body")
    # The biggest allowed size starts streaming; the client leaves early.
    s = http_conn()
    s.sendall(b"GET /bytes/1125899906842624 HTTP/1.1\r\nHost: o\r\n\r\n")
    first = s.recv(4096)
    check(first.startswith(b"HTTP/1.1 200") and b"Content-Length: 1125899906842624" in first,
          f"GET /bytes/2^50: {first[:100]!r}")
    s.close()
    ok("RFC 9110 15.5.1", "/bytes/N with N negative, overflowing, non-numeric or empty: 400; "
       "1K, 0 and 2^50 served")


@probe
def http_head_and_pipelining():
    reqs = (b"GET /bytes/10 HTTP/1.1\r\nHost: o\r\n\r\n"
            b"HEAD /bytes/1000 HTTP/1.1\r\nHost: o\r\n\r\n"
            b"GET /nowhere HTTP/1.1\r\nHost: o\r\n\r\n"
            b"GET /bytes/3K HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n")
    r = responses(exchange(reqs, shut=False), head_only=(1,))
    check([x[0] for x in r] == [200, 200, 404, 200], f"pipelined: statuses {[x[0] for x in r]}")
    check(r[0][2] == pattern(10) and r[3][2] == pattern(3072), "pipelined: wrong bodies")
    check(r[1][1].get("content-length") == "1000", f"HEAD: Content-Length {r[1][1]}")
    ok("RFC 9112 9.3.2 / RFC 9110 9.3.2", "four pipelined requests (GET, HEAD, 404, GET with "
       "close) answered in order; HEAD has GET's Content-Length and no body")


@probe
def http_chunked_bodies():
    # A chunked body (extensions, a trailer, bare LFs) is read through and
    # the pipelined request after it is answered on the same connection.
    reqs = (b"GET /bytes/5 HTTP/1.1\r\nHost: o\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
            b"GET /bytes/7 HTTP/1.1\r\nHost: o\r\n\r\n"
            b"GET /bytes/2 HTTP/1.1\r\nHost: o\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"1\nz\n0\n\n"
            b"GET /bytes/1 HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n")
    r = responses(exchange(reqs, shut=False))
    check([x[0] for x in r] == [200, 200, 200, 200], f"chunked: statuses {[x[0] for x in r]}")
    check([x[2] for x in r] == [pattern(5), pattern(7), pattern(2), pattern(1)],
          "chunked: wrong bodies")
    # The body trickles in after the answer: the next request still follows it.
    s = http_conn()
    s.sendall(b"GET /bytes/4 HTTP/1.1\r\nHost: o\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe")
    time.sleep(0.3)
    s.sendall(b"llo\r\n0\r\n\r\nGET /bytes/6 HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n")
    r = responses(read_all(s))
    s.close()
    check([(x[0], x[2]) for x in r] == [(200, pattern(4)), (200, pattern(6))],
          f"chunked in pieces: {[x[0] for x in r]}")
    # Framing that cannot be trusted: 400 and close (or 501 for a coding
    # before chunked); a malformed chunk size likewise.
    for head, want in ((b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 400),
                       (b"Transfer-Encoding: gzip\r\n", 400),
                       (b"Transfer-Encoding: chunked, gzip\r\n", 400),
                       (b"Transfer-Encoding: gzip, chunked\r\n", 501)):
        got = exchange(b"GET /bytes/1 HTTP/1.1\r\nHost: o\r\n" + head + b"\r\n0\r\n\r\n"
                       b"GET /bytes/1 HTTP/1.1\r\nHost: o\r\n\r\n", shut=False)
        r = responses(got)
        check([x[0] for x in r] == [want], f"{head!r}: statuses {[x[0] for x in r]}, want [{want}]")
    got = exchange(b"GET /bytes/1 HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                   shut=False)
    check([x[0] for x in responses(got)] == [400], "HTTP/1.0 with Transfer-Encoding not 400")
    got = exchange(b"GET /bytes/1 HTTP/1.1\r\nHost: o\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"zz\r\nGET /bytes/1 HTTP/1.1\r\nHost: o\r\n\r\n", shut=False)
    check([x[0] for x in responses(got)] == [400], "malformed chunk size not 400")
    ok("RFC 9112 7.1, 6.1, 6.3", "chunked request bodies (extensions, trailer, bare LF, in "
       "pieces) read through, the next pipelined request answered; TE with Content-Length, "
       "chunked not final, HTTP/1.0 with TE, a bad chunk size: 400 and close; gzip, chunked: 501")


@probe
def http_line_ends():
    r = responses(exchange(b"GET /bytes/10 HTTP/1.1\nHost: o\n\n"))
    check(len(r) == 1 and r[0][0] == 200 and r[0][2] == pattern(10), f"bare LF: {r}")
    r = responses(exchange(b"\r\nGET /bytes/5 HTTP/1.1\r\nHost: o\r\n\r\n"))
    check(len(r) == 1 and r[0][0] == 200 and r[0][2] == pattern(5),
          f"an empty line before the request line: {[x[0] for x in r]}")
    r = responses(exchange(b"GET /bytes/5 HTTP/1.1\r\nHost: o\r\n\r\n\r\nGET /bytes/6 HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n",
                           shut=False))
    check([x[0] for x in r] == [200, 200] and r[1][2] == pattern(6),
          f"a CRLF between pipelined requests: {[x[0] for x in r]}")
    # A head that never ends before the client's FIN: no answer hangs.
    got = exchange(b"GET /bytes/10 HTTP/1.1\r\nHost: o\r\n")
    check(not got or got.startswith(b"HTTP/1.1 400"), f"a head cut by FIN: {got[:80]!r}")
    got = exchange(b"GET /bytes/10 HTTP/1.1\rHost: o\r\n\r\n")
    check(got.startswith(b"HTTP/1.1 400"), f"a bare CR in the request line: {got[:80]!r}")
    ok("RFC 9112 2.2", "bare LF line ends read; empty lines before a request line ignored; a "
       "head cut by FIN closes; a bare CR is a 400")


@probe
def http_big_heads():
    long_target = b"/bytes/1?" + b"a" * 3000
    got = exchange(b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n")
    check(got.startswith(b"HTTP/1.1 414"), f"a 5000-byte path: {got[:60]!r}")
    r = responses(exchange(b"GET " + long_target + b" HTTP/1.1\r\nHost: o\r\n\r\n"))
    check(r and r[0][0] == 200, f"a 3000-byte query: {[x[0] for x in r]}")
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 40) for i in range(200))
    r = responses(exchange(b"GET /bytes/4 HTTP/1.1\r\nHost: o\r\n" + many + b"\r\n"))
    check(r and r[0][0] == 200 and r[0][2] == pattern(4), f"200 header lines: {[x[0] for x in r]}")
    for what, head in (("a 20 KB header line", b"GET / HTTP/1.1\r\nX: " + b"v" * 20000 + b"\r\n\r\n"),
                       ("3000 header lines", b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 3000 + b"\r\n"),
                       ("a 40 KB request line", b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\n\r\n")):
        got = exchange(head, shut=False)
        check(got.startswith(b"HTTP/1.1 431"), f"{what}: {got[:60]!r}")
    # 64 KiB without any line end, sent all at once: answered, then closed.
    got = exchange(b"G" * 65536, shut=False)
    check(got.startswith(b"HTTP/1.1 431") or got.startswith(b"HTTP/1.1 400"), f"64 KiB junk: {got[:60]!r}")
    ok("RFC 9110 15.5.15 / RFC 6585 5", "a path past 2 KB: 414; a head past 16 KiB (one long "
       "line, many lines, no line end): 431 and close; 200 ordinary headers served")


@probe
def http_host_and_field_names():
    for what, head, want in (
            ("no Host in HTTP/1.1", b"GET /bytes/3 HTTP/1.1\r\n\r\n", 400),
            ("two Host lines", b"GET /bytes/3 HTTP/1.1\r\nHost: o\r\nHost: p\r\n\r\n", 400),
            ("a Host with a space", b"GET /bytes/3 HTTP/1.1\r\nHost: o p\r\n\r\n", 400),
            ("no Host in HTTP/1.0", b"GET /bytes/3 HTTP/1.0\r\n\r\n", 200),
            ("whitespace before a colon", b"GET /bytes/3 HTTP/1.1\r\nHost: o\r\nContent-Length : 4\r\n\r\nbody", 400),
            ("a field name with a control byte", b"GET /bytes/3 HTTP/1.1\r\nHost: o\r\nX\x01: y\r\n\r\n", 400),
            ("absolute-form", b"GET http://10.77.0.2/bytes/3 HTTP/1.1\r\nHost: o\r\n\r\n", 200)):
        r = responses(exchange(head))
        check(r and r[0][0] == want, f"{what}: {[x[0] for x in r]}, want {want}")
        if want == 200:
            check(r[0][2] == pattern(3), f"{what}: wrong body")
    ok("RFC 9112 3.2 / 5.1 / 3.2.2", "HTTP/1.1 without Host, two Hosts, a bad Host, whitespace "
       "before a field's colon, a non-token field name: 400; absolute-form served")


@probe
def http_half_close():
    s = http_conn()
    s.sendall(b"GET /bytes/300000 HTTP/1.1\r\nHost: o\r\n\r\n")
    s.shutdown(socket.SHUT_WR)
    r = responses(read_all(s, 1 << 21))
    s.close()
    check(len(r) == 1 and r[0][0] == 200 and r[0][2] == pattern(300000),
          f"a request then FIN: {[(x[0], len(x[2])) for x in r]}")
    ok("RFC 9112 9.6 / RFC 9293 3.6", "a client that half-closes after its request gets the "
       "whole response (300000 bytes), then the close")


def curr_estab():
    return wp.counter(wp.metrics(), "tcp", "CurrEstab")


@probe
def http_reset_mid_response():
    base = curr_estab()
    for _ in range(5):
        s = http_conn()
        s.sendall(b"GET /bytes/100M HTTP/1.1\r\nHost: o\r\n\r\n")
        s.recv(10000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # RST
    r = responses(exchange(b"GET /bytes/1000 HTTP/1.1\r\nHost: o\r\n\r\n"))
    check(r and r[0][0] == 200 and r[0][2] == pattern(1000), "a request after the resets failed")
    for _ in range(50):
        if curr_estab() <= base:
            break
        time.sleep(0.1)
    check(curr_estab() <= base, "connections reset mid-response are still established")
    ok("RFC 9293 3.10.7.4 (RST)", "clients that reset mid-response: their connections end, "
       "the server serves on")


@probe
def http_slowloris():
    """One byte of a head every 0.3 s, never finishing: --header-timeout 2
    must answer 408 and close; the server does not wait on it."""
    s = http_conn(timeout=15)
    got = b""
    deadline = time.monotonic() + 15
    msg = b"GET /bytes/10 HTTP/1.1\r\nX-Slow: " + b"z" * 200
    i = 0
    try:
        while time.monotonic() < deadline and i < len(msg):
            s.send(msg[i:i + 1])
            i += 1
            r, _, _ = select.select([s], [], [], 0.3)
            if r:
                d = s.recv(4096)
                got += d
                if not d:
                    break
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        got += read_all(s)
    except Fail:
        pass
    s.close()
    check(got.startswith(b"HTTP/1.1 408"), f"a head trickled for 15 s: {got[:60]!r} after {i} bytes")
    check(i < len(msg), "the whole trickled head was taken")
    ok("RFC 9110 15.5.9 (408)", f"a head trickled one byte at a time: 408 and close after {i} "
       "bytes (--header-timeout)")


@probe
def http_stalled_body():
    """A request that announces a body and sends none of it: the
    connection is idle and must be closed by the idle timeout (3 s here)."""
    s = http_conn(timeout=15)
    s.sendall(b"GET /bytes/10 HTTP/1.1\r\nHost: o\r\nContent-Length: 100000\r\n\r\n" + b"b" * 100)
    got = read_all(s)
    s.close()
    r = responses(got)
    check(r and r[0][0] == 200 and r[0][2] == pattern(10), f"the answer: {got[:80]!r}")
    ok("oasis serve --idle-timeout", "a client that stops in the middle of a request body is "
       "closed by the idle timeout")


@probe
def http_body_in_one_read():
    """A head and a large body sent at once: one read may bring the server
    more than a head's room (16 KiB); the body is dropped, not taken for an
    over-long head."""
    for i in range(5):
        s = http_conn()
        s.sendall(b"GET /bytes/9 HTTP/1.1\r\nHost: o\r\nContent-Length: 200000\r\n\r\n"
                  + b"b" * 200000 + b"GET /bytes/3 HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n")
        r = responses(read_all(s))
        s.close()
        check([(x[0], x[2]) for x in r] == [(200, pattern(9)), (200, pattern(3))],
              f"try {i}: statuses {[x[0] for x in r]}")
    ok("RFC 9112 6.2", "a 200 KB body sent with its head is dropped and the next request "
       "answered (5 tries), never answered 431")


@probe
def http_stalled_body_many():
    """The same with the rest of the body trickling, then stopping."""
    s = http_conn(timeout=15)
    s.sendall(b"GET /bytes/10 HTTP/1.1\r\nHost: o\r\nContent-Length: 100000000000\r\n\r\n")
    s.sendall(b"b" * 70000)
    got = read_all(s)
    s.close()
    check(got.startswith(b"HTTP/1.1 200"), f"the answer: {got[:80]!r}")
    ok("oasis serve --idle-timeout", "a client that announces 100 GB of body and stops after "
       "70 KB is closed by the idle timeout")


# ---- the metrics endpoint (the library's Prometheus server) ---------------------


def hold_metrics_conns(kinds):
    """Connections to the metrics port, each sending: nothing (idle), a head
    that never ends (trickle), or 20 pipelined requests it never reads the
    answers of (noread)."""
    held = []
    for kind in kinds:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        s.connect((OASIS_IP, wp.METRICS_PORT))
        if kind == "trickle":
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: o\r\nX-Slow: ")
        elif kind == "noread":
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: o\r\n\r\n" * 20)
        held.append(s)
    time.sleep(0.3)
    return held


@probe
def metrics_slow_clients():
    """16 connections (the server's max_conns) that send nothing, a head
    that never ends, or pipelined requests whose answers they never read:
    a scraper must still be answered, at once."""
    for what, kinds in (("idle, trickling and never-reading", ["idle", "trickle", "noread"] * 5 + ["idle"]),
                        ("never-reading", ["noread"] * 16)):
        held = hold_metrics_conns(kinds)
        try:
            m = wp.metrics()
            check(wp.counter(m, "prometheus", "connections") <= 16, "more connections than max_conns")
        except OSError as e:
            raise Fail(f"a scrape with 16 {what} connections open failed: {e!r}")
        finally:
            for s in held:
                s.close()
    ok("oasis_prom_config max_conns", "16 idle, trickling or never-reading connections "
       "cannot lock the scraper out: the longest-waiting one makes room")


# ---- the run ----------------------------------------------------------------


def main():
    global P, W
    P = wp.P = wp.Probe()
    P.s_mac = wp.PROBE_MAC
    P.resolve()
    W = Watch()
    only = os.environ.get("PROBE_ONLY")
    steps = [(fn.__name__, fn) for fn in CHECKS if not only or fn.__name__ in only.split(",")]
    took = {}
    for name, fn in steps:
        wp.run(name, fn, took)
        P.pending.clear()
    slow = sorted(took.items(), key=lambda kv: -kv[1])[:5]
    print("slowest: " + ", ".join(f"{k} {v:.1f} s" for k, v in slow), flush=True)
    print(f"probe: {len(steps) - len(wp.FAILED)} of {len(steps)} check groups passed", flush=True)
    return len(wp.FAILED)


if __name__ == "__main__":
    sys.exit(min(main(), 100))
