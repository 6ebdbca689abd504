#!/usr/bin/python3
"""Bytes on the wire: the fleet counts every byte read and written on
subscriber sockets (handshakes, framing, heartbeats included) and the report
turns them into cost figures (report.json "wire", budget metrics
rx_bytes_per_event and rx_bytes_per_client_min).
- Per event: the same WebSocket workload with 1024-byte instead of 64-byte
  payloads costs ~960 more bytes per delivered event, and at least the
  payload itself.
- Idle: with nothing published, SSE clients of a server that sends a
  heartbeat every 100 ms receive more per client-minute than with one every
  1000 ms by about 540 heartbeats a minute: heartbeats are counted.
- Per transport figures add up to the totals; budgets judge them."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as H  # noqa: E402

BASE = """
name: wire
seed: 5
duration: 3s
warmup: 1s
drain: 3s
channels: {count: 2, pattern: "w.{i}"}
"""


def run(body, *args):
    d = H.tmpdir()
    p = os.path.join(d, "wire.yaml")
    with open(p, "w") as f:
        f.write(BASE + body)
    r = H.run(p, *args)
    assert r.rc == 0 and r.report, r.explain()
    return r.report


def main():
    ws = """
publishers: {rate_per_s: 20, payload_bytes: %d}
clients:
  - {name: ws, count: 10, transport: ws, channels_per_client: 2}
budgets: ["rx_bytes_per_event >= %d", "tx_bytes_per_event < 50"]
"""
    idle = """
server: {args: [--heartbeat-ms, "%d"]}
publishers: {rate_per_s: 0}
clients:
  - {name: sse, count: 10, transport: sse, channels_per_client: 1}
budgets: ["rx_bytes_per_client_min > 0"]
"""
    # four runs that share nothing (each its own server): side by side
    small, big, fast, slow = H.side_by_side([(run, (ws % (64, 64),), {}), (run, (ws % (1024, 1024),), {}),
                                             (run, (idle % 100,), {}), (run, (idle % 1000,), {})])
    ps, pb = small["wire"]["rx_bytes_per_event"], big["wire"]["rx_bytes_per_event"]
    assert 64 < ps < 64 + 400, small["wire"]
    assert 0.9 * 960 <= pb - ps <= 1.1 * 960, (ps, pb)
    for rep in (small, big):
        t = rep["totals"]
        assert sum(t["bytes_rx_by_transport"].values()) == t["bytes_rx"]
        assert sum(t["delivered_by_transport"].values()) == t["delivered"]
        assert rep["wire"]["by_transport"]["ws"]["rx_bytes"] == t["bytes_rx"]
        assert all(v["pass"] for v in rep["verdicts"]), rep["verdicts"]
    print(f"ok per event: {ps} B (64 B payload), {pb} B (1024 B payload)")

    # the whole per-client-minute figure: the split at the handshake is
    # per read, and the read that carries the answer's head may carry the
    # first heartbeats too
    f = fast["wire"]["by_transport"]["sse"]["rx_bytes_per_client_min"]
    s = slow["wire"]["by_transport"]["sse"]["rx_bytes_per_client_min"]
    for rep in (fast, slow):  # the handshake is counted, and set apart
        t = rep["totals"]
        assert 0 < t["bytes_rx_handshake"] < t["bytes_rx"], t
        w = rep["wire"]["by_transport"]["sse"]
        assert w["open_rx_bytes_per_client_min"] < w["rx_bytes_per_client_min"], w
    # ": hb\n\n" is 6 bytes; 540 more per minute; timers on a loaded box may
    # fire late, so only half of them are required
    assert 540 * 6 * 0.5 <= f - s <= 540 * 6 * 3, (f, s)
    assert fast["totals"]["delivered"] == 0 and fast["wire"]["rx_bytes_per_event"] is None
    print(f"ok idle: SSE {f} B per client-minute with 100 ms heartbeats, {s} B with 1 s")


if __name__ == "__main__":
    main()
