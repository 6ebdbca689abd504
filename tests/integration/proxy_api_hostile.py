#!/usr/bin/python3
"""rtchaos-proxy's control API (evhttp) under the same seeded, bounded
hostile-HTTP storm as the server (tests/lib/hostile.py, issue 11):
malformed, partial, pipelined, chunked, oversized, short-bodied, slow and
binary requests from 16 connections at once. Then the API answers, a normal
client creates a proxy, adds and removes a toxic and relays bytes through
it, the second storm grew memory by no more than a bound, every storm
connection is gone, and SIGTERM exits 0. RTCHAOS_SEED=N replays another."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import hostile  # noqa: E402
import json  # noqa: E402
from rawhttp import exchange, request  # noqa: E402
import proxytest  # noqa: E402
import rtctest  # noqa: E402

SEED = int(os.environ.get("RTCHAOS_SEED", "11"))
PATHS = [("GET", "/version", None), ("GET", "/proxies", None), ("POST", "/reset", {}),
         ("POST", "/proxies", {"name": "h", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}),
         ("GET", "/proxies/p1", None), ("POST", "/proxies/p1", {"enabled": True}),
         ("GET", "/proxies/p1/toxics", None),
         ("POST", "/proxies/p1/toxics", {"name": "lat", "type": "latency", "attributes": {"latency": 1}}),
         ("DELETE", "/proxies/p1/toxics/lat", None), ("DELETE", "/proxies/h", None),
         ("POST", "/populate", [{"name": "h2", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}]),
         ("GET", "/nope", None)]


def sockets(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def drop_storm_proxies(api):
    """The storm may have created proxies (each a listening socket): remove
    them so that the socket count compares like with like."""
    for name in api.ok("GET", "/proxies"):
        if name != "p1":
            api.ok("DELETE", f"/proxies/{name}", want=204)


def normal_client(api, echo_port, n):
    st, v = api.call("GET", "/version", timeout=5)
    assert st == 200, (st, v)
    port = proxytest.make_proxy(api, f"ok{n}", echo_port)
    api.ok("POST", f"/proxies/ok{n}/toxics", {"name": "l", "type": "latency", "attributes": {"latency": 5}})
    s = proxytest.connect(port)
    s.sendall(b"hello through the proxy")
    assert proxytest.recv_exact(s, 23) == b"hello through the proxy"
    s.close()
    api.ok("DELETE", f"/proxies/ok{n}/toxics/l", want=204)
    api.ok("DELETE", f"/proxies/ok{n}", want=204)


def framing(api_port):
    """The cases of issue 11 on the API: evhttp reads pipelined bodies and
    chunked bodies itself, so they are answered in order; an over-cap length
    is refused before the body."""
    mk = lambda n: request("POST", "/proxies", json.dumps(  # noqa: E731
        {"name": n, "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}).encode())
    resps, closed, rest = exchange(api_port, mk("pp1") + mk("pp2") + request("GET", "/version"), want=3)
    assert [r.status for r in resps] == [201, 201, 200] and not rest, resps
    assert [json.loads(r.body)["name"] for r in resps[:2]] == ["pp1", "pp2"], resps
    chunked = request("POST", "/proxies/pp1/toxics", b"", {"Transfer-Encoding": "chunked"})
    body = json.dumps({"name": "c", "type": "latency", "attributes": {"latency": 1}}).encode()
    chunked += f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    resps, closed, rest = exchange(api_port, chunked + request("GET", "/version"), want=2)
    assert [r.status for r in resps] == [200, 200], resps
    resps, closed, rest = exchange(api_port, b"POST /proxies HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n",
                                   want=1)
    assert [r.status for r in resps] == [413] and closed, (resps, closed)


def main():
    print(f"seed {SEED}")
    echo = proxytest.EchoServer()
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=8"
    proc = rtctest.start("rtchaos-proxy", ["--api-port", "0"], env=env, name="proxy-api-hostile")
    _, api_port = rtctest.addr_of(proc.lines[0])
    api = proxytest.Api(api_port)
    try:
        proxytest.make_proxy(api, "p1", echo.port)
        framing(api_port)
        drop_storm_proxies(api)
        pid = proc.p.pid
        warm = hostile.run("127.0.0.1", api_port, SEED, PATHS, 1 << 20, sessions=150, workers=16, budget_s=60)
        normal_client(api, echo.port, 0)
        drop_storm_proxies(api)
        wait_until(lambda: sockets(pid) <= 3, 40, "warm-up connections closed")
        base_socks = sockets(pid)
        rss1 = hostile.rss_kb(pid)
        main_run = hostile.run("127.0.0.1", api_port, SEED + 1, PATHS, 1 << 20, sessions=300, workers=16,
                               budget_s=90)
        print("storm:", warm, main_run)
        assert warm["unplayed"] == 0 and main_run["unplayed"] == 0, (warm, main_run)
        normal_client(api, echo.port, 1)
        drop_storm_proxies(api)
        try:
            wait_until(lambda: sockets(pid) <= base_socks, 40, "storm connections closed")
        except AssertionError:
            os.system(f"ss -tanp | grep pid={pid}, | head -30; echo base={base_socks} now={sockets(pid)}")
            print(api.call("GET", "/proxies"))
            raise
        rss2 = hostile.rss_kb(pid)
        print(f"rss after warm-up {rss1} kB, after the storm {rss2} kB")
        assert rss2 - rss1 < 48 * 1024, f"RSS grew by {rss2 - rss1} kB during the second storm"
        # the proxy made before the storms still relays
        port = int(api.ok("GET", "/proxies/p1")["listen"].rsplit(":", 1)[1])
        s = proxytest.connect(port)
        s.sendall(b"still here")
        assert proxytest.recv_exact(s, 10) == b"still here"
        s.close()
    finally:
        rc = proc.stop(timeout=15)
    assert rc == 0, rc
    print("proxy_api_hostile: ok")


if __name__ == "__main__":
    main()
