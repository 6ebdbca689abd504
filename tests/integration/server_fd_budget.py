#!/usr/bin/python3
"""rtchaos-server at its descriptor limit (docs/server.md, "Descriptor
budget"): started under prlimit with a soft limit below the hard one, it
raises the soft limit to the hard one; past limit - reserve a WebSocket
upgrade is answered and closed with 1013 and an HTTP request (SSE) with 503
+ Retry-After, while /healthz and /metrics are still served; within a few
descriptors of the limit a connection is closed unanswered; accept(2) never
fails (no EMFILE busy loop: the server's CPU time stays small while it sits
at the limit with clients knocking); refusals are counted on /metrics and
logged at most once a second; once connections close, new ones are served
again."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import rtctest  # noqa: E402
from srvtest import SSE, WS, Server, WSClosed, wait_until  # noqa: E402

SOFT, HARD, RESERVE = 100, 160, 40


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metrics_if(srv, pred):
    """srv's metrics when pred(metrics) holds; None otherwise or when the
    request itself is refused (at the very edge even /metrics is closed)."""
    try:
        m = srv.metrics()
    except OSError:
        return None
    return m if pred(m) else None


def start():
    proc = rtctest.start("/usr/bin/prlimit", [f"--nofile={SOFT}:{HARD}",
                                              os.path.join(rtctest.BIN, "rtchaos-server"), "--port", "0",
                                              "--fd-reserve", str(RESERVE), "--handshake-timeout-ms", "60000",
                                              "--log-level", "info"], name="fd-budget-server")
    srv = Server.__new__(Server)
    srv.proc = proc
    srv.host, srv.port = rtctest.addr_of(proc.lines[0])
    return srv


def main():
    srv = start()
    held = []
    try:
        m = srv.metrics()
        assert m["rtchaos_fds_limit"] == HARD, m["rtchaos_fds_limit"]  # soft raised to hard
        assert m["rtchaos_fds_reserve"] == RESERVE
        base = m["rtchaos_fds_in_use"] - 1  # (this /metrics request's connection is counted)
        assert 3 <= base < 40, base

        # fill the budget with WebSocket clients until one is refused
        refused = None
        for _ in range(HARD):
            ws = WS(srv.host, srv.port)
            ws.send({"op": "sub", "ch": "fd"})
            try:
                assert ws.recv(timeout=10)["type"] == "subscribed"
            except WSClosed as e:
                refused = e
                ws.sock.close()
                break
            held.append(ws)
        assert refused is not None, "never refused"
        assert refused.code == 1013, (refused.code, refused.reason)
        assert len(held) == HARD - RESERVE - base, (len(held), base)  # every admitted one fits the budget
        m = srv.metrics()  # /metrics is served over the budget (its connection counted)
        assert HARD - RESERVE + 1 <= m["rtchaos_fds_in_use"] <= HARD - RESERVE + 2, m["rtchaos_fds_in_use"]
        assert m['rtchaos_fd_refusals_total{how="answered"}'] == 1

        # SSE over the budget: 503 + Retry-After; /healthz still 200
        st, hdrs, body = srv.request("GET", "/sse?ch=fd", timeout=10)
        assert st == 503 and hdrs.get("retry-after") == "1", (st, hdrs, body)
        assert b'"overloaded"' in body, body
        assert srv.request("GET", "/healthz", timeout=10)[0] == 200

        # the reserve: idle TCP connections (no request) use it up; then new
        # ones are closed unanswered, never left in the backlog or failed accept()
        socks = []
        for _ in range(RESERVE):
            s = socket.create_connection((srv.host, srv.port), timeout=10)
            socks.append(s)
        closed_unanswered = 0
        for s in socks:
            s.settimeout(0.05)
            try:
                if s.recv(1) == b"":
                    closed_unanswered += 1
            except (socket.timeout, ConnectionResetError):
                pass
        assert closed_unanswered >= 1, "nothing was closed at the edge"

        # at the limit with clients knocking: no busy loop (CPU time small)
        pid = srv.proc.p.pid
        c0, t0 = cpu_s(pid), time.monotonic()
        knocks = 0
        while time.monotonic() - t0 < 3.0:
            s = socket.create_connection((srv.host, srv.port), timeout=10)
            s.settimeout(10)
            assert s.recv(1) == b"", "a connection at the edge was not closed"
            s.close()
            knocks += 1
            time.sleep(0.02)
        used = cpu_s(pid) - c0
        assert used < 0.5, f"server used {used:.2f}s CPU in 3s at the limit ({knocks} knocks): a busy loop?"
        assert srv.proc.p.poll() is None
        # refusals are counted, and logged at most once a second
        for s in socks:
            s.close()
        socks = []
        m = wait_until(lambda: metrics_if(srv, lambda mm: mm["rtchaos_fds_in_use"] <= HARD - RESERVE + 2),
                       timeout=20, what="the idle connections gone")
        assert m['rtchaos_fd_refusals_total{how="closed"}'] >= knocks, (m, knocks)
        logs = [ln for ln in srv.proc.stderr_text().splitlines() if "descriptor budget: refused" in ln]
        assert 1 <= len(logs) <= 3 + (time.monotonic() - t0), len(logs)
        assert "EMFILE" not in srv.proc.stderr_text() and "errno 24" not in srv.proc.stderr_text()

        # recovery: close the WebSocket clients; new ones are served
        for ws in held:
            ws.close()
        held = []
        wait_until(lambda: metrics_if(srv, lambda mm: mm["rtchaos_fds_in_use"] <= base + 2), timeout=20,
                   what="the descriptors released")
        ws = WS(srv.host, srv.port)
        ws.send({"op": "sub", "ch": "fd"})
        assert ws.recv(timeout=10)["type"] == "subscribed"
        sse = SSE(srv.host, srv.port, "ch=fd")
        assert sse.next_data()["type"] == "subscribed"
        srv.publish("fd", "back")
        assert ws.recv(timeout=10)["data"] == "back"
        ws.close()
        sse.close()
    finally:
        for ws in held:
            ws.sock.close()
        assert srv.stop() == 0
    print("ok")


if __name__ == "__main__":
    main()
