#!/usr/bin/env bash
# server_fanout.sh — fan-out deliveries per second and memory per idle
# connection of rtchaos-server against a Node broadcast server on npm `ws`
# (bench/node_broadcast.js), same load client (bench/fanout_client.c), same
# box, one run. Targets: >= 2x Node's deliveries/s, <= 1/3 of its memory per
# idle connection. Not a test: prints figures (and whether targets are met).
# - The servers take turns: each repetition runs the fan-out point, then the
#   idle point, for both servers, the order swapped every repetition; REPS
#   repetitions (default 3), the figure is the median (spread next to it).
#   Every measurement starts a fresh server.
# - Memory per idle connection: RSS growth from after one warm-up connection
#   to IDLE subscribed connections, divided by the connections the server
#   actually had open at the sample (established TCP connections on its
#   port, from `ss`; rtchaos-server's own /metrics gauge printed beside it),
#   not by the count asked for.
# - Node is started with --expose-gc and runs a full collection (SIGUSR2,
#   bench/node_broadcast.js) before each RSS sample, so its figure is what
#   is live, not garbage waiting for the next collection.
# - BASE_BIN=dir adds a second rtchaos-server build (dir/rtchaos-server, e.g.
#   main before a change) to the same interleaved run, as "base".
#   SUBS=1000 BURST=100 DURATION_S=10 IDLE=5000 PAYLOAD=64 REPS=3 bench/server_fanout.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SUBS=${SUBS:-1000} BURST=${BURST:-100} DURATION_S=${DURATION_S:-10} IDLE=${IDLE:-5000} PAYLOAD=${PAYLOAD:-64}
REPS=${REPS:-3}
BIN=${RTCHAOS_BIN:-bin}
make -s "$BIN/rtchaos-server" build/default/bench/fanout_client
CLIENT=build/default/bench/fanout_client
command -v node >/dev/null || { echo "bench: node is not installed (RTCHAOS_BENCH=1 scripts/deps.sh)"; exit 1; }
command -v ss >/dev/null || { echo "bench: ss (iproute2) is not installed"; exit 1; }
if [ ! -d bench/node_modules/ws ]; then
  (cd bench && timeout 300 npm install --no-audit --no-fund --no-package-lock >/dev/null)
fi
ulimit -n 20000 2>/dev/null || true

tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

start() { # start NAME: starts the server, sets $pid and $port
  : >"$tmp/ready"
  case $1 in
    rtchaos) "$BIN/rtchaos-server" --port 0 --ws-ping-s 600 --idle-timeout-s 700 --log-level warn \
               >"$tmp/ready" 2>"$tmp/$1.log" & ;;
    base)    "$BASE_BIN/rtchaos-server" --port 0 --ws-ping-s 600 --idle-timeout-s 700 --log-level warn \
               >"$tmp/ready" 2>"$tmp/$1.log" & ;;
    node)    node --expose-gc bench/node_broadcast.js 0 >"$tmp/ready" 2>"$tmp/$1.log" & ;;
  esac
  pid=$!
  for _ in $(seq 200); do grep -q listening "$tmp/ready" 2>/dev/null && break; sleep 0.05; done
  port=$(awk -F: '/^listening/ {print $2}' "$tmp/ready")
  [ -n "$port" ] || { echo "bench: $1 did not start"; cat "$tmp/$1.log"; exit 3; }
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
# gc NAME: a full collection in the Node server before a sample (nothing to do for rtchaos-server)
gc() {
  [ "$1" = node ] || return 0
  local want=$(( $(grep -c '^gc ' "$tmp/ready" || true) + 1 ))
  kill -USR2 "$pid"
  for _ in $(seq 200); do
    [ "$(grep -c '^gc ' "$tmp/ready" || true)" -ge "$want" ] && break; sleep 0.05
  done
  grep -q '^gc .*unavailable' "$tmp/ready" && { echo "bench: node ran no GC (--expose-gc missing)"; exit 3; }
  return 0
}
# established TCP connections whose local end is the server's port (server side only)
open_conns() { ss -Htn state established "( sport = :$port )" | wc -l; }
gauge() { curl -s -m 5 "http://127.0.0.1:$port/metrics" | awk '$1 == "rtchaos_connections{transport=\"ws\"}" {print $2}'; }

echo "server_fanout.sh — $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); subs=$SUBS burst=$BURST seconds=$DURATION_S payload=$PAYLOAD idle=$IDLE reps=$REPS"
declare -A RATE MEM
SERVERS="rtchaos node"
if [ -n "${BASE_BIN:-}" ]; then
  [ -x "$BASE_BIN/rtchaos-server" ] || { echo "bench: $BASE_BIN/rtchaos-server missing"; exit 1; }
  SERVERS="rtchaos base node"
fi
for rep in $(seq "$REPS"); do
  # each repetition starts with another server (rotation), so none always runs first
  read -r -a sv <<<"$SERVERS"
  k=$(( (rep - 1) % ${#sv[@]} ))
  order="${sv[*]:$k} ${sv[*]:0:$k}"
  for srv in $order; do
    start "$srv"
    out=$(timeout 120 "$CLIENT" fanout "$port" "$SUBS" "$BURST" "$DURATION_S" "$PAYLOAD")
    r=$(sed -n 's/.*deliveries_per_s=\([0-9]*\).*/\1/p' <<<"$out")
    RATE[$srv]+="$r "
    echo "rep $rep fanout $srv: $out (load $(cut -d' ' -f1 /proc/loadavg))"
    stop
  done
  for srv in $order; do
    start "$srv"
    "$CLIENT" idle "$port" 1 < <(sleep 1) >/dev/null   # warm-up: first connection's one-off allocations
    sleep 0.5
    gc "$srv"
    before=$(rss_kb)
    coproc IDLEC { timeout 300 "$CLIENT" idle "$port" "$IDLE"; }
    read -r -t 120 ready <&"${IDLEC[0]}" || { echo "bench: idle client did not get ready"; exit 3; }
    sleep 2
    gc "$srv"
    after=$(rss_kb)
    n=$(open_conns)
    g=$([ "$srv" != node ] && echo ", server gauge $(gauge)" || true)
    eval "exec ${IDLEC[1]}>&-"
    wait "$IDLEC_PID" 2>/dev/null || true
    [ "$n" -gt 0 ] || { echo "bench: no connection open at the sample"; exit 3; }
    m=$(( (after - before) * 1024 / n ))
    MEM[$srv]+="$m "
    echo "rep $rep idle   $srv: asked $IDLE, $ready; $n open at the sample$g; RSS ${before} kB -> ${after} kB, $m bytes/connection (load $(cut -d' ' -f1 /proc/loadavg))"
    stop
  done
done

# numbers -> "median min max"
read -r ra ral rah < <(bench_stats <<<"${RATE[rtchaos]}"); read -r rn rnl rnh < <(bench_stats <<<"${RATE[node]}")
read -r ma mal mah < <(bench_stats <<<"${MEM[rtchaos]}"); read -r mn mnl mnh < <(bench_stats <<<"${MEM[node]}")
r=$(awk -v a="$ra" -v b="$rn" 'BEGIN {printf "%.2f", a / b}')
m=$(awk -v a="$ma" -v b="$mn" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
echo
echo "median of $REPS (min-max), servers interleaved:"
printf '%-28s %24s %24s %8s %s\n' "figure" "rtchaos-server" "node ws (after GC)" "ratio" "target"
printf '%-28s %24s %24s %8s %s\n' "fan-out deliveries/s" "$ra ($ral-$rah)" "$rn ($rnl-$rnh)" "${r}x" \
  "$(awk -v r="$r" 'BEGIN {print (r >= 2 ? ">= 2x: met" : ">= 2x: NOT met")}')"
printf '%-28s %24s %24s %8s %s\n' "memory per idle conn (B)" "$ma ($mal-$mah)" "$mn ($mnl-$mnh)" "${m}x" \
  "$(awk -v m="$m" 'BEGIN {print (m <= 0.3334 ? "<= 1/3: met" : "<= 1/3: NOT met")}')"
if [ -n "${BASE_BIN:-}" ]; then
  read -r rb rbl rbh < <(bench_stats <<<"${RATE[base]}"); read -r mb mbl mbh < <(bench_stats <<<"${MEM[base]}")
  printf '%-28s %24s %24s\n' "base ($BASE_BIN)" "fan-out $rb ($rbl-$rbh)" "idle $mb B ($mbl-$mbh)"
fi
echo "(load at the end $(cut -d' ' -f1-3 /proc/loadavg))"
