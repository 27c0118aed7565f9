#!/usr/bin/env bash
# `oasis get` downloads from Python's http.server on the Linux side (Linux
# sends, Oasis receives). Args: OASIS_BIN MTU SIZE_BYTES
TEST_NAME="interop_get_mtu${2:-1500}"
source "$(dirname "$0")/lib.sh"
MTU=${2:-1500}
SIZE=${3:-67108864}

setup_ns "$MTU"
mkdir -p "$TMP/www"
head -c "$SIZE" /dev/urandom >"$TMP/www/big.bin"
want=$(sha256sum <"$TMP/www/big.bin" | cut -d' ' -f1)
bg httpd python3 -m http.server 8000 --bind "$LINUX_IP" --directory "$TMP/www"
wait_port 8000
URL="http://$LINUX_IP:8000"

# To a file: both the printed digest and the file's own must match.
oasis_run get-file 600 get --mtu "$MTU" -o "$TMP/out.bin" "$URL/big.bin"
[ "$RC" -eq 0 ] || fail "oasis get exited $RC"
got=$(awk '$1 == "sha256" {print $2}' "$TMP/get-file.log")
expect_eq "$got" "$want" "oasis get's SHA-256 of $SIZE bytes at MTU $MTU"
expect_eq "$(sha256sum <"$TMP/out.bin" | cut -d' ' -f1)" "$want" "the written file"
log "rate Linux->Oasis at MTU $MTU: $(awk '$1 == "sha256" {printf "%.0f Mbit/s", $4*8/$6/1e6}' "$TMP/get-file.log")"
rm -f "$TMP/out.bin"

# Discarding, and a missing file.
oasis_run get-discard 600 get -q "$URL/big.bin"
[ "$RC" -eq 0 ] || fail "oasis get (discard) exited $RC"
expect_eq "$(awk '$1 == "sha256" {print $2}' "$TMP/get-discard.log")" "$want" "download discarded, hash kept"
oasis_run get-404 60 get -q "$URL/missing"
expect_eq "$RC" "1" "exit status for a 404"
grep -q "status 404" "$TMP/get-404.log" || fail "no word about the 404"
pass "404 reported"
