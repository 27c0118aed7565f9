#!/usr/bin/env bash
# Names (issue 15): dnsmasq in the namespace answers DNS for files.test
# (--no-resolv: nothing leaves the namespace), Python's http.server serves a
# file, and `oasis get http://files.test:8000/...` downloads it by name,
# SHA-256 checked. big.test has 60 addresses, a 1 KB answer: too many for
# 512 octets, but Oasis's queries carry an EDNS(0) OPT for 1232 (RFC 6891),
# so dnsmasq sends it whole over UDP, no TCP. huge.test has 100 (1.6 KB,
# over 1232): dnsmasq truncates it (TC=1) and Oasis asks again over TCP.
# nope.test does not exist (NXDOMAIN); `oasis ping NAME` works too.
TEST_NAME=interop_dns
NS_TAG=${NS_TAG:-dns15}
source "$(dirname "$0")/lib.sh"
need dnsmasq

setup_ns 1500
# The extra addresses big.test and huge.test point to, all on the Linux side.
for i in $(seq 100 199); do ns ip addr add "10.77.0.$i/24" dev "$TAP"; done
{
    echo "10.77.0.1 files.test"
    echo "10.77.0.1 influx.test"
    for i in $(seq 100 159); do echo "10.77.0.$i big.test"; done
    for i in $(seq 100 199); do echo "10.77.0.$i huge.test"; done
} >"$TMP/hosts"
bg dnsmasq dnsmasq --keep-in-foreground --log-facility=- --log-queries --no-resolv --no-hosts \
    --conf-file=/dev/null --pid-file= --user=root --bind-interfaces --listen-address="$LINUX_IP" \
    --port=53 --addn-hosts="$TMP/hosts" --local=/test/
wait_port 53

mkdir -p "$TMP/www"
head -c 4194304 /dev/urandom >"$TMP/www/file.bin"
want=$(sha256sum <"$TMP/www/file.bin" | cut -d' ' -f1)
bg httpd python3 -m http.server 8000 --bind 0.0.0.0 --directory "$TMP/www"
wait_port 8000

oasis_run get-name 60 get --verbose --dns "$LINUX_IP" -o "$TMP/out.bin" "http://files.test:8000/file.bin"
[ "$RC" -eq 0 ] || fail "oasis get by name exited $RC"
grep -q "files.test is 10.77.0.1" "$TMP/get-name.log" || fail "no word of the lookup"
expect_eq "$(awk '$1 == "sha256" {print $2}' "$TMP/get-name.log")" "$want" "download by name, SHA-256"
expect_eq "$(sha256sum <"$TMP/out.bin" | cut -d' ' -f1)" "$want" "the written file"
grep -q "query\[A\] files.test from $OASIS_IP" "$TMP/dnsmasq.log" || fail "dnsmasq saw no query from Oasis"
pass "dnsmasq answered Oasis's query"

oasis_run get-big 60 get --verbose --dns "$LINUX_IP" -q "http://big.test:8000/file.bin"
[ "$RC" -eq 0 ] || fail "oasis get of big.test exited $RC"
grep -Eq "big.test is 10\.77\.0\.1[0-5][0-9] \(udp queries 1, truncated 0, tcp queries 0\)" \
    "$TMP/get-big.log" || fail "big.test (1 KB) was not resolved by one UDP query with EDNS"
expect_eq "$(awk '$1 == "sha256" {print $2}' "$TMP/get-big.log")" "$want" "1 KB answer over UDP (EDNS), download"

oasis_run get-huge 60 get --verbose --dns "$LINUX_IP" -q "http://huge.test:8000/file.bin"
[ "$RC" -eq 0 ] || fail "oasis get of huge.test exited $RC"
grep -Eq "huge.test is 10\.77\.0\.1[0-9][0-9] .*truncated 1, tcp queries 1" "$TMP/get-huge.log" ||
    fail "huge.test was not resolved over TCP after truncation"
expect_eq "$(awk '$1 == "sha256" {print $2}' "$TMP/get-huge.log")" "$want" "TC=1 then TCP, download"

oasis_run get-nx 60 get --dns "$LINUX_IP" -q "http://nope.test:8000/file.bin"
expect_eq "$RC" "1" "exit status for a name that does not exist"
grep -q "NXDOMAIN" "$TMP/get-nx.log" || fail "no word about NXDOMAIN"
pass "NXDOMAIN reported"

oasis_run ping-name 30 ping --dns "$LINUX_IP" -c 1 -W 2 files.test
[ "$RC" -eq 0 ] || fail "oasis ping files.test exited $RC"
pass "ping by name"

oasis_run get-nodns 30 get -q "http://files.test:8000/file.bin"
expect_eq "$RC" "1" "exit status without a DNS server"
grep -q "no DNS server" "$TMP/get-nodns.log" || fail "no word about the missing server"
pass "no server: said so"

# --influx with a host name: a stand-in InfluxDB 1.x that logs what it gets.
cat >"$TMP/sink.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        print("POST", self.path, len(body), flush=True)
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("0.0.0.0", 8086), H).serve_forever()
PY
bg sink python3 "$TMP/sink.py"
wait_port 8086
start_serve --dns "$LINUX_IP" --influx http://influx.test:8086/oasis --influx-interval 200
wait_for "$TMP/sink.log" "^POST /write\?db=oasis" 20
pass "--influx http://influx.test:8086/oasis reports by name"
stop_pid "$SERVE_PID" "oasis serve"

# A search list (RFC 1123 6.1.4.3 partial names, resolv.conf's rules):
# "files" has no dot, so it is tried in each domain before as given.
oasis_run get-search 60 get --verbose --dns "$LINUX_IP" --search nowhere.test --search test \
    -q "http://files:8000/file.bin"
[ "$RC" -eq 0 ] || { cat "$TMP/get-search.log"; fail "oasis get http://files:8000/ with --search exited $RC"; }
grep -q "files answered as files.test (search list tries 1)" "$TMP/get-search.log" ||
    fail "files did not resolve as files.test on the second domain"
grep -q "query\[A\] files.nowhere.test from $OASIS_IP" "$TMP/dnsmasq.log" ||
    fail "dnsmasq saw no query for the first domain"
expect_eq "$(awk '$1 == "sha256" {print $2}' "$TMP/get-search.log")" "$want" "download by short name"

# The same list from DHCP: option 119 (RFC 3397, names compressed by
# dnsmasq) and option 15. A second dnsmasq serves DHCP only (--port=0).
bg dhcpd dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface="$TAP" \
    --bind-interfaces --except-interface=lo --user=root --group=root --no-ping \
    --dhcp-range=10.77.0.50,10.77.0.99,255.255.255.0,2m --dhcp-option=6,"$LINUX_IP" \
    --dhcp-option=option:domain-search,nowhere.test,test --domain=lan.test \
    --dhcp-leasefile="$TMP/leases" --log-dhcp --log-facility=- --pid-file=
wait_for "$TMP/dhcpd.log" "DHCP, IP range 10.77.0.50" 10
RC=0
timeout -k 5 60 ip netns exec "$NS" "$OASIS" get --tap "$TAP" --dhcp --verbose -q \
    "http://files:8000/file.bin" >"$TMP/get-dhcp.log" 2>&1 || RC=$?
[ "$RC" -eq 0 ] || { cat "$TMP/get-dhcp.log"; fail "oasis get --dhcp http://files:8000/ exited $RC"; }
grep -q "dhcp: bound .* domain lan.test search nowhere.test,test" "$TMP/get-dhcp.log" ||
    fail "the lease did not carry the domain and the search list"
grep -q "files answered as files.test (search list tries 1)" "$TMP/get-dhcp.log" ||
    fail "files did not resolve through the lease's search list"
expect_eq "$(awk '$1 == "sha256" {print $2}' "$TMP/get-dhcp.log")" "$want" "download by short name, DHCP's list"
pass "search lists from --search and from DHCP (options 119 and 15)"
