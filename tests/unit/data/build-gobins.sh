#!/bin/sh
# Builds tests/unit/data/gobin with every Go toolchain in $GS_CACHE/go into the directory $1,
# as go<X.Y>, go<X.Y>-pie and (newest toolchain) go<X.Y>-stripped, and records what other
# tools say about each binary for the unit tests to compare: BIN.version (`go version`),
# BIN.go-build-id (`go tool buildid`), BIN.gnu-build-id (readelf -n, empty if none).
set -eu
out=${1:?usage: build-gobins.sh OUTDIR}
cache=${GS_CACHE:-/var/cache/grpcscope}
src=$(cd "$(dirname "$0")/gobin" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
record() { # GOROOT BINARY
	"$1/bin/go" version "$2" | sed 's/.*: //' >"$2.version"
	"$1/bin/go" tool buildid "$2" >"$2.go-build-id"
	readelf -n "$2" | sed -n 's/^ *Build ID: *//p' >"$2.gnu-build-id"
}

newest=
for d in "$cache"/go/*/; do
	v=$(basename "$d")
	goroot="$d/usr/lib/go-$v"
	[ -x "$goroot/bin/go" ] || continue
	newest=$v
	export GOROOT="$goroot" GOTOOLCHAIN=local GO111MODULE=off GOFLAGS= \
		GOCACHE="$cache/gocache/$v" GOPATH="$out/gopath" CGO_ENABLED=0
	(cd "$src" && "$goroot/bin/go" build -o "$out/go$v" main.go)
	(cd "$src" && "$goroot/bin/go" build -buildmode=pie -o "$out/go$v-pie" main.go)
	for b in "$out/go$v" "$out/go$v-pie"; do
		record "$goroot" "$b"
	done
done
[ -n "$newest" ] || { echo "build-gobins.sh: no Go toolchain under $cache/go" >&2; exit 1; }
goroot="$cache/go/$newest/usr/lib/go-$newest"
export GOROOT="$goroot" GOCACHE="$cache/gocache/$newest"
(cd "$src" && "$goroot/bin/go" build -ldflags='-s -w' -o "$out/go$newest-stripped" main.go)
record "$goroot" "$out/go$newest-stripped"
rm -rf "$out/gopath"
