#!/usr/bin/env bash
# server_scale.sh — rtchaos-server against a small Node `ws` server speaking
# wire contract v1 (bench/node_v1_server.js: history, resume, per-channel
# fan-out), driven by the same rtchaos scenario (bench/server_scale.yaml:
# WebSocket clients on 200 channels, an HTTP publisher at R events/s per
# channel, two fleet workers on four 127.0.0.x source addresses). Not a test.
#
# Points: CONNS x RATES (events/s per channel; deliveries/s = conns x rate),
# then IDLE_CONNS connections with nothing published for IDLE_S seconds.
# The servers take turns at every point (interleaved), REPS runs each; the
# table shows the median of the runs. Per run: deliveries/s (mean of the
# report timeline's per-second rows inside the publishing window), live latency p50/p95/p99 (publisher's
# scheduled time -> received, from the same window of report.json's
# timeline: steady state, not the connection ramp), the server's CPU (% of one
# core over the publishing window, from /proc/PID/stat), its RSS growth per
# connection, reconnects and the server's idle closes; beside them the
# harness's CPU (every rtchaos process: what the box had left) and, for
# rtchaos-server, its event loop thread's busy share of the window
# (rtchaos_loop_busy_seconds_total: near 100% the loop is the ceiling).
#   CONNS="1000 5000 10000 19000" RATES="1 10" REPS=3 DURATION_S=20 \
#   IDLE_CONNS=19000 IDLE_S=60 IDLE_REPS=3 bench/server_scale.sh
# Targets (issue 13): 19k conns at 19k deliveries/s: p99 <= 50 ms, CPU <=
# 50%, 0 idle closes; 19k idle: <= 2% CPU, <= 2 KB/conn; at 10k conns the
# highest rate sustained with p99 <= 50 ms >= 3x the Node server's.
#
# Sweep mode (SWEEP=1) finds that highest rate: SWEEP_CONNS connections,
# SWEEP_RATES events/s per channel in increasing order; at each rate the
# servers take turns, REPS runs each, and a rate is sustained when the
# runs give p99 <= P99_MAX_MS and deliveries/s >= DELIV_MIN (0.97) x
# conns x rate in 2 of 3 runs (the median's verdict); a server that fails
# two runs at a rate has failed it and leaves the sweep (its third run and
# higher rates are skipped). Runs are shorter than the points' (RAMP_S 5,
# SETTLE_S 4, SWEEP_DURATION_S 20: the window t = 9..29 s after the fleet
# starts is one whole 20 s ping period of both servers, so Node's ping round
# weighs in the tail as much as it does in a steady state, no more, no
# less). BENCH_LOCK=file takes that flock(1) lock around each rate (sweep)
# or point, released in between; or run the whole script under flock.
#   SWEEP=1 SWEEP_CONNS=10000 SWEEP_RATES="1 2 5 10 20" REPS=3 \
#   flock /work/.bench.lock bench/server_scale.sh
#
# Node's liveness work (read by bench/node_v1_server.js from the
# environment): PING_S (20, like rtchaos-server's --ws-ping-s) and
# PING_STAGGER. By default Node pings every client in one synchronous loop
# every PING_S (the ws README's pattern); PING_STAGGER=1 pings each client
# once per PING_S spread evenly over the period (a slice every 50 ms,
# STAGGER_TICK_MS), as rtchaos-server does with its timer wheel: the same
# work, without the stall. PING_S=3600 turns Node's pings off (no dead-peer
# detection: not a server one would run).
#
# SERVERS may also name `floor`: bench/send_floor.c at the same connections
# and deliveries/s (conns x rate), a bare send() of a ready-made ~150-byte
# frame per delivery from one thread to four reader processes, no protocol:
# the kernel's cost alone, under any server's cost per delivery. Its row has
# no latency; CPU is the sending thread's, harness CPU its readers'. Points
# mode only (it has no p99 for a sweep's verdict), and not at the idle point.
#   CONNS=10000 RATES="4 10" IDLE_CONNS=0 SERVERS="rtchaos node floor" bench/server_scale.sh
#
# Server-bound variant: SERVER_CPUS=0 FLEET_CPUS=1 pins the server to CPU 0
# and the harness (publisher and fleet workers) to CPU 1 (taskset -c), so a
# server's ceiling is its own core, not what the fleet leaves of two.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${RTCHAOS_BIN:-$PWD/bin}
CONNS=${CONNS-"1000 5000 10000 19000"}   # CONNS= (empty): idle point only
RATES=${RATES:-"1 10"}
REPS=${REPS:-3}
DURATION_S=${DURATION_S:-20}
IDLE_CONNS=${IDLE_CONNS:-19000}
IDLE_S=${IDLE_S:-60}
IDLE_REPS=${IDLE_REPS:-$REPS}
SERVERS=${SERVERS:-"rtchaos node"}
SWEEP=${SWEEP:-0}
SWEEP_CONNS=${SWEEP_CONNS:-10000}
SWEEP_RATES=${SWEEP_RATES:-"1 2 5 10 20"}
P99_MAX_MS=${P99_MAX_MS:-50}
DELIV_MIN=${DELIV_MIN:-0.97}
BENCH_LOCK=${BENCH_LOCK:-}
SERVER_CPUS=${SERVER_CPUS:-}
# PUB_CONNS: the publisher's parallel HTTP connections (default 8, the
# scenario's). More do not raise the ceiling: 32 made rtchaos-server at
# 10,000 x 9 ev/s/ch fall behind in 2 of 2 runs (published ~1,600/s of
# 1,800; session 7), where 8 passed 4 of 7.
PUB_CONNS=${PUB_CONNS:-8}
FLEET_CPUS=${FLEET_CPUS:-}
# FLEET_THREADS: event-loop threads per fleet worker (the scenario's
# harness.threads: 2; two workers)
FLEET_THREADS=${FLEET_THREADS:-2}
export PING_S=${PING_S:-20} PING_STAGGER=${PING_STAGGER:-0}
# RAMP_S: the connection ramp (default 1 s per 1,000 connections, at least
# 3; sweep 5); SETTLE_S: after the ramp, before the measured window (6;
# sweep 4); DRAIN_S: the scenario's drain (5; sweep 2)
RAMP_S=${RAMP_S:-}
if [ "$SWEEP" = 1 ]; then
  RAMP_S=${RAMP_S:-5}
  SETTLE_S=${SETTLE_S:-4}
  DRAIN_S=${DRAIN_S:-2}
  DURATION_S=${SWEEP_DURATION_S:-20}
fi
SETTLE_S=${SETTLE_S:-6}
DRAIN_S=${DRAIN_S:-5}
# SERVERS="rtchaos base node" adds another rtchaos-server build (before/after
# a change, same run, interleaved): BASE_BIN=dir holding its rtchaos-server
BASE_BIN=${BASE_BIN:-}
case " $SERVERS " in *" base "*) [ -x "$BASE_BIN/rtchaos-server" ] ||
  { echo "bench: SERVERS has base: BASE_BIN=dir with rtchaos-server needed"; exit 1; } ;; esac
OUT=${OUT:-runs/bench-server-scale-$(date -u +%Y%m%dT%H%M%SZ)}
case " $SERVERS " in *" floor "*)
  [ "$SWEEP" = 1 ] && { echo "bench: floor has no latency for a sweep's verdict: points mode only"; exit 1; }
  make -s build/default/bench/send_floor || exit 1 ;;
esac
for b in rtchaos rtchaos-server; do
  [ -x "$BIN/$b" ] || { echo "bench: $BIN/$b missing (run make)"; exit 1; }
done
command -v node >/dev/null || { echo "bench: node is not installed (RTCHAOS_BENCH=1 scripts/deps.sh)"; exit 1; }
if [ ! -d bench/node_modules/ws ]; then
  (cd bench && timeout 300 npm install --no-audit --no-fund --no-package-lock >/dev/null)
fi
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
mkdir -p "$OUT"
RES="$OUT/results.tsv"
: >"$RES"
pid=""
hpid=""
cleanup() {
  [ -n "$hpid" ] && kill "$hpid" 2>/dev/null
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# the harness's CPU ticks: every rtchaos process (the run, its fleet workers;
# the bench runs one at a time), so a point shows what the box had left
harness_ticks() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 == "(rtchaos)" {t += $14 + $15} END {print t + 0}'
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# pin CPUS CMD...: CMD on those CPUs (taskset execs it: same pid), or as is
pin() {
  local cpus=$1
  shift
  if [ -n "$cpus" ]; then exec taskset -c "$cpus" "$@"; else exec "$@"; fi
}

start() { # start NAME LOG: sets $pid and $port
  case $1 in
    rtchaos) (pin "$SERVER_CPUS" "$BIN/rtchaos-server" --port 0 --log-level warn) >"$2.ready" 2>"$2" & ;;
    base)    (pin "$SERVER_CPUS" "$BASE_BIN/rtchaos-server" --port 0 --log-level warn) >"$2.ready" 2>"$2" & ;;
    node)    (pin "$SERVER_CPUS" node bench/node_v1_server.js 0) >"$2.ready" 2>"$2" & ;;
  esac
  pid=$!
  for _ in $(seq 200); do grep -q listening "$2.ready" 2>/dev/null && break; sleep 0.05; done
  port=$(awk -F: '/^listening/ {print $2}' "$2.ready")
  [ -n "$port" ] || { echo "bench: $1 did not start"; cat "$2"; exit 3; }
}

idle_closes() { # server log/metrics -> idle closes
  if [ "$1" = rtchaos ] || [ "$1" = base ]; then
    curl -s -m 10 "http://127.0.0.1:$port/metrics" | awk '$1 == "rtchaos_idle_closes_total{transport=\"ws\"}" {print $2}'
  fi
}

loop_busy() { # rtchaos-server's event loop busy seconds so far (dispatch + flush), or nothing
  if [ "$1" = rtchaos ] || [ "$1" = base ]; then
    curl -s -m 5 "http://127.0.0.1:$port/metrics" | awk '$1 ~ /^rtchaos_loop_busy_seconds_total/ {t += $2; n++} END {if (n) print t}'
  fi
}

# floor_run CONNS RATE SECONDS: bench/send_floor.c's row, in one_run's columns
floor_run() {
  local n=$1 rate=$2 secs=$3 out
  [ "$rate" = 0 ] && return 0 # nothing to send: the idle point is the servers'
  out=$(build/default/bench/send_floor "$n" "$(( n * rate ))" "$secs" 150 4) || { echo "bench: send_floor failed"; exit 3; }
  echo "$out" | awk -v n="$n" -v r="$rate" -v load="$(cut -d' ' -f1 /proc/loadavg)" '
    {for (i = 1; i <= NF; i++) {
       if ($(i + 1) == "deliveries/s") d = $i
       if ($i == "sender" && $(i + 1) == "CPU") c = $(i + 2)
       if ($i == "readers" && $(i + 1) == "CPU") h = $(i + 2)
     }
     sub(/%,?/, "", c); sub(/%,?/, "", h)
     printf "floor\t%s\t%s\t%s\tnan\tnan\tnan\t0\t0\t%s\tnan\t0\t%s\t%s\tnan\n", n, r, d, c, load, h}' >>"$RES"
  tail -n 1 "$RES" | awk -F'\t' '{printf "  %-8s conns=%-6s rate=%-3s deliv/s=%-9.0f sender cpu=%s%% readers cpu=%s%% load=%s\n", $1,$2,$3,$4,$10,$14,$13}'
}

# one_run SERVER CONNS RATE SECONDS REP
one_run() {
  local srv=$1 n=$2 rate=$3 secs=$4 rep=$5
  [ "$srv" = floor ] && { floor_run "$n" "$rate" "$secs"; return; }
  local ramp=${RAMP_S:-$(( n / 1000 > 3 ? n / 1000 : 3 ))}
  local warm=$(( ramp + SETTLE_S ))
  local dir="$OUT/$srv-$n-$rate-$rep"
  mkdir -p "$dir"
  start "$srv" "$dir/server.log"
  sleep 0.5
  local rss0; rss0=$(rss_kb "$pid")
  (pin "$FLEET_CPUS" "$BIN/rtchaos" run bench/server_scale.yaml --target "http://127.0.0.1:$port" --out "$dir/run" --quiet \
    --set "clients.0.count=$n" --set "clients.0.ramp_up=${ramp}s" --set "warmup=${warm}s" \
    --set "duration=${secs}s" --set "publishers.rate_per_s=$rate" --set "drain=${DRAIN_S}s" \
    --set "publishers.connections=$PUB_CONNS" --set "harness.threads=$FLEET_THREADS") \
    >"$dir/harness.out" 2>&1 &
  hpid=$!
  sleep "$warm"
  local c0 t0 c1 t1 rss1
  c0=$(cpu_ticks "$pid"); h0=$(harness_ticks); b0=$(loop_busy "$srv"); t0=$(date +%s.%N)
  sleep "$secs"
  c1=$(cpu_ticks "$pid"); h1=$(harness_ticks); b1=$(loop_busy "$srv"); t1=$(date +%s.%N); rss1=$(rss_kb "$pid")
  wait "$hpid" || true
  hpid=""
  local idle; idle=$(idle_closes "$srv")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  [ "$srv" = node ] && idle=$(awk '/^idle_closes/ {print $2}' "$dir/server.log")
  python3 - "$dir/run/report.json" "$srv" "$n" "$rate" "$secs" "$c0" "$c1" "$t0" "$t1" "$rss0" "$rss1" \
            "${idle:-?}" "$(getconf CLK_TCK)" "$(cut -d' ' -f1 /proc/loadavg)" "$warm" "$h0" "$h1" "${b0:-}" "${b1:-}" >>"$RES" <<'PY'
import json, sys
(rep, srv, n, rate, secs, c0, c1, t0, t1, rss0, rss1, idle, tck, load, warm, h0, h1, b0, b1) = sys.argv[1:]
warm = float(warm)
try:
    r = json.load(open(rep))
    t = r["totals"]
    # the measured window: the report timeline's per-second rows (t_s counts
    # from the fleet's start) after the ramp and settling, as long as the
    # CPU sample: deliveries/s is their mean, latency their merged histogram
    rows = [row for row in r.get("timeline", []) if warm <= row["t_s"] < warm + float(secs)]
    rate_s = sum(row["delivered"] for row in rows) / len(rows) if rows else float("nan")
    hist = {}
    for row in rows:
        for b, c in row.get("lat", []):
            hist[b] = hist.get(b, 0) + c
    total = sum(hist.values())
    def pct(q):
        if not total:
            return float("nan")
        acc = 0
        for b in sorted(hist):
            acc += hist[b]
            if acc >= q * total:
                return b / 1000
    vals = [rate_s, pct(0.50), pct(0.95), pct(0.99), t["lost"], t["reconnects"]]
except (OSError, KeyError, ValueError):
    vals = ["nan"] * 4 + ["?", "?"]
cpu = (int(c1) - int(c0)) / int(tck) / (float(t1) - float(t0)) * 100
per_conn = (int(rss1) - int(rss0)) * 1024 / int(n)
hcpu = (int(h1) - int(h0)) / int(tck) / (float(t1) - float(t0)) * 100
# the event loop thread's busy share of the window (rtchaos-server's /metrics; "nan" for Node)
busy = (float(b1) - float(b0)) / (float(t1) - float(t0)) * 100 if b0 and b1 else float("nan")
print("\t".join(str(x) for x in [srv, n, rate] + vals + [round(cpu, 1), round(per_conn), idle, load, round(hcpu, 1),
                                                          round(busy, 1)]))
PY
  tail -n 1 "$RES" | awk -F'\t' '{printf "  %-8s conns=%-6s rate=%-3s deliv/s=%-9.0f p50=%-8.1f p95=%-8.1f p99=%-8.1f lost=%s reconn=%s cpu=%s%% B/conn=%s idle_closes=%s load=%s harness_cpu=%s%% loop_busy=%s%%\n", $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15}'
}

# BENCH_LOCK: hold the shared benchmark lock for one step, then let go
lock() {
  [ -n "$BENCH_LOCK" ] || return 0
  exec {lockfd}>>"$BENCH_LOCK"
  echo "  (waiting for $BENCH_LOCK)"
  flock "$lockfd"
  echo "  (locked $(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))"
}
unlock() {
  [ -n "$BENCH_LOCK" ] || return 0
  flock -u "$lockfd"
  exec {lockfd}>&-
  echo "  (released $(date -u +%H:%M:%S))"
}

# median_of SERVER CONNS RATE COLUMN -> median of that column over the runs so far
median_of() {
  awk -F'\t' -v s="$1" -v n="$2" -v r="$3" -v c="$4" \
    '$1 == s && $2 == n && $3 == r && $c != "nan" {print $c}' "$RES" | sort -g |
    awk '{v[NR] = $1} END {if (!NR) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

echo "== bench/server_scale.sh ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), out $OUT)"
echo "   node: PING_S=$PING_S PING_STAGGER=$PING_STAGGER; server CPUs: ${SERVER_CPUS:-any}, fleet CPUs: ${FLEET_CPUS:-any}; publisher connections: $PUB_CONNS; fleet threads per worker: $FLEET_THREADS"
if [ "$SWEEP" = 1 ]; then
  SWEEP_RES="$OUT/sweep.tsv"
  : >"$SWEEP_RES"
  active=" $SERVERS "
  declare -A best
  for rate in $SWEEP_RATES; do
    [ -n "${active// /}" ] || break
    want=$(awk -v n="$SWEEP_CONNS" -v r="$rate" 'BEGIN {print n * r}')
    declare -A nfail=() npass=()
    lock
    for rep in $(seq "$REPS"); do
      for srv in $active; do
        # two failed runs decide the median: the rest of this server's sweep is skipped
        [ "${nfail[$srv]:-0}" -ge 2 ] && continue
        one_run "$srv" "$SWEEP_CONNS" "$rate" "$DURATION_S" "$rep"
        if tail -n 1 "$RES" | awk -F'\t' -v want="$want" -v min="$DELIV_MIN" -v max="$P99_MAX_MS" \
             '{exit !($4 == $4 + 0 && $7 == $7 + 0 && $4 >= min * want && $7 <= max)}'; then
          npass[$srv]=$(( ${npass[$srv]:-0} + 1 ))
        else
          nfail[$srv]=$(( ${nfail[$srv]:-0} + 1 ))
        fi
      done
    done
    unlock
    for srv in $active; do
      d=$(median_of "$srv" "$SWEEP_CONNS" "$rate" 4)
      p99=$(median_of "$srv" "$SWEEP_CONNS" "$rate" 7)
      if [ "${nfail[$srv]:-0}" -ge 2 ]; then
        verdict=failed
        active=${active/ $srv / }
      else
        verdict=sustained
        best[$srv]=$rate
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s/%s\n' "$srv" "$SWEEP_CONNS" "$rate" "$d" "$p99" "$verdict" \
        "${npass[$srv]:-0}" "$(( ${npass[$srv]:-0} + ${nfail[$srv]:-0} ))" >>"$SWEEP_RES"
      echo "  sweep: $srv at $rate ev/s/ch ($want deliveries/s asked): ${npass[$srv]:-0} of $(( ${npass[$srv]:-0} + ${nfail[$srv]:-0} )) runs within bounds, median deliv/s $d, p99 $p99 ms: $verdict"
    done
  done
  echo
  echo "Highest rate sustained at $SWEEP_CONNS connections (p99 <= $P99_MAX_MS ms and deliveries >= $DELIV_MIN x asked; a rate fails at its second run out of those bounds, of $REPS):"
  for srv in $SERVERS; do
    r=${best[$srv]:-none}
    echo "  $srv: $r ev/s/ch$([ "$r" != none ] && awk -v n="$SWEEP_CONNS" -v r="$r" 'BEGIN {printf " = %d deliveries/s", n * r}')"
  done
else
  for n in $CONNS; do
    for rate in $RATES; do
      lock
      for rep in $(seq "$REPS"); do
        for srv in $SERVERS; do
          one_run "$srv" "$n" "$rate" "$DURATION_S" "$rep"
        done
      done
      unlock
    done
  done
  if [ "$IDLE_CONNS" -gt 0 ]; then
    lock
    for rep in $(seq "$IDLE_REPS"); do
      for srv in $SERVERS; do
        one_run "$srv" "$IDLE_CONNS" 0 "$IDLE_S" "$rep"
      done
    done
    unlock
  fi
fi

echo
python3 - "$RES" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    rows.setdefault((int(f[1]), int(f[2]), f[0]), []).append(f)
def med(v):
    v = [float(x) for x in v if x not in ("nan", "?", "")]
    return statistics.median(v) if v else float("nan")
print(f"{'conns':>6} {'ev/s/ch':>7} {'server':<8} {'runs':>4} {'deliv/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
      f"{'CPU %':>6} {'B/conn':>7} {'lost':>5} {'reconn':>6} {'idle cl':>7} {'harness CPU %':>13} {'loop busy %':>11}")
for (n, rate, srv), rs in sorted(rows.items(), key=lambda k: (k[0][0], k[0][1], k[0][2] != "rtchaos")):
    col = lambda i: med([r[i] for r in rs])
    print(f"{n:>6} {rate:>7} {srv:<8} {len(rs):>4} {col(3):>9.0f} {col(4):>8.1f} {col(5):>8.1f} {col(6):>8.1f} "
          f"{col(9):>6.1f} {col(10):>7.0f} {col(7):>5.0f} {col(8):>6.0f} {col(11):>7.0f} "
          f"{col(13) if len(rs[0]) > 13 else float('nan'):>13.1f} {col(14) if len(rs[0]) > 14 else float('nan'):>11.1f}")
PY
echo "(medians of the runs above; $(nproc) cores; load at the end $(cut -d' ' -f1-3 /proc/loadavg); rows in $RES)"
