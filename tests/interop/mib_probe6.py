#!/usr/bin/env python3
"""The IPv6 side of `oasis serve`'s MIB counters against the wire.

The counterpart of mib_probe.py, whose machinery it imports (the sniffer
that sees every frame on the TAP both ways, windows between two counter
reads, expect() and its table), over wire_probe6.py's host on the link
(IPv6 frames, Neighbour Discovery answered). The counters are read over a
kept-alive HTTP/1.1 connection over IPv6 driven by hand, so every frame of
a window is IPv6 and the probe's own or Oasis's; the kernel has no IPv6 on
the TAP. What each object counts:

  RFC 4293 (IP-MIB, ipSystemStatsTable for ipv6): InReceives "including
  those received in error", InHdrErrors, InAddrErrors ("not a local
  address" for a host), InUnknownProtos, InTruncatedPkts, InDelivers,
  OutRequests (a datagram supplied to IP is one, fragmented or not),
  ReasmReqds/OKs/Fails, OutFragOKs/Creates, In/OutMcastPkts; icmpStatsTable
  for ICMPv6: InMsgs "includes all those counted by icmpStatsInErrors",
  OutErrors "did not send due to problems discovered within ICMP";
  icmpMsgStatsTable: in and out per type.
  RFC 4022 (TCP-MIB) and RFC 4113 (UDP-MIB) over IPv6: TCP into the same
  objects as IPv4; UDP into udp6 (Linux's Udp6*), IPv4's udp untouched.

Every check prints "ok: ..." or "FAIL: ..."; the exit status is the number
of failed check groups. Standard library only.

Usage: mib_probe6.py TAP OASIS_IP PROBE_IP METRICS_PORT OASIS_IP6 OASIS_LL
"""
import os
import random
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mib_probe as M  # noqa: E402  (wire_probe.py under it reads the first four arguments)
import wire_probe as W  # noqa: E402
import wire_probe6 as W6  # noqa: E402  (reads the last two)

from mib_probe import expect, ok  # noqa: E402
from wire_probe import check  # noqa: E402
from wire_probe6 import (ALL_NODES, ECHO_REQ, NH_DST, NH_FRAG, NH_ICMP, NH_TCP, NH_UDP,  # noqa: E402
                         OASIS6, OASIS_LL, PROBE_G, PROBE_LL, a6, echo_body, ext, frag_hdr, frags,
                         icmp6, ip6, is_mcast, pseudo6, s6, sol_node)

OURS = {OASIS6, OASIS_LL}
GROUPS = {ALL_NODES, sol_node(OASIS6), sol_node(OASIS_LL)}  # Oasis's, as a host
HANDLED = (NH_TCP, NH_UDP, NH_ICMP)
CLOSED_PORT = W6.CLOSED_PORT

# icmpMsgStatsTable for ICMPv6 as Oasis exports it (Linux's names).
IN_TYPES = {128: "Icmp6InEchos", 129: "Icmp6InEchoReplies", 1: "Icmp6InDestUnreachs",
            2: "Icmp6InPktTooBigs", 3: "Icmp6InTimeExcds", 4: "Icmp6InParmProblems",
            130: "Icmp6InGroupMembQueries", (131, 132, 143): "Icmp6InGroupMembResponses",
            133: "Icmp6InRouterSolicits", 134: "Icmp6InRouterAdvertisements",
            135: "Icmp6InNeighborSolicits", 136: "Icmp6InNeighborAdvertisements",
            137: "Icmp6InRedirects"}
OUT_TYPES = {1: "Icmp6OutDestUnreachs", 3: "Icmp6OutTimeExcds", 4: "Icmp6OutParmProblems",
             128: "Icmp6OutEchos", 129: "Icmp6OutEchoReplies", 133: "Icmp6OutRouterSolicits",
             135: "Icmp6OutNeighborSolicits", 136: "Icmp6OutNeighborAdvertisements",
             143: "Icmp6OutMLDv2Reports"}


class Sniffer6(M.Sniffer):
    """mib_probe's sniffer, reading IPv6 frames: Oasis's (out) and those
    to its MAC or to a multicast MAC (in)."""

    def parse(self, raw, addr):
        got = self.open_frame(raw, W6.ETH_IP6, lambda mac: mac[:2] == b"\x33\x33")
        if got is None:
            return None
        f, fr, gso, partial = got
        ip = f.ip
        f.ver = ip[0] >> 4 if ip else 0
        f.proto, f.src, f.dst, f.frag, f.mf, f.off, f.atomic = -1, "", "", None, False, 0, False
        f.tcp, f.icmp_type, f.pieces, f.l4_ok, f.l4_len = None, None, 1, False, 0
        plen = struct.unpack("!H", ip[4:6])[0] if len(ip) >= 6 else 0
        f.hdr_ok = len(ip) >= 40 and f.ver == 6 and 40 + plen <= len(ip)
        if len(ip) < 40:
            return f
        f.src, f.dst = s6(ip[8:24]), s6(ip[24:40])
        if not f.hdr_ok:
            return f
        pk = W6.Pkt(fr, partial, gso)  # the header chain walked
        f.proto, f.frag, body = pk.nh, pk.frag, pk.body
        if pk.frag:
            f.off, f.mf = pk.frag[0], bool(pk.frag[1])
            f.atomic = not f.off and not f.mf
        f.icmp_type = pk.type  # a first fragment's too
        if whole(f) and f.proto in HANDLED:
            f.l4_len = len(body)
            f.l4_ok = bool(partial) or W.csum(pseudo6(f.src, f.dst, f.proto, len(body)) + body) == 0
        if whole(f) and f.proto == NH_TCP:
            self.tcp_of(f, body, pseudo6(f.src, f.dst, NH_TCP, len(body)), partial, gso)
        return f


def whole(f):
    return f.frag is None or f.atomic


def to_us(f):
    """For Oasis to take: a sound header, to one of its addresses or groups."""
    return f.hdr_ok and (f.dst in OURS or f.dst in GROUPS) and not is_mcast(f.src)


class Window6(M.Window):
    def tcp_in(self):
        return sum(f.pieces for f in self.inf if f.tcp and f.dst in OURS)


def count(frames, types):
    types = types if isinstance(types, tuple) else (types,)
    return sum(1 for f in frames if f.icmp_type in types)


def expect_truth6(w, what, reasm=()):
    """What every window must show, whatever happened in it. reasm: the
    ICMPv6 types of the datagrams reassembled in it (each delivered once)."""
    M.expect_tcp_truth(w, what)
    expect(w, "ipv6", "Ip6InReceives", len(w.inf), what + ": IPv6 datagrams to Oasis, errors included")
    expect(w, "ipv6", "Ip6OutRequests", w.ip_out(), what + ": IPv6 datagrams from Oasis (a piece of "
           "a super-segment is one, a fragmented datagram is one)")
    expect(w, "ipv6", "Ip6OutMcastPkts", sum(1 for f in w.outf if is_mcast(f.dst)),
           what + ": IPv6 datagrams from Oasis to a group")
    expect(w, "ipv6", "Ip6InMcastPkts", sum(1 for f in w.inf if to_us(f) and is_mcast(f.dst)),
           what + ": IPv6 datagrams to Oasis's groups")
    delivered = [f for f in w.inf if to_us(f) and whole(f) and f.proto in HANDLED]
    expect(w, "ipv6", "Ip6InDelivers", len(delivered) + len(reasm),
           what + ": datagrams to TCP, UDP and ICMPv6 (a reassembled one once)")
    msgs = [f for f in delivered if f.proto == NH_ICMP]
    good = [f for f in msgs if f.l4_ok and f.l4_len >= 8]
    expect(w, "icmp6", "Icmp6InMsgs", len(msgs) + len(reasm),
           what + ": ICMPv6 messages to Oasis, those in error included")
    expect(w, "icmp6", "Icmp6InErrors", len(msgs) - len(good), what + ": bad checksum or length")
    expect(w, "icmp6", "Icmp6InCsumErrors", sum(1 for f in msgs if f.l4_len >= 8 and not f.l4_ok),
           what + ": bad checksum")
    for typ, name in IN_TYPES.items():
        ts = typ if isinstance(typ, tuple) else (typ,)
        want = count(good, ts) + sum(1 for t in reasm if t in ts)
        expect(w, "icmp6", name, want, what + f": type {typ} in")
    out = [f for f in w.outf if f.proto == NH_ICMP and f.icmp_type is not None]
    expect(w, "icmp6", "Icmp6OutMsgs", len(out), what + ": ICMPv6 messages from Oasis on the TAP")
    expect(w, "icmp6", "Icmp6OutErrors", 0, what + ": none Oasis's ICMPv6 failed to send "
           "(RFC 4293 icmpStatsOutErrors)")
    for typ, name in OUT_TYPES.items():
        expect(w, "icmp6", name, count(out, typ), what + f": type {typ} out")


def echo6(ident, data=b"x" * 16, src=PROBE_G, dst=OASIS6, **kw):
    return ip6(src, dst, NH_ICMP, icmp6(src, dst, ECHO_REQ, 0, echo_body(ident, 1, data)), **kw)


def ip6_errors():
    base = random.getrandbits(15)
    with Window6() as w:
        W.P.send(echo6(base))
        # RFC 8200 3: only a node that forwards looks at the hop limit.
        W.P.send(echo6(base + 1, hlim=0))
        bad_version = bytearray(echo6(base + 2))
        bad_version[0] = 0x40 | (bad_version[0] & 0x0F)
        W.P.send(bytes(bad_version))
        # RFC 4291 2.7: a group is never a source.
        W.P.send(echo6(base + 3, src="ff02::1"), dst_mac=W.P.oasis_mac)
        # To our MAC, not to one of our addresses.
        W.P.send(echo6(base + 4, dst="2001:db8:77::99"), dst_mac=W.P.oasis_mac)
        # A Payload Length past the frame.
        m = icmp6(PROBE_G, OASIS6, ECHO_REQ, 0, echo_body(base + 5, 1, b"short"))
        W.P.send(ip6(PROBE_G, OASIS6, NH_ICMP, m, plen=len(m) + 8))
        # A next header nobody handles.
        W.P.send(ip6(PROBE_G, OASIS6, 253, bytes(16)))
        W.P.poll(0.3)
    expect_truth6(w, "IPv6 header errors")
    expect(w, "ipv6", "Ip6InHdrErrors", 2, "version 4 under the IPv6 EtherType; a multicast source")
    expect(w, "ipv6", "Ip6InAddrErrors", 1, "to 2001:db8:77::99, not ours")
    expect(w, "ipv6", "Ip6InTruncatedPkts", 1, "Payload Length past the frame")
    expect(w, "ipv6", "Ip6InUnknownProtos", 1, "next header 253")
    expect(w, "icmp6", "Icmp6InEchos", 2, "the good one and the one with hop limit 0")
    pps = [f for f in w.outf if f.icmp_type == W6.PARAM_PROB]
    check(len(pps) == 1, f"{len(pps)} Parameter Problems on the TAP, want 1 (next header 253)")
    body = pps[0].ip[40:]
    check(body[1] == 1 and struct.unpack("!I", body[4:8])[0] == 6,
          f"Parameter Problem code {body[1]} pointer {struct.unpack('!I', body[4:8])[0]}, want code 1 "
          "pointer 6 (RFC 8200 4)")
    replies = [f for f in w.outf if f.icmp_type == W6.ECHO_REP]
    check(len(replies) == 2, f"{len(replies)} echo replies, want 2 (hop limit 0 answered)")
    ok("RFC 4293 ipSystemStats*", "InReceives counts errors too; a bad version and a "
       "multicast source in InHdrErrors (hop limit 0 delivered: RFC 8200 3); not ours in "
       "InAddrErrors; a short frame in InTruncatedPkts; next header 253 in InUnknownProtos, "
       "answered by Parameter Problem code 1 pointer 6, counted out")


def icmp6_errors_in():
    ident = random.getrandbits(15)
    with Window6() as w:
        W.P.send(ip6(PROBE_G, OASIS6, NH_ICMP,
                     icmp6(PROBE_G, OASIS6, ECHO_REQ, 0, echo_body(ident, 1, b"x" * 8), bad_csum=True)))
        # Four bytes: shorter than any ICMPv6 message (RFC 4443 2.1).
        short = struct.pack("!BBH", ECHO_REQ, 0, 0)
        c = W.csum(pseudo6(PROBE_G, OASIS6, NH_ICMP, 4) + short)
        W.P.send(ip6(PROBE_G, OASIS6, NH_ICMP, short[:2] + struct.pack("!H", c)))
        # An informational type nobody knows (RFC 4443 2.4 b: dropped).
        W.P.send(ip6(PROBE_G, OASIS6, NH_ICMP, icmp6(PROBE_G, OASIS6, 200, 0, bytes(4))))
        W.P.poll(0.3)
    expect_truth6(w, "bad ICMPv6")
    expect(w, "icmp6", "Icmp6InMsgs", 3, "icmpStatsInMsgs includes the messages in error (RFC 4293)")
    expect(w, "icmp6", "Icmp6InErrors", 2, "bad checksum and bad length")
    expect(w, "icmp6", "Icmp6InCsumErrors", 1, "bad checksum")
    expect(w, "icmp6", "Icmp6OutMsgs", 0, "nothing answered")
    ok("RFC 4293 icmpStatsInMsgs/InErrors", "bad checksum and bad length: both in InMsgs "
       "and InErrors; an unknown informational type in InMsgs alone")


def nd6():
    other = "2001:db8:77::%x" % random.randrange(0x200, 0xFFFF)
    W.P.owned[other] = W6.PROBE_MAC
    with Window6() as w:
        ns = struct.pack("!I", 0) + a6(OASIS6) + W6.lla_opt(1, W6.PROBE_MAC)
        W.P.nd(W6.NS, ns, dst=sol_node(OASIS6))
        W.P.nd(W6.NS, ns, dst=sol_node(OASIS6), hlim=254)  # RFC 4861 7.1.1: dropped
        # From an address Oasis has never heard of: it solicits it first.
        W.P.send(echo6(random.getrandbits(15), src=other))
        W.P.poll(0.5)
    expect_truth6(w, "Neighbour Discovery")
    expect(w, "nd", "NdBadHopLimit", 1, "the NS with hop limit 254")
    nas = count(w.outf, W6.NA)
    sols = count(w.outf, W6.NS)
    check(nas >= 1, "no NA to the NS")
    check(sols >= 1, f"Oasis sent no NS for {other}")
    ok("RFC 4293 icmpMsgStatsTable / RFC 4861", f"NS in (one with hop limit 254: counted, "
       f"dropped), {nas} NA out, {sols} NS out for a new neighbour, its NA in, per type as on the TAP")


def mld6():
    with Window6() as w:
        W6.mld_query(PROBE_LL, max_ms=300)
        W.P.poll(0.8)
    expect_truth6(w, "an MLD general query")
    reports = count(w.outf, 143)
    check(reports >= 1, "no MLDv2 report to the general query")
    ok("RFC 4293 icmpMsgStatsTable / RFC 3810", f"a general query in (to ff02::1: "
       f"InMcastPkts), {reports} MLDv2 report(s) out (OutMcastPkts)")


def fragments6():
    ident = random.getrandbits(31)
    data = bytes(range(256)) * 11 + bytes(176)  # 2992 bytes: a 3000-byte message
    m = icmp6(PROBE_G, OASIS6, ECHO_REQ, 0, echo_body(ident & 0x7FFF, 1, data))
    with Window6() as w:
        for f in frags(PROBE_G, OASIS6, NH_ICMP, m, [1448, 2896], ident):
            W.P.send(f)
        # RFC 5722: an overlap drops the datagram.
        a, _ = W6.echo_frags([504], ident + 1)
        W.P.send(a)
        W.P.send(ip6(PROBE_G, OASIS6, NH_FRAG, frag_hdr(NH_ICMP, 496, True, ident + 1) + bytes(16)))
        # RFC 7112: a first fragment without the upper-layer header.
        body = ext(NH_ICMP, bytes(6)) + icmp6(PROBE_G, OASIS6, ECHO_REQ, 0, echo_body(1, 1, bytes(64)))
        W.P.send(frags(PROBE_G, OASIS6, NH_DST, body, [8], ident + 2)[0])
        W.P.poll(0.5)
    expect_truth6(w, "fragments", reasm=[ECHO_REQ])
    expect(w, "ipv6", "Ip6ReasmReqds", 6, "six fragments in")
    expect(w, "ipv6", "Ip6ReasmOKs", 1, "the echo request, reassembled")
    expect(w, "ipv6", "Ip6ReasmFails", 2, "the overlap and the first fragment without its header")
    out = [f for f in w.outf if f.frag and not f.atomic]
    expect(w, "ipv6", "Ip6FragCreates", len(out), "fragments from Oasis on the TAP")
    expect(w, "ipv6", "Ip6FragOKs", len({f.frag[2] for f in out}), "datagrams Oasis fragmented")
    check(len(out) >= 2 and all(f.proto == NH_ICMP or f.off for f in out),
          f"the 3000-byte reply in {len(out)} fragments")
    pp = [f for f in w.outf if f.icmp_type == W6.PARAM_PROB]
    check(len(pp) == 1 and pp[0].ip[41] == 3, "no Parameter Problem code 3 (RFC 7112)")
    ok("RFC 4293 Reasm*/OutFrag*", f"3 fragments reassembled, an overlap and a headless "
       f"first fragment failed; the reply in {len(out)} fragments: FragOKs 1, FragCreates {len(out)}")


def udp6(sport, dport, data, csum="ok", length=None):
    ulen = 8 + len(data) if length is None else length
    u = struct.pack("!HHHH", sport, dport, ulen, 0) + data
    c = W.csum(pseudo6(PROBE_G, OASIS6, NH_UDP, len(u)) + u) or 0xFFFF
    c = {"ok": c, "bad": c ^ 0x1234, "zero": 0}[csum]
    return ip6(PROBE_G, OASIS6, NH_UDP, u[:6] + struct.pack("!H", c) + u[8:])


def udp6_counters():
    with Window6() as w:
        W.P.send(udp6(5000, CLOSED_PORT, b"nobody"))
        W.P.send(udp6(5000, CLOSED_PORT, b"bad sum", csum="bad"))
        W.P.send(udp6(5000, CLOSED_PORT, b"no sum", csum="zero"))  # RFC 8200 8.1: not allowed
        W.P.send(udp6(5000, CLOSED_PORT, b"long", length=40))  # Length past the payload
        W.P.poll(0.3)
    expect_truth6(w, "UDP over IPv6")
    expect(w, "udp6", "Udp6NoPorts", 1, "no application at the port")
    expect(w, "udp6", "Udp6InErrors", 3, "bad checksum, zero checksum, bad length")
    expect(w, "udp6", "Udp6InCsumErrors", 2, "bad and zero checksum (as Linux)")
    expect(w, "udp6", "Udp6InZeroCsum", 1, "zero checksum")
    expect(w, "udp6", "Udp6InDatagrams", 0, "nothing delivered")
    expect(w, "udp", "NoPorts", 0, "IPv4's UDP counters untouched")
    expect(w, "udp", "InErrors", 0, "IPv4's UDP counters untouched")
    du = [f for f in w.outf if f.icmp_type == W6.DEST_UNREACH]
    check(len(du) == 1 and du[0].ip[41] == 4, "no Port Unreachable (code 4) to the closed port")
    ok("RFC 4113 udpNoPorts/udpInErrors", "no port: NoPorts and a Port Unreachable; bad, "
       "zero checksum and bad length: InErrors; in udp6, udp (IPv4) untouched")


def main():
    # mib_probe.py's TCP scenarios, over IPv6: the same TCP-MIB objects.
    M.FAM = M.types.SimpleNamespace(conn=W6.Conn6, window=Window6, truth=expect_truth6,
                                    mss=W6.MSS1440, tag=" over IPv6",
                                    delivers=("ipv6", "Ip6InDelivers"))
    P = W6.Probe6(W.TAP)
    W.P = W6.P = P
    P.resolve()
    # RFC 4861 6.3.7: an RA (lifetime 0: no default router) ends the
    # solicitations, so none of them falls on a window's edge by chance.
    P.nd(W6.RA, W6.ra_body(), src=PROBE_LL, dst=ALL_NODES)
    P.poll(1.5)  # the start's MLD reports, over
    M.S = Sniffer6(W.TAP)
    M.SC = M.Scraper(W6.Conn6(dport=W.METRICS_PORT))
    checks = [M.baseline, M.established_reset_by_peer, M.curr_estab_gauge, M.syn_rcvd_reset,
              M.closed_port_and_bad_segments, M.retransmissions,
              ip6_errors, icmp6_errors_in, nd6, mld6, fragments6, udp6_counters]
    return M.run_all(checks, "mib probe6")


if __name__ == "__main__":
    sys.exit(min(main(), 100))
