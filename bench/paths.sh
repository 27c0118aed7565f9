#!/usr/bin/env bash
# The real paths: a stack in a network namespace talking to the Linux
# kernel, measured with iperf3 (and `oasis iperf`), both directions, per MTU.
# Prints RESULT lines (bench_util.h's format) on stdout.
#
#   bench/paths.sh OASIS_BIN SECONDS [MTU...]     (as root; default MTUs 1500 9000 65520)
#
# Rows: path_out_mtuN (the namespace side sends to Linux) and path_in_mtuN
# (Linux sends to it); over IPv6, path6_out_mtuN and path6_in_mtuN (Oasis
# and the veth pair only; PATHS_FAMILIES="4" skips them). Peers:
#   oasis        `oasis iperf -s` on a TAP device in a private namespace;
#                Linux's iperf3 -c (and -c -R) from the kernel side of the TAP
#   linux veth   iperf3 between two namespaces over a veth pair (TSO/GRO on)
#   slirp4netns  iperf3 -c 10.0.2.2 from a namespace served by slirp4netns,
#                to iperf3 -s on the host's loopback (rootlesskit's method)
#   pasta        the same through pasta (passt): the namespace's gateway
#                address is mapped to the host's loopback
# Nothing is pinned: each path is two or three processes plus the kernel;
# figures are iperf3's receiver-side wall-clock Gbit/s.
#
# Request/response, MTU 1500: path_rr_1B and path_rr_1024B over IPv4,
# path6_rr_1B and path6_rr_1024B over IPv6 (sizes from PATHS_RR_SIZES, ""
# skips them; PATHS_FAMILIES as for bulk), wall-clock round trips per second of
# linux-bench's client (-r: blocking write(SIZE), read until SIZE, TCP_NODELAY)
# in the kernel-side namespace. Peers:
#   oasis        `oasis serve --echo-port` (RFC 862) on the TAP
#   linux veth   `linux-bench -r PORT echo` (blocking read, write back) in the
#                other namespace of a veth pair
# Nothing pinned either (PATHS_RR_PIN=CPULIST pins client and server, both
# paths, with taskset -c); the note adds the server process's CPU share.
# LINUX_BENCH is linux-bench (default: bench/ beside OASIS_BIN's tools/);
# PATHS_BULK=0 runs only the rr rows; PATHS_TAG names the namespaces.
#
# OASIS_TAP_VARIANTS="name=extra oasis args;..." picks the Oasis rows; by
# default "oasis=--offload off;oasis+offload=--offload on" when the CLI has
# --offload (virtio-net TSO and partial checksums on the TAP), else "oasis=".
set -uo pipefail
OASIS=${1:?usage: paths.sh OASIS_BIN SECONDS [MTU...]}
SECS=${2:?seconds}
shift 2
MTUS=${*:-1500 9000 65520}
TAG=${PATHS_TAG:-b13}-$$
VETH=${PATHS_TAG:-b13}
LINUX_BENCH=${LINUX_BENCH:-$(dirname "$OASIS")/../bench/linux-bench}
NSS=()
PIDS=()
PORT=5217
log() { echo "== paths: $*" >&2; }

cleanup() {
    local p n
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    for n in "${NSS[@]}"; do
        for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$n" 2>/dev/null
    done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

newns() { ip netns add "$1" && NSS+=("$1") && ip -n "$1" link set lo up; }
delns() {
    local p
    for p in $(ip netns pids "$1" 2>/dev/null); do kill "$p" 2>/dev/null; done
    ip netns del "$1" 2>/dev/null
}

# result ROW PEER SETUP JSON: the receiver's Gbit/s from an iperf3 -J file.
result() {
    python3 - "$@" <<'EOF' || log "no figure for $1 $2 ($3)"
import json, sys
row, peer, setup, path = sys.argv[1:5]
e = json.load(open(path))["end"]
bps = e["sum_received"]["bits_per_second"]
cpu = e.get("cpu_utilization_percent", {})
print("RESULT,%s,%s,%s,%.6g,Gbit/s,iperf3 receiver %.2f GB in %.1f s; CPU host %.0f%% remote %.0f%%"
      % (row, peer, setup, bps / 1e9, e["sum_received"]["bytes"] / 1e9,
         e["sum_received"]["seconds"], cpu.get("host_total", 0), cpu.get("remote_total", 0)))
EOF
}

# both NS_CLIENT ADDR PEER SETUP MTU [iperf3 client args]: out and in rows
# for a client in NS_CLIENT (the namespace side) and a server at ADDR (an
# IPv6 address gives the path6 rows).
both() {
    local ns=$1 addr=$2 peer=$3 setup=$4 mtu=$5 row=path
    shift 5
    [[ "$addr" == *:* ]] && row=path6
    local f=/tmp/oasis-paths-$TAG.json
    ip netns exec "$ns" timeout $((SECS + 30)) iperf3 -c "$addr" -p "$PORT" -t "$SECS" -J "$@" >"$f" &&
        result "${row}_out_mtu$mtu" "$peer" "$setup" "$f"
    ip netns exec "$ns" timeout $((SECS + 30)) iperf3 -c "$addr" -p "$PORT" -t "$SECS" -R -J "$@" >"$f" &&
        result "${row}_in_mtu$mtu" "$peer" "$setup" "$f"
    rm -f "$f"
}

# A host-loopback iperf3 server for slirp4netns and pasta (runs for good).
host_server() {
    iperf3 -s -B 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
    PIDS+=($!)
    sleep 0.5
}

# oasis_rows MTU NAME EXTRA [6]: `oasis iperf -s` on a TAP, over IPv4 or
# (6) IPv6 (a static address, no DAD on either side).
oasis_rows() {
    local mtu=$1 name=$2 extra=$3 fam=${4:-4} ns=oasis-$TAG-t
    newns "$ns" || return
    ip netns exec "$ns" ip tuntap add dev oasis0 mode tap
    ip -n "$ns" link set oasis0 mtu "$mtu"
    ip -n "$ns" addr add 10.77.0.1/24 dev oasis0
    local addr=10.77.0.2 row=path v6=
    if [ "$fam" = 6 ]; then
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.oasis0.accept_dad=0
        ip -n "$ns" -6 addr add fd00:77::1/64 dev oasis0 nodad
        addr=fd00:77::2 row=path6 v6="--addr6 fd00:77::2/64"
    fi
    ip -n "$ns" link set oasis0 up
    # shellcheck disable=SC2086
    ip netns exec "$ns" "$OASIS" iperf -s -p "$PORT" --tap oasis0 --addr 10.77.0.2/24 --mtu "$mtu" \
        $v6 $extra >/tmp/oasis-paths-$TAG.log 2>&1 &
    local srv=$!
    local i ready="ready on"
    [ "$fam" = 6 ] && ready="ipv6 fd00:77::2/64 preferred"
    for ((i = 0; i < 50; i++)); do grep -q "$ready" /tmp/oasis-paths-$TAG.log && break; sleep 0.1; done
    # The kernel side is the iperf3 client: "out" (Oasis sends) is its -R.
    local f=/tmp/oasis-paths-$TAG.json setup="TAP; oasis iperf -s${extra:+ $extra}"
    ip netns exec "$ns" timeout $((SECS + 30)) iperf3 -c "$addr" -p "$PORT" -t "$SECS" -R -J >"$f" &&
        result "${row}_out_mtu$mtu" "$name" "$setup" "$f"
    ip netns exec "$ns" timeout $((SECS + 30)) iperf3 -c "$addr" -p "$PORT" -t "$SECS" -J >"$f" &&
        result "${row}_in_mtu$mtu" "$name" "$setup" "$f"
    rm -f "$f"
    kill "$srv" 2>/dev/null
    wait "$srv" 2>/dev/null
    delns "$ns"
}

# veth_rows MTU [6]: iperf3 between two namespaces, over IPv4 or IPv6.
veth_rows() {
    local mtu=$1 fam=${2:-4} a=oasis-$TAG-a b=oasis-$TAG-b
    newns "$a" && newns "$b" || return
    ip link add "${VETH}a$$" netns "$a" type veth peer name "${VETH}b$$" netns "$b"
    ip -n "$a" addr add 10.78.0.1/24 dev "${VETH}a$$"
    ip -n "$b" addr add 10.78.0.2/24 dev "${VETH}b$$"
    local server=10.78.0.1
    if [ "$fam" = 6 ]; then
        ip -n "$a" -6 addr add fd00:78::1/64 dev "${VETH}a$$" nodad
        ip -n "$b" -6 addr add fd00:78::2/64 dev "${VETH}b$$" nodad
        server=fd00:78::1
    fi
    ip -n "$a" link set "${VETH}a$$" mtu "$mtu" up
    ip -n "$b" link set "${VETH}b$$" mtu "$mtu" up
    ip netns exec "$a" iperf3 -s -p "$PORT" >/dev/null 2>&1 &
    local srv=$!
    sleep 0.5
    both "$b" "$server" linux "veth pair; TSO/GRO on" "$mtu"
    kill "$srv" 2>/dev/null
    wait "$srv" 2>/dev/null
    delns "$a"
    delns "$b"
}

# cpu_ticks PID: the process's user + system time in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# rr NS ADDR PEER SETUP SERVER_PID: linux-bench's client in NS against the
# echo server at ADDR, one row per size; the note gains the server's CPU.
rr() {
    local ns=$1 addr=$2 peer=$3 setup=$4 srv=$5 size t0 t1 c0 c1 hz line pin=unpinned
    hz=$(getconf CLK_TCK)
    [ -n "${PATHS_RR_PIN:-}" ] && pin="client and server pinned to CPU $PATHS_RR_PIN"
    for size in $PATHS_RR_SIZES; do
        t0=$(date +%s%N) c0=$(cpu_ticks "$srv")
        line=$(timeout $((SECS + 30)) $RR_PIN "$LINUX_BENCH" -c "$ns" -a "$addr" -r "$PORT" -p "$peer" \
            -n "$setup" rr "$size" "$SECS" | grep '^RESULT,')
        t1=$(date +%s%N) c1=$(cpu_ticks "$srv")
        if [ -z "$line" ]; then
            log "no figure for rr ${size} B to $addr, $peer ($setup)"
            continue
        fi
        echo "$line; $pin, server CPU $(awk -v c=$((c1 - c0)) -v hz="$hz" -v t=$((t1 - t0)) \
            -v r="$(echo "$line" | cut -d, -f5)" \
            'BEGIN { s = c / hz / (t / 1e9); printf "%.0f%%, %.1f us per round trip", 100 * s, 1e6 * s / r }')"
    done
}

# oasis_rr NAME EXTRA [6]: `oasis serve`'s echo on a TAP, MTU 1500, over
# IPv4 or IPv6.
oasis_rr() {
    local name=$1 extra=$2 fam=${3:-4} ns=oasis-$TAG-r log=/tmp/oasis-paths-$TAG-rr.log
    newns "$ns" || return
    ip netns exec "$ns" ip tuntap add dev oasis0 mode tap
    ip -n "$ns" link set oasis0 mtu 1500
    ip -n "$ns" addr add 10.77.0.1/24 dev oasis0
    local addr=10.77.0.2 v6= ready="ready on"
    if [ "$fam" = 6 ]; then
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.oasis0.accept_dad=0
        ip -n "$ns" -6 addr add fd00:77::1/64 dev oasis0 nodad
        addr=fd00:77::2 v6="--addr6 fd00:77::2/64" ready="ipv6 fd00:77::2/64 preferred"
    fi
    ip -n "$ns" link set oasis0 up
    local args="--echo-port $PORT --discard-port 0 --hash-port 0 --http-port 0 --quiet"
    # shellcheck disable=SC2086
    ip netns exec "$ns" $RR_PIN "$OASIS" serve $args --tap oasis0 --addr 10.77.0.2/24 $v6 $extra \
        >"$log" 2>&1 &
    local srv=$! i
    for ((i = 0; i < 50; i++)); do grep -q "$ready" "$log" && break; sleep 0.1; done
    rr "$ns" "$addr" "$name" "TAP; oasis serve $args${v6:+ $v6}${extra:+ $extra}" "$srv"
    kill "$srv" 2>/dev/null
    wait "$srv" 2>/dev/null
    rm -f "$log"
    delns "$ns"
}

# veth_rr [6]: the same client against linux-bench's echo across a veth pair.
veth_rr() {
    local fam=${1:-4} a=oasis-$TAG-a b=oasis-$TAG-b server=10.78.0.1
    newns "$a" && newns "$b" || return
    ip link add "${VETH}a$$" netns "$a" type veth peer name "${VETH}b$$" netns "$b"
    ip -n "$a" addr add 10.78.0.1/24 dev "${VETH}a$$"
    ip -n "$b" addr add 10.78.0.2/24 dev "${VETH}b$$"
    if [ "$fam" = 6 ]; then
        ip -n "$a" -6 addr add fd00:78::1/64 dev "${VETH}a$$" nodad
        ip -n "$b" -6 addr add fd00:78::2/64 dev "${VETH}b$$" nodad
        server=fd00:78::1
    fi
    ip -n "$a" link set "${VETH}a$$" mtu 1500 up
    ip -n "$b" link set "${VETH}b$$" mtu 1500 up
    $RR_PIN "$LINUX_BENCH" -s "$a" -a "$server" -r "$PORT" echo &
    local srv=$!
    sleep 0.5
    rr "$b" "$server" linux "veth pair (TSO/GRO on); linux-bench -r echo" "$srv"
    kill "$srv" 2>/dev/null
    wait "$srv" 2>/dev/null
    delns "$a"
    delns "$b"
}

slirp_rows() {
    local mtu=$1 ns=oasis-$TAG-s
    command -v slirp4netns >/dev/null || { log "no slirp4netns: its rows skipped"; return; }
    newns "$ns" || return
    slirp4netns --configure --mtu="$mtu" --netns-type=path "/run/netns/$ns" tap0 >/dev/null 2>&1 &
    local sl=$!
    local i
    for ((i = 0; i < 50; i++)); do ip -n "$ns" route 2>/dev/null | grep -q default && break; sleep 0.1; done
    both "$ns" 10.0.2.2 slirp4netns "slirp4netns $(slirp4netns --version | head -1 | awk '{print $3}'); host loopback" "$mtu"
    kill "$sl" 2>/dev/null
    wait "$sl" 2>/dev/null
    delns "$ns"
}

pasta_rows() {
    local mtu=$1 ns=oasis-$TAG-p pid=/tmp/oasis-paths-$TAG.pasta
    command -v pasta >/dev/null || { log "no pasta: its rows skipped"; return; }
    newns "$ns" || return
    # As root pasta would drop to nobody and lose the namespace: --runas 0.
    if ! pasta -q --runas 0:0 -P "$pid" --config-net --mtu "$mtu" -t none -u none -T none -U none \
        --netns "/run/netns/$ns" >/dev/null 2>&1; then
        log "pasta failed to start: its MTU $mtu rows skipped"
        delns "$ns"
        return
    fi
    local gw
    gw=$(ip -n "$ns" route | awk '/^default/ {print $3; exit}')
    [ -n "$gw" ] && both "$ns" "$gw" pasta "pasta (passt $(dpkg-query -W -f='${Version}' passt 2>/dev/null)); gateway mapped to host loopback" "$mtu"
    [ -s "$pid" ] && kill "$(cat "$pid")" 2>/dev/null
    rm -f "$pid"
    delns "$ns"
}

if [ -z "${OASIS_TAP_VARIANTS:-}" ]; then
    OASIS_TAP_VARIANTS="oasis="
    "$OASIS" iperf --help 2>&1 | grep -q -- "--offload" &&
        OASIS_TAP_VARIANTS="oasis=--offload off;oasis+offload=--offload on"
fi
PATHS_RR_SIZES=${PATHS_RR_SIZES-1 1024}
RR_PIN=${PATHS_RR_PIN:+taskset -c $PATHS_RR_PIN}
if [ -n "$PATHS_RR_SIZES" ]; then
    if [ -x "$LINUX_BENCH" ]; then
        log "request/response, MTU 1500"
        IFS=';' read -r -a variants <<<"$OASIS_TAP_VARIANTS"
        for fam in ${PATHS_FAMILIES:-4 6}; do
            for v in "${variants[@]}"; do oasis_rr "${v%%=*}" "${v#*=}" "$fam"; done
            veth_rr "$fam"
        done
    else
        log "no linux-bench at $LINUX_BENCH: the rr rows skipped"
    fi
fi
[ "${PATHS_BULK:-1}" = 0 ] && exit 0
host_server
for mtu in $MTUS; do
    log "MTU $mtu"
    IFS=';' read -r -a variants <<<"$OASIS_TAP_VARIANTS"
    for v in "${variants[@]}"; do oasis_rows "$mtu" "${v%%=*}" "${v#*=}"; done
    veth_rows "$mtu"
    slirp_rows "$mtu"
    pasta_rows "$mtu"
    if [[ " ${PATHS_FAMILIES:-4 6} " == *" 6 "* ]]; then
        for v in "${variants[@]}"; do oasis_rows "$mtu" "${v%%=*}" "${v#*=}" 6; done
        veth_rows "$mtu" 6
    fi
done
