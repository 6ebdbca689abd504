#!/usr/bin/python3
"""harness_exit_codes: `rtchaos run` exits 0 when every verdict passes, 1
when a budget fails (the report and junit.xml say which; also a
correctness budget over no event checked), 2 for an invalid scenario or
command line (server faults with --target), 3 when the run itself breaks
(the server cannot start, the target is down or acknowledges no publish);
every child is reaped in each case."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import daemontest as dt  # noqa: E402
import harnesstest as ht  # noqa: E402

SHORT = ["--set", "duration=3s", "--set", "warmup=1s", "--set", "drain=3s",
         "--set", "clients.0.count=10", "--set", "clients.1.count=5", "--set", "clients.2.count=2",
         "--set", "budgets.5=p95_live_ms <= 5000"]  # correctness, not speed, on a shared box


def main():
    # 0: smoke passes.
    r = ht.run("smoke.yaml", *SHORT, "--quiet")
    assert r.rc == 0, r.explain()
    assert r.report["pass"] is True and r.report["schema"] == "rtchaos.report/1", r.report
    assert r.stdout.startswith("PASS smoke:"), r.stdout
    ht.assert_all_gone(r.child_pids())
    for f in ("report.json", "junit.xml", "events.jsonl", "scenario.json", "server.log", "report.html"):
        assert os.path.exists(os.path.join(r.dir, f)), f

    # 1: a budget that cannot hold fails its verdict, and only it.
    # A latency budget over an empty histogram (no resync in a run without
    # faults) fails as "not measured", like a missing metric: its summary's
    # 0 would pass any upper bound.
    r = ht.run("smoke.yaml", *SHORT, "--set", "budgets=[lost == 0, published == 0, resync_p95_ms <= 50]",
               "--json")
    assert r.rc == 1, r.explain()
    v = ht.verdicts(r)
    assert v["lost"]["pass"] is True and v["published"]["pass"] is False, v
    assert v["published"]["value"] > 0
    assert r.report["latency_us"]["resync"]["count"] == 0, r.report["latency_us"]["resync"]
    assert v["resync_p95_ms"]["pass"] is False and v["resync_p95_ms"]["value"] is None, v
    assert "not measured" in v["resync_p95_ms"]["error"] and "no samples" in v["resync_p95_ms"]["error"], v
    suite = ET.parse(os.path.join(r.dir, "junit.xml")).getroot().find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "2", ET.tostring(suite)
    assert '"exit_code":1' in r.stdout and '"pass":false' in r.stdout, r.stdout
    ht.assert_all_gone(r.child_pids())

    # 3, and 1: a target that answers everything 404 / 501 (a plain file
    # server: nothing subscribes, no publish is acknowledged) broke the run,
    # saying why; its correctness budgets checked no event, so "lost == 0"
    # fails as not measured (it once passed on nothing). A group that never
    # subscribed (bad-credentials' forged tokens) fails its own "lost == 0"
    # the same way while the legitimate group's passes: exit 1.
    port = dt.free_port()
    www = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                            "--directory", ht.tmpdir()], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert ht.wait_until(lambda: dt.port_open(port), 10)
        r = ht.run("smoke.yaml", *SHORT, "--target", f"http://127.0.0.1:{port}",
                   "--set", "budgets=[lost == 0, ws.duplicated == 0, errors > 0]")
    finally:
        www.terminate()
        www.wait(10)
    assert r.rc == 3, r.explain()
    assert "acknowledged none of" in r.report["error"] and "publish gave up: status 501" in r.report["error"], \
        r.report["error"]
    v = ht.verdicts(r)
    assert r.report["totals"]["expected"] == 0 and r.report["totals"]["published"] == 0, r.report["totals"]
    assert v["lost"]["pass"] is False and v["lost"]["value"] is None, v
    assert v["lost"]["error"] == "not measured (totals.expected is 0: no event was checked)", v
    assert v["ws.duplicated"]["pass"] is False and "groups.ws.delivered is 0" in v["ws.duplicated"]["error"], v
    assert v["errors"]["pass"] is True, v
    ht.assert_all_gone(r.child_pids())
    r = ht.run("abuse/bad-credentials.yaml", "--set", "duration=3s", "--set", "warmup=1s", "--set", "drain=3s",
               "--set", "budgets=[legit.lost == 0, forged.lost == 0, lost == 0]")
    assert r.rc == 1, r.explain()
    v = ht.verdicts(r)
    assert v["legit.lost"]["pass"] is True and v["lost"]["pass"] is True, v
    assert v["forged.lost"]["pass"] is False and "groups.forged.delivered is 0" in v["forged.lost"]["error"], v

    # 2: server-process faults are refused with --target (nothing is started).
    d = ht.tmpdir()
    bad = os.path.join(d, "kill.yaml")
    with open(bad, "w") as f:
        f.write("duration: 5s\nclients: [{count: 1}]\nfaults:\n  - {at: 1s, for: 1s, server: kill}\n")
    r = ht.run(bad, "--target", "http://127.0.0.1:9")
    assert r.rc == 2, r.explain()
    assert "faults[0]: 'server: kill' acts on the server's process" in r.stderr, r.stderr
    assert r.report is None
    r = ht.run("smoke.yaml", "--shard", "3/2")
    assert r.rc == 2 and "--shard 3/2" in r.stderr, r.explain()
    for bad_url, why in (("ftp://127.0.0.1:9", "expected http://HOST:PORT"),
                         ("http://127.0.0.1", "expected a port"),
                         ("http://127.0.0.1:99999", "port must be 1..65535"),
                         ("http://127.0.0.1:9/x?y=1", "may not contain '?'"),
                         ("http://127.0.0.1:9/a//b", "empty segment"),
                         ("http://127.0.0.1:9/a/../b", "dot segment"),
                         ("http://127.0.0.1:9/rt/.", "dot segment")):
        r = ht.run("smoke.yaml", "--target", bad_url)
        assert r.rc == 2 and why in r.stderr and r.report is None, (bad_url, r.explain())
    r = ht.run("smoke.yaml", "--bogus")
    assert r.rc == 2 and "unknown option '--bogus'" in r.stderr, r.explain()

    # 3: the server cannot start (a bad flag): a report that says why.
    r = ht.run("smoke.yaml", *SHORT, "--set", "server.args=[--no-such-flag]")
    assert r.rc == 3, r.explain()
    assert "the server could not start" in r.report["error"], r.report
    assert r.report["pass"] is False and r.report["exit_code"] == 3
    assert "the server could not start" in r.stderr
    suite = ET.parse(os.path.join(r.dir, "junit.xml")).getroot().find("testsuite")
    assert suite.find("testcase[@name='run']/error") is not None

    # 3: --target that accepts no connection.
    r = ht.run("smoke.yaml", *SHORT, "--target", "http://127.0.0.1:1")
    assert r.rc == 3, r.explain()
    assert "does not accept connections" in r.report["error"], r.report
    print("ok")


if __name__ == "__main__":
    main()
