#!/usr/bin/env bash
# make demo: unpack the committed snapshot (handler-blocked: Go 1.27 + grpc-go 1.81, two
# clients waiting on handlers, one stuck on a mutex, one on a channel) and ask why-blocked.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=build/demo
if [ ! -f "$demo/core" ] || [ fixtures/demo/handler-blocked.tar.xz -nt "$demo/core" ]; then
  rm -rf "$demo" && mkdir -p "$demo"
  tar -xJf fixtures/demo/handler-blocked.tar.xz -C "$demo"
fi
echo "\$ grpcscope why-blocked build/demo/exe build/demo/core"
build/grpcscope why-blocked "$demo/exe" "$demo/core"
