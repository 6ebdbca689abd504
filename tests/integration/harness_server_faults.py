#!/usr/bin/python3
# rtchaos-test: serial (fault actions must land within 1.5 s of their plan)
"""harness_server_faults: the fault timeline acts on the server's process —
pause (SIGSTOP/SIGCONT), kill and start again on the same port, restart —
at the planned times, every incarnation is reaped; and a server that dies
on its own mid-run (not by a fault) breaks the run: exit 3, a report that
says so, nothing left behind."""
import os
import signal
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402

SCENARIO = """
name: server-faults
duration: 12s
warmup: 1s
drain: 8s
channels: {count: 2, pattern: "sf.{i}"}
publishers: {rate_per_s: 20}
clients:
  - {name: ws, count: 20, transport: ws, channels_per_client: 2, idle_timeout: 3s,
     reconnect: {initial: 100ms, max: 1s}}
  - {name: sse, count: 10, transport: sse, channels_per_client: 2, idle_timeout: 3s,
     reconnect: {initial: 100ms, max: 1s}}
faults:
  - {name: pause, at: 1s, for: 1500ms, server: pause}
  - {name: kill, at: 4s, for: 1s, server: kill}
  - {name: restart, at: 8s, server: restart}
budgets:
  - duplicated == 0
  - reordered == 0
"""


def connected(port):
    """Open WebSocket + SSE connections on the server at port (its
    rtchaos_connections gauges), or -1 when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    except OSError:
        return -1
    return sum(int(float(ln.rsplit(" ", 1)[1])) for ln in text.splitlines()
               if ln.startswith(('rtchaos_connections{transport="ws"}', 'rtchaos_connections{transport="sse"}')))


def main():
    d = ht.tmpdir()
    path = os.path.join(d, "server-faults.yaml")
    with open(path, "w") as f:
        f.write(SCENARIO)
    r = ht.run(path, "--quiet", timeout=150)
    # across pause, kill and restart nothing may arrive twice or out of order:
    # the budgets are judged, and the run passes them
    assert r.rc == 0, r.explain() + "\n" + str(r.report and r.report.get("verdicts"))
    assert "error" not in r.report, r.report.get("error")
    v = ht.verdicts(r)
    assert v["duplicated"]["pass"] and v["reordered"]["pass"], v
    ev = [e for e in r.events() if e.get("source") == "harness"]
    acts = [e["action"] for e in ev]
    for a in ("server_pause", "server_resume", "server_kill", "server_start", "server_restart"):
        assert a in acts, (a, acts)
    ready = [e for e in ev if e["action"] == "server_ready"]
    assert len(ready) == 3, ready  # first start, after the kill, after the restart
    assert len({e["port"] for e in ready}) == 1, ready  # the same port every time
    assert len({e["pid"] for e in ready}) == 3, ready
    for e in ev:
        if "planned_t_s" in e:
            assert abs(e["t_s"] - e["planned_t_s"]) < 1.5, e
    faults = {f["name"]: f for f in r.report["faults"]}
    assert faults["pause"]["from_s"] is not None and faults["pause"]["to_s"] is not None, faults
    assert faults["kill"]["toxic"] == "server_kill", faults["kill"]
    ht.assert_all_gone(r.child_pids())

    # A server that dies on its own is a broken run.
    out = os.path.join(ht.tmpdir(), "run")
    p = ht.spawn(path, "--set", "faults=[]", "--set", "duration=30s", out=out)
    try:
        assert ht.wait_until(lambda: ht.file_has(os.path.join(out, "server.stdout.log"), "listening"), 60)
        with open(os.path.join(out, "server.stdout.log")) as f:
            port = int(f.read().split("listening 127.0.0.1:", 1)[1].split()[0])
        # mid-run: every client of the run is connected (the server's own
        # gauges say so), not a guess of how long that takes
        assert ht.wait_until(lambda: connected(port) == 30, 60), connected(port)
        kids = ht.children_of(p.pid)
        srv = [k for k in kids if "rtchaos-server" in open(f"/proc/{k}/cmdline").read()]
        assert len(srv) == 1, kids
        os.kill(srv[0], signal.SIGKILL)
        o, e = p.communicate(timeout=60)
    finally:
        ht.kill_quietly(p)
    assert p.returncode == 3, (p.returncode, e)
    broken = ht.Run(p.returncode, o, e, out)
    assert "rtchaos-server killed by signal 9 (Killed) during the run" in broken.report["error"], broken.report["error"]
    ht.assert_all_gone(kids)
    print("ok")


if __name__ == "__main__":
    main()
