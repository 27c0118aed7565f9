# Shared harness of the interop tests (sourced, not run).
#
# Each test gets its own network namespace (unique name) holding one TAP
# device: the kernel side has 10.77.0.1/24, Oasis runs on the device as
# 10.77.0.2/24. Traffic never leaves the namespace. Everything the test
# starts is stopped and the namespace deleted on exit, pass or fail.
#
# Usage: source lib.sh; the test script is called as
#   bash test.sh /path/to/oasis [more args]
# Exit status: 0 pass, 1 fail, 77 skip (only: not root, or no /dev/net/tun).

set -euo pipefail

OASIS=${1:?usage: $0 /path/to/oasis}
OASIS=$(readlink -f "$OASIS")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TAP=oasis0
LINUX_IP=10.77.0.1
OASIS_IP=10.77.0.2
NS=""
TMP=""
PIDS=()
CHECKS=0

log() { printf '%s: %s\n' "${TEST_NAME:-interop}" "$*"; }
skip() { log "SKIP: $*"; exit 77; }

fail() {
    log "FAIL: $*"
    dump_logs
    exit 1
}

pass() {
    CHECKS=$((CHECKS + 1))
    log "ok: $*"
}

dump_logs() {
    [ -n "$TMP" ] && [ -d "$TMP" ] || return 0
    local f
    for f in "$TMP"/*.log; do
        [ -s "$f" ] || continue
        echo "----- $(basename "$f") (last 40 lines) -----"
        tail -n 40 "$f"
    done
    keep_logs
}

# keep_logs: a failed test's whole logs outlive its temporary directory,
# in interop-failed/ of the build directory that holds the oasis binary
# (OASIS_INTEROP_KEEP elsewhere); the tails above are often not enough.
keep_logs() {
    local dir=${OASIS_INTEROP_KEEP:-$(dirname "$(dirname "$OASIS")")/interop-failed}
    dir=$dir/${TEST_NAME:-interop}-$(date -u +%Y%m%dT%H%M%S)-$$
    mkdir -p "$dir" 2>/dev/null && cp "$TMP"/*.log "$dir"/ 2>/dev/null &&
        echo "----- every log kept in $dir -----"
    return 0
}

need() { # tool... : a missing peer tool is a broken CI image, not a skip
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || fail "missing tool '$t' (scripts/deps.sh installs it)"
    done
}

# Preconditions: the only reasons to skip.
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and TAP devices)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
need ip python3 sha256sum timeout
[ -x "$OASIS" ] || fail "no oasis binary at $OASIS"

cleanup() {
    local rc=$?
    local p
    set +e
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    # Whatever is left in the namespace was started by this test (e.g. the
    # children of a `bash -c` pipeline).
    if [ -n "$NS" ]; then
        for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$NS" 2>/dev/null
    fi
    [ -n "$TMP" ] && rm -rf "$TMP"
    if [ "$rc" -eq 0 ]; then log "PASS ($CHECKS checks)"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ns() { ip netns exec "$NS" "$@"; }

# setup_ns MTU: the namespace, its TAP device, the kernel side's address.
setup_ns() {
    local mtu=${1:-1500}
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/oasis-interop.XXXXXX")
    NS="oasis-${NS_TAG:-it}-$$-$RANDOM" # NS_TAG: the owner's name, when a test sets one
    ip netns add "$NS" || fail "cannot create network namespace $NS"
    ns ip link set lo up
    # IPv6 chatter (router solicitations, MLD) is noise here.
    ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1 || true
    ns sysctl -qw net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
    ns ip tuntap add dev "$TAP" mode tap || fail "cannot create TAP device"
    ns ip link set "$TAP" mtu "$mtu" 2>/dev/null || ns ip link set "$TAP" mtu 65521
    ns ip addr add "$LINUX_IP/24" dev "$TAP"
    ns ip link set "$TAP" up
}

# tap_ipv6 [ADDR/LEN]: IPv6 on the TAP's kernel side after all (setup_ns
# turns it off in the namespace), without DAD; ADDR/LEN added if given.
tap_ipv6() {
    ns sysctl -qw net.ipv6.conf.$TAP.disable_ipv6=0
    ns sysctl -qw net.ipv6.conf.$TAP.accept_dad=0
    [ -z "${1:-}" ] || ns ip -6 addr add "$1" dev "$TAP" nodad
}

# bg NAME CMD...: runs CMD in the namespace in the background, output to
# $TMP/NAME.log; the pid is remembered for cleanup and left in BG_PID.
bg() {
    local name=$1
    shift
    ip netns exec "$NS" "$@" >"$TMP/$name.log" 2>&1 &
    BG_PID=$!
    PIDS+=("$BG_PID")
}

# wait_for FILE REGEX [SECONDS]: until a line matches (or fail).
wait_for() {
    local file=$1 re=$2 secs=${3:-10} i
    for ((i = 0; i < secs * 10; i++)); do
        grep -Eq "$re" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "timed out waiting for /$re/ in $(basename "$file")"
}

# wait_port PORT: until a Linux listener is up on PORT in the namespace.
wait_port() {
    local i
    for ((i = 0; i < 100; i++)); do
        ns ss -Htln "sport = :$1" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    fail "no listener on port $1"
}

# start_serve [oasis serve options]: Oasis's servers on the TAP device.
start_serve() { start_serve_as serve "$@"; }

# start_serve_as NAME [oasis serve options]: the same, its output in
# $TMP/NAME.log (a test that runs serve more than once keeps every log).
start_serve_as() {
    local name=$1
    shift
    bg "$name" "$OASIS" serve --tap "$TAP" --addr "$OASIS_IP/24" "$@"
    SERVE_PID=$BG_PID
    wait_for "$TMP/$name.log" "ready on" 10
}

# start_serve6 ADDR6/LEN [oasis serve options]: start_serve with a static
# IPv6 address besides; waits until it and the link-local address are
# preferred (DAD done) and leaves the link-local one in OASIS_LL.
start_serve6() {
    local a6=$1
    shift
    start_serve "$@" --addr6 "$a6"
    wait_for "$TMP/serve.log" "ipv6 $a6 preferred" 10
    wait_for "$TMP/serve.log" "ipv6 fe80:.* preferred" 10
    OASIS_LL=$(sed -n 's/^oasis: ipv6 \(fe80:[0-9a-f:]*\)\/64 preferred.*/\1/p' "$TMP/serve.log" | head -n 1)
}

# start_serve_dhcp [oasis serve options]: Oasis's servers on the TAP device
# with no --addr, so the address is DHCP's, from the server the test started
# (handing out 10.77.0.50-99); waits for the lease and the servers. Leaves
# SERVE_PID, serve's "dhcp: bound" line in BOUND and its address in ADDR.
start_serve_dhcp() {
    bg serve "$OASIS" serve --tap "$TAP" --http-port 0 "$@"
    SERVE_PID=$BG_PID
    wait_for "$TMP/serve.log" "dhcp: bound" 20
    wait_for "$TMP/serve.log" "ready on" 5
    BOUND=$(grep -m1 "dhcp: bound" "$TMP/serve.log")
    log "$BOUND"
    ADDR=$(sed -E 's/.*bound (\(rapid commit\) )?([0-9.]+)\/.*/\2/' <<<"$BOUND")
    [[ "$ADDR" =~ ^10\.77\.0\.([5-9][0-9])$ ]] || fail "leased address '$ADDR' not in the range"
}

# stop_pid PID WHAT: stops a process and insists it exits cleanly (under
# ASan, a leak or a fault at shutdown fails the test here).
stop_pid() {
    local pid=$1 what=$2 rc=0 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    wait "$pid" || rc=$?
    [ "$rc" -eq 0 ] || fail "$what exited with status $rc"
    pass "$what shut down cleanly"
}

# oasis_run NAME SECONDS CMD...: runs an oasis client in the namespace in the
# foreground; output in $TMP/NAME.log, status in RC.
oasis_run() {
    local name=$1 secs=$2
    shift 2
    RC=0
    timeout -k 5 "$secs" ip netns exec "$NS" "$OASIS" "$@" --tap "$TAP" --addr "$OASIS_IP/24" \
        >"$TMP/$name.log" 2>&1 || RC=$?
}

pattern_sha() { python3 "$HERE/pattern_sha256.py" "$1"; }

# serve_alive WHEN: oasis serve ($SERVE_PID) must still run; if not, its
# log's start (where a sanitizer's report begins) is shown before failing.
serve_alive() {
    kill -0 "$SERVE_PID" 2>/dev/null && return 0
    head -n 60 "$TMP/serve.log"
    fail "oasis serve died ($1)"
}

# run_probe SCRIPT WHEN ARGS...: runs a Python probe in the namespace (its
# exit status is the number of failed check groups), shows its output and
# checks that oasis serve outlived it.
run_probe() {
    local script=$1 when=$2 rc=0
    shift 2
    ns timeout 120 python3 "$HERE/$script" "$@" >"$TMP/probe.log" 2>&1 || rc=$?
    sed 's/^/  /' "$TMP/probe.log"
    serve_alive "$when"
    [ "$rc" -eq 0 ] || fail "$rc check group(s) of the probe failed (see above)"
    pass "probe: $(grep -c '^ok:' "$TMP/probe.log") checks passed"
}

# curl_after_probe URL [CURL OPTIONS...]: an ordinary client still gets
# 100000 correct bytes from the same process.
curl_after_probe() {
    local url=$1 got
    shift
    got=$(ns curl "$@" -sS --max-time 10 "$url" | sha256sum | cut -d' ' -f1) ||
        fail "curl after the probe failed"
    expect_eq "$got" "$(pattern_sha 100000)" "curl $* after the probe: 100000 bytes, SHA-256 as expected"
    serve_alive "after curl"
}

expect_eq() { # got want what
    [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
    pass "$3"
}

# metric NAME: oasis_tcp_NAME as the Prometheus endpoint at $METRICS (set
# by the test) reports it now; empty when unreachable.
metric() {
    ns curl -sS --max-time 20 "$METRICS" 2>/dev/null | awk -v n="oasis_tcp_$1" '$1 == n {print $2}'
}

# settled WHAT: waits (60 s at most) until the only flow left is the
# scrape's own, else fails saying WHAT.
settled() {
    local i e f
    for ((i = 0; i < 60; i++)); do
        e=$(metric CurrEstab)
        f=$(metric CurrFlows)
        [ "$e" = 1 ] && [ "$f" = 1 ] && return 0
        sleep 1
    done
    fail "$1: flows never given back (CurrEstab '$e', CurrFlows '$f')"
}
