#!/usr/bin/python3
"""install_tree: `make install DESTDIR=… PREFIX=/usr` puts the binaries, the
shipped scenarios, suites and runbooks, man pages, completion and docs where
mk/install.mk says; the installed rtchaos, run from an unrelated folder with
nothing of the source tree in reach, finds shipped scenarios and suites by
name (and a suite finds its scenario files, its runbooks and rtchaos-server),
says where it looked for a name it cannot find, and `make uninstall` removes
every file again."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import rtctest  # noqa: E402


def make(*args, env):
    p = subprocess.run(["make", "-s", "-C", rtctest.ROOT, *args], capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode == 0, (args, p.stdout[-2000:], p.stderr[-2000:])
    return p.stdout


def files_under(d):
    return sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)


def main():
    # the child sees no hint of the source tree: no RTCHAOS_BIN, no make state
    env = {k: v for k, v in os.environ.items()
           if k not in ("RTCHAOS_BIN", "RTCHAOS_DATADIR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    with tempfile.TemporaryDirectory() as dest, tempfile.TemporaryDirectory() as cwd:
        vars_ = [f"DESTDIR={dest}", "PREFIX=/usr", f"BINDIR={rtctest.BIN}"]
        make("install-files", *vars_, env=env)
        usr = os.path.join(dest, "usr")
        have = set(files_under(dest))
        for f in ["usr/bin/rtchaos", "usr/bin/rtchaos-server", "usr/bin/rtchaos-proxy",
                  "usr/share/rtchaos/scenarios/smoke.yaml", "usr/share/rtchaos/scenarios/suites/rfp.yaml",
                  "usr/share/rtchaos/scenarios/rfp/auth/secret", "usr/share/rtchaos/docs/runbooks/slow-consumers.md",
                  "usr/share/doc/rtchaos/README.md", "usr/share/doc/rtchaos/docs/report-schema.md",
                  "usr/share/man/man1/rtchaos.1", "usr/share/man/man5/rtchaos-scenario.5",
                  "usr/share/man/man8/rtchaos-server.8", "usr/share/man/man8/rtchaos-proxy.8",
                  "usr/share/bash-completion/completions/rtchaos",
                  "usr/share/rtchaos/deploy/grafana/rtchaos-dashboard.json",
                  "usr/share/doc/rtchaos/ci/github-actions.yml", "usr/share/doc/rtchaos/docs/ci.md"]:
            assert f in have, (f, sorted(have)[:20])
        # the test driver is not part of an installation
        assert "usr/bin/rtchaos-fleet-check" not in have
        rtchaos = os.path.join(usr, "bin", "rtchaos")

        def run(*args, timeout=120):
            return subprocess.run([rtchaos, *args], capture_output=True, text=True, cwd=cwd, env=env,
                                  timeout=timeout)

        p = run("list")
        names = p.stdout.split()
        for n in ["smoke", "suites/rfp", "suites/drills", "rfp/fanout", "drills/slow-consumers"]:
            assert n in names, (n, names)
        p = run("list", "dirs")
        assert p.stdout.split() == [os.path.join(usr, "share", "rtchaos", "scenarios")], p.stdout

        # by name, from an unrelated folder: the scenario, a suite (its
        # scenarios and runbooks resolved from the installed tree)
        p = run("validate", "smoke", "suites/rfp", "suites/drills", "rfp/fanout")
        assert p.returncode == 0, p.stderr
        assert p.stdout.count(": ok") == 4, p.stdout

        # a name that is nowhere: exit 2 and every place looked in
        p = run("run", "no-such-scenario")
        assert p.returncode == 2, p.returncode
        want = os.path.join(usr, "share", "rtchaos", "scenarios", "no-such-scenario.yaml")
        assert "no-such-scenario.yaml" in p.stderr and want in p.stderr, p.stderr

        # a file in the current folder wins over a shipped one of that name
        with open(os.path.join(cwd, "smoke.yaml"), "w") as f:
            f.write("name: local\n")
        p = run("validate", "smoke")
        assert p.returncode == 2 and "smoke.yaml" in p.stderr and os.path.join(usr, "share") not in p.stderr, \
            (p.returncode, p.stdout, p.stderr)
        os.unlink(os.path.join(cwd, "smoke.yaml"))

        # a run by name, starting the installed rtchaos-server
        # (the latency budget is left out: a loaded test machine misses it);
        # it goes beside the drill below (each its own server and ports)
        smoke = subprocess.Popen([rtchaos, "run", "smoke", "--out", "smoke-run", "--quiet", "--set", "duration=3s",
                                  "--set", "warmup=1s", "--set", "drain=2s", "--set",
                                  "budgets=[lost == 0, duplicated == 0, reordered == 0, published > 0]"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env)
        rtctest._children.append(smoke)  # reaped whatever happens

        # a suite entry whose drill starts rtchaos-server itself (beside rtchaos)
        p = run("run", "suites/drills", "--short", "--only", "slow-consumers", "--out", "drill", "--quiet",
                timeout=180)
        out, err = smoke.communicate(timeout=120)
        assert smoke.returncode == 0, (smoke.returncode, out, err)
        with open(os.path.join(cwd, "smoke-run", "report.json")) as f:
            rep = json.load(f)
        assert rep["pass"] is True and rep["totals"]["delivered"] > 0, rep["totals"]
        # the drill's latency checks may miss on a loaded machine (exit 1);
        # what is asserted is that the suite found and started the installed
        # server, scraped it and made its admin call
        assert p.returncode in (0, 1), (p.returncode, p.stdout[-1500:], p.stderr[-1500:])
        with open(os.path.join(cwd, "drill", "index.json")) as f:
            idx = json.load(f)
        assert [e.get("id") for e in idx["entries"]] == ["slow-consumers"], idx["entries"]
        entry = idx["entries"][0]
        assert entry["status"] in ("pass", "FAIL"), entry.get("why")  # not BROKEN or INVALID
        assert [a["status"] for a in entry["drill"]["actions"]] == [200], entry["drill"]["actions"]
        assert all(len(w["samples"]) > 2 for w in entry["drill"]["watches"])
        assert os.path.exists(os.path.join(cwd, "drill", "slow-consumers", "server.log"))
        # the index says which rtchaos ran the suite
        ver = run("--version").stdout.split()[1]
        assert idx["rtchaos_version"] == ver, idx.get("rtchaos_version")
        with open(os.path.join(cwd, "drill", "index.md")) as f:
            assert f"Run with rtchaos {ver}." in f.read()

        make("uninstall", *vars_, env=env)
        left = files_under(dest)
        assert left == [], left
    print("install_tree: ok")


if __name__ == "__main__":
    main()
