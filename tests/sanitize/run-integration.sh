#!/usr/bin/env bash
# Runs integration tests against a sanitizer-built CLI (GS_BIN) and sums their summaries.
# usage: run-integration.sh NAME GS_BIN TEST.py...   Last line: "NAME: N passed, N failed".
set -u
name=$1 bin=$2; shift 2
pass=0 fail=0
for t in "$@"; do
  out=$(GS_BIN=$bin python3 "$t" 2>&1); rc=$?
  printf '%s\n' "$out" | grep -v '^ok ' | sed "s|^|  $(basename "$t" .py): |"
  line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
  if [ -z "$line" ]; then
    echo "  $(basename "$t" .py): no summary (exit $rc)"; fail=$((fail + 1)); continue
  fi
  p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
  f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  pass=$((pass + p)); fail=$((fail + f))
  [ $rc -eq 0 ] || [ "$f" -gt 0 ] || fail=$((fail + 1))
done
echo "$name: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
