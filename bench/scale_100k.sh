#!/usr/bin/env bash
# scale_100k.sh — runs scenarios/scale-100k.yaml (100,000 WS + SSE clients,
# 7 brokered nodes, 1,000 channels, node 3 killed mid-run) once and says
# what it cost: wall time, memory per client of the fleet (the harness and
# its 8 worker processes) and of the servers (the nodes) while every client
# is connected, CPU of each, and the run's figures (lost, duplicated,
# resyncs, p99 outside the fault window, where the dead node's clients went).
# A benchmark, not a test: run it alone, under the bench lock:
#   flock /work/.bench.lock bench/scale_100k.sh
# SETS="clients.0.count=6000 clients.1.count=4000" scales it down (each word
# one --set); OUT=DIR names the run folder (default runs/scale-100k-<stamp>).
# Memory is each process's VmRSS (/proc/PID/status) summed per role; CPU is
# utime + stime (/proc/PID/stat), sampled every 2 s (a node killed keeps
# its last sample). There is no peer: no other harness here holds 100,000
# checked clients on this box to compare with.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${RTCHAOS_BIN:-$PWD/bin}
OUT=${OUT:-runs/scale-100k-$(date -u +%Y%m%d-%H%M%S)}
SETS=${SETS:-}
mkdir -p "$(dirname "$OUT")"
SAMPLES="$OUT.samples"
: > "$SAMPLES"
args=()
for s in $SETS; do args+=(--set "$s"); done
t0=$(date +%s.%N)
"$BIN/rtchaos" run scenarios/scale-100k.yaml --out "$OUT" --quiet "${args[@]}" &
pid=$!
hz=$(getconf CLK_TCK)
while kill -0 "$pid" 2>/dev/null; do
  now=$(date +%s.%N)
  for p in "$pid" $(pgrep -P "$pid" || true); do
    comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
    rss=$(awk '/^VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null) || continue
    ticks=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || continue
    echo "$now $p $comm ${rss:-0} $ticks" >> "$SAMPLES"
  done
  sleep 2
done
rc=0
wait "$pid" || rc=$?
t1=$(date +%s.%N)
python3 - "$OUT" "$SAMPLES" "$t0" "$t1" "$rc" "$hz" <<'PY'
import json, sys
out, samples, t0, t1, rc, hz = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
rep = json.load(open(f"{out}/report.json"))
ev = [json.loads(l) for l in open(f"{out}/events.jsonl")]
started = next(e["t_us"] for e in ev if e.get("action") == "fleet_started") / 1e6
fault = next((e["t_us"] / 1e6 for e in ev if e.get("action") == "server_kill"), None)
rows = [l.split() for l in open(samples)]
role = {"rtchaos": "fleet", "rtchaos-server": "servers", "redis-server": "redis"}
# the sample round just before the node is killed: every client connected
times = sorted({float(r[0]) for r in rows})
before = max((t for t in times if fault is None or t < fault), default=times[-1])
first = min(t for t in times if t >= started) if any(t >= started for t in times) else times[0]
def rss_at(t):
    m = {}
    for r in rows:
        if float(r[0]) == t:
            m[role.get(r[2], r[2])] = m.get(role.get(r[2], r[2]), 0) + int(r[3]) * 1024
    return m
last_ticks, first_ticks = {}, {}
for r in rows:
    key = (r[1], role.get(r[2], r[2]))
    first_ticks.setdefault(key, int(r[4]))
    last_ticks[key] = int(r[4])
cpu = {}
for k, v in last_ticks.items():
    cpu[k[1]] = cpu.get(k[1], 0) + (v - first_ticks[k]) / hz
wall = t1 - t0
t = rep["totals"]
per = rep.get("nodes", {}).get("per_node", [])
# the nodes' connections 1 s before the kill (its event is logged once the
# kill is done, which a loaded box may delay)
fo = rep.get("nodes", {}).get("failover") or []
kill_t = fo[0]["at_s"] if fo else (before - started)
for f in rep.get("faults", []):
    if f.get("name") == (fo[0]["fault"] if fo else None) and f.get("planned_from_s") is not None:
        kill_t = min(kill_t, f["planned_from_s"])
conns_before = 0
for n in per:
    tl = [c for ts, c in n.get("timeline", []) if c is not None and ts <= kill_t - 1]
    conns_before += tl[-1] if tl else 0
clients_now = rep.get("timeline", [])
m_before, m_first = rss_at(before), rss_at(first)
lat = rep.get("latency_us", {})
out_f = {v["name"]: v for v in rep.get("verdicts", [])}
def vv(name):
    v = out_f.get(name)
    return v.get("value") if v else None
res = {
    "command": rep.get("command"), "exit_code": rc, "wall_s": round(wall, 1),
    "clients": t["clients"], "server_connections_before_kill": conns_before,
    "published": t["published"], "expected": t["expected"], "delivered": t["delivered"],
    "lost": t["lost"], "duplicated": t["duplicated"], "reordered": t["reordered"],
    "resync_ok": t["resync_ok"], "resync_failed": t["resync_failed"], "reconnects": t["reconnects"],
    "errors": t["errors"], "connect_failures": t.get("connect_failures"),
    "p99_live_outside_faults_ms": vv("p99_live_outside_faults_ms"),
    "p99_live_ms": (lat.get("live", {}).get("p99") or 0) / 1000,
    "rss_bytes_before_kill": m_before, "rss_bytes_at_start": m_first,
    "fleet_bytes_per_client": round(m_before.get("fleet", 0) / max(1, t["clients"])),
    "server_bytes_per_connection": round(m_before.get("servers", 0) / max(1, conns_before)),
    # growth from the fleet's start (processes up, nothing connected) to every client connected
    "fleet_bytes_per_client_marginal": round((m_before.get("fleet", 0) - m_first.get("fleet", 0)) / max(1, t["clients"])),
    "server_bytes_per_connection_marginal": round((m_before.get("servers", 0) - m_first.get("servers", 0)) /
                                                  max(1, conns_before)),
    "cpu_s": {k: round(v, 1) for k, v in cpu.items()},
    "cpu_pct_of_one_core": {k: round(100 * v / wall, 1) for k, v in cpu.items()},
    "failover": rep.get("nodes", {}).get("failover"),
    "verdicts": {v["name"]: v["pass"] for v in rep.get("verdicts", [])},
    "error": rep.get("error"),
}
json.dump(res, open(f"{out}/scale_100k.json", "w"), indent=1)
print(json.dumps(res, indent=1))
PY
exit "$rc"
