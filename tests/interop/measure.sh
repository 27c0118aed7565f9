#!/usr/bin/env bash
# Throughput over TAP (Oasis <-> Linux) beside Linux <-> Linux over a veth
# pair between two namespaces, at MTU 1500 and 9000. Not a test: prints
# figures. Usage: bash measure.sh /path/to/oasis [BYTES] (as root)
TEST_NAME=measure
source "$(dirname "$0")/lib.sh"
BYTES=${2:-2147483648}
need curl socat iperf3

NS2=""
cleanup_veth() { [ -n "$NS2" ] && ip netns del "$NS2" 2>/dev/null; true; }

rate() { python3 -c "print(f'{$BYTES*8/($2-$1)/1e6:7.0f} Mbit/s')"; }

# Oasis -> Linux: curl pulls /bytes/N from oasis serve.
oasis_to_linux() {
    local s
    s=$(ns curl -sS --fail -o /dev/null -w '%{speed_download}' "http://$OASIS_IP/bytes/$BYTES")
    python3 -c "print(f'{$s*8/1e6:7.0f} Mbit/s')"
}

# Linux -> Oasis: socat pushes zeros into oasis serve's discard (no hash).
linux_to_oasis() {
    local a b
    a=$(date +%s.%N)
    ns socat -u -b 1048576 "OPEN:/dev/zero,readbytes=$BYTES" "TCP:$OASIS_IP:9"
    wait_for "$TMP/serve.log" "^discard .*bytes=$BYTES " 30
    b=$(date +%s.%N)
    sed -i "/^discard .*bytes=$BYTES /d" "$TMP/serve.log"
    rate "$a" "$b"
}

# Linux -> Linux over veth, same tools: socat pushes zeros to a socat sink.
veth_pair() { # mtu
    NS2="oasis-it-$$-peer"
    ip netns add "$NS2"
    ns ip link add veth0 mtu "$1" type veth peer name veth1 mtu "$1" netns "$NS2"
    ns ip addr add 10.78.0.1/24 dev veth0
    ns ip link set veth0 up
    ip netns exec "$NS2" ip addr add 10.78.0.2/24 dev veth1
    ip netns exec "$NS2" ip link set veth1 up
    ip netns exec "$NS2" ip link set lo up
}

linux_to_linux_socat() {
    local a b pid
    ip netns exec "$NS2" socat -u -b 1048576 TCP-LISTEN:9,reuseaddr OPEN:/dev/null &
    pid=$!
    sleep 0.3
    a=$(date +%s.%N)
    ns socat -u -b 1048576 "OPEN:/dev/zero,readbytes=$BYTES" TCP:10.78.0.2:9
    wait "$pid"
    b=$(date +%s.%N)
    rate "$a" "$b"
}

linux_to_linux_iperf() {
    local pid out
    ip netns exec "$NS2" iperf3 -s -1 -B 10.78.0.2 >/dev/null 2>&1 &
    pid=$!
    sleep 0.5
    out=$(ns iperf3 -c 10.78.0.2 -t 5 -J | python3 -c "import json,sys; print(f\"{json.load(sys.stdin)['end']['sum_received']['bits_per_second']/1e6:7.0f} Mbit/s\")")
    wait "$pid"
    echo "$out"
}

trap 'rc=$?; cleanup_veth; (exit $rc); cleanup' EXIT
for mtu in 1500 9000; do
    setup_ns "$mtu"
    start_serve --mtu "$mtu" --no-hash --quiet
    o2l=$(oasis_to_linux)
    stop_pid "$SERVE_PID" "oasis serve" >/dev/null
    start_serve --mtu "$mtu" --no-hash
    l2o=$(linux_to_oasis)
    stop_pid "$SERVE_PID" "oasis serve" >/dev/null
    veth_pair "$mtu"
    l2l=$(linux_to_linux_socat)
    l2l_iperf=$(linux_to_linux_iperf)
    echo "MTU $mtu ($BYTES bytes): Oasis->Linux $o2l | Linux->Oasis $l2o | Linux->Linux veth: socat $l2l, iperf3 $l2l_iperf"
    cleanup_veth
    NS2=""
    ip netns del "$NS"
    rm -rf "$TMP"
    PIDS=()
done
