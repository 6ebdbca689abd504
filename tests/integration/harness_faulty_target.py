#!/usr/bin/python3
"""harness_faulty_target — `rtchaos run` itself (not only the fleet's test
driver) fails its `lost == 0` budget against a server that drops events
(tests/lib/faulty_server.py --fault drop: every event with seq % 7 == 3 is
never sent, nor answered to a poll), for WebSocket, SSE and long-poll clients
alike: exit 1, the lost verdict failing with the count, each transport's
group losing events, and every lost example one the server dropped. The same
run against the same server without the fault passes (exit 0), so the
failure is the fault's.

And a server that routes events to subscribers of other channels (--fault
misroute: every event with seq % 7 == 3 also goes to every WebSocket and
SSE client of the other channels) fails the run on the implicit verdict
misrouted == 0, though its budget names only lost: each misrouted example
is one of those events, on one of the run's channels, and nothing is lost.
The same scenario against the same server without the fault passes.

And a server that holds each event 400 ms and then sends it with its own
clock as ts (--fault restamp) fails on the implicit verdict ts_altered == 0
and on its latency budget: latency is measured from the publisher's ts,
which the payload's stamp carries, not from the ts the server put in its
place (which would show ~0 ms). A server that only truncates ts to
milliseconds (--fault ms_ts) is not counted: the run passes.

And with fields payloads (publishers.payload: fields, no delta group) a
server that changes one field of every seventh event (--fault bad_value)
fails on the implicit verdict corrupted == 0, each example one of those
events; the same run without the fault passes (the server re-serialises
every value: JSON equality, not bytes, is judged).

And a server that sends the previous event's value under the next seq
(--fault stale, every seq % 7 == 3) fails duplicated == 0: the same
published event (its stamp's number and time) under a later seq; nothing
is corrupted, and the same budget passes without the fault. So does one
that sends the value of three events back (--fault stale_far): the fleet
compares a stamp with the last three. A server
that takes a new epoch and sends a snapshot of the value a client already
holds under the new epoch's seq (--fault new_epoch) is not, nor is that
snapshot's ts, the time it was taken, counted as ts_altered: the same
budget passes."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import harnesstest as ht  # noqa: E402
import rtctest  # noqa: E402

SCENARIO = """
name: faulty-target
seed: 3
duration: 4s
warmup: 1s
drain: 4s
channels: {count: 2, pattern: "ft.{i}"}
publishers: {rate_per_s: 20, transport: http}
clients:
  - {name: ws, count: 6, transport: ws, channels_per_client: 2}
  - {name: sse, count: 6, transport: sse, channels_per_client: 2}
  - {name: poll, count: 6, transport: poll, channels_per_client: 1}
budgets:
  - lost == 0
"""

# one channel per client, so an event of another channel is one it never asked for
SCENARIO_ONE = """
name: faulty-target-misroute
seed: 5
duration: 4s
warmup: 1s
drain: 3s
channels: {count: 3, pattern: "mr.{i}"}
publishers: {rate_per_s: 20, transport: http}
clients:
  - {name: ws, count: 6, transport: ws, channels_per_client: 1}
  - {name: sse, count: 6, transport: sse, channels_per_client: 1}
budgets:
  - lost == 0
"""


def run_against(fault, path):
    srv = rtctest.start("/usr/bin/python3", [os.path.join(HERE, "..", "lib", "faulty_server.py"),
                                            "--fault", fault, "--one-port"], ready_lines=2, name=f"faulty-{fault}")
    try:
        url = "http://" + srv.lines[1].split()[-1]
        return ht.run(path, "--target", url, "--quiet", timeout=120)
    finally:
        srv.stop()


def one_channel(name, budgets=(), publishers=None):
    """SCENARIO_ONE under another name, with more budgets or another
    publishers line; returns its path."""
    text = SCENARIO_ONE.replace("name: faulty-target-misroute", "name: " + name)
    if publishers:
        text = text.replace("publishers: {rate_per_s: 20, transport: http}", "publishers: " + publishers)
    path = os.path.join(ht.tmpdir(), name + ".yaml")
    with open(path, "w") as f:
        f.write(text + "".join(f"  - {b}\n" for b in budgets))
    return path


def failing(fault, path, metric, every7=True):
    """A run against the fault: exit 1, metric's verdict failing with the
    count in totals; with every7, each example of that kind is one of the
    events the fault touched (seq % 7 == 3). Returns (run, totals)."""
    r = run_against(fault, path)
    assert r.rc == 1, r.explain()
    t = r.report["totals"]
    v = ht.verdicts(r)[metric]
    assert v["pass"] is False and v["value"] == t[metric] > 0, (v, t)
    ex = [a for a in r.report["anomalies"] if a["kind"] == metric]
    assert ex and (not every7 or all(a["seq"] % 7 == 3 for a in ex)), ex[:10]
    return r, t


def passing(fault, path):
    """A run against the fault (or none) that passes; returns its totals."""
    r = run_against(fault, path)
    assert r.rc == 0, r.explain() + "\n" + str(r.report and r.report.get("verdicts"))
    assert r.report["totals"]["delivered"] > 0, r.report["totals"]
    return r.report["totals"]


def main():
    path = os.path.join(ht.tmpdir(), "faulty-target.yaml")
    with open(path, "w") as f:
        f.write(SCENARIO)

    r, t = failing("drop", path, "lost")
    assert t["delivered"] > 0 and t["duplicated"] == 0 and t["reordered"] == 0, t
    for g in ("ws", "sse", "poll"):
        assert r.report["groups"][g]["lost"] > 0, (g, r.report["groups"][g])
    with open(os.path.join(r.dir, "junit.xml")) as f:
        assert "lost == 0" in f.read()
    print(f"drop: exit 1, lost={t['lost']} " + " ".join(f"{g}={r.report['groups'][g]['lost']}"
                                                      for g in ("ws", "sse", "poll")))
    assert passing("none", path)["lost"] == 0
    print("none: exit 0, nothing lost")

    one = one_channel("faulty-target-misroute")
    r, t = failing("misroute", one, "misrouted")
    vs = ht.verdicts(r)
    assert vs["lost"]["pass"] is True and t["lost"] == 0, (vs, t)
    assert "implicit" in vs["misrouted"]["text"], vs["misrouted"]
    for g in ("ws", "sse"):
        assert r.report["groups"][g]["misrouted"] > 0, (g, r.report["groups"][g])
    assert all(a["ch"] in ("mr.0", "mr.1", "mr.2") for a in r.report["anomalies"] if a["kind"] == "misrouted")
    print(f"misroute: exit 1, misrouted={t['misrouted']} lost={t['lost']} delivered={t['delivered']}")
    t = passing("none", one)
    assert t["misrouted"] == 0 and t["lost"] == 0, t
    print("none (one channel each): exit 0, nothing misrouted")

    timed = one_channel("faulty-target-restamp", ["p99_live_ms <= 250"])
    r, t = failing("restamp", timed, "ts_altered", every7=False)
    vs = ht.verdicts(r)
    assert "implicit" in vs["ts_altered"]["text"], vs["ts_altered"]
    assert t["ts_altered"] >= 0.9 * t["live"], t  # every live event was restamped
    p99 = vs["p99_live_ms"]
    assert p99["pass"] is False and p99["value"] >= 350, p99  # held 400 ms: the publisher's clock says so
    assert t["corrupted"] == 0 and t["lost"] == 0, t
    print(f"restamp: exit 1, ts_altered={t['ts_altered']} of live={t['live']}, p99_live={p99['value']:.0f} ms")
    assert passing("none", timed)["ts_altered"] == 0
    print("none (with a latency budget): exit 0, no ts altered")
    t = passing("ms_ts", timed)
    assert t["ts_altered"] == 0 and t["corrupted"] == 0, t
    print("ms_ts (ts truncated to milliseconds): exit 0, not counted")

    fields = one_channel("faulty-target-fields",
                         publishers="{rate_per_s: 20, transport: http, payload: fields, payload_bytes: 300}")
    r, t = failing("bad_value", fields, "corrupted")
    assert "implicit" in ht.verdicts(r)["corrupted"]["text"]
    assert t["lost"] == 0 and t["delta_mismatch"] == 0, t
    print(f"bad_value (fields): exit 1, corrupted={t['corrupted']} of delivered={t['delivered']}")
    assert passing("none", fields)["corrupted"] == 0
    print("none (fields): exit 0, nothing corrupted")

    dup = one_channel("faulty-target-stale", ["duplicated == 0"])
    r, t = failing("stale", dup, "duplicated")
    assert t["corrupted"] == 0 and t["ts_altered"] == 0 and t["lost"] == 0, t
    print(f"stale: exit 1, duplicated={t['duplicated']} of delivered={t['delivered']}")
    r, t = failing("stale_far", dup, "duplicated")
    assert t["corrupted"] == 0 and t["ts_altered"] == 0 and t["lost"] == 0, t
    print(f"stale_far: exit 1, duplicated={t['duplicated']} of delivered={t['delivered']}")
    assert passing("none", dup)["duplicated"] == 0
    print("none (duplicated budget): exit 0")
    t = passing("new_epoch", dup)
    assert t["duplicated"] == 0 and t["ts_altered"] == 0 and t["epoch_changed"] > 0 and t["snapshots"] > 0, t
    print(f"new_epoch: exit 0, epoch_changed={t['epoch_changed']} snapshots={t['snapshots']}, nothing duplicated")
    print("ok")


if __name__ == "__main__":
    main()
