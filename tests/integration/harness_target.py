#!/usr/bin/python3
"""harness_target: `rtchaos run --target URL` tests a server someone else
runs — the harness starts no server, puts rtchaos-proxy in front of the
target only when the scenario has network faults, and the shipped
scenarios pass against it."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness_shipped as hs  # noqa: E402
import harnesstest as ht  # noqa: E402
import rtctest  # noqa: E402


def main():
    srv = rtctest.start("rtchaos-server", ["--port", "0", "--heartbeat-ms", "1000"], name="target-server")
    host, port = rtctest.addr_of(srv.lines[0])
    url = f"http://{host}:{port}"
    try:
        for name, proxied in (("smoke", False), ("latency-spike", True), ("reconnect-storm", False)):
            r = ht.run(name + ".yaml", *hs.args(name), "--target", url, "--quiet", timeout=150)
            assert r.rc == 0, f"{name}: " + r.explain() + "\n" + str(r.report and r.report.get("verdicts"))
            assert r.report["target"] == url, r.report["target"]
            assert r.report["proxy"] is proxied, (name, r.report["proxy"])
            assert not os.path.exists(os.path.join(r.dir, "server.log")), "a server was started"
            assert os.path.exists(os.path.join(r.dir, "proxy.log")) == proxied
            ht.assert_all_gone(r.child_pids())
            assert srv.p.poll() is None, "the target server died"
            print(f"{name}: ok")
    finally:
        rc = srv.stop()
    assert rc == 0, f"the target server exited {rc} on SIGTERM"
    print("ok")


if __name__ == "__main__":
    main()
