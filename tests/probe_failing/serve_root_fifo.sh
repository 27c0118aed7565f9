#!/usr/bin/env bash
# PROBE (failing): a GET for a named pipe (FIFO) under `oasis serve --root`
# freezes the whole server. open_file() opens the path with
# open(O_RDONLY) before it checks S_ISREG; open(2) of a FIFO with no
# writer blocks (the kernel's fifo_open -> wait_for_partner), and serve is
# one thread with one event loop, so every other connection stalls until
# some local process happens to open the pipe for writing.
# Expected: 404 (not a regular file) at once; other clients served.
# Actual: the curl for /pipe times out, and so does a curl for
# /index.html afterwards; /proc/PID/wchan of oasis is wait_for_partner.
# Root cause: tools/oasis/serve.c open_file(), `int fd = open(full,
# O_RDONLY | O_CLOEXEC)` (and the second open for a directory's
# index.html): O_NONBLOCK (harmless for regular files) or an lstat/stat
# S_ISREG check before opening would avoid it.
# Usage: bash serve_root_fifo.sh /path/to/oasis   (exit 0: fixed, 1: bug)
TEST_NAME=probe_serve_root_fifo
NS_TAG=pnet
source "$(dirname "$0")/../interop/lib.sh"
need curl

setup_ns 1500
mkdir -p "$TMP/www/dir"
echo idx >"$TMP/www/index.html"
mkfifo "$TMP/www/pipe" "$TMP/www/dir/index.html"
start_serve --root "$TMP/www" --quiet
URL="http://$OASIS_IP"
bad=0
for p in pipe dir/; do
    code=$(ns timeout 5 curl -sS -o /dev/null -w '%{http_code}' "$URL/$p" 2>/dev/null) || code="timeout"
    if [ "$code" = 404 ]; then
        pass "GET /$p (a FIFO) is 404"
    else
        log "BUG: GET /$p (a FIFO): $code, server in $(cat /proc/"$SERVE_PID"/wchan 2>/dev/null)"
        bad=1
    fi
    got=$(ns timeout 5 curl -sS "$URL/index.html" 2>/dev/null) || got="timeout"
    if [ "$got" = idx ]; then
        pass "another client is still served after GET /$p"
    else
        log "BUG: GET /index.html after GET /$p: $got (the event loop is blocked)"
        bad=1
        # Unblock the server for the next check: a writer opens the pipe.
        p2=${p%/}; [ "$p" = dir/ ] && p2=dir/index.html
        timeout 2 sh -c "exec 3>'$TMP/www/$p2'" 2>/dev/null || true
        sleep 0.5
    fi
done
serve_alive "after the FIFO requests"
[ "$bad" -eq 0 ] || fail "a FIFO under --root blocks oasis serve (see BUG lines)"
