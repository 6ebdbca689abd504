#!/usr/bin/python3
# rtchaos-test: serial (3 harness runs at once, each with a proxy)
"""deploy_k8s — deploy/kubernetes/rtchaos-shards.yaml, the Indexed Job of
shards, taken apart and run here without a cluster: the manifest parses
after the documented envsubst, the shard count agrees in completions,
parallelism and SHARDS, its scenario validates, and the pods' own shell
scripts run for real — the shard script three times at once with
JOB_COMPLETION_INDEX=0..2 against one target server started here (a
smaller scenario in the ConfigMap's place), then the merge script, which
must merge the three run folders into one passing report; with a shard
report missing the merge script gives up after MERGE_WAIT_S with exit 3."""
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import rtctest  # noqa: E402

MANIFEST = os.path.join(rtctest.ROOT, "deploy", "kubernetes", "rtchaos-shards.yaml")
SUBST = ("RUN_ID", "TARGET", "RTCHAOS_IMAGE", "START_AT")

SMALL = """\
name: k8s-small
seed: 3
duration: 3s
warmup: 2s
drain: 3s
channels: {count: 6, pattern: "k8s.{i}"}
publishers: {rate_per_s: 10, transport: http, start: 2s}
clients:
  - {name: ws, count: 12, transport: ws, channels_per_client: 2, ramp_up: 1s}
  - {name: sse, count: 6, transport: sse, channels_per_client: 2, ramp_up: 1s}
faults:
  - {name: slow-link, at: 1s, for: 1s, toxic: latency, stream: downstream, attributes: {latency: 50}}
budgets:
  - lost == 0
  - duplicated == 0
  - delivered_ratio >= 0.999
"""


def envsubst(text, values):
    """envsubst with an explicit variable list: only ${NAME} of those names."""
    return re.sub(r"\$\{(" + "|".join(values) + r")\}", lambda m: values[m.group(1)], text)


def env_of(container):
    return {e["name"]: e["value"] for e in container["env"]}


def main():
    with open(MANIFEST) as f:
        raw = f.read()
    for name in SUBST:
        assert "${" + name + "}" in raw, f"{name} not used in the manifest"
    tmp = tempfile.mkdtemp(prefix="rtchaos-k8s-")
    srv = rtctest.start("rtchaos-server", ["--port", "0", "--heartbeat-ms", "1000"], name="k8s-target")
    host, port = rtctest.addr_of(srv.lines[0])
    try:
        at = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=6)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        values = {"RUN_ID": "run-test", "TARGET": f"http://{host}:{port}", "RTCHAOS_IMAGE": "rtchaos:test",
                  "START_AT": at}
        docs = list(yaml.safe_load_all(envsubst(raw, values)))
        assert "${" not in json.dumps(docs), "a placeholder left after envsubst"
        by = {}
        for d in docs:
            by.setdefault(d["kind"], []).append(d)
        cm, = by["ConfigMap"]
        shards_job, merge_job = sorted(by["Job"], key=lambda j: j["metadata"]["name"], reverse=True)
        assert shards_job["metadata"]["name"] == "rtchaos-shards-run-test", shards_job["metadata"]["name"]
        spec = shards_job["spec"]
        assert spec["completionMode"] == "Indexed"
        sc, = spec["template"]["spec"]["containers"]
        mc, = merge_job["spec"]["template"]["spec"]["containers"]
        n = int(env_of(sc)["SHARDS"])
        assert spec["completions"] == spec["parallelism"] == n == int(env_of(mc)["SHARDS"]), "shard counts disagree"
        assert spec["template"]["spec"]["restartPolicy"] == "Never" and spec["backoffLimit"] == 0
        assert env_of(sc)["START_AT"] == at and sc["image"] == "rtchaos:test"
        # the shipped scenario validates (the ConfigMap's file)
        scn = os.path.join(tmp, "shipped.yaml")
        with open(scn, "w") as f:
            f.write(cm["data"]["scenario.yaml"])
        r = subprocess.run([os.path.join(rtctest.BIN, "rtchaos"), "validate", "--target", values["TARGET"], scn],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr

        small = os.path.join(tmp, "small.yaml")
        with open(small, "w") as f:
            f.write(SMALL)
        reports = os.path.join(tmp, "reports")
        base = dict(os.environ, PATH=rtctest.BIN + os.pathsep + os.environ["PATH"])

        def pod_env(container, **extra):
            e = dict(base, **env_of(container))
            e.update(SCENARIO=small, REPORTS_DIR=reports)
            e.update(extra)
            return e

        script = sc["args"][0]
        procs = [subprocess.Popen(sc["command"] + [script], env=pod_env(sc, JOB_COMPLETION_INDEX=str(i)),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(n)]
        for i, p in enumerate(procs):
            out, _ = p.communicate(timeout=150)
            assert p.returncode == 0, f"shard pod {i}: rc {p.returncode}\n{out}"
        run_dir = os.path.join(reports, "run-test")
        for i in range(n):
            with open(os.path.join(run_dir, f"shard-{i}", "exit_code")) as f:
                assert f.read().strip() == "0"
            with open(os.path.join(run_dir, f"shard-{i}", "report.json")) as f:
                rep = json.load(f)
            assert rep["shard"] == {"index": i, "count": n} and rep["start_at"]["late_ms"] >= 0, rep.get("start_at")

        r = subprocess.run(mc["command"] + [mc["args"][0]], env=pod_env(mc), capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, f"merge pod: rc {r.returncode}\n{r.stdout}{r.stderr}"
        with open(os.path.join(run_dir, "merged", "report.json")) as f:
            m = json.load(f)
        assert m["pass"] is True and m["totals"]["clients"] == 18, m["totals"]["clients"]
        assert m["totals"]["published"] == 6 * 10 * 3, m["totals"]["published"]
        assert len(m["merge"]["sources"]) == n, m["merge"]

        # a shard that never wrote its report: the merge pod gives up, exit 3
        shutil.rmtree(os.path.join(run_dir, "shard-1"))
        shutil.rmtree(os.path.join(run_dir, "merged"))
        r = subprocess.run(mc["command"] + [mc["args"][0]], env=pod_env(mc, MERGE_WAIT_S="0"), capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 3 and "2 of 3 shard reports" in r.stderr, (r.returncode, r.stderr)
        assert srv.p.poll() is None, "the target server died"
        print("ok")
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
