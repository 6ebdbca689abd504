#!/usr/bin/python3
"""Live metrics watched by a real Prometheus: `rtchaos run --metrics-addr`
serves Prometheus text that passes `promtool check metrics` while the run
goes on; a Prometheus (Debian package, loopback, generated config, temporary
storage, 1 s scrapes) scrapes the harness and rtchaos-server during a short
run with a fault window, and what its HTTP API returns matches report.json:
deliveries, publishes, latency count, clients connected by group and
transport, the fault's active window, and the server's own counts."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as H  # noqa: E402
import promtest as P  # noqa: E402
from srvtest import Server  # noqa: E402

SCENARIO = """
name: observe-live
seed: 7
duration: 7s
warmup: 1s
drain: 4s
channels: {count: 3, pattern: "obs.{i}"}
publishers: {rate_per_s: 20, payload_bytes: 64}
proxy: {enabled: true}
clients:
  - {name: fast, count: 12, transport: ws, channels_per_client: 2, ramp_up: 500ms}
  - {name: feed, count: 6, transport: sse, channels_per_client: 2, ramp_up: 500ms}
  - {name: legacy, count: 3, transport: poll, channels_per_client: 1}
faults:
  - {name: spike, at: 2s, for: 3s, toxic: latency, attributes: {latency: 120}}
budgets:
  - lost == 0
"""


def main():
    work = H.tmpdir()
    scen = os.path.join(work, "observe.yaml")
    with open(scen, "w") as f:
        f.write(SCENARIO)
    srv = Server()
    mport = P.free_port()
    prom = P.Prometheus({"harness": [f"127.0.0.1:{mport}"], "server": [f"127.0.0.1:{srv.port}"]})
    out = os.path.join(work, "run")
    p = subprocess.Popen([H.RTCHAOS, "run", scen, "--out", out, "--target", f"http://127.0.0.1:{srv.port}",
                          "--metrics-addr", f"127.0.0.1:{mport}", "--metrics-linger", "4s"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        # During the run: the page is valid exposition, and promtool agrees.
        murl = f"http://127.0.0.1:{mport}/metrics"
        page = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and p.poll() is None:
            try:
                page = P.scrape(murl)
                m = P.parse_text(page)
                if m.get('rtchaos_harness_fault_active{fault="spike",kind="latency"}') == 1:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert page, "the metrics endpoint never answered"
        m = P.parse_text(page)
        assert m['rtchaos_harness_fault_active{fault="spike",kind="latency"}'] == 1, "fault window not live"
        assert m["rtchaos_harness_finished"] == 0 and m["rtchaos_harness_publishing"] == 1, m
        rc, txt = P.promtool("check", "metrics", stdin=page)
        assert rc == 0, f"promtool check metrics:\n{txt}"
        assert P.scrape(f"http://127.0.0.1:{mport}/").startswith("rtchaos harness")

        so, se = p.communicate(timeout=120)
        assert p.returncode == 0, f"rc={p.returncode}\n{so}\n{se[-3000:]}"
        run = H.Run(p.returncode, so, se, out)
        rep = run.report
        tot = rep["totals"]
        # The linger let Prometheus take a sample of the final figures.
        assert H.wait_until(lambda: prom.query("last_over_time(rtchaos_harness_finished[2m]) == 1"),
                            timeout=20), "no final sample scraped"

        def last(expr):
            return prom.value(f"sum(last_over_time({expr}[2m]))")

        assert last("rtchaos_harness_deliveries_total") == tot["delivered"], (last("rtchaos_harness_deliveries_total"), tot)
        assert last('rtchaos_harness_deliveries_total{kind="live"}') == rep["latency_us"]["live"]["count"]
        assert last("rtchaos_harness_live_latency_seconds_count") == rep["latency_us"]["live"]["count"]
        assert last('rtchaos_harness_publish_events_total{outcome="acked"}') == tot["published"]
        assert last("rtchaos_harness_reconnects_total") == tot["reconnects"]
        for g in ("fast", "feed", "legacy"):
            assert last(f'rtchaos_harness_deliveries_total{{group="{g}"}}') == rep["groups"][g]["delivered"], g
        assert last("rtchaos_harness_exit_code") == 0
        assert last('rtchaos_harness_wire_bytes_total{direction="rx"}') == tot["bytes_rx"] > 0
        assert last('rtchaos_harness_wire_bytes_total{direction="tx"}') == tot["bytes_tx"] > 0
        # The latency histogram's sum is consistent with the report's mean.
        s = last("rtchaos_harness_live_latency_seconds_sum")
        n = rep["latency_us"]["live"]["count"]
        assert n > 0 and s > 0
        # Every client was seen connected with its group's transport.
        for g, tr, n in (("fast", "ws", 12), ("feed", "sse", 6), ("legacy", "poll", 3)):
            mx = prom.value(f'max_over_time(rtchaos_harness_clients_connected{{group="{g}",transport="{tr}"}}[2m])')
            assert mx == n, (g, tr, mx)
        # The fault was on (1) in some sample and off (0) at the end.
        assert prom.value('max_over_time(rtchaos_harness_fault_active{fault="spike"}[2m])') == 1
        assert prom.value('last_over_time(rtchaos_harness_fault_active{fault="spike"}[2m])') == 0
        # p99 from Prometheus's histogram_quantile sees the spike as the report does.
        q = prom.value("histogram_quantile(0.99, sum by (le) (last_over_time("
                       "rtchaos_harness_live_latency_seconds_bucket[2m])))")
        assert q * 1e6 >= 0.5 * rep["latency_us"]["live"]["p99"], (q, rep["latency_us"]["live"])
        # The server, scraped by the same Prometheus: it accepted every
        # published event and wrote at least what the clients received live.
        assert prom.value('max_over_time(up{job="server"}[2m])') == 1
        srv_in = prom.value('sum(max_over_time(rtchaos_messages_in_total[2m]))')
        assert srv_in == tot["published"], (srv_in, tot["published"])
        srv_out = prom.value('sum(max_over_time(rtchaos_messages_out_total[2m]))')
        assert srv_out >= tot["delivered"], (srv_out, tot["delivered"])
        print(f"ok: delivered {tot['delivered']}, published {tot['published']}, p99 {q*1e3:.1f} ms (prom) vs "
              f"{rep['latency_us']['live']['p99']/1e3:.1f} ms (report)")
    finally:
        H.kill_quietly(p)
        prom.stop()
        srv.stop()


if __name__ == "__main__":
    main()
