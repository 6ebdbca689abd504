#!/usr/bin/python3
# rtchaos-test: serial (latency budgets: the suite's p95 bounds need the CPU when they want it)
"""reports_suite_drills — the incident drills suite in its short form: each
drill reproduces its incident, the runbook's /metrics move, the prescribed
action is accepted and the budget recovers (tests/lib/suitetest.py).
half-open-kernel is the half-open runbook on a real kernel silent partition
(network namespaces, root): its report must show the kernel fault acted,
the server let go of the cut connections within its idle handling, nothing
lost. Unprivileged, it must be listed not runnable with the reason."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import suitetest  # noqa: E402

# scenarios/silent-partition.yaml: --idle-timeout-s 4, budget 4 + 3 s (the
# retransmission timer that notices, the 500 ms sampling)
IDLE_CLOSE_MAX_S = 7.0


def privileged():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                eff = int(line.split()[1], 16)
                return bool(eff & (1 << 12)) and bool(eff & (1 << 21))
    return False


def check_entry(entry_id, run_dir):
    if entry_id != "half-open-kernel":
        return
    with open(os.path.join(run_dir, "report.json")) as f:
        rep = json.load(f)
    net = rep.get("network") or {}
    problems = []
    if not net.get("namespaces"):
        problems.append("no network.namespaces: the kernel variant did not run in namespaces")
    cuts = [f for f in rep.get("faults", []) if f.get("mechanism") == "nftables" and f.get("toxic") == "partition"]
    if len(cuts) != 1:
        problems.append(f"expected one nftables partition in faults[], got {rep.get('faults')}")
    else:
        cut = cuts[0]
        if not cut.get("packets_acted", 0) > 0:
            problems.append(f"the partition dropped no packet: {cut.get('packets_acted')}")
        if not (cut.get("tcp_at_apply") or {}).get("server", {}).get("ESTABLISHED", 0) > 0:
            problems.append(f"no server connection across the link at apply: {cut.get('tcp_at_apply')}")
        closed = cut.get("server_link_closed_after_s")
        if closed is None or not 0 < closed <= IDLE_CLOSE_MAX_S:
            problems.append(f"server_link_closed_after_s {closed} not within {IDLE_CLOSE_MAX_S} s")
    idle = net.get("server_idle_close_s")
    if idle is None or not 0 < idle <= IDLE_CLOSE_MAX_S:
        problems.append(f"network.server_idle_close_s {idle} not within {IDLE_CLOSE_MAX_S} s")
    t = rep.get("totals", {})
    if t.get("lost") != 0 or t.get("resync_failed", 0) != 0 or not t.get("reconnects", 0) >= 20:
        problems.append(f"lost {t.get('lost')}, resync_failed {t.get('resync_failed')}, "
                        f"reconnects {t.get('reconnects')}")
    if problems:
        suitetest.fail("half-open-kernel: " + "; ".join(problems))
    print(f"half-open-kernel: server let go after {idle:.2f} s, {cuts[0]['packets_acted']} packets dropped, "
          f"lost 0, reconnects {t.get('reconnects')}")


suitetest.run_suite(
    "drills", None,
    ["latency-spike", "reconnect-storm", "slow-consumers", "payload-abuse-flood", "degraded-fallback", "half-open",
     "half-open-kernel"],
    expect_not_runnable=(), check_entry=check_entry, deadline_s=330,
    expect_unprivileged=() if privileged() else ("half-open-kernel",))
