#!/usr/bin/python3
# rtchaos-test: serial (latency budgets: the suite's p95 bounds need the CPU when they want it)
"""reports_suite_drills — the incident drills suite in its short form: each
drill reproduces its incident, the runbook's /metrics move, the prescribed
action is accepted and the budget recovers (tests/lib/suitetest.py)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import suitetest  # noqa: E402

suitetest.run_suite(
    "drills", None,
    ["latency-spike", "reconnect-storm", "slow-consumers", "payload-abuse-flood", "degraded-fallback", "half-open"],
    expect_not_runnable=())
