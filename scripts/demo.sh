#!/usr/bin/env bash
# The main job: builds oasis-demo (Release) and runs it. Two Oasis stacks on
# the in-memory wire: an echo exchange, a 1 GiB transfer checked with
# SHA-256 on both ends, a half-close, and a summary. Arguments go to
# oasis-demo (try --help, --size 256M, --mtu 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v cmake >/dev/null || need+=(cmake)
command -v cc >/dev/null || need+=(build-essential)
if ((${#need[@]})); then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DOASIS_BUILD_TESTS=OFF >/dev/null
cmake --build build-demo -j"$(nproc 2>/dev/null || echo 2)" --target oasis-demo >/dev/null
exec ./build-demo/examples/oasis-demo "$@"
