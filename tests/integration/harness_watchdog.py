#!/usr/bin/python3
"""harness_watchdog: a run that goes on far past every deadline is ended by
the run's watchdog: exit 3, the message on stderr, the server it started
killed with it. The run is held past its deadline by stopping the harness
(SIGSTOP) mid-run, as a blocked harness would be; RTCHAOS_WATCHDOG_SLACK_MS
brings the 90 s of slack down to 1 s, so the deadline is the sum of the
phases plus 1 s (16 s here: 2 x the server's 3 s ready timeout, the
proxy's 1 s, warm-up, duration, drain, 2 x the 2 s stop timeout; timeouts
a loaded box keeps to); the harness is stopped for 18 s. A control run, stopped for 1 s only (beside it), is not
touched by it."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402

SCENARIO = """
name: watchdog
duration: 2s
warmup: 1s
drain: 1s
server: {ready_timeout: 3s, stop_timeout: 2s}
proxy: {ready_timeout: 1s}
channels: {count: 1, pattern: "wd.{i}"}
publishers: {rate_per_s: 10}
clients:
  - {name: ws, count: 2, transport: ws, channels_per_client: 1}
budgets:
  - published > 0
"""


def stopped_run(path, stop_s):
    out = os.path.join(ht.tmpdir(), "run")
    p = subprocess.Popen([ht.RTCHAOS, "run", path, "--out", out, "--quiet"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                         env=dict(os.environ, RTCHAOS_WATCHDOG_SLACK_MS="1000"))
    try:
        assert ht.wait_until(lambda: ht.file_has(os.path.join(out, "server.stdout.log"), "listening"), 30)
        srv = [k for k in ht.children_of(p.pid) if "rtchaos-server" in open(f"/proc/{k}/cmdline").read()]
        assert len(srv) == 1, srv
        os.kill(p.pid, signal.SIGSTOP)
        time.sleep(stop_s)
        t0 = time.monotonic()
        os.kill(p.pid, signal.SIGCONT)
        o, e = p.communicate(timeout=60)
        return p.returncode, e, time.monotonic() - t0, srv[0]
    finally:
        ht.kill_quietly(p)


def main():
    path = os.path.join(ht.tmpdir(), "watchdog.yaml")
    with open(path, "w") as f:
        f.write(SCENARIO)
    # the two runs share nothing (each its own server and ports): side by side
    (rc, err, took, srv), control = ht.side_by_side([(stopped_run, (path, 18), {}), (stopped_run, (path, 1), {})])
    assert rc == 3, (rc, err)
    assert "the run overran its deadline by far; killing its children (exit 3)" in err, err
    assert took < 5, f"the watchdog took {took:.1f}s after the harness could run again"
    ht.assert_all_gone([srv])
    print(f"watchdog fired {took:.2f}s after SIGCONT, server {srv} gone")
    rc, err, took, srv = control
    assert rc == 0 and "overran" not in err, (rc, err)
    ht.assert_all_gone([srv])
    print("ok")


if __name__ == "__main__":
    main()
