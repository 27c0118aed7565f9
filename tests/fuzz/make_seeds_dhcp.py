#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_dhcp (tests/fuzz/corpus/dhcp): one control
byte (bit 0: also feed a client; bit 1: after an offer; bit 2: the client
asks for Rapid Commit), then a DHCP message built by hand."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MAC = bytes([2, 0, 0, 0, 0, 1])


def opt(code, data):
    return bytes([code, len(data)]) + data


def msg(mtype, options=b"", yiaddr=bytes([10, 0, 0, 50]), file=b"", sname=b"", end=True):
    h = struct.pack("!BBBBIHH4s4s4s4s", 2, 1, 6, 0, 0x12345678, 0, 0, bytes(4), yiaddr,
                    bytes(4), bytes(4))
    h += MAC + bytes(10)
    h += sname.ljust(64, b"\0") + file.ljust(128, b"\0")
    h += bytes([99, 130, 83, 99])
    o = opt(53, bytes([mtype])) + options
    if end:
        o += b"\xff"
    return (h + o).ljust(300, b"\0")


SID = opt(54, bytes([10, 0, 0, 254]))
FULL = (SID + opt(51, struct.pack("!I", 120)) + opt(1, bytes([255, 255, 255, 0]))
        + opt(3, bytes([10, 0, 0, 1])) + opt(6, bytes([10, 0, 0, 53, 9, 9, 9, 9]))
        + opt(26, struct.pack("!H", 1400)) + opt(58, struct.pack("!I", 60))
        + opt(59, struct.pack("!I", 105)) + opt(12, b"host"))

SEEDS = {
    "offer": (1, msg(2, SID)),
    "ack": (3, msg(5, FULL)),
    "nak": (3, msg(6, SID)),
    "overload_both": (3, msg(5, opt(52, b"\x03") + SID, file=opt(51, struct.pack("!I", 60)) + b"\xff",
                             sname=opt(1, bytes([255, 255, 0, 0])) + b"\xff")),
    "split_dns": (3, msg(5, SID + opt(51, struct.pack("!I", 60)) + opt(6, bytes([10, 0]))
                         + opt(6, bytes([0, 53])))),
    "no_end": (1, msg(2, SID, end=False)),
    "pads": (1, msg(2, b"\0\0\0" + SID + b"\0")),
    "bad_len": (1, msg(2, SID)[:243] + b"\x36\x40"),
    "short": (0, msg(2, SID)[:120]),
    "infinite": (3, msg(5, SID + opt(51, b"\xff\xff\xff\xff"))),
    "rapid_ack": (5, msg(5, FULL + opt(80, b""))),
    "rapid_bad_len": (5, msg(5, FULL + opt(80, b"\x00"))),
}

d = os.path.join(HERE, "corpus", "dhcp")
os.makedirs(d, exist_ok=True)
for name, (ctl, m) in SEEDS.items():
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes([ctl]) + m)
