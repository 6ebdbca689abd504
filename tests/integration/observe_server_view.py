#!/usr/bin/python3
"""The server's view beside the clients': the harness scrapes
rtchaos-server's /metrics during the run (report.json "server": samples,
final figures, a compare table, a flag), and report.md shows it.
- A clean run: the server's peak connections, events accepted and written
  equal what the clients measured; no flag.
- The proxy silently drops WebSocket messages (ws_drop): the clients lose
  events the server reports neither dropping nor announcing, and the report
  says so (flag "server_says_delivered").
- The server's event loop busy share after the warm-up (mean, busiest
  scrape interval) is in report.json and the compare table.
- harness.server_metrics: off scrapes nothing.
- The server's samples are plotted beside the clients' figures
  (plots/server_*.svg/png, in report.html and report.md): every series the
  plot names is drawn with data (check_plot fails when one is missing)."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as H  # noqa: E402

BASE = """
name: server-view
seed: 11
duration: 4s
warmup: 1s
drain: 3s
channels: {count: 2, pattern: "sv.{i}"}
publishers: {rate_per_s: 20, payload_bytes: 64}
clients:
  - {name: ws, count: 8, transport: ws, channels_per_client: 2}
"""


def run(extra, *args):
    d = H.tmpdir()
    p = os.path.join(d, "sv.yaml")
    with open(p, "w") as f:
        f.write(BASE + extra)
    r = H.run(p, *args)
    assert r.rc in (0, 1) and r.report, r.explain()
    return r


# plot -> the series (key titles) it must draw, each with data points
SERVER_PLOTS = {
    "server_connections": ["server: WebSocket", "server: SSE", "server: long-poll", "clients connected"],
    "server_latency": ["server p95 (bucket bound)", "clients p95"],
    "server_backpressure": ["drop: events dropped", "coalesce: events coalesced", "snapshot: events replaced",
                            "snapshot: snapshots queued", "disconnect: connections shed", "gaps sent",
                            "snapshots sent"],
    "server_queues": ["deepest connection (msgs, left)", "all connections (msgs, left)", "queued bytes (right)"],
}


def drawn_series(svg):
    """{key title: number of data points drawn} of a gnuplot SVG: each plot
    item starts with <g id="gnuplot_plot_N">, then its key title, then one
    path whose first segment is the key's sample line and the rest the data
    (an item with no data has only the sample)."""
    out = {}
    for chunk in svg.split('<g id="gnuplot_plot_')[1:]:
        t = re.search(r"<text>([^<]*)</text>", chunk)
        d = re.search(r"d='([^']*)'", chunk[t.end():]) if t else None
        if t and d:
            out[t.group(1)] = max(0, len(re.findall(r"[ML]\d", d.group(1))) - 2)
    return out


def check_plot(run_dir, name, titles):
    """plots/NAME.svg and .png exist and draw every series in titles with
    data; report.html embeds it, report.md links it."""
    for ext in ("svg", "png"):
        assert os.path.getsize(os.path.join(run_dir, "plots", f"{name}.{ext}")) > 1000, f"no plots/{name}.{ext}"
    with open(os.path.join(run_dir, "plots", f"{name}.svg")) as f:
        drawn = drawn_series(f.read())
    for t in titles:
        assert t in drawn, f"{name}: series {t!r} is not in the plot (has {sorted(drawn)})"
        assert drawn[t] >= 2, f"{name}: series {t!r} has no data drawn ({drawn[t]} points)"
    with open(os.path.join(run_dir, "report.html")) as f:
        assert f'id="plot-{name}"' in f.read(), f"report.html does not embed {name}"
    with open(os.path.join(run_dir, "report.md")) as f:
        assert f"(plots/{name}.png)" in f.read(), f"report.md does not link {name}"
    return drawn


def rows(rep):
    return {x["figure"]: (x["server"], x["clients"]) for x in rep["server"]["compare"]}


def main():
    # the clean, the flagged and the unscraped run share nothing (each its
    # own server and ports): side by side, checked in order
    clean, flagged, off = H.side_by_side([(run, ('budgets: ["lost == 0"]\n',), {}), (run, ("""faults:
  - {name: drop, at: 0s, for: 4s, toxic: ws_drop, attributes: {probability: 0.05}}
budgets: ["lost > 0"]
""",), {}),
                                          (run, ('harness: {server_metrics: "off"}\n',), {})])
    r = clean
    assert r.rc == 0, r.explain()
    srv = r.report["server"]
    assert srv["url"].startswith("http://127.0.0.1:") and srv["scrape_errors"] == 0 and len(srv["samples"]) >= 3
    c = rows(r.report)
    assert c["peak connections"] == (8, 8), c
    assert c["events accepted / acknowledged"][0] == c["events accepted / acknowledged"][1] > 0, c
    assert c["events written / delivered"][0] == c["events written / delivered"][1] > 0, c
    assert srv["flag"] is None, srv["flag"]
    # its event loop's busy share after the warm-up (rtchaos_loop_busy_seconds_total): a light load
    assert 0 < srv["loop_busy_mean"] <= srv["loop_busy_peak"] < 0.5, (srv["loop_busy_mean"], srv["loop_busy_peak"])
    assert all("loop_busy_s" in x for x in srv["samples"] if "error" not in x)
    md = open(os.path.join(r.dir, "report.md")).read()
    assert "## Server's view" in md and "| events written / delivered |" in md
    assert "| event loop busy share, busiest scrape interval (0..1) |" in md
    print(f"ok clean: server wrote {c['events written / delivered'][0]}, clients got {c['events written / delivered'][1]}")
    for name, titles in SERVER_PLOTS.items():
        check_plot(r.dir, name, titles)
    # server.dat: one row per good sample, the server's figures in it
    with open(os.path.join(r.dir, "plots", "server.dat")) as f:
        dat = [ln.split() for ln in f if not ln.startswith("#")]
    assert len(dat) == sum(1 for x in srv["samples"] if "error" not in x), len(dat)
    assert max(float(x[1]) for x in dat) == 8, "server.dat: WebSocket connections column"
    # no broker in this run: no broker-lag plot
    assert not os.path.exists(os.path.join(r.dir, "plots", "server_broker_lag.svg"))
    print(f"ok plots: {', '.join(SERVER_PLOTS)} drawn with every series")

    r = flagged
    assert r.rc == 0, r.explain()
    lost = r.report["totals"]["lost"]
    flag = r.report["server"]["flag"]
    assert flag and flag.startswith("server_says_delivered") and f"lost {lost} events" in flag, (lost, flag)
    c = rows(r.report)
    assert c["dropped by backpressure / lost"] == (0, lost), c
    pdrop = c["messages dropped by the proxy's toxics (at least) / lost"][0]
    # the proxy's own count explains the loss; sampled once a second and gone
    # with the toxic, so it is a lower bound
    assert pdrop > 0, (pdrop, lost)
    assert "the proxy's toxics report dropping messages" in flag, flag
    assert r.report["proxy_metrics"]["scrape_errors"] == 0
    md = open(os.path.join(r.dir, "report.md")).read()
    assert "DISAGREEMENT: server_says_delivered" in md
    print(f"ok flagged: clients lost {lost}, server dropped 0: {flag[:60]}…")

    r = off
    assert "server" not in r.report
    r2 = H.run(os.path.join(H.SCEN, "smoke.yaml"), "--set", "harness.server_metrics=ftp://x")
    assert r2.rc == 2 and "harness.server_metrics" in r2.stderr, r2.explain()
    print("ok: off scrapes nothing; a bad URL is exit 2")


if __name__ == "__main__":
    main()
