#!/usr/bin/python3
"""security_attacks_unprotected — the same attacks against a server with the
defence turned off (no per-connection message limit; a 1 MiB payload cap;
a 10-minute handshake deadline): the attackers' budget fails, so the abuse
suite's verdicts can fail. Undefended attempts settle as "not rejected"
(or, for an oversized body the server accepts, an unexpected http_200)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import attacktest  # noqa: E402
import harnesstest  # noqa: E402


def check_fail(r, groups):
    assert r.rc == 1, r.explain()
    v = attacktest.verdict(r, "attack_rejected_ratio")
    assert not v["pass"], v
    for g in groups:
        a = attacktest.attack(r, g)
        assert a["attempts"] >= 1 and a["rejected"] == 0, (g, a)
    return r


def main():
    # three runs that share nothing (each its own server): side by side
    flood, oversized, loris = harnesstest.side_by_side(
        [(attacktest.run, (name,), {"unprotected": True}) for name in ("message-flood", "oversized", "slowloris")])
    r = check_fail(flood, ["flood"])
    f = attacktest.attack(r, "flood")
    assert f["by_outcome"].get("not_rejected") == f["attempts"], f
    assert f["accepted"] >= 250 * f["attempts"], f  # every ping answered: nothing stopped it

    r = check_fail(oversized, ["big-frame", "big-body"])
    assert attacktest.attack(r, "big-frame")["by_outcome"].get("not_rejected", 0) >= 1, r.report["groups"]
    assert attacktest.attack(r, "big-body")["by_outcome"].get("http_200", 0) >= 1, r.report["groups"]

    r = check_fail(loris, ["loris-ws", "loris-sse"])
    for g in ("loris-ws", "loris-sse"):
        lo = attacktest.attack(r, g)
        assert lo["by_outcome"].get("not_rejected") == lo["attempts"], lo
    print("security_attacks_unprotected: ok")


if __name__ == "__main__":
    main()
