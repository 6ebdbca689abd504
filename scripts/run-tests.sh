#!/usr/bin/env bash
# Runs unit test binaries and every integration test, each under a deadline,
# and ends with the line "tests: N passed, N failed". Exit 0 only when nothing
# failed.
#
#   scripts/run-tests.sh UNIT_TEST...
#       one pass: the binaries under test are $RTCHAOS_BIN, logs go to
#       $RTCHAOS_TEST_LOGS (default build/test-logs)
#   scripts/run-tests.sh --pass NAME BINDIR LOGDIR UNIT_TEST... [--pass ...]
#       several passes over the same tests with different builds (make test:
#       plain and ASan+UBSan), all in the same lanes and one count; a test
#       of pass NAME is shown as NAME/test
#
# Which files are tests: every tests/integration/*.py and *.sh, by name. A
# test that cannot be run (not executable) fails; it is never skipped. Helper
# programs and modules the tests share live in tests/lib/, not here.
#
# Lanes: tests run RTCHAOS_TEST_JOBS at a time (default 4, whatever the number
# of passes; they mostly wait on sockets and timers, so more than the core
# count keeps the box busy), at a lower CPU priority (nice 10). A test whose assertions depend on
# timing (a latency budget, a deadline) says so with a line
#     # rtchaos-test: serial
# in its first 15 lines: each pass's serial lane runs those one at a time at
# normal priority, beside the parallel lane, so the scheduler gives them the
# CPU whenever they want it. Everything else — including every new test —
# runs in the parallel lane. RTCHAOS_TEST_JOBS=1 runs everything one by one,
# serial tests last, none niced (the old way, for a quiet measurement).
#
#   RTCHAOS_ONLY=unit|integration   run one half only
#   RTCHAOS_FILTER=substring        run only tests whose path contains it
#   RTCHAOS_TEST_TIMEOUT=seconds    per-test deadline (default 300)
#   RTCHAOS_TEST_JOBS=N             parallel lane width (1 = everything serial)
set -u
cd "$(dirname "$0")/.."
deadline=${RTCHAOS_TEST_TIMEOUT:-300}
jobs=${RTCHAOS_TEST_JOBS:-4}
resdir=$(mktemp -d "${TMPDIR:-/tmp}/rtchaos-results.XXXXXX")
trap 'rm -rf "$resdir"' EXIT
suite_start=$(date +%s)

# run_one PASS TEST [NICE]: runs one test of one pass and prints its
# PASS/FAIL line (with the log's tail on failure) in one write, so lines of
# tests finishing together do not interleave; leaves "pass" or "fail" in
# $resdir for the count.
run_one() {
  local p=$1 t=$2 nice=${3:-} name shown log rc start out
  name=$(basename "$t")
  shown=$name
  [ "$npasses" -gt 1 ] && shown="${pass_name[$p]}/$name"
  log="${pass_logs[$p]}/$name.log"
  start=$(date +%s)
  if [ ! -x "$t" ]; then
    rc=126
    echo "cannot run $t: not executable (chmod +x it, or move a helper to tests/lib/)" >"$log"
  else
    # timeout puts the test in its own process group and signals the whole
    # group on expiry, so a test that hangs cannot leave a server or proxy
    # behind.
    RTCHAOS_BIN=${pass_bin[$p]} RTCHAOS_TEST_LOGS=${pass_logs[$p]} \
      timeout --kill-after=10 -s TERM "$deadline" $nice "$t" >"$log" 2>&1
    rc=$?
  fi
  if [ $rc -eq 0 ]; then
    echo pass >"$resdir/${shown//\//_}.res"
    printf 'PASS %-46s %3ss\n' "$shown" "$(( $(date +%s) - start ))"
  else
    echo fail >"$resdir/${shown//\//_}.res"
    out=$(printf 'FAIL %-46s rc=%s %ss (log: %s)\n' "$shown" "$rc" "$(( $(date +%s) - start ))" "$log"
          tail -n 30 "$log" | sed 's/^/    | /')
    printf '%s\n' "$out"
  fi
}

is_serial() { head -n 15 "$1" 2>/dev/null | grep -q '^# rtchaos-test: serial'; }
wanted() { [ -z "${RTCHAOS_FILTER:-}" ] || [[ "$1" == *"$RTCHAOS_FILTER"* ]]; }

# The passes: pass_name/bin/logs[i], and the unit tests of each.
pass_name=(); pass_bin=(); pass_logs=(); pass_units=()
if [ "${1:-}" = --pass ]; then
  while [ $# -gt 0 ]; do
    [ "$1" = --pass ] && [ $# -ge 4 ] || { echo "run-tests.sh: expected --pass NAME BINDIR LOGDIR ..." >&2; exit 2; }
    pass_name+=("$2"); pass_bin+=("$3"); pass_logs+=("$4"); shift 4
    units=""
    while [ $# -gt 0 ] && [ "$1" != --pass ]; do units+="$1 "; shift; done
    pass_units+=("$units")
  done
else
  pass_name+=(plain); pass_bin+=("${RTCHAOS_BIN:-$PWD/bin}")
  pass_logs+=("${RTCHAOS_TEST_LOGS:-build/test-logs}"); pass_units+=("$*")
fi
npasses=${#pass_name[@]}

integration=()
if [ "${RTCHAOS_ONLY:-}" != unit ]; then
  shopt -s nullglob
  integration=($(printf '%s\n' tests/integration/*.py tests/integration/*.sh | sort))
fi

# Jobs are "PASS_INDEX TEST"; the serial lanes hold one list per pass. The
# integration tests of the last pass (the slower sanitizer build) go first,
# the short unit tests last, so the lanes end together.
parallel=(); serial=(); units=()
for ((p = npasses - 1; p >= 0; p--)); do
  mkdir -p "${pass_logs[$p]}"
  s=""
  if [ "${RTCHAOS_ONLY:-}" != integration ]; then
    for t in ${pass_units[$p]}; do wanted "$t" && units+=("$p $t"); done
  fi
  for t in "${integration[@]}"; do
    wanted "$t" || continue
    if is_serial "$t"; then s+="$t "; else parallel+=("$p $t"); fi
  done
  serial[$p]=$s
done
parallel+=("${units[@]}")

lane_nice="nice -n 10"
if [ "$jobs" -le 1 ]; then
  lane_nice=""
  for ((p = 0; p < npasses; p++)); do
    for t in ${serial[$p]}; do parallel+=("$p $t"); done
    serial[$p]=""
  done
fi
width=$jobs

# Each pass's serial lane, one test at a time at normal priority, runs beside
# the parallel lane: at most $width tests at once (niced), the next one
# starting as soon as any finishes (wait -n).
serial_pids=()
for ((p = 0; p < npasses; p++)); do
  [ -n "${serial[$p]}" ] || continue
  set -- ${serial[$p]}
  echo "serial lane${pass_name[$p]:+ (${pass_name[$p]})}: $# tests, one at a time beside the parallel lane"
  ( for t in ${serial[$p]}; do run_one "$p" "$t"; done ) &
  serial_pids+=($!)
done
for job in "${parallel[@]}"; do
  while :; do
    limit=$width
    for pid in "${serial_pids[@]}"; do kill -0 "$pid" 2>/dev/null && limit=$((limit + 1)); done
    [ "$(jobs -rp | wc -l)" -ge "$limit" ] || break
    wait -n
  done
  run_one ${job%% *} "${job#* }" "$lane_nice" &
done
wait

passed=0; failed=0; failures=()
for r in "$resdir"/*.res; do
  [ -e "$r" ] || continue
  if [ "$(cat "$r")" = pass ]; then passed=$((passed+1)); else failed=$((failed+1)); failures+=("$(basename "$r" .res)"); fi
done
echo "wall: $(( $(date +%s) - suite_start ))s (${npasses} pass(es), ${jobs} parallel)"
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
echo "tests: $passed passed, $failed failed"
[ $failed -eq 0 ]
