#!/usr/bin/env bash
# curl and wget download from `oasis serve` (Oasis sends, Linux receives).
# Args: OASIS_BIN MTU BIG_SIZE_BYTES
TEST_NAME="interop_http_mtu${2:-1500}"
source "$(dirname "$0")/lib.sh"
MTU=${2:-1500}
BIG=${3:-67108864}
need curl wget

setup_ns "$MTU"
mkdir -p "$TMP/www/sub"
head -c $((3 * 1024 * 1024 + 17)) /dev/urandom >"$TMP/www/file.bin"
echo "<p>hello from oasis</p>" >"$TMP/www/sub/index.html"
start_serve --mtu "$MTU" --root "$TMP/www"
URL="http://$OASIS_IP"

# The big one: the pattern, hashed on both ends.
want=$(pattern_sha "$BIG")
got=$(ns curl -sS --fail --max-time 900 -w '%{stderr}%{size_download} %{speed_download}\n' \
    "$URL/bytes/$BIG" 2>"$TMP/curl-big.log" | sha256sum | cut -d' ' -f1) ||
    fail "curl of /bytes/$BIG failed"
expect_eq "$got" "$want" "curl /bytes/$BIG SHA-256 at MTU $MTU"
read -r size speed <"$TMP/curl-big.log"
expect_eq "$size" "$BIG" "curl received every byte"
log "rate Oasis->Linux at MTU $MTU: $(python3 -c "print(f'{$speed*8/1e6:.0f} Mbit/s')") ($BIG bytes)"

# A real file, with wget as well.
want=$(sha256sum <"$TMP/www/file.bin" | cut -d' ' -f1)
got=$(ns curl -sS --fail --max-time 60 "$URL/file.bin" | sha256sum | cut -d' ' -f1)
expect_eq "$got" "$want" "curl of a 3 MiB file"
got=$(ns wget -q -T 60 -O - "$URL/file.bin" | sha256sum | cut -d' ' -f1)
expect_eq "$got" "$want" "wget of a 3 MiB file"
got=$(ns wget -q -T 60 -O - "$URL/bytes/1000000" | sha256sum | cut -d' ' -f1)
expect_eq "$got" "$(pattern_sha 1000000)" "wget of /bytes/1000000"
got=$(ns curl -sS --fail --max-time 10 "$URL/sub/")
expect_eq "$got" "<p>hello from oasis</p>" "directory index"

# Keep-alive: two requests on one connection, each with Content-Length.
ns curl -sv --fail --max-time 30 -o /dev/null -o /dev/null "$URL/bytes/100000" "$URL/bytes/5" \
    >"$TMP/curl-ka.log" 2>&1 || fail "curl of two URLs failed"
grep -q "Re-using existing connection" "$TMP/curl-ka.log" || fail "curl did not reuse the connection"
pass "keep-alive: curl reused the connection"
grep -qi "^< Content-Length: 100000" "$TMP/curl-ka.log" || fail "no Content-Length: 100000"
pass "Content-Length given"

# HEAD, errors, no escape from the root.
ns curl -sSI --fail --max-time 10 "$URL/bytes/1G" >"$TMP/head.txt" || fail "HEAD failed"
grep -qi "^Content-Length: 1073741824" "$TMP/head.txt" || fail "HEAD lacks the length"
pass "HEAD /bytes/1G"
code=$(ns curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL/nope")
expect_eq "$code" "404" "missing file"
code=$(ns curl -s --path-as-is -o /dev/null -w '%{http_code}' --max-time 10 "$URL/../../etc/passwd")
expect_eq "$code" "404" "no path out of the root"
code=$(ns curl -s -X POST -d x -o /dev/null -w '%{http_code}' --max-time 10 "$URL/")
expect_eq "$code" "405" "POST refused"

stop_pid "$SERVE_PID" "oasis serve"
