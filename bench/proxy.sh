#!/usr/bin/env bash
# bench/proxy.sh — rtchaos-proxy next to its peers, measured in one run on
# this box: direct over loopback; through haproxy (Debian's, mode tcp, its
# default 2 threads) three ways: without splice, with `option splice-auto`
# (splices when its heuristics see bulk, as rtchaos-proxy does) and with
# `option splice-request` + `option splice-response` (always splices);
# through socat; through rtchaos-proxy with no toxic (its default: splice(2)
# by traffic shape, like splice-auto) and through rtchaos-proxy --no-splice.
# Every figure is a median over turns in which every peer takes its turn
# (interleaved), so a busy second on the shared box hits all peers alike.
# What it measures:
# - bulk: one connection, MIB MiB client → sink (256 KiB writes, 64 KiB
#   reads, the same load generator for every peer); MB/s, and the CPU time
#   of the client and of the sink's thread (their own CPU clocks) and of the
#   proxy process (/proc, socat with its forked children), per GiB, so the
#   split of the 2 cores can be read off.
# - rtt: RTT_N sequential 64-byte round trips through an echo server on one
#   connection per peer; p50/p99/max of all of them, and the p50 added to
#   direct's.
# - Other work on the box changes from second to second, so the peers take
#   turns: ROUNDS bulk transfers each (the figure is the median, with the
#   spread min–max next to it), and the round trips in RTT_ROUNDS bursts
#   (one connection per peer kept open throughout), RTT_REPS times (the
#   median of the repetitions' percentiles).
# - storm: STORM_N connect + 1-byte echo + close, 16 at a time, STORM_ROUNDS
#   turns per peer (median).
# - the HEADLINE line: rtchaos-proxy (spliced) against the best haproxy of
#   the three and against direct, bulk and added round-trip time.
# - latency toxic accuracy (rtchaos-proxy only): latency=50 ms downstream,
#   1,000 stamped 64-byte messages 2 ms apart, echoed by the server with its
#   send time. The added delay is taken on the server → client leg: from the
#   server's write to the kernel's receive stamp on the client socket
#   (SO_TIMESTAMPNS), with the toxic, minus the median of the same leg
#   without it, minus 50 ms: what the proxy adds, without the load
#   generator's own wake-ups. The round trip as the client's thread sees it
#   is printed too (it adds those wake-ups), and the proxy's own release
#   lateness from /metrics.
# - BASE_BIN=dir adds dir/rtchaos-proxy (another build, e.g. an older one,
#   default options) as the target rtchaos-proxy/base, in the same turns.
# Not a test: it prints figures. Needs haproxy and socat.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${RTCHAOS_BIN:-$PWD/bin}
OUT=build/bench-proxy
MIB=${MIB:-1024}
RTT_N=${RTT_N:-20000}
ROUNDS=${ROUNDS:-5}
RTT_ROUNDS=${RTT_ROUNDS:-40}
RTT_REPS=${RTT_REPS:-3}
STORM_N=${STORM_N:-10000}
STORM_ROUNDS=${STORM_ROUNDS:-3}
mkdir -p "$OUT"
[ -x "$BIN/rtchaos-proxy" ] || make -s "$BIN/rtchaos-proxy"
cc -O2 -pthread -Wall -Wextra -o "$OUT/proxy_load" bench/proxy_load.c
command -v haproxy >/dev/null && command -v socat >/dev/null || { echo "needs haproxy and socat" >&2; exit 2; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT


"$OUT/proxy_load" serve >"$OUT/serve.out" & pids+=($!)
UP=$(bench_wait_line "$OUT/serve.out" ^port | awk '{print $2}')

"$BIN/rtchaos-proxy" --api-port 0 --seed 1 >"$OUT/proxy.out" 2>"$OUT/proxy.err" & pids+=($!)
RTC_PID=$!
API=$(bench_wait_line "$OUT/proxy.out" ^api | awk '{print $2}')
RTC=$(curl -sf -XPOST "http://$API/proxies" -d "{\"name\":\"bench\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$UP\"}" \
      | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["listen"].rsplit(":",1)[1])')

# the same proxy without splice(2), to show what the user-space path costs
"$BIN/rtchaos-proxy" --api-port 0 --seed 1 --no-splice >"$OUT/proxy2.out" 2>"$OUT/proxy2.err" & pids+=($!)
RTC2_PID=$!
API2=$(bench_wait_line "$OUT/proxy2.out" ^api | awk '{print $2}')
RTC2=$(curl -sf -XPOST "http://$API2/proxies" -d "{\"name\":\"bench\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$UP\"}" \
      | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["listen"].rsplit(":",1)[1])')

BASE_T=()
if [ -n "${BASE_BIN:-}" ]; then
  "$BASE_BIN/rtchaos-proxy" --api-port 0 --seed 1 >"$OUT/proxy3.out" 2>"$OUT/proxy3.err" & pids+=($!)
  RTC3_PID=$!
  API3=$(bench_wait_line "$OUT/proxy3.out" ^api | awk '{print $2}')
  RTC3=$(curl -sf -XPOST "http://$API3/proxies" -d "{\"name\":\"bench\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$UP\"}" \
        | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["listen"].rsplit(":",1)[1])')
  BASE_T=(rtchaos-proxy/base:$RTC3:$RTC3_PID)
fi

# haproxy NAME OPTIONS... -> starts one haproxy, sets HAP (its port) and HAP_PID
haproxy_start() {
  local name=$1 opt; shift
  HAP=$(bench_free_port)
  {
    printf 'global\n  maxconn 4000\n  stats socket %s/%s.sock mode 600 level admin\n' "$PWD/$OUT" "$name"
    printf 'defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 120s\n  timeout server 120s\n'
    for opt in "$@"; do printf '  %s\n' "$opt"; done
    printf 'frontend f\n  bind 127.0.0.1:%s\n  default_backend b\n' "$HAP"
    printf 'backend b\n  server s1 127.0.0.1:%s\n' "$UP"
  } >"$OUT/$name.cfg"
  haproxy -db -f "$OUT/$name.cfg" >"$OUT/$name.log" 2>&1 & pids+=($!)
  HAP_PID=$!
  bench_wait_port "$HAP" || exit 1
}
haproxy_start haproxy
HAP0=$HAP HAP0_PID=$HAP_PID
haproxy_start haproxy-splice-auto "option splice-auto"
HAPA=$HAP HAPA_PID=$HAP_PID
haproxy_start haproxy-splice "option splice-request" "option splice-response"
HAPS=$HAP HAPS_PID=$HAP_PID
SOC=$(bench_free_port)
socat "TCP-LISTEN:$SOC,bind=127.0.0.1,reuseaddr,fork,nodelay" "TCP:127.0.0.1:$UP,nodelay" & pids+=($!)
SOC_PID=$!
bench_wait_port "$SOC" || exit 1

TCK=$(getconf CLK_TCK)
# CPU ticks of a process, with its reaped children (socat forks per connection)
ticks() { [ "$1" = 0 ] && echo 0 || awk '{print $14+$15+$16+$17}' "/proc/$1/stat"; }

targets=(direct:$UP:0 haproxy:$HAP0:$HAP0_PID haproxy/splice-auto:$HAPA:$HAPA_PID haproxy/splice:$HAPS:$HAPS_PID
         socat:$SOC:$SOC_PID rtchaos-proxy:$RTC:$RTC_PID rtchaos-proxy/no-splice:$RTC2:$RTC2_PID ${BASE_T[@]+"${BASE_T[@]}"})
declare -A BULK CCPU PCPU SCPU WALL RTT BM A50
for r in $(seq "$ROUNDS"); do
  for t in "${targets[@]}"; do
    IFS=: read -r name port pid <<<"$t"
    p0=$(ticks "$pid")
    read -r mbs _ cms _ kms _ < <("$OUT/proxy_load" bulk "$port" "$MIB")
    sleep 0.2 # socat's child for this connection exits and is counted
    p1=$(ticks "$pid")
    BULK[$name]+="$mbs "; CCPU[$name]+="$cms "; SCPU[$name]+="$kms "
    PCPU[$name]+="$(( (p1 - p0) * 1000 / TCK )) "
    WALL[$name]+="$(( MIB * 1048576 / mbs / 1000 )) "
  done
done
ports=(); for t in "${targets[@]}"; do IFS=: read -r _ port _ <<<"$t"; ports+=("$port"); done
declare -A R50 R99 RMX STORM
for _ in $(seq "$RTT_REPS"); do
  while read -r port _ p50 _ p99 _ mx _; do R50[$port]+="$p50 "; R99[$port]+="$p99 "; RMX[$port]+="$mx "; done \
    < <("$OUT/proxy_load" rtt-turns "$RTT_N" "$RTT_ROUNDS" "${ports[@]}")
done
med1() { bench_stats <<<"$1" | cut -d' ' -f1; }
for port in "${ports[@]}"; do RTT[$port]="$(med1 "${R50[$port]}") $(med1 "${R99[$port]}") $(med1 "${RMX[$port]}")"; done
STORM_FAIL=""
for _ in $(seq "$STORM_ROUNDS"); do
  for t in "${targets[@]}"; do
    IFS=: read -r name port _ <<<"$t"
    st=$("$OUT/proxy_load" storm "$port" "$STORM_N" 16 || true)
    STORM[$name]+="${st%% *} "
    case "$st" in *" 0 failed") ;; *) STORM_FAIL+="  storm through $name: $st"$'\n' ;; esac
  done
done
# did haproxy splice? (its own counter, which 2.6 spells TotalSplicdedBytesOut; 0 = the option did nothing)
hap_spliced() { echo "show info" | socat - "UNIX-CONNECT:$OUT/$1.sock" 2>/dev/null | awk -F': ' '/^TotalSpli[a-z]*BytesOut/ {print $2}'; }

echo "rtchaos-proxy bench — $(date -u +%FT%TZ), $(nproc) cores, $(haproxy -v | head -1 | cut -d' ' -f1-3), bulk ${MIB} MiB x ${ROUNDS} turns, ${RTT_N} round trips of 64 B per peer in ${RTT_ROUNDS} turns x ${RTT_REPS}, storm ${STORM_N} x ${STORM_ROUNDS} turns"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the box skews every row alike)"
echo "haproxy spliced bytes: splice-auto $(hap_spliced haproxy-splice-auto), splice-request/response $(hap_spliced haproxy-splice), none $(hap_spliced haproxy); rtchaos-proxy $(curl -sf "http://$API/metrics" | awk '/^rtchaos_proxy_spliced_bytes_total/ {s += $2} END {printf "%.0f", s}')"
printf '%-24s %20s %7s %7s %7s %7s %9s %13s\n' target "bulk MB/s (spread)" "×direct" "rtt p50" "p99" "max" "added p50" "storm conn/s"
read -r dmed _ < <(bench_stats <<<"${BULK[direct]}")
read -r d50 _ <<<"${RTT[$UP]}"
for t in "${targets[@]}"; do
  IFS=: read -r name port pid <<<"$t"
  read -r bm bl bh < <(bench_stats <<<"${BULK[$name]}")
  read -r r50 r99 rmx <<<"${RTT[$port]}"
  storm=$(med1 "${STORM[$name]}")
  printf '%-24s %6s %13s %7s %7s %7s %7s %9s %13s\n' "$name" "$bm" "($bl-$bh)" \
    "$(awk -v a="$bm" -v b="$dmed" 'BEGIN {printf "%.2f", a / b}')" "$r50" "$r99" "$rmx" "+$(( r50 - d50 ))" "${storm%% *}"
  BM[$name]=$bm; A50[$name]=$(( r50 - d50 ))
done
printf '%s' "$STORM_FAIL"
best=haproxy
for h in haproxy/splice-auto haproxy/splice; do [ "${BM[$h]}" -gt "${BM[$best]}" ] && best=$h; done
echo "HEADLINE: rtchaos-proxy (splice by traffic shape) bulk ${BM[rtchaos-proxy]} MB/s = $(awk -v a="${BM[rtchaos-proxy]}" -v b="$dmed" 'BEGIN {printf "%.2f", a / b}')x direct, $(awk -v a="${BM[rtchaos-proxy]}" -v b="${BM[$best]}" 'BEGIN {printf "%.2f", a / b}')x the best haproxy ($best ${BM[$best]} MB/s; without splice ${BM[haproxy]}); added RTT p50 +${A50[rtchaos-proxy]} us vs haproxy +${A50[haproxy]} / splice-auto +${A50[haproxy/splice-auto]} / splice +${A50[haproxy/splice]} us"

echo
echo "bulk CPU, ms per GiB (median over the rounds); cores busy = all three / wall time"
printf '%-24s %8s %8s %8s %8s %8s %11s\n' target wall client proxy sink total "cores busy"
for t in "${targets[@]}"; do
  name=${t%%:*}
  med() { bench_stats <<<"$1" | awk -v m="$MIB" '{printf "%d", $1 * 1024 / m}'; }
  w=$(med "${WALL[$name]}"); c=$(med "${CCPU[$name]}"); p=$(med "${PCPU[$name]}"); k=$(med "${SCPU[$name]}")
  printf '%-24s %8s %8s %8s %8s %8s %11s\n' "$name" "$w" "$c" "$p" "$k" "$(( c + p + k ))" \
    "$(awk -v a=$(( c + p + k )) -v b="$w" 'BEGIN {printf "%.2f", b ? a / b : 0}')"
done

echo
echo "latency toxic accuracy: latency=50 ms downstream, 1000 messages 2 ms apart"
paced() { "$OUT/proxy_load" paced "$RTC" 1000 2000 >"$OUT/paced.$1"; }
paced plain
curl -sf -XPOST "http://$API/proxies/bench/toxics" -d '{"type":"latency","attributes":{"latency":50}}' >/dev/null
paced toxic
late=$(curl -sf "http://$API/metrics" | awk -F'[ "]' '/^rtchaos_toxic_release_lateness_seconds\{.*quantile/ {printf "q%s=%.0fus ", $(NF-2), $NF * 1e6}')
curl -sf -XDELETE "http://$API/proxies/bench/toxics/latency_downstream" >/dev/null
for kind in leg rtt; do
  read -r _ _ b1 _ b50 _ b99 _ bmx _ < <(grep "^$kind " "$OUT/paced.plain")
  read -r _ _ l1 _ l50 _ l99 _ lmx _ < <(grep "^$kind " "$OUT/paced.toxic")
  if [ "$kind" = leg ]; then
    echo "  server → client leg, to the kernel's receive stamp (what the proxy adds):"
  else
    echo "  round trip as the client's thread sees it (adds the load generator's own wake-ups):"
  fi
  printf '    without toxic:  p1 %s  p50 %s  p99 %s  max %s us\n' "$b1" "$b50" "$b99" "$bmx"
  printf '    with 50 ms:     p1 %s  p50 %s  p99 %s  max %s us\n' "$l1" "$l50" "$l99" "$lmx"
  printf '    added - 50 ms (with - median without - 50 ms):  p1 %+d  p50 %+d  p99 %+d  max %+d us%s\n' \
    $(( l1 - 50000 - b50 )) $(( l50 - 50000 - b50 )) $(( l99 - 50000 - b50 )) $(( lmx - 50000 - b50 )) \
    "$([ "$kind" = leg ] && echo "  (target: p99 within ±500 us)")"
  printf '    same quantile, with - without - 50 ms (the shift the toxic adds):  p1 %+d  p50 %+d  p99 %+d us\n' \
    $(( l1 - b1 - 50000 )) $(( l50 - b50 - 50000 )) $(( l99 - b99 - 50000 ))
done
echo "  the proxy's own release lateness (due time -> release): $late"
