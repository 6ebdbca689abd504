#!/usr/bin/env bash
# demo.sh — README's first command: install what is missing (scripts/deps.sh,
# apt-get; sudo when not root), build, and run scenarios/demo.yaml —
# rtchaos-server behind rtchaos-proxy, ~2,000 WebSocket/SSE/poll clients, a
# latency spike and a reconnect storm — ending with the report's path and a
# one-screen summary. Extra arguments go to `rtchaos run` (e.g. --seed 7,
# --out DIR, --set duration=20s). Exit code: rtchaos run's (0 all verdicts
# passed, 1 one failed, 2 bad scenario, 3 the run broke).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
make -j"$(nproc)" >/dev/null
exec bin/rtchaos run scenarios/demo.yaml "$@"
