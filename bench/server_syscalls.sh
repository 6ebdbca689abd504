#!/usr/bin/env bash
# server_syscalls.sh — system calls and CPU per delivery of a server under the
# load of bench/server_scale.sh (CONNS WebSocket clients on 200 channels, RATE
# events/s per channel), counted for PERF_S seconds once the clients are
# connected: first the server's CPU time (/proc/PID/stat) over PERF_S
# seconds, then, over the next PERF_S seconds, perf stat on its
# syscalls:sys_enter_* tracepoints (apart: counting every syscall costs the
# server CPU time); deliveries from the fleet's report timeline over each
# window's seconds. PERF_S <= 8 (publishing ends 29 s after the start). Not a test. Variants take turns, REPS runs each;
# prints the median per variant. Needs perf (Debian: linux-perf).
#   rtchaos     this build (--ws-write-direct 1, the default)
#   writeable   this build with --ws-write-direct 0 (every write from WRITEABLE)
#   base        BASE_BIN/rtchaos-server (another build)
#   node        bench/node_v1_server.js (PING_S, PING_STAGGER as server_scale.sh)
#   CONNS=10000 RATE=5 PERF_S=8 REPS=3 SERVERS="rtchaos writeable node" \
#   flock /work/.bench.lock bench/server_syscalls.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${RTCHAOS_BIN:-$PWD/bin}
CONNS=${CONNS:-10000}
RATE=${RATE:-5}
PERF_S=${PERF_S:-8}
REPS=${REPS:-3}
SERVERS=${SERVERS:-"rtchaos writeable"}
BASE_BIN=${BASE_BIN:-}
export PING_S=${PING_S:-20} PING_STAGGER=${PING_STAGGER:-0}
OUT=${OUT:-runs/server-syscalls-$(date -u +%Y%m%dT%H%M%SZ)}
command -v perf >/dev/null || { echo "bench: perf is not installed"; exit 1; }
mkdir -p "$OUT"
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
RES="$OUT/results.tsv"
: >"$RES"
pid=""
hpid=""
trap '[ -n "$hpid" ] && kill "$hpid" 2>/dev/null; [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true' EXIT

one_run() { # one_run VARIANT REP
  local v=$1 dir="$OUT/$1-$2"
  mkdir -p "$dir"
  case $v in
    rtchaos)   "$BIN/rtchaos-server" --port 0 --log-level warn >"$dir/ready" 2>"$dir/server.log" & ;;
    writeable) "$BIN/rtchaos-server" --port 0 --log-level warn --ws-write-direct 0 >"$dir/ready" 2>"$dir/server.log" & ;;
    base)      "$BASE_BIN/rtchaos-server" --port 0 --log-level warn >"$dir/ready" 2>"$dir/server.log" & ;;
    node)      node bench/node_v1_server.js 0 >"$dir/ready" 2>"$dir/server.log" & ;;
    *) echo "bench: unknown variant $v"; exit 2 ;;
  esac
  pid=$!
  # ramp 5 s, publishing from 9 s for 20 s; CPU from 12 s, syscalls after it
  bench_scale_load "$dir/ready" "$dir" "$CONNS" "$RATE" || { echo "bench: $v did not start"; exit 3; }
  hpid=$BENCH_LOAD_PID
  sleep 12
  local c0 c1
  c0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep "$PERF_S"
  c1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  perf stat -x, -e 'syscalls:sys_enter_*' -p "$pid" -o "$dir/perf.csv" -- sleep "$PERF_S" 2>/dev/null
  wait "$hpid" || true
  hpid=""
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  python3 - "$dir" "$v" "$c0" "$c1" "$(getconf CLK_TCK)" "$PERF_S" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RES" <<'PY'
import json, sys
d, v, c0, c1, tck, secs, load = sys.argv[1:]
secs = float(secs)
calls = {}
for line in open(f"{d}/perf.csv"):
    f = line.strip().split(",")
    if len(f) > 2 and f[2].startswith("syscalls:sys_enter_") and f[0].isdigit() and int(f[0]):
        calls[f[2][len("syscalls:sys_enter_"):]] = int(f[0])
try:
    r = json.load(open(f"{d}/run/report.json"))
    def deliveries(t0):
        rows = [row for row in r.get("timeline", []) if t0 <= row["t_s"] < t0 + secs]
        return sum(row["delivered"] for row in rows) / len(rows) * secs if rows else 0
    deliv_cpu, deliv_sys = deliveries(12), deliveries(12 + secs)
except (OSError, KeyError, ValueError):
    deliv_cpu = deliv_sys = 0
cpu_us_per = (int(c1) - int(c0)) / int(tck) * 1e6 / max(deliv_cpu, 1)
print("\t".join([v, str(round(deliv_sys)), str(round(cpu_us_per, 3)), load, json.dumps(calls), str(round(deliv_cpu))]))
PY
  tail -n 1 "$RES" | python3 -c '
import json, sys
v, deliv, cpu, load, calls, dcpu = sys.stdin.read().rstrip("\n").split("\t")
calls, deliv = json.loads(calls), max(int(deliv), 1)
top = sorted(calls.items(), key=lambda kv: -kv[1])[:6]
print(f"  {v:<9} deliveries {dcpu:>7} + {deliv:>7}  CPU {float(cpu):6.2f} us/delivery  syscalls/delivery {sum(calls.values()) / deliv:5.2f}: "
      + ", ".join(f"{k} {n / deliv:.3f}" for k, n in top) + f"  (load {load})")'
}

echo "== bench/server_syscalls.sh: $CONNS WS, $RATE ev/s/ch, $PERF_S s counted, $REPS runs; load $(cut -d' ' -f1 /proc/loadavg); $OUT"
for rep in $(seq "$REPS"); do
  for v in $SERVERS; do
    one_run "$v" "$rep"
  done
done
echo
python3 - "$RES" <<'PY'
import json, statistics, sys
by = {}
for line in open(sys.argv[1]):
    v, deliv, cpu, load, calls, dcpu = line.rstrip("\n").split("\t")
    deliv = max(int(deliv), 1)
    calls = json.loads(calls)
    per = {k: n / deliv for k, n in calls.items()}
    per["_total"] = sum(calls.values()) / deliv
    per["_cpu_us"] = float(cpu)
    per["_deliv_s"] = deliv
    by.setdefault(v, []).append(per)
names = ["_cpu_us", "_total", "sendto", "epoll_ctl", "epoll_wait", "write", "writev", "recvfrom", "read"]
print(f"{'variant':<10} {'runs':>4} {'deliv/run':>9} {'CPU us/del':>10} {'sys/del':>7} " + " ".join(f"{n:>10}" for n in names[2:]))
for v, runs in by.items():
    med = lambda k: statistics.median([r.get(k, 0) for r in runs])
    print(f"{v:<10} {len(runs):>4} {med('_deliv_s'):>9.0f} {med('_cpu_us'):>10.2f} {med('_total'):>7.3f} "
          + " ".join(f"{med(n):>10.3f}" for n in names[2:]))
print("(medians per delivery over the runs; other syscalls in the per-run lines and", sys.argv[1] + ")")
PY
