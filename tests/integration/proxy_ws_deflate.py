#!/usr/bin/python3
"""proxy_ws_deflate — WebSocket faults on connections that negotiated
permessage-deflate with context takeover: a python3-websockets server and
client (both compress by default: server_max_window_bits=12,
client_max_window_bits=12) through rtchaos-proxy. After drop, duplicate,
corrupt and reorder, downstream and upstream, with the toxic there from the
start or added to a connection already open (and removed again), the peer
still decodes every later message: nothing but what the event log says was
changed differs from what was sent, and the connection stays open."""
import asyncio
import os
import sys

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import proxytest as pt  # noqa: E402

N = 80
VOCAB = [f"item-{k:02d}-{'abcdefgh'[k % 8] * (3 + k % 5)}" for k in range(40)]


def payload(i):
    """Message i: text shared with earlier messages, so that with context
    takeover the compressor refers back into them."""
    words = ",".join(VOCAB[(i * 7 + k) % 40] for k in range(24))
    return f'{{"seq":{i},"channel":"orders","items":[{words}]}}'.encode()


class Server(pt.LoopServers):
    """/feed: sends payload(1..N) as binary messages 5 ms apart, then echoes;
    /echo: echoes every message back (upstream checks)."""

    def __init__(self):
        self.extensions = []
        super().__init__()

    async def _start(self):
        self.srv = await websockets.serve(self._handle, "127.0.0.1", 0)  # compression="deflate"
        self.port = self.srv.sockets[0].getsockname()[1]

    async def _handle(self, ws, path=None):
        path = path or ws.path
        self.extensions.append([e.name for e in ws.extensions])
        try:
            if path.startswith("/feed"):
                for i in range(1, N + 1):
                    await ws.send(payload(i))
                    await asyncio.sleep(0.005)
            async for msg in ws:
                await ws.send(msg)
        except websockets.ConnectionClosed:
            pass


def conn_events(api, mark, toxic):
    return [e for e in pt.events(api, mark) if e.get("toxic") == toxic]


def mark(api):
    ev = pt.events(api)
    return ev[-1]["i"] + 1 if ev else 0


def check_feed(got, evs, action):
    """got: the messages the client decoded, in order. Every one is a
    payload(i) in order, but for what the log says was changed."""
    by_msg = {e["msg"]: e for e in evs if e["action"] == action}
    want = []
    for i in range(1, N + 1):
        if action == "drop" and i in by_msg:
            continue
        want.append(payload(i))
        if action == "duplicate" and i in by_msg:
            want.append(payload(i))
    if action == "corrupt":
        assert len(got) == N, len(got)
        for i, (g, w) in enumerate(zip(got, want), 1):
            if i in by_msg:
                diff = [k for k in range(len(w)) if g[k] != w[k]]
                assert len(g) == len(w) and diff == [by_msg[i]["at"]], (i, diff, by_msg[i])
                assert bin(g[diff[0]] ^ w[diff[0]]).count("1") == 1
            else:
                assert g == w, (i, g, w)
    elif action == "reorder":
        assert sorted(got) == sorted(want) and len(got) == N, (len(got), N)
    else:
        assert got == want, (len(got), len(want), [i for i, (a, b) in enumerate(zip(got, want)) if a != b][:5])
    return len(by_msg)


def feed_done(api, m0, toxic):
    """The feed is over for the client once it has as many messages as the
    N sent less those the log (since m0) says the toxic dropped, plus those
    it duplicated. The log is read after the messages were counted, so it
    is at least as far on: the count cannot come early (each message the
    proxy handled since is at most one more drop)."""
    def done(got):
        acts = [e["action"] for e in conn_events(api, m0, toxic)]
        return len(got) >= N - acts.count("drop") + acts.count("duplicate")
    return done


async def read_feed(port, done, quiet=2.0, add=None, remove=None):
    """Reads /feed with compression on; add()/remove() are called after 20 and
    35 messages (a toxic arriving on, then leaving, an open connection).
    The feed ends when done(got) says so at a pause of 0.25 s (or after
    `quiet` s of silence). After the feed, one echo round trip shows the
    connection is still in step both ways. Returns the messages."""
    async with websockets.connect(f"ws://127.0.0.1:{port}/feed", open_timeout=10) as ws:
        assert [e.name for e in ws.extensions] == ["permessage-deflate"], ws.extensions
        got = []
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            try:
                got.append(await asyncio.wait_for(ws.recv(), 0.25))
                last = loop.time()
            except asyncio.TimeoutError:
                if loop.time() - last >= quiet or await loop.run_in_executor(None, done, got):
                    break
                continue
            if len(got) == 20 and add:
                await asyncio.get_running_loop().run_in_executor(None, add)
            if len(got) == 35 and remove:
                await asyncio.get_running_loop().run_in_executor(None, remove)
        probe = payload(999) + b"probe"
        await ws.send(probe)
        back = await asyncio.wait_for(ws.recv(), 10)
        assert back == probe, back
        return got


async def echo_upstream(port, msgs, dropped, quiet=2.0):
    """Sends msgs to /echo with compression on; returns what came back once
    every message came back or dropped() (the log) has the rest (or after
    `quiet` s of silence)."""
    async with websockets.connect(f"ws://127.0.0.1:{port}/echo", open_timeout=10) as ws:
        assert [e.name for e in ws.extensions] == ["permessage-deflate"]
        for m in msgs:
            await ws.send(m)
            await asyncio.sleep(0.002)
        back = []
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            try:
                back.append(await asyncio.wait_for(ws.recv(), 0.25))
                last = loop.time()
            except asyncio.TimeoutError:
                if loop.time() - last >= quiet:
                    return back
                if len(back) + len(await loop.run_in_executor(None, dropped)) >= len(msgs):
                    return back


def main():
    srv = Server()
    proc, api = pt.start_proxy("--seed", "21")
    port = pt.make_proxy(api, "ws", srv.port)
    run = asyncio.run

    # 1. a toxic there from the start, each changing action in turn
    for action in ("drop", "duplicate", "corrupt", "reorder"):
        m0 = mark(api)
        name = f"pmd_{action}"
        api.ok("POST", "/proxies/ws/toxics", {"type": "ws", "name": name,
                                              "attributes": {"action": action, "probability": 0.3}})
        got = run(read_feed(port, feed_done(api, m0, name)))
        evs = conn_events(api, m0, name)
        changed = check_feed(got, evs, action if action != "reorder" else "reorder")
        if action == "reorder":
            changed = len([e for e in evs if e["action"] == "reorder_hold"])
        assert changed > 0, (action, evs)
        st, _ = api.call("DELETE", f"/proxies/ws/toxics/{name}")
        assert st == 204

    # 2. added to a connection already open (the proxy's tracker kept the
    # sender's window from the first message), then removed while messages
    # still flow: the toxic keeps compressing for that connection
    for action in ("drop", "duplicate", "corrupt"):
        m0 = mark(api)
        name = f"mid_{action}"
        add = lambda: api.ok("POST", "/proxies/ws/toxics", {  # noqa: E731
            "type": "ws", "name": name, "attributes": {"action": action, "probability": 0.5}})
        remove = lambda: api.call("DELETE", f"/proxies/ws/toxics/{name}")  # noqa: E731
        got = run(read_feed(port, feed_done(api, m0, name), add=add, remove=remove))
        evs = conn_events(api, m0, name)
        assert check_feed(got, evs, action) > 0, (action, evs)
        # it acted only between its arrival and its removal
        names = [e["action"] for e in evs]
        assert names[0] == "toxic_add" and "toxic_remove" in names, names
        assert action not in names[names.index("toxic_remove"):], names
        assert all(e["msg"] > 20 for e in evs if e["action"] == action), evs

    # 3. upstream (client frames, masked): the server decodes every message
    msgs = [payload(i) for i in range(1, 41)]
    m0 = mark(api)
    api.ok("POST", "/proxies/ws/toxics", {"type": "ws", "name": "up_drop", "stream": "upstream",
                                          "attributes": {"action": "drop", "probability": 0.3}})
    up_dropped = lambda: {e["msg"] for e in conn_events(api, m0, "up_drop") if e["action"] == "drop"}  # noqa: E731
    back = run(echo_upstream(port, msgs, up_dropped))
    dropped = up_dropped()
    assert dropped and back == [m for i, m in enumerate(msgs, 1) if i not in dropped], (len(back), dropped)
    api.call("DELETE", "/proxies/ws/toxics/up_drop")

    assert all(x == ["permessage-deflate"] for x in srv.extensions), srv.extensions
    assert not [e for e in pt.events(api) if e["action"] in ("pmd_error", "pmd_skip", "ws_parse_error")]
    assert proc.p.poll() is None
    assert proc.stop() == 0
    print("proxy_ws_deflate: ok")


if __name__ == "__main__":
    main()
