#!/usr/bin/python3
"""proxy_schedule_messages — "after N messages" for byte-stream toxics over
real loopback connections: a blackhole that starts after the 5th WebSocket
message (downstream) or the 2nd (upstream), limit_data after the 3rd SSE
event, the event log saying when each started, a raw TCP stream where no
message is ever counted, and the 400s where none could be."""
import asyncio
import http.client
import os
import sys
import time

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import proxytest as pt  # noqa: E402

N = 20


class Servers(pt.LoopServers):
    """A websockets server (sends m1..mN 10 ms apart, then echoes) and a
    chunked SSE server (N events, a heartbeat comment after every event),
    on one asyncio loop in a thread."""

    async def _start(self):
        self.ws = await websockets.serve(self._ws, "127.0.0.1", 0, compression=None)
        self.ws_port = self.ws.sockets[0].getsockname()[1]
        self.sse = await asyncio.start_server(self._sse, "127.0.0.1", 0)
        self.sse_port = self.sse.sockets[0].getsockname()[1]

    async def _ws(self, ws, path=None):
        try:
            if "quiet" not in str(getattr(ws, "path", path) or getattr(getattr(ws, "request", None), "path", "")):
                for i in range(1, N + 1):
                    await ws.send(f"m{i}")
                    await asyncio.sleep(0.01)
            async for msg in ws:
                await ws.send(msg)
        except websockets.ConnectionClosed:
            pass

    async def _sse(self, reader, writer):
        try:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            for i in range(1, N + 1):
                ev = f"id: {i}\ndata: e{i}\n\n: hb\n\n".encode()
                writer.write(b"%x\r\n%s\r\n" % (len(ev), ev))
                await writer.drain()
                await asyncio.sleep(0.005)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            writer.close()
        except (ConnectionError, OSError):
            pass


async def ws_read(port, quiet_after):
    """Connects; reads until quiet_after seconds pass with nothing new.
    Returns (messages, ws) with the connection still open."""
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10, compression=None)
    got = []
    while True:
        try:
            got.append(await asyncio.wait_for(ws.recv(), quiet_after))
        except asyncio.TimeoutError:
            return got, ws


def acts(api, mark, action, toxic=None):
    return [e for e in pt.events(api, mark) if e["action"] == action and (toxic is None or e.get("toxic") == toxic)]


def mark(api):
    ev = pt.events(api)
    return ev[-1]["i"] + 1 if ev else 0


def main():
    srv = Servers()
    proc, api = pt.start_proxy("--seed", "5")
    ws_port = pt.make_proxy(api, "ws", srv.ws_port)
    sse_port = pt.make_proxy(api, "sse", srv.sse_port)

    # 1. downstream: a blackhole that starts after the 5th message; removing
    # it delivers the rest, in order
    m0 = mark(api)
    api.ok("POST", "/proxies/ws/toxics", {"type": "blackhole", "name": "bh5",
                                          "attributes": {"after_messages": 5}})

    async def downstream():
        got, ws = await ws_read(ws_port, 1.5)
        assert got == [f"m{i}" for i in range(1, 6)], got
        st, _ = api.call("DELETE", "/proxies/ws/toxics/bh5")
        assert st == 204
        while len(got) < N:
            got.append(await asyncio.wait_for(ws.recv(), 10))
        await ws.close()
        return got
    got = asyncio.run(downstream())
    assert got == [f"m{i}" for i in range(1, N + 1)], got
    on = acts(api, m0, "schedule_on", "bh5")
    assert len(on) == 1 and on[0]["messages"] == 5, on
    assert acts(api, m0, "blackhole_hold", "bh5"), pt.events(api, m0)

    # 2. upstream: counted on the client's frames (masked), after the 2nd
    m0 = mark(api)
    api.ok("POST", "/proxies/ws/toxics", {"type": "blackhole", "name": "bhup", "stream": "upstream",
                                          "attributes": {"after_messages": 2}})

    async def upstream():
        ws = await websockets.connect(f"ws://127.0.0.1:{ws_port}/quiet", open_timeout=10, compression=None)
        back = []
        for i in range(1, 5):
            await ws.send(f"u{i}")
        try:
            while True:
                back.append(await asyncio.wait_for(ws.recv(), 1.5))
        except asyncio.TimeoutError:
            pass
        ws.transport.close()
        return back
    back = asyncio.run(upstream())
    assert back == ["u1", "u2"], back
    api.call("DELETE", "/proxies/ws/toxics/bhup")
    assert [e["messages"] for e in acts(api, m0, "schedule_on", "bhup")] == [2]

    # 3. SSE: limit_data with 0 bytes after the 3rd event ends the stream
    # right after it (heartbeat comments are not events)
    api.ok("POST", "/proxies/sse/toxics", {"type": "limit_data", "name": "ld3",
                                           "attributes": {"bytes": 0, "after_messages": 3}})
    c = http.client.HTTPConnection("127.0.0.1", sse_port, timeout=10)
    c.request("GET", "/sse")
    r = c.getresponse()
    assert r.status == 200
    data = []
    complete = True
    try:
        while True:
            line = r.readline()
            if not line:
                break
            if line.startswith(b"data:"):
                data.append(line.decode().split(":", 1)[1].strip())
    except (http.client.IncompleteRead, ConnectionError):
        complete = False
    c.close()
    assert data == ["e1", "e2", "e3"] and not complete, (data, complete)
    api.call("DELETE", "/proxies/sse/toxics/ld3")

    # 4. a raw TCP stream carries no messages: the toxic never starts there,
    # and the log says so once the proxy knows it is neither WS nor SSE
    echo = pt.EchoServer()
    raw_port = pt.make_proxy(api, "raw", echo.port)
    m0 = mark(api)
    api.ok("POST", "/proxies/raw/toxics", {"type": "limit_data", "name": "never", "stream": "upstream",
                                           "attributes": {"bytes": 0, "after_messages": 1}})
    s = pt.connect(raw_port)
    blob = bytes(range(256)) * 80  # 20 KiB without a blank line: no HTTP head
    s.sendall(blob)
    assert pt.recv_exact(s, len(blob)) == blob
    s.close()
    deadline = time.time() + 10
    while not acts(api, m0, "schedule_no_messages", "never") and time.time() < deadline:
        time.sleep(0.05)
    assert acts(api, m0, "schedule_no_messages", "never"), pt.events(api, m0)
    assert not acts(api, m0, "limit_close", "never")

    # 5. where no message can be counted: 400 with the reason
    st, err = api.call("POST", "/proxies/raw/toxics", {"type": "refuse", "attributes": {"after_messages": 1}})
    assert st == 400 and "after_messages" in err["error"], (st, err)
    st, err = api.call("POST", "/proxies/sse/toxics", {"type": "sse_drop", "stream": "upstream",
                                                       "attributes": {"after_messages": 1}})
    assert st == 400 and "downstream" in err["error"], (st, err)
    st, err = api.call("POST", "/proxies/raw/toxics", {"type": "latency", "attributes": {"after_messages": "x"}})
    assert st == 400, (st, err)

    assert proc.p.poll() is None
    assert proc.stop() == 0
    print("proxy_schedule_messages: ok")


if __name__ == "__main__":
    main()
