#!/usr/bin/python3
"""scorecard_median.py — several rounds of the same scorecard (bench/scorecard.sh
ROUNDS=N, or separate runs) as one Markdown table: for each entry and figure,
each server's median over the rounds with the spread (min–max) beside it, and
the verdicts of every round. Servers are matched by protocol (their ports
differ from round to round).

    bench/scorecard_median.py OUT/scorecard-r1/scorecard.json OUT/scorecard-r2/scorecard.json ...
"""
import json
import statistics
import sys


def fmt(v):
    if v == int(v) and abs(v) >= 10:
        return f"{int(v):,}"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def main(paths):
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    cards = [json.load(open(p)) for p in paths]
    suites = {c["suite"] for c in cards}
    if len(suites) != 1:
        print(f"scorecard_median: different suites mixed: {sorted(suites)}", file=sys.stderr)
        return 2
    servers = []
    for c in cards:
        for col in c["columns"]:
            if col["protocol"] not in servers:
                servers.append(col["protocol"])
    rows = []
    for c in cards:
        for r in c["rows"]:
            if r["id"] not in [x[0] for x in rows]:
                rows.append((r["id"], r["title"]))
    print(f"{len(cards)} rounds of suite '{cards[0]['suite']}': median (min–max) per figure; verdicts per round\n")
    print("| entry | figure | " + " | ".join(servers) + " |")
    print("|---|---|" + "---|" * len(servers))
    for rid, title in rows:
        figs, verdicts = {}, {s: [] for s in servers}
        for c in cards:
            row = next((r for r in c["rows"] if r["id"] == rid), None)
            if not row:
                continue
            for col, cell in zip(c["columns"], row["cells"]):
                verdicts[col["protocol"]].append(cell["verdict"])
                for k, v in (cell.get("figures") or {}).items():
                    if isinstance(v, (int, float)):
                        figs.setdefault(k, {}).setdefault(col["protocol"], []).append(float(v))
        first = True
        for k, by in figs.items():
            cells = []
            for s in servers:
                vs = by.get(s, [])
                if not vs:
                    cells.append("—")
                elif len(vs) == 1 or min(vs) == max(vs):
                    cells.append(fmt(statistics.median(vs)))
                else:
                    cells.append(f"{fmt(statistics.median(vs))} ({fmt(min(vs))}–{fmt(max(vs))})")
            print(f"| {rid if first else ''} | {k} | " + " | ".join(cells) + " |")
            first = False
        print(f"| | verdicts | " + " | ".join(", ".join(verdicts[s]) or "—" for s in servers) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
