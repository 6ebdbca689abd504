#!/usr/bin/python3
# rtchaos-test: serial (4 harness runs, 3 of them at once, each with a proxy)
"""harness_shards — issue 15's "beyond one box" check on one box: one
target server (started here), the same scenario run once whole and once as
3 `--shard i/3` processes at the same time with one `--start-at`, and
`rtchaos merge` of the 3 shard folders gives the same verdicts and exactly
the same counts (clients, published, expected, delivered, lost,
duplicated) as the whole run. The scenario has a latency toxic on its
timeline: every shard applies it at the same offset from the shared start."""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import rtctest  # noqa: E402

RTCHAOS = os.path.join(rtctest.BIN, "rtchaos")

# 6 channels and groups of 30/15/6 clients split evenly over 3 shards;
# publishing starts when the warm-up ends (publishers.start), after the
# 1 s ramp-up with 2 s to spare (a 1 s margin lost one subscription
# once on a loaded box: expected 3839 vs 3840), so every client is
# subscribed before the first event and
# `expected` is the same whichever process runs it; events due after
# warmup + duration are never published, so `published` is exact too.
SCENARIO = """\
name: shards
seed: 7
duration: 4s
warmup: 3s
drain: 4s
channels: {count: 6, pattern: "PFX.{i}"}
publishers: {rate_per_s: 10, schedule: constant, payload_bytes: 64, transport: http, start: 3s}
clients:
  - {name: ws, count: 30, transport: ws, channels_per_client: 2, ramp_up: 1s}
  - {name: sse, count: 15, transport: sse, channels_per_client: 2, ramp_up: 1s}
  - {name: poll, count: 6, transport: poll, channels_per_client: 1}
faults:
  - {name: slow, at: 1s, for: 1s, toxic: latency, stream: downstream, attributes: {latency: 100}}
budgets:
  - lost == 0
  - duplicated == 0
  - reordered == 0
  - delivered_ratio >= 0.999
  - published > 0
  - p99_live_ms <= 10000
"""

COUNTS = ("clients", "published", "expected", "delivered", "lost", "duplicated", "reordered", "resync_failed")


def load(d):
    with open(os.path.join(d, "report.json")) as f:
        return json.load(f)


def verdicts(rep):
    return sorted((v["name"], v["pass"]) for v in rep["verdicts"])


def main():
    tmp = tempfile.mkdtemp(prefix="rtchaos-shards-")
    srv = rtctest.start("rtchaos-server", ["--port", "0", "--heartbeat-ms", "1000"], name="shards-target")
    host, port = rtctest.addr_of(srv.lines[0])
    url = f"http://{host}:{port}"
    try:
        # whole run and shards publish on their own channel names: the
        # target keeps one sequence per channel across runs
        paths = {}
        for pfx in ("whole", "sharded"):
            paths[pfx] = os.path.join(tmp, f"{pfx}.yaml")
            with open(paths[pfx], "w") as f:
                f.write(SCENARIO.replace("PFX", pfx))

        whole = os.path.join(tmp, "whole")
        r = subprocess.run([RTCHAOS, "run", paths["whole"], "--target", url, "--out", whole, "--quiet"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"whole run: rc {r.returncode}\n{r.stdout}{r.stderr}"

        # a start still ahead once three harnesses and proxies are up on a loaded box
        at = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=6)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        procs, dirs = [], []
        for i in range(3):
            d = os.path.join(tmp, f"shard{i}")
            dirs.append(d)
            procs.append(subprocess.Popen([RTCHAOS, "run", paths["sharded"], "--target", url, "--out", d,
                                           "--shard", f"{i}/3", "--start-at", at, "--quiet"],
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        for i, p in enumerate(procs):
            out, _ = p.communicate(timeout=150)
            assert p.returncode == 0, f"shard {i}: rc {p.returncode}\n{out}"
        reps = [load(d) for d in dirs]
        for i, rep in enumerate(reps):
            assert rep["shard"] == {"index": i, "count": 3}, rep.get("shard")
            assert rep["start_at"]["at"] == at.replace("Z", ".000Z"), rep.get("start_at")
            assert 0 <= rep["start_at"]["late_ms"] < 1000, rep["start_at"]  # started at it, not before
            assert rep["proxy"] is True
        # they ran at the same time: every shard's clients started within
        # the allowed lateness of the one instant, so their windows overlap
        starts = [datetime.datetime.fromisoformat(rep["started"].replace("Z", "+00:00")).timestamp() for rep in reps]
        ends = [s + rep["duration_s"] for s, rep in zip(starts, reps)]
        assert max(starts) < min(ends), (starts, ends)

        merged = os.path.join(tmp, "merged")
        r = subprocess.run([RTCHAOS, "merge", merged] + dirs, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"merge: rc {r.returncode}\n{r.stdout}{r.stderr}"
        m, w = load(merged), load(whole)
        assert verdicts(m) == verdicts(w), (verdicts(m), verdicts(w))
        assert all(p for _, p in verdicts(m)), verdicts(m)
        for k in COUNTS:
            assert m["totals"][k] == w["totals"][k], (k, m["totals"][k], w["totals"][k])
        assert w["totals"]["published"] == 6 * 10 * 4, w["totals"]["published"]  # channels x rate x (4 s)
        for k in ("clients", "published"):
            assert sum(rep["totals"][k] for rep in reps) == w["totals"][k], k
        assert all(rep["totals"]["published"] > 0 for rep in reps), "a shard published nothing"
        assert srv.p.poll() is None, "the target server died"
        print(f"ok: whole and merged(3 shards): " + ", ".join(f"{k}={w['totals'][k]}" for k in COUNTS))
    finally:
        rc = srv.stop()
    assert rc == 0, f"the target server exited {rc} on SIGTERM"


if __name__ == "__main__":
    main()
