#!/usr/bin/env bash
# bench/proxy.sh — rtchaos-proxy next to its peers, measured in one run on
# this box: bulk throughput (one connection, 1 GiB) and small-message
# round-trip time (p50/p99 of 20,000 sequential 64-byte round trips) direct
# over loopback, through haproxy (mode tcp), through socat and through
# rtchaos-proxy with no toxic; then the accuracy of the latency toxic
# (latency=50 ms downstream, 1,000 stamped 64-byte messages 2 ms apart: the
# added delay minus 50 ms, against the same run without the toxic), and a
# connection storm (10,000 connect + 1-byte echo + close, 16 at a time).
# Not a test: it prints figures. Needs haproxy and socat.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${RTCHAOS_BIN:-$PWD/bin}
OUT=build/bench-proxy
MIB=${MIB:-1024}
RTT_N=${RTT_N:-20000}
mkdir -p "$OUT"
[ -x "$BIN/rtchaos-proxy" ] || make -s "$BIN/rtchaos-proxy"
cc -O2 -pthread -Wall -o "$OUT/proxy_load" bench/proxy_load.c
command -v haproxy >/dev/null && command -v socat >/dev/null || { echo "needs haproxy and socat" >&2; exit 2; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_line() { # file prefix -> waits up to 10 s for a line starting with prefix, prints it
  for _ in $(seq 100); do grep -m1 "^$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1" >&2; exit 1
}
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; exit 1; }

"$OUT/proxy_load" serve >"$OUT/serve.out" & pids+=($!)
UP=$(wait_line "$OUT/serve.out" port | awk '{print $2}')

"$BIN/rtchaos-proxy" --api-port 0 --seed 1 >"$OUT/proxy.out" 2>"$OUT/proxy.err" & pids+=($!)
API=$(wait_line "$OUT/proxy.out" api | awk '{print $2}')
RTC=$(curl -sf -XPOST "http://$API/proxies" -d "{\"name\":\"bench\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$UP\"}" \
      | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["listen"].rsplit(":",1)[1])')

# the same proxy without splice(2), to show what the user-space path costs
"$BIN/rtchaos-proxy" --api-port 0 --seed 1 --no-splice >"$OUT/proxy2.out" 2>"$OUT/proxy2.err" & pids+=($!)
API2=$(wait_line "$OUT/proxy2.out" api | awk '{print $2}')
RTC2=$(curl -sf -XPOST "http://$API2/proxies" -d "{\"name\":\"bench\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$UP\"}" \
      | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["listen"].rsplit(":",1)[1])')

HAP=$(free_port)
cat >"$OUT/haproxy.cfg" <<CFG
global
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 120s
  timeout server 120s
frontend f
  bind 127.0.0.1:$HAP
  default_backend b
backend b
  server s1 127.0.0.1:$UP
CFG
haproxy -db -f "$OUT/haproxy.cfg" >"$OUT/haproxy.log" 2>&1 & pids+=($!)
SOC=$(free_port)
socat "TCP-LISTEN:$SOC,bind=127.0.0.1,reuseaddr,fork,nodelay" "TCP:127.0.0.1:$UP,nodelay" & pids+=($!)
wait_port "$HAP"; wait_port "$SOC"

echo "rtchaos-proxy bench — $(date -u +%FT%TZ), $(nproc) cores, bulk ${MIB} MiB, ${RTT_N} round trips of 64 B"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the box skews every row alike)"
printf '%-22s %10s %12s %12s %12s %14s\n' target "bulk MB/s" "rtt p50 us" "rtt p99 us" "rtt max us" "storm conn/s"
for t in direct:$UP haproxy:$HAP socat:$SOC rtchaos-proxy:$RTC rtchaos-proxy/no-splice:$RTC2; do
  name=${t%%:*}; port=${t##*:}
  b1=$("$OUT/proxy_load" bulk "$port" "$MIB" | awk '{print $1}')
  b2=$("$OUT/proxy_load" bulk "$port" "$MIB" | awk '{print $1}')
  bulk=$(( b1 > b2 ? b1 : b2 ))
  read -r _ p50 _ p99 _ mx _ < <("$OUT/proxy_load" rtt "$port" "$RTT_N")
  storm=$("$OUT/proxy_load" storm "$port" 10000 16 || true)
  printf '%-22s %10s %12s %12s %12s %14s\n' "$name" "$bulk" "$p50" "$p99" "$mx" "${storm%% *}"
  case "$storm" in *" 0 failed") ;; *) echo "  storm through $name: $storm" ;; esac
done

echo
echo "latency toxic accuracy: latency=50 ms downstream, 1000 messages 2 ms apart (round trip through the proxy)"
read -r _ b50 _ b99 _ bmx _ < <("$OUT/proxy_load" paced "$RTC" 1000 2000)
curl -sf -XPOST "http://$API/proxies/bench/toxics" -d '{"type":"latency","attributes":{"latency":50}}' >/dev/null
read -r _ l50 _ l99 _ lmx _ < <("$OUT/proxy_load" paced "$RTC" 1000 2000)
late=$(curl -sf "http://$API/metrics" | awk -F'[ "]' '/^rtchaos_toxic_release_lateness_us\{.*quantile/ {printf "q%s=%sus ", $(NF-2), $NF}')
curl -sf -XDELETE "http://$API/proxies/bench/toxics/latency_downstream" >/dev/null
printf '  without toxic:  p50 %s  p99 %s  max %s us\n' "$b50" "$b99" "$bmx"
printf '  with 50 ms:     p50 %s  p99 %s  max %s us\n' "$l50" "$l99" "$lmx"
printf '  added - 50 ms:  p50 %+d  p99 %+d  max %+d us  (target: p99 within ±500 us)\n' \
  $(( l50 - 50000 - b50 )) $(( l99 - 50000 - b50 )) $(( lmx - 50000 - b50 ))
printf '  p99 with - p99 without - 50 ms: %+d us\n' $(( l99 - b99 - 50000 ))
echo "  the proxy's own release lateness (due time -> bytes handed to the socket): $late"
