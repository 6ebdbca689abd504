#!/usr/bin/python3
# rtchaos-test: serial (its runs are smoke with its p95_live_ms <= 100 budget)
"""--metrics-addr edges: a malformed address is exit 2 (command line and
scenario key, with file:line:col); a port someone else holds makes the run
exit 3 with "cannot listen" and leaves no child behind; with --workers 2 the
workers' clients show up on the parent's endpoint by group and transport."""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as H  # noqa: E402
import promtest as P  # noqa: E402

SHORT = ("--set", "duration=2s", "--set", "warmup=500ms", "--set", "drain=2s")


def main():
    r = H.run("smoke.yaml", "--metrics-addr", "nohost", *SHORT)
    assert r.rc == 2 and "HOST:PORT" in r.stderr, r.explain()
    r = H.run("smoke.yaml", "--metrics-addr", "127.0.0.1:70000", *SHORT)
    assert r.rc == 2 and "0..65535" in r.stderr, r.explain()
    p = subprocess.run([H.RTCHAOS, "validate", os.path.join(H.SCEN, "smoke.yaml"), "--set",
                        "harness.metrics_addr=127.0.0.1"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "--set harness.metrics_addr=127.0.0.1: metrics address" in p.stderr, p.stderr
    print("ok: malformed addresses are exit 2")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = H.run("smoke.yaml", "--metrics-addr", f"127.0.0.1:{port}", *SHORT)
    assert r.rc == 3 and "cannot listen" in r.stderr, r.explain()
    assert r.report and r.report.get("error"), "the broken run still writes its report"
    H.assert_all_gone(r.child_pids())
    print("ok: a taken port breaks the run (exit 3), children reaped")

    mport = P.free_port()
    out = os.path.join(H.tmpdir(), "run")
    p = subprocess.Popen([H.RTCHAOS, "run", os.path.join(H.SCEN, "smoke.yaml"), "--out", out, "--workers", "2",
                          "--metrics-addr", f"127.0.0.1:{mport}", "--quiet", "--set", "duration=4s",
                          "--set", "warmup=2s"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        best = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and p.poll() is None:
            try:
                m = P.parse_text(P.scrape(f"http://127.0.0.1:{mport}/metrics"))
                if sum(v for k, v in m.items() if k.startswith("rtchaos_harness_clients_connected")) == 100:
                    best = m
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert best, "the workers' 100 clients never all showed up connected"
        assert best['rtchaos_harness_clients_connected{group="ws",transport="ws"}'] == 60, best
        assert best['rtchaos_harness_clients_connected{group="sse",transport="sse"}'] == 30, best
        assert best['rtchaos_harness_clients_connected{group="poll",transport="poll"}'] == 10, best
        so, se = p.communicate(timeout=120)
        assert p.returncode in (0, 1), so + se  # smoke's latency budgets may fail on a loaded box
    finally:
        H.kill_quietly(p)
    print("ok: --workers 2: every worker's clients on the parent's endpoint")


if __name__ == "__main__":
    main()
