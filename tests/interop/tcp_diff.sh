#!/usr/bin/env bash
# Differential TCP conformance (tcp_diff.py): the same hand-made segments
# at `oasis serve` (TAP oasis0) and at the namespace's own Linux TCP (TAP
# dflx0, the probe holding its file descriptor, so it is the wire), the
# answers normalised side by side. Only Oasis's RFC requirements decide the
# result; Linux's column is for information and for known differences.
# Args: OASIS_BIN
TEST_NAME=interop_tcp_diff
NS_TAG=df
source "$(dirname "$0")/lib.sh"

PROBE_IP=10.77.0.66
LX_TAP=dflx0
LX_IP=10.79.0.1
LX_PROBE_IP=10.79.0.66

setup_ns 1500
start_serve --quiet --max-conns 512
# Linux's side: a TAP whose user side is the probe, Linux's servers behind it.
ns ip tuntap add dev "$LX_TAP" mode tap || fail "cannot create the Linux side's TAP"
ns ip addr add "$LX_IP/24" dev "$LX_TAP"
ns ip link set "$LX_TAP" up
ns ip neigh replace "$LX_PROBE_IP" lladdr 02:a5:c0:ff:ee:df dev "$LX_TAP" nud permanent
# Linux's defaults, stated: ECN answered when asked (2), SACK, timestamps, D-SACK on.
ns sysctl -qw net.ipv4.tcp_ecn=2 net.ipv4.tcp_sack=1 net.ipv4.tcp_timestamps=1 net.ipv4.tcp_dsack=1
# Oasis as a client (oasis nc, started by the probe) on a TAP of its own.
ns ip tuntap add dev oasis1 mode tap || fail "cannot create the client's TAP"
ns ip addr add 10.78.0.1/24 dev oasis1
ns ip link set oasis1 up
bg linux python3 "$HERE/tcp_diff.py" --linux-servers "$LX_IP"
wait_for "$TMP/linux.log" "linux servers ready" 10

rc=0
ns timeout 300 python3 "$HERE/tcp_diff.py" "$TAP" "$OASIS_IP" "$PROBE_IP" "$LX_TAP" "$LX_IP" "$LX_PROBE_IP" \
    "oasis1,10.78.0.2,10.78.0.66,$OASIS" \
    >"$TMP/diff.log" 2>&1 || rc=$?
sed 's/^/  /' "$TMP/diff.log"
serve_alive "after the differential probe"
[ "$rc" -eq 0 ] || fail "$rc Oasis requirement(s) failed (see above)"
pass "differential probe: $(grep -c '^   ok:' "$TMP/diff.log") Oasis requirements met"
stop_pid "$SERVE_PID" "oasis serve"
