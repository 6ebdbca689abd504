#!/usr/bin/python3
# rtchaos-test: serial (latency budgets: the suite's p95 bounds need the CPU when they want it)
"""reports_suite_rfp1 — the rfp suite, questions 1-5, in its short form
(tests/lib/suitetest.py says what is checked)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import suitetest  # noqa: E402

suitetest.run_suite(
    "rfp", "q1,q2,q3,q4,q5",
    ["q1-ordering-resync", "q1-history-overflow", "q1-idempotent-retries", "q2-backpressure", "q2-high-frequency",
     "q3-auth-rbac-tenancy", "q4-single-node-capacity", "q4-brokered-multi-node", "q5-batching",
     "q5-wire-cost", "q5-limits-caching"],
    expect_not_runnable=("q4-brokered-multi-node",))
