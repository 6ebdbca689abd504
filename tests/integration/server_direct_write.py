#!/usr/bin/python3
"""rtchaos-server: the direct write (--ws-write-direct, wflush.c). Live events
are written at the end of the loop pass that queued them instead of after a
WRITEABLE round trip, except while lws holds a partial write or the
connection is closing. This drives both paths at once and checks that
nothing is reordered, duplicated or lost between them: two publishers (HTTP
requests of one and of several events, and WebSocket "pub" bursts, many per
read) interleave on three channels while three readers take them — one that
keeps up (direct writes), one that reads in spurts through a 4 KB receive
buffer against an 8 KB send buffer (its socket fills and drains over and
over, so partial writes and the WRITEABLE backlog alternate with direct
writes), and one that reads nothing until the publishers are done (its
whole backlog goes the WRITEABLE way). Every reader must get every event of
every channel once, in order, in well-formed frames; the server counts its
direct writes in rtchaos_ws_direct_writes_total. The same again with 40
more readers and --send-threads 3, so the passes' writes are shared out
among sender threads (rtchaos_ws_send_split_passes_total > 0); and with
--ws-write-direct 0 (the WRITEABLE path only) it must give the same and
count no direct write. Last, peers that reset their connections while events are
written to them are closed and the server serves on."""
import json
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from srvtest import Server  # noqa: E402

CHANNELS = ("dw-a", "dw-b", "dw-c")
ROUNDS = 60               # per publisher and channel
WS_BURST = 6              # "pub" ops per WebSocket send
PAD = "x" * 1500          # so the slow readers' sockets fill up


def http_publisher(srv, counts, lock):
    for r in range(ROUNDS):
        for ch in CHANNELS:
            if r % 3 == 0:  # several events in one request: one fan-out pass
                evs = [{"data": {"src": "http", "r": r, "k": k, "pad": PAD}} for k in range(3)]
                srv.json("POST", f"/publish/{ch}", evs)
                n = 3
            else:
                srv.publish(ch, {"src": "http", "r": r, "pad": PAD})
                n = 1
            with lock:
                counts[ch] += n


def masked_frame(text):
    """A client text frame (masked, RFC 6455), to send several in one write."""
    body = text.encode()
    mask = os.urandom(4)
    hdr = bytes([0x81]) + (bytes([0x80 | len(body)]) if len(body) < 126
                           else bytes([0x80 | 126]) + struct.pack("!H", len(body)))
    return hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(body))


def ws_publisher(srv, counts, lock):
    ws = srv.ws()
    for r in range(ROUNDS):
        ch = CHANNELS[r % len(CHANNELS)]
        # one write per burst: the server reads several pubs per wake-up
        ws.sock.sendall(b"".join(
            masked_frame(json.dumps({"op": "pub", "ch": ch, "data": {"src": "ws", "r": r, "k": k, "pad": PAD}}))
            for k in range(WS_BURST)))
        with lock:
            counts[ch] += WS_BURST
    # every pub is in before the publisher goes: the pong comes after them
    ws.send({"op": "ping"})
    ws.recv_until(lambda m: m.get("type") == "pong", timeout=60)
    ws.close()


def reader(srv, name, out, ready, start, rcvbuf=None, spurt=None, wait_for=None):
    ws = srv.ws(rcvbuf=rcvbuf)
    for ch in CHANNELS:
        ws.send({"op": "sub", "ch": ch})
    got = {ch: [] for ch in CHANNELS}
    subscribed = 0
    while subscribed < len(CHANNELS):
        m = ws.recv(timeout=30)
        assert m["type"] == "subscribed", (name, m)
        subscribed += 1
    ready.release()
    start.wait(30)
    if wait_for is not None:
        assert wait_for.wait(120), f"{name}: publishers did not finish"
    n, ended = 0, set()
    while len(ended) < len(CHANNELS):  # until each channel's end marker
        m = ws.recv(timeout=60)
        if m.get("type") != "event":
            raise AssertionError(f"{name}: unexpected {m}")
        got[m["ch"]].append(m["seq"])
        if m["data"].get("end"):
            ended.add(m["ch"])
        n += 1
        if spurt and n % spurt == 0:
            time.sleep(0.02)  # let the server's socket fill
    out[name] = got
    ws.close()


def run(direct, threads=1, crowd=0):
    args = ["--sendq-max-msgs", "100000", "--sendq-max-bytes", str(1 << 30), "--sndbuf-bytes", "8192",
            "--idle-timeout-s", "120", "--ws-ping-s", "60", "--ws-write-direct", "1" if direct else "0",
            "--send-threads", str(threads)]
    srv = Server(*args, name=f"server-direct-{direct}-{threads}")
    try:
        out, counts, lock = {}, {ch: 0 for ch in CHANNELS}, threading.Lock()
        ready, start, done = threading.Semaphore(0), threading.Event(), threading.Event()
        readers = [
            threading.Thread(target=reader, args=(srv, "fast", out, ready, start), daemon=True),
            threading.Thread(target=reader, args=(srv, "spurts", out, ready, start),
                             kwargs={"rcvbuf": 4096, "spurt": 20}, daemon=True),
            threading.Thread(target=reader, args=(srv, "stalled", out, ready, start),
                             kwargs={"rcvbuf": 4096, "wait_for": done}, daemon=True),
        ] + [threading.Thread(target=reader, args=(srv, f"crowd{i}", out, ready, start), daemon=True)
             for i in range(crowd)]  # enough connections per pass for the sender threads to share it
        for t in readers:
            t.start()
        for _ in readers:
            assert ready.acquire(timeout=30), "a reader did not subscribe"
        pubs = [threading.Thread(target=http_publisher, args=(srv, counts, lock), daemon=True),
                threading.Thread(target=ws_publisher, args=(srv, counts, lock), daemon=True)]
        start.set()
        for t in pubs:
            t.start()
        for t in pubs:
            t.join(120)
            assert not t.is_alive(), "a publisher stalled"
        for ch in CHANNELS:  # the last event of each channel
            srv.publish(ch, {"end": True})
            counts[ch] += 1
        done.set()
        for t in readers:
            t.join(120)
            assert not t.is_alive(), "a reader stalled"
        for name in ["fast", "spurts", "stalled"] + [f"crowd{i}" for i in range(crowd)]:
            assert name in out, f"{name}: reader failed (see above)"
            for ch in CHANNELS:
                want = list(range(1, counts[ch] + 1))
                assert out[name][ch] == want, (direct, name, ch, len(out[name][ch]), counts[ch],
                                               [s for i, s in enumerate(out[name][ch]) if i + 1 != s][:5])
        m = srv.metrics()
        d = m.get("rtchaos_ws_direct_writes_total")
        assert d is not None, "rtchaos_ws_direct_writes_total missing"
        if direct:
            assert d > 0, "no direct write happened"
        else:
            assert d == 0, d
        split, helped = m["rtchaos_ws_send_split_passes_total"], m["rtchaos_ws_sender_writes_total"]
        if direct and threads > 1 and crowd:
            assert split > 0 and helped > 0, ("the sender threads never helped", split, helped)
        elif threads == 1 or not direct:
            assert split == 0 and helped == 0, (split, helped)
        total = sum(counts.values())
        assert m['rtchaos_messages_out_total{transport="ws",kind="live"}'] >= (3 + crowd) * total, m
        st, _, _ = srv.request("GET", "/healthz")
        assert st == 200, st
        writes = m['rtchaos_stream_writes_total{transport="ws"}']
        print(f"direct={direct} send-threads={threads}: {total} events x {3 + crowd} readers in order, "
              f"direct writes {d:.0f}, stream writes {writes:.0f}, passes shared {split:.0f}, "
              f"writes the sender threads sent {helped:.0f}",
              flush=True)
    finally:
        assert srv.stop() == 0


def vanishing_peers():
    """Peers that reset their connection (RST, no close frame) while events
    are written to them: a direct write can be the first to hear of it (the
    send fails) and must close the connection the way WRITEABLE's -1 does —
    the server keeps serving, the connections go, the others get everything."""
    srv = Server("--idle-timeout-s", "120", "--ws-ping-s", "60", name="server-direct-rst")
    try:
        ch = "dw-rst"
        keep = srv.ws()
        keep.send({"op": "sub", "ch": ch})
        assert keep.recv()["type"] == "subscribed"
        gone = []
        for _ in range(40):
            w = srv.ws()
            w.send({"op": "sub", "ch": ch})
            assert w.recv()["type"] == "subscribed"
            gone.append(w)
        n = 0
        for i, w in enumerate(gone):
            # abortive close: RST at once
            w.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            w.sock.close()
            srv.publish(ch, {"i": i, "pad": PAD})
            n += 1
        srv.publish(ch, {"end": True})
        n += 1
        seqs = []
        while not seqs or seqs[-1] < n:
            m = keep.recv(timeout=30)
            assert m["type"] == "event", m
            seqs.append(m["seq"])
        assert seqs == list(range(1, n + 1)), seqs
        key = 'rtchaos_connections{transport="ws"}'
        deadline = time.monotonic() + 20
        while srv.metrics()[key] != 1:
            assert time.monotonic() < deadline, f"reset peers still counted: {srv.metrics()[key]}"
            time.sleep(0.05)
        st, _, _ = srv.request("GET", "/healthz")
        assert st == 200, st
        keep.close()
        print("reset peers: closed, the server serves on", flush=True)
    finally:
        assert srv.stop() == 0


def main():
    run(True)
    run(True, threads=3, crowd=40)  # wflush.c's sender threads, a slice of each pass each
    run(False, threads=3)
    vanishing_peers()
    print("ok")


if __name__ == "__main__":
    main()
