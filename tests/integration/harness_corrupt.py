#!/usr/bin/python3
"""harness_corrupt: every contract v1 event's data is checked against the
publisher's stamped payload (fleet/payload.h). Against rtchaos-server
through rtchaos-proxy: a clean run counts 0 `corrupted` and has no such
verdict; with ws_corrupt and sse_corrupt (one bit / one character of a
message changed) each group counts corrupted events, no more than the
proxy's corrupt actions on its transport and a good share of them (the
data is most of each envelope; the rest turn into bad envelopes or wrong
seqs), and the run fails on the implicit verdict `corrupted == 0` without
budgeting it; the report names the kind."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402

SCENARIO = """
name: corrupt
seed: 5
duration: 5s
warmup: 1s
drain: 3s
proxy: true
channels: {count: 4, pattern: "corrupt.{i}"}
publishers: {rate_per_s: 40, payload_bytes: 128}
clients:
  - {name: ws, count: 10, transport: ws, channels_per_client: 2}
  - {name: sse, count: 10, transport: sse, channels_per_client: 2}
budgets:
  - reordered == 0
"""
FAULTS = """
faults:
  - {name: cw, at: 1s, for: 3s, toxic: ws_corrupt, stream: downstream, attributes: {probability: 0.05}}
  - {name: cs, at: 1s, for: 3s, toxic: sse_corrupt, stream: downstream, attributes: {probability: 0.05}}
"""


def clean():
    r = ht.run(ht.scenario_file(SCENARIO))
    assert r.rc == 0, r.explain()
    t = r.report["totals"]
    assert t["corrupted"] == 0 and t["delivered"] > 1000, t
    assert r.report["groups"]["ws"]["corrupted"] == 0 and r.report["groups"]["sse"]["corrupted"] == 0
    assert [v["name"] for v in r.report["verdicts"]] == ["reordered"], r.report["verdicts"]
    return t["delivered"]


def corrupt():
    r = ht.run(ht.scenario_file(SCENARIO + FAULTS))
    assert r.rc == 1, r.explain()
    acts = {f["name"]: f["proxy_actions"] for f in r.report["faults"]}
    g = r.report["groups"]
    for grp, fault in (("ws", "cw"), ("sse", "cs")):
        assert acts[fault] >= 20, acts
        assert 0.25 * acts[fault] <= g[grp]["corrupted"] <= acts[fault], (grp, g[grp]["corrupted"], acts)
    v = ht.verdicts(r)
    assert v["corrupted"]["pass"] is False and v["corrupted"]["value"] == r.report["totals"]["corrupted"], v
    assert "implicit" in v["corrupted"]["text"], v
    assert "corrupted " in r.stdout and "FAIL corrupted" in r.stdout, r.stdout
    kinds = {a["kind"] for a in r.report["anomalies"]}
    assert "corrupted" in kinds, kinds
    return g["ws"]["corrupted"], acts["cw"], g["sse"]["corrupted"], acts["cs"]


def main():
    delivered, (ws, cw, sse, cs) = ht.side_by_side([(clean, (), {}), (corrupt, (), {})])
    print(f"harness_corrupt: clean run 0 corrupted of {delivered} delivered; with the faults ws {ws} corrupted of "
          f"{cw} proxy corruptions, sse {sse} of {cs}")


if __name__ == "__main__":
    main()
