#!/usr/bin/python3
"""reports_suite_alerts — a drill's alerts evaluated on what its run
recorded. A small suite (the shipped rules, the drills' time scale) runs
the reconnect-storm drill twice, short: its run records the server's, the
proxy's and the harness's own metrics every second (series.yml), and
promtool evaluates the rules over them.

1. `storm`: RtchaosReconnectStorm must fire (half the clients cut at 2 s)
   and RtchaosStreamingRefused stay quiet: the entry passes, the index says
   when the storm alert fired (after the cut, within the run), the files
   promtool used are in the run folder and pass `promtool test rules` on
   their own.
2. `wrong`: the same run naming RtchaosSlowConsumersShed as must-fire and
   RtchaosReconnectStorm as must-stay-quiet: the entry FAILS, saying both.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as H  # noqa: E402
import promtest as P  # noqa: E402
import rtctest  # noqa: E402

ROOT = rtctest.ROOT
STORM_AT_S = 2.0


def main():
    d = H.tmpdir()
    suite = os.path.join(d, "alerts.yaml")
    scen = os.path.join(ROOT, "scenarios", "drills", "reconnect-storm.yaml")
    rules = os.path.join(ROOT, "deploy", "prometheus", "rules.yml")
    short = '["duration=8s", "warmup=1s", "drain=4s", "faults.0.at=2s", "clients.0.count=60", "clients.1.count=20"]'
    with open(suite, "w") as f:
        f.write(f"""suite: alerts-test
title: "alerts evaluated on a drill's recorded series"
alerts: {{rules: {rules}, time_scale: 20}}
entries:
  - id: storm
    title: storm fires its alert
    scenario: {scen}
    set: {short}
    alerts: {{fire: [RtchaosReconnectStorm], quiet: [RtchaosStreamingRefused]}}
    drill: {{}}
  - id: wrong
    title: the same run with the wrong expectations
    scenario: {scen}
    set: {short}
    alerts: {{fire: [RtchaosSlowConsumersShed], quiet: [RtchaosReconnectStorm]}}
    drill: {{}}
""")
    out = os.path.join(d, "out")
    r = subprocess.run([H.RTCHAOS, "run", suite, "--out", out], capture_output=True, text=True, timeout=240)
    print(r.stdout, r.stderr)
    assert r.returncode == 1, f"suite exit {r.returncode}, expected 1 (one entry fails)"
    with open(os.path.join(out, "index.json")) as f:
        idx = {e["id"]: e for e in json.load(f)["entries"]}

    storm = idx["storm"]
    assert storm["status"] == "pass", f"storm: {storm['status']} {storm.get('why')}"
    al = storm["alerts"]
    assert al["pass"] is True and al["time_scale"] == 20, al
    exp = {a["alert"]: a for a in al["expect"]}
    st = exp["RtchaosReconnectStorm"]
    assert st["fired"] and st["pass"], st
    # fired after the cut and within the run (run time: t = 0 after warm-up)
    assert STORM_AT_S <= st["first_s"] <= 8.5, f"storm alert fired at {st['first_s']} s"
    assert st["last_s"] >= st["first_s"]
    q = exp["RtchaosStreamingRefused"]
    assert not q["fired"] and q["pass"] and q["first_s"] is None, q
    assert "RtchaosReconnectStorm fired at" in storm["answer_text"], storm["answer_text"]
    assert "RtchaosStreamingRefused quiet" in storm["answer_text"], storm["answer_text"]
    run = os.path.join(out, "storm")
    for name in ("series.yml", "alert_rules.yml", "alert_test.yml", "alert_test.log", "alerts.json"):
        assert os.path.exists(os.path.join(run, name)), f"storm: no {name}"
    with open(os.path.join(run, "series.yml")) as f:
        series = f.read()
    # the drill's server and the harness's own page (this drill runs no proxy)
    for job in ("rtchaos-server", "rtchaos-harness"):
        assert f'job="{job}"' in series, f"series.yml has nothing from {job}"
    assert "rtchaos_connections_total{" in series and "rtchaos_harness_deliveries_total{" in series
    # the scaled rules: the shipped storm rule's 2m window and 30s `for:` on a 1/20 clock
    with open(os.path.join(run, "alert_rules.yml")) as f:
        scaled = f.read()
    assert '{transport=~"ws|sse"}[6s]' in scaled and "for: 1500ms" in scaled, scaled[:800]
    rc, outp = P.promtool("check", "rules", os.path.join(run, "alert_rules.yml"))
    assert rc == 0, outp
    # the generated test stands on its own
    rc, outp = P.promtool("test", "rules", os.path.join(run, "alert_test.yml"))
    assert rc == 0, outp
    with open(os.path.join(out, "index.md")) as f:
        md = f.read()
    assert "RtchaosReconnectStorm fired at" in md

    wrong = idx["wrong"]
    assert wrong["status"] == "FAIL", wrong
    assert "RtchaosSlowConsumersShed did not fire" in wrong["why"], wrong["why"]
    assert "RtchaosReconnectStorm fired" in wrong["why"], wrong["why"]
    assert wrong["alerts"]["pass"] is False and wrong["alerts"]["promtool_exit"] == 1, wrong["alerts"]
    print(f"ok: storm alert fired at {st['first_s']:.0f} s (cut at {STORM_AT_S:.0f} s), "
          f"quiet one quiet; wrong expectations fail: {wrong['why']}")


if __name__ == "__main__":
    main()
