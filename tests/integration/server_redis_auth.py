#!/usr/bin/python3
"""rtchaos-server --redis, the URL's credentials and the stream's age bound,
against real redis-servers: a requirepass Redis (password with reserved
characters, percent-encoded in the URL) and an ACL user both let two nodes
share a channel; a wrong password gets 503s, one logged refusal naming the
user, and the credentials counted; no node log ever holds a password;
rediss:// is refused (Debian's hiredis has no TLS) with the password kept
out of the message. With --history-max-age-ms the stream itself is trimmed
by age in Redis (XTRIM MINID past the old entries; a quiet channel's stream
expires), seq and epoch stay."""
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import rtctest  # noqa: E402
from redistest import Redis  # noqa: E402
from srvtest import Server, events_of, wait_until  # noqa: E402

PASSWORD = "p@ss:w/rd%1"        # every reserved character the URL must escape
ALICE_PW = "alice-s3cret"


def refused(url):
    """Starts a node with url; returns its startup error (it must not start)."""
    try:
        rtctest.start("rtchaos-server", ["--port", "0", "--redis", url], timeout=5, name="refused")
    except AssertionError as e:
        return str(e)
    raise AssertionError("a node started with a refused --redis URL")


def test_urls_refused():
    e = refused("rediss://bob:" + ALICE_PW + "@127.0.0.1:6379")
    assert "rediss:// (TLS) is not supported" in e and "without SSL" in e, e
    assert ALICE_PW not in e, e
    for url, why in (("redis://bob:" + ALICE_PW + "@nohost", "needs HOST:PORT"),
                     ("redis://bob@127.0.0.1:1", "a user alone cannot log in"),
                     ("redis://:@127.0.0.1:1", "empty credentials"),
                     ("redis://:%zz@127.0.0.1:1", "bad or empty credentials")):
        e = refused(url)
        assert why in e, (url, e)
        assert ALICE_PW not in e, e


def share(a, b, ch):
    ws = b.ws()
    ws.send({"op": "sub", "ch": ch})
    m = ws.recv()
    assert m["type"] == "subscribed", m
    acked = [a.publish(ch, i)["seq"] for i in range(1, 6)]
    got = events_of(ws.recv_until(lambda m: m.get("type") == "event" and m["seq"] >= acked[-1]), ch)
    assert got == acked, (got, acked)
    ws.close()


def test_auth():
    enc = urllib.parse.quote(PASSWORD, safe="")
    r = Redis(extra=["--requirepass", PASSWORD, "--user", "alice", "on", ">" + ALICE_PW, "~*", "&*", "+@all"],
              auth=(None, PASSWORD))
    nodes = []
    try:
        base = f"127.0.0.1:{r.port}"
        a = Server("--redis", f"redis://:{enc}@{base}", name="auth-a")
        nodes.append(a)
        b = Server("--redis", f"redis://alice:{ALICE_PW}@{base}", name="auth-alice")
        nodes.append(b)
        share(a, b, "authed")
        share(b, a, "authed2")
        assert r.cmd("GET", "rtc:{authed}:seq") == "5"
        # wrong password: nothing is accepted, the refusal is logged once
        bad = Server("--redis", f"redis://alice:wrong-{ALICE_PW}@{base}", name="auth-wrong")
        nodes.append(bad)
        wait_until(lambda: bad.metrics().get("rtchaos_broker_auth_failures_total", 0) >= 2, timeout=15,
                   what="both links refused")
        st, _, body = bad.request("POST", "/publish/authed", {"data": 1})
        assert st == 503 and b"unavailable" in body, (st, body)
        assert bad.metrics()["rtchaos_broker_link_up"] == 0
        # no credentials at all against requirepass: Redis answers NOAUTH
        none = Server("--redis", f"redis://{base}", name="auth-none")
        nodes.append(none)
        st, _, body = none.request("POST", "/publish/authed", {"data": 1})
        # Redis answers NOAUTH, or refuses a long unauthenticated command outright
        assert st == 503 and (b"NOAUTH" in body or b"unauthenticated" in body), (st, body)
        for n in nodes:
            assert n.stop() == 0
        logs = {n.proc.log: n.proc.stderr_text() for n in nodes}
        wrong = logs[bad.proc.log]
        assert wrong.count("refused the credentials of user 'alice'") == 1, wrong
        assert "WRONGPASS" in wrong, wrong
        for path, text in logs.items():
            for secret in (PASSWORD, enc, ALICE_PW):
                assert secret not in text, f"{path} holds a password"
        nodes = []
    finally:
        for n in nodes:
            n.proc.p.kill()
        r.close()


def test_age_trim():
    r = Redis()
    age_ms = 2000
    a = Server("--redis", r.url, "--history-max-age-ms", str(age_ms), name="age-trim")
    try:
        for i in range(5):
            a.publish("aging", i)
        assert r.cmd("XLEN", "rtc:{aging}:s") == 5
        pttl = r.cmd("PTTL", "rtc:{aging}:s")
        assert 0 < pttl <= age_ms, pttl
        time.sleep(0.6 * age_ms / 1000)
        for i in range(3):
            a.publish("aging", 5 + i)
        time.sleep(0.6 * age_ms / 1000)
        # seqs 1-5 are 1.2 bounds old now, 6-8 0.6: this publish trims 1-5 (the
        # stream itself never expired: each publish renewed it)
        a.publish("aging", "new")
        ids = [e[0] for e in r.cmd("XRANGE", "rtc:{aging}:s", "-", "+")]
        assert ids == ["6-0", "7-0", "8-0", "9-0"], ids
        assert a.metrics()["rtchaos_broker_aged_out_total"] == 5, a.metrics()["rtchaos_broker_aged_out_total"]
        # a quiet channel: its stream expires with the bound; seq and epoch stay
        a.publish("quiet", "x")
        time.sleep(age_ms / 1000 + 0.3)
        assert r.cmd("EXISTS", "rtc:{quiet}:s") == 0
        assert r.cmd("GET", "rtc:{quiet}:seq") == "1" and r.cmd("EXISTS", "rtc:{quiet}:e") == 1
        # the next publish goes on from the seq: nothing looks lost or new
        assert a.publish("quiet", "y")["seq"] == 2
        assert a.stop() == 0
    finally:
        if a.proc.p.poll() is None:
            a.proc.p.kill()
        r.close()


def main():
    test_urls_refused()
    print("ok test_urls_refused", flush=True)
    test_auth()
    print("ok test_auth", flush=True)
    test_age_trim()
    print("ok test_age_trim", flush=True)
    print("ok")


if __name__ == "__main__":
    main()
