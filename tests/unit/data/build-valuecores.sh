#!/bin/sh
# Builds tests/unit/data/valueprog with every Go toolchain in $GS_CACHE/go, runs it until it
# prints READY, freezes it with gcore and writes OUTDIR/<X.Y>/{valueprog,core,expected.txt}.
# expected.txt is what the program itself printed about its values. Incremental: a version
# whose core is newer than the program source and this script is skipped.
set -eu
out=${1:?usage: build-valuecores.sh OUTDIR}
cache=${GS_CACHE:-/var/cache/grpcscope}
here=$(cd "$(dirname "$0")" && pwd)
src=$here/valueprog
mkdir -p "$out"
out=$(cd "$out" && pwd)
found=
for d in "$cache"/go/*/; do
	v=$(basename "$d")
	goroot="$d/usr/lib/go-$v"
	[ -x "$goroot/bin/go" ] || continue
	found=1
	dir=$out/$v
	if [ -s "$dir/core" ] && [ -s "$dir/expected.txt" ] && [ "$dir/core" -nt "$src/main.go" ] &&
		[ "$dir/core" -nt "$0" ]; then
		continue
	fi
	mkdir -p "$dir"
	rm -f "$dir"/core "$dir"/core.* "$dir/expected.txt"
	(cd "$src" && env GOROOT="$goroot" GOTOOLCHAIN=local GO111MODULE=off GOFLAGS= \
		GOCACHE="$cache/gocache/$v" GOPATH="$dir/gopath" CGO_ENABLED=0 \
		"$goroot/bin/go" build -o "$dir/valueprog" main.go)
	rm -rf "$dir/gopath"
	fifo=$dir/out.fifo
	rm -f "$fifo"
	mkfifo "$fifo"
	"$dir/valueprog" >"$fifo" &
	pid=$!
	ok=
	: >"$dir/expected.tmp"
	while IFS= read -r line; do
		if [ "$line" = READY ]; then ok=1; break; fi
		printf '%s\n' "$line" >>"$dir/expected.tmp"
	done <"$fifo"
	if [ -z "$ok" ]; then
		kill "$pid" 2>/dev/null || true
		rm -f "$fifo"
		echo "build-valuecores.sh: $v: program ended before READY" >&2
		exit 1
	fi
	gcore -o "$dir/core" "$pid" >/dev/null 2>&1 || { kill "$pid"; rm -f "$fifo"; echo "build-valuecores.sh: gcore failed for $v" >&2; exit 1; }
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$fifo"
	mv "$dir/core.$pid" "$dir/core"
	fallocate --dig-holes "$dir/core" 2>/dev/null || true
	mv "$dir/expected.tmp" "$dir/expected.txt"
done
[ -n "$found" ] || { echo "build-valuecores.sh: no Go toolchain under $cache/go" >&2; exit 1; }
