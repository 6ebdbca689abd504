#!/usr/bin/env bash
# bench/harness.sh — what one more simulated client costs: the rtchaos fleet
# (bin/rtchaos-fleet-check) next to npm artillery 2.0.21 (its ws engine), at
# the SAME client counts, against the same rtchaos-server, under the same
# workload, the tools taking turns (a benchmark, not a test):
#   - every client: one WebSocket, `{"op":"sub","ch":"fc<k>"}` on one of
#     BENCH_CHANNELS channels (fleet: round robin; artillery: at random),
#     connected at BENCH_ARRIVAL_PER_S new clients per second;
#   - one publisher outside both tools (a separate rtchaos-fleet-check with
#     one client, not counted) publishes BENCH_RATE events/s on each channel
#     for the whole run, so every client receives BENCH_RATE events/s;
#   - once the server's own gauge (rtchaos_connections{transport="ws"}) shows
#     the tool's clients connected, a BENCH_WINDOW_S window: the tool's CPU
#     (user+sys of every process and thread of its process tree) over the
#     window, its RSS summed over the whole tree at the end of it, and the
#     deliveries the server made in it (rtchaos_messages_out_total);
#   - clients are the connections the server counted, not the count asked.
# Headline: the marginal cost per client between the two counts,
# ΔRSS/Δclients and ΔCPU/Δclients, for each tool (per repetition, then the
# median). The fleet alone is also run at BENCH_SCALE_CLIENTS (19,000) with
# its marginal cost from BENCH_COUNTS' first count, reported separately:
# artillery is not run there (one node process holding 19,000 sockets is not
# what artillery is built for; see the RSS it needs at 2,000).
# Knobs: BENCH_COUNTS ("1000 2000"), BENCH_SCALE_CLIENTS (19000; 0 = skip),
#   BENCH_PARTS ("micro equal scale"), REPS (3), SCALE_REPS (REPS),
#   BENCH_RATE (2), BENCH_CHANNELS (10), BENCH_ARRIVAL_PER_S (250),
#   BENCH_WINDOW_S (15), BENCH_SCALE_SRC (source addresses of the fleet in
#   the scale part: "127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4"; from one
#   address to one server port this box's kernel gave ~14,100 connections,
#   a little over half the ephemeral port range, in two runs).
#   Loopback only; every step bounded in time.
set -u
cd "$(dirname "$0")/.."
BIN=${RTCHAOS_BIN:-$PWD/bin}
PY=/usr/bin/python3
COUNTS=${BENCH_COUNTS:-1000 2000}
NSCALE=${BENCH_SCALE_CLIENTS:-19000}
PARTS=${BENCH_PARTS:-micro equal scale}
REPS=${REPS:-3}
SCALE_REPS=${SCALE_REPS:-$REPS}
RATE=${BENCH_RATE:-2}
NCH=${BENCH_CHANNELS:-10}
ARRIVAL=${BENCH_ARRIVAL_PER_S:-250}
WINDOW=${BENCH_WINDOW_S:-15}
WORK=$(mktemp -d /tmp/rtchaos-bench-harness.XXXXXX)
POINTS=$WORK/points.tsv
PIDS=()

tree_pids() { local c; echo "$1"; for c in $(pgrep -P "$1"); do tree_pids "$c"; done; }
kill_tree() {
  local p
  for p in $(tree_pids "$1" | tac); do kill -KILL "$p" 2>/dev/null; done
  wait "$1" 2>/dev/null
}
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill_tree "$p"; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

for b in rtchaos-fleet-check rtchaos-server; do
  [ -x "$BIN/$b" ] || { echo "bench/harness.sh: $BIN/$b missing (run make)"; exit 1; }
done
ulimit -n 20000 2>/dev/null || true

# RSS of a process and every descendant, in kB (shared pages count once per
# process, as RSS does; they cancel out of the marginal figures)
tree_rss_kb() {
  local total=0 p r
  for p in $(tree_pids "$1"); do
    r=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null)
    total=$((total + ${r:-0}))
  done
  echo $total
}
# user+system CPU ticks of a process tree so far (a process's stat covers all its threads)
tree_cpu_ticks() {
  local p t ticks=0
  for p in $(tree_pids "$1"); do
    t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null)
    ticks=$((ticks + ${t:-0}))
  done
  echo $ticks
}
TCK=$(getconf CLK_TCK)
metric() { curl -s -m 5 "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
conns() { local v; v=$(metric 'rtchaos_connections{transport="ws"}'); echo "${v:-0}"; }
delivered() { local v; v=$(metric 'rtchaos_messages_out_total{transport="ws",kind="live"}'); echo "${v:-0}"; }

echo "== bench/harness.sh: rtchaos fleet vs artillery — $(date -u +%FT%TZ), $(nproc) cores, open files $(ulimit -n), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "workload: WS clients on $NCH channels, $RATE events/s per channel (each client receives $RATE/s), $ARRIVAL new clients/s, ${WINDOW} s window"

case " $PARTS " in *" micro "*)
  echo "scan+check microbench (fleet only, no sockets): $("$BIN/rtchaos-fleet-check" --bench-check 10000000)" ;;
esac

# ---- the server and the publisher both tools share ----
"$BIN/rtchaos-server" --port 0 --log-level warn --ws-ping-s 600 --idle-timeout-s 600 \
  >"$WORK/server.out" 2>"$WORK/server.err" &
SPID=$!; PIDS+=($SPID)
for _ in $(seq 50); do grep -q listening "$WORK/server.out" && break; sleep 0.1; done
PORT=$(awk '/listening/ {split($2, a, ":"); print a[2]}' "$WORK/server.out")
[ -n "$PORT" ] || { echo "server did not start"; exit 1; }
"$BIN/rtchaos-fleet-check" --client "127.0.0.1:$PORT" --clients 1 --channels "$NCH" --rate "$RATE" \
  --duration-ms 1200000 --drain-ms 0 --quiet --out "$WORK/pub.json" >/dev/null 2>"$WORK/pub.err" &
PUBPID=$!; PIDS+=($PUBPID)
for _ in $(seq 50); do [ "$(conns)" -ge 1 ] && break; sleep 0.1; done

ART=bench/artillery/node_modules/.bin/artillery
HAVE_ART=1
case " $PARTS " in *" equal "*)
  if [ ! -x "$ART" ]; then
    echo "installing npm artillery into bench/artillery/node_modules ..."
    (cd bench/artillery && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 600 npm install --no-audit --no-fund \
       --ignore-scripts >/dev/null 2>&1) || { echo "artillery: npm install failed: only the fleet is measured"; HAVE_ART=0; }
  fi ;;
esac

# start_tool TOOL N LIFETIME_S -> sets TPID
start_tool() {
  local tool=$1 n=$2 life=$3 ramp_s=$(( ($2 + ARRIVAL - 1) / ARRIVAL ))
  case $tool in
    fleet)
      "$BIN/rtchaos-fleet-check" --client "127.0.0.1:$PORT" ${FLEET_SRC:+--src "$FLEET_SRC"} \
        --clients "$n" --channels "$NCH" --rate 0 \
        --ramp-ms $((ramp_s * 1000)) --duration-ms $((life * 1000)) --drain-ms 0 --quiet \
        --out "$WORK/fleet.json" >/dev/null 2>"$WORK/fleet.err" & ;;
    artillery)
      # arrivalRate x duration = n; each VU subscribes, then stays connected for the point's lifetime
      cat >"$WORK/art.yml" <<EOF
config:
  target: "ws://127.0.0.1:$PORT/ws"
  phases:
    - duration: $ramp_s
      arrivalCount: $n
scenarios:
  - engine: ws
    flow:
      - send: '{"op":"sub","ch":"fc{{ \$randomNumber(0,$((NCH - 1))) }}"}'
      - think: $life
EOF
      ARTILLERY_DISABLE_TELEMETRY=true DO_NOT_TRACK=1 "$ART" run --quiet "$WORK/art.yml" >"$WORK/art.out" 2>&1 & ;;
  esac
  TPID=$!
}

# point TOOL N REP -> appends "tool n rep connected rss_kb cpu_s window_s deliveries" to POINTS
point() {
  local tool=$1 n=$2 rep=$3 base ramp_s life deadline c=0 c0 cpu0 cpu1 t0 t1 d0 d1 rss
  base=$(conns)
  ramp_s=$(( (n + ARRIVAL - 1) / ARRIVAL ))
  life=$(( ramp_s + 30 + WINDOW + 30 ))
  start_tool "$tool" "$n" "$life"
  deadline=$(( $(date +%s) + ramp_s + 30 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 1
    c=$(( $(conns) - base ))
    [ "$c" -ge "$n" ] && break
    kill -0 "$TPID" 2>/dev/null || break
  done
  sleep 3
  c0=$(( $(conns) - base ))
  cpu0=$(tree_cpu_ticks "$TPID"); t0=$(date +%s.%N); d0=$(delivered)
  sleep "$WINDOW"
  cpu1=$(tree_cpu_ticks "$TPID"); t1=$(date +%s.%N); d1=$(delivered)
  rss=$(tree_rss_kb "$TPID")
  c=$(( $(conns) - base ))
  [ "$c0" -lt "$c" ] && c=$c0   # a client that left during the window does not count
  kill_tree "$TPID"
  for _ in $(seq 100); do [ "$(conns)" -le "$base" ] && break; sleep 0.2; done
  local row
  row="$tool $n $rep $c $rss $($PY -c "print(($cpu1 - $cpu0) / $TCK, round($t1 - $t0, 3), $d1 - $d0)")"
  echo "$row" >>"$POINTS"
  echo "  $row   (load $(cut -d' ' -f1 /proc/loadavg))" | awk '{printf "  %-9s asked %6s rep %s: %6s clients  RSS %7s kB  CPU %6.2f s in %6.2f s  %8s deliveries   %s %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10}'
}

read -r -a NS <<<"$COUNTS"
TOOLS="fleet"; [ "$HAVE_ART" = 1 ] && TOOLS="fleet artillery"
case " $PARTS " in *" equal "*)
  echo "-- equal client counts: ${NS[*]} (tools and counts interleaved, $REPS repetitions)"
  for rep in $(seq "$REPS"); do
    for n in "${NS[@]}"; do
      # alternate which tool goes first, so neither always follows the other's teardown
      if [ $(( (rep + n) % 2 )) = 0 ]; then order=$TOOLS; else order=$(echo "$TOOLS" | tr ' ' '\n' | tac | tr '\n' ' '); fi
      for tool in $order; do point "$tool" "$n" "$rep"; done
    done
  done ;;
esac
case " $PARTS " in *" scale "*)
  if [ "$NSCALE" -gt 0 ]; then
    FLEET_SRC=${BENCH_SCALE_SRC:-127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4}
    echo "-- fleet at scale: ${NS[0]} and $NSCALE clients ($SCALE_REPS repetitions), source addresses $FLEET_SRC"
    for rep in $(seq "$SCALE_REPS"); do
      point fleet "${NS[0]}" "s$rep"
      point fleet "$NSCALE" "s$rep"
    done
  fi ;;
esac
kill_tree "$PUBPID"
[ -s "$WORK/server.err" ] && { echo "server stderr:"; tail -5 "$WORK/server.err"; }

$PY - "$POINTS" "$RATE" "$WINDOW" <<'EOF'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
rate = float(sys.argv[2])
pts = {}
for tool, n, rep, c, rss, cpu, win, d in rows:
    pts.setdefault((tool, int(n), rep[0] == 's'), {})[rep] = dict(c=int(c), rss=int(rss), cpu=float(cpu), win=float(win), d=float(d))
def med(xs): return st.median(xs) if xs else float('nan')
def spread(xs): return f"{min(xs):,.0f}–{max(xs):,.0f}" if xs else "-"

print("\nper point, median of the repetitions (spread min–max):")
print(f"{'tool':<10} {'asked':>6} {'clients':>8} {'RSS kB (tree)':>22} {'CPU % of a core':>18} {'deliveries/s':>14}")
for (tool, n, scale), reps in sorted(pts.items(), key=lambda k: (k[0][2], k[0][0], k[0][1])):
    v = list(reps.values())
    rss = [x['rss'] for x in v]; cpu = [100 * x['cpu'] / x['win'] for x in v]; dps = [x['d'] / x['win'] for x in v]
    print(f"{tool:<10} {n:>6} {med([x['c'] for x in v]):>8,.0f} {med(rss):>9,.0f} ({spread(rss):>11}) "
          f"{med(cpu):>6.1f} ({min(cpu):.1f}–{max(cpu):.1f}) {med(dps):>14,.0f}{'  [scale run]' if scale else ''}")

def marginal(tool, lo, hi, scale):
    a = pts.get((tool, lo, scale), {}); b = pts.get((tool, hi, scale), {})
    out = []
    for rep in sorted(set(a) & set(b)):
        x, y = a[rep], b[rep]
        dc = y['c'] - x['c']
        if dc <= 0: continue
        out.append(((y['rss'] - x['rss']) * 1024 / dc,
                    (y['cpu'] / y['win'] - x['cpu'] / x['win']) * 1e6 / dc,
                    (y['cpu'] - x['cpu']) * 1e6 / max(1, y['d'] - x['d'])))
    return out
def line(tool, lo, hi, scale):
    m = marginal(tool, lo, hi, scale)
    if not m: return None
    b, c, u = zip(*m)
    return (f"{tool:<10} {lo:>6,} → {hi:<7,} {med(b):>8,.0f} B ({', '.join(f'{x:,.0f}' for x in b)})  "
            f"{med(c):>6.1f} µs/s ({', '.join(f'{x:.1f}' for x in c)})  {med(u):>5.1f} µs/msg"), med(b), med(c)

ns = sorted({n for (t, n, s) in pts if not s})
print(f"\nHEADLINE — marginal cost per client, ΔRSS/Δclients and ΔCPU/Δclients (CPU µs per second per client, "
      f"each client receiving {rate:g} events/s), per repetition, median first:")
res = {}
if len(ns) >= 2:
    for tool in ('fleet', 'artillery'):
        r = line(tool, ns[0], ns[-1], False)
        if r: print(r[0]); res[tool] = r
    if 'fleet' in res and 'artillery' in res:
        print(f"artillery / fleet: memory {res['artillery'][1] / max(1, res['fleet'][1]):.1f}×, "
              f"CPU {res['artillery'][2] / max(1e-9, res['fleet'][2]):.1f}× per extra client")
sc = sorted({n for (t, n, s) in pts if s})
if len(sc) >= 2:
    r = line('fleet', sc[0], sc[-1], True)
    if r: print("scale (fleet only, not a comparison):\n" + r[0])
EOF
