#!/usr/bin/python3
"""The cost options end to end: rtchaos-server's batching window and delta
payloads against the fleet's v1 adapter (group keys `batch:` and `delta:`,
publishers.payload: fields), judged by the checker.

Batching (scenarios/cost/batch.yaml, shortened): the same workload with the
window off and at 50 ms gives the same events (nothing lost, duplicated or
reordered, delivered == expected, for the clients that take batch messages,
for the WebSocket clients that do not — an array would be a "bad envelope"
error for them — and for SSE), while the server says it wrote several
events per write and per batch message with the window and about one
without.

Deltas (scenarios/cost/delta.yaml, shortened): clients rebuild every value
from merge patches across a cut where the quick ones resume from history
(replays whole) and the slow ones get a snapshot (deltas after it apply to
it); no delta_mismatch, fewer bytes per event than the same run with deltas
off. With --delta-break-every the server damages some deltas and the run
fails on delta_mismatch, with examples in report.json's anomalies.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as H  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SHORT = ["--set", "duration=3s", "--set", "drain=3s"]


def run(scn, *sets):
    args = list(SHORT)
    for s in sets:
        args += ["--set", s]
    r = H.run(os.path.join(ROOT, "scenarios", "cost", scn), *args)
    assert r.report, r.explain()
    return r


def all_delivered(r):
    t = r.report["totals"]
    assert r.rc == 0, r.explain()
    assert t["published"] > 0 and t["delivered"] == t["expected"] > 0, t
    assert t["lost"] == t["duplicated"] == t["reordered"] == t["errors"] == 0, t
    for g, gt in r.report["groups"].items():
        assert gt["delivered"] > 0 and gt["lost"] == 0, (g, gt)
    return t


def batching(off, on):
    all_delivered(off)
    all_delivered(on)
    f_off, f_on = off.report["server"]["final"], on.report["server"]["final"]
    assert f_off.get("ws_batch_messages", 0) == 0, f_off
    assert f_on["ws_batch_messages"] > 0 and f_on["events_per_batch_message"] > 1.5, f_on
    # 50 events/s per channel, 2 channels per client: with a 50 ms window
    # several events share a write; without it about one each
    assert f_on["events_per_write"] >= 2 * f_off["events_per_write"], (f_off, f_on)
    print(f"ok batching: events/write {f_off['events_per_write']} off, {f_on['events_per_write']} on; "
          f"events/batch message {f_on['events_per_batch_message']}; p95 live "
          f"{off.report['latency_us']['live']['p95']} -> {on.report['latency_us']['live']['p95']} us")


def deltas(off, on, broken):
    for r in (off, on):
        t = r.report["totals"]
        assert r.rc == 0, r.explain()
        assert t["lost"] == t["duplicated"] == t["reordered"] == t["resync_failed"] == t["errors"] == 0, t
        assert t["delta_mismatch"] == 0 and t["snapshots"] >= 1 and t["resync_ok"] >= 1, t
    fin = on.report["server"]["final"]
    assert fin["delta_sent"] > 0 and fin["delta_bytes_saved"] > 0, fin
    assert off.report["server"]["final"].get("delta_sent", 0) == 0
    w_off = off.report["wire"]["by_transport"]["ws"]["rx_bytes_per_event"]
    w_on = on.report["wire"]["by_transport"]["ws"]["rx_bytes_per_event"]
    assert w_on < w_off * 0.75, (w_off, w_on)
    t = broken.report["totals"]
    assert broken.rc == 1 and t["delta_mismatch"] > 0, (broken.rc, t)
    failed = [v["name"] for v in broken.report["verdicts"] if not v["pass"]]
    assert failed == ["delta_mismatch"], failed
    kinds = {a["kind"] for a in broken.report["anomalies"]}
    assert "delta_mismatch" in kinds, kinds
    print(f"ok deltas: WS {w_off} -> {w_on} B/event, {fin['delta_sent']} deltas; "
          f"broken every 40th: {t['delta_mismatch']} mismatches, run failed")


def main():
    # the two batching runs (each its own server and ports) side by side;
    # the delta runs one at a time: each needs the publisher's full rate
    # while its slow clients are away (36 events > history 20) to see a
    # snapshot, which a loaded box beside other runs did not always give
    batching(*H.side_by_side([(run, ("batch.yaml", "server.args=[]"), {}),
                              (run, ("batch.yaml", 'server.args=["--batch-ms", "50"]'), {})]))
    # the cut at 1 s: the slow clients are away 1.8 s (36 events > history 20)
    deltas(run("delta.yaml", 'server.args=["--delta-channels", ""]', "faults.0.at=1s"),
           run("delta.yaml", "faults.0.at=1s"),
           run("delta.yaml", 'server.args=["--delta-channels", "delta.", "--delta-break-every", "40"]',
               "faults.0.at=1s"))


if __name__ == "__main__":
    main()
