#!/usr/bin/python3
"""fleet_server — the fleet (bin/rtchaos-fleet-check) against the real
rtchaos-server over WS, SSE and long-poll, with a reconnect storm in the
middle: every transport must resume without an anomaly, catch up, and count
exactly what was published."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import rtctest  # noqa: E402


def run_fleet(port, *args, timeout=90):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tf:
        out = tf.name
    try:
        cmd = [os.path.join(rtctest.BIN, "rtchaos-fleet-check"), "--client", f"127.0.0.1:{port}",
               "--quiet", "--out", out] + [str(a) for a in args]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        assert p.returncode == 0, f"fleet-check rc={p.returncode}: {p.stderr.decode()[-2000:]}"
        with open(out) as f:
            return json.load(f)
    finally:
        os.unlink(out)


def check_clean(r, what, cut, cpc=1):
    t = r["totals"]
    for k in ("lost", "duplicated", "reordered", "resync_failed", "epoch_changed", "errors",
              "not_caught_up", "publish_failed"):
        assert t[k] == 0, f"{what}: {k}={t[k]}; anomalies={r['anomalies'][:5]}"
    assert t["published"] > 50, f"{what}: published only {t['published']}"
    assert t["delivered"] == t["expected"] and t["delivered"] > 0, f"{what}: {t}"
    assert r["caught_up"] is True, f"{what}: not caught up"
    lat = r["latency_us"]
    assert lat["live"]["count"] > 0 and lat["connect"]["count"] >= t["clients"], f"{what}: {lat}"
    if cut:
        assert t["reconnects"] == cut, f"{what}: reconnects {t['reconnects']} != {cut}"
        # one resync per stream (client and channel), one reconnect per client
        assert t["resync_ok"] == cut * cpc, f"{what}: resync_ok {t['resync_ok']} != {cut * cpc}"
        assert lat["resync"]["count"] == cut * cpc, f"{what}: {lat['resync']}"
        assert lat["reconnect"]["count"] == cut, f"{what}: {lat['reconnect']}"
    # the timeline adds up to the totals
    assert sum(row["delivered"] for row in r["timeline"]) == t["delivered"], f"{what}: timeline"
    assert sum(row["published"] for row in r["timeline"]) == t["published"], f"{what}: timeline"


def main():
    srv = rtctest.start("rtchaos-server", ["--port", "0", "--log-level", "warn"], name="fleet-server")
    _, port = rtctest.addr_of(srv.lines[0])
    for tr in ("ws", "sse", "poll"):
        r = run_fleet(port, "--transport", tr, "--clients", 40, "--channels", 4, "--cpc", 2,
                      "--rate", 20, "--duration-ms", 3000, "--cut-at-ms", 1500, "--cut-fraction", 0.5,
                      "--poll-timeout-ms", 2000, "--drain-ms", 15000, "--seed", 7)
        check_clean(r, tr, cut=20, cpc=2)
        print(f"ok {tr}: {r['totals']['delivered']} delivered, {r['totals']['resync_ok']} resyncs")
    # batches, poisson schedule, two threads, no cut
    r = run_fleet(port, "--transport", "ws", "--clients", 30, "--threads", 2, "--batch", 5,
                  "--schedule", "poisson", "--rate", 50, "--duration-ms", 2000)
    check_clean(r, "ws batch poisson", cut=0)
    # publishing over WebSocket, 4 in flight per connection, with a storm
    r = run_fleet(port, "--transport", "sse", "--clients", 20, "--pub-transport", "ws", "--batch", 4,
                  "--rate", 40, "--duration-ms", 2500, "--cut-at-ms", 1200, "--cut-fraction", 0.5,
                  "--drain-ms", 15000)
    check_clean(r, "ws publisher", cut=10)
    assert srv.stop() == 0
    print("ok")


if __name__ == "__main__":
    main()
