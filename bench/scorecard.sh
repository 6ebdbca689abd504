#!/usr/bin/env bash
# bench/scorecard.sh — the cross-server scorecard of docs/targets.md, made
# on this box: starts each real-time server on loopback, runs
# scenarios/suites/scorecard.yaml against it (`rtchaos run … --target URL
# --protocol P`), stops it, and renders every server's run side by side with
# `rtchaos scorecard` (scorecard.md / .html / .json).
#
#   bench/scorecard.sh                       # every server, one round
#   SERVERS="rtchaos nchan" bench/scorecard.sh
#   ROUNDS=3 bench/scorecard.sh              # servers take turns, 3 rounds: one scorecard
#                                            # per round, and scorecard-median.md (each
#                                            # figure's median and spread, bench/scorecard_median.py)
#   SHORT=1 bench/scorecard.sh               # the suite's --short form (seconds)
#   ONLY=cut,spike bench/scorecard.sh        # some entries (the suite's --only)
#   OUT=/tmp/sc bench/scorecard.sh           # default build/bench-scorecard
#
# Servers (each on 127.0.0.1, a free port, stopped when its run ends):
#   rtchaos   bin/rtchaos-server (contract v1), its defaults
#   nchan     nginx + Debian's libnginx-mod-nchan, the config of
#             tests/lib/nchantest.py (buffer 1000 messages, subscribers start
#             at the newest message)
#   socketio  tests/fixtures/socketio/server.js (npm socket.io 4.8.1 from
#             tests/package-lock.json), connection state recovery 10 s
#   soketi    soketi 1.6.1 (npm @soketi/soketi from tests/soketi/package-lock.json),
#             a Pusher Channels protocol 7 server; its defaults, one app
# A new server is one start_NAME function below that starts it, waits until
# it listens, and sets URL and ARGS (the suite's --protocol and --set
# options); see /work/notes and docs/targets.md "Scorecard".
#
# Not a test: it prints where the scorecard is. Exit 0 when every server's
# suite ran (its verdicts are in the scorecard, pass or fail), 3 when one
# could not be started or its suite broke.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
ROOT=$PWD
BIN=${RTCHAOS_BIN:-$ROOT/bin}
OUT=${OUT:-$ROOT/build/bench-scorecard}
SERVERS=${SERVERS:-rtchaos nchan socketio}
ROUNDS=${ROUNDS:-1}
SUITE=$ROOT/scenarios/suites/scorecard.yaml
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ -x "$BIN/rtchaos" ] && [ -x "$BIN/rtchaos-server" ] && [ -x "$BIN/rtchaos-proxy" ] || make -s all

pid=""
STOP_SIG=TERM
stop_server() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -"$STOP_SIG" "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  pid=""
  STOP_SIG=TERM
}
trap stop_server EXIT


# start_NAME DIR: start the server, logs in DIR; set pid, URL, ARGS.
start_rtchaos() {
  "$BIN/rtchaos-server" --host 127.0.0.1 --port 0 >"$1/server.out" 2>"$1/server.log" &
  pid=$!
  URL="http://$(bench_wait_line "$1/server.out" '^listening ' 20 | awk '{print $2}')"
  ARGS=()
}

start_nchan() {
  local nginx module port
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  module=/usr/lib/nginx/modules/ngx_nchan_module.so
  [ -x "$nginx" ] && [ -e "$module" ] || { echo "scorecard: nchan needs nginx-light and libnginx-mod-nchan (scripts/deps.sh)" >&2; return 1; }
  port=$(bench_free_port)
  mkdir -p "$1/nginx"
  cat >"$1/nginx/nginx.conf" <<EOF
load_module $module;
daemon off;
master_process off;
worker_processes 1;
error_log $1/nginx/error.log warn;
pid $1/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $1/nginx/body;
  proxy_temp_path $1/nginx/proxy;
  fastcgi_temp_path $1/nginx/fastcgi;
  uwsgi_temp_path $1/nginx/uwsgi;
  scgi_temp_path $1/nginx/scgi;
  server {
    listen 127.0.0.1:$port;
    location ~ ^/pub/([A-Za-z0-9._:-]+)\$ {
      nchan_publisher; nchan_channel_id \$1;
      nchan_message_buffer_length 1000; nchan_message_timeout 10m;
    }
    location ~ ^/sub/([A-Za-z0-9._:-]+)\$ {
      nchan_subscriber; nchan_channel_id \$1;
      nchan_subscriber_first_message newest; nchan_subscriber_timeout 5s;
    }
    location / { return 404; }
  }
}
EOF
  "$nginx" -p "$1/nginx" -c "$1/nginx/nginx.conf" </dev/null >/dev/null 2>&1 &
  pid=$!
  disown "$pid"    # nginx with nchan may abort at exit: not this script's news
  STOP_SIG=QUIT    # nginx: graceful stop (one process, master_process off)
  bench_wait_port "$port" 20 || { echo "scorecard: nginx did not listen; $1/nginx/error.log:" >&2; tail -5 "$1/nginx/error.log" >&2; return 1; }
  URL="http://127.0.0.1:$port"
  ARGS=(--protocol nchan)
}

start_socketio() {
  /usr/bin/python3 -c "import sys; sys.path.insert(0, 'tests/lib'); import npmdeps; npmdeps.ensure('socket.io')"
  NODE_PATH=$ROOT/tests/node_modules node tests/fixtures/socketio/server.js 10000 >"$1/server.out" 2>"$1/server.log" &
  pid=$!
  URL="http://$(bench_wait_line "$1/server.out" '^listening ' 20 | awk '{print $2}')"
  ARGS=(--protocol socketio --set 'target.sub_message=42["sub","{ch}"]' --set 'target.pub_path=/pub/{ch}')
}

start_soketi() {
  # soketi 1.6.1 (npm @soketi/soketi from tests/soketi/package-lock.json), a
  # Pusher Channels protocol 7 server: its WebSocket/API server, metrics
  # server and cluster discovery (UDP) all on 127.0.0.1 (as
  # tests/lib/soketitest.py does); a fresh app secret per start, handed to
  # rtchaos through the environment (never on a command line or in a file
  # of the run folder)
  /usr/bin/python3 -c "import sys; sys.path.insert(0, 'tests/lib'); import npmdeps; npmdeps.ensure('@soketi/soketi', where=npmdeps.SOKETI_DIR)"
  local port mport uport
  read -r port mport uport < <(/usr/bin/python3 -c 'import socket
ps = []
for kind in (socket.SOCK_STREAM, socket.SOCK_STREAM, socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind); s.bind(("127.0.0.1", 0)); ps.append(s)
print(*[s.getsockname()[1] for s in ps])')
  export PUSHER_APP_ID=rtchaos-app PUSHER_KEY=rtchaos-key
  PUSHER_SECRET=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  export PUSHER_SECRET
  cat >"$1/soketi.json" <<EOF
{"host": "127.0.0.1", "port": $port, "metrics.host": "127.0.0.1", "metrics.port": $mport,
 "cluster.address": "127.0.0.1", "cluster.hostname": "127.0.0.1", "cluster.port": $uport,
 "cluster.unicast": "127.0.0.1", "cluster.broadcast": "127.0.0.1", "shutdownGracePeriod": 200,
 "appManager.array.apps": [{"id": "$PUSHER_APP_ID", "key": "$PUSHER_KEY", "secret": "$PUSHER_SECRET",
   "maxConnections": -1, "enableClientMessages": false, "enabled": true, "maxBackendEventsPerSecond": -1,
   "maxClientEventsPerSecond": -1, "maxReadRequestsPerSecond": -1, "webhooks": []}]}
EOF
  # in its own folder (no .env of ours), without SOKETI_* of the caller (they override the file)
  (cd "$1" && exec env $(env | sed -n 's/^\(SOKETI_[^=]*\)=.*/-u \1/p') node \
     "$ROOT/tests/soketi/node_modules/@soketi/soketi/bin/server.js" start --config="$1/soketi.json" \
     </dev/null >"$1/server.log" 2>&1) &
  pid=$!
  bench_wait_port "$port" 20 || { echo "scorecard: soketi did not listen; $1/server.log:" >&2; tail -5 "$1/server.log" >&2; return 1; }
  sleep 0.5          # its HTTP API comes up with the WebSocket server; a moment for both
  rm -f "$1/soketi.json" # it holds the secret
  URL="http://127.0.0.1:$port"
  ARGS=(--protocol pusher)
}

rc=0
for r in $(seq "$ROUNDS"); do
  dirs=()
  for s in $SERVERS; do
    d=$OUT/r$r-$s
    rm -rf "$d" "$d.logs"
    mkdir -p "$d.logs"
    declare -F "start_$s" >/dev/null || { echo "scorecard: no start_$s in $0 (known: rtchaos nchan socketio soketi)" >&2; exit 2; }
    if ! "start_$s" "$d.logs"; then
      echo "scorecard: $s did not start" >&2
      stop_server
      rc=3
      continue
    fi
    echo "round $r: $s at $URL ${ARGS[*]}"
    src=0
    "$BIN/rtchaos" run "$SUITE" --target "$URL" "${ARGS[@]}" --out "$d" --quiet ${SHORT:+--short} \
      ${ONLY:+--only "$ONLY"} || src=$?
    stop_server
    # 0 pass, 1 a verdict failed: both are figures for the scorecard
    [ "$src" -le 1 ] || { echo "scorecard: $s: suite exit $src (see $d/index.md)" >&2; rc=3; }
    [ -f "$d/index.json" ] && dirs+=("$d")
  done
  [ "${#dirs[@]}" -gt 0 ] || { echo "scorecard: round $r: no server ran" >&2; exit 3; }
  "$BIN/rtchaos" scorecard "$OUT/scorecard-r$r" "${dirs[@]}"
  echo "round $r: $OUT/scorecard-r$r/scorecard.md"
done
if [ "$ROUNDS" -gt 1 ]; then
  # each figure's median over the rounds, with its spread (servers matched by protocol)
  /usr/bin/python3 bench/scorecard_median.py "$OUT"/scorecard-r*/scorecard.json >"$OUT/scorecard-median.md"
  echo "median of $ROUNDS rounds: $OUT/scorecard-median.md"
fi
exit $rc
