#!/usr/bin/python3
"""WebSocket permessage-deflate, end to end (rtchaos-server --ws-deflate,
the fleet's `deflate:` group key):
- server on, clients require it: every event delivered once and in order,
  and the WebSocket bytes per delivered event (counted on the socket: the
  compressed bytes) are under half of the same run with the server off;
- server on, clients do not offer it: frames stay uncompressed (the server
  compresses only for a client that negotiated);
- server off, clients require it: no connection opens, each attempt is an
  error saying the server did not accept permessage-deflate.
Every run also carries the server's CPU (server.final.cpu_s and
cpu_us_per_written, from its process_cpu_seconds_total)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as H  # noqa: E402

BODY = """
name: deflate
seed: 9
duration: 3s
warmup: 1s
drain: 3s
channels: {count: 2, pattern: "z.{i}"}
server: {args: [--ws-deflate, "%d"]}
publishers: {rate_per_s: 20, payload_bytes: 512}
clients:
  - {name: ws, count: 8, transport: ws, channels_per_client: 2, deflate: %s,
     reconnect: {max_attempts: 2, initial: 100ms}}
"""


def run(server_on, deflate):
    d = H.tmpdir()
    p = os.path.join(d, "deflate.yaml")
    with open(p, "w") as f:
        f.write(BODY % (server_on, deflate))
    r = H.run(p)
    assert r.report, r.explain()
    return r


def delivered_in_order(r):
    t = r.report["totals"]
    assert r.rc == 0, r.explain()
    assert t["published"] > 0 and t["delivered"] == t["expected"] > 0, t
    assert t["lost"] == t["duplicated"] == t["reordered"] == t["errors"] == 0, t
    # the server's CPU (process_cpu_seconds_total) came through the scrape
    fin = r.report["server"]["final"]
    assert 0 < fin["cpu_s"] < 60 and fin["cpu_us_per_written"] > 0, fin
    return r.report["wire"]["by_transport"]["ws"]["rx_bytes_per_event"]


def main():
    # four runs that share nothing (each its own server): side by side
    runs = H.side_by_side([(run, (0, "offer"), {}), (run, (1, "require"), {}), (run, (1, "off"), {}),
                           (run, (0, "require"), {})])
    plain = delivered_in_order(runs[0])
    packed = delivered_in_order(runs[1])
    assert packed < plain / 2, (plain, packed)
    unoffered = delivered_in_order(runs[2])
    assert unoffered > plain * 0.9, (plain, unoffered)
    refused = runs[3]
    t = refused.report["totals"]
    assert t["delivered"] == 0, t
    reasons = t["errors_by_reason"]
    assert any("permessage-deflate required" in k for k in reasons), reasons
    print(f"ok deflate: {plain} B/event off, {packed} B/event on, {unoffered} B/event not offered; "
          f"require against off: {reasons}")


if __name__ == "__main__":
    main()
