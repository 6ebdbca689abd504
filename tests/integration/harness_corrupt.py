#!/usr/bin/python3
"""harness_corrupt: every contract v1 event's data is checked against the
publisher's stamped payload (fleet/payload.h). Against rtchaos-server
through rtchaos-proxy: a clean run counts 0 `corrupted` and has no such
verdict; with ws_corrupt and sse_corrupt (one bit / one character of a
message changed) each group counts corrupted events, no more than the
proxy's corrupt actions on its transport and a good share of them (the
data is most of each envelope; the rest turn into bad envelopes or wrong
seqs), and the run fails on the implicit verdict `corrupted == 0` without
budgeting it; the report names the kind. The same holds for a templated
SSE service, where the payload travels inside the publisher's record."""
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


# the same server spoken to as a templated SSE service (target.protocol:
# sse): the publisher's record, with the payload, inside each event's data
TEMPLATED = """
name: corrupt-templated
seed: 6
duration: 5s
warmup: 1s
drain: 3s
proxy: true
target:
  protocol: sse
  sub_path: "/sse?ch={ch}"
  resume_header: Last-Event-ID
  payload: data
  pub_method: POST
  pub_path: "/publish/{ch}"
  pub_body: '{"data":{payload}}'
channels: {count: 4, pattern: "corrupt-t.{i}"}
publishers: {rate_per_s: 40, payload_bytes: 128}
clients:
  - {name: sse, count: 10, transport: sse, channels_per_client: 1}
budgets:
  - reordered == 0
"""


def templated(faults):
    r = ht.run(ht.scenario_file(TEMPLATED + (
        "faults:\n  - {name: cs, at: 1s, for: 3s, toxic: sse_corrupt, stream: downstream, "
        "attributes: {probability: 0.05}}\n" if faults else "")))
    g = r.report["groups"]["sse"]
    if not faults:
        assert r.rc == 0 and g["corrupted"] == 0 and g["delivered"] > 500, r.explain()
        return 0, 0
    assert r.rc == 1, r.explain()
    acts = r.report["faults"][0]["proxy_actions"]
    # the payload is a smaller share of each event here (the envelope and the
    # record around it): a change elsewhere breaks the record or its run id
    assert acts >= 20 and 0.1 * acts <= g["corrupted"] <= acts, (g["corrupted"], acts)
    assert ht.verdicts(r)["corrupted"]["pass"] is False
    return g["corrupted"], acts


def main():
    delivered, (ws, cw, sse, cs), _, (tsse, tcs) = ht.side_by_side(
        [(clean, (), {}), (corrupt, (), {}), (templated, (False,), {}), (templated, (True,), {})], jobs=4)
    print(f"harness_corrupt: clean run 0 corrupted of {delivered} delivered; with the faults ws {ws} corrupted of "
          f"{cw} proxy corruptions, sse {sse} of {cs}; templated SSE (record inside the event) 0 clean, "
          f"{tsse} of {tcs} with sse_corrupt")


if __name__ == "__main__":
    main()
