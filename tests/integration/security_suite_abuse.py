#!/usr/bin/python3
# rtchaos-test: serial (the abuse suite's legit.p95/p99 latency budgets)
"""security_suite_abuse — the abuse suite (scenarios/suites/abuse.yaml) in
its short form, first part: auth under load, bad credentials, cross-tenant
subscriptions (0 delivered), a connection storm and a publish flood each pass
with the server's security counters moving (tests/lib/suitetest.py). The
fleet's attacks (message flood, oversized, slowloris) are the second part,
security_suite_abuse_attacks.py."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import suitetest  # noqa: E402

suitetest.run_suite(
    "abuse", "auth-load,bad-credentials,cross-tenant,connection-storm,publish-flood",
    ["auth-load", "bad-credentials", "cross-tenant", "connection-storm", "publish-flood"])
