#!/usr/bin/python3
"""rtchaos-server: GET /metrics is valid Prometheus text exposition (HELP and
TYPE for every family, cumulative histogram buckets) and counts what happened:
connections by transport, messages in and out, delivery latency, resyncs,
rejections, queue depth."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from srvtest import Server, wait_until  # noqa: E402

LINE = re.compile(r'^([a-z_:][a-z0-9_:]*)(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (-?[0-9.e+]+|\+Inf|NaN)$')


def check_format(text):
    helps, types, samples = set(), {}, []
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, typ = line.split()
            assert typ in ("counter", "gauge", "histogram"), line
            types[name] = typ
        else:
            m = LINE.match(line)
            assert m, f"bad exposition line: {line!r}"
            samples.append(m.group(1))
    for s in samples:
        base = re.sub(r"_(bucket|sum|count)$", "", s) if s not in types else s
        assert base in types and base in helps, f"{s} has no TYPE/HELP"
    return types


def gauges(srv):
    m = srv.metrics()
    return (m["rtchaos_subscriptions"], m["rtchaos_sendq_messages"], m["rtchaos_sendq_bytes"],
            m["rtchaos_sendq_max_messages"])


def test_gauges_follow_connections():
    """The connection gauges (kept as counters, not summed over the sessions
    at each scrape) match connections whose counts are known: subscriptions
    as clients subscribe, unsubscribe and go away; the queue gauges with one
    client that does not read and whose queue sits at its bound."""
    srv = Server("--sendq-max-msgs", "40", "--sndbuf-bytes", "4096", "--policy", "drop")
    try:
        assert gauges(srv) == (0, 0, 0, 0)
        wss = []
        for i in range(6):  # 6 clients x (i % 3 + 1) channels = 12 subscriptions
            ws = srv.ws()
            for c in range(i % 3 + 1):
                ws.send({"op": "sub", "ch": f"g{c}"})
                ws.recv_until(lambda x: x.get("type") == "subscribed")
            wss.append(ws)
        sses = [srv.sse("ch=g0&ch=g1") for _ in range(2)]  # +4
        for s in sses:
            s.next_data()
        wait_until(lambda: gauges(srv)[0] == 16, what="16 subscriptions")
        wss[5].send({"op": "unsub", "ch": "g2"})  # 15
        wss[4].close()                             # 13
        sses[1].close()                            # 11
        wait_until(lambda: gauges(srv)[0] == 11, what="11 subscriptions after unsub and closes")
        # a client that stops reading: its queue fills to the bound (40,
        # drop policy) and stays there; everyone else keeps up
        stuck = srv.ws(rcvbuf=4096)
        stuck.send({"op": "sub", "ch": "big"})
        stuck.recv_until(lambda x: x.get("type") == "subscribed")
        big = "x" * 8000
        for i in range(200):
            srv.publish("big", f"{i}{big}")
        sub, msgs, nbytes, deepest = wait_until(
            lambda: (lambda g: g if g[3] == 40 else None)(gauges(srv)), what="the stuck queue at its bound")
        assert sub == 12 and msgs == 40, (sub, msgs, nbytes, deepest)
        assert 40 * 8000 < nbytes < 40 * 8200, nbytes  # 40 envelopes of ~8 kB
        stuck.sock.close()
        wait_until(lambda: gauges(srv) == (11, 0, 0, 0), what="gauges back once the stuck client is gone")
        for w in wss[:4] + wss[5:]:
            w.close()
        sses[0].close()
        wait_until(lambda: gauges(srv) == (0, 0, 0, 0), what="gauges back to 0")
    finally:
        assert srv.stop() == 0


def check_loop(srv, m, t_start):
    """The event loop's time: dispatch (callbacks) and flush (the direct
    writes of the WebSocket deliveries above) both counted, never more than
    the wall time the server has run; the pass histogram is cumulative and
    its sum is the two phases' total."""
    disp = m['rtchaos_loop_busy_seconds_total{phase="dispatch"}']
    flush = m['rtchaos_loop_busy_seconds_total{phase="flush"}']
    wall = time.monotonic() - t_start
    assert disp > 0 and flush > 0, (disp, flush)
    assert disp + flush < wall, (disp, flush, wall)
    n = m["rtchaos_loop_pass_seconds_count"]
    assert n > 10 and m['rtchaos_loop_pass_seconds_bucket{le="+Inf"}'] == n, m
    buckets = [v for k, v in m.items() if k.startswith("rtchaos_loop_pass_seconds_bucket")]
    assert buckets == sorted(buckets), "pass buckets are cumulative"
    assert abs(m["rtchaos_loop_pass_seconds_sum"] - (disp + flush)) < 1e-5, m
    later = srv.metrics()
    assert later["rtchaos_loop_pass_seconds_count"] > n, "passes keep being counted"


def main():
    test_gauges_follow_connections()
    t_start = time.monotonic()  # before the server starts: its busy time is within
    srv = Server()
    try:
        st, hdrs, body = srv.request("GET", "/metrics")
        assert st == 200 and hdrs["content-type"].startswith("text/plain"), (st, hdrs)
        types = check_format(body.decode())
        assert types["rtchaos_delivery_latency_seconds"] == "histogram"
        assert types["rtchaos_messages_in_total"] == "counter" and types["rtchaos_connections"] == "gauge"

        ws = srv.ws()
        ws.send({"op": "sub", "ch": "m"})
        ws.recv()
        sse = srv.sse("ch=m")
        sse.next_data()
        m = srv.metrics()
        assert m['rtchaos_connections{transport="ws"}'] == 1 and m['rtchaos_connections{transport="sse"}'] == 1, m
        assert m["rtchaos_subscriptions"] == 2
        for i in range(5):
            srv.publish("m", i)
        ws.send({"op": "pub", "ch": "m", "data": "w"})
        got = ws.recv_until(lambda x: x.get("seq") == 6)
        assert [x["seq"] for x in got] == [1, 2, 3, 4, 5, 6]
        for _ in range(6):
            assert sse.next_data()["type"] == "event"
        srv.request("POST", "/publish/m", b"{bad")
        srv.json("GET", "/poll?ch=m&since=3")
        ws.send({"op": "sub", "ch": "m", "since": 2})
        ws.recv_until(lambda x: x.get("seq") == 6)

        m = wait_until(lambda: (lambda mm: mm if mm['rtchaos_messages_out_total{transport="sse",kind="live"}'] == 6 else None)(srv.metrics()),
                       what="SSE deliveries counted")
        assert m['rtchaos_messages_in_total{transport="http"}'] == 5, m
        assert m['rtchaos_messages_in_total{transport="ws"}'] == 1, m
        assert m['rtchaos_messages_out_total{transport="ws",kind="live"}'] == 6, m
        assert m['rtchaos_messages_out_total{transport="ws",kind="replay"}'] == 4, m
        assert m['rtchaos_messages_out_total{transport="poll",kind="replay"}'] == 3, m
        assert m['rtchaos_resyncs_total{result="recovered"}'] == 1, m
        assert m['rtchaos_rejections_total{reason="bad_request"}'] == 1, m
        assert m["rtchaos_delivery_latency_seconds_count"] == 12, m
        assert m['rtchaos_delivery_latency_seconds_bucket{le="+Inf"}'] == 12
        buckets = [v for k, v in m.items() if k.startswith("rtchaos_delivery_latency_seconds_bucket")]
        assert buckets == sorted(buckets), "buckets are cumulative"
        assert m["rtchaos_channels"] == 1 and m["rtchaos_sendq_messages"] == 0
        assert m['rtchaos_connections_total{transport="poll"}'] == 1
        check_loop(srv, m, t_start)
        check_format(srv.request("GET", "/metrics")[2].decode())
        ws.close()
        sse.close()
        wait_until(lambda: srv.metrics()['rtchaos_connections{transport="ws"}'] == 0, what="ws gauge back to 0")
    finally:
        assert srv.stop() == 0
    print("ok")


if __name__ == "__main__":
    main()
