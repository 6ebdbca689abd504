#!/usr/bin/python3
# rtchaos-test: serial (each fault applied and removed within 1 s of its plan: the nice-10 lane can starve the harness that long under load)
"""harness_scenarios_b: shipped scenarios ["slow-consumer", "half-open", "history-overflow"] pass against
rtchaos-server in a short form (the checks: tests/lib/harness_scenarios.py)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness_scenarios  # noqa: E402

if __name__ == "__main__":
    harness_scenarios.run_all(["slow-consumer", "half-open", "history-overflow"])
