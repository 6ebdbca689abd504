#!/usr/bin/python3
"""rtchaos-server: idempotent publish. A publish carrying an "id" that repeats
one within the history window returns the original seq and is not fanned out
again; over HTTP (single and batch) and WebSocket."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from srvtest import Server, events_of  # noqa: E402


def main():
    srv = Server("--history-max", "4")
    try:
        ws = srv.ws()
        ws.send({"op": "sub", "ch": "i"})
        assert ws.recv()["type"] == "subscribed"
        a = srv.publish("i", {"order": 1}, id="req-1")
        assert a == {"ch": "i", "seq": 1}, a
        again = srv.publish("i", {"order": 1}, id="req-1")
        assert again["seq"] == 1 and again["duplicates"] == 1, again
        b = srv.publish("i", {"order": 2}, id="req-2")
        assert b["seq"] == 2
        r = srv.json("POST", "/publish/i", [{"data": 3, "id": "req-3"}, {"data": 1, "id": "req-1"},
                                            {"data": 4}])
        assert r["seqs"] == [3, 1, 4] and r["duplicates"] == 1, r
        ws.send({"op": "pub", "ch": "i", "data": 2, "id": "req-2", "ack": True})
        got = ws.recv_until(lambda m: m.get("type") == "published")
        assert got[-1] == {"type": "published", "ch": "i", "seq": 2}, got
        srv.publish("i", "last")
        got += ws.recv_until(lambda m: m.get("seq") == 5)
        assert events_of(got) == [1, 2, 3, 4, 5], got  # each once
        assert [m for m in got if m.get("type") == "event" and m["seq"] == 1][0]["data"] == {"order": 1}
        m = srv.metrics()
        assert m["rtchaos_publish_duplicates_total"] == 3, m["rtchaos_publish_duplicates_total"]
        # after req-1 leaves the window (4 events) it is a new event
        for i in range(4):
            srv.publish("i", i)
        assert srv.publish("i", {"order": 1}, id="req-1")["seq"] == 10
        # bad ids are refused
        for bad in ("", 17, "x" * 129):
            st, _, body = srv.request("POST", "/publish/i", {"data": 1, "id": bad})
            assert st == 400 and b"id" in body, (bad, st, body)
        ws.close()
    finally:
        assert srv.stop() == 0
    print("ok")


if __name__ == "__main__":
    main()
