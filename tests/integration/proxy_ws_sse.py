#!/usr/bin/python3
"""proxy_ws_sse — the WebSocket and SSE faults over real loopback connections:
a websockets (python3-websockets) server and an asyncio SSE server behind
rtchaos-proxy, real clients in front; checks what the clients see against the
proxy's event log, reproducibility from --seed, toxics added mid-stream."""
import asyncio
import http.client
import os
import socket
import sys
import threading
import time

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import proxytest as pt  # noqa: E402

N_WS = 60


class Servers(pt.LoopServers):
    """A websockets server (sends N_WS numbered messages, then echoes) and an
    SSE server (/sse chunked, /raw close-delimited: 40 events with id: and a
    heartbeat comment every 5), on one asyncio loop in a thread."""

    async def _start(self):
        self.ws = await websockets.serve(self._ws, "127.0.0.1", 0)
        self.ws_port = self.ws.sockets[0].getsockname()[1]
        self.sse = await asyncio.start_server(self._sse, "127.0.0.1", 0)
        self.sse_port = self.sse.sockets[0].getsockname()[1]

    async def _ws(self, ws, path=None):
        try:
            for i in range(1, N_WS + 1):
                await ws.send(f"m{i}")
                await asyncio.sleep(0.005)
            async for msg in ws:
                await ws.send(msg)
        except websockets.ConnectionClosed:
            pass

    async def _sse(self, reader, writer):
        try:
            line = await reader.readline()
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            chunked = b"/sse" in line
            slow = b"slow" in line
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            head += b"Transfer-Encoding: chunked\r\n\r\n" if chunked else b"Connection: close\r\n\r\n"
            writer.write(head)
            for i in range(1, 41):
                ev = f"id: {i}\ndata: {{\"seq\":{i}}}\n\n".encode()
                if i % 5 == 0:
                    ev += b": hb\n\n"
                writer.write(b"%x\r\n%s\r\n" % (len(ev), ev) if chunked else ev)
                await writer.drain()
                await asyncio.sleep(0.03 if slow else 0.002)
            if chunked:
                writer.write(b"0\r\n\r\n")
            await writer.drain()
            writer.close()
        except (ConnectionError, OSError):
            pass


async def ws_collect(port, until=N_WS, timeout=10):
    """Connects through the proxy; returns (messages, close_code)."""
    got = []
    code = None
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10, compression=None) as ws:
            while True:
                msg = await asyncio.wait_for(ws.recv(), timeout)
                got.append(msg)
                if msg == f"m{until}":
                    break
    except websockets.ConnectionClosed as e:
        code = e.code
    except asyncio.TimeoutError:
        code = "timeout"
    return got, code


async def ws_collect_dropping(port, api, mark, deadline_s=15):
    """Connects through a proxy that drops some of the N_WS messages; returns
    the messages that came. Done when each message either came or is in the
    proxy's log (since mark) as dropped: no timeout waited out when the last
    one was dropped."""
    got = []
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10, compression=None) as ws:
        while loop.time() < end:
            try:
                got.append(await asyncio.wait_for(ws.recv(), 0.2))
                if got[-1] == f"m{N_WS}":
                    break
                continue
            except asyncio.TimeoutError:
                pass
            dropped = await loop.run_in_executor(None, acts, api, mark, "drop")
            if len(got) + len(dropped) >= N_WS:
                break
    return got


def sse_collect(port, path="/sse"):
    """Reads the stream with http.client (which checks the chunk framing);
    returns (event dicts, comments, complete)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    assert r.status == 200
    events, comments, cur, complete = [], 0, {}, True
    try:
        while True:
            line = r.readline()
            if not line:
                break
            line = line.decode().rstrip("\r\n")
            if line == "":
                if cur:
                    events.append(cur)
                cur = {}
            elif line.startswith(":"):
                comments += 1
            else:
                k, _, v = line.partition(":")
                cur[k] = cur.get(k, "") + v.lstrip(" ")
    except (http.client.IncompleteRead, ConnectionError):
        complete = False
    if cur:
        complete = False
    c.close()
    return events, comments, complete


def acts(api, mark, action):
    return [e for e in pt.events(api, mark) if e["action"] == action]


def main():
    srv = Servers()
    run = lambda coro: asyncio.run(coro)  # noqa: E731

    def fresh(seed="11"):
        proc, api = pt.start_proxy("--seed", seed)
        ws_port = pt.make_proxy(api, "ws", srv.ws_port)
        sse_port = pt.make_proxy(api, "sse", srv.sse_port)
        return proc, api, ws_port, sse_port

    proc, api, ws_port, sse_port = fresh()

    # pass-through
    got, code = run(ws_collect(ws_port))
    assert got == [f"m{i}" for i in range(1, N_WS + 1)], (got[:5], code)
    ev, hb, ok = sse_collect(sse_port)
    assert [e["id"] for e in ev] == [str(i) for i in range(1, 41)] and hb == 8 and ok

    # ws drop 30 %: what is missing is exactly what the log says was dropped
    api.ok("POST", "/proxies/ws/toxics", {"type": "ws", "name": "wsdrop",
                                          "attributes": {"action": "drop", "probability": 0.3}})
    mark = api.ok("GET", "/events")["next"]
    got = run(ws_collect_dropping(ws_port, api, mark))
    dropped = acts(api, mark, "drop")
    assert 5 <= len(dropped) <= 35, len(dropped)
    missing = {f"m{i}" for i in range(1, N_WS + 1)} - set(got)
    assert missing == {f"m{e['msg']}" for e in dropped}, (sorted(missing), [e["msg"] for e in dropped])
    assert got == sorted(got, key=lambda m: int(m[1:])), got  # the rest in order
    first_run = sorted(e["msg"] for e in dropped)
    api.call("DELETE", "/proxies/ws/toxics/wsdrop")
    assert proc.stop() == 0

    # the same seed and traffic give the same decisions
    proc, api, ws_port, sse_port = fresh()
    run(ws_collect(ws_port))
    api.ok("POST", "/proxies/ws/toxics", {"type": "ws", "name": "wsdrop",
                                          "attributes": {"action": "drop", "probability": 0.3}})
    mark = api.ok("GET", "/events")["next"]
    run(ws_collect_dropping(ws_port, api, mark))
    again = sorted(e["msg"] for e in acts(api, mark, "drop"))
    assert again == first_run, (again, first_run)
    api.call("DELETE", "/proxies/ws/toxics/wsdrop")

    # close with a chosen code after 10 messages
    api.ok("POST", "/proxies/ws/toxics", {"type": "ws", "name": "wsclose",
                                          "attributes": {"action": "close", "code": 1012, "after_messages": 10}})
    got, code = run(ws_collect(ws_port))
    assert len(got) == 10 and code == 1012, (len(got), code)
    api.call("DELETE", "/proxies/ws/toxics/wsclose")

    # split into continuation frames and duplicate: the client reassembles
    api.ok("POST", "/proxies/ws/toxics", {"type": "ws", "name": "split",
                                          "attributes": {"action": "split", "fragment_size": 1}})
    api.ok("POST", "/proxies/ws/toxics", {"type": "ws", "name": "dup",
                                          "attributes": {"action": "duplicate", "probability": 1}})
    got, code = run(ws_collect(ws_port, until=5))
    assert got[:4] == ["m1", "m1", "m2", "m2"], got[:6]
    api.call("DELETE", "/proxies/ws/toxics/split")
    api.call("DELETE", "/proxies/ws/toxics/dup")

    # client → server: corrupt the masked frames the client sends; the echo
    # comes back different
    api.ok("POST", "/proxies/ws/toxics", {"type": "ws", "name": "upc", "stream": "upstream",
                                          "attributes": {"action": "corrupt"}})

    async def echo_corrupt():
        async with websockets.connect(f"ws://127.0.0.1:{ws_port}/ws", compression=None) as ws:
            for _ in range(N_WS):
                await ws.recv()
            await ws.send(b"\x00" * 32)
            back = await asyncio.wait_for(ws.recv(), 10)
            return back
    back = run(echo_corrupt())
    assert back != b"\x00" * 32 and len(back) == 32 and sum(bin(b).count("1") for b in back) == 1
    api.call("DELETE", "/proxies/ws/toxics/upc")

    # swallow pongs: the client's ping is never answered
    api.ok("POST", "/proxies/ws/toxics", {"type": "ws", "name": "nopong",
                                          "attributes": {"action": "swallow_pong"}})

    async def ping(wait_s):
        async with websockets.connect(f"ws://127.0.0.1:{ws_port}/ws", compression=None) as ws:
            # the server's messages first: left unread they fill the client's
            # queue, and its close handshake then waits out close_timeout
            for _ in range(N_WS):
                await ws.recv()
            w = await ws.ping()
            try:
                await asyncio.wait_for(w, wait_s)
                return "pong"
            except asyncio.TimeoutError:
                return "no pong"
    assert run(ping(1.5)) == "no pong"
    api.call("DELETE", "/proxies/ws/toxics/nopong")
    assert run(ping(15)) == "pong"

    # a ws toxic added while messages flow starts at a message boundary:
    # the client sees whole messages only, and some are dropped
    async def mid_stream():
        got = []
        async with websockets.connect(f"ws://127.0.0.1:{ws_port}/ws", compression=None) as ws:
            for _ in range(5):
                got.append(await ws.recv())
            await asyncio.get_running_loop().run_in_executor(None, lambda: api.ok(
                "POST", "/proxies/ws/toxics", {"type": "ws", "name": "mid",
                                               "attributes": {"action": "drop", "probability": 0.5}}))
            try:
                while True:
                    got.append(await asyncio.wait_for(ws.recv(), 1.0))
            except asyncio.TimeoutError:
                pass
        return got
    got = run(mid_stream())
    assert got[:5] == ["m1", "m2", "m3", "m4", "m5"]
    assert 5 < len(got) < N_WS and all(m.startswith("m") for m in got), len(got)
    api.call("DELETE", "/proxies/ws/toxics/mid")

    # SSE: strip id:, suppress heartbeats, drop, duplicate — chunked body
    api.ok("POST", "/proxies/sse/toxics", {"type": "sse", "name": "noid", "attributes": {"action": "strip_id"}})
    api.ok("POST", "/proxies/sse/toxics", {"type": "sse", "name": "nohb",
                                           "attributes": {"action": "suppress_heartbeat"}})
    mark = api.ok("GET", "/events")["next"]
    ev, hb, ok = sse_collect(sse_port)
    assert ok and len(ev) == 40 and hb == 0 and all("id" not in e for e in ev), (len(ev), hb, ev[:2])
    assert len(acts(api, mark, "strip_id")) == 40 and len(acts(api, mark, "suppress_heartbeat")) == 8
    api.call("DELETE", "/proxies/sse/toxics/noid")
    api.call("DELETE", "/proxies/sse/toxics/nohb")

    for path in ("/sse", "/raw"):
        api.ok("POST", "/proxies/sse/toxics", {"type": "sse", "name": "drop",
                                               "attributes": {"action": "drop", "probability": 0.25}})
        mark = api.ok("GET", "/events")["next"]
        ev, hb, ok = sse_collect(sse_port, path)
        n_drop = len(acts(api, mark, "drop"))
        assert ok and 1 <= n_drop <= 25 and len(ev) == 40 - n_drop and hb == 8, (path, len(ev), n_drop, ok)
        api.call("DELETE", "/proxies/sse/toxics/drop")

    # SSE: inject retry:, and reorder (a permutation, nothing lost)
    api.ok("POST", "/proxies/sse/toxics", {"type": "sse", "name": "retry",
                                           "attributes": {"action": "inject_retry", "retry_ms": 777,
                                                          "probability": 0.5}})
    ev, _, ok = sse_collect(sse_port)
    assert ok and 0 < sum(1 for e in ev if e.get("retry") == "777") < 40
    api.call("DELETE", "/proxies/sse/toxics/retry")
    api.ok("POST", "/proxies/sse/toxics", {"type": "sse", "name": "ro",
                                           "attributes": {"action": "reorder", "probability": 0.3}})
    ev, _, ok = sse_collect(sse_port)
    ids = [int(e["id"]) for e in ev]
    assert ok and sorted(ids) == list(range(1, 41)) and ids != sorted(ids), ids
    api.call("DELETE", "/proxies/sse/toxics/ro")

    # SSE cut: the stream ends inside an event
    api.ok("POST", "/proxies/sse/toxics", {"type": "sse", "name": "cut",
                                           "attributes": {"action": "cut", "after_messages": 7}})
    ev, _, ok = sse_collect(sse_port)
    assert not ok and len(ev) == 7, (len(ev), ok)
    api.call("DELETE", "/proxies/sse/toxics/cut")

    # SSE toxic added mid-stream, and removed mid-stream: the chunked
    # framing stays intact for the client throughout
    result = {}

    def reader():
        result["r"] = sse_collect(sse_port, "/sse-slow")
    th = threading.Thread(target=reader)
    th.start()
    time.sleep(0.3)
    api.ok("POST", "/proxies/sse/toxics", {"type": "sse", "name": "dupmid",
                                           "attributes": {"action": "duplicate", "probability": 1}})
    time.sleep(0.4)
    st, _ = api.call("DELETE", "/proxies/sse/toxics/dupmid")
    assert st == 204
    th.join(30)
    ev, hb, ok = result["r"]
    ids = [int(e["id"]) for e in ev]
    assert ok and hb == 8, (ok, hb)
    assert sorted(set(ids)) == list(range(1, 41)) and 40 < len(ids) < 80, ids

    # disconnect after N bytes / T ms
    api.ok("POST", "/proxies/sse/toxics", {"type": "disconnect", "name": "dc",
                                           "attributes": {"after_bytes": 300}})
    # exactly 300 bytes of the response reach the client, then the end
    s = socket.create_connection(("127.0.0.1", sse_port), timeout=10)
    s.sendall(b"GET /raw HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except ConnectionResetError:
        pass
    s.close()
    assert len(got) == 300 and got.startswith(b"HTTP/1.1 200 OK\r\n"), (len(got), got[-80:])
    api.call("DELETE", "/proxies/sse/toxics/dc")
    api.ok("POST", "/proxies/ws/toxics", {"type": "disconnect", "name": "dcm",
                                          "attributes": {"after_messages": 12, "protocol": "ws"}})
    got, code = run(ws_collect(ws_port, timeout=5))
    assert len(got) == 12 and code == 1006, (len(got), code)
    api.call("DELETE", "/proxies/ws/toxics/dcm")

    assert proc.p.poll() is None
    assert proc.stop() == 0
    print("proxy_ws_sse: ok")


if __name__ == "__main__":
    main()
