#!/usr/bin/env bash
# Recovery against Linux through an impaired TAP (--impair: Oasis's own
# link filter, since tc netem is not in every kernel): 2% loss, 1%
# reordering, 1% duplication and 0.5% one-bit corruption, both ways, on
#   curl downloads from oasis serve and socat uploads to its hash service,
#   oasis get from Python's http.server,
#   iperf3 both ways against oasis iperf -s,
# each checked whole (SHA-256 or iperf3's exact byte counts), then the
# counters: the filter did impair every way, Oasis retransmitted, recovered
# fast, got D-SACKs for the duplicates and caught every corruption by a
# checksum. Stall guards only (generous timeouts); no timed assertion.
# Also --impair's parsing: bad specs exit 2 with a message.
# Args: OASIS_BIN OFFLOAD(on|off) [BYTES]
NS_TAG=im
OFF=${2:-off}
TEST_NAME="interop_impair_offload_$OFF"
source "$(dirname "$0")/lib.sh"
SIZE=${3:-8388608}
need curl socat iperf3
IMPAIR="loss=0.02,reorder=0.01,dup=0.01,corrupt=0.005"

# ---- --impair parsing: refused before any device is touched ----
for spec in "loss=2" "loss=-0.1" "loss=0.1x" "loss=" "bogus=1" "loss=0.1,,dup=0.1" \
    "dir=sideways" "burst=0.1" "burst=0:0.5" "burst=0.1::1" "gap=0" "gap=1001" "seed=x" \
    "loss=nan" "loss=101%" "step=0.001" "burst=0.1:0.5,step=0" "burst=0.1:0.5,step=x" ""; do
    rc=0
    "$OASIS" serve --tap nonexistent-im --impair "$spec" >"$TMP/parse.log" 2>&1 || rc=$?
    [ "$rc" -eq 2 ] || fail "--impair '$spec': exit $rc, want 2"
    grep -q "invalid --impair" "$TMP/parse.log" || fail "--impair '$spec': no message"
done
pass "bad --impair specs exit 2 with a message"

setup_ns 1500

# fields LOG: the --impair counters line of an oasis log as NAME=VALUE
# words (out_lost, in_corrupted, tcp_retrans, csum_tcp, ...).
fields() {
    python3 - "$1" <<'PY'
import re, sys
line = [l for l in open(sys.argv[1]) if l.startswith("counters: impair")]
if not line: sys.exit(1)
l = line[-1]
out = {}
for d in ("out", "in"):
    m = re.search(r"[,;] %s (.*?)(;|$)" % d, l)
    for k, v in re.findall(r"([a-z]+) (\d+)", m.group(1)):
        out[d + "_" + k] = v
m = re.search(r"checksum errors (.*?);", l)
for k, v in re.findall(r"([a-z]+) (\d+)", m.group(1)):
    out["csum_" + k] = v
m = re.search(r"header errors ip (\d+) tcp (\d+);", l)
out["err_ip"], out["err_tcp"] = m.groups()
m = re.search(r"tcp retrans (\d+), timeouts (\d+), fast retrans (\d+), dsack recv (\d+), ofo queued (\d+), mss lowered \(black hole\) (\d+)", l)
for k, v in zip(("retrans", "timeouts", "fast", "dsack", "ofo", "blackholes"), m.groups()):
    out["tcp_" + k] = v
print(" ".join("%s=%s" % kv for kv in out.items()))
PY
}

# at_least VARS NAME MIN WHAT
at_least() {
    local v
    v=$(tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}')
    [ -n "$v" ] || fail "$4: no $2 in the counters"
    [ "$v" -ge "$3" ] || fail "$4: $2 = $v, want >= $3"
}

# ---- oasis serve: curl downloads, socat uploads ----
start_serve --offload "$OFF" --impair "$IMPAIR,seed=11" --verbose
want=$(pattern_sha "$SIZE")
got=$(ns curl -sS --fail --max-time 300 "http://$OASIS_IP/bytes/$SIZE" | sha256sum | cut -d' ' -f1) ||
    fail "curl download through the impaired link failed"
expect_eq "$got" "$want" "curl download of $SIZE bytes, SHA-256"
got=$("$OASIS" pattern "$SIZE" | ns timeout 300 socat -t 60 - "TCP:$OASIS_IP:5001") ||
    fail "socat upload through the impaired link failed"
expect_eq "$got" "$want $SIZE" "socat upload of $SIZE bytes, hash service's SHA-256"
# A second download while the first flows' memory is given back.
got=$(ns curl -sS --fail --max-time 300 "http://$OASIS_IP/bytes/1000000" | sha256sum | cut -d' ' -f1) ||
    fail "second curl failed"
expect_eq "$got" "$(pattern_sha 1000000)" "curl of 1000000 bytes"
stop_pid "$SERVE_PID" "oasis serve"
v=$(fields "$TMP/serve.log") || fail "no impair counters line from oasis serve"
log "serve: $v"
for k in out_lost in_lost out_corrupted in_corrupted out_reordered in_reordered \
    out_duplicated in_duplicated; do
    at_least "$v" "$k" 1 "serve: the filter impaired"
done
[ "$OFF" = off ] || at_least "$v" out_segmented 1 "serve: super-segments cut per frame"
at_least "$v" tcp_retrans 1 "serve: Oasis retransmitted"
at_least "$v" tcp_fast 1 "serve: fast retransmits (SACK/RACK recovery)"
at_least "$v" tcp_dsack 1 "serve: D-SACKs from Linux (duplicates)"
at_least "$v" tcp_ofo 1 "serve: out-of-order data kept"
# Every corrupted frame that reached the stack failed a checksum: IP's or
# TCP's (or another header check); none was taken as data (the SHA-256s).
# in_corrupted <= IP header errors (its checksum's among them) + TCP's
# input errors (its checksum's among them): a duplicate of a corrupted
# frame is refused twice.
check_refused() { # VARS WHO
    local csum corr errs
    csum=$(tr ' ' '\n' <<<"$1" | awk -F= '$1 ~ /^csum_/ {s += $2} END {print s + 0}')
    corr=$(tr ' ' '\n' <<<"$1" | awk -F= '$1 == "in_corrupted" {print $2}')
    errs=$(tr ' ' '\n' <<<"$1" | awk -F= '$1 == "err_ip" || $1 == "err_tcp" {s += $2} END {print s + 0}')
    [ "$csum" -ge 1 ] || fail "$2: no checksum error counted for corrupted frames"
    [ "$errs" -ge "$corr" ] || fail "$2: $corr frames corrupted on the way in, only $errs refused"
    pass "$2: $corr corrupted frames in, $errs refused ($csum by a checksum)"
}
check_refused "$v" serve

# ---- oasis get from Linux's http.server (Linux sends) ----
mkdir -p "$TMP/www"
head -c "$SIZE" /dev/urandom >"$TMP/www/big.bin"
wantf=$(sha256sum <"$TMP/www/big.bin" | cut -d' ' -f1)
bg httpd python3 -m http.server 8000 --bind "$LINUX_IP" --directory "$TMP/www"
wait_port 8000
oasis_run get 300 get --offload "$OFF" --impair "$IMPAIR,seed=12" --verbose -q \
    "http://$LINUX_IP:8000/big.bin"
[ "$RC" -eq 0 ] || fail "oasis get through the impaired link exited $RC"
expect_eq "$(awk '$1 == "sha256" {print $2}' "$TMP/get.log")" "$wantf" "oasis get's SHA-256"
v=$(fields "$TMP/get.log") || fail "no impair counters line from oasis get"
log "get: $v"
at_least "$v" in_lost 1 "get: Linux's data lost"
at_least "$v" in_corrupted 1 "get: Linux's data corrupted"
at_least "$v" tcp_ofo 1 "get: out-of-order data kept"
check_refused "$v" get
[ "$OFF" = off ] || at_least "$v" in_segmented 1 "get: GRO frames cut per frame"

# ---- iperf3 both ways against oasis iperf -s ----
bg iperfs "$OASIS" iperf -s --tap "$TAP" --addr "$OASIS_IP/24" --offload "$OFF" \
    --impair "$IMPAIR,seed=13" --verbose
IPERF_PID=$BG_PID
wait_for "$TMP/iperfs.log" "ready on port 5201" 10
for dir in "" "-R"; do
    ns timeout 300 iperf3 -c "$OASIS_IP" -n "$SIZE" $dir -J >"$TMP/iperf$dir.json" ||
        fail "iperf3 -c $dir through the impaired link failed"
    out=$(python3 - "$TMP/iperf$dir.json" "$SIZE" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["end"]
s, r = int(e["sum_sent"]["bytes"]), int(e["sum_received"]["bytes"])
print("ok" if s == r and s >= int(sys.argv[2]) else f"sent {s} received {r}")
PY
    )
    expect_eq "$out" "ok" "iperf3 -c $dir: every byte sent was received"
done
stop_pid "$IPERF_PID" "oasis iperf -s"
v=$(fields "$TMP/iperfs.log") || fail "no impair counters line from oasis iperf"
log "iperf: $v"
at_least "$v" tcp_retrans 1 "iperf: Oasis retransmitted (reverse test)"
at_least "$v" in_lost 1 "iperf: Linux's data lost"
check_refused "$v" iperf
