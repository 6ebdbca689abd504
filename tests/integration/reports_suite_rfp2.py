#!/usr/bin/python3
"""reports_suite_rfp2 — the rfp suite, questions 6-9 (including the /metrics
observability check and two incident drills), in its short form
(tests/lib/suitetest.py says what is checked)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import suitetest  # noqa: E402

suitetest.run_suite(
    "rfp", "q6,q7,q8,q9",
    ["q6-metrics-move", "q7-sse-and-poll-deliver", "q8-latency-spike", "q8-half-open", "q8-network-flap",
     "q9-storm-drill", "q9-latency-drill"])
