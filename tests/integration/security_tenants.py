#!/usr/bin/python3
"""security_tenants — tenant isolation under a channel policy: a client of
tenant "globex" tries every trick on tenant "acme"'s channels (wildcards,
traversal, case, encodings, look-alike characters, replays with since=0,
another stream's Last-Event-ID, polls, publishes) over WS, SSE and poll;
every attempt is refused with the documented code, and while acme publishes,
0 acme events reach globex and acme's own subscriber misses none."""
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sectest  # noqa: E402
import srvtest  # noqa: E402
from sectest import bearer, claims, sse_event  # noqa: E402

POLICY = {"rules": [
    {"channel": "tenant.{tenant}.orders.*", "subscribe": ["reader", "trader"], "publish": ["trader"],
     "sensitive": True},
    {"channel": "tenant.{tenant}.**", "subscribe": ["@authenticated"], "publish": ["trader"]},
    {"channel": "public.**", "subscribe": ["@anyone"], "publish": ["editor"]},
]}

TRICKY = [
    "tenant.acme.orders.1", "tenant.acme.orders.*", "tenant.*.orders.1", "tenant.acme.**",
    "tenant.acme.>", "tenant.acme", "tenant.acme.orders.1.", ".tenant.acme.orders.1",
    "tenant..acme.orders.1", "TENANT.acme.orders.1", "tenant.Acme.orders.1", "tenant.ACME.orders.1",
    "tenant.globex/../acme.orders.1", "tenant.globex.orders.1/../../acme.orders.1",
    "tenant.acme%2eorders.1", "tenant%2eacme.orders.1", "tenant.acme .orders.1", "tenant.acme\t.orders.1",
    "tenant.ac\u00adme.orders.1", "tenant.\u0430cme.orders.1", "tenant.acme\u200b.orders.1",
    "tenant.acme.orders.1\u0000", "tenant.acme.orders.1\n", "tenant.acme." + "x" * 200,
    "tenant.acme:globex.orders.1", "tenant.acme.orders.1 ",
    "tenant.{tenant}.orders.1", "tenant.$tenant.orders.1", "tenant.acme,globex.orders.1",
]



def ws_answer(ws, timeout=15.0):
    """The answer to the last sub: 'subscribed' or the error code."""
    m = ws.recv_until(lambda m: m.get("type") in ("subscribed", "error"), timeout)[-1]
    return "subscribed" if m["type"] == "subscribed" else m["code"]


def status_of(srv, path, headers, method="GET", body=None):
    """The HTTP status; 0 when the server closed without answering, which
    libwebsockets does for a URL holding %00 (docs/security.md)."""
    try:
        return srv.request(method, path, body=body, headers=headers)[0]
    except ConnectionError:
        return 0


def main():
    k = sectest.Keys()
    audit = os.path.join(k.dir, "audit.jsonl")
    srv = srvtest.Server("--jwt-secret-file", k.secret, "--authz-policy", k.file("p.json", POLICY),
                         "--audit-log", audit)
    try:
        alice = k.token(claims("alice", "acme", ["reader"]))
        tom = k.token(claims("tom", "acme", ["trader"]))
        bob = k.token(claims("bob", "globex", ["reader", "trader"]))
        a_sse = srv.sse("ch=tenant.acme.orders.1&token=" + alice)
        assert a_sse.next_data()["type"] == "subscribed"
        for i in range(5):
            srv.json("POST", "/publish/tenant.acme.orders.1", {"data": {"i": i}}, headers=bearer(tom))

        # acme's own subscriber, from the start of history
        a_ws = sectest.WS(srv.host, srv.port, "/ws", bearer(alice))
        a_ws.send({"op": "sub", "ch": "tenant.acme.orders.1", "since": 0})
        assert ws_answer(a_ws) == "subscribed"
        first = sse_event(a_sse)
        assert first["ch"] == "tenant.acme.orders.1"
        acme_id = a_sse.last_id

        # globex over WS: every tricky name, with since=0 (a replay request)
        b_ws = sectest.WS(srv.host, srv.port, "/ws", bearer(bob))
        for name in TRICKY:
            b_ws.send({"op": "sub", "ch": name, "since": 0})
            ans = ws_answer(b_ws)
            assert ans in ("forbidden", "bad_request"), (name, ans)
            b_ws.send({"op": "pub", "ch": name, "data": "x", "ack": True})
            m = b_ws.recv_until(lambda m: m.get("type") in ("error", "published"))[-1]
            assert m["type"] == "error" and m["code"] in ("forbidden", "bad_request"), (name, m)
        # a raw frame whose JSON escapes a NUL into the name
        b_ws.send('{"op":"sub","ch":"tenant.acme.orders.1\\u0000x"}')
        assert ws_answer(b_ws) in ("forbidden", "bad_request")
        # its own tenant works (the control)
        b_ws.send({"op": "sub", "ch": "tenant.globex.orders.1", "since": 0})
        assert ws_answer(b_ws) == "subscribed"

        # globex over SSE and poll, names URL-encoded every which way
        hb = bearer(bob)
        for name in TRICKY:
            q = urllib.parse.quote(name, safe="")
            ok = (400, 403, 0) if "\u0000" in name else (400, 403)
            st = status_of(srv, f"/sse?ch={q}", hb)
            assert st in ok, (name, st)
            st = status_of(srv, f"/sse?ch=tenant.globex.orders.1&ch={q}", hb)
            assert st in ok, (name, st)
            st = status_of(srv, f"/poll?ch={q}&since=0&timeout_ms=0", hb)
            assert st in ok, (name, st)
            st = status_of(srv, f"/publish/{q}", hb, "POST", {"data": 1})
            assert st in ok + (404,), (name, st)
        # acme's stream position, replayed by globex: refused for acme's channel...
        st = srv.request("GET", "/sse?ch=tenant.acme.orders.1",
                         headers={**hb, "Last-Event-ID": acme_id})[0]
        assert st == 403, st
        # ... and harmless for its own
        b_sse = srv.sse("ch=tenant.globex.orders.1&last_event_id=" + urllib.parse.quote(acme_id) +
                        "&token=" + bob)

        # anonymous: public only, and told to authenticate for the rest
        anon = sectest.WS(srv.host, srv.port, "/ws")
        anon.send({"op": "sub", "ch": "public.news"})
        assert ws_answer(anon) == "subscribed"
        anon.send({"op": "sub", "ch": "tenant.acme.orders.1", "since": 0})
        assert ws_answer(anon) == "unauthorized"
        assert status_of(srv, "/sse?ch=tenant.acme.orders.1", {}) == 401

        # live traffic on both tenants
        for i in range(5, 25):
            srv.json("POST", "/publish/tenant.acme.orders.1", {"data": {"i": i}}, headers=bearer(tom))
            srv.json("POST", "/publish/tenant.globex.orders.1", {"data": {"g": i}}, headers=hb)
        srv.json("POST", "/publish/tenant.globex.orders.1", {"data": "end"}, headers=hb)
        got_a = a_ws.recv_until(lambda m: m.get("type") == "event" and m["data"] == {"i": 24})
        seqs = srvtest.events_of(got_a, "tenant.acme.orders.1")
        assert seqs == list(range(1, 26)), seqs
        got_b = b_ws.recv_until(lambda m: m.get("type") == "event" and m["data"] == "end")
        chans = {m.get("ch") for m in got_b if m.get("type") in ("event", "snapshot", "gap")}
        assert chans == {"tenant.globex.orders.1"}, chans
        sse_b = []
        while True:
            e = sse_event(b_sse)
            sse_b.append(e)
            if e["data"] == "end":
                break
        assert {e["ch"] for e in sse_b} == {"tenant.globex.orders.1"}, sse_b[:3]
        cross = [m for m in got_b + sse_b if str(m.get("ch", "")).startswith("tenant.acme")]
        assert cross == [], cross

        m = srv.metrics()
        assert m.get('rtchaos_sec_authz_denials_total{action="subscribe",reason="no_rule"}', 0) >= 10, m
        assert m.get('rtchaos_sec_tenant_connections{tenant="acme"}') >= 1
        assert m.get('rtchaos_sec_tenant_connections{tenant="globex"}') >= 1
        for c in (a_ws, b_ws, anon):
            c.close()
        a_sse.close()
        b_sse.close()
    finally:
        assert srv.stop() == 0
    with open(audit) as f:
        lines = [json.loads(l) for l in f]
    assert not any("eyJ" in json.dumps(l) for l in lines)
    assert any(l["action"] == "subscribe" and l["outcome"] == "allow" and l.get("sub") == "alice"
               and l.get("detail") == "sensitive" for l in lines), "sensitive subscription not audited"
    denied = [l for l in lines if l.get("sub") == "bob" and l["outcome"] == "deny"]
    assert len(denied) >= len(TRICKY), len(denied)
    k.cleanup()
    print("security_tenants: ok")


if __name__ == "__main__":
    main()
