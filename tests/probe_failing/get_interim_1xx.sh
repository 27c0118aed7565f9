#!/usr/bin/env bash
# PROBE (failing): `oasis get` takes an interim 1xx response for the final
# one. RFC 9110 15.2: "A client MUST be able to parse one or more 1xx
# responses received prior to a final response, even if the client does
# not expect one. A user agent MAY ignore unexpected 1xx responses."
# A Linux server answers GET with "100 Continue" (or "103 Early Hints")
# and then "200 OK" with a 2-byte body; curl prints "ok", oasis get exits 1
# with "server answered with status 100".
# Also: a 4-digit status ("HTTP/1.1 2001 OK") is taken as 200 although
# status-code is 3DIGIT followed by SP (RFC 9112 4).
# Root cause: tools/oasis/get.c take_head() (the check at
# `if (g->resp.status < 200 || g->resp.status > 299)`) treats the first
# head as final; tools/oasis/http.c http_parse_response() reads 3 digits
# and never checks the byte after them.
# Usage: bash get_interim_1xx.sh /path/to/oasis   (exit 0: fixed, 1: bug)
TEST_NAME=probe_get_interim_1xx
NS_TAG=pnet
source "$(dirname "$0")/../interop/lib.sh"
need curl

setup_ns 1500
cat >"$TMP/srv.py" <<'PY'
import socket, sys, threading
ANS = {
    "/one-100": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "/early-hints": b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "/status-4digit": b"HTTP/1.1 2001 OK\r\nContent-Length: 2\r\n\r\nok",
}
def handle(c):
    req = b""
    while b"\r\n\r\n" not in req:
        d = c.recv(4096)
        if not d:
            break
        req += d
    path = req.split(b" ")[1].decode() if b" " in req else "/"
    c.sendall(ANS.get(path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
    c.close()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], 8000))
ls.listen(16)
while True:
    threading.Thread(target=handle, args=(ls.accept()[0],), daemon=True).start()
PY
bg srv python3 "$TMP/srv.py" "$LINUX_IP"
wait_port 8000
URL="http://$LINUX_IP:8000"
want=$(printf ok | sha256sum | cut -d' ' -f1)
bad=0
for p in one-100 early-hints; do
    # curl, the reference: skips the interim response.
    expect_eq "$(ns timeout 10 curl -sS "$URL/$p")" "ok" "curl reads the final response after /$p's 1xx"
    oasis_run "get-$p" 30 get -q --timeout 10 "$URL/$p"
    got=$(awk '$1 == "sha256" {print $2}' "$TMP/get-$p.log")
    if [ "$RC" -eq 0 ] && [ "$got" = "$want" ]; then
        pass "oasis get skipped /$p's interim 1xx and read the 200's body"
    else
        log "BUG: oasis get /$p: exit $RC, output: $(tr '\n' ' ' <"$TMP/get-$p.log")"
        bad=1
    fi
done
oasis_run get-4digit 30 get -q --timeout 10 "$URL/status-4digit"
if [ "$RC" -ne 0 ]; then
    pass "a 4-digit status code is refused (exit $RC)"
else
    log "BUG: oasis get took 'HTTP/1.1 2001 OK' for a 200: $(tr '\n' ' ' <"$TMP/get-4digit.log")"
    bad=1
fi
[ "$bad" -eq 0 ] || fail "oasis get mishandles 1xx / malformed status lines (see BUG lines)"
