#!/usr/bin/env bash
# The CLI's failures: clear messages and exit statuses for every TAP error
# (no device, not a TAP, busy, no permission) and for bad arguments.
TEST_NAME=interop_cli
source "$(dirname "$0")/lib.sh"

setup_ns 1500

expect_fail() { # status regex what -- cmd...
    local want=$1 re=$2 what=$3 rc=0
    shift 4
    ns timeout 20 "$@" >"$TMP/out.log" 2>&1 || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$TMP/out.log"; fail "$what: exit $rc, want $want"; }
    grep -Eq "$re" "$TMP/out.log" || { cat "$TMP/out.log"; fail "$what: no /$re/ in the output"; }
    pass "$what"
}

expect_fail 3 "no network device nosuch.*ip tuntap add.*OASIS_ENOENT" "missing device" -- \
    "$OASIS" ping --tap nosuch -c 1 "$LINUX_IP"
ns ip tuntap add dev tun9 mode tun
expect_fail 3 "not a TAP device.*OASIS_EINVAL" "TUN device instead of TAP" -- \
    "$OASIS" ping --tap tun9 -c 1 "$LINUX_IP"
ns ip link add veth9 type veth peer name veth9b
expect_fail 3 "not a TAP device.*OASIS_EINVAL" "a veth device" -- \
    "$OASIS" ping --tap veth9 -c 1 "$LINUX_IP"

start_serve --http-port 0
expect_fail 3 "in use by another process.*OASIS_EBUSY" "device in use" -- \
    "$OASIS" ping --tap "$TAP" -c 1 "$LINUX_IP"
stop_pid "$SERVE_PID" "oasis serve"

# Without privileges (user nobody): /dev/net/tun or the device refuses.
if command -v setpriv >/dev/null; then
    cp "$OASIS" "$TMP/oasis-copy"
    chmod 755 "$TMP" "$TMP/oasis-copy"
    expect_fail 3 "not allowed.*OASIS_EPERM" "no permission" -- \
        setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/oasis-copy" ping --tap "$TAP" -c 1 "$LINUX_IP"
fi

# --create makes a device that goes away with the process.
expect_fail 1 "0 received" "--create on a new device" -- \
    "$OASIS" ping --create --tap made9 --addr 10.88.0.2/24 -c 1 -W 0.5 10.88.0.1
ns ip link show made9 >/dev/null 2>&1 && fail "made9 outlived the process"
pass "--create's device went away"

# Arguments.
expect_fail 2 "a destination is needed" "ping without destination" -- "$OASIS" ping
expect_fail 2 "invalid address" "ping to a bad address" -- "$OASIS" ping 10.77.0.256
expect_fail 2 "invalid --mtu" "MTU too small" -- "$OASIS" serve --mtu 100
expect_fail 2 "invalid --addr" "address without prefix" -- "$OASIS" serve --addr 10.0.0.1
expect_fail 2 "invalid URL" "unsupported URL" -- "$OASIS" get ftp://10.77.0.1/x
expect_fail 2 "invalid --keepalive" "bad keepalive" -- "$OASIS" nc --keepalive 1,2 10.77.0.1 80
expect_fail 2 "invalid port" "bad port" -- "$OASIS" nc 10.77.0.1 70000
expect_fail 2 "invalid --host-tag" "a host tag ending in a backslash (line protocol)" -- \
    "$OASIS" serve --host-tag 'box\' --influx http://10.77.0.1/db
expect_fail 2 "unknown command" "unknown command" -- "$OASIS" frobnicate
expect_fail 2 "unrecognized option" "unknown option" -- "$OASIS" serve --frob
for c in serve get ping nc pattern; do
    out=$("$OASIS" "$c" --help) || fail "$c --help failed"
    grep -q "^Usage: oasis $c" <<<"$out" || fail "$c --help has no usage line"
done
pass "--help on every subcommand"
