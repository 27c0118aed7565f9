#!/usr/bin/env bash
# Installs what building and testing Oasis needs (Debian packages). Idempotent:
# does nothing when every package is already there.
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev libcmocka-dev tshark valgrind
      iproute2 iputils-ping curl wget socat python3 iperf3 influxdb apache2-utils wrk
      prometheus victoria-metrics zlib1g-dev libssl-dev libcjson-dev nftables dnsmasq slirp4netns passt radvd
      bind9 python3-prometheus-client)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
