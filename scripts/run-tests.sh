#!/usr/bin/env bash
# Runs the unit test binaries given as arguments, then every integration test,
# each under a deadline, and ends with the line "tests: N passed, N failed".
# Exit 0 only when nothing failed.
#
# Which files are tests: every tests/integration/*.py and *.sh, by name. A
# test that cannot be run (not executable) fails; it is never skipped. Helper
# programs and modules the tests share live in tests/lib/, not here.
#
# Lanes: tests run RTCHAOS_TEST_JOBS at a time (default 4; they mostly wait on
# sockets and timers, so more than the core count keeps the box busy), at a
# lower CPU priority (nice 10). A test whose assertions depend on timing (a
# latency budget, a deadline) says so with a line
#     # rtchaos-test: serial
# in its first 15 lines: the serial lane runs those one at a time at normal
# priority, beside the parallel lane, so the scheduler gives them the CPU
# whenever they want it. Everything else — including every new test — runs in
# the parallel lane. RTCHAOS_TEST_JOBS=1 runs everything one by one, serial
# tests last, none niced (the old way, for a quiet measurement).
#   RTCHAOS_ONLY=unit|integration   run one half only
#   RTCHAOS_FILTER=substring        run only tests whose path contains it
#   RTCHAOS_TEST_TIMEOUT=seconds    per-test deadline (default 300)
#   RTCHAOS_TEST_JOBS=N             parallel lane width (1 = everything serial)
set -u
cd "$(dirname "$0")/.."
deadline=${RTCHAOS_TEST_TIMEOUT:-300}
jobs=${RTCHAOS_TEST_JOBS:-4}
logdir=${RTCHAOS_TEST_LOGS:-build/test-logs}
mkdir -p "$logdir"
resdir=$(mktemp -d "${TMPDIR:-/tmp}/rtchaos-results.XXXXXX")
trap 'rm -rf "$resdir"' EXIT
suite_start=$(date +%s)

# run_one TEST: runs one test and prints its PASS/FAIL line (with the log's
# tail on failure) in one write, so lines of tests finishing together do not
# interleave; leaves "pass" or "fail" in $resdir for the count.
run_one() {
  local t=$1 nice=${2:-} name log rc start out
  name=$(basename "$t")
  log="$logdir/$name.log"
  start=$(date +%s)
  if [ ! -x "$t" ]; then
    rc=126
    echo "cannot run $t: not executable (chmod +x it, or move a helper to tests/lib/)" >"$log"
  else
    # timeout puts the test in its own process group and signals the whole
    # group on expiry, so a test that hangs cannot leave a server or proxy
    # behind.
    timeout --kill-after=10 -s TERM "$deadline" $nice "$t" >"$log" 2>&1
    rc=$?
  fi
  if [ $rc -eq 0 ]; then
    echo pass >"$resdir/$name.res"
    printf 'PASS %-40s %3ss\n' "$name" "$(( $(date +%s) - start ))"
  else
    echo fail >"$resdir/$name.res"
    out=$(printf 'FAIL %-40s rc=%s %ss (log: %s)\n' "$name" "$rc" "$(( $(date +%s) - start ))" "$log"
          tail -n 30 "$log" | sed 's/^/    | /')
    printf '%s\n' "$out"
  fi
}

is_serial() { head -n 15 "$1" 2>/dev/null | grep -q '^# rtchaos-test: serial'; }

parallel=(); serial=()
if [ "${RTCHAOS_ONLY:-}" != integration ]; then
  parallel+=("$@")
fi
if [ "${RTCHAOS_ONLY:-}" != unit ]; then
  shopt -s nullglob
  for t in $(printf '%s\n' tests/integration/*.py tests/integration/*.sh | sort); do
    if is_serial "$t"; then serial+=("$t"); else parallel+=("$t"); fi
  done
fi
if [ -n "${RTCHAOS_FILTER:-}" ]; then
  keep=(); for t in "${parallel[@]}"; do [[ "$t" == *"$RTCHAOS_FILTER"* ]] && keep+=("$t"); done; parallel=("${keep[@]}")
  keep=(); for t in "${serial[@]}"; do [[ "$t" == *"$RTCHAOS_FILTER"* ]] && keep+=("$t"); done; serial=("${keep[@]}")
fi

# The serial lane, one test at a time at normal priority, runs beside the
# parallel lane: at most $jobs tests at once (niced), the next one starting as
# soon as any finishes (wait -n).
lane_nice="nice -n 10"
if [ "$jobs" -le 1 ]; then
  lane_nice=""; parallel+=("${serial[@]}"); serial=()
fi
serial_pid=""
if [ ${#serial[@]} -gt 0 ]; then
  echo "serial lane: ${#serial[@]} tests, one at a time beside the parallel lane"
  ( for t in "${serial[@]}"; do run_one "$t"; done ) &
  serial_pid=$!
fi
for t in "${parallel[@]}"; do
  while :; do
    limit=$jobs
    [ -n "$serial_pid" ] && kill -0 "$serial_pid" 2>/dev/null && limit=$((jobs + 1))
    [ "$(jobs -rp | wc -l)" -ge "$limit" ] || break
    wait -n
  done
  run_one "$t" "$lane_nice" &
done
wait

passed=0; failed=0; failures=()
for r in "$resdir"/*.res; do
  [ -e "$r" ] || continue
  if [ "$(cat "$r")" = pass ]; then passed=$((passed+1)); else failed=$((failed+1)); failures+=("$(basename "$r" .res)"); fi
done
echo "wall: $(( $(date +%s) - suite_start ))s (${jobs} parallel, ${#serial[@]} serial)"
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
echo "tests: $passed passed, $failed failed"
[ $failed -eq 0 ]
