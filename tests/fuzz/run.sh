#!/usr/bin/env bash
# Runs the libFuzzer targets in build-fuzz/.
#   run.sh run SECONDS   each target for SECONDS on its corpus (build-fuzz/corpus/TARGET,
#                        grown from tests/fuzz/corpus/TARGET.tar.xz and the seeds);
#                        crashes land in build-fuzz/crashes/TARGET
#   run.sh smoke RUNS    replays every regression input, then RUNS executions a target;
#                        last line "fuzz-smoke: N passed, N failed"
set -u
cd "$(dirname "$0")/../.."
mode=${1:-smoke} arg=${2:-}
B=build-fuzz
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
[ -d $B/seeds ] || python3 tests/fuzz/make-seeds.py $B/seeds >/dev/null 2>&1 || echo "seeding failed"
# run mode starts from the corpora kept in the repo (tests/fuzz/corpus/TARGET.tar.xz)
[ "$mode" = run ] && tests/fuzz/corpus.sh unpack $B/corpus
pass=0 fail=0
for bin in $B/fuzz_*; do
  t=$(basename "$bin")
  mkdir -p $B/corpus/$t $B/crashes/$t
  regs=tests/fuzz/regressions/$t
  if [ -d "$regs" ] && [ -n "$(ls -A "$regs")" ]; then
    if out=$("$bin" -timeout=30 "$regs"/* 2>&1); then
      pass=$((pass + 1)); echo "ok   $t: $(ls "$regs" | wc -l) regression inputs"
    else
      fail=$((fail + 1)); echo "FAIL $t: a regression input fails again"; printf '%s\n' "$out" | tail -30
    fi
  fi
  case "$mode" in
    run)   limit=(-max_total_time="${arg:-60}"); corpus=$B/corpus/$t ;;
    *)     limit=(-runs="${arg:-200}"); corpus=$(mktemp -d) ;;  # seeds only: stays short
  esac
  start=$(date +%s)
  out=$("$bin" "${limit[@]}" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix=$B/crashes/$t/ "$corpus" $B/seeds/$t 2>&1); rc=$?
  [ "$mode" = run ] || rm -rf "$corpus"
  secs=$(( $(date +%s) - start ))
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' <<<"$out" | grep -oE '[0-9]+$')
  eps=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' <<<"$out" | grep -oE '[0-9]+$')
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' <<<"$out" | tail -1)
  if [ $rc -eq 0 ]; then
    pass=$((pass + 1)); echo "ok   $t: ${execs:-?} execs in ${secs}s (${eps:-?}/s), $cov"
  else
    fail=$((fail + 1)); echo "FAIL $t: exit $rc after ${secs}s; input in $B/crashes/$t/"
    printf '%s\n' "$out" | grep -v '^#' | tail -40
  fi
done
echo "fuzz-$mode: $pass passed, $fail failed"
[ $fail -eq 0 ]
