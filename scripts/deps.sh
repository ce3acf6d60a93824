#!/usr/bin/env bash
# Installs the system packages grpcscope needs, from the machine's own Debian sources, when
# any is missing. Idempotent: a machine that has them all is left untouched.
set -euo pipefail
pkgs=(gcc make pkg-config libelf-dev libdwarf-dev zlib1g-dev libdeflate-dev check gdb gdbserver lldb python3-lldb-14
      python3 clang libclang-rt-14-dev valgrind xz-utils util-linux ca-certificates
      libdebuginfod-dev debuginfod iproute2 strace
      libgvc6 chromium)
# libgvc6: Graphviz's layout library, loaded at run time by `report` for the wait-for graph
# (dlopen; without it the report draws its own layout). chromium: test_report.py renders the
# report in a headless browser.
# compressed cores: the decompression libraries, and the tools the tests compress with
pkgs+=(libzstd-dev liblzma-dev liblz4-dev zstd gzip lz4)
missing=()
pkgs+=(binutils)  # objcopy and readelf: the stripped fixtures and test_stripped.py
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages ${missing[*]}; run 'make deps' as root" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
