#!/usr/bin/env bash
# The main job: builds oasis-demo (Release) and runs it. Two Oasis stacks on
# the in-memory wire: an echo exchange, a 1 GiB transfer checked with
# SHA-256 on both ends, a half-close, and a summary. Everything shares one
# thread, so the summary prints the end-to-end figure and, beside it, the
# time spent hashing and generating and the stack's own figure. SHA-256 is
# OpenSSL's libcrypto (libssl-dev) when present, else a portable fallback.
# Arguments go to oasis-demo (try --help, --size 256M, --mtu 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v cmake >/dev/null || need+=(cmake)
command -v cc >/dev/null || need+=(build-essential)
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
if ((${#need[@]})); then
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Optional: the fast SHA-256. Without it the demo still runs (slower hash).
if [ ! -e /usr/include/openssl/evp.h ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libssl-dev >/dev/null 2>&1 ||
    echo "demo.sh: libssl-dev not installed: SHA-256 falls back to the built-in one" >&2
fi
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DOASIS_BUILD_TESTS=OFF >/dev/null
cmake --build build-demo -j"$(nproc 2>/dev/null || echo 2)" --target oasis-demo >/dev/null
exec ./build-demo/examples/oasis-demo "$@"
