#!/usr/bin/env bash
# The fuzz corpora kept in the repo: tests/fuzz/corpus/TARGET.tar.xz, one minimized corpus
# a target (libFuzzer -merge=1: the smallest set of inputs with the same coverage), packed
# because the inputs of fuzz_elf, fuzz_pclntab and fuzz_typedesc are whole binaries and
# type regions that repeat one another (tens of MB loose, one or two packed).
#   corpus.sh unpack DIR          each TARGET.tar.xz into DIR/TARGET (kept if not empty)
#   corpus.sh save BIN_DIR SRC    minimize SRC/TARGET with BIN_DIR/TARGET into the repo
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
store=$here/corpus
case "${1:-}" in
unpack)
  dir=$2
  for a in "$store"/*.tar.xz; do
    [ -e "$a" ] || continue
    t=$(basename "$a" .tar.xz)
    mkdir -p "$dir/$t"
    [ -n "$(ls -A "$dir/$t")" ] || tar -xJf "$a" -C "$dir/$t"
  done ;;
save)
  bins=$2 src=$3
  mkdir -p "$store"
  for bin in "$bins"/fuzz_*; do
    t=$(basename "$bin")
    [ -d "$src/$t" ] && [ -n "$(ls -A "$src/$t")" ] || { echo "$t: no corpus in $src/$t" >&2; continue; }
    tmp=$(mktemp -d)
    "$bin" -merge=1 -rss_limit_mb=4096 "$tmp" "$src/$t" >"$tmp.log" 2>&1 ||
      { echo "$t: merge failed (see $tmp.log)" >&2; rm -rf "$tmp"; continue; }
    (cd "$tmp" && ls | LC_ALL=C sort | tar --owner=0 --group=0 --mtime=@0 -cf - -T - | xz -9e) \
      >"$store/$t.tar.xz"
    echo "$t: $(ls "$src/$t" | wc -l) inputs -> $(ls "$tmp" | wc -l) kept, $(stat -c %s "$store/$t.tar.xz") bytes packed"
    rm -rf "$tmp" "$tmp.log"
  done ;;
*) echo "usage: corpus.sh unpack DIR | save BIN_DIR SRC_DIR" >&2; exit 2 ;;
esac
