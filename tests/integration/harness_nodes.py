#!/usr/bin/python3
# rtchaos-test: serial (node and Redis faults must land on time; 3 nodes + redis + proxy)
"""harness_nodes: server: {nodes: 3, redis: auto} — the harness starts its
own redis-server and three rtchaos-server --redis nodes behind the proxy's
upstream pool. A node killed mid-run (its WS and SSE clients reconnect to
the others) loses and duplicates nothing; Redis paused past the nodes' 2 s
answer deadline turns publishes into 503s that the publishers retry, and
after it comes back nothing acknowledged is lost. Every child, redis-server
included, is gone after the run."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402

SCENARIO = """
name: nodes
duration: 12s
warmup: 1s
drain: 8s
server: {nodes: 3, redis: auto}
channels: {count: 2, pattern: "nd.{i}"}
publishers: {rate_per_s: 20}
clients:
  - {name: ws, count: 12, transport: ws, channels_per_client: 2, idle_timeout: 3s,
     reconnect: {initial: 100ms, max: 1s}}
  - {name: sse, count: 6, transport: sse, channels_per_client: 2, idle_timeout: 3s,
     reconnect: {initial: 100ms, max: 1s}}
faults:
  - {name: kill1, at: 2s, for: 2s, server: kill-node, node: 1}
  - {name: rpause, at: 6s, for: 3s, server: redis-pause}
budgets:
  - lost == 0
  - duplicated == 0
  - broker_lag_p99_ms < 5000
"""

# The other four: pause-node (node: random, from the seed), restart-node,
# redis-restart (comes back empty) and redis-kill with for, under leastconn.
MORE = """
name: nodes-more
duration: 12s
warmup: 1s
drain: 8s
server: {nodes: 3, redis: auto, balance: leastconn}
channels: {count: 2, pattern: "nm.{i}"}
publishers: {rate_per_s: 20}
clients:
  - {name: ws, count: 9, transport: ws, channels_per_client: 2, idle_timeout: 3s,
     reconnect: {initial: 100ms, max: 1s}}
  - {name: sse, count: 6, transport: sse, channels_per_client: 2, idle_timeout: 3s,
     reconnect: {initial: 100ms, max: 1s}}
faults:
  - {name: p, at: 1s, for: 1s, server: pause-node}
  - {name: rn, at: 3s, server: restart-node, node: 2}
  - {name: rr, at: 5s, server: redis-restart}
  - {name: rk, at: 8s, for: 1s, server: redis-kill}
budgets:
  - duplicated == 0
"""

# No proxy (proxy: false, for runs bigger than one proxy process holds): the
# fleet spreads its clients over the nodes itself, and a dead node's clients
# spread over all the others (fleet_net.c), not onto one.
NOPROXY = """
name: nodes-noproxy
duration: 8s
warmup: 1s
drain: 6s
server: {nodes: 3, redis: auto}
proxy: false
channels: {count: 4, pattern: "np.{i}"}
publishers: {rate_per_s: 10, start: 1s}
clients:
  - {name: ws, count: 30, transport: ws, ramp_up: 500ms, reconnect: {initial: 100ms, max: 1s}}
  - {name: sse, count: 15, transport: sse, ramp_up: 500ms, reconnect: {initial: 100ms, max: 1s}}
faults:
  - {name: kill1, at: 2s, for: 3s, server: kill-node, node: 1}
budgets:
  - lost == 0
  - duplicated == 0
  - resync_failed == 0
"""


def check_nodes(r):
    assert "error" not in r.report, r.report.get("error")
    t = r.report["totals"]
    v = ht.verdicts(r)
    assert t["lost"] == 0 and t["duplicated"] == 0, t
    assert t["delivered"] > 0 and t["delivered"] == t["expected"], t
    # node 1's clients came back through the pool to the other nodes
    assert t["reconnects"] > 0, t
    # Redis paused 3 s: the nodes answer 503 after 2 s and the publishers retry
    assert t["publish_retries"] > 0 or t["publish_failed"] > 0, t
    ev = [e for e in r.events() if e.get("source") == "harness"]
    acts = [e["action"] for e in ev]
    assert "redis_ready" in acts and "proxy_pool" in acts, acts
    pool = next(e for e in ev if e["action"] == "proxy_pool")
    assert len(pool["upstreams"]) == 3 and pool["balance"] == "roundrobin", pool
    ready = [e for e in ev if e["action"] == "server_ready"]
    assert sorted({e["node"] for e in ready}) == [0, 1, 2], ready
    kill = next(e for e in ev if e["action"] == "server_kill")
    assert kill["target"] == "node" and kill["node"] == 1, kill
    again = [e for e in ready if e["node"] == 1]
    assert len(again) == 2 and again[0]["port"] == again[1]["port"], again  # restarted on its port
    pause = next(e for e in ev if e["action"] == "server_pause")
    assert pause["target"] == "redis", pause
    assert "server_resume" in acts, acts
    # the nodes' own view, scraped after the drain: clients spread by the pool,
    # the broker lag summed over the nodes and judged as a budget
    nodes = r.report["nodes"]
    assert nodes["count"] == 3 and len(nodes["per_node"]) == 3, nodes
    held = [sum(n["connections"].values()) for n in nodes["per_node"]]
    assert sum(held) == 18 and sum(held[1:]) > 0, nodes  # the pool spread them
    lag = nodes["broker_lag_us"]
    assert lag["count"] > 0 and lag["p99"] is not None, lag
    assert v["broker_lag_p99_ms"]["pass"], v
    # the report plots node 0's broker lag per scrape interval beside the rest
    # of the server's view (reports/rplot_server.c)
    with open(os.path.join(r.dir, "plots", "server_broker_lag.svg")) as f:
        assert "<text>broker lag p95 (bucket bound)</text>" in f.read()
    with open(os.path.join(r.dir, "plots", "server.dat")) as f:
        blag = [ln.split()[-1] for ln in f if not ln.startswith("#")]
    assert any(x != "NaN" and float(x) > 0 for x in blag), blag
    # every node scraped once a second over the run: node 1's dead seconds
    # are holes in its timeline, and its clients show up on nodes 0 and 2
    for n in nodes["per_node"]:
        assert len(n["timeline"]) >= 10, n
    tl1 = nodes["per_node"][1]["timeline"]
    assert any(c is None for t, c in tl1 if 2 <= t <= 5), tl1
    assert any(c is not None and c > 0 for t, c in tl1 if t < 3), tl1
    fo, = nodes["failover"]
    assert fo["fault"] == "kill1" and fo["node"] == 1 and fo["kind"] == "kill", fo
    assert fo["clients_before"] > 0, fo
    moved = sum(l["clients"] for l in fo["landed"] if l["node"] != 1)
    assert moved > 0 and {l["node"] for l in fo["landed"]} <= {0, 2}, fo
    assert fo["not_back"] == max(0, fo["clients_before"] - moved), fo
    with open(os.path.join(r.dir, "report.md")) as f:
        md = f.read()
    assert "## Nodes" in md and "Where the clients of a node that went away landed" in md, md[:2000]
    assert "| kill1 | 1 |" in md, md
    with open(os.path.join(r.dir, "report.html")) as f:
        html = f.read()
    assert 'id="nodes-failover"' in html and 'id="nodes-timeline"' in html
    ch = r.report["children"]
    for name in ("server", "node1", "node2", "redis", "proxy"):
        assert ch[name]["clean"], ch  # every node judged under its own name
    ht.assert_all_gone(r.child_pids())


def check_more(r):
    ev = [e for e in r.events() if e.get("source") == "harness"]
    by = {(e["action"], e.get("target")): e for e in ev if "target" in e}
    assert by[("server_pause", "node")]["node"] in (0, 1, 2), by
    assert by[("server_restart", "node")]["node"] == 2, by
    for a in (("server_restart", "redis"), ("server_kill", "redis"), ("server_start", "redis")):
        assert a in by, (a, by)
    rr = [e for e in ev if e["action"] == "redis_ready"]
    assert len(rr) == 3 and len({e["port"] for e in rr}) == 1 and len({e["pid"] for e in rr}) == 3, rr
    assert r.report["nodes"]["balance"] == "leastconn", r.report["nodes"]
    assert all(c["clean"] for c in r.report["children"].values()), r.report["children"]
    ht.assert_all_gone(r.child_pids())


def check_noproxy(r):
    assert r.report["proxy"] is False and "proxy" not in r.report["children"], r.report["children"]
    t = r.report["totals"]
    assert t["lost"] == 0 and t["resync_ok"] > 0 and t["delivered"] == t["expected"], t
    peaks = [n["clients_peak"] for n in r.report["nodes"]["per_node"]]
    assert all(p >= 10 for p in peaks), peaks  # 45 clients, 15 per node: spread without a proxy
    fo, = r.report["nodes"]["failover"]
    assert fo["clients_before"] >= 10 and fo["not_back"] == 0, fo
    assert {l["node"] for l in fo["landed"]} == {0, 2}, fo  # over both others, not onto one
    ht.assert_all_gone(r.child_pids())


def main():
    # The three runs share nothing (each its own redis, nodes, proxy and
    # ports) and mostly wait on their timelines: they run side by side.
    runs = ht.side_by_side([(ht.run_passing, (ht.scenario_file(text, name), "--quiet"), {"timeout": 120})
                            for text, name in ((SCENARIO, "nodes.yaml"), (MORE, "more.yaml"),
                                               (NOPROXY, "noproxy.yaml"))])
    for check, r in zip((check_nodes, check_more, check_noproxy), runs):
        check(r)
        print(f"{check.__name__}: ok")
    print("ok")


if __name__ == "__main__":
    main()
