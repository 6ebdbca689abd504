#!/usr/bin/python3
"""target_templates: the templated adapters against a real service they
know nothing about beyond their templates (rtchaos-server, treated as a
stranger). `sse`: stream at /sse?ch={ch}, Last-Event-ID, the record inside
each event's "data". `ws-json`: one WebSocket at /ws, a subscribe message
per channel, a resume message with the server's offset ("seq") read from
each message. Both publish by POST /publish/{ch} with {"data":{payload}}.
The sse template also carries two channels on one stream (ch_join '&ch=':
/sse?ch=a&ch=b, Mercure-style). Two reconnect storms each resume without loss, the service's own control
messages (subscribed) are not taken for payloads, and template mistakes are
exit 2 with file:line:col."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402
import rtctest  # noqa: E402
import sidebyside  # noqa: E402


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
    wsj = os.path.join(d, "wsj.yaml")
    with open(wsj, "w") as f:
        f.write("duration: 5s\n"
                "target:\n"
                "  protocol: ws-json\n"
                "  sub_path: /ws/{ch}\n"
                "  pub_path: /publish/{ch}\n"
                "  resume_message: '{\"op\":\"sub\",\"ch\":\"{ch}\"}'\n"
                "  resume_header: Last-Event-ID\n"
                "clients:\n"
                "  - {transport: sse}\n")
    p = subprocess.run([ht.RTCHAOS, "validate", wsj], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p
    got = p.stderr.strip().splitlines()
    want = [f"{wsj}:3:13: target: protocol ws-json needs sub_message (the text that subscribes {{ch}}, e.g. "
            "'{\"op\":\"sub\",\"ch\":\"{ch}\"}')",
            f"{wsj}:4:13: target.sub_path '/ws/{{ch}}': one location for every channel: no fields, spaces or control characters",
            f"{wsj}:6:19: target.resume_message: expected '{{offset}}' where it goes",
            f"{wsj}:6:19: target.resume_message needs offset (where the server's offset sits in each message, e.g. seq)",
            f"{wsj}:7:18: target.resume_header: only for the templated protocol sse, not ws-json",
            f"{wsj}:9:17: clients[0]: protocol ws-json has no sse transport"]
    assert got == want, "\n".join(got)
    # without a joiner one stream names one channel; a joiner with a space is refused
    p = subprocess.run([ht.RTCHAOS, "validate", os.path.join(ht.SCEN, "targets", "sse-template.yaml"),
                        "--set", "clients.0.channels_per_client=2"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "protocol sse subscribes 1 channel per connection, not 2" in p.stderr, p.stderr
    p = subprocess.run([ht.RTCHAOS, "validate", os.path.join(ht.SCEN, "targets", "sse-template.yaml"),
                        "--set", "target.ch_join=a b"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "target.ch_join 'a b': expected 1 to 31 bytes" in p.stderr, p.stderr
    nopath = os.path.join(d, "nopath.yaml")
    with open(nopath, "w") as f:
        f.write("duration: 5s\ntarget: {protocol: sse}\nclients:\n  - {transport: sse}\n")
    p = subprocess.run([ht.RTCHAOS, "validate", nopath], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "needs sub_path" in p.stderr and "needs pub_path" in p.stderr, p.stderr
    print("template errors: exit 2 with file:line:col")


def against_server(part):
    """part(url) against an rtchaos-server of its own (the parts run side by side); it must exit 0."""
    def run():
        srv = rtctest.start("rtchaos-server", ["--port", "0"], name="templates-server")
        host, port = rtctest.addr_of(srv.lines[0])
        try:
            part(f"http://{host}:{port}")
        finally:
            rc = srv.stop()
        assert rc == 0, rc
    return run


def sse_template(url):
    r = ht.run("targets/sse-template.yaml", "--target", url, "--quiet", timeout=120)
    assert r.rc == 0, r.explain()
    t = r.report["totals"]
    assert r.report["protocol"]["name"] == "sse" and r.report["protocol"]["seq"] == "publisher record"
    assert t["published"] > 100 and t["lost"] == 0 and t["delivered"] == t["expected"], t
    assert t["reconnects"] > 0 and t["resync_ok"] > 0 and t["replayed"] > 0 and t["resync_failed"] == 0, t
    # the server's own "subscribed" events have no "data": control, not errors
    assert t["errors"] == 0, t["errors_by_reason"]
    print("sse template against a real SSE service:", {k: t[k] for k in
          ("published", "delivered", "lost", "reconnects", "resync_ok", "replayed", "errors")})


def sse_two_channels(url):
    # several channels on one stream (Mercure-style ?topic=a&topic=b): {ch}
    # becomes the list joined by ch_join; the server's Last-Event-ID
    # resumes every channel of the stream
    r = ht.run("targets/sse-template.yaml", "--target", url, "--quiet",
               "--set", "target.ch_join='&ch='", "--set", "clients.0.channels_per_client=2", timeout=120)
    assert r.rc == 0, r.explain()
    t = r.report["totals"]
    assert t["published"] > 100 and t["lost"] == 0 and t["delivered"] == t["expected"], t
    # 24 clients × 2 channels: twice the single-channel run's deliveries
    assert t["delivered"] > 2 * 24 * 0.8 * t["published"] / 3, t
    assert t["reconnects"] > 0 and t["resync_ok"] > t["reconnects"] and t["resync_failed"] == 0, t
    assert t["errors"] == 0, t["errors_by_reason"]
    print("sse template, 2 channels per stream (ch_join '&ch='):", {k: t[k] for k in
          ("published", "delivered", "lost", "reconnects", "resync_ok", "replayed", "errors")})


def ws_json(url):
    r = ht.run("targets/ws-json.yaml", "--target", url, "--quiet", timeout=120)
    assert r.rc == 0, r.explain()
    t = r.report["totals"]
    assert r.report["protocol"]["name"] == "ws-json" and r.report["protocol"]["resume"] == "offset"
    assert t["published"] > 100 and t["lost"] == 0 and t["delivered"] == t["expected"], t
    # every resumed channel came back by its offset: replayed, judged resync_ok
    assert t["reconnects"] > 0 and t["resync_ok"] >= t["reconnects"] and t["replayed"] > 0, t
    assert t["resync_failed"] == 0 and t["errors"] == 0, (t, t["errors_by_reason"])
    assert t["missed_by_design"] == 0, t  # it promises resume: nothing is missed by design
    print("ws-json template against a real JSON WebSocket service:", {k: t[k] for k in
          ("published", "delivered", "lost", "reconnects", "resync_ok", "replayed", "errors")})


def ws_json_no_resume(url):
    # the same without a resume message: the promise is "none", and what a
    # reconnecting client missed is missed_by_design, never lost
    src = os.path.join(ht.SCEN, "targets", "ws-json.yaml")
    nores = os.path.join(tempfile.mkdtemp(prefix="rtchaos-wsj-"), "ws-json-noresume.yaml")
    with open(src) as f, open(nores, "w") as g:
        g.writelines(line for line in f if "resume_message" not in line and "offset: seq" not in line)
    r = ht.run(nores, "--target", url, "--quiet", timeout=120)
    assert r.rc == 0, r.explain()
    t = r.report["totals"]
    assert r.report["protocol"]["resume"] == "none", r.report["protocol"]
    assert t["reconnects"] > 0 and t["missed_by_design"] > 0, t
    assert t["lost"] == 0 and t["resync_ok"] == 0 and t["replayed"] == 0, t
    assert r.report["groups"]["ws"]["missed_by_design"] == t["missed_by_design"], r.report["groups"]["ws"]
    print("ws-json without resume: missed_by_design", t["missed_by_design"], "over", t["reconnects"],
          "reconnects, lost", t["lost"])


def main():
    templates_checked()
    sidebyside.run(*[against_server(p) for p in (sse_template, sse_two_channels, ws_json, ws_json_no_resume)])
    print("ok")


if __name__ == "__main__":
    main()
