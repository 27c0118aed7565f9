#!/usr/bin/env bash
# DNS from Router Advertisements (RFC 8106) against radvd: radvd advertises
# a prefix, an RDNSS option naming dnsmasq's IPv6 address and a DNSSL
# option; dnsmasq (--no-resolv: nothing leaves the namespace) answers
# web6.oasis.test with an IPv6 address only. With no --dns and no DHCP,
# `oasis ping NAME` and `oasis get http://NAME:8000/...` find the server
# through the RA, ask A (the stack has an IPv4 address), get no data, ask
# AAAA, and reach the name over IPv6; the download is SHA-256 checked.
TEST_NAME=interop_ra_dns
NS_TAG=radns
source "$(dirname "$0")/lib.sh"
need radvd dnsmasq python3

V6=2001:db8:5::1
setup_ns 1500
tap_ipv6 "$V6/64"
ns sysctl -qw net.ipv6.conf.all.forwarding=1 # radvd wants a router
cat >"$TMP/radvd.conf" <<CONF
interface $TAP {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    prefix 2001:db8:5::/64 {
        AdvOnLink on;
        AdvAutonomous on;
    };
    RDNSS $V6 {
        AdvRDNSSLifetime 600;
    };
    DNSSL oasis.test lab.oasis.test {
        AdvDNSSLLifetime 600;
    };
};
CONF
bg dnsmasq dnsmasq --keep-in-foreground --log-facility=- --log-queries --no-resolv --no-hosts \
    --conf-file=/dev/null --pid-file= --user=root --bind-interfaces --listen-address="$V6" \
    --port=53 --host-record=web6.oasis.test,$V6 --local=/test/
wait_port 53
bg radvd radvd -n -d 1 -m stderr -C "$TMP/radvd.conf" -p "$TMP/radvd.pid"

# The servers and domains as the stack holds them (oasis serve prints them).
start_serve --http-port 0
wait_for "$TMP/serve.log" "ipv6 dns servers: $V6; search: oasis.test lab.oasis.test" 20
pass "oasis serve learnt the RA's RDNSS ($V6) and DNSSL (oasis.test lab.oasis.test)"
stop_pid "$SERVE_PID" "oasis serve"

oasis_run ping-name 40 ping --verbose -c 2 -W 2 web6.oasis.test
[ "$RC" -eq 0 ] || { cat "$TMP/ping-name.log"; fail "oasis ping web6.oasis.test exited $RC"; }
grep -q "web6.oasis.test is $V6" "$TMP/ping-name.log" || fail "no word of the lookup"
grep -Eq "query\[AAAA\] web6.oasis.test from 2001:db8:5:" "$TMP/dnsmasq.log" ||
    fail "dnsmasq saw no AAAA query from Oasis's SLAAC address"
grep -q "query\[A\] web6.oasis.test" "$TMP/dnsmasq.log" || fail "no A query first"
pass "oasis ping by name: server from the RA, A then AAAA, echo answered over IPv6"

# A short name through the RA's DNSSL (RFC 8106 5.2: the search list):
# web6 is tried as web6.oasis.test first; it has no A record, so the AAAA
# lookup follows and finds it.
oasis_run ping-short 40 ping --verbose -c 1 -W 2 web6
[ "$RC" -eq 0 ] || { cat "$TMP/ping-short.log"; fail "oasis ping web6 exited $RC"; }
grep -q "web6 answered as web6.oasis.test" "$TMP/ping-short.log" ||
    fail "web6 was not resolved through the DNSSL's first domain"
pass "a short name resolved through the RA's DNSSL"

mkdir -p "$TMP/www"
head -c 1048576 /dev/urandom >"$TMP/www/file.bin"
want=$(sha256sum <"$TMP/www/file.bin" | cut -d' ' -f1)
bg httpd python3 -m http.server 8000 --bind "$V6" --directory "$TMP/www"
wait_port 8000
oasis_run get-name 60 get -o "$TMP/out.bin" "http://web6.oasis.test:8000/file.bin"
[ "$RC" -eq 0 ] || { cat "$TMP/get-name.log"; fail "oasis get by name over IPv6 exited $RC"; }
expect_eq "$(sha256sum <"$TMP/out.bin" | cut -d' ' -f1)" "$want" "download by name over IPv6, SHA-256"

# --dns wins over the RA: a server that does not exist is asked and the
# name does not resolve.
oasis_run get-dns 40 get --dns 2001:db8:5::99 -q "http://web6.oasis.test:8000/file.bin"
[ "$RC" -ne 0 ] || fail "with --dns naming a dead server the name still resolved"
grep -q "cannot resolve 'web6.oasis.test'" "$TMP/get-dns.log" || fail "no word of the failed lookup"
pass "--dns overrides the RA's servers"
