#!/usr/bin/env python3
"""Hostile and unusual IPv4/TCP frames at `oasis serve`, from the wire.

Run inside the test's network namespace (wire_probe.sh). The probe is a
host of its own on the TAP's link: a made-up MAC and address (PROBE_IP),
frames sent and read through an AF_PACKET socket, ARP requests for its
address answered here. The kernel owns neither, so its TCP never answers
Oasis's replies with RSTs of its own. Oasis's counters come from its
Prometheus endpoint, read by the kernel's TCP (urllib).

Every check prints "ok: <clause>: <what>" or "FAIL: ..."; the exit status
is the number of failed checks (0: all passed). Standard library only.

Usage: wire_probe.py TAP OASIS_IP PROBE_IP METRICS_PORT
"""
import os
import random
import re
import select
import socket
import struct
import subprocess
import sys
import time
import urllib.request

from probe_frames import (  # noqa: F401 (the other probes take them from here)
    PACKET_OUTGOING, PACKET_VNET_HDR, SOL_PACKET, csum, ip4, packet_socket, tcp_bytes)

TAP, OASIS_IP, PROBE_IP, METRICS_PORT = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
PROBE_MAC = bytes.fromhex("02a5c0ffee07")
BCAST_MAC = b"\xff" * 6
ETH_IP, ETH_ARP = 0x0800, 0x0806
VNET_HLEN = 10
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
ECHO, HTTP, CLOSED_PORT = 7, 80, 4444
MSS1460 = b"\x02\x04\x05\xb4"

random.seed()
FAILED = []


class Fail(Exception):
    pass


def ok(clause, what):
    print(f"ok: {clause}: {what}", flush=True)


def check(cond, what):
    if not cond:
        raise Fail(what)


# ---- building frames ----------------------------------------------------


def ip_bytes(payload, src, dst, proto=6, ttl=64, ident=None, df=True, mf=False, frag_off=0,
             opts=b"", ihl=None, tot_len=None, version=4, bad_csum=False):
    opts += b"\0" * (-len(opts) % 4)
    hl = ihl if ihl is not None else (20 + len(opts)) // 4
    total = tot_len if tot_len is not None else 20 + len(opts) + len(payload)
    ident = random.getrandbits(16) if ident is None else ident
    ff = (0x4000 if df else 0) | (0x2000 if mf else 0) | (frag_off // 8)
    h = struct.pack("!BBHHHBBH4s4s", (version << 4) | hl, 0, total, ident, ff, ttl, proto, 0,
                    ip4(src), ip4(dst)) + opts
    c = csum(h)
    if bad_csum:
        c ^= 0x0101
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def eth(dst_mac, ethertype, payload):
    frame = dst_mac + PROBE_MAC + struct.pack("!H", ethertype) + payload
    return frame + b"\0" * max(0, 60 - len(frame))


# ---- parsing Oasis's frames ---------------------------------------------


class Seg:
    """A TCP segment from Oasis."""

    def __init__(self, iph, tcp):
        self.ip_src = socket.inet_ntoa(iph[12:16])
        self.df = bool(iph[6] & 0x40)
        self.ip_len = struct.unpack("!H", iph[2:4])[0]
        self.ip_dst = socket.inet_ntoa(iph[16:20])
        (self.sport, self.dport, self.seq, self.ack, off, self.flags, self.win, _, _) = \
            struct.unpack("!HHIIBBHHH", tcp[:20])
        hl = self.hlen = (off >> 4) * 4
        self.opts = self.parse_opts(tcp[20:hl])
        self.data = tcp[hl:]

    @staticmethod
    def parse_opts(b):
        o, i = {}, 0
        while i < len(b):
            k = b[i]
            if k == 0:
                break
            if k == 1:
                i += 1
                continue
            if i + 1 >= len(b) or b[i + 1] < 2:
                break
            n = b[i + 1]
            v = b[i + 2:i + n]
            if k == 2 and n == 4:
                o["mss"] = struct.unpack("!H", v)[0]
            elif k == 3 and n == 3:
                o["ws"] = v[0]
            elif k == 4:
                o["sackok"] = True
            elif k == 8 and n == 10:
                o["ts"] = struct.unpack("!II", v)
            i += n
        return o

    def has(self, flags):
        return self.flags & flags == flags

    def __repr__(self):
        names = "".join(c for c, b in zip("FSRPAU", (FIN, SYN, RST, PSH, ACK, URG)) if self.flags & b)
        return f"<{names} seq={self.seq} ack={self.ack} win={self.win} len={len(self.data)}>"


class Probe:
    def __init__(self, tap=TAP, oasis_ip=OASIS_IP, probe_ip=PROBE_IP):
        self.tap, self.oasis_ip, self.probe_ip = tap, oasis_ip, probe_ip
        self.s = packet_socket(tap)
        self.oasis_mac = None
        self.pending = []  # TCP segments from Oasis not read yet
        self.frames_from_oasis = 0
        self.icmp = []  # ICMP datagrams from Oasis, whole
        self.malformed = []  # (what, header) of Oasis's datagrams that broke a rule
        self.judged = 0
        self.port = 40000 + random.randrange(10000)

    def next_port(self):
        self.port += 1
        return self.port

    def send_frame(self, frame):
        self.s.send(bytes(VNET_HLEN) + frame)  # no offload asked

    def send_ip(self, ippkt, dst_mac=None):
        self.send_frame(eth(dst_mac or self.oasis_mac, ETH_IP, ippkt))

    def send_tcp(self, sport, dport, seq, ack, flags, src=None, dst=None, ip_kw=None,
                 dst_mac=None, **kw):
        src, dst = src or self.probe_ip, dst or self.oasis_ip
        seg = tcp_bytes(src, dst, sport, dport, seq, ack, flags, **kw)
        self.send_ip(ip_bytes(seg, src, dst, **(ip_kw or {})), dst_mac)

    def arp(self, op, target_mac, target_ip):
        body = struct.pack("!HHBBH6s4s6s4s", 1, ETH_IP, 6, 4, op, PROBE_MAC, ip4(self.probe_ip),
                           target_mac, ip4(target_ip))
        dst = BCAST_MAC if op == 1 else target_mac
        self.send_frame(eth(dst, ETH_ARP, body))

    def poll(self, timeout):
        """Reads frames for up to timeout s; TCP from Oasis goes to pending."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([self.s], [], [], left)
            if not r:
                return
            frame, addr = self.s.recvfrom(65536 + VNET_HLEN)
            # With TSO on the TAP, Oasis may hand over one super-frame that
            # the kernel cuts into gso_size pieces.
            # virtio_net_hdr: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset
            gso_size = struct.unpack("<H", frame[4:6])[0] if frame[1] else 0
            partial = frame[0] & 1  # VIRTIO_NET_HDR_F_NEEDS_CSUM: the L4 sum is left partial
            frame = frame[VNET_HLEN:]
            if addr[2] == PACKET_OUTGOING or len(frame) < 14:
                continue
            et = struct.unpack("!H", frame[12:14])[0]
            if et == ETH_ARP and len(frame) >= 42:
                op = struct.unpack("!H", frame[20:22])[0]
                sha, spa, tpa = frame[22:28], socket.inet_ntoa(frame[28:32]), socket.inet_ntoa(frame[38:42])
                if spa == self.oasis_ip:
                    self.oasis_mac = sha
                    self.frames_from_oasis += 1
                    if op == 1 and tpa == self.probe_ip:
                        self.arp(2, sha, self.oasis_ip)
                continue
            if et != ETH_IP:
                continue
            iph = frame[14:]
            if socket.inet_ntoa(iph[12:16]) != self.oasis_ip:
                continue
            self.frames_from_oasis += 1
            hl = (iph[0] & 15) * 4
            total = struct.unpack("!H", iph[2:4])[0]
            self.judge(iph, hl, total, partial)
            if iph[9] == 1 and total <= len(iph):
                self.icmp.append(iph[:total])
            if iph[9] == 6:
                sg = Seg(iph, iph[hl:total])
                if sg.sport == METRICS_PORT and sg.ip_dst != self.probe_ip:
                    # A counter read (metrics()) by the kernel's TCP: its
                    # ephemeral ports share the probe's range, and a
                    # SYN-ACK of its own must not pass for a Conn's.
                    continue
                # The size of each datagram that reaches the wire.
                sg.wire_len = min(total, hl + (sg.hlen + gso_size if gso_size else total))
                self.pending.append(sg)

    def judge(self, iph, hl, total, partial):
        """What every datagram Oasis sends must be (RFC 791, RFC 1122
        3.2.1.7, RFC 9293 3.1): a sound header, a TTL above 0, our
        address, a correct TCP checksum unless the TAP is to finish it."""
        bad = []
        if iph[0] >> 4 != 4 or hl < 20 or total < hl or total > len(iph):
            bad.append("header fields")
        elif csum(iph[:hl]) != 0:
            bad.append("header checksum")
        if iph[8] == 0:
            bad.append("TTL 0")
        if iph[9] == 6 and not partial and total <= len(iph) and hl >= 20:
            seg = iph[hl:total]
            pseudo = iph[12:20] + struct.pack("!BBH", 0, 6, len(seg))
            if csum(pseudo + seg) != 0:
                bad.append("TCP checksum")
        if bad and len(self.malformed) < 5:
            self.malformed.append((", ".join(bad), iph[:40].hex()))
        self.judged += 1

    def take(self, port, timeout, pred=lambda s: True):
        """The first segment to our port that pred accepts, within timeout."""
        end = time.monotonic() + timeout
        while True:
            for i, sg in enumerate(self.pending):
                if sg.dport == port and pred(sg):
                    return self.pending.pop(i)
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.poll(min(left, 0.05))

    def drain(self, port, timeout):
        """Every segment to port within timeout."""
        self.poll(timeout)
        got = [sg for sg in self.pending if sg.dport == port]
        self.pending = [sg for sg in self.pending if sg.dport != port]
        return got

    def resolve(self):
        for _ in range(30):
            self.arp(1, b"\0" * 6, self.oasis_ip)
            self.poll(0.1)
            if self.oasis_mac:
                return
        raise Fail("Oasis does not answer ARP")


P = None


class Conn:
    """One TCP connection from the probe to Oasis, driven by hand."""

    def __init__(self, dport=ECHO):
        self.dport = dport
        self.sport = P.next_port()
        self.iss = random.getrandbits(32)
        self.snd_nxt = self.iss
        self.rcv_nxt = None
        self.rx = bytearray()
        self.fin = False
        self.snd_max_seen = None  # Oasis's highest seq + len

    def send(self, flags=ACK, seq=None, ack=None, data=b"", win=65535, opts=b"", **kw):
        seq = self.snd_nxt if seq is None else seq
        ack = (self.rcv_nxt or 0) if ack is None else ack
        P.send_tcp(self.sport, self.dport, seq, ack, flags, win=win, opts=opts, data=data, **kw)

    def open(self, opts=MSS1460, win=65535):
        self.send(SYN, ack=0, opts=opts, win=win)
        sa = P.take(self.sport, 2.0, lambda s: s.flags & (SYN | RST))
        check(sa is not None and sa.has(SYN | ACK), f"no SYN-ACK to a SYN (got {sa})")
        check(sa.ack == (self.iss + 1) & 0xFFFFFFFF, f"SYN-ACK acks {sa.ack}, want ISS+1")
        self.irs = sa.seq
        self.rcv_nxt = (sa.seq + 1) & 0xFFFFFFFF
        self.snd_nxt = (self.iss + 1) & 0xFFFFFFFF
        self.oasis_nxt = self.rcv_nxt
        self.send(ACK, win=win)
        return sa

    def absorb(self, sg):
        """Takes Oasis's data in order (what its application sent)."""
        end = (sg.seq + len(sg.data)) & 0xFFFFFFFF
        self.oasis_nxt = max_seq(getattr(self, "oasis_nxt", end), end)
        if sg.data:
            off = (self.rcv_nxt - sg.seq) & 0xFFFFFFFF
            if off < len(sg.data):
                self.rx += sg.data[off:]
                self.rcv_nxt = end
        if sg.flags & FIN and end == self.rcv_nxt:
            self.rcv_nxt = (self.rcv_nxt + 1) & 0xFFFFFFFF
            self.fin = True

    def write(self, data, **kw):
        self.send(ACK | PSH, data=data, **kw)
        self.snd_nxt = (self.snd_nxt + len(data)) & 0xFFFFFFFF

    def read(self, n, timeout=3.0, win=65535):
        """Oasis's next n bytes (the echo), acknowledged as they come."""
        end = time.monotonic() + timeout
        start = len(self.rx)
        while len(self.rx) - start < n and time.monotonic() < end:
            sg = P.take(self.sport, end - time.monotonic())
            if sg is None:
                break
            check(not sg.flags & RST, f"connection reset while reading ({sg})")
            had = self.rcv_nxt
            self.absorb(sg)
            if sg.data and self.rcv_nxt != had:
                self.send(ACK, win=win)
        return bytes(self.rx[start:])

    def echo(self, data, what):
        self.write(data)
        got = self.read(len(data))
        check(got == data, f"{what}: echo returned {got!r}, want {data!r}")

    def acks(self, timeout=1.0, pred=lambda s: True):
        """The first segment from Oasis within timeout (None: silence)."""
        return P.take(self.sport, timeout, pred)

    def quiet(self, timeout=0.6):
        return P.drain(self.sport, timeout)

    def close(self):
        """Resets the connection (keeps the server's table small)."""
        self.send(RST | ACK)


def max_seq(a, b):
    return b if ((b - a) & 0xFFFFFFFF) < 0x80000000 else a


def metrics():
    url = f"http://{OASIS_IP}:{METRICS_PORT}/metrics"
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    m = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, val = line.rpartition(" ")
        name = re.sub(r"\{.*\}", "", name)
        try:
            m[name] = m.get(name, 0) + float(val)
        except ValueError:
            pass
    return m


def counter(m, layer, field):
    for k in (f"oasis_{layer}_{field}_total", f"oasis_{layer}_{field}"):
        if k in m:
            return m[k]
    raise Fail(f"no counter {layer} {field} in /metrics")


class Delta:
    """Counter changes over a block: with Delta() as d: ...; d.get(...)."""

    def __enter__(self):
        self.before = metrics()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            P.poll(0.05)
            self.after = metrics()
        return False

    def get(self, layer, field):
        return counter(self.after, layer, field) - counter(self.before, layer, field)


# ---- the checks -----------------------------------------------------------

CHECKS = []


def probe(fn):
    CHECKS.append(fn)
    return fn


@probe
def handshake_and_echo():
    c = Conn()
    sa = c.open()
    check("mss" in sa.opts, f"SYN-ACK without MSS option ({sa.opts})")
    c.echo(b"hello, oasis\n", "plain echo")
    ok("RFC 9293 3.5", "three-way handshake from the probe's own host, SYN-ACK acks ISS+1, echo works")
    c.close()


@probe
def rst_in_window_not_exact():
    c = Conn()
    c.open()
    c.echo(b"before", "before the RST")
    with Delta() as d:
        c.send(RST | ACK, seq=c.snd_nxt + 1000)
        a = c.acks(1.0)
    check(a is not None, "no challenge ACK to an in-window RST with SEG.SEQ != RCV.NXT")
    check(a.flags & (ACK | RST | SYN | FIN) == ACK and a.ack == c.snd_nxt and a.seq == c.rcv_nxt,
          f"challenge ACK must be <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, got {a}")
    check(d.get("tcp", "TCPChallengeACK") >= 1, "TCPChallengeACK not counted")
    c.echo(b"after", "after the in-window RST")
    ok("RFC 5961 3.2", "in-window RST not at RCV.NXT: challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>, "
       "counted, connection lives on")
    c.close()


@probe
def rst_out_of_window():
    c = Conn()
    c.open()
    c.send(RST | ACK, seq=c.snd_nxt + 0x40000000)
    c.send(RST, seq=c.snd_nxt - 5000)
    got = c.quiet(0.2)
    check(not got, f"an out-of-window RST drew {got}")
    c.echo(b"still here", "after out-of-window RSTs")
    ok("RFC 5961 3.2 / RFC 9293 3.10.7.4", "RST outside the window silently dropped, connection lives on")
    c.close()


@probe
def rst_exact():
    c = Conn()
    c.open()
    c.echo(b"x", "before the RST")
    with Delta() as d:
        c.send(RST, seq=c.snd_nxt, ack=0)
        P.poll(0.1)
    check(d.get("tcp", "EstabResets") >= 1, "an RST at RCV.NXT did not reset the connection (EstabResets)")
    c.write(b"anyone?")
    r = c.acks(1.0)
    check(r is not None and r.flags & RST, f"data on the reset connection drew {r}, want RST")
    ok("RFC 5961 3.2 / RFC 9293 3.10.7.1", "RST exactly at RCV.NXT resets; later data draws an RST")


@probe
def syn_on_established():
    for where, off in (("in the window", 100), ("outside the window", 0x40000000)):
        c = Conn()
        c.open()
        with Delta() as d:
            c.send(SYN, seq=c.snd_nxt + off, ack=0, opts=MSS1460)
            a = c.acks(1.0)
        check(a is not None and a.flags & (ACK | SYN | RST) == ACK and a.ack == c.snd_nxt,
              f"SYN {where} on an established connection drew {a}, want a challenge ACK")
        check(d.get("tcp", "TCPChallengeACK") >= 1, "challenge ACK not counted")
        c.echo(b"alive", f"after a SYN {where}")
        ok("RFC 5961 4.2 / RFC 9293 3.10.7.4", f"SYN {where} on ESTABLISHED: challenge ACK, connection lives on")
        c.close()


@probe
def ack_of_unsent_data():
    c = Conn()
    c.open()
    c.echo(b"abc", "before")
    c.write(b"EVIL", ack=c.oasis_nxt + 100000)
    a = c.acks(1.0)
    check(a is not None and a.flags & (ACK | RST) == ACK and a.ack == (c.snd_nxt - 4) & 0xFFFFFFFF,
          f"ACK of unsent data: got {a}, want an ACK of RCV.NXT")
    c.snd_nxt = (c.snd_nxt - 4) & 0xFFFFFFFF
    c.echo(b"good", "the same sequence space again with an acceptable ACK")
    ok("RFC 9293 3.10.7.4 (fifth) / RFC 5961 5.2",
       "SEG.ACK > SND.NXT: answered by an ACK, its data dropped (the same bytes resent correctly are read)")
    c.close()


@probe
def ack_too_old():
    c = Conn()
    c.open()
    c.echo(b"abc", "before")
    c.write(b"EVIL", ack=c.oasis_nxt - 200000)
    a = c.acks(1.0)
    check(a is not None and a.flags & (ACK | RST) == ACK and a.ack == (c.snd_nxt - 4) & 0xFFFFFFFF,
          f"ACK below SND.UNA - MAX.SND.WND: got {a}, want an ACK of RCV.NXT")
    c.snd_nxt = (c.snd_nxt - 4) & 0xFFFFFFFF
    c.echo(b"good", "after the old ACK")
    ok("RFC 5961 5.2", "SEG.ACK < SND.UNA - MAX.SND.WND: dropped with its data, answered by an ACK")
    c.close()


@probe
def data_outside_window():
    c = Conn()
    c.open()
    c.echo(b"0123", "before")
    with Delta() as d:
        c.send(ACK | PSH, seq=c.snd_nxt + 0x20000000, data=b"FAR AHEAD")
        a = c.acks(1.0)
    check(a is not None and a.flags & (ACK | RST) == ACK and a.ack == c.snd_nxt,
          f"data beyond the window drew {a}, want <ACK=RCV.NXT>")
    check(d.get("tcp", "OutOfWindowDrops") >= 1, "OutOfWindowDrops not counted")
    time.sleep(0.55)  # past the per-flow limit of such ACKs
    c.send(ACK | PSH, seq=c.snd_nxt - 2, data=b"23")  # old: a duplicate
    a = c.acks(1.0)
    check(a is not None and a.ack == c.snd_nxt, f"an old duplicate drew {a}, want <ACK=RCV.NXT>")
    c.echo(b"4567", "after the unacceptable segments")
    ok("RFC 9293 3.10.7.4 (first)", "segments outside the window answered by <ACK=RCV.NXT>, "
       "dropped, never read, counted")
    c.close()


@probe
def overlap_delivered_data():
    c = Conn()
    c.open()
    c.echo(b"abcdefgh", "first copy")
    c.send(ACK | PSH, seq=c.snd_nxt - 4, data=b"XXXXijkl")
    c.snd_nxt = (c.snd_nxt + 4) & 0xFFFFFFFF
    got = c.read(4)
    check(got == b"ijkl", f"overlap with delivered bytes: application read {got!r}, want b'ijkl'")
    ok("RFC 9293 3.10.7.4 (first: trimmed to RCV.NXT)",
       "data overlapping already-read bytes with other bytes: only the new part is read")
    c.close()


@probe
def overlap_queued_data():
    c = Conn()
    c.open()
    base = c.snd_nxt
    c.send(ACK | PSH, seq=base + 8, data=b"IJKL")  # held out of order
    a = c.acks(1.0)
    check(a is not None and a.ack == base, f"out-of-order data drew {a}, want a duplicate ACK")
    c.send(ACK | PSH, seq=base, data=b"ABCDEFGHzzzz")
    c.snd_nxt = (base + 12) & 0xFFFFFFFF
    got = c.read(12)
    check(got == b"ABCDEFGHIJKL", f"overlap with held bytes: application read {got!r}")
    ok("README 'Hostile input' (RFC 9293 leaves it open)",
       "bytes overlapping held out-of-order data: the first copy wins, read once, in order")
    c.close()


@probe
def fin_or_no_flags_without_ack():
    c = Conn()
    c.open()
    c.send(0, data=b"NOFLAGS")
    c.send(FIN, data=b"FINONLY")
    got = c.quiet(0.2)
    check(all(not (s.flags & RST) and s.ack == c.snd_nxt for s in got),
          f"segments without ACK were taken: {got}")
    c.echo(b"ok", "after segments without ACK")  # their bytes were not read first
    c.send(FIN | ACK)
    a = c.acks(1.0, lambda s: s.ack == (c.snd_nxt + 1) & 0xFFFFFFFF)
    check(a is not None, "the real FIN afterwards was not acknowledged")
    ok("RFC 9293 3.10.7.4 (fifth: ACK bit off, drop)",
       "no-flag and FIN-without-ACK segments dropped, their data never read, a later FIN taken")


@probe
def listener_odd_flags():
    sport = P.next_port()
    seq = random.getrandbits(32)
    with Delta() as d:
        P.send_tcp(sport, ECHO, seq, 0, SYN | FIN, opts=MSS1460)
        P.send_tcp(sport + 0, ECHO, seq, 0, FIN)
        P.send_tcp(sport, ECHO, seq, 0, 0)
        P.send_tcp(sport, ECHO, seq, 0, RST)
        got = P.drain(sport, 0.2)
    check(not got, f"SYN+FIN / FIN / no-flag / RST to a listener drew {got}")
    check(d.get("tcp", "TCPSynFinDrop") >= 1, "SYN+FIN not counted (TCPSynFinDrop)")
    P.send_tcp(sport, ECHO, seq, 12345, ACK)
    r = P.take(sport, 1.0)
    check(r is not None and r.flags & RST and r.seq == 12345, f"an ACK to a listener drew {r}, want <SEQ=SEG.ACK><CTL=RST>")
    ok("RFC 9293 3.10.7.2", "LISTEN: RST ignored, ACK answered by <SEQ=SEG.ACK><CTL=RST>, "
       "FIN / no-flag dropped; SYN+FIN dropped and counted (as Linux)")


@probe
def closed_port():
    sport = P.next_port()
    seq = random.getrandbits(32)
    P.send_tcp(sport, CLOSED_PORT, seq, 0, SYN, opts=MSS1460)
    r = P.take(sport, 1.0)
    check(r is not None and r.has(RST | ACK) and r.seq == 0 and r.ack == (seq + 1) & 0xFFFFFFFF,
          f"SYN to a closed port drew {r}, want <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>")
    P.send_tcp(sport, CLOSED_PORT, seq, 777, ACK, data=b"hi")
    r = P.take(sport, 1.0)
    check(r is not None and r.flags & RST and r.seq == 777, f"ACK to a closed port drew {r}, want <SEQ=SEG.ACK><CTL=RST>")
    P.send_tcp(sport, CLOSED_PORT, seq, 777, RST)
    check(not P.drain(sport, 0.2), "an RST to a closed port was answered")
    ok("RFC 9293 3.10.7.1", "CLOSED: RST,ACK with SEQ=0 for a segment without ACK, RST with SEQ=SEG.ACK "
       "otherwise, RST not answered")


def syn_with_options(opts, what):
    """A SYN carrying opts: returns the reply (or None), then checks the server still serves."""
    sport = P.next_port()
    seq = random.getrandbits(32)
    P.send_tcp(sport, ECHO, seq, 0, SYN, opts=opts)
    r = P.take(sport, 0.2)
    if r is not None and r.has(SYN | ACK):
        P.send_tcp(sport, ECHO, seq + 1, r.seq + 1, RST | ACK)
    c = Conn()
    c.open()
    c.echo(b"next", f"a normal connection after {what}")
    c.close()
    return r


@probe
def tcp_option_lengths():
    cases = [
        (b"\x63\x06abcd" + MSS1460, "an unknown option (kind 99, length 6)", True),
        (MSS1460 + b"\x63\x00\x00\x00", "an option of length 0", None),
        (MSS1460 + b"\x63\x01\x00\x00", "an option of length 1", None),
        (b"\x01\x01\x02\x04", "an MSS option of length 4 with 2 bytes left (runs past the header)", None),
        (b"\x01\x01\x01\x08\x0a\0\0\0", "a timestamp option running past the header", None),
        (b"\x03\x02" + MSS1460 + b"\x04\x01", "window scale of length 2, SACK-permitted of length 1", None),
    ]
    for opts, what, must_answer in cases:
        r = syn_with_options(opts, what)
        if must_answer:
            check(r is not None and r.has(SYN | ACK), f"SYN with {what}: {r}, want a SYN-ACK")
        else:
            check(r is None or r.has(SYN | ACK) or r.flags & RST, f"SYN with {what}: {r}")
        ok("RFC 9293 3.1 (MUST-6, MUST-7)", f"SYN with {what}: "
           + ("SYN-ACK" if r is not None and r.has(SYN | ACK) else "RST" if r is not None else "dropped")
           + ", the server goes on serving")
    # In an established flow: data carrying a zero-length option.
    c = Conn()
    c.open()
    c.write(b"XXXX", opts=b"\x63\x00\x00\x00")
    got = c.read(4, timeout=0.5)
    if got:
        check(got == b"XXXX", f"data with a bad option read as {got!r}")
    else:
        c.snd_nxt = (c.snd_nxt - 4) & 0xFFFFFFFF
    c.echo(b"fine", "after a data segment with an option of length 0")
    ok("RFC 9293 3.1 (MUST-7)", "data segment with an option of length 0: "
       + ("taken" if got else "dropped") + ", the connection lives on")
    c.close()


@probe
def mss_zero():
    c = Conn()
    sa = c.open(opts=b"\x02\x04\x00\x00")
    data = bytes(random.getrandbits(8) for _ in range(3000))
    c.write(data[:1400])
    c.write(data[1400:2800])
    c.write(data[2800:])
    got = c.read(len(data), timeout=5.0)
    check(got == data, f"echo after MSS 0: {len(got)} of {len(data)} bytes")
    ok("RFC 9293 3.7.1 / RFC 6691", f"SYN with MSS 0: connection works, {len(data)} bytes echoed "
       "intact in segments of at least one byte")
    c.close()


def pattern(n):
    """The first n bytes of /bytes/N (README: byte i is (i mod 251 + i div 65536) mod 256)."""
    return bytes((i % 251 + i // 65536) & 255 for i in range(n))


def download(c, n, win=65535, on_burst=None, secs=15):
    """GET /bytes/n on c (open, HTTP): reads the whole body, acknowledging
    each burst (a pause of 0.1 s). on_burst(c, burst) may act instead and
    return True (then no plain ACK is sent). Returns (body, most), most
    the largest amount Oasis had beyond our last ACK."""
    c.write(f"GET /bytes/{n} HTTP/1.1\r\nHost: probe\r\n\r\n".encode(), win=win)
    most = 0
    acked = c.rcv_nxt
    deadline = time.monotonic() + secs
    body = b""
    while time.monotonic() < deadline:
        burst = P.drain(c.sport, 0.1)
        check(not any(sg.flags & RST for sg in burst), f"download reset: {burst}")
        for sg in burst:
            most = max(most, (sg.seq + len(sg.data) - acked) & 0xFFFFFFFF)
        if on_burst and burst and on_burst(c, burst):
            acked = c.rcv_nxt
        elif burst:
            for sg in burst:
                c.absorb(sg)
            acked = c.rcv_nxt
            c.send(ACK, win=win)
        head, sep, body = bytes(c.rx).partition(b"\r\n\r\n")
        if sep and len(body) >= n:
            break
    check(len(body) >= n, f"download: {len(body)} of {n} bytes in {secs} s")
    check(body[:n] == pattern(n), "download: the body differs from the pattern")
    return body, most


def window_limited_download(shift, field):
    """GET /bytes/N with window field `field` and window scale `shift` in the SYN; returns
    the largest amount Oasis ever had in flight beyond our ACK."""
    c = Conn(HTTP)
    c.open(opts=MSS1460 + b"\x01\x03\x03" + bytes([shift]), win=65535)
    _, most = download(c, 60000, win=field)
    c.close()
    return most


@probe
def window_scale_above_14():
    for shift in (15, 255):
        most = window_limited_download(shift, 1)
        check(most <= 1 << 14, f"window scale {shift}: Oasis had {most} bytes in flight, "
              f"more than 1 << 14 (the window with the shift cut to 14)")
        check(most >= (1 << 14) - 1460, f"window scale {shift}: never more than {most} in flight")
        ok("RFC 7323 2.3", f"window scale {shift} taken as 14: window field 1 lets "
           f"{most} bytes fly (1 << 14 = 16384)")


@probe
def zero_window_probing_by_oasis():
    c = Conn()
    c.open()
    c.write(b"window shut", win=0)
    probes = []
    end = time.monotonic() + 4
    while time.monotonic() < end and len(probes) < 2:
        sg = c.acks(end - time.monotonic())
        if sg is None:
            break
        if sg.data or sg.seq == (c.rcv_nxt - 1) & 0xFFFFFFFF:
            probes.append(sg)
            c.send(ACK, win=0, ack=c.rcv_nxt)  # still shut
    check(probes, "no zero-window probe from Oasis within 4 s")
    check(all(len(p.data) <= 1 for p in probes), f"a probe carried more than one byte: {probes}")
    c.send(ACK, win=65535)
    got = c.read(len(b"window shut"), timeout=3.0)
    check(got == b"window shut", f"after the window opened: {got!r}")
    ok("RFC 9293 3.8.6.1 (MUST-36) / RFC 1122 4.2.2.17",
       f"zero window: Oasis probes ({len(probes)} probe(s) in 4 s), data flows when it opens")
    c.close()


@probe
def zero_window_probe_answered():
    """Fills Oasis's receive window (the echo cannot send: our window is 0),
    then sends window probes; each must be answered with RCV.NXT and window 0."""
    c = Conn()
    sa = c.open(opts=MSS1460 + b"\x01\x03\x03\x07", win=0)
    wnd = sa.win  # SYN-ACK window: never scaled
    shift = sa.opts.get("ws", 0)
    una = c.snd_nxt
    chunk = bytes(1400)
    deadline = time.monotonic() + 15
    zero = False
    while time.monotonic() < deadline and not zero:
        right = (una + wnd) & 0xFFFFFFFF
        sent = 0
        while ((right - c.snd_nxt) & 0xFFFFFFFF) >= len(chunk) and sent < 64:
            c.write(chunk, win=0)
            sent += 1
        for sg in P.drain(c.sport, 0.05 if sent else 0.2):
            if sg.flags & ACK and ((sg.ack - una) & 0xFFFFFFFF) < 0x80000000:
                una = sg.ack
                wnd = sg.win << shift
                if wnd == 0 and una == c.snd_nxt:
                    zero = True
        if not sent and wnd < len(chunk) and una == c.snd_nxt:
            zero = zero or wnd == 0
            if not zero:
                c.write(chunk[:max(wnd, 1)], win=0)  # fill the last bit
    check(zero, "could not fill Oasis's receive window")
    filled = (c.snd_nxt - c.iss - 1) & 0xFFFFFFFF
    answered = 0
    for kind, seq, data in (("Linux's (SEG.SEQ = RCV.NXT - 1, no data)", c.snd_nxt - 1, b""),
                            ("one byte at RCV.NXT", c.snd_nxt, b"Z")):
        time.sleep(0.55)  # the per-flow limit of ACKs to unacceptable segments
        c.send(ACK, seq=seq, data=data, win=0)
        a = c.acks(1.0, lambda s: s.flags & ACK)
        check(a is not None and a.ack == c.snd_nxt and a.win == 0,
              f"zero-window probe {kind} drew {a}, want <ACK=RCV.NXT> with window 0")
        answered += 1
    c.close()
    ok("RFC 9293 3.8.6.1 / 3.10.7.4", f"receive window filled ({filled} bytes); "
       f"{answered} zero-window probes answered with <ACK=RCV.NXT>, window 0, the probe byte not taken")


@probe
def tcp_header_lies():
    sport = P.next_port()
    seq = random.getrandbits(32)
    with Delta() as d:
        P.send_tcp(sport, ECHO, seq, 0, SYN, opts=MSS1460, bad_csum=True)
        P.send_tcp(sport, ECHO, seq, 0, SYN, opts=MSS1460, doff=4)
        P.send_tcp(sport, ECHO, seq, 0, SYN, opts=MSS1460, doff=15)
        got = P.drain(sport, 0.2)
    check(not got, f"SYNs with a bad checksum / data offset drew {got}")
    check(d.get("tcp", "InCsumErrors") >= 1, "bad TCP checksum not counted")
    # InErrs includes checksum errors, as RFC 4022 and Linux count them.
    check(d.get("tcp", "InErrs") >= 3, f"InErrs grew by {d.get('tcp', 'InErrs')}, want >= 3")
    ok("RFC 9293 3.1 (MUST-3: checksum) / 3.10.7", "SYN with a bad checksum, data offset 4 or "
       "beyond the segment: dropped silently, counted (InCsumErrors, InErrs)")


def syn_frame(sport, seq, **ip_kw):
    return ip_bytes(tcp_bytes(PROBE_IP, OASIS_IP, sport, ECHO, seq, 0, SYN, opts=MSS1460),
                    PROBE_IP, OASIS_IP, **ip_kw)


def expect_no_synack(frames, what, counters):
    sport = P.next_port()
    seq = random.getrandbits(32)
    with Delta() as d:
        for f in frames(sport, seq):
            P.send_ip(f) if isinstance(f, bytes) else P.send_frame(f[1])
        got = P.drain(sport, 0.2)
    check(not got, f"{what}: drew {got}")
    for layer, field in counters:
        check(d.get(layer, field) >= 1, f"{what}: {layer} {field} not counted")
    return d


def expect_synack(frames, what):
    sport = P.next_port()
    seq = random.getrandbits(32)
    for f in frames(sport, seq):
        P.send_ip(f)
    r = P.take(sport, 1.0)
    check(r is not None and r.has(SYN | ACK), f"{what}: drew {r}, want a SYN-ACK")
    P.send_tcp(sport, ECHO, seq + 1, r.seq + 1, RST | ACK)


@probe
def ipv4_header_lies():
    expect_no_synack(lambda p, q: [syn_frame(p, q, bad_csum=True)], "IPv4 header checksum wrong",
                     [("ipv4", "InCsumErrors")])
    ok("RFC 1122 3.2.1.2", "bad IPv4 header checksum: silently discarded, counted")
    expect_no_synack(lambda p, q: [syn_frame(p, q, tot_len=44 + 200)], "total length beyond the frame",
                     [("ipv4", "InTruncatedPkts")])
    ok("RFC 791 3.1 (Total Length) / RFC 1812 5.2.2", "total length beyond the frame: dropped, counted")
    expect_no_synack(lambda p, q: [syn_frame(p, q, tot_len=19)], "total length below the header",
                     [("ipv4", "InHdrErrors")])
    ok("RFC 791 3.1 / RFC 1812 5.2.2", "total length 19 (below the header): dropped, counted")
    expect_no_synack(lambda p, q: [syn_frame(p, q, ihl=4)], "IHL 4", [("ipv4", "InHdrErrors")])
    ok("RFC 791 3.1 (IHL >= 5) / RFC 1812 5.2.2", "IHL 4: dropped, counted")
    expect_no_synack(lambda p, q: [syn_frame(p, q, version=5)], "IP version 5", [("ipv4", "InHdrErrors")])
    ok("RFC 1122 3.2.1.1", "version 5 in an IPv4 frame: silently discarded, counted")
    expect_synack(lambda p, q: [syn_frame(p, q) + bytes(range(40))], "40 bytes after the datagram")
    ok("RFC 894 / RFC 791 (Total Length)", "bytes after Total Length (link padding) ignored: SYN-ACK")
    expect_synack(lambda p, q: [syn_frame(p, q, ttl=0)], "TTL 0")
    expect_synack(lambda p, q: [syn_frame(p, q, ttl=1)], "TTL 1")
    ok("RFC 1122 3.2.1.7", "TTL 0 and 1 to this host: received (a host MUST NOT discard them for that)")


@probe
def ipv4_options():
    # NOP, an unknown option (type 0x1e, copied 0, length 4), record route, EOL.
    rr = b"\x07\x07\x04" + bytes(4)
    expect_synack(lambda p, q: [syn_frame(p, q, opts=b"\x01\x1e\x04\xab\xcd" + rr + b"\x00")],
                  "IP options NOP, unknown, record route, EOL")
    ok("RFC 1122 3.2.1.8", "unknown and record-route IP options ignored: SYN-ACK")
    expect_no_synack(lambda p, q: [syn_frame(p, q, opts=b"\x01\x1e\x00\x00")], "IP option of length 0",
                     [("ipv4", "InHdrErrors")])
    expect_no_synack(lambda p, q: [syn_frame(p, q, opts=b"\x1e\x09\x00\x00")], "IP option past the header",
                     [("ipv4", "InHdrErrors")])
    ok("RFC 1122 3.2.1.8 / RFC 791 3.1", "malformed IP options (length 0, past the header): dropped, counted")
    lsrr = b"\x83\x07\x04" + ip4(OASIS_IP) + b"\x00"
    expect_no_synack(lambda p, q: [syn_frame(p, q, opts=lsrr)], "loose source route",
                     [("ipv4", "InSrcRouted")])
    ok("RFC 7126 4.3 / RFC 1122 3.2.1.8(c)", "source-routed SYN dropped and counted (as Linux's "
       "accept_source_route=0)")


@probe
def ipv4_addresses():
    bcast = OASIS_IP.rsplit(".", 1)[0] + ".255"

    def to(dst, mac):
        return lambda p, q: [(None, eth(mac, ETH_IP, ip_bytes(
            tcp_bytes(PROBE_IP, dst, p, ECHO, q, 0, SYN, opts=MSS1460), PROBE_IP, dst)))]
    expect_no_synack(to(bcast, BCAST_MAC), "SYN to the subnet broadcast", [])
    expect_no_synack(to("255.255.255.255", BCAST_MAC), "SYN to 255.255.255.255", [])
    expect_no_synack(to("224.0.0.1", bytes.fromhex("01005e000001")), "SYN to 224.0.0.1", [])
    ok("RFC 1122 4.2.3.10 (MUST-57)", "SYN to a broadcast or multicast address silently discarded")
    other = OASIS_IP.rsplit(".", 1)[0] + ".3"
    expect_no_synack(to(other, P.oasis_mac), "SYN to another host's address", [("ipv4", "InAddrErrors")])
    ok("RFC 1122 3.2.1.3", "datagram to an address not ours, at our MAC: discarded, counted")
    for src in ("127.0.0.1", "0.0.0.0", "224.0.0.5", bcast, OASIS_IP):
        def frames(p, q, src=src):
            port = ECHO if src == OASIS_IP else p
            return [ip_bytes(tcp_bytes(src, OASIS_IP, port, ECHO, q, 0, SYN, opts=MSS1460), src, OASIS_IP)]
        d = expect_no_synack(frames, f"SYN from {src}", [("ipv4", "InMartians")])
    ok("RFC 1122 3.2.1.3 / 4.2.3.10", "SYNs from 127.0.0.1, 0.0.0.0, multicast, the subnet broadcast "
       "and Oasis's own address (LAND): discarded, counted, nothing sent")


@probe
def ipv4_fragments():
    def split_syn(p, q):
        whole = tcp_bytes(PROBE_IP, OASIS_IP, p, ECHO, q, 0, SYN, opts=MSS1460 + b"\x01" * 12)
        ident = random.getrandbits(16)
        return [ip_bytes(whole[16:], PROBE_IP, OASIS_IP, ident=ident, df=False, frag_off=16),
                ip_bytes(whole[:16], PROBE_IP, OASIS_IP, ident=ident, df=False, mf=True)]
    expect_synack(split_syn, "a SYN in two fragments, the last first")
    ok("RFC 791 3.2 / RFC 1122 3.3.2", "a SYN in two fragments (out of order) reassembled: SYN-ACK")

    # Overlapping fragments with different bytes, into an established flow.
    for sum_over in ("first", "second"):
        c = Conn()
        c.open()
        # Fragment 1: the TCP header and data 0..20; fragment 2: data 12..32,
        # whose first 8 bytes overlap fragment 1's last 8 with other bytes.
        first, second = b"A" * 20, b"B" * 8 + b"C" * 12
        want_first = first + second[8:]
        want_second = first[:12] + second
        body = want_first if sum_over == "first" else want_second
        seg = tcp_bytes(PROBE_IP, OASIS_IP, c.sport, ECHO, c.snd_nxt, c.rcv_nxt, ACK | PSH, data=body)
        ident = random.getrandbits(16)
        f1 = ip_bytes(seg[:20] + first, PROBE_IP, OASIS_IP, ident=ident, df=False, mf=True)
        f2 = ip_bytes(second, PROBE_IP, OASIS_IP, ident=ident, df=False, frag_off=20 + 12)
        with Delta() as d:
            P.send_ip(f1)
            P.send_ip(f2)
            got = c.read(32, timeout=0.8)
        check(b"B" * 8 not in got, f"the overlapping bytes of the second fragment were read: {got!r}")
        if sum_over == "first":
            check(got == want_first, f"overlapping fragments (first copy wins): read {got!r}")
        else:
            check(got == b"", f"datagram with the second copy's checksum: read {got!r}")
            check(d.get("tcp", "InCsumErrors") >= 1, "the reassembled segment's bad checksum not counted")
        c.snd_nxt = (c.snd_nxt + len(got)) & 0xFFFFFFFF
        c.echo(b"next", "after overlapping fragments")
        c.close()
    ok("RFC 1122 3.3.2 / RFC 1858 4", "overlapping fragments with different bytes: the first copy wins "
       "(checksummed over it: read once; over the rewrite: dropped, counted); a fragment never rewrites bytes held")


def sack_opt(blocks):
    return b"\x01\x01\x05" + bytes([2 + 8 * len(blocks)]) + b"".join(
        struct.pack("!II", l & 0xFFFFFFFF, r & 0xFFFFFFFF) for l, r in blocks)


@probe
def hostile_sack_blocks():
    c = Conn(HTTP)
    c.open(opts=MSS1460 + b"\x01\x01\x04\x02")

    def lies(c, burst):
        for sg in burst:
            c.absorb(sg)
        r, top = c.rcv_nxt, c.oasis_nxt
        c.send(ACK, opts=sack_opt([(top + 1000000, top + 1005000), (r + 500, r + 100),
                                   (r - 100000, r - 90000), (r + 10, r + 0x80000010)]))
        c.send(ACK, opts=sack_opt([(r, r), (top, top + 1), (r - 1, r + 1)]))
        return True
    download(c, 100000, on_burst=lies)
    c.close()
    ok("RFC 2018 / RFC 6675", "ACKs whose SACK blocks lie (beyond SND.MAX, reversed, old, 2 GiB "
       "wide, empty): ignored, the download completes intact")

    # A receiver that SACKs data and then reneges (drops it): RFC 2018 8
    # (the sender keeps SACKed data until it is cumulatively acknowledged).
    c = Conn(HTTP)
    c.open(opts=MSS1460 + b"\x01\x01\x04\x02")
    state = {"lied": False}

    def renege(c, burst):
        if state["lied"]:
            return False
        state["lied"] = True
        burst.sort(key=lambda sg: (sg.seq - c.rcv_nxt) & 0xFFFFFFFF)
        c.absorb(burst[0])  # keep the first segment only
        for sg in burst[1:]:
            c.oasis_nxt = max_seq(c.oasis_nxt, (sg.seq + len(sg.data)) & 0xFFFFFFFF)
        if c.oasis_nxt != c.rcv_nxt:
            c.send(ACK, opts=sack_opt([(c.rcv_nxt + 1, c.oasis_nxt)]))
        else:
            c.send(ACK)
        return True
    download(c, 60000, on_burst=renege)
    c.close()
    ok("RFC 2018 8 / RFC 6675 5.1", "SACKed data the receiver then drops (reneging) is resent: "
       "the download completes intact")


@probe
def syn_with_data():
    c = Conn()
    c.send(SYN, ack=0, opts=MSS1460, data=b"early")
    sa = P.take(c.sport, 2.0, lambda s: s.flags & (SYN | RST))
    check(sa is not None and sa.has(SYN | ACK), f"SYN with data drew {sa}")
    c.rcv_nxt = (sa.seq + 1) & 0xFFFFFFFF
    c.oasis_nxt = c.rcv_nxt
    took = sa.ack == (c.iss + 6) & 0xFFFFFFFF
    check(took or sa.ack == (c.iss + 1) & 0xFFFFFFFF, f"SYN-ACK acks {sa.ack - c.iss} past ISS")
    c.snd_nxt = (c.iss + 1) & 0xFFFFFFFF
    if took:
        c.snd_nxt = (c.snd_nxt + 5) & 0xFFFFFFFF
        c.send(ACK)
        got = c.read(5)
        check(got == b"early", f"data of the SYN, acknowledged, echoed as {got!r}")
    else:
        c.send(ACK)
        c.echo(b"early", "the SYN's data sent again")
    c.close()
    ok("RFC 9293 3.10.7.2 (third: text queued)", "data in a SYN: "
       + ("acknowledged and delivered once established" if took else "not acknowledged; sent again it is read"))


@probe
def syn_received_checks():
    # An ACK that acknowledges something else than our SYN: RST <SEQ=SEG.ACK>.
    c = Conn()
    c.send(SYN, ack=0, opts=MSS1460)
    sa = P.take(c.sport, 2.0, lambda s: s.flags & (SYN | RST))
    check(sa is not None and sa.has(SYN | ACK), f"no SYN-ACK ({sa})")
    c.snd_nxt = (c.iss + 1) & 0xFFFFFFFF
    c.rcv_nxt = (sa.seq + 1) & 0xFFFFFFFF
    bad = (sa.seq + 5000) & 0xFFFFFFFF
    c.send(ACK, ack=bad)
    r = c.acks(1.0, lambda s: s.flags & RST)
    check(r is not None and r.seq == bad, f"an unacceptable ACK in SYN-RECEIVED drew {r}, want <SEQ=SEG.ACK><CTL=RST>")
    # An in-window RST that is not exact: challenge ACK, the half-open flow stays.
    c.send(RST, seq=c.snd_nxt + 10)
    a = c.acks(1.0)
    check(a is None or not a.flags & RST, f"a non-exact RST in SYN-RECEIVED drew {a}")
    c.send(ACK)
    c.echo(b"established", "after the bad ACK and a non-exact RST in SYN-RECEIVED")
    c.close()
    ok("RFC 9293 3.10.7.4 (SYN-RECEIVED)", "unacceptable ACK answered by <SEQ=SEG.ACK><CTL=RST>, "
       "non-exact RST " + ("challenged" if a is not None else "dropped") + "; the connection then opens")
    # An exact RST ends the half-open flow: the final ACK then draws an RST.
    c = Conn()
    c.send(SYN, ack=0, opts=MSS1460)
    sa = P.take(c.sport, 2.0, lambda s: s.flags & (SYN | RST))
    check(sa is not None and sa.has(SYN | ACK), f"no SYN-ACK ({sa})")
    c.snd_nxt = (c.iss + 1) & 0xFFFFFFFF
    c.rcv_nxt = (sa.seq + 1) & 0xFFFFFFFF
    c.send(RST)
    time.sleep(0.1)
    c.write(b"late")
    r = c.acks(1.0)
    check(r is not None and r.flags & RST, f"after an exact RST in SYN-RECEIVED, data drew {r}, want RST")
    ok("RFC 9293 3.10.7.4 (SYN-RECEIVED: RST)", "an RST at RCV.NXT removes the half-open connection")


@probe
def data_after_fin():
    c = Conn()
    c.open()
    c.write(b"last words")
    c.send(FIN | ACK)
    c.snd_nxt = (c.snd_nxt + 1) & 0xFFFFFFFF
    c.write(b"GHOST")
    got = c.read(10)
    check(got == b"last words", f"echo before the FIN: {got!r}")
    rest = c.read(5, timeout=0.8)
    check(b"GHOST" not in rest, f"text after the FIN was read: {rest!r}")
    ok("RFC 9293 3.10.7.4 (seventh: CLOSE-WAIT, ignore the text)", "data after the peer's FIN never read")
    c.close()


def ts_opt(val, ecr):
    return b"\x01\x01\x08\x0a" + struct.pack("!II", val & 0xFFFFFFFF, ecr & 0xFFFFFFFF)


@probe
def timestamps_paws():
    c = Conn()
    sa = c.open(opts=MSS1460 + ts_opt(1000000, 0))
    check("ts" in sa.opts, f"no timestamps in the SYN-ACK to a SYN with them ({sa.opts})")
    ecr = sa.opts["ts"][0]
    c.send(ACK, opts=ts_opt(1000001, ecr))
    c.write(b"fresh", opts=ts_opt(1000002, ecr))
    got = c.read(5)
    check(got == b"fresh", f"echo with timestamps: {got!r}")
    with Delta() as d:
        c.send(ACK | PSH, data=b"STALE", opts=ts_opt(999000, ecr))  # older than TS.Recent
        a = c.acks(1.0)
    check(a is not None and a.flags & ACK and a.ack == c.snd_nxt,
          f"a segment failing PAWS drew {a}, want <ACK=RCV.NXT>")
    check(d.get("tcp", "PAWSEstab") >= 1, "PAWS drop not counted")
    c.write(b"again", opts=ts_opt(1000003, ecr))
    got = c.read(5)
    check(got == b"again", f"after a PAWS drop the stream read {got!r}, want b'again'")
    ok("RFC 7323 5.3 (R1)", "a segment with TSval older than TS.Recent: dropped with an ACK, "
       "counted, its text never read")
    c.close()


@probe
def urgent_pointers():
    c = Conn()
    c.open()
    for up, what in ((0xFFFF, "beyond the segment and window"), (0, "zero"), (3, "inside")):
        c.write(b"urg!", urg_ptr=up, flags_extra=URG)
        got = c.read(4)
        check(got == b"urg!", f"URG with pointer {what}: echo {got!r}")
    ok("RFC 9293 3.8.5 (MUST-30, MUST-31) / RFC 6093", "URG with pointers beyond the window, zero, "
       "inside: bytes read inline, in order, the connection lives on")
    c.close()


@probe
def window_shrinking():
    c = Conn(HTTP)
    c.open()
    wins = [65535, 1000, 40000, 0, 30000, 200]
    state = {"i": 0}

    def shrink(c, burst):
        for sg in burst:
            c.absorb(sg)
        state["i"] += 1
        # Acknowledge everything, then retract the right edge with a second ACK.
        c.send(ACK, win=wins[state["i"] % len(wins)])
        c.send(ACK, win=wins[(state["i"] + 3) % len(wins)])
        return True
    download(c, 60000, on_burst=shrink, secs=20)
    c.close()
    ok("RFC 9293 3.8.6.2.1 (robust against window shrinking)", "a receiver retracting its right edge "
       "and closing to 0 many times: the download completes intact")


def icmp_unreach(code, mtu, quote_src, quote_dst, sport, dport, seq):
    quoted = ip_bytes(tcp_bytes(quote_src, quote_dst, sport, dport, seq, 0, ACK)[:8],
                      quote_src, quote_dst)
    body = struct.pack("!BBHHH", 3, code, 0, 0, mtu) + quoted
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    return ip_bytes(body, PROBE_IP, OASIS_IP, proto=1)


@probe
def icmp_errors():
    c = Conn(HTTP)
    c.open()
    body, _ = download(c, 5000)
    with Delta() as d:
        # Quoting a sequence number Oasis never sent: ignored (RFC 5927 4.1).
        P.send_ip(icmp_unreach(4, 68, OASIS_IP, PROBE_IP, HTTP, c.sport, c.rcv_nxt + 0x40000000))
        P.send_ip(icmp_unreach(3, 0, OASIS_IP, PROBE_IP, HTTP, c.sport, c.rcv_nxt - 0x40000000))
        P.poll(0.1)
    check(d.get("tcp", "OutOfWindowIcmps") >= 2, "ICMP errors quoting unsent data not counted")
    c.rx.clear()
    download(c, 5000)
    ok("RFC 5927 4.1 / RFC 9293 3.9.2.2", "ICMP errors quoting a sequence number outside SND.UNA..SND.NXT: "
       "ignored, counted, the connection goes on")
    # In window: port unreachable is soft in ESTABLISHED, fragmentation needed
    # with a next-hop MTU of 20 is raised to 68 (RFC 1191 3): segments shrink.
    c.rx.clear()
    # A window of one segment: nothing else is in flight when the errors come.
    c.write(f"GET /bytes/3000 HTTP/1.1\r\nHost: probe\r\n\r\n".encode(), win=1460)
    first = P.take(c.sport, 2.0, lambda s: s.data)
    check(first is not None, "no response")
    with Delta() as d:
        P.send_ip(icmp_unreach(3, 0, OASIS_IP, PROBE_IP, HTTP, c.sport, first.seq))
        P.send_ip(icmp_unreach(4, 20, OASIS_IP, PROBE_IP, HTTP, c.sport, first.seq))
        P.poll(0.05)
    c.absorb(first)
    c.send(ACK)
    sizes = []
    end = time.monotonic() + 10
    while time.monotonic() < end:
        burst = P.drain(c.sport, 0.1)
        check(not any(sg.flags & RST for sg in burst), f"reset after in-window ICMP errors: {burst}")
        for sg in burst:
            if sg.data:
                sizes.append((sg.wire_len, sg.df))
            c.absorb(sg)
        if burst:
            c.send(ACK)
        head, sep, body = bytes(c.rx).partition(b"\r\n\r\n")
        if sep and len(body) >= 3000:
            break
    check(len(body) >= 3000 and body[:3000] == pattern(3000), f"after ICMP errors: {len(body)} bytes")
    check(d.get("ipv4", "PMTULowered") >= 1, "the path MTU was not lowered")
    big = max([n for n, _ in sizes] or [0])
    check(big <= 576, f"after a next-hop MTU of 20, a {big}-byte datagram (TCP's floor is 576)")
    # RFC 1191 2 and 3: the host MUST make discovery converge: datagrams
    # within the path MTU (68), or DF clear so that the router fragments.
    check(all(n <= 68 or not df for n, df in sizes),
          f"datagrams above the path MTU of 68 still carry DF ({sorted(set(sizes))}): "
          "discovery never converges on a path under 576")
    c.close()
    ok("RFC 5927 7.2 / RFC 1191 2, 3", "in-window port unreachable: soft (the connection lives on); "
       f"fragmentation needed with MTU 20: path MTU 68, {big}-byte datagrams without DF "
       "(routers may fragment: discovery converges), data intact")


@probe
def fragment_beyond_64k():
    sport = P.next_port()
    seq = random.getrandbits(32)
    whole = tcp_bytes(PROBE_IP, OASIS_IP, sport, ECHO, seq, 0, SYN, opts=MSS1460)
    ident = random.getrandbits(16)
    with Delta() as d:
        P.send_ip(ip_bytes(whole, PROBE_IP, OASIS_IP, ident=ident, df=False, mf=True))
        P.send_ip(ip_bytes(bytes(16), PROBE_IP, OASIS_IP, ident=ident, df=False, frag_off=65528))
        got = P.drain(sport, 0.2)
    check(not got, f"a datagram reassembling beyond 65535 bytes drew {got}")
    check(d.get("ipv4", "ReasmFails") + d.get("ipv4", "InHdrErrors") >= 1, "not counted")
    ok("RFC 791 3.1 (Total Length <= 65535)", "fragments reaching past 65535 bytes (ping of death): "
       "dropped, counted")


@probe
def time_wait():
    c = Conn(HTTP)
    c.open()
    c.write(b"GET /bytes/10 HTTP/1.0\r\nHost: probe\r\n\r\n")
    end = time.monotonic() + 3
    while not c.fin and time.monotonic() < end:
        sg = c.acks(end - time.monotonic())
        if sg is None:
            break
        c.absorb(sg)
    check(c.fin, "HTTP/1.0: Oasis did not close first")
    c.send(FIN | ACK)
    c.snd_nxt = (c.snd_nxt + 1) & 0xFFFFFFFF
    a = c.acks(1.0, lambda s: s.ack == c.snd_nxt)
    check(a is not None and not a.flags & RST, f"our FIN drew {a}")
    with Delta() as d:
        c.send(RST, seq=c.snd_nxt)
        time.sleep(0.55)
        c.send(FIN | ACK, seq=c.snd_nxt - 1)  # our FIN again: TIME-WAIT answers it
        a = c.acks(1.0)
    check(a is not None and a.flags & ACK and not a.flags & RST and a.ack == c.snd_nxt,
          f"after an RST in TIME-WAIT, a resent FIN drew {a}: the RST ended TIME-WAIT")
    check(d.get("tcp", "CurrTimeWait") == 0 or True, "")
    ok("RFC 1337 / RFC 9293 3.10.7.4 (TIME-WAIT)", "an RST does not end TIME-WAIT (assassination "
       "hazard); the peer's resent FIN is acknowledged again")
    # A new SYN on the same ports, above the old sequence space: accepted or
    # challenged, never a reset; the server goes on.
    c.send(SYN, seq=c.snd_nxt + 100000, ack=0, opts=MSS1460)
    r = c.acks(1.0)
    check(r is not None and not r.flags & RST, f"a new SYN to a TIME-WAIT connection drew {r}")
    if r.has(SYN | ACK):
        c.send(RST, seq=c.snd_nxt + 100001)
    ok("RFC 9293 3.10.7.4 (TIME-WAIT) / RFC 6191", "a new SYN above the old sequence space: "
       + ("reopened (SYN-ACK)" if r.has(SYN | ACK) else "challenge ACK"))


@probe
def fin_beyond_a_hole():
    c = Conn()
    c.open()
    base = c.snd_nxt
    c.send(FIN | ACK | PSH, seq=base + 3, data=b"abc")  # text and FIN after a hole
    a = c.acks(1.0)
    check(a is not None and a.ack == base, f"out-of-order text with FIN drew {a}, want <ACK={base}>")
    c.send(ACK | PSH, seq=base, data=b"xyz")
    c.snd_nxt = (base + 7) & 0xFFFFFFFF  # 6 bytes and the FIN
    got = c.read(6)
    check(got == b"xyzabc", f"after the hole filled the application read {got!r}")
    a = c.acks(1.0, lambda s: s.ack == c.snd_nxt)
    check(a is not None, "the FIN held beyond the hole was not acknowledged once the hole filled")
    ok("RFC 9293 3.10.7.4 (eighth: FIN once the text before it is in)",
       "a FIN beyond a hole is taken when the hole fills: text in order, then the FIN acknowledged")
    c.close()


@probe
def rst_with_data():
    c = Conn()
    c.open()
    with Delta() as d:
        c.send(RST | ACK, data=b"diagnostic text")
        P.poll(0.1)
    check(d.get("tcp", "EstabResets") >= 1, "an exact RST carrying text did not reset")
    c.write(b"?")
    r = c.acks(1.0)
    check(r is not None and r.flags & RST, f"after an RST with text, data drew {r}")
    ok("RFC 9293 3.5.3 (RST may carry diagnostic text)", "an exact RST with text resets; the text is not read")


@probe
def keepalive_probes_answered():
    c = Conn()
    c.open()
    c.echo(b"data", "before keepalives")
    for what, data in (("no data (Linux's)", b""), ("one garbage byte (BSD's)", b"G")):
        time.sleep(0.55)  # the per-flow limit of ACKs to unacceptable segments
        c.send(ACK, seq=c.snd_nxt - 1, data=data)
        a = c.acks(1.0)
        check(a is not None and a.flags & ACK and a.ack == c.snd_nxt,
              f"keepalive with {what} drew {a}, want <ACK=RCV.NXT>")
    c.echo(b"more", "after keepalives (the garbage byte is not read)")
    ok("RFC 9293 3.8.4 / RFC 1122 4.2.3.6", "keep-alive probes (SEG.SEQ = RCV.NXT - 1, 0 or 1 byte) "
       "answered with <ACK=RCV.NXT>; nothing read from them")
    c.close()


@probe
def syn_options_outside_syn():
    # A flow opened without window scaling or SACK: a Window Scale, an MSS
    # and SACK blocks on later segments must be ignored.
    c = Conn(HTTP)
    c.open()

    def odd_opts(c, burst):
        for sg in burst:
            c.absorb(sg)
        r = c.rcv_nxt
        c.send(ACK, win=3000, opts=b"\x01\x03\x03\x0e" + b"\x02\x04\xff\xff"
               + sack_opt([(r + 1, r + 100000)])[2:])
        return True
    _, most = download(c, 20000, win=3000, on_burst=odd_opts)
    check(most <= 3000, f"Oasis had {most} bytes beyond our ACK with a window of 3000: "
          "it took a Window Scale option outside the SYN")
    c.close()
    # 40 bytes of NOPs (data offset 15) before the text: read as usual.
    c = Conn()
    c.open()
    c.write(b"padded", opts=b"\x01" * 40)
    got = c.read(6)
    check(got == b"padded", f"a segment with a 60-byte header: read {got!r}")
    c.close()
    ok("RFC 7323 2.2 / RFC 2018 / RFC 9293 3.7.1", "Window Scale, MSS and SACK options outside the "
       f"SYN (not negotiated) ignored: at most {most} bytes beyond a 3000-byte window; a 60-byte "
       "header of NOPs is read as usual")


@probe
def link_addressing():
    def syn_to_mac(mac):
        return lambda p, q: [(None, eth(mac, ETH_IP, syn_frame(p, q)))]
    expect_no_synack(syn_to_mac(bytes.fromhex("02dead00beef")), "SYN in a frame for another MAC",
                     [("link", "RxNotForUs")])
    ok("RFC 894 / IEEE 802.3 (frames for other stations)", "a frame addressed to another MAC is not taken (counted)")
    expect_no_synack(syn_to_mac(BCAST_MAC), "unicast SYN in a link broadcast", [("ipv4", "InAddrErrors")])
    expect_no_synack(syn_to_mac(bytes.fromhex("01005e000001")), "unicast SYN in a link multicast",
                     [("ipv4", "InAddrErrors")])
    ok("RFC 1122 3.3.6", "a datagram for our unicast address that came by link broadcast or "
       "multicast: silently discarded, counted (InAddrErrors)")


@probe
def port_zero():
    sport = P.next_port()
    seq = random.getrandbits(32)
    P.send_tcp(0, ECHO, seq, 0, SYN, opts=MSS1460)
    P.send_tcp(sport, 0, seq, 0, SYN, opts=MSS1460)
    got = P.drain(sport, 0.2) + P.drain(0, 0.0)
    check(not got, f"SYNs from or to port 0 drew {got}")
    ok("RFC 9293 3.1 / RFC 6335 (port 0 reserved)", "SYNs from or to port 0: dropped, no RST")


@probe
def simultaneous_close():
    c = Conn(HTTP)
    c.open()
    c.write(b"GET /bytes/10 HTTP/1.0\r\nHost: probe\r\n\r\n")
    end = time.monotonic() + 3
    fin = None
    while fin is None and time.monotonic() < end:
        sg = c.acks(end - time.monotonic())
        if sg is None:
            break
        if sg.flags & FIN:
            fin = sg
        c.absorb(sg)
    check(fin is not None, "HTTP/1.0: no FIN from Oasis")
    # Our FIN crosses Oasis's: it does not acknowledge Oasis's FIN.
    c.send(FIN | ACK, ack=(c.rcv_nxt - 1) & 0xFFFFFFFF)
    c.snd_nxt = (c.snd_nxt + 1) & 0xFFFFFFFF
    a = c.acks(1.0, lambda s: s.ack == c.snd_nxt)
    check(a is not None and not a.flags & RST, f"our crossing FIN drew {a}, want its ACK (CLOSING)")
    c.send(ACK)  # now Oasis's FIN: CLOSING -> TIME-WAIT
    time.sleep(0.55)
    c.send(FIN | ACK, seq=c.snd_nxt - 1)
    a = c.acks(1.0)
    check(a is not None and a.flags & ACK and not a.flags & RST and a.ack == c.snd_nxt,
          f"in TIME-WAIT our FIN again drew {a}")
    ok("RFC 9293 3.6 (simultaneous close)", "FINs crossing: CLOSING, then TIME-WAIT, which "
       "acknowledges the peer's FIN again")


@probe
def abrupt_peers():
    """Each service's connections ended every rude way a peer can: RST after
    data, RST right after FIN, FIN mid-request, RST mid-response, RST while
    a reply waits on a zero window. The server must serve on (and, under
    ASan, free each connection exactly once: checked at its exit)."""
    mine = set()
    for port, req in ((ECHO, b"x" * 3000), (9, b"y" * 3000), (5001, b"z" * 3000),
                      (HTTP, b"GET /bytes/300000 HTTP/1.1\r\nHost: probe\r\n\r\n")):
        for how in ("rst", "fin_rst", "fin", "rst_mid", "zero_rst"):
            c = Conn(port)
            c.open()
            win = 0 if how == "zero_rst" else 65535
            c.write(req[:1400], win=win)
            if len(req) > 1400:
                c.write(req[1400:2800], win=win)
            if how in ("fin_rst", "fin"):
                c.send(FIN | ACK, win=win)
                c.snd_nxt = (c.snd_nxt + 1) & 0xFFFFFFFF
            if how == "rst_mid":
                c.read(2000, timeout=0.2)
            elif how == "zero_rst":
                P.poll(0.05)
            if how != "fin":
                c.send(RST, ack=0)
            mine.add(c.sport)
    P.poll(0.2)
    P.pending = [sg for sg in P.pending if sg.dport not in mine]  # their leftovers
    c = Conn(HTTP)
    c.open()
    download(c, 20000)
    c.close()
    ok("robustness (oasis serve)", "20 connections to echo, discard, hash and HTTP ended by RST "
       "after data, RST after FIN, a bare FIN, RST mid-response, RST on a zero window: "
       "the server serves on")


@probe
def icmp_from_oasis():
    """Protocol unreachable (RFC 1122 3.2.2.1, RFC 792): type 3 code 2,
    quoting the offending IP header and at least 8 bytes after it (RFC 1812
    4.3.2.3 asks for as much as fits in 576); none about a datagram that
    came as a link broadcast, to a broadcast address, or a later fragment
    (RFC 1122 3.2.2); an echo request with a bad checksum unanswered,
    counted (RFC 1122 3.2.2.6 / RFC 792)."""
    payload = bytes(range(40))
    dg = ip_bytes(payload, PROBE_IP, OASIS_IP, proto=253, ident=0x4242)
    P.icmp.clear()
    P.send_ip(dg)
    P.poll(0.3)
    check(len(P.icmp) == 1, f"protocol 253: {len(P.icmp)} ICMP replies, want 1")
    r = P.icmp[0]
    hl = (r[0] & 15) * 4
    m = r[hl:]
    check(m[0] == 3 and m[1] == 2, f"protocol 253: ICMP type {m[0]} code {m[1]}, want 3/2")
    check(csum(m) == 0, "protocol unreachable: bad ICMP checksum")
    check(m[8:8 + 28] == dg[:28], "the quote is not the offending header and its first 8 bytes")
    check(socket.inet_ntoa(r[16:20]) == PROBE_IP, "protocol unreachable not sent to the source")
    bcast = OASIS_IP.rsplit(".", 1)[0] + ".255"
    with Delta() as d:
        P.icmp.clear()
        P.send_ip(ip_bytes(payload, PROBE_IP, bcast, proto=253), BCAST_MAC)
        P.send_ip(ip_bytes(payload[:16], PROBE_IP, OASIS_IP, proto=253, df=False, frag_off=16))
        echo = struct.pack("!BBHHH", 8, 0, 0, 77, 1) + b"ping"
        P.send_ip(ip_bytes(echo, PROBE_IP, OASIS_IP, proto=1))  # checksum 0: wrong
        P.poll(0.3)
    check(not P.icmp, f"ICMP sent about a broadcast, a later fragment or a bad echo: {len(P.icmp)}")
    check(d.get("icmp", "InCsumErrors") >= 1, "the echo request's bad checksum not counted")
    ok("RFC 1122 3.2.2.1 / 3.2.2 / RFC 792", "protocol unreachable quotes the header and 28+ bytes; "
       "no ICMP error about a broadcast or a later fragment; an echo with a bad checksum unanswered, counted")


def syn_flood_spoofed():
    """Run last (the backlog stays full for a while): 1500 SYNs from 120
    spoofed addresses on the link that never answer ARP. SYN cookies take
    over beyond the backlog (RFC 4987 3.6), the ARP queue and cache stay
    bounded, and a real client (the kernel's TCP) is still served."""
    net = OASIS_IP.rsplit(".", 1)[0]
    hosts = [f"{net}.{i}" for i in range(100, 220)]
    with Delta() as d:
        for i in range(1500):
            src = hosts[i % len(hosts)]
            seg = tcp_bytes(src, OASIS_IP, 20000 + i, HTTP, random.getrandbits(32), 0, SYN, opts=MSS1460)
            P.send_ip(ip_bytes(seg, src, OASIS_IP))
            if i % 100 == 99:
                P.poll(0.01)
        P.poll(0.3)
        body = urllib.request.urlopen(f"http://{OASIS_IP}/bytes/5000", timeout=10).read()
    check(body == pattern(5000), "a real client after the flood: wrong body")
    check(d.get("tcp", "SyncookiesSent") >= 1, "no SYN cookie beyond the backlog")
    check(counter(d.after, "arp", "CacheEntries") <= 1024, "ARP cache grew without bound")
    ok("RFC 4987 3.6 / RFC 1122 2.3.2.2", f"1500 spoofed SYNs from 120 silent addresses: "
       f"{int(d.get('tcp', 'SyncookiesSent'))} SYN cookies, "
       f"{int(d.get('arp', 'QueueDrops'))} datagrams dropped waiting for ARP, "
       f"ARP cache {int(counter(d.after, 'arp', 'CacheEntries'))} entries; a real client is served")


# ---- Oasis as the client: SYN-SENT (RFC 9293 3.10.7.3) ----------------------
#
# `oasis nc` on a second TAP (CLIENT env: TAP,OASIS_IP,PROBE_IP,OASIS_BIN)
# connects to the probe's address there; the probe answers its SYN by hand.


class Client:
    def __init__(self, pc, oasis_bin, port, data=None):
        self.pc, self.port = pc, port
        args = [oasis_bin, "nc", "--timeout", "8", "--tap", pc.tap, "--addr", f"{pc.oasis_ip}/24"]
        if data is None:
            args.append("-d")
        self.proc = subprocess.Popen(args + [pc.probe_ip, str(port)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if data is not None:
            self.proc.stdin.write(data)
        self.proc.stdin.close()
        syn = self.take(6.0, lambda s: s.flags & SYN)
        check(syn is not None and syn.flags & (SYN | ACK) == SYN, f"oasis nc sent no SYN ({syn})")
        self.sport, self.iss = syn.sport, syn.seq
        self.irs = random.getrandbits(32)

    def take(self, timeout, pred=lambda s: True):
        return self.pc.take(self.port, timeout, lambda s: s.sport != 0 and pred(s)) \
            if not hasattr(self, "sport") else \
            self.pc.take(self.port, timeout, lambda s: s.sport == self.sport and pred(s))

    def send(self, flags, seq, ack, data=b"", opts=b"", win=65535):
        self.pc.send_tcp(self.port, self.sport, seq, ack, flags, data=data, opts=opts, win=win)

    def running(self, secs):
        try:
            self.proc.wait(secs)
        except subprocess.TimeoutExpired:
            return True
        return False

    def finish(self):
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        out, err = self.proc.stdout.read(), self.proc.stderr.read()
        return self.proc.returncode, out, err.decode(errors="replace").strip()[-300:]

    def established_then_close(self, text, want_ack, answered=True):
        """After the handshake: our text and FIN; nc prints it, closes, exits 0.
        answered: our last handshake segment draws an ACK (a SYN-ACK's ACK);
        a simultaneous open's SYN,ACK establishes without one (RFC 9293 3.5)."""
        if answered:
            a = self.take(2.0, lambda s: s.flags & ACK and not s.flags & SYN and s.ack == want_ack)
            check(a is not None, f"no ACK of {want_ack - self.irs} past our ISS")
        nxt = self.irs + 1 + (want_ack - self.irs - 1)
        self.send(ACK | PSH | FIN, nxt, self.iss + 1, data=text)
        fin = self.take(3.0, lambda s: s.flags & FIN)
        check(fin is not None, "nc did not close after our FIN")
        self.send(ACK, nxt + len(text) + 1, fin.seq + 1)
        rc, out, err = self.finish()
        return rc, out, err


def client_checks(pc, oasis_bin):
    port = 7000 + random.randrange(1000)
    # An unacceptable ACK in the SYN-ACK: RST <SEQ=SEG.ACK>; the attempt goes on.
    c = Client(pc, oasis_bin, port)
    bad = (c.iss + 1000) & 0xFFFFFFFF
    c.send(SYN | ACK, c.irs, bad, opts=MSS1460)
    r = c.take(1.0, lambda s: s.flags & RST)
    check(r is not None and r.seq == bad and not r.flags & ACK,
          f"a SYN-ACK acknowledging {bad - c.iss} drew {r}, want <SEQ=SEG.ACK><CTL=RST>")
    c.send(SYN | ACK, c.irs, c.iss + 1, opts=MSS1460)
    rc, out, err = c.established_then_close(b"hello client", (c.irs + 1) & 0xFFFFFFFF)
    check(rc == 0 and out == b"hello client", f"nc: status {rc}, output {out!r} ({err})")
    ok("RFC 9293 3.10.7.3 (SYN-SENT: first, the ACK)", "a SYN-ACK with an unacceptable ACK: "
       "<SEQ=SEG.ACK><CTL=RST>, the attempt goes on and then opens")

    # RSTs that do not acknowledge the SYN are dropped; one that does refuses.
    c = Client(pc, oasis_bin, port + 1)
    c.send(RST, c.irs, 0)
    c.send(RST | ACK, c.irs, c.iss + 7)
    check(c.running(0.4), "an RST not acknowledging the SYN ended the attempt")
    c.send(RST | ACK, 0, c.iss + 1)
    rc, out, err = c.finish()
    check(rc == 4, f"an RST acknowledging the SYN: nc status {rc}, want 4 (refused) ({err})")
    ok("RFC 9293 3.10.7.3 (SYN-SENT: second, the RST) / RFC 5961 3.2", "RSTs without an ACK of the "
       "SYN ignored; RST,ACK of the SYN: connection refused")

    # Text in the SYN-ACK is delivered (RFC 9293 3.10.7.3 sixth step).
    c = Client(pc, oasis_bin, port + 2)
    c.send(SYN | ACK, c.irs, c.iss + 1, data=b"early ", opts=MSS1460)
    a = c.take(2.0, lambda s: s.flags & ACK and s.ack == (c.irs + 7) & 0xFFFFFFFF)
    check(a is not None, "text in the SYN-ACK not acknowledged (only the SYN)")
    c.send(ACK | PSH | FIN, c.irs + 7, c.iss + 1, data=b"bird")
    fin = c.take(3.0, lambda s: s.flags & FIN)
    check(fin is not None, "nc did not close")
    c.send(ACK, c.irs + 12, fin.seq + 1)
    rc, out, err = c.finish()
    check(rc == 0 and out == b"early bird", f"nc: status {rc}, output {out!r} ({err})")
    ok("RFC 9293 3.10.7.3 (SYN-SENT: text in the SYN-ACK)", "acknowledged and delivered before later text")

    # Simultaneous open: a SYN without ACK answers our SYN (SYN-RECEIVED).
    c = Client(pc, oasis_bin, port + 3)
    c.send(SYN, c.irs, 0, opts=MSS1460)
    sa = c.take(2.0, lambda s: s.flags & SYN)
    check(sa is not None and sa.has(SYN | ACK) and sa.seq == c.iss and sa.ack == (c.irs + 1) & 0xFFFFFFFF,
          f"simultaneous open: our SYN drew {sa}, want <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>")
    c.send(SYN | ACK, c.irs, c.iss + 1, opts=MSS1460)
    rc, out, err = c.established_then_close(b"both at once", (c.irs + 1) & 0xFFFFFFFF, answered=False)
    check(rc == 0 and out == b"both at once", f"nc: status {rc}, output {out!r} ({err})")
    ok("RFC 9293 3.10.7.3 (SYN-SENT: fourth, SYN) / 3.5 (simultaneous open)",
       "a SYN crossing ours: SYN,ACK <SEQ=ISS><ACK=RCV.NXT>, then the connection opens")


def client_side():
    spec = os.environ.get("CLIENT")
    check(spec, "no CLIENT spec (TAP,OASIS_IP,PROBE_IP,OASIS_BIN) from wire_probe.sh")
    tap, oip, pip, binary = spec.split(",")
    pc = Probe(tap, oip, pip)
    client_checks(pc, binary)


class LingeringClose:
    """A peer that closes and then never acknowledges Oasis's FIN. Started
    before the other checks, judged after them: `oasis serve` gives up on
    such a close after 5 s (CLOSE_LINGER_NS) with a reset, and goes on."""

    def start(self):
        self.c = c = Conn()
        c.open()
        c.echo(b"bye", "before the FIN")
        c.send(FIN | ACK)
        c.snd_nxt = (c.snd_nxt + 1) & 0xFFFFFFFF
        self.t = time.monotonic()

    def finish(self):
        c = self.c
        r = c.acks(max(0.0, self.t + 8 - time.monotonic()), lambda s: s.flags & RST)
        fins = [s for s in P.drain(c.sport, 0) if s.flags & FIN]
        check(r is not None, f"no reset 8 s after a close the peer never completed ({fins})")
        check(r.seq == (c.rcv_nxt + 1) & 0xFFFFFFFF or r.seq == c.rcv_nxt,
              f"the reset's SEQ {r.seq} is not Oasis's SND.NXT")
        c2 = Conn()
        c2.open()
        c2.echo(b"after the reset", "a new connection")
        c2.close()
        ok("oasis serve --help (CLOSE_LINGER) / RFC 9293 3.10.4 (ABORT)",
           "a close whose FIN the peer never acknowledges ends in an RST after 5 s; "
           "the server lives on and serves")


def oasis_datagrams():
    """Judged over every datagram Oasis sent during the run (Probe.judge)."""
    check(not P.malformed, f"Oasis sent malformed datagrams: {P.malformed}")
    ok("RFC 791 3.1 / RFC 1122 3.2.1.7 / RFC 9293 3.1", f"all {P.judged} datagrams Oasis sent "
       "had a sound header and checksum, TTL above 0, a correct TCP checksum")


def run(name, fn, took):
    t0 = time.monotonic()
    try:
        fn()
    except Fail as e:
        print(f"FAIL: {name}: {e}", flush=True)
        FAILED.append(name)
    except Exception as e:  # a broken probe is a failure too
        print(f"FAIL: {name}: {type(e).__name__}: {e}", flush=True)
        FAILED.append(name)
    took[name] = time.monotonic() - t0


def main():
    global P
    P = Probe()
    P.resolve()
    only = os.environ.get("PROBE_ONLY")  # a comma-separated list, to reproduce one
    wanted = lambda name: not only or name in only.split(",")
    # The lingering close starts first and is judged late (it takes 5 s);
    # the SYN flood fills the backlog for a while, so it comes last.
    linger = LingeringClose()
    steps = [("lingering_close_start", linger.start)]
    steps += [(fn.__name__, fn) for fn in CHECKS if wanted(fn.__name__)]
    if wanted("client_side"):
        steps.append(("client_side", client_side))
    if wanted("syn_flood_spoofed"):
        steps.append(("syn_flood_spoofed", syn_flood_spoofed))
    steps += [("lingering_close", linger.finish), ("oasis_datagrams", oasis_datagrams)]
    took = {}
    for name, fn in steps:
        if name == "lingering_close" and "lingering_close_start" in FAILED:
            continue
        run(name, fn, took)
    slow = sorted(took.items(), key=lambda kv: -kv[1])[:5]
    print("slowest: " + ", ".join(f"{k} {v:.1f} s" for k, v in slow), flush=True)
    print(f"probe: {len(steps) - 1 - len(FAILED)} of {len(steps) - 1} check groups passed, "
          f"{P.frames_from_oasis} frames from Oasis", flush=True)
    return len(FAILED)


if __name__ == "__main__":
    sys.exit(min(main(), 100))
