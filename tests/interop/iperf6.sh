#!/usr/bin/env bash
# `oasis iperf` against Debian's iperf3 over IPv6 (iperf.sh is the IPv4
# side): iperf3 -6 -c -P 32 and -P 32 -R against `oasis iperf -s`, then
# `oasis iperf -c` against `iperf3 -s` on the kernel's IPv6 address, both
# ways. Byte counts from iperf3's JSON: sender and receiver agree, per
# stream and in sum. Args: OASIS_BIN [BYTES]
TEST_NAME=interop_iperf6
NS_TAG=pl6
source "$(dirname "$0")/lib.sh"
SIZE=${2:-67108864}
need iperf3
TAP=pl6i0

setup_ns 1500
L6=2001:db8:79::1
O6=2001:db8:79::2
tap_ipv6 "$L6/64"

# check_json FILE WHAT STREAMS [SHORT]: sum_sent == sum_received >= SIZE
# and STREAMS streams whose two counts agree (SHORT=1: the receiver may
# have counted less, see iperf.sh's linux_count).
check_json() {
    local out
    out=$(python3 - "$1" "$SIZE" "$3" "${4:-0}" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
want, streams, short = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
if "error" in j: print("error: " + j["error"]); sys.exit()
e = j["end"]
sent, recv = int(e["sum_sent"]["bytes"]), int(e["sum_received"]["bytes"])
errs = []
if sent != recv and not (short and recv < sent): errs.append(f"sent {sent} != received {recv}")
if sent < want: errs.append(f"sent {sent} < {want}")
if len(e["streams"]) != streams: errs.append(f"{len(e['streams'])} streams, want {streams}")
for s in e["streams"]:
    a, b = s["sender"]["bytes"], s["receiver"]["bytes"]
    if a != b and not (short and b < a): errs.append(f"stream bytes differ: {a} vs {b}")
print("; ".join(errs) if errs else f"ok {sent} bytes {e['sum_received']['bits_per_second']/1e9:.2f} Gbit/s")
PY
    ) || fail "$2: unreadable JSON in $(basename "$1")"
    case $out in ok*) pass "$2: $out" ;; *) fail "$2: $out" ;; esac
}

bg iperfs "$OASIS" iperf -s --tap "$TAP" --addr "$OASIS_IP/24" --addr6 "$O6/64"
SRV=$BG_PID
wait_for "$TMP/iperfs.log" "ready on port 5201" 10
# The static address answers once DAD is done.
for ((i = 0; i < 50; i++)); do ns ping -6 -c1 -W1 "$O6" >/dev/null 2>&1 && break; done
ns bash -c "ulimit -n 8192; timeout 90 iperf3 -6 -c '$O6' -n $SIZE -P 32 -J" >"$TMP/p32.json" || fail "iperf3 -6 -c -P 32 failed: $(tail -n 5 "$TMP/p32.json")"
check_json "$TMP/p32.json" "iperf3 -6 -c -P 32 -> oasis iperf -s" 32
ns bash -c "ulimit -n 8192; timeout 90 iperf3 -6 -c '$O6' -n $SIZE -P 32 -R -J" >"$TMP/p32r.json" || fail "iperf3 -6 -c -P 32 -R failed: $(tail -n 5 "$TMP/p32r.json")"
check_json "$TMP/p32r.json" "iperf3 -6 -c -P 32 -R <- oasis iperf -s" 32 1
grep -q "accepted connection from $L6, port" "$TMP/iperfs.log" ||
    fail "oasis iperf -s does not name the IPv6 peer: $(grep -m1 accepted "$TMP/iperfs.log")"
pass "oasis iperf -s names the IPv6 peer"
stop_pid "$SRV" "oasis iperf -s"

for dir in fwd rev; do
    bg "srv-$dir" iperf3 -s -1 -B "$L6"
    srv=$BG_PID
    wait_port 5201
    args=(-n "$SIZE" -P 4 -J)
    [ $dir = rev ] && args+=(-R)
    oasis_run "cli-$dir" 90 iperf -c "$L6" "${args[@]}" --addr6 "$O6/64"
    [ "$RC" -eq 0 ] || fail "oasis iperf -c $L6 ${args[*]} exited $RC: $(tail -n 3 "$TMP/cli-$dir.log")"
    sed -n '/^{/,$p' "$TMP/cli-$dir.log" >"$TMP/cli-$dir.json"
    check_json "$TMP/cli-$dir.json" "oasis iperf -c [$L6] -P 4 ($dir)" 4 $([ $dir = fwd ] && echo 1 || echo 0)
    hosts=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["start"]["connected"]; print(" ".join(sorted({x["local_host"]+">"+x["remote_host"] for x in c})))' "$TMP/cli-$dir.json")
    expect_eq "$hosts" "$O6>$L6" "oasis iperf -c -J ($dir): every stream's local and remote host"
    wait "$srv" || fail "iperf3 -s exited with an error"
done
