#!/usr/bin/env bash
# Installs the Debian packages rtchaos builds, tests and benchmarks with.
# Only what is missing is installed; safe to run again. Needs root (or sudo).
set -euo pipefail

# Build and run-time libraries, test tools, report tools.
pkgs=(
  build-essential pkg-config clang libclang-rt-14-dev valgrind
  libwebsockets-dev libwebsockets-evlib-ev libev-dev libevent-dev libjansson-dev libyaml-dev
  libwslay-dev libhttp-parser-dev libjwt-dev libhiredis-dev libssl-dev
  libcmocka-dev gnuplot-nox
  # zlib: rtchaos-proxy decompresses and recompresses WebSocket messages of
  # connections that negotiated permessage-deflate (fault-injector/ws_deflate.c)
  zlib1g-dev
  redis-server chromium python3 python3-websockets python3-yaml
  # prometheus (with promtool): tests/integration/observe_*.py scrape the
  # harness's --metrics-addr endpoint and rtchaos-server with a real
  # Prometheus, and check deploy/prometheus/rules.yml with promtool;
  # observe_push.py pushes a run's final figures to a real Pushgateway
  prometheus prometheus-pushgateway
  curl procps iproute2 openssl
  # network: {namespaces: true} (docs/network.md): ip (iproute2) makes the
  # namespaces and the veth pair, tc (iproute2) the htb/netem qdiscs, nft
  # the loss/partition/reset rules; libcap2-bin's capsh drops privileges in
  # the test of the unprivileged refusal
  nftables libcap2-bin
  # man pages (man/, mdoc) are linted in make test; the Debian packages
  # (debian/) are built, checked and installed by .ci/run after make test
  mandoc debhelper dpkg-dev fakeroot lintian
  # systemd-analyze verify (package-test) reads the unit's man: Documentation
  man-db
  # a real third-party server for the protocol adapters' tests
  # (tests/integration/target_nchan.py: nginx + the nchan pub/sub module)
  nginx-light libnginx-mod-nchan
)
# Node.js and npm: tests/integration/proxy_npm_client.py drives rtchaos-proxy
# with the npm Toxiproxy client; target_socketio.py and target_pusher*.py run
# real Socket.IO and soketi (Pusher) servers, pinned in tests/package-lock.json
# and tests/soketi/package-lock.json and installed by `npm ci` from the tests
# (soketi's native uWebSockets.js ships builds for Node 16, 18 and 20). A machine may carry Node.js from elsewhere
# with its own npm; Debian's npm conflicts with that, so only install Node
# when there is none.
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
# Peers for bench/ only (never needed by the tests).
if [ "${RTCHAOS_BENCH:-0}" = 1 ]; then
  pkgs+=(haproxy socat)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all packages present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
