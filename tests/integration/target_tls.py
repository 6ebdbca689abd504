#!/usr/bin/python3
"""target_tls: `rtchaos run --target https://…` against a real nchan behind
nginx's TLS (`listen … ssl`), with a CA and a server certificate made by
`openssl` at test time (the name in the certificate: DNS:localhost only).
The fleet's WebSocket, SSE and long-poll subscribers and its publisher all
speak TLS: with `--ca` the smoke run passes with every event delivered
(SNI + name check against https://localhost); without `--ca` the
self-signed chain is refused before any load, exit 3 with the verifier's
reason; the right CA but a name the certificate does not hold
(https://127.0.0.1) is refused the same way; `target.insecure: true` passes
without a CA; --ca with a plain http:// target or a missing CA file is a
usage error (exit 2).

A path prefix in the target: nginx serves rtchaos-server only under /rt/
(anything else is 404), over TLS and on a plain port: the smoke run with
--target https://localhost:P/rt and ws://127.0.0.1:P2/rt/ (every subscriber
and publisher request under /rt) passes, without the prefix nothing is
delivered. The attackers speak TLS too: the message-flood abuse scenario
through nginx's TLS, under the prefix, has every flood closed 4429 by the
server's per-connection limit; a prefix with a query is a usage error."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402
import nchantest  # noqa: E402
import rtctest  # noqa: E402
import sidebyside  # noqa: E402

# nginx terminating TLS in front of rtchaos-server (contract v1): WebSocket
# upgrade headers passed on, SSE and long-poll unbuffered
PROXY_SERVER = """  server {{
    listen 127.0.0.1:{port} ssl;
    listen 127.0.0.1:{plain_port};
    ssl_certificate {cert};
    ssl_certificate_key {key};
    # rtchaos-server only under the prefix /rt/ (stripped on the way in)
    location /rt/ {{
      proxy_pass http://127.0.0.1:{up}/;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $http_connection;
      proxy_set_header Host $host;
      proxy_buffering off;
      proxy_read_timeout 1h;
    }}
    location / {{ return 404; }}
  }}"""


class BehindNginx:
    """rtchaos-server (with args) behind nginx, TLS on .port and plain on .plain_port, under /rt/."""

    def __init__(self, cert, key, args):
        self.srv = rtctest.start("rtchaos-server", ["--port", "0", "--log-level", "warn", *args], name="tls-server")
        _, up = rtctest.addr_of(self.srv.lines[0])
        try:
            self.nginx = nchantest.Nginx(lambda ports: PROXY_SERVER.format(
                port=ports[0], plain_port=ports[1], up=up, cert=cert, key=key), nports=2, what="nginx (TLS proxy)")
        except AssertionError:
            self.srv.stop()
            raise
        self.port, self.plain_port = self.nginx.ports

    def stop(self):
        try:
            self.nginx.stop()
        finally:
            rc = self.srv.stop()
        assert rc == 0, f"rtchaos-server behind nginx exited {rc}"


def behind_tls_smoke(ca, b):
    """Contract v1 (rtchaos-server) through nginx's TLS under the prefix /rt: WS, SSE, poll and the
    publisher all over TLS, every request under /rt (and the same over ws:// under /rt/)."""
    url = f"https://localhost:{b.port}/rt"
    r = ht.run("smoke.yaml", "--target", url, "--ca", ca, *SHORT, timeout=90)
    delivered_all(r, "rtchaos-server behind nginx TLS under /rt (v1)")
    assert r.report["target"] == url, r.report["target"]


def behind_ws_smoke(b):
    # channels of its own: it runs beside behind_tls_smoke on the same server
    r = ht.run("smoke.yaml", "--target", f"ws://127.0.0.1:{b.plain_port}/rt/", *SHORT,
               "--set", "channels.pattern=plain.{i}", timeout=90)
    delivered_all(r, "rtchaos-server behind nginx under /rt/, ws:// (v1)")


def behind_no_prefix(b):
    # without the prefix every request is nginx's 404: nothing arrives, never a pass
    # (nothing reaches the server, so it can share its channels)
    r = ht.run("smoke.yaml", "--target", f"http://127.0.0.1:{b.plain_port}", "--quiet",
               "--set", "warmup=1s", "--set", "duration=2s", "--set", "drain=1s", timeout=90)
    assert r.rc in (1, 3) and r.report and r.report["totals"]["delivered"] == 0, r.explain()
    print("without the prefix: exit", r.rc, "delivered 0")


def flood_over_tls(ca, b):
    # the attackers inside TLS: every flood cut by the server's limit (close 4429, through nginx)
    r = ht.run("abuse/message-flood.yaml", "--target", f"https://localhost:{b.port}/rt", "--ca", ca, "--quiet",
               "--set", "duration=5s", "--set", "drain=3s",
               "--set", "budgets=[attack_attempts >= 10, attack_rejected_ratio >= 1, legit.lost == 0]",
               timeout=90)
    assert r.rc == 0, r.explain()
    at = r.report["attacks"]
    assert at["attempts"] >= 10 and at["rejected"] == at["attempts"] and at["connect_failed"] == 0, at
    assert r.report["groups"]["legit"]["delivered"] > 0, r.report["groups"]["legit"]
    print("flood over TLS under /rt: attempts", at["attempts"], "rejected", at["rejected"])


SHORT = ("--quiet", "--set", "duration=4s", "--set", "drain=4s",
         # latency is not under test here (ASan, parallel tests on 2 cores)
         "--set", "budgets.5=p95_live_ms <= 60000")


def make_certs(d):
    """A CA and a server certificate for DNS:localhost signed by it."""
    def sh(*a):
        subprocess.run(a, check=True, capture_output=True, cwd=d, timeout=60)
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
       "-days", "2", "-subj", "/CN=rtchaos test CA")
    sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
       "-subj", "/CN=localhost")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n")
    sh("openssl", "x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
       "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf")
    return os.path.join(d, "ca.pem"), os.path.join(d, "srv.pem"), os.path.join(d, "srv.key")


def delivered_all(r, what):
    assert r.rc == 0, what + ": " + r.explain()
    t = r.report["totals"]
    assert t["errors"] == 0, (what, t.get("errors_by_reason"))
    assert t["lost"] == 0 and t["published"] > 50 and t["delivered"] == t["expected"], (what, t)
    for g in ("ws", "sse", "poll"):
        assert r.report["groups"][g]["delivered"] > 0, (what, g, r.report["groups"][g])
    print(f"{what}: ok published={t['published']} delivered={t['delivered']} expected={t['expected']}")


def refused(r, what, reason):
    assert r.rc == 3, what + ": expected exit 3\n" + r.explain()
    out = r.stdout + r.stderr
    assert "certificate verify failed" in out and reason in out, what + ": " + r.explain()
    print(f"{what}: refused (exit 3):", [ln for ln in out.splitlines() if "verify failed" in ln][0][:200])


def usage_errors(ca):
    """TLS settings without a TLS target, and a CA file that is not there: exit 2, said why."""
    r = ht.run("targets/nchan-smoke.yaml", "--target", "http://127.0.0.1:9", "--ca", ca, timeout=30)
    assert r.rc == 2 and "only applies to an https:// or wss:// --target" in r.stderr, r.explain()
    r = ht.run("targets/nchan-smoke.yaml", "--target", "https://127.0.0.1:9", "--ca", ca + ".missing", timeout=30)
    assert r.rc == 2 and "No such file" in r.stderr, r.explain()
    r = ht.run("targets/nchan-smoke.yaml", "--target", "https://localhost:9/rt?x=1", "--ca", ca, timeout=30)
    assert r.rc == 2 and "the path prefix may not contain '?'" in r.stderr, r.explain()
    r = ht.run("targets/nchan-smoke.yaml", "--target", "http://localhost:9/a//b", timeout=30)
    assert r.rc == 2 and "empty segment" in r.stderr, r.explain()
    print("usage errors: ok")


def nchan_with_ca(ca, n):
    by_name = f"https://localhost:{n.port}"
    r = ht.run("targets/nchan-smoke.yaml", "--target", by_name, "--ca", ca, *SHORT, timeout=90)
    delivered_all(r, "https with --ca")
    assert r.report["target"] == by_name, r.report["target"]


def nchan_refused_then_insecure(ca, n):
    by_name = f"https://localhost:{n.port}"
    r = ht.run("targets/nchan-smoke.yaml", "--target", by_name, *SHORT, timeout=60)
    refused(r, "no --ca", "certificate")
    r = ht.run("targets/nchan-smoke.yaml", "--target", f"wss://127.0.0.1:{n.port}", "--ca", ca, *SHORT,
               timeout=60)
    refused(r, "a name the certificate does not hold", "mismatch")
    # channels of its own: it runs beside nchan_with_ca on the same server
    r = ht.run("targets/nchan-smoke.yaml", "--target", by_name, "--set", "target.insecure=true", *SHORT,
               "--set", "channels.pattern=insecure.{i}", timeout=90)
    delivered_all(r, "insecure: true")


def nchan_under_prefix(ca, n):
    # an adapter's locations under the prefix too: nchan serving /rt/pub/<ch>, /rt/sub/<ch>
    r = ht.run("targets/nchan-smoke.yaml", "--target", f"https://localhost:{n.port}/rt/", "--ca", ca, *SHORT,
               timeout=90)
    delivered_all(r, "nchan under /rt over https (ws, sse, poll, publish)")


def main():
    why = nchantest.available()
    assert why is None, why
    d = ht.tmpdir()
    ca, cert, key = make_certs(d)
    usage_errors(ca)
    abuse = os.path.join(rtctest.ROOT, "scenarios", "abuse")
    servers = []
    try:
        n = nchantest.Nchan(buffer=1000, tls=(cert, key))
        servers.append(n)
        pn = nchantest.Nchan(buffer=1000, tls=(cert, key), prefix="/rt")
        servers.append(pn)
        b = BehindNginx(cert, key, [])
        servers.append(b)
        # abuse/message-flood.yaml's server.args (a scenario's server block is ignored with --target)
        fb = BehindNginx(cert, key, ["--jwt-secret-file", os.path.join(abuse, "jwt-secret"),
                                     "--authz-policy", os.path.join(abuse, "policy.json"),
                                     "--rate-msg-per-conn", "50/s:50"])
        servers.append(fb)
        # every part side by side: a server of its own, or channels of their own on a shared one
        sidebyside.run(lambda: nchan_with_ca(ca, n), lambda: nchan_refused_then_insecure(ca, n),
                       lambda: behind_tls_smoke(ca, b), lambda: behind_ws_smoke(b), lambda: behind_no_prefix(b),
                       lambda: flood_over_tls(ca, fb), lambda: nchan_under_prefix(ca, pn))
    finally:
        for srv in reversed(servers):
            srv.stop()
    print("ok")


if __name__ == "__main__":
    main()
