#!/usr/bin/env python3
"""lanes-sim.py — replay a `make test` run's per-test times through lane
schedules, to choose scripts/run-tests.sh's order and widths without
running the suite over and over (the box has 2 cores).

  scripts/lanes-sim.py [--times FILE] [--cores N] [--scale PASS/TEST=F ...]

FILE is tests/durations.tsv (default) or any log with scripts/run-tests.sh's
"PASS pass/test  NNs [cpu N.Ns]" lines. Which tests are serial is read from
the tests' own headers (# rtchaos-test: serial). Printed: the wall time of
each schedule, with and without a CPU model.

The CPU model: a test that took W s of wall and C s of CPU wants C/W of a
core while it runs; the serial lanes (normal priority) are served first, the
parallel lane (nice 10) shares what is left; when the wanted total exceeds
the cores, every test in that class progresses slower by that ratio. Tests
without a CPU figure want --cpu-default of a core (0.16: the last measured
run's average). It ignores memory, disk and the other processes on the box:
a way to rank schedules, not a promise of seconds.
"""
import argparse
import glob
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def read_times(path):
    """{key: (wall_s, cpu_s or None)}; key is 'pass/test'. Reads
    tests/durations.tsv, a run's times.tsv or a log's PASS lines."""
    times = {}
    num = re.compile(r"^\d+(?:\.\d+)?s?$")
    with open(path) as f:
        for line in f:
            f = line.split()
            if f and f[0] == "PASS":
                f = f[1:]
            if len(f) < 2 or "/" not in f[0] or f[0].startswith("#") or not num.match(f[1]):
                continue
            if len(f) >= 4 and f[3] != "pass":
                continue
            cpu = float(f[2].rstrip("s")) if len(f) >= 3 and num.match(f[2]) else None
            times[f[0]] = (float(f[1].rstrip("s")), cpu)
    return times


def serial_tests():
    out = set()
    for t in glob.glob(os.path.join(ROOT, "tests/integration/*")):
        with open(t, errors="replace") as f:
            head = [next(f, "") for _ in range(15)]
        if any(h.startswith("# rtchaos-test: serial") for h in head):
            out.add(os.path.basename(t))
    return out


class Job:
    def __init__(self, key, wall, cpu, serial, cpu_default):
        self.key, self.wall, self.serial = key, wall, serial
        self.rate = min(1.0, (cpu / wall) if (cpu is not None and wall > 0) else cpu_default)
        self.left = wall


def simulate(jobs, pick, cores, model, dt=0.1):
    """pick(pending, running) -> job to start now or None; returns wall s."""
    pending, running, t = list(jobs), [], 0.0
    simulate.last_start = 0.0
    while pending or running:
        while True:
            j = pick(pending, running)
            if j is None:
                break
            pending.remove(j)
            running.append(j)
            if not j.serial:
                simulate.last_start = t
        if not running:
            raise SystemExit("schedule stalls with tests pending")
        speed = {}
        if model:
            want_s = sum(j.rate for j in running if j.serial)
            s_scale = 1.0 if want_s <= cores else cores / want_s
            left = max(0.0, cores - want_s)
            want_p = sum(j.rate for j in running if not j.serial)
            p_scale = 1.0 if want_p <= left else (left / want_p if want_p else 1.0)
            for j in running:
                speed[j] = s_scale if j.serial else max(p_scale, 0.02)
        for j in running:
            j.left -= dt * (speed[j] if model else 1.0)
        running = [j for j in running if j.left > 1e-9]
        t += dt
    return t


def main_policy(width):
    """scripts/run-tests.sh until session 6: each pass's serial tests in
    its own lane, alphabetical; the parallel lane asan first, alphabetical,
    unit tests last."""
    def pick(pending, running):
        for lane in ("asan/", "plain/"):
            if any(r.serial and r.key.startswith(lane) for r in running):
                continue
            for j in pending:
                if j.serial and j.key.startswith(lane):
                    return j
        if sum(1 for r in running if not r.serial) < width:
            for j in pending:
                if not j.serial:
                    return j
        return None
    return pick


def lpt_policy(width, serial_lanes, borrow=True):
    """longest first; at most serial_lanes serial tests at once, at most
    width parallel ones, plus (borrow) the idle serial slots once no serial
    test waits; never one serial test's two passes at once."""
    def pick(pending, running):
        nser = sum(1 for r in running if r.serial)
        npar = len(running) - nser
        ser_waiting = any(j.serial for j in pending)
        ser_names = {r.key.split("/", 1)[1] for r in running if r.serial}
        for j in pending:  # pending is sorted longest first
            if j.serial and nser < serial_lanes and j.key.split("/", 1)[1] not in ser_names:
                return j
            if not j.serial:
                cap = width + (serial_lanes - nser if borrow and not ser_waiting else 0)
                if npar < cap:
                    return j
        return None
    return pick


def build_jobs(times, serial, order, cpu_default, scale):
    def mk(key):
        w, c = times[key]
        f = scale.get(key, 1.0)
        return Job(key, w * f, None if c is None else c * f, key.split("/", 1)[1] in serial, cpu_default)
    keys = list(times)
    if order == "main":
        def k(key):
            p, name = key.split("/", 1)
            unit = not name.endswith((".py", ".sh"))
            return (unit, 0 if p == "asan" else 1, name)
        keys.sort(key=k)
    else:
        keys.sort(key=lambda key: -times[key][0] * scale.get(key, 1.0))
    return [mk(key) for key in keys]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--times", default=os.path.join(ROOT, "tests/durations.tsv"))
    ap.add_argument("--cores", type=float, default=2.0)
    ap.add_argument("--cpu-default", type=float, default=0.16)
    ap.add_argument("--widths", default="4,6,8,10")
    ap.add_argument("--serial-lanes", default="2,3")
    ap.add_argument("--scale", action="append", default=[],
                    help="pass/test=FACTOR: what if that test took FACTOR times as long")
    a = ap.parse_args()
    times = read_times(a.times)
    if not times:
        sys.exit(f"lanes-sim: no per-test times in {a.times}")
    scale = {}
    for s in a.scale:
        k, _, f = s.partition("=")
        scale[k] = float(f)
    serial = serial_tests()
    ser = [k for k in times if k.split("/", 1)[1] in serial]
    print(f"{len(times)} tests, {sum(times[k][0] * scale.get(k, 1.0) for k in times):.0f} test-seconds, "
          f"{len(ser)} serial ({sum(times[k][0] for k in ser):.0f} s), "
          f"longest {max(times.values())[0]:.0f} s")
    print(f"{'schedule':44} {'no model':>9} {'cpu model':>10} {'last parallel start':>20}")
    rows = [("main: 4 wide alphabetical, a serial lane per pass", "main", main_policy(4))]
    for w in [int(x) for x in a.widths.split(",")]:
        rows.append((f"main order, {w} wide", "main", main_policy(w)))
        for s in [int(x) for x in a.serial_lanes.split(",")]:
            rows.append((f"longest first, {w} wide + {s} serial lanes", "lpt", lpt_policy(w, s)))
    for label, order, pick in rows:
        res = [simulate(build_jobs(times, serial, order, a.cpu_default, scale), pick, a.cores, m) for m in (False, True)]
        print(f"{label:44} {res[0]:8.0f}s {res[1]:9.0f}s {simulate.last_start:19.0f}s")


if __name__ == "__main__":
    main()
