#!/usr/bin/env bash
# make check: unit tests (Check), the fixture checks, the integration tests over fixture
# snapshots. Every suite prints its own summary; the last line sums them all.
set -u
cd "$(dirname "$0")/.."
total_pass=0 total_fail=0
recap=() # every failing line, said again at the end: a CI log is often seen only by its tail
run_suite() { # NAME CMD...: runs a suite, adds its "N passed, N failed" line to the totals
  local name=$1; shift
  echo "== $name"
  local out rc
  out=$("$@" 2>&1); rc=$?
  printf '%s\n' "$out"
  local l
  while IFS= read -r l; do recap+=("$name: $l"); done < <(printf '%s\n' "$out" |
    grep -E '^[[:space:]]*FAIL|:[0-9]+:[EF]:|ERROR: (Address|Thread|Leak)Sanitizer|runtime error:' | head -n 40)
  local line p f
  line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
  if [ -z "$line" ]; then
    echo "$name: no summary (exit $rc)"; recap+=("$name: no summary (exit $rc)")
    total_fail=$((total_fail + 1)); return
  fi
  p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
  f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    total_fail=$((total_fail + 1)); recap+=("$name: exit $rc with no failed check")
  fi
}

# Unit tests read small Go binaries built by every toolchain, and real grpc executables.
gobins=build/gobins
if [ -x tests/unit/data/build-gobins.sh ]; then
  tests/unit/data/build-gobins.sh "$gobins" >build/gobins.log 2>&1 || { echo "building unit-test Go binaries failed:"; tail -20 build/gobins.log; }
fi
export GS_TEST_GOBINS=$PWD/$gobins
tests/unit/data/build-valuecores.sh build/valuecores >build/valuecores.log 2>&1 || { echo "building value cores failed:"; tail -20 build/valuecores.log; }
export GS_TEST_VALUECORES=$PWD/build/valuecores
# The snapshots by their real paths (fixtures/out links into the cache): the debuggers name
# files that way, and their tests compare with the CLI.
[ -e fixtures/out ] && export GS_FIXTURES=${GS_FIXTURES:-$(realpath fixtures/out)}
[ -e fixtures/out-thirdparty ] && export GS_THIRDPARTY_OUT=${GS_THIRDPARTY_OUT:-$(realpath fixtures/out-thirdparty)}
GS_TEST_GRPC_EXES=$(ls -d "${GS_FIXTURES:-$PWD/fixtures/out}"/*/peer-silent/exe 2>/dev/null | paste -sd: -)
export GS_TEST_GRPC_EXES

run_suite unit tests/run-unit.sh "$@"
run_suite fixtures python3 tests/integration/check_fixtures.py
run_suite goroutines python3 tests/integration/test_goroutines.py
run_suite bad-input python3 tests/integration/test_bad_input.py
for extra in tests/integration/test_*.py; do
  case "$extra" in */test_goroutines.py|*/test_bad_input.py) continue ;; esac
  run_suite "$(basename "$extra" .py)" python3 "$extra"
done

# Issue 7: the unit and integration tests again against the ASan + UBSan build (make asan),
# the integration tests once under valgrind memcheck over a subset of the snapshots, and the
# fuzz targets: their regression inputs replayed plus a short pass (make fuzz-build).
san=(env "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1" "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
run_suite asan-unit "${san[@]}" tests/run-unit.sh build-asan/tests/test_*
run_suite asan-integration "${san[@]}" tests/sanitize/run-integration.sh asan-integration \
  "$PWD/build-asan/grpcscope" $(ls tests/integration/test_*.py | grep -v -e test_gdb -e test_lldb)
run_suite valgrind tests/sanitize/run-valgrind.sh
run_suite tsan tests/sanitize/run-tsan.sh
run_suite fuzz-smoke tests/fuzz/run.sh smoke "${GS_FUZZ_SMOKE_RUNS:-500}"

if [ ${#recap[@]} -gt 0 ]; then
  echo "== failures, again"
  printf '%s\n' "${recap[@]}"
fi
echo "check: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
