#!/usr/bin/env bash
# A hostile DNS server (dns_hostile.py, in the namespace) against Oasis's
# resolver on a real TAP: replies with the wrong ID, source port, source
# address or question before the real one (RFC 5452 9.1: ignored, the real
# one taken); compression pointer loops and RDLENGTH past the end (RFC
# 1035 4.1.4: malformed, the real one taken); TC=1 then a TCP answer one
# octet per segment or with 1000 records (RFC 7766 5, 8), or a TCP length
# prefix of 0 (malformed); a CNAME loop (RFC 1034 5.2.2: an error); the
# first server's SERVFAIL, REFUSED or BADVERS (RFC 6891 6.1.3) with the
# second server answering.
TEST_NAME=interop_dns_hostile
NS_TAG=${NS_TAG:-pdns}
source "$(dirname "$0")/lib.sh"

setup_ns 1500
SRV2=10.77.0.3
OTHER=10.77.0.4
ns ip addr add "$SRV2/24" dev "$TAP"
ns ip addr add "$OTHER/24" dev "$TAP"
bg hostile python3 "$HERE/dns_hostile.py" "$LINUX_IP" "$SRV2" "$OTHER" "$LINUX_IP"
wait_for "$TMP/hostile.log" "^ready" 10

# resolve NAME [oasis options]: `oasis ping` by name, output in $TMP/NAME.log.
resolve() {
    local name=$1
    shift
    oasis_run "$name" 60 ping --verbose --dns "$LINUX_IP" "$@" -c 1 -W 2 "$name"
}

for name in forged.test ptrloop.test rdlen.test; do
    resolve "$name"
    [ "$RC" -eq 0 ] || fail "$name: exited $RC"
    grep -q "$name is $LINUX_IP (udp queries 1, truncated 0, tcp queries 0)" "$TMP/$name.log" ||
        fail "$name: not resolved by its one query"
    pass "$name: the bad replies ignored, the real one taken"
done

for name in drip.test many.test; do
    resolve "$name"
    [ "$RC" -eq 0 ] || fail "$name: exited $RC"
    grep -q "$name is $LINUX_IP (udp queries 1, truncated 1, tcp queries 1)" "$TMP/$name.log" ||
        fail "$name: not resolved over TCP after TC=1"
    pass "$name: TC=1, then the TCP answer"
done
grep -q "tcp drip.test" "$TMP/hostile.log" || fail "the server saw no TCP query for drip.test"

resolve tcp0.test
[ "$RC" -ne 0 ] || fail "tcp0.test resolved from a length prefix of 0"
grep -q "malformed DNS answer" "$TMP/tcp0.test.log" || fail "tcp0.test: no word of a malformed answer"
pass "TCP length prefix 0: malformed"

resolve loop.test
[ "$RC" -ne 0 ] || fail "loop.test resolved"
grep -q "CNAME chain too long or looping" "$TMP/loop.test.log" || fail "loop.test: no word of the loop"
pass "CNAME loop across answers: an error"

for name in fail.test refused.test badvers.test; do
    resolve "$name" --dns "$SRV2"
    [ "$RC" -eq 0 ] || fail "$name: exited $RC"
    grep -q "$name is $LINUX_IP (udp queries 2," "$TMP/$name.log" ||
        fail "$name: not answered by the second server at once"
    pass "$name: the first server failed, the second answered"
done
