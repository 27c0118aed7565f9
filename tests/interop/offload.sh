#!/usr/bin/env bash
# Issue 13: bulk transfers both ways over a TAP with the virtio-net header
# offloads on (TSO super-segments and partial checksums both ways) or off
# (plain 1500-byte frames), every byte checked with SHA-256. With offloads
# on, the stack's counters must show that super-segments really crossed:
# far fewer frames than the MSS-sized segments they stand for, and no bad
# virtio-net header. The same again over IPv6 (TSO6), with a stack of its
# own so that its counters are IPv6's alone.
# Args: OASIS_BIN on|off SIZE_BYTES
MODE=${2:-on}
TEST_NAME="interop_offload_$MODE"
NS_TAG="offload13"
source "$(dirname "$0")/lib.sh"
SIZE=${3:-67108864}
need curl socat

setup_ns 1500
L6=2001:db8:13::1
O6=2001:db8:13::2
tap_ipv6 "$L6/64" # for the second pass
want=$(pattern_sha "$SIZE")

# one_pass FAMILY HOST [serve options]: serve on the TAP, SIZE bytes each
# way over FAMILY (4 or 6) to HOST, then the counters serve printed.
one_pass() {
    local fam=$1 host=$2 log="$TMP/serve$1.log"
    shift 2
    start_serve_as "serve$fam" --mtu 1500 --offload "$MODE" --verbose "$@"
    if [ "$fam" = 6 ]; then
        wait_for "$log" "ipv6 $O6/64 preferred \(static\)" 10
        host="[$host]"
    fi
    if [ "$MODE" = on ]; then
        grep -q "offloads on on $TAP: .*TSO4 and TSO6" "$log" || fail "offloads (TSO4 and TSO6) are not on"
    else
        grep -q "offloads off on $TAP (as asked)" "$log" || fail "offloads are not off"
    fi
    pass "IPv$fam: offloads $MODE"

    # Oasis -> Linux.
    local got size speed start end
    got=$(ns curl -"$fam" -sS --fail --max-time 600 \
        -w '%{stderr}%{size_download} %{speed_download}\n' "http://$host/bytes/$SIZE" \
        2>"$TMP/curl$fam.log" | sha256sum | cut -d' ' -f1) ||
        fail "curl -$fam of /bytes/$SIZE failed"
    expect_eq "$got" "$want" "IPv$fam Oasis->Linux SHA-256 of $SIZE bytes, offloads $MODE"
    read -r size speed <"$TMP/curl$fam.log"
    log "rate IPv$fam Oasis->Linux, offloads $MODE: $(python3 -c "print(f'{$speed*8/1e6:.0f} Mbit/s')") (hashed by sha256sum)"

    # Linux -> Oasis: the hash service answers with what it received.
    local target="TCP:$OASIS_IP:5001"
    [ "$fam" = 6 ] && target="TCP6:$host:5001"
    start=$(date +%s.%N)
    got=$("$OASIS" pattern "$SIZE" | ns timeout 600 socat -t 60 - "$target") ||
        fail "socat upload over IPv$fam to the hash service failed"
    end=$(date +%s.%N)
    expect_eq "$got" "$want $SIZE" "IPv$fam Linux->Oasis SHA-256 of $SIZE bytes, offloads $MODE"
    log "rate IPv$fam Linux->Oasis, offloads $MODE: $(python3 -c "print(f'{$SIZE*8/($end-$start)/1e6:.0f} Mbit/s')") (hashed by Oasis)"

    stop_pid "$SERVE_PID" "oasis serve (IPv$fam)"
    local line rx tx bad placed declined big untrusted other insegs outsegs
    line=$(grep "^counters: link rx" "$log") || fail "no counters line"
    # (ten fields: one sed substitution has nine groups; \10 would read as
    # \1 and a 0)
    read -r rx tx bad placed declined big untrusted other < <(sed -E 's/.*link rx ([0-9]+) frames tx ([0-9]+) frames.*bad vnet headers ([0-9]+), rx placed ([0-9]+), not placed: declined ([0-9]+), too big ([0-9]+), untrusted ([0-9]+), other ([0-9]+)\).*/\1 \2 \3 \4 \5 \6 \7 \8/' <<<"$line")
    read -r insegs outsegs < <(sed -E 's/.*; tcp in ([0-9]+) out ([0-9]+) segs.*/\1 \2/' <<<"$line")
    [[ "$other" =~ ^[0-9]+$ && "$outsegs" =~ ^[0-9]+$ ]] || fail "counters line not understood: $line"
    log "IPv$fam: frames rx $rx tx $tx, TCP segments in $insegs out $outsegs, bad vnet headers $bad"
    log "IPv$fam: payloads read into place $placed; not placed: flow offered no room $declined, longer than the room $big, checksum not vouched for $untrusted, another frame $other"
    expect_eq "$bad" "0" "IPv$fam: no bad virtio-net header"
    if [ "$MODE" = on ]; then
        [ $((rx * 4)) -lt "$insegs" ] || fail "IPv$fam: received $rx frames for $insegs segments: no GRO/TSO from Linux"
        pass "IPv$fam: Linux sent super-segments ($rx frames for $insegs segments)"
        [ $((tx * 4)) -lt "$outsegs" ] || fail "IPv$fam: sent $tx frames for $outsegs segments: no super-segments"
        pass "IPv$fam: Oasis sent super-segments ($tx frames for $outsegs segments)"
        # The upload's frames continue one flow in order: payloads are
        # read straight into its receive buffer (tcp_place.h: IPv4, and
        # IPv6 without extension headers), and the SHA-256 above says they
        # arrived whole. How many depends on timing (a hash service slower
        # than the link keeps its buffer full, and then room is declined),
        # so the share is logged, not asserted; every frame read around an
        # offer is counted once.
        [ "$placed" -gt 0 ] || fail "IPv$fam: no payload read into place ($rx frames)"
        [ $((placed + declined + big + untrusted + other)) -le "$rx" ] ||
            fail "IPv$fam: more placement outcomes than frames read ($rx)"
        pass "IPv$fam: payloads read into place ($placed of $rx frames)"
    else
        expect_eq "$placed $declined $big $untrusted $other" "0 0 0 0 0" "IPv$fam: no payload read into place or offered room without offloads"
        [ "$rx" -ge "$insegs" ] || fail "offloads off but $rx frames carried $insegs segments"
        pass "IPv$fam: plain frames only"
    fi
}

one_pass 4 "$OASIS_IP"
one_pass 6 "$O6" --addr6 "$O6/64"
