#!/usr/bin/python3
"""--push-url: after the report, the final figures go to a real Prometheus
Pushgateway (Debian package prometheus-pushgateway, started on loopback)
under job="rtchaos", scenario=<name>; what it then serves equals
report.json. A Pushgateway that is down is reported (stderr, events.jsonl)
without changing the run's exit code."""
import os
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as H  # noqa: E402
import promtest as P  # noqa: E402
import rtctest  # noqa: E402

PUSHGW = shutil.which("prometheus-pushgateway") or "/usr/bin/prometheus-pushgateway"
SHORT = ("--set", "duration=2s", "--set", "warmup=1s", "--quiet")


def main():
    port = P.free_port()
    log = open(os.path.join(rtctest.LOGDIR, f"pushgateway-{os.getpid()}.stderr"), "wb")
    # --persistence.file= (empty): in memory only; Debian's default file would
    # keep earlier runs' figures across restarts
    pg = subprocess.Popen([PUSHGW, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="],
                          stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=log)
    rtctest._children.append(pg)
    try:
        url = f"http://127.0.0.1:{port}"
        assert H.wait_until(lambda: _ready(url), timeout=20), "pushgateway not ready"
        r = H.run("smoke.yaml", "--push-url", url, *SHORT)
        assert r.rc in (0, 1) and r.report, r.explain()  # a loaded box may fail smoke's budgets
        assert any(e["action"] == "pushed" for e in r.events()), r.events()
        m = P.parse_text(P.scrape(url + "/metrics"))
        got = {k: v for k, v in m.items() if k.startswith("rtchaos_harness_") and 'scenario="smoke"' in k}
        tot = r.report["totals"]
        deliv = sum(v for k, v in got.items() if k.startswith("rtchaos_harness_deliveries_total"))
        assert deliv == tot["delivered"] > 0, (deliv, tot["delivered"])
        acked = [v for k, v in got.items() if k.startswith("rtchaos_harness_publish_events_total") and "acked" in k]
        assert acked == [tot["published"]], acked
        assert [v for k, v in got.items() if k.startswith("rtchaos_harness_exit_code")] == [r.rc]
        assert [v for k, v in got.items() if k.startswith("rtchaos_harness_finished")] == [1]
        print(f"ok: pushed, the Pushgateway serves delivered={deliv:.0f} = report.json")
    finally:
        pg.terminate()
        pg.wait(timeout=20)

    r = H.run("smoke.yaml", "--push-url", f"http://127.0.0.1:{port}", *SHORT)
    assert r.rc in (0, 1) and r.rc == r.report["exit_code"], r.explain()  # the push does not decide it
    assert "pushing the final figures" in r.stderr and "failed" in r.stderr, r.explain()
    assert any(e["action"] == "push_failed" for e in r.events())
    r = H.run("smoke.yaml", "--push-url", "pushgw:9091", *SHORT)
    assert r.rc == 2 and "--push-url" in r.stderr, r.explain()
    print("ok: a Pushgateway that is down is reported, the exit code is the report's; a bad URL is exit 2")


def _ready(url):
    try:
        return urllib.request.urlopen(url + "/-/ready", timeout=2).status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
