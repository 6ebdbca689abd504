#!/usr/bin/python3
"""harness_signals: SIGINT mid-run writes a partial report and exits 3 with
no child left behind; SIGKILL of the harness takes its children with it
(PR_SET_PDEATHSIG); a second SIGINT ends at once, still reaping."""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402

LONG = ["--set", "duration=60s", "--set", "warmup=1s", "--set", "clients.0.count=10",
        "--set", "clients.1.count=5", "--set", "clients.2.count=2",
        "--set", "faults=[{at: 1s, toxic: latency, attributes: {latency: 5}}]"]


def started(d):
    # The proxy writes its action log as it goes: the fault is on, mid-run.
    return ht.file_has(os.path.join(d, "proxy-events.jsonl"), '"toxic_add"')


def one(sig_sequence):
    d = os.path.join(ht.tmpdir(), "run")
    p = ht.spawn("smoke.yaml", *LONG, out=d)
    try:
        assert ht.wait_until(lambda: started(d), 60), "the run did not start: " + p.stderr.read()
        kids = ht.children_of(p.pid)
        assert len(kids) >= 2, kids  # server and proxy
        for sig in sig_sequence:
            p.send_signal(sig)
            ht.wait_until(lambda: False, 0.2)
        out, err = p.communicate(timeout=60)
        return p.returncode, out, err, d, kids
    finally:
        ht.kill_quietly(p)


def main():
    rc, out, err, d, kids = one([signal.SIGINT])
    assert rc == 3, (rc, err)
    ht.assert_all_gone(kids)
    r = ht.Run(rc, out, err, d)
    assert r.report["partial"] is True and "interrupted by SIGINT" in r.report["error"], r.report
    assert r.report["pass"] is False
    assert any(e["action"] == "interrupted" for e in r.events())
    assert r.report["faults"][0]["from_s"] is not None

    rc, out, err, d, kids = one([signal.SIGTERM])
    assert rc == 3, (rc, err)
    ht.assert_all_gone(kids)

    rc, out, err, d, kids = one([signal.SIGINT, signal.SIGINT])
    assert rc == 3, (rc, err)
    ht.assert_all_gone(kids)

    rc, out, err, d, kids = one([signal.SIGKILL])
    assert rc == -signal.SIGKILL, rc
    ht.assert_all_gone(kids)
    print("ok")


if __name__ == "__main__":
    main()
