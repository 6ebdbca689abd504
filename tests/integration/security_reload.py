#!/usr/bin/python3
"""security_reload — rtchaos-server reloads its policy, JWT key file and
token revocation list at runtime (SIGHUP and POST /admin/reload): a broken
file is refused with a log line and an audit record while the old policy
stays in force; after a good reload the open subscriptions the new policy
denies end with error "forbidden", connections holding a revoked token or a
token of a removed key are closed with 4401 (SSE: the stream ends), revoked
tokens are refused at the handshake (4401 / 401), and the metrics count it
all by reason. Also: keep-alive polling by one client is not counted as a
storm of connection attempts, while a real storm from one address is."""
import http.client
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sectest  # noqa: E402
import srvtest  # noqa: E402
from sectest import bearer, claims, sse_event  # noqa: E402

POLICY = {"rules": [
    {"channel": "tenant.{tenant}.orders.*", "subscribe": ["reader", "trader"], "publish": ["trader"]},
    {"channel": "tenant.{tenant}.**", "subscribe": ["@authenticated"], "publish": ["trader"]},
], "admin": ["admin"]}
# the same, but orders are for traders only now
POLICY2 = {"rules": [
    {"channel": "tenant.{tenant}.orders.*", "subscribe": ["trader"], "publish": ["trader"]},
    {"channel": "tenant.{tenant}.**", "subscribe": ["@authenticated"], "publish": ["trader"]},
], "admin": ["admin"]}


def answer(ws, pred, timeout=15.0):
    return ws.recv_until(pred, timeout)[-1]


def subscribe(ws, ch):
    ws.send({"op": "sub", "ch": ch})
    m = answer(ws, lambda m: m.get("type") in ("subscribed", "error"))
    assert m.get("type") == "subscribed", m


def event_on(ws, ch, data, timeout=15.0):
    m = answer(ws, lambda m: m.get("type") == "event" and m.get("ch") == ch, timeout)
    assert m.get("data") == data, m


def audit_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def wait_log(srv, text, timeout=15.0):
    srvtest.wait_until(lambda: text in srv.proc.stderr_text(), timeout=timeout,
                       what=f"server log line {text!r}")


def test_reload(k):
    audit = os.path.join(k.dir, "audit.jsonl")
    policy = k.file("policy.json", POLICY)
    revoked = k.file("revoked.txt", "# nothing revoked yet\n")
    srv = srvtest.Server("--jwt-secret-file", k.secret, "--authz-policy", policy,
                         "--jwt-revoked", revoked, "--audit-log", audit, name="server-reload")
    try:
        admin = bearer(k.token(claims("root", "ops", ["admin"])))
        trader = bearer(k.token(claims("tina", "acme", ["trader"])))
        alice = sectest.WS(srv.host, srv.port, "/ws", bearer(k.token(claims("alice", "acme", ["reader"]))))
        subscribe(alice, "tenant.acme.orders.1")
        subscribe(alice, "tenant.acme.prices")
        carol_tok = k.token(claims("carol", "acme", ["reader"], jti="t-42"))
        carol = sectest.WS(srv.host, srv.port, "/ws", bearer(carol_tok))
        subscribe(carol, "tenant.acme.prices")
        dave = srv.sse("ch=tenant.acme.orders.1&token=" + k.token(claims("dave", "acme", ["reader"])))

        # 1. a broken policy by SIGHUP: refused, logged, audited; the old one holds
        k.file("policy.json", "{\"rules\": [{\"channel\": \"tenant.{tenant}.**\", \"subscribe\": [\"@nobody\"]}]}")
        srv.proc.p.send_signal(signal.SIGHUP)
        wait_log(srv, "SIGHUP reload refused, the previous security files stay in force")
        assert "@nobody" in srv.proc.stderr_text() or "policy.json" in srv.proc.stderr_text()
        # 2. a broken revocation list over the admin endpoint: 422, same outcome
        k.file("policy.json", POLICY2)
        k.file("revoked.txt", "jti t-42\nbogus line\n")
        st, _, body = srv.request("POST", "/admin/reload", headers=admin)
        assert st == 422 and b"revoked.txt:2" in body, (st, body)
        # only an admin may reload
        st, _, _ = srv.request("POST", "/admin/reload", headers=trader)
        assert st == 403, st
        st, _, _ = srv.request("POST", "/publish/tenant.acme.orders.1", {"data": 1}, headers=trader)
        assert st == 200, st
        event_on(alice, "tenant.acme.orders.1", 1)  # the old policy is in force
        assert sse_event(dave)["data"] == 1

        # 3. good files: orders for traders only, carol's token revoked
        k.file("revoked.txt", "# incident 7\njti t-42\n")
        r = srv.json("POST", "/admin/reload", headers=admin)
        assert r["reloaded"] and r["rules"] == 2 and r["revoked_jti"] == 1, r
        assert r["connections_closed"] == 1, r          # carol
        assert r["subscriptions_ended"] == 2, r         # alice's and dave's orders
        m = answer(alice, lambda m: m.get("type") == "error")
        assert m["code"] == "forbidden" and m["ch"] == "tenant.acme.orders.1", m
        code, msgs = carol.expect_close()
        assert code == 4401, code
        assert any(x.get("code") == "unauthorized" and "revoked" in x.get("msg", "") for x in msgs), msgs
        carol.sock.close()
        # dave's SSE stream carried only orders: an error event, then the end
        got = []
        while True:
            d = dave.next_data(timeout=15)
            if d is None:
                break
            got.append(d)
        assert any(x.get("type") == "error" and x.get("code") == "forbidden" for x in got), got
        dave.close()
        # alice keeps her other subscription; her orders are gone
        for data in (2, 3):
            srv.request("POST", "/publish/tenant.acme.orders.1", {"data": data}, headers=trader)
            st, _, _ = srv.request("POST", "/publish/tenant.acme.prices", {"data": data}, headers=trader)
            assert st == 200
            m = answer(alice, lambda m: m.get("type") == "event")
            assert m["ch"] == "tenant.acme.prices" and m["data"] == data, m
        # a revoked token is refused at the handshake, on every transport
        try:
            ws = sectest.WS(srv.host, srv.port, "/ws", bearer(carol_tok))
            code, _ = ws.expect_close()
            ws.sock.close()
            assert code == 4401, code
        except sectest.Refused as e:
            assert e.status == 401, e.status
        st, _, _ = srv.request("GET", "/poll?ch=tenant.acme.prices&timeout_ms=0", headers=bearer(carol_tok))
        assert st == 401, st

        # 4. SIGHUP: suspend alice's account (every token of that subject)
        k.file("revoked.txt", "jti t-42\nsub alice\n")
        srv.proc.p.send_signal(signal.SIGHUP)
        code, msgs = alice.expect_close()
        assert code == 4401, (code, msgs[-3:])
        alice.sock.close()
        wait_log(srv, "SIGHUP reload: keys=1 rules=2 revoked_jti=1 revoked_sub=1 connections_closed=1")

        mt = srv.metrics()
        assert mt['rtchaos_sec_reloads_total{outcome="ok"}'] == 2, mt
        assert mt['rtchaos_sec_reloads_total{outcome="error"}'] == 2, mt
        assert mt['rtchaos_sec_reload_ends_total{reason="revoked"}'] == 2, mt
        assert mt['rtchaos_sec_reload_ends_total{reason="forbidden"}'] == 2, mt
        assert mt['rtchaos_sec_auth_rejections_total{reason="revoked"}'] >= 2, mt
        assert mt['rtchaos_sec_revoked_entries{kind="sub"}'] == 1, mt
    finally:
        assert srv.stop() == 0
    lines = audit_lines(audit)
    reloads = [(a["outcome"], a.get("reason")) for a in lines if a["action"] == "reload"]
    assert reloads == [("deny", "bad_file"), ("deny", "bad_file"), ("allow", None), ("allow", None)], reloads
    assert any(a["action"] == "revalidate" and a["sub"] == "carol" and a["reason"] == "revoked" for a in lines)
    assert any(a["action"] == "subscribe" and a["sub"] == "dave" and a.get("detail") == "reload" for a in lines)
    assert any(a["action"] == "admin /admin/reload" and a["outcome"] == "deny" for a in lines), \
        [a["action"] for a in lines]
    with open(audit) as f:
        assert "eyJ" not in f.read()



def test_key_rotation(k):
    """A new secret: connections whose token was signed with the old one are
    closed at the reload; tokens of the new secret work."""
    secret = k.file("rotating.secret", "first-secret-0123456789abcdef0123456789\n")
    srv = srvtest.Server("--jwt-secret-file", secret, "--authz-policy", k.file("p-rot.json", POLICY),
                         name="server-rotate")
    try:
        old = sectest.WS(srv.host, srv.port, "/ws", bearer(
            k.token(claims("olga", "acme", ["reader"]), key=b"first-secret-0123456789abcdef0123456789")))
        subscribe(old, "tenant.acme.prices")
        k.file("rotating.secret", "second-secret-0123456789abcdef012345678\n")
        srv.proc.p.send_signal(signal.SIGHUP)
        code, _ = old.expect_close()
        assert code == 4401, code
        old.sock.close()
        new = sectest.WS(srv.host, srv.port, "/ws", bearer(
            k.token(claims("olga", "acme", ["reader"]), key=b"second-secret-0123456789abcdef012345678")))
        subscribe(new, "tenant.acme.prices")
        new.close()
        assert srv.metrics()['rtchaos_sec_reload_ends_total{reason="key_removed"}'] == 1
    finally:
        assert srv.stop() == 0


def test_keepalive_is_not_a_storm(k):
    srv = srvtest.Server("--jwt-secret-file", k.secret, "--rate-conn-per-addr", "1/s:3",
                         name="server-keepalive")
    try:
        tok = bearer(k.token(claims("paul", "acme", ["reader"])))
        # one client polling 60 times over one kept-alive connection: all served
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=15)
        c.connect()
        port = c.sock.getsockname()[1]
        for i in range(60):
            c.request("GET", "/poll?ch=news&timeout_ms=0", headers=tok)
            r = c.getresponse()
            r.read()
            assert r.status == 200, (i, r.status)
            assert c.sock is not None and c.sock.getsockname()[1] == port, "connection not kept alive"
        c.close()
        # a storm of new connections from the same address: limited
        t0 = time.monotonic()
        statuses = []
        for _ in range(20):
            statuses.append(srv.request("GET", "/poll?ch=news&timeout_ms=0", headers=tok)[0])
        elapsed = time.monotonic() - t0
        ok = statuses.count(200)
        assert set(statuses) <= {200, 429}, statuses
        assert statuses.count(429) >= 1, statuses
        assert ok <= 3 + int(elapsed) + 1, (ok, elapsed)  # the burst plus 1/s
        limited = srv.metrics()['rtchaos_sec_rate_limited_total{limit="conn_per_addr"}']
        assert limited == statuses.count(429), (limited, statuses)
    finally:
        assert srv.stop() == 0


def main():
    k = sectest.Keys()
    try:
        test_reload(k)
        test_key_rotation(k)
        test_keepalive_is_not_a_storm(k)
    finally:
        k.cleanup()
    print("security_reload: ok")


if __name__ == "__main__":
    main()
