#!/usr/bin/env bash
# package-test.sh — what .ci/run does after `make test`: build the Debian
# packages from a copy of this tree and install them with apt-get
# (scripts/deb-install.sh: the CI recipes' install step), check them with
# lintian (no errors), run the smoke scenario
# from the installed files only (an empty folder, a bare environment, no path
# into the tree), check the version and the layout, verify the systemd unit,
# and purge them again. Needs root (apt-get) and scripts/deps.sh's packages.
#   RTCHAOS_PKG_KEEP=1   leave the packages installed and the build folder
set -euo pipefail
tree=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/rtchaos-pkg.XXXXXX)
pkgs=(rtchaos rtchaos-server rtchaos-proxy)
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
t0=$(date +%s)
say() { printf 'package-test [%3ss]: %s\n' "$(( $(date +%s) - t0 ))" "$*"; }
installed=0
cleanup() {
    local rc=$?
    if [ "$installed" = 1 ] && [ "${RTCHAOS_PKG_KEEP:-0}" != 1 ]; then
        $SUDO apt-get purge -y -qq "${pkgs[@]}" >/dev/null 2>&1 || true
    fi
    [ "${RTCHAOS_PKG_KEEP:-0}" = 1 ] || rm -rf "$work"
    [ $rc -eq 0 ] || say "FAILED (rc=$rc)"
    exit $rc
}
trap cleanup EXIT

version=$(cat "$tree/VERSION")
deb_version=$(cd "$tree" && dpkg-parsechangelog -S Version)
[ "$deb_version" = "$version" ] || { say "debian/changelog is at $deb_version, VERSION at $version"; exit 1; }

# A copy, so the build neither writes into the tree's parent (where
# dpkg-buildpackage puts the .debs) nor touches the developer's build/ and bin/.
# The binaries still carry the checkout's git describe.
mkdir -p "$work/src/rtchaos"
tar -C "$tree" --exclude=./build --exclude=./bin --exclude=./runs --exclude=./.git \
    --exclude='*/node_modules' --exclude=./debian/tmp -cf - . | tar -C "$work/src/rtchaos" -xf -
describe=""
if git -C "$tree" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    describe=$(git -C "$tree" describe --always --dirty --match 'v*' 2>/dev/null || true)
fi
[ "$describe" = "v$version" ] && describe=""
expect_version=$version${describe:++${describe#v}}
say "building $version packages (binaries: $expect_version) with scripts/deb-install.sh"
start=$(date +%s)
installed=1  # from here on, a failure purges whatever got installed
RTCHAOS_GIT_DESCRIBE="$describe" "$work/src/rtchaos/scripts/deb-install.sh" "$work/src/rtchaos" >"$work/build.log" 2>&1 \
    || { tail -n 40 "$work/build.log"; say "build or install failed (log: $work/build.log)"; exit 1; }
say "built and installed in $(( $(date +%s) - start ))s: $(cd "$work/src" && ls ./*.deb | tr '\n' ' ')"

for p in "${pkgs[@]}"; do
    [ "$(dpkg-query -W -f='${Version}' "$p")" = "$version" ] || { say "$p is not installed at $version"; exit 1; }
done
say "installed: ${pkgs[*]}"

# The checks of the built and installed packages below read them and start
# their own servers on ephemeral ports, so they run side by side (each into
# its own output file, shown in this order once all are done): lintian,
# the files, version and smoke run, the CI recipes, the systemd unit.
check_lintian() {
    changes=$(ls "$work"/src/rtchaos_*.changes)
    lintian --fail-on error "$changes" >"$work/lintian.log" 2>&1 \
        || { cat "$work/lintian.log"; say "lintian found errors"; exit 1; }
    say "lintian: no errors ($(grep -c '^W:' "$work/lintian.log" || true) warnings, $(grep -c '^I:' "$work/lintian.log" || true) info)"
    grep '^[WE]:' "$work/lintian.log" | sed 's/^/  /' || true
}

# from the installed files only: an empty folder, a bare environment
check_installed() {
    run=$(mktemp -d "$work/run.XXXXXX")
    bare=(env -i PATH=/usr/bin:/bin HOME="$run" LANG=C.UTF-8)
    cd "$run"
    [ "$("${bare[@]}" sh -c 'command -v rtchaos')" = /usr/bin/rtchaos ] || { say "rtchaos is not /usr/bin/rtchaos"; exit 1; }
    for b in rtchaos rtchaos-server rtchaos-proxy; do
        got=$("${bare[@]}" "$b" --version)
        [ "$got" = "$b $expect_version" ] || { say "$b --version: '$got', expected '$b $expect_version'"; exit 1; }
    done
    [ "$("${bare[@]}" rtchaos list dirs)" = /usr/share/rtchaos/scenarios ] || { say "rtchaos list dirs: not only /usr/share/rtchaos/scenarios"; exit 1; }
    for f in /usr/share/man/man1/rtchaos.1.gz /usr/share/man/man5/rtchaos-scenario.5.gz \
             /usr/share/man/man8/rtchaos-server.8.gz /usr/share/man/man8/rtchaos-proxy.8.gz \
             /usr/share/bash-completion/completions/rtchaos /usr/share/rtchaos/scenarios/suites/rfp.yaml \
             /usr/share/rtchaos/docs/runbooks/slow-consumers.md /usr/share/doc/rtchaos/docs/report-schema.md.gz \
             /lib/systemd/system/rtchaos-server.service /etc/default/rtchaos-server; do
        [ -e "$f" ] || { say "missing after install: $f"; exit 1; }
    done
    "${bare[@]}" rtchaos validate suites/rfp suites/drills >/dev/null
    rc=0
    "${bare[@]}" rtchaos run smoke --out smoke-run --quiet || rc=$?
    # 0; or 1 when only a latency budget failed (a loaded machine misses those):
    # every event must still have arrived once, in order
    [ $rc -le 1 ] || { say "rtchaos run smoke broke (rc=$rc)"; exit 1; }
    python3 - smoke-run/report.json "$rc" <<'PY' || { say "smoke: a correctness verdict failed"; exit 1; }
import json, sys
rep = json.load(open(sys.argv[1]))
failed = [v["name"] for v in rep["verdicts"] if not v["pass"]]
assert all(n.endswith("_ms") for n in failed), failed
assert rep["totals"]["delivered"] > 0 and all(rep["totals"][k] == 0 for k in ("lost", "duplicated", "reordered"))
assert (int(sys.argv[2]) == 1) == bool(failed)
if failed:
    print("package-test: smoke missed latency budgets on this machine:", failed)
PY
    grep -q "\"rtchaos_version\": *\"$expect_version\"" smoke-run/report.json \
        || { say "report.json does not carry rtchaos_version $expect_version"; exit 1; }
    grep -q "<property name=\"rtchaos.version\" value=\"$expect_version\"/>" smoke-run/junit.xml \
        || { say "junit.xml does not carry rtchaos.version"; exit 1; }
    say "rtchaos run smoke from the installed files: every event delivered once, in order (rc=$rc)"
}

# the CI recipes' steps (ci/), with the installed rtchaos against a local
# installed rtchaos-server standing in for staging
check_recipes() {
    RTCHAOS_BIN=/usr/bin RTCHAOS_RECIPE_INSTALLED=1 RTCHAOS_TEST_LOGS="$work/test-logs" \
        "$tree/tests/integration/ci_recipes.py" >"$work/recipes.log" 2>&1 \
        || { tail -n 30 "$work/recipes.log"; say "the CI recipes failed with the installed packages"; exit 1; }
    say "CI recipes (ci/github-actions.yml, ci/gitlab-ci.yml) with the installed packages: ok"
}

check_systemd() {
    if command -v systemd-analyze >/dev/null 2>&1; then
        systemd-analyze verify /lib/systemd/system/rtchaos-server.service >"$work/verify.log" 2>&1 \
            || { cat "$work/verify.log"; say "systemd-analyze verify failed"; exit 1; }
        if [ -s "$work/verify.log" ]; then cat "$work/verify.log"; say "systemd-analyze verify printed warnings"; exit 1; fi
        say "systemd-analyze verify rtchaos-server.service: clean"
        # the sandbox, scored by systemd itself (0 = locked down, 10 = exposed)
        exposure=$(systemd-analyze security --offline=true /lib/systemd/system/rtchaos-server.service 2>/dev/null \
                   | sed -n 's/.*Overall exposure level for rtchaos-server.service: \([0-9.]*\).*/\1/p')
        if [ -n "$exposure" ]; then
            awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' \
                || { say "rtchaos-server.service exposure $exposure (above 2.0): the hardening regressed"; exit 1; }
            say "systemd-analyze security: exposure $exposure"
        fi
    else
        say "systemd-analyze not available: unit not verified"
    fi
}

checks=(check_lintian check_installed check_recipes check_systemd)
pids=()
for c in "${checks[@]}"; do
    ( "$c" ) >"$work/$c.out" 2>&1 &
    pids+=($!)
done
failed=0
for i in "${!checks[@]}"; do
    wait "${pids[$i]}" || failed=1
    cat "$work/${checks[$i]}.out"
done
[ $failed -eq 0 ] || { say "a check of the installed packages failed (above)"; exit 1; }
cd /
[ "${RTCHAOS_PKG_KEEP:-0}" = 1 ] && { say "kept installed (RTCHAOS_PKG_KEEP=1), build in $work"; installed=0; exit 0; }

$SUDO apt-get purge -y -qq "${pkgs[@]}" >"$work/purge.log" 2>&1 || { tail "$work/purge.log"; exit 1; }
installed=0
for f in /usr/bin/rtchaos /usr/bin/rtchaos-server /usr/bin/rtchaos-proxy /usr/share/rtchaos \
         /usr/share/doc/rtchaos /etc/default/rtchaos-server /lib/systemd/system/rtchaos-server.service; do
    [ ! -e "$f" ] || { say "left behind after purge: $f"; exit 1; }
done
say "purged; nothing left behind"
