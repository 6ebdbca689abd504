#!/usr/bin/env bash
# server_fanout.sh — fan-out deliveries per second and memory per idle
# connection of rtchaos-server against a Node broadcast server on npm `ws`
# (bench/node_broadcast.js), same load client (bench/fanout_client.c), same
# box, one run. Targets: >= 2x Node's deliveries/s, <= 1/3 of its memory per
# idle connection. Not a test: prints figures (and whether targets are met).
#   SUBS=1000 BURST=100 DURATION_S=5 IDLE=5000 PAYLOAD=64 bench/server_fanout.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SUBS=${SUBS:-1000} BURST=${BURST:-100} DURATION_S=${DURATION_S:-5} IDLE=${IDLE:-5000} PAYLOAD=${PAYLOAD:-64}
BIN=${RTCHAOS_BIN:-bin}
make -s "$BIN/rtchaos-server" build/default/bench/fanout_client
CLIENT=build/default/bench/fanout_client
command -v node >/dev/null || { echo "bench: node is not installed (RTCHAOS_BENCH=1 scripts/deps.sh)"; exit 1; }
if [ ! -d bench/node_modules/ws ]; then
  (cd bench && timeout 300 npm install --no-audit --no-fund --no-package-lock >/dev/null)
fi
ulimit -n 20000 2>/dev/null || true

tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

start() { # start NAME: starts the server, sets $pid and $port
  case $1 in
    rtchaos) "$BIN/rtchaos-server" --port 0 --ws-ping-s 600 --idle-timeout-s 700 --log-level warn \
               >"$tmp/ready" 2>"$tmp/$1.log" & ;;
    node)    node bench/node_broadcast.js 0 >"$tmp/ready" 2>"$tmp/$1.log" & ;;
  esac
  pid=$!
  for _ in $(seq 200); do grep -q listening "$tmp/ready" 2>/dev/null && break; sleep 0.05; done
  port=$(awk -F: '/^listening/ {print $2}' "$tmp/ready")
  [ -n "$port" ] || { echo "bench: $1 did not start"; cat "$tmp/$1.log"; exit 3; }
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; : >"$tmp/ready"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }

declare -A RATE MEM
for srv in rtchaos node; do
  start $srv
  out=$(timeout 120 "$CLIENT" fanout "$port" "$SUBS" "$BURST" "$DURATION_S" "$PAYLOAD")
  RATE[$srv]=$(sed -n 's/.*deliveries_per_s=\([0-9]*\).*/\1/p' <<<"$out")
  echo "fanout  $srv: $out"
  stop

  start $srv
  "$CLIENT" idle "$port" 1 < <(sleep 1) >/dev/null   # warm-up: first connection's one-off allocations
  sleep 0.5
  before=$(rss_kb)
  coproc IDLEC { timeout 300 "$CLIENT" idle "$port" "$IDLE"; }
  read -r -t 120 ready <&"${IDLEC[0]}" || { echo "bench: idle client did not get ready"; exit 3; }
  sleep 2
  after=$(rss_kb)
  eval "exec ${IDLEC[1]}>&-"
  wait "$IDLEC_PID" 2>/dev/null || true
  MEM[$srv]=$(( (after - before) * 1024 / IDLE ))
  echo "idle    $srv: $ready connections, RSS ${before} kB -> ${after} kB, $(( MEM[$srv] )) bytes/connection"
  stop
done

r=$(awk -v a="${RATE[rtchaos]}" -v b="${RATE[node]}" 'BEGIN {printf "%.2f", a / b}')
m=$(awk -v a="${MEM[rtchaos]}" -v b="${MEM[node]}" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
echo
printf '%-28s %14s %14s %10s %s\n' "figure" "rtchaos-server" "node ws" "ratio" "target"
printf '%-28s %14s %14s %10s %s\n' "fan-out deliveries/s" "${RATE[rtchaos]}" "${RATE[node]}" "${r}x" \
  "$(awk -v r="$r" 'BEGIN {print (r >= 2 ? ">= 2x: met" : ">= 2x: NOT met")}')"
printf '%-28s %14s %14s %10s %s\n' "memory per idle conn (B)" "${MEM[rtchaos]}" "${MEM[node]}" "${m}x" \
  "$(awk -v m="$m" 'BEGIN {print (m <= 0.3334 ? "<= 1/3: met" : "<= 1/3: NOT met")}')"
echo "(subs=$SUBS burst=$BURST seconds=$DURATION_S payload=$PAYLOAD idle=$IDLE; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
