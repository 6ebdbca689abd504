#!/usr/bin/python3
"""ci_recipes: the shell steps of the CI recipes in ci/ (the GitHub Actions
workflow and the GitLab CI job), taken out of the YAML and run as a script,
as the CI runner would, against a local rtchaos-server standing in for
staging: the suite runs, every entry gets junit.xml, report.html and a
comparison against the committed baseline, the globs the recipes publish
match those files, and the gate fails the step when a rule is broken.

The install step (apt-get, dpkg-buildpackage) is not run here: it is
scripts/deb-install.sh, which scripts/package-test.sh runs in .ci/run, and
which runs these same steps again with the installed packages
(RTCHAOS_RECIPE_INSTALLED=1: rtchaos from PATH instead of RTCHAOS_BIN)."""
import concurrent.futures
import glob
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
import srvtest  # noqa: E402

CI = os.path.join(rtctest.ROOT, "ci")
# the test's own gate: the recipes' latency margins (and compare's default
# +20 % on resync times, and "no more failed verdicts") are for a real staging
# server; on a loaded test machine latency moves by multiples, so here the
# gate judges correctness only (the recipes' own RTCHAOS_GATE is checked to be
# valid flags that a baseline passes against itself)
TEST_GATE = "--no-defaults --max lost=0 --max duplicated=0 --max reordered=0 --max resync_failed=0 " \
            "--min delivered_ratio=99.9%"
INSTALLED = os.environ.get("RTCHAOS_RECIPE_INSTALLED") == "1"


def github_steps():
    with open(os.path.join(CI, "github-actions.yml")) as f:
        wf = yaml.safe_load(f)
    job = wf["jobs"]["gate"]
    assert job["defaults"]["run"]["shell"] == "bash"
    env = {k: str(v) for k, v in wf["env"].items() if "${{" not in str(v)}
    steps = job["steps"]
    runs = [(s.get("id"), s["run"]) for s in steps if "run" in s]
    uses = {s["uses"].split("@")[0]: s.get("with", {}) for s in steps if "uses" in s}
    for s in steps:  # the publishing steps run even when the gate failed
        if "uses" in s and s["uses"].split("@")[0] != "actions/checkout":
            assert s.get("if") == "always()", s
    junit = [uses["mikepenz/action-junit-report"]["report_paths"]]
    keep = uses["actions/upload-artifact"]["path"].split()
    return env, runs, junit, keep


def gitlab_steps():
    with open(os.path.join(CI, "gitlab-ci.yml")) as f:
        job = yaml.safe_load(f)["rtchaos-gate"]
    env = {k: str(v) for k, v in job["variables"].items()}
    runs = [("install", "\n".join(job["before_script"])), ("gate", "\n".join(job["script"]))]
    assert job["artifacts"]["when"] == "always"
    junit = [job["artifacts"]["reports"]["junit"]]
    keep = [p.rstrip("/") + ("/**" if p.endswith("/") else "") for p in job["artifacts"]["paths"]]
    return env, runs, junit, keep


def run_steps(name, steps, env, cwd, shell):
    """Runs every step but the install ones; returns the last step's rc."""
    rc = None
    for sid, script in steps:
        if sid in ("install", "tools"):
            continue
        p = subprocess.run(shell + [script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        rc = p.returncode
        log = os.path.join(cwd, f"{name}-{sid}.log")
        with open(log, "w") as f:
            f.write(p.stdout + p.stderr)
        if rc != 0:
            return rc, p.stdout + p.stderr
    return rc, ""


def check_outputs(cwd, junit_globs, keep_globs, entries):
    for e in entries:
        for f in ("junit.xml", "report.html", "report.json", "compare/compare.md"):
            assert os.path.exists(os.path.join(cwd, "rtchaos-out", e, f)), (e, f)
    assert os.path.exists(os.path.join(cwd, "rtchaos-out", "index.html"))
    for g in junit_globs:
        got = sorted(glob.glob(os.path.join(cwd, g)))
        assert len(got) == len(entries), (g, got)
    kept = set()
    for g in keep_globs:
        for p in glob.glob(os.path.join(cwd, g), recursive=True):
            kept.add(os.path.relpath(p, cwd))
    for e in entries:
        assert any(k.startswith(f"rtchaos-out/{e}/report.html") for k in kept), (e, sorted(kept)[:10])


def latency_only_failures(cwd, entries):
    """The failed verdicts of the suite's entries, when each is a latency
    budget (a loaded test machine misses those; the recipe then fails the
    step, as it should); raises when a correctness verdict failed."""
    failed = []
    for e in entries:
        with open(os.path.join(cwd, "rtchaos-out", e, "report.json")) as f:
            rep = json.load(f)
        for v in rep["verdicts"]:
            if not v["pass"]:
                assert v["name"].endswith("_ms"), (e, v)
                failed.append(f"{e}: {v['name']} = {v.get('value')}")
        for k in ("lost", "duplicated", "reordered"):
            assert rep["totals"][k] == 0, (e, k, rep["totals"])
    return failed


def run_recipe(name, recipe, shell, base_env, entries):
    """One recipe's steps in its own folder against its own staging server
    (so the two recipes can run side by side without sharing channels)."""
    env_yaml, steps, junit, keep = recipe
    server = srvtest.Server(name=f"staging-{name}")
    try:
        with tempfile.TemporaryDirectory() as cwd:
            # the service's repository: its committed baseline
            shutil.copytree(os.path.join(CI, "rtchaos-baseline"), os.path.join(cwd, "ci", "rtchaos-baseline"))
            # the recipe's own margins are valid compare flags (a
            # baseline against itself passes them; an explicit rule on a
            # metric an entry lacks would fail it: MISSING)
            rtchaos = shutil.which("rtchaos", path=base_env["PATH"])
            for e in entries:
                base = os.path.join(cwd, "ci", "rtchaos-baseline", e, "report.json")
                p = subprocess.run([rtchaos, "compare", base, base, *env_yaml["RTCHAOS_GATE"].split()],
                                   capture_output=True, text=True, timeout=60)
                assert p.returncode == 0, (name, e, env_yaml["RTCHAOS_GATE"], p.stdout[-1500:], p.stderr)
            env = dict(base_env, **env_yaml)
            env.update(STAGING_URL=f"http://127.0.0.1:{server.port}", RTCHAOS_GATE=TEST_GATE,
                       GITHUB_OUTPUT=os.path.join(cwd, "gh-output"))
            # what the recipes run is the suite they name, shipped with rtchaos
            assert env_yaml["RTCHAOS_SUITE"] == "suites/staging", env_yaml
            assert re.fullmatch(r"v\d+\.\d+\.\d+", env_yaml["RTCHAOS_REF"]), env_yaml["RTCHAOS_REF"]
            with open(os.path.join(rtctest.ROOT, "VERSION")) as f:
                assert env_yaml["RTCHAOS_REF"] == "v" + f.read().strip(), "recipes pin another release"
            if name == "github":
                # against the baseline: passes
                rc, out = run_steps(name, steps, env, cwd, shell)
                check_outputs(cwd, junit, keep, entries)
                assert "REGRESSED" not in out, (name, out[-3000:])
                slow = latency_only_failures(cwd, entries)
                # 0, or 1 for latency budgets this machine's load broke
                assert rc == (1 if slow else 0), (name, rc, slow, out[-3000:])
                if slow:
                    print(f"ci_recipes: {name}: latency budgets missed on this machine: {slow}")
                return f"ci_recipes: {name}: suite run, reports kept, gate passes against the baseline"
            # the gate bites: a rule NEW breaks fails the step (exit
            # 1) and the reports are still there to publish
            env["RTCHAOS_GATE"] = TEST_GATE + " --max delivered=1"
            rc, out = run_steps(name, steps, env, cwd, shell)
            assert rc == 1, (name, rc, out[-3000:])
            assert "REGRESSED: delivered" in out, out[-2000:]
            check_outputs(cwd, junit, keep, entries)
            return f"ci_recipes: {name}: suite run, reports kept, gate fails on a broken rule"
    finally:
        server.stop()


def main():
    base_env = dict(os.environ)
    for k in ("RTCHAOS_DATADIR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        base_env.pop(k, None)
    if not INSTALLED:
        # the tree's binaries and scenarios stand in for the installed ones
        # (RTCHAOS_BIN may be build/asan/bin, which has no scenarios/ above)
        base_env["PATH"] = rtctest.BIN + os.pathsep + base_env.get("PATH", "")
        base_env["RTCHAOS_DATADIR"] = rtctest.ROOT
    base_env.pop("RTCHAOS_BIN", None)
    entries = sorted(os.listdir(os.path.join(CI, "rtchaos-baseline")))
    assert entries == ["latency-spike", "reconnect-storm", "smoke"], entries
    # one gate script in both recipes (so each half of the test covers both)
    gh, gl = github_steps(), gitlab_steps()
    gate_gh = [r for i, r in gh[1] if i == "gate"][0]
    gate_gl = gl[1][1][1]
    def body(script):
        return [ln.strip() for ln in script.splitlines()
                if ln.strip() and not ln.strip().startswith("#") and "rtchaos --version" not in ln]
    assert body(gate_gh) == body(gate_gl), "the two recipes' gate scripts differ"
    # the two halves share nothing (each its own folder and staging server)
    # and mostly wait on the suite's timelines: they run side by side
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        futs = [ex.submit(run_recipe, "github", gh, ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"],
                          base_env, entries),
                ex.submit(run_recipe, "gitlab", gl, ["bash", "-eo", "pipefail", "-c"], base_env, entries)]
        for f in futs:
            print(f.result())
    print("ci_recipes: ok")


if __name__ == "__main__":
    main()
