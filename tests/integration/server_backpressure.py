#!/usr/bin/python3
"""rtchaos-server: backpressure. For each policy (drop, coalesce, snapshot,
disconnect) a consumer that does not read sits beside fast consumers: the
fast ones get every event in order while the slow one is stuck, the slow
one's queue stays bounded, and when it finally reads it sees exactly what the
policy promises (gaps that cover every missing seq, a snapshot, or close
1013). Every action is counted in /metrics."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from srvtest import Server, WSClosed  # noqa: E402

N = 640          # events published
QMAX = 64        # --sendq-max-msgs
BATCH = 16       # events per publish request (below QMAX: fast consumers keep up)
PAYLOAD = "p" * 1000


def fast_reader(srv, ch, out):
    ws = srv.ws()
    ws.send({"op": "sub", "ch": ch})
    seqs = []
    out["progress"].append(seqs)
    ws.recv()  # subscribed
    out["ready"].set()
    while not seqs or seqs[-1] < N:
        m = ws.recv(timeout=30)
        assert m["type"] == "event", m
        seqs.append(m["seq"])
    out["seqs"].append(seqs)
    ws.close()


def publish_all(srv, ch, out=None):
    """Publishes N events in batches. A fast consumer is one that keeps up,
    so before the next batch we wait for the fast ones to have the last one
    (on a loaded box a Python reader can otherwise fall a queue behind)."""
    for start in range(1, N + 1, BATCH):
        srv.json("POST", f"/publish/{ch}",
                 [{"data": {"i": i, "pad": PAYLOAD}} for i in range(start, start + BATCH)])
        if out:
            last = start + BATCH - 1
            deadline = time.monotonic() + 30
            while any(not p or p[-1] < last for p in out["progress"]):
                assert time.monotonic() < deadline, "fast consumers stopped receiving"
                time.sleep(0.002)


def check_coverage(msgs, policy):
    """Every seq 1..N is received or covered by a gap/snapshot, in order."""
    covered = 0
    kinds = {"event": 0, "gap": 0, "snapshot": 0}
    for m in msgs:
        t = m["type"]
        if t == "subscribed":
            continue
        kinds[t] += 1
        if t == "event":
            assert m["seq"] == covered + 1, (policy, "event", m["seq"], "after", covered)
            covered = m["seq"]
        elif t == "gap":
            assert m["data"]["from"] == covered + 1 and m["data"]["to"] == m["seq"], (policy, m, covered)
            covered = m["seq"]
        elif t == "snapshot":
            assert m["seq"] > covered, (policy, m, covered)
            covered = m["seq"]
    assert covered == N, (policy, covered)
    return kinds


def run(policy):
    srv = Server("--sendq-max-msgs", str(QMAX), "--sndbuf-bytes", "32768", "--policy", policy,
                 "--idle-timeout-s", "120", "--ws-ping-s", "60", name=f"server-{policy}")
    try:
        ch = "bp"
        slow = srv.ws(rcvbuf=4096)
        slow.send({"op": "sub", "ch": ch})
        slow_sse = srv.sse(f"ch={ch}", rcvbuf=4096) if policy == "drop" else None
        out = {"seqs": [], "progress": [], "ready": threading.Event()}
        fast = []
        for _ in range(2):
            out["ready"].clear()
            t = threading.Thread(target=fast_reader, args=(srv, ch, out), daemon=True)
            t.start()
            assert out["ready"].wait(15)
            fast.append(t)
        time.sleep(0.2)  # the slow consumer's "subscribed" is written
        publish_all(srv, ch, out)
        for t in fast:
            t.join(60)
            assert not t.is_alive(), f"{policy}: a fast consumer stalled"
        assert out["seqs"] == [list(range(1, N + 1))] * 2, f"{policy}: fast consumers lost events"

        m = srv.metrics()
        assert m["rtchaos_sendq_max_messages"] <= QMAX + 1, (policy, m["rtchaos_sendq_max_messages"])
        key = {"drop": 'rtchaos_backpressure_total{policy="drop",action="event_dropped"}',
               "coalesce": 'rtchaos_backpressure_total{policy="coalesce",action="event_coalesced"}',
               "snapshot": 'rtchaos_backpressure_total{policy="snapshot",action="snapshot_queued"}',
               "disconnect": 'rtchaos_backpressure_total{policy="disconnect",action="disconnect"}'}[policy]
        assert m[key] >= 1, (policy, key, m[key])

        # now the slow consumer reads what it was left with
        msgs = []
        try:
            while not msgs or msgs[-1].get("seq") != N:
                msgs.append(slow.recv(timeout=30))
            assert policy != "disconnect", "disconnect policy: expected close 1013"
        except WSClosed as e:
            assert policy == "disconnect" and e.code == 1013, (policy, e.code, e.reason)
        if policy != "disconnect":
            kinds = check_coverage(msgs, policy)
            want = "snapshot" if policy == "snapshot" else "gap"
            assert kinds[want] >= 1, (policy, kinds)
            assert kinds["event"] < N, (policy, kinds)
            m = srv.metrics()
            assert m["rtchaos_gaps_sent_total" if want == "gap" else "rtchaos_snapshots_sent_total"] >= 1
        if slow_sse:
            smsgs = []
            while not smsgs or smsgs[-1].get("seq") != N:
                d = slow_sse.next_data(timeout=30)
                assert d is not None, "SSE stream ended early"
                smsgs.append(d)
            kinds = check_coverage(smsgs, "drop/sse")
            assert kinds["gap"] >= 1, kinds
            slow_sse.close()
        print(policy, "ok", flush=True)
    finally:
        assert srv.stop() == 0


def main():
    for policy in ("drop", "coalesce", "snapshot", "disconnect"):
        run(policy)
    print("ok")


if __name__ == "__main__":
    main()
