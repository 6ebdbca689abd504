#!/usr/bin/python3
"""harness_faulty_target — `rtchaos run` itself (not only the fleet's test
driver) fails its `lost == 0` budget against a server that drops events
(tests/lib/faulty_server.py --fault drop: every event with seq % 7 == 3 is
never sent, nor answered to a poll), for WebSocket, SSE and long-poll clients
alike: exit 1, the lost verdict failing with the count, each transport's
group losing events, and every lost example one the server dropped. The same
run against the same server without the fault passes (exit 0), so the
failure is the fault's."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import harnesstest as ht  # noqa: E402
import rtctest  # noqa: E402

SCENARIO = """
name: faulty-target
seed: 3
duration: 4s
warmup: 1s
drain: 4s
channels: {count: 2, pattern: "ft.{i}"}
publishers: {rate_per_s: 20, transport: http}
clients:
  - {name: ws, count: 6, transport: ws, channels_per_client: 2}
  - {name: sse, count: 6, transport: sse, channels_per_client: 2}
  - {name: poll, count: 6, transport: poll, channels_per_client: 1}
budgets:
  - lost == 0
"""


def run_against(fault, path):
    srv = rtctest.start("/usr/bin/python3", [os.path.join(HERE, "..", "lib", "faulty_server.py"),
                                            "--fault", fault, "--one-port"], ready_lines=2, name=f"faulty-{fault}")
    try:
        url = "http://" + srv.lines[1].split()[-1]
        return ht.run(path, "--target", url, "--quiet", timeout=120)
    finally:
        srv.stop()


def main():
    path = os.path.join(ht.tmpdir(), "faulty-target.yaml")
    with open(path, "w") as f:
        f.write(SCENARIO)

    r = run_against("drop", path)
    assert r.rc == 1, r.explain()
    v = ht.verdicts(r)["lost"]
    t = r.report["totals"]
    assert v["pass"] is False and v["value"] == t["lost"] > 0, (v, t)
    assert t["delivered"] > 0 and t["duplicated"] == 0 and t["reordered"] == 0, t
    for g in ("ws", "sse", "poll"):
        assert r.report["groups"][g]["lost"] > 0, (g, r.report["groups"][g])
    lost = [a for a in r.report["anomalies"] if a["kind"] == "lost"]
    assert lost and all(a["seq"] % 7 == 3 for a in lost), lost[:10]
    with open(os.path.join(r.dir, "junit.xml")) as f:
        assert "lost == 0" in f.read()
    print(f"drop: exit 1, lost={t['lost']} " + " ".join(f"{g}={r.report['groups'][g]['lost']}"
                                                      for g in ("ws", "sse", "poll")))

    r = run_against("none", path)
    assert r.rc == 0, r.explain() + "\n" + str(r.report and r.report.get("verdicts"))
    assert r.report["totals"]["lost"] == 0 and r.report["totals"]["delivered"] > 0, r.report["totals"]
    print("none: exit 0, nothing lost")
    print("ok")


if __name__ == "__main__":
    main()
