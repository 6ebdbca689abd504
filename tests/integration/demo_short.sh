#!/usr/bin/env bash
# demo_short.sh — README's main job in a short form: scenarios/demo.yaml
# (server behind the proxy, WS/SSE/poll clients, latency spike, reconnect
# storm) with a shorter timeline and fewer clients must pass every verdict and
# leave the whole run folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${RTCHAOS_BIN:-bin}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$BIN/rtchaos" run scenarios/demo.yaml --out "$out/run" --quiet \
  --set duration=16s --set warmup=2s \
  --set clients.0.count=300 --set clients.1.count=100 --set clients.2.count=20 \
  --set faults.0.at=3s --set faults.0.for=4s --set faults.1.at=10s \
  --set 'budgets.7=reconnects >= 100'
for f in report.json junit.xml report.md report.html events.jsonl plots/latency.svg plots/latency.png; do
  [ -s "$out/run/$f" ] || { echo "missing $f"; exit 1; }
done
/usr/bin/python3 - "$out/run/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "rtchaos.report/1" and r["pass"] is True, r["verdicts"]
kinds = sorted(f["kind"] for f in r["faults"])
assert kinds == ["disconnect", "toxic"], kinds
assert r["totals"]["lost"] == 0 and r["totals"]["reconnects"] >= 100, r["totals"]
PY
echo ok
