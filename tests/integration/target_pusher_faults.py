#!/usr/bin/python3
"""target_pusher_faults: the pusher adapter against a real soketi
(tests/lib/soketitest.py) when something is wrong. rtchaos-proxy's ws_drop
toxic on the WebSocket streams is caught as exactly as many `lost` as the
proxy's event log says it dropped (Pusher has no sequence numbers: the
publisher's record in each event's data shows the holes); a wrong secret
(soketi answers 200 with an error object, so the body decides) and an app
key soketi does not know (pusher:error 4001, close 4001: the clients give up
instead of reconnecting) are clear errors with exit 3, never a pass."""
import functools
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402
import sidebyside  # noqa: E402
import soketitest  # noqa: E402
from soketitest import credentials, no_secret_in, totals  # noqa: E402


# the runs that must fail (nothing acknowledged, nothing received): a short timeline
FAIL_FAST = ("--set", "warmup=1s", "--set", "duration=2s", "--set", "drain=1s", "--set", "publishers.timeout=1s")


def dropped(s):
    r = ht.run("targets/pusher-drop.yaml", "--target", s.url, "--quiet", env=credentials(s), timeout=120)
    assert r.rc == 1, r.explain()
    drops = 0
    with open(os.path.join(r.dir, "proxy-events.jsonl")) as f:
        for line in f:
            e = json.loads(line)
            if e.get("action") == "drop" and e.get("toxic") == "drop-ws":
                drops += 1
    t = r.report["totals"]
    assert drops > 0, "the toxic dropped nothing"
    assert t["lost"] == drops, (drops, totals(r))
    assert t["missed_by_design"] == 0 and t["duplicated"] == 0 and t["reordered"] == 0 and t["errors"] == 0, \
        totals(r)
    print(f"ws_drop: {drops} dropped = {t['lost']} lost")


def wrong_secret(s):
    r = ht.run("targets/pusher-smoke.yaml", "--target", s.url, "--quiet", *FAIL_FAST,
               env=credentials(s, secret="not-" + s.secret), timeout=90)
    assert r.rc == 3, r.explain()
    out = r.stderr + r.stdout
    assert "acknowledged none" in out and "The secret authentication failed" in out, r.explain()
    t = r.report["totals"]
    assert t["published"] == 0 and t["publish_failed"] > 0, totals(r)
    no_secret_in(r.dir, "not-" + s.secret)
    print("wrong secret: exit 3:", out.strip().splitlines()[-1])


def unknown_key(s):
    # channels of its own: its publisher (the right secret) runs beside
    # wrong_secret's subscribers (the right key) on the same server
    r = ht.run("targets/pusher-smoke.yaml", "--target", s.url, "--quiet", *FAIL_FAST,
               "--set", "channels.pattern=nokey.{i}", env=credentials(s, key="no-such-key"), timeout=90)
    assert r.rc == 3, r.explain()
    out = r.stderr + r.stdout
    assert "no subscriber received anything" in out and "4001" in out, r.explain()
    t = r.report["totals"]
    # refused for good: each client gives up at once instead of reconnecting
    assert t["gave_up"] == 30 and t["reconnects"] == 0 and t["delivered"] == 0, totals(r)
    assert any("not reconnecting" in k for k in t["errors_by_reason"]), t["errors_by_reason"]
    print("unknown app key: exit 3:", out.strip().splitlines()[-1])


def main():
    why = soketitest.available()
    assert why is None, why
    s = soketitest.Soketi()
    try:
        # the parts run side by side, each with its own environment and channels
        parts = sys.argv[1:] or ("dropped", "wrong_secret", "unknown_key")
        sidebyside.run(*[functools.partial(globals()[part], s) for part in parts])
    finally:
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
