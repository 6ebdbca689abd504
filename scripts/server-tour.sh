#!/usr/bin/env bash
# server-tour.sh — a walk through the wire contract with curl: start rtchaos-server on an ephemeral port,
# subscribe over SSE with curl, publish a few events (single,
# batch, idempotent repeat), and show them arriving; then resume from the
# last SSE id and stop the server with SIGTERM (it drains and exits 0).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${RTCHAOS_BIN:-bin}
[ -x "$BIN/rtchaos-server" ] || { echo "demo: build first (make)"; exit 2; }

tmp=$(mktemp -d)
srv_pid=""
sse_pid=""
cleanup() {
  [ -n "$sse_pid" ] && kill "$sse_pid" 2>/dev/null || true
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

"$BIN/rtchaos-server" --port 0 --heartbeat-ms 1000 >"$tmp/ready" 2>"$tmp/server.log" &
srv_pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/ready" 2>/dev/null && break; sleep 0.05; done
addr=$(awk '/^listening/ {print $2}' "$tmp/ready")
[ -n "$addr" ] || { echo "demo: server did not start"; cat "$tmp/server.log"; exit 3; }
echo "== rtchaos-server listening on $addr"

curl -sN --max-time 10 "http://$addr/sse?ch=demo" >"$tmp/sse" &
sse_pid=$!
# wait until the server has confirmed the subscription (its "subscribed"
# event), so the publishes below cannot race past it
for _ in $(seq 200); do grep -q '"type":"subscribed"' "$tmp/sse" 2>/dev/null && break; sleep 0.05; done
grep -q '"type":"subscribed"' "$tmp/sse" || { echo "demo: the SSE subscription did not open"; exit 3; }
echo "== publish"
curl -s -XPOST "http://$addr/publish/demo" -d '{"data":{"hello":"world"}}'; echo
curl -s -XPOST "http://$addr/publish/demo" -d '[{"data":1},{"data":2},{"data":3,"id":"order-3"}]'; echo
curl -s -XPOST "http://$addr/publish/demo" -d '{"data":3,"id":"order-3"}'; echo "   <- same id: the original seq, not delivered twice"
# the four events (seq 1..4; the repeat of order-3 is not delivered again)
for _ in $(seq 200); do grep -q '"seq":4,' "$tmp/sse" && break; sleep 0.05; done
echo "== what the SSE subscriber received"
cat "$tmp/sse"
last_id=$(awk '/^id: / {id=$2} END {print id}' "$tmp/sse")
echo "== long-poll: events after seq 2"
curl -s "http://$addr/poll?ch=demo&since=2"; echo
echo "== resume with Last-Event-ID after one more publish"
curl -s -XPOST "http://$addr/publish/demo" -d '{"data":"missed while away"}' >/dev/null
curl -sN --max-time 1 -H "Last-Event-ID: $last_id" "http://$addr/sse?ch=demo" | grep '^data' || true
echo "== metrics (excerpt)"
curl -s "http://$addr/metrics" | grep -E '^rtchaos_(messages_in|messages_out|resyncs)_total' || true
kill -TERM "$srv_pid"
wait "$srv_pid" && echo "== server drained and exited 0"
srv_pid=""
