#!/usr/bin/python3
"""rtchaos-server: SIGTERM drains and exits 0. Queued events are flushed,
WebSocket clients get close 1001, SSE streams end, a waiting poll is answered,
and the process exits 0 before the drain deadline."""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from srvtest import Server, WSClosed  # noqa: E402


def main():
    srv = Server("--drain-ms", "8000")
    ws = srv.ws()
    ws.send({"op": "sub", "ch": "d"})
    assert ws.recv()["type"] == "subscribed"
    sse = srv.sse("ch=d")
    assert sse.next_data()["type"] == "subscribed"
    res = {}

    def poll():
        t0 = time.monotonic()
        res["poll"] = srv.json("GET", "/poll?ch=d&since=100000&timeout_ms=25000", timeout=30)
        res["took"] = time.monotonic() - t0

    # a poll past head waits (it is answered with a snapshot only when it
    # resolves); use a fresh channel so it waits for the next event
    th = threading.Thread(target=lambda: res.__setitem__("poll", srv.json(
        "GET", "/poll?ch=quiet&since=0&timeout_ms=25000", timeout=30)))
    th.start()
    srv.wait_parked_polls(1)
    srv.json("POST", "/publish/d", [{"data": i} for i in range(50)])
    t0 = time.monotonic()
    srv.proc.p.send_signal(signal.SIGTERM)
    try:
        rc = srv.proc.p.wait(timeout=15)
    except Exception:
        srv.proc.p.kill()
        raise AssertionError("did not exit within 15 s of SIGTERM")
    took = time.monotonic() - t0
    assert rc == 0, rc
    assert took < 8.5, f"exit took {took:.1f}s"
    th.join(5)
    assert res.get("poll") == [], res
    seqs = []
    try:
        while True:
            m = ws.recv(timeout=5)
            seqs.append(m["seq"])
    except WSClosed as e:
        assert e.code == 1001, (e.code, e.reason)
    assert seqs == list(range(1, 51)), seqs
    sseq = []
    while True:
        d = sse.next_data(timeout=5)
        if d is None:
            break
        sseq.append(d["seq"])
    assert sseq == list(range(1, 51)), sseq
    assert "draining" in srv.proc.stderr_text()
    print("ok")


if __name__ == "__main__":
    main()
