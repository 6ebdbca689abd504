#!/usr/bin/python3
"""harness_worker_lost — a fleet worker process that dies mid-run (here:
SIGKILL) leaves its clients out of every count, so the run broke: exit 3,
the report's error and the summary name the workers that sent no results
and why (totals.workers_lost: here "died of signal 9", its pipe closed
before the stop), and nothing is left behind. (Before, the lost worker only added to
totals.errors, and the run failed as a budget, exit 1, or passed one that
did not read errors.)"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402
from srvtest import Server  # noqa: E402

SCENARIO = """
name: worker-lost
seed: 5
duration: 6s
warmup: 1s
drain: 2s
channels:
  count: 4
publishers:
  rate_per_s: 5
clients:
  - name: ws
    count: 40
    transport: ws
    channels_per_client: 1
harness:
  workers: 2
budgets:
  - "lost == 0"
"""


def main():
    srv = Server("--log-level", "warn")
    try:
        out = os.path.join(ht.tmpdir(), "run")
        p = ht.spawn(ht.scenario_file(SCENARIO), "--target", f"http://127.0.0.1:{srv.port}", "--quiet", out=out)
        try:
            assert ht.wait_until(lambda: len(ht.children_of(p.pid)) >= 2, timeout=20), "no fleet workers started"
            time.sleep(2.0)
            workers = ht.children_of(p.pid)
            os.kill(workers[0], signal.SIGKILL)
            stdout, stderr = p.communicate(timeout=120)
        finally:
            ht.kill_quietly(p)
        r = ht.Run(p.returncode, stdout, stderr, out)
        assert r.rc == 3, "a run with a killed fleet worker must break (exit 3): " + r.explain()
        err = r.report.get("error", "") if r.report else ""
        text = err + stdout + stderr
        assert "1 of the fleet's 2 worker processes sent no results" in text, r.explain() + "\n" + err
        assert r.report["totals"]["workers_failed"] == 1, r.report["totals"]
        # and why: the killed worker's death, in the report, the error and on stderr as it happened
        lost = r.report["totals"]["workers_lost"]
        assert len(lost) == 1 and lost[0]["pid"] == workers[0], lost
        assert "died of signal 9" in lost[0]["why"] and "pipe closed" in lost[0]["why"], lost
        assert "died of signal 9" in err, err
        assert f"fleet worker {lost[0]['worker']} (pid {workers[0]}) sent no results" in stderr, stderr
        ht.assert_all_gone(workers)
        print(f"ok: exit 3, {err or 'error in the summary'}")
    finally:
        assert srv.stop() == 0
    print("ok")


if __name__ == "__main__":
    main()
