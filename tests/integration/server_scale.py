#!/usr/bin/python3
"""rtchaos-server at scale (correctness, not speed): 5,000 WebSocket and
1,000 SSE clients of the harness fleet on 100 channels
(tests/fixtures/server_scale.yaml) against a server that pings every 2 s.
Every event arrives once and in order (the run's budgets: nothing lost,
duplicated or reordered, no reconnects), no client that answers pings is
closed as idle (rtchaos_idle_closes_total stays 0 while pings went out),
and /healthz answers throughout the run."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402
import rtctest  # noqa: E402
from srvtest import Server  # noqa: E402

SCENARIO = os.path.join(rtctest.ROOT, "tests", "fixtures", "server_scale.yaml")


def main():
    srv = Server("--ws-ping-s", "2", "--idle-timeout-s", "10", "--heartbeat-ms", "2000",
                 "--log-level", "warn")
    health = {"ok": 0, "bad": [], "stop": False}

    def poll_health():  # one /healthz a quarter second, each must be answered 200
        while not health["stop"]:
            try:
                st, _, _ = srv.request("GET", "/healthz", timeout=10)
                if st == 200:
                    health["ok"] += 1
                else:
                    health["bad"].append(st)
            except Exception as e:  # noqa: BLE001 - reported below
                health["bad"].append(repr(e))
            time.sleep(0.25)

    th = threading.Thread(target=poll_health)
    th.start()
    try:
        t0 = time.monotonic()
        r = ht.run(SCENARIO, "--target", f"http://127.0.0.1:{srv.port}", "--quiet", timeout=240)
        took = time.monotonic() - t0
        health["stop"] = True
        th.join(15)
        assert r.rc == 0, r.explain() + "\n" + str(r.report and r.report.get("verdicts"))
        t = r.report["totals"]
        assert t["clients"] == 6000, t
        assert t["lost"] == 0 and t["duplicated"] == 0 and t["reordered"] == 0, t
        assert t["reconnects"] == 0, t
        assert t["delivered"] >= t["published"] * 50, t  # 6000 clients on 100 channels: 60 per channel
        m = srv.metrics()
        assert m['rtchaos_idle_closes_total{transport="ws"}'] == 0, m
        assert m['rtchaos_idle_closes_total{transport="sse"}'] == 0, m
        assert m['rtchaos_fd_refusals_total{how="answered"}'] == 0, m
        assert m['rtchaos_fd_refusals_total{how="closed"}'] == 0, m
        assert not health["bad"], health["bad"][:10]
        # at least one answer every 2 s of the run (a loaded box is slow, not silent)
        assert health["ok"] >= took / 2, (health["ok"], took)
        print(f"published={t['published']} delivered={t['delivered']} healthz={health['ok']} "
              f"in {took:.0f}s; p99 live {r.report['latency_us']['live']['p99']} us")
    finally:
        health["stop"] = True
        th.join(15)
        assert srv.stop() == 0
    print("ok")


if __name__ == "__main__":
    main()
