#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/ (checked in; rerun after
changing an input format). Real packets, built by hand byte for byte."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
STACK_MAC = bytes([2, 0, 0, 0, 0, 1])
PEER_MAC = bytes([2, 0, 0, 0, 0, 2])
STACK_IP = bytes([10, 0, 0, 1])
PEER_IP = bytes([10, 0, 0, 2])


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(proto, payload, src=PEER_IP, dst=STACK_IP, ident=1, frag=0x4000, opts=b"", ttl=64):
    ihl = 5 + len(opts) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(payload), ident, frag, ttl,
                    proto, 0, src, dst) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def pseudo(src, dst, proto, n):
    return src + dst + struct.pack("!BBH", 0, proto, n)


def udp(sport, dport, data, src=PEER_IP, dst=STACK_IP, with_csum=True):
    u = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    if with_csum:
        c = csum(pseudo(src, dst, 17, len(u)) + u) or 0xFFFF
        u = u[:6] + struct.pack("!H", c) + u[8:]
    return u


def icmp(typ, code, rest, data):
    m = struct.pack("!BBHI", typ, code, 0, rest) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def tcp_opts(mss=None, ws=None, sackp=False, ts=None, sack=()):
    o = b""
    if mss is not None:
        o += struct.pack("!BBH", 2, 4, mss)
    if ts is not None:
        o += (b"\x04\x02" if sackp else b"\x01\x01") + struct.pack("!BBII", 8, 10, *ts)
    elif sackp:
        o += b"\x01\x01\x04\x02"
    if ws is not None:
        o += b"\x01\x03\x03" + bytes([ws])
    if sack:
        o += b"\x01\x01" + bytes([5, 2 + 8 * len(sack)])
        for left, right in sack:
            o += struct.pack("!II", left, right)
    return o


def tcp(sport, dport, seq, ack, flags, data=b"", opts=b"", win=65535, src=PEER_IP, dst=STACK_IP,
        with_csum=True):
    doff = (20 + len(opts)) // 4
    t = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, win, 0, 0) + opts + data
    if with_csum:
        c = csum(pseudo(src, dst, 6, len(t)) + t)
        t = t[:16] + struct.pack("!H", c) + t[18:]
    return t


def eth(dst, src, typ, payload):
    return dst + src + struct.pack("!H", typ) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, spa, tha, tpa)


FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16
BCAST = b"\xff" * 6


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def seeds_parsers():
    arp_req = arp(1, PEER_MAC, PEER_IP, b"\0" * 6, STACK_IP)
    ip_udp = ipv4(17, udp(1234, 7, b"hello"))
    write("eth", "arp_request", eth(BCAST, PEER_MAC, 0x0806, arp_req + b"\0" * 18))
    write("eth", "ipv4_udp", eth(STACK_MAC, PEER_MAC, 0x0800, ip_udp))
    write("eth", "vlan", eth(STACK_MAC, PEER_MAC, 0x8100, b"\x00\x05\x08\x00" + ip_udp))
    write("eth", "llc_8023", eth(STACK_MAC, PEER_MAC, 0x0030, b"\xaa\xaa\x03" + b"\0" * 45))
    write("eth", "short", STACK_MAC + PEER_MAC + b"\x08")

    write("arp", "request", arp_req)
    write("arp", "reply_padded", arp(2, STACK_MAC, STACK_IP, PEER_MAC, PEER_IP) + b"\0" * 18)
    write("arp", "gratuitous", arp(1, PEER_MAC, PEER_IP, b"\0" * 6, PEER_IP))
    write("arp", "bad_htype", b"\x00\x06" + arp_req[2:])
    write("arp", "bad_op", arp_req[:6] + b"\x00\x03" + arp_req[8:])

    write("ipv4", "udp", ip_udp)
    write("ipv4", "options_rr", ipv4(1, icmp(8, 0, 0x00010001, b"ping"),
                                     opts=b"\x07\x07\x04" + b"\0" * 4 + b"\x01"))
    write("ipv4", "first_fragment", ipv4(17, udp(1, 7, b"A" * 24)[:16], frag=0x2000))
    write("ipv4", "last_fragment", ipv4(17, b"B" * 16, frag=2))
    write("ipv4", "padded", ip_udp + b"\0" * 10)
    bad = bytearray(ip_udp)
    bad[10] ^= 0xFF
    write("ipv4", "bad_checksum", bytes(bad))

    write("icmp", "echo", icmp(8, 0, 0x12340001, b"abcdefgh" * 4))
    write("icmp", "echo_reply", icmp(0, 0, 0x12340001, b"abcdefgh"))
    write("icmp", "port_unreach", icmp(3, 3, 0, ip_udp[:28]))
    write("icmp", "frag_needed", icmp(3, 4, 1400, ip_udp[:28]))
    write("icmp", "odd_length", icmp(8, 0, 1, b"abc"))

    addrs = PEER_IP + STACK_IP
    write("udp", "dns_like", addrs + udp(5353, 53, b"\x12\x34\x01\x00" + b"\0" * 8))
    write("udp", "no_checksum", addrs + udp(1, 7, b"zero", with_csum=False))
    write("udp", "padded", addrs + udp(1, 7, b"pad") + b"\0" * 6)
    write("udp", "empty", addrs + udp(9, 9, b""))
    write("udp", "short_len", addrs + struct.pack("!HHHH", 1, 2, 4, 0))

    def t(name, seg, verify=1):
        write("tcp", name, bytes([verify]) + addrs + seg)
    t("syn_linux", tcp(40000, 80, 1, 0, SYN, opts=tcp_opts(1460, 7, True, (100, 0))))
    t("synack", tcp(80, 40000, 5, 2, SYN | ACK, opts=tcp_opts(1460, 7, True, (200, 100))))
    t("ack_sack3", tcp(40000, 80, 2, 6, ACK, opts=tcp_opts(ts=(101, 200),
                        sack=((10, 20), (30, 40), (50, 60)))))
    t("sack4", tcp(40000, 80, 2, 6, ACK, opts=tcp_opts(sack=((1, 2), (3, 4), (5, 6), (7, 8)))))
    t("data", tcp(40000, 80, 2, 6, ACK | PSH, b"GET / HTTP/1.0\r\n\r\n"))
    t("unknown_opt", tcp(1, 2, 3, 4, ACK, opts=b"\x1e\x04\xab\xcd\x00\x00\x00\x00"), 0)
    t("bad_optlen", tcp(1, 2, 3, 4, ACK, opts=b"\x02\x09\x05\xb4"), 0)


def rec(tick, kind, body):
    return bytes([tick, kind]) + struct.pack("!H", len(body)) + body


def seg(flags, data=b"", seq=0, ack=0, opts=b"", win=65535):
    # Ports and checksum are filled in by the harness (mode 2).
    return tcp(0, 0, seq, ack, flags, data, opts, win, with_csum=False)


def app(what, arg=0):
    return rec(0, 0x80, bytes([what, arg]))


def seeds_stack():
    write("stack", "empty", b"")
    write("stack", "data_in", rec(1, 2, seg(ACK | PSH, b"hello world")) +
          rec(20, 2, seg(ACK | PSH, b"more")))
    write("stack", "ack_and_fin", rec(0, 2, seg(ACK)) + rec(30, 2, seg(ACK | FIN)) +
          app(2) + rec(60, 2, seg(ACK)))
    write("stack", "app_close_first", app(2) + rec(10, 2, seg(ACK)) +
          rec(10, 2, seg(ACK | FIN)) + rec(200, 0x80, b"\x04"))
    write("stack", "active_open", rec(1, 0x12, seg(SYN | ACK, opts=tcp_opts(1400, 2, True,
                                                                              (7, 0)))) +
          rec(1, 0x12, seg(ACK | PSH, b"banner")))
    write("stack", "udp_echo", rec(0, 1, ipv4(17, udp(5000, 7, b"ping me"))))
    write("stack", "icmp_echo", rec(0, 1, ipv4(1, icmp(8, 0, 0x00420001, b"x" * 32))))
    whole = udp(5000, 7, bytes(range(48)))
    write("stack", "fragments", rec(0, 1, ipv4(17, whole[:24], ident=9, frag=0x2000)) +
          rec(0, 1, ipv4(17, whole[24:], ident=9, frag=3)))
    write("stack", "arp_request", rec(0, 3, arp(1, PEER_MAC, PEER_IP, b"\0" * 6, STACK_IP)) +
          rec(0, 7, arp(1, bytes([2, 0, 0, 0, 0, 3]), bytes([10, 0, 0, 3]), b"\0" * 6,
                         STACK_IP)))
    write("stack", "raw_frame", rec(0, 0, eth(STACK_MAC, PEER_MAC, 0x0800,
                                             ipv4(17, udp(1, 7, b"raw")))))
    write("stack", "rst", rec(5, 2, seg(RST)))
    write("stack", "ooo_sack", rec(0, 2, seg(ACK, b"B" * 100, seq=100)) +
          rec(0, 2, seg(ACK, b"D" * 100, seq=300)) + rec(0, 2, seg(ACK, b"A" * 100)) +
          rec(0, 2, seg(ACK, opts=tcp_opts(sack=((1000, 2000),)))))
    write("stack", "new_peer", rec(0, 0x22, seg(SYN, opts=tcp_opts(536, 0, False, None))) +
          rec(0, 0x22, seg(ACK)) + rec(0, 0x22, seg(ACK | PSH, b"x")))
    write("stack", "timers", rec(100, 0x80, b"\x00\x10") + rec(255, 0x80, b"\x07") +
          rec(255, 0x80, b"\x07") + rec(255, 0x80, b"\x07"))
    write("stack", "apps", app(0x80, 30) + app(0x81, 1) + app(0x82, 8) + app(0x01, 5) +
          app(0x06, 1) + app(0x83) + app(0x84) + rec(50, 0x12, seg(RST | ACK)))
    write("stack", "zero_window", rec(0, 2, seg(ACK, win=0)) + rec(200, 0x80, b"\x00\x40") +
          rec(250, 2, seg(ACK, win=0)) + rec(250, 2, seg(ACK, win=1000)))
    # IGMP (the harness joined 239.1.2.3): queries of each version, from
    # 0.0.0.0 and from the peer, to all-systems and to the group (mode 1
    # with 0x04: addresses kept), a datagram to the group, joins and
    # leaves, time for the answers.
    allsys, grp = bytes([224, 0, 0, 1]), bytes([239, 1, 2, 3])
    zero = bytes(4)
    q3 = icmp(0x11, 100, 0, bytes(4))  # same checksum rule as ICMP
    q3g = icmp(0x11, 10, 0xEF010203, bytes(4))
    q2 = icmp(0x11, 50, 0, b"")
    q1 = icmp(0x11, 0, 0, b"")
    write("stack", "igmp", rec(0, 5, ipv4(2, q3, src=zero, dst=allsys, ttl=1)) +
          rec(0, 5, ipv4(2, q3g, dst=grp, ttl=1)) +
          rec(0, 5, ipv4(17, udp(5000, 7, b"to the group", dst=grp), dst=grp)) +
          app(0xC0, 2) + app(0xC0, 3) + rec(200, 5, ipv4(2, q2, dst=allsys, ttl=1)) +
          rec(200, 5, ipv4(2, q1, dst=allsys, ttl=1)) + app(0xC0, 1) + rec(255, 0x80, b"\x07"))
    # A redirect from the gateway (the peer) for 8.8.8.8 to 10.0.0.3,
    # quoting a datagram we sent; then traffic there.
    quote = ipv4(17, udp(7, 53, b"", src=STACK_IP, dst=bytes([8, 8, 8, 8])),
                 src=STACK_IP, dst=bytes([8, 8, 8, 8]))[:28]
    write("stack", "redirect", rec(0, 1, ipv4(1, icmp(5, 1, 0x0A000003, quote))) +
          app(0x80, 1) + rec(255, 0x80, b"\x07"))


def lpstr(s):
    return bytes([len(s)]) + s


def seeds_lp():
    ts = struct.pack("!Q", 1700000000000000000)
    head = lambda flags, ntags, nfields: bytes([flags]) + struct.pack("!H", 4000) + ts + \
        bytes([ntags | nfields << 4])
    # measurement, tags, fields (key, type, value); alphabet: see fuzz_lp.c
    write("lp", "plain", head(0, 1, 2) + lpstr(b"\x0e\x0f\x10") + lpstr(b"\x11") +
          lpstr(b"\x12") + lpstr(b"\x0a") + b"\x00" + struct.pack("!q", -5) +
          lpstr(b"\x0b") + b"\x02" + struct.pack("!d", 1.5))
    write("lp", "escapes", head(0, 2, 1) + lpstr(b"\x0a\x00\x01\x0b") + lpstr(b"\x0c\x02") +
          lpstr(b"\x00\x0d") + lpstr(b"\x01") + lpstr(b"\x03\x0a") +
          lpstr(b"\x0e") + b"\x04" + lpstr(b"\x04\x03\x0a\x04"))
    write("lp", "uint_big", head(1, 0, 2) + lpstr(b"\x0a") + lpstr(b"\x0b") + b"\x01" +
          struct.pack("!Q", 2**63 + 5) + lpstr(b"\x0c") + b"\x03\x01")
    write("lp", "nan", head(2, 0, 1) + lpstr(b"\x0a") + lpstr(b"\x0b") + b"\x02" +
          struct.pack("!d", float("nan")))
    write("lp", "tiny_buffer", bytes([0]) + struct.pack("!H", 5) + ts + bytes([1 << 4]) +
          lpstr(b"\x0a\x0a\x0a") + lpstr(b"\x0b") + b"\x00" + struct.pack("!q", 1))
    write("lp", "utf8", head(0, 1, 1) + lpstr("héllo".encode()) + lpstr("ключ".encode()) +
          lpstr("значение".encode()) + lpstr(b"\x0a") + b"\x04" + lpstr("✓".encode()))


def seeds_http():
    write("http", "get", b"\x00GET /index.html?x=1 HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n")
    write("http", "post_len", b"\x00POST /a%20b HTTP/1.0\r\nContent-Length: 12\r\n"
          b"Connection: keep-alive\r\n\r\nhello world!")
    write("http", "req_chunked", b"\x00PUT / HTTP/1.1\nTransfer-Encoding: chunked\n\n")
    write("http", "resp_200", b"\x01HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
    write("http", "resp_chunked", b"\x01HTTP/1.0 404 Not Found\r\nTransfer-Encoding: chunked\r\n"
          b"Connection: close\r\n\r\n")
    write("http", "chunked_body", b"\x02\x03\x01\x07\x02" + b"5\r\nhello\r\n1a;ext=1\r\n" +
          b"abcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\n")
    write("http", "chunked_bare_lf", b"\x02\x00" + b"3\nabc\n0\n\n")
    write("http", "url", b"\x03http://10.0.0.1:8080/path/x")
    write("http", "url_noport", b"\x03http://192.168.1.2")


def seeds_gso():
    # type, gso_size, csum_start, csum_offset, flags; then the frame
    def hdr(typ, gso, start, off, flags=1):
        return struct.pack("!BHHHB", typ, gso, start, off, flags)
    data = bytes((i * 7) & 0xff for i in range(3000))
    opts = b"\x01\x01\x08\x0a" + b"\x00" * 8
    seg = tcp(80, 40000, 1000, 2000, 0x18, data, opts)
    write("gso", "tcpv4", hdr(1, 1000, 34, 16) + eth(PEER_MAC, STACK_MAC, 0x0800,
                                                     ipv4(6, seg)))
    write("gso", "tcpv4_ecn", hdr(0x81, 1448, 34, 16) + eth(PEER_MAC, STACK_MAC, 0x0800,
                                                           ipv4(6, seg)))
    ip6 = (struct.pack("!IHBB", 6 << 28, len(seg), 6, 64) + b"\x20\x01\x0d\xb8" + b"\0" * 11 +
           b"\x01" + b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\x02")
    write("gso", "tcpv6", hdr(2, 700, 54, 16) + eth(PEER_MAC, STACK_MAC, 0x86dd, ip6 + seg))
    write("gso", "partial_only", hdr(0, 0, 34, 16) + eth(PEER_MAC, STACK_MAC, 0x0800,
                                                         ipv4(6, seg[:200])))
    write("gso", "udp", hdr(3, 1000, 34, 6) + eth(PEER_MAC, STACK_MAC, 0x0800,
                                                  ipv4(17, udp(53, 53, data[:100]))))


if __name__ == "__main__":
    seeds_gso()
    seeds_parsers()
    seeds_stack()
    seeds_lp()
    seeds_http()
