#!/usr/bin/env python3
"""Differential TCP conformance: the same scripted segments at Oasis and at
Linux, answers normalised side by side, Oasis held to the RFC.

Run inside the test's network namespace (tcp_diff.sh). Two targets:

  oasis  `oasis serve` on the TAP oasis0; the probe is a host of its own on
         that link (made-up MAC and address), frames through an AF_PACKET
         socket, as wire_probe.py does.
  linux  the namespace's own kernel behind a second TAP (dflx0): the probe
         holds the TAP's file descriptor, so it is the wire; the kernel runs
         this script's Linux servers (--linux-servers) on the same ports:
         echo 7, discard 9, HTTP 80 (GET /bytes/N, HTTP/1.0: close after).

Each scenario drives one or more connections by hand with the same
sequence of segments at each target and records an observation per step:
the first answer normalised (flags; seq relative to the target's ISN, ack
relative to ours; length; zero window; option kinds; SACK blocks and TSecr
relative to ours), or "-" for silence. A table prints both columns and
marks differences. Only Oasis's requirements (a MUST or SHOULD of the RFC,
or the library's contract) decide the exit status: `req()` records them,
on Linux too, for information. Linux is not the oracle; a known difference
that the RFC allows is explained in the scenario's `note`.

No timing assertions: answers are awaited generously (a second or more),
and a segment that may legally be delayed is looked for, not timed.

Over IPv6 (-6, tcp_diff6.sh) every scenario goes in IPv6 datagrams
(the TCP checksum over the IPv6 pseudo-header, RFC 8200 8.1); the probe
answers Neighbour Solicitations for its address and finds each target's
MAC by one (Linux's side also has a static entry for the probe); the
limits that depend on the IP header are the IPv6 ones (MSS = MTU - 60,
1220 without an MSS option, RFC 9293 3.7.1; the hop limit and traffic
class for TTL and TOS, the flow label); v6-only scenarios (ICMPv6 Packet
Too Big) run only there.

Usage: tcp_diff.py [-6] OASIS_TAP OASIS_IP PROBE_IP LINUX_TAP LINUX_IP LPROBE_IP CLIENT
       (CLIENT: TAP,OASIS_IP,PROBE_IP,OASIS_BIN[,OASIS_IPV4] for oasis nc, the SYN-SENT
       scenarios; over IPv6 the addresses are IPv6 ones and OASIS_IPV4 the
       --addr oasis nc also wants)
       tcp_diff.py --linux-servers LINUX_IP
Environment: DIFF_ONLY=name,name runs only those scenarios.
"""
import fcntl
import os
import random
import select
import socket
import struct
import subprocess
import sys
import threading
import time

from probe_frames import PACKET_OUTGOING, csum, packet_socket, tcp_bytes

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
ECHO, DISCARD, HTTP = 7, 9, 80
PROBE_MAC = bytes.fromhex("02a5c0ffeedf")
BCAST = b"\xff" * 6
ETH_IP, ETH_ARP, ETH_IP6 = 0x0800, 0x0806, 0x86DD
NH_TCP, NH_ICMP6 = 6, 58
ND_NS, ND_NA, ICMP6_PTB = 135, 136, 2
V6 = False  # -6: every scenario over IPv6
MTU = 1500  # the TAPs' (tcp_diff*.sh)
VNET_HLEN = 10
MSS1460 = b"\x02\x04\x05\xb4"
SACKOK = b"\x04\x02"


def u32(x):
    return x & 0xFFFFFFFF


def ip_hlen():
    return 40 if V6 else 20


def default_mss():
    """RFC 9293 3.7.1 (MUST-15): the send MSS without an MSS option."""
    return 1220 if V6 else 536


def link_mss():
    """The largest segment on the TAPs: the MTU less the fixed IP and TCP
    headers (RFC 9293 3.7.1, RFC 6691 2): 1460, over IPv6 1440."""
    return MTU - ip_hlen() - 20


# ---- Linux's servers (run by tcp_diff.sh in the namespace) ---------------


def linux_servers(addr):
    def serve(port, handler):
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(128)

        def loop():
            while True:
                c, _ = s.accept()
                threading.Thread(target=handler, args=(c,), daemon=True).start()
        threading.Thread(target=loop, daemon=True).start()

    def echo(c):
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        c.close()

    def discard(c):
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass
        c.close()

    def http(c):
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                d = c.recv(65536)
                if not d:
                    break
                buf += d
            if b"\r\n\r\n" in buf:
                path = buf.split(b" ")[1].decode() if buf.count(b" ") >= 2 else "/"
                n = int(path[len("/bytes/"):]) if path.startswith("/bytes/") else 0
                body = bytes((i * 7 + 13) & 0xFF for i in range(n))
                c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % n + body)
        except OSError:
            pass
        c.close()  # with unread data: an RST, as the kernel does

    serve(ECHO, echo)
    serve(DISCARD, discard)
    serve(HTTP, http)
    print("linux servers ready", flush=True)
    while True:
        time.sleep(3600)


# ---- frames ----------------------------------------------------------------


def ip_bytes(payload, src, dst, tos=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(payload), random.getrandbits(16), 0x4000,
                    64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def a6(s):
    return socket.inet_pton(socket.AF_INET6, s)


def ip6_bytes(payload, src, dst, nh=NH_TCP, tc=0, hlim=64):
    return struct.pack("!IHBB", (6 << 28) | (tc << 20), len(payload), nh, hlim) + a6(src) + a6(dst) + payload


def pseudo6(src, dst, nh, length):
    """RFC 8200 8.1: the upper-layer checksum's pseudo-header."""
    return a6(src) + a6(dst) + struct.pack("!IxxxB", length, nh)


def tcp6_bytes(src, dst, sport, dport, seq, ack, flags, win=65535, opts=b"", data=b"",
               doff=None, bad_csum=False, urg_ptr=0, flags_extra=0):
    opts += b"\0" * (-len(opts) % 4)
    off = doff if doff is not None else (20 + len(opts)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      off << 4, flags | flags_extra, win, 0, urg_ptr) + opts + data
    c = csum(pseudo6(src, dst, NH_TCP, len(seg)) + seg)
    if bad_csum:
        c ^= 0x5A5A
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def icmp6_bytes(src, dst, typ, code, body):
    m = struct.pack("!BBH", typ, code, 0) + body
    c = csum(pseudo6(src, dst, NH_ICMP6, len(m)) + m)
    return m[:2] + struct.pack("!H", c) + m[4:]


def sol_node(addr):
    """RFC 4291 2.7.1: the solicited-node multicast address, and its MAC (RFC 2464 7)."""
    a = a6("ff02::1:ff00:0")[:13] + a6(addr)[13:]
    return socket.inet_ntop(socket.AF_INET6, a), b"\x33\x33" + a[12:]


def eth(dst_mac, ethertype, payload):
    f = dst_mac + PROBE_MAC + struct.pack("!H", ethertype) + payload
    return f + b"\0" * max(0, 60 - len(f))


class Seg:
    """A TCP segment from a target."""

    def __init__(self, iph, tcp):
        if iph[0] >> 4 == 6:  # traffic class as TOS, hop limit as TTL; no DF in IPv6
            self.tos, self.ttl, self.df = ((iph[0] & 15) << 4) | (iph[1] >> 4), iph[7], True
            self.flow = struct.unpack("!I", iph[:4])[0] & 0xFFFFF
        else:
            self.tos, self.ttl, self.df, self.flow = iph[1], iph[8], bool(iph[6] & 0x40), None
        self.ip = iph  # the datagram (ICMPv6 errors quote it)
        (self.sport, self.dport, self.seq, self.ack, off, self.flags, self.win, _, self.urp) = \
            struct.unpack("!HHIIBBHHH", tcp[:20])
        hl = (off >> 4) * 4
        self.kinds, self.opts = [], {}
        b, i = tcp[20:hl], 0
        while i < len(b):
            k = b[i]
            if k == 0:
                break
            if k == 1:
                i += 1
                continue
            if i + 1 >= len(b) or b[i + 1] < 2:
                break
            n, v = b[i + 1], b[i + 2:i + b[i + 1]]
            self.kinds.append(k)
            if k == 2 and n == 4:
                self.opts["mss"] = struct.unpack("!H", v)[0]
            elif k == 3 and n == 3:
                self.opts["ws"] = v[0]
            elif k == 5:
                self.opts["sack"] = [struct.unpack("!II", v[j:j + 8]) for j in range(0, len(v) - 7, 8)]
            elif k == 8 and n == 10:
                self.opts["ts"] = struct.unpack("!II", v)
            i += n
        self.data = tcp[hl:]


class Target:
    """One side: how frames go out and come in, and the addresses."""

    def __init__(self, name, tap, peer_ip, my_ip):
        self.name, self.tap, self.peer_ip, self.my_ip = name, tap, peer_ip, my_ip
        self.peer_mac = None
        self.pending = []
        self.bad_csum = 0  # segments whose checksum is wrong (dropped)
        self.port = 41000 + random.randrange(8000)
        if name == "oasis":
            self.s = packet_socket(tap)
            self.fd = self.s.fileno()
        else:
            # The probe is the TAP's user side: it is the wire for Linux.
            self.fd = os.open("/dev/net/tun", os.O_RDWR)
            ifr = struct.pack("16sH", tap.encode(), 0x0002 | 0x1000) + bytes(22)  # IFF_TAP|IFF_NO_PI
            fcntl.ioctl(self.fd, 0x400454CA, ifr)  # TUNSETIFF
            with open(f"/sys/class/net/{tap}/address") as f:
                self.peer_mac = bytes.fromhex(f.read().strip().replace(":", ""))

    def next_port(self):
        self.port += 1
        return self.port

    def send_frame(self, frame):
        if self.name == "oasis":
            self.s.send(bytes(VNET_HLEN) + frame)
        else:
            os.write(self.fd, frame)

    def send_tcp(self, sport, dport, seq, ack, flags, tos=0, **kw):
        if V6:
            seg = tcp6_bytes(self.my_ip, self.peer_ip, sport, dport, seq, ack, flags, **kw)
            self.send_frame(eth(self.peer_mac, ETH_IP6, ip6_bytes(seg, self.my_ip, self.peer_ip, tc=tos)))
            return
        seg = tcp_bytes(self.my_ip, self.peer_ip, sport, dport, seq, ack, flags, **kw)
        self.send_frame(eth(self.peer_mac, ETH_IP, ip_bytes(seg, self.my_ip, self.peer_ip, tos)))

    def icmp6(self, typ, code, body, dst=None, dst_mac=None, hlim=64):
        dst = dst or self.peer_ip
        self.send_frame(eth(dst_mac or self.peer_mac, ETH_IP6,
                            ip6_bytes(icmp6_bytes(self.my_ip, dst, typ, code, body), self.my_ip, dst,
                                      NH_ICMP6, hlim=hlim)))

    def nd6(self, frame):
        """Neighbour Discovery: a solicitation for the probe's address is
        answered (solicited, override, RFC 4861 7.2.4); an advertisement or
        solicitation from the target tells its MAC."""
        ip = frame[14:]
        src = socket.inet_ntop(socket.AF_INET6, ip[8:24])
        body = ip[40:]
        if ip[7] != 255 or len(body) < 24:
            return
        target = socket.inet_ntop(socket.AF_INET6, body[8:24])
        if src == self.peer_ip and (body[0] == ND_NA and target == self.peer_ip or body[0] == ND_NS):
            self.peer_mac = frame[6:12]
        if body[0] == ND_NS and target == self.my_ip and src != "::":
            na = struct.pack("!I", 0x60000000) + a6(self.my_ip) + bytes([2, 1]) + PROBE_MAC
            self.icmp6(ND_NA, 0, na, dst=src, dst_mac=frame[6:12], hlim=255)

    def arp(self, op, tmac, tip):
        body = struct.pack("!HHBBH6s4s6s4s", 1, ETH_IP, 6, 4, op, PROBE_MAC,
                           socket.inet_aton(self.my_ip), tmac, socket.inet_aton(tip))
        self.send_frame(eth(BCAST if op == 1 else tmac, ETH_ARP, body))

    def poll(self, timeout):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                return
            gso = partial = 0
            if self.name == "oasis":
                frame, addr = self.s.recvfrom(65536 + VNET_HLEN)
                # With TSO on the TAP, Oasis may hand over a super-frame that
                # the kernel cuts into gso_size pieces: cut it here the same way.
                gso = struct.unpack("<H", frame[4:6])[0] if frame[1] else 0
                partial = frame[0] & 1  # VIRTIO_NET_HDR_F_NEEDS_CSUM
                frame = frame[VNET_HLEN:]
                if addr[2] == PACKET_OUTGOING:
                    continue
            else:
                frame = os.read(self.fd, 65536)
            if len(frame) < 34:
                continue
            et = struct.unpack("!H", frame[12:14])[0]
            if et == ETH_IP6 and len(frame) >= 54:
                iph = frame[14:]
                if iph[6] == NH_ICMP6:
                    self.nd6(frame)
                    continue
                if iph[6] != NH_TCP or socket.inet_ntop(socket.AF_INET6, iph[8:24]) != self.peer_ip:
                    continue
                hl, total = 40, 40 + struct.unpack("!H", iph[4:6])[0]
                self.segment(Seg(iph[:total], iph[hl:total]), iph, hl, total, gso, partial)
                continue
            if et == ETH_ARP and len(frame) >= 42:
                op = struct.unpack("!H", frame[20:22])[0]
                sha, spa = frame[22:28], socket.inet_ntoa(frame[28:32])
                tpa = socket.inet_ntoa(frame[38:42])
                if spa == self.peer_ip:
                    self.peer_mac = sha
                    if op == 1 and tpa == self.my_ip:
                        self.arp(2, sha, self.peer_ip)
                continue
            if et != ETH_IP:
                continue
            iph = frame[14:]
            if iph[9] != 6 or socket.inet_ntoa(iph[12:16]) != self.peer_ip:
                continue
            hl, total = (iph[0] & 15) * 4, struct.unpack("!H", iph[2:4])[0]
            self.segment(Seg(iph, iph[hl:total]), iph, hl, total, gso, partial)

    def segment(self, sg, iph, hl, total, gso, partial):
        # The checksum over the pseudo-header (RFC 9293 3.1; IPv6: RFC 8200
        # 8.1), unless the frame leaves it to the TAP (NEEDS_CSUM).
        if not partial:
            pseudo = (pseudo6(self.peer_ip, self.my_ip, NH_TCP, total - hl) if iph[0] >> 4 == 6 else
                      iph[12:20] + struct.pack("!BBH", 0, 6, total - hl))
            if csum(pseudo + iph[hl:total]) != 0:
                self.bad_csum += 1
                return
        if gso and len(sg.data) > gso:
            data, seq, last = sg.data, sg.seq, sg.flags
            for off in range(0, len(data), gso):
                piece = Seg(iph, iph[hl:total])
                piece.seq, piece.data = u32(seq + off), data[off:off + gso]
                if off + gso < len(data):
                    piece.flags = last & ~(FIN | PSH)
                self.pending.append(piece)
        else:
            self.pending.append(sg)

    def take(self, port, timeout, pred=lambda s: True):
        end = time.monotonic() + timeout
        while True:
            for i, sg in enumerate(self.pending):
                if sg.dport == port and pred(sg):
                    return self.pending.pop(i)
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.poll(min(left, 0.05))

    def resolve(self):
        for _ in range(50):
            if self.peer_mac:
                return
            if V6:  # RFC 4861 7.2.2: to the solicited-node group, our link address in it
                grp, mac = sol_node(self.peer_ip)
                self.icmp6(ND_NS, 0, bytes(4) + a6(self.peer_ip) + bytes([1, 1]) + PROBE_MAC,
                           dst=grp, dst_mac=mac, hlim=255)
            else:
                self.arp(1, b"\0" * 6, self.peer_ip)
            self.poll(0.1)
        raise SystemExit(f"{self.name}: no {'NA' if V6 else 'ARP'} answer from {self.peer_ip}")


# ---- connections driven by hand --------------------------------------------

TS0 = 1000000  # our first TSval; TSecr is shown relative to it


def ts_opt(val, ecr=0):
    return b"\x01\x01\x08\x0a" + struct.pack("!II", u32(val), u32(ecr))


def sack_opt(blocks):
    return b"\x01\x01\x05" + bytes([2 + 8 * len(blocks)]) + b"".join(
        struct.pack("!II", u32(a), u32(b)) for a, b in blocks)


class Step(Exception):
    """A scenario could not go on (e.g. no SYN-ACK): recorded as its result."""


class Conn:
    def __init__(self, t, dport=ECHO):
        self.t, self.dport = t, dport
        self.sport = t.next_port()
        self.iss = random.getrandbits(32)
        self.snd_nxt = u32(self.iss + 1)
        self.irs = None
        self.rcv_nxt = 0
        self.ts = None  # our TSval when timestamps are on
        self.ts_recent = 0
        self.sent_ack = None  # the ACK field of our last segment
        self.got = b""  # the target's text, in order, as absorb() took it

    def tsval(self, bump=1):
        self.ts += bump
        return self.ts

    def opts(self, extra=b""):
        return (ts_opt(self.tsval(), self.ts_recent) if self.ts is not None else b"") + extra

    def send(self, flags=ACK, seq=None, ack=None, data=b"", win=65535, opts=None, **kw):
        seq = self.snd_nxt if seq is None else seq
        ack = self.rcv_nxt if ack is None else ack
        self.sent_ack = u32(ack)
        self.t.send_tcp(self.sport, self.dport, seq, ack, flags, win=win,
                        opts=self.opts() if opts is None else opts, data=data, **kw)

    def syn(self, opts=MSS1460, flags=SYN, win=65535, data=b"", **kw):
        self.sent_ack = 0
        self.t.send_tcp(self.sport, self.dport, self.iss, 0, flags, win=win, opts=opts, data=data, **kw)
        sa = self.t.take(self.sport, 3.0, lambda s: s.flags & (SYN | RST))
        if sa is not None and sa.flags & SYN:
            self.irs = sa.seq
            self.rcv_nxt = u32(sa.seq + 1)
            if "ts" in sa.opts:
                self.ts_recent = sa.opts["ts"][0]
        return sa

    def open(self, ts=False, sack=False, extra=b""):
        opts = MSS1460 + (SACKOK if sack else b"") + (ts_opt(TS0) if ts else b"") + extra
        self.ts = TS0 if ts else None
        sa = self.syn(opts)
        if sa is None or sa.flags & (SYN | ACK) != SYN | ACK:
            raise Step(f"no SYN-ACK ({self.norm(sa)})")
        if ts and "ts" not in sa.opts:
            self.ts = None
        self.send(ACK)
        return sa

    def write(self, data, flags=ACK | PSH, **kw):
        self.send(flags, data=data, **kw)
        self.snd_nxt = u32(self.snd_nxt + len(data) + (1 if flags & FIN else 0))

    def take(self, timeout=1.5, pred=lambda s: True):
        return self.t.take(self.sport, timeout, pred)

    def absorb(self, sg):
        """Takes the target's next in-order segment into RCV.NXT."""
        if sg is None:
            return
        if "ts" in sg.opts:
            self.ts_recent = sg.opts["ts"][0]
        end = u32(sg.seq + len(sg.data) + (1 if sg.flags & FIN else 0))
        if sg.seq == self.rcv_nxt or (len(sg.data) and u32(self.rcv_nxt - sg.seq) < len(sg.data)):
            self.got += sg.data[u32(self.rcv_nxt - sg.seq):]
            self.rcv_nxt = end

    def read_until_fin(self, timeout=4.0, ack=True):
        """Reads (and acknowledges unless told not to) up to the target's FIN."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            sg = self.take(end - time.monotonic())
            if sg is None:
                break
            self.absorb(sg)
            if sg.flags & RST:
                return sg
            if sg.flags & FIN:
                if ack:
                    self.send(ACK)
                return sg
            if sg.data and ack:
                self.send(ACK)
        return None

    def wait_ack(self, want, timeout=2.0):
        return self.take(timeout, lambda s: s.flags & ACK and s.ack == u32(want))

    def quiet(self, secs=0.6):
        self.t.poll(secs)
        self.t.pending = [s for s in self.t.pending if s.dport != self.sport]

    def abort(self):
        self.t.send_tcp(self.sport, self.dport, self.snd_nxt, self.rcv_nxt, RST | ACK)

    def rel_seq(self, x):
        return u32(x - self.irs) if self.irs is not None else x

    def rel_ack(self, x):
        d = u32(x - self.iss)
        return d - (1 << 32) if d >= 1 << 31 else d

    def norm(self, sg, show_ecr=False, show_sack=True, show_len=True):
        """A segment in the form compared across targets."""
        if sg is None:
            return "-"
        f = "".join(c for c, b in (("S", SYN), ("F", FIN), ("R", RST), ("U", URG), ("E", ECE), ("W", CWR))
                    if sg.flags & b)
        f += "." if sg.flags & ACK else ""
        out = [f]
        if sg.flags & RST and sg.seq == 0:
            out.append("seq=0")
        elif self.irs is None:
            # Not synchronised: an RST's SEQ is 0 or our SEG.ACK.
            if not sg.flags & SYN:
                out.append("seq=0" if sg.seq == 0 else "seq=SEG.ACK" if sg.seq == self.sent_ack
                           else f"seq=?{sg.seq}")
        elif sg.flags & SYN and sg.seq != self.irs:
            # A new incarnation's ISS, against the old one's SND.NXT.
            out.append("seq=newISS" + (">" if 0 < u32(sg.seq - self.rcv_nxt) < 1 << 31 else "<=") + "oldNXT")
        else:
            d = u32(sg.seq - self.rcv_nxt)
            d = d - (1 << 32) if d >= 1 << 31 else d
            # Near RCV.NXT: relative to it (the stacks' replies differ in length).
            out.append(f"seq=nxt{d:+d}".replace("+0", "") if abs(d) <= 2 and self.rcv_nxt != u32(self.irs + 1)
                       else f"seq={self.rel_seq(sg.seq)}")
        if sg.flags & ACK:
            out.append(f"ack={self.rel_ack(sg.ack)}")
        if sg.data and show_len:
            out.append(f"len={len(sg.data)}")
        if sg.win == 0:
            out.append("win=0")
        kinds = [k for k in sg.kinds if k != 1]
        names = {2: "mss", 3: "ws", 4: "sackok", 5: "sack", 8: "ts"}
        if kinds:
            out.append("<" + ",".join(names.get(k, str(k)) for k in kinds) + ">")
        if sg.flags & SYN and "mss" in sg.opts:
            out.append(f"mss={sg.opts['mss']}")
        if sg.flags & SYN and "ws" in sg.opts:
            out.append("ws>0" if sg.opts["ws"] else "ws=0")
        if show_sack and "sack" in sg.opts:
            out.append("sack=" + ",".join(f"{self.rel_ack(a)}-{self.rel_ack(b)}" for a, b in sg.opts["sack"]))
        if show_ecr and "ts" in sg.opts:
            out.append(f"ecr={sg.opts['ts'][1] - TS0}")
        return " ".join(x for x in out if x)


# ---- scenarios -------------------------------------------------------------

SCENARIOS = []


def scenario(note="", only6=False):
    def wrap(fn):
        SCENARIOS.append((fn.__name__, fn, note, only6))
        return fn
    return wrap


class Run:
    """One scenario at one target: observations and requirements."""

    def __init__(self, t):
        self.t = t
        self.obs = []  # (step, normalised answer)
        self.reqs = []  # (step, clause, met, what)

    def see(self, step, text):
        self.obs.append((step, text))

    def req(self, step, cond, clause, what):
        self.reqs.append((step, clause, bool(cond), what))


def gap(secs=0.55):
    """Both stacks limit ACKs to unacceptable segments to one per 0.5 s per
    flow (Linux's tcp_invalid_ratelimit, Oasis's the same): wait them out."""
    time.sleep(secs)


@scenario("RFC 5681 4.2 SHOULD: an immediate ACK for a segment above a hole and for the "
          "one that fills it; RFC 2018 4: the first block holds the newest segment")
def ooo_acks_and_sack_order(r):
    c = Conn(r.t, DISCARD)
    c.open(sack=True)
    base = c.snd_nxt
    for i, off in enumerate((300, 100)):  # two islands, newest second
        c.send(ACK | PSH, seq=base + off, data=b"x" * 50)
        a = c.take(1.5, lambda s: s.flags & ACK)
        r.see(f"island +{off}", c.norm(a))
        r.req(f"island +{off}", a is not None and a.ack == base and "sack" in a.opts and
              a.opts["sack"][0] == (u32(base + off), u32(base + off + 50)),
              "RFC 5681 4.2 / RFC 2018 4", "immediate duplicate ACK, first SACK block the newest island")
    c.send(ACK | PSH, seq=base, data=b"y" * 100)  # fills the first hole up to +100..+150
    a = c.take(1.5, lambda s: s.flags & ACK)
    r.see("fill the first hole", c.norm(a))
    r.req("fill the first hole", a is not None and a.ack == u32(base + 150) and
          a.opts.get("sack", [None])[0] == (u32(base + 300), u32(base + 350)),
          "RFC 5681 4.2 / RFC 2018 4", "ACK up to the next hole at once, the island left in SACK")
    c.abort()


@scenario("RFC 2018 4: as many blocks as fit (4 without timestamps, 3 with), the newest first, "
          "then the most recently reported ones")
def sack_many_islands(r):
    for ts in (False, True):
        c = Conn(r.t, DISCARD)
        c.open(sack=True, ts=ts)
        base = c.snd_nxt
        a = None
        for off in (100, 300, 500, 700, 900):
            c.send(ACK | PSH, seq=base + off, data=b"i" * 50)
            a = c.take(1.5, lambda s: s.flags & ACK)
        what = "5 islands" + (" + TS" if c.ts is not None else "")
        r.see(what, c.norm(a))
        blocks = a.opts.get("sack", []) if a is not None else []
        want = 3 if c.ts is not None else 4
        r.req(what, len(blocks) == want and blocks[0] == (u32(base + 900), u32(base + 950)),
              "RFC 2018 4 (SHOULD: as many blocks as possible; MUST: the first the newest)",
              f"{want} blocks, the first the newest island")
        r.req(what, [b[0] for b in blocks[1:]] == [u32(base + o) for o in (700, 500, 300)[:want - 1]],
              "RFC 2018 4 (SHOULD: repeat the most recently reported)", "then the islands newest to oldest")
        c.abort()


@scenario("RFC 2883 4: a duplicate inside an out-of-order block: the D-SACK block first, then "
          "the block that holds it")
def dsack_inside_island(r):
    c = Conn(r.t, DISCARD)
    c.open(sack=True)
    base = c.snd_nxt
    c.send(ACK | PSH, seq=base + 100, data=b"j" * 100)
    c.take(1.5, lambda s: s.flags & ACK)
    gap()
    c.send(ACK | PSH, seq=base + 120, data=b"j" * 20)  # inside the island
    a = c.take(1.5, lambda s: s.flags & ACK)
    r.see("dup inside island", c.norm(a))
    blocks = a.opts.get("sack", []) if a is not None else []
    r.req("dup inside island", blocks and blocks[0] == (u32(base + 120), u32(base + 140)),
          "RFC 2883 4", "D-SACK block first")
    r.req("dup inside island", len(blocks) > 1 and blocks[1] == (u32(base + 100), u32(base + 200)),
          "RFC 2883 4 (should)", "the second block the island that holds the duplicate")
    c.abort()


def ip_fields_text(sg):
    """DF, TTL and TOS; over IPv6 the hop limit and traffic class (no DF:
    only the source fragments, RFC 8200 5)."""
    if sg is None:
        return "-"
    return f"hlim={sg.ttl} tc={sg.tos}" if V6 else f"df={sg.df} ttl={sg.ttl} tos={sg.tos}"


@scenario("IP header of the SYN-ACK and of data: TTL (IPv6: hop limit) above 0, Not-ECT without "
          "ECN negotiated; DF and TOS for information")
def ip_fields(r):
    c = Conn(r.t, ECHO)
    sa = c.syn()
    if sa is None:
        raise Step("no SYN-ACK")
    r.see("SYN-ACK", ip_fields_text(sa))
    hop = "RFC 8200 3 (Hop Limit; 0 is discarded)" if V6 else "RFC 1122 3.2.1.7 (TTL > 0)"
    r.req("SYN-ACK", sa.ttl > 0, hop, "a TTL above 0")
    r.req("SYN-ACK", sa.tos & 3 == 0, "RFC 3168 6.1.1 (MUST NOT set ECT on a SYN-ACK)", "Not-ECT")
    c.send(ACK)
    c.write(b"ip")
    d = c.take(1.5, lambda s: s.data)
    r.see("data", ip_fields_text(d))
    r.req("data", d is not None and d.ttl > 0 and d.tos & 3 == 0, hop + " / RFC 3168 6.1.1",
          "the echo, a TTL above 0, Not-ECT (ECN not negotiated)")
    if V6 and d is not None:
        # RFC 6437 3 RECOMMENDS one label for all the packets of a flow; zero
        # (2) is "not labelled"; a label that changed would split the flow.
        same = sa.flow == d.flow or 0 in (sa.flow, d.flow)
        r.see("flow label", "zero" if sa.flow == d.flow == 0 else "constant" if same else "changes")
        r.req("flow label", same, "RFC 6437 2, 3 (one label for the packets of a flow)",
              "the SYN-ACK and the data carry the same flow label (or zero)")
    c.abort()


@scenario("RFC 2018 2: no SACK option on a connection whose SYN did not offer SACK-permitted")
def ooo_without_sack(r):
    c = Conn(r.t, DISCARD)
    c.open(sack=False)
    base = c.snd_nxt
    c.send(ACK | PSH, seq=base + 100, data=b"x" * 50)
    a = c.take(1.5, lambda s: s.flags & ACK)
    r.see("island +100", c.norm(a))
    r.req("island +100", a is not None and a.ack == base and 5 not in a.kinds,
          "RFC 2018 2 / RFC 5681 4.2", "an immediate duplicate ACK without SACK blocks")
    c.abort()


@scenario("RFC 2883: D-SACK is optional (SHOULD in conformance.md's row, Linux does it)")
def dsack_duplicate(r):
    c = Conn(r.t, DISCARD)
    c.open(sack=True)
    base = c.snd_nxt
    c.write(b"a" * 100)
    c.wait_ack(base + 100)
    gap()
    c.send(ACK | PSH, seq=base, data=b"a" * 100)  # the same again
    a = c.take(1.5, lambda s: s.flags & ACK)
    r.see("duplicate segment", c.norm(a))
    r.req("duplicate segment", a is not None and a.ack == u32(base + 100),
          "RFC 9293 3.10.7.4 first", "an old duplicate is acknowledged")
    r.req("duplicate segment", a is not None and a.opts.get("sack", [None])[0] == (u32(base), u32(base + 100)),
          "RFC 2883 4", "D-SACK: the duplicate's range as the first block")
    c.abort()


@scenario("RFC 7323 4.3: TS.Recent only from a segment covering Last.ACK.sent; "
          "a hole filled echoes the filling segment's TSval")
def ts_echo_reordering(r):
    c = Conn(r.t, DISCARD)
    c.open(ts=True)
    if c.ts is None:
        raise Step("no timestamps in the SYN-ACK")
    base = c.snd_nxt
    c.send(ACK | PSH, seq=base + 100, data=b"c" * 100, opts=ts_opt(TS0 + 300, c.ts_recent))  # above a hole
    a = c.take(1.5, lambda s: s.flags & ACK)
    r.see("ooo TSval +300", c.norm(a, show_ecr=True))
    r.req("ooo TSval +300", a is not None and "ts" in a.opts and a.opts["ts"][1] == TS0 + 1,
          "RFC 7323 4.3 (2)", "the ACK echoes the last in-order TSval (+1), not the out-of-order one")
    c.send(ACK | PSH, seq=base, data=b"b" * 100, opts=ts_opt(TS0 + 200, c.ts_recent))  # fills it
    a = c.take(1.5, lambda s: s.flags & ACK and s.ack == u32(base + 200))
    r.see("fill TSval +200", c.norm(a, show_ecr=True))
    r.req("fill TSval +200", a is not None and "ts" in a.opts and a.opts["ts"][1] == TS0 + 200,
          "RFC 7323 4.3 (3)", "the ACK echoes the TSval of the segment that filled the hole")
    c.abort()


@scenario("RFC 7323 4.3 (1)/(2): with a delayed ACK the echo is the earliest unacknowledged segment's TSval")
def ts_echo_delayed_ack(r):
    c = Conn(r.t, DISCARD)
    c.open(ts=True)
    if c.ts is None:
        raise Step("no timestamps in the SYN-ACK")
    base = c.snd_nxt
    # Warm up past Linux's quick-ACK start: a few round trips of data.
    for i in range(16):
        c.write(b"w" * 10, opts=ts_opt(TS0 + 10 + i, c.ts_recent))
        c.wait_ack(c.snd_nxt, 1.0)
    c.quiet(0.3)
    seq = c.snd_nxt
    c.send(ACK | PSH, seq=seq, data=b"p" * 10, opts=ts_opt(TS0 + 500, c.ts_recent))
    c.send(ACK | PSH, seq=seq + 10, data=b"q" * 10, opts=ts_opt(TS0 + 600, c.ts_recent))
    c.snd_nxt = u32(seq + 20)
    got = []
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        a = c.take(end - time.monotonic(), lambda s: s.flags & ACK)
        if a is None:
            break
        got.append(a)
        if a.ack == c.snd_nxt:
            break
    last = got[-1] if got else None
    r.see("two small segments", " ; ".join(c.norm(a, show_ecr=True) for a in got) or "-")
    one = [a for a in got if a.ack == c.snd_nxt]
    r.req("two small segments", one and "ts" in one[0].opts and
          one[0].opts["ts"][1] in (TS0 + 500, TS0 + 600) and
          (len(got) == 2 or one[0].opts["ts"][1] == TS0 + 500),
          "RFC 7323 4.3 (1)", "one ACK for both echoes the first's TSval (+500); an ACK each echoes its own")
    del last
    c.abort()


@scenario("RFC 7323 5.2: RSTs are not PAWS-checked; an exact RST with an old TSval resets")
def paws_rst_old_ts(r):
    c = Conn(r.t, ECHO)
    c.open(ts=True)
    c.send(RST | ACK, opts=ts_opt(TS0 - 100000, c.ts_recent))
    gap(0.2)
    c.write(b"?")
    a = c.take(1.5)
    r.see("data after exact RST, old TSval", c.norm(a))
    r.req("data after exact RST, old TSval", a is not None and a.flags & RST,
          "RFC 7323 5.2 / RFC 9293 3.10.7.4 second", "the RST ended the connection: data now draws an RST")


@scenario("RFC 5961 4 / RFC 7323 5.3: a SYN with an old TSval in ESTABLISHED: challenge ACK, no reset")
def paws_syn_old_ts(r):
    c = Conn(r.t, ECHO)
    c.open(ts=True)
    c.send(SYN, seq=c.snd_nxt + 1000, ack=0, opts=MSS1460 + ts_opt(TS0 - 100000))
    a = c.take(1.5)
    r.see("SYN old TSval", c.norm(a))
    r.req("SYN old TSval", a is None or (not a.flags & RST and a.flags & ACK and a.ack == c.snd_nxt),
          "RFC 5961 4.2", "ACK <SEQ=SND.NXT><ACK=RCV.NXT> or nothing (PAWS drop), never a reset")
    gap()
    c.write(b"alive")
    a = c.take(1.5, lambda s: s.data or s.flags & RST)
    r.see("echo after", c.norm(a))
    r.req("echo after", a is not None and a.data == b"alive", "RFC 5961 4", "the connection lives on")
    c.abort()


@scenario("RFC 7323 3.2: a non-RST segment without TSopt SHOULD be dropped; Oasis takes it by "
          "default like Linux (conformance.md row 7323 3.2: justified, cfg.tcp.strict_timestamps drops)")
def ts_missing_on_data(r):
    c = Conn(r.t, ECHO)
    c.open(ts=True)
    if c.ts is None:
        raise Step("no timestamps in the SYN-ACK")
    c.write(b"nots", opts=b"")
    a = c.take(1.5, lambda s: s.data or s.flags & RST)
    r.see("data without TSopt", c.norm(a))
    r.req("data without TSopt", a is None or (not a.flags & RST and a.data == b"nots" and 8 in a.kinds),
          "RFC 7323 3.2 (SHOULD drop; MUST NOT abort) / 3.2 (TSopt on every segment once negotiated)",
          "dropped, or taken and echoed with a TSopt; never a reset")
    if a is None:
        c.snd_nxt = u32(c.snd_nxt - 4)  # dropped: these bytes go in its place
    c.absorb(a)  # taken: its echo acknowledged by what follows
    c.write(b"ts-on")
    end, got = time.monotonic() + 1.5, b""
    while not got.endswith(b"ts-on") and time.monotonic() < end:
        sg = c.take(end - time.monotonic(), lambda s: s.seq == c.rcv_nxt and s.data or s.flags & RST)
        if sg is None or sg.flags & RST:
            break
        c.absorb(sg)
        got += sg.data
    r.see("then data with TSopt", repr(got))
    r.req("then data with TSopt", got.endswith(b"ts-on"), "RFC 7323 3.2 (MUST NOT abort)",
          "the connection lives on")
    c.abort()


@scenario("RFC 3168 6.1.1: only ECE+CWR in a SYN is ECN-setup; the SYN-ACK then has ECE, not CWR")
def ecn_setup_combos(r):
    for what, fl in (("SYN ECE+CWR", SYN | ECE | CWR), ("SYN ECE", SYN | ECE), ("SYN CWR", SYN | CWR)):
        c = Conn(r.t, ECHO)
        sa = c.syn(flags=fl)
        r.see(what, c.norm(sa) + (f" tos={sa.tos & 3}" if sa is not None else ""))
        setup = fl == SYN | ECE | CWR
        r.req(what, sa is not None and sa.flags & (SYN | ACK) == SYN | ACK and not sa.flags & CWR and
              (setup or not sa.flags & ECE) and sa.tos & 3 == 0,
              "RFC 3168 6.1.1", "SYN-ACK: no CWR, ECE only to an ECN-setup SYN, Not-ECT")
        if sa is not None:
            c.abort()


@scenario("RFC 3168 6.1.3: a CE mark is echoed with ECE on ACKs until a segment with CWR arrives")
def ecn_ce_echo(r):
    c = Conn(r.t, DISCARD)
    sa = c.syn(flags=SYN | ECE | CWR)
    if sa is None or sa.flags & (SYN | ACK | ECE) != SYN | ACK | ECE:
        raise Step(f"no ECN-setup SYN-ACK ({c.norm(sa)})")
    c.send(ACK)
    c.write(b"m" * 10, tos=2)  # ECT(0)
    a = c.wait_ack(c.snd_nxt)
    r.see("ECT(0) data", c.norm(a))
    r.req("ECT(0) data", a is not None and not a.flags & ECE, "RFC 3168 6.1.3", "no ECE without a CE mark")
    c.write(b"n" * 10, tos=3)  # CE
    a = c.wait_ack(c.snd_nxt)
    r.see("CE data", c.norm(a))
    r.req("CE data", a is not None and a.flags & ECE, "RFC 3168 6.1.3 (MUST)", "the ACK sets ECE")
    c.write(b"o" * 10, tos=2)
    a = c.wait_ack(c.snd_nxt)
    r.see("ECT(0) data after", c.norm(a))
    r.req("ECT(0) data after", a is not None and a.flags & ECE, "RFC 3168 6.1.3 (MUST)",
          "ECE on every ACK until CWR")
    c.write(b"p" * 10, flags=ACK | PSH | CWR, tos=2)
    a = c.wait_ack(c.snd_nxt)
    r.see("CWR data", c.norm(a))
    r.req("CWR data", a is not None and not a.flags & ECE, "RFC 3168 6.1.3", "CWR stops the ECE")
    c.abort()


@scenario("RFC 7323 2.2/3.2, RFC 2018 2: an option in the SYN-ACK only when the SYN had it")
def synack_option_sets(r):
    sets = (("none", b""), ("mss", MSS1460), ("mss,sackok", MSS1460 + SACKOK),
            ("mss,ts", MSS1460 + ts_opt(TS0)), ("mss,ws0", MSS1460 + b"\x01\x03\x03\x00"),
            ("all", MSS1460 + SACKOK + ts_opt(TS0) + b"\x01\x03\x03\x07"))
    for what, opts in sets:
        c = Conn(r.t, ECHO)
        sa = c.syn(opts)
        r.see(f"SYN <{what}>", c.norm(sa))
        ok = sa is not None and sa.flags & SYN
        if ok:
            ok = ("ws" in sa.opts) == (b"\x03\x03" in opts) and \
                 ("ts" in sa.opts) == (b"\x08\x0a" in opts) and \
                 (4 in sa.kinds) == (SACKOK in opts) and "mss" in sa.opts
        r.req(f"SYN <{what}>", ok, "RFC 7323 2.2/3.2, RFC 2018 2, RFC 9293 3.7.1",
              "WS, TS, SACK-permitted only if offered; MSS always")
        if ok and "ts" in sa.opts:
            r.req(f"SYN <{what}>", sa.opts["ts"][1] == TS0, "RFC 7323 3.2 (TSecr of a SYN-ACK)",
                  "TSecr echoes the SYN's TSval")
        if ok:
            r.req(f"SYN <{what}>", sa.opts["mss"] <= link_mss(), "RFC 9293 3.7.1 / RFC 6691 2",
                  f"MSS at most the MTU less the fixed IP and TCP headers ({link_mss()})")
        if sa is not None:
            c.abort()


@scenario("RFC 9293 3.7.1 / RFC 1122 4.2.2.6: no MSS option means 536 (IPv6: 1220); Linux clamps a tiny MSS")
def mss_edges(r):
    for what, opts in (("no MSS", b""), ("MSS 1460", MSS1460), ("MSS 536", b"\x02\x04\x02\x18"),
                       ("MSS 100", b"\x02\x04\x00\x64"),
                       ("MSS 100 + TS", b"\x02\x04\x00\x64" + ts_opt(TS0)),
                       ("MSS 1", b"\x02\x04\x00\x01")):
        c = Conn(r.t, HTTP)
        sa = c.syn(opts)
        if sa is None or not sa.flags & SYN:
            r.see(what, c.norm(sa))
            continue
        if "ts" in sa.opts:
            c.ts = TS0
        c.send(ACK)
        c.write(b"GET /bytes/3000 HTTP/1.0\r\n\r\n")
        sizes = []
        end = time.monotonic() + 3
        while time.monotonic() < end:
            sg = c.take(end - time.monotonic())
            if sg is None:
                break
            c.absorb(sg)
            if sg.data:
                sizes.append(len(sg.data))
                c.send(ACK)
            if sg.flags & (FIN | RST):
                break
        r.see(what, f"largest data {max(sizes) if sizes else 0}")
        # RFC 9293 3.7.1: Eff.snd.MSS = min(SendMSS+20, MMS_S) - TCPhdrsize, the
        # header with its options: with timestamps, 12 bytes less (RFC 6691).
        # MSS 1: both stacks send more (Linux's floor 48, Oasis's 64) rather
        # than one-byte segments: a deliberate guard against a peer making
        # them spend a segment per byte (information only).
        # Without the option: 536 over IPv4, 1220 (1280 - 60) over IPv6 (MUST-15).
        # MSS 1460: the link's own limit, MTU - 60 over IPv6 (1440, not IPv4's 1460).
        limit = {"no MSS": default_mss(), "MSS 1460": link_mss(), "MSS 536": 536, "MSS 100": 100,
                 "MSS 100 + TS": 88}.get(what)
        if limit:
            r.req(what, sizes and max(sizes) <= limit, "RFC 9293 3.7.1 (MUST-15/16 Eff.snd.MSS)",
                  f"no segment above {limit} bytes of data")
        if what == "no MSS":
            r.req(what, sizes and max(sizes) == limit, "RFC 9293 3.7.1 (MUST-15: assume the default)",
                  f"full segments of {limit} bytes (the family's default, not another's)")
        c.abort()


@scenario("RFC 9293 3.10.7.4 / RFC 5961 4: SYN-RECEIVED and a duplicate or different SYN")
def syn_received_syns(r):
    c = Conn(r.t, ECHO)
    sa = c.syn()
    if sa is None or not sa.flags & SYN:
        raise Step("no SYN-ACK")
    c.t.send_tcp(c.sport, c.dport, c.iss, 0, SYN, opts=MSS1460)  # the SYN again
    a = c.take(1.5)
    r.see("same SYN again", c.norm(a))
    r.req("same SYN again", a is None or (not a.flags & RST and a.flags & ACK and a.ack == u32(c.iss + 1)),
          "RFC 9293 3.10.7.4 first (unacceptable: ACK) / 3.8.1 retransmission",
          "SYN-ACK again or an ACK, no reset")
    gap()
    c.t.send_tcp(c.sport, c.dport, c.iss + 5000, 0, SYN, opts=MSS1460)  # another ISN
    a = c.take(1.5)
    r.see("SYN, other ISN", c.norm(a))
    r.req("SYN, other ISN", a is None or not (a.flags & SYN and a.ack == u32(c.iss + 5001)),
          "RFC 5961 4.2", "not taken as a new connection")
    c.send(ACK, seq=c.iss + 1)
    c.snd_nxt = u32(c.iss + 1)
    gap()
    c.write(b"hi")
    a = c.take(1.5, lambda s: s.data or s.flags & RST)
    r.see("then complete, echo", c.norm(a))
    c.abort()


@scenario("RFC 9293 3.10.7.4 first (SYN-RECEIVED): an RST outside the window is dropped")
def syn_received_rst_out_of_window(r):
    c = Conn(r.t, ECHO)
    sa = c.syn()
    if sa is None or not sa.flags & SYN:
        raise Step("no SYN-ACK")
    c.t.send_tcp(c.sport, c.dport, c.iss + 1 + 10000000, 0, RST)
    a = c.take(0.8)
    r.see("RST far out of window", c.norm(a))
    c.send(ACK, seq=c.iss + 1)
    c.snd_nxt = u32(c.iss + 1)
    c.write(b"alive")
    a = c.take(1.5, lambda s: s.data or s.flags & RST)
    r.see("then complete, echo", c.norm(a))
    r.req("then complete, echo", a is not None and a.data == b"alive",
          "RFC 9293 3.10.7.4 first", "the out-of-window RST was dropped; the connection opens")
    c.abort()


@scenario("RFC 9293 3.10.7.2 (LISTEN, fourth: other text in a SYN queued for processing once "
          "ESTABLISHED) / 3.10.7.4 seventh: data in a SYN is acknowledged and delivered once, or not "
          "acknowledged and taken when sent again")
def syn_with_data(r):
    c = Conn(r.t, ECHO)
    sa = c.syn(data=b"early")
    if sa is None or sa.flags & (SYN | ACK) != SYN | ACK:
        raise Step(f"no SYN-ACK ({c.norm(sa)})")
    took = sa.ack == u32(c.iss + 6)
    r.see("SYN with 5 bytes", c.norm(sa))
    r.req("SYN with 5 bytes", (took or sa.ack == u32(c.iss + 1)) and not sa.data,
          "RFC 9293 3.10.7.2 fourth", "the SYN acknowledged, the text with it or not at all; no echo yet")
    c.snd_nxt = u32(c.iss + (6 if took else 1))
    if took:
        c.send(ACK)
    else:
        c.write(b"early")
    end = time.monotonic() + 2
    while len(c.got) < 5 and time.monotonic() < end:
        sg = c.take(end - time.monotonic(), lambda s: s.data or s.flags & RST)
        if sg is None or sg.flags & RST:
            break
        c.absorb(sg)
        c.send(ACK)
    c.quiet(0.3)  # a second copy, if any, would come now
    r.see("echo", repr(c.got) + (" (taken from the SYN)" if took else " (sent again)"))
    r.req("echo", c.got == b"early", "RFC 9293 3.10.7.2 fourth / 3.10.7.4 seventh",
          "the text delivered once, once ESTABLISHED")
    c.abort()


def fin_wait_2(r, c):
    """The target closes first (HTTP/1.0); we acknowledge its FIN only:
    the target is in FIN-WAIT-2."""
    c.open()
    c.write(b"GET /bytes/10 HTTP/1.0\r\n\r\n")
    fin = c.read_until_fin()
    if fin is None or not fin.flags & FIN:
        raise Step(f"no FIN from the server ({c.norm(fin)})")
    c.quiet(0.3)


@scenario("RFC 9293 3.10.4: after CLOSE the user may go on receiving until the peer closes; "
          "RFC 1122 4.2.2.13's RST (SHOULD) is for a half-duplex close, a MAY that Oasis does not "
          "take (oasis_tcp_close, include/oasis/tcp.h: reading goes on). Linux's close() is "
          "half-duplex: it resets")
def fin_wait_2_data(r):
    c = Conn(r.t, HTTP)
    fin_wait_2(r, c)
    c.write(b"more")
    a = c.take(1.5)
    r.see("data in FIN-WAIT-2", c.norm(a))
    r.req("data in FIN-WAIT-2", a is not None and (a.flags & RST or a.ack == c.snd_nxt),
          "RFC 9293 3.10.7.4 seventh (FIN-WAIT-2: process the text) / RFC 1122 4.2.2.13",
          "taken and acknowledged (full-duplex close) or reset (half-duplex close)")
    c.abort()


@scenario("RFC 5961 3/4 in FIN-WAIT-2: SYN and in-window RST draw a challenge ACK; old data an ACK")
def fin_wait_2_unacceptable(r):
    c = Conn(r.t, HTTP)
    fin_wait_2(r, c)
    c.send(SYN, seq=c.snd_nxt + 100, ack=0, opts=MSS1460)
    a = c.take(1.5)
    r.see("SYN", c.norm(a))
    r.req("SYN", a is not None and a.flags & ACK and not a.flags & RST and a.ack == c.snd_nxt,
          "RFC 5961 4.2", "challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>")
    gap()
    c.send(RST, seq=c.snd_nxt + 10)
    a = c.take(1.5)
    r.see("RST in window, not exact", c.norm(a))
    r.req("RST in window, not exact", a is not None and a.flags & ACK and not a.flags & RST,
          "RFC 5961 3.2", "challenge ACK")
    gap()
    c.send(ACK | PSH, seq=c.snd_nxt - 20, data=b"o" * 10)
    a = c.take(1.5)
    r.see("old data", c.norm(a))
    r.req("old data", a is not None and a.flags & ACK and a.ack == c.snd_nxt,
          "RFC 9293 3.10.7.4 first", "ACK <SEQ=SND.NXT><ACK=RCV.NXT>")
    gap()
    c.send(RST, seq=c.snd_nxt)
    gap(0.2)
    c.send(ACK | PSH, seq=c.snd_nxt, data=b"z")
    a = c.take(1.5)
    r.see("after exact RST: data", c.norm(a))
    r.req("after exact RST: data", a is not None and a.flags & RST, "RFC 9293 3.10.7.4 second",
          "the exact RST closed it: RST")


def fin_wait_1(r, c):
    """The target closes first (HTTP/1.0): its data acknowledged, its FIN not:
    the target is in FIN-WAIT-1, retransmitting the FIN alone."""
    c.open()
    c.write(b"GET /bytes/10 HTTP/1.0\r\n\r\n")
    end, fin = time.monotonic() + 4, None
    while time.monotonic() < end and fin is None:
        sg = c.take(end - time.monotonic())
        if sg is None:
            break
        c.absorb(sg)
        if sg.flags & FIN:
            fin = sg
        elif sg.data:
            c.send(ACK)
    if fin is None:
        raise Step("no FIN from the server")
    fin_seq = u32(fin.seq + len(fin.data))
    c.send(ACK, ack=fin_seq)  # the data, not the FIN
    return fin_seq


@scenario("RFC 9293 3.10.7.4 (FIN-WAIT-1): SYN challenged, an ACK of unsent data answered and "
          "dropped, the FIN retransmitted alone; its ACK then moves on to FIN-WAIT-2")
def fin_wait_1_segments(r):
    c = Conn(r.t, HTTP)
    fin_seq = fin_wait_1(r, c)
    not_fin = lambda s: not s.flags & FIN
    c.send(SYN, seq=c.snd_nxt + 100, ack=0, opts=MSS1460)
    a = c.take(1.5, not_fin)
    r.see("SYN", c.norm(a))
    r.req("SYN", a is not None and a.flags & ACK and not a.flags & RST and a.ack == c.snd_nxt,
          "RFC 5961 4.2", "challenge ACK")
    gap()
    c.send(ACK, ack=fin_seq + 1000)  # acknowledges what was never sent
    a = c.take(1.5, not_fin)
    r.see("ACK of unsent data", c.norm(a))
    r.req("ACK of unsent data", a is not None and a.flags & ACK and not a.flags & RST,
          "RFC 9293 3.10.7.4 fifth (SEG.ACK > SND.NXT: send an ACK, drop)", "ACK, no reset")
    rt = c.take(5.0, lambda s: s.flags & FIN)
    r.see("FIN retransmitted", c.norm(rt))
    r.req("FIN retransmitted", rt is not None and rt.seq == fin_seq and not rt.data,
          "RFC 9293 3.8.1", "the FIN alone is sent again (the bad ACK did not acknowledge it)")
    c.send(ACK)
    gap(0.3)
    c.t.pending = [x for x in c.t.pending if x.dport != c.sport]
    c.write(b"", flags=ACK | FIN)
    a = c.wait_ack(c.snd_nxt)
    r.see("our FIN (to TIME-WAIT)", c.norm(a))
    r.req("our FIN (to TIME-WAIT)", a is not None and not a.flags & RST, "RFC 9293 3.10.7.4 eighth",
          "FIN-WAIT-2 takes our FIN: ACK")


@scenario("RFC 5961 4.2 / RFC 9293 3.10.7.4: a stray SYN,ACK on an established connection "
          "(in the window, and the handshake's own again) draws an ACK, never a reset")
def stray_synack_established(r):
    c = Conn(r.t, ECHO)
    c.open()
    c.send(SYN | ACK, seq=c.snd_nxt + 50, opts=MSS1460)
    a = c.take(1.5)
    r.see("SYN,ACK in window", c.norm(a))
    r.req("SYN,ACK in window", a is not None and a.flags & ACK and not a.flags & (RST | SYN) and
          a.ack == c.snd_nxt, "RFC 5961 4.2", "challenge ACK")
    gap()
    c.send(SYN | ACK, seq=c.iss, ack=c.rcv_nxt, opts=MSS1460)  # as if our SYN-ACK came back
    a = c.take(1.5)
    r.see("old SYN,ACK (seq=ISS)", c.norm(a))
    r.req("old SYN,ACK (seq=ISS)", a is None or (a.flags & ACK and not a.flags & (RST | SYN)),
          "RFC 9293 3.10.7.4 first / RFC 5961 4.2", "an ACK (or nothing), no reset")
    gap()
    c.write(b"still")
    a = c.take(1.5, lambda s: s.data or s.flags & RST)
    r.see("echo after", c.norm(a))
    r.req("echo after", a is not None and a.data == b"still", "RFC 5961 4", "the connection lives on")
    c.abort()


@scenario("RFC 9293 3.10.7.4 second: an RST is judged by its SEQ only; one at RCV.NXT resets "
          "whatever its ACK field says")
def rst_exact_bad_ack(r):
    c = Conn(r.t, ECHO)
    c.open()
    c.send(RST | ACK, ack=c.rcv_nxt + 100000)
    gap(0.2)
    c.write(b"?")
    a = c.take(1.5)
    r.see("data after RST,ACK (bad ACK)", c.norm(a))
    r.req("data after RST,ACK (bad ACK)", a is not None and a.flags & RST, "RFC 9293 3.10.7.4 second / RFC 5961 3.2",
          "reset: data now draws an RST")


@scenario("RFC 9293 3.8.6.1 / 3.10.7.4 first: with its receive window full (zero) a stack still "
          "answers a probe with an ACK and window 0. Oasis takes the probe's byte while its buffer "
          "has room below an MSS (SWS avoidance advertises 0), as FreeBSD; Linux drops it")
def zero_window_receiver(r):
    c = Conn(r.t, ECHO)
    c.open()
    mss, sent, win, zero = 1000, 0, 65535, None
    end = time.monotonic() + 20
    # Our window 0 keeps the echo from sending, so the target's buffers fill.
    while time.monotonic() < end and sent < 8 << 20:
        n = min(mss, win)
        if n <= 0:
            break
        burst = 0
        while burst < 32 and win - burst * mss >= mss:
            c.send(ACK, seq=c.snd_nxt, data=b"f" * mss, win=0)
            c.snd_nxt = u32(c.snd_nxt + mss)
            sent += mss
            burst += 1
        if burst == 0:
            c.send(ACK, seq=c.snd_nxt, data=b"f" * n, win=0)
            c.snd_nxt = u32(c.snd_nxt + n)
            sent += n
        last = None
        while True:
            a = c.take(0.5 if last is None else 0.1, lambda s: s.flags & ACK and not s.data)
            if a is None:
                break
            last = a
        if last is None:
            break
        win = u32(c.snd_nxt - last.ack)
        win = last.win - win if last.ack != c.snd_nxt else last.win
        c.snd_nxt = last.ack  # whatever was not taken is sent again
        if last.win == 0 and last.ack == c.snd_nxt:
            zero = last
            break
    if zero is None:
        r.see("fill", f"no zero window after {sent} bytes")
        raise Step("the window never closed")
    # Every ACK still coming: the highest says where RCV.NXT is.
    later = []
    while True:
        a = c.take(0.6, lambda s: s.flags & ACK and not s.data)
        if a is None:
            break
        later.append(a)
    moved = [a for a in later if a.ack != zero.ack]
    r.see("fill", "window 0 reached" + (f"; then {len(moved)} ACK(s) moved RCV.NXT on by "
                                          f"{u32(moved[-1].ack - zero.ack)}, win {moved[-1].win}" if moved else ""))
    if moved:
        c.snd_nxt = moved[-1].ack
    c.send(ACK, seq=c.snd_nxt, data=b"P", win=0)  # a zero-window probe
    a = c.take(2.0, lambda s: s.flags & ACK and not s.data)
    r.see("probe", c.norm(a).replace(f"ack={c.rel_ack(c.snd_nxt)}", "ack=RCV.NXT") +
          ("" if a is None or a.ack == c.snd_nxt else f" (RCV.NXT was {c.rel_ack(c.snd_nxt)})"))
    # Oasis, as FreeBSD (rcv_wnd = max(sbspace, rcv_adv - rcv_nxt)), judges
    # acceptability by the room in its buffer: the zero it advertised is its
    # receiver-side SWS avoidance (RFC 9293 3.8.6.2.2 keeps the right edge
    # while the room is below an MSS), so the probe's byte, which fits, is
    # taken and acknowledged. Linux drops it. Either way: an ACK, window 0.
    r.req("probe", a is not None and a.ack in (c.snd_nxt, u32(c.snd_nxt + 1)) and a.win == 0 and
          not a.flags & RST, "RFC 9293 3.10.7.4 first (RCV.WND 0: ACK) / 3.8.6.1 (MUST-37)",
          "ACK <ACK=RCV.NXT> (or RCV.NXT+1: the byte fitted the buffer), window 0")
    c.abort()


@scenario("RFC 9293 3.10.7.4 (CLOSE-WAIT): our FIN sent again while the server still sends is "
          "acknowledged again (ACK=our FIN+1). The ACK's seq differs: in our 2000-byte window "
          "Oasis sends one full segment (1460; IPv6 1440) and holds the rest (540; 560) (sender SWS avoidance, "
          "RFC 9293 3.8.6.2.1: below an MSS and below half the largest window seen, 65535); "
          "Linux sends it")
def close_wait_fin_again(r):
    c = Conn(r.t, HTTP)
    c.open()
    c.write(b"GET /bytes/40000 HTTP/1.0\r\n\r\n", flags=ACK | PSH | FIN, win=2000)
    first = c.take(2.0, lambda s: s.data)
    if first is None:
        raise Step("no data from the server")
    gap(0.2)
    c.t.pending = [x for x in c.t.pending if x.dport != c.sport]
    c.send(ACK | FIN, seq=c.snd_nxt - 1, ack=first.seq, win=2000)  # our FIN again, nothing acked
    a = c.take(1.5, lambda s: not s.data)  # data (retransmitted) carries the ACK anyway
    r.see("FIN again", c.norm(a))
    r.req("FIN again", a is not None and a.ack == c.snd_nxt and not a.flags & RST, "RFC 9293 3.10.7.4 (CLOSE-WAIT, eighth: FIN again: remain)",
          "an ACK of our FIN (old FIN: acknowledged, RFC 9293 3.10.7.4 first)")
    c.abort()


def last_ack(r, c):
    """We close first; the echo server then closes; its data acknowledged,
    its FIN not: the target is in LAST-ACK, retransmitting the FIN alone."""
    c.open()
    c.write(b"bye", flags=ACK | PSH | FIN)
    end = time.monotonic() + 3
    fin = None
    while time.monotonic() < end and fin is None:
        sg = c.take(end - time.monotonic())
        if sg is None:
            break
        c.absorb(sg)
        if sg.flags & FIN:
            fin = sg
    if fin is None:
        raise Step("no FIN from the echo server")
    fin_seq = u32(fin.seq + len(fin.data))
    c.send(ACK, ack=fin_seq)  # the echoed bytes, not the FIN
    return fin, fin_seq


@scenario("RFC 9293 3.10.7.4 (LAST-ACK): an in-window SYN and RST challenged; the FIN is "
          "retransmitted until acknowledged; the ACK of it closes")
def last_ack_segments(r):
    c = Conn(r.t, ECHO)
    fin, fin_seq = last_ack(r, c)
    r.see("server FIN", c.norm(fin, show_len=False))
    not_fin = lambda s: not s.flags & FIN
    c.send(SYN, seq=c.snd_nxt + 100, ack=0, opts=MSS1460)
    a = c.take(1.5, not_fin)
    r.see("SYN", c.norm(a))
    r.req("SYN", a is not None and a.flags & ACK and not a.flags & RST and a.ack == c.snd_nxt,
          "RFC 5961 4.2", "challenge ACK")
    gap()
    c.send(RST, seq=c.snd_nxt + 10)
    a = c.take(1.5, not_fin)
    r.see("RST in window, not exact", c.norm(a))
    r.req("RST in window, not exact", a is not None and a.flags & ACK and not a.flags & RST,
          "RFC 5961 3.2", "challenge ACK")
    rt = c.take(5.0, lambda s: s.flags & FIN)
    r.see("FIN retransmitted", c.norm(rt))
    r.req("FIN retransmitted", rt is not None and rt.seq == fin_seq and not rt.data,
          "RFC 9293 3.10.4 / 3.8.1", "the unacknowledged FIN alone is sent again")
    c.send(ACK)
    gap(0.3)
    c.t.pending = [s for s in c.t.pending if s.dport != c.sport]
    c.write(b"x")
    a = c.take(1.5, not_fin)
    r.see("after ACK of FIN: data", c.norm(a))
    r.req("after ACK of FIN: data", a is not None and a.flags & RST, "RFC 9293 3.10.7.1 (CLOSED)",
          "closed: data draws an RST")


def download_start(c, n, sack=False, ts=False):
    """Opens, asks the HTTP server for n bytes and collects the first flight
    (not acknowledged): [(seq, len)] in order of arrival."""
    c.open(sack=sack, ts=ts)
    c.write(b"GET /bytes/%d HTTP/1.0\r\n\r\n" % n)
    flight, end = [], time.monotonic() + 1.0
    while time.monotonic() < end:
        sg = c.take(end - time.monotonic(), lambda s: s.data)
        if sg is None:
            break
        flight.append(sg)
        end = min(end, time.monotonic() + 0.15)  # the flight: back to back
    return flight


def data_until(c, secs, until=lambda s: False):
    """The target's data segments for at most secs seconds, up to the
    first for which until() holds."""
    got, end = [], time.monotonic() + secs
    while time.monotonic() < end:
        sg = c.take(end - time.monotonic(), lambda s: s.data)
        if sg is None:
            break
        got.append(sg)
        if until(sg):
            break
    return got


@scenario("RFC 6298 5.4 (MUST: retransmit the earliest unacknowledged segment on the RTO), "
          "RFC 5681 3.1 (cwnd 1 after it); RFC 8985 7 TLP may first probe with the last segment")
def rto_retransmits(r):
    c = Conn(r.t, HTTP)
    flight = download_start(c, 30000)
    if len(flight) < 2:
        raise Step(f"first flight of {len(flight)} segment(s)")
    first = flight[0].seq
    top = max(u32(s.seq + len(s.data) - first) for s in flight)
    again = [u32(sg.seq - first) for sg in data_until(c, 4.0)]
    heads = [x for x in again if x == 0]
    others = sorted(set(x for x in again if x != 0))
    # Not the count: a tail loss probe (RFC 8985 7.3, new data beyond cwnd)
    # may follow the initial window within the collection time.
    mss = link_mss()
    r.see("first flight", f"at least IW10 ({10 * mss} bytes)" if top >= 10 * mss else f"{top} bytes")
    r.see("no ACK: resent (offsets)", f"earliest {'again' if heads else 'never'}, others {others}")
    r.req("no ACK: resent (offsets)", heads and all(x + mss >= top - mss and x < top for x in others)
          and len(others) <= 1, "RFC 6298 5.4 / RFC 5681 3.1",
          "the earliest segment again (alone after each RTO); at most one tail probe besides")
    c.abort()


@scenario("RFC 6675 4 / RFC 8985 6.2 / RFC 5681 3.2: duplicate ACKs with SACK blocks above a hole: "
          "the hole is retransmitted, and nothing SACKed before it (whether by fast retransmit, RACK "
          "or the RTO would take timing to tell: not judged)")
def fast_retransmit_sack(r):
    c = Conn(r.t, HTTP)
    flight = download_start(c, 30000, sack=True)
    if len(flight) < 6:
        raise Step(f"first flight of {len(flight)} segment(s)")
    seg = [(s.seq, u32(s.seq + len(s.data))) for s in flight]
    hole, sacked = seg[1][0], (seg[2][0], u32(seg[4][1] - seg[2][0]))
    c.rcv_nxt = seg[1][0]  # the first segment taken, the second "lost"
    for k in (2, 3, 4):
        c.send(ACK, opts=sack_opt([(seg[2][0], seg[k][1])]))
    resent = data_until(c, 0.9, lambda s: s.seq == hole)
    again = sum(1 for s in resent if u32(s.seq - sacked[0]) < sacked[1])
    r.see("3 dup ACKs, SACK 3..5", ("hole resent" if resent and resent[-1].seq == hole else "-") +
          (f", {again} SACKed segment(s) resent first" if again else ""))
    r.req("3 dup ACKs, SACK 3..5", resent and resent[-1].seq == hole and not again,
          "RFC 6675 4 (NextSeg: the first unSACKed hole) / RFC 8985 6.2",
          "the hole resent, no SACKed segment before it")
    c.abort()


@scenario("RFC 9293 3.10.7.4 (SYN-RECEIVED): a FIN without ACK is dropped (fifth: ACK off, drop); "
          "the handshake's ACK with a FIN: ESTABLISHED, then CLOSE-WAIT, the FIN acknowledged")
def syn_received_fin(r):
    c = Conn(r.t, ECHO)
    sa = c.syn()
    if sa is None or not sa.flags & SYN:
        raise Step("no SYN-ACK")
    c.snd_nxt = u32(c.iss + 1)
    c.t.send_tcp(c.sport, c.dport, c.snd_nxt, 0, FIN)
    a = c.take(1.0)
    r.see("FIN, no ACK", c.norm(a))
    r.req("FIN, no ACK", a is None or not a.flags & RST, "RFC 9293 3.10.7.4 fifth (ACK off: drop)",
          "dropped (or a SYN-ACK again), no reset")
    c.t.pending = [x for x in c.t.pending if x.dport != c.sport]
    c.write(b"last", flags=ACK | PSH | FIN)
    end, got, fin, acked = time.monotonic() + 3, b"", None, None
    while time.monotonic() < end and fin is None:
        sg = c.take(end - time.monotonic())
        if sg is None:
            break
        if sg.ack == c.snd_nxt:
            acked = acked or sg
        c.absorb(sg)
        got += sg.data
        if sg.flags & FIN:
            fin = sg
    r.see("ACK+data+FIN", f"data acked={acked is not None} echo={got!r} fin={fin is not None}")
    r.req("ACK+data+FIN", acked is not None and got == b"last" and fin is not None,
          "RFC 9293 3.10.7.4 (SYN-RECEIVED fifth, seventh, eighth)",
          "established by the ACK, the text delivered, the FIN acknowledged; the echo answers and closes")
    c.send(ACK)


@scenario("RFC 6191 2: in TIME-WAIT with timestamps on both incarnations the TSval decides: a SYN "
          "above RCV.NXT with an older TSval does not reopen (Linux, PAWS in TIME-WAIT, agrees)")
def time_wait_ts_old_seq_high(r):
    c = Conn(r.t, HTTP)
    c.open(ts=True)
    if c.ts is None:
        raise Step("no timestamps")
    c.write(b"GET /bytes/10 HTTP/1.0\r\n\r\n")
    fin = c.read_until_fin()
    if fin is None or not fin.flags & FIN:
        raise Step("no FIN from the server")
    c.write(b"", flags=ACK | FIN)
    c.wait_ack(c.snd_nxt)
    gap(0.1)
    c.t.send_tcp(c.sport, c.dport, c.snd_nxt + 100000, 0, SYN, opts=MSS1460 + ts_opt(TS0 - 5000))
    a = c.take(1.5)
    r.see("SYN above, older TSval", c.norm(a))
    r.req("SYN above, older TSval", a is None or not a.flags & RST, "RFC 6191 2 / RFC 7323 5",
          "no reset (challenge ACK or reopen)")
    if a is not None and a.flags & SYN:
        c.t.send_tcp(c.sport, c.dport, c.snd_nxt + 100001, 0, RST)


@scenario("RFC 9293 3.10.7.4 (TIME-WAIT) / RFC 6191: old data answered with an ACK; a SYN below "
          "RCV.NXT without timestamps does not reopen")
def time_wait_segments(r):
    c = Conn(r.t, HTTP)
    c.open()
    c.write(b"GET /bytes/10 HTTP/1.0\r\n\r\n")
    fin = c.read_until_fin()
    if fin is None or not fin.flags & FIN:
        raise Step("no FIN from the server")
    c.write(b"", flags=ACK | FIN)
    a = c.wait_ack(c.snd_nxt)
    r.see("our FIN", c.norm(a))
    gap()
    c.send(ACK | PSH, seq=c.snd_nxt - 5, data=b"old!!")
    a = c.take(1.5)
    r.see("old data", c.norm(a))
    r.req("old data", a is not None and a.flags & ACK and not a.flags & RST and a.ack == c.snd_nxt,
          "RFC 9293 3.10.7.4 first", "ACK <ACK=RCV.NXT>")
    gap()
    c.send(SYN, seq=c.snd_nxt - 1000, ack=0, opts=MSS1460)
    a = c.take(1.5)
    r.see("SYN below RCV.NXT", c.norm(a))
    r.req("SYN below RCV.NXT", a is None or (not a.flags & SYN and not a.flags & RST),
          "RFC 1122 4.2.2.13 / RFC 6191 2", "not reopened (ACK or silence), no reset")
    gap()
    c.send(SYN, seq=c.snd_nxt + 100000, ack=0, opts=MSS1460)
    a = c.take(1.5)
    r.see("SYN above RCV.NXT", c.norm(a))
    r.req("SYN above RCV.NXT", a is None or not a.flags & RST and
          (not a.flags & SYN or 0 < u32(a.seq - c.rcv_nxt) < 1 << 31),
          "RFC 1122 4.2.2.13 (MUST: reopen with ISS above the old SND.NXT)", "no reset; a reopen's ISS above")
    if a is not None and a.flags & SYN:
        c.t.send_tcp(c.sport, c.dport, c.snd_nxt + 100001, 0, RST)


@scenario("RFC 6191 2: in TIME-WAIT with timestamps, a SYN with a newer TSval reopens even below RCV.NXT")
def time_wait_ts_reopen(r):
    c = Conn(r.t, HTTP)
    c.open(ts=True)
    c.write(b"GET /bytes/10 HTTP/1.0\r\n\r\n")
    fin = c.read_until_fin()
    if fin is None or not fin.flags & FIN:
        raise Step("no FIN from the server")
    c.write(b"", flags=ACK | FIN)
    c.wait_ack(c.snd_nxt)
    gap(0.1)
    c.t.send_tcp(c.sport, c.dport, c.snd_nxt - 1000, 0, SYN, opts=MSS1460 + ts_opt(TS0 + 100000))
    a = c.take(1.5)
    r.see("SYN below, newer TSval", c.norm(a))
    r.req("SYN below, newer TSval", a is None or not a.flags & RST, "RFC 6191 2 / RFC 9293 MAY-2",
          "reopened or challenged; never a reset")
    if a is not None and a.flags & SYN:
        c.t.send_tcp(c.sport, c.dport, c.snd_nxt - 999, 0, RST)


@scenario("RFC 9293 3.10.7.4 sixth (SND.WL1/WL2): an older segment does not update the window")
def window_update_rules(r):
    c = Conn(r.t, ECHO)
    c.open()
    c.write(b"a" * 10, win=0)  # our window closes as we send: the echo must wait
    a = c.take(1.5, lambda s: s.flags & ACK)
    r.see("data, our window 0", c.norm(a))
    r.req("data, our window 0", a is None or not a.data, "RFC 9293 3.8.6.1", "no data into a zero window")
    # An old segment (the one before) with a big window: SEG.SEQ < SND.WL1, must not open it.
    c.send(ACK, seq=c.snd_nxt - 10, win=65535)
    a = c.take(0.8, lambda s: s.data and len(s.data) > 1)
    r.see("old seg, window 65535", c.norm(a))
    r.req("old seg, window 65535", a is None, "RFC 9293 3.10.7.4 fifth (SND.WL1 < SEG.SEQ)",
          "no data sent on an old segment's window")
    c.quiet(0.3)
    c.send(ACK, win=65535)
    end = time.monotonic() + 2
    got = b""
    while len(got) < 10 and time.monotonic() < end:
        sg = c.take(end - time.monotonic(), lambda s: s.data)
        if sg is None:
            break
        got += sg.data
    r.see("window update", f"echo {len(got)} bytes")
    r.req("window update", got == b"a" * 10, "RFC 9293 3.10.7.4 fifth", "a current update opens it")
    c.abort()


@scenario("RFC 9293 3.8.6.1: a zero-window probe with a byte is answered with ACK of RCV.NXT")
def zero_window_probe_to_full_receiver(r):
    c = Conn(r.t, ECHO)
    c.open()
    c.send(ACK | PSH, seq=c.snd_nxt + 70000, data=b"Z")  # far beyond the window
    a = c.take(1.5)
    r.see("byte beyond window", c.norm(a))
    r.req("byte beyond window", a is not None and a.flags & ACK and a.ack == c.snd_nxt and not a.flags & RST,
          "RFC 9293 3.10.7.4 first", "ACK <ACK=RCV.NXT>, the byte not taken")
    c.abort()


@scenario("RFC 6093 5 (MUST support urgent), 6 (urgent data in line, as the IETF specifications "
          "intend) / RFC 9293 3.8.5 (MUST-30, MUST-62: the pointer names the octet after the urgent "
          "data): the echo returns all five bytes. Linux without SO_OOBINLINE keeps the last out of band")
def urgent_inline(r):
    c = Conn(r.t, ECHO)
    c.open()
    c.write(b"abcde", flags=ACK | PSH | URG, urg_ptr=5)
    got = b""
    end = time.monotonic() + 2
    while len(got) < 5 and time.monotonic() < end:
        sg = c.take(end - time.monotonic(), lambda s: s.data or s.flags & RST)
        if sg is None or sg.flags & RST:
            break
        got += sg.data
        c.absorb(sg)
        c.send(ACK)
    r.see("URG 5 bytes, echo", repr(got))
    r.req("URG 5 bytes, echo", got == b"abcde", "RFC 6093 5, 6 / RFC 9293 3.8.5 (MUST-30)",
          "the urgent bytes delivered in line, none lost: the echo is abcde")
    c.abort()


@scenario("RFC 9293 3.10.7.3 (SYN-SENT side not run: see wire_probe.py client_checks); "
          "listener: ACK, RST+ACK, FIN to a port nobody has")
def closed_and_listen(r):
    c = Conn(r.t, 4444)
    for what, flags in (("SYN to closed port", SYN), ("ACK to listener", ACK), ("FIN+ACK to listener", FIN | ACK)):
        c = Conn(r.t, 4444 if flags == SYN else ECHO)
        c.sent_ack = 12345
        c.t.send_tcp(c.sport, c.dport, c.iss, 12345, flags, opts=MSS1460 if flags & SYN else b"")
        a = c.take(1.0)
        r.see(what, c.norm(a))
        want = (a is not None and a.flags & RST and
                ((a.flags & ACK and a.ack == u32(c.iss + 1) and a.seq == 0) if flags & SYN else a.seq == 12345))
        r.req(what, want, "RFC 9293 3.10.7.1/3.10.7.2", "RST: <SEQ=0><ACK=SEG.SEQ+SEG.LEN> or <SEQ=SEG.ACK>")


# ---- the target as the client (SYN-SENT) ------------------------------------

CLIENT_TARGETS = {}  # name -> Target on which the target connects out to the probe


class Client:
    """The target connects to the probe: `oasis nc` on its own TAP, or a
    Linux socket from this process (its SYN comes out of dflx0). Data to
    send, then a half-close; the outcome read by finish()."""

    def __init__(self, r, port, data=b""):
        self.t = t = CLIENT_TARGETS[r.t.name]
        self.port, self.result = port, None
        if t.name == "oasis":
            args = [OASIS_BIN, "nc", "--timeout", "8", "--tap", t.tap]
            # (no DAD: the TAP's namespace holds no other node with the
            # address, and each client would wait a second for it)
            args += ["--addr", f"{CLIENT_IPV4}/24", "--addr6", f"{t.peer_ip}/64", "--dad", "0"] \
                if V6 else ["--addr", f"{t.peer_ip}/24"]
            self.proc = subprocess.Popen(args + [t.my_ip, str(port)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.proc.stdin.write(data)
            self.proc.stdin.close()
        else:
            def run():
                s = socket.socket(socket.AF_INET6 if V6 else socket.AF_INET)
                s.settimeout(8)
                try:
                    s.connect((t.my_ip, port))
                    s.sendall(data)
                    s.shutdown(socket.SHUT_WR)
                    got = b""
                    while True:
                        d = s.recv(65536)
                        if not d:
                            break
                        got += d
                    self.result = ("ok", got)
                except ConnectionRefusedError:
                    self.result = ("refused", b"")
                except OSError as e:
                    self.result = (type(e).__name__, b"")
                s.close()
            self.thread = threading.Thread(target=run, daemon=True)
            self.thread.start()
        syn = t.take(port, 8.0, lambda s: s.flags & SYN and not s.flags & ACK)
        if syn is None:
            self.finish()
            raise Step("the client sent no SYN")
        self.syn = syn
        self.c = c = Conn(t, syn.sport)
        c.sport = port
        c.irs, c.rcv_nxt = syn.seq, u32(syn.seq + 1)

    def finish(self):
        if self.t.name == "oasis":
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            rc = self.proc.returncode
            out = self.proc.stdout.read()
            return {0: "ok", 4: "refused", 5: "timeout"}.get(rc, f"rc{rc}"), out
        self.thread.join(10)
        return self.result or ("running", b"")


@scenario("RFC 9293 3.7.1, RFC 7323, RFC 2018: the options a client's SYN offers (information)")
def client_syn_options(r):
    cl = Client(r, 6001)
    r.see("client SYN", cl.c.norm(cl.syn).replace("seq=0", "") + f" win0={cl.syn.win == 0}")
    r.req("client SYN", "mss" in cl.syn.opts, "RFC 9293 3.7.1 (SHLD-5: send MSS)", "MSS in the SYN")
    r.req("client SYN", cl.syn.opts.get("mss", 0) <= link_mss(), "RFC 9293 3.7.1 / RFC 6691 2",
          f"MSS at most the MTU less the fixed IP and TCP headers ({link_mss()})")
    cl.c.abort()
    cl.t.send_tcp(cl.port, cl.c.dport, 0, u32(cl.syn.seq + 1), RST | ACK)
    cl.finish()


@scenario("RFC 9293 3.7.1 / RFC 1122 4.2.2.6 (MUST): a SYN-ACK without MSS: the client sends at most 536 "
          "(IPv6: 1220)")
def client_no_mss(r):
    cl = Client(r, 6002, data=bytes(3000))
    c = cl.c
    c.t.send_tcp(c.sport, c.dport, c.iss, c.rcv_nxt, SYN | ACK, opts=b"")
    c.snd_nxt = u32(c.iss + 1)
    sizes, fin = [], None
    end = time.monotonic() + 4
    while time.monotonic() < end and fin is None:
        sg = c.take(end - time.monotonic())
        if sg is None:
            break
        c.absorb(sg)
        if sg.data:
            sizes.append(len(sg.data))
        if sg.flags & FIN:
            fin = sg
        c.send(ACK)
    r.see("largest data", f"{max(sizes) if sizes else 0}, {sum(sizes)} bytes, fin={fin is not None}")
    r.req("largest data", sizes and max(sizes) <= default_mss(),
          "RFC 9293 3.7.1 (MUST-15: 536 over IPv4, 1220 over IPv6, without an MSS option)",
          f"no segment above {default_mss()} bytes")
    r.req("largest data", sizes and max(sizes) == default_mss(), "RFC 9293 3.7.1 (MUST-15: assume the default)",
          f"full segments of {default_mss()} bytes (the family's default, not another's)")
    c.write(b"", flags=ACK | FIN)
    c.wait_ack(c.snd_nxt)
    res = cl.finish()
    r.see("outcome", res[0])


@scenario("RFC 9293 3.10.7.3 (SYN-SENT fourth, on at 3.10.7.4's sixth; eighth: FIN): a SYN,ACK with "
          "FIN: established, then CLOSE-WAIT; the FIN acknowledged")
def client_synack_fin(r):
    cl = Client(r, 6003)
    c = cl.c
    c.t.send_tcp(c.sport, c.dport, c.iss, c.rcv_nxt, SYN | ACK | FIN, opts=MSS1460)
    c.snd_nxt = u32(c.iss + 2)
    a = c.take(2.0, lambda s: s.flags & ACK and not s.flags & SYN)
    r.see("SYN,ACK,FIN", c.norm(a))
    r.req("SYN,ACK,FIN", a is not None and not a.flags & RST and
          (a.ack == c.snd_nxt or a.ack == u32(c.iss + 1)),
          "RFC 9293 3.10.7.3", "the SYN (and the FIN, if taken) acknowledged, no reset")
    fin_acked = a is not None and a.ack == c.snd_nxt
    end, fin = time.monotonic() + 3, None
    while time.monotonic() < end:
        sg = c.take(end - time.monotonic())
        if sg is None:
            break
        fin_acked = fin_acked or (sg.flags & ACK and sg.ack == c.snd_nxt)
        c.absorb(sg)
        if sg.flags & FIN:
            fin = sg
            c.send(ACK)
            break
    if not fin_acked:  # our FIN dropped: the target waits for it; reset at its RCV.NXT
        c.t.send_tcp(c.sport, c.dport, u32(c.iss + 1), c.rcv_nxt, RST | ACK)
    res = cl.finish()
    r.see("outcome", res[0])
    # 3.10.7.3 fourth: "If there are other controls or text in the segment,
    # then continue processing at the sixth step under Section 3.10.7.4";
    # its eighth takes the FIN: ACK it, CLOSE-WAIT, the user told.
    r.req("outcome", fin_acked and fin is not None and res[0] == "ok",
          "RFC 9293 3.10.7.3 fourth / 3.10.7.4 eighth",
          "the SYN-ACK's FIN taken: acknowledged, the client closes in turn and ends cleanly")


@scenario("RFC 3168 6.1.1: a SYN-ACK with ECE to a SYN that did not ask for ECN is not ECN-setup; "
          "the client goes on without ECN")
def client_synack_ece_unasked(r):
    cl = Client(r, 6004, data=b"hello")
    c = cl.c
    asked = cl.syn.flags & (ECE | CWR) == ECE | CWR
    c.t.send_tcp(c.sport, c.dport, c.iss, c.rcv_nxt, SYN | ACK | ECE, opts=MSS1460)
    c.snd_nxt = u32(c.iss + 1)
    sg = c.take(2.0, lambda s: s.data)
    r.see("client data", (c.norm(sg) + (f" tos={sg.tos & 3}" if sg else "")) + (" (asked ECN)" if asked else ""))
    r.req("client data", sg is not None and (asked or sg.tos & 3 == 0), "RFC 3168 6.1.1",
          "no ECT without ECN negotiated")
    c.abort()
    cl.finish()


# ---- running and the table -------------------------------------------------


@scenario("RFC 9293 3.10.7.3 (SYN-SENT first: SEG.ACK =< ISS): a SYN-ACK acknowledging ISS "
          "itself draws <SEQ=SEG.ACK><CTL=RST> and the attempt goes on")
def client_synack_ack_iss(r):
    cl = Client(r, 6005, data=b"late")
    c = cl.c
    c.t.send_tcp(c.sport, c.dport, c.iss, cl.syn.seq, SYN | ACK, opts=MSS1460)  # ACK = ISS
    a = c.take(1.5, lambda s: not s.flags & SYN)
    r.see("SYN-ACK, ACK=ISS", c.norm(a).replace(f"seq={c.rel_seq(cl.syn.seq)}", "seq=SEG.ACK"))
    r.req("SYN-ACK, ACK=ISS", a is not None and a.flags & RST and not a.flags & ACK and a.seq == cl.syn.seq,
          "RFC 9293 3.10.7.3 first", "<SEQ=SEG.ACK><CTL=RST>")
    c.t.send_tcp(c.sport, c.dport, c.iss, c.rcv_nxt, SYN | ACK, opts=MSS1460)
    c.snd_nxt = u32(c.iss + 1)
    sg = c.take(3.0, lambda s: s.data)
    r.see("then a good SYN-ACK", c.norm(sg))
    r.req("then a good SYN-ACK", sg is not None and sg.data == b"late", "RFC 9293 3.10.7.3",
          "the attempt went on: established, data sent")
    c.abort()
    cl.finish()


@scenario("RFC 9293 3.8.6.1 (MUST-36 probe a zero window): a SYN-ACK with window 0: the client "
          "sends no data but probes; the window opened, the data goes")
def client_synack_zero_window(r):
    cl = Client(r, 6006, data=b"x" * 100)
    c = cl.c
    c.t.send_tcp(c.sport, c.dport, c.iss, c.rcv_nxt, SYN | ACK, win=0, opts=MSS1460)
    c.snd_nxt = u32(c.iss + 1)
    a = c.take(1.5, lambda s: s.flags & ACK)
    r.see("first segment", c.norm(a))
    r.req("first segment", a is not None and len(a.data) <= 1, "RFC 9293 3.8.6.1 / 3.10.7.3",
          "no data beyond a zero window (a 1-byte probe at most)")
    p = a if a is not None and a.data else c.take(6.0, lambda s: s.flags & ACK)
    r.see("probe", c.norm(p))
    r.req("probe", p is not None and not p.flags & RST, "RFC 9293 3.8.6.1 (MUST-36)",
          "a zero-window probe (a byte, or a segment below SND.UNA) within 6 s")
    c.t.pending = [x for x in c.t.pending if x.dport != c.sport]
    c.send(ACK, win=65535)
    got, end = b"", time.monotonic() + 4
    while len(got) < 100 and time.monotonic() < end:
        sg = c.take(end - time.monotonic(), lambda s: s.data)
        if sg is None:
            break
        if u32(sg.seq - c.rcv_nxt) < 1 << 31 and sg.seq == c.rcv_nxt:
            got += sg.data
            c.rcv_nxt = u32(c.rcv_nxt + len(sg.data))
        elif u32(c.rcv_nxt - sg.seq) < len(sg.data):
            off = u32(c.rcv_nxt - sg.seq)
            got += sg.data[off:]
            c.rcv_nxt = u32(sg.seq + len(sg.data))
        c.send(ACK, win=65535)
    r.see("window opened", f"{len(got)} bytes")
    r.req("window opened", got == b"x" * 100, "RFC 9293 3.10.7.4 fifth", "the data goes once the window opens")
    c.abort()
    cl.finish()


@scenario("RFC 7323 3.2 (MUST NOT send TSopt unless the SYN-ACK had it), RFC 2018 2: a SYN-ACK "
          "with only MSS: the client's segments carry no TSopt and no SACK")
def client_synack_bare(r):
    cl = Client(r, 6007, data=b"plain")
    c = cl.c
    c.t.send_tcp(c.sport, c.dport, c.iss, c.rcv_nxt, SYN | ACK, opts=MSS1460)
    c.snd_nxt = u32(c.iss + 1)
    sg = c.take(3.0, lambda s: s.data)
    r.see("client data", c.norm(sg))
    r.req("client data", sg is not None and 8 not in sg.kinds and 5 not in sg.kinds,
          "RFC 7323 3.2 / RFC 2018 2", "no TSopt, no SACK option")
    c.abort()
    cl.finish()


@scenario("RFC 9293 3.10.7.4 first: the SYN,ACK again once the client is established (its ACK "
          "lost) is acknowledged again")
def client_synack_again(r):
    cl = Client(r, 6008, data=b"x")
    c = cl.c
    c.t.send_tcp(c.sport, c.dport, c.iss, c.rcv_nxt, SYN | ACK, opts=MSS1460)
    c.snd_nxt = u32(c.iss + 1)
    c.take(2.0, lambda s: s.flags & ACK)
    gap()
    c.t.pending = [x for x in c.t.pending if x.dport != c.sport]
    c.t.send_tcp(c.sport, c.dport, c.iss, c.rcv_nxt, SYN | ACK, opts=MSS1460)
    a = c.take(1.5, lambda s: not s.data and not s.flags & FIN)  # not the client's own data/FIN
    r.see("SYN,ACK again", c.norm(a))
    r.req("SYN,ACK again", a is not None and a.flags & ACK and not a.flags & (RST | SYN) and
          a.ack == c.snd_nxt, "RFC 9293 3.10.7.4 first", "ACK <ACK=RCV.NXT>, no reset")
    c.abort()
    cl.finish()


@scenario("RFC 9293 3.10.7.3 fourth (SYN-SENT: a SYN without ACK: SYN-RECEIVED, <SEQ=ISS>"
          "<ACK=RCV.NXT><CTL=SYN,ACK>), 3.5 (MUST-10 simultaneous open): the client answers our SYN with "
          "a SYN,ACK; ours then establishes it, its data comes, and the close is orderly")
def client_simultaneous_open(r):
    cl = Client(r, 6009, data=b"both at once")
    c = cl.c
    c.t.send_tcp(c.sport, c.dport, c.iss, 0, SYN, opts=MSS1460)
    sa = c.take(2.0, lambda s: s.flags & (SYN | ACK | RST) != SYN)  # not its SYN again
    r.see("our SYN", c.norm(sa))
    r.req("our SYN", sa is not None and sa.flags & (SYN | ACK | RST) == SYN | ACK and sa.seq == cl.syn.seq and
          sa.ack == u32(c.iss + 1), "RFC 9293 3.10.7.3 fourth (MUST-10)", "<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>")
    c.t.send_tcp(c.sport, c.dport, c.iss, c.rcv_nxt, SYN | ACK, opts=MSS1460)
    c.snd_nxt = u32(c.iss + 1)
    fin = c.read_until_fin()
    if fin is not None and fin.flags & FIN:
        c.write(b"", flags=ACK | FIN)
        c.wait_ack(c.snd_nxt)
    res = cl.finish()
    r.see("then our SYN,ACK", f"{c.got!r}, fin={fin is not None and bool(fin.flags & FIN)}, {res[0]}")
    r.req("then our SYN,ACK", c.got == b"both at once" and res[0] == "ok", "RFC 9293 3.10.7.4 (SYN-RECEIVED fifth: "
          "ESTABLISHED) / 3.5", "established: the client's data, its FIN, an orderly close")


@scenario("RFC 8201 4 (MUST reduce the packet size to a Packet Too Big's MTU), RFC 9293 3.7.3: "
          "a PTB of 1280 quoting the first data segment: the data comes again in segments of at most "
          "1220 bytes (1280 - 60). Run last: both stacks keep the path MTU for the probe's address", only6=True)
def icmp6_packet_too_big(r):
    c = Conn(r.t, HTTP)
    flight = download_start(c, 30000)
    big = [s for s in flight if len(s.data) > 1220]
    if not big:
        raise Step(f"no segment above 1220 bytes in a flight of {len(flight)}")
    first = big[0]
    # RFC 4443 3.2: the MTU, then as much of the datagram as fits 1280.
    r.t.icmp6(ICMP6_PTB, 0, struct.pack("!I", 1280) + first.ip[:1280 - 48])
    again = data_until(c, 4.0, lambda s: s.seq == first.seq and len(s.data) <= 1220)
    head = [s for s in again if s.seq == first.seq]
    r.see("first segment", f"len={len(first.data)}")
    r.see("after PTB 1280", "resent: " + (",".join(str(len(s.data)) for s in head) or "never") +
          f" ({len(again)} data segment(s))")
    r.req("after PTB 1280", head and len(head[-1].data) <= 1220, "RFC 8201 4 / RFC 9293 3.7.3",
          "the data a PTB quoted sent again in segments that fit 1280 bytes")
    c.abort()


OASIS_BIN = None
CLIENT_IPV4 = None  # oasis nc's --addr beside --addr6 (without one it asks DHCP)


def run_one(t, fn):
    r = Run(t)
    try:
        fn(r)
    except Step as e:
        r.see("(stopped)", str(e))
    except Exception as e:  # a fault of the script: shown, and it fails the run
        r.see("(stopped)", f"{type(e).__name__}: {e}")
    t.pending.clear()
    return r


def main(argv):
    global OASIS_BIN, CLIENT_IPV4, V6
    if argv[0] == "-6":
        V6, argv = True, argv[1:]
    oasis = Target("oasis", argv[0], argv[1], argv[2])
    linux = Target("linux", argv[3], argv[4], argv[5])
    linux.resolve()
    oasis.resolve()
    # The targets as clients: oasis nc on a second TAP; Linux out of dflx0.
    ctap, cip, cpip, OASIS_BIN, *rest = argv[6].split(",")
    CLIENT_IPV4 = rest[0] if rest else None
    CLIENT_TARGETS["oasis"] = Target("oasis", ctap, cip, cpip)
    CLIENT_TARGETS["linux"] = linux
    only = [x for x in os.environ.get("DIFF_ONLY", "").split(",") if x]
    failed, diffs, rows = [], 0, []
    for name, fn, note, only6 in SCENARIOS:
        if (only and name not in only) or (only6 and not V6):
            continue
        t0 = time.monotonic()
        rl = run_one(linux, fn)
        ro = run_one(oasis, fn)
        print(f"\n== {name} ({time.monotonic() - t0:.1f} s)\n   {note}", flush=True)
        steps = []
        for s, _ in rl.obs + ro.obs:
            if s not in steps:
                steps.append(s)
        lo, oo = dict(rl.obs), dict(ro.obs)
        w = max([len(s) for s in steps] + [4])
        print(f"   {'step':<{w}} | {'linux':<34} | {'oasis':<34} |", flush=True)
        for s in steps:
            a, b = lo.get(s, "(not reached)"), oo.get(s, "(not reached)")
            mark = "" if a == b else "DIFF"
            diffs += a != b
            print(f"   {s:<{w}} | {a:<34} | {b:<34} | {mark}", flush=True)
            rows.append((name, s, a, b))
        lreq = {(s, c): m for s, c, m, _ in rl.reqs}
        for s, clause, met, what in ro.reqs:
            lm = lreq.get((s, clause))
            lin = "" if lm is None else (" (linux meets it too)" if lm else " (linux does not)")
            print(f"   {'ok' if met else 'FAIL'}: {clause}: {s}: {what}{lin}", flush=True)
            if not met:
                failed.append(f"{name}: {s}: {clause}")
        if any(s == "(stopped)" for s, _ in ro.obs):
            failed.append(f"{name}: stopped at Oasis: {oo['(stopped)']}")
    # Every segment Oasis sent had a right checksum (IPv6: over RFC 8200 8.1's pseudo-header).
    bad = oasis.bad_csum + CLIENT_TARGETS["oasis"].bad_csum
    print(f"\n   {'ok' if not bad else 'FAIL'}: RFC 9293 3.1 checksum: every segment from Oasis "
          f"({bad} bad; linux {linux.bad_csum})", flush=True)
    if bad:
        failed.append(f"{bad} segment(s) from Oasis with a bad checksum")
    print(f"\n{len(rows)} steps, {diffs} differ from Linux; {len(failed)} Oasis requirement(s) failed",
          flush=True)
    for f in failed:
        print(f"FAIL: {f}", flush=True)
    return len(failed)


if __name__ == "__main__":
    if sys.argv[1] == "--linux-servers":
        linux_servers(sys.argv[2])
    else:
        sys.exit(min(main(sys.argv[1:]), 100))
