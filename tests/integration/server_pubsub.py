#!/usr/bin/python3
"""rtchaos-server: publish and subscribe over WebSocket (raw client and the
Debian `websockets` library) and SSE, single and batch publish, WS "pub",
ts passed through, per-channel seqs, control replies, --help."""
import asyncio
import http.client
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import rtctest  # noqa: E402
from srvtest import Server, events_of  # noqa: E402
import websockets  # noqa: E402


def test_help_and_bad_flags():
    exe = os.path.join(rtctest.BIN, "rtchaos-server")
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "--history-max" in r.stdout and "--policy" in r.stdout, r
    r = subprocess.run([exe, "--no-such-flag"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "unknown option" in r.stderr, r
    r = subprocess.run([exe, "--port", "70000"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "--port" in r.stderr, r


def test_ws_and_sse(srv):
    ws = srv.ws()
    ws.send({"op": "sub", "ch": "orders.1"})
    sub = ws.recv()
    assert sub["type"] == "subscribed" and sub["ch"] == "orders.1" and sub["seq"] == 0, sub
    assert sub["recovered"] is True and sub["epoch"], sub
    sse = srv.sse("ch=orders.1&ch=other")
    assert sse.status == 200 and sse.headers["content-type"].startswith("text/event-stream")
    subs = [sse.next_data(), sse.next_data()]
    assert sorted(s["ch"] for s in subs) == ["orders.1", "other"], subs

    r = srv.publish("orders.1", {"n": 1}, ts=1764400000123456)
    assert r == {"ch": "orders.1", "seq": 1}, r
    r = srv.json("POST", "/publish/orders.1", [{"data": {"n": 2}, "ts": 5}, {"data": [3]}, {"data": "four"}])
    assert r["seq"] == 4 and r["seqs"] == [2, 3, 4], r
    srv.publish("other", None)
    ws.send({"op": "pub", "ch": "orders.1", "data": {"n": 5}, "ts": 77})

    got = ws.recv_until(lambda m: m.get("seq") == 5)
    assert events_of(got) == [1, 2, 3, 4, 5], got
    first = got[0]
    assert first == {"ch": "orders.1", "seq": 1, "ts": 1764400000123456, "type": "event", "data": {"n": 1}}, first
    assert got[1]["ts"] == 5 and got[4]["ts"] == 77 and got[2]["ts"] > 1700000000000000

    seen = {}
    ids = []
    while sum(len(v) for v in seen.values()) < 6:
        m = sse.next()
        assert m["data"]["type"] == "event", m
        assert m["id"], m
        ids.append(m["id"])
        seen.setdefault(m["data"]["ch"], []).append(m["data"]["seq"])
    assert seen == {"orders.1": [1, 2, 3, 4, 5], "other": [1]}, seen
    assert len(set(ids)) == len(ids), "every SSE id differs"

    ws.send({"op": "ping"})
    assert ws.recv() == {"type": "pong"}
    ws.send({"op": "unsub", "ch": "orders.1"})
    ws.send({"op": "ping"})
    assert ws.recv() == {"type": "pong"}
    srv.publish("orders.1", 6)
    ws.send({"op": "ping"})
    assert ws.recv() == {"type": "pong"}, "no event after unsub"
    ws.send({"op": "pub", "ch": "orders.1", "data": 7, "ack": True})
    assert ws.recv() == {"type": "published", "ch": "orders.1", "seq": 7}
    ws.close()
    sse.close()


async def library_client(port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as a, \
               websockets.connect(f"ws://127.0.0.1:{port}/ws") as b:
        await a.send(json.dumps({"op": "sub", "ch": "lib"}))
        assert json.loads(await a.recv())["type"] == "subscribed"
        for i in range(50):
            await b.send(json.dumps({"op": "pub", "ch": "lib", "data": {"i": i}}))
        seqs = []
        while len(seqs) < 50:
            m = json.loads(await asyncio.wait_for(a.recv(), 15))
            assert m["type"] == "event"
            seqs.append(m["seq"])
        assert seqs == list(range(1, 51)), seqs


def main():
    test_help_and_bad_flags()
    srv = Server()
    try:
        test_ws_and_sse(srv)
        asyncio.run(library_client(srv.port))
        st, _, body = srv.request("GET", "/healthz")
        assert st == 200 and json.loads(body)["ok"] is True
        # several requests on one keep-alive connection
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=15)
        for i in range(3):
            c.request("POST", "/publish/ka", body=json.dumps({"data": i}))
            r = c.getresponse()
            assert r.status == 200 and json.loads(r.read())["seq"] == i + 1
            c.request("GET", "/poll?ch=ka&since=0")
            r = c.getresponse()
            assert [e["data"] for e in json.loads(r.read())] == list(range(i + 1))
        c.request("GET", "/nope")
        r = c.getresponse()
        r.read()
        assert r.status == 404
        c.request("GET", "/metrics")
        r = c.getresponse()
        assert r.status == 200 and b"rtchaos_channels" in r.read()
        c.close()
    finally:
        assert srv.stop() == 0
    print("ok")


if __name__ == "__main__":
    main()
