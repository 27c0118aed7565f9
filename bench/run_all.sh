#!/usr/bin/env bash
# Runs every benchmark and writes results.md, results.csv and PNG plots.
#
#   bench/run_all.sh [--quick] [--out DIR] [--build DIR] [--no-linux] [--no-100k] [--no-paths]
#
#   --quick     1 s runs instead of 5 s, memory rows at 10,000 flows only
#   --out DIR   results directory (default: BUILD/bench-results)
#   --build DIR build directory (default: build-bench next to the source tree)
#   --no-linux  skip the kernel rows (they need root, ip(8), iperf3)
#   --no-100k   skip the 100,000 and 1,000,000-flow memory rows
#   --no-paths  skip the TAP/veth/slirp4netns/pasta rows (bench/paths.sh)
#
# Every peer at its best: lwIP is built at TCP_WND = TCP_SND_BUF of 64 KiB,
# 256 KiB, 1 MiB and 4 MiB and its best figure is reported with the
# setting; Oasis runs at its defaults (auto-tuned buffers: 64 KiB start,
# 4 MiB limit) and with fixed 64 KiB, 256 KiB, 1 MiB, 4 MiB and 16 MiB
# buffers (OASIS_BENCH_BUF), all shown; bulk_wan is one flow through the
# impaired wire (50 ms RTT, 100 Mbit/s, virtual clock).
#
# Needs: cmake, a C compiler, python3, gnuplot; lwIP's rows need lwIP's
# source (`apt-get source lwip`, which needs a deb-src line in APT's
# sources); Linux's rows need root, iproute2 and iperf3; the path rows also
# slirp4netns, passt (pasta) and libcjson-dev (`oasis iperf`). Missing
# pieces skip their rows with a message instead of failing the run.
#
# Every program runs pinned to one core (taskset). Times are "effective":
# the scheduler's run delay is subtracted (see bench_util.h), so a shared
# machine slows the run down but barely changes the figures; iperf3's figure
# is normalised by its own CPU time the same way.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/../build-bench
OUT=
SECS=5
QUICK=0
LINUX=1
BIG=1
PATHS=1
CPU=${BENCH_CPU:-1}
while [ $# -gt 0 ]; do
    case $1 in
    --quick) QUICK=1; SECS=1; BIG=0 ;;
    --out) OUT=$2; shift ;;
    --build) BUILD=$2; shift ;;
    --no-linux) LINUX=0 ;;
    --no-100k) BIG=0 ;;
    --no-paths) PATHS=0 ;;
    -h | --help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "run_all.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
OUT=${OUT:-$BUILD/bench-results}
mkdir -p "$BUILD" "$OUT"
BUILD=$(cd "$BUILD" && pwd)
OUT=$(cd "$OUT" && pwd)
RAW=$OUT/raw.txt
: >"$RAW"
echo "LOAD,start,$(cut -d' ' -f1-3 /proc/loadavg),$(nproc)" >>"$RAW"
log() { echo "== $*" >&2; }

# What the benchmarks need, from Debian's packages (as root; else say so).
BENCH_PKGS="gnuplot-nox iperf3 dpkg-dev python3 iproute2 util-linux slirp4netns passt libcjson-dev pkg-config"
missing=
for p in $BENCH_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        log "installing$missing"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null ||
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; }
    else
        log "missing packages:$missing (run as root to install them)"
    fi
fi
pin() { if command -v taskset >/dev/null; then taskset -c "$CPU" "$@"; else "$@"; fi; }
# Keeps the RESULT lines, shows everything.
record() { "$@" 2>&1 | tee -a "$RAW.log" | grep '^RESULT,' >>"$RAW" || log "failed: $*"; }
# record_as STACK CMD...: the same, the stack column renamed (variants).
record_as() {
    local stack=$1
    shift
    "$@" 2>&1 | tee -a "$RAW.log" | grep '^RESULT,' |
        awk -F, -v OFS=, -v s="$stack" '{ $3 = s; print }' >>"$RAW" || log "failed: $*"
}

# ---- lwIP source ---------------------------------------------------------
LWIP_SRC=$(ls -d "$BUILD"/lwip-src/lwip-2.1*/ 2>/dev/null | head -n1 || true)
if [ -z "$LWIP_SRC" ]; then
    log "fetching lwIP's Debian source package"
    mkdir -p "$BUILD/lwip-src"
    # Without deb-src lines, add them for a moment (as root), derived from
    # the machine's own deb822 sources, and take them away afterwards.
    TMP_SRC=/etc/apt/sources.list.d/oasis-bench-debsrc.sources
    if ! (cd "$BUILD/lwip-src" && apt-get source lwip >/dev/null 2>&1) &&
        [ "$(id -u)" -eq 0 ] && ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
        log "adding temporary deb-src entries to fetch lwIP's source"
        cat /etc/apt/sources.list.d/*.sources | sed 's/^Types: deb$/Types: deb-src/' >"$TMP_SRC"
        apt-get update -qq >/dev/null 2>&1 || true
        (cd "$BUILD/lwip-src" && apt-get source lwip >/dev/null 2>&1) || true
        rm -f "$TMP_SRC"
        apt-get update -qq >/dev/null 2>&1 || true
    fi
    if ls -d "$BUILD"/lwip-src/lwip-2.1*/ >/dev/null 2>&1; then
        LWIP_SRC=$(ls -d "$BUILD"/lwip-src/lwip-2.1*/ | head -n1)
    else
        log "apt-get source lwip failed (no deb-src in APT's sources?): lwIP rows skipped"
    fi
fi

# ---- build -----------------------------------------------------------------
log "building in $BUILD"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DOASIS_BUILD_TESTS=OFF \
    -DOASIS_BENCH_LWIP_SRC="${LWIP_SRC%/}" >/dev/null
TARGETS="oasis-bench cross-bench nd-flood frag-flood linux-bench oasis"
[ -n "$LWIP_SRC" ] && TARGETS="$TARGETS lwip-bench lwip-bench-64k lwip-bench-256k lwip-bench-1024k lwip-bench-alg1 lwip-bench-alg3 lwip-bench-malloc"
cmake --build "$BUILD" -j"$(nproc)" --target $TARGETS >/dev/null
B=$BUILD/bench
[ -x "$B/lwip-bench" ] || LWIP_SRC=

FLOWS="10000"
[ "$BIG" = 1 ] && FLOWS="10000 100000"
# Oasis's own row at 1,000,000 flows (issue 16: within 512 MiB RSS, both ends;
# report.py checks it). lwIP stays at 100,000: its PCB lists are searched
# linearly, so a million handshakes would take hours.
OASIS_FLOWS=$FLOWS
[ "$BIG" = 1 ] && OASIS_FLOWS="$FLOWS 1000000"

# ---- Oasis and lwIP ------------------------------------------------------------
log "cross check: memcpy and checksum"
record pin "$B/cross-bench" "$SECS"
for prog in oasis ${LWIP_SRC:+lwip}; do
    log "$prog"
    for mtu in 1500 9000 65535; do record pin "$B/$prog-bench" bulk $mtu "$SECS"; done
    record pin "$B/$prog-bench" rr 1 "$SECS"
    record pin "$B/$prog-bench" rr 1024 "$SECS"
    record pin "$B/$prog-bench" crr "$SECS"
    flows=$FLOWS
    [ "$prog" = oasis ] && flows=$OASIS_FLOWS
    mem=$B/$prog-bench
    [ "$prog" = lwip ] && mem=$B/lwip-bench-malloc # its pools are static: count libc malloc
    for n in $flows; do record pin "$mem" mem "$n"; done
done
# Every peer at its best. lwIP's window and send buffer (the default build
# above is 4 MiB): bulk and round trips at 64 KiB, 256 KiB and 1 MiB; and
# its checksum algorithms 1 and 3 (2, its default, in the others) at 64 KiB.
if [ -n "$LWIP_SRC" ]; then
    for w in 64k 256k 1024k alg1 alg3; do
        log "lwip, $w"
        for mtu in 1500 9000 65535; do record_as "lwip@$w" pin "$B/lwip-bench-$w" bulk $mtu "$SECS"; done
        record_as "lwip@$w" pin "$B/lwip-bench-$w" rr 1 "$SECS"
        record_as "lwip@$w" pin "$B/lwip-bench-$w" rr 1024 "$SECS"
        record_as "lwip@$w" pin "$B/lwip-bench-$w" crr "$SECS"
    done
fi
# Oasis's per-flow buffers, fixed (auto-tuning off), for bulk: the default
# rows above are auto-tuned (64 KiB start, 4 MiB limit) and should come
# within 10% of the best of these (issue 16).
for buf in 65536 262144 1048576 4194304 16777216; do
    name=$((buf / 1024))k
    log "oasis, fixed sndbuf = rcvbuf = $name"
    for mtu in 1500 9000 65535; do
        OASIS_BENCH_BUF=$buf record_as "oasis@$name" pin "$B/oasis-bench" bulk $mtu "$SECS"
    done
done
# Through the impaired wire, 50 ms RTT and 100 Mbit/s (virtual clock):
# auto-tuned buffers must reach the bottleneck's rate (95.6 Mbit/s of
# goodput at MTU 1500); a fixed 64 KiB shows what the growth buys.
record pin "$B/oasis-bench" bulk_wan 10
OASIS_BENCH_BUF=65536 record_as "oasis@64k" pin "$B/oasis-bench" bulk_wan 10
# Hostile input: NS from forged sources at the default neighbour cache
# (256) and the largest (4096); CPU time per NS (nd_flood.c).
for cache in 256 4096; do record pin "$B/nd-flood" "$cache" 100000; done
# First fragments that never complete, reassembly bound at its default (64
# datagrams) and at 4096, both families (frag_flood.c).
for dgs in 64 4096; do
    for fam in 4 6; do record pin "$B/frag-flood" "$dgs" 100000 "$fam"; done
done

# ---- Linux ---------------------------------------------------------------------
linux_rows() {
    local tag=$$ lo=h10b-lo-$$ a=h10b-a-$$ b=h10b-b-$$
    # Namespaces are ours alone and always go, whatever happens.
    trap "ip netns del $lo 2>/dev/null; ip netns del $a 2>/dev/null; ip netns del $b 2>/dev/null" EXIT
    trap 'exit 1' INT TERM
    ip netns add "$lo"
    ip netns add "$a"
    ip netns add "$b"
    ip link add "h10va$tag" netns "$a" type veth peer name "h10vb$tag" netns "$b"
    ip -n "$a" addr add 10.77.0.1/24 dev "h10va$tag"
    ip -n "$b" addr add 10.77.0.2/24 dev "h10vb$tag"
    for n in "$lo" "$a" "$b"; do
        ip -n "$n" link set lo up
        ip netns exec "$n" sysctl -q -w net.ipv4.tcp_tw_reuse=1 \
            net.ipv4.ip_local_port_range="1024 65535" net.core.somaxconn=4096 \
            net.ipv4.ip_local_reserved_ports=5001-5010
    done
    ip -n "$a" link set "h10va$tag" up
    ip -n "$b" link set "h10vb$tag" up

    for mtu in 1500 9000 65535; do
        ip -n "$lo" link set lo mtu $mtu
        ip -n "$a" link set "h10va$tag" mtu $mtu
        ip -n "$b" link set "h10vb$tag" mtu $mtu
        iperf_row "$lo" "$lo" 127.0.0.1 loopback $mtu
        iperf_row "$a" "$b" 10.77.0.1 veth $mtu
    done
    ip -n "$lo" link set lo mtu 65536
    for setup in loopback veth; do
        if [ $setup = loopback ]; then args=(-s "$lo" -c "$lo" -a 127.0.0.1 -n loopback)
        else args=(-s "$a" -c "$b" -a 10.77.0.1 -n veth); fi
        ip -n "$a" link set "h10va$tag" mtu 1500
        ip -n "$b" link set "h10vb$tag" mtu 1500
        record pin "$B/linux-bench" "${args[@]}" rr 1 "$SECS"
        record pin "$B/linux-bench" "${args[@]}" rr 1024 "$SECS"
        record pin "$B/linux-bench" "${args[@]}" crr "$SECS"
    done
    for n in $FLOWS; do
        record pin "$B/linux-bench" -s "$lo" -c "$lo" -a 127.0.0.1 -n loopback mem "$n"
    done
}

# iperf3, both ends on one core; the figure is normalised by their CPU time.
iperf_row() {
    local sns=$1 cns=$2 addr=$3 setup=$4 mtu=$5 json=$OUT/iperf-$4-$5.json
    ip netns exec "$sns" taskset -c "$CPU" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
    local srv=$!
    sleep 0.5
    if ip netns exec "$cns" taskset -c "$CPU" iperf3 -c "$addr" -p 5201 -t "$SECS" -J >"$json"; then
        python3 - "$json" "$setup" "$mtu" >>"$RAW" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
e = j["end"]
bps = e["sum_received"]["bits_per_second"]
cpu = e["cpu_utilization_percent"]
share = (cpu["host_total"] + cpu["remote_total"]) / 100.0
print("RESULT,bulk_mtu%s,linux,%s,%.6g,Gbit/s,iperf3 %.2f Gbit/s wall x 1/(client+server CPU %.0f%%)"
      % (sys.argv[3], sys.argv[2], bps / share / 1e9 if share > 0 else 0, bps / 1e9, share * 100))
EOF
    else
        log "iperf3 $setup $mtu failed"
    fi
    wait "$srv" 2>/dev/null || true
}

if [ "$LINUX" = 1 ]; then
    if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v iperf3 >/dev/null; then
        log "Linux rows skipped: they need root, ip(8) and iperf3"
    else
        log "Linux (network namespaces: loopback, veth)"
        (linux_rows)
    fi
fi

# ---- the real paths: TAP, veth, slirp4netns, pasta ---------------------------------
if [ "$PATHS" = 1 ]; then
    if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ] || ! command -v iperf3 >/dev/null; then
        log "path rows skipped: they need root, /dev/net/tun and iperf3"
    elif ! "$BUILD/tools/oasis" iperf --help >/dev/null 2>&1; then
        log "path rows skipped: this oasis has no iperf (libcjson-dev missing at build time)"
    else
        log "paths: Oasis on a TAP, Linux veth, slirp4netns, pasta (iperf3, $SECS s each way)"
        record bash "$SRC/bench/paths.sh" "$BUILD/tools/oasis" "$SECS"
    fi
fi

# ---- report ----------------------------------------------------------------------
log "load during the run: $(uptime)"
echo "LOAD,end,$(cut -d' ' -f1-3 /proc/loadavg),$(nproc)" >>"$RAW"
log "report"
python3 "$SRC/bench/report.py" "$RAW" "$OUT"
log "done: $OUT/results.md $OUT/results.csv $OUT/*.png"
