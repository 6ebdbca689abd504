#!/usr/bin/python3
"""The server's view beside the clients': the harness scrapes
rtchaos-server's /metrics during the run (report.json "server": samples,
final figures, a compare table, a flag), and report.md shows it.
- A clean run: the server's peak connections, events accepted and written
  equal what the clients measured; no flag.
- The proxy silently drops WebSocket messages (ws_drop): the clients lose
  events the server reports neither dropping nor announcing, and the report
  says so (flag "server_says_delivered").
- harness.server_metrics: off scrapes nothing."""
import os
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


def rows(rep):
    return {x["figure"]: (x["server"], x["clients"]) for x in rep["server"]["compare"]}


def main():
    r = run('budgets: ["lost == 0"]\n')
    assert r.rc == 0, r.explain()
    srv = r.report["server"]
    assert srv["url"].startswith("http://127.0.0.1:") and srv["scrape_errors"] == 0 and len(srv["samples"]) >= 3
    c = rows(r.report)
    assert c["peak connections"] == (8, 8), c
    assert c["events accepted / acknowledged"][0] == c["events accepted / acknowledged"][1] > 0, c
    assert c["events written / delivered"][0] == c["events written / delivered"][1] > 0, c
    assert srv["flag"] is None, srv["flag"]
    md = open(os.path.join(r.dir, "report.md")).read()
    assert "## Server's view" in md and "| events written / delivered |" in md
    print(f"ok clean: server wrote {c['events written / delivered'][0]}, clients got {c['events written / delivered'][1]}")

    r = run("""faults:
  - {name: drop, at: 0s, for: 4s, toxic: ws_drop, attributes: {probability: 0.05}}
budgets: ["lost > 0"]
""")
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

    r = run('harness: {server_metrics: "off"}\n')
    assert "server" not in r.report
    r2 = H.run(os.path.join(H.SCEN, "smoke.yaml"), "--set", "harness.server_metrics=ftp://x")
    assert r2.rc == 2 and "harness.server_metrics" in r2.stderr, r2.explain()
    print("ok: off scrapes nothing; a bad URL is exit 2")


if __name__ == "__main__":
    main()
