#!/usr/bin/python3
"""harness_scenarios_a: shipped scenario "smoke" passes against the
rtchaos-server the harness starts, in a short form (the checks:
tests/lib/harness_scenarios.py). reconnect-storm and latency-spike get the
same checks in harness_target (against a server the harness did not start),
so each shipped scenario runs once."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness_scenarios  # noqa: E402

if __name__ == "__main__":
    harness_scenarios.run_all(["smoke"])
