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
usage error (exit 2)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402
import nchantest  # noqa: E402

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
    print("usage errors: ok")


def main():
    why = nchantest.available()
    assert why is None, why
    d = ht.tmpdir()
    ca, cert, key = make_certs(d)
    usage_errors(ca)
    n = nchantest.Nchan(buffer=1000, tls=(cert, key))
    try:
        port = n.port
        by_name = f"https://localhost:{port}"
        r = ht.run("targets/nchan-smoke.yaml", "--target", by_name, "--ca", ca, *SHORT, timeout=90)
        delivered_all(r, "https with --ca")
        assert r.report["target"] == by_name, r.report["target"]
        r = ht.run("targets/nchan-smoke.yaml", "--target", by_name, *SHORT, timeout=60)
        refused(r, "no --ca", "certificate")
        r = ht.run("targets/nchan-smoke.yaml", "--target", f"wss://127.0.0.1:{port}", "--ca", ca, *SHORT,
                   timeout=60)
        refused(r, "a name the certificate does not hold", "mismatch")
        r = ht.run("targets/nchan-smoke.yaml", "--target", by_name, "--set", "target.insecure=true", *SHORT,
                   timeout=90)
        delivered_all(r, "insecure: true")
    finally:
        n.stop()
    print("ok")


if __name__ == "__main__":
    main()
