#!/usr/bin/python3
"""fleet_workers — the fleet spread over worker processes and several
loopback source addresses, against the real rtchaos-server: the merged report
must be as exact as a single process's (every client counted once, delivered
== expected, histograms and timeline adding up), and slow consumers must not
disturb fast ones."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import rtctest  # noqa: E402


def run_fleet(port, *args):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tf:
        out = tf.name
    try:
        cmd = [os.path.join(rtctest.BIN, "rtchaos-fleet-check"), "--client", f"127.0.0.1:{port}",
               "--quiet", "--out", out] + [str(a) for a in args]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        assert p.returncode == 0, f"rc={p.returncode}: {p.stderr.decode()[-2000:]}"
        with open(out) as f:
            return json.load(f)
    finally:
        os.unlink(out)


def main():
    srv = rtctest.start("rtchaos-server", ["--port", "0", "--log-level", "warn"], name="fleet-workers")
    _, port = rtctest.addr_of(srv.lines[0])
    r = run_fleet(port, "--clients", 61, "--cpc", 2, "--channels", 5, "--workers", 3, "--threads", 2,
                  "--src", "127.0.0.2,127.0.0.3,127.0.0.4", "--duration-ms", 3000, "--cut-at-ms", 1500,
                  "--cut-fraction", 0.5, "--drain-ms", 15000, "--seed", 11)
    t = r["totals"]
    for k in ("lost", "duplicated", "reordered", "resync_failed", "epoch_changed", "errors",
              "not_caught_up", "workers_failed"):
        assert t[k] == 0, f"{k}={t[k]}: {r['anomalies'][:5]}"
    assert t["clients"] == 61 and t["workers"] == 3, t
    assert t["delivered"] == t["expected"] > 0, t
    assert r["caught_up"] is True
    lat = r["latency_us"]
    assert lat["live"]["count"] + lat["replay"]["count"] == t["delivered"], (lat, t)
    assert lat["connect"]["count"] == 61 + t["reconnects"], (lat["connect"], t)
    assert sum(x["delivered"] for x in r["timeline"]) == t["delivered"]
    assert max(x["connected"] for x in r["timeline"]) == 61
    print(f"ok workers: {t['delivered']} delivered by 61 clients in 3 processes, {t['resync_ok']} resyncs")

    # slow SSE consumers (300 B/s, far below the stream) beside fast WS ones:
    # the fast ones stay clean; the slow ones fall behind without false alarms
    r = run_fleet(port, "--clients", 10, "--transport", "sse", "--read-rate-bytes", 300, "--rate", 50,
                  "--payload", 512, "--duration-ms", 2000, "--drain-ms", 2000, "--seed", 12)
    t = r["totals"]
    assert t["duplicated"] == 0 and t["reordered"] == 0 and t["errors"] == 0, t
    # the throttle held while the run lasted (2 s): at 300 B/s a client reads
    # about one 512-byte event a second, far below the ~25 a second it is sent;
    # only from the drain on do slow consumers read at full speed (so totals
    # alone cannot tell a throttled run from an unthrottled one)
    during = sum(x["delivered"] for x in r["timeline"] if x["t_s"] < 2)
    assert during < t["delivered"] // 4, f"slow consumers were not held back: {during} of {t['delivered']} in the run"
    print(f"ok slow consumers: {during} delivered during the run, {t['delivered']} in all, lost {t['lost']}, gaps {t['gaps']}")
    assert srv.stop() == 0
    print("ok")


if __name__ == "__main__":
    main()
