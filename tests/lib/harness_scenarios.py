"""harness_scenarios — the body of the harness_scenarios_* integration tests
(split in two files so each stays well under a minute): shipped scenarios
pass against rtchaos-server in a short form: exit 0, every verdict passes,
each fault was applied when planned (and shows in report.json and
events.jsonl), and no child is left behind."""
import harness_shipped as hs
import harnesstest as ht


def check(name, *extra):
    """Runs shipped scenario `name` in its short form (plus the extra
    command-line arguments) and checks it; returns the harnesstest.Run."""
    r = ht.run(name + ".yaml", *hs.args(name), *extra, "--quiet", timeout=150)
    assert r.rc == 0, f"{name}: " + r.explain() + "\n" + str(r.report and r.report.get("verdicts"))
    rep = r.report
    assert rep["pass"] is True and all(v["pass"] for v in rep["verdicts"]), rep["verdicts"]
    assert rep["totals"]["published"] > 0 and rep["totals"]["delivered"] > 0, rep["totals"]
    for f in rep["faults"]:
        # applied, within a second of its plan (the box is shared: generous)
        assert f["from_s"] is not None, f
        assert abs(f["from_s"] - f["planned_from_s"]) < 1.0, f
        if f.get("planned_to_s") is not None:
            assert f["to_s"] is not None and abs(f["to_s"] - f["planned_to_s"]) < 1.0, f
    acts = [e["action"] for e in r.events() if e.get("source") == "harness"]
    assert "fleet_started" in acts and "drained" in acts, acts
    ht.assert_all_gone(r.child_pids())
    t = rep["totals"]
    if name == "reconnect-storm":
        assert t["reconnects"] > 0 and t["resync_ok"] > 0, t
    if name == "half-open":
        assert t["reconnects"] > 0 and t["resync_ok"] > 0, t
    if name == "history-overflow":
        assert t["snapshots"] > 0, t
    if name == "slow-consumer":
        assert t["gaps"] > 0, t
    if name == "latency-spike":
        assert rep["faults"][0]["proxy_actions"] > 0, rep["faults"]
    print(f"{name}: ok ({t['delivered']} delivered)")
    return r


def run_all(names):
    """Runs each shipped scenario of names in its short form and checks it."""
    hs.check_overrides(ht.SCEN)
    # each run starts its own server on its own ports and mostly waits on its
    # timeline: they run side by side (the first failure is raised) — but
    # slow-consumer, whose fast clients' p95 is judged, runs by itself
    # (beside two other runs its ASan form missed the budget on a loaded box)
    alone = [n for n in names if n == "slow-consumer"]
    for name in alone:
        check(name)
    ht.side_by_side([(check, (name,), {}) for name in names if name not in alone])
    print("ok")
