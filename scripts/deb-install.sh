#!/usr/bin/env bash
# deb-install.sh [SRC_DIR] — build rtchaos's Debian packages from a source
# tree and install them: the "install rtchaos" step of the CI recipes in ci/
# (docs/ci.md) and of scripts/package-test.sh. Debian 12 (or a derivative
# with the same -dev packages); needs root or sudo.
#   1. the build dependencies of SRC_DIR/debian/control (apt-get build-dep,
#      only when dpkg-checkbuilddeps finds some missing)
#   2. dpkg-buildpackage -us -uc -b in SRC_DIR (the .debs land in its parent)
#   3. apt-get install ./rtchaos_*.deb ./rtchaos-server_*.deb ./rtchaos-proxy_*.deb
# RTCHAOS_GIT_DESCRIBE, when set, is what the binaries' version carries after
# the '+' (mk/version.mk); by default the tree's own git describe.
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/..}" && pwd)
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# the first line of debian/changelog, "rtchaos (0.9.0) unstable; …" (read with
# sed: a fresh container has no dpkg-dev, so no dpkg-parsechangelog, yet)
version=$(sed -n '1s/^rtchaos (\([^)]*\)).*/\1/p' "$src/debian/changelog")
[ -n "$version" ] || { echo "deb-install: cannot read the version from $src/debian/changelog" >&2; exit 2; }

if ! command -v dpkg-checkbuilddeps >/dev/null 2>&1 || ! (cd "$src" && dpkg-checkbuilddeps) 2>/dev/null; then
    echo "deb-install: installing the build dependencies"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends dpkg-dev build-essential debhelper
    $SUDO apt-get build-dep -y -qq "$src"
fi
echo "deb-install: building rtchaos $version"
(cd "$src" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=$(nproc) nocheck}" dpkg-buildpackage -us -uc -b)
out=$(dirname "$src")
debs=()
for p in rtchaos rtchaos-server rtchaos-proxy; do
    debs+=("$(ls "$out/${p}_${version}"_*.deb)")
done
echo "deb-install: installing ${debs[*]##*/}"
$SUDO apt-get install -y -qq --no-install-recommends "${debs[@]}"
rtchaos --version
