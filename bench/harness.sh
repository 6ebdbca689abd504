#!/usr/bin/env bash
# bench/harness.sh — the harness fleet's figures next to npm artillery's, measured in the same run
# on the same box against the same rtchaos-server (a benchmark, not a test):
#   1. envelopes scanned + checked per second per core (microbench, no sockets)
#   2. idle WebSocket clients one fleet process holds, and user-space memory per client
#      (RSS difference between a small and a large run, divided by the extra clients)
#   3. messages received and checked per second per core under fan-out
#   4. the same idle-client and fan-out loads driven by artillery (its ws engine)
# Knobs: BENCH_CLIENTS (default 19000), BENCH_RAMP_MS (120000), BENCH_SSE_CLIENTS (5000),
#        BENCH_ARTILLERY_CLIENTS (2000),
#        BENCH_FANOUT_CLIENTS (1000), BENCH_SKIP_ARTILLERY=1.
set -u
cd "$(dirname "$0")/.."
BIN=${RTCHAOS_BIN:-$PWD/bin}
PY=/usr/bin/python3
N=${BENCH_CLIENTS:-19000}
RAMP_MS=${BENCH_RAMP_MS:-120000}
NA=${BENCH_ARTILLERY_CLIENTS:-2000}
NF=${BENCH_FANOUT_CLIENTS:-1000}
WORK=$(mktemp -d /tmp/rtchaos-bench-harness.XXXXXX)
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do
    pkill -KILL -P "$p" 2>/dev/null
    kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
  done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

for b in rtchaos-fleet-check rtchaos-server; do
  [ -x "$BIN/$b" ] || { echo "bench/harness.sh: $BIN/$b missing (run make)"; exit 1; }
done

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# RSS of a process and all its descendants, in kB
tree_rss_kb() {
  local total=0 p
  for p in $1 $(pgrep -P "$1"; for c in $(pgrep -P "$1"); do pgrep -P "$c"; done); do
    total=$((total + $(rss_kb "$p")))
  done
  echo $total
}
# user+system CPU seconds of a process tree so far
tree_cpu_s() {
  local p ticks=0
  for p in $1 $(pgrep -P "$1"; for c in $(pgrep -P "$1"); do pgrep -P "$c"; done); do
    [ -r "/proc/$p/stat" ] || continue
    ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  $PY -c "print($ticks / $(getconf CLK_TCK))"
}
metric() { curl -s -m 5 "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

echo "== bench/harness.sh: rtchaos fleet vs artillery ($(nproc) cores, open files $(ulimit -n))"

# ---- 1. envelopes checked per second per core ----
micro=$("$BIN/rtchaos-fleet-check" --bench-check 10000000)
echo "scan+check microbench: $micro"

# ---- server ----
"$BIN/rtchaos-server" --port 0 --log-level warn --ws-ping-s 600 --idle-timeout-s 600 \
  >"$WORK/server.out" 2>"$WORK/server.err" &
SPID=$!; PIDS+=($SPID)
for _ in $(seq 50); do grep -q listening "$WORK/server.out" && break; sleep 0.1; done
PORT=$(awk '/listening/ {split($2, a, ":"); print a[2]}' "$WORK/server.out")
[ -n "$PORT" ] || { echo "server did not start"; exit 1; }

# ---- 2. idle WebSocket clients: fleet ----
# idle_fleet N RAMP_MS [TRANSPORT] -> "connected rss_kb"
idle_fleet() {
  local n=$1 ramp=$2 tr=${3:-ws} deadline connected=0 rss
  "$BIN/rtchaos-fleet-check" --client "127.0.0.1:$PORT" --transport "$tr" --clients "$n" --rate 0 --ramp-ms "$ramp" \
    --duration-ms $((ramp + 120000)) --drain-ms 1000 --channels 10 --out "$WORK/idle.json" \
    2>"$WORK/idle.err" &
  local fp=$!; PIDS+=($fp)
  deadline=$(( $(date +%s) + ramp / 1000 + 60 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 1
    connected=$(grep -o 'connected=[0-9]*' "$WORK/idle.err" | tail -1 | cut -d= -f2)
    [ "${connected:-0}" -ge "$n" ] && break
  done
  sleep 2
  connected=$(grep -o 'connected=[0-9]*' "$WORK/idle.err" | tail -1 | cut -d= -f2)
  rss=$(rss_kb $fp)
  kill -INT $fp; wait $fp 2>/dev/null
  echo "${connected:-0} $rss"
}
read -r c0 r0 < <(idle_fleet 100 1000)
read -r c1 r1 < <(idle_fleet "$N" "$RAMP_MS")
fleet_per_client=$($PY -c "print(round(($r1 - $r0) * 1024 / max(1, $c1 - $c0)))")
fleet_per_gb=$($PY -c "print(int(1e9 / max(1, $fleet_per_client)))")
echo "fleet idle WS: $c1/$N connected in one process; RSS ${r0} kB at $c0 clients, ${r1} kB at $c1 clients"
fleet_whole_gb=$($PY -c "print(int($c1 * 1e9 / max(1, $r1 * 1024)))")
echo "fleet idle WS: ${fleet_per_client} bytes of user-space memory per extra idle client (marginal -> ${fleet_per_gb} per GB); whole process: ${fleet_whole_gb} clients per GB of RSS"

# the same for idle SSE clients (they keep their HTTP reader for the stream's life)
NS=${BENCH_SSE_CLIENTS:-5000}
read -r e0 q0 < <(idle_fleet 100 1000 sse)
read -r e1 q1 < <(idle_fleet "$NS" 10000 sse)
echo "fleet idle SSE: $e1/$NS connected; $($PY -c "print(round(($q1 - $q0) * 1024 / max(1, $e1 - $e0)))") bytes per extra idle client"

# ---- 3. fan-out: messages received and checked per second per core: fleet ----
# 10 channels x 100 events/s, NF clients on one channel each: NF*100 deliveries/s
"$BIN/rtchaos-fleet-check" --client "127.0.0.1:$PORT" --clients "$NF" --channels 10 --rate 100 \
  --ramp-ms 2000 --duration-ms 12000 --drain-ms 10000 --quiet --out "$WORK/fan.json" &
fp=$!; PIDS+=($fp)
sleep 3; cpu0=$(tree_cpu_s $fp); t0=$(date +%s.%N); d0=$(metric 'rtchaos_messages_out_total{transport="ws",kind="live"}')
sleep 8; cpu1=$(tree_cpu_s $fp); t1=$(date +%s.%N); d1=$(metric 'rtchaos_messages_out_total{transport="ws",kind="live"}')
wait $fp
fleet_fan=$($PY -c "print(round(($d1 - $d0) / max(1e-9, $cpu1 - $cpu0)))")
fleet_rate=$($PY -c "print(round(($d1 - $d0) / ($t1 - $t0)))")
anoms=$($PY -c "
import json; t = json.load(open('$WORK/fan.json'))['totals']
print(sum(t[k] for k in ('lost','duplicated','reordered','resync_failed','epoch_changed')))")
echo "fleet fan-out: ${fleet_rate} msgs/s received by $NF clients using $($PY -c "print(round($cpu1 - $cpu0, 2))") CPU-s over $($PY -c "print(round($t1 - $t0, 1))") s -> ${fleet_fan} msgs/s per core (checked; anomalies: $anoms)"

# ---- 4. artillery ----
if [ "${BENCH_SKIP_ARTILLERY:-0}" = 1 ]; then
  echo "artillery: skipped (BENCH_SKIP_ARTILLERY=1)"; exit 0
fi
ART=bench/artillery/node_modules/.bin/artillery
if [ ! -x "$ART" ]; then
  echo "installing npm artillery into bench/artillery/node_modules ..."
  (cd bench/artillery && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --ignore-scripts >/dev/null 2>&1) || { echo "artillery: npm install failed"; exit 0; }
fi
# art_idle N -> "connected rss_kb" (VUs connect, subscribe, then think)
art_idle() {
  local n=$1 rate=$(( ($1 + 9) / 10 )) base conn=0 rss
  cat >"$WORK/art.yml" <<EOF
config:
  target: "ws://127.0.0.1:$PORT/ws"
  phases:
    - duration: 10
      arrivalRate: $rate
scenarios:
  - engine: ws
    flow:
      - send: '{"op":"sub","ch":"ch1"}'
      - think: 120
EOF
  base=$(metric 'rtchaos_connections{transport="ws"}')
  ARTILLERY_DISABLE_TELEMETRY=true DO_NOT_TRACK=1 "$ART" run --quiet "$WORK/art.yml" >"$WORK/art.out" 2>&1 &
  local ap=$!; PIDS+=($ap)
  for _ in $(seq 60); do
    sleep 1
    conn=$(( $(metric 'rtchaos_connections{transport="ws"}') - base ))
    [ "$conn" -ge "$n" ] && break
  done
  sleep 2
  conn=$(( $(metric 'rtchaos_connections{transport="ws"}') - base ))
  rss=$(tree_rss_kb $ap)
  pkill -KILL -P $ap 2>/dev/null; kill -KILL $ap 2>/dev/null; wait $ap 2>/dev/null
  sleep 2
  echo "$conn $rss"
}
read -r a0 s0 < <(art_idle 100)
read -r a1 s1 < <(art_idle "$NA")
art_per_client=$($PY -c "print(round(($s1 - $s0) * 1024 / max(1, $a1 - $a0)))")
art_per_gb=$($PY -c "print(int(1e9 / max(1, $art_per_client)))")
art_whole_gb=$($PY -c "print(int($a1 * 1e9 / max(1, $s1 * 1024)))")
echo "artillery idle WS: RSS ${s0} kB at $a0 clients, ${s1} kB at $a1 clients -> ${art_per_client} bytes per extra idle client (marginal, noisy: node's heap grows in steps); whole process: ${art_whole_gb} clients per GB of RSS"
echo "clients per GB of RSS (whole process, each at its own client count): fleet/artillery = $($PY -c "print(round($fleet_whole_gb / max(1, $art_whole_gb), 1))")x; marginal: $($PY -c "print(round($fleet_per_gb / max(1, $art_per_gb), 1))")x"

# artillery fan-out: NF VUs on ch0..ch9 while rtchaos-fleet-check publishes (1 client of its own)
cat >"$WORK/artfan.yml" <<EOF
config:
  target: "ws://127.0.0.1:$PORT/ws"
  phases:
    - duration: 2
      arrivalRate: $(( NF / 2 ))
scenarios:
  - engine: ws
    flow:
      - send: '{"op":"sub","ch":"fc{{ \$randomNumber(0,9) }}"}'
      - think: 30
EOF
ARTILLERY_DISABLE_TELEMETRY=true DO_NOT_TRACK=1 "$ART" run --quiet "$WORK/artfan.yml" >"$WORK/artfan.out" 2>&1 &
ap=$!; PIDS+=($ap)
sleep 6
"$BIN/rtchaos-fleet-check" --client "127.0.0.1:$PORT" --clients 1 --channels 10 --rate 100 \
  --duration-ms 12000 --drain-ms 2000 --quiet --out "$WORK/pub.json" &
pp=$!; PIDS+=($pp)
sleep 3; cpu0=$(tree_cpu_s $ap); t0=$(date +%s.%N); d0=$(metric 'rtchaos_messages_out_total{transport="ws",kind="live"}')
sleep 8; cpu1=$(tree_cpu_s $ap); t1=$(date +%s.%N); d1=$(metric 'rtchaos_messages_out_total{transport="ws",kind="live"}')
wait $pp
pkill -KILL -P $ap 2>/dev/null; kill -KILL $ap 2>/dev/null; wait $ap 2>/dev/null
art_fan=$($PY -c "print(round(($d1 - $d0) / max(1e-9, $cpu1 - $cpu0)))")
art_rate=$($PY -c "print(round(($d1 - $d0) / ($t1 - $t0)))")
echo "artillery fan-out: ${art_rate} msgs/s received using $($PY -c "print(round($cpu1 - $cpu0, 2))") CPU-s -> ${art_fan} msgs/s per core (not checked)"
echo "msgs/s per core: fleet/artillery = $($PY -c "print(round($fleet_fan / max(1, $art_fan), 1))")x"
