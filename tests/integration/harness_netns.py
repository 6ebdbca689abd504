#!/usr/bin/python3
# rtchaos-test: serial (the server must let go of a cut link within 8 s, measured by the harness's 500 ms sampling: the nice-10 lane can starve it)
"""harness_netns: `rtchaos run` with network: {namespaces: true} end to end,
shortened: lossy-network applies and lifts each loss fault once, in order,
logged in events.jsonl and report.json with its mechanism and the loss it
measured, the server side retransmits, nothing is lost; silent-partition's
server lets go of the cut connections within its idle time and the clients
resync with nothing lost; SIGTERM mid-run tears the namespaces down; no run
leaves a namespace behind. Needs root (skipped otherwise, saying so)."""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402


def namespaces():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [ln.split()[0] for ln in out.splitlines() if ln.startswith("rtchaos-")]


def run_ns(r):
    ev = [e for e in r.events() if e.get("action") == "netns_created"]
    assert len(ev) == 1, r.explain()
    return ev[0]["server_ns"], ev[0]["client_ns"]


def lossy():
    r = ht.run("lossy-network.yaml", "--set", "duration=7s", "--set", "warmup=1s", "--set", "drain=5s",
               "--set", "faults.0.at=1s", "--set", "faults.0.for=2s", "--set", "faults.1.at=4s",
               "--set", "faults.1.for=2s", "--set", "clients.0.count=20", "--set", "clients.1.count=20")
    assert r.rc == 0, r.explain()
    srv, cli = run_ns(r)
    assert srv not in namespaces() and cli not in namespaces(), namespaces()
    k = [(e["action"], e["fault"], e["mechanism"]) for e in r.events() if e["action"].startswith("kernel_fault_")]
    assert k == [("kernel_fault_apply", "loss-2pct", "nftables"), ("kernel_fault_lift", "loss-2pct", "nftables"),
                 ("kernel_fault_apply", "loss-10pct", "nftables"), ("kernel_fault_lift", "loss-10pct", "nftables")], k
    f = {x["name"]: x for x in r.report["faults"]}
    for name, lo, hi in (("loss-2pct", 0.5, 5.0), ("loss-10pct", 6.0, 15.0)):
        x = f[name]
        assert x["mechanism"] == "nftables" and x["toxic"] == "packet_loss", x
        assert x["from_s"] is not None and x["to_s"] is not None and x["to_s"] > x["from_s"], x
        assert x["packets_seen"] >= 1000 and lo <= x["acted_pct"] <= hi, x
    net = r.report["network"]
    assert net["namespaces"] is True and net["kernel"]["nftables"] is True, net
    assert net["tcp"]["server"]["retrans_segs"] > 0 and net["tcp"]["server"]["retrans_pct"] > 0, net["tcp"]
    t = r.report["totals"]
    assert t["lost"] == 0 and t["duplicated"] == 0 and t["reordered"] == 0, t
    with open(os.path.join(r.dir, "report.md")) as fh:
        md = fh.read()
    assert "## Network (kernel faults)" in md and "| loss-10pct | nftables | both |" in md, md
    print(f"lossy: loss measured {f['loss-2pct']['acted_pct']:.2f}% / {f['loss-10pct']['acted_pct']:.2f}% of "
          f"{f['loss-2pct']['packets_seen']} / {f['loss-10pct']['packets_seen']} packets; server retransmitted "
          f"{net['tcp']['server']['retrans_pct']:.2f}% of its segments; p99 ws "
          f"{r.report['groups']['ws']['live_p99_us'] / 1000:.0f} ms, sse "
          f"{r.report['groups']['sse']['live_p99_us'] / 1000:.0f} ms")


# The server must let go of what a silent partition cut: TCP_USER_TIMEOUT and
# the idle timeout are 4 s; measured 4.0-5.8 s on a quiet box (first 500 ms
# sample with none ESTABLISHED), 7.02 s once under a loaded CI. 8 s (2x the
# timeout) still tells "lets go" from "holds on" (the partition lasts 9 s: a
# server still holding on at its lift gives no figure, and the budget fails as
# not measured), without failing on the sampling's lateness.
LET_GO_S = 8


def partition():
    r = ht.run("silent-partition.yaml", "--set", "duration=13s", "--set", "warmup=1s",
               "--set", "faults.0.at=1s", "--set", "faults.0.for=9s",
               "--set", "clients.0.count=10", "--set", "clients.1.count=10",
               "--set",
               f'budgets=[lost == 0, resync_failed == 0, "reconnects >= 20", "server_idle_close_s <= {LET_GO_S}"]')
    assert r.rc == 0, r.explain()
    srv, cli = run_ns(r)
    assert srv not in namespaces() and cli not in namespaces(), namespaces()
    p = r.report["faults"][0]
    assert p["toxic"] == "partition" and p["mechanism"] == "nftables" and p["packets_acted"] > 0, p
    assert p["tcp_at_apply"]["server"].get("ESTABLISHED") == 20, p
    assert p["server_link_closed_after_s"] <= LET_GO_S, p
    print(f"silent partition: the server let go after {p['server_link_closed_after_s']:.1f}s (idle timeout 4 s); "
          f"{p['packets_acted']} packets dropped silently; nothing lost")


def sigterm():
    d = os.path.join(ht.tmpdir(), "run")
    p = ht.spawn("lossy-network.yaml", "--set", "duration=60s", "--set", "warmup=1s", "--set", "clients.0.count=5",
                 "--set", "clients.1.count=5", out=d)
    try:
        mine = lambda: [n for n in namespaces() if n.startswith(f"rtchaos-{p.pid}-")]  # noqa: E731
        assert ht.wait_until(lambda: len(mine()) == 2, 30), namespaces()
        assert ht.wait_until(lambda: len(ht.children_of(p.pid)) >= 1, 30)
        kids = ht.children_of(p.pid)
        ht.wait_until(lambda: False, 1.5)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
        assert p.returncode == 3, (p.returncode, err)
        ht.assert_all_gone(kids)
        assert mine() == [], namespaces()
    finally:
        ht.kill_quietly(p)
    print("sigterm: partial report, namespaces removed")


def main():
    if os.geteuid() != 0:
        print("harness_netns: needs root (network namespaces); skipped")
        return
    # the three runs share nothing (each its own namespaces, named by its
    # pid, and ports) and mostly wait on their timelines: side by side
    ht.side_by_side([(lossy, (), {}), (partition, (), {}), (sigterm, (), {})])
    print("harness_netns: ok")


if __name__ == "__main__":
    main()
