#!/usr/bin/env bash
# Closed ports: each stack answers a SYN with RST, the other reports it.
TEST_NAME=interop_refused
source "$(dirname "$0")/lib.sh"
need curl

setup_ns 1500
start_serve --http-port 0

# Linux -> Oasis port 81: curl exits 7 ("Couldn't connect") on a reset, 28
# when the connect timed out, i.e. when Oasis stayed silent.
RC=0
ns curl -sS --connect-timeout 10 "http://$OASIS_IP:81/" >"$TMP/curl.log" 2>&1 || RC=$?
expect_eq "$RC" "7" "curl's exit status for a closed Oasis port"
# The kernel's own word for it: connect() fails with ECONNREFUSED.
got=$(ns python3 -c "
import socket
try:
    socket.create_connection(('$OASIS_IP', 81), timeout=10)
    print('connected')
except ConnectionRefusedError:
    print('refused')
except OSError as e:
    print(type(e).__name__)")
expect_eq "$got" "refused" "Linux's connect() gets ECONNREFUSED"
stop_pid "$SERVE_PID" "oasis serve"

# Oasis -> Linux port 6001 (nothing listens): Refused, not a timeout.
oasis_run nc 60 nc -d "$LINUX_IP" 6001
expect_eq "$RC" "4" "oasis nc's exit status for a closed Linux port"
grep -q "OASIS_EREFUSED" "$TMP/nc.log" || fail "oasis nc did not report OASIS_EREFUSED"
pass "Oasis reports OASIS_EREFUSED"
oasis_run get 60 get -q "http://$LINUX_IP:6001/"
expect_eq "$RC" "4" "oasis get's exit status for a closed Linux port"

# Oasis -> an address on the link that nobody holds: nothing refuses, ARP
# gets no answer. RFC 4861 7.2.2's rule for IPv6, and Linux's for IPv4:
# what waited on the resolution hears "host unreachable"; TCP takes it as a
# soft error (RFC 9293 3.9.2.2) and reports it as it arrives (3.9.1.8), so
# nc says why it is stuck and goes on trying until its --timeout (exit 5).
NOBODY=10.77.0.99
oasis_run nc-nobody 60 nc -d --timeout 20 "$NOBODY" 6001
expect_eq "$RC" "5" "oasis nc's exit status when nobody answers"
grep -q "oasis nc: host unreachable (OASIS_EHOSTUNREACH); still trying" "$TMP/nc-nobody.log" ||
    fail "oasis nc did not report the unreachable host: $(cat "$TMP/nc-nobody.log")"
grep -q -- "--timeout reached" "$TMP/nc-nobody.log" || fail "nc did not end at its --timeout"
grep -q "connect failed" "$TMP/nc-nobody.log" && fail "nc called the attempt failed: $(cat "$TMP/nc-nobody.log")"
pass "no ARP answer for $NOBODY: nc reported OASIS_EHOSTUNREACH and kept trying"
oasis_run get-nobody 60 get --timeout 15 "http://$NOBODY:6001/"
expect_eq "$RC" "5" "oasis get's exit status when nobody answers"
grep -q "oasis get: host unreachable (OASIS_EHOSTUNREACH); still trying" "$TMP/get-nobody.log" ||
    fail "oasis get did not report the unreachable host: $(cat "$TMP/get-nobody.log")"
grep -q "cannot connect" "$TMP/get-nobody.log" && fail "get called the attempt failed: $(cat "$TMP/get-nobody.log")"
pass "no ARP answer for $NOBODY: get reported OASIS_EHOSTUNREACH while it waited"
# --fail-fast (cfg.tcp.soft_errors_end_connect, RFC 5461 4; what Linux's
# connect does): the attempt ends when ARP gives up, well before --timeout.
oasis_run nc-nobody-fast 60 nc -d --fail-fast --timeout 40 "$NOBODY" 6001
expect_eq "$RC" "5" "oasis nc --fail-fast's exit status when nobody answers"
grep -q "oasis nc: connect failed: .*(OASIS_EHOSTUNREACH)" "$TMP/nc-nobody-fast.log" ||
    fail "oasis nc --fail-fast did not end with host unreachable: $(cat "$TMP/nc-nobody-fast.log")"
grep -q -- "--timeout reached" "$TMP/nc-nobody-fast.log" &&
    fail "oasis nc --fail-fast waited for its --timeout: $(cat "$TMP/nc-nobody-fast.log")"
pass "no ARP answer for $NOBODY: nc --fail-fast ended with OASIS_EHOSTUNREACH"
