#!/usr/bin/python3
"""security_suite_abuse_attacks — the abuse suite's entries whose attackers
come from the fleet, in their short form: a WS message flood, oversized WS
messages and bodies, slowloris handshakes. Each passes its budgets (every
attempt refused with the documented code, the readers unaffected) and its
drill checks (the server's rate-limit / too_large / handshake-timeout
counters move, its memory stays bounded)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import suitetest  # noqa: E402

suitetest.run_suite("abuse", "message-flood,oversized,slowloris", ["message-flood", "oversized", "slowloris"])
