#!/usr/bin/python3
"""rtchaos-server under a seeded, bounded hostile-HTTP storm (issue 11):
malformed, partial, pipelined, chunked, oversized, short-bodied, slow and
binary requests from 16 connections at once (tests/lib/hostile.py). Then
/healthz answers, a normal WebSocket + SSE + HTTP client works, the storm's
second half grew memory by no more than a bound (ASan's quarantine is
capped for this), no connection is left open, and SIGTERM exits 0.
RTCHAOS_SEED=N replays another storm."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import hostile  # noqa: E402
import rtctest  # noqa: E402
import srvtest  # noqa: E402

SEED = int(os.environ.get("RTCHAOS_SEED", "11"))
CAP = 4096
PATHS = [("POST", "/publish/h", {"data": 1}), ("POST", "/publish/h", [{"data": 1}, {"data": 2}]),
         ("GET", "/healthz", None), ("GET", "/metrics", None), ("GET", "/poll?ch=h&since=0", None),
         ("GET", "/sse?ch=h", None), ("POST", "/admin/flags", {}), ("GET", "/admin/flags", None),
         ("OPTIONS", "/publish/h", None), ("GET", "/nope", None)]


class Srv(srvtest.Server):
    def __init__(self, *args):
        env = dict(os.environ)
        # ASan keeps freed memory in quarantine (256 MB by default): cap it so
        # that RSS says what the server holds
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=8"
        self.proc = rtctest.start("rtchaos-server", ["--port", "0"] + list(args), env=env,
                                  name="server-http-stress")
        self.host, self.port = rtctest.addr_of(self.proc.lines[0])


def healthy(srv, within_s):
    st, _, body = srv.request("GET", "/healthz", timeout=within_s)
    assert st == 200 and json.loads(body)["ok"] is True, (st, body)


def normal_client(srv, n):
    ws = srv.ws()
    ws.send({"op": "sub", "ch": f"ok{n}"})
    assert ws.recv()["type"] == "subscribed"
    sse = srv.sse(f"ch=ok{n}")
    assert sse.next_data()["type"] == "subscribed"
    assert srv.publish(f"ok{n}", {"n": n})["seq"] == 1
    assert ws.recv()["data"] == {"n": n}
    assert sse.next_data()["data"] == {"n": n}
    ws.close()
    sse.close()


def sockets(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n


def main():
    print(f"seed {SEED}")
    srv = Srv("--max-payload-bytes", str(CAP), "--handshake-timeout-ms", "1500", "--poll-max-ms", "1000",
              "--drain-ms", "3000")
    try:
        pid = srv.proc.p.pid
        warm = hostile.run(srv.host, srv.port, SEED, PATHS, CAP, sessions=150, workers=16, budget_s=60)
        healthy(srv, 5)
        srvtest.wait_until(lambda: sockets(pid) <= 3, timeout=15, what="warm-up connections closed")
        base_socks = sockets(pid)
        rss1 = hostile.rss_kb(pid)
        t0 = time.monotonic()
        main_run = hostile.run(srv.host, srv.port, SEED + 1, PATHS, CAP, sessions=300, workers=16, budget_s=90)
        took = time.monotonic() - t0
        print("storm:", warm, main_run, f"{took:.1f}s")
        assert warm["unplayed"] == 0 and main_run["unplayed"] == 0, (warm, main_run)
        assert main_run["closed_by_peer"] > 50, main_run  # the server did refuse and close
        healthy(srv, 5)
        normal_client(srv, 1)
        # every connection the storm opened is gone within the request deadline
        srvtest.wait_until(lambda: sockets(pid) <= base_socks, timeout=15, what="storm connections closed")
        rss2 = hostile.rss_kb(pid)
        print(f"rss after warm-up {rss1} kB, after the storm {rss2} kB")
        assert rss2 - rss1 < 48 * 1024, f"RSS grew by {rss2 - rss1} kB during the second storm"
        m = srv.metrics()
        for k in ("rtchaos_http_pipelined_refused_total", "rtchaos_http_request_timeouts_total"):
            assert m.get(k, 0) > 0, (k, {x: v for x, v in m.items() if x.startswith("rtchaos_http")})
        normal_client(srv, 2)
    finally:
        rc = srv.stop(timeout=15)
    assert rc == 0, rc
    print("server_http_stress: ok")


if __name__ == "__main__":
    main()
