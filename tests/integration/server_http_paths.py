#!/usr/bin/python3
"""rtchaos-server: the path rule of issue 11, on what the client sent.

libwebsockets 4.1 decodes %XX and removes dot segments before the server sees
a path, so `/publish/a%2F..%2Fb` used to publish into `b`. The server now
frames the bytes lws reads itself (rawtarget.c) and refuses, with 400 and a
closed connection, any request whose path holds an encoded separator (%2F,
%5C) or a dot segment (plain or encoded): on /publish, /sse, /poll, /healthz
and WebSocket handshakes alike, alone, after a good keep-alive request,
pipelined, and with the request split at every byte boundary. Nothing of a
refused publish reaches any channel. Upgrades other than WebSocket (h2c,
which lws would otherwise take and serve HTTP/2 past every check) are refused.
Legitimate traffic is untouched: keep-alive POSTs, pipelined GETs, names with
single dots, percent-encoded ordinary characters."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import srvtest  # noqa: E402
from rawhttp import exchange, request  # noqa: E402

SEP = "encoded separator"
DOT = "dot segment"
WS_HEADERS = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
              "Sec-WebSocket-Version": "13"}


def post(path, data):
    return request("POST", path, json.dumps({"data": data}).encode(), {"Content-Type": "application/json"})


def refused(resp, why):
    """A 400 naming the rule, with Connection: close."""
    assert resp.status == 400, resp
    assert why in resp.body.decode("latin-1"), (why, resp.body[:300])


def one(port, data, what, gap_s=0.0, chunks=None):
    resps, closed, rest = exchange(port, chunks or data, gap_s=gap_s, want=1, timeout_s=4.0, grace_s=0.2)
    assert len(resps) >= 1 and not rest, (what, resps, rest[:200])
    return resps, closed


def test_publish_paths(srv):
    p = srv.port
    bad = {
        "/publish/a%2F..%2Fb": SEP,     # the case: used to publish into b
        "/publish/a%2f..%2fb": SEP,
        "/publish/a%2Fb": SEP,
        "/publish/a%5C..%5Cb": SEP,
        "/publish/a/../b": DOT,
        "/publish/x/./b": DOT,
        "/publish/%2e%2e/b": DOT,
        "/publish/x/%2E%2E/b": DOT,
        "/publish/x/.%2e/b": DOT,
        "/publish/b/..": DOT,
        "/publish/b/.": DOT,
        "/publish/x/..?q=1": DOT,
    }
    for path, why in bad.items():
        resps, closed = one(p, post(path, 1), path)
        refused(resps[0], why)
        assert resps[0].headers.get("connection") == "close" and closed, (path, resps[0].headers, closed)
    # nothing reached b (or any channel): its first event is seq 1
    assert srv.publish("b", "first")["seq"] == 1
    # names with dots inside a segment and encoded ordinary characters are fine
    for path, ch in (("/publish/a.b", "a.b"), ("/publish/%61bc", "abc"), ("/publish/x..y", None)):
        resps, _ = one(p, post(path, 2), path)
        if ch:
            assert resps[0].status == 200 and json.loads(resps[0].body)["ch"] == ch, (path, resps[0])
        else:  # '..' inside a name: the channel-name rule's 400, not the path rule's
            assert resps[0].status == 400 and DOT not in resps[0].body.decode(), resps[0]


def test_every_endpoint(srv):
    p = srv.port
    for path in ("/x/../healthz", "/sse/../sse?ch=a", "/poll/./?ch=a", "/%2e%2e/metrics", "/healthz%2F"):
        resps, closed = one(p, request("GET", path), path)
        refused(resps[0], DOT if "." in path.replace("%2e", ".") else SEP)
        assert closed, path
    # the WebSocket handshake
    for path in ("/x/../ws", "/ws%2F", "/./ws"):
        resps, closed = one(p, request("GET", path, headers=WS_HEADERS), path)
        assert resps[0].status == 400 and closed, (path, resps[0])
    resps, _ = one(p, request("GET", "/ws", headers=WS_HEADERS), "/ws")
    assert resps[0].status == 101, resps[0]
    # h2c: lws would switch to HTTP/2 and serve streams no check of ours sees
    h2c = {"Upgrade": "h2c", "Connection": "Upgrade, HTTP2-Settings", "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"}
    resps, closed = one(p, request("GET", "/healthz", headers=h2c), "h2c")
    assert resps[0].status == 400 and closed, resps[0]


def test_keepalive_and_pipelined(srv):
    p = srv.port
    health = request("GET", "/healthz")
    # a good request, then (after its answer) a bad one on the same connection
    resps, closed, _ = exchange(p, [post("/publish/ka", 1), post("/publish/ka%2F..%2Fb", 2)], gap_s=0.3,
                                want=2, timeout_s=4.0)
    assert [r.status for r in resps] == [200, 400] and closed, resps
    refused(resps[1], SEP)
    # pipelined behind good GETs: the connection ends with the 400 (the good
    # heads read together with the bad one may be refused too), never a 200
    # for the bad one, never a publish
    resps, closed, _ = exchange(p, health + health + request("GET", "/sse/../x"), want=3, timeout_s=4.0)
    assert closed and resps and resps[-1].status == 400, resps
    assert all(r.status in (200, 400) for r in resps), resps
    # after an unknown upgrade (lws answers 403 itself and reads on)
    foo = request("GET", "/healthz", headers={"Upgrade": "foo", "Connection": "Upgrade"})
    resps, closed, _ = exchange(p, foo + post("/publish/a%2F..%2Fb", 3), want=2, timeout_s=4.0)
    assert all(r.status != 200 for r in resps), resps
    # pipelined GETs stay served in order on a kept connection
    resps, closed, _ = exchange(p, health * 3, want=3, timeout_s=4.0)
    assert [r.status for r in resps] == [200, 200, 200] and not closed, resps
    assert srv.publish("b", "second")["seq"] == 2


def test_split_everywhere(srv):
    """The rule holds whatever the reads look like: the request split into
    two writes at every byte boundary is refused each time."""
    p = srv.port
    data = post("/publish/a%2F..%2Fb", 9)
    for i in range(1, len(data)):
        resps, closed, rest = exchange(p, [data[:i], data[i:]], gap_s=0.01, want=1, timeout_s=3.0, grace_s=0.01)
        assert len(resps) == 1 and resps[0].status == 400, (i, resps, rest[:120])
    good = post("/publish/splitok", 1)
    for i in range(1, len(good), 7):
        resps, _, _ = exchange(p, [good[:i], good[i:]], gap_s=0.01, want=1, timeout_s=3.0, grace_s=0.01)
        assert len(resps) == 1 and resps[0].status == 200, (i, resps)
    assert srv.publish("b", "third")["seq"] == 3


def test_metrics(srv, before):
    m = srv.metrics()
    n = m.get("rtchaos_http_bad_targets_total", 0) - before
    assert n >= 40, m.get("rtchaos_http_bad_targets_total")  # every refusal above was counted
    assert srv.request("GET", "/healthz")[0] == 200


def main():
    srv = srvtest.Server("--handshake-timeout-ms", "2000", name="server-http-paths")
    try:
        before = srv.metrics().get("rtchaos_http_bad_targets_total", 0)
        test_publish_paths(srv)
        test_every_endpoint(srv)
        test_keepalive_and_pipelined(srv)
        test_split_everywhere(srv)
        test_metrics(srv, before)
        # a WebSocket subscriber next to all of it still gets its events
        ws = srv.ws()
        ws.send({"op": "sub", "ch": "b"})
        assert ws.recv()["type"] == "subscribed"
        srv.publish("b", "fourth")
        assert ws.recv()["seq"] == 4
    finally:
        assert srv.stop() == 0
    print("server_http_paths: ok")


if __name__ == "__main__":
    main()
