#!/usr/bin/env bash
# server_tour.sh — scripts/server-tour.sh (README, Reference server) must
# show published events arriving over SSE, the idempotent repeat, the resume,
# and the server draining to exit 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(RTCHAOS_BIN=${RTCHAOS_BIN:-bin} timeout 60 scripts/server-tour.sh)
echo "$out"
grep -q '"type":"event","data":{"hello":"world"}' <<<"$out"
grep -q '"duplicates":1' <<<"$out"
grep -q '"recovered":true' <<<"$out"
grep -q '"data":"missed while away"' <<<"$out"
grep -q 'server drained and exited 0' <<<"$out"
echo ok
