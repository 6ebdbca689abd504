# shellcheck shell=bash
# bench/lib.sh — what the benchmark scripts share (sourced, not run): a free
# loopback port, waits for a port or a log line under a deadline,
# median/min/max of a series, and bench/server_scale.yaml's load.

# bench_free_port: prints a free TCP port on 127.0.0.1 (for servers that
# cannot pick their own and tell us; a race with another process shows as a
# failed readiness wait).
bench_free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# bench_wait_port PORT [SECONDS]: 0 once 127.0.0.1:PORT accepts a
# connection, 1 after SECONDS (default 10).
bench_wait_port() {
  local n=$(( ${2:-10} * 10 ))
  for _ in $(seq "$n"); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# bench_wait_line FILE ERE [SECONDS]: prints the first line of FILE matching
# the extended regex ERE once there is one; 1, with a message on stderr,
# after SECONDS (default 10).
bench_wait_line() {
  local n=$(( ${3:-10} * 10 ))
  for _ in $(seq "$n"); do grep -m1 -E "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "$(basename "$0"): timed out waiting for '$2' in $1" >&2
  return 1
}

# bench_stats: whitespace-separated numbers on stdin -> "median min max"
# (integers; the median of an even count is the lower middle one).
bench_stats() { tr -s ' \t' '\n\n' | grep . | sort -n | awk '{v[NR]=$1} END {printf "%d %d %d\n", v[int((NR+1)/2)], v[1], v[NR]}'; }

# bench_scale_load READY OUT CONNS RATE: once the server under test has
# printed "listening 127.0.0.1:PORT" into the file READY (5 s at most),
# starts bench/server_scale.yaml's load against it in the background, into
# OUT/run (harness output in OUT/harness.out): CONNS WebSocket clients ramped
# over 5 s, RATE events/s per channel from 9 s for 20 s. Sets BENCH_LOAD_PID;
# 3 when the server did not start. Uses $BIN.
bench_scale_load() {
  local line port
  line=$(bench_wait_line "$1" '^listening' 5) || { echo "bench: the server did not start"; return 3; }
  port=$(printf '%s\n' "$line" | awk -F: '{print $2}')
  "$BIN/rtchaos" run bench/server_scale.yaml --target "http://127.0.0.1:$port" --out "$2/run" --quiet \
    --set "clients.0.count=$3" --set clients.0.ramp_up=5s --set warmup=9s --set duration=20s \
    --set "publishers.rate_per_s=$4" --set drain=2s >"$2/harness.out" 2>&1 &
  BENCH_LOAD_PID=$!
}
