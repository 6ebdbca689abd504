#!/usr/bin/python3
"""rtchaos-proxy upstream pool in front of brokered rtchaos-server nodes
(--redis, a real redis-server): "upstreams" + "balance" through the API (a
Toxiproxy client still sees one "upstream"), roundrobin spreads clients over
3 nodes, a killed node is skipped after its first failed connect (passive
health) and its clients, reconnecting through the proxy, resume on another
node with nothing lost; leastconn and source (sticky by client address);
bad input refused."""
import http.client
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import proxytest as pt  # noqa: E402
from redistest import Redis  # noqa: E402
from srvtest import WS, Server, events_of, wait_until  # noqa: E402


def publish(port, ch, data):
    """Publishes through the proxy; a connection the proxy closed because
    its upstream was dead is retried (the "id" makes a retry safe)."""
    for _ in range(5):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            c.request("POST", f"/publish/{ch}", body=json.dumps({"data": data, "id": f"{ch}-{data}"}))
            r = c.getresponse()
            body = r.read()
            c.close()
        except (ConnectionError, http.client.HTTPException):
            continue
        assert r.status == 200, (r.status, body)
        return json.loads(body)["seq"]
    raise AssertionError("publish through the proxy failed 5 times")


def sub(ws, ch, **kw):
    ws.send(dict(op="sub", ch=ch, **kw))
    m = ws.recv_until(lambda x: x.get("type") == "subscribed")[-1]
    return m


def main():
    r = Redis()
    ns = []
    proc = None
    try:
        ns = [Server("--redis", r.url, name=f"pool-node{i}") for i in range(3)]
        addrs = [f"127.0.0.1:{n.port}" for n in ns]
        proc, api = pt.start_proxy()
        # bad input
        st, out = api.call("POST", "/proxies", {"name": "bad", "listen": "127.0.0.1:0", "upstreams": addrs,
                                                "balance": "random"})
        assert st == 400 and "balance" in json.dumps(out), (st, out)
        st, out = api.call("POST", "/proxies", {"name": "bad", "listen": "127.0.0.1:0", "upstreams": [1]})
        assert st == 400, (st, out)
        assert "bad" not in api.ok("GET", "/proxies")
        out = api.ok("POST", "/proxies", {"name": "pool", "listen": "127.0.0.1:0", "upstreams": addrs,
                                          "balance": "roundrobin"}, want=201)
        assert out["upstream"] == addrs[0] and out["upstreams"] == addrs and out["balance"] == "roundrobin", out
        port = int(out["listen"].rsplit(":", 1)[1])

        clients = [WS("127.0.0.1", port) for _ in range(6)]
        pool = api.ok("GET", "/proxies/pool")["pool"]
        assert [u["active"] for u in pool] == [2, 2, 2], pool
        epoch = None
        for ws in clients:
            epoch = sub(ws, "pp")["epoch"]
        for i in range(1, 11):
            publish(port, "pp", i)
        last = {}
        for k, ws in enumerate(clients):
            got = events_of(ws.recv_until(lambda m: m.get("seq") == 10 and m.get("type") == "event"), "pp")
            assert got == list(range(1, 11)), got
            last[k] = 10

        # node 1 dies: clients 1 and 4 (roundrobin) lose their stream; the
        # active health check marks it down (and keeps it down)
        ns[1].proc.p.kill()
        ns[1].proc.p.wait()
        wait_until(lambda: api.ok("GET", "/proxies/pool")["pool"][1]["up"] is False,
                   what="the dead node marked down by the health check")
        fails_before = sum(1 for e in pt.events(api) if e.get("action") == "upstream_connect_failed")
        for i in range(11, 21):
            publish(port, "pp", i)  # may land on the dead node first: retried
        for k in (1, 4):
            ws = None
            for _ in range(10):
                try:
                    ws = WS("127.0.0.1", port)
                    s = sub(ws, "pp", since=last[k], epoch=epoch)
                    break
                except Exception:  # connect to the dead node: closed by the proxy
                    ws = None
            assert ws is not None, "no live node through the proxy"
            assert s["recovered"] is True, s
            got = events_of(ws.recv_until(lambda m: m.get("seq") == 20 and m.get("type") == "event"), "pp")
            assert got == list(range(11, 21)), got
            clients[k].close()
            clients[k] = ws
        pool = api.ok("GET", "/proxies/pool")["pool"]
        assert pool[1]["active"] == 0 and pool[1]["up"] is False, pool
        # nothing was sent to the dead node once it was marked down
        fails = sum(1 for e in pt.events(api) if e.get("action") == "upstream_connect_failed")
        assert fails == fails_before, (fails_before, fails)
        for k in (0, 2, 3, 5):
            got = events_of(clients[k].recv_until(lambda m: m.get("seq") == 20 and m.get("type") == "event"), "pp")
            assert got == list(range(11, 21)), (k, got)
        for ws in clients:
            ws.close()

        # leastconn and source through the update call
        api.ok("POST", "/proxies/pool", {"upstreams": [addrs[0], addrs[2]], "balance": "leastconn"})
        held = [WS("127.0.0.1", port) for _ in range(4)]
        wait_until(lambda: [u["active"] for u in api.ok("GET", "/proxies/pool")["pool"]] == [2, 2],
                   what="leastconn spread 2/2")
        for ws in held:
            ws.close()
        out = api.ok("POST", "/proxies/pool", {"balance": "source"})
        assert out["balance"] == "source", out
        wait_until(lambda: sum(u["active"] for u in api.ok("GET", "/proxies/pool")["pool"]) == 0,
                   what="connections closed")
        before = [u["connections"] for u in api.ok("GET", "/proxies/pool")["pool"]]
        held = [WS("127.0.0.1", port) for _ in range(4)]
        after = [u["connections"] for u in api.ok("GET", "/proxies/pool")["pool"]]
        grew = [a - b for a, b in zip(after, before)]
        assert sorted(grew) == [0, 4], grew  # one client address: one upstream
        for ws in held:
            ws.close()
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
