#!/usr/bin/env python3
"""Writes tests/fuzz/corpus/dns/: DNS answers laid out byte for byte as
real servers send them (BIND/dnsmasq style compression: owner names as
pointers to the question, shared suffixes), plus a few hostile ones.
The real_dnsmasq_* seeds are not made here: they are dnsmasq 2.90's own
answers (A, AAAA, a two-CNAME chain, NXDOMAIN, a TC=1 UDP answer and the
same over TCP), captured once in a private namespace."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "dns")


def name(text):
    b = b""
    for label in text.rstrip(".").split("."):
        b += bytes([len(label)]) + label.encode()
    return b + b"\0"


def ptr(off):
    return struct.pack("!H", 0xC000 | off)


def hdr(id_, flags, qd, an, ns, ar):
    return struct.pack("!HHHHHH", id_, flags, qd, an, ns, ar)


def rr(owner, typ, ttl, rdata, cls=1):
    return owner + struct.pack("!HHIH", typ, cls, ttl, len(rdata)) + rdata


def q(text, typ=1):
    return name(text) + struct.pack("!HH", typ, 1)


RESP = 0x8180  # QR RD RA


def soa(mname, rname, minimum):
    return mname + rname + struct.pack("!IIIII", 2024010101, 7200, 3600, 1209600, minimum)


seeds = {}
# example.com A, owner compressed to the question.
seeds["a_example"] = hdr(0x1A2B, RESP, 1, 1, 0, 0) + q("example.com") + rr(
    ptr(12), 1, 3600, bytes([93, 184, 215, 14]))
# www.github.com: CNAME to github.com, then its A (target compressed into the question).
m = hdr(0x0B0B, RESP, 1, 2, 0, 0) + q("www.github.com")
m += rr(ptr(12), 5, 3600, ptr(16))
m += rr(ptr(16), 1, 60, bytes([140, 82, 121, 4]))
seeds["cname_github"] = m
# Two-link chain with a new name in the middle (label + pointer).
m = hdr(0x2222, RESP, 1, 3, 0, 0) + q("files.test")
cn1_off = len(m) + 12
m += rr(ptr(12), 5, 300, b"\x03cdn" + ptr(18))
m += rr(ptr(cn1_off), 5, 300, b"\x04edge" + ptr(cn1_off))
m += rr(ptr(len(m) - 7), 1, 20, bytes([10, 0, 0, 2]))
seeds["cname_chain2"] = m
# NXDOMAIN with the zone's SOA in authority (RFC 2308).
m = hdr(0x3333, 0x8183, 1, 0, 1, 0) + q("nope.example.com")
m += rr(ptr(17), 6, 900, soa(b"\x02ns" + ptr(17), b"\x05admin" + ptr(17), 300))
seeds["nxdomain_soa"] = m
# NODATA: AAAA asked, SOA only.
m = hdr(0x4444, RESP | 0x0400, 1, 0, 1, 0) + q("example.com", 28)
m += rr(ptr(12), 6, 3600, soa(b"\x02ns" + ptr(12), b"\x04root" + ptr(12), 60))
seeds["nodata_aaaa"] = m
# AAAA answer (RFC 3596).
seeds["aaaa"] = hdr(0x5555, RESP, 1, 1, 0, 0) + q("example.com", 28) + rr(
    ptr(12), 28, 3600, bytes.fromhex("2606280002200001024818931c8c8c8c"[:32]))
# Several A records, NS in authority, glue in additional.
m = hdr(0x6666, RESP | 0x0400, 1, 3, 1, 1) + q("files.test")
for i in range(3):
    m += rr(ptr(12), 1, 120, bytes([10, 0, 0, 10 + i]))
ns_off = len(m) + 12
m += rr(ptr(18), 2, 86400, b"\x02ns" + ptr(18))
m += rr(ptr(ns_off), 1, 86400, bytes([10, 0, 0, 53]))
seeds["multi_a_glue"] = m
# Truncated (TC) answer: question only.
seeds["truncated"] = hdr(0x7777, RESP | 0x0200, 1, 0, 0, 0) + q("big.test")
seeds["servfail"] = hdr(0x8888, 0x8182, 1, 0, 0, 0) + q("example.com")
# Hostile: pointer loop, forward pointer, label of 64, pointer into header.
seeds["bad_loop"] = hdr(1, RESP, 1, 1, 0, 0) + q("a.test") + rr(ptr(24), 1, 1, b"\1\2\3\4")
seeds["bad_forward"] = hdr(1, RESP, 1, 1, 0, 0) + q("a.test") + rr(ptr(40), 1, 1, b"\1\2\3\4")
seeds["bad_label64"] = hdr(1, RESP, 1, 0, 0, 0) + b"\x40" + b"a" * 64 + b"\0\0\1\0\1"
seeds["bad_header_ptr"] = hdr(1, RESP, 1, 1, 0, 0) + q("a.test") + rr(ptr(2), 1, 1, b"\1\2\3\4")
seeds["bad_ttl_top_bit"] = hdr(1, RESP, 1, 1, 0, 0) + q("a.test") + rr(
    ptr(12), 1, 0x80000001, b"\1\2\3\4")
# EDNS(0) (RFC 6891): an OPT RR in the additional section (root owner,
# CLASS = payload size 1232, TTL = EXTENDED-RCODE/VERSION/DO, a cookie
# option), after the answer; one with EXTENDED-RCODE 1 (BADVERS); a hostile
# one with two OPTs.


def opt(size=1232, ext=0, flags=0, options=b""):
    return b"\0" + struct.pack("!HHIH", 41, size, ext << 24 | flags, len(options)) + options


cookie = struct.pack("!HH", 10, 8) + bytes(range(8))
seeds["edns_opt"] = hdr(0x9999, RESP, 1, 1, 0, 1) + q("example.com") + rr(
    ptr(12), 1, 300, bytes([93, 184, 215, 14])) + opt(1232, 0, 0x8000, cookie)
seeds["edns_badvers"] = hdr(0x9A9A, RESP, 1, 0, 0, 1) + q("example.com") + opt(1232, 1)
seeds["bad_two_opt"] = hdr(0x9B9B, RESP, 1, 0, 0, 2) + q("example.com") + opt() + opt()

# TSIG (RFC 8945 4.2): the last additional record, owned by the key name
# (k.test, the key fuzz_dns.c checks with), CLASS ANY, TTL 0; an OPT
# before it. The MAC is made up: the checks run up to the MAC comparison.
# A hostile one has the TSIG before the OPT.
def tsig(key="k.test", mac=bytes(range(32)), orig=0x7777, error=0, other=b""):
    rdata = name("hmac-sha256") + struct.pack("!HIHH", 0, 1700000000, 300, len(mac)) + mac
    rdata += struct.pack("!HHH", orig, error, len(other)) + other
    return name(key) + struct.pack("!HHIH", 250, 255, 0, len(rdata)) + rdata


seeds["tsig_signed"] = hdr(0x7777, RESP, 1, 1, 0, 2) + q("example.com") + rr(
    ptr(12), 1, 300, bytes([93, 184, 215, 14])) + opt() + tsig()
seeds["tsig_badtime_error"] = hdr(0x7778, RESP | 9, 1, 0, 0, 1) + q("example.com") + tsig(
    orig=0x7778, error=18, other=struct.pack("!HI", 0, 1700000400))
seeds["bad_tsig_not_last"] = hdr(0x7779, RESP, 1, 0, 0, 2) + q("example.com") + tsig() + opt()

os.makedirs(OUT, exist_ok=True)
for k, v in seeds.items():
    with open(os.path.join(OUT, k), "wb") as f:
        f.write(v)
