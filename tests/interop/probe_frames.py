"""Frame helpers the raw-frame probes share (wire_probe.py, wire_probe6.py,
tcp_diff.py): the Internet checksum, TCP segments over IPv4, and the
AF_PACKET socket a probe reads and writes a TAP's frames with. Standard
library only; nothing here reads the command line."""
import ctypes
import socket
import struct

PACKET_OUTGOING = 4
SOL_PACKET, PACKET_VNET_HDR = 263, 15  # linux/socket.h, if_packet.h: frames carry a virtio_net_hdr


def ip4(a):
    return socket.inet_aton(a)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_bytes(src, dst, sport, dport, seq, ack, flags, win=65535, opts=b"", data=b"",
              doff=None, bad_csum=False, urg_ptr=0, flags_extra=0):
    opts += b"\0" * (-len(opts) % 4)
    off = doff if doff is not None else (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                    off << 4, flags | flags_extra, win, 0, urg_ptr) + opts
    seg = h + data
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(pseudo + seg)
    if bad_csum:
        c ^= 0x5A5A
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def packet_socket(tap):
    """An AF_PACKET socket on the TAP, frames with a virtio_net_hdr, that
    keeps up with a flood: the kernel filters out the probe's own outgoing
    copies (half of a flood's frames) and the receive buffer is large, so
    Oasis's answers are not lost in the probe's own queue."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
    except OSError:
        pass
    # Classic BPF: A = skb->pkt_type; drop if PACKET_OUTGOING, else accept.
    prog = struct.pack("HBBI" * 4,
                       0x20, 0, 0, 0xFFFFF004,          # ld [SKF_AD_OFF + SKF_AD_PKTTYPE]
                       0x15, 0, 1, PACKET_OUTGOING,     # jeq #PACKET_OUTGOING, drop, accept
                       0x06, 0, 0, 0,                   # drop: ret #0
                       0x06, 0, 0, 0x40000)             # accept: ret #262144
    buf = ctypes.create_string_buffer(prog)
    fprog = struct.pack("HL", 4, ctypes.addressof(buf))  # struct sock_fprog
    s.setsockopt(socket.SOL_SOCKET, 26, fprog)  # SO_ATTACH_FILTER (copied at attach)
    s.bind((tap, 0))
    return s
