#!/usr/bin/python3
"""The harness's client fleet against brokered multi-node: a real Redis, 3
rtchaos-server --redis nodes behind an rtchaos-proxy upstream pool
(roundrobin), `rtchaos run --target` the pool. The fleet's clients land on
different nodes, the publishes go to any node, and the checker finds every
event delivered once, in order (smoke, and reconnect-storm: its storm
reconnects clients through the pool onto other nodes, which resume there)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness_scenarios  # noqa: E402
import proxytest as pt  # noqa: E402
from redistest import Redis  # noqa: E402
from srvtest import Server  # noqa: E402


def main():
    r = Redis()
    ns = []
    proc = None
    try:
        ns = [Server("--redis", r.url, "--heartbeat-ms", "1000", name=f"fleet-node{i}") for i in range(3)]
        proc, api = pt.start_proxy()
        out = api.ok("POST", "/proxies", {"name": "nodes", "listen": "127.0.0.1:0",
                                          "upstreams": [f"127.0.0.1:{n.port}" for n in ns],
                                          "balance": "roundrobin"}, want=201)
        url = "http://" + out["listen"]
        for name in ("smoke", "reconnect-storm"):
            harness_scenarios.check(name, "--target", url)
        pool = api.ok("GET", "/proxies/nodes")["pool"]
        assert all(u["connections"] > 0 for u in pool), pool  # every node served
        for i, n in enumerate(ns):
            m = n.metrics()
            assert m["rtchaos_broker_link_up"] == 1, m
            cnt = m["rtchaos_broker_lag_seconds_count"]
            le1ms = m['rtchaos_broker_lag_seconds_bucket{le="0.001"}']
            print(f"node{i}: broker lag: {cnt:.0f} events, mean {1e3 * m['rtchaos_broker_lag_seconds_sum'] / max(cnt, 1):.2f} ms, "
                  f"{100 * le1ms / max(cnt, 1):.0f}% <= 1 ms; connections via the pool: {pool[i]['connections']}")
        for n in ns:
            assert n.stop() == 0
    finally:
        if proc:
            proc.stop()
        for n in ns:
            if n.proc.p.poll() is None:
                n.proc.p.kill()
                n.proc.p.wait()
        r.close()
    print("ok")


if __name__ == "__main__":
    main()
