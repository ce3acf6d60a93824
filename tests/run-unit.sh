#!/usr/bin/env bash
# Runs every unit-test binary (Check runners) given as arguments and sums their results.
# Prints the total as the last line: "unit: N passed, N failed".
set -u
pass=0 fail=0
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  printf '%s\n' "$out" | sed "s|^|  $(basename "$t"): |"
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -n 1)
  if [ -z "$line" ]; then
    echo "  $(basename "$t"): no Check summary (exit $rc)"; fail=$((fail + 1)); continue
  fi
  n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
  f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
  e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
  pass=$((pass + n - f - e)); fail=$((fail + f + e))
  [ $rc -eq 0 ] || [ $((f + e)) -gt 0 ] || fail=$((fail + 1))
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
