#!/usr/bin/env bash
# server_profile.sh — perf profile of rtchaos-server under the load of
# bench/server_scale.sh: CONNS WebSocket clients on 200 channels, RATE events/s
# per channel, the server recorded for PERF_S seconds (perf record -g, 499 Hz)
# once the clients are connected. Not a test; prints perf's report by DSO and
# the top symbols. Needs perf (Debian: linux-perf).
#   CONNS=10000 RATE=5 PERF_S=8 flock /work/.bench.lock bench/server_profile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${RTCHAOS_BIN:-$PWD/bin}
CONNS=${CONNS:-10000}
RATE=${RATE:-5}
PERF_S=${PERF_S:-8}
OUT=${OUT:-runs/server-profile-$(date -u +%Y%m%dT%H%M%SZ)}
command -v perf >/dev/null || { echo "bench: perf is not installed"; exit 1; }
mkdir -p "$OUT"
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
"$BIN/rtchaos-server" --port 0 --log-level warn >"$OUT/ready" 2>"$OUT/server.log" &
pid=$!
hpid=""
trap '[ -n "$hpid" ] && kill "$hpid" 2>/dev/null; kill "$pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
# ramp 5 s, publishing from 9 s for 20 s; the profile starts at 12 s
bench_scale_load "$OUT/ready" "$OUT" "$CONNS" "$RATE" || exit 3
hpid=$BENCH_LOAD_PID
sleep 12
perf record -F 499 -g -p "$pid" -o "$OUT/perf.data" -- sleep "$PERF_S" 2>"$OUT/perf.err"
wait "$hpid" || true
hpid=""
echo "== $CONNS WS, $RATE ev/s/ch, load $(cut -d' ' -f1-3 /proc/loadavg); $OUT/perf.data"
perf report -i "$OUT/perf.data" --stdio --no-children --sort dso -g none 2>/dev/null | grep '%' | head -10
perf report -i "$OUT/perf.data" --stdio --no-children --sort symbol -g none 2>/dev/null | grep '%' | head -25
