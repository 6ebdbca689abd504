#!/usr/bin/python3
# rtchaos-test: serial (latency budgets: the suite's p95 bounds need the CPU when they want it)
"""reports_suite_rfp2 — the rfp suite, questions 6-8 (including the /metrics
observability check), in its short form (tests/lib/suitetest.py says what is
checked). Question 9's entries run the drills suite's reconnect-storm and
latency-spike scenarios with the same checks; reports_suite_drills runs those,
so they are not run twice here (reports_cli validates the whole suite).
For the same reason q8-half-open and q8-kernel-silent-partition are not run
here either: reports_suite_drills runs the same scenarios with the same
overrides and budgets as its half-open drill (with /metrics watches and
alerts besides) and its half-open-kernel entry (longer, with require
checks, alerts and the report's kernel-fault figures checked)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import suitetest  # noqa: E402

suitetest.run_suite(
    "rfp", "q6,q7,q8-latency-spike,q8-network-flap,q8-kernel-packet-loss,q8-kernel-oneway-partition",
    ["q6-metrics-move", "q7-sse-and-poll-deliver", "q8-latency-spike", "q8-network-flap",
     "q8-kernel-packet-loss", "q8-kernel-oneway-partition"])
