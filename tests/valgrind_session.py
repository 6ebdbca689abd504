#!/usr/bin/python3
"""valgrind_session — `make valgrind`: runs rtchaos-server (with auth, policy,
audit log and rate limits on) and rtchaos-proxy (in front of it, with a
toxic) under valgrind for a short scripted session that touches every
feature once, stops both with SIGTERM, and fails unless both exit 0 with no
memory errors and no definitely or indirectly lost bytes.
Usage: valgrind_session.py OUT_DIR   (logs: OUT_DIR/server.log, proxy.log)"""
import json
import os
import re
import signal
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import proxytest  # noqa: E402
import rtctest  # noqa: E402
import sectest  # noqa: E402
import srvtest  # noqa: E402
from sectest import bearer, claims  # noqa: E402

VALGRIND = ["/usr/bin/valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect", "--error-exitcode=99", "--track-origins=no",
            "--num-callers=30"]
POLICY = {"rules": [
    {"channel": "tenant.{tenant}.**", "subscribe": ["@authenticated"], "publish": ["trader"], "sensitive": True},
    {"channel": "public.**", "subscribe": ["@anyone"], "publish": ["trader"]},
], "admin": ["admin"]}


class VgServer(srvtest.Server):
    def __init__(self, log, *args):
        self.proc = rtctest.start("/usr/bin/valgrind", VALGRIND[1:] + [f"--log-file={log}",
                                  os.path.join(rtctest.BIN, "rtchaos-server"), "--port", "0"] + list(args),
                                  timeout=120, name="vg-server")
        self.host, self.port = rtctest.addr_of(self.proc.lines[0])


def summary(log):
    text = open(log).read()
    lost = {k: int(v.replace(",", "")) for k, v in
            re.findall(r"(definitely|indirectly) lost: ([\d,]+) bytes", text)}
    errors = re.findall(r"ERROR SUMMARY: (\d+) errors", text)
    return lost, int(errors[-1]) if errors else -1


def session(out):
    k = sectest.Keys()
    srv_log, proxy_log = os.path.join(out, "server.log"), os.path.join(out, "proxy.log")
    srv = VgServer(srv_log, "--jwt-secret-file", k.secret, "--authz-policy", k.file("p.json", POLICY),
                   "--jwt-revoked", k.file("revoked.txt", ""),
                   "--audit-log", os.path.join(out, "audit.jsonl"), "--rate-msg-per-conn", "50/s:50",
                   "--rate-pub-per-account", "1000/s", "--rate-conn-per-addr", "1000/s",
                   "--storm-new-conns", "1000/s", "--heartbeat-ms", "200")
    proxy = rtctest.start("/usr/bin/valgrind", VALGRIND[1:] + [f"--log-file={proxy_log}",
                          os.path.join(rtctest.BIN, "rtchaos-proxy"), "--api-port", "0", "--seed", "1"],
                          timeout=120, name="vg-proxy")
    api = proxytest.Api(rtctest.addr_of(proxy.lines[0])[1])
    pport = proxytest.make_proxy(api, "vg", srv.port)
    reader = k.token(claims("rita", "acme", ["reader"]))
    trader = k.token(claims("tina", "acme", ["trader"]))
    admin = k.token(claims("root", None, ["admin"]))
    T = 60.0  # everything is slow under valgrind

    # WS and SSE through the proxy, publishes straight to the server
    ws = sectest.WS("127.0.0.1", pport, "/ws", bearer(reader), timeout=T)
    ws.send({"op": "sub", "ch": "tenant.acme.a", "since": 0})
    ws.recv_until(lambda m: m.get("type") == "subscribed", timeout=T)
    sse = srvtest.SSE("127.0.0.1", pport, "ch=tenant.acme.a&token=" + reader, timeout=T)
    api.ok("POST", "/proxies/vg/toxics", {"type": "latency", "attributes": {"latency": 20}}, want=200)
    for i in range(20):
        srv.json("POST", "/publish/tenant.acme.a", {"data": {"i": i}}, headers=bearer(trader), timeout=T)
    srv.json("POST", "/publish/tenant.acme.a", [{"data": 1}, {"data": 2}], headers=bearer(trader), timeout=T)
    ws.recv_until(lambda m: m.get("type") == "event" and m["seq"] == 22, timeout=T)
    while True:
        d = sse.next_data(timeout=T)
        if d and d.get("type") == "event" and d["seq"] == 22:
            break
    st = srv.request("GET", "/poll?ch=tenant.acme.a&since=10&timeout_ms=0", headers=bearer(reader), timeout=T)[0]
    assert st == 200, st
    # refusals, refresh, admin, metrics
    for tok in ("junk", k.token(claims("x", "acme"), key=b"w" * 40), k.token(claims("x", "acme", ttl_s=-5))):
        assert srv.request("GET", "/sse?ch=tenant.acme.a", headers=bearer(tok), timeout=T)[0] == 401
    ws.send({"op": "sub", "ch": "tenant.globex.a"})
    ws.recv_until(lambda m: m.get("type") == "error", timeout=T)
    ws.send({"op": "auth", "token": k.token(claims("rita", "acme", ["reader"], ttl_s=600))})
    ws.recv_until(lambda m: m.get("type") == "authed", timeout=T)
    assert srv.request("POST", "/admin/flags", body={"pattern": "public.*", "enabled": False},
                       headers=bearer(reader), timeout=T)[0] == 403
    st, _, body = srv.request("POST", "/admin/flags", body={"pattern": "public.*", "enabled": False},
                              headers=bearer(admin), timeout=T)
    assert st == 200, (st, body)
    assert "rtchaos_sec_tenant_connections" in srv.request("GET", "/metrics", timeout=T)[2].decode()
    # a flood closed with 4429, an oversized frame with 1009
    flood = sectest.WS(srv.host, srv.port, "/ws", bearer(reader), timeout=T)
    for _ in range(120):
        flood.send({"op": "ping"})
    assert flood.expect_close(timeout=T)[0] == 4429
    big = sectest.WS(srv.host, srv.port, "/ws", bearer(reader), timeout=T)
    big.send('{"op":"ping","x":"' + "y" * 200000 + '"}')
    assert big.expect_close(timeout=T)[0] == 1009
    # reloads: a broken policy is refused (the old one stays), then a revoked
    # token's connection is closed at a SIGHUP reload
    k.file("p.json", "{\"rules\": 7}")
    assert srv.request("POST", "/admin/reload", headers=bearer(admin), timeout=T)[0] == 422
    k.file("p.json", POLICY)
    victim = sectest.WS(srv.host, srv.port, "/ws", bearer(k.token(claims("vic", "acme", ["reader"], jti="v-1"))),
                        timeout=T)
    victim.send({"op": "sub", "ch": "tenant.acme.a"})
    victim.recv_until(lambda m: m.get("type") == "subscribed", timeout=T)
    k.file("revoked.txt", "jti v-1\n")
    srv.proc.p.send_signal(signal.SIGHUP)
    assert victim.expect_close(timeout=T)[0] == 4401
    api.ok("DELETE", "/proxies/vg/toxics/latency_downstream", want=204)
    ws.close()
    sse.close()
    api.ok("DELETE", "/proxies/vg", want=204)
    time.sleep(1)

    rc_srv = srv.proc.stop(signal.SIGTERM, timeout=120)
    rc_proxy = proxy.stop(signal.SIGTERM, timeout=120)
    k.cleanup()
    ok = True
    for name, rc, log in (("rtchaos-server", rc_srv, srv_log), ("rtchaos-proxy", rc_proxy, proxy_log)):
        lost, errors = summary(log)
        print(f"valgrind {name}: exit {rc}, errors {errors}, definitely lost "
              f"{lost.get('definitely', 0)} B, indirectly lost {lost.get('indirectly', 0)} B ({log})")
        ok &= rc == 0 and errors == 0 and not lost.get("definitely") and not lost.get("indirectly")
    return ok


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/valgrind")
    os.makedirs(out, exist_ok=True)
    ok = session(out)
    print("valgrind: " + ("no leaks, no errors" if ok else "FAILED (see the logs)"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
