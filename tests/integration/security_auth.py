#!/usr/bin/python3
"""security_auth — rtchaos-server with JWT authentication and a channel
policy: anonymous, forged, expired, alg-confused and malformed credentials are
refused with 401 / close 4401; HS256, RS256 and ES256 tokens work from the
Authorization header and from ?token=; a token that expires ends its WS
connection with 4401 unless {"op":"auth"} refreshed it first; the audit log
records refusals and never a token."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sectest  # noqa: E402
import srvtest  # noqa: E402
from sectest import bearer, claims, sse_event  # noqa: E402

POLICY = {"rules": [
    {"channel": "tenant.{tenant}.vip.*", "subscribe": ["vip"], "publish": ["trader"]},
    {"channel": "tenant.{tenant}.**", "subscribe": ["@authenticated"], "publish": ["trader"]},
    {"channel": "user.{sub}", "subscribe": ["@authenticated"], "publish": ["@authenticated"]},
], "admin": ["admin"]}



def ws_refused_4401(srv, path="/ws", headers=None):
    ws = sectest.WS(srv.host, srv.port, path, headers)
    code, _ = ws.expect_close()
    ws.sock.close()
    assert code == 4401, (path, headers, code)


def expect_status(srv, method, path, status, headers=None, body=None):
    st, hdrs, data = srv.request(method, path, body=body, headers=headers or {})
    assert st == status, (method, path, st, data[:300])
    if status >= 400:
        assert json.loads(data)["code"] in ("unauthorized", "forbidden", "rate_limited", "overloaded"), data
    return hdrs


def test_refusals(srv, k):
    good = claims("alice", "acme", ["reader"])
    bad_tokens = {
        "bad_signature": k.token(good, key=b"some-other-secret-that-is-long-enough!!"),
        "expired": k.token(claims("alice", "acme", ["reader"], ttl_s=-10)),
        "alg_none": k.token(good, alg="none"),
        # HS256 keyed with the server's RSA public key: the classic confusion
        "alg_confusion": k.token(good, key=open(k.rsa_pub, "rb").read()),
        "garbage": "not-a-token",
        "no_sub": k.token({"tenant": "acme", "exp": int(time.time()) + 60}),
        "wide_tenant": k.token(claims("alice", "acme.*")),
    }
    ws_refused_4401(srv)
    hdrs = expect_status(srv, "GET", "/sse?ch=tenant.acme.a", 401)
    assert hdrs.get("www-authenticate", "").startswith("Bearer"), hdrs
    expect_status(srv, "POST", "/publish/tenant.acme.a", 401, body={"data": 1})
    expect_status(srv, "GET", "/poll?ch=tenant.acme.a&since=0&timeout_ms=0", 401)
    for what, tok in bad_tokens.items():
        ws_refused_4401(srv, headers=bearer(tok))
        ws_refused_4401(srv, path=f"/ws?token={tok}")
        expect_status(srv, "GET", "/sse?ch=tenant.acme.a", 401, headers=bearer(tok))
        expect_status(srv, "POST", "/publish/tenant.acme.a", 401, headers=bearer(tok), body={"data": 1})
    expect_status(srv, "GET", "/sse?ch=tenant.acme.a", 401, headers={"Authorization": "Basic YTpi"})
    m = srv.metrics()
    for reason in ("missing_token", "bad_signature", "expired", "bad_alg", "malformed_token", "bad_claims"):
        assert m.get(f'rtchaos_sec_auth_rejections_total{{reason="{reason}"}}', 0) >= 1, (reason, m)


def test_accepted(srv, k):
    reader = k.token(claims("alice", "acme", ["reader"]))
    trader_rs = k.token(claims("tom", "acme", ["trader"]), alg="RS256")
    ws = sectest.WS(srv.host, srv.port, "/ws", bearer(reader))
    ws.send({"op": "sub", "ch": "tenant.acme.orders"})
    ws.recv_until(lambda m: m.get("type") == "subscribed")
    sse = srv.sse(f"ch=tenant.acme.orders&token={reader}")
    r = srv.json("POST", "/publish/tenant.acme.orders", {"data": {"n": 1}}, headers=bearer(trader_rs))
    assert r["seq"] == 1, r
    ev = ws.recv_until(lambda m: m.get("type") == "event")[-1]
    assert ev["data"] == {"n": 1}, ev
    assert sse_event(sse)["data"] == {"n": 1}
    # a reader may not publish: 403, and over WS an error envelope
    expect_status(srv, "POST", "/publish/tenant.acme.orders", 403, headers=bearer(reader), body={"data": 2})
    ws.send({"op": "pub", "ch": "tenant.acme.orders", "data": 2})
    err = ws.recv_until(lambda m: m.get("type") == "error")[-1]
    assert err["code"] == "forbidden", err
    # ... but may on its own user channel
    ws.send({"op": "pub", "ch": "user.alice", "data": 3, "ack": True})
    ws.recv_until(lambda m: m.get("type") == "published")
    ws.close()
    sse.close()
    m = srv.metrics()
    assert m.get('rtchaos_sec_authz_denials_total{action="publish",reason="no_role"}', 0) >= 2, m
    # admin endpoints: the body of a refused request is never acted on
    flag = {"pattern": "tenant.*", "enabled": False}
    expect_status(srv, "POST", "/admin/flags", 401, body=flag)
    expect_status(srv, "POST", "/admin/flags", 403, headers=bearer(reader), body=flag)
    expect_status(srv, "GET", "/admin/flags", 403, headers=bearer(reader))
    admin = bearer(k.token(claims("root", None, ["admin"])))
    assert srv.json("GET", "/admin/flags", headers=admin)["rules"] == [], "a refused request changed the flags"
    srv.json("POST", "/admin/flags", {"pattern": "nothing.*", "enabled": False}, headers=admin)
    assert srv.json("GET", "/admin/flags", headers=admin)["rules"] == [{"pattern": "nothing.*", "enabled": False}]


def test_expiry_and_refresh(srv, k):
    # expires in 2 s and is not refreshed: error, then close 4401
    short = k.token(claims("alice", "acme", ["reader"], ttl_s=2))
    ws = sectest.WS(srv.host, srv.port, "/ws", bearer(short))
    ws.send({"op": "sub", "ch": "tenant.acme.orders"})
    ws.recv_until(lambda m: m.get("type") == "subscribed")
    t0 = time.monotonic()
    code, msgs = ws.expect_close(timeout=20)
    assert code == 4401, code
    assert any(m.get("type") == "error" and m.get("code") == "unauthorized" for m in msgs), msgs
    assert time.monotonic() - t0 < 15
    ws.sock.close()

    # refreshed before it expires: the connection lives on
    short = k.token(claims("bob", "acme", ["reader"], ttl_s=2))
    ws = sectest.WS(srv.host, srv.port, "/ws", bearer(short))
    ws.send({"op": "auth", "token": k.token(claims("bob", "acme", ["reader"], ttl_s=120))})
    authed = ws.recv_until(lambda m: m.get("type") in ("authed", "error"))[-1]
    assert authed["type"] == "authed" and authed["sub"] == "bob", authed
    # a token of someone else does not switch identities
    ws.send({"op": "auth", "token": k.token(claims("mallory", "acme", ["admin"], ttl_s=120))})
    err = ws.recv_until(lambda m: m.get("type") == "error")[-1]
    assert err["code"] == "forbidden", err
    ws.send({"op": "auth", "token": "junk"})
    err = ws.recv_until(lambda m: m.get("type") == "error")[-1]
    assert err["code"] == "unauthorized", err
    time.sleep(4)
    ws.send({"op": "ping"})
    ws.recv_until(lambda m: m.get("type") == "pong", timeout=10)
    ws.send({"op": "sub", "ch": "tenant.acme.orders"})
    ws.recv_until(lambda m: m.get("type") == "subscribed")
    ws.close()

    # a refresh that drops a role ends the subscriptions that needed it
    trader = bearer(k.token(claims("tom", "acme", ["trader"])))
    ws = sectest.WS(srv.host, srv.port, "/ws", bearer(k.token(claims("vera", "acme", ["reader", "vip"]))))
    for ch in ("tenant.acme.vip.1", "tenant.acme.orders"):
        ws.send({"op": "sub", "ch": ch})
        assert ws.recv_until(lambda m: m.get("type") in ("subscribed", "error"))[-1]["type"] == "subscribed"
    ws.send({"op": "auth", "token": k.token(claims("vera", "acme", ["reader"], ttl_s=120))})
    got = ws.recv_until(lambda m: m.get("type") == "error")
    assert got[-1]["code"] == "forbidden" and got[-1].get("ch") == "tenant.acme.vip.1", got
    srv.json("POST", "/publish/tenant.acme.vip.1", {"data": "vip"}, headers=trader)
    srv.json("POST", "/publish/tenant.acme.orders", {"data": "orders"}, headers=trader)
    evs = ws.recv_until(lambda m: m.get("type") == "event" and m["data"] == "orders")
    assert not [m for m in evs if m.get("ch") == "tenant.acme.vip.1"], evs
    ws.close()

    # an SSE stream whose token expires ends (checked at each heartbeat)
    sse = srv.sse("ch=tenant.acme.orders&token=" + k.token(claims("carl", "acme", ["reader"], ttl_s=2)))
    t0 = time.monotonic()
    while sse.next(timeout=20) is not None:
        assert time.monotonic() - t0 < 20, "SSE stream outlived its token"
    assert time.monotonic() - t0 < 15
    sse.close()
    assert srv.metrics()["rtchaos_sec_expired_closes_total"] >= 2


def test_audit(path):
    with open(path) as f:
        text = f.read()
    assert "eyJ" not in text, "a token reached the audit log"
    lines = [json.loads(l) for l in text.splitlines()]
    reasons = {l.get("reason") for l in lines}
    for r in ("bad_signature", "expired", "missing_token", "no_role"):
        assert r in reasons, (r, reasons)
    admin = [l for l in lines if l["action"].startswith("admin")]
    assert {(l["outcome"], l.get("sub")) for l in admin} >= {("deny", "alice"), ("allow", "root")}, admin
    assert any(l.get("action") == "auth" and l.get("outcome") == "allow" and l.get("sub") == "bob"
               for l in lines), lines[-5:]
    assert all("ts" in l and "outcome" in l for l in lines)


def test_es256(k):
    srv = srvtest.Server("--jwt-public-key", k.ec_pub, name="server-es256")
    try:
        ok = k.token(claims("eve", "acme"), alg="ES256")
        sse = srv.sse(f"ch=any.channel&token={ok}")
        srv.json("POST", "/publish/any.channel", {"data": 7}, headers=bearer(ok))
        assert sse_event(sse)["data"] == 7
        sse.close()
        for tok in (k.token(claims("eve", "acme"), alg="RS256"), k.token(claims("eve", "acme"))):
            expect_status(srv, "GET", "/sse?ch=any.channel", 401, headers=bearer(tok))
        assert srv.metrics().get('rtchaos_sec_auth_rejections_total{reason="bad_alg"}', 0) == 2
    finally:
        assert srv.stop() == 0


def main():
    k = sectest.Keys()
    try:
        audit = os.path.join(k.dir, "audit.jsonl")
        policy = k.file("policy.json", POLICY)
        srv = srvtest.Server("--jwt-secret-file", k.secret, "--jwt-public-key", k.rsa_pub,
                             "--authz-policy", policy, "--audit-log", audit, "--heartbeat-ms", "500")
        try:
            test_refusals(srv, k)
            test_accepted(srv, k)
            test_expiry_and_refresh(srv, k)
        finally:
            assert srv.stop() == 0
        test_audit(audit)
        test_es256(k)
        # a key that does not load stops the server from starting (exit 2)
        r = srvtest.rtctest.subprocess.run([os.path.join(srvtest.rtctest.BIN, "rtchaos-server"), "--port", "0",
                                            "--jwt-public-key", k.secret], capture_output=True, timeout=30)
        assert r.returncode == 2 and b"PEM" in r.stderr, (r.returncode, r.stderr)
    finally:
        k.cleanup()
    print("security_auth: ok")


if __name__ == "__main__":
    main()
