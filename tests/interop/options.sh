#!/usr/bin/env bash
# TCP options negotiated with Linux, as the kernel sees them: window
# scaling, timestamps, SACK, and an MSS that matches the MTU. Both ways:
# Oasis's SYN (active open) and Oasis's SYN-ACK (passive open).
# Args: OASIS_BIN MTU
TEST_NAME="interop_options_mtu${2:-1500}"
source "$(dirname "$0")/lib.sh"
MTU=${2:-1500}
need ss

setup_ns "$MTU"
# With timestamps, 12 bytes of every segment go to the option.
WANT_MSS=$((MTU - 40 - 12))

check_info() { # line what
    local line=$1 what=$2
    [ -n "$line" ] || fail "$what: no TCP_INFO line"
    grep -q "options=ts,sack,wscale " <<<"$line" || fail "$what: not all of ts, sack, wscale: $line"
    pass "$what: timestamps, SACK and window scaling negotiated"
    # snd_wscale is Oasis's shift; its 4 MiB buffer needs one.
    local ws
    ws=$(grep -o 'snd_wscale=[0-9]*' <<<"$line" | cut -d= -f2)
    [ "$ws" -gt 0 ] || fail "$what: Oasis announced window shift 0"
    pass "$what: Oasis's window shift is $ws"
    expect_eq "$(grep -o 'snd_mss=[0-9]*' <<<"$line" | cut -d= -f2)" "$WANT_MSS" "$what: Linux's MSS toward Oasis"
}

check_ss() { # filter what: ss's own view (it shows wscale and mss)
    local line
    line=$(ns ss -tinH state established "$1" | tr '\n\t' '  ')
    echo "ss: $line" >>"$TMP/ss.log"
    grep -q "wscale:[0-9]*,[0-9]*" <<<"$line" || fail "$2: ss shows no wscale: $line"
    grep -q " mss:$WANT_MSS " <<<"$line" || fail "$2: ss shows no mss:$WANT_MSS: $line"
    pass "$2: ss -tin shows $(grep -o 'wscale:[0-9,]*' <<<"$line") mss:$WANT_MSS"
}

# Oasis opens (its SYN carries the options).
bg server python3 "$HERE/tcpinfo.py" server "$LINUX_IP" 6003
wait_for "$TMP/server.log" "listening" 10
bg nc "$OASIS" nc -d --info --mtu "$MTU" --tap "$TAP" --addr "$OASIS_IP/24" "$LINUX_IP" 6003
NC_PID=$BG_PID
wait_for "$TMP/nc.log" "connected" 10
wait_for "$TMP/server.log" "options=" 10
check_info "$(grep options= "$TMP/server.log")" "Oasis's SYN"
check_ss "( sport = :6003 )" "Oasis's SYN"
grep -q "mss_send $((MTU - 40)) .*timestamps 1 sack 1" "$TMP/nc.log" ||
    fail "Oasis's own view differs: $(grep mss_send "$TMP/nc.log")"
pass "Oasis's SYN: Oasis's tcp_info agrees (mss_send $((MTU - 40)), timestamps, SACK)"
kill -TERM "$NC_PID"
wait "$NC_PID" || true

# Linux opens (Oasis's SYN-ACK carries them).
start_serve --mtu "$MTU" --http-port 0
line=$(ns python3 "$HERE/tcpinfo.py" client "$OASIS_IP" 9) || fail "cannot connect to Oasis"
check_info "$line" "Oasis's SYN-ACK"
bg client bash -c "sleep 5 | socat -u - TCP:$OASIS_IP:9"
for ((i = 0; i < 50; i++)); do
    ns ss -tnH state established "( dport = :9 )" | grep -q . && break
    sleep 0.1
done
check_ss "( dport = :9 )" "Oasis's SYN-ACK"
stop_pid "$SERVE_PID" "oasis serve"
