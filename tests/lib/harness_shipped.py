"""harness_shipped — the shipped scenarios in a short form (for the
integration tests): each entry is the scenario file and the --set overrides
that shrink it to a few seconds while keeping what it shows.

Tests check correctness, not speed: the budgets that bound latency from
above are loosened (this box is shared with other builds and tests), while
every correctness budget (lost, duplicated, reordered, resync_failed,
delivered_ratio, gaps, snapshots, reconnects) and every lower bound that
proves a fault happened (latency-spike's p50 during the fault >= 150 ms) stays as shipped."""

SHORT = {
    "smoke": ["duration=4s", "warmup=1s", "drain=4s", "budgets.5=p95_live_ms <= 5000"],
    "reconnect-storm": ["duration=6s", "warmup=1s", "faults.0.at=2s", "clients.0.count=120",
                        "clients.1.count=40", "budgets.6=reconnect_p95_ms <= 30000",
                        "budgets.7=resync_p95_ms <= 30000"],
    "latency-spike": ["duration=8s", "warmup=1s", "faults.0.at=2s", "faults.0.for=2s",
                      "budgets.4=p95_live_outside_faults_ms <= 5000", "budgets.6=max_live_ms <= 30000"],
    "slow-consumer": ["duration=8s", "warmup=1s", "budgets.4=fast.p95_live_ms <= 5000"],
    "half-open": ["duration=11s", "warmup=1s", "faults.0.at=2s", "faults.0.for=7s",
                  "clients.0.count=60", "clients.1.count=30"],
    "history-overflow": ["duration=8s", "warmup=1s", "faults.0.at=2s", "faults.1.at=2s"],
}


def args(name):
    out = []
    for s in SHORT[name]:
        out += ["--set", s]
    return out


def check_overrides(scen_dir):
    """Asserts each budgets.N override replaces a budget on the same metric
    (so a reordered scenario file cannot silently loosen a correctness one)."""
    import os
    import re
    for name, sets in SHORT.items():
        with open(os.path.join(scen_dir, name + ".yaml")) as f:
            text = f.read()
        block = text.split("\nbudgets:\n", 1)[1]
        shipped = [m.group(1).strip() for m in re.finditer(r"^  - (.*)$", block, re.M)]
        for s in sets:
            m = re.match(r"budgets\.(\d+)=([\w.-]+)", s)
            if m:
                i, metric = int(m.group(1)), m.group(2)
                assert shipped[i].split()[0] == metric, (name, i, shipped[i], s)
