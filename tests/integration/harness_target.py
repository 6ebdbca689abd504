#!/usr/bin/python3
"""harness_target: `rtchaos run --target URL` tests a server someone else
runs — the harness starts no server, puts rtchaos-proxy in front of the
target only when the scenario has network faults (latency-spike), not when it
has none (reconnect-storm's cut is an admin call), and the shipped scenarios
pass against it with every check of tests/lib/harness_scenarios.py (this is
where those two scenarios run; harness_scenarios_a runs smoke)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness_scenarios  # noqa: E402
import rtctest  # noqa: E402


def main():
    srv = rtctest.start("rtchaos-server", ["--port", "0", "--heartbeat-ms", "1000"], name="target-server")
    host, port = rtctest.addr_of(srv.lines[0])
    url = f"http://{host}:{port}"
    try:
        for name, proxied in (("reconnect-storm", False), ("latency-spike", True)):
            r = harness_scenarios.check(name, "--target", url)
            assert r.report["target"] == url, r.report["target"]
            assert r.report["proxy"] is proxied, (name, r.report["proxy"])
            assert not os.path.exists(os.path.join(r.dir, "server.log")), "a server was started"
            assert os.path.exists(os.path.join(r.dir, "proxy.log")) == proxied
            assert srv.p.poll() is None, "the target server died"
    finally:
        rc = srv.stop()
    assert rc == 0, f"the target server exited {rc} on SIGTERM"
    print("ok")


if __name__ == "__main__":
    main()
