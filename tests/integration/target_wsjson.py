#!/usr/bin/python3
"""target_wsjson: the ws-json adapter's keep-alive and WebSocket publishing
templates against a real JSON-over-WebSocket service written on the npm
`ws` package (tests/fixtures/wsjson/server.js, pinned in
tests/package-lock.json). The service pings every client every 300 ms and
hangs up (4001) on one that has not answered with the matching pong in
time; it also hangs up (4002) on a client silent for too long (a second kind
of instance does only that, without pings of its own). Each run has a
service of its own: where the clients must keep their
connections the windows are wide (3 s for a pong, 5 s of silence: a process
starved on a loaded box must not look like a client that does not answer);
where they must lose them, tight (1 s, 1.5 s: starving only adds hang-ups). With the
scenario's templates (ping_match / pong_message, ping_message every 500 ms,
pub_message over the publisher's WebSocket) two reconnect storms pass with
nothing lost, the service never hangs up on a healthy client, and every
event was published over the WebSocket (the service's own counts, GET
/stats). Without a matching ping (ping_match that never matches) the
service hangs up for want of pongs; without client pings (an interval
longer than the run) the second instance hangs up on silent clients: each
shows in its counts and as extra reconnects. Template mistakes are exit 2 with
file:line:col."""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402
import npmdeps  # noqa: E402
import rtctest  # noqa: E402
import sidebyside  # noqa: E402

SERVER = os.path.join(rtctest.ROOT, "tests", "fixtures", "wsjson", "server.js")
SCN = "targets/ws-json-node.yaml"
STORM_RECONNECTS = (10, 26)  # storm1 cuts half of 20, storm2 80 % of 20: at most 26 reconnects in all


# the windows (ms) where a healthy client must keep its connection, and where one must lose it
KEEP = {"pong_ms": "3000", "idle_ms": "5000"}
LOSE = {"pong_ms": "1000", "idle_ms": "1500"}


def start(pong_ms, idle_ms, ping_ms="300"):
    env = dict(os.environ, NODE_PATH=npmdeps.NODE_MODULES)
    # node on a loaded box (CI: tests side by side, niced) can take many seconds to come up
    return rtctest.start("/usr/bin/env", ["node", SERVER, ping_ms, pong_ms, idle_ms], env=env, name="wsjson-server",
                         timeout=60)


def stats(host, port):
    with urllib.request.urlopen(f"http://{host}:{port}/stats", timeout=5) as r:
        return json.load(r)


def templates_checked():
    d = tempfile.mkdtemp(prefix="rtchaos-wsj-")
    bad = os.path.join(d, "bad.yaml")
    with open(bad, "w") as f:
        f.write("duration: 5s\n"
                "target:\n"
                "  protocol: ws-json\n"
                "  sub_path: /ws\n"
                "  sub_message: '{\"op\":\"sub\",\"ch\":\"{ch}\"}'\n"
                "  pub_message: '{\"op\":\"pub\",\"data\":{paylod}}'\n"
                "  ping_match: '[1]'\n"
                "  pong_message: '{\"type\":\"pong\",\"id\":{pnig.id}}'\n"
                "  ping_message: '{\"type\":\"ping\",\"n\":{count}}'\n"
                "  ch_join: ','\n"
                "clients:\n"
                "  - {transport: ws}\n")
    p = subprocess.run([ht.RTCHAOS, "validate", bad], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p
    want = [f"{bad}:3:13: target: protocol ws-json needs pub_path (where an event is published, e.g. /publish/{{ch}})",
            f"{bad}:6:16: target.pub_message: unknown field '{{paylod}}' (did you mean '{{payload}}'?)",
            f"{bad}:6:16: target.pub_message is sent over the WebSocket: set publishers.transport: ws (or publish "
            "over HTTP with pub_path)",
            f"{bad}:7:15: target.ping_match '[1]': expected a JSON object whose members a ping holds, like "
            "{\"type\":\"ping\"}",
            f"{bad}:8:17: target.pong_message: unknown field '{{pnig.id}}' (did you mean '{{ping.id}}'?)",
            f"{bad}:9:17: target.ping_message: unknown field '{{count}}': a ping takes {{n}} (1, 2, 3, … per connection)",
            f"{bad}:9:17: target.ping_message needs ping_interval (how often, e.g. 10s)",
            f"{bad}:10:12: target.ch_join: only for the templated protocol sse, not ws-json"]
    got = p.stderr.strip().splitlines()
    assert got == want, "\n".join(got)
    print("template errors: exit 2 with file:line:col")


def with_pongs():
    srv = start(**KEEP)
    try:
        host, port = rtctest.addr_of(srv.lines[0])
        r = ht.run(SCN, "--target", f"http://{host}:{port}", "--quiet", timeout=120)
        assert r.rc == 0, r.explain()
        t = r.report["totals"]
        st = stats(host, port)
        assert t["lost"] == 0 and t["delivered"] == t["expected"] and t["errors"] == 0, (t, t["errors_by_reason"])
        assert STORM_RECONNECTS[0] <= t["reconnects"] <= STORM_RECONNECTS[1], t["reconnects"]
        assert t["resync_ok"] > 0 and t["replayed"] > 0, t
        assert st["pong_timeouts"] == 0 and st["idle_closes"] == 0, st
        assert st["pongs"] > 100 and st["client_pings"] > 100, st
        assert st["ws_publishes"] == t["published"] and st["http_publishes"] == 0, (st, t["published"])
        print("templates:", {k: t[k] for k in ("published", "delivered", "lost", "reconnects", "resync_ok")}, st)
    finally:
        assert srv.stop() == 0


def without_pongs():
    # no pong: the service hangs up on every client for want of one (the
    # clients never catch up: a short drain)
    srv = start(**LOSE)
    try:
        host, port = rtctest.addr_of(srv.lines[0])
        r = ht.run(SCN, "--target", f"http://{host}:{port}", "--quiet", "--set",
                   "target.ping_match='{\"type\":\"never\"}'", "--set", "drain=1s", timeout=120)
        st = stats(host, port)
        assert st["pong_timeouts"] >= 20, st
        assert r.report["totals"]["reconnects"] > STORM_RECONNECTS[1], r.report["totals"]["reconnects"]
        print("without the pong: the service hung up", st["pong_timeouts"], "times; reconnects",
              r.report["totals"]["reconnects"])
    finally:
        assert srv.stop() == 0


# a service that never pings but hangs up on silent clients: the client's own
# pings keep them; without them (an interval longer than the run) every client
# is hung up on

def with_client_pings():
    srv = start(ping_ms="0", **KEEP)
    try:
        host, port = rtctest.addr_of(srv.lines[0])
        r = ht.run(SCN, "--target", f"http://{host}:{port}", "--quiet", timeout=120)
        st = stats(host, port)
        assert r.rc == 0 and st["idle_closes"] == 0 and st["client_pings"] > 100 and st["pongs"] == 0, (r.explain(), st)
        assert r.report["totals"]["reconnects"] <= STORM_RECONNECTS[1], r.report["totals"]
        print("client pings kept", st["connections"], "connections")
    finally:
        assert srv.stop() == 0


def without_client_pings():
    srv = start(ping_ms="0", **LOSE)
    try:
        host, port = rtctest.addr_of(srv.lines[0])
        r = ht.run(SCN, "--target", f"http://{host}:{port}", "--quiet", "--set", "target.ping_interval=1h",
                   "--set", "drain=1s", timeout=120)
        st = stats(host, port)
        assert st["idle_closes"] >= 20 and st["client_pings"] == 0, st
        assert r.report["totals"]["reconnects"] > STORM_RECONNECTS[1], r.report["totals"]["reconnects"]
        print("without client pings the service hung up on", st["idle_closes"], "silent clients; reconnects",
              r.report["totals"]["reconnects"])
    finally:
        assert srv.stop() == 0


def main():
    templates_checked()
    npmdeps.ensure("ws")
    # each run against a service of its own (its counts are the run's). The
    # two whose clients must keep their connections one at a time, then the
    # two whose clients are hung up on again and again side by side (starving
    # them only adds hang-ups). On a loaded box (load 25-50), beside another
    # run a healthy run's starved service hung up on healthy clients even
    # with 3 s and 5 s windows (3 of 8 runs), once with events lost
    with_pongs()
    with_client_pings()
    sidebyside.run(without_pongs, without_client_pings)
    print("ok")


if __name__ == "__main__":
    main()
