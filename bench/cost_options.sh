#!/usr/bin/env bash
# bench/cost_options.sh — what rtchaos-server's cost options save, each
# against itself switched off in the same run (a benchmark, not a test):
# the cost suite's question-3 pairs (scenarios/suites/cost.yaml:
# permessage-deflate, the batching window, delta payloads), full length,
# BENCH_COST_RUNS times (default 3). Each suite run does every off/on pair
# back to back, so the rows are interleaved; the table gives medians (and
# the range) of WS/SSE bytes per delivered event, p95 live latency, server
# CPU per event written and events per server write. Run it alone on the
# box: flock /work/.bench.lock bench/cost_options.sh
set -u
cd "$(dirname "$0")/.."
BIN=${RTCHAOS_BIN:-$PWD/bin}
RUNS=${BENCH_COST_RUNS:-3}
ONLY=deflate-off,deflate-on,batch-off,batch-on,delta-off,delta-on
WORK=$(mktemp -d /tmp/rtchaos-bench-cost.XXXXXX)
trap 'rm -rf "$WORK"' EXIT INT TERM
[ -x "$BIN/rtchaos" ] || { echo "bench/cost_options.sh: $BIN/rtchaos missing (run make)"; exit 1; }

echo "== bench/cost_options.sh: cost options off vs on, $RUNS interleaved runs ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
for i in $(seq "$RUNS"); do
  RTCHAOS_BIN=$BIN "$BIN/rtchaos" run scenarios/suites/cost.yaml --only "$ONLY" --out "$WORK/run$i" >"$WORK/run$i.log" 2>&1
  echo "run $i: rc=$? ($(grep -c '"status": *"pass"' "$WORK/run$i/index.json" 2>/dev/null || echo ?) entries passed)"
done
/usr/bin/python3 - "$WORK" "$RUNS" <<'PY'
import glob, json, os, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
ids = ["deflate-off", "deflate-on", "batch-off", "batch-on", "delta-off", "delta-on"]
def get(r, path):
    for k in path.split("."):
        if not isinstance(r, dict) or k not in r:
            return None
        r = r[k]
    return r
cols = [("WS B/event", "wire.by_transport.ws.rx_bytes_per_event", 1),
        ("SSE B/event", "wire.by_transport.sse.rx_bytes_per_event", 1),
        ("p95 live ms", "latency_us.live.p95", 0.001),
        ("server CPU µs/event", "server.final.cpu_us_per_written", 1),
        ("events/write", "server.final.events_per_write", 1),
        ("verdicts", None, 1)]
print("| entry | " + " | ".join(c[0] for c in cols) + " |")
print("|---|" + "---|" * len(cols))
for e in ids:
    reps = []
    for i in range(1, runs + 1):
        p = os.path.join(work, f"run{i}", e, "report.json")
        if os.path.exists(p):
            reps.append(json.load(open(p)))
    cells = []
    for name, path, scale in cols:
        if path is None:
            ok = sum(1 for r in reps if r.get("pass"))
            cells.append(f"{ok}/{len(reps)} pass")
            continue
        v = [get(r, path) for r in reps]
        v = [x * scale for x in v if isinstance(x, (int, float))]
        cells.append("–" if not v else f"{statistics.median(v):.1f} ({min(v):.1f}–{max(v):.1f})" if len(v) > 1 else f"{v[0]:.1f}")
    print(f"| {e} | " + " | ".join(cells) + " |")
PY
