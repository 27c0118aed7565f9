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
