#!/usr/bin/python3
# rtchaos-test: serial (the abuse suite's legit.p95/p99 latency budgets)
"""security_suite_abuse_attacks — the abuse suite's entries whose attackers
come from the fleet, in their short form: a WS message flood, oversized WS
messages and bodies, slowloris handshakes. Each passes its budgets (every
attempt refused with the documented code, the readers unaffected) and its
drill checks (the server's rate-limit / too_large / handshake-timeout
counters move, its memory stays bounded).

Each run folder is then read for what the attackers did: every message flood
closed 4429 after about its burst, every oversized WS message closed 1009
and every oversized body answered 413, every trickled handshake cut at the
server's 3 s handshake deadline (not before: the deadline did it), with the
counts in report.json's attack parts and the legitimate readers (their own
group) losing nothing; `rtchaos merge` adds the attackers' outcomes exactly.
(These were a separate test that ran the same three scenarios again.)"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import attacktest  # noqa: E402
import harnesstest  # noqa: E402
import suitetest  # noqa: E402


def check_pass(r):
    assert r.rc == 0, r.explain()
    assert all(v["pass"] for v in r.report["verdicts"]), r.report["verdicts"]
    legit = r.report["groups"]["legit"]
    assert legit["lost"] == 0 and legit["delivered"] > 1000, legit
    a = r.report["attacks"]
    assert a["attempts"] == a["rejected"] and a["unexpected"] == 0 and a["not_rejected"] == 0, a
    # attackers stay out of the readers' totals
    assert r.report["totals"]["errors"] == 0 and r.report["totals"]["reconnects"] == 0, r.report["totals"]
    return a


def message_flood(r):
    a = check_pass(r)
    f = attacktest.attack(r, "flood")
    assert f["behavior"] == "flood" and f["expect"] == ["ws_4429"], f
    assert f["by_outcome"] == {"ws_4429": f["attempts"]} and f["attempts"] >= 20, f
    # the server let each flood through about its burst of 50, then cut it
    assert 40 <= f["accepted"] / f["attempts"] <= 150, f
    assert f["sent"] > f["accepted"], f
    # report.md / report.html show the attacks
    for name in ("report.md", "report.html"):
        with open(os.path.join(r.dir, name)) as fh:
            doc = fh.read()
        assert "Attacks" in doc and f"ws_4429: {f['attempts']}" in doc, name
    # rtchaos merge adds the attackers' outcomes exactly and re-judges their budgets
    out = os.path.join(tempfile.mkdtemp(prefix="rtchaos-merge-"), "m")
    p = subprocess.run([harnesstest.RTCHAOS, "merge", out, r.dir, r.dir], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    with open(os.path.join(out, "report.json")) as fh:
        m = json.load(fh)
    assert m["attacks"]["attempts"] == 2 * a["attempts"], (m["attacks"], a)
    assert m["attacks"]["cut_us"]["count"] == 2 * a["cut_us"]["count"], m["attacks"]["cut_us"]
    assert m["groups"]["flood"]["attack"]["by_outcome"] == {"ws_4429": 2 * f["attempts"]}, m["groups"]["flood"]
    assert {v["name"]: v["pass"] for v in m["verdicts"]}["attack_rejected_ratio"] is True, m["verdicts"]


def oversized(r):
    check_pass(r)
    frame, body = attacktest.attack(r, "big-frame"), attacktest.attack(r, "big-body")
    assert frame["by_outcome"] == {"ws_1009": frame["attempts"]} and frame["attempts"] >= 10, frame
    assert body["by_outcome"] == {"http_413": body["attempts"]} and body["attempts"] >= 10, body


def slowloris(r):
    a = check_pass(r)
    for g in ("loris-ws", "loris-sse"):
        lo = attacktest.attack(r, g)
        assert set(lo["by_outcome"]) == {"closed"} and lo["attempts"] >= 25, lo
        assert lo["sent"] >= 10 * lo["attempts"], lo  # it did trickle (a byte per 200 ms)
    # cut by the 3 s deadline, not by something sooner
    assert a["cut_us"]["p50"] >= 2900000, a["cut_us"]


CHECKS = {"message-flood": message_flood, "oversized": oversized, "slowloris": slowloris}
checked = []


def check_entry(entry_id, run_dir):
    # the suite passed the entry, so the run exited 0
    CHECKS[entry_id](harnesstest.Run(0, "", "", run_dir))
    checked.append(entry_id)
    print(f"{entry_id}: attack checks ok")


suitetest.run_suite("abuse", "message-flood,oversized,slowloris", ["message-flood", "oversized", "slowloris"],
                    check_entry=check_entry)
assert sorted(checked) == sorted(CHECKS), checked
