#!/usr/bin/env bash
# Half-close both ways: the side that sent FIN first still receives the
# other side's data afterwards.
TEST_NAME=interop_halfclose
source "$(dirname "$0")/lib.sh"
need socat

setup_ns 1500
printf 'hello, oasis' >"$TMP/small"
"$OASIS" pattern 8M >"$TMP/big"

# 1. Linux closes first. socat sends the file, then shutdown(SHUT_WR) (its
# "shut-down" default); Oasis's hash service answers only after it read
# Linux's FIN, so every byte of the answer crosses after that FIN.
start_serve --http-port 0
for f in small big; do
    want="$(sha256sum <"$TMP/$f" | cut -d' ' -f1) $(stat -c %s "$TMP/$f")"
    got=$(ns timeout 60 socat -t 30 - "TCP:$OASIS_IP:5001,shut-down" <"$TMP/$f") ||
        fail "socat to the hash service failed ($f)"
    expect_eq "$got" "$want" "Linux half-closed first, then got Oasis's answer ($f)"
done
got=$(printf 'abc' | ns timeout 60 socat -t 30 - "TCP:$OASIS_IP:7,shut-down") || fail "echo failed"
expect_eq "$got" "abc" "echo after Linux's half-close"
stop_pid "$SERVE_PID" "oasis serve"

# 2. Oasis closes first. `oasis nc` sends the file and its FIN; the Linux
# server (sha256sum behind socat) answers only after reading that FIN.
for f in small big; do
    bg "server-$f" socat -t 30 TCP-LISTEN:6000,reuseaddr "SYSTEM:sha256sum,shut-down"
    wait_port 6000
    RC=0
    timeout -k 5 60 ip netns exec "$NS" "$OASIS" nc --tap "$TAP" --addr "$OASIS_IP/24" \
        "$LINUX_IP" 6000 <"$TMP/$f" >"$TMP/nc-$f.out" 2>"$TMP/nc-$f.log" || RC=$?
    [ "$RC" -eq 0 ] || fail "oasis nc exited $RC ($f)"
    expect_eq "$(cat "$TMP/nc-$f.out")" "$(sha256sum <"$TMP/$f")" \
        "Oasis half-closed first, then got Linux's answer ($f)"
    wait "$BG_PID" || fail "the Linux server failed ($f)"
done
