#!/usr/bin/python3
"""install_version: every binary answers --version with the one project
version (VERSION, plus git describe in a checkout), and the same version is in
the proxy's /version (Toxiproxy's shape kept), the server's /healthz, and a
run's report.json, junit.xml, report.html and report.md."""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import proxytest  # noqa: E402
import rtctest  # noqa: E402
import srvtest  # noqa: E402

BINS = ["rtchaos", "rtchaos-server", "rtchaos-proxy", "rtchaos-fleet-check"]


def main():
    with open(os.path.join(rtctest.ROOT, "VERSION")) as f:
        base = f.read().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", base), base
    versions = set()
    for b in BINS:
        p = subprocess.run([os.path.join(rtctest.BIN, b), "--version"], capture_output=True, text=True, timeout=10)
        assert p.returncode == 0, (b, p.returncode, p.stderr)
        name, ver = p.stdout.strip().split(" ")
        assert name == b, p.stdout
        # VERSION, or VERSION+<git describe> in a checkout that is not the tag
        assert ver == base or ver.startswith(base + "+"), (b, ver)
        versions.add(ver)
    assert len(versions) == 1, versions
    ver = versions.pop()
    # `rtchaos version` is the same as `rtchaos --version`
    p = subprocess.run([os.path.join(rtctest.BIN, "rtchaos"), "version"], capture_output=True, text=True, timeout=10)
    assert p.stdout.strip() == f"rtchaos {ver}", p.stdout
    # --version is in every --help (so the man page check covers it)
    for b in BINS:
        p = subprocess.run([os.path.join(rtctest.BIN, b), "--help"], capture_output=True, text=True, timeout=10)
        assert "--version" in p.stdout, (b, p.stdout)

    proc, api = proxytest.start_proxy()
    try:
        v = api.ok("GET", "/version")
        # Toxiproxy clients read "version"; rtchaos adds its own next to it
        assert v["version"].startswith("2."), v
        assert v["rtchaos"] == ver, v
    finally:
        proc.stop()

    srv = srvtest.Server()
    try:
        h = srv.json("GET", "/healthz")
        assert h["ok"] is True and h["version"] == ver, h
    finally:
        srv.stop()

    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "run")
        p = subprocess.run([os.path.join(rtctest.BIN, "rtchaos"), "run", os.path.join(rtctest.ROOT, "scenarios",
                            "smoke.yaml"), "--out", out, "--quiet", "--set", "duration=2s", "--set", "warmup=0s",
                            "--set", "drain=2s"], capture_output=True, text=True, timeout=120)
        assert p.returncode in (0, 1), (p.returncode, p.stderr)
        with open(os.path.join(out, "report.json")) as f:
            rep = json.load(f)
        assert rep["rtchaos_version"] == ver, rep.get("rtchaos_version")
        with open(os.path.join(out, "junit.xml")) as f:
            junit = f.read()
        assert f'<property name="rtchaos.version" value="{ver}"/>' in junit, junit[:600]
        with open(os.path.join(out, "report.html")) as f:
            assert f"<td>rtchaos</td><td>{ver}</td>" in f.read()
        with open(os.path.join(out, "report.md")) as f:
            assert f"| rtchaos | {ver} |" in f.read()
        # compare names the rtchaos of each report
        old = os.path.join(d, "old.json")
        with open(old, "w") as f:
            json.dump(dict(rep, rtchaos_version="0.0.1"), f)
        p = subprocess.run([os.path.join(rtctest.BIN, "rtchaos"), "compare", old, out], capture_output=True,
                           text=True, timeout=60)
        assert f"{old} (rtchaos 0.0.1)" in p.stdout and f"(rtchaos {ver})" in p.stdout, p.stdout[:400]
        # a report written by another rtchaos says so when re-rendered
        rep["rtchaos_version"] = "0.0.1"
        with open(os.path.join(out, "report.json"), "w") as f:
            json.dump(rep, f)
        p = subprocess.run([os.path.join(rtctest.BIN, "rtchaos"), "report", out], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, p.stderr
        with open(os.path.join(out, "report.html")) as f:
            assert f"<td>rtchaos</td><td>0.0.1 (rendered by {ver})</td>" in f.read()
    print("install_version: ok", ver)


if __name__ == "__main__":
    main()
