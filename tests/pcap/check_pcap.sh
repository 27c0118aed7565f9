#!/usr/bin/env bash
# Generates the capture, then asserts with tshark (checksum validation on):
# every frame dissects, nothing is malformed, no checksum is bad, and the
# expected conversation is there.
set -euo pipefail
gen=$1 out=$2
"$gen" "$out"
ts() { tshark -n -r "$out" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
         -o udp.check_checksum:TRUE "$@" 2>/dev/null; }
count() { ts -Y "$1" | wc -l; }

total=$(count 'frame')
bad=$(count '_ws.malformed || _ws.expert.severity == error || ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0 || icmpv6.checksum.status == 0')
echo "frames=$total bad=$bad"
fail=0
[ "$total" -gt 50 ] || { echo "FAIL: too few frames ($total)"; fail=1; }
[ "$bad" -eq 0 ] || { echo "FAIL: $bad malformed or bad-checksum frames:"; ts -Y '_ws.malformed || _ws.expert.severity == error || ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0 || icmpv6.checksum.status == 0' | head -20; fail=1; }
for f in 'arp.opcode == 1' 'arp.opcode == 2' 'icmp.type == 8' 'icmp.type == 0' \
         'icmp.type == 3 && icmp.code == 3' 'ip.flags.mf == 1' 'udp.dstport == 9000' \
         'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.options.wscale.shift' \
         'tcp.flags.syn == 1 && tcp.flags.ack == 1' 'tcp.option_kind == 8' \
         'tcp.flags.fin == 1' 'tcp.len > 1000' \
         'icmpv6.type == 135' 'icmpv6.type == 136' 'icmpv6.type == 143' \
         'icmpv6.type == 128' 'icmpv6.type == 129' 'ipv6.fraghdr.more == 1' \
         'icmpv6.type == 135 && ipv6.src == ::' \
         'ipv6 && udp.dstport == 9100 && udp.checksum.status == 1' \
         'ipv6 && udp.length == 4008' \
         'icmpv6.type == 1 && icmpv6.code == 4 && udp.dstport == 9101'; do
  n=$(count "$f")
  [ "$n" -gt 0 ] || { echo "FAIL: no frame matches: $f"; fail=1; }
done
# Checksums must actually have been checked (status 1 = good), not skipped.
for p in ip tcp udp icmp icmpv6; do
  n=$(count "$p.checksum.status == 1")
  [ "$n" -gt 0 ] || { echo "FAIL: no $p checksum was verified good"; fail=1; }
done
# Reassembled UDP payload size as tshark sees it
n=$(count 'udp.length == 4008')
[ "$n" -gt 0 ] || { echo "FAIL: fragmented 4000-byte datagram not reassembled by tshark"; fail=1; }
exit $fail
