#!/usr/bin/env bash
# Runs the unit test binaries given as arguments, then every executable in
# tests/integration/ (sorted), each under a deadline, and ends with the line
# "tests: N passed, N failed". Exit 0 only when nothing failed.
#   RTCHAOS_ONLY=unit|integration   run one half only
#   RTCHAOS_FILTER=substring        run only tests whose path contains it
#   RTCHAOS_TEST_TIMEOUT=seconds    per-test deadline (default 300)
set -u
cd "$(dirname "$0")/.."
passed=0; failed=0; failures=()
deadline=${RTCHAOS_TEST_TIMEOUT:-300}
logdir=${RTCHAOS_TEST_LOGS:-build/test-logs}
mkdir -p "$logdir"

run_one() {
  local t=$1 name log rc start
  name=$(basename "$t")
  [ -n "${RTCHAOS_FILTER:-}" ] && [[ "$t" != *"$RTCHAOS_FILTER"* ]] && return
  log="$logdir/$name.log"
  start=$(date +%s)
  # timeout puts the test in its own process group and signals the whole group
  # on expiry, so a test that hangs cannot leave a server or proxy behind.
  timeout --kill-after=10 -s TERM "$deadline" "$t" >"$log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    passed=$((passed+1)); printf 'PASS %-40s %3ss\n' "$name" "$(( $(date +%s) - start ))"
  else
    failed=$((failed+1)); failures+=("$name")
    printf 'FAIL %-40s rc=%s (log: %s)\n' "$name" "$rc" "$log"
    tail -n 30 "$log" | sed 's/^/    | /'
  fi
}

if [ "${RTCHAOS_ONLY:-}" != integration ]; then
  for t in "$@"; do run_one "$t"; done
fi
if [ "${RTCHAOS_ONLY:-}" != unit ]; then
  for t in $(find tests/integration -maxdepth 1 -type f -perm -u+x | sort); do run_one "$t"; done
fi
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
echo "tests: $passed passed, $failed failed"
[ $failed -eq 0 ]
