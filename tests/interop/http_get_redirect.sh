#!/usr/bin/env bash
# Issue 12: `oasis get` follows redirects, bounded. Python's http.server
# answers /sub with 301 to /sub/. Args: OASIS_BIN
TEST_NAME="interop_http_get_redirect"
NS_TAG=http
source "$(dirname "$0")/lib.sh"

setup_ns 1500
mkdir -p "$TMP/www/sub"
printf 'redirected body\n' >"$TMP/www/sub/index.html"
want=$(sha256sum <"$TMP/www/sub/index.html" | cut -d' ' -f1)
bg httpd python3 -m http.server 8000 --bind "$LINUX_IP" --directory "$TMP/www"
wait_port 8000
URL="http://$LINUX_IP:8000"

oasis_run get-redirect 60 get -q -o "$TMP/out.txt" "$URL/sub"
[ "$RC" -eq 0 ] || fail "oasis get exited $RC"
expect_eq "$(sha256sum <"$TMP/out.txt" | cut -d' ' -f1)" "$want" "oasis get followed 301 /sub -> /sub/"
expect_eq "$(awk '$1 == "sha256" {print $2}' "$TMP/get-redirect.log")" "$want" "the printed digest is the target's"

oasis_run get-noredirect 60 get -q --max-redirs 0 "$URL/sub"
[ "$RC" -eq 1 ] || fail "oasis get --max-redirs 0 exited $RC, want 1"
grep -q "301" "$TMP/get-noredirect.log" || fail "no word of the 301"
pass "--max-redirs 0: the redirect is reported, not followed"

# A loop: bounded by --max-redirs.
bg loop python3 -c '
import http.server as h
class H(h.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", "/loop")
        self.send_header("Content-Length", "0")
        self.end_headers()
h.HTTPServer(("'"$LINUX_IP"'", 8001), H).serve_forever()'
wait_port 8001
oasis_run get-loop 60 get -q --max-redirs 3 "http://$LINUX_IP:8001/loop"
[ "$RC" -eq 1 ] || fail "oasis get on a redirect loop exited $RC, want 1"
grep -q "too many redirects" "$TMP/get-loop.log" || fail "the loop was not reported"
expect_eq "$(grep -c "following" "$TMP/get-loop.log")" 0 "quiet: no progress lines"
pass "a redirect loop stops after --max-redirs"
