#!/usr/bin/env python3
"""Floods of hostile frames at `oasis serve`, from the wire, with bounded
state as the check (hostile_floods.sh). A host of its own on the TAP's link
(wire_probe.py's Probe: a made-up MAC and address, AF_PACKET), so the
kernel's TCP never answers Oasis's segments.

  ofo_flood        thousands of 1-byte out-of-order segments per flow, one
                   every other byte, in random order: the store keeps its
                   bound (TCPOFODrop counts the rest), buffer memory stays
                   small, and the in-order data then echoes intact
  frag_flood       20,000 first fragments that never complete, from 100
                   addresses: reassembly memory stays under its bound
                   (RFC 791 3.2; RFC 1122 3.3.2), overflows counted
  syn_flood        20,000 SYNs from one live address: the half-open flows
                   stay within the backlog, SYN cookies beyond it
                   (RFC 4987 3.6)
  handshake_flood  2,000 handshakes completed (cookies included) that never
                   send a request: a real client is still served, and
                   resets give every flow back
  seq_wrap         the client's sequence numbers wrap past 2^32 mid-stream:
                   50,000 bytes echo intact (RFC 9293 3.4: modulo 2^32)

Every check prints "ok: ..." or "FAIL: ..."; the exit status is the number
of failed checks. Usage: hostile_floods.py TAP OASIS_IP PROBE_IP METRICS_PORT
"""
import os
import random
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire_probe as W  # noqa: E402  (reads TAP, addresses, port from sys.argv)
from wire_probe import ACK, MSS1460, RST, SYN, Conn, Delta, Fail, check, counter, ip_bytes, ok  # noqa: E402

FAILED = []


def body(n):
    return urllib.request.urlopen(f"http://{W.OASIS_IP}/bytes/{n}", timeout=20).read()


def gauge(name):
    return counter(W.metrics(), "tcp", name)


def ofo_flood():
    P = W.P
    n, conns = 8, []
    for _ in range(n):
        c = Conn(dport=W.ECHO)
        c.open()
        conns.append(c)
    size = 20000
    data = bytes(random.getrandbits(8) for _ in range(size))
    with Delta() as d:
        for c in conns:
            odd = list(range(1, size, 2))
            random.shuffle(odd)
            for k, i in enumerate(odd):
                c.send(ACK, seq=c.snd_nxt + i, data=data[i:i + 1])
                if k % 200 == 199:
                    P.poll(0.001)
                    P.pending.clear()
        P.poll(0.2)
        P.pending.clear()
        mem = gauge("TCPMemBytes")
        for c in conns:
            for i in range(0, size, 1000):
                c.write(data[i:i + 1000])
                got = c.read(1000, timeout=20.0)
                check(got == data[i:i + 1000], f"echo after the flood differs at {i}")
            c.close()
    drops = d.get("tcp", "TCPOFODrop") + d.get("tcp", "TCPOFOMemDrop")
    check(drops >= 1, "no out-of-order segment dropped: the store has no bound?")
    check(mem <= 4 << 20, f"TCPMemBytes {mem} during {n} flows of 1-byte out-of-order segments")
    ok("RFC 9293 3.10.7.4", f"{n} x {size // 2} one-byte out-of-order segments: "
       f"{int(drops)} dropped beyond the store's bound, buffer memory {int(mem)} bytes, "
       "then every flow's data echoed intact")


def frag_flood():
    P = W.P
    net = W.OASIS_IP.rsplit(".", 1)[0]
    with Delta() as d:
        for i in range(20000):
            src = f"{net}.{100 + i % 100}"
            P.send_ip(ip_bytes(bytes(1480), src, W.OASIS_IP, proto=17, ident=i & 0xFFFF, df=False, mf=True))
            if i % 500 == 499:
                P.poll(0.001)
                P.pending.clear()
        P.poll(0.2)
        P.pending.clear()
        held = counter(W.metrics(), "ipv4", "ReasmBytes")
        check(body(5000) == W.pattern(5000), "a real client after the fragments: wrong body")
    check(held <= 256 * 1024, f"ReasmBytes {held} above the default bound (256 KiB)")
    check(d.get("ipv4", "ReasmOverflows") >= 1, "no reassembly overflow counted")
    ok("RFC 791 3.2 / RFC 1122 3.3.2", f"20000 first fragments that never complete: reassembly holds "
       f"{int(held)} bytes, {int(d.get('ipv4', 'ReasmOverflows'))} evicted and counted; still serving")


def syn_flood():
    P = W.P
    with Delta() as d:
        for i in range(20000):
            P.send_tcp(1024 + i, W.HTTP, random.getrandbits(32), 0, SYN, opts=MSS1460)
            if i % 200 == 199:
                P.poll(0.001)
                P.pending.clear()
        P.poll(0.3)
        P.pending.clear()
        flows = gauge("CurrFlows")
        check(body(5000) == W.pattern(5000), "a real client during the flood: wrong body")
    check(flows <= 1024 + 64, f"{flows} flows after 20000 unanswered SYNs (backlog 1024)")
    check(d.get("tcp", "SyncookiesSent") >= 1, "no SYN cookie beyond the backlog")
    ok("RFC 4987 3.6", f"20000 SYNs never completed: {int(flows)} flows held (backlog 1024), "
       f"{int(d.get('tcp', 'SyncookiesSent'))} SYN cookies; a real client served")


def handshake_flood():
    P = W.P
    n, isn = 2000, {}
    answered = set()  # ports whose SYN-ACK came (and got the handshake's ACK)

    def complete():
        for sg in P.pending:
            if sg.has(SYN | ACK) and sg.dport in isn:
                P.send_tcp(sg.dport, W.HTTP, isn[sg.dport] + 1, sg.seq + 1, ACK)
                answered.add(sg.dport)
        P.pending.clear()

    try:
        for i in range(n):
            port = 30000 + i
            isn[port] = random.getrandbits(32)
            P.send_tcp(port, W.HTTP, isn[port], 0, SYN, opts=MSS1460)
            if i % 100 == 99:
                P.poll(0.002)
                complete()
        # A loaded machine (ASan, a CPU-bound neighbour) drops frames in the
        # TAP's queue, and a SYN cookie's SYN-ACK is never sent again: the
        # client retransmits its SYN, as a real connect does (RFC 6298 2.1:
        # 1 s).
        for _ in range(20):
            for _ in range(5):
                P.poll(0.2)
                complete()
            if len(answered) >= n:
                break
            for port in isn.keys() - answered:
                P.send_tcp(port, W.HTTP, isn[port], 0, SYN, opts=MSS1460)
        check(len(answered) >= n * 9 // 10, f"only {len(answered)} of {n} handshakes answered")
        check(body(5000) == W.pattern(5000), "a real client beside the silent connections: wrong body")
    finally:  # the resets run whatever failed, or the next flood counts these flows
        for port, q in isn.items():
            P.send_tcp(port, W.HTTP, q + 1, 0, RST)
            if port % 200 == 0:
                P.poll(0.001)
                P.pending.clear()
        flows = None
        for _ in range(300):
            P.poll(0.1)
            P.pending.clear()
            flows = gauge("CurrFlows")
            if flows <= 1:
                break
    check(flows <= 1, f"{flows} flows left after resetting the silent connections")
    ok("RFC 9293 3.10.7.4 / RFC 4987 3.6", f"{len(answered)} completed handshakes that never sent a request: "
       "a real client served beside them; their RSTs gave every flow back")


def seq_wrap():
    c = Conn(dport=W.ECHO)
    c.iss = c.snd_nxt = 0xFFFFFFFF - 20000
    c.open()
    data = bytes(random.getrandbits(8) for _ in range(50000))
    for i in range(0, len(data), 1000):
        c.write(data[i:i + 1000])
        got = c.read(1000, timeout=20.0)
        check(got == data[i:i + 1000], f"echo across the wrap differs at byte {i} (seq {(c.iss + 1 + i) & 0xFFFFFFFF})")
    c.close()
    ok("RFC 9293 3.4", "50000 bytes echoed intact while the client's sequence numbers wrapped past 2^32")


def main():
    W.P = W.Probe()
    W.P.resolve()
    for fn in (seq_wrap, ofo_flood, frag_flood, handshake_flood, syn_flood):
        t0 = time.monotonic()
        try:
            fn()
        except Fail as e:
            print(f"FAIL: {fn.__name__}: {e}", flush=True)
            FAILED.append(fn.__name__)
        except Exception as e:  # a broken probe is a failure too
            print(f"FAIL: {fn.__name__}: {type(e).__name__}: {e}", flush=True)
            FAILED.append(fn.__name__)
        print(f"  ({fn.__name__}: {time.monotonic() - t0:.1f} s)", flush=True)
    return len(FAILED)


if __name__ == "__main__":
    sys.exit(min(main(), 100))
