#!/usr/bin/python3
"""rtchaos-server: HTTP/1.1 as an attacker writes it (issue 11).

The reproduction first: two POST /publish requests in one TCP write used to
make libwebsockets 4.1 read the second head as the first body and then spin
for ever inside lws_service() (SIGTERM ignored). Now the first is answered,
the second gets 400 and the connection closes; /healthz answers within 1 s,
a WebSocket subscriber still gets events and SIGTERM exits 0 — with no
security, and with JWT auth for an anonymous, an authorised and a forbidden
publisher. Then every other framing case: pipelined mixes (also split at
every byte boundary), HEAD, chunked, no length, CL+TE, bad lengths, a body on
GET, over-cap bodies refused unread, short bodies and slow later keep-alive
requests cut at the request deadline, bytes behind an SSE / poll head."""
import json
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sectest  # noqa: E402
import srvtest  # noqa: E402
from rawhttp import exchange, request  # noqa: E402

PIPELINED = "pipelined behind another request"
HS_MS = 1500


def post(ch, data, headers=None):
    return request("POST", f"/publish/{ch}", json.dumps({"data": data}).encode(),
                   dict({"Content-Type": "application/json"}, **(headers or {})))


GET_HEALTH = request("GET", "/healthz")


def healthz_fast(srv):
    """/healthz answers within 1 s (the event loop is not stuck)."""
    t0 = time.monotonic()
    st, _, body = srv.request("GET", "/healthz", timeout=1.0)
    assert st == 200 and json.loads(body)["ok"] is True, (st, body)
    return time.monotonic() - t0


def expect(port, data, statuses, closed, gap_s=0.0, timeout_s=3.0, what="", grace_s=0.3):
    resps, was_closed, rest = exchange(port, data, gap_s=gap_s, want=len(statuses), timeout_s=timeout_s,
                                       grace_s=grace_s)
    got = [r.status for r in resps]
    assert got == statuses, (what, got, statuses, resps, rest[:200])
    if closed is not None:
        assert was_closed == closed, (what, "closed" if was_closed else "still open", resps)
    assert not rest, (what, "partial response", rest[:200])
    return resps


def assert_refused_pipelined(r):
    assert r.status == 400 and PIPELINED in json.loads(r.body)["msg"], r
    assert r.headers.get("connection") == "close", r.headers


def metric(srv, name):
    return srv.metrics().get(name, 0)


# ---- the reproduction ----------------------------------------------------

def test_repro_plain():
    srv = srvtest.Server("--drain-ms", "3000")
    try:
        ws = srv.ws()
        ws.send({"op": "sub", "ch": "a"})
        assert ws.recv()["type"] == "subscribed"
        resps = expect(srv.port, post("a", 1) + post("a", 2), [200, 400], True, what="POST+POST")
        assert json.loads(resps[0].body) == {"ch": "a", "seq": 1}, resps[0]
        assert_refused_pipelined(resps[1])
        assert ws.recv()["seq"] == 1
        healthz_fast(srv)
        assert srv.publish("a", 3)["seq"] == 2  # the refused one was not published
        got = ws.recv()
        assert got["seq"] == 2 and got["data"] == 3, got
        assert metric(srv, "rtchaos_http_pipelined_refused_total") == 1
    finally:
        t0 = time.monotonic()
        rc = srv.stop(timeout=10)
    assert rc == 0, rc
    assert time.monotonic() - t0 < 3.0 + 2.0, "SIGTERM took longer than the drain"


def test_repro_auth():
    k = sectest.Keys()
    try:
        policy = k.file("policy.json", {"rules": [
            {"channel": "user.{sub}", "subscribe": ["@authenticated"], "publish": ["@authenticated"]}]})
        audit = os.path.join(k.dir, "audit.jsonl")
        srv = srvtest.Server("--jwt-secret-file", k.secret, "--authz-policy", policy,
                             "--audit-log", audit, "--drain-ms", "3000", name="server-http11-auth")
        try:
            bob = {"Authorization": "Bearer " + k.token(sectest.claims("bob"))}
            ws = sectest.WS(srv.host, srv.port, "/ws", bob)
            ws.send({"op": "sub", "ch": "user.bob"})
            assert ws.recv()["type"] == "subscribed"
            cases = [("anonymous", "user.bob", {}, 401),
                     ("authorised", "user.bob", bob, 200),
                     ("forbidden", "user.alice", bob, 403)]
            for name, ch, hdrs, first in cases:
                resps = expect(srv.port, post(ch, name, hdrs) + post(ch, name + "2", hdrs),
                               [first, 400], True, what=name)
                assert_refused_pipelined(resps[1])
                healthz_fast(srv)
            assert ws.recv()["data"] == "authorised"
            srv.json("POST", "/publish/user.bob", {"data": "after"}, headers=bob)
            assert ws.recv()["data"] == "after"
            assert metric(srv, "rtchaos_http_pipelined_refused_total") == 3
            # a correctly signed token whose payload is not JSON, or holds a
            # NUL, is malformed (not a bad signature)
            for payload in (b"not json", b'{"sub":"b\\u0000ob","exp":9999999999}', b"{\"sub\":\"x\x00\"}"):
                tok = k.signed_raw(payload)
                st, _, body = srv.request("POST", "/publish/user.bob", {"data": 1},
                                          headers={"Authorization": "Bearer " + tok})
                assert st == 401 and "malformed" in json.loads(body)["msg"], (payload, st, body)
        finally:
            t0 = time.monotonic()
            rc = srv.stop(timeout=10)
        assert rc == 0, rc
        assert time.monotonic() - t0 < 5.0
        with open(audit) as f:
            lines = [json.loads(x) for x in f]
        assert sum(1 for x in lines if x.get("reason") == "malformed_token") >= 3, lines[-5:]
    finally:
        k.cleanup()


# ---- framing --------------------------------------------------------------

def test_pipelining(srv):
    p = srv.port
    # requests without a body pipeline: answered in order, connection kept
    resps = expect(p, GET_HEALTH * 3, [200, 200, 200], False, what="GET x3")
    expect(p, post("m", 1) + GET_HEALTH + request("GET", "/poll?ch=m&since=0"), [200, 200, 200], False,
           what="POST+GET+poll")
    assert json.loads(resps[0].body)["ok"] is True
    # a body behind another request: 400 after the answers before it, closed
    r = expect(p, GET_HEALTH + post("m", 2), [200, 400], True, what="GET+POST")
    assert_refused_pipelined(r[1])
    r = expect(p, post("m", 3) + GET_HEALTH + post("m", 4) + GET_HEALTH, [200, 200, 400], True,
               what="POST+GET+POST+GET")
    assert_refused_pipelined(r[2])
    expect(p, GET_HEALTH + request("GET", "/healthz", b"xx"), [200, 400], True, what="GET+GET with body")
    # HEAD and other methods: 405 and close
    expect(p, request("HEAD", "/healthz") + GET_HEALTH, [405], True, what="HEAD")
    expect(p, request("PUT", "/publish/m", b"{}") + GET_HEALTH, [405], True, what="PUT")
    healthz_fast(srv)


def test_split_everywhere(srv):
    """POST+GET split into two writes at every byte boundary: both answered
    in order; POST+POST: the second is either answered (its head was not in
    the first write's read) or refused as pipelined, never anything else."""
    p = srv.port
    a = post("split", 1) + GET_HEALTH
    for i in range(1, len(a)):
        expect(p, [a[:i], a[i:]], [200, 200], None, gap_s=0.01, timeout_s=3.0, what=f"POST+GET split at {i}",
               grace_s=0.01)
    first = post("split2", 1)
    b = first + post("split2", 2)
    cut, head_len = len(first), first.index(b"\r\n\r\n") + 4
    for i in range(1, len(b)):
        resps, closed, rest = exchange(p, [b[:i], b[i:]], gap_s=0.01, want=2, timeout_s=3.0, grace_s=0.01)
        assert [r.status for r in resps][:1] == [200] and len(resps) == 2 and not rest, (i, resps, rest)
        if resps[1].status == 400:
            assert_refused_pipelined(resps[1])
        else:
            # answered only when the second head was not whole in a read that
            # also held the end of the first request (a load-slowed server
            # may read both writes at once: then it is refused, also fine)
            assert resps[1].status == 200 and cut <= i < cut + head_len, (i, resps)
    healthz_fast(srv)


def test_bodies(srv):
    p = srv.port
    chunked = request("POST", "/publish/c", b"5\r\n{\"a\"\r\n0\r\n\r\n", {"Transfer-Encoding": "chunked"})
    r = expect(p, chunked + GET_HEALTH, [411], True, what="chunked")
    assert "Content-Length" in json.loads(r[0].body)["msg"]
    expect(p, b"POST /publish/c HTTP/1.1\r\nHost: x\r\n\r\n{}" + GET_HEALTH, [411], True, what="no length")
    expect(p, request("POST", "/publish/c", b"{}", {"Content-Length": "2", "Transfer-Encoding": "chunked"}),
           [400], True, what="CL+TE")
    for bad in ("abc", "-1", "2, 2", "99999999999999999999999"):
        expect(p, request("POST", "/publish/c", b"{}", {"Content-Length": bad}), [400], True, what=bad)
    expect(p, b"POST /publish/c HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
           [400], True, what="duplicate CL")
    # over the cap: 413 before a byte of the body is sent (so it was not read)
    for n in (4097, 10 ** 15):
        r = expect(p, f"POST /publish/c HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n".encode(),
                   [413], True, what=f"CL {n}")
        assert json.loads(r[0].body)["code"] == "too_large"
    # at the cap: read and published
    body = json.dumps({"data": "x" * (4096 - 20)}).encode()
    body += b" " * (4096 - len(body))
    expect(p, request("POST", "/publish/c", body), [200], None, what="at the cap")
    # explicit zero length: answered once (empty body is not JSON), keep-alive
    expect(p, request("POST", "/publish/c", b"") + GET_HEALTH, [400, 200], False, what="CL 0")
    healthz_fast(srv)


def test_early_answer_lingers(srv):
    """A client that writes a 1 MiB body in one blocking sendall to a server
    with a 4 kB cap and reads only afterwards still gets the 413: the server
    answered from the head, and closes by lingering (linger.h: FIN after the
    answer, the rest of the body read and discarded) instead of closing with
    unread input, whose RST would have wiped the answer from the client's
    receive queue. Then the lingering is bounded: a client that keeps sending
    after the answer is cut off (RST) within seconds."""
    lingered0 = metric(srv, "rtchaos_http_lingering_closes_total")
    cut0 = metric(srv, "rtchaos_http_lingering_cut_total")
    body = json.dumps({"data": "x" * (1 << 20)}).encode()
    head = (f"POST /publish/linger HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    def connect():
        # a small send buffer, as a client on a real network has in flight:
        # the 1 MiB cannot all sit in kernel buffers when the server answers
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)
        c.settimeout(10)
        c.connect(("127.0.0.1", srv.port))
        return c
    for i in range(5):
        c = connect()
        try:
            try:
                c.sendall(head + body)
                got = b""
                while b"\r\n" not in got:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    got += chunk
            except OSError as e:
                raise AssertionError(f"round {i}: no answer to an over-cap 1 MiB publish: {e!r}")
            assert got.startswith(b"HTTP/1.1 413"), (i, got[:200])
        finally:
            c.close()
    # bounded: keep sending after the answer; the server must cut us off
    c = connect()
    sent = 0
    t0 = time.monotonic()
    try:
        c.sendall(head)
        chunk = b"x" * 65536
        while time.monotonic() - t0 < 20:
            c.sendall(chunk)
            sent += len(chunk)
        raise AssertionError(f"a lingering connection still took input after 20 s ({sent} bytes)")
    except OSError:
        pass
    finally:
        c.close()
    assert sent < 64 * (1 << 20), sent
    healthz_fast(srv)
    assert metric(srv, "rtchaos_http_lingering_closes_total") >= lingered0 + 6
    assert metric(srv, "rtchaos_http_lingering_cut_total") >= cut0 + 1


def test_deadlines(srv):
    p = srv.port
    before = metric(srv, "rtchaos_http_request_timeouts_total")
    # a body shorter than its Content-Length
    t0 = time.monotonic()
    resps, closed, _ = exchange(p, b"POST /publish/d HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
                                timeout_s=15)
    assert closed and not resps, resps
    # a later keep-alive request that never completes
    resps, closed, _ = exchange(p, [GET_HEALTH, b"GET /heal"], gap_s=0.2, timeout_s=15)
    assert closed and [r.status for r in resps] == [200], resps
    # an idle keep-alive connection
    resps, closed, _ = exchange(p, GET_HEALTH, timeout_s=15)
    assert closed and [r.status for r in resps] == [200], resps
    took = time.monotonic() - t0
    after = metric(srv, "rtchaos_http_request_timeouts_total")
    # cut by our deadline (counted), not by libwebsockets' backstop
    assert after - before == 3, (before, after, took)


def test_bytes_behind_stream_heads(srv):
    p = srv.port
    before = metric(srv, "rtchaos_http_stuck_streams_closed_total")
    resps, closed, rest = exchange(p, request("GET", "/sse?ch=s") + b"GARBAGE", timeout_s=10)
    assert closed, "SSE stream with bytes behind its head was not closed"
    resps, closed, rest = exchange(p, request("GET", "/poll?ch=s&timeout_ms=20000") + GET_HEALTH,
                                   timeout_s=10)
    assert closed and not resps, resps
    assert metric(srv, "rtchaos_http_stuck_streams_closed_total") - before == 2
    # a normal SSE stream on the same server is untouched
    sse = srv.sse("ch=s")
    assert sse.next_data()["type"] == "subscribed"
    srv.publish("s", 5)
    assert sse.next_data()["data"] == 5
    sse.close()
    healthz_fast(srv)


def main():
    test_repro_plain()
    test_repro_auth()
    srv = srvtest.Server("--max-payload-bytes", "4096", "--handshake-timeout-ms", str(HS_MS),
                         name="server-http11")
    try:
        test_pipelining(srv)
        test_split_everywhere(srv)
        test_bodies(srv)
        test_early_answer_lingers(srv)
        test_deadlines(srv)
        test_bytes_behind_stream_heads(srv)
        healthz_fast(srv)
    finally:
        assert srv.stop() == 0
    print("server_http11: ok")


if __name__ == "__main__":
    main()
