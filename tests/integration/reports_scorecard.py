#!/usr/bin/python3
"""reports_scorecard: one tiny suite (written here: an SSE delivery entry, a
local-only entry, a not-yet-runnable one) run twice against one real
rtchaos-server — once over contract v1, once through the templated `sse`
adapter (the server treated as a stranger) — then `rtchaos scorecard` puts
the two runs side by side. Checked: one column per run named by the
reports' target URL and protocol, one row per entry (the WebSocket entry is
"not applicable to this protocol" with the loader's reason under
`--protocol sse`, and is not run), every cell's figures
equal the index's answer and the run's report.json, verdicts (pass / not
applicable with the reason) agree with the index, md/html hold the same;
bad input (missing folder, a folder with no suite index, a run folder of a
single scenario, two different suites) is exit 2 naming the folder."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import rtctest  # noqa: E402

RTCHAOS = os.path.join(rtctest.BIN, "rtchaos")

SCENARIO = """name: scorecard-tiny
seed: 3
duration: 3s
warmup: 1s
drain: 2s
channels: {count: 2, pattern: "sc.{i}"}
publishers: {rate_per_s: 20, payload_bytes: 64}
clients:
  - {name: sse, count: 6, transport: sse}
budgets:
  - lost == 0
  - published > 0
"""

SUITE = """suite: %s
title: "Scorecard test: delivery over SSE"
questions:
  1: "Is every event delivered once?"
entries:
  - id: delivery
    question: 1
    title: "Six SSE clients, no faults"
    scenario: tiny.yaml
    answer: [delivered, lost, published, p95_live_ms]
    timeout: 60s
  - id: ws-clients
    question: 1
    title: "Six WebSocket clients, no faults"
    scenario: tiny.yaml
    set: ["clients.0.transport=ws"]
    answer: [delivered, lost]
    timeout: 60s
  - id: server-pause
    title: "Acts on the server process"
    scenario: tiny.yaml
    local_only: "pauses the server process, which a remote target does not allow"
  - id: multi-node
    question: 1
    title: "Two nodes"
    not_runnable: "needs a Redis cluster the test does not start"
"""

SSE_SETS = ["target.sub_path=/sse?ch={ch}", "target.resume_header=Last-Event-ID",
            "target.payload=data", "target.pub_path=/publish/{ch}", "target.pub_body='{\"data\":{payload}}'"]


def run(args, timeout=120):
    return subprocess.run([RTCHAOS] + args, capture_output=True, text=True, timeout=timeout)


def main():
    d = tempfile.mkdtemp(prefix="rtchaos-scorecard-", dir=rtctest.LOGDIR if os.path.isdir(rtctest.LOGDIR) else None)
    with open(os.path.join(d, "tiny.yaml"), "w") as f:
        f.write(SCENARIO)
    with open(os.path.join(d, "suite.yaml"), "w") as f:
        f.write(SUITE % "scorecard-test")
    with open(os.path.join(d, "other.yaml"), "w") as f:
        f.write(SUITE % "another-suite")
    srv = rtctest.start("rtchaos-server", ["--port", "0"], name="scorecard-server")
    host, port = rtctest.addr_of(srv.lines[0])
    url = f"http://{host}:{port}"
    runs = {}
    try:
        for name, extra in (("v1", []), ("sse", ["--protocol", "sse"] + [a for s in SSE_SETS for a in ("--set", s)])):
            out = os.path.join(d, "run-" + name)
            r = run(["run", os.path.join(d, "suite.yaml"), "--target", url, "--out", out, "--quiet"] + extra)
            assert r.returncode == 0, (name, r.returncode, r.stdout[-2000:], r.stderr[-2000:])
            runs[name] = out
        # --protocol sse without its templates is the command line's mistake: the entry is
        # invalid (exit 2), never "not applicable" (which would leave nothing run and exit 0)
        nocfg = os.path.join(d, "run-nocfg")
        r = run(["run", os.path.join(d, "suite.yaml"), "--target", url, "--out", nocfg, "--only", "delivery",
                 "--protocol", "sse", "--quiet"])
        with open(os.path.join(nocfg, "index.json")) as f:
            st = [e["status"] for e in json.load(f)["entries"]]
        assert r.returncode == 2 and st == ["INVALID"], (r.returncode, st)
        # every selected entry not applicable: nothing measured is no pass (exit 2, said why)
        allna = os.path.join(d, "run-allna")
        r = run(["run", os.path.join(d, "suite.yaml"), "--target", url, "--out", allna, "--only", "ws-clients",
                 "--protocol", "sse", "--quiet"] + [a for s in SSE_SETS for a in ("--set", s)])
        with open(os.path.join(allna, "index.json")) as f:
            st = [e["status"] for e in json.load(f)["entries"]]
        assert r.returncode == 2 and st == ["not yet runnable"], (r.returncode, st, r.stderr)
        assert "--protocol sse: none of the 1 selected entries of suite scorecard-test can run" in r.stderr, r.stderr
        # a different suite: only its not-runnable entry, nothing is run
        other = os.path.join(d, "run-other")
        r = run(["run", os.path.join(d, "other.yaml"), "--target", url, "--out", other, "--only", "multi-node"])
        assert os.path.exists(os.path.join(other, "index.json")), r
        # a plain scenario run folder (report.json, no index.json)
        single = os.path.join(d, "single")
        r = run(["run", os.path.join(d, "tiny.yaml"), "--target", url, "--out", single, "--quiet"])
        assert r.returncode == 0, r
    finally:
        rc = srv.stop()
    assert rc == 0, rc

    sc = os.path.join(d, "card")
    r = run(["scorecard", sc, runs["v1"], runs["sse"]])
    assert r.returncode == 0, r
    with open(os.path.join(sc, "scorecard.json")) as f:
        card = json.load(f)
    assert card["schema"] == "rtchaos.scorecard/1" and card["suite"] == "scorecard-test", card
    cols = card["columns"]
    assert [c["protocol"] for c in cols] == ["v1", "sse"], cols
    assert all(c["target"] == url and c["label"] == f"{url} ({c['protocol']})" for c in cols), cols
    assert [row["id"] for row in card["rows"]] == ["delivery", "ws-clients", "server-pause", "multi-node"], card["rows"]
    rows = {row["id"]: row for row in card["rows"]}
    for c, name in enumerate(("v1", "sse")):
        with open(os.path.join(runs[name], "index.json")) as f:
            idx = {e["id"]: e for e in json.load(f)["entries"]}
        with open(os.path.join(runs[name], "delivery", "report.json")) as f:
            rep = json.load(f)
        assert rep["protocol"]["name"] == name and rep["target"] == url, (rep.get("protocol"), rep["target"])
        cell = rows["delivery"]["cells"][c]
        assert cell["verdict"] == "pass" and cell["figures"] == idx["delivery"]["answer"], (cell, idx["delivery"])
        t = rep["totals"]
        for k in ("delivered", "lost", "published"):
            assert cell["figures"][k] == t[k], (name, k, cell["figures"], t)
        assert cell["figures"]["published"] > 0 and cell["figures"]["delivered"] > 0, cell
        # --protocol sse: the WebSocket entry is not applicable, with the loader's reason, and not run
        cell = rows["ws-clients"]["cells"][c]
        if name == "v1":
            assert cell["verdict"] == "pass" and cell["figures"]["lost"] == 0 and cell["figures"]["delivered"] > 0, cell
        else:
            assert cell["verdict"] == "not applicable" and not os.path.exists(os.path.join(runs[name], "ws-clients")), cell
            assert cell["reason"] == ("not applicable to this protocol (sse): --set clients.0.transport=ws: "
                                      "clients[0]: protocol sse has no ws transport"), cell["reason"]
        for rid in ("server-pause", "multi-node"):
            cell = rows[rid]["cells"][c]
            assert cell["verdict"] == "not applicable" and idx[rid]["status"] == "not yet runnable", cell
            assert cell["reason"] in (idx[rid].get("why"), idx[rid].get("not_runnable")) and len(cell["reason"]) > 20, cell
    md = open(os.path.join(sc, "scorecard.md")).read()
    html = open(os.path.join(sc, "scorecard.html")).read()
    for c in cols:
        assert c["label"] in md and c["label"] in html, c["label"]
    for c in range(2):
        ans = rows["delivery"]["cells"][c]["answer_text"]
        assert ans and ans in md and ans in html, ans
    assert "needs a Redis cluster the test does not start" in html and "not applicable" in md
    assert "<script" not in html and "http-equiv" not in html and '<link' not in html
    assert html.count('report.html">report</a>') == 3, html.count('report.html">report</a>')
    # the links from the scorecard folder reach the runs' reports
    for href in ("../run-v1/delivery/report.html", "../run-sse/delivery/report.html"):
        assert f'href="{href}"' in html and os.path.exists(os.path.join(sc, href)), href

    # bad input: exit 2, the folder named, nothing written
    bad = [([os.path.join(d, "nope"), runs["v1"]], os.path.join(d, "nope") + ": not a directory"),
           ([runs["v1"], single], f"{single}: not a suite run folder (no readable index.json"),
           ([runs["v1"], other], f"different suites mixed: {runs['v1']} is suite 'scorecard-test', "
                                 f"{other} is suite 'another-suite'"),
           ([], "usage: rtchaos scorecard OUT_DIR")]
    notidx = os.path.join(d, "notidx")
    os.makedirs(notidx)
    shutil.copy(os.path.join(single, "report.json"), os.path.join(notidx, "index.json"))
    bad.append(([notidx], f"{notidx}/index.json: not a suite index (schema 'rtchaos.report/1'"))
    for i, (dirs, msg) in enumerate(bad):
        out = os.path.join(d, f"bad{i}")
        r = run(["scorecard", out] + dirs if dirs else ["scorecard", out])
        assert r.returncode == 2 and msg in r.stderr, (dirs, r.returncode, r.stderr)
        assert not os.path.exists(os.path.join(out, "scorecard.json")), out
    print("ok scorecard:", {c["label"]: rows["delivery"]["cells"][i]["answer_text"] for i, c in enumerate(cols)})
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
