#!/usr/bin/python3
"""target_nchan: `rtchaos run --target URL` against a real nchan server
(nginx + Debian's libnginx-mod-nchan, started by the test from a generated
config on a loopback port): the smoke run passes over WebSocket
(ws+meta.nchan), SSE and long-poll; reconnect storms resume within nchan's
buffer with nothing lost; a hole made by evicting past a short buffer is
`lost`; the proxy's sse_drop and ws_drop toxics are caught as exactly as many
`lost` in each group as the proxy's event log says each dropped; and a server that
does not speak the protocol (HTML, closes at once) or an unknown protocol
is an error (exit 3 or 2), never a pass."""
import json
import os
import socket
import sys
import threading
import http.server

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harnesstest as ht  # noqa: E402
import nchantest  # noqa: E402
import sidebyside  # noqa: E402

TOTALS = ("published", "delivered", "expected", "lost", "duplicated", "reordered", "resync_ok",
          "resync_failed", "reconnects", "errors", "replayed", "publish_failed")


# the runs that must fail (nothing acknowledged): a short timeline, and a
# short acknowledgement deadline, since the publisher's last events wait
# ack timeout x (retries + 1) for an answer that never comes (21 s by default)
FAIL_FAST = ("--set", "warmup=1s", "--set", "duration=2s", "--set", "drain=1s", "--set", "publishers.timeout=1s")


def totals(r):
    t = r.report["totals"]
    out = {k: t.get(k) for k in TOTALS}
    lat = r.report["latency_us"]
    out["live_p50_us"], out["live_p95_us"] = lat["live"].get("p50"), lat["live"].get("p95")
    out["resync_p95_us"] = lat.get("resync", {}).get("p95")
    return out


def smoke(n):
    # latency is not under test here (ASan, parallel tests on 2 cores): the
    # scenario's p95 budget (budgets[5]) is widened; every other verdict stands
    r = ht.run("targets/nchan-smoke.yaml", "--target", n.url, "--quiet", "--set", "budgets.5=p95_live_ms <= 60000",
               timeout=120)
    assert r.rc == 0, r.explain() + "\n" + json.dumps(r.report and r.report.get("verdicts"))
    p = r.report["protocol"]
    assert p["name"] == "nchan" and p["resume"] == "within_buffer" and p["seq"] == "publisher record", p
    assert r.report["target"] == n.url
    t = r.report["totals"]
    assert t["errors"] == 0, t["errors_by_reason"]
    assert t["lost"] == 0 and t["published"] > 100 and t["delivered"] == t["expected"], totals(r)
    for g in ("ws", "sse", "poll"):
        assert r.report["groups"][g]["delivered"] > 0, (g, r.report["groups"][g])
    html = open(os.path.join(r.dir, "report.html")).read()
    assert "nchan" in html and "within_buffer" in html, "the HTML report does not name the protocol"
    print("smoke: ok", totals(r))


def resume_within_buffer(n):
    r = ht.run("targets/nchan-resume.yaml", "--target", n.url, "--quiet", timeout=120)
    assert r.rc == 0, r.explain() + "\n" + json.dumps(r.report and r.report.get("verdicts"))
    t = r.report["totals"]
    assert t["reconnects"] > 0 and t["resync_ok"] > 0 and t["replayed"] > 0, totals(r)
    assert t["lost"] == 0 and t["resync_failed"] == 0, totals(r)
    for g in ("ws", "sse", "poll"):
        assert r.report["groups"][g]["resync_ok"] > 0, (g, r.report["groups"][g])
    print("resume within the buffer: ok", totals(r))


def evicted(short):
    # away for >= 1 s at 20 events/s per channel, with a 3-message buffer:
    # nchan resumes from its oldest message without a word
    backoff = []
    for i in range(3):
        backoff += ["--set", f"clients.{i}.reconnect.initial=1s", "--set", f"clients.{i}.reconnect.max=1s"]
    r = ht.run("targets/nchan-resume.yaml", "--target", short.url, "--quiet", *backoff, timeout=120)
    assert r.rc == 1, r.explain()
    t = r.report["totals"]
    v = {x["name"]: x for x in r.report["verdicts"]}
    assert not v["lost"]["pass"], v
    assert t["resync_failed"] >= 1 and t["lost"] >= 10 * t["resync_failed"], totals(r)
    assert t["lost"] + t["delivered"] == t["expected"], totals(r)
    assert any(a["kind"] == "lost" for a in r.report["anomalies"]), "no lost example in anomalies"
    print("evicted past the buffer: lost as expected", totals(r))


def dropped(n):
    r = ht.run("targets/nchan-drop.yaml", "--target", n.url, "--quiet", timeout=120)
    assert r.rc == 1, r.explain()
    drops = {"drop-sse": 0, "drop-ws": 0}
    with open(os.path.join(r.dir, "proxy-events.jsonl")) as f:
        for line in f:
            e = json.loads(line)
            if e.get("action") == "drop":
                drops[e["toxic"]] += 1
    t, g = r.report["totals"], r.report["groups"]
    assert drops["drop-sse"] > 0 and drops["drop-ws"] > 0, ("a toxic dropped nothing", drops)
    # each group lost exactly what the proxy says it dropped on its streams
    assert g["sse"]["lost"] == drops["drop-sse"] and g["ws"]["lost"] == drops["drop-ws"], (drops, g["sse"], g["ws"])
    assert t["lost"] == drops["drop-sse"] + drops["drop-ws"], (drops, totals(r))
    assert t["duplicated"] == 0 and t["reordered"] == 0 and t["errors"] == 0, totals(r)
    print(f"sse_drop: {drops['drop-sse']} dropped = {g['sse']['lost']} lost (sse); "
          f"ws_drop: {drops['drop-ws']} dropped = {g['ws']['lost']} lost (ws)")


class Html(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _page(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        b = b"<html><body>It works!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    do_GET = do_POST = _page

    def log_message(self, *a):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients hang up on the page mid-way: expected here


def closing_server():
    """Accepts and closes every connection at once; returns (sock, port)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(512)
    stop = threading.Event()

    def loop():
        s.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = s.accept()
                c.close()
            except OSError:
                continue
    th = threading.Thread(target=loop, daemon=True)
    th.start()
    return s, s.getsockname()[1], stop


def bad_targets():
    srv = QuietServer(("127.0.0.1", 0), Html)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}"
        r = ht.run("targets/nchan-smoke.yaml", "--target", url, "--quiet", *FAIL_FAST, timeout=90)
        assert r.rc == 3, r.explain()
        assert "acknowledged none" in r.stderr + r.stdout and "pub_path" in r.stderr + r.stdout, r.explain()
        t = r.report["totals"]
        assert t["errors_by_reason"].get("sse: Content-Type is not text/event-stream", 0) > 0, t["errors_by_reason"]
        print("HTML server: exit 3:", (r.stderr or r.stdout).strip().splitlines()[-1])
    finally:
        srv.shutdown()
        srv.server_close()
    s, port, stop = closing_server()
    try:
        r = ht.run("targets/nchan-smoke.yaml", "--target", f"http://127.0.0.1:{port}", "--quiet", *FAIL_FAST,
                   timeout=90)
        assert r.rc == 3, r.explain()
        print("server closing at once: exit 3:", (r.stderr or r.stdout).strip().splitlines()[-1])
    finally:
        stop.set()
        s.close()
    r = ht.run("smoke.yaml", "--target", "http://127.0.0.1:9", "--protocol", "nchn", timeout=30)
    assert r.rc == 2 and "unknown protocol" in r.stderr and "nchan" in r.stderr, r.explain()
    print("unknown protocol: exit 2")


def secret_headers():
    """target.headers with ${VAR} from the environment reach the server on
    every subscriber and publisher request, and the secret is written
    nowhere in the run folder."""
    secret = "s3cret-" + os.urandom(6).hex()
    n = nchantest.Nchan(require=("X-RT-Auth", secret))
    try:
        os.environ.pop("RT_NCHAN_SECRET", None)
        r = ht.run("targets/nchan-smoke.yaml", "--target", n.url, "--quiet", *FAIL_FAST, timeout=90)
        assert r.rc == 3, r.explain()  # 403 everywhere: nothing acknowledged
        hdr = "target.headers=[\"X-RT-Auth: ${RT_NCHAN_SECRET}\"]"
        r = ht.run("targets/nchan-smoke.yaml", "--target", n.url, "--quiet", "--set", "duration=3s", "--set", hdr,
                   timeout=90)
        assert r.rc == 2 and "environment variable RT_NCHAN_SECRET is not set" in r.stderr, r.explain()
        os.environ["RT_NCHAN_SECRET"] = secret
        r = ht.run("targets/nchan-smoke.yaml", "--target", n.url, "--quiet", "--set", "duration=3s", "--set", hdr,
                   "--set", "budgets.5=p95_live_ms <= 60000", timeout=90)
        assert r.rc == 0, r.explain()
        t = r.report["totals"]
        assert t["errors"] == 0 and t["lost"] == 0 and t["delivered"] > 0, totals(r)
        for root, _, files in os.walk(r.dir):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    assert secret.encode() not in f.read(), f"the secret is written in {name}"
        print("target.headers from the environment: 403 without, exit 2 unset, pass with; secret in no file")
    finally:
        os.environ.pop("RT_NCHAN_SECRET", None)
        n.stop()


def main():
    why = nchantest.available()
    assert why is None, why  # the project's deps install it: missing is a failure, not a skip
    n = nchantest.Nchan(buffer=1000)
    try:
        short = nchantest.Nchan(buffer=3)
        try:
            # independent parts side by side: each run has channels of its
            # own (smoke.*, resume.*, drop.*) or a server of its own
            sidebyside.run(lambda: smoke(n), lambda: resume_within_buffer(n), lambda: dropped(n),
                           lambda: evicted(short), bad_targets, secret_headers)
        finally:
            short.stop()
    finally:
        n.stop()
    print("ok")


if __name__ == "__main__":
    main()
