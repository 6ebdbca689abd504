#!/usr/bin/python3
# rtchaos-test: serial (its shard runs are smoke with its p95_live_ms <= 100 budget)
"""reports_cli — the report commands of the real bin/rtchaos: `report`
re-renders a run folder, `compare` exits 0/1/2 (pass / regressed / bad
input) and writes compare.html, `merge` combines two real shard runs exactly
(counts add, the merged histogram holds every shard's samples), and the
shipped suites validate."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("RTCHAOS_BIN", os.path.join(ROOT, "bin"))
RTCHAOS = os.path.join(BIN, "rtchaos")
FIX = os.path.join(ROOT, "tests", "fixtures", "reports")


def rtchaos(*args, timeout=120):
    r = subprocess.run([RTCHAOS] + list(args), capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    return r.returncode, r.stdout, r.stderr


def check(cond, what, out=""):
    if not cond:
        sys.exit(f"FAILED: {what}\n{out}")


def main():
    tmp = tempfile.mkdtemp(prefix="rtchaos-reports-cli-")
    try:
        # report: re-render a run folder from report.json alone
        run = os.path.join(tmp, "fail")
        os.makedirs(run)
        shutil.copy(os.path.join(FIX, "fail.json"), os.path.join(run, "report.json"))
        rc, out, err = rtchaos("report", run)
        check(rc == 0, "rtchaos report exits 0", out + err)
        check("FAIL  reconnect-storm" in out, "report prints the summary", out)
        for f in ("report.md", "report.html", "plots/latency.svg", "plots/spectrum.png"):
            check(os.path.exists(os.path.join(run, f)), f"report writes {f}")
        rc, out, err = rtchaos("report", os.path.join(tmp, "nowhere"))
        check(rc == 2, "report of a missing folder exits 2", out + err)

        # compare: the three exit codes, and the HTML with overlaid plots
        p, f = os.path.join(FIX, "pass.json"), os.path.join(FIX, "fail.json")
        rc, out, err = rtchaos("compare", p, p)
        check(rc == 0, "a report compared with itself passes", out + err)
        cmp_dir = os.path.join(tmp, "cmp")
        rc, out, err = rtchaos("compare", p, f, "--max", "lost=0", "--out", cmp_dir)
        check(rc == 1, "pass → fail regresses (exit 1)", out + err)
        check("REGRESSED:" in out and "lost" in out, "the table names the regressed metrics", out)
        check(os.path.exists(os.path.join(cmp_dir, "compare.html")), "compare.html written")
        rc, out, err = rtchaos("compare", p, os.path.join(tmp, "none.json"))
        check(rc == 2, "an unreadable report exits 2", out + err)
        rc, out, err = rtchaos("compare", p, f, "--max-regress", "p95_live=ten")
        check(rc == 2, "a malformed rule exits 2", out + err)

        # merge two real shard runs of the smoke scenario
        shards = []
        for i in range(2):
            d = os.path.join(tmp, f"shard{i}")
            rc, out, err = rtchaos("run", os.path.join(ROOT, "scenarios", "smoke.yaml"), "--out", d,
                                   "--shard", f"{i}/2", "--set", "duration=3s", "--set", "warmup=1s",
                                   # the merge is under test, not speed on a loaded box
                                   "--set", "budgets.5=p95_live_ms <= 5000",
                                   "--quiet", timeout=90)
            check(rc == 0, f"shard {i} run passes", out + err)
            shards.append(d)
        merged = os.path.join(tmp, "merged")
        rc, out, err = rtchaos("merge", merged, *shards)
        check(rc == 0, "merge of passing shards exits 0", out + err)
        with open(os.path.join(merged, "report.json")) as fh:
            m = json.load(fh)
        reps = []
        for d in shards:
            with open(os.path.join(d, "report.json")) as fh:
                reps.append(json.load(fh))
        for key in ("clients", "published", "delivered", "expected"):
            check(m["totals"][key] == sum(r["totals"][key] for r in reps), f"merged totals.{key} adds up")
        live = m["latency_us"]["live"]
        check(live["count"] == sum(r["latency_us"]["live"]["count"] for r in reps), "merged live count adds up")
        check(live["hist"]["count"] == live["count"], "merged histogram holds every sample")
        check(live["max"] == max(r["latency_us"]["live"]["max"] for r in reps), "merged max is the max")
        lo = min(r["latency_us"]["live"]["p50"] for r in reps)
        hi = max(r["latency_us"]["live"]["p50"] for r in reps)
        check(lo <= live["p50"] <= hi, "merged p50 lies between the shards' p50")
        # per-second rows and groups: buckets add exactly, and each merged
        # percentile (the top of its coarse bucket, as the run computes it)
        # lies between the shards' own for that second / group
        rows = {}
        for r in reps:
            for row in r["timeline"]:
                rows.setdefault(row["t_s"], []).append(row)
        checked = 0
        for row in m["timeline"]:
            src = [x for x in rows.get(row["t_s"], []) if x["lat"]]
            want = {}
            for x in src:
                for v, c in x["lat"]:
                    want[v] = want.get(v, 0) + c
            check({v: c for v, c in row["lat"]} == want, f"merged row {row['t_s']}: buckets add up")
            if src:
                for k in ("p50_us", "p95_us", "p99_us"):
                    lo, hi = min(x[k] for x in src), max(x[k] for x in src)
                    check(lo <= row[k] <= hi, f"merged row {row['t_s']}: {k} {row[k]} within the shards' [{lo}, {hi}]")
                checked += 1
        check(checked >= 2, "rows with deliveries were checked")
        for name, g in m["groups"].items():
            src = [r["groups"][name] for r in reps if r["groups"][name]["lat"]]
            lo, hi = min(x["live_p95_us"] for x in src), max(x["live_p95_us"] for x in src)
            check(lo <= g["live_p95_us"] <= hi, f"merged group {name}: live_p95_us within the shards'")
        check(m["merge"]["timeline_p95"].startswith("exact"), "merged rows are exact")
        check(m["merge"]["shards"] == 2, "merge records its sources")
        check(os.path.exists(os.path.join(merged, "report.html")), "merged report rendered")
        # shards of different scenarios do not merge
        other = os.path.join(tmp, "other")
        os.makedirs(other)
        shutil.copy(os.path.join(FIX, "pass.json"), os.path.join(other, "report.json"))
        rc, out, err = rtchaos("merge", os.path.join(tmp, "bad"), shards[0], other)
        check(rc == 2, "merging different scenarios exits 2", out + err)

        # the shipped suites are valid
        rc, out, err = rtchaos("validate", "scenarios/suites/rfp.yaml", "scenarios/suites/drills.yaml")
        check(rc == 0, "shipped suites validate", out + err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
