#!/usr/bin/python3
"""rtchaos-server: resync. WS `since` replay, SSE resume by Last-Event-ID and
?last_event_id=, resume past the history (count and age bounds) answered with
a snapshot, epoch changes (restart without durable history, admin reset)
answered with recovered:false + snapshot, and garbage ids refused."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from srvtest import Server, events_of  # noqa: E402


def sub(ws, ch, **kw):
    ws.send(dict(op="sub", ch=ch, **kw))
    m = ws.recv()
    assert m["type"] == "subscribed" and m["ch"] == ch, m
    return m


def test_ws_replay(srv):
    for i in range(1, 11):
        srv.publish("r", {"i": i})
    ws = srv.ws()
    s = sub(ws, "r", since=6)
    assert s["recovered"] is True and s["seq"] == 10, s
    got = ws.recv_until(lambda m: m.get("seq") == 10)
    assert events_of(got) == [7, 8, 9, 10], got
    srv.publish("r", {"i": 11})
    assert ws.recv()["seq"] == 11
    # since == head: nothing replayed, recovered
    s = sub(ws, "r", since=11, epoch=s["epoch"])
    assert s["recovered"] is True
    srv.publish("r", {"i": 12})
    assert ws.recv()["seq"] == 12
    ws.close()


def test_sse_resume(srv):
    sse = srv.sse("ch=s1&ch=s2")
    assert sse.next_data()["type"] == "subscribed"
    assert sse.next_data()["type"] == "subscribed"
    for i in range(1, 4):
        srv.publish("s1", i)
        srv.publish("s2", i * 10)
    got = [sse.next() for _ in range(6)]
    mark = got[3]["id"]  # after s1:2 s2:2 (published interleaved)
    assert [(g["data"]["ch"], g["data"]["seq"]) for g in got[:4]] == [("s1", 1), ("s2", 1), ("s1", 2), ("s2", 2)]
    sse.close()
    srv.publish("s1", 4)
    for via_header in (True, False):
        if via_header:
            r = srv.sse("ch=s1&ch=s2", last_event_id=mark)
        else:
            r = srv.sse(f"ch=s1,s2&last_event_id={mark}")
        subs = [r.next_data(), r.next_data()]
        assert all(s["type"] == "subscribed" and s["recovered"] is True for s in subs), subs
        seen = {}
        while sum(len(v) for v in seen.values()) < 3:
            d = r.next_data()
            seen.setdefault(d["ch"], []).append(d["seq"])
        assert seen == {"s1": [3, 4], "s2": [3]}, seen
        r.close()
    # garbage ids are refused with a clear error
    for bad in ("nonsense", "AAAAAAAAAAAAAAAA", mark[:-2]):
        st, _, body = srv.request("GET", "/sse?ch=s1", headers={"Last-Event-ID": bad})
        assert st == 400 and b"bad_request" in body, (st, body)


def test_past_history():
    srv = Server("--history-max", "5")
    try:
        for i in range(1, 21):
            srv.publish("h", {"i": i}, ts=1000 + i)
        ws = srv.ws()
        s = sub(ws, "h", since=3)
        assert s["recovered"] is False and s["seq"] == 20, s
        snap = ws.recv()
        assert snap["type"] == "snapshot" and snap["seq"] == 20 and snap["data"] == {"i": 20}, snap
        assert snap["epoch"] == s["epoch"] and snap["ts"] == 1020, snap
        srv.publish("h", {"i": 21})
        assert ws.recv()["seq"] == 21
        # still in the ring: replayed
        s = sub(ws, "h", since=17)
        assert s["recovered"] is True
        assert events_of(ws.recv_until(lambda m: m.get("seq") == 21)) == [18, 19, 20, 21]
        # poll past history gets the snapshot too
        arr = srv.json("GET", "/poll?ch=h&since=2")
        assert len(arr) == 1 and arr[0]["type"] == "snapshot" and arr[0]["seq"] == 21, arr
        m = srv.metrics()
        assert m['rtchaos_resyncs_total{result="snapshot"}'] >= 2 and m['rtchaos_resyncs_total{result="recovered"}'] >= 1
        ws.close()
    finally:
        assert srv.stop() == 0


def test_age_bound():
    srv = Server("--history-max-age-ms", "300")
    try:
        for i in range(1, 4):
            srv.publish("age", i)
        time.sleep(0.8)
        ws = srv.ws()
        s = sub(ws, "age", since=1)
        assert s["recovered"] is False, s
        snap = ws.recv()
        assert snap["type"] == "snapshot" and snap["seq"] == 3 and snap["data"] == 3, snap
        ws.close()
    finally:
        assert srv.stop() == 0


def test_epoch_change():
    a = Server(name="server-a")
    try:
        for i in range(1, 6):
            a.publish("e", {"v": i})
        ws = a.ws()
        e1 = sub(ws, "e")["epoch"]
        ws.close()
        sse = a.sse("ch=e")
        sse.next_data()
        a.publish("e", {"v": 6})
        assert sse.next_data()["seq"] == 6
        old_id = sse.last_id
        sse.close()
    finally:
        assert a.stop() == 0
    b = Server(name="server-b")  # a restart: no durable history
    try:
        b.publish("e", {"v": "new1"})
        b.publish("e", {"v": "new2"})
        ws = b.ws()
        for since in (6, 1):  # seq 1 exists again, but in another stream
            s = sub(ws, "e", since=since, epoch=e1)
            assert s["recovered"] is False and s["epoch"] != e1 and s["seq"] == 2, s
            snap = ws.recv()
            assert snap["type"] == "snapshot" and snap["seq"] == 2 and snap["epoch"] == s["epoch"], snap
            assert snap["data"] == {"v": "new2"}
        # an older client that sends no epoch is judged by seq alone
        s = sub(ws, "e", since=6)
        assert s["recovered"] is False
        assert ws.recv()["type"] == "snapshot"
        ws.close()
        r = b.sse("ch=e", last_event_id=old_id)
        s = r.next_data()
        assert s["type"] == "subscribed" and s["recovered"] is False, s
        snap = r.next_data()
        assert snap["type"] == "snapshot" and snap["seq"] == 2, snap
        r.close()
        # a history reset changes the epoch too
        e2 = s["epoch"]
        rr = b.json("POST", "/admin/reset?ch=e")
        assert rr["epoch"] != e2 and rr["seq"] == 2, rr
        ws = b.ws()
        s = sub(ws, "e", since=2, epoch=e2)
        assert s["recovered"] is False and s["epoch"] == rr["epoch"], s
        snap = ws.recv()
        assert snap["type"] == "snapshot" and snap["data"] is None and snap["seq"] == 2, snap
        b.publish("e", 3)
        assert ws.recv()["seq"] == 3
        ws.close()
    finally:
        assert b.stop() == 0


def main():
    srv = Server()
    try:
        test_ws_replay(srv)
        test_sse_resume(srv)
    finally:
        assert srv.stop() == 0
    test_past_history()
    test_age_bound()
    test_epoch_change()
    print("ok")


if __name__ == "__main__":
    main()
