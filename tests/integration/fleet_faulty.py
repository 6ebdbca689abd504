#!/usr/bin/python3
"""fleet_faulty — proves the fleet's checkers on a server that is wrong on
purpose (tests/lib/faulty_server.py): each fault must be reported as
its own anomaly kind, and the same server without a fault must pass the same
run clean under several seeds."""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import rtctest  # noqa: E402

KINDS = ("lost", "duplicated", "reordered", "resync_failed", "epoch_changed")
# fault -> the anomaly kind it must show up as
EXPECT = {
    "drop": "lost",
    "duplicate": "duplicated",
    "reorder": "reordered",
    "ignore_since": "resync_failed",
    "replay_off_by_one": "resync_failed",
    "omit_snapshot": "resync_failed",
}


def run(fault, seed, history=1000, backoff_ms=50, transport="ws", workers=1, extra=(), ws_at_http=False):
    srv = rtctest.start("/usr/bin/python3", [os.path.join(HERE, "..", "lib", "faulty_server.py"), "--fault", fault,
                                            "--history", str(history)],
                        ready_lines=2, name=f"faulty-{fault}")
    try:
        ws = srv.lines[0].split()[-1]
        pub = srv.lines[1].split()[-1]
        client = ws if transport == "ws" and not ws_at_http else pub  # SSE is served beside the publish endpoint
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tf:
            out = tf.name
        cmd = [os.path.join(rtctest.BIN, "rtchaos-fleet-check"), "--client", client, "--publish", pub,
               "--transport", transport, "--clients", "12", "--channels", "3", "--cpc", "2", "--rate", "25",
               "--duration-ms", "2500", "--cut-at-ms", "1200", "--cut-fraction", "0.5",
               "--drain-ms", "8000", "--seed", str(seed), "--backoff-ms", str(backoff_ms), "--quiet", "--out", out,
               "--workers", str(workers)] + list(extra)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
        assert p.returncode == 0, f"{fault}: fleet-check rc={p.returncode}: {p.stderr.decode()[-1500:]}"
        with open(out) as f:
            r = json.load(f)
        os.unlink(out)
        return r
    finally:
        srv.stop()


def check_clean_none(r, seed):
    t = r["totals"]
    bad = {k: t[k] for k in KINDS if t[k]}
    assert not bad, f"correct server, seed {seed}: false alarm {bad}: {r['anomalies'][:5]}"
    assert t["delivered"] == t["expected"] > 0 and t["resync_ok"] == 12, f"seed {seed}: {t}"
    assert r["caught_up"] is True, f"seed {seed}: not caught up"
    print(f"ok none seed={seed}: {t['delivered']} delivered, {t['resync_ok']} resyncs, clean")


def check_snapshot_resume(r):
    t = r["totals"]
    assert not any(t[k] for k in KINDS), f"snapshot resume: {t}: {r['anomalies'][:5]}"
    assert t["snapshots"] > 0 and t["resync_ok"] == 12, f"snapshot resume: {t}"
    print(f"ok none history=3: {t['snapshots']} snapshots, clean")


def check_fault(r, fault, kind):
    t = r["totals"]
    assert t[kind] > 0, f"{fault}: expected {kind} > 0, totals {t}"
    kinds = {a["kind"] for a in r["anomalies"]}
    assert kind in kinds, f"{fault}: no {kind} example among {kinds}"
    print(f"ok {fault}: {kind}={t[kind]} " + " ".join(f"{k}={t[k]}" for k in KINDS if t[k]))


def check_sse_clean(r, seed):
    t = r["totals"]
    bad = {k: t[k] for k in KINDS if t[k]}
    assert not bad, f"SSE, correct server, seed {seed}: false alarm {bad}: {r['anomalies'][:5]}"
    assert t["delivered"] == t["expected"] > 0 and t["resync_ok"] == 12, f"SSE seed {seed}: {t}"
    print(f"ok sse none seed={seed}: clean")


def check_sse_fault(r, fault, kind):
    t = r["totals"]
    assert t[kind] > 0, f"SSE {fault}: expected {kind} > 0, totals {t}"
    print(f"ok sse {fault}: {kind}={t[kind]}")


def check_no_head(r, what):
    t = r["totals"]
    bad = {k: t[k] for k in KINDS if t[k]}
    assert not bad, f"SSE without head, {what}: false alarm {bad}: {r['anomalies'][:5]}"
    assert t["delivered"] == t["expected"] > 0, f"SSE without head, {what}: {t}"
    print(f"ok sse no_sse_head {what}: clean, {t['delivered']} delivered")


def check_late_start(r, workers):
    t = r["totals"]
    assert t["lost"] > 0, f"SSE late_start, {workers} worker(s): expected lost > 0, totals {t}"
    assert t["expected"] > t["delivered"], f"SSE late_start, {workers} worker(s): {t}"
    print(f"ok sse late_start workers={workers}: lost={t['lost']} of {t['expected']} owed")


def check_late_start_fresh(r):
    t = r["totals"]
    assert t["lost"] > 0 and t["reconnects"] >= 12, f"SSE late_start, fresh reconnects: {t}"
    assert sum(g["lost"] for g in r["groups"].values()) == t["lost"], f"group figures disagree: {r['groups']}"
    print(f"ok sse late_start, fresh reconnects: lost={t['lost']} of {t['expected']} owed")


def check_ws_refused(r):
    t = r["totals"]
    bad = {k: t[k] for k in KINDS if t[k]}
    assert not bad, f"WS refused, fallback to SSE: false alarm {bad}: {r['anomalies'][:5]}"
    assert t["fallbacks"] == 12 and t["delivered"] == t["expected"] > 0, f"WS refused, fallback to SSE: {t}"
    print(f"ok ws refused -> sse: {t['fallbacks']} fallbacks, clean")


def cases():
    """(run arguments, check of its report) for every proof; each case has
    its own server and fleet, so they are independent of one another."""
    c = []
    # the correct server passes clean under several seeds
    for seed in (1, 2, 3, 4, 5):
        c.append(((("none", seed), {}), lambda r, seed=seed: check_clean_none(r, seed)))
    # history too short for the resume: snapshots, and still no anomaly
    c.append(((("none", 9), {"history": 3, "backoff_ms": 500}), check_snapshot_resume))
    for fault, kind in EXPECT.items():
        c.append((((fault, 1), {"history": 3 if fault == "omit_snapshot" else 1000}),
                  lambda r, fault=fault, kind=kind: check_fault(r, fault, kind)))
    # the same proof over SSE (resume by Last-Event-ID)
    for seed in (1, 2):
        c.append(((("none", seed), {"transport": "sse"}), lambda r, seed=seed: check_sse_clean(r, seed)))
    for fault, kind in EXPECT.items():
        c.append((((fault, 3), {"history": 3 if fault == "omit_snapshot" else 1000, "transport": "sse"}),
                  lambda r, fault=fault, kind=kind: check_sse_fault(r, fault, kind)))
    # SSE streams told no head learn their base from the first event; the
    # publisher's stamps still hold them to what was published once the
    # subscription had surely taken effect (1 s grace): a correct server
    # that sends no `subscribed` passes clean, one whose fresh subscriptions
    # miss their first 2 s of events is caught
    for seed in (1, 2):
        c.append(((("no_sse_head", seed), {"transport": "sse"}),
                  lambda r, seed=seed: check_no_head(r, f"seed={seed}")))
    # the same with the clients in two worker processes (the publisher's
    # stamps travel to them)
    for workers in (1, 2):
        c.append(((("late_start", 1), {"transport": "sse", "workers": workers}),
                  lambda r, workers=workers: check_late_start(r, workers)))
    # every client's first subscription ends with a fresh (non-resuming)
    # reconnect after its first events: each is still held to its own floor
    # (3300 ms: the cut waits for every client to be connected, at most
    # until 2800 ms, and the fresh reconnects must still land in the run)
    c.append(((("late_start", 2), {"transport": "sse", "extra": ["--resume", "0", "--cut-at-ms", "2300",
                                                                "--cut-fraction", "1", "--duration-ms", "3300"]}),
              check_late_start_fresh))
    # WebSocket refused (the HTTP port answers GET /ws with 404): every
    # client falls back to SSE once and is then served clean
    c.append(((("none", 4), {"transport": "ws", "ws_at_http": True, "extra": ["--fallback", "sse,poll"]}),
              check_ws_refused))
    c.append(((("no_sse_head", 3), {"transport": "sse", "workers": 2}),
              lambda r: check_no_head(r, "workers=2")))
    return c


def main():
    # The cases share nothing (each its own server on its own ports), and a
    # run is mostly waiting on its timeline (2.5 s + drain): they go side by
    # side, a few at a time, and every report is checked in the listed order.
    # RTCHAOS_FAULTY_JOBS=1 runs them one after another.
    jobs = max(1, int(os.environ.get("RTCHAOS_FAULTY_JOBS", "3")))
    todo = cases()
    ex = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    try:
        futs = [ex.submit(run, *args, **kw) for (args, kw), _ in todo]
        for fut, (_, check) in zip(futs, todo):
            check(fut.result())
    finally:
        ex.shutdown(wait=True, cancel_futures=True)  # a failure leaves no run behind
    print("ok")


if __name__ == "__main__":
    main()
