#!/usr/bin/env bash
# The goroutines, streams and why-blocked integration tests once under valgrind memcheck,
# over a subset of the fixture snapshots (GS_VALGRIND_SCENARIOS, default: one non-PIE and
# one PIE scenario of every toolchain pair) to keep make check short.
# Last line: "valgrind: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
root=${GS_FIXTURES:-$PWD/fixtures/out}
sub=$PWD/build/valgrind-fixtures
rm -rf "$sub"
for pdir in "$root"/*/; do
  pair=$(basename "$pdir")
  for scen in ${GS_VALGRIND_SCENARIOS:-peer-silent handler-blocked-pie}; do
    [ -d "$pdir/$scen" ] || continue
    mkdir -p "$sub/$pair"
    ln -s "$pdir/$scen" "$sub/$pair/$scen"
  done
done
GS_FIXTURES=$sub exec tests/sanitize/run-integration.sh valgrind "$PWD/tests/sanitize/valgrind-grpcscope.sh" \
  tests/integration/test_goroutines.py tests/integration/test_streams.py tests/integration/test_why_blocked.py
