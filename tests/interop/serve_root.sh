#!/usr/bin/env bash
# `oasis serve --root`: request targets that try to climb out of the root,
# raw and percent-encoded (RFC 3986 2.1, 3.3), find nothing, though a file
# waits one level up; bad encodings and NULs are 400; the absolute form of
# the target (RFC 9112 3.2.2: a server MUST accept it) and dot segments
# inside the root (RFC 3986 5.2.4) reach the file. Symlinks that lead out
# of the root are 403 unless --follow-symlinks. Args: OASIS_BIN
TEST_NAME=interop_serve_root
NS_TAG=root
source "$(dirname "$0")/lib.sh"

setup_ns 1500
mkdir -p "$TMP/www/sub"
echo "the index" >"$TMP/www/index.html"
echo "sub index" >"$TMP/www/sub/index.html"
# Named pipes: opening one blocks until a writer comes, and serve is one
# thread (found by an outside probe: every client stalled).
mkdir -p "$TMP/www/fifodir"
mkfifo "$TMP/www/pipe" "$TMP/www/fifodir/index.html"
echo "SECRET" >"$TMP/secret.txt" # one level above the root
# Symlinks: one within the root, and three that lead out of it.
ln -s ../index.html "$TMP/www/sub/up.html"
ln -s ../secret.txt "$TMP/www/rel-out.txt"
ln -s "$TMP/secret.txt" "$TMP/www/abs-out.txt"
ln -s .. "$TMP/www/parent"
start_serve --root "$TMP/www" --quiet

# status TARGET: the status code and whether the secret leaked, from a raw
# request (curl would normalise the target first).
status() {
    ns timeout 10 python3 - "$OASIS_IP" "$1" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=5)
s.sendall(b"GET " + sys.argv[2].encode() + b" HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n")
b = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    b += d
code = b.split(b"\r\n", 1)[0].split(b" ")[1].decode() if b else "none"
body = b.partition(b"\r\n\r\n")[2]
print(code, "LEAK" if b"SECRET" in body else body.decode(errors="replace").strip())
PY
}
for t in "/../secret.txt" "/sub/../../secret.txt" "/%2e%2e/secret.txt" "/%2E%2E/secret.txt" \
    "/sub/%2e%2e/%2e%2e/secret.txt" "/..%2fsecret.txt" "/sub/..%2f..%2fsecret.txt" "/.%2e/secret.txt" \
    "//secret.txt"; do
    got=$(status "$t")
    case $got in
    *LEAK*) fail "$t: the file above the root was served ($got)" ;;
    404*) pass "$t: 404, nothing above the root" ;;
    *) fail "$t: got '$got', want 404" ;;
    esac
done
for t in "/index.html%00.txt" "/%00" "/%zz" "/%4"; do
    got=$(status "$t")
    expect_eq "${got%% *}" 400 "$t: a NUL or a bad percent-encoding"
done
expect_eq "$(status "http://$OASIS_IP/index.html")" "200 the index" "the absolute form of the target"
expect_eq "$(status "/./sub/./index.html")" "200 sub index" "dot segments inside the root"
expect_eq "$(status "/sub/%69ndex.html")" "200 sub index" "a percent-encoded unreserved character"
expect_eq "$(status "/sub/up.html")" "200 the index" "a symlink that stays inside the root"
for t in /rel-out.txt /abs-out.txt /parent/secret.txt; do
    got=$(status "$t")
    case $got in
    *LEAK*) fail "$t: a symlink led out of the root ($got)" ;;
    403*) pass "$t: 403, the symlink leads out of the root" ;;
    *) fail "$t: got '$got', want 403" ;;
    esac
done
serve_alive "after the targets"
for t in /pipe /fifodir/; do
    got=$(status "$t")
    expect_eq "${got%% *}" 404 "$t: a FIFO is no regular file"
    expect_eq "$(status "/index.html")" "200 the index" "another request after $t"
done
stop_pid "$SERVE_PID" "oasis serve"

# --follow-symlinks: the owner of the root lets its symlinks lead anywhere
# (nginx's default); ".." in the target still finds nothing.
start_serve_as serve2 --root "$TMP/www" --quiet --follow-symlinks
expect_eq "$(status "/rel-out.txt")" "200 LEAK" "--follow-symlinks: a relative symlink out of the root"
expect_eq "$(status "/parent/secret.txt")" "200 LEAK" "--follow-symlinks: a directory symlink out of the root"
expect_eq "$(status "/../secret.txt")" "404 not found" "--follow-symlinks: a '..' target still finds nothing"
stop_pid "$SERVE_PID" "oasis serve"
