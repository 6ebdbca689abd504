#!/usr/bin/python3
"""rtchaos-server: long-poll fallback. GET /poll returns missed envelopes at
once, waits up to timeout_ms for the next one (and returns it as soon as it is
published), returns [] on timeout, a snapshot past history or across epochs,
and refuses bad parameters."""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from srvtest import Server  # noqa: E402


def main():
    srv = Server("--history-max", "10", "--poll-max-ms", "20000")
    try:
        for i in range(1, 6):
            srv.publish("p", {"i": i})
        arr = srv.json("GET", "/poll?ch=p&since=2")
        assert [e["seq"] for e in arr] == [3, 4, 5] and arr[0]["data"] == {"i": 3}, arr
        assert all(e["type"] == "event" and e["ch"] == "p" for e in arr)

        # nothing new, no wait: []
        assert srv.json("GET", "/poll?ch=p&since=5") == []

        # waiting: the answer comes when the next event is published
        result = {}

        def poller():
            t0 = time.monotonic()
            result["arr"] = srv.json("GET", "/poll?ch=p&since=5&timeout_ms=15000", timeout=30)
            result["took"] = time.monotonic() - t0

        th = threading.Thread(target=poller)
        th.start()
        srv.wait_parked_polls(1)
        assert "arr" not in result, "poll answered before anything was published"
        srv.publish("p", {"i": 6})
        th.join(20)
        assert [e["seq"] for e in result["arr"]] == [6], result
        assert result["took"] < 14, result  # woken by the publish, not by the timeout

        # without since: waits for whatever comes next
        th = threading.Thread(target=lambda: result.__setitem__(
            "next", srv.json("GET", "/poll?ch=p&timeout_ms=15000", timeout=30)))
        th.start()
        srv.wait_parked_polls(1)
        srv.publish("p", {"i": 7})
        th.join(20)
        assert [e["seq"] for e in result["next"]] == [7], result

        # timeout: []
        t0 = time.monotonic()
        assert srv.json("GET", "/poll?ch=p&since=7&timeout_ms=300") == []
        assert time.monotonic() - t0 >= 0.25

        # past history: snapshot
        for i in range(8, 30):
            srv.publish("p", {"i": i})
        arr = srv.json("GET", "/poll?ch=p&since=1")
        assert len(arr) == 1 and arr[0]["type"] == "snapshot" and arr[0]["seq"] == 29, arr
        assert arr[0]["data"] == {"i": 29} and arr[0]["epoch"]
        # wrong epoch: snapshot, never a replay of another stream
        arr = srv.json("GET", "/poll?ch=p&since=25&epoch=not-this-one")
        assert len(arr) == 1 and arr[0]["type"] == "snapshot", arr
        arr = srv.json("GET", f"/poll?ch=p&since=25&epoch={arr[0]['epoch']}")
        assert [e["seq"] for e in arr] == [26, 27, 28, 29], arr

        # a poll on a fresh channel waits too
        th = threading.Thread(target=lambda: result.__setitem__(
            "fresh", srv.json("GET", "/poll?ch=fresh&since=0&timeout_ms=15000", timeout=30)))
        th.start()
        srv.wait_parked_polls(1)
        srv.publish("fresh", "hello")
        th.join(20)
        assert [(e["seq"], e["data"]) for e in result["fresh"]] == [(1, "hello")], result

        for bad in ("/poll", "/poll?ch=a..b", "/poll?ch=p&since=-1", "/poll?ch=p&since=x",
                    "/poll?ch=p&timeout_ms=soon", "/poll?ch=p&ch=q"):
            st, _, body = srv.request("GET", bad)
            assert st == 400 and json.loads(body)["code"] == "bad_request", (bad, st, body)
        m = srv.metrics()
        assert m['rtchaos_connections_total{transport="poll"}'] >= 9, m
        assert m['rtchaos_connections{transport="poll"}'] == 0, m
    finally:
        assert srv.stop() == 0
    print("ok")


if __name__ == "__main__":
    main()
