#!/usr/bin/env bash
# Runs unit test binaries and every integration test, each under a deadline,
# and ends with the line "tests: N passed, N failed". Exit 0 only when nothing
# failed.
#
#   scripts/run-tests.sh [--tail CMD] UNIT_TEST...
#       one pass: the binaries under test are $RTCHAOS_BIN, logs go to
#       $RTCHAOS_TEST_LOGS (default build/test-logs)
#   scripts/run-tests.sh [--tail CMD] --pass NAME BINDIR LOGDIR UNIT_TEST... [--pass ...]
#       several passes over the same tests with different builds (make test:
#       plain and ASan+UBSan), all in the same lanes and one count; a test
#       of pass NAME is shown as NAME/test
#   --tail CMD
#       a shell command (make test: fuzz-regress and the short fuzz pass) run
#       beside the lanes' tail: started once the last parallel test has
#       started, at the lowest priority (nice 19: it takes only the CPU the
#       tests leave, never a test's), so it fills the parallel slots as they
#       empty while the serial lanes finish their long tests. Its output goes
#       to the terminal as it comes; the run fails if it fails.
#
# Which files are tests: every tests/integration/*.py and *.sh, by name. A
# test that cannot be run (not executable) fails; it is never skipped. Helper
# programs and modules the tests share live in tests/lib/, not here.
#
# Order: every test of every pass is one job, and the jobs start longest
# first, by the seconds tests/durations.tsv gives "pass/test" (an earlier
# whole run's times: `make test-durations` refreshes it from the last run's
# build/test-logs/times.tsv). A test not listed there counts as the longest,
# so a new test starts early rather than ending the run late.
#
# Lanes: a test whose assertions depend on timing (a latency budget, a
# deadline) says so with a line
#     # rtchaos-test: serial
# in its first 15 lines. Those run RTCHAOS_SERIAL_JOBS at a time (default 2,
# of any pass) at normal priority, so the scheduler gives them the CPU
# whenever they want it. Everything else — including every new test — runs
# in the parallel lane, RTCHAOS_TEST_JOBS at a time (default 8: tests mostly
# wait on sockets and timers — a whole make test's tests averaged 0.09 of a
# core each, under one core together — so more than the core count keeps
# the box busy), at a lower priority (nice 10). Once no serial test is waiting, the
# idle serial slots take parallel tests too (still niced).
# RTCHAOS_TEST_JOBS=1 runs everything one by one, serial tests last, none
# niced, the --tail command after them (the old way, for a quiet
# measurement). scripts/lanes-sim.py replays a run's times through other
# widths before you change them.
#
#   RTCHAOS_ONLY=unit|integration   run one half only
#   RTCHAOS_FILTER=substring        run only tests whose path contains it
#   RTCHAOS_TEST_TIMEOUT=seconds    per-test deadline (default 300)
#   RTCHAOS_TEST_JOBS=N             parallel lane width (1 = everything serial)
#   RTCHAOS_SERIAL_JOBS=N           serial tests at once (default 2)
#   RTCHAOS_DURATIONS=file          the times to order by (default tests/durations.tsv)
#
# Every run also writes the first pass's LOGDIR/times.tsv: "pass/test",
# wall seconds, CPU seconds (user+sys of the test and the children it
# waited for), pass|fail.
set -u
cd "$(dirname "$0")/.."
deadline=${RTCHAOS_TEST_TIMEOUT:-300}
jobs=${RTCHAOS_TEST_JOBS:-8}
serial_jobs=${RTCHAOS_SERIAL_JOBS:-2}
durations=${RTCHAOS_DURATIONS:-tests/durations.tsv}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "run-tests.sh: RTCHAOS_TEST_JOBS must be a positive number" >&2; exit 2; }
[[ "$serial_jobs" =~ ^[1-9][0-9]*$ ]] || { echo "run-tests.sh: RTCHAOS_SERIAL_JOBS must be a positive number" >&2; exit 2; }
resdir=$(mktemp -d "${TMPDIR:-/tmp}/rtchaos-results.XXXXXX")
trap 'rm -rf "$resdir"' EXIT
suite_start=$(date +%s)

# run_one PASS TEST [NICE]: runs one test of one pass (in a subshell of its
# own, so `times` there is that test's CPU) and prints its PASS/FAIL line
# (with the log's tail on failure) in one write, so lines of tests finishing
# together do not interleave; leaves "pass|fail WALL CPU" in $resdir for
# the count and times.tsv.
run_one() {
  local p=$1 t=$2 nice=${3:-} name shown log rc start out wall cpu tf
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
  wall=$(( $(date +%s) - start ))
  # `times`' second line is the children's user and system time, "0m1.250s 0m0.310s"
  tf="$resdir/.times.$BASHPID"
  times >"$tf"
  cpu=$(awk 'NR == 2 { n = split($0, f, /[ms ]+/); s = 0; for (i = 1; i + 1 <= n; i += 2) s += f[i] * 60 + f[i + 1]; printf "%.1f", s }' "$tf")
  rm -f "$tf"
  if [ $rc -eq 0 ]; then
    echo "pass $wall $cpu ${pass_name[$p]}/$name" >"$resdir/${shown//\//_}.res"
    printf 'PASS %-46s %3ss\n' "$shown" "$wall"
  else
    echo "fail $wall $cpu ${pass_name[$p]}/$name" >"$resdir/${shown//\//_}.res"
    out=$(printf 'FAIL %-46s rc=%s %ss (log: %s)\n' "$shown" "$rc" "$wall" "$log"
          tail -n 30 "$log" | sed 's/^/    | /')
    printf '%s\n' "$out"
  fi
}

is_serial() { head -n 15 "$1" 2>/dev/null | grep -q '^# rtchaos-test: serial'; }
wanted() { [ -z "${RTCHAOS_FILTER:-}" ] || [[ "$1" == *"$RTCHAOS_FILTER"* ]]; }

tail_cmd=""
if [ "${1:-}" = --tail ]; then
  [ $# -ge 2 ] || { echo "run-tests.sh: --tail needs a command" >&2; exit 2; }
  tail_cmd=$2; shift 2
fi

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

# The jobs, one line each: "SECONDS KIND PASS_INDEX TEST" (KIND s = serial,
# p = parallel), sorted longest first; unknown tests get a time longer than
# any, so they lead.
declare -A known=()
if [ -r "$durations" ]; then
  while read -r key secs _; do
    [[ "$key" == \#* || -z "$key" ]] && continue
    known[$key]=$secs
  done <"$durations"
fi
joblist=""
for ((p = 0; p < npasses; p++)); do
  mkdir -p "${pass_logs[$p]}"
  if [ "${RTCHAOS_ONLY:-}" != integration ]; then
    for t in ${pass_units[$p]}; do
      wanted "$t" && joblist+="${known[${pass_name[$p]}/$(basename "$t")]:-99999} p $p $t"$'\n'
    done
  fi
  for t in "${integration[@]}"; do
    wanted "$t" || continue
    kind=p; is_serial "$t" && kind=s
    joblist+="${known[${pass_name[$p]}/$(basename "$t")]:-99999} $kind $p $t"$'\n'
  done
done
# pk/pp/pt[i]: kind, pass index and path of the i-th job to start
pk=(); pp=(); pt=()
while read -r _ kind p t; do
  [ -n "$t" ] || continue
  pk+=("$kind"); pp+=("$p"); pt+=("$t")
done < <(printf '%s' "$joblist" | sort -k1,1nr -k4,4 -k3,3n)

lane_nice="nice -n 10"
if [ "$jobs" -le 1 ]; then
  # one by one: the parallel tests, then the serial ones, none niced
  lane_nice=""
  order=()
  for i in "${!pk[@]}"; do [ "${pk[$i]}" = p ] && order+=("$i"); done
  for i in "${!pk[@]}"; do [ "${pk[$i]}" = s ] && order+=("$i"); done
  k2=(); p2=(); t2=()
  for i in "${order[@]}"; do k2+=(p); p2+=("${pp[$i]}"); t2+=("${pt[$i]}"); done
  pk=("${k2[@]}"); pp=("${p2[@]}"); pt=("${t2[@]}")
  serial_jobs=0
fi
pend_ser=0; pend_par=0
for k in "${pk[@]}"; do if [ "$k" = s ]; then pend_ser=$((pend_ser + 1)); else pend_par=$((pend_par + 1)); fi; done
if [ -n "$lane_nice" ]; then
  echo "lanes: ${#pk[@]} tests longest first (by $durations): $jobs parallel ($lane_nice)" \
       "+ $serial_jobs serial at normal priority for the $pend_ser serial ones"
else
  echo "lanes: ${#pk[@]} tests one by one, the serial ones last, none niced"
fi

# The dispatcher: start each pending job that fits, in order, then wait for
# any test to end (wait -n -p). A serial job fits while fewer than
# $serial_jobs serial tests run; a parallel one while fewer than $jobs
# parallel tests run, or, once no serial job waits, than $jobs plus the idle
# serial slots. A serial job waits while the same test of another pass runs.
declare -A kind_of=() ser_name=() name_of=()
run_ser=0; run_par=0; tail_pid=""; next=0
start_tail() {
  [ -n "$tail_cmd" ] || return 0
  local where="after the tests" tail_nice=""
  [ -z "$lane_nice" ] || { tail_nice="nice -n 19"; where="beside the last tests, $tail_nice"; }
  echo "tail: $tail_cmd ($where)"
  ( t0=$(date +%s); $tail_nice bash -c "$tail_cmd"; rc=$?; echo $rc >"$resdir/.tail.rc"
    echo "tail: rc=$rc after $(( $(date +%s) - t0 ))s, $(( $(date +%s) - suite_start ))s into the run" ) &
  tail_pid=$!
}
while [ $next -lt ${#pk[@]} ] || [ $((run_ser + run_par)) -gt 0 ]; do
  for ((i = next; i < ${#pk[@]}; i++)); do
    [ -n "${pk[$i]}" ] || continue
    cap=$jobs
    [ $pend_ser -eq 0 ] && cap=$((jobs + serial_jobs - run_ser))
    [ $run_ser -lt "$serial_jobs" ] || [ $run_par -lt $cap ] || break
    if [ "${pk[$i]}" = s ]; then
      [ $run_ser -lt "$serial_jobs" ] || continue
      # never one serial test's two passes at once: they hit the same heavy
      # phases at the same moments (ci11: plain and ASan rfp1 side by side,
      # the fleet stalled 251 ms and a 250 ms p95 budget failed)
      [ -z "${ser_name[$(basename "${pt[$i]}")]:-}" ] || continue
      run_one "${pp[$i]}" "${pt[$i]}" &
      ser_name[$(basename "${pt[$i]}")]=$!; name_of[$!]=$(basename "${pt[$i]}")
      run_ser=$((run_ser + 1)); pend_ser=$((pend_ser - 1))
    else
      [ $run_par -lt $cap ] || continue
      run_one "${pp[$i]}" "${pt[$i]}" "$lane_nice" &
      run_par=$((run_par + 1)); pend_par=$((pend_par - 1))
    fi
    kind_of[$!]=${pk[$i]}
    pk[$i]=""
  done
  while [ $next -lt ${#pk[@]} ] && [ -z "${pk[$next]}" ]; do next=$((next + 1)); done
  # the tail starts once the parallel lane has nothing left to start: its
  # slots empty from then on, while the serial lanes may still run long tests
  if [ $pend_par -eq 0 ] && [ -z "$tail_pid" ] && [ -n "$lane_nice" ]; then start_tail; fi
  [ $((run_ser + run_par)) -gt 0 ] || continue
  done_pid=""
  wait -n -p done_pid
  case "${kind_of[$done_pid]:-}" in
    s) run_ser=$((run_ser - 1)); unset "ser_name[${name_of[$done_pid]}]" "name_of[$done_pid]" ;;
    p) run_par=$((run_par - 1)) ;;
    *) continue ;;  # the tail ended before the tests did
  esac
  unset "kind_of[$done_pid]"
done
lanes_wall=$(( $(date +%s) - suite_start ))
[ -n "$tail_pid" ] || start_tail
wait

passed=0; failed=0; failures=()
times_tsv="${pass_logs[0]}/times.tsv"
echo "# pass/test	wall_s	cpu_s	result (scripts/run-tests.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ))" >"$times_tsv"
for r in "$resdir"/*.res; do
  [ -e "$r" ] || continue
  read -r result wall cpu key <"$r"
  printf '%s\t%s\t%s\t%s\n' "$key" "$wall" "$cpu" "$result" >>"$times_tsv"
  if [ "$result" = pass ]; then passed=$((passed+1)); else failed=$((failed+1)); failures+=("$(basename "$r" .res)"); fi
done
echo "wall: $(( $(date +%s) - suite_start ))s, lanes ${lanes_wall}s (${npasses} pass(es), ${jobs} parallel + ${serial_jobs} serial)"
tail_ok=1
if [ -n "$tail_cmd" ]; then
  tail_rc=$(cat "$resdir/.tail.rc" 2>/dev/null || echo "none")
  [ "$tail_rc" = 0 ] || { tail_ok=0; echo "tail FAILED (rc=$tail_rc): $tail_cmd"; }
fi
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
echo "tests: $passed passed, $failed failed"
[ $failed -eq 0 ] && [ $tail_ok -eq 1 ]
