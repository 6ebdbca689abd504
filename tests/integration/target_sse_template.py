#!/usr/bin/python3
"""target_sse_template: the templated `sse` adapter against a real SSE
service it knows nothing about beyond its templates (rtchaos-server, treated
as a stranger: stream at /sse?ch={ch}, Last-Event-ID, the record inside each
event's "data", POST /publish/{ch} with {"data":{payload}}). Two reconnect
storms resume without loss, the service's own control events are not taken
for payloads, and template mistakes are exit 2 with file:line:col."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402
import rtctest  # noqa: E402


def templates_checked():
    d = tempfile.mkdtemp(prefix="rtchaos-tmpl-")
    bad = os.path.join(d, "bad.yaml")
    with open(bad, "w") as f:
        f.write("duration: 5s\n"
                "target:\n"
                "  protocol: sse\n"
                "  sub_path: /events/{topic}\n"
                "  pub_path: /publish/{ch}\n"
                "  pub_body: '{\"data\":{paylod}}'\n"
                "  payload: data..x\n"
                "clients:\n"
                "  - {transport: ws}\n")
    p = subprocess.run([ht.RTCHAOS, "validate", bad], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p
    want = [f"{bad}:4:13: target.sub_path '/events/{{topic}}': expected '{{ch}}' where the channel name goes, like /sub/{{ch}}",
            f"{bad}:6:13: target.pub_body: unknown field '{{paylod}}' (did you mean '{{payload}}'?)",
            f"{bad}:7:12: target.payload 'data..x': expected a dot path of keys like data or push.pub.data",
            f"{bad}:9:17: clients[0]: protocol sse has no ws transport"]
    got = p.stderr.strip().splitlines()
    assert got == want, "\n".join(got)
    nopath = os.path.join(d, "nopath.yaml")
    with open(nopath, "w") as f:
        f.write("duration: 5s\ntarget: {protocol: sse}\nclients:\n  - {transport: sse}\n")
    p = subprocess.run([ht.RTCHAOS, "validate", nopath], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "needs sub_path" in p.stderr and "needs pub_path" in p.stderr, p.stderr
    print("template errors: exit 2 with file:line:col")


def main():
    templates_checked()
    srv = rtctest.start("rtchaos-server", ["--port", "0"], name="sse-template-server")
    host, port = rtctest.addr_of(srv.lines[0])
    try:
        r = ht.run("targets/sse-template.yaml", "--target", f"http://{host}:{port}", "--quiet", timeout=120)
        assert r.rc == 0, r.explain()
        t = r.report["totals"]
        assert r.report["protocol"]["name"] == "sse" and r.report["protocol"]["seq"] == "publisher record"
        assert t["published"] > 100 and t["lost"] == 0 and t["delivered"] == t["expected"], t
        assert t["reconnects"] > 0 and t["resync_ok"] > 0 and t["replayed"] > 0 and t["resync_failed"] == 0, t
        # the server's own "subscribed" events have no "data": control, not errors
        assert t["errors"] == 0, t["errors_by_reason"]
        print("sse template against a real SSE service:", {k: t[k] for k in
              ("published", "delivered", "lost", "reconnects", "resync_ok", "replayed", "errors")})
    finally:
        rc = srv.stop()
    assert rc == 0, rc
    print("ok")


if __name__ == "__main__":
    main()
