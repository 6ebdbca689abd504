#!/usr/bin/python3
"""proxy_toxics — every TCP-level toxic over real loopback sockets: pass-through,
Toxiproxy's toxics, blackhole, refuse, targeting, scheduling, seeded toxicity,
toxics added to open connections, deleting toxics under traffic, garbage."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import promtest  # noqa: E402
import proxytest as pt  # noqa: E402


def roundtrip(port, payload=b"x" * 16, timeout=10):
    s = pt.connect(port, timeout)
    t0 = time.monotonic()
    s.sendall(payload)
    got = pt.recv_exact(s, len(payload))
    dt = time.monotonic() - t0
    s.close()
    assert got == payload, (len(got), len(payload))
    return dt


def closed_by_peer(s, timeout=10):
    """Reads until EOF/reset; returns 'eof', 'reset' or 'open' (timeout)."""
    s.settimeout(timeout)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return "eof"
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        return "open"


def received_within(s, timeout):
    """Reads for timeout seconds; returns (bytes received, 'eof' | 'reset' |
    'open')."""
    got = b""
    end = time.monotonic() + timeout
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return got, "open"
            s.settimeout(left)
            d = s.recv(65536)
            if not d:
                return got, "eof"
            got += d
    except ConnectionResetError:
        return got, "reset"
    except socket.timeout:
        return got, "open"


def main():
    up = pt.EchoServer()
    proc, api = pt.start_proxy("--seed", "42")
    port = pt.make_proxy(api, "e", up.port)

    # pass-through, 4 MiB both ways
    blob = os.urandom(4 << 20)
    s = pt.connect(port, 30)
    pt.bulk_echo(s, blob)

    # that connection is now spliced (no toxic, not WS/SSE): a toxic added
    # now still applies to it, and once removed it is fast again
    _, text = api.call("GET", "/metrics")
    spliced = [int(x.split()[-1]) for x in text.splitlines()
               if x.startswith('rtchaos_proxy_spliced_bytes_total{proxy="e"}')]
    assert spliced and spliced[0] > 1 << 20, spliced
    api.ok("POST", "/proxies/e/toxics", {"type": "latency", "name": "late", "attributes": {"latency": 200}})
    t0 = time.monotonic()
    s.sendall(b"after-splice")
    assert pt.recv_exact(s, 12) == b"after-splice"
    assert time.monotonic() - t0 >= 0.19
    api.call("DELETE", "/proxies/e/toxics/late")
    s.sendall(blob[:200000])
    assert pt.recv_exact(s, 200000) == blob[:200000]
    # half-close through the splice path: our FIN reaches the echo server,
    # whose FIN comes back
    s.shutdown(socket.SHUT_WR)
    s.settimeout(10)
    assert s.recv(10) == b""
    s.close()

    # latency (downstream); a toxic added while a connection is open applies to it
    s = pt.connect(port)
    s.sendall(b"a")
    assert pt.recv_exact(s, 1) == b"a"
    api.ok("POST", "/proxies/e/toxics", {"type": "latency", "attributes": {"latency": 150}})
    t0 = time.monotonic()
    s.sendall(b"b")
    assert pt.recv_exact(s, 1) == b"b"
    assert time.monotonic() - t0 >= 0.145, "latency not applied to an open connection"
    s.close()
    assert roundtrip(port) >= 0.145
    _, text = api.call("GET", "/metrics")
    assert 'rtchaos_toxic_release_lateness_seconds_count{proxy="e",toxic="latency_downstream"} ' in text, text
    # the page (counters, gauges, the lateness summary) is valid exposition
    # by Prometheus's own checker, lint included
    rc, out = promtest.promtool("check", "metrics", stdin=text)
    assert rc == 0, f"promtool check metrics:\n{out}\n{text}"
    st, _ = api.call("DELETE", "/proxies/e/toxics/latency_downstream")
    assert st == 204

    # limit_data downstream: the client gets exactly 10 bytes, then the close
    api.ok("POST", "/proxies/e/toxics", {"type": "limit_data", "attributes": {"bytes": 10}})
    s = pt.connect(port)
    s.sendall(b"0123456789abcdef")
    got = b""
    s.settimeout(10)
    try:
        while True:
            d = s.recv(100)
            if not d:
                break
            got += d
    except ConnectionResetError:
        pass
    assert got == b"0123456789", got
    api.call("DELETE", "/proxies/e/toxics/limit_data_downstream")

    # timeout: nothing passes, closed after ~300 ms
    api.ok("POST", "/proxies/e/toxics", {"type": "timeout", "attributes": {"timeout": 300}})
    s = pt.connect(port)
    t0 = time.monotonic()
    s.sendall(b"hello")
    assert closed_by_peer(s) in ("eof", "reset")
    assert time.monotonic() - t0 >= 0.25
    api.call("DELETE", "/proxies/e/toxics/timeout_downstream")

    # reset_peer: the client sees ECONNRESET
    api.ok("POST", "/proxies/e/toxics", {"type": "reset_peer", "stream": "upstream", "attributes": {"timeout": 50}})
    s = pt.connect(port)
    s.sendall(b"x")
    assert closed_by_peer(s) == "reset"
    api.call("DELETE", "/proxies/e/toxics/reset_peer_upstream")

    # slow_close: our FIN reaches the client ~300 ms after the server's
    api.ok("POST", "/proxies/e/toxics", {"type": "slow_close", "attributes": {"delay": 300}})
    s = pt.connect(port)
    s.sendall(b"z")
    assert pt.recv_exact(s, 1) == b"z"
    t0 = time.monotonic()
    s.shutdown(socket.SHUT_WR)  # echo server closes, proxy holds the FIN back
    assert closed_by_peer(s) == "eof"
    assert time.monotonic() - t0 >= 0.25
    api.call("DELETE", "/proxies/e/toxics/slow_close_downstream")

    # bandwidth: 20 KB at 100 KB/s takes >= ~0.2 s, data intact
    api.ok("POST", "/proxies/e/toxics", {"type": "bandwidth", "attributes": {"rate": 100}})
    assert roundtrip(port, os.urandom(20000)) >= 0.15
    api.call("DELETE", "/proxies/e/toxics/bandwidth_downstream")

    # slicer: data intact
    api.ok("POST", "/proxies/e/toxics", {"type": "slicer", "attributes": {"average_size": 7, "size_variation": 3, "delay": 10}})
    roundtrip(port, os.urandom(5000))
    api.call("DELETE", "/proxies/e/toxics/slicer_downstream")

    # blackhole downstream: nothing comes back, the socket stays open;
    # removing the toxic delivers what waited, in order, then later data
    api.ok("POST", "/proxies/e/toxics", {"type": "blackhole"})
    s = pt.connect(port)
    s.sendall(b"void")
    assert closed_by_peer(s, timeout=0.5) == "open"
    api.call("DELETE", "/proxies/e/toxics/blackhole_downstream")
    s.sendall(b"back")
    assert pt.recv_exact(s, 8) == b"voidback"
    s.close()
    # a full blackhole holds the sender back instead of buffering without end
    api.ok("POST", "/proxies/e/toxics", {"type": "blackhole", "stream": "upstream",
                                          "attributes": {"hold_bytes": 100000}})
    s = pt.connect(port)
    s.setblocking(False)
    sent, stalled_since = 0, None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            sent += s.send(b"z" * 65536)
            stalled_since = None
        except BlockingIOError:
            # the sender is held back once no write goes through for a whole
            # second (the proxy stopped reading and the socket buffers are full)
            stalled_since = stalled_since or time.monotonic()
            if time.monotonic() - stalled_since >= 1.0:
                break
            time.sleep(0.05)
    assert stalled_since is not None, f"the sender was never held back ({sent} bytes in 20 s)"
    mark = api.ok("GET", "/events")["next"]
    api.call("DELETE", "/proxies/e/toxics/blackhole_upstream")
    # what the proxy held is what its release says: hold_bytes, plus what the
    # read that crossed it brought in (libevent reads at most 16 KiB at a
    # time; 64 KiB leaves room for a few). The rest of what was sent waits in
    # the kernel's socket buffers.
    rel = [e for e in pt.events(api, mark) if e["action"] == "blackhole_release"]
    assert len(rel) == 1, rel
    assert 100000 <= rel[0]["bytes"] <= 100000 + (64 << 10), rel
    assert sent >= rel[0]["bytes"], (sent, rel)
    s.close()

    # refuse: new connections closed at once; open ones untouched
    keep = pt.connect(port)
    api.ok("POST", "/proxies/e/toxics", {"type": "refuse", "attributes": {"mode": "reset"}})
    try:
        s = pt.connect(port)
        assert closed_by_peer(s) in ("reset", "eof")
    except ConnectionResetError:
        pass  # the RST can beat connect() on loopback
    keep.sendall(b"ok")
    assert pt.recv_exact(keep, 2) == b"ok"
    api.call("DELETE", "/proxies/e/toxics/refuse_downstream")
    roundtrip(port)

    # targeting: a toxic aimed at another client address does not apply
    api.ok("POST", "/proxies/e/toxics", {"type": "timeout", "name": "elsewhere",
                                          "attributes": {"timeout": 0, "target_client": "10.0.0.0/8"}})
    roundtrip(port)
    api.call("DELETE", "/proxies/e/toxics/elsewhere")

    # targeting by request path: only connections whose first request line
    # asks for /slow get the latency
    api.ok("POST", "/proxies/e/toxics", {"type": "latency", "name": "slowpath",
                                          "attributes": {"latency": 300, "target_path": "/slow"}})
    fast = roundtrip(port, b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
    slow = roundtrip(port, b"GET /slow/deep HTTP/1.1\r\nHost: x\r\n\r\n")
    assert slow >= 0.29 and fast < slow, (fast, slow)
    api.call("DELETE", "/proxies/e/toxics/slowpath")

    # flapping: a blackhole that is on for 300 ms, off for 300 ms
    api.ok("POST", "/proxies/e/toxics", {"type": "blackhole", "name": "flap",
                                          "attributes": {"flap_on_ms": 300, "flap_off_ms": 300}})
    seen = {"through": 0, "held": 0}
    s = pt.connect(port)
    for _ in range(12):
        s.sendall(b"f")
        s.settimeout(0.1)
        try:
            if s.recv(1):
                seen["through"] += 1
        except socket.timeout:
            seen["held"] += 1
        time.sleep(0.05)
    s.close()
    assert seen["through"] > 0 and seen["held"] > 0, seen
    flap_ev = [e["action"] for e in pt.events(api) if e.get("toxic") == "flap"]
    assert "schedule_off" in flap_ev and "schedule_on" in flap_ev, flap_ev  # it did flap
    api.call("DELETE", "/proxies/e/toxics/flap")

    # scheduling: blackhole only after 300 ms of each connection
    api.ok("POST", "/proxies/e/toxics", {"type": "blackhole", "name": "later",
                                          "attributes": {"after_ms": 300, "schedule_from": "connection"}})
    s = pt.connect(port)
    s.sendall(b"early")
    assert pt.recv_exact(s, 5) == b"early"
    time.sleep(0.4)
    mark = api.ok("GET", "/events")["next"]
    s.sendall(b"late")
    got = received_within(s, 0.5)
    assert got == (b"", "open"), got  # nothing echoed, the connection still open
    hold = [e for e in pt.events(api, mark) if e.get("toxic") == "later" and e["action"] == "blackhole_hold"]
    assert len(hold) == 1, pt.events(api, mark)
    api.call("DELETE", "/proxies/e/toxics/later")
    # what the blackhole held goes through once it is gone
    assert pt.recv_exact(s, 4) == b"late"
    s.close()

    # toxicity drawn once per connection, reproducibly from --seed
    api.ok("POST", "/proxies/e/toxics", {"type": "latency", "name": "half", "toxicity": 0.5,
                                          "attributes": {"latency": 1}})
    mark = api.ok("GET", "/events?since=0")["next"]
    conns_before = api.ok("GET", "/events")  # noqa: F841  (keeps the index stable)
    for _ in range(20):
        roundtrip(port)
    applied = [e for e in pt.events(api, mark) if e["action"] == "apply" and e.get("toxic") == "half"]
    assert 3 <= len(applied) <= 17, len(applied)
    api.call("DELETE", "/proxies/e/toxics/half")

    # deleting toxics under traffic never hangs the API
    stop = threading.Event()
    errors = []

    def traffic():
        while not stop.is_set():
            try:
                roundtrip(port, os.urandom(2000), timeout=10)
            except Exception as e:  # noqa: BLE001
                errors.append(e)

    workers = [threading.Thread(target=traffic) for _ in range(4)]
    for w in workers:
        w.start()
    for i in range(30):
        api.ok("POST", "/proxies/e/toxics", {"type": "latency", "name": f"l{i}", "attributes": {"latency": 20}})
        api.ok("POST", "/proxies/e/toxics", {"type": "slicer", "name": f"s{i}", "attributes": {"average_size": 50}})
        t0 = time.monotonic()
        st, _ = api.call("DELETE", f"/proxies/e/toxics/l{i}", timeout=5)
        st2, _ = api.call("DELETE", f"/proxies/e/toxics/s{i}", timeout=5)
        assert st == 204 and st2 == 204 and time.monotonic() - t0 < 5
    stop.set()
    for w in workers:
        w.join(30)
    assert not errors, errors[:3]

    # garbage from the client and abrupt resets do not hurt the proxy
    api.ok("POST", "/proxies/e/toxics", {"type": "latency", "attributes": {"latency": 5}})
    for _ in range(50):
        s = pt.connect(port)
        s.sendall(os.urandom(3000))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    roundtrip(port)

    # garbage from the server side, with the message-aware toxics reading it
    garbage = socket.socket()
    garbage.bind(("127.0.0.1", 0))
    garbage.listen(64)

    def spew():
        for _ in range(20):
            try:
                c, _ = garbage.accept()
                c.sendall(os.urandom(5000) + b"HTTP/1.1 101 x\r\n\r\n" + os.urandom(5000))
                c.close()
            except OSError:
                return
    threading.Thread(target=spew, daemon=True).start()
    gport = pt.make_proxy(api, "garbage", garbage.getsockname()[1])
    for t in ({"type": "ws", "attributes": {"action": "duplicate"}},
              {"type": "sse", "attributes": {"action": "drop"}},
              {"type": "disconnect", "attributes": {"after_messages": 3, "protocol": "ws"}}):
        api.ok("POST", "/proxies/garbage/toxics", t)
    for _ in range(20):
        s = pt.connect(gport)
        s.sendall(os.urandom(100))
        closed_by_peer(s, timeout=5)
        s.close()
    assert proc.p.poll() is None
    roundtrip(port)
    st, text = api.call("GET", "/metrics")
    assert 'rtchaos_toxic_actions_total{proxy="e",toxic="latency_downstream",type="latency",action="apply"}' in text
    assert proc.stop() == 0
    print("proxy_toxics: ok")


if __name__ == "__main__":
    main()
