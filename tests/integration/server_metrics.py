#!/usr/bin/python3
"""rtchaos-server: GET /metrics is valid Prometheus text exposition (HELP and
TYPE for every family, cumulative histogram buckets) and counts what happened:
connections by transport, messages in and out, delivery latency, resyncs,
rejections, queue depth."""
import os
import re
import sys

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


def main():
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
        check_format(srv.request("GET", "/metrics")[2].decode())
        ws.close()
        sse.close()
        wait_until(lambda: srv.metrics()['rtchaos_connections{transport="ws"}'] == 0, what="ws gauge back to 0")
    finally:
        assert srv.stop() == 0
    print("ok")


if __name__ == "__main__":
    main()
