"""harnesstest — helpers for the harness's integration tests: run
`rtchaos run` on a scenario in a temporary run folder under a deadline, read
its report.json and events.jsonl, and check that no child process of the
run is left behind."""
import concurrent.futures
import json
import os
import signal
import subprocess
import tempfile
import time

import rtctest

RTCHAOS = os.path.join(rtctest.BIN, "rtchaos")
SCEN = os.path.join(rtctest.ROOT, "scenarios")


class Run:
    """A finished run: .rc, .stdout, .stderr, .dir, .report (dict or None)."""

    def __init__(self, rc, out, err, d):
        self.rc, self.stdout, self.stderr, self.dir = rc, out, err, d
        self.report = None
        p = os.path.join(d, "report.json")
        if os.path.exists(p):
            with open(p) as f:
                self.report = json.load(f)

    def events(self):
        p = os.path.join(self.dir, "events.jsonl")
        with open(p) as f:
            return [json.loads(line) for line in f if line.strip()]

    def child_pids(self):
        """pids of the server/proxy/redis incarnations the run started."""
        return [e["pid"] for e in self.events()
                if e.get("source") == "harness" and e.get("action") in ("server_ready", "proxy_ready", "redis_ready")]

    def explain(self):
        return f"rc={self.rc}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr[-3000:]}"


def tmpdir():
    d = tempfile.mkdtemp(prefix="rtchaos-run-", dir=os.environ.get("TMPDIR", "/tmp"))
    return d


def run(scenario, *args, timeout=120, out=None, env=None):
    """Runs `rtchaos run scenario args…` into a fresh folder; returns Run.
    env: the run's whole environment (default: the test's), for runs side
    by side that need different variables."""
    d = out or os.path.join(tmpdir(), "run")
    path = scenario if os.path.isabs(scenario) else os.path.join(SCEN, scenario)
    p = subprocess.run([RTCHAOS, "run", path, "--out", d, *args], capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL, env=env)
    return Run(p.returncode, p.stdout, p.stderr, d)


def scenario_file(text, name="scenario.yaml"):
    """Writes a scenario given as YAML text into a fresh folder; returns its path."""
    path = os.path.join(tmpdir(), name)
    with open(path, "w") as f:
        f.write(text)
    return path


def run_passing(scenario, *args, timeout=120, out=None):
    """run(), and asserts the run passed (exit 0), explaining why not."""
    r = run(scenario, *args, timeout=timeout, out=out)
    assert r.rc == 0, f"{scenario}: " + r.explain() + "\n" + str(r.report and r.report.get("verdicts"))
    return r


def side_by_side(calls, jobs=3):
    """Runs independent calls [(fn, args, kwargs), …] at the same time, at
    most jobs at once (runs that each wait on their own timeline, e.g.
    run_passing of scenarios with their own servers and ports; CI runs a
    few tests beside each one, so a test stays a few runs wide); returns
    their results in order, raising the first call's exception (in list
    order) if any failed."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(jobs, len(calls)))) as ex:
        futs = [ex.submit(_said_if_failed, fn, *a, **kw) for fn, a, kw in calls]
        return [f.result() for f in futs]


def _said_if_failed(fn, *a, **kw):
    """fn(*a, **kw); a failure is also summed up on stdout the moment it
    happens: the traceback comes only at the test's end, after the other
    calls' output, and CI's excerpt of a long log shows its head."""
    try:
        return fn(*a, **kw)
    except BaseException as e:
        lines = str(e).splitlines()
        said = [ln.strip() for ln in lines if ln.lstrip().startswith(("FAIL", "rc=", "warning", "error"))]
        print(f"{getattr(fn, '__name__', fn)} FAILED: {type(e).__name__}: "
              + " | ".join((said or lines[:3])[:10])[:1500], flush=True)
        raise


def alive(pid):
    """True when pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except FileNotFoundError:
        return False
    return st[st.rindex(")") + 2] != "Z"


def assert_all_gone(pids, within=5.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        left = [p for p in pids if alive(p)]
        if not left:
            return
        time.sleep(0.05)
    raise AssertionError(f"processes left behind: {left}")


def verdicts(r):
    return {v["name"]: v for v in r.report["verdicts"]}


def spawn(scenario, *args, out):
    """Starts a run without waiting (for signal tests)."""
    path = scenario if os.path.isabs(scenario) else os.path.join(SCEN, scenario)
    return subprocess.Popen([RTCHAOS, "run", path, "--out", out, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def children_of(pid):
    """pids whose parent is pid (from /proc)."""
    out = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open(f"/proc/{e}/stat") as f:
                st = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        rest = st[st.rindex(")") + 2:].split()
        if int(rest[1]) == pid and rest[0] != "Z":
            out.append(int(e))
    return out


def wait_until(cond, timeout=30.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return False


def file_has(path, text):
    try:
        with open(path, errors="replace") as f:
            return text in f.read()
    except FileNotFoundError:
        return False


def kill_quietly(p):
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
