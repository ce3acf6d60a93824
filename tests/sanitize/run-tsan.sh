#!/usr/bin/env bash
# The commands that run on two threads (the heap scan for transports, reading the g's, the
# unwinding of many goroutines, their waits beside the gRPC model, the listing's two halves)
# under ThreadSanitizer (build-tsan/, make tsan), on every many-streams
# snapshot (hundreds of goroutines: both threads get work). A run passes when it exits 0,
# TSan reports nothing, and its output is byte-for-byte the output of the normal build.
# Last line: "tsan: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
root=${GS_FIXTURES:-$PWD/fixtures/out}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:exitcode=66}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for d in "$root"/*/many-streams; do
  [ -f "$d/core" ] || { echo "FAIL $d: no core"; fail=$((fail + 1)); continue; }
  for cmd in "goroutines" "goroutines --json" "goroutines --stacks" "streams --json" "why-blocked --json"; do
    name="$(basename "$(dirname "$d")")/many-streams $cmd"
    # shellcheck disable=SC2086
    build-tsan/grpcscope $cmd "$d/exe" "$d/core" >"$tmp/t" 2>"$tmp/e"; rc=$?
    # shellcheck disable=SC2086
    build/grpcscope $cmd "$d/exe" "$d/core" >"$tmp/n" 2>/dev/null
    if [ $rc -ne 0 ] || grep -q ThreadSanitizer "$tmp/e"; then
      fail=$((fail + 1)); echo "FAIL $name: exit $rc"; head -30 "$tmp/e"
    elif ! cmp -s "$tmp/t" "$tmp/n"; then
      fail=$((fail + 1)); echo "FAIL $name: output differs from the normal build"
    else
      pass=$((pass + 1)); echo "ok   $name: $(wc -c <"$tmp/t") bytes, no race"
    fi
  done
done
[ $((pass + fail)) -gt 0 ] || { echo "FAIL no many-streams snapshot under $root"; fail=1; }
echo "tsan: $pass passed, $fail failed"
[ $fail -eq 0 ]
