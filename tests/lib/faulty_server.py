#!/usr/bin/python3
"""faulty_server — a TEST-ONLY server speaking wire contract v1 (WebSocket
/ws subscribe with since/epoch, HTTP POST /publish/<ch>) that can be wrong on
purpose, to prove that the fleet's checkers name each fault correctly.

    faulty_server.py --fault none|drop|duplicate|reorder|ignore_since|
                             replay_off_by_one|omit_snapshot|no_sse_head|
                             late_start|misroute|restamp|ms_ts|
                             bad_value|stale|stale_far|new_epoch [--history N] [--one-port]

Prints "listening 127.0.0.1:PORT" (WebSocket clients) then
"publish 127.0.0.1:PORT" (HTTP: POST /publish/<ch>, SSE clients on
GET /sse?ch=a&ch=b with Last-Event-ID, long-polls on
GET /poll?ch=a&since=N&epoch=E&timeout_ms=T) on stdout once ready. With
--one-port the HTTP port also takes WebSocket upgrades on /ws (relayed to the
WebSocket port), so one URL serves every transport, as `rtchaos run --target`
expects; without it GET /ws there is a 404.

Faults (every other behaviour is correct):
  drop               live events with seq % 7 == 3 are not sent (nor
                     answered to a poll)
  duplicate          live events with seq % 7 == 3 are sent twice
  reorder            live events with seq % 5 == 2 are held and sent after the next one
  ignore_since       a resume is answered recovered:true but nothing is replayed
  replay_off_by_one  a resume replays from `since` instead of since+1
  omit_snapshot      a resume is answered recovered:false and no snapshot follows
  no_sse_head        correct, but SSE streams carry no `subscribed` (the client
                     learns its base from the first event, as from most servers)
  late_start         no_sse_head, and a fresh SSE subscription (no Last-Event-ID
                     position for the channel) misses every event published in
                     its first 2 s (a subscribe that takes effect late)
  misroute           live events with seq % 7 == 3 also go to every WebSocket
                     and SSE subscriber of another channel (a routing or
                     tenant-isolation bug: an event on a channel the client
                     never subscribed to)
  restamp            live WebSocket/SSE events are held 400 ms, then sent with
                     the server's clock as `ts` instead of the publisher's
                     (a latency that hides the server's own delay)
  ms_ts              correct, but `ts` is kept in milliseconds (its
                     microseconds truncated): not a hidden delay
  bad_value          events with seq % 7 == 3 carry data not as published
                     (a fields payload's f1 gets a '!', a string's last
                     character changes), kept so in history
  stale              events with seq % 7 == 3 carry the previous event's
                     data and ts (a stale value under a new seq), kept so
                     in history
  stale_far          events with seq % 7 == 3 carry the data and ts of the
                     event three before them (an older value under a new
                     seq), kept so in history
  new_epoch          correct, but 2.5 s after start the server takes a new
                     epoch (seqs 10 past the old head) and sends every
                     subscriber a snapshot of the value it already holds
                     (its ts the time the snapshot was taken)
"""
import argparse
import asyncio
import base64
import json
import random
import sys
import time
import urllib.parse

import websockets

FAULT = "none"
HISTORY = 1000
ONE_PORT = False
WS_PORT = 0
EPOCH = "faulty-%08x" % random.getrandbits(32)


class Channel:
    def __init__(self, name):
        self.name = name
        self.head = 0
        self.hist = []  # (seq, envelope text)
        self.subs = set()
        self.ids = {}
        self.waiters = set()  # asyncio.Event of each waiting poll


channels = {}


def chan(name):
    if name not in channels:
        channels[name] = Channel(name)
    return channels[name]


class Sub:
    def __init__(self, q):
        self.q = q
        self.held = {}  # channel -> held envelope (reorder)


def env(ch, seq, ts, data, typ="event"):
    o = {"ch": ch, "seq": seq, "ts": ts, "type": typ, "data": data}
    if typ == "snapshot":
        o["epoch"] = EPOCH
    return json.dumps(o, separators=(",", ":"))


def fan_out(c, seq, text):
    for s in list(c.subs):
        if FAULT == "drop" and seq % 7 == 3:
            continue
        if FAULT == "duplicate" and seq % 7 == 3:
            s.q.put_nowait(text)
        if FAULT == "reorder":  # within the channel: seq n+1 goes out before n
            if seq % 5 == 2 and c.name not in s.held:
                s.held[c.name] = text
                continue
            s.q.put_nowait(text)
            if c.name in s.held:
                s.q.put_nowait(s.held.pop(c.name))
            continue
        s.q.put_nowait(text)


RESTARTED = False
STARTED = time.monotonic()


def restart_epoch():
    """new_epoch: a new epoch whose seqs start 10 past the old head, and a
    snapshot of each channel's value (the last event's data under the new
    epoch's head, with the time it was taken as ts) to every subscriber, as
    a server restored from a replica would send."""
    global EPOCH, RESTARTED
    RESTARTED = True
    EPOCH = "faulty-%08x" % random.getrandbits(32)
    for c in channels.values():
        last = json.loads(c.hist[-1][1]) if c.hist else None
        c.head += 10
        c.hist = []
        c.ids = {}
        if last is None:
            continue
        # the snapshot's ts: the time it was taken (a reading servers make)
        snap = env(c.name, c.head, int(time.time() * 1e6), last["data"], "snapshot")
        c.hist.append((c.head, json.dumps(dict(last, seq=c.head))))
        for s in list(c.subs):
            s.q.put_nowait(snap)


def publish(name, item):
    c = chan(name)
    idem = item.get("id")
    if idem is not None and idem in c.ids:
        return c.ids[idem]
    if FAULT == "new_epoch" and not RESTARTED and time.monotonic() - STARTED > 2.5:
        restart_epoch()
    c.head += 1
    seq = c.head
    ts = item.get("ts", 0)
    if FAULT == "ms_ts":  # correct, but keeps ts in milliseconds (truncates the µs)
        ts = ts // 1000 * 1000
    data = item.get("data")
    if FAULT == "bad_value" and seq % 7 == 3:  # one field's value changed, in the whole event
        if isinstance(data, dict) and "f1" in data:
            data = dict(data, f1=data["f1"] + "!")
        elif isinstance(data, str) and data:
            data = data[:-1] + ("y" if data[-1] != "y" else "z")
    if FAULT == "stale" and seq % 7 == 3 and c.hist:  # the previous event's value (and ts) again
        prev = json.loads(c.hist[-1][1])
        ts, data = prev["ts"], prev["data"]
    if FAULT == "stale_far" and seq % 7 == 3 and len(c.hist) >= 3:  # the value of three events back
        prev = json.loads(c.hist[-3][1])
        ts, data = prev["ts"], prev["data"]
    text = env(name, seq, ts, data)
    c.hist.append((seq, text))
    if len(c.hist) > HISTORY:
        del c.hist[0]
    if idem is not None:
        c.ids[idem] = seq
    if FAULT == "restamp":
        # held 400 ms, then sent with the server's own clock as ts: the
        # latency a harness trusting ts would see is ~0
        def later():
            fan_out(c, seq, env(name, seq, int(time.time() * 1e6), item.get("data")))
        asyncio.get_running_loop().call_later(0.4, later)
    else:
        fan_out(c, seq, text)
    if FAULT == "misroute" and seq % 7 == 3:
        # also to every WebSocket/SSE subscriber of another channel that
        # did not subscribe to this one, once each
        for s in {s for o in channels.values() if o is not c for s in o.subs} - c.subs:
            s.q.put_nowait(text)
    for w in list(c.waiters):
        w.set()
    return seq


async def poll(path):
    """GET /poll (wire contract §6): the events after since, a snapshot when
    history does not reach back or the epoch differs, else waits up to
    timeout_ms for the next one. Returns (status, body)."""
    q = urllib.parse.parse_qs(urllib.parse.urlparse(path).query)
    if len(q.get("ch", [])) != 1:
        return 400, {"type": "error", "code": "bad_request", "msg": "one ch"}
    c = chan(q["ch"][0])
    timeout_s = min(int(q.get("timeout_ms", ["25000"])[0]), 30000) / 1000.0
    since = int(q["since"][0]) if "since" in q else c.head
    oldest = c.hist[0][0] if c.hist else c.head + 1
    if q.get("epoch", [EPOCH])[0] != EPOCH or since > c.head or (since < c.head and since + 1 < oldest):
        if not c.hist:
            return 200, []
        last = json.loads(c.hist[-1][1])
        return 200, [json.loads(env(c.name, c.head, last["ts"], last["data"], "snapshot"))]
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        out = [json.loads(t) for seq, t in c.hist
               if seq > since and not (FAULT == "drop" and seq % 7 == 3)][:1000]
        left = deadline - asyncio.get_running_loop().time()
        if out or left <= 0:
            return 200, out
        w = asyncio.Event()
        c.waiters.add(w)
        try:
            await asyncio.wait_for(w.wait(), left)
        except asyncio.TimeoutError:
            pass
        finally:
            c.waiters.discard(w)


async def relay_ws(reader, writer, head):
    """--one-port: hands a WebSocket upgrade on the HTTP port to the
    WebSocket server, bytes both ways unchanged."""
    r2, w2 = await asyncio.open_connection("127.0.0.1", WS_PORT)
    w2.write(head)

    async def pipe(r, w):
        try:
            while True:
                d = await r.read(65536)
                if not d:
                    break
                w.write(d)
                await w.drain()
        except ConnectionError:
            pass
        finally:
            w.close()

    await asyncio.gather(pipe(reader, w2), pipe(r2, writer))


def subscribe(sub, msg):
    c = chan(msg["ch"])
    since = msg.get("since")
    head = c.head
    if since is None:
        sub.q.put_nowait(json.dumps({"type": "subscribed", "ch": c.name, "seq": head,
                                     "epoch": EPOCH, "recovered": False}))
        c.subs.add(sub)
        return c
    since = int(since)
    oldest = c.hist[0][0] if c.hist else head + 1
    can_replay = since + 1 >= oldest and since <= head and msg.get("epoch", EPOCH) == EPOCH
    if FAULT == "ignore_since":
        sub.q.put_nowait(json.dumps({"type": "subscribed", "ch": c.name, "seq": head,
                                     "epoch": EPOCH, "recovered": True}))
    elif FAULT == "omit_snapshot" or not can_replay:
        sub.q.put_nowait(json.dumps({"type": "subscribed", "ch": c.name, "seq": head,
                                     "epoch": EPOCH, "recovered": False}))
        if FAULT != "omit_snapshot" and c.hist:
            last = json.loads(c.hist[-1][1])
            sub.q.put_nowait(env(c.name, head, last["ts"], last["data"], "snapshot"))
    else:
        sub.q.put_nowait(json.dumps({"type": "subscribed", "ch": c.name, "seq": head,
                                     "epoch": EPOCH, "recovered": True}))
        start = since if FAULT == "replay_off_by_one" else since + 1
        for seq, text in c.hist:
            if start <= seq <= head:
                sub.q.put_nowait(text)
    c.subs.add(sub)
    return c


async def ws_handler(ws, path="/ws"):
    q = asyncio.Queue()
    sub = Sub(q)
    mine = []

    async def sender():
        while True:
            await ws.send(await q.get())

    task = asyncio.ensure_future(sender())
    try:
        async for raw in ws:
            try:
                msg = json.loads(raw)
            except ValueError:
                await ws.send(json.dumps({"type": "error", "code": "bad_request", "msg": "bad json"}))
                continue
            if msg.get("op") == "sub":
                mine.append(subscribe(sub, msg))
            elif msg.get("op") == "ping":
                q.put_nowait(json.dumps({"type": "pong"}))
    except websockets.ConnectionClosed:
        pass
    finally:
        task.cancel()
        for c in mine:
            c.subs.discard(sub)


def sse_id(pos):
    return base64.urlsafe_b64encode(json.dumps(pos, sort_keys=True).encode()).decode()


async def sse_stream(writer, path, last_id):
    """GET /sse?ch=a&ch=b: every envelope as one event whose id encodes the
    position in every channel; Last-Event-ID resumes each channel."""
    q = urllib.parse.urlparse(path)
    names = urllib.parse.parse_qs(q.query).get("ch", [])
    pos = {}
    if last_id:
        try:
            pos = json.loads(base64.urlsafe_b64decode(last_id.encode()))
        except ValueError:
            pos = {}
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
                 b"retry: 100\n\n")
    queue = asyncio.Queue()
    sub = Sub(queue)
    mine = []
    fresh_until = {}  # late_start: channel -> loop time its events start flowing
    now = asyncio.get_running_loop().time()
    for name in names:
        if FAULT == "late_start" and name not in pos:
            fresh_until[name] = now + 2.0
        msg = {"op": "sub", "ch": name}
        if name in pos:
            msg["since"] = pos[name]
        mine.append(subscribe(sub, msg))
    try:
        while True:
            text = await queue.get()
            o = json.loads(text)
            ch = o.get("ch")
            if o.get("type") == "subscribed":
                if FAULT in ("no_sse_head", "late_start"):
                    continue  # the client learns nothing of the head
                pos.setdefault(ch, o["seq"])
            elif ch in fresh_until and asyncio.get_running_loop().time() < fresh_until[ch]:
                continue  # late_start: not yet subscribed, in effect
            elif o.get("type") in ("event", "snapshot"):
                pos[ch] = o["seq"]
            writer.write(("id: %s\ndata: %s\n\n" % (sse_id(pos), text)).encode())
            await writer.drain()
    finally:
        for c in mine:
            c.subs.discard(sub)


async def http_conn(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            method, path, _ = line.decode().split(" ", 2)
            length = 0
            last_id = None
            head = line
            while True:
                h = await reader.readline()
                head += h
                if h in (b"\r\n", b"\n", b""):
                    break
                k, _, v = h.decode().partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
                if k.strip().lower() == "last-event-id":
                    last_id = v.strip()
            if method == "GET" and path.startswith("/sse"):
                await sse_stream(writer, path, last_id)
                return
            if ONE_PORT and method == "GET" and path.startswith("/ws"):
                await relay_ws(reader, writer, head)
                return
            body = await reader.readexactly(length) if length else b""
            status, out = 404, {"type": "error", "code": "bad_request", "msg": "not found"}
            if method == "GET" and path.startswith("/poll"):
                status, out = await poll(path)
            if method == "POST" and path.startswith("/publish/"):
                name = path[len("/publish/"):]
                j = json.loads(body)
                if isinstance(j, list):
                    seqs = [publish(name, it) for it in j]
                    status, out = 200, {"ch": name, "seq": seqs[-1], "seqs": seqs}
                else:
                    status, out = 200, {"ch": name, "seq": publish(name, j)}
            data = json.dumps(out).encode()
            writer.write(b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
                         % (status, len(data)) + data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()


async def main():
    global FAULT, HISTORY, ONE_PORT, WS_PORT
    ap = argparse.ArgumentParser()
    ap.add_argument("--fault", default="none",
                    choices=["none", "drop", "duplicate", "reorder", "ignore_since",
                             "replay_off_by_one", "omit_snapshot", "no_sse_head", "late_start",
                             "misroute", "restamp", "ms_ts", "bad_value", "stale", "stale_far",
                             "new_epoch"])
    ap.add_argument("--history", type=int, default=1000)
    ap.add_argument("--one-port", action="store_true")
    a = ap.parse_args()
    FAULT, HISTORY, ONE_PORT = a.fault, a.history, a.one_port
    ws_srv = await websockets.serve(ws_handler, "127.0.0.1", 0, ping_interval=None)
    WS_PORT = ws_srv.sockets[0].getsockname()[1]
    http_srv = await asyncio.start_server(http_conn, "127.0.0.1", 0)
    print("listening 127.0.0.1:%d" % ws_srv.sockets[0].getsockname()[1], flush=True)
    print("publish 127.0.0.1:%d" % http_srv.sockets[0].getsockname()[1], flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
