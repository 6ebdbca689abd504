#!/usr/bin/python3
"""rtchaos-server: heartbeats and idle timeouts. SSE streams get ": hb"
comments; WebSocket peers get protocol pings and stay while they answer; a
peer that never answers pings is closed; an SSE stream whose socket makes no
progress (the client stopped reading) is closed and counted."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from srvtest import Server, WSClosed, wait_until  # noqa: E402


def main():
    srv = Server("--heartbeat-ms", "200", "--ws-ping-s", "1", "--idle-timeout-s", "3",
                 "--sndbuf-bytes", "4096")
    try:
        # SSE heartbeat comments
        sse = srv.sse("ch=hb")
        assert sse.next_data()["type"] == "subscribed"
        comments = 0
        t0 = time.monotonic()
        while comments < 3:
            m = sse.next(timeout=5)
            assert m is not None
            if m["comment"] == "hb":
                comments += 1
        assert time.monotonic() - t0 < 5

        # a WS client that answers pings stays; one that does not is closed
        good = srv.ws(auto_pong=True)
        bad = srv.ws(auto_pong=False)
        state = {"stop": False, "err": None, "pong": False}

        def keep_reading():  # answers pings until told to stop, then pings itself
            try:
                while not state["stop"]:
                    try:
                        good.recv(timeout=0.2)
                    except (TimeoutError, OSError):
                        pass
                good.send({"op": "ping"})
                good.recv_until(lambda x: x.get("type") == "pong", timeout=5)
                state["pong"] = True
            except Exception as e:  # noqa: BLE001 - reported below
                state["err"] = e

        th = threading.Thread(target=keep_reading)
        th.start()
        t0 = time.monotonic()
        try:
            while True:
                bad.recv(timeout=20)
        except WSClosed:
            pass
        took = time.monotonic() - t0
        assert 2.0 <= took <= 15, f"silent peer closed after {took:.1f}s (ping 1s, idle 3s)"
        assert bad.pings >= 1, "the silent peer was pinged first"
        wait_until(lambda: srv.metrics()['rtchaos_idle_closes_total{transport="ws"}'] >= 1,
                   what="the pong timeout counted")
        time.sleep(2.0)
        state["stop"] = True
        th.join(10)
        assert state["pong"] and state["err"] is None, state
        assert good.pings >= 3, good.pings

        # an SSE client that stops reading: no write progress -> closed
        stuck = srv.sse("ch=big", rcvbuf=4096)
        assert stuck.next_data()["type"] == "subscribed"
        for start in range(0, 300, 20):
            srv.json("POST", "/publish/big", [{"data": "x" * 2000} for _ in range(20)])
        m = wait_until(lambda: (lambda mm: mm if mm['rtchaos_idle_closes_total{transport="sse"}'] >= 1 else None)(srv.metrics()),
                       timeout=20, what="idle SSE close")
        m = wait_until(lambda: (lambda mm: mm if mm['rtchaos_connections{transport="sse"}'] == 1 else None)(srv.metrics()),
                       timeout=15, what="the stuck stream gone, the healthy one still there")
        assert m["rtchaos_sendq_messages"] == 0, m
        assert m["rtchaos_heartbeats_total"] >= 3
        # the healthy stream is unaffected
        srv.publish("hb", "alive")
        while True:
            d = sse.next_data(timeout=5)
            if d["type"] == "event":
                assert d["data"] == "alive"
                break
        sse.close()
        stuck.close()
        good.close()
    finally:
        assert srv.stop() == 0
    heartbeat_rate()
    print("ok")


def heartbeat_rate():
    """The interval is kept on average: a 100 ms heartbeat comes 10 times a
    second, not once a tick late each time (the 50 ms wheel made it 150 ms:
    two thirds of the rate)."""
    srv = Server("--heartbeat-ms", "100")
    try:
        sse = srv.sse("ch=rate")
        assert sse.next_data()["type"] == "subscribed"
        n, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < 4.0:
            m = sse.next(timeout=2)
            assert m is not None, "no heartbeat within 2 s"
            if m["comment"] == "hb":
                n += 1
        want = (time.monotonic() - t0) / 0.1
        assert n >= 0.85 * want, f"{n} heartbeats in {want / 10:.1f} s at 100 ms (want about {want:.0f})"
        sse.close()
    finally:
        assert srv.stop() == 0


if __name__ == "__main__":
    main()
