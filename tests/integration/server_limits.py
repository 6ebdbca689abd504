#!/usr/bin/python3
"""rtchaos-server: payload caps and validation. An oversized WebSocket message
(single frame or fragmented) is closed with 1009, an oversized POST gets 413;
bad JSON, bad fields, bad channel names, bad ops get a clear bad_request error;
a bad batch stores nothing; the server keeps running and counts rejections."""
import json
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from srvtest import Server, WSClosed  # noqa: E402

CAP = 4096


def expect_close(ws, code):
    try:
        while True:
            ws.recv(timeout=10)
    except WSClosed as e:
        assert e.code == code, (e.code, e.reason)
        return e


def ws_error(ws, obj_or_text, code="bad_request"):
    ws.send(obj_or_text)
    m = ws.recv()
    assert m["type"] == "error" and m["code"] == code and m["msg"], m
    return m


def test_ws(srv):
    ws = srv.ws()
    e = ws_error(ws, "{not json")
    assert "invalid JSON" in e["msg"], e
    ws_error(ws, "[1,2]")
    ws_error(ws, {"ch": "a"})
    assert "unknown op" in ws_error(ws, {"op": "dance", "ch": "a"})["msg"]
    ws_error(ws, {"op": "sub", "ch": "bad..name"})
    ws_error(ws, {"op": "sub"})
    ws_error(ws, {"op": "sub", "ch": "a", "since": -3})
    ws_error(ws, {"op": "sub", "ch": "a", "since": "7"})
    ws_error(ws, {"op": "sub", "ch": "a", "epoch": 5})
    ws_error(ws, {"op": "pub", "ch": "a"})  # no data
    ws_error(ws, {"op": "pub", "ch": "a", "data": 1, "ts": "now"})
    ws.send_frame(2, b"\x00\x01binary")
    assert ws.recv()["code"] == "bad_request"
    # just under the cap is fine
    ws.send({"op": "pub", "ch": "a", "data": "x" * (CAP - 200), "ack": True})
    assert ws.recv()["type"] == "published"
    ws.send({"op": "ping"})
    assert ws.recv() == {"type": "pong"}
    # one frame over the cap
    ws.send({"op": "pub", "ch": "a", "data": "x" * CAP})
    expect_close(ws, 1009)
    # a fragmented message over the cap
    ws = srv.ws()
    ws.send_frame(1, b'{"op":"pub","ch":"a","data":"' + b"y" * 3000, fin=False)
    ws.send_frame(0, b"y" * 3000, fin=False)
    ws.send_frame(0, b'"}', fin=True)
    expect_close(ws, 1009)
    # invalid UTF-8 in a text frame
    ws = srv.ws()
    ws.send_frame(1, b'{"op":"ping","x":"\xff\xfe"}')
    expect_close(ws, 1007)
    # a fragmented message under the cap is reassembled
    ws = srv.ws()
    ws.send_frame(1, b'{"op":', fin=False)
    ws.send_frame(0, b'"ping"', fin=False)
    ws.send_frame(0, b'}', fin=True)
    assert ws.recv() == {"type": "pong"}
    ws.close()
    # upgrades are only accepted on /ws
    try:
        srv.ws("/elsewhere")
        raise AssertionError("upgrade on /elsewhere accepted")
    except (AssertionError, OSError) as e:
        assert "accepted" not in str(e), e


def test_http(srv):
    def err(method, path, body, status, code="bad_request", **kw):
        st, _, data = srv.request(method, path, body, **kw)
        assert st == status, (method, path, st, data)
        j = json.loads(data)
        assert j["type"] == "error" and j["code"] == code and j["msg"], j
        return j["msg"]

    assert "invalid JSON" in err("POST", "/publish/b", b"{oops", 400)
    assert "missing" in err("POST", "/publish/b", {"ts": 1}, 400)
    assert "unknown key" in err("POST", "/publish/b", {"data": 1, "extra": 2}, 400)
    err("POST", "/publish/b", {"data": 1, "ts": -5}, 400)
    err("POST", "/publish/b", {"data": 1, "ts": "yesterday"}, 400)
    err("POST", "/publish/b", "42", 400)
    err("POST", "/publish/b", [], 400)
    err("POST", "/publish/b..c", {"data": 1}, 400)
    err("POST", "/publish/" + "c" * 200, {"data": 1}, 400)
    # a batch with one bad event stores nothing
    srv.publish("b", 0)
    assert "event 2" in err("POST", "/publish/b", [{"data": 1}, {"data": 2}, {"nodata": 3}], 400)
    assert "1..3 events" in err("POST", "/publish/b", [{"data": i} for i in range(4)], 400)
    assert srv.publish("b", "next")["seq"] == 2
    # caps
    assert "too_large" == json.loads(srv.request("POST", "/publish/b", {"data": "z" * CAP})[2])["code"]
    err("POST", "/publish/b", {"data": "z" * CAP}, 413, "too_large")
    err("POST", "/publish/b", b"z" * (CAP * 20), 413, "too_large")
    err("GET", "/nope", None, 404)
    st, _, _ = srv.request("PUT", "/publish/b", {"data": 1})
    assert st == 405, st
    # chunked request bodies are refused clearly (lws 4.1 does not de-chunk them)
    s = socket.create_connection((srv.host, srv.port))
    s.sendall(b"POST /publish/b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"b\r\n{\"data\":17}\r\n0\r\n\r\n")
    s.settimeout(10)
    head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 411"), head[:100]
    s.close()
    # a client that sends half a request and hangs up does no harm
    s = socket.create_connection((srv.host, srv.port))
    s.sendall(b"POST /publish/b HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"da")
    s.close()
    assert srv.publish("b", "still here")["seq"] == 3


def main():
    srv = Server("--max-payload-bytes", str(CAP), "--max-batch", "3")
    try:
        test_ws(srv)
        test_http(srv)
        st, _, body = srv.request("GET", "/healthz")
        assert st == 200, (st, body)
        m = srv.metrics()
        assert m['rtchaos_rejections_total{reason="too_large"}'] >= 5, m
        assert m['rtchaos_rejections_total{reason="bad_request"}'] >= 20, m
    finally:
        assert srv.stop() == 0
    print("ok")


if __name__ == "__main__":
    main()
