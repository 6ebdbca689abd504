#!/usr/bin/python3
"""harness_seed: a run is reproduced from its seed. The seed report.json
records, given back with --seed, makes the same fault decisions: the same
fault plan (each action at the same planned time, a disconnect cutting as
many clients), and the proxy's per-connection toxicity draws (a toxic with
toxicity 0.5 applies to exactly the same connections); another seed draws
other connections (so the comparison can fail)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402

CLIENTS = 30
SCENARIO = """
name: seeded
seed: 11
duration: 4s
warmup: 1s
drain: 3s
channels: {count: 3, pattern: "sd.{i}"}
publishers: {rate_per_s: 20, schedule: poisson}
clients:
  - {name: ws, count: 20, transport: ws, channels_per_client: 2,
     reconnect: {initial: 100ms, max: 1s, jitter: 0.5}}
  - {name: sse, count: 10, transport: sse, channels_per_client: 1,
     reconnect: {initial: 100ms, max: 1s, jitter: 0.5}}
faults:
  - {name: half, at: 0s, toxic: latency, toxicity: 0.5, attributes: {latency: 5}}
  - {name: cut, at: 2s, disconnect: 0.5}
budgets:
  - lost == 0
"""


def decisions(r):
    """The connections (by the proxy's connection number) the toxicity-0.5
    toxic applies to, among the clients' first connections."""
    with open(os.path.join(r.dir, "proxy-events.jsonl")) as f:
        ev = [json.loads(line) for line in f if line.strip()]
    return sorted(e["conn"] for e in ev
                  if e.get("action") == "apply" and e.get("toxic") == "half" and e["conn"] <= CLIENTS)


def plan(r):
    return [(e["action"], e.get("fault"), e.get("planned_t_s"), e.get("clients")) for e in r.events()
            if e.get("source") == "harness" and "planned_t_s" in e]


def main():
    path = os.path.join(ht.tmpdir(), "seeded.yaml")
    with open(path, "w") as f:
        f.write(SCENARIO)
    # the scenario's own seed (11), the same given on the command line, and
    # the next one: three runs that share nothing, side by side
    a, b, c = ht.side_by_side([(ht.run, (path, "--quiet"), {"timeout": 120}),
                               (ht.run, (path, "--quiet", "--seed", "11"), {"timeout": 120}),
                               (ht.run, (path, "--quiet", "--seed", "12"), {"timeout": 120})])
    assert a.rc == 0, a.explain()
    seed = a.report["seed"]
    assert seed == 11, seed
    assert b.rc == 0 and c.rc == 0, b.explain() + c.explain()
    assert b.report["seed"] == seed and c.report["seed"] == seed + 1
    da, db, dc = decisions(a), decisions(b), decisions(c)
    assert 3 <= len(da) <= CLIENTS - 3, da  # a real draw, not all or none
    assert da == db, ("the same seed drew differently", da, db)
    assert da != dc, ("another seed drew the same connections", da, dc)
    pa, pb = plan(a), plan(b)
    assert pa and pa == pb, (pa, pb)
    cut = [p for p in pa if p[1] == "cut"]
    # half of the 30 open clients (rounded per fleet thread), as many in both runs
    assert cut and 13 <= cut[0][3] <= 17, cut
    print(f"seed {seed}: toxic on connections {da} in both runs; seed {seed + 1}: {dc}")
    print("ok")


if __name__ == "__main__":
    main()
