#!/usr/bin/env bash
# make demo: unpack the committed snapshot (handler-blocked, Go 1.27 + grpc-go 1.81) and run
# the analyser's best current command on it.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=build/demo
if [ ! -f "$demo/core" ] || [ fixtures/demo/handler-blocked.tar.xz -nt "$demo/core" ]; then
  rm -rf "$demo" && mkdir -p "$demo"
  tar -xJf fixtures/demo/handler-blocked.tar.xz -C "$demo"
fi
echo "\$ grpcscope goroutines --reason '' build/demo/exe build/demo/core" >&2
build/grpcscope goroutines "$demo/exe" "$demo/core"
